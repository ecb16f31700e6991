//! MS-ADTS 3.1.1.3.1.3.3 range retrieval: AD returns at most MaxValRange values of a
//! multi-valued attribute per search and names the slice in the attribute description.
//!
//! ```text
//! request:   member                 answer: member;range=0-1499      (1500 values)
//! request:   member;range=1500-*    answer: member;range=1500-2999   (1500 values)
//! request:   member;range=3000-*    answer: member;range=3000-*      (the rest)
//! ```
//!
//! A server that does not range (Samba unless asked) answers the first request with plain
//! `member` and every value. [`RangedRead`] is the loop without I/O: the driver asks for
//! [`RangedRead::request`] and feeds each answer to [`RangedRead::handle`].

use super::Entry;

/// The `range=low-high` option of an attribute description; `high` is `None` for `*`
/// (the slice runs to the last value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ValueRange {
    pub(super) low: u32,
    pub(super) high: Option<u32>,
}

/// The server's ranged answer does not follow MS-ADTS 3.1.1.3.1.3.3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The range option is not `range=<low>-<high>` or `range=<low>-*` with low <= high.
    #[error("bad range option in {description:?}")]
    Syntax {
        /// The attribute description as the server sent it.
        description: String,
    },
    /// The slice does not start where the request asked.
    #[error("{description:?} does not start at value {expected}")]
    WrongStart {
        /// The attribute description as the server sent it.
        description: String,
        /// The first value asked for.
        expected: u32,
    },
    /// A slice that is not the last one holds no values, or ends at the largest index.
    #[error("{description:?} makes no progress")]
    NoProgress {
        /// The attribute description as the server sent it.
        description: String,
    },
    /// The answer holds more than one ranged description of the attribute.
    #[error("several ranged descriptions of {attribute}")]
    Several {
        /// The attribute asked for.
        attribute: String,
    },
    /// Asked for a slice, the server answered with unranged values.
    #[error("asked for {attribute} from value {expected}, got unranged values")]
    Unranged {
        /// The attribute asked for.
        attribute: String,
        /// The first value asked for.
        expected: u32,
    },
}

/// Splits an attribute description into its attribute name and its range option, if any
/// (other options, such as `binary`, are ignored).
pub(super) fn parse(description: &str) -> Result<(&str, Option<ValueRange>), RangeError> {
    let mut parts = description.split(';');
    let name = parts.next().unwrap_or_default();
    let syntax = || RangeError::Syntax {
        description: description.to_owned(),
    };
    let mut found = None;
    for option in parts {
        let Some(spec) = strip_prefix_ignore_case(option, "range=") else {
            continue;
        };
        if found.is_some() {
            return Err(syntax());
        }
        let (low, high) = spec.split_once('-').ok_or_else(syntax)?;
        let low = number(low).ok_or_else(syntax)?;
        let high = match high {
            "*" => None,
            h => Some(number(h).filter(|h| *h >= low).ok_or_else(syntax)?),
        };
        found = Some(ValueRange { low, high });
    }
    Ok((name, found))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Decimal digits only (`u32::from_str` would take a leading `+`).
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The retrieval of every value of one attribute, one slice per search.
#[derive(Debug)]
pub(super) struct RangedRead {
    attribute: String,
    next: u32,
    values: Vec<Vec<u8>>,
}

impl RangedRead {
    pub(super) fn new(attribute: &str) -> Self {
        Self {
            attribute: attribute.to_owned(),
            next: 0,
            values: Vec::new(),
        }
    }

    /// The attribute description to ask for next.
    pub(super) fn request(&self) -> String {
        if self.next == 0 {
            self.attribute.clone()
        } else {
            format!("{};range={}-*", self.attribute, self.next)
        }
    }

    /// The values collected so far.
    pub(super) fn values(&self) -> &[Vec<u8>] {
        &self.values
    }

    pub(super) fn into_values(self) -> Vec<Vec<u8>> {
        self.values
    }

    /// Takes the answer to [`Self::request`] (`None`: the search found no entry); true
    /// when every value has been collected.
    pub(super) fn handle(&mut self, entry: Option<&Entry>) -> Result<bool, RangeError> {
        let mut ranged = None;
        let mut unranged: Vec<&Vec<u8>> = Vec::new();
        for (description, values) in entry.map_or(&[][..], |e| &e.attributes) {
            let name = description.split(';').next().unwrap_or_default();
            if !name.eq_ignore_ascii_case(&self.attribute) {
                continue;
            }
            match parse(description)?.1 {
                Some(_) if ranged.is_some() => {
                    return Err(RangeError::Several {
                        attribute: self.attribute.clone(),
                    });
                }
                Some(range) => ranged = Some((description, range, values)),
                None => unranged.extend(values),
            }
        }
        match ranged {
            Some((description, range, values)) => self.slice(description, range, values),
            None if self.next == 0 => {
                self.values.extend(unranged.into_iter().cloned());
                Ok(true)
            }
            // Asked for `attr;range=N-*`, nothing left (values removed meanwhile).
            None if unranged.is_empty() => Ok(true),
            None => Err(RangeError::Unranged {
                attribute: self.attribute.clone(),
                expected: self.next,
            }),
        }
    }

    fn slice(
        &mut self,
        description: &str,
        range: ValueRange,
        values: &[Vec<u8>],
    ) -> Result<bool, RangeError> {
        // MS-ADTS 3.1.1.3.1.3.3: the answer's low bound is the one requested.
        if range.low != self.next {
            return Err(RangeError::WrongStart {
                description: description.to_owned(),
                expected: self.next,
            });
        }
        self.values.extend_from_slice(values);
        let Some(high) = range.high else {
            return Ok(true);
        };
        let no_progress = || RangeError::NoProgress {
            description: description.to_owned(),
        };
        if values.is_empty() {
            return Err(no_progress());
        }
        self.next = high.checked_add(1).ok_or_else(no_progress)?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(attributes: &[(&str, std::ops::Range<u32>)]) -> Entry {
        Entry {
            dn: "CN=g".into(),
            attributes: attributes
                .iter()
                .map(|(n, r)| {
                    let values = r.clone().map(|i| i.to_string().into_bytes()).collect();
                    ((*n).to_owned(), values)
                })
                .collect(),
        }
    }

    #[test]
    fn range_options_parse() {
        let r = |low, high| Ok(("member", Some(ValueRange { low, high })));
        assert_eq!(parse("member;range=0-1499"), r(0, Some(1499)));
        assert_eq!(parse("member;range=1500-*"), r(1500, None));
        assert_eq!(parse("member;Range=3-3"), r(3, Some(3)));
        assert_eq!(parse("member"), Ok(("member", None)));
        assert_eq!(parse("member;binary"), Ok(("member", None)));
        assert_eq!(
            parse("member;binary;range=0-*"),
            Ok(("member", Some(ValueRange { low: 0, high: None })))
        );
    }

    #[test]
    fn bad_range_options_are_refused() {
        for bad in [
            "member;range=",
            "member;range=5",
            "member;range=-5",
            "member;range=5-",
            "member;range=a-b",
            "member;range=+1-5",
            "member;range=1-+5",
            "member;range= 1-5",
            "member;range=10-5",
            "member;range=*-5",
            "member;range=0-*x",
            "member;range=0-1-2",
            "member;range=0-4294967296",
            "member;range=0-1;range=2-*",
        ] {
            assert_eq!(
                parse(bad),
                Err(RangeError::Syntax {
                    description: bad.into()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn windows_ranges_in_slices_until_star() {
        let mut read = RangedRead::new("member");
        assert_eq!(read.request(), "member");
        let first = entry(&[("member;range=0-1499", 0..1500)]);
        assert_eq!(read.handle(Some(&first)), Ok(false));
        assert_eq!(read.request(), "member;range=1500-*");
        let second = entry(&[("member;range=1500-2999", 1500..3000)]);
        assert_eq!(read.handle(Some(&second)), Ok(false));
        assert_eq!(read.request(), "member;range=3000-*");
        let last = entry(&[("objectClass", 0..1), ("Member;range=3000-*", 3000..3010)]);
        assert_eq!(read.handle(Some(&last)), Ok(true));
        let values = read.into_values();
        assert_eq!(values.len(), 3010);
        assert_eq!(values[2999], b"2999");
    }

    #[test]
    fn samba_answers_unranged_at_once() {
        let mut read = RangedRead::new("member");
        let all = entry(&[("cn", 0..1), ("member", 0..5000)]);
        assert_eq!(read.handle(Some(&all)), Ok(true));
        assert_eq!(read.values().len(), 5000);

        let mut none = RangedRead::new("member");
        assert_eq!(none.handle(Some(&entry(&[("cn", 0..1)]))), Ok(true));
        assert_eq!(none.handle(None), Ok(true));
        assert!(none.values().is_empty());
    }

    #[test]
    fn misbehaving_ranges_are_errors() {
        let mut read = RangedRead::new("member");
        let skip = entry(&[("member;range=10-19", 10..20)]);
        assert!(matches!(
            read.handle(Some(&skip)),
            Err(RangeError::WrongStart { expected: 0, .. })
        ));

        let mut read = RangedRead::new("member");
        let empty = entry(&[("member;range=0-1499", 0..0)]);
        assert!(matches!(
            read.handle(Some(&empty)),
            Err(RangeError::NoProgress { .. })
        ));

        let mut read = RangedRead::new("member");
        let top = entry(&[("member;range=0-4294967295", 0..1)]);
        assert!(matches!(
            read.handle(Some(&top)),
            Err(RangeError::NoProgress { .. })
        ));

        let mut read = RangedRead::new("member");
        let two = entry(&[("member;range=0-1", 0..2), ("member;range=0-*", 0..3)]);
        assert!(matches!(
            read.handle(Some(&two)),
            Err(RangeError::Several { .. })
        ));

        let mut read = RangedRead::new("member");
        assert_eq!(
            read.handle(Some(&entry(&[("member;range=0-1", 0..2)]))),
            Ok(false)
        );
        assert!(matches!(
            read.handle(Some(&entry(&[("member", 0..9)]))),
            Err(RangeError::Unranged { expected: 2, .. })
        ));
        // Nothing left after a slice (values deleted meanwhile): done.
        assert_eq!(read.handle(Some(&entry(&[]))), Ok(true));
    }
}
