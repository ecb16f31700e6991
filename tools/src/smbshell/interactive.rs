//! The interactive shell: rustyline with history and completion of commands, remote
//! paths (the directory is listed on demand and cached briefly) and local paths.

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::Context;
use rustyline::completion::{Completer, FilenameCompleter, Pair};

use super::commands::{COMMANDS, Flow, Shell};
use super::paths;
use super::remote::Entry;
use crate::regshell::completion_point;
use crate::repl::{self, Complete, Outcome};

/// What an argument position holds, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// Any remote path.
    Remote,
    /// A remote directory.
    RemoteDir,
    /// A local path.
    Local,
    /// A command name.
    Command,
    /// Nothing to complete.
    Nothing,
}

/// What the argument at `index` (0 = the first after the command) of `command` holds.
fn arg_kind(command: &str, index: usize) -> Arg {
    match (command, index) {
        ("cd", 0) => Arg::RemoteDir,
        ("ls" | "dir" | "rm" | "del" | "rmdir" | "mkdir" | "stat" | "mget", _)
        | ("rename" | "mv", 0 | 1)
        | ("get", 0)
        | ("put", 1) => Arg::Remote,
        ("get", 1) | ("put", 0) | ("lcd" | "lls" | "mput", _) => Arg::Local,
        ("help", 0) => Arg::Command,
        _ => Arg::Nothing,
    }
}

/// Completion against the live share.
struct ShellHelper {
    shell: Rc<RefCell<Shell>>,
    files: FilenameCompleter,
}

impl Complete for ShellHelper {
    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, word, words) = completion_point(line, pos);
        let Some(command) = words.first() else {
            return Ok((start, complete_commands(word)));
        };
        // Flags (-r) do not count as positions.
        let index = words[1..].iter().filter(|w| !w.starts_with('-')).count();
        let candidates = match arg_kind(command, index) {
            Arg::Remote | Arg::RemoteDir => {
                let only_dirs = arg_kind(command, index) == Arg::RemoteDir;
                let mut shell = self.shell.borrow_mut();
                complete_remote(&mut shell, word, only_dirs)
            }
            Arg::Local => return self.files.complete(line, pos, ctx),
            Arg::Command => complete_commands(word),
            Arg::Nothing => Vec::new(),
        };
        Ok((start, candidates))
    }
}

/// Command names starting with `word`.
fn complete_commands(word: &str) -> Vec<Pair> {
    COMMANDS
        .iter()
        .filter(|(name, _, _)| name.starts_with(word))
        .map(|(name, _, _)| Pair {
            display: (*name).to_owned(),
            replacement: format!("{name} "),
        })
        .collect()
}

/// Remote names completing `word`: the entries of the directory typed before its last
/// separator that start with what follows it.
fn complete_remote(shell: &mut Shell, word: &str, only_dirs: bool) -> Vec<Pair> {
    let (typed_parent, prefix) = match word.rfind(['/', '\\']) {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let dir = shell.resolve(typed_parent);
    let separator = if typed_parent.ends_with('\\') {
        '\\'
    } else {
        '/'
    };
    let entries = shell.entries_for_completion(&dir);
    candidates(&entries, typed_parent, prefix, separator, only_dirs)
}

/// The completions of `prefix` among `entries`: directories end with `separator` (to
/// go on typing below them), files with a space.
fn candidates(
    entries: &[Entry],
    typed_parent: &str,
    prefix: &str,
    separator: char,
    only_dirs: bool,
) -> Vec<Pair> {
    let prefix_lower = prefix.to_lowercase();
    entries
        .iter()
        .filter(|e| !only_dirs || e.stat.directory)
        .filter(|e| !e.name.ends_with(paths::PARTIAL_SUFFIX))
        .filter(|e| e.name.to_lowercase().starts_with(&prefix_lower))
        .map(|e| {
            let end = if e.stat.directory {
                separator.to_string()
            } else {
                " ".to_owned()
            };
            let full = format!("{typed_parent}{}", e.name);
            let replacement = if full.contains(char::is_whitespace) && !full.contains('\'') {
                format!("'{full}'{}", end.trim())
            } else {
                format!("{full}{end}")
            };
            Pair {
                display: e.name.clone(),
                replacement,
            }
        })
        .collect()
}

/// Runs the interactive shell until `exit` or end of input. Failures are printed and
/// the shell goes on; returns whether any command failed.
pub(crate) fn run_interactive(shell: Shell) -> anyhow::Result<bool> {
    let shell = Rc::new(RefCell::new(shell));
    let completer = ShellHelper {
        shell: Rc::clone(&shell),
        files: FilenameCompleter::new(),
    };
    repl::run(
        "smbshell",
        completer,
        || format!("smb:{}> ", shell.borrow().cwd()),
        |line| match super::run_line(&mut shell.borrow_mut(), line) {
            Some(Flow::Exit) => Outcome::Exit,
            Some(Flow::Continue) => Outcome::Continue,
            None => Outcome::Failed,
        },
    )
}

#[cfg(test)]
mod tests {
    use adjoin_smb::proto::info::FileStat;

    use super::*;

    fn entry(name: &str, directory: bool) -> Entry {
        Entry {
            name: name.into(),
            stat: FileStat {
                directory,
                name: name.into(),
                ..FileStat::default()
            },
        }
    }

    #[test]
    fn completes_commands_and_knows_each_arguments_kind() {
        let names: Vec<_> = complete_commands("m")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(names, ["mget ", "mput ", "mkdir "]);
        assert_eq!(arg_kind("cd", 0), Arg::RemoteDir);
        assert_eq!(arg_kind("get", 0), Arg::Remote);
        assert_eq!(arg_kind("get", 1), Arg::Local);
        assert_eq!(arg_kind("put", 0), Arg::Local);
        assert_eq!(arg_kind("put", 1), Arg::Remote);
        assert_eq!(arg_kind("pwd", 0), Arg::Nothing);
    }

    #[test]
    fn remote_candidates_keep_what_was_typed_and_mark_directories() {
        let entries = [
            entry("Subdir", true),
            entry("sub.txt", false),
            entry("other", false),
            entry(".sub.bin.smbshell-partial", false),
            entry("sub space", true),
        ];
        let got: Vec<_> = candidates(&entries, "a/", "sub", '/', false)
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(got, ["a/Subdir/", "a/sub.txt ", "'a/sub space'/"]);
        let dirs: Vec<_> = candidates(&entries, r"x\", "s", '\\', true)
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(dirs, [r"x\Subdir\", r"'x\sub space'\"]);
    }
}
