#!/usr/bin/env bash
# Compare mmscope with tshark on captures: the MMS PDUs each finds (frame, message type,
# transaction id, message id), as `tshark -T fields` prints them.
#
#   scripts/compare-tshark.sh [CAPTURE...]      (default: every capture in captures/)
#
# For each capture it runs tshark twice — with its default preferences, and with the
# preferences tshark needs to see everything (see docs/TSHARK.md) — and
# `mmscope pdus --fields --retransmissions` once (mmscope needs no switches), and prints one
# line per capture: "agree" or the diff. Exit status: 0 when mmscope agrees with tshark-with-
# preferences on every capture, 1 otherwise. Needs tshark; builds mmscope if MMSCOPE is unset.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tshark >/dev/null || { echo "tshark is not installed (apt-get install tshark)" >&2; exit 2; }
if [ -z "${MMSCOPE:-}" ]; then
  cargo build --release --quiet --bin mmscope
  MMSCOPE=target/release/mmscope
fi
export TZ=UTC
WIRESHARK_CONFIG_DIR=$(mktemp -d)
export WIRESHARK_CONFIG_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$WIRESHARK_CONFIG_DIR"' EXIT

fields=(-T fields -e frame.number -e mmse.message_type -e mmse.transaction_id -e mmse.message_id)
prefs=(-o tcp.reassemble_out_of_order:TRUE -o mime_multipart.remove_base64_encoding:TRUE)

[ $# -gt 0 ] || set -- captures/*.pcap captures/*.pcapng
status=0
printf '%-34s %-26s %s\n' capture "tshark (defaults)" "tshark (with preferences)"
for f in "$@"; do
  name=$(basename "$f")
  # tshark prints one line per frame; a frame that completes two PDUs lists both values
  # comma-separated. Split them so both tools print one line per PDU.
  split() { awk -F'\t' '{ n=split($2,t,","); split($3,a,","); split($4,m,",");
                          for (i=1;i<=n;i++) printf "%s\t%s\t%s\t%s\n", $1, t[i], a[i], m[i] }'; }
  tshark -n -r "$f" -Y mmse "${fields[@]}" 2>/dev/null | split > "$tmp/default"
  tshark -n -2 "${prefs[@]}" -r "$f" -Y mmse "${fields[@]}" 2>/dev/null | split > "$tmp/prefs"
  "$MMSCOPE" pdus --fields --retransmissions "$f" > "$tmp/mmscope"
  verdict() {
    if diff -q "$1" "$tmp/mmscope" >/dev/null; then echo agree
    else echo "differ ($(diff "$1" "$tmp/mmscope" | grep -c '^[<>]') lines)"; fi
  }
  d=$(verdict "$tmp/default"); p=$(verdict "$tmp/prefs")
  printf '%-34s %-26s %s\n' "$name" "$d" "$p"
  if [ "$p" != agree ]; then
    status=1
    diff "$tmp/prefs" "$tmp/mmscope" | sed 's/^/    /' || true
  fi
  if [ "$d" != agree ] && [ -n "${VERBOSE:-}" ]; then
    echo "    tshark with default preferences (<) vs mmscope (>):"
    diff "$tmp/default" "$tmp/mmscope" | sed 's/^/    /' || true
  fi
done
exit $status
