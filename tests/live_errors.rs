//! The errors of live capture, as the user sees them (stderr, exit code 2), and
//! `--list-interfaces`.

mod live_support;

use live_support::*;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_interface_lists_the_real_ones() {
    for sub in [&["pdus"][..], &["transactions"], &[]] {
        let mut args = sub.to_vec();
        args.extend(["-i", "mmscope-nope0", "--duration", "1"]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(
            err.starts_with("mmscope: no such interface: \"mmscope-nope0\"; available: "),
            "{err}"
        );
        // the loopback is always there (Linux names it lo)
        assert!(err.contains(" lo"), "{err}");
        assert!(err.contains("mmscope --list-interfaces"), "{err}");
    }
}

#[test]
fn bad_filter_shows_libpcaps_message_and_the_filter() {
    skip_unless!(can_capture());
    let (code, _, err) = run(&["pdus", "-i", "lo", "-f", "tcp port", "--duration", "1"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        "mmscope: bad capture filter on lo: libpcap error: can't parse filter expression: \
         syntax error\n  filter: tcp port\n"
    );
    let (code, _, err) = run(&["-i", "lo", "-f", "udp port 99999"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("port 99999"), "{err}");
    assert!(err.ends_with("\n  filter: udp port 99999\n"), "{err}");
}

#[test]
fn no_permission_says_how_to_grant_it() {
    // As root, drop to nobody (no capabilities) with setpriv; as another user, just try.
    let mut cmd = if can_capture().is_ok() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            BIN,
        ]);
        c
    } else {
        Command::new(BIN)
    };
    let out = match cmd.args(["pdus", "-i", "lo", "--duration", "1"]).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: cannot run setpriv: {e}");
            return;
        }
    };
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        eprintln!("SKIPPED: this user may capture (capabilities granted?)");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("mmscope: lo: no permission to capture (libpcap: "),
        "{err}"
    );
    assert!(
        err.contains("sudo setcap cap_net_raw,cap_net_admin=eip $(which mmscope)"),
        "{err}"
    );
    assert!(err.contains("run mmscope as root"), "{err}");
}

#[test]
fn live_options_need_an_interface() {
    let (code, _, err) = run(&["pdus", "captures/http_mm1_basic.pcapng", "-w", "x.pcapng"]);
    assert_eq!(code, 2);
    assert_eq!(err, "mmscope: -w is for live capture: give -i IFACE too\n");
    let (code, _, err) = run(&["transactions", "-i", "lo", "--ring", "3", "-w", "x.pcapng"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "mmscope: --ring N needs --rotate-size or --rotate-seconds\n"
    );
    // a file and -i together: clap says they conflict
    let (code, _, err) = run(&["pdus", "-i", "lo", "captures/http_mm1_basic.pcapng"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = run(&["-i", "lo", "-w", "/nonexistent-dir/x.pcapng"]);
    if can_capture().is_ok() {
        assert_eq!(code, 2);
        assert!(
            err.starts_with("mmscope: cannot write /nonexistent-dir/x.pcapng: "),
            "{err}"
        );
    }
}

#[test]
fn list_interfaces_shows_flags_and_addresses() {
    let (code, out, err) = run(&["--list-interfaces"]);
    assert_eq!(code, 0, "{err}");
    let lo = out
        .lines()
        .find(|l| l.starts_with("lo "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(lo.contains("[up, running, loopback]"), "{lo}");
    assert!(lo.contains("127.0.0.1"), "{lo}");
}
