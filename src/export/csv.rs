//! CSV export: one row per PDU, in capture order, with its transaction (RFC 4180 quoting).

use super::{Timeline, iso8601, outcome_name};
use crate::correlate::PduRole;
use crate::correlate::types::{display_type, kind_name};
use compact_str::CompactString;
use std::io::{self, Write};

/// The columns, in order (docs/TRANSACTIONS.md explains each).
pub const CSV_COLUMNS: &[&str] = &[
    "tx_index",
    "tx_kind",
    "tx_transaction_id",
    "tx_message_id",
    "tx_outcome",
    "tx_status",
    "tx_story",
    "pdu_index",
    "frame",
    "frames",
    "time",
    "time_utc",
    "src",
    "dst",
    "transport",
    "method",
    "uri",
    "http_status",
    "message_type",
    "transaction_id",
    "message_id",
    "content_location",
    "from",
    "to",
    "subject",
    "status",
    "role",
    "copy_of",
];

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_csv(w: &mut dyn Write, t: &Timeline) -> io::Result<()> {
    writeln!(w, "{}", CSV_COLUMNS.join(","))?;
    let opt = |s: &Option<CompactString>| s.as_deref().unwrap_or_default().to_string();
    for (p, tx, role) in t.rows() {
        let m = &p.mms;
        let status = [
            &m.response_status,
            &m.status,
            &m.retrieve_status,
            &m.read_status,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
        let copy_of = match role {
            PduRole::Leg { of } | PduRole::Retransmission { of } => of.to_string(),
            PduRole::First => String::new(),
        };
        let cells: Vec<String> = vec![
            tx.index.to_string(),
            kind_name(tx.kind).into(),
            opt(&tx.transaction_id),
            opt(&tx.message_id),
            outcome_name(&tx.outcome).into(),
            tx.status.to_string(),
            tx.story.map(|s| s.to_string()).unwrap_or_default(),
            p.index.to_string(),
            p.frame.to_string(),
            p.frames
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            format!("{}.{:09}", p.time.secs, p.time.nanos),
            iso8601(p.time),
            p.src.to_string(),
            p.dst.to_string(),
            p.transport.as_str().into(),
            opt(&p.carrier.method),
            opt(&p.carrier.uri),
            p.carrier.status.map(|s| s.to_string()).unwrap_or_default(),
            display_type(m),
            opt(&m.transaction_id),
            opt(&m.message_id),
            opt(&m.content_location),
            opt(&m.from),
            m.to.join(" "),
            opt(&m.subject),
            status,
            role.as_str().into(),
            copy_of,
        ];
        debug_assert_eq!(cells.len(), CSV_COLUMNS.len());
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    Ok(())
}
