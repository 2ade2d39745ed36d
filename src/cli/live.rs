//! The live-capture options shared by `mmscope -i`, `pdus -i` and `transactions -i`
//! (docs/LIVE.md), and the loop that feeds a live capture through the pipeline.

use crate::capture::live::{
    CaptureOptions, DEFAULT_BUFFER_SIZE, DEFAULT_SNAPLEN, LiveCapture, LiveStats, Poll,
    WriteOptions, default_filter, list_interfaces, wall_clock,
};
use crate::capture::writer::Rotation;
use crate::correlate::Config;
use crate::model::{Stats, Timestamp};
use crate::pipeline::{Event, Options, Pipeline};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Live capture options (flattened into the top level and the batch subcommands).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Capture live on this interface instead of reading a file (repeat -i for several; their
    /// packets are merged in time order). See --list-interfaces.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// Capture filter (BPF, tcpdump syntax) compiled by libpcap. Default: TCP, UDP ports 9200,
    /// 9201, 2948, 2949 and 2152, IP fragments, and the same behind a VLAN tag (docs/LIVE.md).
    /// '' captures everything.
    #[arg(short = 'f', long = "capture-filter", value_name = "BPF")]
    pub capture_filter: Option<String>,
    /// Capture every packet (same as -f '').
    #[arg(long, conflicts_with = "capture_filter")]
    pub no_filter: bool,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_SNAPLEN)]
    pub snaplen: i32,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Kernel capture buffer per interface, in MiB (default 32). Raise it when the kernel drops
    /// packets.
    #[arg(long, value_name = "MIB")]
    pub buffer_size: Option<u32>,
    /// Also write every captured packet to this pcapng file (with rotation: FILE_00001.pcapng,
    /// FILE_00002.pcapng, …).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// With -w and rotation: keep only the last N files.
    #[arg(long, value_name = "N")]
    pub ring: Option<usize>,
    /// With -w: start a new file when this size is reached (bytes, or with k/M/G: 100M).
    #[arg(long, value_name = "SIZE")]
    pub rotate_size: Option<String>,
    /// With -w: start a new file every SECS seconds of capture.
    #[arg(long, value_name = "SECS")]
    pub rotate_seconds: Option<u64>,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Stop after N packets.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// The correlator's time limits of `transactions -i` (live captures only; files keep the
/// defaults of [`Config`]).
#[derive(clap::Args, Debug, Clone)]
pub struct LiveCorrelation {
    /// Live: a complete transaction is reported after SECS without a further copy of its PDUs
    /// (files use 30).
    #[arg(long, value_name = "SECS", default_value_t = LIVE_LINGER)]
    pub linger: f64,
    /// Live: a transaction still waiting for its closing PDU is reported as incomplete after
    /// SECS (files use 300).
    #[arg(long, value_name = "SECS", default_value_t = LIVE_IDLE_TIMEOUT)]
    pub idle_timeout: f64,
}

impl Default for LiveCorrelation {
    fn default() -> Self {
        LiveCorrelation {
            linger: LIVE_LINGER,
            idle_timeout: LIVE_IDLE_TIMEOUT,
        }
    }
}

impl LiveCorrelation {
    /// The correlator's time limits for a live capture.
    pub fn config(&self) -> Config {
        Config {
            linger: self.linger.max(0.0),
            idle_timeout: self.idle_timeout.max(0.0),
            ..Config::default()
        }
    }
}

/// Correlator linger time for live captures (seconds).
pub const LIVE_LINGER: f64 = 5.0;
/// Correlator idle timeout for live captures (seconds).
pub const LIVE_IDLE_TIMEOUT: f64 = 120.0;

/// Parse `100`, `64k`, `100M`, `2G` (powers of 1024) into bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_lowercase() {
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                _ => return Err(format!("bad size {s:?}: the unit is k, M or G")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad size {s:?}: expected a number of bytes, e.g. 100M"))?;
    n.checked_mul(mult)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("bad size {s:?}"))
}

impl LiveArgs {
    /// Whether a live capture was asked for.
    pub fn is_live(&self) -> bool {
        !self.interfaces.is_empty()
    }

    /// The capture options, checking that the live-only options come with `-i`.
    pub fn capture_options(&self) -> Result<Option<CaptureOptions>, String> {
        let rotating =
            self.ring.is_some() || self.rotate_size.is_some() || self.rotate_seconds.is_some();
        if !self.is_live() {
            let given = [
                (self.capture_filter.is_some(), "-f"),
                (self.no_filter, "--no-filter"),
                (self.write.is_some(), "-w"),
                (rotating, "--ring/--rotate-*"),
                (self.duration.is_some(), "--duration"),
                (self.count.is_some(), "--count"),
                (self.no_promisc, "--no-promisc"),
                (self.buffer_size.is_some(), "--buffer-size"),
            ];
            if let Some((_, flag)) = given.iter().find(|(g, _)| *g) {
                return Err(format!("{flag} is for live capture: give -i IFACE too"));
            }
            return Ok(None);
        }
        if rotating && self.write.is_none() {
            return Err("--ring, --rotate-size and --rotate-seconds need -w FILE".into());
        }
        if self.ring.is_some() && self.rotate_size.is_none() && self.rotate_seconds.is_none() {
            return Err("--ring N needs --rotate-size or --rotate-seconds".into());
        }
        if self.snaplen <= 0 {
            return Err(format!("--snaplen {}: must be positive", self.snaplen));
        }
        let duration = match self.duration {
            None => None,
            Some(d) if d.is_finite() && d > 0.0 => Some(Duration::from_secs_f64(d)),
            Some(d) => return Err(format!("--duration {d}: must be a positive number")),
        };
        if self.count == Some(0) {
            return Err("--count 0: must be at least 1".into());
        }
        let filter = if self.no_filter {
            None
        } else {
            match &self.capture_filter {
                Some(f) if f.trim().is_empty() => None,
                Some(f) => Some(f.clone()),
                None => Some(default_filter()),
            }
        };
        let rotation = Rotation {
            max_bytes: self.rotate_size.as_deref().map(parse_size).transpose()?,
            max_seconds: self.rotate_seconds,
            ring: self.ring,
        };
        Ok(Some(CaptureOptions {
            interfaces: self.interfaces.clone(),
            filter,
            snaplen: self.snaplen,
            promiscuous: !self.no_promisc,
            buffer_size: match self.buffer_size {
                None => DEFAULT_BUFFER_SIZE,
                Some(m) if (1..=2047).contains(&m) => (m as i32) << 20,
                Some(m) => return Err(format!("--buffer-size {m}: 1 to 2047 MiB")),
            },
            count: self.count,
            duration,
            write: self
                .write
                .clone()
                .map(|path| WriteOptions { path, rotation }),
        }))
    }
}

/// `mmscope --list-interfaces`: one line per interface.
pub fn print_interfaces() -> super::CliResult {
    let list = list_interfaces()?;
    if list.is_empty() {
        return Err("libpcap lists no interface (capturing may need root: docs/LIVE.md)".into());
    }
    for i in list {
        println!("{i}");
    }
    Ok(())
}

/// How often [`drive`] reports the clock and progress.
pub const TICK: Duration = Duration::from_millis(200);

/// What a live run reports: the pipeline's events, and the wall clock every [`TICK`] (also
/// on a quiet link, so that time-outs in capture time still fire).
#[derive(Debug)]
pub enum Feed {
    Event(Event),
    Tick(Timestamp),
}

/// Feed a live capture through the pipeline until it ends (Ctrl-C, `--duration`, `--count`,
/// the stop flag) or `sink` returns `false` (e.g. the output pipe closed). PDUs, notes and
/// progress go to `sink` as they come.
pub fn drive(
    capture: &mut LiveCapture,
    opts: &Options,
    sink: &mut dyn FnMut(Feed) -> bool,
) -> Stats {
    let stop = capture.stop_handle();
    let mut feed = |f: Feed| {
        if !sink(f) {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let mut pipeline = Pipeline::new(opts.clone());
    let mut packets = 0u64;
    let mut bytes = 0u64;
    let mut last_time = Timestamp::default();
    let mut last_tick = Instant::now();
    loop {
        let wait = TICK.saturating_sub(last_tick.elapsed());
        match capture.poll(wait) {
            Poll::Packet(p) => {
                packets += 1;
                bytes += p.data.len() as u64;
                last_time = p.time;
                pipeline.packet(&p, &mut |e| feed(Feed::Event(e)));
            }
            Poll::Note(n) => feed(Feed::Event(Event::Note(n))),
            Poll::Idle => {}
            Poll::End => break,
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            feed(Feed::Event(Event::Progress {
                packets,
                bytes,
                total_bytes: None,
                time: last_time,
            }));
            feed(Feed::Tick(wall_clock()));
        }
    }
    let stats = pipeline.finish(&mut |e| feed(Feed::Event(e)));
    feed(Feed::Event(Event::Progress {
        packets: stats.packets,
        bytes: stats.bytes,
        total_bytes: None,
        time: last_time,
    }));
    stats
}

/// Make Ctrl-C (SIGINT), SIGTERM and SIGHUP set `stop`; a second one ends the process at once.
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    }
    Ok(())
}

/// A batch command's live run: start the capture, stop on Ctrl-C, feed the pipeline, and
/// print the capture counters on stderr at the end. Returns them.
pub fn run_batch(
    opts: &CaptureOptions,
    pipeline_opts: &Options,
    sink: &mut dyn FnMut(Feed) -> bool,
) -> Result<LiveStats, Box<dyn std::error::Error>> {
    let mut capture = LiveCapture::start(opts)?;
    stop_on_signals(&capture.stop_handle())?;
    let names: Vec<&str> = opts.interfaces.iter().map(String::as_str).collect();
    eprintln!(
        "mmscope: capturing on {} (filter: {}); Ctrl-C stops",
        names.join(", "),
        opts.filter.as_deref().unwrap_or("none, every packet")
    );
    drive(&mut capture, pipeline_opts, sink);
    let stats = capture.finish();
    for line in stats.report().lines() {
        eprintln!("mmscope: {line}");
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("10X").unwrap_err().contains("unit"));
        assert!(parse_size("M").is_err());
        assert!(parse_size("0").is_err());
    }

    fn live(i: &str) -> LiveArgs {
        LiveArgs {
            interfaces: vec![i.into()],
            snaplen: DEFAULT_SNAPLEN,
            ..Default::default()
        }
    }

    #[test]
    fn filter_defaults_and_empty_means_none() {
        let o = live("lo").capture_options().unwrap().unwrap();
        assert_eq!(o.filter, Some(default_filter()));
        assert!(o.promiscuous);
        let mut a = live("lo");
        a.capture_filter = Some(String::new());
        assert_eq!(a.capture_options().unwrap().unwrap().filter, None);
        let mut a = live("lo");
        a.no_filter = true;
        assert_eq!(a.capture_options().unwrap().unwrap().filter, None);
        let mut a = live("lo");
        a.capture_filter = Some("udp port 9200".into());
        assert_eq!(
            a.capture_options().unwrap().unwrap().filter.as_deref(),
            Some("udp port 9200")
        );
    }

    #[test]
    fn live_only_options_need_an_interface() {
        let a = LiveArgs {
            write: Some("x.pcapng".into()),
            ..Default::default()
        };
        assert_eq!(
            a.capture_options().unwrap_err(),
            "-w is for live capture: give -i IFACE too"
        );
        let mut a = live("lo");
        a.ring = Some(3);
        assert!(a.capture_options().unwrap_err().contains("need -w"));
        a.write = Some("x.pcapng".into());
        assert!(a.capture_options().unwrap_err().contains("--rotate-size"));
        a.rotate_size = Some("1M".into());
        let o = a.capture_options().unwrap().unwrap();
        let w = o.write.unwrap();
        assert_eq!(w.rotation.max_bytes, Some(1 << 20));
        assert_eq!(w.rotation.ring, Some(3));
    }
}
