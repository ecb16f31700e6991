//! Large groups through glibc: `id` of a user in 300 groups and `getent group` of a group
//! with 2,000 members complete, cold (from the DC) and warm (the fast cache), and a user in
//! 300 groups logs on (a PAC with 300 groups). The times are printed; the benchmark
//! (tools/bench/identity.sh) compares them with winbind.

use std::path::Path;
use std::time::Instant;

use adjoin_tests::daemon::{Bins, IdentityDaemon, built_library};
use adjoin_tests::namespace::run_in_namespace;
use adjoin_tests::{Lab, MANYGROUPS_PASSWORD, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

fn timed(d: &IdentityDaemon, argv: &[&str], input: Option<&str>) -> (String, f64) {
    let (conf, lib) = d.nss_files();
    let pam = d.dir.path().join("pam.d");
    std::fs::create_dir_all(&pam).unwrap();
    let m = built_library("libpam_adjoin.so");
    std::fs::write(
        pam.join("adjoin-test"),
        format!("auth required {}\n", m.display()),
    )
    .unwrap();
    let mut env = d.client_env();
    env.push(("LD_LIBRARY_PATH".into(), lib.display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let started = Instant::now();
    let out = run_in_namespace(
        &[
            (conf.as_path(), Path::new("/etc/nsswitch.conf")),
            (pam.as_path(), Path::new("/etc/pam.d")),
        ],
        &env,
        argv,
        input.map(str::as_bytes),
    );
    let ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.status.success(),
        "{argv:?}: {}\n{}",
        text(&out.stderr),
        d.log()
    );
    (text(&out.stdout), ms)
}

#[test]
fn id_of_a_user_in_300_groups_and_a_group_of_2000_complete() {
    let lab = Lab::get();
    lab.large_groups();
    let d = IdentityDaemon::start(&lab, BINS, "idlarge.example.test", &[]);

    let (id, cold) = timed(&d, &["id", "manygroups"], None);
    let groups = id.split("groups=").nth(1).unwrap_or("").split(',').count();
    assert_eq!(groups, 301, "300 groups and Domain Users: {id}");
    for g in ["mg001", "mg150", "mg300", "domain users"] {
        assert!(id.contains(&format!("({g})")), "{g} in {id}");
    }
    let (again, warm) = timed(&d, &["id", "manygroups"], None);
    assert_eq!(again, id);

    let (group, gcold) = timed(&d, &["getent", "group", "biggroup"], None);
    let members: Vec<&str> = group
        .trim_end()
        .rsplit(':')
        .next()
        .unwrap_or("")
        .split(',')
        .collect();
    assert_eq!(members.len(), 2000, "biggroup's members");
    assert!(members.contains(&"bulk0001") && members.contains(&"bulk2000"));
    let (_, gwarm) = timed(&d, &["getent", "group", "biggroup"], None);

    let (_, logon) = timed(
        &d,
        &["pamtester", "adjoin-test", "manygroups", "authenticate"],
        Some(&format!("{MANYGROUPS_PASSWORD}\n")),
    );
    eprintln!(
        "id manygroups (301 groups): cold {cold:.0} ms, warm {warm:.0} ms; \
         getent group biggroup (2,000 members): cold {gcold:.0} ms, warm {gwarm:.0} ms; \
         PAM logon of manygroups {logon:.0} ms (debug build, including process start-up)"
    );
}
