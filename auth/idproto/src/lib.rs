//! adjoin-idproto: what adjoind, libnss_adjoin, pam_adjoin and `adjoin` say to each other
//! over the identity socket (docs/identity-protocol.md), and the NSS fast cache file
//! ([`cache`]). The standard library and rustix only: the NSS and PAM modules load it into
//! every process that looks a user up, so it stays small and never starts a runtime.

mod client;
mod message;
mod wire;

pub mod cache;

pub use client::{Client, ClientError};
pub use message::{
    ErrorKind, Group, PamReply, PamStatus, Passwd, Request, Response, Secret, frame_len,
};

/// The protocol version every body starts with.
pub const PROTOCOL_VERSION: u16 = 1;
/// The largest request body the daemon accepts.
pub const MAX_REQUEST: usize = 64 * 1024;
/// The largest response body a client accepts.
pub const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Where adjoind listens by default (the registry's `Services\adjoind\SocketPath`).
pub const DEFAULT_SOCKET: &str = "/run/adjoin/adjoind.sock";
/// Where adjoind writes the NSS fast cache by default (`Identity\NssCachePath`).
pub const DEFAULT_NSS_CACHE: &str = "/var/lib/adjoin/nss.cache";
/// Overrides the socket (ignored by the modules in setuid processes).
pub const SOCKET_ENV: &str = "ADJOIN_SOCKET";
/// Overrides the fast cache file (ignored by the modules in setuid processes).
pub const NSS_CACHE_ENV: &str = "ADJOIN_NSS_CACHE";

/// A body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtoError {
    /// It ends before its fields do.
    Truncated,
    /// Its length is over the limit.
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Another protocol version.
    Version {
        /// The version it carries.
        got: u16,
    },
    /// A tag this version does not know.
    UnknownTag(u16),
    /// A string is not UTF-8.
    BadUtf8,
    /// A value out of its range (a status code, an error kind, the cache's magic).
    BadValue,
    /// Bytes after the last field.
    Trailing(usize),
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("the message ends early"),
            Self::TooLarge { len, max } => {
                write!(f, "a {len}-byte message is over the {max}-byte limit")
            }
            Self::Version { got } => write!(
                f,
                "protocol version {got} (this side speaks {PROTOCOL_VERSION})"
            ),
            Self::UnknownTag(t) => write!(f, "unknown message tag {t}"),
            Self::BadUtf8 => f.write_str("a string is not UTF-8"),
            Self::BadValue => f.write_str("a value is out of range"),
            Self::Trailing(n) => write!(f, "{n} bytes after the message"),
        }
    }
}

impl std::error::Error for ProtoError {}

/// The key a user or group name is filed under: lower case (Unicode).
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}
