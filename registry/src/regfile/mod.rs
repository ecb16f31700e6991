//! The Windows "Registry Editor Version 5.00" text format (`.reg` files).
//!
//! ```text
//! Windows Registry Editor Version 5.00
//!
//! [HKEY_THIS_MACHINE\Services\test]
//! "Greeting"="hello"
//! "Count"=dword:0000002a
//! "Big"=hex(b):2a,00,00,00,00,00,00,00
//! "Path"=hex(2):25,00,48,00,00,00
//! "List"=hex(7):61,00,00,00,62,00,00,00,00,00
//! "Blob"=hex:de,ad,be,ef
//! "Gone"=-
//!
//! [-HKEY_THIS_MACHINE\Services\old]
//! ```
//!
//! Parsing never touches the store: [`parse`] turns the whole text into [`Section`]s first,
//! so a malformed file is refused, with line and column, before anything changes.

mod parse;
mod write;

pub use parse::decode_bytes;
pub(crate) use parse::{Section, parse};
pub(crate) use write::{HEADER, write_section};

/// UTF-16LE code units of a string, with the terminating NUL.
fn utf16_with_nul(s: &str, out: &mut Vec<u8>) {
    for unit in s.encode_utf16().chain(std::iter::once(0)) {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn sample() -> Vec<(String, Value)> {
        vec![
            (String::new(), Value::Sz("default".into())),
            ("Sz".into(), Value::Sz(r#"quote " and \ back"#.into())),
            ("Lines".into(), Value::Sz("two\nlines".into())),
            ("Expand".into(), Value::ExpandSz("%HOME%\\x".into())),
            ("Dword".into(), Value::Dword(0xdead_beef)),
            ("Qword".into(), Value::Qword(u64::MAX - 1)),
            (
                "Multi".into(),
                Value::MultiSz(vec!["a".into(), "βγ".into()]),
            ),
            ("MultiEmpty".into(), Value::MultiSz(vec![])),
            ("Bin".into(), Value::Binary((0..=255).collect())),
            ("BinEmpty".into(), Value::Binary(vec![])),
        ]
    }

    #[test]
    fn write_then_parse_gives_the_values_back() {
        let mut text = String::from(HEADER);
        write_section(&mut text, r"HKEY_THIS_MACHINE\Services\test", &sample());
        let sections = parse(&text).unwrap();
        assert_eq!(sections.len(), 1);
        let got: Vec<_> = sections[0]
            .values
            .iter()
            .map(|e| (e.name.clone(), e.value.clone().unwrap()))
            .collect();
        assert_eq!(got, sample());
    }

    #[test]
    fn long_hex_wraps_with_continuations() {
        let mut text = String::from(HEADER);
        write_section(&mut text, r"HKEY_THIS_MACHINE\x", &sample());
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains(",\\\n  "));
    }
}
