#!/usr/bin/env bash
# tools/bench/smbtorture.sh: Samba's smbtorture against adjoind's file server, suite by
# suite, as the domain's administrator; optionally next to a Samba member smbd serving a
# share from the same lab DC in the same run. Prints, per suite, how many subtests passed,
# failed, were skipped or did not run, and the seconds the suite took. A suite name runs
# every test whose name starts with it, as smbtorture does (smb2.compound also runs
# smb2.compound_find.* and smb2.compound_async.*). A full run takes about 4 minutes for
# adjoind and 10 for smbd (2 cores).
#
#   tools/bench/smbtorture.sh [--reference] [--json] [--skip-build] [--keep]
#                             [--suites 'smb2.read smb2.dir ...'] [--write-passing FILE]
#
#   --reference       also run the suites against tools/bench/winbind/member.sh's member
#                     (WBREF, 127.0.0.3) with smbd serving one share (`member.sh smbd-up`:
#                     read only = no, vfs objects = acl_xattr streams_xattr); smbd is
#                     stopped at the end, the member stays up
#   --json            print one JSON object (progress goes to stderr)
#   --skip-build      use the binaries as they are (no cargo build)
#   --keep            keep the work directory (adjoind.log, smbtorture's output per suite)
#   --suites LIST     the suites to run (default: the list below)
#   --write-passing FILE
#                     write adjoind's passing subtests to FILE (tests/smbtorture/passing.txt)
#
# Environment: SUITE_TIMEOUT=300 seconds for one suite in one smbtorture process; the
# subtests it did not report (it hung, or smbtorture died) run again one by one, each with
# TEST_TIMEOUT=60 seconds, within another SUITE_TIMEOUT for the suite (what is left after
# that is "not run"). ADJOIN_BIN_DIR (default target/release) holds domain-join, regshell,
# adjoin and adjoind; ADJOIN_COMMIT names their commit in --write-passing's header (default:
# `git describe --always --dirty` of this tree). ADJOIN_LOG is adjoind's log filter
# (default info). TORTURE_MEMBER (default smbtorture) is the member's name, so two runs
# side by side join as different computer accounts.
#
# What runs (nothing in /etc changes; only 127.0.0.x addresses): a fresh member SMBTORTURE
# (domain-join join --reuse-account, its own registry and keytab in a work directory under
# /tmp), adjoind serving SMB on a free 127.0.0.1 port with one share `torture`, a directory
# of the work directory with mode 1777, configured under
# HKEY_THIS_MACHINE\Services\adjoind\Shares\torture; then for each suite
#   smbtorture --format=subunit --fullname //127.0.0.1/torture -p PORT \
#     -U 'EXAMPLE\administrator%...' SUITE
# Needs root and the lab (tools/lab up); the Samba side needs the member (set up here).
set -euo pipefail
export LC_ALL=C

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
BENCH=smbtorture-bench
REL=${ADJOIN_BIN_DIR:-$ROOT/target/release}
MEMBER=$ROOT/tools/bench/winbind/member.sh
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"

SUITES="smb2.connect smb2.read smb2.getinfo smb2.dir smb2.create smb2.lock smb2.oplock
  smb2.lease smb2.compound smb2.credits smb2.session smb2.rename smb2.ioctl smb2.durable-open
  smb2.durable-v2-open smb2.notify smb2.sharemode smb2.delete-on-close-perms rpc.srvsvc"
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
SHARE=torture
JSON=0 DO_BUILD=1 KEEP=0 REFERENCE=0 PASSING=""
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=1 ;;
    --reference) REFERENCE=1 ;;
    --skip-build) DO_BUILD=0 ;;
    --keep) KEEP=1 ;;
    --suites) SUITES=${2:?--suites needs a list}; shift ;;
    --write-passing) PASSING=${2:?--write-passing needs a file}; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "smbtorture.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for v in SUITE_TIMEOUT TEST_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[ -z "$PASSING" ] || PASSING=$(readlink -f "$PASSING")

bench_lab_env
command -v smbtorture >/dev/null || die "smbtorture missing (Debian's samba-testsuite)"
command -v smbclient >/dev/null || die "smbclient missing"

WORK=$(mktemp -d /tmp/adjoin-smbtorture.XXXXXX)
chmod 0755 "$WORK"
A=$WORK/adjoin
mkdir -p "$A" "$WORK/reference"
ADJOIND_PID="" JOINED=0 SMBD_UP=0
cleanup() {
  local rc=$?
  [ -n "$ADJOIND_PID" ] && stop_group "$ADJOIND_PID"
  [ "$JOINED" = 1 ] && bench_leave "$A"
  [ "$SMBD_UP" = 1 ] && { "$MEMBER" smbd-down >/dev/null 2>&1 || true; }
  if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build
if [ "$DO_BUILD" = 1 ]; then
  say "building adjoin-tools (release)"
  (cd "$ROOT" && timeout 1800 cargo build --release --quiet -p adjoin-tools) >"$WORK/build.log" 2>&1 ||
    { tail -15 "$WORK/build.log" >&2; die "the build failed (or use --skip-build)"; }
fi
for f in domain-join regshell adjoin adjoind; do
  [ -x "$REL/$f" ] || die "$REL/$f missing"
done

# smbtorture's own configuration: the lab's names, nothing from /etc/samba.
cat >"$WORK/client.conf" <<EOF
[global]
    workgroup = $ADJOIN_LAB_NETBIOS
    realm = $ADJOIN_LAB_REALM
    client min protocol = SMB2_02
EOF
CRED="$ADJOIN_LAB_NETBIOS\\administrator%$ADJOIN_LAB_ADMIN_PASSWORD"

# torture OUT SECONDS HOST PORT ARGS...: one smbtorture run (subunit into OUT) of at most
# SECONDS; its exit status (124: timed out). When smbtorture crashes (it does, on some
# servers' answers), the shell's notice of it goes to /dev/null; OUT has its backtrace.
torture() {
  local out=$1 secs=$2 host=$3 port=$4 rc=0
  shift 4
  # In WORK: smbtorture leaves its output directory in the working directory when killed.
  { (cd "$WORK" && timeout -k 5 "$secs" smbtorture -s "$WORK/client.conf" --format=subunit \
    --fullname "//$host/$SHARE" -p "$port" -U "$CRED" "$@") >"$out" 2>&1 || rc=$?; } 2>/dev/null
  return $rc
}

# list_tests SUITE: the subtests smbtorture would run, named as --fullname reports them
# (--list names a test of a one-test case `case.case`; the report says `case`).
list_tests() {
  smbtorture --list "$1" 2>/dev/null | grep -v '^smbtorture ' |
    sed -E 's/\.([^.]+)\.\1$/.\1/'
}

# results OUT: `status<TAB>name` for each subtest smbtorture reported in OUT (subunit v1).
results() {
  awk '
    inside { if ($0 == "]") inside = 0; next }
    /^(success|successful|failure|fail|error|skip|xfail|uxsuccess): / {
      st = $1; sub(/:$/, "", st); name = $0; sub(/^[a-z]+: /, "", name)
      if (name ~ / \[$/) { sub(/ \[$/, "", name); inside = 1 }
      else if (name ~ / \[.*\]$/) sub(/ \[.*\]$/, "", name)
      printf "%s\t%s\n", st, name
    }' "$1"
}

# run_suite SIDE HOST PORT SUITE: append `suite<TAB>status<TAB>name` lines to SIDE/results.tsv.
run_suite() {
  local side=$1 host=$2 port=$3 suite=$4 dir=$WORK/$1 rc=0 start=$SECONDS t name
  local base=$dir/${suite//\//_}
  list_tests "$suite" >"$base.list"
  [ -s "$base.list" ] || { say "$side: $suite: smbtorture lists no subtests"; return 0; }
  say "$side: $suite ($(wc -l <"$base.list") subtests)"
  torture "$base.out" "$SUITE_TIMEOUT" "$host" "$port" "$suite" || rc=$?
  [ $rc -eq 124 ] && say "$side: $suite did not finish within $SUITE_TIMEOUT s"
  results "$base.out" >"$base.res"
  # What smbtorture did not report (a hang, a crash): one by one, each with TEST_TIMEOUT.
  local retries=$SECONDS
  while IFS= read -r name; do
    grep -qxF "$name" <(cut -f2 "$base.res") && continue
    if ((SECONDS - retries >= SUITE_TIMEOUT)); then
      printf 'notrun\t%s\n' "$name" >>"$base.res"
      continue
    fi
    t=$base.one.out rc=0
    torture "$t" "$TEST_TIMEOUT" "$host" "$port" "$name" || rc=$?
    cat "$t" >>"$base.retry.out"
    if results "$t" | grep -qP "\t\Q$name\E$"; then
      results "$t" | grep -P "\t\Q$name\E$" >>"$base.res"
    elif [ $rc -eq 124 ]; then
      printf 'timeout\t%s\n' "$name" >>"$base.res"
    else
      printf 'error\t%s\n' "$name" >>"$base.res"
    fi
  done <"$base.list"
  awk -v s="$suite" -F'\t' '!seen[$2]++ { printf "%s\t%s\t%s\n", s, $1, $2 }' "$base.res" >>"$dir/results.tsv"
  printf '%s\t%s\n' "$suite" $((SECONDS - start)) >>"$dir/seconds.tsv"
}

# run_side SIDE HOST PORT [CHECK]: every suite; CHECK (a command) runs after each suite.
run_side() {
  local side=$1 host=$2 port=$3 check=${4:-true} suite
  : >"$WORK/$side/results.tsv"
  : >"$WORK/$side/seconds.tsv"
  for suite in $SUITES; do
    run_suite "$side" "$host" "$port" "$suite"
    $check "$suite"
  done
}

# ---- adjoind
wait_share() { # wait_share HOST PORT: until smbclient -L lists the share (60 s; the last answer is shown if not)
  local i out
  for i in $(seq 1 120); do
    out=$(smbclient -s "$WORK/client.conf" -L "$1" -p "$2" -U "$CRED" 2>&1) &&
      grep -q "^[[:space:]]*$SHARE[[:space:]]" <<<"$out" && return 0
    sleep 0.5
  done
  printf '%s\n' "$out" | tail -5 >&2
  return 1
}
adjoind_alive() { # after a suite: adjoind must still run (restarted if not, and said)
  kill -0 "$ADJOIND_PID" 2>/dev/null && return 0
  say "adjoind: exited during $1; restarting it (log: $A/adjoind.log)"
  echo "adjoind exited during $1" >>"$WORK/adjoin.notes"
  start_adjoin_smb || die "adjoind does not start again"
}
start_adjoin_smb() {
  ADJOIN_LOG=${ADJOIN_LOG:-info} bench_start_adjoind "$A" --listen "127.0.0.1:$PORT" || return 1
  wait_share 127.0.0.1 "$PORT" || { tail -20 "$A/adjoind.log" >&2; return 1; }
}
PORT=$(free_port)
MEMBER_NAME=${TORTURE_MEMBER:-smbtorture}
say "adjoin: joining $MEMBER_NAME, serving //127.0.0.1/$SHARE on port $PORT"
bench_join "$A" "$MEMBER_NAME.$ADJOIN_LAB_DOMAIN" || die "the join failed"
JOINED=1
mkdir -m 1777 "$WORK/share"
chmod 1777 "$WORK/share"
ADJOIN_REGISTRY=$A/registry.db "$REL/regshell" set_value \
  "HKEY_THIS_MACHINE\\Services\\adjoind\\Shares\\$SHARE" Path REG_SZ "$WORK/share" >/dev/null
start_adjoin_smb || die "adjoind does not serve the share (log: $A/adjoind.log)"
START_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
run_side adjoin 127.0.0.1 "$PORT" adjoind_alive

# ---- Samba: member.sh's member with smbd serving a share from the same DC
if [ "$REFERENCE" = 1 ]; then
  mkdir -m 1777 "$WORK/reference/share"
  chmod 1777 "$WORK/reference/share"
  say "samba: member.sh up, smbd serving $SHARE"
  timeout 300 "$MEMBER" up >"$WORK/reference/up.log" 2>&1 || { tail -20 "$WORK/reference/up.log" >&2; die "member.sh up failed"; }
  SMBD_UP=1
  timeout 120 "$MEMBER" smbd-up "$SHARE" "$WORK/reference/share" >>"$WORK/reference/up.log" 2>&1 ||
    { tail -20 "$WORK/reference/up.log" >&2; die "member.sh smbd-up failed"; }
  eval "$("$MEMBER" env)"
  wait_share "$ADJOIN_WBREF_IP" 445 || die "smbd does not list $SHARE"
  run_side reference "$ADJOIN_WBREF_IP" 445
fi

# ---- report
COMMIT=${ADJOIN_COMMIT:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)}
VERSION=$(smbtorture --version 2>/dev/null | head -1 | sed 's/^smbtorture //' || true)
if [ -n "$PASSING" ]; then
  mkdir -p "$(dirname "$PASSING")"
  {
    echo "# The smbtorture subtests adjoind passes, one a line, as smbtorture --fullname names them."
    echo "# Produced on $START_DATE by tools/bench/smbtorture.sh --write-passing: adjoind built"
    echo "# from commit $COMMIT, smbtorture $VERSION, as $ADJOIN_LAB_NETBIOS\\administrator"
    echo "# against the lab DC. Suites run:"
    echo "$SUITES" | xargs -n 6 echo "#  "
    echo "# tools/tests/smbtorture.rs runs the suites it names among these and fails on any that fails."
    awk -F'\t' '$2 == "success" { print $3 }' "$A/results.tsv" | sort -u
  } >"$PASSING"
  say "wrote $(grep -vc '^#' "$PASSING") passing subtests to $PASSING"
fi
/usr/bin/python3 - "$WORK" "$JSON" "$REFERENCE" "$START_DATE" "$COMMIT" "$VERSION" "$SUITES" <<'EOF'
import json, os, sys
work, as_json, reference, date, commit, version, suites = sys.argv[1:]
suites = suites.split()
KIND = {"success": "passed", "successful": "passed", "failure": "failed", "fail": "failed",
        "error": "failed", "uxsuccess": "failed", "timeout": "failed", "skip": "skipped",
        "xfail": "skipped", "notrun": "not_run"}
sides = [("adjoin", "adjoind")] + ([("reference", "samba")] if reference == "1" else [])
out = {"date": date, "commit": commit, "smbtorture": version, "sides": {}}
for d, label in sides:
    counts = {s: {"subtests": 0, "passed": 0, "failed": 0, "skipped": 0, "not_run": 0, "seconds": 0}
              for s in suites}
    tests = {}
    path = os.path.join(work, d, "results.tsv")
    for line in open(path) if os.path.exists(path) else []:
        suite, status, name = line.rstrip("\n").split("\t", 2)
        counts[suite]["subtests"] += 1
        counts[suite][KIND.get(status, "failed")] += 1
        tests[name] = status
    secs = os.path.join(work, d, "seconds.tsv")
    for line in open(secs) if os.path.exists(secs) else []:
        suite, n = line.split("\t")
        counts[suite]["seconds"] = int(n)
    total = {k: sum(c[k] for c in counts.values())
             for k in ("subtests", "passed", "failed", "skipped", "not_run", "seconds")}
    out["sides"][label] = {"suites": counts, "total": total, "tests": tests}
notes = os.path.join(work, "adjoin.notes")
if os.path.exists(notes):
    out["notes"] = open(notes).read().splitlines()
if as_json == "1":
    print(json.dumps(out, indent=1))
    sys.exit(0)
labels = [label for _, label in sides]
print(f"smbtorture {version} as administrator, {date}, adjoind at {commit}")
head = f"{'suite':28} {'subtests':>8}" + "".join(f"  {l + ': pass/fail/skip/not run (s)':>38}" for l in labels)
print(head)
print("-" * len(head))
def cell(c):
    return f"{c['passed']}/{c['failed']}/{c['skipped']}/{c['not_run']} ({c['seconds']})"
for s in suites + ["total"]:
    row = [out["sides"][l]["total"] if s == "total" else out["sides"][l]["suites"][s] for l in labels]
    n = max(r["subtests"] for r in row)
    print(f"{s:28} {n:>8}" + "".join(f"  {cell(r):>38}" for r in row))
for n in out.get("notes", []):
    print("note:", n)
EOF
