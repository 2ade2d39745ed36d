//! Drawing the screen from the [`App`] state. The only state written here is what the layout
//! decides: scroll offsets that keep selections visible, pane areas (for the mouse), page size.

use super::app::{
    App, InputKind, ListMode, Pane, Popup, TimeFormat, kind_name, outcome_text, pdu_problem,
    problem_marker,
};
use super::{hex, ladder, treeview};
use crate::model::{PduRecord, Transaction};
use crate::tree::{Severity, escape_text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `s` cut or padded to exactly `w` characters (cut ones end in "…").
pub fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        let mut t = s.to_string();
        t.extend(std::iter::repeat_n(' ', w - n));
        t
    } else if w == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(w - 1).collect();
        t.push('…');
        t
    }
}

fn pane_block<'a>(app: &App, pane: Pane, title: String) -> Block<'a> {
    let focused = app.focus == pane;
    let mark = if focused { "▶ " } else { "" };
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(app.theme.border(focused))
        .title(Span::styled(
            format!(" {mark}{title} "),
            if focused {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            },
        ))
}

/// The whole screen.
pub fn draw(f: &mut Frame, app: &mut App) {
    app.ensure_selected_decoded();
    let area = f.area();
    // the filter's error under the bar, wrapped over up to six lines (a third of the screen)
    let error_lines = match &app.input {
        Some(i) if i.kind == InputKind::Filter => i.error.as_ref().map_or(0, |e| {
            let len = filter_error_text(i, e).chars().count();
            let max = (area.height / 3).clamp(1, 6) as usize;
            len.div_ceil(area.width.max(1) as usize).clamp(1, max) as u16
        }),
        _ => 0,
    };
    let [filter_bar, filter_err, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(error_lines),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);

    layout_panes(app, main);
    let a = app.areas;
    if a.list.width > 0 {
        match app.mode {
            ListMode::Transactions => draw_tx_list(f, app, a.list),
            ListMode::Pdus => draw_flat_list(f, app, a.list),
        }
    }
    if a.pdus.width > 0 {
        draw_tx_pdus(f, app, a.pdus);
    }
    if a.tree.width > 0 {
        draw_tree(f, app, a.tree);
    }
    if a.hex.width > 0 {
        draw_hex(f, app, a.hex);
    }
    let focused = match app.focus {
        Pane::List => a.list,
        Pane::Pdus => a.pdus,
        Pane::Tree => a.tree,
        Pane::Hex => a.hex,
    };
    app.page = focused.height.saturating_sub(3).max(1) as usize;
    draw_filter_bar(f, app, filter_bar, filter_err);
    draw_status(f, app, status);
    app.areas.popup = None;
    if app.popup.is_some() {
        draw_popup(f, app, main);
    }
}

fn layout_panes(app: &mut App, main: Rect) {
    let mut a = super::app::Areas::default();
    if app.zoom {
        match app.focus {
            Pane::List => a.list = main,
            Pane::Pdus => a.pdus = main,
            Pane::Tree => a.tree = main,
            Pane::Hex => a.hex = main,
        }
    } else if main.width >= 160 {
        let [left, right] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(main);
        match app.mode {
            ListMode::Transactions => {
                [a.list, a.pdus] =
                    Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                        .areas(left);
            }
            ListMode::Pdus => a.list = left,
        }
        [a.tree, a.hex] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(right);
    } else {
        match app.mode {
            ListMode::Transactions => {
                // at least a header and two rows in each list, the tree gets what is left
                let h = main.height;
                let list = (h * 25 / 100).max(5);
                let pdus = (h * 20 / 100).max(5);
                let hex = (h * 25 / 100).max(4);
                [a.list, a.pdus, a.tree, a.hex] = Layout::vertical([
                    Constraint::Length(list),
                    Constraint::Length(pdus),
                    Constraint::Fill(1),
                    Constraint::Length(hex),
                ])
                .areas(main);
            }
            ListMode::Pdus => {
                [a.list, a.tree, a.hex] = Layout::vertical([
                    Constraint::Percentage(35),
                    Constraint::Percentage(35),
                    Constraint::Percentage(30),
                ])
                .areas(main);
            }
        }
    }
    app.areas = a;
}

/// Render `rows` (already cut to the visible window) under a header in a bordered block.
fn draw_rows(f: &mut Frame, block: Block, area: Rect, header: Option<Line>, rows: Vec<Line>) {
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = Vec::new();
    if let Some(h) = header {
        lines.push(h);
    }
    lines.extend(rows);
    f.render_widget(Paragraph::new(lines), inner);
}

fn select_style(app: &App, pane: Pane, selected: bool, line: Line<'static>) -> Line<'static> {
    if selected {
        line.patch_style(app.theme.selected(app.focus == pane))
    } else {
        line
    }
}

fn mark(selected: bool) -> &'static str {
    if selected { "▶ " } else { "  " }
}

fn duration_text(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.3} s")
    }
}

fn tx_line(app: &App, t: &Transaction, selected: bool, width: usize) -> Line<'static> {
    let problem = t
        .pdus
        .iter()
        .filter_map(|&i| app.analysis.pdus.get(i))
        .filter_map(pdu_problem)
        .max();
    let spans = vec![
        Span::raw(mark(selected)),
        Span::styled(
            format!("{} ", problem_marker(problem)),
            problem.map_or(Style::new(), |s| app.theme.severity(s)),
        ),
        Span::raw(format!("{:>3} ", t.index + 1)),
        Span::raw(fit(kind_name(t.kind), 13)),
        Span::styled(
            fit(outcome_text(&t.outcome), 11),
            app.theme.outcome(&t.outcome),
        ),
        Span::raw(fit(
            &escape_text(t.transaction_id.as_deref().unwrap_or("-")),
            15,
        )),
        Span::raw(fit(
            &escape_text(t.message_id.as_deref().unwrap_or("-")),
            21,
        )),
        Span::raw(format!("{:>4} ", t.pdus.len())),
        Span::raw(format!("{:>9} ", duration_text(t.duration))),
        Span::raw(fit(&escape_text(&t.status), 13)),
        Span::raw(escape_text(&t.endpoints.join(" "))),
    ];
    let mut line = Line::from(spans);
    truncate_line(&mut line, width);
    line
}

/// Cut a line's spans to `width` characters.
fn truncate_line(line: &mut Line<'static>, width: usize) {
    let mut left = width;
    for s in line.spans.iter_mut() {
        let n = s.content.chars().count();
        if n > left {
            s.content = s.content.chars().take(left).collect::<String>().into();
            left = 0;
        } else {
            left -= n;
        }
    }
}

fn tx_header(width: usize) -> Line<'static> {
    let mut l = Line::raw(format!(
        "  ! {:>3} {}{}{}{}{:>4} {:>9} {}{}",
        "#",
        fit("Kind", 13),
        fit("Outcome", 11),
        fit("Transaction-Id", 15),
        fit("Message-Id", 21),
        "PDUs",
        "Duration",
        fit("Status", 13),
        "Endpoints"
    ));
    truncate_line(&mut l, width);
    l
}

fn draw_tx_list(f: &mut Frame, app: &mut App, area: Rect) {
    let inner_h = area.height.saturating_sub(3) as usize;
    let n = app.shown_tx.len();
    app.tx_sel.scroll_into_view(inner_h, n);
    let width = area.width.saturating_sub(2) as usize;
    let total = app.analysis.transactions.len();
    let title = if app.filter.is_some() {
        format!("Transactions ({n} of {total} shown)")
    } else {
        format!("Transactions ({total})")
    };
    let mut rows = Vec::new();
    for k in app.tx_sel.offset..(app.tx_sel.offset + inner_h).min(n) {
        let t = &app.analysis.transactions[app.shown_tx[k]];
        let sel = k == app.tx_sel.index;
        rows.push(select_style(
            app,
            Pane::List,
            sel,
            tx_line(app, t, sel, width),
        ));
    }
    if n == 0 {
        rows.push(Line::styled(
            empty_list_text(app, "transactions"),
            app.theme.dim(),
        ));
    }
    let header = tx_header(width).style(app.theme.header());
    draw_rows(
        f,
        pane_block(app, Pane::List, title),
        area,
        Some(header),
        rows,
    );
}

fn empty_list_text(app: &App, what: &str) -> String {
    if !app.load.done && app.load.live.is_some() {
        format!("  capturing… no {what} yet")
    } else if !app.load.done {
        format!("  reading the capture… no {what} yet")
    } else if app.filter.is_some() {
        format!("  no {what} match the filter")
    } else if let Some(e) = &app.load.error {
        format!("  no {what}: {}", escape_text(e))
    } else {
        format!("  no {what} in this capture")
    }
}

/// Seconds since the epoch as "HH:MM:SS.ffffff" UTC (the date is the capture's, in the title).
pub fn time_of_day(t: crate::model::Timestamp) -> String {
    let secs = t.secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        t.nanos / 1000
    )
}

fn time_text(app: &App, p: &PduRecord, prev: Option<&PduRecord>) -> String {
    match app.time_format {
        TimeFormat::SinceFirst => {
            format!(
                "{:.6}",
                app.base_time.map_or(0.0, |b| b.seconds_until(p.time))
            )
        }
        TimeFormat::Delta => format!("{:+.6}", prev.map_or(0.0, |q| q.time.seconds_until(p.time))),
        TimeFormat::Absolute => time_of_day(p.time),
    }
}

fn time_width(app: &App) -> usize {
    match app.time_format {
        TimeFormat::Absolute => 16,
        _ => 11,
    }
}

fn pdu_header(app: &App, width: usize) -> Line<'static> {
    let time = match app.time_format {
        TimeFormat::SinceFirst => "Time",
        TimeFormat::Delta => "Δ prev",
        TimeFormat::Absolute => "Time (UTC)",
    };
    let mut l = Line::raw(format!(
        "  ! {}{}  {}{}{}{}",
        fit("Frame", 7),
        fit(time, time_width(app)),
        fit("Message type", 19),
        fit("Source → Destination", 34),
        fit("Carrier", 9),
        "Info"
    ));
    truncate_line(&mut l, width);
    l
}

fn pdu_info(p: &PduRecord) -> String {
    let m = &p.mms;
    let mut parts = Vec::new();
    if let Some(t) = &m.transaction_id {
        parts.push(t.clone());
    }
    if let Some(s) = m
        .response_status
        .as_ref()
        .or(m.status.as_ref())
        .or(m.retrieve_status.as_ref())
    {
        parts.push(s.clone());
    }
    if p.retransmission_of.is_some() {
        parts.push("[retransmission]".into());
    }
    if !p.carrier.summary.is_empty() {
        parts.push(p.carrier.summary.clone());
    }
    escape_text(&parts.join("  "))
}

/// MM1 seen with the handset on the left: `→` handset to network (requests the handset sends),
/// `←` network to handset (responses, WAP pushes, PAP push submissions).
pub fn direction_arrow(p: &PduRecord) -> &'static str {
    use crate::model::Transport;
    if p.carrier.is_response || matches!(p.transport, Transport::WspPush | Transport::Pap) {
        "←"
    } else {
        "→"
    }
}

fn pdu_line(
    app: &App,
    p: &PduRecord,
    prev: Option<&PduRecord>,
    arrow: &str,
    selected: bool,
    width: usize,
) -> Line<'static> {
    let problem = pdu_problem(p);
    let mut line = Line::from(vec![
        Span::raw(mark(selected)),
        Span::styled(
            format!("{} ", problem_marker(problem)),
            problem.map_or(Style::new(), |s| app.theme.severity(s)),
        ),
        Span::raw(fit(&p.frame.to_string(), 7)),
        Span::raw(fit(&time_text(app, p, prev), time_width(app))),
        Span::raw(format!("{arrow} ")),
        Span::styled(
            fit(
                &escape_text(p.mms.message_type.as_deref().unwrap_or("?")),
                19,
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(fit(&format!("{} → {}", p.src, p.dst), 34)),
        Span::raw(fit(p.transport.as_str(), 9)),
        Span::raw(pdu_info(p)),
    ]);
    truncate_line(&mut line, width);
    line
}

/// A pane listing PDUs (`list` holds record indices) under the PDU column header, `sel` its
/// selection after scrolling: each row against the PDU above it, as `pdu_line` draws it;
/// `empty` is shown when the list is.
#[allow(clippy::too_many_arguments)]
fn draw_pdu_list(
    f: &mut Frame,
    app: &App,
    area: Rect,
    pane: Pane,
    sel: super::app::Sel,
    list: &[usize],
    title: String,
    empty: Option<Line<'static>>,
) {
    let inner_h = area.height.saturating_sub(3) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let pdu = |k: usize| app.analysis.pdus.get(list[k]);
    let mut rows = Vec::new();
    for k in sel.offset..(sel.offset + inner_h).min(list.len()) {
        let Some(p) = pdu(k) else {
            continue;
        };
        let prev = k.checked_sub(1).and_then(pdu);
        let selected = k == sel.index;
        let line = pdu_line(app, p, prev, direction_arrow(p), selected, width);
        rows.push(select_style(app, pane, selected, line));
    }
    if list.is_empty() {
        rows.extend(empty);
    }
    let header = pdu_header(app, width).style(app.theme.header());
    draw_rows(f, pane_block(app, pane, title), area, Some(header), rows);
}

fn draw_tx_pdus(f: &mut Frame, app: &mut App, area: Rect) {
    let Some(t) = app.selected_tx().cloned() else {
        let rows = vec![Line::styled("  no transaction selected", app.theme.dim())];
        draw_rows(
            f,
            pane_block(app, Pane::Pdus, "PDUs".into()),
            area,
            None,
            rows,
        );
        return;
    };
    let inner_h = area.height.saturating_sub(3) as usize;
    app.txpdu_sel.scroll_into_view(inner_h, t.pdus.len());
    let title = format!(
        "PDUs of transaction {} ({}, {})",
        t.index + 1,
        kind_name(t.kind),
        escape_text(t.transaction_id.as_deref().unwrap_or("no id"))
    );
    draw_pdu_list(
        f,
        app,
        area,
        Pane::Pdus,
        app.txpdu_sel,
        &t.pdus,
        title,
        None,
    );
}

fn draw_flat_list(f: &mut Frame, app: &mut App, area: Rect) {
    let inner_h = area.height.saturating_sub(3) as usize;
    let n = app.shown_pdus.len();
    app.flat_sel.scroll_into_view(inner_h, n);
    let total = app.analysis.pdus.len();
    let title = if app.filter.is_some() {
        format!("All PDUs ({n} of {total} shown)")
    } else {
        format!("All PDUs ({total})")
    };
    let empty = Line::styled(empty_list_text(app, "PDUs"), app.theme.dim());
    let list = &app.shown_pdus;
    draw_pdu_list(
        f,
        app,
        area,
        Pane::List,
        app.flat_sel,
        list,
        title,
        Some(empty),
    );
}

fn draw_tree(f: &mut Frame, app: &mut App, area: Rect) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let Some(p) = app.selected_pdu() else {
        let rows = vec![Line::styled("  no PDU selected", app.theme.dim())];
        draw_rows(
            f,
            pane_block(app, Pane::Tree, "Decode".into()),
            area,
            None,
            rows,
        );
        return;
    };
    let d = &p.dissection;
    let title = format!(
        "Decode: frame {} {}",
        p.frame,
        escape_text(p.mms.message_type.as_deref().unwrap_or(""))
    );
    let rows = treeview::visible_rows(d, &app.tree.expansion);
    let sel = app.tree_index(&rows);
    let mut s = super::app::Sel {
        index: sel,
        offset: app.tree.offset,
    };
    s.scroll_into_view(inner_h, rows.len());
    let mut lines = Vec::new();
    if rows.is_empty() {
        lines.push(Line::styled(
            "  this PDU was not kept with its decode",
            app.theme.dim(),
        ));
    }
    for (k, r) in rows.iter().enumerate().skip(s.offset).take(inner_h) {
        let Some(n) = treeview::node_at(d, &r.path) else {
            continue;
        };
        let twisty = match (r.has_children, r.expanded) {
            (false, _) => "  ",
            (true, true) => "▾ ",
            (true, false) => "▸ ",
        };
        let mut spans = vec![Span::raw(format!(
            "{}{}{}",
            mark(k == sel),
            "  ".repeat(r.depth),
            twisty
        ))];
        if let Some(sev) = n.expert {
            spans.push(Span::styled(
                format!(
                    "[{}] {}: {}",
                    severity_word(sev),
                    escape_text(&n.name),
                    escape_text(&n.display)
                ),
                app.theme.severity(sev),
            ));
        } else {
            // a layer reads "WSP: Push (…)", as Wireshark puts the protocol first
            let text = if n.display.is_empty() {
                escape_text(&n.name)
            } else {
                format!("{}: {}", escape_text(&n.name), escape_text(&n.display))
            };
            let style = if r.depth == 0 {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            spans.push(Span::styled(text, style));
            if r.has_children
                && !r.expanded
                && let Some(w) = n.worst()
            {
                spans.push(Span::styled(
                    format!("  [{} inside]", severity_word(w)),
                    app.theme.severity(w),
                ));
            }
        }
        let mut line = Line::from(spans);
        truncate_line(&mut line, width);
        lines.push(select_style(app, Pane::Tree, k == sel, line));
    }
    draw_rows(f, pane_block(app, Pane::Tree, title), area, None, lines);
    app.tree.offset = s.offset;
}

fn draw_hex(f: &mut Frame, app: &mut App, area: Rect) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let node = app.selected_node().cloned();
    let pdu = app.selected_pdu();
    let (Some(node), Some(pdu)) = (node, pdu) else {
        let rows = vec![Line::styled("  no field selected", app.theme.dim())];
        draw_rows(
            f,
            pane_block(app, Pane::Hex, "Bytes".into()),
            area,
            None,
            rows,
        );
        return;
    };
    let Some(buf) = pdu.dissection.buffers.get(node.buffer as usize) else {
        let rows = vec![Line::styled(
            format!(
                "  the field refers to buffer {}, which this decode does not have",
                node.buffer
            ),
            app.theme.error_text(),
        )];
        draw_rows(
            f,
            pane_block(app, Pane::Hex, "Bytes".into()),
            area,
            None,
            rows,
        );
        return;
    };
    let buf = buf.clone();
    let range = node.range.clone();
    let digits = hex::offset_digits(buf.data.len());
    let bpr = hex::bytes_per_row(width, digits);
    let total_rows = buf.data.len().div_ceil(bpr);
    let max_scroll = total_rows.saturating_sub(inner_h);
    if !app.hex.manual {
        let first = range.start / bpr;
        let last = range.end.saturating_sub(1).max(range.start) / bpr;
        if first < app.hex.scroll || last >= app.hex.scroll + inner_h {
            app.hex.scroll = if last - first < inner_h {
                first.saturating_sub((inner_h - (last - first + 1)) / 2)
            } else {
                first
            };
        }
    }
    app.hex.scroll = app.hex.scroll.min(max_scroll);
    let frames = hex::frames_of(&buf, range.clone());
    let from = match frames.len() {
        0 => String::new(),
        1 => format!(" · frame {}", frames[0]),
        _ => format!(
            " · frames {}",
            frames
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let title = format!(
        "Bytes {}..{} ({}){} · {} ({} bytes)",
        range.start,
        range.end,
        range.len(),
        from,
        escape_text(&buf.name),
        buf.data.len(),
    );
    let lines = hex::hex_lines(&buf, range, app.hex.scroll, inner_h, width, &app.theme);
    app.hex.geometry = hex::Geometry {
        x: area.x + 1,
        y: area.y + 1,
        rows: lines.len(),
        first: app.hex.scroll,
        bpr,
        digits,
        len: buf.data.len(),
    };
    draw_rows(f, pane_block(app, Pane::Hex, title), area, None, lines);
}

/// The line under the filter bar: a `^` under the character where the error was found, then
/// the message.
fn filter_error_text(i: &super::app::Input, e: &crate::filter::FilterError) -> String {
    let caret = " ".repeat(InputKind::Filter.prompt().len() + e.offset.min(i.text.chars().count()));
    format!(
        "{caret}^ error at {}: {}",
        e.offset,
        escape_text(&e.message)
    )
}

fn draw_filter_bar(f: &mut Frame, app: &App, bar: Rect, err_line: Rect) {
    let prompt = InputKind::Filter.prompt();
    match &app.input {
        Some(i) if i.kind == InputKind::Filter => {
            let (verdict, style) = match &i.error {
                None if i.text.trim().is_empty() => {
                    ("  (empty: Enter clears the filter)", app.theme.dim())
                }
                None => ("  ✓ valid, Enter applies", app.theme.ok_text()),
                Some(_) => ("  ✗ invalid", app.theme.error_text()),
            };
            let line = Line::from(vec![
                Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(escape_text(&i.text)),
                Span::styled(verdict, style),
            ]);
            f.render_widget(Paragraph::new(line), bar);
            let x = bar.x + (prompt.len() + i.cursor) as u16;
            f.set_cursor_position(Position::new(x.min(bar.right().saturating_sub(1)), bar.y));
            if let Some(e) = &i.error {
                let text = filter_error_text(i, e);
                let caret = text.len() - text.trim_start().len();
                let line = Line::from(vec![
                    Span::raw(text[..caret].to_string()),
                    Span::styled(text[caret..].to_string(), app.theme.error_text()),
                ]);
                f.render_widget(
                    Paragraph::new(line).wrap(ratatui::widgets::Wrap { trim: false }),
                    err_line,
                );
            }
        }
        _ => {
            let line = if app.filter_text.is_empty() {
                Line::from(vec![
                    Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                    Span::styled("none (press / to filter)", app.theme.dim()),
                ])
            } else {
                Line::from(vec![
                    Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                    Span::raw(escape_text(&app.filter_text)),
                ])
            };
            f.render_widget(Paragraph::new(line), bar);
        }
    }
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    if let Some(i) = &app.input
        && i.kind != InputKind::Filter
    {
        let line = Line::from(vec![
            Span::styled(i.kind.prompt(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(escape_text(&i.text)),
            Span::styled("   (Enter: ok, Esc: cancel)", app.theme.dim()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        let x = area.x + (i.kind.prompt().chars().count() + i.cursor) as u16;
        f.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    let name = std::path::Path::new(&app.analysis.source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| app.analysis.source.clone());
    let state = if let Some(e) = &app.load.error {
        format!("FAILED: {}", escape_text(e))
    } else if let Some(live) = &app.load.live {
        let what = if app.load.done { "stopped" } else { "live" };
        format!("{what} · {live}")
    } else if app.load.done {
        "done".to_string()
    } else {
        match app.load.percent() {
            Some(p) => format!("loading {p}%"),
            None => "loading…".into(),
        }
    };
    let errors = app.error_count();
    let mut text = format!(
        " {} │ {} pkts │ {} PDUs │ {} tx │ {} errors │ {} ",
        escape_text(&name),
        app.load.packets.max(app.analysis.stats.packets),
        app.analysis.pdus.len(),
        app.analysis.transactions.len(),
        errors,
        state
    );
    let tail = match &app.message {
        Some(m) => format!("│ {m}"),
        None => "│ ?:help /:filter s:search ::frame d:ladder p:PDUs q:quit".into(),
    };
    text.push_str(&tail);
    let style = if errors > 0 || app.load.error.is_some() {
        app.theme.status().add_modifier(Modifier::BOLD)
    } else {
        app.theme.status()
    };
    f.render_widget(
        Paragraph::new(Line::styled(fit(&text, area.width as usize), style)),
        area,
    );
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_popup(f: &mut Frame, app: &mut App, main: Rect) {
    let Some(popup) = app.popup.clone() else {
        return;
    };
    let (title, lines, wide): (String, Vec<Line<'static>>, bool) = match &popup {
        Popup::Help { .. } => ("Keys (Esc or ? closes)".into(), help_lines(app), false),
        Popup::Ladder { story, .. } => {
            let txs = app.ladder_transactions(*story);
            let what = match (
                txs.first().and_then(|&t| app.analysis.transactions.get(t)),
                story,
            ) {
                (Some(t), false) => format!(
                    "Ladder: transaction {} ({}, {}) · s: whole story",
                    t.index + 1,
                    kind_name(t.kind),
                    escape_text(t.transaction_id.as_deref().unwrap_or("no id"))
                ),
                (Some(_), true) => format!(
                    "Ladder: story of {} transactions · s: one transaction",
                    txs.len()
                ),
                (None, _) => "Ladder".into(),
            };
            let width = main.width.saturating_sub(2) as usize;
            let l = ladder::build(&app.analysis, &txs);
            (what, ladder::render(&l, width, &app.theme), true)
        }
        Popup::Text { title, lines, .. } => (
            title.clone(),
            lines.iter().map(|l| Line::raw(l.clone())).collect(),
            true,
        ),
    };
    let w = if wide {
        main.width
    } else {
        main.width.saturating_sub(2).min(100)
    };
    let area = centered(main, w, main.height);
    app.areas.popup = Some(area);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .title(Span::styled(
            format!(" {title} "),
            Style::new().add_modifier(Modifier::BOLD),
        ))
        .title_bottom(" j/k PgUp/PgDn scroll · Esc close ");
    let inner = block.inner(area);
    let h = inner.height as usize;
    let max_scroll = lines.len().saturating_sub(h);
    let scroll = match app.popup.as_mut() {
        Some(Popup::Help { scroll })
        | Some(Popup::Ladder { scroll, .. })
        | Some(Popup::Text { scroll, .. }) => {
            *scroll = (*scroll).min(max_scroll);
            *scroll
        }
        None => 0,
    };
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(h).collect();
    f.render_widget(Paragraph::new(shown), inner);
}

fn help_lines(app: &App) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::styled("Panes", app.theme.header()),
        Line::raw(
            "  Transactions → PDUs of the selected transaction → decode tree of the selected",
        ),
        Line::raw(
            "  PDU → bytes of the selected field (highlighted), with the frame each row came from.",
        ),
        Line::raw(
            "  Markers: E error, W warning in a PDU; outcome in words (ok, FAILED, INCOMPLETE, orphan).",
        ),
        Line::raw(""),
        Line::styled("Keys", app.theme.header()),
    ];
    for (k, d) in App::key_help() {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {}", fit(k, 16)),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(*d),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled("Filter bar", app.theme.header()));
    out.push(Line::raw(
        "  The expression is checked as you type; an error is shown with a ^ under",
    ));
    out.push(Line::raw(
        "  the character where it was found. Enter applies it to both lists.",
    ));
    out
}
