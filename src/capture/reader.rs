//! Streaming pcap / pcapng reader with one reusable buffer.
//!
//! The reader keeps at most one record (plus one read-ahead chunk) in memory: records are
//! handed out as slices of the buffer, and blocks the reader does not need (statistics, name
//! resolution, custom and unknown blocks) are skipped by reading through them in chunks, never
//! buffered whole. Every length read from the file is checked against a limit before anything
//! is allocated for it.
//!
//! [`FileReader::read_ahead`] moves the `read(2)` calls to a thread of their own (see
//! [`ReadAhead`]): the kernel's copy of the file then runs beside the parsing instead of before
//! it, and the filled buffers are taken over whole, not copied again.

use super::{CaptureError, LinkType, Packet, PacketSource};
use crate::model::Timestamp;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// Which container format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Classic libpcap; `nanos` for the nanosecond-resolution magic.
    Pcap {
        nanos: bool,
        big_endian: bool,
    },
    PcapNg,
}

/// Limits and strictness of the reader.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Largest captured length accepted for one packet record (default 256 KiB). A longer record
    /// is reported as corrupt rather than allocated.
    pub max_record: u32,
    /// Also reject records whose captured length exceeds the file's / interface's snaplen
    /// (when the snaplen is not 0). Default true.
    pub enforce_snaplen: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_record: 256 * 1024,
            enforce_snaplen: true,
        }
    }
}

/// Largest non-packet block (SHB, IDB) that is buffered to read its options.
const MAX_META_BLOCK: u64 = 1 << 20;
/// Read-ahead chunk. 128 KiB rather than 64: half the read(2) calls, measurably less CPU on the
/// reading thread of a large file (2 %), while the buffer (two chunks) still stays in L2.
const CHUNK: usize = 128 * 1024;

/// Bytes kept free in front of the file data of each read-ahead buffer: the start of a record
/// that straddles two buffers is copied there, in front of its rest, so the record lies in one
/// piece without copying the new buffer's data. 64 KiB holds the records of ordinary traffic;
/// a larger one (a 64 KiB offloaded TCP segment with its headers) is gathered by copying (see
/// [`FileReader::fill_ahead`]).
const HEADROOM: usize = 64 * 1024;
/// File bytes per read-ahead buffer. With [`AHEAD_BUFFERS`] of them the thread is woken once
/// per 1 MiB read (see [`ReadAhead`]); 2 MiB in flight, far less than the pipeline's own
/// buffers. Per-buffer wake-ups (256 KiB x 4, and more so 128 KiB x 4) measurably cost CPU on
/// a capture where both cores are busy anyway (MMS only).
const AHEAD_CHUNK: usize = 256 * 1024;
/// Read-ahead buffers (filled, being filled, being parsed, or on their way back), given back to
/// the thread in batches of half of them.
const AHEAD_BUFFERS: usize = 8;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_PB: u32 = 0x0000_0002;
const PCAPNG_SPB: u32 = 0x0000_0003;
const PCAPNG_EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

#[derive(Debug, Clone)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second (from if_tsresol, default 10^6).
    units_per_sec: u64,
    /// if_tsoffset: seconds added to every timestamp.
    ts_offset: i64,
}

#[derive(Debug)]
enum State {
    Pcap {
        big_endian: bool,
        nanos: bool,
        link_type: LinkType,
        snaplen: u32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// A pcap or pcapng file read as a stream of [`Packet`]s.
pub struct FileReader<R: Read = File> {
    src: R,
    name: String,
    buf: Vec<u8>,
    /// Valid bytes are `buf[start..end]`; `buf[start]` is at file offset `pos`.
    start: usize,
    end: usize,
    pos: u64,
    eof: bool,
    /// Bytes of the last packet handed out, consumed on the next call.
    pending: usize,
    total: Option<u64>,
    state: State,
    format: FileFormat,
    frame: u64,
    done: bool,
    opts: ReaderOptions,
    /// When set, the file is read on another thread and `buf` is the last buffer it filled
    /// (or, after a record larger than [`HEADROOM`], one gathering such a record).
    ahead: Option<ReadAhead>,
}

/// What the read-ahead thread hands over, in file order.
enum Filled {
    /// A buffer whose `[HEADROOM..HEADROOM + len]` holds the next `len` bytes of the file
    /// (`len > 0`).
    Data(Vec<u8>, usize),
    /// The end of the file.
    End,
    /// `read` failed; nothing follows.
    Failed(std::io::Error),
}

/// A thread reading a file into a fixed set of buffers of `HEADROOM + chunk` bytes, each filled
/// up to the end of the file and handed over whole; the reader gives them back for reuse.
///
/// The buffers come back in batches of half of them, and the thread waits for a batch only
/// when it has none left: when the thread is ahead (the usual case) it is woken once per
/// batch, not once per buffer. A wake-up of a thread on another core is expensive (an
/// inter-processor interrupt, on a virtual machine an exit to the hypervisor), and on a capture
/// where both cores are busy anyway it is CPU taken from the parsing.
struct ReadAhead {
    /// `None` once stopped.
    filled: Option<Receiver<Filled>>,
    emptied: Option<Sender<Vec<Vec<u8>>>>,
    thread: Option<JoinHandle<()>>,
    /// Buffers the reader is done with, not yet sent back.
    returned: Vec<Vec<u8>>,
    /// How many are sent back at once.
    batch: usize,
    /// Whether the reader's current buffer is one of the thread's (else it is the reader's own
    /// first buffer, or one a record larger than the headroom was gathered in).
    current_is_ours: bool,
}

impl ReadAhead {
    fn start<S: Read + Send + 'static>(
        src: S,
        chunk: usize,
        buffers: usize,
    ) -> std::io::Result<Self> {
        // Two at least: the one the reader parses and one being filled.
        let buffers = buffers.max(2);
        // Never blocks: there are only `buffers` buffers to send.
        let (filled_tx, filled_rx) = channel();
        let (emptied_tx, emptied_rx) = channel();
        let thread = std::thread::Builder::new()
            .name("mmscope-read".into())
            .spawn(move || read_into_buffers(src, chunk, buffers, filled_tx, emptied_rx))?;
        Ok(ReadAhead {
            filled: Some(filled_rx),
            emptied: Some(emptied_tx),
            thread: Some(thread),
            returned: Vec::with_capacity(buffers / 2),
            batch: buffers / 2,
            current_is_ours: false,
        })
    }

    fn next(&self) -> Filled {
        match self.filled.as_ref().map(|r| r.recv()) {
            Some(Ok(f)) => f,
            // Only after `Failed`/`End` (which end the thread) or a panic in it.
            _ => Filled::Failed(std::io::Error::other("the read-ahead thread stopped")),
        }
    }

    /// Return one of the thread's buffers the reader is done with. None may be lost: the thread
    /// waits for them once it has filled all of them. (With `batch` at most half of the
    /// buffers, a batch is always complete before the reader runs out of filled ones.)
    fn give_back(&mut self, buf: Vec<u8>) {
        self.returned.push(buf);
        if self.returned.len() >= self.batch
            && let Some(emptied) = &self.emptied
        {
            // The thread may have ended (end of file): then the buffers are simply freed.
            let _ = emptied.send(std::mem::take(&mut self.returned));
        }
    }
}

impl Drop for ReadAhead {
    /// Stop the thread and wait for it: it may be waiting for buffers to come back (which fails
    /// once the sender is gone) or in one `read`. Waiting matters when the reader seeks: the
    /// thread's file shares the file offset.
    fn drop(&mut self) {
        drop(self.filled.take());
        drop(self.emptied.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The read-ahead thread: fill a buffer from `src` until it is full or the file ends, hand it
/// over, repeat. `buffers` are allocated as they are first needed; after that the thread waits
/// for them to come back.
fn read_into_buffers<S: Read>(
    mut src: S,
    chunk: usize,
    buffers: usize,
    filled: Sender<Filled>,
    emptied: Receiver<Vec<Vec<u8>>>,
) {
    let mut free: Vec<Vec<u8>> = Vec::with_capacity(buffers);
    let mut allocated = 0;
    loop {
        let mut buf = match free.pop() {
            Some(buf) => buf,
            None if allocated < buffers => {
                allocated += 1;
                vec![0; HEADROOM + chunk]
            }
            None => match emptied.recv() {
                Ok(batch) => {
                    free.extend(batch);
                    continue;
                }
                Err(_) => return, // the reader stopped
            },
        };
        let mut len = 0;
        let mut last = None;
        while len < chunk {
            match src.read(&mut buf[HEADROOM + len..HEADROOM + chunk]) {
                Ok(0) => {
                    last = Some(Filled::End);
                    break;
                }
                Ok(k) => len += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    last = Some(Filled::Failed(e));
                    break;
                }
            }
        }
        if len > 0 && filled.send(Filled::Data(buf, len)).is_err() {
            return; // the reader stopped
        }
        if let Some(last) = last {
            let _ = filled.send(last);
            return;
        }
    }
}

impl FileReader<File> {
    /// Open a capture file and read its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        Self::open_with(path, ReaderOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, opts: ReaderOptions) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |error| CaptureError::Io {
            path: name.clone(),
            error,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            return Err(CaptureError::IsDirectory { path: name });
        }
        let file = File::open(path).map_err(io)?;
        let total = meta.is_file().then_some(meta.len());
        FileReader::from_reader(file, name, total, opts)
    }

    /// Read the rest of the file on a thread of its own, ahead of the parsing, in buffers that
    /// are handed over whole (the start of a record straddling two buffers is the only thing
    /// copied). Worth it where the parsing thread is the bottleneck and a core is free for the
    /// kernel's copy (the batch path); packets, errors and [`PacketSource::bytes_read`] are the
    /// same as without. A [`FileReader::seek_to`] stops it again. When the thread cannot be
    /// started the reader stays as it was and the error is returned.
    pub fn read_ahead(&mut self) -> std::io::Result<()> {
        self.read_ahead_with(AHEAD_CHUNK, AHEAD_BUFFERS)
    }

    fn read_ahead_with(&mut self, chunk: usize, buffers: usize) -> std::io::Result<()> {
        if self.ahead.is_some() || self.eof {
            return Ok(());
        }
        // The clone shares the file offset: it goes on where this reader's reads stopped.
        let file = self.src.try_clone()?;
        self.read_ahead_from(file, chunk, buffers)
    }
}

impl<R: Read + std::io::Seek> FileReader<R> {
    /// Go on reading at file offset `offset`, where frame `frame + 1` starts: an offset that
    /// [`PacketSource::bytes_read`] returned after frame `frame` was handed out (the TUI keeps a
    /// few as an index, to decode one PDU again without reading the file from its start).
    ///
    /// For pcapng, `bytes_read` after a packet is the end of its block, so a block boundary.
    /// The packets after it decode with the byte order and the interface table (link type,
    /// if_tsresol, if_tsoffset) of the section the offset lies in; to learn them, the reader
    /// walks the block headers from where it is (or from the file's start, when `offset` is
    /// behind it) up to `offset`, reading section headers and interface descriptions and
    /// skipping every other block without looking at its contents. An `offset` that is not a
    /// block boundary is an error ([`CaptureError::BadLength`]), as is one beyond the file's end
    /// ([`CaptureError::Truncated`]).
    /// Always returns `Ok(true)` (kept as a `bool` for callers written when pcapng could not seek).
    pub fn seek_to(&mut self, offset: u64, frame: u64) -> Result<bool, CaptureError> {
        self.stop_read_ahead()?;
        if self.format == FileFormat::PcapNg {
            self.walk_pcapng_to(offset, frame)?;
            return Ok(true);
        }
        self.jump(offset)?;
        self.frame = frame;
        Ok(true)
    }

    /// Read on this thread again: stop the read-ahead thread (and wait for it: its file shares
    /// the offset), and put the file offset back to the end of what is buffered.
    fn stop_read_ahead(&mut self) -> Result<(), CaptureError> {
        if self.ahead.take().is_some() {
            let buffered_end = self.pos + self.avail() as u64;
            self.src
                .seek(std::io::SeekFrom::Start(buffered_end))
                .map_err(|e| self.io_err(e))?;
        }
        Ok(())
    }

    /// Continue reading at `offset` with an empty buffer.
    fn jump(&mut self, offset: u64) -> Result<(), CaptureError> {
        self.src
            .seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| self.io_err(e))?;
        self.start = 0;
        self.end = 0;
        self.pos = offset;
        self.eof = false;
        self.pending = 0;
        self.done = false;
        Ok(())
    }

    fn walk_pcapng_to(&mut self, offset: u64, frame: u64) -> Result<(), CaptureError> {
        if self.pending > 0 {
            let n = self.pending;
            self.pending = 0;
            self.consume(n);
        }
        if offset < self.pos {
            // The section state at `offset` is only known by reading from the start again.
            self.jump(0)?;
            self.state = State::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            };
        }
        if let Some(total) = self.total
            && offset > total
        {
            return Err(self.truncated("pcapng file (seek beyond its end)", offset, total));
        }
        self.done = false;
        // Errors met on the way name the frame that would follow the seek point.
        self.frame = frame;
        let not_boundary = |pos: u64, len: u64| CaptureError::BadLength {
            what: "pcapng seek offset (not a block boundary: a block starting before it ends after it)",
            offset: pos,
            frame: frame + 1,
            length: len,
            limit: offset - pos,
        };
        while self.pos < offset {
            self.fill_exact(12, "pcapng block header")?;
            let block_start = self.pos;
            if self.u32_at(0, false) == PCAPNG_SHB {
                // The SHB's length is validated (and the block skipped) by read_shb.
                // (A bad byte-order magic is reported by read_shb.)
                let big = self.u32_at(8, false) == 0x4D3C_2B1A;
                let len = self.u32_at(4, big) as u64;
                let magic_ok = big || self.u32_at(8, false) == BYTE_ORDER_MAGIC;
                if magic_ok && len > offset - block_start {
                    return Err(not_boundary(block_start, len));
                }
                self.read_shb()?;
                continue;
            }
            let State::PcapNg { big_endian, .. } = self.state else {
                unreachable!()
            };
            let block_type = self.u32_at(0, big_endian);
            let block_len = self.u32_at(4, big_endian) as u64;
            self.check_block_len(block_len)?;
            if block_len > offset - block_start {
                return Err(not_boundary(block_start, block_len));
            }
            if block_type == PCAPNG_IDB {
                self.read_idb(block_len, big_endian)?;
            } else {
                self.skip_seeking(block_len)?;
            }
        }
        Ok(())
    }

    /// Skip `n` bytes that are known to lie within the file: what is buffered is consumed, a
    /// remainder larger than a read-ahead chunk is passed over with a seek.
    fn skip_seeking(&mut self, n: u64) -> Result<(), CaptureError> {
        let buffered = (self.avail() as u64).min(n);
        self.consume(buffered as usize);
        let rest = n - buffered;
        if rest > CHUNK as u64 {
            self.jump(self.pos + rest)
        } else {
            self.skip_exact(rest, "pcapng block")
        }
    }
}

impl<R: Read> FileReader<R> {
    /// Read a capture from any byte stream (`name` is used in error messages, `total` for
    /// progress when known).
    pub fn from_reader(
        src: R,
        name: impl Into<String>,
        total: Option<u64>,
        opts: ReaderOptions,
    ) -> Result<Self, CaptureError> {
        let mut r = FileReader {
            src,
            name: name.into(),
            buf: Vec::new(),
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
            pending: 0,
            total,
            state: State::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            },
            format: FileFormat::PcapNg,
            frame: 0,
            done: false,
            opts,
            ahead: None,
        };
        r.read_file_header()?;
        Ok(r)
    }

    /// Go on reading from `src` (which must be at the offset where this reader's source is) on
    /// a read-ahead thread, in `buffers` buffers of `chunk` bytes.
    fn read_ahead_from<S: Read + Send + 'static>(
        &mut self,
        src: S,
        chunk: usize,
        buffers: usize,
    ) -> std::io::Result<()> {
        self.ahead = Some(ReadAhead::start(src, chunk, buffers)?);
        Ok(())
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The link type of a classic pcap file, or of the first interface of a pcapng section seen
    /// so far.
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.state {
            State::Pcap { link_type, .. } => Some(*link_type),
            State::PcapNg { interfaces, .. } => interfaces.first().map(|i| i.link_type),
        }
    }

    /// Size of the internal buffer: one record plus read-ahead, whatever the file size.
    pub fn buffer_size(&self) -> usize {
        self.buf.len()
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    fn io_err(&self, error: std::io::Error) -> CaptureError {
        CaptureError::Io {
            path: self.name.clone(),
            error,
        }
    }

    /// Make at least `n` bytes available (fewer only at the end of the file). Returns how many
    /// are available.
    #[inline]
    fn fill(&mut self, n: usize) -> Result<usize, CaptureError> {
        if self.avail() >= n || self.eof {
            return Ok(self.avail());
        }
        self.refill(n)
    }

    /// [`Self::fill`] when the buffer holds fewer than `n` bytes: apart, so that the check
    /// above, made for every record header and body, is inlined into the reader's loop. With
    /// the refill paths in it, `fill` was not inlined despite its `#[inline]`: a call with a
    /// 376-byte stack frame per record, 1.7 % of the CPU of `transactions` on MMS traffic.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, n: usize) -> Result<usize, CaptureError> {
        if self.ahead.is_some() {
            self.fill_ahead(n)
        } else {
            self.fill_reading(n)
        }
    }

    /// [`Self::fill`] from the read-ahead thread's buffers. The live bytes (the start of the
    /// record being read, usually a few hundred bytes) are copied into the next buffer's
    /// headroom, right in front of its data, and that buffer becomes the current one: the file
    /// data itself is not copied. Only a record larger than [`HEADROOM`] is gathered by copying,
    /// into a buffer of its own.
    fn fill_ahead(&mut self, n: usize) -> Result<usize, CaptureError> {
        while self.avail() < n && !self.eof {
            let live = self.avail();
            let ahead = self.ahead.as_mut().expect("read-ahead mode");
            match ahead.next() {
                Filled::Data(mut next, len) => {
                    let done = if live <= HEADROOM {
                        let at = HEADROOM - live;
                        next[at..HEADROOM].copy_from_slice(&self.buf[self.start..self.end]);
                        self.start = at;
                        self.end = HEADROOM + len;
                        std::mem::replace(&mut self.buf, next)
                    } else {
                        // Gathered in a buffer of its own: the thread's buffers keep their size.
                        let mut gathered = Vec::with_capacity(live + len);
                        gathered.extend_from_slice(&self.buf[self.start..self.end]);
                        gathered.extend_from_slice(&next[HEADROOM..HEADROOM + len]);
                        ahead.give_back(next);
                        self.start = 0;
                        self.end = gathered.len();
                        std::mem::replace(&mut self.buf, gathered)
                    };
                    if ahead.current_is_ours {
                        ahead.give_back(done);
                    }
                    ahead.current_is_ours = live <= HEADROOM;
                }
                Filled::End => self.eof = true,
                Filled::Failed(e) => return Err(self.io_err(e)),
            }
        }
        Ok(self.avail())
    }

    /// [`Self::fill`] by reading from the source on this thread.
    fn fill_reading(&mut self, n: usize) -> Result<usize, CaptureError> {
        if self.buf.len() - self.start < n.max(CHUNK) {
            // Move the live bytes to the front, then grow if the record needs it.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let want = n.max(CHUNK) + CHUNK;
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
        }
        while self.avail() < n {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(e)),
            }
        }
        Ok(self.avail())
    }

    fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.avail());
        self.start += n;
        self.pos += n as u64;
    }

    /// Skip `n` bytes without buffering them all. Returns the number actually skipped.
    /// Skip exactly `n` bytes of `what`; fewer before the end of the file is a truncation.
    fn skip_exact(&mut self, n: u64, what: &'static str) -> Result<(), CaptureError> {
        let skipped = self.skip(n)?;
        if skipped < n {
            return Err(CaptureError::Truncated {
                what,
                offset: self.pos - skipped,
                frame: self.frame + 1,
                needed: n,
                available: skipped,
            });
        }
        Ok(())
    }

    fn skip(&mut self, mut n: u64) -> Result<u64, CaptureError> {
        let wanted = n;
        while n > 0 {
            let have = self.fill(1)?;
            if have == 0 {
                break;
            }
            let k = (have as u64).min(n) as usize;
            self.consume(k);
            n -= k as u64;
        }
        Ok(wanted - n)
    }

    #[inline]
    fn u16_at(&self, off: usize, big: bool) -> u16 {
        let b = [self.buf[self.start + off], self.buf[self.start + off + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    #[inline]
    fn u32_at(&self, off: usize, big: bool) -> u32 {
        let s = self.start + off;
        let b = [
            self.buf[s],
            self.buf[s + 1],
            self.buf[s + 2],
            self.buf[s + 3],
        ];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    /// A length field of `what` at the read position, `length`, is beyond `limit`.
    fn bad_length(&self, what: &'static str, length: u64, limit: u64) -> CaptureError {
        CaptureError::BadLength {
            what,
            offset: self.pos,
            frame: self.frame + 1,
            length,
            limit,
        }
    }

    /// Buffer the `need` bytes of `what` at the read position; fewer before the end of the
    /// file is a truncation.
    fn fill_exact(&mut self, need: usize, what: &'static str) -> Result<(), CaptureError> {
        let have = self.fill(need)?;
        if have < need {
            return Err(self.truncated(what, need as u64, have as u64));
        }
        Ok(())
    }

    fn truncated(&self, what: &'static str, needed: u64, available: u64) -> CaptureError {
        CaptureError::Truncated {
            what,
            offset: self.pos,
            frame: self.frame + 1,
            needed,
            available,
        }
    }

    fn read_file_header(&mut self) -> Result<(), CaptureError> {
        let have = self.fill(24)?;
        if have == 0 {
            return Err(CaptureError::Empty {
                path: self.name.clone(),
            });
        }
        let first: Vec<u8> = self.buf[self.start..self.start + have.min(16)].to_vec();
        let magic_le = if have >= 4 { self.u32_at(0, false) } else { 0 };
        let pcap = match magic_le {
            0xA1B2_C3D4 => Some((false, false)),
            0xA1B2_3C4D => Some((false, true)),
            0xD4C3_B2A1 => Some((true, false)),
            0x4D3C_B2A1 => Some((true, true)),
            _ => None,
        };
        if let Some((big_endian, nanos)) = pcap {
            if have < 24 {
                return Err(self.truncated("pcap file header", 24, have as u64));
            }
            let major = self.u16_at(4, big_endian);
            if major != 2 {
                return Err(CaptureError::Unsupported {
                    what: format!("pcap version {major}.{}", self.u16_at(6, big_endian)),
                    offset: 4,
                });
            }
            let snaplen = self.u32_at(16, big_endian);
            // The upper bits carry the FCS length (LINKTYPE_FCS_LEN); the type is the low 16.
            let link_type = LinkType(self.u32_at(20, big_endian) & 0xFFFF);
            self.consume(24);
            self.state = State::Pcap {
                big_endian,
                nanos,
                link_type,
                snaplen,
            };
            self.format = FileFormat::Pcap { nanos, big_endian };
            return Ok(());
        }
        if magic_le == PCAPNG_SHB {
            self.format = FileFormat::PcapNg;
            // The section header block is read by the block loop.
            return Ok(());
        }
        Err(CaptureError::NotACapture {
            path: self.name.clone(),
            first_bytes: first,
        })
    }

    fn read_pcap_record(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let State::Pcap {
            big_endian,
            nanos,
            link_type,
            snaplen,
        } = self.state
        else {
            unreachable!()
        };
        let have = self.fill(16)?;
        if have == 0 {
            return Ok(None);
        }
        if have < 16 {
            return Err(self.truncated("pcap record header", 16, have as u64));
        }
        // The header taken as one array: one bounds check per record, not one per byte.
        let header: [u8; 16] = self.buf[self.start..self.start + 16]
            .try_into()
            .expect("16 bytes buffered");
        let word = |i: usize| {
            let b = [header[i], header[i + 1], header[i + 2], header[i + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (secs, frac, incl, orig) = (word(0), word(4), word(8), word(12));
        let mut limit = self.opts.max_record;
        if self.opts.enforce_snaplen && snaplen != 0 {
            limit = limit.min(snaplen);
        }
        if incl > limit {
            return Err(self.bad_length("pcap record captured length", incl as u64, limit as u64));
        }
        let need = 16 + incl as usize;
        self.fill_exact(need, "pcap record")?;
        let (extra_secs, nanos_part) = if nanos {
            (frac / 1_000_000_000, frac % 1_000_000_000)
        } else {
            (frac / 1_000_000, (frac % 1_000_000) * 1000)
        };
        self.frame += 1;
        self.pending = need;
        self.done = false;
        let s = self.start;
        Ok(Some(Packet {
            frame: self.frame,
            time: Timestamp {
                secs: secs as i64 + extra_secs as i64,
                nanos: nanos_part,
            },
            link_type,
            data: &self.buf[s + 16..s + need],
            orig_len: orig,
            interface: 0,
            file_offset: self.pos,
        }))
    }

    /// Read the next pcapng block; non-packet blocks are processed or skipped in the loop.
    fn read_pcapng_block(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            let have = self.fill(12)?;
            if have == 0 {
                return Ok(None);
            }
            if have < 12 {
                return Err(self.truncated("pcapng block header", 12, have as u64));
            }
            let block_type_le = self.u32_at(0, false);
            if block_type_le == PCAPNG_SHB {
                self.read_shb()?;
                continue;
            }
            let State::PcapNg { big_endian, .. } = self.state else {
                unreachable!()
            };
            let block_type = self.u32_at(0, big_endian);
            let block_len = self.u32_at(4, big_endian) as u64;
            self.check_block_len(block_len)?;
            match block_type {
                PCAPNG_EPB | PCAPNG_SPB | PCAPNG_PB => {
                    // Options of a packet block are few; allow 64 KiB of them.
                    let limit = self.opts.max_record as u64 + 32 + 65536;
                    if block_len > limit {
                        return Err(self.bad_length(
                            "pcapng packet block length",
                            block_len,
                            limit,
                        ));
                    }
                    let need = block_len as usize;
                    self.fill_exact(need, "pcapng packet block")?;
                    self.check_trailer(block_len, big_endian)?;
                    return self
                        .packet_from_block(block_type, need, big_endian)
                        .map(Some);
                }
                PCAPNG_IDB => self.read_idb(block_len, big_endian)?,
                _ => {
                    // Statistics, name resolution, decryption secrets, custom, unknown: skip.
                    self.skip_exact(block_len, "pcapng block")?;
                }
            }
        }
    }

    fn check_block_len(&self, block_len: u64) -> Result<(), CaptureError> {
        if block_len < 12 || !block_len.is_multiple_of(4) {
            return Err(self.bad_length(
                "pcapng block length (must be >= 12 and a multiple of 4)",
                block_len,
                u32::MAX as u64,
            ));
        }
        Ok(())
    }

    /// Read an interface description block (header already available) into the interface
    /// table of the current section, and consume it.
    fn read_idb(&mut self, block_len: u64, big_endian: bool) -> Result<(), CaptureError> {
        if block_len > MAX_META_BLOCK {
            return Err(self.bad_length(
                "pcapng interface description block length",
                block_len,
                MAX_META_BLOCK,
            ));
        }
        let need = block_len as usize;
        self.fill_exact(need, "pcapng interface description block")?;
        self.check_trailer(block_len, big_endian)?;
        let iface = self.parse_idb(need, big_endian)?;
        if let State::PcapNg { interfaces, .. } = &mut self.state {
            interfaces.push(iface);
        }
        self.consume(need);
        Ok(())
    }

    fn check_trailer(&self, block_len: u64, big: bool) -> Result<(), CaptureError> {
        let trailer = self.u32_at(block_len as usize - 4, big) as u64;
        if trailer != block_len {
            return Err(self.bad_length(
                "pcapng block: trailing length differs from leading length",
                trailer,
                block_len,
            ));
        }
        Ok(())
    }

    fn read_shb(&mut self) -> Result<(), CaptureError> {
        self.fill_exact(28, "pcapng section header block")?;
        let big_endian = match self.u32_at(8, false) {
            BYTE_ORDER_MAGIC => false,
            0x4D3C_2B1A => true,
            other => {
                return Err(CaptureError::Unsupported {
                    what: format!("pcapng byte-order magic {other:#010x}"),
                    offset: self.pos + 8,
                });
            }
        };
        let major = self.u16_at(12, big_endian);
        if major != 1 {
            return Err(CaptureError::Unsupported {
                what: format!("pcapng version {major}.{}", self.u16_at(14, big_endian)),
                offset: self.pos + 12,
            });
        }
        let block_len = self.u32_at(4, big_endian) as u64;
        if block_len < 28 || !block_len.is_multiple_of(4) {
            return Err(self.bad_length(
                "pcapng section header block length",
                block_len,
                u32::MAX as u64,
            ));
        }
        // A new section: interface numbering starts again.
        self.state = State::PcapNg {
            big_endian,
            interfaces: Vec::new(),
        };
        self.skip_exact(block_len, "pcapng section header block")
    }

    fn parse_idb(&self, len: usize, big: bool) -> Result<Interface, CaptureError> {
        if len < 20 {
            return Err(self.bad_length(
                "pcapng interface description block length",
                len as u64,
                20,
            ));
        }
        let link_type = LinkType(self.u16_at(8, big) as u32);
        let snaplen = self.u32_at(12, big);
        let mut iface = Interface {
            link_type,
            snaplen,
            units_per_sec: 1_000_000,
            ts_offset: 0,
        };
        // Options: code u16, length u16, value padded to 4.
        let mut off = 16;
        while off + 4 <= len - 4 {
            let code = self.u16_at(off, big);
            let olen = self.u16_at(off + 2, big) as usize;
            let val = off + 4;
            if code == 0 || val + olen > len - 4 {
                break;
            }
            match (code, olen) {
                (9, 1) => {
                    let v = self.buf[self.start + val];
                    let exp = (v & 0x7F) as u32;
                    let units = if v & 0x80 != 0 {
                        1u64.checked_shl(exp).filter(|_| exp < 64)
                    } else {
                        10u64.checked_pow(exp)
                    };
                    iface.units_per_sec = units.ok_or_else(|| CaptureError::Unsupported {
                        what: format!("pcapng if_tsresol {v:#04x}"),
                        offset: self.pos + val as u64,
                    })?;
                }
                (14, 8) => {
                    let hi = self.u32_at(val, big) as u64;
                    let lo = self.u32_at(val + 4, big) as u64;
                    let v = if big {
                        (hi << 32) | lo
                    } else {
                        (lo << 32) | hi
                    };
                    iface.ts_offset = v as i64;
                }
                _ => {}
            }
            off = val + olen.div_ceil(4) * 4;
        }
        Ok(iface)
    }

    fn packet_from_block(
        &mut self,
        block_type: u32,
        block_len: usize,
        big: bool,
    ) -> Result<Packet<'_>, CaptureError> {
        let block_offset = self.pos;
        let frame = self.frame + 1;
        // (interface, ts units, captured len, orig len, data offset in block)
        let (interface, ts, caplen, orig, data_off) = match block_type {
            PCAPNG_EPB => {
                if block_len < 32 {
                    return Err(self.bad_length(
                        "enhanced packet block length",
                        block_len as u64,
                        32,
                    ));
                }
                let ts = ((self.u32_at(12, big) as u64) << 32) | self.u32_at(16, big) as u64;
                (
                    self.u32_at(8, big),
                    Some(ts),
                    self.u32_at(20, big),
                    self.u32_at(24, big),
                    28,
                )
            }
            PCAPNG_PB => {
                if block_len < 32 {
                    return Err(self.bad_length("packet block length", block_len as u64, 32));
                }
                let ts = ((self.u32_at(12, big) as u64) << 32) | self.u32_at(16, big) as u64;
                (
                    self.u16_at(8, big) as u32,
                    Some(ts),
                    self.u32_at(20, big),
                    self.u32_at(24, big),
                    28,
                )
            }
            _ => {
                // Simple packet block: interface 0, no timestamp; captured length is what
                // fits in the block (and the snaplen).
                if block_len < 16 {
                    return Err(self.bad_length(
                        "simple packet block length",
                        block_len as u64,
                        16,
                    ));
                }
                let orig = self.u32_at(8, big);
                let room = (block_len - 16) as u32;
                (0, None, orig.min(room), orig, 12)
            }
        };
        let State::PcapNg { interfaces, .. } = &self.state else {
            unreachable!()
        };
        let Some(iface) = interfaces.get(interface as usize) else {
            return Err(CaptureError::Unsupported {
                what: format!(
                    "packet on interface {interface}, but the section describes only {} \
                     interface(s) (frame {frame})",
                    interfaces.len()
                ),
                offset: block_offset,
            });
        };
        let mut caplen = caplen;
        if block_type == PCAPNG_SPB && iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        let mut limit = self.opts.max_record;
        if self.opts.enforce_snaplen && iface.snaplen != 0 {
            limit = limit.min(iface.snaplen);
        }
        if caplen > limit {
            return Err(self.bad_length("packet captured length", caplen as u64, limit as u64));
        }
        if data_off + caplen as usize > block_len - 4 {
            return Err(self.bad_length(
                "packet captured length (larger than its block)",
                caplen as u64,
                (block_len - 4 - data_off) as u64,
            ));
        }
        let time = match ts {
            Some(ts) => {
                let u = iface.units_per_sec;
                let secs = (ts / u) as i64 + iface.ts_offset;
                let nanos = ((ts % u) as u128 * 1_000_000_000 / u as u128) as u32;
                Timestamp { secs, nanos }
            }
            None => Timestamp { secs: 0, nanos: 0 },
        };
        let link_type = iface.link_type;
        self.frame = frame;
        self.pending = block_len;
        self.done = false;
        let s = self.start + data_off;
        Ok(Packet {
            frame,
            time,
            link_type,
            data: &self.buf[s..s + caplen as usize],
            orig_len: orig,
            interface,
            file_offset: block_offset,
        })
    }
}

impl<R: Read> PacketSource for FileReader<R> {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.pending > 0 {
            let n = self.pending;
            self.pending = 0;
            self.consume(n);
        }
        if self.done {
            return None;
        }
        // Assume the end (or an error); a packet read clears it again.
        self.done = true;
        match self.state {
            State::Pcap { .. } => self.read_pcap_record(),
            State::PcapNg { .. } => self.read_pcapng_block(),
        }
        .transpose()
    }

    fn bytes_read(&self) -> u64 {
        self.pos + self.pending as u64
    }

    fn total_bytes(&self) -> Option<u64> {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Everything a packet carries, and the progress after it.
    #[derive(Debug, PartialEq)]
    struct Seen {
        frame: u64,
        time: Timestamp,
        link_type: LinkType,
        data: Vec<u8>,
        orig_len: u32,
        interface: u32,
        file_offset: u64,
        bytes_read: u64,
    }

    /// Every packet, then the error that ended the reading (as printed, and its fields), and
    /// `bytes_read` at the end.
    fn drain<R: Read>(r: &mut FileReader<R>) -> (Vec<Seen>, Option<String>, u64) {
        let mut seen = Vec::new();
        let mut error = None;
        while let Some(p) = r.next_packet() {
            match p {
                Ok(p) => {
                    let s = Seen {
                        frame: p.frame,
                        time: p.time,
                        link_type: p.link_type,
                        data: p.data.to_vec(),
                        orig_len: p.orig_len,
                        interface: p.interface,
                        file_offset: p.file_offset,
                        bytes_read: 0,
                    };
                    seen.push(Seen {
                        bytes_read: r.bytes_read(),
                        ..s
                    });
                }
                Err(e) => error = Some(format!("{e} / {e:?}")),
            }
        }
        (seen, error, r.bytes_read())
    }

    fn plain(bytes: &[u8]) -> (Vec<Seen>, Option<String>, u64) {
        let src = Cursor::new(bytes.to_vec());
        let mut r = FileReader::from_reader(src, "t", None, ReaderOptions::default()).unwrap();
        drain(&mut r)
    }

    /// Read `bytes` with read-ahead from right after the 24 bytes of the file header, in
    /// buffers of `chunk` bytes (the reader's own first read stops there, so every record goes
    /// through the read-ahead buffers), five of them (given back two at a time).
    fn ahead_over<S: Read + Send + 'static>(
        bytes: &[u8],
        src: impl FnOnce(u64) -> S,
        chunk: usize,
    ) -> (Vec<Seen>, Option<String>, u64) {
        let header = Cursor::new(bytes[..24].to_vec());
        let mut r = FileReader::from_reader(header, "t", None, ReaderOptions::default()).unwrap();
        assert_eq!(r.src.position(), 24);
        r.read_ahead_from(src(24), chunk, 5).unwrap();
        drain(&mut r)
    }

    fn ahead(bytes: &[u8], chunk: usize) -> (Vec<Seen>, Option<String>, u64) {
        let all = bytes.to_vec();
        ahead_over(
            bytes,
            |at| {
                let mut c = Cursor::new(all);
                c.set_position(at);
                c
            },
            chunk,
        )
    }

    fn captures() -> Vec<(String, Vec<u8>)> {
        let files = crate::capture::shipped_captures();
        assert!(files.len() >= 10, "{files:?}");
        files
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    }

    fn pcap_file(records: &[(u32, usize)]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&(256 * 1024u32).to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for (i, &(secs, len)) in records.iter().enumerate() {
            f.extend_from_slice(&secs.to_le_bytes());
            f.extend_from_slice(&(i as u32 * 1000).to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(&(len as u32 + 4).to_le_bytes());
            f.extend((0..len).map(|k| (k * 7 + i) as u8));
        }
        f
    }

    /// Every shipped capture, in buffers smaller than one record, about one record, and
    /// several records (records straddle buffers at every position): the same packets, bytes
    /// and progress as read on one thread.
    #[test]
    fn read_ahead_hands_out_what_the_plain_reader_does() {
        for (name, bytes) in captures() {
            let want = plain(&bytes);
            assert!(want.0.len() >= 5 && want.1.is_none(), "{name}");
            assert_eq!(want.2, bytes.len() as u64, "{name}");
            for chunk in [7, 100, 1500, 4096, 65536] {
                assert!(ahead(&bytes, chunk) == want, "{name}, chunk {chunk}");
            }
        }
    }

    /// The public entry on a file: the reader has already read a first chunk on its own
    /// thread (more than the headroom: gathered by copying once), the thread goes on at the
    /// shared file offset.
    #[test]
    fn read_ahead_on_an_open_file_goes_on_where_the_reader_stopped() {
        for (name, bytes) in captures() {
            let want = plain(&bytes);
            let mut r = FileReader::open(&name).unwrap();
            r.read_ahead_with(4096, 1).unwrap();
            assert!(r.ahead.is_some());
            let (seen, error, end) = drain(&mut r);
            assert!(seen == want.0, "{name}");
            assert_eq!((error, end), (want.1.clone(), want.2), "{name}");
            let mut r = FileReader::open(&name).unwrap();
            r.read_ahead().unwrap();
            assert!(drain(&mut r) == want, "{name}");
        }
    }

    /// Records smaller than the headroom are handed out from the buffers the thread filled
    /// (their length says so: a gathered record's buffer has the record's length). Only the
    /// record larger than the headroom (http_mm1_large_send has one of 65 KB) is gathered, and
    /// the few after it that were read with it.
    #[test]
    fn small_records_are_not_gathered() {
        for (name, bytes) in captures() {
            let header = Cursor::new(bytes[..24].to_vec());
            let mut r = FileReader::from_reader(header, "t", None, Default::default()).unwrap();
            let mut rest = Cursor::new(bytes.clone());
            rest.set_position(24);
            r.read_ahead_from(rest, 1000, 2).unwrap();
            let (mut n, mut gathered, mut large) = (0, 0, 0);
            while let Some(p) = r.next_packet() {
                let p = p.unwrap();
                large += (p.data.len() > HEADROOM - 100) as usize;
                if r.buffer_size() != HEADROOM + 1000 {
                    gathered += 1;
                }
                n += 1;
            }
            assert!(n >= 5);
            assert!(gathered <= large, "{name}: {gathered} of {n}");
        }
    }

    /// Records larger than the headroom (one larger than a buffer too) are gathered into one
    /// growing buffer; the ones after them go back to swapping buffers.
    #[test]
    fn records_larger_than_the_headroom() {
        let bytes = pcap_file(&[
            (1, 60),
            (2, HEADROOM + 1),
            (3, 1500),
            (4, 200_000),
            (5, 10),
            (6, HEADROOM - 16),
            (7, 0),
            (8, 3000),
        ]);
        let want = plain(&bytes);
        assert_eq!(want.0.len(), 8);
        assert_eq!(want.0[3].data.len(), 200_000);
        for chunk in [100, 4096, HEADROOM, 150_000, 300_000] {
            assert!(ahead(&bytes, chunk) == want, "chunk {chunk}");
        }
    }

    /// A last record cut short: the same packets before it, the same error (frame, offset,
    /// how much was there), the same progress.
    #[test]
    fn truncated_last_record_is_the_same_error() {
        let whole = pcap_file(&[(1, 100), (2, 2000), (3, 5000)]);
        for cut in [1, 10, 16, 17, 4000] {
            let bytes = &whole[..whole.len() - cut];
            let want = plain(bytes);
            assert_eq!(want.0.len(), 2, "cut {cut}");
            assert!(want.1.as_ref().unwrap().contains("Truncated"), "{want:?}");
            for chunk in [7, 1000, 8192] {
                assert!(ahead(bytes, chunk) == want, "cut {cut}, chunk {chunk}");
            }
        }
        // A pcapng capture cut in its last block.
        let (_, bytes) = captures()
            .into_iter()
            .find(|(n, _)| n.ends_with("http_mm1_basic.pcapng"))
            .unwrap();
        let bytes = &bytes[..bytes.len() - 30];
        let want = plain(bytes);
        assert!(want.1.as_ref().unwrap().contains("Truncated"), "{want:?}");
        for chunk in [7, 1000, 8192] {
            assert!(ahead(bytes, chunk) == want, "chunk {chunk}");
        }
    }

    /// Nothing after the file header (pcap) or the section header (pcapng): no packets, no
    /// error.
    #[test]
    fn empty_capture_after_the_header() {
        let bytes = pcap_file(&[]);
        assert_eq!(bytes.len(), 24);
        let want = plain(&bytes);
        assert_eq!((want.0.len(), &want.1, want.2), (0, &None, 24));
        assert!(ahead(&bytes, 100) == want);
        let (_, ng) = captures()
            .into_iter()
            .find(|(n, _)| n.ends_with("http_mm1_basic.pcapng"))
            .unwrap();
        let shb_len = u32::from_le_bytes(ng[4..8].try_into().unwrap()) as usize;
        let bytes = &ng[..shb_len];
        let want = plain(bytes);
        assert_eq!((want.0.len(), &want.1, want.2), (0, &None, shb_len as u64));
        assert!(ahead(bytes, 7) == want);
    }

    /// A read error is reported as on one thread, after the same packets.
    #[test]
    fn read_error_is_the_same_error() {
        /// Reads `data` up to `fail_at`, then fails.
        struct FailAt {
            data: Cursor<Vec<u8>>,
            fail_at: u64,
        }
        impl Read for FailAt {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let left = self.fail_at - self.data.position();
                if left == 0 {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let n = buf.len().min(left as usize);
                self.data.read(&mut buf[..n])
            }
        }
        let bytes = pcap_file(&[(1, 100), (2, 2000), (3, 5000), (4, 10)]);
        let fail_at = 24 + 16 + 100 + 16 + 1000;
        let source = |at| {
            let mut data = Cursor::new(bytes.clone());
            data.set_position(at);
            FailAt { data, fail_at }
        };
        let mut r = FileReader::from_reader(source(0), "t", None, Default::default()).unwrap();
        let want = drain(&mut r);
        assert_eq!(want.0.len(), 1);
        assert!(
            want.1.as_ref().unwrap().starts_with("t: disk on fire"),
            "{want:?}"
        );
        for chunk in [7, 1000, 100_000] {
            assert!(ahead_over(&bytes, source, chunk) == want, "chunk {chunk}");
        }
    }

    /// Seeking (forwards and backwards) stops the read-ahead thread (its file shares the offset)
    /// and reads on from the offset as the plain reader does; a reader dropped half-way stops
    /// its thread.
    #[test]
    fn seek_and_drop_stop_the_thread() {
        for (name, bytes) in captures() {
            let want = plain(&bytes).0;
            let mid = want.len() / 2;
            for read_first in [3, want.len() * 3 / 4] {
                let mut r = FileReader::open(&name).unwrap();
                r.read_ahead_with(100, 1).unwrap();
                for _ in 0..read_first {
                    r.next_packet().unwrap().unwrap();
                }
                r.seek_to(want[mid].bytes_read, want[mid].frame).unwrap();
                assert!(r.ahead.is_none(), "{name}");
                let (seen, error, _) = drain(&mut r);
                assert!(error.is_none() && seen[..] == want[mid + 1..], "{name}");
            }

            let mut r = FileReader::open(&name).unwrap();
            r.read_ahead_with(100, 1).unwrap();
            r.next_packet().unwrap().unwrap();
            drop(r);
        }
    }
}
