//! adjoin-smb: the SMB2/3 wire codec ([`proto`], shared by client and server),
//! message signing ([`signing`]), and a client ([`client`]) that carries DCE/RPC
//! over named pipes (ncacn_np) to domain controllers. See ../shared/DESIGN.md.

pub mod client;
pub mod encryption;
pub mod error;
pub mod proto;
pub mod server;
pub mod signing;

pub use error::SmbError;
