//! `adjoin`: its code is `adjoin_tools::cmd::adjoin` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::adjoin::main()
}
