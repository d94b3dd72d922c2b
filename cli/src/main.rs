//! confab: the command-line program. `confab registry` runs a registry,
//! `confab peer` a person's peer; both are an engine from `confab-engine` run
//! on real sockets by a `confab-mio` driver. This crate only deals with people:
//! flags, folders, passwords, reading commands and printing events.

mod args;
mod clock;
mod fail;
mod keys;
mod logging;
mod paths;
mod peer;
mod registry;
mod safe;
mod signals;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let result = match cli.command {
        Command::Registry(args) => registry::run(args).map(|()| ExitCode::SUCCESS),
        Command::Peer(args) => peer::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A fatal stop may quote the registry's own words.
            eprintln!("confab: error: {}", safe::terminal_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
