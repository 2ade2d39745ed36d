//! The ladder (sequence) diagram: hosts as columns, PDUs as arrows, time going down.
//!
//! A host column is the service side "ip:port" (the lower port of the pair: the MMSC's 80, the
//! gateway's 9201, the handset's push port 2948) or the client side "ip" (its ephemeral port
//! changes with every connection, so it is left out). On loopback captures both sides share one
//! IP and still get two columns.

use super::app::{pdu_problem, problem_marker};
use super::theme::Theme;
use crate::model::{Analysis, PduRecord};
use crate::tree::{Severity, escape_text};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq)]
pub struct LadderRow {
    pub pdu: usize,
    pub from: usize,
    pub to: usize,
    /// Seconds since the first PDU of the diagram.
    pub time: f64,
    pub label: String,
    pub detail: String,
    pub problem: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ladder {
    pub hosts: Vec<String>,
    pub rows: Vec<LadderRow>,
}

fn host_keys(p: &PduRecord) -> (String, String) {
    let ip = |a: &SocketAddr| a.ip().to_string();
    let full = |a: &SocketAddr| a.to_string();
    match p.src.port().cmp(&p.dst.port()) {
        std::cmp::Ordering::Less => (full(&p.src), ip(&p.dst)),
        std::cmp::Ordering::Greater => (ip(&p.src), full(&p.dst)),
        std::cmp::Ordering::Equal => (full(&p.src), full(&p.dst)),
    }
}

/// The diagram of the PDUs of transactions `txs` (indices into `a.transactions`).
pub fn build(a: &Analysis, txs: &[usize]) -> Ladder {
    let mut pdus: Vec<usize> = txs
        .iter()
        .filter_map(|&t| a.transactions.get(t))
        .flat_map(|t| t.pdus.iter().copied())
        .filter(|&i| i < a.pdus.len())
        .collect();
    pdus.sort_unstable();
    pdus.dedup();
    let mut l = Ladder::default();
    let t0 = pdus.first().map(|&i| a.pdus[i].time);
    let col = |l: &mut Ladder, k: String| match l.hosts.iter().position(|h| *h == k) {
        Some(i) => i,
        None => {
            l.hosts.push(k);
            l.hosts.len() - 1
        }
    };
    for i in pdus {
        let p = &a.pdus[i];
        let (s, d) = host_keys(p);
        let from = col(&mut l, s);
        let to = col(&mut l, d);
        let mut label = p.mms.message_type.clone().unwrap_or_else(|| "?".into());
        if p.retransmission_of.is_some() {
            label.push_str(" (retransmission)");
        }
        let mut detail = format!("frame {}", p.frame);
        if let Some(tid) = &p.mms.transaction_id {
            detail.push_str(&format!("  {tid}"));
        }
        if let Some(st) = p
            .mms
            .response_status
            .as_ref()
            .or(p.mms.status.as_ref())
            .or(p.mms.retrieve_status.as_ref())
        {
            detail.push_str(&format!("  {st}"));
        }
        if !p.carrier.summary.is_empty() {
            detail.push_str(&format!("  {}", p.carrier.summary));
        }
        l.rows.push(LadderRow {
            pdu: i,
            from,
            to,
            time: t0.map_or(0.0, |t| t.seconds_until(p.time)),
            label: escape_text(&label),
            detail: escape_text(&detail),
            problem: pdu_problem(p),
        });
    }
    l
}

const TIME_W: usize = 12;

fn put(grid: &mut [char], at: usize, s: &str) {
    for (k, c) in s.chars().enumerate() {
        if let Some(g) = grid.get_mut(at + k) {
            *g = c;
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else if max == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Draw the diagram in `width` columns: two header lines (hosts) then two lines a PDU.
pub fn render(l: &Ladder, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let n = l.hosts.len().max(1);
    let area = width.saturating_sub(TIME_W).max(n * 4);
    let total = TIME_W + area;
    let colw = area / n;
    // lanes spread evenly, the outer ones far enough from the edges for half a host name
    let half = (l
        .hosts
        .iter()
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(0)
        .min(colw.saturating_sub(1))
        / 2)
        + 1;
    let (left, right) = (
        TIME_W + half,
        total.saturating_sub(half + 1).max(TIME_W + half),
    );
    let lanes: Vec<usize> = (0..n)
        .map(|i| {
            if n == 1 {
                left
            } else {
                left + i * (right - left) / (n - 1)
            }
        })
        .collect();
    let blank = || {
        let mut g = vec![' '; total];
        for &x in &lanes {
            g[x] = '│';
        }
        g
    };
    let mut out = Vec::new();
    let mut names = vec![' '; total];
    put(&mut names, 1, "time");
    for (i, h) in l.hosts.iter().enumerate() {
        let h = truncate(h, colw.saturating_sub(1).max(1));
        let w = h.chars().count();
        let x = lanes[i].saturating_sub(w / 2).max(TIME_W);
        put(&mut names, x, &h);
    }
    out.push(Line::styled(
        names.iter().collect::<String>(),
        theme.header(),
    ));
    out.push(Line::raw(blank().iter().collect::<String>()));
    for r in &l.rows {
        let style = r
            .problem
            .filter(|s| *s >= Severity::Warning)
            .map_or(Style::new(), |s| theme.severity(s));
        let mut g = blank();
        let (a, b) = (lanes[r.from], lanes[r.to]);
        let marker = problem_marker(r.problem);
        if a == b {
            put(
                &mut g,
                a + 1,
                &format!("─↺ {}", truncate(&r.label, total.saturating_sub(a + 4))),
            );
        } else {
            let (lo, hi) = (a.min(b), a.max(b));
            for c in g.iter_mut().take(hi).skip(lo + 1) {
                *c = '─';
            }
            if b > a {
                g[hi - 1] = '▶';
            } else {
                g[lo + 1] = '◀';
            }
            let room = hi - lo - 1;
            let label = truncate(&format!(" {} ", r.label), room.saturating_sub(2));
            let lw = label.chars().count();
            put(&mut g, lo + 1 + (room.saturating_sub(lw)) / 2, &label);
        }
        let time = format!("{:>+10.6}{} ", r.time, marker);
        let line: String = g[TIME_W..].iter().collect();
        let lead: String = g[..TIME_W].iter().skip(time.chars().count()).collect();
        out.push(Line::from(vec![
            Span::styled(time, theme.dim()),
            Span::styled(format!("{lead}{line}"), style),
        ]));
        let mut d = blank();
        let (lo, hi) = (a.min(b), a.max(b));
        let room = if hi > lo {
            hi - lo - 2
        } else {
            total.saturating_sub(lo + 2)
        };
        put(&mut d, lo + 2, &truncate(&r.detail, room));
        out.push(Line::styled(d.iter().collect::<String>(), theme.dim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;

    #[test]
    fn the_story_of_h_msg_0001_has_two_columns_and_four_arrows() {
        let a = fixture::http_mm1_basic();
        let l = build(&a, &[0, 2]);
        assert_eq!(l.hosts, ["127.0.0.1", "127.0.0.1:80"]);
        let dirs: Vec<(usize, usize)> = l.rows.iter().map(|r| (r.from, r.to)).collect();
        assert_eq!(dirs, [(0, 1), (1, 0), (1, 0), (0, 1)]);
        assert_eq!(l.rows[1].label, "m-send-conf");
        assert!((l.rows[1].time - 0.000950113).abs() < 1e-9);
    }

    #[test]
    fn arrows_point_from_sender_to_receiver() {
        let a = fixture::http_mm1_basic();
        let lines: Vec<String> = render(&build(&a, &[0]), 60, &Theme::plain())
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(lines[0].contains("127.0.0.1:80"));
        let req = &lines[2];
        assert!(req.contains("m-send-req"));
        assert!(req.contains("▶│"), "{req}");
        assert!(req.starts_with(" +0.000000"));
        let conf = &lines[4];
        assert!(conf.contains("│◀"), "{conf}");
        assert!(lines[5].contains("frame 8"));
    }
}
