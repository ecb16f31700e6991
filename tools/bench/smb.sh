#!/usr/bin/env bash
# tools/bench/smb.sh: adjoind's file server side by side with a Samba member smbd serving a
# share of the same kind from the same lab DC, in one run: session setups per second (NTLM
# and Kerberos) and read/write throughput through adjoin-smbload, the same transfers with
# smbclient, and server memory per held connection (N connections, each with a session, a
# tree connect and an open file). Prints a table with the ratios adjoind/smbd.
#
#   tools/bench/smb.sh [--json] [--scale] [--no-reference] [--skip-build] [--keep]
#
#   --json          print one JSON object (progress goes to stderr)
#   --scale         also hold N_SCALE connections on adjoind (and on smbd when its memory
#                   at N_HOLD says it would take less than a third of the memory available,
#                   or SCALE_REFERENCE=yes; SCALE_REFERENCE=no never); `adjoin stats` at the peak
#   --no-reference  measure adjoind alone (no Samba member)
#   --skip-build    use target/release as it is (no cargo build)
#   --keep          keep the work directory (logs, adjoin-smbload's JSON, the shares)
#
# Sizes (environment): SIZE=1G bytes per transfer (K, M, G suffixes); IO_CONNECTIONS=1
# connections for adjoin-smbload's read and write; LOGON_SECONDS=8 per logon run;
# LOGON_CONCURRENCY=4 workers; ROUNDS=3 (the logon runs alternate side by side, round by
# round, and so do the transfers; the table has the median of the rounds); N_HOLD=1000 and N_SCALE=10000 held
# connections (NTLM logons, all opening one file hold.bin; with --scale also each its own
# file hold-N.bin, two descriptors a connection in adjoind); HOLD_RATE=500 new
# connections a second at most (--rate of hold).
#
# Logons are timed two ways: "connect", a new TCP connection per logon (connect,
# NEGOTIATE, SESSION_SETUP: what a client does; smbd forks a process for each), and
# "reuse", one connection per worker with LOGOFF and a new SESSION_SETUP (the
# authentication alone).
#
# What runs (nothing in /etc changes; only 127.0.0.x addresses):
# - Adjoin: a fresh member SMBBENCH (domain-join join --reuse-account, registry and keytab
#   in a work directory under /tmp), adjoind (release build) with SMB on a free 127.0.0.1
#   port serving `bench`, a 1777 directory of the work directory, from
#   HKEY_THIS_MACHINE\Services\adjoind\Shares\bench; MaxConnections and
#   MaxConnectionsPerAddress (every connection comes from 127.0.0.1) raised to cover the
#   holds; adjoind's open-file limit is raised to its hard limit (20,000 here) by adjoind.
# - Samba: a member SMBREF of this run's own (`net ads join`, winbindd with autorid, smbd on
#   127.0.0.7:445), configured as tools/bench/winbind/member.sh's WBREF is, in the work
#   directory, serving a 1777 directory of it with `read only = no`, `vfs objects =
#   acl_xattr streams_xattr` (the Samba wiki's member file server; what `member.sh smbd-up`
#   serves to tools/bench/smbtorture.sh). Why not WBREF itself: see setup_reference.
# - Both are asked for as //NAME/bench with NAME the member's DNS name (smbbench.example.test,
#   wbref.example.test) and the address given apart; alice logs on (NTLM with her password;
#   Kerberos with a cifs/NAME ticket got from the TGT in a private ccache, MIT kinit).
#
# Memory per held connection: the server's memory (adjoind: one process; smbd: every process
# of the instance, the parent and its children; winbindd is not counted) just before `adjoin-smbload hold` and once
# all N are up (2 s later), divided by the connections established. PSS from
# /proc/PID/smaps_rollup (pages shared between smbd's forked processes counted once in
# all) and RSS. Needs root and the lab (tools/lab up); see docs/benchmarks.md.
set -euo pipefail
export LC_ALL=C

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
BENCH=smb-bench
REL=${ADJOIN_BIN_DIR:-$ROOT/target/release}
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"

# jstr TEXT: TEXT as the inside of a JSON string (one line).
jstr() {
  local t=${1//\\/\\\\}
  t=${t//\"/\\\"}
  printf '%s' "$t" | tr '\n\t\r' '   ' | tr -d '\000-\037'
}

SIZE=${SIZE:-1G}
IO_CONNECTIONS=${IO_CONNECTIONS:-1}
LOGON_SECONDS=${LOGON_SECONDS:-8}
LOGON_CONCURRENCY=${LOGON_CONCURRENCY:-4}
ROUNDS=${ROUNDS:-3}
N_HOLD=${N_HOLD:-1000}
N_SCALE=${N_SCALE:-10000}
HOLD_RATE=${HOLD_RATE:-500}
SCALE_REFERENCE=${SCALE_REFERENCE:-auto}
JSON=0 SCALE=0 REFERENCE=1 DO_BUILD=1 KEEP=0
for a in "$@"; do
  case $a in
    --json) JSON=1 ;;
    --scale) SCALE=1 ;;
    --no-reference) REFERENCE=0 ;;
    --skip-build) DO_BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "smb.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
for v in IO_CONNECTIONS LOGON_SECONDS LOGON_CONCURRENCY ROUNDS N_HOLD N_SCALE HOLD_RATE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $SIZE =~ ^[1-9][0-9]*[KMG]?$ ]] || die "SIZE must be a number of bytes with K, M or G"
[[ $SCALE_REFERENCE =~ ^(auto|yes|no)$ ]] || die "SCALE_REFERENCE must be auto, yes or no"

bench_lab_env
command -v smbclient >/dev/null || die "smbclient missing"
command -v kinit >/dev/null || die "MIT kinit missing (krb5-user)"

START_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The commit built and measured (taken before the build: others may commit meanwhile).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/adjoin-smbbench.XXXXXX)
chmod 0755 "$WORK"
A=$WORK/adjoin R=$WORK/reference
mkdir -p "$A" "$R"
RES=$WORK/results.jsonl
: >"$RES"
ADJOIND_PID="" JOINED=0 SMBD_UP=0 HOLD_PID="" REF_JOINED=0
cleanup() {
  local rc=$?
  [ -n "$HOLD_PID" ] && { kill -INT "$HOLD_PID" 2>/dev/null || true; wait "$HOLD_PID" 2>/dev/null || true; }
  [ -n "$ADJOIND_PID" ] && stop_group "$ADJOIND_PID"
  [ "$JOINED" = 1 ] && bench_leave "$A"
  [ "$SMBD_UP" = 1 ] || [ "$REF_JOINED" = 1 ] && stop_reference
  if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- results: one JSON line per figure, rendered at the end
rec() { # rec ROW SIDE VALUE [JSON-DETAIL]
  printf '{"row":"%s","side":"%s","value":%s,"detail":%s}\n' "$1" "$2" "$3" "${4:-null}" >>"$RES"
}
note() { printf '{"note":"%s"}\n' "$(jstr "$*")" >>"$RES"; say "note: $*"; }
meta() { printf '{"meta":"%s","value":"%s"}\n' "$1" "$(jstr "$2")" >>"$RES"; }
jget() { # jget FILE EXPR: a field of adjoin-smbload's JSON (python expression on d)
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null ||
    echo null
}

# ---- build
if [ "$DO_BUILD" = 1 ]; then
  say "building adjoin-tools (release)"
  (cd "$ROOT" && timeout 1800 cargo build --release --quiet -p adjoin-tools) >"$WORK/build.log" 2>&1 ||
    { tail -15 "$WORK/build.log" >&2; die "the build failed (or use --skip-build)"; }
fi
for f in domain-join regshell adjoin adjoind adjoin-smbload; do
  [ -x "$REL/$f" ] || die "$REL/$f missing"
done
LOAD=$REL/adjoin-smbload
SHARE=bench

# ---- Adjoin: join, share, limits, adjoind
MAX_CONN=$((N_HOLD + 100))
[ "$SCALE" = 1 ] && MAX_CONN=$((N_SCALE + 100))
((MAX_CONN >= 10000)) || MAX_CONN=10000
ADJOIN_NAME=smbbench.$ADJOIN_LAB_DOMAIN
PORT=$(free_port)
say "adjoin: joining SMBBENCH, serving //$ADJOIN_NAME/$SHARE on 127.0.0.1:$PORT"
bench_join "$A" "$ADJOIN_NAME" || die "the join failed"
JOINED=1
mkdir -m 1777 "$A/share"
chmod 1777 "$A/share"
reg() { ADJOIN_REGISTRY=$A/registry.db "$REL/regshell" set_value "$@" >/dev/null; }
reg "HKEY_THIS_MACHINE\\Services\\adjoind\\Shares\\$SHARE" Path REG_SZ "$A/share"
reg 'HKEY_THIS_MACHINE\Services\adjoind' MaxConnections REG_DWORD "$MAX_CONN"
reg 'HKEY_THIS_MACHINE\Services\adjoind' MaxConnectionsPerAddress REG_DWORD "$MAX_CONN"
cat >"$WORK/client.conf" <<EOF
[global]
    workgroup = $ADJOIN_LAB_NETBIOS
    realm = $ADJOIN_LAB_REALM
    client min protocol = SMB2_02
    # adjoind requires signing and smbd (a member) does not: sign with both, so that both
    # do the same work for smbclient.
    client signing = required
EOF
ALICE="$ADJOIN_LAB_NETBIOS\\alice"
export ADJOIN_LAB_ALICE_PASSWORD
wait_share() { # wait_share IP PORT: until alice can list the share (30 s)
  local i
  for i in $(seq 1 60); do
    smbclient -s "$WORK/client.conf" "//$1/$SHARE" -p "$2" -U "$ALICE%$ADJOIN_LAB_ALICE_PASSWORD" \
      -c ls >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
start_adjoin() {
  ADJOIN_LOG=${ADJOIN_LOG:-warn} bench_start_adjoind "$A" --listen "127.0.0.1:$PORT" || return 1
  wait_share 127.0.0.1 "$PORT" || { tail -20 "$A/adjoind.log" >&2; return 1; }
}
# ulimit -n for this shell and adjoin-smbload: the hard limit (each held connection is a
# socket on the client side too).
ulimit -n "$(ulimit -Hn)"
start_adjoin || die "adjoind does not serve the share (log: $A/adjoind.log)"
meta adjoind_fd_limit "$(awk '/Max open files/ {print $4}' "/proc/$ADJOIND_PID/limits")"

# ---- Samba: a member of this run's own (SMBREF): winbindd and smbd, in private directories
# Not tools/bench/winbind/member.sh's WBREF, for two reasons: its smbd (`member.sh
# smbd-up`, port 445) is restarted with another share by tools/bench/smbtorture.sh, and
# its winbindd looks the member's own name up in this host's DNS, which does not know it:
# at every Kerberos logon smbd hands on, and about one lookup in ten waits 5 s for an
# answer that never comes (strace of winbindd: A and AAAA queries for WBREF to the host's
# name server). Here winbindd and smbd each run in a mount namespace whose /etc/hosts names
# the member, as a real member's hosts file or DNS would.
REF_NETBIOS=SMBREF REF_IP=${REF_IP:-127.0.0.7} REF_PORT=445
REF_NAME=$(printf '%s' "$REF_NETBIOS" | tr '[:upper:]' '[:lower:]').$ADJOIN_LAB_DOMAIN
SMBD_PIDFILE=$R/smbd.pid WINBINDD_PIDFILE=$R/winbindd.pid REF_JOINED=0
# ref_daemon PIDFILE LOG CMD...: CMD in a mount namespace with this member's /etc/hosts and
# nsswitch.conf, and its winbindd socket directory where libwbclient looks (the path is
# compiled in); setsid makes CMD a process group of its own, whose pid the shell writes.
ref_daemon() {
  local pidfile=$1 log=$2
  shift 2
  mkdir -p /run/samba/winbindd
  # shellcheck disable=SC2016 # expanded by the inner shell
  LD_LIBRARY_PATH=$REF_NSSLIB unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf &&
     mount --bind "$3" /run/samba/winbindd && echo $$ >"$4" && shift 4 && exec setsid "$@"' \
    ref "$R/etc/hosts" "$R/etc/nsswitch.conf" "$R/winbindd" "$pidfile" "$@" </dev/null >"$log" 2>&1 &
  local i
  for i in $(seq 1 40); do
    [ -s "$pidfile" ] && return 0
    sleep 0.25
  done
  return 1
}
ref_wbinfo() { ref_daemon "$R/wbinfo.pid" "$R/log/wbinfo.out" wbinfo "$@" && wait $! && rm -f "$R/wbinfo.pid"; }
REF_ADDED_IP=0
setup_reference() {
  # Samba listens only on addresses of an interface: put REF_IP on lo (as member.sh does).
  if ! ip -4 -o addr show dev lo | grep -q "inet $REF_IP/"; then
    ip addr add "$REF_IP/8" dev lo || return 1
    REF_ADDED_IP=1
  fi
  mkdir -p "$R"/{private,lock,state,cache,pid,ncalrpc,winbindd,log,etc,nss}
  chmod 0755 "$R/winbindd"
  chmod 0700 "$R/private"
  cat >"$R/smb.conf" <<EOF
# Written by tools/bench/smb.sh: a member file server of $ADJOIN_LAB_REALM for the benchmark.
[global]
    security = ADS
    server role = member server
    realm = $ADJOIN_LAB_REALM
    workgroup = $ADJOIN_LAB_NETBIOS
    netbios name = $REF_NETBIOS
    interfaces = $REF_IP
    bind interfaces only = yes
    password server = $DC
    private dir = $R/private
    lock directory = $R/lock
    state directory = $R/state
    cache directory = $R/cache
    pid directory = $R/pid
    ncalrpc dir = $R/ncalrpc
    winbindd socket directory = $R/winbindd
    log file = $R/log/log.%m
    log level = 1
    kerberos method = secrets and keytab
    dedicated keytab file = $R/krb5.keytab
    winbind use default domain = no
    winbind offline logon = no
    winbind max domain connections = 10
    idmap config * : backend = autorid
    idmap config * : range = 100000-2099999
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
[$SHARE]
    path = $R/share
    read only = no
    # The Samba wiki's member file server (and member.sh smbd-up's share).
    vfs objects = acl_xattr streams_xattr
    map acl inherit = yes
EOF
  testparm -s "$R/smb.conf" >/dev/null 2>"$R/testparm.log" || { cat "$R/testparm.log" >&2; return 1; }
  # Domain users need Unix accounts: libnss_winbind.so.2 of the installed Samba (member.sh's
  # copy when there is one, else Debian's package unpacked here; no maintainer scripts).
  REF_NSSLIB=$(dirname "$(find "${ADJOIN_LAB_DIR:-/var/lib/adjoin-lab}/winbind-ref/nss/lib" \
    -name libnss_winbind.so.2 2>/dev/null | head -1)")
  if [ ! -f "$REF_NSSLIB/libnss_winbind.so.2" ]; then
    REF_NSSLIB=$R/nss/lib
    mkdir -p "$REF_NSSLIB" "$R/nss/root"
    (cd "$R/nss" && timeout 120 apt-get download -q "libnss-winbind=$(dpkg-query -W -f '${Version}' winbind)") \
      >"$R/nss/download.log" 2>&1 || { cat "$R/nss/download.log" >&2; return 1; }
    dpkg -x "$R"/nss/libnss-winbind_*.deb "$R/nss/root"
    cp "$(find "$R/nss/root" -name libnss_winbind.so.2 | head -1)" "$REF_NSSLIB/"
  fi
  printf 'passwd: files winbind\ngroup: files winbind\nshadow: files\nhosts: files\n' >"$R/etc/nsswitch.conf"
  { cat /etc/hosts; printf '%s %s %s\n' "$REF_IP" "$REF_NAME" "$REF_NETBIOS"; } >"$R/etc/hosts"
  say "samba: joining $REF_NETBIOS (net ads join)"
  # `password server` names the DC (with -S the join fails, see winbind/README.md).
  net ads join -s "$R/smb.conf" --no-dns-updates -U "administrator%$ADJOIN_LAB_ADMIN_PASSWORD" \
    >"$R/join.log" 2>&1 || { cat "$R/join.log" >&2; return 1; }
  REF_JOINED=1
  say "samba: starting winbindd and smbd on $REF_IP:$REF_PORT"
  ref_daemon "$WINBINDD_PIDFILE" "$R/log/winbindd.out" winbindd -s "$R/smb.conf" -F --no-process-group --debug-stdout || return 1
  local i
  for i in $(seq 1 120); do
    kill -0 "$(cat "$WINBINDD_PIDFILE")" 2>/dev/null || { tail -20 "$R/log/winbindd.out" >&2; return 1; }
    ref_wbinfo --ping-dc >/dev/null 2>&1 && break
    sleep 0.25
  done
  ref_daemon "$SMBD_PIDFILE" "$R/log/smbd.out" smbd -s "$R/smb.conf" -F --no-process-group --debug-stdout || return 1
  SMBD_UP=1
  for i in $(seq 1 120); do
    kill -0 "$(cat "$SMBD_PIDFILE")" 2>/dev/null || { tail -20 "$R/log/smbd.out" >&2; return 1; }
    (exec 3<>"/dev/tcp/$REF_IP/$REF_PORT") 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}
stop_reference() {
  local f
  for f in "$SMBD_PIDFILE" "$WINBINDD_PIDFILE"; do
    [ -s "$f" ] && stop_group "$(cat "$f")"
    rm -f "$f"
  done
  if [ "$REF_JOINED" = 1 ]; then
    timeout 60 net ads leave -s "$R/smb.conf" -S "$DC" -U "administrator%$ADJOIN_LAB_ADMIN_PASSWORD" >"$R/leave.log" 2>&1 ||
      say "samba: net ads leave failed (ignored): $(tail -1 "$R/leave.log")"
  fi
  [ "$REF_ADDED_IP" = 1 ] && { ip addr del "$REF_IP/8" dev lo 2>/dev/null || true; }
  return 0
}
smbd_pid() { cat "$SMBD_PIDFILE" 2>/dev/null; }
smbd_ours() { kill -0 "$(smbd_pid)" 2>/dev/null; }
if [ "$REFERENCE" = 1 ]; then
  mkdir -m 1777 "$R/share"
  chmod 1777 "$R/share"
  command -v smbd >/dev/null && command -v winbindd >/dev/null && command -v net >/dev/null ||
    die "smbd, winbindd or net missing (Debian's samba, winbind, samba-common-bin; tools/lab installs them)"
  setup_reference || die "the Samba member did not start (logs: $R/join.log, $R/log)"
  wait_share "$REF_IP" "$REF_PORT" || die "smbd does not serve $SHARE to alice (log: $R/log/smbd.out)"
  meta samba_version "$(smbd --version 2>/dev/null | sed 's/^Version //')"
fi

# ---- credentials: alice's TGT in a private ccache; adjoin-smbload gets the cifs/ tickets
export KRB5CCNAME=FILE:$WORK/ccache
printf '%s\n' "$ADJOIN_LAB_ALICE_PASSWORD" | kinit "alice@$ADJOIN_LAB_REALM" >"$WORK/kinit.log" 2>&1 ||
  { cat "$WORK/kinit.log" >&2; die "kinit alice failed"; }

# side NAME: the target arguments of adjoin-smbload and smbclient for a side
target_of() {
  case $1 in
    adjoind) T_UNC=//$ADJOIN_NAME/$SHARE T_ADDR=127.0.0.1:$PORT T_IP=127.0.0.1 T_PORT=$PORT ;;
    smbd) T_UNC=//$REF_NAME/$SHARE T_ADDR=$REF_IP:$REF_PORT T_IP=$REF_IP T_PORT=$REF_PORT ;;
  esac
}
ntlm_args=(-U "$ALICE" --password-env ADJOIN_LAB_ALICE_PASSWORD)
krb_args=(-k --kdc "$DC")
SIDES=(adjoind)
[ "$REFERENCE" = 1 ] && SIDES+=(smbd)
side_ok() { [ "$1" = adjoind ] && kill -0 "$ADJOIND_PID" 2>/dev/null && return 0; [ "$1" = smbd ] && smbd_ours; }

# Warm-up: one Kerberos logon per side (the first cifs/ ticket, winbindd's first lookups).
for s in "${SIDES[@]}"; do
  target_of "$s"
  "$LOAD" logons "$T_UNC" --address "$T_ADDR" "${krb_args[@]}" -c 1 --seconds 0.5 >/dev/null 2>&1 ||
    say "$s: the Kerberos warm-up failed (see the logon rows)"
done

# ---- memory: RSS and PSS (KiB) of a process and its descendants
tree_pids() { # tree_pids PID: PID and every descendant
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END { for (i in pids) { p = pids[i]; q = p
            while (q != "" && q != 0 && q != root) q = parent[q]
            if (q == root) print p } }'
}
mem_of() { # mem_of PID: "RSS PSS PROCESSES" of the tree, KiB
  local p rss=0 pss=0 n=0 r s
  for p in $(tree_pids "$1"); do
    read -r r s < <(awk '/^Rss:/ {r = $2} /^Pss:/ {s = $2} END {print r + 0, s + 0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
    rss=$((rss + r)) pss=$((pss + s)) n=$((n + 1))
  done
  echo "$rss $pss $n"
}
server_pid() { if [ "$1" = adjoind ]; then echo "$ADJOIND_PID"; else smbd_pid; fi; }

# hold_side SIDE N LABEL [FILE]: hold N connections (NTLM), each with FILE open (default
# hold.bin, one file for all; hold-{}.bin: one file each), memory before and at the peak.
hold_side() {
  local side=$1 n=$2 label=$3 file=${4:-hold.bin} pid out ready before peak after i est fds=null stats=null secs
  target_of "$side"
  side_ok "$side" || { note "$side: not measured for $label (the server is not ours any more)"; return 0; }
  pid=$(server_pid "$side")
  out=$WORK/hold-$side-$n-${file//[^a-z0-9]/_}
  ready=$out.ready
  rm -f "$ready"
  sleep 1
  read -r -a before < <(mem_of "$pid")
  say "$side: holding $n connections (--rate $HOLD_RATE)"
  "$LOAD" hold "$T_UNC" --address "$T_ADDR" "${ntlm_args[@]}" -n "$n" --rate "$HOLD_RATE" \
    --parallel 64 --file "$file" --keepalive 10 --ready-file "$ready" --json \
    >"$out.json" 2>"$out.log" &
  HOLD_PID=$!
  secs=$((n / HOLD_RATE * 4 + 120))
  for ((i = 0; i < secs * 2; i++)); do
    [ -s "$ready" ] && break
    kill -0 "$HOLD_PID" 2>/dev/null || break
    sleep 0.5
  done
  [ -s "$ready" ] || { kill -INT "$HOLD_PID" 2>/dev/null || true; wait "$HOLD_PID" || true; HOLD_PID="";
    note "$side: hold $n did not finish setting up within $secs s: $(tail -3 "$out.log" | tr '\n' ' ')"; return 0; }
  sleep 2
  read -r -a peak < <(mem_of "$pid")
  if [ "$side" = adjoind ]; then
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    "$REL/adjoin" stats --socket "$A/adjoind.sock" >"$out.stats.txt" 2>&1 || true
    stats=$("$REL/adjoin" stats --socket "$A/adjoind.sock" --json 2>/dev/null || echo null)
    [ -n "$stats" ] || stats=null
    say "$side: adjoin stats at the peak of hold $n:"
    sed 's/^/    /' "$out.stats.txt" >&2
  fi
  kill -INT "$HOLD_PID" 2>/dev/null || true
  wait "$HOLD_PID" || true
  HOLD_PID=""
  est=$(jget "$out.json" 'd["established"]')
  [[ $est =~ ^[0-9]+$ ]] || { note "$side: hold $n printed no summary: $(tail -3 "$out.log" | tr '\n' ' ')"; est=0; }
  sleep 3
  read -r -a after < <(mem_of "$pid")
  local detail
  detail=$(printf '{"n":%d,"file":"%s","established":%s,"failed":%s,"dropped":%s,"rss_before":%d,"pss_before":%d,"rss_peak":%d,"pss_peak":%d,"processes_peak":%d,"rss_after":%d,"pss_after":%d,"fds_peak":%s,"setup_ms":%s,"seconds_to_try_all":%s,"errors":%s,"stats":%s}' \
    "$n" "$file" "$est" "$(jget "$out.json" 'd["failed"]')" "$(jget "$out.json" 'd["dropped"]')" \
    "${before[0]}" "${before[1]}" "${peak[0]}" "${peak[1]}" "${peak[2]}" "${after[0]}" "${after[1]}" "$fds" \
    "$(jget "$out.json" 'json.dumps(d["setup_ms"])')" "$(jget "$out.json" 'json.dumps(d["seconds_to_try_all"])')" \
    "$(jget "$out.json" 'json.dumps(d["errors"])')" "$stats")
  if [ "$est" -gt 0 ]; then
    rec "$label" "$side" "$(( (peak[1] - before[1]) / est ))" "$detail"
  else
    rec "$label" "$side" null "$detail"
  fi
  [ "$est" = "$n" ] || note "$side: hold $n: only $est established: $(jget "$out.json" 'json.dumps(d["errors"])')"
  rm -f "$WORK"/*/share/hold-*.bin 2>/dev/null || true
  find "$A/share" "$R/share" -name 'hold*.bin' -delete 2>/dev/null || true
}

# logons SIDE AUTH MODE ROW ROUND: MODE connect (a new connection per logon) or reuse
logons() {
  local side=$1 auth=$2 mode=$3 row=$4 round=$5 out args
  target_of "$side"
  side_ok "$side" || { note "$side: $row round $round not measured (the server is not ours any more)"; return 0; }
  if [ "$auth" = ntlm ]; then args=("${ntlm_args[@]}"); else args=("${krb_args[@]}"); fi
  [ "$mode" = reuse ] && args+=(--reuse)
  out=$WORK/logons-$side-$auth-$mode-$round.json
  if "$LOAD" logons "$T_UNC" --address "$T_ADDR" "${args[@]}" -c "$LOGON_CONCURRENCY" \
    --seconds "$LOGON_SECONDS" --json >"$out" 2>"$out.err"; then
    rec "$row" "$side" "$(jget "$out" 'd["per_second"]')" "$(cat "$out")"
  else
    note "$side: $row round $round failed: $(tail -2 "$out.err" | tr '\n' ' ')"
  fi
}

# transfer_load SIDE read|write ROUND
transfer_load() {
  local side=$1 dir=$2 out
  target_of "$side"
  side_ok "$side" || { note "$side: $dir not measured (the server is not ours any more)"; return 0; }
  out=$WORK/$dir-$side-$3.json
  if "$LOAD" "$dir" "$T_UNC" --address "$T_ADDR" "${ntlm_args[@]}" --size "$SIZE" \
    -c "$IO_CONNECTIONS" --file load.bin --json >"$out" 2>"$out.err"; then
    rec "adjoin-smbload $dir" "$side" "$(jget "$out" 'd["mib_per_s"]')" "$(cat "$out")"
  else
    note "$side: adjoin-smbload $dir failed: $(tail -2 "$out.err" | tr '\n' ' ')"
  fi
}

# transfer_smbclient SIDE put|get ROUND: smbclient's own rate for the transfer (its "average",
# KiB/s), and the whole process's wall time (logon included) in the detail
transfer_smbclient() {
  local side=$1 op=$2 cmd s e bytes log=$WORK/smbclient-$1-$2-$3.log rate
  target_of "$side"
  side_ok "$side" || { note "$side: smbclient $op not measured (the server is not ours any more)"; return 0; }
  if [ "$op" = put ]; then cmd="put $WORK/source.bin sc.bin"; else cmd="get sc.bin /dev/null"; fi
  s=$EPOCHREALTIME
  if smbclient -s "$WORK/client.conf" "//$T_IP/$SHARE" -p "$T_PORT" -U "$ALICE%$ADJOIN_LAB_ALICE_PASSWORD" \
    --use-kerberos=off -c "$cmd" >"$log" 2>&1 && ! grep -q NT_STATUS_ "$log"; then
    e=$EPOCHREALTIME
    bytes=$(stat -c %s "$WORK/source.bin")
    rate=$(sed -n 's/.*(average \([0-9.]*\) [kK].*/\1/p' "$log" | tail -1)
    [ -n "$rate" ] || { note "$side: smbclient $op printed no rate: $(tail -2 "$log" | tr '\n' ' ')"; return 0; }
    rec "smbclient $op" "$side" "$(awk -v r="$rate" 'BEGIN { printf "%.1f", r / 1024 }')" \
      "{\"bytes\":$bytes,\"wall_microseconds\":$((${e/./} - ${s/./})),\"wall_mib_per_s\":$(awk -v b="$bytes" -v s="${s/./}" -v e="${e/./}" 'BEGIN { printf "%.1f", b / 1048576 / ((e - s) / 1e6) }')}"
  else
    note "$side: smbclient $op failed: $(tail -2 "$log" | tr '\n' ' ')"
  fi
}

# ---- 1. memory per held connection at N_HOLD (first, on fresh servers)
for s in "${SIDES[@]}"; do hold_side "$s" "$N_HOLD" "memory per held connection"; done

# ---- 2. logons per second, the sides alternating round by round
for ((r = 1; r <= ROUNDS; r++)); do
  for mode in connect reuse; do
    for auth in ntlm kerberos; do
      for s in "${SIDES[@]}"; do
        say "$s: $auth logons ($mode), round $r/$ROUNDS ($LOGON_CONCURRENCY workers, $LOGON_SECONDS s)"
        logons "$s" "$auth" "$mode" "$auth logons $mode" "$r"
      done
    done
  done
done

# ---- 3. throughput: adjoin-smbload, then smbclient; the sides alternate, op by op, in
# ROUNDS rounds (the machine is shared: its load moves during a run)
say "writing the $SIZE source file for smbclient"
head -c "$(/usr/bin/python3 -c "import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))" "$SIZE")" /dev/zero >"$WORK/source.bin"
for ((r = 1; r <= ROUNDS; r++)); do
  for op in write read; do
    for s in "${SIDES[@]}"; do
      say "$s: adjoin-smbload $op $SIZE, round $r/$ROUNDS"
      transfer_load "$s" "$op" "$r"
    done
  done
  for op in put get; do
    for s in "${SIDES[@]}"; do
      say "$s: smbclient $op $SIZE, round $r/$ROUNDS"
      transfer_smbclient "$s" "$op" "$r"
    done
  done
  rm -f "$A/share/load.bin" "$A/share/sc.bin" "$R/share/load.bin" "$R/share/sc.bin"
done
rm -f "$WORK/source.bin"

# ---- 4. scale: N_SCALE held connections, on a freshly started adjoind
if [ "$SCALE" = 1 ]; then
  say "adjoin: restarting adjoind for the scale run (a clean baseline)"
  stop_group "$ADJOIND_PID"
  ADJOIND_PID=""
  start_adjoin || die "adjoind does not start again (log: $A/adjoind.log)"
  hold_side adjoind "$N_SCALE" "memory per held connection at scale"
  # The same with a file of its own for each connection: two descriptors a connection.
  say "adjoin: restarting adjoind (a clean baseline)"
  stop_group "$ADJOIND_PID"
  ADJOIND_PID=""
  start_adjoin || die "adjoind does not start again (log: $A/adjoind.log)"
  hold_side adjoind "$N_SCALE" "memory per held connection at scale, a file each" 'hold-{}.bin'
  if [ "$REFERENCE" = 1 ]; then
    per=$(/usr/bin/python3 - "$RES" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("row") == "memory per held connection" and r.get("side") == "smbd" and r["value"] is not None:
        print(r["value"]); break
else:
    print(0)
EOF
)
    avail=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    if [ "$SCALE_REFERENCE" = yes ] || { [ "$SCALE_REFERENCE" = auto ] && [ "$per" -gt 0 ] &&
      [ $((per * N_SCALE)) -lt $((avail / 3)) ]; }; then
      hold_side smbd "$N_SCALE" "memory per held connection at scale"
    elif [ "$SCALE_REFERENCE" = no ]; then
      note "smbd: not held at $N_SCALE (SCALE_REFERENCE=no)"
    else
      note "smbd: not held at $N_SCALE: at $per KiB PSS per connection (measured at $N_HOLD) it would take about $((per * N_SCALE / 1024)) MiB, more than a third of the $((avail / 1024)) MiB available on this shared machine (SCALE_REFERENCE=yes holds it anyway)"
    fi
  fi
fi

# ---- report
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
meta date "$START_DATE"
meta commit "$COMMIT"
meta machine "$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r)"
meta cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
meta load "$LOAD_BEFORE before, $LOAD_AFTER after"
meta sizes "SIZE=$SIZE IO_CONNECTIONS=$IO_CONNECTIONS LOGON_SECONDS=$LOGON_SECONDS LOGON_CONCURRENCY=$LOGON_CONCURRENCY ROUNDS=$ROUNDS N_HOLD=$N_HOLD N_SCALE=$N_SCALE HOLD_RATE=$HOLD_RATE"
[ "$REFERENCE" = 1 ] || note "no reference: adjoind alone (--no-reference)"
/usr/bin/python3 - "$RES" "$JSON" <<'EOF'
import json, statistics, sys
path, as_json = sys.argv[1], sys.argv[2] == "1"
rows, meta, notes = {}, {}, []
for line in open(path):
    r = json.loads(line)
    if "meta" in r:
        meta[r["meta"]] = r["value"]
    elif "note" in r:
        notes.append(r["note"])
    else:
        rows.setdefault(r["row"], {}).setdefault(r["side"], []).append(r)
ORDER = [
    ("ntlm logons connect", "NTLM logons/s, new connection each", "/s", "higher", "adjoind >= 2x smbd"),
    ("kerberos logons connect", "Kerberos logons/s, new connection each", "/s", "higher", "adjoind >= 2x smbd"),
    ("ntlm logons reuse", "NTLM logons/s, one connection", "/s", "higher", ""),
    ("kerberos logons reuse", "Kerberos logons/s, one connection", "/s", "higher", ""),
    ("adjoin-smbload write", "write, adjoin-smbload", "MiB/s", "higher", "adjoind >= smbd"),
    ("adjoin-smbload read", "read, adjoin-smbload", "MiB/s", "higher", "adjoind >= smbd"),
    ("smbclient put", "write, smbclient put", "MiB/s", "higher", "adjoind >= smbd"),
    ("smbclient get", "read, smbclient get", "MiB/s", "higher", "adjoind >= smbd"),
    ("memory per held connection", "memory per held connection (PSS)", "KiB", "lower", "adjoind <= 32 KiB"),
    ("memory per held connection at scale", "memory per held connection at scale (PSS)", "KiB", "lower", "adjoind <= 32 KiB"),
    ("memory per held connection at scale, a file each", "the same, a file of its own each (PSS)", "KiB", "lower", "adjoind <= 32 KiB"),
]
def value(row, side):
    vals = [r["value"] for r in rows.get(row, {}).get(side, []) if r["value"] is not None]
    return statistics.median(vals) if vals else None
def detail(row, side):
    d = [r["detail"] for r in rows.get(row, {}).get(side, []) if r["detail"] is not None]
    return d
def met(row, a, s, target):
    if a is None or not target:
        return ""
    if row.startswith("memory"):
        return "met" if a <= 32 else "not met"
    if s is None:
        return ""
    want = 2 if "logons" in row else 1
    return "met" if a >= want * s else "not met"
out = {"meta": meta, "notes": notes, "rows": []}
for key, label, unit, better, target in ORDER:
    if key not in rows:
        continue
    a, s = value(key, "adjoind"), value(key, "smbd")
    ratio = (a / s if better == "higher" else s / a) if a and s else None
    entry = {"row": key, "label": label, "unit": unit, "adjoind": a, "smbd": s,
             "ratio": round(ratio, 2) if ratio else None,
             "ratio_is": "adjoind/smbd" if better == "higher" else "smbd/adjoind",
             "target": target, "result": met(key, a, s, target),
             "adjoind_runs": detail(key, "adjoind"), "smbd_runs": detail(key, "smbd")}
    out["rows"].append(entry)
if as_json:
    print(json.dumps(out, indent=1))
    sys.exit(0)
print(f"SMB file server: adjoind vs a Samba member smbd, one run ({meta.get('date')})")
print(f"commit {meta.get('commit')}; {meta.get('machine')}; {meta.get('cpu')}")
print(f"Samba {meta.get('samba_version', '-')}; load {meta.get('load')}; {meta.get('sizes')}")
print()
def fmt(v, unit):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
w = 48
print(f"{'':{w}} {'adjoind':>10} {'smbd':>10} {'ratio':>7}  {'target':<20} result")
for e in out["rows"]:
    r = "-" if e["ratio"] is None else f"{e['ratio']:.2f}"
    label = f"{e['label']} [{e['unit']}]"
    print(f"{label:{w}} {fmt(e['adjoind'], e['unit']):>10} {fmt(e['smbd'], e['unit']):>10} {r:>7}  {e['target']:<20} {e['result']}")
print("ratio: adjoind/smbd for rates, smbd/adjoind for memory (above 1: adjoind better)")
print()
for e in out["rows"]:
    if "logons" in e["row"]:
        for side in ("adjoind", "smbd"):
            for d in e[side + "_runs"]:
                l = d["latency_ms"]
                print(f"{e['label']:40} {side:8} {d['per_second']:8.1f}/s  p50 {l['p50']} ms  p99 {l['p99']} ms  failures {d['failures']}")
    if e["row"].startswith("memory"):
        for side in ("adjoind", "smbd"):
            for d in e[side + "_runs"]:
                print(f"{e['row']}, {side}: n={d['n']} ({d.get('file')}) established {d['established']} failed {d['failed']} "
                      f"PSS {d['pss_before']}->{d['pss_peak']} KiB, RSS {d['rss_before']}->{d['rss_peak']} KiB "
                      f"({(d['rss_peak'] - d['rss_before']) / max(d['established'], 1):.1f} KiB RSS/conn), "
                      f"{d['processes_peak']} processes, fds {d['fds_peak']}, setup p50 {d['setup_ms']['p50']} ms; "
                      f"after close PSS {d['pss_after']} KiB")
                if d.get("errors"):
                    print(f"    errors: {d['errors']}")
                st = d.get("stats")
                if st:
                    print("    adjoin stats at the peak: " + ", ".join(
                        f"{k.replace('_', ' ')} {v['current']} (max {v['max']})"
                        for k, v in st.items() if isinstance(v, dict) and "current" in v))
for n in notes:
    print("note:", n)
EOF
