//! [`super::run_file`] on two threads: the reader and the net layer (link, IP, TCP reassembly)
//! on a worker thread, the layers above and the sink on the caller's thread.
//!
//! The worker sends batches of packets' net events over a bounded channel (so at most
//! `QUEUE` batches are in flight: memory stays bounded whatever the file size); the caller's
//! thread feeds them to the [`Pipeline`] packet by packet, so the events reach the sink
//! exactly as [`super::run_source`] would deliver them. Directions found not to be HTTP go back
//! with the emptied batches, and the worker stops reassembling them (a little later than the
//! single-threaded path would: the bytes in between are dropped by the HTTP side instead).

use super::{Error, Event, Options, PROGRESS_EVERY, Pipeline};
use crate::capture::{CaptureError, FileReader, PacketSource};
use crate::model::{Stats, Timestamp};
use crate::net::{self, Direction};
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Packets per batch: enough to make the channel's cost per packet negligible.
const BATCH_PACKETS: usize = 512;
/// Batches in flight (each holds the reassembled bytes of at most `BATCH_PACKETS` packets,
/// plus whatever TCP releases at once when a hole fills).
const QUEUE: usize = 4;

/// One packet's share of a batch.
struct Mark {
    /// `events[..end]` (after the previous mark's end) belong to this packet.
    end: usize,
    len: u32,
    time: Timestamp,
    /// File bytes read after this packet (for progress).
    bytes_read: u64,
}

#[derive(Default)]
struct Batch {
    events: Vec<net::Event>,
    marks: Vec<Mark>,
    /// The capture ended here: `events` after the last mark are the net layer's `finish`.
    last: bool,
    /// A read error ended the capture before this batch's end.
    error: Option<CaptureError>,
    total_bytes: Option<u64>,
}

/// Emptied batches go back, with the directions the worker should stop reassembling.
struct Returned {
    batch: Batch,
    not_http: Vec<(net::FlowId, SocketAddr, SocketAddr, Direction)>,
}

fn worker(mut reader: FileReader, full: SyncSender<Batch>, empty: Receiver<Returned>) {
    let mut decoder = net::Decoder::default();
    let total_bytes = reader.total_bytes();
    let mut spare: Vec<Batch> = Vec::new();
    let mut batch = Batch::default();
    loop {
        // Take back emptied batches (and the directions to stop reassembling).
        while let Ok(r) = empty.try_recv() {
            for (flow, client, server, dir) in r.not_http {
                decoder.discard_tcp_payload(flow, client, server, dir);
            }
            spare.push(r.batch);
        }
        let mut ended = false;
        while batch.marks.len() < BATCH_PACKETS {
            match reader.next_packet() {
                None => {
                    ended = true;
                    break;
                }
                Some(Ok(p)) => {
                    decoder.decode_packet(&p, &mut batch.events);
                    let (len, time) = (p.data.len() as u32, p.time);
                    batch.marks.push(Mark {
                        end: batch.events.len(),
                        len,
                        time,
                        bytes_read: reader.bytes_read(),
                    });
                }
                Some(Err(e)) => {
                    batch.error = Some(e);
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            decoder.finish(&mut batch.events);
            batch.last = true;
            batch.total_bytes = total_bytes;
            let _ = full.send(batch);
            return;
        }
        batch.total_bytes = total_bytes;
        if full.send(batch).is_err() {
            return; // the consumer stopped
        }
        batch = spare.pop().unwrap_or_default();
    }
}

pub fn run(
    reader: FileReader,
    opts: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<Stats, Error> {
    let (full_tx, full_rx) = sync_channel::<Batch>(QUEUE);
    let (empty_tx, empty_rx) = sync_channel::<Returned>(QUEUE + 2);
    let handle = std::thread::Builder::new()
        .name("mmscope-net".into())
        .spawn(move || worker(reader, full_tx, empty_rx))?;
    let mut pipeline = Pipeline::new(opts.clone());
    pipeline.split = true;
    let mut last_time = Timestamp::default();
    let mut last_bytes = 0;
    let mut result: Option<Result<Stats, Error>> = None;
    let mut pending = Vec::new();
    while let Ok(mut batch) = full_rx.recv() {
        let total_bytes = batch.total_bytes;
        let mut start = 0;
        let mut events = batch.events.drain(..);
        for m in &batch.marks {
            pending.extend(events.by_ref().take(m.end - start));
            start = m.end;
            last_time = m.time;
            last_bytes = m.bytes_read;
            pipeline.packet_events(m.len as usize, m.time, &mut pending, sink);
            if pipeline.stats.packets.is_multiple_of(PROGRESS_EVERY) {
                sink(Event::Progress {
                    packets: pipeline.stats.packets,
                    bytes: m.bytes_read,
                    total_bytes,
                    time: last_time,
                });
            }
        }
        // What is left is the net layer's `finish` (in the last batch only).
        pending.extend(events);
        if let Some(e) = batch.error.take() {
            if pipeline.stats.packets == 0 {
                result = Some(Err(Box::new(e)));
                break;
            }
            pipeline.stats.errors += 1;
            sink(Event::Note(e.to_string()));
        }
        if batch.last {
            let stats = pipeline.finish_with(&mut pending, sink);
            sink(Event::Progress {
                packets: stats.packets,
                bytes: last_bytes,
                total_bytes,
                time: last_time,
            });
            result = Some(Ok(stats));
            break;
        }
        batch.events.clear();
        batch.marks.clear();
        let not_http = std::mem::take(&mut pipeline.tcp.not_http);
        // The worker may have finished already; then nothing needs to go back.
        let _ = empty_tx.try_send(Returned { batch, not_http });
    }
    drop(full_rx);
    drop(empty_tx);
    if handle.join().is_err() {
        return Err("the capture reading thread panicked (a bug: please report it)".into());
    }
    result.unwrap_or_else(|| Err("the capture reading thread stopped early".into()))
}
