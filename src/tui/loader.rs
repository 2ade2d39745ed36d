//! Reading the capture on a background thread: the pipeline runs there and sends what it finds
//! over a channel; the UI thread takes it in between key presses.

use crate::capture::live::{LiveCapture, LiveStats};
use crate::cli::live::Feed;
use crate::model::Stats;
use crate::pipeline::{self, Event, Options};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
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

/// Start reading `path` on a new thread.
pub fn spawn(path: PathBuf) -> Receiver<LoadMsg> {
    let (tx, rx) = channel();
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
                // a closed channel means the UI has quit: nothing left to do with the event
                let _ = tx.send(LoadMsg::Event(ev));
            };
            let opts = Options {
                keep_dissection: true,
            };
            // a panic in the pipeline must not take the UI down: report it as a failure
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pipeline::run_file(&path, &opts, &mut sink)
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
