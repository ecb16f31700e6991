//! The auth verifier at the end of a PDU (C706 13.2.6.1, MS-RPCE 2.2.2.11).

use crate::codec::{Codec, Reader, padding};
use crate::error::DecodeError;

/// Length of the sec_trailer before the auth value.
pub const SEC_TRAILER_LEN: usize = 8;

/// Alignment of the sec_trailer from the start of the PDU (MS-RPCE 2.2.2.11:
/// `auth_pad_length` bytes pad the body so the trailer is 4-byte aligned).
const TRAILER_ALIGN: usize = 4;

open_enum! {
    /// MS-RPCE 2.2.1.1.7 security providers (`auth_type`).
    pub struct AuthType(u8) {
        /// No authentication.
        NONE = 0 => "RPC_C_AUTHN_NONE",
        /// SPNEGO (Kerberos or NTLM inside).
        GSS_NEGOTIATE = 9 => "RPC_C_AUTHN_GSS_NEGOTIATE",
        /// NTLM.
        WINNT = 10 => "RPC_C_AUTHN_WINNT",
        /// TLS/SChannel.
        GSS_SCHANNEL = 14 => "RPC_C_AUTHN_GSS_SCHANNEL",
        /// Kerberos.
        GSS_KERBEROS = 16 => "RPC_C_AUTHN_GSS_KERBEROS",
        /// NETLOGON secure channel (MS-NRPC 3.3).
        NETLOGON = 68 => "RPC_C_AUTHN_NETLOGON",
        /// The provider's default.
        DEFAULT = 0xff => "RPC_C_AUTHN_DEFAULT",
    }
}

open_enum! {
    /// MS-RPCE 2.2.1.1.8 authentication levels (`auth_level`).
    pub struct AuthLevel(u8) {
        /// The provider's default.
        DEFAULT = 0 => "RPC_C_AUTHN_LEVEL_DEFAULT",
        /// No authentication.
        NONE = 1 => "RPC_C_AUTHN_LEVEL_NONE",
        /// Authenticated at bind only.
        CONNECT = 2 => "RPC_C_AUTHN_LEVEL_CONNECT",
        /// Authenticated per call (treated as PKT).
        CALL = 3 => "RPC_C_AUTHN_LEVEL_CALL",
        /// Authenticated per packet.
        PKT = 4 => "RPC_C_AUTHN_LEVEL_PKT",
        /// Signed.
        PKT_INTEGRITY = 5 => "RPC_C_AUTHN_LEVEL_PKT_INTEGRITY",
        /// Signed and sealed.
        PKT_PRIVACY = 6 => "RPC_C_AUTHN_LEVEL_PKT_PRIVACY",
    }
}

/// MS-RPCE 2.2.2.11 `sec_trailer` and the auth value after it.
///
/// ```text
/// body ... | auth_pad_length zero bytes (trailer 4-aligned)
/// auth_type u8 | auth_level u8 | auth_pad_length u8 | auth_reserved u8
/// auth_context_id u32
/// auth_value [auth_length]   (auth_length in the common header)
/// ```
///
/// The padding belongs to the body on the wire; decoding strips it from the
/// body (its contents are ignored), encoding writes `pad_length` zero bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuthVerifier {
    /// `auth_type`.
    pub auth_type: AuthType,
    /// `auth_level`.
    pub auth_level: AuthLevel,
    /// `auth_pad_length`.
    pub pad_length: u8,
    /// `auth_reserved`.
    pub reserved: u8,
    /// `auth_context_id`.
    pub context_id: u32,
    /// The security provider's token, signature or checksum.
    pub value: Vec<u8>,
}

impl AuthVerifier {
    /// A verifier with no padding yet (see [`AuthVerifier::pad_for`]).
    pub fn new(
        auth_type: AuthType,
        auth_level: AuthLevel,
        context_id: u32,
        value: Vec<u8>,
    ) -> Self {
        Self {
            auth_type,
            auth_level,
            pad_length: 0,
            reserved: 0,
            context_id,
            value,
        }
    }

    /// Sets `pad_length` so the trailer after an encoded body of `body_len`
    /// bytes (counted from the start of the body, which is 8-aligned in the
    /// PDU) starts on a 4-byte boundary.
    pub fn pad_for(mut self, body_len: usize) -> Self {
        // padding() is below TRAILER_ALIGN, so it fits in a u8.
        self.pad_length = padding(body_len, TRAILER_ALIGN) as u8;
        self
    }

    /// Reads the trailer from the end of `body` (everything after the common
    /// header); returns the length of the body before the padding.
    pub(super) fn read_trailer(
        body: &mut Reader<'_>,
        auth_length: u16,
    ) -> Result<(usize, Self), DecodeError> {
        let total = body.remaining();
        let Some(trailer_at) = total.checked_sub(SEC_TRAILER_LEN + usize::from(auth_length)) else {
            return Err(DecodeError::AuthLength {
                auth_length,
                body: total,
            });
        };
        let mut tail = body.clone();
        tail.take(trailer_at)?;
        tail.set_what("sec_trailer");
        let [auth_type, auth_level, pad_length, reserved] = tail.array()?;
        let context_id = tail.u32()?;
        let value = tail.rest().to_vec();
        let stub_len =
            trailer_at
                .checked_sub(usize::from(pad_length))
                .ok_or(DecodeError::AuthPadding {
                    pad: pad_length,
                    available: trailer_at,
                })?;
        let verifier = Self {
            auth_type: AuthType::new(auth_type),
            auth_level: AuthLevel::new(auth_level),
            pad_length,
            reserved,
            context_id,
            value,
        };
        Ok((stub_len, verifier))
    }

    /// Appends the padding, the sec_trailer and the auth value.
    pub(super) fn encode_trailer(&self, out: &mut Vec<u8>) {
        out.resize(out.len() + usize::from(self.pad_length), 0);
        out.extend_from_slice(&[
            self.auth_type.value(),
            self.auth_level.value(),
            self.pad_length,
            self.reserved,
        ]);
        self.context_id.encode(out);
        out.extend_from_slice(&self.value);
    }
}
