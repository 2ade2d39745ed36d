//! TCP connections as the pipeline sees them: each one an HTTP/1.x parser fed with the
//! reassembled bytes of both directions, until the bytes show it is not HTTP.
//!
//! This is the lower half's last stage: it hands complete HTTP messages up as [`Found::Http`]
//! and leaves finding the MMS PDU in them ([`mms_in_http`]) to the upper half, which may run on
//! another thread (see `split`).

use super::Found;
use super::record::{self, Completion};
use crate::http::{self, HttpConnection, HttpEvent, HttpMessage};
use crate::model::{PduRecord, Timestamp};
use crate::net::{self, Direction, FlowId};
use std::net::SocketAddr;

struct Flow {
    http: HttpConnection,
    client: SocketAddr,
    server: SocketAddr,
}

/// Open TCP connections. A connection is forgotten when it closes, so memory follows the open
/// connections, not the file.
#[derive(Default)]
pub struct TcpFlows {
    flows: net::FlowMap<FlowId, Flow>,
    /// Directions found not to be HTTP, whose payload the net layer should stop reassembling:
    /// (flow, client, server, direction). The pipeline passes them on after each packet.
    pub not_http: Vec<(FlowId, SocketAddr, SocketAddr, Direction)>,
    /// The allocation of the HTTP event list of a segment, kept from segment to segment
    /// (always empty): one list per segment that completes a message cost an allocation each.
    http_events: Vec<HttpEvent>,
}

/// A complete (or abandoned) HTTP message of a connection, with where it completed.
pub struct HttpFound {
    pub msg: Box<HttpMessage>,
    pub flow: FlowId,
    pub at: Completion,
}

impl TcpFlows {
    /// (Every TCP segment looks its connection up here: inlined, as the compiler did not
    /// always choose to.)
    #[inline]
    fn flow(&mut self, flow: FlowId, client: SocketAddr, server: SocketAddr) -> &mut Flow {
        self.flows.entry(flow).or_insert_with(|| Flow {
            // Bodies are inflated by `mms_in_http`, in the upper half: inflating is the single
            // largest cost of MMS traffic, and the lower half (which reads the file and
            // reassembles TCP) is the busier one. Bodies that cannot carry an MMS PDU (the
            // images and pages of ordinary web traffic) are not kept: `mms_in_http` would only
            // drop them.
            http: HttpConnection::new(http::Config {
                defer_codings: true,
                discard_non_mms_bodies: true,
                ..http::Config::default()
            }),
            client,
            server,
        })
    }

    /// Handle one TCP event from the net layer; messages and notes found go to `found`.
    /// `spares` are byte buffers the upper half is done with (see `Lower::spare_payloads`):
    /// a direction that starts a new message takes one for its bytes.
    pub fn event(&mut self, ev: net::Event<'_>, found: &mut Vec<Found>, spares: &mut Vec<Vec<u8>>) {
        match ev {
            net::Event::TcpOpen(o) => {
                let f = self.flow(o.flow, o.client, o.server);
                if o.mid_stream {
                    // The capture starts inside the connection: hunt for the first message.
                    let mut evs = f.http.midstream(http::Direction::ClientToServer);
                    evs.extend(f.http.midstream(http::Direction::ServerToClient));
                    let ends = (f.client, f.server);
                    http_events(o.flow, ends, evs, o.frame, o.time, found);
                }
            }
            net::Event::TcpData(d) => {
                let (client, server) = match d.dir {
                    Direction::ClientToServer => (d.src, d.dst),
                    Direction::ServerToClient => (d.dst, d.src),
                };
                let mut evs = std::mem::take(&mut self.http_events);
                let f = self.flow(d.flow, client, server);
                let dir = d.dir;
                if f.http.gave_up() || f.http.is_not_http(dir) {
                    self.not_http.push((d.flow, client, server, d.dir));
                    self.http_events = evs;
                    return;
                }
                if f.http.needs_buffer(dir) {
                    // Room for a typical request or short response at once; a longer message's
                    // body reserves the rest when its head is read.
                    f.http.give_buffer(dir, super::spare_or_new(spares));
                }
                // Feed span by span so that every byte keeps the frame it came from.
                for span in &d.origin {
                    let end = (span.offset + span.len).min(d.data.len());
                    if span.offset < end {
                        f.http
                            .feed_into(dir, &d.data[span.offset..end], span.frame, &mut evs);
                    }
                }
                let ends = (f.client, f.server);
                if f.http.is_not_http(dir) {
                    self.not_http.push((d.flow, client, server, d.dir));
                }
                // Most segments complete nothing: skip the call.
                if !evs.is_empty() {
                    http_events(d.flow, ends, evs.drain(..), d.frame, d.time, found);
                }
                self.http_events = evs;
            }
            net::Event::TcpGap(g) => {
                let gap_text = g.to_string();
                let Some(f) = self.flows.get_mut(&g.flow) else {
                    return;
                };
                if f.http.gave_up() || f.http.is_not_http(g.dir) {
                    return;
                }
                let evs = f.http.gap(g.dir, g.len);
                if evs.iter().any(|e| {
                    matches!(
                        e,
                        HttpEvent::Gap {
                            abandoned: Some(_),
                            ..
                        }
                    )
                }) {
                    found.push(Found::Note {
                        message: gap_text,
                        counts_as_error: false,
                    });
                }
                let ends = (f.client, f.server);
                http_events(g.flow, ends, evs, g.frame, g.time, found);
            }
            net::Event::TcpClosed(c) => {
                if let Some(mut f) = self.flows.remove(&c.flow) {
                    let mut evs = f.http.close(http::Direction::ClientToServer);
                    evs.extend(f.http.close(http::Direction::ServerToClient));
                    http_events(c.flow, (f.client, f.server), evs, c.frame, c.time, found);
                }
            }
            net::Event::Udp(_) | net::Event::Note { .. } => {}
        }
    }

    /// End of capture: close every open connection (close-delimited bodies end here).
    pub fn finish(&mut self, time: Timestamp, found: &mut Vec<Found>) {
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(f) = self.flows.get_mut(&id) {
                let mut evs = f.http.close(http::Direction::ClientToServer);
                evs.extend(f.http.close(http::Direction::ServerToClient));
                let frame = evs
                    .iter()
                    .find_map(|e| match e {
                        HttpEvent::Message(m) => m.last_frame(),
                        _ => None,
                    })
                    .unwrap_or(0);
                http_events(id, (f.client, f.server), evs, frame, time, found);
            }
        }
        self.flows.clear();
    }
}

/// Hand the messages among `evs` up as [`Found::Http`]; `ends` = (client, server) of the
/// connection (passed in: the flow may already be forgotten, and a look-up per segment costs).
fn http_events(
    flow: FlowId,
    (client, server): (SocketAddr, SocketAddr),
    evs: impl IntoIterator<Item = HttpEvent>,
    frame: u64,
    time: Timestamp,
    found: &mut Vec<Found>,
) {
    for ev in evs {
        let msg = match ev {
            HttpEvent::Message(m) => m,
            HttpEvent::Gap {
                abandoned: Some(m), ..
            } => m,
            _ => continue,
        };
        let (src, dst) = match msg.direction {
            http::Direction::ClientToServer => (client, server),
            http::Direction::ServerToClient => (server, client),
        };
        let at = Completion {
            frame,
            time,
            src,
            dst,
        };
        found.push(Found::Http(HttpFound { msg, flow, at }));
    }
}

/// The MMS PDU an HTTP message carries: its body, or the content part of a PAP submission.
pub fn mms_in_http(found: &mut HttpFound, full: bool) -> Option<PduRecord> {
    found.msg.undo_codings();
    let HttpFound { msg, flow, at } = found;
    let flow = *flow;
    if msg.is_mms() {
        return Some(record::from_http(msg, flow, at, full));
    }
    if msg.is_request() {
        let submission = http::pap::parse_submission(msg)?;
        let part = submission.mms_part()?;
        return Some(record::from_pap(msg, &submission, part, flow, at));
    }
    None
}
