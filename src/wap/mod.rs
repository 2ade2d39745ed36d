//! WAP bearers of MMS: WTP (transactions, segmentation and reassembly) and WSP (sessions,
//! methods, push), as a WAP gateway such as Kannel speaks them on UDP 9200/9201/2948.
//!
//! [`WapDecoder`] joins the layers for the pipeline: it takes UDP datagrams, parses WTP,
//! reassembles segmented messages, frames the WSP PDUs they carry and pairs replies with
//! requests. It is a pure state machine: datagrams in, [`WapEvent`]s out.

pub mod wsp;
pub mod wtp;

use crate::net::origin::Origin;
use crate::tree::{Buffer, Dissection, FrameSpan, Node, Severity, Value};
use compact_str::CompactString;
use std::net::SocketAddr;
use wsp::{WspPairer, WspPdu, WspPduType, WspRequest, parse_wsp};
use wtp::{SarLimits, SarOutcome, WtpFields, WtpMessage, WtpPduType, WtpReassembler, parse_wtp};

/// WSP connectionless (datagram) port.
pub const PORT_WSP_CL: u16 = 9200;
/// WSP over WTP (connection-oriented) port.
pub const PORT_WSP_CO: u16 = 9201;
/// Connectionless push port on the handset.
pub const PORT_PUSH_CL: u16 = 2948;
/// Connection-oriented push port on the handset.
pub const PORT_PUSH_CO: u16 = 2949;

/// How WSP travels in a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WapMode {
    /// Connectionless WSP: a TID octet, then the PDU (UDP 9200, push 2948).
    Connectionless,
    /// WSP inside WTP (UDP 9201, push 2949).
    ConnectionOriented,
}

/// Decide whether a UDP datagram is WAP, and in which mode: by port when one side uses a WAP
/// port, otherwise by content (a connectionless WSP PDU or a single WTP PDU whose WSP data is
/// an MMS PDU), so MMS is found on any port.
pub fn classify(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Option<WapMode> {
    let ports = [src.port(), dst.port()];
    if ports.contains(&PORT_WSP_CO) || ports.contains(&PORT_PUSH_CO) {
        return Some(WapMode::ConnectionOriented);
    }
    if ports.contains(&PORT_WSP_CL) || ports.contains(&PORT_PUSH_CL) {
        return Some(WapMode::Connectionless);
    }
    if let Ok(p) = parse_wsp(payload, 0..payload.len(), true)
        && p.is_mms(payload)
    {
        return Some(WapMode::Connectionless);
    }
    if let Ok(pdus) = parse_wtp(payload)
        && pdus.iter().any(|p| {
            p.pdu_type.carries_data()
                && p.ttr
                && parse_wsp(payload, p.data.clone(), false).is_ok_and(|w| w.is_mms(payload))
        })
    {
        return Some(WapMode::ConnectionOriented);
    }
    None
}

/// A complete WSP PDU (from one datagram or reassembled from WTP segments).
#[derive(Debug, Clone, PartialEq)]
pub struct WspMessage {
    /// The frame that completed it: the highest frame number among its bytes (segments are
    /// fed in capture order).
    pub frame: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub mode: WapMode,
    /// The bytes the WSP PDU was framed from: the datagram payload (connectionless) or the
    /// WTP user data, reassembled (connection-oriented).
    pub data: Vec<u8>,
    /// Frame origin of `data`.
    pub origin: Origin,
    /// Ranges refer to `data`. `None` when WSP framing failed (see `notes`).
    pub pdu: Option<WspPdu>,
    /// Connection-oriented: the WTP reassembly record (its `data` and `origin` are left empty;
    /// the bytes and their spans are in `data` and `origin` above).
    pub wtp: Option<WtpMessage>,
    /// For a reply: the request it answers.
    pub answers: Option<WspRequest>,
    /// Exchange number shared by a request and its reply.
    pub exchange: u64,
    /// A re-sent copy (WTP RID=1) of the PDU completed in this frame.
    pub retransmission_of: Option<u64>,
    /// False when WTP segments are missing: `data` holds the contiguous prefix.
    pub complete: bool,
    /// Problems on the way, each saying where.
    pub notes: Vec<String>,
}

impl WspMessage {
    pub fn body(&self) -> &[u8] {
        self.pdu.as_ref().map(|p| p.body(&self.data)).unwrap_or(&[])
    }

    pub fn is_mms(&self) -> bool {
        self.pdu.as_ref().is_some_and(|p| p.is_mms(&self.data))
    }

    pub fn is_push(&self) -> bool {
        self.pdu.as_ref().is_some_and(|p| p.pdu_type.is_push())
    }

    pub fn frames(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.origin.iter().map(|s| s.frame).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Method for requests ("Get", "Post", "Push"), "Reply" for replies.
    pub fn method(&self) -> Option<String> {
        self.pdu.as_ref().map(|p| p.pdu_type.name())
    }

    /// The request URI (for a reply: the URI of the request it answers).
    pub fn uri(&self) -> Option<&str> {
        self.pdu
            .as_ref()
            .and_then(|p| p.uri.as_deref())
            .or_else(|| self.answers.as_ref().and_then(|a| a.uri.as_deref()))
    }

    /// How this PDU travelled, for `PduRecord::transport`.
    pub fn transport(&self) -> crate::model::Transport {
        if self.is_push() {
            crate::model::Transport::WspPush
        } else {
            crate::model::Transport::Wsp
        }
    }

    /// The carrier record; `flow` identifies the peer pair, so that (flow, exchange) pairs a
    /// request with its reply.
    pub fn carrier(&self, flow: u64) -> crate::model::Carrier {
        let pdu = self.pdu.as_ref();
        let is_response = pdu.is_some_and(|p| {
            matches!(
                p.pdu_type,
                WspPduType::Reply | WspPduType::ConnectReply | WspPduType::Redirect
            )
        });
        let mut summary = pdu
            .map(|p| p.summary())
            .unwrap_or_else(|| "WSP (not decodable)".into());
        if let Some(a) = &self.answers {
            summary.push_str(" (answers ");
            summary.push_str(&a.method);
            summary.push(' ');
            crate::tree::push_escaped(&mut summary, a.uri.as_deref().unwrap_or(""));
            summary.push(')');
        }
        if self.retransmission_of.is_some() {
            summary.push_str(" [re-sent]");
        }
        crate::model::Carrier {
            method: self.method().map(CompactString::from),
            uri: self.uri().map(CompactString::from),
            status: pdu.and_then(|p| p.http_status()),
            summary: summary.into(),
            exchange: Some((flow, self.exchange)),
            is_response,
        }
    }

    /// Range of the WSP data (the body) in `data`: the MMS dissector's input. Its tree must be
    /// shifted by `body_range().start` to sit on buffer 0 of [`WspMessage::dissection`].
    pub fn body_range(&self) -> std::ops::Range<usize> {
        self.pdu
            .as_ref()
            .map(|p| p.body.clone())
            .unwrap_or(self.data.len()..self.data.len())
    }

    /// A dissection with one buffer (`data`, with its frame origins) and the WTP/WSP layers.
    pub fn dissection(&self) -> Dissection {
        let mut d = Dissection::default();
        let name = match (&self.wtp, self.origin.len()) {
            (Some(_), n) if n > 1 => format!("Reassembled WTP ({n} segments)"),
            (Some(_), _) => "WTP user data".to_string(),
            (None, _) => "WSP datagram".to_string(),
        };
        let mut b = Buffer::new(name, &self.data[..]);
        b.origin = self.origin.to_vec();
        let id = d.add_buffer(b);
        for l in self.layers() {
            d.add_layer(l, id);
        }
        d
    }

    /// Layers decoded from `data` (buffer 0): the WTP reassembly (connection-oriented) and
    /// the WSP PDU.
    pub fn layers(&self) -> Vec<Node> {
        let mut v = Vec::new();
        if let Some(w) = &self.wtp {
            let mut w = w.clone();
            w.data = self.data.clone();
            w.origin = self.origin.clone();
            v.push(w.tree());
        }
        let mut wsp = match &self.pdu {
            Some(p) => p.tree(&self.data),
            None => Node::group("WSP", "not decodable", 0..self.data.len()),
        };
        if let Some(a) = &self.answers {
            wsp.push(Node::new(
                "Answers",
                format!(
                    "{} {}",
                    a.method,
                    crate::tree::escape_text(a.uri.as_deref().unwrap_or(""))
                ),
                Value::UInt(a.frame),
                0..0,
            ));
        }
        if let Some(f) = self.retransmission_of {
            wsp.push(Node::expert(
                Severity::Note,
                "retransmission",
                format!("re-sent copy of the PDU in frame {f}"),
                0..0,
            ));
        }
        for n in &self.notes {
            wsp.push(Node::expert(
                if self.complete {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                "wap",
                n.clone(),
                0..0,
            ));
        }
        v.push(wsp);
        v
    }
}

/// What the decoder reports for a datagram.
#[derive(Debug, Clone, PartialEq)]
pub enum WapEvent {
    Wsp(Box<WspMessage>),
    /// A WTP PDU, for the packet list: its tree (ranges on the datagram payload). `missing`
    /// lists PSNs still missing in the message this segment belongs to.
    Wtp {
        frame: u64,
        summary: String,
        tree: Node,
        missing: Vec<u8>,
    },
    /// The datagram could not be parsed.
    Error {
        frame: u64,
        message: String,
    },
}

/// WTP + WSP decoder for all WAP datagrams of a capture.
#[derive(Debug)]
pub struct WapDecoder {
    sar: WtpReassembler,
    pairer: WspPairer,
    /// Report each WTP PDU as a [`WapEvent::Wtp`] (see [`WapDecoder::without_wtp_pdus`]).
    wtp_pdus: bool,
}

impl Default for WapDecoder {
    fn default() -> Self {
        WapDecoder::new(SarLimits::default())
    }
}

impl WapDecoder {
    pub fn new(limits: SarLimits) -> Self {
        WapDecoder {
            sar: WtpReassembler::new(limits),
            pairer: WspPairer::default(),
            wtp_pdus: true,
        }
    }

    /// A decoder that reports WSP messages and errors but no [`WapEvent::Wtp`], for a caller
    /// that ignores them (the pipeline): building each WTP PDU's tree, summary line and list
    /// of missing PSNs was a tenth of the batch path's time on WAP traffic. Reassembly and the
    /// WSP messages are the same.
    pub fn without_wtp_pdus(mut self) -> Self {
        self.wtp_pdus = false;
        self
    }

    /// Decode one UDP datagram of a WAP flow.
    pub fn datagram(
        &mut self,
        mode: WapMode,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        frame: u64,
    ) -> Vec<WapEvent> {
        let mut out = Vec::new();
        self.datagram_into(mode, src, dst, payload, frame, &mut out);
        out
    }

    /// [`WapDecoder::datagram`], appending the events to `out`: a caller that keeps `out` from
    /// datagram to datagram saves a list allocated for every datagram that completes a message.
    pub fn datagram_into(
        &mut self,
        mode: WapMode,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        frame: u64,
        out: &mut Vec<WapEvent>,
    ) {
        match mode {
            WapMode::Connectionless => out.push(self.connectionless(src, dst, payload, frame)),
            WapMode::ConnectionOriented => {
                self.connection_oriented(src, dst, payload, frame, out);
            }
        }
    }

    fn connectionless(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        frame: u64,
    ) -> WapEvent {
        let pdu = match parse_wsp(payload, 0..payload.len(), true) {
            Ok(p) => p,
            Err(e) => {
                return WapEvent::Error {
                    frame,
                    message: format!("frame {frame}: {e}"),
                };
            }
        };
        let tid = pdu.tid.unwrap_or(0);
        let (answers, exchange) = if pdu.pdu_type.is_request() {
            let ex =
                self.pairer
                    .request_cl(src, dst, tid, pdu.pdu_type.label(), pdu.uri.clone(), frame);
            (None, ex)
        } else if matches!(
            pdu.pdu_type,
            WspPduType::Reply | WspPduType::ConnectReply | WspPduType::Redirect
        ) {
            match self.pairer.reply_cl(src, dst, tid) {
                Some(r) => {
                    let ex = r.exchange;
                    (Some(r), ex)
                }
                None => (None, self.pairer.new_exchange()),
            }
        } else {
            (None, self.pairer.new_exchange())
        };
        WapEvent::Wsp(Box::new(WspMessage {
            frame,
            src,
            dst,
            mode: WapMode::Connectionless,
            data: payload.to_vec(),
            origin: smallvec::smallvec![FrameSpan {
                offset: 0,
                len: payload.len(),
                frame,
            }],
            pdu: Some(pdu),
            wtp: None,
            answers,
            exchange,
            retransmission_of: None,
            complete: true,
            notes: Vec::new(),
        }))
    }

    fn connection_oriented(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        frame: u64,
        out: &mut Vec<WapEvent>,
    ) {
        let pdus = match parse_wtp(payload) {
            Ok(p) => p,
            Err(e) => {
                out.push(WapEvent::Error {
                    frame,
                    message: format!("frame {frame}: {e}"),
                });
                return;
            }
        };
        for pdu in &pdus {
            let mut missing = Vec::new();
            let mut complete = None;
            if pdu.pdu_type.carries_data() {
                match self.sar.push(src, dst, pdu, payload, frame) {
                    SarOutcome::Complete(m) => complete = Some(m),
                    SarOutcome::Pending { missing: m, .. } => missing = m,
                    SarOutcome::Duplicate { .. } | SarOutcome::Rejected(_) => {}
                }
            } else if let WtpFields::NegativeAck { .. } = pdu.fields {
                self.sar.nack(src, dst, pdu, frame);
            }
            if self.wtp_pdus {
                let mut summary = pdu.summary(payload);
                if !missing.is_empty() {
                    summary.push_str(&format!(" (missing PSN {missing:?})"));
                }
                out.push(WapEvent::Wtp {
                    frame,
                    summary,
                    tree: pdu.tree(payload),
                    missing,
                });
            }
            if let Some(m) = complete {
                out.push(self.wsp_from_wtp(m, frame));
            }
        }
        for m in self.sar.take_evicted() {
            out.push(self.wsp_from_wtp(m, frame));
        }
    }

    fn wsp_from_wtp(&mut self, mut m: WtpMessage, frame: u64) -> WapEvent {
        let data = std::mem::take(&mut m.data);
        let mut notes = Vec::new();
        if !m.complete {
            notes.push(format!(
                "WTP {} TID {}: segments PSN {:?} never arrived; {} contiguous bytes decoded",
                m.kind.name(),
                m.key.tid & 0x7fff,
                m.missing,
                data.len()
            ));
        }
        let pdu = match parse_wsp(&data, 0..data.len(), false) {
            Ok(p) => Some(p),
            Err(e) => {
                notes.push(e.to_string());
                None
            }
        };
        let (src, dst, tid) = (m.key.sender, m.key.receiver, m.key.tid);
        let (answers, exchange) = match (m.kind, &pdu) {
            (WtpPduType::Invoke, Some(p)) if p.pdu_type.is_request() => {
                if m.retransmission_of.is_some() {
                    let r = self.pairer.reply_co(dst, src, tid);
                    (
                        None,
                        r.map(|r| r.exchange)
                            .unwrap_or_else(|| self.pairer.new_exchange()),
                    )
                } else {
                    (
                        None,
                        self.pairer.request_co(
                            src,
                            dst,
                            tid,
                            p.pdu_type.label(),
                            p.uri.clone(),
                            frame,
                        ),
                    )
                }
            }
            (WtpPduType::Result, _) => match self.pairer.reply_co(src, dst, tid) {
                Some(r) => {
                    let ex = r.exchange;
                    (Some(r), ex)
                }
                None => (None, self.pairer.new_exchange()),
            },
            _ => (None, self.pairer.new_exchange()),
        };
        let last = m.last_frame().unwrap_or(frame);
        WapEvent::Wsp(Box::new(WspMessage {
            frame: last,
            src,
            dst,
            mode: WapMode::ConnectionOriented,
            // Moved, not copied: `layers` gives the WTP record its bytes and spans back when
            // it describes it.
            origin: std::mem::take(&mut m.origin),
            data,
            pdu,
            answers,
            exchange,
            retransmission_of: m.retransmission_of,
            complete: m.complete,
            notes,
            wtp: Some(m),
        }))
    }

    /// End of capture: WSP PDUs of messages whose WTP segments never all arrived, decoded from
    /// the contiguous prefix, each saying which PSNs are missing.
    pub fn finish(&mut self) -> Vec<WapEvent> {
        let msgs = self.sar.flush();
        msgs.into_iter()
            .map(|m| {
                let f = m.last_frame().unwrap_or(0);
                self.wsp_from_wtp(m, f)
            })
            .collect()
    }

    /// PSNs still missing in the message `sender` is sending to `receiver` with this TID.
    pub fn missing(&self, sender: SocketAddr, receiver: SocketAddr, tid: u16) -> Option<Vec<u8>> {
        self.sar.missing(&wtp::SarKey {
            sender,
            receiver,
            tid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `datagram_into` appends exactly the events `datagram` returns (a WSP Reply reassembled
    /// from two WTP segments, a datagram that is not WTP), after what `out` already holds.
    #[test]
    fn datagram_into_appends_what_datagram_returns() {
        let gw = SocketAddr::from(([10, 0, 0, 1], PORT_WSP_CO));
        let phone = SocketAddr::from(([10, 0, 0, 2], 49152));
        let datagrams: [&[u8]; 3] = [
            // Result, TID 7 (responder), no trailer: WSP Reply, status 0x20, headers length 1.
            &[0x10, 0x80, 0x07, 0x04, 0x20, 0x01],
            // Segmented Result PSN 1 with TTR: content type application/vnd.wap.mms-message,
            // then two octets of body.
            &[0x32, 0x80, 0x07, 0x01, 0xbe, 0x8c, 0x84],
            // A WTP PDU type 0 (not defined): an error event.
            &[0x00],
        ];
        let mut whole = WapDecoder::default();
        let mut into = WapDecoder::default();
        let mut out = vec![WapEvent::Error {
            frame: 0,
            message: "already here".into(),
        }];
        let mut expected = out.clone();
        for (i, d) in datagrams.iter().enumerate() {
            let frame = i as u64 + 1;
            expected.extend(whole.datagram(WapMode::ConnectionOriented, gw, phone, d, frame));
            into.datagram_into(WapMode::ConnectionOriented, gw, phone, d, frame, &mut out);
        }
        assert_eq!(out, expected);
        let wsp: Vec<&WspMessage> = out
            .iter()
            .filter_map(|e| match e {
                WapEvent::Wsp(m) => Some(&**m),
                _ => None,
            })
            .collect();
        assert_eq!(wsp.len(), 1);
        assert_eq!(wsp[0].data, [0x04, 0x20, 0x01, 0xbe, 0x8c, 0x84]);
        assert_eq!(wsp[0].body(), [0x8c, 0x84]);
        assert_eq!(wsp[0].frames(), [1, 2]);
        assert!(matches!(out.last(), Some(WapEvent::Error { frame: 3, .. })));
    }
}
