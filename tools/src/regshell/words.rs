//! Splitting a command line into words.
//!
//! Words are separated by blanks. `'...'` groups literally; `"..."` groups with `\"` and
//! `\\` as the only escapes. Outside quotes a backslash is an ordinary character, so key
//! paths need no quoting: `get_value HKEY_THIS_MACHINE\Join Fqdn`.

use anyhow::{Result, bail};

/// Where a completion at `pos` of `line` starts, the word being completed, and the whole
/// words before it (regshell's and smbshell's completers).
pub(crate) fn completion_point(line: &str, pos: usize) -> (usize, &str, Vec<String>) {
    let before = &line[..pos];
    let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let words = split_words(&before[..start]).unwrap_or_default();
    (start, &before[start..], words)
}

/// Splits `line` into words.
pub(crate) fn split_words(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            match c {
                '\'' => quoted(&mut chars, &mut word, '\'')?,
                '"' => quoted(&mut chars, &mut word, '"')?,
                c => word.push(c),
            }
        }
        words.push(word);
    }
}

/// Appends the rest of a quoted section (the opening quote is consumed).
fn quoted(chars: &mut impl Iterator<Item = char>, word: &mut String, quote: char) -> Result<()> {
    while let Some(c) = chars.next() {
        match c {
            c if c == quote => return Ok(()),
            '\\' if quote == '"' => match chars.next() {
                Some(e @ ('"' | '\\')) => word.push(e),
                Some(other) => {
                    word.push('\\');
                    word.push(other);
                }
                None => word.push('\\'),
            },
            c => word.push(c),
        }
    }
    bail!("unterminated {quote} quote")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_quotes() {
        let w =
            split_words(r#"set_value HKEY_THIS_MACHINE\A "my name" REG_SZ 'it''s' "a\"b\\c\d""#)
                .unwrap();
        assert_eq!(
            w,
            [
                "set_value",
                r"HKEY_THIS_MACHINE\A",
                "my name",
                "REG_SZ",
                "its",
                r#"a"b\c\d"#
            ]
        );
        assert_eq!(split_words(r#"x """#).unwrap(), ["x", ""]);
        assert!(split_words("x 'open").is_err());
        assert!(split_words("   ").unwrap().is_empty());
    }
}
