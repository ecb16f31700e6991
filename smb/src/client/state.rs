//! The client's bookkeeping without I/O: message ids and credits (MS-SMB2
//! 3.2.4.1.2, 3.2.5.1.4), multi-credit requests (3.2.4.1.5), the requests in flight,
//! signing of requests and verification of responses (3.2.4.1.1, 3.2.5.1.3), the
//! negotiated limits, and the session and pre-authentication state the session setup
//! builds.

use std::collections::BTreeSet;

use adjoin_rpc::ntstatus::NtStatus;

use crate::encryption::Encryptor;
use crate::error::SmbError;
use crate::proto::{
    Body, Capabilities, Cipher, Command, Dialect, Header, HeaderFlags, NegotiateContext,
    NegotiateResponse, SecurityMode, SigningAlgorithm, TransformHeader,
    ValidateNegotiateInfoResponse,
};
use crate::signing::{PreauthHash, Signer};

/// Credits asked for in each request: enough for a pipeline of RPC calls, or of reads
/// and writes (a multi-credit request asks for its charge more on top).
const CREDIT_REQUEST: u16 = 64;

/// One credit's worth of payload (MS-SMB2 3.1.5.2).
pub const CREDIT_SIZE: u32 = 65536;

/// The largest READ or WRITE the client sends, whatever the server allows: 8 MiB, 128
/// credits (Windows' and Samba's largest).
pub const MAX_LARGE_IO: u32 = 8 * 1024 * 1024;

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
    /// The 3.1.1 signing algorithm the server chose in its SIGNING_CAPABILITIES context
    /// (`None`: no context, AES-CMAC for 3.x, HMAC-SHA256 for 2.x).
    pub signing: Option<SigningAlgorithm>,
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
            signing: negotiated_signing(resp)?,
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

    /// MS-SMB2 3.2.5.2: Connection.SupportsMultiCredit, true when the server announces
    /// SMB2_GLOBAL_CAP_LARGE_MTU with a dialect after 2.0.2.
    pub fn multi_credit(&self) -> bool {
        self.dialect != Dialect::SMB202
            && self.server_capabilities.contains(Capabilities::LARGE_MTU)
    }

    /// The longest READ to ask for: `MaxReadSize`, at most one credit's worth without
    /// multi-credit support (MS-SMB2 3.2.4.6), and at most [`MAX_LARGE_IO`].
    pub fn read_size(&self) -> u32 {
        self.io_limit(self.max_read)
    }

    /// The longest WRITE to send, as [`Negotiated::read_size`] with `MaxWriteSize`.
    pub fn write_size(&self) -> u32 {
        self.io_limit(self.max_write)
    }

    fn io_limit(&self, announced: u32) -> u32 {
        let cap = if self.multi_credit() {
            MAX_LARGE_IO
        } else {
            CREDIT_SIZE
        };
        announced.min(cap)
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

/// MS-SMB2 3.2.4.1.5: the CreditCharge of a request that sends `send` bytes and
/// expects `expect` bytes back: one credit per 64 KiB of the larger, at least one.
pub fn credit_charge(send: u32, expect: u32) -> u16 {
    let payload = send.max(expect).max(1);
    u16::try_from((payload - 1) / CREDIT_SIZE + 1).unwrap_or(u16::MAX)
}

/// MS-SMB2 3.2.5.2: a 3.1.1 server that answers the client's SIGNING_CAPABILITIES names
/// one of the offered algorithms ([`Signer::SMB311_ALGORITHMS`]); any other answer ends
/// the connection. Other dialects sign as their dialect says.
fn negotiated_signing(resp: &NegotiateResponse) -> Result<Option<SigningAlgorithm>, SmbError> {
    if resp.dialect != Dialect::SMB311 {
        return Ok(None);
    }
    let chosen = resp.contexts.iter().find_map(|c| match c {
        NegotiateContext::Signing(algorithms) => Some(algorithms.as_slice()),
        _ => None,
    });
    match chosen {
        None => Ok(None),
        Some([a]) if Signer::SMB311_ALGORITHMS.contains(a) => Ok(Some(*a)),
        Some(_) => Err(SmbError::Negotiation(
            "the server chose a signing algorithm that was not offered".into(),
        )),
    }
}

/// One connection's request/response state.
#[derive(Debug, Default)]
pub struct ClientCore {
    next_message_id: u64,
    /// Credits the server has granted and the client has not spent.
    credits: u64,
    /// Message ids sent and not yet finally answered.
    in_flight: BTreeSet<u64>,
    /// The connection's pre-authentication hash (3.1.1).
    pub connection_preauth: PreauthHash,
    /// The session id, once the server assigned one.
    pub session_id: u64,
    signer: Option<Signer>,
    encryptor: Option<Encryptor>,
    /// Whether CreditCharge is meaningful (every dialect after 2.0.2).
    charge_field: bool,
    /// Whether a request may cost more than one credit (MS-SMB2 3.2.5.2).
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

    /// Records the dialect NEGOTIATE chose (it decides what CreditCharge means); every
    /// request costs one credit.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.charge_field = dialect != Dialect::SMB202;
        self.multi_credit = false;
    }

    /// Records what NEGOTIATE chose: the dialect decides what CreditCharge means, and
    /// with the server's capabilities whether a request may cost more than one credit.
    pub fn set_negotiated(&mut self, negotiated: &Negotiated) {
        self.charge_field = negotiated.dialect != Dialect::SMB202;
        self.multi_credit = negotiated.multi_credit();
    }

    /// Credits granted and not spent: what may be sent before a reply grants more.
    pub fn credits(&self) -> u64 {
        self.credits
    }

    /// Requests sent and not yet finally answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Forgets the session (after LOGOFF, or a failed session setup): later requests go
    /// unsigned with session id 0 until a new session is set up.
    pub fn end_session(&mut self) {
        self.session_id = 0;
        self.signer = None;
        self.encryptor = None;
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
        self.request_charged(tree_id, body, 1)
    }

    /// [`ClientCore::request`] for a request that costs `charge` credits
    /// ([`credit_charge`]); more than one only when the server supports multi-credit
    /// requests.
    pub fn request_charged<B: Body>(
        &mut self,
        tree_id: u32,
        body: &B,
        charge: u16,
    ) -> Result<(u64, Vec<u8>), SmbError> {
        self.request_charged_in(tree_id, body, charge, Vec::new())
    }

    /// [`ClientCore::request_charged`], encoding the message into `buf`'s memory
    /// ([`Body::to_message_in`]).
    pub fn request_charged_in<B: Body>(
        &mut self,
        tree_id: u32,
        body: &B,
        charge: u16,
        buf: Vec<u8>,
    ) -> Result<(u64, Vec<u8>), SmbError> {
        let charge = charge.max(1);
        // MS-SMB2 3.2.4.1.5: without Connection.SupportsMultiCredit a request costs one.
        if charge > 1 && !self.multi_credit {
            return Err(SmbError::Malformed {
                what: "SMB2 credits",
                why: "a multi-credit request to a server without LARGE_MTU",
            });
        }
        // MS-SMB2 3.2.4.1.3: a request needs its credits; without them, wait or fail.
        if self.credits < u64::from(charge) {
            return Err(SmbError::Malformed {
                what: "SMB2 credits",
                why: "the server granted no credits for another request",
            });
        }
        self.credits -= u64::from(charge);
        let message_id = self.next_message_id;
        // MS-SMB2 3.2.4.1.2: a request of charge N consumes N consecutive message ids.
        self.next_message_id += u64::from(charge);
        let header = Header {
            // MS-SMB2 2.2.1.2: CreditCharge is reserved (zero) in 2.0.2 and in NEGOTIATE.
            credit_charge: if self.charge_field { charge } else { 0 },
            credits: CREDIT_REQUEST.saturating_add(charge - 1),
            message_id,
            tree_id,
            session_id: self.session_id,
            ..Header::request(B::COMMAND)
        };
        let mut msg = body.to_message_in(&header, buf);
        let established = B::COMMAND != Command::NEGOTIATE && B::COMMAND != Command::SESSION_SETUP;
        // MS-SMB2 3.2.4.1.8: an encrypted message is not also signed.
        if let Some(encryptor) = self.encryptor.as_mut().filter(|_| established) {
            msg = encryptor.seal(self.session_id, &msg)?;
        } else if let Some(signer) = self.signer.as_ref().filter(|_| established) {
            signer.sign(&mut msg);
        }
        self.in_flight.insert(message_id);
        Ok((message_id, msg))
    }

    /// Reads a received message (decrypting it if it is in a TRANSFORM_HEADER) and
    /// accounts for it; returns its header and plain bytes. The message must answer
    /// `message_id`, the request awaited. `Ok(None)` for an interim STATUS_PENDING reply
    /// (the final one follows).
    pub fn response(
        &mut self,
        raw: Vec<u8>,
        message_id: u64,
    ) -> Result<Option<(Header, Vec<u8>)>, SmbError> {
        self.accept(raw, Some(message_id))
    }

    /// [`ClientCore::response`] for a message that may answer any request in flight:
    /// with several sent, replies come in any order (MS-SMB2 3.2.5.1.2).
    pub fn response_any(&mut self, raw: Vec<u8>) -> Result<Option<(Header, Vec<u8>)>, SmbError> {
        self.accept(raw, None)
    }

    fn accept(
        &mut self,
        raw: Vec<u8>,
        awaited: Option<u64>,
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
        // MS-SMB2 3.2.5.1.2: a reply to no outstanding request is discarded; here the
        // connection ends, as no conforming server sends one.
        let expected = match awaited {
            Some(id) => header.message_id == id,
            None => self.in_flight.contains(&header.message_id),
        };
        if !expected {
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
        self.in_flight.remove(&header.message_id);
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
        assert!(core.response_any(reply(id + 5, 3)).is_err());
        core.response(reply(id, 3), id).unwrap();
        // The same reply twice: its request is no longer in flight.
        assert!(core.response_any(reply(id, 3)).is_err());
        let (next, _) = core.request(0, &EchoRequest).unwrap();
        assert_eq!(next, id + 1);
        // A request where a response belongs.
        let req = EchoRequest.to_message(&Header::request(Command::ECHO));
        assert!(core.response(req, next).is_err());
    }

    fn negotiated(dialect: Dialect, capabilities: Capabilities) -> Negotiated {
        Negotiated {
            dialect,
            server_capabilities: capabilities,
            max_read: 8 * 1024 * 1024,
            max_write: 1024 * 1024,
            ..Negotiated::default()
        }
    }

    /// A core after NEGOTIATE with `credits` granted.
    fn core_with(negotiated: &Negotiated, credits: u16) -> ClientCore {
        let mut core = ClientCore::new();
        core.set_negotiated(negotiated);
        let (id, _) = core.request(0, &EchoRequest).unwrap();
        core.response(reply(id, credits), id).unwrap();
        core
    }

    #[test]
    fn ms_smb2_3_2_4_1_5_credit_charge_is_one_per_64_kib() {
        assert_eq!(credit_charge(0, 0), 1);
        assert_eq!(credit_charge(100, 0), 1);
        assert_eq!(credit_charge(0, 65536), 1);
        assert_eq!(credit_charge(65537, 0), 2);
        assert_eq!(credit_charge(0, 1024 * 1024), 16);
        assert_eq!(credit_charge(8 * 1024 * 1024, 0), 128);
    }

    #[test]
    fn multi_credit_requests_use_consecutive_ids_and_need_large_mtu() {
        let large = negotiated(Dialect::SMB311, Capabilities::LARGE_MTU);
        assert!(large.multi_credit());
        assert_eq!(large.read_size(), 8 * 1024 * 1024);
        assert_eq!(large.write_size(), 1024 * 1024);
        let mut core = core_with(&large, 40);
        let (first, msg) = core.request_charged(0, &EchoRequest, 16).unwrap();
        let header = Header::from_message(&msg).unwrap();
        assert_eq!(header.credit_charge, 16);
        // It asks for its charge back and the usual window on top.
        assert_eq!(header.credits, CREDIT_REQUEST + 15);
        let (second, _) = core.request_charged(0, &EchoRequest, 16).unwrap();
        assert_eq!(second, first + 16);
        assert_eq!(core.credits(), 8);
        // Not enough credits left for a third.
        assert!(core.request_charged(0, &EchoRequest, 16).is_err());
        assert_eq!(core.in_flight(), 2);

        // Without LARGE_MTU (or with 2.0.2) every request costs one credit.
        for plain in [
            negotiated(Dialect::SMB311, Capabilities::empty()),
            negotiated(Dialect::SMB202, Capabilities::LARGE_MTU),
        ] {
            assert!(!plain.multi_credit());
            assert_eq!(plain.read_size(), CREDIT_SIZE);
            let mut core = core_with(&plain, 40);
            assert!(core.request_charged(0, &EchoRequest, 2).is_err());
            let (_, msg) = core.request(0, &EchoRequest).unwrap();
            let charge = Header::from_message(&msg).unwrap().credit_charge;
            // MS-SMB2 2.2.1.2: CreditCharge is reserved in 2.0.2.
            let expected = u16::from(plain.dialect != Dialect::SMB202);
            assert_eq!(charge, expected);
        }
    }

    #[test]
    fn ms_smb2_3_2_5_1_2_replies_to_requests_in_flight_come_in_any_order() {
        let mut core = core_with(&negotiated(Dialect::SMB311, Capabilities::LARGE_MTU), 10);
        let ids: Vec<u64> = (0..4)
            .map(|_| core.request(0, &EchoRequest).unwrap().0)
            .collect();
        assert_eq!(core.in_flight(), 4);
        for &id in [ids[2], ids[0], ids[3]].iter() {
            let (header, _) = core.response_any(reply(id, 1)).unwrap().unwrap();
            assert_eq!(header.message_id, id);
        }
        // An interim reply keeps its request in flight (and grants its credits).
        let interim = Header {
            message_id: ids[1],
            credits: 2,
            status: NtStatus::PENDING,
            flags: HeaderFlags::SERVER_TO_REDIR | HeaderFlags::ASYNC_COMMAND,
            ..Header::request(Command::ECHO)
        };
        let before = core.credits();
        assert!(
            core.response_any(EchoResponse.to_message(&interim))
                .unwrap()
                .is_none()
        );
        assert_eq!(core.credits(), before + 2);
        assert_eq!(core.in_flight(), 1);
        core.response_any(reply(ids[1], 1)).unwrap().unwrap();
        assert_eq!(core.in_flight(), 0);
    }

    #[test]
    fn ms_smb2_3_2_5_2_the_signing_algorithm_is_one_offered() {
        let response = |contexts| NegotiateResponse {
            dialect: Dialect::SMB311,
            contexts,
            ..NegotiateResponse::default()
        };
        let chosen = |algorithms| {
            Negotiated::from_response(
                &response(vec![NegotiateContext::Signing(algorithms)]),
                &[Dialect::SMB311],
            )
            .map(|n| n.signing)
        };
        assert_eq!(
            chosen(vec![SigningAlgorithm::AES_GMAC]).unwrap(),
            Some(SigningAlgorithm::AES_GMAC)
        );
        assert_eq!(
            chosen(vec![SigningAlgorithm::AES_CMAC]).unwrap(),
            Some(SigningAlgorithm::AES_CMAC)
        );
        // Not offered, or more than one.
        assert!(chosen(vec![SigningAlgorithm::HMAC_SHA256]).is_err());
        assert!(chosen(vec![SigningAlgorithm::AES_GMAC, SigningAlgorithm::AES_CMAC]).is_err());
        // No context: AES-CMAC, as before SIGNING_CAPABILITIES existed.
        let none = Negotiated::from_response(&response(Vec::new()), &[Dialect::SMB311]).unwrap();
        assert_eq!(none.signing, None);
    }

    #[test]
    fn ending_the_session_stops_signing() {
        let mut core = ClientCore::new();
        core.session_id = 7;
        core.set_signer(signer(1));
        core.end_session();
        assert!(!core.signing());
        let (_, msg) = core.request(0, &EchoRequest).unwrap();
        let header = Header::from_message(&msg).unwrap();
        assert_eq!(header.session_id, 0);
        assert!(!header.flags.contains(HeaderFlags::SIGNED));
    }
}
