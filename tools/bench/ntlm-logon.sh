#!/usr/bin/env bash
# tools/bench/ntlm-logon.sh: NTLM pass-through logons per second through one NETLOGON secure
# channel, Adjoin (`adjoin logon-bench`) and Samba's winbind (tools/bench/winbind/member.sh)
# side by side in one run, against the same lab DC, the same user, the same count and
# concurrency. The two alternate, round after round, so drift in the machine's load hits
# both alike; each side first proves that the right password is accepted and a wrong one
# refused. Prints the median logons/s of each, per concurrency, and their ratio.
#
#   tools/bench/ntlm-logon.sh                          # ROUNDS=3 COUNT=2000 CONCURRENCY="1 4"
#   ROUNDS=5 COUNT=4000 CONCURRENCY="1 2 4 8" tools/bench/ntlm-logon.sh
#
# ADJOIN=path skips the release build of `adjoin`. The Adjoin side joins a machine of its own
# (LOGONBENCH) into a private registry and deletes it afterwards; winbind's member (WBREF)
# is left running for the next run (`tools/bench/winbind/member.sh down` removes it).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-2000}
CONCURRENCY=${CONCURRENCY:-"1 4"}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

"$ROOT/tools/lab" status >/dev/null 2>&1 || die "the lab is not up: run tools/lab up"
eval "$("$ROOT/tools/lab" env)"

if [ -z "${ADJOIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet -p adjoin-tools --bin adjoin --bin domain-join)
  ADJOIN=$ROOT/target/release/adjoin
fi
DOMAIN_JOIN=$(dirname "$ADJOIN")/domain-join

"$ROOT/tools/bench/winbind/member.sh" up >&2

WORK=$(mktemp -d)
export ADJOIN_REGISTRY=$WORK/registry.db
cleanup() {
  printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" |
    "$DOMAIN_JOIN" leave --delete administrator --dns-server "$ADJOIN_LAB_DC" --password-stdin \
      >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
printf '%s\n' "$ADJOIN_LAB_ADMIN_PASSWORD" |
  "$DOMAIN_JOIN" join "$ADJOIN_LAB_DOMAIN" "$ADJOIN_LAB_ADMIN" --name "logonbench.$ADJOIN_LAB_DOMAIN" \
    --dns-server "$ADJOIN_LAB_DC" --no-keytab --reuse-account --password-stdin >/dev/null \
  || die "joining LOGONBENCH failed"

adjoin_run() {
  printf '%s\n' "$ADJOIN_LAB_ALICE_PASSWORD" |
    "$ADJOIN" logon-bench alice --password-stdin --dns-server "$ADJOIN_LAB_DC" \
      --count "$COUNT" --concurrency "$1" --json
}
winbind_run() {
  "$ROOT/tools/bench/winbind/member.sh" bench --user alice \
    --password-env ADJOIN_LAB_ALICE_PASSWORD --count "$COUNT" --concurrency "$1" --json 2>/dev/null
}

: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONCURRENCY; do
    for side in adjoin winbind; do
      rate=$("${side}_run" "$c" | $PY -c 'import json,sys; print(json.load(sys.stdin)["logons_per_second"])') \
        || die "$side failed at concurrency $c (round $round)"
      printf '%s %s %s\n' "$side" "$c" "$rate" >>"$WORK/results"
      printf 'round %s  %-8s concurrency %-3s %8.1f logons/s\n' "$round" "$side" "$c" "$rate" >&2
    done
  done
done

$PY - "$WORK/results" "$COUNT" "$ROUNDS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"NTLM pass-through logons/s against the lab DC, median of {sys.argv[3]} rounds of "
      f"{sys.argv[2]} logons (alice, NTLMv2, NetrLogonSamLogonEx)")
print(f"{'concurrency':>11}  {'adjoin':>10}  {'winbind':>10}  {'adjoin/winbind':>14}")
for c in sorted({int(r[1]) for r in rows}):
    med = {s: statistics.median(float(r[2]) for r in rows if r[0] == s and int(r[1]) == c)
           for s in ("adjoin", "winbind")}
    print(f"{c:>11}  {med['adjoin']:>10.1f}  {med['winbind']:>10.1f}  {med['adjoin'] / med['winbind']:>14.2f}")
PY
