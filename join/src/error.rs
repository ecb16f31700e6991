//! What can go wrong with a joined member's own operations: leave, testjoin, rotate,
//! setname, and opening the secure channel. Each message names the cause and what to do;
//! the join itself reports [`crate::join::JoinError`] (step, cause, what was undone).

use std::path::PathBuf;

use adjoin_auth::crypto::CryptoError;
use adjoin_auth::keytab::KeytabError;
use adjoin_auth::krb::KerberosError;
use adjoin_auth::krb::kpasswd::KpasswdError;
use adjoin_auth::ldap::LdapError;
use adjoin_auth::principal::PrincipalError;
use adjoin_rpc::netlogon::channel::ChannelError;

use crate::discover::DiscoverError;
use crate::names::NameError;

/// A member operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemberError {
    /// The registry holds no join state.
    #[error(
        "this machine is not joined (the registry holds no join state): join first with \
         `domain-join --name FQDN`"
    )]
    NotJoined,
    /// A join state value is missing or unreadable.
    #[error(
        "the registry's Join\\{value} {problem}: the join record is damaged; `domain-join query` \
         shows it, and a join with --reuse-account writes it again"
    )]
    DamagedState {
        /// The value's name under `HKEY_THIS_MACHINE\Join`.
        value: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The machine password is not in the registry (or not readable by this user).
    #[error(
        "the registry holds no machine password (Secrets\\MachineAccount\\Password): run as \
         root, or join again with --reuse-account"
    )]
    NoMachinePassword,
    /// The registry could not be read or written; nothing was committed.
    #[error("the registry: {0}")]
    Registry(#[from] adjoin_registry::Error),
    /// No DC of the domain was found.
    #[error("no domain controller of {domain}: {source}")]
    Discover {
        /// The domain.
        domain: String,
        /// Why.
        #[source]
        source: DiscoverError,
    },
    /// A user name given is not a principal name.
    #[error("{0}")]
    Principal(#[from] PrincipalError),
    /// The KDC refused a logon.
    #[error("{principal} cannot log on: {source}")]
    Logon {
        /// Who tried.
        principal: String,
        /// The KDC's answer.
        #[source]
        source: Box<KerberosError>,
    },
    /// The KDC refused a service ticket.
    #[error("no ticket for {service}: {source}")]
    ServiceTicket {
        /// The service principal.
        service: String,
        /// The KDC's answer.
        #[source]
        source: Box<KerberosError>,
    },
    /// The sealed LDAP bind to the DC failed.
    #[error("the LDAP bind to {dc} failed: {source}")]
    LdapBind {
        /// The DC.
        dc: String,
        /// Why.
        #[source]
        source: Box<LdapError>,
    },
    /// The machine's current keys do not log on.
    #[error(
        "the machine keys of {account} do not work ({source}): AD no longer has this \
         machine's password; join again with --reuse-account"
    )]
    KeysRejected {
        /// The machine account.
        account: String,
        /// The KDC's answer.
        #[source]
        source: Box<KerberosError>,
    },
    /// The new password was set in AD but its keys do not log on; it is kept aside.
    #[error(
        "the new password of {account} was set but its keys do not work ({source}); it is \
         kept as Secrets\\MachineAccount\\PendingPassword: `domain-join repair` adopts it \
         once the DC takes it"
    )]
    NewKeysRejected {
        /// The machine account.
        account: String,
        /// The KDC's answer.
        #[source]
        source: Box<KerberosError>,
    },
    /// An LDAP operation on the DC failed.
    #[error("{action} {dn}: {source}")]
    Ldap {
        /// What was being done ("delete", "disable", "rename").
        action: &'static str,
        /// The object.
        dn: String,
        /// The DC's answer.
        #[source]
        source: Box<LdapError>,
    },
    /// The new account name is another account's.
    #[error("the account name {name} is taken by {dn}: choose another --netbios-name")]
    NameTaken {
        /// The sAMAccountName.
        name: String,
        /// The account holding it.
        dn: String,
    },
    /// Renaming the account needs an administrator.
    #[error(
        "a new NetBIOS name renames the account (sAMAccountName), which only an administrator \
         may do: give --user"
    )]
    RenameNeedsAdmin,
    /// The DC refused a name change made with the machine's own credentials.
    #[error(
        "AD refused the new name of {dn} ({source}): give --user with an administrator to \
         change it"
    )]
    RenameRefused {
        /// The computer object.
        dn: String,
        /// The DC's answer.
        #[source]
        source: Box<LdapError>,
    },
    /// kpasswd refused the password change.
    #[error("kpasswd change of {account}: {source}")]
    Kpasswd {
        /// The machine account.
        account: String,
        /// Why.
        #[source]
        source: Box<KpasswdError>,
    },
    /// NetrServerPasswordSet2 over the secure channel failed.
    #[error("NetrServerPasswordSet2 for {account}: {source}")]
    Netlogon {
        /// The machine account.
        account: String,
        /// Why.
        #[source]
        source: Box<ChannelError>,
    },
    /// The keytab could not be read or written.
    #[error("the keytab {}: {source}; check that it is writable and the disk has room", path.display())]
    Keytab {
        /// The keytab file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeytabError,
    },
    /// The keytab holds no keys for the machine account.
    #[error(
        "{} has no keys for {account}: run `domain-join rotate` to write new ones",
        path.display()
    )]
    NoKeys {
        /// The keytab file.
        path: PathBuf,
        /// The machine account.
        account: String,
    },
    /// Keys could not be made.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The system's random source failed.
    #[error("the system's random source: {0}")]
    Random(#[from] getrandom::Error),
    /// A machine name is not valid.
    #[error("{0}")]
    Name(#[from] NameError),
    /// The secure DNS update failed.
    #[error("DNS registration: {0}")]
    Dns(#[from] crate::dns_update::DnsUpdateError),
    /// `Join\DnsServers` is not a list of servers.
    #[error("the registry's Join\\DnsServers {0}: fix it with regshell")]
    DnsServers(String),
}

impl MemberError {
    /// An LDAP `action` on `dn` the DC refused or failed.
    pub(crate) fn ldap(action: &'static str, dn: &str, e: LdapError) -> Self {
        Self::Ldap {
            action,
            dn: dn.to_owned(),
            source: Box::new(e),
        }
    }

    /// A failed logon told more precisely by `f` (given the principal and the KDC's
    /// answer); any other error as it is.
    pub(crate) fn when_logon(self, f: impl FnOnce(String, Box<KerberosError>) -> Self) -> Self {
        match self {
            Self::Logon { principal, source } => f(principal, source),
            other => other,
        }
    }

    /// A failed logon of `principal`.
    pub(crate) fn logon(principal: impl ToString, source: KerberosError) -> Self {
        Self::Logon {
            principal: principal.to_string(),
            source: Box::new(source),
        }
    }
}
