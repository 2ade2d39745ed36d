//! Scenarios: one MMS message's whole life (send, notification, retrieval, delivery report)
//! or one piece of background traffic, each written as a time-ordered list of frames.

use super::content;
use super::mms::{self, Content, Part, PartType, message_type as mt};
use super::packet::{Endpoint, Side, TcpFlow, udp_frame};
use super::rng::Rng;
use super::wsp::{self, wtp};
use super::{PduTruth, Timeline, TruthTransport};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

const MS: u64 = 1_000_000;

/// How an HTTP body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Plain,
    Chunked,
    Gzip,
    GzipChunked,
}

/// The UDP path between a handset and the WAP gateway (WTP on 9201).
struct WspLink {
    client: Endpoint,
    gw: Endpoint,
    ip_id: u16,
    half_rtt: u64,
}

impl WspLink {
    fn send(&mut self, tl: &mut Timeline, from_client: bool, payload: Vec<u8>) -> usize {
        self.ip_id = self.ip_id.wrapping_add(1);
        let f = if from_client {
            udp_frame(&self.client, &self.gw, self.ip_id, &payload)
        } else {
            udp_frame(&self.gw, &self.client, self.ip_id, &payload)
        };
        let i = tl.push(f);
        tl.advance(1_000);
        i
    }
}

fn with(head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(head.len() + body.len());
    v.extend_from_slice(head);
    v.extend_from_slice(body);
    v
}

/// The state shared by all scenarios: the PRNG, the population of handsets, counters that
/// make identifiers and ports unique.
pub struct World {
    pub rng: Rng,
    handsets: u32,
    stories: u64,
    fillers: u64,
    next_port: u16,
    push_tid: u8,
    wtp_tid: u16,
    session: u32,
    /// Probability of an impairment per TCP data segment (0: none).
    pub impair: f64,
}

fn mac_for(ip: [u8; 4]) -> [u8; 6] {
    [0x02, 0x00, ip[0], ip[1], ip[2], ip[3]]
}

fn endpoint(ip: [u8; 4], port: u16) -> Endpoint {
    Endpoint {
        mac: mac_for(ip),
        ip,
        port,
    }
}

const MMSC_IP: [u8; 4] = [10, 200, 0, 1];
const PPG_IP: [u8; 4] = [10, 200, 0, 2];
const WAP_GW_IP: [u8; 4] = [10, 200, 0, 3];
const DNS_IP: [u8; 4] = [10, 200, 0, 53];
const MMSC_HOST: &str = "mmsc.gen";

/// Largest m-retrieve-conf sent over WTP SAR: at most 256 segments (the PSN is one byte).
const WTP_SEGMENT: usize = 1400;
const WTP_MAX_MESSAGE: usize = 250 * WTP_SEGMENT;

impl World {
    pub fn new(seed: u64) -> World {
        World {
            rng: Rng::new(seed),
            handsets: 5000,
            stories: 0,
            fillers: 0,
            next_port: 32768,
            push_tid: 0,
            wtp_tid: 0,
            session: 0,
            impair: 0.0,
        }
    }

    /// Give `flow` its impairment, if any. Draws from the PRNG only when impairing, so
    /// unimpaired captures stay byte-identical for a seed.
    fn impair_flow(&mut self, flow: TcpFlow) -> TcpFlow {
        if self.impair > 0.0 {
            let seed = self.rng.next_u64();
            flow.impaired(self.impair, seed)
        } else {
            flow
        }
    }

    /// A TCP connection from `client` (`None`: a random client address, drawn after the port)
    /// to `server`, impaired as configured, with its handshake on `tl`. The PRNG draws keep
    /// their order (RTT, ISNs, port, client), so a seed gives the same capture.
    fn open_flow(
        &mut self,
        tl: &mut Timeline,
        client: Option<[u8; 4]>,
        server: Endpoint,
    ) -> TcpFlow {
        let rtt = self.rtt();
        let isn = self.isn();
        let port = self.port();
        let client = client.unwrap_or_else(|| self.client_ip());
        let mut flow = self.impair_flow(TcpFlow::new(endpoint(client, port), server, isn, rtt));
        flow.open(tl);
        flow
    }

    fn handset_ip(i: u32) -> [u8; 4] {
        [10, 16 + (i >> 16) as u8, (i >> 8) as u8, i as u8]
    }

    fn msisdn(i: u32) -> String {
        format!("+1555{:07}/TYPE=PLMN", i)
    }

    fn port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 60999 { 32768 } else { p + 1 };
        p
    }

    fn isn(&mut self) -> (u32, u32) {
        (self.rng.next_u64() as u32, self.rng.next_u64() as u32)
    }

    fn rtt(&mut self) -> u64 {
        self.rng.range(20, 300) * MS
    }

    fn wtp_tid(&mut self) -> u16 {
        self.wtp_tid = (self.wtp_tid + 1) & 0x7fff;
        self.wtp_tid
    }

    /// Encode `body` per `coding`, returning the header lines to add and the bytes on the wire.
    fn encode_body(&mut self, body: &[u8], coding: Coding) -> (String, Vec<u8>) {
        let gz = |b: &[u8]| {
            let mut e = GzEncoder::new(Vec::with_capacity(b.len() + 64), Compression::fast());
            e.write_all(b).expect("writing to a Vec");
            e.finish().expect("writing to a Vec")
        };
        match coding {
            Coding::Plain => (format!("Content-Length: {}\r\n", body.len()), body.to_vec()),
            Coding::Gzip => {
                let z = gz(body);
                (
                    format!("Content-Encoding: gzip\r\nContent-Length: {}\r\n", z.len()),
                    z,
                )
            }
            Coding::Chunked => ("Transfer-Encoding: chunked\r\n".into(), self.chunk(body)),
            Coding::GzipChunked => {
                let z = gz(body);
                (
                    "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n".into(),
                    self.chunk(&z),
                )
            }
        }
    }

    fn chunk(&mut self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + body.len() / 500 + 16);
        let mut rest = body;
        while !rest.is_empty() {
            let n = self.rng.urange(500, 16_000).min(rest.len());
            out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    fn http_request(method: &str, path: &str, host: &str, extra: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: GenHandset/2.1 (MMS)\r\n\
             Accept: application/vnd.wap.mms-message, */*\r\n{extra}"
        );
        if method == "POST" {
            r.push_str(&format!(
                "Content-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        r.push_str("\r\n");
        let mut v = r.into_bytes();
        v.extend_from_slice(body);
        v
    }

    fn http_response(
        &mut self,
        status: &str,
        ctype: Option<&str>,
        body: &[u8],
        coding: Coding,
        close: bool,
    ) -> Vec<u8> {
        let mut r = format!("HTTP/1.1 {status}\r\nServer: GenMMSC/1.0\r\n");
        if close {
            r.push_str("Connection: close\r\n");
        }
        let mut v = if let Some(ct) = ctype {
            let (hdrs, wire) = self.encode_body(body, coding);
            r.push_str(&format!("Content-Type: {ct}\r\n{hdrs}\r\n"));
            let mut v = r.into_bytes();
            v.extend_from_slice(&wire);
            v
        } else {
            r.push_str("\r\n");
            r.into_bytes()
        };
        v.shrink_to_fit();
        v
    }

    fn content(&mut self, n: u64) -> Content {
        let image_size = self.rng.log_range(2_000, 300_000) as usize;
        let text_len = self.rng.urange(10, 600);
        let text = content::words(&mut self.rng, text_len);
        let image_name = format!("img{n}.jpg");
        let text_name = format!("text{n}.txt");
        let smil = content::smil(&image_name, &text_name);
        let subject_len = self.rng.urange(5, 40);
        Content {
            subject: content::words(&mut self.rng, subject_len),
            parts: vec![
                Part {
                    kind: PartType::Smil,
                    location: "smil.xml".into(),
                    content_id: Some("<smil>".into()),
                    data: smil.into_bytes(),
                },
                Part {
                    kind: PartType::Jpeg,
                    location: image_name,
                    content_id: None,
                    data: content::jpeg(&mut self.rng, image_size),
                },
                Part {
                    kind: PartType::TextUtf8,
                    location: text_name,
                    content_id: None,
                    data: text.into_bytes(),
                },
            ],
        }
    }

    fn pick_coding(&mut self) -> Coding {
        match self.rng.urange(0, 19) {
            0..=11 => Coding::Plain,
            12..=15 => Coding::Chunked,
            16..=17 => Coding::Gzip,
            _ => Coding::GzipChunked,
        }
    }

    /// A WAP push (connectionless WSP Push, UDP 9200 → 2948) of an MMS PDU to a handset.
    fn push(&mut self, tl: &mut Timeline, to: [u8; 4], pdu: &[u8], truth: PduTruth) {
        self.push_tid = self.push_tid.wrapping_add(1);
        let payload = wsp::push_connectionless(self.push_tid, pdu);
        let f = udp_frame(
            &endpoint(PPG_IP, 9200),
            &endpoint(to, 2948),
            self.rng.next_u64() as u16,
            &payload,
        );
        let i = tl.push(f);
        tl.mark(i, truth);
    }

    /// One HTTP exchange on an open flow; marks the request and response PDUs.
    #[allow(clippy::too_many_arguments)]
    fn http_exchange(
        &mut self,
        tl: &mut Timeline,
        flow: &mut TcpFlow,
        request: Vec<u8>,
        request_pdu: Option<PduTruth>,
        response: Vec<u8>,
        response_pdu: Option<PduTruth>,
        server_ms: u64,
    ) {
        let i = flow.send(tl, Side::Client, &request);
        if let Some(p) = request_pdu {
            tl.mark(i, p);
        }
        tl.advance(self.rng.range(1, server_ms.max(1)) * MS);
        let i = flow.send(tl, Side::Server, &response);
        if let Some(p) = response_pdu {
            tl.mark(i, p);
        }
    }

    /// A whole MMS message: m-send-req/m-send-conf, m-notification-ind (push),
    /// m-notifyresp-ind, retrieval (HTTP GET or WSP Get over WTP SAR) of m-retrieve-conf,
    /// m-acknowledge-ind, and m-delivery-ind (push) when a report was asked for.
    pub fn mms_story(&mut self, start_ns: u64) -> Timeline {
        self.stories += 1;
        let n = self.stories;
        let mut tl = Timeline::new(start_ns);
        let a = self.rng.range(1, self.handsets as u64) as u32;
        let mut b = self.rng.range(1, self.handsets as u64) as u32;
        if b == a {
            b = a % self.handsets + 1;
        }
        let (a_ip, b_ip) = (Self::handset_ip(a), Self::handset_ip(b));
        let (from, to) = (Self::msisdn(a), Self::msisdn(b));
        let tid_send = format!("S{n:010}");
        let tid_notif = format!("N{n:010}");
        let tid_retr = format!("R{n:010}");
        let message_id = format!("M{n:010}@{MMSC_HOST}");
        let location = format!("http://{MMSC_HOST}/mms/M{n:010}");
        let content = self.content(n);
        let delivery_report = self.rng.chance(0.8);
        let mmsc = endpoint(MMSC_IP, 80);
        let truth = |t: u8, tid: Option<&str>, mid: Option<&str>, tr: TruthTransport| PduTruth {
            message_type: t,
            transaction_id: tid.map(str::to_owned),
            message_id: mid.map(str::to_owned),
            transport: tr,
        };
        let http = TruthTransport::Http;

        // 1. A sends: POST m-send-req → 200 m-send-conf.
        let date = (tl.now() / 1_000_000_000) as i64;
        let send_req = mms::send_req(&tid_send, &to, date, delivery_report, &content);
        let send_conf = mms::send_conf(&tid_send, &message_id);
        let mut flow = self.open_flow(&mut tl, Some(a_ip), mmsc);
        let req = Self::http_request("POST", "/mms", MMSC_HOST, "", &send_req);
        let coding = if self.rng.chance(0.2) {
            Coding::Chunked
        } else {
            Coding::Plain
        };
        let resp = self.http_response(
            "200 OK",
            Some("application/vnd.wap.mms-message"),
            &send_conf,
            coding,
            true,
        );
        self.http_exchange(
            &mut tl,
            &mut flow,
            req,
            Some(truth(mt::SEND_REQ, Some(&tid_send), None, http)),
            resp,
            Some(truth(
                mt::SEND_CONF,
                Some(&tid_send),
                Some(&message_id),
                http,
            )),
            200,
        );
        flow.close(&mut tl);

        // 2. The MMSC notifies B by WAP push.
        tl.advance(self.rng.range(50, 1000) * MS);
        let retrieve_conf = mms::retrieve_conf(&tid_retr, &message_id, &from, &to, date, &content);
        let notif = mms::notification_ind(
            &tid_notif,
            &from,
            &content.subject,
            retrieve_conf.len() as u64,
            86400 * 7,
            &location,
        );
        drop(content);
        self.push(
            &mut tl,
            b_ip,
            &notif,
            truth(
                mt::NOTIFICATION_IND,
                Some(&tid_notif),
                None,
                TruthTransport::WspPush,
            ),
        );
        tl.advance(self.rng.range(300, 3000) * MS);

        let notifyresp = mms::notifyresp_ind(&tid_notif, mms::status::DEFERRED);
        let ack = mms::acknowledge_ind(&tid_retr);
        let via_wsp = retrieve_conf.len() <= WTP_MAX_MESSAGE && self.rng.chance(0.3);
        if via_wsp {
            self.wsp_retrieval(
                &mut tl,
                b_ip,
                &notifyresp,
                &tid_notif,
                &location,
                &retrieve_conf,
                &message_id,
                &ack,
                &tid_retr,
            );
        } else {
            // 3. B answers the notification: POST m-notifyresp-ind → 204.
            let mut flow = self.open_flow(&mut tl, Some(b_ip), mmsc);
            let req = Self::http_request("POST", "/mms", MMSC_HOST, "", &notifyresp);
            let resp = self.http_response("204 No Content", None, &[], Coding::Plain, true);
            self.http_exchange(
                &mut tl,
                &mut flow,
                req,
                Some(truth(mt::NOTIFYRESP_IND, Some(&tid_notif), None, http)),
                resp,
                None,
                50,
            );
            flow.close(&mut tl);
            tl.advance(self.rng.range(100, 2000) * MS);

            // 4. B retrieves: GET → 200 m-retrieve-conf, then POST m-acknowledge-ind → 204,
            // on one keep-alive connection or two.
            let keep_alive = self.rng.chance(0.5);
            let mut flow = self.open_flow(&mut tl, Some(b_ip), mmsc);
            let path = format!("/mms/M{n:010}");
            let req = Self::http_request("GET", &path, MMSC_HOST, "", &[]);
            let coding = self.pick_coding();
            let resp = self.http_response(
                "200 OK",
                Some("application/vnd.wap.mms-message"),
                &retrieve_conf,
                coding,
                !keep_alive,
            );
            drop(retrieve_conf);
            self.http_exchange(
                &mut tl,
                &mut flow,
                req,
                None,
                resp,
                Some(truth(
                    mt::RETRIEVE_CONF,
                    Some(&tid_retr),
                    Some(&message_id),
                    http,
                )),
                300,
            );
            if !keep_alive {
                flow.close(&mut tl);
                tl.advance(self.rng.range(5, 200) * MS);
                flow = self.open_flow(&mut tl, Some(b_ip), mmsc);
            }
            let req = Self::http_request("POST", "/mms", MMSC_HOST, "", &ack);
            let resp = self.http_response("204 No Content", None, &[], Coding::Plain, true);
            self.http_exchange(
                &mut tl,
                &mut flow,
                req,
                Some(truth(mt::ACKNOWLEDGE_IND, Some(&tid_retr), None, http)),
                resp,
                None,
                50,
            );
            flow.close(&mut tl);
        }

        // 5. Delivery report to A.
        if delivery_report {
            tl.advance(self.rng.range(100, 2000) * MS);
            let date = (tl.now() / 1_000_000_000) as i64;
            let d = mms::delivery_ind(&message_id, &to, date, mms::status::RETRIEVED);
            self.push(
                &mut tl,
                a_ip,
                &d,
                truth(
                    mt::DELIVERY_IND,
                    None,
                    Some(&message_id),
                    TruthTransport::WspPush,
                ),
            );
        }
        tl
    }

    /// Retrieval over a connection-oriented WSP session (WTP class 2, UDP 9201):
    /// Connect; Post m-notifyresp-ind; Get of the m-retrieve-conf, answered by a WTP Result
    /// and Segmented Results in groups, each group acknowledged; Post m-acknowledge-ind;
    /// Disconnect.
    #[allow(clippy::too_many_arguments)]
    fn wsp_retrieval(
        &mut self,
        tl: &mut Timeline,
        handset: [u8; 4],
        notifyresp: &[u8],
        tid_notif: &str,
        location: &str,
        retrieve_conf: &[u8],
        message_id: &str,
        ack: &[u8],
        tid_retr: &str,
    ) {
        let mut link = WspLink {
            client: endpoint(handset, self.port()),
            gw: endpoint(WAP_GW_IP, 9201),
            ip_id: self.rng.next_u64() as u16,
            half_rtt: self.rtt() / 2,
        };
        let half_rtt = link.half_rtt;
        self.session += 1;
        let session = self.session;

        // Connect / ConnectReply / Ack
        let t = self.wtp_tid();
        link.send(tl, true, with(&wtp::invoke(t, 2), &wsp::connect()));
        tl.advance(half_rtt * 2);
        link.send(
            tl,
            false,
            with(&wtp::result(t, false, true), &wsp::connect_reply(session)),
        );
        tl.advance(half_rtt);
        link.send(tl, true, wtp::ack(t, None));

        self.wsp_post(
            tl,
            &mut link,
            notifyresp,
            PduTruth {
                message_type: mt::NOTIFYRESP_IND,
                transaction_id: Some(tid_notif.to_owned()),
                message_id: None,
                transport: TruthTransport::Wsp,
            },
        );

        // Get → segmented Result.
        let t = self.wtp_tid();
        link.send(tl, true, with(&wtp::invoke(t, 2), &wsp::get(location)));
        tl.advance(half_rtt * 2 + self.rng.range(10, 300) * MS);
        let reply = wsp::reply(0x20, wsp::CT_MMS, retrieve_conf);
        let segments: Vec<&[u8]> = reply.chunks(WTP_SEGMENT).collect();
        let group = self.rng.urange(3, 6);
        let last = segments.len() - 1;
        let segment = |psn: usize, gtr: bool, ttr: bool, rid: bool| {
            let mut pkt = if psn == 0 {
                with(&wtp::result(t, gtr, ttr), segments[psn])
            } else {
                with(
                    &wtp::segmented_result(t, psn as u8, gtr, ttr),
                    segments[psn],
                )
            };
            pkt[0] |= rid as u8;
            pkt
        };
        // With impairment, a segment inside a group may be lost before the capture point (the
        // handset's side): the handset asks for it with a Negative Ack at the end of the group
        // and the gateway sends it again with RID set.
        let mut missing: Vec<(usize, bool)> = Vec::new();
        let mut completing = None;
        for psn in 0..segments.len() {
            let ttr = psn == last;
            let gtr = !ttr && psn % group == group - 1;
            let lost =
                self.impair > 0.0 && psn != 0 && !gtr && !ttr && self.rng.chance(self.impair);
            if lost {
                missing.push((psn, gtr));
                tl.advance(1_000);
            } else {
                let i = link.send(tl, false, segment(psn, gtr, ttr, false));
                completing = Some(i);
            }
            if gtr || ttr {
                tl.advance(half_rtt);
                if !missing.is_empty() {
                    link.send(
                        tl,
                        true,
                        wtp::nack(t, missing.iter().map(|&(p, _)| p as u8)),
                    );
                    tl.advance(half_rtt);
                    for &(p, g) in &missing {
                        let i = link.send(tl, false, segment(p, g, false, true));
                        completing = Some(i);
                    }
                    missing.clear();
                    tl.advance(half_rtt);
                }
                let acked = if segments.len() == 1 {
                    None
                } else {
                    Some(psn as u8)
                };
                link.send(tl, true, wtp::ack(t, acked));
                tl.advance(half_rtt);
            }
        }
        if let Some(i) = completing {
            tl.mark(
                i,
                PduTruth {
                    message_type: mt::RETRIEVE_CONF,
                    transaction_id: Some(tid_retr.to_owned()),
                    message_id: Some(message_id.to_owned()),
                    transport: TruthTransport::Wsp,
                },
            );
        }
        tl.advance(self.rng.range(5, 100) * MS);

        self.wsp_post(
            tl,
            &mut link,
            ack,
            PduTruth {
                message_type: mt::ACKNOWLEDGE_IND,
                transaction_id: Some(tid_retr.to_owned()),
                message_id: None,
                transport: TruthTransport::Wsp,
            },
        );

        // Disconnect (class 0, no answer).
        let t = self.wtp_tid();
        link.send(
            tl,
            true,
            with(&wtp::invoke(t, 0), &wsp::disconnect(session)),
        );
    }

    /// A WSP Post of a small MMS PDU in one WTP Invoke, its Reply 204 in a Result, the Ack.
    fn wsp_post(&mut self, tl: &mut Timeline, link: &mut WspLink, pdu: &[u8], truth: PduTruth) {
        let t = self.wtp_tid();
        let uri = format!("http://{MMSC_HOST}/mms");
        let i = link.send(
            tl,
            true,
            with(&wtp::invoke(t, 2), &wsp::post_mms(&uri, pdu)),
        );
        tl.mark(i, truth);
        tl.advance(link.half_rtt * 2 + self.rng.range(1, 50) * MS);
        let reply = wsp::reply(0x24, wsp::CT_TEXT_PLAIN, &[]);
        link.send(tl, false, with(&wtp::result(t, false, true), &reply));
        tl.advance(link.half_rtt);
        link.send(tl, true, wtp::ack(t, None));
        tl.advance(self.rng.range(5, 100) * MS);
    }

    // ---- background traffic (mixed mode) ----

    /// Pick one background scenario.
    pub fn filler(&mut self, start_ns: u64) -> Timeline {
        self.fillers += 1;
        match self.rng.urange(0, 9) {
            0..=3 => self.web(start_ns),
            4..=6 => self.tls(start_ns),
            7..=8 => self.dns(start_ns),
            _ => self.rtp(start_ns),
        }
    }

    fn client_ip(&mut self) -> [u8; 4] {
        Self::handset_ip(self.rng.range(1, self.handsets as u64) as u32)
    }

    /// Browsing: GET of an HTML page and some images on one keep-alive connection.
    fn web(&mut self, start_ns: u64) -> Timeline {
        let mut tl = Timeline::new(start_ns);
        let k = self.fillers;
        let server_ip = [93, 184, (k % 200) as u8, 10 + (k % 7) as u8];
        let host = format!("www{}.example.net", k % 500);
        let mut flow = self.open_flow(&mut tl, None, endpoint(server_ip, 80));
        let page_len = self.rng.log_range(3_000, 120_000) as usize;
        let page = content::html(&mut self.rng, &host, page_len);
        let req = format!(
            "GET /page/{k}.html HTTP/1.1\r\nHost: {host}\r\nUser-Agent: GenBrowser/1.0\r\nAccept: text/html\r\n\r\n"
        );
        let coding = if self.rng.chance(0.3) {
            Coding::Gzip
        } else {
            Coding::Plain
        };
        let resp = self.http_response(
            "200 OK",
            Some("text/html; charset=utf-8"),
            page.as_bytes(),
            coding,
            false,
        );
        self.http_exchange(&mut tl, &mut flow, req.into_bytes(), None, resp, None, 100);
        let images = self.rng.urange(0, 6);
        for i in 0..images {
            let size = self.rng.log_range(1_000, 1_500_000) as usize;
            let img = content::jpeg(&mut self.rng, size);
            let req = format!(
                "GET /img/{k}-{i}.jpg HTTP/1.1\r\nHost: {host}\r\nUser-Agent: GenBrowser/1.0\r\nAccept: image/*\r\n\r\n"
            );
            let resp = self.http_response("200 OK", Some("image/jpeg"), &img, Coding::Plain, false);
            self.http_exchange(&mut tl, &mut flow, req.into_bytes(), None, resp, None, 30);
        }
        flow.close(&mut tl);
        tl
    }

    /// TLS-looking stream on 443: application-data records of random bytes.
    fn tls(&mut self, start_ns: u64) -> Timeline {
        let mut tl = Timeline::new(start_ns);
        let k = self.fillers;
        let server_ip = [142, 250, (k % 250) as u8, 14];
        let mut flow = self.open_flow(&mut tl, None, endpoint(server_ip, 443));
        let records = |rng: &mut Rng, total: usize| {
            let mut v = Vec::with_capacity(total + total / 16384 * 5 + 5);
            let mut left = total;
            while left > 0 {
                let n = left.min(16384);
                v.extend_from_slice(&[0x17, 0x03, 0x03]);
                v.extend_from_slice(&(n as u16).to_be_bytes());
                let at = v.len();
                v.resize(at + n, 0);
                rng.fill(&mut v[at..]);
                left -= n;
            }
            v
        };
        let exchanges = self.rng.urange(1, 4);
        for _ in 0..exchanges {
            let up = self.rng.urange(100, 1500);
            let down = self.rng.log_range(2_000, 4_000_000) as usize;
            let req = records(&mut self.rng, up);
            let resp = records(&mut self.rng, down);
            self.http_exchange(&mut tl, &mut flow, req, None, resp, None, 80);
        }
        flow.close(&mut tl);
        tl
    }

    /// A DNS query for an A record and its answer.
    fn dns(&mut self, start_ns: u64) -> Timeline {
        let mut tl = Timeline::new(start_ns);
        let k = self.fillers;
        let id = self.rng.next_u64() as u16;
        let client = endpoint(self.client_ip(), self.port());
        let server = endpoint(DNS_IP, 53);
        let mut q = Vec::with_capacity(64);
        q.extend_from_slice(&id.to_be_bytes());
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in [format!("host{}", k % 1000).as_str(), "example", "net"] {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&[0, 1, 0, 1]);
        let f = udp_frame(&client, &server, id, &q);
        tl.push(f);
        tl.advance(self.rng.range(1, 60) * MS);
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1; // ANCOUNT
        r.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4]);
        r.extend_from_slice(&[93, 184, (k % 200) as u8, 10]);
        let f = udp_frame(&server, &client, id.wrapping_add(1), &r);
        tl.push(f);
        tl
    }

    /// An RTP-looking voice stream (PCMU, 20 ms packets).
    fn rtp(&mut self, start_ns: u64) -> Timeline {
        let mut tl = Timeline::new(start_ns);
        let src = endpoint(
            [
                10,
                30,
                self.rng.urange(0, 255) as u8,
                self.rng.urange(1, 254) as u8,
            ],
            16384 + 2 * self.rng.urange(0, 8000) as u16,
        );
        let dst = endpoint(
            [
                10,
                31,
                self.rng.urange(0, 255) as u8,
                self.rng.urange(1, 254) as u8,
            ],
            16384 + 2 * self.rng.urange(0, 8000) as u16,
        );
        let ssrc = self.rng.next_u64() as u32;
        let mut seq = self.rng.next_u64() as u16;
        let mut ts = self.rng.next_u64() as u32;
        let n = self.rng.urange(50, 1500);
        let mut payload = [0u8; 172];
        for i in 0..n {
            payload[0] = 0x80;
            payload[1] = if i == 0 { 0x80 } else { 0x00 };
            payload[2..4].copy_from_slice(&seq.to_be_bytes());
            payload[4..8].copy_from_slice(&ts.to_be_bytes());
            payload[8..12].copy_from_slice(&ssrc.to_be_bytes());
            self.rng.fill(&mut payload[12..]);
            let f = udp_frame(&src, &dst, seq, &payload);
            tl.push(f);
            tl.advance(20 * MS);
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
        }
        tl
    }
}
