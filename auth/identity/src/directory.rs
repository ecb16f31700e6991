//! User and group lookups in the joined domain's directory over sealed LDAP, as the member
//! itself (its machine account's TGT, a ticket for `ldap/DC`), with a deadline on every
//! exchange so that a DC that hangs looks offline instead of stalling callers.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use adjoin_auth::krb::kdc::{self, KdcConfig, KnownKdcs};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::ldap::{self, Connection, Entry};
use adjoin_auth::principal::PrincipalName;
use adjoin_ndr::Sid;
use rasn_ldap::{Filter, SearchRequestScope};
use tracing::debug;

use crate::error::IdentityError;
use crate::settings::Member;

/// sAMAccountType of ordinary user accounts (MS-ADTS 2.2.16 SAM_USER_OBJECT).
const SAM_USER_OBJECT: &str = "805306368";
/// Nested groups expanded for one group's member list, at most.
const MAX_NESTED: usize = 256;
/// Entries per page of a paged search.
const PAGE: u32 = 500;
/// SIDs per OR filter when groups are fetched by SID.
const SID_BATCH: usize = 100;
/// userAccountControl ACCOUNTDISABLE (MS-ADTS 2.2.16).
pub const UAC_ACCOUNTDISABLE: u32 = 0x2;

const USER_ATTRS: &[&str] = &[
    "objectSid",
    "sAMAccountName",
    "userPrincipalName",
    "displayName",
    "primaryGroupID",
    "userAccountControl",
    "uidNumber",
    "gidNumber",
    "unixHomeDirectory",
    "loginShell",
    "gecos",
    "pwdLastSet",
    "accountExpires",
];
const GROUP_ATTRS: &[&str] = &["objectSid", "sAMAccountName", "gidNumber"];

/// A user as the directory describes her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Distinguished name.
    pub dn: String,
    /// Her SID.
    pub sid: Sid,
    /// sAMAccountName as stored.
    pub sam: String,
    /// userPrincipalName, if set.
    pub upn: Option<String>,
    /// displayName (or gecos), for the GECOS field.
    pub display_name: String,
    /// RID of her primary group.
    pub primary_group_rid: u32,
    /// userAccountControl.
    pub uac: u32,
    /// RFC 2307 attributes, when present.
    pub uid_number: Option<u32>,
    /// RFC 2307 gidNumber.
    pub gid_number: Option<u32>,
    /// RFC 2307 unixHomeDirectory.
    pub home: Option<String>,
    /// RFC 2307 loginShell.
    pub shell: Option<String>,
    /// pwdLastSet (FILETIME; 0 = must change).
    pub pwd_last_set: u64,
}

/// A group as the directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Distinguished name.
    pub dn: String,
    /// Its SID.
    pub sid: Sid,
    /// sAMAccountName as stored.
    pub sam: String,
    /// RFC 2307 gidNumber, when present.
    pub gid_number: Option<u32>,
}

/// Where the DC is.
#[derive(Debug, Clone)]
pub struct Dc {
    /// Its DNS name (for `ldap/NAME`).
    pub name: String,
    /// Its address.
    pub address: IpAddr,
}

/// Finds a DC of the joined domain (DNS SRV and CLDAP in adjoind; the join crate owns
/// discovery, so it is handed in).
pub type Locator =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Dc, String>> + Send>> + Send + Sync>;

/// Which domain's directory a [`Directory`] reads.
#[derive(Clone)]
enum Scope {
    /// The joined domain's.
    Joined,
    /// A trusted domain's, read as the member with tickets from the joined realm's KDC that
    /// its referral carries across the trust.
    Trusted {
        /// DNS name (other.test), which is also the realm in upper case.
        dns_domain: String,
        /// Its SID: only accounts and groups in it are taken from its directory.
        domain_sid: Sid,
        /// Finds a DC of the joined domain, whose KDC issues the machine's TGT.
        home: Locator,
    },
}

/// A domain this one trusts, as its trustedDomain object in the joined domain's directory
/// describes it (MS-ADTS 6.1.6.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    /// flatName: the NetBIOS name (PARTNER).
    pub netbios: String,
    /// trustPartner: the DNS name (other.test).
    pub dns_domain: String,
    /// securityIdentifier: the domain's SID.
    pub sid: Sid,
    /// trustDirection: 1 inbound, 2 outbound, 3 both. Its users log on here when the trust
    /// is outbound from here (2 or 3).
    pub direction: u32,
    /// trustType: 1 downlevel (NT4), 2 uplevel (AD), 3 MIT realm.
    pub trust_type: u32,
}

impl TrustEntry {
    /// Whether users of that domain can be users of this one: an outbound (or two-way)
    /// trust to an AD domain.
    pub fn serves_users(&self) -> bool {
        self.direction & TRUST_DIRECTION_OUTBOUND != 0 && self.trust_type == TRUST_TYPE_UPLEVEL
    }
}

/// trustDirection: this domain trusts the other (MS-ADTS 6.1.6.7.12).
const TRUST_DIRECTION_OUTBOUND: u32 = 2;
/// trustType: an Active Directory domain (MS-ADTS 6.1.6.7.15).
const TRUST_TYPE_UPLEVEL: u32 = 2;
/// Trusts read at most.
const MAX_TRUSTS: usize = 256;

/// A connection to the directory that reconnects on demand, finding a DC again when the
/// one in use stops answering.
pub struct Directory {
    member: Member,
    scope: Scope,
    locator: Locator,
    dc: Option<Dc>,
    timeout: Duration,
    base: String,
    tgt: Option<Credentials>,
    conn: Option<Connection>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("dc", &self.dc)
            .field("base", &self.base)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// A directory client for `member` whose DC `locator` finds (`dc`, when already
    /// known, saves the first search); nothing is sent until the first lookup.
    pub fn new(member: Member, locator: Locator, dc: Option<Dc>, timeout: Duration) -> Self {
        let base = base_dn(&member.dns_domain);
        Self {
            member,
            scope: Scope::Joined,
            locator,
            dc,
            timeout,
            base,
            tgt: None,
            conn: None,
        }
    }

    /// A directory client for the trusted domain `dns_domain` with SID `domain_sid`, whose
    /// DCs `locator` finds; `home` finds the joined domain's DCs (for the machine's TGT).
    /// Read as the member: its tickets for the trusted DCs come through the joined realm's
    /// referral. Only accounts and SIDs of that domain are taken from it: its DCs cannot
    /// put the joined domain's SIDs (Domain Admins) into a user's groups, as the joined
    /// domain's KDC filters them from a PAC that crosses the trust (MS-PAC 4.1.2.2).
    pub fn trusted(
        member: Member,
        dns_domain: &str,
        domain_sid: Sid,
        locator: Locator,
        home: Locator,
        timeout: Duration,
    ) -> Self {
        Self {
            base: base_dn(dns_domain),
            member,
            scope: Scope::Trusted {
                dns_domain: dns_domain.to_ascii_lowercase(),
                domain_sid,
                home,
            },
            locator,
            dc: None,
            timeout,
            tgt: None,
            conn: None,
        }
    }

    /// Whether an account or group with `sid` may come from this directory: any from the
    /// joined domain's, only the domain's own from a trusted domain's.
    fn admits(&self, sid: &Sid) -> bool {
        match &self.scope {
            Scope::Joined => true,
            Scope::Trusted { domain_sid, .. } => sid.is_in_domain(domain_sid),
        }
    }

    /// The realm of the domain this directory reads.
    fn realm(&self) -> String {
        match &self.scope {
            Scope::Joined => self.member.realm.clone(),
            Scope::Trusted { dns_domain, .. } => dns_domain.to_ascii_uppercase(),
        }
    }

    /// Finds a DC with `locator` within the deadline.
    async fn find(&self, locator: &Locator) -> Result<Dc, IdentityError> {
        tokio::time::timeout(self.timeout, locator())
            .await
            .map_err(|_| "no DC found in time".to_owned())
            .and_then(|r| r)
            .map_err(|reason| IdentityError::Offline { reason })
    }

    /// The KDC of `dc`, with this directory's deadline.
    fn kdc_of(&self, dc: &Dc) -> KdcConfig {
        let mut kdcs = KdcConfig::new(vec![SocketAddr::new(dc.address, 88)]);
        kdcs.timeout = self.timeout;
        kdcs
    }

    /// The DC in use, found first if none is.
    async fn dc_now(&mut self) -> Result<Dc, IdentityError> {
        if let Some(dc) = &self.dc {
            return Ok(dc.clone());
        }
        let found = self.find(&self.locator).await?;
        debug!(dc = %found.name, "found a DC");
        self.dc = Some(found.clone());
        Ok(found)
    }

    /// The KDCs of the domain (the DC in use), for logons.
    pub async fn kdcs(&mut self) -> Result<KdcConfig, IdentityError> {
        let dc = self.dc_now().await?;
        Ok(self.kdc_of(&dc))
    }

    /// The KDCs of the joined realm, which issue the machine's TGT.
    async fn home_kdcs(&mut self) -> Result<KdcConfig, IdentityError> {
        match &self.scope {
            Scope::Joined => self.kdcs().await,
            Scope::Trusted { home, .. } => {
                let home = home.clone();
                let dc = self.find(&home).await?;
                Ok(self.kdc_of(&dc))
            }
        }
    }

    /// Whether a bound connection is at hand (else the next lookup first finds a DC, gets
    /// tickets and binds).
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The DC in use, if one was found.
    pub fn dc(&self) -> Option<&Dc> {
        self.dc.as_ref()
    }

    /// Drops the connection (after an exchange was cut off) and forgets the DC, so the
    /// next lookup finds one again and reconnects.
    pub fn reset(&mut self) {
        self.conn = None;
        self.dc = None;
    }

    /// The machine account's TGT, renewed when it has less than 5 minutes left.
    async fn machine_tgt(&mut self) -> Result<Credentials, IdentityError> {
        let fresh = |c: &Credentials| {
            c.end_time
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > Duration::from_secs(300))
        };
        if let Some(tgt) = self.tgt.as_ref().filter(|c| fresh(c)) {
            return Ok(tgt.clone());
        }
        let client = PrincipalName::new(
            PrincipalName::NT_PRINCIPAL,
            [format!("{}$", self.member.netbios_name)],
            self.member.realm.as_str(),
        );
        let secret = ClientSecret::Password(self.member.password.clone());
        let exchange = AsExchange::new(client, secret, AsOptions::default());
        let kdcs = self.home_kdcs().await?;
        let tgt = kdc::initial_credentials(exchange, &kdcs, &SystemTime::now).await?;
        self.tgt = Some(tgt.clone());
        Ok(tgt)
    }

    async fn connect(&mut self) -> Result<&mut Connection, IdentityError> {
        if self.conn.is_none() {
            let dc = self.dc_now().await?;
            let tgt = self.machine_tgt().await?;
            let spn = PrincipalName::new(
                PrincipalName::NT_SRV_INST,
                ["ldap", dc.name.as_str()],
                self.realm(),
            );
            let ticket = match self.scope {
                Scope::Joined => {
                    let kdcs = self.kdcs().await?;
                    kdc::service_ticket(tgt, spn, &kdcs, &SystemTime::now).await?
                }
                Scope::Trusted { .. } => {
                    // The joined realm's KDC refers the request to the trusted realm's (or
                    // to a realm on the way, whose KDC is then unknown here).
                    let known = KnownKdcs(vec![
                        (self.member.realm.clone(), self.home_kdcs().await?),
                        (self.realm(), self.kdc_of(&dc)),
                    ]);
                    kdc::service_ticket_via_referrals(tgt, spn, &known, &SystemTime::now).await?
                }
            };
            let addr = SocketAddr::new(dc.address, 389);
            let mut conn = Connection::bind_with_timeout(addr, ticket, self.timeout).await?;
            conn.set_timeout(self.timeout);
            debug!(dc = %dc.name, "directory connection bound");
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| IdentityError::Directory("no connection".into()))
    }

    /// A subtree search under the domain; a failure drops the connection so the next
    /// call reconnects.
    async fn search(
        &mut self,
        filter: Filter,
        attrs: &[&str],
    ) -> Result<Vec<Entry>, IdentityError> {
        let base = self.base.clone();
        let conn = self.connect().await?;
        let result = conn
            .search_paged(&base, SearchRequestScope::WholeSubtree, filter, attrs, PAGE)
            .await;
        self.settle(result)
    }

    fn settle<T>(&mut self, result: Result<T, ldap::LdapError>) -> Result<T, IdentityError> {
        result.map_err(|e| {
            self.conn = None;
            IdentityError::from(e)
        })
    }

    /// Checks the DC answers (binding if needed).
    pub async fn ping(&mut self) -> Result<(), IdentityError> {
        let conn = self.connect().await?;
        let result = conn.read_entry("", &["currentTime"]).await;
        self.settle(result).map(|_| ())
    }

    /// The user with sAMAccountName `sam` (case-insensitive, as AD compares).
    pub async fn user_by_account(&mut self, sam: &str) -> Result<Option<UserEntry>, IdentityError> {
        self.one_user(ldap::eq("sAMAccountName", sam)).await
    }

    /// The user with userPrincipalName `upn`.
    pub async fn user_by_upn(&mut self, upn: &str) -> Result<Option<UserEntry>, IdentityError> {
        self.one_user(ldap::eq("userPrincipalName", upn)).await
    }

    /// The user with SID `sid`.
    pub async fn user_by_sid(&mut self, sid: &Sid) -> Result<Option<UserEntry>, IdentityError> {
        self.one_user(ldap::eq_bytes("objectSid", &sid.to_bytes()))
            .await
    }

    /// The user with RFC 2307 uidNumber `uid`.
    pub async fn user_by_uid_number(
        &mut self,
        uid: u32,
    ) -> Result<Option<UserEntry>, IdentityError> {
        self.one_user(ldap::eq("uidNumber", &uid.to_string())).await
    }

    async fn one_user(&mut self, which: Filter) -> Result<Option<UserEntry>, IdentityError> {
        let filter = ldap::and(vec![ldap::eq("sAMAccountType", SAM_USER_OBJECT), which]);
        let found = self.search(filter, USER_ATTRS).await?;
        Ok(found
            .iter()
            .filter_map(user_entry)
            .find(|e| self.admits(&e.sid)))
    }

    /// The group with sAMAccountName `sam`.
    pub async fn group_by_account(
        &mut self,
        sam: &str,
    ) -> Result<Option<GroupEntry>, IdentityError> {
        self.one_group(ldap::eq("sAMAccountName", sam)).await
    }

    /// The group with SID `sid`.
    pub async fn group_by_sid(&mut self, sid: &Sid) -> Result<Option<GroupEntry>, IdentityError> {
        self.one_group(ldap::eq_bytes("objectSid", &sid.to_bytes()))
            .await
    }

    /// The group with RFC 2307 gidNumber `gid`.
    pub async fn group_by_gid_number(
        &mut self,
        gid: u32,
    ) -> Result<Option<GroupEntry>, IdentityError> {
        self.one_group(ldap::eq("gidNumber", &gid.to_string()))
            .await
    }

    async fn one_group(&mut self, which: Filter) -> Result<Option<GroupEntry>, IdentityError> {
        let filter = ldap::and(vec![ldap::eq("objectClass", "group"), which]);
        let found = self.search(filter, GROUP_ATTRS).await?;
        Ok(found
            .iter()
            .filter_map(group_entry)
            .find(|e| self.admits(&e.sid)))
    }

    /// The groups with these SIDs (those the directory has), fetched in batches.
    pub async fn groups_by_sids(&mut self, sids: &[Sid]) -> Result<Vec<GroupEntry>, IdentityError> {
        let mut out = Vec::with_capacity(sids.len());
        for batch in sids.chunks(SID_BATCH) {
            let any = batch
                .iter()
                .map(|s| ldap::eq_bytes("objectSid", &s.to_bytes()))
                .collect();
            let filter = ldap::and(vec![ldap::eq("objectClass", "group"), ldap::or(any)]);
            let found = self.search(filter, GROUP_ATTRS).await?;
            out.extend(
                found
                    .iter()
                    .filter_map(group_entry)
                    .filter(|e| self.admits(&e.sid)),
            );
        }
        Ok(out)
    }

    /// Every group SID in the user's token (tokenGroups: nested groups and the primary
    /// group, MS-ADTS 3.1.1.4.5.19), read from her entry.
    pub async fn token_groups(&mut self, user_dn: &str) -> Result<Vec<Sid>, IdentityError> {
        let conn = self.connect().await?;
        let result = conn.read_entry(user_dn, &["tokenGroups"]).await;
        let entry = self.settle(result)?;
        Ok(entry
            .map(|e| {
                e.values("tokenGroups")
                    .iter()
                    .filter_map(|v| Sid::from_bytes(v).ok())
                    .filter(|sid| self.admits(sid))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The sAMAccountNames of the users who are members of `group_dn`, directly or through
    /// nested groups (the primary-group members are not listed, as in AD's `member`).
    ///
    /// One search per group of the nesting, on memberOf equality: far cheaper on a DC with
    /// many users than LDAP_MATCHING_RULE_IN_CHAIN, which walks every user's groups. At
    /// most 256 groups are expanded (a cycle is expanded once).
    pub async fn group_members(&mut self, group_dn: &str) -> Result<Vec<String>, IdentityError> {
        let mut names = Vec::new();
        let mut seen = std::collections::HashSet::from([group_dn.to_ascii_lowercase()]);
        let mut queue = vec![group_dn.to_owned()];
        while let Some(group) = queue.pop() {
            let filter = ldap::or(vec![
                ldap::and(vec![
                    ldap::eq("sAMAccountType", SAM_USER_OBJECT),
                    ldap::eq("memberOf", &group),
                ]),
                ldap::and(vec![
                    ldap::eq("objectClass", "group"),
                    ldap::eq("memberOf", &group),
                ]),
            ]);
            for e in self
                .search(filter, &["sAMAccountName", "sAMAccountType"])
                .await?
            {
                if e.text("sAMAccountType").as_deref() == Some(SAM_USER_OBJECT) {
                    names.extend(e.text("sAMAccountName"));
                } else if seen.len() < MAX_NESTED && seen.insert(e.dn.to_ascii_lowercase()) {
                    queue.push(e.dn);
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// The groups with these SIDs and their member names, with a few batched searches
    /// instead of two per group: what `id` of a user in hundreds of groups needs next.
    /// Members come from each group's `member` links (ranged retrieval when the DC ranges
    /// them), resolved to names in batches by DN; a group that contains other groups is
    /// expanded on its own ([`Self::group_members`]).
    pub async fn groups_with_members(
        &mut self,
        sids: &[Sid],
    ) -> Result<Vec<(GroupEntry, Vec<String>)>, IdentityError> {
        let mut groups: Vec<(GroupEntry, Vec<String>)> = Vec::with_capacity(sids.len());
        for batch in sids.chunks(SID_BATCH) {
            let any = batch
                .iter()
                .map(|s| ldap::eq_bytes("objectSid", &s.to_bytes()))
                .collect();
            let filter = ldap::and(vec![ldap::eq("objectClass", "group"), ldap::or(any)]);
            let attrs = ["objectSid", "sAMAccountName", "gidNumber", "member"];
            for e in self.search(filter, &attrs).await? {
                let Some(entry) = group_entry(&e).filter(|g| self.admits(&g.sid)) else {
                    continue;
                };
                let ranged = e
                    .attributes
                    .iter()
                    .any(|(n, _)| n.to_ascii_lowercase().starts_with("member;range="));
                let links = if ranged {
                    let conn = self.connect().await?;
                    let all = conn.read_all_values(&entry.dn, "member").await;
                    self.settle(all)?
                } else {
                    e.values("member").to_vec()
                };
                let links = links
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect();
                groups.push((entry, links));
            }
        }
        // Every member, once: users by name; groups mark their parent for expansion.
        let mut distinct: Vec<String> = groups
            .iter()
            .flat_map(|(_, m)| m.iter().map(|d| d.to_ascii_lowercase()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut names = std::collections::HashMap::new();
        for batch in distinct.chunks(SID_BATCH) {
            let any = batch
                .iter()
                .map(|dn| ldap::eq("distinguishedName", dn))
                .collect();
            for e in self
                .search(ldap::or(any), &["sAMAccountName", "sAMAccountType"])
                .await?
            {
                let user = e.text("sAMAccountType").as_deref() == Some(SAM_USER_OBJECT);
                names.insert(
                    e.dn.to_ascii_lowercase(),
                    user.then(|| e.text("sAMAccountName")).flatten(),
                );
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for (entry, links) in groups {
            let resolved: Vec<Option<&Option<String>>> = links
                .iter()
                .map(|dn| names.get(&dn.to_ascii_lowercase()))
                .collect();
            // A member that is not a user (a nested group) needs the full expansion.
            let members = if resolved.iter().any(|r| matches!(r, Some(None))) {
                self.group_members(&entry.dn).await?
            } else {
                resolved.into_iter().flatten().flatten().cloned().collect()
            };
            out.push((entry, members));
        }
        Ok(out)
    }

    /// Every user account (paged).
    pub async fn all_users(&mut self) -> Result<Vec<UserEntry>, IdentityError> {
        let found = self
            .search(ldap::eq("sAMAccountType", SAM_USER_OBJECT), USER_ATTRS)
            .await?;
        Ok(found
            .iter()
            .filter_map(user_entry)
            .filter(|e| self.admits(&e.sid))
            .collect())
    }

    /// Every group (paged).
    pub async fn all_groups(&mut self) -> Result<Vec<GroupEntry>, IdentityError> {
        let found = self
            .search(ldap::eq("objectClass", "group"), GROUP_ATTRS)
            .await?;
        Ok(found
            .iter()
            .filter_map(group_entry)
            .filter(|e| self.admits(&e.sid))
            .collect())
    }

    /// The domains the joined domain has trust relationships with: its trustedDomain
    /// objects under `CN=System` (at most 256).
    pub async fn trusts(&mut self) -> Result<Vec<TrustEntry>, IdentityError> {
        let base = format!("CN=System,{}", self.base);
        let conn = self.connect().await?;
        let result = conn
            .search_paged(
                &base,
                SearchRequestScope::SingleLevel,
                ldap::eq("objectClass", "trustedDomain"),
                &[
                    "flatName",
                    "trustPartner",
                    "securityIdentifier",
                    "trustDirection",
                    "trustType",
                ],
                PAGE,
            )
            .await;
        let found = self.settle(result)?;
        Ok(found
            .iter()
            .filter_map(trust_entry)
            .take(MAX_TRUSTS)
            .collect())
    }
}

/// `DC=example,DC=test` for example.test.
fn base_dn(dns_domain: &str) -> String {
    dns_domain
        .split('.')
        .map(|p| format!("DC={p}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn trust_entry(e: &Entry) -> Option<TrustEntry> {
    Some(TrustEntry {
        netbios: e.text("flatName")?,
        dns_domain: e.text("trustPartner")?.to_ascii_lowercase(),
        sid: e
            .values("securityIdentifier")
            .first()
            .and_then(|v| Sid::from_bytes(v).ok())?,
        direction: number(e, "trustDirection")?,
        trust_type: number(e, "trustType")?,
    })
}

fn number<T: std::str::FromStr>(e: &Entry, name: &str) -> Option<T> {
    e.text(name).and_then(|t| t.trim().parse().ok())
}

fn sid_of(e: &Entry) -> Option<Sid> {
    e.values("objectSid")
        .first()
        .and_then(|v| Sid::from_bytes(v).ok())
}

fn user_entry(e: &Entry) -> Option<UserEntry> {
    let display_name = e
        .text("displayName")
        .or_else(|| e.text("gecos"))
        .unwrap_or_default();
    Some(UserEntry {
        dn: e.dn.clone(),
        sid: sid_of(e)?,
        sam: e.text("sAMAccountName")?,
        upn: e.text("userPrincipalName"),
        display_name,
        primary_group_rid: number(e, "primaryGroupID").unwrap_or(513),
        uac: number(e, "userAccountControl").unwrap_or(0),
        uid_number: number(e, "uidNumber"),
        gid_number: number(e, "gidNumber"),
        home: e.text("unixHomeDirectory"),
        shell: e.text("loginShell"),
        pwd_last_set: number(e, "pwdLastSet").unwrap_or(0),
    })
}

fn group_entry(e: &Entry) -> Option<GroupEntry> {
    Some(GroupEntry {
        dn: e.dn.clone(),
        sid: sid_of(e)?,
        sam: e.text("sAMAccountName")?,
        gid_number: number(e, "gidNumber"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Member {
        Member {
            dns_domain: "example.test".into(),
            realm: "EXAMPLE.TEST".into(),
            netbios_domain: "EXAMPLE".into(),
            netbios_name: "HOST1".into(),
            fqdn: "host1.example.test".into(),
            domain_sid: "S-1-5-21-1-2-3".parse().unwrap(),
            password: zeroize::Zeroizing::new("x".into()),
            keytab: None,
        }
    }

    fn nowhere() -> Locator {
        Arc::new(|| Box::pin(async { Err("no DC in a unit test".to_owned()) }))
    }

    #[test]
    fn a_trusted_directory_admits_only_its_own_domains_sids() {
        let partner: Sid = "S-1-5-21-7-8-9".parse().unwrap();
        let d = Directory::trusted(
            member(),
            "Other.Test",
            partner.clone(),
            nowhere(),
            nowhere(),
            Duration::from_secs(1),
        );
        assert_eq!(d.realm(), "OTHER.TEST");
        assert_eq!(d.base, "DC=Other,DC=Test");
        assert!(d.admits(&partner.with_rid(1103).unwrap()));
        // The joined domain's Domain Admins, or a well-known SID, from a trusted DC: no.
        let joined: Sid = "S-1-5-21-1-2-3".parse().unwrap();
        assert!(!d.admits(&joined.with_rid(512).unwrap()));
        assert!(!d.admits(&"S-1-5-32-544".parse().unwrap()));
        // The joined domain's own directory is trusted for anything it answers.
        let home = Directory::new(member(), nowhere(), None, Duration::from_secs(1));
        assert!(home.admits(&joined.with_rid(512).unwrap()));
        assert_eq!(home.realm(), "EXAMPLE.TEST");
    }
}
