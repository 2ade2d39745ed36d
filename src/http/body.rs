//! HTTP message bodies: the chunked transfer coding (RFC 9112 section 7.1) decoded
//! incrementally, and content codings (gzip, x-gzip, deflate as zlib or raw) decoded with a
//! bound on the output size.

use std::io::{BufRead, Read};
use std::ops::Range;

/// One chunk of a chunked body; ranges relative to the message's raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The chunk-size line (size and extensions, without CRLF).
    pub size_line: Range<usize>,
    pub size: u64,
    /// Chunk extensions as written (after the first ';'), if any.
    pub extensions: Option<String>,
    /// The chunk data.
    pub data: Range<usize>,
}

/// Progress of the incremental chunked decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedStatus {
    /// Needs more bytes.
    Incomplete,
    /// The last chunk and the trailer section were read; the body ends at this raw offset.
    Done(usize),
    /// The framing is broken at this raw offset (message can't be delimited any more).
    Malformed { offset: usize, reason: String },
}

/// Incremental chunked decoder working on the message's raw bytes (head included), so every
/// range it records is a range of the raw message.
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    /// Raw offset of the next unparsed byte.
    pos: usize,
    pub chunks: Vec<Chunk>,
    /// Trailer fields (name, value, range of the line).
    pub trailers: Vec<(String, String, Range<usize>)>,
    in_trailers: bool,
    /// Size of the de-chunked body so far (the chunk data stays in the raw message: see
    /// [`ChunkedDecoder::dechunk`]).
    body_len: usize,
    /// After [`ChunkedStatus::Incomplete`]: the raw length below which [`advance`] would say
    /// `Incomplete` again (the end of the chunk whose data is arriving).
    ///
    /// [`advance`]: ChunkedDecoder::advance
    needs: usize,
}

/// Longest chunk-size or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;

impl ChunkedDecoder {
    pub fn new(body_start: usize) -> Self {
        ChunkedDecoder {
            pos: body_start,
            ..Default::default()
        }
    }

    /// After [`ChunkedStatus::Incomplete`]: how long the raw message must be before calling
    /// [`ChunkedDecoder::advance`] again can make progress. The parser skips the segments of a
    /// chunk's data without re-reading its size line each time.
    pub fn needs(&self) -> usize {
        self.needs
    }

    /// Raw offset of the next byte the decoder has not consumed.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Size of the de-chunked body read so far.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// The de-chunked body: the data of the chunks read so far, out of the `raw` they were read
    /// from. Assembled once at the end, at its exact size, instead of growing a copy chunk by
    /// chunk as they arrive.
    pub fn dechunk(&self, raw: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.body_len);
        for c in &self.chunks {
            body.extend_from_slice(&raw[c.data.clone()]);
        }
        body
    }

    /// Consume what `raw` now holds. `max_body` bounds the de-chunked size.
    pub fn advance(&mut self, raw: &[u8], max_body: usize) -> ChunkedStatus {
        loop {
            let rest = &raw[self.pos.min(raw.len())..];
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                if rest.len() > MAX_CHUNK_LINE {
                    return ChunkedStatus::Malformed {
                        offset: self.pos,
                        reason: "chunk-size line too long".into(),
                    };
                }
                // Any new byte may complete the line (or make it too long).
                self.needs = raw.len() + 1;
                return ChunkedStatus::Incomplete;
            };
            let line_end = if nl > 0 && rest[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            let line = &rest[..line_end];
            let line_range = self.pos..self.pos + line_end;
            if self.in_trailers {
                if line.is_empty() {
                    self.pos += nl + 1;
                    return ChunkedStatus::Done(self.pos);
                }
                let text = String::from_utf8_lossy(line);
                let (n, v) = text.split_once(':').unwrap_or((&text, ""));
                self.trailers
                    .push((n.trim().to_string(), v.trim().to_string(), line_range));
                self.pos += nl + 1;
                continue;
            }
            let (size_part, ext) = match line.iter().position(|&b| b == b';') {
                Some(i) => (
                    &line[..i],
                    Some(String::from_utf8_lossy(&line[i + 1..]).trim().to_string()),
                ),
                None => (line, None),
            };
            let size_text = String::from_utf8_lossy(size_part);
            let size_text = size_text.trim();
            let size = match u64::from_str_radix(size_text, 16) {
                Ok(s) if !size_text.is_empty() && size_text.len() <= 16 => s,
                _ => {
                    return ChunkedStatus::Malformed {
                        offset: self.pos,
                        reason: format!("bad chunk size {size_text:?}"),
                    };
                }
            };
            let data_start = self.pos + nl + 1;
            if size == 0 {
                self.chunks.push(Chunk {
                    size_line: line_range,
                    size,
                    extensions: ext,
                    data: data_start..data_start,
                });
                self.pos = data_start;
                self.in_trailers = true;
                continue;
            }
            if (self.body_len as u64).saturating_add(size) > max_body as u64 {
                return ChunkedStatus::Malformed {
                    offset: self.pos,
                    reason: format!("chunked body exceeds the limit of {max_body} bytes"),
                };
            }
            let size = size as usize;
            // Need the data and its CRLF.
            let data_end = data_start + size;
            if raw.len() < data_end + 1 {
                self.needs = data_end + 1;
                return ChunkedStatus::Incomplete;
            }
            let after = match (raw.get(data_end), raw.get(data_end + 1)) {
                (Some(b'\n'), _) => data_end + 1,
                (Some(b'\r'), Some(b'\n')) => data_end + 2,
                (Some(b'\r'), None) => {
                    self.needs = data_end + 2;
                    return ChunkedStatus::Incomplete;
                }
                _ => {
                    return ChunkedStatus::Malformed {
                        offset: data_end,
                        reason: "chunk data not followed by CRLF".into(),
                    };
                }
            };
            self.body_len += size;
            self.chunks.push(Chunk {
                size_line: line_range,
                size: size as u64,
                extensions: ext,
                data: data_start..data_end,
            });
            self.pos = after;
        }
    }
}

/// A content coding mmscope can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCoding {
    Gzip,
    /// "deflate": RFC 9110 says zlib (RFC 1950); some servers send raw DEFLATE (RFC 1951).
    Deflate,
    Identity,
}

impl ContentCoding {
    pub fn parse(token: &str) -> Option<ContentCoding> {
        match token.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(ContentCoding::Gzip),
            "deflate" => Some(ContentCoding::Deflate),
            "identity" | "" => Some(ContentCoding::Identity),
            _ => None,
        }
    }
}

/// Result of undoing a content coding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub data: Vec<u8>,
    /// Output reached the limit: decoding stopped there (possible decompression bomb).
    pub truncated_at_limit: bool,
    /// The compressed data is broken; `data` holds what was decoded before.
    pub error: Option<String>,
    /// For deflate: the stream had no zlib wrapper (raw DEFLATE).
    pub raw_deflate: bool,
}

/// Bytes asked of the decoder per read. A flate2 reader that meets broken data in the middle of
/// a read returns the error and drops what that read produced, so the decoded prefix kept for a
/// broken stream depends on this size: keep it fixed.
const READ_CHUNK: usize = 16 * 1024;

/// Most bytes reserved ahead from a size the data announces (the gzip trailer's ISIZE).
const PRESIZE_LIMIT: usize = 8 * 1024 * 1024;

/// Read `r` to its end, at most `limit` bytes, decoding straight into the output (no bounce
/// buffer). `size_hint` (the expected output size, untrusted) sizes the output up front so that
/// it does not grow by doubling and copying.
fn read_bounded<R: Read>(
    mut r: R,
    limit: usize,
    size_hint: usize,
) -> (Vec<u8>, bool, Option<String>) {
    let mut out = vec![0u8; size_hint.min(limit).min(PRESIZE_LIMIT) + READ_CHUNK];
    let mut filled = 0;
    loop {
        if out.len() < filled + READ_CHUNK {
            let grown = (out.len() * 2).max(filled + READ_CHUNK);
            out.resize(grown, 0);
        }
        match r.read(&mut out[filled..filled + READ_CHUNK]) {
            Ok(0) => {
                out.truncate(filled);
                return (out, false, None);
            }
            Ok(n) => {
                let room = limit - filled;
                if n > room {
                    out.truncate(filled + room);
                    return (out, true, None);
                }
                filled += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.truncate(filled);
                return (out, false, Some(e.to_string()));
            }
        }
    }
}

/// The decoded size a gzip stream announces in its last member's trailer (ISIZE, RFC 1952
/// section 2.3.1: the size modulo 2^32), bounded by what DEFLATE can expand `data` to
/// (1032:1). Only a hint: the trailer can lie, and there may be several members.
fn gzip_size_hint(data: &[u8]) -> usize {
    match data {
        [0x1f, 0x8b, .., a, b, c, d] if data.len() >= 18 => {
            (u32::from_le_bytes([*a, *b, *c, *d]) as usize).min(data.len().saturating_mul(1032))
        }
        _ => data.len(),
    }
}

/// The compressed input, handed to the decoder in place (no copy into a read buffer) but in
/// pieces that end where flate2's own 32 KiB `BufReader` would have refilled: the decoder stops
/// at the end of each piece, and what a read keeps of a broken stream depends on where it stops
/// (see [`READ_CHUNK`]), so the decoded prefix of a broken body stays what it was with
/// `flate2::read`.
struct InputPieces<'a> {
    data: &'a [u8],
    pos: usize,
}

const INPUT_PIECE: usize = 32 * 1024;

impl Read for InputPieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let piece = self.fill_buf()?;
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for InputPieces<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let end = ((self.pos / INPUT_PIECE + 1) * INPUT_PIECE).min(self.data.len());
        Ok(&self.data[self.pos..end])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.data.len());
    }
}

/// Undo one content coding, producing at most `limit` bytes.
pub fn decode_content(coding: ContentCoding, data: &[u8], limit: usize) -> Decoded {
    let input = InputPieces { data, pos: 0 };
    match coding {
        ContentCoding::Identity => {
            let truncated = data.len() > limit;
            Decoded {
                data: data[..data.len().min(limit)].to_vec(),
                truncated_at_limit: truncated,
                error: None,
                raw_deflate: false,
            }
        }
        ContentCoding::Gzip => {
            let (d, t, e) = read_bounded(
                flate2::bufread::MultiGzDecoder::new(input),
                limit,
                gzip_size_hint(data),
            );
            Decoded {
                data: d,
                truncated_at_limit: t,
                error: e,
                raw_deflate: false,
            }
        }
        ContentCoding::Deflate => {
            // A zlib header: CM = 8 and (CMF*256 + FLG) divisible by 31.
            let zlib = data.len() >= 2
                && data[0] & 0x0f == 8
                && (u16::from(data[0]) * 256 + u16::from(data[1])) % 31 == 0;
            let (d, t, e) = if zlib {
                read_bounded(flate2::bufread::ZlibDecoder::new(input), limit, data.len())
            } else {
                read_bounded(
                    flate2::bufread::DeflateDecoder::new(input),
                    limit,
                    data.len(),
                )
            };
            Decoded {
                data: d,
                truncated_at_limit: t,
                error: e,
                raw_deflate: !zlib,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chunked_with_extensions_and_trailers_incrementally() {
        let raw =
            b"HEAD\r\n\r\n5;name=val\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        let start = 8;
        let mut dec = ChunkedDecoder::new(start);
        // Byte by byte: must not lose anything when fed in pieces.
        let mut status = ChunkedStatus::Incomplete;
        for end in start..=raw.len() {
            status = dec.advance(&raw[..end], 1 << 20);
            if status != ChunkedStatus::Incomplete {
                break;
            }
        }
        assert_eq!(status, ChunkedStatus::Done(raw.len() - 4));
        assert_eq!(dec.dechunk(raw), b"hello world");
        assert_eq!(dec.body_len(), 11);
        assert_eq!(dec.chunks.len(), 3);
        assert_eq!(dec.chunks[0].extensions.as_deref(), Some("name=val"));
        assert_eq!(dec.chunks[1].extensions.as_deref(), Some("x"));
        assert_eq!(&raw[dec.chunks[1].data.clone()], b" world");
        assert_eq!(dec.trailers[0].0, "X-Sum");
        assert_eq!(dec.trailers[0].1, "1");
    }

    #[test]
    fn chunked_bad_size_is_malformed() {
        let mut dec = ChunkedDecoder::new(0);
        match dec.advance(b"zz\r\nabc", 100) {
            ChunkedStatus::Malformed { offset, .. } => assert_eq!(offset, 0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gzip_bomb_stops_at_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 10 * 1024 * 1024]).unwrap();
        let gz = enc.finish().unwrap();
        assert!(gz.len() < 20_000);
        let d = decode_content(ContentCoding::Gzip, &gz, 100_000);
        assert!(d.truncated_at_limit);
        assert_eq!(d.data.len(), 100_000);
        assert!(d.error.is_none());
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"zlib body").unwrap();
        let d = decode_content(ContentCoding::Deflate, &z.finish().unwrap(), 1000);
        assert_eq!(d.data, b"zlib body");
        assert!(!d.raw_deflate);
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        r.write_all(b"raw body").unwrap();
        let d = decode_content(ContentCoding::Deflate, &r.finish().unwrap(), 1000);
        assert_eq!(d.data, b"raw body");
        assert!(d.raw_deflate);
    }

    /// The decoder reads the body in place, in pieces cut where `flate2::read`'s buffer would
    /// have cut it: on broken data it keeps the same decoded prefix and reports the same error.
    #[test]
    fn broken_gzip_decodes_as_flate2_read_does() {
        // Poorly compressible bytes, so the compressed stream spans several 32 KiB pieces.
        let mut x = 0x1234_5678u32;
        let text: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 40) as u8 + b'0'
            })
            .collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        let gz = enc.finish().unwrap();
        assert!(gz.len() > 3 * INPUT_PIECE, "{}", gz.len());
        // Errors just after a piece boundary are where the cut matters: the read that meets
        // them then returns what the piece before gave instead of losing it.
        let mut places = vec![20, 5000, gz.len() - 6];
        for piece_end in (1..=3).map(|k| k * 32 * 1024) {
            places.extend([piece_end + 40, piece_end + 400, piece_end + 4000]);
        }
        for at in places {
            let mut broken = gz.clone();
            broken[at] ^= 0x55;
            let d = decode_content(ContentCoding::Gzip, &broken, 1 << 20);
            let (want, _, want_err) =
                read_bounded(flate2::read::MultiGzDecoder::new(&broken[..]), 1 << 20, 0);
            assert_eq!((d.data.len(), &d.error), (want.len(), &want_err), "at {at}");
            assert_eq!(d.data, want, "at {at}");
            assert!(d.error.is_some(), "at {at}");
        }
    }

    #[test]
    fn truncated_gzip_keeps_decoded_prefix() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let text: Vec<u8> = (0..20000u32).flat_map(|i| i.to_le_bytes()).collect();
        enc.write_all(&text).unwrap();
        let gz = enc.finish().unwrap();
        let d = decode_content(ContentCoding::Gzip, &gz[..gz.len() / 2], 1 << 20);
        assert!(d.error.is_some());
        assert!(!d.data.is_empty());
        assert_eq!(d.data[..], text[..d.data.len()]);
    }
}
