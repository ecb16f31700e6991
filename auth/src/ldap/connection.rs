//! The LDAP connection: the sealed SASL GSSAPI bind (RFC 4752), then RFC 4511 operations
//! each wrapped in a GSS token, every read and write under the connection's deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use rasn::types::{OctetString, SetOf};
use rasn_ldap::{
    Attribute, AuthenticationChoice, BindRequest, ChangeOperation, Control, Filter, LdapMessage,
    LdapResult, LdapString, ModifyRequest, ModifyRequestChanges, PartialAttribute, ProtocolOp,
    ResultCode, SaslCredentials, SearchRequest, SearchRequestDerefAliases, SearchRequestScope,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

use super::control::{self, PagedResultsError};
use super::range::RangedRead;
use super::sasl::{self, LAYER_CONFIDENTIALITY, MAX_PDU, Receiver, ber_length};
use super::{Entry, LdapError, MAX_ENTRIES, diagnostic, filter};
use crate::gss::krb5::{GssFlags, InitStep, Initiator, SecurityContext};
use crate::krb::Credentials;

/// How long [`Connection::bind`] waits for the connection and the bind.
const BIND_TIMEOUT: Duration = Duration::from_secs(60);
/// How many pages in a row may come back empty with a cookie before a paged search gives
/// up (AD may return an empty page when a page's time runs out, not a thousand).
const MAX_EMPTY_PAGES: usize = 1000;

/// An LDAP connection with a sealed SASL GSSAPI security layer.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    server: String,
    ctx: SecurityContext,
    next_id: u32,
    /// Plaintext received and not yet read as messages.
    received: Receiver,
    /// The deadline for each read and write; `None` waits for ever.
    timeout: Option<Duration>,
    /// The operation under way, for [`LdapError::Timeout`].
    operation: &'static str,
    /// LDAP requests sent since the bind.
    requests: u64,
    /// A timeout or transport error left the stream or the GSS sequence mid-message.
    broken: bool,
}

impl Connection {
    /// Connects to `addr` and binds with `ldap_ticket` (a service ticket for
    /// `ldap/DC-FQDN`), negotiating a confidentiality layer; gives up after 60 s.
    pub async fn bind(addr: SocketAddr, ldap_ticket: Credentials) -> Result<Self, LdapError> {
        Self::bind_with_timeout(addr, ldap_ticket, BIND_TIMEOUT).await
    }

    /// [`Connection::bind`], failing with [`LdapError::Timeout`] when connecting and
    /// binding take longer than `timeout` (a DC that accepts and never answers). Later
    /// operations wait for ever unless [`Connection::set_timeout`] says otherwise.
    pub async fn bind_with_timeout(
        addr: SocketAddr,
        ldap_ticket: Credentials,
        timeout: Duration,
    ) -> Result<Self, LdapError> {
        tokio::time::timeout(timeout, Self::handshake(addr, ldap_ticket))
            .await
            .map_err(|_| LdapError::Timeout {
                server: addr.to_string(),
                operation: "bind",
            })?
    }

    async fn handshake(addr: SocketAddr, ldap_ticket: Credentials) -> Result<Self, LdapError> {
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
        let layers = sasl::read_layer_offer(&mut ctx, &offer)?;
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
            received: Receiver::default(),
            timeout: None,
            operation: "bind",
            requests: 0,
            broken: false,
        })
    }

    /// From now on each read and write fails with [`LdapError::Timeout`] when the server
    /// does not answer within `timeout` (by default they wait for ever). A search is not
    /// bounded as a whole: each of its messages gets `timeout`.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// How many LDAP requests this connection has sent since the bind.
    pub fn requests_sent(&self) -> u64 {
        self.requests
    }

    /// A base, one-level or subtree search; returns the entries.
    pub async fn search(
        &mut self,
        base: &str,
        scope: SearchRequestScope,
        filter: Filter,
        attributes: &[&str],
    ) -> Result<Vec<Entry>, LdapError> {
        let req = search_request(base, scope, filter, attributes);
        let id = self.send(ProtocolOp::SearchRequest(req), None).await?;
        let mut entries = Vec::new();
        self.collect_entries(id, base, &mut entries, usize::MAX)
            .await?;
        Ok(entries)
    }

    /// A search that asks for `page_size` entries at a time (RFC 2696; at least 1), until
    /// the server's cookie is empty; at most [`MAX_ENTRIES`] in all. A server that does
    /// not page returns everything at once, which ends the search too.
    pub async fn search_paged(
        &mut self,
        base: &str,
        scope: SearchRequestScope,
        filter: Filter,
        attributes: &[&str],
        page_size: u32,
    ) -> Result<Vec<Entry>, LdapError> {
        let mut entries = Vec::new();
        let mut cookie = Vec::new();
        let mut empty_pages = 0;
        loop {
            let req = search_request(base, scope, filter.clone(), attributes);
            // RFC 2696 3: a size of zero with a cookie abandons the search; never ask it.
            let paged = control::paged_results(page_size.max(1), &cookie);
            let id = self
                .send(ProtocolOp::SearchRequest(req), Some(vec![paged]))
                .await?;
            let before = entries.len();
            let controls = self
                .collect_entries(id, base, &mut entries, MAX_ENTRIES)
                .await?;
            cookie = control::response_cookie(controls.as_deref())
                .map_err(|e| self.paged_error(e))?
                .unwrap_or_default();
            // RFC 2696 3: an empty cookie marks the last page.
            if cookie.is_empty() {
                return Ok(entries);
            }
            empty_pages = if entries.len() == before {
                empty_pages + 1
            } else {
                0
            };
            if empty_pages >= MAX_EMPTY_PAGES {
                return Err(self.paged_error(PagedResultsError::Stalled { pages: empty_pages }));
            }
        }
    }

    /// Every value of `attribute` of the entry `dn`, in as many searches as the server's
    /// range limit needs (MS-ADTS 3.1.1.3.1.3.3: `member;range=0-1499`, then
    /// `member;range=1500-*`, ...); at most [`MAX_ENTRIES`] values.
    pub async fn read_all_values(
        &mut self,
        dn: &str,
        attribute: &str,
    ) -> Result<Vec<Vec<u8>>, LdapError> {
        let mut read = RangedRead::new(attribute);
        loop {
            let request = read.request();
            let entry = self.read_entry(dn, &[&request]).await?;
            let done = read
                .handle(entry.as_ref())
                .map_err(|source| LdapError::Range {
                    server: self.server.clone(),
                    dn: dn.to_owned(),
                    source,
                })?;
            if read.values().len() > MAX_ENTRIES {
                return Err(LdapError::TooManyValues {
                    dn: dn.to_owned(),
                    attribute: attribute.to_owned(),
                    max: MAX_ENTRIES,
                });
            }
            if done {
                return Ok(read.into_values());
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
                filter::present("objectClass"),
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
        let id = self.send(ProtocolOp::AddRequest(req), None).await?;
        match self.receive(id).await?.protocol_op {
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
        let id = self.send(ProtocolOp::ModifyRequest(req), None).await?;
        match self.receive(id).await?.protocol_op {
            ProtocolOp::ModifyResponse(r) => check(r.0, "modify", dn),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Renames an entry in place (RFC 4511 4.9 ModifyDN, the old RDN value deleted): `rdn`
    /// is the new relative name, e.g. `CN=NEW`. Returns the new DN.
    pub async fn rename(&mut self, dn: &str, rdn: &str) -> Result<String, LdapError> {
        let req = rasn_ldap::ModifyDnRequest {
            entry: LdapString(dn.into()),
            new_rdn: LdapString(rdn.into()),
            delete_old_rdn: true,
            new_superior: None,
        };
        let id = self.send(ProtocolOp::ModDnRequest(req), None).await?;
        match self.receive(id).await?.protocol_op {
            ProtocolOp::ModDnResponse(r) => check(r.0, "rename", dn)?,
            other => return Err(self.unexpected(&other)),
        }
        let parent = dn.split_once(',').map_or("", |(_, p)| p);
        Ok(if parent.is_empty() {
            rdn.to_owned()
        } else {
            format!("{rdn},{parent}")
        })
    }

    /// Deletes an entry.
    pub async fn delete(&mut self, dn: &str) -> Result<(), LdapError> {
        let req = rasn_ldap::DelRequest(LdapString(dn.into()));
        let id = self.send(ProtocolOp::DelRequest(req), None).await?;
        match self.receive(id).await?.protocol_op {
            ProtocolOp::DelResponse(r) => check(r.0, "delete", dn),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Reads the results of search `id` into `entries` (failing past `limit` of them)
    /// until SearchResultDone; returns its controls. Referrals are not followed.
    async fn collect_entries(
        &mut self,
        id: u32,
        base: &str,
        entries: &mut Vec<Entry>,
        limit: usize,
    ) -> Result<Option<Vec<Control>>, LdapError> {
        loop {
            let message = self.receive(id).await?;
            match message.protocol_op {
                ProtocolOp::SearchResEntry(e) => {
                    if entries.len() >= limit {
                        return Err(LdapError::TooManyEntries {
                            base: base.to_owned(),
                            max: limit,
                        });
                    }
                    entries.push(Entry::from(e));
                }
                ProtocolOp::SearchResDone(done) => {
                    check(done.0, "search", base)?;
                    return Ok(message.controls);
                }
                _ => {}
            }
        }
    }

    /// Seals and writes one request; returns its message id.
    async fn send(
        &mut self,
        op: ProtocolOp,
        controls: Option<Vec<Control>>,
    ) -> Result<u32, LdapError> {
        self.usable()?;
        self.operation = operation_name(&op);
        let id = self.next_id;
        self.next_id += 1;
        let mut message = LdapMessage::new(id, op);
        message.controls = controls;
        let token = match self.ctx.wrap(&encode(&message), true) {
            Ok(token) => token,
            Err(e) => return Err(self.fail(e.into())),
        };
        let len = u32::try_from(token.len()).unwrap_or(u32::MAX);
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&token);
        let written = within(self.timeout, self.stream.write_all(&frame)).await;
        match written {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(self.fail_io(e)),
            None => return Err(self.fail(self.timed_out())),
        }
        self.requests += 1;
        Ok(id)
    }

    /// The next message for `id`, within the deadline.
    async fn receive(&mut self, id: u32) -> Result<LdapMessage, LdapError> {
        self.usable()?;
        match within(self.timeout, self.receive_now(id)).await {
            Some(Ok(message)) => Ok(message),
            Some(Err(e)) => Err(self.fail(e)),
            None => Err(self.fail(self.timed_out())),
        }
    }

    /// The next message for `id` (unsolicited notifications, id 0, end the session).
    async fn receive_now(&mut self, id: u32) -> Result<LdapMessage, LdapError> {
        loop {
            let next = self.received.next_message();
            if let Some(message) = next.map_err(|reason| self.malformed(&reason))? {
                if message.message_id == id {
                    return Ok(message);
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
            let Some(len) = sasl::buffer_len(len) else {
                return Err(self.malformed("security layer buffer too large"));
            };
            let mut token = vec![0; len];
            self.stream
                .read_exact(&mut token)
                .await
                .map_err(|e| self.io(e))?;
            self.received.push_buffer(&mut self.ctx, &token)?;
        }
    }

    fn usable(&self) -> Result<(), LdapError> {
        if self.broken {
            return Err(LdapError::Broken {
                server: self.server.clone(),
            });
        }
        Ok(())
    }

    /// Marks the connection broken: the stream or the GSS sequence is mid-message.
    fn fail(&mut self, e: LdapError) -> LdapError {
        self.broken = true;
        e
    }

    fn fail_io(&mut self, source: std::io::Error) -> LdapError {
        let e = self.io(source);
        self.fail(e)
    }

    fn timed_out(&self) -> LdapError {
        LdapError::Timeout {
            server: self.server.clone(),
            operation: self.operation,
        }
    }

    fn paged_error(&self, source: PagedResultsError) -> LdapError {
        LdapError::PagedResults {
            server: self.server.clone(),
            source,
        }
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

/// `future`'s output, or `None` when `limit` passes first.
async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

fn operation_name(op: &ProtocolOp) -> &'static str {
    match op {
        ProtocolOp::SearchRequest(_) => "search",
        ProtocolOp::AddRequest(_) => "add",
        ProtocolOp::ModifyRequest(_) => "modify",
        ProtocolOp::DelRequest(_) => "delete",
        ProtocolOp::ModDnRequest(_) => "rename",
        _ => "request",
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

fn encode(message: &LdapMessage) -> Vec<u8> {
    // Encoding a message we built cannot fail.
    rasn::ber::encode(message).unwrap_or_default()
}

fn search_request(
    base: &str,
    scope: SearchRequestScope,
    filter: Filter,
    attributes: &[&str],
) -> SearchRequest {
    SearchRequest::new(
        LdapString(base.into()),
        scope,
        SearchRequestDerefAliases::NeverDerefAliases,
        0,
        0,
        false,
        filter,
        attributes.iter().map(|a| LdapString((*a).into())).collect(),
    )
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

    #[tokio::test]
    async fn within_gives_up_at_the_deadline() {
        let never = std::future::pending::<()>();
        let start = std::time::Instant::now();
        assert_eq!(within(Some(Duration::from_millis(50)), never).await, None);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(within(None, async { 7 }).await, Some(7));
    }

    #[test]
    fn operations_are_named_for_timeouts() {
        let req = search_request(
            "",
            SearchRequestScope::BaseObject,
            filter::present("cn"),
            &[],
        );
        assert_eq!(operation_name(&ProtocolOp::SearchRequest(req)), "search");
        let del = rasn_ldap::DelRequest(LdapString("CN=x".into()));
        assert_eq!(operation_name(&ProtocolOp::DelRequest(del)), "delete");
    }
}
