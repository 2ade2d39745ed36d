//! The glue from packets to MMS PDU records: capture → net → http / wap → mms.
//!
//! This is the only module that knows how the layers stack. Each layer is a pure parser or
//! state machine; [`Pipeline`] feeds one packet at a time through them and reports every MMS
//! PDU it finds as a [`PduRecord`], in the order of the frame that completed it. It does not
//! care where packets come from: [`run_file`] reads a capture file, [`run_source`] any
//! [`PacketSource`] (a live interface included).

mod flows;
mod record;
mod split;

use crate::capture::{CaptureError, FileReader, Packet, PacketSource};
use crate::model::{Analysis, PduRecord, Stats, Timestamp};
use crate::net;
use crate::wap::{self, WapDecoder, WapEvent};
use flows::TcpFlows;
use std::borrow::Cow;
use std::path::Path;

/// What the pipeline reports while it reads a capture.
#[derive(Debug)]
pub enum Event {
    /// An MMS PDU was found (in capture order of the frame that completed it).
    Pdu(Box<PduRecord>),
    /// Reading progress: packets and file bytes read so far, out of `total_bytes` when known.
    Progress {
        packets: u64,
        bytes: u64,
        total_bytes: Option<u64>,
        time: Timestamp,
    },
    /// A problem with the capture or a flow, saying where (frame number, offset).
    Note(String),
}

/// Pipeline settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the full dissection of each PDU (the TUI wants it; the streaming batch path does not).
    pub keep_dissection: bool,
}

/// Errors that stop the pipeline: the capture could not be read at all.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How often (in packets) progress is reported.
const PROGRESS_EVERY: u64 = 4096;

/// What the lower half of the pipeline (link, IP, TCP, HTTP framing) found in one packet, in
/// the order found. The upper half ([`Upper`]) turns it into records and notes; the two halves
/// may run on different threads (see `split`), so this is owned data.
pub(crate) enum Found {
    /// A UDP datagram, for the WAP layer.
    Datagram(net::UdpDatagram<'static>),
    /// A complete (or abandoned) HTTP message, which may carry an MMS PDU.
    Http(flows::HttpFound),
    /// A note for the user; `counts_as_error` adds it to `Stats::errors`.
    Note {
        message: String,
        counts_as_error: bool,
    },
}

/// The layers that see every packet: link, IP (+ defragmentation), TCP reassembly and HTTP
/// framing. Pure state machines, no sink: what they find goes up as [`Found`].
#[derive(Default)]
struct Lower {
    net: net::Decoder,
    tcp: TcpFlows,
    last_time: Timestamp,
    /// Byte buffers the upper half is done with (datagram payloads, HTTP messages' raw
    /// bytes), for the next datagrams' copies and messages' bytes: one allocation per datagram
    /// or message, made here and freed by the upper half's thread, cost both threads (see
    /// [`Upper::spare_payloads`]).
    spare_payloads: Vec<Vec<u8>>,
}

/// Most spare payload buffers kept, and the largest kept: at most 4 MiB waiting for reuse.
const SPARE_PAYLOADS: usize = 256;
const SPARE_PAYLOAD_MAX: usize = 16 * 1024;
/// Capacity of a new payload buffer: any datagram of one Ethernet frame, so that a buffer
/// coming back takes any such payload.
const PAYLOAD_BUFFER: usize = 2048;

/// A spare byte buffer for a datagram's payload or an HTTP message's bytes, or a new one.
fn spare_or_new(spares: &mut Vec<Vec<u8>>) -> Vec<u8> {
    spares
        .pop()
        .unwrap_or_else(|| Vec::with_capacity(PAYLOAD_BUFFER))
}

impl Lower {
    fn packet(&mut self, p: &Packet<'_>, found: &mut Vec<Found>) {
        self.last_time = p.time;
        let mut sort = Sort {
            tcp: &mut self.tcp,
            spare_payloads: &mut self.spare_payloads,
            found,
        };
        self.net.decode_packet(p, &mut sort);
        self.discard_not_http();
    }

    /// The end of the capture, in the two steps the upper half handles one after the other
    /// (as it would two packets): what the net layer flushes, then the HTTP messages that only
    /// the end of their connection completes.
    fn finish(&mut self, net_found: &mut Vec<Found>, tcp_found: &mut Vec<Found>) {
        let mut sort = Sort {
            tcp: &mut self.tcp,
            spare_payloads: &mut self.spare_payloads,
            found: net_found,
        };
        self.net.finish(&mut sort);
        self.discard_not_http();
        self.tcp.finish(self.last_time, tcp_found);
    }

    /// Payload buffers handed back by the upper half (up to [`SPARE_PAYLOADS`]; the rest are
    /// freed).
    fn take_spares(&mut self, spares: &mut Vec<Vec<u8>>) {
        let room = SPARE_PAYLOADS.saturating_sub(self.spare_payloads.len());
        let n = spares.len().min(room);
        self.spare_payloads.extend(spares.drain(..n));
        spares.clear();
    }

    /// Connections (directions) that are not HTTP: the net layer stops copying their bytes.
    /// Runs after every packet, nearly always with nothing to do: draining the empty list
    /// cost some sixteen instructions (and a call) each time.
    #[inline]
    fn discard_not_http(&mut self) {
        if self.tcp.not_http.is_empty() {
            return;
        }
        for (flow, client, server, dir) in self.tcp.not_http.drain(..) {
            self.net.discard_tcp_payload(flow, client, server, dir);
        }
    }
}

/// Where the net layer's events go as it finds them: datagrams and notes straight up, TCP
/// events through the HTTP parsers.
struct Sort<'l> {
    tcp: &'l mut TcpFlows,
    spare_payloads: &'l mut Vec<Vec<u8>>,
    found: &'l mut Vec<Found>,
}

impl<'a> net::EventSink<'a> for Sort<'_> {
    fn push(&mut self, ev: net::Event<'a>) {
        match ev {
            net::Event::Udp(d) => {
                let buf = spare_or_new(self.spare_payloads);
                self.found.push(Found::Datagram(d.into_owned_in(buf)));
            }
            net::Event::Note { message, .. } => self.found.push(Found::Note {
                message,
                counts_as_error: true,
            }),
            other => self.tcp.event(other, self.found, self.spare_payloads),
        }
    }
}

/// The layers above: the MMS PDU in an HTTP message, WTP/WSP, and the records, numbered in
/// the order of the frame that completed them and handed to the sink.
struct Upper {
    opts: Options,
    wap: WapDecoder,
    next_index: usize,
    /// Completing frame of each WSP PDU reported, to point a WTP re-send at its original.
    wsp_by_frame: net::FlowMap<u64, usize>,
    /// Time of the latest packet, for what completes when the capture ends.
    last_time: Timestamp,
    stats: Stats,
    /// Buffers of the datagrams and HTTP messages handled, to hand back to the lower half for
    /// reuse (see [`Upper::spare`]).
    spare_payloads: Vec<Vec<u8>>,
    /// The allocation of the list of HTTP messages' records, kept from packet to packet
    /// (always empty): a new list per packet was an allocation per MMS PDU over HTTP.
    records: Vec<PduRecord>,
    /// The allocation of the WAP decoder's event list, kept from datagram to datagram (always
    /// empty): a new list per datagram was an allocation each.
    wap_events: Vec<wap::WapEvent>,
}

impl Upper {
    fn new(opts: Options) -> Self {
        Upper {
            opts,
            // `wap_event` ignores WTP PDUs (the records carry the WSP message's layers), so the
            // decoder need not describe each one.
            wap: WapDecoder::default().without_wtp_pdus(),
            next_index: 0,
            wsp_by_frame: Default::default(),
            last_time: Timestamp::default(),
            stats: Stats::default(),
            spare_payloads: Vec::new(),
            records: Vec::new(),
            wap_events: Vec::new(),
        }
    }

    /// What the lower half found in one packet of `len` bytes captured at `time`.
    fn packet(
        &mut self,
        len: usize,
        time: Timestamp,
        found: impl Iterator<Item = Found>,
        sink: &mut dyn FnMut(Event),
    ) {
        self.stats.packets += 1;
        self.stats.bytes += len as u64;
        self.last_time = time;
        self.found(found, sink);
    }

    /// Datagrams and notes are handled at once, in order; the PDUs of HTTP messages are
    /// reported after them, in the order their messages completed. They are taken from where
    /// the lower half put them (a batch's list, on three threads): each `Found` is 144 bytes,
    /// and gathering a packet's share first moved every one of them once more.
    fn found(&mut self, found: impl Iterator<Item = Found>, sink: &mut dyn FnMut(Event)) {
        let mut records = std::mem::take(&mut self.records);
        for item in found {
            match item {
                Found::Datagram(d) => {
                    if let Some(mode) = wap::classify(d.src, d.dst, &d.payload) {
                        let mut evs = std::mem::take(&mut self.wap_events);
                        self.wap
                            .datagram_into(mode, d.src, d.dst, &d.payload, d.frame, &mut evs);
                        for wev in evs.drain(..) {
                            self.wap_event(wev, d.time, sink);
                        }
                        self.wap_events = evs;
                    }
                    if let Cow::Owned(buf) = d.payload {
                        self.spare(buf);
                    }
                }
                Found::Http(mut h) => {
                    records.extend(flows::mms_in_http(&mut h, self.opts.keep_dissection));
                    // The raw message's buffer goes back too, for a later message's bytes.
                    let raw = std::mem::take(&mut h.msg.raw);
                    self.spare(raw);
                }
                Found::Note {
                    message,
                    counts_as_error,
                } => {
                    if counts_as_error {
                        self.stats.errors += 1;
                    }
                    sink(Event::Note(message));
                }
            }
        }
        for rec in records.drain(..) {
            self.emit(rec, sink);
        }
        self.records = records;
    }

    /// Keep a byte buffer that is done with for the lower half, to take the bytes of a later
    /// datagram or HTTP message: one that can take a datagram of one Ethernet frame and is not
    /// too large to hold on to, up to [`SPARE_PAYLOADS`] of them.
    fn spare(&mut self, buf: Vec<u8>) {
        if (PAYLOAD_BUFFER..=SPARE_PAYLOAD_MAX).contains(&buf.capacity())
            && self.spare_payloads.len() < SPARE_PAYLOADS
        {
            self.spare_payloads.push(buf);
        }
    }

    /// Reading the capture failed after some packets: say so; what was read stands.
    fn read_error(&mut self, e: &CaptureError, sink: &mut dyn FnMut(Event)) {
        self.stats.errors += 1;
        sink(Event::Note(format!(
            "{e}; reading stopped there: the {} packets before it are analysed",
            self.stats.packets
        )));
    }

    /// The end of the capture, given what the lower half's `finish` found.
    fn finish(
        &mut self,
        net_found: &mut Vec<Found>,
        tcp_found: &mut Vec<Found>,
        sink: &mut dyn FnMut(Event),
    ) -> Stats {
        self.found(net_found.drain(..), sink);
        self.found(tcp_found.drain(..), sink);
        let time = self.last_time;
        for ev in self.wap.finish() {
            self.wap_event(ev, time, sink);
        }
        self.stats.clone()
    }

    fn wap_event(&mut self, ev: WapEvent, time: Timestamp, sink: &mut dyn FnMut(Event)) {
        match ev {
            WapEvent::Wsp(msg) if msg.is_mms() => {
                let mut rec = record::from_wsp(&msg, time, self.opts.keep_dissection);
                if let Some(orig_frame) = msg.retransmission_of {
                    rec.retransmission_of = self.wsp_by_frame.get(&orig_frame).copied();
                }
                let frame = rec.frame;
                let index = self.emit(rec, sink);
                self.wsp_by_frame.entry(frame).or_insert(index);
            }
            WapEvent::Wsp(_) | WapEvent::Wtp { .. } => {}
            WapEvent::Error { frame, message } => {
                // Only datagrams on WAP ports reach here; one that does not parse is worth a note.
                sink(Event::Note(format!("frame {frame}: {message}")));
            }
        }
    }

    fn emit(&mut self, mut rec: PduRecord, sink: &mut dyn FnMut(Event)) -> usize {
        rec.index = self.next_index;
        self.next_index += 1;
        self.stats.pdus += 1;
        if rec.mms.errors > 0 || !rec.transport_notes.is_empty() {
            self.stats.errors += 1;
        }
        if !self.opts.keep_dissection {
            rec.dissection = Default::default();
        }
        let index = rec.index;
        sink(Event::Pdu(Box::new(rec)));
        index
    }
}

/// The stacked decoders and the state between packets, on one thread: feed it packets, it
/// reports every MMS PDU as a [`PduRecord`], in the order of the frame that completed it.
pub struct Pipeline {
    lower: Lower,
    upper: Upper,
    found: Vec<Found>,
}

impl Pipeline {
    pub fn new(opts: Options) -> Self {
        Pipeline {
            lower: Lower::default(),
            upper: Upper::new(opts),
            found: Vec::new(),
        }
    }

    /// Feed one captured packet.
    pub fn packet(&mut self, p: &Packet<'_>, sink: &mut dyn FnMut(Event)) {
        let mut found = std::mem::take(&mut self.found);
        self.lower.packet(p, &mut found);
        self.upper
            .packet(p.data.len(), p.time, found.drain(..), sink);
        self.found = found;
        self.lower.take_spares(&mut self.upper.spare_payloads);
    }

    /// The capture ended: flush what is still open (close-delimited bodies, incomplete WTP
    /// messages, TCP holes).
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event)) -> Stats {
        let (mut net_found, mut tcp_found) = (Vec::new(), Vec::new());
        self.lower.finish(&mut net_found, &mut tcp_found);
        self.upper.finish(&mut net_found, &mut tcp_found, sink)
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.upper.stats.packets
    }
}

/// Read packets from `source` until it ends, reporting every MMS PDU to `sink`, streaming.
/// A read error after some packets is reported as a note and ends the input; the PDUs found
/// before it stand.
pub fn run_source(
    source: &mut dyn PacketSource,
    opts: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<Stats, Error> {
    let mut pipeline = Pipeline::new(opts.clone());
    let mut last_time = Timestamp::default();
    loop {
        let packet = match source.next_packet() {
            None => break,
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                if pipeline.packets() == 0 {
                    return Err(Box::new(e));
                }
                pipeline.upper.read_error(&e, sink);
                break;
            }
        };
        last_time = packet.time;
        pipeline.packet(&packet, sink);
        if pipeline.packets().is_multiple_of(PROGRESS_EVERY) {
            sink(Event::Progress {
                packets: pipeline.packets(),
                bytes: source.bytes_read(),
                total_bytes: source.total_bytes(),
                time: last_time,
            });
        }
    }
    let stats = pipeline.finish(sink);
    end_of_input(
        &stats,
        source.bytes_read(),
        source.total_bytes(),
        last_time,
        sink,
    );
    Ok(stats)
}

/// The last events of a run over a source that ended: a note when it held no packet at all,
/// and the final progress.
fn end_of_input(
    stats: &Stats,
    bytes: u64,
    total_bytes: Option<u64>,
    time: Timestamp,
    sink: &mut dyn FnMut(Event),
) {
    if stats.packets == 0 {
        sink(Event::Note(
            "the capture holds no packets (a valid header, then nothing)".into(),
        ));
    }
    sink(Event::Progress {
        packets: stats.packets,
        bytes,
        total_bytes,
        time,
    });
}

/// How many threads [`run_file_with`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// Three (see `split`) on two or more cores, else one; `MMSCOPE_THREADS=1` in the
    /// environment asks for one, `MMSCOPE_THREADS=3` for three even on one core.
    Auto,
    /// The caller's thread only.
    One,
    /// Three, whatever the cores (tests, benchmarks).
    Three,
}

/// Read a capture file and report every MMS PDU in it to `sink`, streaming, on
/// [`Threads::Auto`] (see [`run_file_with`]).
pub fn run_file(path: &Path, opts: &Options, sink: &mut dyn FnMut(Event)) -> Result<Stats, Error> {
    run_file_with(path, opts, Threads::Auto, sink)
}

/// Read a capture file and report every MMS PDU in it to `sink`, streaming.
///
/// On three threads (see `split`), one reads the file and runs the link, IP, TCP and
/// HTTP-framing layers, one the layers above (inflating bodies, WTP/WSP, the MMS PDU), and the
/// caller's runs `sink`; they are connected by bounded channels of packet batches, so memory
/// stays bounded. The events are the same, in the same order, as [`run_source`] gives on one
/// thread (docs/PERFORMANCE.md).
pub fn run_file_with(
    path: &Path,
    opts: &Options,
    threads: Threads,
    sink: &mut dyn FnMut(Event),
) -> Result<Stats, Error> {
    // The reader's errors name the file already.
    let mut reader = FileReader::open(path)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let split = threads == Threads::Auto
        && match std::env::var_os("MMSCOPE_THREADS")
            .as_ref()
            .and_then(|v| v.to_str())
        {
            Some("1") => false,
            Some("3") => true,
            _ => cores >= 2,
        };
    let result = if split {
        split::run(reader, opts, sink)
    } else {
        run_source(&mut reader, opts, sink)
    };
    // A read error before the first packet does not name the file (the reader's record errors
    // say frame and offset only): prefix it, so the user knows which file is broken.
    result.map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Read a whole capture into an [`Analysis`]: PDUs with their dissections, and transactions.
pub fn analyze_file(path: &Path) -> Result<Analysis, Error> {
    let mut analysis = Analysis {
        source: path.display().to_string(),
        ..Default::default()
    };
    let opts = Options {
        keep_dissection: true,
    };
    let stats = run_file(path, &opts, &mut |ev| match ev {
        Event::Pdu(p) => analysis.pdus.push(*p),
        Event::Note(n) => analysis.capture_notes.push(n),
        Event::Progress { .. } => {}
    })?;
    analysis.transactions = crate::correlate::correlate(&analysis.pdus);
    analysis.stats = stats;
    analysis.stats.transactions = analysis.transactions.len() as u64;
    Ok(analysis)
}
