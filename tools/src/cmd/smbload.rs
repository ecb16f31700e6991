//! adjoin-smbload: a load generator for any SMB2/3 server (Adjoin's adjoind, Samba's
//! smbd, Windows): held connections, session setups per second, read and write
//! throughput. Built on Adjoin's SMB client (`adjoin_smb::client`).

use crate::cli::{self, Logon};
use crate::ticket;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adjoin_auth::krb::Credentials;
use adjoin_join::discover;
use adjoin_smb::SmbError;
use adjoin_smb::client::{OpenFile, OpenOptions, Pipeline, SmbClient};
use adjoin_smb::proto::{DIALECTS, Dialect};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio::sync::{Barrier, Semaphore, watch};
use zeroize::Zeroizing;

const EXAMPLES: &str = "\
Examples (the lab: eval \"$(tools/lab env)\"):
  # 1,000 connections to adjoind on 127.0.0.1:4450, each logged on as alice with a tree
  # connect and an open file, held for 60 s once all are up, 200 new ones a second:
  adjoin-smbload hold //member.example.test/data --address 127.0.0.1:4450 \\
      -U 'EXAMPLE\\alice' --password-env ADJOIN_LAB_ALICE_PASSWORD -n 1000 --rate 200 --seconds 60

  # NTLM session setups per second against the lab DC's smbd, 4 workers for 10 s:
  adjoin-smbload logons //dc1.example.test/netlogon --address 127.0.0.2 \\
      -U 'EXAMPLE\\administrator' --password-env ADJOIN_LAB_ADMIN_PASSWORD -c 4 --seconds 10

  # The same with Kerberos: a cifs/ ticket from the ccache (kinit alice@EXAMPLE.TEST first):
  adjoin-smbload logons //dc1.example.test/netlogon --address 127.0.0.2 -k --kdc 127.0.0.2

  # Write then read 1 GiB over 4 connections (each moves a quarter of smbload.bin), JSON:
  adjoin-smbload write //member.example.test/data --address 127.0.0.1:4450 -U 'EXAMPLE\\alice' \\
      --password-env ADJOIN_LAB_ALICE_PASSWORD --size 1G -c 4 --json
  adjoin-smbload read  //member.example.test/data --address 127.0.0.1:4450 -U 'EXAMPLE\\alice' \\
      --password-env ADJOIN_LAB_ALICE_PASSWORD --size 1G -c 4 --json";

/// Load for an SMB2/3 file server: held connections, logons per second, throughput.
#[derive(Debug, Parser)]
#[command(name = "adjoin-smbload", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open N connections, each with a session, a tree connect and an open file, and hold
    /// them (ECHO keeps them alive) until Ctrl-C or --seconds; progress every second.
    Hold(HoldArgs),
    /// Session setups per second over C concurrent workers, with latency percentiles.
    Logons(LogonArgs),
    /// Read --size bytes of a file over C connections; MiB/s.
    Read(TransferArgs),
    /// Write --size bytes to a file over C connections; MiB/s.
    Write(TransferArgs),
}

/// Where to connect and who to be: the same for every subcommand.
#[derive(Debug, Args)]
struct TargetArgs {
    /// The share, as //SERVER/SHARE (SERVER is the name used in the tree connect path and
    /// the Kerberos service principal cifs/SERVER).
    unc: String,
    /// Connect to this address (IP or IP:PORT) instead of resolving SERVER.
    #[arg(short = 'I', long, value_name = "IP[:PORT]")]
    address: Option<String>,
    /// The TCP port, when --address does not give one.
    #[arg(short, long, default_value_t = 445)]
    port: u16,
    /// NTLM as this user, DOMAIN\USER (or USER with --domain).
    #[arg(
        short = 'U',
        long,
        value_name = "[DOMAIN\\]USER",
        required_unless_present = "kerberos"
    )]
    user: Option<String>,
    /// The user's NetBIOS domain, when --user does not name it.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_stdin")]
    password_env: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    /// Kerberos instead of NTLM: a ticket for cifs/SERVER from the credential cache
    /// (KRB5CCNAME), asked of the KDC with the cache's TGT when the cache has none.
    #[arg(short = 'k', long, conflicts_with = "user")]
    kerberos: bool,
    /// The credential cache (default: KRB5CCNAME, else the default cache).
    #[arg(long, value_name = "PATH")]
    ccache: Option<PathBuf>,
    /// The service principal for Kerberos (default cifs/SERVER).
    #[arg(long, value_name = "SPN")]
    spn: Option<String>,
    /// KDC to ask for the service ticket, HOST or HOST:PORT (default: DNS SRV records).
    #[arg(long, value_name = "HOST")]
    kdc: Vec<String>,
    /// DNS server for the KDC lookup, IP or IP:PORT.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Offer only this dialect (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1); default: all of them.
    #[arg(long, value_name = "DIALECT", value_parser = parse_dialect)]
    dialect: Option<Dialect>,
    /// Encrypt every message after the session setup.
    #[arg(long)]
    encrypt: bool,
    /// Seconds to wait for each connect and each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Print one JSON object (progress still goes to stderr).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct HoldArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Connections to open and hold.
    #[arg(short = 'n', long, default_value_t = 100)]
    connections: usize,
    /// New connections started per second at most (the server's listen backlog is not
    /// overrun).
    #[arg(long, value_name = "PER_SECOND", default_value_t = 200.0)]
    rate: f64,
    /// Connections being set up at once at most.
    #[arg(long, value_name = "N", default_value_t = 32)]
    parallel: usize,
    /// Hold this long once every connection was tried, then close them all and exit
    /// (default: until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    seconds: Option<f64>,
    /// The file each connection opens (FILE_OPEN_IF, read/write, shared); with {} in it,
    /// each connection's number takes its place (one file per connection).
    #[arg(long, default_value = "smbload-hold.bin")]
    file: String,
    /// Seconds between ECHOs on each held connection (servers close idle connections).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    keepalive: f64,
    /// Write this file (a JSON line of the counts) once every connection was tried, for a
    /// script to measure the server at its peak.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct LogonArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Concurrent workers.
    #[arg(short = 'c', long, default_value_t = 4)]
    concurrency: usize,
    /// How long to run.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    seconds: f64,
    /// Each worker keeps one connection and logs off between session setups (the default
    /// is a new connection per logon: TCP connect, NEGOTIATE, SESSION_SETUP, all timed).
    #[arg(long)]
    reuse: bool,
}

#[derive(Debug, Args)]
struct TransferArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Bytes to move in all, split evenly over the connections (suffixes K, M, G: 1024s).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, default_value = "1G")]
    size: u64,
    /// Connections, each moving its own part of the file.
    #[arg(short = 'c', long, default_value_t = 1)]
    connections: usize,
    /// The file, relative to the share.
    #[arg(long, default_value = "smbload.bin")]
    file: String,
    /// Bytes per READ or WRITE (default: the server's MaxReadSize/MaxWriteSize, at most
    /// 1 MiB).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    io_size: Option<u64>,
    /// Requests in flight per connection at most (the server's credits may allow fewer).
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// read: check the data is what `write` writes (a pattern of the offset).
    #[arg(long)]
    verify: bool,
}

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("adjoin-smbload: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("adjoin-smbload: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Hold(args) => hold(args).await,
        Command::Logons(args) => logons(args).await,
        Command::Read(args) => transfer(args, Direction::Read).await,
        Command::Write(args) => transfer(args, Direction::Write).await,
    }
}

// ---- the target and the credentials

/// What every connection needs: where, as whom, with which dialects.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    server: String,
    share: String,
    auth: Logon,
    dialects: Vec<Dialect>,
    encrypt: bool,
    timeout: Duration,
}

impl Target {
    async fn from_args(args: &TargetArgs) -> anyhow::Result<Self> {
        let (server, share) = parse_unc(&args.unc)?;
        let addr = resolve(args, &server).await?;
        let auth = if args.kerberos {
            Logon::Kerberos(Box::new(kerberos_ticket(args, &server).await?))
        } else {
            ntlm_auth(args)?
        };
        Ok(Self {
            addr,
            server,
            share,
            auth,
            dialects: args.dialect.map_or_else(|| DIALECTS.to_vec(), |d| vec![d]),
            encrypt: args.encrypt,
            timeout: Duration::from_secs(args.timeout.max(1)),
        })
    }

    /// A new connection with an authenticated session.
    async fn logon(&self) -> Result<SmbClient, SmbError> {
        let mut client =
            SmbClient::connect_with(self.addr, &self.server, self.timeout, &self.dialects).await?;
        if self.encrypt {
            client.encrypt_always();
        }
        client
            .session_setup(self.auth.session_auth("SMBLOAD"))
            .await?;
        Ok(client)
    }

    /// A new connection with a session, the share connected and `file` open.
    async fn open(
        &self,
        file: &str,
        options: OpenOptions,
    ) -> Result<(SmbClient, OpenFile), SmbError> {
        let mut client = self.logon().await?;
        let tree = client.tree_connect(&self.share).await?;
        let open = client.create(tree, file, options).await?;
        Ok((client, open))
    }

    fn describe(&self) -> serde_json::Value {
        json!({
            "server": self.server,
            "share": self.share,
            "address": self.addr.to_string(),
            "auth": self.auth.name(),
        })
    }
}

/// `//server/share` (or with backslashes) as its two names.
fn parse_unc(unc: &str) -> anyhow::Result<(String, String)> {
    let rest = unc
        .strip_prefix("//")
        .or_else(|| unc.strip_prefix(r"\\"))
        .with_context(|| format!("{unc}: give the share as //SERVER/SHARE"))?;
    let mut parts = rest.split(['/', '\\']).filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(server), Some(share), None) => Ok((server.to_owned(), share.to_owned())),
        _ => bail!("{unc}: give the share as //SERVER/SHARE"),
    }
}

async fn resolve(args: &TargetArgs, server: &str) -> anyhow::Result<SocketAddr> {
    if let Some(a) = &args.address {
        if let Ok(ip) = a.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, args.port));
        }
        return a
            .parse::<SocketAddr>()
            .with_context(|| format!("--address {a}: not IP or IP:PORT"));
    }
    tokio::net::lookup_host((server, args.port))
        .await
        .with_context(|| format!("cannot resolve {server} (use --address)"))?
        .next()
        .with_context(|| format!("{server} has no address (use --address)"))
}

fn ntlm_auth(args: &TargetArgs) -> anyhow::Result<Logon> {
    let given = args
        .user
        .as_deref()
        .context("give --user, or -k for Kerberos")?;
    let (domain, user) = match given.split_once('\\') {
        Some((d, u)) => (d.to_owned(), u.to_owned()),
        None => {
            let d = args.domain.clone().with_context(|| {
                format!("{given}: give the domain, as DOMAIN\\USER or --domain")
            })?;
            (d, given.to_owned())
        }
    };
    let password = match &args.password_env {
        Some(var) => {
            Zeroizing::new(std::env::var(var).with_context(|| format!("${var} is not set"))?)
        }
        None => cli::read_secret(
            &format!("Password for {domain}\\{user}: "),
            args.password_stdin,
        )?,
    };
    Ok(Logon::Ntlm {
        user,
        domain,
        password,
    })
}

/// A service ticket for the SPN from the credential cache, or from the KDC with the
/// cache's TGT (not stored back: the cache is only read).
async fn kerberos_ticket(args: &TargetArgs, server: &str) -> anyhow::Result<Credentials> {
    let spn = args.spn.clone().unwrap_or_else(|| format!("cifs/{server}"));
    ticket::service_ticket(args.ccache.as_deref(), &spn, &args.kdc, &args.dns_servers).await
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    let d = match s {
        "2.0.2" | "2.02" => Dialect::SMB202,
        "2.1" | "2.10" => Dialect::SMB210,
        "3.0" | "3.00" => Dialect::SMB300,
        "3.0.2" | "3.02" => Dialect::SMB302,
        "3.1.1" | "3.11" => Dialect::SMB311,
        _ => return Err(format!("{s}: not one of 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1")),
    };
    Ok(d)
}

/// BYTES with an optional K, M or G (powers of 1024; KiB, MiB, GiB too).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[digits.len()..];
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s}: a number of bytes, with K, M or G"))?;
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{s}: unknown unit {unit}")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{s}: too large"))
}

// ---- hold

/// What the held connections are doing, counted across tasks.
#[derive(Debug, Default)]
struct HoldCounters {
    started: AtomicU64,
    established: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    setup_us: Mutex<Vec<u64>>,
}

impl HoldCounters {
    fn error(&self, e: &SmbError) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(e.to_string()).or_default() += 1;
    }

    fn up(&self) -> u64 {
        self.established.load(Ordering::Relaxed) - self.dropped.load(Ordering::Relaxed)
    }

    fn tried(&self) -> u64 {
        self.established.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }
}

async fn hold(args: HoldArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections > 0, "-n must be at least 1");
    anyhow::ensure!(args.rate > 0.0, "--rate must be positive");
    let target = Arc::new(Target::from_args(&args.target).await?);
    let counters = Arc::new(HoldCounters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let keepalive = Duration::from_secs_f64(args.keepalive.max(0.1));
    let start = Instant::now();
    let launcher = tokio::spawn(launch_holds(
        Arc::clone(&target),
        Arc::clone(&counters),
        stop_rx.clone(),
        LaunchPlan {
            connections: args.connections,
            rate: args.rate,
            parallel: args.parallel.max(1),
            file: args.file.clone(),
            keepalive,
        },
    ));

    let n = args.connections as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut all_tried: Option<Instant> = None;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = ticker.tick() => {}
        }
        progress(&counters, n, start);
        if all_tried.is_none() && counters.tried() >= n {
            all_tried = Some(Instant::now());
            eprintln!(
                "adjoin-smbload: all {n} tried after {:.1} s: {} established, {} failed",
                start.elapsed().as_secs_f64(),
                counters.established.load(Ordering::Relaxed),
                counters.failed.load(Ordering::Relaxed)
            );
            if let Some(path) = &args.ready_file {
                let line = hold_counts(&counters, n);
                std::fs::write(path, format!("{line}\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        if let (Some(t), Some(s)) = (all_tried, args.seconds)
            && t.elapsed().as_secs_f64() >= s
        {
            break;
        }
    }
    let held_for = all_tried.map(|t| t.elapsed().as_secs_f64());
    let _ = stop_tx.send(true);
    let _ = launcher.await;
    let summary = hold_summary(&args, &target, &counters, start, all_tried, held_for);
    print_summary(args.target.json, &summary, || {
        let s = &summary;
        format!(
            "hold: {} of {} connections established ({} failed, {} dropped while held); \
             setup p50 {} ms, p99 {} ms; {} s to try all; held {} s",
            s["established"],
            s["connections"],
            s["failed"],
            s["dropped"],
            s["setup_ms"]["p50"],
            s["setup_ms"]["p99"],
            s["seconds_to_try_all"],
            s["held_seconds"]
        )
    });
    Ok(())
}

#[derive(Debug, Clone)]
struct LaunchPlan {
    connections: usize,
    rate: f64,
    parallel: usize,
    file: String,
    keepalive: Duration,
}

/// Starts the connections at `rate` per second, at most `parallel` setting up at once;
/// returns when every held connection has closed.
async fn launch_holds(
    target: Arc<Target>,
    counters: Arc<HoldCounters>,
    stop: watch::Receiver<bool>,
    plan: LaunchPlan,
) {
    let setups = Arc::new(Semaphore::new(plan.parallel));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.connections {
        if *stop.borrow() {
            break;
        }
        ticker.tick().await;
        let Ok(permit) = Arc::clone(&setups).acquire_owned().await else {
            break;
        };
        counters.started.fetch_add(1, Ordering::Relaxed);
        let file = plan.file.replace("{}", &i.to_string());
        let (target, counters, stop) = (Arc::clone(&target), Arc::clone(&counters), stop.clone());
        // Spread the keepalives over the interval.
        let first = plan.keepalive.mul_f64((i % 1000) as f64 / 1000.0);
        let keepalive = plan.keepalive;
        tasks.spawn(async move {
            let began = Instant::now();
            let opened = target.open(&file, OpenOptions::read_write()).await;
            drop(permit);
            match opened {
                Ok((client, _file)) => {
                    counters.established.fetch_add(1, Ordering::Relaxed);
                    let us = began.elapsed().as_micros() as u64;
                    counters
                        .setup_us
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(us);
                    held(client, first, keepalive, stop, &counters).await;
                }
                Err(e) => {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    counters.error(&e);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Keeps one connection alive with ECHOs until `stop`; closes it by dropping it.
async fn held(
    mut client: SmbClient,
    first: Duration,
    keepalive: Duration,
    mut stop: watch::Receiver<bool>,
    counters: &HoldCounters,
) {
    let mut wait = first;
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if let Err(e) = client.echo().await {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            counters.error(&e);
            return;
        }
        wait = keepalive;
    }
}

fn progress(counters: &HoldCounters, n: u64, start: Instant) {
    let started = counters.started.load(Ordering::Relaxed);
    let tried = counters.tried();
    eprintln!(
        "adjoin-smbload: {:>6.1} s  up {:>6}/{n}  setting up {:>4}  failed {:>5}  dropped {:>5}",
        start.elapsed().as_secs_f64(),
        counters.up(),
        started.saturating_sub(tried),
        counters.failed.load(Ordering::Relaxed),
        counters.dropped.load(Ordering::Relaxed),
    );
}

fn hold_counts(counters: &HoldCounters, n: u64) -> serde_json::Value {
    json!({
        "connections": n,
        "established": counters.established.load(Ordering::Relaxed),
        "failed": counters.failed.load(Ordering::Relaxed),
        "up": counters.up(),
    })
}

fn hold_summary(
    args: &HoldArgs,
    target: &Target,
    counters: &HoldCounters,
    start: Instant,
    all_tried: Option<Instant>,
    held_for: Option<f64>,
) -> serde_json::Value {
    let mut setup = counters
        .setup_us
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let errors = counters
        .errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    json!({
        "command": "hold",
        "target": target.describe(),
        "connections": args.connections,
        "rate_limit": args.rate,
        "established": counters.established.load(Ordering::Relaxed),
        "failed": counters.failed.load(Ordering::Relaxed),
        "dropped": counters.dropped.load(Ordering::Relaxed),
        "seconds_to_try_all": all_tried.map(|t| round3((t - start).as_secs_f64())),
        "held_seconds": held_for.map(round3),
        "setup_ms": percentiles_ms(&mut setup),
        "errors": errors,
    })
}

// ---- logons

async fn logons(args: LogonArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "-c must be at least 1");
    let target = Arc::new(Target::from_args(&args.target).await?);
    // One logon first, untimed: it proves the credentials and warms both sides.
    let mut probe = target
        .logon()
        .await
        .with_context(|| format!("a first logon to {}", target.addr))?;
    let dialect = probe.negotiated().dialect;
    let _ = probe.logoff().await;
    drop(probe);

    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds.max(0.1));
    let errors = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (target, errors) = (Arc::clone(&target), Arc::clone(&errors));
        let reuse = args.reuse;
        workers.spawn(async move { logon_worker(&target, deadline, reuse, &errors).await });
    }
    let mut latencies = Vec::new();
    while let Some(r) = workers.join_next().await {
        latencies.extend(r.context("a logon worker panicked")?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let failures: u64 = errors.values().sum();
    let n = latencies.len();
    let summary = json!({
        "command": "logons",
        "target": target.describe(),
        "dialect": dialect.to_string(),
        "mode": if args.reuse { "reuse" } else { "connect" },
        "concurrency": args.concurrency,
        "seconds": round3(elapsed),
        "logons": n,
        "failures": failures,
        "per_second": round3(n as f64 / elapsed),
        "latency_ms": percentiles_ms(&mut latencies),
        "errors": errors,
    });
    print_summary(args.target.json, &summary, || {
        let s = &summary;
        format!(
            "logons ({}, {}): {} in {} s = {} /s with {} workers; p50 {} ms, p99 {} ms; {} failed",
            target.auth.name(),
            s["mode"].as_str().unwrap_or_default(),
            s["logons"],
            s["seconds"],
            s["per_second"],
            s["concurrency"],
            s["latency_ms"]["p50"],
            s["latency_ms"]["p99"],
            s["failures"]
        )
    });
    anyhow::ensure!(n > 0, "no logon succeeded");
    Ok(())
}

/// Session setups until `deadline`; returns each one's time in microseconds.
async fn logon_worker(
    target: &Target,
    deadline: Instant,
    reuse: bool,
    errors: &Mutex<BTreeMap<String, u64>>,
) -> Vec<u64> {
    let mut times = Vec::new();
    let mut kept: Option<SmbClient> = None;
    let failed = |e: &SmbError| {
        let mut errors = errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(e.to_string()).or_default() += 1;
    };
    while Instant::now() < deadline {
        let began = Instant::now();
        let result = match kept.take() {
            Some(mut client) => {
                let r = client
                    .session_setup(target.auth.session_auth("SMBLOAD"))
                    .await;
                r.map(|_| client)
            }
            None if reuse => {
                // The connection is made outside the timing: only the session setup counts.
                match SmbClient::connect_with(
                    target.addr,
                    &target.server,
                    target.timeout,
                    &target.dialects,
                )
                .await
                {
                    Ok(client) => {
                        kept = Some(client);
                        continue;
                    }
                    Err(e) => Err(e),
                }
            }
            None => target.logon().await,
        };
        match result {
            Ok(mut client) => {
                times.push(began.elapsed().as_micros() as u64);
                if reuse && client.logoff().await.is_ok() {
                    kept = Some(client);
                }
            }
            Err(e) => {
                failed(&e);
                // Do not spin on a server that refuses at once.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    times
}

// ---- read and write

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// The byte `write` puts at `offset`, which `read --verify` checks.
fn pattern(offset: u64) -> u8 {
    (offset % 251) as u8
}

async fn transfer(args: TransferArgs, direction: Direction) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections > 0, "-c must be at least 1");
    anyhow::ensure!(args.size > 0, "--size must be more than 0");
    let target = Arc::new(Target::from_args(&args.target).await?);
    let options = match direction {
        Direction::Read => OpenOptions::read_only(),
        Direction::Write => OpenOptions::read_write(),
    };
    // Every connection logged on, connected and open before the clock starts.
    let mut opened = Vec::new();
    for _ in 0..args.connections {
        let o = target
            .open(&args.file, options)
            .await
            .with_context(|| format!("opening {} on {}", args.file, target.share))?;
        opened.push(o);
    }
    let (negotiated, end_of_file) = (opened[0].0.negotiated().clone(), opened[0].1.end_of_file);
    if direction == Direction::Read && end_of_file < args.size {
        bail!(
            "{} is {end_of_file} bytes, less than --size {}: run `write` first",
            args.file,
            args.size
        );
    }
    let limit = match direction {
        Direction::Read => negotiated.read_size(),
        Direction::Write => negotiated.write_size(),
    };
    let io_size = args
        .io_size
        .map_or(limit.min(1 << 20), |s| s.min(u64::from(limit)) as u32)
        .max(1);
    let block: Arc<Vec<u8>> = Arc::new((0..u64::from(io_size) + 251).map(pattern).collect());
    let per = args.size / args.connections as u64;
    let barrier = Arc::new(Barrier::new(args.connections + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (client, file)) in opened.into_iter().enumerate() {
        let offset = per * i as u64;
        let len = if i + 1 == args.connections {
            args.size - offset
        } else {
            per
        };
        let job = Job {
            offset,
            len,
            io_size,
            window: args.window.max(1),
            verify: args.verify,
        };
        let (barrier, block) = (Arc::clone(&barrier), Arc::clone(&block));
        tasks.spawn(async move { move_part(client, file, job, direction, barrier, block).await });
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut moved = 0u64;
    let mut first_error = None;
    while let Some(r) = tasks.join_next().await {
        match r.context("a transfer task panicked")? {
            Ok(n) => moved += n,
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(e) = first_error {
        return Err(e);
    }
    let mib = moved as f64 / f64::from(1 << 20);
    let name = match direction {
        Direction::Read => "read",
        Direction::Write => "write",
    };
    let summary = json!({
        "command": name,
        "target": target.describe(),
        "file": args.file,
        "dialect": negotiated.dialect.to_string(),
        "max_read": negotiated.max_read,
        "max_write": negotiated.max_write,
        "io_size": io_size,
        "window": args.window,
        "connections": args.connections,
        "bytes": moved,
        "seconds": round3(elapsed),
        "mib_per_s": round3(mib / elapsed),
        "verified": direction == Direction::Read && args.verify,
    });
    print_summary(args.target.json, &summary, || {
        format!(
            "{name}: {mib:.1} MiB in {elapsed:.2} s = {:.1} MiB/s ({} connections, {} KiB I/O, \
             window {}, {})",
            mib / elapsed,
            args.connections,
            io_size / 1024,
            args.window,
            negotiated.dialect
        )
    });
    anyhow::ensure!(moved == args.size, "moved {moved} bytes of {}", args.size);
    Ok(())
}

/// One connection's part of a transfer.
#[derive(Debug, Clone, Copy)]
struct Job {
    offset: u64,
    len: u64,
    io_size: u32,
    window: usize,
    verify: bool,
}

impl Job {
    fn pipeline(&self) -> Pipeline {
        Pipeline {
            piece: self.io_size,
            window: self.window,
        }
    }
}

async fn move_part(
    mut client: SmbClient,
    file: OpenFile,
    job: Job,
    direction: Direction,
    barrier: Arc<Barrier>,
    block: Arc<Vec<u8>>,
) -> anyhow::Result<u64> {
    barrier.wait().await;
    let moved = match direction {
        Direction::Write => {
            let source = |offset: u64, len: usize, mut buf: Vec<u8>| {
                let at = (offset % 251) as usize;
                buf.extend_from_slice(&block[at..at + len]);
                ControlFlow::Continue(buf)
            };
            client
                .write_range(&file, job.offset, job.len, job.pipeline(), source)
                .await?
        }
        Direction::Read => {
            let mut bad = None;
            let sink = |offset: u64, data: &[u8]| {
                if job.verify && bad.is_none() {
                    let at = (offset % 251) as usize;
                    if block[at..at + data.len()] != *data {
                        bad = Some(offset);
                    }
                }
                ControlFlow::Continue(())
            };
            let n = client
                .read_range(&file, job.offset, job.len, job.pipeline(), sink)
                .await?;
            if let Some(offset) = bad {
                bail!("the data read at offset {offset} is not what `write` writes");
            }
            n
        }
    };
    let _ = client.close_file(file).await;
    let _ = client.tree_disconnect(file.tree).await;
    let _ = client.logoff().await;
    Ok(moved)
}

// ---- output

fn percentiles_ms(us: &mut [u64]) -> serde_json::Value {
    if us.is_empty() {
        return json!({ "p50": null, "p90": null, "p99": null, "max": null, "mean": null });
    }
    us.sort_unstable();
    let at = |q: f64| {
        let i = ((us.len() as f64 * q).ceil() as usize).clamp(1, us.len()) - 1;
        round3(us[i] as f64 / 1000.0)
    };
    let mean = us.iter().sum::<u64>() as f64 / us.len() as f64 / 1000.0;
    json!({
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": at(1.0),
        "mean": round3(mean),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn print_summary(json: bool, summary: &serde_json::Value, text: impl FnOnce() -> String) {
    if json {
        println!("{summary}");
    } else {
        println!("{}", text());
    }
}
