//! Body parts in the tree: recognising them, showing them as text, saving them to files.
//!
//! A part is a node with `Value::Bytes`, or a node named "Part …" whose subtree holds the part's
//! data as a `Value::Bytes` node. File names come from the part's own headers, which come from
//! the wire: they are sanitised so that a saved part can never land outside the chosen folder.

use crate::tree::{Dissection, Node, Value, escape_text};
use std::path::{Path, PathBuf};

/// A node the user can view or save.
#[derive(Debug, Clone)]
pub struct PartInfo<'a> {
    /// The node selected (the part, or the bytes field itself).
    pub node: &'a Node,
    /// The node whose byte range is the part's data.
    pub payload: &'a Node,
    pub content_type: Option<String>,
    /// A name the part gives itself (Content-Location, name=…, filename=…).
    pub name: Option<String>,
    pub title: String,
}

fn is_header(n: &Node, names: &[&str]) -> bool {
    names.iter().any(|h| n.name.eq_ignore_ascii_case(h))
}

/// The media type of a display such as "text/plain (0x03)" or "image/jpeg; name=a.jpg".
fn media_type(display: &str) -> String {
    display
        .split([';', ' '])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The part `node` is, if it is one.
pub fn part_info(node: &Node) -> Option<PartInfo<'_>> {
    let is_part = node.name.to_ascii_lowercase().starts_with("part") && !node.children.is_empty();
    let payload = if node.value == Value::Bytes {
        node
    } else if is_part {
        let bytes: Vec<&Node> = node.walk().filter(|n| n.value == Value::Bytes).collect();
        *bytes
            .iter()
            .find(|n| {
                let l = n.name.to_ascii_lowercase();
                l.contains("data") || l.contains("body") || l.contains("content")
            })
            .or(bytes.last())?
    } else {
        return None;
    };
    let mut content_type = None;
    let mut name = None;
    for n in node.walk() {
        if content_type.is_none() && is_header(n, &["Content-Type"]) {
            content_type = Some(media_type(&n.display));
        }
        if name.is_none()
            && is_header(
                n,
                &["Content-Location", "Name", "Filename", "name", "filename"],
            )
        {
            name = Some(n.display.clone());
        }
    }
    Some(PartInfo {
        node,
        payload,
        content_type,
        name,
        title: node.name.clone(),
    })
}

impl PartInfo<'_> {
    /// The file name to save the part under: its own name when it has one, else
    /// "frame<N>-<node name>.<ext>", always sanitised.
    pub fn file_name(&self, frame: u64) -> String {
        let ext = extension_for(self.content_type.as_deref());
        match self.name.as_deref().map(sanitize_file_name) {
            Some(n) if !n.is_empty() => n,
            _ => sanitize_file_name(&format!("frame{frame}-{}.{ext}", self.title)),
        }
    }
}

fn extension_for(ct: Option<&str>) -> &'static str {
    match ct.unwrap_or("") {
        "text/plain" => "txt",
        "application/smil" => "smil",
        "text/html" => "html",
        "text/xml" | "application/xml" => "xml",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "audio/amr" => "amr",
        "video/3gpp" => "3gp",
        "text/x-vcard" | "text/vcard" => "vcf",
        "application/vnd.wap.mms-message" => "mms",
        _ => "bin",
    }
}

/// A file name that is one plain path component: the last component of `raw` (after any `/` or
/// `\`), with only letters, digits, `.`, `-`, `_` kept (others become `_`), no leading dots, at
/// most 100 characters. Empty when nothing usable is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut s: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = s.trim_start_matches('.').to_string();
    s = trimmed.chars().take(100).collect();
    if s.chars().all(|c| c == '_' || c == '.') {
        return String::new();
    }
    s
}

/// Write `bytes` into `dir` under the sanitised `name`, never overwriting: "name", then
/// "name-1", "name-2"… Returns the path written.
pub fn save_bytes(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let clean = sanitize_file_name(name);
    let clean = if clean.is_empty() {
        "part.bin".to_string()
    } else {
        clean
    };
    let (stem, ext) = match clean.rfind('.') {
        Some(i) if i > 0 => (&clean[..i], &clean[i..]),
        _ => (clean.as_str(), ""),
    };
    for n in 0..1000 {
        let file = if n == 0 {
            clean.clone()
        } else {
            format!("{stem}-{n}{ext}")
        };
        let path = dir.join(&file);
        // the name is a single normal component, so the path stays in `dir`
        debug_assert_eq!(path.parent(), Some(dir));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, bytes)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many files with that name"))
}

/// The bytes of `node` in its buffer, if its range fits.
pub fn payload_bytes<'a>(d: &'a Dissection, node: &Node) -> Option<&'a [u8]> {
    d.buffers
        .get(node.buffer as usize)?
        .data
        .get(node.range.clone())
}

/// Whether to show a part as text: a textual media type, or (no type) valid UTF-8 without NULs.
pub fn is_text(content_type: Option<&str>, bytes: &[u8]) -> bool {
    match content_type {
        Some(ct)
            if ct.starts_with("text/")
                || ct.contains("smil")
                || ct.ends_with("xml")
                || ct.ends_with("+xml") =>
        {
            true
        }
        Some(ct) if !ct.is_empty() && ct != "application/octet-stream" => false,
        _ => std::str::from_utf8(bytes).is_ok_and(|s| !s.contains('\0')),
    }
}

/// Lines of a text part, decoded as UTF-8 (invalid bytes replaced), each escaped for the
/// terminal; tabs expanded.
pub fn text_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .map(|l| escape_text(&l.trim_end_matches('\r').replace('\t', "    ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;
    use crate::tui::treeview::node_at;

    #[test]
    fn sanitize_keeps_one_harmless_component() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\win.ini"), "win.ini");
        assert_eq!(sanitize_file_name("..."), "");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name("a b\x1b[31m.txt"), "a_b__31m.txt");
        assert_eq!(sanitize_file_name("/"), "");
        assert_eq!(sanitize_file_name(&"x".repeat(300)).len(), 100);
    }

    #[test]
    fn parts_of_the_send_req_are_found_with_their_types() {
        let pdus = fixture::http_mm1_basic_pdus();
        let d = &pdus[0].dissection;
        let part1 = node_at(d, &[1, 7, 1]).unwrap();
        let info = part_info(part1).unwrap();
        assert_eq!(info.content_type.as_deref(), Some("application/smil"));
        assert_eq!(info.payload.name, "Data");
        let bytes = payload_bytes(d, info.payload).unwrap();
        assert!(is_text(info.content_type.as_deref(), bytes));
        assert_eq!(text_lines(bytes)[0], "<smil>");
        assert_eq!(text_lines(bytes)[1], "    <head>");
        assert_eq!(info.file_name(4), "frame4-Part_1.smil");
        let part2 = part_info(node_at(d, &[1, 7, 2]).unwrap()).unwrap();
        assert_eq!(part2.content_type.as_deref(), Some("text/plain"));
        assert_eq!(part2.file_name(4), "frame4-Part_2.txt");
        // a header field is not a part
        assert!(part_info(node_at(d, &[1, 1]).unwrap()).is_none());
    }

    #[test]
    fn save_never_leaves_the_folder_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("mmscope-tui-parts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a = save_bytes(&dir, "../../evil.txt", b"one").unwrap();
        assert_eq!(a, dir.join("evil.txt"));
        let b = save_bytes(&dir, "../../evil.txt", b"two").unwrap();
        assert_eq!(b, dir.join("evil-1.txt"));
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&b).unwrap(), b"two");
        let c = save_bytes(&dir, "..", b"x").unwrap();
        assert_eq!(c, dir.join("part.bin"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
