//! MIT's GSS-API (libgssapi_krb5, through the libgssapi crate) as a peer for Adjoin's
//! interop tests. It runs as a child process so each side gets its own KRB5_CONFIG,
//! KRB5CCNAME and KRB5_KTNAME. Tokens travel as hex lines on stdin/stdout.
//!
//!     mit-gss-peer initiate SERVICE@HOST [krb5|spnego]
//!     mit-gss-peer accept [krb5|spnego]
//!
//! Establishment: each time the peer produces a token it prints it (or "-" for none) and
//! then "DONE" when its context is complete or "MORE" when it waits for another token.
//! Then the initiator prints a sealed wrap of "from mit", reads a wrap token and prints
//! `MSG <text>`; the acceptor reads a wrap token, prints `MSG <text>`, prints a sealed
//! wrap of "from mit" and `CLIENT <name>` of the authenticated client.

use std::io::{BufRead, Write};

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_MECH_SPNEGO, GSS_NT_HOSTBASED_SERVICE, Oid, OidSet};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mech = |i: usize| match args.get(i).map(String::as_str) {
        None | Some("krb5") => Ok(GSS_MECH_KRB5),
        Some("spnego") => Ok(GSS_MECH_SPNEGO),
        Some(other) => Err(format!("unknown mechanism {other}")),
    };
    match args.first().map(String::as_str) {
        Some("initiate") => initiate(args.get(1).ok_or("initiate needs SERVICE@HOST")?, mech(2)?),
        Some("accept") => accept(mech(1)?),
        _ => Err(
            "usage: mit-gss-peer initiate SERVICE@HOST [krb5|spnego] | accept [krb5|spnego]".into(),
        ),
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

fn mechs(mech: Oid<'static>) -> Result<OidSet> {
    let mut set = OidSet::new();
    set.add(mech)?;
    Ok(set)
}

fn status(complete: bool) -> Result<()> {
    say(if complete { "DONE" } else { "MORE" })
}

fn flags() -> CtxFlags {
    CtxFlags::GSS_C_MUTUAL_FLAG
        | CtxFlags::GSS_C_SEQUENCE_FLAG
        | CtxFlags::GSS_C_CONF_FLAG
        | CtxFlags::GSS_C_INTEG_FLAG
}

fn initiate(target: &str, mech: Oid<'static>) -> Result<()> {
    let cred = Cred::acquire(
        None,
        None,
        CredUsage::Initiate,
        Some(&mechs(GSS_MECH_KRB5)?),
    )?;
    let name = Name::new(target.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE))?;
    let mut ctx = ClientCtx::new(Some(cred), name, flags(), Some(mech));
    let mut token = ctx.step(None, None)?;
    loop {
        say(&token.as_deref().map_or_else(|| "-".to_owned(), hex))?;
        status(ctx.is_complete())?;
        if ctx.is_complete() {
            break;
        }
        token = ctx.step(Some(&read_hex()?), None)?;
    }
    say(&hex(&ctx.wrap(true, b"from mit")?))?;
    let msg = ctx.unwrap(&read_hex()?)?;
    say(&format!("MSG {}", String::from_utf8_lossy(&msg)))
}

fn accept(mech: Oid<'static>) -> Result<()> {
    let cred = Cred::acquire(None, None, CredUsage::Accept, Some(&mechs(mech)?))?;
    let mut ctx = ServerCtx::new(Some(cred));
    loop {
        let reply = ctx.step(&read_hex()?, None)?;
        say(&reply.as_deref().map_or_else(|| "-".to_owned(), hex))?;
        status(ctx.is_complete())?;
        if ctx.is_complete() {
            break;
        }
    }
    let msg = ctx.unwrap(&read_hex()?)?;
    say(&format!("MSG {}", String::from_utf8_lossy(&msg)))?;
    say(&hex(&ctx.wrap(true, b"from mit")?))?;
    say(&format!("CLIENT {}", ctx.source_name()?))
}
