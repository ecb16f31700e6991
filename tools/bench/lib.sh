# tools/bench/lib.sh: shell helpers the bench scripts share (sourced, not run).
#
# Before sourcing, set BENCH (the prefix of messages, e.g. smbtorture-bench) and ROOT (the
# repository). After bench_lab_env, the lab's variables (tools/lab env) are exported.
# bench_join and bench_start_adjoind take the binaries from $REL (default target/release).

say() { printf '%s: %s\n' "$BENCH" "$*" >&2; }
die() { printf '%s: error: %s\n' "$BENCH" "$*" >&2; exit 1; }

# bench_lab_env: check root and the lab, export its variables; DC is the DC's address.
bench_lab_env() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  "$ROOT/tools/lab" status >/dev/null 2>&1 || die "the lab DC is not up: run tools/lab up"
  eval "$("$ROOT/tools/lab" env)"
  export KRB5_CONFIG
  DC=$ADJOIN_LAB_DC
  [[ $DC == 127.0.0.* ]] || die "the lab DC is not on 127.0.0.x ($DC)"
}

# free_port: a TCP port of 127.0.0.1 nobody listens on now.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stop_group PID: stop a setsid'd daemon's process group (TERM, then KILL after 10 s).
stop_group() {
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

# bench_join DIR FQDN: join FQDN with domain-join (--reuse-account) into DIR/registry.db and
# DIR/krb5.keytab; the log is DIR/join.log.
bench_join() {
  local dir=$1 fqdn=$2
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | ADJOIN_REGISTRY=$dir/registry.db timeout 120 \
    "$REL/domain-join" join "$ADJOIN_LAB_DOMAIN" administrator --name "$fqdn" --dns-server "$DC" \
    --keytab "$dir/krb5.keytab" --password-stdin --reuse-account >"$dir/join.log" 2>&1 ||
    { cat "$dir/join.log" >&2; return 1; }
}

# bench_leave DIR: delete the computer account the join into DIR created (best effort).
bench_leave() {
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | ADJOIN_REGISTRY=$1/registry.db timeout 60 \
    "$REL/domain-join" leave administrator --delete --dns-server "$DC" --password-stdin >/dev/null 2>&1 || true
}

# bench_start_adjoind DIR ARGS...: start adjoind on DIR's registry and keytab, its socket
# DIR/adjoind.sock and log DIR/adjoind.log, with ARGS (e.g. --no-smb, or --listen ADDR);
# sets ADJOIND_PID and waits until the socket answers.
bench_start_adjoind() {
  local dir=$1 i
  shift
  ADJOIN_REGISTRY=$dir/registry.db setsid "$REL/adjoind" "$@" --socket "$dir/adjoind.sock" \
    --keytab "$dir/krb5.keytab" --dns-server "$DC" </dev/null >>"$dir/adjoind.log" 2>&1 &
  ADJOIND_PID=$!
  for i in $(seq 1 120); do
    kill -0 "$ADJOIND_PID" 2>/dev/null || { tail -20 "$dir/adjoind.log" >&2; return 1; }
    "$REL/adjoin" status --socket "$dir/adjoind.sock" --timeout 5 >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  tail -20 "$dir/adjoind.log" >&2
  return 1
}
