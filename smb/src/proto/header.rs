//! MS-SMB2 2.2.1 the SMB2 packet header, the commands it names, and the Direct
//! TCP transport framing (MS-SMB2 2.1) every message travels in.

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::open_enum;

use crate::error::SmbError;

/// Length of the SMB2 header.
pub const HEADER_LEN: usize = 64;
/// `ProtocolId` of every SMB2 header.
pub const PROTOCOL_ID: [u8; 4] = [0xfe, b'S', b'M', b'B'];
/// Offset of the 16-byte `Signature` within the header.
pub const SIGNATURE_AT: usize = 48;

open_enum! {
    /// MS-SMB2 2.2.1 `Command`.
    pub struct Command(u16) {
        /// SMB2 NEGOTIATE.
        NEGOTIATE = 0x0000 => "NEGOTIATE",
        /// SMB2 SESSION_SETUP.
        SESSION_SETUP = 0x0001 => "SESSION_SETUP",
        /// SMB2 LOGOFF.
        LOGOFF = 0x0002 => "LOGOFF",
        /// SMB2 TREE_CONNECT.
        TREE_CONNECT = 0x0003 => "TREE_CONNECT",
        /// SMB2 TREE_DISCONNECT.
        TREE_DISCONNECT = 0x0004 => "TREE_DISCONNECT",
        /// SMB2 CREATE.
        CREATE = 0x0005 => "CREATE",
        /// SMB2 CLOSE.
        CLOSE = 0x0006 => "CLOSE",
        /// SMB2 FLUSH.
        FLUSH = 0x0007 => "FLUSH",
        /// SMB2 READ.
        READ = 0x0008 => "READ",
        /// SMB2 WRITE.
        WRITE = 0x0009 => "WRITE",
        /// SMB2 LOCK.
        LOCK = 0x000a => "LOCK",
        /// SMB2 IOCTL.
        IOCTL = 0x000b => "IOCTL",
        /// SMB2 CANCEL.
        CANCEL = 0x000c => "CANCEL",
        /// SMB2 ECHO.
        ECHO = 0x000d => "ECHO",
        /// SMB2 QUERY_DIRECTORY.
        QUERY_DIRECTORY = 0x000e => "QUERY_DIRECTORY",
        /// SMB2 CHANGE_NOTIFY.
        CHANGE_NOTIFY = 0x000f => "CHANGE_NOTIFY",
        /// SMB2 QUERY_INFO.
        QUERY_INFO = 0x0010 => "QUERY_INFO",
        /// SMB2 SET_INFO.
        SET_INFO = 0x0011 => "SET_INFO",
        /// SMB2 OPLOCK_BREAK.
        OPLOCK_BREAK = 0x0012 => "OPLOCK_BREAK",
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.1.2 `Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct HeaderFlags: u32 {
        /// SMB2_FLAGS_SERVER_TO_REDIR: a response.
        const SERVER_TO_REDIR = 0x0000_0001;
        /// SMB2_FLAGS_ASYNC_COMMAND: the async header form.
        const ASYNC_COMMAND = 0x0000_0002;
        /// SMB2_FLAGS_RELATED_OPERATIONS: a related compound member.
        const RELATED_OPERATIONS = 0x0000_0004;
        /// SMB2_FLAGS_SIGNED.
        const SIGNED = 0x0000_0008;
        /// SMB2_FLAGS_PRIORITY_MASK (3.1.1).
        const PRIORITY_MASK = 0x0000_0070;
        /// SMB2_FLAGS_DFS_OPERATIONS.
        const DFS_OPERATIONS = 0x1000_0000;
        /// SMB2_FLAGS_REPLAY_OPERATION.
        const REPLAY_OPERATION = 0x2000_0000;
    }
}

/// MS-SMB2 2.2.1.1/2.2.1.2 the SMB2 header, sync or async form.
///
/// ```text
/// ProtocolId(4) StructureSize(2)=64 CreditCharge(2) Status(4) Command(2)
/// CreditRequest/CreditResponse(2) Flags(4) NextCommand(4) MessageId(8)
/// sync:  Reserved(4) TreeId(4) | async: AsyncId(8)
/// SessionId(8) Signature(16)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// `CreditCharge`.
    pub credit_charge: u16,
    /// `Status` (responses; `ChannelSequence`/`Reserved` in 3.x requests, zero here).
    pub status: NtStatus,
    /// `Command`.
    pub command: Command,
    /// `CreditRequest` (requests) or `CreditResponse` (responses).
    pub credits: u16,
    /// `Flags`.
    pub flags: HeaderFlags,
    /// `NextCommand`: offset of the next compound member, 0 for the last.
    pub next_command: u32,
    /// `MessageId`.
    pub message_id: u64,
    /// `AsyncId` when [`HeaderFlags::ASYNC_COMMAND`] is set.
    pub async_id: u64,
    /// `TreeId` (sync form).
    pub tree_id: u32,
    /// `SessionId`.
    pub session_id: u64,
    /// `Signature`.
    pub signature: [u8; 16],
}

impl Default for Command {
    fn default() -> Self {
        Self::NEGOTIATE
    }
}

impl Default for HeaderFlags {
    fn default() -> Self {
        Self::empty()
    }
}

impl Header {
    /// A request header for `command` (the caller fills in ids and credits).
    pub fn request(command: Command) -> Self {
        Self {
            command,
            ..Self::default()
        }
    }

    /// Reads the header at the front of a message (or of a compound's member).
    pub fn from_message(msg: &[u8]) -> Result<Self, SmbError> {
        Ok(Self::read(&mut Reader::new("SMB2 header", msg))?)
    }

    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        self.flags.contains(HeaderFlags::SERVER_TO_REDIR)
    }

    /// Whether the message is an interim STATUS_PENDING reply (MS-SMB2 3.3.4.2).
    pub fn is_interim(&self) -> bool {
        self.status == NtStatus::PENDING && self.flags.contains(HeaderFlags::ASYNC_COMMAND)
    }
}

impl Codec for Header {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&PROTOCOL_ID);
        64u16.encode(out);
        self.credit_charge.encode(out);
        self.status.value().encode(out);
        self.command.value().encode(out);
        self.credits.encode(out);
        self.flags.bits().encode(out);
        self.next_command.encode(out);
        self.message_id.encode(out);
        if self.flags.contains(HeaderFlags::ASYNC_COMMAND) {
            self.async_id.encode(out);
        } else {
            0u32.encode(out);
            self.tree_id.encode(out);
        }
        self.session_id.encode(out);
        out.extend_from_slice(&self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        r.set_what("SMB2 header");
        if r.array::<4>()? != PROTOCOL_ID {
            return Err(adjoin_rpc::DecodeError::Invalid {
                what: "SMB2 header",
                why: "ProtocolId is not 0xFE 'SMB'",
            });
        }
        // MS-SMB2 2.2.1: StructureSize MUST be 64.
        if r.u16()? != 64 {
            return Err(adjoin_rpc::DecodeError::Invalid {
                what: "SMB2 header",
                why: "StructureSize is not 64",
            });
        }
        let credit_charge = r.u16()?;
        let status = NtStatus::new(r.u32()?);
        let command = Command::new(r.u16()?);
        let credits = r.u16()?;
        let flags = HeaderFlags::from_bits_retain(r.u32()?);
        let next_command = r.u32()?;
        let message_id = r.u64()?;
        let (async_id, tree_id) = if flags.contains(HeaderFlags::ASYNC_COMMAND) {
            (r.u64()?, 0)
        } else {
            r.u32()?;
            (0, r.u32()?)
        };
        Ok(Self {
            credit_charge,
            status,
            command,
            credits,
            flags,
            next_command,
            message_id,
            async_id,
            tree_id,
            session_id: r.u64()?,
            signature: r.array()?,
        })
    }
}

/// The largest message Adjoin accepts from a peer (the Direct TCP length field
/// allows 16 MiB; an SMB2 message with an 8 MiB read or write fits easily).
pub const MAX_MESSAGE: usize = 0x00ff_ffff;

/// MS-SMB2 2.1 Direct TCP framing: a zero byte and a 24-bit big-endian length.
pub fn frame(message: &[u8]) -> Result<Vec<u8>, SmbError> {
    if message.len() > MAX_MESSAGE {
        return Err(SmbError::TooLarge { len: message.len() });
    }
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + message.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// The length a Direct TCP frame header announces.
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, SmbError> {
    if prefix[0] != 0 {
        return Err(SmbError::Framing(prefix[0]));
    }
    Ok(usize::from(prefix[1]) << 16 | usize::from(prefix[2]) << 8 | usize::from(prefix[3]))
}

/// Splits a received (possibly compounded) transport payload into its messages
/// by `NextCommand` (MS-SMB2 3.2.5.1.9 / 3.3.5.2.7).
pub fn split_compound(payload: &[u8]) -> Result<Vec<&[u8]>, SmbError> {
    let mut messages = Vec::new();
    let mut rest = payload;
    loop {
        let header = Header::from_message(rest)?;
        let next = usize::try_from(header.next_command).unwrap_or(usize::MAX);
        if next == 0 {
            messages.push(rest);
            return Ok(messages);
        }
        // MS-SMB2 2.2.1: each compound member starts 8-byte aligned after a header.
        if next < HEADER_LEN || next % 8 != 0 || next > rest.len() {
            return Err(SmbError::Malformed {
                what: "SMB2 compound",
                why: "NextCommand is not an aligned offset inside the message",
            });
        }
        let (one, tail) = rest.split_at(next);
        messages.push(one);
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_in_both_forms() {
        let mut h = Header::request(Command::CREATE);
        h.credit_charge = 1;
        h.credits = 31;
        h.message_id = 7;
        h.tree_id = 5;
        h.session_id = 0x1122_3344_5566_7788;
        h.signature = [9; 16];
        let bytes = h.to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(&bytes[..4], b"\xfeSMB");
        assert_eq!(Header::read_bytes("h", &bytes).unwrap(), h);

        h.flags = HeaderFlags::ASYNC_COMMAND | HeaderFlags::SERVER_TO_REDIR;
        h.status = NtStatus::PENDING;
        h.async_id = 42;
        h.tree_id = 0;
        let back = Header::read_bytes("h", &h.to_bytes()).unwrap();
        assert_eq!(back, h);
        assert!(back.is_interim());
    }

    #[test]
    fn header_rejects_smb1_and_bad_sizes() {
        let mut bytes = Header::default().to_bytes();
        bytes[0] = 0xff;
        assert!(Header::read_bytes("h", &bytes).is_err());
        let mut bytes = Header::default().to_bytes();
        bytes[4] = 65;
        assert!(Header::read_bytes("h", &bytes).is_err());
        assert!(Header::read_bytes("h", &[0xfe, b'S', b'M', b'B']).is_err());
    }

    #[test]
    fn framing_is_big_endian_24_bits() {
        let framed = frame(&[1, 2, 3]).unwrap();
        assert_eq!(framed, [0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(frame_len([0, 1, 0, 0]).unwrap(), 65536);
        assert!(frame_len([0x85, 0, 0, 0]).is_err());
    }

    #[test]
    fn compounds_split_on_next_command() {
        let mut first = Header::request(Command::CREATE);
        first.next_command = 72;
        let mut payload = first.to_bytes();
        payload.resize(72, 0);
        payload.extend(Header::request(Command::CLOSE).to_bytes());
        let parts = split_compound(&payload).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 72);

        // An offset that points past the end, or is unaligned, is refused.
        payload[20] = 0xf0;
        assert!(split_compound(&payload).is_err());
        payload[20] = 70;
        assert!(split_compound(&payload).is_err());
    }
}
