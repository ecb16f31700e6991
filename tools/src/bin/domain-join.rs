//! `domain-join`: its code is `adjoin_tools::cmd::domain_join` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::domain_join::main()
}
