//! A tmux session driving the real binary, for the end-to-end TUI tests: keys go in with
//! `tmux send-keys`, the screen comes back with `tmux capture-pane -p`.
#![allow(dead_code)] // each test crate uses the part it needs

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Session(pub String);

/// True when tmux is not installed; says that the calling test is skipped.
pub fn tmux_missing() -> bool {
    let missing = Command::new("tmux").arg("-V").output().is_err();
    if missing {
        eprintln!("skipped: tmux is not installed");
    }
    missing
}

impl Session {
    /// Start `cmd` in a new detached session of `w`×`h`. Retried: when the last session of a
    /// tmux server ends, the server exits, and a session started at that moment can fail.
    pub fn start(name: String, w: u16, h: u16, cmd: &str) -> Session {
        let s = Session(name);
        let (w, h) = (w.to_string(), h.to_string());
        let mut last = String::new();
        for _ in 0..5 {
            let out = s.tmux(&["new-session", "-d", "-s", &s.0, "-x", &w, "-y", &h, cmd]);
            if out.status.success() {
                return s;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("tmux new-session failed: {last}");
    }

    pub fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").args(args).output().expect("run tmux")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Send text literally (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", &self.0, "-l", text])
                .status
                .success()
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", &self.0]).stdout)
            .into_owned()
    }

    /// Wait until the screen satisfies `pred`, returning it (or panicking with the last screen).
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", &self.0]).status.success()
    }

    /// Wait until the program in the session has exited (its session is gone).
    pub fn wait_exit(&self, what: &str) {
        let start = Instant::now();
        while self.alive() {
            assert!(start.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.alive() {
            let _ = self.tmux(&["kill-session", "-t", &self.0]);
        }
    }
}
