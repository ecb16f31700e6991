//! MS-SMB2 3.3.5.5.3 re-authentication: a SESSION_SETUP on an established session runs a
//! new exchange (Kerberos, or NTLM through the DC) while the session keeps serving with its
//! keys. The first legs and the NTLM verification are `session`'s.

use adjoin_rpc::ntstatus::NtStatus;

use super::session::{NtlmLeg, Started, refused};
use super::token::LogonIdentity;
use super::{ServerConnection, Step, binding};
use crate::proto::Header;

impl ServerConnection {
    /// MS-SMB2 3.3.5.5.3: a SESSION_SETUP on an established session re-authenticates it
    /// (as Windows clients do before a Kerberos ticket ends). The session keeps serving
    /// and keeps its keys; the new logon's user is the one new trees and opens run as
    /// (an open keeps the user it was opened by). A failed re-authentication ends the
    /// session. Re-authenticating as anonymous is taken (it only gives up rights).
    pub(super) fn reauthenticate(&mut self, header: &Header, token: &[u8]) -> Step {
        match self.reauth_leg(header, token) {
            Ok(step) => step,
            Err(status) => Step::Reply(Some(self.reauth_failed(header, status))),
        }
    }

    fn reauth_leg(&mut self, header: &Header, token: &[u8]) -> Result<Step, NtStatus> {
        let id = header.session_id;
        let state = self.sessions.get_mut(&id).and_then(|s| s.reauth.take());
        let leg = match state {
            Some(state) => self.ntlm_leg(state, token)?,
            None => match self.start_auth(token)? {
                Started::Kerberos(logon) => {
                    tracing::info!(user = %logon.client, session_id = id, "SMB session re-authenticated (Kerberos)");
                    self.reauthenticated(id, logon.identity);
                    let out = self.setup_reply(header, id, logon.reply, NtStatus::SUCCESS);
                    return Ok(Step::Reply(Some(out)));
                }
                Started::Ntlm(auth, out) => NtlmLeg::More(auth, out),
            },
        };
        match leg {
            NtlmLeg::More(auth, out) => {
                if let Some(session) = self.sessions.get_mut(&id) {
                    session.reauth = Some(auth);
                }
                let status = NtStatus::MORE_PROCESSING_REQUIRED;
                Ok(Step::Reply(Some(self.setup_reply(header, id, out, status))))
            }
            NtlmLeg::Authenticate(spnego) if spnego.logon().is_anonymous() => {
                let out = spnego.complete_anonymous().map_err(|e| refused(&e))?;
                tracing::info!(session_id = id, "SMB session re-authenticated as anonymous");
                self.reauthenticated(id, None);
                Ok(Step::Reply(Some(self.setup_reply(
                    header,
                    id,
                    out,
                    NtStatus::SUCCESS,
                ))))
            }
            NtlmLeg::Authenticate(spnego) => Ok(self.verify(header, spnego, 0, true)),
        }
    }

    /// A re-authentication refused: the session ends (3.3.5.5.3), its waiting requests
    /// answered first; the answer is signed with its key, as the client expects.
    pub(super) fn reauth_failed(&mut self, header: &Header, status: NtStatus) -> Vec<u8> {
        let id = header.session_id;
        tracing::info!(session_id = id, %status, "a re-authentication failed: the session is ended");
        let out = self.error(header, status);
        self.end_session(id);
        out
    }

    /// Session `id` re-authenticated as `identity` (`None`: anonymous, or no identity
    /// this server can map): its new trees and opens run as that user.
    pub(super) fn reauthenticated(&mut self, id: u64, identity: Option<LogonIdentity>) {
        let user_sid = identity.as_ref().map(|i| i.user_sid.clone());
        let token = identity.and_then(|identity| self.map_token(identity));
        let channel = self.channel();
        let owner = self.owner(user_sid.as_ref());
        if let Some(session) = self.sessions.get_mut(&id) {
            session.token = token;
            let signer = session.signer().cloned();
            session.channel = Some(binding::register(id, channel, signer, owner));
        }
    }
}
