//! From captured frames to transport payloads: link layer, IPv4/IPv6 with fragment reassembly,
//! TCP stream reassembly and UDP datagrams.
//!
//! Feed a [`Decoder`] one captured packet at a time; it appends [`Event`]s to a `Vec`:
//! UDP datagrams (reassembled from IP fragments when needed), in-order TCP stream data per
//! connection and direction, gaps in TCP streams that will never fill, connection open/close,
//! and notes about anything odd, each saying where. Every byte handed up carries the frames it
//! came from ([`FrameSpan`]s, offsets relative to the event's own bytes). See docs/NET.md.

pub mod ip;
pub mod link;
pub mod origin;
pub mod tcp;

pub use ip::{DefragLimits, Defragmenter};
pub use link::{L3, LinkError};
pub use tcp::{Segment, TcpLimits, TcpReassembler};

use crate::capture::{LinkType, Packet};
use crate::model::Timestamp;
use crate::tree::FrameSpan;
use etherparse::{TcpHeaderSlice, UdpHeaderSlice};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The hash map of the per-flow tables (TCP connections, IP fragments, WTP transactions, WSP
/// sessions): foldhash, several times faster than the default SipHash on these small keys
/// (SipHash was ~8 % of the run time on mixed traffic). Keys (addresses, ports) come from the
/// network, so in live capture a sender chooses them: foldhash's `RandomState` is seeded per
/// process, so colliding keys cannot be computed in advance; the tables are also bounded in
/// size (see `TcpLimits::max_flows`, `DefragLimits`), which caps what a flood of keys can cost.
/// See docs/PERFORMANCE.md.
pub type FlowMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Connection number, from 1 in the order connections are first seen.
pub type FlowId = u64;

/// Direction within a TCP connection: the client is the side that sent the SYN (or, for a
/// connection seen mid-stream, the side whose port is not well-known (< 1024) against an
/// unprivileged one, or is ephemeral (>= 32768) against a lower one; else the first sender).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    ClientToServer = 0,
    ServerToClient = 1,
}

impl Direction {
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client->server",
            Direction::ServerToClient => "server->client",
        }
    }

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// A UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// The frame that carried (or completed) it.
    pub frame: u64,
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Borrowed from the packet when it came in one (the common case: the layer above decides
    /// where to keep it), owned when reassembled from IP fragments.
    pub payload: Cow<'a, [u8]>,
    /// Frame origin of `payload` (several frames when it was IP-fragmented); inline when one
    /// frame.
    pub origin: origin::Origin,
}

impl UdpDatagram<'_> {
    /// The datagram with its payload owned: a borrowed payload is copied into `buf` (cleared
    /// first), so that a caller that keeps many datagrams can reuse the allocations of those it
    /// is done with instead of allocating one per datagram.
    pub fn into_owned_in(self, mut buf: Vec<u8>) -> UdpDatagram<'static> {
        let payload = match self.payload {
            Cow::Owned(v) => v,
            Cow::Borrowed(b) => {
                buf.clear();
                buf.extend_from_slice(b);
                buf
            }
        };
        UdpDatagram {
            payload: Cow::Owned(payload),
            frame: self.frame,
            time: self.time,
            src: self.src,
            dst: self.dst,
            origin: self.origin,
        }
    }
}

/// A TCP connection seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpOpen {
    pub flow: FlowId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// No SYN was seen: the capture started inside the connection.
    pub mid_stream: bool,
    pub frame: u64,
    pub time: Timestamp,
}

/// In-order bytes of one direction of a TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpData<'a> {
    pub flow: FlowId,
    pub dir: Direction,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Offset of `data[0]` in this direction's stream (0 = first byte after the SYN, or the
    /// first byte seen). Consecutive events of a direction are contiguous except across a
    /// [`TcpGap`].
    pub stream_offset: u64,
    /// Borrowed from the packet when it is one in-order segment (the common case: the layer
    /// above copies what it keeps anyway), else owned.
    pub data: Cow<'a, [u8]>,
    /// Frame origin of `data` (offsets relative to `data`); inline when one frame.
    pub origin: origin::Origin,
    /// The frame whose arrival made these bytes deliverable.
    pub frame: u64,
    pub time: Timestamp,
}

/// Bytes `[offset, offset + len)` of a direction's stream that the capture does not have; the
/// stream continues after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpGap {
    pub flow: FlowId,
    pub dir: Direction,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub offset: u64,
    pub len: u64,
    /// The frame at which the gap was given up on.
    pub frame: u64,
    pub time: Timestamp,
}

impl fmt::Display for TcpGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TCP flow {} {} {} -> {}: bytes [{}, {}) missing from the capture (noticed at frame \
             {})",
            self.flow,
            self.dir.arrow(),
            self.src,
            self.dst,
            self.offset,
            self.offset + self.len,
            self.frame
        )
    }
}

/// Why a connection was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// FIN in both directions (and acknowledged or complete).
    Fin,
    Reset,
    /// No segment for the idle timeout.
    Idle,
    /// Too many open connections: this was the least recently active.
    Evicted,
    /// A new SYN reused the address/port pair.
    Reused,
    EndOfCapture,
}

/// A TCP connection released: no more events for this flow id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpClosed {
    pub flow: FlowId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub reason: CloseReason,
    pub frame: u64,
    pub time: Timestamp,
}

/// What the decoder reports. Events borrow the packet they were decoded from (`'a`), so they
/// are handled before the next packet; [`Event::into_owned`] keeps one longer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Udp(UdpDatagram<'a>),
    TcpOpen(TcpOpen),
    TcpData(TcpData<'a>),
    TcpGap(TcpGap),
    TcpClosed(TcpClosed),
    /// Something odd, for a human: what and where.
    Note {
        frame: u64,
        message: String,
    },
}

impl Event<'_> {
    /// The event with its bytes owned, free of the packet it came from.
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Event::TcpData(d) => Event::TcpData(TcpData {
                data: Cow::Owned(d.data.into_owned()),
                flow: d.flow,
                dir: d.dir,
                src: d.src,
                dst: d.dst,
                stream_offset: d.stream_offset,
                origin: d.origin,
                frame: d.frame,
                time: d.time,
            }),
            Event::Udp(u) => Event::Udp(u.into_owned_in(Vec::new())),
            Event::TcpOpen(o) => Event::TcpOpen(o),
            Event::TcpGap(g) => Event::TcpGap(g),
            Event::TcpClosed(c) => Event::TcpClosed(c),
            Event::Note { frame, message } => Event::Note { frame, message },
        }
    }
}

/// Where the decoder puts the events it finds, in order, as it finds them. A `Vec` collects
/// them (tests, tools); the pipeline handles each one as it comes instead: events borrow their
/// packet, so a list of them could not be kept from packet to packet (recycling its allocation
/// cost some seventy instructions per packet), and every 168-byte event was moved into the list
/// and out again.
pub trait EventSink<'a> {
    fn push(&mut self, ev: Event<'a>);
}

impl<'a> EventSink<'a> for Vec<Event<'a>> {
    #[inline]
    fn push(&mut self, ev: Event<'a>) {
        Vec::push(self, ev);
    }
}

/// Hash a pair of socket addresses packed, for the keys that every packet looks up (TCP
/// connections, WTP messages): two IPv4 endpoints (48 bits each) in one 128-bit write, where
/// `SocketAddr`'s derived hash feeds the hasher the enum tag, the octets, the port (and for
/// IPv6 flow info and scope id) one by one. Equal addresses and ports give equal hashes.
#[inline]
pub fn hash_endpoints<H: std::hash::Hasher>(h: &mut H, a: SocketAddr, b: SocketAddr) {
    match (a, b) {
        (SocketAddr::V4(a), SocketAddr::V4(b)) => {
            let pack =
                |e: std::net::SocketAddrV4| u64::from(e.ip().to_bits()) << 16 | u64::from(e.port());
            h.write_u128(u128::from(pack(a)) << 64 | u128::from(pack(b)));
        }
        (a, b) => {
            for e in [a, b] {
                let ip = match e.ip() {
                    IpAddr::V4(ip) => u128::from(ip.to_bits()),
                    IpAddr::V6(ip) => ip.to_bits(),
                };
                h.write_u128(ip);
                h.write_u16(e.port());
            }
        }
    }
}

/// All limits and switches of the decoder.
#[derive(Debug, Clone)]
pub struct Limits {
    pub defrag: DefragLimits,
    pub tcp: TcpLimits,
    /// Decapsulate GTP-U (UDP port 2152) G-PDUs and decode the inner IP packet (default on).
    pub gtpu: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            defrag: DefragLimits::default(),
            tcp: TcpLimits::default(),
            gtpu: true,
        }
    }
}

/// The network decoder: link layer → IP (+ defragmentation) → TCP reassembly / UDP.
pub struct Decoder {
    defrag: Defragmenter,
    tcp: TcpReassembler,
    gtpu: bool,
    /// (interface, link type) pairs already reported as unsupported.
    unsupported_noted: HashSet<(u32, LinkType)>,
    last_expire: Option<Timestamp>,
    last_frame: u64,
    last_time: Timestamp,
    notes: Vec<(u64, String)>,
    /// IP packets cut by the capture's snaplen.
    truncated_packets: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Limits::default())
    }
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder {
            defrag: Defragmenter::new(limits.defrag),
            tcp: TcpReassembler::new(limits.tcp),
            gtpu: limits.gtpu,
            unsupported_noted: HashSet::new(),
            last_expire: None,
            last_frame: 0,
            last_time: Timestamp { secs: 0, nanos: 0 },
            notes: Vec::new(),
            truncated_packets: 0,
        }
    }

    /// Decode one captured packet.
    pub fn decode_packet<'a>(&mut self, p: &Packet<'a>, out: &mut impl EventSink<'a>) {
        self.decode(p.frame, p.time, p.link_type, p.interface, p.data, out);
    }

    /// Decode one frame given by its parts (`interface` only scopes the once-per-interface
    /// note about an unsupported link type).
    pub fn decode<'a>(
        &mut self,
        frame: u64,
        time: Timestamp,
        link: LinkType,
        interface: u32,
        data: &'a [u8],
        out: &mut impl EventSink<'a>,
    ) {
        self.last_frame = frame;
        self.last_time = time;
        self.expire(frame, time);
        match link::decode(link, data) {
            Ok(L3::Ipv4(ip)) => {
                let origin = origin::single(frame, ip.len());
                self.ip(ip, false, &origin, 0, frame, time, 0, out);
            }
            Ok(L3::Ipv6(ip)) => {
                let origin = origin::single(frame, ip.len());
                self.ip(ip, true, &origin, 0, frame, time, 0, out);
            }
            Ok(L3::Other { .. }) => {}
            Err(LinkError::UnsupportedLinkType(l)) => {
                if self.unsupported_noted.insert((interface, l)) {
                    self.notes.push((
                        frame,
                        format!(
                            "interface {interface}: {l} is not supported; its frames are \
                             skipped (first in frame {frame})"
                        ),
                    ));
                }
            }
            Err(e) => self.notes.push((frame, format!("frame {frame}: {e}"))),
        }
        self.flush_notes(out);
    }

    /// [`Decoder::decode_packet`] for a caller that keeps the events past the packet (tests,
    /// tools): they are appended with their bytes owned.
    pub fn decode_packet_owned(&mut self, p: &Packet<'_>, out: &mut Vec<Event<'static>>) {
        self.decode_owned(p.frame, p.time, p.link_type, p.interface, p.data, out);
    }

    /// [`Decoder::decode`] with the events' bytes owned (see [`Decoder::decode_packet_owned`]).
    pub fn decode_owned(
        &mut self,
        frame: u64,
        time: Timestamp,
        link: LinkType,
        interface: u32,
        data: &[u8],
        out: &mut Vec<Event<'static>>,
    ) {
        let mut events = Vec::new();
        self.decode(frame, time, link, interface, data, &mut events);
        out.extend(events.into_iter().map(Event::into_owned));
    }

    /// End of the capture: release every flow (reporting what never completed).
    pub fn finish<'e>(&mut self, out: &mut impl EventSink<'e>) {
        self.tcp.finish(self.last_frame, self.last_time, out);
        self.defrag.flush(self.last_frame, &mut self.notes);
        if self.truncated_packets > 1 {
            self.notes.push((
                self.last_frame,
                format!(
                    "{} IP packets in all were cut by the capture (snaplen); their missing bytes \
                     show as TCP gaps",
                    self.truncated_packets
                ),
            ));
        }
        self.flush_notes(out);
    }

    /// Stop reassembling the payload of one direction of a TCP connection (see
    /// [`TcpReassembler::discard_payload`]): for a connection the layer above cannot read, such
    /// as TLS, this saves copying most of the bytes of a typical capture.
    pub fn discard_tcp_payload(
        &mut self,
        flow: FlowId,
        client: SocketAddr,
        server: SocketAddr,
        dir: Direction,
    ) -> bool {
        self.tcp.discard_payload(flow, client, server, dir)
    }

    /// Open TCP flows, datagrams in IP reassembly, bytes buffered out of order.
    pub fn state(&self) -> (usize, usize, usize) {
        (self.tcp.flows(), self.defrag.pending(), self.tcp.buffered())
    }

    fn flush_notes<'e>(&mut self, out: &mut impl EventSink<'e>) {
        // Called twice for every packet, nearly always with nothing to move: draining an empty
        // list into `out` cost some fifty instructions each time.
        if self.notes.is_empty() {
            return;
        }
        for (frame, message) in self.notes.drain(..) {
            out.push(Event::Note { frame, message });
        }
    }

    fn expire(&mut self, frame: u64, time: Timestamp) {
        if let Some(t) = self.last_expire
            && t.within_a_second_of(time)
        {
            return;
        }
        self.last_expire = Some(time);
        self.defrag.expire(time, frame, &mut self.notes);
    }

    /// One IP packet; `origin` maps the bytes of the frame (or reassembled datagram) it came in
    /// to frames, `data` starting at `at` in them (one frame, except for tunnelled packets
    /// inside a reassembled datagram). Origins are sliced once, where they are kept, not at
    /// each layer: the layers only move `at`.
    #[allow(clippy::too_many_arguments)]
    fn ip<'a>(
        &mut self,
        data: &'a [u8],
        v6: bool,
        origin: &[FrameSpan],
        at: usize,
        frame: u64,
        time: Timestamp,
        depth: u8,
        out: &mut impl EventSink<'a>,
    ) {
        let parsed = if v6 {
            ip::parse_ipv6(data)
        } else {
            ip::parse_ipv4(data)
        };
        let pkt = match parsed {
            Ok(p) => p,
            Err(e) => {
                self.notes.push((frame, format!("frame {frame}: {e}")));
                return;
            }
        };
        if pkt.truncated_by > 0 {
            // A snaplen cuts every large packet: say it once, count the rest.
            if self.truncated_packets == 0 {
                self.notes.push((
                    frame,
                    format!(
                        "frame {frame}: IP packet {} -> {} cut by the capture (snaplen): {} bytes missing; later cut packets are counted, not listed",
                        pkt.src, pkt.dst, pkt.truncated_by
                    ),
                ));
            }
            self.truncated_packets += 1;
        }
        match pkt.fragment {
            None => self.transport(
                pkt.src,
                pkt.dst,
                pkt.proto,
                pkt.payload,
                origin,
                at + pkt.payload_offset,
                frame,
                time,
                depth,
                out,
            ),
            Some(frag) => {
                let payload_origin =
                    origin::slice(origin, at + pkt.payload_offset, pkt.payload.len());
                let Some(whole) = self.defrag.add(
                    pkt.src,
                    pkt.dst,
                    pkt.proto,
                    frag,
                    pkt.payload,
                    &payload_origin,
                    frame,
                    time,
                    &mut self.notes,
                ) else {
                    return;
                };
                let (mut proto, mut payload, mut origin): (_, _, Vec<FrameSpan>) =
                    (whole.proto, &whole.payload[..], whole.origin.clone());
                if v6 {
                    // Extension headers after the fragment header are part of the datagram.
                    match ip::walk_ipv6_extensions(proto, payload) {
                        Ok((p, skipped, _)) => {
                            proto = p;
                            origin =
                                origin::slice_origin(&origin, skipped, payload.len() - skipped);
                            payload = &payload[skipped..];
                        }
                        Err(e) => {
                            self.notes.push((frame, format!("frame {frame}: {e}")));
                            return;
                        }
                    }
                }
                // The datagram is this function's own: what it releases is copied out.
                let mut released = Vec::new();
                self.transport(
                    pkt.src,
                    pkt.dst,
                    proto,
                    payload,
                    &origin,
                    0,
                    frame,
                    time,
                    depth,
                    &mut released,
                );
                for e in released {
                    out.push(e.into_owned());
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn transport<'a>(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        data: &'a [u8],
        origin: &[FrameSpan],
        at: usize,
        frame: u64,
        time: Timestamp,
        depth: u8,
        out: &mut impl EventSink<'a>,
    ) {
        match proto {
            6 => {
                let h = match TcpHeaderSlice::from_slice(data) {
                    Ok(h) => h,
                    Err(e) => {
                        self.notes
                            .push((frame, format!("frame {frame}: TCP {src} -> {dst}: {e}")));
                        return;
                    }
                };
                let hl = h.slice().len();
                let payload_origin = origin::slice(origin, at + hl, data.len() - hl);
                let seg = Segment {
                    src: SocketAddr::new(src, h.source_port()),
                    dst: SocketAddr::new(dst, h.destination_port()),
                    seq: h.sequence_number(),
                    ack: h.ack().then(|| h.acknowledgment_number()),
                    syn: h.syn(),
                    fin: h.fin(),
                    rst: h.rst(),
                    payload: &data[hl..],
                    origin: &payload_origin,
                    frame,
                    time,
                };
                self.flush_notes(out);
                self.tcp.process(&seg, out);
            }
            17 => {
                let h = match UdpHeaderSlice::from_slice(data) {
                    Ok(h) => h,
                    Err(e) => {
                        self.notes
                            .push((frame, format!("frame {frame}: UDP {src} -> {dst}: {e}")));
                        return;
                    }
                };
                let len = h.length() as usize;
                let end = if len < 8 {
                    // Length 0 is used for jumbograms; anything else below 8 is wrong.
                    if len != 0 {
                        self.notes.push((
                            frame,
                            format!("frame {frame}: UDP {src} -> {dst}: length field {len} < 8"),
                        ));
                    }
                    data.len()
                } else if len > data.len() {
                    self.notes.push((
                        frame,
                        format!(
                            "frame {frame}: UDP {src} -> {dst}: length field {len}, only {} \
                             bytes present",
                            data.len()
                        ),
                    ));
                    data.len()
                } else {
                    len
                };
                let src = SocketAddr::new(src, h.source_port());
                let dst = SocketAddr::new(dst, h.destination_port());
                let payload = &data[8..end];
                if self.gtpu
                    && depth < 2
                    && (dst.port() == 2152 || src.port() == 2152)
                    && let Some((inner, v6)) = gtpu_inner(payload)
                {
                    let skip = payload.len() - inner.len();
                    self.ip(
                        inner,
                        v6,
                        origin,
                        at + 8 + skip,
                        frame,
                        time,
                        depth + 1,
                        out,
                    );
                    return;
                }
                let payload_origin = origin::slice(origin, at + 8, payload.len());
                self.flush_notes(out);
                out.push(Event::Udp(UdpDatagram {
                    frame,
                    time,
                    src,
                    dst,
                    payload: Cow::Borrowed(payload),
                    origin: payload_origin,
                }));
            }
            _ => {}
        }
    }
}

/// The inner IP packet of a GTP-U (3GPP TS 29.281) G-PDU, and whether it is IPv6.
fn gtpu_inner(d: &[u8]) -> Option<(&[u8], bool)> {
    // Version 1, protocol type GTP, message type 255 (G-PDU).
    if d.len() < 8 || d[0] >> 5 != 1 || d[0] & 0x10 == 0 || d[1] != 0xFF {
        return None;
    }
    let len = u16::from_be_bytes([d[2], d[3]]) as usize;
    let end = (8 + len).min(d.len());
    let mut off = 8;
    if d[0] & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        off += 4;
        if off > end {
            return None;
        }
        let mut next_ext = d[off - 1];
        while next_ext != 0 {
            // Extension header: length in 4-byte units, last byte is the next type.
            let units = *d.get(off)? as usize;
            if units == 0 {
                return None;
            }
            off += units * 4;
            if off > end {
                return None;
            }
            next_ext = d[off - 1];
        }
    }
    let inner = &d[off..end];
    match inner.first()? >> 4 {
        4 => Some((inner, false)),
        6 => Some((inner, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_datagram_reuses_the_given_buffer() {
        let packet = b"\x00\x01\x02 wsp bytes";
        let d = UdpDatagram {
            frame: 7,
            time: Timestamp { secs: 1, nanos: 2 },
            src: "10.0.0.1:9200".parse().unwrap(),
            dst: "10.0.0.2:2948".parse().unwrap(),
            payload: Cow::Borrowed(&packet[3..]),
            origin: origin::single(7, packet.len() - 3),
        };
        let mut spare = Vec::with_capacity(64);
        spare.extend_from_slice(b"an older datagram's payload");
        let ptr = spare.as_ptr() as usize;
        let owned = d.clone().into_owned_in(spare);
        assert_eq!(&owned.payload[..], b" wsp bytes");
        assert!(matches!(owned.payload, Cow::Owned(_)));
        assert_eq!(owned.payload.as_ptr() as usize, ptr);
        assert_eq!((owned.frame, owned.src, owned.dst), (d.frame, d.src, d.dst));
        assert_eq!(owned.origin, d.origin);
        // An owned payload (a reassembled datagram) is kept as it is.
        let v = owned.payload.as_ptr() as usize;
        let again = owned.into_owned_in(Vec::new());
        assert_eq!(again.payload.as_ptr() as usize, v);
    }
}
