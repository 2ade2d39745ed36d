//! WTP/WSP on the shipped WAP captures: SAR reassembly to the exact ground-truth bytes,
//! retransmissions flagged, lost segments reported by PSN, connectionless Get/Reply/Post and
//! push.

mod transport_common;

use mmscope::wap::wsp::WspPduType;
use mmscope::wap::{WapDecoder, WapEvent, WapMode, WspMessage, classify};
use transport_common::{Proto, pdu, read_capture};

/// A WTP PDU as reported: (frame, summary, PSNs missing at that point).
type WtpSeen = (u64, String, Vec<u8>);

/// Decode every WAP datagram of a capture: (WSP messages, WTP PDUs seen).
fn decode(capture: &str) -> (Vec<WspMessage>, Vec<WtpSeen>) {
    let mut dec = WapDecoder::default();
    let mut wsp = Vec::new();
    let mut wtp = Vec::new();
    let handle = |evs: Vec<WapEvent>, wsp: &mut Vec<WspMessage>, wtp: &mut Vec<WtpSeen>| {
        for e in evs {
            match e {
                WapEvent::Wsp(m) => wsp.push(*m),
                WapEvent::Wtp {
                    frame,
                    summary,
                    missing,
                    ..
                } => wtp.push((frame, summary, missing)),
                WapEvent::Error { message, .. } => panic!("{capture}: {message}"),
            }
        }
    };
    for p in read_capture(capture) {
        if !matches!(p.proto, Proto::Udp) {
            continue;
        }
        let Some(mode) = classify(p.src, p.dst, &p.payload) else {
            continue;
        };
        let evs = dec.datagram(mode, p.src, p.dst, &p.payload, p.frame);
        handle(evs, &mut wsp, &mut wtp);
    }
    let evs = dec.finish();
    handle(evs, &mut wsp, &mut wtp);
    (wsp, wtp)
}

#[test]
fn sar_get_reassembles_35_segments_exactly() {
    let (wsp, _) = decode("wap_wsp_co_sar_get.pcapng");
    let reply = wsp
        .iter()
        .find(|m| m.is_mms() && m.method().as_deref() == Some("Reply") && m.body().len() > 40000)
        .expect("the m-retrieve.conf reply");
    assert!(reply.complete);
    assert_eq!(reply.mode, WapMode::ConnectionOriented);
    assert!(
        reply.body() == pdu("w_retrieve_conf_large.mms"),
        "reassembled body differs"
    );
    let w = reply.wtp.as_ref().unwrap();
    assert_eq!(w.segments, 35);
    assert!(w.missing.is_empty() && w.retransmitted.is_empty() && w.duplicates.is_empty());
    assert_eq!(
        reply.frame, 61,
        "tshark shows the reassembled PDU in frame 61"
    );
    assert_eq!(reply.frames().len(), 35);
    assert_eq!(reply.origin[0].frame, 16);
    // Paired with the Get of the first WTP transaction.
    let a = reply.answers.as_ref().expect("paired with its Get");
    assert_eq!(
        (a.method.as_str(), a.uri.as_deref(), a.frame),
        ("Get", Some("http://127.0.0.1/mms/W-MSG-0001"), 4)
    );
    assert_eq!(reply.pdu.as_ref().unwrap().http_status(), Some(200));
    let d = reply.dissection();
    assert_eq!(d.layers.len(), 2);
    assert_eq!(d.buffers[0].frame_of(reply.body_range().start), Some(16));
    assert_eq!(d.buffers[0].frame_of(reply.data.len() - 1), Some(61));
    assert!(d.worst().is_none());
    // The Post of m-acknowledge.ind, and its 204 Reply re-sent with RID=1 (frame 72).
    let post = wsp
        .iter()
        .find(|m| m.method().as_deref() == Some("Post"))
        .unwrap();
    assert!(post.body() == pdu("w_acknowledge_ind.mms"));
    assert_eq!(post.frame, 67);
    let replies204: Vec<_> = wsp
        .iter()
        .filter(|m| m.pdu.as_ref().and_then(|p| p.http_status()) == Some(204))
        .collect();
    assert_eq!(replies204.len(), 2);
    assert_eq!(replies204[0].retransmission_of, None);
    assert_eq!(replies204[1].retransmission_of, Some(71));
    assert_eq!(replies204[1].frame, 72);
    assert_eq!(replies204[1].exchange, post.exchange);
    assert_eq!(replies204[1].uri(), Some("http://127.0.0.1/mmsc"));
}

#[test]
fn sar_loss_reports_missing_psn_until_resend() {
    let (wsp, wtp) = decode("net_wsp_co_sar_loss.pcapng");
    // Segment PSN 6 is lost before the capture point: from frame 13 (PSN 7) on, it is reported
    // missing; the NACK is in frame 15 and the RID=1 re-send in frame 16 fills it.
    let missing_at = |f: u64| wtp.iter().find(|w| w.0 == f).map(|w| w.2.clone()).unwrap();
    assert_eq!(missing_at(11), Vec::<u8>::new());
    assert_eq!(missing_at(13), vec![6]);
    assert_eq!(missing_at(14), vec![6]);
    assert!(
        wtp.iter()
            .any(|w| w.0 == 15 && w.1.contains("Negative Ack") && w.1.contains("[6]"))
    );
    assert_eq!(missing_at(16), Vec::<u8>::new());
    assert!(wtp.iter().any(|w| w.0 == 16 && w.1.contains("RID")));
    let reply = wsp.iter().find(|m| m.is_mms()).expect("m-retrieve.conf");
    assert!(reply.complete);
    assert!(reply.body() == pdu("w_retrieve_conf_large.mms"));
    assert_eq!(reply.frame, 51);
    let w = reply.wtp.as_ref().unwrap();
    assert_eq!(w.segments, 35);
    assert_eq!(w.retransmitted, [(6, 16)]);
    assert_eq!(w.nacks, [(15, vec![6])]);
    assert_eq!(
        reply.answers.as_ref().unwrap().uri.as_deref(),
        Some("http://198.18.0.2/mms/W-MSG-0001")
    );
}

#[test]
fn sar_loss_without_resend_gives_prefix_and_missing_psns() {
    // Drop the re-sent segment (frame 16) and the last segment: the decoder must say exactly
    // which PSNs never came and keep the contiguous prefix (segment 0 carries the MMS headers).
    let mut dec = WapDecoder::default();
    let mut out = Vec::new();
    for p in read_capture("net_wsp_co_sar_loss.pcapng") {
        if p.frame == 16 || p.frame == 51 {
            continue;
        }
        let mode = classify(p.src, p.dst, &p.payload).unwrap();
        out.extend(dec.datagram(mode, p.src, p.dst, &p.payload, p.frame));
    }
    out.extend(dec.finish());
    let msgs: Vec<WspMessage> = out
        .into_iter()
        .filter_map(|e| match e {
            WapEvent::Wsp(m) => Some(*m),
            _ => None,
        })
        .collect();
    let partial = msgs.iter().find(|m| !m.complete).expect("incomplete reply");
    let w = partial.wtp.as_ref().unwrap();
    assert_eq!(
        w.missing,
        [6],
        "the trailer PSN 34 is unknown, so only PSN 6 is known missing"
    );
    assert!(!w.last_psn_known);
    let full = pdu("w_retrieve_conf_large.mms");
    let body = partial.body();
    assert!(!body.is_empty());
    // Six segments (PSN 0-5) of WSP data; the body is their MMS part, a prefix of the PDU.
    assert!(full.starts_with(body), "prefix differs");
    assert_eq!(
        partial.data.len(),
        partial.origin.iter().map(|s| s.len).sum::<usize>()
    );
    assert_eq!(partial.origin.len(), 6);
    assert!(partial.notes[0].contains("PSN [6]"));
}

#[test]
fn connectionless_get_reply_post() {
    let (wsp, _) = decode("wap_wsp_cl.pcapng");
    assert!(wsp.iter().all(|m| m.mode == WapMode::Connectionless));
    let get = wsp
        .iter()
        .find(|m| m.method().as_deref() == Some("Get"))
        .unwrap();
    assert_eq!(get.uri(), Some("http://127.0.0.1/mms/C-MSG-0001"));
    let rc = wsp
        .iter()
        .find(|m| m.is_mms() && m.body() == pdu("c_retrieve_conf.mms"))
        .expect("c_retrieve_conf");
    assert_eq!(rc.frame, 7);
    assert_eq!(
        rc.answers.as_ref().unwrap().uri.as_deref(),
        Some("http://127.0.0.1/mms/C-MSG-0001")
    );
    assert_eq!(rc.exchange, get.exchange);
    let post = wsp
        .iter()
        .find(|m| m.method().as_deref() == Some("Post"))
        .unwrap();
    assert!(post.body() == pdu("c_send_req.mms"));
    assert_eq!(post.frame, 8);
    let sc = wsp.iter().find(|m| m.frame == 14).unwrap();
    assert!(sc.body() == pdu("c_send_conf.mms"));
    assert_eq!(sc.answers.as_ref().unwrap().method, "Post");
    assert_eq!(sc.pdu.as_ref().unwrap().tid, post.pdu.as_ref().unwrap().tid);
}

#[test]
fn push_pdus_carry_application_id() {
    let (wsp, _) = decode("wap_push_ppg.pcapng");
    let pushes: Vec<_> = wsp.iter().filter(|m| m.is_push()).collect();
    assert_eq!(pushes.len(), 3);
    let want = [
        (11, "p_notification_ind.mms", 0),
        (19, "h_notification_ind.mms", 1),
        (30, "d_delivery_ind.mms", 2),
    ];
    for (m, (frame, file, tid)) in pushes.iter().zip(want) {
        assert_eq!(m.frame, frame);
        assert_eq!(m.src.port(), 9200);
        assert_eq!(m.dst.port(), 2948);
        assert!(m.body() == pdu(file), "frame {frame}");
        let p = m.pdu.as_ref().unwrap();
        assert_eq!(p.pdu_type, WspPduType::Push);
        assert_eq!(p.tid, Some(tid));
        assert_eq!(
            p.application_id().as_deref(),
            Some("x-wap-application:mms.ua")
        );
    }
}

#[test]
fn full_flow_resent_send_conf_is_flagged() {
    let (wsp, _) = decode("wap_mm1_full.pcapng");
    let sc: Vec<_> = wsp
        .iter()
        .filter(|m| m.is_mms() && m.body() == pdu("f_send_conf.mms"))
        .collect();
    assert_eq!(sc.len(), 2);
    assert_eq!((sc[0].frame, sc[0].retransmission_of), (10, None));
    assert_eq!((sc[1].frame, sc[1].retransmission_of), (11, Some(10)));
    assert_eq!(sc[0].answers.as_ref().unwrap().method, "Post");
    let sr = wsp
        .iter()
        .find(|m| m.body() == pdu("f_send_req.mms"))
        .unwrap();
    assert_eq!(sr.frame, 4);
    let rc = wsp
        .iter()
        .find(|m| m.body() == pdu("f_retrieve_conf.mms"))
        .unwrap();
    assert_eq!(rc.frame, 34);
    assert_eq!(rc.uri(), Some("http://127.0.0.1/mms/F-MSG-0001"));
    let nr = wsp
        .iter()
        .find(|m| m.body() == pdu("f_notifyresp_ind.mms"))
        .unwrap();
    assert_eq!(nr.frame, 40);
    let push = wsp
        .iter()
        .find(|m| m.body() == pdu("f_notification_ind.mms"))
        .unwrap();
    assert_eq!(push.frame, 21);
}

#[test]
fn real_segments_shuffled_and_duplicated_still_reassemble_exactly() {
    // The 35 segments of wap_wsp_co_sar_get.pcapng's Result in reverse order, every third one
    // sent twice: the message is the same bytes, duplicates are counted, not added.
    let packets: Vec<_> = read_capture("wap_wsp_co_sar_get.pcapng")
        .into_iter()
        .filter(|p| {
            matches!(p.proto, Proto::Udp) && p.src.port() == 9201 && (16..=61).contains(&p.frame)
        })
        .filter(|p| p.payload[0] & 0x78 == 0x10 || p.payload[0] & 0x78 == 0x30) // Result, Segmented Result
        .collect();
    assert_eq!(packets.len(), 35);
    let mut dec = WapDecoder::default();
    let mut got = Vec::new();
    for (i, p) in packets.iter().rev().enumerate() {
        let times = if i % 3 == 0 { 2 } else { 1 };
        for _ in 0..times {
            for e in dec.datagram(
                WapMode::ConnectionOriented,
                p.src,
                p.dst,
                &p.payload,
                p.frame,
            ) {
                if let WapEvent::Wsp(m) = e {
                    got.push(*m);
                }
            }
        }
    }
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert!(m.body() == pdu("w_retrieve_conf_large.mms"));
    let w = m.wtp.as_ref().unwrap();
    assert_eq!(w.segments, 35);
    assert_eq!(w.duplicates.len(), 12); // i = 0, 3, …, 33, all before PSN 0 (i = 34) completes it
    assert_eq!(m.frame, 61, "the highest frame among its segments");
    assert_eq!(m.origin.first().unwrap().frame, 16);
    assert!(dec.finish().is_empty());
}

#[test]
fn full_flow_sessions_pair_and_both_resent_replies_are_flagged() {
    let (wsp, _) = decode("wap_mm1_full.pcapng");
    let seq: Vec<(u64, String)> = wsp.iter().map(|m| (m.frame, m.method().unwrap())).collect();
    let want = [
        (1, "Connect"),
        (2, "ConnectReply"),
        (4, "Post"),
        (10, "Reply"),
        (11, "Reply"),
        (13, "Disconnect"),
        (21, "Push"),
        (25, "Connect"),
        (26, "ConnectReply"),
        (28, "Get"),
        (34, "Reply"),
        (36, "Disconnect"),
        (37, "Connect"),
        (38, "ConnectReply"),
        (40, "Post"),
        (44, "Reply"),
        (45, "Reply"),
        (47, "Disconnect"),
    ];
    let want: Vec<(u64, String)> = want.iter().map(|(f, m)| (*f, m.to_string())).collect();
    assert_eq!(seq, want);
    let by_frame = |f: u64| wsp.iter().find(|m| m.frame == f).unwrap();
    // Every ConnectReply/Reply answers the Invoke of its WTP transaction.
    for (reply, request) in [
        (2, 1),
        (10, 4),
        (11, 4),
        (26, 25),
        (34, 28),
        (38, 37),
        (44, 40),
        (45, 40),
    ] {
        assert_eq!(
            by_frame(reply).answers.as_ref().unwrap().frame,
            request,
            "reply in frame {reply}"
        );
        assert_eq!(by_frame(reply).exchange, by_frame(request).exchange);
    }
    // Disconnect re-uses the Post's TID 2 with RID=0: a new message, not a retransmission.
    assert_eq!(by_frame(13).retransmission_of, None);
    assert_eq!(by_frame(45).retransmission_of, Some(44));
    let c = by_frame(45).carrier(7);
    assert!(c.is_response);
    assert_eq!(c.status, Some(200));
    assert_eq!(c.uri.as_deref(), Some("http://127.0.0.1/mmsc"));
    assert_eq!(c.exchange, by_frame(40).carrier(7).exchange);
    assert_eq!(by_frame(21).transport(), mmscope::model::Transport::WspPush);
    // The MMSC answers the m-notifyresp.ind with 200 and an empty body.
    assert!(by_frame(44).body().is_empty());
    assert_eq!(by_frame(44).pdu.as_ref().unwrap().http_status(), Some(200));
}

#[test]
fn wtp_pdu_counts_match_tshark() {
    // "Transport events counted by tshark" in captures/MANIFEST.md.
    let count = |capture: &str| {
        let (_, wtp) = decode(capture);
        let n = |prefix: &str| {
            wtp.iter()
                .filter(|w| w.1.starts_with(&format!("{prefix} TID")))
                .count()
        };
        let rid = wtp.iter().filter(|w| w.1.contains("RID")).count();
        (
            n("Ack"),
            n("Invoke"),
            n("Result"),
            n("Segmented Result"),
            n("Negative Ack"),
            rid,
        )
    };
    assert_eq!(count("wap_wsp_co_sar_get.pcapng"), (15, 6, 5, 34, 0, 1));
    assert_eq!(count("net_wsp_co_sar_loss.pcapng"), (13, 3, 2, 34, 1, 1));
    assert_eq!(count("wap_mm1_full.pcapng"), (6, 9, 8, 0, 0, 2));
}

/// A decoder built `without_wtp_pdus` (the pipeline's) reports the same WSP messages, in the
/// same order, as the default one, on every WAP capture, segment loss included, and no WTP PDU
/// events.
#[test]
fn without_wtp_pdus_gives_the_same_wsp_messages() {
    for capture in [
        "wap_wsp_co_sar_get.pcapng",
        "wap_mm1_full.pcapng",
        "wap_wsp_cl.pcapng",
        "wap_push_ppg.pcapng",
        "net_wsp_co_sar_loss.pcapng",
    ] {
        let mut full = WapDecoder::default();
        let mut lean = WapDecoder::default().without_wtp_pdus();
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for p in read_capture(capture) {
            if !matches!(p.proto, Proto::Udp) {
                continue;
            }
            let Some(mode) = classify(p.src, p.dst, &p.payload) else {
                continue;
            };
            with.extend(full.datagram(mode, p.src, p.dst, &p.payload, p.frame));
            without.extend(lean.datagram(mode, p.src, p.dst, &p.payload, p.frame));
        }
        with.extend(full.finish());
        without.extend(lean.finish());
        let wtp_seen = with
            .iter()
            .filter(|e| matches!(e, WapEvent::Wtp { .. }))
            .count();
        with.retain(|e| !matches!(e, WapEvent::Wtp { .. }));
        assert!(!without.iter().any(|e| matches!(e, WapEvent::Wtp { .. })));
        assert!(
            with.iter()
                .any(|e| matches!(e, WapEvent::Wsp(m) if m.is_mms())),
            "{capture}: no MMS message"
        );
        assert_eq!(with, without, "{capture}");
        if capture.contains("_co_") {
            assert!(wtp_seen > 30, "{capture}: {wtp_seen} WTP PDUs");
        }
    }
}
