//! The terminal UI (ratatui + crossterm): a transaction browser in the spirit of Wireshark's
//! packet view, for MMS.
//!
//! - [`app`]: the state (selection, focus, expansion, filter, search) and every change to it;
//!   pure and tested without a terminal.
//! - [`ui`]: draws the screen from the state.
//! - [`keys`]: what each key means (one table for the help screen and the docs).
//! - [`loader`]: the pipeline on a background thread, feeding the UI over a channel.
//! - [`treeview`], [`hex`], [`ladder`], [`parts`], [`export`]: the pieces the panes show and do.
//!
//! Every string from a PDU goes through [`crate::tree::escape_text`] before it reaches the
//! terminal; the terminal is restored on every exit, panics included.

pub mod app;
pub mod export;
#[doc(hidden)]
pub mod fixture;
pub mod hex;
pub mod keys;
pub mod ladder;
pub mod loader;
pub mod parts;
pub mod theme;
pub mod treeview;
pub mod ui;

pub use app::App;

use crate::model::Analysis;
use loader::LoadMsg;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::crossterm::{
    event::{self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent},
    execute,
    terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode},
};
use std::path::Path;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// Leave raw mode, the alternate screen and mouse capture. Safe to call more than once.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (normal return, `?`, or unwinding).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// A panic hook that restores the terminal before the panic message is printed.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // the loading thread's panics are caught and reported in the UI (printing them would
        // scribble over it); only the UI thread's panics end the program
        if std::thread::current().name() == Some(loader::THREAD_NAME) {
            loader::record_panic(info);
            return;
        }
        restore_terminal();
        previous(info);
    }));
}

/// Open the TUI on a capture file: the pipeline reads it in the background while the UI runs.
pub fn run_file(path: &Path) -> crate::cli::CliResult {
    // fail before touching the terminal when the file cannot be opened at all, or is no
    // capture (a directory, an empty file, another format): the reader checks its header
    crate::capture::FileReader::open(path)?;
    let analysis = Analysis {
        source: path.display().to_string(),
        ..Default::default()
    };
    let mut app = App::new(analysis);
    let rx = loader::spawn(path.to_path_buf());

    install_panic_hook();
    enable_raw_mode()?;
    let _guard = TerminalGuard;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    terminal.clear()?;
    run_loop(&mut terminal, &mut app, &rx, &mut CrosstermInput)?;
    drop(terminal);
    Ok(())
}

/// Open the TUI on a live capture: the interfaces are opened first (errors are printed plainly,
/// before the terminal is touched), the pipeline runs on a background thread, and the status
/// line shows the capture's drop counters. Quitting stops the capture; the `-w` file is closed
/// and the counters are printed on stderr.
pub fn run_live(opts: &crate::capture::live::CaptureOptions) -> crate::cli::CliResult {
    let capture = crate::capture::live::LiveCapture::start(opts)?;
    let stop = capture.stop_handle();
    let stats = capture.stats_handle();
    let analysis = Analysis {
        source: format!("live:{}", opts.interfaces.join(",")),
        ..Default::default()
    };
    let mut app = App::new(analysis);
    app.load.live = Some(stats.get().status_line());
    let (rx, handle) = loader::spawn_live(capture);
    // SIGTERM/SIGHUP (and Ctrl-C sent from outside, raw mode reads the key itself) quit the UI
    // the normal way: the terminal is restored and the -w file closed.
    let signalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::cli::live::stop_on_signals(&signalled)?;

    install_panic_hook();
    let ui = (|| -> crate::cli::CliResult {
        enable_raw_mode()?;
        let _guard = TerminalGuard;
        execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        terminal.clear()?;
        let mut last = Instant::now();
        let mut refresh = |app: &mut App| {
            if signalled.load(std::sync::atomic::Ordering::Relaxed) {
                app.quit = true;
            }
            if last.elapsed() < Duration::from_millis(500) {
                return false;
            }
            last = Instant::now();
            let line = stats.get().status_line();
            let changed = app.load.live.as_deref() != Some(line.as_str());
            app.load.live = Some(line);
            changed
        };
        run_loop_with(
            &mut terminal,
            &mut app,
            &rx,
            &mut CrosstermInput,
            &mut refresh,
        )?;
        Ok(())
    })();
    // stop the capture whatever happened to the UI, and wait for the file to be closed
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(rx);
    let final_stats = handle.join().unwrap_or_default();
    for line in final_stats.report().lines() {
        eprintln!("mmscope: {line}");
    }
    ui
}

/// How long to take in pipeline events before looking at the keyboard again.
const INGEST_BUDGET: Duration = Duration::from_millis(30);
/// At most this many redraws a second while data streams in.
const FRAME: Duration = Duration::from_millis(50);

/// Where terminal events come from: crossterm in the program, a script in tests.
pub trait TermInput {
    /// The next event, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<TermEvent>>;
}

/// The real terminal.
pub struct CrosstermInput;

impl TermInput for CrosstermInput {
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<TermEvent>> {
        if event::poll(timeout)? {
            event::read().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The UI loop: take in what the loader sends (for a bounded time), re-correlate now and then,
/// redraw at a bounded rate, answer input at once. Returns when the user quits.
pub fn run_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<LoadMsg>,
    input: &mut dyn TermInput,
) -> Result<(), Box<dyn std::error::Error>>
where
    B::Error: 'static,
{
    run_loop_with(terminal, app, rx, input, &mut |_| false)
}

/// [`run_loop`] with a hook called every turn that may update the app from outside (a live
/// capture's counters) and returns whether the screen needs a redraw.
pub fn run_loop_with<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<LoadMsg>,
    input: &mut dyn TermInput,
    refresh: &mut dyn FnMut(&mut App) -> bool,
) -> Result<(), Box<dyn std::error::Error>>
where
    B::Error: 'static,
{
    let mut dirty = true;
    let mut last_draw = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    let mut last_correlate = Instant::now();
    let mut correlate_cost = Duration::ZERO;
    let mut loading = true;
    while !app.quit {
        // 1. data from the pipeline, for a bounded time
        if loading {
            let start = Instant::now();
            while start.elapsed() < INGEST_BUDGET {
                match rx.try_recv() {
                    Ok(LoadMsg::Event(ev)) => {
                        app.on_pipeline_event(ev);
                        dirty = true;
                    }
                    Ok(LoadMsg::Done(r)) => {
                        app.on_load_done(r);
                        loading = false;
                        dirty = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        app.on_load_done(Err("the loading thread stopped".into()));
                        loading = false;
                        dirty = true;
                        break;
                    }
                }
            }
            // 2. correlate what came in, no more often than its own cost allows (so that a
            // large capture is not re-correlated after every PDU)
            let interval = (correlate_cost * 8).max(Duration::from_millis(300));
            if app.load.pending > 0 && last_correlate.elapsed() >= interval {
                let t = Instant::now();
                app.recorrelate();
                correlate_cost = t.elapsed();
                last_correlate = Instant::now();
                dirty = true;
            }
        }
        if refresh(app) {
            dirty = true;
        }
        // 3. draw, at a bounded rate
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| ui::draw(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
        // 4. input
        let wait = if loading || dirty {
            Duration::from_millis(20)
        } else {
            Duration::from_millis(250)
        };
        if let Some(first) = input.next(wait)? {
            let mut ev = Some(first);
            while let Some(e) = ev {
                match e {
                    TermEvent::Key(k) => app.on_key(k),
                    TermEvent::Mouse(m) => app.on_mouse(m),
                    // the next draw takes the new size
                    TermEvent::Resize(..) => {}
                    _ => {}
                }
                if app.quit {
                    break;
                }
                ev = input.next(Duration::ZERO)?;
            }
            // input is answered at once, not at the next frame tick
            terminal.draw(|f| ui::draw(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
    }
    Ok(())
}

/// Draw `app` on a `width`×`height` test terminal and return the screen as text, one line per
/// row (for tests and the documentation's screenshot).
pub fn render_to_string(app: &mut App, width: u16, height: u16) -> String {
    let buffer = render_to_buffer(app, width, height);
    buffer_text(&buffer)
}

/// Draw `app` on a test terminal and return its buffer (text and styles).
pub fn render_to_buffer(app: &mut App, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    t.draw(|f| ui::draw(f, app)).expect("draw");
    t.backend().buffer().clone()
}

/// The text of a buffer, rows joined by newlines, trailing spaces trimmed.
pub fn buffer_text(b: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..b.area.height {
        let mut line = String::new();
        for x in 0..b.area.width {
            line.push_str(b[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
