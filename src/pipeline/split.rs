//! [`super::run_file`] as three stages on three threads: the reader and the lower half of the
//! pipeline (link, IP, TCP reassembly, HTTP framing); the upper half (the MMS PDU in each HTTP
//! message, WTP/WSP, records); and the sink (printing JSON, correlating transactions) on the
//! caller's thread.
//!
//! The cut between the halves is where little crosses it: what the lower half found
//! ([`Found`]: UDP datagrams, complete HTTP messages, notes), not every TCP segment. Each stage
//! sends batches over a bounded channel (at most `QUEUE` batches in flight: memory stays
//! bounded whatever the file size); the upper half takes each packet's share in order, so the
//! sink sees exactly what [`super::run_source`] would deliver, in the same order. On two cores
//! the three threads share the two: the sink's share of the work (small for `pdus`, about a
//! quarter for `transactions`) fills in where the halves leave a core idle.
//!
//! The file itself is read on a fourth thread ([`FileReader::read_ahead`]), so that the kernel's
//! copy of it does not add to the lower half's time: on traffic that is mostly not MMS the
//! lower half is the busiest of the three.

use super::{Error, Event, Found, Lower, Options, PROGRESS_EVERY, Upper};
use crate::capture::{CaptureError, FileReader, PacketSource};
use crate::model::{Stats, Timestamp};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Packets per batch: enough to make the channel's cost per packet negligible.
const BATCH_PACKETS: usize = 1024;
/// Batches in flight (each holds what at most `BATCH_PACKETS` packets completed).
const QUEUE: usize = 4;

/// One packet's share of a batch.
struct Mark {
    /// `found[..end]` (after the previous mark's end) belong to this packet.
    end: usize,
    len: u32,
    time: Timestamp,
    /// File bytes read after this packet (for progress).
    bytes_read: u64,
}

#[derive(Default)]
struct Batch {
    found: Vec<Found>,
    marks: Vec<Mark>,
    /// The capture ended in this batch: these are what the lower half's `finish` found.
    end: Option<(Vec<Found>, Vec<Found>)>,
    /// A read error ended the capture before this batch's end.
    error: Option<CaptureError>,
    /// Going back to the lower half: the payload buffers of the datagrams the upper half handled.
    spare_payloads: Vec<Vec<u8>>,
}

fn worker(mut reader: FileReader, full: SyncSender<Batch>, empty: Receiver<Batch>) {
    let mut lower = Lower::default();
    let mut batch = Batch::default();
    loop {
        let mut ended = false;
        while batch.marks.len() < BATCH_PACKETS {
            match reader.next_packet() {
                None => {
                    ended = true;
                    break;
                }
                Some(Ok(p)) => {
                    lower.packet(&p, &mut batch.found);
                    batch.marks.push(Mark {
                        end: batch.found.len(),
                        len: p.data.len() as u32,
                        time: p.time,
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
            let (mut net_found, mut tcp_found) = (Vec::new(), Vec::new());
            lower.finish(&mut net_found, &mut tcp_found);
            batch.end = Some((net_found, tcp_found));
            let _ = full.send(batch);
            return;
        }
        if full.send(batch).is_err() {
            return; // the consumer stopped
        }
        // Reuse an emptied batch's allocations when one has come back.
        batch = empty.try_recv().unwrap_or_default();
        lower.take_spares(&mut batch.spare_payloads);
    }
}

/// The upper half's thread: turns the lower half's batches into the sink's events, sent on in
/// one `Vec` per batch.
fn upper_half(
    opts: Options,
    total_bytes: Option<u64>,
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
    events: SyncSender<Vec<Event>>,
) -> Result<Stats, Error> {
    let mut upper = Upper::new(opts);
    let mut last_time = Timestamp::default();
    let mut last_bytes = 0;
    while let Ok(mut batch) = full.recv() {
        let mut out = Vec::new();
        let sink = &mut |e| out.push(e);
        let mut start = 0;
        let mut found = batch.found.drain(..);
        for m in &batch.marks {
            let packet_found = found.by_ref().take(m.end - start);
            start = m.end;
            last_time = m.time;
            last_bytes = m.bytes_read;
            upper.packet(m.len as usize, m.time, packet_found, sink);
            if upper.stats.packets.is_multiple_of(PROGRESS_EVERY) {
                sink(Event::Progress {
                    packets: upper.stats.packets,
                    bytes: m.bytes_read,
                    total_bytes,
                    time: last_time,
                });
            }
        }
        drop(found);
        let mut result = None;
        if let Some(e) = batch.error.take() {
            if upper.stats.packets == 0 {
                return Err(Box::new(e));
            }
            upper.read_error(&e, sink);
        }
        if let Some((mut net_found, mut tcp_found)) = batch.end.take() {
            let stats = upper.finish(&mut net_found, &mut tcp_found, sink);
            super::end_of_input(&stats, last_bytes, total_bytes, last_time, sink);
            result = Some(stats);
        }
        if events.send(out).is_err() {
            return Err("the caller stopped reading".into());
        }
        if let Some(stats) = result {
            return Ok(stats);
        }
        batch.marks.clear();
        std::mem::swap(&mut batch.spare_payloads, &mut upper.spare_payloads);
        // The worker may have finished already; then nothing needs to go back. When the way
        // back is full, the spare buffers stay here for the next batch instead of being freed.
        if let Err(std::sync::mpsc::TrySendError::Full(mut batch)) = empty.try_send(batch) {
            std::mem::swap(&mut batch.spare_payloads, &mut upper.spare_payloads);
        }
    }
    Err("the capture reading thread stopped early".into())
}

pub fn run(
    mut reader: FileReader,
    opts: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<Stats, Error> {
    // The lower half's thread is the busiest on traffic that is mostly not MMS: reading the file
    // on a fourth thread takes the kernel's copy of it off that thread. Without the thread
    // (it could not be started) the reader reads as before, on the lower half's.
    let _ = reader.read_ahead();
    let total_bytes = reader.total_bytes();
    let (full_tx, full_rx) = sync_channel::<Batch>(QUEUE);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(QUEUE + 2);
    let (events_tx, events_rx) = sync_channel::<Vec<Event>>(QUEUE);
    let lower = std::thread::Builder::new()
        .name("mmscope-lower".into())
        .spawn(move || worker(reader, full_tx, empty_rx))?;
    let opts = opts.clone();
    let upper = std::thread::Builder::new()
        .name("mmscope-upper".into())
        .spawn(move || upper_half(opts, total_bytes, full_rx, empty_tx, events_tx))?;
    for events in events_rx {
        for e in events {
            sink(e);
        }
    }
    let result = upper.join();
    if lower.join().is_err() || result.is_err() {
        return Err("a pipeline thread panicked (a bug: please report it)".into());
    }
    result.unwrap_or_else(|_| Err("the pipeline thread stopped".into()))
}

#[cfg(test)]
mod tests {
    use super::super::{Event, Options, Pipeline, SPARE_PAYLOADS};
    use crate::capture::{LinkType, Packet};
    use crate::generator::packet::{Endpoint, udp_frame};
    use crate::model::Timestamp;

    fn datagram(frame: u64, payload: &[u8]) -> Vec<u8> {
        let phone = Endpoint {
            mac: [2, 0, 0, 0, 0, 1],
            ip: [10, 0, 0, 1],
            port: 49152,
        };
        let gateway = Endpoint {
            mac: [2, 0, 0, 0, 0, 2],
            ip: [10, 0, 0, 2],
            port: 9200,
        };
        udp_frame(&phone, &gateway, frame as u16, payload)
    }

    fn feed(pipeline: &mut Pipeline, frame: u64, data: &[u8]) {
        let p = Packet {
            frame,
            time: Timestamp {
                secs: frame as i64,
                nanos: 0,
            },
            link_type: LinkType::ETHERNET,
            data,
            orig_len: data.len() as u32,
            interface: 0,
            file_offset: 0,
        };
        pipeline.packet(&p, &mut |_: Event| {});
    }

    /// The payload buffer of a datagram the upper half is done with carries the next
    /// datagram's payload: no allocation per datagram once one is spare.
    #[test]
    fn datagram_payload_buffers_are_reused() {
        let mut pipeline = Pipeline::new(Options::default());
        feed(&mut pipeline, 1, &datagram(1, b"first datagram, not WSP"));
        assert_eq!(pipeline.lower.spare_payloads.len(), 1);
        let ptr = pipeline.lower.spare_payloads[0].as_ptr() as usize;
        feed(&mut pipeline, 2, &datagram(2, b"second"));
        assert_eq!(pipeline.lower.spare_payloads.len(), 1);
        assert_eq!(pipeline.lower.spare_payloads[0].as_ptr() as usize, ptr);
        assert_eq!(pipeline.lower.spare_payloads[0], b"second");
    }

    /// What comes back is kept up to a bound: the rest is freed.
    #[test]
    fn spare_payloads_are_bounded() {
        let mut pipeline = Pipeline::new(Options::default());
        let mut back: Vec<Vec<u8>> = (0..SPARE_PAYLOADS + 10).map(|_| vec![0; 100]).collect();
        pipeline.lower.take_spares(&mut back);
        assert!(back.is_empty());
        assert_eq!(pipeline.lower.spare_payloads.len(), SPARE_PAYLOADS);
        let mut more = vec![vec![0; 100]];
        pipeline.lower.take_spares(&mut more);
        assert_eq!(pipeline.lower.spare_payloads.len(), SPARE_PAYLOADS);
    }
}
