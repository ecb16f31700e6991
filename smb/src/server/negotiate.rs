//! MS-SMB2 3.3.5.4 NEGOTIATE, and 3.3.5.15.12 VALIDATE_NEGOTIATE_INFO, which repeats it.

use adjoin_auth::gss::spnego;
use adjoin_auth::ntlm::filetime_now;
use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;

use super::{CAPABILITIES, Refusal, SECURITY_MODE, ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{
    Body, Command, Dialect, HashAlgorithm, Header, HeaderFlags, IoctlRequest, MAX_IO,
    NegotiateContext, NegotiateRequest, NegotiateResponse, ValidateNegotiateInfoRequest,
};

/// The SMB1 protocol id (MS-CIFS 2.2.3.1).
pub(super) const SMB1_PROTOCOL: [u8; 4] = [0xff, b'S', b'M', b'B'];
/// SMB_COM_NEGOTIATE.
const SMB1_COM_NEGOTIATE: u8 = 0x72;

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
        }
        let resp = self.negotiate_response(dialect, contexts);
        let out = self.reply(header, &resp, NtStatus::SUCCESS);
        if dialect == Dialect::SMB311 {
            self.preauth.update(msg);
            self.preauth.update(&out);
        }
        self.dialect = Some(dialect);
        self.client = Some(ValidateNegotiateInfoRequest::from(&req));
        Ok(out)
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
            capabilities: CAPABILITIES,
            max_transact_size: MAX_IO,
            max_read_size: MAX_IO,
            max_write_size: MAX_IO,
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
        let credits = self.window.grant(1);
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
