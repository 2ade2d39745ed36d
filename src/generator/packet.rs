//! Ethernet / IPv4 / UDP / TCP frame building with correct lengths and checksums, and a TCP
//! connection model (handshake, MSS segmentation, acknowledgements, FIN) that keeps
//! sequence and acknowledgement numbers right.

use super::Timeline;
use super::rng::Rng;

/// One end of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub mac: [u8; 6],
    pub ip: [u8; 4],
    pub port: u16,
}

pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

const ETH_LEN: usize = 14;
const IP_LEN: usize = 20;

fn checksum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    sum
}

fn checksum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 headers into `frame[0..34]`, for an IP payload of `l4_len` bytes.
fn put_eth_ip(
    frame: &mut [u8],
    src: &Endpoint,
    dst: &Endpoint,
    proto: u8,
    ip_id: u16,
    l4_len: usize,
) {
    frame[0..6].copy_from_slice(&dst.mac);
    frame[6..12].copy_from_slice(&src.mac);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut frame[ETH_LEN..ETH_LEN + IP_LEN];
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2..4].copy_from_slice(&((IP_LEN + l4_len) as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
    ip[6..8].copy_from_slice(&[0x40, 0x00]); // don't fragment
    ip[8] = 64;
    ip[9] = proto;
    ip[10..12].copy_from_slice(&[0, 0]);
    ip[12..16].copy_from_slice(&src.ip);
    ip[16..20].copy_from_slice(&dst.ip);
    let c = checksum_fold(checksum_add(0, ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
}

fn pseudo_header_sum(src: &Endpoint, dst: &Endpoint, proto: u8, len: usize) -> u32 {
    let mut sum = checksum_add(0, &src.ip);
    sum = checksum_add(sum, &dst.ip);
    sum + proto as u32 + len as u32
}

/// A complete Ethernet/IPv4/UDP frame.
pub fn udp_frame(src: &Endpoint, dst: &Endpoint, ip_id: u16, payload: &[u8]) -> Vec<u8> {
    let l4_len = 8 + payload.len();
    let mut f = vec![0u8; ETH_LEN + IP_LEN + l4_len];
    put_eth_ip(&mut f, src, dst, 17, ip_id, l4_len);
    let u = &mut f[ETH_LEN + IP_LEN..];
    u[0..2].copy_from_slice(&src.port.to_be_bytes());
    u[2..4].copy_from_slice(&dst.port.to_be_bytes());
    u[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
    u[8..].copy_from_slice(payload);
    let mut c = checksum_fold(checksum_add(pseudo_header_sum(src, dst, 17, l4_len), u));
    if c == 0 {
        c = 0xffff;
    }
    u[6..8].copy_from_slice(&c.to_be_bytes());
    f
}

/// A complete Ethernet/IPv4/TCP frame. `options` must be a multiple of 4 bytes long.
#[allow(clippy::too_many_arguments)]
pub fn tcp_frame(
    src: &Endpoint,
    dst: &Endpoint,
    ip_id: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let hlen = 20 + options.len();
    let l4_len = hlen + payload.len();
    let mut f = vec![0u8; ETH_LEN + IP_LEN + l4_len];
    put_eth_ip(&mut f, src, dst, 6, ip_id, l4_len);
    let t = &mut f[ETH_LEN + IP_LEN..];
    t[0..2].copy_from_slice(&src.port.to_be_bytes());
    t[2..4].copy_from_slice(&dst.port.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = ((hlen / 4) as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&65535u16.to_be_bytes());
    t[20..hlen].copy_from_slice(options);
    t[hlen..].copy_from_slice(payload);
    let c = checksum_fold(checksum_add(pseudo_header_sum(src, dst, 6, l4_len), t));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    f
}

/// Which side of a TCP connection sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// A TCP connection between a client and a server, writing its packets into a [`Timeline`].
#[derive(Debug, Clone)]
pub struct TcpFlow {
    pub client: Endpoint,
    pub server: Endpoint,
    client_seq: u32,
    server_seq: u32,
    client_ip_id: u16,
    server_ip_id: u16,
    /// Half the round-trip time, ns.
    half_rtt: u64,
    pub mss: usize,
    /// Network impairment of data segments, when asked for.
    impair: Option<Impairment>,
}

/// Probability, per data segment, of an impairment: half the time the segment is sent twice
/// (a retransmission), half the time it swaps places with the next one (out of order).
#[derive(Debug, Clone)]
struct Impairment {
    probability: f64,
    rng: Rng,
}

/// Time to put one full segment on the wire (≈ 100 Mbit/s), ns.
const SEGMENT_GAP_NS: u64 = 120_000;

impl TcpFlow {
    pub fn new(client: Endpoint, server: Endpoint, isn: (u32, u32), rtt_ns: u64) -> TcpFlow {
        TcpFlow {
            client,
            server,
            client_seq: isn.0,
            server_seq: isn.1,
            client_ip_id: (isn.0 >> 16) as u16,
            server_ip_id: (isn.1 >> 16) as u16,
            half_rtt: rtt_ns / 2,
            mss: 1460,
            impair: None,
        }
    }

    /// Impair the data segments of this flow with probability `p` each (see [`Impairment`]).
    pub fn impaired(mut self, p: f64, seed: u64) -> TcpFlow {
        if p > 0.0 {
            self.impair = Some(Impairment {
                probability: p,
                rng: Rng::new(seed),
            });
        }
        self
    }

    fn seq_of(&self, side: Side) -> u32 {
        match side {
            Side::Client => self.client_seq,
            Side::Server => self.server_seq,
        }
    }

    /// A frame from `from` with explicit sequence and acknowledgement numbers.
    fn frame_at(&mut self, from: Side, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, id) = match from {
            Side::Client => (self.client, self.server, &mut self.client_ip_id),
            Side::Server => (self.server, self.client, &mut self.server_ip_id),
        };
        *id = id.wrapping_add(1);
        tcp_frame(&src, &dst, *id, seq, ack, flags, &[], payload)
    }

    fn frame(&mut self, from: Side, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let (src, dst, seq, ack, id) = match from {
            Side::Client => (
                self.client,
                self.server,
                self.client_seq,
                self.server_seq,
                &mut self.client_ip_id,
            ),
            Side::Server => (
                self.server,
                self.client,
                self.server_seq,
                self.client_seq,
                &mut self.server_ip_id,
            ),
        };
        *id = id.wrapping_add(1);
        let ackno = if flags & tcp_flags::ACK != 0 { ack } else { 0 };
        tcp_frame(&src, &dst, *id, seq, ackno, flags, options, payload)
    }

    fn advance_seq(&mut self, from: Side, n: u32) {
        match from {
            Side::Client => self.client_seq = self.client_seq.wrapping_add(n),
            Side::Server => self.server_seq = self.server_seq.wrapping_add(n),
        }
    }

    /// SYN, SYN-ACK, ACK. The SYNs carry an MSS option.
    pub fn open(&mut self, tl: &mut Timeline) {
        let mss = (self.mss as u16).to_be_bytes();
        let opt = [2, 4, mss[0], mss[1]];
        let f = self.frame(Side::Client, tcp_flags::SYN, &opt, &[]);
        tl.push(f);
        self.advance_seq(Side::Client, 1);
        tl.advance(self.half_rtt);
        let f = self.frame(Side::Server, tcp_flags::SYN | tcp_flags::ACK, &opt, &[]);
        tl.push(f);
        self.advance_seq(Side::Server, 1);
        tl.advance(self.half_rtt);
        let f = self.frame(Side::Client, tcp_flags::ACK, &[], &[]);
        tl.push(f);
        tl.advance(20_000);
    }

    /// Send `data` from `from` in MSS-sized segments, the receiver acknowledging every second
    /// segment and the last one (and at once, with a duplicate ACK, a segment after a gap).
    /// Returns the index in `tl` of the segment that completes the data (the last one to
    /// arrive that brings new bytes: where a dissector completes the message).
    pub fn send(&mut self, tl: &mut Timeline, from: Side, data: &[u8]) -> usize {
        let to = match from {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        let base = self.seq_of(from);
        let their_seq = self.seq_of(to);
        let n = data.len().div_ceil(self.mss).max(1);
        if data.is_empty() {
            return 0;
        }
        let mss = self.mss;
        let seg_range = move |k: usize| (k * mss).min(data.len())..((k + 1) * mss).min(data.len());
        // Transmission order, and which segments are sent twice.
        let mut order: Vec<usize> = (0..n).collect();
        let mut twice = vec![false; n];
        if let Some(imp) = self.impair.as_mut() {
            let mut k = 0;
            while k < n {
                if imp.rng.chance(imp.probability) {
                    if imp.rng.chance(0.5) && k + 1 < n {
                        order.swap(k, k + 1);
                        k += 1;
                    } else {
                        twice[order[k]] = true;
                    }
                }
                k += 1;
            }
        }
        let mut received = vec![false; n];
        let mut contiguous = 0; // segments received in order so far
        let mut last_new = 0;
        for (sent, &k) in order.iter().enumerate() {
            let r = seg_range(k);
            let seg = &data[r.clone()];
            let flags = tcp_flags::ACK | if k + 1 == n { tcp_flags::PSH } else { 0 };
            let seq = base.wrapping_add(r.start as u32);
            let f = self.frame_at(from, seq, their_seq, flags, seg);
            last_new = tl.push(f);
            tl.advance(SEGMENT_GAP_NS * seg.len() as u64 / 1460 + 1_000);
            received[k] = true;
            let gap = k != contiguous;
            while contiguous < n && received[contiguous] {
                contiguous += 1;
            }
            if twice[k] {
                // The same bytes again, as after a lost ACK.
                tl.advance(200_000);
                let f = self.frame_at(from, seq, their_seq, flags, seg);
                tl.push(f);
                tl.advance(1_000);
            }
            if sent % 2 == 1 || sent + 1 == n || gap || twice[k] {
                let acked_bytes = match contiguous {
                    0 => 0,
                    c => seg_range(c - 1).end,
                };
                let acked = base.wrapping_add(acked_bytes as u32);
                let f = self.frame_at(to, their_seq, acked, tcp_flags::ACK, &[]);
                tl.push(f);
                tl.advance(2_000);
            }
        }
        self.advance_seq(from, data.len() as u32);
        tl.advance(self.half_rtt);
        last_new
    }

    /// Client FIN, server FIN, client ACK.
    pub fn close(&mut self, tl: &mut Timeline) {
        let f = self.frame(Side::Client, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        tl.push(f);
        self.advance_seq(Side::Client, 1);
        tl.advance(self.half_rtt);
        let f = self.frame(Side::Server, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        tl.push(f);
        self.advance_seq(Side::Server, 1);
        tl.advance(self.half_rtt);
        let f = self.frame(Side::Client, tcp_flags::ACK, &[], &[]);
        tl.push(f);
        tl.advance(10_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: [u8; 4], port: u16) -> Endpoint {
        Endpoint {
            mac: [2, 0, ip[0], ip[1], ip[2], ip[3]],
            ip,
            port,
        }
    }

    /// Checksums verified by summing over header + data: a correct one sums to 0xffff.
    #[test]
    fn checksums_verify_with_etherparse() {
        let a = ep([10, 0, 0, 1], 9200);
        let b = ep([10, 0, 0, 2], 2948);
        let f = udp_frame(&a, &b, 7, b"hello");
        let p = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = p.net else {
            panic!("not ipv4")
        };
        assert_eq!(
            ip.header().header_checksum(),
            ip.header().to_header().calc_header_checksum()
        );
        let Some(etherparse::TransportSlice::Udp(u)) = p.transport else {
            panic!("not udp")
        };
        let h = u.to_header();
        assert_eq!(
            h.checksum,
            h.calc_checksum_ipv4(&ip.header().to_header(), b"hello")
                .unwrap()
        );
        assert_eq!(u.payload(), b"hello");

        let f = tcp_frame(
            &a,
            &b,
            1,
            1000,
            2000,
            tcp_flags::ACK,
            &[2, 4, 5, 0xb4],
            b"xyz",
        );
        let p = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = p.net else {
            panic!("not ipv4")
        };
        let Some(etherparse::TransportSlice::Tcp(t)) = p.transport else {
            panic!("not tcp")
        };
        assert_eq!(t.sequence_number(), 1000);
        assert_eq!(t.acknowledgment_number(), 2000);
        assert_eq!(t.payload(), b"xyz");
        let h = t.to_header();
        assert_eq!(
            h.checksum,
            h.calc_checksum_ipv4(&ip.header().to_header(), b"xyz")
                .unwrap()
        );
    }

    #[test]
    fn flow_sequence_numbers() {
        let mut tl = Timeline::new(0);
        let mut flow = TcpFlow::new(
            ep([10, 0, 0, 1], 40000),
            ep([10, 0, 0, 2], 80),
            (100, 5000),
            40_000_000,
        );
        flow.open(&mut tl);
        let data = vec![b'x'; 3000];
        let last = flow.send(&mut tl, Side::Client, &data);
        flow.close(&mut tl);
        let pkts = tl.into_packets();
        // SYN, SYN-ACK, ACK, seg, seg, ACK, seg, ACK, FIN, FIN, ACK
        assert_eq!(pkts.len(), 11);
        assert_eq!(last, 6);
        let tcp = |i: usize| {
            let p = etherparse::SlicedPacket::from_ethernet(&pkts[i].data).unwrap();
            match p.transport {
                Some(etherparse::TransportSlice::Tcp(t)) => t.to_header(),
                _ => panic!(),
            }
        };
        assert!(tcp(0).syn && tcp(0).sequence_number == 100);
        assert!(tcp(1).syn && tcp(1).ack && tcp(1).acknowledgment_number == 101);
        assert_eq!(tcp(3).sequence_number, 101);
        assert_eq!(tcp(4).sequence_number, 101 + 1460);
        assert_eq!(tcp(6).sequence_number, 101 + 2920);
        assert!(tcp(6).psh);
        assert_eq!(tcp(7).acknowledgment_number, 101 + 3000);
        assert!(tcp(8).fin && tcp(8).sequence_number == 3101);
        assert_eq!(tcp(10).acknowledgment_number, 5002);
        // Times never go backwards.
        assert!(pkts.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    }

    /// With impairment, every byte is still sent, at the right sequence number, and the
    /// segment reported as completing the data is the last one bringing new bytes.
    #[test]
    fn impaired_flow_delivers_every_byte() {
        let mut tl = Timeline::new(0);
        let mut flow = TcpFlow::new(
            ep([10, 0, 0, 1], 40000),
            ep([10, 0, 0, 2], 80),
            (u32::MAX - 5000, 5000),
            40_000_000,
        )
        .impaired(0.3, 9);
        flow.open(&mut tl);
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let last = flow.send(&mut tl, Side::Client, &data);
        let pkts = tl.into_packets();
        let mut rebuilt = vec![None; data.len()];
        let mut data_frames = 0;
        let mut dups = 0;
        let mut out_of_order = 0;
        let mut highest = 0usize;
        let mut completing = None;
        for (i, p) in pkts.iter().enumerate().skip(3) {
            let s = etherparse::SlicedPacket::from_ethernet(&p.data).unwrap();
            let Some(etherparse::TransportSlice::Tcp(t)) = s.transport else {
                panic!()
            };
            if t.payload().is_empty() || t.source_port() != 40000 {
                continue;
            }
            data_frames += 1;
            let off = t.sequence_number().wrapping_sub(u32::MAX - 4999) as usize;
            if off < highest {
                out_of_order += 1;
            }
            highest = highest.max(off);
            let mut new = false;
            for (j, b) in t.payload().iter().enumerate() {
                if rebuilt[off + j].is_none() {
                    new = true;
                }
                if let Some(old) = rebuilt[off + j] {
                    assert_eq!(old, *b);
                    dups += (j == 0) as usize;
                }
                rebuilt[off + j] = Some(*b);
            }
            if new {
                completing = Some(i);
            }
        }
        let rebuilt: Vec<u8> = rebuilt.into_iter().map(|b| b.unwrap()).collect();
        assert_eq!(rebuilt, data);
        assert!(
            dups > 0 && out_of_order > 0,
            "dups {dups}, out of order {out_of_order}"
        );
        assert_eq!(data_frames, 28 + dups);
        assert_eq!(Some(last), completing);
    }
}
