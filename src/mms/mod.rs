//! The MMS PDU dissector (OMA-MMS-ENC 1.0–1.3): every message type (0x80–0x97), every header
//! field of the 1.3 table with its value encoding, application headers, the body (multipart,
//! nested, single part, transfer encodings, charsets), and semantic checks as expert nodes.
//!
//! [`dissect`] never fails: what cannot be decoded becomes an expert node with its byte offset,
//! and everything before it is kept.

pub mod body;
pub mod fields;
pub mod tables;

use crate::codec::primitives::CodecError;
use crate::model::{MmsSummary, record_text};
use crate::tree::{Buffer, BufferId, Dissection, Node, Severity, Value};
use fields::Field;
use smallvec::SmallVec;
use std::ops::Range;
use tables::*;

/// Derived buffers one PDU may add (decoded parts, charset-decoded text).
pub const MAX_DERIVED_BUFFERS: usize = 256;
/// Most header fields decoded in one PDU (real PDUs have a few dozen). A field can be two
/// octets and costs about 1 KB of tree and field records: without a bound a 4 MB PDU of
/// repeated fields took 2 GB.
pub const MAX_HEADER_FIELDS: usize = 1024;

/// Decoding context: collects the derived buffers a PDU's decode produces, and says whether the
/// tree is wanted at all.
pub struct Ctx {
    first_id: usize,
    derived: Vec<Buffer>,
    /// Derived buffers numbered so far (equal to `derived.len()` when the tree is built).
    derived_count: usize,
    /// Set when [`MAX_DERIVED_BUFFERS`] was reached.
    pub derived_limit_hit: bool,
    /// False when only the summary is wanted (the batch path): labels are not formatted,
    /// derived bytes are not kept, and subtrees without an error or warning note are dropped
    /// as they are built. The decode itself (typed values, buffer numbering, limits, every note
    /// the summary counts) is the same: only the rendering is skipped, which was most of the
    /// cost of a summary.
    tree: bool,
}

impl Ctx {
    /// `first_id` is the id the first derived buffer will get (the dissection's buffer count).
    pub fn new(first_id: usize) -> Self {
        Ctx {
            first_id,
            derived: Vec::new(),
            derived_count: 0,
            derived_limit_hit: false,
            tree: true,
        }
    }

    /// A context for [`summarize`]: the same decode without the tree (see `tree`).
    pub fn summary_only(first_id: usize) -> Self {
        Ctx {
            tree: false,
            ..Ctx::new(first_id)
        }
    }

    /// True when the dissection tree is being built.
    pub fn tree(&self) -> bool {
        self.tree
    }

    /// A node label: `make` runs only when the tree is built.
    pub fn label(&self, make: impl FnOnce() -> String) -> String {
        if self.tree { make() } else { String::new() }
    }

    /// Add `child` to `children`. Without the tree, only a child holding an error or warning
    /// note is kept (the summary counts those).
    pub fn attach(&self, children: &mut Vec<Node>, child: Node) {
        if self.tree || counts(&child) {
            children.push(child);
        }
    }

    /// Add a copy of `child`: without the tree, only when it holds an error or warning note
    /// (so nothing else is copied).
    pub fn attach_ref(&self, children: &mut Vec<Node>, child: &Node) {
        if self.tree || counts(child) {
            children.push(child.clone());
        }
    }

    /// Add the node `make` builds, which holds no error or warning note: without the tree it
    /// is not built at all.
    pub fn attach_with(&self, children: &mut Vec<Node>, make: impl FnOnce() -> Node) {
        if self.tree {
            children.push(make());
        }
    }

    /// Number a derived buffer named `name` (built only with the tree); its bytes are given
    /// by [`Ctx::fill`] once the nodes that read them are built. `None` when the limit is
    /// reached.
    pub fn derive(&mut self, name: impl FnOnce() -> String) -> Option<BufferId> {
        let id = self.first_id + self.derived_count;
        if self.derived_count >= MAX_DERIVED_BUFFERS || id > usize::from(BufferId::MAX) {
            self.derived_limit_hit = true;
            return None;
        }
        self.derived_count += 1;
        if self.tree {
            self.derived.push(Buffer::new(name(), Vec::new()));
        }
        Some(id as BufferId)
    }

    /// The bytes of the derived buffer `id` (kept only with the tree).
    pub fn fill(&mut self, id: BufferId, data: &[u8]) {
        if let Some(b) = usize::from(id)
            .checked_sub(self.first_id)
            .and_then(|i| self.derived.get_mut(i))
        {
            b.data = data.into();
        }
    }

    pub fn into_buffers(self) -> Vec<Buffer> {
        self.derived
    }
}

/// Add the error and warning notes of the subtree `n` to the summary's counts. Recursive
/// rather than [`Node::walk`], which allocates its stack: this runs on every PDU.
fn count_notes(n: &Node, summary: &mut MmsSummary) {
    match n.expert {
        Some(Severity::Error) => summary.errors += 1,
        Some(Severity::Warning) => summary.warnings += 1,
        _ => {}
    }
    for c in &n.children {
        count_notes(c, summary);
    }
}

/// A subtree holding a note the summary counts (error or warning). Recursive rather than
/// [`Node::walk`], which allocates its stack: this runs on every node built without the tree.
fn counts(n: &Node) -> bool {
    matches!(n.expert, Some(Severity::Error | Severity::Warning)) || n.children.iter().any(counts)
}

/// The result of decoding one PDU. (Its header fields went into the summary.)
pub struct Pdu {
    pub node: Node,
    pub summary: MmsSummary,
}

fn parse_version(s: &str) -> Option<(u8, u8)> {
    let mut it = s.split('.');
    let major = it.next()?.trim().parse().ok()?;
    let minor = it
        .next()
        .map(|m| m.trim().parse().ok())
        .unwrap_or(Some(0))?;
    Some((major, minor))
}

/// Decode the PDU in `range` of `buf` into a node named "MMS" (buffer 0 = `buf`; derived
/// buffers go to `ctx`).
pub fn decode_pdu(ctx: &mut Ctx, buf: &[u8], range: Range<usize>, depth: usize) -> Pdu {
    let end = range.end.min(buf.len());
    let win = &buf[..end];
    let start = range.start.min(end);
    // Without the tree the node is only a holder of the notes the summary counts: its name
    // is not allocated (nor those of the body's group nodes).
    let mut root = Node::group(ctx.label(|| "MMS".into()), "", start..end);
    // The headers of a usual PDU (7 on average, rarely more than 16) fit on the stack: no
    // allocation per PDU (growing a list from empty was three allocations and copies).
    let mut fields: SmallVec<[Field; 16]> = SmallVec::new();
    let mut pos = start;
    let mut msg_type: Option<u8> = None;
    let mut body_start = None;

    if start == end {
        root.push(Node::expert(
            Severity::Error,
            "truncated",
            format!("empty PDU at byte {start}: expected X-Mms-Message-Type (0x8C)"),
            start..start,
        ));
    } else if win[start] != 0x8C {
        root.push(Node::expert(
            Severity::Error,
            "not-mms",
            format!(
                "byte {start} is 0x{:02X}, not X-Mms-Message-Type (0x8C): not an MMS PDU (OMA-MMS-ENC 1.3 6: every PDU starts with X-Mms-Message-Type); decoding what follows as headers",
                win[start]
            ),
            start..start + 1,
        ));
    }

    while pos < end {
        if fields.len() >= MAX_HEADER_FIELDS {
            root.push(Node::expert(
                Severity::Warning,
                "limit",
                format!(
                    "more than {MAX_HEADER_FIELDS} header fields: the {} octets from byte {pos} are not decoded",
                    end - pos
                ),
                pos..end,
            ));
            break;
        }
        match fields::decode_field(ctx, win, pos, msg_type) {
            Ok((f, node, next)) => {
                if f.code == Some(0x0C) && msg_type.is_none() {
                    msg_type = f.token;
                }
                let is_ct = f.code == Some(0x04);
                if let Some(node) = node {
                    ctx.attach(&mut root.children, node);
                }
                fields.push(f);
                pos = next;
                if is_ct {
                    // Content-Type is the last header: the body follows (OMA-MMS-ENC 1.3 7.1).
                    body_start = Some(pos);
                    break;
                }
            }
            Err(e) => {
                if win[pos..end].iter().all(|&b| b == 0) {
                    // NUL padding after the last header: said, but not a decoding failure.
                    root.push(Node::expert(
                        Severity::Warning,
                        "trailing-octets",
                        format!(
                            "{} trailing 0x00 octet(s) from byte {pos} where a header field was expected (padding?)",
                            end - pos
                        ),
                        pos..end,
                    ));
                } else {
                    root.push(header_error(&e, end));
                }
                break;
            }
        }
    }

    let mut summary = MmsSummary::default();
    if let Some(bs) = body_start {
        // The body's Content-Type is the last field decoded (read in place, not copied).
        let body_ct = fields.last().and_then(|f| f.content_type.as_ref());
        let (mut bnode, parts) = body::decode_body(ctx, win, bs..end, body_ct, depth);
        if msg_type.is_some_and(|t| !has_body(t)) && bs < end {
            ctx.attach_with(&mut bnode.children, || Node::expert(
                Severity::Note,
                "unexpected-body",
                format!(
                    "{} carries no message body in OMA-MMS-ENC 1.3; {} octets follow Content-Type",
                    message_type_display(msg_type.unwrap_or(0)),
                    end - bs
                ),
                bs..end,
            ));
        }
        ctx.attach(&mut root.children, bnode);
        summary.parts = parts;
    }

    for n in checks(&fields, msg_type, start, end) {
        root.push(n);
    }
    if ctx.derived_limit_hit {
        ctx.attach_with(&mut root.children, || Node::expert(
            Severity::Note,
            "limit",
            format!("more than {MAX_DERIVED_BUFFERS} derived buffers: further decoded parts are shown encoded"),
            start..end,
        ));
    }
    fill_summary(&mut summary, fields.drain(..), msg_type);
    count_notes(&root, &mut summary);
    if !ctx.tree() {
        return Pdu {
            node: root,
            summary,
        };
    }
    root.display = format!(
        "{}{}{}",
        summary
            .message_type
            .clone()
            .unwrap_or_else(|| "not an MMS PDU".into()),
        summary
            .transaction_id
            .as_ref()
            .map(|t| format!(", tid {}", crate::tree::escape_text(t)))
            .unwrap_or_default(),
        summary
            .mms_version
            .as_ref()
            .map(|v| format!(", MMS {v}"))
            .unwrap_or_default(),
    );
    root.value = match msg_type {
        Some(t) => Value::Enum {
            code: u64::from(t),
            name: message_type_display(t),
        },
        None => Value::None,
    };
    Pdu {
        node: root,
        summary,
    }
}

fn header_error(e: &CodecError, end: usize) -> Node {
    let mut n = e.node(end);
    n.display = format!(
        "{}; the {} octets from byte {} on are not decoded",
        n.display,
        end.saturating_sub(e.offset),
        e.offset
    );
    n
}

/// The first field of each code, found in one pass over the fields: the checks ask for about
/// twenty of them per PDU, each a scan of the fields before.
struct Firsts<'a> {
    fields: &'a [Field],
    /// Index in `fields` of the first field of each code (`u16::MAX`: none; a PDU has at
    /// most [`MAX_HEADER_FIELDS`]).
    at: [u16; 128],
}

impl<'a> Firsts<'a> {
    fn new(fields: &'a [Field]) -> Self {
        let mut at = [u16::MAX; 128];
        for (i, f) in fields.iter().enumerate() {
            if let Some(slot) = f.code.and_then(|c| at.get_mut(usize::from(c)))
                && *slot == u16::MAX
            {
                *slot = i as u16;
            }
        }
        Firsts { fields, at }
    }

    /// The first field with code `code`.
    fn get(&self, code: u8) -> Option<&'a Field> {
        let i = *self.at.get(usize::from(code))?;
        self.fields.get(usize::from(i))
    }
}

/// Move the summary's values out of the header fields (the first of each single-valued
/// header, every To, Cc and Bcc), in one pass and without copies: it runs on every PDU.
fn fill_summary(s: &mut MmsSummary, fields: impl Iterator<Item = Field>, msg_type: Option<u8>) {
    s.message_type_code = msg_type;
    let mut seen = [false; 128];
    for mut f in fields {
        let Some(code) = f.code else { continue };
        let first = !std::mem::replace(&mut seen[usize::from(code)], true);
        let slot = match code {
            0x01 => {
                s.bcc.extend(f.text.map(record_text));
                continue;
            }
            0x02 => {
                s.cc.extend(f.text.map(record_text));
                continue;
            }
            0x17 => {
                s.to.extend(f.text.map(record_text));
                continue;
            }
            _ if !first => continue,
            // The first X-Mms-Message-Type gave `msg_type`; its text is the type's display
            // name (taken, not formatted again).
            0x0C => &mut s.message_type,
            0x18 => &mut s.transaction_id,
            0x0B => &mut s.message_id,
            0x0D => &mut s.mms_version,
            0x09 => &mut s.from,
            0x03 => &mut s.content_location,
            0x16 => &mut s.subject,
            0x15 => &mut s.status,
            0x12 => &mut s.response_status,
            0x13 => &mut s.response_text,
            0x19 => &mut s.retrieve_status,
            0x1B => &mut s.read_status,
            0x25 => &mut s.store_status,
            0x3F => &mut s.cancel_status,
            0x05 => {
                s.date = f.number.and_then(|v| i64::try_from(v).ok());
                continue;
            }
            0x0E => {
                s.message_size = f.number;
                continue;
            }
            0x04 => {
                s.content_type = f.content_type.take().map(|c| c.media);
                continue;
            }
            _ => continue,
        };
        *slot = f.text.take().map(record_text);
    }
}

/// A message type's name for the checks' messages ([`message_type_display`], formatted only
/// when a message is).
struct TypeName(u8);

impl std::fmt::Display for TypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match message_type_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "unknown-0x{:02X}", self.0),
        }
    }
}

/// Semantic checks (OMA-MMS-ENC 1.3 sections 6 and 7): header order, mandatory and duplicated
/// headers, versions, error statuses.
fn checks(fields: &[Field], msg_type: Option<u8>, start: usize, end: usize) -> Vec<Node> {
    let mut out = Vec::new();
    // Without allocations: checks run on every PDU and nearly always find nothing to say.
    let known = || fields.iter().filter(|f| f.code.is_some());
    let Some(t) = msg_type else {
        if !fields.is_empty() {
            out.push(Node::expert(
                Severity::Error,
                "missing-header",
                "no X-Mms-Message-Type: the PDU type is unknown".to_string(),
                start..end,
            ));
        }
        return out;
    };
    let tname = TypeName(t);
    let firsts = Firsts::new(fields);
    let first = |code: u8| firsts.get(code);
    let at = |i: usize| known().nth(i).and_then(|f| f.code);
    let whole = start..end;
    let range_of = |i: usize| {
        known()
            .nth(i)
            .map(|f| f.range.clone())
            .unwrap_or(whole.clone())
    };

    // Order of the first headers (OMA-MMS-ENC 1.3 7.1 / 6: "X-Mms-Message-Type,
    // X-Mms-Transaction-ID and X-Mms-MMS-Version … SHALL be the first ones, in this order").
    let has_tid = first(0x18).is_some();
    let tid_rule = transaction_id_rule(t);
    let expected: &[u8] = match tid_rule {
        Some(true) => &[0x0C, 0x18, 0x0D],
        Some(false) if has_tid => &[0x0C, 0x18, 0x0D],
        _ => &[0x0C, 0x0D],
    };
    for (i, &want) in expected.iter().enumerate() {
        if at(i) != Some(want) && first(want).is_some() {
            out.push(Node::expert(
                Severity::Warning,
                "header-order",
                format!(
                    "{} should be header #{} of {tname}, found {} there (OMA-MMS-ENC 1.3 6.1: Message-Type, Transaction-Id, MMS-Version come first, in this order)",
                    field_display(want),
                    i + 1,
                    at(i).map(field_display).unwrap_or_else(|| "nothing".into())
                ),
                range_of(i),
            ));
            break;
        }
    }

    // Mandatory headers.
    let mandatory = std::iter::once(0x0D)
        .chain((tid_rule == Some(true)).then_some(0x18))
        .chain(mandatory_fields(t).iter().copied());
    for c in mandatory {
        if first(c).is_none() {
            out.push(Node::expert(
                Severity::Warning,
                "missing-header",
                format!(
                    "mandatory header {} missing in {tname} (OMA-MMS-ENC 1.3 6)",
                    field_display(c)
                ),
                whole.clone(),
            ));
        }
    }
    if t == 0x80 && ![0x17, 0x02, 0x01].iter().any(|&c| first(c).is_some()) {
        out.push(Node::expert(
            Severity::Warning,
            "missing-header",
            "m-send-req without To, Cc or Bcc: at least one recipient is required (OMA-MMS-ENC 1.3 6.1.1)".to_string(),
            whole.clone(),
        ));
    }
    if tid_rule.is_none() && has_tid {
        out.push(Node::expert(
            Severity::Note,
            "unexpected-header",
            format!("X-Mms-Transaction-Id is not defined for {tname}"),
            first(0x18)
                .map(|f| f.range.clone())
                .unwrap_or(whole.clone()),
        ));
    }

    // Duplicates of single-valued headers.
    let mut seen = [false; 128];
    for f in known() {
        let c = f.code.unwrap_or(0) as usize;
        // In m-delete-conf / m-mbox-delete-conf, Content-Location, Response-Status and
        // Response-Text repeat once per deleted message (with a Status-count index).
        let per_message = matches!(t, 0x92 | 0x95) && matches!(c, 0x03 | 0x12 | 0x13);
        if seen[c] && !multi_valued(c as u8) && !per_message {
            out.push(Node::expert(
                Severity::Warning,
                "duplicate-header",
                format!("{} occurs more than once; only the first counts", f.name),
                f.range.clone(),
            ));
        }
        seen[c] = true;
    }

    // Versions: the PDU type and headers must exist in the PDU's MMS version.
    if let Some(vf) = first(0x0D) {
        match vf.text.as_deref().and_then(parse_version) {
            Some(v) => {
                let since = message_type_since(t);
                if message_type_name(t).is_some() && v < since {
                    out.push(Node::expert(
                        Severity::Warning,
                        "version",
                        format!(
                            "{tname} exists since MMS {}.{}, the PDU says {}.{}",
                            since.0, since.1, v.0, v.1
                        ),
                        vf.range.clone(),
                    ));
                }
                if v.0 != 1 {
                    out.push(Node::expert(
                        Severity::Warning,
                        "version",
                        format!(
                            "MMS major version {} (only 1 is defined; OMA-MMS-ENC 1.3 7.3.34)",
                            v.0
                        ),
                        vf.range.clone(),
                    ));
                }
                for f in known() {
                    let c = f.code.unwrap_or(0);
                    if field_name(c).is_none() {
                        continue;
                    }
                    let s = field_since(c);
                    if v.0 == 1 && v < s {
                        out.push(Node::expert(
                            Severity::Note,
                            "version",
                            format!(
                                "{} exists since MMS {}.{}, the PDU says {}.{}",
                                f.name, s.0, s.1, v.0, v.1
                            ),
                            f.range.clone(),
                        ));
                    }
                }
            }
            None => out.push(Node::expert(
                Severity::Warning,
                "version",
                "X-Mms-MMS-Version is not a version number".to_string(),
                vf.range.clone(),
            )),
        }
    }

    // Message-Size against the real size, where the message is in this PDU (OMA-MMS-ENC 1.3
    // 7.3.36: the size of the MM in octets). For m-notification-ind the message is elsewhere:
    // correlation compares it with the m-retrieve-conf.
    if has_body(t)
        && let Some(f) = first(0x0E)
        && let Some(declared) = f.number
        && first(0x04).is_some()
    {
        let actual = (end - start) as u64;
        if declared != actual {
            out.push(Node::expert(
                Severity::Note,
                "message-size",
                format!("X-Mms-Message-Size says {declared} octets, this PDU is {actual} octets"),
                f.range.clone(),
            ));
        }
    }

    // MMS 1.0 response codes 0x81–0x88 are obsolete from 1.1 on (OMA-MMS-ENC 1.3 7.3.48).
    if let Some(f) = first(0x12)
        && let Some(tok @ 0x81..=0x88) = f.token
        && first(0x0D)
            .and_then(|v| v.text.as_deref())
            .and_then(parse_version)
            .is_some_and(|v| v >= (1, 1))
    {
        out.push(Node::expert(
            Severity::Note,
            "obsolete-value",
            format!("Response-Status 0x{tok:02X} is an MMS 1.0 code, obsolete from MMS 1.1 on"),
            f.range.clone(),
        ));
    }

    // Error statuses.
    for (c, ok) in [(0x12u8, 0x80u8), (0x19, 0x80), (0x25, 0x80)] {
        if let Some(f) = first(c)
            && let Some(tok) = f.token
            && tok != ok
        {
            out.push(Node::expert(
                Severity::Note,
                "error-status",
                format!("{}: {}", f.name, f.text.as_deref().unwrap_or_default()),
                f.range.clone(),
            ));
        }
    }
    out
}

/// Decode the MMS PDU in buffer `buf` of `d`: adds one layer node ("MMS") and any derived
/// buffers, and returns the summary. Never fails.
pub fn dissect(d: &mut Dissection, buf: BufferId) -> MmsSummary {
    let Some(b) = d.buffers.get(usize::from(buf)) else {
        return MmsSummary {
            errors: 1,
            ..MmsSummary::default()
        };
    };
    let data = b.data.clone();
    let mut ctx = Ctx::new(d.buffers.len());
    let pdu = decode_pdu(&mut ctx, &data, 0..data.len(), 0);
    for nb in ctx.into_buffers() {
        d.add_buffer(nb);
    }
    let mut node = pdu.node;
    // Nodes of the PDU's own bytes were built against buffer 0; derived-buffer nodes already
    // carry their (non-zero) ids.
    assign_buffer(&mut node, buf);
    d.layers.push(node);
    pdu.summary
}

/// The summary [`dissect`] gives for a dissection whose only buffer holds `bytes`, without the
/// dissection: for the batch path, which keeps only the summary. Same decode, same arguments
/// (derived buffers numbered from 1, as after that one buffer), so the same summary; the tree
/// and derived buffers are dropped instead of being moved into a dissection.
pub fn summarize(bytes: &[u8]) -> MmsSummary {
    let mut ctx = Ctx::summary_only(1);
    decode_pdu(&mut ctx, bytes, 0..bytes.len(), 0).summary
}

fn assign_buffer(n: &mut Node, buf: BufferId) {
    if n.buffer == 0 {
        n.buffer = buf;
    }
    for c in &mut n.children {
        assign_buffer(c, buf);
    }
}

/// Cheap check that `bytes` start like an MMS PDU: X-Mms-Message-Type (0x8C) with an assigned
/// type, then up to three more headers that decode and are MMS header codes.
pub fn looks_like_mms(bytes: &[u8]) -> bool {
    if bytes.len() < 3 || bytes[0] != 0x8C || message_type_name(bytes[1]).is_none() {
        return false;
    }
    let mut ctx = Ctx::summary_only(1);
    let mut pos = 2;
    let window = &bytes[..bytes.len().min(512)];
    let mut seen_version = false;
    for i in 0..3 {
        if pos >= window.len() {
            break;
        }
        let b = window[pos];
        // The header after the type is a well-known one (Transaction-Id or MMS-Version in a
        // valid PDU); application headers (token-text) may follow.
        let well_known = b & 0x80 != 0 && field_name(b & 0x7F).is_some();
        if !well_known && (i == 0 || b & 0x80 != 0) {
            return false;
        }
        match fields::decode_field(&mut ctx, window, pos, Some(bytes[1])) {
            Ok((f, _, n)) => {
                seen_version |= f.code == Some(0x0D);
                pos = n;
            }
            // A header cut by the 512-octet window is still plausible.
            Err(e) => {
                return e.kind == crate::codec::ErrorKind::Truncated && window.len() < bytes.len();
            }
        }
    }
    seen_version || pos >= bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_mms_accepts_pdus_and_rejects_text() {
        assert!(looks_like_mms(b"\x8c\x81\x98C-1\0\x8d\x90\x92\x80"));
        assert!(!looks_like_mms(b"This is not a valid MMS PDU\n"));
        assert!(!looks_like_mms(b"\x8c\xff\x98a\0"));
        assert!(!looks_like_mms(b"\x8c\x80\x20x"));
    }

    #[test]
    fn type_name_formats_as_message_type_display() {
        for code in 0..=255u8 {
            assert_eq!(TypeName(code).to_string(), message_type_display(code));
        }
    }

    /// The texts of a summary cost no heap block where they need none (see `model`): on the lab
    /// m-send-req, the ids, addresses, version and part names are inline, and the body's
    /// content type, the name from the well-known table, is the table's own string.
    #[test]
    fn summary_texts_are_inline_or_static() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pdus/c_send_req.mms");
        let s = summarize(&std::fs::read(path).unwrap());
        let inline = |t: &compact_str::CompactString| !t.is_heap_allocated();
        assert_eq!(s.transaction_id.as_deref(), Some("C-SEND-0001"));
        assert_eq!(s.from.as_deref(), Some("<insert-address-token>"));
        assert_eq!(s.to, ["+15551230002/TYPE=PLMN"]);
        assert_eq!(s.mms_version.as_deref(), Some("1.0"));
        for t in [
            &s.transaction_id,
            &s.from,
            &s.mms_version,
            &s.message_type,
            &s.subject,
        ] {
            assert!(inline(t.as_ref().unwrap()), "{t:?} on the heap");
        }
        assert!(s.to.iter().all(inline));
        let ct = s.content_type.as_ref().unwrap();
        assert_eq!(ct, "application/vnd.wap.multipart.related");
        assert_eq!(
            ct.as_static_str(),
            Some("application/vnd.wap.multipart.related")
        );
        let types: Vec<&str> = s.parts.iter().map(|p| p.content_type.as_str()).collect();
        assert_eq!(types, ["application/smil", "text/plain"]);
        assert!(s.parts.iter().all(|p| inline(&p.content_type)));
    }

    /// The batch path's `summarize` gives the summary `dissect` gives for a dissection holding
    /// only the PDU's buffer (what the batch path built before), on every corpus PDU, whole and
    /// cut at several points (the broken public PDUs and the truncations exercise the error
    /// and warning counts, which `summarize` counts without building the tree).
    #[test]
    fn summarize_equals_dissect_on_every_corpus_pdu() {
        let mut checked = 0;
        let mut typed = 0;
        let (mut with_errors, mut with_warnings, mut with_parts) = (0, 0, 0);
        for dir in ["tests/data/pdus", "tests/data/public"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut paths: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "json")))
                .collect();
            paths.sort();
            for path in paths {
                let bytes = std::fs::read(&path).unwrap();
                let n = bytes.len();
                let mut cuts = vec![n, n / 2, n / 3, n * 2 / 3, n.saturating_sub(1)];
                cuts.dedup();
                for cut in cuts {
                    let data = &bytes[..cut];
                    let mut d = Dissection::default();
                    let id = d.add_buffer(Buffer::new("HTTP body", data));
                    let full = dissect(&mut d, id);
                    assert_eq!(summarize(data), full, "{} cut at {cut}", path.display());
                    checked += 1;
                    typed += usize::from(full.message_type.is_some());
                    with_errors += usize::from(full.errors > 0);
                    with_warnings += usize::from(full.warnings > 0);
                    with_parts += usize::from(full.parts.len() > 1);
                }
            }
        }
        // The counts and parts are really compared, not only zeros and empty lists.
        assert!(with_errors >= 300, "{with_errors} summaries with errors");
        assert!(
            with_warnings >= 150,
            "{with_warnings} summaries with warnings"
        );
        assert!(
            with_parts >= 100,
            "{with_parts} summaries with several parts"
        );
        // Both corpora (110 PDUs), most of them decoding to a typed PDU.
        assert!(checked >= 500, "{checked} summaries compared");
        assert!(typed >= 400, "{typed} typed summaries");
    }
}
