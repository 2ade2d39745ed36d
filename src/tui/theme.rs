//! Styles. Everything that colour says is also said by a symbol, a word or a text modifier, so the
//! screen reads the same with `NO_COLOR` set (<https://no-color.org>).

use crate::model::Outcome;
use crate::tree::Severity;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    pub fn plain() -> Theme {
        Theme { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The selected row: reversed, in every theme.
    pub fn selected(&self, focused: bool) -> Style {
        let s = Style::new().add_modifier(Modifier::REVERSED);
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }

    pub fn header(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn outcome(&self, o: &Outcome) -> Style {
        match o {
            Outcome::Ok => self.fg(Color::Green),
            Outcome::Failed => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Outcome::Incomplete => self.fg(Color::Yellow),
            Outcome::Orphan => self.fg(Color::Magenta),
        }
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Warning => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Severity::Note => self.fg(Color::Cyan).add_modifier(Modifier::ITALIC),
        }
    }

    /// Bytes of the selected node in the hex pane.
    pub fn hex_selected(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::REVERSED);
        if self.color { s.fg(Color::Yellow) } else { s }
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn error_text(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok_text(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn status(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
}
