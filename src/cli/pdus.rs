//! `mmscope pdus`: one line (or one JSON object) per MMS PDU found in a capture.

use super::CliResult;
use super::live::Feed;
use crate::export::pdu_line;
use crate::model::PduRecord;
use crate::pipeline::{self, Event, Options};
use crate::tree::escape_text;
use compact_str::CompactString;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON Lines, one object per PDU.
    #[arg(long, conflicts_with = "fields")]
    pub json: bool,
    /// Print frame, message type code (0xNN), transaction id and message id, tab-separated:
    /// the same columns as `tshark -T fields -e frame.number -e mmse.message_type
    /// -e mmse.transaction_id -e mmse.message_id`, so the two can be compared with `diff`.
    #[arg(long)]
    pub fields: bool,
    /// Also list PDUs that are retransmissions of one already listed (WTP RID, duplicates).
    #[arg(long)]
    pub retransmissions: bool,
    #[command(flatten)]
    pub live: super::live::LiveArgs,
    /// Capture file (pcap or pcapng); not with -i.
    #[arg(required_unless_present = "interfaces", conflicts_with = "interfaces")]
    pub file: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    let mut out = super::buffered_stdout();
    let mut write_error: Option<std::io::Error> = None;
    let mut notes = Vec::new();
    let mut line = Vec::new();
    let opts = Options::default();
    let capture = args.live.capture_options()?;
    // live: each line goes out as its PDU is found (stdout is usually a pipe)
    let flush_each = capture.is_some();
    // returns false once stdout failed (a live capture then stops)
    let mut sink = |event: Event| -> bool {
        match event {
            Event::Pdu(pdu) => {
                if write_error.is_some()
                    || (pdu.retransmission_of.is_some() && !args.retransmissions)
                {
                    return write_error.is_none();
                }
                let r = if args.fields {
                    writeln!(out, "{}", fields_line(&pdu))
                } else if args.json {
                    // Built in a buffer of its own and written in one piece: serde_json writing
                    // to the `BufWriter` piece by piece escaped strings byte by byte.
                    line.clear();
                    pdu_line(&mut line, &pdu)
                        .map_err(std::io::Error::other)
                        .and_then(|_| {
                            line.push(b'\n');
                            out.write_all(&line)
                        })
                } else {
                    writeln!(out, "{}", text_line(&pdu))
                };
                let r = r.and_then(|_| if flush_each { out.flush() } else { Ok(()) });
                if let Err(e) = r {
                    write_error = Some(e);
                }
            }
            Event::Note(n) if flush_each => eprintln!("mmscope: {n}"),
            Event::Note(n) => notes.push(n),
            Event::Progress { .. } => {}
        }
        write_error.is_none()
    };
    let (result, source) = match (&capture, &args.file) {
        (Some(c), _) => {
            let r = super::live::run_batch(c, &opts, &mut |feed| match feed {
                Feed::Event(ev) => sink(ev),
                Feed::Tick(_) => true,
            });
            (r.map(|_| ()), c.interfaces.join(","))
        }
        (None, Some(file)) => (
            pipeline::run_file(file, &opts, &mut |ev| {
                sink(ev);
            })
            .map(|_| ())
            .map_err(|e| e as Box<dyn std::error::Error>),
            file.display().to_string(),
        ),
        (None, None) => return Err("no capture given: FILE or -i IFACE".into()),
    };
    out.flush()?;
    for n in &notes {
        eprintln!("mmscope: {source}: {n}");
    }
    if let Some(e) = write_error {
        // A closed pipe (`| head`) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    result
}

/// `frame<TAB>0xNN<TAB>tid<TAB>msgid`, empty where a field is absent (as tshark prints it).
pub fn fields_line(p: &PduRecord) -> String {
    let code = p
        .mms
        .message_type_code
        .map(|c| format!("0x{c:02x}"))
        .unwrap_or_default();
    let text = |o: &Option<CompactString>| o.as_deref().map(escape_text).unwrap_or_default();
    format!(
        "{}\t{}\t{}\t{}",
        p.frame,
        code,
        text(&p.mms.transaction_id),
        text(&p.mms.message_id)
    )
}

/// `frame  time  src -> dst  transport  type  tid  msgid  subject`
pub fn text_line(p: &PduRecord) -> String {
    let dash =
        |o: &Option<CompactString>| o.as_deref().map(escape_text).unwrap_or_else(|| "-".into());
    let mut line = format!(
        "{:>6} {:>17.6} {:>21} -> {:<21} {:<8} {:<18} tid={} msgid={}",
        p.frame,
        p.time.as_f64(),
        p.src.to_string(),
        p.dst.to_string(),
        p.transport.as_str(),
        dash(&p.mms.message_type),
        dash(&p.mms.transaction_id),
        dash(&p.mms.message_id),
    );
    if let Some(s) = &p.mms.subject {
        line.push_str(&format!(" subject=\"{}\"", escape_text(s)));
    }
    if p.mms.errors > 0 {
        line.push_str(&format!(" [{} error(s)]", p.mms.errors));
    }
    if let Some(orig) = p.retransmission_of {
        line.push_str(&format!(" [retransmission of #{orig}]"));
    }
    line
}
