//! MMS message types as correlation sees them: the OMA names, their normal form, and the role
//! each type plays in an OMA-MMS-CTR transaction.

use crate::model::{MmsSummary, TransactionKind};
use std::borrow::Cow;

/// X-Mms-Message-Type codes and OMA names (OMA-MMS-ENC 1.3, 7.3.30).
pub const MESSAGE_TYPES: &[(u8, &str)] = &[
    (0x80, "m-send-req"),
    (0x81, "m-send-conf"),
    (0x82, "m-notification-ind"),
    (0x83, "m-notifyresp-ind"),
    (0x84, "m-retrieve-conf"),
    (0x85, "m-acknowledge-ind"),
    (0x86, "m-delivery-ind"),
    (0x87, "m-read-rec-ind"),
    (0x88, "m-read-orig-ind"),
    (0x89, "m-forward-req"),
    (0x8A, "m-forward-conf"),
    (0x8B, "m-mbox-store-req"),
    (0x8C, "m-mbox-store-conf"),
    (0x8D, "m-mbox-view-req"),
    (0x8E, "m-mbox-view-conf"),
    (0x8F, "m-mbox-upload-req"),
    (0x90, "m-mbox-upload-conf"),
    (0x91, "m-mbox-delete-req"),
    (0x92, "m-mbox-delete-conf"),
    (0x93, "m-mbox-descr"),
    (0x94, "m-delete-req"),
    (0x95, "m-delete-conf"),
    (0x96, "m-cancel-req"),
    (0x97, "m-cancel-conf"),
];

/// Normal form of a message type name for comparisons: lower case, without the `m-` prefix,
/// `.` and `_` read as `-`. `m-send-req`, `send-req`, `m-send.req` and `M_SEND_REQ` all give
/// `send-req`. A code written `0x80` (or `128`) gives the name of that code.
pub fn normalize_type(name: &str) -> String {
    let t = name.trim();
    let code = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u8::from_str_radix(hex, 16).ok()
    } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u8>().ok()
    } else {
        None
    };
    if let Some(code) = code {
        return match name_of_code(code) {
            Some(n) => normalize_type(n),
            None => format!("unknown-0x{code:02x}"),
        };
    }
    let lower: String = t
        .chars()
        .map(|c| match c {
            '.' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    match lower.strip_prefix("m-") {
        Some(rest) => rest.to_string(),
        None => lower,
    }
}

pub fn name_of_code(code: u8) -> Option<&'static str> {
    // The table lists the codes 0x80.. in order: the code is the position.
    MESSAGE_TYPES
        .get(usize::from(code.wrapping_sub(0x80)))
        .filter(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The normal form of a name of the table ("m-send-req" gives "send-req": every name of the
/// table is lower case, with `-` only, after "m-"), without building a string.
fn normal_of_table_name(name: &'static str) -> &'static str {
    &name[2..]
}

/// `name` when it is spelled exactly as in the table: its normal form, without building a
/// string (the pipeline names every known type this way, and correlation asks for the type of
/// every PDU).
fn table_normal(name: &str, code: Option<u8>) -> Option<&'static str> {
    code.and_then(name_of_code)
        .filter(|n| *n == name)
        .or_else(|| MESSAGE_TYPES.iter().map(|(_, n)| *n).find(|n| *n == name))
        .map(normal_of_table_name)
}

/// True when `normalized` (see [`normalize_type`]) names a known message type.
pub fn is_known_type(normalized: &str) -> bool {
    MESSAGE_TYPES
        .iter()
        .any(|(_, n)| normalize_type(n) == normalized)
        || normalized.starts_with("unknown-0x")
}

/// The normalized type of a PDU: from its name, else from its code, else "unknown".
pub fn pdu_type(mms: &MmsSummary) -> String {
    normal_type(mms).into_owned()
}

/// [`pdu_type`], borrowed for the names of the table (the common case: correlation asks for
/// the type of every PDU).
pub fn normal_type(mms: &MmsSummary) -> Cow<'static, str> {
    if let Some(name) = &mms.message_type {
        return match table_normal(name, mms.message_type_code) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(normalize_type(name)),
        };
    }
    match mms.message_type_code {
        Some(code) => match name_of_code(code) {
            Some(n) => Cow::Borrowed(normal_of_table_name(n)),
            None => Cow::Owned(format!("unknown-0x{code:02x}")),
        },
        None => Cow::Borrowed("unknown"),
    }
}

/// The OMA name to show for a PDU ("m-send-req"), whatever form the pipeline gave.
pub fn display_type(mms: &MmsSummary) -> String {
    display_name(mms).into_owned()
}

/// [`display_type`], borrowed from the table for the known types.
pub fn display_name(mms: &MmsSummary) -> Cow<'static, str> {
    let norm = normal_type(mms);
    match MESSAGE_TYPES
        .iter()
        .find(|(_, n)| normal_of_table_name(n) == norm)
    {
        Some((_, n)) => Cow::Borrowed(n),
        None => match &mms.message_type {
            Some(t) => Cow::Owned(t.to_string()),
            None => norm,
        },
    }
}

/// What a PDU does in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Opens a request/confirmation pair (m-send-req, m-notification-ind, m-forward-req, …).
    /// `family` names the pair ("send", "notification", "mbox-store", …).
    Request {
        kind: TransactionKind,
        family: &'static str,
    },
    /// Closes the pair opened by the `Request` of the same family.
    Response {
        kind: TransactionKind,
        family: &'static str,
    },
    /// m-retrieve-conf: answers a GET of a Content-Location (the GET itself carries no PDU).
    RetrieveConf,
    /// m-acknowledge-ind: closes a retrieval whose m-retrieve-conf had a Transaction-Id.
    Acknowledge,
    /// A PDU that is a transaction by itself (reports, descriptors, unknown types); legs of the
    /// same report join it.
    Single {
        kind: TransactionKind,
        family: &'static str,
    },
}

/// The role of a PDU of normalized type `t`.
pub fn role_of(t: &str) -> Role {
    use TransactionKind as K;
    let pair = |kind, family, is_req: bool| {
        if is_req {
            Role::Request { kind, family }
        } else {
            Role::Response { kind, family }
        }
    };
    match t {
        "send-req" => pair(K::Send, "send", true),
        "send-conf" => pair(K::Send, "send", false),
        "notification-ind" => pair(K::Notification, "notification", true),
        "notifyresp-ind" => pair(K::Notification, "notification", false),
        "retrieve-conf" => Role::RetrieveConf,
        "acknowledge-ind" => Role::Acknowledge,
        "delivery-ind" => Role::Single {
            kind: K::DeliveryReport,
            family: "delivery",
        },
        "read-rec-ind" | "read-orig-ind" => Role::Single {
            kind: K::ReadReport,
            family: "read",
        },
        "forward-req" => pair(K::Forward, "forward", true),
        "forward-conf" => pair(K::Forward, "forward", false),
        "delete-req" => pair(K::Delete, "delete", true),
        "delete-conf" => pair(K::Delete, "delete", false),
        "cancel-req" => pair(K::Cancel, "cancel", true),
        "cancel-conf" => pair(K::Cancel, "cancel", false),
        "mbox-store-req" => pair(K::Mbox, "mbox-store", true),
        "mbox-store-conf" => pair(K::Mbox, "mbox-store", false),
        "mbox-view-req" => pair(K::Mbox, "mbox-view", true),
        "mbox-view-conf" => pair(K::Mbox, "mbox-view", false),
        "mbox-upload-req" => pair(K::Mbox, "mbox-upload", true),
        "mbox-upload-conf" => pair(K::Mbox, "mbox-upload", false),
        "mbox-delete-req" => pair(K::Mbox, "mbox-delete", true),
        "mbox-delete-conf" => pair(K::Mbox, "mbox-delete", false),
        "mbox-descr" => Role::Single {
            kind: K::Mbox,
            family: "mbox-descr",
        },
        _ => Role::Single {
            kind: K::Other,
            family: "other",
        },
    }
}

/// The name a transaction kind has in JSON, CSV and filters ("delivery-report").
pub fn kind_name(kind: TransactionKind) -> &'static str {
    use TransactionKind as K;
    match kind {
        K::Send => "send",
        K::Notification => "notification",
        K::Retrieve => "retrieve",
        K::DeliveryReport => "delivery-report",
        K::ReadReport => "read-report",
        K::Forward => "forward",
        K::Mbox => "mbox",
        K::Delete => "delete",
        K::Cancel => "cancel",
        K::Other => "other",
    }
}

/// Parse a kind name (as [`kind_name`] writes it; also "delivery", "read", "notify", "retrieval").
pub fn parse_kind(s: &str) -> Option<TransactionKind> {
    use TransactionKind as K;
    Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
        "send" => K::Send,
        "notification" | "notify" => K::Notification,
        "retrieve" | "retrieval" => K::Retrieve,
        "delivery-report" | "delivery" => K::DeliveryReport,
        "read-report" | "read" => K::ReadReport,
        "forward" => K::Forward,
        "mbox" => K::Mbox,
        "delete" => K::Delete,
        "cancel" => K::Cancel,
        "other" => K::Other,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_normalize_to_one_form() {
        for s in [
            "m-send-req",
            "send-req",
            "m-send.req",
            "M_SEND_REQ",
            "0x80",
            "128",
        ] {
            assert_eq!(normalize_type(s), "send-req", "{s}");
        }
        assert_eq!(normalize_type("0x9f"), "unknown-0x9f");
        assert!(is_known_type("mbox-view-conf"));
        assert!(!is_known_type("sned-req"));
    }

    #[test]
    fn table_names_normalize_to_their_tail_and_codes_index_the_table() {
        for (code, name) in MESSAGE_TYPES {
            assert_eq!(normalize_type(name), normal_of_table_name(name), "{name}");
            assert_eq!(name_of_code(*code), Some(*name));
        }
        assert_eq!(name_of_code(0x7f), None);
        assert_eq!(name_of_code(0x98), None);
    }

    #[test]
    fn pdu_types_and_display_names_from_names_and_codes() {
        let mms = |name: Option<&str>, code: Option<u8>| MmsSummary {
            message_type: name.map(Into::into),
            message_type_code: code,
            ..Default::default()
        };
        assert_eq!(pdu_type(&mms(Some("m-send-req"), Some(0x80))), "send-req");
        // a name that disagrees with the code: the name wins, as before
        assert_eq!(pdu_type(&mms(Some("m-send-conf"), Some(0x80))), "send-conf");
        assert_eq!(pdu_type(&mms(Some("M_SEND_REQ"), None)), "send-req");
        assert_eq!(pdu_type(&mms(None, Some(0x86))), "delivery-ind");
        assert_eq!(pdu_type(&mms(None, Some(0x9f))), "unknown-0x9f");
        assert_eq!(pdu_type(&mms(None, None)), "unknown");
        assert_eq!(display_type(&mms(Some("M_SEND_REQ"), None)), "m-send-req");
        assert_eq!(display_type(&mms(None, Some(0x95))), "m-delete-conf");
        assert_eq!(
            display_type(&mms(Some("unknown-0x9f"), Some(0x9f))),
            "unknown-0x9f"
        );
        assert_eq!(display_type(&mms(Some("x-odd"), None)), "x-odd");
        assert_eq!(display_type(&mms(None, None)), "unknown");
    }

    #[test]
    fn roles_pair_requests_with_their_confirmations() {
        assert_eq!(
            role_of("mbox-store-req"),
            Role::Request {
                kind: TransactionKind::Mbox,
                family: "mbox-store"
            }
        );
        assert_eq!(
            role_of("notifyresp-ind"),
            Role::Response {
                kind: TransactionKind::Notification,
                family: "notification"
            }
        );
        assert_eq!(role_of("retrieve-conf"), Role::RetrieveConf);
        assert_eq!(
            parse_kind("Delivery_Report"),
            Some(TransactionKind::DeliveryReport)
        );
    }
}
