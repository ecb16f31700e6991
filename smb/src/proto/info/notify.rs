//! MS-FSCC 2.7.1 FILE_NOTIFY_INFORMATION, the buffer of a CHANGE_NOTIFY response
//! (MS-SMB2 2.2.36): entries chained by `NextEntryOffset`, each aligned on a 4-byte
//! boundary, the last with `NextEntryOffset` 0 and no padding after it.
//!
//! ```text
//! NextEntryOffset(4) Action(4) FileNameLength(4) FileName(variable, UTF-16LE)
//! ```

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::open_enum;

use super::{len32, next_entry, read_utf16};
use crate::error::SmbError;
use crate::proto::{patch_u32, utf16};

open_enum! {
    /// MS-FSCC 2.7.1 `Action`.
    pub struct NotifyAction(u32) {
        /// FILE_ACTION_ADDED.
        ADDED = 1 => "FILE_ACTION_ADDED",
        /// FILE_ACTION_REMOVED.
        REMOVED = 2 => "FILE_ACTION_REMOVED",
        /// FILE_ACTION_MODIFIED.
        MODIFIED = 3 => "FILE_ACTION_MODIFIED",
        /// FILE_ACTION_RENAMED_OLD_NAME.
        RENAMED_OLD_NAME = 4 => "FILE_ACTION_RENAMED_OLD_NAME",
        /// FILE_ACTION_RENAMED_NEW_NAME.
        RENAMED_NEW_NAME = 5 => "FILE_ACTION_RENAMED_NEW_NAME",
    }
}

/// The fixed part of an entry.
const FIXED: usize = 12;

/// One change: what happened to which name (relative to the watched directory,
/// components separated by `\`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNotifyInformation {
    /// `Action`.
    pub action: NotifyAction,
    /// `FileName`.
    pub name: String,
}

impl FileNotifyInformation {
    /// The bytes this entry takes in a chain, padding to the next entry included
    /// (a chain's length is at most the sum over its entries).
    pub fn wire_len(&self) -> usize {
        (FIXED + 2 * self.name.encode_utf16().count()).next_multiple_of(4)
    }

    /// The chain of `entries`, as a CHANGE_NOTIFY response carries it.
    pub fn encode_chain(entries: &[Self]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let start = out.len();
            let name = utf16(&entry.name);
            0u32.encode(&mut out);
            entry.action.0.encode(&mut out);
            len32(name.len()).encode(&mut out);
            out.extend_from_slice(&name);
            if i + 1 < entries.len() {
                out.resize(out.len().next_multiple_of(4), 0);
                let next = out.len() - start;
                patch_u32(&mut out, start, next);
            }
        }
        out
    }

    /// Reads a chain (a client's view of the response buffer).
    pub fn decode_chain(bytes: &[u8]) -> Result<Vec<Self>, SmbError> {
        let what = "FILE_NOTIFY_INFORMATION";
        let mut entries = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let mut r = Reader::new(what, &bytes[at..]);
            let next = r.u32()? as usize;
            let action = NotifyAction(r.u32()?);
            let len = r.u32()? as usize;
            let name = read_utf16(&mut r, len, what)?;
            entries.push(Self { action, name });
            at = match next {
                0 => break,
                next => next_entry(at, next, FIXED, bytes.len(), what)?,
            };
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn entries_are_chained_on_four_byte_boundaries() {
        let entries = vec![
            FileNotifyInformation {
                action: NotifyAction::RENAMED_OLD_NAME,
                name: "a".into(),
            },
            FileNotifyInformation {
                action: NotifyAction::RENAMED_NEW_NAME,
                name: r"d\bc".into(),
            },
        ];
        let bytes = FileNotifyInformation::encode_chain(&entries);
        let expected: Vec<u8> = [
            &[16, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, b'a', 0, 0, 0][..],
            &[0, 0, 0, 0, 5, 0, 0, 0, 8, 0, 0, 0],
            &[b'd', 0, b'\\', 0, b'b', 0, b'c', 0],
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert!(bytes.len() <= entries.iter().map(FileNotifyInformation::wire_len).sum());
        assert_eq!(
            FileNotifyInformation::decode_chain(&bytes).unwrap(),
            entries
        );
        assert!(FileNotifyInformation::encode_chain(&[]).is_empty());
    }

    #[test]
    fn a_chain_that_loops_or_overruns_is_refused() {
        let mut bytes = FileNotifyInformation::encode_chain(&[
            FileNotifyInformation {
                action: NotifyAction::ADDED,
                name: "ab".into(),
            },
            FileNotifyInformation {
                action: NotifyAction::ADDED,
                name: "c".into(),
            },
        ]);
        bytes[0] = 4;
        assert!(FileNotifyInformation::decode_chain(&bytes).is_err());
        bytes[0] = 200;
        assert!(FileNotifyInformation::decode_chain(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn decode_chain_never_panics(bytes in vec(any::<u8>(), 0..200)) {
            let _ = FileNotifyInformation::decode_chain(&bytes);
        }

        #[test]
        fn chains_round_trip(names in vec("[a-z\\\\é]{0,9}", 0..6)) {
            let entries: Vec<_> = names
                .into_iter()
                .map(|name| FileNotifyInformation { action: NotifyAction::MODIFIED, name })
                .collect();
            let bytes = FileNotifyInformation::encode_chain(&entries);
            prop_assert!(bytes.len() <= entries.iter().map(FileNotifyInformation::wire_len).sum());
            prop_assert_eq!(FileNotifyInformation::decode_chain(&bytes).unwrap(), entries);
        }
    }
}
