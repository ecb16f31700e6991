//! Parsing `.reg` text into sections, without touching the store.

use crate::error::{Error, Result};
use crate::path::{KeyPath, validate_value_name};
use crate::value::Value;

/// The header line every file starts with.
const HEADER_LINE: &str = "Windows Registry Editor Version 5.00";

/// One `[KEY]` or `[-KEY]` section.
#[derive(Debug)]
pub(crate) struct Section {
    /// The key.
    pub(crate) path: KeyPath,
    /// `[-KEY]`: delete the key and its subtree.
    pub(crate) delete: bool,
    /// Line of the `[...]`.
    pub(crate) line: usize,
    /// The section's value lines.
    pub(crate) values: Vec<Entry>,
}

/// One `"name"=data` or `"name"=-` line.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Value name (`@` is the empty name).
    pub(crate) name: String,
    /// The data, or `None` for a deletion.
    pub(crate) value: Option<Value>,
    /// Line of the entry's start.
    pub(crate) line: usize,
}

/// Decodes a file's bytes: UTF-16LE with a byte order mark (as regedit writes), or UTF-8
/// with or without one.
pub fn decode_bytes(bytes: &[u8]) -> Result<String> {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        let units = rest.chunks(2).map(|c| match c {
            [lo, hi] => u16::from_le_bytes([*lo, *hi]),
            _ => 0xfffd,
        });
        return char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| parse_error(1, 1, "invalid UTF-16 in file"));
    }
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        parse_error(line, column, "invalid UTF-8")
    })
}

/// Parses a whole file.
pub(crate) fn parse(text: &str) -> Result<Vec<Section>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut parser = Parser { lines, next: 0 };
    parser.header()?;
    let mut sections: Vec<Section> = Vec::new();
    while let Some((n, line)) = parser.next_line() {
        let body = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - body.len();
        let scan = Scan {
            line: n,
            text: line,
            pos: indent,
        };
        match body.chars().next() {
            None | Some(';') => {}
            Some('[') => sections.push(scan.section()?),
            Some('"' | '@') => {
                let entry = scan.entry(&mut parser)?;
                push_entry(&mut sections, entry, line, indent)?;
            }
            Some(_) => {
                return Err(scan.error("expected [KEY], \"name\"=value, @=value or a ; comment"));
            }
        }
    }
    Ok(sections)
}

/// Adds a value line to the current section.
fn push_entry(sections: &mut [Section], entry: Entry, line: &str, indent: usize) -> Result<()> {
    let column = line[..indent].chars().count() + 1;
    match sections.last_mut() {
        None => Err(parse_error(
            entry.line,
            column,
            "value line before any [KEY] line",
        )),
        Some(s) if s.delete => Err(parse_error(
            entry.line,
            column,
            "value line inside a [-KEY] deletion section",
        )),
        Some(s) => {
            s.values.push(entry);
            Ok(())
        }
    }
}

/// A `.reg` parse error.
fn parse_error(line: usize, column: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        line,
        column,
        message: message.into(),
    }
}

/// The file's lines and the next one to read.
struct Parser<'a> {
    lines: Vec<&'a str>,
    next: usize,
}

impl<'a> Parser<'a> {
    /// The next line and its 1-based number.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let line = *self.lines.get(self.next)?;
        self.next += 1;
        Some((self.next, line))
    }

    /// Checks the header (blank lines before it are allowed).
    fn header(&mut self) -> Result<()> {
        while let Some((n, line)) = self.next_line() {
            if line.trim().is_empty() {
                continue;
            }
            if line.trim_end() == HEADER_LINE {
                return Ok(());
            }
            return Err(parse_error(
                n,
                1,
                format!("expected the header {HEADER_LINE:?}"),
            ));
        }
        Err(parse_error(
            1,
            1,
            format!("empty file: expected the header {HEADER_LINE:?}"),
        ))
    }
}

/// A position in one line.
struct Scan<'a> {
    line: usize,
    text: &'a str,
    pos: usize,
}

impl<'a> Scan<'a> {
    /// An error at the current position.
    fn error(&self, message: impl Into<String>) -> Error {
        self.error_at(self.pos, message)
    }

    /// An error at byte offset `pos` of this line.
    fn error_at(&self, pos: usize, message: impl Into<String>) -> Error {
        let column = self.text[..pos.min(self.text.len())].chars().count() + 1;
        parse_error(self.line, column, message)
    }

    /// The rest of the line.
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    /// Consumes `prefix` (ASCII, case-insensitive) if the rest starts with it.
    fn eat(&mut self, prefix: &str) -> bool {
        let rest = self.rest().as_bytes();
        let matches = rest.len() >= prefix.len()
            && rest[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
        if matches {
            self.pos += prefix.len();
        }
        matches
    }

    /// Skips spaces and tabs.
    fn skip_blanks(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    /// Requires nothing but blanks until the end of the line.
    fn end(&mut self) -> Result<()> {
        self.skip_blanks();
        if self.rest().is_empty() {
            Ok(())
        } else {
            Err(self.error("unexpected text after the value"))
        }
    }

    /// `[KEY]` or `[-KEY]`; the key ends at the line's last `]`.
    fn section(mut self) -> Result<Section> {
        self.pos += 1;
        let delete = self.eat("-");
        let start = self.pos;
        let Some(close) = self.rest().rfind(']') else {
            return Err(self.error_at(self.text.len(), "missing ] at the end of the key"));
        };
        let raw = &self.text[start..start + close];
        self.pos = start + close + 1;
        if !self.rest().trim().is_empty() {
            return Err(self.error("unexpected text after ]"));
        }
        let path = KeyPath::parse(raw).map_err(|e| match e {
            Error::InvalidPath { reason, .. } => {
                self.error_at(start, format!("invalid key path: {reason}"))
            }
            other => other,
        })?;
        Ok(Section {
            path,
            delete,
            line: self.line,
            values: Vec::new(),
        })
    }

    /// `"name"=data` or `@=data`; hex data may continue on following lines.
    fn entry(mut self, parser: &mut Parser<'a>) -> Result<Entry> {
        let line = self.line;
        let name_pos = self.pos;
        let name = if self.eat("@") {
            String::new()
        } else {
            self.quoted()?
        };
        validate_value_name(&name).map_err(|e| self.error_at(name_pos, e.to_string()))?;
        self.skip_blanks();
        if !self.eat("=") {
            return Err(self.error("expected = after the value name"));
        }
        self.skip_blanks();
        let value = self.data(parser)?;
        Ok(Entry { name, value, line })
    }

    /// A quoted string with `\\` and `\"` escapes.
    fn quoted(&mut self) -> Result<String> {
        let open = self.pos;
        if !self.eat("\"") {
            return Err(self.error("expected \""));
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\\' | '"'))) => out.push(e),
                    _ => {
                        let at = self.pos + i;
                        return Err(
                            self.error_at(at, "unknown escape: only \\\\ and \\\" are allowed")
                        );
                    }
                },
                c => out.push(c),
            }
        }
        Err(self.error_at(open, "string not closed before the end of the line"))
    }

    /// The data after `=`: `None` for `-`.
    fn data(&mut self, parser: &mut Parser<'a>) -> Result<Option<Value>> {
        let start = self.pos;
        let value = if self.rest().starts_with('"') {
            Value::Sz(self.quoted()?)
        } else if self.eat("-") {
            self.end()?;
            return Ok(None);
        } else if self.eat("dword:") {
            self.dword()?
        } else if self.eat("hex") {
            self.hex_value(start, parser)?
        } else {
            return Err(self.error("expected \"string\", dword:, hex:, hex(N): or -"));
        };
        self.end()?;
        value
            .validate("")
            .map_err(|e| self.error_at(start, e.to_string()))?;
        Ok(Some(value))
    }

    /// `dword:` followed by 1 to 8 hex digits.
    fn dword(&mut self) -> Result<Value> {
        let digits = self.rest().trim_end_matches([' ', '\t']);
        let ok = !digits.is_empty()
            && digits.len() <= 8
            && digits.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(self.error("expected 1 to 8 hex digits after dword:"));
        }
        let n = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad dword"))?;
        self.pos += digits.len();
        Ok(Value::Dword(n))
    }

    /// `hex:` or `hex(N):` and its bytes (the `hex` is already consumed).
    fn hex_value(&mut self, start: usize, parser: &mut Parser<'a>) -> Result<Value> {
        let kind = if self.eat("(") {
            let digits_at = self.pos;
            let len = self
                .rest()
                .find(')')
                .ok_or_else(|| self.error("expected ) after hex("))?;
            let digits = &self.rest()[..len];
            let kind = u32::from_str_radix(digits, 16)
                .map_err(|_| self.error_at(digits_at, "expected a hex type number in hex(N)"))?;
            self.pos += len + 1;
            kind
        } else {
            3
        };
        if !self.eat(":") {
            return Err(self.error("expected : after hex"));
        }
        let bytes = self.hex_bytes(parser)?;
        hex_to_value(kind, bytes).map_err(|m| self.error_at(start, m))
    }

    /// Comma-separated bytes, continuing onto the next line after a trailing `\`.
    fn hex_bytes(&mut self, parser: &mut Parser<'a>) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut scan = Scan {
            line: self.line,
            text: self.text,
            pos: self.pos,
        };
        loop {
            scan.skip_blanks();
            let rest = scan.rest();
            if rest.is_empty() {
                break;
            }
            if rest.trim_end() == "\\" {
                let Some((n, next)) = parser.next_line() else {
                    return Err(scan.error("file ends after a \\ line continuation"));
                };
                scan = Scan {
                    line: n,
                    text: next,
                    pos: 0,
                };
                continue;
            }
            let len = rest.find([',', ' ', '\t', '\\']).unwrap_or(rest.len());
            let token = &rest[..len];
            let ok = (1..=2).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(scan.error("expected a byte as two hex digits"));
            }
            bytes.push(u8::from_str_radix(token, 16).map_err(|_| scan.error("bad byte"))?);
            scan.pos += len;
            scan.skip_blanks();
            if !scan.eat(",") && !scan.rest().is_empty() && !scan.rest().starts_with('\\') {
                return Err(scan.error("expected , between bytes"));
            }
        }
        self.pos = self.text.len();
        Ok(bytes)
    }
}

/// Interprets `hex(kind):` bytes.
fn hex_to_value(kind: u32, bytes: Vec<u8>) -> Result<Value, String> {
    let value = match kind {
        1 => Value::Sz(utf16_string(&bytes)?),
        2 => Value::ExpandSz(utf16_string(&bytes)?),
        3 => Value::Binary(bytes),
        4 => Value::Dword(u32::from_le_bytes(exact(&bytes)?)),
        7 => Value::MultiSz(utf16_list(&bytes)?),
        0xb => Value::Qword(u64::from_le_bytes(exact(&bytes)?)),
        other => return Err(format!("unsupported value type hex({other:x})")),
    };
    Ok(value)
}

/// Exactly `N` bytes.
fn exact<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected exactly {N} bytes, found {}", bytes.len()))
}

/// UTF-16LE units, with an odd byte count refused.
fn units(bytes: &[u8]) -> Result<Vec<u16>, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("UTF-16 data has an odd number of bytes".into());
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

/// A NUL-terminated UTF-16LE string (trailing NULs dropped; an inner NUL is refused).
fn utf16_string(bytes: &[u8]) -> Result<String, String> {
    let mut u = units(bytes)?;
    while u.last() == Some(&0) {
        u.pop();
    }
    if u.contains(&0) {
        return Err("NUL inside a string".into());
    }
    String::from_utf16(&u).map_err(|_| "invalid UTF-16".into())
}

/// A REG_MULTI_SZ: NUL-separated UTF-16LE strings ending in an extra NUL.
fn utf16_list(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut u = units(bytes)?;
    while u.last() == Some(&0) {
        u.pop();
    }
    if u.is_empty() {
        return Ok(Vec::new());
    }
    u.split(|c| *c == 0)
        .map(|s| {
            if s.is_empty() {
                return Err("empty string inside REG_MULTI_SZ".to_owned());
            }
            String::from_utf16(s).map_err(|_| "invalid UTF-16".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, usize, String) {
        match parse(text) {
            Err(Error::Parse {
                line,
                column,
                message,
            }) => (line, column, message),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    const H: &str = "Windows Registry Editor Version 5.00\n\n";

    #[test]
    fn parses_every_form() {
        let text = format!(
            "{H}[HKEY_THIS_MACHINE\\A]\r\n\"s\"=\"x\\\"y\"\n@=dword:2A\n\"b\"=hex:01,\\\n  02\n\"gone\"=-\n; comment\n[-HKEY_THIS_MACHINE\\B]\n"
        );
        let s = parse(&text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].values[0].value, Some(Value::Sz("x\"y".into())));
        assert_eq!(s[0].values[1].value, Some(Value::Dword(42)));
        assert_eq!(s[0].values[2].value, Some(Value::Binary(vec![1, 2])));
        assert_eq!(s[0].values[3].value, None);
        assert!(s[1].delete);
    }

    #[test]
    fn errors_have_line_and_column() {
        assert_eq!(err("REGEDIT4\n").0, 1);
        let (l, c, _) = err(&format!("{H}[HKEY_THIS_MACHINE\\A]\n\"x\"=dword:zz\n"));
        assert_eq!((l, c), (4, 11));
        let (l, c, _) = err(&format!(
            "{H}[HKEY_THIS_MACHINE\\A]\n\"x\"=hex:01,\\\n  0g\n"
        ));
        assert_eq!((l, c), (5, 3));
        let (l, c, _) = err(&format!("{H}[HKEY_LOCAL_MACHINE\\A]\n"));
        assert_eq!((l, c), (3, 2));
        let (l, _, _) = err(&format!("{H}\"x\"=\"y\"\n"));
        assert_eq!(l, 3);
        let (l, c, _) = err(&format!("{H}[HKEY_THIS_MACHINE]\n\"x\"=\"a\\q\"\n"));
        assert_eq!((l, c), (4, 7));
    }

    #[test]
    fn typed_hex() {
        assert_eq!(
            hex_to_value(0xb, vec![1, 0, 0, 0, 0, 0, 0, 0]),
            Ok(Value::Qword(1))
        );
        assert!(hex_to_value(0xb, vec![1]).is_err());
        assert_eq!(hex_to_value(7, vec![0, 0]), Ok(Value::MultiSz(vec![])));
        assert!(hex_to_value(7, vec![b'a', 0, 0, 0, 0, 0, b'b', 0]).is_err());
        assert_eq!(
            hex_to_value(2, vec![b'a', 0, 0, 0]),
            Ok(Value::ExpandSz("a".into()))
        );
        assert!(hex_to_value(0, vec![]).is_err());
    }

    #[test]
    fn utf16_files() {
        let mut bytes = vec![0xff, 0xfe];
        for u in "Windows Registry Editor Version 5.00\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let text = decode_bytes(&bytes).unwrap();
        assert!(parse(&text).unwrap().is_empty());
        assert!(matches!(
            decode_bytes(b"ok\n\xff"),
            Err(Error::Parse {
                line: 2,
                column: 1,
                ..
            })
        ));
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn random_text_never_panics(body in "[\\[\\]\"\\\\=,:@;\\-a-zA-Z0-9()_ \t\r\n]{0,200}") {
            let _ = parse(&format!("Windows Registry Editor Version 5.00\n{body}"));
            let _ = parse(&body);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(text) = decode_bytes(&bytes) {
                let _ = parse(&text);
            }
            let mut with_header = b"Windows Registry Editor Version 5.00\n[HKEY_THIS_MACHINE\\A]\n\"x\"=hex".to_vec();
            with_header.extend_from_slice(&bytes);
            if let Ok(text) = decode_bytes(&with_header) {
                let _ = parse(&text);
            }
        }
    }
}
