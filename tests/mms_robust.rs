//! Truncations and bit flips over every shipped PDU: the dissector never panics, a PDU cut
//! inside a header or inside a multipart body gets an error node, and the headers before the
//! cut are decoded exactly as in the whole PDU.

use mmscope::mms;
use mmscope::tree::{Buffer, Dissection, Node, Severity};
use std::path::PathBuf;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let mut v = Vec::new();
    for dir in ["tests/data/pdus", "tests/data/public"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "json")))
            .collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).unwrap();
            v.push((p, data));
        }
    }
    v
}

fn dissect(data: &[u8]) -> (Node, usize) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("pdu", data.to_vec()));
    let s = mms::dissect(&mut d, id);
    // The tree serializes (the JSON path never fails on a hostile PDU).
    serde_json::to_string(&d.layers).unwrap();
    // Every range lies in its buffer.
    for l in &d.layers {
        for n in l.walk() {
            let len = d.buffers[n.buffer as usize].data.len();
            assert!(
                n.range.start <= n.range.end.max(n.range.start)
                    && n.range.end <= len.max(n.range.start + 1),
                "{} {:?} outside buffer {} of {len}",
                n.name,
                n.range,
                n.buffer
            );
        }
    }
    (d.layers.into_iter().next().unwrap(), s.errors)
}

/// Prefix lengths to try: every one for PDUs up to 4 KiB; for larger ones every one in the
/// first 1 KiB (all headers and the first part headers), then 150 spread over the rest.
fn cuts(len: usize) -> Vec<usize> {
    if len <= 4096 {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..1024).collect();
    let step = (len - 1024) / 150 + 1;
    v.extend((1024..len).step_by(step));
    v
}

#[test]
fn truncations_never_panic_and_are_reported() {
    for (path, data) in corpus() {
        let (full, _) = dissect(&data);
        if data.first() != Some(&0x8C) {
            continue;
        }
        // Header nodes of the whole PDU (before the body), and where its body starts.
        let headers: Vec<&Node> = full
            .children
            .iter()
            .filter(|n| n.expert.is_none() && n.name != "Body")
            .collect();
        let body = full.child("Body");
        let multipart_body = body.is_some_and(|b| b.display.starts_with("multipart"));
        for cut in cuts(data.len()) {
            let (tree, errors) = dissect(&data[..cut]);
            let ctx = format!("{} cut at {cut}", path.display());
            let inside_header = headers
                .iter()
                .any(|h| h.range.start < cut && cut < h.range.end);
            let inside_multipart = multipart_body && body.is_some_and(|b| cut >= b.range.start);
            if cut == 0 || inside_header || inside_multipart {
                assert!(errors > 0, "{ctx}: no error node");
                assert_eq!(tree.worst(), Some(Severity::Error), "{ctx}");
            }
            // The headers wholly before the cut decode exactly as in the whole PDU.
            for h in headers.iter().filter(|h| h.range.end <= cut) {
                let same = tree
                    .children
                    .iter()
                    .find(|n| n.range == h.range && n.name == h.name);
                assert!(
                    same.is_some_and(|n| n.display == h.display && n.value == h.value),
                    "{ctx}: header {} at {:?} differs",
                    h.name,
                    h.range
                );
            }
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    for (path, data) in corpus() {
        // Every bit of the first 512 octets for small PDUs; one bit per octet (rotating) of the
        // first 160 octets (the headers) for large ones.
        let n = data.len().min(if data.len() <= 4096 { 512 } else { 160 });
        let small = data.len() <= 4096;
        let mut buf = data.clone();
        for i in 0..n {
            let bits: Vec<u8> = if small {
                (0..8).collect()
            } else {
                vec![(i % 8) as u8]
            };
            for b in bits {
                buf[i] ^= 1 << b;
                let (tree, _) = dissect(&buf);
                assert_eq!(tree.name, "MMS", "{}", path.display());
                buf[i] ^= 1 << b;
            }
        }
    }
}

#[test]
fn looks_like_mms_on_the_corpus() {
    for (path, data) in corpus() {
        let is_pdu = data.first() == Some(&0x8C);
        assert_eq!(mms::looks_like_mms(&data), is_pdu, "{}", path.display());
        // Never true on a prefix shorter than type + one header.
        assert!(!mms::looks_like_mms(&data[..data.len().min(2)]));
    }
}
