//! Content-type-value (WAP-230 8.4.2.24) and its parameters (8.4.2.4, Table 38), with the
//! well-known media codes (Table 40 and the OMNA registry that extends it).

use super::charset;
use super::primitives::*;
use crate::tree::{Node, Value};
use compact_str::CompactString;
use std::borrow::Cow;
use std::ops::Range;

/// Well-known media code → media type (WAP-230 Table 40, OMNA "WSP Content Type Codes").
pub fn media_name(code: u64) -> Option<&'static str> {
    const T: &[&str] = &[
        "*/*",
        "text/*",
        "text/html",
        "text/plain",
        "text/x-hdml",
        "text/x-ttml",
        "text/x-vCalendar",
        "text/x-vCard",
        "text/vnd.wap.wml",
        "text/vnd.wap.wmlscript",
        "text/vnd.wap.wta-event",
        "multipart/*",
        "multipart/mixed",
        "multipart/form-data",
        "multipart/byterantes",
        "multipart/alternative",
        "application/*",
        "application/java-vm",
        "application/x-www-form-urlencoded",
        "application/x-hdmlc",
        "application/vnd.wap.wmlc",
        "application/vnd.wap.wmlscriptc",
        "application/vnd.wap.wta-eventc",
        "application/vnd.wap.uaprof",
        "application/vnd.wap.wtls-ca-certificate",
        "application/vnd.wap.wtls-user-certificate",
        "application/x-x509-ca-cert",
        "application/x-x509-user-cert",
        "image/*",
        "image/gif",
        "image/jpeg",
        "image/tiff",
        "image/png",
        "image/vnd.wap.wbmp",
        "application/vnd.wap.multipart.*",
        "application/vnd.wap.multipart.mixed",
        "application/vnd.wap.multipart.form-data",
        "application/vnd.wap.multipart.byteranges",
        "application/vnd.wap.multipart.alternative",
        "application/xml",
        "text/xml",
        "application/vnd.wap.wbxml",
        "application/x-x968-cross-cert",
        "application/x-x968-ca-cert",
        "application/x-x968-user-cert",
        "text/vnd.wap.si",
        "application/vnd.wap.sic",
        "text/vnd.wap.sl",
        "application/vnd.wap.slc",
        "text/vnd.wap.co",
        "application/vnd.wap.coc",
        "application/vnd.wap.multipart.related",
        "application/vnd.wap.sia",
        "text/vnd.wap.connectivity-xml",
        "application/vnd.wap.connectivity-wbxml",
        "application/pkcs7-mime",
        "application/vnd.wap.hashed-certificate",
        "application/vnd.wap.signed-certificate",
        "application/vnd.wap.cert-response",
        "application/xhtml+xml",
        "application/wml+xml",
        "text/css",
        "application/vnd.wap.mms-message",
        "application/vnd.wap.rollover-certificate",
        "application/vnd.wap.locc+wbxml",
        "application/vnd.wap.loc+xml",
        "application/vnd.syncml.dm+wbxml",
        "application/vnd.syncml.dm+xml",
        "application/vnd.syncml.notification",
        "application/vnd.wap.xhtml+xml",
        "application/vnd.wv.csp.cir",
        "application/vnd.oma.dd+xml",
        "application/vnd.oma.drm.message",
        "application/vnd.oma.drm.content",
        "application/vnd.oma.drm.rights+xml",
        "application/vnd.oma.drm.rights+wbxml",
        "application/vnd.wv.csp+xml",
        "application/vnd.wv.csp+wbxml",
        "application/vnd.syncml.ds.notification",
        "audio/*",
        "video/*",
        "application/vnd.oma.dd2+xml",
        "application/mikey",
        "application/vnd.oma.dcd",
        "application/vnd.oma.dcdc",
    ];
    if let Some(n) = T.get(code as usize) {
        return Some(n);
    }
    // OMNA registered codes above 0x0200.
    Some(match code {
        0x0201 => "application/vnd.uplanet.cacheop-wbxml",
        0x0202 => "application/vnd.uplanet.signal",
        0x0203 => "application/vnd.uplanet.alert-wbxml",
        0x0204 => "application/vnd.uplanet.list-wbxml",
        0x0205 => "application/vnd.uplanet.listcmd-wbxml",
        0x0206 => "application/vnd.uplanet.channel-wbxml",
        0x0207 => "application/vnd.uplanet.provisioning-status-uri",
        0x0208 => "x-wap.multipart/vnd.uplanet.header-set",
        0x0209 => "application/vnd.uplanet.bearer-choice-wbxml",
        0x020A => "application/vnd.phonecom.mmc-wbxml",
        0x020B => "application/vnd.nokia.syncset+wbxml",
        0x020C => "image/x-up-wpng",
        0x0300 => "application/iota.mmc-wbxml",
        0x0301 => "application/iota.mmc-xml",
        0x0302 => "application/vnd.syncml+xml",
        0x0303 => "application/vnd.syncml+wbxml",
        0x0304 => "text/vnd.wap.emn+xml",
        0x0305 => "text/calendar",
        0x0306 => "application/vnd.omads-email+xml",
        0x0307 => "application/vnd.omads-file+xml",
        0x0308 => "application/vnd.omads-folder+xml",
        0x0309 => "text/directory;profile=vCard",
        0x030A => "application/vnd.wap.emn+wbxml",
        0x030B => "application/vnd.nokia.ipdc-purchase-response",
        0x030C => "application/vnd.motorola.screen3+xml",
        0x030D => "application/vnd.motorola.screen3+gzip",
        0x030E => "application/vnd.cmcc.setting+wbxml",
        0x030F => "application/vnd.cmcc.bombing+wbxml",
        0x0310 => "application/vnd.docomo.pf",
        0x0311 => "application/vnd.docomo.ub",
        0x0312 => "application/vnd.omaloc-supl-init",
        0x0313 => "application/vnd.oma.group-usage-list+xml",
        0x0314 => "application/oma-directory+xml",
        0x0315 => "application/vnd.docomo.pf2",
        0x0316 => "application/vnd.oma.drm.roap-trigger+wbxml",
        0x0317 => "application/vnd.sbm.mid2",
        0x0318 => "application/vnd.wmf.bootstrap",
        0x0319 => "application/vnc.cmcc.dcd+xml",
        0x031A => "application/vnd.sbm.cid",
        0x031B => "application/vnd.oma.bcast.provisioningtrigger",
        _ => return None,
    })
}

/// Well-known code of a media type, when it has one.
pub fn media_code(media: &str) -> Option<u64> {
    (0..0x55u64).find(|&c| media_name(c).is_some_and(|n| n.eq_ignore_ascii_case(media)))
}

/// Typed parameter name (WAP-230 Table 38), with the encoding version that introduced it.
pub fn param_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0x00 => "Q",
        0x01 => "Charset",
        0x02 => "Level",
        0x03 => "Type",
        0x05 => "Name",
        0x06 => "Filename",
        0x07 => "Differences",
        0x08 => "Padding",
        0x09 => "Type",
        0x0A => "Start",
        0x0B => "Start-info",
        0x0C => "Comment",
        0x0D => "Domain",
        0x0E => "Max-Age",
        0x0F => "Path",
        0x10 => "Secure",
        0x11 => "SEC",
        0x12 => "MAC",
        0x13 => "Creation-date",
        0x14 => "Modification-date",
        0x15 => "Read-date",
        0x16 => "Size",
        0x17 => "Name",
        0x18 => "Filename",
        0x19 => "Start",
        0x1A => "Start-info",
        0x1B => "Comment",
        0x1C => "Domain",
        0x1D => "Path",
        _ => return None,
    })
}

/// One parameter of a content type (or of a Content-Disposition).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Parameter name ("Charset", "Name", or the token of an untyped parameter): borrowed
    /// from the table for a typed parameter (every part's content type has some, and the
    /// summary path names none of them).
    pub name: Cow<'static, str>,
    /// Well-known parameter code for typed parameters.
    pub code: Option<u64>,
    pub value: Value,
    pub display: String,
    pub range: Range<usize>,
}

impl Param {
    pub fn node(&self) -> Node {
        Node::new(
            format!("Parameter {}", self.name),
            self.display.clone(),
            self.value.clone(),
            self.range.clone(),
        )
    }
}

/// A decoded Content-type-value.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentType {
    /// Media type as text ("application/vnd.wap.multipart.related"): for a well-known code, the
    /// table's own string (not copied: every MMS PDU and part has a content type).
    pub media: CompactString,
    /// The well-known code, when the media was encoded as one.
    pub code: Option<u64>,
    pub params: Vec<Param>,
    pub range: Range<usize>,
    /// Problems that did not prevent decoding (unknown code, bad parameter).
    pub notes: Vec<Node>,
}

impl ContentType {
    /// A parameter's display value by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.param_index(name).map(|i| &self.params[i])
    }

    /// Where [`ContentType::param`] is in `params`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The charset parameter's MIBenum.
    pub fn charset(&self) -> Option<u64> {
        self.param("charset").and_then(|p| match &p.value {
            Value::Enum { code, .. } => Some(*code),
            Value::UInt(v) => Some(*v),
            Value::Text(t) => charset::mib_of(t),
            _ => None,
        })
    }

    /// True for the binary WSP multipart media types (and textual multipart/*, which MMS
    /// encoders use with the same binary body).
    pub fn is_multipart(&self) -> bool {
        starts_with_ignore_case(&self.media, "application/vnd.wap.multipart.")
            || starts_with_ignore_case(&self.media, "multipart/")
    }

    /// "application/smil; charset=UTF-8 (106); Name=x"
    pub fn display(&self) -> String {
        let mut s = self.media.to_string();
        for p in &self.params {
            s.push_str(&format!("; {}={}", p.name, p.display));
        }
        s
    }

    pub fn node(&self, name: &str) -> Node {
        let mut n = Node::new(
            name,
            self.display(),
            Value::Text(self.media.to_string()),
            self.range.clone(),
        );
        for p in &self.params {
            n.push(p.node());
        }
        n.children.extend(self.notes.iter().cloned());
        n
    }
}

fn media_from_code(code: u64, notes: &mut Vec<Node>, range: Range<usize>) -> CompactString {
    match media_name(code) {
        Some(n) => CompactString::const_new(n),
        None => {
            notes.push(Node::expert(
                crate::tree::Severity::Warning,
                "unknown-value",
                format!("unassigned well-known media code 0x{code:02X}"),
                range,
            ));
            compact_str::format_compact!("unknown-media-0x{code:02X}")
        }
    }
}

/// Content-type-value = Constrained-media | Content-general-form.
pub fn content_type(buf: &[u8], pos: usize) -> Decoded<ContentType> {
    let (b, _) = octet(buf, pos, "content-type-value")?;
    let mut notes = Vec::new();
    match value_shape(b) {
        ValueShape::Short(code) => {
            let media = media_from_code(u64::from(code), &mut notes, pos..pos + 1);
            Ok((
                ContentType {
                    media,
                    code: Some(u64::from(code)),
                    params: Vec::new(),
                    range: pos..pos + 1,
                    notes,
                },
                pos + 1,
            ))
        }
        ValueShape::Text => {
            let (t, next) = text_string(buf, pos)?;
            Ok((
                ContentType {
                    media: t.lossy_compact(),
                    code: None,
                    params: Vec::new(),
                    range: pos..next,
                    notes,
                },
                next,
            ))
        }
        ValueShape::Length(_) | ValueShape::LengthQuote => {
            let (len, start) = value_length(buf, pos)?;
            let end = start + len;
            let win = &buf[..end];
            let (mb, _) = octet(win, start, "media-type (well-known code or text)")?;
            let (media, code, mut p) = if mb & 0x80 != 0 || mb <= 30 {
                let (i, p) = integer_value(win, start)?;
                let code = i.value.unwrap_or(u64::MAX);
                (
                    media_from_code(code, &mut notes, i.range.clone()),
                    Some(code),
                    p,
                )
            } else {
                let (t, p) = text_string(win, start)?;
                (t.lossy_compact(), None, p)
            };
            let mut params = Vec::new();
            while p < end {
                match parameter(win, p) {
                    Ok((param, next)) => {
                        params.push(param);
                        p = next;
                    }
                    Err(e) => {
                        // The value length bounds the damage: keep the media type.
                        notes.push(e.node(end));
                        break;
                    }
                }
            }
            Ok((
                ContentType {
                    media,
                    code,
                    params,
                    range: pos..end,
                    notes,
                },
                end,
            ))
        }
    }
}

/// Parameter = Typed-parameter | Untyped-parameter (WAP-230 8.4.2.4).
pub fn parameter(buf: &[u8], pos: usize) -> Decoded<Param> {
    let (b, _) = octet(buf, pos, "parameter")?;
    if b & 0x80 != 0 || b <= 30 {
        // Typed: Well-known-parameter-token (Integer-value) Typed-value.
        let (tok, p) = integer_value(buf, pos)?;
        let code = tok.value.unwrap_or(u64::MAX);
        let name = param_name(code)
            .map(Cow::Borrowed)
            .unwrap_or_else(|| format!("param-0x{code:02X}").into());
        let (value, display, next) = typed_value(buf, p, code)?;
        Ok((
            Param {
                name,
                code: Some(code),
                value,
                display,
                range: pos..next,
            },
            next,
        ))
    } else {
        // Untyped: Token-text Untyped-value (Integer-value | Text-value).
        let (name, p) = token_text(buf, pos)?;
        let (vb, _) = octet(buf, p, "untyped parameter value")?;
        let (value, display, next) = if vb & 0x80 != 0 || (1..=30).contains(&vb) {
            let (i, n) = integer_value(buf, p)?;
            (i.tree_value(), i.display(buf), n)
        } else {
            let (t, n) = text_value(buf, p)?;
            let s = t.lossy();
            (Value::Text(s.clone()), s, n)
        };
        Ok((
            Param {
                name: name.lossy().into(),
                code: None,
                value,
                display,
                range: pos..next,
            },
            next,
        ))
    }
}

fn text_val(buf: &[u8], p: usize) -> Decoded<(Value, String)> {
    let (t, n) = text_value(buf, p)?;
    let s = t.lossy();
    Ok(((Value::Text(s.clone()), s), n))
}

/// Typed-value of a well-known parameter.
fn typed_value(buf: &[u8], p: usize, code: u64) -> Result<(Value, String, usize), CodecError> {
    let ((v, d), n) = match code {
        0x00 => {
            let (q, n) = q_value(buf, p)?;
            ((Value::Text(q.clone()), q), n)
        }
        0x01 => {
            // Well-known-charset = Any-charset (128) | Integer-value; text tolerated.
            let (b, _) = octet(buf, p, "charset")?;
            if b == 0x80 {
                (
                    (
                        Value::Enum {
                            code: 0,
                            name: "*".into(),
                        },
                        "*".into(),
                    ),
                    p + 1,
                )
            } else if b & 0x80 != 0 || b <= 30 {
                let (i, n) = integer_value(buf, p)?;
                let mib = i.value.unwrap_or(u64::MAX);
                let name = charset::name(mib).unwrap_or("unknown").to_string();
                ((Value::Enum { code: mib, name }, charset::describe(mib)), n)
            } else {
                text_val(buf, p)?
            }
        }
        0x02 => {
            let (s, n) = version_value(buf, p)?;
            ((Value::Text(s.clone()), s), n)
        }
        0x03 | 0x16 => {
            let (i, n) = integer_value(buf, p)?;
            ((i.tree_value(), i.display(buf)), n)
        }
        0x08 | 0x11 => {
            let (s, n) = short_integer(buf, p)?;
            ((Value::UInt(u64::from(s)), s.to_string()), n)
        }
        0x09 => {
            // Type (multipart/related): Constrained-encoding = Short-integer media | text.
            let (b, _) = octet(buf, p, "constrained-encoding")?;
            if b & 0x80 != 0 {
                let code = u64::from(b & 0x7F);
                let name = media_name(code)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("unknown-media-0x{code:02X}"));
                ((Value::Text(name.clone()), name), p + 1)
            } else {
                text_val(buf, p)?
            }
        }
        0x07 => {
            // Differences: Field-name = Token-text | Well-known-field-name (short-integer).
            let (b, _) = octet(buf, p, "field-name")?;
            if b & 0x80 != 0 {
                let name = super::headers::field_name(1, b & 0x7F);
                ((Value::Text(name.clone()), name), p + 1)
            } else {
                text_val(buf, p)?
            }
        }
        0x0E => {
            let (i, n) = delta_seconds(buf, p)?;
            let d = i
                .value
                .map(format_duration)
                .unwrap_or_else(|| i.display(buf));
            ((Value::Duration(i.value.unwrap_or(u64::MAX)), d), n)
        }
        0x10 => {
            let ((), n) = no_value(buf, p)?;
            ((Value::None, String::new()), n)
        }
        0x13..=0x15 => {
            let (i, n) = date_value(buf, p)?;
            match i.value {
                Some(v) if v <= i64::MAX as u64 => {
                    ((Value::Time(v as i64), format_date(v as i64)), n)
                }
                _ => ((Value::Bytes, i.display(buf)), n),
            }
        }
        // 0x05 Name, 0x06 Filename, 0x0A Start, 0x0B Start-info, 0x0C Comment (text-string, 1.1);
        // 0x0D Domain, 0x0F Path, 0x12 MAC, 0x17–0x1D (text-value, 1.4).
        0x05 | 0x06 | 0x0A..=0x0D | 0x0F | 0x12 | 0x17..=0x1D => text_val(buf, p)?,
        _ => {
            // Unknown typed parameter: step over one value of any shape.
            let (r, n) = skip_value(buf, p)?;
            (
                (
                    Value::Bytes,
                    format!("unknown parameter value {}", hex_preview(&buf[r], 16)),
                ),
                n,
            )
        }
    };
    Ok((v, d, n))
}

/// `s` starts with `prefix`, ASCII case ignored (without lowering a copy of `s`: asked for
/// every part of every PDU).
pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_media_types_ignore_ascii_case() {
        let ct = |media: &str| ContentType {
            media: media.into(),
            code: None,
            params: Vec::new(),
            range: 0..0,
            notes: Vec::new(),
        };
        for m in [
            "application/vnd.wap.multipart.related",
            "Application/VND.WAP.Multipart.Mixed",
            "multipart/related",
            "MULTIPART/alternative",
        ] {
            assert!(ct(m).is_multipart(), "{m}");
        }
        for m in [
            "application/vnd.wap.multipart",
            "multipart",
            "text/plain",
            "",
            "multipärt/x",
        ] {
            assert!(!ct(m).is_multipart(), "{m}");
        }
        assert!(starts_with_ignore_case("Ab", "a"));
        assert!(!starts_with_ignore_case("é", "e"));
    }

    #[test]
    fn constrained_and_text_media() {
        let (ct, n) = content_type(&[0xB3], 0).unwrap();
        assert_eq!(
            (ct.media.as_str(), n),
            ("application/vnd.wap.multipart.related", 1)
        );
        let (ct, _) = content_type(&[0xBE], 0).unwrap();
        assert_eq!(ct.media, "application/vnd.wap.mms-message");
        let (ct, n) = content_type(b"application/smil\0", 0).unwrap();
        assert_eq!((ct.media.as_str(), n), ("application/smil", 17));
    }

    #[test]
    fn general_form_with_typed_and_untyped_params() {
        // Value-length 0x1B; 0xB3 multipart.related; Start (0x8A) "<s>"; Type (0x89)
        // "application/smil"; untyped "x\0" = integer 0x85.
        let mut b = vec![0x00, 0xB3, 0x8A];
        b.extend(b"<s>\0");
        b.push(0x89);
        b.extend(b"application/smil\0");
        b.extend(b"x\0");
        b.push(0x85);
        b[0] = (b.len() - 1) as u8;
        let (ct, n) = content_type(&b, 0).unwrap();
        assert_eq!(n, b.len());
        assert_eq!(ct.param("Start").unwrap().display, "<s>");
        assert_eq!(ct.param("Type").unwrap().display, "application/smil");
        assert_eq!(ct.param("x").unwrap().value, Value::UInt(5));
        assert!(ct.notes.is_empty());
    }

    #[test]
    fn charset_parameter_short_and_long() {
        // text/plain; charset=UTF-8 (short 0xEA); then charset UTF-16 as 2-octet long-integer.
        let (ct, _) = content_type(&[0x03, 0x83, 0x81, 0xEA], 0).unwrap();
        assert_eq!((ct.media.as_str(), ct.charset()), ("text/plain", Some(106)));
        let (ct, _) = content_type(&[0x05, 0x83, 0x81, 0x02, 0x03, 0xF7], 0).unwrap();
        assert_eq!(ct.charset(), Some(1015));
    }

    #[test]
    fn bad_parameter_is_noted_but_media_kept() {
        let (ct, n) = content_type(&[0x03, 0x83, 0x81, 0x1F], 0).unwrap();
        assert_eq!((ct.media.as_str(), n), ("text/plain", 4));
        assert_eq!(ct.notes.len(), 1);
    }
}
