//! The filter language on PDUs and transactions built after captures/MANIFEST.md.

#[path = "correlate_support.rs"]
mod support;

use mmscope::correlate;
use mmscope::filter::Filter;
use support::*;

fn pdu_frames(expr: &str, pdus: &[mmscope::model::PduRecord]) -> Vec<u64> {
    let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    pdus.iter()
        .filter(|p| f.matches_pdu(p))
        .map(|p| p.frame)
        .collect()
}

fn tx_first_frames(expr: &str, pdus: &[mmscope::model::PduRecord]) -> Vec<u64> {
    let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    correlate::correlate(pdus)
        .iter()
        .filter(|t| f.matches_transaction(t, pdus))
        .map(|t| t.frames[0])
        .collect()
}

#[test]
fn pdu_fields() {
    let p = wap_mm1_full(true);
    assert_eq!(pdu_frames("type == m-send-req", &p), [4, 5]);
    assert_eq!(pdu_frames("type == send.conf", &p), [8, 10, 11]);
    assert_eq!(pdu_frames("type ~ notif", &p), [17, 21, 40, 41]);
    assert_eq!(pdu_frames("tid == \"F-SEND-0001\"", &p), [4, 5, 8, 10, 11]);
    assert_eq!(
        pdu_frames("msgid ~ \"mmsc.lab\" and transport == wsp", &p),
        [10, 11, 34]
    );
    assert_eq!(
        pdu_frames("addr ~ \"+1555\" and not type == m-send-req", &p),
        [17, 21, 32, 34]
    );
    assert_eq!(pdu_frames("to == +15551230002", &p), [4, 5, 32, 34]);
    assert_eq!(pdu_frames("subject ~ lab and frame >= 30", &p), [32, 34]);
    assert_eq!(pdu_frames("status == Ok", &p), [8, 10, 11]);
    assert_eq!(pdu_frames("status == retrieved", &p), [40, 41]);
    assert_eq!(
        pdu_frames("transport == pap or transport == push", &p),
        [17, 21]
    );
    assert_eq!(pdu_frames("src == 127.0.0.1:47203", &p), [40]);
    assert_eq!(pdu_frames("port == 2948", &p), [21]);
    assert_eq!(pdu_frames("uri ~ /mms/", &p), [32, 34]);
    assert_eq!(pdu_frames("kind == retrieve", &p), [32, 34]);
    // 2026-01-01T00:00:07.6Z is 7.6 s into the capture.
    assert_eq!(
        pdu_frames("time >= 2026-01-01T00:00:07.6Z and time < 1767225607.7", &p),
        [32, 34]
    );
    // Free text: any id, address, Content-Location or subject.
    assert_eq!(pdu_frames("F-NOTIF", &p), [17, 21, 40, 41]);
    assert_eq!(pdu_frames("\"mms/F-MSG\"", &p), [17, 21]);
    assert_eq!(
        pdu_frames("(type == send-req or type == send-conf) and frame < 9", &p),
        [4, 5, 8]
    );
    assert_eq!(
        pdu_frames("tid != F-SEND-0001 and tid ~ F", &p),
        [17, 21, 40, 41]
    );
    assert_eq!(pdu_frames("", &p).len(), 11);
}

#[test]
fn transaction_fields() {
    let p = http_mm1_basic();
    assert_eq!(tx_first_frames("kind == send", &p), [4]);
    assert_eq!(tx_first_frames("outcome != ok", &p), [16]);
    assert_eq!(
        tx_first_frames("outcome == orphan or kind == retrieve", &p),
        [16, 30]
    );
    // A PDU field matches a transaction when one of its PDUs does...
    assert_eq!(tx_first_frames("type == m-acknowledge-ind", &p), [30]);
    assert_eq!(tx_first_frames("msgid ~ H-MSG", &p), [4, 30]);
    // ...and != means that none does.
    assert_eq!(tx_first_frames("type != m-send-conf", &p), [16, 30]);
    assert_eq!(tx_first_frames("status == Deferred", &p), [16]);
    assert_eq!(tx_first_frames("story == 0", &p), [4, 30]);
    assert_eq!(tx_first_frames("duration > 0.1", &p), [30]);
    let w = wap_mm1_full(false);
    // The retrieval's Content-Location comes from the notification it fetched.
    assert_eq!(
        tx_first_frames("location == \"http://127.0.0.1/mms/F-MSG-0001\"", &w),
        [17, 32]
    );
}
