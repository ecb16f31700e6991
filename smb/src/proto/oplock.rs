//! Oplocks and leases on the wire: the OPLOCK_BREAK notification, acknowledgment and
//! response (MS-SMB2 2.2.23.1, 2.2.24.1, 2.2.25.1), the lease break notification,
//! acknowledgment and response (2.2.23.2, 2.2.24.2, 2.2.25.2), and the CREATE contexts
//! (2.2.13.2) that carry lease requests and grants (2.2.13.2.8, 2.2.13.2.10).

use adjoin_rpc::codec::{Codec, Reader, pad_to};

use super::{Body, Command, FileId};
use crate::error::SmbError;

/// `OplockLevel`: none.
pub const OPLOCK_NONE: u8 = 0x00;
/// Level II (shared read caching).
pub const OPLOCK_II: u8 = 0x01;
/// Exclusive.
pub const OPLOCK_EXCLUSIVE: u8 = 0x08;
/// Batch (exclusive, and the handle may stay open after the client closes it).
pub const OPLOCK_BATCH: u8 = 0x09;
/// The lease in the CREATE contexts says what is granted.
pub const OPLOCK_LEASE: u8 = 0xff;

/// Lease state bits (MS-SMB2 2.2.13.2.8): read caching.
pub const LEASE_READ: u32 = 0x1;
/// Handle caching.
pub const LEASE_HANDLE: u32 = 0x2;
/// Write caching.
pub const LEASE_WRITE: u32 = 0x4;

/// `SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED`.
pub const LEASE_BREAK_ACK_REQUIRED: u32 = 0x1;
/// `SMB2_LEASE_FLAG_BREAK_IN_PROGRESS` in a lease response context.
pub const LEASE_FLAG_BREAK_IN_PROGRESS: u32 = 0x2;
/// `SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET` in a version 2 lease context.
pub const LEASE_FLAG_PARENT_LEASE_KEY_SET: u32 = 0x4;

/// An oplock break notification, acknowledgment or response: `StructureSize(2)=24
/// OplockLevel(1) Reserved(1) Reserved2(4) FileId(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OplockBreak {
    /// The level broken to (notification), accepted (acknowledgment) or granted.
    pub oplock_level: u8,
    /// The open.
    pub file_id: FileId,
}

impl Body for OplockBreak {
    const COMMAND: Command = Command::OPLOCK_BREAK;
    const STRUCTURE_SIZE: u16 = 24;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.oplock_level);
        out.push(0);
        0u32.encode(out);
        self.file_id.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("OPLOCK_BREAK");
        let oplock_level = r.u8()?;
        r.u8()?;
        r.u32()?;
        Ok(Self {
            oplock_level,
            file_id: FileId::read(r)?,
        })
    }
}

/// MS-SMB2 2.2.23.2 lease break notification: `StructureSize(2)=44 NewEpoch(2) Flags(4)
/// LeaseKey(16) CurrentLeaseState(4) NewLeaseState(4) BreakReason(4) AccessMaskHint(4)
/// ShareMaskHint(4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseBreakNotification {
    /// `NewEpoch` (3.x; zero for 2.1).
    pub new_epoch: u16,
    /// [`LEASE_BREAK_ACK_REQUIRED`] or nothing.
    pub flags: u32,
    /// The lease.
    pub lease_key: [u8; 16],
    /// What the client holds.
    pub current: u32,
    /// What it may keep.
    pub new: u32,
}

impl Body for LeaseBreakNotification {
    const COMMAND: Command = Command::OPLOCK_BREAK;
    const STRUCTURE_SIZE: u16 = 44;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.new_epoch.encode(out);
        self.flags.encode(out);
        out.extend_from_slice(&self.lease_key);
        self.current.encode(out);
        self.new.encode(out);
        out.extend_from_slice(&[0; 12]);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("lease break notification");
        let new_epoch = r.u16()?;
        let flags = r.u32()?;
        let lease_key = r.array()?;
        let current = r.u32()?;
        let new = r.u32()?;
        r.take(12)?;
        Ok(Self {
            new_epoch,
            flags,
            lease_key,
            current,
            new,
        })
    }
}

/// MS-SMB2 2.2.24.2 lease break acknowledgment and 2.2.25.2 its response:
/// `StructureSize(2)=36 Reserved(2) Flags(4) LeaseKey(16) LeaseState(4) LeaseDuration(8)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseBreakAck {
    /// The lease.
    pub lease_key: [u8; 16],
    /// The state the client keeps (acknowledgment) or now holds (response).
    pub state: u32,
}

impl Body for LeaseBreakAck {
    const COMMAND: Command = Command::OPLOCK_BREAK;
    const STRUCTURE_SIZE: u16 = 36;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
        0u32.encode(out);
        out.extend_from_slice(&self.lease_key);
        self.state.encode(out);
        0u64.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("lease break acknowledgment");
        r.u16()?;
        r.u32()?;
        let lease_key = r.array()?;
        let state = r.u32()?;
        r.u64()?;
        Ok(Self { lease_key, state })
    }
}

/// One CREATE context (MS-SMB2 2.2.13.2): a name (four ASCII letters for the ones MS-SMB2
/// defines, a GUID for some) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateContext {
    /// `Name`.
    pub name: Vec<u8>,
    /// `Data`.
    pub data: Vec<u8>,
}

/// The lease request and response context's name.
pub const CONTEXT_LEASE: &[u8] = b"RqLs";

/// `SMB2_CREATE_SD_BUFFER` (MS-SMB2 2.2.13.2.1): a self-relative security descriptor
/// for the file the CREATE makes.
pub const CONTEXT_SECURITY_DESCRIPTOR: &[u8] = b"SecD";

/// `SMB2_CREATE_ALLOCATION_SIZE` (MS-SMB2 2.2.13.2.6): the space to reserve for a file
/// the CREATE makes (or overwrites), eight bytes.
pub const CONTEXT_ALLOCATION_SIZE: &[u8] = b"AlSi";

/// The most contexts one CREATE may carry (MS-SMB2 defines fewer than twenty names); a
/// chain longer than this is refused rather than walked.
const MAX_CONTEXTS: usize = 64;

impl CreateContext {
    /// Reads a context chain (`Next` offsets from each context's start, 8-byte aligned).
    /// An empty chain is no contexts; a chain whose offsets or lengths leave its bytes, or
    /// that does not advance, is an error.
    pub fn parse_chain(chain: &[u8]) -> Result<Vec<Self>, SmbError> {
        let bad = |why: &'static str| SmbError::Malformed {
            what: "CREATE context",
            why,
        };
        let mut out = Vec::new();
        let mut at = 0usize;
        while at < chain.len() {
            if out.len() == MAX_CONTEXTS {
                return Err(bad("too many contexts"));
            }
            let ctx = &chain[at..];
            let mut r = Reader::new("CREATE context", ctx);
            let next = r.u32()? as usize;
            let name_offset = usize::from(r.u16()?);
            let name_length = usize::from(r.u16()?);
            r.u16()?;
            let data_offset = usize::from(r.u16()?);
            let data_length = r.u32()? as usize;
            let end = if next == 0 { ctx.len() } else { next };
            if end > ctx.len() || (next != 0 && !next.is_multiple_of(8)) || (next != 0 && next < 16)
            {
                return Err(bad("its Next offset leaves the chain"));
            }
            let field = |offset: usize, length: usize| {
                offset
                    .checked_add(length)
                    .filter(|&stop| offset >= 16 && stop <= end)
                    .map(|stop| ctx[offset..stop].to_vec())
                    .ok_or(bad("a name or data outside the context"))
            };
            let name = field(name_offset, name_length)?;
            let data = if data_length == 0 {
                Vec::new()
            } else {
                field(data_offset, data_length)?
            };
            out.push(Self { name, data });
            if next == 0 {
                break;
            }
            at += next;
        }
        Ok(out)
    }

    /// Writes a context chain, each context 8-byte aligned.
    pub fn encode_chain(contexts: &[Self]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, ctx) in contexts.iter().enumerate() {
            let start = out.len();
            let data_offset = if ctx.data.is_empty() {
                0
            } else {
                (16 + ctx.name.len()).next_multiple_of(8)
            };
            0u32.encode(&mut out);
            16u16.encode(&mut out);
            (ctx.name.len() as u16).encode(&mut out);
            0u16.encode(&mut out);
            (data_offset as u16).encode(&mut out);
            (ctx.data.len() as u32).encode(&mut out);
            out.extend_from_slice(&ctx.name);
            if !ctx.data.is_empty() {
                pad_to(&mut out, start, 8);
                out.extend_from_slice(&ctx.data);
            }
            if i + 1 < contexts.len() {
                pad_to(&mut out, start, 8);
                let next = (out.len() - start) as u32;
                out[start..start + 4].copy_from_slice(&next.to_le_bytes());
            }
        }
        out
    }

    /// The first context named `name`.
    pub fn find<'a>(contexts: &'a [Self], name: &[u8]) -> Option<&'a Self> {
        contexts.iter().find(|c| c.name == name)
    }
}

/// A lease request or grant (MS-SMB2 2.2.13.2.8 version 1, 32 bytes; 2.2.13.2.10
/// version 2, 52 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseContext {
    /// `LeaseKey`.
    pub key: [u8; 16],
    /// `LeaseState`.
    pub state: u32,
    /// `LeaseFlags`.
    pub flags: u32,
    /// Version 2: `ParentLeaseKey` (meaningful with [`LEASE_FLAG_PARENT_LEASE_KEY_SET`])
    /// and `Epoch`.
    pub v2: Option<([u8; 16], u16)>,
}

impl LeaseContext {
    /// Reads a lease context's data: 32 bytes are version 1, 52 version 2.
    pub fn parse(data: &[u8]) -> Result<Self, SmbError> {
        let mut r = Reader::new("lease context", data);
        let key = r.array()?;
        let state = r.u32()?;
        let flags = r.u32()?;
        r.u64()?;
        let v2 = match data.len() {
            32 => None,
            52 => {
                let parent = r.array()?;
                let epoch = r.u16()?;
                Some((parent, epoch))
            }
            _ => {
                return Err(SmbError::Malformed {
                    what: "lease context",
                    why: "neither 32 nor 52 bytes",
                });
            }
        };
        Ok(Self {
            key,
            state,
            flags,
            v2,
        })
    }

    /// The context's data, in the version it was asked in.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(52);
        out.extend_from_slice(&self.key);
        self.state.encode(&mut out);
        self.flags.encode(&mut out);
        0u64.encode(&mut out);
        if let Some((parent, epoch)) = self.v2 {
            out.extend_from_slice(&parent);
            epoch.encode(&mut out);
            0u16.encode(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Header;

    #[test]
    fn oplock_break_round_trips_at_24_bytes() {
        let b = OplockBreak {
            oplock_level: OPLOCK_II,
            file_id: FileId {
                persistent: 7,
                volatile: 9,
            },
        };
        let msg = b.to_message(&Header::default());
        assert_eq!(msg.len(), 64 + 24);
        assert_eq!(OplockBreak::from_message(&msg).unwrap().1, b);
    }

    #[test]
    fn lease_break_messages_have_the_ms_smb2_sizes() {
        let n = LeaseBreakNotification {
            new_epoch: 3,
            flags: LEASE_BREAK_ACK_REQUIRED,
            lease_key: [0x11; 16],
            current: LEASE_READ | LEASE_WRITE | LEASE_HANDLE,
            new: LEASE_READ | LEASE_HANDLE,
        };
        let msg = n.to_message(&Header::default());
        assert_eq!(msg.len(), 64 + 44);
        assert_eq!(LeaseBreakNotification::from_message(&msg).unwrap().1, n);
        let a = LeaseBreakAck {
            lease_key: [0x22; 16],
            state: LEASE_READ,
        };
        let msg = a.to_message(&Header::default());
        assert_eq!(msg.len(), 64 + 36);
        assert_eq!(LeaseBreakAck::from_message(&msg).unwrap().1, a);
    }

    #[test]
    fn a_context_chain_round_trips_and_bad_offsets_are_refused() {
        let lease = LeaseContext {
            key: [1; 16],
            state: LEASE_READ | LEASE_HANDLE,
            flags: 0,
            v2: Some(([2; 16], 5)),
        };
        let chain = CreateContext::encode_chain(&[
            CreateContext {
                name: b"DHnQ".to_vec(),
                data: vec![0; 16],
            },
            CreateContext {
                name: CONTEXT_LEASE.to_vec(),
                data: lease.to_bytes(),
            },
        ]);
        // MS-SMB2 2.2.13.2: the second context starts 8-byte aligned.
        assert_eq!(u32::from_le_bytes(chain[0..4].try_into().unwrap()) % 8, 0);
        let parsed = CreateContext::parse_chain(&chain).unwrap();
        assert_eq!(parsed.len(), 2);
        let found = CreateContext::find(&parsed, CONTEXT_LEASE).unwrap();
        assert_eq!(LeaseContext::parse(&found.data).unwrap(), lease);
        // A Next pointing past the end, a name outside the context, a looping chain.
        let mut past = chain.clone();
        past[0..4].copy_from_slice(&4096u32.to_le_bytes());
        assert!(CreateContext::parse_chain(&past).is_err());
        let mut name = chain.clone();
        name[4..6].copy_from_slice(&2u16.to_le_bytes());
        assert!(CreateContext::parse_chain(&name).is_err());
        let mut short = chain;
        short.truncate(10);
        assert!(CreateContext::parse_chain(&short).is_err());
        assert!(CreateContext::parse_chain(&[]).unwrap().is_empty());
        // A lease context of another size is refused.
        assert!(LeaseContext::parse(&[0; 40]).is_err());
    }
}
