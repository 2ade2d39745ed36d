//! Shared helpers of the live-capture tests: privilege checks (a test that cannot capture is
//! skipped with its reason printed), a network namespace that is deleted even when the test
//! fails, running the binary, and a tiny MMS client/server pair on loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mmscope");

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `Err(reason)` when this process may not capture on loopback.
pub fn can_capture() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root (live capture needs root or CAP_NET_RAW; CI runs as root)".into());
    }
    Ok(())
}

/// `Err(reason)` when namespaces or tcpreplay are missing.
pub fn can_replay_in_netns() -> Result<(), String> {
    can_capture()?;
    if !have("ip", "-V") {
        return Err("iproute2 (`ip`) is not installed".into());
    }
    if !have("tcpreplay", "-V") {
        return Err("tcpreplay is not installed".into());
    }
    // Probe that namespaces can be created here (not in every container).
    let probe = NetNs::create("probe").map_err(|e| format!("`ip netns add` fails: {e}"))?;
    drop(probe);
    Ok(())
}

/// Print why a test is skipped and return from it.
#[macro_export]
macro_rules! skip_unless {
    ($check:expr) => {
        if let Err(reason) = $check {
            eprintln!("SKIPPED: {reason}");
            return;
        }
    };
}

/// A network namespace with only its loopback up; deleted when dropped (panics included).
pub struct NetNs(pub String);

impl NetNs {
    pub fn create(tag: &str) -> Result<NetNs, String> {
        let name = format!("mmscope-{tag}-{}", std::process::id());
        // A leftover of an earlier, killed run would make `add` fail.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        let ns = NetNs(name);
        let out = ns.exec("ip", &["link", "set", "lo", "up"]);
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(ns)
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }

    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .expect("run ip netns exec")
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// A temporary folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("mmscope-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running mmscope whose stderr has said that the capture started.
pub struct Running {
    pub child: Child,
    stdout_lines: std::sync::mpsc::Receiver<String>,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    pub stderr_seen: Vec<String>,
}

impl Running {
    /// Spawn `cmd` (stdout piped) and wait until it says "capturing on" on stderr.
    pub fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mmscope");
        let stderr_lines = lines_of(child.stderr.take().unwrap());
        let stdout_lines = lines_of(child.stdout.take().unwrap());
        let mut r = Running {
            child,
            stdout_lines,
            stderr_lines,
            stderr_seen: Vec::new(),
        };
        r.wait_stderr("capturing on", Duration::from_secs(10));
        r
    }

    /// Wait for a stderr line containing `what`.
    pub fn wait_stderr(&mut self, what: &str, limit: Duration) -> String {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(l) = self.stderr_lines.recv_timeout(Duration::from_millis(100)) {
                self.stderr_seen.push(l.clone());
                if l.contains(what) {
                    return l;
                }
            }
        }
        panic!(
            "no {what:?} on stderr within {limit:?}; saw {:?}",
            self.stderr_seen
        );
    }

    /// Ctrl-C.
    pub fn interrupt(&self) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
    }

    /// Wait for the end (at most `limit`), returning exit status, stdout and all stderr lines.
    pub fn finish(mut self, limit: Duration) -> (std::process::ExitStatus, String, Vec<String>) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("mmscope did not stop within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = String::new();
        while let Ok(l) = self.stdout_lines.recv_timeout(Duration::from_millis(300)) {
            out.push_str(&l);
            out.push('\n');
        }
        while let Ok(l) = self.stderr_lines.recv_timeout(Duration::from_millis(300)) {
            self.stderr_seen.push(l);
        }
        (status, out, self.stderr_seen)
    }

    /// Read stdout lines as they come, until `pred` holds for the lines so far or `limit`.
    pub fn stdout_until(
        &mut self,
        limit: Duration,
        pred: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let rx = &self.stdout_lines;
        let start = Instant::now();
        let mut lines = Vec::new();
        while !pred(&lines) && start.elapsed() < limit {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
                lines.push(l);
            }
        }
        lines
    }
}

/// The lines of a child's pipe, read on a thread.
fn lines_of(pipe: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `mmscope ARGS` on a file, stdout as JSON Lines.
pub fn run_json(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

/// Drop the keys whose values depend on when the packets were captured.
pub fn without_times(mut v: serde_json::Value, keys: &[&str]) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    v
}

pub fn pdu_bytes(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/data/pdus").join(name)).unwrap()
}

/// An MMSC stub on 127.0.0.1 (a free port): answers each POST with `reply` as
/// application/vnd.wap.mms-message. Returns its port; serves `n` connections on a thread.
pub fn mmsc_stub(reply: Vec<u8>, n: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = read_request(&mut s);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&reply);
        }
    });
    port
}

/// Read one request with a Content-Length body.
fn read_request(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
    }
}

/// POST `body` as an MMS PDU to the stub, as a handset does; returns the response.
pub fn post_mms(port: u16, body: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /mmsc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    resp
}

/// The UDP payloads sent to `port` in a shipped capture (decoded with mmscope's own reader).
pub fn udp_payloads_to(capture: &Path, port: u16) -> Vec<Vec<u8>> {
    use mmscope::capture::{FileReader, PacketSource};
    use mmscope::net::{Decoder, Event};
    let mut reader = FileReader::open(capture).unwrap();
    let mut dec = Decoder::default();
    let mut events = Vec::new();
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        dec.decode_packet_owned(&p.unwrap(), &mut events);
        for e in events.drain(..) {
            if let Event::Udp(u) = e
                && u.dst.port() == port
            {
                out.push(u.payload.to_vec());
            }
        }
    }
    out
}

/// A UDP socket on 127.0.0.1 (a free port) that sends to `dst_port`.
pub fn udp_sender() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}
