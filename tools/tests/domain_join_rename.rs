//! `domain-join setname --netbios-name` against the lab DC (issue 12 item 4): the account
//! is renamed all the way — sAMAccountName, the object's CN, the short SPNs, new keys under
//! the new salt — checked with MIT `kinit -k` and `klist -k` on the keytab and `samba-tool`
//! on the directory; a taken name and a missing administrator change nothing.

use std::path::Path;
use std::process::{Command, Output};

use adjoin_tests::{Lab, run_tool, text};

fn domain_join(registry: &Path, args: &[&str], stdin: &str) -> Output {
    run_tool(env!("CARGO_BIN_EXE_domain-join"), registry, args, stdin)
}

#[test]
fn setname_with_a_netbios_name_renames_the_account_keys_and_keytab() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let _ = lab.samba_tool(&["computer", "delete", "RENTWO"]);
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &format!("renone.{}", lab.domain),
        &["--keytab", kt.to_str().unwrap()],
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    let new_fqdn = format!("rentwo.{}", lab.domain);

    // Without an administrator: refused, nothing changed.
    let out = domain_join(
        &reg,
        &[
            &["setname", &new_fqdn, "--netbios-name", "RENTWO"][..],
            &dns[..],
        ]
        .concat(),
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("give --user"),
        "{}",
        text(&out.stderr)
    );
    // A name another account holds: refused, nothing changed.
    let out = domain_join(
        &reg,
        &[
            &[
                "setname",
                &new_fqdn,
                "--netbios-name",
                "DC1",
                "--user",
                &lab.admin,
            ][..],
            &["--password-stdin"][..],
            &dns[..],
        ]
        .concat(),
        &lab.admin_password,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is taken by"),
        "{}",
        text(&out.stderr)
    );
    let t = domain_join(&reg, &[&["testjoin"][..], &dns[..]].concat(), "");
    assert!(
        t.status.success(),
        "still sound: {}{}",
        text(&t.stdout),
        text(&t.stderr)
    );

    let out = domain_join(
        &reg,
        &[
            &[
                "setname",
                &new_fqdn,
                "--netbios-name",
                "RENTWO",
                "--user",
                &lab.admin,
            ][..],
            &["--password-stdin"][..],
            &dns[..],
        ]
        .concat(),
        &lab.admin_password,
    );
    assert!(
        out.status.success(),
        "rename: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let shown = lab.samba_tool(&["computer", "show", "RENTWO"]);
    let shown = text(&shown.stdout);
    assert!(
        shown.contains("sAMAccountName: RENTWO$")
            && shown.contains("dn: CN=RENTWO,")
            && shown.contains(&format!("dNSHostName: {new_fqdn}")),
        "{shown}"
    );
    assert!(
        !shown.contains("host/RENONE"),
        "the old short SPNs are gone: {shown}"
    );
    assert!(
        shown.contains("servicePrincipalName: host/RENTWO"),
        "{shown}"
    );
    let kinit = lab.mit_kinit_k(&kt, "RENTWO", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k as RENTWO$: {}",
        text(&kinit.stderr)
    );
    let listed = Command::new("klist")
        .args(["-k", kt.to_str().unwrap()])
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    let listed = text(&listed.stdout);
    assert!(!listed.contains("RENONE"), "old principals gone:\n{listed}");
    assert!(listed.contains(&format!("host/{new_fqdn}@")), "{listed}");
    let t = domain_join(&reg, &[&["testjoin"][..], &dns[..]].concat(), "");
    assert!(
        t.status.success(),
        "sound under the new name: {}",
        text(&t.stdout)
    );
    let _ = lab.samba_tool(&["computer", "delete", "RENTWO"]);
}
