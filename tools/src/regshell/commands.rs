//! The commands, shared by the command line, `--file` scripts and the interactive shell.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use adjoin_registry::{HIVE, Registry, Value, ValueType, schema};
use anyhow::{Context, Result, anyhow, bail};

use super::paths::resolve;

/// Every command with its arguments and a one-line description, for help and completion.
pub(crate) const COMMANDS: &[(&str, &str, &str)] = &[
    ("list_keys", "[KEY]", "list the subkeys of KEY"),
    (
        "list_values",
        "[KEY]",
        "list the values of KEY: name, type, data",
    ),
    ("add_key", "KEY", "create KEY and any missing parents"),
    (
        "delete_key",
        "KEY",
        "delete KEY, which must have no subkeys",
    ),
    (
        "delete_tree",
        "KEY",
        "delete KEY with all its subkeys and values",
    ),
    (
        "set_value",
        "KEY NAME TYPE VALUE...",
        "set a value; TYPE is REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD, REG_MULTI_SZ or REG_BINARY",
    ),
    (
        "get_value",
        "KEY NAME",
        "print a value (or the schema's default)",
    ),
    ("delete_value", "KEY NAME", "delete a value"),
    (
        "export",
        "[KEY] FILE|-",
        "write KEY (default: everything) as a .reg file",
    ),
    ("import", "FILE|-", "apply a .reg file, all or nothing"),
    (
        "schema",
        "[KEY]",
        "list the known settings (under KEY) with type, default, range and documentation",
    ),
    ("cd", "[KEY]", "change the current key (default: the root)"),
    ("pwd", "", "print the current key"),
    ("ls", "[KEY]", "list subkeys (ending in \\) and values"),
    ("help", "", "show this list"),
    ("exit", "", "leave the shell (also quit, Ctrl-D)"),
];

/// Whether the shell goes on after a command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Read the next command.
    Continue,
    /// `exit` or `quit`.
    Exit,
}

/// An open registry and the current key.
#[derive(Debug)]
pub(crate) struct Shell {
    reg: Registry,
    cwd: String,
}

impl Shell {
    /// A shell at the root key.
    pub(crate) fn new(reg: Registry) -> Self {
        Self {
            reg,
            cwd: HIVE.to_owned(),
        }
    }

    /// The registry.
    pub(crate) fn registry(&self) -> &Registry {
        &self.reg
    }

    /// The current key.
    pub(crate) fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Runs one command given as words; output goes to `out`.
    pub(crate) fn run(&mut self, words: &[String], out: &mut dyn Write) -> Result<Flow> {
        let Some((cmd, args)) = words.split_first() else {
            return Ok(Flow::Continue);
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match (cmd.as_str(), args.as_slice()) {
            ("exit" | "quit", []) => return Ok(Flow::Exit),
            ("help", []) => help(out)?,
            ("pwd", []) => writeln!(out, "{}", self.cwd)?,
            ("cd", key) if key.len() <= 1 => self.cd(key.first().copied())?,
            ("ls", key) if key.len() <= 1 => self.ls(key.first().copied(), out)?,
            ("list_keys", key) if key.len() <= 1 => self.list_keys(key.first().copied(), out)?,
            ("list_values", key) if key.len() <= 1 => {
                self.list_values(key.first().copied(), out)?;
            }
            ("add_key", [key]) => self.reg.create_key(&self.path(key))?,
            ("delete_key", [key]) => self.reg.delete_key(&self.path(key))?,
            ("delete_tree", [key]) => self.reg.delete_tree(&self.path(key))?,
            ("set_value", [key, name, ty, values @ ..]) => {
                let value = parse_value(ty, values)?;
                self.reg.set_value(&self.path(key), name, &value)?;
            }
            ("get_value", [key, name]) => {
                writeln!(out, "{}", self.reg.get_value(&self.path(key), name)?)?;
            }
            ("delete_value", [key, name]) => self.reg.delete_value(&self.path(key), name)?,
            ("export", [file]) => self.export(None, file, out)?,
            ("export", [key, file]) => self.export(Some(key), file, out)?,
            ("import", [file]) => self.import(file)?,
            ("schema", key) if key.len() <= 1 => self.schema(key.first().copied(), out)?,
            (name, _) => return Err(usage(name)),
        }
        Ok(Flow::Continue)
    }

    /// A key argument resolved against the current key.
    pub(crate) fn path(&self, arg: &str) -> String {
        resolve(&self.cwd, arg)
    }

    /// The current key or the given one.
    fn path_or_cwd(&self, arg: Option<&str>) -> String {
        arg.map_or_else(|| self.cwd.clone(), |a| self.path(a))
    }

    /// `cd [KEY]`.
    fn cd(&mut self, key: Option<&str>) -> Result<()> {
        let path = key.map_or_else(|| HIVE.to_owned(), |k| self.path(k));
        self.cwd = self.reg.open_key(&path)?;
        Ok(())
    }

    /// `list_keys [KEY]`.
    fn list_keys(&self, key: Option<&str>, out: &mut dyn Write) -> Result<()> {
        for name in self.reg.subkeys(&self.path_or_cwd(key))? {
            writeln!(out, "{name}")?;
        }
        Ok(())
    }

    /// `list_values [KEY]`.
    fn list_values(&self, key: Option<&str>, out: &mut dyn Write) -> Result<()> {
        for (name, value) in self.reg.values(&self.path_or_cwd(key))? {
            let shown = if name.is_empty() { "(default)" } else { &name };
            writeln!(out, "{shown}\t{}\t{}", value.value_type(), one_line(&value))?;
        }
        Ok(())
    }

    /// `ls [KEY]`: subkeys with a trailing `\`, then values.
    fn ls(&self, key: Option<&str>, out: &mut dyn Write) -> Result<()> {
        for name in self.reg.subkeys(&self.path_or_cwd(key))? {
            writeln!(out, "{name}\\")?;
        }
        self.list_values(key, out)
    }

    /// `export [KEY] FILE|-`.
    fn export(&self, key: Option<&str>, file: &str, out: &mut dyn Write) -> Result<()> {
        let path = key.map(|k| self.path(k));
        let text = self.reg.export(path.as_deref())?;
        if file == "-" {
            out.write_all(text.as_bytes())?;
        } else {
            // An export that carries secret values (root reading HKEY_THIS_MACHINE\Secrets)
            // must not become readable by all: such files are created 0600.
            let secret = text.contains(&format!("[{}", adjoin_registry::SECRETS_KEY));
            let mode = if secret { 0o600 } else { 0o644 };
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(file)
                .with_context(|| format!("cannot write {file}"))?;
            if secret {
                f.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(text.as_bytes())
                .with_context(|| format!("cannot write {file}"))?;
        }
        Ok(())
    }

    /// `import FILE|-`.
    fn import(&self, file: &str) -> Result<()> {
        let bytes = if file == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            buf
        } else {
            fs::read(file).with_context(|| format!("cannot read {file}"))?
        };
        let text = adjoin_registry::decode_reg_file(&bytes).with_context(|| file.to_owned())?;
        self.reg
            .import(&text)
            .with_context(|| format!("{file}: nothing was imported"))?;
        Ok(())
    }

    /// `schema [KEY]`.
    fn schema(&self, key: Option<&str>, out: &mut dyn Write) -> Result<()> {
        let filter = key.map(|k| self.path(k).to_lowercase());
        for s in schema::SETTINGS {
            let key_lc = s.key.to_lowercase();
            if filter
                .as_ref()
                .is_some_and(|f| !(key_lc == *f || key_lc.starts_with(&format!("{f}\\"))))
            {
                continue;
            }
            let default = s
                .default_value()
                .map_or_else(|| "(none)".to_owned(), |v| one_line(&v));
            let range = s
                .allowed()
                .map(|r| format!(", allowed {r}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{}\\{}\t{}\tdefault {default}{range}\n    {}",
                s.key, s.name, s.value_type, s.doc
            )?;
        }
        Ok(())
    }
}

/// The usage error for a command called with the wrong arguments (or an unknown one).
fn usage(name: &str) -> anyhow::Error {
    match COMMANDS.iter().find(|(n, _, _)| *n == name) {
        Some((n, args, _)) => anyhow!("usage: {n} {args}"),
        None => anyhow!("unknown command {name:?} (try help)"),
    }
}

/// `help`.
fn help(out: &mut dyn Write) -> Result<()> {
    for (name, args, what) in COMMANDS {
        writeln!(out, "  {:<38} {what}", format!("{name} {args}"))?;
    }
    writeln!(
        out,
        "KEY is absolute (HKEY_THIS_MACHINE\\...), from the root (\\...) or relative to the current key."
    )?;
    writeln!(
        out,
        "NAME '' is the key's default value. Quote words with spaces in '...' or \"...\"."
    )?;
    Ok(())
}

/// Builds a value from `set_value` arguments.
pub(crate) fn parse_value(ty: &str, args: &[&str]) -> Result<Value> {
    let ty: ValueType = ty.parse()?;
    let one = || match args {
        [v] => Ok(*v),
        _ => Err(anyhow!("{ty} takes exactly one VALUE, got {}", args.len())),
    };
    let value = match ty {
        ValueType::Sz => Value::Sz(one()?.to_owned()),
        ValueType::ExpandSz => Value::ExpandSz(one()?.to_owned()),
        ValueType::Dword => Value::Dword(
            u32::try_from(parse_number(one()?)?)
                .map_err(|_| anyhow!("REG_DWORD must be at most 4294967295"))?,
        ),
        ValueType::Qword => Value::Qword(parse_number(one()?)?),
        ValueType::MultiSz => Value::MultiSz(args.iter().map(|s| (*s).to_owned()).collect()),
        ValueType::Binary => Value::Binary(parse_hex(&args.concat())?),
    };
    Ok(value)
}

/// A decimal or `0x` hexadecimal number.
fn parse_number(s: &str) -> Result<u64> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| anyhow!("{s:?} is not a number (decimal, or hex with 0x)"))
}

/// Hex bytes, optionally separated by `,`, `:` or spaces: `de,ad,be,ef` or `deadbeef`.
fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b',' | b':' | b' '))
        .collect();
    if !digits.len().is_multiple_of(2) || !digits.iter().all(u8::is_ascii_hexdigit) {
        bail!("REG_BINARY VALUE must be hex bytes, for example de,ad,be,ef or deadbeef");
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair)?;
            Ok(u8::from_str_radix(text, 16)?)
        })
        .collect()
}

/// A value on one line, for listings.
fn one_line(value: &Value) -> String {
    match value {
        Value::Sz(s) | Value::ExpandSz(s) => s.escape_debug().to_string(),
        Value::Dword(n) => format!("{n} (0x{n:08x})"),
        Value::Qword(n) => format!("{n} (0x{n:016x})"),
        Value::MultiSz(v) if v.is_empty() => "(empty)".to_owned(),
        Value::MultiSz(v) => v
            .iter()
            .map(|s| format!("{:?}", s))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Binary(_) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_arguments() {
        assert_eq!(
            parse_value("REG_DWORD", &["0x2a"]).unwrap(),
            Value::Dword(42)
        );
        assert!(parse_value("REG_DWORD", &["4294967296"]).is_err());
        assert_eq!(
            parse_value("reg_qword", &["18446744073709551615"]).unwrap(),
            Value::Qword(u64::MAX)
        );
        assert_eq!(
            parse_value("REG_BINARY", &["de,ad", "BE"]).unwrap(),
            Value::Binary(vec![0xde, 0xad, 0xbe])
        );
        assert_eq!(
            parse_value("REG_MULTI_SZ", &[]).unwrap(),
            Value::MultiSz(vec![])
        );
        assert!(parse_value("REG_SZ", &["a", "b"]).is_err());
        assert!(parse_value("REG_NONE", &["a"]).is_err());
        assert!(parse_value("REG_BINARY", &["abc"]).is_err());
    }
}
