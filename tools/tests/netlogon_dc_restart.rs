//! MS-NRPC secure channel across a DC restart: a channel held open by a member keeps
//! working after the lab DC restarts, re-established transparently (one retry, a new
//! ReqChallenge/Authenticate3 and Schannel binding), for one caller and for concurrent
//! callers sharing a `LogonPool`; and a machine password rotation while the DC is down
//! leaves the old password working. Its own test binary: it restarts the shared lab DC, so
//! nothing else may be talking to it meanwhile (and its tests take turns).

// tools/test: alone

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use adjoin_join::member;
use adjoin_rpc::netlogon::channel::LogonOutcome;
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_tests::{Lab, repo_root, run_tool, succeeded, text};

/// The tests of this binary take turns with the DC.
static DC: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn lab_command(action: &str) {
    adjoin_tests::may_disturb_the_dc(&format!("{action}s"));
    let out = Command::new(repo_root().join("tools/lab"))
        .arg(action)
        .output()
        .unwrap();
    succeeded(&out, &format!("tools/lab {action}"));
}

fn restart_dc() {
    lab_command("restart");
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
    let _turn = DC.lock().await;
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

/// A rotation while the DC is down fails with one clear line and changes nothing: the old
/// password still opens the account when the DC is back (MIT `kinit -k` with the keytab,
/// `domain-join testjoin`), and the next rotation works.
#[test]
fn a_rotation_while_the_dc_is_down_leaves_the_old_password_working() {
    let _turn = DC.blocking_lock();
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let bin = env!("CARGO_BIN_EXE_domain-join");
    lab.join_machine(
        bin,
        &reg,
        "outage.example.test",
        &["--keytab", kt.to_str().unwrap()],
    );
    let before = std::fs::read(&kt).unwrap();
    let dns = ["--dns-server", lab.dc.as_str()];
    lab_command("stop");
    let rotated = run_tool(bin, &reg, &[&["rotate"][..], &dns[..]].concat(), "");
    lab_command("restart");
    assert_eq!(rotated.status.code(), Some(1), "{}", text(&rotated.stdout));
    let err = text(&rotated.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(
        std::fs::read(&kt).unwrap(),
        before,
        "the keytab is untouched"
    );
    let t = run_tool(bin, &reg, &[&["testjoin"][..], &dns[..]].concat(), "");
    assert!(
        t.status.success(),
        "the old password works: {}",
        text(&t.stdout)
    );
    let kinit = lab.mit_kinit_k(&kt, "OUTAGE", dir.path());
    succeeded(&kinit, "MIT kinit -k after the outage");
    let again = run_tool(bin, &reg, &[&["rotate"][..], &dns[..]].concat(), "");
    succeeded(&again, "rotate once the DC is back");
    let _ = lab.samba_tool(&["computer", "delete", "OUTAGE"]);
}
