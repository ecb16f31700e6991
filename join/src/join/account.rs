//! The computer object over sealed LDAP: bind, read the domain, create or take over the
//! account, read its key version number.

use adjoin_auth::krb::Credentials;
use adjoin_auth::krb::kdc::KdcConfig;
use adjoin_auth::pac::Sid;
use rasn_ldap::{ResultCode, SearchRequestScope};

use super::dc::connect;
use super::{JoinRequest, Step, StepResult, at};
use crate::discover::DomainController;
use crate::ldap::{self, Connection};
use crate::machine;

/// MS-ADTS 2.2.16: WORKSTATION_TRUST_ACCOUNT.
pub(super) const UF_WORKSTATION_TRUST_ACCOUNT: u32 = 0x1000;
/// MS-ADTS 2.2.16: ACCOUNTDISABLE.
pub(super) const UF_ACCOUNTDISABLE: u32 = 0x2;
/// MS-ADTS 6.1.1.4 well-known object GUID of the Computers container.
const WK_COMPUTERS: &str = "AA312825768811D1ADED00C04FD8D5CD";

/// A sealed LDAP connection to `dc` for the join.
pub(super) async fn bind(
    dc: &DomainController,
    tgt: &Credentials,
    kdcs: &KdcConfig,
) -> StepResult<Connection> {
    at(Step::LdapBind, connect(dc, tgt, kdcs).await)
}

pub(super) struct Domain {
    pub(super) base: String,
    pub(super) sid: String,
    pub(super) container: String,
}

pub(super) async fn read_domain(conn: &mut Connection, ou: Option<&str>) -> StepResult<Domain> {
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
pub(super) async fn create(
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

pub(super) async fn read_kvno(conn: &mut Connection, dn: &str) -> StepResult<u32> {
    let found = at(
        Step::ReadKvno,
        conn.read_entry(dn, &["msDS-KeyVersionNumber"]).await,
    )?;
    found
        .and_then(|e| e.text("msDS-KeyVersionNumber"))
        .and_then(|t| t.parse().ok())
        .ok_or((Step::ReadKvno, format!("{dn} has no msDS-KeyVersionNumber")))
}
