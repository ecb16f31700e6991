//! SPNEGO (RFC 4178, with Microsoft's variants from MS-SPNG), sans-IO, over the Kerberos
//! mechanism of [`super::krb5`]: what SMB session setup and LDAP GSS-SPNEGO binds carry.
//!
//! ```text
//! NegotiationToken ::= CHOICE {
//!     negTokenInit    [0] NegTokenInit,
//!     negTokenResp    [1] NegTokenResp }
//! NegTokenInit ::= SEQUENCE {
//!     mechTypes       [0] MechTypeList,
//!     reqFlags        [1] ContextFlags  OPTIONAL,
//!     mechToken       [2] OCTET STRING  OPTIONAL,
//!     mechListMIC     [3] OCTET STRING  OPTIONAL }
//! NegTokenResp ::= SEQUENCE {
//!     negState        [0] ENUMERATED { accept-completed(0), accept-incomplete(1),
//!                                      reject(2), request-mic(3) } OPTIONAL,
//!     supportedMech   [1] MechType      OPTIONAL,
//!     responseToken   [2] OCTET STRING  OPTIONAL,
//!     mechListMIC     [3] OCTET STRING  OPTIONAL }
//! ```
//! The first token is wrapped in the RFC 2743 InitialContextToken with the SPNEGO OID
//! 1.3.6.1.5.5.2; later ones are bare NegotiationTokens.
//!
//! mechListMIC (RFC 4178 5): once the mechanism context is up, each side signs the DER of
//! the initiator's mechTypes list with it, which stops a downgrade of the mechanism choice.
//! Adjoin's acceptor always sends its MIC and checks the peer's when present; its initiator
//! sends one when the acceptor asks (request-mic, accept-incomplete).

use std::time::SystemTime;

use rasn::types::{BitString, ObjectIdentifier, OctetString};
use rasn::{AsnType, Decode, Decoder as _, Encode, Encoder as _};

use super::GssError;
use super::krb5::{self, GssFlags, InitStep, Initiator, SecurityContext};
use crate::krb::acceptor::{Accepted, Acceptor};
use crate::krb::{Credentials, wire};
use crate::ntlm::{
    ClientNonces, NtlmClient, NtlmServer, NtlmSession, PendingLogon, ServerIdentity, ServerNonces,
};

/// SPNEGO's own OID, 1.3.6.1.5.5.2, DER body.
const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// Kerberos V5, 1.2.840.113554.1.2.2.
const KRB5: &[u32] = &[1, 2, 840, 113_554, 1, 2, 2];
/// Microsoft's historical Kerberos OID, 1.2.840.48018.1.2.2, which Windows lists first.
const MS_KRB5: &[u32] = &[1, 2, 840, 48_018, 1, 2, 2];
/// NTLMSSP, 1.3.6.1.4.1.311.2.2.10 (MS-NLMP 1.9).
const NTLMSSP: &[u32] = &[1, 3, 6, 1, 4, 1, 311, 2, 2, 10];

/// RFC 4178 4.2.1 NegTokenInit.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct NegTokenInit {
    /// The initiator's mechanisms, most preferred first.
    #[rasn(tag(explicit(0)))]
    pub mech_types: Vec<ObjectIdentifier>,
    /// Deprecated context flags.
    #[rasn(tag(explicit(1)))]
    pub req_flags: Option<BitString>,
    /// The optimistic token for the first mechanism.
    #[rasn(tag(explicit(2)))]
    pub mech_token: Option<OctetString>,
    /// MIC over the mechanism list.
    #[rasn(tag(explicit(3)))]
    pub mech_list_mic: Option<OctetString>,
}

/// RFC 4178 4.2.2 NegTokenResp.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct NegTokenResp {
    /// Where negotiation stands.
    #[rasn(tag(explicit(0)))]
    pub neg_state: Option<NegState>,
    /// The mechanism the acceptor chose (first response only).
    #[rasn(tag(explicit(1)))]
    pub supported_mech: Option<ObjectIdentifier>,
    /// The mechanism's token.
    #[rasn(tag(explicit(2)))]
    pub response_token: Option<OctetString>,
    /// MIC over the initiator's mechanism list.
    #[rasn(tag(explicit(3)))]
    pub mech_list_mic: Option<OctetString>,
}

/// RFC 4178 4.2.2 negState.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
pub enum NegState {
    /// The context is established.
    AcceptCompleted = 0,
    /// More tokens are needed.
    AcceptIncomplete = 1,
    /// Negotiation failed.
    Reject = 2,
    /// The acceptor wants the initiator's mechListMIC.
    RequestMic = 3,
}

/// RFC 4178 4.2 NegotiationToken.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice)]
pub enum NegotiationToken {
    /// The first token.
    #[rasn(tag(explicit(0)))]
    Init(NegTokenInit),
    /// Every later token.
    #[rasn(tag(explicit(1)))]
    Resp(NegTokenResp),
}

fn oid(arcs: &'static [u32]) -> ObjectIdentifier {
    ObjectIdentifier::new_unchecked(arcs.into())
}

fn is_krb5(o: &ObjectIdentifier) -> bool {
    let arcs: &[u32] = o;
    arcs == KRB5 || arcs == MS_KRB5
}

/// The DER of a MechTypeList: what mechListMIC signs.
fn mech_list_der(list: &[ObjectIdentifier]) -> Vec<u8> {
    wire::der(&list.to_vec())
}

/// Wraps the first SPNEGO token in the InitialContextToken framing.
fn frame_init(init: NegTokenInit) -> Vec<u8> {
    super::frame_initial(SPNEGO_OID, &wire::der(&NegotiationToken::Init(init)))
}

/// Reads a NegotiationToken, with or without the InitialContextToken framing.
pub fn parse(token: &[u8]) -> Result<NegotiationToken, GssError> {
    let inner = match token.first() {
        Some(0x60) => super::unframe_initial(SPNEGO_OID, token)?,
        _ => token,
    };
    wire::decode(inner, "SPNEGO NegotiationToken").map_err(Into::into)
}

fn resp_token(resp: NegTokenResp) -> Vec<u8> {
    wire::der(&NegotiationToken::Resp(resp))
}

/// Reads a token that must be a NegTokenResp.
fn expect_resp(token: &[u8]) -> Result<NegTokenResp, GssError> {
    match parse(token)? {
        NegotiationToken::Resp(resp) => Ok(resp),
        NegotiationToken::Init(_) => Err(GssError::Malformed {
            reason: "NegTokenInit where a NegTokenResp was expected".into(),
        }),
    }
}

/// Reads an initiator's first token, which must be a NegTokenInit.
fn expect_init(token: &[u8]) -> Result<NegTokenInit, GssError> {
    match parse(token)? {
        NegotiationToken::Init(init) => Ok(init),
        NegotiationToken::Resp(_) => Err(GssError::Malformed {
            reason: "the first SPNEGO token must be a NegTokenInit".into(),
        }),
    }
}

/// What the SPNEGO initiator does next.
#[derive(Debug)]
pub enum SpnegoStep {
    /// Send this token and wait for the reply.
    Continue(Vec<u8>),
    /// Established; the token, if any, must still reach the peer.
    Done(SecurityContext, Option<Vec<u8>>),
}

/// An SPNEGO initiator offering Kerberos only.
#[derive(Debug)]
pub struct SpnegoInitiator {
    krb5: Option<Initiator>,
    ctx: Option<SecurityContext>,
    mech_types: Vec<ObjectIdentifier>,
}

impl SpnegoInitiator {
    /// The first token: NegTokenInit offering Kerberos, with the AP-REQ as optimistic token.
    pub fn start(
        creds: Credentials,
        flags: GssFlags,
        now: SystemTime,
    ) -> Result<(Self, Vec<u8>), GssError> {
        let (krb5, step) = Initiator::start(creds, flags | GssFlags::MUTUAL, now)?;
        let token = match step {
            InitStep::Continue(t) => t,
            InitStep::Done(_, _) => unreachable!("MUTUAL always waits for the AP-REP"),
        };
        let mech_types = vec![oid(KRB5)];
        let init = NegTokenInit {
            mech_types: mech_types.clone(),
            req_flags: None,
            mech_token: Some(token.into()),
            mech_list_mic: None,
        };
        let me = Self {
            krb5,
            ctx: None,
            mech_types,
        };
        Ok((me, frame_init(init)))
    }

    /// Reads the acceptor's NegTokenResp.
    pub fn step(mut self, token: &[u8]) -> Result<SpnegoStep, GssError> {
        let resp = expect_resp(token)?;
        if resp.neg_state == Some(NegState::Reject) {
            return Err(GssError::Malformed {
                reason: "the acceptor rejected every offered mechanism".into(),
            });
        }
        if let Some(mech) = &resp.supported_mech
            && !is_krb5(mech)
        {
            return Err(GssError::WrongMechanism);
        }
        let mut ctx = match (self.krb5.take(), resp.response_token.as_ref()) {
            (Some(init), Some(t)) => init.step(t)?,
            (None, _) => self.ctx.take().ok_or(GssError::Malformed {
                reason: "SPNEGO token after the context was complete".into(),
            })?,
            (Some(_), None) => {
                return Err(GssError::Malformed {
                    reason: "no Kerberos AP-REP in the acceptor's response".into(),
                });
            }
        };
        let list = mech_list_der(&self.mech_types);
        if let Some(mic) = &resp.mech_list_mic {
            ctx.verify_mic(&list, mic)?;
        }
        // RFC 4178 5: accept-completed ends the exchange (the MIC is only required when
        // the chosen mechanism was not the initiator's first, and Kerberos is our only one);
        // request-mic or accept-incomplete asks for ours.
        if resp.neg_state == Some(NegState::AcceptCompleted) {
            return Ok(SpnegoStep::Done(ctx, None));
        }
        let mic = ctx.get_mic(&list)?;
        let out = resp_token(NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: None,
            mech_list_mic: Some(mic.into()),
        });
        Ok(SpnegoStep::Done(ctx, Some(out)))
    }
}

/// An SPNEGO initiator offering NTLMSSP only (MS-SPNG 3.1.5), for servers and
/// identities without Kerberos: NegTokenInit with the NEGOTIATE_MESSAGE, then the
/// AUTHENTICATE_MESSAGE with a mechListMIC signed by the NTLM session, then the
/// acceptor's MIC checked by [`SpnegoNtlmFinish::finish`].
#[derive(Debug)]
pub struct SpnegoNtlmInitiator {
    client: NtlmClient,
}

/// The NTLM exchange after the AUTHENTICATE_MESSAGE went out: the acceptor's last
/// NegTokenResp (accept-completed, with its mechListMIC) remains.
#[derive(Debug)]
pub struct SpnegoNtlmFinish {
    session: NtlmSession,
}

impl SpnegoNtlmInitiator {
    /// The first token: NegTokenInit offering NTLMSSP with `negotiate` as its token.
    pub fn start(client: NtlmClient, negotiate: Vec<u8>) -> (Self, Vec<u8>) {
        let init = NegTokenInit {
            mech_types: vec![oid(NTLMSSP)],
            req_flags: None,
            mech_token: Some(negotiate.into()),
            mech_list_mic: None,
        };
        (Self { client }, frame_init(init))
    }

    /// Reads the acceptor's NegTokenResp carrying the CHALLENGE_MESSAGE; returns the
    /// NegTokenResp with the AUTHENTICATE_MESSAGE and this side's mechListMIC.
    pub fn step(
        self,
        token: &[u8],
        nonces: &ClientNonces,
    ) -> Result<(SpnegoNtlmFinish, Vec<u8>), GssError> {
        let resp = expect_resp(token)?;
        if resp.neg_state == Some(NegState::Reject) {
            return Err(GssError::Malformed {
                reason: "the acceptor rejected NTLMSSP".into(),
            });
        }
        if let Some(mech) = &resp.supported_mech
            && mech.as_ref() != NTLMSSP
        {
            return Err(GssError::WrongMechanism);
        }
        let challenge = resp.response_token.ok_or(GssError::Malformed {
            reason: "no NTLM CHALLENGE_MESSAGE in the acceptor's response".into(),
        })?;
        let (authenticate, mut session) = self
            .client
            .authenticate(&challenge, nonces)
            .map_err(GssError::Ntlm)?;
        // MS-SPNG 3.1.5.1: with NTLM's MIC in the AUTHENTICATE_MESSAGE the initiator
        // must send a mechListMIC, made with the new NTLM session's signing key.
        let mic = session.sign(&mech_list_der(&[oid(NTLMSSP)]));
        let out = resp_token(NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: Some(authenticate.into()),
            mech_list_mic: Some(mic.to_vec().into()),
        });
        Ok((SpnegoNtlmFinish { session }, out))
    }
}

impl SpnegoNtlmFinish {
    /// Checks the acceptor's final NegTokenResp (accept-completed and, when present,
    /// its mechListMIC) and returns the NTLM session.
    pub fn finish(mut self, token: &[u8]) -> Result<NtlmSession, GssError> {
        let resp = expect_resp(token)?;
        if resp.neg_state != Some(NegState::AcceptCompleted) {
            return Err(GssError::Malformed {
                reason: format!(
                    "the acceptor ended the exchange with {:?}, not accept-completed",
                    resp.neg_state
                ),
            });
        }
        // This side always sends a mechListMIC, so the acceptor must answer with its own
        // (MS-SPNG 3.1.5.1), or a downgrade of the mechanism list would go unnoticed.
        let mic = resp.mech_list_mic.ok_or(GssError::Malformed {
            reason: "the acceptor's last token lacks its mechListMIC".into(),
        })?;
        self.session
            .verify(&mech_list_der(&[oid(NTLMSSP)]), &mic)
            .map_err(|_| GssError::BadSignature)?;
        Ok(self.session)
    }
}

/// The security buffer of an SMB2 NEGOTIATE response (MS-SMB2 3.3.5.4, MS-SPNG 3.2.5.2):
/// a NegTokenInit listing the mechanisms this acceptor takes: Kerberos (both OIDs, as
/// Windows lists them) when it has a keytab, then NTLMSSP.
pub fn acceptor_hints(kerberos: bool) -> Vec<u8> {
    let mut mech_types = Vec::new();
    if kerberos {
        mech_types.extend([oid(MS_KRB5), oid(KRB5)]);
    }
    mech_types.push(oid(NTLMSSP));
    frame_init(NegTokenInit {
        mech_types,
        req_flags: None,
        mech_token: None,
        mech_list_mic: None,
    })
}

/// An SPNEGO acceptor for NTLMSSP (MS-SPNG 3.2.5) on a domain member: NegTokenInit with
/// the NEGOTIATE_MESSAGE in, NegTokenResp with the CHALLENGE_MESSAGE out; then
/// [`SpnegoNtlmAcceptor::authenticate`] reads the AUTHENTICATE_MESSAGE, the DC verifies
/// it, and [`SpnegoNtlmPending::complete`] checks the client's mechListMIC and returns the
/// last token (accept-completed with this side's MIC).
#[derive(Debug)]
pub struct SpnegoNtlmAcceptor {
    server: NtlmServer,
    mech_types_der: Vec<u8>,
    /// NTLMSSP was not the initiator's first choice: the mechListMIC is then mandatory
    /// (RFC 4178 5).
    mic_required: bool,
}

/// NTLMSSP chosen from an initiator's list where it was not first (RFC 4178 3.2 c): the
/// acceptor answered with `supportedMech` NTLMSSP and no token, and waits for the
/// NEGOTIATE_MESSAGE in the initiator's next NegTokenResp.
#[derive(Debug)]
pub struct SpnegoNtlmSelected {
    mech_types_der: Vec<u8>,
}

/// The acceptor waiting for the DC to verify the AUTHENTICATE_MESSAGE.
#[derive(Debug)]
pub struct SpnegoNtlmPending {
    logon: PendingLogon,
    mech_types_der: Vec<u8>,
    client_mic: Option<Vec<u8>>,
    mic_required: bool,
}

impl SpnegoNtlmSelected {
    /// Chooses NTLMSSP from a NegTokenInit that offers it, but not first (or without its
    /// token): the NegTokenResp to send is accept-incomplete with `supportedMech` NTLMSSP.
    pub fn select(token: &[u8]) -> Result<(Self, Vec<u8>), GssError> {
        let init = expect_init(token)?;
        if !init.mech_types.iter().any(|m| m.as_ref() == NTLMSSP) {
            return Err(GssError::WrongMechanism);
        }
        let resp = resp_token(NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(oid(NTLMSSP)),
            response_token: None,
            mech_list_mic: None,
        });
        let me = Self {
            mech_types_der: mech_list_der(&init.mech_types),
        };
        Ok((me, resp))
    }

    /// Reads the initiator's NegTokenResp with the NEGOTIATE_MESSAGE; answers with the
    /// CHALLENGE_MESSAGE.
    pub fn negotiate(
        self,
        token: &[u8],
        identity: &ServerIdentity,
        nonces: ServerNonces,
    ) -> Result<(SpnegoNtlmAcceptor, Vec<u8>), GssError> {
        let resp = expect_resp(token)?;
        let negotiate = resp.response_token.ok_or(GssError::Malformed {
            reason: "no NTLM NEGOTIATE_MESSAGE after NTLMSSP was selected".into(),
        })?;
        // supportedMech went out with the selection; NTLMSSP was not first, so the
        // mechListMIC is required.
        SpnegoNtlmAcceptor::challenge(
            &negotiate,
            identity,
            nonces,
            self.mech_types_der,
            None,
            true,
        )
    }
}

impl SpnegoNtlmAcceptor {
    /// Reads the initiator's NegTokenInit. NTLMSSP must be its first mechanism, with the
    /// NEGOTIATE_MESSAGE as the optimistic token.
    pub fn accept(
        token: &[u8],
        identity: &ServerIdentity,
        nonces: ServerNonces,
    ) -> Result<(Self, Vec<u8>), GssError> {
        let init = expect_init(token)?;
        let first_is_ntlm = init
            .mech_types
            .first()
            .is_some_and(|m| m.as_ref() == NTLMSSP);
        let negotiate = init
            .mech_token
            .as_ref()
            .filter(|_| first_is_ntlm)
            .ok_or(GssError::WrongMechanism)?;
        let mech_types_der = mech_list_der(&init.mech_types);
        Self::challenge(
            negotiate,
            identity,
            nonces,
            mech_types_der,
            Some(oid(NTLMSSP)),
            false,
        )
    }

    /// Answers a NEGOTIATE_MESSAGE with the accept-incomplete NegTokenResp carrying the
    /// CHALLENGE_MESSAGE.
    fn challenge(
        negotiate: &[u8],
        identity: &ServerIdentity,
        nonces: ServerNonces,
        mech_types_der: Vec<u8>,
        supported_mech: Option<ObjectIdentifier>,
        mic_required: bool,
    ) -> Result<(Self, Vec<u8>), GssError> {
        let (server, challenge) =
            NtlmServer::challenge(negotiate, identity, nonces).map_err(GssError::Ntlm)?;
        let resp = resp_token(NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech,
            response_token: Some(challenge.into()),
            mech_list_mic: None,
        });
        let me = Self {
            server,
            mech_types_der,
            mic_required,
        };
        Ok((me, resp))
    }

    /// Reads the initiator's NegTokenResp with the AUTHENTICATE_MESSAGE.
    pub fn authenticate(self, token: &[u8]) -> Result<SpnegoNtlmPending, GssError> {
        let resp = expect_resp(token)?;
        let authenticate = resp.response_token.ok_or(GssError::Malformed {
            reason: "no NTLM AUTHENTICATE_MESSAGE in the initiator's response".into(),
        })?;
        let logon = self
            .server
            .authenticate(&authenticate)
            .map_err(GssError::Ntlm)?;
        Ok(SpnegoNtlmPending {
            logon,
            mech_types_der: self.mech_types_der,
            client_mic: resp.mech_list_mic.map(|m| m.to_vec()),
            mic_required: self.mic_required,
        })
    }
}

impl SpnegoNtlmPending {
    /// The logon the DC must verify.
    pub fn logon(&self) -> &PendingLogon {
        &self.logon
    }

    /// Finishes an anonymous logon ([`PendingLogon::is_anonymous`]): the last token for
    /// the initiator, accept-completed with no mechListMIC (there is no key to make or
    /// check one with).
    pub fn complete_anonymous(self) -> Result<Vec<u8>, GssError> {
        if !self.logon.is_anonymous() {
            return Err(GssError::Malformed {
                reason: "a logon with credentials finished as anonymous".into(),
            });
        }
        Ok(resp_token(NegTokenResp {
            neg_state: Some(NegState::AcceptCompleted),
            supported_mech: None,
            response_token: None,
            mech_list_mic: None,
        }))
    }

    /// Finishes with the SessionBaseKey the DC returned: the NTLM session and the last
    /// token for the initiator.
    pub fn complete(self, session_base_key: &[u8; 16]) -> Result<(NtlmSession, Vec<u8>), GssError> {
        let mic_expected = self.logon.mic_expected() || self.mic_required;
        let mut session = self
            .logon
            .complete(session_base_key)
            .map_err(GssError::Ntlm)?;
        // MS-SPNG 3.2.5.1: the initiator's mechListMIC must verify, and must be there when
        // its AUTHENTICATE_MESSAGE carries NTLM's MIC (a client that sends one sends both).
        match &self.client_mic {
            Some(mic) => session
                .verify(&self.mech_types_der, mic)
                .map_err(|_| GssError::BadSignature)?,
            None if mic_expected => {
                return Err(GssError::Malformed {
                    reason: "no SPNEGO mechListMIC from the initiator, where one is required"
                        .into(),
                });
            }
            None => {}
        }
        let mic = session.sign(&self.mech_types_der);
        let out = resp_token(NegTokenResp {
            neg_state: Some(NegState::AcceptCompleted),
            supported_mech: None,
            response_token: None,
            mech_list_mic: Some(mic.to_vec().into()),
        });
        Ok((session, out))
    }
}

/// Whether an initiator's first token offers Kerberos first (so [`accept`] takes it;
/// otherwise it is for [`SpnegoNtlmAcceptor`]).
pub fn offers_kerberos_first(token: &[u8]) -> bool {
    matches!(parse(token), Ok(NegotiationToken::Init(init))
        if init.mech_types.first().is_some_and(is_krb5))
}

/// Accepts an SPNEGO NegTokenInit carrying a Kerberos AP-REQ. Returns the context, the
/// NegTokenResp to send (accept-completed, with the AP-REP and Adjoin's mechListMIC), and
/// what the AP-REQ established.
pub fn accept(
    acceptor: &mut Acceptor,
    token: &[u8],
    now: SystemTime,
) -> Result<(SecurityContext, Vec<u8>, Accepted), GssError> {
    let init = expect_init(token)?;
    let chosen = init
        .mech_types
        .iter()
        .find(|m| is_krb5(m))
        .cloned()
        .ok_or(GssError::WrongMechanism)?;
    // The optimistic token is for the initiator's first mechanism; Kerberos must be it.
    let first_is_krb5 = init.mech_types.first().is_some_and(is_krb5);
    let mech_token =
        init.mech_token
            .as_ref()
            .filter(|_| first_is_krb5)
            .ok_or(GssError::Malformed {
                reason:
                    "no Kerberos token: the client's first mechanism is not Kerberos (NTLM is not \
                 offered by this server)"
                        .into(),
            })?;
    let (mut ctx, reply, accepted) = krb5::accept(acceptor, mech_token, now)?;
    let list = mech_list_der(&init.mech_types);
    if let Some(mic) = &init.mech_list_mic {
        ctx.verify_mic(&list, mic)?;
    }
    let mic = ctx.get_mic(&list)?;
    let resp = NegTokenResp {
        neg_state: Some(NegState::AcceptCompleted),
        supported_mech: Some(chosen),
        response_token: reply.map(Into::into),
        mech_list_mic: Some(mic.into()),
    };
    Ok((ctx, resp_token(resp), accepted))
}

/// Reads the initiator's last SPNEGO token (its mechListMIC) after [`accept`], if it sends
/// one, and checks it.
pub fn accept_final(
    ctx: &mut SecurityContext,
    mech_types_der: &[u8],
    token: &[u8],
) -> Result<(), GssError> {
    let NegotiationToken::Resp(resp) = parse(token)? else {
        return Err(GssError::Malformed {
            reason: "NegTokenInit where the initiator's MIC was expected".into(),
        });
    };
    match resp.mech_list_mic {
        Some(mic) => ctx.verify_mic(mech_types_der, &mic),
        None => Ok(()),
    }
}

/// The DER of the mechanism list of an initiator's first token, for [`accept_final`].
pub fn mech_types_der(first_token: &[u8]) -> Result<Vec<u8>, GssError> {
    match parse(first_token)? {
        NegotiationToken::Init(init) => Ok(mech_list_der(&init.mech_types)),
        NegotiationToken::Resp(_) => Err(GssError::Malformed {
            reason: "not a NegTokenInit".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krb::mint::fixtures::{credentials, keytab, t};

    #[test]
    fn rfc4178_krb5_negotiation_with_mech_list_mics_both_ways() {
        let flags = GssFlags::INTEG | GssFlags::CONF;
        let (init, first) =
            SpnegoInitiator::start(credentials(1_000_000, None), flags, t(1_000_001)).unwrap();
        let NegotiationToken::Init(parsed) = parse(&first).unwrap() else {
            panic!()
        };
        assert_eq!(parsed.mech_types, vec![oid(KRB5)]);

        let mut acceptor = Acceptor::new(keytab(3));
        let (mut actx, resp, accepted) = accept(&mut acceptor, &first, t(1_000_002)).unwrap();
        assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.TEST");
        let NegotiationToken::Resp(r) = parse(&resp).unwrap() else {
            panic!()
        };
        assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
        assert!(r.mech_list_mic.is_some());

        let SpnegoStep::Done(mut ictx, last) = init.step(&resp).unwrap() else {
            panic!()
        };
        assert!(last.is_none(), "the acceptor's MIC completes the exchange");
        let token = ictx.wrap(b"over spnego", true).unwrap();
        assert_eq!(actx.unwrap(&token).unwrap().0, b"over spnego");
    }

    #[test]
    fn windows_mech_list_is_accepted_and_answered_with_the_ms_oid() {
        // Windows lists the MS Kerberos OID first, then the standard one, then NTLM.
        let (_, first) =
            SpnegoInitiator::start(credentials(1_000_000, None), GssFlags::INTEG, t(1_000_000))
                .unwrap();
        let NegotiationToken::Init(mut init) = parse(&first).unwrap() else {
            panic!()
        };
        let ntlm = ObjectIdentifier::new_unchecked(vec![1, 3, 6, 1, 4, 1, 311, 2, 2, 10].into());
        init.mech_types = vec![oid(MS_KRB5), oid(KRB5), ntlm];
        let token = frame_init(init);
        let (_, resp, _) = accept(&mut Acceptor::new(keytab(3)), &token, t(1_000_000)).unwrap();
        let NegotiationToken::Resp(r) = parse(&resp).unwrap() else {
            panic!()
        };
        assert_eq!(r.supported_mech, Some(oid(MS_KRB5)));
    }

    #[test]
    fn a_tampered_mech_list_mic_is_refused() {
        let (init, first) =
            SpnegoInitiator::start(credentials(1_000_000, None), GssFlags::INTEG, t(1_000_000))
                .unwrap();
        let (_, resp, _) = accept(&mut Acceptor::new(keytab(3)), &first, t(1_000_000)).unwrap();
        let NegotiationToken::Resp(mut r) = parse(&resp).unwrap() else {
            panic!()
        };
        let mut mic = r.mech_list_mic.unwrap().to_vec();
        let last = mic.len() - 1;
        mic[last] ^= 1;
        r.mech_list_mic = Some(mic.into());
        assert!(matches!(
            init.step(&resp_token(r)),
            Err(GssError::BadSignature)
        ));
    }

    #[test]
    fn ntlm_only_clients_get_a_clear_error() {
        let ntlm = ObjectIdentifier::new_unchecked(vec![1, 3, 6, 1, 4, 1, 311, 2, 2, 10].into());
        let token = frame_init(NegTokenInit {
            mech_types: vec![ntlm],
            req_flags: None,
            mech_token: Some(b"NTLMSSP\0".to_vec().into()),
            mech_list_mic: None,
        });
        let e = accept(&mut Acceptor::new(keytab(3)), &token, t(0)).unwrap_err();
        assert!(matches!(e, GssError::WrongMechanism), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_tokens_never_panic(data: Vec<u8>) {
            let _ = parse(&data);
            let _ = accept(&mut Acceptor::new(keytab(3)), &data, t(0));
        }
    }
}

#[cfg(test)]
mod ntlm_tests {
    use super::*;
    use crate::ntlm::fixtures::identity;
    use crate::ntlm::{nt_hash, ntowf_v2, verify_ntlmv2_response};

    /// Both SPNEGO sides over NTLMSSP, the DC's verification played locally: each side
    /// checks the other's mechListMIC, and the sessions agree.
    #[test]
    fn ms_spng_ntlm_initiator_and_acceptor_agree() {
        let (client, negotiate) = NtlmClient::new("bob", "EXAMPLE", "pw", "WS").unwrap();
        let (initiator, init) = SpnegoNtlmInitiator::start(client, negotiate);
        let nonces = ServerNonces {
            server_challenge: [3; 8],
            timestamp: 0x01db_0000_0000_0000,
        };
        let (acceptor, challenge) = SpnegoNtlmAcceptor::accept(&init, &identity(), nonces).unwrap();
        let client_nonces = ClientNonces {
            client_challenge: [4; 8],
            session_key: [5; 16],
            timestamp: 0,
        };
        let (finish, auth) = initiator.step(&challenge, &client_nonces).unwrap();
        let pending = acceptor.authenticate(&auth).unwrap();
        let logon = pending.logon();
        let key = ntowf_v2(&nt_hash("pw"), &logon.user, &logon.domain);
        let base =
            verify_ntlmv2_response(&key, &logon.server_challenge, &logon.nt_response).unwrap();
        let (mut server, last) = pending.complete(base.as_bytes()).unwrap();
        let mut client = finish.finish(&last).unwrap();
        server.verify(b"x", &client.sign(b"x")).unwrap();

        // A changed last token (its MIC) is refused by the initiator.
        let (client, negotiate) = NtlmClient::new("bob", "EXAMPLE", "pw", "WS").unwrap();
        let (initiator, init) = SpnegoNtlmInitiator::start(client, negotiate);
        let (acceptor, challenge) = SpnegoNtlmAcceptor::accept(&init, &identity(), nonces).unwrap();
        let (finish, auth) = initiator.step(&challenge, &client_nonces).unwrap();
        let pending = acceptor.authenticate(&auth).unwrap();
        // The same nonces on both sides give the same response, so the same key.
        let (_, mut last) = pending.complete(base.as_bytes()).unwrap();
        let n = last.len();
        last[n - 1] ^= 1;
        assert!(finish.finish(&last).is_err());
    }

    /// RFC 4178 3.2 c: Kerberos first (with its token), NTLMSSP second; the acceptor
    /// selects NTLMSSP, the initiator starts it in its next token, and the mechListMIC over
    /// the whole original list is then required.
    #[test]
    fn rfc4178_ntlm_selected_when_it_is_not_first() {
        let mech_types = vec![oid(KRB5), oid(NTLMSSP)];
        let init = frame_init(NegTokenInit {
            mech_types: mech_types.clone(),
            req_flags: None,
            mech_token: Some(b"an AP-REQ this acceptor cannot take".to_vec().into()),
            mech_list_mic: None,
        });
        assert!(matches!(
            SpnegoNtlmAcceptor::accept(&init, &identity(), nonces()),
            Err(GssError::WrongMechanism)
        ));
        let (selected, answer) = SpnegoNtlmSelected::select(&init).unwrap();
        let NegotiationToken::Resp(answer) = parse(&answer).unwrap() else {
            unreachable!()
        };
        assert_eq!(answer.neg_state, Some(NegState::AcceptIncomplete));
        assert_eq!(answer.supported_mech, Some(oid(NTLMSSP)));
        assert!(answer.response_token.is_none());

        let (client, negotiate) = NtlmClient::new("bob", "EXAMPLE", "pw", "WS").unwrap();
        let second = resp_token(NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: Some(negotiate.into()),
            mech_list_mic: None,
        });
        let (acceptor, challenge) = selected.negotiate(&second, &identity(), nonces()).unwrap();
        let NegotiationToken::Resp(challenge) = parse(&challenge).unwrap() else {
            unreachable!()
        };
        let client_nonces = ClientNonces {
            client_challenge: [4; 8],
            session_key: [5; 16],
            timestamp: 0,
        };
        let (authenticate, _) = client
            .authenticate(&challenge.response_token.unwrap(), &client_nonces)
            .unwrap();
        let list = mech_list_der(&mech_types);
        let third = |mic: Option<Vec<u8>>| {
            resp_token(NegTokenResp {
                neg_state: None,
                supported_mech: None,
                response_token: Some(authenticate.clone().into()),
                mech_list_mic: mic.map(Into::into),
            })
        };
        // Without the mechListMIC the exchange fails even though NTLM itself is fine.
        let pending = acceptor.authenticate(&third(None)).unwrap();
        let key = ntowf_v2(&nt_hash("pw"), "bob", "EXAMPLE");
        let logon = pending.logon();
        let base =
            verify_ntlmv2_response(&key, &logon.server_challenge, &logon.nt_response).unwrap();
        assert!(pending.complete(base.as_bytes()).is_err());
        // With it (over the original list), it completes. A fresh exchange, as the NTLM
        // session's sequence numbers moved.
        let (selected, _) = SpnegoNtlmSelected::select(&init).unwrap();
        let (client, negotiate) = NtlmClient::new("bob", "EXAMPLE", "pw", "WS").unwrap();
        let second = resp_token(NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: Some(negotiate.into()),
            mech_list_mic: None,
        });
        let (acceptor, challenge) = selected.negotiate(&second, &identity(), nonces()).unwrap();
        let NegotiationToken::Resp(challenge) = parse(&challenge).unwrap() else {
            unreachable!()
        };
        let (authenticate, mut fresh) = client
            .authenticate(&challenge.response_token.unwrap(), &client_nonces)
            .unwrap();
        let mic = fresh.sign(&list).to_vec();
        let third = resp_token(NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: Some(authenticate.into()),
            mech_list_mic: Some(mic.into()),
        });
        let pending = acceptor.authenticate(&third).unwrap();
        let (_, last) = pending.complete(base.as_bytes()).unwrap();
        let NegotiationToken::Resp(last) = parse(&last).unwrap() else {
            unreachable!()
        };
        fresh.verify(&list, &last.mech_list_mic.unwrap()).unwrap();
    }

    fn nonces() -> ServerNonces {
        ServerNonces {
            server_challenge: [3; 8],
            timestamp: 0x01db_0000_0000_0000,
        }
    }

    #[test]
    fn a_kerberos_first_init_is_not_taken_as_ntlm() {
        let (client, negotiate) = NtlmClient::new("bob", "EXAMPLE", "pw", "WS").unwrap();
        let (_, init) = SpnegoNtlmInitiator::start(client, negotiate);
        let NegotiationToken::Init(mut parsed) = parse(&init).unwrap() else {
            unreachable!()
        };
        parsed.mech_types.insert(0, oid(KRB5));
        let token = frame_init(parsed);
        let nonces = ServerNonces {
            server_challenge: [3; 8],
            timestamp: 0,
        };
        assert!(matches!(
            SpnegoNtlmAcceptor::accept(&token, &identity(), nonces),
            Err(GssError::WrongMechanism)
        ));
    }
}
