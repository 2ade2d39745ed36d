//! A realistic [`Analysis`] built in code: the five MMS PDUs of `captures/http_mm1_basic.pcapng`
//! (see `captures/MANIFEST.md`), with the frames, times and endpoints tshark shows for them, and
//! dissections whose buffers hold the real HTTP messages (headers as on the wire, bodies from
//! `tests/data/pdus/h_*.mms`) and hand-built node trees with byte ranges over those bytes.
//!
//! Used by the TUI's tests and its documentation screenshot; it never reads a file at run time.

use crate::model::{
    Analysis, Carrier, MmsSummary, Outcome, PartSummary, PduRecord, Stats, Timestamp, Transaction,
    TransactionKind, Transport, socket_addr_string,
};
use crate::tree::{Buffer, Dissection, FrameSpan, Node, Value};
use std::net::SocketAddr;

pub const SEND_REQ: &[u8] = include_bytes!("../../tests/data/pdus/h_send_req.mms");
pub const SEND_CONF: &[u8] = include_bytes!("../../tests/data/pdus/h_send_conf.mms");
pub const NOTIFYRESP_IND: &[u8] = include_bytes!("../../tests/data/pdus/h_notifyresp_ind.mms");
pub const RETRIEVE_CONF: &[u8] = include_bytes!("../../tests/data/pdus/h_retrieve_conf.mms");
pub const ACKNOWLEDGE_IND: &[u8] = include_bytes!("../../tests/data/pdus/h_acknowledge_ind.mms");
pub const NOTIFICATION_IND: &[u8] = include_bytes!("../../tests/data/pdus/h_notification_ind.mms");

const MMSC: &str = "127.0.0.1:80";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("fixture address")
}

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp { secs, nanos }
}

/// An HTTP message (start line, headers, body) as one buffer, with its "HTTP" layer node.
/// `frames` gives the frame of the header block and the frame of the body (the same frame when
/// one segment carried both).
fn http_message(
    start_line: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    header_frame: u64,
    body_frame: u64,
    buffer_name: &str,
) -> (Buffer, Node, usize) {
    let mut bytes = Vec::new();
    let mut children = Vec::new();
    bytes.extend_from_slice(start_line.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    let is_request = !start_line.starts_with("HTTP/");
    children.push(Node::new(
        if is_request {
            "Request line"
        } else {
            "Status line"
        },
        start_line,
        Value::Text(start_line.into()),
        0..bytes.len(),
    ));
    for (name, value) in headers {
        let start = bytes.len();
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        children.push(Node::new(
            *name,
            *value,
            Value::Text((*value).into()),
            start..bytes.len(),
        ));
    }
    bytes.extend_from_slice(b"\r\n");
    let header_len = bytes.len();
    bytes.extend_from_slice(body);
    if !body.is_empty() {
        children.push(Node::new(
            "Body",
            format!("application/vnd.wap.mms-message, {} bytes", body.len()),
            Value::Bytes,
            header_len..bytes.len(),
        ));
    }
    let layer = Node::group("HTTP", start_line.to_string(), 0..bytes.len()).with_children(children);
    let mut buffer = Buffer::new(buffer_name, bytes.clone());
    buffer.origin = if header_frame == body_frame {
        vec![FrameSpan {
            offset: 0,
            len: bytes.len(),
            frame: header_frame,
        }]
    } else {
        vec![
            FrameSpan {
                offset: 0,
                len: header_len,
                frame: header_frame,
            },
            FrameSpan {
                offset: header_len,
                len: body.len(),
                frame: body_frame,
            },
        ]
    };
    (buffer, layer, header_len)
}

/// Consecutive MMS header fields: (name, display, value, encoded length in bytes).
fn fields(start: usize, specs: Vec<(&str, &str, Value, usize)>) -> (Vec<Node>, usize) {
    let mut at = start;
    let mut out = Vec::new();
    for (name, display, value, len) in specs {
        out.push(Node::new(name, display, value, at..at + len));
        at += len;
    }
    (out, at)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn message_type(code: u64, name: &str) -> (&'static str, String, Value, usize) {
    (
        "X-Mms-Message-Type",
        format!("{name} (0x{code:02x})"),
        Value::Enum {
            code,
            name: name.into(),
        },
        2,
    )
}

/// The body of h_send_req / h_retrieve_conf: application/vnd.wap.multipart.related with a SMIL
/// part (347 bytes) and a text/plain part (33 bytes), starting at `at` (the nEntries octet) of
/// `pdu`. Names and shapes as the MMS dissector makes them (src/mms/body.rs).
fn two_part_body(pdu: &[u8], at: usize) -> Node {
    let text_node = |name: &str, range: std::ops::Range<usize>| {
        let text = String::from_utf8_lossy(&pdu[range.clone()]).into_owned();
        let mut shown: String = text.chars().take(60).collect();
        if text.chars().count() > 60 {
            shown.push('…');
        }
        Node::new(
            name,
            crate::tree::escape_text(&shown),
            Value::Text(text),
            range,
        )
    };
    let p1 = at + 1;
    let part1 =
        Node::group("Part 1", "application/smil (347 octets)", p1..p1 + 385).with_children(vec![
            Node::new("Headers length", "35", Value::UInt(35), p1..p1 + 1),
            Node::new("Data length", "347", Value::UInt(347), p1 + 1..p1 + 3),
            Node::new(
                "Content-Type",
                "application/smil",
                text("application/smil"),
                p1 + 3..p1 + 20,
            ),
            Node::new("Content-ID", "<0000>", text("<0000>"), p1 + 20..p1 + 38),
            text_node("SMIL", p1 + 38..p1 + 385),
        ]);
    let p2 = p1 + 385;
    let part2 = Node::group("Part 2", "text/plain (33 octets)", p2..p2 + 36).with_children(vec![
        Node::new("Headers length", "1", Value::UInt(1), p2..p2 + 1),
        Node::new("Data length", "33", Value::UInt(33), p2 + 1..p2 + 2),
        Node::new(
            "Content-Type",
            "text/plain",
            text("text/plain"),
            p2 + 2..p2 + 3,
        ),
        text_node("Text", p2 + 3..p2 + 36),
    ]);
    Node::group(
        "Body",
        format!("multipart, 2 part(s), {} octets", p2 + 36 - at),
        at..p2 + 36,
    )
    .with_children(vec![
        Node::new("Entries", "2", Value::UInt(2), at..at + 1),
        part1,
        part2,
    ])
}

fn parts_summary() -> Vec<PartSummary> {
    vec![
        PartSummary {
            content_type: "application/smil".into(),
            size: 347,
            name: None,
            content_location: None,
            content_id: Some("<0000>".into()),
        },
        PartSummary {
            content_type: "text/plain".into(),
            size: 33,
            name: None,
            content_location: None,
            content_id: None,
        },
    ]
}

fn mms_layer(type_name: &str, body: &[u8], mut children: Vec<Node>, shift: usize) -> Node {
    // as the MMS dissector titles its layer: "m-send-req, tid H-SEND-0001, MMS 1.0"
    let tid = children
        .iter()
        .find(|c| c.name == "X-Mms-Transaction-Id")
        .map(|c| format!(", tid {}", c.display))
        .unwrap_or_default();
    let mut n = Node::group("MMS", format!("{type_name}{tid}, MMS 1.0"), 0..body.len())
        .with_children(std::mem::take(&mut children));
    n.shift(shift);
    n
}

#[allow(clippy::too_many_arguments)]
fn record(
    index: usize,
    frames: &[u64],
    time: Timestamp,
    src: &str,
    dst: &str,
    carrier: Carrier,
    mms: MmsSummary,
    dissection: Dissection,
) -> PduRecord {
    PduRecord {
        index,
        frame: *frames.last().unwrap(),
        frames: frames.to_vec(),
        time,
        src: addr(src),
        dst: addr(dst),
        transport: Transport::Http,
        carrier,
        mms,
        retransmission_of: None,
        transport_notes: Vec::new(),
        dissection,
    }
}

const REQUEST_HEADERS: [(&str, &str); 4] = [
    ("Host", "127.0.0.1"),
    ("User-Agent", "MMSLab-Handset/1.0 (curl)"),
    ("x-wap-profile", "\"http://127.0.0.1/uaprof.rdf\""),
    ("Accept", "application/vnd.wap.mms-message, */*"),
];

fn post(body: &[u8]) -> Vec<(&'static str, String)> {
    let mut h: Vec<(&str, String)> = REQUEST_HEADERS
        .iter()
        .map(|(n, v)| (*n, v.to_string()))
        .collect();
    h.push(("Content-Type", "application/vnd.wap.mms-message".into()));
    h.push(("Content-Length", body.len().to_string()));
    h
}

fn reply(date: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("Server", "MMSCStub/1.0 Python/3.11.2".into()),
        ("Date", date.into()),
        ("Content-Type", "application/vnd.wap.mms-message".into()),
        ("Content-Length", body.len().to_string()),
    ]
}

fn dissect(
    start_line: &str,
    headers: Vec<(&'static str, String)>,
    body: &[u8],
    frames: (u64, u64),
    stream: &str,
    type_name: &str,
    mms_children: Vec<Node>,
) -> Dissection {
    let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (buffer, http, header_len) = http_message(start_line, &h, body, frames.0, frames.1, stream);
    let mut d = Dissection::default();
    let b = d.add_buffer(buffer);
    d.add_layer(http, b);
    d.add_layer(mms_layer(type_name, body, mms_children, header_len), b);
    d
}

fn carrier(
    method: Option<&str>,
    uri: Option<&str>,
    status: Option<u16>,
    summary: &str,
    flow: u64,
    resp: bool,
) -> Carrier {
    Carrier {
        method: method.map(Into::into),
        uri: uri.map(Into::into),
        status,
        summary: summary.into(),
        exchange: Some((flow, 0)),
        is_response: resp,
    }
}

/// The five PDUs of http_mm1_basic.pcapng, in capture order.
pub fn http_mm1_basic_pdus() -> Vec<PduRecord> {
    let v10 = || ("X-Mms-MMS-Version", "1.0".to_string(), text("1.0"), 2usize);
    let own = |t: (&'static str, String, Value, usize)| t;
    let spec = |v: Vec<(&'static str, String, Value, usize)>, start: usize| {
        let specs = v
            .iter()
            .map(|(n, d, val, l)| (*n, d.as_str(), val.clone(), *l))
            .collect();
        fields(start, specs).0
    };

    // 1. m-send-req, frame 4.
    let mut c = spec(
        vec![
            own(message_type(0x80, "m-send-req")),
            (
                "X-Mms-Transaction-Id",
                "H-SEND-0001".into(),
                text("H-SEND-0001"),
                13,
            ),
            v10(),
            (
                "From",
                "<insert-address-token>".into(),
                text("<insert-address-token>"),
                3,
            ),
            (
                "To",
                "+15551230002/TYPE=PLMN".into(),
                text("+15551230002/TYPE=PLMN"),
                24,
            ),
            ("Subject", "Lab H basic".into(), text("Lab H basic"), 13),
            (
                "Content-Type",
                "application/vnd.wap.multipart.related (0x33)".into(),
                text("application/vnd.wap.multipart.related"),
                2,
            ),
        ],
        0,
    );
    c.push(two_part_body(SEND_REQ, 59));
    let d0 = dissect(
        "POST /mmsc HTTP/1.1",
        post(SEND_REQ),
        SEND_REQ,
        (4, 4),
        "TCP 127.0.0.1:57388 → 127.0.0.1:80",
        "m-send-req",
        c,
    );
    let p0 = record(
        0,
        &[4],
        ts(1795554883, 984848616),
        "127.0.0.1:57388",
        MMSC,
        carrier(Some("POST"), Some("/mmsc"), None, "POST /mmsc", 0, false),
        MmsSummary {
            message_type: Some("m-send-req".into()),
            message_type_code: Some(0x80),
            transaction_id: Some("H-SEND-0001".into()),
            mms_version: Some("1.0".into()),
            from: Some("<insert-address-token>".into()),
            to: vec!["+15551230002/TYPE=PLMN".into()],
            subject: Some("Lab H basic".into()),
            content_type: Some("application/vnd.wap.multipart.related".into()),
            parts: parts_summary(),
            ..Default::default()
        },
        d0,
    );

    // 2. m-send-conf: headers in frame 6, body in frame 8.
    let c = spec(
        vec![
            own(message_type(0x81, "m-send-conf")),
            (
                "X-Mms-Transaction-Id",
                "H-SEND-0001".into(),
                text("H-SEND-0001"),
                13,
            ),
            v10(),
            (
                "X-Mms-Response-Status",
                "Ok (0x80)".into(),
                Value::Enum {
                    code: 0x80,
                    name: "Ok".into(),
                },
                2,
            ),
            (
                "Message-ID",
                "H-MSG-0001@mmsc.lab".into(),
                text("H-MSG-0001@mmsc.lab"),
                21,
            ),
        ],
        0,
    );
    let d1 = dissect(
        "HTTP/1.1 200 OK",
        reply("Tue, 24 Nov 2026 21:14:43 GMT", SEND_CONF),
        SEND_CONF,
        (6, 8),
        "TCP 127.0.0.1:80 → 127.0.0.1:57388",
        "m-send-conf",
        c,
    );
    let p1 = record(
        1,
        &[6, 8],
        ts(1795554883, 985798729),
        MMSC,
        "127.0.0.1:57388",
        carrier(None, None, Some(200), "HTTP/1.1 200 OK", 0, true),
        MmsSummary {
            message_type: Some("m-send-conf".into()),
            message_type_code: Some(0x81),
            transaction_id: Some("H-SEND-0001".into()),
            message_id: Some("H-MSG-0001@mmsc.lab".into()),
            mms_version: Some("1.0".into()),
            response_status: Some("Ok".into()),
            ..Default::default()
        },
        d1,
    );

    // 3. m-notifyresp-ind, frame 16.
    let c = spec(
        vec![
            own(message_type(0x83, "m-notifyresp-ind")),
            (
                "X-Mms-Transaction-Id",
                "H-NOTIF-0001".into(),
                text("H-NOTIF-0001"),
                14,
            ),
            v10(),
            (
                "X-Mms-Status",
                "Deferred (0x83)".into(),
                Value::Enum {
                    code: 0x83,
                    name: "Deferred".into(),
                },
                2,
            ),
        ],
        0,
    );
    let d2 = dissect(
        "POST /mmsc HTTP/1.1",
        post(NOTIFYRESP_IND),
        NOTIFYRESP_IND,
        (16, 16),
        "TCP 127.0.0.1:57396 → 127.0.0.1:80",
        "m-notifyresp-ind",
        c,
    );
    let p2 = record(
        2,
        &[16],
        ts(1795554883, 994458944),
        "127.0.0.1:57396",
        MMSC,
        carrier(Some("POST"), Some("/mmsc"), None, "POST /mmsc", 1, false),
        MmsSummary {
            message_type: Some("m-notifyresp-ind".into()),
            message_type_code: Some(0x83),
            transaction_id: Some("H-NOTIF-0001".into()),
            mms_version: Some("1.0".into()),
            status: Some("Deferred".into()),
            ..Default::default()
        },
        d2,
    );

    // 4. m-retrieve-conf: headers in frame 28, body in frame 30.
    let mut c = spec(
        vec![
            own(message_type(0x84, "m-retrieve-conf")),
            (
                "X-Mms-Transaction-Id",
                "H-RETR-0001".into(),
                text("H-RETR-0001"),
                13,
            ),
            v10(),
            (
                "Message-ID",
                "H-MSG-0001@mmsc.lab".into(),
                text("H-MSG-0001@mmsc.lab"),
                21,
            ),
            (
                "From",
                "+15551230001/TYPE=PLMN".into(),
                text("+15551230001/TYPE=PLMN"),
                26,
            ),
            (
                "To",
                "+15551230002/TYPE=PLMN".into(),
                text("+15551230002/TYPE=PLMN"),
                24,
            ),
            (
                "Date",
                "2026-01-01 00:00:00 UTC".into(),
                Value::Time(1767225600),
                6,
            ),
            ("Subject", "Lab H basic".into(), text("Lab H basic"), 13),
            (
                "Content-Type",
                "application/vnd.wap.multipart.related (0x33)".into(),
                text("application/vnd.wap.multipart.related"),
                2,
            ),
        ],
        0,
    );
    c.push(two_part_body(RETRIEVE_CONF, 109));
    let d3 = dissect(
        "HTTP/1.1 200 OK",
        reply("Tue, 24 Nov 2026 21:14:44 GMT", RETRIEVE_CONF),
        RETRIEVE_CONF,
        (28, 30),
        "TCP 127.0.0.1:80 → 127.0.0.1:57404",
        "m-retrieve-conf",
        c,
    );
    let p3 = record(
        3,
        &[28, 30],
        ts(1795554884, 4665921),
        MMSC,
        "127.0.0.1:57404",
        carrier(
            Some("GET"),
            Some("/mms/H-MSG-0001"),
            Some(200),
            "HTTP/1.1 200 OK (GET /mms/H-MSG-0001)",
            2,
            true,
        ),
        MmsSummary {
            message_type: Some("m-retrieve-conf".into()),
            message_type_code: Some(0x84),
            transaction_id: Some("H-RETR-0001".into()),
            message_id: Some("H-MSG-0001@mmsc.lab".into()),
            mms_version: Some("1.0".into()),
            from: Some("+15551230001/TYPE=PLMN".into()),
            to: vec!["+15551230002/TYPE=PLMN".into()],
            subject: Some("Lab H basic".into()),
            date: Some(1767225600),
            content_type: Some("application/vnd.wap.multipart.related".into()),
            parts: parts_summary(),
            ..Default::default()
        },
        d3,
    );

    // 5. m-acknowledge-ind, frame 38.
    let c = spec(
        vec![
            own(message_type(0x85, "m-acknowledge-ind")),
            (
                "X-Mms-Transaction-Id",
                "H-RETR-0001".into(),
                text("H-RETR-0001"),
                13,
            ),
            v10(),
        ],
        0,
    );
    let d4 = dissect(
        "POST /mmsc HTTP/1.1",
        post(ACKNOWLEDGE_IND),
        ACKNOWLEDGE_IND,
        (38, 38),
        "TCP 127.0.0.1:57410 → 127.0.0.1:80",
        "m-acknowledge-ind",
        c,
    );
    let p4 = record(
        4,
        &[38],
        ts(1795554884, 13830462),
        "127.0.0.1:57410",
        MMSC,
        carrier(Some("POST"), Some("/mmsc"), None, "POST /mmsc", 3, false),
        MmsSummary {
            message_type: Some("m-acknowledge-ind".into()),
            message_type_code: Some(0x85),
            transaction_id: Some("H-RETR-0001".into()),
            mms_version: Some("1.0".into()),
            ..Default::default()
        },
        d4,
    );
    vec![p0, p1, p2, p3, p4]
}

/// The WAP push of h_notification_ind (captures/wap_push_ppg.pcapng, push #2, frame 19): a
/// connectionless WSP Push PDU from Kannel's PPG (UDP 9200) to the handset's port 2948, its
/// header bytes as tshark shows them, the MMS PDU after them.
pub fn wap_push_notification(index: usize) -> PduRecord {
    let ct = b"application/vnd.wap.mms-message\0";
    let mut udp = vec![0x01, 0x06, 0x47];
    udp.extend_from_slice(ct);
    udp.extend_from_slice(&[0xaf, 0x84]);
    udp.extend_from_slice(b"Content-Transfer-Encoding\0binary\0");
    udp.extend_from_slice(&[0x8d, 0xe7, 0xc3, 0x93]);
    let body_at = udp.len();
    udp.extend_from_slice(NOTIFICATION_IND);
    let wsp = Node::group("WSP", "Push (application/vnd.wap.mms-message)", 0..body_at)
        .with_children(vec![
            Node::new("Transaction ID", "0x01", Value::UInt(1), 0..1),
            Node::new(
                "PDU Type",
                "Push (0x06)",
                Value::Enum {
                    code: 6,
                    name: "Push".into(),
                },
                1..2,
            ),
            Node::new("Headers length", "71", Value::UInt(71), 2..3),
            Node::new(
                "Content-Type",
                "application/vnd.wap.mms-message",
                text("application/vnd.wap.mms-message"),
                3..35,
            ),
            Node::new(
                "X-Wap-Application-Id",
                "x-wap-application:mms.ua (0x04)",
                Value::Enum {
                    code: 4,
                    name: "x-wap-application:mms.ua".into(),
                },
                35..37,
            ),
            Node::new(
                "Content-Transfer-Encoding",
                "binary",
                text("binary"),
                37..70,
            ),
            Node::new("Content-Length", "103", Value::UInt(103), 70..72),
            Node::new("Encoding-Version", "1.3", text("1.3"), 72..74),
        ]);
    let (mms, _) = fields(
        0,
        vec![
            (
                "X-Mms-Message-Type",
                "m-notification-ind (0x82)",
                Value::Enum {
                    code: 0x82,
                    name: "m-notification-ind".into(),
                },
                2,
            ),
            (
                "X-Mms-Transaction-Id",
                "H-NOTIF-0001",
                text("H-NOTIF-0001"),
                14,
            ),
            ("X-Mms-MMS-Version", "1.0", text("1.0"), 2),
            (
                "From",
                "+15551230001/TYPE=PLMN",
                text("+15551230001/TYPE=PLMN"),
                26,
            ),
            ("Subject", "Lab H basic", text("Lab H basic"), 13),
            (
                "X-Mms-Message-Class",
                "Personal (0x80)",
                Value::Enum {
                    code: 0x80,
                    name: "Personal".into(),
                },
                2,
            ),
            ("X-Mms-Message-Size", "531", Value::UInt(531), 4),
            (
                "X-Mms-Expiry",
                "86400 seconds (relative)",
                Value::Duration(86400),
                7,
            ),
            (
                "X-Mms-Content-Location",
                "http://127.0.0.1/mms/H-MSG-0001",
                text("http://127.0.0.1/mms/H-MSG-0001"),
                33,
            ),
        ],
    );
    let mut d = Dissection::default();
    let mut buffer = Buffer::new("UDP payload 127.0.0.1:9200 → 127.0.0.1:2948", udp.clone());
    buffer.origin = vec![FrameSpan {
        offset: 0,
        len: udp.len(),
        frame: 19,
    }];
    let b = d.add_buffer(buffer);
    d.add_layer(wsp, b);
    d.add_layer(
        mms_layer("m-notification-ind", NOTIFICATION_IND, mms, body_at),
        b,
    );
    PduRecord {
        index,
        frame: 19,
        frames: vec![19],
        time: ts(1795554898, 667117031),
        src: addr("127.0.0.1:9200"),
        dst: addr("127.0.0.1:2948"),
        transport: Transport::WspPush,
        carrier: Carrier {
            method: Some("Push".into()),
            uri: None,
            status: None,
            summary: "WSP Push".into(),
            exchange: None,
            is_response: false,
        },
        mms: MmsSummary {
            message_type: Some("m-notification-ind".into()),
            message_type_code: Some(0x82),
            transaction_id: Some("H-NOTIF-0001".into()),
            mms_version: Some("1.0".into()),
            from: Some("+15551230001/TYPE=PLMN".into()),
            subject: Some("Lab H basic".into()),
            message_size: Some(531),
            content_location: Some("http://127.0.0.1/mms/H-MSG-0001".into()),
            ..Default::default()
        },
        retransmission_of: None,
        transport_notes: Vec::new(),
        dissection: d,
    }
}

fn transaction(
    index: usize,
    kind: TransactionKind,
    pdus: &[PduRecord],
    members: &[usize],
    outcome: Outcome,
    status: &str,
    story: Option<usize>,
) -> Transaction {
    let first = &pdus[members[0]];
    let last = &pdus[*members.last().unwrap()];
    let mut endpoints: Vec<compact_str::CompactString> = Vec::new();
    for &i in members {
        for e in [
            socket_addr_string(&pdus[i].src),
            socket_addr_string(&pdus[i].dst),
        ] {
            if !endpoints.contains(&e) {
                endpoints.push(e);
            }
        }
    }
    Transaction {
        index,
        kind,
        transaction_id: first.mms.transaction_id.clone(),
        message_id: members.iter().find_map(|&i| pdus[i].mms.message_id.clone()),
        content_location: None,
        pdus: members.to_vec(),
        frames: members.iter().map(|&i| pdus[i].frame).collect(),
        message_types: members
            .iter()
            .map(|&i| pdus[i].mms.message_type.clone().unwrap_or_default())
            .collect(),
        start: first.time,
        end: last.time,
        duration: first.time.seconds_until(last.time),
        outcome,
        status: status.into(),
        endpoints,
        story,
    }
}

/// The transactions the MANIFEST names for http_mm1_basic: S (send), N (notification response
/// whose notification is not in the file) and R (retrieve + acknowledge), S and R being one story.
pub fn http_mm1_basic_transactions(pdus: &[PduRecord]) -> Vec<Transaction> {
    let mut r = transaction(
        2,
        TransactionKind::Retrieve,
        pdus,
        &[3, 4],
        Outcome::Ok,
        "Ok",
        Some(0),
    );
    r.content_location = Some("http://127.0.0.1/mms/H-MSG-0001".into());
    vec![
        transaction(
            0,
            TransactionKind::Send,
            pdus,
            &[0, 1],
            Outcome::Ok,
            "Ok",
            Some(0),
        ),
        transaction(
            1,
            TransactionKind::Notification,
            pdus,
            &[2],
            Outcome::Orphan,
            "orphan",
            None,
        ),
        r,
    ]
}

/// The whole analysis of http_mm1_basic.pcapng, as the pipeline and correlation should make it.
pub fn http_mm1_basic() -> Analysis {
    let pdus = http_mm1_basic_pdus();
    let transactions = http_mm1_basic_transactions(&pdus);
    Analysis {
        source: "captures/http_mm1_basic.pcapng".into(),
        stats: Stats {
            packets: 44,
            bytes: 7368,
            pdus: pdus.len() as u64,
            transactions: transactions.len() as u64,
            errors: 0,
        },
        pdus,
        transactions,
        capture_notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::treeview::node_at;

    fn bytes_of<'a>(d: &'a Dissection, n: &Node) -> &'a [u8] {
        &d.buffers[n.buffer as usize].data[n.range.clone()]
    }

    #[test]
    fn http_headers_have_the_lengths_tshark_reports() {
        let pdus = http_mm1_basic_pdus();
        // tcp.len of frame 4 is 720 = headers + 481 body bytes; frame 6 carries 159 header bytes.
        assert_eq!(pdus[0].dissection.buffers[0].data.len(), 720);
        let b1 = &pdus[1].dissection.buffers[0];
        assert_eq!(b1.data.len(), 159 + 40);
        assert_eq!(b1.frame_of(158), Some(6));
        assert_eq!(b1.frame_of(159), Some(8));
        // tcp.len of frames 16, 28 and 38.
        assert_eq!(pdus[2].dissection.buffers[0].data.len(), 258);
        assert_eq!(pdus[3].dissection.buffers[0].data.len(), 160 + 531);
        assert_eq!(pdus[4].dissection.buffers[0].data.len(), 255);
    }

    #[test]
    fn the_wsp_push_fixture_covers_its_bytes() {
        let p = wap_push_notification(0);
        let d = &p.dissection;
        // UDP length 185 in tshark: 177 bytes of payload
        assert_eq!(d.buffers[0].data.len(), 177);
        let wsp = &d.layers[0];
        assert_eq!(wsp.range, 0..74);
        assert_eq!(
            bytes_of(d, wsp.child("Content-Length").unwrap()),
            [0x8d, 0xe7]
        );
        let mms = &d.layers[1];
        assert_eq!(mms.range, 74..177);
        assert_eq!(
            bytes_of(d, mms.child("X-Mms-Message-Size").unwrap()),
            [0x8e, 2, 2, 0x13]
        );
        let cl = mms.child("X-Mms-Content-Location").unwrap();
        assert_eq!(bytes_of(d, cl), b"\x83http://127.0.0.1/mms/H-MSG-0001\0");
        assert_eq!(cl.range.end, 177);
    }

    #[test]
    fn every_field_range_covers_its_bytes() {
        let pdus = http_mm1_basic_pdus();
        let d = &pdus[0].dissection;
        let mms = &d.layers[1];
        let tid = mms.child("X-Mms-Transaction-Id").unwrap();
        assert_eq!(bytes_of(d, tid), b"\x98H-SEND-0001\0");
        let to = mms.child("To").unwrap();
        assert_eq!(bytes_of(d, to), b"\x97+15551230002/TYPE=PLMN\0");
        let smil = node_at(d, &[1, 7, 1, 4]).unwrap();
        assert!(bytes_of(d, smil).starts_with(b"<smil>"));
        assert!(bytes_of(d, smil).ends_with(b"</smil>\n"));
        let txt = node_at(d, &[1, 7, 2, 3]).unwrap();
        assert_eq!(bytes_of(d, txt), b"Hello Bob, this is MMS over HTTP.");
        let d3 = &pdus[3].dissection;
        let date = d3.layers[1].child("Date").unwrap();
        assert_eq!(bytes_of(d3, date), [0x85, 4, 0x69, 0x55, 0xb9, 0]);
        let txt = node_at(d3, &[1, 9, 2, 3]).unwrap();
        assert_eq!(bytes_of(d3, txt), b"Hello Bob, this is MMS over HTTP.");
        for p in &pdus {
            let d = &p.dissection;
            for layer in &d.layers {
                for n in layer.walk() {
                    assert!(
                        n.range.end <= d.buffers[n.buffer as usize].data.len(),
                        "{}",
                        n.name
                    );
                }
            }
            let ack_or_last = d.layers[1].children.last().unwrap();
            assert_eq!(ack_or_last.range.end, d.buffers[0].data.len());
        }
    }
}
