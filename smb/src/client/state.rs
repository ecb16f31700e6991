//! The client's bookkeeping without I/O: message ids and credits (MS-SMB2
//! 3.2.4.1.2, 3.2.5.1.4), signing of requests and verification of responses
//! (3.2.4.1.1, 3.2.5.1.3), the negotiated limits, and the session and
//! pre-authentication state the session setup builds.

use adjoin_rpc::ntstatus::NtStatus;

use crate::encryption::Encryptor;
use crate::error::SmbError;
use crate::proto::{
    Body, Capabilities, Cipher, Command, Dialect, Header, HeaderFlags, NegotiateContext,
    NegotiateResponse, SecurityMode, TransformHeader, ValidateNegotiateInfoResponse,
};
use crate::signing::{PreauthHash, Signer};

/// Credits asked for in each request: enough for a pipeline of RPC calls.
const CREDIT_REQUEST: u16 = 64;

/// What NEGOTIATE settled for the connection.
#[derive(Debug, Clone, Default)]
pub struct Negotiated {
    /// The dialect.
    pub dialect: Dialect,
    /// Whether the server requires signing.
    pub signing_required: bool,
    /// `MaxTransactSize`.
    pub max_transact: u32,
    /// `MaxReadSize`.
    pub max_read: u32,
    /// `MaxWriteSize`.
    pub max_write: u32,
    /// The server's GUID.
    pub server_guid: [u8; 16],
    /// The cipher for encrypted sessions, when the server supports encryption.
    pub cipher: Option<Cipher>,
    /// The server's `Capabilities` (checked again by secure dialect negotiation).
    pub server_capabilities: Capabilities,
    /// The server's `SecurityMode`.
    pub server_security_mode: SecurityMode,
}

impl Negotiated {
    /// Reads the limits out of a NEGOTIATE response, refusing what Adjoin will not use.
    pub fn from_response(resp: &NegotiateResponse, offered: &[Dialect]) -> Result<Self, SmbError> {
        // MS-SMB2 3.2.5.2: a dialect the client did not offer ends the connection.
        if !offered.contains(&resp.dialect) {
            return Err(SmbError::Negotiation(format!(
                "the server chose {}, which was not offered",
                resp.dialect
            )));
        }
        Ok(Self {
            cipher: negotiated_cipher(resp)?,
            dialect: resp.dialect,
            signing_required: resp.security_mode.contains(SecurityMode::SIGNING_REQUIRED),
            max_transact: resp.max_transact_size,
            max_read: resp.max_read_size,
            max_write: resp.max_write_size,
            server_guid: resp.server_guid,
            server_capabilities: resp.capabilities,
            server_security_mode: resp.security_mode,
        })
    }

    /// MS-SMB2 3.2.5.14.12: the server's signed VALIDATE_NEGOTIATE_INFO must repeat
    /// exactly what its NEGOTIATE response said.
    pub fn validate(&self, info: &ValidateNegotiateInfoResponse) -> Result<(), SmbError> {
        let same = info.capabilities == self.server_capabilities
            && info.guid == self.server_guid
            && info.security_mode == self.server_security_mode
            && info.dialect == self.dialect;
        if same {
            Ok(())
        } else {
            Err(SmbError::Negotiation(
                "secure dialect negotiation failed: the server's signed VALIDATE_NEGOTIATE_INFO \
                 differs from its NEGOTIATE response (a downgrade attempt?)"
                    .into(),
            ))
        }
    }
}

/// MS-SMB2 3.2.5.2: 3.0/3.0.2 servers announce encryption as a capability (always
/// AES-128-CCM); 3.1.1 servers name one of the offered ciphers in their encryption
/// context (0 for none).
fn negotiated_cipher(resp: &NegotiateResponse) -> Result<Option<Cipher>, SmbError> {
    if resp.dialect == Dialect::SMB311 {
        let chosen = resp.contexts.iter().find_map(|c| match c {
            NegotiateContext::Encryption(ciphers) => Some(ciphers.clone()),
            _ => None,
        });
        return match chosen.as_deref() {
            None | Some([]) => Ok(None),
            Some([c]) if c.value() == 0 => Ok(None),
            Some([c]) if Encryptor::CIPHERS.contains(c) => Ok(Some(*c)),
            Some(_) => Err(SmbError::Negotiation(
                "the server chose a cipher that was not offered".into(),
            )),
        };
    }
    let capable = resp.dialect.is_smb3() && resp.capabilities.contains(Capabilities::ENCRYPTION);
    Ok(capable.then_some(Cipher::AES128_CCM))
}

/// One connection's request/response state.
#[derive(Debug, Default)]
pub struct ClientCore {
    next_message_id: u64,
    /// Credits the server has granted and the client has not spent.
    credits: u64,
    /// The connection's pre-authentication hash (3.1.1).
    pub connection_preauth: PreauthHash,
    /// The session id, once the server assigned one.
    pub session_id: u64,
    signer: Option<Signer>,
    encryptor: Option<Encryptor>,
    /// Whether CreditCharge is meaningful (every dialect after 2.0.2).
    multi_credit: bool,
}

impl ClientCore {
    /// A connection before NEGOTIATE: one credit, for message id 0.
    pub fn new() -> Self {
        Self {
            credits: 1,
            ..Self::default()
        }
    }

    /// Records the dialect NEGOTIATE chose (it decides what CreditCharge means).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.multi_credit = dialect != Dialect::SMB202;
    }

    /// Starts signing requests and checking responses with `signer`.
    pub fn set_signer(&mut self, signer: Signer) {
        self.signer = Some(signer);
    }

    /// Whether the session signs.
    pub fn signing(&self) -> bool {
        self.signer.is_some()
    }

    /// Encrypts every later request with `encryptor` (and expects encrypted replies).
    pub fn set_encryptor(&mut self, encryptor: Encryptor) {
        self.encryptor = Some(encryptor);
    }

    /// Whether the session encrypts.
    pub fn encrypting(&self) -> bool {
        self.encryptor.is_some()
    }

    /// Encodes `body` as the next request on `tree_id`, signed once the session has
    /// a signing key. Returns the message id and the bytes.
    pub fn request<B: Body>(&mut self, tree_id: u32, body: &B) -> Result<(u64, Vec<u8>), SmbError> {
        // MS-SMB2 3.2.4.1.3: a request needs a credit; without one, wait or fail.
        if self.credits == 0 {
            return Err(SmbError::Malformed {
                what: "SMB2 credits",
                why: "the server granted no credits for another request",
            });
        }
        self.credits -= 1;
        let message_id = self.next_message_id;
        self.next_message_id += 1;
        let header = Header {
            // MS-SMB2 2.2.1.2: CreditCharge is reserved (zero) in 2.0.2 and in NEGOTIATE;
            // otherwise each request here costs one credit (payloads stay under 64 KiB).
            credit_charge: u16::from(self.multi_credit),
            credits: CREDIT_REQUEST,
            message_id,
            tree_id,
            session_id: self.session_id,
            ..Header::request(B::COMMAND)
        };
        let mut msg = body.to_message(&header);
        let established = B::COMMAND != Command::NEGOTIATE && B::COMMAND != Command::SESSION_SETUP;
        // MS-SMB2 3.2.4.1.8: an encrypted message is not also signed.
        if let Some(encryptor) = self.encryptor.as_mut().filter(|_| established) {
            msg = encryptor.seal(self.session_id, &msg)?;
        } else if let Some(signer) = self.signer.as_ref().filter(|_| established) {
            signer.sign(&mut msg);
        }
        Ok((message_id, msg))
    }

    /// Reads a received message (decrypting it if it is in a TRANSFORM_HEADER) and
    /// accounts for it; returns its header and plain bytes. `Ok(None)` for an interim
    /// STATUS_PENDING reply (the final one follows).
    pub fn response(
        &mut self,
        raw: Vec<u8>,
        message_id: u64,
    ) -> Result<Option<(Header, Vec<u8>)>, SmbError> {
        let (msg, encrypted) = if TransformHeader::is_transform(&raw) {
            let encryptor = self.encryptor.as_ref().ok_or(SmbError::Malformed {
                what: "SMB2 TRANSFORM_HEADER",
                why: "an encrypted message on a session without encryption",
            })?;
            (encryptor.open(self.session_id, &raw)?, true)
        } else {
            (raw, false)
        };
        let header = Header::from_message(&msg)?;
        if !header.is_response() {
            return Err(SmbError::Malformed {
                what: "SMB2 header",
                why: "a request where a response was expected",
            });
        }
        if header.message_id != message_id {
            return Err(SmbError::Malformed {
                what: "SMB2 header",
                why: "a response to a message id that is not outstanding",
            });
        }
        self.credits = self.credits.saturating_add(u64::from(header.credits));
        if header.is_interim() {
            return Ok(None);
        }
        // MS-SMB2 3.2.5.1.1.1: decryption authenticated the message; it carries no
        // signature. Once the session encrypts, a plain reply is refused like an
        // unsigned one.
        if !encrypted {
            self.check_signature(&header, &msg)?;
            if self.encryptor.is_some() && header.command != Command::SESSION_SETUP {
                return Err(SmbError::Signature(
                    "a plain response on an encrypted session",
                ));
            }
        }
        Ok(Some((header, msg)))
    }

    /// MS-SMB2 3.2.5.1.3: a signed response must verify; once the session signs,
    /// an unsigned one is refused (only interim responses and the failures that
    /// cannot be signed, such as an unknown session, come unsigned).
    fn check_signature(&self, header: &Header, msg: &[u8]) -> Result<(), SmbError> {
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        if header.flags.contains(HeaderFlags::SIGNED) {
            return signer.verify(msg);
        }
        let unsignable = header.command == Command::SESSION_SETUP
            || header.status == NtStatus::USER_SESSION_DELETED
            || header.status == NtStatus::NETWORK_SESSION_EXPIRED;
        if unsignable {
            Ok(())
        } else {
            Err(SmbError::Signature(
                "an unsigned response on a signed session",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{EchoRequest, EchoResponse, Header};
    use crate::signing::{PreauthHash, Signer};

    fn signer(byte: u8) -> Signer {
        Signer::derive(Dialect::SMB311, &[byte; 16], &PreauthHash::default())
    }

    fn reply(message_id: u64, credits: u16) -> Vec<u8> {
        let header = Header {
            message_id,
            credits,
            flags: HeaderFlags::SERVER_TO_REDIR,
            ..Header::request(Command::ECHO)
        };
        EchoResponse.to_message(&header)
    }

    #[test]
    fn requests_are_signed_and_responses_checked() {
        let mut core = ClientCore::new();
        core.set_signer(signer(1));
        let (id, req) = core.request(0, &EchoRequest).unwrap();
        signer(1).verify(&req).unwrap();

        // Unsigned, signed with another key, then properly signed.
        assert!(core.response(reply(id, 1), id).is_err());
        let mut bad = reply(id, 1);
        signer(2).sign(&mut bad);
        assert!(matches!(
            core.response(bad, id),
            Err(SmbError::Signature(_))
        ));
        let mut good = reply(id, 1);
        signer(1).sign(&mut good);
        assert!(core.response(good, id).unwrap().is_some());
    }

    #[test]
    fn secure_dialect_negotiation_catches_any_difference() {
        let negotiated = Negotiated {
            dialect: Dialect::SMB302,
            server_guid: [7; 16],
            server_capabilities: Capabilities::ENCRYPTION,
            server_security_mode: SecurityMode::SIGNING_ENABLED | SecurityMode::SIGNING_REQUIRED,
            ..Negotiated::default()
        };
        let honest = ValidateNegotiateInfoResponse {
            capabilities: Capabilities::ENCRYPTION,
            guid: [7; 16],
            security_mode: SecurityMode::SIGNING_ENABLED | SecurityMode::SIGNING_REQUIRED,
            dialect: Dialect::SMB302,
        };
        negotiated.validate(&honest).unwrap();
        let downgrades = [
            ValidateNegotiateInfoResponse {
                dialect: Dialect::SMB311,
                ..honest
            },
            ValidateNegotiateInfoResponse {
                capabilities: Capabilities::empty(),
                ..honest
            },
            ValidateNegotiateInfoResponse {
                guid: [8; 16],
                ..honest
            },
            ValidateNegotiateInfoResponse {
                security_mode: SecurityMode::SIGNING_ENABLED,
                ..honest
            },
        ];
        for info in downgrades {
            assert!(negotiated.validate(&info).is_err(), "{info:?}");
        }
    }

    #[test]
    fn credits_and_message_ids_are_enforced() {
        let mut core = ClientCore::new();
        let (id, _) = core.request(0, &EchoRequest).unwrap();
        // One credit at start: a second request must wait for the grant.
        assert!(core.request(0, &EchoRequest).is_err());
        assert!(core.response(reply(id + 5, 3), id).is_err());
        core.response(reply(id, 3), id).unwrap();
        let (next, _) = core.request(0, &EchoRequest).unwrap();
        assert_eq!(next, id + 1);
        // A request where a response belongs.
        let req = EchoRequest.to_message(&Header::request(Command::ECHO));
        assert!(core.response(req, next).is_err());
    }
}
