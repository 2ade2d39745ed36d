//! HTTP parser on the shipped MM1-over-HTTP captures: every MMS body decodes to the exact bytes
//! of its ground-truth PDU and pairs with the right request line / status.

mod transport_common;

use mmscope::http::{Direction, HttpConnection, HttpEvent, HttpMessage};
use transport_common::{StreamEvent, pdu, read_capture, tcp_connections};

/// All messages of all TCP connections of a capture, in the order they completed.
fn http_messages(capture: &str) -> Vec<HttpMessage> {
    let packets = read_capture(capture);
    let mut out = Vec::new();
    for (_, _, events) in tcp_connections(&packets) {
        let mut conn = HttpConnection::default();
        for e in events {
            let evs = match e {
                StreamEvent::Data(c2s, data, frame) => conn.feed(dir(c2s), &data, frame),
                StreamEvent::Gap(c2s, n) => conn.gap(dir(c2s), n),
                StreamEvent::Close(c2s) => conn.close(dir(c2s)),
            };
            for ev in evs {
                match ev {
                    HttpEvent::Message(m) => out.push(*m),
                    other => panic!("{capture}: unexpected {other:?}"),
                }
            }
        }
    }
    out.sort_by_key(|m| m.last_frame());
    out
}

fn dir(c2s: bool) -> Direction {
    if c2s {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    }
}

/// (summary of the carrier, answered request, body) of every message with an MMS body.
fn mms_bodies(msgs: &[HttpMessage]) -> Vec<(String, Option<String>, Vec<u8>)> {
    msgs.iter()
        .filter(|m| m.is_mms() && !m.body().is_empty())
        .map(|m| {
            (
                m.summary(),
                m.answers
                    .as_ref()
                    .map(|a| format!("{} {}", a.method, a.target)),
                m.body().to_vec(),
            )
        })
        .collect()
}

fn check_mm1_flow(capture: &str) -> Vec<HttpMessage> {
    let msgs = http_messages(capture);
    for m in &msgs {
        assert!(m.complete, "{capture}: {}", m.summary());
        assert!(
            m.notes.is_empty(),
            "{capture}: {} {:?}",
            m.summary(),
            m.notes
        );
    }
    let b = mms_bodies(&msgs);
    let want = [
        ("POST /mmsc HTTP/1.1", None, "h_send_req.mms"),
        ("HTTP/1.0 200 OK", Some("POST /mmsc"), "h_send_conf.mms"),
        ("POST /mmsc HTTP/1.1", None, "h_notifyresp_ind.mms"),
        (
            "HTTP/1.0 200 OK",
            Some("GET /mms/H-MSG-0001"),
            "h_retrieve_conf.mms",
        ),
        ("POST /mmsc HTTP/1.1", None, "h_acknowledge_ind.mms"),
    ];
    assert_eq!(
        b.len(),
        want.len(),
        "{capture}: {:?}",
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    for ((summary, answers, body), (ws, wa, wf)) in b.iter().zip(want) {
        // The stub answers HTTP/1.0 or 1.1 depending on the scenario: compare the status only.
        if ws.starts_with("HTTP") {
            assert!(summary.ends_with("200 OK"), "{capture}: {summary}");
        } else {
            assert_eq!(summary, ws, "{capture}");
        }
        assert_eq!(answers.as_deref(), wa, "{capture}: {summary}");
        assert!(
            *body == pdu(wf),
            "{capture}: body of {summary} differs from {wf}"
        );
    }
    // The last POST is answered by 204 No Content, with no body.
    let nc = msgs.iter().find(|m| m.status() == Some(204)).expect("204");
    assert!(nc.body().is_empty());
    assert_eq!(nc.answers.as_ref().unwrap().method, "POST");
    // Every response pairs with a request of the same exchange.
    for r in msgs.iter().filter(|m| !m.is_request()) {
        let a = r.answers.as_ref().expect("paired");
        let q = msgs.iter().find(|m| {
            m.is_request()
                && m.exchange == a.exchange
                && m.direction == Direction::ClientToServer
                && m.last_frame() == a.frame
        });
        assert!(
            q.is_some(),
            "{capture}: {} answers a request that was not seen",
            r.summary()
        );
    }
    msgs
}

#[test]
fn mm1_basic_bodies_are_exact() {
    let msgs = check_mm1_flow("http_mm1_basic.pcapng");
    // Ranges in the tree point into the raw message.
    let req = msgs.iter().find(|m| m.is_mms() && m.is_request()).unwrap();
    let tree = req.tree();
    let uri = &tree.child("Request line").unwrap().children[1];
    assert_eq!(&req.raw[uri.range.clone()], b"/mmsc");
    let ct = tree
        .child("Headers")
        .unwrap()
        .child("Content-Type")
        .unwrap();
    assert_eq!(ct.display, "application/vnd.wap.mms-message");
    assert!(req.raw[ct.range.clone()].starts_with(b"Content-Type:"));
    // Frame of the request: the ground truth says tshark shows h_send_req in frame 4.
    assert_eq!(req.last_frame(), Some(4));
    let (d, body_id) = req.dissection();
    assert!(d.buffers[usize::from(body_id)].data[..] == pdu("h_send_req.mms")[..]);
    assert_eq!(d.buffers[usize::from(body_id)].frame_of(0), Some(4));
    assert_eq!(d.layers[0].buffer, 0);
    assert_eq!(req.head_stream_range().start, 0);
    assert_eq!(
        req.body_stream_range().end - req.body_stream_range().start,
        481
    );
    let conf = msgs
        .iter()
        .find(|m| {
            m.answers
                .as_ref()
                .is_some_and(|a| a.exchange == req.exchange)
        })
        .unwrap();
    let (cq, cr) = (req.carrier(3), conf.carrier(3));
    assert_eq!(cq.exchange, cr.exchange);
    assert_eq!(
        (cr.method.as_deref(), cr.uri.as_deref(), cr.status),
        (Some("POST"), Some("/mmsc"), Some(200))
    );
    assert!(cr.is_response && !cq.is_response);
}

#[test]
fn mm1_basic_classic_pcap_too() {
    check_mm1_flow("http_mm1_basic.pcap");
}

#[test]
fn mm1_chunked_bodies_are_exact() {
    let msgs = check_mm1_flow("http_mm1_chunked.pcapng");
    let chunked = msgs
        .iter()
        .filter(|m| m.framing == mmscope::http::Framing::Chunked)
        .count();
    assert!(chunked >= 5, "only {chunked} chunked messages");
    let rc = msgs
        .iter()
        .find(|m| m.body() == pdu("h_retrieve_conf.mms"))
        .unwrap();
    // 531 bytes in 128-byte chunks: 5 data chunks and the last chunk.
    assert_eq!(rc.chunks.len(), 6);
    assert_eq!(rc.chunks[0].size, 128);
}

#[test]
fn mm1_gzip_bodies_are_exact() {
    let msgs = check_mm1_flow("http_mm1_gzip.pcapng");
    let gz: Vec<_> = msgs.iter().filter(|m| m.codings == ["gzip"]).collect();
    assert_eq!(
        gz.len(),
        3,
        "send_req, send_conf and retrieve_conf are gzip-coded"
    );
    for m in gz {
        assert!(m.body_range.len() != m.body().len());
        assert!(!m.body_truncated);
    }
}

#[test]
fn mm1_keepalive_one_connection() {
    let packets = read_capture("http_mm1_keepalive.pcapng");
    assert_eq!(tcp_connections(&packets).len(), 1);
    let msgs = check_mm1_flow("http_mm1_keepalive.pcapng");
    assert_eq!(msgs.iter().filter(|m| m.is_request()).count(), 4);
    let ex: Vec<u64> = msgs
        .iter()
        .filter(|m| m.is_request())
        .map(|m| m.exchange)
        .collect();
    assert_eq!(ex, [0, 1, 2, 3]);
}

#[test]
fn mm1_ipv6_and_large_send() {
    check_mm1_flow("http_mm1_ipv6.pcapng");
    let msgs = http_messages("http_mm1_large_send.pcapng");
    let b = mms_bodies(&msgs);
    assert_eq!(b.len(), 2);
    assert!(b[0].2 == pdu("l_send_req_large.mms"));
    assert!(b[1].2 == pdu("l_send_conf.mms"));
    let big = msgs.iter().find(|m| m.body().len() == 320114).unwrap();
    assert!(big.frames().len() > 1, "carried by several frames");
}

#[test]
fn gateway_leg_of_wap_captures() {
    // wapbox -> MMSC HTTP in the WAP scenarios: the m-retrieve.conf body and the POSTed
    // m-acknowledge.ind.
    let msgs = http_messages("wap_wsp_co_sar_get.pcapng");
    let b = mms_bodies(&msgs);
    assert!(
        b.iter()
            .any(|x| x.1.as_deref() == Some("GET /mms/W-MSG-0001")
                && x.2 == pdu("w_retrieve_conf_large.mms"))
    );
    assert!(
        b.iter()
            .any(|x| x.0.starts_with("POST ") && x.2 == pdu("w_acknowledge_ind.mms"))
    );
}

#[test]
fn non_http_streams_are_refused() {
    let mut c = HttpConnection::default();
    // The start of a TLS ClientHello and an SMTP greeting.
    let ev = c.feed(
        Direction::ClientToServer,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        1,
    );
    assert!(matches!(ev[..], [HttpEvent::NotHttp { .. }]));
    let ev = c.feed(Direction::ServerToClient, b"220 mail.example ESMTP\r\n", 2);
    assert!(matches!(ev[..], [HttpEvent::NotHttp { .. }]));
    assert!(c.gave_up());
}
