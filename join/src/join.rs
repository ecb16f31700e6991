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
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::kpasswd;
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::pac::Sid;
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::SecureChannel;
use rasn_ldap::{ResultCode, SearchRequestScope};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::discover::{self, DiscoverOptions, DomainController};
use crate::ldap::{self, Connection};
use crate::machine;
use crate::names::MachineNames;

/// The registry key the join state lives under.
pub const JOIN_KEY: &str = r"HKEY_THIS_MACHINE\Join";
/// How long `rotate` waits for each NETLOGON answer.
const NETLOGON_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The registry key of the machine account's secrets.
pub const SECRET_KEY: &str = r"HKEY_THIS_MACHINE\Secrets\MachineAccount";
/// MS-ADTS 2.2.16: WORKSTATION_TRUST_ACCOUNT.
const UF_WORKSTATION_TRUST_ACCOUNT: u32 = 0x1000;
/// MS-ADTS 2.2.16: ACCOUNTDISABLE.
const UF_ACCOUNTDISABLE: u32 = 0x2;
/// MS-ADTS 6.1.1.4 well-known object GUID of the Computers container.
const WK_COMPUTERS: &str = "AA312825768811D1ADED00C04FD8D5CD";

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
            rolled_back: undo.run().await,
        }),
    }
}

/// What to take back if a later step fails.
#[derive(Default)]
struct Undo {
    created: Option<(Connection, String)>,
    keytab: Option<(PathBuf, Option<Vec<u8>>)>,
}

impl Undo {
    async fn run(self) -> Vec<String> {
        let mut done = Vec::new();
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
    let (dn, reused) = account(&mut conn, req, &domain, &dc).await?;
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

    progress(Step::ReadKvno, &dn);
    let kvno = read_kvno(&mut conn, &dn).await?;

    progress(Step::Verify, &target.to_string());
    let entries = at(
        Step::Verify,
        machine::keytab_entries(names, &realm, &password, kvno, &req.enctypes),
    )?;
    verify(&target, &entries, &kdcs).await?;

    if let Some(path) = &req.keytab {
        progress(Step::WriteKeytab, &path.display().to_string());
        write_keytab(path, names, &realm, entries, undo)?;
    }

    progress(Step::SaveRegistry, &registry.path().display().to_string());
    let result = JoinResult {
        dc: dc.dc_name.clone(),
        realm,
        netbios_domain: dc.netbios_domain.clone(),
        domain_sid: domain.sid,
        account_dn: dn,
        sam_account_name: names.sam_account_name.clone(),
        kvno,
        reused,
        keytab: req.keytab.clone(),
        site: dc.dc_site.clone(),
    };
    at(
        Step::SaveRegistry,
        save(registry, req, &dc, &result, &password),
    )?;
    // Committed: nothing to undo any more.
    undo.created = None;
    undo.keytab = None;
    Ok(result)
}

async fn bind(
    dc: &DomainController,
    tgt: &Credentials,
    kdcs: &KdcConfig,
) -> StepResult<Connection> {
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["ldap", dc.dc_name.as_str()],
        tgt.client.realm.as_str(),
    );
    let ticket = at(
        Step::LdapBind,
        kdc::service_ticket(tgt.clone(), spn, kdcs, &SystemTime::now).await,
    )?;
    at(
        Step::LdapBind,
        Connection::bind(SocketAddr::new(dc.dc_address, 389), ticket).await,
    )
}

struct Domain {
    base: String,
    sid: String,
    container: String,
}

async fn read_domain(conn: &mut Connection, ou: Option<&str>) -> StepResult<Domain> {
    let fail = |what: String| (Step::ReadDomain, what);
    let root = at(
        Step::ReadDomain,
        conn.read_entry("", &["defaultNamingContext"]).await,
    )?;
    let base = root
        .and_then(|e| e.text("defaultNamingContext"))
        .ok_or_else(|| fail("the rootDSE has no defaultNamingContext".into()))?;
    let dom = at(
        Step::ReadDomain,
        conn.read_entry(&base, &["objectSid"]).await,
    )?;
    let sid = dom
        .and_then(|e| e.values("objectSid").first().cloned())
        .and_then(|b| Sid::from_bytes(&b).ok())
        .ok_or_else(|| fail(format!("{base} has no readable objectSid")))?;
    // MS-ADTS 6.1.1.4: the Computers container by its well-known GUID, unless --ou.
    let (dn, what) = match ou {
        Some(ou) => (ou.to_owned(), format!("the OU {ou}")),
        None => (
            format!("<WKGUID={WK_COMPUTERS},{base}>"),
            "the Computers container".to_owned(),
        ),
    };
    let found = conn.read_entry(&dn, &["distinguishedName"]).await;
    let container = at(
        Step::ReadDomain,
        found.map_err(|e| format!("{what} cannot be read: {e}")),
    )?
    .map(|e| e.dn)
    .ok_or_else(|| fail(format!("{what} does not exist")))?;
    Ok(Domain {
        base,
        sid: sid.to_string(),
        container,
    })
}

/// Creates the computer object, or finds and updates the existing one with `reuse_account`.
/// Returns its DN and whether it existed.
async fn account(
    conn: &mut Connection,
    req: &JoinRequest,
    domain: &Domain,
    dc: &DomainController,
) -> StepResult<(String, bool)> {
    let names = &req.names;
    let existing = at(
        Step::CreateAccount,
        conn.search(
            &domain.base,
            SearchRequestScope::WholeSubtree,
            ldap::eq("sAMAccountName", &names.sam_account_name),
            &["distinguishedName"],
        )
        .await,
    )?;
    let attrs = attributes(req, &dc.dns_domain);
    if req.one_time_password && existing.is_empty() {
        return Err((
            Step::CreateAccount,
            format!(
                "--one-time-password needs an account an admin created first; {} does not exist",
                names.sam_account_name
            ),
        ));
    }
    if let Some(entry) = existing.first() {
        if !req.reuse_account && !req.one_time_password {
            return Err((
                Step::CreateAccount,
                format!(
                    "the account {} already exists ({}): use --reuse-account to take it over, or \
                 choose another --netbios-name",
                    names.sam_account_name, entry.dn
                ),
            ));
        }
        if req.one_time_password {
            // Logged on as the account itself: AD lets it write only some of its own
            // attributes (validated writes of dNSHostName and SPNs); skip the others, as
            // adcli does, and say so.
            for (name, values) in &attrs {
                match conn.replace(&entry.dn, &[(*name, values.clone())]).await {
                    Ok(()) => {}
                    Err(e) if e.code() == Some(ResultCode::InsufficientAccessRights) => {
                        tracing::warn!(
                            attribute = name,
                            "the account may not set its own {name}; left as the admin set it"
                        );
                    }
                    Err(e) => return Err((Step::CreateAccount, e.to_string())),
                }
            }
        } else {
            let refs: Vec<(&str, Vec<Vec<u8>>)> =
                attrs.iter().map(|(n, v)| (*n, v.clone())).collect();
            at(Step::CreateAccount, conn.replace(&entry.dn, &refs).await)?;
        }
        return Ok((entry.dn.clone(), true));
    }
    let dn = format!("CN={},{}", names.netbios, domain.container);
    let mut all: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("objectClass", vec![b"computer".to_vec()]),
        (
            "sAMAccountName",
            vec![names.sam_account_name.as_bytes().to_vec()],
        ),
        (
            "userAccountControl",
            vec![UF_WORKSTATION_TRUST_ACCOUNT.to_string().into_bytes()],
        ),
    ];
    all.extend(attrs.iter().map(|(n, v)| (*n, v.clone())));
    match conn.add(&dn, &all).await {
        Ok(()) => Ok((dn, false)),
        Err(e) if e.code() == Some(ResultCode::InsufficientAccessRights) => Err((
            Step::CreateAccount,
            format!(
                "{} may not create computer accounts in {}: {e}",
                req.admin, domain.container
            ),
        )),
        Err(e) => Err((Step::CreateAccount, e.to_string())),
    }
}

/// The attributes a join sets on the computer object (created or reused).
fn attributes(req: &JoinRequest, _dns_domain: &str) -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let names = &req.names;
    let mut v = vec![
        ("dNSHostName", vec![names.fqdn.as_bytes().to_vec()]),
        (
            "servicePrincipalName",
            machine::spns(names)
                .into_iter()
                .map(String::into_bytes)
                .collect(),
        ),
        (
            "msDS-SupportedEncryptionTypes",
            vec![
                machine::supported_enctypes(&req.enctypes)
                    .to_string()
                    .into_bytes(),
            ],
        ),
        ("operatingSystem", vec![req.os_name.as_bytes().to_vec()]),
        (
            "operatingSystemVersion",
            vec![req.os_version.as_bytes().to_vec()],
        ),
    ];
    if let Some(upn) = &req.upn {
        v.push(("userPrincipalName", vec![upn.as_bytes().to_vec()]));
    }
    // LDAP refuses empty values (e.g. no operating system version known).
    v.retain(|(_, values)| values.iter().all(|x| !x.is_empty()));
    v
}

async fn read_kvno(conn: &mut Connection, dn: &str) -> StepResult<u32> {
    let found = at(
        Step::ReadKvno,
        conn.read_entry(dn, &["msDS-KeyVersionNumber"]).await,
    )?;
    found
        .and_then(|e| e.text("msDS-KeyVersionNumber"))
        .and_then(|t| t.parse().ok())
        .ok_or((Step::ReadKvno, format!("{dn} has no msDS-KeyVersionNumber")))
}

async fn verify(
    target: &PrincipalName,
    entries: &[adjoin_auth::keytab::KeytabEntry],
    kdcs: &KdcConfig,
) -> StepResult<()> {
    let keys = entries
        .iter()
        .filter(|e| e.principal.matches(target))
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>();
    let keys = at(Step::Verify, keys)?;
    let x = AsExchange::new(
        target.clone(),
        ClientSecret::Keys(keys),
        AsOptions::default(),
    );
    at(
        Step::Verify,
        kdc::initial_credentials(x, kdcs, &SystemTime::now).await,
    )?;
    Ok(())
}

/// Replaces this machine's entries in the keytab (other principals stay), atomically,
/// remembering the old file for the undo.
fn write_keytab(
    path: &PathBuf,
    names: &MachineNames,
    realm: &str,
    entries: Vec<adjoin_auth::keytab::KeytabEntry>,
    undo: &mut Undo,
) -> StepResult<()> {
    let old = std::fs::read(path).ok();
    let mut keytab = match &old {
        Some(bytes) => at(Step::WriteKeytab, Keytab::parse(bytes))?,
        None => Keytab::new(),
    };
    for p in machine::principals(names, realm) {
        keytab.remove_principal(&p);
    }
    for e in entries {
        keytab.add(e);
    }
    at(Step::WriteKeytab, keytab.save(path))?;
    undo.keytab = Some((path.clone(), old));
    Ok(())
}

fn save(
    registry: &mut Registry,
    req: &JoinRequest,
    dc: &DomainController,
    r: &JoinResult,
    password: &str,
) -> Result<(), adjoin_registry::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let sz = |s: &str| Value::Sz(s.to_owned());
    let names = &req.names;
    let tx = registry.transaction()?;
    let values = [
        ("MachineName", sz(&names.host)),
        ("Fqdn", sz(&names.fqdn)),
        ("NetbiosName", sz(&names.netbios)),
        ("DnsDomain", sz(&dc.dns_domain)),
        ("NetbiosDomain", sz(&dc.netbios_domain)),
        ("Realm", sz(&r.realm)),
        ("DomainSid", sz(&r.domain_sid)),
        ("DomainController", sz(&r.dc)),
        ("Site", sz(&r.site)),
        ("AccountDn", sz(&r.account_dn)),
        ("KeyVersionNumber", Value::Dword(r.kvno)),
        ("JoinTime", Value::Qword(now)),
        (
            "Keytab",
            sz(&r
                .keytab
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()),
        ),
    ];
    for (name, value) in &values {
        tx.set_value(JOIN_KEY, name, value)?;
    }
    // The DNS servers the join reached the domain through, when named (--dns-server):
    // leave, testjoin, rotate and adjoind find the domain the same way without being told
    // again. Configuration, as if the admin had set it: `leave` keeps it.
    if !req.discover.dns_servers.is_empty() {
        let servers = req
            .discover
            .dns_servers
            .iter()
            .map(ToString::to_string)
            .collect();
        tx.set_value(JOIN_KEY, "DnsServers", &Value::MultiSz(servers))?;
    }
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(password.to_owned()))?;
    tx.commit()
}

/// The join state values [`join`] writes under [`JOIN_KEY`] (configuration such as
/// `DnsServers` lives there too and is left alone by [`leave`]).
pub const STATE_VALUES: &[&str] = &[
    "MachineName",
    "Fqdn",
    "NetbiosName",
    "DnsDomain",
    "NetbiosDomain",
    "Realm",
    "DomainSid",
    "DomainController",
    "Site",
    "AccountDn",
    "KeyVersionNumber",
    "JoinTime",
    "Keytab",
];

/// The join as the registry records it.
#[derive(Debug, Clone, Serialize)]
pub struct JoinState {
    /// Each recorded value, as text.
    pub values: Vec<(String, String)>,
}

impl JoinState {
    /// The recorded value `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the join state; `None` when this machine is not joined.
pub fn query(registry: &Registry) -> Result<Option<JoinState>, adjoin_registry::Error> {
    let mut values = Vec::new();
    for name in STATE_VALUES {
        match registry.stored_value(JOIN_KEY, name)? {
            Some(Value::Sz(ref s)) => values.push(((*name).to_owned(), s.clone())),
            Some(Value::Dword(d)) => values.push(((*name).to_owned(), d.to_string())),
            Some(Value::Qword(q)) => values.push(((*name).to_owned(), q.to_string())),
            Some(other) => values.push(((*name).to_owned(), format!("{other:?}"))),
            None => {}
        }
    }
    Ok((!values.is_empty()).then_some(JoinState { values }))
}

/// How to leave.
#[derive(Debug)]
pub struct LeaveRequest {
    /// The admin's user name.
    pub admin: String,
    /// The admin's password.
    pub admin_password: Zeroizing<String>,
    /// Delete the computer object (else disable it).
    pub delete: bool,
    /// How to find the DC.
    pub discover: DiscoverOptions,
}

/// Leaves the domain: deletes (or disables) the computer object, removes this machine's
/// keytab entries and clears the join state from the registry. Returns what was done.
pub async fn leave(req: &LeaveRequest, registry: &mut Registry) -> Result<Vec<String>, String> {
    let j = joined(registry)?;
    let mut done = Vec::new();
    let dc = discover::discover(&j.domain, &req.discover)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let admin =
        PrincipalName::parse_with_default_realm(&req.admin, &j.realm).map_err(|e| e.to_string())?;
    let secret = ClientSecret::Password(req.admin_password.clone());
    let x = AsExchange::new(admin, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = bind(&dc, &tgt, &kdcs).await.map_err(|(_, e)| e)?;
    let dn = &j.account_dn;
    if req.delete {
        match conn.delete(dn).await {
            Ok(()) => done.push(format!("deleted {dn}")),
            Err(e) if e.code() == Some(ResultCode::NoSuchObject) => {
                done.push(format!("{dn} was already gone"));
            }
            Err(e) => return Err(e.to_string()),
        }
    } else {
        let disabled = UF_WORKSTATION_TRUST_ACCOUNT | UF_ACCOUNTDISABLE;
        conn.replace(
            dn,
            &[(
                "userAccountControl",
                vec![disabled.to_string().into_bytes()],
            )],
        )
        .await
        .map_err(|e| e.to_string())?;
        done.push(format!("disabled {dn}"));
    }
    if let Some(path) = &j.keytab {
        done.push(remove_keytab_entries(path, &j));
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    for name in STATE_VALUES {
        let _ = tx.delete_value(JOIN_KEY, name);
    }
    let _ = tx.delete_value(SECRET_KEY, "Password");
    tx.commit().map_err(|e| e.to_string())?;
    done.push("cleared the join state from the registry".to_owned());
    Ok(done)
}

fn remove_keytab_entries(path: &std::path::Path, j: &Joined) -> String {
    let Ok(mut keytab) = Keytab::load(path) else {
        return format!("keytab {} not found", path.display());
    };
    let removed: usize = machine::principals(&j.names, &j.realm)
        .iter()
        .map(|p| keytab.remove_principal(p))
        .sum();
    match keytab.save(path) {
        Ok(()) => format!("removed {removed} keytab entries from {}", path.display()),
        Err(e) => format!("could not rewrite {}: {e}", path.display()),
    }
}

/// What [`testjoin`] and [`rotate`] need from the recorded join.
struct Joined {
    names: MachineNames,
    realm: String,
    domain: String,
    kvno: u32,
    keytab: Option<PathBuf>,
    account: PrincipalName,
    account_dn: String,
}

fn joined(registry: &Registry) -> Result<Joined, String> {
    let state = query(registry)
        .map_err(|e| e.to_string())?
        .ok_or("this machine is not joined (the registry holds no join state)")?;
    let field = |n: &str| {
        state
            .get(n)
            .map(str::to_owned)
            .ok_or(format!("the registry lacks Join\\{n}"))
    };
    let names = MachineNames::from_stored(
        &field("Fqdn")?,
        &field("MachineName")?,
        &field("NetbiosName")?,
    );
    let realm = field("Realm")?;
    let account = PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [names.sam_account_name.as_str()],
        realm.as_str(),
    );
    Ok(Joined {
        kvno: field("KeyVersionNumber")?
            .parse()
            .map_err(|_| "Join\\KeyVersionNumber is not a number")?,
        domain: field("DnsDomain")?,
        account_dn: field("AccountDn")?,
        keytab: state
            .get("Keytab")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        names,
        realm,
        account,
    })
}

async fn kdcs_for(domain: &str, opts: &DiscoverOptions) -> Result<KdcConfig, String> {
    let dc = discover::discover(domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    Ok(KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]))
}

/// Checks that the machine's keys still work: an AS exchange as `NAME$` with the keytab's
/// newest keys (or, without a keytab, with keys from the stored password). Returns the kvno.
pub async fn testjoin(registry: &Registry, opts: &DiscoverOptions) -> Result<String, String> {
    let j = joined(registry)?;
    let kdcs = kdcs_for(&j.domain, opts).await?;
    let keys = match &j.keytab {
        Some(path) => {
            let kt = Keytab::load(path)
                .map_err(|e| format!("cannot read the keytab {}: {e}", path.display()))?;
            let newest = kt
                .entries
                .iter()
                .filter(|e| e.principal.matches(&j.account))
                .map(|e| e.kvno)
                .max();
            let newest =
                newest.ok_or(format!("{} has no keys for {}", path.display(), j.account))?;
            kt.entries
                .iter()
                .filter(|e| e.principal.matches(&j.account) && e.kvno == newest)
                .map(|e| e.key.to_key())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        }
        None => {
            let pw = stored_password(registry)?;
            let entries = machine::keytab_entries(
                &j.names,
                &j.realm,
                &pw,
                j.kvno,
                &[EncryptionType::AES256_CTS_HMAC_SHA1_96],
            )
            .map_err(|e| e.to_string())?;
            entries
                .iter()
                .take(1)
                .map(|e| e.key.to_key())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        }
    };
    let x = AsExchange::new(
        j.account.clone(),
        ClientSecret::Keys(keys),
        AsOptions::default(),
    );
    kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| format!("the machine keys of {} do not work: {e}", j.account))?;
    Ok(format!(
        "the machine account {} authenticates with its keys (kvno {})",
        j.account, j.kvno
    ))
}

pub(crate) fn stored_password(registry: &Registry) -> Result<Zeroizing<String>, String> {
    registry
        .stored_value(SECRET_KEY, "Password")
        .map_err(|e| e.to_string())?
        .filter(|v| matches!(v, Value::Sz(_)))
        .and_then(Value::into_string)
        .map(Zeroizing::new)
        .ok_or_else(|| {
            "the registry holds no machine password (Secrets\\MachineAccount\\Password)".into()
        })
}

/// How `rotate` tells the domain the new machine password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateMethod {
    /// NetrServerPasswordSet2 over the NETLOGON secure channel (what Windows members do).
    Netlogon,
    /// A Kerberos kpasswd change with the machine's own credentials.
    Kpasswd,
}

/// Changes the machine password (over NETLOGON or kpasswd, as `method` says), adds the
/// new keys to the keytab beside the previous kvno's (older ones are dropped), verifies
/// them, and records the new password and kvno. Returns the new kvno.
pub async fn rotate(
    registry: &mut Registry,
    opts: &DiscoverOptions,
    enctypes: &[EncryptionType],
    method: RotateMethod,
) -> Result<u32, String> {
    let j = joined(registry)?;
    let dc = discover::discover(&j.domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let new = machine::generate_password().map_err(|e| e.to_string())?;
    match method {
        RotateMethod::Netlogon => {
            let m = crate::member::membership(registry)?;
            let mut channel =
                SecureChannel::new(dc.dc_address, &dc.dc_name, m.account, NETLOGON_TIMEOUT);
            channel
                .set_password(&new)
                .await
                .map_err(|e| format!("NetrServerPasswordSet2 for {}: {e}", j.account))?;
        }
        RotateMethod::Kpasswd => {
            let old = stored_password(registry)?;
            let servers = kpasswd::kpasswd_servers(&kdcs);
            kpasswd::change_password(j.account.clone(), old, &new, &kdcs, &servers)
                .await
                .map_err(|e| format!("kpasswd change of {}: {e}", j.account))?;
        }
    }
    // AD raises the key version by one with every password change.
    let kvno = j.kvno + 1;
    let entries = machine::keytab_entries(&j.names, &j.realm, &new, kvno, enctypes)
        .map_err(|e| e.to_string())?;
    verify(&j.account, &entries, &kdcs).await.map_err(|(_, e)| {
        format!("the new password was set but its keys do not work ({e}); the registry still holds the old one: run rotate again")
    })?;
    if let Some(path) = &j.keytab {
        let mut kt = Keytab::load(path).unwrap_or_default();
        for p in machine::principals(&j.names, &j.realm) {
            kt.remove_kvnos_older_than(&p, j.kvno);
        }
        for e in entries {
            kt.add(e);
        }
        kt.save(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "KeyVersionNumber", &Value::Dword(kvno))
        .map_err(|e| e.to_string())?;
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(new.to_string()))
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(kvno)
}

/// Changes the machine's FQDN. Not joined: only the registry changes. Joined: the computer
/// object's dNSHostName and FQDN SPNs change in AD (as `admin` if given, else as the
/// machine itself, which AD allows only within its validated-write rules), the keytab gets
/// the new FQDN principals (same keys: the salt depends on the account name, not the FQDN)
/// and loses the old ones, and the registry records the new name. The NetBIOS name, and so
/// the account, stays.
pub async fn setname(
    registry: &mut Registry,
    fqdn: &str,
    admin: Option<(&str, Zeroizing<String>)>,
    opts: &DiscoverOptions,
) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    let Ok(j) = joined(registry) else {
        let names = MachineNames::new(fqdn, None).map_err(|e| e.to_string())?;
        let tx = registry.transaction().map_err(|e| e.to_string())?;
        tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(names.fqdn.clone()))
            .map_err(|e| e.to_string())?;
        tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(names.host.clone()))
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        done.push(format!("not joined: the stored name is now {}", names.fqdn));
        return Ok(done);
    };
    let new = MachineNames::new(fqdn, Some(&j.names.netbios)).map_err(|e| e.to_string())?;
    let dc = discover::discover(&j.domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let password = stored_password(registry)?;
    let secret = match &admin {
        Some((_, pw)) => ClientSecret::Password(pw.clone()),
        None => ClientSecret::Password(password.clone()),
    };
    let client = match &admin {
        Some((user, _)) => {
            PrincipalName::parse_with_default_realm(user, &j.realm).map_err(|e| e.to_string())?
        }
        None => j.account.clone(),
    };
    let x = AsExchange::new(client, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = bind(&dc, &tgt, &kdcs).await.map_err(|(_, e)| e)?;
    let spns: Vec<Vec<u8>> = machine::spns(&new)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    conn.replace(
        &j.account_dn,
        &[
            ("dNSHostName", vec![new.fqdn.clone().into_bytes()]),
            ("servicePrincipalName", spns),
        ],
    )
    .await
    .map_err(|e| {
        format!("AD refused the new name ({e}); give --user with an administrator to change it")
    })?;
    done.push(format!(
        "{}: dNSHostName and SPNs now name {}",
        j.account_dn, new.fqdn
    ));
    if let Some(path) = &j.keytab {
        let etypes = Keytab::load(path)
            .map(|kt| {
                let mut v: Vec<EncryptionType> = kt
                    .entries
                    .iter()
                    .filter(|e| e.principal.matches(&j.account))
                    .map(|e| e.key.etype())
                    .collect();
                v.dedup();
                v
            })
            .unwrap_or_default();
        let mut kt = Keytab::load(path).unwrap_or_default();
        for p in machine::principals(&j.names, &j.realm) {
            if !p.matches(&j.account) {
                kt.remove_principal(&p);
            }
        }
        let entries = machine::keytab_entries(&new, &j.realm, &password, j.kvno, &etypes)
            .map_err(|e| e.to_string())?;
        for e in entries {
            kt.add(e);
        }
        kt.save(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        done.push(format!(
            "keytab {} now holds the {} principals",
            path.display(),
            new.fqdn
        ));
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(new.fqdn.clone()))
        .map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(new.host.clone()))
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    done.push("registry updated".to_owned());
    Ok(done)
}
