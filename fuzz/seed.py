#!/usr/bin/env python3
"""Build the seed corpus of every fuzz target from the shipped data.

    python3 fuzz/seed.py            # writes fuzz/corpus/<target>/seed-*

Each seed is in the input format the target's harness function documents (fuzz/harness.rs):
the captures under captures/ are cut into frames, their TCP payloads turned into segment
scripts, their UDP payloads into datagram lists; the PDUs under tests/data/ seed the MMS,
WSP and multipart targets; the examples of docs/FILTERS.md seed the filter target.
"""
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
# The harness's link type table (fuzz/harness.rs LINK_TYPES), by position.
LINK_SELECT = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4, 108: 5, 228: 6, 229: 7, 12: 8, 14: 9}
MAX_SEED = 64 * 1024


def frames(path):
    """(link type, bytes) of every packet of a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        link = struct.unpack_from("<I", data, 20)[0]
        pos = 24
        while pos + 16 <= len(data):
            incl = struct.unpack_from("<I", data, pos + 8)[0]
            yield link, data[pos + 16 : pos + 16 + incl]
            pos += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        pos, links = 0, []
        while pos + 12 <= len(data):
            btype, blen = struct.unpack_from("<II", data, pos)
            if btype == 1:
                links.append(struct.unpack_from("<H", data, pos + 8)[0])
            elif btype == 0x0A0D0D0A:
                links = []
            elif btype == 6:
                iface, _, _, cap = struct.unpack_from("<IIII", data, pos + 8)
                yield links[iface], data[pos + 28 : pos + 28 + cap]
            pos += blen


def l3(link, frame):
    """Offset of the IP header, or None."""
    if link == 1:
        off, etype = 14, struct.unpack_from(">H", frame, 12)[0]
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack_from(">H", frame, off + 2)[0]
            off += 4
        return off
    return {113: 16, 276: 20, 101: 0, 228: 0, 229: 0, 0: 4, 108: 4}.get(link)


def transport(link, frame):
    """(proto, sport, dport, tcp flags, payload) or None."""
    off = l3(link, frame)
    if off is None or off >= len(frame):
        return None
    v = frame[off] >> 4
    if v == 4:
        ihl = (frame[off] & 15) * 4
        proto, l4 = frame[off + 9], off + ihl
    elif v == 6:
        proto, l4 = frame[off + 6], off + 40
    else:
        return None
    sport, dport = struct.unpack_from(">HH", frame, l4)
    if proto == 6:
        hl = (frame[l4 + 12] >> 4) * 4
        return 6, sport, dport, frame[l4 + 13], frame[l4 + hl :]
    if proto == 17:
        return 17, sport, dport, 0, frame[l4 + 8 :]
    return None


def write(target, content):
    content = content[:MAX_SEED]
    if not content:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(content).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(content)


def record(direction, flags, payload):
    """One record of the segment script (fuzz/harness.rs `segments`)."""
    return bytes([(direction << 7) | (flags & 0x3F)]) + b"\0\0\0" + struct.pack(">H", len(payload)) + payload


def main():
    caps = sorted(
        os.path.join(ROOT, "captures", f)
        for f in os.listdir(os.path.join(ROOT, "captures"))
        if f.endswith((".pcap", ".pcapng"))
    )
    for cap in caps:
        raw = open(cap, "rb").read()
        if len(raw) <= MAX_SEED:
            write("capture", raw)
        frs = list(frames(cap))
        if not frs:
            continue
        link = frs[0][0]
        net = bytes([LINK_SELECT.get(link, 0)])
        script, http, dgrams, udp_port = b"", bytes([7]), b"", None
        for lk, fr in frs:
            fr = fr[:65535]
            net += struct.pack(">H", len(fr)) + fr
            t = transport(lk, fr)
            if not t:
                continue
            proto, sport, dport, flags, payload = t
            if proto == 6:
                client = sport != 80
                script += record(0 if client else 1, flags, payload)
                http += payload
            else:
                port = min(sport, dport)
                udp_port = udp_port or port
                dgrams += struct.pack(">H", len(payload)) + payload
                script += record(0 if dport == port else 1, 0, payload)
                if port in (9200, 2948):
                    write("wsp", payload)
                elif port == 9201 and len(payload) > 3:
                    write("wsp", payload[3:])
        write("net_link", net)
        if http[1:]:
            write("http", http)
            write("tcp_reassembly", script)
            write("pipeline", b"\x00" + script)
        if dgrams:
            write("wtp", dgrams)
            sel = {9201: 1, 9200: 2, 2948: 3}.get(udp_port, 1)
            write("pipeline", bytes([sel]) + script)
    for sub in ("tests/data/pdus", "tests/data/public"):
        d = os.path.join(ROOT, sub)
        for f in sorted(os.listdir(d)):
            if f.endswith((".md", ".json")):
                continue
            pdu = open(os.path.join(d, f), "rb").read()
            write("mms", pdu)
            write("wsp", pdu)
            # A WSP multipart body starts after the MMS headers: seed every plausible start
            # (nEntries 1..8 right after the Content-Type), depth 0.
            for m in re.finditer(rb"[\x01-\x08][\x01-\x7f]", pdu):
                write("multipart", b"\x00" + pdu[m.start():])
                break
    write("multipart", b"\x08--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n")
    filters = open(os.path.join(ROOT, "docs", "FILTERS.md")).read()
    for expr in re.findall(r"`([^`\n]*(?:==|~|!=|>=|<=| and | or |not )[^`\n]*)`", filters):
        write("filter", expr.encode())
    for target in os.listdir(OUT):
        print(target, len(os.listdir(os.path.join(OUT, target))), file=sys.stderr)


if __name__ == "__main__":
    main()
