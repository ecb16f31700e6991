//! Password logons for PAM: Kerberos AS with the user's password, then a ticket for this
//! host's own `host/` principal checked with the keytab (so a spoofed KDC cannot log
//! anyone in) whose PAC gives her groups; account checks; sessions (her ccache, her home
//! directory); password changes through kpasswd; offline logons with a cached verifier.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use adjoin_auth::ccache::CredentialCache;
use adjoin_auth::crypto::KeyUsage;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::ap_req::{self, ApReqParts};
use adjoin_auth::krb::kdc;
use adjoin_auth::krb::kpasswd::{self, KpasswdError};
use adjoin_auth::krb::{
    Acceptor, AccountState, AsExchange, AsOptions, ClientSecret, Credentials, KerberosError,
};
use adjoin_auth::principal::PrincipalName;
use adjoin_idproto::{PamReply, PamStatus};
use adjoin_registry::{Registry, Value};
use tracing::{info, warn};
use zeroize::Zeroizing;

use crate::cache::{UserRecord, create_private_dir};
use crate::directory::UAC_ACCOUNTDISABLE;
use crate::error::{IdentityError, kerberos_unreachable};
use crate::service::{Identity, unix_now};
use crate::verifier::{ITERATIONS, VERIFIERS_KEY, Verifier};

/// Logons whose session has not opened yet keep their TGT this long.
const SESSION_TTL: Duration = Duration::from_secs(300);
/// At most this many TGTs wait for their session.
const MAX_PENDING: usize = 256;

/// What a PAM conversation leaves between its requests: TGTs waiting for their session
/// (authenticate -> open_session) and users who must change their password. The daemon
/// keeps one for its life and hands it to each [`Logons`] it builds, so a logon that spans
/// a reload of the service (new settings, new trusted domains, a rotated machine password)
/// still gets its ticket.
#[derive(Debug, Default)]
pub struct Conversations {
    pending: Mutex<HashMap<String, (Credentials, Instant)>>,
    must_change: Mutex<HashMap<String, Instant>>,
}

/// What the PAM side of the daemon holds: the identity service, the registry (for
/// verifiers), the keytab acceptor, and the conversations in progress.
#[derive(Debug)]
pub struct Logons {
    identity: Arc<Identity>,
    registry: Arc<Mutex<Registry>>,
    acceptor: Mutex<Option<Acceptor>>,
    conversations: Arc<Conversations>,
}

fn reply(status: PamStatus, message: impl Into<String>, user: &str) -> PamReply {
    PamReply {
        status,
        message: message.into(),
        user: user.to_owned(),
        env: Vec::new(),
    }
}

impl Logons {
    /// Logons for `identity`, with verifiers in `registry` and the conversations in
    /// progress in `conversations`; the keytab is read from the member's keytab path.
    pub fn new(
        identity: Arc<Identity>,
        registry: Registry,
        conversations: Arc<Conversations>,
    ) -> Self {
        let acceptor = identity
            .member()
            .keytab
            .as_deref()
            .and_then(|p| Keytab::load(p).map_err(|e| warn!(keytab = %p.display(), error = %e, "no keytab: logons cannot be verified")).ok())
            .map(Acceptor::new);
        Self {
            identity,
            registry: Arc::new(Mutex::new(registry)),
            acceptor: Mutex::new(acceptor),
            conversations,
        }
    }

    /// The user a PAM caller names, or the reply that says why there is none: unknown
    /// (a local user: PAM moves on to the next module), or no DC and nothing cached.
    async fn user(&self, typed: &str) -> Result<UserRecord, PamReply> {
        match self.identity.user_by_name(typed).await {
            Ok(Some(u)) => Ok(u),
            Ok(None) => Err(reply(PamStatus::UserUnknown, "", typed)),
            Err(e) => Err(reply(
                PamStatus::AuthinfoUnavail,
                format!("Cannot look up {typed}: {e}"),
                typed,
            )),
        }
    }

    fn client(&self, user: &UserRecord) -> PrincipalName {
        PrincipalName::new(
            PrincipalName::NT_PRINCIPAL,
            [user.sam.clone()],
            self.identity.realm_of(&user.sid),
        )
    }

    /// PAM auth: is `password` hers?
    pub async fn authenticate(&self, typed: &str, password: &str) -> PamReply {
        let user = match self.user(typed).await {
            Ok(u) => u,
            Err(refused) => return refused,
        };
        let name = user.passwd.name.clone();
        if self.identity.offline() {
            return self.offline_logon(&user, password);
        }
        match self.online_logon(&user, password).await {
            Ok(()) => {
                if user.pwd_last_set == 0 {
                    // The KDC took her password, so the cached "must change" is out of date.
                    let _ = self.identity.refresh_user(&user).await;
                }
                self.store_verifier(&user, password);
                info!(user = %name, "logon");
                reply(PamStatus::Success, "", &name)
            }
            Err(LogonFailure::Unreachable) => self.offline_logon(&user, password),
            Err(LogonFailure::MustChange) => {
                self.conversations
                    .must_change
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name.clone(), Instant::now());
                reply(
                    PamStatus::Success,
                    "Your password has expired: you must change it now.",
                    &name,
                )
            }
            Err(LogonFailure::Refused(status, message)) => {
                info!(user = %name, ?status, "logon refused");
                reply(status, message, &name)
            }
        }
    }

    async fn online_logon(&self, user: &UserRecord, password: &str) -> Result<(), LogonFailure> {
        // Her own realm's KDCs: a trusted domain's user gets her TGT from her domain's DC.
        let kdcs = self
            .identity
            .kdcs_of(&user.sid)
            .await
            .map_err(|_| LogonFailure::Unreachable)?;
        let secret = ClientSecret::Password(Zeroizing::new(password.to_owned()));
        let exchange = AsExchange::new(self.client(user), secret, AsOptions::default());
        let tgt = match kdc::initial_credentials(exchange, &kdcs, &SystemTime::now).await {
            Ok(tgt) => tgt,
            Err(KerberosError::PasswordExpired { .. }) => {
                return self.check_expired(user, password, &kdcs).await;
            }
            Err(e) => return Err(LogonFailure::from_kerberos(&e)),
        };
        let gids = self.verify_tgt(&tgt, user, &kdcs).await?;
        if let Err(e) = self.identity.store_memberships(user, gids) {
            warn!(error = %e, "cannot cache the PAC's groups");
        }
        let mut pending = self
            .conversations
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, (_, at)| at.elapsed() < SESSION_TTL);
        if pending.len() < MAX_PENDING {
            pending.insert(user.passwd.name.clone(), (tgt, Instant::now()));
        }
        Ok(())
    }

    /// KDC_ERR_KEY_EXPIRED: the KDC still gives a kadmin/changepw ticket for the right
    /// password, which proves it before she is asked to change it.
    async fn check_expired(
        &self,
        user: &UserRecord,
        password: &str,
        kdcs: &kdc::KdcConfig,
    ) -> Result<(), LogonFailure> {
        let secret = ClientSecret::Password(Zeroizing::new(password.to_owned()));
        match kpasswd::changepw_credentials(self.client(user), secret, kdcs).await {
            Ok(_) => Err(LogonFailure::MustChange),
            Err(KpasswdError::Kerberos(e)) => Err(LogonFailure::from_kerberos(&e)),
            Err(e) => Err(LogonFailure::Refused(PamStatus::AuthErr, e.to_string())),
        }
    }

    /// Gets a ticket for `host/FQDN` with her TGT and accepts it with the keytab: only the
    /// real KDC knows this host's key. Returns the gids of the PAC's groups.
    async fn verify_tgt(
        &self,
        tgt: &Credentials,
        user: &UserRecord,
        kdcs: &kdc::KdcConfig,
    ) -> Result<Vec<u32>, LogonFailure> {
        let m = self.identity.member();
        let host = PrincipalName::new(
            PrincipalName::NT_SRV_INST,
            ["host", m.fqdn.as_str()],
            m.realm.as_str(),
        );
        // A trusted domain's user: her realm's KDC refers the request to this one's.
        let mut known = vec![(tgt.client.realm.clone(), kdcs.clone())];
        if !tgt.client.realm.eq_ignore_ascii_case(&m.realm) {
            let home = self
                .identity
                .kdcs()
                .await
                .map_err(|_| LogonFailure::Unreachable)?;
            known.push((m.realm.clone(), home));
        }
        let ticket = kdc::service_ticket_via_referrals(
            tgt.clone(),
            host,
            &kdc::KnownKdcs(known),
            &SystemTime::now,
        )
        .await
        .map_err(|e| LogonFailure::from_kerberos(&e))?;
        let now = SystemTime::now();
        let ap = ap_req::build(&ticket, &ApReqParts::default(), KeyUsage::AP_REQ_AUTH, now)
            .map_err(|e| LogonFailure::from_kerberos(&e))?;
        let accepted = {
            let mut acceptor = self.acceptor.lock().unwrap_or_else(|e| e.into_inner());
            let Some(acceptor) = acceptor.as_mut() else {
                return Err(LogonFailure::Refused(
                    PamStatus::AuthinfoUnavail,
                    "This host has no keytab to verify the domain controller: rejoin with --keytab.".into(),
                ));
            };
            acceptor.accept(&ap, now).map_err(|e| {
                warn!(error = %e, "the KDC's ticket for this host does not verify: refusing the logon");
                LogonFailure::Refused(PamStatus::AuthErr, "The domain controller could not be verified.".into())
            })?
        };
        let Some(pac) = accepted.pac else {
            return Ok(vec![user.passwd.gid]);
        };
        if pac.user_sid().ok().as_ref() != Some(&user.sid) {
            return Err(LogonFailure::Refused(
                PamStatus::AuthErr,
                "The ticket names another user.".into(),
            ));
        }
        let sids: Vec<_> = pac
            .group_sids()
            .map(|g| g.into_iter().map(|g| g.sid).collect())
            .unwrap_or_default();
        self.identity
            .gids_of_sids(&sids)
            .await
            .map_err(|e| LogonFailure::Refused(PamStatus::AuthinfoUnavail, e.to_string()))
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores her offline verifier on a blocking thread after the reply has gone: the
    /// slow hash is not on the logon's path.
    fn store_verifier(&self, user: &UserRecord, password: &str) {
        if !self.identity.settings().offline_logon {
            return;
        }
        let registry = Arc::clone(&self.registry);
        let password = Zeroizing::new(password.to_owned());
        let (sid, pwd_last_set) = (user.sid.to_string(), user.pwd_last_set);
        tokio::task::spawn_blocking(move || {
            let made = Verifier::new(&password, ITERATIONS, pwd_last_set, unix_now());
            let result = made.map_err(|e| e.to_string()).and_then(|v| {
                let registry = registry.lock().unwrap_or_else(|e| e.into_inner());
                registry
                    .set_value(VERIFIERS_KEY, &sid, &Value::Sz(v.encode().to_string()))
                    .map_err(|e| e.to_string())
            });
            if let Err(e) = result {
                warn!(error = %e, "cannot store the offline verifier");
            }
        });
    }

    fn verifier(&self, user: &UserRecord) -> Option<Verifier> {
        match self
            .registry()
            .stored_value(VERIFIERS_KEY, &user.sid.to_string())
        {
            Ok(Some(Value::Sz(ref text))) => Verifier::decode(text),
            _ => None,
        }
    }

    fn offline_logon(&self, user: &UserRecord, password: &str) -> PamReply {
        let name = &user.passwd.name;
        let settings = self.identity.settings();
        let unavailable = |why: &str| {
            reply(
                PamStatus::AuthinfoUnavail,
                format!("No domain controller answers and {why}."),
                name,
            )
        };
        if !settings.offline_logon {
            return unavailable("offline logon is turned off (Identity\\OfflineLogon)");
        }
        let Some(v) = self.verifier(user) else {
            return unavailable("you have not logged on here online before");
        };
        let max_age = u64::from(settings.offline_days) * 86_400;
        if max_age != 0 && unix_now().saturating_sub(v.stored_at) > max_age {
            return unavailable("your last online logon here is too long ago");
        }
        if v.pwd_last_set < user.pwd_last_set {
            return unavailable("your password was changed since your last online logon");
        }
        if user.uac & UAC_ACCOUNTDISABLE != 0 {
            return reply(
                PamStatus::PermDenied,
                "Your account is disabled: ask a domain administrator.",
                name,
            );
        }
        if v.matches(password) {
            info!(user = %name, "offline logon with the cached verifier");
            reply(
                PamStatus::Success,
                "Logged on with cached credentials: the domain controller cannot be reached.",
                name,
            )
        } else {
            reply(PamStatus::AuthErr, "", name)
        }
    }

    /// PAM account: disabled, must change, or not in an allowed group.
    pub async fn account_check(&self, typed: &str) -> PamReply {
        let user = match self.user(typed).await {
            Ok(u) => u,
            Err(refused) => return refused,
        };
        let name = user.passwd.name.clone();
        if user.uac & UAC_ACCOUNTDISABLE != 0 {
            return reply(
                PamStatus::AcctExpired,
                "Your account is disabled: ask a domain administrator.",
                &name,
            );
        }
        let flagged = {
            let mut must = self
                .conversations
                .must_change
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            must.retain(|_, at| at.elapsed() < SESSION_TTL);
            must.contains_key(&name)
        };
        if flagged || user.pwd_last_set == 0 {
            return reply(
                PamStatus::NewAuthtokReqd,
                "Your password has expired: you must change it now.",
                &name,
            );
        }
        let allow = &self.identity.settings().allow_groups;
        if !allow.is_empty() && !self.in_allowed_group(&user, allow).await {
            return reply(
                PamStatus::PermDenied,
                "You are not a member of a group allowed to log on to this computer.",
                &name,
            );
        }
        reply(PamStatus::Success, "", &name)
    }

    async fn in_allowed_group(&self, user: &UserRecord, allow: &[String]) -> bool {
        let Ok(gids) = self.identity.groups_of(user).await else {
            return false;
        };
        for typed in allow {
            if let Ok(Some(g)) = self.identity.group_by_name(typed).await
                && gids.contains(&g.group.gid)
            {
                return true;
            }
        }
        false
    }

    /// PAM session open: her ccache (from the logon's TGT) and her home directory.
    pub async fn open_session(&self, typed: &str) -> PamReply {
        let user = match self.user(typed).await {
            Ok(u) => u,
            Err(refused) => return refused,
        };
        let name = user.passwd.name.clone();
        let mut out = reply(PamStatus::Success, "", &name);
        if self.identity.settings().create_home
            && let Err(e) = create_home(&user)
        {
            warn!(error = %e, "cannot create the home directory");
            out.message = format!("Cannot create your home directory: {e}");
        }
        let tgt = self
            .conversations
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name);
        if let Some((tgt, _)) = tgt {
            match write_ccache(&tgt, &user) {
                Ok(path) => out
                    .env
                    .push(("KRB5CCNAME".into(), format!("FILE:{}", path.display()))),
                Err(e) => {
                    warn!(error = %e, "cannot write the credential cache");
                    out.message = format!("Cannot store your Kerberos ticket: {e}");
                }
            }
        }
        out
    }

    /// PAM password: change hers through kpasswd (the DC's policy message on refusal).
    pub async fn change_password(&self, typed: &str, old: &str, new: &str) -> PamReply {
        let user = match self.user(typed).await {
            Ok(u) => u,
            Err(refused) => return refused,
        };
        let name = user.passwd.name.clone();
        let kdcs = match self.identity.kdcs().await {
            Ok(k) => k,
            Err(e) => {
                return reply(
                    PamStatus::AuthinfoUnavail,
                    format!("No domain controller answers: {e}"),
                    &name,
                );
            }
        };
        let servers = kpasswd::kpasswd_servers(&kdcs);
        match kpasswd::change_password(
            self.client(&user),
            Zeroizing::new(old.to_owned()),
            new,
            &kdcs,
            &servers,
        )
        .await
        {
            Ok(()) => {
                self.conversations
                    .must_change
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&name);
                if let Err(e) = self.identity.refresh_user(&user).await {
                    warn!(error = %e, "cannot refresh the account after its password change");
                }
                // The old verifier is void; the next online logon stores a new one.
                let _ = self
                    .registry()
                    .delete_value(VERIFIERS_KEY, &user.sid.to_string());
                info!(user = %name, "password changed");
                reply(PamStatus::Success, "Your password has been changed.", &name)
            }
            Err(KpasswdError::WrongOldPassword { .. }) => reply(
                PamStatus::AuthtokErr,
                "The current password is wrong.",
                &name,
            ),
            Err(e) => reply(
                PamStatus::AuthtokErr,
                format!("The password was not changed: {e}"),
                &name,
            ),
        }
    }
}

/// Why an online logon did not succeed.
#[derive(Debug)]
enum LogonFailure {
    /// No KDC answered: try offline.
    Unreachable,
    /// The password is right but expired.
    MustChange,
    /// Refused with this status and message.
    Refused(PamStatus, String),
}

impl LogonFailure {
    fn from_kerberos(e: &KerberosError) -> Self {
        if kerberos_unreachable(e) {
            return Self::Unreachable;
        }
        let (status, message) = match e {
            KerberosError::WrongPassword { .. } => (PamStatus::AuthErr, String::new()),
            KerberosError::UnknownPrincipal { .. } => (PamStatus::UserUnknown, String::new()),
            KerberosError::AccountUnusable { state, .. } => match state {
                AccountState::Disabled => (PamStatus::PermDenied, "Your account is disabled: ask a domain administrator.".into()),
                AccountState::LockedOut => (PamStatus::PermDenied, "Your account is locked out after too many wrong passwords: wait, or ask a domain administrator.".into()),
                AccountState::Expired => (PamStatus::AcctExpired, "Your account has expired: ask a domain administrator.".into()),
                AccountState::Restricted => (PamStatus::PermDenied, "You may not log on at this time or from this computer.".into()),
                _ => (PamStatus::PermDenied, "The domain refuses your account: ask a domain administrator.".into()),
            },
            KerberosError::ClockSkew { .. } => (PamStatus::AuthinfoUnavail, format!("This computer's clock is wrong: {e}")),
            other => (PamStatus::AuthErr, format!("Logon failed: {other}")),
        };
        Self::Refused(status, message)
    }
}

fn create_home(user: &UserRecord) -> Result<(), IdentityError> {
    let dir = Path::new(&user.passwd.dir);
    if dir.exists() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|source| file_error("cannot create", parent, source))?;
    }
    create_private_dir(dir)?;
    std::os::unix::fs::chown(dir, Some(user.passwd.uid), Some(user.passwd.gid))
        .map_err(|source| file_error("cannot give the home directory to its user", dir, source))
}

/// Writes her TGT to a fresh `/tmp/krb5cc_UID_RANDOM`, 0600, owned by her.
fn write_ccache(tgt: &Credentials, user: &UserRecord) -> Result<PathBuf, IdentityError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut cache = CredentialCache::new(tgt.client.clone());
    cache.store(tgt.to_ccache());
    let bytes = cache
        .to_bytes()
        .map_err(|e| IdentityError::Directory(e.to_string()))?;
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).map_err(|e| IdentityError::Directory(e.to_string()))?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = PathBuf::from(format!("/tmp/krb5cc_{}_{suffix}", user.passwd.uid));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| file_error("cannot create", &path, source))?;
    file.write_all(&bytes)
        .map_err(|source| file_error("cannot write", &path, source))?;
    std::os::unix::fs::fchown(&file, Some(user.passwd.uid), Some(user.passwd.gid))
        .map_err(|source| file_error("cannot give the ccache to its user", &path, source))?;
    Ok(path)
}

fn file_error(what: &'static str, path: &Path, source: std::io::Error) -> IdentityError {
    IdentityError::File {
        what,
        path: path.display().to_string(),
        source,
    }
}
