//! Sessions known server-wide (MS-SMB2 3.3.1.5 `GlobalSessionTable`), so that a
//! SESSION_SETUP with SMB2_SESSION_FLAG_BINDING on another connection is answered as
//! Windows and Samba answer it (3.3.5.5). This server binds no second channel to a
//! session (it does not announce SMB2_GLOBAL_CAP_MULTI_CHANNEL): a binding request that
//! passes every check is refused with STATUS_REQUEST_NOT_ACCEPTED, one that fails a
//! check with the status naming it.
//!
//! Session ids come from one counter for the process, so an id names one session
//! whichever connection a client sends it on. The table holds a weak reference to each
//! session's facts: a session that ends (logoff, a refused logon, its connection gone)
//! drops out without every path having to say so; dead entries are swept as the table
//! grows, so it stays within twice the sessions alive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use adjoin_rpc::ntstatus::NtStatus;

use adjoin_rpc::ndr::Sid;

use super::oplock::Notifier;
use crate::proto::{Cipher, Dialect, SigningAlgorithm};
use crate::signing::Signer;

/// Who an authenticated session belongs to, and the connection it lives on (a newer
/// session of the same user naming it as its `PreviousSessionId` ends it there).
#[derive(Debug, Clone)]
pub(super) struct Owner {
    pub(super) user_sid: Sid,
    pub(super) notify: Notifier,
}

/// What a binding request is checked against: the connection a session was set up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Channel {
    pub(super) dialect: Dialect,
    /// HMAC-SHA256 for 2.x, AES-CMAC for 3.0.x, as negotiated for 3.1.1.
    pub(super) signing: SigningAlgorithm,
    pub(super) cipher: Option<Cipher>,
}

/// A session as the table knows it: where it was set up and, once it has authenticated,
/// its signing key (a refusal of a binding is signed with it, as the client checks).
#[derive(Debug)]
pub(super) struct Known {
    channel: Channel,
    signer: Option<Signer>,
    owner: Option<Owner>,
}

#[derive(Default)]
struct Table {
    sessions: HashMap<u64, Weak<Known>>,
    sweep_at: usize,
}

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A session id no other session of this process has had.
pub(super) fn new_session_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Records session `id`, set up on a connection with `channel` (and signing with
/// `signer` once authenticated; registering again replaces what was known); the session
/// keeps the returned handle for as long as it lives.
pub(super) fn register(
    id: u64,
    channel: Channel,
    signer: Option<Signer>,
    owner: Option<Owner>,
) -> Arc<Known> {
    let channel = Arc::new(Known {
        channel,
        signer,
        owner,
    });
    let mut table = table();
    if table.sessions.len() >= table.sweep_at {
        table.sessions.retain(|_, c| c.strong_count() > 0);
        table.sweep_at = (table.sessions.len() * 2).max(1024);
    }
    table.sessions.insert(id, Arc::downgrade(&channel));
    channel
}

/// Why a binding of session `id` on a connection with `here` is refused (`signed`: the
/// request carried a signature), and the session's signing key to sign the refusal
/// with. In Samba's order, which the Windows behaviour smbtorture's
/// smb2.session.bind_negative_* checks agrees with.
pub(super) fn refuse_binding(id: u64, here: Channel, signed: bool) -> (NtStatus, Option<Signer>) {
    if id == 0 {
        return (NtStatus::INVALID_PARAMETER, None);
    }
    let Some(known) = table().sessions.get(&id).and_then(Weak::upgrade) else {
        return (NtStatus::USER_SESSION_DELETED, None);
    };
    (check(&known.channel, here, signed), known.signer.clone())
}

/// MS-SMB2 3.3.5.5.3: the connection of session `id`, if it is alive and `user`'s, so
/// that a new session naming it as its `PreviousSessionId` can end it.
pub(super) fn previous_session(id: u64, user: &Sid) -> Option<Notifier> {
    let known = table().sessions.get(&id).and_then(Weak::upgrade)?;
    let owner = known.owner.as_ref()?;
    (owner.user_sid == *user).then(|| owner.notify.clone())
}

fn check(session: &Channel, here: Channel, signed: bool) -> NtStatus {
    let gmac = SigningAlgorithm::AES_GMAC.value();
    if session.signing.value() >= gmac && here.signing != session.signing {
        return NtStatus::REQUEST_OUT_OF_SEQUENCE;
    }
    if here.signing.value() >= gmac && here.signing != session.signing {
        return NtStatus::NOT_SUPPORTED;
    }
    if !here.dialect.is_smb3() {
        return NtStatus::REQUEST_NOT_ACCEPTED;
    }
    if !signed || session.dialect != here.dialect || session.cipher != here.cipher {
        return NtStatus::INVALID_PARAMETER;
    }
    // Every check holds: a second channel would be bound here; this server binds none.
    NtStatus::REQUEST_NOT_ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(dialect: Dialect, signing: SigningAlgorithm, cipher: Option<Cipher>) -> Channel {
        Channel {
            dialect,
            signing,
            cipher,
        }
    }

    #[test]
    fn a_binding_is_refused_with_the_status_naming_the_first_mismatch() {
        let gcm = Some(Cipher::AES128_GCM);
        let g311 = channel(Dialect::SMB311, SigningAlgorithm::AES_GMAC, gcm);
        let c311 = channel(Dialect::SMB311, SigningAlgorithm::AES_CMAC, gcm);
        let id = new_session_id();
        let session = register(id, g311, None, None);
        assert_eq!(refuse_binding(0, g311, true).0, NtStatus::INVALID_PARAMETER);
        assert_eq!(
            refuse_binding(new_session_id(), g311, true).0,
            NtStatus::USER_SESSION_DELETED
        );
        assert_eq!(
            refuse_binding(id, c311, true).0,
            NtStatus::REQUEST_OUT_OF_SEQUENCE
        );
        let smb21 = channel(Dialect::SMB210, SigningAlgorithm::HMAC_SHA256, None);
        assert_eq!(
            refuse_binding(id, smb21, true).0,
            NtStatus::REQUEST_OUT_OF_SEQUENCE
        );
        let ccm = channel(
            Dialect::SMB311,
            SigningAlgorithm::AES_GMAC,
            Some(Cipher::AES128_CCM),
        );
        assert_eq!(refuse_binding(id, ccm, true).0, NtStatus::INVALID_PARAMETER);
        assert_eq!(
            refuse_binding(id, g311, false).0,
            NtStatus::INVALID_PARAMETER
        );
        assert_eq!(
            refuse_binding(id, g311, true).0,
            NtStatus::REQUEST_NOT_ACCEPTED
        );
        // A CMAC session bound from a GMAC connection: not supported.
        let id2 = new_session_id();
        let _cmac = register(id2, c311, None, None);
        assert_eq!(refuse_binding(id2, g311, true).0, NtStatus::NOT_SUPPORTED);
        // 2.x connections cannot bind; a 3.0.2 session from 3.1.1 is another dialect.
        let id3 = new_session_id();
        let _s302 = register(
            id3,
            channel(Dialect::SMB302, SigningAlgorithm::AES_CMAC, None),
            None,
            None,
        );
        let c311_clear = channel(Dialect::SMB311, SigningAlgorithm::AES_CMAC, None);
        assert_eq!(
            refuse_binding(id3, c311_clear, true).0,
            NtStatus::INVALID_PARAMETER
        );
        let c210 = channel(Dialect::SMB210, SigningAlgorithm::AES_CMAC, None);
        assert_eq!(
            refuse_binding(id3, c210, true).0,
            NtStatus::REQUEST_NOT_ACCEPTED
        );
        // A session that ended is gone.
        drop(session);
        assert_eq!(
            refuse_binding(id, g311, true).0,
            NtStatus::USER_SESSION_DELETED
        );
    }
}
