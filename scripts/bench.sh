#!/usr/bin/env bash
# Benchmark mmscope against `cat` and tshark on a generated capture.
#
#   scripts/bench.sh [SIZE]            e.g. scripts/bench.sh 1G   (default 1G)
#
# Environment:
#   MODE=mixed|mms      traffic of the generated capture (default mixed: MMS ≈ 2 % of bytes)
#   SEED=42             generator seed
#   TSHARK_SIZE=200M    run tshark on a separate, smaller capture of this size (same mode and
#                       seed) and compare by throughput (MB/s) only; the table says so.
#                       Default: tshark reads the same file as everything else.
#   SKIP_TSHARK=1       do not run tshark at all
#   RUNS=1              repetitions of each measurement (the best wall time is kept)
#   PROFILE=release     cargo profile of the measured binaries (dist = release + fat LTO and
#                       one codegen unit, see Cargo.toml; pgo = dist built with profile-guided
#                       optimization by scripts/pgo-build.sh)
#   ONE_THREAD=1        also measure `MMSCOPE_THREADS=1 mmscope pdus|transactions` (the pipeline on
#                       one thread; the default uses three threads on two or more cores)
#   BASELINE=PATH       also measure another mmscope binary (e.g. one built from an older commit)
#                       with `pdus --json`, for a before/after comparison in the same run
#   SKIP_TUI=1          do not measure the TUI (mmscope-bench tui: first screen, tree decode,
#                       peak RSS)
#
# Generates target/bench/MODE-SIZE.pcap if absent (with OUT.truth.json next to it), warms the
# page cache, then measures, one after the other: cat F >/dev/null, tshark -Y mmse …,
# mmscope pdus --json F >/dev/null, mmscope transactions --json F >/dev/null (release build),
# each with wall time, MB/s, packets/s and peak RSS (GNU time), and prints a Markdown table
# with the ratios to tshark and to cat. mmscope rows that fail say so (with its error) and get
# no numbers.
set -euo pipefail

SIZE=${1:-1G}
MODE=${MODE:-mixed}
SEED=${SEED:-42}
RUNS=${RUNS:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
export TZ=UTC
export WIRESHARK_CONFIG_DIR
WIRESHARK_CONFIG_DIR=$(mktemp -d)
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
    echo "bench.sh: GNU time is needed (apt-get install time)" >&2
    exit 2
fi

cd "$ROOT"
PROFILE=${PROFILE:-release}
echo "== building ($PROFILE)" >&2
if [ "$PROFILE" = pgo ]; then
    # dist + profile-guided optimization (scripts/pgo-build.sh); the generator is not measured.
    "$ROOT/scripts/pgo-build.sh" >/dev/null
    cargo build --release --bin mmscope-gen >&2
    GEN="$ROOT/target/release/mmscope-gen"
    MMSCOPE="$ROOT/target/pgo/dist/mmscope"
    BENCH="$ROOT/target/pgo/dist/mmscope-bench"
else
    cargo build --profile "$PROFILE" --bin mmscope --bin mmscope-gen --bin mmscope-bench >&2
    GEN="$ROOT/target/$PROFILE/mmscope-gen"
    MMSCOPE="$ROOT/target/$PROFILE/mmscope"
    BENCH="$ROOT/target/$PROFILE/mmscope-bench"
fi

# gen FILE SIZE: generate FILE unless it exists; prints the generator's speed line.
gen() {
    local file=$1 size=$2
    if [ ! -s "$file" ] || [ ! -s "$file.truth.json" ]; then
        echo "== generating $file ($size, mode $MODE, seed $SEED)" >&2
        "$TIME" -f '%e %M' -o "$file.gen.time" \
            "$GEN" --size "$size" --mode "$MODE" --seed "$SEED" -o "$file" >/dev/null 2>"$file.gen.log"
        cat "$file.gen.log" >&2
    fi
}

json_field() { # json_field FILE KEY  (top-level integer)
    sed -n "s/^  \"$2\": \([0-9.]*\),\{0,1\}$/\1/p" "$1"
}

F="$OUT/$MODE-$SIZE.pcap"
gen "$F" "$SIZE"
BYTES=$(stat -c %s "$F")
PACKETS=$(json_field "$F.truth.json" packets)
PDUS=$(json_field "$F.truth.json" pdus)
TRANSACTIONS=$(json_field "$F.truth.json" transactions)

TF="$F"
if [ -n "${TSHARK_SIZE:-}" ]; then
    TF="$OUT/$MODE-$TSHARK_SIZE.pcap"
    gen "$TF" "$TSHARK_SIZE"
fi
TBYTES=$(stat -c %s "$TF")
TPACKETS=$(json_field "$TF.truth.json" packets)

echo "== warming the page cache" >&2
cat "$F" >/dev/null
cat "$F" >/dev/null
[ "$TF" != "$F" ] && cat "$TF" >/dev/null

ROWS=()
CAT_MBS=""
TSHARK_MBS=""

# measure NAME FILE BYTES PACKETS STDOUT CMD...: runs CMD (its stdout to STDOUT) RUNS times, keeps
# the best wall time (and the peak RSS of that run); prints nothing, appends "name|file|wall|mbs|pps|rss|status" to ROWS.
measure() {
    local name=$1 file=$2 bytes=$3 packets=$4 stdout=$5
    shift 5
    local best="" rss="" status="ok" i runs=$RUNS
    # cat takes well under a second: keep the best of at least 3.
    [ "$1" = cat ] && [ "$runs" -lt 3 ] && runs=3
    for ((i = 0; i < runs; i++)); do
        echo "== $name: $*" >&2
        local t0 t1 wall kb
        t0=$(date +%s%N)
        if "$TIME" -f '%M' -o "$OUT/time.out" "$@" >"$stdout" 2>"$OUT/stderr.out"; then
            t1=$(date +%s%N)
            # GNU time's %e has 10 ms resolution: take the wall time ourselves.
            wall=$(awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / 1e9}")
            read -r kb <"$OUT/time.out"
            if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then
                best=$wall
                rss=$kb
            fi
        else
            status="failed (exit $?): $(tail -n 1 "$OUT/stderr.out" | tr '|' '/' | cut -c1-120)"
            break
        fi
    done
    if [ "$status" = ok ]; then
        local mbs pps
        mbs=$(awk "BEGIN{printf \"%.1f\", $bytes / 1e6 / ($best > 0 ? $best : 0.001)}")
        pps=$(awk "BEGIN{printf \"%.0f\", $packets / ($best > 0 ? $best : 0.001)}")
        ROWS+=("$name|$(basename "$file")|$best|$mbs|$pps|$(awk "BEGIN{printf \"%.1f\", $rss / 1024}")|ok")
    else
        ROWS+=("$name|$(basename "$file")|-|-|-|-|$status")
    fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
measure "cat F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null cat "$F"
CHECKS=()
if [ -z "${SKIP_TSHARK:-}" ]; then
    # Exactly the reference command (single pass, default preferences).
    measure "tshark -r F -Y mmse -T fields -e …" "$TF" "$TBYTES" "$TPACKETS" "$OUT/tshark.out" \
        tshark -r "$TF" -Y mmse -T fields \
        -e mmse.message_type -e mmse.transaction_id -e mmse.message_id
    if [ -f "$OUT/tshark.out" ] && [[ ${ROWS[-1]} == *"|ok" ]]; then
        CHECKS+=("tshark: $(wc -l <"$OUT/tshark.out") PDUs found, generator wrote $(json_field "$TF.truth.json" pdus)")
    fi
    rm -f "$OUT/tshark.out"
fi
measure "mmscope pdus --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null "$MMSCOPE" pdus --json "$F"
measure "mmscope transactions --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null "$MMSCOPE" transactions --json "$F"
if [ -n "${BASELINE:-}" ]; then
    measure "baseline mmscope pdus --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null "$BASELINE" pdus --json "$F"
    measure "baseline mmscope transactions --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null "$BASELINE" transactions --json "$F"
fi
if [ -n "${ONE_THREAD:-}" ]; then
    measure "MMSCOPE_THREADS=1 mmscope pdus --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null \
        env MMSCOPE_THREADS=1 "$MMSCOPE" pdus --json "$F"
    measure "MMSCOPE_THREADS=1 mmscope transactions --json F >/dev/null" "$F" "$BYTES" "$PACKETS" /dev/null \
        env MMSCOPE_THREADS=1 "$MMSCOPE" transactions --json "$F"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Completeness: does mmscope find every PDU and transaction the generator wrote? (Counts the
# "message_type" keys of `pdus --json` and the "kind" keys of `transactions --json`.)
if "$MMSCOPE" pdus --json "$F" >"$OUT/pdus.json" 2>/dev/null; then
    CHECKS+=("mmscope pdus: $(grep -o '"message_type"' "$OUT/pdus.json" | wc -l) PDUs found, generator wrote $PDUS")
fi
if "$MMSCOPE" transactions --json "$F" >"$OUT/transactions.json" 2>/dev/null; then
    CHECKS+=("mmscope transactions: $(grep -o '"kind"' "$OUT/transactions.json" | wc -l) found, generator wrote $TRANSACTIONS")
fi
rm -f "$OUT/pdus.json" "$OUT/transactions.json"

TUI=""
if [ -z "${SKIP_TUI:-}" ]; then
    echo "== mmscope-bench tui $F" >&2
    TUI=$("$BENCH" tui "$F" 300 2>&1 | grep -v '^file:' || echo "mmscope-bench tui failed")
fi

for r in "${ROWS[@]}"; do
    IFS='|' read -r name _ _ mbs _ _ status <<<"$r"
    [ "$status" = ok ] || continue
    case $name in
        cat*) CAT_MBS=$mbs ;;
        tshark*) TSHARK_MBS=$mbs ;;
    esac
done

ratio() { # ratio A B → A/B or -
    if [ -n "$1" ] && [ -n "$2" ] && [ "$1" != - ]; then
        awk "BEGIN{printf \"%.2f×\", $1 / $2}"
    else
        echo "-"
    fi
}

{
    echo "Machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/{print $2}') GiB RAM, $(uname -sr); load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
    echo "mmscope: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), cargo profile $PROFILE"
    echo "Capture: $(basename "$F"), $(awk "BEGIN{printf \"%.1f\", $BYTES/1e6}") MB, $PACKETS packets, $PDUS MMS PDUs, $TRANSACTIONS transactions (mmscope-gen --size $SIZE --mode $MODE --seed $SEED)"
    if [ "$TF" != "$F" ]; then
        echo "tshark ran on $(basename "$TF") ($(awk "BEGIN{printf \"%.1f\", $TBYTES/1e6}") MB, $TPACKETS packets) instead: its row and the ratios to it compare throughput (MB/s) only."
    fi
    if [ -s "$F.gen.time" ]; then
        read -r gwall gkb <"$F.gen.time"
        echo "Generator: $(awk "BEGIN{printf \"%.1f\", $BYTES/1e6}") MB in ${gwall} s = $(awk "BEGIN{printf \"%.1f\", $BYTES/1e6/$gwall}") MB/s, peak RSS $(awk "BEGIN{printf \"%.1f\", $gkb/1024}") MB"
    fi
    echo
    echo "| command | file | wall s | MB/s | packets/s | peak RSS MB | throughput vs tshark | throughput vs cat |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for r in "${ROWS[@]}"; do
        IFS='|' read -r name file wall mbs pps rss status <<<"$r"
        if [ "$status" = ok ]; then
            echo "| \`$name\` | $file | $wall | $mbs | $pps | $rss | $(ratio "$mbs" "$TSHARK_MBS") | $(ratio "$mbs" "$CAT_MBS") |"
        else
            echo "| \`$name\` | $file | - | - | - | - | $status | |"
        fi
    done
    for c in "${CHECKS[@]}"; do
        echo
        echo "$c"
    done
    if [ -n "$TUI" ]; then
        echo
        echo "TUI (mmscope-bench tui F: loader + run_loop on a 120×40 test terminal):"
        echo
        echo "$TUI" | sed 's/^/    /'
    fi
} | tee "$OUT/results-$MODE-$SIZE.md"
