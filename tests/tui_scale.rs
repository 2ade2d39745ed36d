//! The TUI with a large capture's worth of records: drawing and moving stay fast because only
//! the visible rows are built.

use mmscope::model::Transaction;
use mmscope::tui::{App, fixture, render_to_buffer};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, Instant};

#[test]
fn fifty_thousand_pdus_draw_and_scroll_quickly() {
    let base = fixture::http_mm1_basic();
    let mut pdus = Vec::new();
    let mut txs: Vec<Transaction> = Vec::new();
    for round in 0..10_000u64 {
        let first = pdus.len();
        for p in &base.pdus {
            let mut q = p.clone();
            q.index = pdus.len();
            q.frame += round * 44;
            q.time.secs += round as i64;
            pdus.push(q);
        }
        for t in &base.transactions {
            let mut u = t.clone();
            u.index = txs.len();
            u.pdus = t.pdus.iter().map(|i| i + first).collect();
            u.story = t.story.map(|s| s + round as usize);
            txs.push(u);
        }
    }
    let mut analysis = base.clone();
    analysis.pdus = pdus;
    analysis.transactions = txs;
    let mut a = App::with_analysis(analysis);
    let start = Instant::now();
    render_to_buffer(&mut a, 120, 40);
    for code in [
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::Char('p'),
        KeyCode::End,
        KeyCode::Home,
    ] {
        a.on_key(KeyEvent::new(code, KeyModifiers::NONE));
        render_to_buffer(&mut a, 120, 40);
    }
    let took = start.elapsed();
    assert_eq!(a.analysis.pdus.len(), 50_000);
    assert_eq!(a.shown_tx.len(), 30_000);
    // six draws and five keys; generous for an unoptimised build on a shared machine
    assert!(took < Duration::from_secs(3), "{took:?}");
    eprintln!("6 draws + 5 keys over 50k PDUs: {took:?}");
}
