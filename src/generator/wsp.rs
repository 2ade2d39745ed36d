//! WSP (WAP-230-WSP) and WTP (WAP-224-WTP) PDUs the generator sends: connectionless WSP Push
//! (WAP push of MMS notifications), and a connection-oriented WSP session over WTP class 2
//! (Connect, Post, Get with a segmented Result, Disconnect).

use super::mms::put_uintvar;

/// WSP well-known content type application/vnd.wap.mms-message (0x3E) as a short-integer.
pub const CT_MMS: u8 = 0xBE;
/// text/plain (0x03).
pub const CT_TEXT_PLAIN: u8 = 0x83;

/// Connectionless WSP Push (PDU type 0x06) of an MMS PDU, with
/// X-Wap-Application-Id: x-wap-application:mms.ua (0x04).
pub fn push_connectionless(tid: u8, mms: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(mms.len() + 8);
    b.push(tid);
    b.push(0x06);
    let headers = [CT_MMS, 0xAF, 0x84];
    put_uintvar(&mut b, headers.len() as u64);
    b.extend_from_slice(&headers);
    b.extend_from_slice(mms);
    b
}

/// WSP Connect (0x01), version 1.0, no capabilities, no headers.
pub fn connect() -> Vec<u8> {
    vec![0x01, 0x10, 0x00, 0x00]
}

/// WSP ConnectReply (0x02) giving the server session id.
pub fn connect_reply(session: u32) -> Vec<u8> {
    let mut b = vec![0x02];
    put_uintvar(&mut b, session as u64);
    b.extend_from_slice(&[0x00, 0x00]);
    b
}

/// WSP Disconnect (0x05).
pub fn disconnect(session: u32) -> Vec<u8> {
    let mut b = vec![0x05];
    put_uintvar(&mut b, session as u64);
    b
}

/// WSP Get (0x40) of `uri` (connection-oriented: no TID byte).
pub fn get(uri: &str) -> Vec<u8> {
    let mut b = vec![0x40];
    put_uintvar(&mut b, uri.len() as u64);
    b.extend_from_slice(uri.as_bytes());
    b
}

/// WSP Post (0x60) of an MMS PDU to `uri`.
pub fn post_mms(uri: &str, mms: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(mms.len() + uri.len() + 8);
    b.push(0x60);
    put_uintvar(&mut b, uri.len() as u64);
    put_uintvar(&mut b, 1); // headers length: the content type only
    b.extend_from_slice(uri.as_bytes());
    b.push(CT_MMS);
    b.extend_from_slice(mms);
    b
}

/// WSP Reply (0x04): `status` is the WSP status code (0x20 = 200 OK, 0x24 = 204 No Content).
pub fn reply(status: u8, content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 4);
    b.push(0x04);
    b.push(status);
    put_uintvar(&mut b, 1);
    b.push(content_type);
    b.extend_from_slice(body);
    b
}

/// WTP PDU headers. The initiator sends its TID as is; the responder sets the top bit.
pub mod wtp {
    /// Invoke (type 1), TTR set, version 0, U/P set, transaction class `class`.
    pub fn invoke(tid: u16, class: u8) -> [u8; 4] {
        let t = tid.to_be_bytes();
        [0x0A, t[0], t[1], 0x10 | (class & 3)]
    }

    /// Result (type 2) from the responder: first segment, `ttr` if it is the last.
    pub fn result(tid: u16, gtr: bool, ttr: bool) -> [u8; 3] {
        let t = (tid | 0x8000).to_be_bytes();
        [0x10 | (gtr as u8) << 2 | (ttr as u8) << 1, t[0], t[1]]
    }

    /// Segmented Result (type 6) number `psn`.
    pub fn segmented_result(tid: u16, psn: u8, gtr: bool, ttr: bool) -> [u8; 4] {
        let t = (tid | 0x8000).to_be_bytes();
        [0x30 | (gtr as u8) << 2 | (ttr as u8) << 1, t[0], t[1], psn]
    }

    /// Negative Ack (type 7) from the initiator, listing the missing segments' PSNs.
    pub fn nack(tid: u16, missing: impl IntoIterator<Item = u8>) -> Vec<u8> {
        let t = tid.to_be_bytes();
        let mut v = vec![0x38, t[0], t[1], 0];
        v.extend(missing);
        v[3] = (v.len() - 4) as u8;
        v
    }

    /// Ack (type 3) from the initiator, with a Packet-Sequence-Number TPI when acknowledging a
    /// group of segments.
    pub fn ack(tid: u16, psn: Option<u8>) -> Vec<u8> {
        let t = tid.to_be_bytes();
        match psn {
            None => vec![0x18, t[0], t[1]],
            // CON set; TPI: type 3 (PSN), length 1.
            Some(p) => vec![0x98, t[0], t[1], 0x19, p],
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nack_matches_kannel() {
        // captures/net_wsp_co_sar_loss.pcapng frame 15: segment 6 of TID 2 is missing.
        assert_eq!(wtp::nack(2, [6u8]), [0x38, 0x00, 0x02, 0x01, 0x06]);
    }

    use super::*;

    /// Byte layouts as Kannel sends them in captures/wap_wsp_co_sar_get.pcapng.
    #[test]
    fn wtp_headers_match_kannel() {
        assert_eq!(wtp::invoke(1, 2), [0x0A, 0x00, 0x01, 0x12]);
        assert_eq!(wtp::result(1, false, true), [0x12, 0x80, 0x01]);
        assert_eq!(wtp::result(2, false, false), [0x10, 0x80, 0x02]);
        assert_eq!(
            wtp::segmented_result(2, 1, false, false),
            [0x30, 0x80, 0x02, 0x01]
        );
        assert_eq!(
            wtp::segmented_result(2, 2, true, false),
            [0x34, 0x80, 0x02, 0x02]
        );
        assert_eq!(wtp::ack(1, None), [0x18, 0x00, 0x01]);
        assert_eq!(wtp::ack(2, Some(2)), [0x98, 0x00, 0x02, 0x19, 0x02]);
    }

    /// The push header as Kannel's PPG sends it in captures/wap_push_ppg.pcapng, except that
    /// we use the well-known content type instead of the text form.
    #[test]
    fn push_layout() {
        let p = push_connectionless(7, &[0x8c, 0x82]);
        assert_eq!(p, [7, 0x06, 3, 0xBE, 0xAF, 0x84, 0x8c, 0x82]);
    }
}
