//! MS-APDS 3.1.5 NTLM pass-through as the SMB server will run it: a client's SPNEGO/NTLM
//! exchange (MS-SPNG 3.1.5, MIC and key exchange) against Adjoin's acceptor on a joined
//! member, the DC verifying the response over the member's NETLOGON secure channel and
//! returning the SessionBaseKey, from which both sides reach the same session keys.

use std::time::Duration;

use adjoin_auth::gss::spnego::{SpnegoNtlmAcceptor, SpnegoNtlmInitiator};
use adjoin_auth::ntlm::{ClientNonces, NtlmClient, ServerNonces};
use adjoin_join::member::{self, Membership};
use adjoin_rpc::netlogon::channel::{LogonOutcome, NetworkLogon, SecureChannel};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_tests::Lab;

/// One SPNEGO/NTLM exchange of `user` with `password` through the acceptor and the DC.
/// Returns the DC's verdict, and on success proves the two sides' sessions agree.
async fn exchange(
    channel: &mut SecureChannel,
    m: &Membership,
    user: &str,
    password: &str,
) -> Option<NtStatus> {
    let (client, negotiate) =
        NtlmClient::new(user, &m.account.netbios_domain, password, "CLIENTWS").unwrap();
    let (initiator, init) = SpnegoNtlmInitiator::start(client, negotiate);
    let (acceptor, challenge) =
        SpnegoNtlmAcceptor::accept(&init, &m.server_identity(), ServerNonces::fresh().unwrap())
            .unwrap();
    let (finish, auth) = initiator
        .step(&challenge, &ClientNonces::fresh().unwrap())
        .unwrap();
    let pending = acceptor.authenticate(&auth).unwrap();
    assert_eq!(pending.logon().user, user);

    let verdict = channel
        .logon_network(&NetworkLogon::from_ntlm(pending.logon()))
        .await
        .unwrap();
    let info = match verdict {
        LogonOutcome::Success(info) => info,
        LogonOutcome::Refused(status) => return Some(status),
    };
    assert_eq!(info.effective_name.0.as_deref(), Some(user));
    // The UserSessionKey is the NTLMv2 SessionBaseKey: the MIC of the client's
    // AUTHENTICATE_MESSAGE verifies under the key it yields, and both mechListMICs too.
    let (mut server, last) = pending.complete(&info.user_session_key).unwrap();
    let mut client = finish.finish(&last).unwrap();
    server
        .verify(
            b"SMB2 signing comes next",
            &client.sign(b"SMB2 signing comes next"),
        )
        .unwrap();
    client.verify(b"reply", &server.sign(b"reply")).unwrap();
    None
}

#[tokio::test(flavor = "current_thread")]
async fn ms_apds_3_1_5_ntlm_pass_through_for_an_spnego_acceptor() {
    let lab = Lab::get();
    let (_dir, m) = lab.joined_member(
        env!("CARGO_BIN_EXE_domain-join"),
        "passthru.example.test",
        false,
    );
    let opts = lab.discover_options();
    let (mut channel, _) = member::secure_channel(&m, &opts, Duration::from_secs(10))
        .await
        .unwrap();

    assert_eq!(
        exchange(&mut channel, &m, "alice", &lab.password("alice")).await,
        None
    );
    assert_eq!(
        exchange(&mut channel, &m, "bob", &lab.password("bob")).await,
        None
    );
    assert_eq!(
        exchange(&mut channel, &m, "bob", "not-bobs-password").await,
        Some(NtStatus::WRONG_PASSWORD)
    );
    assert_eq!(
        exchange(&mut channel, &m, "dave", &lab.password("dave")).await,
        Some(NtStatus::ACCOUNT_DISABLED)
    );

    let _ = lab.samba_tool(&["computer", "delete", &m.account.netbios_name]);
}
