//! MS-DFSC against the lab DC: `smbshell //DOMAIN/sysvol` (and netlogon) asks one of the
//! domain's DCs, found by its DC locator, where the share lives, and follows the
//! referral to the DC's own share, logging on there with NTLM or with a Kerberos ticket
//! for the DC's `cifs/` name from MIT kinit's cache. `--no-dfs` connects to the name as
//! given.

use std::process::{Command, Output};

use adjoin_tests::{Lab, output_with_stdin, succeeded_stdout};

const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");

/// smbshell with `args`, `stdin` on its standard input.
fn smbshell(args: &[&str], stdin: &str) -> Output {
    output_with_stdin(Command::new(SMBSHELL).args(args), &format!("{stdin}\n"))
}

/// The working directory smbshell's `pwd` printed.
fn pwd(out: &Output) -> String {
    succeeded_stdout(out, "smbshell")
        .lines()
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[test]
fn ms_dfsc_a_domains_sysvol_and_netlogon_lead_to_its_dcs_shares_with_ntlm() {
    let lab = Lab::get();
    let admin = format!(r"{}\{}", lab.netbios, lab.admin);
    for share in ["sysvol", "netlogon"] {
        let unc = format!("//{}/{share}", lab.domain);
        let out = smbshell(
            &[
                &unc,
                "-U",
                &admin,
                "--password-stdin",
                "--dns-server",
                &lab.dc,
                "-c",
                "pwd; ls",
            ],
            &lab.admin_password,
        );
        let expected = format!(r"\\{}\{share}\", lab.dc_name).to_lowercase();
        assert_eq!(pwd(&out), expected, "{unc}");
    }
    // Without referrals the name is used as given (Samba answers for it too).
    let unc = format!("//{}/sysvol", lab.domain);
    let out = smbshell(
        &[
            &unc,
            "-U",
            &admin,
            "--password-stdin",
            "-I",
            &lab.dc,
            "--no-dfs",
            "-c",
            "pwd",
        ],
        &lab.admin_password,
    );
    assert_eq!(
        pwd(&out),
        format!(r"\\{}\sysvol\", lab.domain).to_lowercase()
    );
}

#[test]
fn ms_dfsc_the_referral_is_followed_with_kerberos_for_the_dcs_cifs_name() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
    lab.mit_kinit("alice", &cache);
    let unc = format!("//{}/netlogon", lab.domain);
    let cache_arg = cache.display().to_string();
    let out = smbshell(
        &[
            &unc,
            "--ccache",
            &cache_arg,
            "--kdc",
            &lab.dc,
            "--dns-server",
            &lab.dc,
            "-c",
            "pwd",
        ],
        "",
    );
    let expected = format!(r"\\{}\netlogon\", lab.dc_name).to_lowercase();
    assert_eq!(pwd(&out), expected);
}
