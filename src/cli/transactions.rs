//! `mmscope transactions`: the MMS transactions of a capture, as a table or as JSON Lines.

use super::CliResult;
use super::live::{Feed, run_batch};
use crate::capture::live::CaptureOptions;
use crate::correlate::types::kind_name;
use crate::correlate::{self, Config, Correlator};
use crate::export::{iso8601, outcome_name, transaction_line, transaction_line_with_records};
use crate::filter::{Filter, quote};
use crate::model::{PduRecord, Transaction};
use crate::pipeline::{self, Event, Options};
use smallvec::SmallVec;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Filter options shared by `transactions` and `export` (docs/FILTERS.md). All given options
/// must match.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Filter expression, e.g. 'type == m-send-req and addr ~ "+1555"' (docs/FILTERS.md).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Only transactions with a PDU of this message type (m-send-req, send-conf, …).
    #[arg(long = "type", value_name = "TYPE")]
    pub msg_type: Option<String>,
    /// Only this X-Mms-Transaction-Id.
    #[arg(long, value_name = "ID")]
    pub tid: Option<String>,
    /// Only this Message-ID.
    #[arg(long, value_name = "ID")]
    pub msgid: Option<String>,
    /// Only transactions with a From/To/Cc/Bcc address containing this text.
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,
    /// Only transactions with a PDU at or after this time (2026-01-01T00:00:00Z or epoch
    /// seconds).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only transactions with a PDU at or before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only this status (Ok, Error-service-denied, Retrieved, …) or outcome (ok, failed,
    /// incomplete, orphan).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
}

impl FilterArgs {
    /// The filter all the options make together; a parse error names the option and shows the
    /// character offset.
    pub fn build(&self) -> Result<Filter, String> {
        let mut f = Filter::all();
        if let Some(expr) = &self.filter {
            let g = Filter::parse(expr).map_err(|e| {
                format!(
                    "--filter does not parse at character {}: {}\n  {}",
                    e.offset,
                    e.message,
                    e.render(expr).replace('\n', "\n  ")
                )
            })?;
            f = f.and(g);
        }
        let shortcut = |flag: &str, expr: String| {
            Filter::parse(&expr).map_err(|e| format!("{flag}: {}", e.message))
        };
        let q = |s: &String| quote(s);
        if let Some(v) = &self.msg_type {
            f = f.and(shortcut("--type", format!("type == {}", q(v)))?);
        }
        if let Some(v) = &self.tid {
            f = f.and(shortcut("--tid", format!("tid == {}", q(v)))?);
        }
        if let Some(v) = &self.msgid {
            f = f.and(shortcut("--msgid", format!("msgid == {}", q(v)))?);
        }
        if let Some(v) = &self.address {
            f = f.and(shortcut("--address", format!("addr ~ {}", q(v)))?);
        }
        if let Some(v) = &self.since {
            f = f.and(shortcut("--since", format!("time >= {}", q(v)))?);
        }
        if let Some(v) = &self.until {
            f = f.and(shortcut("--until", format!("time <= {}", q(v)))?);
        }
        if let Some(v) = &self.status {
            let l = v.to_ascii_lowercase();
            let expr = if ["ok", "failed", "incomplete", "orphan"].contains(&l.as_str()) {
                format!("outcome == {l} or status == {}", q(v))
            } else {
                format!("status == {}", q(v))
            };
            f = f.and(shortcut("--status", expr)?);
        }
        Ok(f)
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON Lines (one transaction per line, streamed as transactions complete) instead
    /// of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub live: super::live::LiveArgs,
    #[command(flatten)]
    pub live_correlation: super::live::LiveCorrelation,
    /// Capture file (pcap or pcapng); not with -i.
    #[arg(required_unless_present = "interfaces", conflicts_with = "interfaces")]
    pub file: Option<PathBuf>,
}

/// Read every PDU of a capture (records without their dissection), reporting capture notes on
/// stderr.
pub(crate) fn read_pdus(path: &Path) -> Result<Vec<PduRecord>, Box<dyn std::error::Error>> {
    let mut pdus = Vec::new();
    pipeline::run_file(path, &Options::default(), &mut |ev| match ev {
        Event::Pdu(p) => pdus.push(*p),
        Event::Note(n) => eprintln!("mmscope: {}: {n}", path.display()),
        Event::Progress { .. } => {}
    })
    .map_err(|e| e.to_string())?;
    Ok(pdus)
}

pub fn run(args: Args) -> CliResult {
    let filter = args.filters.build()?;
    if let Some(capture) = args.live.capture_options()? {
        let config = args.live_correlation.config();
        return if args.json {
            run_json_live(&capture, config, &filter)
        } else {
            run_table_live(&capture, config, &filter)
        };
    }
    let Some(file) = &args.file else {
        return Err("no capture given: FILE or -i IFACE".into());
    };
    if args.json {
        return run_json(file, &filter);
    }
    print_table(&read_pdus(file)?, Config::default(), &filter)
}

/// The transactions of `pdus` that pass `filter`, as the text table on stdout.
fn print_table(pdus: &[PduRecord], config: Config, filter: &Filter) -> CliResult {
    let txs: Vec<Transaction> = correlate::correlate_with(pdus, config)
        .into_iter()
        .filter(|t| filter.matches_transaction(t, pdus))
        .collect();
    let mut out = super::buffered_stdout();
    write_table(&mut out, &txs)?;
    out.flush()?;
    Ok(())
}

/// Live, table: capture until stopped, then print the table.
fn run_table_live(capture: &CaptureOptions, config: Config, filter: &Filter) -> CliResult {
    let mut pdus = Vec::new();
    run_batch(capture, &Options::default(), &mut |feed| {
        match feed {
            Feed::Event(Event::Pdu(p)) => pdus.push(*p),
            Feed::Event(Event::Note(n)) => eprintln!("mmscope: {n}"),
            _ => {}
        }
        true
    })?;
    print_table(&pdus, config, filter)
}

/// Live, JSON Lines: each transaction is written (and flushed) as soon as it is done, the
/// capture's clock ticking on a quiet link too.
fn run_json_live(capture: &CaptureOptions, config: Config, filter: &Filter) -> CliResult {
    let stdout = io::stdout();
    let mut out = LineFlush(stdout.lock());
    let read = |feed: &mut dyn FnMut(Feed) -> bool| {
        run_batch(capture, &Options::default(), feed)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut note = |n: String| eprintln!("mmscope: {n}");
    match stream_json_with(config, read, filter, &mut out, &mut note) {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        r => r.map(|_| ()),
    }
}

/// A writer that flushes at every end of line (live JSON Lines go to a pipe).
struct LineFlush<W: Write>(W);

impl<W: Write> Write for LineFlush<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        if buf[..n].contains(&b'\n') {
            self.0.flush()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Stream: PDUs are held only while their transaction is open.
fn run_json(path: &Path, filter: &Filter) -> CliResult {
    let mut out = super::buffered_stdout();
    let read = |sink: &mut dyn FnMut(Event)| {
        pipeline::run_file(path, &Options::default(), sink)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut note = |n: String| eprintln!("mmscope: {}: {n}", path.display());
    match stream_json(read, filter, &mut out, &mut note).and_then(|_| Ok(out.flush()?)) {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        r => r,
    }
}

/// The records of the open transactions, by record index.
type OpenPdus = crate::net::FlowMap<usize, Box<PduRecord>>;

/// Correlate the PDUs that `read` reports and write one JSON line per transaction matching
/// `filter`, as transactions complete (in order of their first PDU). PDU records are held only
/// while their transaction is open. Returns the largest number of records held at once.
pub fn stream_json(
    read: impl FnOnce(&mut dyn FnMut(Event)) -> Result<(), String>,
    filter: &Filter,
    out: &mut dyn Write,
    note: &mut dyn FnMut(String),
) -> Result<usize, Box<dyn std::error::Error>> {
    let read = |feed: &mut dyn FnMut(Feed) -> bool| {
        read(&mut |ev| {
            feed(Feed::Event(ev));
        })
    };
    stream_json_with(Config::default(), read, filter, out, note)
}

/// [`stream_json`] with the correlator's time limits and a clock: a [`Feed::Tick`] lets
/// capture time pass (a live capture on a quiet link), so that transactions done by then are
/// written at once. `read`'s feed returns `false` once writing failed (a live capture stops).
pub fn stream_json_with(
    config: Config,
    read: impl FnOnce(&mut dyn FnMut(Feed) -> bool) -> Result<(), String>,
    filter: &Filter,
    out: &mut dyn Write,
    note: &mut dyn FnMut(String),
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut corr = Correlator::with_config(config);
    // Boxed as the pipeline gives them, in a hash map: a `BTreeMap` of whole records moved
    // them within its nodes at every insertion and removal.
    let mut open_pdus: OpenPdus = OpenPdus::default();
    let mut write_err: Option<io::Error> = None;
    let mut most_held = 0;
    let mut line = Vec::new();
    let emit = |txs: Vec<Transaction>,
                open_pdus: &mut OpenPdus,
                line: &mut Vec<u8>,
                out: &mut dyn Write,
                write_err: &mut Option<io::Error>| {
        for tx in txs {
            // Inline for the usual few records: two allocations a transaction less.
            let boxed: SmallVec<[Box<PduRecord>; 4]> =
                tx.pdus.iter().filter_map(|i| open_pdus.remove(i)).collect();
            if write_err.is_some() {
                continue;
            }
            // Read where they are: a record is several hundred bytes, and moving every one out
            // of its box into a slice was a visible part of the main thread.
            let recs: SmallVec<[&PduRecord; 4]> = boxed.iter().map(|p| &**p).collect();
            if !filter.matches_transaction_records(&tx, &recs) {
                continue;
            }
            line.clear();
            let written = if recs.len() == tx.pdus.len() {
                transaction_line_with_records(line, &tx, &recs)
            } else {
                // A record missing (not expected: each was held until its transaction ended):
                // looked up by index, as in a whole capture.
                let owned: Vec<PduRecord> = recs.iter().map(|&p| p.clone()).collect();
                transaction_line(line, &tx, &owned)
            };
            if let Err(e) = written
                .map_err(io::Error::other)
                .and_then(|_| out.write_all(line))
            {
                *write_err = Some(e);
            }
        }
    };
    read(&mut |feed| {
        match feed {
            Feed::Event(Event::Pdu(p)) => {
                let done = corr.push(&p);
                open_pdus.insert(p.index, p);
                most_held = most_held.max(open_pdus.len());
                emit(done, &mut open_pdus, &mut line, &mut *out, &mut write_err);
            }
            Feed::Event(Event::Note(n)) => note(n),
            Feed::Event(Event::Progress { .. }) => {}
            Feed::Tick(now) => {
                let done = corr.advance(now);
                emit(done, &mut open_pdus, &mut line, &mut *out, &mut write_err);
            }
        }
        write_err.is_none()
    })?;
    let rest = corr.finish();
    emit(rest, &mut open_pdus, &mut line, &mut *out, &mut write_err);
    match write_err {
        Some(e) => Err(e.into()),
        None => Ok(most_held),
    }
}

/// The text table: kind, ids, frames, types, start, duration, status.
pub fn write_table(w: &mut dyn Write, txs: &[Transaction]) -> io::Result<()> {
    let header = [
        "#",
        "kind",
        "ids",
        "frames",
        "types",
        "start (UTC)",
        "duration",
        "status",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
    for tx in txs {
        let mut ids = Vec::new();
        if let Some(t) = &tx.transaction_id {
            ids.push(format!("tid={t}"));
        }
        if let Some(m) = &tx.message_id {
            ids.push(format!("msgid={m}"));
        }
        if let Some(c) = &tx.content_location {
            ids.push(format!("cl={c}"));
        }
        let types: Vec<&str> = tx
            .message_types
            .iter()
            .map(|t| t.strip_prefix("m-").unwrap_or(t))
            .collect();
        let outcome = outcome_name(&tx.outcome);
        let status = if tx.status.eq_ignore_ascii_case(outcome) {
            outcome.to_string()
        } else {
            format!("{outcome} ({})", tx.status)
        };
        // Ids and status are text from the PDUs: escaped, so they cannot drive the terminal.
        let esc = crate::tree::escape_text;
        rows.push([
            tx.index.to_string(),
            kind_name(tx.kind).to_string(),
            esc(&ids.join(" ")),
            tx.frames
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            esc(&types.join(",")),
            iso8601(tx.start),
            format!("{:.3}s", tx.duration),
            esc(&status),
        ]);
    }
    let mut widths = header.map(str::len);
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            widths[k] = widths[k].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (k, c) in cells.iter().enumerate() {
            if k + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = widths[k]));
            }
        }
        s
    };
    writeln!(w, "{}", line(header.to_vec()))?;
    for r in &rows {
        writeln!(w, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    writeln!(w, "{} transactions", rows.len())?;
    Ok(())
}
