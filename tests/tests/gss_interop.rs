//! GSS-API interop with MIT's libgssapi_krb5 (through python3-gssapi,
//! `tests/peers/mit_gss_peer.py`), both directions, for the Kerberos mechanism
//! (RFC 4121) and SPNEGO over it (RFC 4178): Adjoin's initiator against MIT's acceptor,
//! MIT's initiator against Adjoin's acceptor, each with mutual authentication and sealed
//! wrap tokens both ways, and the PAC read on accept.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::SystemTime;

use adjoin_auth::gss::krb5::{self, GssFlags, InitStep, Initiator, SecurityContext};
use adjoin_auth::gss::spnego::{self, SpnegoInitiator, SpnegoStep};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{Acceptor, AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::{Lab, repo_root};
use zeroize::Zeroizing;

/// The MIT side, a child process with its own Kerberos environment.
struct Peer {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(lab: &Lab, args: &[&str], env: &[(&str, String)]) -> Self {
        // Debian's python3, which python3-gssapi is installed for (tools/lab).
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(repo_root().join("tests/peers/mit_gss_peer.py"))
            .args(args)
            .env("KRB5_CONFIG", &lab.krb5_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("mit_gss_peer.py starts");
        let out = BufReader::new(child.stdout.take().unwrap());
        Self { child, out }
    }

    fn send(&mut self, token: &[u8]) {
        let hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{hex}").unwrap();
        stdin.flush().unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        assert!(
            !line.is_empty(),
            "mit_gss_peer.py ended early: {:?}",
            self.child.try_wait()
        );
        line.trim().to_owned()
    }

    fn token(&mut self) -> Vec<u8> {
        let l = self.line();
        (0..l.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A token line (`-` for none) and the status line after it.
    fn reply(&mut self) -> (Option<Vec<u8>>, bool) {
        let t = self.line();
        let token = (t != "-").then(|| {
            (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
                .collect()
        });
        let done = match self.line().as_str() {
            "DONE" => true,
            "MORE" => false,
            other => panic!("unexpected status {other}"),
        };
        (token, done)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// alice's service ticket for `spn`, from the lab KDC through Adjoin's client.
async fn alice_ticket(lab: &Lab, spn: PrincipalName) -> Credentials {
    let config = KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)]);
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], lab.realm.as_str());
    let secret = ClientSecret::Password(Zeroizing::new(lab.password("alice")));
    let x = AsExchange::new(client, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &config, &SystemTime::now)
        .await
        .unwrap();
    kdc::service_ticket(tgt, spn, &config, &SystemTime::now)
        .await
        .unwrap()
}

/// MIT's acceptor with the service's keytab, speaking `mech`.
fn mit_acceptor(lab: &Lab, mech: &str, keytab: &Keytab, dir: &Path) -> Peer {
    let kt = dir.join("keytab");
    keytab.save(&kt).unwrap();
    let env = [("KRB5_KTNAME", format!("FILE:{}", kt.display()))];
    Peer::spawn(lab, &["accept", mech], &env)
}

/// MIT's initiator with bob's credentials from MIT kinit, speaking `mech` to `spn`.
fn mit_initiator(lab: &Lab, mech: &str, spn: &PrincipalName, dir: &Path) -> Peer {
    let cache = dir.join("cc");
    let mut kinit = Command::new("kinit")
        .arg("bob")
        .env("KRB5_CONFIG", &lab.krb5_config)
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(kinit.stdin.take().unwrap(), "{}", lab.password("bob")).unwrap();
    assert!(kinit.wait().unwrap().success(), "MIT kinit bob");
    let target = format!("HTTP@{}", spn.components[1]);
    let env = [("KRB5CCNAME", format!("FILE:{}", cache.display()))];
    Peer::spawn(lab, &["initiate", &target, mech], &env)
}

/// Sealed wrap tokens both ways once the contexts are up; the MIT acceptor names the client.
fn exchange_messages(mit: &mut Peer, ctx: &mut SecurityContext, mit_accepts: bool) {
    if mit_accepts {
        mit.send(&ctx.wrap(b"from adjoin", true).unwrap());
        assert_eq!(mit.line(), "MSG from adjoin");
        let (msg, sealed) = ctx.unwrap(&mit.token()).unwrap();
        assert_eq!((msg.as_slice(), sealed), (&b"from mit"[..], true));
    } else {
        let (msg, sealed) = ctx.unwrap(&mit.token()).unwrap();
        assert_eq!((msg.as_slice(), sealed), (&b"from mit"[..], true));
        mit.send(&ctx.wrap(b"from adjoin", true).unwrap());
        assert_eq!(mit.line(), "MSG from adjoin");
    }
}

/// The PAC read on accept: signed by the KDC for this service, naming bob and his groups.
fn check_bob(lab: &Lab, accepted: &adjoin_auth::krb::Accepted) {
    assert_eq!(accepted.client.to_string(), format!("bob@{}", lab.realm));
    let pac = accepted
        .pac
        .as_ref()
        .expect("the ticket carries a verified PAC");
    assert_eq!(pac.logon_info().sam.effective_name, "bob");
    let user = pac.user_sid().unwrap().to_string();
    assert!(user.starts_with("S-1-5-21-"), "{user}");
    let groups = pac.group_sids().unwrap();
    assert!(
        groups.iter().any(|g| g.sid.rid() == Some(513)),
        "Domain Users: {groups:?}"
    );
}

const FLAGS: GssFlags = GssFlags::MUTUAL
    .union(GssFlags::SEQUENCE)
    .union(GssFlags::CONF)
    .union(GssFlags::INTEG);

#[tokio::test]
async fn rfc4121_adjoin_initiator_with_mit_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let mut mit = mit_acceptor(&lab, "krb5", &keytab, dir.path());
    let st = alice_ticket(&lab, spn).await;
    let (init, step) = Initiator::start(st, FLAGS, SystemTime::now()).unwrap();
    let InitStep::Continue(token) = step else {
        panic!("mutual auth expected")
    };
    mit.send(&token);
    let (reply, done) = mit.reply();
    assert!(done, "one round trip for Kerberos");
    let mut ctx = init
        .unwrap()
        .step(&reply.unwrap())
        .expect("MIT's AP-REP verifies");
    exchange_messages(&mut mit, &mut ctx, true);
    assert_eq!(mit.line(), format!("CLIENT alice@{}", lab.realm));
}

#[tokio::test]
async fn rfc4121_mit_initiator_with_adjoin_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let mut mit = mit_initiator(&lab, "krb5", &spn, dir.path());
    let (token, done) = mit.reply();
    assert!(!done);
    let mut acceptor = Acceptor::new(keytab);
    let (mut ctx, reply, accepted) =
        krb5::accept(&mut acceptor, &token.unwrap(), SystemTime::now()).unwrap();
    check_bob(&lab, &accepted);
    assert!(ctx.flags.contains(GssFlags::MUTUAL | GssFlags::CONF));
    mit.send(&reply.expect("mutual authentication asked for: an AP-REP"));
    assert_eq!(mit.reply(), (None, true));
    exchange_messages(&mut mit, &mut ctx, false);
}

#[tokio::test]
async fn rfc4178_adjoin_spnego_initiator_with_mit_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let mut mit = mit_acceptor(&lab, "spnego", &keytab, dir.path());
    let st = alice_ticket(&lab, spn).await;
    let (init, first) = SpnegoInitiator::start(st, FLAGS, SystemTime::now()).unwrap();
    mit.send(&first);
    let (reply, mut done) = mit.reply();
    let SpnegoStep::Done(mut ctx, last) = init.step(&reply.unwrap()).unwrap() else {
        panic!("SPNEGO with Kerberos completes on the acceptor's first reply");
    };
    if let Some(mic) = last
        && !done
    {
        mit.send(&mic);
        let (none, complete) = mit.reply();
        assert!(none.is_none());
        done = complete;
    }
    assert!(done, "MIT's SPNEGO acceptor completed");
    exchange_messages(&mut mit, &mut ctx, true);
    assert_eq!(mit.line(), format!("CLIENT alice@{}", lab.realm));
}

#[tokio::test]
async fn rfc4178_mit_spnego_initiator_with_adjoin_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let mut mit = mit_initiator(&lab, "spnego", &spn, dir.path());
    let (first, done) = mit.reply();
    assert!(!done);
    let first = first.unwrap();
    let mut acceptor = Acceptor::new(keytab);
    let (mut ctx, reply, accepted) =
        spnego::accept(&mut acceptor, &first, SystemTime::now()).unwrap();
    check_bob(&lab, &accepted);
    mit.send(&reply);
    let (last, done) = mit.reply();
    if let Some(token) = last {
        // MIT's mechListMIC, when it sends one, must verify.
        let list = spnego::mech_types_der(&first).unwrap();
        spnego::accept_final(&mut ctx, &list, &token).unwrap();
    }
    assert!(
        done,
        "MIT's SPNEGO initiator completed with Adjoin's mechListMIC"
    );
    exchange_messages(&mut mit, &mut ctx, false);
}
