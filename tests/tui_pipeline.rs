//! The TUI over the real pipeline: every shipped capture is read through the TUI's own loader
//! (background thread + channel), correlated, and drawn; http_mm1_basic.pcapng is checked
//! against captures/MANIFEST.md.

use mmscope::model::Analysis;
use mmscope::tui::app::Pane;
use mmscope::tui::loader::{self, LoadMsg};
use mmscope::tui::{App, buffer_text, render_to_buffer, render_to_string};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};

fn load(path: &Path) -> App {
    let rx = loader::spawn(path.to_path_buf());
    let mut app = App::new(Analysis {
        source: path.display().to_string(),
        ..Default::default()
    });
    for msg in rx {
        match msg {
            LoadMsg::Event(e) => app.on_pipeline_event(e),
            LoadMsg::Done(r) => {
                app.on_load_done(r);
                break;
            }
        }
    }
    app
}

fn captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    v
}

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn http_mm1_basic_as_the_manifest_says() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/http_mm1_basic.pcapng");
    let mut a = load(&path);
    assert!(a.load.done && a.load.error.is_none(), "{:?}", a.load.error);
    // MANIFEST: five PDUs, in this order, completed in these frames (tshark frame column)
    let got: Vec<(u64, &str, &str)> = a
        .analysis
        .pdus
        .iter()
        .map(|p| {
            (
                p.frame,
                p.mms.message_type.as_deref().unwrap_or(""),
                p.mms.transaction_id.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (4, "m-send-req", "H-SEND-0001"),
            (8, "m-send-conf", "H-SEND-0001"),
            (16, "m-notifyresp-ind", "H-NOTIF-0001"),
            (30, "m-retrieve-conf", "H-RETR-0001"),
            (38, "m-acknowledge-ind", "H-RETR-0001"),
        ]
    );
    // S, N, R
    let tids: Vec<&str> = a
        .analysis
        .transactions
        .iter()
        .map(|t| t.transaction_id.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(tids, ["H-SEND-0001", "H-NOTIF-0001", "H-RETR-0001"]);
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains("44 pkts │ 5 PDUs │ 3 tx │ 0 errors │ done"),
        "{text}"
    );
    // the send request: its decode reaches the second part's text, whose bytes are highlighted
    a.focus = Pane::Tree;
    press(&mut a, KeyCode::Char('s'));
    for c in "Hello Bob".chars() {
        press(&mut a, KeyCode::Char(c));
    }
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Char('n'));
    let node = a.selected_node().unwrap().clone();
    let pdu = a.selected_pdu().unwrap();
    let bytes = &pdu.dissection.buffers[node.buffer as usize].data[node.range.clone()];
    assert!(
        String::from_utf8_lossy(bytes).contains("Hello Bob"),
        "{}",
        node.name
    );
    let text = render_to_string(&mut a, 120, 40);
    assert!(
        text.contains(&format!("Bytes {}..{}", node.range.start, node.range.end)),
        "{text}"
    );
    assert!(text.contains("· frame 4 ·"), "{text}");
}

#[test]
fn every_capture_loads_and_draws() {
    for path in captures() {
        let mut a = load(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(a.load.error.is_none(), "{name}: {:?}", a.load.error);
        assert!(!a.analysis.pdus.is_empty(), "{name}: no PDUs");
        // walk every transaction and every PDU, opening every tree, at two sizes
        for (w, h) in [(80, 24), (160, 50)] {
            let screen = render_to_buffer(&mut a, w, h);
            let text = buffer_text(&screen);
            assert!(text.contains(&name[..name.len().min(20)]), "{name}");
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{name}: control character on screen"
            );
        }
        for _ in 0..a.shown_tx.len() {
            a.focus = Pane::Tree;
            press(&mut a, KeyCode::Char('*'));
            render_to_buffer(&mut a, 120, 40);
            a.focus = Pane::List;
            press(&mut a, KeyCode::Char('d'));
            render_to_buffer(&mut a, 120, 40);
            press(&mut a, KeyCode::Esc);
            press(&mut a, KeyCode::Down);
        }
        press(&mut a, KeyCode::Char('p'));
        for _ in 0..a.shown_pdus.len() {
            render_to_buffer(&mut a, 100, 30);
            press(&mut a, KeyCode::Down);
        }
        eprintln!(
            "{name}: {} PDUs, {} transactions, {} with problems",
            a.analysis.pdus.len(),
            a.analysis.transactions.len(),
            a.error_count()
        );
    }
}
