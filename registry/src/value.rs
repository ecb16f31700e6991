//! Value types and typed values.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The type of a registry value, numbered as on Windows (`winnt.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `REG_SZ` (1): a string.
    Sz,
    /// `REG_EXPAND_SZ` (2): a string that may hold `%VARIABLE%` references.
    ExpandSz,
    /// `REG_BINARY` (3): bytes.
    Binary,
    /// `REG_DWORD` (4): a 32-bit unsigned integer.
    Dword,
    /// `REG_MULTI_SZ` (7): a list of non-empty strings.
    MultiSz,
    /// `REG_QWORD` (11): a 64-bit unsigned integer.
    Qword,
}

impl ValueType {
    /// Every type, in numeric order.
    pub const ALL: [Self; 6] = [
        Self::Sz,
        Self::ExpandSz,
        Self::Binary,
        Self::Dword,
        Self::MultiSz,
        Self::Qword,
    ];

    /// The Windows type number (`REG_SZ` = 1, ...).
    pub fn code(self) -> u32 {
        match self {
            Self::Sz => 1,
            Self::ExpandSz => 2,
            Self::Binary => 3,
            Self::Dword => 4,
            Self::MultiSz => 7,
            Self::Qword => 11,
        }
    }

    /// The type with Windows type number `code`, if it is one of ours.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The Windows name, for example `REG_SZ`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sz => "REG_SZ",
            Self::ExpandSz => "REG_EXPAND_SZ",
            Self::Binary => "REG_BINARY",
            Self::Dword => "REG_DWORD",
            Self::MultiSz => "REG_MULTI_SZ",
            Self::Qword => "REG_QWORD",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`ValueType`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown value type {0:?} (expected REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD, REG_MULTI_SZ or REG_BINARY)"
)]
pub struct UnknownValueType(pub String);

impl FromStr for ValueType {
    type Err = UnknownValueType;

    /// Parses `REG_SZ` and friends, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownValueType(s.to_owned()))
    }
}

/// A typed registry value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// `REG_SZ`.
    Sz(String),
    /// `REG_EXPAND_SZ`.
    ExpandSz(String),
    /// `REG_DWORD`.
    Dword(u32),
    /// `REG_QWORD`.
    Qword(u64),
    /// `REG_MULTI_SZ`: each string non-empty and without NUL.
    MultiSz(Vec<String>),
    /// `REG_BINARY`.
    Binary(Vec<u8>),
}

/// Values may be secrets (the machine password under `Secrets`): their text and bytes are
/// wiped when the value is dropped, wherever it was read or built.
impl Drop for Value {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            Self::Sz(s) | Self::ExpandSz(s) => s.zeroize(),
            Self::MultiSz(list) => list.zeroize(),
            Self::Binary(bytes) => bytes.zeroize(),
            Self::Dword(_) | Self::Qword(_) => {}
        }
    }
}

impl Value {
    /// The text of a `REG_SZ` or `REG_EXPAND_SZ` (moved out; the value is wiped on drop).
    pub fn into_string(mut self) -> Option<String> {
        match &mut self {
            Self::Sz(s) | Self::ExpandSz(s) => Some(std::mem::take(s)),
            _ => None,
        }
    }

    /// This value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::Sz(_) => ValueType::Sz,
            Self::ExpandSz(_) => ValueType::ExpandSz,
            Self::Dword(_) => ValueType::Dword,
            Self::Qword(_) => ValueType::Qword,
            Self::MultiSz(_) => ValueType::MultiSz,
            Self::Binary(_) => ValueType::Binary,
        }
    }

    /// The string of a `REG_SZ` or `REG_EXPAND_SZ` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Sz(s) | Self::ExpandSz(s) => Some(s),
            _ => None,
        }
    }

    /// The number of a `REG_DWORD` or `REG_QWORD` value.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Dword(n) => Some(u64::from(*n)),
            Self::Qword(n) => Some(*n),
            _ => None,
        }
    }

    /// The strings of a `REG_MULTI_SZ` value.
    pub fn as_multi(&self) -> Option<&[String]> {
        match self {
            Self::MultiSz(v) => Some(v),
            _ => None,
        }
    }

    /// Checks that the value can be stored and exported faithfully: no NUL inside strings,
    /// no empty string inside a `REG_MULTI_SZ` (Windows reads it as the end of the list).
    pub fn validate(&self, name: &str) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::InvalidData {
                name: name.to_owned(),
                reason: reason.to_owned(),
            })
        };
        match self {
            Self::Sz(s) | Self::ExpandSz(s) if s.contains('\0') => {
                bad("strings cannot contain NUL characters")
            }
            Self::MultiSz(v) if v.iter().any(|s| s.contains('\0')) => {
                bad("REG_MULTI_SZ strings cannot contain NUL characters")
            }
            Self::MultiSz(v) if v.iter().any(String::is_empty) => {
                bad("REG_MULTI_SZ cannot contain an empty string")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Value {
    /// Human-readable form: strings as they are, numbers in decimal, lists one per line,
    /// bytes as lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sz(s) | Self::ExpandSz(s) => f.write_str(s),
            Self::Dword(n) => write!(f, "{n}"),
            Self::Qword(n) => write!(f, "{n}"),
            Self::MultiSz(v) => f.write_str(&v.join("\n")),
            Self::Binary(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for t in ValueType::ALL {
            assert_eq!(t.name().parse::<ValueType>(), Ok(t));
            assert_eq!(ValueType::from_code(t.code()), Some(t));
        }
        assert_eq!("reg_dword".parse::<ValueType>(), Ok(ValueType::Dword));
        assert!("REG_NONE".parse::<ValueType>().is_err());
    }

    #[test]
    fn validation_refuses_nul_and_empty_list_entries() {
        assert!(Value::Sz("a\0b".into()).validate("x").is_err());
        assert!(
            Value::MultiSz(vec!["a".into(), String::new()])
                .validate("x")
                .is_err()
        );
        assert!(Value::MultiSz(vec![]).validate("x").is_ok());
    }
}
