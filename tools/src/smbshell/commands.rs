//! The commands: what each does, its usage line, and the dispatcher.

use std::io::Write;
use std::path::{Path, PathBuf};

use adjoin_smb::proto::info::{
    FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_HIDDEN,
    FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SYSTEM,
};

use super::error::ShellError;
use super::paths;
use super::remote::{Entry, Remote};
use super::transfer;

/// Whether the shell goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Read the next command.
    Continue,
    /// `exit`.
    Exit,
}

/// Each command: name, usage, what it does.
pub(crate) const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "ls",
        "ls [PATH|PATTERN]",
        "list a remote directory (or the names matching * and ?)",
    ),
    ("dir", "dir [PATH|PATTERN]", "the same as ls"),
    (
        "cd",
        "cd [PATH]",
        "change the remote directory (the share's root without PATH)",
    ),
    ("pwd", "pwd", "print the remote directory"),
    (
        "get",
        "get [-r] REMOTE [LOCAL]",
        "copy a remote file (a directory with -r) here; resumes a partial one",
    ),
    (
        "put",
        "put [-r] LOCAL [REMOTE]",
        "copy a local file (a directory with -r) to the share",
    ),
    (
        "mget",
        "mget PATTERN...",
        "get every remote file matching the patterns",
    ),
    (
        "mput",
        "mput PATTERN...",
        "put every local file matching the patterns",
    ),
    ("mkdir", "mkdir PATH", "create a remote directory"),
    ("rm", "rm PATH|PATTERN", "delete remote files"),
    ("rmdir", "rmdir PATH", "delete an empty remote directory"),
    (
        "rename",
        "rename FROM TO",
        "rename or move a remote file or directory (replaces TO)",
    ),
    (
        "stat",
        "stat PATH",
        "show a remote file's size, times and attributes",
    ),
    (
        "lcd",
        "lcd [PATH]",
        "change the local directory (home without PATH)",
    ),
    ("lls", "lls [PATH]", "list a local directory"),
    ("lpwd", "lpwd", "print the local directory"),
    ("help", "help [COMMAND]", "list the commands, or show one"),
    ("exit", "exit", "leave (also quit, or Ctrl-D)"),
];

/// The shell's state: the share and where we are in it.
#[derive(Debug)]
pub(crate) struct Shell {
    remote: Remote,
    /// The remote directory, share-relative.
    cwd: String,
}

impl Shell {
    /// A shell at the share's root.
    pub(crate) fn new(remote: Remote) -> Self {
        Self {
            remote,
            cwd: String::new(),
        }
    }

    /// The remote directory as shown (`\dir`).
    pub(crate) fn cwd(&self) -> String {
        paths::display(&self.cwd)
    }

    /// `\\server\share`.
    pub(crate) fn unc(&self) -> String {
        self.remote.unc()
    }

    /// A path the user typed, share-relative.
    pub(crate) fn resolve(&self, arg: &str) -> String {
        paths::resolve(&self.cwd, arg)
    }

    /// The entries of `dir` for completion (cached briefly).
    pub(crate) fn entries_for_completion(&mut self, dir: &str) -> Vec<Entry> {
        self.remote.list_cached(dir).unwrap_or_default()
    }

    /// Runs one command (its words); output goes to `out`.
    pub(crate) fn run(
        &mut self,
        words: &[String],
        out: &mut dyn Write,
    ) -> Result<Flow, ShellError> {
        let Some((command, args)) = words.split_first() else {
            return Ok(Flow::Continue);
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match command.as_str() {
            "ls" | "dir" => self.ls(&args, out)?,
            "cd" => self.cd(&args)?,
            "pwd" => line(out, &format!("{}{}", self.unc(), self.cwd())),
            "get" => self.get(&args, out)?,
            "put" => self.put(&args, out)?,
            "mget" => self.mget(&args, out)?,
            "mput" => self.mput(&args, out)?,
            "mkdir" => {
                let [path] = exactly(&args, "mkdir PATH")?;
                self.remote.mkdir(&self.resolve(path))?;
            }
            "rm" | "del" => self.rm(&args)?,
            "rmdir" => {
                let [path] = exactly(&args, "rmdir PATH")?;
                self.remote.delete(&self.resolve(path), true)?;
            }
            "rename" | "mv" => {
                let [from, to] = exactly(&args, "rename FROM TO")?;
                self.rename(from, to)?;
            }
            "stat" => {
                let [path] = exactly(&args, "stat PATH")?;
                self.stat(path, out)?;
            }
            "lcd" => lcd(&args)?,
            "lls" => lls(&args, out)?,
            "lpwd" => line(out, &local_cwd().display().to_string()),
            "help" | "?" => help(&args, out)?,
            "exit" | "quit" | "bye" => return Ok(Flow::Exit),
            other => {
                return Err(ShellError::Usage(format!(
                    "{other}: no such command (help lists them)"
                )));
            }
        }
        Ok(Flow::Continue)
    }

    fn ls(&mut self, args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
        let arg = match args {
            [] => ".",
            [one] => one,
            _ => return Err(usage("ls [PATH|PATTERN]")),
        };
        let path = self.resolve(arg);
        let entries = self.matching(&path, arg)?;
        for e in &entries {
            line(out, &entry_line(e));
        }
        Ok(())
    }

    /// The entries `arg` (resolved to `path`) names: a directory's entries, the names
    /// matching a pattern, or one file.
    fn matching(&mut self, path: &str, arg: &str) -> Result<Vec<Entry>, ShellError> {
        let (parent, last) = paths::split_parent(path);
        if paths::has_wildcards(last) {
            let all = self.remote.list(parent)?;
            return Ok(all
                .into_iter()
                .filter(|e| paths::wildcard_match(last, &e.name, true))
                .collect());
        }
        if path.is_empty() || is_directory(self.remote.stat(path)?.file_attributes) {
            return self.remote.list(path);
        }
        let all = self.remote.list(parent)?;
        let one: Vec<Entry> = all
            .into_iter()
            .filter(|e| e.name.eq_ignore_ascii_case(last))
            .collect();
        if one.is_empty() {
            return Err(ShellError::NotFound {
                path: arg.to_owned(),
            });
        }
        Ok(one)
    }

    fn cd(&mut self, args: &[&str]) -> Result<(), ShellError> {
        let path = match args {
            [] => String::new(),
            [one] => self.resolve(one),
            _ => return Err(usage("cd [PATH]")),
        };
        if !path.is_empty() && !is_directory(self.remote.stat(&path)?.file_attributes) {
            return Err(ShellError::NotADirectory {
                path: paths::display(&path),
            });
        }
        self.cwd = path;
        Ok(())
    }

    fn stat(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        let path = self.resolve(arg);
        let info = self.remote.stat(&path)?;
        let kind = if is_directory(info.file_attributes) {
            "directory"
        } else {
            "file"
        };
        line(out, &format!("File:       {}", paths::display(&path)));
        line(out, &format!("Type:       {kind}"));
        line(out, &format!("Size:       {}", info.end_of_file));
        line(out, &format!("Allocated:  {}", info.allocation_size));
        line(
            out,
            &format!(
                "Attributes: {} (0x{:x})",
                attributes(info.file_attributes),
                info.file_attributes
            ),
        );
        for (name, t) in [
            ("Created:   ", info.creation),
            ("Modified:  ", info.last_write),
            ("Accessed:  ", info.last_access),
            ("Changed:   ", info.change),
        ] {
            line(out, &format!("{name} {}", filetime(t)));
        }
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), ShellError> {
        let from = self.resolve(from);
        let mut to_path = self.resolve(to);
        // Into an existing directory: keep the name.
        if let Ok(info) = self.remote.stat(&to_path)
            && is_directory(info.file_attributes)
        {
            to_path = paths::join(&to_path, paths::split_parent(&from).1);
        }
        self.remote.rename(&from, &to_path, true)
    }

    fn rm(&mut self, args: &[&str]) -> Result<(), ShellError> {
        let [arg] = exactly(args, "rm PATH|PATTERN")?;
        let path = self.resolve(arg);
        let (parent, last) = paths::split_parent(&path);
        if !paths::has_wildcards(last) {
            return self.remote.delete(&path, false);
        }
        let files = self.files_matching(parent, last)?;
        if files.is_empty() {
            return Err(ShellError::NotFound {
                path: arg.to_owned(),
            });
        }
        for name in files {
            self.remote.delete(&paths::join(parent, &name), false)?;
        }
        Ok(())
    }

    /// The names of the files (not directories) in `dir` matching `pattern`.
    fn files_matching(&mut self, dir: &str, pattern: &str) -> Result<Vec<String>, ShellError> {
        Ok(self
            .remote
            .list(dir)?
            .into_iter()
            .filter(|e| !e.stat.directory && paths::wildcard_match(pattern, &e.name, true))
            .map(|e| e.name)
            .collect())
    }

    fn get(&mut self, args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
        let (recursive, args) = recursive_flag(args);
        let (remote, local) = match args.as_slice() {
            [r] => (*r, None),
            [r, l] => (*r, Some(Path::new(l))),
            _ => return Err(usage("get [-r] REMOTE [LOCAL]")),
        };
        let path = self.resolve(remote);
        let name = paths::split_parent(&path).1.to_owned();
        if name.is_empty() {
            return Err(usage(
                "get [-r] REMOTE [LOCAL]: name a file, not the share's root",
            ));
        }
        let target = local_target(local, &name);
        if recursive {
            return self.get_tree(&path, &target, out);
        }
        transfer::get(&mut self.remote, &path, &target, out)
    }

    /// get -r: the directory `path` into the local directory `target`.
    fn get_tree(
        &mut self,
        path: &str,
        target: &Path,
        out: &mut dyn Write,
    ) -> Result<(), ShellError> {
        std::fs::create_dir_all(target).map_err(|e| ShellError::local(target, e))?;
        for e in self.remote.list(path)? {
            let from = paths::join(path, &e.name);
            let to = target.join(&e.name);
            if e.stat.directory {
                self.get_tree(&from, &to, out)?;
            } else if !e.name.ends_with(paths::PARTIAL_SUFFIX) {
                transfer::get(&mut self.remote, &from, &to, out)?;
            }
        }
        Ok(())
    }

    fn put(&mut self, args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
        let (recursive, args) = recursive_flag(args);
        let (local, remote) = match args.as_slice() {
            [l] => (Path::new(l), None),
            [l, r] => (Path::new(l), Some(*r)),
            _ => return Err(usage("put [-r] LOCAL [REMOTE]")),
        };
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| usage("put LOCAL: name a file"))?;
        let mut path = self.resolve(remote.unwrap_or(&name));
        if remote.is_some()
            && let Ok(info) = self.remote.stat(&path)
            && is_directory(info.file_attributes)
        {
            path = paths::join(&path, &name);
        }
        if recursive {
            return self.put_tree(local, &path, out);
        }
        transfer::put(&mut self.remote, local, &path, out)
    }

    /// put -r: the local directory `local` as the remote directory `path`.
    fn put_tree(
        &mut self,
        local: &Path,
        path: &str,
        out: &mut dyn Write,
    ) -> Result<(), ShellError> {
        match self.remote.mkdir(path) {
            Ok(()) | Err(ShellError::Exists { .. }) => {}
            Err(e) => return Err(e),
        }
        let read = std::fs::read_dir(local).map_err(|e| ShellError::local(local, e))?;
        let mut children: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            let name = child
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let to = paths::join(path, &name);
            if child.is_dir() {
                self.put_tree(&child, &to, out)?;
            } else {
                transfer::put(&mut self.remote, &child, &to, out)?;
            }
        }
        Ok(())
    }

    fn mget(&mut self, args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
        if args.is_empty() {
            return Err(usage("mget PATTERN..."));
        }
        for arg in args {
            let path = self.resolve(arg);
            let (parent, last) = paths::split_parent(&path);
            let names = self.files_matching(parent, last)?;
            if names.is_empty() {
                return Err(ShellError::NotFound {
                    path: (*arg).to_owned(),
                });
            }
            for name in names {
                let from = paths::join(parent, &name);
                transfer::get(&mut self.remote, &from, &local_target(None, &name), out)?;
            }
        }
        Ok(())
    }

    fn mput(&mut self, args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
        if args.is_empty() {
            return Err(usage("mput PATTERN..."));
        }
        for arg in args {
            let files = local_matching(arg)?;
            if files.is_empty() {
                return Err(ShellError::Local {
                    path: (*arg).to_owned(),
                    error: std::io::ErrorKind::NotFound.into(),
                });
            }
            for file in files {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let to = self.resolve(&name);
                transfer::put(&mut self.remote, &file, &to, out)?;
            }
        }
        Ok(())
    }
}

/// Whether FileAttributes name a directory.
pub(crate) fn is_directory(attributes: u32) -> bool {
    attributes & FILE_ATTRIBUTE_DIRECTORY != 0
}

/// `-r` among the arguments, and the others.
fn recursive_flag<'a>(args: &[&'a str]) -> (bool, Vec<&'a str>) {
    let recursive = args.iter().any(|a| *a == "-r" || *a == "-R");
    let rest = args
        .iter()
        .copied()
        .filter(|a| *a != "-r" && *a != "-R")
        .collect();
    (recursive, rest)
}

/// Where a get writes `name`: `local` (or into it, when it is a directory), else
/// `name` in the local directory.
fn local_target(local: Option<&Path>, name: &str) -> PathBuf {
    match local {
        Some(l) if l.is_dir() => l.join(name),
        Some(l) => l.to_owned(),
        None => PathBuf::from(name),
    }
}

/// The local files matching `pattern` (wildcards in its last component only).
fn local_matching(pattern: &str) -> Result<Vec<PathBuf>, ShellError> {
    let path = Path::new(pattern);
    let last = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !paths::has_wildcards(&last) {
        return Ok(if path.is_file() {
            vec![path.to_owned()]
        } else {
            Vec::new()
        });
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let read = std::fs::read_dir(&dir).map_err(|e| ShellError::local(&dir, e))?;
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_ok_and(|t| t.is_file())
                && paths::wildcard_match(&last, &e.file_name().to_string_lossy(), false)
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

fn lcd(args: &[&str]) -> Result<(), ShellError> {
    let dir = match args {
        [] => std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from),
        [one] => PathBuf::from(one),
        _ => return Err(usage("lcd [PATH]")),
    };
    std::env::set_current_dir(&dir).map_err(|e| ShellError::local(&dir, e))
}

fn lls(args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
    let dir = match args {
        [] => PathBuf::from("."),
        [one] => PathBuf::from(one),
        _ => return Err(usage("lls [PATH]")),
    };
    let read = std::fs::read_dir(&dir).map_err(|e| ShellError::local(&dir, e))?;
    let mut entries: Vec<(String, bool, u64)> = read
        .filter_map(Result::ok)
        .map(|e| {
            let meta = e.metadata().ok();
            (
                e.file_name().to_string_lossy().into_owned(),
                meta.as_ref().is_some_and(std::fs::Metadata::is_dir),
                meta.map_or(0, |m| m.len()),
            )
        })
        .collect();
    entries.sort();
    for (name, dir, size) in entries {
        let kind = if dir { "D" } else { "" };
        line(out, &format!("  {name:<40} {kind:>4} {size:>14}"));
    }
    Ok(())
}

fn local_cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

fn help(args: &[&str], out: &mut dyn Write) -> Result<(), ShellError> {
    match args {
        [] => {
            for (_, usage, what) in COMMANDS {
                line(out, &format!("  {usage:<26} {what}"));
            }
            Ok(())
        }
        [name] => {
            let (_, usage, what) = COMMANDS
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| ShellError::Usage(format!("{name}: no such command")))?;
            line(out, &format!("{usage}\n  {what}"));
            Ok(())
        }
        _ => Err(usage("help [COMMAND]")),
    }
}

/// `ls`'s line for one entry: name, attributes, size, modification time.
pub(crate) fn entry_line(e: &Entry) -> String {
    let name = if e.stat.directory {
        format!("{}\\", e.name)
    } else {
        e.name.clone()
    };
    format!(
        "  {name:<40} {:>4} {:>14}  {}",
        attributes(e.stat.file_attributes),
        e.stat.end_of_file,
        filetime(e.stat.last_write)
    )
}

/// FileAttributes as letters: D directory, R read-only, H hidden, S system, A archive.
pub(crate) fn attributes(a: u32) -> String {
    [
        (FILE_ATTRIBUTE_DIRECTORY, 'D'),
        (FILE_ATTRIBUTE_READONLY, 'R'),
        (FILE_ATTRIBUTE_HIDDEN, 'H'),
        (FILE_ATTRIBUTE_SYSTEM, 'S'),
        (FILE_ATTRIBUTE_ARCHIVE, 'A'),
    ]
    .iter()
    .filter(|(bit, _)| a & bit != 0)
    .map(|(_, c)| *c)
    .collect()
}

/// A FILETIME (100 ns since 1601) as local `YYYY-MM-DD HH:MM:SS`; `-` for 0.
pub(crate) fn filetime(t: u64) -> String {
    const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;
    if t == 0 {
        return "-".into();
    }
    let Some(since) = t.checked_sub(UNIX_EPOCH_AS_FILETIME) else {
        return "-".into();
    };
    let secs = (since / 10_000_000) as i64;
    let nanos = (since % 10_000_000) as u32 * 100;
    chrono::DateTime::from_timestamp(secs, nanos).map_or_else(
        || "-".into(),
        |d| {
            d.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

fn exactly<'a, const N: usize>(
    args: &[&'a str],
    usage_line: &str,
) -> Result<[&'a str; N], ShellError> {
    <[&str; N]>::try_from(args).map_err(|_| usage(usage_line))
}

fn usage(line: &str) -> ShellError {
    ShellError::Usage(format!("usage: {line}"))
}

fn line(out: &mut dyn Write, text: &str) {
    let _ = writeln!(out, "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_times_read_as_letters_and_dates() {
        assert_eq!(attributes(0x10), "D");
        assert_eq!(attributes(0x21), "RA");
        assert_eq!(attributes(0x80), "");
        assert_eq!(filetime(0), "-");
        // 1970-01-01 00:00:00 UTC is a date in any zone's 1969 or 1970.
        assert!(filetime(116_444_736_000_000_000).starts_with("19"));
    }

    #[test]
    fn get_targets_and_flags() {
        assert_eq!(local_target(None, "a.bin"), PathBuf::from("a.bin"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            local_target(Some(dir.path()), "a.bin"),
            dir.path().join("a.bin")
        );
        assert_eq!(
            local_target(Some(Path::new("/nonexistent/b.bin")), "a.bin"),
            PathBuf::from("/nonexistent/b.bin")
        );
        assert_eq!(recursive_flag(&["-r", "d"]), (true, vec!["d"]));
        assert_eq!(recursive_flag(&["d", "e"]), (false, vec!["d", "e"]));
    }

    #[test]
    fn local_patterns_match_files_in_one_directory() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a.bin", "b.bin", "c.txt"] {
            std::fs::write(dir.path().join(n), n).unwrap();
        }
        std::fs::create_dir(dir.path().join("d.bin")).unwrap();
        let pattern = format!("{}/*.bin", dir.path().display());
        let found = local_matching(&pattern).unwrap();
        assert_eq!(found, [dir.path().join("a.bin"), dir.path().join("b.bin")]);
    }
}
