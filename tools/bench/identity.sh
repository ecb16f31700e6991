#!/usr/bin/env bash
# tools/bench/identity.sh: the identity service (libnss_adjoin, pam_adjoin, adjoind) side by
# side with Samba winbind's NSS/PAM and SSSD's, in one run, against the same lab DC
# (tools/lab). Prints the figures and the ratios winbind/Adjoin and SSSD/Adjoin.
#
#   tools/bench/identity.sh [--json] [--no-sssd] [--no-winbind] [--skip-build] [--keep]
#
#   --json        print one JSON object (progress goes to stderr)
#   --no-sssd     do not set up SSSD (it takes about 10 s and 2 MB of downloads)
#   --no-winbind  do not measure winbind
#   --skip-build  use target/release as it is (no cargo build)
#   --keep        keep the work directory (logs, confs) after the run
#
# Sizes (environment): N_FAST=200000 calls for a warm lookup through a mapped cache (Adjoin,
# SSSD), N_SLOW=2000 for one through a daemon (winbind), a tenth of each for manygroups;
# N_COLD=10 cold lookups; N_CMD=20 warm and N_CMD_COLD=3 cold `id`/`getent` runs; N_PAM=30
# logons and kinits; ROUNDS=3 (the sides alternate, round by round); CMD_TIMEOUT=120 seconds
# for one timed command (a run that takes longer is reported as not finished).
#
# What runs (everything private, nothing in /etc or /var/lib/sss of the host changes; only
# 127.0.0.x addresses):
# - Adjoin: a fresh member IDBENCH (domain-join join, its own registry, caches and keytab in a
#   work directory), adjoind --no-smb on a socket there; libnss_adjoin.so.2 and pam_adjoin.so
#   from target/release.
# - winbind: the member of tools/bench/winbind/member.sh (WBREF, autorid, names EXAMPLE\alice);
#   libnss_winbind.so.2 and pam_winbind.so unpacked from Debian's packages with dpkg -x (no
#   maintainer scripts, so no pam-auth-update); clients in member.sh's mount namespace.
# - SSSD: Debian's sssd-ad and its libraries unpacked with dpkg -x into the work directory,
#   joined as SSSDBENCH (domain-join), run in a private mount namespace whose /usr and /etc are
#   overlays (the unpacked files over the host's) and whose /var/lib, /var/log and /run are
#   directories of the work directory.
# - glibc lookups and pamtester run in private mount namespaces with their own nsswitch.conf
#   and /etc/pam.d.
# Needs root and the lab (tools/lab up). Installs gcc/libc6-dev and pamtester when missing.
# See docs/benchmarks.md for what each row measures.
set -euo pipefail
export LC_ALL=C

SELF=$(readlink -f "${BASH_SOURCE[0]}")

# ---- internal: `identity.sh __time N STDIN OUT CMD...` runs CMD N times (stdin from STDIN,
# the last output kept in OUT), printing each run's wall time in microseconds. Used inside
# the private namespaces, so that only the command is timed.
if [ "${1:-}" = __time ]; then
  n=$2 in=$3 out=$4
  shift 4
  for ((i = 0; i < n; i++)); do
    s=$EPOCHREALTIME
    rc=0
    timeout "${CMD_TIMEOUT:-120}" "$@" <"$in" >"$out.tmp" 2>&1 || rc=$?
    if [ $rc -eq 124 ]; then
      echo "FAIL: $* did not finish within ${CMD_TIMEOUT:-120} s" >&2
      exit 124
    elif [ $rc -ne 0 ]; then
      echo "FAIL: $* exited with $rc: $(head -c 400 "$out.tmp" | tr '\n' ' ')" >&2
      exit 1
    fi
    e=$EPOCHREALTIME
    echo $((${e/./} - ${s/./}))
  done
  mv "$out.tmp" "$out"
  exit 0
fi

ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
MEMBER=$ROOT/tools/bench/winbind/member.sh
REL=$ROOT/target/release
N_FAST=${N_FAST:-200000}
N_SLOW=${N_SLOW:-2000}
N_COLD=${N_COLD:-10}
N_CMD=${N_CMD:-20}
N_CMD_COLD=${N_CMD_COLD:-3}
N_PAM=${N_PAM:-30}
CMD_TIMEOUT=${CMD_TIMEOUT:-120}
export CMD_TIMEOUT
ROUNDS=${ROUNDS:-3}
JSON=0 DO_SSSD=1 DO_WINBIND=1 DO_BUILD=1 KEEP=0
for a in "$@"; do
  case $a in
    --json) JSON=1 ;;
    --no-sssd) DO_SSSD=0 ;;
    --no-winbind) DO_WINBIND=0 ;;
    --skip-build) DO_BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "identity.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
for v in N_FAST N_SLOW N_COLD N_CMD N_CMD_COLD N_PAM ROUNDS CMD_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "identity.sh: $v must be a positive integer" >&2; exit 2; }
done
((N_PAM >= ROUNDS)) || ROUNDS=$N_PAM

say() { printf 'identity-bench: %s\n' "$*" >&2; }
die() { printf 'identity-bench: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (mount namespaces, winbindd, sssd, the member's keytab)"
"$ROOT/tools/lab" status >/dev/null 2>&1 || die "the lab DC is not up: run tools/lab up"
eval "$("$ROOT/tools/lab" env)"
export KRB5_CONFIG
DC=$ADJOIN_LAB_DC
[[ $DC == 127.0.0.* ]] || die "the lab DC is not on 127.0.0.x ($DC)"

apt_install() {
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$@" >/dev/null
}
command -v cc >/dev/null || apt_install gcc libc6-dev
command -v pamtester >/dev/null || apt_install pamtester
command -v kinit >/dev/null || die "MIT kinit missing (krb5-user, installed by tools/lab)"
command -v nsenter >/dev/null && command -v unshare >/dev/null || die "unshare/nsenter missing (util-linux)"

START_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/adjoin-idbench.XXXXXX)
chmod 0755 "$WORK"
RES=$WORK/results.jsonl
: >"$RES"
PWFILE=$WORK/alice.pw
(umask 077 && printf '%s\n' "$ADJOIN_LAB_ALICE_PASSWORD" >"$PWFILE")
ADJOIN_PID="" SSSD_PID="" ADJOIN_JOINED=0 SSSD_JOINED=0

leave() { # leave REGISTRY: delete the computer account a join here created
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | ADJOIN_REGISTRY=$1 timeout 60 \
    "$REL/domain-join" leave administrator --delete --dns-server "$DC" --password-stdin >/dev/null 2>&1 || true
}
stop_group() { # stop_group PID: the process group of a setsid'd daemon
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    # It is this shell's child: once it has exited, reap it (kill -0 succeeds on a zombie).
    if [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ]; then wait "$pid" 2>/dev/null || true; return 0; fi
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  [ -n "$ADJOIN_PID" ] && stop_group "$ADJOIN_PID"
  [ -n "$SSSD_PID" ] && stop_group "$SSSD_PID"
  [ "$ADJOIN_JOINED" = 1 ] && leave "$WORK/adjoin/registry.db"
  [ "$SSSD_JOINED" = 1 ] && leave "$WORK/sssd/registry.db"
  if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- results: one JSON line per measurement, rendered at the end.
rec_nss() { # rec_nss ROW SIDE JSON-from-nss_bench
  printf '{"row":"%s","side":"%s","kind":"nss","data":%s}\n' "$1" "$2" "$3" >>"$RES"
}
rec_us() { # rec_us ROW SIDE FILE-of-microseconds [RESULT [TIMEOUTS]]
  local s
  s=$(paste -sd, "$3")
  printf '{"row":"%s","side":"%s","kind":"us","samples":[%s],"result":"%s","timeouts":%d,"timeout_s":%d}\n' \
    "$1" "$2" "$s" "${4:-}" "${5:-0}" "$CMD_TIMEOUT" >>"$RES"
}
jstr() { # jstr TEXT: TEXT as the inside of a JSON string (one line)
  local t=${1//\\/\\\\}
  t=${t//\"/\\\"}
  printf '%s' "$t" | tr '\n\t\r' '   ' | tr -d '\000-\037'
}
rec_skip() { # rec_skip ROW SIDE WHY
  printf '{"row":"%s","side":"%s","kind":"skip","why":"%s"}\n' "$1" "$2" "$(jstr "$3")" >>"$RES"
}
meta() { printf '{"meta":"%s","value":"%s"}\n' "$1" "$(jstr "$2")" >>"$RES"; }

# ---- build
ADJOIN_OK=1
if [ "$DO_BUILD" = 1 ]; then
  say "building adjoin-tools, adjoin-nss, adjoin-pam (release)"
  if ! (cd "$ROOT" && timeout 1800 cargo build --release --quiet -p adjoin-tools -p adjoin-nss -p adjoin-pam) >"$WORK/build.log" 2>&1; then
    tail -15 "$WORK/build.log" >&2
    say "the build failed: the Adjoin side is not measured"
    ADJOIN_OK=0
  fi
fi
for f in domain-join regshell adjoin adjoind libnss_adjoin.so libpam_adjoin.so; do
  [ -e "$REL/$f" ] || { [ "$ADJOIN_OK" = 1 ] && say "target/release/$f missing: the Adjoin side is not measured"; ADJOIN_OK=0; }
done
NSS_BENCH=$WORK/nss_bench
cc -O2 -o "$NSS_BENCH" "$ROOT/tools/bench/nss_bench.c" -ldl || die "cannot compile tools/bench/nss_bench.c"

# ---- fixtures
SAM=$ADJOIN_LAB_DIR/private/sam.ldb
count_attr() { ldbsearch -H "$SAM" "(sAMAccountName=$1)" "$2" 2>/dev/null | grep -c "^$2:" || true; }
BIG_MEMBERS=$(count_attr biggroup member)
MANY_GROUPS=$(count_attr manygroups memberOf)
HAVE_BULK=$(count_attr bulk0001 sAMAccountName)
FIX_BIG=1 FIX_MANY=1
[ "$BIG_MEMBERS" -gt 0 ] || { FIX_BIG=0; say "fixture biggroup missing in the lab: its rows are skipped (re-provision: tools/lab down && tools/lab up)"; }
[ "$MANY_GROUPS" -gt 0 ] || { FIX_MANY=0; say "fixture manygroups missing in the lab: its rows are skipped"; }
meta biggroup_members "$BIG_MEMBERS"
meta manygroups_groups "$MANY_GROUPS"
# Cold lookups: a different bulk user each time (never looked up in this run), else alice.
cold_name() { if [ "$HAVE_BULK" -gt 0 ]; then printf 'bulk%04d' $(((${1} * 197 + 11) % 2000 + 1)); else echo alice; fi; }

A=$WORK/adjoin WB=$WORK/winbind S=$WORK/sssd
mkdir -p "$A/lib" "$A/pam.d" "$WB/lib" "$WB/pam.d"
other_pam='auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n'

# ---- Adjoin: join, registry, adjoind
adjoin_ns() { # run a command with nsswitch.conf `files adjoin` and a private /etc/pam.d
  LD_LIBRARY_PATH=$A/lib timeout 600 unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/pam.d && shift 2 && exec "$@"' \
    sh "$A/nsswitch.conf" "$A/pam.d" "$@"
}
adjoin_wait_online() { # a slow DC can put adjoind offline for 30 s; start a section online
  [ "$ADJOIN_OK" = 1 ] || return 0
  local i
  for i in $(seq 1 120); do
    "$REL/adjoin" status --socket "$A/adjoind.sock" --timeout 5 2>/dev/null | grep -q '^online: true' && return 0
    sleep 0.5
  done
  say "adjoin: adjoind is still offline after 60 s"
}
adjoin_flush() {
  "$REL/adjoin" cache flush --socket "$A/adjoind.sock" >/dev/null
  # The fast cache file is rewritten within 200 ms of a change; wait until it is.
  sleep 0.5
}
setup_adjoin() {
  say "adjoin: joining IDBENCH, starting adjoind"
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | ADJOIN_REGISTRY=$A/registry.db timeout 120 "$REL/domain-join" join "$ADJOIN_LAB_DOMAIN" administrator \
    --name "idbench.$ADJOIN_LAB_DOMAIN" --dns-server "$DC" --keytab "$A/krb5.keytab" --password-stdin \
    --reuse-account >"$A/join.log" 2>&1 || { cat "$A/join.log" >&2; return 1; }
  ADJOIN_JOINED=1
  local kv
  for kv in "CachePath REG_SZ $A/identity.db" "NssCachePath REG_SZ $A/nss.cache" "CreateHomeDirectory REG_DWORD 0"; do
    # shellcheck disable=SC2086 # three words: name, type, value
    ADJOIN_REGISTRY=$A/registry.db "$REL/regshell" set_value 'HKEY_THIS_MACHINE\Identity' $kv >/dev/null
  done
  if [ -n "${ADJOIN_OFFLINE_LOGON:-}" ]; then
    ADJOIN_REGISTRY=$A/registry.db "$REL/regshell" set_value 'HKEY_THIS_MACHINE\Identity' OfflineLogon REG_DWORD \
      "$ADJOIN_OFFLINE_LOGON" >/dev/null
  fi
  cp "$REL/libnss_adjoin.so" "$A/lib/libnss_adjoin.so.2"
  printf 'passwd: files adjoin\ngroup: files adjoin\nshadow: files\n' >"$A/nsswitch.conf"
  printf "$other_pam" >"$A/pam.d/other"
  printf 'auth required %s socket=%s\naccount required %s socket=%s\n' \
    "$REL/libpam_adjoin.so" "$A/adjoind.sock" "$REL/libpam_adjoin.so" "$A/adjoind.sock" >"$A/pam.d/idbench"
  start_adjoind || return 1
  export ADJOIN_SOCKET=$A/adjoind.sock ADJOIN_NSS_CACHE=$A/nss.cache
}
start_adjoind() {
  ADJOIN_REGISTRY=$A/registry.db setsid "$REL/adjoind" --no-smb --socket "$A/adjoind.sock" \
    --keytab "$A/krb5.keytab" --dns-server "$DC" </dev/null >>"$A/adjoind.log" 2>&1 &
  ADJOIN_PID=$!
  local i
  for i in $(seq 1 120); do
    kill -0 "$ADJOIN_PID" 2>/dev/null || { tail -20 "$A/adjoind.log" >&2; return 1; }
    "$REL/adjoin" status --socket "$A/adjoind.sock" --timeout 5 >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  tail -20 "$A/adjoind.log" >&2
  return 1
}
# After a command that did not finish, adjoind may still be fetching for it (loading the
# DC while the other sides are measured): restart it, its cache kept.
restart_adjoind() {
  say "adjoin: restarting adjoind (a command did not finish; its lookups would go on loading the DC)"
  stop_group "$ADJOIN_PID"
  ADJOIN_PID=""
  start_adjoind || die "adjoind does not start again (log: $A/adjoind.log)"
}
if [ "$ADJOIN_OK" = 1 ]; then
  setup_adjoin || { say "adjoin: setup failed: the Adjoin side is not measured"; ADJOIN_OK=0; }
fi

# ---- winbind: member.sh's member, Debian's NSS and PAM modules unpacked
WB_OK=$DO_WINBIND
WB_CONF=$ADJOIN_LAB_DIR/winbind-ref/smb.conf
WB_NSS=$WB/lib/libnss_winbind.so.2
winbind_ns() {
  LD_LIBRARY_PATH=$WB/lib timeout 600 "$MEMBER" exec /bin/sh -c \
    'mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/pam.d && shift 2 && exec "$@"' \
    sh "$WB/nsswitch.conf" "$WB/pam.d" "$@"
}
winbind_flush() {
  # gencache (name<->SID, id mapping caches), then winbindd_cache.tdb's user and group
  # entries and the netsamlogon cache; the trust list and sequence numbers stay (without
  # them winbindd forgets its own domain until it rescans).
  net cache flush -s "$WB_CONF" >/dev/null
  /usr/bin/python3 - "$ADJOIN_LAB_DIR/winbind-ref" <<'EOF'
import os, sys, tdb
d = sys.argv[1]
keep = (b"TRUSTDOMCACHE/", b"TRUSTDOMS/", b"SEQNUM/", b"WINBINDD_OFFLINE", b"DR/", b"DE/",
        b"LOC_POL/", b"PWD_POL/", b"CRED/", b"WINBINDD_CACHE_VERSION")
for f, everything in (("state/winbindd_cache.tdb", False), ("cache/netsamlogon_cache.tdb", True)):
    p = os.path.join(d, f)
    if not os.path.exists(p):
        continue
    t = tdb.Tdb(p, 0, tdb.DEFAULT, os.O_RDWR)
    t.transaction_start()
    for k in list(t.keys()):
        if everything or not k.startswith(keep):
            del t[k]
    t.transaction_commit()
    t.close()
EOF
}
setup_winbind() {
  say "winbind: member.sh up, unpacking libnss-winbind and libpam-winbind"
  timeout 300 "$MEMBER" up >"$WB/up.log" 2>&1 || { tail -20 "$WB/up.log" >&2; return 1; }
  local ver
  ver=$(dpkg-query -W -f '${Version}' winbind)
  (cd "$WB" && timeout 120 apt-get download -q "libnss-winbind=$ver" "libpam-winbind=$ver") >"$WB/download.log" 2>&1 ||
    { cat "$WB/download.log" >&2; return 1; }
  mkdir -p "$WB/root"
  for d in "$WB"/*.deb; do dpkg -x "$d" "$WB/root"; done
  cp "$(find "$WB/root" -name libnss_winbind.so.2 | head -1)" "$WB_NSS"
  WB_PAM=$(find "$WB/root" -name pam_winbind.so | head -1)
  [ -n "$WB_PAM" ] && [ -f "$WB_NSS" ] || return 1
  /usr/bin/python3 -c 'import tdb' 2>/dev/null || { say "python3-tdb missing (cold lookups need it)"; return 1; }
  printf 'passwd: files winbind\ngroup: files winbind\nshadow: files\n' >"$WB/nsswitch.conf"
  printf "$other_pam" >"$WB/pam.d/other"
  # Kerberos, as Debian's pam-auth-update profile for winbind configures it (krb5_auth; the
  # ticket kept in winbindd's memory rather than a /tmp/krb5cc file); and plain NTLM.
  printf 'auth required %s krb5_auth\naccount required %s\n' "$WB_PAM" "$WB_PAM" >"$WB/pam.d/idbench"
  printf 'auth required %s\naccount required %s\n' "$WB_PAM" "$WB_PAM" >"$WB/pam.d/idbench-ntlm"
  meta samba_version "$(winbindd --version 2>/dev/null | sed 's/^Version //')"
}
if [ "$WB_OK" = 1 ]; then
  setup_winbind || { say "winbind: setup failed: not measured"; WB_OK=0; }
fi

# ---- SSSD, fully private
SSSD_OK=$DO_SSSD SSSD_WHY="--no-sssd"
sssd_ns() { timeout 600 nsenter -t "$SSSD_PID" -m -- "$@"; }
sssd_flush() { sssd_ns /usr/sbin/sss_cache -E >/dev/null 2>&1; }
setup_sssd() {
  say "sssd: downloading and unpacking sssd-ad, joining SSSDBENCH, starting sssd"
  mkdir -p "$S/debs" "$S/root" "$S/etc/sssd/conf.d" "$S/etc/pam.d" "$S/varlog/sssd" "$S/run/ccache" \
    "$S/varlib/sss/"{db,pipes/private,mc,pubconf/krb5.include.d,gpo_cache,secrets,deskprofile}
  chmod 0700 "$S/varlib/sss/pipes/private"
  chmod 1777 "$S/run/ccache" # krb5_child writes the user's ccache as the user
  # The packages SSSD needs beyond what is installed (apt's simulation: nothing is installed),
  # plus the ones that hold its binaries.
  local pkgs
  pkgs=$(apt-get install -s --no-install-recommends sssd-ad sssd-tools libnss-sss libpam-sss 2>/dev/null |
    awk '/^Inst / { print $2 }' | grep -Ev '^(python3|libpam-pwquality|libpwquality|libcrack2|sssd-dbus)' | tr '\n' ' ')
  pkgs="$pkgs sssd-common sssd-ad sssd-ad-common sssd-krb5-common sssd-tools libnss-sss libpam-sss"
  # shellcheck disable=SC2086 # a list of package names
  (cd "$S/debs" && timeout 300 apt-get download -q $(printf '%s\n' $pkgs | sort -u)) >"$S/download.log" 2>&1 ||
    { SSSD_WHY="apt-get download failed (see $S/download.log)"; return 1; }
  local d
  for d in "$S/debs"/*.deb; do dpkg -x "$d" "$S/root"; done
  # Debian 12 merges /lib into /usr/lib: the overlay is on /usr.
  if [ -d "$S/root/lib" ]; then cp -a "$S/root/lib/." "$S/root/usr/lib/" && rm -rf "$S/root/lib"; fi
  [ -x "$S/root/usr/sbin/sssd" ] || { SSSD_WHY="no sssd binary in the unpacked packages"; return 1; }
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | ADJOIN_REGISTRY=$S/registry.db timeout 120 "$REL/domain-join" join \
    "$ADJOIN_LAB_DOMAIN" administrator --name "sssdbench.$ADJOIN_LAB_DOMAIN" --dns-server "$DC" \
    --keytab "$S/etc/sssd/krb5.keytab" --password-stdin --reuse-account >"$S/join.log" 2>&1 ||
    { SSSD_WHY="join of SSSDBENCH failed (see $S/join.log)"; return 1; }
  SSSD_JOINED=1
  cat >"$S/etc/sssd/sssd.conf" <<EOF
[sssd]
services = nss, pam
domains = $ADJOIN_LAB_DOMAIN

[nss]

[pam]

[domain/$ADJOIN_LAB_DOMAIN]
id_provider = ad
auth_provider = ad
access_provider = permit
chpass_provider = ad
ad_domain = $ADJOIN_LAB_DOMAIN
ad_server = $ADJOIN_LAB_DC_NAME
ad_hostname = sssdbench.$ADJOIN_LAB_DOMAIN
krb5_realm = $ADJOIN_LAB_REALM
krb5_keytab = /etc/sssd/krb5.keytab
ldap_krb5_keytab = /etc/sssd/krb5.keytab
krb5_ccname_template = FILE:/run/ccache/krb5cc_%U_XXXXXX
cache_credentials = false
use_fully_qualified_names = false
ldap_id_mapping = true
dyndns_update = false
ad_gpo_access_control = disabled
debug_level = 1
EOF
  chmod 0600 "$S/etc/sssd/sssd.conf"
  printf '127.0.0.1 localhost\n%s %s %s\n' "$DC" "$ADJOIN_LAB_DC_NAME" "${ADJOIN_LAB_DC_NAME%%.*}" >"$S/etc/hosts"
  printf 'nameserver %s\n' "$DC" >"$S/etc/resolv.conf"
  cp "$KRB5_CONFIG" "$S/etc/krb5.conf"
  printf 'passwd: files sss\ngroup: files sss\nshadow: files\n' >"$S/etc/nsswitch.conf"
  mkdir -p "$S/etc/pam.d"
  printf "$other_pam" >"$S/etc/pam.d/other"
  printf 'auth required pam_sss.so\naccount required pam_sss.so\n' >"$S/etc/pam.d/idbench"
  cat >"$S/ns.sh" <<'EOF'
#!/bin/sh
# The unpacked packages over /usr and the private files over /etc (read-only overlays);
# SSSD's state, logs and pid file in the work directory.
set -e
S=$1
shift
mount -t overlay overlay -o "lowerdir=$S/root/usr:/usr" /usr
mount -t overlay overlay -o "lowerdir=$S/etc:/etc" /etc
mount --bind "$S/varlib" /var/lib
mount --bind "$S/varlog" /var/log
mount --bind "$S/run" /run
exec "$@"
EOF
  chmod 0755 "$S/ns.sh"
  setsid unshare --mount --propagation private -- "$S/ns.sh" "$S" \
    /usr/sbin/sssd -i --logger=stderr -c /etc/sssd/sssd.conf </dev/null >"$S/sssd.log" 2>&1 &
  SSSD_PID=$!
  local i
  for i in $(seq 1 120); do
    kill -0 "$SSSD_PID" 2>/dev/null || { SSSD_WHY="sssd exited at start (log: $(tail -3 "$S/sssd.log" | tr '\n' ' '))"; SSSD_PID=""; return 1; }
    if [ "$(readlink "/proc/$SSSD_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] &&
      sssd_ns getent passwd alice >/dev/null 2>&1; then
      break
    fi
    sleep 0.25
  done
  sssd_ns getent passwd alice >/dev/null 2>&1 || { SSSD_WHY="sssd does not answer for alice within 30 s"; return 1; }
  meta sssd_version "$(dpkg-deb -f "$(ls "$S/debs"/sssd-common_*.deb | head -1)" Version)"
}
if [ "$SSSD_OK" = 1 ]; then
  setup_sssd || { say "sssd: not measured ($SSSD_WHY)"; SSSD_OK=0; }
fi
[ "$SSSD_OK" = 1 ] || meta sssd_not_measured "$SSSD_WHY"

# ---- helpers per side
SIDES=()
[ "$ADJOIN_OK" = 1 ] && SIDES+=(adjoin)
[ "$WB_OK" = 1 ] && SIDES+=(winbind)
[ "$SSSD_OK" = 1 ] && SIDES+=(sssd)
[ ${#SIDES[@]} -gt 0 ] || die "no side could be set up"

uname_of() { # uname_of SIDE NAME: how the side spells a domain name
  case $1 in winbind) echo "$ADJOIN_LAB_NETBIOS\\$2" ;; *) echo "$2" ;; esac
}
in_side() { # in_side SIDE CMD...: run CMD in the side's namespace
  local side=$1
  shift
  case $side in
    adjoin) adjoin_ns "$@" ;;
    winbind) winbind_ns "$@" ;;
    sssd) sssd_ns "$@" ;;
  esac
}
module_of() {
  case $1 in
    adjoin) echo "$A/lib/libnss_adjoin.so.2 adjoin" ;;
    winbind) echo "$WB_NSS winbind" ;;
    sssd) echo "/usr/lib/x86_64-linux-gnu/libnss_sss.so.2 sss" ;;
  esac
}
flush_side() {
  case $1 in adjoin) adjoin_flush ;; winbind) winbind_flush ;; sssd) sssd_flush ;; esac
}
n_for() { # n_for SIDE [DIV]: calls for a warm lookup
  local n
  case $1 in winbind) n=$N_SLOW ;; *) n=$N_FAST ;; esac
  n=$((n / ${2:-1}))
  echo $((n > 0 ? n : 1))
}
# The order of the sides in round R (rotated, so no side always goes first).
order() {
  local r=$1 k=${#SIDES[@]} i
  for ((i = 0; i < k; i++)); do echo "${SIDES[(i + r) % k]}"; done
}
nss_run() { # nss_run ROW SIDE OP NAME COUNT: one nss_bench in the side's namespace
  local row=$1 side=$2 op=$3 name=$4 count=$5 mod out
  mod=$(module_of "$side")
  # shellcheck disable=SC2086 # path and module name
  if out=$(in_side "$side" "$NSS_BENCH" $mod "$op" "$(uname_of "$side" "$name")" "$count" 2>"$WORK/nss.err"); then
    rec_nss "$row" "$side" "$out"
  else
    rec_skip "$row" "$side" "nss_bench $op failed: $(head -c 200 "$WORK/nss.err") $out"
    say "$side: $row failed: $(cat "$WORK/nss.err") $out"
  fi
}
prime() { # prime SIDE OP NAME: one lookup, then time for the fast cache file to be rewritten
  local mod
  mod=$(module_of "$1")
  # shellcheck disable=SC2086
  in_side "$1" "$NSS_BENCH" $mod "$2" "$(uname_of "$1" "$3")" 1 >/dev/null 2>&1 || true
}

# ---- 1. warm lookups through the module, called directly, and through glibc
say "warm lookups (${ROUNDS} rounds)"
for s in "${SIDES[@]}"; do
  prime "$s" getpwnam alice
  prime "$s" initgroups alice
  [ "$FIX_MANY" = 1 ] && prime "$s" initgroups manygroups
done
sleep 0.5
for ((r = 0; r < ROUNDS; r++)); do
  for s in $(order "$r"); do
    nss_run getpwnam_warm "$s" getpwnam alice "$(n_for "$s")"
    nss_run getpwnam_libc "$s" getpwnam_libc alice "$(n_for "$s" 2)"
    nss_run initgroups_warm "$s" initgroups alice "$(n_for "$s")"
    nss_run getgrouplist_libc "$s" getgrouplist alice "$(n_for "$s" 2)"
    if [ "$FIX_MANY" = 1 ]; then
      nss_run initgroups_many "$s" initgroups manygroups "$(n_for "$s" 10)"
    fi
  done
done
[ "$FIX_MANY" = 1 ] || for s in "${SIDES[@]}"; do rec_skip initgroups_many "$s" "no manygroups fixture in the lab"; done

# ---- 2. cold getpwnam: each side's cache flushed, then a user not looked up before
say "cold getpwnam (${N_COLD} per side)"
for ((i = 0; i < N_COLD; i++)); do
  name=$(cold_name "$i")
  for s in $(order "$i"); do
    flush_side "$s"
    mod=$(module_of "$s")
    # shellcheck disable=SC2086
    if out=$(in_side "$s" "$NSS_BENCH" $mod getpwnam_each "$(uname_of "$s" "$name")" 1 2>"$WORK/nss.err"); then
      rec_nss getpwnam_cold "$s" "$out"
    else
      rec_skip getpwnam_cold "$s" "cold getpwnam of $name failed: $(head -c 200 "$WORK/nss.err")"
    fi
  done
done

# ---- 3. PAM password logons and plain kinit, alternating
say "PAM logons and kinit (${N_PAM} each, ${ROUNDS} rounds)"
adjoin_wait_online
PAM_SIDES=("${SIDES[@]}")
[ "$WB_OK" = 1 ] && PAM_SIDES+=(winbind-ntlm)
kinit_once() { # the anchor: MIT kinit alice into a fresh cache; the cache must hold a TGT
  rm -f "$WORK/kinit.cc"
  KRB5CCNAME=FILE:$WORK/kinit.cc kinit "alice@$ADJOIN_LAB_REALM"
}
export -f kinit_once
export WORK ADJOIN_LAB_REALM
pam_block() { # pam_block SIDE N: N logons, microseconds appended to $WORK/pam.SIDE
  local side=$1 n=$2 svc=idbench real=$1 user
  [ "$side" = winbind-ntlm ] && { svc=idbench-ntlm; real=winbind; }
  user=$(uname_of "$real" alice)
  case $side in
    kinit) timeout 600 "$SELF" __time "$n" "$PWFILE" "$WORK/kinit.out" bash -c kinit_once >>"$WORK/pam.kinit" ;;
    *) in_side "$real" "$SELF" __time "$n" "$PWFILE" "$WORK/pam.$side.out" pamtester "$svc" "$user" authenticate acct_mgmt \
      >>"$WORK/pam.$side" ;;
  esac
}
ALL_PAM=(kinit "${PAM_SIDES[@]}")
for s in "${ALL_PAM[@]}"; do
  : >"$WORK/pam.$s"
  pam_block "$s" 1 >/dev/null 2>&1 || say "$s: the warm-up logon failed"
  : >"$WORK/pam.$s"
done
per=$(((N_PAM + ROUNDS - 1) / ROUNDS))
for ((r = 0; r < ROUNDS; r++)); do
  k=${#ALL_PAM[@]}
  for ((j = 0; j < k; j++)); do
    s=${ALL_PAM[(j + r) % k]}
    pam_block "$s" "$per" || say "$s: a logon failed in round $r"
  done
done
KRB5CCNAME=FILE:$WORK/kinit.cc klist -s || say "kinit left no valid TGT"
for s in "${ALL_PAM[@]}"; do
  if [ -s "$WORK/pam.$s" ]; then rec_us "pam_$s" "$s" "$WORK/pam.$s"; else rec_skip "pam_$s" "$s" "logons failed"; fi
done
# A wrong password must be refused by every side (checked, not timed).
printf 'not-her-password\n' >"$WORK/bad.pw"
for s in "${PAM_SIDES[@]}"; do
  real=$s svc=idbench
  [ "$s" = winbind-ntlm ] && { real=winbind; svc=idbench-ntlm; }
  if in_side "$real" pamtester "$svc" "$(uname_of "$real" alice)" authenticate <"$WORK/bad.pw" >/dev/null 2>&1; then
    meta "wrong_password_accepted_$s" yes
    say "$s: a wrong password was ACCEPTED"
  fi
done

# ---- 4. `id manygroups` and `getent group biggroup`, whole processes, warm and cold
cmd_rows() { # cmd_rows ROW-PREFIX FIXTURE-OK WHY CMD NAME
  local row=$1 ok=$2 why=$3 cmd=$4 name=$5 s i
  if [ "$ok" != 1 ]; then
    for s in "${SIDES[@]}"; do rec_skip "${row}_warm" "$s" "$why"; rec_skip "${row}_cold" "$s" "$why"; done
    return
  fi
  say "$cmd $name: warm (${N_CMD}) and cold (${N_CMD_COLD})"
  adjoin_wait_online
  local rc phase n
  for s in "${SIDES[@]}"; do
    for phase in warm cold; do : >"$WORK/$row.$s.$phase"; echo 0 >"$WORK/$row.$s.$phase.timeouts"; done
  done
  # timed SIDE PHASE N: N runs of the command in the side's namespace
  timed() {
    local s=$1 phase=$2 n=$3
    rc=0
    # shellcheck disable=SC2086 # cmd is two words for getent
    in_side "$s" "$SELF" __time "$n" /dev/null "$WORK/$row.$s.out" $cmd "$(uname_of "$s" "$name")" \
      >>"$WORK/$row.$s.$phase" || rc=$?
    if [ $rc -eq 124 ]; then
      echo $(($(cat "$WORK/$row.$s.$phase.timeouts") + 1)) >"$WORK/$row.$s.$phase.timeouts"
      say "$s: $phase $cmd $name did not finish within $CMD_TIMEOUT s"
      [ "$s" = adjoin ] && restart_adjoind
    elif [ $rc -ne 0 ]; then
      say "$s: $phase $cmd $name failed"
    fi
    return 0
  }
  for ((i = 0; i < N_CMD_COLD; i++)); do
    for s in $(order "$i"); do
      # After one run that did not finish, the side's other cold runs are not made.
      [ "$(cat "$WORK/$row.$s.cold.timeouts")" -eq 0 ] || continue
      [ "$s" = adjoin ] && adjoin_wait_online
      flush_side "$s"
      timed "$s" cold 1
    done
  done
  # Warm it (untimed): the last cold run may not have finished. A side for which even this
  # does not finish has nothing cached, so it gets no warm row.
  local nowarm=" "
  for s in "${SIDES[@]}"; do
    rc=0
    # shellcheck disable=SC2086
    in_side "$s" timeout "$CMD_TIMEOUT" $cmd "$(uname_of "$s" "$name")" >/dev/null 2>&1 || rc=$?
    if [ $rc -eq 124 ]; then
      nowarm="$nowarm$s "
      say "$s: $cmd $name does not finish within $CMD_TIMEOUT s even after the cold runs: no warm figure"
      [ "$s" = adjoin ] && restart_adjoind
    fi
  done
  sleep 0.5
  adjoin_wait_online
  n=$(((N_CMD + ROUNDS - 1) / ROUNDS))
  for ((r = 0; r < ROUNDS; r++)); do
    for s in $(order "$r"); do
      [[ $nowarm == *" $s "* ]] || timed "$s" warm "$n"
    done
  done
  for s in "${SIDES[@]}"; do
    local res=""
    if [ -s "$WORK/$row.$s.out" ]; then
      case $cmd in
        id) res="groups=$(grep -o 'groups=.*' "$WORK/$row.$s.out" | tr ',' '\n' | grep -c . || true)" ;;
        *) res="members=$(cut -d: -f4- "$WORK/$row.$s.out" | tr ',' '\n' | grep -c . || true)" ;;
      esac
    fi
    for phase in warm cold; do
      local to
      to=$(cat "$WORK/$row.$s.$phase.timeouts")
      if [ "$phase" = warm ] && [[ $nowarm == *" $s "* ]]; then
        rec_skip "${row}_$phase" "$s" "not measured: the lookup does not finish within $CMD_TIMEOUT s even after the cold runs, so nothing is cached"
      elif [ -s "$WORK/$row.$s.$phase" ] || [ "$to" -gt 0 ]; then
        rec_us "${row}_$phase" "$s" "$WORK/$row.$s.$phase" "$res" "$to"
      else
        rec_skip "${row}_$phase" "$s" "failed (see the messages above)"
      fi
    done
  done
}
cmd_rows id_many "$FIX_MANY" "no manygroups fixture in the lab" id manygroups
cmd_rows getent_big "$FIX_BIG" "no biggroup fixture in the lab" "getent group" biggroup

# ---- report
meta commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+uncommitted')"
meta date "$START_DATE"
meta nproc "$(nproc)"
meta cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
meta load_before "$LOAD_BEFORE"
meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
meta mit_krb5 "$(dpkg-query -W -f '${Version}' krb5-user 2>/dev/null || echo unknown)"
meta counts "N_FAST=$N_FAST N_SLOW=$N_SLOW N_COLD=$N_COLD N_CMD=$N_CMD N_CMD_COLD=$N_CMD_COLD N_PAM=$N_PAM ROUNDS=$ROUNDS"
[ "$WB_OK" = 1 ] && { "$MEMBER" status >/dev/null 2>&1 || say "note: member.sh status reports the winbind member unhealthy after the run"; }

/usr/bin/python3 - "$RES" "$JSON" <<'EOF'
import json, statistics, sys

path, as_json = sys.argv[1], sys.argv[2] == "1"
meta, data = {}, {}
for line in open(path):
    o = json.loads(line)
    if "meta" in o:
        meta[o["meta"]] = o["value"]
        continue
    d = data.setdefault(o["row"], {}).setdefault(o["side"], {"kind": o["kind"], "runs": [], "samples": [], "why": None,
                                                              "result": "", "timeouts": 0, "timeout_s": 0})
    if o["kind"] == "skip":
        d["why"] = d["why"] or o["why"]
    elif o["kind"] == "nss":
        d["kind"] = "nss"
        d["runs"].append(o["data"])
    else:
        d["kind"] = "us"
        d["samples"] += o["samples"]
        d["result"] = o.get("result", "")
        d["timeouts"] += o.get("timeouts", 0)
        d["timeout_s"] = o.get("timeout_s", 0)

def pct(v, p):
    v = sorted(v)
    k = max(1, min(len(v), int(p * len(v) + 0.999999)))
    return v[k - 1]

def summary(d):
    """mean, p50, p99 in nanoseconds, the sample count, the answer; None if not measured."""
    if d is None:
        return None
    if d["kind"] == "nss" and d["runs"] and all(r["ok"] for r in d["runs"]):
        runs = d["runs"]
        if runs[0]["op"] == "getpwnam_each":  # cold: one sample per run
            v = [r["ns_per_call"] for r in runs]
            return {"mean_ns": statistics.mean(v), "p50_ns": pct(v, .5), "p99_ns": pct(v, .99),
                    "n": len(v), "result": runs[-1]["result"]}
        # warm: the median over the rounds of each round's figures
        return {"mean_ns": statistics.median(r["ns_per_call"] for r in runs),
                "p50_ns": statistics.median(r["p50_ns"] for r in runs),
                "p99_ns": statistics.median(r["p99_ns"] for r in runs),
                "n": sum(r["count"] for r in runs), "rounds": len(runs), "result": runs[-1]["result"]}
    if d["kind"] == "us" and (d["samples"] or d["timeouts"]):
        v = [x * 1000 for x in d["samples"]]
        out = {"n": len(v), "result": d["result"], "timeouts": d["timeouts"], "timeout_s": d["timeout_s"]}
        if v:
            out.update({"mean_ns": statistics.mean(v), "p50_ns": pct(v, .5), "p99_ns": pct(v, .99)})
        return out
    return None

def has(sm):
    return sm is not None and "mean_ns" in sm

ROWS = [
    ("getpwnam_warm", "getpwnam warm, module called directly (alice)", "adjoin<1000"),
    ("getpwnam_libc", "getpwnam warm through glibc (passwd: files X)", None),
    ("getpwnam_cold", "getpwnam cold (cache flushed, new user), module directly", None),
    ("initgroups_warm", "initgroups warm, module directly (alice)", "adjoin<20000"),
    ("initgroups_many", "initgroups warm, module directly (manygroups)", "adjoin<20000"),
    ("getgrouplist_libc", "getgrouplist through glibc (alice)", None),
    ("id_many_warm", "`id manygroups` warm (whole process)", None),
    ("id_many_cold", "`id manygroups` cold (after a cache flush)", None),
    ("getent_big_warm", "`getent group biggroup` warm (whole process)", None),
    ("getent_big_cold", "`getent group biggroup` cold (after a cache flush)", None),
    ("pam", "PAM password login (authenticate + acct_mgmt)", "adjoin<=1.5*kinit"),
]
SIDES = ["adjoin", "winbind", "sssd"]

def side_data(row, side):
    if row == "pam":
        return data.get("pam_" + side, {}).get(side)
    return data.get(row, {}).get(side)

rows_out = []
kinit = summary(data.get("pam_kinit", {}).get("kinit"))
for key, label, target in ROWS:
    r = {"row": key, "label": label, "target": target}
    for s in SIDES:
        d = side_data(key, s)
        sm = summary(d)
        r[s] = sm
        if sm is None and d is not None and d.get("why"):
            r[s + "_why"] = d["why"]
    a = r["adjoin"]
    for s in ("winbind", "sssd"):
        # No ratio when a side had runs that did not finish: its mean leaves them out.
        r[s + "_over_adjoin"] = (r[s]["mean_ns"] / a["mean_ns"]) if (
            has(a) and has(r[s]) and not a.get("timeouts") and not r[s].get("timeouts")) else None
    if target and has(a):
        if target.startswith("adjoin<="):
            r["met"] = has(kinit) and a["mean_ns"] <= 1.5 * kinit["mean_ns"]
        else:
            r["met"] = a["mean_ns"] < float(target.split("<")[1])
    rows_out.append(r)
ntlm = summary(data.get("pam_winbind-ntlm", {}).get("winbind-ntlm"))

def fmt(ns):
    if ns is None:
        return "-"
    if ns < 1e4:
        return "%.2f µs" % (ns / 1e3)
    if ns < 1e6:
        return "%.0f µs" % (ns / 1e3)
    if ns < 1e9:
        return "%.1f ms" % (ns / 1e6)
    return "%.2f s" % (ns / 1e9)

def cell(sm):
    if sm is None:
        return "-"
    if not has(sm):
        return "> %d s (%d runs, none finished)" % (sm["timeout_s"], sm["timeouts"])
    c = "%s (p50 %s)" % (fmt(sm["mean_ns"]), fmt(sm["p50_ns"]))
    if sm.get("timeouts"):
        c += " + %d run(s) > %d s" % (sm["timeouts"], sm["timeout_s"])
    return c

if as_json:
    print(json.dumps({"meta": meta, "rows": rows_out, "kinit": kinit, "pam_winbind_ntlm": ntlm}, indent=1))
    sys.exit(0)

print("Identity service benchmark: Adjoin vs winbind vs SSSD against the lab DC")
print("commit %s, %s, %s CPUs (%s), load average %s before, %s after" % (
    meta.get("commit"), meta.get("date"), meta.get("nproc"), meta.get("cpu"), meta.get("load_before"), meta.get("load_after")))
print("Samba %s; SSSD %s; MIT krb5 %s; %s" % (meta.get("samba_version", "-"),
      meta.get("sssd_version", "not measured: " + meta.get("sssd_not_measured", "?")), meta.get("mit_krb5"), meta.get("counts")))
print("fixtures: biggroup %s members, manygroups in %s groups" % (meta.get("biggroup_members"), meta.get("manygroups_groups")))
print("cells: mean (p50); ratios of the means\n")
hdr = ["operation", "Adjoin", "winbind", "SSSD", "winbind/Adjoin", "SSSD/Adjoin", "target"]
table = []
for r in rows_out:
    t = r["target"]
    if t is None:
        tcell = ""
    elif t.startswith("adjoin<="):
        tcell = "<= 1.5x kinit: " + ("met" if r.get("met") else "NOT met")
    else:
        tcell = "< %s: %s" % (fmt(float(t.split("<")[1])), "met" if r.get("met") else "NOT met")
    if t and "met" not in r:
        tcell = t.replace("adjoin", "") + ": no Adjoin figure"
    ratio = lambda x: ("%.2f" % x if x >= 0.1 else "%.4f" % x) if x else "-"
    table.append([r["label"], cell(r["adjoin"]), cell(r["winbind"]), cell(r["sssd"]),
                  ratio(r["winbind_over_adjoin"]), ratio(r["sssd_over_adjoin"]), tcell])
table.append(["plain MIT kinit alice (the anchor, one figure)", cell(kinit), "", "", "", "", ""])
pam = next(r for r in rows_out if r["row"] == "pam")
table.append(["PAM login / kinit"] + [("%.2f" % (pam[s]["mean_ns"] / kinit["mean_ns"])) if (has(pam[s]) and has(kinit)) else "-" for s in SIDES]
             + ["", "", "<= 1.5 (Adjoin)"])
table.append(["PAM login, pam_winbind without krb5_auth (NTLM)", "", cell(ntlm), "", "", "", ""])
w = [max(len(row[i]) for row in [hdr] + table) for i in range(len(hdr))]
line = lambda row: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(row)) + " |"
print(line(hdr))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for row in table:
    print(line(row))
print()
print("answers (last call of each side):")
for r in rows_out:
    res = ["%s %s" % (s, r[s]["result"]) for s in SIDES if r[s] and r[s].get("result")]
    if res:
        print("  %-50s %s" % (r["label"], "; ".join(res)))
skipped = [(r["label"], s, r[s + "_why"]) for r in rows_out for s in SIDES if r.get(s + "_why")]
for label, s, why in skipped:
    print("  skipped: %s, %s: %s" % (label, s, why))
big = next(r for r in rows_out if r["row"] == "getent_big_warm")
if big["winbind"] and big["winbind"]["result"] == "members=0":
    print("  note: winbind lists no members of biggroup: `winbind expand groups = 0` (Samba's default, which"
          " member.sh keeps) makes getgrnam skip the member lookup, so its getent rows do less work")
if "sssd_not_measured" in meta:
    print("sssd: not measured (%s); reference (not this run, docs/benchmarks.md): warm getpwnam 0.8-1.0 µs direct,"
          " initgroups ~200 µs, PAM login ~230 ms" % meta["sssd_not_measured"])
for k, v in meta.items():
    if k.startswith("wrong_password_accepted"):
        print("WARNING: %s" % k)
EOF
