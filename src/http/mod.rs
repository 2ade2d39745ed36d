//! HTTP/1.x (RFC 9112) over a reassembled TCP connection: a per-connection parser fed with
//! the in-order bytes of each direction, told about gaps (lost bytes) and closes. It yields
//! complete messages with their raw bytes, decoded bodies (de-chunked, decompressed) and the
//! request each response answers (FIFO per connection, so pipelining pairs correctly).
//!
//! Also here: textual MIME multipart ([`mime`]) and PAP push submissions ([`pap`]), the
//! HTTP-carried way MMS notifications reach a Push Proxy Gateway.
//!
//! No I/O: the pipeline feeds bytes, this module returns [`HttpEvent`]s.

pub mod body;
pub mod head;
pub mod mime;
pub mod pap;

use crate::net::origin::Origin;
use crate::tree::{
    Buffer, BufferId, Dissection, FrameSpan, Node, Severity, Value, escape_text, push_escaped,
};
use body::{Chunk, ChunkedDecoder, ChunkedStatus, ContentCoding};
use compact_str::CompactString;
use head::{Detection, Head, HeadError, StartLine};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::ops::Range;

/// Which way bytes flow on the connection: the TCP layer's direction, client (the side that
/// opened the connection and sends requests) to server, or back.
pub use crate::net::Direction;

/// Limits of the parser.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Largest raw message (head + body on the wire) kept in memory.
    pub max_message: usize,
    /// Largest decoded (de-chunked, decompressed) body: decompression stops there.
    pub max_decoded: usize,
    /// Most requests waiting for their response on one connection.
    pub max_pending: usize,
    /// Leave the codings of each message's body (gzip, deflate) for the message's user to undo
    /// with [`HttpMessage::undo_codings`]: the pipeline parses HTTP on one thread and undoes
    /// codings on another, where the MMS PDU is decoded.
    pub defer_codings: bool,
    /// Drop the body of a message that cannot carry an MMS PDU as its bytes arrive, instead of
    /// buffering it: the message is still reported (head, framing, exchange), with only the
    /// body bytes that came with its first segments. Decided once the body's first byte is
    /// here, for bodies framed by Content-Length, by [`may_carry_mms`]. The pipeline, which
    /// only looks for MMS PDUs, sets it: most bytes of ordinary web traffic (images, pages)
    /// are then neither copied nor held.
    pub discard_non_mms_bodies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message: 64 * 1024 * 1024,
            max_decoded: 64 * 1024 * 1024,
            max_pending: 1024,
            defer_codings: false,
            discard_non_mms_bodies: false,
        }
    }
}

/// The codings applied to a body other than chunked (transfer codings, then content codings),
/// lower case, in the order applied: they are undone last-applied first.
fn codings(head: &Head) -> Vec<String> {
    let mut codings = Vec::new();
    for name in ["transfer-encoding", "content-encoding"] {
        for h in head
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
        {
            for t in h.value.split(',') {
                let t = t.trim().to_ascii_lowercase();
                if !t.is_empty() && t != "chunked" && t != "identity" {
                    codings.push(t);
                }
            }
        }
    }
    codings
}

/// Whether a message with this head whose body starts with `first` may carry an MMS PDU, as
/// the pipeline finds one ([`HttpMessage::is_mms`], or a PAP submission's content part): false
/// only when none of them can hold, whatever the rest of the body. That is: no coding hides
/// the body's real first byte, the media type is not application/vnd.wap.mms-message, a
/// request is not multipart (a PAP submission), and the first byte is not 0x8C
/// (X-Mms-Message-Type, which [`crate::mms::looks_like_mms`] requires first).
pub fn may_carry_mms(head: &Head, first: u8) -> bool {
    if first == 0x8C || !codings(head).is_empty() || declares_mms(head) {
        return true;
    }
    matches!(head.start, StartLine::Request { .. })
        && head::header(&head.headers, "content-type")
            .and_then(|h| mime::parse_media_type(&h.value))
            .is_some_and(|ct| ct.is_multipart())
}

/// The head declares its body an MMS PDU: Content-Type application/vnd.wap.mms-message
/// (compared in place, without parsing the parameters: every HTTP message is asked).
fn declares_mms(head: &Head) -> bool {
    head::header(&head.headers, "content-type")
        .is_some_and(|h| mime::essence_is(&h.value, "application/vnd.wap.mms-message"))
}

/// How the body of a message is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: a request without Content-Length/Transfer-Encoding, a response to HEAD, 1xx,
    /// 204, 304.
    None,
    ContentLength(u64),
    Chunked,
    /// A response that ends when the server closes the connection.
    CloseDelimited,
}

/// A problem found in a message, at a place in its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpNote {
    pub severity: Severity,
    /// Says what and where (with the stream offset).
    pub message: String,
    /// Range in the message's raw bytes.
    pub range: Range<usize>,
}

/// The request a response answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRef {
    pub method: compact_str::CompactString,
    pub target: compact_str::CompactString,
    pub exchange: u64,
    /// The frame that completed the request.
    pub frame: Option<u64>,
}

/// One complete (or, after a gap or close, abandoned) HTTP message.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpMessage {
    pub direction: Direction,
    pub head: Head,
    /// The message as on the wire: head and body (chunked framing included).
    pub raw: Vec<u8>,
    /// Offset of `raw[0]` in its direction's byte stream.
    pub stream_offset: u64,
    /// Frames that carried `raw`, offsets relative to `raw`. One is held inline: many messages
    /// (requests, short responses) come in one segment, and a list of their own cost each an
    /// allocation (and the thread that drops the message a free).
    pub origin: Origin,
    /// The body on the wire, range in `raw`.
    pub body_range: Range<usize>,
    pub framing: Framing,
    pub chunks: Vec<Chunk>,
    /// Trailer fields of a chunked body: (name, value, range in `raw`).
    pub trailers: Vec<(String, String, Range<usize>)>,
    /// The body with transfer and content codings undone: see [`HttpMessage::body`].
    body: BodyBytes,
    /// Codings that were undone, in the order applied on the wire ("gzip", "deflate").
    pub codings: Vec<String>,
    /// The decoded body stopped at [`Config::max_decoded`].
    pub body_truncated: bool,
    pub notes: Vec<HttpNote>,
    /// Number of the request/response exchange on this connection (0-based): a request and
    /// the response that answers it share it.
    pub exchange: u64,
    /// For a response: the request it answers.
    pub answers: Option<RequestRef>,
    /// False when the message was cut by a gap or a close before its end.
    pub complete: bool,
    /// The codings are still to be undone, with this limit (see [`Config::defer_codings`]).
    codings_pending: Option<usize>,
}

/// Where the decoded body of a message is. Most MMS bodies need nothing undone (or are one
/// chunk): they are read in place out of `raw` instead of being copied a second time.
#[derive(Debug, Clone, PartialEq)]
enum BodyBytes {
    /// A range of the raw message.
    InRaw(Range<usize>),
    /// Bytes that differ from the raw message: de-chunked, decompressed.
    Decoded(Vec<u8>),
}

impl BodyBytes {
    fn slice<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        match self {
            BodyBytes::InRaw(r) => &raw[r.clone()],
            BodyBytes::Decoded(v) => v,
        }
    }
}

impl HttpMessage {
    /// Undo the body's transfer and content codings (gzip, deflate), last-applied first, with
    /// a note for each problem. The parser does this itself unless [`Config::defer_codings`]
    /// is set; until then [`HttpMessage::body`] is the body as framed, still encoded. Calling it
    /// again does nothing.
    pub fn undo_codings(&mut self) {
        let Some(max_decoded) = self.codings_pending.take() else {
            return;
        };
        for c in self.codings.iter().rev() {
            match ContentCoding::parse(c) {
                Some(coding) => {
                    let encoded = self.body.slice(&self.raw);
                    let d = body::decode_content(coding, encoded, max_decoded);
                    if d.truncated_at_limit {
                        self.body_truncated = true;
                        self.notes.push(HttpNote {
                            severity: Severity::Warning,
                            message: format!(
                                "{c} body decompresses to more than {} bytes: decoding stopped at the limit (possible decompression bomb)",
                                max_decoded
                            ),
                            range: self.body_range.clone(),
                        });
                    }
                    if let Some(e) = &d.error {
                        self.notes.push(HttpNote {
                            severity: Severity::Error,
                            message: format!(
                                "{c} data is broken ({e}); {} bytes decoded before the error",
                                d.data.len()
                            ),
                            range: self.body_range.clone(),
                        });
                    }
                    if d.raw_deflate {
                        self.notes.push(HttpNote {
                            severity: Severity::Note,
                            message: "deflate body without zlib wrapper (raw DEFLATE)".into(),
                            range: self.body_range.clone(),
                        });
                    }
                    self.body = BodyBytes::Decoded(d.data);
                    if d.truncated_at_limit || d.error.is_some() {
                        break;
                    }
                }
                None => {
                    self.notes.push(HttpNote {
                        severity: Severity::Warning,
                        message: format!("coding {c:?} is not supported; body left encoded"),
                        range: self.body_range.clone(),
                    });
                    break;
                }
            }
        }
    }

    /// The body with transfer and content codings undone (de-chunked, decompressed).
    pub fn body(&self) -> &[u8] {
        self.body.slice(&self.raw)
    }

    pub fn is_request(&self) -> bool {
        matches!(self.head.start, StartLine::Request { .. })
    }

    pub fn method(&self) -> Option<&str> {
        match &self.head.start {
            StartLine::Request { method, .. } => Some(method),
            _ => None,
        }
    }

    /// Request target (for a response: the target of the request it answers).
    pub fn uri(&self) -> Option<&str> {
        match &self.head.start {
            StartLine::Request { target, .. } => Some(target),
            _ => self.answers.as_ref().map(|r| r.target.as_str()),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.head.start {
            StartLine::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        head::header(&self.head.headers, name).map(|h| h.value.as_str())
    }

    /// Content-Type, parsed.
    pub fn content_type(&self) -> Option<mime::MediaType> {
        self.header("content-type").and_then(mime::parse_media_type)
    }

    /// The media type of the body (lower case, no parameters), e.g.
    /// "application/vnd.wap.mms-message".
    pub fn media_type(&self) -> Option<String> {
        self.content_type().map(|m| m.essence)
    }

    /// The body is an MMS PDU: declared as such, or it looks like one whatever the declared
    /// type (X-Mms-Message-Type 0x8C first, see [`crate::mms::looks_like_mms`]). See also
    /// [`may_carry_mms`], which must agree with it.
    pub fn is_mms(&self) -> bool {
        !self.body().is_empty()
            && (declares_mms(&self.head) || crate::mms::looks_like_mms(self.body()))
    }

    /// Where the head lies in its direction's byte stream.
    pub fn head_stream_range(&self) -> Range<u64> {
        self.stream_offset..self.stream_offset + self.body_range.start as u64
    }

    /// Where the body (as on the wire, chunk framing included) lies in the stream.
    pub fn body_stream_range(&self) -> Range<u64> {
        self.stream_offset + self.body_range.start as u64
            ..self.stream_offset + self.body_range.end as u64
    }

    /// The notes, as one line each, for `PduRecord::transport_notes`.
    pub fn transport_notes(&self) -> Vec<String> {
        self.notes.iter().map(|n| n.message.clone()).collect()
    }

    /// The carrier record of this message; `flow` identifies the TCP connection, so that
    /// (flow, exchange) pairs a request with its response.
    pub fn carrier(&self, flow: u64) -> crate::model::Carrier {
        let mut summary = self.summary();
        if let Some(a) = &self.answers {
            summary.push_str(" (answers ");
            push_escaped(&mut summary, &a.method);
            summary.push(' ');
            push_escaped(&mut summary, &a.target);
            summary.push(')');
        }
        crate::model::Carrier {
            method: self
                .method()
                .map(CompactString::from)
                .or_else(|| self.answers.as_ref().map(|a| a.method.clone())),
            uri: self.uri().map(CompactString::from),
            status: self.status(),
            summary: summary.into(),
            exchange: Some((flow, self.exchange)),
            is_response: !self.is_request(),
        }
    }

    /// The frame that completed the message.
    pub fn last_frame(&self) -> Option<u64> {
        self.origin.last().map(|s| s.frame)
    }

    /// Every frame that carried bytes of the message, in order, without repeats.
    pub fn frames(&self) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        for s in &self.origin {
            if v.last() != Some(&s.frame) {
                v.push(s.frame);
            }
        }
        v
    }

    /// Request line or status line as a human reads it.
    /// (Escaped token by token, straight into one string: escaping is per character, so this
    /// is the escape of the whole line; every record of an HTTP message builds it.)
    pub fn summary(&self) -> String {
        let mut out = String::with_capacity(64);
        match &self.head.start {
            StartLine::Request {
                method,
                target,
                version,
            } => {
                push_escaped(&mut out, method);
                out.push(' ');
                push_escaped(&mut out, target);
                out.push(' ');
                push_escaped(&mut out, version);
            }
            StartLine::Response {
                version,
                status,
                reason,
            } => {
                push_escaped(&mut out, version);
                out.push(' ');
                let _ = write!(out, "{status}");
                out.push(' ');
                push_escaped(&mut out, reason);
            }
        }
        out
    }

    /// A dissection with two buffers: 0 = the raw message (with its frame origins), 1 = the
    /// decoded body; the HTTP layer is on buffer 0. Returns the body's buffer id, where the
    /// pipeline attaches the MMS layer (or the PAP submission tree).
    pub fn dissection(&self) -> (Dissection, BufferId) {
        let mut d = Dissection::default();
        let mut raw = Buffer::new(
            format!("HTTP message ({} frames)", self.frames().len()),
            &self.raw[..],
        );
        raw.origin = self.origin.to_vec();
        let raw_id = d.add_buffer(raw);
        let mut body_name = String::from("HTTP body");
        if self.framing == Framing::Chunked {
            body_name.push_str(", de-chunked");
        }
        for c in &self.codings {
            body_name.push_str(&format!(", {c}-decoded"));
        }
        let mut body = Buffer::new(body_name, self.body());
        if self.framing != Framing::Chunked && self.codings.is_empty() {
            // The body is a plain slice of the raw message: keep where its bytes came from.
            let r = &self.body_range;
            body.origin = crate::net::origin::slice_origin(&self.origin, r.start, r.len());
        }
        let body_id = d.add_buffer(body);
        d.add_layer(self.tree(), raw_id);
        (d, body_id)
    }

    /// The dissector tree of the message; ranges refer to `raw` (buffer 0).
    pub fn tree(&self) -> Node {
        let mut display = self.summary();
        if let Some(a) = &self.answers {
            display.push_str(&format!(
                " (answers {} {})",
                escape_text(&a.method),
                escape_text(&a.target)
            ));
        }
        let mut root = Node::new("HTTP", display, Value::None, 0..self.raw.len());
        let h = &self.head;
        let [r0, r1, r2] = h.token_ranges.clone();
        let start =
            match &h.start {
                StartLine::Request {
                    method,
                    target,
                    version,
                } => Node::group("Request line", self.summary(), h.start_range.clone())
                    .with_children(vec![
                        Node::new(
                            "Method",
                            escape_text(method),
                            Value::Text(method.to_string()),
                            r0,
                        ),
                        Node::new(
                            "Request-URI",
                            escape_text(target),
                            Value::Text(target.to_string()),
                            r1,
                        ),
                        Node::new(
                            "Version",
                            escape_text(version),
                            Value::Text(version.to_string()),
                            r2,
                        ),
                    ]),
                StartLine::Response {
                    version,
                    status,
                    reason,
                } => Node::group("Status line", self.summary(), h.start_range.clone())
                    .with_children(vec![
                        Node::new(
                            "Version",
                            escape_text(version),
                            Value::Text(version.to_string()),
                            r0,
                        ),
                        Node::new(
                            "Status code",
                            format!("{status} {}", escape_text(reason)),
                            Value::Enum {
                                code: u64::from(*status),
                                name: reason.to_string(),
                            },
                            r1,
                        ),
                        Node::new(
                            "Reason",
                            escape_text(reason),
                            Value::Text(reason.to_string()),
                            r2,
                        ),
                    ]),
            };
        root.push(start);
        let hdr_range = h.start_range.end..h.len.min(self.raw.len());
        let mut headers = Node::group(
            "Headers",
            format!("{} header fields", h.headers.len()),
            hdr_range,
        );
        for f in &h.headers {
            headers.push(Node::new(
                f.name.clone(),
                escape_text(&f.value),
                Value::Text(f.value.to_string()),
                f.range.clone(),
            ));
        }
        root.push(headers);
        if let Some(a) = &self.answers {
            root.push(Node::new(
                "Answers",
                format!(
                    "{} {} (exchange {})",
                    escape_text(&a.method),
                    escape_text(&a.target),
                    a.exchange
                ),
                Value::Text(format!("{} {}", a.method, a.target)),
                h.start_range.clone(),
            ));
        }
        let framing = match self.framing {
            Framing::None => "no body".to_string(),
            Framing::ContentLength(n) => format!("Content-Length: {n} bytes"),
            Framing::Chunked => format!(
                "chunked: {} chunks, {} bytes",
                self.chunks.iter().filter(|c| c.size > 0).count(),
                self.chunks.iter().map(|c| c.size).sum::<u64>()
            ),
            Framing::CloseDelimited => "delimited by connection close".to_string(),
        };
        let mut body = Node::group("Body", framing, self.body_range.clone());
        for c in &self.chunks {
            let ext = c
                .extensions
                .as_deref()
                .map(|e| format!("; extensions {}", escape_text(e)))
                .unwrap_or_default();
            let mut n = Node::new(
                if c.size == 0 { "Last chunk" } else { "Chunk" },
                format!("{} bytes{ext}", c.size),
                Value::UInt(c.size),
                c.size_line.start..c.data.end,
            );
            n.push(Node::new(
                "Chunk size",
                format!("{:x}{ext}", c.size),
                Value::UInt(c.size),
                c.size_line.clone(),
            ));
            body.push(n);
        }
        for (name, value, range) in &self.trailers {
            body.push(Node::new(
                format!("Trailer {name}"),
                escape_text(value),
                Value::Text(value.clone()),
                range.clone(),
            ));
        }
        if !self.codings.is_empty() {
            body.push(Node::new(
                "Content coding",
                format!(
                    "{}: {} → {} bytes{}",
                    self.codings.join(", "),
                    self.body_range.len(),
                    self.body().len(),
                    if self.body_truncated {
                        " (stopped at the size limit)"
                    } else {
                        ""
                    }
                ),
                Value::Text(self.codings.join(", ")),
                self.body_range.clone(),
            ));
        }
        let media = self.media_type().unwrap_or_else(|| "unknown type".into());
        body.push(Node::new(
            "Decoded body",
            format!("{} bytes, {}", self.body().len(), escape_text(&media)),
            Value::UInt(self.body().len() as u64),
            self.body_range.clone(),
        ));
        root.push(body);
        for n in &self.notes {
            root.push(Node::expert(
                n.severity,
                "http",
                n.message.clone(),
                n.range.clone(),
            ));
        }
        root
    }
}

/// What the parser reports.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpEvent {
    Message(Box<HttpMessage>),
    /// Bytes were lost in `direction` at `stream_offset`; the message being read, if any, is
    /// handed back incomplete. The parser resynchronises on the next message start.
    Gap {
        direction: Direction,
        stream_offset: u64,
        len: u64,
        abandoned: Option<Box<HttpMessage>>,
    },
    /// This direction does not carry HTTP/1.x: the parser ignores it from now on.
    NotHttp {
        direction: Direction,
        stream_offset: u64,
    },
    /// After a gap or broken framing, these stream bytes were skipped to find a message start.
    Resynced {
        direction: Direction,
        skipped: Range<u64>,
    },
    /// A problem that belongs to no message (e.g. close in the middle of a head).
    Note {
        direction: Direction,
        stream_offset: u64,
        severity: Severity,
        message: String,
    },
}

// Two of these per connection: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Phase {
    /// Nothing seen yet: the first bytes decide whether the direction is HTTP.
    Start,
    /// Between messages, or reading a head.
    Head,
    /// Reading the body of `msg`, made when its head was read: head, framing, exchange,
    /// the request it answers and the notes so far are in it; [`HttpConnection::build`] adds
    /// the bytes. (Made once, in its box, it is not moved again, nor its head boxed on its
    /// own.)
    Body {
        msg: Box<HttpMessage>,
        chunked: Option<ChunkedDecoder>,
    },
    /// Discarding the rest of an abandoned message whose length is known.
    Skip(u64),
    /// Looking for a start line.
    Resync,
    NotHttp,
}

#[derive(Debug, Clone)]
struct DirState {
    buf: Vec<u8>,
    origin: Origin,
    /// Stream offset of `buf[0]`.
    buf_offset: u64,
    phase: Phase,
    /// Where a resync started skipping.
    resync_from: Option<u64>,
    /// The start of the stream was not seen: how many bytes to search for a message start
    /// before deciding the direction is not HTTP.
    hunt_budget: Option<u64>,
    /// [`HttpConnection::process`] has nothing to do before `buf` holds this many bytes (0:
    /// run it on every feed). Set while a body is in progress (to its end, the end of the
    /// chunk arriving, or the size limit), so that each further segment of the body costs one
    /// append and this check, not a pass through the parser's state machine.
    wake_at: usize,
    /// How the current body is taken in was decided (room reserved, or `drop_left` set); false
    /// while a body is waiting for its first byte to decide on (see
    /// [`Config::discard_non_mms_bodies`]).
    body_planned: bool,
    /// Bytes of the current body still to come that are dropped, not buffered.
    drop_left: u64,
    /// Bytes of the current body dropped so far: the stream offset of `buf`'s end is
    /// `buf_offset + dropped + buf.len()` while a body is being dropped.
    dropped: u64,
}

/// Bytes searched for a message start in a stream whose beginning was not captured.
pub const HUNT_LIMIT: u64 = 256 * 1024;

/// Most bytes reserved ahead for a message from its Content-Length (beyond it the buffer grows as
/// bytes arrive): a lying header costs at most this much address space per direction.
const RESERVE_LIMIT: usize = 1024 * 1024;

/// Bytes reserved ahead for a chunked body (its size is not known before its last chunk).
const CHUNKED_RESERVE: usize = 64 * 1024;

impl DirState {
    fn new() -> Self {
        DirState {
            buf: Vec::new(),
            origin: Origin::new(),
            buf_offset: 0,
            phase: Phase::Start,
            resync_from: None,
            hunt_budget: None,
            wake_at: 0,
            body_planned: false,
            drop_left: 0,
            dropped: 0,
        }
    }

    /// The bytes at the head of the buffer are no message start: report `message` as an error,
    /// skip at least this line so the search moves on, and hunt for the next start line.
    fn resync_after_line(
        &mut self,
        direction: Direction,
        message: String,
        events: &mut Vec<HttpEvent>,
    ) {
        events.push(HttpEvent::Note {
            direction,
            stream_offset: self.buf_offset,
            severity: Severity::Error,
            message,
        });
        self.resync_from = Some(self.buf_offset);
        let skip = self
            .buf
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(self.buf.len());
        self.take(skip);
        self.phase = Phase::Resync;
    }

    /// Remove the first `n` bytes, returning them with their frame origins.
    fn take(&mut self, n: usize) -> (Vec<u8>, Origin, u64) {
        let n = n.min(self.buf.len());
        let offset = self.buf_offset;
        if n == self.buf.len() {
            // The common case, a message that ends where the bytes received so far end: hand
            // over the buffer and its origins as they are, nothing copied or rebuilt.
            self.buf_offset += n as u64;
            return (
                std::mem::take(&mut self.buf),
                std::mem::take(&mut self.origin),
                offset,
            );
        }
        if n == 0 {
            // (`split_off(0)` would allocate a second buffer of the same capacity.)
            return (Vec::new(), Origin::new(), offset);
        }
        // Only what follows the message is copied; the message keeps the allocation.
        let rest = self.buf.split_off(n);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let mut taken = Origin::new();
        let mut kept = Origin::new();
        for s in self.origin.drain(..) {
            let end = s.offset + s.len;
            if end <= n {
                taken.push(s);
            } else if s.offset >= n {
                kept.push(FrameSpan {
                    offset: s.offset - n,
                    ..s
                });
            } else {
                taken.push(FrameSpan {
                    len: n - s.offset,
                    ..s
                });
                kept.push(FrameSpan {
                    offset: 0,
                    len: end - n,
                    frame: s.frame,
                });
            }
        }
        self.origin = kept;
        self.buf_offset += n as u64;
        (bytes, taken, offset)
    }
}

/// Requests waiting for their response, oldest first: a FIFO whose oldest entry is held
/// inline. A connection rarely has more than one request waiting (pipelining is rare), and a
/// queue of its own cost each connection an allocation.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// The oldest; `None` only when `rest` is empty too.
    front: Option<RequestRef>,
    rest: VecDeque<RequestRef>,
}

impl Pending {
    fn len(&self) -> usize {
        usize::from(self.front.is_some()) + self.rest.len()
    }

    fn front(&self) -> Option<&RequestRef> {
        self.front.as_ref()
    }

    fn push_back(&mut self, r: RequestRef) {
        if self.front.is_none() {
            self.front = Some(r);
        } else {
            self.rest.push_back(r);
        }
    }

    fn pop_front(&mut self) -> Option<RequestRef> {
        let r = self.front.take();
        self.front = self.rest.pop_front();
        r
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut RequestRef> {
        self.front.iter_mut().chain(self.rest.iter_mut())
    }
}

/// The HTTP/1.x parser of one TCP connection.
#[derive(Debug, Clone)]
pub struct HttpConnection {
    cfg: Config,
    dirs: [DirState; 2],
    /// Requests waiting for their response, oldest first.
    pending: Pending,
    next_exchange: u64,
}

impl Default for HttpConnection {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl HttpConnection {
    pub fn new(cfg: Config) -> Self {
        HttpConnection {
            cfg,
            dirs: [DirState::new(), DirState::new()],
            pending: Pending::default(),
            next_exchange: 0,
        }
    }

    /// True once `direction` was found not to be HTTP: the pipeline may stop feeding it.
    pub fn is_not_http(&self, direction: Direction) -> bool {
        matches!(self.dirs[direction as usize].phase, Phase::NotHttp)
    }

    /// True when both directions were found not to be HTTP (or one was and the other never
    /// sent anything).
    pub fn gave_up(&self) -> bool {
        let d = &self.dirs;
        let dead = |s: &DirState| matches!(s.phase, Phase::NotHttp);
        let silent = |s: &DirState| matches!(s.phase, Phase::Start) && s.buf.is_empty();
        (dead(&d[0]) || silent(&d[0]))
            && (dead(&d[1]) || silent(&d[1]))
            && (dead(&d[0]) || dead(&d[1]))
    }

    /// Whether `direction` has no buffer for its bytes: the last message took it along (or
    /// none came yet), and the direction may still carry HTTP. See
    /// [`HttpConnection::give_buffer`].
    pub fn needs_buffer(&self, direction: Direction) -> bool {
        let st = &self.dirs[direction as usize];
        st.buf.capacity() == 0 && !matches!(st.phase, Phase::NotHttp)
    }

    /// A buffer (emptied here) for `direction`'s next bytes, when it has none: a caller that is
    /// done with the raw bytes of earlier messages passes their buffers back here, instead of
    /// every message allocating one (and its user freeing it).
    pub fn give_buffer(&mut self, direction: Direction, mut buf: Vec<u8>) {
        let st = &mut self.dirs[direction as usize];
        if st.buf.capacity() == 0 {
            buf.clear();
            st.buf = buf;
        }
    }

    /// Feed in-order bytes of `direction` that arrived in capture frame `frame`.
    pub fn feed(&mut self, direction: Direction, data: &[u8], frame: u64) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        self.feed_into(direction, data, frame, &mut events);
        events
    }

    /// [`HttpConnection::feed`], adding the events to `events`: a caller feeding many segments
    /// keeps one list instead of receiving (and dropping) one per segment, most of them empty.
    pub fn feed_into(
        &mut self,
        direction: Direction,
        data: &[u8],
        frame: u64,
        events: &mut Vec<HttpEvent>,
    ) {
        let st = &mut self.dirs[direction as usize];
        if matches!(st.phase, Phase::NotHttp) {
            st.buf_offset += data.len() as u64;
            return;
        }
        let mut data = data;
        if st.drop_left > 0 {
            let n = (data.len() as u64).min(st.drop_left) as usize;
            st.drop_left -= n as u64;
            st.dropped += n as u64;
            data = &data[n..];
            if st.drop_left > 0 {
                return;
            }
            // The dropped body is complete: `process` ends the message (what follows is the
            // next one's).
        }
        if !data.is_empty() {
            st.origin.push(FrameSpan {
                offset: st.buf.len(),
                len: data.len(),
                frame,
            });
            st.buf.extend_from_slice(data);
        }
        if st.buf.len() < st.wake_at {
            return;
        }
        self.process(direction, events);
    }

    /// The capture starts in the middle of this direction's stream (no SYN seen): search for
    /// the first message start instead of requiring one at the first byte. Gives up (NotHttp)
    /// after [`HUNT_LIMIT`] bytes without one.
    pub fn midstream(&mut self, direction: Direction) -> Vec<HttpEvent> {
        let st = &mut self.dirs[direction as usize];
        if matches!(st.phase, Phase::Start) {
            st.phase = Phase::Resync;
            st.resync_from = Some(st.buf_offset);
            st.hunt_budget = Some(HUNT_LIMIT);
        }
        let mut events = Vec::new();
        self.process(direction, &mut events);
        events
    }

    /// `len` bytes of `direction` were lost (not captured).
    pub fn gap(&mut self, direction: Direction, len: u64) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        let di = direction as usize;
        // Bytes already buffered (or dropped, see `DirState::dropped`) come before the gap.
        let gap_offset =
            self.dirs[di].buf_offset + self.dirs[di].dropped + self.dirs[di].buf.len() as u64;
        let phase = std::mem::replace(&mut self.dirs[di].phase, Phase::Resync);
        if matches!(phase, Phase::Start) {
            // The stream's first bytes are lost: hunt for a message start.
            self.dirs[di].hunt_budget = Some(HUNT_LIMIT);
        }
        let mut abandoned = None;
        let next = match phase {
            Phase::NotHttp => Phase::NotHttp,
            Phase::Skip(n) if len < n => Phase::Skip(n - len),
            Phase::Skip(n) if len == n => Phase::Head,
            Phase::Body { mut msg, chunked } => {
                let st = &mut self.dirs[di];
                let raw_len = st.buf.len();
                let framing = msg.framing;
                // Message bytes received, dropped ones included.
                let have = raw_len as u64 + st.dropped;
                let total = match framing {
                    Framing::ContentLength(n) => Some(msg.head.len as u64 + n),
                    _ => None,
                };
                msg.notes.push(HttpNote {
                    severity: Severity::Error,
                    message: format!(
                        "{len} bytes lost at stream offset {gap_offset} (message offset {have}): body incomplete, {} body bytes received",
                        have.saturating_sub(msg.head.len as u64)
                    ),
                    range: raw_len..raw_len,
                });
                let next = match (total, framing) {
                    (Some(t), _) => {
                        let remaining = t - have;
                        if len < remaining {
                            Phase::Skip(remaining - len)
                        } else if len == remaining {
                            Phase::Head
                        } else {
                            Phase::Resync
                        }
                    }
                    (None, Framing::CloseDelimited) => Phase::Skip(u64::MAX),
                    _ => Phase::Resync,
                };
                abandoned = Some(self.build(direction, msg, chunked, raw_len, false));
                next
            }
            Phase::Resync | Phase::Skip(_) => Phase::Resync,
            Phase::Head | Phase::Start => {
                let st = &mut self.dirs[di];
                if st.buf.iter().any(|b| !b.is_ascii_whitespace()) {
                    let off = st.buf_offset;
                    let n = st.buf.len();
                    st.take(n);
                    events.push(HttpEvent::Note {
                        direction,
                        stream_offset: off,
                        severity: Severity::Error,
                        message: format!(
                            "{n} bytes at stream offset {off} dropped: a gap follows them before a message head was complete"
                        ),
                    });
                }
                Phase::Resync
            }
        };
        let st = &mut self.dirs[di];
        // Anything still buffered is before the gap and can't continue across it.
        let n = st.buf.len();
        st.take(n);
        st.buf_offset = gap_offset + len;
        st.phase = next;
        st.wake_at = 0;
        if matches!(st.phase, Phase::Resync) {
            st.resync_from = Some(st.buf_offset);
        }
        events.push(HttpEvent::Gap {
            direction,
            stream_offset: gap_offset,
            len,
            abandoned,
        });
        events
    }

    /// `direction` was closed (FIN or RST, or the capture ended): ends a close-delimited body.
    pub fn close(&mut self, direction: Direction) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        let di = direction as usize;
        let phase = std::mem::replace(&mut self.dirs[di].phase, Phase::Head);
        match phase {
            Phase::Body { mut msg, chunked } => {
                let have = self.dirs[di].buf.len();
                let received = have as u64 + self.dirs[di].dropped;
                let complete = msg.framing == Framing::CloseDelimited;
                if !complete {
                    msg.notes.push(HttpNote {
                        severity: Severity::Error,
                        message: format!(
                            "connection closed at stream offset {} before the body ended ({} body bytes received)",
                            self.dirs[di].buf_offset + received,
                            received.saturating_sub(msg.head.len as u64)
                        ),
                        range: have..have,
                    });
                }
                let msg = self.build(direction, msg, chunked, have, complete);
                events.push(HttpEvent::Message(msg));
            }
            Phase::NotHttp => self.dirs[di].phase = Phase::NotHttp,
            Phase::Head | Phase::Start | Phase::Resync => {
                let st = &mut self.dirs[di];
                let junk = st.buf.iter().any(|b| !b.is_ascii_whitespace());
                if junk {
                    events.push(HttpEvent::Note {
                        direction,
                        stream_offset: st.buf_offset,
                        severity: Severity::Warning,
                        message: format!(
                            "connection closed with {} bytes of an incomplete message head at stream offset {}",
                            st.buf.len(),
                            st.buf_offset
                        ),
                    });
                }
            }
            Phase::Skip(_) => {}
        }
        let st = &mut self.dirs[di];
        let n = st.buf.len();
        st.take(n);
        st.wake_at = 0;
        events
    }

    fn process(&mut self, direction: Direction, events: &mut Vec<HttpEvent>) {
        let di = direction as usize;
        self.dirs[di].wake_at = 0;
        loop {
            let phase = std::mem::replace(&mut self.dirs[di].phase, Phase::Head);
            match phase {
                Phase::NotHttp => {
                    let st = &mut self.dirs[di];
                    let n = st.buf.len();
                    st.take(n);
                    st.phase = Phase::NotHttp;
                    return;
                }
                Phase::Start => {
                    let st = &mut self.dirs[di];
                    match head::detect(&st.buf) {
                        Detection::NeedMore => {
                            st.phase = Phase::Start;
                            return;
                        }
                        Detection::NotHttp => {
                            events.push(HttpEvent::NotHttp {
                                direction,
                                stream_offset: st.buf_offset,
                            });
                            st.phase = Phase::NotHttp;
                        }
                        Detection::Request | Detection::Response => st.phase = Phase::Head,
                    }
                }
                Phase::Skip(n) => {
                    let st = &mut self.dirs[di];
                    let k = (st.buf.len() as u64).min(n);
                    st.take(k as usize);
                    if k == n {
                        st.phase = Phase::Head;
                    } else {
                        st.phase = Phase::Skip(n - k);
                        return;
                    }
                }
                Phase::Resync => {
                    let st = &mut self.dirs[di];
                    let from = st.resync_from.unwrap_or(st.buf_offset);
                    match find_start_line(&st.buf) {
                        Some(i) => {
                            st.take(i);
                            let to = st.buf_offset;
                            st.resync_from = None;
                            st.hunt_budget = None;
                            if to > from {
                                events.push(HttpEvent::Resynced {
                                    direction,
                                    skipped: from..to,
                                });
                            }
                            st.phase = Phase::Head;
                        }
                        None => {
                            // Keep only the last partial line: a start line may still begin there.
                            let keep_from = st
                                .buf
                                .iter()
                                .rposition(|&b| b == b'\n')
                                .map(|p| p + 1)
                                .unwrap_or(0);
                            let keep_from = keep_from.max(st.buf.len().saturating_sub(8192));
                            st.take(keep_from);
                            st.phase = Phase::Resync;
                            if let Some(budget) = st.hunt_budget
                                && st.buf_offset.saturating_sub(from) > budget
                            {
                                events.push(HttpEvent::NotHttp {
                                    direction,
                                    stream_offset: from,
                                });
                                let n = st.buf.len();
                                st.take(n);
                                st.phase = Phase::NotHttp;
                            }
                            return;
                        }
                    }
                }
                Phase::Head => {
                    if !self.step_head(direction, events) {
                        return;
                    }
                }
                Phase::Body {
                    mut msg,
                    mut chunked,
                } => {
                    let framing = msg.framing;
                    let head_len = msg.head.len;
                    if !self.dirs[di].body_planned {
                        self.plan_body(direction, &msg.head, framing);
                    }
                    let st = &mut self.dirs[di];
                    let end = match framing {
                        Framing::None => Some(head_len),
                        Framing::ContentLength(n) => {
                            // Dropped body bytes count as received; the message ends in `buf`
                            // that many bytes early.
                            let total = head_len as u64 + n;
                            (st.buf.len() as u64 + st.dropped >= total)
                                .then(|| (total - st.dropped) as usize)
                        }
                        Framing::Chunked => {
                            let dec = chunked.get_or_insert_with(|| ChunkedDecoder::new(head_len));
                            match dec.advance(&st.buf, self.cfg.max_decoded) {
                                ChunkedStatus::Incomplete => None,
                                ChunkedStatus::Done(end) => Some(end),
                                ChunkedStatus::Malformed { offset, reason } => {
                                    msg.notes.push(HttpNote {
                                        severity: Severity::Error,
                                        message: format!(
                                            "{reason} at stream offset {}; message abandoned",
                                            st.buf_offset + offset as u64
                                        ),
                                        range: offset..st.buf.len(),
                                    });
                                    let have = st.buf.len();
                                    let msg = self.build(direction, msg, chunked, have, false);
                                    events.push(HttpEvent::Message(msg));
                                    let st = &mut self.dirs[di];
                                    st.resync_from = Some(st.buf_offset);
                                    st.phase = Phase::Resync;
                                    continue;
                                }
                            }
                        }
                        Framing::CloseDelimited => None,
                    };
                    match end {
                        Some(end) => {
                            let msg = self.build(direction, msg, chunked, end, true);
                            let tunnel = match (msg.status(), &msg.answers) {
                                (Some(101), _) => true,
                                (Some(s), Some(a)) => {
                                    (200..300).contains(&s)
                                        && a.method.eq_ignore_ascii_case("CONNECT")
                                }
                                _ => false,
                            };
                            events.push(HttpEvent::Message(msg));
                            self.dirs[di].phase = Phase::Head;
                            if tunnel {
                                // 101 Switching Protocols or a CONNECT tunnel: what follows on
                                // both directions is another protocol.
                                for d in [Direction::ClientToServer, Direction::ServerToClient] {
                                    let st = &mut self.dirs[d as usize];
                                    if !matches!(st.phase, Phase::NotHttp) {
                                        let off = st.buf_offset;
                                        let n = st.buf.len();
                                        st.take(n);
                                        st.phase = Phase::NotHttp;
                                        events.push(HttpEvent::NotHttp {
                                            direction: d,
                                            stream_offset: off,
                                        });
                                    }
                                }
                                return;
                            }
                        }
                        None => {
                            let st = &mut self.dirs[di];
                            if st.buf.len() > self.cfg.max_message {
                                msg.notes.push(HttpNote {
                                    severity: Severity::Error,
                                    message: format!(
                                        "message exceeds the limit of {} bytes; the rest of it is skipped",
                                        self.cfg.max_message
                                    ),
                                    range: self.cfg.max_message..self.cfg.max_message,
                                });
                                let have = st.buf.len();
                                let remaining = match framing {
                                    Framing::ContentLength(n) => {
                                        (head_len as u64 + n).saturating_sub(have as u64)
                                    }
                                    Framing::CloseDelimited => u64::MAX,
                                    _ => 0,
                                };
                                let msg = self.build(direction, msg, chunked, have, false);
                                events.push(HttpEvent::Message(msg));
                                let st = &mut self.dirs[di];
                                st.phase = if remaining > 0 {
                                    Phase::Skip(remaining)
                                } else {
                                    st.resync_from = Some(st.buf_offset);
                                    Phase::Resync
                                };
                                continue;
                            }
                            // Until then the body stays incomplete and under the size limit.
                            let limit = self.cfg.max_message.saturating_add(1);
                            st.wake_at = match framing {
                                // `feed_into` drops the rest and calls back at the body's end.
                                _ if st.drop_left > 0 => 0,
                                // The first body byte decides how the body is taken in.
                                _ if !st.body_planned => head_len + 1,
                                Framing::ContentLength(n) => {
                                    (head_len as u64).saturating_add(n).min(limit as u64) as usize
                                }
                                Framing::Chunked => {
                                    chunked.as_ref().map_or(0, |d| d.needs()).min(limit)
                                }
                                Framing::CloseDelimited => limit,
                                Framing::None => 0,
                            };
                            st.phase = Phase::Body { msg, chunked };
                            return;
                        }
                    }
                }
            }
        }
    }

    /// How the body of the message whose head was just read is taken in. With
    /// [`Config::discard_non_mms_bodies`], a body framed by Content-Length that
    /// [`may_carry_mms`] rules out is dropped as it arrives; that needs its first byte, so
    /// without it the decision waits (`body_planned` stays false). Otherwise: room for the
    /// whole message at once instead of doubling (and copying) the buffer as the body's
    /// segments arrive. Capped: the length is the sender's word. A chunked body announces no
    /// length: room for a typical MMS body saves the doublings from one segment up to that
    /// size.
    fn plan_body(&mut self, direction: Direction, head: &Head, framing: Framing) {
        let st = &mut self.dirs[direction as usize];
        st.body_planned = false;
        if self.cfg.discard_non_mms_bodies
            && let Framing::ContentLength(n) = framing
            && n > 0
        {
            let Some(&first) = st.buf.get(head.len) else {
                return;
            };
            let total = head.len as u64 + n;
            if (st.buf.len() as u64) < total && !may_carry_mms(head, first) {
                st.drop_left = total - st.buf.len() as u64;
                st.body_planned = true;
                return;
            }
        }
        st.body_planned = true;
        let expected = match framing {
            Framing::ContentLength(n) => Some(head.len as u64 + n),
            Framing::Chunked => Some(head.len as u64 + CHUNKED_RESERVE as u64),
            _ => None,
        };
        if let Some(total) = expected {
            let total = total.min(RESERVE_LIMIT as u64) as usize;
            let to_come = total.saturating_sub(st.buf.len());
            if st.buf.capacity() - st.buf.len() < to_come {
                // A new buffer, the bytes so far copied over: growing it in place (realloc)
                // would copy all of its capacity, and a buffer given back by the caller (see
                // `give_buffer`) may hold only a segment in a much larger one.
                let mut grown = Vec::with_capacity(st.buf.len() + to_come);
                grown.extend_from_slice(&st.buf);
                st.buf = grown;
            }
            // And room for the frame origins of the segments to come, judged by the size of
            // those so far, so that their list is not regrown every few segments either.
            let per_segment = (st.buf.len() / st.origin.len().max(1)).max(512);
            st.origin.reserve(to_come.div_ceil(per_segment));
        }
    }

    /// Try to read a head; returns false when more bytes are needed.
    fn step_head(&mut self, direction: Direction, events: &mut Vec<HttpEvent>) -> bool {
        let di = direction as usize;
        let st = &mut self.dirs[di];
        // Empty lines between messages are allowed (RFC 9112 section 2.2).
        let blank = st
            .buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if blank > 0 {
            st.take(blank);
        }
        if st.buf.is_empty() {
            st.phase = Phase::Head;
            return false;
        }
        match head::detect(&st.buf) {
            Detection::NeedMore => {
                st.phase = Phase::Head;
                return false;
            }
            Detection::NotHttp => {
                let message = format!(
                    "no HTTP message start at stream offset {}; looking for the next one",
                    st.buf_offset
                );
                st.resync_after_line(direction, message, events);
                return true;
            }
            _ => {}
        }
        let head = match head::parse_head(&st.buf) {
            Ok(h) => h,
            Err(HeadError::Incomplete) => {
                st.phase = Phase::Head;
                return false;
            }
            Err(e) => {
                let msg = match e {
                    HeadError::TooLong => format!(
                        "message head at stream offset {} is longer than {} bytes",
                        st.buf_offset,
                        head::MAX_HEAD_LEN
                    ),
                    HeadError::BadStartLine { offset, reason } => format!(
                        "{reason} at stream offset {}",
                        st.buf_offset + offset as u64
                    ),
                    HeadError::Incomplete => unreachable!(),
                };
                st.resync_after_line(direction, msg, events);
                return true;
            }
        };
        let stream_offset = st.buf_offset;
        let mut notes: Vec<HttpNote> = head
            .notes
            .iter()
            .map(|(m, r)| HttpNote {
                severity: Severity::Warning,
                message: format!("{m} (stream offset {})", stream_offset + r.start as u64),
                range: r.clone(),
            })
            .collect();
        let is_request = matches!(head.start, StartLine::Request { .. });
        let (answers, exchange) = match &head.start {
            StartLine::Request { method, target, .. } => {
                let ex = self.next_exchange;
                self.next_exchange += 1;
                if self.pending.len() >= self.cfg.max_pending {
                    self.pending.pop_front();
                    notes.push(HttpNote {
                        severity: Severity::Warning,
                        message: format!(
                            "more than {} requests without a response; the oldest is forgotten",
                            self.cfg.max_pending
                        ),
                        range: head.start_range.clone(),
                    });
                }
                // The frame is filled in when the message completes.
                self.pending.push_back(RequestRef {
                    method: method.clone(),
                    target: target.clone(),
                    exchange: ex,
                    frame: None,
                });
                (None, ex)
            }
            StartLine::Response { status, .. } => {
                if (100..200).contains(status) && *status != 101 {
                    // Interim response: the request still waits for its final response.
                    let a = self.pending.front().cloned();
                    let ex = a.as_ref().map(|r| r.exchange).unwrap_or(self.next_exchange);
                    (a, ex)
                } else {
                    match self.pending.pop_front() {
                        Some(r) => {
                            let ex = r.exchange;
                            (Some(r), ex)
                        }
                        None => {
                            notes.push(HttpNote {
                                severity: Severity::Warning,
                                message: "response without a request on this connection (request not captured?)".into(),
                                range: head.start_range.clone(),
                            });
                            let ex = self.next_exchange;
                            self.next_exchange += 1;
                            (None, ex)
                        }
                    }
                }
            }
        };
        let framing = decide_framing(&head, is_request, answers.as_ref(), &mut notes);
        if let Framing::ContentLength(n) = framing
            && n > self.cfg.max_message as u64
        {
            notes.push(HttpNote {
                severity: Severity::Error,
                message: format!(
                    "Content-Length {n} exceeds the limit of {} bytes; the body is skipped",
                    self.cfg.max_message
                ),
                range: head.start_range.clone(),
            });
            let hl = head.len;
            let msg = Self::begun(
                direction,
                head,
                Framing::ContentLength(n),
                answers,
                exchange,
                notes,
            );
            let msg = self.build(direction, msg, None, hl, false);
            events.push(HttpEvent::Message(msg));
            self.dirs[di].phase = Phase::Skip(n);
            return true;
        }
        self.plan_body(direction, &head, framing);
        self.dirs[di].phase = Phase::Body {
            msg: Self::begun(direction, head, framing, answers, exchange, notes),
            chunked: None,
        };
        true
    }

    /// The message whose head was just read, still without its bytes (see [`Phase::Body`]).
    fn begun(
        direction: Direction,
        head: Head,
        framing: Framing,
        answers: Option<RequestRef>,
        exchange: u64,
        notes: Vec<HttpNote>,
    ) -> Box<HttpMessage> {
        Box::new(HttpMessage {
            direction,
            head,
            raw: Vec::new(),
            stream_offset: 0,
            origin: Origin::new(),
            body_range: 0..0,
            framing,
            chunks: Vec::new(),
            trailers: Vec::new(),
            body: BodyBytes::InRaw(0..0),
            codings: Vec::new(),
            body_truncated: false,
            notes,
            exchange,
            answers,
            complete: false,
            codings_pending: None,
        })
    }

    /// Take `raw_len` bytes off the direction's buffer and complete the message `msg` (made by
    /// [`HttpConnection::begun`]) with them.
    fn build(
        &mut self,
        direction: Direction,
        mut msg: Box<HttpMessage>,
        chunked: Option<ChunkedDecoder>,
        raw_len: usize,
        complete: bool,
    ) -> Box<HttpMessage> {
        let st = &mut self.dirs[direction as usize];
        let (raw, origin, stream_offset) = st.take(raw_len);
        // A dropped body's bytes were never buffered: the stream moves past them here.
        let dropped = std::mem::take(&mut st.dropped);
        st.buf_offset += dropped;
        st.drop_left = 0;
        st.body_planned = false;
        if dropped > 0 {
            msg.notes.push(HttpNote {
                severity: Severity::Note,
                message: format!(
                    "{dropped} body bytes not kept: the body cannot carry an MMS PDU (its first byte is not X-Mms-Message-Type)"
                ),
                range: raw.len()..raw.len(),
            });
        }
        let body_start = msg.head.len.min(raw.len());
        let body_range = body_start..raw.len();
        // The body as the transfer framing delivers it: a range of `raw` when it lies there in
        // one piece (no framing, or a single chunk), so that it is neither copied nor, when a
        // coding is undone below, read from a copy.
        let (wire_body, chunks, trailers) = match (msg.framing, chunked) {
            (Framing::Chunked, Some(dec)) => {
                let mut data = dec.chunks.iter().filter(|c| !c.data.is_empty());
                let body = match (data.next(), data.next()) {
                    (None, _) => BodyBytes::Decoded(Vec::new()),
                    (Some(only), None) => BodyBytes::InRaw(only.data.clone()),
                    _ => BodyBytes::Decoded(dec.dechunk(&raw)),
                };
                (body, dec.chunks, dec.trailers)
            }
            (Framing::Chunked, None) => (BodyBytes::Decoded(Vec::new()), Vec::new(), Vec::new()),
            _ => (BodyBytes::InRaw(body_range.clone()), Vec::new(), Vec::new()),
        };
        msg.codings = codings(&msg.head);
        let frame = origin.last().map(|s| s.frame);
        if let StartLine::Request { .. } = msg.head.start
            && let Some(p) = self.pending.iter_mut().find(|r| r.exchange == msg.exchange)
        {
            p.frame = frame;
        }
        msg.raw = raw;
        msg.stream_offset = stream_offset;
        msg.origin = origin;
        msg.body_range = body_range;
        msg.chunks = chunks;
        msg.trailers = trailers;
        msg.body = wire_body;
        msg.complete = complete;
        msg.codings_pending = Some(self.cfg.max_decoded);
        if !self.cfg.defer_codings {
            msg.undo_codings();
        }
        msg
    }
}

/// RFC 9112 section 6.3: how the body of this message is delimited.
fn decide_framing(
    head: &Head,
    is_request: bool,
    answers: Option<&RequestRef>,
    notes: &mut Vec<HttpNote>,
) -> Framing {
    if let StartLine::Response { status, .. } = head.start {
        let head_req = answers.is_some_and(|r| r.method.eq_ignore_ascii_case("HEAD"));
        let tunnel = answers.is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"))
            && (200..300).contains(&status);
        if head_req || tunnel || (100..200).contains(&status) || status == 204 || status == 304 {
            return Framing::None;
        }
    }
    // Iterators, not collected lists: this runs once per message.
    let cls = || {
        head.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
    };
    let last_te = head
        .headers
        .iter()
        .rfind(|h| h.name.eq_ignore_ascii_case("transfer-encoding"));
    if let Some(last) = last_te {
        let last_coding = last.value.rsplit(',').next().unwrap_or("").trim();
        if let Some(first_cl) = cls().next() {
            notes.push(HttpNote {
                severity: Severity::Warning,
                message: "both Transfer-Encoding and Content-Length: Transfer-Encoding wins (RFC 9112 6.3)".into(),
                range: first_cl.range.clone(),
            });
        }
        if last_coding.eq_ignore_ascii_case("chunked") {
            return Framing::Chunked;
        }
        notes.push(HttpNote {
            severity: Severity::Error,
            message: format!(
                "Transfer-Encoding {:?} does not end with chunked",
                last.value
            ),
            range: last.range.clone(),
        });
        return if is_request {
            Framing::None
        } else {
            Framing::CloseDelimited
        };
    }
    if let Some(first) = cls().next() {
        // A list of identical values is allowed (RFC 9110 8.6).
        let mut vals = cls().flat_map(|h| h.value.split(',')).map(str::trim);
        let v0 = vals.next().unwrap_or("");
        let parsed = if v0.len() <= 19 && !v0.is_empty() && v0.bytes().all(|b| b.is_ascii_digit()) {
            v0.parse::<u64>().ok()
        } else {
            None
        };
        match parsed {
            Some(n) => {
                if vals.any(|v| v != v0) {
                    notes.push(HttpNote {
                        severity: Severity::Error,
                        message: "conflicting Content-Length values; the first is used".into(),
                        range: first.range.clone(),
                    });
                }
                return Framing::ContentLength(n);
            }
            None => {
                notes.push(HttpNote {
                    severity: Severity::Error,
                    message: format!("invalid Content-Length {:?}", first.value),
                    range: first.value_range.clone(),
                });
                return if is_request {
                    Framing::None
                } else {
                    Framing::CloseDelimited
                };
            }
        }
    }
    if is_request {
        Framing::None
    } else {
        Framing::CloseDelimited
    }
}

/// The first offset in `buf` where a line starts that is a complete HTTP start line (the
/// first line of `buf` counts: a gap may end right at a message start).
fn find_start_line(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    loop {
        let nl = buf[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| start + p)?;
        let line = &buf[start..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if head::is_start_line(line) {
            return Some(start);
        }
        start = nl + 1;
    }
}

/// Detect from the first bytes of a stream whether it carries HTTP/1.x (request or status
/// line), on any port.
pub fn detect(data: &[u8]) -> Detection {
    head::detect(data)
}

#[cfg(test)]
mod tests;
