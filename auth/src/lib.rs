//! adjoin-auth: Kerberos, NTLM, SPNEGO and GSS for Adjoin (see shared/DESIGN.md), sans-IO
//! but for the KDC transport in [`krb::kdc`]: [`crypto`] (RFC 3961, 3962, 4757, 8009),
//! [`krb`] (AS, TGS, AP, kpasswd, the acceptor), [`gss`] (RFC 4121, DCE style, SPNEGO),
//! [`ntlm`] (MS-NLMP client and member server), [`pac`] (MS-PAC), the MIT
//! [`keytab`] and [`ccache`] files, and [`ldap`], the sealed SASL GSSAPI LDAP client that
//! the join and the identity service share.

pub mod ccache;
pub mod crypto;
pub mod gss;
pub mod keytab;
pub mod krb;
pub mod ldap;
pub mod ntlm;
pub mod pac;
pub mod principal;
