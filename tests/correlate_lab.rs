//! Correlation of PduRecords built in code after the ground truth of captures/MANIFEST.md.

#[path = "correlate_support.rs"]
mod support;

use mmscope::correlate::{self, Config, Correlator, PduRole, pdu_roles};
use mmscope::model::{Outcome, Transaction, TransactionKind, Transport};
use support::*;

fn types(tx: &Transaction) -> Vec<&str> {
    tx.message_types.iter().map(|t| t.as_str()).collect()
}

#[test]
fn wap_mm1_full_has_three_transactions_in_one_story() {
    for flagged in [true, false] {
        let pdus = wap_mm1_full(flagged);
        let txs = correlate::correlate(&pdus);
        assert_eq!(txs.len(), 3, "flagged={flagged}: {txs:#?}");
        let (s, n, r) = (&txs[0], &txs[1], &txs[2]);

        assert_eq!(s.kind, TransactionKind::Send);
        assert_eq!(s.transaction_id.as_deref(), Some("F-SEND-0001"));
        assert_eq!(s.message_id.as_deref(), Some("F-MSG-0001@mmsc.lab"));
        assert_eq!(s.frames, vec![4, 5, 8, 10, 11]);
        assert_eq!(
            types(s),
            [
                "m-send-req",
                "m-send-req",
                "m-send-conf",
                "m-send-conf",
                "m-send-conf"
            ]
        );
        assert_eq!(s.outcome, Outcome::Ok);
        assert_eq!(s.status, "Ok");
        assert_eq!(
            pdu_roles(s, &pdus),
            vec![
                PduRole::First,
                PduRole::Leg { of: 0 },
                PduRole::First,
                PduRole::Leg { of: 2 },
                PduRole::Retransmission { of: 3 },
            ]
        );

        assert_eq!(n.kind, TransactionKind::Notification);
        assert_eq!(n.transaction_id.as_deref(), Some("F-NOTIF-0001"));
        assert_eq!(n.content_location.as_deref(), Some(F_CL));
        assert_eq!(n.frames, vec![17, 21, 40, 41]);
        assert_eq!(n.outcome, Outcome::Ok);
        assert_eq!(n.status, "Retrieved");
        assert_eq!(
            pdu_roles(n, &pdus),
            vec![
                PduRole::First,
                PduRole::Leg { of: 5 },
                PduRole::First,
                PduRole::Leg { of: 9 }
            ]
        );

        assert_eq!(r.kind, TransactionKind::Retrieve);
        assert_eq!(r.transaction_id, None);
        assert_eq!(r.message_id.as_deref(), Some("F-MSG-0001@mmsc.lab"));
        // The HTTP leg GETs the path only; the notification's full URI is kept.
        assert_eq!(r.content_location.as_deref(), Some(F_CL));
        assert_eq!(r.frames, vec![32, 34]);
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "no acknowledgement is due without a Transaction-Id"
        );

        assert_eq!(s.story, Some(0));
        assert_eq!(n.story, Some(0));
        assert_eq!(r.story, Some(0));
        assert_eq!(
            txs.iter().map(|t| t.index).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert!((s.duration - 7.047991833).abs() < 1e-6, "{}", s.duration);
        assert_eq!(s.endpoints[0], "127.0.0.1:54886");
        assert_eq!(s.endpoints.len(), 4);
    }
}

#[test]
fn http_mm1_basic_has_an_orphan_notifyresp() {
    let pdus = http_mm1_basic();
    let txs = correlate::correlate(&pdus);
    assert_eq!(txs.len(), 3, "{txs:#?}");
    let (s, n, r) = (&txs[0], &txs[1], &txs[2]);
    assert_eq!(s.kind, TransactionKind::Send);
    assert_eq!(s.frames, vec![4, 8]);
    assert_eq!(s.outcome, Outcome::Ok);

    assert_eq!(n.kind, TransactionKind::Notification);
    assert_eq!(n.frames, vec![16]);
    assert_eq!(n.outcome, Outcome::Orphan);
    assert_eq!(n.status, "orphan");
    assert_eq!(
        correlate::explain(n),
        "m-notifyresp-ind without its m-notification-ind in the capture"
    );
    assert_eq!(n.story, None, "nothing links it to a message");

    assert_eq!(r.kind, TransactionKind::Retrieve);
    assert_eq!(r.transaction_id.as_deref(), Some("H-RETR-0001"));
    assert_eq!(r.frames, vec![30, 38]);
    assert_eq!(types(r), ["m-retrieve-conf", "m-acknowledge-ind"]);
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(r.content_location.as_deref(), Some("/mms/H-MSG-0001"));
    assert_eq!(s.story, r.story, "the retrieved message is the one sent");
    assert!(s.story.is_some());
}

#[test]
fn orphans_and_incomplete_transactions_say_so() {
    use Transport::Http;
    let mmsc = "10.0.0.9:80";
    let pdus = indexed(vec![
        // A confirmation without its request.
        pdu(1, 0.0, mmsc, "10.0.0.1:1000", Http, "m-send-conf")
            .tid("X-1")
            .msgid("X-MSG@mmsc")
            .response_status("Ok"),
        // A notification never answered.
        pdu(
            2,
            1.0,
            "10.0.0.5:9200",
            "10.0.0.1:2948",
            Transport::WspPush,
            "m-notification-ind",
        )
        .tid("X-NOTIF")
        .cl("http://mmsc/X-MSG-2"),
        // An acknowledgement without its m-retrieve-conf.
        pdu(3, 2.0, "10.0.0.1:1001", mmsc, Http, "m-acknowledge-ind").tid("X-RETR-9"),
        // A retrieval with a Transaction-Id whose acknowledgement is missing.
        pdu(4, 3.0, mmsc, "10.0.0.1:1002", Http, "m-retrieve-conf")
            .tid("X-RETR-1")
            .msgid("X-MSG-2@mmsc")
            .response(200, Some("/X-MSG-2"), Some((7, 0))),
        // A send that failed.
        pdu(5, 4.0, "10.0.0.1:1003", mmsc, Http, "m-send-req").tid("X-2"),
        pdu(6, 4.1, mmsc, "10.0.0.1:1003", Http, "m-send-conf")
            .tid("X-2")
            .response_status("Error-service-denied"),
        // A send never confirmed.
        pdu(7, 5.0, "10.0.0.1:1004", mmsc, Http, "m-send-req").tid("X-3"),
    ]);
    let txs = correlate::correlate(&pdus);
    let got: Vec<(TransactionKind, Outcome, &str, Vec<u64>)> = txs
        .iter()
        .map(|t| {
            (
                t.kind,
                t.outcome.clone(),
                t.status.as_str(),
                t.frames.clone(),
            )
        })
        .collect();
    use Outcome::*;
    use TransactionKind::*;
    assert_eq!(
        got,
        vec![
            (Send, Orphan, "orphan", vec![1]),
            (Notification, Incomplete, "incomplete", vec![2]),
            (Retrieve, Orphan, "orphan", vec![3]),
            (Retrieve, Incomplete, "incomplete", vec![4]),
            (Send, Failed, "Error-service-denied", vec![5, 6]),
            (Send, Incomplete, "incomplete", vec![7]),
        ]
    );
    assert_eq!(
        correlate::explain(&txs[3]),
        "no m-acknowledge-ind in the capture"
    );
    // The notification and the retrieval of its Content-Location are one story.
    assert_eq!(txs[1].story, txs[3].story);
    assert!(txs[1].story.is_some());
    assert_ne!(txs[0].story, txs[1].story);
}

#[test]
fn transaction_ids_reused_by_two_clients_stay_apart() {
    use Transport::Http;
    let mmsc = "10.0.0.9:80";
    let (a, b) = ("10.0.0.1:1000", "10.0.0.2:2000");
    let pdus = indexed(vec![
        pdu(1, 0.0, a, mmsc, Http, "m-send-req")
            .tid("T-1")
            .subject("from A"),
        pdu(2, 0.5, b, mmsc, Http, "m-send-req")
            .tid("T-1")
            .subject("from B"),
        // Confirmations without carrier pairing: endpoints decide, B's first.
        pdu(3, 1.0, mmsc, b, Http, "m-send-conf")
            .tid("T-1")
            .msgid("M-B")
            .response_status("Ok"),
        pdu(4, 2.0, mmsc, a, Http, "m-send-conf")
            .tid("T-1")
            .msgid("M-A")
            .response_status("Ok"),
        // Client A reuses the same Transaction-Id an hour later, same content.
        pdu(5, 3600.0, a, mmsc, Http, "m-send-req")
            .tid("T-1")
            .subject("from A"),
        pdu(6, 3600.2, mmsc, a, Http, "m-send-conf")
            .tid("T-1")
            .msgid("M-A2")
            .response_status("Ok"),
    ]);
    let txs = correlate::correlate(&pdus);
    assert_eq!(txs.len(), 3, "{txs:#?}");
    assert_eq!(txs[0].frames, vec![1, 4]);
    assert_eq!(txs[0].message_id.as_deref(), Some("M-A"));
    assert_eq!(txs[1].frames, vec![2, 3]);
    assert_eq!(txs[1].message_id.as_deref(), Some("M-B"));
    assert_eq!(txs[2].frames, vec![5, 6]);
    assert_eq!(txs[2].message_id.as_deref(), Some("M-A2"));
    assert!(txs.iter().all(|t| t.outcome == Outcome::Ok));
}

#[test]
fn a_message_story_spans_send_notify_fetch_ack_and_reports() {
    use Transport::*;
    let mmsc = "10.0.0.9:80";
    let (a, b) = ("10.0.0.1", "10.0.0.2");
    let cl = "http://mmsc.lab/m/42";
    let pdus = indexed(vec![
        pdu(1, 0.0, &format!("{a}:1000"), mmsc, Http, "m-send-req").tid("S-42"),
        pdu(2, 0.1, mmsc, &format!("{a}:1000"), Http, "m-send-conf")
            .tid("S-42")
            .msgid("M-42@mmsc.lab")
            .response_status("Ok"),
        pdu(
            3,
            1.0,
            "10.0.0.8:9200",
            &format!("{b}:2948"),
            WspPush,
            "m-notification-ind",
        )
        .tid("N-42")
        .cl(cl),
        pdu(4, 1.5, &format!("{b}:3000"), mmsc, Http, "m-notifyresp-ind")
            .tid("N-42")
            .status("Deferred"),
        // Deferred retrieval, well after the notification is done.
        pdu(
            5,
            120.0,
            mmsc,
            &format!("{b}:3001"),
            Http,
            "m-retrieve-conf",
        )
        .tid("R-42")
        .msgid("M-42@mmsc.lab")
        .response(200, Some("/m/42"), Some((9, 0))),
        pdu(
            6,
            120.2,
            &format!("{b}:3002"),
            mmsc,
            Http,
            "m-acknowledge-ind",
        )
        .tid("R-42"),
        // Delivery report to A (PAP submission and WSP push of the same PDU).
        pdu(
            7,
            121.0,
            "10.0.0.7:5000",
            "10.0.0.8:8080",
            Pap,
            "m-delivery-ind",
        )
        .msgid("M-42@mmsc.lab")
        .status("Retrieved"),
        pdu(
            8,
            121.1,
            "10.0.0.8:9200",
            &format!("{a}:2948"),
            WspPush,
            "m-delivery-ind",
        )
        .msgid("M-42@mmsc.lab")
        .status("Retrieved"),
        // Read report: B to the MMSC, then the MMSC to A.
        pdu(9, 200.0, &format!("{b}:3003"), mmsc, Http, "m-read-rec-ind")
            .msgid("M-42@mmsc.lab")
            .read_status("Read"),
        pdu(
            10,
            200.5,
            "10.0.0.8:9200",
            &format!("{a}:2948"),
            WspPush,
            "m-read-orig-ind",
        )
        .msgid("M-42@mmsc.lab")
        .read_status("Read"),
        // An unrelated send.
        pdu(11, 300.0, &format!("{a}:1001"), mmsc, Http, "m-send-req").tid("S-43"),
        pdu(12, 300.1, mmsc, &format!("{a}:1001"), Http, "m-send-conf")
            .tid("S-43")
            .msgid("M-43@mmsc.lab")
            .response_status("Ok"),
    ]);
    let txs = correlate::correlate(&pdus);
    let kinds: Vec<_> = txs
        .iter()
        .map(|t| (t.kind, t.frames.clone(), t.story))
        .collect();
    use TransactionKind::*;
    assert_eq!(
        kinds,
        vec![
            (Send, vec![1, 2], Some(0)),
            (Notification, vec![3, 4], Some(0)),
            (Retrieve, vec![5, 6], Some(0)),
            (DeliveryReport, vec![7, 8], Some(0)),
            (ReadReport, vec![9, 10], Some(0)),
            (Send, vec![11, 12], Some(1)),
        ]
    );
    assert_eq!(txs[3].status, "Retrieved");
    assert_eq!(txs[4].status, "Read");
    assert_eq!(txs[2].content_location.as_deref(), Some(cl));
}

#[test]
fn the_streaming_correlator_holds_only_open_transactions() {
    use Transport::Http;
    let mmsc = "10.0.0.9:80";
    let mut v = Vec::new();
    for k in 0..50u64 {
        let t = k as f64 * 100.0;
        let client = format!("10.0.0.1:{}", 1000 + k);
        let tid = format!("T-{k}");
        v.push(pdu(2 * k + 1, t, &client, mmsc, Http, "m-send-req").tid(&tid));
        if k % 7 != 3 {
            v.push(
                pdu(2 * k + 2, t + 0.2, mmsc, &client, Http, "m-send-conf")
                    .tid(&tid)
                    .msgid(&format!("M-{k}"))
                    .response_status("Ok"),
            );
        }
    }
    let pdus = indexed(v);
    let mut c = Correlator::with_config(Config {
        linger: 5.0,
        idle_timeout: 150.0,
        leg_window: 5.0,
    });
    let mut streamed = Vec::new();
    let mut max_open = 0;
    for p in &pdus {
        streamed.extend(c.push(p));
        max_open = max_open.max(c.open_transactions());
    }
    assert!(max_open <= 3, "open transactions grew to {max_open}");
    assert!(
        streamed.len() >= 45,
        "only {} emitted before the end",
        streamed.len()
    );
    streamed.extend(c.finish());
    let batch = correlate::correlate_with(
        &pdus,
        Config {
            linger: 5.0,
            idle_timeout: 150.0,
            leg_window: 5.0,
        },
    );
    assert_eq!(streamed.len(), 50);
    for (s, b) in streamed.iter().zip(&batch) {
        assert_eq!(
            (s.index, &s.frames, &s.outcome),
            (b.index, &b.frames, &b.outcome)
        );
    }
    let incomplete: Vec<usize> = batch
        .iter()
        .filter(|t| t.outcome == Outcome::Incomplete)
        .map(|t| t.index)
        .collect();
    assert_eq!(incomplete, vec![3, 10, 17, 24, 31, 38, 45]);
}

#[test]
fn an_open_transaction_times_out_as_incomplete() {
    use Transport::Http;
    let pdus = indexed(vec![
        pdu(1, 0.0, "10.0.0.1:1000", "10.0.0.9:80", Http, "m-send-req").tid("T-1"),
        pdu(2, 400.0, "10.0.0.1:1001", "10.0.0.9:80", Http, "m-send-req").tid("T-2"),
        // Too late to belong to T-1's open transaction.
        pdu(
            3,
            401.0,
            "10.0.0.9:80",
            "10.0.0.1:1000",
            Http,
            "m-send-conf",
        )
        .tid("T-1")
        .response_status("Ok"),
    ]);
    let mut c = Correlator::new();
    assert!(c.push(&pdus[0]).is_empty());
    let done = c.push(&pdus[1]);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].frames, vec![1]);
    assert_eq!(done[0].outcome, Outcome::Incomplete);
    assert!(c.push(&pdus[2]).is_empty());
    let rest = c.finish();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1].outcome, Outcome::Orphan);
}

#[test]
fn thousands_of_concurrent_transactions_pair_correctly() {
    use Transport::Http;
    let mmsc = "10.0.0.9:80";
    let n = 5000u64;
    let mut v = Vec::new();
    for k in 0..n {
        let client = format!("10.1.{}.{}:{}", k / 250, k % 250, 1024 + k % 1000);
        // Every client uses the same Transaction-Id: pairing must come from the carrier.
        v.push(
            pdu(
                2 * k + 1,
                k as f64 * 0.01,
                &client,
                mmsc,
                Http,
                "m-send-req",
            )
            .tid("SAME")
            .subject(&format!("s{k}"))
            .request("POST", "/mmsc", Some((k, 0))),
        );
    }
    for k in (0..n).rev() {
        let client = format!("10.1.{}.{}:{}", k / 250, k % 250, 1024 + k % 1000);
        v.push(
            pdu(
                2 * n + (n - k),
                60.0 + (n - k) as f64 * 0.001,
                mmsc,
                &client,
                Http,
                "m-send-conf",
            )
            .tid("SAME")
            .msgid(&format!("M-{k}"))
            .response_status("Ok")
            .response(200, Some("/mmsc"), Some((k, 0))),
        );
    }
    let pdus = indexed(v);
    let start = std::time::Instant::now();
    let txs = correlate::correlate(&pdus);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert_eq!(txs.len(), n as usize);
    for (k, t) in txs.iter().enumerate() {
        assert_eq!(t.message_id.as_deref(), Some(format!("M-{k}").as_str()));
        assert_eq!(t.outcome, Outcome::Ok);
    }
}

#[test]
fn odd_input_never_panics_and_every_pdu_lands_in_one_transaction() {
    use Transport::*;
    let types = [
        "m-send-req",
        "m-send-conf",
        "m-notification-ind",
        "m-notifyresp-ind",
        "m-retrieve-conf",
        "m-acknowledge-ind",
        "m-delivery-ind",
        "m-read-rec-ind",
        "m-read-orig-ind",
        "m-mbox-store-req",
        "m-mbox-view-conf",
        "m-mbox-descr",
        "unknown-0x7f",
        "m-cancel-conf",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut v = Vec::new();
    for k in 0..3000u64 {
        let ty = types[next(types.len() as u64) as usize];
        // Times wander backwards and forwards; ids collide on purpose.
        let t = (k as f64) * 0.5 - next(40) as f64;
        let a = format!("10.0.0.{}:{}", next(4), 1000 + next(3));
        let b = format!("10.0.0.{}:{}", 10 + next(2), 80 + next(2));
        let (src, dst) = if next(2) == 0 { (a, b) } else { (b, a) };
        let tr = [Http, Wsp, WspPush, Pap, File][next(5) as usize];
        let mut p = pdu(k + 1, t, &src, &dst, tr, ty);
        if next(3) > 0 {
            p = p.tid(&format!("T{}", next(20)));
        }
        if next(2) == 0 {
            p = p.msgid(&format!("M{}", next(10)));
        }
        if next(4) == 0 {
            p = p.response(
                200,
                Some(&format!("/m/M{}", next(10))),
                Some((next(5), next(5))),
            );
        }
        if next(5) == 0 {
            p = p.cl(&format!("http://h/m/M{}", next(10)));
        }
        if next(10) == 0 {
            p = p.retransmission_of(next(4000) as usize);
        }
        v.push(p);
    }
    let pdus = indexed(v);
    let txs = correlate::correlate_with(
        &pdus,
        Config {
            linger: 3.0,
            idle_timeout: 20.0,
            leg_window: 5.0,
        },
    );
    let mut seen = vec![0u32; pdus.len()];
    for t in &txs {
        for &i in &t.pdus {
            seen[i] += 1;
        }
        assert_eq!(t.frames.len(), t.pdus.len());
        assert!(t.duration >= 0.0);
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "every PDU in exactly one transaction"
    );
    assert!(
        txs.windows(2).all(|w| w[0].pdus[0] < w[1].pdus[0]),
        "start order"
    );
    assert!(txs.iter().enumerate().all(|(i, t)| t.index == i));
}

/// A cancel and an MMBox store confirmed with an error in their own status header (not
/// Response-Status): the transaction failed, with that status. Summaries from real PDU bytes
/// built per OMA-MMS-ENC 1.3 (tables 24/25), carried over HTTP request/response pairs.
#[test]
fn cancel_and_store_confirmations_decide_by_their_own_status() {
    use Transport::Http;
    let text = |s: &str| [s.as_bytes(), &[0]].concat();
    let bytes = |ty: u8, tid: &str, rest: &[u8]| {
        [&[0x8C, ty, 0x98][..], &text(tid), &[0x8D, 0x93], rest].concat()
    };
    let summary = |b: &[u8]| mmscope::mms::summarize(b);
    let cases = [
        // m-cancel-req (Cancel-ID) → m-cancel-conf, Cancel-Status: corrupted / received
        (
            bytes(0x96, "can-1", &[&[0xBE][..], &text("msg-77@mmsc")].concat()),
            bytes(0x97, "can-1", &[0xBF, 0x81]),
            Outcome::Failed,
            "Cancel Request corrupted",
        ),
        (
            bytes(0x96, "can-2", &[&[0xBE][..], &text("msg-78@mmsc")].concat()),
            bytes(0x97, "can-2", &[0xBF, 0x80]),
            Outcome::Ok,
            "Cancel Request Successfully received",
        ),
        // m-mbox-store-req (Content-Location) → m-mbox-store-conf, Store-Status
        (
            bytes(
                0x8B,
                "st-1",
                &[&[0x83][..], &text("http://mmsc/m/1")].concat(),
            ),
            bytes(0x8C, "st-1", &[0xA5, 0xE4]),
            Outcome::Failed,
            "Error-permanent-mmbox-full",
        ),
        (
            bytes(
                0x8B,
                "st-2",
                &[&[0x83][..], &text("http://mmsc/m/2")].concat(),
            ),
            bytes(0x8C, "st-2", &[0xA5, 0x80]),
            Outcome::Ok,
            "Success",
        ),
    ];
    let mut v = Vec::new();
    for (k, (req, conf, _, _)) in cases.iter().enumerate() {
        let k = k as u64;
        let port = format!("10.0.0.1:{}", 40000 + k);
        let mut a = pdu(10 * k + 1, k as f64, &port, "10.0.0.9:80", Http, "x").request(
            "POST",
            "/mmsc",
            Some((k + 1, 0)),
        );
        a.mms = summary(req);
        let mut b = pdu(10 * k + 2, k as f64 + 0.1, "10.0.0.9:80", &port, Http, "x").response(
            200,
            None,
            Some((k + 1, 0)),
        );
        b.mms = summary(conf);
        v.push(a);
        v.push(b);
    }
    let txs = correlate::correlate(&indexed(v));
    assert_eq!(txs.len(), cases.len());
    for (t, (_, _, outcome, status)) in txs.iter().zip(&cases) {
        assert_eq!((&t.outcome, t.status.as_str()), (outcome, *status), "{t:?}");
    }
}
