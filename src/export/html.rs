//! Self-contained HTML export: a ladder diagram in inline SVG (endpoints as columns, PDUs as
//! arrows, time down the page) and a table of the transactions. No script, no external
//! resource (the Content-Security-Policy forbids them); every string is HTML-escaped.

use super::{Timeline, html_escape as esc, iso8601, outcome_name, pdu_label};
use crate::correlate::types::kind_name;
use crate::correlate::{PduRole, explain};
use std::io::{self, Write};

const PALETTE: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];
const LEFT: usize = 200;
const COL_W: usize = 190;
const TOP: usize = 70;
const ROW_H: usize = 38;

const STYLE: &str = "
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
.ladder { overflow-x: auto; border: 1px solid #ccc; margin-bottom: 1.5em; }
svg text { font-family: monospace; font-size: 12px; }
svg .host text { font-weight: bold; }
svg .lifeline { stroke: #999; stroke-dasharray: 4 4; }
svg .arrow { stroke-width: 2; }
svg .response .arrow { stroke-dasharray: 8 4; }
svg .retransmission .arrow { stroke-dasharray: 2 3; }
svg .time { fill: #555; }
svg .label { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.ok { color: #2a7a2a; } td.failed, td.orphan { color: #b22; } td.incomplete { color: #b60; }
";

pub fn write_html(w: &mut dyn Write, t: &Timeline) -> io::Result<()> {
    let rows = t.rows();
    let origin = t.origin();
    let mut hosts: Vec<String> = Vec::new();
    for (p, _, _) in &rows {
        for ep in [p.src.to_string(), p.dst.to_string()] {
            if !hosts.contains(&ep) {
                hosts.push(ep);
            }
        }
    }
    let x_of =
        |ep: &str| LEFT + COL_W / 2 + hosts.iter().position(|h| h == ep).unwrap_or(0) * COL_W;
    let width = LEFT + hosts.len().max(1) * COL_W + 20;
    let height = TOP + rows.len() * ROW_H + 30;

    writeln!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(w, "<title>mmscope timeline: {}</title>", esc(t.source))?;
    writeln!(w, "<style>{STYLE}</style>\n</head>\n<body>")?;
    writeln!(w, "<h1>MMS timeline: {}</h1>", esc(t.source))?;
    writeln!(
        w,
        "<p>{} transactions, {} PDUs, from {}. Solid arrows: requests; dashed: responses; dotted: retransmissions.</p>",
        t.transactions.len(),
        rows.len(),
        esc(&iso8601(origin))
    )?;

    writeln!(w, "<div class=\"ladder\">")?;
    writeln!(
        w,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"ladder\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"ladder diagram\">"
    )?;
    writeln!(w, "<defs>")?;
    for (i, c) in PALETTE.iter().enumerate() {
        writeln!(
            w,
            "<marker id=\"head{i}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{c}\"/></marker>"
        )?;
    }
    writeln!(w, "</defs>")?;
    writeln!(
        w,
        "<text x=\"10\" y=\"32\" class=\"time\">time, frame</text>"
    )?;
    for h in &hosts {
        let x = x_of(h);
        writeln!(
            w,
            "<g class=\"host\"><rect x=\"{}\" y=\"12\" width=\"{}\" height=\"30\" fill=\"#eef\" stroke=\"#669\"/><text x=\"{x}\" y=\"32\" text-anchor=\"middle\">{}</text></g>",
            x - (COL_W - 20) / 2,
            COL_W - 20,
            esc(h)
        )?;
        writeln!(
            w,
            "<line class=\"lifeline\" x1=\"{x}\" y1=\"42\" x2=\"{x}\" y2=\"{}\"/>",
            height - 10
        )?;
    }
    for (k, (p, tx, role)) in rows.iter().enumerate() {
        let y = TOP + k * ROW_H + 14;
        let (x1, x2) = (x_of(&p.src.to_string()), x_of(&p.dst.to_string()));
        let color_i = tx.index % PALETTE.len();
        let color = PALETTE[color_i];
        let mut classes = vec!["pdu"];
        if p.carrier.is_response {
            classes.push("response");
        }
        match role {
            PduRole::Leg { .. } => classes.push("leg"),
            PduRole::Retransmission { .. } => classes.push("retransmission"),
            PduRole::First => {}
        }
        let mut label = pdu_label(p);
        if let PduRole::Retransmission { .. } = role {
            label.push_str(" (retransmission)");
        }
        let title = format!(
            "{} | frame {} | {} | {} -> {} | {} {} | transaction #{} {}: {}",
            label,
            p.frame,
            iso8601(p.time),
            p.src,
            p.dst,
            p.transport.as_str(),
            p.carrier.summary,
            tx.index,
            kind_name(tx.kind),
            tx.status
        );
        writeln!(
            w,
            "<g class=\"{}\" data-tx=\"{}\" data-frame=\"{}\" data-type=\"{}\"><title>{}</title>",
            classes.join(" "),
            tx.index,
            p.frame,
            esc(&crate::correlate::types::display_type(&p.mms)),
            esc(&title)
        )?;
        writeln!(
            w,
            "<text class=\"time\" x=\"10\" y=\"{}\">+{:.3} s  f{}</text>",
            y + 4,
            origin.seconds_until(p.time),
            p.frame
        )?;
        writeln!(
            w,
            "<line class=\"arrow\" x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"{color}\" marker-end=\"url(#head{color_i})\"/>"
        )?;
        writeln!(
            w,
            "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{color}\">{}</text></g>",
            (x1 + x2) / 2,
            y - 5,
            esc(&label)
        )?;
    }
    writeln!(w, "</svg>\n</div>")?;

    writeln!(w, "<h2>Transactions</h2>\n<table id=\"transactions\">")?;
    writeln!(
        w,
        "<tr><th>#</th><th>kind</th><th>transaction id</th><th>message id</th><th>content location</th><th>frames</th><th>message types</th><th>start (UTC)</th><th>duration</th><th>outcome</th><th>status</th><th>story</th><th>note</th></tr>"
    )?;
    for tx in t.transactions {
        let o = outcome_name(&tx.outcome);
        let frames: Vec<String> = tx.frames.iter().map(u64::to_string).collect();
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3} s</td><td class=\"{o}\">{o}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            tx.index,
            kind_name(tx.kind),
            esc(tx.transaction_id.as_deref().unwrap_or("")),
            esc(tx.message_id.as_deref().unwrap_or("")),
            esc(tx.content_location.as_deref().unwrap_or("")),
            frames.join(" "),
            esc(&tx.message_types.join(", ")),
            esc(&iso8601(tx.start)),
            tx.duration,
            esc(&tx.status),
            tx.story.map(|s| s.to_string()).unwrap_or_default(),
            esc(&explain(tx)),
        )?;
    }
    writeln!(w, "</table>")?;

    writeln!(w, "<h2>PDUs</h2>\n<table id=\"pdus\">")?;
    writeln!(
        w,
        "<tr><th>frame</th><th>time (UTC)</th><th>source</th><th>destination</th><th>transport</th><th>carrier</th><th>message type</th><th>transaction id</th><th>message id</th><th>transaction</th><th>role</th></tr>"
    )?;
    for (p, tx, role) in &rows {
        let role = match role {
            PduRole::First => "first".to_string(),
            PduRole::Leg { of } => format!("leg of record {of}"),
            PduRole::Retransmission { of } => format!("retransmission of record {of}"),
        };
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
            p.frame,
            esc(&iso8601(p.time)),
            esc(&p.src.to_string()),
            esc(&p.dst.to_string()),
            p.transport.as_str(),
            esc(&p.carrier.summary),
            esc(&crate::correlate::types::display_type(&p.mms)),
            esc(p.mms.transaction_id.as_deref().unwrap_or("")),
            esc(p.mms.message_id.as_deref().unwrap_or("")),
            tx.index,
            kind_name(tx.kind),
            esc(&role),
        )?;
    }
    writeln!(w, "</table>\n</body>\n</html>")?;
    Ok(())
}
