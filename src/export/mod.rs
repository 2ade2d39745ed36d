//! Timeline exports of correlated transactions: JSON, CSV, Mermaid `sequenceDiagram`, and a
//! self-contained HTML page with a ladder diagram (docs/TRANSACTIONS.md describes each format).
//!
//! Every writer takes a [`Timeline`]: the transactions to export and the PDU records they index
//! (the whole capture, or any subset in capture order that holds their PDUs).

mod csv;
mod html;
mod line;
mod mermaid;
pub mod sorted_json;

pub use csv::{CSV_COLUMNS, write_csv};
pub use html::write_html;
pub use line::{SortedJson, TransactionLine, pdu_line};
pub use mermaid::{mermaid_escape, write_mermaid};

use crate::correlate::types::kind_name;
use crate::correlate::{PduRole, pdu_by_index, pdu_roles};
use crate::filter::days_from_civil;
use crate::model::{Outcome, PduRecord, Timestamp, Transaction};
use serde_json::Value;
use std::io::{self, Write};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Mermaid,
    Html,
}

/// What an export writes: transactions and the PDU records they refer to.
#[derive(Debug, Clone, Copy)]
pub struct Timeline<'a> {
    /// Name of the capture, shown in titles.
    pub source: &'a str,
    pub transactions: &'a [Transaction],
    pub pdus: &'a [PduRecord],
}

impl Timeline<'_> {
    /// Write in `format`.
    pub fn write(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => write_json(w, self),
            Format::Csv => write_csv(w, self),
            Format::Mermaid => write_mermaid(w, self),
            Format::Html => write_html(w, self),
        }
    }

    /// The exported PDUs in capture order, each with its transaction and role.
    pub(crate) fn rows(&self) -> Vec<(&PduRecord, &Transaction, PduRole)> {
        let mut rows = Vec::new();
        for tx in self.transactions {
            let roles = pdu_roles(tx, self.pdus);
            for (k, &i) in tx.pdus.iter().enumerate() {
                if let Some(p) = pdu_by_index(self.pdus, i) {
                    rows.push((p, tx, roles[k]));
                }
            }
        }
        rows.sort_by_key(|(p, _, _)| p.index);
        rows
    }

    /// Time of the first exported PDU (relative times count from it).
    pub(crate) fn origin(&self) -> Timestamp {
        self.transactions
            .iter()
            .map(|t| t.start)
            .min()
            .unwrap_or_default()
    }
}

/// Timestamp as RFC 3339 UTC with microseconds: `2026-01-01T00:00:07.680559Z`.
pub fn iso8601(ts: Timestamp) -> String {
    let mut buf = [0; ISO8601_LEN];
    match iso8601_digits(ts, &mut buf) {
        Some(s) => s.to_string(),
        None => iso8601_formatted(ts),
    }
}

const ISO8601_LEN: usize = "2026-01-01T00:00:07.680559Z".len();

/// [`iso8601`] written digit by digit into `buf` (`format!` was a visible part of
/// `transactions --json`, with three to five timestamps a line); `None` when it does not fit
/// the fixed form (a year outside 0–9999, nanoseconds past a second).
fn iso8601_digits(ts: Timestamp, buf: &mut [u8; ISO8601_LEN]) -> Option<&str> {
    if iso8601_ascii(ts, buf) {
        std::str::from_utf8(buf).ok()
    } else {
        None
    }
}

/// [`iso8601_digits`] as bytes: whether `ts` fits the fixed form, `buf` then holding its
/// ASCII text (which a JSON writer copies as it is, with no check for UTF-8 or escapes).
fn iso8601_ascii(ts: Timestamp, buf: &mut [u8; ISO8601_LEN]) -> bool {
    let days = ts.secs.div_euclid(86400);
    let sod = ts.secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) || ts.nanos >= 1_000_000_000 {
        return false;
    }
    // Two digits at a time from a table: a digit at a time, the divisions were most of the
    // cost of a timestamp.
    fn pair(buf: &mut [u8], v: u32) {
        let at = v as usize * 2;
        buf[..2].copy_from_slice(&DIGIT_PAIRS[at..at + 2]);
    }
    let (y, sod) = (y as u32, sod as u32);
    pair(&mut buf[0..2], y / 100);
    pair(&mut buf[2..4], y % 100);
    buf[4] = b'-';
    pair(&mut buf[5..7], m);
    buf[7] = b'-';
    pair(&mut buf[8..10], d);
    buf[10] = b'T';
    pair(&mut buf[11..13], sod / 3600);
    buf[13] = b':';
    pair(&mut buf[14..16], sod % 3600 / 60);
    buf[16] = b':';
    pair(&mut buf[17..19], sod % 60);
    buf[19] = b'.';
    let micros = ts.nanos / 1000;
    pair(&mut buf[20..22], micros / 10_000);
    pair(&mut buf[22..24], micros / 100 % 100);
    pair(&mut buf[24..26], micros % 100);
    buf[26] = b'Z';
    true
}

/// The two digits of each number below 100, back to back.
const DIGIT_PAIRS: [u8; 200] = {
    let mut a = [0; 200];
    let mut i = 0;
    while i < 100 {
        a[2 * i] = b'0' + (i / 10) as u8;
        a[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    a
};

/// [`iso8601`] in every case.
fn iso8601_formatted(ts: Timestamp) -> String {
    let days = ts.secs.div_euclid(86400);
    let sod = ts.secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ts.nanos / 1000
    )
}

/// Inverse of [`days_from_civil`] (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    debug_assert_eq!(days_from_civil(y, m as i64, d as i64), z - 719468);
    (y, m, d)
}

pub fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
        Outcome::Incomplete => "incomplete",
        Outcome::Orphan => "orphan",
    }
}

/// A [`TransactionLine`] as a JSON value.
pub fn transaction_json(tx: &Transaction, pdus: &[PduRecord]) -> Value {
    serde_json::to_value(TransactionLine::new(tx, pdus)).unwrap_or(Value::Null)
}

/// Append a [`TransactionLine`] to `out` as one line of compact JSON, with the bytes
/// `serde_json::to_writer(transaction_json(…))` would print, without building the `Value`.
pub fn transaction_line(
    out: &mut Vec<u8>,
    tx: &Transaction,
    pdus: &[PduRecord],
) -> Result<(), sorted_json::Error> {
    TransactionLine::new(tx, pdus).write(out)?;
    out.push(b'\n');
    Ok(())
}

/// [`transaction_line`] of `tx` whose records are `recs`, one for each of `tx.pdus`, in its
/// order: for `transactions --json`, which holds the records of open transactions boxed, apart
/// from one another, and need not move them into a slice for this.
pub fn transaction_line_with_records(
    out: &mut Vec<u8>,
    tx: &Transaction,
    recs: &[&PduRecord],
) -> Result<(), sorted_json::Error> {
    TransactionLine::with_records(tx, recs).write(out)?;
    out.push(b'\n');
    Ok(())
}

/// JSON: an array with one object per transaction ([`transaction_json`]).
pub fn write_json(w: &mut dyn Write, t: &Timeline) -> io::Result<()> {
    let all: Vec<Value> = t
        .transactions
        .iter()
        .map(|tx| transaction_json(tx, t.pdus))
        .collect();
    serde_json::to_writer_pretty(&mut *w, &all)?;
    writeln!(w)
}

/// HTML-escape text for element content and quoted attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls are not valid HTML text (and C1 references would be remapped to
            // Windows-1252): shown as the same visible escape as in the terminal.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Short label of a PDU for diagrams: "m-send-req F-SEND-0001" (type, then its
/// Transaction-Id, else Message-ID).
pub(crate) fn pdu_label(p: &PduRecord) -> String {
    let ty = crate::correlate::types::display_type(&p.mms);
    match (&p.mms.transaction_id, &p.mms.message_id) {
        (Some(t), _) => format!("{ty} {t}"),
        (None, Some(m)) => format!("{ty} {m}"),
        (None, None) => ty,
    }
}

/// Short label of a transaction: "tx 0 send F-SEND-0001: Ok".
pub(crate) fn tx_label(tx: &Transaction) -> String {
    let id = tx
        .transaction_id
        .as_deref()
        .or(tx.message_id.as_deref())
        .or(tx.content_location.as_deref())
        .unwrap_or("-");
    format!(
        "tx {} {} {}: {}",
        tx.index,
        kind_name(tx.kind),
        id,
        tx.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_round_trips_civil_dates() {
        assert_eq!(
            iso8601(Timestamp {
                secs: 1_767_225_607,
                nanos: 680_559_021
            }),
            "2026-01-01T00:00:07.680559Z"
        );
        assert_eq!(
            iso8601(Timestamp { secs: 0, nanos: 0 }),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            iso8601(Timestamp {
                secs: 951_782_400,
                nanos: 0
            }),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(
            iso8601(Timestamp { secs: -1, nanos: 0 }),
            "1969-12-31T23:59:59.000000Z"
        );
    }

    #[test]
    fn iso8601_digits_agree_with_formatting_and_odd_times_still_print() {
        for secs in [
            0,
            59,
            86_399,
            951_782_400,
            1_767_225_607,
            253_402_300_799,
            -1,
            -62_167_219_200,
        ] {
            for nanos in [0, 999, 1_000, 680_559_021, 999_999_999] {
                let ts = Timestamp { secs, nanos };
                assert_eq!(iso8601(ts), iso8601_formatted(ts), "{ts:?}");
            }
        }
        // year 10000, year -1, nanoseconds past a second: formatted as before
        for ts in [
            Timestamp {
                secs: 253_402_300_800,
                nanos: 0,
            },
            Timestamp {
                secs: -62_167_219_201,
                nanos: 0,
            },
            Timestamp {
                secs: 0,
                nanos: 1_500_000_000,
            },
        ] {
            let mut buf = [0; ISO8601_LEN];
            assert_eq!(iso8601_digits(ts, &mut buf), None);
        }
        assert_eq!(
            iso8601(Timestamp {
                secs: 0,
                nanos: 1_500_000_000
            }),
            "1970-01-01T00:00:00.1500000Z"
        );
    }

    #[test]
    fn html_escape_covers_markup_and_quotes() {
        assert_eq!(
            html_escape("<insert-address-token> & \"x\" 'y'"),
            "&lt;insert-address-token&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
    }
}
