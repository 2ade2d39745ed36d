#!/usr/bin/env bash
# Check that two mmscope binaries print the same `pdus --json` and `transactions --json` for
# every shipped capture and any capture given as an argument (e.g. generated bench files):
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY [CAPTURE...]
#
# Used for performance work, where the output must not change by a byte. Environment reaches
# both binaries the same way (`MMSCOPE_THREADS=1 scripts/same-output.sh …` compares the
# one-thread paths).
set -euo pipefail
OLD=$1 NEW=$2
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0
for f in "$ROOT"/captures/*.pcap "$ROOT"/captures/*.pcapng "$@"; do
    [ -e "$f" ] || continue
    for cmd in pdus transactions; do
        "$OLD" "$cmd" --json "$f" >"$TMP/old" 2>"$TMP/old.err" || true
        "$NEW" "$cmd" --json "$f" >"$TMP/new" 2>"$TMP/new.err" || true
        if cmp -s "$TMP/old" "$TMP/new" && cmp -s "$TMP/old.err" "$TMP/new.err"; then
            echo "same     $cmd $(basename "$f")"
        else
            echo "DIFFERS  $cmd $(basename "$f")"
            diff <(head -c 2000000 "$TMP/old") <(head -c 2000000 "$TMP/new") | head -5
            diff "$TMP/old.err" "$TMP/new.err" | head -5
            status=1
        fi
    done
done
exit $status
