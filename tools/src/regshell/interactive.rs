//! The interactive shell: rustyline with history and completion of commands, key paths,
//! value names, types and file names.

use std::cell::RefCell;
use std::rc::Rc;

use adjoin_registry::{HIVE, ValueType};
use anyhow::Result;
use rustyline::Context;
use rustyline::completion::{Completer, FilenameCompleter, Pair};

use crate::repl::{self, Complete, Outcome};

use super::commands::COMMANDS;
use super::{Flow, Shell, completion_point, split_words};

/// What an argument position holds, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Key,
    ValueName,
    Type,
    File,
    Nothing,
}

/// The argument kinds of each command, by position.
fn arg_kinds(command: &str) -> &'static [Arg] {
    match command {
        "list_keys" | "list_values" | "add_key" | "delete_key" | "delete_tree" | "cd" | "ls"
        | "schema" => &[Arg::Key],
        "set_value" => &[Arg::Key, Arg::ValueName, Arg::Type],
        "get_value" | "delete_value" => &[Arg::Key, Arg::ValueName],
        "export" => &[Arg::Key, Arg::File],
        "import" => &[Arg::File],
        _ => &[],
    }
}

/// Completion against the live registry.
struct RegHelper {
    shell: Rc<RefCell<Shell>>,
    files: FilenameCompleter,
}

impl Complete for RegHelper {
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
        let kind = arg_kinds(command)
            .get(words.len() - 1)
            .copied()
            .unwrap_or(Arg::Nothing);
        let kind = match (command.as_str(), words.len()) {
            // `export FILE` is as likely as `export KEY FILE`: offer keys, files after.
            ("export", 2) => Arg::File,
            _ => kind,
        };
        let shell = self.shell.borrow();
        let candidates = match kind {
            Arg::Key => complete_keys(&shell, word),
            Arg::ValueName => complete_value_names(&shell, &words[1], word),
            Arg::Type => complete_from(ValueType::ALL.iter().map(|t| t.name()), word),
            Arg::File => return self.files.complete(line, pos, ctx),
            Arg::Nothing => Vec::new(),
        };
        Ok((start, candidates))
    }
}

/// Command names starting with `word`.
fn complete_commands(word: &str) -> Vec<Pair> {
    complete_from(COMMANDS.iter().map(|(name, _, _)| *name), word)
}

/// Fixed words starting with `word` (case-insensitively), each followed by a space.
fn complete_from<'a>(options: impl Iterator<Item = &'a str>, word: &str) -> Vec<Pair> {
    options
        .filter(|o| starts_with_ci(o, word))
        .map(|o| Pair {
            display: o.to_owned(),
            replacement: format!("{o} "),
        })
        .collect()
}

/// Subkeys matching the last component of `word`, keeping what was typed before it.
fn complete_keys(shell: &Shell, word: &str) -> Vec<Pair> {
    let (parent_typed, prefix) = match word.rfind('\\') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let mut out = Vec::new();
    if parent_typed.is_empty() && starts_with_ci(HIVE, prefix) && !prefix.is_empty() {
        out.push(Pair {
            display: HIVE.to_owned(),
            replacement: format!("{HIVE}\\"),
        });
    }
    let parent = shell.path(parent_typed);
    let names = shell.registry().subkeys(&parent).unwrap_or_default();
    out.extend(
        names
            .into_iter()
            .filter(|n| starts_with_ci(n, prefix))
            .map(|n| Pair {
                replacement: format!("{parent_typed}{}\\", quote_if_needed(&n)),
                display: n,
            }),
    );
    out
}

/// Value names of the key named by `key_arg` that start with `word`.
fn complete_value_names(shell: &Shell, key_arg: &str, word: &str) -> Vec<Pair> {
    let values = shell
        .registry()
        .values(&shell.path(key_arg))
        .unwrap_or_default();
    values
        .into_iter()
        .filter(|(n, _)| !n.is_empty() && starts_with_ci(n, word))
        .map(|(n, _)| Pair {
            replacement: format!("{} ", quote_if_needed(&n)),
            display: n,
        })
        .collect()
}

/// Case-insensitive prefix test.
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// Single-quotes a word that contains blanks or quotes.
fn quote_if_needed(s: &str) -> String {
    if s.chars()
        .any(|c| c.is_whitespace() || c == '\'' || c == '"')
        && !s.contains('\'')
    {
        format!("'{s}'")
    } else {
        s.to_owned()
    }
}

/// Runs the interactive shell until `exit` or end of input. Errors are printed and the
/// shell goes on; returns whether any command failed.
pub(crate) fn run_interactive(shell: Shell) -> Result<bool> {
    let shell = Rc::new(RefCell::new(shell));
    let completer = RegHelper {
        shell: Rc::clone(&shell),
        files: FilenameCompleter::new(),
    };
    repl::run(
        "regshell",
        completer,
        || format!("{}> ", shell.borrow().cwd()),
        |line| {
            let mut out = std::io::stdout();
            let result = split_words(line).and_then(|w| shell.borrow_mut().run(&w, &mut out));
            match result {
                Ok(Flow::Exit) => Outcome::Exit,
                Ok(Flow::Continue) => Outcome::Continue,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    Outcome::Failed
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_and_types() {
        let names: Vec<_> = complete_commands("list")
            .into_iter()
            .map(|p| p.display)
            .collect();
        assert_eq!(names, ["list_keys", "list_values"]);
        let types: Vec<_> = complete_from(ValueType::ALL.iter().map(|t| t.name()), "reg_m")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(types, ["REG_MULTI_SZ "]);
    }

    #[test]
    fn completes_keys_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let reg = adjoin_registry::Registry::open(dir.path().join("r.db")).unwrap();
        reg.set_value(
            r"HKEY_THIS_MACHINE\Services\adjoind",
            "Log Level",
            &adjoin_registry::Value::Dword(1),
        )
        .unwrap();
        let shell = Shell::new(reg);
        let keys: Vec<_> = complete_keys(&shell, "ser")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(keys, [r"Services\"]);
        let keys: Vec<_> = complete_keys(&shell, r"HKEY_THIS_MACHINE\Services\a")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(keys, [r"HKEY_THIS_MACHINE\Services\adjoind\"]);
        let hive: Vec<_> = complete_keys(&shell, "hk")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(hive, [r"HKEY_THIS_MACHINE\"]);
        let values: Vec<_> = complete_value_names(&shell, r"Services\adjoind", "log")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(values, ["'Log Level' "]);
    }
}
