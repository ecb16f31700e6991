//! MS-NRPC secure channel across a DC restart: a channel held open by a member keeps
//! working after the lab DC restarts, re-established transparently (one retry, a new
//! ReqChallenge/Authenticate3 and Schannel binding), for one caller and for concurrent
//! callers sharing a `LogonPool`. Its own test binary: it restarts the shared lab DC, so
//! nothing else may be talking to it meanwhile.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use adjoin_join::member;
use adjoin_rpc::netlogon::channel::LogonOutcome;
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_tests::{Lab, repo_root, succeeded};

fn restart_dc() {
    let restart = Command::new(repo_root().join("tools/lab"))
        .arg("restart")
        .output()
        .unwrap();
    succeeded(&restart, "tools/lab restart");
}

/// `n` logons of alice at once through `pool`; each must succeed.
async fn concurrent_logons(pool: &Arc<LogonPool>, m: &Arc<member::Membership>, n: usize) {
    let password = Lab::get().password("alice");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (pool, m, password) = (Arc::clone(pool), Arc::clone(m), password.clone());
        tasks.spawn(async move {
            let logon = member::NtlmLogon::start(&m, &m.account.netbios_domain, "alice", &password)
                .unwrap();
            match pool.logon_network(&logon.network_logon()).await.unwrap() {
                LogonOutcome::Success(info) => logon.complete(&info.user_session_key).unwrap(),
                refused => panic!("{refused:?}"),
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ms_nrpc_channel_survives_a_dc_restart() {
    let lab = Lab::get();
    let (_dir, m) = lab.joined_member(
        env!("CARGO_BIN_EXE_domain-join"),
        "restart.example.test",
        false,
    );
    let opts = lab.discover_options();
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

    restart_dc();

    // The held connection died with the DC; the next logon re-establishes and succeeds.
    let second = channel.logon_network(&logon()).await.unwrap();
    assert!(matches!(second, LogonOutcome::Success(_)), "{second:?}");
    assert_eq!(channel.establishments(), 2, "re-established once");
    // And the new channel is kept: no third establishment.
    let third = channel.logon_network(&logon()).await.unwrap();
    assert!(matches!(third, LogonOutcome::Success(_)), "{third:?}");
    assert_eq!(channel.establishments(), 2);

    // Concurrent callers: eight logons at once through a pool of four bindings, a DC
    // restart under them, eight more. The pool re-establishes once for all of them.
    let (channel, _dc) = member::secure_channel(&m, &opts, Duration::from_secs(10))
        .await
        .unwrap();
    let pool = Arc::new(LogonPool::new(channel, 4));
    let m = Arc::new(m);
    concurrent_logons(&pool, &m, 8).await;
    assert_eq!(pool.establishments().await, 1);
    restart_dc();
    concurrent_logons(&pool, &m, 8).await;
    assert_eq!(
        pool.establishments().await,
        2,
        "one re-establishment for every caller"
    );
    concurrent_logons(&pool, &m, 8).await;
    assert_eq!(pool.establishments().await, 2);

    let _ = lab.samba_tool(&["computer", "delete", "RESTART"]);
}
