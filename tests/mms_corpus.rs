//! End-to-end decode of the shipped PDUs: the lab PDUs against their ground truth
//! (tests/data/pdus/pdus.json) and the real operator PDUs against their catalogue
//! (tests/data/public/CATALOG.md).

use mmscope::model::MmsSummary;
use mmscope::tree::{Buffer, Dissection, Node, Severity, Value};
use serde_json::Value as J;
use std::path::Path;

fn decode(path: &Path) -> (Dissection, MmsSummary, Vec<u8>) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("pdu", data.clone()));
    let s = mmscope::mms::dissect(&mut d, id);
    (d, s, data)
}

fn experts(d: &Dissection, min: Severity) -> Vec<String> {
    d.layers
        .iter()
        .flat_map(|l| l.walk())
        .filter(|n| n.expert.is_some_and(|s| s >= min))
        .map(|n| format!("{}: {} @{:?}", n.name, n.display, n.range))
        .collect()
}

fn field<'a>(d: &'a Dissection, name: &str) -> Option<&'a Node> {
    d.layers[0].child(name)
}

fn opt_str(v: &J) -> Option<compact_str::CompactString> {
    v.as_str().map(Into::into)
}

#[test]
fn lab_pdus_match_ground_truth() {
    let dir = Path::new("tests/data/pdus");
    let truth: J =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pdus.json")).unwrap()).unwrap();
    let truth = truth.as_object().unwrap();
    assert!(truth.len() >= 28, "pdus.json lists {} PDUs", truth.len());
    for (key, t) in truth {
        let file = t["file"].as_str().unwrap();
        let (d, s, data) = decode(&dir.join(file));
        let ctx = format!("{key} ({file})");
        assert_eq!(
            data.len() as u64,
            t["size"].as_u64().unwrap(),
            "{ctx}: size"
        );
        // No expert note of any severity above Note: these PDUs are valid.
        let bad = experts(&d, Severity::Warning);
        assert!(bad.is_empty(), "{ctx}: unexpected expert nodes {bad:?}");
        assert_eq!((s.errors, s.warnings), (0, 0), "{ctx}");
        assert_eq!(s.message_type, opt_str(&t["type"]), "{ctx}: type");
        assert_eq!(
            s.transaction_id,
            opt_str(&t["transaction_id"]),
            "{ctx}: transaction id"
        );
        assert_eq!(s.message_id, opt_str(&t["message_id"]), "{ctx}: message id");
        assert_eq!(s.from, opt_str(&t["from"]), "{ctx}: from");
        let to: Vec<_> = opt_str(&t["to"]).into_iter().collect();
        assert_eq!(s.to, to, "{ctx}: to");
        assert_eq!(s.subject, opt_str(&t["subject"]), "{ctx}: subject");
        assert_eq!(
            s.content_location,
            opt_str(&t["content_location"]),
            "{ctx}: content location"
        );
        assert_eq!(s.mms_version, opt_str(&t["version"]), "{ctx}: version");
        assert_eq!(s.status, opt_str(&t["status"]), "{ctx}: status");
        assert_eq!(
            s.response_status,
            opt_str(&t["response_status"]),
            "{ctx}: response status"
        );
        assert_eq!(s.date, t["date_epoch"].as_i64(), "{ctx}: date");
        assert_eq!(s.message_size, t["message_size"].as_u64(), "{ctx}: size");
        let class = field(&d, "X-Mms-Message-Class").map(|n| n.display.clone());
        assert_eq!(
            class.as_deref(),
            t["message_class"].as_str(),
            "{ctx}: class"
        );
        let expiry = field(&d, "X-Mms-Expiry").map(|n| n.value.clone());
        assert_eq!(
            expiry,
            t["expiry_relative_s"].as_u64().map(Value::Duration),
            "{ctx}: expiry"
        );
        let parts: Vec<_> = s.parts.iter().map(|p| p.content_type.clone()).collect();
        let want: Vec<_> = t
            .get("parts")
            .and_then(J::as_array)
            .map(|a| a.iter().filter_map(opt_str).collect())
            .unwrap_or_default();
        assert_eq!(parts, want, "{ctx}: parts");
        // Every part's data lies inside the PDU and the parts tile the body.
        let mut sum = 0;
        for p in &s.parts {
            sum += p.size;
        }
        assert!(sum <= data.len(), "{ctx}");
    }
}

/// One row of tests/data/public/CATALOG.md.
struct Row {
    file: String,
    first_bytes_say: String,
    python: String,
}

fn catalog() -> Vec<Row> {
    let text = std::fs::read_to_string("tests/data/public/CATALOG.md").unwrap();
    text.lines()
        .filter(|l| l.starts_with("| test"))
        .map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            Row {
                file: c[1].to_string(),
                first_bytes_say: c[3].to_string(),
                python: c[4].to_string(),
            }
        })
        .collect()
}

/// True when `data` holds `code` followed by `text` and NUL: an independent byte-level check
/// that a text header is (or is not) in the PDU.
fn has_text_header(data: &[u8], code: u8, text: &str) -> bool {
    let mut pat = vec![code];
    pat.extend(text.as_bytes());
    pat.push(0);
    data.windows(pat.len()).any(|w| w == pat.as_slice())
}

#[test]
fn public_pdus_match_the_catalogue() {
    let rows = catalog();
    assert!(rows.len() >= 80, "catalogue rows: {}", rows.len());
    let dir = Path::new("tests/data/public");
    for row in &rows {
        let (d, s, data) = decode(&dir.join(&row.file));
        let ctx = &row.file;
        // The first two bytes, as the catalogue reads them.
        if row.first_bytes_say.starts_with("m-") {
            assert_eq!(
                s.message_type.as_deref(),
                Some(row.first_bytes_say.as_str()),
                "{ctx}"
            );
        } else {
            // "not an MMS PDU start": an error node at byte 0 and no message type.
            assert_eq!(s.message_type, None, "{ctx}");
            let root = &d.layers[0];
            let n = root.child("not-mms").expect("not-mms node");
            assert_eq!(
                (n.expert, n.range.clone()),
                (Some(Severity::Error), 0..1),
                "{ctx}"
            );
            continue;
        }
        if row.python.starts_with("error:") {
            continue; // checked one by one below
        }
        // Message and transaction ids in the catalogue contain no "/".
        let p: Vec<&str> = row.python.split('/').map(str::trim).collect();
        let (ptype, ptid, pmid) = (p[0], p[1], p.get(2).copied().unwrap_or("-"));
        if ptype != "<unknown>" {
            // python-messaging 0.5.13 has no names for m-read-rec-ind / m-read-orig-ind.
            assert_eq!(s.message_type.as_deref(), Some(ptype), "{ctx}");
        }
        if ptid == "1234" && !has_text_header(&data, 0x98, "1234") {
            // python-messaging pre-fills Transaction-Id "1234" when the PDU has none: the bytes
            // carry no 0x98 "1234", and mmscope reports the header as absent.
            assert_eq!(s.transaction_id, None, "{ctx}");
        } else {
            assert_eq!(s.transaction_id.as_deref(), Some(ptid), "{ctx}");
        }
        match (pmid, &s.message_id) {
            ("-", None) => {}
            ("-", Some(mid)) => {
                // python-messaging missed a Message-ID that is in the bytes (0x8B text NUL).
                assert!(has_text_header(&data, 0x8B, mid), "{ctx}: {mid}");
            }
            (want, got) => assert_eq!(got.as_deref(), Some(want), "{ctx}"),
        }
        assert!(
            experts(&d, Severity::Error).is_empty() || ctx.contains("Base64"),
            "{ctx}: {:?}",
            experts(&d, Severity::Error)
        );
    }
}

fn expert_named<'a>(d: &'a Dissection, name: &str) -> Vec<&'a Node> {
    d.layers[0]
        .walk()
        .filter(|n| n.expert.is_some() && n.name == name)
        .collect()
}

#[test]
fn unparsable_and_settings_files_get_a_precise_error_and_a_partial_tree() {
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_send__UnparsableResp__m-send.conf",
    ));
    assert_eq!(s.message_type, None);
    assert!(s.errors >= 1);
    let n = expert_named(&d, "not-mms");
    assert!(n[0].display.contains("byte 0 is 0x54"), "{}", n[0].display);
    // The text has no NUL: reading it as an application header runs off the end at byte 28.
    let t = expert_named(&d, "truncated");
    assert_eq!(t[0].range.start, 28);
}

#[test]
fn python_messaging_failures_that_are_valid_pdus() {
    // m-retrieve_5: Retrieve-Status 0xE2 and a single text/plain body (no multipart):
    // valid per OMA-MMS-ENC 1.3 (Content-Type may be any media type); python-messaging
    // raised StopIteration.
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_mms_codec__m-retrieve_5.conf",
    ));
    assert_eq!(
        s.errors + s.warnings,
        0,
        "{:?}",
        experts(&d, Severity::Warning)
    );
    assert_eq!(
        s.retrieve_status.as_deref(),
        Some("Error-permanent-message-not-found")
    );
    assert_eq!(s.content_type.as_deref(), Some("text/plain"));
    let body = d.layers[0].child("Body").unwrap();
    assert_eq!(
        body.child("Text").unwrap().value,
        Value::Text("4504:Message not found".into())
    );
    assert_eq!(expert_named(&d, "error-status").len(), 1);

    // m-retrieve_10: From with charset KS_C_5601 (36) and a UTF-8 Subject; python-messaging
    // failed ("unimplemented decoder").
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_mms_codec__m-retrieve_10.conf",
    ));
    assert_eq!(
        s.errors + s.warnings,
        0,
        "{:?}",
        experts(&d, Severity::Warning)
    );
    assert_eq!(s.subject.as_deref(), Some("MMS 수신 안 "));
    assert!(s.from.as_deref().unwrap().ends_with("/TYPE=PLMN"));
    let from = d.layers[0].child("From").unwrap();
    assert_eq!(
        from.child("Charset").unwrap().display,
        "KS_C_5601-1987 (36)"
    );
    let parts: Vec<_> = s.parts.iter().map(|p| p.content_type.as_str()).collect();
    assert_eq!(parts, ["application/smil", "text/plain"]);
    assert_eq!(s.parts[1].name.as_deref(), Some("00000000_002.txt"));

    // Success2 m-notification-ind: an empty Bcc then one 0x00 octet where a header should be.
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_retrieve__Success2__m-notification.ind",
    ));
    assert_eq!(s.transaction_id.as_deref(), Some("AaamMbG2tpp5lj4Ra"));
    assert_eq!(s.message_size, Some(66070));
    assert_eq!(s.errors, 0);
    let t = expert_named(&d, "trailing-octets");
    assert_eq!(t[0].range, 116..117);
}

#[test]
fn invalid_subject_is_reported_precisely() {
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_retrieve__InvalidSubject__m-retrieve.conf",
    ));
    // Subject = 0x96, value-length 15, UTF-8 (0xEA), Quote 0x7F, "=?utf-8?B??=", NUL.
    assert_eq!(s.subject.as_deref(), Some("=?utf-8?B??="));
    let q = expert_named(&d, "quote-misuse");
    assert_eq!(q[0].range, 103..104);
    let w = expert_named(&d, "encoded-word");
    assert!(w[0].display.contains("empty payload"), "{}", w[0].display);
    assert_eq!(s.errors, 0);
}

#[test]
fn truncated_base64_part_is_decoded_up_to_the_bad_quantum() {
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_retrieve__Base64__m-retrieve.conf",
    ));
    assert_eq!(s.errors, 1);
    let e = expert_named(&d, "transfer-encoding");
    // 53 base64 symbols: the 53rd (byte 166089) cannot form a quantum.
    assert_eq!(e[0].range.start, 166089);
    // The 52 symbols before it decode to the whole text, in a derived buffer.
    let text = d.layers[0]
        .walk()
        .find(|n| n.name == "Text" && n.buffer != 0)
        .unwrap();
    assert_eq!(
        text.value,
        Value::Text("Tämmönen 😈 tää lähtee huomenna.".into())
    );
    assert!(d.buffers.len() >= 2);
    assert_eq!(d.buffers[text.buffer as usize].data.len(), text.range.end);
}

#[test]
fn quoted_printable_part_decodes_into_a_derived_buffer() {
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_retrieve__QuotedPrintable__m-retrieve.conf",
    ));
    assert_eq!(s.errors, 0);
    let n = d.layers[0]
        .walk()
        .find(|n| n.name == "Decoded quoted-printable")
        .unwrap();
    assert_ne!(n.buffer, 0);
    let text = n.child("Text").unwrap();
    assert_eq!(
        text.value,
        Value::Text("Tämmönen 😈 tää lähtee huomenna.".into())
    );
}

#[test]
fn subject_cut_inside_a_utf8_sequence_is_a_warning() {
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_retrieve__Success3__m-retrieve.conf",
    ));
    assert_eq!(s.errors, 0);
    assert!(s.subject.as_deref().unwrap().starts_with("И ещё баноч"));
    let w = expert_named(&d, "charset");
    assert_eq!(w.len(), 1);
}

#[test]
fn every_public_valid_pdu_has_sane_summary() {
    for row in catalog() {
        if !row.first_bytes_say.starts_with("m-") {
            continue;
        }
        let (_, s, _) = decode(&Path::new("tests/data/public").join(&row.file));
        assert!(s.mms_version.is_some(), "{}", row.file);
        if s.message_type.as_deref() == Some("m-delivery-ind") {
            assert!(s.status.is_some() && s.date.is_some(), "{}", row.file);
        }
    }
}

#[test]
fn address_types_are_shown_and_a_typo_is_noted() {
    // The operator's m-delivery-ind says "/TYPE=PLNM" (PLMN misspelt).
    let (d, s, _) = decode(Path::new(
        "tests/data/public/test_delivery_ind__DeliveryOK__m-delivery.ind",
    ));
    assert!(s.to[0].ends_with("/TYPE=PLNM"), "{:?}", s.to);
    let to = d.layers[0].child("To").unwrap();
    assert_eq!(to.child("Address type").unwrap().display, "PLNM");
    let note = to.child("address").unwrap();
    assert_eq!(note.expert, Some(Severity::Note));
    // Lab PDUs: PLMN, no note.
    let (d, _, _) = decode(Path::new("tests/data/pdus/h_retrieve_conf.mms"));
    let from = d.layers[0].child("From").unwrap();
    assert_eq!(from.child("Address type").unwrap().display, "PLMN");
    assert!(from.child("address").is_none());
}

#[test]
fn version_notes_on_real_pdus() {
    // m-send_2.conf: MMS 1.1+ PDU with the 1.0 Response-Status 0x83.
    let (d, s, _) = decode(Path::new("tests/data/public/test_mms_codec__m-send_2.conf"));
    assert_eq!(
        s.response_status.as_deref(),
        Some("Error-message-format-corrupt")
    );
    assert_eq!(expert_named(&d, "obsolete-value").len(), 1);
    // m-retrieve_1.conf says MMS 1.0 but carries Retrieve-Status/Text (MMS 1.1 fields).
    let (d, _, _) = decode(Path::new(
        "tests/data/public/test_mms_codec__m-retrieve_1.conf",
    ));
    let v: Vec<_> = expert_named(&d, "version")
        .iter()
        .map(|n| n.range.clone())
        .collect();
    assert_eq!(v, [210..212, 212..247]);
}
