//! Rendering tests: the TUI drawn on ratatui's TestBackend from a realistic analysis of
//! captures/http_mm1_basic.pcapng (the five PDUs of captures/MANIFEST.md, see tui::fixture).

use mmscope::filter::Filter;
use mmscope::tree::{Node, Severity};
use mmscope::tui::app::{Pane, Popup};
use mmscope::tui::theme::Theme;
use mmscope::tui::{App, buffer_text, fixture, render_to_buffer, render_to_string};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

fn app() -> App {
    let mut a = App::with_analysis(fixture::http_mm1_basic());
    a.theme = Theme { color: true };
    a
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Row `y` of the buffer as text.
fn row(b: &Buffer, y: u16) -> String {
    (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
}

fn find_row(b: &Buffer, needle: &str) -> Option<u16> {
    (0..b.area.height).find(|&y| row(b, y).contains(needle))
}

/// The text of the cells of row `y` whose modifier has REVERSED, in the x range.
fn reversed_text(b: &Buffer, y: u16, xs: std::ops::Range<u16>) -> String {
    xs.filter(|&x| b[(x, y)].modifier.contains(Modifier::REVERSED))
        .map(|x| b[(x, y)].symbol().to_string())
        .collect()
}

#[test]
fn transaction_list_at_80x24_shows_ids_outcomes_and_the_selection() {
    let mut a = app();
    let b = render_to_buffer(&mut a, 80, 24);
    let text = buffer_text(&b);
    assert!(text.contains("Transactions (3)"), "{text}");
    let y = find_row(&b, "H-SEND-0001    H-MSG-0001@mmsc.lab").expect("send row");
    assert!(row(&b, y).contains("▶"));
    assert!(row(&b, y).contains(" send "));
    assert!(row(&b, y).contains(" ok "));
    // the selected row is reversed, the others are not
    assert!(b[(3, y)].modifier.contains(Modifier::REVERSED));
    let y2 = find_row(&b, "H-NOTIF-0001").unwrap();
    assert!(row(&b, y2).contains("orphan"));
    assert!(!b[(3, y2)].modifier.contains(Modifier::REVERSED));
    // outcome coloured and said in words
    let ox = (0..80)
        .find(|&x| b[(x, y2)].symbol() == "o" && b[(x + 1, y2)].symbol() == "r")
        .unwrap();
    assert_eq!(b[(ox, y2)].fg, Color::Magenta);
    // status line
    assert!(
        text.contains("http_mm1_basic.pcapng │ 44 pkts │ 5 PDUs │ 3 tx │ 0 errors │ done"),
        "{text}"
    );
}

#[test]
fn pdu_pane_lists_the_transactions_pdus_with_direction() {
    let mut a = app();
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains("PDUs of transaction 1 (send, H-SEND-0001)"),
        "{text}"
    );
    let req = text.lines().find(|l| l.contains("m-send-req ")).unwrap();
    assert!(req.contains("4 ") && req.contains("→ m-send-req"), "{req}");
    assert!(req.contains("127.0.0.1:57388 → 127.0.0.1:80"));
    assert!(req.contains("POST /mmsc"));
    let conf = text.lines().find(|l| l.contains("m-send-conf")).unwrap();
    assert!(conf.contains("← m-send-conf"), "{conf}");
    assert!(conf.contains("0.000950"), "{conf}");
    // the third transaction: m-retrieve-conf then m-acknowledge-ind
    press(&mut a, "jj");
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains("PDUs of transaction 3 (retrieve, H-RETR-0001)"),
        "{text}"
    );
    // handset on the left: the retrieved message comes in, the acknowledgement goes out
    assert!(text.contains("← m-retrieve-conf"), "{text}");
    assert!(text.contains("→ m-acknowledge-ind"), "{text}");
    assert!(text.contains("30     ") && text.contains("38     "));
}

#[test]
fn tree_pane_shows_all_layers_and_the_mms_fields() {
    let mut a = app();
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("Decode: frame 4 m-send-req"));
    assert!(text.contains("▸ Hypertext Transfer Protocol, POST /mmsc HTTP/1.1"));
    assert!(text.contains("▾ MMS m-send-req"));
    assert!(text.contains("X-Mms-Transaction-Id: H-SEND-0001"));
    assert!(text.contains("From: <insert-address-token>"));
    assert!(text.contains("▸ Body: multipart, 2 parts"));
    // open the HTTP layer: its headers appear
    a.focus = Pane::Tree;
    key(&mut a, KeyCode::Enter);
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("▾ Hypertext Transfer Protocol"));
    assert!(
        text.contains("User-Agent: MMSLab-Handset/1.0 (curl)"),
        "{text}"
    );
}

#[test]
fn hex_pane_highlights_the_bytes_of_the_selected_field() {
    let mut a = app();
    a.focus = Pane::Tree;
    // HTTP, MMS, Message-Type, Transaction-Id
    press(&mut a, "jjj");
    assert_eq!(a.selected_node().unwrap().name, "X-Mms-Transaction-Id");
    let b = render_to_buffer(&mut a, 80, 24);
    let text = buffer_text(&b);
    // the body starts at 239 in the TCP payload: the Transaction-Id is 241..254, row 0xf0
    assert!(text.contains("Bytes 241..254 (13) · frame 4"), "{text}");
    let y = find_row(&b, "00f0  ").expect("row 0xf0");
    // the 13 bytes 98 48 2d … 00 (byte 247 ends the first group of 8 on the row), in the hex
    // and in the ASCII column, and nothing else
    assert_eq!(
        reversed_text(&b, y, 0..80),
        "98 48 2d 53 45 4e 44  2d 30 30 30 31 00.H-SEND-0001."
    );
    let x = (0..80)
        .find(|&x| b[(x, y)].modifier.contains(Modifier::REVERSED))
        .unwrap();
    assert_eq!(b[(x, y)].fg, Color::Yellow);
    assert!(!row(&b, y - 1).is_empty() && reversed_text(&b, y - 1, 0..80).is_empty());
}

#[test]
fn help_lists_every_key() {
    let mut a = app();
    press(&mut a, "?");
    assert!(matches!(a.popup, Some(Popup::Help { .. })));
    let text = render_to_string(&mut a, 120, 60);
    assert!(text.contains("Keys (Esc or ? closes)"));
    for (keys, what) in App::key_help() {
        let entry = format!(
            "  {}{}",
            mmscope::tui::ui::fit(keys, 16),
            &what[..20.min(what.len())]
        );
        assert!(text.contains(&entry), "{entry} missing:\n{text}");
    }
    // at 80×24 it scrolls: the last key comes into view at the end
    let small = render_to_string(&mut a, 80, 24);
    assert!(small.contains("Keys (Esc or ? closes)"));
    assert!(!small.contains("wheel scrolls"));
    key(&mut a, KeyCode::End);
    for _ in 0..40 {
        press(&mut a, "j");
    }
    let small = render_to_string(&mut a, 80, 24);
    assert!(small.contains("mouse"), "{small}");
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

#[test]
fn filter_bar_shows_the_parse_error_under_its_offset() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app();
        let expr = "mms.type == (";
        press(&mut a, "/");
        press(&mut a, expr);
        let err = Filter::parse(expr).expect_err("an unbalanced parenthesis never parses");
        let b = render_to_buffer(&mut a, w, h);
        assert_eq!(row(&b, 0).trim_end(), format!("Filter: {expr}  ✗ invalid"));
        let line = row(&b, 1);
        let caret = line.find('^').expect("caret line");
        assert_eq!(caret, "Filter: ".len() + err.offset.min(expr.len()));
        assert!(
            line.contains(&format!("error at {}: {}", err.offset, err.message)),
            "{line}"
        );
        // the error is styled as one, not only by colour
        let x = caret as u16;
        assert!(b[(x, 1)].modifier.contains(Modifier::BOLD));
        // Enter with an error keeps the bar open; Esc closes it and leaves no filter
        key(&mut a, KeyCode::Enter);
        assert!(a.input.is_some());
        key(&mut a, KeyCode::Esc);
        assert!(a.input.is_none() && a.filter.is_none());
        let text = render_to_string(&mut a, w, h);
        assert!(text.starts_with("Filter: none (press / to filter)"));
    }
}

#[test]
fn ladder_draws_hosts_and_arrows() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app();
        press(&mut a, "d");
        let text = render_to_string(&mut a, w, h);
        assert!(
            text.contains("Ladder: transaction 1 (send, H-SEND-0001)"),
            "{text}"
        );
        assert!(text.contains("127.0.0.1:80"));
        let req = text.lines().find(|l| l.contains("m-send-req")).unwrap();
        assert!(req.contains("+0.000000") && req.contains("▶│"), "{req}");
        let conf = text.lines().find(|l| l.contains("m-send-conf")).unwrap();
        assert!(conf.contains("+0.000950") && conf.contains("│◀"), "{conf}");
        // the whole story: send and retrieve of H-MSG-0001
        press(&mut a, "s");
        let text = render_to_string(&mut a, w, h);
        assert!(text.contains("Ladder: story of 2 transactions"), "{text}");
        for t in [
            "m-send-req",
            "m-send-conf",
            "m-retrieve-conf",
            "m-acknowledge-ind",
        ] {
            assert!(text.contains(t), "{t}\n{text}");
        }
        assert!(!text.contains("m-notifyresp-ind"));
    }
}

#[test]
fn flat_pdu_list_shows_every_pdu_in_capture_order() {
    let mut a = app();
    press(&mut a, "p");
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("All PDUs (5)"), "{text}");
    let order: Vec<&str> = [
        "m-send-req",
        "m-send-conf",
        "m-notifyresp-ind",
        "m-retrieve-conf",
        "m-acknowledge-ind",
    ]
    .into_iter()
    .collect();
    let pos: Vec<usize> = order
        .iter()
        .map(|t| text.find(&format!("{t} ")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn without_colour_everything_is_still_marked() {
    let mut a = app();
    a.theme = Theme::plain();
    let b = render_to_buffer(&mut a, 100, 30);
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            assert_eq!(b[(x, y)].fg, Color::Reset, "colour at {x},{y}");
            assert_eq!(b[(x, y)].bg, Color::Reset, "colour at {x},{y}");
        }
    }
    let y = find_row(&b, "H-SEND-0001    H-MSG").unwrap();
    assert!(row(&b, y).contains("▶") && b[(5, y)].modifier.contains(Modifier::REVERSED));
    // the focused pane: thick border and a marker in its title
    assert!(buffer_text(&b).contains("┏ ▶ Transactions (3)"));
}

#[test]
fn problems_are_marked_in_lists_and_tree_and_text_is_escaped() {
    let mut analysis = fixture::http_mm1_basic();
    {
        let p = &mut analysis.pdus[1];
        p.mms.errors = 1;
        p.mms.message_id = Some("evil\x1b[2J".into());
        let mms = &mut p.dissection.layers[1];
        let r = mms.range.clone();
        mms.push(Node::expert(
            Severity::Error,
            "malformed",
            "truncated \x1b]0;pwned\x07 header",
            r.end - 1..r.end,
        ));
        mms.children[4].display = "H-MSG-0001\x1b[31m@mmsc.lab".into();
    }
    let mut a = App::with_analysis(analysis);
    let text = render_to_string(&mut a, 120, 40);
    assert!(!text.contains('\x1b') && !text.contains('\x07'));
    let send = text
        .lines()
        .find(|l| l.contains("H-SEND-0001    "))
        .unwrap();
    assert!(send.contains("▶ E"), "{send}");
    assert!(text.contains("1 errors"));
    key(&mut a, KeyCode::Tab);
    press(&mut a, "j");
    let text = render_to_string(&mut a, 120, 40);
    let conf = text.lines().find(|l| l.contains("m-send-conf ")).unwrap();
    assert!(conf.contains("E 8"), "{conf}");
    assert!(
        text.contains("[error] malformed: truncated \\u{1b}]0;pwned\\u{7} header"),
        "{text}"
    );
    assert!(
        text.contains("Message-ID: H-MSG-0001\\u{1b}[31m@mmsc.lab"),
        "{text}"
    );
    // the problems popup lists it too
    press(&mut a, "!");
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains("frame 8: [error] malformed: truncated"),
        "{text}"
    );
}

#[test]
fn zoom_gives_the_focused_pane_the_screen() {
    let mut a = app();
    a.focus = Pane::Tree;
    press(&mut a, "z");
    let text = render_to_string(&mut a, 80, 24);
    assert!(text.contains("Decode: frame 4 m-send-req"));
    assert!(!text.contains("Transactions (3)"));
    assert!(text.contains("Body: multipart, 2 parts"));
}

/// The screens shown in docs/TUI.md, drawn from the fixture.
fn docs_screens() -> Vec<(&'static str, String)> {
    let mut a = App::with_analysis(fixture::http_mm1_basic());
    a.theme = Theme::plain();
    press(&mut a, "G");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    a.tree.selected_key = Some("MMS#0/Body#0".into());
    press(&mut a, "ljjj");
    let main = render_to_string(&mut a, 100, 36);
    press(&mut a, "d");
    press(&mut a, "s");
    let ladder = render_to_string(&mut a, 100, 20);
    vec![("main", main), ("ladder", ladder)]
}

fn docs_block(name: &str, screen: &str) -> String {
    let body: String = screen.lines().map(|l| format!("{l}\n")).collect();
    format!("<!-- screen:{name} -->\n```text\n{body}```\n<!-- /screen:{name} -->")
}

/// docs/TUI.md shows the screen as it is drawn today. Set MMSCOPE_UPDATE_DOCS=1 to rewrite the
/// screenshots in place after changing the UI.
#[test]
fn docs_screenshots_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/TUI.md");
    let mut doc = std::fs::read_to_string(path).expect("docs/TUI.md");
    let update = std::env::var_os("MMSCOPE_UPDATE_DOCS").is_some();
    for (name, screen) in docs_screens() {
        let want = docs_block(name, &screen);
        let start = doc
            .find(&format!("<!-- screen:{name} -->"))
            .expect("screen marker");
        let end_marker = format!("<!-- /screen:{name} -->");
        let end = doc.find(&end_marker).expect("end marker") + end_marker.len();
        if update {
            doc.replace_range(start..end, &want);
        } else {
            assert_eq!(
                &doc[start..end],
                want,
                "docs/TUI.md is out of date: MMSCOPE_UPDATE_DOCS=1 cargo test --test tui_render"
            );
        }
    }
    if update {
        std::fs::write(path, doc).unwrap();
    }
}

#[test]
fn docs_list_every_key() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/TUI.md")).unwrap();
    for (keys, what) in App::key_help() {
        assert!(
            doc.contains(&format!("| `{keys}` | {what} |")),
            "docs/TUI.md lacks {keys}"
        );
    }
}

#[test]
fn time_column_cycles_since_first_delta_and_time_of_day() {
    let mut a = app();
    press(&mut a, "p");
    let text = render_to_string(&mut a, 120, 40);
    assert!(line_of(&text, "m-retrieve-conf ").contains("0.019817"));
    press(&mut a, "t");
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("Δ prev"), "{text}");
    // frame 30 came 10.207 ms after frame 16
    assert!(
        line_of(&text, "m-retrieve-conf ").contains("+0.010207"),
        "{text}"
    );
    press(&mut a, "t");
    let text = render_to_string(&mut a, 120, 40);
    assert!(text.contains("Time (UTC)"));
    // tshark: frame 4 at 1795554883.984848616 = 2026-11-24 21:14:43.984848 UTC
    assert!(
        line_of(&text, "m-send-req ").contains("21:14:43.984848"),
        "{text}"
    );
    press(&mut a, "t");
    let text = render_to_string(&mut a, 120, 40);
    assert!(line_of(&text, "m-send-req ").contains("0.000000"));
}

fn line_of<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle}: {text}"))
}
