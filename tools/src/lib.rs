//! The code of Adjoin's command-line tools and daemon, compiled once for all of them: each
//! binary in `src/bin` is a `main` that calls its tool's [`cmd`] module, so the stack they
//! share is code-generated once rather than once per binary (issue 14). The library is the
//! tools' own, not an API: the SDK is the other crates.

pub mod cmd;

mod cli;
mod connections;
mod net;
mod regshell;
mod repl;
mod smbshell;
mod ticket;
