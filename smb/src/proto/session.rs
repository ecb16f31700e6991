//! MS-SMB2 2.2.5-2.2.12: SESSION_SETUP, LOGOFF, TREE_CONNECT and TREE_DISCONNECT.

use adjoin_rpc::codec::{Codec, Reader};

use super::{Body, Command, buffer, from_utf16, offset_here_u16, patch_u16, utf16};
use crate::error::SmbError;

bitflags::bitflags! {
    /// MS-SMB2 2.2.6 `SessionFlags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SessionFlags: u16 {
        /// SMB2_SESSION_FLAG_IS_GUEST.
        const IS_GUEST = 0x0001;
        /// SMB2_SESSION_FLAG_IS_NULL.
        const IS_NULL = 0x0002;
        /// SMB2_SESSION_FLAG_ENCRYPT_DATA.
        const ENCRYPT_DATA = 0x0004;
    }
}

/// MS-SMB2 2.2.5 SESSION_SETUP Request.
///
/// ```text
/// StructureSize(2)=25 Flags(1) SecurityMode(1) Capabilities(4) Channel(4)
/// SecurityBufferOffset(2) SecurityBufferLength(2) PreviousSessionId(8) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionSetupRequest {
    /// `Flags` (SMB2_SESSION_FLAG_BINDING = 1).
    pub flags: u8,
    /// `SecurityMode` (the NEGOTIATE bits, in one byte).
    pub security_mode: u8,
    /// `Capabilities` (only SMB2_GLOBAL_CAP_DFS is meaningful).
    pub capabilities: u32,
    /// `PreviousSessionId`.
    pub previous_session_id: u64,
    /// The GSS token.
    pub security_buffer: Vec<u8>,
}

impl Body for SessionSetupRequest {
    const COMMAND: Command = Command::SESSION_SETUP;
    const STRUCTURE_SIZE: u16 = 25;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.flags);
        out.push(self.security_mode);
        self.capabilities.encode(out);
        0u32.encode(out);
        let sec_at = out.len();
        0u32.encode(out);
        self.previous_session_id.encode(out);
        offset_here_u16(out, sec_at);
        patch_u16(out, sec_at + 2, self.security_buffer.len());
        out.extend_from_slice(&self.security_buffer);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("SESSION_SETUP request");
        let flags = r.u8()?;
        let security_mode = r.u8()?;
        let capabilities = r.u32()?;
        r.u32()?;
        let offset = usize::from(r.u16()?);
        let len = usize::from(r.u16()?);
        let previous_session_id = r.u64()?;
        Ok(Self {
            flags,
            security_mode,
            capabilities,
            previous_session_id,
            security_buffer: buffer(msg, offset, len, "SESSION_SETUP security buffer")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.6 SESSION_SETUP Response.
///
/// ```text
/// StructureSize(2)=9 SessionFlags(2) SecurityBufferOffset(2) SecurityBufferLength(2) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionSetupResponse {
    /// `SessionFlags`.
    pub session_flags: SessionFlags,
    /// The GSS token.
    pub security_buffer: Vec<u8>,
}

impl Body for SessionSetupResponse {
    const COMMAND: Command = Command::SESSION_SETUP;
    const STRUCTURE_SIZE: u16 = 9;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.session_flags.bits().encode(out);
        let at = out.len();
        0u32.encode(out);
        if !self.security_buffer.is_empty() {
            offset_here_u16(out, at);
            patch_u16(out, at + 2, self.security_buffer.len());
            out.extend_from_slice(&self.security_buffer);
        }
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("SESSION_SETUP response");
        let session_flags = SessionFlags::from_bits_retain(r.u16()?);
        let offset = usize::from(r.u16()?);
        let len = usize::from(r.u16()?);
        Ok(Self {
            session_flags,
            security_buffer: buffer(msg, offset, len, "SESSION_SETUP security buffer")?.to_vec(),
        })
    }
}

/// Declares a body that is `StructureSize(2)=4 Reserved(2)` and nothing else.
macro_rules! empty_body {
    ($($(#[$meta:meta])* $name:ident => $command:ident;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl Body for $name {
            const COMMAND: Command = Command::$command;
            const STRUCTURE_SIZE: u16 = 4;

            fn encode_body(&self, out: &mut Vec<u8>) {
                0u16.encode(out);
            }

            fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
                r.u16()?;
                Ok(Self)
            }
        }
    )*};
}

empty_body! {
    /// MS-SMB2 2.2.7 LOGOFF Request.
    LogoffRequest => LOGOFF;
    /// MS-SMB2 2.2.8 LOGOFF Response.
    LogoffResponse => LOGOFF;
    /// MS-SMB2 2.2.11 TREE_DISCONNECT Request.
    TreeDisconnectRequest => TREE_DISCONNECT;
    /// MS-SMB2 2.2.12 TREE_DISCONNECT Response.
    TreeDisconnectResponse => TREE_DISCONNECT;
}

/// MS-SMB2 2.2.9 TREE_CONNECT Request.
///
/// ```text
/// StructureSize(2)=9 Flags(2) PathOffset(2) PathLength(2) Buffer(\\server\share, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeConnectRequest {
    /// `Flags` (3.1.1; 0 otherwise).
    pub flags: u16,
    /// The share's path, `\\server\share`.
    pub path: String,
}

impl Body for TreeConnectRequest {
    const COMMAND: Command = Command::TREE_CONNECT;
    const STRUCTURE_SIZE: u16 = 9;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.flags.encode(out);
        let path = utf16(&self.path);
        let at = out.len();
        0u32.encode(out);
        offset_here_u16(out, at);
        patch_u16(out, at + 2, path.len());
        out.extend_from_slice(&path);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("TREE_CONNECT request");
        let flags = r.u16()?;
        let offset = usize::from(r.u16()?);
        let len = usize::from(r.u16()?);
        let path = from_utf16(
            buffer(msg, offset, len, "TREE_CONNECT path")?,
            "TREE_CONNECT path",
        )?;
        Ok(Self { flags, path })
    }
}

/// MS-SMB2 2.2.10 TREE_CONNECT Response.
///
/// ```text
/// StructureSize(2)=16 ShareType(1) Reserved(1) ShareFlags(4) Capabilities(4) MaximalAccess(4)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeConnectResponse {
    /// `ShareType`: 1 disk, 2 pipe, 3 print.
    pub share_type: u8,
    /// `ShareFlags`.
    pub share_flags: u32,
    /// `Capabilities`.
    pub capabilities: u32,
    /// `MaximalAccess`.
    pub maximal_access: u32,
}

impl TreeConnectResponse {
    /// SMB2_SHARE_TYPE_DISK.
    pub const DISK: u8 = 1;
    /// SMB2_SHARE_TYPE_PIPE.
    pub const PIPE: u8 = 2;
}

impl Body for TreeConnectResponse {
    const COMMAND: Command = Command::TREE_CONNECT;
    const STRUCTURE_SIZE: u16 = 16;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.share_type);
        out.push(0);
        self.share_flags.encode(out);
        self.capabilities.encode(out);
        self.maximal_access.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("TREE_CONNECT response");
        let share_type = r.u8()?;
        r.u8()?;
        Ok(Self {
            share_type,
            share_flags: r.u32()?,
            capabilities: r.u32()?,
            maximal_access: r.u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Header;

    #[test]
    fn session_setup_buffers_sit_where_the_offsets_say() {
        let req = SessionSetupRequest {
            security_mode: 1,
            security_buffer: b"NTLMSSP\0".to_vec(),
            ..Default::default()
        };
        let msg = req.to_message(&Header::default());
        // MS-SMB2 2.2.5: the buffer follows the 24 fixed bytes, at 64 + 24 = 88.
        assert_eq!(u16::from_le_bytes([msg[76], msg[77]]), 88);
        assert_eq!(&msg[88..], b"NTLMSSP\0");
        assert_eq!(SessionSetupRequest::from_message(&msg).unwrap().1, req);

        let resp = SessionSetupResponse {
            session_flags: SessionFlags::IS_GUEST,
            security_buffer: vec![0xa1, 0],
        };
        let msg = resp.to_message(&Header::default());
        assert_eq!(u16::from_le_bytes([msg[68], msg[69]]), 72);
        assert_eq!(SessionSetupResponse::from_message(&msg).unwrap().1, resp);
    }

    #[test]
    fn tree_connect_path_is_utf16() {
        let req = TreeConnectRequest {
            flags: 0,
            path: r"\\dc1.example.test\IPC$".into(),
        };
        let msg = req.to_message(&Header::default());
        assert_eq!(&msg[72..76], &[b'\\', 0, b'\\', 0]);
        assert_eq!(TreeConnectRequest::from_message(&msg).unwrap().1, req);
        let mut odd = msg.clone();
        odd[70] = 3;
        assert!(TreeConnectRequest::from_message(&odd).is_err());
    }

    #[test]
    fn wrong_structure_size_or_command_is_refused() {
        let mut msg = LogoffRequest.to_message(&Header::default());
        assert!(LogoffRequest::from_message(&msg).is_ok());
        assert!(TreeDisconnectRequest::from_message(&msg).is_err());
        msg[64] = 5;
        assert!(LogoffRequest::from_message(&msg).is_err());
    }
}
