//! adjoin-auth: Kerberos, NTLM, SPNEGO and GSS for Adjoin (see shared/DESIGN.md).
//!
//! Built so far: [`crypto`], the Kerberos cryptosystems (RFC 3961, 3962, 4757, 8009).

#[macro_use]
mod macros;

pub mod ccache;
pub mod crypto;
pub mod gss;
pub mod keytab;
pub mod krb;
pub mod ntlm;
pub mod pac;
pub mod principal;
