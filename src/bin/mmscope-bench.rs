//! Measurements that the shell harness (scripts/bench.sh) cannot take from outside.
//!
//!     mmscope-bench tui FILE [SECONDS]
//!
//! Opens FILE as the TUI does (background loader, `tui::run_loop` on a 120×40 test terminal
//! that watches every frame, no key pressed until the status bar says "done"), and prints:
//! the time until the first frame that shows at least one transaction, the time until the
//! whole file is indexed, the time to show the tree of the last PDU when it is selected, and the
//! process's peak RSS (VmHWM). Stops after SECONDS (default 120) if loading has not finished.

use mmscope::model::Analysis;
use mmscope::tui::{App, TermInput, buffer_text, loader, render_to_buffer, run_loop};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Size};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What the watching backend saw, shared with the scripted input.
#[derive(Default)]
struct Seen {
    first_screen: Option<Duration>,
    done: Option<Duration>,
}

/// A test terminal that looks at every frame it is sent: when did the first one show a
/// transaction, when did the status bar first say "done".
struct Watch {
    inner: TestBackend,
    start: Instant,
    seen: Rc<RefCell<Seen>>,
}

impl Backend for Watch {
    type Error = <TestBackend as Backend>::Error;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, p: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, t: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(t)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let text = buffer_text(self.inner.buffer());
        let mut seen = self.seen.borrow_mut();
        let t = self.start.elapsed();
        // "Transactions (N)" or "Transactions (N of M shown)" with N > 0
        if seen.first_screen.is_none()
            && let Some(i) = text.find("Transactions (")
            && text[i + 14..].starts_with(|c: char| c.is_ascii_digit() && c != '0')
        {
            seen.first_screen = Some(t);
        }
        if seen.done.is_none() && text.contains("│ done") {
            seen.done = Some(t);
        }
        Ok(())
    }
}

/// Idle polls (waiting as the real terminal would) until the screen said "done", then `q`.
struct UntilDone {
    seen: Rc<RefCell<Seen>>,
    limit: Duration,
    start: Instant,
}

impl TermInput for UntilDone {
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<TermEvent>> {
        if self.seen.borrow().done.is_some() || self.start.elapsed() > self.limit {
            return Ok(Some(key(KeyCode::Char('q'))));
        }
        std::thread::sleep(timeout);
        Ok(None)
    }
}

fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The same allocator as the `mmscope` binary, so that memory and time compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args[1] != "tui" {
        eprintln!("usage: mmscope-bench tui FILE [SECONDS]");
        std::process::exit(2);
    }
    let path = std::path::PathBuf::from(&args[2]);
    let limit = Duration::from_secs(args.get(3).map_or(Ok(120), |s| s.parse())?);
    let start = Instant::now();
    let rx = loader::spawn(path.clone());
    let mut app = App::new(Analysis {
        source: path.display().to_string(),
        ..Default::default()
    });
    let seen = Rc::new(RefCell::new(Seen::default()));
    let mut terminal = Terminal::new(Watch {
        inner: TestBackend::new(120, 40),
        start,
        seen: seen.clone(),
    })?;
    let mut input = UntilDone {
        seen: seen.clone(),
        limit,
        start,
    };
    run_loop(&mut terminal, &mut app, &rx, &mut input)?;
    let first_screen = seen.borrow().first_screen;
    let loaded = start.elapsed();
    // Select the last PDU of the flat list, then one in the middle, and draw each: the draw
    // decodes the selected PDU's tree again from the file.
    let mut tree_times = Vec::new();
    for code in [KeyCode::Char('p'), KeyCode::End] {
        if let TermEvent::Key(k) = key(code) {
            app.on_key(k);
        }
    }
    let middle = app.shown_pdus.len() / 2;
    for step in 0..2 {
        if step == 1 {
            for _ in 0..middle {
                if let TermEvent::Key(k) = key(KeyCode::Up) {
                    app.on_key(k);
                }
            }
        }
        let t = Instant::now();
        render_to_buffer(&mut app, 120, 40);
        let shown = app
            .selected_pdu()
            .is_some_and(|p| !loader::is_stub(&p.dissection) && !p.dissection.layers.is_empty());
        tree_times.push((app.selected_pdu().map(|p| p.frame), shown, t.elapsed()));
    }
    let ms = |d: Option<Duration>| {
        d.map_or("none".to_string(), |d| {
            format!("{:.1}", d.as_secs_f64() * 1e3)
        })
    };
    println!("file: {}", path.display());
    println!("pdus: {}", app.analysis.pdus.len());
    println!("transactions: {}", app.analysis.transactions.len());
    println!("loading_done: {}", app.load.done);
    println!("first_screen_ms: {}", ms(first_screen));
    println!("indexed_ms: {}", ms(Some(loaded)));
    for (what, (frame, shown, took)) in ["last", "middle"].iter().zip(&tree_times) {
        println!(
            "tree_{what}_ms: {} (frame {}, tree shown: {shown})",
            ms(Some(*took)),
            frame.unwrap_or(0)
        );
    }
    println!("peak_rss_mb: {:.1}", vm_hwm_kb() as f64 / 1024.0);
    Ok(())
}
