//! The dissector tree: the one model that the TUI, the JSON output and the exports read.
//!
//! A [`Dissection`] owns the byte buffers that were decoded (a reassembled TCP stream slice, a
//! de-chunked and decompressed HTTP body, a reassembled WTP message, …) and a forest of [`Node`]s.
//! Every node names the buffer its byte range refers to, so the hex pane can highlight the bytes
//! of any field, and every buffer knows which capture frames its bytes came from.
//!
//! Parsers build nodes against buffer 0 of their own input; whoever stacks layers (the pipeline)
//! moves a subtree onto another buffer with [`Node::set_buffer`].

use serde::Serialize;
use std::ops::Range;

/// Index of a buffer inside a [`Dissection`].
pub type BufferId = u16;

/// How serious an expert note is (Wireshark's expert levels, reduced to three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, not wrong (e.g. "retransmission", "deprecated in 1.3").
    Note,
    /// Violates the specification but could be decoded (e.g. header out of order).
    Warning,
    /// Could not be decoded as the specification says (malformed, truncated, gap).
    Error,
}

/// The typed value a field decoded to. `display` on the node is the human rendering; this is
/// what filters, correlation and JSON consumers compare against.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// A grouping node or a field with no value of its own.
    None,
    Bool(bool),
    UInt(u64),
    Int(i64),
    Text(String),
    /// Raw bytes, kept as a byte range of the node's buffer (never copied into the tree).
    Bytes,
    /// Seconds since the Unix epoch (absolute date).
    Time(i64),
    /// Relative time in seconds (delta-seconds).
    Duration(u64),
    /// A value from a table of named codes (message type, status, …): the code and its name.
    Enum {
        code: u64,
        name: String,
    },
}

/// One field of a decoded protocol data unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// What the field is, e.g. "X-Mms-Transaction-Id", "Content-Type", "Part 2".
    pub name: String,
    /// The value as shown to a human (already escaped of control characters where it is text).
    pub display: String,
    /// The typed value.
    pub value: Value,
    /// Byte range in `buffer`.
    pub range: Range<usize>,
    /// Which buffer of the dissection `range` refers to.
    pub buffer: BufferId,
    /// Set on expert notes: semantic checks, malformed data, gaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expert: Option<Severity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    /// A field node on buffer 0.
    pub fn new(
        name: impl Into<String>,
        display: impl Into<String>,
        value: Value,
        range: Range<usize>,
    ) -> Self {
        Node {
            name: name.into(),
            display: display.into(),
            value,
            range,
            buffer: 0,
            expert: None,
            children: Vec::new(),
        }
    }

    /// A grouping node (no value of its own).
    pub fn group(name: impl Into<String>, display: impl Into<String>, range: Range<usize>) -> Self {
        Node::new(name, display, Value::None, range)
    }

    /// An expert note. `name` says what kind ("malformed", "missing-header", …); `message` says
    /// what and where, for a human.
    pub fn expert(
        severity: Severity,
        name: impl Into<String>,
        message: impl Into<String>,
        range: Range<usize>,
    ) -> Self {
        let mut n = Node::new(name, message, Value::None, range);
        n.expert = Some(severity);
        n
    }

    pub fn with_children(mut self, children: Vec<Node>) -> Self {
        self.children = children;
        self
    }

    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }

    /// Move this subtree onto `buffer`.
    pub fn set_buffer(&mut self, buffer: BufferId) {
        self.buffer = buffer;
        for c in &mut self.children {
            c.set_buffer(buffer);
        }
    }

    /// Shift every range of this subtree by `offset` (when a parser decoded a slice that starts
    /// at `offset` of the buffer the tree is attached to).
    pub fn shift(&mut self, offset: usize) {
        self.range = self.range.start + offset..self.range.end + offset;
        for c in &mut self.children {
            c.shift(offset);
        }
    }

    /// Depth-first iterator over this node and its descendants.
    pub fn walk(&self) -> impl Iterator<Item = &Node> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let n = stack.pop()?;
            stack.extend(n.children.iter().rev());
            Some(n)
        })
    }

    /// First direct child with this name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The worst expert severity in this subtree.
    pub fn worst(&self) -> Option<Severity> {
        self.walk().filter_map(|n| n.expert).max()
    }
}

/// Where the bytes `offset..offset + len` of a buffer came from in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FrameSpan {
    pub offset: usize,
    pub len: usize,
    /// 1-based capture frame number, as Wireshark counts.
    pub frame: u64,
}

/// A byte buffer a dissection decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Buffer {
    /// For the hex pane's title, e.g. "Reassembled TCP (3 frames)", "De-chunked, gunzipped body".
    pub name: String,
    #[serde(skip)]
    pub data: std::sync::Arc<[u8]>,
    /// Frame origin of the bytes; empty when the bytes were derived (decompressed, base64-decoded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origin: Vec<FrameSpan>,
}

impl Buffer {
    pub fn new(name: impl Into<String>, data: impl Into<std::sync::Arc<[u8]>>) -> Self {
        Buffer {
            name: name.into(),
            data: data.into(),
            origin: Vec::new(),
        }
    }

    /// The capture frame the byte at `offset` came from, if the buffer has frame origins.
    pub fn frame_of(&self, offset: usize) -> Option<u64> {
        self.origin
            .iter()
            .find(|s| offset >= s.offset && offset < s.offset + s.len)
            .map(|s| s.frame)
    }
}

/// Buffers plus the nodes that decode them: one top-level node per protocol layer, outermost first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dissection {
    pub buffers: Vec<Buffer>,
    pub layers: Vec<Node>,
}

impl Dissection {
    /// Add a buffer and return its id.
    pub fn add_buffer(&mut self, buffer: Buffer) -> BufferId {
        self.buffers.push(buffer);
        (self.buffers.len() - 1) as BufferId
    }

    /// Add a layer tree decoded from `buffer`.
    pub fn add_layer(&mut self, mut node: Node, buffer: BufferId) {
        node.set_buffer(buffer);
        self.layers.push(node);
    }

    /// The worst expert severity over all layers.
    pub fn worst(&self) -> Option<Severity> {
        self.layers.iter().filter_map(Node::worst).max()
    }
}

/// Render `s` so that it is safe to print to a terminal: control characters (C0, DEL, C1) and
/// escape sequences become visible escapes, so a hostile subject can never drive the terminal.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Whether `s` is its own [`escape_text`]: printable ASCII without a backslash.
pub fn is_own_escape(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7F).contains(&b) && b != b'\\')
}

/// Append [`escape_text`]`(s)` to `out` (without a string of its own). Text that needs no
/// escape (printable ASCII without a backslash, the usual header value) is copied in one
/// piece: the decoders escape every text value they show, and the per-character loop was a
/// visible share of the batch path.
pub fn push_escaped(out: &mut String, s: &str) {
    use std::fmt::Write;
    if is_own_escape(s) {
        out.push_str(s);
        return;
    }
    for ch in s.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_visits_depth_first_in_order() {
        let tree = Node::group("root", "", 0..10).with_children(vec![
            Node::group("a", "", 0..5).with_children(vec![Node::group("a1", "", 0..2)]),
            Node::group("b", "", 5..10),
        ]);
        let names: Vec<_> = tree.walk().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["root", "a", "a1", "b"]);
    }

    #[test]
    fn shift_and_set_buffer_apply_to_the_whole_subtree() {
        let mut tree =
            Node::group("root", "", 0..10).with_children(vec![Node::group("a", "", 2..4)]);
        tree.shift(100);
        tree.set_buffer(3);
        assert_eq!(tree.children[0].range, 102..104);
        assert_eq!(tree.children[0].buffer, 3);
    }

    #[test]
    fn worst_finds_the_most_severe_note() {
        let tree = Node::group("root", "", 0..1).with_children(vec![
            Node::expert(Severity::Note, "n", "note", 0..1),
            Node::group("g", "", 0..1).with_children(vec![Node::expert(
                Severity::Error,
                "e",
                "bad",
                0..1,
            )]),
        ]);
        assert_eq!(tree.worst(), Some(Severity::Error));
    }

    #[test]
    fn escape_text_neutralises_terminal_escapes() {
        assert_eq!(escape_text("a\x1b[31mb\x07"), "a\\u{1b}[31mb\\u{7}");
        assert_eq!(escape_text("x\u{9b}y"), "x\\u{9b}y");
        assert_eq!(escape_text("ok é"), "ok é");
        assert_eq!(escape_text("plain ASCII text"), "plain ASCII text");
        assert_eq!(escape_text("a\\b"), "a\\\\b");
        assert_eq!(escape_text("del\x7f"), "del\\u{7f}");
        let mut out = String::from("x=");
        push_escaped(&mut out, "tab\there");
        push_escaped(&mut out, ";ok");
        assert_eq!(out, "x=tab\\there;ok");
    }

    #[test]
    fn frame_of_maps_bytes_back_to_frames() {
        let mut b = Buffer::new("tcp", vec![0u8; 10]);
        b.origin = vec![
            FrameSpan {
                offset: 0,
                len: 4,
                frame: 7,
            },
            FrameSpan {
                offset: 4,
                len: 6,
                frame: 9,
            },
        ];
        assert_eq!(b.frame_of(3), Some(7));
        assert_eq!(b.frame_of(4), Some(9));
        assert_eq!(b.frame_of(10), None);
    }
}
