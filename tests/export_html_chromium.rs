//! The HTML export opened in headless Chromium: the ladder (SVG arrows and labels) and the
//! transaction table must be in the rendered DOM, and hostile strings must stay text.
//!
//! Needs `chromium` (Debian package `chromium`; or set MMSCOPE_CHROMIUM to a browser binary).
//! Without it the test prints why and passes.

#[path = "correlate_support.rs"]
mod support;

use mmscope::correlate;
use mmscope::export::{Format, Timeline};
use mmscope::model::Transport;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MMSCOPE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let c = dir.join(name);
            if c.is_file() {
                return Some(c);
            }
        }
    }
    None
}

fn unique_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mmscope-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Chromium's serialized DOM of `html` after loading it.
fn dump_dom(chromium: &PathBuf, html: &str) -> String {
    let dir = unique_dir("html");
    let page = dir.join("timeline.html");
    std::fs::write(&page, html).unwrap();
    let profile = dir.join("profile");
    let out_path = dir.join("dom.html");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = std::fs::read_to_string(&out_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    dom
}

#[test]
fn html_ladder_is_drawn_in_chromium() {
    let Some(chromium) = find_chromium() else {
        println!(
            "SKIPPED: no chromium in PATH (apt-get install -y chromium, or set MMSCOPE_CHROMIUM)"
        );
        return;
    };
    let mut pdus = wap_mm1_full(false);
    // A hostile subject on one more PDU: it must stay text.
    let mut evil = pdu(
        50,
        20.0,
        "10.0.0.1:1000",
        "10.0.0.9:80",
        Transport::Http,
        "m-send-req",
    )
    .tid("<script>document.title='pwned'</script>")
    .subject("\"><img src=x onerror=alert(1)>");
    evil.index = pdus.len();
    pdus.push(evil);
    let txs = correlate::correlate(&pdus);
    assert_eq!(txs.len(), 4);
    let t = Timeline {
        source: "wap_mm1_full.pcapng <&>",
        transactions: &txs,
        pdus: &pdus,
    };
    let mut html = Vec::new();
    t.write(Format::Html, &mut html).unwrap();
    let html = String::from_utf8(html).unwrap();
    for external in ["<link", "<script", "<img", " href=", "@import", "url(http"] {
        assert!(!html.contains(external), "{external} in the page");
    }

    if let Ok(keep) = std::env::var("MMSCOPE_KEEP_HTML") {
        std::fs::write(keep, &html).unwrap();
    }
    let dom = dump_dom(&chromium, &html);
    assert!(dom.contains("<svg"), "no SVG in the DOM:\n{dom}");
    assert_eq!(
        dom.matches("class=\"arrow\"").count(),
        12,
        "one arrow per PDU"
    );
    assert_eq!(
        dom.matches("<g class=\"host\"").count(),
        12,
        "one column per endpoint"
    );
    for frame in [4, 5, 8, 10, 11, 17, 21, 32, 34, 40, 41, 50] {
        assert!(
            dom.contains(&format!("data-frame=\"{frame}\"")),
            "frame {frame}"
        );
    }
    assert!(
        dom.contains(">m-send-req F-SEND-0001</text>"),
        "label of frame 4"
    );
    assert!(dom.contains(">m-retrieve-conf F-MSG-0001@mmsc.lab</text>"));
    assert!(dom.contains(">m-send-conf F-SEND-0001 (retransmission)</text>"));
    assert!(
        dom.contains(">127.0.0.1:2948</text>"),
        "push receiver column"
    );
    assert!(
        dom.contains("class=\"pdu retransmission\"")
            || dom.contains("class=\"pdu response retransmission\"")
    );
    // The transaction table: header + 4 rows.
    let table = &dom
        [dom.find("id=\"transactions\"").expect("table")..dom.find("id=\"pdus\"").expect("pdus")];
    assert_eq!(table.matches("<tr>").count(), 5);
    // The PDU table: header + 12 rows, the retransmission said so.
    let pdu_table = &dom[dom.find("id=\"pdus\"").expect("pdu table")..];
    assert_eq!(pdu_table.matches("<tr>").count(), 13);
    assert!(pdu_table.contains("<td>retransmission of record 3</td>"));
    // Hostile strings stayed text: no script or img element was created.
    assert!(!dom.contains("<script"), "script element in the DOM");
    assert!(!dom.contains("<img"), "img element in the DOM");
    assert!(dom.contains("&lt;script&gt;document.title="));
    assert!(dom.contains("<title>mmscope timeline: wap_mm1_full.pcapng &lt;&amp;&gt;</title>"));
}
