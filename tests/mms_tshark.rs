//! Where tshark 4.0.17 and the specifications disagree, the specification's answer. Each PDU
//! was also fed to tshark (wrapped in an HTTP response with text2pcap); what tshark printed is
//! quoted in the comments. See docs/MMS.md for the list.

use mmscope::model::MmsSummary;
use mmscope::tree::{Buffer, Dissection, Node, Value};

fn dissect(bytes: &[u8]) -> (Dissection, MmsSummary) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("pdu", bytes.to_vec()));
    let s = mmscope::mms::dissect(&mut d, id);
    (d, s)
}

fn file(name: &str) -> (Dissection, MmsSummary) {
    dissect(&std::fs::read(format!("tests/data/public/{name}")).unwrap())
}

fn t(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn child<'a>(n: &'a Node, name: &str) -> &'a Node {
    n.child(name).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn quote_before_utf8_text_is_not_part_of_the_text() {
    // Subject = 0x96, Value-length 13, charset UTF-8 (0xEA), Quote 0x7F, "Питер" in UTF-8, NUL.
    // tshark: "Subject: \177����������" (keeps the Quote, ignores the charset).
    // WAP-230 8.4.2.1: Text-string = [Quote] *TEXT End-of-string, the Quote (required before
    // an octet ≥ 128) is not part of the text; OMA-MMS-ENC 1.3 7.2.9: the text is in the
    // charset of the Encoded-string-value.
    let (d, s) = file("test_retrieve__Expired1__m-notification.ind");
    assert_eq!(s.subject.as_deref(), Some("Питер"));
    let subj = child(&d.layers[0], "Subject");
    assert_eq!(subj.range, 114..129);
    assert_eq!(child(subj, "Charset").display, "UTF-8 (106)");
    assert_eq!(s.errors + s.warnings, 0);
}

#[test]
fn utf8_subjects_with_charset_are_decoded() {
    // tshark: "Subject: ��������������� ������ ������" (UTF-8 bytes shown as replacement
    // characters). OMA-MMS-ENC 1.3 7.2.9 / WAP-230 8.4.2.8: charset 106 = UTF-8.
    let (_, s) = file("test_mms_codec__m-retrieve_9.conf");
    assert_eq!(s.subject.as_deref(), Some("의료보조금 지급 안내"));
    let (_, s) = file("test_mms_codec__m-retrieve_2.conf");
    assert_eq!(
        s.subject.as_deref(),
        Some("Входит Пушкин в летном шлеме...")
    );
}

#[test]
fn content_id_as_text_string_is_flagged_precisely() {
    // Part header 0xC0 (Content-ID) followed by "text/html" NUL, without the 0x22 of a
    // Quoted-string. tshark: "Quoted-string value has been encoded with a trailing quote"
    // (there is no quote at all). WAP-230 8.4.2.67: Content-ID-value = Quoted-string.
    let (d, _) = file("test_mms_codec__m-retrieve_9.conf");
    let part = child(child(&d.layers[0], "Body"), "Part 1");
    let id = child(part, "Content-ID");
    assert_eq!(id.display, "text/html");
    assert_eq!(id.range, 133..144);
    let w = child(id, "not-quoted");
    assert!(w.display.contains("not a Quoted-string"), "{}", w.display);
}

#[test]
fn long_integers_wider_than_4_octets() {
    // Message-Size = 0x8E, Long-integer of 5 octets 01 00 00 00 01.
    // tshark: "X-Mms-Message-Size: 0". WAP-230 8.4.2.1: Long-integer = Short-length (0–30)
    // Multi-octet-integer, so 5 octets are valid: 2^32 + 1.
    let pdu = [
        &[0x8C, 0x82, 0x98][..],
        &t("n"),
        &[0x8D, 0x92, 0x8A, 0x80],
        &[0x8E, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01],
        &[0x88, 0x03, 0x81, 0x01, 0x3C],
        &[0x83],
        &t("http://x"),
    ]
    .concat();
    let (_, s) = dissect(&pdu);
    assert_eq!(s.message_size, Some(4_294_967_297));
}

#[test]
fn charset_as_long_integer() {
    // Subject = 0x96, Value-length 11, charset UTF-16 (1015) as the Long-integer 02 03 F7,
    // BOM FE FF, "cé", End-of-string 00 00. tshark: "Subject: \003���".
    // WAP-230 8.4.2.8: Well-known-charset = Any-charset | Integer-value (Long-integer allowed).
    let pdu = [
        &[0x8C, 0x80, 0x98][..],
        &t("s"),
        &[0x8D, 0x92, 0x89, 0x01, 0x81, 0x97],
        &t("+1/TYPE=PLMN"),
        &[
            0x96, 0x0B, 0x02, 0x03, 0xF7, 0xFE, 0xFF, 0x00, b'c', 0x00, 0xE9, 0x00, 0x00,
        ],
        &[0x84, 0x83],
        b"x",
    ]
    .concat();
    let (_, s) = dissect(&pdu);
    assert_eq!(s.subject.as_deref(), Some("cé"));
}

#[test]
fn delete_conf_content_location_carries_an_index() {
    // X-Mms-Content-Location in m-delete-conf: 0x83, Value-length 16, Status-count 0 (0x80),
    // "http://mmsc/m1" NUL. tshark: "X-Mms-Content-Location: \020�http://mmsc/m1" (and
    // "Unknown type 149"). OMA-MMS-ENC 1.3 7.3.10: Content-location-Del-value = Value-length
    // Status-count-value Content-location-value; 7.3.30: 0x95 = m-delete-conf.
    let mut loc = vec![0x80];
    loc.extend(t("http://mmsc/m1"));
    let pdu = [
        &[0x8C, 0x95, 0x98][..],
        &t("d"),
        &[0x8D, 0x93, 0x83, loc.len() as u8],
        &loc,
        &[0x92, 0x80],
    ]
    .concat();
    let (d, s) = dissect(&pdu);
    assert_eq!(s.message_type.as_deref(), Some("m-delete-conf"));
    assert_eq!(s.content_location.as_deref(), Some("http://mmsc/m1"));
    let cl = child(&d.layers[0], "X-Mms-Content-Location");
    assert_eq!(child(cl, "Status count").value, Value::UInt(0));
}

#[test]
fn textual_multipart_content_type_body_is_a_multipart() {
    // Content-Type 0x84 as the text "application/vnd.wap.multipart.mixed". tshark: the body is
    // "Data (Post)", not decoded. WAP-230 8.4.2.24: Constrained-media may be Extension-media
    // (a text string); the body is a multipart because of the media type (8.5).
    let pdu = [
        &[0x8C, 0x84, 0x8D, 0x92, 0x85, 0x01, 0x05, 0x84][..],
        &t("application/vnd.wap.multipart.mixed"),
        &[0x01, 0x01, 0x02, 0x83], // 1 entry: HeadersLen 1, DataLen 2, text/plain
        b"ok",
    ]
    .concat();
    let (_, s) = dissect(&pdu);
    assert_eq!(s.parts.len(), 1);
    assert_eq!(
        (s.parts[0].content_type.as_str(), s.parts[0].size),
        ("text/plain", 2)
    );
}
