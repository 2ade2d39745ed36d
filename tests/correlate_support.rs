//! PduRecords built in code for the correlation and export tests, mirroring the ground truth of
//! `captures/MANIFEST.md` (fields from the PDU catalogue, frames and carriers from the per-capture
//! tables). Included by the other test files with `#[path]`; it has no tests of its own.
#![allow(dead_code)]

use mmscope::model::{Carrier, MmsSummary, PduRecord, Timestamp, Transport};

pub fn ts(t: f64) -> Timestamp {
    // 2026-01-01T00:00:00Z plus t seconds.
    let base = 1_767_225_600i64;
    let secs = t.floor();
    Timestamp {
        secs: base + secs as i64,
        nanos: ((t - secs) * 1e9).round() as u32,
    }
}

/// A PDU record of type `ty` (OMA name) seen in `frame` at `t` seconds.
pub fn pdu(frame: u64, t: f64, src: &str, dst: &str, transport: Transport, ty: &str) -> PduRecord {
    PduRecord {
        index: 0,
        frame,
        frames: vec![frame],
        time: ts(t),
        src: src.parse().expect("src"),
        dst: dst.parse().expect("dst"),
        transport,
        carrier: Carrier::default(),
        mms: MmsSummary {
            message_type: Some(ty.into()),
            mms_version: Some("1.0".into()),
            ..Default::default()
        },
        retransmission_of: None,
        transport_notes: Vec::new(),
        dissection: Default::default(),
    }
}

pub trait With {
    fn tid(self, t: &str) -> Self;
    fn msgid(self, m: &str) -> Self;
    fn cl(self, c: &str) -> Self;
    fn subject(self, s: &str) -> Self;
    fn from(self, a: &str) -> Self;
    fn to(self, a: &str) -> Self;
    fn response_status(self, s: &str) -> Self;
    fn status(self, s: &str) -> Self;
    fn read_status(self, s: &str) -> Self;
    fn request(self, method: &str, uri: &str, exchange: Option<(u64, u64)>) -> Self;
    fn response(self, status: u16, uri: Option<&str>, exchange: Option<(u64, u64)>) -> Self;
    fn retransmission_of(self, i: usize) -> Self;
}

impl With for PduRecord {
    fn tid(mut self, t: &str) -> Self {
        self.mms.transaction_id = Some(t.into());
        self
    }
    fn msgid(mut self, m: &str) -> Self {
        self.mms.message_id = Some(m.into());
        self
    }
    fn cl(mut self, c: &str) -> Self {
        self.mms.content_location = Some(c.into());
        self
    }
    fn subject(mut self, s: &str) -> Self {
        self.mms.subject = Some(s.into());
        self
    }
    fn from(mut self, a: &str) -> Self {
        self.mms.from = Some(a.into());
        self
    }
    fn to(mut self, a: &str) -> Self {
        self.mms.to.push(a.into());
        self
    }
    fn response_status(mut self, s: &str) -> Self {
        self.mms.response_status = Some(s.into());
        self
    }
    fn status(mut self, s: &str) -> Self {
        self.mms.status = Some(s.into());
        self
    }
    fn read_status(mut self, s: &str) -> Self {
        self.mms.read_status = Some(s.into());
        self
    }
    fn request(mut self, method: &str, uri: &str, exchange: Option<(u64, u64)>) -> Self {
        self.carrier = Carrier {
            method: Some(method.into()),
            uri: Some(uri.into()),
            status: None,
            summary: format!("{method} {uri}").into(),
            exchange,
            is_response: false,
        };
        self
    }
    fn response(mut self, status: u16, uri: Option<&str>, exchange: Option<(u64, u64)>) -> Self {
        self.carrier = Carrier {
            method: None,
            uri: uri.map(Into::into),
            status: Some(status),
            summary: format!("{status}").into(),
            exchange,
            is_response: true,
        };
        self
    }
    fn retransmission_of(mut self, i: usize) -> Self {
        self.retransmission_of = Some(i);
        self
    }
}

/// Give the records their capture-order indices.
pub fn indexed(mut v: Vec<PduRecord>) -> Vec<PduRecord> {
    for (i, p) in v.iter_mut().enumerate() {
        p.index = i;
    }
    v
}

pub const F_CL: &str = "http://127.0.0.1/mms/F-MSG-0001";

/// wap_mm1_full.pcapng: ten ground-truth PDUs plus the WTP retransmission of the m-send-conf
/// (frame 11). `pipeline_flags_retransmission` says whether the record says so itself.
pub fn wap_mm1_full(pipeline_flags_retransmission: bool) -> Vec<PduRecord> {
    use Transport::*;
    let hs = "127.0.0.1:54886"; // fakewap, WSP session 1
    let gw = "127.0.0.1:9201"; // wapbox WTP/WSP
    let wb = "127.0.0.1:37708"; // wapbox's HTTP client (keep-alive to the MMSC)
    let mmsc = "127.0.0.1:80";
    let send_req = |f, t, s, d, tr| {
        pdu(f, t, s, d, tr, "m-send-req")
            .tid("F-SEND-0001")
            .from("<insert-address-token>")
            .to("+15551230002/TYPE=PLMN")
            .subject("Lab F full flow")
    };
    let send_conf = |f, t, s, d, tr| {
        pdu(f, t, s, d, tr, "m-send-conf")
            .tid("F-SEND-0001")
            .msgid("F-MSG-0001@mmsc.lab")
            .response_status("Ok")
    };
    let notif = |f, t, s, d, tr| {
        pdu(f, t, s, d, tr, "m-notification-ind")
            .tid("F-NOTIF-0001")
            .from("+15551230001/TYPE=PLMN")
            .cl(F_CL)
            .subject("Lab F full flow")
    };
    let rconf = |f, t, s, d, tr| {
        pdu(f, t, s, d, tr, "m-retrieve-conf")
            .msgid("F-MSG-0001@mmsc.lab")
            .from("+15551230001/TYPE=PLMN")
            .to("+15551230002/TYPE=PLMN")
            .subject("Lab F full flow")
    };
    let nresp = |f, t, s, d, tr| {
        pdu(f, t, s, d, tr, "m-notifyresp-ind")
            .tid("F-NOTIF-0001")
            .status("Retrieved")
    };
    let mut retrans = send_conf(11, 7.051770932, gw, hs, Wsp).response(200, None, Some((1, 7)));
    if pipeline_flags_retransmission {
        retrans = retrans.retransmission_of(3);
    }
    indexed(vec![
        send_req(4, 0.003779099, hs, gw, Wsp).request(
            "POST",
            "http://127.0.0.1/mmsc",
            Some((1, 7)),
        ),
        send_req(5, 0.048413076, wb, mmsc, Http).request("POST", "/mmsc", Some((2, 0))),
        send_conf(8, 0.048902815, mmsc, wb, Http).response(200, Some("/mmsc"), Some((2, 0))),
        send_conf(10, 0.049237112, gw, hs, Wsp).response(200, None, Some((1, 7))),
        retrans,
        notif(17, 7.591861156, "127.0.0.1:56264", "127.0.0.1:8080", Pap).request(
            "POST",
            "/wappush?username=mmsc&password=lab",
            Some((3, 0)),
        ),
        notif(21, 7.592492370, "127.0.0.1:9200", "127.0.0.1:2948", WspPush),
        rconf(32, 7.680559021, mmsc, wb, Http).response(200, Some("/mms/F-MSG-0001"), Some((2, 1))),
        rconf(34, 7.681037829, gw, "127.0.0.1:60659", Wsp).response(200, Some(F_CL), Some((4, 1))),
        nresp(40, 7.728205439, "127.0.0.1:47203", gw, Wsp).request(
            "POST",
            "http://127.0.0.1/mmsc",
            Some((5, 1)),
        ),
        nresp(41, 7.772193254, wb, mmsc, Http).request("POST", "/mmsc", Some((2, 2))),
    ])
}

/// http_mm1_basic.pcapng: S, N (m-notifyresp-ind whose notification is not in the file), R.
pub fn http_mm1_basic() -> Vec<PduRecord> {
    use Transport::Http;
    let mmsc = "127.0.0.1:80";
    indexed(vec![
        pdu(4, 0.001, "127.0.0.1:57388", mmsc, Http, "m-send-req")
            .tid("H-SEND-0001")
            .from("<insert-address-token>")
            .to("+15551230002/TYPE=PLMN")
            .subject("Lab H basic")
            .request("POST", "/mmsc", Some((1, 0))),
        pdu(8, 0.004, mmsc, "127.0.0.1:57388", Http, "m-send-conf")
            .tid("H-SEND-0001")
            .msgid("H-MSG-0001@mmsc.lab")
            .response_status("Ok")
            .response(200, Some("/mmsc"), Some((1, 0))),
        pdu(16, 0.210, "127.0.0.1:57396", mmsc, Http, "m-notifyresp-ind")
            .tid("H-NOTIF-0001")
            .status("Deferred")
            .request("POST", "/mmsc", Some((2, 0))),
        pdu(30, 0.420, mmsc, "127.0.0.1:57404", Http, "m-retrieve-conf")
            .tid("H-RETR-0001")
            .msgid("H-MSG-0001@mmsc.lab")
            .from("+15551230001/TYPE=PLMN")
            .to("+15551230002/TYPE=PLMN")
            .subject("Lab H basic")
            .response(200, Some("/mms/H-MSG-0001"), Some((3, 0))),
        pdu(
            38,
            0.630,
            "127.0.0.1:57410",
            mmsc,
            Http,
            "m-acknowledge-ind",
        )
        .tid("H-RETR-0001")
        .request("POST", "/mmsc", Some((4, 0))),
    ])
}
