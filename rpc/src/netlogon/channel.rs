//! The NETLOGON secure channel of a domain member (MS-NRPC 3.1, 3.4): the
//! challenge/authenticate exchange with the machine password, an
//! Schannel-sealed binding for NetrLogonSamLogonEx, and transparent
//! re-establishment when the DC forgets the channel (a restart) or the
//! connection drops.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use zeroize::Zeroizing;

use adjoin_auth::ntlm::nt_hash;

use super::credential::{
    CredentialChain, CredentialMismatch, SessionKey, aes_cfb8_decrypt, aes_cfb8_encrypt,
};
use super::{
    Credential, DS_RETURN_DNS_NAME, DomainControllerInfo, DsrGetDcNameEx2Request,
    DsrGetDcNameEx2Response, LogonIdentityInfo, LogonLevel, LogonSamLogonExRequest,
    LogonSamLogonExResponse, MSV1_0_ALLOW_SERVER_TRUST_ACCOUNT,
    MSV1_0_ALLOW_WORKSTATION_TRUST_ACCOUNT, NegotiateFlags, NetworkInfo, Opnum, SecureChannelType,
    ServerAuthenticate3Request, ServerAuthenticate3Response, ServerPasswordSet2Request,
    ServerPasswordSet2Response, ServerReqChallengeRequest, ServerReqChallengeResponse,
    TrustPassword, VALIDATION_SAM_INFO2, Validation, ValidationSamInfo2,
};
use crate::client::{BindAuth, RpcError};
use crate::lsa::{
    self, LookupNames4Request, LookupNames4Response, LookupSids3Request, LookupSids3Response,
    Translation,
};
use crate::ndr::{NdrParams, NetlogonString, Sid, UnicodeString, WideString};
use crate::ntstatus::NtStatus;
use crate::pdu::{AuthLevel, FaultStatus};
use crate::schannel::Schannel;
use crate::tcp::{TcpConnection, map_tcp_port};
use crate::uuid::SyntaxId;

/// What the machine account knows about itself (from the join).
#[derive(Clone)]
pub struct MachineAccount {
    /// The NetBIOS domain name (`EXAMPLE`).
    pub netbios_domain: String,
    /// This computer's NetBIOS name (`FOO`).
    pub netbios_name: String,
    /// The machine password.
    pub password: Zeroizing<String>,
}

impl core::fmt::Debug for MachineAccount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MachineAccount")
            .field("netbios_domain", &self.netbios_domain)
            .field("netbios_name", &self.netbios_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why the secure channel could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// DCE/RPC or transport failure talking to the DC.
    #[error("NETLOGON to {dc}: {error}")]
    Rpc {
        /// The DC.
        dc: String,
        /// The failure.
        error: RpcError,
    },
    /// A NETLOGON call returned an error status while setting up the channel.
    #[error("{call} failed on {dc}: {status}{hint}")]
    Status {
        /// The call.
        call: &'static str,
        /// The DC.
        dc: String,
        /// The status.
        status: NtStatus,
        /// What to do about it.
        hint: &'static str,
    },
    /// The DC's credential proves another password: the join is broken.
    #[error(
        "the DC {dc} holds a different machine password ({mismatch}); run `domain-join testjoin`, then rejoin"
    )]
    Credential {
        /// The DC.
        dc: String,
        /// The mismatch.
        mismatch: CredentialMismatch,
    },
    /// The DC would not grant AES or Schannel.
    #[error("the DC {dc} does not grant AES and Schannel (granted {granted:#010x})")]
    Downgrade {
        /// The DC.
        dc: String,
        /// The flags it granted.
        granted: u32,
    },
    /// The system random source failed.
    #[error("the system random source failed: {0}")]
    Random(getrandom::Error),
    /// A call that returns a Win32 error code failed.
    #[error("{call} on {dc} failed: {}", win32_message(*code))]
    Win32 {
        /// The call.
        call: &'static str,
        /// The DC.
        dc: String,
        /// The Win32 error code.
        code: u32,
    },
    /// A new machine password longer than NL_TRUST_PASSWORD holds.
    #[error("a machine password of {chars} characters is longer than the 256 NETLOGON can set")]
    PasswordTooLong {
        /// Its length in UTF-16 units.
        chars: usize,
    },
}

/// A network (challenge/response) logon to verify.
#[derive(Clone, Default)]
pub struct NetworkLogon {
    /// The user's domain as the client gave it.
    pub domain: String,
    /// The user name.
    pub user: String,
    /// The client workstation's name.
    pub workstation: String,
    /// The 8-byte server challenge the responses answer.
    pub challenge: [u8; 8],
    /// The NT (NTLMv2) challenge response.
    pub nt_response: Vec<u8>,
    /// The LM (LMv2) challenge response.
    pub lm_response: Vec<u8>,
}

impl NetworkLogon {
    /// The logon an NTLM acceptor hands to the DC to verify (pass-through
    /// authentication, MS-APDS 3.1.5): the client's names and responses to the
    /// acceptor's challenge.
    pub fn from_ntlm(pending: &adjoin_auth::ntlm::PendingLogon) -> Self {
        Self {
            domain: pending.domain.clone(),
            user: pending.user.clone(),
            workstation: pending.workstation.clone(),
            challenge: pending.server_challenge,
            nt_response: pending.nt_response.clone(),
            lm_response: pending.lm_response.clone(),
        }
    }
}

impl core::fmt::Debug for NetworkLogon {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NetworkLogon")
            .field("domain", &self.domain)
            .field("user", &self.user)
            .field("workstation", &self.workstation)
            .finish_non_exhaustive()
    }
}

/// The DC's verdict on a logon.
pub enum LogonOutcome {
    /// Authenticated: the validation information (its UserSessionKey decrypted: a
    /// secret, kept out of `Debug`).
    Success(Box<ValidationSamInfo2>),
    /// Refused with this status (wrong password, disabled, ...).
    Refused(NtStatus),
}

impl core::fmt::Debug for LogonOutcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Success(info) => f
                .debug_struct("Success")
                .field("user", &info.effective_name.as_str())
                .field("domain", &info.logon_domain_name.as_str())
                .field("rid", &info.user_id)
                .field("user_flags", &info.user_flags)
                .finish_non_exhaustive(),
            Self::Refused(status) => f.debug_tuple("Refused").field(status).finish(),
        }
    }
}

struct Established {
    /// The sealed binding the channel's own calls use.
    conn: TcpConnection,
    flags: NegotiateFlags,
    /// The credential chain (authenticators for PasswordSet2) and session key.
    chain: CredentialChain,
    /// NETLOGON's endpoint, for more sealed bindings.
    addr: SocketAddr,
    /// The LSA binding for name lookups, once used.
    lsa: Option<TcpConnection>,
}

/// One more Schannel-sealed binding of an established secure channel: it
/// shares the channel's session key (NetrLogonSamLogonEx needs no
/// authenticator, so bindings work in parallel), for callers that verify
/// logons concurrently. It is not re-established by itself.
#[derive(Debug)]
pub struct LogonBinding {
    conn: TcpConnection,
    server_name: WideString,
    computer: WideString,
    session_key: SessionKey,
}

impl LogonBinding {
    /// Has the DC verify a network logon over this binding.
    pub async fn logon_network(&mut self, logon: &NetworkLogon) -> Result<LogonOutcome, RpcError> {
        let request = network_request(&self.server_name, &self.computer, logon);
        let resp: LogonSamLogonExResponse = self
            .conn
            .call(Opnum::LOGON_SAM_LOGON_EX.value(), &request)
            .await?;
        Ok(outcome(resp, &self.session_key))
    }
}

/// A secure channel to one DC, established on first use and again
/// whenever the DC stops honouring it.
pub struct SecureChannel {
    dc: IpAddr,
    dc_name: String,
    account: MachineAccount,
    timeout: Duration,
    current: Option<Established>,
    establishments: u64,
}

impl core::fmt::Debug for SecureChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecureChannel")
            .field("dc", &self.dc)
            .field("dc_name", &self.dc_name)
            .field("established", &self.current.is_some())
            .field("establishments", &self.establishments)
            .finish_non_exhaustive()
    }
}

impl SecureChannel {
    /// A channel to the DC at `dc` (named `dc_name`, e.g. its FQDN, in the
    /// calls' server name) for `account`; nothing is sent yet.
    pub fn new(dc: IpAddr, dc_name: &str, account: MachineAccount, timeout: Duration) -> Self {
        Self {
            dc,
            dc_name: dc_name.to_owned(),
            account,
            timeout,
            current: None,
            establishments: 0,
        }
    }

    /// How many times the channel has been (re-)established.
    pub fn establishments(&self) -> u64 {
        self.establishments
    }

    /// Forgets the established channel: the next call establishes a new one (for a
    /// caller that saw the DC stop honouring it on a [`LogonBinding`]).
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// The flags the DC granted, once established.
    pub fn negotiated_flags(&self) -> Option<NegotiateFlags> {
        self.current.as_ref().map(|e| e.flags)
    }

    pub(crate) fn rpc(&self, source: RpcError) -> ChannelError {
        ChannelError::Rpc {
            dc: self.dc_name.clone(),
            error: source,
        }
    }

    fn server_name(&self) -> WideString {
        WideString::new(format!(r"\\{}", self.dc_name))
    }

    /// Establishes the channel now, replacing any current one.
    pub async fn establish(&mut self) -> Result<(), ChannelError> {
        self.current = None;
        self.current = Some(self.connect().await?);
        Ok(())
    }

    /// The channel, established first if it is not.
    async fn established(&mut self) -> Result<&mut Established, ChannelError> {
        let established = match self.current.take() {
            Some(e) => e,
            None => self.connect().await?,
        };
        Ok(self.current.insert(established))
    }

    /// MS-NRPC 3.1.4.1 and 3.4.5.1.1: challenge, authenticate, then an
    /// Schannel-sealed binding on a second connection.
    async fn connect(&mut self) -> Result<Established, ChannelError> {
        let port = map_tcp_port(self.dc, SyntaxId::NETLOGON, self.timeout)
            .await
            .map_err(|e| self.rpc(e))?;
        let addr = SocketAddr::new(self.dc, port);
        let mut plain = TcpConnection::connect(
            addr,
            "NETLOGON",
            SyntaxId::NETLOGON,
            BindAuth::None,
            self.timeout,
        )
        .await
        .map_err(|e| self.rpc(e))?;
        let mut client_challenge = [0; 8];
        getrandom::fill(&mut client_challenge).map_err(ChannelError::Random)?;
        let computer = self.computer();
        let challenge: ServerReqChallengeResponse = plain
            .call(
                Opnum::SERVER_REQ_CHALLENGE.value(),
                &ServerReqChallengeRequest {
                    primary_name: Some(self.server_name()),
                    computer_name: computer.clone(),
                    client_challenge: Credential {
                        data: client_challenge,
                    },
                },
            )
            .await
            .map_err(|e| self.rpc(e))?;
        self.check("NetrServerReqChallenge", challenge.status, "")?;
        let server_challenge = challenge.server_challenge.data;
        let hash = nt_hash(&self.account.password);
        let (chain, client_credential) =
            CredentialChain::new(hash.as_bytes(), &client_challenge, &server_challenge);
        let auth: ServerAuthenticate3Response = plain
            .call(
                Opnum::SERVER_AUTHENTICATE3.value(),
                &ServerAuthenticate3Request {
                    primary_name: Some(self.server_name()),
                    account_name: self.account_name(),
                    secure_channel_type: SecureChannelType::WORKSTATION,
                    computer_name: computer,
                    client_credential,
                    negotiate_flags: NegotiateFlags::PROPOSED,
                },
            )
            .await
            .map_err(|e| self.rpc(e))?;
        self.check(
            "NetrServerAuthenticate3",
            auth.status,
            match auth.status {
                NtStatus::ACCESS_DENIED => {
                    ": the DC refused the machine password; run `domain-join testjoin`, then rejoin"
                }
                NtStatus::NO_TRUST_SAM_ACCOUNT => {
                    ": the machine account is gone from the domain; rejoin with `domain-join join`"
                }
                _ => "",
            },
        )?;
        chain
            .verify_server(&server_challenge, &auth.server_credential)
            .map_err(|mismatch| ChannelError::Credential {
                dc: self.dc_name.clone(),
                mismatch,
            })?;
        if !auth.negotiate_flags.contains(NegotiateFlags::REQUIRED) {
            return Err(ChannelError::Downgrade {
                dc: self.dc_name.clone(),
                granted: auth.negotiate_flags.bits(),
            });
        }
        drop(plain);
        let sealed = self
            .bind_sealed(addr, SyntaxId::NETLOGON, "NETLOGON", &chain)
            .await?;
        self.establishments += 1;
        tracing::debug!(dc = %self.dc_name, port, flags = auth.negotiate_flags.bits(), "secure channel established");
        Ok(Established {
            conn: sealed,
            flags: auth.negotiate_flags,
            chain,
            addr,
            lsa: None,
        })
    }

    /// A new NETLOGON binding sealed with the channel's session key
    /// (MS-NRPC 3.3: Netlogon SSP at privacy level).
    async fn bind_sealed(
        &self,
        addr: SocketAddr,
        syntax: SyntaxId,
        interface: &'static str,
        chain: &CredentialChain,
    ) -> Result<TcpConnection, ChannelError> {
        TcpConnection::connect(
            addr,
            interface,
            syntax,
            BindAuth::Schannel {
                context: Schannel::new(chain.session_key().clone(), true, true),
                domain: self.account.netbios_domain.clone(),
                computer: self.account.netbios_name.clone(),
                level: AuthLevel::PKT_PRIVACY,
            },
            self.timeout,
        )
        .await
        .map_err(|e| self.rpc(e))
    }

    /// Another sealed binding of this channel (established first if
    /// needed), for a concurrent caller.
    pub async fn logon_binding(&mut self) -> Result<LogonBinding, ChannelError> {
        let est = self.established().await?;
        let (addr, chain) = (est.addr, est.chain.clone());
        let conn = self
            .bind_sealed(addr, SyntaxId::NETLOGON, "NETLOGON", &chain)
            .await?;
        Ok(LogonBinding {
            conn,
            server_name: self.server_name(),
            computer: self.computer(),
            session_key: chain.session_key().clone(),
        })
    }

    /// MS-NRPC 3.5.4.4.5 NetrServerPasswordSet2: sets the machine account's
    /// password in the domain to `new_password`, authenticated by the
    /// credential chain and sent AES-encrypted with the session key. The
    /// caller records the new password (and keys) once this returns.
    pub async fn set_password(&mut self, new_password: &str) -> Result<(), ChannelError> {
        let mut clear = encode_trust_password(new_password)?;
        let server_name = self.server_name();
        let computer = self.computer();
        let account = self.account_name();
        let dc = self.dc_name.clone();
        let est = self.established().await?;
        aes_cfb8_encrypt(
            &est.chain.session_key().cipher(),
            &[0; 16],
            &mut clear.0[..],
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let request = ServerPasswordSet2Request {
            primary_name: Some(server_name),
            account_name: account,
            secure_channel_type: SecureChannelType::WORKSTATION,
            computer_name: computer,
            authenticator: est.chain.next_authenticator(now),
            clear_new_password: clear,
        };
        let result: Result<ServerPasswordSet2Response, RpcError> = est
            .conn
            .call(Opnum::SERVER_PASSWORD_SET2.value(), &request)
            .await;
        let resp = match result {
            Ok(resp) => resp,
            Err(error) => {
                // The chain may now be out of step with the DC's.
                self.current = None;
                return Err(ChannelError::Rpc { dc, error });
            }
        };
        if resp.status != NtStatus::SUCCESS {
            self.current = None;
            return Err(ChannelError::Status {
                call: "NetrServerPasswordSet2",
                dc,
                status: resp.status,
                hint: "",
            });
        }
        let verified = est.chain.verify_return(&resp.return_authenticator);
        // The password changed: this channel's session key belongs to the old one, and the
        // next establishment proves the new one.
        self.current = None;
        self.account.password = Zeroizing::new(new_password.to_owned());
        verified.map_err(|mismatch| ChannelError::Credential { dc, mismatch })
    }

    fn computer(&self) -> WideString {
        WideString::new(self.account.netbios_name.clone())
    }

    /// The machine account's name: the computer's NetBIOS name and `$`.
    fn account_name(&self) -> WideString {
        WideString::new(format!("{}$", self.account.netbios_name))
    }

    fn check(
        &self,
        call: &'static str,
        status: NtStatus,
        hint: &'static str,
    ) -> Result<(), ChannelError> {
        if status == NtStatus::SUCCESS {
            Ok(())
        } else {
            Err(ChannelError::Status {
                call,
                dc: self.dc_name.clone(),
                status,
                hint,
            })
        }
    }

    /// Has the DC verify a network logon (NetrLogonSamLogonEx), asking for
    /// SAM_INFO2 validation. If the channel fails (DC restarted, connection
    /// lost, channel forgotten) it is re-established once and the logon
    /// retried.
    pub async fn logon_network(
        &mut self,
        logon: &NetworkLogon,
    ) -> Result<LogonOutcome, ChannelError> {
        let request = network_request(&self.server_name(), &self.computer(), logon);
        let resp: LogonSamLogonExResponse = self
            .call_sealed(
                Interface::Netlogon,
                Opnum::LOGON_SAM_LOGON_EX.value(),
                &request,
                |r: &LogonSamLogonExResponse| channel_lost(r.status),
            )
            .await?;
        // The channel that answered (it may have been re-established for the retry).
        let est = self.current.as_ref().ok_or(ChannelError::Rpc {
            dc: self.dc_name.clone(),
            error: RpcError::Protocol("the secure channel closed during the logon"),
        })?;
        Ok(outcome(resp, est.chain.session_key()))
    }

    /// MS-NRPC 3.5.4.3.1 DsrGetDcNameEx2: the DC's own locator, asked over
    /// the secure channel for a DC of `domain` (DNS or NetBIOS name) with
    /// DS_* `flags` (DS_RETURN_DNS_NAME is always added).
    pub async fn dc_name(
        &mut self,
        domain: &str,
        flags: u32,
    ) -> Result<DomainControllerInfo, ChannelError> {
        let request = DsrGetDcNameEx2Request {
            computer_name: Some(self.server_name()),
            account_name: None,
            allowable_account_control_bits: 0,
            domain_name: Some(WideString::new(domain)),
            domain_guid: None,
            site_name: None,
            flags: flags | DS_RETURN_DNS_NAME,
        };
        let resp: DsrGetDcNameEx2Response = self
            .call_sealed(
                Interface::Netlogon,
                Opnum::DSR_GET_DC_NAME_EX2.value(),
                &request,
                |_: &DsrGetDcNameEx2Response| false,
            )
            .await?;
        match (resp.status, resp.info) {
            (0, Some(info)) => Ok(info),
            (code, _) => Err(ChannelError::Win32 {
                call: "DsrGetDcNameEx2",
                dc: self.dc_name.clone(),
                code,
            }),
        }
    }

    /// MS-LSAT 3.1.4.8 LsarLookupSids3 over an LSA binding sealed with this
    /// channel's session key: `DOMAIN\name` for each SID, in order (`None`
    /// where the DC maps nothing).
    pub async fn lookup_sids(
        &mut self,
        sids: &[Sid],
    ) -> Result<Vec<Option<Translation>>, ChannelError> {
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let resp: LookupSids3Response = self
            .call_sealed(
                Interface::Lsa,
                lsa::LOOKUP_SIDS3,
                &LookupSids3Request::new(sids),
                |r: &LookupSids3Response| channel_lost(r.status),
            )
            .await?;
        self.lookup_status("LsarLookupSids3", resp.status)?;
        Ok(resp.translations(sids))
    }

    /// MS-LSAT 3.1.4.7 LsarLookupNames4: the SID of each name (`DOMAIN\name`
    /// or `name`), in order (`None` where nothing maps).
    pub async fn lookup_names(
        &mut self,
        names: &[&str],
    ) -> Result<Vec<Option<Translation>>, ChannelError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let resp: LookupNames4Response = self
            .call_sealed(
                Interface::Lsa,
                lsa::LOOKUP_NAMES4,
                &LookupNames4Request::new(names),
                |r: &LookupNames4Response| channel_lost(r.status),
            )
            .await?;
        self.lookup_status("LsarLookupNames4", resp.status)?;
        Ok(resp.translations(names))
    }

    /// SOME_NOT_MAPPED and NONE_MAPPED are answers (the `None`s), not failures.
    fn lookup_status(&self, call: &'static str, status: NtStatus) -> Result<(), ChannelError> {
        match status {
            NtStatus::SOME_NOT_MAPPED | NtStatus::NONE_MAPPED => Ok(()),
            status => self.check(call, status, ""),
        }
    }

    /// Calls `opnum` on the sealed binding of `interface` (binding it on first
    /// use). If the call fails, or `lost` says the DC no longer honours the
    /// channel, the channel is re-established once and the call retried.
    async fn call_sealed<Req: NdrParams, Resp: NdrParams>(
        &mut self,
        interface: Interface,
        opnum: u16,
        request: &Req,
        lost: impl Fn(&Resp) -> bool,
    ) -> Result<Resp, ChannelError> {
        let mut retried = false;
        loop {
            let result = match self.binding(interface).await {
                Ok(conn) => conn.call(opnum, request).await.map_err(|e| self.rpc(e)),
                Err(e) => Err(e),
            };
            match result {
                Ok(resp) if lost(&resp) && !retried => {
                    tracing::info!(dc = %self.dc_name, "secure channel lost; re-establishing");
                }
                Ok(resp) => return Ok(resp),
                // The DC refused this one call (a fault PDU): the connection and the
                // channel are as good as before, and the same call would fault again.
                Err(
                    e @ ChannelError::Rpc {
                        error: RpcError::Fault(f),
                        ..
                    },
                ) if !fault_means_lost(f) => {
                    return Err(e);
                }
                // Transport and protocol failures may be a restarted DC: once more.
                Err(e @ ChannelError::Rpc { .. }) if !retried => {
                    tracing::info!(dc = %self.dc_name, error = %e, "secure channel failed; re-establishing");
                }
                Err(e) => {
                    self.current = None;
                    return Err(e);
                }
            }
            self.current = None;
            retried = true;
        }
    }

    /// The sealed connection for `interface`, binding the channel (and the
    /// interface) first if needed.
    async fn binding(&mut self, interface: Interface) -> Result<&mut TcpConnection, ChannelError> {
        self.established().await?;
        if interface == Interface::Lsa && self.current.as_ref().is_some_and(|e| e.lsa.is_none()) {
            let port = map_tcp_port(self.dc, SyntaxId::LSA, self.timeout)
                .await
                .map_err(|e| self.rpc(e))?;
            let chain = match &self.current {
                Some(e) => e.chain.clone(),
                None => return Err(self.rpc(RpcError::Protocol("channel lost while binding LSA"))),
            };
            let conn = self
                .bind_sealed(SocketAddr::new(self.dc, port), SyntaxId::LSA, "LSA", &chain)
                .await?;
            if let Some(e) = self.current.as_mut() {
                e.lsa = Some(conn);
            }
        }
        let dc = self.dc_name.clone();
        match (interface, self.current.as_mut()) {
            (Interface::Netlogon, Some(e)) => Ok(&mut e.conn),
            (Interface::Lsa, Some(Established { lsa: Some(c), .. })) => Ok(c),
            _ => Err(ChannelError::Rpc {
                dc,
                error: RpcError::Protocol("channel lost while binding"),
            }),
        }
    }
}

/// The interfaces a secure channel binds with its session key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interface {
    Netlogon,
    Lsa,
}

/// The NetrLogonSamLogonEx arguments for `logon`, asking for SAM_INFO2.
fn network_request(
    server_name: &WideString,
    computer: &WideString,
    logon: &NetworkLogon,
) -> LogonSamLogonExRequest {
    let info = LogonLevel::Network(Box::new(NetworkInfo {
        identity: LogonIdentityInfo {
            logon_domain_name: UnicodeString::new(logon.domain.clone()),
            parameter_control: MSV1_0_ALLOW_WORKSTATION_TRUST_ACCOUNT
                | MSV1_0_ALLOW_SERVER_TRUST_ACCOUNT,
            reserved_low: 0,
            reserved_high: 0,
            user_name: UnicodeString::new(logon.user.clone()),
            workstation: UnicodeString::new(logon.workstation.clone()),
        },
        lm_challenge: logon.challenge,
        nt_response: NetlogonString(Some(logon.nt_response.clone())),
        lm_response: NetlogonString(Some(logon.lm_response.clone())),
    }));
    LogonSamLogonExRequest {
        logon_server: Some(server_name.clone()),
        computer_name: Some(computer.clone()),
        logon_level: info.class(),
        logon_information: info,
        validation_level: VALIDATION_SAM_INFO2,
        extra_flags: 0,
    }
}

/// MS-NRPC 2.2.1.3.7 NL_TRUST_PASSWORD in the clear: random filler, the
/// UTF-16LE password at the end of the 512-byte buffer, then its length.
fn encode_trust_password(password: &str) -> Result<TrustPassword, ChannelError> {
    let mut out = TrustPassword::default();
    let units: Zeroizing<Vec<u8>> =
        Zeroizing::new(password.encode_utf16().flat_map(u16::to_le_bytes).collect());
    let len = units.len();
    if len > 512 {
        return Err(ChannelError::PasswordTooLong { chars: len / 2 });
    }
    getrandom::fill(&mut out.0[..512 - len]).map_err(ChannelError::Random)?;
    out.0[512 - len..512].copy_from_slice(&units[..len]);
    out.0[512..].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(out)
}

/// MS-ERREF 2.2 Win32 error codes DsrGetDcNameEx2 returns, with their meaning.
fn win32_message(code: u32) -> String {
    match code {
        1355 => "no such domain, or no DC of it answers (ERROR_NO_SUCH_DOMAIN)".into(),
        1004 => "invalid flags (ERROR_INVALID_FLAGS)".into(),
        87 => "invalid parameter (ERROR_INVALID_PARAMETER)".into(),
        5 => "access denied (ERROR_ACCESS_DENIED)".into(),
        code => format!("Win32 error {code}"),
    }
}

/// Statuses with which a DC says it no longer honours the channel.
pub(crate) fn channel_lost(status: NtStatus) -> bool {
    matches!(
        status,
        NtStatus::ACCESS_DENIED
            | NtStatus::INVALID_SERVER_STATE
            | NtStatus::TRUSTED_RELATIONSHIP_FAILURE
            | NtStatus::RPC_PROTOCOL_ERROR
    )
}

/// The DC's verdict, with the UserSessionKey decrypted.
///
/// The DC encrypts a non-zero UserSessionKey with the channel's session key (AES-CFB8,
/// zero IV; MS-NRPC 3.4.5.3.4 says so for NetrLogonSamLogon) even though
/// NetrLogonSamLogonEx already travels sealed: Samba's DC does, for every validation level
/// but 6, and its own clients decrypt the same way. Pass-through authentication needs the key in clear: it is the NTLMv2
/// SessionBaseKey (MS-APDS 3.1.5) from which an NTLM server derives its session keys, and
/// `tools/tests/ntlm_passthrough.rs` shows it against the DC (the client's MIC verifies
/// only under the decrypted key).
fn outcome(resp: LogonSamLogonExResponse, session_key: &SessionKey) -> LogonOutcome {
    match (resp.status, resp.validation) {
        (NtStatus::SUCCESS, Validation::SamInfo2(mut info)) => {
            if info.user_session_key != [0; 16] {
                aes_cfb8_decrypt(&session_key.cipher(), &[0; 16], &mut info.user_session_key);
            }
            LogonOutcome::Success(info)
        }
        (NtStatus::SUCCESS, Validation::None) => {
            LogonOutcome::Refused(NtStatus::RPC_PROTOCOL_ERROR)
        }
        (status, _) => LogonOutcome::Refused(status),
    }
}

/// Whether a fault says the secure channel itself is no longer honoured (its security
/// context refused), rather than that the DC could not carry out one call.
fn fault_means_lost(fault: FaultStatus) -> bool {
    matches!(
        fault,
        FaultStatus::ACCESS_DENIED | FaultStatus::SEC_PKG_ERROR | FaultStatus::CONTEXT_MISMATCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_security_context_counts_as_a_lost_channel() {
        for lost in [
            FaultStatus::ACCESS_DENIED,
            FaultStatus::SEC_PKG_ERROR,
            FaultStatus::CONTEXT_MISMATCH,
        ] {
            assert!(fault_means_lost(lost), "{lost}");
        }
        // What Samba answers LsarLookupNames4 for a name a trusted domain does not know.
        assert!(!fault_means_lost(FaultStatus::CANT_PERFORM));
        assert!(!fault_means_lost(FaultStatus::OP_RNG_ERROR));
    }
}
