//! `net::Decoder::discard_tcp_payload`: a direction the layer above gave up on is no longer
//! handed up (nor copied), the other direction is untouched, and the connection still closes.

use mmscope::capture::{FileReader, PacketSource};
use mmscope::net::{Decoder, Direction, Event, FlowId};
use std::collections::BTreeMap;
use std::net::SocketAddr;

type Streams = BTreeMap<(FlowId, Direction), Vec<u8>>;

/// Decode `name`; with `discard`, drop the server->client payload of every connection as soon
/// as its first bytes are seen. Returns the bytes handed up per direction and the closed flows.
fn decode(name: &str, discard: bool) -> (Streams, Vec<FlowId>) {
    let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut r = FileReader::open(path).unwrap();
    let mut dec = Decoder::default();
    let mut streams = Streams::new();
    let mut closed = Vec::new();
    let mut events = Vec::new();
    let mut handle = |dec: &mut Decoder, events: &mut Vec<Event<'static>>| {
        let mut to_discard: Vec<(FlowId, SocketAddr, SocketAddr)> = Vec::new();
        for e in events.drain(..) {
            match e {
                Event::TcpData(d) => {
                    streams
                        .entry((d.flow, d.dir))
                        .or_default()
                        .extend_from_slice(&d.data);
                    if discard && d.dir == Direction::ServerToClient {
                        to_discard.push((d.flow, d.dst, d.src));
                    }
                }
                Event::TcpClosed(c) => closed.push(c.flow),
                _ => {}
            }
        }
        for (flow, client, server) in to_discard {
            dec.discard_tcp_payload(flow, client, server, Direction::ServerToClient);
        }
    };
    while let Some(p) = r.next_packet() {
        dec.decode_packet_owned(&p.unwrap(), &mut events);
        handle(&mut dec, &mut events);
    }
    dec.finish(&mut events);
    handle(&mut dec, &mut events);
    (streams, closed)
}

#[test]
fn a_discarded_direction_stops_and_the_rest_is_unchanged() {
    for name in ["http_mm1_keepalive.pcapng", "net_http_reorder.pcapng"] {
        let (full, full_closed) = decode(name, false);
        let (cut, cut_closed) = decode(name, true);
        assert_eq!(
            full_closed, cut_closed,
            "{name}: the same connections close"
        );
        let mut cut_any = false;
        for ((flow, dir), bytes) in &full {
            let got = cut.get(&(*flow, *dir)).map_or(&[][..], |v| &v[..]);
            match dir {
                Direction::ClientToServer => assert_eq!(got, &bytes[..], "{name} flow {flow}"),
                Direction::ServerToClient => {
                    // what was handed up before the discard took effect, and nothing after
                    assert!(bytes.starts_with(got), "{name} flow {flow}");
                    cut_any |= got.len() < bytes.len();
                }
            }
        }
        assert!(cut_any, "{name}: some server->client bytes were dropped");
    }
}
