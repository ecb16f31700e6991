//! Durable handles on the wire: the CREATE contexts that ask for one (MS-SMB2 2.2.13.2.3
//! `DHnQ`, 2.2.13.2.11 `DH2Q`), that reconnect to one (2.2.13.2.4 `DHnC`, 2.2.13.2.12
//! `DH2C`), and the grants (2.2.14.2.3, 2.2.14.2.12).

use adjoin_rpc::codec::{Codec, Reader};

use super::FileId;
use super::oplock::CreateContext;
use crate::error::SmbError;

/// `SMB2_CREATE_DURABLE_HANDLE_REQUEST` (and its response).
pub const CONTEXT_DURABLE_V1: &[u8] = b"DHnQ";
/// `SMB2_CREATE_DURABLE_HANDLE_RECONNECT`.
pub const CONTEXT_RECONNECT_V1: &[u8] = b"DHnC";
/// `SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2` (and its response).
pub const CONTEXT_DURABLE_V2: &[u8] = b"DH2Q";
/// `SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2`.
pub const CONTEXT_RECONNECT_V2: &[u8] = b"DH2C";

/// `SMB2_DHANDLE_FLAG_PERSISTENT`.
pub const DURABLE_FLAG_PERSISTENT: u32 = 0x2;

/// What a CREATE's contexts ask about durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurableAsk {
    /// Nothing.
    None,
    /// A version 1 durable handle (`DHnQ`).
    V1,
    /// A version 2 durable handle (`DH2Q`): the timeout asked in milliseconds (0: the
    /// server's choice), its flags, and the client's `CreateGuid`.
    V2 {
        /// `Timeout`.
        timeout_ms: u32,
        /// `Flags`.
        flags: u32,
        /// `CreateGuid`.
        create_guid: [u8; 16],
    },
    /// Reconnect to a durable open (`DHnC`).
    ReconnectV1(FileId),
    /// Reconnect to a version 2 durable open (`DH2C`): its id, the `CreateGuid` it was
    /// opened with, and the flags.
    ReconnectV2 {
        /// `FileId`.
        file: FileId,
        /// `CreateGuid`.
        create_guid: [u8; 16],
        /// `Flags`.
        flags: u32,
    },
}

fn malformed(why: &'static str) -> SmbError {
    SmbError::Malformed {
        what: "durable handle context",
        why,
    }
}

fn file_id(r: &mut Reader<'_>) -> Result<FileId, SmbError> {
    Ok(FileId {
        persistent: r.u64()?,
        volatile: r.u64()?,
    })
}

impl DurableAsk {
    /// What the contexts ask. MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10, 3.3.5.9.12: a
    /// version 1 context with a version 2 one, or a version 2 request with a version 2
    /// reconnect, is STATUS_INVALID_PARAMETER (the caller's `Err(None)`); a request beside
    /// a version 1 reconnect is ignored. A context whose data has the wrong length is
    /// malformed (`Err(Some)`).
    pub fn from_contexts(contexts: &[CreateContext]) -> Result<Self, Option<SmbError>> {
        let find = |name| CreateContext::find(contexts, name).map(|c| c.data.as_slice());
        let (q1, c1, q2, c2) = (
            find(CONTEXT_DURABLE_V1),
            find(CONTEXT_RECONNECT_V1),
            find(CONTEXT_DURABLE_V2),
            find(CONTEXT_RECONNECT_V2),
        );
        let v1 = q1.is_some() || c1.is_some();
        let v2 = q2.is_some() || c2.is_some();
        if (v1 && v2) || (q2.is_some() && c2.is_some()) {
            return Err(None);
        }
        Self::decode(q1, c1, q2, c2).map_err(Some)
    }

    fn decode(
        q1: Option<&[u8]>,
        c1: Option<&[u8]>,
        q2: Option<&[u8]>,
        c2: Option<&[u8]>,
    ) -> Result<Self, SmbError> {
        if let Some(data) = c1 {
            if data.len() != 16 {
                return Err(malformed("a DHnC is 16 bytes"));
            }
            return Ok(Self::ReconnectV1(file_id(&mut Reader::new("DHnC", data))?));
        }
        if let Some(data) = c2 {
            if data.len() != 36 {
                return Err(malformed("a DH2C is 36 bytes"));
            }
            let mut r = Reader::new("DH2C", data);
            return Ok(Self::ReconnectV2 {
                file: file_id(&mut r)?,
                create_guid: r.array()?,
                flags: r.u32()?,
            });
        }
        if let Some(data) = q2 {
            if data.len() != 32 {
                return Err(malformed("a DH2Q is 32 bytes"));
            }
            let mut r = Reader::new("DH2Q", data);
            let timeout_ms = r.u32()?;
            let flags = r.u32()?;
            r.u64()?;
            return Ok(Self::V2 {
                timeout_ms,
                flags,
                create_guid: r.array()?,
            });
        }
        match q1 {
            Some(data) if data.len() != 16 => Err(malformed("a DHnQ is 16 bytes")),
            Some(_) => Ok(Self::V1),
            None => Ok(Self::None),
        }
    }
}

/// The `DHnQ` response: eight reserved bytes.
pub fn grant_v1() -> CreateContext {
    CreateContext {
        name: CONTEXT_DURABLE_V1.to_vec(),
        data: vec![0; 8],
    }
}

/// The `DH2Q` response: the timeout granted (milliseconds) and the flags.
pub fn grant_v2(timeout_ms: u32, flags: u32) -> CreateContext {
    let mut data = Vec::with_capacity(8);
    timeout_ms.encode(&mut data);
    flags.encode(&mut data);
    CreateContext {
        name: CONTEXT_DURABLE_V2.to_vec(),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(name: &[u8], data: Vec<u8>) -> CreateContext {
        CreateContext {
            name: name.to_vec(),
            data,
        }
    }

    #[test]
    fn requests_and_reconnects_decode_and_mixed_versions_are_invalid() {
        assert_eq!(DurableAsk::from_contexts(&[]).unwrap(), DurableAsk::None);
        let q1 = ctx(CONTEXT_DURABLE_V1, vec![0; 16]);
        assert_eq!(
            DurableAsk::from_contexts(std::slice::from_ref(&q1)).unwrap(),
            DurableAsk::V1
        );
        let mut c1_data = 7u64.to_le_bytes().to_vec();
        c1_data.extend(9u64.to_le_bytes());
        let c1 = ctx(CONTEXT_RECONNECT_V1, c1_data.clone());
        let reconnect = DurableAsk::ReconnectV1(FileId {
            persistent: 7,
            volatile: 9,
        });
        // A request beside a version 1 reconnect is ignored.
        assert_eq!(
            DurableAsk::from_contexts(&[q1.clone(), c1.clone()]).unwrap(),
            reconnect
        );
        let mut q2_data = 1000u32.to_le_bytes().to_vec();
        q2_data.extend(0u32.to_le_bytes());
        q2_data.extend([0; 8]);
        q2_data.extend([5; 16]);
        let q2 = ctx(CONTEXT_DURABLE_V2, q2_data);
        assert_eq!(
            DurableAsk::from_contexts(std::slice::from_ref(&q2)).unwrap(),
            DurableAsk::V2 {
                timeout_ms: 1000,
                flags: 0,
                create_guid: [5; 16]
            }
        );
        let mut c2_data = c1_data;
        c2_data.extend([5; 16]);
        c2_data.extend(0u32.to_le_bytes());
        let c2 = ctx(CONTEXT_RECONNECT_V2, c2_data);
        assert!(matches!(
            DurableAsk::from_contexts(std::slice::from_ref(&c2)).unwrap(),
            DurableAsk::ReconnectV2 { file, create_guid, flags: 0 } if file.volatile == 9 && create_guid == [5; 16]
        ));
        for mixed in [
            [q1.clone(), q2.clone()],
            [c1, q2.clone()],
            [q1, c2.clone()],
            [q2, c2],
        ] {
            assert!(matches!(DurableAsk::from_contexts(&mixed), Err(None)));
        }
        let short = ctx(CONTEXT_DURABLE_V2, vec![0; 31]);
        assert!(matches!(DurableAsk::from_contexts(&[short]), Err(Some(_))));
    }

    #[test]
    fn grants_encode_as_the_responses() {
        assert_eq!(grant_v1().data, vec![0; 8]);
        let v2 = grant_v2(300_000, 0);
        assert_eq!(&v2.name, b"DH2Q");
        assert_eq!(v2.data, [0xe0, 0x93, 0x04, 0, 0, 0, 0, 0]);
    }
}
