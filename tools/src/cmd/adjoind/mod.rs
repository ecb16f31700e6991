//! `adjoind`: the Adjoin daemon. One supervised process runs the host's identity service
//! (the Unix socket the NSS and PAM modules and `adjoin` talk to: user and group lookups
//! with ID mapping and a cache, Kerberos password logons, offline logons) and the SMB2/3
//! file server (domain logons by Kerberos or NTLM through the DC, the srvsvc/wkssvc pipes,
//! and the disk shares of the registry's Services\adjoind\Shares, files handled as the
//! logged-on user). SIGHUP reloads the identity settings from the registry;
//! SIGTERM or SIGINT stop it. See docs/adjoind.md.

use crate::cli;

mod dns_refresh;
mod rotation;
mod shares;
mod trusts;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use adjoin_identity::directory::{Dc, Directory, Locator};
use adjoin_identity::logon::{Conversations, Logons};
use adjoin_identity::server::{self, IdentityServer, Limits};
use adjoin_identity::trusted::DomainLocator;
use adjoin_identity::{Identity, Member, Settings};
use adjoin_join::discover::{self, DiscoverOptions, DomainController};
use adjoin_join::member::{self, Membership};
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::SecureChannel;
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_smb::server::limits::{AddressSlots, Descriptors};
use adjoin_smb::server::share::{DiskShare, Shares};
use adjoin_smb::server::stats::ServerStats;
use adjoin_smb::server::tables::{AdminGroups, ExtraPipes, IpcConfig};
use adjoin_smb::server::{ServerConfig, serve};
use anyhow::{Context, anyhow};
use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;

/// The registry key of the daemon's own settings.
const ADJOIND_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind";
/// The SMB server's settings.
const SMB_KEY: &str = r"HKEY_THIS_MACHINE\Smb";

#[derive(Debug, Parser)]
#[command(
    name = "adjoind",
    version,
    about = "The Adjoin daemon: the host's identity service (NSS, PAM, lookups) and SMB2/3 for domain users",
    after_help = "Examples:\n  adjoind                                  # identity on /run/adjoin/adjoind.sock, SMB on 0.0.0.0:445\n  adjoind --listen 127.0.0.1:4450 --keytab /var/lib/adjoin/krb5.keytab\n  adjoind --no-smb --socket /tmp/adjoind.sock   # identity service only\n\nSee docs/adjoind.md."
)]
struct Args {
    /// Where to accept SMB connections (default: every IPv4 address, on the registry's
    /// Smb\Port, 445).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Serve no SMB: only the identity service.
    #[arg(long)]
    no_smb: bool,
    /// The identity service's Unix socket (default: the registry's
    /// Services\adjoind\SocketPath, /run/adjoin/adjoind.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// The member's keytab, for Kerberos session setups and for verifying the KDC at
    /// password logons ("none" to offer NTLM only; password logons then fail).
    #[arg(long, value_name = "FILE", default_value = "/etc/krb5.keytab")]
    keytab: String,
    /// DNS server for finding the DC, as IP or IP:PORT (repeatable); default: the
    /// registry's Join\DnsServers, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Seconds to wait for each answer from the DC, and for an idle SMB client.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Concurrent logons through the secure channel.
    #[arg(long, value_name = "N", default_value_t = 8)]
    logon_bindings: usize,
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// What a program adds to the daemon it embeds ([`main_with`]): disk shares with
/// backends of its own, served beside the registry's, and named pipes on IPC$ with
/// DCE/RPC services of its own.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// Shares served besides those in the registry's `Services\adjoind\Shares`; a
    /// registry share of the same name is not served.
    pub shares: Vec<Arc<DiskShare>>,
    /// Pipes added to IPC$.
    pub pipes: ExtraPipes,
}

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    main_with(Extensions::default())
}

/// adjoind with a program's own shares and pipes: the same command line, registry and
/// services as `adjoind`, plus `extensions` (see `tools/examples` and docs/sdk.md).
pub fn main_with(extensions: Extensions) -> ExitCode {
    let args = Args::parse();
    cli::init_logging(args.verbose.max(1));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("adjoind: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, extensions)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("adjoind: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What every service needs: the membership, how to find a DC, the registry path.
struct Daemon {
    registry: PathBuf,
    membership: Membership,
    discover: DiscoverOptions,
    /// The DC found at start, if one answered.
    dc: Option<DomainController>,
    keytab: Option<PathBuf>,
    /// The identity service running now, for the SMB server's ID mapping and shares.
    identity: shares::CurrentIdentity,
    /// Whether this daemon serves SMB.
    smb: bool,
    /// What holds the machine's keys and password, for after a rotation.
    secrets: rotation::MachineSecrets,
    /// The embedding program's shares and pipes.
    extensions: Extensions,
    /// Asks the main loop to reload the identity service (as SIGHUP does).
    reload: tokio::sync::mpsc::Sender<&'static str>,
    /// PAM conversations in progress, kept across reloads of the identity service.
    conversations: Arc<Conversations>,
}

impl Daemon {
    /// Finds a DC of the joined domain (what the identity service calls when the DC it
    /// used stops answering).
    fn locator(&self) -> Locator {
        locator_for(&self.membership.dns_domain, &self.discover)
    }

    /// Finds a DC of a trusted domain, by its DNS name, through the same DNS servers.
    fn trusted_locator(&self) -> DomainLocator {
        let opts = self.discover.clone();
        Arc::new(move |domain: &str| locator_for(domain, &opts))
    }
}

/// Finds a DC of `domain` (DNS SRV records, then a CLDAP ping).
fn locator_for(domain: &str, opts: &DiscoverOptions) -> Locator {
    let (domain, opts) = (domain.to_owned(), opts.clone());
    Arc::new(move || {
        let (domain, opts) = (domain.clone(), opts.clone());
        Box::pin(async move {
            discover::discover(&domain, &opts)
                .await
                .map(|dc| Dc {
                    name: dc.dc_name,
                    address: dc.dc_address,
                })
                .map_err(|e| e.to_string())
        })
    })
}

/// Raises the soft limit on open files to the hard limit: every SMB connection and
/// identity client holds a descriptor.
fn raise_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    let soft = getrlimit(Resource::Nofile)
        .current
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    Descriptors::global().set_budget(soft.saturating_sub(DESCRIPTOR_RESERVE));
}

/// Descriptors of the open-file limit the file server leaves to the rest of the daemon
/// (the identity service's clients, the registry, DC connections, logs): its connections
/// and open files together hold at most the limit less this.
const DESCRIPTOR_RESERVE: usize = 256;

async fn run(args: Args, extensions: Extensions) -> anyhow::Result<()> {
    raise_file_limit();
    let path = Registry::default_path();
    let registry = Registry::open(&path)
        .with_context(|| format!("cannot open the registry {}", path.display()))?;
    let timeout = Duration::from_secs(args.timeout.clamp(1, 600));
    let membership = member::membership(&registry)?;
    let dns_servers = if args.dns_servers.is_empty() {
        member::registry_dns_servers(&registry)?
    } else {
        args.dns_servers.clone()
    };
    let discover = DiscoverOptions {
        dns_servers,
        ..DiscoverOptions::default()
    };
    // No DC at start is not fatal: the identity service answers from its cache and finds
    // one later; the SMB server waits for one.
    let dc = match discover::discover(&membership.dns_domain, &discover).await {
        Ok(dc) => Some(dc),
        Err(e) => {
            tracing::warn!(error = %e, "no DC found at start: serving from the cache until one answers");
            None
        }
    };
    let keytab = match args.keytab.as_str() {
        "none" => None,
        file => Some(PathBuf::from(file)),
    };
    let socket = match &args.socket {
        Some(p) => p.clone(),
        None => match registry.get_value(ADJOIND_KEY, "SocketPath")? {
            Value::Sz(ref s) => PathBuf::from(s),
            _ => anyhow::bail!("{ADJOIND_KEY}\\SocketPath is not a REG_SZ"),
        },
    };
    let (reload_tx, mut reload) = tokio::sync::mpsc::channel(1);
    let ctx = Daemon {
        registry: path,
        membership,
        discover,
        dc,
        keytab,
        identity: shares::CurrentIdentity::default(),
        smb: !args.no_smb,
        secrets: rotation::MachineSecrets::default(),
        extensions,
        reload: reload_tx,
        conversations: Arc::default(),
    };
    // The SMB port is bound before the identity service answers, so a port in use stops
    // the start before anything is served (`adjoin status` never sees a daemon that is
    // about to exit).
    let smb_listener = if args.no_smb {
        None
    } else {
        let listen = match args.listen {
            Some(listen) => listen,
            None => SocketAddr::from(([0, 0, 0, 0], smb_port(&registry)?)),
        };
        Some(
            TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?,
        )
    };
    // Bound once: a reload swaps the service behind it, never the socket.
    let listener = Arc::new(
        server::bind(&socket, &Limits::default())
            .with_context(|| format!("cannot listen on {}", socket.display()))?,
    );
    let mut identity = match identity_service(&ctx, &socket, &listener) {
        Ok(identity) => identity,
        Err(e) => {
            let _ = std::fs::remove_file(&socket);
            return Err(e);
        }
    };
    let mut services = JoinSet::new();
    if let Some(smb_listener) = smb_listener {
        let smb = smb_service(&ctx, &args, smb_listener, timeout).await?;
        services.spawn(smb);
    }
    let (rotated_tx, mut rotated) = tokio::sync::mpsc::channel(1);
    tokio::spawn(
        rotation::Rotation {
            registry: ctx.registry.clone(),
            discover: ctx.discover.clone(),
            secrets: ctx.secrets.clone(),
            smb: ctx.smb,
            rotated: rotated_tx,
        }
        .run(),
    );
    tokio::spawn(
        dns_refresh::DnsRefresh {
            registry: ctx.registry.clone(),
            discover: ctx.discover.clone(),
        }
        .run(),
    );
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            Some(done) = services.join_next() => {
                return match done {
                    Ok(r) => r.context("the SMB server stopped"),
                    Err(e) => Err(anyhow!("the SMB server failed: {e}")),
                };
            }
            Some(done) = identity.join_next() => {
                let r = done.map_err(|e| anyhow!("{e}"))?;
                return r.context("the identity service stopped");
            }
            Some(why) = reload.recv() => {
                tracing::info!("{why}: reloading the identity settings from the registry");
                if let Err(e) = reload_identity(&ctx, &socket, &listener, &mut identity) {
                    tracing::warn!(error = %e, "reload failed; the old settings stay");
                }
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the identity settings from the registry");
                if let Err(e) = reload_identity(&ctx, &socket, &listener, &mut identity) {
                    tracing::warn!(error = %e, "reload failed; the old settings stay");
                }
            }
            Some(kvno) = rotated.recv() => {
                // The new keys (beside the previous kvno's) for Kerberos logons, and the
                // new password for the identity service's own logon to the DC.
                ctx.secrets.reload_keytab(ctx.keytab.as_deref());
                match reload_identity(&ctx, &socket, &listener, &mut identity) {
                    Ok(()) => tracing::info!(kvno, "the daemon took the new machine password and keys"),
                    Err(e) => tracing::warn!(error = %e, "the identity service keeps the old password until SIGHUP"),
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    tracing::info!("stopping");
    services.abort_all();
    identity.abort_all();
    let _ = std::fs::remove_file(&socket);
    Ok(())
}

/// Replaces the running identity service with one built from the registry as it is now;
/// on failure the running one stays.
fn reload_identity(
    ctx: &Daemon,
    socket: &std::path::Path,
    listener: &Arc<server::Listener>,
    identity: &mut JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let new = identity_service(ctx, socket, listener)?;
    identity.abort_all();
    *identity = new;
    Ok(())
}

/// The identity service: settings from the registry, the directory at the DC found at
/// start, serving on `listener` (bound to `socket`), and the fast cache writer, as tasks of
/// their own.
fn identity_service(
    ctx: &Daemon,
    socket: &std::path::Path,
    listener: &Arc<server::Listener>,
) -> anyhow::Result<JoinSet<anyhow::Result<()>>> {
    let registry = Registry::open(&ctx.registry)
        .with_context(|| format!("cannot open the registry {}", ctx.registry.display()))?;
    let settings = Settings::from_registry(&registry)?;
    // The membership as the registry holds it now: after a rotation, the new password.
    let membership = member::membership(&registry)?;
    let member = identity_member(&registry, &membership, ctx.keytab.clone())?;
    let dc = ctx.dc.as_ref().map(|dc| Dc {
        name: dc.dc_name.clone(),
        address: dc.dc_address,
    });
    let directory = Directory::new(member.clone(), ctx.locator(), dc, settings.dc_timeout);
    let nss_cache = settings.nss_cache_path.clone();
    let identity = Arc::new(
        Identity::new(member, settings, directory)?
            .with_trusted(&ctx.trusted_locator(), &ctx.locator()),
    );
    *ctx.identity.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&identity));
    let logons = Logons::new(
        Arc::clone(&identity),
        registry,
        Arc::clone(&ctx.conversations),
    );
    // The SMB server's counters, for `adjoin stats` (when this daemon serves SMB).
    let stats: Option<server::StatsSource> = ctx.smb.then(|| {
        Arc::new(|reset| {
            let counters = ServerStats::global();
            let snapshot = counters.snapshot();
            if reset {
                counters.reset();
            }
            snapshot.to_json()
        }) as server::StatsSource
    });
    let server = IdentityServer::new(Arc::clone(&identity), logons, Limits::default(), stats);
    tracing::info!(socket = %socket.display(), "serving the identity service");
    let mut tasks = JoinSet::new();
    let serving = Arc::clone(&server);
    let listener = Arc::clone(listener);
    tasks.spawn(async move { serving.serve(listener).await.context("accept failed") });
    let refreshing = Arc::clone(&server);
    tasks.spawn(async move {
        refreshing.refresh_ahead().await;
        Ok(())
    });
    tasks.spawn(async move {
        server.keep_fast_cache(nss_cache).await;
        Ok(())
    });
    tasks.spawn(
        trusts::Trusts {
            identity: Arc::clone(&identity),
            registry: ctx.registry.clone(),
            reload: ctx.reload.clone(),
        }
        .run(),
    );
    Ok(tasks)
}

/// The identity service's view of the join: names, realm and SID from the registry's
/// join state, the password from the membership.
fn identity_member(
    registry: &Registry,
    m: &Membership,
    keytab: Option<PathBuf>,
) -> anyhow::Result<Member> {
    let state = adjoin_join::join::query(registry)?
        .ok_or_else(|| anyhow!("this machine is not joined (run `domain-join join` first)"))?;
    let field = |n: &str| {
        state
            .get(n)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("the registry lacks Join\\{n}; rejoin with `domain-join join`"))
    };
    Ok(Member {
        dns_domain: m.dns_domain.clone(),
        realm: field("Realm")?,
        netbios_domain: m.account.netbios_domain.clone(),
        netbios_name: m.account.netbios_name.clone(),
        fqdn: m.fqdn.clone(),
        domain_sid: field("DomainSid")?
            .parse()
            .map_err(|e| anyhow!("Join\\DomainSid: {e}"))?,
        password: m.account.password.clone(),
        keytab,
    })
}

/// The SMB server: its accept loop on `listener`.
async fn smb_service(
    ctx: &Daemon,
    args: &Args,
    listener: TcpListener,
    timeout: Duration,
) -> anyhow::Result<impl Future<Output = anyhow::Result<()>> + use<>> {
    let kerberos = match &ctx.keytab {
        None => None,
        Some(file) => {
            let bytes = std::fs::read(file).with_context(|| {
                format!(
                    "cannot read the keytab {} (join with --keytab, or --keytab none for NTLM only)",
                    file.display()
                )
            })?;
            let keytab = Keytab::parse(&bytes)
                .with_context(|| format!("{} is not a keytab", file.display()))?;
            let acceptor = Arc::new(Mutex::new(Acceptor::new(keytab)));
            let _ = ctx.secrets.acceptor.set(Arc::clone(&acceptor));
            Some(acceptor)
        }
    };
    let mut server_guid = [0u8; 16];
    getrandom::fill(&mut server_guid).map_err(|e| anyhow!("the random source failed: {e}"))?;
    let m = &ctx.membership;
    let shares = Shares::default();
    let mapper = shares::IdentityMapper {
        identity: Arc::clone(&ctx.identity),
        runtime: tokio::runtime::Handle::current(),
    };
    // Read at start: the member's SIDs and the server-wide settings.
    let (domain_sid, machine_sid, limits, encrypt_data) = {
        let registry = Registry::open(&ctx.registry)
            .with_context(|| format!("cannot open the registry {}", ctx.registry.display()))?;
        let (domain_sid, machine_sid) = shares::member_sids(&registry)?;
        let limits = ConnectionLimits::from_registry(&registry)?;
        warn_signing_not_required(&registry);
        (domain_sid, machine_sid, limits, encrypt_data(&registry)?)
    };
    let admins = AdminGroups::default();
    let resolver = shares::IdentityResolver {
        identity: Arc::clone(&ctx.identity),
        runtime: tokio::runtime::Handle::current(),
    };
    let config = Arc::new(ServerConfig {
        identity: m.server_identity(),
        server_guid,
        comment: format!("Adjoin on {}", m.fqdn),
        shares: shares.clone(),
        tokens: Some(Arc::new(mapper)),
        kerberos: kerberos.clone(),
        ipc: IpcConfig {
            domain_sid: Some(domain_sid),
            machine_sid: Some(machine_sid),
            admins: admins.clone(),
            resolver: Some(Arc::new(resolver)),
            tables: Arc::default(),
            pipes: ctx.extensions.pipes.clone(),
        },
        encrypt_data,
    });
    tokio::spawn(shares::keep_current(
        ctx.registry.clone(),
        shares,
        ctx.extensions.shares.clone(),
        Arc::clone(&ctx.identity),
    ));
    tokio::spawn(shares::keep_admins_current(
        ctx.registry.clone(),
        admins,
        Arc::clone(&ctx.identity),
    ));
    let (membership, opts, bindings) = (m.clone(), ctx.discover.clone(), args.logon_bindings);
    // The address bound (with `--listen ADDR:0`, the port the system chose).
    let listen = listener
        .local_addr()
        .context("the SMB listener has no address")?;
    let found_at_start = ctx.dc.clone();
    let secrets = ctx.secrets.clone();
    Ok(async move {
        // NTLM logons need the secure channel to a DC: the one found at start, else wait
        // for one (the listener is bound, so clients queue in its backlog meanwhile).
        let (channel, dc) = loop {
            if let Some(dc) = &found_at_start {
                let channel = SecureChannel::new(
                    dc.dc_address,
                    &dc.dc_name,
                    membership.account.clone(),
                    timeout,
                );
                break (channel, dc.clone());
            }
            match member::secure_channel(&membership, &opts, timeout).await {
                Ok(found) => break found,
                Err(e) => {
                    tracing::warn!(error = %e, "SMB: no DC yet; trying again in 30 s");
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            }
        };
        let pool = Arc::new(LogonPool::new(channel, bindings));
        let _ = secrets.pool.set(Arc::clone(&pool));
        tracing::info!(
            %listen,
            member = %membership.fqdn,
            dc = %dc.dc_name,
            kerberos = kerberos.is_some(),
            encrypt_data,
            "serving SMB"
        );
        // Connections served at once; more wait in the listen backlog. One address may
        // hold only its share, so a single host cannot take every slot.
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let per_address = AddressSlots::new(limits.per_address);
        let budget = Descriptors::global().budget();
        if limits.max_connections.saturating_mul(2) > budget {
            tracing::warn!(
                max_connections = limits.max_connections,
                descriptors = budget,
                "MaxConnections clients with a file open each need more descriptors than the open-file limit leaves the file server: past that, connections and opens are refused (STATUS_TOO_MANY_OPENED_FILES); raise LimitNOFILE"
            );
        }
        let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
        loop {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                return Ok(());
            };
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or memory: those connected go on; try again soon
                    // rather than spin on the same error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // The connection's descriptor counts against the file server's budget.
            let Some(descriptor) = Descriptors::global().take() else {
                if refused_logged.elapsed() > Duration::from_secs(60) {
                    tracing::warn!(
                        descriptors = budget,
                        "the file server holds all the descriptors the open-file limit leaves it: refusing connections"
                    );
                    refused_logged = std::time::Instant::now();
                }
                continue;
            };
            let Some(address_slot) = per_address.take(peer.ip()) else {
                // Closed at once; logged at most once a minute (a flood is not a log flood).
                if refused_logged.elapsed() > Duration::from_secs(60) {
                    tracing::warn!(address = %peer.ip(), limit = limits.per_address, "a client address holds its connection limit (MaxConnectionsPerAddress): refusing more");
                    refused_logged = std::time::Instant::now();
                }
                continue;
            };
            let (config, pool) = (Arc::clone(&config), Arc::clone(&pool));
            tokio::spawn(async move {
                if let Err(e) = serve(stream, config, pool, timeout).await {
                    tracing::info!(%peer, error = %e, "connection ended");
                }
                drop(address_slot);
                drop(descriptor);
                drop(slot);
            });
        }
    })
}

/// How many SMB connections adjoind holds (registry `Services\adjoind`).
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// `MaxConnections`.
    max_connections: usize,
    /// `MaxConnectionsPerAddress`.
    per_address: usize,
}

/// The REG_DWORD `key\name` (its schema default when unset).
pub(crate) fn dword(registry: &Registry, key: &str, name: &str) -> anyhow::Result<u32> {
    match registry.get_value(key, name)? {
        Value::Dword(n) => Ok(n),
        _ => anyhow::bail!("{key}\\{name} is not a REG_DWORD"),
    }
}

/// `Smb\Port`: the SMB port when `--listen` does not name one.
fn smb_port(registry: &Registry) -> anyhow::Result<u16> {
    let n = dword(registry, SMB_KEY, "Port")?;
    u16::try_from(n)
        .ok()
        .filter(|&port| port != 0)
        .ok_or_else(|| anyhow!("{SMB_KEY}\\Port is {n}, not a TCP port (1 to 65535)"))
}

/// `Smb\EncryptData`: whether every SMB session must encrypt.
fn encrypt_data(registry: &Registry) -> anyhow::Result<bool> {
    Ok(dword(registry, SMB_KEY, "EncryptData")? != 0)
}

/// `Smb\SigningRequired` 0 asks for what the server never does (it always requires
/// signing): said once at start, so that an admin does not believe it took effect.
fn warn_signing_not_required(registry: &Registry) {
    if let Ok(Value::Dword(0)) = registry.get_value(SMB_KEY, "SigningRequired") {
        tracing::warn!(
            "{SMB_KEY}\\SigningRequired is 0, but the SMB server always requires signing; the setting has no effect"
        );
    }
}

impl ConnectionLimits {
    fn from_registry(registry: &Registry) -> anyhow::Result<Self> {
        let number = |name| dword(registry, ADJOIND_KEY, name).map(|n| n as usize);
        Ok(Self {
            max_connections: number("MaxConnections")?,
            per_address: number("MaxConnectionsPerAddress")?,
        })
    }
}
