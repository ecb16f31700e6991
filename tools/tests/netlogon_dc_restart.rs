//! MS-NRPC secure channel across a DC restart: a channel held open by a member keeps
//! working after the lab DC restarts, re-established transparently (one retry, a new
//! ReqChallenge/Authenticate3 and Schannel binding). Its own test binary: it restarts the
//! shared lab DC, so nothing else may be talking to it meanwhile.

use std::process::Command;
use std::time::Duration;

use adjoin_join::discover::DiscoverOptions;
use adjoin_join::member;
use adjoin_registry::Registry;
use adjoin_rpc::netlogon::channel::LogonOutcome;
use adjoin_tests::{Lab, repo_root, succeeded};

#[tokio::test(flavor = "current_thread")]
async fn ms_nrpc_channel_survives_a_dc_restart() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        "restart.example.test",
        &["--no-keytab"],
    );

    let registry = Registry::open(&reg).unwrap();
    let m = member::membership(&registry).unwrap();
    let opts = DiscoverOptions {
        dns_servers: vec![format!("{}:53", lab.dc).parse().unwrap()],
        ..DiscoverOptions::default()
    };
    let (mut channel, _dc) = member::secure_channel(&m, &opts, Duration::from_secs(10))
        .await
        .unwrap();
    let logon = || {
        member::NtlmLogon::start(
            &m,
            &m.account.netbios_domain,
            "alice",
            &lab.password("alice"),
        )
        .unwrap()
        .network_logon()
    };

    let first = channel.logon_network(&logon()).await.unwrap();
    assert!(matches!(first, LogonOutcome::Success(_)), "{first:?}");
    assert_eq!(channel.establishments(), 1);

    let restart = Command::new(repo_root().join("tools/lab"))
        .arg("restart")
        .output()
        .unwrap();
    succeeded(&restart, "tools/lab restart");

    // The held connection died with the DC; the next logon re-establishes and succeeds.
    let second = channel.logon_network(&logon()).await.unwrap();
    assert!(matches!(second, LogonOutcome::Success(_)), "{second:?}");
    assert_eq!(channel.establishments(), 2, "re-established once");
    // And the new channel is kept: no third establishment.
    let third = channel.logon_network(&logon()).await.unwrap();
    assert!(matches!(third, LogonOutcome::Success(_)), "{third:?}");
    assert_eq!(channel.establishments(), 2);

    let _ = lab.samba_tool(&["computer", "delete", "RESTART"]);
}
