//! Assigned numbers of OMA-MMS-ENC 1.3 (section 7.4, Tables 24–30 and the value tables of 7.3):
//! message types, header field codes, and the token values of each field.

/// Message type name (X-Mms-Message-Type, 0x80–0x97).
pub fn message_type_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x80 => "m-send-req",
        0x81 => "m-send-conf",
        0x82 => "m-notification-ind",
        0x83 => "m-notifyresp-ind",
        0x84 => "m-retrieve-conf",
        0x85 => "m-acknowledge-ind",
        0x86 => "m-delivery-ind",
        0x87 => "m-read-rec-ind",
        0x88 => "m-read-orig-ind",
        0x89 => "m-forward-req",
        0x8A => "m-forward-conf",
        0x8B => "m-mbox-store-req",
        0x8C => "m-mbox-store-conf",
        0x8D => "m-mbox-view-req",
        0x8E => "m-mbox-view-conf",
        0x8F => "m-mbox-upload-req",
        0x90 => "m-mbox-upload-conf",
        0x91 => "m-mbox-delete-req",
        0x92 => "m-mbox-delete-conf",
        0x93 => "m-mbox-descr",
        0x94 => "m-delete-req",
        0x95 => "m-delete-conf",
        0x96 => "m-cancel-req",
        0x97 => "m-cancel-conf",
        _ => return None,
    })
}

/// "m-send-req", or "unknown-0xNN".
pub fn message_type_display(code: u8) -> String {
    message_type_label(code).into_owned()
}

/// [`message_type_display`], borrowed from the table when the type is assigned.
pub fn message_type_label(code: u8) -> std::borrow::Cow<'static, str> {
    match message_type_name(code) {
        Some(n) => n.into(),
        None => format!("unknown-0x{code:02X}").into(),
    }
}

/// The MMS version (major, minor) that introduced a message type.
pub fn message_type_since(code: u8) -> (u8, u8) {
    match code {
        0x80..=0x86 => (1, 0),
        0x87..=0x8A => (1, 1),
        0x8B..=0x95 => (1, 2),
        _ => (1, 3),
    }
}

/// Header field name by its code (without the high bit; OMA-MMS-ENC 1.3 Table 24).
pub fn field_name(code: u8) -> Option<&'static str> {
    const T: &[&str] = &[
        "",
        "Bcc",
        "Cc",
        "X-Mms-Content-Location",
        "Content-Type",
        "Date",
        "X-Mms-Delivery-Report",
        "X-Mms-Delivery-Time",
        "X-Mms-Expiry",
        "From",
        "X-Mms-Message-Class",
        "Message-ID",
        "X-Mms-Message-Type",
        "X-Mms-MMS-Version",
        "X-Mms-Message-Size",
        "X-Mms-Priority",
        "X-Mms-Read-Report",
        "X-Mms-Report-Allowed",
        "X-Mms-Response-Status",
        "X-Mms-Response-Text",
        "X-Mms-Sender-Visibility",
        "X-Mms-Status",
        "Subject",
        "To",
        "X-Mms-Transaction-Id",
        "X-Mms-Retrieve-Status",
        "X-Mms-Retrieve-Text",
        "X-Mms-Read-Status",
        "X-Mms-Reply-Charging",
        "X-Mms-Reply-Charging-Deadline",
        "X-Mms-Reply-Charging-ID",
        "X-Mms-Reply-Charging-Size",
        "X-Mms-Previously-Sent-By",
        "X-Mms-Previously-Sent-Date",
        "X-Mms-Store",
        "X-Mms-MM-State",
        "X-Mms-MM-Flags",
        "X-Mms-Store-Status",
        "X-Mms-Store-Status-Text",
        "X-Mms-Stored",
        "X-Mms-Attributes",
        "X-Mms-Totals",
        "X-Mms-Mbox-Totals",
        "X-Mms-Quotas",
        "X-Mms-Mbox-Quotas",
        "X-Mms-Message-Count",
        "Content",
        "X-Mms-Start",
        "Additional-headers",
        "X-Mms-Distribution-Indicator",
        "X-Mms-Element-Descriptor",
        "X-Mms-Limit",
        "X-Mms-Recommended-Retrieval-Mode",
        "X-Mms-Recommended-Retrieval-Mode-Text",
        "X-Mms-Status-Text",
        "X-Mms-Applic-ID",
        "X-Mms-Reply-Applic-ID",
        "X-Mms-Aux-Applic-Info",
        "X-Mms-Content-Class",
        "X-Mms-DRM-Content",
        "X-Mms-Adaptation-Allowed",
        "X-Mms-Replace-ID",
        "X-Mms-Cancel-ID",
        "X-Mms-Cancel-Status",
    ];
    match code {
        1..=0x3F => Some(T[code as usize]),
        _ => None,
    }
}

/// Field name, or "unknown-header-0xNN" (with the high bit, as it is on the wire).
pub fn field_display(code: u8) -> String {
    field_label(code).into_owned()
}

/// [`field_display`], borrowed from the table when the code is assigned.
pub fn field_label(code: u8) -> std::borrow::Cow<'static, str> {
    match field_name(code) {
        Some(n) => n.into(),
        None => format!("unknown-header-0x{:02X}", code | 0x80).into(),
    }
}

/// The MMS version that introduced a header field.
pub fn field_since(code: u8) -> (u8, u8) {
    match code {
        // WAP-209 (MMS 1.0) assigned 0x01–0x18; Retrieve-Status/Text, Read-Status,
        // Reply-Charging* and Previously-Sent-* came with 1.1.
        0x01..=0x18 => (1, 0),
        0x19..=0x21 => (1, 1),
        0x22..=0x33 => (1, 2),
        _ => (1, 3),
    }
}

/// Token name of an enumerated field value (octet as on the wire, 0x80…), `None` when the
/// value is not assigned.
pub fn token_name(code: u8, v: u8) -> Option<&'static str> {
    Some(match (code, v) {
        // Yes-no fields.
        (0x06 | 0x10 | 0x11 | 0x22 | 0x27 | 0x29 | 0x2B | 0x31 | 0x3B | 0x3C, 0x80) => "Yes",
        (0x06 | 0x10 | 0x11 | 0x22 | 0x27 | 0x29 | 0x2B | 0x31 | 0x3B | 0x3C, 0x81) => "No",
        // X-Mms-Message-Class
        (0x0A, 0x80) => "Personal",
        (0x0A, 0x81) => "Advertisement",
        (0x0A, 0x82) => "Informational",
        (0x0A, 0x83) => "Auto",
        // X-Mms-Priority
        (0x0F, 0x80) => "Low",
        (0x0F, 0x81) => "Normal",
        (0x0F, 0x82) => "High",
        // X-Mms-Response-Status
        (0x12, v) => return response_status_name(v),
        // X-Mms-Sender-Visibility
        (0x14, 0x80) => "Hide",
        (0x14, 0x81) => "Show",
        // X-Mms-Status
        (0x15, 0x80) => "Expired",
        (0x15, 0x81) => "Retrieved",
        (0x15, 0x82) => "Rejected",
        (0x15, 0x83) => "Deferred",
        (0x15, 0x84) => "Unrecognised",
        (0x15, 0x85) => "Indeterminate",
        (0x15, 0x86) => "Forwarded",
        (0x15, 0x87) => "Unreachable",
        // X-Mms-Retrieve-Status
        (0x19, 0x80) => "Ok",
        (0x19, 0xC0) => "Error-transient-failure",
        (0x19, 0xC1) => "Error-transient-message-not-found",
        (0x19, 0xC2) => "Error-transient-network-problem",
        (0x19, 0xE0) => "Error-permanent-failure",
        (0x19, 0xE1) => "Error-permanent-service-denied",
        (0x19, 0xE2) => "Error-permanent-message-not-found",
        (0x19, 0xE3) => "Error-permanent-content-unsupported",
        // X-Mms-Read-Status
        (0x1B, 0x80) => "Read",
        (0x1B, 0x81) => "Deleted without being read",
        // X-Mms-Reply-Charging
        (0x1C, 0x80) => "Requested",
        (0x1C, 0x81) => "Requested text only",
        (0x1C, 0x82) => "Accepted",
        (0x1C, 0x83) => "Accepted text only",
        // X-Mms-MM-State
        (0x23, 0x80) => "Draft",
        (0x23, 0x81) => "Sent",
        (0x23, 0x82) => "New",
        (0x23, 0x83) => "Retrieved",
        (0x23, 0x84) => "Forwarded",
        // X-Mms-Store-Status
        (0x25, 0x80) => "Success",
        (0x25, 0xC0) => "Error-transient-failure",
        (0x25, 0xC1) => "Error-transient-network-problem",
        (0x25, 0xE0) => "Error-permanent-failure",
        (0x25, 0xE1) => "Error-permanent-service-denied",
        (0x25, 0xE2) => "Error-permanent-message-format-corrupt",
        (0x25, 0xE3) => "Error-permanent-message-not-found",
        (0x25, 0xE4) => "Error-permanent-mmbox-full",
        // X-Mms-Recommended-Retrieval-Mode
        (0x34, 0x80) => "Manual",
        // X-Mms-Content-Class
        (0x3A, 0x80) => "text",
        (0x3A, 0x81) => "image-basic",
        (0x3A, 0x82) => "image-rich",
        (0x3A, 0x83) => "video-basic",
        (0x3A, 0x84) => "video-rich",
        (0x3A, 0x85) => "megapixel",
        (0x3A, 0x86) => "content-basic",
        (0x3A, 0x87) => "content-rich",
        // X-Mms-Cancel-Status
        (0x3F, 0x80) => "Cancel Request Successfully received",
        (0x3F, 0x81) => "Cancel Request corrupted",
        _ => return None,
    })
}

/// X-Mms-Response-Status (OMA-MMS-ENC 1.3 7.3.48; the 0x81–0x88 values are the MMS 1.0 codes,
/// obsolete from 1.1 on but still decoded).
pub fn response_status_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x80 => "Ok",
        0x81 => "Error-unspecified",
        0x82 => "Error-service-denied",
        0x83 => "Error-message-format-corrupt",
        0x84 => "Error-sending-address-unresolved",
        0x85 => "Error-message-not-found",
        0x86 => "Error-network-problem",
        0x87 => "Error-content-not-accepted",
        0x88 => "Error-unsupported-message",
        0xC0 => "Error-transient-failure",
        0xC1 => "Error-transient-sending-address-unresolved",
        0xC2 => "Error-transient-message-not-found",
        0xC3 => "Error-transient-network-problem",
        0xC4 => "Error-transient-partial-success",
        0xE0 => "Error-permanent-failure",
        0xE1 => "Error-permanent-service-denied",
        0xE2 => "Error-permanent-message-format-corrupt",
        0xE3 => "Error-permanent-sending-address-unresolved",
        0xE4 => "Error-permanent-message-not-found",
        0xE5 => "Error-permanent-content-not-accepted",
        0xE6 => "Error-permanent-reply-charging-limitations-not-met",
        0xE7 => "Error-permanent-reply-charging-request-not-accepted",
        0xE8 => "Error-permanent-reply-charging-forwarding-denied",
        0xE9 => "Error-permanent-reply-charging-not-supported",
        0xEA => "Error-permanent-address-hiding-not-supported",
        0xEB => "Error-permanent-lack-of-prepaid",
        _ => return None,
    })
}

/// For status fields whose unassigned error codes have a meaning by range (OMA-MMS-ENC 1.3
/// 7.3.48, 7.3.50, 7.3.58: unknown 0xC0–0xDF mean transient, 0xE0–0xFF permanent failure).
pub fn status_range_meaning(v: u8) -> Option<&'static str> {
    match v {
        0xC0..=0xDF => Some("Error-transient-failure"),
        0xE0..=0xFF => Some("Error-permanent-failure"),
        _ => None,
    }
}

/// Header codes that may occur more than once in one PDU.
pub fn multi_valued(code: u8) -> bool {
    matches!(
        code,
        0x01 | 0x02 | 0x17 | 0x20 | 0x21 | 0x23 | 0x24 | 0x28 | 0x32
    )
}

/// Whether the PDU type carries an X-Mms-Transaction-Id: `Some(true)` mandatory, `Some(false)`
/// optional, `None` not defined for it.
pub fn transaction_id_rule(msg_type: u8) -> Option<bool> {
    match msg_type {
        0x84 => Some(false),
        0x86..=0x88 | 0x93 => None,
        0x80..=0x97 => Some(true),
        _ => Some(false),
    }
}

/// Mandatory header codes (besides Message-Type, Transaction-Id and MMS-Version) per PDU type
/// (OMA-MMS-ENC 1.3 section 6, the "Status" columns).
pub fn mandatory_fields(msg_type: u8) -> &'static [u8] {
    match msg_type {
        0x80 => &[0x09, 0x04],                   // m-send-req: From, Content-Type
        0x81 => &[0x12],                         // m-send-conf: Response-Status
        0x82 => &[0x0A, 0x0E, 0x08, 0x03],       // m-notification-ind
        0x83 => &[0x15],                         // m-notifyresp-ind: Status
        0x84 => &[0x05, 0x04],                   // m-retrieve-conf: Date, Content-Type
        0x85 => &[],                             // m-acknowledge-ind
        0x86 => &[0x0B, 0x17, 0x05, 0x15],       // m-delivery-ind
        0x87 => &[0x0B, 0x17, 0x09, 0x1B],       // m-read-rec-ind
        0x88 => &[0x0B, 0x17, 0x09, 0x05, 0x1B], // m-read-orig-ind
        0x89 => &[0x09, 0x03],                   // m-forward-req: From, Content-Location
        0x8A => &[0x12],                         // m-forward-conf
        0x8B => &[0x03],                         // m-mbox-store-req
        0x8C => &[0x25],                         // m-mbox-store-conf: Store-Status
        0x8D => &[],                             // m-mbox-view-req
        0x8E => &[0x12],                         // m-mbox-view-conf
        0x8F => &[0x04],                         // m-mbox-upload-req
        0x90 => &[0x25],                         // m-mbox-upload-conf
        0x91 => &[0x03],                         // m-mbox-delete-req
        0x92 => &[0x12],                         // m-mbox-delete-conf
        0x93 => &[],                             // m-mbox-descr
        0x94 => &[0x03],                         // m-delete-req
        0x95 => &[0x12],                         // m-delete-conf
        0x96 => &[0x3E],                         // m-cancel-req: Cancel-ID
        0x97 => &[],                             // m-cancel-conf
        _ => &[],
    }
}

/// PDU types that carry a message body after Content-Type.
pub fn has_body(msg_type: u8) -> bool {
    matches!(msg_type, 0x80 | 0x84 | 0x8E | 0x8F | 0x93)
}
