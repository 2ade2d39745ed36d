//! `mmscope pdus`

use super::CliResult;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Input file.
    pub file: PathBuf,
}

pub fn run(args: Args) -> CliResult {
    Err(format!("{}: this subcommand is not built yet", args.file.display()).into())
}
