//! Live capture through libpcap (thin wrapper over the `pcap` crate).

use super::{CaptureError, LinkType, Packet, PacketSource};
use crate::model::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An interface libpcap can capture on.
#[derive(Debug, Clone)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
}

/// The interfaces libpcap can capture on.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, CaptureError> {
    let devices = pcap::Device::list().map_err(|e| CaptureError::Live(e.to_string()))?;
    Ok(devices
        .into_iter()
        .map(|d| InterfaceInfo {
            name: d.name,
            description: d.desc,
        })
        .collect())
}

/// How to open a live capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interface: String,
    /// BPF filter expression (tcpdump syntax), if any.
    pub filter: Option<String>,
    pub snaplen: i32,
    pub promiscuous: bool,
}

/// Packets from a live interface. Frame numbers count from 1 as packets arrive.
pub struct LiveSource {
    capture: pcap::Capture<pcap::Active>,
    link_type: LinkType,
    frame: u64,
    stop: Arc<AtomicBool>,
    done: bool,
    data: Vec<u8>,
}

impl LiveSource {
    pub fn open(opts: &LiveOptions) -> Result<Self, CaptureError> {
        let live = |e: pcap::Error| CaptureError::Live(format!("{}: {e}", opts.interface));
        let mut capture = pcap::Capture::from_device(opts.interface.as_str())
            .map_err(live)?
            .snaplen(opts.snaplen)
            .promisc(opts.promiscuous)
            .precision(pcap::Precision::Nano)
            // Wake up regularly so that `stop` is honoured on a quiet interface.
            .timeout(100)
            .open()
            .map_err(live)?;
        if let Some(f) = &opts.filter {
            capture.filter(f, true).map_err(live)?;
        }
        let link_type = LinkType(capture.get_datalink().0 as u32);
        Ok(LiveSource {
            capture,
            link_type,
            frame: 0,
            stop: Arc::new(AtomicBool::new(false)),
            done: false,
            data: Vec::new(),
        })
    }

    /// Set the returned flag to make `next_packet` return `None` at its next wake-up.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub fn link_type(&self) -> LinkType {
        self.link_type
    }
}

impl PacketSource for LiveSource {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        // Assume the end; a packet clears it again.
        self.done = true;
        let (time, orig_len) = loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            match self.capture.next_packet() {
                Ok(p) => {
                    // Copied out so that the borrow of the libpcap handle ends inside the loop
                    // (a conditional return of a borrow from a loop does not pass the borrow
                    // checker); one copy per packet is nothing at live rates.
                    self.data.clear();
                    self.data.extend_from_slice(p.data);
                    // time_t is 32 bits on some targets.
                    #[allow(clippy::unnecessary_cast)]
                    let time = Timestamp {
                        secs: p.header.ts.tv_sec as i64,
                        // Precision::Nano: tv_usec holds nanoseconds.
                        nanos: p.header.ts.tv_usec as u32,
                    };
                    break (time, p.header.len);
                }
                Err(pcap::Error::TimeoutExpired) => continue,
                Err(pcap::Error::NoMorePackets) => return None,
                Err(e) => return Some(Err(CaptureError::Live(e.to_string()))),
            }
        };
        self.frame += 1;
        self.done = false;
        Some(Ok(Packet {
            frame: self.frame,
            time,
            link_type: self.link_type,
            data: &self.data,
            orig_len,
            interface: 0,
            file_offset: 0,
        }))
    }
}
