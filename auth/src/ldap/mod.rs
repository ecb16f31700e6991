//! A small LDAP client for the join and the identity service (RFC 4511 messages on
//! rasn-ldap), bound with SASL GSSAPI (RFC 4752) and a sealed security layer: what Active
//! Directory requires on port 389 (it refuses simple binds without TLS).
//!
//! ```text
//! client                                              DC
//!   BindRequest SASL GSSAPI (GSS token: AP-REQ) ---->
//!         <---- BindResponse saslBindInProgress (AP-REP)
//!   BindRequest SASL GSSAPI (empty)            ---->
//!         <---- BindResponse saslBindInProgress (wrap: layers | max buffer)
//!   BindRequest SASL GSSAPI (wrap: 0x04 confidentiality | max buffer) ---->
//!         <---- BindResponse success
//!   then every PDU: 4-byte length || GSS wrap token (sealed) of the BER message
//! ```
//!
//! Inside: `connection` drives the socket ([`Connection`]); `filter` builds RFC 4511
//! filters ([`and`], [`extensible`], ...); `control` is RFC 2696 paged results
//! ([`Connection::search_paged`]); `range` is MS-ADTS range retrieval of large attributes
//! ([`Connection::read_all_values`]).

mod connection;
mod control;
mod filter;
mod range;
pub mod sasl;

use rasn_ldap::{ResultCode, SearchResultEntry};

pub use connection::Connection;
pub use control::PagedResultsError;
pub use filter::{
    MATCHING_RULE_BIT_AND, MATCHING_RULE_BIT_OR, MATCHING_RULE_IN_CHAIN, and, eq, eq_bytes,
    extensible, or, present,
};
pub use range::RangeError;

/// The most entries one paged search collects, and the most values
/// [`Connection::read_all_values`] collects.
pub const MAX_ENTRIES: usize = 1_000_000;

/// An LDAP operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LdapError {
    /// The TCP connection failed.
    #[error("LDAP connection to {server} failed: {source}")]
    Io {
        /// The server.
        server: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The SASL GSSAPI bind failed.
    #[error("LDAP SASL/GSSAPI bind to {server} failed: {reason}")]
    Bind {
        /// The server.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered an operation with an error result.
    #[error("LDAP {operation} of {dn} failed: {code:?}{}", diagnostic(message))]
    Result {
        /// What was attempted.
        operation: &'static str,
        /// The entry.
        dn: String,
        /// The LDAP result code.
        code: ResultCode,
        /// The server's diagnostic message.
        message: String,
    },
    /// The server sent something that is not LDAP.
    #[error("malformed LDAP message from {server}: {reason}")]
    Malformed {
        /// The server.
        server: String,
        /// What is wrong.
        reason: String,
    },
    /// A GSS token failed.
    #[error("LDAP security layer: {0}")]
    Gss(#[from] crate::gss::GssError),
    /// The server did not answer within the deadline ([`Connection::set_timeout`],
    /// [`Connection::bind_with_timeout`]). The connection is unusable afterwards.
    #[error("LDAP {operation} on {server}: no answer in time")]
    Timeout {
        /// The server.
        server: String,
        /// What was attempted: "bind", "search", "add", ...
        operation: &'static str,
    },
    /// An earlier timeout, I/O or security-layer error left the connection mid-message;
    /// bind a new one.
    #[error("the LDAP connection to {server} broke earlier; reconnect")]
    Broken {
        /// The server.
        server: String,
    },
    /// A paged search returned more than [`MAX_ENTRIES`] entries.
    #[error("LDAP search under {base} returned more than {max} entries")]
    TooManyEntries {
        /// The search base.
        base: String,
        /// The bound.
        max: usize,
    },
    /// An attribute has more than [`MAX_ENTRIES`] values.
    #[error("{attribute} of {dn} has more than {max} values")]
    TooManyValues {
        /// The entry.
        dn: String,
        /// The attribute.
        attribute: String,
        /// The bound.
        max: usize,
    },
    /// The server's paged-results response control is broken, or it pages forever.
    #[error("LDAP paged search on {server}: {source}")]
    PagedResults {
        /// The server.
        server: String,
        /// What is wrong.
        source: PagedResultsError,
    },
    /// The server's ranged answer for a large attribute is broken.
    #[error("LDAP range retrieval of {dn} on {server}: {source}")]
    Range {
        /// The server.
        server: String,
        /// The entry.
        dn: String,
        /// What is wrong.
        source: RangeError,
    },
}

fn diagnostic(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({})", message.trim_end_matches('\0').trim())
    }
}

impl LdapError {
    /// The LDAP result code, if the server refused an operation.
    pub fn code(&self) -> Option<ResultCode> {
        match self {
            Self::Result { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// One search result entry: its DN and attributes (names as the server spelled them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The distinguished name.
    pub dn: String,
    /// Attribute name and values.
    pub attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl Entry {
    /// The values of `name` (case-insensitive).
    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first value of `name` as text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values(name)
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

impl From<SearchResultEntry> for Entry {
    fn from(e: SearchResultEntry) -> Self {
        Self {
            dn: e.object_name.0,
            attributes: e
                .attributes
                .into_iter()
                .map(|a| {
                    let values = a.vals.to_vec().into_iter().map(|v| v.to_vec()).collect();
                    (a.r#type.0, values)
                })
                .collect(),
        }
    }
}
