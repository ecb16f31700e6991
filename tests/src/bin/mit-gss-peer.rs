//! MIT's GSS-API (libgssapi_krb5, through the libgssapi crate) as a peer for Adjoin's
//! interop tests. It runs as a child process so each side gets its own KRB5_CONFIG,
//! KRB5CCNAME and KRB5_KTNAME. Tokens travel as hex lines on stdin/stdout.
//!
//!     mit-gss-peer initiate SERVICE@HOST   # prints the AP-REQ token, reads the AP-REP,
//!                                          # then: prints a sealed wrap of "from mit",
//!                                          # reads a wrap token and prints "MSG <text>"
//!     mit-gss-peer accept                  # reads the AP-REQ, prints the AP-REP (or "-"),
//!                                          # then: reads a wrap token, prints "MSG <text>",
//!                                          # prints a sealed wrap of "from mit", and
//!                                          # "CLIENT <name>" of the authenticated client

use std::io::{BufRead, Write};

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE, OidSet};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("initiate") => initiate(args.get(1).ok_or("initiate needs SERVICE@HOST")?),
        Some("accept") => accept(),
        _ => Err("usage: mit-gss-peer initiate SERVICE@HOST | accept".into()),
    }
}

fn read_hex() -> Result<Vec<u8>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    (0..line.len())
        .step_by(2)
        .map(|i| {
            Ok(u8::from_str_radix(
                line.get(i..i + 2).ok_or("odd hex")?,
                16,
            )?)
        })
        .collect()
}

fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn krb5() -> Result<OidSet> {
    let mut set = OidSet::new();
    set.add(GSS_MECH_KRB5)?;
    Ok(set)
}

fn flags() -> CtxFlags {
    CtxFlags::GSS_C_MUTUAL_FLAG
        | CtxFlags::GSS_C_SEQUENCE_FLAG
        | CtxFlags::GSS_C_CONF_FLAG
        | CtxFlags::GSS_C_INTEG_FLAG
}

fn initiate(target: &str) -> Result<()> {
    let cred = Cred::acquire(None, None, CredUsage::Initiate, Some(&krb5()?))?;
    let name = Name::new(target.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE))?;
    let mut ctx = ClientCtx::new(Some(cred), name, flags(), Some(GSS_MECH_KRB5));
    let token = ctx.step(None, None)?.ok_or("no initial token")?;
    say(&hex(&token))?;
    let reply = read_hex()?;
    if ctx.step(Some(&reply), None)?.is_some() || !ctx.is_complete() {
        return Err("context not complete after the AP-REP".into());
    }
    say(&hex(&ctx.wrap(true, b"from mit")?))?;
    let msg = ctx.unwrap(&read_hex()?)?;
    say(&format!("MSG {}", String::from_utf8_lossy(&msg)))
}

fn accept() -> Result<()> {
    let cred = Cred::acquire(None, None, CredUsage::Accept, Some(&krb5()?))?;
    let mut ctx = ServerCtx::new(Some(cred));
    let reply = ctx.step(&read_hex()?, None)?;
    say(&reply.map_or_else(|| "-".to_owned(), |t| hex(&t)))?;
    if !ctx.is_complete() {
        return Err("context not complete after the AP-REQ".into());
    }
    let msg = ctx.unwrap(&read_hex()?)?;
    say(&format!("MSG {}", String::from_utf8_lossy(&msg)))?;
    say(&hex(&ctx.wrap(true, b"from mit")?))?;
    say(&format!("CLIENT {}", ctx.source_name()?))
}
