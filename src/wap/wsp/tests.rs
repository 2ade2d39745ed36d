use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn status_table_36() {
    assert_eq!(http_status(0x20), Some(200));
    assert_eq!(http_status(0x24), Some(204));
    assert_eq!(http_status(0x37), Some(307));
    assert_eq!(http_status(0x36), None);
    assert_eq!(http_status(0x44), Some(404));
    assert_eq!(http_status(0x51), Some(417));
    assert_eq!(http_status(0x60), Some(500));
    assert_eq!(http_status(0x65), Some(505));
    assert_eq!(http_status(0x66), None);
}

#[test]
fn connectionless_push_from_kannel() {
    // wap_push_ppg.pcapng frame 11 (UDP 9200 -> 2948), PDU truncated after a few body bytes.
    let b = hex(
        "0006266170706c69636174696f6e2f766e642e7761702e6d6d732d6d65737361676500af848de6c3938c8298502d",
    );
    let p = parse_wsp(&b, 0..b.len(), true).unwrap();
    assert_eq!(p.tid, Some(0));
    assert_eq!(p.pdu_type, WspPduType::Push);
    assert_eq!(
        p.media_type().as_deref(),
        Some("application/vnd.wap.mms-message")
    );
    assert_eq!(
        p.application_id().as_deref(),
        Some("x-wap-application:mms.ua")
    );
    assert_eq!(p.body.start, 41);
    assert!(p.is_mms(&b));
    assert!(p.headers.error.is_none(), "{:?}", p.headers.error);
    // The data was cut for this test: Content-Length (102) no longer matches.
    assert_eq!(
        p.headers.get("Content-Length").unwrap().value,
        Value::UInt(102)
    );
    assert!(
        p.notes[0]
            .display
            .contains("Content-Length says 102 bytes, the PDU carries 5 bytes")
    );
}

#[test]
fn connect_and_connect_reply() {
    // wap_wsp_co_sar_get.pcapng frames 1 and 2 (WSP part, after the 4/3-octet WTP header).
    let c = hex("01100a0b0480c080000481c080008080a966616b6577617000");
    let p = parse_wsp(&c, 0..c.len(), false).unwrap();
    assert_eq!(p.pdu_type, WspPduType::Connect);
    assert_eq!(p.version, Some((1, 0)));
    assert_eq!(p.capabilities, Some(4..14));
    let caps: Vec<(&str, &Value)> = p
        .capability_list
        .iter()
        .map(|c| (c.name.as_str(), &c.value))
        .collect();
    assert_eq!(
        caps,
        [
            ("Client-SDU-Size", &Value::UInt(1_048_576)),
            ("Server-SDU-Size", &Value::UInt(1_048_576))
        ]
    );
    assert_eq!(p.headers.headers[1].name, "User-Agent");
    assert_eq!(p.headers_range, Some(14..25));
    let r = hex("02000a150480c080000481c08000456e636f64696e672d56657273696f6e00312e3200");
    let p = parse_wsp(&r, 0..r.len(), false).unwrap();
    assert_eq!(p.pdu_type, WspPduType::ConnectReply);
    assert_eq!(p.session_id, Some(0));
    assert_eq!(p.headers.headers[0].name, "Encoding-Version");
}

#[test]
fn get_and_post_framing() {
    let g = hex("401f687474703a2f2f3132372e302e302e312f6d6d732f572d4d53472d30303031");
    let p = parse_wsp(&g, 0..g.len(), false).unwrap();
    assert_eq!(p.pdu_type.name(), "Get");
    assert_eq!(p.uri.as_deref(), Some("http://127.0.0.1/mms/W-MSG-0001"));
    // Post: URI "/x", headers length 1 (content type 0x3E = application/vnd.wap.mms-message), data.
    let b = [0x60, 0x02, 0x01, b'/', b'x', 0xbe, 0x8c, 0x83];
    let p = parse_wsp(&b, 0..b.len(), false).unwrap();
    assert_eq!(p.uri.as_deref(), Some("/x"));
    assert_eq!(
        p.media_type().as_deref(),
        Some("application/vnd.wap.mms-message")
    );
    assert_eq!(p.body, 6..8);
    // Truncated: headers length runs past the end.
    let e = parse_wsp(&[0x60, 0x02, 0x09, b'/', b'x', 0xbe], 0..6, false).unwrap_err();
    assert_eq!(e.offset, 5);
}

#[test]
fn reply_pairs_with_request() {
    let a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let g: SocketAddr = "127.0.0.1:9201".parse().unwrap();
    let mut p = WspPairer::default();
    let ex = p.request_co(a, g, 0x0002, "Get".into(), Some("http://x/".into()), 4);
    let r = p.reply_co(g, a, 0x8002).unwrap();
    assert_eq!(
        (r.exchange, r.uri.as_deref(), r.frame),
        (ex, Some("http://x/"), 4)
    );
    assert!(p.reply_co(g, a, 0x8003).is_none());
    p.request_cl(a, g, 7, "Post".into(), None, 9);
    assert!(p.reply_cl(g, a, 7).is_some());
    assert!(p.reply_cl(a, g, 7).is_none());
}
