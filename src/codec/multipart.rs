//! application/vnd.wap.multipart.* bodies (WAP-230 8.5): uintvar nEntries, then per entry
//! uintvar HeadersLen, uintvar DataLen, ContentType, Headers, Data. Nested multiparts are
//! decoded up to [`MAX_DEPTH`]; at most [`MAX_PARTS`] entries are decoded per multipart.

use super::content_type::{self, ContentType};
use super::headers::{self, HeaderBlock};
use super::primitives::*;
use crate::tree::{Node, Severity, Value};
use std::ops::Range;

/// Entries decoded per multipart; the rest is reported, not decoded.
pub const MAX_PARTS: usize = 1000;
/// Multiparts nested deeper than this are kept as bytes.
pub const MAX_DEPTH: usize = 8;

/// One entry of a multipart.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// 0-based position in its multipart.
    pub index: usize,
    /// The whole entry (length fields included).
    pub range: Range<usize>,
    /// ContentType and Headers (HeadersLen octets).
    pub headers_range: Range<usize>,
    /// The data (DataLen octets, clipped to the data available).
    pub data_range: Range<usize>,
    /// DataLen as declared.
    pub declared_data_len: u32,
    pub content_type: Option<ContentType>,
    pub headers: HeaderBlock,
    /// Problems in this entry (bad content type, data past the end, …).
    pub errors: Vec<CodecError>,
    /// The decoded inner multipart when this entry is one.
    pub nested: Option<Box<Multipart>>,
}

impl Part {
    /// Media type ("image/jpeg"), or "" when the content type could not be decoded.
    pub fn media(&self) -> &str {
        self.content_type
            .as_ref()
            .map(|c| c.media.as_str())
            .unwrap_or("")
    }

    /// A header's text value by name.
    pub fn header_text(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|h| h.text())
    }

    /// The Name / Filename parameter of Content-Type or Content-Disposition.
    pub fn name(&self) -> Option<String> {
        match self.name_at()? {
            NameAt::ContentType(i) => self
                .content_type
                .as_ref()
                .map(|c| c.params[i].display.clone()),
            NameAt::Header(h, i) => Some(self.headers.headers[h].params[i].display.clone()),
        }
    }

    /// [`Part::name`], moved out of the part (left empty): for a summary built from a part
    /// that is dropped next, without a copy.
    pub fn take_name(&mut self) -> Option<String> {
        let p = match self.name_at()? {
            NameAt::ContentType(i) => &mut self.content_type.as_mut()?.params[i],
            NameAt::Header(h, i) => &mut self.headers.headers[h].params[i],
        };
        Some(std::mem::take(&mut p.display))
    }

    /// Where [`Part::name`] is: a Name or Filename parameter of Content-Type (in this order),
    /// else the first filename or name parameter of a header.
    fn name_at(&self) -> Option<NameAt> {
        if let Some(ct) = &self.content_type {
            for n in ["Name", "Filename"] {
                if let Some(i) = ct.param_index(n) {
                    return Some(NameAt::ContentType(i));
                }
            }
        }
        for (h, header) in self.headers.headers.iter().enumerate() {
            for (i, p) in header.params.iter().enumerate() {
                if p.name.eq_ignore_ascii_case("filename") || p.name.eq_ignore_ascii_case("name") {
                    return Some(NameAt::Header(h, i));
                }
            }
        }
        None
    }

    /// [`Part::header_text`], moved out of the part (left empty; see [`Part::take_name`]).
    pub fn take_header_text(&mut self, name: &str) -> Option<String> {
        self.headers
            .get_mut(name)
            .and_then(headers::Header::take_text)
    }
}

/// Position of a part's name parameter: in its Content-Type's parameters, or parameter `.1` of
/// header `.0`.
enum NameAt {
    ContentType(usize),
    Header(usize, usize),
}

/// A decoded multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Multipart {
    pub range: Range<usize>,
    /// nEntries as declared.
    pub declared_entries: u32,
    pub parts: Vec<Part>,
    /// Structural problems (truncation, limits, count mismatch), each with its offset.
    pub errors: Vec<CodecError>,
    /// Nesting depth (0 = the outermost multipart).
    pub depth: usize,
}

impl Multipart {
    /// A generic tree: one node per part, headers and data as bytes. (The MMS dissector builds
    /// its own richer part nodes.)
    pub fn node(&self, buf: &[u8]) -> Node {
        let mut n = Node::group(
            "Multipart",
            format!(
                "{} part(s), {} declared",
                self.parts.len(),
                self.declared_entries
            ),
            self.range.clone(),
        );
        n.push(Node::new(
            "Entries",
            self.declared_entries.to_string(),
            Value::UInt(u64::from(self.declared_entries)),
            self.range.start..self.range.start.saturating_add(1).min(self.range.end),
        ));
        for p in &self.parts {
            n.push(part_node(p, buf));
        }
        for e in &self.errors {
            n.push(e.node(self.range.end));
        }
        n
    }
}

/// Generic node of a part.
pub fn part_node(p: &Part, buf: &[u8]) -> Node {
    let mut n = Node::group(
        format!("Part {}", p.index + 1),
        format!("{} ({} octets)", p.media(), p.data_range.len()),
        p.range.clone(),
    );
    if let Some(ct) = &p.content_type {
        n.push(ct.node("Content-Type"));
    }
    n.children.extend(p.headers.nodes(p.headers_range.end));
    for e in &p.errors {
        n.push(e.node(p.range.end));
    }
    match &p.nested {
        Some(m) => n.push(m.node(buf)),
        None => n.push(Node::new(
            "Data",
            format!("{} octets", p.data_range.len()),
            Value::Bytes,
            p.data_range.clone(),
        )),
    }
    n
}

/// Decode the multipart in `range` of `buf`. Never fails: what cannot be decoded is in
/// `errors`, and every part decoded before the problem is kept.
pub fn decode_multipart(buf: &[u8], range: Range<usize>, depth: usize) -> Multipart {
    let end = range.end.min(buf.len());
    let win = &buf[..end];
    let mut m = Multipart {
        range: range.start..end,
        declared_entries: 0,
        parts: Vec::new(),
        errors: Vec::new(),
        depth,
    };
    let mut pos = match uintvar(win, range.start) {
        Ok((n, p)) => {
            m.declared_entries = n;
            p
        }
        Err(e) => {
            m.errors.push(e);
            return m;
        }
    };
    while pos < end {
        if m.parts.len() >= MAX_PARTS {
            m.errors.push(CodecError::limit(
                pos,
                format!("at most {MAX_PARTS} parts decoded; the remaining octets are not"),
            ));
            break;
        }
        let start = pos;
        let (hlen, p) = match uintvar(win, pos) {
            Ok(v) => v,
            Err(e) => {
                m.errors.push(e);
                break;
            }
        };
        let (dlen, p) = match uintvar(win, p) {
            Ok(v) => v,
            Err(e) => {
                m.errors.push(e);
                break;
            }
        };
        let mut errors = Vec::new();
        let hend = p.saturating_add(hlen as usize);
        if hend > end {
            m.errors.push(CodecError::truncated(
                p,
                format!(
                    "part {} headers of {hlen} octets (HeadersLen), only {} left",
                    m.parts.len() + 1,
                    end - p
                ),
            ));
            break;
        }
        let dend_declared = hend.saturating_add(dlen as usize);
        let dend = dend_declared.min(end);
        if dend_declared > end {
            errors.push(CodecError::truncated(
                hend,
                format!(
                    "part data of {dlen} octets (DataLen), only {} left",
                    end - hend
                ),
            ));
        }
        let hwin = &buf[..hend];
        let (content_type, hstart) = match content_type::content_type(hwin, p) {
            Ok((c, n)) => (Some(c), n),
            Err(e) => {
                errors.push(e);
                (None, hend)
            }
        };
        let headers = headers::decode_headers(buf, hstart..hend);
        let mut part = Part {
            index: m.parts.len(),
            range: start..dend,
            headers_range: p..hend,
            data_range: hend..dend,
            declared_data_len: dlen,
            content_type,
            headers,
            errors,
            nested: None,
        };
        if part.content_type.as_ref().is_some_and(|c| c.is_multipart()) {
            if depth + 1 >= MAX_DEPTH {
                part.errors.push(CodecError::limit(
                    hend,
                    format!("multipart nesting deeper than {MAX_DEPTH}: kept as bytes"),
                ));
            } else {
                part.nested = Some(Box::new(decode_multipart(buf, hend..dend, depth + 1)));
            }
        }
        m.parts.push(part);
        pos = dend;
    }
    if m.errors.is_empty() && m.parts.len() != m.declared_entries as usize {
        m.errors.push(CodecError::invalid(
            m.range.start,
            format!(
                "{} entries (nEntries), found {}",
                m.declared_entries,
                m.parts.len()
            ),
        ));
    }
    m
}

/// Severity of a multipart error when shown (limits are warnings).
pub fn severity(e: &CodecError) -> Severity {
    if e.kind == ErrorKind::Limit {
        Severity::Warning
    } else {
        Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ct: &[u8], headers: &[u8], data: &[u8]) -> Vec<u8> {
        // HeadersLen and DataLen are < 128 here: one uintvar octet each.
        let mut v = vec![(ct.len() + headers.len()) as u8, data.len() as u8];
        v.extend(ct);
        v.extend(headers);
        v.extend(data);
        v
    }

    #[test]
    fn two_parts_and_zero_length_part() {
        let mut b = vec![0x02];
        b.extend(entry(&[0x83], &[0xC0, b'"', b'a', 0], b"hi"));
        b.extend(entry(b"image/x\0", &[], b""));
        let m = decode_multipart(&b, 0..b.len(), 0);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert_eq!(m.parts.len(), 2);
        assert_eq!(m.parts[0].media(), "text/plain");
        assert_eq!(m.parts[0].header_text("Content-ID"), Some("a"));
        assert_eq!(&b[m.parts[0].data_range.clone()], b"hi");
        assert_eq!(m.parts[1].media(), "image/x");
        assert!(m.parts[1].data_range.is_empty());
    }

    #[test]
    fn nested_multipart() {
        let inner = {
            let mut v = vec![0x01];
            v.extend(entry(&[0x83], &[], b"x"));
            v
        };
        let mut b = vec![0x01];
        b.extend(entry(&[0xA3], &[], &inner)); // application/vnd.wap.multipart.mixed
        let m = decode_multipart(&b, 0..b.len(), 0);
        assert!(m.errors.is_empty());
        let n = m.parts[0].nested.as_ref().unwrap();
        assert_eq!(n.parts[0].media(), "text/plain");
        assert_eq!(n.depth, 1);
    }

    #[test]
    fn data_past_the_end_is_clipped_and_reported() {
        let mut b = vec![0x01, 0x01, 0x10, 0x83];
        b.extend(b"abc");
        let m = decode_multipart(&b, 0..b.len(), 0);
        assert_eq!(m.parts[0].data_range, 4..7);
        assert_eq!(m.parts[0].errors[0].kind, ErrorKind::Truncated);
        assert_eq!(m.parts[0].errors[0].offset, 4);
    }

    #[test]
    fn part_count_is_bounded() {
        // nEntries 1100 (uintvar 0x88 0x4C), then 1100 entries of 3 octets: HeadersLen 1,
        // DataLen 0, text/plain.
        let mut b = vec![0x88, 0x4C];
        for _ in 0..1100 {
            b.extend([0x01, 0x00, 0x83]);
        }
        let m = decode_multipart(&b, 0..b.len(), 0);
        assert_eq!((m.declared_entries, m.parts.len()), (1100, MAX_PARTS));
        assert_eq!(m.errors.len(), 1);
        assert_eq!(m.errors[0].kind, ErrorKind::Limit);
        assert_eq!(m.errors[0].offset, 2 + 3 * MAX_PARTS);
    }

    #[test]
    fn count_mismatch_is_reported() {
        let mut b = vec![0x03];
        b.extend(entry(&[0x83], &[], b"x"));
        let m = decode_multipart(&b, 0..b.len(), 0);
        assert_eq!(m.errors.len(), 1);
        assert!(m.errors[0].expected.contains("3 entries"));
    }
}
