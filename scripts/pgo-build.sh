#!/usr/bin/env bash
# Build mmscope with profile-guided optimization (PGO): the `dist` profile (fat LTO, one codegen
# unit), optimized with a profile of the batch commands on training captures.
#
#   scripts/pgo-build.sh          → target/pgo/dist/mmscope and target/pgo/dist/mmscope-bench
#
# Steps (each in its own target directory, so the ordinary builds stay as they are):
#   1. build mmscope instrumented (-Cprofile-generate) in target/pgo-gen;
#   2. generate two 64 MB training captures with mmscope-gen, seed 7 (MMS-only and mixed: a
#      different seed from the benchmark's 42, so the profile is not the benchmark's own file),
#      and run `pdus --json` and `transactions --json` of the instrumented build on them and on
#      every capture in captures/ (the real lab traffic: WSP/WTP, broken PDUs, pcapng);
#   3. merge the raw profiles with llvm-profdata (from rustup's llvm-tools component, which
#      matches rustc's LLVM; installed here when missing);
#   4. build again with -Cprofile-use in target/pgo.
# The output of a PGO build is the same as of any other build (only code layout and inlining
# change): scripts/same-output.sh checks it. docs/PERFORMANCE.md says what it gains.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HOST=$(rustc -vV | sed -n 's/^host: //p')
PROFDATA="$(rustc --print sysroot)/lib/rustlib/$HOST/bin/llvm-profdata"
if [ ! -x "$PROFDATA" ]; then
    echo "== llvm-profdata missing: rustup component add llvm-tools" >&2
    rustup component add llvm-tools >&2 || rustup component add llvm-tools-preview >&2
fi
if [ ! -x "$PROFDATA" ]; then
    echo "pgo-build.sh: no llvm-profdata at $PROFDATA (rustup component add llvm-tools)" >&2
    exit 2
fi

PGO="$ROOT/target/pgo"
RAW="$PGO/raw"
TRAIN="$PGO/train"
rm -rf "$RAW"
mkdir -p "$RAW" "$TRAIN"

echo "== pgo: instrumented build" >&2
CARGO_TARGET_DIR="$ROOT/target/pgo-gen" RUSTFLAGS="-Cprofile-generate=$RAW" \
    cargo build --profile dist --bin mmscope >&2
cargo build --release --bin mmscope-gen >&2

for mode in mms mixed; do
    f="$TRAIN/$mode-64M.pcap"
    if [ ! -s "$f" ]; then
        echo "== pgo: generating $f" >&2
        "$ROOT/target/release/mmscope-gen" --size 64M --mode "$mode" --seed 7 -o "$f" >/dev/null
    fi
done

echo "== pgo: training runs" >&2
for f in "$TRAIN"/*.pcap "$ROOT"/captures/*.pcap "$ROOT"/captures/*.pcapng; do
    [ -e "$f" ] || continue
    for cmd in pdus transactions; do
        # Some lab captures hold deliberately broken traffic: a non-zero exit is fine here.
        "$ROOT/target/pgo-gen/dist/mmscope" "$cmd" --json "$f" >/dev/null 2>&1 || true
    done
done
"$PROFDATA" merge -o "$PGO/mmscope.profdata" "$RAW"/*.profraw

echo "== pgo: optimized build" >&2
CARGO_TARGET_DIR="$PGO" RUSTFLAGS="-Cprofile-use=$PGO/mmscope.profdata" \
    cargo build --profile dist --bin mmscope --bin mmscope-bench >&2
echo "$PGO/dist/mmscope"
