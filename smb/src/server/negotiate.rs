//! MS-SMB2 3.3.5.4 NEGOTIATE, and 3.3.5.15.12 VALIDATE_NEGOTIATE_INFO, which repeats it:
//! the dialect, the capabilities (large MTU, and encryption for 3.0.x), the
//! largest read, write and transaction, and for 3.1.1 the negotiate contexts (the
//! pre-authentication hash, the cipher, the signing algorithm).

use adjoin_auth::gss::spnego;
use adjoin_auth::ntlm::filetime_now;
use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;

use super::{CAPABILITIES, Refusal, SECURITY_MODE, ServerConnection, Step};
use crate::encryption::Encryptor;
use crate::error::SmbError;
use crate::proto::{
    Body, Capabilities, Cipher, Command, Dialect, HashAlgorithm, Header, HeaderFlags, IoctlRequest,
    MAX_IO, NegotiateContext, NegotiateRequest, NegotiateResponse, SigningAlgorithm,
    ValidateNegotiateInfoRequest,
};
use crate::signing::Signer;

/// The SMB1 protocol id (MS-CIFS 2.2.3.1).
pub(super) const SMB1_PROTOCOL: [u8; 4] = [0xff, b'S', b'M', b'B'];
/// SMB_COM_NEGOTIATE.
const SMB1_COM_NEGOTIATE: u8 = 0x72;

/// The largest read, write and transaction announced with SMB2_GLOBAL_CAP_LARGE_MTU
/// (2.1 and later); 2.0.2 gets one credit's worth, [`MAX_IO`].
pub(super) const MAX_LARGE_IO: u32 = 8 * 1024 * 1024;

/// What the server announces for `dialect` (MS-SMB2 3.3.5.4): [`CAPABILITIES`] (large MTU
/// and, for 3.0 and 3.0.2, encryption) up to 3.0.2; 3.1.1 says encryption with the
/// ENCRYPTION_CAPABILITIES context instead of the bit.
///
/// 2.0.2 and 2.1 get the same bits as 3.0.x, as Windows servers send them (a 2.x client
/// ignores ENCRYPTION, and a 2.0.2 one multi-credit: MS-SMB2 3.2.5.2), because
/// VALIDATE_NEGOTIATE_INFO, which Samba's client sends on 2.x connections too, answers
/// with [`CAPABILITIES`] and must repeat what NEGOTIATE said.
fn capabilities(dialect: Dialect) -> Capabilities {
    match dialect {
        Dialect::SMB311 => Capabilities::LARGE_MTU.union(Capabilities::LEASING),
        Dialect::WILDCARD => Capabilities::empty(),
        _ => CAPABILITIES,
    }
}

/// MaxReadSize, MaxWriteSize and MaxTransactSize for `dialect`.
fn max_io(dialect: Dialect) -> u32 {
    if dialect == Dialect::SMB202 || dialect == Dialect::WILDCARD {
        MAX_IO
    } else {
        MAX_LARGE_IO
    }
}

/// MS-SMB2 3.3.5.4: the cipher is the first of the client's list this server supports;
/// `None` when it lists none of them (the response then names cipher 0).
fn choose_cipher(offered: &[Cipher]) -> Option<Cipher> {
    offered
        .iter()
        .find(|c| Encryptor::SUPPORTED.contains(c))
        .copied()
}

/// MS-SMB2 3.3.5.4: the signing algorithm is the one this server prefers among those the
/// client lists (AES-GMAC, AES-CMAC, then HMAC-SHA256 for a client that offers only it);
/// AES-CMAC when there is none (or no SIGNING_CAPABILITIES context).
fn choose_signing(offered: &[SigningAlgorithm]) -> SigningAlgorithm {
    Signer::SMB311_SERVER_ALGORITHMS
        .iter()
        .find(|a| offered.contains(a))
        .copied()
        .unwrap_or(SigningAlgorithm::AES_CMAC)
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.4.
    pub(super) fn negotiate(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        // MS-SMB2 3.3.5.4: a second NEGOTIATE ends the connection; 3.3.5.2.4: a signed one
        // is invalid.
        if self.dialect.is_some() {
            return Err(Refusal::Disconnect);
        }
        if header.flags.contains(HeaderFlags::SIGNED) {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let (_, req) = NegotiateRequest::from_message(msg)?;
        let dialect = Dialect::highest_common(&req.dialects)
            .ok_or(Refusal::Status(NtStatus::NOT_SUPPORTED))?;
        let mut contexts = Vec::new();
        if dialect == Dialect::SMB311 {
            let sha512 = req.contexts.iter().any(|c| {
                matches!(c, NegotiateContext::PreauthIntegrity { hash_algorithms, .. }
                    if hash_algorithms.contains(&HashAlgorithm::SHA512))
            });
            if !sha512 {
                return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
            }
            contexts.push(NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HashAlgorithm::SHA512],
                // A failed system random source leaves zeros; getrandom does not fail on
                // Linux once the pool is initialised, which it is by the time a daemon serves.
                salt: crate::random::<32>().unwrap_or([0; 32]).to_vec(),
            });
            contexts.extend(self.security_contexts(&req.contexts));
        } else if dialect.is_smb3() && req.capabilities.contains(Capabilities::ENCRYPTION) {
            // MS-SMB2 3.3.5.4: a 3.0.x client that announces encryption gets AES-128-CCM.
            self.crypto.cipher = Some(Cipher::AES128_CCM);
        }
        let resp = self.negotiate_response(dialect, contexts);
        let out = self.reply(header, &resp, NtStatus::SUCCESS);
        if dialect == Dialect::SMB311 {
            self.preauth.update(msg);
            self.preauth.update(&out);
        }
        self.dialect = Some(dialect);
        let client = ValidateNegotiateInfoRequest::from(&req);
        if dialect >= Dialect::SMB210 {
            super::oplock::client_connected(client.guid, &self.events);
        }
        self.client = Some(client);
        Ok(out)
    }

    /// MS-SMB2 3.3.5.4 for 3.1.1: answers the client's ENCRYPTION_CAPABILITIES and
    /// SIGNING_CAPABILITIES contexts with the one cipher and algorithm chosen, and
    /// records them for the connection.
    fn security_contexts(&mut self, offered: &[NegotiateContext]) -> Vec<NegotiateContext> {
        let mut out = Vec::new();
        for context in offered {
            match context {
                NegotiateContext::Encryption(ciphers) => {
                    self.crypto.cipher = choose_cipher(ciphers);
                    let chosen = self.crypto.cipher.unwrap_or(Cipher::new(0));
                    out.push(NegotiateContext::Encryption(vec![chosen]));
                }
                NegotiateContext::Signing(algorithms) => {
                    self.crypto.signing = choose_signing(algorithms);
                    out.push(NegotiateContext::Signing(vec![self.crypto.signing]));
                }
                _ => {}
            }
        }
        out
    }

    /// The largest read, write or transaction this connection announced.
    pub(super) fn max_io(&self) -> u32 {
        max_io(self.dialect.unwrap_or_default())
    }

    fn negotiate_response(
        &self,
        dialect: Dialect,
        contexts: Vec<NegotiateContext>,
    ) -> NegotiateResponse {
        NegotiateResponse {
            security_mode: SECURITY_MODE,
            dialect,
            server_guid: self.config.server_guid,
            capabilities: capabilities(dialect),
            max_transact_size: max_io(dialect),
            max_read_size: max_io(dialect),
            max_write_size: max_io(dialect),
            system_time: filetime_now(),
            server_start_time: 0,
            security_buffer: spnego::acceptor_hints(self.config.kerberos.is_some()),
            contexts,
        }
    }

    /// MS-SMB2 3.3.5.3.1: an SMB1 SMB_COM_NEGOTIATE that lists SMB2 dialects, as a client
    /// sends it when it does not know what the server speaks. It is answered with an SMB2
    /// NEGOTIATE response: dialect 0x02FF ("SMB 2.???", after which the client sends an
    /// SMB2 NEGOTIATE with MessageId 1) when offered, else SMB 2.0.2 (the connection's
    /// dialect from then on). Only as a connection's first message; an SMB1-only client
    /// is not served.
    ///
    /// ```text
    /// SMB1 header (32): Protocol(4)=FF 'SMB' Command(1)=0x72 Status(4) Flags(1) Flags2(2)
    ///   PIDHigh(2) SecurityFeatures(8) Reserved(2) TID(2) PIDLow(2) UID(2) MID(2)
    /// WordCount(1)=0 ByteCount(2) Dialects: { BufferFormat(1)=0x02 DialectString (NUL) }*
    /// ```
    pub fn handle_smb1(&mut self, msg: &[u8]) -> Result<Step, SmbError> {
        let malformed = |why| SmbError::Malformed {
            what: "SMB1 NEGOTIATE",
            why,
        };
        if self.dialect.is_some() || !self.window.fresh() {
            return Err(malformed("SMB1 after the connection's first message"));
        }
        if msg.len() < 35 || msg[..4] != SMB1_PROTOCOL || msg[4] != SMB1_COM_NEGOTIATE {
            return Err(malformed("not an SMB1 NEGOTIATE"));
        }
        let count = usize::from(u16::from_le_bytes([msg[33], msg[34]]));
        let bytes = msg
            .get(35..35 + count)
            .ok_or(malformed("ByteCount past the message"))?;
        let dialects: Vec<&[u8]> = bytes
            .split(|b| *b == 0)
            .filter_map(|d| d.strip_prefix(&[0x02]))
            .collect();
        let dialect = if dialects.contains(&&b"SMB 2.???"[..]) {
            Dialect::WILDCARD
        } else if dialects.contains(&&b"SMB 2.002"[..]) {
            Dialect::SMB202
        } else {
            return Err(malformed("no SMB2 dialect offered (SMB1 is not served)"));
        };
        self.window.consume(0, 1)?;
        let credits = self.window.grant(1, 1);
        let header = Header {
            credits,
            ..Header::request(Command::NEGOTIATE)
        };
        let out = self.reply(
            &header,
            &self.negotiate_response(dialect, Vec::new()),
            NtStatus::SUCCESS,
        );
        if dialect == Dialect::SMB202 {
            self.dialect = Some(dialect);
        }
        Ok(Step::Reply(Some(out)))
    }

    /// MS-SMB2 3.3.5.15.12: the request must repeat this client's NEGOTIATE exactly (so its
    /// dialects lead to the same choice) on a 3.0.x connection, with room for the answer.
    pub(super) fn validate_negotiate(&self, req: &IoctlRequest) -> bool {
        let (Some(dialect), Some(client)) = (self.dialect, &self.client) else {
            return false;
        };
        let Ok(info) =
            ValidateNegotiateInfoRequest::read_bytes("VALIDATE_NEGOTIATE_INFO", &req.input)
        else {
            return false;
        };
        dialect != Dialect::SMB311 && req.max_output_response >= 24 && info == *client
    }
}

#[cfg(test)]
mod tests {
    use super::super::transform::tests::{config, reply};
    use super::*;

    /// NEGOTIATE offering `dialects` with client capabilities `caps` and `contexts`.
    fn negotiate(
        dialects: &[Dialect],
        caps: Capabilities,
        contexts: Vec<NegotiateContext>,
    ) -> (ServerConnection, NegotiateResponse) {
        let mut server = ServerConnection::new(config());
        let mut all = vec![NegotiateContext::PreauthIntegrity {
            hash_algorithms: vec![HashAlgorithm::SHA512],
            salt: vec![0; 32],
        }];
        all.extend(contexts);
        let request = NegotiateRequest {
            capabilities: caps,
            dialects: dialects.to_vec(),
            contexts: all,
            ..NegotiateRequest::default()
        };
        let out = reply(
            server
                .handle(&request.to_message(&Header::request(Command::NEGOTIATE)))
                .unwrap(),
        );
        (server, NegotiateResponse::from_message(&out).unwrap().1)
    }

    #[test]
    fn large_mtu_and_8_mib_from_2_1_on_one_credit_for_2_0_2() {
        for (dialect, max) in [
            (Dialect::SMB202, MAX_IO),
            (Dialect::SMB210, MAX_LARGE_IO),
            (Dialect::SMB302, MAX_LARGE_IO),
            (Dialect::SMB311, MAX_LARGE_IO),
        ] {
            let (server, resp) = negotiate(&[dialect], Capabilities::empty(), Vec::new());
            assert_eq!(
                (
                    resp.max_read_size,
                    resp.max_write_size,
                    resp.max_transact_size
                ),
                (max, max, max),
                "{dialect}"
            );
            assert_eq!(server.max_io(), max);
            assert!(resp.capabilities.contains(Capabilities::LARGE_MTU));
        }
    }

    #[test]
    fn smb_3_0_x_announces_encryption_and_uses_ccm_when_the_client_can() {
        let (server, resp) = negotiate(&[Dialect::SMB300], Capabilities::ENCRYPTION, Vec::new());
        // VALIDATE_NEGOTIATE_INFO repeats CAPABILITIES: it must be what NEGOTIATE said.
        assert_eq!(resp.capabilities, CAPABILITIES);
        assert_eq!(server.crypto.cipher, Some(Cipher::AES128_CCM));
        let (server, _) = negotiate(&[Dialect::SMB302], Capabilities::empty(), Vec::new());
        assert_eq!(server.crypto.cipher, None, "the client did not announce it");
        let (server, resp) = negotiate(&[Dialect::SMB210], Capabilities::ENCRYPTION, Vec::new());
        assert_eq!(server.crypto.cipher, None, "no encryption before 3.0");
        assert_eq!(resp.capabilities, CAPABILITIES);
    }

    #[test]
    fn smb_3_1_1_picks_the_clients_first_cipher_and_the_servers_preferred_signing_algorithm() {
        let offered = |ciphers: Vec<Cipher>, signing: Vec<SigningAlgorithm>| {
            negotiate(
                &[Dialect::SMB311],
                Capabilities::ENCRYPTION,
                vec![
                    NegotiateContext::Encryption(ciphers),
                    NegotiateContext::Signing(signing),
                ],
            )
        };
        let (server, resp) = offered(
            vec![Cipher::new(9), Cipher::AES256_CCM, Cipher::AES128_GCM],
            vec![SigningAlgorithm::HMAC_SHA256, SigningAlgorithm::AES_GMAC],
        );
        assert_eq!(server.crypto.cipher, Some(Cipher::AES256_CCM));
        assert_eq!(server.crypto.signing, SigningAlgorithm::AES_GMAC);
        assert!(
            resp.contexts
                .contains(&NegotiateContext::Encryption(vec![Cipher::AES256_CCM]))
        );
        assert!(
            resp.contexts
                .contains(&NegotiateContext::Signing(vec![SigningAlgorithm::AES_GMAC]))
        );
        assert!(!resp.capabilities.contains(Capabilities::ENCRYPTION));
        // HMAC-SHA256 alone is taken (signed with the derived key).
        let (server, _) = offered(
            vec![Cipher::AES128_GCM],
            vec![SigningAlgorithm::HMAC_SHA256],
        );
        assert_eq!(server.crypto.signing, SigningAlgorithm::HMAC_SHA256);
        // No cipher in common: cipher 0 answered, no encryption; AES-CMAC by default.
        let (server, resp) = offered(vec![Cipher::new(9)], vec![SigningAlgorithm::new(7)]);
        assert_eq!(server.crypto.cipher, None);
        assert_eq!(server.crypto.signing, SigningAlgorithm::AES_CMAC);
        assert!(
            resp.contexts
                .contains(&NegotiateContext::Encryption(vec![Cipher::new(0)]))
        );
        // No contexts at all: neither is answered.
        let (server, resp) = negotiate(&[Dialect::SMB311], Capabilities::empty(), Vec::new());
        assert_eq!(server.crypto.cipher, None);
        assert_eq!(resp.contexts.len(), 1, "the preauth context only");
    }
}
