//! Building a [`PduRecord`] from the carrier an MMS PDU was found in: the carrier's layers and
//! buffers first, then the MMS layer dissected from a buffer of its own, so that the hex pane can
//! show the exact bytes the dissector read, with the frames they came from.

use crate::http::HttpMessage;
use crate::http::mime::TransferEncoding;
use crate::http::pap::PapSubmission;
use crate::model::{PduRecord, Timestamp, Transport};
use crate::net::origin::slice_origin;
use crate::tree::{Buffer, Dissection};
use crate::wap::WspMessage;
use std::hash::BuildHasher;
use std::net::SocketAddr;

/// Where and when a PDU was completed.
pub struct Completion {
    pub frame: u64,
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// The bytes of an MMS PDU: in a dissection (the MMS layer is added to it), or a plain slice
/// when only the summary is kept (the batch path drops the dissection anyway, so the bytes are
/// not copied into a buffer for it).
enum MmsBytes<'a> {
    Dissected(Dissection, crate::tree::BufferId),
    SummaryOnly(&'a [u8]),
}

fn record(
    at: &Completion,
    mut frames: Vec<u64>,
    transport: Transport,
    carrier: crate::model::Carrier,
    bytes: MmsBytes<'_>,
    transport_notes: Vec<String>,
) -> PduRecord {
    let (mms, dissection) = match bytes {
        MmsBytes::Dissected(mut dissection, mms_buffer) => {
            (crate::mms::dissect(&mut dissection, mms_buffer), dissection)
        }
        MmsBytes::SummaryOnly(data) => (crate::mms::summarize(data), Dissection::default()),
    };
    if !frames.contains(&at.frame) {
        frames.push(at.frame);
    }
    frames.sort_unstable();
    frames.dedup();
    PduRecord {
        index: 0,
        frame: at.frame,
        frames,
        time: at.time,
        src: at.src,
        dst: at.dst,
        transport,
        carrier,
        mms,
        retransmission_of: None,
        transport_notes,
        dissection,
    }
}

/// An MMS PDU that is the body of an HTTP message. With `full` false (the streaming batch path,
/// which drops the dissection anyway) the HTTP layer and the raw message buffer are left out:
/// the MMS summary is decoded from the body in place, and the record has no dissection.
pub fn from_http(msg: &HttpMessage, flow: u64, at: &Completion, full: bool) -> PduRecord {
    let bytes = if full {
        let (dissection, body) = msg.dissection();
        MmsBytes::Dissected(dissection, body)
    } else {
        MmsBytes::SummaryOnly(msg.body())
    };
    record(
        at,
        msg.frames(),
        Transport::Http,
        msg.carrier(flow),
        bytes,
        msg.transport_notes(),
    )
}

/// An MMS PDU that is the content part of a PAP push submission (an HTTP POST to a PPG).
pub fn from_pap(
    msg: &HttpMessage,
    submission: &PapSubmission,
    part: &crate::http::mime::MimePart,
    flow: u64,
    at: &Completion,
) -> PduRecord {
    let (mut dissection, body) = msg.dissection();
    dissection.add_layer(submission.tree(), body);
    let (name, origin) = match part.transfer_encoding {
        TransferEncoding::Base64 => ("PAP content part, base64-decoded", Vec::new()),
        TransferEncoding::QuotedPrintable => {
            ("PAP content part, quoted-printable-decoded", Vec::new())
        }
        _ => {
            let body_origin = &dissection.buffers[body as usize].origin;
            let r = &part.content_range;
            (
                "PAP content part",
                slice_origin(body_origin, r.start, r.len()),
            )
        }
    };
    let mut buffer = Buffer::new(name, &part.content[..]);
    buffer.origin = origin;
    let mms_buffer = dissection.add_buffer(buffer);
    let mut notes = msg.transport_notes();
    notes.extend(part.notes.iter().map(|(n, _)| n.clone()));
    record(
        at,
        msg.frames(),
        Transport::Pap,
        msg.carrier(flow),
        MmsBytes::Dissected(dissection, mms_buffer),
        notes,
    )
}

/// A stable identifier of the unordered peer pair, so that a WSP request and its reply (which
/// travel in opposite directions) share the carrier's exchange key.
fn peer_pair_id(a: SocketAddr, b: SocketAddr) -> u64 {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    // A fixed-seed foldhash of the pair, two IPv4 endpoints packed in one write: the id is
    // only compared for equality (pairing a request with its reply), and SipHash over the
    // addresses field by field was a visible share of each WSP record.
    let fixed = foldhash::fast::FixedState::with_seed(0x006d_6d73_636f_7065);
    let h = match (x, y) {
        (SocketAddr::V4(x), SocketAddr::V4(y)) => {
            let pack =
                |e: std::net::SocketAddrV4| u64::from(e.ip().to_bits()) << 16 | u64::from(e.port());
            fixed.hash_one(u128::from(pack(x)) << 64 | u128::from(pack(y)))
        }
        _ => fixed.hash_one((x, y)),
    };
    // The high bit keeps WSP keys apart from TCP flow numbers, which count up from 1.
    h | 1 << 63
}

/// An MMS PDU that is the data of a WSP PDU (Reply, Post, Push, …). With `full` false the WTP
/// and WSP layers are left out and only the MMS summary is decoded (see [`from_http`]).
pub fn from_wsp(msg: &WspMessage, time: Timestamp, full: bool) -> PduRecord {
    let body = msg.body_range();
    let bytes = if full {
        let mut dissection = msg.dissection();
        let mut buffer = Buffer::new("WSP data", &msg.data[body.clone()]);
        buffer.origin = slice_origin(&msg.origin, body.start, body.len());
        let mms_buffer = dissection.add_buffer(buffer);
        MmsBytes::Dissected(dissection, mms_buffer)
    } else {
        MmsBytes::SummaryOnly(&msg.data[body])
    };
    let mut notes = msg.notes.clone();
    if !msg.complete {
        notes.push(format!(
            "frame {}: WTP segments missing, decoded the {} bytes that arrived",
            msg.frame,
            msg.data.len()
        ));
    }
    let at = Completion {
        frame: msg.frame,
        time,
        src: msg.src,
        dst: msg.dst,
    };
    record(
        &at,
        msg.frames(),
        msg.transport(),
        msg.carrier(peer_pair_id(msg.src, msg.dst)),
        bytes,
        notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request and its reply (opposite directions) share the id; other peer pairs, IPv4 or
    /// IPv6, get other ids; every id has the high bit that keeps it apart from TCP flows.
    #[test]
    fn peer_pair_id_is_symmetric_and_tells_pairs_apart() {
        let addrs: Vec<SocketAddr> = [
            "10.0.0.1:9201",
            "10.0.0.2:9201",
            "10.0.0.1:49152",
            "10.0.0.2:49152",
            "[2001:db8::1]:9201",
            "[2001:db8::2]:9201",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let mut ids = std::collections::HashSet::new();
        for (i, &a) in addrs.iter().enumerate() {
            for &b in &addrs[i + 1..] {
                let id = peer_pair_id(a, b);
                assert_eq!(id, peer_pair_id(b, a));
                assert_ne!(id & 1 << 63, 0);
                assert!(ids.insert(id), "{a} {b}");
            }
        }
        assert_eq!(ids.len(), 15);
    }
}
