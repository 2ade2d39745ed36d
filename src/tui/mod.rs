//! The terminal UI (ratatui + crossterm).

use std::path::Path;

pub fn run_file(path: &Path) -> crate::cli::CliResult {
    Err(format!("{}: the TUI is not built yet", path.display()).into())
}
