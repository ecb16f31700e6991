//! regshell: the Adjoin registry shell.
//!
//! ```text
//! regshell [--db PATH] COMMAND ARGS...     run one command
//! regshell [--db PATH] --file CMDS         run the commands in CMDS (- for stdin)
//! regshell [--db PATH]                     interactive shell
//! ```

use crate::regshell;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use adjoin_registry::Registry;
use anyhow::{Context, Result};
use clap::Parser;

use regshell::{Flow, Shell, run_interactive, split_words};

/// Browse and edit the Adjoin registry (the long help below lists the commands).
#[derive(Debug, Parser)]
#[command(
    name = "regshell",
    version,
    about = "Browse and edit the Adjoin registry.",
    long_about = "Browse and edit the Adjoin registry.\n\n\
        Keys live under HKEY_THIS_MACHINE; names are case-insensitive. Values under \
        HKEY_THIS_MACHINE\\Secrets are stored in a root-only file and cannot be read by other \
        users. Commands: list_keys [KEY], list_values [KEY], add_key KEY, delete_key KEY, \
        delete_tree KEY, set_value KEY NAME TYPE VALUE..., get_value KEY NAME, \
        delete_value KEY NAME, export [KEY] FILE|-, import FILE|-, schema [KEY] \
        (and cd, pwd, ls, help, exit in the shell and in scripts).",
    after_help = "Examples:\n  regshell set_value 'HKEY_THIS_MACHINE\\Services\\test' Greeting REG_SZ hello\n  regshell get_value 'HKEY_THIS_MACHINE\\Services\\test' Greeting\n  regshell set_value 'HKEY_THIS_MACHINE\\Join' DnsServers REG_MULTI_SZ 10.0.0.1 10.0.0.2\n  regshell export backup.reg && regshell import backup.reg\n  regshell --file setup.cmds\n\nSee docs/registry.md for the full reference."
)]
struct Args {
    /// The store's path [default: $ADJOIN_REGISTRY, else /var/lib/adjoin/registry.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,

    /// Run the commands in this file, one per line (`-` reads standard input). Blank lines
    /// and lines starting with # are skipped; the first failing command stops the run.
    #[arg(long, value_name = "CMDS", conflicts_with = "command")]
    file: Option<PathBuf>,

    /// A command and its arguments; without one, an interactive shell starts.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND ARGS"
    )]
    command: Vec<String>,
}

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("regshell: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the store and dispatches; `Ok(false)` when an interactive command failed.
fn run(args: Args) -> Result<bool> {
    let path = args.db.unwrap_or_else(Registry::default_path);
    let reg = Registry::open(&path)
        .with_context(|| format!("cannot open the registry at {}", path.display()))?;
    let mut shell = Shell::new(reg);
    if let Some(file) = args.file {
        run_file(&mut shell, &file)?;
        return Ok(true);
    }
    if args.command.is_empty() {
        return Ok(!run_interactive(shell)?);
    }
    let mut out = std::io::stdout().lock();
    shell.run(&args.command, &mut out)?;
    out.flush()?;
    Ok(true)
}

/// Runs a script; the first error stops it, naming the line.
fn run_file(shell: &mut Shell, file: &std::path::Path) -> Result<()> {
    let name = file.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("cannot open {name}"))?;
        Box::new(BufReader::new(f))
    };
    let mut out = std::io::stdout().lock();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {name}"))?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words = split_words(trimmed).with_context(|| format!("{name}:{}", i + 1))?;
        let flow = shell
            .run(&words, &mut out)
            .with_context(|| format!("{name}:{}: {trimmed}", i + 1))?;
        if flow == Flow::Exit {
            break;
        }
    }
    out.flush()?;
    Ok(())
}
