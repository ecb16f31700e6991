//! `smbshell`: its code is `adjoin_tools::cmd::smbshell` (compiled once with the other tools).

fn main() -> std::process::ExitCode {
    adjoin_tools::cmd::smbshell::main()
}
