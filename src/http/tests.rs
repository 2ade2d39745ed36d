use super::*;
use std::io::Write;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn messages(events: Vec<HttpEvent>) -> Vec<HttpMessage> {
    events
        .into_iter()
        .filter_map(|e| match e {
            HttpEvent::Message(m) => Some(*m),
            _ => None,
        })
        .collect()
}

#[test]
fn content_length_request_and_response_pair() {
    let mut c = HttpConnection::default();
    let req = b"POST /mmsc HTTP/1.1\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 3\r\n\r\n\x8c\x80\x98";
    let ev = c.feed(C, &req[..20], 1);
    assert!(ev.is_empty());
    let m = messages(c.feed(C, &req[20..], 2));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].body(), b"\x8c\x80\x98");
    assert_eq!(m[0].method(), Some("POST"));
    assert!(m[0].is_mms());
    assert_eq!(m[0].frames(), [1, 2]);
    assert_eq!(m[0].origin[1].offset, 20);
    let resp = messages(c.feed(S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 3));
    assert_eq!(resp[0].status(), Some(200));
    assert_eq!(resp[0].uri(), Some("/mmsc"));
    assert_eq!(resp[0].exchange, m[0].exchange);
    assert_eq!(resp[0].answers.as_ref().unwrap().frame, Some(2));
    assert_eq!(resp[0].body(), b"ok");
}

#[test]
fn pipelined_requests_pair_fifo_and_head_has_no_body() {
    let mut c = HttpConnection::default();
    let m = messages(c.feed(
        C,
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
        1,
    ));
    assert_eq!(m.len(), 3);
    assert_eq!(m.iter().map(|x| x.exchange).collect::<Vec<_>>(), [0, 1, 2]);
    // Response to HEAD declares a length but has no body; the next response follows at once.
    let r = messages(c.feed(
        S,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        2,
    ));
    assert_eq!(r.len(), 4);
    assert_eq!(r[0].status(), Some(100));
    assert_eq!(r[0].uri(), Some("/a"));
    assert_eq!((r[1].uri(), r[1].body()), (Some("/a"), &b"a"[..]));
    assert_eq!(r[2].uri(), Some("/b"));
    assert_eq!(r[2].framing, Framing::None);
    assert_eq!((r[3].uri(), r[3].status()), (Some("/c"), Some(404)));
}

/// Past `max_pending` waiting requests the oldest is forgotten: the responses then pair with
/// the requests still waiting, in order, and one more finds none.
#[test]
fn too_many_pending_requests_forget_the_oldest() {
    let mut c = HttpConnection::new(Config {
        max_pending: 2,
        ..Config::default()
    });
    let m = messages(c.feed(
        C,
        b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
        1,
    ));
    assert_eq!(m.len(), 3);
    assert!(m[2].notes[0].message.contains("the oldest is forgotten"));
    let ok = b"HTTP/1.1 204 No Content\r\n\r\n";
    let r = messages(c.feed(S, &ok.repeat(3), 2));
    assert_eq!(r.len(), 3);
    assert_eq!((r[0].uri(), r[0].exchange), (Some("/b"), 1));
    assert_eq!((r[1].uri(), r[1].exchange), (Some("/c"), 2));
    assert_eq!((r[2].uri(), r[2].exchange), (None, 3));
    assert!(r[2].notes[0].message.contains("response without a request"));
}

#[test]
fn chunked_with_extensions_trailers_and_gzip() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"\x8c\x81hello mms").unwrap();
    let gz = gz.finish().unwrap();
    let mut raw =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    let (a, b) = gz.split_at(5);
    raw.extend_from_slice(format!("{:x};foo=bar\r\n", a.len()).as_bytes());
    raw.extend_from_slice(a);
    raw.extend_from_slice(format!("\r\n{:X}\r\n", b.len()).as_bytes());
    raw.extend_from_slice(b);
    raw.extend_from_slice(b"\r\n0\r\nX-Trailer: t\r\n\r\n");
    let mut c = HttpConnection::default();
    c.feed(
        C,
        b"GET /mms/1 HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
        1,
    );
    let mut got = Vec::new();
    for (i, piece) in raw.chunks(7).enumerate() {
        got.extend(messages(c.feed(S, piece, i as u64 + 1)));
    }
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.framing, Framing::Chunked);
    assert_eq!(m.body(), b"\x8c\x81hello mms");
    assert_eq!(m.codings, ["gzip"]);
    assert_eq!(m.chunks.len(), 3);
    assert_eq!(m.chunks[0].extensions.as_deref(), Some("foo=bar"));
    assert_eq!(m.trailers[0].0, "X-Trailer");
    assert_eq!(m.raw, raw);
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let tree = m.tree();
    assert_eq!(
        tree.child("Status line").unwrap().children[1].value,
        Value::Enum {
            code: 200,
            name: "OK".into()
        }
    );
    let body = tree.child("Body").unwrap();
    assert!(body.display.starts_with("chunked: 2 chunks"));
    assert!(tree.worst().is_none());
}

#[test]
fn gzip_bomb_stops_at_limit_and_says_so() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'A'; 5_000_000]).unwrap();
    let gz = gz.finish().unwrap();
    let mut raw = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    raw.extend_from_slice(&gz);
    let mut c = HttpConnection::new(Config {
        max_decoded: 10_000,
        ..Config::default()
    });
    let m = messages(c.feed(S, &raw, 1));
    assert_eq!(m[0].body().len(), 10_000);
    assert!(m[0].body_truncated);
    assert!(m[0].notes.iter().any(|n| n.message.contains("bomb")));
    assert_eq!(m[0].tree().worst(), Some(Severity::Warning));
}

#[test]
fn close_delimited_response_ends_at_close() {
    let mut c = HttpConnection::default();
    c.feed(C, b"GET / HTTP/1.0\r\n\r\n", 1);
    assert!(messages(c.feed(S, b"HTTP/1.0 200 OK\r\n\r\nbody part 1, ", 2)).is_empty());
    assert!(messages(c.feed(S, b"part 2", 3)).is_empty());
    let m = messages(c.close(S));
    assert_eq!(m[0].body(), b"body part 1, part 2");
    assert_eq!(m[0].framing, Framing::CloseDelimited);
    assert!(m[0].complete);
}

#[test]
fn gap_mid_body_abandons_and_resynchronises() {
    let mut c = HttpConnection::default();
    // Content-Length known: the gap is skipped exactly, the next message follows.
    c.feed(C, b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123", 1);
    let ev = c.gap(C, 4);
    let HttpEvent::Gap {
        stream_offset,
        len,
        abandoned: Some(ab),
        ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!((*stream_offset, *len), (44, 4));
    assert!(!ab.complete);
    assert_eq!(ab.body(), b"0123");
    assert!(ab.notes[0].message.contains("stream offset 44"));
    let m = messages(c.feed(C, b"89GET /b HTTP/1.1\r\n\r\n", 3));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].uri(), Some("/b"));
    assert_eq!(m[0].stream_offset, 50);

    // Chunked: the parser must search for the next start line.
    let mut c = HttpConnection::default();
    c.feed(
        S,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
        1,
    );
    let ev = c.gap(S, 100);
    assert!(matches!(
        &ev[0],
        HttpEvent::Gap {
            abandoned: Some(_),
            ..
        }
    ));
    let ev = c.feed(
        S,
        b"garbage tail\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        2,
    );
    assert!(ev.iter().any(|e| matches!(e, HttpEvent::Resynced { .. })));
    let m = messages(ev);
    assert_eq!(m[0].status(), Some(204));
}

#[test]
fn garbage_is_not_http() {
    let mut c = HttpConnection::default();
    let ev = c.feed(C, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 1);
    assert!(matches!(
        ev[0],
        HttpEvent::NotHttp {
            stream_offset: 0,
            ..
        }
    ));
    assert!(c.is_not_http(C));
    assert!(c.feed(C, b"GET / HTTP/1.1\r\n\r\n", 2).is_empty());
    assert!(c.gave_up());
}

#[test]
fn bad_content_length_and_te_cl_conflict_are_noted() {
    let mut c = HttpConnection::default();
    c.feed(C, b"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1);
    let m = messages(c.feed(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        2,
    ));
    assert_eq!(m[0].body(), b"x");
    assert!(m[0].notes[0].message.contains("Transfer-Encoding wins"));
    let m = messages(c.feed(S, b"HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\nabc", 3));
    assert!(m.is_empty());
    let m = messages(c.close(S));
    assert_eq!(m[0].body(), b"abc");
    assert!(m[0].notes[0].message.contains("invalid Content-Length"));
}

#[test]
fn midstream_start_hunts_for_a_message_then_gives_up_on_non_http() {
    let mut c = HttpConnection::default();
    assert!(c.midstream(S).is_empty());
    // The tail of a body, then a response.
    let ev = c.feed(
        S,
        b"\x8c\x84 tail of a body\r\nHTTP/1.1 204 No Content\r\n\r\n",
        5,
    );
    assert!(matches!(&ev[0], HttpEvent::Resynced { skipped, .. } if *skipped == (0..19)));
    assert_eq!(messages(ev)[0].status(), Some(204));
    // A direction that never shows a start line is declared not HTTP after the hunt limit.
    c.midstream(C);
    let junk = vec![0x17u8; 64 * 1024];
    let mut gave_up = false;
    for i in 0..6 {
        gave_up |= c
            .feed(C, &junk, i)
            .iter()
            .any(|e| matches!(e, HttpEvent::NotHttp { .. }));
    }
    assert!(gave_up);
    assert!(c.is_not_http(C));
}

#[test]
fn upgrade_and_connect_end_http_on_the_connection() {
    let mut c = HttpConnection::default();
    c.feed(
        C,
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        1,
    );
    let ev = c.feed(
        S,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        2,
    );
    assert_eq!(messages(ev.clone())[0].uri(), Some("/ws"));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, HttpEvent::NotHttp { .. }))
            .count(),
        2
    );
    assert!(c.gave_up());
    let mut c = HttpConnection::default();
    c.feed(C, b"CONNECT mmsc:443 HTTP/1.1\r\n\r\n", 1);
    c.feed(S, b"HTTP/1.1 200 Connection established\r\n\r\n", 2);
    assert!(c.is_not_http(C) && c.is_not_http(S));
}

#[test]
fn gap_inside_a_head_drops_it_and_finds_the_next_message() {
    let mut c = HttpConnection::default();
    c.feed(C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /lost HT", 1);
    let ev = c.gap(C, 30);
    assert!(matches!(
        &ev[0],
        HttpEvent::Note {
            stream_offset: 28,
            ..
        }
    ));
    assert!(matches!(
        &ev[1],
        HttpEvent::Gap {
            stream_offset: 40,
            len: 30,
            abandoned: None,
            ..
        }
    ));
    let ev = c.feed(C, b"ost\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 3);
    let m = messages(ev);
    assert_eq!(m[0].uri(), Some("/b"));
    assert_eq!(
        m[0].exchange, 1,
        "the lost request never got an exchange number"
    );
    assert_eq!(m[0].stream_offset, 77);
}

/// A body that lies in the raw message in one piece (no framing to undo, or a single chunk) is
/// read in place; one split over several chunks is joined; a compressed single chunk is
/// inflated from where it lies.
#[test]
fn bodies_in_one_piece_are_not_copied() {
    let in_raw = |m: &HttpMessage| m.raw.as_ptr_range().contains(&m.body().as_ptr());
    let mut c = HttpConnection::default();
    let plain = messages(c.feed(C, b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 1));
    assert_eq!(plain[0].body(), b"hello");
    assert_eq!(&plain[0].raw[plain[0].body_range.clone()], b"hello");
    assert!(in_raw(&plain[0]));

    let one = messages(c.feed(
        C,
        b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        2,
    ));
    assert_eq!(one[0].body(), b"hello");
    assert!(in_raw(&one[0]));

    let two = messages(c.feed(
        C,
        b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
        3,
    ));
    assert_eq!(two[0].body(), b"hello");
    assert!(!in_raw(&two[0]));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"\x8c\x84 an m-retrieve-conf").unwrap();
    let gz = gz.finish().unwrap();
    let mut req = format!(
        "POST /d HTTP/1.1\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        gz.len()
    )
    .into_bytes();
    req.extend_from_slice(&gz);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let z = messages(c.feed(C, &req, 4));
    assert_eq!(z[0].body(), b"\x8c\x84 an m-retrieve-conf");
    assert_eq!(z[0].codings, ["gzip"]);
    assert!(z[0].notes.is_empty(), "{:?}", z[0].notes);
}

#[test]
fn deferred_codings_give_the_same_message_once_undone() {
    // A gzip body cut short (its end lost), and a bomb stopped at the limit: the notes that
    // undoing the codings adds must come out the same, in the same order, deferred or not.
    let gzip = |n: usize| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'x'; n]).unwrap();
        gz.finish().unwrap()
    };
    let small = gzip(40_000);
    let cut = &small[..small.len() - 12];
    let bomb = gzip(100_000);
    let mut raw = Vec::new();
    for body in [cut, &bomb[..]] {
        raw.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        raw.extend_from_slice(body);
    }
    let cfg = Config {
        max_decoded: 60_000,
        ..Config::default()
    };
    let now = messages(HttpConnection::new(cfg).feed(S, &raw, 1));
    let mut later = messages(
        HttpConnection::new(Config {
            defer_codings: true,
            ..cfg
        })
        .feed(S, &raw, 1),
    );
    assert_eq!(now.len(), 2);
    // Deferred: the body is still the gzip bytes on the wire, and no decoding note yet.
    assert_eq!(later[0].body(), cut);
    assert!(
        now[0]
            .notes
            .iter()
            .any(|n| n.message.contains("gzip data is broken"))
    );
    assert!(!later[0].notes.iter().any(|n| n.message.contains("gzip")));
    for m in &mut later {
        m.undo_codings();
        m.undo_codings(); // a second call changes nothing
    }
    assert_eq!(now, later);
    assert_eq!(now[1].body().len(), 60_000);
    assert!(now[1].body_truncated);
}

/// A body's segments skip the parser until the body can end (`DirState::wake_at`): whatever
/// the segment size, the messages must end at the same byte, in the segment with their last
/// byte, with the same chunks, and the size limit must cut at the first segment beyond it.
#[test]
fn bodies_end_at_the_same_byte_whatever_the_segment_size() {
    let mut stream = b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n".to_vec();
    stream.extend(std::iter::repeat_n(b'a', 300));
    stream.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    stream.extend_from_slice(b"7b\r\n");
    stream.extend(std::iter::repeat_n(b'b', 0x7b));
    stream.extend_from_slice(b"\r\n1;ext=1\r\nc\r\n0\r\nT: v\r\n\r\n");
    stream.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    let head_len = "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n".len();
    let first_end = head_len + 300;
    for size in [1, 2, 3, 7, 64, 1460, stream.len()] {
        let mut c = HttpConnection::default();
        for _ in 0..3 {
            c.feed(C, b"GET / HTTP/1.1\r\n\r\n", 0);
        }
        // Each message with the segment whose feed handed it over.
        let mut got = Vec::new();
        let mut handed_at = Vec::new();
        for (i, piece) in stream.chunks(size).enumerate() {
            for m in messages(c.feed(S, piece, i as u64)) {
                got.push(m);
                handed_at.push(i as u64);
            }
        }
        assert_eq!(got.len(), 3, "segment size {size}");
        let last_frames: Vec<u64> = got.iter().map(|m| m.last_frame().unwrap()).collect();
        assert_eq!(handed_at, last_frames, "segment size {size}");
        assert_eq!(got[0].raw.len(), first_end);
        assert_eq!(got[0].body(), &[b'a'; 300][..]);
        assert_eq!(got[0].last_frame(), Some(((first_end - 1) / size) as u64));
        let mut body = vec![b'b'; 0x7b];
        body.push(b'c');
        assert_eq!(got[1].body(), body, "segment size {size}");
        assert_eq!(got[1].chunks.len(), 3);
        assert_eq!(got[1].trailers[0].1, "v");
        let second_end = first_end + got[1].raw.len();
        assert_eq!(got[1].last_frame(), Some(((second_end - 1) / size) as u64));
        assert_eq!(got[2].status(), Some(204));
        assert!(got.iter().all(|m| m.complete && m.notes.is_empty()));
    }
    // A close-delimited body over the size limit is cut where the bytes first exceed it.
    let mut over = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
    over.extend(std::iter::repeat_n(b'z', 200));
    // Segments of 7 bytes: the 15th is the first beyond 100.
    for (size, cut) in [(1, 101), (7, 105)] {
        let mut c = HttpConnection::new(Config {
            max_message: 100,
            ..Config::default()
        });
        c.feed(C, b"GET / HTTP/1.0\r\n\r\n", 0);
        let mut got = Vec::new();
        for (i, piece) in over.chunks(size).enumerate() {
            got.extend(messages(c.feed(S, piece, i as u64)));
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].raw.len(), cut);
        assert!(!got[0].complete);
        assert!(
            got[0].notes[0]
                .message
                .contains("exceeds the limit of 100 bytes")
        );
    }
}

fn discarding() -> HttpConnection {
    HttpConnection::new(Config {
        discard_non_mms_bodies: true,
        ..Config::default()
    })
}

/// Feed `bytes` in segments of `seg` bytes (frames 1, 2, …), collecting the messages.
fn feed_segments(
    c: &mut HttpConnection,
    dir: Direction,
    bytes: &[u8],
    seg: usize,
) -> Vec<HttpMessage> {
    let mut out = Vec::new();
    for (i, s) in bytes.chunks(seg).enumerate() {
        out.extend(messages(c.feed(dir, s, i as u64 + 1)));
    }
    out
}

#[test]
fn a_body_that_cannot_carry_mms_is_dropped_and_the_next_message_is_whole() {
    // An image (first byte 0xFF), then an MMS PDU declared as such, then one sniffed by its
    // first byte under a wrong type, on one keep-alive connection, cut in 7-byte segments.
    let mut image =
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 200\r\n\r\n".to_vec();
    image.extend(std::iter::once(0xFF).chain((0..199).map(|i| i as u8)));
    // m-send-conf: Transaction-Id, MMS-Version 1.2, Response-Status Ok, Message-ID (41 bytes,
    // several segments).
    let pdu = b"\x8c\x81\x98T0123456789\x00\x8d\x92\x92\x80\x8bM0123456789@mmsc\x00";
    let with_head = |ct: &str| {
        let mut m = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            pdu.len()
        )
        .into_bytes();
        m.extend_from_slice(pdu);
        m
    };
    let mms = with_head("application/vnd.wap.mms-message");
    let sniffed = with_head("text/plain");
    let stream = [&image[..], &mms[..], &sniffed[..]].concat();
    let mut full = HttpConnection::default();
    let mut cut = discarding();
    let kept = feed_segments(&mut full, S, &stream, 7);
    let dropped = feed_segments(&mut cut, S, &stream, 7);
    assert_eq!((kept.len(), dropped.len()), (3, 3));
    // The image: reported, its body cut to what came with the head's segments, and said so.
    assert_eq!(kept[0].body().len(), 200);
    let head_len = image.len() - 200;
    let body = dropped[0].body();
    assert!(
        !body.is_empty() && body.len() < 7,
        "{} bytes kept",
        body.len()
    );
    assert_eq!(body, &image[head_len..head_len + body.len()]);
    assert!(!dropped[0].is_mms());
    let note = &dropped[0].notes.last().unwrap().message;
    assert_eq!(
        note,
        &format!(
            "{} body bytes not kept: the body cannot carry an MMS PDU (its first byte is not X-Mms-Message-Type)",
            200 - body.len()
        )
    );
    // The PDUs that follow: byte for byte what the buffering parser gives, at the same offsets.
    for (a, b) in kept[1..].iter().zip(&dropped[1..]) {
        assert!(a.is_mms() && b.is_mms());
        assert_eq!(a.body(), b.body());
        assert_eq!(a.raw, b.raw);
        assert_eq!(a.stream_offset, b.stream_offset);
        assert_eq!(a.origin, b.origin);
        assert_eq!(a.notes.len(), b.notes.len());
    }
    assert_eq!(dropped[1].stream_offset, image.len() as u64);
}

#[test]
fn a_gap_in_a_dropped_body_counts_the_dropped_bytes() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n";
    let next = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 3\r\n\r\n\x8c\x81\x98";
    for mut c in [HttpConnection::default(), discarding()] {
        let mut first = head.to_vec();
        first.extend_from_slice(&[b'<'; 10]);
        assert!(c.feed(S, &first, 1).is_empty());
        assert!(c.feed(S, &[b'x'; 40], 2).is_empty());
        // 30 of the remaining 50 body bytes are lost; the last 20 arrive, then the next message.
        let ev = c.gap(S, 30);
        let abandoned = ev
            .iter()
            .find_map(|e| match e {
                HttpEvent::Gap {
                    abandoned: Some(m), ..
                } => Some(m),
                _ => None,
            })
            .expect("the message is abandoned");
        let lost = abandoned
            .notes
            .iter()
            .find(|n| n.severity == Severity::Error)
            .unwrap();
        assert_eq!(
            lost.message,
            format!(
                "30 bytes lost at stream offset {} (message offset {}): body incomplete, 50 body bytes received",
                head.len() + 50,
                head.len() + 50
            )
        );
        let mut rest = vec![b'y'; 20];
        rest.extend_from_slice(next);
        let m = messages(c.feed(S, &rest, 3));
        assert_eq!(m.len(), 1);
        assert!(m[0].is_mms());
        assert_eq!(m[0].stream_offset, head.len() as u64 + 100);
        assert_eq!(m[0].body(), b"\x8c\x81\x98");
    }
}

#[test]
fn may_carry_mms_rules_out_only_what_is_mms_and_pap_cannot_hold() {
    let head = |raw: &str| head::parse_head(raw.as_bytes()).unwrap();
    let resp = |ct: &str, extra: &str| {
        head(&format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\n{extra}Content-Length: 9\r\n\r\n"
        ))
    };
    // Ruled out: nothing declares or hides an MMS PDU, and the first byte is not 0x8C.
    assert!(!may_carry_mms(&resp("image/jpeg", ""), 0xFF));
    assert!(!may_carry_mms(&resp("text/html; charset=utf-8", ""), b'<'));
    assert!(!may_carry_mms(
        &resp("multipart/related; boundary=x", ""),
        b'-'
    ));
    assert!(!may_carry_mms(
        &head("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
        0
    ));
    // Kept: the first byte, the declared type (any case), a coding over the body, a request
    // that may be a PAP submission.
    assert!(may_carry_mms(&resp("text/plain", ""), 0x8C));
    assert!(may_carry_mms(
        &resp("Application/VND.WAP.MMS-Message", ""),
        0
    ));
    assert!(may_carry_mms(
        &resp("image/jpeg", "Content-Encoding: gzip\r\n"),
        0x1F
    ));
    assert!(may_carry_mms(
        &resp("image/jpeg", "Transfer-Encoding: deflate\r\n"),
        0x78
    ));
    assert!(!may_carry_mms(
        &resp("image/jpeg", "Content-Encoding: identity\r\n"),
        0xFF
    ));
    assert!(may_carry_mms(
        &head(
            "POST /pap HTTP/1.1\r\nContent-Type: multipart/related; boundary=b\r\nContent-Length: 9\r\n\r\n"
        ),
        b'-'
    ));
}

#[test]
fn may_carry_mms_agrees_with_the_lab_messages() {
    // Every HTTP message of the lab captures that carries an MMS PDU (directly or in a PAP
    // submission) is one `may_carry_mms` keeps; and some that carry none are ruled out.
    let mut carrying = 0;
    let mut ruled_out = 0;
    for path in crate::capture::shipped_captures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for mut m in lab_messages(&path) {
            m.undo_codings();
            let carries = m.is_mms()
                || (m.is_request()
                    && pap::parse_submission(&m).is_some_and(|s| s.mms_part().is_some()));
            let raw_body = &m.raw[m.body_range.clone()];
            if let Some(&first) = raw_body.first() {
                let may = may_carry_mms(&m.head, first);
                assert!(may || !carries, "{name}: {:?}", m.summary());
                carrying += usize::from(carries);
                ruled_out += usize::from(!may);
            }
        }
    }
    assert!(carrying > 20, "{carrying} messages carry MMS");
    assert!(ruled_out > 0, "no message without MMS was ruled out");
}

/// Every HTTP message of a capture, bodies kept whole.
fn lab_messages(path: &std::path::Path) -> Vec<HttpMessage> {
    use crate::capture::{FileReader, PacketSource};
    use crate::net::{Decoder, Event};
    let mut reader = FileReader::open(path).unwrap();
    let mut dec = Decoder::default();
    let mut conns: std::collections::HashMap<crate::net::FlowId, HttpConnection> =
        Default::default();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut handle = |events: &mut Vec<Event<'static>>, out: &mut Vec<HttpMessage>| {
        for e in events.drain(..) {
            let evs = match e {
                Event::TcpData(d) => conns
                    .entry(d.flow)
                    .or_default()
                    .feed(d.dir, &d.data, d.frame),
                Event::TcpClosed(c) => match conns.remove(&c.flow) {
                    Some(mut h) => {
                        let mut evs = h.close(C);
                        evs.extend(h.close(S));
                        evs
                    }
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            out.extend(messages(evs));
        }
    };
    while let Some(p) = reader.next_packet() {
        dec.decode_packet_owned(&p.unwrap(), &mut events);
        handle(&mut events, &mut out);
    }
    dec.finish(&mut events);
    handle(&mut events, &mut out);
    out
}
