//! Each tool's `main`, called by its binary in `src/bin` (the names users type are the
//! binaries': `domain-join`, `adjoin`, `adjoind`, `regshell`, `net`, `adjoin-smbload`, `smbshell`).

pub mod adjoin;
pub mod adjoind;
pub mod domain_join;
pub mod net;
pub mod regshell;
pub mod smbload;
pub mod smbshell;
