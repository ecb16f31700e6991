//! A small LDAP client for the join (RFC 4511 messages on rasn-ldap), bound with SASL
//! GSSAPI (RFC 4752) and a sealed security layer: what Active Directory requires on port
//! 389 (it refuses simple binds without TLS).
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

use std::time::SystemTime;

use rasn::types::{OctetString, SetOf};
use rasn_ldap::{
    Attribute, AttributeValueAssertion, AuthenticationChoice, BindRequest, ChangeOperation, Filter,
    LdapMessage, LdapResult, LdapString, ModifyRequest, ModifyRequestChanges, PartialAttribute,
    ProtocolOp, ResultCode, SaslCredentials, SearchRequest, SearchRequestDerefAliases,
    SearchRequestScope,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

use crate::gss::GssError;
use crate::gss::krb5::{GssFlags, InitStep, Initiator, SecurityContext};
use crate::krb::Credentials;

/// The largest PDU accepted from the server.
const MAX_PDU: usize = 16 << 20;
/// RFC 4752 3.3 security layer bits.
const LAYER_CONFIDENTIALITY: u8 = 4;

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
    Gss(#[from] GssError),
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

/// An LDAP connection with a sealed SASL GSSAPI security layer.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    server: String,
    ctx: SecurityContext,
    next_id: u32,
    plain: Vec<u8>,
}

impl Connection {
    /// Connects to `addr` and binds with `ldap_ticket` (a service ticket for
    /// `ldap/DC-FQDN`), negotiating a confidentiality layer.
    pub async fn bind(
        addr: std::net::SocketAddr,
        ldap_ticket: Credentials,
    ) -> Result<Self, LdapError> {
        let server = addr.to_string();
        let io = |source| LdapError::Io {
            server: server.clone(),
            source,
        };
        let mut stream = TcpStream::connect(addr).await.map_err(io)?;
        let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
        let (init, step) = Initiator::start(ldap_ticket, flags, SystemTime::now())?;
        let (InitStep::Continue(token), Some(init)) = (step, init) else {
            return Err(bind_error(&server, "mutual authentication was not set up"));
        };
        let reply = plain_bind(&mut stream, &server, 1, Some(token)).await?;
        let reply = reply.ok_or_else(|| bind_error(&server, "no AP-REP in the bind response"))?;
        let mut ctx = init.step(&reply)?;
        // RFC 4752 3.1: the server now offers its security layers in a wrap token.
        let offer = plain_bind(&mut stream, &server, 2, None).await?;
        let offer = offer.ok_or_else(|| bind_error(&server, "no security layer offer"))?;
        let (offer, _) = ctx.unwrap(&offer)?;
        let layers = offer.first().copied().unwrap_or(0);
        if layers & LAYER_CONFIDENTIALITY == 0 {
            return Err(bind_error(
                &server,
                "the server offers no confidentiality layer",
            ));
        }
        // Our choice and the largest buffer we accept (RFC 4752 3.1; zero would mean none).
        let max = u32::try_from(MAX_PDU)
            .unwrap_or(u32::MAX)
            .min(0x00ff_ffff)
            .to_be_bytes();
        let choice = ctx.wrap(&[LAYER_CONFIDENTIALITY, max[1], max[2], max[3]], false)?;
        plain_bind(&mut stream, &server, 3, Some(choice)).await?;
        debug!(%server, "LDAP bound with SASL GSSAPI, sealed");
        Ok(Self {
            stream,
            server,
            ctx,
            next_id: 4,
            plain: Vec::new(),
        })
    }

    /// A base, one-level or subtree search; returns the entries.
    pub async fn search(
        &mut self,
        base: &str,
        scope: SearchRequestScope,
        filter: Filter,
        attributes: &[&str],
    ) -> Result<Vec<Entry>, LdapError> {
        let req = SearchRequest::new(
            LdapString(base.into()),
            scope,
            SearchRequestDerefAliases::NeverDerefAliases,
            0,
            0,
            false,
            filter,
            attributes.iter().map(|a| LdapString((*a).into())).collect(),
        );
        let id = self.send(ProtocolOp::SearchRequest(req)).await?;
        let mut entries = Vec::new();
        loop {
            match self.receive(id).await? {
                ProtocolOp::SearchResEntry(e) => entries.push(Entry {
                    dn: e.object_name.0,
                    attributes: e
                        .attributes
                        .into_iter()
                        .map(|a| {
                            (
                                a.r#type.0,
                                a.vals.to_vec().into_iter().map(|v| v.to_vec()).collect(),
                            )
                        })
                        .collect(),
                }),
                ProtocolOp::SearchResDone(done) => {
                    check(done.0, "search", base)?;
                    return Ok(entries);
                }
                _ => {}
            }
        }
    }

    /// Reads one entry (a base-object search), `None` if the search found nothing.
    pub async fn read_entry(
        &mut self,
        dn: &str,
        attributes: &[&str],
    ) -> Result<Option<Entry>, LdapError> {
        let found = self
            .search(
                dn,
                SearchRequestScope::BaseObject,
                present("objectClass"),
                attributes,
            )
            .await?;
        Ok(found.into_iter().next())
    }

    /// Adds an entry.
    pub async fn add(
        &mut self,
        dn: &str,
        attributes: &[(&str, Vec<Vec<u8>>)],
    ) -> Result<(), LdapError> {
        let attrs = attributes
            .iter()
            .map(|(n, v)| Attribute::new(LdapString((*n).into()), set(v)))
            .collect();
        let req = rasn_ldap::AddRequest {
            entry: LdapString(dn.into()),
            attributes: attrs,
        };
        let id = self.send(ProtocolOp::AddRequest(req)).await?;
        match self.receive(id).await? {
            ProtocolOp::AddResponse(r) => check(r.0, "add", dn),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Replaces attributes of an entry.
    pub async fn replace(
        &mut self,
        dn: &str,
        attributes: &[(&str, Vec<Vec<u8>>)],
    ) -> Result<(), LdapError> {
        let changes = attributes
            .iter()
            .map(|(n, v)| ModifyRequestChanges {
                operation: ChangeOperation::Replace,
                modification: PartialAttribute::new(LdapString((*n).into()), set(v)),
            })
            .collect();
        let req = ModifyRequest {
            object: LdapString(dn.into()),
            changes,
        };
        let id = self.send(ProtocolOp::ModifyRequest(req)).await?;
        match self.receive(id).await? {
            ProtocolOp::ModifyResponse(r) => check(r.0, "modify", dn),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Deletes an entry.
    pub async fn delete(&mut self, dn: &str) -> Result<(), LdapError> {
        let id = self
            .send(ProtocolOp::DelRequest(rasn_ldap::DelRequest(LdapString(
                dn.into(),
            ))))
            .await?;
        match self.receive(id).await? {
            ProtocolOp::DelResponse(r) => check(r.0, "delete", dn),
            other => Err(self.unexpected(&other)),
        }
    }

    async fn send(&mut self, op: ProtocolOp) -> Result<u32, LdapError> {
        let id = self.next_id;
        self.next_id += 1;
        let bytes = encode(&LdapMessage::new(id, op));
        let token = self.ctx.wrap(&bytes, true)?;
        let len = u32::try_from(token.len()).unwrap_or(u32::MAX);
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&token);
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| self.io(e))?;
        Ok(id)
    }

    /// The next message for `id` (unsolicited notifications, id 0, end the session).
    async fn receive(&mut self, id: u32) -> Result<ProtocolOp, LdapError> {
        loop {
            if let Some((message, used)) = self.decode_buffered()? {
                self.plain.drain(..used);
                if message.message_id == id {
                    return Ok(message.protocol_op);
                }
                if message.message_id == 0 {
                    return Err(
                        self.malformed("the server ended the session (notice of disconnection)")
                    );
                }
                continue;
            }
            let mut len = [0u8; 4];
            self.stream
                .read_exact(&mut len)
                .await
                .map_err(|e| self.io(e))?;
            let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
            if len > MAX_PDU {
                return Err(self.malformed("security layer buffer too large"));
            }
            let mut token = vec![0; len];
            self.stream
                .read_exact(&mut token)
                .await
                .map_err(|e| self.io(e))?;
            let (plain, _) = self.ctx.unwrap(&token)?;
            self.plain.extend_from_slice(&plain);
        }
    }

    fn decode_buffered(&self) -> Result<Option<(LdapMessage, usize)>, LdapError> {
        let Some(total) = ber_length(&self.plain) else {
            return Ok(None);
        };
        if self.plain.len() < total {
            return Ok(None);
        }
        let message = rasn::ber::decode::<LdapMessage>(&self.plain[..total])
            .map_err(|e| self.malformed(&e.to_string()))?;
        Ok(Some((message, total)))
    }

    fn io(&self, source: std::io::Error) -> LdapError {
        LdapError::Io {
            server: self.server.clone(),
            source,
        }
    }

    fn malformed(&self, reason: &str) -> LdapError {
        LdapError::Malformed {
            server: self.server.clone(),
            reason: reason.to_owned(),
        }
    }

    fn unexpected(&self, op: &ProtocolOp) -> LdapError {
        self.malformed(&format!("unexpected reply {op:?}"))
    }
}

/// One SASL GSSAPI bind round trip before the security layer exists: returns the server's
/// SASL credentials. `saslBindInProgress` and `success` both continue.
async fn plain_bind(
    stream: &mut TcpStream,
    server: &str,
    id: u32,
    token: Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, LdapError> {
    let creds = SaslCredentials::new(LdapString("GSSAPI".into()), token.map(OctetString::from));
    let bind = BindRequest::new(
        3,
        LdapString(String::new()),
        AuthenticationChoice::Sasl(creds),
    );
    let bytes = encode(&LdapMessage::new(id, ProtocolOp::BindRequest(bind)));
    let io = |source| LdapError::Io {
        server: server.to_owned(),
        source,
    };
    stream.write_all(&bytes).await.map_err(io)?;
    let message = read_plain(stream, server).await?;
    let ProtocolOp::BindResponse(resp) = message.protocol_op else {
        return Err(bind_error(server, "the reply is not a BindResponse"));
    };
    match resp.result_code {
        ResultCode::Success | ResultCode::SaslBindInProgress => {
            Ok(resp.server_sasl_creds.map(|c| c.to_vec()))
        }
        code => Err(bind_error(
            server,
            &format!("{code:?}{}", diagnostic(&resp.diagnostic_message.0)),
        )),
    }
}

async fn read_plain(stream: &mut TcpStream, server: &str) -> Result<LdapMessage, LdapError> {
    let io = |source| LdapError::Io {
        server: server.to_owned(),
        source,
    };
    let mut buf = vec![0u8; 2];
    stream.read_exact(&mut buf).await.map_err(io)?;
    if buf[1] & 0x80 != 0 {
        let n = usize::from(buf[1] & 0x7f);
        let mut more = vec![0u8; n];
        stream.read_exact(&mut more).await.map_err(io)?;
        buf.extend_from_slice(&more);
    }
    let total = ber_length(&buf)
        .filter(|t| *t <= MAX_PDU)
        .ok_or_else(|| LdapError::Malformed {
            server: server.to_owned(),
            reason: "bad BER length".into(),
        })?;
    let have = buf.len();
    buf.resize(total, 0);
    stream.read_exact(&mut buf[have..]).await.map_err(io)?;
    rasn::ber::decode(&buf).map_err(|e| LdapError::Malformed {
        server: server.to_owned(),
        reason: e.to_string(),
    })
}

/// The total length of the BER element at the start of `b`, if its header is complete.
fn ber_length(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return Some(usize::MAX);
    }
    let bytes = b.get(2..2 + n)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
    Some(2 + n + len)
}

fn encode(message: &LdapMessage) -> Vec<u8> {
    // Encoding a message we built cannot fail.
    rasn::ber::encode(message).unwrap_or_default()
}

fn set(values: &[Vec<u8>]) -> SetOf<OctetString> {
    SetOf::from_vec(
        values
            .iter()
            .map(|v| OctetString::from(v.clone()))
            .collect(),
    )
}

fn check(result: LdapResult, operation: &'static str, dn: &str) -> Result<(), LdapError> {
    if result.result_code == ResultCode::Success {
        return Ok(());
    }
    Err(LdapError::Result {
        operation,
        dn: dn.to_owned(),
        code: result.result_code,
        message: result.diagnostic_message.0,
    })
}

fn bind_error(server: &str, reason: &str) -> LdapError {
    LdapError::Bind {
        server: server.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `(attr=value)`.
pub fn eq(attr: &str, value: &str) -> Filter {
    Filter::EqualityMatch(AttributeValueAssertion::new(
        LdapString(attr.into()),
        OctetString::from(value.as_bytes().to_vec()),
    ))
}

/// `(attr=*)`.
pub fn present(attr: &str) -> Filter {
    Filter::Present(LdapString(attr.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_lengths() {
        assert_eq!(ber_length(&[0x30, 0x05]), Some(7));
        assert_eq!(ber_length(&[0x30, 0x82, 0x01, 0x00]), Some(4 + 256));
        assert_eq!(ber_length(&[0x30, 0x82, 0x01]), None);
        assert_eq!(ber_length(&[0x30]), None);
    }
}
