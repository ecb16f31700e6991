#!/usr/bin/env bash
# tools/bench/build.sh: the clean build time of what tools/demo builds (the release binaries
# domain-join, regshell, adjoin, adjoind and the NSS and PAM modules), from an empty target
# directory, and the ten slowest compilation units (cargo --timings). Run it after a change
# that may move the build time; docs/benchmarks.md keeps the figures.
#
#   tools/bench/build.sh              # release, as tools/demo
#   PROFILE=dev tools/bench/build.sh  # the debug build tools/test starts with
#
# Needs cargo and libsqlite3-dev (the registry links the system's SQLite). Uses a temporary
# target directory, removed afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROFILE=${PROFILE:-release}
BENCH=build-bench

say() { printf '%s: %s\n' "$BENCH" "$*" >&2; }

TARGET=$(mktemp -d)
trap 'rm -rf "$TARGET"' EXIT
profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)

say "clean $PROFILE build of the demo's binaries into $TARGET ($(nproc) CPUs)"
start=$(date +%s.%N)
(cd "$ROOT" && export CARGO_TARGET_DIR=$TARGET &&
  cargo build "${profile_flag[@]}" --quiet --timings \
    --bin domain-join --bin regshell --bin adjoin --bin adjoind &&
  cargo build "${profile_flag[@]}" --quiet --timings -p adjoin-nss -p adjoin-pam)
end=$(date +%s.%N)

/usr/bin/python3 - "$start" "$end" "$(git -C "$ROOT" rev-parse --short HEAD)" \
  "$TARGET"/cargo-timings/cargo-timing-*.html <<'EOF'
import json, re, sys
start, end, commit, reports = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
total = end - start
print(f"clean build: {int(total // 60)} min {total % 60:.0f} s (commit {commit})")
units = []
for html in reports:
    m = re.search(r"const UNIT_DATA = (\[.*?\]);", open(html, encoding="utf-8").read(), re.S)
    if m:
        units.extend(json.loads(m.group(1)))
if not units:
    print("(no unit data in the timings reports)")
    sys.exit(0)
units.sort(key=lambda u: u.get("duration", 0), reverse=True)
print("ten slowest units (seconds, wall):")
for u in units[:10]:
    what = u["name"] + (f" ({u['target'].strip()})" if u.get("target", "").strip() else "")
    print(f"  {u['duration']:7.1f}  {what}")
EOF
