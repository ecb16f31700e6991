//! The interactive loop regshell and smbshell share: rustyline with history in
//! `$HOME/.<tool>_history` and Tab completion from the shell's own [`Complete`]; Ctrl-C
//! drops the line being typed, Ctrl-D (or the shell's exit command) ends the loop.

use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

/// A shell's completion of the word at `pos` of `line`: where the replacement starts and
/// the candidates.
pub(crate) trait Complete {
    /// The candidates (rustyline's `Completer::complete`).
    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)>;
}

/// What running one line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Go on.
    Continue,
    /// The command failed (its message is printed); go on.
    Failed,
    /// Leave the shell.
    Exit,
}

/// rustyline's helper around a [`Complete`]: completion only, no hints or highlighting.
struct Completing<C>(C);

impl<C: Complete> Helper for Completing<C> {}
impl<C: Complete> Hinter for Completing<C> {
    type Hint = String;
}
impl<C: Complete> Highlighter for Completing<C> {}
impl<C: Complete> Validator for Completing<C> {}

impl<C: Complete> Completer for Completing<C> {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        self.0.complete(line, pos, ctx)
    }
}

/// Reads lines with `completer`'s completion and `prompt()` until end of input or
/// [`Outcome::Exit`], handing each to `run_line`; the history is kept in
/// `$HOME/.<tool>_history`. Returns whether any line failed.
pub(crate) fn run(
    tool: &str,
    completer: impl Complete,
    mut prompt: impl FnMut() -> String,
    mut run_line: impl FnMut(&str) -> Outcome,
) -> anyhow::Result<bool> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(true)
        .build();
    let mut editor: Editor<_, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(Completing(completer)));
    let history =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(format!(".{tool}_history")));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut failed = false;
    loop {
        let line = match editor.readline(&prompt()) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        match run_line(&line) {
            Outcome::Exit => break,
            Outcome::Continue => {}
            Outcome::Failed => failed = true,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(failed)
}
