//! Character sets by IANA MIBenum (WAP-230 Table 42 refers to the IANA registry) and decoding of
//! text in them via encoding_rs. Unknown charsets are never guessed: the bytes are shown in hex
//! and the note says so.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// IANA name of a MIBenum, for the charsets mmscope knows.
pub fn name(mib: u64) -> Option<&'static str> {
    Some(match mib {
        0 => "*",
        3 => "US-ASCII",
        4 => "ISO-8859-1",
        5 => "ISO-8859-2",
        6 => "ISO-8859-3",
        7 => "ISO-8859-4",
        8 => "ISO-8859-5",
        9 => "ISO-8859-6",
        10 => "ISO-8859-7",
        11 => "ISO-8859-8",
        12 => "ISO-8859-9",
        13 => "ISO-8859-10",
        17 => "Shift_JIS",
        18 => "EUC-JP",
        36 => "KS_C_5601-1987",
        37 => "ISO-2022-KR",
        38 => "EUC-KR",
        39 => "ISO-2022-JP",
        106 => "UTF-8",
        109 => "ISO-8859-13",
        110 => "ISO-8859-14",
        111 => "ISO-8859-15",
        112 => "ISO-8859-16",
        113 => "GBK",
        114 => "GB18030",
        1000 => "ISO-10646-UCS-2",
        1013 => "UTF-16BE",
        1014 => "UTF-16LE",
        1015 => "UTF-16",
        1017 => "UTF-32",
        1018 => "UTF-32BE",
        1019 => "UTF-32LE",
        2025 => "GB2312",
        2026 => "Big5",
        2027 => "macintosh",
        2084 => "KOI8-R",
        2086 => "IBM866",
        2088 => "KOI8-U",
        2250 => "windows-1250",
        2251 => "windows-1251",
        2252 => "windows-1252",
        2253 => "windows-1253",
        2254 => "windows-1254",
        2255 => "windows-1255",
        2256 => "windows-1256",
        2257 => "windows-1257",
        2258 => "windows-1258",
        2259 => "TIS-620",
        _ => return None,
    })
}

/// Display form: "UTF-8 (106)" or "unknown (MIBenum 4242)".
pub fn describe(mib: u64) -> String {
    // Written piece by piece: every charset parameter of every part is described, and
    // `format!` was a visible share of a summary.
    let mut s = String::with_capacity(40);
    match name(mib) {
        Some(n) => {
            s.push_str(n);
            s.push_str(" (");
        }
        None => s.push_str("unknown (MIBenum "),
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = mib;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    s.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
    s.push(')');
    s
}

/// MIBenum of a charset name (case-insensitive), for text-form charset parameters.
pub fn mib_of(label: &str) -> Option<u64> {
    let l = label.trim().to_ascii_lowercase();
    (0..3000u64)
        .find(|&m| name(m).is_some_and(|n| n.to_ascii_lowercase() == l))
        .or(match l.as_str() {
            "utf8" => Some(106),
            "ascii" => Some(3),
            "latin1" => Some(4),
            "ucs-2" | "iso-10646-ucs-2" => Some(1000),
            "sjis" | "shift-jis" => Some(17),
            _ => None,
        })
}

/// Text decoded from a charset, with a note when the charset is unknown or the octets are not
/// valid in it. The text borrows the input when it is the input's octets (valid UTF-8 or
/// US-ASCII): a caller that only checks it (the summary path, on every text part) copies
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText<'a> {
    pub text: Cow<'a, str>,
    pub note: Option<String>,
}

fn encoding_for(mib: u64) -> Option<&'static Encoding> {
    use encoding_rs::*;
    Some(match mib {
        5 => ISO_8859_2,
        6 => ISO_8859_3,
        7 => ISO_8859_4,
        8 => ISO_8859_5,
        9 => ISO_8859_6,
        10 => ISO_8859_7,
        11 => ISO_8859_8,
        12 => WINDOWS_1254, // ISO-8859-9 (WHATWG maps it to windows-1254, a superset)
        13 => ISO_8859_10,
        17 => SHIFT_JIS,
        18 => EUC_JP,
        36 | 38 => EUC_KR,
        39 => ISO_2022_JP,
        106 => UTF_8,
        109 => ISO_8859_13,
        110 => ISO_8859_14,
        111 => ISO_8859_15,
        112 => ISO_8859_16,
        113 | 2025 => GBK,
        114 => GB18030,
        2026 => BIG5,
        2027 => MACINTOSH,
        2084 => KOI8_R,
        2086 => IBM866,
        2088 => KOI8_U,
        2250 => WINDOWS_1250,
        2251 => WINDOWS_1251,
        2252 => WINDOWS_1252,
        2253 => WINDOWS_1253,
        2254 => WINDOWS_1254,
        2255 => WINDOWS_1255,
        2256 => WINDOWS_1256,
        2257 => WINDOWS_1257,
        2258 => WINDOWS_1258,
        2259 => WINDOWS_874,
        _ => return None,
    })
}

fn utf16(bytes: &[u8], default_le: bool, bom_allowed: bool) -> DecodedText<'static> {
    let (body, le) = match bytes {
        [0xFE, 0xFF, rest @ ..] if bom_allowed => (rest, false),
        [0xFF, 0xFE, rest @ ..] if bom_allowed => (rest, true),
        _ => (bytes, default_le),
    };
    let enc = if le {
        encoding_rs::UTF_16LE
    } else {
        encoding_rs::UTF_16BE
    };
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    let mut note = had_errors.then(|| format!("invalid {} sequence (shown as U+FFFD)", enc.name()));
    if body.len() % 2 == 1 {
        note = Some("odd number of octets in UTF-16 text".to_string());
    }
    DecodedText {
        text: Cow::Owned(text.into_owned()),
        note,
    }
}

fn utf32(bytes: &[u8], default_le: bool) -> DecodedText<'static> {
    let (body, le) = match bytes {
        [0x00, 0x00, 0xFE, 0xFF, rest @ ..] => (rest, false),
        [0xFF, 0xFE, 0x00, 0x00, rest @ ..] => (rest, true),
        _ => (bytes, default_le),
    };
    let mut bad = body.len() % 4 != 0;
    let text: String = body
        .chunks_exact(4)
        .map(|c| {
            let a = [c[0], c[1], c[2], c[3]];
            let v = if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            };
            char::from_u32(v).unwrap_or_else(|| {
                bad = true;
                '\u{FFFD}'
            })
        })
        .collect();
    DecodedText {
        text: Cow::Owned(text),
        note: bad.then(|| "invalid UTF-32 text (shown as U+FFFD)".to_string()),
    }
}

/// `bytes` as UTF-8, invalid sequences replaced by U+FFFD (`String::from_utf8_lossy`), with
/// the valid case (nearly all text) checked by `from_utf8`, a word at a time: the lossy walk
/// goes byte by byte, and was most of the cost of a text part in the batch path. Borrowed
/// exactly when `bytes` are valid UTF-8, so a caller can tell without checking again.
pub fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Decode `bytes` in the charset `mib`.
pub fn decode(mib: u64, bytes: &[u8]) -> DecodedText<'_> {
    match mib {
        // Any-charset / US-ASCII: ASCII is a subset of UTF-8; anything else is said.
        0 | 3 => {
            let text = utf8_lossy(bytes);
            let note = (!bytes.is_ascii()).then(|| {
                format!(
                    "octets ≥ 0x80 in {} text (shown as UTF-8)",
                    if mib == 0 { "any-charset" } else { "US-ASCII" }
                )
            });
            DecodedText { text, note }
        }
        // ISO-8859-1 maps each octet to the same code point (encoding_rs would use
        // windows-1252, which differs in 0x80–0x9F).
        4 => DecodedText {
            text: Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            note: None,
        },
        1000 => utf16(bytes, false, true),
        1013 => utf16(bytes, false, false),
        1014 => utf16(bytes, true, false),
        1015 => utf16(bytes, false, true),
        1017 => utf32(bytes, false),
        1018 => utf32(bytes, false),
        1019 => utf32(bytes, true),
        _ => match encoding_for(mib) {
            Some(enc) => {
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                DecodedText {
                    text,
                    note: had_errors
                        .then(|| format!("invalid {} sequence (shown as U+FFFD)", enc.name())),
                }
            }
            None => DecodedText {
                text: Cow::Owned(super::primitives::hex_preview(bytes, 64)),
                note: Some(format!(
                    "unknown charset MIBenum {mib}: text shown as its octets"
                )),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_lossy_is_from_utf8_lossy() {
        for bytes in [
            &b""[..],
            b"plain ascii",
            "é ü 漢 🎉".as_bytes(),
            b"bad \xff byte",
            b"cut \xe6\xbc",
            b"\xc0\x80 overlong",
        ] {
            assert_eq!(utf8_lossy(bytes), String::from_utf8_lossy(bytes));
        }
        assert_eq!(utf8_lossy(b"a\xffb"), "a\u{FFFD}b");
        assert!(matches!(utf8_lossy("é".as_bytes()), Cow::Borrowed("é")));
        assert!(matches!(utf8_lossy(b"\xe9"), Cow::Owned(_)));
    }

    #[test]
    fn shift_jis_subject() {
        // "テスト" in Shift_JIS: 83 65 83 58 83 67.
        let d = decode(17, &[0x83, 0x65, 0x83, 0x58, 0x83, 0x67]);
        assert_eq!((d.text.as_ref(), d.note), ("テスト", None));
    }

    #[test]
    fn ucs2_with_bom_both_orders() {
        let d = decode(1000, &[0xFE, 0xFF, 0x04, 0x1F, 0x04, 0x40]);
        assert_eq!(d.text, "Пр");
        let d = decode(1015, &[0xFF, 0xFE, 0x1F, 0x04, 0x40, 0x04]);
        assert_eq!(d.text, "Пр");
        let d = decode(1014, &[0x41, 0x00]);
        assert_eq!(d.text, "A");
    }

    #[test]
    fn latin1_is_not_windows_1252() {
        assert_eq!(decode(4, &[0xE9, 0x80]).text, "é\u{80}");
        assert_eq!(decode(2252, &[0x80]).text, "€");
    }

    #[test]
    fn unknown_charset_shows_bytes_and_says_so() {
        let d = decode(4242, &[0x41, 0x42]);
        assert_eq!(d.text, "41 42");
        assert!(d.note.unwrap().contains("unknown charset MIBenum 4242"));
        assert_eq!(describe(106), "UTF-8 (106)");
        // As `format!` wrote it, named or not, at the edges of the digit count.
        for mib in [
            0,
            3,
            4,
            9,
            10,
            17,
            99,
            100,
            106,
            999,
            1000,
            2026,
            65535,
            u64::MAX,
        ] {
            let want = match name(mib) {
                Some(n) => format!("{n} ({mib})"),
                None => format!("unknown (MIBenum {mib})"),
            };
            assert_eq!(describe(mib), want);
        }
        assert_eq!(mib_of("utf-8"), Some(106));
    }

    #[test]
    fn other_charsets() {
        assert_eq!(decode(2084, &[0xF0, 0xF2]).text, "ПР");
        assert_eq!(decode(38, &[0xC7, 0xD1]).text, "한");
        assert_eq!(decode(2026, &[0xA4, 0xA4]).text, "中");
        assert_eq!(decode(2025, &[0xD6, 0xD0]).text, "中");
        assert!(decode(106, &[0xFF]).note.is_some());
    }
}
