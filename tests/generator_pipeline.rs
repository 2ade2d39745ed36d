//! mmscope's own pipeline on generated captures must find exactly the PDUs and transactions
//! the generator wrote (its ground truth).

use mmscope::capture::writer::Format;
use mmscope::generator::{self, Config, Mode};
use mmscope::model::{Outcome, PduRecord};
use mmscope::pipeline::{self, Event, Options};
use std::collections::BTreeMap;

fn check(name: &str, cfg: &Config, format: Format) {
    let dir = std::env::temp_dir().join(format!("mmscope-genpipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut log = Vec::new();
    let truth = generator::generate_file(cfg, &path, format, Some(&mut log)).unwrap();

    let mut pdus: Vec<PduRecord> = Vec::new();
    let result = pipeline::run_file(&path, &Options::default(), &mut |e| {
        if let Event::Pdu(p) = e {
            pdus.push(*p);
        }
    });
    std::fs::remove_file(&path).ok();
    let stats = result.expect("pipeline run");
    assert_eq!(stats.packets, truth.packets);

    // Every PDU, in capture order, in the frame that completes it; no retransmissions here.
    let found: Vec<String> = pdus
        .iter()
        .filter(|p| p.retransmission_of.is_none())
        .map(|p| {
            format!(
                "{}\t{}\t{}\t{}",
                p.mms.message_type.as_deref().unwrap_or("?"),
                p.mms.transaction_id.as_deref().unwrap_or("-"),
                p.mms.message_id.as_deref().unwrap_or("-"),
                p.frame
            )
        })
        .collect();
    let expected: Vec<String> = String::from_utf8(log)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(found.len(), expected.len(), "PDU count");
    assert_eq!(found, expected);
    assert!(pdus.iter().all(|p| p.mms.errors == 0), "PDUs with errors");

    let transactions = mmscope::correlate::correlate(&pdus);
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for t in &transactions {
        let kind = serde_json::to_value(t.kind).unwrap();
        *by_kind
            .entry(kind.as_str().unwrap().to_owned())
            .or_default() += 1;
        assert!(
            !matches!(t.outcome, Outcome::Incomplete | Outcome::Orphan),
            "every generated transaction is complete: {t:?}"
        );
    }
    assert_eq!(by_kind, truth.transactions_by_kind);
}

#[test]
fn pipeline_finds_every_pdu_of_mms_capture() {
    let cfg = Config {
        size: 4 << 20,
        seed: 3,
        ..Config::default()
    };
    check("mms.pcapng", &cfg, Format::Pcapng);
}

#[test]
fn pipeline_finds_every_pdu_of_mixed_capture() {
    let cfg = Config {
        size: 12 << 20,
        seed: 4,
        mode: Mode::Mixed,
        mms_share: 0.1,
        ..Config::default()
    };
    check("mixed.pcap", &cfg, Format::Pcap);
}

#[test]
fn pipeline_finds_every_pdu_of_impaired_capture() {
    let cfg = Config {
        size: 4 << 20,
        seed: 12,
        impair: 0.05,
        ..Config::default()
    };
    check("impaired.pcapng", &cfg, Format::Pcapng);
}
