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

/// `N` bytes from the system random source (GUIDs, salts, nonce prefixes).
fn random<const N: usize>() -> Result<[u8; N], SmbError> {
    let mut out = [0; N];
    getrandom::fill(&mut out).map_err(random_failed)?;
    Ok(out)
}

/// The error for a failed system random source.
fn random_failed(e: getrandom::Error) -> SmbError {
    SmbError::Auth(format!("the system random source failed: {e}"))
}
