//! `adjoind`: its code is `adjoin_tools::cmd::adjoind` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::adjoind::main()
}
