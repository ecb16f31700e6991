//! SDK example: a DCE/RPC client calling a domain controller. It translates account
//! names to SIDs and back with LSA, two ways:
//!
//! - `--transport np` (the default), as a user: over a named pipe on the DC's IPC$
//!   (ncacn_np, an SMB logon with NTLM; the password on the first line of stdin), with a
//!   policy handle: MS-LSAT LsarOpenPolicy2, LsarLookupNames, LsarLookupSids, LsarClose;
//! - `--transport tcp`, as this joined member: over TCP at the port the DC's endpoint
//!   mapper names (ncacn_ip_tcp), sealed with the NETLOGON secure channel's key
//!   (LsarLookupNames4, LsarLookupSids3; what members use, and what a DC allows over TCP:
//!   Samba refuses LsarOpenPolicy2 there). Needs root, for the machine password in the
//!   registry (`ADJOIN_REGISTRY` or the default).
//!
//! ```text
//! lsa_lookup --dc 192.0.2.10 --user 'EXAMPLE\alice' alice 'EXAMPLE\Domain Users'
//! sudo lsa_lookup --dc 192.0.2.10 --transport tcp alice
//! ```
//!
//! Output: one line per name, `name<TAB>SID<TAB>kind<TAB>DOMAIN\name` (the SID
//! translated back); exit status 1 if a name maps to nothing. See docs/sdk.md.

use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use adjoin_join::member;
use adjoin_registry::Registry;
use adjoin_rpc::client::BindAuth;
use adjoin_rpc::lsa::{
    self, CloseRequest, CloseResponse, LookupNamesRequest, LookupNamesResponse, LookupSidsRequest,
    LookupSidsResponse, ObjectAttributes, OpenPolicy2Request, OpenPolicyResponse,
    POLICY_LOOKUP_NAMES, SidEnumBuffer, TranslatedNames, TranslatedSids,
};
use adjoin_rpc::ndr::{ConformantArray, Sid, UnicodeString};
use adjoin_rpc::netlogon::channel::SecureChannel;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::transport::{Connection, Transport};
use adjoin_rpc::uuid::SyntaxId;
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use zeroize::Zeroizing;

/// How long to wait for each answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// What NTLM reports as this computer's name.
const WORKSTATION: &str = "SDK-EXAMPLE";

/// The command line.
struct Args {
    dc: IpAddr,
    /// `DOMAIN\user` for ncacn_np; `None` for the member's secure channel on TCP.
    user: Option<(String, String)>,
    names: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut dc = None;
    let mut who = None;
    let mut tcp = false;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dc" => {
                dc = it
                    .next()
                    .map(|a| a.parse().map_err(|e| format!("--dc {a}: {e}")))
            }
            "--user" => who = it.next().cloned(),
            "--transport" => match it.next().map(String::as_str) {
                Some("np") => tcp = false,
                Some("tcp") => tcp = true,
                other => return Err(format!("--transport {other:?}: np or tcp")),
            },
            _ => names.push(arg.clone()),
        }
    }
    let usage = "usage: lsa_lookup --dc IP (--user DOMAIN\\user | --transport tcp) NAME...";
    let dc = dc.ok_or(usage)??;
    if names.is_empty() {
        return Err(usage.into());
    }
    let user = if tcp {
        None
    } else {
        let who = who.ok_or(usage)?;
        let (domain, user) = who.split_once('\\').ok_or("--user: give DOMAIN\\user")?;
        Some((domain.to_owned(), user.to_owned()))
    };
    Ok(Args { dc, user, names })
}

/// One name's answer.
struct Found {
    name: String,
    sid: Sid,
    kind: String,
    back: String,
}

/// LsarOpenPolicy2, LsarLookupNames, LsarLookupSids and LsarClose on a bound connection
/// (any transport).
async fn lookup<T: Transport>(
    conn: &mut Connection<T>,
    names: &[String],
) -> Result<Vec<Option<Found>>, String> {
    let failed = |call: &str, e: &dyn std::fmt::Display| format!("{call}: {e}");
    let open: OpenPolicyResponse = conn
        .call(
            lsa::Opnum::OPEN_POLICY2.value(),
            &OpenPolicy2Request {
                system_name: None,
                object_attributes: ObjectAttributes::with_qos(),
                desired_access: POLICY_LOOKUP_NAMES,
            },
        )
        .await
        .map_err(|e| failed("LsarOpenPolicy2", &e))?;
    if open.status != NtStatus::SUCCESS {
        return Err(failed("LsarOpenPolicy2", &open.status));
    }
    let policy = open.policy_handle;
    let by_name: LookupNamesResponse = conn
        .call(
            lsa::Opnum::LOOKUP_NAMES.value(),
            &LookupNamesRequest {
                policy_handle: policy,
                count: names.len() as u32,
                names: ConformantArray(names.iter().map(UnicodeString::new).collect()),
                translated_sids: TranslatedSids::default(),
                lookup_level: lsa::LOOKUP_WKSTA,
                mapped_count: 0,
            },
        )
        .await
        .map_err(|e| failed("LsarLookupNames", &e))?;
    if ![
        NtStatus::SUCCESS,
        NtStatus::SOME_NOT_MAPPED,
        NtStatus::NONE_MAPPED,
    ]
    .contains(&by_name.status)
    {
        return Err(failed("LsarLookupNames", &by_name.status));
    }
    // A translated SID is its domain's SID and the relative id.
    let translated = by_name
        .translated_sids
        .sids
        .as_ref()
        .map_or(&[][..], |s| &s.0);
    let sids: Vec<Option<(Sid, String)>> = translated
        .iter()
        .map(|t| {
            let domain = by_name
                .referenced_domains
                .as_ref()?
                .domain(u32::try_from(t.domain_index).ok()?)?;
            let domain_sid = domain.sid.as_ref()?;
            let sid = if t.sid_use == lsa::SidNameUse::DOMAIN {
                domain_sid.clone()
            } else {
                domain_sid.with_rid(t.relative_id).ok()?
            };
            Some((sid, t.sid_use.to_string()))
        })
        .collect();
    let known: Vec<Sid> = sids.iter().flatten().map(|(s, _)| s.clone()).collect();
    let by_sid: LookupSidsResponse = conn
        .call(
            lsa::Opnum::LOOKUP_SIDS.value(),
            &LookupSidsRequest {
                policy_handle: policy,
                sids: SidEnumBuffer::new(&known),
                translated_names: TranslatedNames::default(),
                lookup_level: lsa::LOOKUP_WKSTA,
                mapped_count: 0,
            },
        )
        .await
        .map_err(|e| failed("LsarLookupSids", &e))?;
    let _: Result<CloseResponse, _> = conn
        .call(
            lsa::Opnum::CLOSE.value(),
            &CloseRequest {
                object_handle: policy,
            },
        )
        .await;
    let back_names = by_sid
        .translated_names
        .names
        .as_ref()
        .map_or(&[][..], |n| &n.0);
    let mut back = back_names.iter().map(|t| {
        let domain = u32::try_from(t.domain_index)
            .ok()
            .and_then(|d| by_sid.referenced_domains.as_ref()?.domain(d))
            .map(|d| d.name.as_str().to_owned())
            .unwrap_or_default();
        if t.sid_use == lsa::SidNameUse::DOMAIN {
            t.name.as_str().to_owned()
        } else {
            format!(r"{domain}\{}", t.name.as_str())
        }
    });
    Ok(names
        .iter()
        .zip(sids)
        .map(|(name, sid)| {
            let (sid, kind) = sid?;
            Some(Found {
                name: name.clone(),
                sid,
                kind,
                back: back.next().unwrap_or_default(),
            })
        })
        .collect())
}

/// The member's secure channel to the DC: LsarLookupNames4 and LsarLookupSids3 over
/// ncacn_ip_tcp.
async fn run_tcp(dc: IpAddr, names: &[String]) -> Result<Vec<Option<Found>>, String> {
    let path = Registry::default_path();
    let registry = Registry::open(&path).map_err(|e| {
        format!(
            "the registry {}: {e} (run as root on a joined host)",
            path.display()
        )
    })?;
    let membership = member::membership(&registry).map_err(|e| format!("not joined: {e}"))?;
    let dc_name = adjoin_join::join::query(&registry)
        .ok()
        .flatten()
        .and_then(|state| state.get("DomainController").map(str::to_owned))
        .unwrap_or_else(|| dc.to_string());
    let mut channel = SecureChannel::new(dc, &dc_name, membership.account, TIMEOUT);
    let asked: Vec<&str> = names.iter().map(String::as_str).collect();
    let found = channel
        .lookup_names(&asked)
        .await
        .map_err(|e| format!("LsarLookupNames4: {e}"))?;
    let sids: Vec<Sid> = found.iter().flatten().map(|t| t.sid.clone()).collect();
    let back = channel
        .lookup_sids(&sids)
        .await
        .map_err(|e| format!("LsarLookupSids3: {e}"))?;
    let mut back = back.into_iter();
    Ok(found
        .into_iter()
        .zip(names)
        .map(|(t, name)| {
            let t = t?;
            Some(Found {
                name: name.clone(),
                sid: t.sid,
                kind: t.sid_use.to_string(),
                back: back
                    .next()
                    .flatten()
                    .map(|b| b.qualified())
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// A user's SMB logon to the DC: LSA on `\PIPE\lsarpc`.
async fn run_np(
    dc: IpAddr,
    (domain, user): (String, String),
    password: Zeroizing<String>,
    names: &[String],
) -> Result<Vec<Option<Found>>, String> {
    let addr = SocketAddr::new(dc, 445);
    let mut smb = SmbClient::connect(addr, &dc.to_string(), TIMEOUT)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    smb.session_setup(SessionAuth::Ntlm {
        user: user.clone(),
        domain: domain.clone(),
        password,
        workstation: WORKSTATION.into(),
    })
    .await
    .map_err(|e| format!(r"the logon of {domain}\{user}: {e}"))?;
    let pipe = NamedPipe::open(smb, "lsarpc")
        .await
        .map_err(|e| format!(r"opening \PIPE\lsarpc: {e}"))?;
    let mut conn = Connection::bind(pipe, "lsarpc", SyntaxId::LSA, BindAuth::None)
        .await
        .map_err(|e| format!("binding LSA: {e}"))?;
    let found = lookup(&mut conn, names).await;
    let _ = conn.into_transport().close().await;
    found
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("lsa_lookup: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lsa_lookup: {e}");
            return ExitCode::FAILURE;
        }
    };
    let names = args.names.clone();
    let result = match args.user {
        None => runtime.block_on(run_tcp(args.dc, &names)),
        Some(user) => {
            let mut line = Zeroizing::new(String::new());
            if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
                eprintln!("lsa_lookup: reading the password from stdin: {e}");
                return ExitCode::from(2);
            }
            let password = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
            runtime.block_on(run_np(args.dc, user, password, &names))
        }
    };
    match result {
        Ok(found) => {
            let mut status = ExitCode::SUCCESS;
            for (name, f) in names.iter().zip(found) {
                match f {
                    Some(f) => println!("{}\t{}\t{}\t{}", f.name, f.sid, f.kind, f.back),
                    None => {
                        eprintln!("lsa_lookup: {name}: no such account");
                        status = ExitCode::FAILURE;
                    }
                }
            }
            status
        }
        Err(e) => {
            eprintln!("lsa_lookup: {e}");
            ExitCode::FAILURE
        }
    }
}
