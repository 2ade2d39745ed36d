//! The live clock of the streaming correlator: `Correlator::advance` lets capture time pass
//! without a PDU, so that a transaction is reported on a quiet link once its linger time is
//! over — not only when the next PDU arrives.

use mmscope::correlate::{Config, Correlator};
use mmscope::model::{Outcome, Timestamp};
use mmscope::pipeline::{Event, Options, run_file};
use std::path::Path;

#[test]
fn advance_reports_a_done_transaction_without_a_further_pdu() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/http_mm1_basic.pcapng");
    let mut pdus = Vec::new();
    run_file(&path, &Options::default(), &mut |e| {
        if let Event::Pdu(p) = e {
            pdus.push(*p)
        }
    })
    .unwrap();
    // m-send-req, m-send-conf of H-SEND-0001
    let (req, conf) = (&pdus[0], &pdus[1]);
    assert_eq!(req.mms.message_type.as_deref(), Some("m-send-req"));
    assert_eq!(conf.mms.message_type.as_deref(), Some("m-send-conf"));
    let mut c = Correlator::with_config(Config {
        linger: 5.0,
        ..Config::default()
    });
    assert!(c.push(req).is_empty());
    assert!(c.push(conf).is_empty());
    let at = |dt: i64| Timestamp {
        secs: conf.time.secs + dt,
        nanos: conf.time.nanos,
    };
    // still lingering (a copy of its PDUs could still come)
    assert!(c.advance(at(4)).is_empty());
    assert_eq!(c.open_transactions(), 1);
    let done = c.advance(at(6));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].transaction_id.as_deref(), Some("H-SEND-0001"));
    assert_eq!(done[0].outcome, Outcome::Ok);
    assert_eq!(c.open_transactions(), 0);
    // the clock never runs backwards
    assert!(c.advance(at(0)).is_empty());
}
