//! The UI loop with a scripted terminal: PDUs stream in from a "loader" channel while keys
//! arrive; the loop takes in everything, correlates, draws and quits on q.

use mmscope::model::{Stats, Timestamp};
use mmscope::pipeline::Event;
use mmscope::tui::loader::LoadMsg;
use mmscope::tui::{App, TermInput, buffer_text, fixture, run_loop};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;
use std::time::Duration;

/// Answers polls from a script: `None` is "no input during this poll".
struct Script(VecDeque<Option<TermEvent>>);

impl TermInput for Script {
    fn next(&mut self, _timeout: Duration) -> std::io::Result<Option<TermEvent>> {
        // an exhausted script quits, so a broken loop cannot hang the test
        Ok(self
            .0
            .pop_front()
            .unwrap_or(Some(TermEvent::Key(KeyEvent::new(
                KeyCode::Char('q'),
                KeyModifiers::NONE,
            )))))
    }
}

fn key(c: char) -> Option<TermEvent> {
    Some(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

#[test]
fn streamed_pdus_are_shown_correlated_and_the_loop_quits_on_q() {
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(LoadMsg::Event(Event::Progress {
        packets: 10,
        bytes: 1000,
        total_bytes: Some(7368),
        time: Timestamp::default(),
    }))
    .unwrap();
    for p in fixture::http_mm1_basic_pdus() {
        tx.send(LoadMsg::Event(Event::Pdu(Box::new(p)))).unwrap();
    }
    tx.send(LoadMsg::Done(Ok(Stats {
        packets: 44,
        bytes: 7368,
        ..Default::default()
    })))
    .unwrap();
    let mut app = App::new(mmscope::model::Analysis {
        source: "captures/http_mm1_basic.pcapng".into(),
        ..Default::default()
    });
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    // a few idle polls, then: flat PDU list, down twice, quit
    let mut script = Script(VecDeque::from([
        None,
        None,
        key('p'),
        key('j'),
        key('j'),
        None,
        key('q'),
    ]));
    run_loop(&mut terminal, &mut app, &rx, &mut script).unwrap();
    assert!(app.quit);
    assert!(app.load.done);
    assert_eq!(app.analysis.pdus.len(), 5);
    assert_eq!(
        app.analysis.transactions.len(),
        mmscope::correlate::correlate(&app.analysis.pdus).len()
    );
    assert_eq!(
        app.selected_pdu().unwrap().mms.message_type.as_deref(),
        Some("m-notifyresp-ind")
    );
    let text = buffer_text(terminal.backend().buffer());
    assert!(text.contains("44 pkts │ 5 PDUs"), "{text}");
    assert!(text.contains("│ done"), "{text}");
    assert!(text.contains("All PDUs (5)"), "{text}");
}

#[test]
fn a_loader_that_disappears_is_reported_not_fatal() {
    let (tx, rx) = std::sync::mpsc::channel::<LoadMsg>();
    tx.send(LoadMsg::Event(Event::Note(
        "frame 3: truncated record".into(),
    )))
    .unwrap();
    drop(tx);
    let mut app = App::new(Default::default());
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    run_loop(
        &mut terminal,
        &mut app,
        &rx,
        &mut Script(VecDeque::from([None, None])),
    )
    .unwrap();
    assert_eq!(
        app.load.error.as_deref(),
        Some("the loading thread stopped")
    );
    assert_eq!(app.analysis.capture_notes, ["frame 3: truncated record"]);
    let text = buffer_text(terminal.backend().buffer());
    assert!(text.contains("1 errors"), "{text}");
}
