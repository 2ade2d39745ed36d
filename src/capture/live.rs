//! Live capture through libpcap (the `pcap` crate).
//!
//! Two levels:
//! - [`LiveSource`]: one interface, read on the caller's thread (a plain [`PacketSource`]).
//! - [`LiveCapture`]: one or more interfaces, each read by its own capture thread; a merger
//!   thread puts their packets in time order, numbers them, writes them to the `-w` file and
//!   hands them to the analysis (the caller) over a channel. The caller polls with a timeout,
//!   so it can do timed work (flush transactions, redraw) on a quiet link.
//!
//! ```text
//! capture thread (lo)  ──┐ bounded channel       ┌─▶ -w file (pcapng, rotating)
//! capture thread (eth0) ─┴──────────────▶ merger ┤
//!                                                └─▶ analysis queue (bounded in bytes) ─▶ poll()
//! ```
//!
//! Why the merger writes the file and not the analysis: a slow analysis (a burst of large
//! MMS) must never cost packets in the file. When the analysis queue is full, packets are still
//! written and only their analysis is skipped (counted in [`LiveStats::analysis_dropped`]).
//! When the merger itself cannot keep up, the capture threads block and the kernel drops
//! packets, which libpcap counts ([`InterfaceStats::dropped`]).

use super::writer::{AnyWriter, Format, PacketWriter, RotatingWriter, Rotation};
use super::{CaptureError, LinkType, Packet, PacketSource};
use crate::model::Timestamp;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// UDP ports that carry MMS: WSP connectionless (9200), WSP over WTP (9201), WAP push
/// connectionless and connection-oriented (2948, 2949), GTP-U (2152, MMS inside a mobile
/// core's user plane).
pub const MMS_UDP_PORTS: [u16; 5] = [9200, 9201, 2948, 2949, 2152];

/// The capture filter used when neither `-f` nor `--no-filter` is given: all TCP (HTTP runs on
/// any port: 80, 8080, 8002, an MMSC's own…), the MMS UDP ports, every IPv4 fragment and every
/// IPv6 packet whose first extension header is a Fragment header (a non-first fragment has no
/// UDP header, so `udp port` alone would lose the rest of a large WSP datagram), and the same
/// once more behind one 802.1Q/802.1ad tag.
pub fn default_filter() -> String {
    let ports: Vec<String> = MMS_UDP_PORTS
        .iter()
        .map(|p| format!("udp port {p}"))
        .collect();
    let base = format!(
        "tcp or {} or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44)",
        ports.join(" or ")
    );
    format!("{base} or (vlan and ({base}))")
}

/// Default snap length: whole packets (as tcpdump and dumpcap).
pub const DEFAULT_SNAPLEN: i32 = 262_144;

/// Default kernel capture buffer per interface: 32 MiB, so that a burst of large MMS bodies
/// (hundreds of kilobytes each, at link speed) fits while mmscope catches up. tcpdump and
/// dumpcap use 2 MiB.
pub const DEFAULT_BUFFER_SIZE: i32 = 32 << 20;

/// An interface libpcap can capture on.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
}

impl fmt::Display for InterfaceInfo {
    /// `lo  [up, running, loopback]  127.0.0.1, ::1  (Loopback device)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = vec![if self.up { "up" } else { "down" }];
        if self.running {
            flags.push("running");
        }
        if self.loopback {
            flags.push("loopback");
        }
        write!(f, "{:<16} [{}]", self.name, flags.join(", "))?;
        if !self.addresses.is_empty() {
            let a: Vec<String> = self.addresses.iter().map(IpAddr::to_string).collect();
            write!(f, "  {}", a.join(", "))?;
        }
        if let Some(d) = &self.description {
            write!(f, "  ({d})")?;
        }
        Ok(())
    }
}

/// The interfaces libpcap can capture on.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devices = pcap::Device::list().map_err(|e| LiveError::List(e.to_string()))?;
    Ok(devices
        .into_iter()
        .map(|d| InterfaceInfo {
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            name: d.name,
            description: d.desc,
        })
        .collect())
}

/// Why a live capture could not start (or stopped).
#[derive(Debug)]
pub enum LiveError {
    /// The interface does not exist; `available` lists those that do.
    NoSuchInterface {
        name: String,
        available: Vec<String>,
    },
    /// The process may not capture (not root, no CAP_NET_RAW).
    Permission { interface: String, message: String },
    /// libpcap could not compile the capture filter (its message, verbatim).
    BadFilter {
        interface: String,
        filter: String,
        message: String,
    },
    /// Any other libpcap error while opening the interface.
    Open { interface: String, message: String },
    /// The interfaces cannot be listed.
    List(String),
    /// The `-w` file cannot be written.
    Write { path: PathBuf, message: String },
    /// Bad combination of options.
    Usage(String),
}

/// What to tell a user who may not capture.
pub const PERMISSION_ADVICE: &str = "capturing needs root or the CAP_NET_RAW and CAP_NET_ADMIN \
capabilities: run mmscope as root (sudo), or grant them once with\n  \
sudo setcap cap_net_raw,cap_net_admin=eip $(which mmscope)";

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::NoSuchInterface { name, available } => {
                write!(f, "no such interface: {name:?}")?;
                if available.is_empty() {
                    write!(f, " (libpcap lists no interface at all)")
                } else {
                    write!(
                        f,
                        "; available: {} (details: mmscope --list-interfaces)",
                        available.join(", ")
                    )
                }
            }
            LiveError::Permission { interface, message } => write!(
                f,
                "{interface}: no permission to capture (libpcap: {message});\n  {PERMISSION_ADVICE}"
            ),
            LiveError::BadFilter {
                interface,
                filter,
                message,
            } => write!(
                f,
                "bad capture filter on {interface}: {message}\n  filter: {filter}"
            ),
            LiveError::Open { interface, message } => write!(f, "{interface}: {message}"),
            LiveError::List(m) => write!(f, "cannot list the capture interfaces: {m}"),
            LiveError::Write { path, message } => {
                write!(f, "cannot write {}: {message}", path.display())
            }
            LiveError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LiveError {}

impl From<LiveError> for CaptureError {
    fn from(e: LiveError) -> Self {
        CaptureError::Live(e.to_string())
    }
}

/// Map a libpcap error text from opening `interface` to what it means for the user.
/// `available` is consulted only for a missing interface.
pub fn classify_open_error(
    interface: &str,
    message: &str,
    available: impl FnOnce() -> Vec<String>,
) -> LiveError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission")
        || lower.contains("operation not permitted")
        || lower.contains("eperm")
        || lower.contains("access denied")
    {
        LiveError::Permission {
            interface: interface.into(),
            message: message.into(),
        }
    } else if lower.contains("no such device")
        || lower.contains("doesn't exist")
        || lower.contains("does not exist")
        || lower.contains("no such file")
    {
        LiveError::NoSuchInterface {
            name: interface.into(),
            available: available(),
        }
    } else {
        LiveError::Open {
            interface: interface.into(),
            message: message.into(),
        }
    }
}

fn interface_names() -> Vec<String> {
    list_interfaces()
        .map(|l| l.into_iter().map(|i| i.name).collect())
        .unwrap_or_default()
}

/// Open `interface` and apply `filter` (libpcap compiles it for the interface's link type).
fn open_interface(
    interface: &str,
    filter: Option<&str>,
    snaplen: i32,
    promiscuous: bool,
    buffer_size: i32,
) -> Result<pcap::Capture<pcap::Active>, LiveError> {
    // libpcap's own message for a missing device varies (and is empty with some versions):
    // check the list first so that the error can name the interfaces that exist.
    if let Ok(list) = list_interfaces()
        && !list.iter().any(|i| i.name == interface)
    {
        return Err(LiveError::NoSuchInterface {
            name: interface.into(),
            available: list.into_iter().map(|i| i.name).collect(),
        });
    }
    let err = |e: pcap::Error| classify_open_error(interface, &e.to_string(), interface_names);
    let mut capture = pcap::Capture::from_device(interface)
        .map_err(err)?
        .snaplen(snaplen)
        .promisc(promiscuous)
        .precision(pcap::Precision::Nano)
        .buffer_size(buffer_size)
        // The kernel hands over a block of packets at the latest after this (TPACKET_V3), so a
        // lone packet is seen within 100 ms.
        .timeout(100)
        .open()
        .map_err(err)?;
    if let Some(f) = filter.filter(|f| !f.trim().is_empty()) {
        capture.filter(f, true).map_err(|e| LiveError::BadFilter {
            interface: interface.into(),
            filter: f.into(),
            message: e.to_string(),
        })?;
    }
    // Non-blocking, waited for with poll(2): on Linux (TPACKET_V3) a blocking read on a quiet
    // interface never returns, read timeout or not, so a stop request would go unnoticed.
    capture.setnonblock().map_err(err)
}

/// What [`read_packet`] found.
enum Read {
    /// A packet, its bytes copied into the caller's buffer.
    Packet {
        time: Timestamp,
        orig_len: u32,
    },
    /// Nothing within the wait.
    Nothing,
    End,
    Error(String),
}

/// The next packet of a non-blocking capture, copied into `buf`, waiting at most `wait` for
/// one.
fn read_packet(cap: &mut pcap::Capture<pcap::Active>, wait: Duration, buf: &mut Vec<u8>) -> Read {
    // A packet may already be buffered in libpcap: try first, wait only when there is none.
    for attempt in 0..2 {
        match cap.next_packet() {
            Ok(p) => {
                buf.clear();
                buf.extend_from_slice(p.data);
                return Read::Packet {
                    time: packet_time(p.header),
                    orig_len: p.header.len,
                };
            }
            Err(pcap::Error::TimeoutExpired) => {}
            Err(pcap::Error::NoMorePackets) => return Read::End,
            Err(e) => return Read::Error(e.to_string()),
        }
        if attempt == 0 && !has_packet(cap, wait) {
            break;
        }
    }
    Read::Nothing
}

/// Wait until the capture's descriptor is readable, at most `wait`.
fn has_packet(cap: &pcap::Capture<pcap::Active>, wait: Duration) -> bool {
    use std::os::unix::io::AsRawFd;
    let mut fds = libc::pollfd {
        fd: cap.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, its count, a timeout in milliseconds.
    let n = unsafe { libc::poll(&mut fds, 1, wait.as_millis().min(i32::MAX as u128) as i32) };
    // On an error (EINTR from Ctrl-C) try a read anyway: it does not block.
    n != 0
}

/// How to open a single-interface [`LiveSource`].
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interface: String,
    /// BPF filter expression (tcpdump syntax), if any.
    pub filter: Option<String>,
    pub snaplen: i32,
    pub promiscuous: bool,
}

/// Packets from one live interface, read on the caller's thread. Frame numbers count from 1 as
/// packets arrive.
pub struct LiveSource {
    capture: pcap::Capture<pcap::Active>,
    link_type: LinkType,
    frame: u64,
    stop: Arc<AtomicBool>,
    done: bool,
    data: Vec<u8>,
}

impl LiveSource {
    pub fn open(opts: &LiveOptions) -> Result<Self, CaptureError> {
        let capture = open_interface(
            &opts.interface,
            opts.filter.as_deref(),
            opts.snaplen,
            opts.promiscuous,
            DEFAULT_BUFFER_SIZE,
        )?;
        let link_type = LinkType(capture.get_datalink().0 as u32);
        Ok(LiveSource {
            capture,
            link_type,
            frame: 0,
            stop: Arc::new(AtomicBool::new(false)),
            done: false,
            data: Vec::new(),
        })
    }

    /// Set the returned flag to make `next_packet` return `None` at its next wake-up.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub fn link_type(&self) -> LinkType {
        self.link_type
    }
}

fn packet_time(h: &pcap::PacketHeader) -> Timestamp {
    // time_t is 32 bits on some targets.
    #[allow(clippy::unnecessary_cast)]
    Timestamp {
        secs: h.ts.tv_sec as i64,
        // Precision::Nano: tv_usec holds nanoseconds.
        nanos: h.ts.tv_usec as u32,
    }
}

impl PacketSource for LiveSource {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        // Assume the end; a packet clears it again.
        self.done = true;
        let (time, orig_len) = loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            match read_packet(
                &mut self.capture,
                Duration::from_millis(100),
                &mut self.data,
            ) {
                Read::Packet { time, orig_len } => break (time, orig_len),
                Read::Nothing => continue,
                Read::End => return None,
                Read::Error(e) => return Some(Err(CaptureError::Live(e))),
            }
        };
        self.frame += 1;
        self.done = false;
        Some(Ok(Packet {
            frame: self.frame,
            time,
            link_type: self.link_type,
            data: &self.data,
            orig_len,
            interface: 0,
            file_offset: 0,
        }))
    }
}

// ------------------------------------------------------------------------------------------
// Several interfaces, capture threads, merger, -w file
// ------------------------------------------------------------------------------------------

/// Where and how `-w` writes.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub path: PathBuf,
    /// All limits unset: one file, exactly `path`. Otherwise `path`'s stem gets `_00001`, …
    pub rotation: Rotation,
}

/// How to start a [`LiveCapture`].
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// One capture thread each; packets are merged in time order.
    pub interfaces: Vec<String>,
    /// BPF filter for every interface; `None` or empty: capture everything.
    pub filter: Option<String>,
    pub snaplen: i32,
    pub promiscuous: bool,
    /// Kernel capture buffer per interface, in bytes.
    pub buffer_size: i32,
    /// Stop after this many packets (all interfaces together).
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    pub write: Option<WriteOptions>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            interfaces: Vec::new(),
            filter: Some(default_filter()),
            snaplen: DEFAULT_SNAPLEN,
            promiscuous: true,
            buffer_size: DEFAULT_BUFFER_SIZE,
            count: None,
            duration: None,
            write: None,
        }
    }
}

/// libpcap's counters for one interface, and what mmscope got from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InterfaceStats {
    pub name: String,
    pub link_type: LinkType,
    /// Packets libpcap handed to mmscope.
    pub captured: u64,
    /// `ps_recv`: packets that passed the filter (Linux), dropped ones included.
    pub received: u64,
    /// `ps_drop`: dropped by the kernel because the capture buffer was full.
    pub dropped: u64,
    /// `ps_ifdrop`: dropped by the interface or its driver.
    pub if_dropped: u64,
    /// Why the capture on this interface ended early, if it did.
    pub error: Option<String>,
}

impl Default for LinkType {
    fn default() -> Self {
        LinkType::ETHERNET
    }
}

/// Counters of a [`LiveCapture`], readable at any time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveStats {
    pub interfaces: Vec<InterfaceStats>,
    /// Packets merged (numbered frames), written to the file and offered to the analysis.
    pub packets: u64,
    /// Packets not analysed because the analysis queue was full (still written with `-w`).
    pub analysis_dropped: u64,
    pub written_packets: u64,
    pub written_bytes: u64,
    /// Files written so far (the kept ones when rotating with a ring).
    pub files: Vec<PathBuf>,
    /// Why writing stopped, if it did.
    pub write_error: Option<String>,
}

impl LiveStats {
    /// Kernel and interface drops over all interfaces.
    pub fn dropped(&self) -> u64 {
        self.interfaces
            .iter()
            .map(|i| i.dropped + i.if_dropped)
            .sum()
    }

    /// One line for a status bar: `1234 pkts captured · 0 dropped (kernel 0, if 0, analysis 0)`.
    pub fn status_line(&self) -> String {
        let kernel: u64 = self.interfaces.iter().map(|i| i.dropped).sum();
        let ifd: u64 = self.interfaces.iter().map(|i| i.if_dropped).sum();
        let mut s = format!(
            "{} dropped (kernel {kernel}, if {ifd}, analysis {})",
            kernel + ifd + self.analysis_dropped,
            self.analysis_dropped
        );
        if self.written_packets > 0 || !self.files.is_empty() {
            s.push_str(&format!(" · {} written", self.written_packets));
        }
        if let Some(e) = &self.write_error {
            s.push_str(&format!(" · WRITE FAILED: {e}"));
        }
        s
    }

    /// The end-of-run report, one line per interface (stderr of the batch commands).
    pub fn report(&self) -> String {
        let mut out = String::new();
        for i in &self.interfaces {
            out.push_str(&format!(
                "{}: {} packets captured, {} received by the filter, {} dropped by the kernel, \
                 {} dropped by the interface",
                i.name, i.captured, i.received, i.dropped, i.if_dropped
            ));
            if let Some(e) = &i.error {
                out.push_str(&format!(" (capture ended: {e})"));
            }
            out.push('\n');
        }
        if self.analysis_dropped > 0 {
            out.push_str(&format!(
                "{} packets not analysed (analysis too slow; they are in the -w file if any)\n",
                self.analysis_dropped
            ));
        }
        if !self.files.is_empty() {
            let names: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
            out.push_str(&format!(
                "{} packets ({} bytes) written to {}\n",
                self.written_packets,
                self.written_bytes,
                names.join(", ")
            ));
        }
        if let Some(e) = &self.write_error {
            out.push_str(&format!("writing the capture failed: {e}\n"));
        }
        out
    }
}

/// A captured packet that owns its bytes (crosses threads).
#[derive(Debug, Clone)]
pub struct OwnedPacket {
    pub frame: u64,
    pub time: Timestamp,
    pub link_type: LinkType,
    pub interface: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

impl OwnedPacket {
    pub fn as_packet(&self) -> Packet<'_> {
        Packet {
            frame: self.frame,
            time: self.time,
            link_type: self.link_type,
            data: &self.data,
            orig_len: self.orig_len,
            interface: self.interface,
            file_offset: 0,
        }
    }
}

/// What [`LiveCapture::poll`] returns.
#[derive(Debug)]
pub enum Poll<'a> {
    Packet(Packet<'a>),
    /// Something worth telling the user (an interface stopped, writing failed).
    Note(String),
    /// Nothing arrived within the timeout.
    Idle,
    /// The capture is over (stopped, limit reached, every interface gone).
    End,
}

/// Capture thread → merger.
enum FromInterface {
    Packet {
        interface: usize,
        time: Timestamp,
        data: Vec<u8>,
        orig_len: u32,
    },
    /// Everything captured on `interface` before `time` has been sent.
    Watermark { interface: usize, time: Timestamp },
    Ended {
        interface: usize,
        error: Option<String>,
    },
}

/// Merger → analysis.
enum ToAnalysis {
    Packet(OwnedPacket),
    Note(String),
    End,
}

/// Most bytes of packets waiting for the analysis; beyond it packets are only written.
const MAX_QUEUED_BYTES: u64 = 64 << 20;
/// Packets waiting between the capture threads and the merger (then the kernel buffers).
const INTERFACE_QUEUE: usize = 4096;
/// A packet is never held back for ordering longer than this.
const MAX_HOLD: Duration = Duration::from_millis(1000);
/// How far behind the wall clock a quiet interface's watermark is put (packets still in the
/// kernel ring when libpcap's timeout fired were stamped before it).
const WATERMARK_SLACK: Duration = Duration::from_millis(150);
/// Longest wait of a capture thread for a packet before it looks at the stop flag.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// How often the capture threads read libpcap's counters and the merger flushes the file.
const STATS_EVERY: Duration = Duration::from_millis(500);

struct Shared {
    stats: Mutex<LiveStats>,
    queued_bytes: AtomicU64,
}

/// A running capture on one or more interfaces. Dropping it stops the capture and closes the
/// file.
pub struct LiveCapture {
    rx: Receiver<ToAnalysis>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    current: Option<OwnedPacket>,
    ended: bool,
    link_types: Vec<(String, LinkType)>,
}

/// A clonable view of a capture's counters (for a UI thread).
#[derive(Clone)]
pub struct StatsHandle(Arc<Shared>);

impl StatsHandle {
    pub fn get(&self) -> LiveStats {
        self.0.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The wall clock as a capture timestamp (libpcap stamps packets with the same clock).
pub fn wall_clock() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: d.as_secs() as i64,
        nanos: d.subsec_nanos(),
    }
}

fn minus(t: Timestamp, d: Duration) -> Timestamp {
    let total = t.secs as i128 * 1_000_000_000 + t.nanos as i128 - d.as_nanos() as i128;
    Timestamp {
        secs: total.div_euclid(1_000_000_000) as i64,
        nanos: total.rem_euclid(1_000_000_000) as u32,
    }
}

impl LiveCapture {
    /// Open every interface (all errors are reported here, before anything runs), create the
    /// `-w` file, and start the capture threads and the merger.
    pub fn start(opts: &CaptureOptions) -> Result<LiveCapture, LiveError> {
        if opts.interfaces.is_empty() {
            return Err(LiveError::Usage("no interface to capture on".into()));
        }
        let mut handles = Vec::new();
        let mut link_types = Vec::new();
        for name in &opts.interfaces {
            if link_types.iter().any(|(n, _)| n == name) {
                return Err(LiveError::Usage(format!(
                    "interface {name} given twice (-i)"
                )));
            }
            let cap = open_interface(
                name,
                opts.filter.as_deref(),
                opts.snaplen,
                opts.promiscuous,
                opts.buffer_size,
            )?;
            let lt = LinkType(cap.get_datalink().0 as u32);
            link_types.push((name.clone(), lt));
            handles.push(cap);
        }
        let writer = match &opts.write {
            None => None,
            Some(w) => Some(open_writer(w, &link_types, opts.snaplen)?),
        };
        let shared = Arc::new(Shared {
            stats: Mutex::new(LiveStats {
                interfaces: link_types
                    .iter()
                    .map(|(n, lt)| InterfaceStats {
                        name: n.clone(),
                        link_type: *lt,
                        ..Default::default()
                    })
                    .collect(),
                files: match &opts.write {
                    Some(w) if rotation_off(&w.rotation) => vec![w.path.clone()],
                    _ => Vec::new(),
                },
                ..Default::default()
            }),
            queued_bytes: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (to_merger, from_interfaces) = sync_channel(INTERFACE_QUEUE);
        let (to_analysis, rx) = channel();
        let mut threads = Vec::new();
        for (k, cap) in handles.into_iter().enumerate() {
            let tx = to_merger.clone();
            let stop = stop.clone();
            let shared = shared.clone();
            let t = std::thread::Builder::new()
                .name(format!("mmscope-cap-{}", link_types[k].0))
                .spawn(move || capture_thread(k, cap, tx, stop, shared))
                .map_err(|e| LiveError::Usage(format!("cannot start a capture thread: {e}")))?;
            threads.push(t);
        }
        drop(to_merger);
        let merger = Merger {
            link_types: link_types.iter().map(|(_, lt)| *lt).collect(),
            from_interfaces,
            to_analysis,
            stop: stop.clone(),
            shared: shared.clone(),
            writer,
            count: opts.count,
            deadline: opts.duration.map(|d| Instant::now() + d),
        };
        let t = std::thread::Builder::new()
            .name("mmscope-merge".into())
            .spawn(move || merger.run())
            .map_err(|e| LiveError::Usage(format!("cannot start the merger thread: {e}")))?;
        threads.push(t);
        Ok(LiveCapture {
            rx,
            stop,
            shared,
            threads,
            current: None,
            ended: false,
            link_types,
        })
    }

    /// The interfaces and their link types, in `-i` order (`Packet::interface` indexes it).
    pub fn interfaces(&self) -> &[(String, LinkType)] {
        &self.link_types
    }

    /// Set the flag to stop the capture; what was captured is still delivered, then `End`.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub fn stats(&self) -> LiveStats {
        self.stats_handle().get()
    }

    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.shared.clone())
    }

    /// The next packet, note or end, waiting at most `timeout`.
    pub fn poll(&mut self, timeout: Duration) -> Poll<'_> {
        if self.ended {
            return Poll::End;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(ToAnalysis::Packet(p)) => {
                self.shared
                    .queued_bytes
                    .fetch_sub(p.data.len() as u64, Ordering::Relaxed);
                let p = self.current.insert(p);
                Poll::Packet(p.as_packet())
            }
            Ok(ToAnalysis::Note(n)) => Poll::Note(n),
            Ok(ToAnalysis::End) | Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                self.join();
                Poll::End
            }
            Err(RecvTimeoutError::Timeout) => Poll::Idle,
        }
    }

    fn join(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stop, wait for the threads (the file is closed) and return the final counters. Packets
    /// not yet polled are discarded.
    pub fn finish(mut self) -> LiveStats {
        self.stop.store(true, Ordering::Relaxed);
        self.join();
        self.stats()
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.join();
    }
}

impl PacketSource for LiveCapture {
    /// Blocks until a packet arrives or the capture ends; notes are dropped (use
    /// [`LiveCapture::poll`] to see them).
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        loop {
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(ToAnalysis::Packet(p)) => {
                    self.shared
                        .queued_bytes
                        .fetch_sub(p.data.len() as u64, Ordering::Relaxed);
                    let p = self.current.insert(p);
                    return Some(Ok(p.as_packet()));
                }
                Ok(ToAnalysis::Note(_)) | Err(RecvTimeoutError::Timeout) => continue,
                Ok(ToAnalysis::End) | Err(RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    self.join();
                    return None;
                }
            }
        }
    }
}

fn rotation_off(r: &Rotation) -> bool {
    r.max_bytes.is_none() && r.max_seconds.is_none()
}

/// The `-w` output: one file, or a rotating set.
enum Output {
    Single(AnyWriter<std::fs::File>, PathBuf),
    Rotating(RotatingWriter),
}

impl Output {
    fn writer(&mut self) -> &mut dyn PacketWriter {
        match self {
            Output::Single(w, _) => w,
            Output::Rotating(w) => w,
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        match self {
            Output::Single(_, p) => vec![p.clone()],
            Output::Rotating(w) => w.files().map(|p| p.to_path_buf()).collect(),
        }
    }
}

fn open_writer(
    w: &WriteOptions,
    link_types: &[(String, LinkType)],
    snaplen: i32,
) -> Result<Output, LiveError> {
    let first = link_types[0].1;
    if let Some((name, lt)) = link_types.iter().find(|(_, lt)| *lt != first) {
        return Err(LiveError::Usage(format!(
            "-w: {} ({}) and {} ({}) have different link types, and the file has one; \
             capture them in separate runs, or on the 'any' interface",
            link_types[0].0, first, name, lt
        )));
    }
    let snaplen = snaplen.max(1) as u32;
    let err = |e: std::io::Error| LiveError::Write {
        path: w.path.clone(),
        message: e.to_string(),
    };
    if rotation_off(&w.rotation) {
        let file = std::fs::File::create(&w.path).map_err(err)?;
        let out = AnyWriter::new(file, Format::Pcapng, first.0, snaplen).map_err(err)?;
        Ok(Output::Single(out, w.path.clone()))
    } else {
        // The rotating writer creates its first file with the first packet: check the folder
        // now so that a typo fails at once.
        let dir = w
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such folder: {}", dir.display()),
            )));
        }
        Ok(Output::Rotating(RotatingWriter::new(
            &w.path,
            Format::Pcapng,
            first.0,
            snaplen,
            w.rotation.clone(),
        )))
    }
}

fn capture_thread(
    interface: usize,
    mut cap: pcap::Capture<pcap::Active>,
    tx: SyncSender<FromInterface>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
) {
    let mut captured = 0u64;
    let mut last_stats = Instant::now();
    let update = |cap: &mut pcap::Capture<pcap::Active>, captured: u64, error: Option<String>| {
        let st = cap.stats().ok();
        if let Ok(mut s) = shared.stats.lock() {
            let i = &mut s.interfaces[interface];
            i.captured = captured;
            if let Some(st) = st {
                i.received = st.received as u64;
                i.dropped = st.dropped as u64;
                i.if_dropped = st.if_dropped as u64;
            }
            if error.is_some() {
                i.error = error;
            }
        }
    };
    let error = loop {
        if stop.load(Ordering::Relaxed) {
            break None;
        }
        if last_stats.elapsed() >= STATS_EVERY {
            update(&mut cap, captured, None);
            last_stats = Instant::now();
        }
        let mut data = Vec::new();
        let msg = match read_packet(&mut cap, POLL_WAIT, &mut data) {
            Read::Packet { time, orig_len } => {
                captured += 1;
                FromInterface::Packet {
                    interface,
                    time,
                    data,
                    orig_len,
                }
            }
            Read::Nothing => FromInterface::Watermark {
                interface,
                time: minus(wall_clock(), WATERMARK_SLACK),
            },
            Read::End => break None,
            Read::Error(e) => break Some(e),
        };
        if tx.send(msg).is_err() {
            break None;
        }
    };
    update(&mut cap, captured, error.clone());
    let _ = tx.send(FromInterface::Ended { interface, error });
}

/// A packet held back for time ordering.
struct Held {
    time: Timestamp,
    seq: u64,
    since: Instant,
    interface: usize,
    data: Vec<u8>,
    orig_len: u32,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(o.time, o.seq))
    }
}

struct Merger {
    link_types: Vec<LinkType>,
    from_interfaces: Receiver<FromInterface>,
    to_analysis: std::sync::mpsc::Sender<ToAnalysis>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    writer: Option<Output>,
    count: Option<u64>,
    deadline: Option<Instant>,
}

/// State of the merge, apart from the channels.
struct MergeState {
    held: BinaryHeap<Reverse<Held>>,
    /// Per interface: everything before this time has arrived (None: nothing known yet).
    marks: Vec<Option<Timestamp>>,
    alive: Vec<bool>,
    seq: u64,
    frame: u64,
    written_packets: u64,
    written_bytes: u64,
    analysis_dropped: u64,
    write_error: Option<String>,
}

impl Merger {
    fn run(mut self) {
        let n = self.link_types.len();
        let mut st = MergeState {
            held: BinaryHeap::new(),
            marks: vec![None; n],
            alive: vec![true; n],
            seq: 0,
            frame: 0,
            written_packets: 0,
            written_bytes: 0,
            analysis_dropped: 0,
            write_error: None,
        };
        let mut last_flush = Instant::now();
        loop {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.stop.store(true, Ordering::Relaxed);
            }
            match self.from_interfaces.recv_timeout(Duration::from_millis(50)) {
                Ok(FromInterface::Packet {
                    interface,
                    time,
                    data,
                    orig_len,
                }) => {
                    let m = &mut st.marks[interface];
                    *m = Some(m.map_or(time, |t| t.max(time)));
                    st.seq += 1;
                    st.held.push(Reverse(Held {
                        time,
                        seq: st.seq,
                        since: Instant::now(),
                        interface,
                        data,
                        orig_len,
                    }));
                }
                Ok(FromInterface::Watermark { interface, time }) => {
                    let m = &mut st.marks[interface];
                    *m = Some(m.map_or(time, |t| t.max(time)));
                }
                Ok(FromInterface::Ended { interface, error }) => {
                    st.alive[interface] = false;
                    if let Some(e) = error {
                        let name = self.interface_name(interface);
                        let _ = self
                            .to_analysis
                            .send(ToAnalysis::Note(format!("{name}: capture ended: {e}")));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.release(&mut st, false);
            if last_flush.elapsed() >= STATS_EVERY {
                self.flush(&mut st);
                last_flush = Instant::now();
            }
        }
        self.release(&mut st, true);
        self.flush(&mut st);
        // Dropping the writer closes the file (flushed above).
        if let Some(Output::Rotating(w)) = self.writer.take()
            && let Err(e) = w.finish()
            && let Ok(mut s) = self.shared.stats.lock()
        {
            s.write_error = Some(e.to_string());
        }
        let _ = self.to_analysis.send(ToAnalysis::End);
    }

    fn interface_name(&self, k: usize) -> String {
        self.shared
            .stats
            .lock()
            .ok()
            .and_then(|s| s.interfaces.get(k).map(|i| i.name.clone()))
            .unwrap_or_else(|| format!("interface {k}"))
    }

    /// Deliver the held packets that no interface can precede any more (all when `all`).
    fn release(&mut self, st: &mut MergeState, all: bool) {
        // One interface delivers in time order by itself.
        let single = st.marks.len() == 1;
        let bound = st
            .marks
            .iter()
            .zip(&st.alive)
            .filter(|(_, alive)| **alive)
            .map(|(m, _)| *m)
            .min();
        while let Some(Reverse(top)) = st.held.peek() {
            let ok = all
                || single
                || top.since.elapsed() >= MAX_HOLD
                || match bound {
                    // every interface is gone: nothing can precede
                    None => true,
                    Some(None) => false,
                    Some(Some(b)) => top.time <= b,
                };
            if !ok {
                break;
            }
            let Reverse(h) = st.held.pop().expect("peeked");
            self.deliver(st, h);
        }
    }

    fn deliver(&mut self, st: &mut MergeState, h: Held) {
        if self.count.is_some_and(|c| st.frame >= c) {
            return;
        }
        st.frame += 1;
        if self.count.is_some_and(|c| st.frame >= c) {
            self.stop.store(true, Ordering::Relaxed);
        }
        if let Some(out) = self.writer.as_mut() {
            let w = out.writer();
            match w.write_packet(h.time, &h.data, h.orig_len) {
                Ok(()) => {
                    st.written_packets = w.packets_written();
                    st.written_bytes = w.bytes_written();
                }
                Err(e) => {
                    let msg = e.to_string();
                    let _ = self.to_analysis.send(ToAnalysis::Note(format!(
                        "writing the capture failed, writing stopped: {msg}"
                    )));
                    st.write_error = Some(msg);
                    self.writer = None;
                }
            }
        }
        let len = h.data.len() as u64;
        if self.shared.queued_bytes.load(Ordering::Relaxed) + len > MAX_QUEUED_BYTES {
            st.analysis_dropped += 1;
            return;
        }
        self.shared.queued_bytes.fetch_add(len, Ordering::Relaxed);
        let p = OwnedPacket {
            frame: st.frame,
            time: h.time,
            link_type: self.link_types[h.interface],
            interface: h.interface as u32,
            data: h.data,
            orig_len: h.orig_len,
        };
        if self.to_analysis.send(ToAnalysis::Packet(p)).is_err() {
            // nobody listens any more
            self.shared.queued_bytes.fetch_sub(len, Ordering::Relaxed);
        }
    }

    fn flush(&mut self, st: &mut MergeState) {
        if let Some(out) = self.writer.as_mut()
            && let Err(e) = out.writer().flush()
        {
            st.write_error = Some(e.to_string());
            self.writer = None;
        }
        let files = self.writer.as_ref().map(Output::files);
        if let Ok(mut s) = self.shared.stats.lock() {
            s.packets = st.frame;
            s.analysis_dropped = st.analysis_dropped;
            s.written_packets = st.written_packets;
            s.written_bytes = st.written_bytes;
            s.write_error.clone_from(&st.write_error);
            if let Some(f) = files {
                s.files = f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_messages_are_recognised() {
        let e = classify_open_error("eth0", "socket: Operation not permitted", Vec::new);
        assert!(matches!(e, LiveError::Permission { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("eth0: no permission to capture"), "{text}");
        assert!(text.contains("socket: Operation not permitted"), "{text}");
        assert!(
            text.contains("setcap cap_net_raw,cap_net_admin=eip $(which mmscope)"),
            "{text}"
        );
        assert!(text.contains("root"), "{text}");
        let e = classify_open_error(
            "eth0",
            "You don't have permission to perform this capture on that device",
            Vec::new,
        );
        assert!(matches!(e, LiveError::Permission { .. }), "{e:?}");
    }

    #[test]
    fn missing_device_lists_the_others() {
        let e = classify_open_error("eth9", "SIOCGIFHWADDR: No such device", || {
            vec!["lo".into(), "eth0".into()]
        });
        assert_eq!(
            e.to_string(),
            "no such interface: \"eth9\"; available: lo, eth0 (details: mmscope --list-interfaces)"
        );
        let e = classify_open_error("eth0", "something else", Vec::new);
        assert_eq!(e.to_string(), "eth0: something else");
    }

    #[test]
    fn bad_filter_shows_message_and_filter() {
        let e = LiveError::BadFilter {
            interface: "lo".into(),
            filter: "tcp port".into(),
            message: "can't parse filter expression: syntax error".into(),
        };
        assert_eq!(
            e.to_string(),
            "bad capture filter on lo: can't parse filter expression: syntax error\n  \
             filter: tcp port"
        );
    }

    #[test]
    fn default_filter_covers_mms_transports() {
        let f = default_filter();
        for p in MMS_UDP_PORTS {
            // once plain, once behind a VLAN tag
            assert_eq!(f.matches(&format!("udp port {p}")).count(), 2, "{f}");
        }
        assert!(f.starts_with("tcp or "), "{f}");
        assert!(f.contains("(ip[6:2] & 0x3fff != 0)"), "{f}");
        assert!(f.contains("or (vlan and (tcp or "), "{f}");
    }

    #[test]
    fn watermark_arithmetic_borrows_seconds() {
        let t = Timestamp {
            secs: 10,
            nanos: 100_000_000,
        };
        assert_eq!(
            minus(t, Duration::from_millis(150)),
            Timestamp {
                secs: 9,
                nanos: 950_000_000
            }
        );
    }

    #[test]
    fn stats_lines_add_up_drops() {
        let s = LiveStats {
            interfaces: vec![
                InterfaceStats {
                    name: "lo".into(),
                    captured: 10,
                    received: 12,
                    dropped: 2,
                    if_dropped: 0,
                    ..Default::default()
                },
                InterfaceStats {
                    name: "eth0".into(),
                    dropped: 1,
                    if_dropped: 3,
                    ..Default::default()
                },
            ],
            analysis_dropped: 4,
            ..Default::default()
        };
        assert_eq!(s.dropped(), 6);
        assert_eq!(s.status_line(), "10 dropped (kernel 3, if 3, analysis 4)");
        assert!(s.report().starts_with(
            "lo: 10 packets captured, 12 received by the filter, 2 dropped by the kernel, 0 \
             dropped by the interface\n"
        ));
    }
}
