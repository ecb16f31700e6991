//! `adjoin configure nss|pam`: puts `adjoin` into the `passwd:` and `group:` lines of
//! nsswitch.conf and pam_adjoin.so into Debian's pam.d/common-{auth,account,password,
//! session}, or takes them out again.
//!
//! The transforms ([`nsswitch`], [`pam_stack`]) are text in, text out, and refuse a line
//! they do not understand; [`configure`] reads the files, transforms every one of them
//! before it writes any, then replaces each atomically (same mode and owner) after a
//! one-time backup `FILE.adjoin-backup`. See docs/install.md.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::{ArgGroup, Args, ValueEnum};

/// Why a file cannot be configured; nothing is written when one occurs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ConfigureError {
    /// A line the transform does not understand.
    #[error("{file} line {line} `{text}`: {reason}")]
    Line {
        file: &'static str,
        line: usize,
        text: String,
        reason: String,
    },
    /// The file lacks the shape the transform needs (no pam_unix.so line, two of them,
    /// or a pam_unix.so control without the jump to copy).
    #[error("{file}: {reason}")]
    Unrecognised { file: &'static str, reason: String },
    /// `--module` is neither a file name nor an absolute path.
    #[error(
        "{module:?} is not a PAM module: give a file name such as pam_adjoin.so or an absolute path, without spaces"
    )]
    Module { module: String },
}

fn line_error(file: &'static str, index: usize, line: &str, reason: String) -> ConfigureError {
    ConfigureError::Line {
        file,
        line: index + 1,
        text: line.trim_end().to_owned(),
        reason,
    }
}

/// A line without its comment and newline (and trailing blanks); offsets into it are
/// offsets into the line.
fn content(line: &str) -> &str {
    let end = line.find(['#', '\n']).unwrap_or(line.len());
    line[..end].trim_end()
}

/// The lines of `text`, each with its newline.
fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

/// The byte ranges of the blank-separated words of `s`, offset by `base`.
fn words(s: &str, base: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(s0)) => {
                out.push(base + s0..base + i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// nsswitch.conf

/// The NSS service name: glibc loads libnss_adjoin.so.2 for it.
const NSS_SERVICE: &str = "adjoin";
const NSSWITCH: &str = "nsswitch.conf";
/// The databases adjoin serves.
const NSS_DATABASES: [&str; 2] = ["passwd", "group"];

/// nsswitch.conf with `adjoin` after the existing sources of `passwd:` and `group:`
/// (a missing line is added as `passwd: files adjoin`), or with every `adjoin` source
/// and the `[...]` action right after it taken out. Other lines, comments and blanks
/// stay as they are; enabling twice is enabling once.
pub(crate) fn nsswitch(text: &str, enable: bool) -> Result<String, ConfigureError> {
    let mut lines = split_lines(text);
    for db in NSS_DATABASES {
        match (database_line(&lines, db)?, enable) {
            (Some(i), true) => lines[i] = add_service(&lines[i], i)?,
            (Some(i), false) => lines[i] = remove_service(&lines[i], i, db)?,
            (None, true) => push_line(&mut lines, format!("{db}: files {NSS_SERVICE}\n")),
            (None, false) => {}
        }
    }
    Ok(lines.concat())
}

fn push_line(lines: &mut Vec<String>, line: String) {
    if let Some(last) = lines.last_mut()
        && !last.ends_with('\n')
    {
        last.push('\n');
    }
    lines.push(line);
}

/// The index of the line that configures `db`; two of them are refused.
fn database_line(lines: &[String], db: &str) -> Result<Option<usize>, ConfigureError> {
    let mut found: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let head = content(line).trim_start();
        let end = head
            .find(|c: char| c == ':' || c.is_whitespace())
            .unwrap_or(head.len());
        if &head[..end] != db {
            continue;
        }
        if !head[end..].trim_start().starts_with(':') {
            let reason = format!("no colon after {db}; write it as `{db}: files`");
            return Err(line_error(NSSWITCH, i, line, reason));
        }
        if let Some(first) = found {
            let reason = format!(
                "{db}: is configured again (first on line {}); keep one of the two lines",
                first + 1
            );
            return Err(line_error(NSSWITCH, i, line, reason));
        }
        found = Some(i);
    }
    Ok(found)
}

/// A source or a `[STATUS=action]` of a database line, as a byte range of the line.
#[derive(Debug)]
struct NssItem {
    range: Range<usize>,
    action: bool,
}

fn nss_items(line: &str, index: usize) -> Result<Vec<NssItem>, ConfigureError> {
    let err = |reason: &str| line_error(NSSWITCH, index, line, reason.to_owned());
    let c = content(line);
    let mut pos = c.find(':').map_or(c.len(), |p| p + 1);
    let mut items = Vec::new();
    loop {
        pos += c[pos..].len() - c[pos..].trim_start().len();
        if pos == c.len() {
            return Ok(items);
        }
        if c[pos..].starts_with('[') {
            let close = c[pos..]
                .find(']')
                .ok_or_else(|| err("an action `[` is not closed; close it with `]`"))?;
            let range = pos..pos + close + 1;
            if c[range.clone()].to_ascii_lowercase().contains(NSS_SERVICE) {
                return Err(err(
                    "adjoin inside an action bracket: actions are [STATUS=action]; write adjoin as a source outside the brackets (`files adjoin`) and run again",
                ));
            }
            if items.is_empty() {
                return Err(err("an action before any source; begin with `files`"));
            }
            pos = range.end;
            items.push(NssItem {
                range,
                action: true,
            });
        } else {
            let end = c[pos..]
                .find(|ch: char| ch.is_whitespace() || ch == '[')
                .map_or(c.len(), |e| pos + e);
            if c[pos..end].contains(']') {
                return Err(err("a `]` without its `[`"));
            }
            items.push(NssItem {
                range: pos..end,
                action: false,
            });
            pos = end;
        }
    }
}

fn is_adjoin_source(line: &str, item: &NssItem) -> bool {
    !item.action && &line[item.range.clone()] == NSS_SERVICE
}

fn add_service(line: &str, index: usize) -> Result<String, ConfigureError> {
    let items = nss_items(line, index)?;
    if items.iter().any(|it| is_adjoin_source(line, it)) {
        return Ok(line.to_owned());
    }
    let Some(last) = items.last() else {
        let reason = "no sources: with adjoin alone, root and every local account would vanish; write `files` first and run again";
        return Err(line_error(NSSWITCH, index, line, reason.to_owned()));
    };
    let at = last.range.end;
    Ok(format!("{} {NSS_SERVICE}{}", &line[..at], &line[at..]))
}

fn remove_service(line: &str, index: usize, db: &str) -> Result<String, ConfigureError> {
    let items = nss_items(line, index)?;
    if !items.iter().any(|it| is_adjoin_source(line, it)) {
        return Ok(line.to_owned());
    }
    if items
        .iter()
        .all(|it| it.action || is_adjoin_source(line, it))
    {
        let reason =
            format!("adjoin is the only source of {db}; write `{db}: files adjoin` and run again");
        return Err(line_error(NSSWITCH, index, line, reason));
    }
    // Each adjoin goes with the action right after it; the items kept keep the blanks
    // before them, the line its text before the first item and after the last.
    let mut gone = vec![false; items.len()];
    for (k, item) in items.iter().enumerate() {
        if is_adjoin_source(line, item) {
            gone[k] = true;
            if items.get(k + 1).is_some_and(|n| n.action) {
                gone[k + 1] = true;
            }
        }
    }
    let (first, last) = (&items[0], &items[items.len() - 1]);
    let mut out = line[..first.range.start].to_owned();
    let kept = items.iter().enumerate().filter(|(k, _)| !gone[*k]);
    for (n, (k, item)) in kept.enumerate() {
        if n > 0 {
            out.push_str(&line[items[k - 1].range.end..item.range.start]);
        }
        out.push_str(&line[item.range.clone()]);
    }
    out.push_str(&line[last.range.end..]);
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// pam.d/common-*

/// One of Debian's common-* files, by the PAM stack it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PamKind {
    Auth,
    Account,
    Password,
    Session,
}

impl PamKind {
    pub(crate) const ALL: [Self; 4] = [Self::Auth, Self::Account, Self::Password, Self::Session];

    /// The type column of the stack's lines.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Account => "account",
            Self::Password => "password",
            Self::Session => "session",
        }
    }

    /// Debian's file for the stack, under /etc/pam.d.
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Self::Auth => "common-auth",
            Self::Account => "common-account",
            Self::Password => "common-password",
            Self::Session => "common-session",
        }
    }
}

const PAM_UNIX: &str = "pam_unix.so";
const PAM_ADJOIN: &str = "pam_adjoin.so";
/// pam_adjoin.so's account control: a domain user's refusal stands (`default=bad`),
/// a user adjoind does not know falls through to pam_unix, and so does everyone while
/// adjoind is down (`authinfo_unavail=ignore`: root must never be locked out by it).
const ACCOUNT_CONTROL: &str =
    "[success=ok new_authtok_reqd=done user_unknown=ignore authinfo_unavail=ignore default=bad]";
/// pam_adjoin.so's session control: a failed ccache or home directory does not stop the
/// session.
const SESSION_CONTROL: &str = "optional";

/// The stack of `kind` in `text` with pam_adjoin.so (`module`) in it, or without it.
///
/// auth and password: before the one `TYPE [success=N default=ignore] pam_unix.so` line,
/// `TYPE [success=N+1 default=ignore] MODULE`, so a domain user's success skips pam_unix
/// and what pam_unix's success skips. account: before pam_unix, `account` with
/// [`ACCOUNT_CONTROL`]; session: after pam_unix, `session optional MODULE`. Jumps of
/// lines above that cross the new line grow by one. Any line already naming the module
/// makes enabling a no-op; disabling removes the lines naming it and shrinks those jumps
/// back, so enable-then-disable gives the original bytes.
pub(crate) fn pam_stack(
    kind: PamKind,
    text: &str,
    module: &str,
    enable: bool,
) -> Result<String, ConfigureError> {
    check_module(module)?;
    if !enable && !text.contains(PAM_ADJOIN) && !text.contains(module_name(module)) {
        return Ok(text.to_owned());
    }
    let mut lines = split_lines(text);
    if enable {
        insert_adjoin(kind, &mut lines, module)?;
    } else {
        while remove_adjoin(kind, &mut lines, module)? {}
    }
    Ok(lines.concat())
}

fn check_module(module: &str) -> Result<(), ConfigureError> {
    let bad = module.is_empty()
        || module.ends_with('/')
        || module.contains(|c: char| c.is_whitespace() || matches!(c, '#' | '[' | ']'))
        || (module.contains('/') && !module.starts_with('/'));
    if bad {
        return Err(ConfigureError::Module {
            module: module.to_owned(),
        });
    }
    Ok(())
}

fn module_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A line of the stack being edited.
#[derive(Debug)]
enum StackLine {
    /// A module line (a `substack` line counts as one module too).
    Module(ModuleLine),
    /// `@include` or an `include` control: an unknown number of modules.
    Include,
}

/// A module line's fields as byte ranges of the line.
#[derive(Debug)]
struct ModuleLine {
    /// The type column, with its `-` if any.
    kind: Range<usize>,
    control: Range<usize>,
    module: Range<usize>,
    /// The `value=N` jumps of a `[...]` control: where N stands, and N.
    jumps: Vec<(Range<usize>, usize)>,
}

#[derive(Debug)]
struct Entry {
    /// Index into the file's lines.
    line: usize,
    what: StackLine,
}

/// The lines of the `kind` stack, in order (the positions PAM's jumps count).
fn parse_stack(kind: PamKind, lines: &[String]) -> Result<Vec<Entry>, ConfigureError> {
    let mut stack = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let parsed = parse_pam_line(kind, line)
            .map_err(|reason| line_error(kind.file_name(), i, line, reason))?;
        if let Some(what) = parsed {
            stack.push(Entry { line: i, what });
        }
    }
    Ok(stack)
}

/// A line of the `kind` stack, or `None` for a comment, a blank or another type's line.
fn parse_pam_line(kind: PamKind, line: &str) -> Result<Option<StackLine>, String> {
    let c = content(line);
    if c.ends_with('\\') {
        return Err("a line continued with `\\`; join it into one line and run again".into());
    }
    let Some(ty) = pam_field(c, 0)? else {
        return Ok(None);
    };
    if c[ty.clone()].eq_ignore_ascii_case("@include") {
        return Ok(Some(StackLine::Include));
    }
    if !c[ty.clone()]
        .trim_start_matches('-')
        .eq_ignore_ascii_case(kind.type_name())
    {
        return Ok(None);
    }
    let control = pam_field(c, ty.end)?.ok_or("no control after the type")?;
    if c[control.clone()].eq_ignore_ascii_case("include") {
        return Ok(Some(StackLine::Include));
    }
    let module = pam_field(c, control.end)?.ok_or("no module after the control")?;
    if c[module.clone()].starts_with('[') {
        return Err("a bracket where the module should be".into());
    }
    let jumps = if c[control.clone()].starts_with('[') {
        bracket_jumps(c, &control)?
    } else {
        Vec::new()
    };
    Ok(Some(StackLine::Module(ModuleLine {
        kind: ty,
        control,
        module,
        jumps,
    })))
}

/// The next field of `c` from `from`: a word, or a `[...]` that may hold blanks.
fn pam_field(c: &str, from: usize) -> Result<Option<Range<usize>>, String> {
    let rest = &c[from..];
    let start = from + (rest.len() - rest.trim_start().len());
    if start == c.len() {
        return Ok(None);
    }
    if c[start..].starts_with('[') {
        let close = c[start..]
            .find(']')
            .ok_or("a control `[` is not closed; close it with `]`")?;
        return Ok(Some(start..start + close + 1));
    }
    let end = c[start..]
        .find(char::is_whitespace)
        .map_or(c.len(), |e| start + e);
    Ok(Some(start..end))
}

/// A `value=action` pair of a `[...]` control, and where its action stands.
#[derive(Debug)]
struct Action<'a> {
    value: &'a str,
    action: &'a str,
    at: Range<usize>,
}

fn bracket_actions<'a>(c: &'a str, control: &Range<usize>) -> Result<Vec<Action<'a>>, String> {
    let inner = control.start + 1..control.end - 1;
    let mut out = Vec::new();
    for w in words(&c[inner.clone()], inner.start) {
        let word = &c[w.clone()];
        let (value, action) = word
            .split_once('=')
            .ok_or_else(|| format!("`{word}` in the control is not value=action"))?;
        let at = w.start + value.len() + 1..w.end;
        out.push(Action { value, action, at });
    }
    Ok(out)
}

fn bracket_jumps(c: &str, control: &Range<usize>) -> Result<Vec<(Range<usize>, usize)>, String> {
    let mut jumps = Vec::new();
    for Action { action, at, .. } in bracket_actions(c, control)? {
        if !action.is_empty() && action.bytes().all(|b| b.is_ascii_digit()) {
            let n = action
                .parse()
                .map_err(|_| format!("the jump {action} is too large"))?;
            jumps.push((at, n));
        }
    }
    Ok(jumps)
}

/// Whether the entry is a line of pam_adjoin.so (by the module's file name).
fn names_adjoin(entry: &Entry, lines: &[String], module: &str) -> bool {
    match &entry.what {
        StackLine::Module(m) => {
            let name = module_name(&lines[entry.line][m.module.clone()]);
            name == PAM_ADJOIN || name == module_name(module)
        }
        StackLine::Include => false,
    }
}

fn insert_adjoin(
    kind: PamKind,
    lines: &mut Vec<String>,
    module: &str,
) -> Result<(), ConfigureError> {
    let stack = parse_stack(kind, lines)?;
    if stack.iter().any(|e| names_adjoin(e, lines, module)) {
        return Ok(());
    }
    let (unix, m) = pam_unix_line(kind, &stack, lines)?;
    let at = stack[unix].line;
    let text = &lines[at];
    let control = match kind {
        PamKind::Auth | PamKind::Password => {
            let n = pam_unix_success(kind, at, text, m)?;
            format!("[success={} default=ignore]", n + 1)
        }
        PamKind::Account => ACCOUNT_CONTROL.to_owned(),
        PamKind::Session => SESSION_CONTROL.to_owned(),
    };
    // The new line copies pam_unix's indent and column separators.
    let new = format!(
        "{}{}{}{control}{}{module}\n",
        &text[..m.kind.start],
        kind.type_name(),
        &text[m.kind.end..m.control.start],
        &text[m.control.end..m.module.start],
    );
    let (position, line) = match kind {
        PamKind::Session => (unix + 1, at + 1),
        _ => (unix, at),
    };
    shift_jumps(kind, &stack, lines, position, true)?;
    if line == lines.len()
        && let Some(last) = lines.last_mut()
        && !last.ends_with('\n')
    {
        last.push('\n');
    }
    lines.insert(line, new);
    Ok(())
}

/// Removes the last line naming pam_adjoin.so; false when there is none.
fn remove_adjoin(
    kind: PamKind,
    lines: &mut Vec<String>,
    module: &str,
) -> Result<bool, ConfigureError> {
    let stack = parse_stack(kind, lines)?;
    let Some(r) = stack.iter().rposition(|e| names_adjoin(e, lines, module)) else {
        return Ok(false);
    };
    shift_jumps(kind, &stack, lines, r, false)?;
    lines.remove(stack[r].line);
    Ok(true)
}

/// The one pam_unix.so line of the stack: its position and fields.
fn pam_unix_line<'s>(
    kind: PamKind,
    stack: &'s [Entry],
    lines: &[String],
) -> Result<(usize, &'s ModuleLine), ConfigureError> {
    let found: Vec<(usize, &ModuleLine)> = stack
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.what {
            StackLine::Module(m) if module_name(&lines[e.line][m.module.clone()]) == PAM_UNIX => {
                Some((i, m))
            }
            _ => None,
        })
        .collect();
    let ty = kind.type_name();
    let reason = match found.as_slice() {
        [one] => return Ok(*one),
        [] => format!(
            "no `{ty} ... {PAM_UNIX}` line, and {PAM_ADJOIN} goes next to it; restore Debian's stack with `pam-auth-update` or add {PAM_ADJOIN} by hand (docs/install.md)"
        ),
        many => {
            let at: Vec<String> = many
                .iter()
                .map(|(i, _)| (stack[*i].line + 1).to_string())
                .collect();
            format!(
                "{PAM_UNIX} is on lines {}, and {PAM_ADJOIN} goes next to the one pam_unix line; keep one, or add {PAM_ADJOIN} by hand (docs/install.md)",
                at.join(" and ")
            )
        }
    };
    Err(ConfigureError::Unrecognised {
        file: kind.file_name(),
        reason,
    })
}

/// N of pam_unix.so's `[success=N default=ignore]`.
fn pam_unix_success(
    kind: PamKind,
    at: usize,
    text: &str,
    m: &ModuleLine,
) -> Result<usize, ConfigureError> {
    let control = &text[m.control.clone()];
    let actions = if control.starts_with('[') {
        bracket_actions(text, &m.control).unwrap_or_default()
    } else {
        Vec::new()
    };
    let success = actions
        .iter()
        .find(|a| a.value == "success")
        .filter(|a| a.action.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.action.parse().ok());
    let ignore = actions
        .iter()
        .any(|a| (a.value, a.action) == ("default", "ignore"));
    match success {
        Some(n) if ignore => Ok(n),
        _ => Err(ConfigureError::Unrecognised {
            file: kind.file_name(),
            reason: format!(
                "line {}: {PAM_UNIX}'s control is `{control}`, not `[success=N default=ignore]` as pam-auth-update writes it, so there is no jump for {PAM_ADJOIN} to follow; restore the stack with `pam-auth-update` or add {PAM_ADJOIN} by hand (docs/install.md)",
                at + 1
            ),
        }),
    }
}

/// Grows (`insert`) or shrinks by one every jump of a line above stack position
/// `position` that lands beyond it: the jumps that cross a line inserted at, or removed
/// from, that position.
fn shift_jumps(
    kind: PamKind,
    stack: &[Entry],
    lines: &mut [String],
    position: usize,
    insert: bool,
) -> Result<(), ConfigureError> {
    for (i, entry) in stack[..position].iter().enumerate() {
        let m = match &entry.what {
            StackLine::Module(m) => m,
            StackLine::Include => {
                let reason = format!(
                    "an include above where {PAM_ADJOIN} goes: PAM's jumps across it cannot be counted; add {PAM_ADJOIN} by hand (docs/install.md)"
                );
                return Err(line_error(
                    kind.file_name(),
                    entry.line,
                    &lines[entry.line],
                    reason,
                ));
            }
        };
        let line = &mut lines[entry.line];
        for (at, n) in m.jumps.iter().rev() {
            // A jump of n from position i lands on position i + n + 1.
            if i + n + 1 > position {
                let n = if insert { n + 1 } else { n - 1 };
                line.replace_range(at.clone(), &n.to_string());
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The command

/// What `adjoin configure` edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Target {
    /// glibc's name service switch: `passwd:` and `group:` in nsswitch.conf.
    Nss,
    /// Debian's PAM stacks: pam.d/common-{auth,account,password,session}.
    Pam,
}

/// `adjoin configure nss|pam --enable|--disable`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("switch").required(true).args(["enable", "disable"])))]
pub(crate) struct ConfigureArgs {
    /// nss: DIR/nsswitch.conf; pam: DIR/pam.d/common-{auth,account,password,session}.
    #[arg(value_enum)]
    target: Target,
    /// Add adjoin (a no-op where it is already there).
    #[arg(long)]
    enable: bool,
    /// Take adjoin out again.
    #[arg(long)]
    disable: bool,
    /// The directory holding nsswitch.conf and pam.d.
    #[arg(long, value_name = "DIR", default_value = "/etc")]
    etc: PathBuf,
    /// pam only: the module, as a file name in PAM's module directory or an absolute path.
    #[arg(long, value_name = "PATH")]
    module: Option<String>,
    /// Print the changes as a diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// pam only: enable even if the module is not installed (a stack that names a
    /// missing module refuses every account check, root's included).
    #[arg(long)]
    skip_module_check: bool,
}

/// One file's planned change.
#[derive(Debug)]
struct Change {
    /// The file as named (for messages).
    shown: PathBuf,
    /// The file written (symbolic links resolved).
    path: PathBuf,
    name: &'static str,
    old: String,
    new: String,
}

/// Runs `adjoin configure`: every file is transformed before any is written.
pub(crate) fn configure(args: &ConfigureArgs) -> anyhow::Result<()> {
    let module = args.module.as_deref().unwrap_or(PAM_ADJOIN);
    let changes = match args.target {
        Target::Nss => {
            ensure!(
                args.module.is_none(),
                "--module is for `adjoin configure pam`"
            );
            let path = args.etc.join(NSSWITCH);
            let old = read(&path)?;
            let new = nsswitch(&old, args.enable).map_err(refused)?;
            vec![change(path, NSSWITCH, old, new)?]
        }
        Target::Pam => {
            check_module(module)?;
            if args.enable && !args.skip_module_check {
                match module_installed(module) {
                    Err(e) if args.dry_run => eprintln!("adjoin: warning: {e:#}"),
                    result => result?,
                }
            }
            let mut changes = Vec::new();
            for kind in PamKind::ALL {
                let path = args.etc.join("pam.d").join(kind.file_name());
                let old = read(&path)?;
                let new = pam_stack(kind, &old, module, args.enable).map_err(refused)?;
                changes.push(change(path, kind.file_name(), old, new)?);
            }
            changes
        }
    };
    if args.dry_run {
        print_dry_run(&changes);
        return Ok(());
    }
    write_changes(&changes)?;
    for c in &changes {
        println!("{}", summary(args, module, c));
    }
    if args.target == Target::Pam && args.enable && changes.iter().any(|c| c.old != c.new) {
        println!(
            "Keep this root shell open and try a logon (ssh, or `su - USER`) from another terminal before you close it."
        );
    }
    Ok(())
}

fn refused(e: ConfigureError) -> anyhow::Error {
    anyhow::anyhow!("{e}; nothing was written")
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn change(shown: PathBuf, name: &'static str, old: String, new: String) -> anyhow::Result<Change> {
    let path =
        fs::canonicalize(&shown).with_context(|| format!("cannot resolve {}", shown.display()))?;
    Ok(Change {
        shown,
        path,
        name,
        old,
        new,
    })
}

fn summary(args: &ConfigureArgs, module: &str, c: &Change) -> String {
    let what = match (args.target, args.enable) {
        _ if c.old == c.new => "nothing to change".to_owned(),
        (Target::Nss, true) => format!("passwd and group now use {NSS_SERVICE}"),
        (Target::Nss, false) => format!("passwd and group no longer use {NSS_SERVICE}"),
        (Target::Pam, true) => format!("{} added", module_name(module)),
        (Target::Pam, false) => format!("{} removed", module_name(module)),
    };
    format!("{}: {what}", c.name)
}

fn print_dry_run(changes: &[Change]) {
    let mut any = false;
    for c in changes.iter().filter(|c| c.old != c.new) {
        print!("{}", diff(&c.shown.display().to_string(), &c.old, &c.new));
        any = true;
    }
    if !any {
        println!("nothing to change");
    }
}

/// A module file name is looked for where Debian's Linux-PAM loads modules from.
fn module_installed(module: &str) -> anyhow::Result<()> {
    let found = if module.starts_with('/') {
        Path::new(module).is_file()
    } else {
        module_dirs().iter().any(|d| d.join(module).is_file())
    };
    if !found {
        bail!(
            "{module} is not installed (looked in /usr/lib/*/security and /lib/*/security): a stack naming a missing module refuses every account check, root's too; install it first (tools/install), or pass --skip-module-check if it will be in place before anyone logs on"
        );
    }
    Ok(())
}

fn module_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for base in ["/usr/lib", "/lib", "/usr/lib64", "/lib64"] {
        dirs.push(Path::new(base).join("security"));
        if let Ok(entries) = fs::read_dir(base) {
            dirs.extend(entries.flatten().map(|e| e.path().join("security")));
        }
    }
    dirs
}

/// Writes every changed file; when one fails, the ones written before it are put back.
fn write_changes(changes: &[Change]) -> anyhow::Result<()> {
    let mut written: Vec<&Change> = Vec::new();
    for c in changes.iter().filter(|c| c.old != c.new) {
        if let Some(backup) = backup(&c.path, &c.old)? {
            println!("{}: the original is kept as {}", c.name, backup.display());
        }
        if let Err(e) = replace(&c.path, &c.new) {
            for done in written.iter().rev() {
                if let Err(undo) = replace(&done.path, &done.old) {
                    eprintln!("adjoin: cannot put back {}: {undo:#}", done.path.display());
                }
            }
            return Err(e.context("the files written before it were put back"));
        }
        written.push(c);
    }
    Ok(())
}

/// Saves `original` as `FILE.adjoin-backup` with the file's mode and owner, unless a
/// backup is there already (the first one is the one worth keeping).
fn backup(path: &Path, original: &str) -> anyhow::Result<Option<PathBuf>> {
    let mut name = path.file_name().context("no file name")?.to_owned();
    name.push(".adjoin-backup");
    let backup = path.with_file_name(name);
    let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&backup)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create {}", backup.display()));
        }
    };
    file.write_all(original.as_bytes())
        .and_then(|()| like(&file, &meta))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", backup.display()))?;
    Ok(Some(backup))
}

/// Replaces the file atomically: a temporary file in the same directory with the same
/// mode and owner, renamed over it.
fn replace(path: &Path, text: &str) -> anyhow::Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    let dir = path.parent().context("no directory")?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().context("no file name")?);
    name.push(".adjoin-new");
    let tmp = dir.join(name);
    // A leftover of an interrupted run.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        like(&file, &meta)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Gives `file` the owner and mode of `meta`.
fn like(file: &File, meta: &fs::Metadata) -> std::io::Result<()> {
    let own = file.metadata()?;
    if (own.uid(), own.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    file.set_permissions(Permissions::from_mode(meta.mode() & 0o7777))
}

/// The changed lines of `old` -> `new`: `--- name` and `+++ name`, then for each run of
/// changes a `@@ -LINE,COUNT +LINE,COUNT @@` header and its `-` and `+` lines.
pub(crate) fn diff(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    // common[i][j]: the length of the longest common run of lines of a[i..] and b[j..].
    let mut common = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut out = format!("--- {name}\n+++ {name}\n");
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        let (from_a, from_b) = (i, j);
        let mut hunk = String::new();
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                break;
            }
            if j == b.len() || (i < a.len() && common[i + 1][j] >= common[i][j + 1]) {
                hunk.push_str(&diff_line('-', a[i]));
                i += 1;
            } else {
                hunk.push_str(&diff_line('+', b[j]));
                j += 1;
            }
        }
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n{hunk}",
            from_a + 1,
            i - from_a,
            from_b + 1,
            j - from_b
        ));
    }
    out
}

fn diff_line(sign: char, line: &str) -> String {
    match line.strip_suffix('\n') {
        Some(l) => format!("{sign}{l}\n"),
        None => format!("{sign}{line}\n\\ No newline at end of file\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's (Debian 12) /etc/nsswitch.conf.
    const DEBIAN_NSSWITCH: &str = concat!(
        "# /etc/nsswitch.conf\n",
        "#\n",
        "# Example configuration of GNU Name Service Switch functionality.\n",
        "# If you have the `glibc-doc-reference' and `info' packages installed, try:\n",
        "# `info libc \"Name Service Switch\"' for information about this file.\n",
        "\n",
        "passwd:         files systemd\n",
        "group:          files systemd\n",
        "shadow:         files systemd\n",
        "gshadow:        files systemd\n",
        "\n",
        "hosts:          files dns\n",
        "networks:       files\n",
        "\n",
        "protocols:      db files\n",
        "services:       db files\n",
        "ethers:         db files\n",
        "rpc:            db files\n",
        "\n",
        "netgroup:       nis\n",
    );

    /// This machine's (Debian 12) /etc/pam.d/common-auth.
    const DEBIAN_AUTH: &str = concat!(
        "#\n",
        "# /etc/pam.d/common-auth - authentication settings common to all services\n",
        "#\n",
        "# This file is included from other service-specific PAM config files,\n",
        "# and should contain a list of the authentication modules that define\n",
        "# the central authentication scheme for use on the system\n",
        "# (e.g., /etc/shadow, LDAP, Kerberos, etc.).  The default is to use the\n",
        "# traditional Unix authentication mechanisms.\n",
        "#\n",
        "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
        "# To take advantage of this, it is recommended that you configure any\n",
        "# local modules either before or after the default block, and use\n",
        "# pam-auth-update to manage selection of other modules.  See\n",
        "# pam-auth-update(8) for details.\n",
        "\n",
        "# here are the per-package modules (the \"Primary\" block)\n",
        "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n",
        "# here's the fallback if no module succeeds\n",
        "auth\trequisite\t\t\tpam_deny.so\n",
        "# prime the stack with a positive return value if there isn't one already;\n",
        "# this avoids us returning an error just because nothing sets a success code\n",
        "# since the modules above will each just jump around\n",
        "auth\trequired\t\t\tpam_permit.so\n",
        "# and here are more per-package modules (the \"Additional\" block)\n",
        "auth\toptional\t\t\tpam_cap.so \n",
        "# end of pam-auth-update config\n",
    );

    /// This machine's (Debian 12) /etc/pam.d/common-account.
    const DEBIAN_ACCOUNT: &str = concat!(
        "#\n",
        "# /etc/pam.d/common-account - authorization settings common to all services\n",
        "#\n",
        "# This file is included from other service-specific PAM config files,\n",
        "# and should contain a list of the authorization modules that define\n",
        "# the central access policy for use on the system.  The default is to\n",
        "# only deny service to users whose accounts are expired in /etc/shadow.\n",
        "#\n",
        "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
        "# To take advantage of this, it is recommended that you configure any\n",
        "# local modules either before or after the default block, and use\n",
        "# pam-auth-update to manage selection of other modules.  See\n",
        "# pam-auth-update(8) for details.\n",
        "#\n",
        "\n",
        "# here are the per-package modules (the \"Primary\" block)\n",
        "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so \n",
        "# here's the fallback if no module succeeds\n",
        "account\trequisite\t\t\tpam_deny.so\n",
        "# prime the stack with a positive return value if there isn't one already;\n",
        "# this avoids us returning an error just because nothing sets a success code\n",
        "# since the modules above will each just jump around\n",
        "account\trequired\t\t\tpam_permit.so\n",
        "# and here are more per-package modules (the \"Additional\" block)\n",
        "# end of pam-auth-update config\n",
    );

    /// This machine's (Debian 12) /etc/pam.d/common-password.
    const DEBIAN_PASSWORD: &str = concat!(
        "#\n",
        "# /etc/pam.d/common-password - password-related modules common to all services\n",
        "#\n",
        "# This file is included from other service-specific PAM config files,\n",
        "# and should contain a list of modules that define the services to be\n",
        "# used to change user passwords.  The default is pam_unix.\n",
        "\n",
        "# Explanation of pam_unix options:\n",
        "# The \"yescrypt\" option enables\n",
        "#hashed passwords using the yescrypt algorithm, introduced in Debian\n",
        "#11.  Without this option, the default is Unix crypt.  Prior releases\n",
        "#used the option \"sha512\"; if a shadow password hash will be shared\n",
        "#between Debian 11 and older releases replace \"yescrypt\" with \"sha512\"\n",
        "#for compatibility .  The \"obscure\" option replaces the old\n",
        "#`OBSCURE_CHECKS_ENAB' option in login.defs.  See the pam_unix manpage\n",
        "#for other options.\n",
        "\n",
        "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
        "# To take advantage of this, it is recommended that you configure any\n",
        "# local modules either before or after the default block, and use\n",
        "# pam-auth-update to manage selection of other modules.  See\n",
        "# pam-auth-update(8) for details.\n",
        "\n",
        "# here are the per-package modules (the \"Primary\" block)\n",
        "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n",
        "# here's the fallback if no module succeeds\n",
        "password\trequisite\t\t\tpam_deny.so\n",
        "# prime the stack with a positive return value if there isn't one already;\n",
        "# this avoids us returning an error just because nothing sets a success code\n",
        "# since the modules above will each just jump around\n",
        "password\trequired\t\t\tpam_permit.so\n",
        "# and here are more per-package modules (the \"Additional\" block)\n",
        "# end of pam-auth-update config\n",
    );

    /// This machine's (Debian 12) /etc/pam.d/common-session.
    const DEBIAN_SESSION: &str = concat!(
        "#\n",
        "# /etc/pam.d/common-session - session-related modules common to all services\n",
        "#\n",
        "# This file is included from other service-specific PAM config files,\n",
        "# and should contain a list of modules that define tasks to be performed\n",
        "# at the start and end of interactive sessions.\n",
        "#\n",
        "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
        "# To take advantage of this, it is recommended that you configure any\n",
        "# local modules either before or after the default block, and use\n",
        "# pam-auth-update to manage selection of other modules.  See\n",
        "# pam-auth-update(8) for details.\n",
        "\n",
        "# here are the per-package modules (the \"Primary\" block)\n",
        "session\t[default=1]\t\t\tpam_permit.so\n",
        "# here's the fallback if no module succeeds\n",
        "session\trequisite\t\t\tpam_deny.so\n",
        "# prime the stack with a positive return value if there isn't one already;\n",
        "# this avoids us returning an error just because nothing sets a success code\n",
        "# since the modules above will each just jump around\n",
        "session\trequired\t\t\tpam_permit.so\n",
        "# and here are more per-package modules (the \"Additional\" block)\n",
        "session\trequired\tpam_unix.so \n",
        "session\toptional\tpam_systemd.so \n",
        "# end of pam-auth-update config\n",
    );

    /// Debian's own nsswitch.conf before libnss-systemd adds `systemd`.
    const PLAIN_NSSWITCH: &str = concat!(
        "passwd:         files\n",
        "group:          files\n",
        "shadow:         files\n",
        "gshadow:        files\n",
        "\n",
        "hosts:          files dns\n",
    );

    fn enable_nss(text: &str) -> String {
        nsswitch(text, true).unwrap()
    }

    fn disable_nss(text: &str) -> String {
        nsswitch(text, false).unwrap()
    }

    fn line_of(text: &str, prefix: &str) -> String {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix}"))
            .to_owned()
    }

    #[test]
    fn nsswitch_debian_enable_disable() {
        let on = enable_nss(DEBIAN_NSSWITCH);
        let expected = DEBIAN_NSSWITCH
            .replace(
                "passwd:         files systemd\n",
                "passwd:         files systemd adjoin\n",
            )
            .replace(
                "group:          files systemd\n",
                "group:          files systemd adjoin\n",
            );
        assert_eq!(on, expected);
        assert_eq!(line_of(&on, "shadow:"), "shadow:         files systemd");
        assert_eq!(enable_nss(&on), on, "enabling twice is enabling once");
        assert_eq!(disable_nss(&on), DEBIAN_NSSWITCH);
        assert_eq!(disable_nss(DEBIAN_NSSWITCH), DEBIAN_NSSWITCH);
    }

    #[test]
    fn nsswitch_plain_files() {
        let on = enable_nss(PLAIN_NSSWITCH);
        assert_eq!(line_of(&on, "passwd:"), "passwd:         files adjoin");
        assert_eq!(line_of(&on, "group:"), "group:          files adjoin");
        assert_eq!(line_of(&on, "gshadow:"), "gshadow:        files");
        assert_eq!(disable_nss(&on), PLAIN_NSSWITCH);
    }

    #[test]
    fn nsswitch_keeps_tabs_comments_and_actions() {
        let text = "# passwd: in a comment\npasswd:\tcompat\t# local only\n\
                    group:\tfiles [NOTFOUND=return]\t\n  hosts: files\n";
        let on = enable_nss(text);
        assert_eq!(
            on,
            "# passwd: in a comment\npasswd:\tcompat adjoin\t# local only\n\
             group:\tfiles [NOTFOUND=return] adjoin\t\n  hosts: files\n"
        );
        assert_eq!(disable_nss(&on), text);
    }

    #[test]
    fn nsswitch_adds_missing_lines() {
        assert_eq!(
            enable_nss("hosts: files dns"),
            "hosts: files dns\npasswd: files adjoin\ngroup: files adjoin\n"
        );
        assert_eq!(
            enable_nss("group: files\n"),
            "group: files adjoin\npasswd: files adjoin\n"
        );
        assert_eq!(
            enable_nss(""),
            "passwd: files adjoin\ngroup: files adjoin\n"
        );
        // Disabling leaves the added lines' other sources.
        let off = disable_nss(&enable_nss("hosts: dns\n"));
        assert_eq!(off, "hosts: dns\npasswd: files\ngroup: files\n");
    }

    #[test]
    fn nsswitch_disable_takes_the_action_after_adjoin() {
        let text = "passwd: files adjoin [UNAVAIL=return] systemd\ngroup: adjoin  files\n";
        assert_eq!(disable_nss(text), "passwd: files systemd\ngroup: files\n");
        assert_eq!(
            disable_nss("passwd: adjoin [NOTFOUND=return] adjoin files\ngroup: files\n"),
            "passwd: files\ngroup: files\n"
        );
        assert_eq!(
            disable_nss("passwd: files adjoin adjoin\ngroup: files\n"),
            "passwd: files\ngroup: files\n"
        );
        // Already there, anywhere on the line: nothing to do.
        let text = "passwd: adjoin files\ngroup: files adjoin [NOTFOUND=return]\n";
        assert_eq!(enable_nss(text), text);
    }

    #[test]
    fn nsswitch_leaves_lookalikes() {
        let text = "passwd_compat: nis\ngroupx: files\npasswd: files\ngroup: files\n";
        let on = enable_nss(text);
        assert!(on.starts_with("passwd_compat: nis\ngroupx: files\n"));
        assert_eq!(disable_nss(&on), text);
    }

    fn nss_refusal(text: &str, enable: bool) -> (usize, String) {
        match nsswitch(text, enable) {
            Err(ConfigureError::Line { line, reason, .. }) => (line, reason),
            other => panic!("{text:?}: expected a refused line, got {other:?}"),
        }
    }

    #[test]
    fn nsswitch_refuses_what_it_does_not_understand() {
        let (line, reason) = nss_refusal("hosts: files\npasswd: files [adjoin=return]\n", true);
        assert_eq!(line, 2);
        assert!(reason.contains("inside an action bracket"), "{reason}");
        let (line, _) = nss_refusal("passwd: files [NOTFOUND=return\n", true);
        assert_eq!(line, 1);
        let (line, reason) = nss_refusal("passwd: files\ngroup: files\npasswd: files\n", true);
        assert_eq!(line, 3);
        assert!(reason.contains("first on line 1"), "{reason}");
        let (_, reason) = nss_refusal("passwd:\n", true);
        assert!(reason.contains("write `files` first"), "{reason}");
        let (_, reason) = nss_refusal("passwd files\n", true);
        assert!(reason.contains("no colon"), "{reason}");
        let (_, reason) = nss_refusal("passwd: [NOTFOUND=return] files\n", true);
        assert!(reason.contains("before any source"), "{reason}");
        let (_, reason) = nss_refusal("passwd: files]\n", true);
        assert!(reason.contains("without its `[`"), "{reason}");
        let (_, reason) = nss_refusal("passwd: adjoin\ngroup: files\n", false);
        assert!(reason.contains("only source"), "{reason}");
        // The message names the file, the line and its text.
        let e = nsswitch("passwd: files [adjoin=return]\n", true).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("nsswitch.conf line 1 `passwd: files [adjoin=return]`:"),
            "{msg}"
        );
    }

    fn enable(kind: PamKind, text: &str) -> String {
        pam_stack(kind, text, PAM_ADJOIN, true).unwrap()
    }

    fn disable(kind: PamKind, text: &str) -> String {
        pam_stack(kind, text, PAM_ADJOIN, false).unwrap()
    }

    /// The module lines of a stack, blanks collapsed.
    fn modules(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| !content(l).is_empty())
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// Enabling gives `expected`'s module lines, is idempotent, and disabling gives the
    /// original bytes back.
    fn round_trip(kind: PamKind, text: &str, expected: &[&str]) -> String {
        let on = enable(kind, text);
        assert_eq!(modules(&on), expected, "{}", kind.file_name());
        assert_eq!(enable(kind, &on), on, "enabling twice is enabling once");
        assert_eq!(disable(kind, &on), text, "disabling restores the bytes");
        on
    }

    #[test]
    fn pam_debian_auth() {
        let on = round_trip(
            PamKind::Auth,
            DEBIAN_AUTH,
            &[
                "auth [success=2 default=ignore] pam_adjoin.so",
                "auth [success=1 default=ignore] pam_unix.so nullok",
                "auth requisite pam_deny.so",
                "auth required pam_permit.so",
                "auth optional pam_cap.so",
            ],
        );
        // Tabs as pam_unix's line has them, right above it.
        assert!(on.contains(
            "auth\t[success=2 default=ignore]\tpam_adjoin.so\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
        ));
        assert_eq!(disable(PamKind::Auth, DEBIAN_AUTH), DEBIAN_AUTH);
    }

    #[test]
    fn pam_debian_account() {
        let on = round_trip(
            PamKind::Account,
            DEBIAN_ACCOUNT,
            &[
                "account [success=ok new_authtok_reqd=done user_unknown=ignore authinfo_unavail=ignore default=bad] pam_adjoin.so",
                "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so",
                "account requisite pam_deny.so",
                "account required pam_permit.so",
            ],
        );
        assert!(on.contains(
            "account\t[success=ok new_authtok_reqd=done user_unknown=ignore authinfo_unavail=ignore default=bad]\tpam_adjoin.so\n"
        ));
    }

    #[test]
    fn pam_debian_password() {
        round_trip(
            PamKind::Password,
            DEBIAN_PASSWORD,
            &[
                "password [success=2 default=ignore] pam_adjoin.so",
                "password [success=1 default=ignore] pam_unix.so obscure yescrypt",
                "password requisite pam_deny.so",
                "password required pam_permit.so",
            ],
        );
    }

    #[test]
    fn pam_debian_session() {
        let on = round_trip(
            PamKind::Session,
            DEBIAN_SESSION,
            &[
                "session [default=1] pam_permit.so",
                "session requisite pam_deny.so",
                "session required pam_permit.so",
                "session required pam_unix.so",
                "session optional pam_adjoin.so",
                "session optional pam_systemd.so",
            ],
        );
        assert!(on.contains("session\trequired\tpam_unix.so \nsession\toptional\tpam_adjoin.so\n"));
    }

    #[test]
    fn pam_jumps_over_the_new_line_grow() {
        // pam_sss above pam_unix: its success=2 skipped pam_unix and pam_deny; now it
        // must skip pam_adjoin too.
        let text = concat!(
            "auth [success=2 default=ignore] pam_sss.so\n",
            "auth [success=1 default=ignore] pam_unix.so nullok try_first_pass\n",
            "auth requisite pam_deny.so\n",
            "auth required pam_permit.so\n",
        );
        round_trip(
            PamKind::Auth,
            text,
            &[
                "auth [success=3 default=ignore] pam_sss.so",
                "auth [success=2 default=ignore] pam_adjoin.so",
                "auth [success=1 default=ignore] pam_unix.so nullok try_first_pass",
                "auth requisite pam_deny.so",
                "auth required pam_permit.so",
            ],
        );
        // Jumps that land before the new line, and other types' lines, stay; every jump
        // of the line right above it crosses it.
        let text = concat!(
            "auth [success=1 default=ignore] pam_a.so\n",
            "auth [default=0] pam_b.so\n",
            "session [default=5] pam_c.so\n",
            "auth [success=4 new_authtok_reqd=2 default=ignore] pam_d.so\n",
            "auth [success=1 default=ignore] pam_unix.so\n",
            "auth requisite pam_deny.so\n",
        );
        round_trip(
            PamKind::Auth,
            text,
            &[
                "auth [success=1 default=ignore] pam_a.so",
                "auth [default=0] pam_b.so",
                "session [default=5] pam_c.so",
                "auth [success=5 new_authtok_reqd=3 default=ignore] pam_d.so",
                "auth [success=2 default=ignore] pam_adjoin.so",
                "auth [success=1 default=ignore] pam_unix.so",
                "auth requisite pam_deny.so",
            ],
        );
    }

    #[test]
    fn pam_auth_update_stack_with_sss() {
        // pam-auth-update with libpam-sss: pam_unix first, its jump spans pam_sss.
        let text = concat!(
            "auth\t[success=2 default=ignore]\tpam_unix.so nullok\n",
            "auth\t[success=1 default=ignore]\tpam_sss.so use_first_pass\n",
            "auth\trequisite\t\t\tpam_deny.so\n",
            "auth\trequired\t\t\tpam_permit.so\n",
        );
        round_trip(
            PamKind::Auth,
            text,
            &[
                "auth [success=3 default=ignore] pam_adjoin.so",
                "auth [success=2 default=ignore] pam_unix.so nullok",
                "auth [success=1 default=ignore] pam_sss.so use_first_pass",
                "auth requisite pam_deny.so",
                "auth required pam_permit.so",
            ],
        );
        let session = concat!(
            "session\t[default=1]\t\t\tpam_permit.so\n",
            "session\trequisite\t\t\tpam_deny.so\n",
            "session\trequired\t\t\tpam_permit.so\n",
            "session optional\t\t\tpam_umask.so\n",
            "session\trequired\tpam_unix.so \n",
            "session\toptional\t\t\tpam_sss.so \n",
            "-session\toptional\tpam_systemd.so \n",
        );
        round_trip(
            PamKind::Session,
            session,
            &[
                "session [default=1] pam_permit.so",
                "session requisite pam_deny.so",
                "session required pam_permit.so",
                "session optional pam_umask.so",
                "session required pam_unix.so",
                "session optional pam_adjoin.so",
                "session optional pam_sss.so",
                "-session optional pam_systemd.so",
            ],
        );
    }

    #[test]
    fn pam_session_jump_from_pam_unix_grows() {
        let text = "session [success=1 default=ignore] pam_unix.so\nsession optional pam_x.so\n\
                    session required pam_permit.so\n";
        round_trip(
            PamKind::Session,
            text,
            &[
                "session [success=2 default=ignore] pam_unix.so",
                "session optional pam_adjoin.so",
                "session optional pam_x.so",
                "session required pam_permit.so",
            ],
        );
        // pam_unix last, without a final newline.
        let on = enable(PamKind::Session, "session required pam_unix.so");
        assert_eq!(
            on,
            "session required pam_unix.so\nsession optional pam_adjoin.so\n"
        );
    }

    #[test]
    fn pam_spaces_and_absolute_module() {
        let text = "  auth    [success=1 default=ignore]   pam_unix.so nullok  # local\n\
                    auth requisite pam_deny.so\n";
        let module = "/usr/local/lib/security/pam_adjoin.so";
        let on = pam_stack(PamKind::Auth, text, module, true).unwrap();
        assert!(on.starts_with(
            "  auth    [success=2 default=ignore]   /usr/local/lib/security/pam_adjoin.so\n  auth    [success=1"
        ));
        // Disabling matches the module's file name, whatever the path.
        assert_eq!(disable(PamKind::Auth, &on), text);
        assert_eq!(pam_stack(PamKind::Auth, &on, module, false).unwrap(), text);
        // A line already naming pam_adjoin.so by another path: nothing to add.
        assert_eq!(enable(PamKind::Auth, &on), on);
    }

    #[test]
    fn pam_disable_removes_hand_written_lines() {
        let text = concat!(
            "auth [success=3 default=ignore] pam_sss.so\n",
            "auth sufficient pam_adjoin.so debug\n",
            "auth [success=1 default=ignore] pam_unix.so\n",
            "auth requisite pam_deny.so\n",
            "auth required pam_permit.so\n",
        );
        assert_eq!(enable(PamKind::Auth, text), text);
        assert_eq!(
            modules(&disable(PamKind::Auth, text)),
            [
                "auth [success=2 default=ignore] pam_sss.so",
                "auth [success=1 default=ignore] pam_unix.so",
                "auth requisite pam_deny.so",
                "auth required pam_permit.so",
            ]
        );
        // Another type's pam_adjoin.so line is not this stack's.
        let text = "session optional pam_adjoin.so\nauth required pam_permit.so\n";
        assert_eq!(disable(PamKind::Auth, text), text);
    }

    fn unrecognised(kind: PamKind, text: &str) -> String {
        match pam_stack(kind, text, PAM_ADJOIN, true) {
            Err(ConfigureError::Unrecognised { file, reason }) => {
                assert_eq!(file, kind.file_name());
                reason
            }
            other => panic!("{text:?}: expected Unrecognised, got {other:?}"),
        }
    }

    #[test]
    fn pam_refuses_stacks_without_one_usable_pam_unix() {
        let reason = unrecognised(PamKind::Auth, "auth required pam_permit.so\n");
        assert!(
            reason.contains("no `auth ... pam_unix.so` line"),
            "{reason}"
        );
        // Commented out is missing too.
        unrecognised(PamKind::Session, "#session required pam_unix.so\n");
        let reason = unrecognised(
            PamKind::Account,
            "account required pam_unix.so\naccount required pam_unix.so\n",
        );
        assert!(reason.contains("lines 1 and 2"), "{reason}");
        let reason = unrecognised(PamKind::Auth, "auth required pam_unix.so nullok\n");
        assert!(reason.contains("control is `required`"), "{reason}");
        let reason = unrecognised(
            PamKind::Password,
            "password [success=end default=ignore] pam_unix.so\n",
        );
        assert!(reason.contains("line 1"), "{reason}");
        unrecognised(
            PamKind::Auth,
            "auth [success=1 default=die] pam_unix.so\nauth requisite pam_deny.so\n",
        );
        // pam_unix in another stack does not count.
        unrecognised(PamKind::Auth, "account required pam_unix.so\n");
        // The refusal names the file.
        let e = pam_stack(PamKind::Auth, "", PAM_ADJOIN, true).unwrap_err();
        assert!(e.to_string().starts_with("common-auth: no `auth"), "{e}");
    }

    fn refused_line(kind: PamKind, text: &str) -> (usize, String) {
        match pam_stack(kind, text, PAM_ADJOIN, true) {
            Err(ConfigureError::Line { line, reason, .. }) => (line, reason),
            other => panic!("{text:?}: expected a refused line, got {other:?}"),
        }
    }

    #[test]
    fn pam_refuses_lines_it_cannot_read() {
        let unix = "auth [success=1 default=ignore] pam_unix.so\n";
        let (line, _) = refused_line(PamKind::Auth, &format!("auth [success=1 pam_x.so\n{unix}"));
        assert_eq!(line, 1);
        let (line, reason) =
            refused_line(PamKind::Auth, &format!("{unix}auth [success] pam_x.so\n"));
        assert_eq!(line, 2);
        assert!(reason.contains("not value=action"), "{reason}");
        let (_, reason) = refused_line(
            PamKind::Auth,
            &format!("auth required \\\n pam_x.so\n{unix}"),
        );
        assert!(reason.contains("continued"), "{reason}");
        let (_, reason) = refused_line(PamKind::Auth, &format!("auth required\n{unix}"));
        assert!(reason.contains("no module"), "{reason}");
        // An include above the insertion point hides how many modules PAM counts.
        let (line, reason) = refused_line(PamKind::Auth, &format!("@include common-x\n{unix}"));
        assert_eq!(line, 1);
        assert!(reason.contains("include"), "{reason}");
        refused_line(PamKind::Auth, &format!("auth include other\n{unix}"));
        // Below it, an include is fine.
        let text = format!("{unix}@include common-x\n");
        assert_eq!(disable(PamKind::Auth, &enable(PamKind::Auth, &text)), text);
        // Other types' lines are not read.
        let text = format!("session [broken pam_x.so\n{unix}");
        assert_eq!(disable(PamKind::Auth, &enable(PamKind::Auth, &text)), text);
    }

    #[test]
    fn pam_refuses_odd_module_names() {
        for module in ["", "pam adjoin.so", "lib/pam_adjoin.so", "/usr/lib/", "[x]"] {
            assert!(
                matches!(
                    pam_stack(PamKind::Auth, DEBIAN_AUTH, module, true),
                    Err(ConfigureError::Module { .. })
                ),
                "{module:?}"
            );
        }
    }

    #[test]
    fn pam_disable_without_adjoin_is_a_no_op() {
        for kind in PamKind::ALL {
            assert_eq!(disable(kind, "anything [ at all\n"), "anything [ at all\n");
        }
    }

    #[test]
    fn diff_shows_changed_lines() {
        assert_eq!(diff("f", "a\nb\n", "a\nb\n"), "--- f\n+++ f\n");
        assert_eq!(
            diff("f", "a\nb\nc\n", "a\nx\nb\nc\ny\n"),
            "--- f\n+++ f\n@@ -2,0 +2,1 @@\n+x\n@@ -4,0 +5,1 @@\n+y\n"
        );
        assert_eq!(
            diff("f", "a\nb\nc", "a\nB\nc"),
            "--- f\n+++ f\n@@ -2,1 +2,1 @@\n-b\n+B\n"
        );
        assert_eq!(
            diff("f", "a", ""),
            "--- f\n+++ f\n@@ -1,1 +1,0 @@\n-a\n\\ No newline at end of file\n"
        );
        let on = enable(PamKind::Auth, DEBIAN_AUTH);
        assert!(
            diff("common-auth", DEBIAN_AUTH, &on)
                .ends_with("@@ -17,0 +17,1 @@\n+auth\t[success=2 default=ignore]\tpam_adjoin.so\n")
        );
    }
}
