//! Writing pcap/pcapng files (used by the capture generator and by live capture with -w).
//!
//! Three formats behind one trait, [`PacketWriter`]:
//! - classic pcap with microsecond timestamps (magic `a1b2c3d4`) or nanosecond timestamps
//!   (magic `a1b23c4d`), little-endian;
//! - pcapng: one Section Header Block, one Interface Description Block (link type, snap length,
//!   `if_tsresol` = 9 so timestamps are in nanoseconds), then one Enhanced Packet Block a packet.
//!
//! Every writer buffers its output and counts the bytes it has produced, which is what
//! [`RotatingWriter`] needs to start a new file when a size or time limit is reached.

use crate::model::Timestamp;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Link-layer header types (tcpdump.org LINKTYPE_ values) used by mmscope.
pub mod linktype {
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const LINUX_SLL2: u32 = 276;
}

/// The default snap length (as tcpdump and dumpcap use).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Capacity of the output buffer of each writer.
const BUFFER_CAPACITY: usize = 1 << 20;

/// Which file format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// pcap, microsecond timestamps.
    Pcap,
    /// pcap, nanosecond timestamps.
    PcapNanos,
    /// pcapng, nanosecond timestamps (`if_tsresol` = 9).
    Pcapng,
}

impl Format {
    /// The usual file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pcap | Format::PcapNanos => "pcap",
            Format::Pcapng => "pcapng",
        }
    }
}

/// Something packets can be written to.
pub trait PacketWriter {
    /// Write one packet. `data` is what was captured (at most the snap length is kept);
    /// `orig_len` is the length of the packet on the wire (≥ `data.len()`).
    fn write_packet(&mut self, time: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()>;
    /// Bytes produced so far (headers included), whether flushed or still buffered.
    fn bytes_written(&self) -> u64;
    /// Packets written so far.
    fn packets_written(&self) -> u64;
    /// Push buffered bytes to the underlying writer.
    fn flush(&mut self) -> io::Result<()>;
}

/// Classic pcap writer (little-endian).
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
    nanos: bool,
    snaplen: u32,
    bytes: u64,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Write the 24-byte file header and return the writer.
    pub fn new(out: W, linktype: u32, snaplen: u32, nanos: bool) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(BUFFER_CAPACITY, out);
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&magic.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            nanos,
            snaplen,
            bytes: 24,
            packets: 0,
        })
    }

    /// Flush and return the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

impl<W: Write> PacketWriter for PcapWriter<W> {
    fn write_packet(&mut self, time: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let kept = data.len().min(self.snaplen as usize);
        let frac = if self.nanos {
            time.nanos
        } else {
            time.nanos / 1000
        };
        let mut rec = [0u8; 16];
        // pcap stores seconds as u32: times before 1970 or after 2106 cannot be represented.
        rec[0..4].copy_from_slice(&(time.secs as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&frac.to_le_bytes());
        rec[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&orig_len.max(kept as u32).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(&data[..kept])?;
        self.bytes += 16 + kept as u64;
        self.packets += 1;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.bytes
    }

    fn packets_written(&self) -> u64 {
        self.packets
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// pcapng writer: one section, one interface, Enhanced Packet Blocks (little-endian).
pub struct PcapngWriter<W: Write> {
    out: BufWriter<W>,
    snaplen: u32,
    bytes: u64,
    packets: u64,
}

/// Bytes of padding to bring `len` to a multiple of 4.
fn pad4(len: usize) -> usize {
    (4 - len % 4) % 4
}

impl<W: Write> PcapngWriter<W> {
    /// Write the Section Header Block and the Interface Description Block.
    /// `application` goes into the SHB's `shb_userappl` option.
    pub fn new(out: W, linktype: u32, snaplen: u32, application: &str) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(BUFFER_CAPACITY, out);
        let mut bytes = 0u64;

        // Section Header Block.
        let mut opts = Vec::new();
        push_option(&mut opts, 4, application.as_bytes()); // shb_userappl
        push_option(&mut opts, 0, &[]); // opt_endofopt
        let shb_len = 28 + opts.len() as u32;
        let mut shb = Vec::with_capacity(shb_len as usize);
        shb.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
        shb.extend_from_slice(&shb_len.to_le_bytes());
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length not given
        shb.extend_from_slice(&opts);
        shb.extend_from_slice(&shb_len.to_le_bytes());
        out.write_all(&shb)?;
        bytes += shb.len() as u64;

        // Interface Description Block, nanosecond timestamps.
        let mut opts = Vec::new();
        push_option(&mut opts, 9, &[9]); // if_tsresol: 10^-9
        push_option(&mut opts, 0, &[]);
        let idb_len = 20 + opts.len() as u32;
        let mut idb = Vec::with_capacity(idb_len as usize);
        idb.extend_from_slice(&1u32.to_le_bytes());
        idb.extend_from_slice(&idb_len.to_le_bytes());
        idb.extend_from_slice(&(linktype as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&snaplen.to_le_bytes());
        idb.extend_from_slice(&opts);
        idb.extend_from_slice(&idb_len.to_le_bytes());
        out.write_all(&idb)?;
        bytes += idb.len() as u64;

        Ok(PcapngWriter {
            out,
            snaplen,
            bytes,
            packets: 0,
        })
    }

    /// Flush and return the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// Append one pcapng option (code, length, value, padding).
fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.extend(std::iter::repeat_n(0u8, pad4(value.len())));
}

impl<W: Write> PacketWriter for PcapngWriter<W> {
    fn write_packet(&mut self, time: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let kept = data.len().min(self.snaplen as usize);
        let padding = pad4(kept);
        let block_len = 32 + kept + padding;
        let ts = (time.secs as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(time.nanos as u64);
        let mut head = [0u8; 28];
        head[0..4].copy_from_slice(&6u32.to_le_bytes());
        head[4..8].copy_from_slice(&(block_len as u32).to_le_bytes());
        // interface id 0 (bytes 8..12)
        head[12..16].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
        head[16..20].copy_from_slice(&(ts as u32).to_le_bytes());
        head[20..24].copy_from_slice(&(kept as u32).to_le_bytes());
        head[24..28].copy_from_slice(&orig_len.max(kept as u32).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(&data[..kept])?;
        self.out.write_all(&[0u8; 3][..padding])?;
        self.out.write_all(&(block_len as u32).to_le_bytes())?;
        self.bytes += block_len as u64;
        self.packets += 1;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.bytes
    }

    fn packets_written(&self) -> u64 {
        self.packets
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A writer of either format over any `Write`.
pub enum AnyWriter<W: Write> {
    Pcap(PcapWriter<W>),
    Pcapng(PcapngWriter<W>),
}

impl<W: Write> AnyWriter<W> {
    pub fn new(out: W, format: Format, linktype: u32, snaplen: u32) -> io::Result<Self> {
        Ok(match format {
            Format::Pcap => AnyWriter::Pcap(PcapWriter::new(out, linktype, snaplen, false)?),
            Format::PcapNanos => AnyWriter::Pcap(PcapWriter::new(out, linktype, snaplen, true)?),
            Format::Pcapng => {
                AnyWriter::Pcapng(PcapngWriter::new(out, linktype, snaplen, "mmscope")?)
            }
        })
    }
}

impl<W: Write> PacketWriter for AnyWriter<W> {
    fn write_packet(&mut self, time: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        match self {
            AnyWriter::Pcap(w) => w.write_packet(time, data, orig_len),
            AnyWriter::Pcapng(w) => w.write_packet(time, data, orig_len),
        }
    }
    fn bytes_written(&self) -> u64 {
        match self {
            AnyWriter::Pcap(w) => w.bytes_written(),
            AnyWriter::Pcapng(w) => w.bytes_written(),
        }
    }
    fn packets_written(&self) -> u64 {
        match self {
            AnyWriter::Pcap(w) => w.packets_written(),
            AnyWriter::Pcapng(w) => w.packets_written(),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            AnyWriter::Pcap(w) => w.flush(),
            AnyWriter::Pcapng(w) => w.flush(),
        }
    }
}

/// When [`RotatingWriter`] starts a new file.
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    /// Start a new file before a packet would take the current one past this many bytes.
    pub max_bytes: Option<u64>,
    /// Start a new file when a packet's time is this many seconds after the file's first packet.
    pub max_seconds: Option<u64>,
    /// Keep only the last N files (a ring buffer, `--ring N`); older ones are deleted.
    pub ring: Option<usize>,
}

/// Writes `BASE_00001.EXT`, `BASE_00002.EXT`, … starting a new file when a limit of
/// [`Rotation`] is reached, and deleting the oldest files beyond the ring size.
pub struct RotatingWriter {
    base: PathBuf,
    format: Format,
    linktype: u32,
    snaplen: u32,
    rotation: Rotation,
    current: Option<AnyWriter<File>>,
    /// Time of the first packet in the current file.
    file_start: Option<Timestamp>,
    next_index: u32,
    files: VecDeque<PathBuf>,
    /// Bytes and packets of the files already closed.
    closed_bytes: u64,
    closed_packets: u64,
}

impl RotatingWriter {
    /// `base` is the path given by the user: `cap.pcapng` gives `cap_00001.pcapng`, …
    pub fn new(
        base: &Path,
        format: Format,
        linktype: u32,
        snaplen: u32,
        rotation: Rotation,
    ) -> Self {
        RotatingWriter {
            base: base.to_path_buf(),
            format,
            linktype,
            snaplen,
            rotation,
            current: None,
            file_start: None,
            next_index: 1,
            files: VecDeque::new(),
            closed_bytes: 0,
            closed_packets: 0,
        }
    }

    /// The name of file number `index`.
    pub fn file_name(&self, index: u32) -> PathBuf {
        let stem = self
            .base
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        let ext = self
            .base
            .extension()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.format.extension().into());
        self.base.with_file_name(format!("{stem}_{index:05}.{ext}"))
    }

    /// Files currently kept, oldest first.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|p| p.as_path())
    }

    fn open_next(&mut self) -> io::Result<()> {
        self.close_current()?;
        let path = self.file_name(self.next_index);
        self.next_index += 1;
        let file = File::create(&path)?;
        self.current = Some(AnyWriter::new(
            file,
            self.format,
            self.linktype,
            self.snaplen,
        )?);
        self.files.push_back(path);
        if let Some(ring) = self.rotation.ring {
            while self.files.len() > ring.max(1) {
                if let Some(old) = self.files.pop_front() {
                    std::fs::remove_file(&old)?;
                }
            }
        }
        Ok(())
    }

    fn close_current(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.current.take() {
            w.flush()?;
            self.closed_bytes += w.bytes_written();
            self.closed_packets += w.packets_written();
        }
        self.file_start = None;
        Ok(())
    }

    /// Flush and close the current file.
    pub fn finish(mut self) -> io::Result<()> {
        self.close_current()
    }
}

impl PacketWriter for RotatingWriter {
    fn write_packet(&mut self, time: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let record_len = match self.format {
            Format::Pcap | Format::PcapNanos => 16 + data.len() as u64,
            Format::Pcapng => 32 + data.len() as u64 + pad4(data.len()) as u64,
        };
        let rotate = match (&self.current, self.file_start) {
            (None, _) => true,
            (Some(w), start) => {
                let too_big = self.rotation.max_bytes.is_some_and(|max| {
                    w.packets_written() > 0 && w.bytes_written() + record_len > max
                });
                let too_old = match (self.rotation.max_seconds, start) {
                    (Some(max), Some(start)) => time.secs - start.secs >= max as i64,
                    _ => false,
                };
                too_big || too_old
            }
        };
        if rotate {
            self.open_next()?;
        }
        if self.file_start.is_none() {
            self.file_start = Some(time);
        }
        match self.current.as_mut() {
            Some(w) => w.write_packet(time, data, orig_len),
            None => Err(io::Error::other("no open capture file")),
        }
    }

    fn bytes_written(&self) -> u64 {
        self.closed_bytes + self.current.as_ref().map_or(0, |w| w.bytes_written())
    }

    fn packets_written(&self) -> u64 {
        self.closed_packets + self.current.as_ref().map_or(0, |w| w.packets_written())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.current.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32le(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    const T1: Timestamp = Timestamp {
        secs: 1_767_225_600,
        nanos: 123_456_789,
    };

    #[test]
    fn pcap_micro_header_and_record() {
        let mut w = PcapWriter::new(Vec::new(), linktype::ETHERNET, 65535, false).unwrap();
        w.write_packet(T1, &[1, 2, 3, 4, 5], 60).unwrap();
        assert_eq!(w.bytes_written(), 24 + 16 + 5);
        let b = w.into_inner().unwrap();
        assert_eq!(b.len(), 45);
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[4..8], &[2, 0, 4, 0]);
        assert_eq!(u32le(&b, 16), 65535);
        assert_eq!(u32le(&b, 20), 1);
        assert_eq!(u32le(&b, 24), 1_767_225_600);
        assert_eq!(u32le(&b, 28), 123_456); // microseconds
        assert_eq!(u32le(&b, 32), 5);
        assert_eq!(u32le(&b, 36), 60);
        assert_eq!(&b[40..45], &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn pcap_nanos_and_snaplen() {
        let mut w = PcapWriter::new(Vec::new(), linktype::RAW, 4, true).unwrap();
        w.write_packet(T1, &[9, 8, 7, 6, 5, 4], 6).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(u32le(&b, 28), 123_456_789);
        assert_eq!(u32le(&b, 32), 4); // cut to the snap length
        assert_eq!(u32le(&b, 36), 6);
        assert_eq!(b.len(), 24 + 16 + 4);
    }

    #[test]
    fn pcapng_blocks() {
        let mut w = PcapngWriter::new(Vec::new(), linktype::ETHERNET, 262144, "t").unwrap();
        let header_bytes = w.bytes_written();
        w.write_packet(T1, &[0xaa; 5], 5).unwrap();
        assert_eq!(w.bytes_written(), header_bytes + 32 + 8);
        let b = w.into_inner().unwrap();
        assert_eq!(b.len() as u64, header_bytes + 40);
        // SHB
        assert_eq!(u32le(&b, 0), 0x0A0D0D0A);
        let shb_len = u32le(&b, 4) as usize;
        assert_eq!(u32le(&b, 8), 0x1A2B3C4D);
        assert_eq!(u32le(&b, shb_len - 4) as usize, shb_len);
        // IDB
        let idb = &b[shb_len..];
        assert_eq!(u32le(idb, 0), 1);
        let idb_len = u32le(idb, 4) as usize;
        assert_eq!(u16::from_le_bytes([idb[8], idb[9]]), 1);
        assert_eq!(u32le(idb, 12), 262144);
        // if_tsresol option, value 9
        assert_eq!(&idb[16..21], &[9, 0, 1, 0, 9]);
        assert_eq!(u32le(idb, idb_len - 4) as usize, idb_len);
        // EPB
        let epb = &idb[idb_len..];
        assert_eq!(u32le(epb, 0), 6);
        assert_eq!(u32le(epb, 4), 40);
        let ts = ((u32le(epb, 12) as u64) << 32) | u32le(epb, 16) as u64;
        assert_eq!(ts, 1_767_225_600_123_456_789);
        assert_eq!(u32le(epb, 20), 5);
        assert_eq!(u32le(epb, 24), 5);
        assert_eq!(&epb[28..33], &[0xaa; 5]);
        assert_eq!(&epb[33..36], &[0, 0, 0]);
        assert_eq!(u32le(epb, 36), 40);
    }

    #[test]
    fn rotation_by_size_and_ring() {
        let dir = std::env::temp_dir().join(format!("mmscope-rot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("cap.pcap");
        let rot = Rotation {
            max_bytes: Some(24 + 2 * (16 + 100)),
            max_seconds: None,
            ring: Some(2),
        };
        let mut w = RotatingWriter::new(&base, Format::Pcap, linktype::ETHERNET, 65535, rot);
        for i in 0..7 {
            let t = Timestamp {
                secs: 1000 + i,
                nanos: 0,
            };
            w.write_packet(t, &[i as u8; 100], 100).unwrap();
        }
        assert_eq!(w.packets_written(), 7);
        let kept: Vec<PathBuf> = w.files().map(|p| p.to_path_buf()).collect();
        w.finish().unwrap();
        // 7 packets, 2 a file: files 1..4; the ring keeps 3 and 4.
        assert_eq!(
            kept,
            vec![dir.join("cap_00003.pcap"), dir.join("cap_00004.pcap")]
        );
        assert!(!dir.join("cap_00001.pcap").exists());
        assert_eq!(
            std::fs::metadata(dir.join("cap_00003.pcap")).unwrap().len(),
            24 + 2 * 116
        );
        assert_eq!(
            std::fs::metadata(dir.join("cap_00004.pcap")).unwrap().len(),
            24 + 116
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_by_time() {
        let dir = std::env::temp_dir().join(format!("mmscope-rott-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("cap.pcapng");
        let rot = Rotation {
            max_bytes: None,
            max_seconds: Some(10),
            ring: None,
        };
        let mut w = RotatingWriter::new(&base, Format::Pcapng, linktype::ETHERNET, 65535, rot);
        for secs in [0, 5, 9, 10, 25] {
            w.write_packet(Timestamp { secs, nanos: 0 }, &[0; 20], 20)
                .unwrap();
        }
        let n = w.files().count();
        w.finish().unwrap();
        assert_eq!(n, 3); // [0,5,9], [10], [25]
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// tshark/capinfos must read what we write (skipped when capinfos is absent).
    #[test]
    fn capinfos_reads_back() {
        if std::process::Command::new("capinfos")
            .arg("-h")
            .output()
            .is_err()
        {
            eprintln!("skipped: capinfos not installed");
            return;
        }
        let dir = std::env::temp_dir().join(format!("mmscope-ci-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A minimal Ethernet+IPv4+UDP frame (checksums need not be right for capinfos).
        let mut frame = vec![0u8; 42];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[17] = 28;
        frame[23] = 17;
        for format in [Format::Pcap, Format::PcapNanos, Format::Pcapng] {
            let path = dir.join(format!("t{:?}.{}", format, format.extension()));
            let mut w =
                AnyWriter::new(File::create(&path).unwrap(), format, 1, DEFAULT_SNAPLEN).unwrap();
            for i in 0..3 {
                let t = Timestamp {
                    secs: T1.secs + i,
                    nanos: T1.nanos,
                };
                w.write_packet(t, &frame, 42).unwrap();
            }
            w.flush().unwrap();
            drop(w);
            let out = std::process::Command::new("capinfos")
                .args(["-c", "-M", "-T", "-r"])
                .arg(&path)
                .env("TZ", "UTC")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{format:?}: {text}");
            assert!(text.trim_end().ends_with("\t3"), "{format:?}: {text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
