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

/// Largest PDU file `decode` reads (an MMS message is at most a few MB; this bound keeps
/// `mmscope decode /dev/zero` from exhausting memory).
pub const MAX_PDU_FILE: u64 = 64 * 1024 * 1024;

/// Read a PDU file: refuses directories, empty files and files over [`MAX_PDU_FILE`], each
/// with a message naming the file.
fn read_pdu_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{name}: is a directory, not a PDU file"));
    }
    let mut data = Vec::new();
    file.take(MAX_PDU_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    if data.is_empty() {
        return Err(format!("{name}: empty file (0 bytes), nothing to decode"));
    }
    if data.len() as u64 > MAX_PDU_FILE {
        return Err(format!(
            "{name}: larger than {MAX_PDU_FILE} bytes, too large for one MMS PDU"
        ));
    }
    Ok(data)
}

pub fn run(args: Args) -> CliResult {
    let data = read_pdu_file(&args.file)?;
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
