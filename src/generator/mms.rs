//! A small MMS PDU encoder (OMA-MMS-ENC 1.2, WAP-230-WSP value encodings): just what the
//! generator needs to write valid PDUs of the seven types of a message's life.

/// Well-known MMS header field codes (OMA-MMS-ENC §7.4, Table 24), with the high bit set.
mod field {
    pub const CONTENT_LOCATION: u8 = 0x83;
    pub const CONTENT_TYPE: u8 = 0x84;
    pub const DATE: u8 = 0x85;
    pub const DELIVERY_REPORT: u8 = 0x86;
    pub const EXPIRY: u8 = 0x88;
    pub const FROM: u8 = 0x89;
    pub const MESSAGE_CLASS: u8 = 0x8A;
    pub const MESSAGE_ID: u8 = 0x8B;
    pub const MESSAGE_TYPE: u8 = 0x8C;
    pub const MMS_VERSION: u8 = 0x8D;
    pub const MESSAGE_SIZE: u8 = 0x8E;
    pub const PRIORITY: u8 = 0x8F;
    pub const REPORT_ALLOWED: u8 = 0x91;
    pub const RESPONSE_STATUS: u8 = 0x92;
    pub const STATUS: u8 = 0x95;
    pub const SUBJECT: u8 = 0x96;
    pub const TO: u8 = 0x97;
    pub const TRANSACTION_ID: u8 = 0x98;
}

/// X-Mms-Message-Type values.
pub mod message_type {
    pub const SEND_REQ: u8 = 0x80;
    pub const SEND_CONF: u8 = 0x81;
    pub const NOTIFICATION_IND: u8 = 0x82;
    pub const NOTIFYRESP_IND: u8 = 0x83;
    pub const RETRIEVE_CONF: u8 = 0x84;
    pub const ACKNOWLEDGE_IND: u8 = 0x85;
    pub const DELIVERY_IND: u8 = 0x86;

    /// The OMA name of a type code (as mmscope and tshark print it).
    pub fn name(code: u8) -> &'static str {
        match code {
            SEND_REQ => "m-send-req",
            SEND_CONF => "m-send-conf",
            NOTIFICATION_IND => "m-notification-ind",
            NOTIFYRESP_IND => "m-notifyresp-ind",
            RETRIEVE_CONF => "m-retrieve-conf",
            ACKNOWLEDGE_IND => "m-acknowledge-ind",
            DELIVERY_IND => "m-delivery-ind",
            _ => "unknown",
        }
    }
}

/// X-Mms-Status values (OMA-MMS-ENC §7.3.54).
pub mod status {
    pub const RETRIEVED: u8 = 0x81;
    pub const DEFERRED: u8 = 0x83;
}

/// MMS version 1.2 as a short-integer (major 1, minor 2).
const MMS_VERSION_1_2: u8 = 0x92;

/// uintvar (WSP §8.1.2): 7 bits a byte, most significant first, high bit = more follows.
pub fn put_uintvar(buf: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    let end = tmp.len() - 1;
    for b in &mut tmp[i..end] {
        *b |= 0x80;
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Value-length (WSP §8.4.2.2): a short length below 31, else 31 then a uintvar.
pub fn put_value_length(buf: &mut Vec<u8>, len: usize) {
    if len < 31 {
        buf.push(len as u8);
    } else {
        buf.push(31);
        put_uintvar(buf, len as u64);
    }
}

/// Text-string: quoted with 0x7F when the first byte is ≥ 128, then NUL-terminated.
pub fn put_text(buf: &mut Vec<u8>, s: &str) {
    if s.as_bytes().first().is_some_and(|&b| b >= 0x80) {
        buf.push(0x7f);
    }
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

/// Long-integer: Short-length (1..=8) then big-endian octets, no leading zeros.
pub fn put_long_integer(buf: &mut Vec<u8>, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    buf.push((8 - skip) as u8);
    buf.extend_from_slice(&bytes[skip..]);
}

/// Media type of a body part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartType {
    Smil,
    TextUtf8,
    Jpeg,
}

impl PartType {
    fn put_content_type(self, buf: &mut Vec<u8>) {
        match self {
            PartType::Smil => put_text(buf, "application/smil"),
            // Content-general-form: length 3, text/plain (0x03), charset (0x01) = utf-8 (106).
            PartType::TextUtf8 => buf.extend_from_slice(&[0x03, 0x83, 0x81, 0xEA]),
            PartType::Jpeg => buf.push(0x9E),
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            PartType::Smil => "application/smil",
            PartType::TextUtf8 => "text/plain",
            PartType::Jpeg => "image/jpeg",
        }
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub kind: PartType,
    pub location: String,
    pub content_id: Option<String>,
    pub data: Vec<u8>,
}

/// WSP multipart body (WAP-230-WSP §8.5): nEntries, then per entry HeadersLen, DataLen,
/// ContentType, Headers, Data.
pub fn put_multipart(buf: &mut Vec<u8>, parts: &[Part]) {
    put_uintvar(buf, parts.len() as u64);
    let mut headers = Vec::with_capacity(64);
    for p in parts {
        headers.clear();
        p.kind.put_content_type(&mut headers);
        // Content-Location (WSP well-known header 0x0E).
        headers.push(0x8E);
        put_text(&mut headers, &p.location);
        if let Some(id) = &p.content_id {
            // Content-ID (0x40): Quoted-string.
            headers.push(0xC0);
            headers.push(b'"');
            headers.extend_from_slice(id.as_bytes());
            headers.push(0);
        }
        put_uintvar(buf, headers.len() as u64);
        put_uintvar(buf, p.data.len() as u64);
        buf.extend_from_slice(&headers);
        buf.extend_from_slice(&p.data);
    }
}

/// Content-Type: application/vnd.wap.multipart.related; start=<smil>; type=application/smil
fn put_multipart_related_type(buf: &mut Vec<u8>, start: &str) {
    let mut v = vec![0xB3];
    v.push(0x8A); // Start (encoding version 1.2)
    put_text(&mut v, start);
    v.push(0x89); // Type (multipart related)
    put_text(&mut v, "application/smil");
    buf.push(field::CONTENT_TYPE);
    put_value_length(buf, v.len());
    buf.extend_from_slice(&v);
}

fn put_head(buf: &mut Vec<u8>, mtype: u8, tid: Option<&str>) {
    buf.extend_from_slice(&[field::MESSAGE_TYPE, mtype]);
    if let Some(tid) = tid {
        buf.push(field::TRANSACTION_ID);
        put_text(buf, tid);
    }
    buf.extend_from_slice(&[field::MMS_VERSION, MMS_VERSION_1_2]);
}

fn put_date(buf: &mut Vec<u8>, secs: i64) {
    buf.push(field::DATE);
    put_long_integer(buf, secs.max(0) as u64);
}

fn put_from(buf: &mut Vec<u8>, from: Option<&str>) {
    buf.push(field::FROM);
    match from {
        None => buf.extend_from_slice(&[0x01, 0x81]), // Insert-address-token
        Some(a) => {
            let mut v = vec![0x80]; // Address-present-token
            put_text(&mut v, a);
            put_value_length(buf, v.len());
            buf.extend_from_slice(&v);
        }
    }
}

fn put_str_field(buf: &mut Vec<u8>, code: u8, s: &str) {
    buf.push(code);
    put_text(buf, s);
}

/// The content of a message, shared by its m-send-req and m-retrieve-conf.
#[derive(Debug, Clone)]
pub struct Content {
    pub subject: String,
    pub parts: Vec<Part>,
}

pub fn send_req(tid: &str, to: &str, date: i64, delivery_report: bool, c: &Content) -> Vec<u8> {
    let mut b = Vec::with_capacity(256 + c.parts.iter().map(|p| p.data.len()).sum::<usize>());
    put_head(&mut b, message_type::SEND_REQ, Some(tid));
    put_date(&mut b, date);
    put_from(&mut b, None);
    put_str_field(&mut b, field::TO, to);
    put_str_field(&mut b, field::SUBJECT, &c.subject);
    b.extend_from_slice(&[field::MESSAGE_CLASS, 0x80]); // Personal
    b.extend_from_slice(&[field::PRIORITY, 0x81]); // Normal
    b.extend_from_slice(&[
        field::DELIVERY_REPORT,
        if delivery_report { 0x80 } else { 0x81 },
    ]);
    put_multipart_related_type(&mut b, "<smil>");
    put_multipart(&mut b, &c.parts);
    b
}

pub fn send_conf(tid: &str, message_id: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    put_head(&mut b, message_type::SEND_CONF, Some(tid));
    b.extend_from_slice(&[field::RESPONSE_STATUS, 0x80]); // Ok
    put_str_field(&mut b, field::MESSAGE_ID, message_id);
    b
}

pub fn notification_ind(
    tid: &str,
    from: &str,
    subject: &str,
    size: u64,
    expiry_s: u64,
    location: &str,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    put_head(&mut b, message_type::NOTIFICATION_IND, Some(tid));
    put_from(&mut b, Some(from));
    put_str_field(&mut b, field::SUBJECT, subject);
    b.extend_from_slice(&[field::MESSAGE_CLASS, 0x80]);
    b.push(field::MESSAGE_SIZE);
    put_long_integer(&mut b, size);
    // Expiry: Value-length (Relative-token Delta-seconds-value)
    let mut v = vec![0x81];
    put_long_integer(&mut v, expiry_s);
    b.push(field::EXPIRY);
    put_value_length(&mut b, v.len());
    b.extend_from_slice(&v);
    put_str_field(&mut b, field::CONTENT_LOCATION, location);
    b
}

pub fn notifyresp_ind(tid: &str, status_code: u8) -> Vec<u8> {
    let mut b = Vec::with_capacity(40);
    put_head(&mut b, message_type::NOTIFYRESP_IND, Some(tid));
    b.extend_from_slice(&[field::STATUS, status_code]);
    b.extend_from_slice(&[field::REPORT_ALLOWED, 0x80]);
    b
}

pub fn retrieve_conf(
    tid: &str,
    message_id: &str,
    from: &str,
    to: &str,
    date: i64,
    c: &Content,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(256 + c.parts.iter().map(|p| p.data.len()).sum::<usize>());
    put_head(&mut b, message_type::RETRIEVE_CONF, Some(tid));
    put_str_field(&mut b, field::MESSAGE_ID, message_id);
    put_date(&mut b, date);
    put_from(&mut b, Some(from));
    put_str_field(&mut b, field::TO, to);
    put_str_field(&mut b, field::SUBJECT, &c.subject);
    b.extend_from_slice(&[field::MESSAGE_CLASS, 0x80]);
    b.extend_from_slice(&[field::PRIORITY, 0x81]);
    put_multipart_related_type(&mut b, "<smil>");
    put_multipart(&mut b, &c.parts);
    b
}

pub fn acknowledge_ind(tid: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(40);
    put_head(&mut b, message_type::ACKNOWLEDGE_IND, Some(tid));
    b.extend_from_slice(&[field::REPORT_ALLOWED, 0x80]);
    b
}

pub fn delivery_ind(message_id: &str, to: &str, date: i64, status_code: u8) -> Vec<u8> {
    let mut b = Vec::with_capacity(80);
    put_head(&mut b, message_type::DELIVERY_IND, None);
    put_str_field(&mut b, field::MESSAGE_ID, message_id);
    put_str_field(&mut b, field::TO, to);
    put_date(&mut b, date);
    b.extend_from_slice(&[field::STATUS, status_code]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uintvar_and_lengths() {
        let mut b = Vec::new();
        put_uintvar(&mut b, 0);
        put_uintvar(&mut b, 127);
        put_uintvar(&mut b, 128);
        put_uintvar(&mut b, 347);
        assert_eq!(b, [0x00, 0x7f, 0x81, 0x00, 0x82, 0x5b]);
        b.clear();
        put_value_length(&mut b, 30);
        put_value_length(&mut b, 31);
        assert_eq!(b, [30, 31, 31]);
        b.clear();
        put_long_integer(&mut b, 86_400);
        put_long_integer(&mut b, 0);
        assert_eq!(b, [3, 0x01, 0x51, 0x80, 1, 0]);
    }

    /// The same fields as the lab's d_delivery_ind.mms give the same bytes, apart from the
    /// version (the lab PDU is MMS 1.0) and the header order the lab chose.
    #[test]
    fn delivery_ind_matches_lab_bytes() {
        let lab = std::fs::read("tests/data/pdus/d_delivery_ind.mms").unwrap();
        let ours = delivery_ind(
            "H-MSG-0001@mmsc.lab",
            "+15551230002/TYPE=PLMN",
            0x6955_bb58,
            status::RETRIEVED,
        );
        // Lab: 8c 86 8d 90 (1.0) then the same fields in the same order.
        assert_eq!(&ours[..2], &lab[..2]);
        assert_eq!(ours[3], MMS_VERSION_1_2);
        assert_eq!(&ours[4..], &lab[4..]);
    }

    #[test]
    fn notification_ind_matches_lab_bytes() {
        let mut lab = std::fs::read("tests/data/pdus/h_notification_ind.mms").unwrap();
        let ours = notification_ind(
            "H-NOTIF-0001",
            "+15551230001/TYPE=PLMN",
            "Lab H basic",
            531,
            86400,
            "http://127.0.0.1/mms/H-MSG-0001",
        );
        // Identical but for the version byte (the lab PDU is MMS 1.0).
        assert_eq!(lab[17], 0x90);
        lab[17] = MMS_VERSION_1_2;
        assert_eq!(ours, lab);
    }

    #[test]
    fn multipart_entry_layout() {
        let parts = vec![Part {
            kind: PartType::TextUtf8,
            location: "a.txt".into(),
            content_id: None,
            data: b"hi".to_vec(),
        }];
        let mut b = Vec::new();
        put_multipart(&mut b, &parts);
        // 1 entry; headers 4 (content type) + 1 + 6 (location) = 11; data 2.
        assert_eq!(
            b,
            [
                1, 11, 2, 0x03, 0x83, 0x81, 0xEA, 0x8E, b'a', b'.', b't', b'x', b't', 0, b'h', b'i'
            ]
        );
    }
}
