//! Kerberos packet security for a binding (MS-RPCE 3.3.1.5.2 with auth_type 16,
//! RPC_C_AUTHN_GSS_KERBEROS; MS-KILE 3.4.5 DCE style), sans-IO. The GSS work is
//! `adjoin_auth::gss::krb5`; this module maps it onto the PDUs.
//!
//! ```text
//! bind         auth_value = KRB_AP_REQ, raw (checksum flags DCE_STYLE | MUTUAL | REPLAY |
//!                           SEQUENCE | INTEG, and CONF at privacy)
//! bind_ack     auth_value = KRB_AP_REP, raw (the DC's subkey and sequence number)
//! rpc_auth_3   auth_value = KRB_AP_REP, raw (echoes the DC's sequence number)
//! request, response
//!   PKT_INTEGRITY  auth_value = MIC token over stub and auth padding (28 bytes with AES)
//!   PKT_PRIVACY    stub and auth padding sealed in place, auth_value = the DCE-style
//!                  wrap token (76 bytes with AES-SHA1: EC 16, RRC 28)
//! ```
//! The header is not signed: the bind does not offer PFC_SUPPORT_HEADER_SIGN
//! (docs/decisions.md says why).

use std::time::SystemTime;

use adjoin_auth::gss::krb5::{DceInitiator, GssFlags, SecurityContext};
use adjoin_auth::krb::Credentials;

use crate::client::RpcError;
use crate::pdu::AuthLevel;

/// A binding's Kerberos provider, by stage.
#[derive(Debug)]
pub(crate) enum KerberosProvider {
    /// The service ticket, before the bind.
    Start(Box<Credentials>),
    /// The bind's AP-REQ is out; waiting for the bind_ack's AP-REP.
    Pending(Box<DceInitiator>),
    /// Established.
    Ready(Box<SecurityContext>),
    /// The exchange failed part-way: the binding cannot protect anything.
    Failed,
}

impl KerberosProvider {
    /// The AP-REQ for the bind at `level` (integrity or privacy).
    pub(crate) fn bind_token(
        &mut self,
        level: AuthLevel,
        now: SystemTime,
    ) -> Result<Vec<u8>, RpcError> {
        let mut flags = GssFlags::MUTUAL | GssFlags::REPLAY | GssFlags::SEQUENCE | GssFlags::INTEG;
        match level {
            AuthLevel::PKT_INTEGRITY => {}
            AuthLevel::PKT_PRIVACY => flags |= GssFlags::CONF,
            _ => {
                return Err(RpcError::Protocol(
                    "Kerberos bindings are at packet integrity or privacy",
                ));
            }
        }
        let Self::Start(creds) = core::mem::replace(self, Self::Failed) else {
            return Err(RpcError::Protocol("a second bind on a Kerberos binding"));
        };
        let (initiator, token) = DceInitiator::start(*creds, flags, now)?;
        *self = Self::Pending(Box::new(initiator));
        Ok(token)
    }

    /// Reads the bind_ack's AP-REP; returns the AP-REP for rpc_auth_3.
    pub(crate) fn bind_reply(&mut self, token: &[u8]) -> Result<Vec<u8>, RpcError> {
        let Self::Pending(initiator) = core::mem::replace(self, Self::Failed) else {
            return Err(RpcError::Protocol("a bind_ack before the Kerberos bind"));
        };
        let (ctx, reply) = initiator.step(token)?;
        *self = Self::Ready(Box::new(ctx));
        Ok(reply)
    }

    /// Length of the auth value of a protected PDU.
    pub(crate) fn signature_len(&self, seal: bool) -> Result<usize, RpcError> {
        let ctx = self.context()?;
        Ok(if seal {
            ctx.dce_wrap_len()?
        } else {
            ctx.mic_len()?
        })
    }

    /// Signs, or seals in place, `data` (stub and auth padding); returns the auth value.
    pub(crate) fn protect(&mut self, data: &mut [u8], seal: bool) -> Result<Vec<u8>, RpcError> {
        let ctx = self.context_mut()?;
        Ok(if seal {
            ctx.wrap_dce(data)?
        } else {
            ctx.get_mic(data)?
        })
    }

    /// Checks, and at privacy unseals in place, `data` against the auth value `sig`.
    pub(crate) fn unprotect(
        &mut self,
        data: &mut [u8],
        sig: &[u8],
        seal: bool,
    ) -> Result<(), RpcError> {
        let ctx = self.context_mut()?;
        if seal {
            ctx.unwrap_dce(data, sig)?;
        } else {
            ctx.verify_mic(data, sig)?;
        }
        Ok(())
    }

    fn context(&self) -> Result<&SecurityContext, RpcError> {
        match self {
            Self::Ready(ctx) => Ok(ctx),
            _ => Err(NOT_READY),
        }
    }

    fn context_mut(&mut self) -> Result<&mut SecurityContext, RpcError> {
        match self {
            Self::Ready(ctx) => Ok(ctx),
            _ => Err(NOT_READY),
        }
    }
}

const NOT_READY: RpcError = RpcError::Protocol("a call before the Kerberos exchange finished");
