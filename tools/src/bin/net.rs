//! `net`: its code is `adjoin_tools::cmd::net` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::net::main()
}
