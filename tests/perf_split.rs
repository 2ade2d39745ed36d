//! The threaded pipeline (`pipeline::run_file`'s default on two or more cores; forced here with
//! `Threads::Three`) reports exactly what the single-threaded one
//! does, in the same order: every PDU (as JSON), every note, the same counters.

use mmscope::capture::FileReader;
use mmscope::capture::writer::Format;
use mmscope::generator::{self, Config, Mode};
use mmscope::pipeline::{self, Event, Options};

fn events(
    run: impl FnOnce(&mut dyn FnMut(Event)) -> mmscope::model::Stats,
) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let stats = run(&mut |e| match e {
        Event::Pdu(p) => {
            let layers: Vec<&str> = p
                .dissection
                .layers
                .iter()
                .map(|l| l.name.as_str())
                .collect();
            out.push(format!(
                "{} {layers:?}",
                serde_json::to_string(&*p).unwrap()
            ))
        }
        Event::Note(n) => out.push(format!("note: {n}")),
        Event::Progress { .. } => {}
    });
    (out, format!("{stats:?}"))
}

/// Every event (PDUs as JSON with the layers of their dissection, notes) and the counters of
/// `path`, read on one thread and on three.
fn compare(path: &std::path::Path, opts: &Options) -> Vec<String> {
    let (single, single_stats) = events(|sink| {
        let mut r = FileReader::open(path).unwrap();
        pipeline::run_source(&mut r, opts, sink).unwrap()
    });
    let (split, split_stats) =
        events(|sink| pipeline::run_file_with(path, opts, pipeline::Threads::Three, sink).unwrap());
    assert_eq!(single.len(), split.len());
    for (i, (a, b)) in single.iter().zip(&split).enumerate() {
        assert_eq!(a, b, "event {i}");
    }
    assert_eq!(single_stats, split_stats);
    single
}

#[test]
fn three_threads_report_the_same_events_in_the_same_order() {
    let dir = std::env::temp_dir().join(format!("mmscope-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mixed.pcap");
    // Mixed traffic (HTTP browsing, TLS-like flows that get discarded, DNS, RTP, MMS over HTTP
    // (some gzip) and WSP), impaired so that reassembly has holes and retransmissions.
    let cfg = Config {
        size: 12 << 20,
        mode: Mode::Mixed,
        seed: 5,
        mms_share: 0.2,
        impair: 0.02,
        ..Config::default()
    };
    let truth = generator::generate_file(&cfg, &path, Format::Pcap, None).unwrap();

    let all = compare(&path, &Options::default());
    let pdus = all.iter().filter(|l| !l.starts_with("note: ")).count() as u64;
    assert!(
        pdus >= truth.pdus,
        "{pdus} PDUs, generator wrote {}",
        truth.pdus
    );
    // With the dissections the TUI keeps.
    compare(
        &path,
        &Options {
            keep_dissection: true,
        },
    );

    // Cut inside a record: the read error ends both runs at the same packet, with the same
    // note, and what came before stands.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let events = compare(&cut, &Options::default());
    assert!(
        events.iter().any(|e| e.contains("reading stopped there")),
        "no read-error note"
    );
    // A header and nothing else.
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, &bytes[..24]).unwrap();
    let events = compare(&empty, &Options::default());
    assert_eq!(
        events,
        ["note: the capture holds no packets (a valid header, then nothing)"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
