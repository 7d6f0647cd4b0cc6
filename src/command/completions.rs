//! `completions`: a shell's completion script for the whole command line (clap_complete).

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit;

pub fn print(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "gauntlet", &mut std::io::stdout());
    exit::GATE_PASSED
}
