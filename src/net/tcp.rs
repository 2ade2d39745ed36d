//! TCP reassembly per connection and direction.
//!
//! Rules (see docs/NET.md for the reasoning):
//! * Stream offset 0 is the byte after the SYN, or the first byte of the first segment seen in
//!   that direction when the capture starts mid-stream.
//! * Out-of-order data is buffered until the hole before it fills; bytes are handed up in order,
//!   exactly once.
//! * On overlap the first copy seen wins; a later copy with different bytes is reported.
//! * A hole is given up on (reported as a [`TcpGap`] with its exact range, then skipped) when
//!   the peer acknowledged data beyond it a while ago (the capture missed bytes the receiver
//!   got), when the data buffered behind it exceeds the per-direction limit, when the total
//!   limit forces it, or when the flow is released (FIN both ways, RST, idle, eviction, end of
//!   capture).

use super::ip::{PieceLike, insert_first_wins};
use super::origin::{Origin, append_origin, slice_origin};
use super::{
    CloseReason, Direction, Event, EventSink, FlowId, TcpClosed, TcpData, TcpGap, TcpOpen,
};
use crate::model::Timestamp;
use crate::tree::FrameSpan;
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

/// Limits of TCP reassembly.
#[derive(Debug, Clone)]
pub struct TcpLimits {
    /// Connections tracked at once; the least recently active is evicted beyond this.
    pub max_flows: usize,
    /// Out-of-order bytes buffered behind a hole in one direction before the hole is skipped.
    pub max_buffered_per_direction: usize,
    /// Out-of-order bytes buffered over all flows; beyond, the flow holding most gives up its
    /// holes.
    pub max_buffered_total: usize,
    /// Capture-time seconds without a segment after which a flow is released.
    pub idle_timeout_secs: f64,
    /// Bytes of already delivered data kept per direction to compare retransmissions against.
    pub overlap_check_bytes: usize,
    /// Capture-time seconds a hole may stay open after the peer acknowledged data beyond it
    /// (the receiver has the bytes, the capture missed them) before it is given up.
    pub acked_hole_timeout_secs: f64,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_flows: 65536,
            max_buffered_per_direction: 4 << 20,
            max_buffered_total: 256 << 20,
            idle_timeout_secs: 300.0,
            overlap_check_bytes: 4 << 10,
            acked_hole_timeout_secs: 1.0,
        }
    }
}

/// One TCP segment as the IP layer hands it over.
#[derive(Debug, Clone)]
pub struct Segment<'a, 'o> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    /// The payload, which in-order data handed up borrows (see [`TcpData::data`]).
    pub payload: &'a [u8],
    /// Frame origin of `payload` (offsets relative to it).
    pub origin: &'o [FrameSpan],
    pub frame: u64,
    pub time: Timestamp,
}

struct Piece {
    data: Vec<u8>,
    origin: Origin,
}

impl PieceLike for Piece {
    fn new(data: Vec<u8>, origin: Origin) -> Self {
        Piece { data, origin }
    }
    fn data(&self) -> &[u8] {
        &self.data
    }
    fn origin(&self) -> &Origin {
        &self.origin
    }
}

#[derive(Default)]
struct Stream {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    isn: Option<u32>,
    /// Next stream offset to hand up.
    next: u64,
    /// Buffered out-of-order pieces, all at offsets > `next`, not overlapping.
    ooo: BTreeMap<u64, Piece>,
    ooo_bytes: usize,
    /// Stream offset of the FIN.
    fin: Option<u64>,
    fin_acked: bool,
    /// Highest offset the peer acknowledged.
    acked: Option<u64>,
    /// The last bytes handed up, ending at `next` (to compare retransmissions).
    tail: Tail,
    /// Since when the peer has acknowledged data beyond `next` that the capture lacks.
    acked_hole_since: Option<Timestamp>,
    /// The last holes given up, to recognise their bytes if they turn up after all.
    skipped: VecDeque<(u64, u64)>,
    /// The layer above does not want this direction's bytes (e.g. not HTTP): track sequence
    /// numbers and FIN only, copy and buffer nothing.
    discard: bool,
}

impl Stream {
    /// Stream offset of `seq`, taken as the nearest to `next` (sequence numbers wrap).
    fn offset_of(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        let next_seq = base.wrapping_add(self.next as u32);
        Some(self.next as i64 + seq.wrapping_sub(next_seq) as i32 as i64)
    }

    /// Compare bytes at `off` (already handed up) with the kept tail. Returns the differing
    /// range, if any.
    fn compare_tail(&self, off: u64, data: &[u8]) -> Option<(u64, u64)> {
        let tail_start = self.next - self.tail.len as u64;
        let a = off.max(tail_start);
        let b = (off + data.len() as u64).min(self.next);
        let mut first = None;
        let mut last = 0;
        for o in a..b {
            let old = self.tail.get((o - tail_start) as usize);
            let new = data[(o - off) as usize];
            if old != new {
                first.get_or_insert(o);
                last = o;
            }
        }
        first.map(|f| (f, last + 1))
    }

    /// Pop every piece that continues at `next` onto `chunk`.
    fn drain(&mut self, chunk: &mut Option<Chunk<'_>>, keep: usize) -> usize {
        let mut freed = 0;
        while let Some(e) = self.ooo.first_entry() {
            if *e.key() != self.next {
                break;
            }
            let p = e.remove();
            freed += p.data.len();
            self.deliver(chunk, Cow::Owned(p.data), &p.origin, keep);
        }
        self.ooo_bytes -= freed;
        freed
    }

    /// Hand `data` up after what `chunk` holds. The first piece of a chunk is taken as it is:
    /// borrowed from the segment's payload (most segments arrive in order and alone) or moved
    /// out of the out-of-order buffer; only a second piece makes the chunk copy.
    fn deliver<'a>(
        &mut self,
        chunk: &mut Option<Chunk<'a>>,
        data: Cow<'a, [u8]>,
        origin: &[FrameSpan],
        keep: usize,
    ) {
        self.tail.push(&data, keep);
        let len = data.len() as u64;
        match chunk {
            None => {
                *chunk = Some(Chunk {
                    offset: self.next,
                    data,
                    origin: Origin::from_slice(origin),
                })
            }
            Some(c) => {
                append_origin(&mut c.origin, origin, c.data.len());
                c.data.to_mut().extend_from_slice(&data);
            }
        }
        self.next += len;
    }

    /// Give up the hole at `next`: returns its range and moves `next` past it.
    fn skip_hole(&mut self) -> Option<(u64, u64)> {
        let (&k, _) = self.ooo.first_key_value()?;
        Some(self.skip_to(k))
    }

    fn skip_to(&mut self, end: u64) -> (u64, u64) {
        let hole = (self.next, end - self.next);
        self.next = end;
        self.tail.clear();
        if self.skipped.len() == 16 {
            self.skipped.pop_front();
        }
        self.skipped.push_back(hole);
        hole
    }

    /// Data bytes the peer acknowledged (the FIN's sequence number left out).
    fn acked_data(&self) -> Option<u64> {
        let a = self.acked?;
        Some(self.fin.map_or(a, |f| a.min(f)))
    }

    /// The part of `[a, b)` that was given up as a gap earlier, if any.
    fn late_for_gap(&self, a: u64, b: u64) -> Option<(u64, u64)> {
        self.skipped.iter().find_map(|&(s, len)| {
            let (x, y) = (a.max(s), b.min(s + len));
            (x < y).then_some((x, y))
        })
    }
}

/// The last bytes handed up in one direction, at most `keep` (a ring over one buffer that grows
/// up to `keep`): every byte handed up passes through it, so it is copied in once, without
/// `VecDeque`'s reserve and drain per segment.
#[derive(Default)]
struct Tail {
    buf: Vec<u8>,
    /// Index in `buf` after the newest byte (`buf.len()` until `buf` is full).
    end: usize,
    /// Bytes kept: the `len` bytes before `end`, circularly.
    len: usize,
}

impl Tail {
    fn push(&mut self, data: &[u8], keep: usize) {
        let data = &data[data.len().saturating_sub(keep)..];
        if data.is_empty() {
            return;
        }
        if self.buf.len() + data.len() <= keep {
            // Still growing: the bytes are in order, the newest at the end. Room for all of
            // `keep` at the first push, not regrown (and copied) every segment or two of a new
            // connection (a direction that carries less leaves some of it unused).
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(keep);
            }
            self.buf.extend_from_slice(data);
            self.end = self.buf.len();
        } else {
            if self.buf.len() < keep {
                self.buf.resize(keep, 0);
            }
            let first = data.len().min(keep - self.end);
            self.buf[self.end..self.end + first].copy_from_slice(&data[..first]);
            self.buf[..data.len() - first].copy_from_slice(&data[first..]);
            self.end = (self.end + data.len()) % keep;
        }
        self.len = (self.len + data.len()).min(keep);
    }

    /// Byte `i` of the kept bytes, oldest first (`i < len`).
    fn get(&self, i: usize) -> u8 {
        let n = self.buf.len();
        self.buf[(self.end + n - self.len + i) % n]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// An empty tail that keeps its bytes in `buf` (the spare buffer of a released
    /// connection's tail, see [`TcpReassembler::spare_tails`]).
    fn in_buffer(mut buf: Vec<u8>) -> Tail {
        buf.clear();
        Tail {
            buf,
            end: 0,
            len: 0,
        }
    }
}

/// Most tail buffers of released connections kept for new ones (each `overlap_check_bytes`).
const SPARE_TAILS: usize = 64;

struct Chunk<'a> {
    offset: u64,
    data: Cow<'a, [u8]>,
    origin: Origin,
}

struct Flow {
    id: FlowId,
    client: SocketAddr,
    server: SocketAddr,
    streams: [Stream; 2],
    last_seen: Timestamp,
    last_frame: u64,
}

impl Flow {
    fn addrs(&self, dir: Direction) -> (SocketAddr, SocketAddr) {
        match dir {
            Direction::ClientToServer => (self.client, self.server),
            Direction::ServerToClient => (self.server, self.client),
        }
    }

    fn buffered(&self) -> usize {
        self.streams[0].ooo_bytes + self.streams[1].ooo_bytes
    }
}

/// What is remembered of a released flow, to recognise late retransmissions of it.
struct Closed {
    client: SocketAddr,
    /// Sequence number after the last byte (and FIN) of each direction.
    ends: [Option<u32>; 2],
    /// Its entry (with the release time) in `TcpReassembler::closed_order` (unique over the reassembler's life).
    serial: u64,
}

/// The address pair of a connection, the smaller address first, so that both directions
/// find it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key(SocketAddr, SocketAddr);

/// Every segment looks its connection up, so the key hashes only what tells connections apart
/// ([`super::hash_endpoints`]).
impl Hash for Key {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        super::hash_endpoints(h, self.0, self.1);
    }
}

#[inline]
fn key(a: SocketAddr, b: SocketAddr) -> Key {
    if a <= b { Key(a, b) } else { Key(b, a) }
}

/// TCP reassembly over all connections of a capture.
pub struct TcpReassembler {
    limits: TcpLimits,
    flows: super::FlowMap<Key, Flow>,
    closed: super::FlowMap<Key, Closed>,
    /// The entries of `closed` by release time, oldest first: (time, key, serial). The sweep
    /// pops what expired from the front instead of scanning the whole map every second of
    /// capture time (on a long capture that scan was a third of the reassembler's time).
    /// An entry whose serial no longer matches `closed[key]` is stale (the key was reopened
    /// or released again) and is dropped when reached.
    closed_order: VecDeque<(Timestamp, Key, u64)>,
    next_closed_serial: u64,
    next_id: FlowId,
    total_buffered: usize,
    last_sweep: Option<Timestamp>,
    /// Tail buffers of released connections, for the next ones: each direction that carries
    /// data fills one, so without them every connection cost two allocations (and frees) of
    /// `overlap_check_bytes`.
    spare_tails: Vec<Vec<u8>>,
}

impl TcpReassembler {
    pub fn new(limits: TcpLimits) -> Self {
        TcpReassembler {
            limits,
            flows: Default::default(),
            closed: Default::default(),
            closed_order: VecDeque::new(),
            next_closed_serial: 0,
            next_id: 1,
            total_buffered: 0,
            last_sweep: None,
            spare_tails: Vec::new(),
        }
    }

    /// Open flows.
    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Out-of-order bytes buffered over all flows.
    pub fn buffered(&self) -> usize {
        self.total_buffered
    }

    /// Stop handing up (and copying, and buffering) the payload of one direction of connection
    /// `flow` between `client` and `server`: the layer above found it is not a protocol it
    /// reads. Sequence numbers, FIN and ACK are still tracked, so the connection is still
    /// released when it ends. Returns false when no such connection is open.
    pub fn discard_payload(
        &mut self,
        flow: FlowId,
        client: SocketAddr,
        server: SocketAddr,
        dir: Direction,
    ) -> bool {
        let Some(f) = self.flows.get_mut(&key(client, server)) else {
            return false;
        };
        // The id guards against a later connection that reuses the address pair.
        if f.id != flow || f.client != client {
            return false;
        }
        let st = &mut f.streams[dir as usize];
        st.discard = true;
        let tail = std::mem::take(&mut st.tail);
        self.total_buffered -= st.ooo_bytes;
        st.ooo.clear();
        st.ooo_bytes = 0;
        self.spare_tail(tail.buf);
        true
    }

    pub fn process<'a>(&mut self, seg: &Segment<'a, '_>, out: &mut impl EventSink<'a>) {
        self.sweep(seg.time, seg.frame, out);
        let k = key(seg.src, seg.dst);
        let opening = seg.syn && seg.ack.is_none();
        // A new SYN on a tracked 4-tuple with another ISN: the port pair is reused.
        if opening && let Some(f) = self.flows.get(&k) {
            let same = seg.src == f.client && f.streams[0].isn == Some(seg.seq);
            if !same {
                self.release(k, CloseReason::Reused, seg.frame, seg.time, out);
            }
        }
        // The segment of a known connection (nearly all) costs one look-up of the flow table.
        if !self.segment(k, seg, out) {
            if let Some(c) = self.closed.get(&k) {
                let d = if seg.src == c.client { 0 } else { 1 };
                if !opening && let Some(end) = c.ends[d] {
                    let seg_end = seg
                        .seq
                        .wrapping_add(seg.payload.len() as u32 + seg.fin as u32);
                    if seg_end.wrapping_sub(end) as i32 <= 0 {
                        // A late retransmission of a flow already released.
                        return;
                    }
                }
            }
            if seg.rst || (seg.payload.is_empty() && !seg.syn) {
                // Nothing to reassemble from a bare ACK/FIN/RST of an unknown connection.
                return;
            }
            self.open(seg, k, out);
            self.segment(k, seg, out);
        }
    }

    fn open<'e>(&mut self, seg: &Segment<'_, '_>, k: Key, out: &mut impl EventSink<'e>) {
        if self.flows.len() >= self.limits.max_flows {
            self.evict_oldest(seg.frame, seg.time, out);
        }
        // The client sends the SYN; a SYN-ACK comes from the server. Without a handshake a
        // well-known port (< 1024) facing an unprivileged one marks the server, then a
        // registered port (< 32768) facing an ephemeral one (the Linux and IANA ephemeral
        // ranges start at 32768 and 49152); else the first sender is taken as the client.
        let server_side = |p: u16, q: u16| (p < 1024 && q >= 1024) || (p < 32768 && q >= 32768);
        let src_is_client = if seg.syn {
            seg.ack.is_none()
        } else {
            !server_side(seg.src.port(), seg.dst.port())
        };
        let (client, server) = if src_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let id = self.next_id;
        self.next_id += 1;
        self.closed.remove(&k);
        let mut streams = [Stream::default(), Stream::default()];
        for st in &mut streams {
            if let Some(buf) = self.spare_tails.pop() {
                st.tail = Tail::in_buffer(buf);
            }
        }
        self.flows.insert(
            k,
            Flow {
                id,
                client,
                server,
                streams,
                last_seen: seg.time,
                last_frame: seg.frame,
            },
        );
        out.push(Event::TcpOpen(TcpOpen {
            flow: id,
            client,
            server,
            mid_stream: !seg.syn,
            frame: seg.frame,
            time: seg.time,
        }));
    }

    /// Take the segment into its connection; false (having done nothing) when `k` is not open.
    fn segment<'a>(&mut self, k: Key, seg: &Segment<'a, '_>, out: &mut impl EventSink<'a>) -> bool {
        let keep = self.limits.overlap_check_bytes;
        let per_dir = self.limits.max_buffered_per_direction;
        let Some(flow) = self.flows.get_mut(&k) else {
            return false;
        };
        flow.last_seen = seg.time;
        flow.last_frame = seg.frame;
        let dir = if seg.src == flow.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let d = dir as usize;
        let way = Way::of(flow, dir);
        let Way {
            flow: id, src, dst, ..
        } = way;
        let before = flow.buffered();
        {
            let st = &mut flow.streams[d];
            if seg.syn && st.base.is_none() {
                st.isn = Some(seg.seq);
                st.base = Some(seg.seq.wrapping_add(1));
            }
            let data_seq = seg.seq.wrapping_add(seg.syn as u32);
            if st.base.is_none() && (!seg.payload.is_empty() || seg.fin) {
                st.base = Some(data_seq);
            }
            let mut chunk = None;
            if let Some(off) = st.offset_of(data_seq) {
                let mut data = seg.payload;
                // Borrowed unless cut: most segments are handed up as they are.
                let mut origin: Cow<'_, [FrameSpan]> = Cow::Borrowed(seg.origin);
                let mut off = off;
                if off < 0 {
                    // Bytes before the first segment seen of a mid-stream capture.
                    let cut = ((-off) as usize).min(data.len());
                    origin = Cow::Owned(slice_origin::<Vec<_>>(&origin, cut, data.len() - cut));
                    data = &data[cut..];
                    off = 0;
                }
                let off = off as u64;
                // No receive window exceeds 2^30 bytes (RFC 7323): data further ahead is not
                // part of this stream (a stray segment of an older connection, corruption).
                let far = off > st.next + (1 << 30);
                if far {
                    out.push(Event::Note {
                        frame: seg.frame,
                        message: format!(
                            "TCP flow {id} {} {src} -> {dst}: segment in frame {} lies {} bytes \
                             ahead of the stream, beyond any window; ignored",
                            dir.arrow(),
                            seg.frame,
                            off - st.next
                        ),
                    });
                    data = &[];
                }
                if st.discard {
                    // Nobody reads these bytes: move past them without copying, holes included.
                    let end = off + data.len() as u64;
                    if end > st.next {
                        st.next = end;
                    }
                    if !st.ooo.is_empty() {
                        st.ooo.clear();
                        st.ooo_bytes = 0;
                    }
                    if seg.fin && !far && st.fin.is_none() {
                        st.fin = Some(end);
                    }
                    data = &[];
                }
                if !data.is_empty()
                    && off < st.next
                    && let Some((a, b)) = st.late_for_gap(off, off + data.len() as u64)
                {
                    out.push(Event::Note {
                        frame: seg.frame,
                        message: format!(
                            "TCP flow {id} {} {src} -> {dst}: stream bytes [{a}, {b}) arrived \
                             in frame {} after they had been reported missing; not handed up",
                            dir.arrow(),
                            seg.frame
                        ),
                    });
                }
                if !data.is_empty() {
                    let conflict = accept(st, off, data, &origin, keep, &mut chunk);
                    if let Some((a, b, first)) = conflict {
                        let first = first.map_or("the copy handed up earlier".to_string(), |f| {
                            format!("the first copy (frame {f})")
                        });
                        out.push(Event::Note {
                            frame: seg.frame,
                            message: format!(
                                "TCP flow {id} {} {src} -> {dst}: segment in frame {} \
                                 overlaps stream bytes [{a}, {b}) with different content; {first} \
                                 is kept",
                                dir.arrow(),
                                seg.frame
                            ),
                        });
                    }
                }
                if seg.fin && !far && st.fin.is_none() {
                    st.fin = Some(off + data.len() as u64);
                }
            }
            // Holes give way when too much is buffered behind them.
            while st.ooo_bytes > per_dir {
                let Some((a, len)) = st.skip_hole() else {
                    break;
                };
                way.data(out, chunk.take(), seg.frame, seg.time);
                out.push(way.gap(a, len, seg.frame, seg.time));
                st.drain(&mut chunk, keep);
            }
            way.data(out, chunk, seg.frame, seg.time);
        }
        // The ACK tells what the peer has, and whether its FIN is acknowledged.
        if let Some(ack) = seg.ack {
            let peer = &mut flow.streams[1 - d];
            if let Some(a) = peer.offset_of(ack)
                && a >= 0
            {
                let a = a as u64;
                // Bound against wild values: within 1 GiB past what has been seen.
                if a <= peer.next + peer.ooo_bytes as u64 + (1 << 30) {
                    peer.acked = Some(peer.acked.map_or(a, |x| x.max(a)));
                    if let Some(f) = peer.fin
                        && a > f
                    {
                        peer.fin_acked = true;
                    }
                }
            }
        }
        if flow.may_have_acked_hole() {
            let hole_timeout = self.limits.acked_hole_timeout_secs;
            give_up_acked_holes(flow, hole_timeout, keep, seg.frame, seg.time, out);
        }
        let after = flow.buffered();
        self.total_buffered = self.total_buffered + after - before;
        let done = |s: &Stream| s.fin.is_some_and(|f| s.next >= f && s.ooo.is_empty());
        let fins = flow.streams.iter().all(|s| s.fin.is_some());
        let finished =
            fins && (flow.streams.iter().all(done) || flow.streams.iter().all(|s| s.fin_acked));
        if seg.rst {
            self.release(k, CloseReason::Reset, seg.frame, seg.time, out);
        } else if finished {
            self.release(k, CloseReason::Fin, seg.frame, seg.time, out);
        }
        if self.total_buffered > self.limits.max_buffered_total {
            self.relieve_memory(seg.frame, seg.time, out);
        }
        true
    }

    /// Release every flow (end of capture).
    pub fn finish<'e>(&mut self, frame: u64, time: Timestamp, out: &mut impl EventSink<'e>) {
        let mut keys: Vec<(FlowId, Key)> = self.flows.iter().map(|(k, f)| (f.id, *k)).collect();
        keys.sort();
        for (_, k) in keys {
            self.release(k, CloseReason::EndOfCapture, frame, time, out);
        }
        self.closed.clear();
        self.closed_order.clear();
    }

    /// Release flows idle longer than the timeout; checked once per second of capture time.
    fn sweep<'e>(&mut self, now: Timestamp, frame: u64, out: &mut impl EventSink<'e>) {
        if let Some(last) = self.last_sweep
            && last.within_a_second_of(now)
        {
            return;
        }
        self.last_sweep = Some(now);
        let (hole_timeout, keep) = (
            self.limits.acked_hole_timeout_secs,
            self.limits.overlap_check_bytes,
        );
        // Only a flow with an acknowledged hole has anything to give up: each segment of a flow
        // settles `acked_hole_since` for it, so a flow without one is left as it is.
        let mut ids: Vec<(FlowId, Key)> = self
            .flows
            .iter()
            .filter(|(_, f)| f.streams.iter().any(|s| s.acked_hole_since.is_some()))
            .map(|(k, f)| (f.id, *k))
            .collect();
        ids.sort();
        for (_, k) in ids {
            let f = self.flows.get_mut(&k).expect("present");
            let before = f.buffered();
            give_up_acked_holes(f, hole_timeout, keep, frame, now, out);
            self.total_buffered -= before - f.buffered();
        }
        let timeout = self.limits.idle_timeout_secs;
        let mut idle: Vec<(FlowId, Key)> = self
            .flows
            .iter()
            .filter(|(_, f)| f.last_seen.seconds_until(now) > timeout)
            .map(|(k, f)| (f.id, *k))
            .collect();
        idle.sort();
        for (_, k) in idle {
            let f = &self.flows[&k];
            out.push(Event::Note {
                frame,
                message: format!(
                    "TCP flow {} {} <-> {} released after more than {timeout} s without a \
                     segment (last in frame {})",
                    f.id, f.client, f.server, f.last_frame
                ),
            });
            self.release(k, CloseReason::Idle, frame, now, out);
        }
        // `closed_order` is sorted by time, and a time expires whenever a later one does.
        while let Some(&(t, k, serial)) = self.closed_order.front() {
            if t.seconds_until(now) <= timeout {
                break;
            }
            self.closed_order.pop_front();
            if self.closed.get(&k).is_some_and(|c| c.serial == serial) {
                self.closed.remove(&k);
            }
        }
    }

    fn evict_oldest<'e>(&mut self, frame: u64, time: Timestamp, out: &mut impl EventSink<'e>) {
        let oldest = self
            .flows
            .iter()
            .min_by_key(|(_, f)| (f.last_frame, f.id))
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            let f = &self.flows[&k];
            out.push(Event::Note {
                frame,
                message: format!(
                    "TCP flow {} {} <-> {} evicted: more than {} open flows (it was last seen \
                     in frame {})",
                    f.id, f.client, f.server, self.limits.max_flows, f.last_frame
                ),
            });
            self.release(k, CloseReason::Evicted, frame, time, out);
        }
    }

    /// Over the total buffer limit: the flow holding most out-of-order data gives up its holes.
    fn relieve_memory<'e>(&mut self, frame: u64, time: Timestamp, out: &mut impl EventSink<'e>) {
        let Some(k) = self
            .flows
            .iter()
            .max_by_key(|(_, f)| f.buffered())
            .map(|(k, _)| *k)
        else {
            return;
        };
        let f = self.flows.get_mut(&k).expect("present");
        out.push(Event::Note {
            frame,
            message: format!(
                "TCP flow {} {} <-> {}: {} bytes buffered out of order, over the total limit of \
                 {} over all flows; its holes are skipped",
                f.id,
                f.client,
                f.server,
                f.buffered(),
                self.limits.max_buffered_total
            ),
        });
        let before = f.buffered();
        flush(f, self.limits.overlap_check_bytes, frame, time, out);
        self.total_buffered -= before;
    }

    fn release<'e>(
        &mut self,
        k: Key,
        reason: CloseReason,
        frame: u64,
        time: Timestamp,
        out: &mut impl EventSink<'e>,
    ) {
        let Some(mut f) = self.flows.remove(&k) else {
            return;
        };
        self.total_buffered -= f.buffered();
        flush(&mut f, self.limits.overlap_check_bytes, frame, time, out);
        // Data the peer acknowledged (or the FIN accounts for) but the capture never showed.
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let st = &f.streams[dir as usize];
            let end = match (st.fin, st.acked) {
                (Some(fin), _) => Some(fin),
                (None, Some(a)) => Some(a),
                _ => None,
            };
            if let Some(end) = end
                && end > st.next
            {
                out.push(Way::of(&f, dir).gap(st.next, end - st.next, frame, time));
            }
        }
        let ends = [0, 1].map(|d| {
            let s = &f.streams[d];
            s.base.map(|b| {
                let end = s.fin.map_or(s.next, |x| x.max(s.next) + 1);
                b.wrapping_add(end as u32)
            })
        });
        if self.closed.len() < self.limits.max_flows {
            let serial = self.next_closed_serial;
            self.next_closed_serial += 1;
            self.closed.insert(
                k,
                Closed {
                    client: f.client,
                    ends,
                    serial,
                },
            );
            self.remember_closed(time, k, serial);
        }
        for st in &mut f.streams {
            self.spare_tail(std::mem::take(&mut st.tail.buf));
        }
        out.push(Event::TcpClosed(TcpClosed {
            flow: f.id,
            client: f.client,
            server: f.server,
            reason,
            frame,
            time,
        }));
    }
}

impl TcpReassembler {
    /// Keep the tail buffer of a released connection (or direction) for a new one, up to
    /// [`SPARE_TAILS`]; one that never grew to full size is not worth keeping.
    fn spare_tail(&mut self, buf: Vec<u8>) {
        if buf.capacity() >= self.limits.overlap_check_bytes && self.spare_tails.len() < SPARE_TAILS
        {
            self.spare_tails.push(buf);
        }
    }

    /// Enter a released flow into `closed_order`, keeping it sorted by time (capture time may
    /// step back; such an entry goes where its time belongs) and no longer than needed.
    fn remember_closed(&mut self, time: Timestamp, k: Key, serial: u64) {
        let order = &mut self.closed_order;
        let at = instant(time);
        if order.back().is_none_or(|&(t, _, _)| instant(t) <= at) {
            order.push_back((time, k, serial));
        } else {
            let i = order.partition_point(|&(t, _, _)| instant(t) <= at);
            order.insert(i, (time, k, serial));
        }
        // Stale entries (keys reopened or released again) pile up on busy address pairs:
        // beyond twice the live ones, drop them, so the queue stays bounded like the map.
        if order.len() > 2 * self.closed.len().max(64) {
            let closed = &self.closed;
            order.retain(|(_, k, serial)| closed.get(k).is_some_and(|c| c.serial == *serial));
        }
    }
}

/// A timestamp as nanoseconds, the order in which `Timestamp::seconds_until` expires times
/// (also for a timestamp whose nanoseconds exceed a second).
fn instant(t: Timestamp) -> i128 {
    t.secs as i128 * 1_000_000_000 + t.nanos as i128
}

impl Flow {
    /// A direction of the flow may have a hole the peer acknowledged data beyond (or had one
    /// until now). Nearly every segment finds none: this check is inlined into the segment
    /// path, [`give_up_acked_holes`] (as a call per segment, 2 % of the reassembly thread's
    /// instructions) runs when there is something to look at.
    #[inline]
    fn may_have_acked_hole(&self) -> bool {
        self.streams
            .iter()
            .any(|st| st.acked_hole_since.is_some() || st.acked_data().is_some_and(|a| a > st.next))
    }
}

/// Give up holes the peer acknowledged data beyond, once they stayed open for `timeout`
/// seconds of capture time: the receiver has those bytes, the capture does not, and (short
/// of capture-side reordering, which the timeout allows for) it never will.
#[inline(never)]
fn give_up_acked_holes<'e>(
    f: &mut Flow,
    timeout: f64,
    keep: usize,
    frame: u64,
    now: Timestamp,
    out: &mut impl EventSink<'e>,
) {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let st = &mut f.streams[dir as usize];
        let Some(acked) = st.acked_data().filter(|&a| a > st.next) else {
            st.acked_hole_since = None;
            continue;
        };
        let since = *st.acked_hole_since.get_or_insert(now);
        if since.seconds_until(now) <= timeout {
            continue;
        }
        // Named only here: this runs for every segment, a hole to give up is rare.
        let way = Way::of(f, dir);
        let st = &mut f.streams[dir as usize];
        while st.next < acked {
            let end = st
                .ooo
                .first_key_value()
                .map_or(acked, |(&k, _)| k.min(acked));
            let hole = st.skip_to(end);
            way.gap_then_drain(st, hole, keep, frame, now, out);
        }
        st.acked_hole_since = None;
    }
}

/// Skip every hole of both directions, handing up all buffered data.
fn flush<'e>(f: &mut Flow, keep: usize, frame: u64, time: Timestamp, out: &mut impl EventSink<'e>) {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let way = Way::of(f, dir);
        let st = &mut f.streams[dir as usize];
        while let Some(hole) = st.skip_hole() {
            way.gap_then_drain(st, hole, keep, frame, time, out);
        }
    }
}

/// One direction of one connection, as the events name it.
#[derive(Clone, Copy)]
struct Way {
    flow: FlowId,
    dir: Direction,
    src: SocketAddr,
    dst: SocketAddr,
}

impl Way {
    fn of(f: &Flow, dir: Direction) -> Way {
        let (src, dst) = f.addrs(dir);
        Way {
            flow: f.id,
            dir,
            src,
            dst,
        }
    }

    fn gap(self, offset: u64, len: u64, frame: u64, time: Timestamp) -> Event<'static> {
        Event::TcpGap(TcpGap {
            flow: self.flow,
            dir: self.dir,
            src: self.src,
            dst: self.dst,
            offset,
            len,
            frame,
            time,
        })
    }

    /// Hand up `chunk`, if any in-order data was released.
    fn data<'a>(
        self,
        out: &mut impl EventSink<'a>,
        chunk: Option<Chunk<'a>>,
        frame: u64,
        time: Timestamp,
    ) {
        if let Some(c) = chunk {
            out.push(Event::TcpData(TcpData {
                flow: self.flow,
                dir: self.dir,
                src: self.src,
                dst: self.dst,
                stream_offset: c.offset,
                data: c.data,
                origin: c.origin,
                frame,
                time,
            }));
        }
    }

    /// Report the hole `(offset, len)` just skipped in `st`, then hand up what it released.
    fn gap_then_drain<'e>(
        self,
        st: &mut Stream,
        (offset, len): (u64, u64),
        keep: usize,
        frame: u64,
        time: Timestamp,
        out: &mut impl EventSink<'e>,
    ) {
        out.push(self.gap(offset, len, frame, time));
        let mut chunk = None;
        st.drain(&mut chunk, keep);
        self.data(out, chunk, frame, time);
    }
}

/// Take `data` at stream offset `off` into `st`: hand up what is in order (into `chunk`),
/// buffer the rest. Returns a conflicting overlap: its range and, when known, the frame of the
/// copy kept.
fn accept<'a>(
    st: &mut Stream,
    off: u64,
    data: &'a [u8],
    origin: &[FrameSpan],
    keep: usize,
    chunk: &mut Option<Chunk<'a>>,
) -> Option<(u64, u64, Option<u64>)> {
    let end = off + data.len() as u64;
    let mut conflict = None;
    if off < st.next {
        // A keep-alive probe repeats the last byte with arbitrary content: not a conflict.
        let keepalive = data.len() == 1 && off + 1 == st.next;
        if !keepalive && let Some((a, b)) = st.compare_tail(off, data) {
            conflict = Some((a, b, None));
        }
        if end <= st.next {
            return conflict;
        }
    }
    let (off, data, origin) = if off < st.next {
        let cut = (st.next - off) as usize;
        (
            st.next,
            &data[cut..],
            Cow::Owned(slice_origin::<Vec<_>>(origin, cut, data.len() - cut)),
        )
    } else {
        (off, data, Cow::Borrowed(origin))
    };
    if off == st.next && st.ooo.is_empty() {
        st.deliver(chunk, Cow::Borrowed(data), &origin, keep);
        return conflict;
    }
    let (c, stored) = insert_first_wins(&mut st.ooo, off, data, &origin);
    st.ooo_bytes += stored;
    if conflict.is_none()
        && let Some(c) = c
    {
        conflict = Some((c.start, c.end, Some(c.first_frame)));
    }
    st.drain(chunk, keep);
    conflict
}

#[cfg(test)]
mod tests {
    use super::Tail;

    /// The ring keeps exactly the last `keep` bytes pushed since it was cleared.
    #[test]
    fn tail_keeps_the_last_bytes() {
        let keep = 10;
        let mut tail = Tail::default();
        let mut model: Vec<u8> = Vec::new();
        let mut next = 0u8;
        for (i, n) in [3, 4, 2, 5, 1, 0, 12, 7, 9, 10, 11, 3]
            .into_iter()
            .enumerate()
        {
            if i == 8 {
                tail.clear();
                model.clear();
            }
            let data: Vec<u8> = (0..n)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            tail.push(&data, keep);
            model.extend_from_slice(&data);
            let from = model.len().saturating_sub(keep);
            model.drain(..from);
            let got: Vec<u8> = (0..tail.len).map(|j| tail.get(j)).collect();
            assert_eq!(got, model, "after push {i} of {n} bytes");
        }
    }
}
