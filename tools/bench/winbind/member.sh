#!/usr/bin/env bash
# tools/bench/winbind/member.sh: a Samba member server (winbindd only, no smbd) joined to the
# lab domain, as the reference for "NTLM pass-through logons per second" (see README.md).
#
#   member.sh up       install what is missing, write a private smb.conf, join WBREF to
#                      EXAMPLE.TEST with `net ads join`, start winbindd, wait until it
#                      reaches the DC over NETLOGON. Fast if the member is already healthy.
#   member.sh down     stop winbindd (by its recorded pid), `net ads leave` (best effort),
#                      remove the member's directory.
#   member.sh status   say whether winbindd runs and reaches the DC; exit 1 if not healthy.
#   member.sh env      print the member's variables as `export` lines (--json for JSON).
#   member.sh exec CMD [ARG...]
#                      run a winbind client (wbinfo, ntlm_auth, ...) against this member's
#                      winbindd rather than the lab DC's own (see "Which winbindd" below).
#   member.sh bench [--user alice] [--domain EXAMPLE] [--password-env ADJOIN_LAB_ALICE_PASSWORD]
#                   [--count 2000] [--concurrency 4] [--json]
#                      N NTLMv2 network logons through winbindd's pass-through (NETLOGON
#                      SamLogonEx to the DC) with C concurrent workers; prints
#                      `winbind: N logons in X s = Y logons/s (concurrency C)`.
#   member.sh smbd-up SHARE DIR
#                      start smbd for this member (on its address, port 445) serving DIR as
#                      SHARE (read only = no; Windows ACLs and alternate data streams in
#                      xattrs: vfs objects = acl_xattr streams_xattr, as the Samba wiki's
#                      member file server has), e.g. the reference of tools/bench/smbtorture.sh;
#                      restarts a running one. Needs `up` first.
#   member.sh smbd-down
#                      stop smbd (`down` stops it too).
#
# Everything lives in $ADJOIN_LAB_DIR/winbind-ref (default /var/lib/adjoin-lab/winbind-ref);
# nothing in /etc is touched. Needs root and a running lab (tools/lab up).
# WBREF_MAX_DOMAIN_CONNECTIONS (default 10) sets `winbind max domain connections` at `up`.
#
# Which winbindd: libwbclient 4.17 ignores WINBINDD_SOCKET_DIR (only Samba's selftest
# wrappers can move it) and always connects to /run/samba/winbindd/pipe, which belongs to
# the lab DC's own winbindd. So clients of this member run in a private mount namespace in
# which this member's socket directory is bind-mounted over /run/samba/winbindd
# (`member.sh exec`, and `bench` does the same). Nothing outside that namespace changes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/tools/bench/winbind
LAB=$ROOT/tools/lab
LAB_DIR=${ADJOIN_LAB_DIR:-/var/lib/adjoin-lab}
WB_DIR=$LAB_DIR/winbind-ref
CONF=$WB_DIR/smb.conf
WB_IP=${ADJOIN_WBREF_IP:-127.0.0.3}
DC_IP=${ADJOIN_LAB_IP:-127.0.0.2}
NAME=WBREF
REALM=EXAMPLE.TEST
WORKGROUP=EXAMPLE
DNS_DOMAIN=example.test
MAX_DOMAIN_CONNECTIONS=${WBREF_MAX_DOMAIN_CONNECTIONS:-10}
# The compiled-in socket directory of Debian's libwbclient (checked in check_socket_dir).
DEFAULT_SOCKET_DIR=/run/samba/winbindd
PID_FILE=$WB_DIR/winbindd.pid
SMBD_CONF=$WB_DIR/smbd.conf
SMBD_PID_FILE=$WB_DIR/smbd.pid

say() { printf 'winbind-ref: %s\n' "$*" >&2; }
die() { printf 'winbind-ref: error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (winbindd, adding $WB_IP to lo, mount namespaces)"
}

lab_env() {
  "$LAB" status >/dev/null 2>&1 || die "the lab DC is not up: run tools/lab up"
  eval "$("$LAB" env)"
  export KRB5_CONFIG
}

install_packages() {
  local missing=()
  command -v winbindd >/dev/null || missing+=(winbind)
  command -v wbinfo >/dev/null || missing+=(winbind)
  command -v ntlm_auth >/dev/null || missing+=(winbind)
  command -v net >/dev/null || missing+=(samba-common-bin)
  command -v testparm >/dev/null || missing+=(samba-common-bin)
  command -v kinit >/dev/null || missing+=(krb5-user)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v mount >/dev/null || missing+=(mount)
  command -v ip >/dev/null || missing+=(iproute2)
  [ -x /usr/bin/python3 ] || missing+=(python3-minimal)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2046
  apt-get install -y -q --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

add_address() {
  ip -4 -o addr show 2>/dev/null | grep -q "inet $WB_IP/" && return 0
  say "adding $WB_IP to lo"
  # Tolerate a pre-assigned address (some sandboxes have one ip cannot see).
  ip addr add "$WB_IP/8" dev lo 2>/dev/null \
    || /usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).bind((sys.argv[1],0))' "$WB_IP" \
    || { echo "member: cannot add $WB_IP to lo" >&2; exit 1; }
}

winbindd_pid() {
  [ -s "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be a winbindd reading our smb.conf.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "winbindd.*$CONF" || return 1
  echo "$pid"
}

check_socket_dir() {
  if [ ! -d "$DEFAULT_SOCKET_DIR" ]; then
    mkdir -p "$DEFAULT_SOCKET_DIR" || die "cannot create $DEFAULT_SOCKET_DIR (bind-mount target)"
  fi
}

# in_member CMD...: run CMD with this member's winbindd socket at libwbclient's fixed path.
in_member() {
  check_socket_dir
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$1" "$2" || { echo "winbind-ref: error: cannot bind-mount $1 on $2" >&2; exit 125; }
     shift 2; exec "$@"' \
    in_member "$WB_DIR/winbindd" "$DEFAULT_SOCKET_DIR" "$@"
}

# reaches_dc: our winbindd answers, is ours (it knows the local domain WBREF, which the
# DC's winbindd does not), and its NETLOGON connection to the DC works.
reaches_dc() {
  winbindd_pid >/dev/null && [ -S "$WB_DIR/winbindd/pipe" ] || return 1
  in_member sh -c "wbinfo --online-status 2>/dev/null | grep -q '^$NAME ' \
    && wbinfo --ping-dc >/dev/null 2>&1" 2>/dev/null
}

healthy() {
  [ -f "$WB_DIR/joined" ] && reaches_dc
}

write_conf() {
  mkdir -p "$WB_DIR"/{private,lock,state,cache,pid,ncalrpc,winbindd,log}
  chmod 0755 "$WB_DIR" "$WB_DIR/winbindd"
  chmod 0700 "$WB_DIR/private"
  cat >"$CONF" <<EOF
# Written by tools/bench/winbind/member.sh: a winbind-only member server of $REALM.
[global]
    security = ADS
    server role = member server
    realm = $REALM
    workgroup = $WORKGROUP
    netbios name = $NAME
    interfaces = $WB_IP
    bind interfaces only = yes
    # The lab DC by address: no DNS (the host's resolver does not know $DNS_DOMAIN).
    password server = $DC_IP
    private dir = $WB_DIR/private
    lock directory = $WB_DIR/lock
    state directory = $WB_DIR/state
    cache directory = $WB_DIR/cache
    pid directory = $WB_DIR/pid
    ncalrpc dir = $WB_DIR/ncalrpc
    winbindd socket directory = $WB_DIR/winbindd
    log file = $WB_DIR/log/log.%m
    log level = 1
    max log size = 10000
    kerberos method = secrets and keytab
    dedicated keytab file = $WB_DIR/krb5.keytab
    winbind use default domain = no
    winbind offline logon = no
    # Default is 1: every logon of the domain would queue behind one NETLOGON connection.
    winbind max domain connections = $MAX_DOMAIN_CONNECTIONS
    idmap config * : backend = autorid
    idmap config * : range = 100000-2099999
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
EOF
  testparm -s "$CONF" >/dev/null 2>"$WB_DIR/testparm.log" || {
    cat "$WB_DIR/testparm.log" >&2
    die "testparm rejects $CONF"
  }
}

join_domain() {
  say "joining $NAME to $REALM (DC $DC_IP)"
  # `password server` in the conf names the DC by address (with -S <ip> the join fails:
  # "failed to lookup DC info ... over rpc"); KRB5_CONFIG (the lab's) names its KDC.
  if ! net ads join -s "$CONF" --no-dns-updates \
    -U "administrator%$ADJOIN_LAB_ADMIN_PASSWORD" >"$WB_DIR/join.log" 2>&1; then
    cat "$WB_DIR/join.log" >&2
    die "net ads join failed (log: $WB_DIR/join.log)"
  fi
  net ads testjoin -s "$CONF" >>"$WB_DIR/join.log" 2>&1 || {
    cat "$WB_DIR/join.log" >&2
    die "net ads testjoin failed after the join (log: $WB_DIR/join.log)"
  }
  touch "$WB_DIR/joined"
}

start_winbindd() {
  say "starting winbindd"
  # setsid gives it its own session and process group (so stopping it takes its children
  # too); --no-process-group stops winbindd from calling setsid() itself, which would fail.
  setsid winbindd -s "$CONF" -F --no-process-group --debug-stdout </dev/null >"$WB_DIR/log/winbindd.out" 2>&1 &
  local pid=$! i
  echo "$pid" >"$PID_FILE"
  for i in $(seq 1 120); do
    # Plain liveness here: until setsid has exec'd, the cmdline is still this script's.
    kill -0 "$pid" 2>/dev/null || {
      tail -20 "$WB_DIR/log/winbindd.out" >&2
      die "winbindd exited while starting (log: $WB_DIR/log/winbindd.out)"
    }
    if reaches_dc; then
      say "winbindd (pid $(winbindd_pid)) reaches the DC over NETLOGON after $((i / 4)) s"
      return 0
    fi
    sleep 0.25
  done
  tail -20 "$WB_DIR/log/winbindd.out" >&2
  die "winbindd did not reach the DC within 30 s (log: $WB_DIR/log/winbindd.out)"
}

stop_pid_group() { # stop_pid_group PID LABEL
  local pid=$1 i
  say "stopping $2 (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

smbd_pid() {
  [ -s "$SMBD_PID_FILE" ] || return 1
  local pid
  pid=$(cat "$SMBD_PID_FILE")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "smbd.*$SMBD_CONF" || return 1
  echo "$pid"
}

stop_smbd() {
  local pid
  if pid=$(smbd_pid); then
    stop_pid_group "$pid" smbd
  fi
  rm -f "$SMBD_PID_FILE"
}

stop_daemons() {
  local pid
  stop_smbd
  if pid=$(winbindd_pid); then
    stop_pid_group "$pid" winbindd
  fi
  rm -f "$PID_FILE"
  # samba-dcerpcd is started on demand (by net or winbindd) in its own session and exits
  # when idle; stop it if it is still around, only if it is ours.
  local f=$WB_DIR/pid/samba-dcerpcd.pid
  if [ -s "$f" ]; then
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$WB_DIR/"; then
      stop_pid_group "$pid" samba-dcerpcd
    fi
  fi
}

cmd_up() {
  need_root
  if healthy; then
    say "already up ($NAME on $WB_IP, winbindd pid $(winbindd_pid))"
    return 0
  fi
  install_packages
  lab_env
  add_address
  stop_daemons
  # A stale member (e.g. the lab was re-provisioned, so the domain is new): start afresh.
  rm -rf "$WB_DIR"
  write_conf
  join_domain
  start_winbindd
  say "up: $NAME joined to $REALM; \`$0 bench\` runs the benchmark"
}

cmd_down() {
  need_root
  stop_daemons
  if [ -f "$WB_DIR/joined" ] && "$LAB" status >/dev/null 2>&1; then
    eval "$("$LAB" env)"
    export KRB5_CONFIG
    # leave finds no DC without -S, though join needs it absent.
    if timeout 60 net ads leave -s "$CONF" -S "$DC_IP" -U "administrator%$ADJOIN_LAB_ADMIN_PASSWORD" \
      >"$WB_DIR/leave.log" 2>&1; then
      say "left $REALM"
    else
      say "net ads leave failed (ignored): $(tail -1 "$WB_DIR/leave.log")"
    fi
    stop_daemons
  fi
  rm -rf "$WB_DIR"
  say "down"
}

cmd_status() {
  local pid ok=0
  if [ -f "$WB_DIR/joined" ]; then echo "join: $NAME joined to $REALM ($CONF)"; else echo "join: not joined"; ok=1; fi
  if pid=$(winbindd_pid); then echo "winbindd: running (pid $pid)"; else echo "winbindd: not running"; ok=1; fi
  if [ $ok -eq 0 ] && reaches_dc; then
    echo "netlogon: winbindd reaches the DC ($DC_IP)"
  else
    echo "netlogon: no DC connection"
    ok=1
  fi
  return $ok
}

cmd_env() {
  local vars=(
    ADJOIN_WBREF_DIR "$WB_DIR"
    ADJOIN_WBREF_CONF "$CONF"
    ADJOIN_WBREF_NAME "$NAME"
    ADJOIN_WBREF_IP "$WB_IP"
    ADJOIN_WBREF_EXEC "$HERE/member.sh exec"
    WINBINDD_SOCKET_DIR "$WB_DIR/winbindd"
    KRB5_CONFIG "$LAB_DIR/krb5.conf"
  )
  local i
  if [ "${1:-}" = --json ]; then
    local sep='{'
    for ((i = 0; i < ${#vars[@]}; i += 2)); do
      printf '%s"%s":"%s"' "$sep" "${vars[i]}" "${vars[i + 1]}"
      sep=','
    done
    printf '}\n'
  else
    echo "# libwbclient 4.17 ignores WINBINDD_SOCKET_DIR: run clients via \$ADJOIN_WBREF_EXEC CMD..."
    for ((i = 0; i < ${#vars[@]}; i += 2)); do
      printf 'export %s=%q\n' "${vars[i]}" "${vars[i + 1]}"
    done
  fi
}

cmd_exec() {
  need_root
  [ $# -gt 0 ] || die "usage: $0 exec CMD [ARG...]"
  # shellcheck disable=SC2015 # die exits
  winbindd_pid >/dev/null && [ -S "$WB_DIR/winbindd/pipe" ] \
    || die "the member's winbindd is not running: run $0 up"
  [ -n "${KRB5_CONFIG:-}" ] || export KRB5_CONFIG=$LAB_DIR/krb5.conf
  in_member "$@"
}

cmd_bench() {
  need_root
  local user=alice domain=$WORKGROUP password_env=ADJOIN_LAB_ALICE_PASSWORD count=2000 concurrency=4 json=()
  while [ $# -gt 0 ]; do
    case $1 in
      --user) user=${2:?--user needs a value}; shift 2 ;;
      --domain) domain=${2:?--domain needs a value}; shift 2 ;;
      --password-env) password_env=${2:?--password-env needs a value}; shift 2 ;;
      --count) count=${2:?--count needs a value}; shift 2 ;;
      --concurrency) concurrency=${2:?--concurrency needs a value}; shift 2 ;;
      --json) json=(--json); shift ;;
      *) die "bench: unknown argument '$1'" ;;
    esac
  done
  [[ $count =~ ^[1-9][0-9]*$ ]] || die "--count must be a positive integer"
  [[ $concurrency =~ ^[1-9][0-9]*$ ]] || die "--concurrency must be a positive integer"
  [[ $password_env =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--password-env must name a variable"
  healthy || die "the member is not up (or lost its DC connection): run $0 up"
  # The lab's variables fill in the password when the caller did not export it.
  if [ -z "${!password_env:-}" ]; then
    eval "$("$LAB" env)"
    [ -n "${!password_env:-}" ] || die "\$$password_env is empty and tools/lab env does not set it"
  fi
  export "${password_env?}"
  export KRB5_CONFIG=$LAB_DIR/krb5.conf
  in_member /usr/bin/python3 "$HERE/ntlm_bench.py" --conf "$CONF" --server "$NAME" \
    --dns-domain "$DNS_DOMAIN" --user "$user" --domain "$domain" \
    --password-env "$password_env" --count "$count" --concurrency "$concurrency" \
    --meta "samba_version=$(winbindd --version 2>/dev/null | sed 's/^Version //')" \
    --meta "winbind_max_domain_connections=$(sed -n 's/^ *winbind max domain connections = //p' "$CONF")" \
    "${json[@]}"
}

# nss_winbind: libnss_winbind.so.2 (unpacked from Debian's libnss-winbind of the installed
# Samba with dpkg -x, no maintainer scripts) and an nsswitch.conf `files winbind`, in
# $WB_DIR/nss: smbd needs a Unix account for each domain user it serves.
nss_winbind() {
  local nss=$WB_DIR/nss ver
  [ -f "$nss/lib/libnss_winbind.so.2" ] && [ -f "$nss/nsswitch.conf" ] && return 0
  mkdir -p "$nss/lib" "$nss/root"
  ver=$(dpkg-query -W -f '${Version}' winbind)
  (cd "$nss" && timeout 120 apt-get download -q "libnss-winbind=$ver") >"$nss/download.log" 2>&1 || {
    cat "$nss/download.log" >&2
    die "apt-get download libnss-winbind=$ver failed"
  }
  dpkg -x "$nss"/libnss-winbind_*.deb "$nss/root"
  cp "$(find "$nss/root" -name libnss_winbind.so.2 | head -1)" "$nss/lib/" || die "no libnss_winbind.so.2 in libnss-winbind"
  printf 'passwd: files winbind\ngroup: files winbind\nshadow: files\nhosts: files dns\n' >"$nss/nsswitch.conf"
}

# smbd-up SHARE DIR: smbd with this member's smb.conf plus one share; waits for port 445.
cmd_smbd_up() {
  need_root
  local share=${1:-} dir=${2:-} pid i
  [[ $share =~ ^[A-Za-z0-9_-]+$ ]] || die "usage: $0 smbd-up SHARE DIR (SHARE: letters, digits, _ and -)"
  [[ $dir == /* ]] && [ -d "$dir" ] || die "smbd-up: '$dir' is not an absolute path to a directory"
  healthy || die "the member is not up: run $0 up"
  stop_smbd
  printf '%s\n' "# Written by tools/bench/winbind/member.sh smbd-up: the member's smb.conf and one share." \
    '[global]' "    include = $CONF" "[$share]" "    path = $dir" '    read only = no' \
    '    vfs objects = acl_xattr streams_xattr' '    map acl inherit = yes' >"$SMBD_CONF"
  testparm -s "$SMBD_CONF" >/dev/null 2>"$WB_DIR/testparm.log" || {
    cat "$WB_DIR/testparm.log" >&2
    die "testparm rejects $SMBD_CONF"
  }
  say "starting smbd serving $dir as $share"
  nss_winbind
  # In the namespace of `exec` (smbd's libwbclient reaches this member's winbindd), with
  # nsswitch.conf `files winbind` bind-mounted and libnss_winbind.so.2 on LD_LIBRARY_PATH.
  # The inner shell writes its pid, which exec hands on to setsid and smbd.
  rm -f "$SMBD_PID_FILE"
  # shellcheck disable=SC2016 # expanded by the inner shell
  LD_LIBRARY_PATH=$WB_DIR/nss/lib in_member /bin/sh -c \
    'mount --bind "$1" /etc/nsswitch.conf && echo $$ >"$2" && shift 2 && exec "$@"' smbd \
    "$WB_DIR/nss/nsswitch.conf" "$SMBD_PID_FILE" \
    setsid smbd -s "$SMBD_CONF" -F --no-process-group --debug-stdout </dev/null >"$WB_DIR/log/smbd.out" 2>&1 &
  for i in $(seq 1 40); do
    [ -s "$SMBD_PID_FILE" ] && break
    sleep 0.25
  done
  pid=$(cat "$SMBD_PID_FILE" 2>/dev/null) || die "smbd did not start (log: $WB_DIR/log/smbd.out)"
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || {
      tail -20 "$WB_DIR/log/smbd.out" >&2
      die "smbd exited while starting (log: $WB_DIR/log/smbd.out)"
    }
    if (exec 3<>"/dev/tcp/$WB_IP/445") 2>/dev/null; then
      say "smbd (pid $pid) listens on $WB_IP:445"
      return 0
    fi
    sleep 0.25
  done
  die "smbd does not listen on $WB_IP:445 after 30 s (log: $WB_DIR/log/smbd.out)"
}

cmd_smbd_down() {
  need_root
  stop_smbd
  rm -f "$SMBD_CONF"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) shift; cmd_env "$@" ;;
  exec) shift; cmd_exec "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  smbd-up) shift; cmd_smbd_up "$@" ;;
  smbd-down) cmd_smbd_down ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
