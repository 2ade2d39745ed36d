//! HTTP message bodies: the chunked transfer coding (RFC 9112 section 7.1) decoded
//! incrementally, and content codings (gzip, x-gzip, deflate as zlib or raw) decoded with a
//! bound on the output size.

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

/// Most bytes reserved ahead from a size the data announces (the gzip trailer's ISIZE).
const PRESIZE_LIMIT: usize = 8 * 1024 * 1024;

/// Smallest step by which the output grows when the announced size was too small.
const GROW_STEP: usize = 64 * 1024;

/// How one inflate run ended.
enum Inflated {
    /// The stream (member) ended; this many input bytes were consumed.
    End(usize),
    /// The output reached the limit before the stream ended.
    Limit,
    /// The input ended before the stream did.
    Truncated,
    /// The compressed data is broken.
    Broken(String),
}

/// Inflate `input` with `d`, appending to `out` (at most `limit` bytes in all, counting what
/// `out` holds). The decoder writes into the vector's spare capacity, so the output is neither
/// zeroed first nor copied afterwards, and one call decodes as much as the room allows (a
/// reader asking for 16 KiB at a time made zlib copy each piece into its window as well). On
/// broken data everything decoded before the error is kept.
fn inflate_into(
    d: &mut flate2::Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Inflated {
    let start_in = d.total_in();
    loop {
        // One byte beyond the limit tells a stream that ends exactly at the limit from one
        // that goes on.
        if out.len() > limit {
            return Inflated::Limit;
        }
        let consumed = (d.total_in() - start_in) as usize;
        if out.len() == out.capacity() {
            let grow = out.len().max(GROW_STEP).min(limit + 1 - out.len());
            out.reserve_exact(grow);
        }
        let (in_before, out_before) = (d.total_in(), d.total_out());
        match d.decompress_vec(&input[consumed..], out, flate2::FlushDecompress::None) {
            Ok(flate2::Status::StreamEnd) if out.len() > limit => return Inflated::Limit,
            Ok(flate2::Status::StreamEnd) => {
                return Inflated::End((d.total_in() - start_in) as usize);
            }
            Ok(_) => {
                let progress = d.total_in() != in_before || d.total_out() != out_before;
                if !progress && out.len() < out.capacity() {
                    // Room for output and no progress: the input is used up.
                    return Inflated::Truncated;
                }
            }
            Err(e) => return Inflated::Broken(e.to_string()),
        }
    }
}

/// Decode a gzip body: its members one after another (RFC 1952 section 2.2: a gzip file is a
/// series of members), each checked against its trailer's CRC-32 and size by zlib.
fn gunzip(data: &[u8], limit: usize) -> Decoded {
    let mut out = Vec::with_capacity(gzip_size_hint(data).min(limit).min(PRESIZE_LIMIT) + 1);
    let mut rest = data;
    loop {
        let mut d = flate2::Decompress::new_gzip(15);
        match inflate_into(&mut d, rest, &mut out, limit) {
            Inflated::End(used) if used < rest.len() => rest = &rest[used..],
            ended => return decoded(out, ended, limit, false),
        }
    }
}

/// Decode a deflate body, zlib-wrapped (RFC 1950) or raw (RFC 1951). (Bytes after the end of
/// the stream are left alone, as a zlib reader does.)
fn inflate(data: &[u8], zlib: bool, limit: usize) -> Decoded {
    let mut out = Vec::with_capacity(data.len().min(limit).min(PRESIZE_LIMIT) + 1);
    let ended = inflate_into(&mut flate2::Decompress::new(zlib), data, &mut out, limit);
    decoded(out, ended, limit, !zlib)
}

/// What was inflated into `data` before the run ended as `ended`, cut to `limit` when it
/// reached it.
fn decoded(mut data: Vec<u8>, ended: Inflated, limit: usize, raw_deflate: bool) -> Decoded {
    let (truncated_at_limit, error) = match ended {
        Inflated::End(_) => (false, None),
        Inflated::Limit => {
            data.truncate(limit);
            (true, None)
        }
        Inflated::Truncated => (false, Some(UNEXPECTED_END.to_string())),
        Inflated::Broken(e) => (false, Some(e)),
    };
    Decoded {
        data,
        truncated_at_limit,
        error,
        raw_deflate,
    }
}

/// The error of a compressed stream cut short.
const UNEXPECTED_END: &str = "unexpected end of file";

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

/// Undo one content coding, producing at most `limit` bytes.
pub fn decode_content(coding: ContentCoding, data: &[u8], limit: usize) -> Decoded {
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
        ContentCoding::Gzip => gunzip(data, limit),
        ContentCoding::Deflate => {
            // A zlib header: CM = 8 and (CMF*256 + FLG) divisible by 31.
            let zlib = data.len() >= 2
                && data[0] & 0x0f == 8
                && (u16::from(data[0]) * 256 + u16::from(data[1])) % 31 == 0;
            inflate(data, zlib, limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

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

    /// Broken data keeps every byte decoded before the error: what `flate2::read` keeps and
    /// more (a read that meets the error drops what it had decoded in that read). (Not always
    /// a prefix of the original: a broken Huffman code can decode to wrong bytes for a while
    /// before the stream is found invalid, with any decoder.)
    #[test]
    fn broken_gzip_keeps_everything_decoded_before_the_error() {
        // Poorly compressible bytes, so that the compressed stream is long.
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
        assert!(gz.len() > 100_000, "{}", gz.len());
        let mut longer_than_read = 0;
        for at in [
            20,
            5000,
            32 * 1024 + 40,
            65_536 + 4000,
            98_304 + 400,
            gz.len() - 6,
        ] {
            let mut broken = gz.clone();
            broken[at] ^= 0x55;
            let d = decode_content(ContentCoding::Gzip, &broken, 1 << 20);
            assert!(d.error.is_some(), "at {at}");
            let mut by_read = Vec::new();
            let read_err = flate2::read::MultiGzDecoder::new(&broken[..])
                .read_to_end(&mut by_read)
                .is_err();
            assert!(read_err, "at {at}");
            assert!(
                d.data.starts_with(&by_read),
                "at {at}: {} < {}",
                d.data.len(),
                by_read.len()
            );
            longer_than_read += usize::from(d.data.len() > by_read.len());
        }
        // The trailer's CRC is wrong when the last bytes are broken: the whole text was
        // decoded, and kept.
        let mut broken = gz.clone();
        let crc_at = gz.len() - 6;
        broken[crc_at] ^= 0x55;
        let d = decode_content(ContentCoding::Gzip, &broken, 1 << 20);
        assert_eq!(d.data, text);
        assert!(
            d.error.as_deref().unwrap().contains("incorrect data check"),
            "{d:?}"
        );
        assert!(longer_than_read > 0);
    }

    /// A gzip body of two members decodes to both (RFC 1952 section 2.2); a stream that ends
    /// exactly at the limit is not cut.
    #[test]
    fn gzip_members_and_the_exact_limit() {
        let member = |t: &[u8]| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(t).unwrap();
            enc.finish().unwrap()
        };
        let mut two = member(b"first member, ");
        two.extend(member(b"second member"));
        let d = decode_content(ContentCoding::Gzip, &two, 1000);
        assert_eq!(d.data, b"first member, second member");
        assert!(d.error.is_none() && !d.truncated_at_limit);
        let d = decode_content(ContentCoding::Gzip, &two, 27);
        assert_eq!(d.data.len(), 27);
        assert!(!d.truncated_at_limit, "{d:?}");
        let d = decode_content(ContentCoding::Gzip, &two, 26);
        assert_eq!(d.data, b"first member, second membe");
        assert!(d.truncated_at_limit);
        // Garbage after the last member is not a member.
        let mut tail = member(b"body");
        tail.extend(b"junk");
        let d = decode_content(ContentCoding::Gzip, &tail, 1000);
        assert_eq!(d.data, b"body");
        assert!(d.error.is_some());
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
