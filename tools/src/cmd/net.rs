//! `net`: Windows' `net` verbs (view, time, user, group, localgroup, share) for a Linux
//! domain member. See docs/net.md.

use crate::{cli, net};

use std::process::ExitCode;

use clap::Parser;

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let cli = net::Cli::parse_from(net::windows_args(std::env::args()));
    cli::init_logging(cli.verbose);
    let runtime = match cli::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("net: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(net::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("net: {e}");
            e.exit_code()
        }
    }
}
