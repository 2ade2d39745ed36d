//! PDUs built byte by byte from the encoding rules of OMA-MMS-ENC 1.3 (section 7) and
//! WAP-230-WSP (8.4, 8.5), covering what tshark 4.0 does not decode: m-delete / m-cancel
//! (0x94–0x97), the 1.3 headers 0xB4–0xBF, the MMBox header values 0xA2–0xB3, charset-decoded
//! text (ISO-8859-1, UTF-8, Shift_JIS, UTF-16 with a 3-octet charset), integers longer than 4
//! octets, textual and nested multipart.

use mmscope::model::MmsSummary;
use mmscope::tree::{Buffer, Dissection, Node, Severity, Value};

fn dissect(bytes: &[u8]) -> (Dissection, MmsSummary) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("pdu", bytes.to_vec()));
    let s = mmscope::mms::dissect(&mut d, id);
    (d, s)
}

/// Text-string: the characters then End-of-string 0x00.
fn t(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn cat(groups: &[&[u8]]) -> Vec<u8> {
    groups.concat()
}

fn node<'a>(d: &'a Dissection, name: &str) -> &'a Node {
    d.layers[0]
        .child(name)
        .unwrap_or_else(|| panic!("no {name} in {:#?}", d.layers[0]))
}

fn experts(d: &Dissection) -> Vec<(Severity, String, String)> {
    d.layers[0]
        .walk()
        .filter_map(|n| n.expert.map(|s| (s, n.name.clone(), n.display.clone())))
        .collect()
}

fn no_warnings(d: &Dissection) {
    let bad: Vec<_> = experts(d)
        .into_iter()
        .filter(|(s, _, _)| *s >= Severity::Warning)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn m_delete_req_and_conf() {
    let req = cat(&[
        &[0x8C, 0x94], // X-Mms-Message-Type: m-delete-req
        &[0x98],
        &t("del-1"),   // X-Mms-Transaction-Id
        &[0x8D, 0x93], // X-Mms-MMS-Version 1.3
        &[0x83],
        &t("http://mmsc/m1"), // X-Mms-Content-Location
    ]);
    let (d, s) = dissect(&req);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-delete-req"));
    assert_eq!(s.mms_version.as_deref(), Some("1.3"));
    assert_eq!(s.content_location.as_deref(), Some("http://mmsc/m1"));

    // m-delete-conf: Content-location-Del-value and Response-text-Del-value carry a
    // Status-count (index) inside a Value-length (OMA-MMS-ENC 1.3 7.3.11, 7.3.49).
    let mut loc = vec![0x80]; // index 0 (short-integer)
    loc.extend(t("http://mmsc/m1"));
    let mut text = vec![0x80]; // index 0
    text.extend(t("deleted"));
    let conf = cat(&[
        &[0x8C, 0x95],
        &[0x98],
        &t("del-1"),
        &[0x8D, 0x93],
        &[0x83, loc.len() as u8],
        &loc,          // X-Mms-Content-Location, Value-length
        &[0x92, 0x80], // X-Mms-Response-Status: Ok
        &[0x93, text.len() as u8],
        &text, // X-Mms-Response-Text, Value-length
    ]);
    let (d, s) = dissect(&conf);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-delete-conf"));
    assert_eq!(s.content_location.as_deref(), Some("http://mmsc/m1"));
    assert_eq!(s.response_status.as_deref(), Some("Ok"));
    assert_eq!(s.response_text.as_deref(), Some("deleted"));
    let cl = node(&d, "X-Mms-Content-Location");
    assert_eq!(cl.display, "[0] http://mmsc/m1");
    assert_eq!(cl.child("Status count").unwrap().value, Value::UInt(0));

    // Two deleted messages: the indexed fields repeat, each with its Status-count; the second
    // Response-Status uses the indexed form too (Value-length 2, index 1, 0xE3).
    let mut loc2 = vec![0x81];
    loc2.extend(t("http://mmsc/m2"));
    let conf2 = cat(&[
        &conf,
        &[0x83, loc2.len() as u8],
        &loc2,
        &[0x92, 0x02, 0x81, 0xE3], // Response-Status [1] Error-permanent-sending-address-unresolved
    ]);
    let (d, _) = dissect(&conf2);
    no_warnings(&d);
    let statuses: Vec<_> = d.layers[0]
        .children
        .iter()
        .filter(|n| n.name == "X-Mms-Response-Status")
        .map(|n| n.display.clone())
        .collect();
    assert_eq!(
        statuses,
        ["Ok", "[1] Error-permanent-sending-address-unresolved"]
    );
}

#[test]
fn m_cancel_req_and_conf() {
    let req = cat(&[
        &[0x8C, 0x96], // m-cancel-req
        &[0x98],
        &t("can-1"),
        &[0x8D, 0x93],
        &[0xBE],
        &t("msg-77@mmsc"), // X-Mms-Cancel-ID
    ]);
    let (d, s) = dissect(&req);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-cancel-req"));
    assert_eq!(node(&d, "X-Mms-Cancel-ID").display, "msg-77@mmsc");
    let conf = cat(&[
        &[0x8C, 0x97], // m-cancel-conf
        &[0x98],
        &t("can-1"),
        &[0x8D, 0x93],
        &[0xBF, 0x81], // X-Mms-Cancel-Status: corrupted
    ]);
    let (d, s) = dissect(&conf);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-cancel-conf"));
    assert_eq!(
        node(&d, "X-Mms-Cancel-Status").display,
        "Cancel Request corrupted"
    );
    assert_eq!(s.cancel_status.as_deref(), Some("Cancel Request corrupted"));
    assert_eq!(s.store_status, None);
    // m-cancel-req in an MMS 1.2 PDU: the type exists since 1.3.
    let mut old = req.clone();
    let at = old.iter().position(|&b| b == 0x93).unwrap();
    old[at] = 0x92;
    let (d, _) = dissect(&old);
    assert!(
        experts(&d).iter().any(|(s, n, m)| *s == Severity::Warning
            && n == "version"
            && m.contains("since MMS 1.3"))
    );
}

#[test]
fn headers_of_mms_1_3_b4_to_bf() {
    let pdu = cat(&[
        &[0x8C, 0x82], // m-notification-ind
        &[0x98],
        &t("n-13"),
        &[0x8D, 0x93],                   // 1.3
        &[0x8A, 0x80],                   // Message-Class Personal
        &[0x8E, 0x01, 0x64],             // Message-Size 100 (long-integer, 1 octet)
        &[0x88, 0x03, 0x81, 0x01, 0x3C], // Expiry: relative, 60 s (Value-length 3)
        &[0x83],
        &t("http://mmsc/n13"),
        &[0xB4, 0x80], // Recommended-Retrieval-Mode: Manual
        &[0xB5, 0x04, 0xEA],
        b"ab\0", // Recommended-Retrieval-Mode-Text: UTF-8 "ab"
        &[0xB6],
        &t("status"), // Status-Text (Encoded-string-value, plain text form)
        &[0xB7],
        &t("com.app"), // Applic-ID
        &[0xB8],
        &t("com.reply"), // Reply-Applic-ID
        &[0xB9],
        &t("aux"),     // Aux-Applic-Info
        &[0xBA, 0x81], // Content-Class: image-basic
        &[0xBB, 0x80], // DRM-Content: Yes
        &[0xBC, 0x81], // Adaptation-Allowed: No
        &[0xBD],
        &t("old-msg"), // Replace-ID
    ]);
    let (d, s) = dissect(&pdu);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-notification-ind"));
    let want = [
        ("X-Mms-Recommended-Retrieval-Mode", "Manual"),
        ("X-Mms-Recommended-Retrieval-Mode-Text", "ab"),
        ("X-Mms-Status-Text", "status"),
        ("X-Mms-Applic-ID", "com.app"),
        ("X-Mms-Reply-Applic-ID", "com.reply"),
        ("X-Mms-Aux-Applic-Info", "aux"),
        ("X-Mms-Content-Class", "image-basic"),
        ("X-Mms-DRM-Content", "Yes"),
        ("X-Mms-Adaptation-Allowed", "No"),
        ("X-Mms-Replace-ID", "old-msg"),
        ("X-Mms-Expiry", "60 s (1m) (relative)"),
    ];
    for (name, display) in want {
        assert_eq!(node(&d, name).display, display, "{name}");
    }
    assert_eq!(node(&d, "X-Mms-Expiry").value, Value::Duration(60));
}

#[test]
fn mmbox_header_values_a2_to_b3() {
    let flags = cat(&[&[0x80], &t("Urgent")]); // Add-token, Encoded-string-value
    let descr = cat(&[&t("cid:1"), &[0x81, 0x9E]]); // Content-Reference, type=image/jpeg
    let pdu = cat(&[
        &[0x8C, 0x8E], // m-mbox-view-conf
        &[0x98],
        &t("mb-1"),
        &[0x8D, 0x92], // 1.2
        &[0x92, 0x80], // Response-Status Ok
        &[0xA2, 0x80], // Store: Yes
        &[0xA3, 0x82], // MM-State: New
        &[0xA4, flags.len() as u8],
        &flags,        // MM-Flags: add Urgent
        &[0xA5, 0xE4], // Store-Status: Error-permanent-mmbox-full
        &[0xA6],
        &t("full"),                            // Store-Status-Text
        &[0xA7, 0x80],                         // Stored: Yes
        &[0xA8, 0x96],                         // Attributes: Subject (0x16)
        &[0xA9, 0x80],                         // Totals: Yes
        &[0xAA, 0x02, 0x80, 0x85],             // Mbox-Totals: 5 messages
        &[0xAB, 0x81],                         // Quotas: No
        &[0xAC, 0x04, 0x81, 0x02, 0x10, 0x00], // Mbox-Quotas: 4096 octets (long-integer)
        &[0xAD, 0x8A],                         // Message-Count: 10
        &[0xAF, 0x80],                         // Start: 0
        &[0xB1, 0x81],                         // Distribution-Indicator: No
        &[0xB2, descr.len() as u8],
        &descr,        // Element-Descriptor
        &[0xB3, 0x94], // Limit: 20
    ]);
    let (d, s) = dissect(&pdu);
    no_warnings(&d);
    assert_eq!(s.message_type.as_deref(), Some("m-mbox-view-conf"));
    assert_eq!(
        s.store_status.as_deref(),
        Some("Error-permanent-mmbox-full")
    );
    assert_eq!(s.cancel_status, None);
    let want = [
        ("X-Mms-Store", "Yes"),
        ("X-Mms-MM-State", "New"),
        ("X-Mms-MM-Flags", "add Urgent"),
        ("X-Mms-Store-Status", "Error-permanent-mmbox-full"),
        ("X-Mms-Store-Status-Text", "full"),
        ("X-Mms-Stored", "Yes"),
        ("X-Mms-Attributes", "Subject"),
        ("X-Mms-Totals", "Yes"),
        ("X-Mms-Mbox-Totals", "5 messages"),
        ("X-Mms-Quotas", "No"),
        ("X-Mms-Mbox-Quotas", "4096 octets"),
        ("X-Mms-Message-Count", "10"),
        ("X-Mms-Start", "0"),
        ("X-Mms-Distribution-Indicator", "No"),
        ("X-Mms-Element-Descriptor", "cid:1; type=image/jpeg"),
        ("X-Mms-Limit", "20"),
    ];
    for (name, display) in want {
        assert_eq!(node(&d, name).display, display, "{name}");
    }
    // The error Store-Status is pointed out.
    assert!(
        experts(&d)
            .iter()
            .any(|(s, n, _)| *s == Severity::Note && n == "error-status")
    );
}

fn subject_pdu(subject_value: &[u8]) -> Vec<u8> {
    cat(&[
        &[0x8C, 0x80], // m-send-req
        &[0x98],
        &t("s-1"),
        &[0x8D, 0x92],
        &[0x89, 0x01, 0x81], // From: Insert-address-token
        &[0x97],
        &t("+1555/TYPE=PLMN"),
        &[0x96],
        subject_value, // Subject
        &[0x84, 0x83], // Content-Type: text/plain
        b"hi",
    ])
}

#[test]
fn charset_decoded_subjects() {
    // ISO-8859-1 (MIBenum 4 = short-integer 0x84): "café" with é = 0xE9.
    let (d, s) = dissect(&subject_pdu(&[0x06, 0x84, b'c', b'a', b'f', 0xE9, 0x00]));
    no_warnings(&d);
    assert_eq!(s.subject.as_deref(), Some("café"));
    assert_eq!(s.from.as_deref(), Some("<insert-address-token>"));
    // UTF-8 (106 = 0xEA).
    let (_, s) = dissect(&subject_pdu(&[
        0x07, 0xEA, b'c', b'a', b'f', 0xC3, 0xA9, 0x00,
    ]));
    assert_eq!(s.subject.as_deref(), Some("café"));
    // Shift_JIS (17 = 0x91): "テスト".
    let (d, s) = dissect(&subject_pdu(&[
        0x08, 0x91, 0x83, 0x65, 0x83, 0x58, 0x83, 0x67, 0x00,
    ]));
    no_warnings(&d);
    assert_eq!(s.subject.as_deref(), Some("テスト"));
    // The charset-decoded text is in a derived buffer, as UTF-8.
    let dec = node(&d, "Subject").child("Decoded text").unwrap();
    assert_eq!(
        &d.buffers[dec.buffer as usize].data[..],
        "テスト".as_bytes()
    );
    // UTF-16 (1015) as a 3-octet long-integer charset: 0x02 0x03 0xF7; BOM FE FF; "cé";
    // End-of-string as two NUL octets.
    let v = [
        0x0B, 0x02, 0x03, 0xF7, 0xFE, 0xFF, 0x00, b'c', 0x00, 0xE9, 0x00, 0x00,
    ];
    let (d, s) = dissect(&subject_pdu(&v));
    no_warnings(&d);
    assert_eq!(s.subject.as_deref(), Some("cé"));
    assert_eq!(
        node(&d, "Subject").child("Charset").unwrap().display,
        "UTF-16 (1015)"
    );
    // UCS-2 (1000 = 0x03E8) with a little-endian BOM.
    let v = [0x09, 0x02, 0x03, 0xE8, 0xFF, 0xFE, 0x1F, 0x04, 0x00, 0x00];
    let (_, s) = dissect(&subject_pdu(&v));
    assert_eq!(s.subject.as_deref(), Some("П"));
    // An unknown charset: the octets are shown and the note says so.
    let (d, s) = dissect(&subject_pdu(&[0x05, 0x02, 0x7F, 0x00, b'A', 0x00]));
    assert_eq!(s.subject.as_deref(), Some("41"));
    assert!(
        experts(&d)
            .iter()
            .any(|(_, n, m)| n == "charset" && m.contains("unknown charset MIBenum 32512"))
    );
}

#[test]
fn response_text_utf16_in_send_conf() {
    let pdu = cat(&[
        &[0x8C, 0x81],
        &[0x98],
        &t("s-1"),
        &[0x8D, 0x92],
        &[0x92, 0xE1], // Response-Status: Error-permanent-service-denied
        // Response-Text: Value-length 9, UTF-16BE (1013 = 0x03F5) as long-integer, "No", NUL NUL
        &[
            0x93, 0x09, 0x02, 0x03, 0xF5, 0x00, b'N', 0x00, b'o', 0x00, 0x00,
        ],
    ]);
    let (d, s) = dissect(&pdu);
    assert_eq!(
        s.response_status.as_deref(),
        Some("Error-permanent-service-denied")
    );
    assert_eq!(s.response_text.as_deref(), Some("No"));
    assert_eq!(s.errors + s.warnings, 0, "{:?}", experts(&d));
}

#[test]
fn integers_longer_than_4_octets() {
    let mut base = cat(&[
        &[0x8C, 0x82],
        &[0x98],
        &t("n"),
        &[0x8D, 0x92],
        &[0x8A, 0x80],
        // Message-Size: long-integer of 5 octets = 2^32 + 1
        &[0x8E, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01],
        // Expiry: absolute, Date-value of 5 octets (0x01_0000_0000 s)
        &[0x88, 0x07, 0x80, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00],
        &[0x83],
        &t("http://x"),
    ]);
    let (d, s) = dissect(&base);
    no_warnings(&d);
    assert_eq!(s.message_size, Some((1 << 32) + 1));
    assert_eq!(node(&d, "X-Mms-Expiry").value, Value::Time(1 << 32));
    // Message-Size of 10 octets: does not fit 64 bits, kept as octets (not truncated).
    base.extend([0x9F, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // Reply-Charging-Size
    let (d, _) = dissect(&base);
    let n = node(&d, "X-Mms-Reply-Charging-Size");
    assert_eq!(
        (n.display.as_str(), &n.value),
        ("0x0102030405060708090A", &Value::Bytes)
    );
}

/// Multipart entry: HeadersLen, DataLen (one uintvar octet each here), ContentType, Headers, Data.
fn entry(ct: &[u8], headers: &[u8], data: &[u8]) -> Vec<u8> {
    cat(&[
        &[(ct.len() + headers.len()) as u8, data.len() as u8],
        ct,
        headers,
        data,
    ])
}

#[test]
fn textual_and_nested_multipart_with_zero_length_part() {
    // Inner multipart/related: text/plain; charset=UTF-8 "hé", and an empty image/gif.
    let inner = cat(&[
        &[0x02], // nEntries
        &entry(
            &[0x03, 0x83, 0x81, 0xEA],
            &cat(&[&[0xC0, 0x22], &t("<t>")]),
            "hé".as_bytes(),
        ),
        &entry(&[0x9D], &cat(&[&[0x8E], &t("empty.gif")]), b""),
    ]);
    // UCS-2 text part: charset 1000 as long-integer (0x02 0x03 0xE8), BOM FE FF, "Hi".
    let ucs2 = entry(
        &[0x05, 0x83, 0x81, 0x02, 0x03, 0xE8],
        &[],
        &[0xFE, 0xFF, 0x00, b'H', 0x00, b'i'],
    );
    let body = cat(&[
        &[0x02],
        &entry(&[0xB3], &[], &inner), // application/vnd.wap.multipart.related (nested)
        &ucs2,
    ]);
    let pdu = cat(&[
        &[0x8C, 0x84], // m-retrieve-conf
        &[0x98],
        &t("r-1"),
        &[0x8D, 0x92],
        &[0x85, 0x04, 0x5F, 0x00, 0x00, 0x00], // Date
        // Content-Type as text (textual media type; WSP allows Extension-media)
        &[0x84],
        &t("application/vnd.wap.multipart.mixed"),
        &body,
    ]);
    let (d, s) = dissect(&pdu);
    no_warnings(&d);
    let parts: Vec<_> = s
        .parts
        .iter()
        .map(|p| (p.content_type.as_str(), p.size))
        .collect();
    assert_eq!(
        parts,
        [
            ("application/vnd.wap.multipart.related", inner.len()),
            ("text/plain", 6)
        ]
    );
    let b = node(&d, "Body");
    let p1 = b.child("Part 1").unwrap();
    let nested = p1.child("Multipart").unwrap();
    let inner1 = nested.child("Part 1.1").unwrap();
    assert_eq!(
        inner1.child("Text").unwrap().value,
        Value::Text("hé".into())
    );
    assert_eq!(inner1.child("Content-ID").unwrap().display, "<t>");
    let inner2 = nested.child("Part 1.2").unwrap();
    assert_eq!(inner2.child("Data").unwrap().range.len(), 0);
    assert_eq!(
        inner2.child("Content-Location").unwrap().display,
        "empty.gif"
    );
    let p2 = b.child("Part 2").unwrap();
    assert_eq!(p2.child("Text").unwrap().value, Value::Text("Hi".into()));
}

#[test]
fn unknown_type_and_header_are_named_and_decoding_continues() {
    let pdu = cat(&[
        &[0x8C, 0x9A], // unassigned message type
        &[0x98],
        &t("u-1"),
        &[0x8D, 0x92],
        &[0xC5, 0x85], // unassigned header 0xC5 with a short-integer value
        &[0xC6],
        &t("txt"),        // unassigned header 0xC6 with a text value
        b"X-Custom\0v\0", // application header
        &[0x96],
        &t("still decoded"),
    ]);
    let (d, s) = dissect(&pdu);
    assert_eq!(s.message_type.as_deref(), Some("unknown-0x9A"));
    assert_eq!(s.transaction_id.as_deref(), Some("u-1"));
    assert_eq!(s.subject.as_deref(), Some("still decoded"));
    assert!(d.layers[0].child("unknown-header-0xC5").is_some());
    assert_eq!(node(&d, "X-Custom").display, "v");
    let ex = experts(&d);
    assert!(ex.iter().any(|(_, n, _)| n == "unknown-message-type"));
    assert_eq!(
        ex.iter().filter(|(_, n, _)| n == "unknown-header").count(),
        2
    );
    assert_eq!(s.errors, 0);
}

#[test]
fn order_duplicates_missing_headers() {
    let pdu = cat(&[
        &[0x8C, 0x81],
        &[0x8D, 0x92], // version before transaction id
        &[0x98],
        &t("x"),
        &[0x8B],
        &t("m1"),
        &[0x8B],
        &t("m2"), // duplicated Message-ID
    ]);
    let (d, s) = dissect(&pdu);
    let ex = experts(&d);
    assert!(
        ex.iter().any(|(_, n, m)| n == "header-order"
            && m.contains("X-Mms-Transaction-Id should be header #2"))
    );
    assert!(
        ex.iter()
            .any(|(_, n, m)| n == "duplicate-header" && m.contains("Message-ID"))
    );
    assert!(
        ex.iter()
            .any(|(_, n, m)| n == "missing-header" && m.contains("X-Mms-Response-Status"))
    );
    assert_eq!(s.message_id.as_deref(), Some("m1"));
}

#[test]
fn lengths_past_the_end_say_where_and_what() {
    // Subject with Value-length 20 but only 3 octets left.
    let pdu = cat(&[
        &[0x8C, 0x80, 0x98],
        &t("a"),
        &[0x8D, 0x92, 0x96, 0x14, 0xEA, b'x', 0x00],
    ]);
    let (d, s) = dissect(&pdu);
    assert_eq!(s.errors, 1);
    let e = d.layers[0]
        .walk()
        .find(|n| n.expert == Some(Severity::Error))
        .unwrap();
    assert_eq!(e.range.start, 8);
    assert!(e.display.contains("value of 20 octets"), "{}", e.display);
    // uintvar in a multipart count longer than 5 octets.
    let pdu = cat(&[
        &[0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x01, 0x84, 0xA3],
        &[0x81, 0x81, 0x81, 0x81, 0x81, 0x01],
    ]);
    let (d, _) = dissect(&pdu);
    let e = d.layers[0]
        .walk()
        .find(|n| n.expert == Some(Severity::Error))
        .unwrap();
    assert_eq!(e.name, "overflow");
    assert_eq!(e.range.start, 9);
}

#[test]
fn previously_sent_by_and_date_with_index() {
    let by = cat(&[&[0x81], &t("+1/TYPE=PLMN")]); // forward counter 1, address
    let pdu = cat(&[
        &[0x8C, 0x84, 0x8D, 0x92],
        &[0x85, 0x01, 0x05], // Date 5
        &[0xA0, by.len() as u8],
        &by,                             // Previously-Sent-By
        &[0xA1, 0x03, 0x81, 0x01, 0x09], // Previously-Sent-Date: [1] 9 s
        &[0x84, 0x83],
        b"x",
    ]);
    let (d, _) = dissect(&pdu);
    no_warnings(&d);
    assert_eq!(
        node(&d, "X-Mms-Previously-Sent-By").display,
        "[1] +1/TYPE=PLMN"
    );
    assert_eq!(
        node(&d, "X-Mms-Previously-Sent-Date").display,
        "[1] 1970-01-01T00:00:09Z"
    );
}

#[test]
fn cli_decode_text_json_and_exit_codes() {
    let exe = env!("CARGO_BIN_EXE_mmscope");
    let out = std::process::Command::new(exe)
        .args(["decode", "--json", "tests/data/pdus/f_notification_ind.mms"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["message_type"], "m-notification-ind");
    assert_eq!(j["transaction_id"], "F-NOTIF-0001");
    assert_eq!(j["size"], 107);
    assert_eq!(j["tree"][0]["name"], "MMS");
    // Text: one line per node with its byte range.
    let out = std::process::Command::new(exe)
        .args(["decode", "tests/data/pdus/f_notification_ind.mms"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("    X-Mms-Message-Size: 502  [63..67]"),
        "{text}"
    );
    // Malformed input still exits 0 (the errors are in the tree).
    let out = std::process::Command::new(exe)
        .args(["decode", "tests/data/public/test_settings__Empty.conf"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[Error: not-mms]"));
    // A file that cannot be read: non-zero and a message on stderr.
    let out = std::process::Command::new(exe)
        .args(["decode", "tests/data/does-not-exist.mms"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn related_start_parameter_must_name_a_part() {
    // Content-Type general form: Value-length, 0xB3 multipart.related, Start (0x8A) "<s>",
    // Type (0x89) "application/smil"; the one part is text/plain with Content-ID "<x>".
    let ct = cat(&[&[0xB3, 0x8A], &t("<s>"), &[0x89], &t("application/smil")]);
    let body = cat(&[
        &[0x01],
        &entry(&[0x83], &cat(&[&[0xC0, 0x22], &t("<x>")]), b"a"),
    ]);
    let pdu = cat(&[
        &[0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x05],
        &[0x84, ct.len() as u8],
        &ct,
        &body,
    ]);
    let (d, _) = dissect(&pdu);
    assert!(experts(&d).iter().any(|(s, n, m)| *s == Severity::Warning
        && n == "start-part"
        && m.contains("\"<s>\" names no part")));
    // Now the part is "<s>" but text/plain while Type says application/smil.
    let body = cat(&[
        &[0x01],
        &entry(&[0x83], &cat(&[&[0xC0, 0x22], &t("<s>")]), b"a"),
    ]);
    let pdu = cat(&[
        &[0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x05],
        &[0x84, ct.len() as u8],
        &ct,
        &body,
    ]);
    let (d, _) = dissect(&pdu);
    assert!(
        experts(&d)
            .iter()
            .any(|(_, n, m)| n == "start-part" && m.contains("start part (part 1) is text/plain"))
    );
}

#[test]
fn nesting_depth_is_bounded() {
    // 12 multiparts nested in each other (each: 1 entry, content type 0xA3 mixed).
    let mut inner = cat(&[&[0x01], &entry(&[0x83], &[], b"z")]);
    for _ in 0..12 {
        let e = cat(&[&[0x01], &[0x01], &uintvar(inner.len()), &[0xA3], &inner]);
        inner = e;
    }
    let pdu = cat(&[
        &[0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x05, 0x84, 0xA3],
        &inner,
    ]);
    let (d, s) = dissect(&pdu);
    let limit: Vec<_> = experts(&d)
        .into_iter()
        .filter(|(_, n, _)| n == "limit")
        .collect();
    assert_eq!(limit.len(), 1, "{limit:?}");
    assert!(limit[0].2.contains("nesting deeper than 8"));
    assert_eq!(s.errors, 0);
}

/// Uintvar encoding (for building test PDUs).
fn uintvar(mut n: usize) -> Vec<u8> {
    let mut v = vec![(n & 0x7F) as u8];
    n >>= 7;
    while n > 0 {
        v.insert(0, 0x80 | (n & 0x7F) as u8);
        n >>= 7;
    }
    v
}

#[test]
fn embedded_pdu_in_mbox_view_conf_is_decoded() {
    // m-mbox-view-conf whose body holds one application/vnd.wap.mms-message part (0xBE): an
    // m-mbox-descr (0x93) with Message-ID and MMS version.
    let descr = cat(&[&[0x8C, 0x93, 0x8D, 0x92, 0x8B], &t("stored-1")]);
    let body = cat(&[&[0x01], &[0x01, descr.len() as u8, 0xBE], &descr]);
    let pdu = cat(&[
        &[0x8C, 0x8E, 0x98],
        &t("v"),
        &[0x8D, 0x92, 0x92, 0x80],
        &[0x84, 0xA3], // Content-Type: multipart.mixed
        &body,
    ]);
    let (d, s) = dissect(&pdu);
    no_warnings(&d);
    assert_eq!(s.parts[0].content_type, "application/vnd.wap.mms-message");
    let emb = d.layers[0]
        .walk()
        .find(|n| n.name == "Embedded MMS PDU")
        .unwrap();
    assert_eq!(emb.display, "m-mbox-descr, MMS 1.2");
    assert_eq!(emb.child("Message-ID").unwrap().display, "stored-1");
}

#[test]
fn message_size_is_checked_where_the_message_is_in_the_pdu() {
    // m-retrieve-conf carrying X-Mms-Message-Size 99 while the PDU is 12 octets.
    let pdu = [
        0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x05, 0x8E, 0x01, 0x63, 0x84, 0x83,
    ];
    let (d, _) = dissect(&pdu);
    assert!(experts(&d).iter().any(|(s, n, m)| *s == Severity::Note
        && n == "message-size"
        && m.contains("says 99 octets, this PDU is 12")));
}
