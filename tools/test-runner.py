#!/usr/bin/python3
"""tools/test-runner.py: builds the workspace's tests and runs the test binaries side by side.

`cargo test` runs one test binary after another; most of ours spend their time waiting on
the lab's DCs, a daemon's start or a peer's timer, so on two cores running them in lanes
side by side takes well under half the wall time (issue 14). What `cargo test --workspace` runs
is run here, the same way (each binary from its package's directory, the doc tests through
cargo), with three kinds of test file, marked by a line of its own near the top of the
file:

  // tools/test: alone
      It stops or restarts the lab's DC (dc1) that the others need: it runs when no other
      test binary does, except the ones marked `beside`.
  // tools/test: beside
      It needs nothing any test disturbs (the trusted domain's DC, say) and is long: it
      starts first and runs beside everything, `alone` binaries included.
  // tools/test: long
      It runs in a lane like an unmarked binary, but before them: it takes long enough
      (20 s and more) that starting it last would leave the other lanes idle at the end.
  (no mark)
      It runs in one of the lanes, beside other unmarked binaries.

Binaries other than `alone` ones run with ADJOIN_TEST_SHARED_DC=1, so the lab helpers that
stop or restart the DC refuse (and name this mark) instead of breaking their neighbours.
After an `alone` binary fails (or is killed), the DC is resumed and, unless `tools/lab
status` passes, restarted before anything else starts.

Each binary's output is printed whole when it ends, then a summary: the tests passed and
failed over all binaries, the binaries that failed, and the slowest binaries. Exit status 0
only when every binary passed. A binary that runs longer than the deadline is killed (its
whole process group) and counts as failed.

Usage: tools/test-runner.py [--lanes N] [--deadline SECONDS] [-- ARGS FOR EACH BINARY]
  --lanes     unmarked binaries run at once (default: ADJOIN_TEST_LANES or 3)
  --deadline  seconds a binary may run (default: ADJOIN_TEST_DEADLINE or 900)
ARGS after `--` go to every test binary (a name filter, `--skip NAME`, `--exact`); the doc
tests are then left out.
Run from the workspace root, with the lab's environment (`eval "$(tools/lab env)"`).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

MARK = re.compile(r"^//\s*tools/test:\s*(alone|beside|long)\s*$")
RESULT = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored;"
)
START = time.monotonic()


def stamp():
    return "[%4d s]" % (time.monotonic() - START)


class Job:
    """One test binary (or the doc tests), its process and its captured output."""

    def __init__(self, name, argv, cwd, env, kind, mark):
        self.name, self.argv, self.cwd, self.env = name, argv, cwd, env
        self.kind = kind  # "test" (a tests/*.rs file), "unit" or "doc"
        self.mark = mark  # "alone", "beside", "long" or None
        self.counts = [0, 0, 0]  # tests passed, failed, ignored
        self.proc = None
        self.out = None
        self.began = 0.0
        self.took = 0.0
        self.status = None
        self.timed_out = False

    def start(self):
        self.out = tempfile.TemporaryFile()
        self.began = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def poll(self, deadline):
        """True once the process has ended (killed when past the deadline)."""
        if self.proc.poll() is None:
            if time.monotonic() - self.began <= deadline:
                return False
            self.timed_out = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.took = time.monotonic() - self.began
        self.status = self.proc.returncode
        return True

    def output(self):
        self.out.seek(0)
        text = self.out.read().decode("utf-8", "replace")
        self.out.close()
        return text


def mark_of(path):
    """The `tools/test:` mark in a test's source file, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            for _, line in zip(range(60), f):
                m = MARK.match(line.strip())
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


def build():
    """Builds every test target; returns cargo's test artifacts (the binaries to run)."""
    cmd = [
        "cargo", "test", "--workspace", "--no-run", "--quiet",
        "--message-format=json-render-diagnostics",
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        sys.exit("test-runner: `%s` failed (exit %d)" % (" ".join(cmd), proc.returncode))
    artifacts = []
    for line in proc.stdout.decode().splitlines():
        m = json.loads(line)
        if (
            m.get("reason") == "compiler-artifact"
            and m.get("profile", {}).get("test")
            and m.get("executable")
        ):
            artifacts.append(m)
    return artifacts


def jobs_of(artifacts, args, root):
    jobs = []
    for a in artifacts:
        target = a["target"]
        src = target["src_path"]
        pkg_dir = os.path.dirname(a["manifest_path"])
        kind = "test" if "test" in target["kind"] else "unit"
        mark = mark_of(src) if kind == "test" else None
        env = dict(os.environ)
        env["CARGO_MANIFEST_DIR"] = pkg_dir
        if mark != "alone":
            env["ADJOIN_TEST_SHARED_DC"] = "1"
        name = os.path.relpath(src, root)
        if kind == "unit":
            name = "%s (unit tests)" % name
        jobs.append(Job(name, [a["executable"]] + args, pkg_dir, env, kind, mark))
    if not args:
        env = dict(os.environ, ADJOIN_TEST_SHARED_DC="1")
        argv = ["cargo", "test", "--workspace", "--doc", "--quiet"]
        jobs.append(Job("doc tests", argv, root, env, "doc", None))
    return jobs


def recover_the_dc(job, root):
    """After an `alone` binary that failed: resume the DC (a test killed while it held the
    DC stopped never sent SIGCONT) and restart it unless `tools/lab status` is happy, so
    one failure does not fail every binary after it."""
    lab_dir = os.environ.get("ADJOIN_LAB_DIR")
    if not lab_dir:
        return
    try:
        with open(os.path.join(lab_dir, "samba.pid")) as f:
            os.killpg(int(f.read().strip()), signal.SIGCONT)
    except (OSError, ValueError):
        pass
    lab = os.path.join(root, "tools", "lab")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run([lab, "status"], check=False, **quiet).returncode != 0:
        print("%s %s failed and left the lab DC unwell: tools/lab restart"
              % (stamp(), job.name), flush=True)
        subprocess.run([lab, "restart"], check=False)


def report(job):
    if job.timed_out:
        verdict = "KILLED after the %d-s deadline" % job.took
    elif job.status == 0:
        verdict = "ok"
    else:
        verdict = "FAILED (exit %s)" % job.status
    print("\n---- %s %s: %s in %.1f s" % (stamp(), job.name, verdict, job.took), flush=True)
    text = job.output()
    sys.stdout.write(text)
    sys.stdout.flush()
    for line in text.splitlines():
        m = RESULT.match(line)
        if m:
            for i in range(3):
                job.counts[i] += int(m.group(i + 1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lanes", type=int, default=int(os.environ.get("ADJOIN_TEST_LANES", "3")))
    p.add_argument(
        "--deadline", type=float, default=float(os.environ.get("ADJOIN_TEST_DEADLINE", "900"))
    )
    p.add_argument("args", nargs="*", help="passed to each test binary")
    opts = p.parse_args()
    if opts.lanes < 1:
        sys.exit("test-runner: --lanes must be at least 1")
    root = os.getcwd()

    jobs = jobs_of(build(), opts.args, root)
    beside = [j for j in jobs if j.mark == "beside"]
    alone = [j for j in jobs if j.mark == "alone"]
    # The long ones, then the other integration tests, then unit tests (the shortest), so
    # the lanes end close together.
    shared = sorted(
        (j for j in jobs if j.mark in (None, "long")),
        key=lambda j: (j.mark != "long", j.kind != "test", j.name),
    )
    print(
        "%s %d test binaries: %d in %d lanes, %d alone, %d beside them all"
        % (stamp(), len(jobs), len(shared), opts.lanes, len(alone), len(beside)),
        flush=True,
    )

    running, done = [], []

    def reap():
        for j in list(running):
            if j.poll(opts.deadline):
                running.remove(j)
                report(j)
                done.append(j)
                if j.mark == "alone" and (j.timed_out or j.status != 0):
                    recover_the_dc(j, root)

    for j in beside:
        j.start()
        running.append(j)
    # The `alone` binaries first, while only the `beside` ones run with them.
    queue = alone + shared
    while queue or running:
        reap()
        lanes_used = sum(1 for j in running if j.mark in (None, "long"))
        alone_running = any(j.mark == "alone" for j in running)
        while queue and not alone_running:
            nxt = queue[0]
            if nxt.mark == "alone":
                if lanes_used:
                    break
                alone_running = True
            elif lanes_used >= opts.lanes:
                break
            else:
                lanes_used += 1
            queue.pop(0).start()
            running.append(nxt)
        time.sleep(0.05)

    failed = [j for j in done if j.timed_out or j.status != 0]
    passed = sum(j.counts[0] for j in done)
    nfailed = sum(j.counts[1] for j in done)
    ignored = sum(j.counts[2] for j in done)
    print("\n==== %s %d binaries: %d tests passed, %d failed, %d ignored"
          % (stamp(), len(done), passed, nfailed, ignored))
    print("slowest:")
    for j in sorted(done, key=lambda j: -j.took)[:10]:
        print("  %6.1f s  %s" % (j.took, j.name))
    for j in failed:
        print("FAILED: %s" % j.name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
