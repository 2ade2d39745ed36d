//! Minimal capture reading for the transport tests: pcap/pcapng with Ethernet, IPv4/IPv6, TCP
//! and UDP, and a simple in-order TCP stream assembler. Just enough to feed the shipped lab
//! captures to the HTTP and WAP parsers; the real capture/net stages live in `src/net`.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub enum Proto {
    Tcp { seq: u32, flags: u8 },
    Udp,
}

#[derive(Debug, Clone)]
pub struct Packet {
    /// 1-based, as Wireshark counts.
    pub frame: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub proto: Proto,
    pub payload: Vec<u8>,
}

fn u16be(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

fn u32le(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// Frames of a capture: (frame number, link type, bytes).
fn frames(data: &[u8]) -> Vec<(u64, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut n = 0;
    if u32le(data, 0) == 0x0A0D0D0A {
        let mut links = Vec::new();
        let mut pos = 0;
        while pos + 12 <= data.len() {
            let ty = u32le(data, pos);
            let len = u32le(data, pos + 4) as usize;
            let body = &data[pos + 8..pos + len - 4];
            match ty {
                0x0A0D0D0A => links.clear(),
                1 => links.push(u32::from(u16::from_le_bytes([body[0], body[1]]))),
                6 => {
                    n += 1;
                    let caplen = u32le(body, 12) as usize;
                    let link = links[u32le(body, 0) as usize];
                    out.push((n, link, body[20..20 + caplen].to_vec()));
                }
                3 => {
                    n += 1;
                    out.push((n, links[0], body[4..].to_vec()));
                }
                _ => {}
            }
            pos += len;
        }
    } else {
        let magic = u32le(data, 0);
        assert!(
            magic == 0xa1b2c3d4 || magic == 0xa1b23c4d,
            "little-endian pcap only"
        );
        let link = u32le(data, 20);
        let mut pos = 24;
        while pos + 16 <= data.len() {
            let caplen = u32le(data, pos + 8) as usize;
            n += 1;
            out.push((n, link, data[pos + 16..pos + 16 + caplen].to_vec()));
            pos += 16 + caplen;
        }
    }
    out
}

/// Read every TCP/UDP packet of a capture in the repository's `captures/` directory.
pub fn read_capture(name: &str) -> Vec<Packet> {
    let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    for (frame, link, b) in frames(&data) {
        assert_eq!(link, 1, "Ethernet captures only");
        let mut et = u16be(&b, 12);
        let mut off = 14;
        while et == 0x8100 {
            et = u16be(&b, off + 2);
            off += 4;
        }
        let (src, dst, proto, l4) = match et {
            0x0800 => {
                let ihl = usize::from(b[off] & 0x0f) * 4;
                let total = usize::from(u16be(&b, off + 2));
                let s: [u8; 4] = b[off + 12..off + 16].try_into().unwrap();
                let d: [u8; 4] = b[off + 16..off + 20].try_into().unwrap();
                (
                    IpAddr::from(s),
                    IpAddr::from(d),
                    b[off + 9],
                    &b[off + ihl..off + total],
                )
            }
            0x86dd => {
                let plen = usize::from(u16be(&b, off + 4));
                let s: [u8; 16] = b[off + 8..off + 24].try_into().unwrap();
                let d: [u8; 16] = b[off + 24..off + 40].try_into().unwrap();
                (
                    IpAddr::from(s),
                    IpAddr::from(d),
                    b[off + 6],
                    &b[off + 40..off + 40 + plen],
                )
            }
            _ => continue,
        };
        match proto {
            6 => {
                let doff = usize::from(l4[12] >> 4) * 4;
                out.push(Packet {
                    frame,
                    src: SocketAddr::new(src, u16be(l4, 0)),
                    dst: SocketAddr::new(dst, u16be(l4, 2)),
                    proto: Proto::Tcp {
                        seq: u32::from_be_bytes(l4[4..8].try_into().unwrap()),
                        flags: l4[13],
                    },
                    payload: l4[doff..].to_vec(),
                });
            }
            17 => out.push(Packet {
                frame,
                src: SocketAddr::new(src, u16be(l4, 0)),
                dst: SocketAddr::new(dst, u16be(l4, 2)),
                proto: Proto::Udp,
                payload: l4[8..].to_vec(),
            }),
            _ => {}
        }
    }
    out
}

/// What happened on one direction of a TCP connection, in capture order.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// (client_to_server, bytes, frame)
    Data(bool, Vec<u8>, u64),
    Gap(bool, u64),
    Close(bool),
}

/// TCP connections of a capture: (client, server, events). Assumes the lab captures' TCP is
/// in order (retransmitted bytes are dropped by sequence number; a jump forward is a gap).
pub fn tcp_connections(packets: &[Packet]) -> Vec<(SocketAddr, SocketAddr, Vec<StreamEvent>)> {
    // (client, server, events, next expected sequence number per direction)
    type Conn = (SocketAddr, SocketAddr, Vec<StreamEvent>, [Option<u32>; 2]);
    let mut conns: Vec<Conn> = Vec::new();
    for p in packets {
        let Proto::Tcp { seq, flags } = p.proto else {
            continue;
        };
        let idx = conns
            .iter()
            .position(|c| (c.0 == p.src && c.1 == p.dst) || (c.0 == p.dst && c.1 == p.src));
        let idx = match idx {
            Some(i) => i,
            None => {
                // The SYN sender (or first sender) is the client.
                let (c, s) = if flags & 0x12 == 0x12 {
                    (p.dst, p.src)
                } else {
                    (p.src, p.dst)
                };
                conns.push((c, s, Vec::new(), [None, None]));
                conns.len() - 1
            }
        };
        let c = &mut conns[idx];
        let c2s = p.src == c.0;
        let d = if c2s { 0 } else { 1 };
        if flags & 0x02 != 0 {
            c.3[d] = Some(seq.wrapping_add(1));
            continue;
        }
        let next = c.3[d].get_or_insert(seq);
        if !p.payload.is_empty() {
            let delta = seq.wrapping_sub(*next) as i32;
            if delta > 0 {
                c.2.push(StreamEvent::Gap(c2s, delta as u64));
                *next = seq;
            }
            let skip = (-(seq.wrapping_sub(*next) as i32)).max(0) as usize;
            if skip < p.payload.len() {
                c.2.push(StreamEvent::Data(c2s, p.payload[skip..].to_vec(), p.frame));
                *next = next.wrapping_add((p.payload.len() - skip) as u32);
            }
        }
        if flags & 0x01 != 0 {
            c.2.push(StreamEvent::Close(c2s));
        }
    }
    conns.into_iter().map(|(a, b, e, _)| (a, b, e)).collect()
}

/// A lab PDU from tests/data/pdus.
pub fn pdu(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/pdus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
