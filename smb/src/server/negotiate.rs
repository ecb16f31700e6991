//! MS-SMB2 3.3.5.4 NEGOTIATE, and 3.3.5.15.12 VALIDATE_NEGOTIATE_INFO, which repeats it.

use adjoin_auth::gss::spnego;
use adjoin_auth::ntlm::filetime_now;
use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;

use super::{CAPABILITIES, Refusal, SECURITY_MODE, ServerConnection};
use crate::proto::{
    Body, Dialect, HashAlgorithm, Header, HeaderFlags, IoctlRequest, MAX_IO, NegotiateContext,
    NegotiateRequest, NegotiateResponse, ValidateNegotiateInfoRequest,
};

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
        let resp = NegotiateResponse {
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
        };
        let out = self.reply(header, &resp, NtStatus::SUCCESS);
        if dialect == Dialect::SMB311 {
            self.preauth.update(msg);
            self.preauth.update(&out);
        }
        self.dialect = Some(dialect);
        self.client = Some(ValidateNegotiateInfoRequest::from(&req));
        Ok(out)
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
