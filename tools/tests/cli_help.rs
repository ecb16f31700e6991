//! Every command users type, under its own name: each program's `--help` and each of its
//! subcommands' `--help` exit 0 and name the program (and the subcommand) in their usage
//! line. The tools share one library and may be built in other shapes (issue 14); what
//! users type must not change with that.

use std::process::Command;

use adjoin_tests::text;

/// Every program of the package, by the name users type.
const PROGRAMS: [(&str, &str); 7] = [
    ("domain-join", env!("CARGO_BIN_EXE_domain-join")),
    ("regshell", env!("CARGO_BIN_EXE_regshell")),
    ("adjoin", env!("CARGO_BIN_EXE_adjoin")),
    ("adjoind", env!("CARGO_BIN_EXE_adjoind")),
    ("net", env!("CARGO_BIN_EXE_net")),
    ("adjoin-smbload", env!("CARGO_BIN_EXE_adjoin-smbload")),
    ("smbshell", env!("CARGO_BIN_EXE_smbshell")),
];

/// `program args`'s standard output, which must end in exit status 0.
fn help(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("ADJOIN_REGISTRY", "/nonexistent/registry.db")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The subcommands a clap help lists under "Commands:" (without `help` itself).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts with two spaces and its name; wrapped text is indented more.
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_program_and_subcommand_answers_help_under_its_name() {
    let mut checked = 0;
    for (name, program) in PROGRAMS {
        let top = help(program, &["--help"]);
        assert!(
            top.contains(&format!("Usage: {name} ")),
            "{name} --help does not name it:\n{top}"
        );
        for sub in subcommands(&top) {
            let out = help(program, &[&sub, "--help"]);
            assert!(
                out.contains(&format!("Usage: {name} {sub}")),
                "{name} {sub} --help:\n{out}"
            );
            checked += 1;
        }
    }
    // domain-join, adjoin, net and adjoin-smbload have subcommands; a help whose
    // "Commands:" section stopped parsing would check none of them.
    assert!(checked >= 35, "only {checked} subcommands found");
}

#[test]
fn the_subcommand_list_is_read_from_clap_help() {
    let sample = "Usage: x <COMMAND>\n\nCommands:\n  view   List shares\n  time   Show a\n         \
                  clock, wrapped\n  help   Print this\n\nOptions:\n  -h\n";
    assert_eq!(subcommands(sample), ["view", "time"]);
}
