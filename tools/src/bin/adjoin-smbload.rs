//! `adjoin-smbload`: its code is `adjoin_tools::cmd::smbload` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::smbload::main()
}
