//! WSP headers (WAP-230 8.4): well-known header fields of code page 1 (Table 39, codes
//! 0x00–0x47) with their value encodings, code page shifts, and application headers
//! (Token-text Text-string). Used for WSP PDU headers and for multipart part headers.

use super::content_type::{self, ContentType, Param};
use super::primitives::*;
use crate::tree::{Node, Severity, Value};
use std::borrow::Cow;
use std::ops::Range;

/// Name of a well-known header field (code page 1 = WAP-230 Table 39).
pub fn field_name(page: u8, code: u8) -> String {
    field_label(page, code).into_owned()
}

/// [`field_name`], borrowed from the table when the field is a named one of page 1.
pub fn field_label(page: u8, code: u8) -> Cow<'static, str> {
    if page != 1 {
        return format!("page-{page}-field-0x{code:02X}").into();
    }
    const T: &[&str] = &[
        "Accept",
        "Accept-Charset",
        "Accept-Encoding",
        "Accept-Language",
        "Accept-Ranges",
        "Age",
        "Allow",
        "Authorization",
        "Cache-Control",
        "Connection",
        "Content-Base",
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Location",
        "Content-MD5",
        "Content-Range",
        "Content-Type",
        "Date",
        "Etag",
        "Expires",
        "From",
        "Host",
        "If-Modified-Since",
        "If-Match",
        "If-None-Match",
        "If-Range",
        "If-Unmodified-Since",
        "Location",
        "Last-Modified",
        "Max-Forwards",
        "Pragma",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Public",
        "Range",
        "Referer",
        "Retry-After",
        "Server",
        "Transfer-Encoding",
        "Upgrade",
        "User-Agent",
        "Vary",
        "Via",
        "Warning",
        "WWW-Authenticate",
        "Content-Disposition",
        "X-Wap-Application-Id",
        "X-Wap-Content-URI",
        "X-Wap-Initiator-URI",
        "Accept-Application",
        "Bearer-Indication",
        "Push-Flag",
        "Profile",
        "Profile-Diff",
        "Profile-Warning",
        "Expect",
        "TE",
        "Trailer",
        "Accept-Charset",
        "Accept-Encoding",
        "Cache-Control",
        "Content-Range",
        "X-Wap-Tod",
        "Content-ID",
        "Set-Cookie",
        "Cookie",
        "Encoding-Version",
        "Profile-Warning",
        "Content-Disposition",
        "X-WAP-Security",
        "Cache-Control",
    ];
    match T.get(code as usize) {
        Some(s) => Cow::Borrowed(s),
        None => format!("unknown-field-0x{code:02X}").into(),
    }
}

/// Push application ids (OMNA "Push Application ID" registry, X-Wap-Application-Id).
pub fn push_app_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0x00 => "x-wap-application:*",
        0x01 => "x-wap-application:push.sia",
        0x02 => "x-wap-application:wml.ua",
        0x03 => "x-wap-application:wta.ua",
        0x04 => "x-wap-application:mms.ua",
        0x05 => "x-wap-application:push.syncml",
        0x06 => "x-wap-application:loc.ua",
        0x07 => "x-wap-application:syncml.dm",
        0x08 => "x-wap-application:drm.ua",
        0x09 => "x-wap-application:emn.ua",
        0x0A => "x-wap-application:wv.ua",
        0x1A => "x-wap-microsoft:localcontent.ua",
        0x1B => "x-wap-microsoft:IMclient.ua",
        0x1C => "x-wap-docomo:imode.mail.ua",
        0x1D => "x-wap-docomo:imode.mr.ua",
        0x1E => "x-wap-docomo:imode.mf.ua",
        0x1F => "x-motorola:location.ua",
        0x20 => "x-motorola:now.ua",
        0x21 => "x-motorola:otaprov.ua",
        0x22 => "x-motorola:browser.ua",
        0x23 => "x-motorola:splash.ua",
        0x25 => "x-wap-nai:mvsw.command",
        0x30 => "x-wap-openwave:iota.ua",
        0x9000 => "x-wap-docomo:imode.mail2.ua",
        0x9001 => "x-oma-nec:otaprov.ua",
        0x9002 => "x-oma-nokia:call.ua",
        0x9003 => "x-oma-coremobility:sqa.ua",
        _ => return None,
    })
}

/// One decoded header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Field name ("Content-Type", "Content-ID", or the application header's token): borrowed
    /// from the table for a well-known field.
    pub name: Cow<'static, str>,
    /// Well-known field code (without the high bit), `None` for application headers.
    pub code: Option<u8>,
    /// Code page the field was decoded in (1 = the default WSP page).
    pub page: u8,
    pub value: Value,
    /// The value as shown, escaped for terminals; empty when that is [`Header::text`] itself
    /// (a token's name, text that needs no escape: the usual cases, not copied). Read it with
    /// [`Header::display`].
    pub display: String,
    /// The whole header (field name and value).
    pub range: Range<usize>,
    /// The value's octets.
    pub value_range: Range<usize>,
    /// Decoded Content-type-value (Content-Type, Accept).
    pub content_type: Option<ContentType>,
    /// Parameters (Content-Disposition).
    pub params: Vec<Param>,
    /// Notes on the header (besides its content type's): warnings about the encoding. The
    /// tree node is built by [`Header::node`] from the fields: a decode that keeps only the
    /// notes (the batch path's summary) copies no name, display or value for it.
    pub notes: Vec<Node>,
    /// The node's display when it is not `display` (an application header's, escaped).
    node_display: Option<String>,
}

impl Header {
    /// The header's tree node: name, display and value, with the content type's parameters
    /// and notes, the parameters, then the notes as children.
    pub fn node(&self) -> Node {
        let mut node = Node::new(
            self.name.clone(),
            self.node_display.as_deref().unwrap_or(self.display()),
            self.value.clone(),
            self.range.clone(),
        );
        if let Some(c) = &self.content_type {
            node.children.extend(c.params.iter().map(Param::node));
            node.children.extend(c.notes.iter().cloned());
        }
        node.children.extend(self.params.iter().map(Param::node));
        node.children.extend(self.notes.iter().cloned());
        node
    }

    /// The value as shown (see `display`).
    pub fn display(&self) -> &str {
        if self.display.is_empty() {
            self.text().unwrap_or_default()
        } else {
            &self.display
        }
    }

    /// The notes of [`Header::node`] (its content type's, then its own), without the node.
    pub fn all_notes(&self) -> impl Iterator<Item = &Node> {
        self.content_type
            .iter()
            .flat_map(|c| &c.notes)
            .chain(&self.notes)
    }

    /// The value as text, when it is one.
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(t) => Some(t),
            Value::Enum { name, .. } => Some(name),
            _ => None,
        }
    }

    /// [`Header::text`], moved out of the value (left empty).
    pub fn take_text(&mut self) -> Option<String> {
        match &mut self.value {
            Value::Text(t) => Some(std::mem::take(t)),
            Value::Enum { name, .. } => Some(std::mem::take(name)),
            _ => None,
        }
    }
}

/// A decoded block of headers; decoding stops at the first value that cannot be decoded (WSP
/// has no resynchronisation point), with `error` saying where and why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderBlock {
    pub headers: Vec<Header>,
    pub error: Option<CodecError>,
    /// Where decoding stopped (end of the block on success).
    pub end: usize,
}

impl HeaderBlock {
    /// First header of that name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// [`HeaderBlock::get`], to change the header.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Header> {
        self.headers
            .iter_mut()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// A group node named `name` over `range` holding [`HeaderBlock::nodes`].
    pub fn node(&self, name: &str, range: Range<usize>) -> Node {
        let n = self.headers.iter().filter(|h| h.name != "Shift").count();
        Node::group(name, format!("{n} header(s)"), range.clone())
            .with_children(self.nodes(range.end))
    }

    /// One node per header, then the error node if decoding stopped early.
    pub fn nodes(&self, block_end: usize) -> Vec<Node> {
        let mut v: Vec<Node> = self.headers.iter().map(Header::node).collect();
        if let Some(e) = &self.error {
            v.push(e.node(block_end));
        }
        v
    }
}

/// Most headers decoded in one WSP header block (PDU headers, a multipart part's headers).
/// Real blocks hold a few dozen; a header can be a single octet and becomes a tree node of
/// a few hundred bytes, so without a bound a 1 MB block would take ~1 GB.
pub const MAX_HEADERS: usize = 256;

/// Decode the headers in `range` of `buf` (positions stay absolute).
pub fn decode_headers(buf: &[u8], range: Range<usize>) -> HeaderBlock {
    let end = range.end.min(buf.len());
    let win = &buf[..end];
    let mut pos = range.start;
    let mut page = 1u8;
    let mut block = HeaderBlock::default();
    while pos < end {
        if block.headers.len() >= MAX_HEADERS {
            // A header can be one octet, and each costs a tree node: bound the blow-up.
            block.error = Some(CodecError::limit(
                pos,
                format!("at most {MAX_HEADERS} headers in one block; the rest is not decoded"),
            ));
            break;
        }
        let b = win[pos];
        if b == 0x7F {
            // Shift-delimiter Page-identity.
            match octet(win, pos + 1, "page identity after shift-delimiter 0x7F") {
                Ok((p, n)) => {
                    page = p;
                    block.headers.push(shift_header(pos..n, page));
                    pos = n;
                    continue;
                }
                Err(e) => {
                    block.error = Some(e);
                    break;
                }
            }
        }
        if (1..=31).contains(&b) {
            // Short-cut-shift-delimiter.
            page = b;
            block.headers.push(shift_header(pos..pos + 1, page));
            pos += 1;
            continue;
        }
        let r = if b & 0x80 != 0 {
            well_known_header(win, pos, page, b & 0x7F)
        } else if b == 0 {
            Err(CodecError::invalid(
                pos,
                "header field name (well-known ≥ 0x80, or token-text), found 0x00",
            ))
        } else {
            application_header(win, pos)
        };
        match r {
            Ok((h, n)) => {
                block.headers.push(h);
                pos = n;
            }
            Err(e) => {
                block.error = Some(e);
                break;
            }
        }
    }
    block.end = if block.error.is_some() { pos } else { end };
    block
}

fn shift_header(range: Range<usize>, page: u8) -> Header {
    Header {
        name: "Shift".into(),
        code: None,
        page,
        value: Value::UInt(u64::from(page)),
        display: format!("code page {page}"),
        range: range.clone(),
        value_range: range,
        content_type: None,
        params: Vec::new(),
        notes: Vec::new(),
        node_display: None,
    }
}

/// Application-header = Token-text Application-specific-value (Text-string).
pub fn application_header(buf: &[u8], pos: usize) -> Decoded<Header> {
    let (name, p) = token_text(buf, pos)?;
    let (val, next) = text_string(buf, p)?;
    let name = name.lossy();
    let s = val.lossy();
    let escaped = crate::tree::escape_text(&s);
    let node_display = (escaped != s).then_some(escaped);
    Ok((
        Header {
            name: name.into(),
            code: None,
            page: 0,
            value: Value::Text(s.clone()),
            display: s,
            range: pos..next,
            value_range: val.range,
            content_type: None,
            params: Vec::new(),
            notes: Vec::new(),
            node_display,
        },
        next,
    ))
}

/// A Text-value: the display is empty when it is the text itself (see `Header::display`).
fn text_field(buf: &[u8], p: usize) -> Result<(Value, String, usize), CodecError> {
    let (t, n) = text_value(buf, p)?;
    let s = t.lossy();
    // Text that is its own escape, the usual header text, is not copied into a display of
    // its own.
    let display = if crate::tree::is_own_escape(&s) {
        String::new()
    } else {
        crate::tree::escape_text(&s)
    };
    Ok((Value::Text(s), display, n))
}

fn date_field(buf: &[u8], p: usize) -> Result<(Value, String, usize), CodecError> {
    let (i, n) = date_value(buf, p)?;
    Ok(match i.value {
        Some(v) if v <= i64::MAX as u64 => (Value::Time(v as i64), format_date(v as i64), n),
        _ => (Value::Bytes, i.display(buf), n),
    })
}

fn int_field(buf: &[u8], p: usize) -> Result<(Value, String, usize), CodecError> {
    let (i, n) = integer_value(buf, p)?;
    Ok((i.tree_value(), i.display(buf), n))
}

fn token_or_text(
    buf: &[u8],
    p: usize,
    names: &[(u8, &str)],
) -> Result<(Value, String, usize), CodecError> {
    let (b, _) = octet(buf, p, "value")?;
    if b & 0x80 != 0 {
        let code = b & 0x7F;
        let name = names
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| format!("unknown-0x{b:02X}"));
        // Shown as its name (see `Header::display`).
        Ok((
            Value::Enum {
                code: u64::from(b),
                name,
            },
            String::new(),
            p + 1,
        ))
    } else {
        generic_value(buf, p)
    }
}

/// A value of a field mmscope has no specific decoder for: decoded by its shape.
fn generic_value(buf: &[u8], p: usize) -> Result<(Value, String, usize), CodecError> {
    let (b, _) = octet(buf, p, "header value")?;
    match value_shape(b) {
        ValueShape::Short(v) => Ok((Value::UInt(u64::from(v)), format!("{v} (0x{b:02X})"), p + 1)),
        ValueShape::Text => text_field(buf, p),
        _ => {
            let (len, start) = value_length(buf, p)?;
            Ok((
                Value::Bytes,
                hex_preview(&buf[start..start + len], 24),
                start + len,
            ))
        }
    }
}

/// Content-Disposition value (8.4.2.53): Value-length Disposition *(Parameter).
fn disposition(
    buf: &[u8],
    p: usize,
    params_out: &mut Vec<Param>,
    notes: &mut Vec<Node>,
) -> Result<(Value, String, usize), CodecError> {
    let (b, _) = octet(buf, p, "content-disposition")?;
    if b > 31 {
        // Not the general form: some encoders send a bare token.
        return token_or_text(
            buf,
            p,
            &[(0, "form-data"), (1, "attachment"), (2, "inline")],
        );
    }
    let (len, start) = value_length(buf, p)?;
    let end = start + len;
    let win = &buf[..end];
    let (v, mut d, mut q) = token_or_text(
        win,
        start,
        &[(0, "form-data"), (1, "attachment"), (2, "inline")],
    )?;
    // The parameters are appended to the display: it is needed in full here.
    if let Value::Text(t) | Value::Enum { name: t, .. } = &v
        && d.is_empty()
    {
        d.clone_from(t);
    }
    while q < end {
        match content_type::parameter(win, q) {
            Ok((param, n)) => {
                d.push_str(&format!("; {}={}", param.name, param.display));
                params_out.push(param);
                q = n;
            }
            Err(e) => {
                notes.push(e.node(end));
                break;
            }
        }
    }
    Ok((v, d, end))
}

/// A well-known header at `pos` (field octet with the high bit set).
pub fn well_known_header(buf: &[u8], pos: usize, page: u8, code: u8) -> Decoded<Header> {
    let name = field_label(page, code);
    let p = pos + 1;
    let mut ct = None;
    let mut params = Vec::new();
    let mut notes = Vec::new();
    let (value, display, next) = if page != 1 {
        generic_value(buf, p)?
    } else {
        match code {
            0x00 | 0x11 => {
                let (c, n) = content_type::content_type(buf, p)?;
                let d = c.display();
                let v = Value::Text(c.media.to_string());
                ct = Some(c);
                (v, d, n)
            }
            0x01 | 0x3B => {
                // Accept-charset-value = Constrained-charset | Accept-charset-general-form.
                let (b, _) = octet(buf, p, "accept-charset value")?;
                if b == 0x80 {
                    (Value::Text("*".into()), "*".into(), p + 1)
                } else if b & 0x80 != 0 {
                    let mib = u64::from(b & 0x7F);
                    let name = super::charset::name(mib).unwrap_or("unknown").to_string();
                    (
                        Value::Enum { code: mib, name },
                        super::charset::describe(mib),
                        p + 1,
                    )
                } else if b <= 31 {
                    let (len, start) = value_length(buf, p)?;
                    let (i, _) = integer_value(&buf[..start + len], start)?;
                    let mib = i.value.unwrap_or(u64::MAX);
                    let name = super::charset::name(mib).unwrap_or("unknown").to_string();
                    (
                        Value::Enum { code: mib, name },
                        super::charset::describe(mib),
                        start + len,
                    )
                } else {
                    text_field(buf, p)?
                }
            }
            0x02 | 0x0B | 0x3C => token_or_text(
                buf,
                p,
                &[(0, "gzip"), (1, "compress"), (2, "deflate"), (3, "*")],
            )?,
            0x04 => token_or_text(buf, p, &[(0, "none"), (1, "bytes")])?,
            0x08 | 0x3D | 0x47 if buf.get(p).is_some_and(|&b| b & 0x80 != 0) => token_or_text(
                buf,
                p,
                &[
                    (0, "no-cache"),
                    (1, "no-store"),
                    (2, "max-age"),
                    (3, "max-stale"),
                    (4, "min-fresh"),
                    (5, "only-if-cached"),
                    (6, "public"),
                    (7, "private"),
                    (8, "no-transform"),
                    (9, "must-revalidate"),
                    (10, "proxy-revalidate"),
                    (11, "s-maxage"),
                ],
            )?,
            0x09 => token_or_text(buf, p, &[(0, "close")])?,
            0x27 => token_or_text(buf, p, &[(0, "chunked")])?,
            0x05 | 0x0D | 0x1E | 0x33 | 0x34 => int_field(buf, p)?,
            0x12 | 0x14 | 0x17 | 0x1B | 0x1D | 0x3F => {
                let (b, _) = octet(buf, p, "date-value")?;
                if code == 0x14 && b & 0x80 != 0 {
                    // Expires may be a short-integer delta in practice; show it as such.
                    generic_value(buf, p)?
                } else {
                    date_field(buf, p)?
                }
            }
            0x40 => {
                // Content-ID-value = Quoted-string (WAP-230 8.4.2.67); phones also send a plain
                // Text-string: decoded, and said.
                if buf.get(p) != Some(&0x22) {
                    notes.push(Node::expert(
                        Severity::Warning,
                        "not-quoted",
                        format!(
                            "Content-ID value at byte {p} is a Text-string, not a Quoted-string (0x22 missing; WAP-230 8.4.2.67)"
                        ),
                        p..p + 1,
                    ));
                }
                text_field(buf, p)?
            }
            0x0A | 0x0E | 0x13 | 0x15 | 0x16 | 0x18 | 0x19 | 0x1C | 0x24 | 0x26 | 0x29 | 0x2B
            | 0x30 | 0x31 | 0x35 | 0x42 => text_field(buf, p)?,
            0x0F => {
                let (len, start) = value_length(buf, p)?;
                (
                    Value::Bytes,
                    hex_preview(&buf[start..start + len], 16),
                    start + len,
                )
            }
            0x2E | 0x45 => disposition(buf, p, &mut params, &mut notes)?,
            0x2F | 0x32 => {
                let (b, _) = octet(buf, p, "application id")?;
                if b & 0x80 != 0 || b <= 30 {
                    let (i, n) = integer_value(buf, p)?;
                    let c = i.value.unwrap_or(u64::MAX);
                    let name = push_app_name(c)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("app-id-0x{c:02X}"));
                    // Shown as its name (see `Header::display`).
                    (Value::Enum { code: c, name }, String::new(), n)
                } else {
                    text_field(buf, p)?
                }
            }
            0x43 => {
                let (b, _) = octet(buf, p, "encoding-version value")?;
                if b <= 31 {
                    let (len, start) = value_length(buf, p)?;
                    let win = &buf[..start + len];
                    let (cp, q) = short_integer(win, start)?;
                    let ver = if q < start + len {
                        version_value(win, q)?.0
                    } else {
                        String::new()
                    };
                    let s = format!("code page {cp} version {ver}");
                    (Value::Text(s.clone()), s, start + len)
                } else {
                    let (s, n) = version_value(buf, p)?;
                    (Value::Text(s.clone()), s, n)
                }
            }
            _ => generic_value(buf, p)?,
        }
    };
    if page == 1 && code > 0x47 {
        notes.push(Node::expert(
            Severity::Warning,
            "unknown-header",
            format!("unassigned well-known header code 0x{:02X}", code | 0x80),
            pos..pos + 1,
        ));
    }
    Ok((
        Header {
            name,
            code: Some(code),
            page,
            value,
            display,
            range: pos..next,
            value_range: p..next,
            content_type: ct,
            params,
            notes,
            node_display: None,
        },
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_headers_wellknown_and_application() {
        // Content-Location (0x8E) "a.txt", Content-ID (0xC0) quoted "<a>", app header
        // "Content-Transfer-Encoding: base64".
        let mut b = vec![0x8E];
        b.extend(b"a.txt\0");
        b.push(0xC0);
        b.extend(b"\"<a>\0");
        b.extend(b"Content-Transfer-Encoding\0base64\0");
        let h = decode_headers(&b, 0..b.len());
        assert!(h.error.is_none());
        assert_eq!(h.get("Content-Location").unwrap().text(), Some("a.txt"));
        assert_eq!(h.get("Content-ID").unwrap().text(), Some("<a>"));
        assert_eq!(
            h.get("content-transfer-encoding").unwrap().text(),
            Some("base64")
        );
        // A plain text value is shown as itself (its display is not a copy of it).
        let loc = h.get("Content-Location").unwrap();
        assert_eq!((loc.display(), loc.display.as_str()), ("a.txt", ""));
        assert_eq!(loc.node().display, "a.txt");
    }

    #[test]
    fn text_values_needing_escape_are_shown_escaped() {
        // Content-Location (0x8E) "a\tb\x1b[m", Content-Base (0x8A) "c:\d".
        let mut b = vec![0x8E];
        b.extend(b"a\tb\x1b[m\0");
        b.push(0x8A);
        b.extend(b"c:\\d\0");
        let h = decode_headers(&b, 0..b.len());
        assert!(h.error.is_none(), "{:?}", h.error);
        let loc = &h.headers[0];
        assert_eq!(loc.text(), Some("a\tb\x1b[m"));
        assert_eq!(loc.display(), "a\\tb\\u{1b}[m");
        assert_eq!(loc.node().display, "a\\tb\\u{1b}[m");
        assert_eq!(h.headers[1].node().display, "c:\\\\d");
    }

    #[test]
    fn disposition_with_filename() {
        // Content-Disposition (0xAE): length 8, attachment (0x81), Filename (0x86) "x.jpg".
        let mut b = vec![0xAE, 0x08, 0x81, 0x86];
        b.extend(b"x.jpg\0");
        let h = decode_headers(&b, 0..b.len());
        assert!(h.error.is_none(), "{:?}", h.error);
        let d = h.get("Content-Disposition").unwrap();
        assert_eq!(d.display, "attachment; Filename=x.jpg");
        assert_eq!(d.params[0].display, "x.jpg");
        // A text disposition (not a token): its parameters follow the text in the display.
        let mut b = vec![0xAE, 0x0E];
        b.extend(b"inline\0\x86x.jpg\0");
        let h = decode_headers(&b, 0..b.len());
        assert!(h.error.is_none(), "{:?}", h.error);
        let d = h.get("Content-Disposition").unwrap();
        assert_eq!(d.display(), "inline; Filename=x.jpg");
        assert_eq!(d.node().display, "inline; Filename=x.jpg");
    }

    #[test]
    fn shifts_and_errors() {
        // Shift to page 2, a field there (generic short value), short-cut back to page 1.
        let b = [0x7F, 0x02, 0x81, 0x85, 0x01, 0x8D, 0x85];
        let h = decode_headers(&b, 0..b.len());
        assert!(h.error.is_none());
        assert_eq!(h.headers[1].name, "page-2-field-0x01");
        assert_eq!(h.headers[3].name, "Content-Length");
        assert_eq!(h.headers[3].value, Value::UInt(5));
        // A text value cut before its NUL: error with an offset, earlier headers kept.
        let b = [0x8D, 0x85, 0x8E, b'a', b'b'];
        let h = decode_headers(&b, 0..b.len());
        assert_eq!(h.headers.len(), 1);
        assert_eq!(h.error.unwrap().kind, ErrorKind::Truncated);
    }

    #[test]
    fn push_app_id() {
        let b = [0xAF, 0x84];
        let h = decode_headers(&b, 0..2);
        assert_eq!(h.headers[0].display(), "x-wap-application:mms.ua");
        assert_eq!(h.headers[0].node().display, "x-wap-application:mms.ua");
    }

    #[test]
    fn cache_control_token_and_block_node() {
        // Cache-Control (0x88) no-cache (0x80); Content-Length (0x8D) 0x85.
        let b = [0x88, 0x80, 0x8D, 0x85];
        let h = decode_headers(&b, 0..4);
        assert_eq!(h.get("Cache-Control").unwrap().display(), "no-cache");
        let n = h.node("Headers", 0..4);
        assert_eq!(n.children[0].display, "no-cache");
        assert_eq!((n.display.as_str(), n.children.len()), ("2 header(s)", 2));
        assert_eq!(n.children[1].range, 2..4);
    }

    #[test]
    fn content_id_without_quote_is_decoded_and_said() {
        let mut b = vec![0xC0];
        b.extend(b"text/html\0");
        let h = decode_headers(&b, 0..b.len());
        let id = h.get("Content-ID").unwrap();
        assert_eq!(id.text(), Some("text/html"));
        assert_eq!(id.notes[0].name, "not-quoted");
        assert_eq!(id.node().children[0].name, "not-quoted");
    }
}
