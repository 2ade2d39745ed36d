//! The message body after Content-Type: multipart entries (via codec::multipart, nested
//! multiparts included), single-part bodies, transfer encodings (base64, quoted-printable)
//! decoded into derived buffers, text and SMIL decoded with their charset, embedded MMS PDUs.

use super::Ctx;
use crate::codec::charset;
use crate::codec::content_type::{ContentType, starts_with_ignore_case};
use crate::codec::multipart::{self, Part};
use crate::codec::primitives::*;
use crate::model::PartSummary;
use crate::tree::{BufferId, Node, Severity, Value, escape_text};
use compact_str::CompactString;
use std::borrow::Cow;
use std::ops::Range;

/// Longest text kept in a node's value; longer text is cut with a note.
const MAX_TEXT: usize = 64 * 1024;
/// Characters shown in a text node's display line.
const DISPLAY_CHARS: usize = 120;

/// Quoted-printable (RFC 2045 6.7) decode. Returns the bytes and the offset (in the input) of the
/// first invalid escape, if any (invalid escapes are kept literally).
pub fn quoted_printable(input: &[u8]) -> (Vec<u8>, Option<usize>) {
    let mut out = Vec::with_capacity(input.len());
    let mut bad = None;
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < input.len() {
        let b = input[i];
        if b == b'=' {
            match (input.get(i + 1), input.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push(hex(h).unwrap_or(0) << 4 | hex(l).unwrap_or(0));
                    i += 3;
                }
                _ => {
                    bad.get_or_insert(i);
                    out.push(b);
                    i += 1;
                }
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    (out, bad)
}

/// Base64 decode ignoring line breaks and white space. Returns what could be decoded and, on
/// error, the offset in the input of the first octet that could not be decoded and why (the
/// decoded part then stops at the last whole 4-symbol quantum before it).
pub fn base64_decode(input: &[u8]) -> (Vec<u8>, Option<(usize, String)>) {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let mut clean = Vec::with_capacity(input.len());
    let mut map = Vec::with_capacity(input.len());
    for (i, &b) in input.iter().enumerate() {
        if !b.is_ascii_whitespace() {
            clean.push(b);
            map.push(i);
        }
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    match engine.decode(&clean) {
        Ok(v) => (v, None),
        Err(e) => {
            let sym = match e {
                base64::DecodeError::InvalidByte(o, _)
                | base64::DecodeError::InvalidLastSymbol { offset: o, .. } => o,
                base64::DecodeError::InvalidLength(n) => n / 4 * 4,
                _ => clean.len() / 4 * 4,
            };
            let keep = (sym / 4 * 4).min(clean.len());
            let partial = engine.decode(&clean[..keep]).unwrap_or_default();
            let at = map.get(sym).copied().unwrap_or(input.len());
            let why = match e {
                base64::DecodeError::InvalidLength(n) => format!(
                    "{n} base64 symbols: the last quantum has {} symbol(s), at least 2 are needed (data cut?)",
                    n % 4
                ),
                other => other.to_string(),
            };
            (partial, Some((at, why)))
        }
    }
}

fn is_textual(media: &str) -> bool {
    let ends_with_xml =
        media.len() >= 4 && media.as_bytes()[media.len() - 4..].eq_ignore_ascii_case(b"+xml");
    starts_with_ignore_case(media, "text/")
        || media.eq_ignore_ascii_case("application/smil")
        || media.eq_ignore_ascii_case("application/xml")
        || ends_with_xml
        || media.eq_ignore_ascii_case("application/x-sms")
}

/// Nodes that show the content of `range` (of buffer `buffer`, `data` being that buffer's
/// bytes): text decoded with its charset, an embedded PDU, or bytes.
#[allow(clippy::too_many_arguments)]
fn content_nodes(
    ctx: &mut Ctx,
    data: &[u8],
    buffer: BufferId,
    range: Range<usize>,
    ct: Option<&ContentType>,
    label: &str,
    depth: usize,
) -> Vec<Node> {
    let media = ct.map(|c| c.media.as_str()).unwrap_or("");
    let bytes = &data[range.clone()];
    let mut out = Vec::new();
    if media.eq_ignore_ascii_case("application/vnd.wap.mms-message") && buffer == 0 {
        if depth + 1 < multipart::MAX_DEPTH {
            let r = super::decode_pdu(ctx, data, range.clone(), depth + 1);
            let mut n = r.node;
            n.name = "Embedded MMS PDU".into();
            out.push(n);
        } else {
            out.push(Node::expert(
                Severity::Warning,
                "limit",
                format!(
                    "embedded MMS PDU nested deeper than {}: kept as bytes",
                    multipart::MAX_DEPTH
                ),
                range.clone(),
            ));
        }
        return out;
    }
    if is_textual(media) {
        let mib = ct.and_then(|c| c.charset());
        let (text, note): (Cow<str>, _) = match mib {
            Some(m) => {
                let d = charset::decode(m, bytes);
                // Borrowed when the octets are the text (UTF-8, US-ASCII): without the tree
                // it is then not copied at all.
                (d.text, d.note)
            }
            None => {
                // No charset parameter: US-ASCII by default (RFC 2046 4.1.2); UTF-8 is what
                // phones send when they omit it, so decode as UTF-8 and say when it is not.
                let t = charset::utf8_lossy(bytes);
                // Owned only when something had to be replaced. (Kept borrowed: without the
                // tree the text is not copied at all.)
                let note = matches!(t, Cow::Owned(_))
                    .then(|| "text without charset is not valid UTF-8 (shown lossy)".to_string());
                (t, note)
            }
        };
        let mut text_node_buffer = buffer;
        let mut text_range = range.clone();
        if let Some(m) = mib.filter(|m| !matches!(m, 3 | 106) && charset::name(*m).is_some())
            && !text.is_empty()
            && let Some(id) =
                ctx.derive(|| format!("{label} text decoded from {}", charset::describe(m)))
        {
            ctx.fill(id, text.as_bytes());
            text_node_buffer = id;
            text_range = 0..text.len();
        }
        let shown = ctx.label(|| {
            let mut shown: String = text.chars().take(DISPLAY_CHARS).collect();
            if text.chars().nth(DISPLAY_CHARS).is_some() {
                shown.push('…');
            }
            escape_text(&shown)
        });
        // The value (with the tree only) holds at most MAX_TEXT octets of the text.
        let cut = text.len() > MAX_TEXT;
        let value = if ctx.tree() {
            let mut value_text = text.into_owned();
            if cut {
                let mut end = MAX_TEXT;
                while !value_text.is_char_boundary(end) {
                    end -= 1;
                }
                value_text.truncate(end);
            }
            Value::Text(value_text)
        } else {
            Value::None
        };
        let mut n = Node::new(
            ctx.label(|| {
                if media.eq_ignore_ascii_case("application/smil") {
                    "SMIL".into()
                } else {
                    "Text".into()
                }
            }),
            shown,
            value,
            text_range,
        );
        n.buffer = text_node_buffer;
        if cut {
            ctx.attach_with(&mut n.children, || {
                let mut c = Node::expert(
                    Severity::Note,
                    "limit",
                    format!("text longer than {MAX_TEXT} octets: value cut"),
                    range.clone(),
                );
                c.buffer = buffer;
                c
            });
        }
        if let Some(note) = note {
            let mut w = Node::expert(Severity::Warning, "charset", note, range.clone());
            w.buffer = buffer;
            n.push(w);
        }
        ctx.attach(&mut out, n);
        return out;
    }
    ctx.attach_with(&mut out, || {
        let mut n = Node::new(
            "Data",
            format!("{} octets", bytes.len()),
            Value::Bytes,
            range,
        );
        n.buffer = buffer;
        n
    });
    out
}

/// Nodes for a part's data: transfer decoding, then the content.
fn data_nodes(
    ctx: &mut Ctx,
    buf: &[u8],
    range: Range<usize>,
    ct: Option<&ContentType>,
    cte: Option<&str>,
    label: &str,
    depth: usize,
) -> Vec<Node> {
    let enc = cte.map(|s| s.trim().to_ascii_lowercase());
    let bytes = &buf[range.clone()];
    let decoded = match enc.as_deref() {
        Some("base64") => {
            let (d, err) = base64_decode(bytes);
            Some((d, err.map(|(at, e)| (range.start + at, e))))
        }
        Some("quoted-printable") => {
            let (d, bad) = quoted_printable(bytes);
            Some((
                d,
                bad.map(|b| {
                    (
                        range.start + b,
                        "invalid quoted-printable escape (kept literally)".to_string(),
                    )
                }),
            ))
        }
        _ => None,
    };
    let Some((d, err)) = decoded else {
        let mut v = content_nodes(ctx, buf, 0, range.clone(), ct, label, depth);
        if let Some(e) = enc.filter(|e| !matches!(e.as_str(), "7bit" | "8bit" | "binary")) {
            v.push(Node::expert(
                Severity::Warning,
                "transfer-encoding",
                format!(
                    "unknown Content-Transfer-Encoding \"{}\": data shown as is",
                    escape_text(&e)
                ),
                range,
            ));
        }
        return v;
    };
    let enc = enc.unwrap_or_default();
    let mut out = Vec::new();
    ctx.attach_with(&mut out, || {
        Node::new(
            "Encoded data",
            format!("{} octets", range.len()),
            Value::Bytes,
            range.clone(),
        )
    });
    if let Some((at, e)) = err {
        out.push(Node::expert(
            Severity::Error,
            "transfer-encoding",
            format!(
                "{enc} decoding failed at byte {at}: {e}; {} octets decoded before it",
                d.len()
            ),
            at..range.end.max(at + 1),
        ));
    }
    let len = d.len();
    // The buffer is numbered before the content's own derived buffers, and filled after the
    // content nodes read the decoded bytes.
    if let Some(id) = ctx.derive(|| format!("{label} ({enc} decoded)")) {
        let mut n = Node::new(
            ctx.label(|| format!("Decoded {enc}")),
            ctx.label(|| format!("{len} octets from {} encoded octets", range.len())),
            Value::Bytes,
            0..len,
        );
        n.children = content_nodes(ctx, &d, id, 0..len, ct, label, depth);
        ctx.fill(id, &d);
        n.buffer = id;
        ctx.attach(&mut out, n);
    }
    out
}

fn part_tree(ctx: &mut Ctx, buf: &[u8], p: &Part, label: &str, depth: usize) -> Node {
    let display = ctx.label(|| {
        let mut display = format!(
            "{} ({} octets)",
            if p.media().is_empty() { "?" } else { p.media() },
            p.data_range.len()
        );
        if let Some(n) = &p.name() {
            display.push_str(&format!(" name={}", escape_text(n)));
        }
        display
    });
    let mut node = Node::group(label.to_string(), display, p.range.clone());
    if ctx.tree()
        && let Ok((hl, q)) = uintvar(buf, p.range.start)
    {
        node.push(Node::new(
            "Headers length",
            hl.to_string(),
            Value::UInt(u64::from(hl)),
            p.range.start..q,
        ));
        if let Ok((dl, r)) = uintvar(buf, q) {
            node.push(Node::new(
                "Data length",
                dl.to_string(),
                Value::UInt(u64::from(dl)),
                q..r,
            ));
        }
    }
    if let Some(ct) = &p.content_type {
        if ctx.tree() {
            node.push(ct.node("Content-Type"));
        } else {
            // Of the Content-Type node, only its notes can count.
            for n in &ct.notes {
                ctx.attach_ref(&mut node.children, n);
            }
        }
    }
    for h in &p.headers.headers {
        // Without the tree, only a header holding a note the summary counts is kept (the
        // node is built only then).
        if ctx.tree() || h.all_notes().any(super::counts) {
            node.children.push(h.node());
        }
    }
    if let Some(e) = &p.headers.error {
        node.push(e.node(p.headers_range.end));
    }
    for e in &p.errors {
        node.push(e.node(p.range.end));
    }
    match &p.nested {
        Some(m) => {
            let nested = multipart_tree(ctx, buf, m, label, depth);
            ctx.attach(&mut node.children, nested);
        }
        None => {
            let cte = p.header_text("Content-Transfer-Encoding");
            let nodes = data_nodes(
                ctx,
                buf,
                p.data_range.clone(),
                p.content_type.as_ref(),
                cte,
                label,
                depth,
            );
            node.children.extend(nodes);
        }
    }
    node
}

fn multipart_tree(
    ctx: &mut Ctx,
    buf: &[u8],
    m: &multipart::Multipart,
    label: &str,
    depth: usize,
) -> Node {
    let mut n = Node::group(
        ctx.label(|| "Multipart".into()),
        ctx.label(|| format!("{} part(s)", m.parts.len())),
        m.range.clone(),
    );
    if let Ok((cnt, q)) = uintvar(buf, m.range.start) {
        ctx.attach_with(&mut n.children, || {
            Node::new(
                "Entries",
                cnt.to_string(),
                Value::UInt(u64::from(cnt)),
                m.range.start..q,
            )
        });
    }
    for p in &m.parts {
        let l = ctx.label(|| {
            if label.is_empty() {
                format!("Part {}", p.index + 1)
            } else {
                format!("{label}.{}", p.index + 1)
            }
        });
        let part = part_tree(ctx, buf, p, &l, depth);
        ctx.attach(&mut n.children, part);
    }
    for e in &m.errors {
        n.push(e.node(m.range.end));
    }
    n
}

/// Content-ID without its angle brackets, for comparing with a Start parameter.
fn bare_id(s: &str) -> &str {
    s.trim().trim_start_matches('<').trim_end_matches('>')
}

/// multipart/related (RFC 2387, OMA-MMS-ENC 1.3 7.2.4 / 7.3.11): the Start parameter names the
/// root part by its Content-ID, and Type is that part's media type.
fn related_checks(ct: &ContentType, m: &multipart::Multipart) -> Vec<Node> {
    let mut out = Vec::new();
    let Some(start) = ct.param("Start") else {
        return out;
    };
    let root = m.parts.iter().find(|p| {
        p.header_text("Content-ID")
            .is_some_and(|id| bare_id(id) == bare_id(&start.display))
    });
    match root {
        None => out.push(Node::expert(
            Severity::Warning,
            "start-part",
            format!(
                "Start parameter \"{}\" names no part's Content-ID",
                escape_text(&start.display)
            ),
            start.range.clone(),
        )),
        Some(p) => {
            if let Some(ty) = ct.param("Type")
                && !ty.display.eq_ignore_ascii_case(p.media())
            {
                out.push(Node::expert(
                    Severity::Warning,
                    "start-part",
                    format!(
                        "Type parameter is {} but the start part (part {}) is {}",
                        escape_text(&ty.display),
                        p.index + 1,
                        p.media()
                    ),
                    ty.range.clone(),
                ));
            }
        }
    }
    out
}

/// Decode the body in `range` with content type `ct`. Returns the body node and the summary of
/// its (top-level) parts.
pub fn decode_body(
    ctx: &mut Ctx,
    buf: &[u8],
    range: Range<usize>,
    ct: Option<&ContentType>,
    depth: usize,
) -> (Node, Vec<PartSummary>) {
    if ct.is_some_and(|c| c.is_multipart()) {
        let m = multipart::decode_multipart(buf, range.clone(), depth);
        let mut node = multipart_tree(ctx, buf, &m, "", depth);
        node.name = ctx.label(|| "Body".into());
        if let Some(c) = ct {
            node.children.extend(related_checks(c, &m));
        }
        node.display = ctx.label(|| {
            format!(
                "multipart, {} part(s), {} octets",
                m.parts.len(),
                range.len()
            )
        });
        // The decoded parts are dropped here: their texts move into the summary (not copied).
        // (Pushed into a list of its own: collecting from `into_iter` would reuse the parts'
        // allocation and shrink it with a realloc.)
        let mut parts = Vec::with_capacity(m.parts.len());
        for mut p in m.parts {
            parts.push(PartSummary {
                content_type: p
                    .content_type
                    .as_mut()
                    .map(|c| std::mem::take(&mut c.media))
                    .unwrap_or_default(),
                size: p.data_range.len(),
                name: p.take_name().map(CompactString::from),
                content_location: p
                    .take_header_text("Content-Location")
                    .map(CompactString::from),
                content_id: p.take_header_text("Content-ID").map(CompactString::from),
            });
        }
        (node, parts)
    } else {
        let mut node = Node::group(
            ctx.label(|| "Body".into()),
            ctx.label(|| format!("single part, {} octets", range.len())),
            range.clone(),
        );
        node.children = data_nodes(ctx, buf, range.clone(), ct, None, "Body", depth);
        let parts = if range.is_empty() {
            Vec::new()
        } else {
            vec![PartSummary {
                content_type: ct.map(|c| c.media.clone()).unwrap_or_default(),
                size: range.len(),
                name: ct.and_then(|c| c.param("Name").map(|p| p.display.as_str().into())),
                content_location: None,
                content_id: None,
            }]
        };
        (node, parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text/plain part's nodes without the tree (the batch path), and whether they hold
    /// the note on text that is not UTF-8.
    fn says_not_utf8(text: &[u8]) -> bool {
        let (ct, _) = crate::codec::content_type::content_type(b"\x83", 0).unwrap();
        assert_eq!(ct.media, "text/plain");
        let mut ctx = Ctx::summary_only(1);
        let nodes = content_nodes(&mut ctx, text, 0, 0..text.len(), Some(&ct), "Part", 0);
        nodes
            .iter()
            .flat_map(|n| n.walk())
            .any(|n| n.display.contains("not valid UTF-8") && n.expert.is_some())
    }

    #[test]
    fn textual_media_types_ignore_ascii_case() {
        for m in [
            "text/plain",
            "TEXT/x-vCard",
            "application/SMIL",
            "application/xml",
            "image/svg+XML",
            "application/x-sms",
        ] {
            assert!(is_textual(m), "{m}");
        }
        for m in [
            "image/jpeg",
            "application/smil2",
            "xml",
            "+xm",
            "",
            "téxt/plain",
            "text",
        ] {
            assert!(!is_textual(m), "{m}");
        }
    }

    #[test]
    fn text_without_charset_is_checked_for_utf8() {
        assert!(!says_not_utf8("héllo wörld".as_bytes()));
        assert!(!says_not_utf8(b""));
        assert!(says_not_utf8(b"h\xe9llo"));
        assert!(says_not_utf8(b"cut at the end \xe6"));
    }

    #[test]
    fn qp_and_base64() {
        assert_eq!(quoted_printable(b"a=3Db=\r\nc").0, b"a=bc");
        assert_eq!(quoted_printable(b"a=zz").1, Some(1));
        assert_eq!(base64_decode(b"aGVs\r\nbG8=").0, b"hello");
        // An invalid symbol: its input offset, and the whole quanta before it decoded.
        let (d, e) = base64_decode(b"aGVsbG8g*29ybGQ=");
        assert_eq!((d.as_slice(), e.unwrap().0), (&b"hello "[..], 8));
        // 5 symbols: the last quantum has one symbol, which cannot be decoded.
        let (d, e) = base64_decode(b"aGVsb");
        assert_eq!((d.as_slice(), e.unwrap().0), (&b"hel"[..], 4));
    }
}
