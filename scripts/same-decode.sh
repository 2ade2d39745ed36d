#!/usr/bin/env bash
# Check that two mmscope binaries print the same `decode --json` for every PDU of the corpus
# (tests/data/pdus and tests/data/public, the broken ones included):
#
#   scripts/same-decode.sh OLD_BINARY NEW_BINARY
#
# The companion of same-output.sh for work on the MMS dissector, whose full trees `pdus` and
# `transactions` do not print.
set -euo pipefail
OLD=$1 NEW=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0 n=0
for f in "$ROOT"/tests/data/pdus/* "$ROOT"/tests/data/public/*; do
    case "$f" in *.md | *.json) continue ;; esac
    n=$((n + 1))
    "$OLD" decode --json "$f" >"$TMP/old" 2>&1 || true
    "$NEW" decode --json "$f" >"$TMP/new" 2>&1 || true
    if ! cmp -s "$TMP/old" "$TMP/new"; then
        echo "DIFFERENT decode $(basename "$f")"
        status=1
    fi
done
[ "$status" = 0 ] && echo "same     decode ($n PDUs)"
exit "$status"
