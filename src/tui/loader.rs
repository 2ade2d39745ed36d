//! Reading the capture on a background thread: the pipeline runs there and sends what it finds
//! over a channel; the UI thread takes it in between key presses.

use crate::capture::live::{LiveCapture, LiveStats};
use crate::capture::{FileReader, PacketSource};
use crate::cli::live::Feed;
use crate::model::{PduRecord, Stats};
use crate::pipeline::{self, Event, Options, Pipeline};
use crate::tree::{Dissection, Node};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the loading thread sends.
#[derive(Debug)]
pub enum LoadMsg {
    Event(Event),
    /// The pipeline finished: its counters, or why it failed.
    Done(Result<Stats, String>),
}

/// The thread's name; the TUI's panic hook recognises it.
pub const THREAD_NAME: &str = "mmscope-load";

/// The message of a panic on the loading thread, kept by the panic hook (printing it would
/// scribble over the UI) and reported in the UI instead.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Keep the message of a panic on the loading thread (called by the panic hook).
pub fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    if let Ok(mut slot) = LAST_PANIC.lock() {
        *slot = Some(format!("{what}{at}"));
    }
}

/// Progress events are passed on at most this often (the pipeline may report every packet).
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Run a live capture through the pipeline on a new thread, until the capture stops (its stop
/// flag, `--duration`, `--count`). The thread's result is the capture's final counters (after
/// the `-w` file is closed).
pub fn spawn_live(mut capture: LiveCapture) -> (Receiver<LoadMsg>, JoinHandle<LiveStats>) {
    let (tx, rx) = channel();
    let handle = std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            let mut last_progress: Option<Instant> = None;
            let opts = Options {
                keep_dissection: true,
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::cli::live::drive(&mut capture, &opts, &mut |feed| {
                    let Feed::Event(ev) = feed else {
                        return true;
                    };
                    if let Event::Progress { .. } = ev {
                        let now = Instant::now();
                        if last_progress.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                            return true;
                        }
                        last_progress = Some(now);
                    }
                    // the UI gone means the capture is no longer wanted
                    tx.send(LoadMsg::Event(ev)).is_ok()
                })
            }));
            let done = match result {
                Ok(stats) => Ok(stats),
                Err(_) => Err(
                    "the pipeline panicked (a bug: please report it with the -w capture)".into(),
                ),
            };
            let _ = tx.send(LoadMsg::Done(done));
            capture.finish()
        })
        .expect("spawn the capture thread");
    (rx, handle)
}

/// Events in flight between the loading thread and the UI.
const CHANNEL_BOUND: usize = 4096;

/// Start reading `path` on a new thread.
pub fn spawn(path: PathBuf) -> Receiver<LoadMsg> {
    // Bounded: when the UI falls behind, the loader waits instead of piling up records.
    let (tx, rx) = sync_channel(CHANNEL_BOUND);
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            let mut last_progress: Option<Instant> = None;
            let mut sink = |ev: Event| {
                if let Event::Progress { .. } = ev {
                    let now = Instant::now();
                    if last_progress.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                        return;
                    }
                    last_progress = Some(now);
                }
                // Only the summary travels and stays: the tree and bytes are decoded again when
                // the PDU is selected (see `redecode`), so memory follows the PDU count, not
                // the bytes of the capture.
                let ev = match ev {
                    Event::Pdu(mut rec) => {
                        rec.dissection = stub_dissection(&rec.dissection);
                        Event::Pdu(rec)
                    }
                    other => other,
                };
                // a closed channel means the UI has quit: nothing left to do with the event
                let _ = tx.send(LoadMsg::Event(ev));
            };
            let opts = Options {
                keep_dissection: true,
            };
            // a panic in the pipeline must not take the UI down: report it as a failure
            // One thread: the TUI wants full dissections (stubbed above, once they reach this
            // sink), and the threaded pipeline would hold several batches of them, bodies
            // included, in its channels: tens of MB more at peak, against a first screen
            // that comes well within its second on one thread (docs/PERFORMANCE.md).
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pipeline::run_file_with(&path, &opts, pipeline::Threads::One, &mut sink)
            }));
            let done = match result {
                Ok(Ok(stats)) => Ok(stats),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => {
                    Err("the pipeline panicked (a bug: please report it with the capture)".into())
                }
            };
            let _ = tx.send(LoadMsg::Done(done));
        })
        .expect("spawn the loading thread");
    rx
}

/// Name of the one layer of a PDU's dissection while the PDU is not decoded in memory.
pub const STUB_LAYER: &str = "Not decoded in memory";

/// What the TUI keeps of a dissection it does not hold: no buffer, and, when the original has
/// expert notes, one layer that lists them (severity, name and text, without bytes), so that
/// problem markers and the notes popup stay exact while the tree and the bytes are dropped.
pub fn stub_dissection(d: &Dissection) -> Dissection {
    let mut notes = Vec::new();
    if d.buffers.is_empty() {
        return d.clone(); // a stub already (or a PDU without bytes, which has nothing to drop)
    }
    for layer in &d.layers {
        for n in layer.walk().filter(|n| n.expert.is_some()) {
            let mut e = Node::expert(n.expert.expect("filtered"), &*n.name, &*n.display, 0..0);
            e.value = n.value.clone();
            notes.push(e);
        }
    }
    if notes.is_empty() {
        // The common case costs nothing: no layer at all until the PDU is selected.
        return Dissection::default();
    }
    let stub = Node::group(
        STUB_LAYER,
        "the tree is decoded again from the capture when this PDU is selected",
        0..0,
    )
    .with_children(notes);
    Dissection {
        buffers: Vec::new(),
        layers: vec![stub],
    }
}

/// True when `d` is a stub made by [`stub_dissection`] (no buffer: every dissection the
/// pipeline makes has at least the MMS PDU's bytes).
pub fn is_stub(d: &Dissection) -> bool {
    d.buffers.is_empty()
}

/// Decode the PDU `target` (a record the loader sent, whose dissection is a stub) again from
/// the capture at `path`, and return its full dissection.
///
/// `index` holds (frame, file offset after that frame) pairs taken from the loader's progress
/// events: the reader (pcap or pcapng) starts at the last one before the PDU's first frame, and
/// only the frames up to the PDU's completing frame are read; connections are then picked up
/// mid-stream. The record found must be the same PDU (completing frame, addresses, MMS summary);
/// if it is not found that way, the capture is read again from its start (exact, slower).
pub fn redecode(path: &Path, index: &[(u64, u64)], target: &PduRecord) -> Option<Dissection> {
    let first = target.frames.first().copied().unwrap_or(target.frame);
    let start = index.iter().rev().find(|&&(f, _)| f < first).copied();
    if let Some((frame, offset)) = start
        && let Some(d) = decode_range(path, Some((frame, offset)), target)
    {
        return Some(d);
    }
    decode_range(path, None, target)
}

fn decode_range(path: &Path, start: Option<(u64, u64)>, target: &PduRecord) -> Option<Dissection> {
    let mut reader = FileReader::open(path).ok()?;
    if let Some((frame, offset)) = start
        && !reader.seek_to(offset, frame).ok()?
    {
        return None;
    }
    let mut pipeline = Pipeline::new(Options {
        keep_dissection: true,
    });
    let found = std::cell::RefCell::new(None);
    let mut sink = |ev: Event| {
        if let Event::Pdu(rec) = ev
            && rec.frame == target.frame
            && rec.src == target.src
            && rec.dst == target.dst
            && rec.mms == target.mms
        {
            found.borrow_mut().get_or_insert(rec.dissection);
        }
    };
    while let Some(Ok(p)) = reader.next_packet() {
        if p.frame > target.frame {
            break;
        }
        pipeline.packet(&p, &mut sink);
        if found.borrow().is_some() {
            return found.into_inner();
        }
    }
    pipeline.finish(&mut sink);
    found.into_inner()
}
