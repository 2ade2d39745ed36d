//! WSP value encodings (WAP-230-WSP section 8.4.2.1 "Basic rules", 8.4.2.3 "Parameter values",
//! 8.4.2.4 "Encoding of charset", and the value rules OMA-MMS-ENC reuses from them).
//!
//! Every decoder takes the whole buffer and an absolute position in it, and returns the decoded
//! value with the absolute position just past it: `Result<(value, next), CodecError>`. Keeping
//! positions absolute means every value's byte range can go straight into a [`tree::Node`]. To
//! bound a decoder to a window (a Value-length, a part's header block), pass `&buf[..end]`.
//!
//! [`tree::Node`]: crate::tree::Node

use crate::tree::{Node, Severity, Value};
use std::fmt;
use std::ops::Range;

/// Why a decode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The value runs past the end of the data (or of its enclosing length).
    Truncated,
    /// The octets do not match the grammar.
    Invalid,
    /// A number does not fit the width the specification allows.
    Overflow,
    /// A bound mmscope sets (part count, nesting depth) was reached.
    Limit,
}

/// A decoding error: where (absolute byte offset) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    pub offset: usize,
    pub expected: String,
    pub kind: ErrorKind,
}

impl CodecError {
    pub fn truncated(offset: usize, expected: impl Into<String>) -> Self {
        CodecError {
            offset,
            expected: expected.into(),
            kind: ErrorKind::Truncated,
        }
    }

    pub fn invalid(offset: usize, expected: impl Into<String>) -> Self {
        CodecError {
            offset,
            expected: expected.into(),
            kind: ErrorKind::Invalid,
        }
    }

    pub fn overflow(offset: usize, expected: impl Into<String>) -> Self {
        CodecError {
            offset,
            expected: expected.into(),
            kind: ErrorKind::Overflow,
        }
    }

    pub fn limit(offset: usize, expected: impl Into<String>) -> Self {
        CodecError {
            offset,
            expected: expected.into(),
            kind: ErrorKind::Limit,
        }
    }

    /// Short kind name used as the expert node's name.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::Truncated => "truncated",
            ErrorKind::Invalid => "malformed",
            ErrorKind::Overflow => "overflow",
            ErrorKind::Limit => "limit",
        }
    }

    /// An error expert node covering `offset..end` (`end` is where the undecodable data ends,
    /// usually the end of the enclosing buffer or window).
    pub fn node(&self, end: usize) -> Node {
        let end = end.max(self.offset + 1);
        let sev = if self.kind == ErrorKind::Limit {
            Severity::Warning
        } else {
            Severity::Error
        };
        Node::expert(sev, self.kind_name(), self.to_string(), self.offset..end)
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Truncated => "data ends",
            ErrorKind::Invalid => "invalid octets",
            ErrorKind::Overflow => "overflow",
            ErrorKind::Limit => "limit reached",
        };
        write!(
            f,
            "{what} at byte {}: expected {}",
            self.offset, self.expected
        )
    }
}

impl std::error::Error for CodecError {}

/// A decoded value and the absolute position just past it.
pub type Decoded<T> = Result<(T, usize), CodecError>;

/// One octet at `pos`.
pub fn octet(buf: &[u8], pos: usize, expected: &str) -> Decoded<u8> {
    match buf.get(pos) {
        Some(&b) => Ok((b, pos + 1)),
        None => Err(CodecError::truncated(pos, expected.to_string())),
    }
}

/// `n` octets at `pos`, as a range (never allocates).
pub fn octets(buf: &[u8], pos: usize, n: usize, expected: &str) -> Decoded<Range<usize>> {
    let end = pos.checked_add(n).filter(|&e| e <= buf.len());
    match end {
        Some(end) => Ok((pos..end, end)),
        None => Err(CodecError::truncated(
            pos,
            format!(
                "{expected} ({n} octets, only {} left)",
                buf.len().saturating_sub(pos)
            ),
        )),
    }
}

/// Uintvar (WSP 8.1.2): 7 bits per octet, high bit = continuation, at most 5 octets and at most
/// 32 bits of value.
pub fn uintvar(buf: &[u8], pos: usize) -> Decoded<u32> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let Some(&b) = buf.get(pos + i) else {
            return Err(CodecError::truncated(
                pos + i,
                "uintvar octet (continuation bit was set)",
            ));
        };
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                return Err(CodecError::overflow(
                    pos,
                    "uintvar of at most 32 bits (5 octets, first ≤ 0x8F)",
                ));
            }
            return Ok((value as u32, pos + i + 1));
        }
    }
    Err(CodecError::overflow(
        pos,
        "uintvar of at most 5 octets (5th octet has its continuation bit set)",
    ))
}

/// Short-integer: one octet with the high bit set, value in the low 7 bits.
pub fn short_integer(buf: &[u8], pos: usize) -> Decoded<u8> {
    let (b, next) = octet(buf, pos, "short-integer")?;
    if b & 0x80 == 0 {
        return Err(CodecError::invalid(
            pos,
            format!("short-integer (octet ≥ 0x80), found 0x{b:02X}"),
        ));
    }
    Ok((b & 0x7F, next))
}

/// A decoded Integer-value / Long-integer. Long-integers may be up to 30 octets: those longer
/// than 8 octets do not fit a `u64` and are kept as their octets (`value` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integer {
    pub value: Option<u64>,
    /// The octets that carry the number (without the length octet).
    pub octets: Range<usize>,
    /// The whole encoding (length octet included).
    pub range: Range<usize>,
}

impl Integer {
    /// Decimal when it fits 64 bits, else `0x` and the big-endian octets.
    pub fn display(&self, buf: &[u8]) -> String {
        match self.value {
            Some(v) => v.to_string(),
            None => {
                let mut s = String::from("0x");
                for b in &buf[self.octets.clone()] {
                    s.push_str(&format!("{b:02X}"));
                }
                s
            }
        }
    }

    pub fn tree_value(&self) -> Value {
        match self.value {
            Some(v) => Value::UInt(v),
            None => Value::Bytes,
        }
    }

    /// A tree node for this integer (its whole encoding).
    pub fn node(&self, name: &str, buf: &[u8]) -> Node {
        Node::new(
            name,
            self.display(buf),
            self.tree_value(),
            self.range.clone(),
        )
    }
}

/// Long-integer = Short-length Multi-octet-integer (1–30 octets, big-endian).
pub fn long_integer(buf: &[u8], pos: usize) -> Decoded<Integer> {
    let (len, p) = octet(buf, pos, "long-integer length (1–30)")?;
    if len == 0 || len > 30 {
        return Err(CodecError::invalid(
            pos,
            format!("long-integer length 1–30, found {len}"),
        ));
    }
    let (octets, next) = octets(buf, p, len as usize, "long-integer octets")?;
    let bytes = &buf[octets.clone()];
    // Leading zero octets do not change the value: strip them before the width check.
    let significant = bytes.iter().skip_while(|&&b| b == 0).count();
    let value = if significant <= 8 {
        Some(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    } else {
        None
    };
    Ok((
        Integer {
            value,
            octets,
            range: pos..next,
        },
        next,
    ))
}

/// Integer-value = Short-integer | Long-integer.
pub fn integer_value(buf: &[u8], pos: usize) -> Decoded<Integer> {
    let (b, _) = octet(buf, pos, "integer-value")?;
    if b & 0x80 != 0 {
        Ok((
            Integer {
                value: Some(u64::from(b & 0x7F)),
                octets: pos..pos + 1,
                range: pos..pos + 1,
            },
            pos + 1,
        ))
    } else if b <= 30 {
        long_integer(buf, pos)
    } else {
        Err(CodecError::invalid(
            pos,
            format!(
                "integer-value (short-integer ≥ 0x80 or long-integer length 1–30), found 0x{b:02X}"
            ),
        ))
    }
}

/// Date-value = Long-integer, seconds since 1970-01-01 00:00:00 UTC.
pub fn date_value(buf: &[u8], pos: usize) -> Decoded<Integer> {
    long_integer(buf, pos)
}

/// Delta-seconds-value = Integer-value.
pub fn delta_seconds(buf: &[u8], pos: usize) -> Decoded<Integer> {
    integer_value(buf, pos)
}

/// No-value = 0x00.
pub fn no_value(buf: &[u8], pos: usize) -> Decoded<()> {
    let (b, next) = octet(buf, pos, "no-value (0x00)")?;
    if b != 0 {
        return Err(CodecError::invalid(
            pos,
            format!("no-value (0x00), found 0x{b:02X}"),
        ));
    }
    Ok(((), next))
}

/// A NUL-terminated string of the buffer, without its quote prefix and terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a> {
    pub bytes: &'a [u8],
    /// The content octets (no quote, no NUL).
    pub content: Range<usize>,
    /// The whole encoding (quote and NUL included).
    pub range: Range<usize>,
}

impl Text<'_> {
    /// The text as UTF-8 (lossy: invalid sequences become U+FFFD). Header text is US-ASCII by
    /// the specification; UTF-8 is what phones actually put there when they break that rule.
    pub fn lossy(&self) -> String {
        super::charset::utf8_lossy(self.bytes).into_owned()
    }

    /// [`Text::lossy`] as a `CompactString`: a short text is held inline, without a heap block.
    pub fn lossy_compact(&self) -> compact_str::CompactString {
        compact_str::CompactString::from(super::charset::utf8_lossy(self.bytes))
    }

    pub fn is_ascii(&self) -> bool {
        self.bytes.is_ascii()
    }

    /// A tree node for this string (its whole encoding), display escaped for terminals.
    pub fn node(&self, name: &str) -> Node {
        let s = self.lossy();
        Node::new(
            name,
            crate::tree::escape_text(&s),
            Value::Text(s),
            self.range.clone(),
        )
    }
}

fn nul_terminated<'a>(buf: &'a [u8], start: usize, pos: usize, what: &str) -> Decoded<Text<'a>> {
    let rest = buf.get(start..).unwrap_or(&[]);
    match rest.iter().position(|&b| b == 0) {
        Some(n) => Ok((
            Text {
                bytes: &buf[start..start + n],
                content: start..start + n,
                range: pos..start + n + 1,
            },
            start + n + 1,
        )),
        None => Err(CodecError::truncated(
            buf.len(),
            format!("end of {what} (NUL 0x00) that started at byte {pos}"),
        )),
    }
}

/// Text-string = [Quote 0x7F] *TEXT End-of-string. The quote is required when the first
/// character is ≥ 0x80 (so it is not read as a short-integer) and tolerated otherwise.
pub fn text_string(buf: &[u8], pos: usize) -> Decoded<Text<'_>> {
    let (b, _) = octet(buf, pos, "text-string")?;
    let start = if b == 0x7F { pos + 1 } else { pos };
    if b != 0x7F && (b & 0x80 != 0 || (1..32).contains(&b)) {
        return Err(CodecError::invalid(
            pos,
            format!("text-string (first octet 0x20–0x7F or 0x00), found 0x{b:02X}"),
        ));
    }
    nul_terminated(buf, start, pos, "text-string")
}

/// Quoted-string = 0x22 *TEXT End-of-string (the closing quote is not encoded).
pub fn quoted_string(buf: &[u8], pos: usize) -> Decoded<Text<'_>> {
    let (b, _) = octet(buf, pos, "quoted-string")?;
    if b != 0x22 {
        return Err(CodecError::invalid(
            pos,
            format!("quoted-string (0x22 '\"'), found 0x{b:02X}"),
        ));
    }
    nul_terminated(buf, pos + 1, pos, "quoted-string")
}

/// Token-text = Token End-of-string.
pub fn token_text(buf: &[u8], pos: usize) -> Decoded<Text<'_>> {
    let (b, _) = octet(buf, pos, "token-text")?;
    if !(0x20..0x7F).contains(&b) {
        return Err(CodecError::invalid(
            pos,
            format!("token-text (first octet 0x20–0x7E), found 0x{b:02X}"),
        ));
    }
    nul_terminated(buf, pos, pos, "token-text")
}

/// Text-value = No-value | Token-text | Quoted-string. Returns the text (empty for No-value).
pub fn text_value(buf: &[u8], pos: usize) -> Decoded<Text<'_>> {
    let (b, _) = octet(buf, pos, "text-value")?;
    match b {
        0 => Ok((
            Text {
                bytes: &[],
                content: pos..pos,
                range: pos..pos + 1,
            },
            pos + 1,
        )),
        0x22 => quoted_string(buf, pos),
        _ => text_string(buf, pos),
    }
}

/// Value-length = Short-length (0–30) | Length-quote (31) Uintvar. Returns the length and the
/// position of the value; checks that the value fits in `buf`.
pub fn value_length(buf: &[u8], pos: usize) -> Decoded<usize> {
    let (b, p) = octet(buf, pos, "value-length")?;
    let (len, start) = match b {
        0..=30 => (b as usize, p),
        31 => {
            let (n, q) = uintvar(buf, p)?;
            (n as usize, q)
        }
        _ => {
            return Err(CodecError::invalid(
                pos,
                format!("value-length (0–30, or 31 then uintvar), found 0x{b:02X}"),
            ));
        }
    };
    if start.checked_add(len).is_none_or(|e| e > buf.len()) {
        return Err(CodecError::truncated(
            pos,
            format!(
                "value of {len} octets (value-length), only {} left",
                buf.len().saturating_sub(start)
            ),
        ));
    }
    Ok((len, start))
}

/// How a general-form value starts (WSP 8.4.1.2): the first octet tells the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueShape {
    /// 0–30: a Short-length follows… the octet *is* the length.
    Length(u8),
    /// 31: Length-quote, a uintvar length follows.
    LengthQuote,
    /// 32–127: a text string.
    Text,
    /// 128–255: a short-integer (encoded value).
    Short(u8),
}

pub fn value_shape(b: u8) -> ValueShape {
    match b {
        0..=30 => ValueShape::Length(b),
        31 => ValueShape::LengthQuote,
        32..=127 => ValueShape::Text,
        _ => ValueShape::Short(b & 0x7F),
    }
}

/// Skip one value of any shape (the general rule that lets a decoder step over a value it does
/// not know). Returns the value's range.
pub fn skip_value(buf: &[u8], pos: usize) -> Decoded<Range<usize>> {
    let (b, _) = octet(buf, pos, "value")?;
    match value_shape(b) {
        ValueShape::Length(_) | ValueShape::LengthQuote => {
            let (len, start) = value_length(buf, pos)?;
            Ok((pos..start + len, start + len))
        }
        ValueShape::Text => {
            let (t, next) = text_string(buf, pos)?;
            Ok((t.range, next))
        }
        ValueShape::Short(_) => Ok((pos..pos + 1, pos + 1)),
    }
}

/// Encoded-string-value = Text-string | Value-length Char-set Text-string (OMA-MMS-ENC 7.2.9,
/// WAP-230 8.4.2.1). The text is decoded with the charset (MIBenum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedString {
    /// MIBenum, `None` for the plain Text-string form (US-ASCII/UTF-8).
    pub charset: Option<u64>,
    pub text: String,
    /// Octets of the text (no quote, no NUL).
    pub content: Range<usize>,
    pub range: Range<usize>,
    /// Set when the charset is unknown or the octets are not valid in it.
    pub note: Option<String>,
}

impl EncodedString {
    /// A tree node for this string: the text, with the charset and any note as children.
    pub fn node(&self, name: &str) -> Node {
        let mut n = Node::new(
            name,
            crate::tree::escape_text(&self.text),
            Value::Text(self.text.clone()),
            self.range.clone(),
        );
        if let Some(cs) = self.charset {
            n.push(Node::new(
                "Charset",
                super::charset::describe(cs),
                Value::UInt(cs),
                self.range.start..self.content.start.max(self.range.start),
            ));
        }
        if let Some(note) = &self.note {
            n.push(Node::expert(
                Severity::Warning,
                "charset",
                note.clone(),
                self.content.clone(),
            ));
        }
        n
    }
}

pub fn encoded_string_value(buf: &[u8], pos: usize) -> Decoded<EncodedString> {
    let (b, _) = octet(buf, pos, "encoded-string-value")?;
    // 0x00 alone is an empty Text-string (a Value-length of 0 could not hold the charset).
    if (1..=31).contains(&b) {
        let (len, start) = value_length(buf, pos)?;
        let end = start + len;
        let win = &buf[..end];
        let (cb, _) = octet(win, start, "charset (well-known-charset)")?;
        let (charset, p) = if cb == 0x80 {
            (0, start + 1) // Any-charset
        } else {
            let (i, p) = integer_value(win, start)?;
            (i.value.unwrap_or(u64::MAX), p)
        };
        // The text of a charset-tagged string may be UTF-16 and contain 0x00 octets: it ends at
        // the value length, the last octet being its End-of-string.
        let text_start = if win.get(p) == Some(&0x7F) { p + 1 } else { p };
        if text_start > end {
            return Err(CodecError::truncated(end, "text-string after charset"));
        }
        let content_end = if end > text_start && buf[end - 1] == 0 {
            end - 1
        } else {
            end
        };
        let mut note = None;
        if end == text_start || buf[end - 1] != 0 {
            note = Some(format!(
                "text-string is not NUL-terminated within its value-length (byte {})",
                end.saturating_sub(1)
            ));
        }
        let mut bytes = &buf[text_start..content_end];
        // UTF-16/UCS-2 strings end with a 2-octet NUL: the first 0x00 belongs to the terminator.
        if matches!(charset, 1000 | 1013 | 1014 | 1015)
            && bytes.len() % 2 == 1
            && bytes.last() == Some(&0)
        {
            bytes = &bytes[..bytes.len() - 1];
        }
        let decoded = super::charset::decode(charset, bytes);
        let note = match (note, decoded.note) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        Ok((
            EncodedString {
                charset: Some(charset),
                text: decoded.text.into_owned(),
                content: text_start..text_start + bytes.len(),
                range: pos..end,
                note,
            },
            end,
        ))
    } else {
        let (t, next) = text_string(buf, pos)?;
        let note = (!t.is_ascii() && std::str::from_utf8(t.bytes).is_err()).then(|| {
            "text-string without charset is neither US-ASCII nor UTF-8 (shown lossy)".to_string()
        });
        Ok((
            EncodedString {
                charset: None,
                text: t.lossy(),
                content: t.content.clone(),
                range: t.range.clone(),
                note,
            },
            next,
        ))
    }
}

/// Version-value = Short-integer (major in bits 6–4, minor in bits 3–0, 15 = unspecified minor)
/// | Text-string.
pub fn version_value(buf: &[u8], pos: usize) -> Decoded<String> {
    let (b, _) = octet(buf, pos, "version-value")?;
    if b & 0x80 != 0 {
        let v = b & 0x7F;
        let major = v >> 4;
        let minor = v & 0x0F;
        // "major" or "major.minor", both 0–15: written digit by digit (every MMS PDU has a
        // version, and `format!` was a visible share of a summary).
        fn digits(s: &mut String, n: u8) {
            if n >= 10 {
                s.push('1');
            }
            s.push(char::from(b'0' + n % 10));
        }
        let mut s = String::with_capacity(5);
        digits(&mut s, major);
        if minor != 0x0F {
            s.push('.');
            digits(&mut s, minor);
        }
        Ok((s, pos + 1))
    } else {
        let (t, next) = text_string(buf, pos)?;
        Ok((t.lossy(), next))
    }
}

/// Q-value (WSP 8.4.2.3): a uintvar-like 1–2 octet value: 1–100 → (v-1)/100, 101–1099 →
/// (v-100)/1000. Returned rendered ("0.5").
pub fn q_value(buf: &[u8], pos: usize) -> Decoded<String> {
    let (v, next) = uintvar(buf, pos)?;
    if next - pos > 2 {
        return Err(CodecError::invalid(pos, "q-value of 1 or 2 octets"));
    }
    let s = match v {
        1..=100 => format!("{}", f64::from(v - 1) / 100.0),
        101..=1099 => format!("{}", f64::from(v - 100) / 1000.0),
        _ => {
            return Err(CodecError::invalid(
                pos,
                format!("q-value 1–1099, found {v}"),
            ));
        }
    };
    Ok((s, next))
}

/// Format seconds since the epoch as an RFC 3339 UTC date (proleptic Gregorian).
pub fn format_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Human duration: "86400 s (1d)".
pub fn format_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s}s"));
    }
    format!("{secs} s ({})", parts.join(" "))
}

/// Hex rendering of a few octets, for unknown values ("8C 80 …").
pub fn hex_preview(bytes: &[u8], max: usize) -> String {
    let mut s: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02X}")).collect();
    if bytes.len() > max {
        s.push(format!("… ({} octets)", bytes.len()));
    }
    s.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uintvar_examples() {
        // WAP-230 8.1.2: 0x87 0xA5 0x20 → 0x1D2A0? Compute: (7<<14)|(0x25<<7)|0x20.
        assert_eq!(
            uintvar(&[0x87, 0xA5, 0x20], 0),
            Ok(((7 << 14) | (0x25 << 7) | 0x20, 3))
        );
        assert_eq!(uintvar(&[0x00], 0), Ok((0, 1)));
        assert_eq!(uintvar(&[0x81, 0x00], 0), Ok((128, 2)));
        // 5 octets, the largest 32-bit value: 0x8F 0xFF 0xFF 0xFF 0x7F.
        assert_eq!(
            uintvar(&[0x8F, 0xFF, 0xFF, 0xFF, 0x7F], 0),
            Ok((u32::MAX, 5))
        );
        // 5 octets whose value needs 33+ bits.
        let e = uintvar(&[0x9F, 0xFF, 0xFF, 0xFF, 0x7F], 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overflow);
        // 6 octets: continuation on the 5th.
        let e = uintvar(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x00], 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overflow);
        // Truncated after a continuation bit: offset of the missing octet.
        let e = uintvar(&[0x81, 0x81], 0).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Truncated, 2));
    }

    #[test]
    fn integers_short_long_and_longer_than_8_octets() {
        assert_eq!(integer_value(&[0x85], 0).unwrap().0.value, Some(5));
        // Long-integer of 5 octets (> 4, past what a u32 holds): 0x01_0000_0000 + 2.
        let (i, n) = long_integer(&[0x05, 0x01, 0x00, 0x00, 0x00, 0x02], 0).unwrap();
        assert_eq!((i.value, n), (Some(0x1_0000_0002), 6));
        // 10 octets: kept as octets, not truncated.
        let mut b = vec![10u8];
        b.extend([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22]);
        let (i, _) = long_integer(&b, 0).unwrap();
        assert_eq!(i.value, None);
        assert_eq!(i.display(&b), "0x123456789ABCDEF01122");
        // Leading zeros do not count.
        let (i, _) = long_integer(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 7], 0).unwrap();
        assert_eq!(i.value, Some(7));
        // Length 0 and > 30 are invalid; past the end is truncated.
        assert_eq!(long_integer(&[0], 0).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(
            long_integer(&[4, 1, 2], 0).unwrap_err().kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn text_strings_with_quote_and_quoted_string() {
        // Quote 0x7F before a text whose first octet is ≥ 0x80 (UTF-8 'é').
        let b = [0x7F, 0xC3, 0xA9, b'a', 0x00, 0xFF];
        let (t, n) = text_string(&b, 0).unwrap();
        assert_eq!((t.lossy().as_str(), n, t.range.clone()), ("éa", 5, 0..5));
        let (t, n) = quoted_string(b"\"abc\0", 0).unwrap();
        assert_eq!((t.lossy().as_str(), n), ("abc", 5));
        assert_eq!(
            text_string(b"abc", 0).unwrap_err().kind,
            ErrorKind::Truncated
        );
        assert_eq!(
            text_string(&[0x85], 0).unwrap_err().kind,
            ErrorKind::Invalid
        );
    }

    #[test]
    fn value_length_short_and_quoted() {
        assert_eq!(value_length(&[3, 1, 2, 3], 0), Ok((3, 1)));
        let mut b = vec![31, 0x81, 0x00];
        b.extend(std::iter::repeat_n(0u8, 128));
        assert_eq!(value_length(&b, 0), Ok((128, 3)));
        assert_eq!(
            value_length(&[5, 1], 0).unwrap_err().kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn encoded_string_with_utf8_and_3_octet_charset() {
        // Value-length 7, charset UTF-8 (106 = 0xEA short-integer), "héllo"? use "hé\0".
        let b = [0x05, 0xEA, b'h', 0xC3, 0xA9, 0x00];
        let (s, n) = encoded_string_value(&b, 0).unwrap();
        assert_eq!((s.text.as_str(), s.charset, n), ("hé", Some(106), 6));
        // UTF-16 (1015 = 0x03F7) as a long-integer of 2 octets: 0x02 0x03 0xF7; BOM FE FF,
        // "Hi", End-of-string (2 NUL octets: one is the UTF-16 terminator's high octet).
        let b = [
            0x0A, 0x02, 0x03, 0xF7, 0xFE, 0xFF, 0x00, b'H', 0x00, b'i', 0x00,
        ];
        let (s, n) = encoded_string_value(&b, 0).unwrap();
        assert_eq!(
            (s.text.as_str(), s.charset, n, s.note),
            ("Hi", Some(1015), 11, None)
        );
    }

    #[test]
    fn nodes_carry_ranges() {
        let b = [0x05, 0xEA, b'h', 0xC3, 0xA9, 0x00];
        let (s, _) = encoded_string_value(&b, 0).unwrap();
        let n = s.node("Subject");
        assert_eq!((n.display.as_str(), n.range.clone()), ("hé", 0..6));
        assert_eq!(n.children[0].display, "UTF-8 (106)");
        let (i, _) = long_integer(&[0x02, 0x01, 0xF6], 0).unwrap();
        assert_eq!(i.node("Size", &[0x02, 0x01, 0xF6]).value, Value::UInt(502));
        let (t, _) = text_string(b"ab\0", 0).unwrap();
        assert_eq!(t.node("X").range, 0..3);
    }

    #[test]
    fn dates_format() {
        assert_eq!(format_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date(1767225840), "2026-01-01T00:04:00Z");
        assert_eq!(format_duration(86400), "86400 s (1d)");
    }

    #[test]
    fn version_and_q() {
        assert_eq!(version_value(&[0x92], 0), Ok(("1.2".into(), 1)));
        assert_eq!(version_value(&[0x9F], 0), Ok(("1".into(), 1)));
        // Every short form as `format!` writes it (major and minor 0–15, minor 15 = none).
        for v in 0x80..=0xFFu8 {
            let (major, minor) = ((v & 0x7F) >> 4, v & 0x0F);
            let want = if minor == 0x0F {
                format!("{major}")
            } else {
                format!("{major}.{minor}")
            };
            assert_eq!(version_value(&[v], 0), Ok((want, 1)), "0x{v:02X}");
        }
        assert_eq!(q_value(&[0x33], 0), Ok(("0.5".into(), 1)));
    }
}
