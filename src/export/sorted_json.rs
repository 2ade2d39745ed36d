//! JSON with the keys of every object in sorted order, written straight from a `Serialize`
//! value.
//!
//! `mmscope transactions --json` has always printed its lines through `serde_json::Value`, whose
//! objects are `BTreeMap`s: keys come out sorted at every level, and users' scripts and diffs of
//! the output see that order. Building the `Value` tree for every transaction (a `String` per
//! key and per value, a B-tree per object, then freeing it all) took about a seventh of the
//! command's time. This serializer prints the same bytes without the tree: an object's entries
//! are written to the output as they come, remembered as (key, byte range), and reordered in
//! place when the object ends. Scalars are printed by `serde_json` itself, so escaping and
//! number formatting are serde_json's (a string that needs no escape is copied as it is, as
//! serde_json would).
//!
//! `tests` check it against `serde_json::to_value` + `to_writer` on the shipped captures' real
//! transactions and on every shape of value serde can produce.

use serde::Serialize;
use serde::ser::{self, Impossible};
use std::fmt::Display;
use std::ops::Range;

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

/// Room shared by the objects of one value, used as stacks: an object's keys and entries sit
/// above those of the objects that enclose it, and are popped when it ends. One allocation
/// each per value, rather than a `String` per key and a `Vec` per object.
#[derive(Default)]
struct Aux {
    /// The keys, unescaped, back to back.
    keys: Vec<u8>,
    entries: Vec<Entry>,
    /// Where an ending object copies its entries' bytes, to write them back in key order.
    scratch: Vec<u8>,
}

impl Aux {
    /// Empty, keeping the room (a value that failed may have left entries behind).
    fn clear(&mut self) {
        self.keys.clear();
        self.entries.clear();
        self.scratch.clear();
    }
}

/// One entry of an object being written: its key in `Aux::keys`, its value's bytes in `out`.
struct Entry {
    /// The key's first 8 bytes, big-endian, zero-padded: comparing them orders most keys at
    /// once (the full keys decide only when they are equal).
    prefix: u64,
    key: Range<usize>,
    value: Range<usize>,
}

fn key_prefix(key: &[u8]) -> u64 {
    let mut b = [0; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
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
/// as it is (most keys and values: checked a chunk at a time, which the compiler vectorizes).
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    write_utf8(out, s.as_bytes())
}

/// [`write_str`] for the bytes of a `str`.
fn write_utf8(out: &mut Vec<u8>, s: &[u8]) -> Result<(), Error> {
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let plain = s
        .chunks(16)
        .all(|c| !c.iter().fold(false, |acc, &b| acc | needs_escape(b)));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    } else {
        let s = std::str::from_utf8(s).map_err(|e| Error(e.to_string()))?;
        serde_json::to_writer(out, s)?;
    }
    Ok(())
}

/// An object being written: its entries so far are `aux.entries[first..]`, their values
/// written to `out` after `start`, their keys in `aux.keys` after `keys_start`.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    aux: &'a mut Aux,
    start: usize,
    first: usize,
    keys_start: usize,
    /// The key of a map entry whose value comes next.
    key: Option<Range<usize>>,
    /// Set for a struct or tuple variant: the object is wrapped as `{"Variant":…}`.
    variant: Option<&'static str>,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, aux: &'a mut Aux, variant: Option<&'static str>) -> Self {
        Object {
            start: out.len(),
            first: aux.entries.len(),
            keys_start: aux.keys.len(),
            out,
            aux,
            key: None,
            variant,
        }
    }

    /// Remember `key` for the entry to come.
    fn push_key(&mut self, key: &str) -> Range<usize> {
        let from = self.aux.keys.len();
        self.aux.keys.extend_from_slice(key.as_bytes());
        from..self.aux.keys.len()
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: Range<usize>, value: &T) -> Result<(), Error> {
        let from = self.out.len();
        value.serialize(Serializer {
            out: &mut *self.out,
            aux: &mut *self.aux,
        })?;
        self.aux.entries.push(Entry {
            prefix: key_prefix(&self.aux.keys[key.clone()]),
            key,
            value: from..self.out.len(),
        });
        Ok(())
    }

    /// Rewrite the entries written after `start` as one object in key order. A key given twice
    /// keeps its last value, as inserting into a map would.
    fn end(self) -> Result<(), Error> {
        let Aux {
            keys,
            entries,
            scratch,
        } = &mut *self.aux;
        scratch.clear();
        scratch.extend_from_slice(&self.out[self.start..]);
        self.out.truncate(self.start);
        let own = &mut entries[self.first..];
        // Stable: among equal keys the later entry stays later, and is the one kept.
        own.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then_with(|| keys[a.key.clone()].cmp(&keys[b.key.clone()]))
        });
        if let Some(v) = self.variant {
            self.out.push(b'{');
            write_str(self.out, v)?;
            self.out.push(b':');
        }
        self.out.push(b'{');
        let mut first = true;
        for (i, e) in own.iter().enumerate() {
            let key = &keys[e.key.clone()];
            if own
                .get(i + 1)
                .is_some_and(|next| &keys[next.key.clone()] == key)
            {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            // The keys were `str`s: whole UTF-8 sequences.
            write_utf8(self.out, key)?;
            self.out.push(b':');
            let r = e.value.start - self.start..e.value.end - self.start;
            self.out.extend_from_slice(&scratch[r]);
        }
        self.out.push(b'}');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        entries.truncate(self.first);
        keys.truncate(self.keys_start);
        Ok(())
    }
}

/// An array being written.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    aux: &'a mut Aux,
    empty: bool,
    /// Set for a tuple variant: the array is wrapped as `{"Variant":[…]}`.
    variant: Option<&'static str>,
}

impl<'a> Array<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        aux: &'a mut Aux,
        variant: Option<&'static str>,
    ) -> Result<Self, Error> {
        if let Some(v) = variant {
            out.push(b'{');
            write_str(out, v)?;
            out.push(b':');
        }
        out.push(b'[');
        Ok(Array {
            out,
            aux,
            empty: true,
            variant,
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
        if self.variant.is_some() {
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
        let mut o = Object::new(self.out, self.aux, None);
        let key = o.push_key(variant);
        o.entry(key, value)?;
        o.end()
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
        Ok(Object::new(self.out, self.aux, None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, self.aux, None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, self.aux, Some(variant)))
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
        let from = self.aux.keys.len();
        key.serialize(KeySerializer {
            keys: &mut self.aux.keys,
        })?;
        self.key = Some(from..self.aux.keys.len());
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("map value without a key".into()))?;
        self.entry(key, value)
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
                let key = self.push_key(key);
                self.entry(key, value)
            }
            fn end(self) -> Result<(), Error> {
                Object::end(self)
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);

/// A map key as serde_json takes it: a string, or an integer, bool or char printed as one;
/// appended to `keys`.
struct KeySerializer<'a> {
    keys: &'a mut Vec<u8>,
}

impl KeySerializer<'_> {
    fn text(self, s: &str) -> Result<(), Error> {
        self.keys.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Key serializer methods for scalars printed as their text.
macro_rules! key_as_text {
    ($($method:ident : $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.text(&v.to_string())
        }
    )*};
}

fn key_error() -> Error {
    Error("key must be a string".into())
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
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
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
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
    fn a_key_that_is_not_a_string_is_an_error_as_in_serde_json() {
        let v = HashMap::from([((1, 2), 3)]);
        assert!(to_vec(&v).is_err());
        assert!(serde_json::to_value(&v).is_err());
    }
}
