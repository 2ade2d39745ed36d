//! JSON with the keys of every object in sorted order, written straight from a `Serialize`
//! value.
//!
//! `mmscope transactions --json` has always printed its lines through `serde_json::Value`, whose
//! objects are `BTreeMap`s: keys come out sorted at every level, and users' scripts and diffs of
//! the output see that order. Building the `Value` tree for every transaction (a `String` per
//! key and per value, a B-tree per object, then freeing it all) took about a seventh of the
//! command's time. This serializer prints the same bytes without the tree: an object's entries
//! are written to the output as they come, `"key":value`, each remembered as (key, byte range).
//! An object whose keys came in order is done as it is; one whose keys did not is reordered
//! once when it ends, in an order remembered from the objects of its shape before it (checked,
//! else sorted). Scalars are printed by `serde_json` itself, so escaping and
//! number formatting are serde_json's (a string that needs no escape is copied as it is, as
//! serde_json would).
//!
//! `tests` check it against `serde_json::to_value` + `to_writer` on the shipped captures' real
//! transactions and on every shape of value serde can produce.

use serde::Serialize;
use serde::ser::{self, Impossible};
use std::cmp::Ordering;
use std::fmt::Display;

/// Serialization failed: a map key that is not a string or an integer (as in serde_json), or a
/// custom error of a `Serialize` impl.
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error(e.to_string())
    }
}

/// Append `value` as compact JSON with sorted object keys to `out`. On error `out` may hold a
/// partial value.
pub fn append<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    // The room of the previous value is reused: grown afresh for every line, it was a tenth of
    // `transactions --json`'s main thread. (A `Serialize` impl that calls `append` itself gets
    // room of its own.)
    AUX.with(|cell| match cell.try_borrow_mut() {
        Ok(mut aux) => {
            aux.clear();
            value.serialize(Serializer { out, aux: &mut aux })
        }
        Err(_) => value.serialize(Serializer {
            out,
            aux: &mut Aux::default(),
        }),
    })
}

thread_local! {
    static AUX: std::cell::RefCell<Aux> = std::cell::RefCell::default();
}

/// `value` as compact JSON with sorted object keys.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    append(&mut out, value)?;
    Ok(out)
}

/// Room shared by the objects of one value, used as stacks: an object's entries (and long keys)
/// sit above those of the objects that enclose it, and are popped when it ends. One allocation
/// each per value (kept from value to value), rather than a `String` per key and a `Vec` per
/// object.
#[derive(Default)]
struct Aux {
    /// The keys longer than [`PREFIX`] bytes, unescaped, back to back (a shorter key is whole
    /// in its entry's `prefix`).
    long_keys: Vec<u8>,
    entries: Vec<Entry>,
    /// Where an object whose keys came out of order copies its entries, to write them back in
    /// key order.
    scratch: Vec<u8>,
    /// The positions of such an object's entries, in key order.
    order: Vec<u32>,
    orders: Orders,
}

impl Aux {
    /// Empty, keeping the room (a value that failed may have left entries behind).
    fn clear(&mut self) {
        self.long_keys.clear();
        self.entries.clear();
        self.scratch.clear();
    }
}

/// How many bytes of a key its entry holds: all the keys of mmscope's output but one fit, so
/// comparing two keys is nearly always comparing two integers.
const PREFIX: usize = 16;

/// One entry of an object being written: `"key":value` in `out`, and its key to sort by.
#[derive(Clone, Copy)]
struct Entry {
    /// The key's first [`PREFIX`] bytes, big-endian, zero-padded.
    prefix: u128,
    len: usize,
    /// Where the key is in `Aux::long_keys`, when it is longer than [`PREFIX`].
    at: usize,
    /// `"key":value` in `out`, without the comma before it.
    start: usize,
    end: usize,
}

impl Entry {
    /// The key's bytes: from `prefix`, or from `long_keys`.
    fn key<'k>(&self, prefix: &'k [u8; PREFIX], long_keys: &'k [u8]) -> &'k [u8] {
        if self.len <= PREFIX {
            &prefix[..self.len]
        } else {
            &long_keys[self.at..self.at + self.len]
        }
    }
}

/// The first [`PREFIX`] bytes of `key`, big-endian, zero-padded. Read with loads that overlap
/// (a byte read twice lands in its place twice): copying a key of a few bytes into a buffer
/// was a call to `memcpy` for each entry.
fn key_prefix(key: &[u8]) -> u128 {
    fn be8(b: &[u8]) -> u64 {
        u64::from_be_bytes(b[..8].try_into().expect("8 bytes"))
    }
    fn be4(b: &[u8]) -> u64 {
        u32::from_be_bytes(b[..4].try_into().expect("4 bytes")).into()
    }
    let n = key.len();
    // The first (up to) 8 bytes as the high word, the next (up to) 8 as the low word, each
    // shifted so that its first byte is its top byte.
    let word = |b: &[u8]| -> u64 {
        let n = b.len();
        match n {
            8.. => be8(b),
            4..8 => be4(b) << 32 | be4(&b[n - 4..]) << (8 * (8 - n)),
            1..4 => {
                let (first, mid, last) = (b[0] as u64, b[n / 2] as u64, b[n - 1] as u64);
                first << 56 | mid << (56 - 8 * (n / 2)) | last << (64 - 8 * n)
            }
            0 => 0,
        }
    };
    if n >= PREFIX {
        u128::from_be_bytes(key[..PREFIX].try_into().expect("16 bytes"))
    } else if n > 8 {
        (word(key) as u128) << 64 | (be8(&key[n - 8..]) << (8 * (PREFIX - n))) as u128
    } else {
        (word(key) as u128) << 64
    }
}

/// The order of two entries' keys, as `str`s order (bytewise).
#[inline]
fn cmp_keys(a: &Entry, b: &Entry, long_keys: &[u8]) -> Ordering {
    match a.prefix.cmp(&b.prefix) {
        // Equal padded prefixes of two short keys: the shorter one is a prefix of the other.
        Ordering::Equal if a.len <= PREFIX && b.len <= PREFIX => a.len.cmp(&b.len),
        Ordering::Equal => {
            let (pa, pb) = (a.prefix.to_be_bytes(), b.prefix.to_be_bytes());
            a.key(&pa, long_keys).cmp(b.key(&pb, long_keys))
        }
        o => o,
    }
}

/// The key orders of objects seen before, by a hash of their keys. Objects of one shape (a
/// struct with the same optional fields present, a flattened record) come again and again with
/// their keys in the same order; checking that a remembered order sorts an object's keys takes
/// one comparison per entry, where sorting them took several (it was a fifth of the
/// serialization). A remembered order is only used once checked, so two shapes with one hash
/// cost a sort, never a wrong order.
#[derive(Default)]
struct Orders {
    /// Direct-mapped by hash: (hash, order). Bounded, whatever the keys of the maps written.
    slots: Vec<(u64, Vec<u32>)>,
}

impl Orders {
    const SLOTS: usize = 64;

    /// Fill `order` with the positions of `own`'s entries in key order, each key once: of a
    /// key given twice the last entry is kept, as inserting into a map would keep it.
    fn sort(&mut self, own: &[Entry], long_keys: &[u8], order: &mut Vec<u32>) {
        if self.slots.is_empty() {
            self.slots.resize_with(Self::SLOTS, Default::default);
        }
        let mut hash = own.len() as u64;
        for e in own {
            let word = (e.prefix as u64) ^ ((e.prefix >> 64) as u64).rotate_left(17) ^ e.len as u64;
            hash = (hash.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        let slot = &mut self.slots[(hash >> 58) as usize % Self::SLOTS];
        let increasing = |order: &[u32]| {
            order.windows(2).all(|w| {
                cmp_keys(&own[w[0] as usize], &own[w[1] as usize], long_keys) == Ordering::Less
            })
        };
        // A remembered order of as many entries is a permutation of them; strictly increasing
        // keys under it make it the one sorted order, without a key twice.
        if slot.0 == hash && slot.1.len() == own.len() && increasing(&slot.1) {
            order.clear();
            order.extend_from_slice(&slot.1);
            return;
        }
        order.clear();
        order.extend(0..own.len() as u32);
        // Stable: among equal keys the later entry stays later, and is the one kept.
        order.sort_by(|&a, &b| cmp_keys(&own[a as usize], &own[b as usize], long_keys));
        let mut kept = 0;
        for i in 0..order.len() {
            let e = &own[order[i] as usize];
            let repeated = order
                .get(i + 1)
                .is_some_and(|&n| cmp_keys(e, &own[n as usize], long_keys) == Ordering::Equal);
            if !repeated {
                order[kept] = order[i];
                kept += 1;
            }
        }
        order.truncate(kept);
        if kept == own.len() {
            slot.0 = hash;
            slot.1.clear();
            slot.1.extend_from_slice(order);
        }
    }
}

struct Serializer<'a> {
    out: &'a mut Vec<u8>,
    aux: &'a mut Aux,
}

impl Serializer<'_> {
    /// A scalar, printed by serde_json.
    fn scalar<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, v)?;
        Ok(())
    }
}

/// Write `s` as a JSON string, with the bytes serde_json writes: it escapes only the quote,
/// the backslash and the control characters below U+0020, so a string without them goes out
/// as it is (nearly every key and value), and one with them is written by serde_json.
pub fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(out, s)?;
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
    Ok(())
}

/// Whether `s` holds a byte that JSON escapes: `"`, `\\` or one below 0x20. Tested 8 bytes at
/// a time with word arithmetic, the last bytes by loads that overlap the ones before (a byte
/// tested twice does no harm) rather than by copying them out: the strings are mostly keys of
/// a few bytes, for which a byte loop and a copy of the rest were the serializer's largest cost.
// Inlined into `write_str`: called for every string of a line, mostly of a few bytes.
#[inline]
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // The high bit of a byte of `x - n·ONES & !x` is set somewhere iff a byte of `x` is below
    // `n` (n ≤ 0x80): the borrow of a subtraction only starts at such a byte.
    fn word(w: u64) -> bool {
        let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x;
        (below(w, 0x20) | below(w ^ (ONES * b'"' as u64), 1) | below(w ^ (ONES * b'\\' as u64), 1))
            & HIGH
            != 0
    }
    fn load8(b: &[u8]) -> u64 {
        u64::from_ne_bytes(b[..8].try_into().expect("8 bytes"))
    }
    fn load4(b: &[u8]) -> u64 {
        u32::from_ne_bytes(b[..4].try_into().expect("4 bytes")).into()
    }
    let n = s.len();
    if n >= 8 {
        let mut found = false;
        for c in s.chunks_exact(8) {
            found |= word(load8(c));
        }
        found | word(load8(&s[n - 8..]))
    } else if n >= 4 {
        word(load4(s) | load4(&s[n - 4..]) << 32)
    } else if n > 0 {
        word(u64::from_ne_bytes([
            s[0],
            s[n / 2],
            s[n - 1],
            b'a',
            b'a',
            b'a',
            b'a',
            b'a',
        ]))
    } else {
        false
    }
}

/// An object being written. Each entry goes to `out` as it comes, `"key":value` after a comma;
/// its key is remembered in `aux.entries[first..]`. When the keys came in strictly increasing
/// order (every object of one key, a struct whose fields are declared in order) the object is
/// done as it is; otherwise its entries are copied out and written back once in key order.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    aux: &'a mut Aux,
    /// Where the entries start in `out`, just after the `{`.
    body: usize,
    first: usize,
    long_start: usize,
    /// The keys so far came in strictly increasing order.
    sorted: bool,
    /// A map entry whose key is written and whose value comes next.
    pending: Option<Entry>,
    /// Set for a struct variant: the object is wrapped as `{"Variant":…}`.
    variant: bool,
}

impl<'a> Object<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        aux: &'a mut Aux,
        variant: Option<&'static str>,
    ) -> Result<Self, Error> {
        open_variant(out, variant)?;
        out.push(b'{');
        Ok(Object {
            body: out.len(),
            first: aux.entries.len(),
            long_start: aux.long_keys.len(),
            out,
            aux,
            sorted: true,
            pending: None,
            variant: variant.is_some(),
        })
    }

    /// Write `key` (after a comma, unless it is the first) for the entry whose value comes next.
    fn key(&mut self, key: &str) -> Result<Entry, Error> {
        let bytes = key.as_bytes();
        if self.aux.entries.len() > self.first {
            self.out.push(b',');
        }
        let start = self.out.len();
        if needs_escape(bytes) {
            write_str(self.out, key)?;
            self.out.push(b':');
        } else {
            // `"key":` with one check of the room (there are more keys than any other string).
            self.out.reserve(bytes.len() + 3);
            self.out.push(b'"');
            self.out.extend_from_slice(bytes);
            self.out.extend_from_slice(b"\":");
        }
        let at = self.aux.long_keys.len();
        if bytes.len() > PREFIX {
            self.aux.long_keys.extend_from_slice(bytes);
        }
        Ok(Entry {
            prefix: key_prefix(bytes),
            len: bytes.len(),
            at,
            start,
            end: start,
        })
    }

    /// Write the value of the entry whose key is written.
    fn value<T: Serialize + ?Sized>(&mut self, mut e: Entry, value: &T) -> Result<(), Error> {
        value.serialize(Serializer {
            out: &mut *self.out,
            aux: &mut *self.aux,
        })?;
        e.end = self.out.len();
        if self.sorted
            && let Some(prev) = self.aux.entries[self.first..].last()
            && cmp_keys(prev, &e, &self.aux.long_keys) != Ordering::Less
        {
            self.sorted = false;
        }
        self.aux.entries.push(e);
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        let Aux {
            long_keys,
            entries,
            scratch,
            order,
            orders,
        } = &mut *self.aux;
        if !self.sorted {
            let own = &entries[self.first..];
            orders.sort(own, long_keys, order);
            scratch.clear();
            scratch.extend_from_slice(&self.out[self.body..]);
            self.out.truncate(self.body);
            for (k, &i) in order.iter().enumerate() {
                if k > 0 {
                    self.out.push(b',');
                }
                let e = &own[i as usize];
                self.out
                    .extend_from_slice(&scratch[e.start - self.body..e.end - self.body]);
            }
        }
        self.out.push(b'}');
        if self.variant {
            self.out.push(b'}');
        }
        entries.truncate(self.first);
        long_keys.truncate(self.long_start);
        Ok(())
    }
}

/// The `{"Variant":` that wraps the object or array of a struct or tuple variant (closed by
/// the `}` its `end` adds).
fn open_variant(out: &mut Vec<u8>, variant: Option<&str>) -> Result<(), Error> {
    if let Some(v) = variant {
        out.push(b'{');
        write_str(out, v)?;
        out.push(b':');
    }
    Ok(())
}

/// An array being written.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    aux: &'a mut Aux,
    empty: bool,
    /// Set for a tuple variant: the array is wrapped as `{"Variant":[…]}`.
    variant: bool,
}

impl<'a> Array<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        aux: &'a mut Aux,
        variant: Option<&'static str>,
    ) -> Result<Self, Error> {
        open_variant(out, variant)?;
        out.push(b'[');
        Ok(Array {
            out,
            aux,
            empty: true,
            variant: variant.is_some(),
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        value.serialize(Serializer {
            out: &mut *self.out,
            aux: &mut *self.aux,
        })
    }

    fn end(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // A `Value` holds every float as f64.
        self.scalar(&(v as f64))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.scalar(v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        write_str(self.out, v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // An object of one key: in order as it is.
        self.out.push(b'{');
        write_str(self.out, variant)?;
        self.out.push(b':');
        value.serialize(Serializer {
            out: &mut *self.out,
            aux: &mut *self.aux,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.aux, None)
    }
    fn serialize_tuple(self, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.aux, None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.aux, None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.aux, Some(variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.aux, None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.aux, None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.aux, Some(variant))
    }
}

/// The four serde traits of sequence-like values, all an [`Array`].
macro_rules! array_like {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                Array::end(self)
            }
        }
    )*};
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let e = key.serialize(KeySerializer { object: self })?;
        self.pending = Some(e);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let e = self
            .pending
            .take()
            .ok_or_else(|| Error("map value without a key".into()))?;
        self.value(e, value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        let e = key.serialize(KeySerializer { object: self })?;
        self.value(e, value)
    }
    fn end(self) -> Result<(), Error> {
        Object::end(self)
    }
}

/// The two serde traits of struct-like values, both an [`Object`].
macro_rules! struct_like {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                let e = self.key(key)?;
                self.value(e, value)
            }
            fn end(self) -> Result<(), Error> {
                Object::end(self)
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);

/// A map key as serde_json takes it: a string, or an integer, bool or char printed as one;
/// written as the key of `object`'s next entry.
struct KeySerializer<'o, 'a> {
    object: &'o mut Object<'a>,
}

impl KeySerializer<'_, '_> {
    fn text(self, s: &str) -> Result<Entry, Error> {
        self.object.key(s)
    }
}

/// Key serializer methods for scalars printed as their text.
macro_rules! key_as_text {
    ($($method:ident : $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<Entry, Error> {
            self.text(&v.to_string())
        }
    )*};
}

fn key_error() -> Error {
    Error("key must be a string".into())
}

impl ser::Serializer for KeySerializer<'_, '_> {
    type Ok = Entry;
    type Error = Error;
    type SerializeSeq = Impossible<Entry, Error>;
    type SerializeTuple = Impossible<Entry, Error>;
    type SerializeTupleStruct = Impossible<Entry, Error>;
    type SerializeTupleVariant = Impossible<Entry, Error>;
    type SerializeMap = Impossible<Entry, Error>;
    type SerializeStruct = Impossible<Entry, Error>;
    type SerializeStructVariant = Impossible<Entry, Error>;

    fn serialize_str(self, v: &str) -> Result<Entry, Error> {
        self.text(v)
    }
    key_as_text!(
        serialize_char: char,
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128
    );
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<Entry, Error> {
        self.text(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Entry, Error> {
        value.serialize(self)
    }
    fn serialize_f32(self, _: f32) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Entry, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::HashMap;

    /// What `transactions --json` printed before: through a `Value`.
    fn via_value<T: Serialize>(v: &T) -> String {
        serde_json::to_string(&serde_json::to_value(v).unwrap()).unwrap()
    }

    fn direct<T: Serialize>(v: &T) -> String {
        String::from_utf8(to_vec(v).unwrap()).unwrap()
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { z: i32, a: Option<f64> },
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: Vec<Shape>,
        alpha: (u8, char),
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[derive(Serialize)]
    struct Outer {
        b: String,
        #[serde(flatten)]
        inner: Inner,
        a: HashMap<u16, bool>,
        nan: f64,
        f: f32,
        bytes: &'static [u8],
        unit: (),
        text: &'static str,
    }

    #[test]
    fn same_bytes_as_through_a_value_for_every_shape() {
        let v = Outer {
            b: "b\u{1}\"\\é".into(),
            inner: Inner {
                zeta: vec![
                    Shape::Unit,
                    Shape::Newtype(7),
                    Shape::Tuple(1, "x"),
                    Shape::Struct {
                        z: -3,
                        a: Some(0.1),
                    },
                    Shape::Struct { z: 0, a: None },
                ],
                alpha: (255, '\n'),
                skipped: None,
            },
            a: HashMap::from([(10, true)]),
            nan: f64::NAN,
            f: 1.1,
            bytes: b"\x00\xff",
            unit: (),
            text: "",
        };
        assert_eq!(direct(&v), via_value(&v));
        assert!(direct(&v).starts_with(r#"{"a":{"10":true},"alpha":[255,"\n"],"b":"#));
    }

    #[test]
    fn keys_alike_in_their_first_bytes_sort_as_a_map_sorts_them() {
        let keys = [
            "content_type",
            "content_location",
            "content_id",
            "content",
            "contents",
            "a\u{0}",
            "a",
            "a\u{0}b",
            "é",
            "zz",
            "",
        ];
        let v: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        assert_eq!(direct(&v), via_value(&v));
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let long = "x".repeat(40);
        for s in [
            "",
            "plain",
            "quote \" and backslash \\",
            "\u{0}\u{1f} controls",
            "\u{7f} del and é ü 漢 🎉 are kept",
            &format!("{long}\n"),
            &format!("{long}\"{long}"),
            &long,
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_as_a_map_would() {
        #[derive(Serialize)]
        struct Twice {
            k: u8,
            #[serde(flatten)]
            more: HashMap<&'static str, u8>,
        }
        let v = Twice {
            k: 1,
            more: HashMap::from([("k", 2)]),
        };
        assert_eq!(direct(&v), via_value(&v));
        assert_eq!(direct(&v), r#"{"k":2}"#);
    }

    #[test]
    fn needs_escape_agrees_with_a_byte_loop_at_every_length_and_place() {
        let reference = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for len in 0..=40 {
            for at in 0..len {
                for b in [
                    0, 0x1f, 0x20, b'"', b'\\', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xff,
                ] {
                    let mut s = vec![b'k'; len];
                    s[at] = b;
                    assert_eq!(needs_escape(&s), reference(&s), "{s:?}");
                    // the bytes above 0x7f around it must not hide it
                    let mut t = vec![0xe9; len];
                    t[at] = b;
                    assert_eq!(needs_escape(&t), reference(&t), "{t:?}");
                }
            }
            assert!(!needs_escape(&vec![b'k'; len]));
        }
    }

    #[test]
    fn key_prefix_is_the_first_sixteen_bytes_zero_padded() {
        let text: Vec<u8> = (1..=24).map(|i| i * 10).collect();
        for len in 0..=text.len() {
            let key = &text[..len];
            let mut want = [0; PREFIX];
            let n = len.min(PREFIX);
            want[..n].copy_from_slice(&key[..n]);
            assert_eq!(key_prefix(key), u128::from_be_bytes(want), "length {len}");
        }
    }

    /// Keys that arrive in order, out of order and twice, nested in one another: the values
    /// of each shape through the same serializer, so that remembered orders are reused.
    #[derive(Serialize)]
    struct InOrder {
        a: u8,
        b: OutOfOrder,
        c: Vec<OutOfOrder>,
        d: InOrderLeaf,
    }

    #[derive(Serialize)]
    struct OutOfOrder {
        z: &'static str,
        m: InOrderLeaf,
        #[serde(skip_serializing_if = "Option::is_none")]
        k: Option<u8>,
        #[serde(flatten)]
        extra: Pairs,
        a: Vec<InOrderLeaf>,
    }

    #[derive(Serialize)]
    struct InOrderLeaf {
        x: u8,
        y: &'static str,
    }

    fn leaf(x: u8) -> InOrderLeaf {
        InOrderLeaf { x, y: "why" }
    }

    fn out_of_order(k: Option<u8>, extra: Vec<(&'static str, u8)>) -> OutOfOrder {
        OutOfOrder {
            z: "zed",
            m: leaf(1),
            k,
            extra: Pairs(extra),
            a: vec![leaf(2), leaf(3)],
        }
    }

    #[test]
    fn objects_in_order_and_out_of_order_nest_in_one_another() {
        let v = InOrder {
            a: 1,
            b: out_of_order(Some(4), vec![]),
            c: vec![
                out_of_order(None, vec![]),
                out_of_order(Some(5), vec![]),
                out_of_order(None, vec![("b", 6)]),
                // a key of the struct given again by the flattened map: the last one is kept
                out_of_order(Some(7), vec![("k", 8), ("b", 9)]),
                out_of_order(None, vec![("k", 10), ("k", 11)]),
            ],
            d: leaf(12),
        };
        for _ in 0..3 {
            assert_eq!(direct(&v), via_value(&v));
        }
        assert!(
            direct(&v).contains(r#"{"a":[{"x":2,"y":"why"},{"x":3,"y":"why"}],"b":9,"k":8,"#),
            "{}",
            direct(&v)
        );
    }

    #[test]
    fn a_remembered_key_order_is_used_only_when_it_sorts_the_keys() {
        // Long keys alike in their first 16 bytes and in length: the two objects look the
        // same to the remembered orders, but sort differently.
        let (k1, k2) = ("a_long_key_alike_1", "a_long_key_alike_2");
        let first = vec![("z", 1), (k2, 2), (k1, 3)];
        let second = vec![("z", 1), (k1, 2), (k2, 3)];
        for v in [&first, &second, &first, &second] {
            let map: serde_json::Map<String, serde_json::Value> =
                v.iter().map(|&(k, n)| (k.to_string(), n.into())).collect();
            let pairs = Pairs(v.clone());
            assert_eq!(direct(&pairs), serde_json::to_string(&map).unwrap());
        }
    }

    /// A map whose entries come in the order given.
    struct Pairs(Vec<(&'static str, u8)>);

    impl Serialize for Pairs {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }

    #[test]
    fn a_key_that_is_not_a_string_is_an_error_as_in_serde_json() {
        let v = HashMap::from([((1, 2), 3)]);
        assert!(to_vec(&v).is_err());
        assert!(serde_json::to_value(&v).is_err());
    }
}
