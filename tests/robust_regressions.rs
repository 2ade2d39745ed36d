//! Every input a fuzzer ever crashed, hung or blew up on (tests/data/regress/<target>/*),
//! replayed through the same harness function the fuzz target calls (fuzz/harness.rs), so
//! they run under plain `cargo test` without cargo-fuzz. Plus each fuzz target once over
//! a few hostile inputs built here, so the harness itself is known to run.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;
use std::time::{Duration, Instant};

/// One input must finish well within this (a fuzz "timeout" is 10 s in release; the debug test
/// build is slower, hence the margin).
const PER_INPUT: Duration = Duration::from_secs(20);

#[test]
fn replay_every_regression_input() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regress");
    let mut replayed = 0;
    for (name, run) in harness::TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let data = std::fs::read(&f).unwrap();
            let t = Instant::now();
            run(&data);
            assert!(
                t.elapsed() < PER_INPUT,
                "{}: took {:?}",
                f.display(),
                t.elapsed()
            );
            replayed += 1;
        }
    }
    // The directory must not silently vanish (a moved path would make this test vacuous).
    assert!(
        root.join("README.md").exists(),
        "tests/data/regress/README.md is missing"
    );
    eprintln!("replayed {replayed} regression inputs");
}

#[test]
fn every_target_runs_on_empty_and_small_inputs() {
    for (name, run) in harness::TARGETS {
        for input in [&b""[..], b"\0", b"\xff\xff\xff\xff", &[0x8c; 64][..]] {
            let t = Instant::now();
            run(input);
            assert!(t.elapsed() < PER_INPUT, "{name} on {input:?}");
        }
    }
}

#[test]
fn every_target_runs_on_its_shipped_seed() {
    // The shipped captures through the whole-capture targets: what a fuzzer starts from must
    // itself pass (else every fuzz run would stop at its first seed).
    let cap =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/wap_mm1_full.pcapng"))
            .unwrap();
    harness::capture(&cap);
    let pdus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pdus");
    for e in std::fs::read_dir(pdus).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "mms") {
            let d = std::fs::read(&p).unwrap();
            harness::mms(&d);
            harness::wsp(&d);
        }
    }
}
