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

#[test]
fn command_line_shortcuts_combine_with_and() {
    use mmscope::cli::transactions::FilterArgs;
    let p = wap_mm1_full(false);
    let txs = correlate::correlate(&p);
    let pick = |a: FilterArgs| -> Vec<u64> {
        let f = a.build().unwrap();
        txs.iter()
            .filter(|t| f.matches_transaction(t, &p))
            .map(|t| t.frames[0])
            .collect()
    };
    let a = FilterArgs {
        msg_type: Some("m-retrieve-conf".into()),
        ..Default::default()
    };
    assert_eq!(pick(a), [32]);
    let a = FilterArgs {
        since: Some("2026-01-01T00:00:07Z".into()),
        until: Some("2026-01-01T00:00:07.6Z".into()),
        ..Default::default()
    };
    // The send's WTP retransmission (7.05 s) falls in the window too.
    assert_eq!(pick(a), [4, 17]);
    let a = FilterArgs {
        msgid: Some("F-MSG-0001@mmsc.lab".into()),
        filter: Some("kind == send".into()),
        ..Default::default()
    };
    assert_eq!(pick(a), [4]);
    let a = FilterArgs {
        status: Some("ok".into()),
        address: Some("+15551230001".into()),
        ..Default::default()
    };
    assert_eq!(pick(a), [17, 32]);
    let a = FilterArgs {
        status: Some("Retrieved".into()),
        ..Default::default()
    };
    assert_eq!(pick(a), [17]);
    let a = FilterArgs {
        tid: Some("F-NOTIF-0001\" or \"x".into()),
        ..Default::default()
    };
    assert_eq!(pick(a), Vec::<u64>::new(), "values are quoted, not spliced");

    let bad = FilterArgs {
        filter: Some("kind == send and (".into()),
        ..Default::default()
    };
    let e = bad.build().unwrap_err();
    assert!(
        e.starts_with("--filter does not parse at character 18: "),
        "{e}"
    );
    let bad = FilterArgs {
        since: Some("last tuesday".into()),
        ..Default::default()
    };
    assert!(
        bad.build()
            .unwrap_err()
            .starts_with("--since: expected a time")
    );
}

#[test]
fn the_transactions_table_lists_kind_ids_frames_types_start_duration_status() {
    let p = http_mm1_basic();
    let txs = correlate::correlate(&p);
    let mut out = Vec::new();
    mmscope::cli::transactions::write_table(&mut out, &txs).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("#  kind "), "{text}");
    let row = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
    assert_eq!(
        row(1),
        [
            "0",
            "send",
            "tid=H-SEND-0001",
            "msgid=H-MSG-0001@mmsc.lab",
            "4,8",
            "send-req,send-conf",
            "2026-01-01T00:00:00.001000Z",
            "0.003s",
            "ok"
        ]
    );
    assert_eq!(row(2)[1], "notification");
    assert_eq!(row(2).last(), Some(&"orphan"));
    assert_eq!(row(3)[5], "30,38");
    assert_eq!(lines[4], "3 transactions");
}

#[test]
fn transactions_json_streams_and_holds_only_open_pdus() {
    use mmscope::cli::transactions::stream_json;
    use mmscope::model::Transport;
    use mmscope::pipeline::Event;
    // wap_mm1_full, then 200 sends 100 s apart (each done long before the next).
    let mut v = wap_mm1_full(true);
    for k in 0..200u64 {
        let t = 100.0 + k as f64 * 100.0;
        let client = format!("10.0.0.1:{}", 2000 + k);
        v.push(
            pdu(
                100 + 2 * k,
                t,
                &client,
                "10.0.0.9:80",
                Transport::Http,
                "m-send-req",
            )
            .tid(&format!("T{k}")),
        );
        v.push(
            pdu(
                101 + 2 * k,
                t + 0.1,
                "10.0.0.9:80",
                &client,
                Transport::Http,
                "m-send-conf",
            )
            .tid(&format!("T{k}"))
            .response_status(if k == 7 { "Error-service-denied" } else { "Ok" }),
        );
    }
    let pdus = indexed(v);
    let feed = |sink: &mut dyn FnMut(Event)| {
        for p in &pdus {
            sink(Event::Pdu(Box::new(p.clone())));
        }
        sink(Event::Note("frame 3: example note".into()));
        Ok(())
    };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let filter = Filter::parse("").unwrap();
    let held = stream_json(feed, &filter, &mut out, &mut |n| notes.push(n)).unwrap();
    assert!(held <= 14, "held {held} records at once");
    assert_eq!(notes, ["frame 3: example note"]);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 203);
    let batch = correlate::correlate(&pdus);
    for (line, tx) in lines.iter().zip(&batch) {
        assert_eq!(line, &mmscope::export::transaction_json(tx, &pdus));
    }
    assert_eq!(lines[0]["frames"], serde_json::json!([4, 5, 8, 10, 11]));
    assert_eq!(lines[0]["records"][4]["role"], "retransmission");

    let mut out = Vec::new();
    let filter = Filter::parse("outcome == failed").unwrap();
    stream_json(
        |sink: &mut dyn FnMut(Event)| {
            for p in &pdus {
                sink(Event::Pdu(Box::new(p.clone())));
            }
            Ok(())
        },
        &filter,
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"status\":\"Error-service-denied\""));
    assert!(text.contains("\"transaction_id\":\"T7\""));
}
