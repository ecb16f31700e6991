#!/usr/bin/env bash
# tools/bench/smbshell.sh: `smbshell get` next to `smbclient get` of the same file from the
# same server in one run (issue 13's target: smbshell at least as fast). The server is an
# adjoind (release build) serving a share on a free 127.0.0.1 port, as the lab's alice over
# NTLM, with the file in the share's directory (so the disk under it is the same for both).
# Rounds alternate the two clients (and which goes first); each get goes to a fresh local
# file, checked against the file's size; prints MiB/s per round, the medians and the ratio.
# The local files go to a tmpfs of their own: on a disk, the kernel's writeback of the
# previous round's gigabyte lands in the next round's time (smbclient swung between 104
# and 1,073 MiB/s that way), which measures the disk rather than the client.
#
#   tools/bench/smbshell.sh [--size MIB] [--rounds N] [--put] [--skip-build] [--disk] [--json]
#
#   --size MIB      the file's size (default 1024)
#   --rounds N      rounds per client (default 3)
#   --put           put the file (from a tmpfs, to a share on a tmpfs) instead of get
#   --skip-build    use target/release as it is (REL=dir overrides the directory)
#   --disk          write the local files to /tmp's disk instead of a tmpfs
#   --json          one JSON object on stdout (progress on stderr)
#
# Needs root and the lab (tools/lab up); joins a member SHELLBENCH (--reuse-account) and
# deletes it at the end. Uses about twice the file's size in /tmp.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
BENCH=smbshell-bench
REL=${REL:-$ROOT/target/release}
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"

SIZE=1024 ROUNDS=3 DO_BUILD=1 JSON=0 DISK=0 OP=get
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=${2:?--size needs MiB}; shift ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
    --skip-build) DO_BUILD=0 ;;
    --disk) DISK=1 ;;
    --put) OP=put ;;
    --json) JSON=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "smbshell.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || die "--size must be a positive number of MiB"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive number"

bench_lab_env
command -v smbclient >/dev/null || die "smbclient missing"
if [ "$DO_BUILD" = 1 ]; then
  say "building the release binaries"
  (cd "$ROOT" && cargo build --release --quiet --bin domain-join --bin adjoind --bin adjoin \
    --bin regshell --bin smbshell) || die "the build failed"
fi
for f in domain-join adjoind adjoin regshell smbshell; do
  [ -x "$REL/$f" ] || die "$REL/$f missing"
done

WORK=$(mktemp -d /tmp/adjoin-smbshell-bench.XXXXXX)
chmod 0755 "$WORK"
A=$WORK/member SHARE_DIR=$WORK/share LOCAL=$WORK/local
mkdir -p "$A" "$SHARE_DIR" "$LOCAL"
chmod 1777 "$SHARE_DIR"
ADJOIND_PID="" JOINED=0 MOUNTED=0 SHARE_MOUNTED=0
cleanup() {
  local rc=$?
  [ -n "$ADJOIND_PID" ] && stop_group "$ADJOIND_PID"
  [ "$MOUNTED" = 1 ] && umount "$LOCAL"
  [ "$SHARE_MOUNTED" = 1 ] && umount "$SHARE_DIR"
  [ "$JOINED" = 1 ] && bench_leave "$A"
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$DISK" = 0 ]; then
  # One file at a time, with room to spare.
  mount -t tmpfs -o "size=$((SIZE + 64))m,mode=0755" tmpfs "$LOCAL" ||
    die "cannot mount a tmpfs for the local files (run as root, or give --disk)"
  MOUNTED=1
  if [ "$OP" = put ]; then
    # The server writes what is put: its side on a tmpfs too (the file, and one put).
    mount -t tmpfs -o "size=$((2 * SIZE + 64))m,mode=1777" tmpfs "$SHARE_DIR" ||
      die "cannot mount a tmpfs for the share"
    SHARE_MOUNTED=1
  fi
fi
PORT=$(free_port)
say "joining SHELLBENCH, serving //127.0.0.1/data on port $PORT"
bench_join "$A" "shellbench.$ADJOIN_LAB_DOMAIN" || die "the join failed"
JOINED=1
ADJOIN_REGISTRY=$A/registry.db "$REL/regshell" set_value \
  "HKEY_THIS_MACHINE\\Services\\adjoind\\Shares\\data" Path REG_SZ "$SHARE_DIR" >/dev/null ||
  die "cannot configure the share"
ADJOIN_LOG=warn bench_start_adjoind "$A" --listen "127.0.0.1:$PORT" || die "adjoind does not start"

say "writing a $SIZE MiB file"
head -c "$((SIZE * 1024 * 1024))" /dev/urandom >"$SHARE_DIR/big.bin"
chmod 0644 "$SHARE_DIR/big.bin"
BYTES=$(stat -c %s "$SHARE_DIR/big.bin")
if [ "$OP" = put ]; then
  mv "$SHARE_DIR/big.bin" "$LOCAL/big.bin"
fi

USER_ARG="$ADJOIN_LAB_NETBIOS\\alice"
PASS=$ADJOIN_LAB_ALICE_PASSWORD
for i in $(seq 1 120); do
  smbclient "//127.0.0.1/data" -p "$PORT" -U "$USER_ARG%$PASS" -c ls >/dev/null 2>&1 && break
  [ "$i" = 120 ] && die "adjoind does not serve the share (log: $A/adjoind.log)"
  sleep 0.5
done

# get_with CLIENT: one get (or, with --put, put) of big.bin into a fresh file; prints
# the seconds it took and the CPU seconds (user + system) the client spent.
get_with() {
  local out=$LOCAL/$1.bin start end cpu=$WORK/cpu
  [ "$OP" = put ] && out=$SHARE_DIR/$1.bin
  rm -f "$out" "$LOCAL/.$1.bin.smbshell-partial"
  sync
  start=$(date +%s.%N)
  case $1 in
    smbshell)
      (cd "$LOCAL" && printf '%s\n' "$PASS" | /usr/bin/time -f '%U %S' -o "$cpu" \
        "$REL/smbshell" "//127.0.0.1/data" --port "$PORT" \
        -U "$USER_ARG" --password-stdin -c "$OP big.bin smbshell.bin") >/dev/null ||
        die "smbshell $OP failed" ;;
    smbclient)
      (cd "$LOCAL" && /usr/bin/time -f '%U %S' -o "$cpu" \
        smbclient "//127.0.0.1/data" -p "$PORT" -U "$USER_ARG%$PASS" \
        -c "$OP big.bin smbclient.bin") >/dev/null 2>&1 || die "smbclient $OP failed" ;;
  esac
  end=$(date +%s.%N)
  [ "$(stat -c %s "$out")" = "$BYTES" ] || die "$1 got $(stat -c %s "$out") bytes, not $BYTES"
  rm -f "$out"
  echo "$(echo "$end - $start" | bc -l) $(awk '{ print $1 + $2 }' "$cpu")"
}

# One untimed get by each client first: the server's page cache holds the file, and the
# VM's memory behind the tmpfs has been touched once (on this VM the first touch of guest
# memory is several times slower, which made single rounds swing 3x in CPU time).
say "warming up (one untimed $OP each)"
get_with smbshell >/dev/null
get_with smbclient >/dev/null

declare -a SHELL_S CLIENT_S SHELL_CPU CLIENT_CPU
for r in $(seq 1 "$ROUNDS"); do
  # Which client goes first alternates, so neither always meets the other's leftovers
  # (dirty pages being written back, a warmer page cache).
  if ((r % 2)); then
    s=$(get_with smbshell)
    c=$(get_with smbclient)
  else
    c=$(get_with smbclient)
    s=$(get_with smbshell)
  fi
  SHELL_S+=("${s% *}") CLIENT_S+=("${c% *}") SHELL_CPU+=("${s#* }") CLIENT_CPU+=("${c#* }")
  say "round $r: smbshell $(echo "$SIZE / ${s% *}" | bc -l | xargs printf '%.1f') MiB/s (${s#* } s CPU), smbclient $(echo "$SIZE / ${c% *}" | bc -l | xargs printf '%.1f') MiB/s (${c#* } s CPU)"
done

/usr/bin/python3 - "$SIZE" "$JSON" "$(git -C "$ROOT" describe --always --dirty)" \
  "${SHELL_S[*]}" "${CLIENT_S[*]}" "$(smbclient --version | head -1)" "$DISK" \
  "${SHELL_CPU[*]}" "${CLIENT_CPU[*]}" "$OP" <<'EOF'
import json, statistics, sys
size, as_json, commit = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
shell = [float(x) for x in sys.argv[4].split()]
client = [float(x) for x in sys.argv[5].split()]
version = sys.argv[6]
local = "a tmpfs" if sys.argv[7] == "0" else "/tmp's disk"
shell_cpu = [float(x) for x in sys.argv[8].split()]
client_cpu = [float(x) for x in sys.argv[9].split()]
# CPU seconds per GiB moved: what each client costs, less at the mercy of the VM's
# scheduling than the rate.
per_gib = lambda cpu: statistics.median(cpu) * 1024 / size
op = sys.argv[10]
rate = lambda secs: size / statistics.median(secs)
r_shell, r_client = rate(shell), rate(client)
out = {
    "commit": commit, "op": op, "size_mib": size, "local": local, "rounds": len(shell), "smbclient": version,
    "smbshell_mib_s": round(r_shell, 1), "smbclient_mib_s": round(r_client, 1),
    "ratio": round(r_shell / r_client, 2),
    "smbshell_seconds": shell, "smbclient_seconds": client,
    "smbshell_cpu_s_per_gib": round(per_gib(shell_cpu), 3),
    "smbclient_cpu_s_per_gib": round(per_gib(client_cpu), 3),
    "smbshell_cpu_seconds": shell_cpu, "smbclient_cpu_seconds": client_cpu,
}
if as_json:
    print(json.dumps(out))
else:
    where = f"from adjoind (release, 127.0.0.1) to {local}" if op == "get" else f"from {local} to adjoind (release, 127.0.0.1; its share on a tmpfs)"
    print(f"{op} of {size} MiB {where}, {len(shell)} rounds, commit {commit}")
    print(f"  smbshell   {r_shell:8.1f} MiB/s (median)")
    print(f"  smbclient  {r_client:8.1f} MiB/s (median; {version})")
    print(f"  ratio      {r_shell / r_client:8.2f} (smbshell / smbclient)")
    print(f"  CPU        smbshell {per_gib(shell_cpu):.2f} s/GiB, smbclient {per_gib(client_cpu):.2f} s/GiB (user + system, medians)")
EOF
