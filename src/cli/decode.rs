//! `mmscope decode`: decode one raw MMS PDU file and print its tree (text like `tshark -V`, each
//! line with its byte range) or one JSON object.

use super::CliResult;
use crate::tree::{Buffer, Dissection, Node, Severity};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Input file.
    pub file: PathBuf,
}

/// Decode `data` as one MMS PDU into a fresh dissection (buffer 0 = the file).
pub fn decode_bytes(name: &str, data: Vec<u8>) -> (Dissection, crate::model::MmsSummary) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new(name, data));
    let s = crate::mms::dissect(&mut d, id);
    (d, s)
}

fn write_node(out: &mut String, d: &Dissection, n: &Node, depth: usize) {
    let indent = "    ".repeat(depth);
    let buf = if n.buffer == 0 {
        String::new()
    } else {
        let name = d
            .buffers
            .get(usize::from(n.buffer))
            .map(|b| b.name.as_str())
            .unwrap_or("?");
        format!(
            " in buffer {} \"{}\"",
            n.buffer,
            crate::tree::escape_text(name)
        )
    };
    let range = format!("[{}..{}{buf}]", n.range.start, n.range.end);
    let line = match n.expert {
        Some(sev) => {
            let s = match sev {
                Severity::Note => "Note",
                Severity::Warning => "Warning",
                Severity::Error => "Error",
            };
            format!("[{s}: {}] {}", n.name, n.display)
        }
        None if n.display.is_empty() => n.name.clone(),
        None => format!("{}: {}", n.name, n.display),
    };
    let _ = writeln!(out, "{indent}{line}  {range}");
    for c in &n.children {
        write_node(out, d, c, depth + 1);
    }
}

/// The text rendering of a dissection: one line per node, indented by depth.
pub fn render_text(d: &Dissection) -> String {
    let mut out = String::new();
    for l in &d.layers {
        write_node(&mut out, d, l, 0);
    }
    out
}

/// The JSON object of `mmscope decode --json`.
pub fn render_json(
    file: &str,
    size: usize,
    d: &Dissection,
    s: &crate::model::MmsSummary,
) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    obj.insert("file".into(), file.into());
    obj.insert("size".into(), size.into());
    if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(s) {
        obj.extend(m);
    }
    obj.insert(
        "buffers".into(),
        serde_json::to_value(&d.buffers).unwrap_or_default(),
    );
    obj.insert(
        "tree".into(),
        serde_json::to_value(&d.layers).unwrap_or_default(),
    );
    serde_json::Value::Object(obj)
}

pub fn run(args: Args) -> CliResult {
    let data = std::fs::read(&args.file)
        .map_err(|e| format!("{}: cannot read: {e}", args.file.display()))?;
    let size = data.len();
    let file = args.file.display().to_string();
    let (d, s) = decode_bytes(&file, data);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&render_json(&file, size, &d, &s))?
        );
    } else {
        print!("{}", render_text(&d));
    }
    Ok(())
}
