//! Body parts in the tree: recognising them, showing them as text, saving them to files.
//!
//! The MMS dissector shows a multipart body as "Part 1", "Part 2", … ("Part 1.2" when nested),
//! each with its headers (Content-Type, whose parameters are "Parameter …" children,
//! Content-Location, …) and its content: "Text" or "SMIL" (decoded text), "Data" (bytes),
//! "Encoded data" plus "Decoded base64"/"Decoded quoted-printable" (a derived buffer), or an
//! "Embedded MMS PDU". A single-part body is a "Body" node with the same content children.
//!
//! File names come from the part's own headers, which come from the wire: they are sanitised so
//! that a saved part can never land outside the chosen folder.

use crate::tree::{Dissection, Node, Value, escape_text};
use std::path::{Path, PathBuf};

/// A node the user can view or save.
#[derive(Debug, Clone)]
pub struct PartInfo<'a> {
    /// The node whose byte range is the part's content.
    pub payload: &'a Node,
    pub content_type: Option<String>,
    /// A name the part gives itself (Content-Location, name=…, filename=…).
    pub name: Option<String>,
    /// What to call it in titles: the part's name in the tree ("Part 2").
    pub title: String,
}

fn is_part(n: &Node) -> bool {
    let l = n.name.to_ascii_lowercase();
    (l.starts_with("part") || l == "body") && !n.children.is_empty()
}

/// Nodes that hold a part's content, best first: decoded text, transfer-decoded bytes, raw
/// bytes, an embedded PDU.
fn payload_rank(n: &Node) -> Option<u8> {
    match (n.name.as_str(), &n.value) {
        ("Text" | "SMIL", Value::Text(_)) => Some(0),
        (name, Value::Bytes) if name.starts_with("Decoded") => Some(1),
        ("Data", Value::Bytes) => Some(2),
        ("Embedded MMS PDU", _) => Some(3),
        (_, Value::Bytes) => Some(4),
        _ => None,
    }
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

fn text_of(n: &Node) -> String {
    match &n.value {
        Value::Text(t) => t.clone(),
        Value::Enum { name, .. } => name.clone(),
        _ => n.display.clone(),
    }
}

/// Content type and name from a part's header children.
fn headers_of(part: &Node) -> (Option<String>, Option<String>) {
    let ct_node = part
        .children
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case("Content-Type"));
    let content_type = ct_node.map(|c| match &c.value {
        Value::Text(t) | Value::Enum { name: t, .. } => t.to_ascii_lowercase(),
        _ => media_type(&c.display),
    });
    let name_fields = [
        "Parameter Name",
        "Parameter Filename",
        "Name",
        "Filename",
        "Content-Location",
    ];
    let mut candidates: Vec<&Node> = part.children.iter().collect();
    if let Some(ct) = ct_node {
        candidates.extend(ct.children.iter());
    }
    let name = name_fields.iter().find_map(|f| {
        candidates
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(f))
            .map(|c| text_of(c))
    });
    (content_type, name)
}

/// The part that `node` is or belongs to, if any. `ancestors` are the nodes above `node`,
/// outermost first.
pub fn part_info<'a>(node: &'a Node, ancestors: &[&'a Node]) -> Option<PartInfo<'a>> {
    if is_part(node) {
        // the part itself: its best content node among its direct children and, below a
        // "Decoded …" node, that node's children (nested parts are not this part's content)
        let mut best: Option<(u8, &Node)> = None;
        for c in &node.children {
            let mut consider = |n: &'a Node| {
                if let Some(r) = payload_rank(n)
                    && best.is_none_or(|(b, _)| r < b)
                {
                    best = Some((r, n));
                }
            };
            consider(c);
            if c.name.starts_with("Decoded") {
                c.children.iter().for_each(&mut consider);
            }
        }
        let (_, payload) = best?;
        let (content_type, name) = headers_of(node);
        return Some(PartInfo {
            payload,
            content_type,
            name,
            title: node.name.clone(),
        });
    }
    payload_rank(node)?;
    // a content node: the headers are those of the nearest part above it
    match ancestors.iter().rev().find(|a| is_part(a)) {
        Some(part) => {
            let (content_type, name) = headers_of(part);
            Some(PartInfo {
                payload: node,
                content_type,
                name,
                title: part.name.clone(),
            })
        }
        None => Some(PartInfo {
            payload: node,
            content_type: match node.name.as_str() {
                "SMIL" => Some("application/smil".into()),
                "Text" => Some("text/plain".into()),
                "Embedded MMS PDU" => Some("application/vnd.wap.mms-message".into()),
                _ => None,
            },
            name: None,
            title: node.name.clone(),
        }),
    }
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
        let info = part_info(part1, &[]).unwrap();
        assert_eq!(info.content_type.as_deref(), Some("application/smil"));
        assert_eq!(info.payload.name, "SMIL");
        let bytes = payload_bytes(d, info.payload).unwrap();
        assert!(is_text(info.content_type.as_deref(), bytes));
        assert_eq!(text_lines(bytes)[0], "<smil>");
        assert_eq!(text_lines(bytes)[1], "    <head>");
        assert_eq!(info.file_name(4), "frame4-Part_1.smil");
        let part2 = part_info(node_at(d, &[1, 7, 2]).unwrap(), &[]).unwrap();
        assert_eq!(part2.content_type.as_deref(), Some("text/plain"));
        assert_eq!(part2.file_name(4), "frame4-Part_2.txt");
        // the text node of part 2, with its ancestors: the part's headers apply
        let anc = [
            &d.layers[1],
            node_at(d, &[1, 7]).unwrap(),
            node_at(d, &[1, 7, 2]).unwrap(),
        ];
        let text = part_info(node_at(d, &[1, 7, 2, 3]).unwrap(), &anc).unwrap();
        assert_eq!(text.title, "Part 2");
        assert_eq!(text.content_type.as_deref(), Some("text/plain"));
        // a header field is not a part
        assert!(part_info(node_at(d, &[1, 1]).unwrap(), &[]).is_none());
    }

    #[test]
    fn decoded_content_wins_over_encoded_and_names_come_from_headers() {
        let part = Node::group("Part 1", "image/jpeg (10 octets)", 0..40).with_children(vec![
            Node::new(
                "Content-Type",
                "image/jpeg",
                Value::Text("image/jpeg".into()),
                2..4,
            )
            .with_children(vec![Node::new(
                "Parameter Name",
                "../../../etc/cron.d/x.jpg",
                Value::Text("../../../etc/cron.d/x.jpg".into()),
                4..10,
            )]),
            Node::new("Encoded data", "16 octets", Value::Bytes, 10..26),
            Node::new("Decoded base64", "10 octets", Value::Bytes, 0..10),
        ]);
        let info = part_info(&part, &[]).unwrap();
        assert_eq!(info.payload.name, "Decoded base64");
        assert_eq!(info.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(info.file_name(9), "x.jpg");
        assert!(!is_text(info.content_type.as_deref(), b"\xff\xd8"));
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
