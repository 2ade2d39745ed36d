//! The TUI's state, and every change to it. Pure: no terminal, no I/O except the explicit
//! save/export actions (which go through [`super::parts`] and [`super::export`]).

use super::keys::{Action, KEYS};
use super::theme::Theme;
use super::treeview::{self, Expansion, TreeRow};
use crate::filter::{Filter, FilterError};
use crate::model::{Analysis, Outcome, PduRecord, Stats, Transaction, TransactionKind};
use crate::pipeline::Event;
use crate::tree::{Node, Severity, escape_text};
use ratatui::layout::Rect;
use std::path::PathBuf;

/// The pane that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Transactions (or every PDU, in the flat view).
    List,
    /// The PDUs of the selected transaction (transaction view only).
    Pdus,
    Tree,
    Hex,
}

/// What the first pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    Transactions,
    /// Every PDU, flat, in capture order.
    Pdus,
}

/// How the PDU lists show time (Wireshark's View › Time Display Format, reduced to three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds since the first PDU of the capture.
    SinceFirst,
    /// Seconds since the previous PDU of the list.
    Delta,
    /// Time of day, UTC.
    Absolute,
}

/// A selection in a list, and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sel {
    pub index: usize,
    pub offset: usize,
}

impl Sel {
    fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.index = 0;
        } else if self.index >= len {
            self.index = len - 1;
        }
    }

    fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            return;
        }
        let i = self.index as isize + delta;
        self.index = i.clamp(0, len as isize - 1) as usize;
    }

    /// Keep the selection visible in a viewport of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize, len: usize) {
        let height = height.max(1);
        if self.index < self.offset {
            self.offset = self.index;
        } else if self.index >= self.offset + height {
            self.offset = self.index + 1 - height;
        }
        if len <= height {
            self.offset = 0;
        } else if self.offset + height > len {
            self.offset = len - height;
        }
    }
}

/// The kind of line being edited at the bottom (or top, for the filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Filter,
    Search,
    GotoFrame,
    SaveDir,
    ExportPath,
}

impl InputKind {
    pub fn prompt(self) -> &'static str {
        match self {
            InputKind::Filter => "Filter: ",
            InputKind::Search => "Search: ",
            InputKind::GotoFrame => "Go to frame: ",
            InputKind::SaveDir => "Save part into folder: ",
            InputKind::ExportPath => {
                "Export shown transactions to (.jsonl .json .csv .mmd .html): "
            }
        }
    }
}

/// A line being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
    /// Filter only: the parse error of `text`, if it does not parse.
    pub error: Option<FilterError>,
}

/// A window over the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    /// The ladder diagram of the selected transaction, or of its whole story.
    Ladder {
        story: bool,
        scroll: usize,
    },
    /// Text to read (a body part, the notes).
    Text {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
}

/// Reading progress of the capture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadStatus {
    pub packets: u64,
    pub bytes: u64,
    pub total_bytes: Option<u64>,
    pub done: bool,
    /// The pipeline failed (the message is shown, the PDUs read so far stay).
    pub error: Option<String>,
    /// PDUs received since the last correlation.
    pub pending: usize,
    /// Live capture: its counters for the status line (drops), `None` for a file.
    pub live: Option<String>,
}

impl LoadStatus {
    pub fn percent(&self) -> Option<u64> {
        if self.done {
            return Some(100);
        }
        let total = self.total_bytes?;
        Some((self.bytes.saturating_mul(100) / total.max(1)).min(100))
    }
}

/// Screen areas of the last render, for the mouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub list: Rect,
    pub pdus: Rect,
    pub tree: Rect,
    pub hex: Rect,
    pub popup: Option<Rect>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeState {
    pub expansion: Expansion,
    pub selected_key: Option<String>,
    pub offset: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HexState {
    /// First row shown.
    pub scroll: usize,
    /// Where the rows were drawn last (for clicks on bytes).
    pub geometry: super::hex::Geometry,
    /// Follow the selected node (scroll so its first byte is visible); scrolling by hand stops it.
    pub manual: bool,
}

pub struct App {
    pub analysis: Analysis,
    pub load: LoadStatus,
    pub mode: ListMode,
    pub focus: Pane,
    /// The focused pane fills the screen.
    pub zoom: bool,
    /// Indices into `analysis.transactions` that pass the filter.
    pub shown_tx: Vec<usize>,
    /// Indices into `analysis.pdus` that pass the filter.
    pub shown_pdus: Vec<usize>,
    pub tx_sel: Sel,
    /// Selection among the selected transaction's PDUs.
    pub txpdu_sel: Sel,
    /// Selection in the flat PDU list.
    pub flat_sel: Sel,
    pub tree: TreeState,
    pub hex: HexState,
    /// The applied filter and its text.
    pub filter_text: String,
    pub filter: Option<Filter>,
    pub search_text: String,
    pub input: Option<Input>,
    /// Where the selection was when the search line was opened (incremental search restarts
    /// from there on every keystroke).
    search_origin: Option<SearchPos>,
    pub popup: Option<Popup>,
    /// One line of feedback in the status bar, until the next key.
    pub message: Option<String>,
    pub theme: Theme,
    pub time_format: TimeFormat,
    pub quit: bool,
    pub areas: Areas,
    /// Rows of content each pane showed at the last render (page size for PgUp/PgDn).
    pub page: usize,
    /// Capture-order time origin for the "Time" column.
    pub base_time: Option<crate::model::Timestamp>,
    /// Default folder offered by "save part".
    pub save_dir: PathBuf,
    /// Number of PDUs with a problem of severity warning or worse (kept as PDUs arrive, so that
    /// the status line does not walk every tree on every frame).
    problem_pdus: usize,
    /// (frame, file offset after it) pairs from the loader's progress: where to start reading
    /// to decode a PDU again (see `loader::redecode`).
    pub file_index: Vec<(u64, u64)>,
    /// PDUs whose full dissection was decoded again on selection, oldest first; at most
    /// `RESIDENT_TREES` are kept, the others go back to their stub.
    resident: std::collections::VecDeque<usize>,
    /// PDUs that could not be decoded again (not retried on every frame).
    redecode_failed: Vec<usize>,
}

/// Full dissections kept in memory at once in a loaded capture (the rest are stubs).
const RESIDENT_TREES: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum SearchPos {
    List(usize),
    Pdus(usize),
    Tree(Option<String>),
}

/// Worst problem of a PDU: expert notes in its tree, MMS errors/warnings, transport notes.
pub fn pdu_problem(p: &PduRecord) -> Option<Severity> {
    let mut w = p.dissection.worst();
    if p.mms.errors > 0 {
        w = w.max(Some(Severity::Error));
    }
    if p.mms.warnings > 0 || !p.transport_notes.is_empty() {
        w = w.max(Some(Severity::Warning));
    }
    w
}

pub fn problem_marker(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "E",
        Some(Severity::Warning) => "W",
        Some(Severity::Note) => "n",
        None => " ",
    }
}

pub fn kind_name(k: TransactionKind) -> &'static str {
    match k {
        TransactionKind::Send => "send",
        TransactionKind::Notification => "notification",
        TransactionKind::Retrieve => "retrieve",
        TransactionKind::DeliveryReport => "delivery-rep",
        TransactionKind::ReadReport => "read-report",
        TransactionKind::Forward => "forward",
        TransactionKind::Mbox => "mbox",
        TransactionKind::Delete => "delete",
        TransactionKind::Cancel => "cancel",
        TransactionKind::Other => "other",
    }
}

/// The outcome as a word (upper case when it went wrong, so it reads without colour).
pub fn outcome_text(o: &Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Failed => "FAILED",
        Outcome::Incomplete => "INCOMPLETE",
        Outcome::Orphan => "orphan",
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

/// Text a free-text search looks at for a transaction.
pub fn tx_search_text(t: &Transaction) -> String {
    let mut s = format!(
        "{} {} {} {} {} {} {}",
        kind_name(t.kind),
        outcome_text(&t.outcome),
        t.transaction_id.as_deref().unwrap_or(""),
        t.message_id.as_deref().unwrap_or(""),
        t.content_location.as_deref().unwrap_or(""),
        t.status,
        t.endpoints.join(" "),
    );
    for m in &t.message_types {
        s.push(' ');
        s.push_str(m);
    }
    s
}

/// Text a free-text search looks at for a PDU.
pub fn pdu_search_text(p: &PduRecord) -> String {
    let m = &p.mms;
    format!(
        "{} {} {} {} {} {} {} {} {} {} {} {}",
        p.frame,
        p.src,
        p.dst,
        p.transport.as_str(),
        p.carrier.summary,
        m.message_type.as_deref().unwrap_or(""),
        m.transaction_id.as_deref().unwrap_or(""),
        m.message_id.as_deref().unwrap_or(""),
        m.from.as_deref().unwrap_or(""),
        m.to.join(" "),
        m.subject.as_deref().unwrap_or(""),
        m.content_location.as_deref().unwrap_or(""),
    )
}

impl App {
    pub fn new(analysis: Analysis) -> App {
        let mut app = App {
            analysis,
            load: LoadStatus::default(),
            mode: ListMode::Transactions,
            focus: Pane::List,
            zoom: false,
            shown_tx: Vec::new(),
            shown_pdus: Vec::new(),
            tx_sel: Sel::default(),
            txpdu_sel: Sel::default(),
            flat_sel: Sel::default(),
            tree: TreeState::default(),
            hex: HexState::default(),
            filter_text: String::new(),
            filter: None,
            search_text: String::new(),
            input: None,
            search_origin: None,
            popup: None,
            message: None,
            theme: Theme::from_env(),
            time_format: TimeFormat::SinceFirst,
            quit: false,
            areas: Areas::default(),
            page: 10,
            base_time: None,
            save_dir: PathBuf::from("."),
            problem_pdus: 0,
            file_index: Vec::new(),
            resident: Default::default(),
            redecode_failed: Vec::new(),
        };
        app.problem_pdus = app
            .analysis
            .pdus
            .iter()
            .filter(|p| pdu_problem(p) >= Some(Severity::Warning))
            .count();
        app.base_time = app.analysis.pdus.first().map(|p| p.time);
        app.refresh_shown();
        app
    }

    /// An app over a finished analysis (tests, `decode`-like uses).
    pub fn with_analysis(analysis: Analysis) -> App {
        let mut app = App::new(analysis);
        app.load.done = true;
        app
    }

    // ----- data coming in -------------------------------------------------------------------

    /// Take one event from the pipeline. Correlation is not re-run here (see
    /// [`App::recorrelate`]): the caller decides how often, to bound the cost.
    pub fn on_pipeline_event(&mut self, ev: Event) {
        match ev {
            Event::Pdu(mut rec) => {
                rec.index = self.analysis.pdus.len();
                if self.base_time.is_none() {
                    self.base_time = Some(rec.time);
                }
                let idx = rec.index;
                let passes = self.filter.as_ref().is_none_or(|f| f.matches_pdu(&rec));
                if pdu_problem(&rec) >= Some(Severity::Warning) {
                    self.problem_pdus += 1;
                }
                self.analysis.pdus.push(*rec);
                if passes {
                    self.shown_pdus.push(idx);
                }
                self.load.pending += 1;
            }
            Event::Progress {
                packets,
                bytes,
                total_bytes,
                ..
            } => {
                self.load.packets = packets;
                self.load.bytes = bytes;
                self.load.total_bytes = total_bytes;
                if self.file_index.last().is_none_or(|&(f, _)| packets > f) {
                    self.file_index.push((packets, bytes));
                }
            }
            Event::Note(n) => self.analysis.capture_notes.push(n),
        }
    }

    /// Make sure the selected PDU's full dissection is in memory: a PDU the loader sent as a
    /// summary (its dissection a stub) is decoded again from the capture file. Called before
    /// each frame is drawn; cheap when nothing changed.
    pub fn ensure_selected_decoded(&mut self) {
        let Some(i) = self.selected_pdu_index() else {
            return;
        };
        let p = &self.analysis.pdus[i];
        // Only a capture being loaded from a file has an index (and stubs to fill in).
        if self.file_index.is_empty()
            || !super::loader::is_stub(&p.dissection)
            || self.redecode_failed.contains(&i)
        {
            return;
        }
        let path = PathBuf::from(&self.analysis.source);
        match super::loader::redecode(&path, &self.file_index, p) {
            Some(d) => {
                self.analysis.pdus[i].dissection = d;
                self.resident.push_back(i);
                while self.resident.len() > RESIDENT_TREES {
                    let old = self.resident.pop_front().expect("not empty");
                    let q = &mut self.analysis.pdus[old];
                    q.dissection = super::loader::stub_dissection(&q.dissection);
                }
            }
            None => {
                self.redecode_failed.push(i);
                self.message = Some(format!(
                    "could not decode the PDU of frame {} again from {}",
                    p.frame,
                    path.display()
                ));
            }
        }
    }

    /// The pipeline finished (or failed).
    pub fn on_load_done(&mut self, result: Result<Stats, String>) {
        self.load.done = true;
        match result {
            Ok(stats) => {
                self.load.packets = self.load.packets.max(stats.packets);
                self.load.bytes = self.load.bytes.max(stats.bytes);
                self.analysis.stats.packets = stats.packets;
                self.analysis.stats.bytes = stats.bytes;
            }
            Err(e) => self.load.error = Some(e),
        }
        self.recorrelate();
    }

    /// Group the PDUs read so far into transactions again, keeping the selection.
    pub fn recorrelate(&mut self) {
        self.analysis.transactions = crate::correlate::correlate(&self.analysis.pdus);
        self.load.pending = 0;
        self.analysis.stats.pdus = self.analysis.pdus.len() as u64;
        self.analysis.stats.transactions = self.analysis.transactions.len() as u64;
        self.refresh_shown();
    }

    /// PDUs with a problem, plus notes about the capture itself.
    pub fn error_count(&self) -> usize {
        self.problem_pdus + self.analysis.capture_notes.len()
    }

    // ----- what is shown and selected -------------------------------------------------------

    /// Recompute the filtered lists, keeping the selected transaction and PDU by identity.
    pub fn refresh_shown(&mut self) {
        let keep_tx = self.selected_tx().map(|t| t.pdus.first().copied());
        let keep_flat = self.shown_pdus.get(self.flat_sel.index).copied();
        let a = &self.analysis;
        self.shown_tx = (0..a.transactions.len())
            .filter(|&i| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| f.matches_transaction(&a.transactions[i], &a.pdus))
            })
            .collect();
        self.shown_pdus = (0..a.pdus.len())
            .filter(|&i| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| f.matches_pdu(&a.pdus[i]))
            })
            .collect();
        if let Some(first) = keep_tx {
            let txs = &self.analysis.transactions;
            if let Some(pos) = self
                .shown_tx
                .iter()
                .position(|&t| txs[t].pdus.first().copied() == first)
            {
                self.tx_sel.index = pos;
            }
        }
        if let Some(p) = keep_flat
            && let Some(pos) = self.shown_pdus.iter().position(|&i| i == p)
        {
            self.flat_sel.index = pos;
        }
        self.tx_sel.clamp(self.shown_tx.len());
        self.flat_sel.clamp(self.shown_pdus.len());
        let n = self.selected_tx().map_or(0, |t| t.pdus.len());
        self.txpdu_sel.clamp(n);
    }

    pub fn selected_tx(&self) -> Option<&Transaction> {
        let i = *self.shown_tx.get(self.tx_sel.index)?;
        self.analysis.transactions.get(i)
    }

    /// Index into `analysis.pdus` of the PDU whose tree is shown.
    pub fn selected_pdu_index(&self) -> Option<usize> {
        match self.mode {
            ListMode::Transactions => self.selected_tx()?.pdus.get(self.txpdu_sel.index).copied(),
            ListMode::Pdus => self.shown_pdus.get(self.flat_sel.index).copied(),
        }
    }

    pub fn selected_pdu(&self) -> Option<&PduRecord> {
        self.analysis.pdus.get(self.selected_pdu_index()?)
    }

    pub fn tree_rows(&self) -> Vec<TreeRow> {
        match self.selected_pdu() {
            Some(p) => treeview::visible_rows(&p.dissection, &self.tree.expansion),
            None => Vec::new(),
        }
    }

    /// Index of the selected row in `rows` (the first row when the selected key is not there).
    pub fn tree_index(&self, rows: &[TreeRow]) -> usize {
        self.tree
            .selected_key
            .as_ref()
            .and_then(|k| rows.iter().position(|r| &r.key == k))
            .unwrap_or(0)
    }

    pub fn selected_node(&self) -> Option<&Node> {
        let p = self.selected_pdu()?;
        let rows = treeview::visible_rows(&p.dissection, &self.tree.expansion);
        let row = rows.get(self.tree_index(&rows))?;
        treeview::node_at(&p.dissection, &row.path)
    }

    /// The panes in Tab order.
    pub fn panes(&self) -> &'static [Pane] {
        match self.mode {
            ListMode::Transactions => &[Pane::List, Pane::Pdus, Pane::Tree, Pane::Hex],
            ListMode::Pdus => &[Pane::List, Pane::Tree, Pane::Hex],
        }
    }

    /// Transactions of the ladder: the selected one, or every one of its story.
    pub fn ladder_transactions(&self, story: bool) -> Vec<usize> {
        let selected = match self.mode {
            ListMode::Transactions => self.shown_tx.get(self.tx_sel.index).copied(),
            // flat view: the transaction the selected PDU belongs to
            ListMode::Pdus => self.selected_pdu_index().and_then(|p| {
                self.analysis
                    .transactions
                    .iter()
                    .position(|t| t.pdus.contains(&p))
            }),
        };
        let Some(sel) = selected else {
            return Vec::new();
        };
        let txs = &self.analysis.transactions;
        match (story, txs[sel].story) {
            (true, Some(s)) => (0..txs.len())
                .filter(|&i| txs[i].story == Some(s))
                .collect(),
            _ => vec![sel],
        }
    }

    // ----- keys -----------------------------------------------------------------------------

    fn selection_changed(&mut self) {
        self.hex.manual = false;
    }

    fn move_in(&mut self, pane: Pane, delta: isize) {
        match pane {
            Pane::List => match self.mode {
                ListMode::Transactions => {
                    let before = self.tx_sel.index;
                    self.tx_sel.step(delta, self.shown_tx.len());
                    if self.tx_sel.index != before {
                        self.txpdu_sel = Sel::default();
                    }
                }
                ListMode::Pdus => self.flat_sel.step(delta, self.shown_pdus.len()),
            },
            Pane::Pdus => {
                let n = self.selected_tx().map_or(0, |t| t.pdus.len());
                self.txpdu_sel.step(delta, n);
            }
            Pane::Tree => {
                let rows = self.tree_rows();
                if rows.is_empty() {
                    return;
                }
                let mut s = Sel {
                    index: self.tree_index(&rows),
                    offset: 0,
                };
                s.step(delta, rows.len());
                self.tree.selected_key = Some(rows[s.index].key.clone());
            }
            Pane::Hex => {
                self.hex.manual = true;
                self.hex.scroll = (self.hex.scroll as isize + delta).max(0) as usize;
                return;
            }
        }
        self.selection_changed();
    }

    fn focus_step(&mut self, delta: isize) {
        let panes = self.panes();
        let i = panes.iter().position(|p| *p == self.focus).unwrap_or(0) as isize;
        let n = panes.len() as isize;
        self.focus = panes[((i + delta).rem_euclid(n)) as usize];
    }

    fn set_expanded(&mut self, open: Option<bool>, subtree: bool) {
        let Some(p) = self.selected_pdu() else { return };
        let layers = p.dissection.layers.len();
        let rows = treeview::visible_rows(&p.dissection, &self.tree.expansion);
        let Some(row) = rows.get(self.tree_index(&rows)).cloned() else {
            return;
        };
        if !row.has_children {
            return;
        }
        let open = open.unwrap_or(!row.expanded);
        if subtree {
            let all = treeview::all_rows(&p.dissection, &self.tree.expansion);
            let under: Vec<TreeRow> = all
                .into_iter()
                .filter(|r| r.has_children && r.path.starts_with(&row.path))
                .collect();
            for r in &under {
                self.tree.expansion.set(r, layers, open);
            }
        } else {
            self.tree.expansion.set(&row, layers, open);
        }
        self.tree.selected_key = Some(row.key);
    }

    /// Left in the tree: collapse, or go to the parent.
    fn tree_left(&mut self) {
        let rows = self.tree_rows();
        let Some(row) = rows.get(self.tree_index(&rows)).cloned() else {
            return;
        };
        if row.has_children && row.expanded {
            self.set_expanded(Some(false), false);
        } else if row.path.len() > 1 {
            let parent = &row.path[..row.path.len() - 1];
            if let Some(pr) = rows.iter().find(|r| r.path == parent) {
                self.tree.selected_key = Some(pr.key.clone());
                self.selection_changed();
            }
        }
    }

    /// Right in the tree: expand, or go to the first child.
    fn tree_right(&mut self) {
        let rows = self.tree_rows();
        let i = self.tree_index(&rows);
        let Some(row) = rows.get(i).cloned() else {
            return;
        };
        if row.has_children && !row.expanded {
            self.set_expanded(Some(true), false);
        } else if row.has_children {
            self.move_in(Pane::Tree, 1);
        }
    }

    pub fn on_key(&mut self, key: ratatui::crossterm::event::KeyEvent) {
        use ratatui::crossterm::event::KeyEventKind;
        if key.kind == KeyEventKind::Release {
            return;
        }
        if self.input.is_some() {
            self.on_input_key(key);
            return;
        }
        self.message = None;
        if let Some(action) = super::keys::action_for(key, self.popup.as_ref()) {
            self.apply(action);
        }
    }

    /// Apply one action (what a key means, independent of the key).
    pub fn apply(&mut self, action: Action) {
        if self.popup.is_some() {
            self.apply_in_popup(action);
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Up => self.move_in(self.focus, -1),
            Action::Down => self.move_in(self.focus, 1),
            Action::PageUp => self.move_in(self.focus, -(self.page.max(1) as isize)),
            Action::PageDown => self.move_in(self.focus, self.page.max(1) as isize),
            Action::Top => self.move_in(self.focus, isize::MIN / 2),
            Action::Bottom => self.move_in(self.focus, isize::MAX / 2),
            Action::Left => match self.focus {
                Pane::Tree => self.tree_left(),
                _ => self.focus_step(-1),
            },
            Action::Right => match self.focus {
                Pane::Tree => self.tree_right(),
                _ => self.focus_step(1),
            },
            Action::NextPane => self.focus_step(1),
            Action::PrevPane => self.focus_step(-1),
            Action::Toggle => match self.focus {
                Pane::Tree => self.set_expanded(None, false),
                Pane::Hex => {}
                _ => self.focus_step(1),
            },
            Action::ExpandSubtree => self.set_expanded(Some(true), true),
            Action::CollapseAll => {
                self.tree.expansion = Expansion::default();
                let layers = self.selected_pdu().map_or(0, |p| p.dissection.layers.len());
                if let Some(last) = layers.checked_sub(1) {
                    let rows = self.tree_rows();
                    if let Some(r) = rows
                        .iter()
                        .find(|r| r.depth == 0 && r.path[0] == last)
                        .cloned()
                    {
                        self.tree.expansion.set(&r, layers, false);
                    }
                }
            }
            Action::ToggleMode => {
                let keep = self.selected_pdu_index();
                self.mode = match self.mode {
                    ListMode::Transactions => ListMode::Pdus,
                    ListMode::Pdus => ListMode::Transactions,
                };
                if !self.panes().contains(&self.focus) {
                    self.focus = Pane::List;
                }
                if let Some(p) = keep {
                    self.select_pdu(p);
                }
            }
            Action::Zoom => self.zoom = !self.zoom,
            Action::TimeFormat => {
                self.time_format = match self.time_format {
                    TimeFormat::SinceFirst => TimeFormat::Delta,
                    TimeFormat::Delta => TimeFormat::Absolute,
                    TimeFormat::Absolute => TimeFormat::SinceFirst,
                };
                self.message = Some(
                    match self.time_format {
                        TimeFormat::SinceFirst => "time: seconds since the first PDU",
                        TimeFormat::Delta => "time: seconds since the previous PDU of the list",
                        TimeFormat::Absolute => "time: time of day, UTC",
                    }
                    .into(),
                );
            }
            Action::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            Action::Ladder => {
                if self.ladder_transactions(false).is_empty() {
                    self.message = Some("no transaction selected".into());
                } else {
                    self.popup = Some(Popup::Ladder {
                        story: false,
                        scroll: 0,
                    })
                }
            }
            Action::Notes => self.open_notes(),
            Action::Filter => self.open_input(InputKind::Filter, self.filter_text.clone()),
            Action::Search => {
                self.search_origin = Some(self.search_pos());
                self.open_input(InputKind::Search, String::new());
            }
            Action::SearchNext => self.search(true, false),
            Action::SearchPrev => self.search(false, false),
            Action::GotoFrame => self.open_input(InputKind::GotoFrame, String::new()),
            Action::ViewPart => self.view_part(),
            Action::SavePart => {
                if self.selected_part().is_some() {
                    let dir = self.save_dir.display().to_string();
                    self.open_input(InputKind::SaveDir, dir);
                } else {
                    self.message =
                        Some("select a body part or a bytes field in the tree to save it".into());
                }
            }
            Action::Export => {
                self.open_input(InputKind::ExportPath, "mmscope-transactions.jsonl".into())
            }
            Action::Close => {}
            Action::StoryToggle => {}
        }
    }

    fn apply_in_popup(&mut self, action: Action) {
        let page = self.page.max(1);
        let is_help = matches!(self.popup, Some(Popup::Help { .. }));
        let Some(popup) = self.popup.as_mut() else {
            return;
        };
        let scroll = match popup {
            Popup::Help { scroll } | Popup::Ladder { scroll, .. } | Popup::Text { scroll, .. } => {
                scroll
            }
        };
        match action {
            Action::Close | Action::Quit => self.popup = None,
            Action::Help if is_help => self.popup = None,
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Down => *scroll += 1,
            Action::PageUp => *scroll = scroll.saturating_sub(page),
            Action::PageDown => *scroll += page,
            Action::Top => *scroll = 0,
            // clamped to the last page when drawn
            Action::Bottom => *scroll = usize::MAX / 2,
            Action::StoryToggle => {
                if let Popup::Ladder { story, scroll } = popup {
                    *story = !*story;
                    *scroll = 0;
                }
            }
            _ => {}
        }
    }

    fn open_input(&mut self, kind: InputKind, text: String) {
        let cursor = text.chars().count();
        let mut input = Input {
            kind,
            text,
            cursor,
            error: None,
        };
        if kind == InputKind::Filter {
            input.error = validate_filter(&input.text).err();
        }
        self.input = Some(input);
    }

    // ----- line editing ---------------------------------------------------------------------

    fn on_input_key(&mut self, key: ratatui::crossterm::event::KeyEvent) {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        let Some(input) = self.input.as_mut() else {
            return;
        };
        let byte_at = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(i, _)| i);
        let mut changed = false;
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            _ if ctrl_c => {
                self.input = None;
                self.search_origin = None;
                return;
            }
            KeyCode::Esc => {
                let kind = input.kind;
                self.input = None;
                if kind == InputKind::Search {
                    self.search_origin = None;
                }
                return;
            }
            KeyCode::Enter => {
                self.commit_input();
                return;
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                input.text.clear();
                input.cursor = 0;
                changed = true;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = byte_at(&input.text, input.cursor);
                input.text.insert(at, c);
                input.cursor += 1;
                changed = true;
            }
            KeyCode::Backspace if input.cursor > 0 => {
                let at = byte_at(&input.text, input.cursor - 1);
                input.text.remove(at);
                input.cursor -= 1;
                changed = true;
            }
            KeyCode::Delete if input.cursor < input.text.chars().count() => {
                let at = byte_at(&input.text, input.cursor);
                input.text.remove(at);
                changed = true;
            }
            KeyCode::Left => input.cursor = input.cursor.saturating_sub(1),
            KeyCode::Right => input.cursor = (input.cursor + 1).min(input.text.chars().count()),
            KeyCode::Home => input.cursor = 0,
            KeyCode::End => input.cursor = input.text.chars().count(),
            _ => {}
        }
        if changed {
            match input.kind {
                InputKind::Filter => input.error = validate_filter(&input.text).err(),
                InputKind::Search => {
                    self.search_text = input.text.clone();
                    if let Some(origin) = self.search_origin.clone() {
                        self.restore_search_pos(&origin);
                    }
                    if !self.search_text.is_empty() {
                        self.search(true, true);
                    }
                }
                _ => {}
            }
        }
    }

    fn commit_input(&mut self) {
        let Some(input) = self.input.take() else {
            return;
        };
        let text = input.text.trim().to_string();
        match input.kind {
            InputKind::Filter => {
                if text.is_empty() {
                    self.filter = None;
                    self.filter_text.clear();
                    self.refresh_shown();
                    self.message = Some("filter cleared".into());
                    return;
                }
                match Filter::parse(&text) {
                    Ok(f) => {
                        self.filter = Some(f);
                        self.filter_text = text;
                        self.refresh_shown();
                        self.message = Some(format!(
                            "filter applied: {} of {} transactions, {} of {} PDUs",
                            self.shown_tx.len(),
                            self.analysis.transactions.len(),
                            self.shown_pdus.len(),
                            self.analysis.pdus.len()
                        ));
                    }
                    Err(e) => {
                        // stay in the bar: the error is shown under the offending character
                        self.input = Some(Input {
                            error: Some(e),
                            ..input
                        });
                    }
                }
            }
            InputKind::Search => {
                self.search_text = input.text;
                self.search_origin = None;
            }
            InputKind::GotoFrame => match text.trim_start_matches('#').parse::<u64>() {
                Ok(n) => self.goto_frame(n),
                Err(_) => {
                    self.message = Some(format!("not a frame number: {}", escape_text(&text)))
                }
            },
            InputKind::SaveDir => {
                let dir = if text.is_empty() {
                    PathBuf::from(".")
                } else {
                    PathBuf::from(&text)
                };
                self.save_dir = dir.clone();
                self.save_part_into(&dir);
            }
            InputKind::ExportPath => {
                if text.is_empty() {
                    self.message = Some("export cancelled: no file name".into());
                    return;
                }
                let txs: Vec<Transaction> = self
                    .shown_tx
                    .iter()
                    .map(|&i| self.analysis.transactions[i].clone())
                    .collect();
                let path = std::path::Path::new(&text);
                let result = super::export::export_transactions(
                    path,
                    &self.analysis.source,
                    &txs,
                    &self.analysis.pdus,
                );
                self.message = Some(match result {
                    Ok(n) => format!("exported {n} transactions to {}", escape_text(&text)),
                    Err(e) => format!("export failed: {}: {e}", escape_text(&text)),
                });
            }
        }
    }

    // ----- jumping and searching ------------------------------------------------------------

    /// Select PDU `p` (index into `analysis.pdus`) in the current view.
    pub fn select_pdu(&mut self, p: usize) -> bool {
        self.selection_changed();
        match self.mode {
            ListMode::Pdus => match self.shown_pdus.iter().position(|&i| i == p) {
                Some(pos) => {
                    self.flat_sel.index = pos;
                    true
                }
                None => false,
            },
            ListMode::Transactions => {
                let txs = &self.analysis.transactions;
                let found = self.shown_tx.iter().enumerate().find_map(|(pos, &t)| {
                    txs[t].pdus.iter().position(|&q| q == p).map(|k| (pos, k))
                });
                match found {
                    Some((pos, k)) => {
                        self.tx_sel.index = pos;
                        self.txpdu_sel.index = k;
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Select the PDU carried by frame `n`, or the first one after it.
    pub fn goto_frame(&mut self, n: u64) {
        let pdus = &self.analysis.pdus;
        let exact = pdus
            .iter()
            .position(|p| p.frame == n || p.frames.contains(&n));
        let target = exact.or_else(|| pdus.iter().position(|p| p.frame >= n));
        match target {
            None => self.message = Some(format!("no PDU at or after frame {n}")),
            Some(p) => {
                let frame = self.analysis.pdus[p].frame;
                if self.select_pdu(p) {
                    if self.mode == ListMode::Transactions {
                        self.focus = Pane::Pdus;
                    }
                    self.message = Some(if exact.is_some() {
                        format!("frame {n}: PDU completed in frame {frame}")
                    } else {
                        format!("no PDU in frame {n}; next is in frame {frame}")
                    });
                } else if self.mode == ListMode::Transactions && self.shown_pdus.contains(&p) {
                    // in no (shown) transaction, e.g. not correlated yet: show it in the flat list
                    self.mode = ListMode::Pdus;
                    self.focus = Pane::List;
                    self.select_pdu(p);
                    self.message = Some(format!(
                        "frame {n}: the PDU of frame {frame} is in no transaction shown; flat PDU list"
                    ));
                } else {
                    self.message =
                        Some(format!("the PDU of frame {frame} is hidden by the filter"));
                }
            }
        }
    }

    fn search_pos(&self) -> SearchPos {
        match self.focus {
            Pane::List => SearchPos::List(match self.mode {
                ListMode::Transactions => self.tx_sel.index,
                ListMode::Pdus => self.flat_sel.index,
            }),
            Pane::Pdus => SearchPos::Pdus(self.txpdu_sel.index),
            Pane::Tree | Pane::Hex => SearchPos::Tree(self.tree.selected_key.clone()),
        }
    }

    fn restore_search_pos(&mut self, pos: &SearchPos) {
        match pos {
            SearchPos::List(i) => match self.mode {
                ListMode::Transactions => self.tx_sel.index = *i,
                ListMode::Pdus => self.flat_sel.index = *i,
            },
            SearchPos::Pdus(i) => self.txpdu_sel.index = *i,
            SearchPos::Tree(k) => self.tree.selected_key = k.clone(),
        }
    }

    /// Find the next (or previous) match of `search_text` in the focused pane, wrapping around.
    /// `inclusive`: the current row counts (incremental search while typing).
    pub fn search(&mut self, forward: bool, inclusive: bool) {
        let needle = self.search_text.to_lowercase();
        if needle.is_empty() {
            self.message = Some("no search text: press s to search".into());
            return;
        }
        let texts: Vec<String>;
        let current: usize;
        match self.focus {
            Pane::List => match self.mode {
                ListMode::Transactions => {
                    texts = self
                        .shown_tx
                        .iter()
                        .map(|&i| tx_search_text(&self.analysis.transactions[i]))
                        .collect();
                    current = self.tx_sel.index;
                }
                ListMode::Pdus => {
                    texts = self
                        .shown_pdus
                        .iter()
                        .map(|&i| pdu_search_text(&self.analysis.pdus[i]))
                        .collect();
                    current = self.flat_sel.index;
                }
            },
            Pane::Pdus => {
                texts = self
                    .selected_tx()
                    .map(|t| {
                        t.pdus
                            .iter()
                            .map(|&i| pdu_search_text(&self.analysis.pdus[i]))
                            .collect()
                    })
                    .unwrap_or_default();
                current = self.txpdu_sel.index;
            }
            Pane::Tree | Pane::Hex => {
                self.search_tree(&needle, forward, inclusive);
                return;
            }
        }
        match find_wrapping(&texts, current, forward, inclusive, |t| {
            contains_ci(t, &needle)
        }) {
            Some(i) => {
                self.move_in(self.focus, i as isize - current as isize);
                if self.focus == Pane::List && self.mode == ListMode::Transactions {
                    self.txpdu_sel = Sel::default();
                }
            }
            None => self.message = Some(format!("not found: {}", escape_text(&self.search_text))),
        }
    }

    fn search_tree(&mut self, needle: &str, forward: bool, inclusive: bool) {
        let Some(p) = self.selected_pdu() else { return };
        let d = &p.dissection;
        let all = treeview::all_rows(d, &self.tree.expansion);
        let texts: Vec<String> = all
            .iter()
            .map(|r| {
                let Some(n) = treeview::node_at(d, &r.path) else {
                    return String::new();
                };
                let mut t = format!("{} {}", n.name, n.display);
                // the whole of a text value (a text part, shown cut in the display), and the
                // bytes of a bytes field as text, up to 64 KiB
                const MAX: usize = 64 * 1024;
                match &n.value {
                    crate::tree::Value::Text(v) => {
                        t.push(' ');
                        t.push_str(&v[..v.floor_char_boundary(MAX)]);
                    }
                    crate::tree::Value::Bytes => {
                        if let Some(b) = super::parts::payload_bytes(d, n) {
                            t.push(' ');
                            t.push_str(&String::from_utf8_lossy(&b[..b.len().min(MAX)]));
                        }
                    }
                    _ => {}
                }
                t
            })
            .collect();
        let current = self
            .tree
            .selected_key
            .as_ref()
            .and_then(|k| all.iter().position(|r| &r.key == k))
            .unwrap_or(0);
        let Some(i) = find_wrapping(&texts, current, forward, inclusive, |t| {
            contains_ci(t, needle)
        }) else {
            self.message = Some(format!(
                "not found in this PDU: {}",
                escape_text(&self.search_text)
            ));
            return;
        };
        let target = all[i].clone();
        self.reveal(&all, target, d.layers.len());
        self.selection_changed();
    }

    /// Open every ancestor of `target` (a row of `all`) and select it.
    fn reveal(&mut self, all: &[TreeRow], target: TreeRow, layers: usize) {
        for a in all
            .iter()
            .filter(|r| r.path.len() < target.path.len() && target.path.starts_with(&r.path))
        {
            self.tree.expansion.set(a, layers, true);
        }
        self.tree.selected_key = Some(target.key);
    }

    /// Select the most specific field that covers byte `offset` of the buffer shown in the hex
    /// pane (a click on a byte, as in Wireshark), opening the tree down to it.
    pub fn select_byte(&mut self, offset: usize) {
        let Some(buffer) = self.selected_node().map(|n| n.buffer) else {
            return;
        };
        let Some(p) = self.selected_pdu() else { return };
        let d = &p.dissection;
        let all = treeview::all_rows(d, &self.tree.expansion);
        let best = all
            .iter()
            .filter_map(|r| {
                let n = treeview::node_at(d, &r.path)?;
                (n.buffer == buffer && n.range.contains(&offset)).then_some((r, n.range.len()))
            })
            // deepest first, then narrowest
            .max_by_key(|(r, len)| (r.depth, std::cmp::Reverse(*len)))
            .map(|(r, _)| r.clone());
        if let Some(target) = best {
            let layers = d.layers.len();
            self.reveal(&all, target, layers);
            // keep the bytes where they are: the user is looking at them
            self.hex.manual = true;
        }
    }

    // ----- body parts -----------------------------------------------------------------------

    /// The selected node as a body part, if it is one (or a bytes field).
    pub fn selected_part(&self) -> Option<super::parts::PartInfo<'_>> {
        let p = self.selected_pdu()?;
        let rows = treeview::visible_rows(&p.dissection, &self.tree.expansion);
        let row = rows.get(self.tree_index(&rows))?;
        let node = treeview::node_at(&p.dissection, &row.path)?;
        let ancestors: Vec<&Node> = (1..row.path.len())
            .filter_map(|k| treeview::node_at(&p.dissection, &row.path[..k]))
            .collect();
        super::parts::part_info(node, &ancestors)
    }

    fn view_part(&mut self) {
        let Some(pdu) = self.selected_pdu() else {
            return;
        };
        let Some(part) = self.selected_part() else {
            self.message =
                Some("select a body part or a bytes field in the tree to view it".into());
            return;
        };
        let Some(bytes) = super::parts::payload_bytes(&pdu.dissection, part.payload) else {
            self.message = Some("the part's byte range is outside its buffer".into());
            return;
        };
        let ct = part
            .content_type
            .clone()
            .unwrap_or_else(|| "unknown type".into());
        let title = format!("{} ({}, {} bytes)", part.title, ct, bytes.len());
        let lines = if super::parts::is_text(part.content_type.as_deref(), bytes) {
            super::parts::text_lines(bytes)
        } else {
            vec![format!(
                "binary part ({}, {} bytes): press w to save it to a file",
                escape_text(&ct),
                bytes.len()
            )]
        };
        self.popup = Some(Popup::Text {
            title: escape_text(&title),
            lines,
            scroll: 0,
        });
    }

    fn save_part_into(&mut self, dir: &std::path::Path) {
        let Some(pdu) = self.selected_pdu() else {
            return;
        };
        let Some(part) = self.selected_part() else {
            return;
        };
        let Some(bytes) = super::parts::payload_bytes(&pdu.dissection, part.payload) else {
            self.message = Some("the part's byte range is outside its buffer".into());
            return;
        };
        let name = part.file_name(pdu.frame);
        self.message = Some(match super::parts::save_bytes(dir, &name, bytes) {
            Ok(path) => format!(
                "saved {} bytes to {}",
                bytes.len(),
                escape_text(&path.display().to_string())
            ),
            Err(e) => format!(
                "could not save into {}: {e}",
                escape_text(&dir.display().to_string())
            ),
        });
    }

    fn open_notes(&mut self) {
        let mut lines = Vec::new();
        if let Some(e) = &self.load.error {
            lines.push(format!("pipeline: {}", escape_text(e)));
        }
        for n in &self.analysis.capture_notes {
            lines.push(format!("capture: {}", escape_text(n)));
        }
        for p in &self.analysis.pdus {
            for n in &p.transport_notes {
                lines.push(format!("frame {}: {}", p.frame, escape_text(n)));
            }
            for layer in &p.dissection.layers {
                for n in layer.walk().filter(|n| n.expert.is_some()) {
                    lines.push(format!(
                        "frame {}: [{}] {}: {}",
                        p.frame,
                        super::ui::severity_word(n.expert.unwrap()),
                        escape_text(&n.name),
                        escape_text(&n.display)
                    ));
                }
            }
        }
        if lines.is_empty() {
            lines.push("no problems found".into());
        }
        self.popup = Some(Popup::Text {
            title: "Problems and notes".into(),
            lines,
            scroll: 0,
        });
    }

    // ----- mouse ----------------------------------------------------------------------------

    pub fn on_mouse(&mut self, ev: ratatui::crossterm::event::MouseEvent) {
        use ratatui::crossterm::event::{MouseButton, MouseEventKind};
        if self.input.is_some() {
            return;
        }
        let (x, y) = (ev.column, ev.row);
        let pane = self.pane_at(x, y);
        match ev.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if ev.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                if self.popup.is_some() {
                    self.apply(if delta > 0 { Action::Down } else { Action::Up });
                    self.apply(if delta > 0 { Action::Down } else { Action::Up });
                    self.apply(if delta > 0 { Action::Down } else { Action::Up });
                } else if let Some(p) = pane {
                    self.move_in(p, delta);
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(area) = self.areas.popup {
                    if !contains(area, x, y) {
                        self.popup = None;
                    }
                    return;
                }
                let Some(p) = pane else { return };
                self.focus = p;
                let area = self.rect_of(p);
                // lists have a border and a header row; the tree only a border
                if p == Pane::Hex {
                    if let Some(offset) = self.hex.geometry.byte_at(x, y) {
                        self.select_byte(offset);
                    }
                    return;
                }
                let first = area.y + if p == Pane::Tree { 1 } else { 2 };
                if y < first {
                    return;
                }
                let row = (y - first) as usize;
                match p {
                    Pane::List => match self.mode {
                        ListMode::Transactions => {
                            let i = self.tx_sel.offset + row;
                            if i < self.shown_tx.len() && i != self.tx_sel.index {
                                self.tx_sel.index = i;
                                self.txpdu_sel = Sel::default();
                                self.selection_changed();
                            }
                        }
                        ListMode::Pdus => {
                            let i = self.flat_sel.offset + row;
                            if i < self.shown_pdus.len() {
                                self.flat_sel.index = i;
                                self.selection_changed();
                            }
                        }
                    },
                    Pane::Pdus => {
                        let i = self.txpdu_sel.offset + row;
                        if i < self.selected_tx().map_or(0, |t| t.pdus.len()) {
                            self.txpdu_sel.index = i;
                            self.selection_changed();
                        }
                    }
                    Pane::Tree => {
                        let rows = self.tree_rows();
                        let i = self.tree.offset + row;
                        if let Some(r) = rows.get(i) {
                            let already = self.tree.selected_key.as_deref() == Some(r.key.as_str());
                            self.tree.selected_key = Some(r.key.clone());
                            self.selection_changed();
                            // a click on a selected node with children toggles it
                            if already && r.has_children {
                                self.set_expanded(None, false);
                            }
                        }
                    }
                    Pane::Hex => {}
                }
            }
            _ => {}
        }
    }

    fn rect_of(&self, p: Pane) -> Rect {
        match p {
            Pane::List => self.areas.list,
            Pane::Pdus => self.areas.pdus,
            Pane::Tree => self.areas.tree,
            Pane::Hex => self.areas.hex,
        }
    }

    fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        self.panes()
            .iter()
            .copied()
            .find(|&p| contains(self.rect_of(p), x, y))
    }

    /// Every key binding, for the help screen.
    pub fn key_help() -> &'static [(&'static str, &'static str)] {
        KEYS
    }
}

fn contains(r: Rect, x: u16, y: u16) -> bool {
    r.width > 0 && x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

/// Parse a filter expression for the bar: empty means "no filter".
pub fn validate_filter(text: &str) -> Result<(), FilterError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    Filter::parse(text).map(|_| ())
}

/// Index of the next item matching `pred`, from `current`, wrapping.
fn find_wrapping<T>(
    items: &[T],
    current: usize,
    forward: bool,
    inclusive: bool,
    pred: impl Fn(&T) -> bool,
) -> Option<usize> {
    let n = items.len();
    if n == 0 {
        return None;
    }
    let start = if inclusive { 0 } else { 1 };
    (start..n + start)
        .map(|k| {
            if forward {
                (current + k) % n
            } else {
                (current + n * 2 - k) % n
            }
        })
        .find(|&i| pred(&items[i]))
}
