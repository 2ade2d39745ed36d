//! PAP (WAP-247-PAP) push submissions as a Push Proxy Gateway receives them: an HTTP POST of a
//! `multipart/related` entity whose first part is the PAP control document (XML) and whose
//! next part is the content to push (for MMS, an m-notification-ind or m-delivery-ind,
//! `application/vnd.wap.mms-message`, binary or base64). Also the PPG's `push-response`.
//!
//! Only what a lab engineer needs is read from the XML: element, push-id, addresses, delivery
//! method, result code. The scanner is deliberately small: it never resolves external
//! entities or DTDs (the DOCTYPE is skipped).

use super::HttpMessage;
use super::mime::{self, MimePart, Multipart};
use crate::tree::{Node, Value, escape_text};
use std::ops::Range;

/// What kind of PAP document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PapKind {
    PushMessage,
    PushResponse,
    ResultNotificationMessage,
    ResultNotificationResponse,
    StatusQueryMessage,
    StatusQueryResponse,
    CancelMessage,
    CancelResponse,
    BadMessageResponse,
    Other(String),
}

impl PapKind {
    fn from_element(name: &str) -> PapKind {
        match name {
            "push-message" => PapKind::PushMessage,
            "push-response" => PapKind::PushResponse,
            "resultnotification-message" => PapKind::ResultNotificationMessage,
            "resultnotification-response" => PapKind::ResultNotificationResponse,
            "statusquery-message" => PapKind::StatusQueryMessage,
            "statusquery-response" => PapKind::StatusQueryResponse,
            "cancel-message" => PapKind::CancelMessage,
            "cancel-response" => PapKind::CancelResponse,
            "badmessage-response" => PapKind::BadMessageResponse,
            other => PapKind::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PapKind::PushMessage => "push-message",
            PapKind::PushResponse => "push-response",
            PapKind::ResultNotificationMessage => "resultnotification-message",
            PapKind::ResultNotificationResponse => "resultnotification-response",
            PapKind::StatusQueryMessage => "statusquery-message",
            PapKind::StatusQueryResponse => "statusquery-response",
            PapKind::CancelMessage => "cancel-message",
            PapKind::CancelResponse => "cancel-response",
            PapKind::BadMessageResponse => "badmessage-response",
            PapKind::Other(s) => s,
        }
    }
}

/// The fields of a PAP control or response document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PapDocument {
    pub kind: PapKind,
    pub push_id: Option<String>,
    /// `address-value` of each `<address>`.
    pub addresses: Vec<String>,
    /// `delivery-method` of `<quality-of-service>` (confirmed, unconfirmed, …).
    pub delivery_method: Option<String>,
    pub priority: Option<String>,
    pub bearer: Option<String>,
    pub network: Option<String>,
    pub deliver_before: Option<String>,
    pub deliver_after: Option<String>,
    /// `<response-result code=…>` (push-response) or `code` of a badmessage-response.
    pub result_code: Option<u32>,
    pub result_desc: Option<String>,
    pub sender_name: Option<String>,
    pub reply_time: Option<String>,
}

impl PapDocument {
    /// One line for a human.
    pub fn summary(&self) -> String {
        let mut s = self.kind.as_str().to_string();
        if let Some(p) = &self.push_id {
            s.push_str(&format!(" push-id {p}"));
        }
        for a in &self.addresses {
            s.push_str(&format!(" to {a}"));
        }
        if let Some(d) = &self.delivery_method {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(c) = self.result_code {
            s.push_str(&format!(" result {c}"));
            if let Some(d) = &self.result_desc {
                s.push_str(&format!(" {d}"));
            }
        }
        crate::tree::escape_text(&s)
    }
}

impl PapDocument {
    /// The document's tree; every field points at `range` (the XML's place in its buffer:
    /// the scanner does not keep per-attribute offsets).
    pub fn tree(&self, range: Range<usize>) -> Node {
        let mut root = Node::group("PAP", self.summary(), range.clone());
        let mut field = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                root.push(Node::new(
                    name,
                    escape_text(v),
                    Value::Text(v.clone()),
                    range.clone(),
                ));
            }
        };
        field("Element", &Some(self.kind.as_str().to_string()));
        field("push-id", &self.push_id);
        field("delivery-method", &self.delivery_method);
        field("priority", &self.priority);
        field("bearer", &self.bearer);
        field("network", &self.network);
        field("deliver-before-timestamp", &self.deliver_before);
        field("deliver-after-timestamp", &self.deliver_after);
        field("sender-name", &self.sender_name);
        field("reply-time", &self.reply_time);
        for a in &self.addresses {
            root.push(Node::new(
                "address-value",
                escape_text(a),
                Value::Text(a.clone()),
                range.clone(),
            ));
        }
        if let Some(c) = self.result_code {
            root.push(Node::new(
                "response-result",
                format!(
                    "{c} {}",
                    escape_text(self.result_desc.as_deref().unwrap_or(""))
                ),
                Value::Enum {
                    code: u64::from(c),
                    name: self.result_desc.clone().unwrap_or_default(),
                },
                range.clone(),
            ));
        }
        root
    }
}

/// An XML start tag: element name and attributes.
fn start_tags(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if rest.starts_with('?') || rest.starts_with('!') || rest.starts_with('/') {
            // Declaration, DOCTYPE, comment or end tag: skip to its '>'.
            if let Some(c) = rest.strip_prefix("!--") {
                rest = c.find("-->").map(|i| &c[i + 3..]).unwrap_or("");
            } else {
                rest = rest.find('>').map(|i| &rest[i + 1..]).unwrap_or("");
            }
            continue;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_string();
        let mut attrs = Vec::new();
        let mut a = &rest[name_end..];
        loop {
            a = a.trim_start();
            if a.is_empty() || a.starts_with('>') || a.starts_with("/>") {
                break;
            }
            let Some(eq) = a.find('=') else { break };
            let an = a[..eq].trim().to_string();
            let v = a[eq + 1..].trim_start();
            let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                break;
            };
            let Some(close) = v[1..].find(q) else { break };
            attrs.push((an, unescape(&v[1..1 + close])));
            a = &v[close + 2..];
        }
        out.push((name, attrs));
        rest = a;
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Read a PAP document (control entity of a push submission, or a PPG response).
pub fn parse_pap_document(xml: &[u8]) -> Option<PapDocument> {
    let text = String::from_utf8_lossy(xml);
    let tags = start_tags(&text);
    let mut doc: Option<PapDocument> = None;
    let attr = |attrs: &[(String, String)], n: &str| {
        attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    };
    for (name, attrs) in &tags {
        match name.as_str() {
            "pap" => {}
            "address" => {
                if let (Some(d), Some(v)) = (doc.as_mut(), attr(attrs, "address-value")) {
                    d.addresses.push(v);
                }
            }
            "quality-of-service" => {
                if let Some(d) = doc.as_mut() {
                    d.delivery_method = attr(attrs, "delivery-method");
                    d.priority = attr(attrs, "priority");
                    d.bearer = attr(attrs, "bearer");
                    d.network = attr(attrs, "network");
                }
            }
            "response-result" => {
                if let Some(d) = doc.as_mut() {
                    d.result_code = attr(attrs, "code").and_then(|c| c.trim().parse().ok());
                    d.result_desc = attr(attrs, "desc");
                }
            }
            n if doc.is_none() && n.contains('-') => {
                doc = Some(PapDocument {
                    kind: PapKind::from_element(n),
                    push_id: attr(attrs, "push-id"),
                    addresses: Vec::new(),
                    delivery_method: None,
                    priority: None,
                    bearer: None,
                    network: None,
                    deliver_before: attr(attrs, "deliver-before-timestamp"),
                    deliver_after: attr(attrs, "deliver-after-timestamp"),
                    result_code: attr(attrs, "code").and_then(|c| c.trim().parse().ok()),
                    result_desc: attr(attrs, "desc"),
                    sender_name: attr(attrs, "sender-name"),
                    reply_time: attr(attrs, "reply-time"),
                });
            }
            _ => {}
        }
    }
    doc
}

/// A PAP push submission: the multipart entity and which parts are what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PapSubmission {
    pub multipart: Multipart,
    /// Index of the control part (application/xml with a PAP document) in `multipart.parts`.
    pub control_part: Option<usize>,
    pub control: Option<PapDocument>,
    /// Index of the content part (the first part that is not the control entity).
    pub content_part: Option<usize>,
}

impl PapSubmission {
    /// The submission's tree: the PAP control document, then the multipart. Ranges are
    /// relative to the HTTP body the submission was parsed from.
    pub fn tree(&self) -> Node {
        let end = self.multipart.epilogue.end;
        let display = self
            .control
            .as_ref()
            .map(|c| c.summary())
            .unwrap_or_else(|| "push submission".into());
        let mut root = Node::group("PAP submission", display, 0..end);
        if let (Some(c), Some(i)) = (&self.control, self.control_part) {
            root.push(c.tree(self.multipart.parts[i].content_range.clone()));
        }
        root.push(self.multipart.tree());
        root
    }

    pub fn content(&self) -> Option<&MimePart> {
        self.content_part.map(|i| &self.multipart.parts[i])
    }

    /// The content part if it is an MMS PDU (declared type, or it looks like one).
    pub fn mms_part(&self) -> Option<&MimePart> {
        self.content().filter(|p| {
            p.media_type()
                .is_some_and(|m| m.essence == "application/vnd.wap.mms-message")
                || crate::mms::looks_like_mms(&p.content)
        })
    }
}

/// Read `msg` as a PAP push submission if it is a multipart POST whose parts include a PAP
/// document. Ranges in the result are relative to `msg.body()` (the decoded body).
pub fn parse_submission(msg: &HttpMessage) -> Option<PapSubmission> {
    let ct = msg.content_type()?;
    if !ct.is_multipart() {
        return None;
    }
    let boundary = ct.param("boundary")?;
    let multipart = mime::parse_multipart(msg.body(), boundary);
    let mut control_part = None;
    let mut control = None;
    for (i, p) in multipart.parts.iter().enumerate() {
        let is_xml = p.media_type().is_some_and(|m| m.essence.ends_with("xml"));
        if is_xml && let Some(doc) = parse_pap_document(&p.content) {
            control_part = Some(i);
            control = Some(doc);
            break;
        }
    }
    control_part?;
    let content_part = (0..multipart.parts.len()).find(|&i| Some(i) != control_part);
    Some(PapSubmission {
        multipart,
        control_part,
        control,
        content_part,
    })
}

/// Read `msg` (a PPG's HTTP response) as a PAP response document, if its body is one.
pub fn parse_response(msg: &HttpMessage) -> Option<PapDocument> {
    let mt = msg.media_type()?;
    if !mt.ends_with("xml") {
        return None;
    }
    parse_pap_document(msg.body()).filter(|d| d.kind != PapKind::PushMessage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_push_message_and_response() {
        let xml = br#"<?xml version="1.0"?>
<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP//EN" "http://www.wapforum.org/DTD/pap_1.0.dtd">
<pap>
  <push-message push-id="P-PUSH-0001@mmsc.lab" progress-notes-requested="false">
    <address address-value="WAPPUSH=127.0.0.1/TYPE=IPv4@ppg.lab"/>
    <quality-of-service priority="high" delivery-method="unconfirmed" network="GSM" bearer="GPRS"/>
  </push-message>
</pap>"#;
        let d = parse_pap_document(xml).unwrap();
        assert_eq!(d.kind, PapKind::PushMessage);
        assert_eq!(d.push_id.as_deref(), Some("P-PUSH-0001@mmsc.lab"));
        assert_eq!(d.addresses, ["WAPPUSH=127.0.0.1/TYPE=IPv4@ppg.lab"]);
        assert_eq!(d.delivery_method.as_deref(), Some("unconfirmed"));
        assert_eq!(d.bearer.as_deref(), Some("GPRS"));
        let r = br#"<pap><push-response push-id="X&amp;1" reply-time="2026"><response-result code ="1001" desc="accepted"></response-result></push-response></pap>"#;
        let d = parse_pap_document(r).unwrap();
        assert_eq!(d.kind, PapKind::PushResponse);
        assert_eq!(d.push_id.as_deref(), Some("X&1"));
        assert_eq!(d.result_code, Some(1001));
        assert_eq!(d.result_desc.as_deref(), Some("accepted"));
    }
}
