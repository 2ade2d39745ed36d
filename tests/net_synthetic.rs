//! Synthetic impaired traffic built with etherparse's PacketBuilder: reordered, duplicated,
//! overlapping and missing TCP segments, IP fragments out of order and overlapping (IPv4 and
//! IPv6), and every supported link layer.

use etherparse::{
    IpFragOffset, IpNumber, Ipv4Header, Ipv6FragmentHeader, Ipv6Header, PacketBuilder,
};
use mmscope::capture::LinkType;
use mmscope::model::Timestamp;
use mmscope::net::{CloseReason, Decoder, Direction, Event, Limits, TcpClosed, TcpGap, TcpLimits};
use std::net::SocketAddr;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const CP: u16 = 40000;
const SP: u16 = 80;

fn t(i: usize) -> Timestamp {
    Timestamp {
        secs: 1000 + i as i64 / 10,
        nanos: (i as u32 % 10) * 100_000_000,
    }
}

/// An Ethernet/IPv4/TCP frame. `flags`: S (SYN), F (FIN), R (RST); `ack` sets ACK.
fn tcp(from_client: bool, seq: u32, ack: Option<u32>, flags: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (C, S, CP, SP)
    } else {
        (S, C, SP, CP)
    };
    let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 65535);
    if flags.contains('S') {
        b = b.syn();
    }
    if flags.contains('F') {
        b = b.fin();
    }
    if flags.contains('R') {
        b = b.rst();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn run(frames: &[Vec<u8>], limits: Limits) -> Vec<Event<'static>> {
    run_link(
        frames
            .iter()
            .map(|f| (LinkType::ETHERNET, 0, f.clone()))
            .collect(),
        limits,
    )
}

fn run_link(frames: Vec<(LinkType, u32, Vec<u8>)>, limits: Limits) -> Vec<Event<'static>> {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    for (i, (link, iface, f)) in frames.iter().enumerate() {
        d.decode_owned(i as u64 + 1, t(i), *link, *iface, f, &mut out);
    }
    d.finish(&mut out);
    out
}

/// The bytes of one direction, with the frame of every byte, and the gaps.
fn stream(events: &[Event<'static>], dir: Direction) -> (Vec<u8>, Vec<u64>, Vec<TcpGap>) {
    let mut data = Vec::new();
    let mut frames = Vec::new();
    let mut gaps = Vec::new();
    for e in events {
        match e {
            Event::TcpData(d) if d.dir == dir => {
                let skipped: u64 = gaps.iter().map(|g: &TcpGap| g.len).sum();
                assert_eq!(d.stream_offset, data.len() as u64 + skipped);
                let mut f = vec![0; d.data.len()];
                for o in &d.origin {
                    for x in &mut f[o.offset..o.offset + o.len] {
                        *x = o.frame;
                    }
                }
                assert!(f.iter().all(|&x| x != 0), "every byte has a frame");
                frames.extend(f);
                data.extend_from_slice(&d.data);
            }
            Event::TcpGap(g) if g.dir == dir => gaps.push(g.clone()),
            _ => {}
        }
    }
    (data, frames, gaps)
}

fn notes(events: &[Event<'static>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Note { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn closes(events: &[Event<'static>]) -> Vec<TcpClosed> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TcpClosed(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn message(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

const ISN_C: u32 = 1_000_000;
const ISN_S: u32 = 5_000_000;

fn handshake() -> Vec<Vec<u8>> {
    vec![
        tcp(true, ISN_C, None, "S", b""),
        tcp(false, ISN_S, Some(ISN_C + 1), "S", b""),
        tcp(true, ISN_C + 1, Some(ISN_S + 1), "", b""),
    ]
}

/// Client data segment [a, b) of `msg`.
fn seg(msg: &[u8], isn: u32, a: usize, b: usize) -> Vec<u8> {
    tcp(
        true,
        isn.wrapping_add(1 + a as u32),
        Some(ISN_S + 1),
        "",
        &msg[a..b],
    )
}

fn close(isn_c: u32, c_len: usize) -> Vec<Vec<u8>> {
    let c_fin = isn_c.wrapping_add(1 + c_len as u32);
    vec![
        tcp(true, c_fin, Some(ISN_S + 1), "F", b""),
        tcp(false, ISN_S + 1, Some(c_fin.wrapping_add(1)), "F", b""),
        tcp(true, c_fin.wrapping_add(1), Some(ISN_S + 2), "", b""),
    ]
}

#[test]
fn reordered_duplicated_and_overlapping_segments_reassemble_exactly() {
    let msg = message(5000);
    let mut frames = handshake();
    // (a, b) ranges in capture order: reordering, a duplicate, an overlapping retransmission.
    let order = [
        (0, 500),
        (1000, 1500),
        (500, 1000),
        (2000, 2500),
        (1500, 2000),
        (1500, 2000),
        (2300, 3100),
        (2500, 3000),
        (3000, 3500),
        (4000, 4500),
        (3500, 4000),
        (4500, 5000),
    ];
    for &(a, b) in &order {
        frames.push(seg(&msg, ISN_C, a, b));
    }
    frames.extend(close(ISN_C, msg.len()));
    let ev = run(&frames, Limits::default());
    let (data, byte_frames, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(data, msg);
    assert!(gaps.is_empty());
    assert!(notes(&ev).is_empty(), "{:?}", notes(&ev));
    // Each byte's origin is the first frame that carried it.
    for (i, &f) in byte_frames.iter().enumerate() {
        let first = order.iter().position(|&(a, b)| i >= a && i < b).unwrap() as u64 + 4;
        assert_eq!(f, first, "byte {i}");
    }
    let c = closes(&ev);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].reason, CloseReason::Fin);
    assert_eq!(c[0].client, SocketAddr::from((C, CP)));
    // Released at the server's FIN: both directions are complete up to their FINs, so the
    // last ACK has nothing left to wait for.
    assert_eq!(c[0].frame, frames.len() as u64 - 1);
}

#[test]
fn conflicting_overlap_keeps_the_first_copy_and_says_where() {
    let msg = message(1000);
    let mut frames = handshake();
    frames.push(seg(&msg, ISN_C, 0, 100)); // frame 4, in order
    frames.push(seg(&msg, ISN_C, 200, 300)); // frame 5, buffered
    let mut bad = msg[150..250].to_vec();
    for b in &mut bad[60..70] {
        *b ^= 0xFF; // stream bytes [210, 220) differ
    }
    frames.push(tcp(true, ISN_C + 1 + 150, Some(ISN_S + 1), "", &bad)); // frame 6
    // A retransmission of delivered bytes [0, 100) with byte 50 changed.
    let mut bad2 = msg[0..100].to_vec();
    bad2[50] ^= 1;
    frames.push(tcp(true, ISN_C + 1, Some(ISN_S + 1), "", &bad2)); // frame 7
    frames.push(seg(&msg, ISN_C, 100, 1000)); // frame 8: fills the rest
    frames.extend(close(ISN_C, 1000));
    let ev = run(&frames, Limits::default());
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(data, msg, "first copy wins");
    assert!(gaps.is_empty());
    let n = notes(&ev);
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(n[0].contains("frame 6") && n[0].contains("[210, 220)") && n[0].contains("frame 5"));
    assert!(
        n[1].contains("frame 7") && n[1].contains("[50, 51)"),
        "{}",
        n[1]
    );
}

#[test]
fn missing_segment_is_reported_as_a_gap_with_its_exact_range() {
    let msg = message(2500);
    let mut frames = handshake();
    for (a, b) in [(0, 500), (500, 1000), (1500, 2000), (2000, 2500)] {
        frames.push(seg(&msg, ISN_C, a, b));
    }
    frames.extend(close(ISN_C, msg.len()));
    let ev = run(&frames, Limits::default());
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    let mut expected = msg[..1000].to_vec();
    expected.extend_from_slice(&msg[1500..]);
    assert_eq!(data, expected);
    assert_eq!(gaps.len(), 1);
    let g = &gaps[0];
    assert_eq!((g.offset, g.len), (1000, 500));
    // Given up when the flow was released: at the last ACK after both FINs.
    assert_eq!(g.frame, frames.len() as u64);
    assert_eq!(g.src, SocketAddr::from((C, CP)));
    let text = g.to_string();
    assert!(
        text.contains("[1000, 1500)") && text.contains("client->server"),
        "{text}"
    );
    assert_eq!(closes(&ev)[0].reason, CloseReason::Fin);
}

#[test]
fn hole_is_skipped_when_too_much_is_buffered_behind_it() {
    let msg = message(3000);
    let mut frames = handshake();
    for (a, b) in [
        (0, 500),
        (1000, 1500),
        (1500, 2000),
        (2000, 2500),
        (2500, 3000),
    ] {
        frames.push(seg(&msg, ISN_C, a, b));
    }
    let limits = Limits {
        tcp: TcpLimits {
            max_buffered_per_direction: 1200,
            ..Default::default()
        },
        ..Default::default()
    };
    let ev = run(&frames, limits);
    let (data, byte_frames, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].offset, gaps[0].len), (500, 500));
    // Buffered: 500, 1000, 1500 > 1200 at the third out-of-order segment, frame 3 + 4.
    assert_eq!(gaps[0].frame, 7);
    assert_eq!(data.len(), 2500);
    assert_eq!(&data[500..], &msg[1000..]);
    assert_eq!(byte_frames[500], 5);
    // The rest streams in order after the skip; the flow ends with the capture.
    assert_eq!(closes(&ev)[0].reason, CloseReason::EndOfCapture);
}

#[test]
fn sequence_numbers_wrap_around() {
    let msg = message(3000);
    let isn = u32::MAX - 1200;
    let mut frames = vec![
        tcp(true, isn, None, "S", b""),
        tcp(false, ISN_S, Some(isn.wrapping_add(1)), "S", b""),
    ];
    for (a, b) in [(0, 1000), (2000, 3000), (1000, 2000)] {
        frames.push(seg(&msg, isn, a, b));
    }
    frames.extend(close(isn, msg.len()));
    let ev = run(&frames, Limits::default());
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(data, msg);
    assert!(gaps.is_empty());
    assert_eq!(closes(&ev)[0].reason, CloseReason::Fin);
}

#[test]
fn mid_stream_capture_starts_at_the_first_segment_and_finds_the_server_by_port() {
    let msg = message(1500);
    let base = 777_000;
    let s2c = |a: usize, b: usize| tcp(false, base + a as u32, Some(42), "", &msg[a..b]);
    // The capture starts at stream byte 500; an earlier retransmission [0, 700) arrives later.
    let frames = vec![s2c(500, 1000), s2c(0, 700), s2c(1000, 1500)];
    let ev = run(&frames, Limits::default());
    let open = ev
        .iter()
        .find_map(|e| match e {
            Event::TcpOpen(o) => Some(o.clone()),
            _ => None,
        })
        .unwrap();
    assert!(open.mid_stream);
    assert_eq!(open.server, SocketAddr::from((S, SP)));
    let (data, _, gaps) = stream(&ev, Direction::ServerToClient);
    assert_eq!(data, &msg[500..]);
    assert!(gaps.is_empty());
}

#[test]
fn reset_releases_the_flow_and_late_retransmissions_do_not_reopen_it() {
    let msg = message(1000);
    let mut frames = handshake();
    frames.push(seg(&msg, ISN_C, 0, 1000));
    frames.push(tcp(false, ISN_S + 1, Some(ISN_C + 1001), "R", b""));
    frames.push(seg(&msg, ISN_C, 0, 1000)); // late retransmission
    let ev = run(&frames, Limits::default());
    let c = closes(&ev);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].reason, c[0].frame), (CloseReason::Reset, 5));
    let (data, _, _) = stream(&ev, Direction::ClientToServer);
    assert_eq!(data, msg);
}

#[test]
fn flows_are_evicted_and_idle_flows_released_with_a_note() {
    let other = |seq: u32, port: u16| {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(C, S, 64)
            .tcp(port, SP, seq, 100)
            .ack(1)
            .write(&mut v, b"data")
            .unwrap();
        v
    };
    let limits = Limits {
        tcp: TcpLimits {
            max_flows: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    let ev = run(&[other(1, 40001), other(1, 40002)], limits);
    let c = closes(&ev);
    assert_eq!(
        (c[0].flow, c[0].reason, c[0].frame),
        (1, CloseReason::Evicted, 2)
    );
    assert_eq!((c[1].flow, c[1].reason), (2, CloseReason::EndOfCapture));
    assert!(notes(&ev)[0].contains("evicted"), "{:?}", notes(&ev));
    // Idle: 10 s timeout, the second packet comes 20 s later (capture time).
    let mut d = Decoder::new(Limits {
        tcp: TcpLimits {
            idle_timeout_secs: 10.0,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut out = Vec::new();
    let at = |secs| Timestamp { secs, nanos: 0 };
    d.decode_owned(1, at(0), LinkType::ETHERNET, 0, &other(1, 40001), &mut out);
    d.decode_owned(2, at(20), LinkType::ETHERNET, 0, &other(1, 40002), &mut out);
    let c = closes(&out);
    assert_eq!(
        (c[0].flow, c[0].reason, c[0].frame),
        (1, CloseReason::Idle, 2)
    );
    assert_eq!(d.state().0, 1, "only the active flow is held");
}

// ---- IP fragments ---------------------------------------------------------------------------

/// UDP header + payload of a datagram from C:5000 to S:9200.
fn udp_bytes(payload: &[u8], v6: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if v6 {
        PacketBuilder::ipv6([1; 16], [2; 16], 64)
            .udp(5000, 9200)
            .write(&mut v, payload)
            .unwrap();
        v.drain(..40);
    } else {
        PacketBuilder::ipv4(C, S, 64)
            .udp(5000, 9200)
            .write(&mut v, payload)
            .unwrap();
        v.drain(..20);
    }
    v
}

fn frag4(transport: &[u8], a: usize, b: usize, more: bool, id: u16) -> Vec<u8> {
    let mut h = Ipv4Header::new((b - a) as u16, 64, IpNumber::UDP, C, S).unwrap();
    h.identification = id;
    h.more_fragments = more;
    h.fragment_offset = IpFragOffset::try_new((a / 8) as u16).unwrap();
    h.header_checksum = h.calc_header_checksum();
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(&transport[a..b]);
    v
}

fn frag6(transport: &[u8], a: usize, b: usize, more: bool, id: u32) -> Vec<u8> {
    // hop-by-hop (PadN) -> fragment -> UDP
    let hbh = [44u8, 0, 1, 4, 0, 0, 0, 0];
    let fh = Ipv6FragmentHeader::new(
        IpNumber::UDP,
        IpFragOffset::try_new((a / 8) as u16).unwrap(),
        more,
        id,
    );
    let h = Ipv6Header {
        traffic_class: 0,
        flow_label: Default::default(),
        payload_length: (16 + b - a) as u16,
        next_header: IpNumber::IPV6_HEADER_HOP_BY_HOP,
        hop_limit: 64,
        source: [1; 16],
        destination: [2; 16],
    };
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(&hbh);
    v.extend_from_slice(&fh.to_bytes());
    v.extend_from_slice(&transport[a..b]);
    v
}

fn udps(events: &[Event<'static>]) -> Vec<mmscope::net::UdpDatagram<'static>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Udp(u) => Some(u.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ip_fragments_out_of_order_overlapping_and_duplicated_reassemble() {
    for v6 in [false, true] {
        let payload = message(3000);
        let tr = udp_bytes(&payload, v6);
        assert_eq!(tr.len(), 3008);
        let frag = |a, b, more| {
            if v6 {
                (LinkType::IPV6, 0, frag6(&tr, a, b, more, 0xABCD))
            } else {
                (LinkType::RAW, 0, frag4(&tr, a, b, more, 0x1234))
            }
        };
        let frames = vec![
            frag(2000, 3008, false), // 1: last first
            frag(504, 1504, true),   // 2: overlaps both neighbours
            frag(2000, 3008, false), // 3: duplicate
            frag(1000, 2000, true),  // 4
            frag(0, 1000, true),     // 5: completes
        ];
        let ev = run_link(frames, Limits::default());
        assert!(notes(&ev).is_empty(), "{:?}", notes(&ev));
        let u = udps(&ev);
        assert_eq!(u.len(), 1, "v6 {v6}");
        assert_eq!(u[0].payload, payload);
        assert_eq!(u[0].frame, 5);
        assert_eq!(u[0].dst.port(), 9200);
        // Origins: first copy of every byte (UDP payload = transport bytes from 8).
        let spans: Vec<(usize, usize, u64)> = u[0]
            .origin
            .iter()
            .map(|s| (s.offset, s.len, s.frame))
            .collect();
        assert_eq!(
            spans,
            vec![(0, 496, 5), (496, 1000, 2), (1496, 496, 4), (1992, 1008, 1)],
            "v6 {v6}"
        );
    }
}

#[test]
fn conflicting_and_incomplete_fragments_are_reported() {
    let payload = message(2000);
    let tr = udp_bytes(&payload, false);
    let mut changed = tr.clone();
    changed[1500] ^= 0xFF;
    let frames = vec![
        (LinkType::RAW, 0, frag4(&tr, 1000, 2008, false, 7)),
        (LinkType::RAW, 0, frag4(&changed, 1000, 2008, false, 7)),
        (LinkType::RAW, 0, frag4(&tr, 0, 1000, true, 7)),
        // Another datagram that never completes: bytes [0, 800) missing.
        (LinkType::RAW, 0, frag4(&tr, 800, 1600, true, 8)),
        // A fragment ending beyond 65535.
        (LinkType::RAW, 0, {
            let mut h = Ipv4Header::new(16, 64, IpNumber::UDP, C, S).unwrap();
            h.identification = 9;
            h.fragment_offset = IpFragOffset::try_new(8190).unwrap();
            h.header_checksum = h.calc_header_checksum();
            let mut v = h.to_bytes().to_vec();
            v.extend_from_slice(&[0u8; 16]);
            v
        }),
    ];
    let ev = run_link(frames, Limits::default());
    let u = udps(&ev);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].payload, payload, "first copy wins");
    let n = notes(&ev);
    assert_eq!(n.len(), 3, "{n:?}");
    assert!(n[0].contains("frame 2") && n[0].contains("[1500, 1501)") && n[0].contains("frame 1"));
    assert!(n[1].contains("65535"), "{}", n[1]);
    assert!(
        n[2].contains("id 0x8") && n[2].contains("[0, 800)"),
        "{}",
        n[2]
    );
}

// ---- link layers ------------------------------------------------------------------------------

fn udp_ip_packet() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(C, S, 64)
        .udp(5000, 9200)
        .write(&mut v, b"hello wsp")
        .unwrap();
    v
}

#[test]
fn every_link_layer_reaches_the_udp_payload() {
    let ip = udp_ip_packet();
    let eth = |tags: &[[u8; 4]]| {
        let mut f = vec![2u8; 12];
        for t in tags {
            f.extend_from_slice(&t[..2]);
            f.extend_from_slice(&[0, 5]);
            let _ = t;
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f
    };
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    let mut null_le = vec![2, 0, 0, 0];
    null_le.extend_from_slice(&ip);
    let mut loop_be = vec![0, 0, 0, 2];
    loop_be.extend_from_slice(&ip);
    let frames = vec![
        (LinkType::ETHERNET, 0, eth(&[])),
        (LinkType::ETHERNET, 0, eth(&[[0x81, 0x00, 0, 0]])),
        (
            LinkType::ETHERNET,
            0,
            eth(&[[0x88, 0xA8, 0, 0], [0x81, 0x00, 0, 0]]),
        ),
        (
            LinkType::ETHERNET,
            0,
            eth(&[[0x91, 0x00, 0, 0], [0x81, 0x00, 0, 0]]),
        ),
        (LinkType::LINUX_SLL, 0, sll),
        (LinkType::LINUX_SLL2, 0, sll2),
        (LinkType::NULL, 0, null_le),
        (LinkType::LOOP, 0, loop_be),
        (LinkType::RAW, 0, ip.clone()),
        (LinkType::RAW_DLT12, 0, ip.clone()),
        (LinkType::IPV4, 0, ip.clone()),
    ];
    let n = frames.len();
    let ev = run_link(frames, Limits::default());
    assert!(notes(&ev).is_empty(), "{:?}", notes(&ev));
    let u = udps(&ev);
    assert_eq!(u.len(), n);
    for (i, d) in u.iter().enumerate() {
        assert_eq!(d.frame, i as u64 + 1);
        assert_eq!(&d.payload[..], b"hello wsp");
        assert_eq!(d.src, SocketAddr::from((C, 5000)));
        assert_eq!(d.dst, SocketAddr::from((S, 9200)));
        assert_eq!(d.origin.len(), 1);
        assert_eq!(d.origin[0].frame, i as u64 + 1);
    }
}

#[test]
fn eth_vlan_frame_built_by_etherparse() {
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(
            etherparse::VlanId::try_new(100).unwrap(),
            etherparse::VlanId::try_new(200).unwrap(),
        )
        .ipv6([1; 16], [2; 16], 64)
        .udp(1, 2)
        .write(&mut f, b"qinq v6")
        .unwrap();
    let ev = run_link(vec![(LinkType::ETHERNET, 0, f)], Limits::default());
    let u = udps(&ev);
    assert_eq!(u.len(), 1);
    assert_eq!(&u[0].payload[..], b"qinq v6");
}

#[test]
fn unsupported_link_type_is_noted_once_per_interface() {
    let frames = vec![
        (LinkType(147), 0, vec![1, 2, 3]),
        (LinkType(147), 0, vec![1, 2, 3]),
        (LinkType(147), 1, vec![1, 2, 3]),
        (LinkType::ETHERNET, 0, vec![0; 5]), // truncated Ethernet header
    ];
    let ev = run_link(frames, Limits::default());
    let n = notes(&ev);
    assert_eq!(n.len(), 3, "{n:?}");
    assert!(n[0].contains("interface 0") && n[0].contains("147"));
    assert!(n[1].contains("interface 1"));
    assert!(
        n[2].contains("frame 4") && n[2].contains("Ethernet"),
        "{}",
        n[2]
    );
}

#[test]
fn gtpu_inner_packet_is_decoded() {
    let inner = udp_ip_packet();
    let mut gtp = vec![0x30, 0xFF];
    gtp.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    gtp.extend_from_slice(&[0, 0, 0, 1]); // TEID
    gtp.extend_from_slice(&inner);
    let mut outer = Vec::new();
    PacketBuilder::ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .udp(2152, 2152)
        .write(&mut outer, &gtp)
        .unwrap();
    let ev = run_link(vec![(LinkType::RAW, 0, outer)], Limits::default());
    let u = udps(&ev);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].src, SocketAddr::from((C, 5000)));
    assert_eq!(&u[0].payload[..], b"hello wsp");
    // The inner payload maps back to the outer frame.
    assert_eq!(u[0].origin[0].frame, 1);
    assert_eq!(u[0].origin[0].offset, 0);
}

#[test]
fn ipv6_tcp_reassembles() {
    let msg = message(3000);
    let c6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let s6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let pkt = |from_c: bool, seq: u32, ack: Option<u32>, syn: bool, data: &[u8]| {
        let (a, b, sp, dp) = if from_c {
            (c6, s6, CP, SP)
        } else {
            (s6, c6, SP, CP)
        };
        let mut bld = PacketBuilder::ipv6(a, b, 64).tcp(sp, dp, seq, 1000);
        if syn {
            bld = bld.syn();
        }
        if let Some(x) = ack {
            bld = bld.ack(x);
        }
        let mut v = Vec::new();
        bld.write(&mut v, data).unwrap();
        (LinkType::RAW, 0, v)
    };
    let frames = vec![
        pkt(true, 10, None, true, b""),
        pkt(false, 99, Some(11), true, b""),
        pkt(true, 11 + 1500, Some(100), false, &msg[1500..]),
        pkt(true, 11, Some(100), false, &msg[..1500]),
        pkt(false, 100, Some(11 + 3000), false, b"HTTP/1.1 200 OK\r\n"),
    ];
    let ev = run_link(frames, Limits::default());
    let (c2s, f, _) = stream(&ev, Direction::ClientToServer);
    assert_eq!(c2s, msg);
    assert_eq!((f[0], f[1500]), (4, 3));
    let (s2c, _, _) = stream(&ev, Direction::ServerToClient);
    assert_eq!(s2c, b"HTTP/1.1 200 OK\r\n");
}

#[test]
fn packets_cut_by_the_snaplen_give_one_note_and_exact_gaps() {
    let msg = message(3000);
    let mut frames = handshake();
    for (a, b) in [(0, 1000), (1000, 2000), (2000, 3000)] {
        let mut f = seg(&msg, ISN_C, a, b);
        if a < 2000 {
            // Ethernet 14 + IPv4 20 + TCP 20 + 100 bytes of payload kept.
            f.truncate(154);
        }
        frames.push(f);
    }
    frames.extend(close(ISN_C, msg.len()));
    let ev = run(&frames, Limits::default());
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    let got: Vec<(u64, u64)> = gaps.iter().map(|g| (g.offset, g.len)).collect();
    assert_eq!(got, vec![(100, 900), (1100, 900)]);
    let mut expected = msg[..100].to_vec();
    expected.extend_from_slice(&msg[1000..1100]);
    expected.extend_from_slice(&msg[2000..]);
    assert_eq!(data, expected);
    let n = notes(&ev);
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(
        n[0].contains("frame 4") && n[0].contains("900 bytes missing"),
        "{}",
        n[0]
    );
    assert!(n[1].starts_with("2 IP packets"), "{}", n[1]);
}

#[test]
fn a_segment_far_beyond_any_window_is_ignored() {
    let msg = message(1000);
    let mut frames = handshake();
    frames.push(seg(&msg, ISN_C, 0, 500));
    frames.push(tcp(
        true,
        ISN_C.wrapping_add(0x7000_0000),
        Some(ISN_S + 1),
        "",
        b"stray",
    ));
    frames.push(seg(&msg, ISN_C, 500, 1000));
    frames.extend(close(ISN_C, 1000));
    let ev = run(&frames, Limits::default());
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(data, msg);
    assert!(gaps.is_empty());
    let n = notes(&ev);
    assert_eq!(n.len(), 1);
    assert!(
        n[0].contains("frame 5") && n[0].contains("beyond any window"),
        "{}",
        n[0]
    );
}

/// Decoding must never panic: every prefix of every frame of the lab captures, under every link
/// type, and randomly corrupted frames.
#[test]
fn truncated_and_corrupted_frames_never_panic() {
    let links = [
        LinkType::ETHERNET,
        LinkType::LINUX_SLL,
        LinkType::LINUX_SLL2,
        LinkType::RAW,
        LinkType::IPV6,
        LinkType::NULL,
        LinkType::LOOP,
    ];
    let mut frames = Vec::new();
    for name in [
        "net_http_reorder.pcapng",
        "http_mm1_ipv6.pcapng",
        "wap_wsp_cl.pcapng",
    ] {
        use mmscope::capture::{FileReader, PacketSource};
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut r = FileReader::open(path).unwrap();
        while let Some(p) = r.next_packet() {
            frames.push(p.unwrap().data.to_vec());
        }
    }
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut d = Decoder::default();
    let mut out = Vec::new();
    let mut n = 0u64;
    for f in frames.iter().take(60) {
        for link in links {
            for cut in (0..f.len()).step_by(3) {
                n += 1;
                d.decode_owned(n, t(n as usize), link, 0, &f[..cut], &mut out);
            }
        }
    }
    for _ in 0..20 {
        for f in &frames {
            let mut f = f.clone();
            for _ in 0..4 {
                let i = next() as usize % f.len();
                f[i] = next() as u8;
            }
            n += 1;
            d.decode_owned(n, t(n as usize), LinkType::ETHERNET, 0, &f, &mut out);
        }
        out.clear();
    }
    d.finish(&mut out);
}

fn run_timed(frames: &[(f64, Vec<u8>)]) -> Vec<Event<'static>> {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for (i, (secs, f)) in frames.iter().enumerate() {
        let time = Timestamp {
            secs: 1000 + secs.trunc() as i64,
            nanos: (secs.fract() * 1e9) as u32,
        };
        d.decode_owned(i as u64 + 1, time, LinkType::ETHERNET, 0, f, &mut out);
    }
    d.finish(&mut out);
    out
}

#[test]
fn hole_the_receiver_acknowledged_is_given_up_after_a_second() {
    let msg = message(2500);
    let mut frames: Vec<(f64, Vec<u8>)> = handshake().into_iter().map(|f| (0.0, f)).collect();
    frames.push((0.1, seg(&msg, ISN_C, 0, 500))); // 4
    frames.push((0.2, seg(&msg, ISN_C, 1000, 1500))); // 5: [500, 1000) never captured
    frames.push((0.3, tcp(false, ISN_S + 1, Some(ISN_C + 1 + 1500), "", b""))); // 6: server has it all
    frames.push((0.9, seg(&msg, ISN_C, 1500, 2000))); // 7: still within the second
    frames.push((1.5, seg(&msg, ISN_C, 2000, 2500))); // 8: 1.2 s after the ACK: give up
    frames.push((1.6, seg(&msg, ISN_C, 500, 1000))); // 9: turns up after all
    let ev = run_timed(&frames);
    let (data, byte_frames, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].offset, gaps[0].len, gaps[0].frame), (500, 500, 8));
    let mut expected = msg[..500].to_vec();
    expected.extend_from_slice(&msg[1000..]);
    assert_eq!(data, expected);
    assert_eq!(
        (byte_frames[500], byte_frames[1000], byte_frames[1500]),
        (5, 7, 8)
    );
    // Data after the gap was handed up in frame 8, not at the end of the capture.
    let delivered_at_8 = ev
        .iter()
        .any(|e| matches!(e, Event::TcpData(d) if d.frame == 8 && d.stream_offset == 1000));
    assert!(delivered_at_8);
    let n = notes(&ev);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].contains("[500, 1000)") && n[0].contains("frame 9"),
        "{}",
        n[0]
    );
}

#[test]
fn acknowledged_hole_at_the_end_is_reported_when_the_flow_goes_quiet() {
    let msg = message(1000);
    let mut frames: Vec<(f64, Vec<u8>)> = handshake().into_iter().map(|f| (0.0, f)).collect();
    frames.push((0.1, seg(&msg, ISN_C, 0, 500))); // 4; [500, 1000) never captured
    frames.push((0.2, tcp(false, ISN_S + 1, Some(ISN_C + 1 + 1000), "", b""))); // 5
    // Unrelated traffic 3 s later drives the once-a-second sweep.
    let mut other = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(C, S, 64)
        .udp(1, 2)
        .write(&mut other, b"x")
        .unwrap();
    frames.push((3.0, other)); // 6
    let ev = run_timed(&frames);
    let (_, _, gaps) = stream(&ev, Direction::ClientToServer);
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].offset, gaps[0].len, gaps[0].frame), (500, 500, 6));
}

#[test]
fn reordering_within_the_timeout_is_not_a_gap() {
    let msg = message(1500);
    let mut frames: Vec<(f64, Vec<u8>)> = handshake().into_iter().map(|f| (0.0, f)).collect();
    frames.push((0.1, seg(&msg, ISN_C, 0, 500)));
    frames.push((0.1, seg(&msg, ISN_C, 1000, 1500)));
    // The capture point sees the server's ACK before the held segment.
    frames.push((0.11, tcp(false, ISN_S + 1, Some(ISN_C + 1 + 1500), "", b"")));
    frames.push((0.5, seg(&msg, ISN_C, 500, 1000)));
    let ev = run_timed(&frames);
    let (data, _, gaps) = stream(&ev, Direction::ClientToServer);
    assert!(gaps.is_empty());
    assert_eq!(data, msg);
}

#[test]
fn mid_stream_server_on_a_registered_port_is_found() {
    // First segment seen: the MMSC on 8002 answering an ephemeral client port.
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(S, C, 64)
        .tcp(8002, 51000, 5, 100)
        .ack(9)
        .write(&mut f, b"HTTP/1.1 200 OK\r\n")
        .unwrap();
    let ev = run(&[f], Limits::default());
    let (s2c, _, _) = stream(&ev, Direction::ServerToClient);
    assert_eq!(s2c, b"HTTP/1.1 200 OK\r\n");
}
