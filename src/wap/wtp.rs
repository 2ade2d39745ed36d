//! WTP, the Wireless Transaction Protocol (WAP-224-WTP): PDU parsing (section 9), concatenated
//! PDUs (section 10.2, "Concatenation and separation"), and segmentation and reassembly (SAR,
//! section 8.14) of Invoke and Result messages.

use crate::net::origin::Origin;
use crate::tree::{FrameSpan, Node, Severity, Value};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Range;

/// WTP PDU types (WAP-224 table 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WtpPduType {
    Invoke,
    Result,
    Ack,
    Abort,
    SegmentedInvoke,
    SegmentedResult,
    NegativeAck,
    Unknown(u8),
}

impl WtpPduType {
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Invoke,
            2 => Self::Result,
            3 => Self::Ack,
            4 => Self::Abort,
            5 => Self::SegmentedInvoke,
            6 => Self::SegmentedResult,
            7 => Self::NegativeAck,
            c => Self::Unknown(c),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Invoke => 1,
            Self::Result => 2,
            Self::Ack => 3,
            Self::Abort => 4,
            Self::SegmentedInvoke => 5,
            Self::SegmentedResult => 6,
            Self::NegativeAck => 7,
            Self::Unknown(c) => c,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Invoke => "Invoke",
            Self::Result => "Result",
            Self::Ack => "Ack",
            Self::Abort => "Abort",
            Self::SegmentedInvoke => "Segmented Invoke",
            Self::SegmentedResult => "Segmented Result",
            Self::NegativeAck => "Negative Ack",
            Self::Unknown(_) => "Unknown",
        }
    }

    /// Invoke or Result data (the kinds SAR reassembles).
    pub fn carries_data(self) -> bool {
        matches!(
            self,
            Self::Invoke | Self::Result | Self::SegmentedInvoke | Self::SegmentedResult
        )
    }

    /// The message kind a segment belongs to: Invoke for (Segmented) Invoke, Result for
    /// (Segmented) Result.
    pub fn message_kind(self) -> Self {
        match self {
            Self::SegmentedInvoke => Self::Invoke,
            Self::SegmentedResult => Self::Result,
            t => t,
        }
    }
}

/// Header fields that only some PDU types have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WtpFields {
    Invoke {
        version: u8,
        tid_new: bool,
        /// U/P flag: the initiator wants a user acknowledgement.
        user_ack: bool,
        /// Transaction class 0, 1 or 2.
        class: u8,
    },
    Result,
    Ack {
        /// Tve/Tok flag: TID verification (from initiator) / TID OK (from responder).
        tve_tok: bool,
    },
    Abort {
        /// 0 = provider (WTP), 1 = user (WSP).
        abort_type: u8,
        reason: u8,
    },
    Segmented {
        psn: u8,
    },
    NegativeAck {
        /// PSNs the receiver asks to have re-sent.
        missing: Vec<u8>,
    },
    Unknown,
}

/// A Transport Information Item (WAP-224 section 9.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpi {
    pub identity: u8,
    /// The whole TPI (header and data), range in the parsed input.
    pub range: Range<usize>,
    /// The TPI's data, range in the parsed input.
    pub data: Range<usize>,
}

impl Tpi {
    pub fn name(&self) -> &'static str {
        match self.identity {
            0 => "Error",
            1 => "Info",
            2 => "Option",
            3 => "Packet Sequence Number",
            4 => "SDU Boundary",
            5 => "Frame Boundary",
            _ => "Unknown TPI",
        }
    }
}

/// One WTP PDU. Ranges refer to the input given to [`parse_wtp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtpPdu {
    pub pdu_type: WtpPduType,
    /// TPIs follow the fixed header.
    pub con: bool,
    /// Group trailer (Invoke/Result/segments).
    pub gtr: bool,
    /// Transmission trailer: last packet of the message.
    pub ttr: bool,
    /// Re-transmission indicator.
    pub rid: bool,
    /// The 16-bit TID as on the wire: the top bit is set in PDUs the responder sends.
    pub tid: u16,
    pub fields: WtpFields,
    pub tpis: Vec<Tpi>,
    /// Fixed header (without TPIs).
    pub header: Range<usize>,
    /// User data (the WSP PDU or segment of it).
    pub data: Range<usize>,
    /// The whole PDU.
    pub range: Range<usize>,
}

impl WtpPdu {
    /// TID without the direction bit.
    pub fn tid_value(&self) -> u16 {
        self.tid & 0x7fff
    }

    /// Sent by the responder (TID direction bit set).
    pub fn from_responder(&self) -> bool {
        self.tid & 0x8000 != 0
    }

    /// Packet sequence number: 0 for Invoke/Result, the PSN of a segment; for an Ack, the PSN
    /// TPI if it has one.
    pub fn psn(&self, input: &[u8]) -> Option<u8> {
        match &self.fields {
            WtpFields::Invoke { .. } | WtpFields::Result => Some(0),
            WtpFields::Segmented { psn } => Some(*psn),
            _ => self
                .tpis
                .iter()
                .find(|t| t.identity == 3 && t.data.len() == 1)
                .map(|t| input[t.data.start]),
        }
    }

    /// One line for a human, e.g. "Segmented Result TID 0x8002 PSN 5 GTR".
    pub fn summary(&self, input: &[u8]) -> String {
        let mut s = format!("{} TID {}", self.pdu_type.name(), self.tid_value());
        if let WtpFields::Segmented { psn } = self.fields {
            s.push_str(&format!(" PSN {psn}"));
        }
        if let Some(p) = (self.pdu_type == WtpPduType::Ack)
            .then(|| self.psn(input))
            .flatten()
        {
            s.push_str(&format!(" PSN {p}"));
        }
        if let WtpFields::NegativeAck { missing } = &self.fields {
            s.push_str(&format!(" missing {missing:?}"));
        }
        if self.gtr {
            s.push_str(" GTR");
        }
        if self.ttr {
            s.push_str(" TTR");
        }
        if self.rid {
            s.push_str(" RID (re-sent)");
        }
        s
    }

    /// The PDU's dissector tree, ranges on the input given to [`parse_wtp`].
    pub fn tree(&self, input: &[u8]) -> Node {
        let mut root = Node::group("WTP", self.summary(input), self.range.clone());
        let h0 = self.header.start..self.header.start + 1;
        let tidr = self.header.start + 1..self.header.start + 3;
        root.push(Node::new(
            "CON",
            self.con.to_string(),
            Value::Bool(self.con),
            h0.clone(),
        ));
        root.push(Node::new(
            "PDU type",
            self.pdu_type.name(),
            Value::Enum {
                code: u64::from(self.pdu_type.code()),
                name: self.pdu_type.name().into(),
            },
            h0.clone(),
        ));
        if self.pdu_type.carries_data() {
            root.push(Node::new(
                "GTR",
                self.gtr.to_string(),
                Value::Bool(self.gtr),
                h0.clone(),
            ));
            root.push(Node::new(
                "TTR",
                self.ttr.to_string(),
                Value::Bool(self.ttr),
                h0.clone(),
            ));
        }
        root.push(Node::new(
            "RID",
            if self.rid {
                "re-transmission"
            } else {
                "first transmission"
            },
            Value::Bool(self.rid),
            h0.clone(),
        ));
        root.push(Node::new(
            "TID",
            format!(
                "{} ({})",
                self.tid_value(),
                if self.from_responder() {
                    "responder to initiator"
                } else {
                    "initiator to responder"
                }
            ),
            Value::UInt(u64::from(self.tid_value())),
            tidr,
        ));
        let o4 = self.header.start + 3..self.header.start + 4;
        match &self.fields {
            WtpFields::Invoke {
                version,
                tid_new,
                user_ack,
                class,
            } => {
                root.push(Node::new(
                    "Version",
                    version.to_string(),
                    Value::UInt(u64::from(*version)),
                    o4.clone(),
                ));
                root.push(Node::new(
                    "TIDnew",
                    tid_new.to_string(),
                    Value::Bool(*tid_new),
                    o4.clone(),
                ));
                root.push(Node::new(
                    "U/P",
                    user_ack.to_string(),
                    Value::Bool(*user_ack),
                    o4.clone(),
                ));
                root.push(Node::new(
                    "Transaction class",
                    class.to_string(),
                    Value::UInt(u64::from(*class)),
                    o4,
                ));
            }
            WtpFields::Ack { tve_tok } => {
                root.push(Node::new(
                    "Tve/Tok",
                    tve_tok.to_string(),
                    Value::Bool(*tve_tok),
                    h0,
                ));
            }
            WtpFields::Abort { abort_type, reason } => {
                root.push(Node::new(
                    "Abort type",
                    if *abort_type == 0 {
                        "provider (WTP)"
                    } else {
                        "user (WSP)"
                    },
                    Value::UInt(u64::from(*abort_type)),
                    h0,
                ));
                root.push(Node::new(
                    "Abort reason",
                    abort_reason_name(*abort_type, *reason),
                    Value::Enum {
                        code: u64::from(*reason),
                        name: abort_reason_name(*abort_type, *reason).into(),
                    },
                    o4,
                ));
            }
            WtpFields::Segmented { psn } => {
                root.push(Node::new(
                    "PSN",
                    psn.to_string(),
                    Value::UInt(u64::from(*psn)),
                    o4,
                ));
            }
            WtpFields::NegativeAck { missing } => {
                let mut n = Node::new(
                    "Missing packets",
                    format!("{} {:?}", missing.len(), missing),
                    Value::UInt(missing.len() as u64),
                    o4.start..self.header.end,
                );
                for (i, p) in missing.iter().enumerate() {
                    let at = o4.start + 1 + i;
                    n.push(Node::new(
                        "Missing PSN",
                        p.to_string(),
                        Value::UInt(u64::from(*p)),
                        at..at + 1,
                    ));
                }
                root.push(n);
            }
            WtpFields::Result | WtpFields::Unknown => {}
        }
        for t in &self.tpis {
            let d = &input[t.data.clone()];
            let display = match t.identity {
                3 if d.len() == 1 => format!("PSN {}", d[0]),
                2 if !d.is_empty() => format!(
                    "{} = {}",
                    option_name(d[0]),
                    d[1..].iter().fold(0u64, |a, b| a << 8 | u64::from(*b))
                ),
                _ => format!("{} bytes", d.len()),
            };
            root.push(Node::new(
                format!("TPI {}", t.name()),
                display,
                Value::Bytes,
                t.range.clone(),
            ));
        }
        if !self.data.is_empty() {
            root.push(Node::new(
                "User data",
                format!("{} bytes", self.data.len()),
                Value::Bytes,
                self.data.clone(),
            ));
        }
        root
    }
}

fn option_name(id: u8) -> &'static str {
    match id {
        1 => "Maximum Receive Unit",
        2 => "Total Message Size",
        3 => "Delay Transmission Timer",
        4 => "Maximum Group",
        5 => "Current TID",
        6 => "No Cached TID",
        _ => "Option",
    }
}

/// Abort reason names (WAP-224 tables 13 and 14 / WSP table 35).
pub fn abort_reason_name(abort_type: u8, reason: u8) -> &'static str {
    if abort_type == 0 {
        match reason {
            0x00 => "UNKNOWN",
            0x01 => "PROTOERR",
            0x02 => "INVALIDTID",
            0x03 => "NOTIMPLEMENTEDCL2",
            0x04 => "NOTIMPLEMENTEDSAR",
            0x05 => "NOTIMPLEMENTEDUACK",
            0x06 => "WTPVERSIONONE",
            0x07 => "CAPTEMPEXCEEDED",
            0x08 => "NORESPONSE",
            0x09 => "MESSAGETOOLARGE",
            0x0a => "NOTIMPLEMENTEDESAR",
            _ => "unknown provider reason",
        }
    } else {
        match reason {
            0xe0 => "PROTOERR",
            0xe1 => "DISCONNECT",
            0xe2 => "SUSPEND",
            0xe3 => "RESUME",
            0xe4 => "CONGESTION",
            0xe5 => "CONNECTERR",
            0xe6 => "MRUEXCEEDED",
            0xe7 => "MOREXCEEDED",
            0xe8 => "PEERREQ",
            0xe9 => "NETERR",
            0xea => "USERREQ",
            0xeb => "USERRFS",
            0xec => "USERPND",
            0xed => "USERDCR",
            0xee => "USERDCU",
            _ => "unknown user reason",
        }
    }
}

/// Why WTP bytes could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtpError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for WtpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WTP: {} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for WtpError {}

fn err(offset: usize, message: impl Into<String>) -> WtpError {
    WtpError {
        offset,
        message: message.into(),
    }
}

/// The PDUs of one datagram: nearly always one, held in place (a list allocated for every
/// datagram was a visible share of the WAP path).
pub type WtpPdus = smallvec::SmallVec<[WtpPdu; 1]>;

/// Parse a UDP payload as WTP: one PDU, or several concatenated ones (first octet 0x00, each
/// PDU preceded by its length in 1 octet (7 bits) or 2 octets (15 bits, top bit set)).
pub fn parse_wtp(input: &[u8]) -> Result<WtpPdus, WtpError> {
    if input.is_empty() {
        return Err(err(0, "empty datagram"));
    }
    if input[0] != 0x00 {
        return Ok(smallvec::smallvec![parse_pdu(input, 0..input.len())?]);
    }
    let mut out = WtpPdus::new();
    let mut pos = 1;
    while pos < input.len() {
        let b = input[pos];
        let (len, hl) = if b & 0x80 != 0 {
            let Some(&b2) = input.get(pos + 1) else {
                return Err(err(pos, "truncated 2-octet length of a concatenated PDU"));
            };
            ((usize::from(b & 0x7f) << 8) | usize::from(b2), 2)
        } else {
            (usize::from(b), 1)
        };
        let start = pos + hl;
        let end = start + len;
        if end > input.len() {
            return Err(err(
                pos,
                format!(
                    "concatenated PDU of {len} bytes but only {} left",
                    input.len().saturating_sub(start)
                ),
            ));
        }
        if len == 0 {
            return Err(err(pos, "concatenated PDU of length 0"));
        }
        out.push(parse_pdu(input, start..end)?);
        pos = end;
    }
    if out.is_empty() {
        return Err(err(0, "concatenation marker without PDUs"));
    }
    Ok(out)
}

/// Parse the single PDU occupying `range` of `input`.
fn parse_pdu(input: &[u8], range: Range<usize>) -> Result<WtpPdu, WtpError> {
    let d = &input[range.clone()];
    let base = range.start;
    if d.len() < 3 {
        return Err(err(
            base,
            format!(
                "PDU of {} bytes is shorter than the 3-octet fixed header",
                d.len()
            ),
        ));
    }
    let b0 = d[0];
    let con = b0 & 0x80 != 0;
    let pdu_type = WtpPduType::from_code((b0 >> 3) & 0x0f);
    let tid = u16::from_be_bytes([d[1], d[2]]);
    let need = |n: usize| {
        if d.len() < n {
            Err(err(
                base,
                format!(
                    "{} PDU needs {n} header octets, has {}",
                    pdu_type.name(),
                    d.len()
                ),
            ))
        } else {
            Ok(())
        }
    };
    let (mut gtr, mut ttr) = (false, false);
    let mut rid = b0 & 0x01 != 0;
    let (fields, hlen) = match pdu_type {
        WtpPduType::Invoke => {
            need(4)?;
            gtr = b0 & 0x04 != 0;
            ttr = b0 & 0x02 != 0;
            (
                WtpFields::Invoke {
                    version: d[3] >> 6,
                    tid_new: d[3] & 0x20 != 0,
                    user_ack: d[3] & 0x10 != 0,
                    class: d[3] & 0x03,
                },
                4,
            )
        }
        WtpPduType::Result => {
            gtr = b0 & 0x04 != 0;
            ttr = b0 & 0x02 != 0;
            (WtpFields::Result, 3)
        }
        WtpPduType::Ack => (
            WtpFields::Ack {
                tve_tok: b0 & 0x04 != 0,
            },
            3,
        ),
        WtpPduType::Abort => {
            need(4)?;
            rid = false;
            (
                WtpFields::Abort {
                    abort_type: b0 & 0x07,
                    reason: d[3],
                },
                4,
            )
        }
        WtpPduType::SegmentedInvoke | WtpPduType::SegmentedResult => {
            need(4)?;
            gtr = b0 & 0x04 != 0;
            ttr = b0 & 0x02 != 0;
            (WtpFields::Segmented { psn: d[3] }, 4)
        }
        WtpPduType::NegativeAck => {
            need(4)?;
            let n = usize::from(d[3]);
            if d.len() < 4 + n {
                return Err(err(
                    base + 3,
                    format!(
                        "Negative Ack lists {n} missing packets, only {} present",
                        d.len() - 4
                    ),
                ));
            }
            (
                WtpFields::NegativeAck {
                    missing: d[4..4 + n].to_vec(),
                },
                4 + n,
            )
        }
        WtpPduType::Unknown(c) => return Err(err(base, format!("unknown WTP PDU type {c}"))),
    };
    let mut pos = hlen;
    let mut tpis = Vec::new();
    let mut more = con;
    while more {
        let Some(&t) = d.get(pos) else {
            return Err(err(base + pos, "CON flag set but no TPI follows"));
        };
        more = t & 0x80 != 0;
        let identity = (t >> 3) & 0x0f;
        let (len, th) = if t & 0x04 != 0 {
            let Some(&l) = d.get(pos + 1) else {
                return Err(err(base + pos, "truncated long TPI"));
            };
            (usize::from(l), 2)
        } else {
            (usize::from(t & 0x03), 1)
        };
        if pos + th + len > d.len() {
            return Err(err(
                base + pos,
                format!("TPI of {len} bytes runs past the PDU end"),
            ));
        }
        tpis.push(Tpi {
            identity,
            range: base + pos..base + pos + th + len,
            data: base + pos + th..base + pos + th + len,
        });
        pos += th + len;
        if tpis.len() > 64 {
            return Err(err(base + pos, "more than 64 TPIs"));
        }
    }
    Ok(WtpPdu {
        pdu_type,
        con,
        gtr,
        ttr,
        rid,
        tid,
        fields,
        tpis,
        header: base..base + hlen,
        data: base + pos..range.end,
        range,
    })
}

// ---------------------------------------------------------------------------------------------
// Segmentation and reassembly
// ---------------------------------------------------------------------------------------------

/// Identifies one message being reassembled: who sends the segments, to whom, and the TID
/// as on the wire (direction bit included, so an Invoke and its Result never mix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SarKey {
    pub sender: SocketAddr,
    pub receiver: SocketAddr,
    pub tid: u16,
}

/// Every segment looks its message up (and a completed one is remembered), so the key hashes
/// its endpoints packed ([`crate::net::hash_endpoints`]), then the TID.
impl std::hash::Hash for SarKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        crate::net::hash_endpoints(h, self.sender, self.receiver);
        h.write_u16(self.tid);
    }
}

/// Limits of the reassembler.
#[derive(Debug, Clone, Copy)]
pub struct SarLimits {
    /// Most segments in one message (the PSN is 8 bits: at most 256).
    pub max_segments: usize,
    /// Most bytes in one message.
    pub max_bytes: usize,
    /// Most messages being reassembled at once; the oldest is given up beyond it.
    pub max_open: usize,
    /// How many completed messages are remembered to recognise re-sent copies.
    pub remember_completed: usize,
}

impl Default for SarLimits {
    fn default() -> Self {
        SarLimits {
            max_segments: 256,
            max_bytes: 16 * 1024 * 1024,
            max_open: 4096,
            remember_completed: 4096,
        }
    }
}

#[derive(Debug, Clone)]
struct Segment {
    data: Vec<u8>,
    frame: u64,
}

/// Most bytes a message's buffer gets ahead of the bytes received, beyond doubling (see
/// `Partial::extend_prefix`).
const PREFIX_AHEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
struct Partial {
    kind: WtpPduType,
    /// The user data of PSN 0, 1, 2, … up to the first PSN not received, concatenated: the
    /// message as far as it is contiguous. Segments arriving in order (the usual case) are
    /// copied once, straight into it, and it becomes the message's data as it is.
    prefix: Vec<u8>,
    /// One span per segment in `prefix` (the span's index is its PSN).
    prefix_origin: Vec<FrameSpan>,
    /// Segments received beyond a gap, until the gap fills.
    later: BTreeMap<u8, Segment>,
    /// The PSNs received, one bit each: [`missing_psns`] runs on every segment pushed, and
    /// bit tests (a popcount when none is missing, the usual case) are much cheaper than a
    /// map look-up per PSN.
    received: PsnSet,
    /// Segments received (each PSN once).
    count: usize,
    /// The highest PSN received.
    highest: Option<u8>,
    last_psn: Option<u8>,
    bytes: usize,
    retransmitted: Vec<(u8, u64)>,
    duplicates: Vec<(u8, u64)>,
    nacks: Vec<(u64, Vec<u8>)>,
    notes: Vec<String>,
}

/// A reassembled (or, when segments never came, partially reassembled) WTP message.
#[derive(Debug, Clone, PartialEq)]
pub struct WtpMessage {
    pub key: SarKey,
    /// Invoke or Result.
    pub kind: WtpPduType,
    /// The user data of the segments, in PSN order (only the contiguous prefix from PSN 0
    /// when segments are missing).
    pub data: Vec<u8>,
    /// Which frame each byte came from: one span held in place, for a message of one PDU (most
    /// messages; a list allocated for each was a visible share of the WAP path's allocations).
    pub origin: Origin,
    /// Number of segments the message had (or, if incomplete, that were received).
    pub segments: usize,
    /// All segments up to the transmission trailer arrived.
    pub complete: bool,
    /// PSNs that never arrived (when incomplete). If the transmission trailer was never seen,
    /// the list ends at the highest PSN received and `last_psn_known` is false.
    pub missing: Vec<u8>,
    pub last_psn_known: bool,
    /// Segments that arrived with RID=1 (re-sent): (PSN, frame).
    pub retransmitted: Vec<(u8, u64)>,
    /// Segments received again and ignored: (PSN, frame).
    pub duplicates: Vec<(u8, u64)>,
    /// Negative Acks the receiver sent: (frame, PSNs asked for).
    pub nacks: Vec<(u64, Vec<u8>)>,
    /// When this whole message is a re-sent copy of one completed earlier: the frame that
    /// completed the first copy.
    pub retransmission_of: Option<u64>,
    pub notes: Vec<String>,
}

impl WtpMessage {
    pub fn frames(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.origin.iter().map(|s| s.frame).collect();
        v.dedup();
        v
    }

    pub fn last_frame(&self) -> Option<u64> {
        self.origin.iter().map(|s| s.frame).max()
    }

    /// The reassembly tree, ranges on `data` (buffer 0 = the reassembled bytes).
    pub fn tree(&self) -> Node {
        let state = if self.complete {
            format!("{} segments, {} bytes", self.segments, self.data.len())
        } else {
            format!(
                "INCOMPLETE: {} segments received, missing PSN {:?}{}",
                self.segments,
                self.missing,
                if self.last_psn_known {
                    ""
                } else {
                    " (last PSN unknown)"
                }
            )
        };
        let mut root = Node::group(
            "WTP reassembly",
            format!(
                "{} TID {}: {state}",
                self.kind.name(),
                self.key.tid & 0x7fff
            ),
            0..self.data.len(),
        );
        for (i, s) in self.origin.iter().enumerate() {
            root.push(Node::new(
                "Segment",
                format!("PSN {i}: frame {}, {} bytes", s.frame, s.len),
                Value::UInt(s.frame),
                s.offset..s.offset + s.len,
            ));
        }
        for (psn, frame) in &self.retransmitted {
            root.push(Node::expert(
                Severity::Note,
                "retransmission",
                format!("PSN {psn} re-sent (RID=1) in frame {frame}"),
                0..0,
            ));
        }
        for (psn, frame) in &self.duplicates {
            root.push(Node::expert(
                Severity::Note,
                "duplicate",
                format!("PSN {psn} received again in frame {frame}, ignored"),
                0..0,
            ));
        }
        for (frame, psns) in &self.nacks {
            root.push(Node::expert(
                Severity::Note,
                "nack",
                format!("Negative Ack in frame {frame} for PSN {psns:?}"),
                0..0,
            ));
        }
        if let Some(f) = self.retransmission_of {
            root.push(Node::expert(
                Severity::Note,
                "retransmission",
                format!("re-sent copy (RID=1) of the message completed in frame {f}"),
                0..self.data.len(),
            ));
        }
        if !self.complete {
            root.push(Node::expert(
                Severity::Error,
                "missing-segments",
                format!(
                    "segments never arrived: PSN {:?}; {} contiguous bytes from PSN 0 kept",
                    self.missing,
                    self.data.len()
                ),
                self.data.len()..self.data.len(),
            ));
        }
        for n in &self.notes {
            root.push(Node::expert(Severity::Warning, "sar", n.clone(), 0..0));
        }
        root
    }
}

/// What happened to a pushed segment.
#[derive(Debug, Clone, PartialEq)]
// Not boxed: every message completes once, and the caller takes the message out at once (a box
// was an allocation per message, freed right away).
#[allow(clippy::large_enum_variant)]
pub enum SarOutcome {
    /// A whole message: a single unsegmented PDU, or the segment that completed a message.
    Complete(WtpMessage),
    /// Stored; the message is not complete. `missing` lists the PSNs below the highest PSN
    /// received that are still absent (lost segments, until their re-send arrives).
    Pending { psn: u8, missing: Vec<u8> },
    /// This segment was already received: ignored (not counted twice).
    Duplicate { psn: u8, rid: bool },
    /// Refused because of a limit; says which.
    Rejected(String),
}

/// Reassembles WTP messages from their segments, per (sender, receiver, TID).
#[derive(Debug, Default)]
pub struct WtpReassembler {
    limits: SarLimits,
    open: crate::net::FlowMap<SarKey, Partial>,
    open_order: VecDeque<SarKey>,
    /// Completed messages: key → (frame that completed it, segment count).
    done: crate::net::FlowMap<SarKey, (u64, usize)>,
    done_order: VecDeque<SarKey>,
    evicted: Vec<WtpMessage>,
}

impl WtpReassembler {
    pub fn new(limits: SarLimits) -> Self {
        WtpReassembler {
            limits,
            ..Default::default()
        }
    }

    /// Feed a data-carrying PDU (Invoke, Result or a segment) parsed from `input`, sent from
    /// `sender` to `receiver` in capture frame `frame`. Other PDU types are ignored
    /// (`Rejected`).
    pub fn push(
        &mut self,
        sender: SocketAddr,
        receiver: SocketAddr,
        pdu: &WtpPdu,
        input: &[u8],
        frame: u64,
    ) -> SarOutcome {
        if !pdu.pdu_type.carries_data() {
            return SarOutcome::Rejected(format!("{} carries no user data", pdu.pdu_type.name()));
        }
        let key = SarKey {
            sender,
            receiver,
            tid: pdu.tid,
        };
        let psn = pdu.psn(input).unwrap_or(0);
        let data = &input[pdu.data.clone()];
        let first = psn == 0;
        // One look-up of the open message per segment (a look-up hashes two socket addresses
        // and compares them): the segment's bookkeeping works on the entry found or inserted,
        // and says what else the reassembler must do.
        let step = match self.open.get_mut(&key) {
            Some(p) => p.segment(pdu, psn, data, frame, &self.limits),
            // A single-PDU message: nothing to reassemble.
            None if first && pdu.ttr => return self.single(key, pdu, data, frame),
            None => {
                if (pdu.rid || !first) && self.done.contains_key(&key) {
                    // A segment of a message already delivered: re-sent or duplicated.
                    return SarOutcome::Duplicate { psn, rid: pdu.rid };
                }
                self.done.remove(&key);
                if self.open.len() >= self.limits.max_open
                    && let Some(old) = self.open_order.pop_front()
                    && let Some(p) = self.open.remove(&old)
                {
                    let mut m = finish(old, p, false);
                    m.notes.push(format!(
                        "given up: more than {} messages being reassembled at once",
                        self.limits.max_open
                    ));
                    self.evicted.push(m);
                }
                self.open_order.push_back(key);
                self.open
                    .entry(key)
                    .or_insert_with(|| Partial::new(pdu.pdu_type.message_kind()))
                    .segment(pdu, psn, data, frame, &self.limits)
            }
        };
        match step {
            Step::Pending(missing) => SarOutcome::Pending { psn, missing },
            Step::Duplicate => SarOutcome::Duplicate { psn, rid: pdu.rid },
            Step::Rejected(n) => SarOutcome::Rejected(n),
            Step::Superseded => {
                // RID=0 with a different PSN-0 payload is a new message reusing the TID.
                let old = self.open.remove(&key).expect("present");
                self.open_order.retain(|k| *k != key);
                let mut m = finish(key, old, false);
                m.notes.push(format!(
                    "superseded by a new message with the same TID in frame {frame}"
                ));
                self.evicted.push(m);
                self.push(sender, receiver, pdu, input, frame)
            }
            Step::Complete => {
                let p = self.open.remove(&key).expect("present");
                self.open_order.retain(|k| *k != key);
                let n = p.count;
                self.remember(key, frame, n);
                SarOutcome::Complete(finish(key, p, true))
            }
        }
    }

    /// A message of one PDU (PSN 0 with the transmission trailer, no message open on its key).
    fn single(&mut self, key: SarKey, pdu: &WtpPdu, data: &[u8], frame: u64) -> SarOutcome {
        // Only a re-sent PDU (RID=1) can be a copy of a message completed before.
        let retransmission_of = match pdu.rid.then(|| self.done.get(&key)).flatten() {
            Some(&(f, 1)) => Some(f),
            _ => None,
        };
        if retransmission_of.is_none() {
            self.remember(key, frame, 1);
        }
        SarOutcome::Complete(WtpMessage {
            key,
            kind: pdu.pdu_type.message_kind(),
            data: data.to_vec(),
            origin: smallvec::smallvec![FrameSpan {
                offset: 0,
                len: data.len(),
                frame,
            }],
            segments: 1,
            complete: true,
            missing: Vec::new(),
            last_psn_known: true,
            retransmitted: if pdu.rid {
                vec![(0, frame)]
            } else {
                Vec::new()
            },
            duplicates: Vec::new(),
            nacks: Vec::new(),
            retransmission_of,
            notes: Vec::new(),
        })
    }

    /// Record a Negative Ack sent by the receiver of a segmented message (`sender` of the NACK
    /// is the message's receiver). Returns false if no such message is being reassembled.
    pub fn nack(
        &mut self,
        sender: SocketAddr,
        receiver: SocketAddr,
        pdu: &WtpPdu,
        frame: u64,
    ) -> bool {
        let WtpFields::NegativeAck { missing } = &pdu.fields else {
            return false;
        };
        let key = SarKey {
            sender: receiver,
            receiver: sender,
            tid: pdu.tid ^ 0x8000,
        };
        match self.open.get_mut(&key) {
            Some(p) => {
                p.nacks.push((frame, missing.clone()));
                true
            }
            None => false,
        }
    }

    /// PSNs still missing in the message `key` (below its highest PSN received, and after it
    /// up to the transmission trailer when that is known).
    pub fn missing(&self, key: &SarKey) -> Option<Vec<u8>> {
        self.open.get(key).map(missing_psns)
    }

    /// Messages given up because of limits or TID reuse since the last call.
    pub fn take_evicted(&mut self) -> Vec<WtpMessage> {
        std::mem::take(&mut self.evicted)
    }

    /// End of capture: every message still incomplete, reassembled as far as possible
    /// (contiguous prefix from PSN 0) and saying which PSNs are missing.
    pub fn flush(&mut self) -> Vec<WtpMessage> {
        let mut out = self.take_evicted();
        for key in std::mem::take(&mut self.open_order) {
            if let Some(p) = self.open.remove(&key) {
                out.push(finish(key, p, false));
            }
        }
        out
    }

    fn remember(&mut self, key: SarKey, frame: u64, segments: usize) {
        if self.done.insert(key, (frame, segments)).is_none() {
            self.done_order.push_back(key);
        }
        while self.done.len() > self.limits.remember_completed {
            match self.done_order.pop_front() {
                Some(k) => {
                    self.done.remove(&k);
                }
                None => break,
            }
        }
    }
}

/// A set of PSNs (0–255).
#[derive(Debug, Clone, Copy, Default)]
struct PsnSet([u64; 4]);

impl PsnSet {
    fn insert(&mut self, psn: u8) {
        self.0[usize::from(psn >> 6)] |= 1 << (psn & 63);
    }

    fn contains(&self, psn: u8) -> bool {
        self.0[usize::from(psn >> 6)] & (1 << (psn & 63)) != 0
    }

    /// How many of the PSNs 0..=top are in the set.
    fn count_through(&self, top: u8) -> usize {
        let top = usize::from(top);
        (0..=top / 64)
            .map(|w| {
                let bits = if w == top / 64 {
                    // Bits 0..=top%64 of the last word.
                    u64::MAX >> (63 - top % 64)
                } else {
                    u64::MAX
                };
                (self.0[w] & bits).count_ones() as usize
            })
            .sum()
    }
}

/// What a segment did to its open message, beyond its own bookkeeping.
enum Step {
    /// Stored; these PSNs are still missing.
    Pending(Vec<u8>),
    /// Received before: noted, not stored again.
    Duplicate,
    /// Refused by a limit (the note says which).
    Rejected(String),
    /// A PSN 0 with other data and RID=0: a new message reusing the TID.
    Superseded,
    /// The message is whole.
    Complete,
}

impl Partial {
    fn new(kind: WtpPduType) -> Self {
        Partial {
            kind,
            prefix: Vec::new(),
            prefix_origin: Vec::new(),
            later: BTreeMap::new(),
            received: PsnSet::default(),
            count: 0,
            highest: None,
            last_psn: None,
            bytes: 0,
            retransmitted: Vec::new(),
            duplicates: Vec::new(),
            nacks: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Segment `psn` of this message, its user data `data`, arrived in `frame`.
    fn segment(
        &mut self,
        pdu: &WtpPdu,
        psn: u8,
        data: &[u8],
        frame: u64,
        limits: &SarLimits,
    ) -> Step {
        if self.received.contains(psn) {
            // RID=0 with a different PSN-0 payload is a new message reusing the TID. (PSN 0,
            // once received, always starts the prefix.)
            let psn0 = self.prefix_origin.first().map_or(0, |s| s.len);
            if psn == 0 && !pdu.rid && self.prefix[..psn0] != *data {
                return Step::Superseded;
            }
            self.duplicates.push((psn, frame));
            if pdu.rid {
                self.retransmitted.push((psn, frame));
            }
            return Step::Duplicate;
        }
        if self.count >= limits.max_segments || self.bytes + data.len() > limits.max_bytes {
            let n = format!(
                "segment PSN {psn} in frame {frame} refused: message exceeds {} segments or {} bytes",
                limits.max_segments, limits.max_bytes
            );
            self.notes.push(n.clone());
            return Step::Rejected(n);
        }
        if pdu.rid {
            self.retransmitted.push((psn, frame));
        }
        if pdu.ttr {
            if let Some(l) = self.last_psn
                && l != psn
            {
                self.notes.push(format!(
                    "two transmission trailers: PSN {l} and PSN {psn} (frame {frame})"
                ));
            }
            self.last_psn = Some(psn);
        }
        self.bytes += data.len();
        self.add(psn, data, frame);
        let missing = missing_psns(self);
        if self.last_psn.is_some() && missing.is_empty() {
            return Step::Complete;
        }
        Step::Pending(missing)
    }

    /// Store segment `psn` (not received before): onto the prefix when it is the next one
    /// (then also the later segments that became contiguous), else aside.
    fn add(&mut self, psn: u8, data: &[u8], frame: u64) {
        self.received.insert(psn);
        self.count += 1;
        self.highest = self.highest.max(Some(psn));
        if usize::from(psn) != self.prefix_origin.len() {
            let data = data.to_vec();
            self.later.insert(psn, Segment { data, frame });
            return;
        }
        self.extend_prefix(data, frame);
        // Segments come in order nearly always: no search of an empty map per segment.
        while !self.later.is_empty()
            && let Ok(next) = u8::try_from(self.prefix_origin.len())
            && let Some(seg) = self.later.remove(&next)
        {
            self.extend_prefix(&seg.data, seg.frame);
        }
    }

    fn extend_prefix(&mut self, data: &[u8], frame: u64) {
        let needed = self.prefix.len() + data.len();
        if needed > self.prefix.capacity() {
            // A segmented message is usually many segments of one size. Doubling from one
            // segment copied the prefix at every step (the copies were a visible share of the
            // batch path): room for several segments at once instead, but never more than
            // PREFIX_AHEAD beyond the bytes received (or, doubling, than the bytes received).
            let target = needed
                .saturating_mul(8)
                .min(needed + PREFIX_AHEAD)
                .max(self.prefix.capacity() * 2);
            self.prefix.reserve_exact(target - self.prefix.len());
            // The spans likewise, for as many segments of this size as the bytes have room
            // for (doubling from 4 spans was a few more allocations per message). At most one
            // span per PSN: 256 spans of 24 bytes.
            let segments = self.prefix.capacity() / data.len().max(1);
            let spans = segments.max(self.prefix_origin.len() + 1).min(256);
            self.prefix_origin
                .reserve_exact(spans.saturating_sub(self.prefix_origin.len()));
        }
        self.prefix_origin.push(FrameSpan {
            offset: self.prefix.len(),
            len: data.len(),
            frame,
        });
        self.prefix.extend_from_slice(data);
    }
}

fn missing_psns(p: &Partial) -> Vec<u8> {
    let top = match (p.last_psn, p.highest) {
        (Some(l), _) => l,
        (None, Some(h)) => h,
        (None, None) => return Vec::new(),
    };
    if p.received.count_through(top) == usize::from(top) + 1 {
        return Vec::new();
    }
    (0..=top).filter(|&k| !p.received.contains(k)).collect()
}

fn finish(key: SarKey, p: Partial, complete: bool) -> WtpMessage {
    let missing = missing_psns(&p);
    WtpMessage {
        key,
        kind: p.kind,
        data: p.prefix,
        origin: Origin::from_vec(p.prefix_origin),
        segments: p.count,
        complete,
        missing,
        last_psn_known: p.last_psn.is_some(),
        retransmitted: p.retransmitted,
        duplicates: p.duplicates,
        nacks: p.nacks,
        retransmission_of: None,
        notes: p.notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefix grows in few steps (8 segments, then up to PREFIX_AHEAD more, then doubling)
    /// and never holds more than PREFIX_AHEAD or the received size beyond the received bytes;
    /// the bytes are the segments' bytes in PSN order, whatever the order they came in.
    #[test]
    fn prefix_reserves_ahead_within_bounds() {
        let seg = |psn: u8| vec![psn; 1400];
        let want: Vec<u8> = (0..=199u8).flat_map(seg).collect();
        let in_order: Vec<u8> = (0..=199).collect();
        let late: Vec<u8> = (0..=199u8)
            .filter(|k| k % 50 != 7)
            .chain([7, 57, 107, 157])
            .collect();
        for (order, allocations) in [(in_order, Some(4)), (late, None)] {
            let mut p = Partial::new(WtpPduType::Result);
            let mut capacities = vec![];
            for psn in order {
                p.add(psn, &seg(psn), 1000 + u64::from(psn));
                let len = p.prefix.len();
                if len > 0 {
                    let ahead = p.prefix.capacity() - len;
                    assert!(ahead <= PREFIX_AHEAD.max(len), "{ahead} ahead of {len}");
                }
                if capacities.last() != Some(&p.prefix.capacity()) {
                    capacities.push(p.prefix.capacity());
                }
            }
            assert_eq!(p.prefix, want);
            assert_eq!(p.prefix_origin.len(), 200);
            assert_eq!(p.prefix_origin[57].frame, 1057);
            assert_eq!(p.prefix_origin[57].offset, 57 * 1400);
            // 280 000 bytes in 200 segments: 4 allocations (doubling from one segment, 9).
            if let Some(n) = allocations {
                assert_eq!(capacities.len(), n, "{capacities:?}");
            }
        }
    }

    fn addr(p: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], p))
    }

    /// The PSN bit set agrees with a plain list at the word edges (63/64, 127/128, 255).
    #[test]
    fn psn_set_counts_and_finds_missing_across_words() {
        let mut set = PsnSet::default();
        let have: Vec<u8> = (0..=255u8).filter(|&k| k % 7 != 3 || k > 200).collect();
        for &k in &have {
            set.insert(k);
        }
        for top in [0u8, 1, 62, 63, 64, 65, 127, 128, 200, 254, 255] {
            let expected = have.iter().filter(|&&k| k <= top).count();
            assert_eq!(set.count_through(top), expected, "top {top}");
        }
        assert!(set.contains(255) && set.contains(64) && !set.contains(3) && !set.contains(199));
    }

    #[test]
    fn parses_invoke_with_option_tpi() {
        // From wap_wsp_co_sar_get.pcapng frame 67: Invoke, CON, TTR, TID 2, class 2, TPI Option.
        let b = [0x8a, 0x00, 0x02, 0x12, 0x13, 0x04, 0x10, 0x68, 0x60, 0x15];
        let p = parse_wtp(&b).unwrap();
        assert_eq!(p.len(), 1);
        let p = &p[0];
        assert_eq!(p.pdu_type, WtpPduType::Invoke);
        assert!(p.con && p.ttr && !p.gtr && !p.rid);
        assert_eq!(p.tid, 2);
        assert_eq!(
            p.fields,
            WtpFields::Invoke {
                version: 0,
                tid_new: false,
                user_ack: true,
                class: 2
            }
        );
        assert_eq!(p.tpis.len(), 1);
        assert_eq!(p.tpis[0].identity, 2);
        assert_eq!(p.tpis[0].data, 5..8);
        assert_eq!(p.data, 8..10);
        let t = p.tree(&b);
        assert_eq!(
            t.child("TPI Option").unwrap().display,
            "Maximum Group = 4200"
        );
    }

    #[test]
    fn parses_ack_psn_tpi_nack_abort_and_segment() {
        let ack = [0x98, 0x00, 0x02, 0x19, 0x02];
        let p = &parse_wtp(&ack).unwrap()[0];
        assert_eq!(p.pdu_type, WtpPduType::Ack);
        assert_eq!(p.psn(&ack), Some(2));
        let nack = [0x38, 0x80, 0x05, 0x02, 0x07, 0x09];
        let p = &parse_wtp(&nack).unwrap()[0];
        assert_eq!(
            p.fields,
            WtpFields::NegativeAck {
                missing: vec![7, 9]
            }
        );
        let abort = [0x21, 0x80, 0x01, 0xe1];
        let p = &parse_wtp(&abort).unwrap()[0];
        assert_eq!(
            p.fields,
            WtpFields::Abort {
                abort_type: 1,
                reason: 0xe1
            }
        );
        assert!(p.from_responder());
        let seg = [0x34, 0x80, 0x02, 0x05, 0xaa, 0xbb];
        let p = &parse_wtp(&seg).unwrap()[0];
        assert_eq!(
            (p.pdu_type, p.gtr, p.ttr),
            (WtpPduType::SegmentedResult, true, false)
        );
        assert_eq!(p.psn(&seg), Some(5));
        assert_eq!(p.data, 4..6);
        assert!(parse_wtp(&[0x38, 0x80, 0x05, 0x03, 0x07]).is_err());
        assert!(parse_wtp(&[0x8a, 0x00, 0x02, 0x12]).is_err()); // CON without TPI
    }

    #[test]
    fn parses_concatenated_pdus() {
        // Ack (3 octets) + Result with data (5 octets), short lengths; then a 2-octet length.
        let b = [
            0x00, 0x03, 0x18, 0x00, 0x01, 0x05, 0x12, 0x80, 0x01, 0x04, 0x20,
        ];
        let p = parse_wtp(&b).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].pdu_type, WtpPduType::Ack);
        assert_eq!(p[1].pdu_type, WtpPduType::Result);
        assert_eq!(&b[p[1].data.clone()], &[0x04, 0x20]);
        let b2 = [0x00, 0x80, 0x03, 0x18, 0x00, 0x01];
        assert_eq!(parse_wtp(&b2).unwrap()[0].range, 3..6);
        assert!(parse_wtp(&[0x00, 0x09, 0x18]).is_err());
    }

    fn seg(kind: u8, gtr: bool, ttr: bool, rid: bool, psn: u8, data: &[u8]) -> Vec<u8> {
        let mut b0 = kind << 3;
        if gtr {
            b0 |= 4;
        }
        if ttr {
            b0 |= 2;
        }
        if rid {
            b0 |= 1;
        }
        // Results come from the responder (TID direction bit set), Invokes from the initiator.
        let mut v = if kind == 1 || kind == 5 {
            vec![b0, 0x00, 0x07]
        } else {
            vec![b0, 0x80, 0x07]
        };
        match kind {
            1 => v.push(0x12), // version 0, U/P, class 2
            5 | 6 => v.push(psn),
            _ => {}
        }
        v.extend_from_slice(data);
        v
    }

    fn push(r: &mut WtpReassembler, b: &[u8], frame: u64) -> SarOutcome {
        let p = parse_wtp(b).unwrap().remove(0);
        r.push(addr(9201), addr(5000), &p, b, frame)
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates_and_resend() {
        let mut r = WtpReassembler::default();
        assert!(matches!(
            push(&mut r, &seg(2, false, false, false, 0, b"AA"), 1),
            SarOutcome::Pending { psn: 0, .. }
        ));
        // PSN 2 before 1.
        match push(&mut r, &seg(6, true, false, false, 2, b"CC"), 2) {
            SarOutcome::Pending { missing, .. } => assert_eq!(missing, [1]),
            o => panic!("{o:?}"),
        }
        // Duplicate of PSN 2 ignored.
        assert_eq!(
            push(&mut r, &seg(6, true, false, false, 2, b"CC"), 3),
            SarOutcome::Duplicate { psn: 2, rid: false }
        );
        match push(&mut r, &seg(6, false, true, false, 3, b"DD"), 4) {
            SarOutcome::Pending { missing, .. } => assert_eq!(missing, [1]),
            o => panic!("{o:?}"),
        }
        let key = SarKey {
            sender: addr(9201),
            receiver: addr(5000),
            tid: 0x8007,
        };
        assert_eq!(r.missing(&key), Some(vec![1]));
        let nack = [0x38, 0x00, 0x07, 0x01, 0x01];
        let np = parse_wtp(&nack).unwrap().remove(0);
        assert!(r.nack(addr(5000), addr(9201), &np, 5));
        let SarOutcome::Complete(m) = push(&mut r, &seg(6, true, false, true, 1, b"BB"), 6) else {
            panic!()
        };
        assert_eq!(m.data, b"AABBCCDD");
        assert!(m.complete);
        assert_eq!(m.retransmitted, [(1, 6)]);
        assert_eq!(m.duplicates, [(2, 3)]);
        assert_eq!(m.nacks, [(5, vec![1])]);
        assert_eq!(m.frames(), [1, 6, 2, 4]);
        assert_eq!(
            m.origin[1],
            FrameSpan {
                offset: 2,
                len: 2,
                frame: 6
            }
        );
        // A late re-send of a segment of a delivered message is a duplicate.
        assert_eq!(
            push(&mut r, &seg(6, false, false, true, 2, b"CC"), 7),
            SarOutcome::Duplicate { psn: 2, rid: true }
        );
    }

    /// A PSN 0 with RID=0 and other data is a new message reusing the TID: the old one is
    /// given up (kept as far as it came), the new one reassembles from its own PSN 0; the
    /// same PSN 0 again is a duplicate.
    #[test]
    fn tid_reuse_supersedes_the_open_message() {
        let mut r = WtpReassembler::default();
        push(&mut r, &seg(2, false, false, false, 0, b"AA"), 1);
        assert_eq!(
            push(&mut r, &seg(2, false, false, false, 0, b"AA"), 2),
            SarOutcome::Duplicate { psn: 0, rid: false }
        );
        push(&mut r, &seg(2, false, false, false, 0, b"ZZ"), 3);
        let old = r.take_evicted();
        assert_eq!(old.len(), 1);
        assert_eq!(
            (old[0].data.as_slice(), old[0].complete),
            (&b"AA"[..], false)
        );
        assert!(old[0].notes[0].contains("superseded") && old[0].notes[0].contains("frame 3"));
        let SarOutcome::Complete(m) = push(&mut r, &seg(6, false, true, false, 1, b"BB"), 4) else {
            panic!()
        };
        assert_eq!((m.data.as_slice(), m.segments), (&b"ZZBB"[..], 2));
        assert_eq!(m.frames(), [3, 4]);
    }

    #[test]
    fn missing_segments_give_contiguous_prefix() {
        let mut r = WtpReassembler::default();
        push(&mut r, &seg(2, false, false, false, 0, b"AA"), 1);
        push(&mut r, &seg(6, false, false, false, 1, b"BB"), 2);
        push(&mut r, &seg(6, false, true, false, 4, b"EE"), 3);
        let out = r.flush();
        assert_eq!(out.len(), 1);
        assert!(!out[0].complete);
        assert_eq!(out[0].data, b"AABB");
        assert_eq!(out[0].missing, [2, 3]);
        assert!(out[0].last_psn_known);
        assert_eq!(out[0].tree().worst(), Some(Severity::Error));
    }

    #[test]
    fn single_pdu_resend_is_flagged() {
        let mut r = WtpReassembler::default();
        let SarOutcome::Complete(a) = push(&mut r, &seg(2, false, true, false, 0, b"X"), 1) else {
            panic!()
        };
        assert_eq!(a.retransmission_of, None);
        let SarOutcome::Complete(b) = push(&mut r, &seg(2, false, true, true, 0, b"X"), 2) else {
            panic!()
        };
        assert_eq!(b.retransmission_of, Some(1));
        // A new message on the same TID (RID=0) is new.
        let SarOutcome::Complete(c) = push(&mut r, &seg(2, false, true, false, 0, b"Y"), 3) else {
            panic!()
        };
        assert_eq!(c.retransmission_of, None);
    }

    #[test]
    fn segmented_invoke_reassembles_in_groups() {
        let mut r = WtpReassembler::default();
        let client = addr(5000);
        let gw = addr(9201);
        let mut push = |b: &[u8], frame| {
            let p = parse_wtp(b).unwrap().remove(0);
            r.push(client, gw, &p, b, frame)
        };
        // Group 1: PSN 0-1 (GTR on 1), group 2: PSN 2-3 (TTR on 3).
        assert!(matches!(
            push(&seg(1, false, false, false, 0, b"P0"), 1),
            SarOutcome::Pending { .. }
        ));
        assert!(matches!(
            push(&seg(5, true, false, false, 1, b"P1"), 2),
            SarOutcome::Pending { .. }
        ));
        assert!(matches!(
            push(&seg(5, false, false, false, 2, b"P2"), 3),
            SarOutcome::Pending { .. }
        ));
        let SarOutcome::Complete(m) = push(&seg(5, false, true, false, 3, b"P3"), 4) else {
            panic!()
        };
        assert_eq!(m.kind, WtpPduType::Invoke);
        assert_eq!(m.data, b"P0P1P2P3");
        assert_eq!(m.key.tid, 7);
        assert_eq!(m.frames(), [1, 2, 3, 4]);
    }

    #[test]
    fn segment_limit_is_enforced() {
        let mut r = WtpReassembler::new(SarLimits {
            max_segments: 2,
            ..SarLimits::default()
        });
        push(&mut r, &seg(2, false, false, false, 0, b"A"), 1);
        push(&mut r, &seg(6, false, false, false, 1, b"B"), 2);
        assert!(matches!(
            push(&mut r, &seg(6, false, true, false, 2, b"C"), 3),
            SarOutcome::Rejected(_)
        ));
    }
}
