//! PAP push submissions in wap_push_ppg.pcapng: the multipart/related POSTs to Kannel's PPG
//! give the pushed MMS PDUs exactly (binary and base64 parts), and the PPG's push-response is
//! read.

mod transport_common;

use mmscope::http::mime::TransferEncoding;
use mmscope::http::pap::{PapKind, parse_response, parse_submission};
use mmscope::http::{Direction, HttpConnection, HttpEvent, HttpMessage};
use transport_common::{StreamEvent, pdu, read_capture, tcp_connections};

fn messages(capture: &str) -> Vec<HttpMessage> {
    let mut out = Vec::new();
    for (_, _, events) in tcp_connections(&read_capture(capture)) {
        let mut c = HttpConnection::default();
        for e in events {
            let evs = match e {
                StreamEvent::Data(c2s, d, f) => c.feed(
                    if c2s {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    },
                    &d,
                    f,
                ),
                StreamEvent::Gap(..) => panic!("no gaps in this capture"),
                StreamEvent::Close(c2s) => c.close(if c2s {
                    Direction::ClientToServer
                } else {
                    Direction::ServerToClient
                }),
            };
            for ev in evs {
                if let HttpEvent::Message(m) = ev {
                    out.push(*m);
                }
            }
        }
    }
    out.sort_by_key(|m| m.last_frame());
    out
}

#[test]
fn pap_submissions_give_the_pushed_pdus() {
    let msgs = messages("wap_push_ppg.pcapng");
    let subs: Vec<_> = msgs
        .iter()
        .filter_map(|m| parse_submission(m).map(|s| (m, s)))
        .collect();
    assert_eq!(subs.len(), 3);
    let want = [
        (
            "P-PUSH-0001@mmsc.lab",
            "p_notification_ind.mms",
            TransferEncoding::Identity,
            4,
        ),
        (
            "H-PUSH-0001@mmsc.lab",
            "h_notification_ind.mms",
            TransferEncoding::Base64,
            15,
        ),
        (
            "D-PUSH-0001@mmsc.lab",
            "d_delivery_ind.mms",
            TransferEncoding::Identity,
            26,
        ),
    ];
    for ((m, s), (push_id, file, te, frame)) in subs.iter().zip(want) {
        assert_eq!(m.method(), Some("POST"));
        assert_eq!(m.uri(), Some("/wappush?username=mmsc&password=lab"));
        assert_eq!(m.last_frame(), Some(frame));
        let ctl = s.control.as_ref().unwrap();
        assert_eq!(ctl.kind, PapKind::PushMessage);
        assert_eq!(ctl.push_id.as_deref(), Some(push_id));
        assert_eq!(ctl.addresses, ["WAPPUSH=127.0.0.1/TYPE=IPv4@ppg.lab"]);
        assert_eq!(ctl.delivery_method.as_deref(), Some("unconfirmed"));
        assert_eq!(s.control_part, Some(0));
        let part = s.mms_part().expect("MMS part");
        assert_eq!(part.transfer_encoding, te);
        assert!(part.content == pdu(file), "{file}");
        assert!(part.notes.is_empty());
        assert_eq!(part.header("X-WAP-Application-Id"), Some("mms.ua"));
        assert!(s.multipart.closed);
        assert!(s.multipart.notes.is_empty());
        let tree = s.tree();
        assert!(tree.display.contains(push_id));
        assert_eq!(
            tree.child("PAP").unwrap().child("push-id").unwrap().display,
            push_id
        );
        assert_eq!(tree.child("Multipart").unwrap().children.len(), 2);
        if te == TransferEncoding::Identity {
            // Binary part: the content range is the PDU's place in the HTTP body.
            assert!(m.body()[part.content_range.clone()] == pdu(file)[..]);
        } else {
            assert!(m.body()[part.content_range.clone()].is_ascii());
        }
    }
}

#[test]
fn pap_push_responses_are_read() {
    let msgs = messages("wap_push_ppg.pcapng");
    let resp: Vec<_> = msgs
        .iter()
        .filter_map(|m| parse_response(m).map(|d| (m, d)))
        .collect();
    assert_eq!(resp.len(), 3);
    for (m, d) in &resp {
        assert_eq!(m.status(), Some(202));
        assert_eq!(m.answers.as_ref().unwrap().method, "POST");
        assert_eq!(d.kind, PapKind::PushResponse);
        assert_eq!(d.result_code, Some(1001));
    }
    assert_eq!(resp[0].1.push_id.as_deref(), Some("P-PUSH-0001@mmsc.lab"));
    assert!(resp[0].1.summary().contains("result 1001"));
}
