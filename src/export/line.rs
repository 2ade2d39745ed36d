//! The lines of `mmscope transactions --json`: [`TransactionLine`] and its records, written key
//! by key in sorted order straight into the output.
//!
//! Each line object is described once, by an `entries` method that gives its keys in sorted
//! order with their values. The same list feeds serde (`Serialize`, for
//! `export::transaction_json` and the JSON export) and the direct writer ([`SortedJson`]),
//! which never has to reorder anything: through `sorted_json` the flattened records came with
//! their keys out of order, and keeping, comparing and reordering every key was most of
//! `transactions --json`'s main thread. The `entries` methods take the model's structs apart
//! without `..`, so a field added to the model fails to compile here until it is given its key.
//!
//! The keys are those the derived `Serialize` impls of the model give (field names, flattened
//! structs merged, `skip_serializing_if` kept): `tests` check the lines against that, the
//! previous serialization, on every transaction of the shipped captures.
//!
//! The records of `mmscope pdus --json` ([`pdu_line`]) are written the same way, key by key,
//! but in the order of their derived `Serialize` (declaration order), which is what
//! serde_json printed: `tests` check them against `serde_json::to_vec` on every record of the
//! shipped captures.

use super::outcome_name;
use super::sorted_json::{self, Error, write_str};
use super::{ISO8601_LEN, iso8601_ascii, iso8601_digits, iso8601_formatted};
use crate::correlate::types::kind_name;
use crate::correlate::{PduRole, explain, pdu_roles, record_roles, tx_pdus};
use crate::model::{
    Carrier, MmsSummary, Outcome, PartSummary, PduRecord, Timestamp, Transaction, TransactionKind,
    Transport, socket_addr_v4_ascii, socket_addr_v4_text,
};
use serde::Serialize;
use serde::ser::SerializeMap;
use smallvec::SmallVec;
use std::net::SocketAddr;

/// A value written as compact JSON with sorted object keys, the bytes
/// [`sorted_json::append`] writes for it. The default is `sorted_json` itself; the values of
/// every line write themselves without it.
pub trait SortedJson: Serialize {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        sorted_json::append(out, self)
    }
}

/// An entry's key as the direct writer writes it, `,"key":` (see [`Entries::entry`]): an array
/// of known length, so that copying it is a few moves rather than a call to `memcpy`.
macro_rules! key {
    ($k:literal) => {{
        const PIECE: &str = concat!(",\"", $k, "\":");
        const BYTES: [u8; PIECE.len()] = {
            let mut a = [0; PIECE.len()];
            let mut i = 0;
            while i < a.len() {
                a[i] = PIECE.as_bytes()[i];
                i += 1;
            }
            a
        };
        &BYTES
    }};
}

/// The bare key of a [`key!`]: `,"key":` without its first two and last two bytes.
fn bare<const N: usize>(key: &'static [u8; N]) -> &'static str {
    std::str::from_utf8(&key[2..N - 2]).expect("a key! is text")
}

/// Where the entries of an object go, given in sorted key order: a serde map, or the output.
/// Each key comes as [`key!`] makes it, comma, quotes and colon included, so that the direct
/// writer copies it in one piece (three small copies per key were a tenth of the writer).
trait Entries {
    type Error;
    fn entry<const N: usize, V: SortedJson + ?Sized>(
        &mut self,
        key: &'static [u8; N],
        v: &V,
    ) -> Result<(), Self::Error>;

    /// An entry only when there is a value (`skip_serializing_if = "Option::is_none"`).
    fn some<const N: usize, V: SortedJson>(
        &mut self,
        key: &'static [u8; N],
        v: Option<&V>,
    ) -> Result<(), Self::Error> {
        match v {
            Some(v) => self.entry(key, v),
            None => Ok(()),
        }
    }
}

/// An object whose entries are listed once, in sorted key order.
trait SortedEntries {
    fn entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error>;
}

/// Entries to a serde map.
struct ToSerde<M>(M);

impl<M: SerializeMap> Entries for ToSerde<M> {
    type Error = M::Error;
    fn entry<const N: usize, V: SortedJson + ?Sized>(
        &mut self,
        key: &'static [u8; N],
        v: &V,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(bare(key), v)
    }
}

/// Entries written to the output as `"key":value`, comma-separated.
struct Direct<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
    /// The key before, to check in debug builds that they come in order (`None`: keys in
    /// declaration order, unchecked).
    #[cfg(debug_assertions)]
    last: Option<&'static str>,
}

impl Entries for Direct<'_> {
    type Error = Error;
    fn entry<const N: usize, V: SortedJson + ?Sized>(
        &mut self,
        key: &'static [u8; N],
        v: &V,
    ) -> Result<(), Error> {
        #[cfg(debug_assertions)]
        if let Some(last) = self.last {
            debug_assert!(
                self.first || last < bare(key),
                "{} before {}",
                last,
                bare(key)
            );
            self.last = Some(bare(key));
        }
        // The keys are field names: nothing in them to escape. The first goes without its comma.
        if self.first {
            self.out.extend_from_slice(&key[1..]);
        } else {
            self.out.extend_from_slice(key);
        }
        self.first = false;
        v.write_sorted(self.out)
    }
}

/// Write `v`'s entries as one object.
fn write_object<T: SortedEntries + ?Sized>(v: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    write_braced(out, true, |e| v.entries(e))
}

/// Write the entries `fill` gives as one object; `sorted`: they come in key order (checked in
/// debug builds), else in declaration order.
fn write_braced(
    out: &mut Vec<u8>,
    #[cfg_attr(not(debug_assertions), allow(unused_variables))] sorted: bool,
    fill: impl FnOnce(&mut Direct<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(b'{');
    fill(&mut Direct {
        out: &mut *out,
        first: true,
        #[cfg(debug_assertions)]
        last: sorted.then_some(""),
    })?;
    out.push(b'}');
    Ok(())
}

/// Serialize `v`'s entries as a serde map.
fn serialize_entries<T: SortedEntries + ?Sized, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = ToSerde(s.serialize_map(None)?);
    v.entries(&mut map)?;
    map.0.end()
}

/// Numbers and bools as serde_json prints them.
macro_rules! scalar {
    ($($ty:ty),*) => {$(
        impl SortedJson for $ty {
            fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
                Ok(serde_json::to_writer(out, self)?)
            }
        }
    )*};
}

scalar!(bool, u16, u64, usize, i64, f64);

impl SortedJson for str {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_str(out, self)
    }
}

impl SortedJson for String {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_str(out, self)
    }
}

impl SortedJson for compact_str::CompactString {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_str(out, self)
    }
}

impl<T: SortedJson + ?Sized> SortedJson for &T {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        (**self).write_sorted(out)
    }
}

impl<T: SortedJson> SortedJson for Option<T> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            Some(v) => v.write_sorted(out),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
}

impl<T: SortedJson> SortedJson for [T] {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_list(out, self, T::write_sorted)
    }
}

/// Write `items` as a JSON array, each with `write`.
fn write_list<T>(
    out: &mut Vec<u8>,
    items: &[T],
    write: impl Fn(&T, &mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(b'[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(v, out)?;
    }
    out.push(b']');
    Ok(())
}

impl<T: SortedJson> SortedJson for Vec<T> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.as_slice().write_sorted(out)
    }
}

impl SortedJson for Timestamp {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        // As its `Serialize` prints it.
        self.as_f64().write_sorted(out)
    }
}

/// Unit enums by the names their derived impls give them (kebab-case), which are the names
/// the program shows: through `sorted_json` each set up a serializer for one word, once per
/// record and twice per line.
macro_rules! named {
    ($($ty:ty => $name:expr),*) => {$(
        impl SortedJson for $ty {
            fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
                write_quoted_ascii(out, $name(self).as_bytes());
                Ok(())
            }
        }
    )*};
}

named!(
    Transport => |t: &Transport| t.as_str(),
    TransactionKind => |k: &TransactionKind| kind_name(*k),
    Outcome => outcome_name
);

/// A socket address as the model's records print it (their `Display` text).
struct Addr<'a>(&'a SocketAddr);

impl Addr<'_> {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self.0 {
            SocketAddr::V4(v4) => f(socket_addr_v4_text(v4, &mut [0; 21])),
            SocketAddr::V6(_) => f(&self.0.to_string()),
        }
    }
}

impl Serialize for Addr<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_text(|t| s.serialize_str(t))
    }
}

impl SortedJson for Addr<'_> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self.0 {
            // Digits, dots and a colon: nothing to escape.
            SocketAddr::V4(v4) => {
                write_quoted_ascii(out, socket_addr_v4_ascii(v4, &mut [0; 21]));
                Ok(())
            }
            SocketAddr::V6(_) => self.with_text(|t| write_str(out, t)),
        }
    }
}

/// `"text"`, for text known to be ASCII with nothing JSON escapes (digits, dots, dashes…).
fn write_quoted_ascii(out: &mut Vec<u8>, text: &[u8]) {
    debug_assert!(
        text.iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    );
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
}

/// A timestamp serialized as [`super::iso8601`] text, without building a `String`.
struct Utc(Timestamp);

impl Utc {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let mut buf = [0; ISO8601_LEN];
        match iso8601_digits(self.0, &mut buf) {
            Some(text) => f(text),
            None => f(&iso8601_formatted(self.0)),
        }
    }
}

impl Serialize for Utc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_text(|t| s.serialize_str(t))
    }
}

impl SortedJson for Utc {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut buf = [0; ISO8601_LEN];
        if iso8601_ascii(self.0, &mut buf) {
            write_quoted_ascii(out, &buf);
            Ok(())
        } else {
            write_str(out, &iso8601_formatted(self.0))
        }
    }
}

/// A timestamp of a line with its two texts, formatted once for every place it is written:
/// the seconds as serde_json prints the float, and the [`super::iso8601`] text. A transaction's
/// start and end are the times of its first and last records, and each text was formatted
/// again for each.
#[derive(Clone, Copy)]
struct Time {
    ts: Timestamp,
    secs: [u8; Time::SECS_ROOM],
    secs_len: u8,
    /// `None` when the time does not fit the fixed ISO form ([`Utc`] writes it then).
    utc: Option<[u8; ISO8601_LEN]>,
}

impl Time {
    /// More than the longest float serde_json prints (`-1.7976931348623157e308`).
    const SECS_ROOM: usize = 32;

    fn new(ts: Timestamp) -> Time {
        let mut secs = [0; Time::SECS_ROOM];
        let mut rest = &mut secs[..];
        serde_json::to_writer(&mut rest, &ts.as_f64()).expect("room for any float");
        let secs_len = (Time::SECS_ROOM - rest.len()) as u8;
        let mut utc = [0; ISO8601_LEN];
        let utc = iso8601_ascii(ts, &mut utc).then_some(utc);
        Time {
            ts,
            secs,
            secs_len,
            utc,
        }
    }

    /// The time `ts` of a record: one of `known` when it is the same, else formatted.
    fn of_record(ts: Timestamp, known: [&Time; 2]) -> Time {
        match known.into_iter().find(|k| k.ts == ts) {
            Some(k) => *k,
            None => Time::new(ts),
        }
    }
}

/// The seconds of a [`Time`], as its timestamp serializes.
struct Secs<'a>(&'a Time);

impl Serialize for Secs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.ts.serialize(s)
    }
}

impl SortedJson for Secs<'_> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.0.secs[..self.0.secs_len as usize]);
        Ok(())
    }
}

/// The UTC text of a [`Time`], as [`Utc`] writes it.
struct UtcOf<'a>(&'a Time);

impl Serialize for UtcOf<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Utc(self.0.ts).serialize(s)
    }
}

impl SortedJson for UtcOf<'_> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match &self.0.utc {
            Some(text) => {
                write_quoted_ascii(out, text);
                Ok(())
            }
            None => Utc(self.0.ts).write_sorted(out),
        }
    }
}

/// `Serialize` (a map of the entries) and [`SortedJson`] (the object written directly) of
/// types whose entries are listed by [`SortedEntries`].
macro_rules! by_entries {
    ($($ty:ty),*) => {$(
        impl SortedJson for $ty {
            fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
                write_object(self, out)
            }
        }
    )*};
}

// The model's own `Serialize` stays derived (in declaration order, for `pdus --json`); these
// two are printed as nested objects of every record.
by_entries!(Carrier, PartSummary);

impl SortedEntries for Carrier {
    fn entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let Carrier {
            method,
            uri,
            status,
            summary,
            exchange: _,
            is_response,
        } = self;
        e.entry(key!("is_response"), is_response)?;
        e.some(key!("method"), method.as_ref())?;
        e.some(key!("status"), status.as_ref())?;
        e.entry(key!("summary"), summary)?;
        e.some(key!("uri"), uri.as_ref())?;
        Ok(())
    }
}

impl SortedEntries for PartSummary {
    fn entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let PartSummary {
            content_type,
            size,
            name,
            content_location,
            content_id,
        } = self;
        e.some(key!("content_id"), content_id.as_ref())?;
        e.some(key!("content_location"), content_location.as_ref())?;
        e.entry(key!("content_type"), content_type)?;
        e.some(key!("name"), name.as_ref())?;
        e.entry(key!("size"), size)
    }
}

/// One transaction as a JSON object: every key of [`Transaction`] (`pdus` are record indices),
/// plus `start_utc`, `end_utc`, `note` (why it is not simply ok) and `records`, its PDU records
/// in order — each with the keys of `mmscope pdus --json`, its `time_utc`, its `role` ("first",
/// "leg", "retransmission") and, for a leg or a retransmission, `copy_of` (record index).
/// Keys sorted at every level, as a `serde_json::Value`'s maps sort them.
pub struct TransactionLine<'a> {
    tx: &'a Transaction,
    note: String,
    start: Time,
    end: Time,
    /// Inline for the usual few: a line is built for every transaction.
    records: SmallVec<[RecordLine<'a>; 4]>,
}

/// A PDU record within a [`TransactionLine`].
struct RecordLine<'a> {
    pdu: &'a PduRecord,
    role: PduRole,
    time: Time,
}

by_entries!(TransactionLine<'_>, RecordLine<'_>);

impl Serialize for TransactionLine<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_entries(self, s)
    }
}

impl Serialize for RecordLine<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_entries(self, s)
    }
}

impl SortedEntries for TransactionLine<'_> {
    fn entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let Transaction {
            index,
            kind,
            transaction_id,
            message_id,
            content_location,
            pdus,
            frames,
            message_types,
            start,
            end,
            duration,
            outcome,
            status,
            endpoints,
            story,
        } = self.tx;
        e.entry(key!("content_location"), content_location)?;
        e.entry(key!("duration"), duration)?;
        debug_assert!(self.start.ts == *start && self.end.ts == *end);
        e.entry(key!("end"), &Secs(&self.end))?;
        e.entry(key!("end_utc"), &UtcOf(&self.end))?;
        e.entry(key!("endpoints"), endpoints)?;
        e.entry(key!("frames"), frames)?;
        e.entry(key!("index"), index)?;
        e.entry(key!("kind"), kind)?;
        e.entry(key!("message_id"), message_id)?;
        e.entry(key!("message_types"), message_types)?;
        e.entry(key!("note"), &self.note)?;
        e.entry(key!("outcome"), outcome)?;
        e.entry(key!("pdus"), pdus)?;
        e.entry(key!("records"), self.records.as_slice())?;
        e.entry(key!("start"), &Secs(&self.start))?;
        e.entry(key!("start_utc"), &UtcOf(&self.start))?;
        e.entry(key!("status"), status)?;
        e.some(key!("story"), story.as_ref())?;
        e.entry(key!("transaction_id"), transaction_id)
    }
}

impl SortedEntries for RecordLine<'_> {
    fn entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let PduRecord {
            index,
            frame,
            frames,
            time,
            src,
            dst,
            transport,
            carrier,
            mms,
            retransmission_of,
            transport_notes,
            dissection: _,
        } = self.pdu;
        let MmsSummary {
            message_type,
            message_type_code: _,
            transaction_id,
            message_id,
            mms_version,
            from,
            to,
            cc,
            bcc,
            content_location,
            subject,
            date,
            status,
            response_status,
            response_text,
            retrieve_status,
            read_status,
            store_status,
            cancel_status,
            message_size,
            content_type,
            parts,
            errors,
            warnings,
        } = mms;
        let copy_of = match self.role {
            PduRole::Leg { of } | PduRole::Retransmission { of } => Some(of),
            PduRole::First => None,
        };
        if !bcc.is_empty() {
            e.entry(key!("bcc"), bcc)?;
        }
        e.some(key!("cancel_status"), cancel_status.as_ref())?;
        e.entry(key!("carrier"), carrier)?;
        if !cc.is_empty() {
            e.entry(key!("cc"), cc)?;
        }
        e.entry(key!("content_location"), content_location)?;
        e.entry(key!("content_type"), content_type)?;
        e.some(key!("copy_of"), copy_of.as_ref())?;
        e.entry(key!("date"), date)?;
        e.entry(key!("dst"), &Addr(dst))?;
        e.entry(key!("errors"), errors)?;
        e.entry(key!("frame"), frame)?;
        e.entry(key!("frames"), frames)?;
        e.entry(key!("from"), from)?;
        e.entry(key!("index"), index)?;
        e.entry(key!("message_id"), message_id)?;
        e.entry(key!("message_size"), message_size)?;
        e.entry(key!("message_type"), message_type)?;
        e.entry(key!("mms_version"), mms_version)?;
        e.entry(key!("parts"), parts)?;
        e.entry(key!("read_status"), read_status)?;
        e.entry(key!("response_status"), response_status)?;
        e.entry(key!("response_text"), response_text)?;
        e.some(key!("retransmission_of"), retransmission_of.as_ref())?;
        e.entry(key!("retrieve_status"), retrieve_status)?;
        e.entry(key!("role"), self.role.as_str())?;
        e.entry(key!("src"), &Addr(src))?;
        e.entry(key!("status"), status)?;
        e.some(key!("store_status"), store_status.as_ref())?;
        e.entry(key!("subject"), subject)?;
        debug_assert!(self.time.ts == *time);
        e.entry(key!("time"), &Secs(&self.time))?;
        e.entry(key!("time_utc"), &UtcOf(&self.time))?;
        e.entry(key!("to"), to)?;
        e.entry(key!("transaction_id"), transaction_id)?;
        e.entry(key!("transport"), transport)?;
        if !transport_notes.is_empty() {
            e.entry(key!("transport_notes"), transport_notes)?;
        }
        e.entry(key!("warnings"), warnings)
    }
}

impl<'a> TransactionLine<'a> {
    pub fn new(tx: &'a Transaction, pdus: &'a [PduRecord]) -> Self {
        Self::of(tx, &tx_pdus(tx, pdus), pdu_roles(tx, pdus).into())
    }

    /// The line of `tx` whose records are `recs`, one for each of `tx.pdus`, in its order.
    pub fn with_records(tx: &'a Transaction, recs: &[&'a PduRecord]) -> Self {
        let present: SmallVec<[Option<&PduRecord>; 4]> = recs.iter().copied().map(Some).collect();
        Self::of(tx, recs, record_roles(tx, &present))
    }

    fn of(tx: &'a Transaction, recs: &[&'a PduRecord], roles: SmallVec<[PduRole; 4]>) -> Self {
        let end = Time::new(tx.end);
        let start = if tx.start == tx.end {
            end
        } else {
            Time::new(tx.start)
        };
        let records = recs
            .iter()
            .zip(roles)
            .map(|(&pdu, role)| RecordLine {
                pdu,
                role,
                time: Time::of_record(pdu.time, [&start, &end]),
            })
            .collect();
        TransactionLine {
            tx,
            note: explain(tx),
            start,
            end,
            records,
        }
    }

    /// Append the line to `out` as compact JSON with sorted keys (without the end of line).
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.write_sorted(out)
    }
}

/// An object's entries in the order its derived `Serialize` gives them (declaration order,
/// flattened fields in their place, `skip_serializing_if` kept): the records of
/// `mmscope pdus --json` keep that order.
trait DeclaredEntries: Serialize {
    fn declared_entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error>;
}

/// A value written with its keys in declaration order: the bytes serde_json writes for it.
struct Declared<'a, T>(&'a T);

impl<T: DeclaredEntries> Serialize for Declared<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: DeclaredEntries> SortedJson for Declared<'_, T> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_braced(out, false, |e| self.0.declared_entries(e))
    }
}

/// A list of values each written with its keys in declaration order.
struct DeclaredList<'a, T>(&'a [T]);

impl<T: DeclaredEntries> Serialize for DeclaredList<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: DeclaredEntries> SortedJson for DeclaredList<'_, T> {
    fn write_sorted(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_list(out, self.0, |v, out| Declared(v).write_sorted(out))
    }
}

impl DeclaredEntries for Carrier {
    fn declared_entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let Carrier {
            method,
            uri,
            status,
            summary,
            exchange: _,
            is_response,
        } = self;
        e.some(key!("method"), method.as_ref())?;
        e.some(key!("uri"), uri.as_ref())?;
        e.some(key!("status"), status.as_ref())?;
        e.entry(key!("summary"), summary)?;
        e.entry(key!("is_response"), is_response)
    }
}

impl DeclaredEntries for PartSummary {
    fn declared_entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let PartSummary {
            content_type,
            size,
            name,
            content_location,
            content_id,
        } = self;
        e.entry(key!("content_type"), content_type)?;
        e.entry(key!("size"), size)?;
        e.some(key!("name"), name.as_ref())?;
        e.some(key!("content_location"), content_location.as_ref())?;
        e.some(key!("content_id"), content_id.as_ref())
    }
}

impl DeclaredEntries for PduRecord {
    fn declared_entries<E: Entries>(&self, e: &mut E) -> Result<(), E::Error> {
        let PduRecord {
            index,
            frame,
            frames,
            time,
            src,
            dst,
            transport,
            carrier,
            mms,
            retransmission_of,
            transport_notes,
            dissection: _,
        } = self;
        let MmsSummary {
            message_type,
            message_type_code: _,
            transaction_id,
            message_id,
            mms_version,
            from,
            to,
            cc,
            bcc,
            content_location,
            subject,
            date,
            status,
            response_status,
            response_text,
            retrieve_status,
            read_status,
            store_status,
            cancel_status,
            message_size,
            content_type,
            parts,
            errors,
            warnings,
        } = mms;
        e.entry(key!("index"), index)?;
        e.entry(key!("frame"), frame)?;
        e.entry(key!("frames"), frames)?;
        e.entry(key!("time"), time)?;
        e.entry(key!("src"), &Addr(src))?;
        e.entry(key!("dst"), &Addr(dst))?;
        e.entry(key!("transport"), transport)?;
        e.entry(key!("carrier"), &Declared(carrier))?;
        // `mms`, flattened
        e.entry(key!("message_type"), message_type)?;
        e.entry(key!("transaction_id"), transaction_id)?;
        e.entry(key!("message_id"), message_id)?;
        e.entry(key!("mms_version"), mms_version)?;
        e.entry(key!("from"), from)?;
        e.entry(key!("to"), to)?;
        if !cc.is_empty() {
            e.entry(key!("cc"), cc)?;
        }
        if !bcc.is_empty() {
            e.entry(key!("bcc"), bcc)?;
        }
        e.entry(key!("content_location"), content_location)?;
        e.entry(key!("subject"), subject)?;
        e.entry(key!("date"), date)?;
        e.entry(key!("status"), status)?;
        e.entry(key!("response_status"), response_status)?;
        e.entry(key!("response_text"), response_text)?;
        e.entry(key!("retrieve_status"), retrieve_status)?;
        e.entry(key!("read_status"), read_status)?;
        e.some(key!("store_status"), store_status.as_ref())?;
        e.some(key!("cancel_status"), cancel_status.as_ref())?;
        e.entry(key!("message_size"), message_size)?;
        e.entry(key!("content_type"), content_type)?;
        e.entry(key!("parts"), &DeclaredList(parts))?;
        e.entry(key!("errors"), errors)?;
        e.entry(key!("warnings"), warnings)?;
        e.some(key!("retransmission_of"), retransmission_of.as_ref())?;
        if !transport_notes.is_empty() {
            e.entry(key!("transport_notes"), transport_notes)?;
        }
        Ok(())
    }
}

/// Append `p` as one line of `mmscope pdus --json` (without the end of line): the bytes
/// `serde_json::to_writer` writes for the record, key by key as they are declared. Through
/// serde_json every key and string was escaped byte by byte through a table, and through a
/// generic serializer each key still cost its check and copy: here a key is a copy of a few
/// bytes known at compile time.
pub fn pdu_line(out: &mut Vec<u8>, p: &PduRecord) -> Result<(), Error> {
    Declared(p).write_sorted(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Dissection;
    use std::net::{Ipv4Addr, SocketAddrV4};

    /// The lines as they were defined before: the model's derived `Serialize` impls, flattened
    /// into the line's own keys, printed through `sorted_json`.
    #[derive(Serialize)]
    struct PreviousLine<'a> {
        #[serde(flatten)]
        tx: &'a Transaction,
        start_utc: Utc,
        end_utc: Utc,
        note: String,
        records: Vec<PreviousRecord<'a>>,
    }

    #[derive(Serialize)]
    struct PreviousRecord<'a> {
        #[serde(flatten)]
        pdu: &'a PduRecord,
        time_utc: Utc,
        role: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        copy_of: Option<usize>,
    }

    fn previous(tx: &Transaction, pdus: &[PduRecord]) -> String {
        let line = PreviousLine {
            tx,
            start_utc: Utc(tx.start),
            end_utc: Utc(tx.end),
            note: explain(tx),
            records: tx_pdus(tx, pdus)
                .into_iter()
                .zip(pdu_roles(tx, pdus))
                .map(|(pdu, role)| PreviousRecord {
                    pdu,
                    time_utc: Utc(pdu.time),
                    role: role.as_str(),
                    copy_of: match role {
                        PduRole::Leg { of } | PduRole::Retransmission { of } => Some(of),
                        PduRole::First => None,
                    },
                })
                .collect(),
        };
        String::from_utf8(sorted_json::to_vec(&line).unwrap()).unwrap()
    }

    fn direct(tx: &Transaction, pdus: &[PduRecord]) -> String {
        let mut out = Vec::new();
        TransactionLine::new(tx, pdus).write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Through serde: what `transaction_json` and the JSON export print.
    fn via_value(tx: &Transaction, pdus: &[PduRecord]) -> String {
        let v = serde_json::to_value(TransactionLine::new(tx, pdus)).unwrap();
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn unit_enums_are_named_as_their_derived_impls_name_them() {
        fn same<T: SortedJson>(v: T) {
            let mut out = Vec::new();
            v.write_sorted(&mut out).unwrap();
            assert_eq!(out, serde_json::to_vec(&v).unwrap());
        }
        use TransactionKind as K;
        for t in [
            Transport::Http,
            Transport::Wsp,
            Transport::WspPush,
            Transport::Pap,
            Transport::File,
        ] {
            same(t);
        }
        for k in [
            K::Send,
            K::Notification,
            K::Retrieve,
            K::DeliveryReport,
            K::ReadReport,
            K::Forward,
            K::Mbox,
            K::Delete,
            K::Cancel,
            K::Other,
        ] {
            same(k);
        }
        for o in [
            Outcome::Ok,
            Outcome::Failed,
            Outcome::Incomplete,
            Outcome::Orphan,
        ] {
            same(o);
        }
    }

    #[test]
    fn lines_of_the_shipped_captures_are_written_as_before() {
        let mut checked = 0;
        let mut keys = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir("captures").unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "pcap" && ext != "pcapng" {
                continue;
            }
            let a = crate::pipeline::analyze_file(&path).unwrap();
            // each record as `pdus --json` writes it
            for p in &a.pdus {
                let mut out = Vec::new();
                pdu_line(&mut out, p).unwrap();
                assert_eq!(out, serde_json::to_vec(p).unwrap());
            }
            for tx in &a.transactions {
                let want = previous(tx, &a.pdus);
                assert_eq!(
                    direct(tx, &a.pdus),
                    want,
                    "{} tx {}",
                    path.display(),
                    tx.index
                );
                assert_eq!(via_value(tx, &a.pdus), want);
                let v: serde_json::Value = serde_json::from_str(&want).unwrap();
                for r in v["records"].as_array().unwrap() {
                    keys.extend(r.as_object().unwrap().keys().cloned());
                }
                checked += 1;
            }
        }
        assert!(checked >= 34, "only {checked} transactions in captures/");
        // Optional keys the captures exercise (the test below covers every one).
        for k in ["copy_of", "retransmission_of"] {
            assert!(keys.contains(k), "no record with {k}");
        }
    }

    /// A record with every optional field present, text that needs escaping, an IPv6 address
    /// and a timestamp outside the fixed ISO form; and one with every optional field absent.
    fn odd_records() -> Vec<PduRecord> {
        let full = PduRecord {
            index: 0,
            frame: 7,
            frames: vec![3, 5, 7],
            time: Timestamp {
                secs: 253_402_300_800,
                nanos: 1,
            },
            src: "[2001:db8::1]:8080".parse().unwrap(),
            dst: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 255), 9201)),
            transport: Transport::WspPush,
            carrier: Carrier {
                method: Some("POST".into()),
                uri: Some("/mms?\"q\"".into()),
                status: Some(200),
                summary: "HTTP/1.1 200 OK\r\n".into(),
                exchange: Some((1, 2)),
                is_response: true,
            },
            mms: MmsSummary {
                message_type: Some("m-send-req".into()),
                message_type_code: Some(0x80),
                transaction_id: Some("T\\1".into()),
                message_id: Some("M\u{1}".into()),
                mms_version: Some("1.3".into()),
                from: Some("<insert-address-token>".into()),
                to: vec!["+1555/TYPE=PLMN".into(), "a@b".into()],
                cc: vec!["cc@x".into()],
                bcc: vec!["bcc@x".into()],
                content_location: Some("http://mmsc/x".into()),
                subject: Some("héllo 漢 🎉".into()),
                date: Some(-5),
                status: Some("Retrieved".into()),
                response_status: Some("Ok".into()),
                response_text: Some("fine".into()),
                retrieve_status: Some("Ok".into()),
                read_status: Some("Read".into()),
                store_status: Some("Success".into()),
                cancel_status: Some("Cancel Request corrupted".into()),
                message_size: Some(u64::MAX),
                content_type: Some("application/vnd.wap.multipart.related".into()),
                parts: vec![PartSummary {
                    content_type: "text/plain".into(),
                    size: 3,
                    name: Some("a\tb".into()),
                    content_location: Some("t.txt".into()),
                    content_id: Some("<t>".into()),
                }],
                errors: 1,
                warnings: 2,
            },
            retransmission_of: Some(9),
            transport_notes: vec!["gap at 4".into()],
            dissection: Dissection::default(),
        };
        let mut empty = full.clone();
        empty.index = 1;
        empty.carrier = Carrier::default();
        empty.mms = MmsSummary::default();
        empty.mms.parts = vec![PartSummary {
            content_type: Default::default(),
            size: 0,
            name: None,
            content_location: None,
            content_id: None,
        }];
        // a retransmission of the first: its line says `copy_of`
        empty.retransmission_of = Some(0);
        empty.transport_notes.clear();
        empty.time = Timestamp { secs: -1, nanos: 0 };
        vec![full, empty]
    }

    #[test]
    fn every_optional_key_and_odd_value_is_written_as_before() {
        let pdus = odd_records();
        // and each record as `pdus --json` writes it
        for p in &pdus {
            let mut out = Vec::new();
            pdu_line(&mut out, p).unwrap();
            assert_eq!(out, serde_json::to_vec(p).unwrap());
        }
        let mut tx = Transaction {
            index: 3,
            kind: TransactionKind::DeliveryReport,
            transaction_id: None,
            message_id: Some("M\"".into()),
            content_location: None,
            pdus: vec![0, 1],
            frames: vec![7, 7],
            message_types: vec!["m-send-req".into(), "m-send-req".into()],
            start: pdus[1].time,
            end: pdus[0].time,
            duration: f64::NAN,
            outcome: Outcome::Incomplete,
            status: "incomplete".into(),
            endpoints: vec!["[2001:db8::1]:8080".into()],
            story: Some(4),
        };
        for story in [Some(4), None] {
            tx.story = story;
            let want = previous(&tx, &pdus);
            assert_eq!(direct(&tx, &pdus), want);
            assert_eq!(via_value(&tx, &pdus), want);
        }
        // the first record has every key but `copy_of`; of the optional ones the second has
        // only `copy_of` and `retransmission_of`
        let v: serde_json::Value = serde_json::from_str(&direct(&tx, &pdus)).unwrap();
        let recs = v["records"].as_array().unwrap();
        assert_eq!(recs[0].as_object().unwrap().len(), 35);
        assert_eq!(recs[1].as_object().unwrap().len(), 31);
        assert_eq!(recs[1]["copy_of"], 0);
        assert_eq!(recs[0]["src"], "[2001:db8::1]:8080");
    }
}
