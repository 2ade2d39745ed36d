//! What each key means. One table ([`KEYS`]) feeds the help screen and docs/TUI.md.

use super::app::Popup;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Something the user asked for, independent of the key that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    NextPane,
    PrevPane,
    /// Expand/collapse in the tree; open the next pane from a list.
    Toggle,
    ExpandSubtree,
    CollapseAll,
    /// Transaction view ↔ flat PDU list.
    ToggleMode,
    Zoom,
    /// Cycle the time column: since first PDU, delta, time of day.
    TimeFormat,
    Help,
    Ladder,
    /// In the ladder: the transaction ↔ its whole story.
    StoryToggle,
    Notes,
    Filter,
    Search,
    SearchNext,
    SearchPrev,
    GotoFrame,
    ViewPart,
    SavePart,
    Export,
    /// Close a popup.
    Close,
}

/// Every key, as the help screen lists it: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    (
        "↑ ↓  k j",
        "move the selection up / down (scroll in the bytes pane)",
    ),
    ("PgUp PgDn", "move a page up / down"),
    ("Home End  g G", "go to the first / last row"),
    ("Tab  Shift-Tab", "next / previous pane"),
    (
        "← →  h l",
        "tree: collapse / expand (or go to parent / child); elsewhere: previous / next pane",
    ),
    (
        "Enter  Space",
        "tree: expand / collapse the node; lists: go to the next pane",
    ),
    (
        "*",
        "tree: expand the selected node and everything under it",
    ),
    ("c", "tree: collapse everything"),
    (
        "p",
        "switch between the transaction view and the flat list of all PDUs",
    ),
    (
        "z",
        "zoom: the focused pane fills the screen (again to restore)",
    ),
    (
        "t",
        "time column: seconds since the first PDU, since the previous PDU, time of day (UTC)",
    ),
    (
        "d",
        "ladder diagram of the selected transaction (s inside: its whole story)",
    ),
    (
        "/",
        "edit the display filter (checked as you type; Enter applies, empty Enter clears)",
    ),
    (
        "s  Ctrl-F",
        "search text in the focused pane, incremental (Enter keeps it)",
    ),
    ("n  N", "next / previous search match"),
    (":  Ctrl-G", "go to a frame number"),
    ("v", "view the selected body part (text, SMIL) as text"),
    (
        "w",
        "write the selected body part (or bytes field) to a file",
    ),
    ("e", "export the shown transactions as JSON Lines"),
    (
        "!",
        "list the problems: expert notes, transport and capture notes",
    ),
    ("?", "this help"),
    ("Esc", "close a popup or cancel the line being edited"),
    ("q  Ctrl-C", "quit (closes a popup first)"),
    (
        "mouse",
        "click selects and focuses, click a selected tree node toggles it, click a byte selects its field, wheel scrolls",
    ),
];

/// The action for a key outside line editing.
pub fn action_for(key: KeyEvent, popup: Option<&Popup>) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let a = match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('f') if ctrl => Action::Search,
        KeyCode::Char('g') if ctrl => Action::GotoFrame,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        _ if ctrl => return None,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Close,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Enter | KeyCode::Char(' ') => Action::Toggle,
        KeyCode::Char('*') => Action::ExpandSubtree,
        KeyCode::Char('c') => Action::CollapseAll,
        KeyCode::Char('p') => Action::ToggleMode,
        KeyCode::Char('z') => Action::Zoom,
        KeyCode::Char('t') => Action::TimeFormat,
        KeyCode::Char('d') => Action::Ladder,
        KeyCode::Char('s') if matches!(popup, Some(Popup::Ladder { .. })) => Action::StoryToggle,
        KeyCode::Char('s') => Action::Search,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('n') => Action::SearchNext,
        KeyCode::Char('N') => Action::SearchPrev,
        KeyCode::Char(':') => Action::GotoFrame,
        KeyCode::Char('v') => Action::ViewPart,
        KeyCode::Char('w') => Action::SavePart,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('!') => Action::Notes,
        KeyCode::Char('?') => Action::Help,
        _ => return None,
    };
    Some(a)
}
