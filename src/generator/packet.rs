//! Ethernet / IPv4 / UDP / TCP frame building with correct lengths and checksums, and a TCP
//! connection model (handshake, MSS segmentation, acknowledgements, FIN) that keeps
//! sequence and acknowledgement numbers right.

use super::Timeline;

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
        }
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
    /// segment and the last one. Returns the index in `tl` of the segment carrying the last
    /// byte (where a dissector completes the message).
    pub fn send(&mut self, tl: &mut Timeline, from: Side, data: &[u8]) -> usize {
        let to = match from {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        let mut last = 0;
        let n = data.len().div_ceil(self.mss).max(1);
        for (i, seg) in data.chunks(self.mss).enumerate() {
            let is_last = i + 1 == n;
            let flags = tcp_flags::ACK | if is_last { tcp_flags::PSH } else { 0 };
            let f = self.frame(from, flags, &[], seg);
            last = tl.push(f);
            self.advance_seq(from, seg.len() as u32);
            tl.advance(SEGMENT_GAP_NS * seg.len() as u64 / 1460 + 1_000);
            if i % 2 == 1 || is_last {
                let f = self.frame(to, tcp_flags::ACK, &[], &[]);
                tl.push(f);
                tl.advance(2_000);
            }
        }
        tl.advance(self.half_rtt);
        last
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
}
