//! Textual MIME: media types with parameters (RFC 9110 section 8.3.1) and multipart bodies
//! (RFC 2046 section 5.1, multipart/related RFC 2387), with Content-Transfer-Encoding base64
//! and quoted-printable undone.

use super::head::Header;
use crate::tree::{Node, Severity, Value, escape_text};
use std::ops::Range;

/// A media type: `type/subtype` in lower case and its parameters (names lower case, values
/// unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    pub essence: String,
    pub params: Vec<(String, String)>,
}

impl MediaType {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_multipart(&self) -> bool {
        self.essence.starts_with("multipart/")
    }
}

/// Parse a Content-Type value such as `multipart/related; boundary=xyz; type="application/xml"`.
/// Whether Content-Type `value` names media type `essence` (given in lower case), as
/// [`parse_media_type`]'s `essence` would, without parsing (and allocating) the parameters:
/// every HTTP message is asked whether it is an MMS PDU.
pub fn essence_is(value: &str, essence: &str) -> bool {
    let value = value.trim();
    let end = value.find(';').unwrap_or(value.len());
    value[..end].trim().eq_ignore_ascii_case(essence)
}

pub fn parse_media_type(value: &str) -> Option<MediaType> {
    let mut rest = value.trim();
    let end = rest.find(';').unwrap_or(rest.len());
    let essence = rest[..end].trim().to_ascii_lowercase();
    if essence.is_empty() {
        return None;
    }
    rest = &rest[end..];
    let mut params = Vec::new();
    while let Some(r) = rest.strip_prefix(';') {
        let r = r.trim_start();
        let Some(eq) = r.find('=') else {
            rest = match r.find(';') {
                Some(i) => &r[i..],
                None => "",
            };
            continue;
        };
        let name = r[..eq].trim().to_ascii_lowercase();
        let v = r[eq + 1..].trim_start();
        let (val, after) = if let Some(q) = v.strip_prefix('"') {
            // quoted-string with backslash escapes
            let mut out = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => out.push(c),
                }
            }
            (out, &q[end.min(q.len())..])
        } else {
            let e = v.find(';').unwrap_or(v.len());
            (v[..e].trim().to_string(), &v[e..])
        };
        params.push((name, val));
        rest = after.trim_start();
        if !rest.is_empty() && !rest.starts_with(';') {
            rest = match rest.find(';') {
                Some(i) => &rest[i..],
                None => "",
            };
        }
    }
    Some(MediaType { essence, params })
}

/// How a part's content was transfer-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary or absent: the bytes are the content.
    Identity,
    Base64,
    QuotedPrintable,
    /// A value mmscope does not know; the bytes are left as they are.
    Unknown,
}

/// One body part of a multipart entity; ranges relative to the multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimePart {
    /// From the first byte of the part headers to the end of the content.
    pub range: Range<usize>,
    pub headers: Vec<Header>,
    /// The part's content as on the wire (before transfer decoding).
    pub content_range: Range<usize>,
    pub transfer_encoding: TransferEncoding,
    /// The content with the transfer encoding undone.
    pub content: Vec<u8>,
    /// Problems with this part: (message, range in the multipart body).
    pub notes: Vec<(String, Range<usize>)>,
}

impl MimePart {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::head::header(&self.headers, name).map(|h| h.value.as_str())
    }

    pub fn media_type(&self) -> Option<MediaType> {
        self.header("content-type").and_then(parse_media_type)
    }
}

/// A parsed multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    pub boundary: String,
    pub preamble: Range<usize>,
    pub parts: Vec<MimePart>,
    pub epilogue: Range<usize>,
    /// The close delimiter (`--boundary--`) was found.
    pub closed: bool,
    pub notes: Vec<(String, Range<usize>)>,
}

impl Multipart {
    /// The multipart's tree; ranges relative to the body it was parsed from. The decoded
    /// content of a transfer-encoded part is in `parts[i].content`, not in that body.
    pub fn tree(&self) -> Node {
        let end = self.epilogue.end;
        let mut root = Node::group(
            "Multipart",
            format!(
                "{} parts, boundary {}",
                self.parts.len(),
                escape_text(&self.boundary)
            ),
            0..end,
        );
        if !self.preamble.is_empty() {
            root.push(Node::new(
                "Preamble",
                format!("{} bytes", self.preamble.len()),
                Value::Bytes,
                self.preamble.clone(),
            ));
        }
        for (i, p) in self.parts.iter().enumerate() {
            let media = p
                .media_type()
                .map(|m| m.essence)
                .unwrap_or_else(|| "text/plain (default)".into());
            let mut n = Node::group(
                format!("Part {}", i + 1),
                format!("{}, {} bytes", escape_text(&media), p.content.len()),
                p.range.clone(),
            );
            for h in &p.headers {
                n.push(Node::new(
                    h.name.clone(),
                    escape_text(&h.value),
                    Value::Text(h.value.to_string()),
                    h.range.clone(),
                ));
            }
            let te = match p.transfer_encoding {
                TransferEncoding::Identity => String::new(),
                TransferEncoding::Base64 => {
                    format!(
                        ", base64: {} → {} bytes",
                        p.content_range.len(),
                        p.content.len()
                    )
                }
                TransferEncoding::QuotedPrintable => format!(
                    ", quoted-printable: {} → {} bytes",
                    p.content_range.len(),
                    p.content.len()
                ),
                TransferEncoding::Unknown => ", unknown transfer encoding".into(),
            };
            n.push(Node::new(
                "Content",
                format!("{} bytes{te}", p.content.len()),
                Value::UInt(p.content.len() as u64),
                p.content_range.clone(),
            ));
            for (m, r) in &p.notes {
                n.push(Node::expert(Severity::Error, "mime", m.clone(), r.clone()));
            }
            root.push(n);
        }
        if !self.epilogue.is_empty() {
            root.push(Node::new(
                "Epilogue",
                format!("{} bytes", self.epilogue.len()),
                Value::Bytes,
                self.epilogue.clone(),
            ));
        }
        for (m, r) in &self.notes {
            root.push(Node::expert(Severity::Error, "mime", m.clone(), r.clone()));
        }
        root
    }
}

/// Most parts accepted in one multipart body.
pub const MAX_PARTS: usize = 1000;

/// Find every delimiter line `--boundary` that starts a line: returns (start of the CRLF
/// before it or of the delimiter at body start, end of the delimiter text).
fn find_delimiters(body: &[u8], boundary: &[u8]) -> Vec<(usize, usize)> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let mut out = Vec::new();
    let mut i = 0;
    while i + delim.len() <= body.len() {
        let Some(p) = body[i..]
            .windows(delim.len())
            .position(|w| w == delim.as_slice())
        else {
            break;
        };
        let at = i + p;
        let line_start = at == 0 || body[at - 1] == b'\n';
        if line_start {
            // The CRLF before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
            let before = if at >= 2 && &body[at - 2..at] == b"\r\n" {
                at - 2
            } else if at >= 1 && body[at - 1] == b'\n' {
                at - 1
            } else {
                at
            };
            out.push((before, at + delim.len()));
        }
        i = at + delim.len();
    }
    out
}

/// Parse a multipart body with the given boundary.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Multipart {
    let mut mp = Multipart {
        boundary: boundary.to_string(),
        preamble: 0..0,
        parts: Vec::new(),
        epilogue: body.len()..body.len(),
        closed: false,
        notes: Vec::new(),
    };
    if boundary.is_empty() || boundary.len() > 70 {
        mp.notes.push((
            format!("boundary {boundary:?} is not 1 to 70 characters (RFC 2046 5.1.1)"),
            0..0,
        ));
        if boundary.is_empty() {
            mp.preamble = 0..body.len();
            return mp;
        }
    }
    let delims = find_delimiters(body, boundary.as_bytes());
    let Some(first) = delims.first() else {
        mp.notes.push((
            format!("no delimiter --{boundary} in the body"),
            0..body.len(),
        ));
        mp.preamble = 0..body.len();
        return mp;
    };
    mp.preamble = 0..first.0;
    for (k, &(_, dend)) in delims.iter().enumerate() {
        // Close delimiter?
        if body[dend..].starts_with(b"--") {
            mp.closed = true;
            // Epilogue starts after the rest of that line.
            let after = dend + 2;
            let eol = body[after..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| after + p + 1)
                .unwrap_or(body.len());
            mp.epilogue = eol..body.len();
            break;
        }
        // Skip transport padding to the end of the delimiter line.
        let Some(eol) = body[dend..].iter().position(|&b| b == b'\n') else {
            mp.notes
                .push(("delimiter line not terminated".into(), dend..body.len()));
            break;
        };
        let part_start = dend + eol + 1;
        let part_end = match delims.get(k + 1) {
            Some(&(s, _)) => s,
            None => {
                mp.notes.push((
                    format!("multipart body ends without the close delimiter --{boundary}--"),
                    body.len()..body.len(),
                ));
                body.len()
            }
        };
        if mp.parts.len() >= MAX_PARTS {
            mp.notes.push((
                format!("more than {MAX_PARTS} parts; the rest is not decoded"),
                part_start..body.len(),
            ));
            break;
        }
        mp.parts
            .push(parse_part(body, part_start, part_end.max(part_start)));
    }
    mp
}

fn parse_part(body: &[u8], start: usize, end: usize) -> MimePart {
    let slice = &body[start..end];
    let mut notes = Vec::new();
    // Headers end at the first empty line. A part may have no headers at all (starts with CRLF).
    let (headers, content_start) = if slice.starts_with(b"\r\n") {
        (Vec::new(), 2)
    } else if slice.starts_with(b"\n") {
        (Vec::new(), 1)
    } else {
        match super::head::find_head_end(slice) {
            Some(hend) => (parse_part_headers(&slice[..hend], start), hend),
            None => {
                notes.push((
                    "part headers not terminated by an empty line".into(),
                    start..end,
                ));
                (parse_part_headers(slice, start), slice.len())
            }
        }
    };
    let content_range = start + content_start..end;
    let raw = &body[content_range.clone()];
    let cte = super::head::header(&headers, "content-transfer-encoding")
        .map(|h| h.value.trim().to_ascii_lowercase());
    let te = match cte.as_deref() {
        None | Some("7bit" | "8bit" | "binary") => TransferEncoding::Identity,
        Some("base64") => TransferEncoding::Base64,
        Some("quoted-printable") => TransferEncoding::QuotedPrintable,
        Some(_) => TransferEncoding::Unknown,
    };
    let content = match te {
        TransferEncoding::Identity => raw.to_vec(),
        TransferEncoding::Unknown => {
            notes.push((
                format!(
                    "unknown Content-Transfer-Encoding {:?}; content left as is",
                    cte.unwrap_or_default()
                ),
                content_range.clone(),
            ));
            raw.to_vec()
        }
        TransferEncoding::Base64 => match decode_base64_lenient(raw) {
            Ok(d) => d,
            Err((d, msg)) => {
                notes.push((msg, content_range.clone()));
                d
            }
        },
        TransferEncoding::QuotedPrintable => decode_quoted_printable(raw),
    };
    MimePart {
        range: start..end,
        headers,
        content_range,
        transfer_encoding: te,
        content,
        notes,
    }
}

fn parse_part_headers(block: &[u8], base: usize) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    let mut pos = 0;
    while pos < block.len() {
        let nl = block[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| pos + p)
            .unwrap_or(block.len());
        let end = if nl > pos && block[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let line = &block[pos..end];
        if line.is_empty() {
            break;
        }
        if (line[0] == b' ' || line[0] == b'\t') && !out.is_empty() {
            let h = out.last_mut().unwrap();
            h.value.push(' ');
            h.value.push_str(String::from_utf8_lossy(line).trim());
            h.range.end = base + end;
            h.value_range.end = base + end;
        } else if let Some(c) = line.iter().position(|&b| b == b':') {
            let v = String::from_utf8_lossy(&line[c + 1..]);
            let lead = v.len() - v.trim_start().len();
            out.push(Header {
                name: String::from_utf8_lossy(&line[..c]).trim().into(),
                value: v.trim().into(),
                range: base + pos..base + end,
                value_range: (base + pos + c + 1 + lead).min(base + end)..base + end,
            });
        }
        pos = nl + 1;
    }
    out
}

/// Decode base64 that may be broken into lines (RFC 2045 section 6.8): whitespace is ignored,
/// padding optional. On a bad character, returns what decoded before it and a message.
pub fn decode_base64_lenient(raw: &[u8]) -> Result<Vec<u8>, (Vec<u8>, String)> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let clean: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    match ENGINE.decode(&clean) {
        Ok(d) => Ok(d),
        Err(e) => {
            // Decode the longest clean prefix made of whole 4-character groups.
            let bad = clean
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
                .unwrap_or(clean.len());
            let prefix = &clean[..bad - bad % 4];
            let d = ENGINE.decode(prefix).unwrap_or_default();
            Err((
                d,
                format!(
                    "base64 content is invalid ({e}); decoded {} bytes before the error",
                    prefix.len() / 4 * 3
                ),
            ))
        }
    }
}

/// Decode quoted-printable (RFC 2045 section 6.7): `=XX` octets and soft line breaks.
/// A malformed `=` sequence is kept literally.
pub fn decode_quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < raw.len() {
        let b = raw[i];
        if b == b'=' {
            if raw.get(i + 1) == Some(&b'\r') && raw.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if raw.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essence_is_agrees_with_parse_media_type() {
        for value in [
            "application/vnd.wap.mms-message",
            " Application/VND.WAP.MMS-Message ; charset=x",
            "application/vnd.wap.mms-message;",
            "application/vnd.wap.mms-messages",
            "text/plain",
            "",
            " ; a=b",
            "\u{a0}application/vnd.wap.mms-message\u{a0};",
        ] {
            let parsed = parse_media_type(value)
                .is_some_and(|m| m.essence == "application/vnd.wap.mms-message");
            assert_eq!(
                essence_is(value, "application/vnd.wap.mms-message"),
                parsed,
                "{value:?}"
            );
        }
    }

    #[test]
    fn media_type_with_quoted_params() {
        let m = parse_media_type(
            r#"Multipart/Related; boundary=asdlfkjiurwghasf; type="application/xml""#,
        )
        .unwrap();
        assert_eq!(m.essence, "multipart/related");
        assert_eq!(m.param("BOUNDARY"), Some("asdlfkjiurwghasf"));
        assert_eq!(m.param("type"), Some("application/xml"));
        let m = parse_media_type(r#"text/plain; a="x\"y;z"; b=2"#).unwrap();
        assert_eq!(m.param("a"), Some("x\"y;z"));
        assert_eq!(m.param("b"), Some("2"));
    }

    #[test]
    fn multipart_preamble_parts_epilogue() {
        let body = b"preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--XX  \r\n\r\nno headers\r\n--XX\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--XX\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc\r\n--XX--\r\nepilogue";
        let mp = parse_multipart(body, "XX");
        assert!(mp.closed);
        assert_eq!(&body[mp.preamble.clone()], b"preamble");
        assert_eq!(&body[mp.epilogue.clone()], b"epilogue");
        assert_eq!(mp.parts.len(), 4);
        assert_eq!(mp.parts[0].content, b"first");
        assert_eq!(mp.parts[0].header("content-type"), Some("text/plain"));
        assert_eq!(mp.parts[1].content, b"no headers");
        assert!(mp.parts[1].headers.is_empty());
        assert_eq!(mp.parts[2].content, b"hello");
        assert_eq!(mp.parts[2].transfer_encoding, TransferEncoding::Base64);
        assert_eq!(mp.parts[3].content, b"a=bc");
        assert!(mp.notes.is_empty());
        let t = mp.tree();
        assert_eq!(t.children.len(), 6);
        let p3 = t.child("Part 3").unwrap();
        assert_eq!(
            p3.child("Content").unwrap().display,
            "5 bytes, base64: 10 → 5 bytes"
        );
        assert_eq!(
            &body[p3.child("Content").unwrap().range.clone()],
            b"aGVs\r\nbG8="
        );
    }

    #[test]
    fn multipart_without_close_delimiter_is_reported() {
        let mp = parse_multipart(b"--b\r\n\r\nabc", "b");
        assert!(!mp.closed);
        assert_eq!(mp.parts[0].content, b"abc");
        assert_eq!(mp.notes.len(), 1);
    }

    #[test]
    fn bad_base64_keeps_prefix() {
        let (d, msg) = decode_base64_lenient(b"aGVsbG8g!!!!").unwrap_err();
        assert_eq!(d, b"hello ");
        assert!(msg.contains("base64"));
    }
}
