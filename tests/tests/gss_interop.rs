//! RFC 4121 GSS-API Kerberos interop with MIT's libgssapi_krb5, both directions: Adjoin's
//! initiator against MIT's acceptor, MIT's initiator against Adjoin's acceptor, each with
//! mutual authentication and sealed wrap tokens both ways.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::SystemTime;

use adjoin_auth::gss::krb5::{self, GssFlags, InitStep, Initiator};
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{Acceptor, AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;
use zeroize::Zeroizing;

/// The MIT side, a child process with its own Kerberos environment.
struct Peer {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(lab: &Lab, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mit-gss-peer"));
        cmd.args(args)
            .env("KRB5_CONFIG", &lab.krb5_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("mit-gss-peer starts");
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
            "mit-gss-peer ended early: {:?}",
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
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn rfc4121_adjoin_initiator_with_mit_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let kt = dir.path().join("keytab");
    keytab.save(&kt).unwrap();
    let mut mit = Peer::spawn(
        &lab,
        &["accept"],
        &[("KRB5_KTNAME", format!("FILE:{}", kt.display()))],
    );

    let config = KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)]);
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], lab.realm.as_str());
    let secret = ClientSecret::Password(Zeroizing::new(lab.password("alice")));
    let tgt = kdc::initial_credentials(
        AsExchange::new(client, secret, AsOptions::default()),
        &config,
        &SystemTime::now,
    )
    .await
    .unwrap();
    let st = kdc::service_ticket(tgt, spn, &config, &SystemTime::now)
        .await
        .unwrap();
    let flags = GssFlags::MUTUAL | GssFlags::SEQUENCE | GssFlags::CONF | GssFlags::INTEG;
    let (init, step) = Initiator::start(st, flags, SystemTime::now()).unwrap();
    let InitStep::Continue(token) = step else {
        panic!("mutual auth expected")
    };
    mit.send(&token);
    let reply = mit.token();
    let mut ctx = init.unwrap().step(&reply).expect("MIT's AP-REP verifies");

    mit.send(&ctx.wrap(b"from adjoin", true).unwrap());
    assert_eq!(mit.line(), "MSG from adjoin");
    let (msg, sealed) = ctx.unwrap(&mit.token()).unwrap();
    assert_eq!((msg.as_slice(), sealed), (&b"from mit"[..], true));
    assert_eq!(mit.line(), format!("CLIENT alice@{}", lab.realm));
}

#[tokio::test]
async fn rfc4121_mit_initiator_with_adjoin_acceptor() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("gssaes", true);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
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
    let mut mit = Peer::spawn(
        &lab,
        &["initiate", &target],
        &[("KRB5CCNAME", format!("FILE:{}", cache.display()))],
    );
    let mut acceptor = Acceptor::new(keytab);
    let (mut ctx, reply, accepted) =
        krb5::accept(&mut acceptor, &mit.token(), SystemTime::now()).unwrap();
    assert_eq!(accepted.client.to_string(), format!("bob@{}", lab.realm));
    // The PAC read on accept: signed by the KDC for this service, naming bob and his groups.
    let pac = accepted.pac.expect("the ticket carries a verified PAC");
    assert_eq!(pac.logon_info().effective_name, "bob");
    let user = pac.user_sid().unwrap().to_string();
    assert!(user.starts_with("S-1-5-21-"), "{user}");
    let groups = pac.group_sids().unwrap();
    assert!(
        groups.iter().any(|g| g.sid.rid() == Some(513)),
        "Domain Users: {groups:?}"
    );
    assert!(ctx.flags.contains(GssFlags::MUTUAL | GssFlags::CONF));
    mit.send(&reply.expect("mutual authentication asked for: an AP-REP"));

    let (msg, sealed) = ctx.unwrap(&mit.token()).unwrap();
    assert_eq!((msg.as_slice(), sealed), (&b"from mit"[..], true));
    mit.send(&ctx.wrap(b"from adjoin", true).unwrap());
    assert_eq!(mit.line(), "MSG from adjoin");
}
