//! smbshell: an interactive SMB client for one share, with completion of remote
//! paths, progress lines, resumable gets and a batch mode.

mod commands;
mod error;
mod interactive;
mod paths;
mod progress;
mod remote;
mod transfer;

pub(crate) use commands::{Flow, Shell};
pub(crate) use error::ShellError;
pub(crate) use interactive::run_interactive;
pub(crate) use remote::{Remote, Target, dfs_referral};

use crate::regshell::split_words;

/// Runs one command line; a failure is printed as one line on stderr (naming the
/// command) and gives `None`.
pub(crate) fn run_line(shell: &mut Shell, line: &str) -> Option<Flow> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Some(Flow::Continue);
    }
    let words = match split_words(trimmed) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("smbshell: {trimmed}: {e}");
            return None;
        }
    };
    let mut out = std::io::stdout().lock();
    match shell.run(&words, &mut out) {
        Ok(flow) => Some(flow),
        Err(e) => {
            drop(out);
            eprintln!("smbshell: {}: {e}", words[0]);
            None
        }
    }
}

/// Runs `lines` in order (all of them: a failure does not stop the rest, until
/// `exit`); returns whether any failed.
pub(crate) fn run_batch(shell: &mut Shell, lines: impl IntoIterator<Item = String>) -> bool {
    let mut failed = false;
    for line in lines {
        match run_line(shell, &line) {
            Some(Flow::Exit) => break,
            Some(Flow::Continue) => {}
            None => failed = true,
        }
    }
    failed
}

/// Splits `-c` text into commands at `;` outside quotes.
pub(crate) fn split_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (c, quote) {
            ('\'' | '"', None) => {
                quote = Some(c);
                current.push(c);
            }
            (c, Some(q)) if c == q => {
                quote = None;
                current.push(c);
            }
            (';', None) => commands.push(std::mem::take(&mut current)),
            (c, _) => current.push(c),
        }
    }
    commands.push(current);
    commands
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_at_semicolons_outside_quotes() {
        assert_eq!(
            split_commands("ls; get 'a;b' x ;  ; pwd"),
            ["ls", "get 'a;b' x", "pwd"]
        );
        assert!(split_commands(" ; ").is_empty());
    }
}
