//! Generator of large, realistic MMS captures for benchmarks and tests.
//!
//! [`generate`] writes a deterministic capture (same seed, same bytes) of many interleaved MMS
//! messages — each one's whole life over MM1: HTTP POST of m-send-req, WAP push of
//! m-notification-ind, m-notifyresp-ind, retrieval over HTTP (plain, chunked, gzip) or over a
//! WSP session with WTP segmentation, m-acknowledge-ind, WAP push of m-delivery-ind — and, in
//! mixed mode, background traffic (web, TLS, DNS, RTP) making up about 98 % of the bytes.
//!
//! Memory stays bounded whatever the size: at most [`Config::concurrency`] scenarios are
//! held at once, and frames are written in time order as they are merged.
//!
//! It also returns its ground truth ([`Truth`]): every PDU it put on the wire, so a run of
//! mmscope on the capture can be checked exactly.

pub mod content;
pub mod mms;
pub mod packet;
pub mod rng;
pub mod scenario;
pub mod wsp;

use crate::capture::writer::{AnyWriter, DEFAULT_SNAPLEN, Format, PacketWriter, linktype};
use crate::model::Timestamp;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};

/// What kind of traffic to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// MMS only.
    Mms,
    /// MMS ≈ 2 % of the bytes, the rest web, TLS, DNS and RTP.
    Mixed,
}

/// Generator settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Stop starting scenarios once the file would reach this many bytes (the scenarios
    /// under way are finished, so the file ends a little larger).
    pub size: u64,
    pub mode: Mode,
    pub seed: u64,
    /// Scenarios in progress at once (how much the conversations interleave).
    pub concurrency: usize,
    /// Share of the bytes that MMS scenarios make up in mixed mode.
    pub mms_share: f64,
    /// Time of the first packet, seconds since the epoch.
    pub start_secs: i64,
    /// Probability, per TCP data segment, that it is sent twice (a retransmission) or swapped
    /// with the next (out of order), and per WTP segment inside a group, that it is lost
    /// before the capture point (then asked for by a Negative Ack and sent again with RID).
    /// 0 for a clean capture. The truth lists each PDU once, in the frame where its last
    /// missing byte arrives.
    pub impair: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 100 << 20,
            mode: Mode::Mms,
            seed: 42,
            concurrency: 32,
            mms_share: 0.02,
            start_secs: 1_767_225_600, // 2026-01-01T00:00:00Z
            impair: 0.0,
        }
    }
}

/// How an MMS PDU travelled (ground truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TruthTransport {
    Http,
    Wsp,
    WspPush,
}

/// One MMS PDU the generator put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduTruth {
    pub message_type: u8,
    pub transaction_id: Option<String>,
    pub message_id: Option<String>,
    pub transport: TruthTransport,
}

/// One frame, with the PDUs it completes.
#[derive(Debug, Clone)]
pub struct Pkt {
    /// Nanoseconds since the epoch.
    pub time_ns: u64,
    pub data: Vec<u8>,
    pub pdus: Vec<PduTruth>,
}

/// Frames of one scenario in time order, with a clock that only moves forward.
#[derive(Debug, Default)]
pub struct Timeline {
    now: u64,
    pkts: Vec<Pkt>,
    bytes: u64,
}

impl Timeline {
    pub fn new(start_ns: u64) -> Timeline {
        Timeline {
            now: start_ns,
            pkts: Vec::new(),
            bytes: 0,
        }
    }

    /// Current time, ns since the epoch.
    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn advance(&mut self, ns: u64) {
        self.now += ns;
    }

    /// Add a frame at the current time; returns its index.
    pub fn push(&mut self, data: Vec<u8>) -> usize {
        self.bytes += data.len() as u64;
        self.pkts.push(Pkt {
            time_ns: self.now,
            data,
            pdus: Vec::new(),
        });
        self.pkts.len() - 1
    }

    /// Record that frame `index` completes `pdu`.
    pub fn mark(&mut self, index: usize, pdu: PduTruth) {
        self.pkts[index].pdus.push(pdu);
    }

    /// Sum of the frame lengths.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn into_packets(self) -> Vec<Pkt> {
        self.pkts
    }
}

/// What the generator wrote: the ground truth to check an analysis against.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub seed: u64,
    pub packets: u64,
    /// Size of the capture file.
    pub file_bytes: u64,
    /// Sum of frame lengths, all traffic.
    pub frame_bytes: u64,
    /// Sum of frame lengths of the MMS scenarios (TCP/UDP overhead included).
    pub mms_frame_bytes: u64,
    /// MMS messages (each one a send, a notification, a retrieval, maybe a delivery report).
    pub messages: u64,
    pub pdus: u64,
    /// PDUs by OMA message type name.
    pub pdus_by_type: BTreeMap<String, u64>,
    /// PDUs by transport: http, wsp, wsp-push.
    pub pdus_by_transport: BTreeMap<String, u64>,
    pub transactions: u64,
    /// Transactions by kind (as `model::TransactionKind` names them): send, notification,
    /// retrieve, delivery-report.
    pub transactions_by_kind: BTreeMap<String, u64>,
    /// Background scenarios (mixed mode).
    pub background_flows: u64,
    /// Capture time span, seconds.
    pub duration_s: f64,
}

impl Truth {
    fn count(&mut self, p: &PduTruth) {
        use mms::message_type as mt;
        self.pdus += 1;
        *self
            .pdus_by_type
            .entry(mms::message_type::name(p.message_type).into())
            .or_default() += 1;
        let tr = match p.transport {
            TruthTransport::Http => "http",
            TruthTransport::Wsp => "wsp",
            TruthTransport::WspPush => "wsp-push",
        };
        *self.pdus_by_transport.entry(tr.into()).or_default() += 1;
        // Each transaction has exactly one PDU of these types.
        let kind = match p.message_type {
            mt::SEND_REQ => Some("send"),
            mt::NOTIFICATION_IND => Some("notification"),
            mt::RETRIEVE_CONF => Some("retrieve"),
            mt::DELIVERY_IND => Some("delivery-report"),
            _ => None,
        };
        if let Some(k) = kind {
            self.transactions += 1;
            *self.transactions_by_kind.entry(k.into()).or_default() += 1;
        }
    }
}

/// One row of the per-PDU truth file (the layout of `captures/*.truth.tsv` plus a fourth
/// column): message type, transaction id, message id ("-" when absent), and the number
/// (1-based) of the frame that completes the PDU, tab-separated.
pub fn truth_tsv_row(p: &PduTruth, frame: u64) -> String {
    format!(
        "{}\t{}\t{}\t{}\n",
        mms::message_type::name(p.message_type),
        p.transaction_id.as_deref().unwrap_or("-"),
        p.message_id.as_deref().unwrap_or("-"),
        frame
    )
}

/// Header line of the per-PDU truth file.
pub const TRUTH_TSV_HEADER: &str = "# message_type\ttransaction_id\tmessage_id\tframe (ground truth, one row per PDU on the wire, in capture order; frame = the frame that completes the PDU)\n";

struct Active {
    pkts: std::vec::IntoIter<Pkt>,
    mms: bool,
}

/// [`generate`] into a new Ethernet capture file at `path` in `format`, flushed.
pub fn generate_file(
    cfg: &Config,
    path: &std::path::Path,
    format: Format,
    pdu_log: Option<&mut dyn Write>,
) -> io::Result<Truth> {
    let file = std::fs::File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut writer = AnyWriter::new(file, format, linktype::ETHERNET, DEFAULT_SNAPLEN)?;
    let truth = generate(cfg, &mut writer, pdu_log)?;
    writer.flush()?;
    Ok(truth)
}

/// Write a capture per `cfg` to `out`; every PDU is also reported to `pdu_log` (one TSV row
/// each, in capture order) when given. Returns the ground truth.
pub fn generate(
    cfg: &Config,
    out: &mut dyn PacketWriter,
    mut pdu_log: Option<&mut dyn Write>,
) -> io::Result<Truth> {
    let mut world = scenario::World::new(cfg.seed);
    world.impair = cfg.impair;
    let mut truth = Truth {
        seed: cfg.seed,
        ..Truth::default()
    };
    let start_ns = cfg.start_secs.max(0) as u64 * 1_000_000_000;
    let concurrency = cfg.concurrency.max(1);
    let mut slots: Vec<Option<Active>> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut order = 0u64; // tie-break so equal times come out deterministically
    let mut clock = start_ns;
    let mut pending = 0u64; // record bytes of frames made but not yet written
    let mut mms_made = 0u64;
    let mut all_made = 0u64;
    let mut stopping = false;
    let mut active = 0usize;
    let mut first_time = None;

    if let Some(log) = pdu_log.as_deref_mut() {
        log.write_all(TRUTH_TSV_HEADER.as_bytes())?;
    }

    loop {
        while !stopping && active < concurrency {
            if out.bytes_written() + pending >= cfg.size {
                stopping = true;
                break;
            }
            let begin = clock + world.rng.range(0, 20_000_000);
            let is_mms = match cfg.mode {
                Mode::Mms => true,
                Mode::Mixed => (mms_made as f64) <= cfg.mms_share * all_made as f64,
            };
            let tl = if is_mms {
                truth.messages += 1;
                world.mms_story(begin)
            } else {
                truth.background_flows += 1;
                world.filler(begin)
            };
            let bytes = tl.bytes();
            let pkts = tl.into_packets();
            all_made += bytes;
            if is_mms {
                mms_made += bytes;
            }
            // Record overhead is at most 32 bytes a frame (pcapng EPB with padding).
            pending += bytes + 32 * pkts.len() as u64;
            let slot = match slots.iter().position(Option::is_none) {
                Some(i) => i,
                None => {
                    slots.push(None);
                    slots.len() - 1
                }
            };
            let it = pkts.into_iter();
            if let Some(first) = it.as_slice().first() {
                heap.push(Reverse((first.time_ns, order, slot)));
                order += 1;
                slots[slot] = Some(Active {
                    pkts: it,
                    mms: is_mms,
                });
                active += 1;
            }
        }
        let Some(Reverse((_, _, slot))) = heap.pop() else {
            break;
        };
        let act = slots[slot].as_mut().expect("scheduled slot is active");
        let pkt = act.pkts.next().expect("scheduled slot has a frame");
        let ts = Timestamp {
            secs: (pkt.time_ns / 1_000_000_000) as i64,
            nanos: (pkt.time_ns % 1_000_000_000) as u32,
        };
        out.write_packet(ts, &pkt.data, pkt.data.len() as u32)?;
        clock = pkt.time_ns;
        first_time.get_or_insert(pkt.time_ns);
        pending = pending.saturating_sub(pkt.data.len() as u64 + 32);
        truth.packets += 1;
        truth.frame_bytes += pkt.data.len() as u64;
        if act.mms {
            truth.mms_frame_bytes += pkt.data.len() as u64;
        }
        for p in &pkt.pdus {
            truth.count(p);
            if let Some(log) = pdu_log.as_deref_mut() {
                log.write_all(truth_tsv_row(p, truth.packets).as_bytes())?;
            }
        }
        match act.pkts.as_slice().first() {
            Some(next) => {
                heap.push(Reverse((next.time_ns, order, slot)));
                order += 1;
            }
            None => {
                slots[slot] = None;
                active -= 1;
            }
        }
    }
    out.flush()?;
    truth.file_bytes = out.bytes_written();
    truth.duration_s = (clock - first_time.unwrap_or(clock)) as f64 / 1e9;
    Ok(truth)
}

/// Parse a size such as `200M`, `1G`, `1.5G`, `4096`, `64k` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("bad size {s:?}: expected a number with an optional K, M, G or T"))?;
    if v.is_nan() || v < 0.0 {
        return Err(format!("bad size {s:?}"));
    }
    Ok((v * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::PcapWriter;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("200M").unwrap(), 200 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(parse_size("x").is_err());
    }

    fn run(cfg: &Config) -> (Vec<u8>, Truth, String) {
        let mut w = PcapWriter::new(Vec::new(), 1, 262144, true).unwrap();
        let mut log = Vec::new();
        let truth = generate(cfg, &mut w, Some(&mut log)).unwrap();
        (
            w.into_inner().unwrap(),
            truth,
            String::from_utf8(log).unwrap(),
        )
    }

    #[test]
    fn deterministic_complete_and_time_ordered() {
        let cfg = Config {
            size: 3 << 20,
            concurrency: 8,
            ..Config::default()
        };
        let (a, truth, log) = run(&cfg);
        let (b, _, _) = run(&cfg);
        assert_eq!(a, b, "same seed, same bytes");
        let (c, _, _) = run(&Config {
            seed: 7,
            ..cfg.clone()
        });
        assert_ne!(a, c);
        assert!(a.len() as u64 >= cfg.size);
        assert_eq!(truth.file_bytes, a.len() as u64);
        // Every message is complete: one of each PDU type, delivery reports for most.
        let n = truth.messages;
        assert!(n > 0);
        for t in [
            "m-send-req",
            "m-send-conf",
            "m-notification-ind",
            "m-notifyresp-ind",
            "m-retrieve-conf",
            "m-acknowledge-ind",
        ] {
            assert_eq!(truth.pdus_by_type[t], n, "{t}");
        }
        assert!(truth.pdus_by_type["m-delivery-ind"] <= n);
        assert_eq!(log.lines().count() as u64, truth.pdus + 1);
        // Timestamps never go backwards (nanosecond pcap: secs at 24+16k, nanos after).
        let mut off = 24;
        let mut last = (0u32, 0u32);
        let mut packets = 0;
        while off < a.len() {
            let secs = u32::from_le_bytes(a[off..off + 4].try_into().unwrap());
            let nanos = u32::from_le_bytes(a[off + 4..off + 8].try_into().unwrap());
            let len = u32::from_le_bytes(a[off + 8..off + 12].try_into().unwrap()) as usize;
            assert!((secs, nanos) >= last);
            last = (secs, nanos);
            off += 16 + len;
            packets += 1;
        }
        assert_eq!(packets, truth.packets);
        // Transaction ids are unique per transaction.
        let mut send_tids: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with("m-send-req"))
            .map(|l| l.split('\t').nth(1).unwrap())
            .collect();
        send_tids.sort();
        send_tids.dedup();
        assert_eq!(send_tids.len() as u64, n);
    }

    #[test]
    fn mixed_mode_share() {
        let cfg = Config {
            size: 40 << 20,
            mode: Mode::Mixed,
            ..Config::default()
        };
        let mut w = PcapWriter::new(io::sink(), 1, 262144, false).unwrap();
        let truth = generate(&cfg, &mut w, None).unwrap();
        let share = truth.mms_frame_bytes as f64 / truth.frame_bytes as f64;
        assert!(truth.background_flows > 0);
        assert!(share > 0.005 && share < 0.06, "MMS share {share}");
    }
}
