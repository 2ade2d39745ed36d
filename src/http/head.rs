//! HTTP/1.x message heads (RFC 9112 sections 2–5): start line, header fields, and detection of
//! whether a byte stream is HTTP at all.

use compact_str::CompactString;
use std::ops::Range;

/// Longest head (start line + header fields) accepted. Real MM1 heads are well under 2 KiB;
/// anything beyond this is not a head we should keep buffering.
pub const MAX_HEAD_LEN: usize = 64 * 1024;

/// Longest start line looked at by [`detect`] before deciding.
const MAX_START_LINE: usize = 8 * 1024;

/// The first line of a message. The texts of a head are [`CompactString`]s: held inline up to
/// 24 bytes (a method, a version, most reasons, header names and many values), so that parsing
/// a head does not allocate (and the thread that drops the message free) one block per text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: CompactString,
        target: CompactString,
        /// "HTTP/1.1"
        version: CompactString,
    },
    Response {
        version: CompactString,
        status: u16,
        reason: CompactString,
    },
}

/// One header field, with the byte range of its whole line (name to end of value, without
/// the line ending) and of its value, relative to the message's raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: CompactString,
    /// Value with obs-fold continuation lines joined by a single space, surrounding
    /// whitespace removed. Non-UTF-8 octets are replaced (lossy), the raw bytes stay in range.
    pub value: CompactString,
    pub range: Range<usize>,
    pub value_range: Range<usize>,
}

/// A parsed message head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub start: StartLine,
    /// Range of the start line (without line ending).
    pub start_range: Range<usize>,
    /// Ranges of the start-line tokens: method/version, target/status, version/reason.
    pub token_ranges: [Range<usize>; 3],
    pub headers: Vec<Header>,
    /// Length of the head including the empty line that ends it.
    pub len: usize,
    /// Problems met while parsing (message, range), recoverable ones only.
    pub notes: Vec<(String, Range<usize>)>,
}

/// What the first bytes of a stream look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Starts with a request line.
    Request,
    /// Starts with a status line.
    Response,
    /// Not enough bytes to decide yet.
    NeedMore,
    /// Not HTTP/1.x.
    NotHttp,
}

/// Why a head could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// The empty line that ends the head has not arrived yet.
    Incomplete,
    /// The head is longer than [`MAX_HEAD_LEN`].
    TooLong,
    /// The start line is neither a request line nor a status line.
    BadStartLine { offset: usize, reason: String },
}

fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `tchar` (RFC 9110 section 5.6.2) by byte value: every byte of every header name and request
/// method is tested, and a table costs one load where the test of the symbols was a search.
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

/// Decide from the first bytes whether `data` starts with an HTTP/1.x request or status line.
pub fn detect(data: &[u8]) -> Detection {
    let line_end = memchr::memchr(b'\n', data);
    let line = match line_end {
        Some(i) => &data[..i],
        None => &data[..data.len().min(MAX_START_LINE)],
    };
    let complete = line_end.is_some();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match classify_line(line, complete) {
        Some(d) => d,
        None if !complete && data.len() < MAX_START_LINE => Detection::NeedMore,
        None => Detection::NotHttp,
    }
}

/// True if `line` (without its line ending) is a complete HTTP/1.x request or status line.
pub fn is_start_line(line: &[u8]) -> bool {
    matches!(
        classify_line(line, true),
        Some(Detection::Request | Detection::Response)
    )
}

/// Classify one line. With `complete == false` the line may still grow: a consistent prefix
/// gives `None` (need more) instead of `NotHttp`.
fn classify_line(line: &[u8], complete: bool) -> Option<Detection> {
    // "HTTP/" prefix: a status line.
    let proto = b"HTTP/";
    let n = line.len().min(proto.len());
    if line[..n] == proto[..n] && !line.is_empty() {
        if line.len() < 5 {
            return if complete {
                Some(Detection::NotHttp)
            } else {
                None
            };
        }
        return match status_line_ok(line) {
            Ok(()) => Some(Detection::Response),
            Err(true) if !complete => None,
            Err(_) => Some(Detection::NotHttp),
        };
    }
    match request_line_ok(line) {
        Ok(()) => Some(Detection::Request),
        Err(true) if !complete => None,
        Err(_) => Some(Detection::NotHttp),
    }
}

/// Err(true): a consistent prefix, could become valid; Err(false): can never be valid.
fn status_line_ok(line: &[u8]) -> Result<(), bool> {
    // HTTP/d.d SP ddd [SP reason]
    let v = &line[5..];
    let want = [b'd', b'.', b'd', b' ', b'd', b'd', b'd'];
    for (i, w) in want.iter().enumerate() {
        let Some(&c) = v.get(i) else {
            return Err(true);
        };
        let ok = match w {
            b'd' => c.is_ascii_digit(),
            x => c == *x,
        };
        if !ok {
            return Err(false);
        }
    }
    match v.get(7) {
        None | Some(b' ') => Ok(()),
        Some(_) => Err(false),
    }
}

fn request_line_ok(line: &[u8]) -> Result<(), bool> {
    // method SP request-target SP HTTP/d.d
    let m = line.iter().take_while(|&&b| is_tchar(b)).count();
    if m == line.len() {
        return if m <= 20 { Err(true) } else { Err(false) };
    }
    if m == 0 || m > 20 || line[m] != b' ' {
        return Err(false);
    }
    let rest = &line[m + 1..];
    // The target ends at the space before the version. Control octets inside it are invalid
    // (RFC 9112 3.2) but are read anyway: refusing them would let one byte hide a whole
    // connection's MMS traffic (the target is shown escaped).
    let t = rest
        .iter()
        .take_while(|&&b| b != b' ' && b != b'\r' && b != b'\n')
        .count();
    if t == rest.len() {
        return if t == 0 || t < MAX_START_LINE {
            Err(true)
        } else {
            Err(false)
        };
    }
    if t == 0 || rest[t] != b' ' {
        return Err(false);
    }
    let ver = &rest[t + 1..];
    let want = b"HTTP/d.d";
    for (i, w) in want.iter().enumerate() {
        let Some(&c) = ver.get(i) else {
            return Err(true);
        };
        let ok = if *w == b'd' {
            c.is_ascii_digit()
        } else {
            c == *w
        };
        if !ok {
            return Err(false);
        }
    }
    if ver.len() == want.len() {
        Ok(())
    } else {
        Err(false)
    }
}

/// Find the end of the head: the index just past the empty line (CRLF CRLF, or bare LF LF
/// which RFC 9112 section 2.2 lets a recipient accept).
pub fn find_head_end(data: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\n', &data[i..]) {
        let nl = i + p;
        let next = nl + 1;
        match data.get(next) {
            Some(b'\n') => return Some(next + 1),
            Some(b'\r') if data.get(next + 1) == Some(&b'\n') => return Some(next + 2),
            None => return None,
            Some(b'\r') if next + 1 >= data.len() => return None,
            _ => i = next,
        }
    }
    None
}

/// Parse the head at the start of `data`.
pub fn parse_head(data: &[u8]) -> Result<Head, HeadError> {
    let len = match find_head_end(data) {
        Some(n) if n > MAX_HEAD_LEN => return Err(HeadError::TooLong),
        Some(n) => n,
        None if data.len() > MAX_HEAD_LEN => return Err(HeadError::TooLong),
        None => return Err(HeadError::Incomplete),
    };
    let head = &data[..len];
    // The lines (without line endings) are read once, as they come: a head is parsed per
    // message, so it is worth not collecting them first.
    let mut pos = 0;
    let mut lines = std::iter::from_fn(|| {
        let nl = pos + memchr::memchr(b'\n', &head[pos..])?;
        let end = if nl > pos && head[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let line = pos..end;
        pos = nl + 1;
        Some(line)
    });
    let mut notes = Vec::new();
    let first = lines.next().unwrap_or(0..0);
    let line = &head[first.clone()];
    let (start, token_ranges) = parse_start_line(line, first.start)?;
    if head.get(first.end) == Some(&b'\n') {
        notes.push((
            "line ending is a bare LF instead of CRLF".to_string(),
            first.end..first.end + 1,
        ));
    }
    // One header per remaining line but the empty last one: grown once, not doubled.
    let line_count = memchr::memchr_iter(b'\n', head).count();
    let mut headers: Vec<Header> = Vec::with_capacity(line_count.saturating_sub(2));
    for r in lines {
        let l = &head[r.clone()];
        if l.is_empty() {
            break;
        }
        if l[0] == b' ' || l[0] == b'\t' {
            // obs-fold: continuation of the previous field value.
            if let Some(h) = headers.last_mut() {
                let more = String::from_utf8_lossy(l);
                let more = more.trim();
                if !more.is_empty() {
                    h.value.push(' ');
                    h.value.push_str(more);
                }
                h.range.end = r.end;
                h.value_range.end = r.end;
                notes.push((
                    format!("obsolete line folding in header {}", h.name),
                    r.clone(),
                ));
            } else {
                notes.push((
                    "whitespace-prefixed line before any header".to_string(),
                    r.clone(),
                ));
            }
            continue;
        }
        let Some(colon) = memchr::memchr(b':', l) else {
            notes.push(("header line without ':' ignored".to_string(), r.clone()));
            continue;
        };
        let name = &l[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            notes.push((
                format!(
                    "invalid header name {:?}",
                    String::from_utf8_lossy(name).trim()
                ),
                r.start..r.start + colon,
            ));
        }
        let mut vs = colon + 1;
        let mut ve = l.len();
        while vs < ve && (l[vs] == b' ' || l[vs] == b'\t') {
            vs += 1;
        }
        while ve > vs && (l[ve - 1] == b' ' || l[ve - 1] == b'\t') {
            ve -= 1;
        }
        headers.push(Header {
            name: lossy_trimmed(name),
            value: lossy(&l[vs..ve]),
            range: r.clone(),
            value_range: r.start + vs..r.start + ve,
        });
    }
    Ok(Head {
        start,
        start_range: first,
        token_ranges,
        headers,
        len,
        notes,
    })
}

/// The Content-Type of every MMS message carried over HTTP: longer than the 24 bytes a
/// [`CompactString`] holds inline, so [`lossy`] refers to this one instead of allocating a copy
/// per message (which the upper thread then frees).
const MMS_MEDIA_TYPE: &str = "application/vnd.wap.mms-message";

/// `bytes` as text, invalid UTF-8 replaced. (`CompactString::from_utf8_lossy` decodes char by
/// char; the standard library's check of valid text is several times faster.) Valid text, the
/// rule, is checked once and copied straight in; `String::from_utf8_lossy` walks it chunk by
/// chunk and builds a `Cow` first.
fn lossy(bytes: &[u8]) -> CompactString {
    match std::str::from_utf8(bytes) {
        Ok(MMS_MEDIA_TYPE) => CompactString::const_new(MMS_MEDIA_TYPE),
        Ok(text) => CompactString::from(text),
        Err(_) => CompactString::from(String::from_utf8_lossy(bytes)),
    }
}

/// [`lossy`] with leading and trailing whitespace removed (a header name, which is valid ASCII
/// without spaces in every well-formed head).
fn lossy_trimmed(bytes: &[u8]) -> CompactString {
    match std::str::from_utf8(bytes) {
        Ok(text) => CompactString::from(text.trim()),
        Err(_) => CompactString::from(String::from_utf8_lossy(bytes).trim()),
    }
}

fn parse_start_line(line: &[u8], base: usize) -> Result<(StartLine, [Range<usize>; 3]), HeadError> {
    let bad = |reason: &str| HeadError::BadStartLine {
        offset: base,
        reason: reason.to_string(),
    };
    let text = |r: &Range<usize>| lossy(&line[r.clone()]);
    if line.starts_with(b"HTTP/") {
        status_line_ok(line).map_err(|_| bad("malformed status line"))?;
        let v = 0..8;
        let s = 9..12;
        let r = if line.len() > 13 {
            13..line.len()
        } else {
            line.len()..line.len()
        };
        let status = text(&s)
            .parse::<u16>()
            .map_err(|_| bad("bad status code"))?;
        let ranges = [
            base + v.start..base + v.end,
            base + s.start..base + s.end,
            base + r.start..base + r.end,
        ];
        return Ok((
            StartLine::Response {
                version: text(&v),
                status,
                reason: text(&r),
            },
            ranges,
        ));
    }
    request_line_ok(line).map_err(|_| bad("neither a request line nor a status line"))?;
    let sp1 = line.iter().position(|&b| b == b' ').unwrap_or(0);
    let sp2 = sp1 + 1 + line[sp1 + 1..].iter().position(|&b| b == b' ').unwrap_or(0);
    let m = 0..sp1;
    let t = sp1 + 1..sp2;
    let v = sp2 + 1..line.len();
    let ranges = [
        base + m.start..base + m.end,
        base + t.start..base + t.end,
        base + v.start..base + v.end,
    ];
    Ok((
        StartLine::Request {
            method: text(&m),
            target: text(&t),
            version: text(&v),
        },
        ranges,
    ))
}

/// First header with this name (case-insensitive).
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a Header> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_request_response_and_garbage() {
        assert_eq!(detect(b"GET /x HTTP/1.1\r\n"), Detection::Request);
        assert_eq!(detect(b"POST /mmsc HTTP/1.0\r\nHost"), Detection::Request);
        assert_eq!(detect(b"HTTP/1.1 204 No Content\r\n"), Detection::Response);
        assert_eq!(detect(b"HTTP/1.1 200\r\n"), Detection::Response);
        assert_eq!(detect(b"GET /x HT"), Detection::NeedMore);
        assert_eq!(detect(b"HTT"), Detection::NeedMore);
        assert_eq!(detect(b"\x16\x03\x01\x02\x00"), Detection::NotHttp);
        assert_eq!(detect(b"SSH-2.0-OpenSSH_9.2\r\n"), Detection::NotHttp);
        assert_eq!(detect(b"GET /x FTP/1.1\r\n"), Detection::NotHttp);
        assert_eq!(detect(b"HTTP/2 200\r\n"), Detection::NotHttp);
    }

    #[test]
    fn control_octets_in_the_target_do_not_hide_the_request() {
        // Found by tests/robust_terminal.rs: an ESC in the URI made the whole connection
        // "not HTTP", so its MMS PDUs vanished without a word.
        assert_eq!(
            detect(b"POST /mms\x1b[2J?x=\x07 HTTP/1.1\r\n"),
            Detection::Request
        );
        let h = parse_head(b"GET /a\x1bb\x7f HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        match &h.start {
            StartLine::Request { target, .. } => assert_eq!(target, "/a\x1bb\x7f"),
            other => panic!("{other:?}"),
        }
        assert_eq!(detect(b"GET /a\x1bb HTTP/1.1 x\r\n"), Detection::NotHttp);
    }

    #[test]
    fn parses_head_with_ranges_and_folding() {
        let raw = b"POST /mmsc HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\nContent-Length:  5 \r\n\r\nhello";
        let h = parse_head(raw).unwrap();
        assert_eq!(h.len, raw.len() - 5);
        match &h.start {
            StartLine::Request {
                method,
                target,
                version,
            } => {
                assert_eq!((method.as_str(), target.as_str()), ("POST", "/mmsc"));
                assert_eq!(version, "HTTP/1.1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(&raw[h.token_ranges[1].clone()], b"/mmsc");
        let cl = header(&h.headers, "content-length").unwrap();
        assert_eq!(cl.value, "5");
        assert_eq!(&raw[cl.value_range.clone()], b"5");
        assert_eq!(header(&h.headers, "X-LONG").unwrap().value, "one two");
        assert_eq!(h.notes.len(), 1);
    }

    #[test]
    fn head_texts_are_inline_when_short_and_lossy_when_not_utf8() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\
                    Content-Length: 41\r\nX-Odd: caf\xe9 \xff\r\n\r\n";
        let h = parse_head(raw).unwrap();
        let StartLine::Response {
            version, reason, ..
        } = &h.start
        else {
            panic!("{:?}", h.start)
        };
        assert_eq!((version.as_str(), reason.as_str()), ("HTTP/1.1", "OK"));
        assert!(!version.is_heap_allocated() && !reason.is_heap_allocated());
        let ct = header(&h.headers, "content-type").unwrap();
        assert_eq!(ct.value, "application/vnd.wap.mms-message");
        let cl = header(&h.headers, "content-length").unwrap();
        assert_eq!(cl.value, "41");
        assert!(!cl.name.is_heap_allocated() && !cl.value.is_heap_allocated());
        // Invalid octets become U+FFFD, as `String::from_utf8_lossy` has it.
        let odd = header(&h.headers, "x-odd").unwrap();
        assert_eq!(odd.value, "caf\u{FFFD} \u{FFFD}");
        assert_eq!(&raw[odd.value_range.clone()], b"caf\xe9 \xff");
    }

    #[test]
    fn tchar_table_is_the_rfc_9110_set() {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`"
        //       / "|" / "~" / DIGIT / ALPHA
        let symbols = b"!#$%&'*+-.^_`|~";
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || symbols.contains(&b);
            assert_eq!(is_tchar(b), want, "byte {b:#04x}");
        }
    }

    #[test]
    fn header_names_are_trimmed_and_lossy_like_values() {
        // An invalid name (a space before the colon, a byte that is not UTF-8) is kept, trimmed,
        // with U+FFFD for the bad byte, and noted.
        let raw = b"HTTP/1.1 200 OK\r\nX-Sp ace : 1\r\nX-\xff: 2\r\n\r\n";
        let h = parse_head(raw).unwrap();
        let names: Vec<&str> = h.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["X-Sp ace", "X-\u{FFFD}"]);
        assert_eq!(h.notes.len(), 2, "{:?}", h.notes);
    }

    #[test]
    fn head_incomplete_until_empty_line() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n"),
            Err(HeadError::Incomplete)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n\r"),
            Err(HeadError::Incomplete)
        );
        let h = parse_head(b"HTTP/1.1 200 OK\nA: b\n\n").unwrap();
        assert_eq!(h.len, 22);
    }
}
