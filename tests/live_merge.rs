//! Live capture on several interfaces at once (merged in time order into one pipeline), and
//! the default capture filter keeping IP fragments and VLAN-tagged traffic. Inside a network
//! namespace made for each test (deleted even on failure); skipped without root, iproute2 or
//! tcpreplay.

mod live_support;

use live_support::*;
use mmscope::capture::writer::{PacketWriter, PcapngWriter, linktype};
use mmscope::model::Timestamp;
use std::collections::BTreeSet;
use std::time::Duration;

fn file_pdus(capture: &str) -> Vec<serde_json::Value> {
    run_json(&[
        "pdus",
        root().join("captures").join(capture).to_str().unwrap(),
        "--json",
    ])
}

fn key(p: &serde_json::Value) -> String {
    format!(
        "{} {} {} {} -> {}",
        p["transport"], p["message_type"], p["transaction_id"], p["src"], p["dst"]
    )
}

#[test]
fn two_interfaces_merge_into_one_time_ordered_stream() {
    skip_unless!(can_replay_in_netns());
    let ns = NetNs::create("merge").unwrap();
    let out = ns.exec(
        "ip",
        &[
            "link", "add", "mmva", "type", "veth", "peer", "name", "mmvb",
        ],
    );
    if !out.status.success() {
        eprintln!(
            "SKIPPED: no veth pairs here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    for dev in ["mmva", "mmvb"] {
        assert!(ns.exec("ip", &["link", "set", dev, "up"]).status.success());
    }
    let tmp = TempDir::new("merge");
    let written = tmp.path("merged.pcapng");
    let mut cmd = ns.command(BIN);
    cmd.args([
        "pdus",
        "-i",
        "lo",
        "-i",
        "mmvb",
        "--json",
        "--duration",
        "5",
        "-w",
    ])
    .arg(&written);
    let run = Running::start(cmd);
    // both at once, so that their packets interleave
    let http = root().join("captures/http_mm1_basic.pcapng");
    let wsp = root().join("captures/wap_wsp_cl.pcapng");
    let mut a = ns.command("tcpreplay");
    a.args(["--intf1=lo", "--mbps=1", http.to_str().unwrap()]);
    let mut b = ns.command("tcpreplay");
    b.args(["--intf1=mmva", "--mbps=1", wsp.to_str().unwrap()]);
    let (mut a, mut b) = (
        a.stdout(std::process::Stdio::null()).spawn().unwrap(),
        b.stdout(std::process::Stdio::null()).spawn().unwrap(),
    );
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let (status, stdout, stderr) = run.finish(Duration::from_secs(20));
    assert!(status.success(), "{stderr:?}");
    for iface in ["lo", "mmvb"] {
        assert!(
            stderr
                .iter()
                .any(|l| l.starts_with(&format!("mmscope: {iface}: "))),
            "{stderr:?}"
        );
    }
    let live = json_lines(&stdout);
    // every PDU of both captures, once
    let expected: BTreeSet<String> = file_pdus("http_mm1_basic.pcapng")
        .iter()
        .chain(&file_pdus("wap_wsp_cl.pcapng"))
        .map(key)
        .collect();
    let got: Vec<String> = live.iter().map(key).collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), expected);
    // the merged stream is in time order, and numbered as the -w file holds it
    let times: Vec<f64> = live.iter().map(|p| p["time"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let back = run_json(&["pdus", written.to_str().unwrap(), "--json"]);
    assert_eq!(live, back);
}

fn checksum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet (optionally 802.1Q-tagged) IPv4 fragments of a UDP datagram 127.0.0.1:sport ->
/// 127.0.0.1:9200, each carrying at most `chunk` bytes of the UDP datagram.
fn udp_frames(
    payload: &[u8],
    sport: u16,
    id: u16,
    chunk: usize,
    vlan: Option<u16>,
) -> Vec<Vec<u8>> {
    let mut udp = Vec::new();
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&9200u16.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    udp.extend_from_slice(payload);
    let pieces: Vec<&[u8]> = udp.chunks(chunk).collect();
    let mut frames = Vec::new();
    let mut offset = 0usize;
    for (k, piece) in pieces.iter().enumerate() {
        let more = k + 1 < pieces.len();
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&((20 + piece.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&id.to_be_bytes());
        let frag = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
        ip.extend_from_slice(&frag.to_be_bytes());
        ip.extend_from_slice(&[64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        let c = checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        ip.extend_from_slice(piece);
        let mut eth = vec![0u8; 12];
        if let Some(tag) = vlan {
            eth.extend_from_slice(&[0x81, 0x00]);
            eth.extend_from_slice(&tag.to_be_bytes());
        }
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip);
        frames.push(eth);
        offset += piece.len();
    }
    frames
}

#[test]
fn default_filter_keeps_fragments_and_vlan_tags() {
    skip_unless!(can_replay_in_netns());
    // the m-send-req a WAP handset sent over connectionless WSP
    let wsp = udp_payloads_to(&root().join("captures/wap_wsp_cl.pcapng"), 9200);
    let send_req = &wsp[1];
    assert!(send_req.len() > 400, "{}", send_req.len());
    // 1: in IPv4 fragments of 200 bytes (only the first has the UDP header);
    // 2: in one frame behind an 802.1Q tag; 3: fragments behind the tag
    let mut frames = udp_frames(send_req, 40001, 1, 200, None);
    frames.extend(udp_frames(send_req, 40002, 2, 4000, Some(100)));
    frames.extend(udp_frames(send_req, 40003, 3, 200, Some(100)));
    let tmp = TempDir::new("frag");
    let crafted = tmp.path("crafted.pcapng");
    let mut w = PcapngWriter::new(
        std::fs::File::create(&crafted).unwrap(),
        linktype::ETHERNET,
        65535,
        "mmscope test",
    )
    .unwrap();
    for (k, f) in frames.iter().enumerate() {
        let t = Timestamp {
            secs: 1_800_000_000,
            nanos: k as u32 * 1000,
        };
        w.write_packet(t, f, f.len() as u32).unwrap();
    }
    drop(w.into_inner().unwrap());
    // what the file itself gives: three m-send-req
    let from_file = run_json(&[
        "pdus",
        crafted.to_str().unwrap(),
        "--json",
        "--retransmissions",
    ]);
    assert_eq!(from_file.len(), 3, "{from_file:#?}");

    let ns = NetNs::create("frag").unwrap();
    let mut cmd = ns.command(BIN);
    cmd.args([
        "pdus",
        "-i",
        "lo",
        "--json",
        "--retransmissions",
        "--duration",
        "3",
    ]);
    let run = Running::start(cmd);
    let out = ns.exec("tcpreplay", &["--intf1=lo", crafted.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, stdout, stderr) = run.finish(Duration::from_secs(20));
    assert!(status.success(), "{stderr:?}");
    let live = json_lines(&stdout);
    let srcs: Vec<&str> = live.iter().map(|p| p["src"].as_str().unwrap()).collect();
    assert_eq!(
        srcs,
        ["127.0.0.1:40001", "127.0.0.1:40002", "127.0.0.1:40003"],
        "{stderr:?}"
    );
    for p in &live {
        assert_eq!(p["message_type"], "m-send-req");
        assert_eq!(p["transaction_id"], "C-SEND-0001");
        assert_eq!(p["subject"], "Lab C post");
    }
    // the same frames as in the file: nothing was filtered away
    let strip = |v: &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        v.iter()
            .map(|p| without_times(p.clone(), &["time"]))
            .collect()
    };
    assert_eq!(strip(&live), strip(&from_file));
}
