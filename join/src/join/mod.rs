//! The join: make this machine a member of an AD domain under the names the admin chose,
//! and record it in the registry — all of it, or (on failure) none of it.
//!
//! Steps, each reported to the caller's progress function as adcli does:
//! 1. discover a DC (DNS SRV + CLDAP ping) — or use `--server`;
//! 2. log on as the admin (AS exchange);
//! 3. bind to the DC's LDAP with SASL GSSAPI, sealed;
//! 4. read the domain: naming context, domain SID, the Computers container;
//! 5. create the computer object (or, with `reuse_account`, update the existing one);
//! 6. set a random 120-character machine password (kpasswd set-password);
//! 7. read back the key version number;
//! 8. verify: an AS exchange as `NAME$` with the new keys;
//! 9. write the keytab (temp file + rename);
//! 10. commit everything to the registry in one transaction.
//!
//! A failure deletes a computer object this join created, restores the keytab it replaced,
//! leaves the registry as it was, and names the step and the cause.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::SystemTime;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::kpasswd;
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::Registry;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::discover::{self, DiscoverOptions, DomainController};
use crate::ldap::Connection;
use crate::machine;
use crate::names::MachineNames;

mod account;
mod dc;
mod dns;
mod keys;
mod leave;
mod rename;
mod repair;
mod rotate;
mod setname;
mod state;
mod testjoin;

pub use dns::{DnsRegistration, dns_update, refresh_dns};
pub use leave::{LeaveRequest, leave};
pub use repair::{Repair, repair};
pub use rotate::{RotateMethod, rotate};
pub use setname::setname;
pub use state::{JoinState, STATE_VALUES, query};
pub(crate) use state::{recorded, stored_password};
pub use testjoin::{Drift, JoinCheck, testjoin};

use account::{bind, read_domain, read_kvno};
use keys::{verify, write_keytab};
use state::save;

/// The registry key the join state lives under.
pub const JOIN_KEY: &str = r"HKEY_THIS_MACHINE\Join";

/// The registry key of the machine account's secrets.
pub const SECRET_KEY: &str = r"HKEY_THIS_MACHINE\Secrets\MachineAccount";

/// What to join.
#[derive(Debug)]
pub struct JoinRequest {
    /// The AD domain's DNS name.
    pub domain: String,
    /// The admin's user name (`user` or `user@REALM`).
    pub admin: String,
    /// The admin's password.
    pub admin_password: Zeroizing<String>,
    /// The machine's names.
    pub names: MachineNames,
    /// The OU to create the account in (a DN); default: the Computers container.
    pub ou: Option<String>,
    /// How to find the DC.
    pub discover: DiscoverOptions,
    /// Where to write the keytab; `None` writes none.
    pub keytab: Option<PathBuf>,
    /// operatingSystem.
    pub os_name: String,
    /// operatingSystemVersion.
    pub os_version: String,
    /// userPrincipalName for the account, if wanted.
    pub upn: Option<String>,
    /// Encryption types for the account and the keytab.
    pub enctypes: Vec<EncryptionType>,
    /// Take over an existing account of the same name.
    pub reuse_account: bool,
    /// Register the FQDN in the domain's DNS after the join (a failure is a warning).
    pub dns_update: bool,
    /// The addresses to register (and record in `Join\Addresses`); empty: the host's own
    /// towards the DC.
    pub addresses: Vec<IpAddr>,
    /// `admin_password` is a one-time password an admin set on a pre-created account
    /// (adcli preset-computer, samba-tool computer create + setpassword): the join logs on
    /// as the account itself, updates it, and replaces the password. `admin` is unused.
    pub one_time_password: bool,
}

/// The steps of a join, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Find a DC.
    Discover,
    /// AS exchange as the admin.
    AdminLogon,
    /// SASL GSSAPI bind.
    LdapBind,
    /// Naming context, domain SID, container.
    ReadDomain,
    /// Create or update the computer object.
    CreateAccount,
    /// kpasswd set-password.
    SetPassword,
    /// msDS-KeyVersionNumber.
    ReadKvno,
    /// AS exchange with the new keys.
    Verify,
    /// Keytab file.
    WriteKeytab,
    /// Registry transaction.
    SaveRegistry,
    /// Secure DNS update (after the join is committed; a failure is a warning).
    RegisterDns,
}

impl Step {
    fn number(self) -> u8 {
        self as u8 + 1
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Discover => "discover a domain controller",
            Self::AdminLogon => "log on as the administrator",
            Self::LdapBind => "bind to LDAP (SASL GSSAPI, sealed)",
            Self::ReadDomain => "read the domain",
            Self::CreateAccount => "create the computer account",
            Self::SetPassword => "set the machine password",
            Self::ReadKvno => "read the key version number",
            Self::Verify => "verify the new keys",
            Self::WriteKeytab => "write the keytab",
            Self::SaveRegistry => "save the join to the registry",
            Self::RegisterDns => "register the name in DNS",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({})", self.number(), self.describe())
    }
}

/// A join failed at `step`; nothing it did is left behind (see [`JoinError::rolled_back`]).
#[derive(Debug, thiserror::Error)]
#[error("{step} failed: {cause}{}", rollback_note(rolled_back))]
pub struct JoinError {
    /// Where it failed.
    pub step: Step,
    /// Why.
    pub cause: String,
    /// What had to be undone, and whether undoing worked.
    pub rolled_back: Vec<String>,
}

fn rollback_note(undone: &[String]) -> String {
    if undone.is_empty() {
        String::new()
    } else {
        format!("; undone: {}", undone.join(", "))
    }
}

/// What a successful join did.
#[derive(Debug, Clone, Serialize)]
pub struct JoinResult {
    /// The DC used.
    pub dc: String,
    /// Kerberos realm.
    pub realm: String,
    /// NetBIOS domain.
    pub netbios_domain: String,
    /// Domain SID.
    pub domain_sid: String,
    /// The computer object's DN.
    pub account_dn: String,
    /// sAMAccountName.
    pub sam_account_name: String,
    /// Key version number of the new keys.
    pub kvno: u32,
    /// Whether an existing account was taken over.
    pub reused: bool,
    /// The keytab written, if any.
    pub keytab: Option<PathBuf>,
    /// The DC's site.
    pub site: String,
    /// The DNS records registered, when asked and it worked.
    pub dns: Option<DnsRegistration>,
    /// Why the DNS registration failed (the join stands).
    pub dns_warning: Option<String>,
}

/// Joins, reporting each step as it starts.
pub async fn join(
    req: &JoinRequest,
    registry: &mut Registry,
    progress: &mut dyn FnMut(Step, &str),
) -> Result<JoinResult, JoinError> {
    let mut undo = Undo::default();
    let result = run(req, registry, progress, &mut undo).await;
    match result {
        Ok(r) => Ok(r),
        Err((step, cause)) => Err(JoinError {
            step,
            cause,
            rolled_back: undo.run(req, registry).await,
        }),
    }
}

/// What to take back if a later step fails.
#[derive(Default)]
struct Undo {
    created: Option<(Connection, String)>,
    keytab: Option<(PathBuf, Option<Vec<u8>>)>,
    /// An existing account whose password this join replaced: what to record so the
    /// machine keeps the only password that opens it.
    taken_over: Option<TakenOver>,
}

/// A taken-over account's join record, as far as the join got.
struct TakenOver {
    dc: DomainController,
    result: JoinResult,
    password: Zeroizing<String>,
}

impl Undo {
    async fn run(self, req: &JoinRequest, registry: &mut Registry) -> Vec<String> {
        let mut done = Vec::new();
        if let Some(kept) = self.taken_over {
            // The old password is gone from AD: the new one is recorded, not rolled back
            // (nor is a keytab already holding its keys).
            done.push(
                match save(registry, req, &kept.dc, &kept.result, &kept.password) {
                    Ok(()) => "the account keeps its new password, recorded in the registry: \
                               `domain-join testjoin` shows what is left, `domain-join repair` \
                               fixes it"
                        .to_owned(),
                    Err(e) => format!(
                        "the account's new password could NOT be recorded ({e}): join again \
                         with --reuse-account once the registry is writable"
                    ),
                },
            );
            return done;
        }
        if let Some((path, old)) = self.keytab {
            let r = match old {
                Some(bytes) => std::fs::write(&path, bytes),
                None => std::fs::remove_file(&path),
            };
            done.push(match r {
                Ok(()) => format!("keytab {} restored", path.display()),
                Err(e) => format!("keytab {} NOT restored ({e})", path.display()),
            });
        }
        if let Some((mut conn, dn)) = self.created {
            done.push(match conn.delete(&dn).await {
                Ok(()) => format!("computer object {dn} deleted"),
                Err(e) => format!("computer object {dn} NOT deleted ({e}): delete it by hand"),
            });
        }
        done
    }
}

type StepResult<T> = Result<T, (Step, String)>;

fn at<T, E: fmt::Display>(step: Step, r: Result<T, E>) -> StepResult<T> {
    r.map_err(|e| (step, e.to_string()))
}

async fn run(
    req: &JoinRequest,
    registry: &mut Registry,
    progress: &mut dyn FnMut(Step, &str),
    undo: &mut Undo,
) -> StepResult<JoinResult> {
    let names = &req.names;
    progress(Step::Discover, &req.domain);
    let dc = at(
        Step::Discover,
        discover::discover(&req.domain, &req.discover).await,
    )?;
    let realm = dc.dns_domain.to_ascii_uppercase();
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);

    let target = PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [names.sam_account_name.as_str()],
        realm.as_str(),
    );
    let admin = if req.one_time_password {
        target.clone()
    } else {
        at(
            Step::AdminLogon,
            PrincipalName::parse_with_default_realm(&req.admin, &realm),
        )?
    };
    progress(Step::AdminLogon, &admin.to_string());
    let secret = ClientSecret::Password(req.admin_password.clone());
    let x = AsExchange::new(admin, secret, AsOptions::default());
    let tgt = at(
        Step::AdminLogon,
        kdc::initial_credentials(x, &kdcs, &SystemTime::now).await,
    )?;

    progress(Step::LdapBind, &dc.dc_name);
    let mut conn = bind(&dc, &tgt, &kdcs).await?;

    progress(Step::ReadDomain, &dc.dns_domain);
    let domain = read_domain(&mut conn, req.ou.as_deref()).await?;

    progress(Step::CreateAccount, &names.sam_account_name);
    let (dn, reused) = account::create(&mut conn, req, &domain, &dc).await?;
    if !reused {
        undo.created = Some((bind(&dc, &tgt, &kdcs).await?, dn.clone()));
    }

    progress(Step::SetPassword, &names.sam_account_name);
    let password = at(Step::SetPassword, machine::generate_password())?;
    let servers = kpasswd::kpasswd_servers(&kdcs);
    let set = if req.one_time_password {
        let otp = req.admin_password.clone();
        kpasswd::change_password(target.clone(), otp, &password, &kdcs, &servers).await
    } else {
        kpasswd::set_password(&tgt, &target, &password, &kdcs, &servers).await
    };
    at(Step::SetPassword, set)?;
    let mut result = JoinResult {
        dc: dc.dc_name.clone(),
        realm: realm.clone(),
        netbios_domain: dc.netbios_domain.clone(),
        domain_sid: domain.sid.clone(),
        account_dn: dn.clone(),
        sam_account_name: names.sam_account_name.clone(),
        kvno: 0,
        reused,
        keytab: req.keytab.clone(),
        site: dc.dc_site.clone(),
        dns: None,
        dns_warning: None,
    };
    let keep = |result: &JoinResult| TakenOver {
        dc: dc.clone(),
        result: result.clone(),
        password: password.clone(),
    };
    if reused {
        undo.taken_over = Some(keep(&result));
    }

    progress(Step::ReadKvno, &dn);
    let kvno = read_kvno(&mut conn, &dn).await?;
    result.kvno = kvno;
    if reused {
        undo.taken_over = Some(keep(&result));
    }

    progress(Step::Verify, &target.to_string());
    let entries = at(
        Step::Verify,
        machine::keytab_entries(names, &realm, &password, kvno, &req.enctypes),
    )?;
    at(Step::Verify, verify(&target, &entries, &kdcs).await)?;

    if let Some(path) = &req.keytab {
        progress(Step::WriteKeytab, &path.display().to_string());
        write_keytab(path, names, &realm, entries, undo)?;
    }

    progress(Step::SaveRegistry, &registry.path().display().to_string());
    at(
        Step::SaveRegistry,
        save(registry, req, &dc, &result, &password),
    )?;
    // Committed: nothing to undo any more.
    undo.created = None;
    undo.keytab = None;
    undo.taken_over = None;
    if req.dns_update {
        progress(Step::RegisterDns, &names.fqdn);
        let at = dns::JoinedAt {
            dc: &dc,
            account: &target,
            password: &password,
        };
        match dns::register_at_join(registry, &req.addresses, &names.fqdn, &at, &mut conn).await {
            Ok(r) => result.dns = Some(r),
            Err(e) => result.dns_warning = Some(e.to_string()),
        }
    }
    Ok(result)
}
