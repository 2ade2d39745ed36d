//! The TUI in live mode, in a real terminal (tmux): `mmscope -i lo` shows a transaction appear
//! while an MMS exchange runs on loopback, the status line shows the drop counters, and
//! quitting stops the capture and closes the `-w` file.

mod live_support;
mod tmux_support;

use live_support::*;
use std::path::PathBuf;
use tmux_support::{Session, tmux_missing};

/// `mmscope -i lo -f FILTER -w FILE` in a tmux session, its stderr to `tmp`'s "stderr".
fn start_live(tmp: &TempDir, tag: &str, filter: &str, file: &str) -> (Session, PathBuf) {
    let written = tmp.path(file);
    let cmd = format!(
        "exec {BIN} -i lo -f '{filter}' -w {} 2> {}",
        written.display(),
        tmp.path("stderr").display()
    );
    let name = format!("mmscope-{tag}-{}", std::process::id());
    (Session::start(name, 140, 40, &cmd), written)
}

#[test]
fn live_tui_shows_a_transaction_as_it_happens() {
    skip_unless!(can_capture());
    if tmux_missing() {
        return;
    }
    let port = mmsc_stub(pdu_bytes("h_send_conf.mms"), 1);
    let tmp = TempDir::new("live-tui");
    let (s, written) = start_live(&tmp, "live-tui", &format!("tcp port {port}"), "tui.pcapng");

    // the capture runs: live state and drop counters in the status line, nothing yet
    let screen = s.wait_for("the live status line", |t| t.contains("│ live · "));
    assert!(screen.contains(" live:lo │ "), "{screen}");
    assert!(
        screen.contains("0 dropped (kernel 0, if 0, analysis 0)"),
        "{screen}"
    );
    assert!(
        screen.contains("capturing… no transactions yet"),
        "{screen}"
    );

    // an MMS send over HTTP: the transaction appears and completes
    let resp = post_mms(port, &pdu_bytes("h_send_req.mms"));
    assert!(resp.starts_with(b"HTTP/1.1 200 OK"));
    let screen = s.wait_for("the send transaction", |t| {
        t.contains("H-SEND-0001") && t.contains("m-send-conf")
    });
    let row = screen
        .lines()
        .find(|l| l.contains("H-SEND-0001") && l.contains("send "))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains(" ok "), "{row}");
    assert!(row.contains("H-MSG-0001@mmsc.lab"), "{row}");
    assert!(
        screen.contains("│ 2 PDUs │ 1 tx │ 0 errors │ live · "),
        "{screen}"
    );
    assert!(screen.contains("m-send-req"), "{screen}");

    // quit: the capture stops, the file is complete, the counters go to stderr
    assert!(s.tmux(&["send-keys", "-t", &s.0, "q"]).status.success());
    s.wait_exit("mmscope did not quit");
    let stderr = std::fs::read_to_string(tmp.path("stderr")).unwrap();
    assert!(stderr.contains("mmscope: lo: "), "{stderr}");
    assert!(stderr.contains("0 dropped by the kernel"), "{stderr}");
    let back = run_json(&["pdus", written.to_str().unwrap(), "--json"]);
    let types: Vec<&str> = back
        .iter()
        .map(|p| p["message_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["m-send-req", "m-send-conf"]);
}

#[test]
fn live_tui_quits_cleanly_on_sigterm() {
    skip_unless!(can_capture());
    if tmux_missing() {
        return;
    }
    let tmp = TempDir::new("live-tui-term");
    let (s, written) = start_live(&tmp, "live-term", "tcp port 9", "term.pcapng");
    s.wait_for("the live status line", |t| t.contains("│ live · "));
    let pid = String::from_utf8_lossy(
        &s.tmux(&["display-message", "-p", "-t", &s.0, "#{pane_pid}"])
            .stdout,
    )
    .trim()
    .parse::<i32>()
    .unwrap();
    // SAFETY: a signal to the process this test started (tmux exec'd it).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    s.wait_exit("mmscope did not quit");
    // the normal way out: counters reported, the file a valid (empty) capture
    let stderr = std::fs::read_to_string(tmp.path("stderr")).unwrap();
    assert!(
        stderr.contains("mmscope: lo: 0 packets captured"),
        "{stderr}"
    );
    let back = run_json(&["pdus", written.to_str().unwrap(), "--json"]);
    assert!(back.is_empty());
}
