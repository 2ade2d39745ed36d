//! IPv4 / IPv6 headers (etherparse slices) and fragment reassembly.

use super::origin::{Origin, slice};
use crate::model::Timestamp;
use crate::tree::FrameSpan;
use etherparse::{
    IpAuthHeaderSlice, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice,
    Ipv6RawExtHeaderSlice,
};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Fragment fields of a packet that carries one fragment of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    pub id: u32,
    /// Byte offset of this fragment's data in the datagram's payload.
    pub offset: usize,
    pub more: bool,
}

/// A decoded IP header and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (for IPv6: after the extension headers that were walked).
    pub proto: u8,
    pub payload: &'a [u8],
    /// Byte offset of `payload` in the IP packet (header + extension headers).
    pub payload_offset: usize,
    /// Set when this packet is one fragment of a larger datagram.
    pub fragment: Option<Fragment>,
    /// The capture cut the packet (snaplen): payload shorter than the header says.
    pub truncated_by: usize,
}

/// Why an IP header could not be decoded.
pub type IpError = String;

/// Parse an IPv4 packet.
pub fn parse_ipv4(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    let h = Ipv4HeaderSlice::from_slice(data).map_err(|e| format!("IPv4 header: {e}"))?;
    let hlen = h.slice().len();
    let total = h.total_len() as usize;
    // total_len 0: TCP segmentation offload captured before the NIC filled it in.
    let (end, truncated_by) = if total == 0 {
        (data.len(), 0)
    } else if total < hlen {
        return Err(format!(
            "IPv4 total length {total} is smaller than its header length {hlen}"
        ));
    } else if total > data.len() {
        (data.len(), total - data.len())
    } else {
        (total, 0)
    };
    let frag_off = h.fragments_offset().byte_offset() as usize;
    let more = h.more_fragments();
    let fragment = (more || frag_off != 0).then_some(Fragment {
        id: h.identification() as u32,
        offset: frag_off,
        more,
    });
    Ok(IpPacket {
        src: IpAddr::V4(h.source_addr()),
        dst: IpAddr::V4(h.destination_addr()),
        proto: h.protocol().0,
        payload: &data[hlen..end],
        payload_offset: hlen,
        fragment,
        truncated_by,
    })
}

/// Parse an IPv6 packet, walking hop-by-hop, routing, destination options, authentication and
/// fragment headers. A fragment header that really fragments stops the walk: what follows is
/// the fragmentable part, walked again after reassembly ([`walk_ipv6_extensions`]).
pub fn parse_ipv6(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    let h = Ipv6HeaderSlice::from_slice(data).map_err(|e| format!("IPv6 header: {e}"))?;
    let plen = h.payload_length() as usize;
    let avail = data.len() - 40;
    // payload_length 0 with a jumbo option, or TSO: take what was captured.
    let (end, truncated_by) = if plen == 0 {
        (data.len(), 0)
    } else if plen > avail {
        (data.len(), plen - avail)
    } else {
        (40 + plen, 0)
    };
    let (proto, skipped, fragment) = walk_ipv6_extensions(h.next_header().0, &data[40..end])?;
    Ok(IpPacket {
        src: IpAddr::V6(h.source_addr()),
        dst: IpAddr::V6(h.destination_addr()),
        proto,
        payload: &data[40 + skipped..end],
        payload_offset: 40 + skipped,
        fragment,
        truncated_by,
    })
}

/// Walk IPv6 extension headers starting with `next` over `data`. Returns the upper-layer
/// protocol, the bytes of extension headers skipped, and the fragment header if one fragments
/// the payload (then the protocol is the fragment header's next header).
pub fn walk_ipv6_extensions(
    mut next: u8,
    data: &[u8],
) -> Result<(u8, usize, Option<Fragment>), IpError> {
    let mut off = 0;
    // A bound on the number of headers (each is at least 8 bytes, so this is generous).
    for _ in 0..32 {
        let rest = &data[off..];
        match next {
            0 | 43 | 60 => {
                let ext = Ipv6RawExtHeaderSlice::from_slice(rest).map_err(|e| {
                    format!("IPv6 extension header {next} at payload offset {off}: {e}")
                })?;
                next = ext.next_header().0;
                off += ext.slice().len();
            }
            51 => {
                let ah = IpAuthHeaderSlice::from_slice(rest)
                    .map_err(|e| format!("IPv6 authentication header at offset {off}: {e}"))?;
                next = ah.next_header().0;
                off += ah.slice().len();
            }
            44 => {
                let fh = Ipv6FragmentHeaderSlice::from_slice(rest)
                    .map_err(|e| format!("IPv6 fragment header at offset {off}: {e}"))?;
                next = fh.next_header().0;
                off += 8;
                if fh.is_fragmenting_payload() {
                    let frag = Fragment {
                        id: fh.identification(),
                        offset: fh.fragment_offset().byte_offset() as usize,
                        more: fh.more_fragments(),
                    };
                    return Ok((next, off, Some(frag)));
                }
                // An atomic fragment (offset 0, no more): the payload is whole.
            }
            _ => return Ok((next, off, None)),
        }
    }
    Err("more than 32 IPv6 extension headers".into())
}

/// Limits of fragment reassembly.
#[derive(Debug, Clone)]
pub struct DefragLimits {
    /// Fragments (including duplicates) accepted for one datagram.
    pub max_fragments: usize,
    /// Datagrams being reassembled at once; the oldest is dropped when a new one would exceed.
    pub max_datagrams: usize,
    /// Capture-time seconds after the first fragment before an incomplete datagram is dropped.
    pub timeout_secs: f64,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            max_fragments: 256,
            max_datagrams: 1024,
            timeout_secs: 30.0,
        }
    }
}

/// Largest reassembled payload: the IPv4 total length / IPv6 payload length are 16 bits.
const MAX_DATAGRAM: usize = 65535;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 keys on the protocol too (RFC 791); IPv6 does not (RFC 8200), so 0 there.
    proto: u8,
}

#[derive(Debug)]
struct Piece {
    data: Vec<u8>,
    origin: Origin,
}

#[derive(Debug)]
struct Datagram {
    /// Non-overlapping pieces by offset (first copy of any byte wins).
    pieces: BTreeMap<u64, Piece>,
    total: Option<usize>,
    fragments: usize,
    first_time: Timestamp,
    first_frame: u64,
    /// Protocol from the fragment at offset 0 (IPv6: the fragment header's next header).
    proto: u8,
    /// Fragments were handed in with IP headers of this version.
    v6: bool,
    dropped: bool,
}

/// A datagram put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    pub proto: u8,
    pub payload: Vec<u8>,
    /// Frame origin of every payload byte (offsets relative to `payload`).
    pub origin: Vec<FrameSpan>,
}

/// IPv4 and IPv6 fragment reassembly.
#[derive(Debug, Default)]
pub struct Defragmenter {
    limits: DefragLimits,
    pending: super::FlowMap<Key, Datagram>,
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            limits,
            pending: Default::default(),
        }
    }

    /// Datagrams waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Add one fragment (`data` = its payload, `origin` its frame origin). Returns the whole
    /// datagram when this fragment completes it. Problems go to `notes`.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        frag: Fragment,
        data: &[u8],
        origin: &[FrameSpan],
        frame: u64,
        time: Timestamp,
        notes: &mut Vec<(u64, String)>,
    ) -> Option<Reassembled> {
        let v6 = src.is_ipv6();
        let key = Key {
            src,
            dst,
            id: frag.id,
            proto: if v6 { 0 } else { proto },
        };
        let what = || {
            format!(
                "IPv{} datagram {src} -> {dst} id {:#x}",
                if v6 { 6 } else { 4 },
                frag.id
            )
        };
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.limits.max_datagrams {
                self.evict_oldest(frame, notes);
            }
            self.pending.insert(
                key.clone(),
                Datagram {
                    pieces: BTreeMap::new(),
                    total: None,
                    fragments: 0,
                    first_time: time,
                    first_frame: frame,
                    proto,
                    v6,
                    dropped: false,
                },
            );
        }
        let dg = self.pending.get_mut(&key).expect("inserted above");
        if dg.dropped {
            return None;
        }
        dg.fragments += 1;
        let end = frag.offset + data.len();
        if dg.fragments > self.limits.max_fragments || end > MAX_DATAGRAM {
            let why = if end > MAX_DATAGRAM {
                format!(
                    "fragment in frame {frame} ends at byte {end}, beyond the {MAX_DATAGRAM}-byte \
                     maximum"
                )
            } else {
                format!("more than {} fragments", self.limits.max_fragments)
            };
            notes.push((frame, format!("{}: {why}; datagram dropped", what())));
            // Keep the entry (empty) so later fragments are dropped quietly until the timeout.
            dg.pieces.clear();
            dg.dropped = true;
            return None;
        }
        if frag.offset == 0 {
            dg.proto = proto;
        }
        if !frag.more {
            match dg.total {
                None => dg.total = Some(end),
                Some(t) if t != end => notes.push((
                    frame,
                    format!(
                        "{}: last fragment in frame {frame} says the datagram ends at {end}, an \
                         earlier one said {t}; the first is kept",
                        what()
                    ),
                )),
                _ => {}
            }
        } else if !data.len().is_multiple_of(8) {
            notes.push((
                frame,
                format!(
                    "{}: fragment in frame {frame} has {} bytes, not a multiple of 8, but is not \
                     the last",
                    what(),
                    data.len()
                ),
            ));
        }
        if let (Some(c), _) = insert_first_wins(&mut dg.pieces, frag.offset as u64, data, origin) {
            notes.push((
                frame,
                format!(
                    "{}: fragment in frame {frame} overlaps bytes [{}, {}) with different \
                     content; the first copy (frame {}) is kept",
                    what(),
                    c.start,
                    c.end,
                    c.first_frame
                ),
            ));
        }
        let total = dg.total?;
        // Complete when the pieces cover [0, total) without a hole.
        let mut covered = 0;
        for (&off, p) in &dg.pieces {
            let off = off as usize;
            if off > covered {
                return None;
            }
            covered = covered.max(off + p.data.len());
        }
        if covered < total {
            return None;
        }
        let dg = self.pending.remove(&key).expect("present");
        let mut payload = Vec::with_capacity(total);
        let mut spans = Vec::new();
        for (off, p) in dg.pieces {
            let off = off as usize;
            if off >= total {
                break;
            }
            let take = p.data.len().min(total - off);
            for s in slice(&p.origin, 0, take) {
                spans.push(FrameSpan {
                    offset: s.offset + off,
                    ..s
                });
            }
            payload.extend_from_slice(&p.data[..take]);
        }
        if covered > total {
            notes.push((
                frame,
                format!(
                    "{}: fragments carry {} bytes beyond the end ({total}) given by the last \
                     fragment; ignored",
                    what(),
                    covered - total
                ),
            ));
        }
        Some(Reassembled {
            proto: dg.proto,
            payload,
            origin: spans,
        })
    }

    /// Drop datagrams older than the timeout (capture time `now`), with a note each.
    pub fn expire(&mut self, now: Timestamp, frame: u64, notes: &mut Vec<(u64, String)>) {
        let timeout = self.limits.timeout_secs;
        let expired: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, d)| d.first_time.seconds_until(now) > timeout)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            let d = self.pending.remove(&k).expect("present");
            if !d.dropped {
                notes.push((frame, incomplete_note(&k, &d, "timed out")));
            }
        }
    }

    /// Report every incomplete datagram (end of capture).
    pub fn flush(&mut self, frame: u64, notes: &mut Vec<(u64, String)>) {
        let mut all: Vec<(Key, Datagram)> = self.pending.drain().collect();
        all.sort_by_key(|(_, d)| d.first_frame);
        for (k, d) in all {
            if !d.dropped {
                notes.push((frame, incomplete_note(&k, &d, "never completed")));
            }
        }
    }

    fn evict_oldest(&mut self, frame: u64, notes: &mut Vec<(u64, String)>) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, d)| d.first_frame)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            let d = self.pending.remove(&k).expect("present");
            if !d.dropped {
                let why = format!(
                    "evicted (more than {} datagrams in reassembly)",
                    self.limits.max_datagrams
                );
                notes.push((frame, incomplete_note(&k, &d, &why)));
            }
        }
    }
}

fn incomplete_note(k: &Key, d: &Datagram, why: &str) -> String {
    let mut missing = Vec::new();
    let mut at = 0;
    for (&off, p) in &d.pieces {
        let off = off as usize;
        if off > at {
            missing.push(format!("[{at}, {off})"));
        }
        at = at.max(off + p.data.len());
    }
    match d.total {
        Some(t) if at < t => missing.push(format!("[{at}, {t})")),
        None => missing.push(format!("[{at}, end unknown: last fragment not seen)")),
        _ => {}
    }
    format!(
        "incomplete IPv{} datagram {} -> {} id {:#x} (first fragment frame {}, {} fragments): {}; \
         missing bytes {}",
        if d.v6 { 6 } else { 4 },
        k.src,
        k.dst,
        k.id,
        d.first_frame,
        d.fragments,
        why,
        missing.join(", ")
    )
}

/// An overlap whose bytes differ from the copy already held.
pub(crate) struct Conflict {
    pub start: u64,
    pub end: u64,
    pub first_frame: u64,
}

/// Anything stored in an offset-keyed, non-overlapping map of pieces.
pub(crate) trait PieceLike {
    fn new(data: Vec<u8>, origin: Origin) -> Self;
    fn data(&self) -> &[u8];
    fn origin(&self) -> &Origin;
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

/// Insert `data` (origin relative to it) at `offset` into non-overlapping `pieces`, keeping
/// bytes already present (the first copy wins) and adding only what is new. Returns the first
/// overlap whose bytes differ, if any, and how many new bytes were stored.
pub(crate) fn insert_first_wins<P: PieceLike>(
    pieces: &mut BTreeMap<u64, P>,
    offset: u64,
    data: &[u8],
    origin: &[FrameSpan],
) -> (Option<Conflict>, usize) {
    let start = offset;
    let end = start + data.len() as u64;
    let mut conflict: Option<Conflict> = None;
    let mut gaps: Vec<(u64, u64)> = Vec::new();
    let mut at = start;
    // The piece starting before `start` may reach into the new range.
    let before = pieces.range(..offset).next_back();
    let after = pieces.range(offset..);
    for (&k, p) in before.into_iter().chain(after) {
        let ps = k;
        let pe = ps + p.data().len() as u64;
        if ps >= end {
            break;
        }
        if pe <= at {
            continue;
        }
        if ps > at {
            gaps.push((at, ps));
        }
        // Overlap [max(ps, start), min(pe, end)).
        let os = ps.max(start);
        let oe = pe.min(end);
        if os < oe && conflict.is_none() {
            let old = &p.data()[(os - ps) as usize..(oe - ps) as usize];
            let new = &data[(os - start) as usize..(oe - start) as usize];
            if old != new {
                // Narrow to the differing bytes.
                let first = old.iter().zip(new).position(|(a, b)| a != b).unwrap_or(0);
                let last = old.iter().zip(new).rposition(|(a, b)| a != b).unwrap_or(0);
                let in_piece = (os - ps) as usize + first;
                conflict = Some(Conflict {
                    start: os + first as u64,
                    end: os + last as u64 + 1,
                    first_frame: frame_at(p.origin(), in_piece),
                });
            }
        }
        at = at.max(pe);
    }
    if at < end {
        gaps.push((at, end));
    }
    let mut stored = 0;
    for (gs, ge) in gaps {
        let rel = (gs - start) as usize;
        let len = (ge - gs) as usize;
        stored += len;
        pieces.insert(
            gs,
            P::new(data[rel..rel + len].to_vec(), slice(origin, rel, len)),
        );
    }
    (conflict, stored)
}

fn frame_at(origin: &[FrameSpan], at: usize) -> u64 {
    origin
        .iter()
        .find(|s| at >= s.offset && at < s.offset + s.len)
        .or(origin.last())
        .map_or(0, |s| s.frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(frame: u64, len: usize) -> Vec<FrameSpan> {
        vec![FrameSpan {
            offset: 0,
            len,
            frame,
        }]
    }

    #[test]
    fn first_copy_wins_and_conflict_is_narrowed() {
        let mut m: BTreeMap<u64, Piece> = BTreeMap::new();
        assert_eq!(insert_first_wins(&mut m, 10, b"abcdef", &span(1, 6)).1, 6);
        // Overlaps [8, 14): bytes 10..14 are "abcd" held, new has "abXd" -> conflict at 12.
        let (c, stored) = insert_first_wins(&mut m, 8, b"xyabXd", &span(2, 6));
        let c = c.unwrap();
        assert_eq!(stored, 2);
        assert_eq!((c.start, c.end, c.first_frame), (12, 13, 1));
        let got: Vec<(u64, Vec<u8>, u64)> = m
            .iter()
            .map(|(k, p)| (*k, p.data.clone(), p.origin[0].frame))
            .collect();
        assert_eq!(
            got,
            vec![(8, b"xy".to_vec(), 2), (10, b"abcdef".to_vec(), 1)]
        );
    }

    #[test]
    fn ipv6_extension_walk_stops_at_fragmenting_header() {
        // hop-by-hop (8 bytes) -> fragment (offset 8, more) -> UDP
        let mut d = vec![44, 0, 0, 0, 0, 0, 0, 0];
        d.extend_from_slice(&[17, 0, 0, 9, 0, 0, 0, 7]); // offset 1*8, M=1, id 7
        d.extend_from_slice(b"payload!");
        let (proto, skipped, frag) = walk_ipv6_extensions(0, &d).unwrap();
        assert_eq!((proto, skipped), (17, 16));
        assert_eq!(
            frag,
            Some(Fragment {
                id: 7,
                offset: 8,
                more: true
            })
        );
        // An atomic fragment does not fragment: the walk continues to UDP.
        let atomic = [17, 0, 0, 0, 0, 0, 0, 1, 0xAA];
        assert_eq!(walk_ipv6_extensions(44, &atomic).unwrap(), (17, 8, None));
        // Truncated destination options header.
        assert!(walk_ipv6_extensions(60, &[17, 1, 0]).is_err());
    }
}
