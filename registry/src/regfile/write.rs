//! Writing `.reg` text.

use std::fmt::Write as _;

use crate::value::Value;

/// The first line of every file, followed by the blank line regedit writes.
pub(crate) const HEADER: &str = "Windows Registry Editor Version 5.00\n\n";

/// Lines of hex data are wrapped before they pass this many characters (regedit: 80).
const WRAP_AT: usize = 76;

/// Appends one `[KEY]` section with its values and the blank line that ends it.
pub(crate) fn write_section(out: &mut String, path: &str, values: &[(String, Value)]) {
    out.push('[');
    out.push_str(path);
    out.push_str("]\n");
    for (name, value) in values {
        write_value(out, name, value);
    }
    out.push('\n');
}

/// Appends one `"name"=data` line.
fn write_value(out: &mut String, name: &str, value: &Value) {
    let start = out.len();
    if name.is_empty() {
        out.push('@');
    } else {
        write_quoted(out, name);
    }
    out.push('=');
    match value {
        Value::Sz(s) if is_plain(s) => write_quoted(out, s),
        Value::Sz(s) => write_hex(out, start, "hex(1):", &utf16(s)),
        Value::ExpandSz(s) => write_hex(out, start, "hex(2):", &utf16(s)),
        Value::Dword(n) => {
            let _ = write!(out, "dword:{n:08x}");
        }
        Value::Qword(n) => write_hex(out, start, "hex(b):", &n.to_le_bytes()),
        Value::MultiSz(items) => write_hex(out, start, "hex(7):", &multi(items)),
        Value::Binary(b) => write_hex(out, start, "hex:", b),
    }
    out.push('\n');
}

/// True when a string can be written between quotes (no control characters).
fn is_plain(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Appends a quoted string, escaping `\` and `"`.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Appends `prefix` and comma-separated bytes, wrapping as regedit does with `\` and
/// two spaces. `line_start` is where the current line began in `out`.
fn write_hex(out: &mut String, line_start: usize, prefix: &str, bytes: &[u8]) {
    out.push_str(prefix);
    let mut line_len = out[line_start..].chars().count();
    for (i, b) in bytes.iter().enumerate() {
        let _ = write!(out, "{b:02x}");
        line_len += 2;
        if i + 1 < bytes.len() {
            out.push(',');
            line_len += 1;
            if line_len > WRAP_AT {
                out.push_str("\\\n  ");
                line_len = 2;
            }
        }
    }
}

/// A string as UTF-16LE with its NUL.
fn utf16(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 2 + 2);
    super::utf16_with_nul(s, &mut out);
    out
}

/// A string list as Windows stores it: each string with its NUL, then one more NUL.
fn multi(items: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in items {
        super::utf16_with_nul(s, &mut out);
    }
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, value: Value) -> String {
        let mut out = String::new();
        write_value(&mut out, name, &value);
        out
    }

    #[test]
    fn formats_like_regedit() {
        assert_eq!(line("A", Value::Sz("x\\y".into())), "\"A\"=\"x\\\\y\"\n");
        assert_eq!(line("", Value::Dword(42)), "@=dword:0000002a\n");
        assert_eq!(
            line("Q", Value::Qword(1)),
            "\"Q\"=hex(b):01,00,00,00,00,00,00,00\n"
        );
        assert_eq!(
            line("M", Value::MultiSz(vec!["a".into()])),
            "\"M\"=hex(7):61,00,00,00,00,00\n"
        );
        assert_eq!(line("M", Value::MultiSz(vec![])), "\"M\"=hex(7):00,00\n");
        assert_eq!(
            line("E", Value::ExpandSz("%".into())),
            "\"E\"=hex(2):25,00,00,00\n"
        );
        assert_eq!(line("B", Value::Binary(vec![])), "\"B\"=hex:\n");
    }
}
