//! MS-SMB2 2.2.3/2.2.4 NEGOTIATE, with the SMB 3.1.1 negotiate contexts.

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::open_enum;

use super::{Body, Command, align8, buffer, offset_here_u16, patch_u16, patch_u32};
use crate::error::SmbError;

open_enum! {
    /// MS-SMB2 2.2.3 `Dialects`.
    pub struct Dialect(u16) {
        /// SMB 2.0.2.
        SMB202 = 0x0202 => "SMB 2.0.2",
        /// SMB 2.1.
        SMB210 = 0x0210 => "SMB 2.1",
        /// SMB 3.0.
        SMB300 = 0x0300 => "SMB 3.0",
        /// SMB 3.0.2.
        SMB302 = 0x0302 => "SMB 3.0.2",
        /// SMB 3.1.1.
        SMB311 = 0x0311 => "SMB 3.1.1",
        /// SMB2 wildcard revision (a multi-protocol negotiate's answer).
        WILDCARD = 0x02ff => "SMB 2.???",
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Self::SMB202
    }
}

/// The dialects Adjoin speaks, as client and as server, oldest first.
pub const DIALECTS: [Dialect; 5] = [
    Dialect::SMB202,
    Dialect::SMB210,
    Dialect::SMB300,
    Dialect::SMB302,
    Dialect::SMB311,
];

/// One credit's worth of payload (MS-SMB2 3.1.5.2): the largest read, write or
/// transaction of a connection without SMB2_GLOBAL_CAP_LARGE_MTU (2.0.2), and what the
/// client asks for at most. The server announces 8 MiB from 2.1 on
/// (`server::negotiate::MAX_LARGE_IO`).
pub const MAX_IO: u32 = 65536;

impl Dialect {
    /// The highest of [`DIALECTS`] that `offered` lists.
    pub fn highest_common(offered: &[Self]) -> Option<Self> {
        DIALECTS.iter().rev().find(|d| offered.contains(d)).copied()
    }

    /// Whether this is SMB 3.x (AES-CMAC signing, key derivation).
    pub fn is_smb3(self) -> bool {
        self.value() >= 0x0300 && self != Self::WILDCARD
    }
}

open_enum! {
    /// MS-SMB2 2.2.3.1.1 `HashAlgorithms`.
    pub struct HashAlgorithm(u16) {
        /// SHA-512.
        SHA512 = 0x0001 => "SHA-512",
    }
}

open_enum! {
    /// MS-SMB2 2.2.3.1.2 `Ciphers`.
    pub struct Cipher(u16) {
        /// AES-128-CCM.
        AES128_CCM = 0x0001 => "AES-128-CCM",
        /// AES-128-GCM.
        AES128_GCM = 0x0002 => "AES-128-GCM",
        /// AES-256-CCM.
        AES256_CCM = 0x0003 => "AES-256-CCM",
        /// AES-256-GCM.
        AES256_GCM = 0x0004 => "AES-256-GCM",
    }
}

open_enum! {
    /// MS-SMB2 2.2.3.1.7 `SigningAlgorithms`.
    pub struct SigningAlgorithm(u16) {
        /// HMAC-SHA256.
        HMAC_SHA256 = 0x0000 => "HMAC-SHA256",
        /// AES-CMAC.
        AES_CMAC = 0x0001 => "AES-CMAC",
        /// AES-GMAC.
        AES_GMAC = 0x0002 => "AES-GMAC",
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.3 `SecurityMode`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SecurityMode: u16 {
        /// SMB2_NEGOTIATE_SIGNING_ENABLED.
        const SIGNING_ENABLED = 0x0001;
        /// SMB2_NEGOTIATE_SIGNING_REQUIRED.
        const SIGNING_REQUIRED = 0x0002;
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.3 `Capabilities`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Capabilities: u32 {
        /// SMB2_GLOBAL_CAP_DFS.
        const DFS = 0x0000_0001;
        /// SMB2_GLOBAL_CAP_LEASING.
        const LEASING = 0x0000_0002;
        /// SMB2_GLOBAL_CAP_LARGE_MTU.
        const LARGE_MTU = 0x0000_0004;
        /// SMB2_GLOBAL_CAP_MULTI_CHANNEL.
        const MULTI_CHANNEL = 0x0000_0008;
        /// SMB2_GLOBAL_CAP_PERSISTENT_HANDLES.
        const PERSISTENT_HANDLES = 0x0000_0010;
        /// SMB2_GLOBAL_CAP_DIRECTORY_LEASING.
        const DIRECTORY_LEASING = 0x0000_0020;
        /// SMB2_GLOBAL_CAP_ENCRYPTION.
        const ENCRYPTION = 0x0000_0040;
        /// SMB2_GLOBAL_CAP_NOTIFICATIONS.
        const NOTIFICATIONS = 0x0000_0080;
    }
}

const PREAUTH_INTEGRITY: u16 = 0x0001;
const ENCRYPTION: u16 = 0x0002;
const SIGNING: u16 = 0x0008;

/// MS-SMB2 2.2.3.1 NEGOTIATE_CONTEXT.
///
/// ```text
/// ContextType(2) DataLength(2) Reserved(4) Data(DataLength)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiateContext {
    /// 2.2.3.1.1 SMB2_PREAUTH_INTEGRITY_CAPABILITIES:
    /// HashAlgorithmCount(2) SaltLength(2) HashAlgorithms(2*n) Salt.
    PreauthIntegrity {
        /// `HashAlgorithms`.
        hash_algorithms: Vec<HashAlgorithm>,
        /// `Salt`.
        salt: Vec<u8>,
    },
    /// 2.2.3.1.2 SMB2_ENCRYPTION_CAPABILITIES: CipherCount(2) Ciphers(2*n).
    Encryption(Vec<Cipher>),
    /// 2.2.3.1.7 SMB2_SIGNING_CAPABILITIES: SigningAlgorithmCount(2) SigningAlgorithms(2*n).
    Signing(Vec<SigningAlgorithm>),
    /// A context this codec does not interpret.
    Other {
        /// `ContextType`.
        context_type: u16,
        /// `Data`.
        data: Vec<u8>,
    },
}

fn encode_list<T: Copy + Into<u16>>(items: &[T], out: &mut Vec<u8>) {
    for item in items {
        (*item).into().encode(out);
    }
}

fn read_list<T: From<u16>>(r: &mut Reader<'_>, count: u16) -> Result<Vec<T>, SmbError> {
    (0..count).map(|_| Ok(T::from(r.u16()?))).collect()
}

impl NegotiateContext {
    fn encode(&self, out: &mut Vec<u8>) {
        let (ty, data) = match self {
            Self::PreauthIntegrity {
                hash_algorithms,
                salt,
            } => {
                let mut d = Vec::new();
                count(hash_algorithms.len()).encode(&mut d);
                count(salt.len()).encode(&mut d);
                encode_list(hash_algorithms, &mut d);
                d.extend_from_slice(salt);
                (PREAUTH_INTEGRITY, d)
            }
            Self::Encryption(ciphers) => {
                let mut d = count(ciphers.len()).to_bytes();
                encode_list(ciphers, &mut d);
                (ENCRYPTION, d)
            }
            Self::Signing(algorithms) => {
                let mut d = count(algorithms.len()).to_bytes();
                encode_list(algorithms, &mut d);
                (SIGNING, d)
            }
            Self::Other { context_type, data } => (*context_type, data.clone()),
        };
        ty.encode(out);
        count(data.len()).encode(out);
        0u32.encode(out);
        out.extend_from_slice(&data);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("NEGOTIATE_CONTEXT");
        let ty = r.u16()?;
        let len = r.u16()?;
        r.u32()?;
        let data = r.take(usize::from(len))?;
        let mut d = Reader::new("NEGOTIATE_CONTEXT data", data);
        let ctx = match ty {
            PREAUTH_INTEGRITY => {
                let n = d.u16()?;
                let salt_len = d.u16()?;
                let hash_algorithms = read_list(&mut d, n)?;
                let salt = d.take(usize::from(salt_len))?.to_vec();
                Self::PreauthIntegrity {
                    hash_algorithms,
                    salt,
                }
            }
            ENCRYPTION => {
                let n = d.u16()?;
                Self::Encryption(read_list(&mut d, n)?)
            }
            SIGNING => {
                let n = d.u16()?;
                Self::Signing(read_list(&mut d, n)?)
            }
            _ => {
                return Ok(Self::Other {
                    context_type: ty,
                    data: data.to_vec(),
                });
            }
        };
        Ok(ctx)
    }
}

/// A count that the codec's own callers keep small (dialects, contexts, salts).
fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Writes the context list 8-byte aligned, patching the offset at `offset_at`.
fn encode_contexts(contexts: &[NegotiateContext], out: &mut Vec<u8>, offset_at: usize) {
    if contexts.is_empty() {
        return;
    }
    align8(out);
    let at = out.len();
    patch_u32(out, offset_at, at);
    for (i, ctx) in contexts.iter().enumerate() {
        if i > 0 {
            align8(out);
        }
        ctx.encode(out);
    }
}

/// Reads `n` contexts starting at `offset` of `msg`.
fn read_contexts(msg: &[u8], offset: usize, n: u16) -> Result<Vec<NegotiateContext>, SmbError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let list = buffer(
        msg,
        offset,
        msg.len().saturating_sub(offset),
        "negotiate contexts",
    )?;
    let mut r = Reader::new("negotiate contexts", list);
    let mut out = Vec::with_capacity(usize::from(n.min(16)));
    for i in 0..n {
        if i > 0 {
            // Each context after the first starts 8-byte aligned (relative to the list,
            // which is itself 8-byte aligned in the message).
            let pad = r.position().next_multiple_of(8) - r.position();
            r.take(pad)?;
        }
        out.push(NegotiateContext::read(&mut r)?);
    }
    Ok(out)
}

/// MS-SMB2 2.2.3 NEGOTIATE Request.
///
/// ```text
/// StructureSize(2)=36 DialectCount(2) SecurityMode(2) Reserved(2) Capabilities(4)
/// ClientGuid(16) NegotiateContextOffset(4) NegotiateContextCount(2) Reserved2(2)
///   (or ClientStartTime(8) before 3.1.1) Dialects(2*n) Padding NegotiateContextList
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegotiateRequest {
    /// `SecurityMode`.
    pub security_mode: SecurityMode,
    /// `Capabilities`.
    pub capabilities: Capabilities,
    /// `ClientGuid`.
    pub client_guid: [u8; 16],
    /// `Dialects`.
    pub dialects: Vec<Dialect>,
    /// `NegotiateContextList` (sent only when 3.1.1 is offered).
    pub contexts: Vec<NegotiateContext>,
}

impl Body for NegotiateRequest {
    const COMMAND: Command = Command::NEGOTIATE;
    const STRUCTURE_SIZE: u16 = 36;

    fn encode_body(&self, out: &mut Vec<u8>) {
        count(self.dialects.len()).encode(out);
        self.security_mode.bits().encode(out);
        0u16.encode(out);
        self.capabilities.bits().encode(out);
        out.extend_from_slice(&self.client_guid);
        let offset_at = out.len();
        0u32.encode(out);
        count(self.contexts.len()).encode(out);
        0u16.encode(out);
        encode_list(&self.dialects, out);
        encode_contexts(&self.contexts, out, offset_at);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("NEGOTIATE request");
        let n = r.u16()?;
        let security_mode = SecurityMode::from_bits_retain(r.u16()?);
        r.u16()?;
        let capabilities = Capabilities::from_bits_retain(r.u32()?);
        let client_guid = r.array()?;
        let ctx_offset = r.u32()?;
        let ctx_count = r.u16()?;
        r.u16()?;
        // MS-SMB2 3.3.5.4: DialectCount 0 is STATUS_INVALID_PARAMETER.
        if n == 0 {
            return Err(SmbError::Malformed {
                what: "NEGOTIATE request",
                why: "DialectCount is 0",
            });
        }
        let dialects: Vec<Dialect> = read_list(r, n)?;
        // The context fields mean ClientStartTime unless 3.1.1 is offered.
        let contexts = if dialects.contains(&Dialect::SMB311) {
            read_contexts(msg, ctx_offset as usize, ctx_count)?
        } else {
            Vec::new()
        };
        Ok(Self {
            security_mode,
            capabilities,
            client_guid,
            dialects,
            contexts,
        })
    }
}

/// MS-SMB2 2.2.4 NEGOTIATE Response.
///
/// ```text
/// StructureSize(2)=65 SecurityMode(2) DialectRevision(2) NegotiateContextCount(2)
/// ServerGuid(16) Capabilities(4) MaxTransactSize(4) MaxReadSize(4) MaxWriteSize(4)
/// SystemTime(8) ServerStartTime(8) SecurityBufferOffset(2) SecurityBufferLength(2)
/// NegotiateContextOffset(4) Buffer Padding NegotiateContextList
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegotiateResponse {
    /// `SecurityMode`.
    pub security_mode: SecurityMode,
    /// `DialectRevision`.
    pub dialect: Dialect,
    /// `ServerGuid`.
    pub server_guid: [u8; 16],
    /// `Capabilities`.
    pub capabilities: Capabilities,
    /// `MaxTransactSize`.
    pub max_transact_size: u32,
    /// `MaxReadSize`.
    pub max_read_size: u32,
    /// `MaxWriteSize`.
    pub max_write_size: u32,
    /// `SystemTime` (FILETIME).
    pub system_time: u64,
    /// `ServerStartTime`.
    pub server_start_time: u64,
    /// The security buffer (an SPNEGO NegTokenInit2, or empty).
    pub security_buffer: Vec<u8>,
    /// `NegotiateContextList` (3.1.1 only).
    pub contexts: Vec<NegotiateContext>,
}

impl Body for NegotiateResponse {
    const COMMAND: Command = Command::NEGOTIATE;
    const STRUCTURE_SIZE: u16 = 65;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.security_mode.bits().encode(out);
        self.dialect.value().encode(out);
        count(self.contexts.len()).encode(out);
        out.extend_from_slice(&self.server_guid);
        self.capabilities.bits().encode(out);
        self.max_transact_size.encode(out);
        self.max_read_size.encode(out);
        self.max_write_size.encode(out);
        self.system_time.encode(out);
        self.server_start_time.encode(out);
        let sec_at = out.len();
        0u32.encode(out);
        let ctx_at = out.len();
        0u32.encode(out);
        if !self.security_buffer.is_empty() {
            offset_here_u16(out, sec_at);
            patch_u16(out, sec_at + 2, self.security_buffer.len());
            out.extend_from_slice(&self.security_buffer);
        }
        encode_contexts(&self.contexts, out, ctx_at);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("NEGOTIATE response");
        let security_mode = SecurityMode::from_bits_retain(r.u16()?);
        let dialect = Dialect::new(r.u16()?);
        let ctx_count = r.u16()?;
        let server_guid = r.array()?;
        let capabilities = Capabilities::from_bits_retain(r.u32()?);
        let max_transact_size = r.u32()?;
        let max_read_size = r.u32()?;
        let max_write_size = r.u32()?;
        let system_time = r.u64()?;
        let server_start_time = r.u64()?;
        let sec_offset = usize::from(r.u16()?);
        let sec_len = usize::from(r.u16()?);
        let ctx_offset = r.u32()? as usize;
        let security_buffer = buffer(msg, sec_offset, sec_len, "NEGOTIATE security buffer")?;
        let contexts = if dialect == Dialect::SMB311 {
            read_contexts(msg, ctx_offset, ctx_count)?
        } else {
            Vec::new()
        };
        Ok(Self {
            security_mode,
            dialect,
            server_guid,
            capabilities,
            max_transact_size,
            max_read_size,
            max_write_size,
            system_time,
            server_start_time,
            security_buffer: security_buffer.to_vec(),
            contexts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{HEADER_LEN, Header};

    fn request() -> NegotiateRequest {
        NegotiateRequest {
            security_mode: SecurityMode::SIGNING_ENABLED,
            capabilities: Capabilities::LARGE_MTU | Capabilities::ENCRYPTION,
            client_guid: [7; 16],
            dialects: vec![Dialect::SMB202, Dialect::SMB311],
            contexts: vec![
                NegotiateContext::PreauthIntegrity {
                    hash_algorithms: vec![HashAlgorithm::SHA512],
                    salt: vec![0xaa; 32],
                },
                NegotiateContext::Encryption(vec![Cipher::AES128_GCM]),
                NegotiateContext::Signing(vec![SigningAlgorithm::AES_CMAC]),
            ],
        }
    }

    #[test]
    fn request_layout_matches_ms_smb2() {
        let msg = request().to_message(&Header::request(Command::NEGOTIATE));
        // StructureSize 36, DialectCount 2, then the dialects at offset 100.
        assert_eq!(&msg[HEADER_LEN..HEADER_LEN + 4], &[36, 0, 2, 0]);
        assert_eq!(&msg[100..104], &[0x02, 0x02, 0x11, 0x03]);
        // The context list starts 8-aligned right after: 104.
        assert_eq!(u32::from_le_bytes(msg[92..96].try_into().unwrap()), 104);
        assert_eq!(u16::from_le_bytes(msg[96..98].try_into().unwrap()), 3);
        // Preauth: type 1, DataLength 2+2+2+32 = 38.
        assert_eq!(&msg[104..108], &[1, 0, 38, 0]);
        let (_, back) = NegotiateRequest::from_message(&msg).unwrap();
        assert_eq!(back, request());
    }

    #[test]
    fn response_round_trips_with_blob_and_contexts() {
        let resp = NegotiateResponse {
            security_mode: SecurityMode::SIGNING_ENABLED | SecurityMode::SIGNING_REQUIRED,
            dialect: Dialect::SMB311,
            server_guid: [3; 16],
            capabilities: Capabilities::LARGE_MTU,
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 8 << 20,
            system_time: 1,
            server_start_time: 0,
            security_buffer: vec![0x60, 1, 2, 3, 4],
            contexts: vec![NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HashAlgorithm::SHA512],
                salt: vec![1; 32],
            }],
        };
        let msg = resp.to_message(&Header::default());
        assert_eq!(u16::from_le_bytes([msg[120], msg[121]]), 128);
        let (_, back) = NegotiateResponse::from_message(&msg).unwrap();
        assert_eq!(back, resp);
    }

    #[test]
    fn out_of_range_offsets_are_errors() {
        let mut msg = request().to_message(&Header::request(Command::NEGOTIATE));
        msg[92..96].copy_from_slice(&4000u32.to_le_bytes());
        assert!(NegotiateRequest::from_message(&msg).is_err());
        let mut msg = request().to_message(&Header::request(Command::NEGOTIATE));
        msg[66] = 0;
        msg[67] = 0;
        assert!(NegotiateRequest::from_message(&msg).is_err());
        let msg = request().to_message(&Header::request(Command::NEGOTIATE));
        assert!(NegotiateRequest::from_message(&msg[..msg.len() - 3]).is_err());
    }
}
