//! End-to-end: the real binary in a real terminal (tmux), on a shipped capture. Keys are sent
//! with `tmux send-keys`, the screen is read with `tmux capture-pane -p`.
//!
//! What the screen must show comes from captures/MANIFEST.md, section http_mm1_basic.pcapng:
//! five PDUs — m-send-req / m-send-conf (H-SEND-0001), m-notifyresp-ind (H-NOTIF-0001),
//! m-retrieve-conf / m-acknowledge-ind (H-RETR-0001) — in three transactions S, N and R.

mod tmux_support;

use std::time::{Duration, Instant};
use tmux_support::{Session, tmux_missing};

fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{screen}"))
}

#[test]
fn browse_http_mm1_basic_in_tmux() {
    if tmux_missing() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = env!("CARGO_BIN_EXE_mmscope");
    let cmd = format!("cd {root} && exec {bin} captures/http_mm1_basic.pcapng");
    let s = Session::start(
        format!("mmscope-tui-e2e-{}", std::process::id()),
        120,
        40,
        &cmd,
    );

    // open: the capture is read, five PDUs in three transactions
    let screen = s.wait_for("the capture to be read", |t| t.contains("│ done"));
    assert!(
        screen.contains("http_mm1_basic.pcapng │ 44 pkts │ 5 PDUs │ 3 tx │ 0 errors │ done"),
        "{screen}"
    );
    for tid in ["H-SEND-0001", "H-NOTIF-0001", "H-RETR-0001"] {
        assert!(screen.contains(tid), "{tid}:\n{screen}");
    }
    assert!(line_with(&screen, "H-SEND-0001 ").contains("▶"));
    assert!(screen.contains("m-send-req") && screen.contains("m-send-conf"));

    // search: the notification response
    s.keys(&["s"]);
    s.type_text("NOTIF");
    s.keys(&["Enter"]);
    let screen = s.screen();
    assert!(
        line_with(&screen, "H-NOTIF-0001 ").contains("▶"),
        "{screen}"
    );
    assert!(screen.contains("m-notifyresp-ind"));

    // select the retrieve transaction: its two PDUs
    s.keys(&["j"]);
    let screen = s.screen();
    assert!(line_with(&screen, "H-RETR-0001 ").contains("▶"), "{screen}");
    assert!(screen.contains("m-retrieve-conf") && screen.contains("m-acknowledge-ind"));
    assert!(screen.contains("H-MSG-0001@mmsc.lab"));

    // to the tree, expand the first layer (the carrier)
    s.keys(&["Tab", "Tab"]);
    let before = s.screen();
    assert!(before.contains("m-retrieve-conf"));
    s.keys(&["Enter"]);
    let screen = s.screen();
    assert!(screen.contains("▾"), "{screen}");
    assert!(screen.lines().count() >= 40);

    // the filter bar: typing shows it, Esc leaves it
    s.keys(&["/"]);
    s.type_text("(");
    let screen = s.screen();
    assert!(screen.starts_with("Filter: ("), "{screen}");
    assert!(screen.contains("^ error at"), "{screen}");
    s.keys(&["Escape"]);
    assert!(s.screen().starts_with("Filter: none"));
    // a valid filter keeps the retrieve transaction only
    s.keys(&["/"]);
    s.type_text("tid == H-RETR-0001");
    assert!(s.screen().contains("✓ valid"));
    s.keys(&["Enter"]);
    let screen = s.screen();
    assert!(screen.contains("Transactions (1 of 3 shown)"), "{screen}");
    assert!(!screen.contains("H-SEND-0001"), "{screen}");
    // jump to frame 30: the m-retrieve-conf
    s.keys(&[":"]);
    s.type_text("30");
    s.keys(&["Enter"]);
    let screen = s.screen();
    assert!(
        line_with(&screen, "m-retrieve-conf ").contains("▶"),
        "{screen}"
    );

    // help, then quit: the program ends and the session with it
    s.keys(&["?"]);
    assert!(s.screen().contains("Keys (Esc or ? closes)"));
    // separately: ESC followed at once by q reads as Alt-q
    s.keys(&["Escape"]);
    assert!(!s.screen().contains("Keys (Esc or ? closes)"));
    s.keys(&["q"]);
    let start = Instant::now();
    while s.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!s.alive(), "mmscope did not quit on q");
}

/// Runs today: the UI starts, reports what it could not read instead of crashing, restores the
/// terminal and quits on q.
#[test]
fn starts_reports_and_quits_in_tmux() {
    if tmux_missing() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = env!("CARGO_BIN_EXE_mmscope");
    // after mmscope exits, the shell prints a marker so that we can see the terminal is usable
    let cmd =
        format!("cd {root} && {bin} captures/http_mm1_basic.pcapng; echo EXITED=$?; sleep 30");
    let s = Session::start(
        format!("mmscope-tui-start-{}", std::process::id()),
        80,
        24,
        &cmd,
    );
    let screen = s.wait_for("the status line", |t| {
        t.contains("│ done") || t.contains("FAILED")
    });
    assert!(screen.contains("http_mm1_basic.pcapng"), "{screen}");
    assert!(screen.starts_with("Filter: none"), "{screen}");
    s.keys(&["q"]);
    let screen = s.wait_for("mmscope to exit", |t| t.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
    // the alternate screen is gone: the UI's frame is not on the restored screen
    assert!(!screen.contains("Transactions ("), "{screen}");
}

/// With NO_COLOR set, the screen has no colour escapes, only reverse video and bold.
#[test]
fn no_color_is_respected_in_tmux() {
    if tmux_missing() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = env!("CARGO_BIN_EXE_mmscope");
    for (no_color, name) in [(true, "nocolor"), (false, "color")] {
        let env = if no_color { "NO_COLOR=1" } else { "NO_COLOR=" };
        let cmd = format!(
            "cd {root} && TERM=xterm-256color {env} exec {bin} captures/http_mm1_basic.pcapng"
        );
        let s = Session::start(
            format!("mmscope-tui-{name}-{}", std::process::id()),
            80,
            24,
            &cmd,
        );
        s.wait_for("the status line", |t| {
            t.contains("│ done") || t.contains("FAILED")
        });
        let styled =
            String::from_utf8_lossy(&s.tmux(&["capture-pane", "-p", "-e", "-t", &s.0]).stdout)
                .into_owned();
        // SGR foreground/background colour parameters: 30–37, 40–47, 90–97, 38;…, 48;…
        let has_colour = styled.split("\x1b[").skip(1).any(|seq| {
            let params = seq.split('m').next().unwrap_or("");
            params.split(';').any(|p| {
                matches!(
                    p.parse::<u16>(),
                    Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
                )
            })
        });
        assert_eq!(has_colour, !no_color, "{styled:?}");
        if no_color {
            // the status line is in reverse video instead of white on blue
            let reversed =
                styled.contains("\x1b[7m") || styled.contains(";7m") || styled.contains("[7;");
            assert!(reversed, "{styled:?}");
        }
        s.keys(&["q"]);
    }
}
