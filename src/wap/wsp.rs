//! WSP, the Wireless Session Protocol (WAP-230-WSP section 8.2): PDU framing for the
//! connection-oriented mode (inside WTP Invoke/Result user data), the connectionless mode
//! (UDP 9200, a TID octet first) and push (UDP 2948). Header and content-type values are
//! decoded by [`crate::codec`]; this module only frames the PDUs, maps reply status codes to
//! HTTP (table 36) and pairs requests with replies.

use crate::codec::headers::{HeaderBlock, decode_headers};
use crate::codec::primitives::{CodecError, uintvar};
use crate::codec::{ContentType, content_type::content_type};
use crate::tree::{Node, Severity, Value, escape_text, push_escaped};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::Range;

/// WSP PDU types (WAP-230 table 34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WspPduType {
    Connect,
    ConnectReply,
    Redirect,
    Reply,
    Disconnect,
    Push,
    ConfirmedPush,
    Suspend,
    Resume,
    /// 0x40–0x4F: Get, Options, Head, Delete, Trace, or an extended method.
    Get(u8),
    /// 0x60–0x6F: Post, Put, or an extended method.
    Post(u8),
    DataFragment,
    Unknown(u8),
}

impl WspPduType {
    pub fn from_code(c: u8) -> Self {
        match c {
            0x01 => Self::Connect,
            0x02 => Self::ConnectReply,
            0x03 => Self::Redirect,
            0x04 => Self::Reply,
            0x05 => Self::Disconnect,
            0x06 => Self::Push,
            0x07 => Self::ConfirmedPush,
            0x08 => Self::Suspend,
            0x09 => Self::Resume,
            0x40..=0x4f => Self::Get(c),
            0x60..=0x6f => Self::Post(c),
            0x80 => Self::DataFragment,
            c => Self::Unknown(c),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Connect => 0x01,
            Self::ConnectReply => 0x02,
            Self::Redirect => 0x03,
            Self::Reply => 0x04,
            Self::Disconnect => 0x05,
            Self::Push => 0x06,
            Self::ConfirmedPush => 0x07,
            Self::Suspend => 0x08,
            Self::Resume => 0x09,
            Self::Get(c) | Self::Post(c) | Self::Unknown(c) => c,
            Self::DataFragment => 0x80,
        }
    }

    /// "Get", "Post", "Reply", … (the method name for requests).
    pub fn name(self) -> String {
        self.label().into_owned()
    }

    /// [`WspPduType::name`], borrowed when it is a fixed name.
    pub fn label(self) -> Cow<'static, str> {
        match self {
            Self::Connect => Cow::Borrowed("Connect"),
            Self::ConnectReply => Cow::Borrowed("ConnectReply"),
            Self::Redirect => Cow::Borrowed("Redirect"),
            Self::Reply => Cow::Borrowed("Reply"),
            Self::Disconnect => Cow::Borrowed("Disconnect"),
            Self::Push => Cow::Borrowed("Push"),
            Self::ConfirmedPush => Cow::Borrowed("ConfirmedPush"),
            Self::Suspend => Cow::Borrowed("Suspend"),
            Self::Resume => Cow::Borrowed("Resume"),
            Self::Get(0x40) => Cow::Borrowed("Get"),
            Self::Get(0x41) => Cow::Borrowed("Options"),
            Self::Get(0x42) => Cow::Borrowed("Head"),
            Self::Get(0x43) => Cow::Borrowed("Delete"),
            Self::Get(0x44) => Cow::Borrowed("Trace"),
            Self::Get(c) => Cow::Owned(format!("Get-extended-0x{c:02X}")),
            Self::Post(0x60) => Cow::Borrowed("Post"),
            Self::Post(0x61) => Cow::Borrowed("Put"),
            Self::Post(c) => Cow::Owned(format!("Post-extended-0x{c:02X}")),
            Self::DataFragment => Cow::Borrowed("Data Fragment"),
            Self::Unknown(c) => Cow::Owned(format!("Unknown-0x{c:02X}")),
        }
    }

    /// A method a client sends and a Reply answers.
    pub fn is_request(self) -> bool {
        matches!(
            self,
            Self::Get(_) | Self::Post(_) | Self::Connect | Self::Resume
        )
    }

    pub fn is_push(self) -> bool {
        matches!(self, Self::Push | Self::ConfirmedPush)
    }
}

/// WSP status octet → HTTP status code (WAP-230 table 36). `None` for unassigned octets.
pub fn http_status(wsp: u8) -> Option<u16> {
    let s = u16::from(wsp);
    let code = match wsp {
        0x10..=0x11 => 100 + (s - 0x10),
        0x20..=0x26 => 200 + (s - 0x20),
        0x30..=0x35 | 0x37 => 300 + (s - 0x30),
        0x40..=0x51 => 400 + (s - 0x40),
        0x60..=0x65 => 500 + (s - 0x60),
        _ => return None,
    };
    Some(code)
}

/// Why a WSP PDU could not be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for WspError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WSP: {} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for WspError {}

impl From<CodecError> for WspError {
    fn from(e: CodecError) -> Self {
        WspError {
            offset: e.offset,
            message: format!("expected {}", e.expected),
        }
    }
}

/// A framed WSP PDU. Every range is absolute in the input given to [`parse_wsp`].
#[derive(Debug, Clone, PartialEq)]
pub struct WspPdu {
    /// Connectionless mode: the TID octet.
    pub tid: Option<u8>,
    pub pdu_type: WspPduType,
    pub type_range: Range<usize>,
    /// Connect: protocol version (major, minor).
    pub version: Option<(u8, u8)>,
    /// ConnectReply, Disconnect, Suspend, Resume: the session id.
    pub session_id: Option<u32>,
    /// Reply: the WSP status octet.
    pub status: Option<u8>,
    pub uri: Option<String>,
    pub uri_range: Option<Range<usize>>,
    /// Connect, ConnectReply, Resume: where the capabilities lie.
    pub capabilities: Option<Range<usize>>,
    /// The capabilities, decoded (WAP-230 section 8.3).
    pub capability_list: Vec<Capability>,
    /// The content type (Reply, Push, Post).
    pub content_type: Option<ContentType>,
    /// Headers (after the content type where there is one).
    pub headers: HeaderBlock,
    /// Where the headers (with the content type) lie.
    pub headers_range: Option<Range<usize>>,
    /// Redirect: flags and addresses (not decoded further).
    pub redirect: Option<(u8, Range<usize>)>,
    /// The data (body) of the PDU.
    pub body: Range<usize>,
    pub range: Range<usize>,
    /// Problems that did not stop framing (header decoding stopped early, …).
    pub notes: Vec<Node>,
}

impl WspPdu {
    pub fn body<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        &input[self.body.clone()]
    }

    /// Media type of the content, lower case.
    pub fn media_type(&self) -> Option<String> {
        self.content_type
            .as_ref()
            .map(|c| c.media.as_str().to_ascii_lowercase())
    }

    /// The body is an MMS PDU: declared so, or it looks like one (X-Mms-Message-Type 0x8C
    /// first, see [`crate::mms::looks_like_mms`]).
    pub fn is_mms(&self, input: &[u8]) -> bool {
        // Compared in place: `media_type` would allocate a lowered copy for every message.
        !self.body.is_empty()
            && (self.content_type.as_ref().is_some_and(|c| {
                c.media
                    .eq_ignore_ascii_case("application/vnd.wap.mms-message")
            }) || crate::mms::looks_like_mms(&input[self.body.clone()]))
    }

    /// X-Wap-Application-Id of a push, e.g. "x-wap-application:mms.ua".
    pub fn application_id(&self) -> Option<String> {
        self.application_id_str().map(str::to_string)
    }

    fn application_id_str(&self) -> Option<&str> {
        self.headers
            .get("X-Wap-Application-Id")
            .map(|h| h.text().unwrap_or(&h.display))
    }

    pub fn http_status(&self) -> Option<u16> {
        self.status.and_then(http_status)
    }

    /// One line for a human.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        // Written in place (the batch path builds one per WSP message for its carrier).
        let mut s = String::with_capacity(96);
        s.push_str(&self.pdu_type.label());
        if let Some(u) = &self.uri {
            s.push(' ');
            push_escaped(&mut s, u);
        }
        if let Some(st) = self.status {
            let _ = match http_status(st) {
                Some(h) => write!(s, " {h}"),
                None => write!(s, " status 0x{st:02X}"),
            };
        }
        // `media_type` and `application_id` in place, without their copies: lowering the
        // escaped text is lowering the text, as escapes are lower case.
        if let Some(c) = &self.content_type {
            s.push_str(" (");
            let start = s.len();
            push_escaped(&mut s, &c.media);
            s[start..].make_ascii_lowercase();
            s.push(')');
        }
        if let Some(a) = self.application_id_str() {
            s.push_str(" app ");
            push_escaped(&mut s, a);
        }
        s
    }

    /// The PDU's tree, ranges on the input given to [`parse_wsp`].
    pub fn tree(&self, input: &[u8]) -> Node {
        let mut root = Node::group("WSP", self.summary(), self.range.clone());
        if let Some(t) = self.tid {
            let r = self.range.start..self.range.start + 1;
            root.push(Node::new(
                "TID",
                t.to_string(),
                Value::UInt(u64::from(t)),
                r,
            ));
        }
        root.push(Node::new(
            "PDU type",
            format!("{} (0x{:02X})", self.pdu_type.name(), self.pdu_type.code()),
            Value::Enum {
                code: u64::from(self.pdu_type.code()),
                name: self.pdu_type.name(),
            },
            self.type_range.clone(),
        ));
        let after_type = self.type_range.end..self.type_range.end + 1;
        if let Some((maj, min)) = self.version {
            root.push(Node::new(
                "Version",
                format!("{maj}.{min}"),
                Value::Text(format!("{maj}.{min}")),
                after_type.clone(),
            ));
        }
        if let Some(id) = self.session_id {
            root.push(Node::new(
                "Session id",
                id.to_string(),
                Value::UInt(u64::from(id)),
                after_type.clone(),
            ));
        }
        if let Some(st) = self.status {
            let h = http_status(st);
            root.push(Node::new(
                "Status",
                match h {
                    Some(h) => format!("{h} (0x{st:02X})"),
                    None => format!("unassigned 0x{st:02X}"),
                },
                Value::Enum {
                    code: u64::from(h.unwrap_or(0)),
                    name: format!("0x{st:02X}"),
                },
                after_type.clone(),
            ));
            if h.is_none() {
                root.push(Node::expert(
                    Severity::Warning,
                    "unknown-value",
                    format!("WSP status 0x{st:02X} is not in table 36"),
                    after_type,
                ));
            }
        }
        if let (Some(u), Some(r)) = (&self.uri, &self.uri_range) {
            root.push(Node::new(
                "URI",
                escape_text(u),
                Value::Text(u.clone()),
                r.clone(),
            ));
        }
        if let Some(c) = &self.capabilities {
            root.push(Node::new(
                "Capabilities",
                format!("{} bytes", c.len()),
                Value::Bytes,
                c.clone(),
            ));
        }
        if let Some((flags, r)) = &self.redirect {
            root.push(Node::new(
                "Redirect",
                format!("flags 0x{flags:02X}, {} bytes of addresses", r.len()),
                Value::Bytes,
                r.clone(),
            ));
        }
        if let Some(hr) = &self.headers_range {
            let mut h = Node::group("Headers", format!("{} bytes", hr.len()), hr.clone());
            if let Some(ct) = &self.content_type {
                h.push(ct.node("Content-Type"));
            }
            h.children.extend(self.headers.nodes(hr.end));
            root.push(h);
        }
        if !self.body.is_empty() {
            root.push(Node::new(
                "Data",
                format!(
                    "{} bytes{}",
                    self.body.len(),
                    if self.is_mms(input) { ", MMS PDU" } else { "" }
                ),
                Value::Bytes,
                self.body.clone(),
            ));
        }
        root.children.extend(self.notes.iter().cloned());
        root
    }
}

/// One capability of a Connect/ConnectReply/Resume (WAP-230 section 8.3.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Capability {
    /// "Client-SDU-Size", "Protocol Options", … or the token of an unknown capability.
    pub name: String,
    pub value: Value,
    pub display: String,
    /// The whole capability (length, identifier, value).
    pub range: Range<usize>,
}

fn capability_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "Client-SDU-Size",
        0x01 => "Server-SDU-Size",
        0x02 => "Protocol Options",
        0x03 => "Method-MOR",
        0x04 => "Push-MOR",
        0x05 => "Extended Methods",
        0x06 => "Header Code Pages",
        0x07 => "Aliases",
        0x08 => "Client-Message-Size",
        0x09 => "Server-Message-Size",
        _ => return None,
    })
}

/// Decode the capabilities in `range`: each is Length (uintvar), Identifier (short-integer or
/// token text), value. Returns what was decoded and, if decoding stopped, why.
pub fn parse_capabilities(
    input: &[u8],
    range: Range<usize>,
) -> (Vec<Capability>, Option<WspError>) {
    let win = &input[..range.end.min(input.len())];
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos < win.len() {
        let (len, p) = match uintvar(win, pos) {
            Ok(v) => v,
            Err(e) => return (out, Some(e.into())),
        };
        let end = p + len as usize;
        if end > win.len() || len == 0 {
            return (
                out,
                Some(WspError {
                    offset: pos,
                    message: format!(
                        "capability of {len} bytes does not fit the capabilities block"
                    ),
                }),
            );
        }
        let (name, vstart) = if win[p] & 0x80 != 0 {
            let id = win[p] & 0x7f;
            (
                capability_name(id)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("capability-0x{id:02X}")),
                p + 1,
            )
        } else {
            match win[p..end].iter().position(|&b| b == 0) {
                Some(z) => (
                    String::from_utf8_lossy(&win[p..p + z]).into_owned(),
                    p + z + 1,
                ),
                None => (String::from_utf8_lossy(&win[p..end]).into_owned(), end),
            }
        };
        let v = &win[vstart..end];
        let (value, display) = match name.as_str() {
            "Client-SDU-Size"
            | "Server-SDU-Size"
            | "Client-Message-Size"
            | "Server-Message-Size" => match uintvar(&win[..end], vstart) {
                Ok((n, _)) => (Value::UInt(u64::from(n)), format!("{n} bytes")),
                Err(_) => (Value::Bytes, format!("{} bytes (bad uintvar)", v.len())),
            },
            "Method-MOR" | "Push-MOR" if v.len() == 1 => (
                Value::UInt(u64::from(v[0])),
                format!("{} outstanding requests", v[0]),
            ),
            "Protocol Options" if !v.is_empty() => {
                let mut names = Vec::new();
                for (bit, n) in [
                    (0x80, "Confirmed Push"),
                    (0x40, "Push"),
                    (0x20, "Session Resume"),
                    (0x10, "Acknowledgement Headers"),
                    (0x08, "Large Data Transfer"),
                ] {
                    if v[0] & bit != 0 {
                        names.push(n);
                    }
                }
                (
                    Value::UInt(u64::from(v[0])),
                    format!("0x{:02X} ({})", v[0], names.join(", ")),
                )
            }
            _ => (Value::Bytes, format!("{} bytes", v.len())),
        };
        out.push(Capability {
            name,
            value,
            display,
            range: pos..end,
        });
        pos = end;
    }
    (out, None)
}

fn need(input: &[u8], end: usize, at: usize, what: &str) -> Result<(), WspError> {
    if end > input.len() {
        Err(WspError {
            offset: at,
            message: format!(
                "{what} of {} bytes runs past the end ({} left)",
                end - at,
                input.len().saturating_sub(at)
            ),
        })
    } else {
        Ok(())
    }
}

/// Frame the WSP PDU in `range` of `input`. `connectionless`: a TID octet comes first.
pub fn parse_wsp(
    input: &[u8],
    range: Range<usize>,
    connectionless: bool,
) -> Result<WspPdu, WspError> {
    let input = &input[..range.end.min(input.len())];
    let mut pos = range.start;
    let tid = if connectionless {
        let t = *input.get(pos).ok_or(WspError {
            offset: pos,
            message: "empty datagram: expected the TID octet".into(),
        })?;
        pos += 1;
        Some(t)
    } else {
        None
    };
    let code = *input.get(pos).ok_or(WspError {
        offset: pos,
        message: "expected the PDU type octet".into(),
    })?;
    let pdu_type = WspPduType::from_code(code);
    let type_range = pos..pos + 1;
    pos += 1;
    let end = input.len();
    let mut pdu = WspPdu {
        tid,
        pdu_type,
        type_range,
        version: None,
        session_id: None,
        status: None,
        uri: None,
        uri_range: None,
        capabilities: None,
        capability_list: Vec::new(),
        content_type: None,
        headers: HeaderBlock::default(),
        headers_range: None,
        redirect: None,
        body: end..end,
        range: range.start..end,
        notes: Vec::new(),
    };
    match pdu_type {
        WspPduType::Connect | WspPduType::ConnectReply | WspPduType::Resume => {
            if pdu_type == WspPduType::Connect {
                let v = *input.get(pos).ok_or(WspError {
                    offset: pos,
                    message: "expected the version octet".into(),
                })?;
                pdu.version = Some((v >> 4, v & 0x0f));
                pos += 1;
            } else {
                let (id, p) = uintvar(input, pos)?;
                pdu.session_id = Some(id);
                pos = p;
            }
            let (caps_len, p) = uintvar(input, pos)?;
            pos = p;
            let headers_len = if pdu_type == WspPduType::Resume {
                None
            } else {
                let (h, p) = uintvar(input, pos)?;
                pos = p;
                Some(h as usize)
            };
            let ce = pos + caps_len as usize;
            need(input, ce, pos, "capabilities")?;
            pdu.capabilities = Some(pos..ce);
            let (caps, cerr) = parse_capabilities(input, pos..ce);
            pdu.capability_list = caps;
            if let Some(e) = cerr {
                pdu.notes.push(Node::expert(
                    Severity::Error,
                    "malformed",
                    e.to_string(),
                    e.offset..ce,
                ));
            }
            pos = ce;
            let he = match headers_len {
                Some(h) => pos + h,
                None => end,
            };
            need(input, he, pos, "headers")?;
            pdu.headers = decode_headers(input, pos..he);
            pdu.headers_range = Some(pos..he);
            pdu.body = he..he;
            if he < end {
                pdu.body = he..end;
            }
        }
        WspPduType::Redirect => {
            let f = *input.get(pos).ok_or(WspError {
                offset: pos,
                message: "expected the redirect flags".into(),
            })?;
            pdu.redirect = Some((f, pos + 1..end));
        }
        WspPduType::Disconnect | WspPduType::Suspend => {
            let (id, _) = uintvar(input, pos)?;
            pdu.session_id = Some(id);
        }
        WspPduType::Reply | WspPduType::Push | WspPduType::ConfirmedPush => {
            if pdu_type == WspPduType::Reply {
                let s = *input.get(pos).ok_or(WspError {
                    offset: pos,
                    message: "expected the status octet".into(),
                })?;
                pdu.status = Some(s);
                pos += 1;
            }
            let (hl, p) = uintvar(input, pos)?;
            pos = p;
            let he = pos + hl as usize;
            need(input, he, pos, "content type and headers")?;
            content_and_headers(input, pos, he, &mut pdu)?;
            pdu.body = he..end;
        }
        WspPduType::Get(_) => {
            let (ul, p) = uintvar(input, pos)?;
            pos = p;
            let ue = pos + ul as usize;
            need(input, ue, pos, "URI")?;
            pdu.uri = Some(String::from_utf8_lossy(&input[pos..ue]).into_owned());
            pdu.uri_range = Some(pos..ue);
            pdu.headers = decode_headers(input, ue..end);
            pdu.headers_range = Some(ue..end);
        }
        WspPduType::Post(_) => {
            let (ul, p) = uintvar(input, pos)?;
            let (hl, p) = uintvar(input, p)?;
            pos = p;
            let ue = pos + ul as usize;
            need(input, ue, pos, "URI")?;
            pdu.uri = Some(String::from_utf8_lossy(&input[pos..ue]).into_owned());
            pdu.uri_range = Some(pos..ue);
            let he = ue + hl as usize;
            need(input, he, ue, "content type and headers")?;
            content_and_headers(input, ue, he, &mut pdu)?;
            pdu.body = he..end;
        }
        WspPduType::DataFragment | WspPduType::Unknown(_) => {
            return Err(WspError {
                offset: pdu.type_range.start,
                message: format!("PDU type 0x{code:02X} is not a WSP PDU mmscope frames"),
            });
        }
    }
    // A Content-Length header must agree with the data actually carried.
    if let Some(h) = pdu.headers.get("Content-Length")
        && let Value::UInt(n) = h.value
        && n != pdu.body.len() as u64
    {
        pdu.notes.push(Node::expert(
            Severity::Warning,
            "length-mismatch",
            format!(
                "Content-Length says {n} bytes, the PDU carries {} bytes of data",
                pdu.body.len()
            ),
            h.range.clone(),
        ));
    }
    Ok(pdu)
}

/// ContentType followed by Headers, in `start..end`.
fn content_and_headers(
    input: &[u8],
    start: usize,
    end: usize,
    pdu: &mut WspPdu,
) -> Result<(), WspError> {
    pdu.headers_range = Some(start..end);
    if start == end {
        pdu.notes.push(Node::expert(
            Severity::Warning,
            "missing-header",
            "no content type (headers length 0)",
            start..end,
        ));
        return Ok(());
    }
    let win = &input[..end];
    match content_type(win, start) {
        Ok((ct, p)) => {
            pdu.content_type = Some(ct);
            pdu.headers = decode_headers(win, p..end);
        }
        Err(e) => {
            pdu.notes.push(e.node(end));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Request/reply pairing
// ---------------------------------------------------------------------------------------------

/// A request a reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspRequest {
    /// "Get", "Post", "Connect", …
    pub method: String,
    pub uri: Option<String>,
    /// Frame that completed the request.
    pub frame: u64,
    /// Exchange number (shared by the request and its reply).
    pub exchange: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PairKey {
    /// (initiator, responder, TID without the direction bit)
    Transaction(SocketAddr, SocketAddr, u16),
    /// (client, server, TID octet)
    Connectionless(SocketAddr, SocketAddr, u8),
}

/// A request as the pairer keeps it: the method's name borrowed from the PDU type's table (an
/// owned name per request was an allocation each); a reply gets it as a [`WspRequest`].
#[derive(Debug, Clone)]
struct Request {
    method: Cow<'static, str>,
    uri: Option<String>,
    frame: u64,
    exchange: u64,
}

impl Request {
    fn answer(&self) -> WspRequest {
        WspRequest {
            method: self.method.clone().into_owned(),
            uri: self.uri.clone(),
            frame: self.frame,
            exchange: self.exchange,
        }
    }
}

/// Pairs WSP replies with their requests: same WTP TID and peers (connection-oriented), or
/// same TID octet with the addresses swapped (connectionless). A re-sent reply finds its
/// request again; a new request with the same key replaces the old one.
#[derive(Debug, Default)]
pub struct WspPairer {
    open: crate::net::FlowMap<PairKey, Request>,
    order: VecDeque<PairKey>,
    next_exchange: u64,
}

/// Most requests remembered for pairing.
const MAX_REMEMBERED: usize = 8192;

impl WspPairer {
    fn insert(
        &mut self,
        key: PairKey,
        method: Cow<'static, str>,
        uri: Option<String>,
        frame: u64,
    ) -> u64 {
        let exchange = self.next_exchange;
        self.next_exchange += 1;
        if self
            .open
            .insert(
                key,
                Request {
                    method,
                    uri,
                    frame,
                    exchange,
                },
            )
            .is_none()
        {
            self.order.push_back(key);
        }
        while self.open.len() > MAX_REMEMBERED {
            match self.order.pop_front() {
                Some(k) => {
                    self.open.remove(&k);
                }
                None => break,
            }
        }
        exchange
    }

    /// A request sent in a WTP Invoke from `initiator` to `responder`; returns its exchange.
    pub fn request_co(
        &mut self,
        initiator: SocketAddr,
        responder: SocketAddr,
        tid: u16,
        method: Cow<'static, str>,
        uri: Option<String>,
        frame: u64,
    ) -> u64 {
        self.insert(
            PairKey::Transaction(initiator, responder, tid & 0x7fff),
            method,
            uri,
            frame,
        )
    }

    /// A reply sent in a WTP Result from `responder` to `initiator`.
    pub fn reply_co(
        &self,
        responder: SocketAddr,
        initiator: SocketAddr,
        tid: u16,
    ) -> Option<WspRequest> {
        self.open
            .get(&PairKey::Transaction(initiator, responder, tid & 0x7fff))
            .map(Request::answer)
    }

    /// A connectionless request from `client` to `server` with TID octet `tid`.
    pub fn request_cl(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        tid: u8,
        method: Cow<'static, str>,
        uri: Option<String>,
        frame: u64,
    ) -> u64 {
        self.insert(
            PairKey::Connectionless(client, server, tid),
            method,
            uri,
            frame,
        )
    }

    /// A connectionless reply from `server` to `client`.
    pub fn reply_cl(&self, server: SocketAddr, client: SocketAddr, tid: u8) -> Option<WspRequest> {
        self.open
            .get(&PairKey::Connectionless(client, server, tid))
            .map(Request::answer)
    }

    /// A fresh exchange number for a PDU that answers nothing (push, orphan reply).
    pub fn new_exchange(&mut self) -> u64 {
        let e = self.next_exchange;
        self.next_exchange += 1;
        e
    }
}

#[cfg(test)]
mod tests;
