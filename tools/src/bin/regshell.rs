//! `regshell`: its code is `adjoin_tools::cmd::regshell` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::regshell::main()
}
