//! Bad input never panics: mutated and truncated copies of real carrier bytes from the shipped
//! captures go through every transport parser.

mod transport_common;

use mmscope::http::{Direction, HttpConnection, mime, pap};
use mmscope::wap::wsp::parse_wsp;
use mmscope::wap::wtp::parse_wtp;
use mmscope::wap::{WapDecoder, WapMode};
use transport_common::{Proto, read_capture};

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        if d.is_empty() {
            break;
        }
        let i = rng.below(d.len());
        match rng.below(4) {
            0 => d[i] = rng.next() as u8,
            1 => d.truncate(i),
            2 => d[i] ^= 0x80,
            _ => d.insert(i, [0x00, 0x7f, 0xff, b'\n', b'-'][rng.below(5)]),
        }
    }
    d
}

#[test]
fn wap_parsers_survive_mutations() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut datagrams = Vec::new();
    for cap in [
        "wap_wsp_co_sar_get.pcapng",
        "wap_wsp_cl.pcapng",
        "wap_push_ppg.pcapng",
        "wap_mm1_full.pcapng",
    ] {
        for p in read_capture(cap) {
            if matches!(p.proto, Proto::Udp) {
                datagrams.push((p.src, p.dst, p.payload));
            }
        }
    }
    let mut dec = WapDecoder::default();
    for round in 0..40 {
        for (i, (s, d, payload)) in datagrams.iter().enumerate() {
            let m = mutate(&mut rng, payload);
            let _ = parse_wtp(&m);
            let _ = parse_wsp(&m, 0..m.len(), true);
            let _ = parse_wsp(&m, 0..m.len(), false);
            let _ = parse_wsp(&m, m.len() / 2..m.len(), false);
            let mode = if rng.below(2) == 0 {
                WapMode::Connectionless
            } else {
                WapMode::ConnectionOriented
            };
            let _ = dec.datagram(mode, *s, *d, &m, (round * 1000 + i) as u64);
        }
    }
    let _ = dec.finish();
}

#[test]
fn http_parsers_survive_mutations() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut streams = Vec::new();
    for cap in [
        "http_mm1_chunked.pcapng",
        "http_mm1_gzip.pcapng",
        "wap_push_ppg.pcapng",
    ] {
        for (_, _, events) in transport_common::tcp_connections(&read_capture(cap)) {
            streams.push(events);
        }
    }
    for _ in 0..60 {
        for events in &streams {
            let mut c = HttpConnection::default();
            for e in events {
                if let transport_common::StreamEvent::Data(c2s, data, frame) = e {
                    let dir = if *c2s {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    };
                    let m = mutate(&mut rng, data);
                    let evs = match rng.below(10) {
                        0 => c.gap(dir, rng.below(500) as u64),
                        1 => c.close(dir),
                        _ => c.feed(dir, &m, *frame),
                    };
                    for ev in evs {
                        if let mmscope::http::HttpEvent::Message(msg) = ev {
                            let _ = msg.tree();
                            let _ = msg.dissection();
                            if let Some(s) = pap::parse_submission(&msg) {
                                let _ = s.tree();
                            }
                            let _ = pap::parse_response(&msg);
                        }
                    }
                }
            }
        }
    }
    // Multipart and PAP XML directly.
    let body = b"\r\n--b\r\nContent-Type: application/xml\r\n\r\n<pap><push-message push-id=\"x\"><address address-value=\"y\"/></push-message></pap>\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\njIKY\r\n--b--\r\n";
    for _ in 0..5000 {
        let m = mutate(&mut rng, body);
        let mp = mime::parse_multipart(&m, "b");
        let _ = mp.tree();
        let _ = pap::parse_pap_document(&m);
        let _ = mime::parse_media_type(&String::from_utf8_lossy(&m));
    }
}
