#!/usr/bin/env bash
# tools/bench/kinit.sh: `adjoin kinit` and MIT `kinit` side by side, in one run, against the
# lab KDC (tools/lab). Both get a TGT for alice with her password on stdin, each run into its
# own fresh credential cache; the two alternate (A B, then B A, ...) so drift in the machine's
# load hits both alike. Prints median and p90 wall time, median peak RSS, and adjoin/MIT.
#
#   tools/bench/kinit.sh            # N=30 pairs
#   N=100 tools/bench/kinit.sh
#
# Needs: the lab up (tools/lab up), MIT kinit/klist (krb5-user, installed by the lab),
# GNU time (/usr/bin/time; installed here with apt-get when missing and run as root).
# ADJOIN=path/to/adjoin skips the release build.
set -euo pipefail

N=${N:-30}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PRINCIPAL=alice@EXAMPLE.TEST

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

"$ROOT/tools/lab" status >/dev/null 2>&1 || die "the lab is not up: run tools/lab up"
eval "$("$ROOT/tools/lab" env)"
export KRB5_CONFIG

if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" -eq 0 ] || die "/usr/bin/time missing: apt-get install time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
command -v kinit >/dev/null && command -v klist >/dev/null || die "MIT kinit/klist missing (krb5-user)"

if [ -z "${ADJOIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet -p adjoin-tools --bin adjoin)
  ADJOIN=$ROOT/target/release/adjoin
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# run NAME I: one kinit into its own cache; appends "ms rss_kib" to $WORK/NAME.
run() {
  local name=$1 i=$2 cache=$WORK/$1-$2.ccache t0 t1
  local cmd
  case $name in
    adjoin) cmd=("$ADJOIN" kinit "$PRINCIPAL" --password-stdin --kdc "$ADJOIN_LAB_DC" -c "$cache") ;;
    mit) cmd=(env KRB5CCNAME="FILE:$cache" kinit "$PRINCIPAL") ;;
  esac
  t0=$(date +%s%N)
  printf '%s\n' "$ADJOIN_LAB_ALICE_PASSWORD" |
    /usr/bin/time -f %M -o "$WORK/rss" "${cmd[@]}" >/dev/null 2>"$WORK/err" ||
    die "$name kinit failed: $(cat "$WORK/err")"
  t1=$(date +%s%N)
  # Both caches must hold a valid TGT (MIT klist reads adjoin's too).
  klist -s -c "FILE:$cache" || die "$name wrote no valid ticket to $cache"
  rm -f "$cache"
  echo "$(( (t1 - t0) / 1000 )) $(tail -n1 "$WORK/rss")" >>"$WORK/$name"
}

# Warm-up (page cache, the KDC's own caches); not counted.
run adjoin 0 && run mit 0 && : >"$WORK/adjoin" && : >"$WORK/mit"

for ((i = 1; i <= N; i++)); do
  if ((i % 2)); then run adjoin "$i"; run mit "$i"; else run mit "$i"; run adjoin "$i"; fi
done

# stats FILE COLUMN: "median p90" (nearest rank) of a column.
stats() {
  cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = int(0.9 * NR); if (p < 0.9 * NR) p++
    print m, v[p] }'
}

read -r a_med a_p90 < <(stats "$WORK/adjoin" 1)
read -r m_med m_p90 < <(stats "$WORK/mit" 1)
read -r a_rss _ < <(stats "$WORK/adjoin" 2)
read -r m_rss _ < <(stats "$WORK/mit" 2)

cpus=$(nproc)
model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mit_version=$(dpkg-query -W -f '${Version}' krb5-user 2>/dev/null || echo unknown)
printf 'kinit %s against the lab KDC %s: %d alternating pairs, %s\n' \
  "$PRINCIPAL" "$ADJOIN_LAB_DC" "$N" "$(date -u +%Y-%m-%dT%H:%MZ)"
printf 'machine: %s, %s CPUs, load average %s; MIT krb5-user %s\n\n' \
  "$model" "$cpus" "$(cut -d' ' -f1-3 /proc/loadavg)" "$mit_version"
awk -v am="$a_med" -v ap="$a_p90" -v ar="$a_rss" -v mm="$m_med" -v mp="$m_p90" -v mr="$m_rss" 'BEGIN {
  printf "%-18s %12s %12s %16s\n", "", "median ms", "p90 ms", "peak RSS KiB"
  printf "%-18s %12.2f %12.2f %16d\n", "adjoin kinit", am / 1000, ap / 1000, ar
  printf "%-18s %12.2f %12.2f %16d\n", "MIT kinit", mm / 1000, mp / 1000, mr
  printf "%-18s %12.2f %12.2f %16.2f\n", "adjoin / MIT", am / mm, ap / mp, ar / mr
}'
