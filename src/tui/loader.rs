//! Reading the capture on a background thread: the pipeline runs there and sends what it finds
//! over a channel; the UI thread takes it in between key presses.

use crate::model::Stats;
use crate::pipeline::{self, Event, Options};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// What the loading thread sends.
#[derive(Debug)]
pub enum LoadMsg {
    Event(Event),
    /// The pipeline finished: its counters, or why it failed.
    Done(Result<Stats, String>),
}

/// Progress events are passed on at most this often (the pipeline may report every packet).
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Start reading `path` on a new thread.
pub fn spawn(path: PathBuf) -> Receiver<LoadMsg> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("mmscope-load".into())
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
