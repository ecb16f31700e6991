#!/usr/bin/env bash
# tools/bench/join.sh: Adjoin's `domain-join join` and `adcli join` side by side, in one run,
# against the lab DC (tools/lab). Each run joins a fresh computer account (its own name and
# keytab); the two alternate so drift in the machine's load hits both alike; the account is
# deleted after each run, outside the timing. Prints median and p90 wall time of each and
# their ratio (issue 5's target: Adjoin no slower than adcli).
#
#   tools/bench/join.sh          # N=10 pairs
#   N=30 tools/bench/join.sh
#
# Both get the DC's address (adcli --domain-controller, domain-join --dns-server) and the
# admin password on stdin. ADJOIN_DOMAIN_JOIN=path skips the release build.
set -euo pipefail

N=${N:-10}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

"$ROOT/tools/lab" status >/dev/null 2>&1 || die "the lab is not up: run tools/lab up"
eval "$("$ROOT/tools/lab" env)"
command -v adcli >/dev/null || die "adcli missing (apt-get install adcli)"

if [ -z "${ADJOIN_DOMAIN_JOIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet -p adjoin-tools --bin domain-join)
  ADJOIN_DOMAIN_JOIN=$ROOT/target/release/domain-join
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
: >"$WORK/adjoin"
: >"$WORK/adcli"

cleanup() {
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" |
    adcli delete-computer --domain="$ADJOIN_LAB_DOMAIN" --domain-controller="$ADJOIN_LAB_DC" \
      --login-user="$ADJOIN_LAB_ADMIN" --stdin-password "$1" >/dev/null 2>&1 || true
}

# run NAME I: one join of a fresh account; appends its wall time in microseconds.
run() {
  local name=$1 i=$2 host t0 t1
  host=bench-$name-$i
  cleanup "${host^^}"
  local cmd
  case $name in
    adjoin) cmd=(env ADJOIN_REGISTRY="$WORK/$host.db" "$ADJOIN_DOMAIN_JOIN" join "$ADJOIN_LAB_DOMAIN"
      "$ADJOIN_LAB_ADMIN" --name "$host.$ADJOIN_LAB_DOMAIN" --dns-server "$ADJOIN_LAB_DC"
      --keytab "$WORK/$host.keytab" --password-stdin) ;;
    adcli) cmd=(adcli join --domain="$ADJOIN_LAB_DOMAIN" --domain-controller="$ADJOIN_LAB_DC"
      --login-user="$ADJOIN_LAB_ADMIN" --stdin-password --computer-name="${host^^}"
      --host-fqdn="$host.$ADJOIN_LAB_DOMAIN" --host-keytab="$WORK/$host.keytab") ;;
  esac
  t0=$(date +%s%N)
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" | "${cmd[@]}" >/dev/null 2>"$WORK/err" ||
    die "$name join failed: $(cat "$WORK/err")"
  t1=$(date +%s%N)
  klist -k "$WORK/$host.keytab" | grep -qF "${host^^}"'$@' || die "$name wrote no keytab entry"
  echo "$(( (t1 - t0) / 1000 ))" >>"$WORK/$name"
  cleanup "${host^^}"
}

# Warm-up, not counted.
run adjoin 0 && run adcli 0 && : >"$WORK/adjoin" && : >"$WORK/adcli"
for i in $(seq 1 "$N"); do
  if (( i % 2 )); then run adjoin "$i"; run adcli "$i"; else run adcli "$i"; run adjoin "$i"; fi
done

stat() { # file -> "median p90" in ms
  sort -n "$1" | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.9+0.999)]; printf "%.1f %.1f", m/1000, p/1000}'
}
read -r am ap <<<"$(stat "$WORK/adjoin")"
read -r cm cp <<<"$(stat "$WORK/adcli")"
printf '\njoin of a fresh computer account, N=%s alternating pairs, lab DC %s\n' "$N" "$ADJOIN_LAB_DC"
printf '%-22s %10s %10s\n' "" "median ms" "p90 ms"
printf '%-22s %10s %10s\n' "adjoin domain-join" "$am" "$ap"
printf '%-22s %10s %10s\n' "adcli join" "$cm" "$cp"
awk -v a="$am" -v c="$cm" -v ap="$ap" -v cp="$cp" 'BEGIN {printf "%-22s %10.2f %10.2f\n", "adjoin / adcli", a/c, ap/cp}'
