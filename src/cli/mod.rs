//! The command-line subcommands. Each file is one subcommand; `main.rs` only parses arguments.

pub mod decode;
pub mod export;
pub mod live;
pub mod pdus;
pub mod transactions;

/// Errors reported to the user on stderr, with a non-zero exit code.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;
