//! State tests: key (and mouse) sequences drive the App; the resulting selection, expansion,
//! filter and search state is asserted. No terminal involved.

use mmscope::filter::Filter;
use mmscope::model::{Analysis, Timestamp};
use mmscope::pipeline::Event;
use mmscope::tui::app::{InputKind, ListMode, Pane, Popup};
use mmscope::tui::{App, fixture, render_to_string};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

fn app() -> App {
    App::with_analysis(fixture::http_mm1_basic())
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn selected_type(app: &App) -> String {
    app.selected_pdu()
        .unwrap()
        .mms
        .message_type
        .as_deref()
        .unwrap()
        .to_string()
}

fn selected_tid(app: &App) -> String {
    app.selected_tx()
        .unwrap()
        .transaction_id
        .as_deref()
        .unwrap()
        .to_string()
}

#[test]
fn vi_keys_and_arrows_move_the_selection_and_tab_cycles_panes() {
    let mut a = app();
    assert_eq!(a.focus, Pane::List);
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    press(&mut a, "j");
    assert_eq!(selected_tid(&a), "H-NOTIF-0001");
    key(&mut a, KeyCode::Down);
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    press(&mut a, "j"); // stays on the last
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    press(&mut a, "g");
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    press(&mut a, "G");
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::PageDown);
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    key(&mut a, KeyCode::PageUp);
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Pdus);
    press(&mut a, "j");
    assert_eq!(selected_type(&a), "m-send-conf");
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Tree);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Hex);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::List);
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Pane::Hex);
    // moving in the transaction list resets the PDU selection to the transaction's first
    key(&mut a, KeyCode::Tab);
    press(&mut a, "jk");
    assert_eq!(selected_type(&a), "m-send-req");
    // Enter in a list goes to the next pane
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.focus, Pane::Pdus);
    press(&mut a, "l");
    assert_eq!(a.focus, Pane::Tree);
}

#[test]
fn tree_expands_collapses_and_keeps_expansion_across_pdus() {
    let mut a = app();
    a.focus = Pane::Tree;
    assert_eq!(a.selected_node().unwrap().name, "HTTP");
    // Right expands the HTTP layer, Right again goes to its first child
    press(&mut a, "l");
    assert!(a.tree_rows()[0].expanded);
    press(&mut a, "l");
    assert_eq!(a.selected_node().unwrap().name, "Request line");
    // h goes to the parent, h again collapses it
    press(&mut a, "h");
    assert_eq!(a.selected_node().unwrap().name, "HTTP");
    press(&mut a, "h");
    assert!(!a.tree_rows()[0].expanded);
    // Space toggles; the MMS layer is open by default
    press(&mut a, "j");
    assert_eq!(a.selected_node().unwrap().name, "MMS");
    assert!(a.tree_rows()[1].expanded);
    press(&mut a, " ");
    assert!(!a.tree_rows()[1].expanded);
    assert_eq!(a.tree_rows().len(), 2);
    // * opens the whole subtree: both parts and their fields
    press(&mut a, "*");
    let rows = a.tree_rows();
    assert!(
        rows.iter()
            .filter(|r| r.path[0] == 1)
            .all(|r| !r.has_children || r.expanded)
    );
    assert!(
        !rows[0].expanded,
        "the HTTP layer is not under the MMS layer"
    );
    assert!(rows.iter().any(|r| r.key == "MMS#0/Body#0/Part 2#0/Text#0"));
    // select Part 1's Content-Type; the same field stays selected on the m-retrieve-conf
    a.tree.selected_key = Some("MMS#0/Body#0/Part 1#0/Content-Type#0".into());
    assert_eq!(a.selected_node().unwrap().display, "application/smil");
    a.focus = Pane::List;
    press(&mut a, "G");
    assert_eq!(selected_type(&a), "m-retrieve-conf");
    assert_eq!(a.selected_node().unwrap().display, "application/smil");
    let range = a.selected_node().unwrap().range.clone();
    // m-retrieve-conf body is 160 header bytes into the TCP payload; Part 1 content type at 113
    assert_eq!(range, 160 + 113..160 + 130);
    // c collapses everything (the MMS layer included)
    a.focus = Pane::Tree;
    press(&mut a, "c");
    assert_eq!(a.tree_rows().len(), 2);
    assert!(a.tree_rows().iter().all(|r| !r.expanded));
}

#[test]
fn incremental_search_with_next_and_previous() {
    let mut a = app();
    press(&mut a, "s");
    assert_eq!(a.input.as_ref().unwrap().kind, InputKind::Search);
    press(&mut a, "RETR");
    // jumps while typing
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    key(&mut a, KeyCode::Enter);
    assert!(a.input.is_none());
    assert_eq!(a.search_text, "RETR");
    press(&mut a, "g");
    // "mmsc.lab" is in the message id of transactions 1 and 3
    press(&mut a, "s");
    press(&mut a, "mmsc.lab");
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    press(&mut a, "n");
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    press(&mut a, "n"); // wraps
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    press(&mut a, "N"); // wraps backwards
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    // not found leaves the selection and says so
    press(&mut a, "s");
    press(&mut a, "no-such-thing");
    key(&mut a, KeyCode::Enter);
    press(&mut a, "n");
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    assert!(a.message.as_deref().unwrap().contains("not found"));
    // Ctrl-F searches the tree when it has the focus, opening what hides the match
    a.focus = Pane::Tree;
    ctrl(&mut a, 'f');
    press(&mut a, "Hello Bob");
    key(&mut a, KeyCode::Enter);
    // the first match in tree order is the HTTP body (bytes fields are searched as text)
    assert_eq!(a.selected_node().unwrap().name, "Body");
    let n = a.selected_node().unwrap().clone();
    let pdu = a.selected_pdu().unwrap();
    let bytes = &pdu.dissection.buffers[0].data[n.range.clone()];
    assert!(String::from_utf8_lossy(bytes).contains("Hello Bob"));
    // next: the SMIL text of part 1 (inside the MMS layer, opened to show it), then part 2
    press(&mut a, "n");
    assert_eq!(
        a.tree.selected_key.as_deref(),
        Some("MMS#0/Body#0/Part 1#0/SMIL#0")
    );
    assert!(
        a.tree_rows()
            .iter()
            .any(|r| r.key == "MMS#0/Body#0/Part 1#0/SMIL#0")
    );
    press(&mut a, "n");
    assert_eq!(
        a.tree.selected_key.as_deref(),
        Some("MMS#0/Body#0/Part 2#0/Text#0")
    );
}

#[test]
fn jump_to_frame() {
    let mut a = app();
    press(&mut a, ":");
    press(&mut a, "30");
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    assert_eq!(selected_type(&a), "m-retrieve-conf");
    assert_eq!(a.focus, Pane::Pdus);
    // frame 6 carried the headers of the m-send-conf (completed in frame 8)
    ctrl(&mut a, 'g');
    press(&mut a, "6");
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected_type(&a), "m-send-conf");
    assert!(
        a.message
            .as_deref()
            .unwrap()
            .contains("completed in frame 8")
    );
    // no PDU in frame 20: the next one (frame 30)
    press(&mut a, ":20");
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected_type(&a), "m-retrieve-conf");
    press(&mut a, ":999");
    key(&mut a, KeyCode::Enter);
    assert!(
        a.message
            .as_deref()
            .unwrap()
            .contains("no PDU at or after frame 999")
    );
    press(&mut a, ":x");
    key(&mut a, KeyCode::Enter);
    assert!(a.message.as_deref().unwrap().contains("not a frame number"));
}

#[test]
fn flat_list_toggle_keeps_the_selected_pdu() {
    let mut a = app();
    press(&mut a, "jj");
    key(&mut a, KeyCode::Tab);
    press(&mut a, "j");
    assert_eq!(selected_type(&a), "m-acknowledge-ind");
    press(&mut a, "p");
    assert_eq!(a.mode, ListMode::Pdus);
    assert_eq!(a.focus, Pane::List);
    assert_eq!(a.flat_sel.index, 4);
    assert_eq!(selected_type(&a), "m-acknowledge-ind");
    press(&mut a, "k");
    assert_eq!(selected_type(&a), "m-retrieve-conf");
    assert_eq!(a.panes(), [Pane::List, Pane::Tree, Pane::Hex]);
    press(&mut a, "kk");
    assert_eq!(selected_type(&a), "m-send-conf");
    press(&mut a, "p");
    assert_eq!(a.mode, ListMode::Transactions);
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    assert_eq!(selected_type(&a), "m-send-conf");
}

#[test]
fn filter_bar_validates_as_you_type() {
    let mut a = app();
    press(&mut a, "/");
    let input = a.input.as_ref().unwrap();
    assert_eq!(input.kind, InputKind::Filter);
    assert_eq!(input.error, None, "an empty filter is valid (no filter)");
    press(&mut a, "mms.type ==");
    assert_eq!(
        a.input.as_ref().unwrap().error,
        Filter::parse("mms.type ==").err()
    );
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Backspace);
    assert_eq!(a.input.as_ref().unwrap().text, "mms.type");
    assert_eq!(
        a.input.as_ref().unwrap().error,
        Filter::parse("mms.type").err()
    );
    // Ctrl-U clears; Enter on an empty filter clears the applied filter
    ctrl(&mut a, 'u');
    assert_eq!(a.input.as_ref().unwrap().text, "");
    key(&mut a, KeyCode::Enter);
    assert!(a.input.is_none());
    assert!(a.filter.is_none());
    assert_eq!(a.shown_tx.len(), 3);
    // cursor editing
    press(&mut a, "/ac");
    key(&mut a, KeyCode::Left);
    press(&mut a, "b");
    assert_eq!(a.input.as_ref().unwrap().text, "abc");
    assert_eq!(a.input.as_ref().unwrap().cursor, 2);
    key(&mut a, KeyCode::Esc);
    assert!(a.input.is_none());
}

#[test]
fn a_filter_that_parses_filters_both_lists() {
    // Only meaningful once the filter language exists: try a few spellings of "type is
    // m-send-req"; each that parses must keep exactly what it matches.
    for expr in [
        "mms.message_type == \"m-send-req\"",
        "type == m-send-req",
        "m-send-req",
    ] {
        let Ok(f) = Filter::parse(expr) else { continue };
        let mut a = app();
        press(&mut a, "/");
        press(&mut a, expr);
        key(&mut a, KeyCode::Enter);
        assert!(a.input.is_none());
        let want_tx: Vec<usize> = (0..3)
            .filter(|&i| f.matches_transaction(&a.analysis.transactions[i], &a.analysis.pdus))
            .collect();
        let want_pdus: Vec<usize> = (0..5)
            .filter(|&i| f.matches_pdu(&a.analysis.pdus[i]))
            .collect();
        assert_eq!(a.shown_tx, want_tx);
        assert_eq!(a.shown_pdus, want_pdus);
        assert_eq!(a.filter_text, expr);
    }
}

#[test]
fn popups_open_and_close() {
    let mut a = app();
    press(&mut a, "?");
    assert!(matches!(a.popup, Some(Popup::Help { .. })));
    press(&mut a, "j"); // scrolls the help, not the list
    assert_eq!(selected_tid(&a), "H-SEND-0001");
    press(&mut a, "?");
    assert!(a.popup.is_none());
    press(&mut a, "d");
    assert!(matches!(a.popup, Some(Popup::Ladder { story: false, .. })));
    press(&mut a, "s");
    assert!(matches!(a.popup, Some(Popup::Ladder { story: true, .. })));
    assert_eq!(a.ladder_transactions(true), [0, 2]);
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
    // q closes a popup first, then quits
    press(&mut a, "?q");
    assert!(a.popup.is_none() && !a.quit);
    press(&mut a, "q");
    assert!(a.quit);
    let mut b = app();
    ctrl(&mut b, 'c');
    assert!(b.quit);
}

#[test]
fn view_and_save_a_body_part() {
    let mut a = app();
    a.focus = Pane::Tree;
    a.tree.selected_key = Some("MMS#0/Body#0".into());
    press(&mut a, "l"); // open the body
    press(&mut a, "jjj"); // number of parts, part 1, part 2
    assert_eq!(a.selected_node().unwrap().name, "Part 2");
    press(&mut a, "v");
    match &a.popup {
        Some(Popup::Text { title, lines, .. }) => {
            assert_eq!(title, "Part 2 (text/plain, 33 bytes)");
            assert_eq!(lines, &["Hello Bob, this is MMS over HTTP."]);
        }
        other => panic!("{other:?}"),
    }
    key(&mut a, KeyCode::Esc);
    let dir = std::env::temp_dir().join(format!("mmscope-tui-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    press(&mut a, "w");
    assert_eq!(a.input.as_ref().unwrap().kind, InputKind::SaveDir);
    ctrl(&mut a, 'u');
    press(&mut a, dir.to_str().unwrap());
    key(&mut a, KeyCode::Enter);
    let saved = dir.join("frame4-Part_2.txt");
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        b"Hello Bob, this is MMS over HTTP."
    );
    assert!(a.message.as_deref().unwrap().contains("saved 33 bytes"));
    // Part 1, the SMIL, as text
    press(&mut a, "k");
    press(&mut a, "v");
    match &a.popup {
        Some(Popup::Text { lines, .. }) => {
            assert_eq!(lines[0], "<smil>");
            assert!(lines.iter().any(|l| l.contains("<text src=\"Hello Bob")));
        }
        other => panic!("{other:?}"),
    }
    // a header field is not a part
    key(&mut a, KeyCode::Esc);
    press(&mut a, "k");
    press(&mut a, "w");
    assert!(a.input.is_none());
    assert!(a.message.as_deref().unwrap().contains("select a body part"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_writes_the_shown_transactions_as_json_lines() {
    let mut a = app();
    let path =
        std::env::temp_dir().join(format!("mmscope-tui-export-{}.jsonl", std::process::id()));
    press(&mut a, "e");
    assert_eq!(a.input.as_ref().unwrap().kind, InputKind::ExportPath);
    ctrl(&mut a, 'u');
    press(&mut a, path.to_str().unwrap());
    key(&mut a, KeyCode::Enter);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["transaction_id"], "H-SEND-0001");
    assert_eq!(lines[0]["kind"], "send");
    assert_eq!(lines[0]["frames"], serde_json::json!([4, 8]));
    assert_eq!(lines[1]["outcome"], "orphan");
    assert_eq!(
        lines[2]["message_types"],
        serde_json::json!(["m-retrieve-conf", "m-acknowledge-ind"])
    );
    assert!(
        a.message
            .as_deref()
            .unwrap()
            .starts_with("exported 3 transactions")
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut a = app();
    render_to_string(&mut a, 120, 40); // lay out the panes
    let list = a.areas.list;
    // border, header, then rows: click the third transaction
    let click = |x, y| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    a.on_mouse(click(list.x + 5, list.y + 4));
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    // click the second PDU of it
    let pdus = a.areas.pdus;
    a.on_mouse(click(pdus.x + 5, pdus.y + 3));
    assert_eq!(a.focus, Pane::Pdus);
    assert_eq!(selected_type(&a), "m-acknowledge-ind");
    // click a tree row, then click it again to open it
    let tree = a.areas.tree;
    a.on_mouse(click(tree.x + 5, tree.y + 1));
    assert_eq!(a.focus, Pane::Tree);
    assert_eq!(a.selected_node().unwrap().name, "HTTP");
    assert!(!a.tree_rows()[0].expanded);
    a.on_mouse(click(tree.x + 5, tree.y + 1));
    assert!(a.tree_rows()[0].expanded);
    // wheel over the transaction list
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: list.x + 5,
        row: list.y + 3,
        modifiers: KeyModifiers::NONE,
    };
    a.on_mouse(wheel);
    assert_eq!(selected_tid(&a), "H-SEND-0001");
}

#[test]
fn pdus_stream_in_and_progress_is_shown() {
    let mut a = App::new(Analysis {
        source: "captures/http_mm1_basic.pcapng".into(),
        ..Default::default()
    });
    let text = render_to_string(&mut a, 80, 24);
    assert!(
        text.contains("reading the capture… no transactions yet"),
        "{text}"
    );
    a.on_pipeline_event(Event::Progress {
        packets: 20,
        bytes: 3684,
        total_bytes: Some(7368),
        time: Timestamp::default(),
    });
    for mut p in fixture::http_mm1_basic_pdus().into_iter().take(3) {
        p.index = 99; // the app numbers records in arrival order
        a.on_pipeline_event(Event::Pdu(Box::new(p)));
    }
    a.on_pipeline_event(Event::Note("frame 12: TCP gap of 10 bytes".into()));
    assert_eq!(a.analysis.pdus.len(), 3);
    assert_eq!(a.analysis.pdus[2].index, 2);
    assert_eq!(a.load.pending, 3);
    assert_eq!(a.shown_pdus, [0, 1, 2]);
    let text = render_to_string(&mut a, 80, 24);
    assert!(text.contains("20 pkts │ 3 PDUs"), "{text}");
    assert!(text.contains("1 errors │ loading 50%"), "{text}");
    // the flat list already shows them before correlation
    press(&mut a, "p");
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("m-notifyresp-ind"));
    a.recorrelate();
    assert_eq!(a.load.pending, 0);
    assert_eq!(
        a.analysis.transactions.len(),
        mmscope::correlate::correlate(&a.analysis.pdus).len()
    );
    a.on_load_done(Err("truncated record at offset 7000".into()));
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains("FAILED: truncated record at offset 7000"),
        "{text}"
    );
    assert_eq!(a.analysis.pdus.len(), 3, "what was read stays");
}

#[test]
fn clicking_a_byte_selects_the_field_it_belongs_to() {
    let mut a = app();
    let click = |x, y| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    render_to_string(&mut a, 120, 40);
    // byte 0 is in the HTTP request line: the HTTP layer opens down to it
    let g = a.hex.geometry;
    assert_eq!((g.first, g.bpr), (0, 16));
    a.on_mouse(click(g.x + 6, g.y));
    assert_eq!(a.focus, Pane::Hex);
    assert_eq!(a.selected_node().unwrap().name, "Request line");
    assert!(a.tree_rows()[0].expanded);
    // select the MMS layer (bytes 239..720), then click byte 241 in the ASCII column: the
    // Transaction-Id field (241..254)
    a.tree.selected_key = Some("MMS#0".into());
    a.hex.manual = false;
    render_to_string(&mut a, 120, 40);
    let g = a.hex.geometry;
    let row = 241 / 16;
    assert!(row >= g.first && row < g.first + g.rows, "{g:?}");
    let y = g.y + (row - g.first) as u16;
    a.on_mouse(click(g.x + 6 + 49 + 1 + (241 % 16) as u16, y));
    assert_eq!(a.selected_node().unwrap().name, "X-Mms-Transaction-Id");
    // the view did not jump
    render_to_string(&mut a, 120, 40);
    assert_eq!(a.hex.geometry.first, g.first);
    // a click on the gap between bytes selects nothing new
    a.on_mouse(click(g.x + 6 + 2, y));
    assert_eq!(a.selected_node().unwrap().name, "X-Mms-Transaction-Id");
}

#[test]
fn ladder_from_the_flat_list_is_the_selected_pdus_transaction() {
    let mut a = app();
    press(&mut a, "pjjj"); // flat list, the m-retrieve-conf
    assert_eq!(selected_type(&a), "m-retrieve-conf");
    assert_eq!(a.ladder_transactions(false), [2]);
    assert_eq!(a.ladder_transactions(true), [0, 2]);
    press(&mut a, "k"); // the m-notifyresp-ind: no story, the ladder is its transaction alone
    assert_eq!(a.ladder_transactions(true), [1]);
    press(&mut a, "d");
    assert!(matches!(a.popup, Some(Popup::Ladder { .. })));
}

#[test]
fn jump_to_a_frame_whose_pdu_is_in_no_transaction_uses_the_flat_list() {
    let mut analysis = fixture::http_mm1_basic();
    analysis.transactions.remove(1); // the notification response is not correlated (yet)
    let mut a = App::with_analysis(analysis);
    press(&mut a, ":16");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, ListMode::Pdus);
    assert_eq!(selected_type(&a), "m-notifyresp-ind");
    assert!(
        a.message
            .as_deref()
            .unwrap()
            .contains("in no transaction shown")
    );
}

#[test]
fn the_filter_language_selects_transactions_and_pdus() {
    // docs/FILTERS.md: a transaction matches when it or any of its PDUs does
    let mut a = app();
    press(&mut a, "/tid == H-RETR-0001");
    assert_eq!(a.input.as_ref().unwrap().error, None);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.shown_tx, [2]);
    assert_eq!(a.shown_pdus, [3, 4]);
    assert_eq!(selected_tid(&a), "H-RETR-0001");
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("Transactions (1 of 3 shown)"), "{text}");
    assert!(text.starts_with("Filter: tid == H-RETR-0001"));
    // kind and outcome are transaction fields
    press(&mut a, "/");
    ctrl(&mut a, 'u');
    press(&mut a, "outcome == orphan");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.shown_tx, [1]);
    // an empty filter shows everything again
    press(&mut a, "/");
    ctrl(&mut a, 'u');
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.shown_tx, [0, 1, 2]);
    assert_eq!(a.shown_pdus, [0, 1, 2, 3, 4]);
}
