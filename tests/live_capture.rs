//! Live capture end to end, with the real binary (docs/LIVE.md).
//!
//! - Shipped captures replayed with tcpreplay on the loopback of a network namespace made for
//!   the test (nothing else runs there, so frame numbers match the file's): the PDUs and
//!   transactions `mmscope -i lo` reports equal what the same command reports on the file
//!   (apart from capture times), and the pcapng written with `-w` gives exactly the live output.
//! - Real MMS traffic on the host's loopback (an MMSC stub over HTTP, a WSP datagram), isolated
//!   by a capture filter on the test's own ports: transactions are streamed while the capture
//!   runs, Ctrl-C ends it with the drop counters on stderr.
//!
//! They need capture privileges (root in CI); elsewhere they print why they are skipped.

mod live_support;

use live_support::*;
use std::process::Command;
use std::time::Duration;

/// Replay `capture` into a fresh namespace while `mmscope SUBCOMMAND -i lo --json` runs there
/// with `-w`; returns (live JSON, JSON of the -w file read back by the same subcommand).
fn replay(
    subcommand: &str,
    capture: &str,
    extra: &[&str],
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let ns = NetNs::create(&format!("{subcommand}-{}", capture.len())).unwrap();
    let tmp = TempDir::new(&format!("replay-{subcommand}-{}", capture.len()));
    let written = tmp.path("live.pcapng");
    let mut cmd = ns.command(BIN);
    cmd.args([subcommand, "-i", "lo", "--json", "--duration", "4", "-w"])
        .arg(&written)
        .args(extra);
    let run = Running::start(cmd);
    let path = root().join("captures").join(capture);
    let out = ns.exec(
        "tcpreplay",
        &["--intf1=lo", "--topspeed", path.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "tcpreplay: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, stdout, stderr) = run.finish(Duration::from_secs(20));
    assert!(status.success(), "{stderr:?}");
    // the drop counters are reported at the end
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("lo: ") && l.contains("dropped by the kernel")),
        "{stderr:?}"
    );
    assert!(
        stderr.iter().any(|l| l.contains("written to")),
        "{stderr:?}"
    );
    let live = json_lines(&stdout);
    let back = run_json(&[subcommand, written.to_str().unwrap(), "--json"]);
    (live, back)
}

#[test]
fn replayed_http_capture_gives_the_files_pdus() {
    skip_unless!(can_replay_in_netns());
    let (live, back) = replay("pdus", "http_mm1_basic.pcapng", &[]);
    // the -w file holds exactly what was analysed
    assert_eq!(live, back);
    let file = run_json(&[
        "pdus",
        root()
            .join("captures/http_mm1_basic.pcapng")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    assert_eq!(file.len(), 5);
    let strip = |v: &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        v.iter()
            .map(|p| without_times(p.clone(), &["time"]))
            .collect()
    };
    assert_eq!(strip(&live), strip(&file));
    let types: Vec<&str> = live
        .iter()
        .map(|p| p["message_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "m-send-req",
            "m-send-conf",
            "m-notifyresp-ind",
            "m-retrieve-conf",
            "m-acknowledge-ind"
        ]
    );
}

#[test]
fn replayed_wap_capture_gives_the_files_pdus() {
    skip_unless!(can_replay_in_netns());
    // WSP over WTP (UDP 9201), connectionless push (9200 -> 2948), PAP and HTTP legs
    let (live, back) = replay("pdus", "wap_mm1_full.pcapng", &[]);
    assert_eq!(live, back);
    let file = run_json(&[
        "pdus",
        root()
            .join("captures/wap_mm1_full.pcapng")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    let strip = |v: &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        v.iter()
            .map(|p| without_times(p.clone(), &["time"]))
            .collect()
    };
    assert_eq!(strip(&live), strip(&file));
    let wsp = live.iter().filter(|p| p["transport"] == "wsp").count();
    assert_eq!(wsp, 4, "{live:?}");
    assert!(live.iter().any(|p| p["transport"] == "wsp-push"));
}

#[test]
fn replayed_capture_gives_the_files_transactions() {
    skip_unless!(can_replay_in_netns());
    let (live, back) = replay("transactions", "http_mm1_basic.pcapng", &[]);
    let file = run_json(&[
        "transactions",
        root()
            .join("captures/http_mm1_basic.pcapng")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    assert_eq!(file.len(), 3);
    let times = ["start", "end", "start_utc", "end_utc", "duration"];
    let strip = |v: &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        v.iter()
            .map(|t| {
                let mut t = without_times(t.clone(), &times);
                for r in t["records"].as_array_mut().unwrap() {
                    *r = without_times(r.clone(), &["time", "time_utc"]);
                }
                t
            })
            .collect()
    };
    assert_eq!(strip(&live), strip(&file));
    assert_eq!(strip(&back), strip(&file));
    let tids: Vec<&str> = live
        .iter()
        .map(|t| t["transaction_id"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(tids, ["H-SEND-0001", "H-NOTIF-0001", "H-RETR-0001"]);
}

#[test]
fn real_traffic_streams_transactions_and_stops_on_ctrl_c() {
    skip_unless!(can_capture());
    let port = mmsc_stub(pdu_bytes("h_send_conf.mms"), 1);
    let (udp, udp_port) = udp_sender();
    let filter = format!("tcp port {port} or (udp port 9200 and udp port {udp_port})");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "transactions",
        "-i",
        "lo",
        "-f",
        &filter,
        "--json",
        "--linger",
        "0.5",
        "--idle-timeout",
        "1",
    ]);
    let mut run = Running::start(cmd);
    let resp = post_mms(port, &pdu_bytes("h_send_req.mms"));
    assert!(resp.starts_with(b"HTTP/1.1 200 OK"));
    // an m-send-req over connectionless WSP, as a WAP handset sends it
    let wsp = udp_payloads_to(&root().join("captures/wap_wsp_cl.pcapng"), 9200);
    assert_eq!(wsp.len(), 2);
    udp.send_to(&wsp[1], "127.0.0.1:9200").unwrap();
    // both transactions come out while the capture still runs (the clock ticks on a quiet
    // link: nothing is sent after this)
    let lines = run.stdout_until(Duration::from_secs(10), |l| l.len() >= 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(run.child.try_wait().unwrap().is_none(), "still capturing");
    let txs = json_lines(&lines.join("\n"));
    let http = txs
        .iter()
        .find(|t| t["transaction_id"] == "H-SEND-0001")
        .expect("the HTTP send");
    assert_eq!(http["kind"], "send");
    assert_eq!(http["outcome"], "ok", "{http}");
    assert_eq!(http["message_id"], "H-MSG-0001@mmsc.lab");
    let wap = txs
        .iter()
        .find(|t| t["transaction_id"] == "C-SEND-0001")
        .expect("the WSP send");
    // the request alone: no confirmation was sent
    assert_ne!(wap["outcome"], "ok", "{wap}");
    run.interrupt();
    let (status, _, stderr) = run.finish(Duration::from_secs(10));
    assert!(status.success(), "{status:?} {stderr:?}");
    let report = stderr
        .iter()
        .find(|l| l.starts_with("mmscope: lo: "))
        .unwrap_or_else(|| panic!("{stderr:?}"));
    assert!(report.contains("0 dropped by the kernel"), "{report}");
}

#[test]
fn real_traffic_pdus_match_the_written_file() {
    skip_unless!(can_capture());
    let port = mmsc_stub(pdu_bytes("h_send_conf.mms"), 2);
    let tmp = TempDir::new("real-pdus");
    let written = tmp.path("real.pcapng");
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(BIN);
    cmd.args(["pdus", "-i", "lo", "-f", &filter, "--json", "-w"])
        .arg(&written);
    let mut run = Running::start(cmd);
    post_mms(port, &pdu_bytes("h_send_req.mms"));
    post_mms(port, &pdu_bytes("f_send_req.mms"));
    // PDUs are written as they are found
    let lines = run.stdout_until(Duration::from_secs(10), |l| l.len() >= 4);
    assert_eq!(lines.len(), 4, "{lines:?}");
    run.interrupt();
    let (status, rest, stderr) = run.finish(Duration::from_secs(10));
    assert!(status.success(), "{stderr:?}");
    assert_eq!(rest, "");
    let live = json_lines(&lines.join("\n"));
    let tids: Vec<(&str, &str)> = live
        .iter()
        .map(|p| {
            (
                p["message_type"].as_str().unwrap(),
                p["transaction_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tids,
        [
            ("m-send-req", "H-SEND-0001"),
            ("m-send-conf", "H-SEND-0001"),
            ("m-send-req", "F-SEND-0001"),
            ("m-send-conf", "H-SEND-0001"),
        ]
    );
    assert_eq!(live[0]["subject"], "Lab H basic");
    let back = run_json(&["pdus", written.to_str().unwrap(), "--json"]);
    assert_eq!(live, back);
}

#[test]
fn count_limit_stops_after_n_packets() {
    skip_unless!(can_capture());
    let port = mmsc_stub(pdu_bytes("h_send_conf.mms"), 1);
    let tmp = TempDir::new("count");
    let written = tmp.path("count.pcapng");
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(BIN);
    cmd.args(["pdus", "-i", "lo", "-f", &filter, "--count", "3", "-w"])
        .arg(&written);
    let run = Running::start(cmd);
    post_mms(port, &pdu_bytes("h_send_req.mms"));
    let (status, _, stderr) = run.finish(Duration::from_secs(10));
    assert!(status.success(), "{stderr:?}");
    // the three packets of the TCP handshake, nothing more
    let out = Command::new("tshark")
        .args([
            "-r",
            written.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "tcp.flags.str",
        ])
        .env("WIRESHARK_CONFIG_DIR", tmp.path("ws"))
        .output();
    let stats = stderr
        .iter()
        .find(|l| l.contains("written to"))
        .unwrap_or_else(|| panic!("{stderr:?}"));
    assert!(stats.contains("mmscope: 3 packets ("), "{stats}");
    if let Ok(o) = out
        && o.status.success()
    {
        let flags = String::from_utf8_lossy(&o.stdout);
        assert_eq!(flags.lines().count(), 3, "{flags}");
        assert!(flags.lines().next().unwrap().contains('S'), "{flags}");
    }
}

#[test]
fn rotation_keeps_the_last_files_of_the_ring() {
    skip_unless!(can_capture());
    let port = mmsc_stub(pdu_bytes("h_send_conf.mms"), 1);
    let tmp = TempDir::new("rotate");
    let base = tmp.path("rot.pcapng");
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "pdus",
        "-i",
        "lo",
        "-f",
        &filter,
        "--rotate-size",
        "1k",
        "--ring",
        "2",
        "-w",
    ])
    .arg(&base);
    let run = Running::start(cmd);
    post_mms(port, &pdu_bytes("h_send_req.mms"));
    std::thread::sleep(Duration::from_millis(500));
    run.interrupt();
    let (status, out, stderr) = run.finish(Duration::from_secs(10));
    assert!(status.success(), "{stderr:?}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let mut files: Vec<String> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    // a 1 KiB limit makes several files of a ~3 KB exchange; the ring keeps the last two
    assert_eq!(files.len(), 2, "{files:?}");
    let n: Vec<u32> = files
        .iter()
        .map(|f| {
            f.strip_prefix("rot_")
                .and_then(|f| f.strip_suffix(".pcapng"))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(n[0] >= 2 && n[1] == n[0] + 1, "{files:?}");
    let report = stderr
        .iter()
        .find(|l| l.contains("written to"))
        .unwrap_or_else(|| panic!("{stderr:?}"));
    for f in &files {
        assert!(report.contains(f.as_str()), "{report}");
        // each file is a complete capture on its own
        let o = Command::new(BIN)
            .args(["pdus", tmp.path(f).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}
