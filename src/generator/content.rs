//! Bodies: SMIL presentations, text, HTML and JPEG-shaped images of random bytes.

use super::rng::Rng;

const WORDS: &[&str] = &[
    "hello", "see", "you", "tonight", "photo", "from", "the", "beach", "meeting", "moved", "to",
    "three", "call", "me", "when", "free", "happy", "birthday", "look", "at", "this", "train",
    "late", "again", "dinner", "at", "eight", "new", "phone", "works", "great", "weekend", "plans",
    "café", "naïve", "über", "ok", "thanks", "lol", "on", "my", "way",
];

/// `len` bytes (about) of words separated by spaces.
pub fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.urange(0, WORDS.len() - 1)]);
    }
    s
}

/// A SMIL presentation showing `image` and `text` on one slide.
pub fn smil(image: &str, text: &str) -> String {
    format!(
        "<smil>\n<head>\n<layout>\n<root-layout width=\"320\" height=\"480\"/>\n\
         <region id=\"Image\" left=\"0\" top=\"0\" width=\"320\" height=\"320\" fit=\"meet\"/>\n\
         <region id=\"Text\" left=\"0\" top=\"320\" width=\"320\" height=\"160\"/>\n\
         </layout>\n</head>\n<body>\n<par dur=\"5000ms\">\n\
         <img src=\"{image}\" region=\"Image\"/>\n<text src=\"{text}\" region=\"Text\"/>\n\
         </par>\n</body>\n</smil>\n"
    )
}

/// A JPEG-shaped image of `size` bytes (at least 40): SOI, a JFIF APP0 segment, a
/// start-of-scan header, random entropy-coded bytes (no 0xFF, so no false markers), EOI.
/// Decoders that walk JPEG markers (tshark's image-jfif) find a well-formed file.
pub fn jpeg(rng: &mut Rng, size: usize) -> Vec<u8> {
    const HEAD: [u8; 34] = [
        0xFF, 0xD8, // SOI
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00, // APP0 JFIF 1.1
        0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F,
        0x00, // SOS, 3 components
    ];
    let size = size.max(HEAD.len() + 2);
    let mut v = vec![0u8; size];
    v[..HEAD.len()].copy_from_slice(&HEAD);
    let body_end = size - 2;
    let body = &mut v[HEAD.len()..body_end];
    rng.fill(body);
    for b in body.iter_mut() {
        if *b == 0xFF {
            *b = 0xFE;
        }
    }
    v[body_end..].copy_from_slice(&[0xFF, 0xD9]);
    v
}

/// An HTML page of about `len` bytes.
pub fn html(rng: &mut Rng, title: &str, len: usize) -> String {
    let mut s = String::with_capacity(len + 128);
    s.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    s.push_str(title);
    s.push_str("</title></head>\n<body>\n");
    while s.len() + 20 < len {
        s.push_str("<p>");
        let n = rng.urange(40, 400);
        s.push_str(&words(rng, n));
        s.push_str("</p>\n");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_shape() {
        let mut rng = Rng::new(1);
        let j = jpeg(&mut rng, 5000);
        assert_eq!(j.len(), 5000);
        assert_eq!(&j[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(&j[4998..], &[0xFF, 0xD9]);
        // The only 0xFF bytes are the marker starts: SOI, APP0, SOS, EOI.
        assert_eq!(j.iter().filter(|&&b| b == 0xFF).count(), 4);
    }
}
