//! Decoding of one MMS header field (OMA-MMS-ENC 1.3 section 7.3) into a tree node plus the
//! typed facts the summary and the checks need.

use super::Ctx;
use super::tables::*;
use crate::codec::charset;
use crate::codec::content_type::{self, ContentType};
use crate::codec::primitives::*;
use crate::tree::{Node, Severity, Value, escape_text};
use std::borrow::Cow;
use std::ops::Range;

/// One decoded MMS header: the facts the summary and the checks read (its tree node is
/// returned beside it by [`decode_field`]).
#[derive(Debug, Clone)]
pub struct Field {
    /// Field code without the high bit (0x0C = X-Mms-Message-Type); `None` for an application
    /// (textual) header.
    pub code: Option<u8>,
    /// The field's name: borrowed from the tables for a well-known field (a summary decodes
    /// a dozen fields per PDU and names none of them unless a check speaks).
    pub name: Cow<'static, str>,
    pub range: Range<usize>,
    /// Text of the value for the summary (address, subject, id, status name…): borrowed
    /// from the tables for a named token, so that only what the summary keeps is copied.
    pub text: Option<Cow<'static, str>>,
    /// Numeric value (size, date, count, relative seconds).
    pub number: Option<u64>,
    /// Raw token octet of enumerated values (0x80…).
    pub token: Option<u8>,
    pub content_type: Option<ContentType>,
}

struct Out {
    value: Value,
    display: String,
    children: Vec<Node>,
    text: Option<Cow<'static, str>>,
    number: Option<u64>,
    token: Option<u8>,
    content_type: Option<ContentType>,
}

impl Out {
    fn new(value: Value, display: String) -> Self {
        Out {
            value,
            display,
            children: Vec::new(),
            text: None,
            number: None,
            token: None,
            content_type: None,
        }
    }

    /// An Out whose node value and display `make` gives, only when the tree is built.
    fn shown(ctx: &Ctx, make: impl FnOnce() -> (Value, String)) -> Self {
        let (value, display) = if ctx.tree() {
            make()
        } else {
            (Value::None, String::new())
        };
        Out::new(value, display)
    }
}

fn warn(name: &str, msg: String, r: Range<usize>) -> Node {
    Node::expert(Severity::Warning, name, msg, r)
}

/// Encoded-string-value with its charset as a child, notes for undecodable text, and a derived
/// buffer holding the UTF-8 text when the charset needs its own bytes.
fn encoded_string(
    ctx: &mut Ctx,
    buf: &[u8],
    p: usize,
    what: impl FnOnce() -> String,
) -> Result<(Out, usize), CodecError> {
    let (s, n) = encoded_string_value(buf, p)?;
    let mut o = Out::shown(ctx, || (Value::Text(s.text.clone()), escape_text(&s.text)));
    if let Some(cs) = s.charset {
        let (_, cstart) = value_length(buf, p)?;
        let mut cend = s.content.start;
        if cend > cstart && buf[cend - 1] == 0x7F {
            cend -= 1;
        }
        ctx.attach_with(&mut o.children, || {
            let name = charset::name(cs).unwrap_or("unknown").to_string();
            Node::new(
                "Charset",
                charset::describe(cs),
                Value::Enum { code: cs, name },
                cstart..cend.max(cstart),
            )
        });
        if !matches!(cs, 3 | 106)
            && !s.content.is_empty()
            && charset::name(cs).is_some()
            && let Some(id) =
                ctx.derive(|| format!("{} decoded from {}", what(), charset::describe(cs)))
        {
            ctx.fill(id, s.text.as_bytes());
            ctx.attach_with(&mut o.children, || {
                let mut t = Node::new(
                    "Decoded text",
                    escape_text(&s.text),
                    Value::Text(s.text.clone()),
                    0..s.text.len(),
                );
                t.set_buffer(id);
                t
            });
        }
    }
    // A Quote before a character < 0x80 is a violation of WAP-230 8.4.2.1.
    let q = s.content.start.wrapping_sub(1);
    if s.content.start > p
        && buf.get(q) == Some(&0x7F)
        && buf.get(s.content.start).is_some_and(|&b| b < 0x80)
    {
        o.children.push(warn(
            "quote-misuse",
            format!(
                "Quote 0x7F at byte {q} before a character < 0x80 (WAP-230 8.4.2.1: the Quote precedes only text starting with 128–255)"
            ),
            q..q + 1,
        ));
    }
    if let Some(note) = s.note {
        o.children.push(warn("charset", note, s.content.clone()));
    }
    if let Some(w) = rfc2047_note(&s.text, s.content.clone()) {
        o.children.push(w);
    }
    o.text = Some(s.text.into());
    Ok((o, n))
}

/// MMS header text is an Encoded-string-value with a charset, not an RFC 2047 encoded-word;
/// encoded-words found in it are reported (and decoded when they are well formed).
fn rfc2047_note(text: &str, r: Range<usize>) -> Option<Node> {
    let t = text.trim();
    if !(t.starts_with("=?") && t.ends_with("?=")) {
        return None;
    }
    let inner = &t[2..t.len() - 2];
    let mut it = inner.splitn(3, '?');
    let (cs, enc, payload) = (it.next()?, it.next().unwrap_or(""), it.next().unwrap_or(""));
    let decoded = match enc.to_ascii_uppercase().as_str() {
        "B" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(payload.trim())
                .ok()
        }
        "Q" => Some(super::body::quoted_printable(payload.replace('_', " ").as_bytes()).0),
        _ => None,
    };
    let msg = match decoded {
        Some(b) if b.is_empty() => format!(
            "RFC 2047 encoded-word \"{}\" (charset {cs}) with an empty payload: the text is empty; OMA-MMS-ENC 7.2.9 carries the charset in the Encoded-string-value, not as an encoded-word",
            escape_text(t)
        ),
        Some(b) => format!(
            "RFC 2047 encoded-word (charset {cs}) in an MMS header, decodes to \"{}\"; OMA-MMS-ENC 7.2.9 carries the charset in the Encoded-string-value",
            escape_text(&String::from_utf8_lossy(&b))
        ),
        None => format!(
            "malformed RFC 2047 encoded-word \"{}\" in an MMS header",
            escape_text(t)
        ),
    };
    Some(warn("encoded-word", msg, r))
}

fn text(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (t, n) = text_string(buf, p)?;
    // Borrowed exactly when the octets are valid UTF-8: validated once, for the text and the
    // note below.
    let lossy = charset::utf8_lossy(t.bytes);
    let valid_utf8 = matches!(lossy, Cow::Borrowed(_));
    let s = lossy.into_owned();
    let mut o = Out::shown(ctx, || (Value::Text(s.clone()), escape_text(&s)));
    if buf[p] == 0x7F && t.bytes.first().is_some_and(|&b| b < 0x80) {
        o.children.push(warn(
            "quote-misuse",
            format!("Quote 0x7F at byte {p} before a character < 0x80 (WAP-230 8.4.2.1)"),
            p..p + 1,
        ));
    }
    if !valid_utf8 {
        o.children.push(warn(
            "charset",
            "text-string is neither US-ASCII nor UTF-8 (shown lossy)".into(),
            t.content.clone(),
        ));
    }
    o.text = Some(s.into());
    Ok((o, n))
}

fn date(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (i, n) = date_value(buf, p)?;
    let mut o = Out::shown(ctx, || match i.value {
        Some(v) if v <= i64::MAX as u64 => (Value::Time(v as i64), format_date(v as i64)),
        _ => (
            Value::Bytes,
            format!("{} (does not fit 64 bits)", i.display(buf)),
        ),
    });
    o.number = i.value;
    Ok((o, n))
}

fn long_int(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (i, n) = long_integer(buf, p)?;
    let mut o = Out::shown(ctx, || (i.tree_value(), i.display(buf)));
    o.number = i.value;
    Ok((o, n))
}

fn int_value(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (i, n) = integer_value(buf, p)?;
    let mut o = Out::shown(ctx, || (i.tree_value(), i.display(buf)));
    o.number = i.value;
    Ok((o, n))
}

fn token(ctx: &Ctx, buf: &[u8], p: usize, code: u8) -> Result<(Out, usize), CodecError> {
    let (b, n) = octet(buf, p, "token value")?;
    let name = token_name(code, b);
    let display: Cow<'static, str> = match (name, status_range_meaning(b)) {
        (Some(nm), _) => nm.into(),
        (None, Some(m)) if matches!(code, 0x12 | 0x19 | 0x25) => {
            format!("unassigned 0x{b:02X} (to be treated as {m})").into()
        }
        _ => format!("unknown-0x{b:02X}").into(),
    };
    let mut o = Out::shown(ctx, || {
        (
            Value::Enum {
                code: u64::from(b),
                name: display.to_string(),
            },
            display.to_string(),
        )
    });
    if name.is_none() {
        o.children.push(warn(
            "unknown-value",
            format!(
                "value 0x{b:02X} is not assigned for {} (OMA-MMS-ENC 1.3 7.3)",
                field_display(code)
            ),
            p..n,
        ));
    }
    o.token = Some(b);
    o.text = Some(display);
    Ok((o, n))
}

/// Value-length (Absolute-token Date-value | Relative-token Delta-seconds-value).
fn time(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (len, start) = value_length(buf, p)?;
    let end = start + len;
    let win = &buf[..end];
    let (tok, q) = octet(win, start, "absolute (0x80) or relative (0x81) token")?;
    let (mut o, n) = match tok {
        0x80 => {
            let (mut o, n) = date(ctx, win, q)?;
            if ctx.tree() {
                o.display = format!("{} (absolute)", o.display);
            }
            (o, n)
        }
        0x81 => {
            let (i, n) = delta_seconds(win, q)?;
            let mut o = Out::shown(ctx, || {
                let display = match i.value {
                    Some(v) => format!("{} (relative)", format_duration(v)),
                    None => format!("{} s (relative)", i.display(buf)),
                };
                (Value::Duration(i.value.unwrap_or(u64::MAX)), display)
            });
            o.number = i.value;
            (o, n)
        }
        _ => {
            return Err(CodecError::invalid(
                start,
                format!("absolute-token 0x80 or relative-token 0x81, found 0x{tok:02X}"),
            ));
        }
    };
    o.token = Some(tok);
    ctx.attach_with(&mut o.children, || {
        Node::new(
            "Token",
            if tok == 0x80 { "absolute" } else { "relative" },
            Value::UInt(u64::from(tok)),
            start..start + 1,
        )
    });
    if n < end {
        o.children.push(warn(
            "trailing-octets",
            format!("{} octets left in the value after its end", end - n),
            n..end,
        ));
    }
    Ok((o, end))
}

/// Decode the value of the MMS header with code `code` at `p` (the octet after the field code).
fn value(
    ctx: &mut Ctx,
    buf: &[u8],
    p: usize,
    code: u8,
    msg_type: Option<u8>,
) -> Result<(Out, usize), CodecError> {
    let del_conf = matches!(msg_type, Some(0x92 | 0x95));
    match code {
        0x01 | 0x02 | 0x17 => {
            let (mut o, n) = encoded_string(ctx, buf, p, || field_display(code))?;
            address_type(ctx, &mut o, p..n);
            Ok((o, n))
        }
        0x16 | 0x1A | 0x26 | 0x35 | 0x36 => encoded_string(ctx, buf, p, || field_display(code)),
        0x13 if del_conf && buf.get(p).is_some_and(|&b| b <= 31) => {
            // Response-text-Del-value = Value-length Status-count-value Response-text-value.
            indexed(ctx, buf, p, "Status count", |ctx, w, q| {
                encoded_string(ctx, w, q, || "X-Mms-Response-Text".into())
            })
        }
        0x13 => encoded_string(ctx, buf, p, || "X-Mms-Response-Text".into()),
        0x12 if del_conf && buf.get(p).is_some_and(|&b| b <= 31) => {
            // Response-status-Del-value = Value-length Status-count-value Response-status-value.
            indexed(ctx, buf, p, "Status count", |ctx, w, q| {
                token(ctx, w, q, 0x12)
            })
        }
        0x03 if del_conf && buf.get(p).is_some_and(|&b| b <= 31) => {
            // Content-location-Del-value = Value-length Status-count-value Content-location-value.
            indexed(ctx, buf, p, "Status count", |ctx, w, q| text(ctx, w, q))
        }
        0x03 | 0x0B | 0x18 | 0x1E | 0x37 | 0x38 | 0x39 | 0x3D | 0x3E => text(ctx, buf, p),
        0x04 => {
            let (c, n) = content_type::content_type(buf, p)?;
            let mut o = Out::shown(ctx, || (Value::Text(c.media.to_string()), c.display()));
            for prm in &c.params {
                ctx.attach_with(&mut o.children, || prm.node());
            }
            for n in &c.notes {
                ctx.attach_ref(&mut o.children, n);
            }
            // The summary takes the media type from `content_type` (no text copy of it).
            o.content_type = Some(c);
            Ok((o, n))
        }
        0x05 => date(ctx, buf, p),
        0x07 | 0x08 | 0x1D => time(ctx, buf, p),
        0x09 => {
            // From-value = Value-length (Address-present-token Encoded-string-value |
            // Insert-address-token).
            let (len, start) = value_length(buf, p)?;
            let end = start + len;
            let win = &buf[..end];
            let (tok, q) = octet(
                win,
                start,
                "address-present (0x80) or insert-address (0x81) token",
            )?;
            let mut o = match tok {
                0x80 => {
                    let (mut o, _) = encoded_string(ctx, win, q, || "From".into())?;
                    address_type(ctx, &mut o, q..end);
                    if ctx.tree() {
                        o.children.insert(
                            0,
                            Node::new("Address-present-token", "0x80", Value::UInt(0x80), start..q),
                        );
                    }
                    o
                }
                0x81 => {
                    let mut o = Out::shown(ctx, || {
                        (
                            Value::Text("<insert-address-token>".into()),
                            "<insert-address-token>".into(),
                        )
                    });
                    o.text = Some(Cow::Borrowed("<insert-address-token>"));
                    ctx.attach_with(&mut o.children, || {
                        Node::new(
                            "Insert-address-token",
                            "the MMS Proxy-Relay inserts the sender's address",
                            Value::UInt(0x81),
                            start..q,
                        )
                    });
                    o
                }
                _ => {
                    return Err(CodecError::invalid(
                        start,
                        format!(
                            "address-present-token 0x80 or insert-address-token 0x81, found 0x{tok:02X}"
                        ),
                    ));
                }
            };
            o.token = Some(tok);
            Ok((o, end))
        }
        0x0A => {
            let b = *buf
                .get(p)
                .ok_or_else(|| CodecError::truncated(p, "message class"))?;
            if b & 0x80 != 0 {
                token(ctx, buf, p, code)
            } else {
                text(ctx, buf, p)
            }
        }
        0x0C => {
            let (b, n) = octet(buf, p, "message type")?;
            let name = message_type_label(b);
            let mut o = Out::shown(ctx, || {
                (
                    Value::Enum {
                        code: u64::from(b),
                        name: name.to_string(),
                    },
                    name.to_string(),
                )
            });
            if message_type_name(b).is_none() {
                o.children.push(warn(
                    "unknown-message-type",
                    format!(
                        "message type 0x{b:02X} is not assigned (OMA-MMS-ENC 1.3 7.3.30: 0x80–0x97)"
                    ),
                    p..n,
                ));
            }
            o.token = Some(b);
            o.text = Some(name);
            Ok((o, n))
        }
        0x0D => {
            let (s, n) = version_value(buf, p)?;
            let mut o = Out::shown(ctx, || (Value::Text(s.clone()), s.clone()));
            o.token = buf.get(p).copied().filter(|b| b & 0x80 != 0);
            o.text = Some(s.into());
            Ok((o, n))
        }
        0x0E | 0x1F => long_int(ctx, buf, p),
        0x06 | 0x0F | 0x10 | 0x11 | 0x12 | 0x14 | 0x15 | 0x19 | 0x1B | 0x1C | 0x22 | 0x23
        | 0x25 | 0x27 | 0x29 | 0x2B | 0x31 | 0x34 | 0x3A | 0x3B | 0x3C | 0x3F => {
            token(ctx, buf, p, code)
        }
        0x20 => indexed(ctx, buf, p, "Forward counter", |ctx, w, q| {
            encoded_string(ctx, w, q, || "X-Mms-Previously-Sent-By".into())
        }),
        0x21 => indexed(ctx, buf, p, "Forward counter", |ctx, w, q| date(ctx, w, q)),
        0x24 => {
            // MM-flags-value = Value-length (Add-token | Remove-token | Filter-token)
            // Encoded-string-value.
            let (len, start) = value_length(buf, p)?;
            let end = start + len;
            let win = &buf[..end];
            let (tok, q) = octet(win, start, "add/remove/filter token")?;
            let op = match tok {
                0x80 => "add",
                0x81 => "remove",
                0x82 => "filter",
                _ => {
                    return Err(CodecError::invalid(
                        start,
                        format!(
                            "add (0x80), remove (0x81) or filter (0x82) token, found 0x{tok:02X}"
                        ),
                    ));
                }
            };
            let (mut o, _) = encoded_string(ctx, win, q, || "X-Mms-MM-Flags".into())?;
            if ctx.tree() {
                o.display = format!("{op} {}", o.display);
                o.children.insert(
                    0,
                    Node::new("Token", op, Value::UInt(u64::from(tok)), start..q),
                );
            }
            o.token = Some(tok);
            Ok((o, end))
        }
        0x28 => {
            // Attributes-value = Field-name (the code of an MMS header).
            let (b, n) = short_integer(buf, p)?;
            let name = field_label(b);
            let mut o = Out::shown(ctx, || {
                (
                    Value::Enum {
                        code: u64::from(b | 0x80),
                        name: name.to_string(),
                    },
                    name.to_string(),
                )
            });
            o.text = Some(name);
            Ok((o, n))
        }
        0x2A | 0x2C => {
            // Value-length (Message-total/quota-token 0x80 | Size-total/quota-token 0x81)
            // Integer-value.
            let (len, start) = value_length(buf, p)?;
            let end = start + len;
            let win = &buf[..end];
            let (tok, q) = octet(win, start, "messages (0x80) or size (0x81) token")?;
            let unit = match tok {
                0x80 => "messages",
                0x81 => "octets",
                _ => {
                    return Err(CodecError::invalid(
                        start,
                        format!("messages token 0x80 or size token 0x81, found 0x{tok:02X}"),
                    ));
                }
            };
            let (mut o, _) = int_value(ctx, win, q)?;
            if ctx.tree() {
                o.display = format!("{} {unit}", o.display);
            }
            ctx.attach_with(&mut o.children, || {
                Node::new("Token", unit, Value::UInt(u64::from(tok)), start..q)
            });
            o.token = Some(tok);
            Ok((o, end))
        }
        0x2D | 0x2F | 0x33 => int_value(ctx, buf, p),
        0x32 => element_descriptor(ctx, buf, p),
        _ => {
            // 0x2E Content, 0x30 Additional-headers and unassigned codes: step over the value by
            // its shape (WAP-230 8.4.1.2), keep the bytes.
            let (r, n) = skip_value(buf, p)?;
            let mut o = Out::shown(ctx, || (Value::Bytes, hex_preview(&buf[r.clone()], 24)));
            if field_name(code).is_none() {
                o.children.push(warn(
                    "unknown-header",
                    format!(
                        "header code 0x{:02X} is not assigned in OMA-MMS-ENC 1.3; value kept as bytes",
                        code | 0x80
                    ),
                    p.saturating_sub(1)..n,
                ));
            }
            Ok((o, n))
        }
    }
}

/// OMA-MMS-ENC 1.3 8 (address encoding): "number/TYPE=PLMN", "a.b.c.d/TYPE=IPv4",
/// "x:y::z/TYPE=IPv6", an e-mail address, or "…/TYPE=other-type". Adds the address type as a
/// child; an unknown TYPE is a note.
fn address_type(ctx: &Ctx, o: &mut Out, r: Range<usize>) {
    // Its nodes are a label and a note: nothing the summary counts.
    if !ctx.tree() {
        return;
    }
    let Some(addr) = o.text.as_deref().map(str::to_string) else {
        return;
    };
    let (kind, note) = match addr.rsplit_once("/TYPE=") {
        Some((_, ty)) => {
            let known = ["PLMN", "IPv4", "IPv6"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(ty));
            let note = (!known).then(|| {
                format!(
                    "address type \"{}\" is not PLMN, IPv4 or IPv6 (OMA-MMS-ENC 1.3 8 allows other types, but check for a typo)",
                    escape_text(ty)
                )
            });
            (ty.to_string(), note)
        }
        None if addr.contains('@') => ("e-mail".to_string(), None),
        None if addr.is_empty() => return,
        None => (
            "short code".to_string(),
            Some(
                "address without /TYPE= and not an e-mail address: only a short code (MMS 1.3) may omit it (OMA-MMS-ENC 1.3 8)"
                    .to_string(),
            ),
        ),
    };
    o.children.push(Node::new(
        "Address type",
        kind.clone(),
        Value::Text(kind),
        r.clone(),
    ));
    if let Some(n) = note {
        o.children
            .push(Node::expert(Severity::Note, "address", n, r));
    }
}

/// Value-length Integer-value (index/counter) then a value.
fn indexed(
    ctx: &mut Ctx,
    buf: &[u8],
    p: usize,
    index_name: &str,
    inner: impl FnOnce(&mut Ctx, &[u8], usize) -> Result<(Out, usize), CodecError>,
) -> Result<(Out, usize), CodecError> {
    let (len, start) = value_length(buf, p)?;
    let end = start + len;
    let win = &buf[..end];
    let (i, q) = integer_value(win, start)?;
    let (mut o, _) = inner(ctx, win, q)?;
    if ctx.tree() {
        o.display = format!("[{}] {}", i.display(buf), o.display);
        o.children.insert(
            0,
            Node::new(index_name, i.display(buf), i.tree_value(), i.range.clone()),
        );
    }
    Ok((o, end))
}

/// Element-Descriptor-value = Value-length Content-Reference-value *(Parameter), Parameter =
/// Parameter-name (Short-integer 0x81 "type" | Text-string) Parameter-value
/// (Constrained-encoding | Text-string).
fn element_descriptor(ctx: &Ctx, buf: &[u8], p: usize) -> Result<(Out, usize), CodecError> {
    let (len, start) = value_length(buf, p)?;
    let end = start + len;
    let win = &buf[..end];
    let (r, mut q) = text_string(win, start)?;
    let reference = r.lossy();
    let mut o = Out::shown(ctx, || {
        (Value::Text(reference.clone()), escape_text(&reference))
    });
    ctx.attach_with(&mut o.children, || {
        Node::new(
            "Content-Reference",
            escape_text(&reference),
            Value::Text(reference.clone()),
            r.range.clone(),
        )
    });
    while q < end {
        let pstart = q;
        let (b, _) = octet(win, q, "element-descriptor parameter")?;
        let (pname, q2) = if b & 0x80 != 0 {
            let nm = if b == 0x81 {
                "type".to_string()
            } else {
                format!("param-0x{b:02X}")
            };
            (nm, q + 1)
        } else {
            let (t, n) = text_string(win, q)?;
            (t.lossy(), n)
        };
        let (vb, _) = octet(win, q2, "element-descriptor parameter value")?;
        let (pv, n) = if vb & 0x80 != 0 {
            let code = u64::from(vb & 0x7F);
            (
                content_type::media_name(code)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("0x{vb:02X}")),
                q2 + 1,
            )
        } else {
            let (t, n) = text_string(win, q2)?;
            (t.lossy(), n)
        };
        if ctx.tree() {
            o.display.push_str(&format!("; {pname}={pv}"));
        }
        ctx.attach_with(&mut o.children, || {
            Node::new(
                format!("Parameter {pname}"),
                escape_text(&pv),
                Value::Text(pv),
                pstart..n,
            )
        });
        q = n;
    }
    o.text = Some(reference.into());
    Ok((o, end))
}

/// Decode the header at `pos`: a well-known field (octet ≥ 0x80) or an application header.
/// Returns the field's facts, its tree node and the position after it. Without the tree the
/// node is there only when it holds a note the summary counts (an empty node was built,
/// moved and dropped for every field).
pub fn decode_field(
    ctx: &mut Ctx,
    buf: &[u8],
    pos: usize,
    msg_type: Option<u8>,
) -> Result<(Field, Option<Node>, usize), CodecError> {
    let (b, p) = octet(buf, pos, "header field")?;
    if b & 0x80 == 0 {
        if b < 0x20 || b == 0x7F {
            return Err(CodecError::invalid(
                pos,
                format!(
                    "header field (well-known code ≥ 0x80 or token-text application header), found 0x{b:02X}"
                ),
            ));
        }
        // Application-header = Token-text Application-specific-value (OMA-MMS-ENC 7.3). Its
        // node already shows the escaped value.
        let (h, n) = crate::codec::headers::application_header(buf, pos)?;
        // It holds no note: without the tree, no node.
        let node = ctx.tree().then(|| h.node());
        let field = Field {
            code: None,
            name: h.name,
            range: pos..n,
            text: Some(h.display.into()),
            number: None,
            token: None,
            content_type: None,
        };
        return Ok((field, node, n));
    }
    let code = b & 0x7F;
    let name = field_label(code);
    let (o, n) = value(ctx, buf, p, code, msg_type)?;
    let node = (ctx.tree() || o.children.iter().any(super::counts)).then(|| {
        Node::new(ctx.label(|| name.to_string()), o.display, o.value, pos..n)
            .with_children(o.children)
    });
    let field = Field {
        code: Some(code),
        name,
        range: pos..n,
        text: o.text,
        number: o.number,
        token: o.token,
        content_type: o.content_type,
    };
    Ok((field, node, n))
}
