//! The threaded pipeline (`pipeline::run_file`'s default on two or more cores; forced here with
//! `MMSCOPE_THREADS=3`) reports exactly what the single-threaded one
//! does, in the same order: every PDU (as JSON), every note, the same counters.

use mmscope::capture::FileReader;
use mmscope::capture::writer::{AnyWriter, DEFAULT_SNAPLEN, Format, linktype};
use mmscope::generator::{self, Config, Mode};
use mmscope::pipeline::{self, Event, Options};
use std::fs::File;

fn events(
    run: impl FnOnce(&mut dyn FnMut(Event)) -> mmscope::model::Stats,
) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let stats = run(&mut |e| match e {
        Event::Pdu(p) => out.push(serde_json::to_string(&*p).unwrap()),
        Event::Note(n) => out.push(format!("note: {n}")),
        Event::Progress { .. } => {}
    });
    (out, format!("{stats:?}"))
}

#[test]
fn two_threads_report_the_same_events_in_the_same_order() {
    let dir = std::env::temp_dir().join(format!("mmscope-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mixed.pcap");
    // Mixed traffic (HTTP browsing, TLS-like flows that get discarded, DNS, RTP, MMS over HTTP
    // and WSP), impaired so that reassembly has holes and retransmissions to deal with.
    let cfg = Config {
        size: 12 << 20,
        mode: Mode::Mixed,
        seed: 5,
        mms_share: 0.2,
        impair: 0.02,
        ..Config::default()
    };
    let mut w = AnyWriter::new(
        File::create(&path).unwrap(),
        Format::Pcap,
        linktype::ETHERNET,
        DEFAULT_SNAPLEN,
    )
    .unwrap();
    let truth = generator::generate(&cfg, &mut w, None).unwrap();
    drop(w);

    let opts = Options::default();
    let (single, single_stats) = events(|sink| {
        let mut r = FileReader::open(&path).unwrap();
        pipeline::run_source(&mut r, &opts, sink).unwrap()
    });
    // SAFETY: this test binary has this one test, so no other thread reads the environment.
    unsafe { std::env::set_var("MMSCOPE_THREADS", "3") };
    let (split, split_stats) = events(|sink| pipeline::run_file(&path, &opts, sink).unwrap());
    std::fs::remove_dir_all(&dir).ok();

    let pdus = single.iter().filter(|l| !l.starts_with("note: ")).count() as u64;
    assert!(
        pdus >= truth.pdus,
        "{pdus} PDUs, generator wrote {}",
        truth.pdus
    );
    assert_eq!(single.len(), split.len());
    for (i, (a, b)) in single.iter().zip(&split).enumerate() {
        assert_eq!(a, b, "event {i}");
    }
    assert_eq!(single_stats, split_stats);
}
