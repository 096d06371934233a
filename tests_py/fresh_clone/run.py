"""A new user's first steps, on a fresh copy of the repository.

    .venv/bin/python tests_py/fresh_clone/run.py      # a step of scripts/test

1. Copies the files a `git clone` of this tree would hold (tracked and new, not ignored:
   no target/, no .venv, no .tmp) into an empty directory.
2. Gives that copy a target/ in which the connector and the sandbox were never built:
   the third-party crates of this tree's release build are copied in (so the step costs
   one build of our two crates, not of 200), then `cargo clean --release -p
   source-aftership -p aftership-sandbox`. A demo that forgets to build either binary
   fails here, as it would on a cold machine.
3. Runs `scripts/demo` there, as README says, and checks that it speaks within seconds,
   ends with exit 0 and the per-stream summary of both reads, and shows progress while
   it reads; then that a sandbox which cannot start stops the demo at once with its
   stderr, and that scripts/configured-catalog and scripts/last-state refuse bad input
   with a message and exit 1.
4. Runs every shell and Python block of README.md's "Using it" section and of
   docs/aftership.md, in order, exactly as written but for the port (8089 → a free one),
   the image tag (airbyte/source-aftership:dev → this run's CONNECTOR_IMAGE) and
   `.venv`, which is linked to this tree's. Every other fenced block of the two files
   must be one of the commands another step runs (scripts/demo here, scripts/test by
   CI) or a JSON config the connector's spec accepts; a new command that no test runs
   fails this step.

Environment: CONNECTOR_IMAGE (the image scripts/test built; default
airbyte/source-aftership:dev), KEEP_TEST_FILES=1 keeps the copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_PORT = "8089"
README_IMAGE = "airbyte/source-aftership:dev"
# Fenced commands that other steps run, and where.
RUN_ELSEWHERE = {
    "scripts/demo": "step 3 of this script",
    "scripts/test": ".ci/run (CI) and by hand",
}
DEMO_TIMEOUT_S = 1800
WALKTHROUGH_TIMEOUT_S = 1800


def say(msg: str) -> None:
    print(f"[fresh-clone] {msg}", flush=True)


def fail(msg: str) -> None:
    print(f"[fresh-clone] FAILED: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# ------------------------------------------------------------------ the copy

def fresh_copy(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    listed = [f for f in files if f and (ROOT / f.decode()).exists()]
    tar = subprocess.Popen(["tar", "-C", str(ROOT), "--null", "-T", "-", "-c"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    untar = subprocess.Popen(["tar", "-C", str(dest), "-x"], stdin=tar.stdout)
    assert tar.stdin and tar.stdout
    tar.stdout.close()
    tar.stdin.write(b"\0".join(listed))
    tar.stdin.close()
    if tar.wait() != 0 or untar.wait() != 0:
        fail("copying the tree's files failed")
    for leftover in ("target", ".venv", ".tmp", "secrets"):
        if (dest / leftover).exists():
            fail(f"the fresh copy has {leftover}/: it is not ignored by .gitignore")
    say(f"{len(listed)} files copied to {dest}")


def seed_target(dest: Path) -> None:
    release = ROOT / "target" / "release"
    if release.is_dir():
        shutil.copytree(release, dest / "target" / "release", symlinks=True)
        subprocess.run(["cargo", "clean", "--release", "-p", "source-aftership", "-p", "aftership-sandbox"],
                       cwd=dest, check=True)
    for b in ("source-aftership", "aftership-sandbox"):
        if (dest / "target" / "release" / b).exists():
            fail(f"target/release/{b} is still there after cargo clean")
    say("target/ holds third-party crates only" if release.is_dir() else "target/ is empty (cold build)")


# ------------------------------------------------------------------ scripts/demo

def run_demo(dest: Path) -> None:
    say("scripts/demo")
    t0 = time.time()
    p = subprocess.Popen(["scripts/demo"], cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1)
    assert p.stdout
    lines: list[tuple[float, str]] = []
    for line in p.stdout:
        lines.append((time.time() - t0, line.rstrip("\n")))
        print(f"  demo | {line}", end="", flush=True)
        if time.time() - t0 > DEMO_TIMEOUT_S:
            p.kill()
            fail(f"scripts/demo ran longer than {DEMO_TIMEOUT_S} s")
    code = p.wait()
    out = [text for _, text in lines]
    if code != 0:
        fail(f"scripts/demo exited with {code}")
    if not lines or lines[0][0] > 10:
        fail(f"scripts/demo said nothing in its first 10 s (first line at {lines[0][0] if lines else '-'} s)")
    if not out[0].startswith("[demo] "):
        fail(f"scripts/demo's first line does not say what it does: {out[0]!r}")
    for marker in ("check: SUCCEEDED", "discover: 22 streams", "full read (all 22 streams): exit 0",
                   "incremental read from the saved state: exit 0", "[demo] done"):
        if not any(marker in line for line in out):
            fail(f"scripts/demo's output lacks {marker!r}")
    # Both summaries list 22 streams.
    headers = [i for i, line in enumerate(out) if re.match(r"stream\s+records\s+pages\s+state cursor", line)]
    if len(headers) != 2:
        fail(f"expected 2 per-stream summaries, found {len(headers)}")
    for h in headers:
        rows = [line for line in out[h + 1:h + 23] if re.match(r"[a-z_]+\s+\d+\s+\d+\s+", line)]
        if len(rows) != 22:
            fail(f"a summary lists {len(rows)} streams, not 22")
    # Progress while reading: each stream as it finishes, with AfterShip's total where known.
    if not any(re.match(r"\s+trackings\s+complete\s+(\d+) records \(AfterShip reports \1\)", line) for line in out):
        fail("the demo shows no per-stream progress with the reported total for trackings")
    say(f"scripts/demo passed in {time.time() - t0:.0f} s")


def demo_failures(dest: Path) -> None:
    """A step that fails stops the demo at once, with its own cause on screen."""
    # A sandbox that cannot start: its exit status and stderr, then exit 1, within seconds.
    t0 = time.time()
    p = subprocess.run(["scripts/demo", "--records", "x"], cwd=dest, capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 1 or "[demo] FAILED: the sandbox did not start" not in p.stderr \
            or "invalid value 'x' for '--records" not in p.stderr or "exited with status 2" not in p.stderr:
        fail(f"a sandbox that cannot start: exit {p.returncode}, stderr {p.stderr[-1500:]!r}")
    if "check:" in p.stdout or time.time() - t0 > 120:
        fail("the demo went on after the sandbox failed, or took long to stop")
    # The helpers README uses say what is wrong and exit 1.
    bad = [
        (["python3", "scripts/configured-catalog", "no_such_stream"],
         '{"type":"CATALOG","catalog":{"streams":[]}}\n', "no such stream: no_such_stream"),
        (["python3", "scripts/configured-catalog"], '{"type":"LOG","log":{}}\n', "no CATALOG message"),
        (["python3", "scripts/configured-catalog"], "not json\n", "line 1 of the input is not JSON"),
        (["python3", "scripts/last-state"], "not json\n", "line 1 of the input is not JSON"),
    ]
    for cmd, stdin, want in bad:
        q = subprocess.run(cmd, cwd=dest, input=stdin, capture_output=True, text=True, timeout=60)
        if q.returncode != 1 or want not in q.stderr or q.stdout:
            fail(f"`{' '.join(cmd)}` on bad input: exit {q.returncode}, stderr {q.stderr!r}, stdout {q.stdout[:200]!r}")
    say("a failing demo step and bad helper input stop with their cause")


# ------------------------------------------------------------------ the walk-through

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def blocks(path: Path) -> list[tuple[str, str, str]]:
    """(section heading, language, text) of every fenced block."""
    text = path.read_text()
    out = []
    for m in FENCE.finditer(text):
        heading = ""
        for h in re.finditer(r"^(##+) (.*)$", text[:m.start()], re.M):
            if len(h.group(1)) == 2:
                heading = h.group(2).strip()
        out.append((heading, m.group(1), m.group(2)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def placeholders(text: str, port: int, image: str) -> str:
    return text.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}") \
               .replace(f"--port {README_PORT}", f"--port {port}") \
               .replace(README_IMAGE, image)


def spec_properties(dest: Path) -> set[str]:
    p = subprocess.run([str(dest / "target/release/source-aftership"), "spec"], capture_output=True, text=True)
    spec = json.loads(p.stdout.strip().splitlines()[-1])["spec"]["connectionSpecification"]
    return set(spec["properties"])


def classify(dest: Path) -> list[tuple[str, str, str]]:
    """The blocks to run, in order; every other block is checked here."""
    runs, props = [], spec_properties(dest)
    for doc in ("README.md", "docs/aftership.md"):
        for heading, lang, text in blocks(dest / doc):
            where = f"{doc} § {heading or '(top)'}"
            if lang == "json":
                cfg = json.loads(text)
                unknown = set(cfg) - props
                if unknown or not {"api_key", "start_date"} <= set(cfg):
                    fail(f"{where}: the JSON block is not a config the spec accepts: {text.strip()}")
                continue
            if lang not in ("sh", "bash", "python"):
                continue
            if doc == "docs/aftership.md" or heading == "Using it":
                runs.append((where, lang, text))
                continue
            for line in text.splitlines():
                cmd = line.split("#", 1)[0].strip()
                if cmd and cmd not in RUN_ELSEWHERE:
                    fail(f"{where}: `{cmd}` is run by no test (add it to the walk-through or a tested script)")
    return runs


def wait_for_port(port: int, seconds: float) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def walkthrough(dest: Path) -> None:
    port, image = free_port(), os.environ.get("CONNECTOR_IMAGE", README_IMAGE)
    venv = ROOT / ".venv"
    if not (dest / ".venv").exists():
        (dest / ".venv").symlink_to(venv)
    runs = classify(dest)
    say(f"walk-through: {len(runs)} blocks from README.md and docs/aftership.md "
        f"(port {port}, image {image})")
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    checks = 0
    for n, (where, lang, text) in enumerate(runs, 1):
        text = placeholders(text, port, image)
        script.append(f"echo '### block {n}: {where}'")
        if lang == "python":
            first = text.splitlines()[0]
            m = re.match(r"#\s*(\S+\.py)\b", first)
            if not m:
                fail(f"{where}: a Python block must name its file on its first line (`# name.py: ...`)")
            (dest / m.group(1)).write_text(text)
            continue
        # A here-document needs its own lines; each block runs as written.
        script.append(text.rstrip("\n"))
        checks += len(re.findall(r"\bcheck --config", text))
        if re.search(r"aftership-sandbox.*&\s*$", text, re.M):
            # The sandbox starts in the background: wait until it listens (a person
            # typing the next command would not notice the second it takes).
            script.append(f"for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; "
                          f"sleep 0.5; done")
    (dest / ".walkthrough.sh").write_text("\n".join(script) + "\n")
    t0 = time.time()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["IMAGE"] = image  # scripts/build-image's tag, so the walk-through builds this run's image
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(["bash", ".walkthrough.sh"], cwd=dest, stdout=subprocess.PIPE, stderr=err,
                         text=True, env=env)
    assert p.stdout
    kept = []
    for line in p.stdout:
        kept.append(line)
        if line.startswith("### ") or line.startswith("streams read:"):
            print(f"  walk | {line}", end="", flush=True)
        if time.time() - t0 > WALKTHROUGH_TIMEOUT_S:
            p.kill()
            fail(f"the walk-through ran longer than {WALKTHROUGH_TIMEOUT_S} s")
    code = p.wait()
    out = "".join(kept)
    if code != 0:
        err.seek(0)
        print(out[-4000:], file=sys.stderr)
        print(err.read()[-4000:], file=sys.stderr)
        fail(f"the walk-through exited with {code}")
    msgs = []
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                msgs.append(json.loads(line))
            except json.JSONDecodeError:
                fail(f"a command printed a line that is not JSON: {line[:200]}")
    statuses = [m["connectionStatus"]["status"] for m in msgs if m.get("type") == "CONNECTION_STATUS"]
    if statuses.count("SUCCEEDED") != checks or len(statuses) != checks:
        fail(f"{checks} check commands, statuses {statuses}")
    errors = [m for m in msgs if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]
    if errors:
        fail(f"a command of the walk-through wrote a TRACE ERROR: {errors[0]}")
    messages = (dest / "secrets" / "messages.jsonl").read_text().splitlines()
    records = sum(1 for m in messages if json.loads(m).get("type") == "RECORD")
    state = json.loads((dest / "secrets" / "state.json").read_text())
    if records < 1000 or len(state) < 10:
        fail(f"docker run read wrote {records} records and {len(state)} stream states")
    if not any(m.get("type") == "SPEC" for m in msgs) or not any(m.get("type") == "CATALOG" for m in msgs):
        fail("docker run spec/discover printed no SPEC or CATALOG")
    m = re.search(r"^streams read: (\{.*\})$", out, re.M)
    if not m or len(eval(m.group(1), {})) != 22:  # noqa: S307 - our own snippet's dict of counts
        fail(f"the PyAirbyte snippet did not read 22 streams: {m.group(0) if m else out[-2000:]}")
    say(f"walk-through passed in {time.time() - t0:.0f} s: {checks} checks, {records} records "
        f"via docker run, {len(state)} stream states, PyAirbyte read 22 streams")


def main() -> None:
    parent = Path(tempfile.mkdtemp(prefix="source-aftership-fresh-", dir="/var/tmp"))
    dest = parent / "source-aftership"
    dest.mkdir()
    try:
        fresh_copy(dest)
        seed_target(dest)
        run_demo(dest)
        demo_failures(dest)
        walkthrough(dest)
    finally:
        if os.environ.get("KEEP_TEST_FILES"):
            say(f"kept {dest}")
        else:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
