"""The Python half of scripts/demo: check, discover, a full read, the sandbox clock
moved, an incremental read, each with what it is doing on the way.

    python3 scripts/demo-driver.py CONNECTOR_BINARY WORK_DIR

WORK_DIR holds config.json (written by scripts/demo); catalog.json and state.json are
written there. Exits 1, naming the cause, as soon as a step fails.
"""
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HEARTBEAT_S = 5.0
CONFIGURED_CATALOG = Path(__file__).resolve().parent / "configured-catalog"


def fail(message):
    print(f"[demo] FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def say(message):
    print(f"[demo] {message}", flush=True)


def messages(lines):
    """Airbyte messages from stdout lines; anything else on stdout is an error."""
    for line in lines:
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            fail(f"the connector wrote a line that is not JSON to stdout: {line[:200]!r}")


def trace_errors(msgs):
    return [m["trace"]["error"] for m in msgs
            if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    msgs = list(messages(p.stdout.splitlines()))
    return p, msgs


def explain(step, p, msgs):
    """The connector's own account of a failed step."""
    errors = trace_errors(msgs)
    if errors:
        for e in errors:
            print(f"  | {e.get('failure_type', '?')}: {e.get('message')}", file=sys.stderr)
    elif p.stderr.strip():
        for line in p.stderr.strip().splitlines()[-10:]:
            print(f"  | {line}", file=sys.stderr)
    fail(f"{step} exited with status {p.returncode}")


def check(binary, cfg):
    say("check: can the key reach every AfterShip product?")
    p, msgs = run(binary, "check", "--config", cfg)
    status = [m["connectionStatus"] for m in msgs if m.get("type") == "CONNECTION_STATUS"]
    if p.returncode != 0 or not status:
        explain("check", p, msgs)
    print(f"check: {status[-1]['status']} - {status[-1].get('message', '')}", flush=True)
    if status[-1]["status"] != "SUCCEEDED":
        fail(f"check did not succeed: {status[-1].get('message', '')}")


def discover(binary, cfg, catalog_path):
    say("discover: the streams and their schemas")
    p, msgs = run(binary, "discover", "--config", cfg)
    catalogs = [m["catalog"] for m in msgs if m.get("type") == "CATALOG"]
    if p.returncode != 0 or not catalogs:
        explain("discover", p, msgs)
    print(f"discover: {len(catalogs[-1]['streams'])} streams", flush=True)
    # The configured catalog as README's walk-through makes it: scripts/configured-catalog.
    made = subprocess.run([sys.executable, str(CONFIGURED_CATALOG)], input=p.stdout,
                          capture_output=True, text=True)
    if made.returncode != 0:
        fail(f"scripts/configured-catalog failed: {made.stderr.strip()}")
    with open(catalog_path, "w") as f:
        f.write(made.stdout)


class Progress:
    """Per-stream record counts, estimates and statuses, printed while a read runs."""

    def __init__(self):
        self.counts, self.estimates, self.done = {}, {}, set()
        # Streams waiting on AfterShip's rate limit: name -> quota reset (epoch s).
        self.limited = {}
        self.started, self.last = time.time(), time.time()
        self.lock, self.finished = threading.Lock(), threading.Event()
        # A progress line every HEARTBEAT_S even while no message arrives (a long
        # rate-limit wait): a read is never silent.
        threading.Thread(target=self.beat, daemon=True).start()

    def beat(self):
        while not self.finished.wait(1.0):
            with self.lock:
                if time.time() - self.last >= HEARTBEAT_S:
                    self.heartbeat()

    def seen(self, m):
        with self.lock:
            self.seen_locked(m)

    def seen_locked(self, m):
        t = m.get("type")
        if t == "RECORD":
            s = m["record"]["stream"]
            self.counts[s] = self.counts.get(s, 0) + 1
        elif t == "TRACE" and m["trace"].get("type") == "ESTIMATE":
            e = m["trace"]["estimate"]
            self.estimates[e["name"]] = e.get("row_estimate")
        elif t == "TRACE" and m["trace"].get("type") == "STREAM_STATUS":
            st = m["trace"]["stream_status"]
            name = st["stream_descriptor"]["name"]
            reasons = [r for r in st.get("reasons") or [] if r.get("type") == "RATE_LIMITED"]
            if reasons:
                reset = reasons[0].get("rate_limited", {}).get("quota_reset")
                self.limited[name] = reset / 1000 if reset else None
                wait = f" for {max(0.0, self.limited[name] - time.time()):.1f} s" if reset else ""
                print(f"  {name:22} rate limited: waiting{wait}", flush=True)
            elif st["status"] == "RUNNING" and name in self.limited:
                del self.limited[name]
            if st["status"] in ("COMPLETE", "INCOMPLETE"):
                self.limited.pop(name, None)
                self.done.add(name)
                print(f"  {name:22} {st['status'].lower():10} {self.of(name)}", flush=True)

    def of(self, name):
        n = self.counts.get(name, 0)
        est = self.estimates.get(name)
        return f"{n:,} records" + (f" (AfterShip reports {est:,})" if est is not None else "")

    def heartbeat(self):
        self.last = time.time()
        running = [s for s in sorted(set(self.counts) | set(self.estimates)) if s not in self.done]
        parts = []
        for s in running:
            est = self.estimates.get(s)
            parts.append(f"{s} {self.counts.get(s, 0):,}" + (f"/{est:,}" if est is not None else ""))
        total = sum(self.counts.values())
        limited = f"; rate limited: {', '.join(sorted(self.limited))}" if self.limited else ""
        print(f"  ... {time.time() - self.started:.0f} s, {total:,} records so far"
              + (f"; reading {', '.join(parts)}" if parts else "") + limited, flush=True)


def sync(binary, cfg, catalog_path, state_out, label, state_in=None):
    say(f"{label}: streams are listed as they finish, with a progress line every {HEARTBEAT_S:.0f} s")
    args = [binary, "read", "--config", cfg, "--catalog", catalog_path]
    if state_in:
        args += ["--state", state_in]
    t = time.time()
    err = tempfile.TemporaryFile(mode="w+")  # a file, so a chatty stderr can never block the read
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    progress, last_state, summary, errors = Progress(), {}, {}, []
    for m in messages(proc.stdout):
        progress.seen(m)
        if m["type"] == "STATE":
            last_state[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        elif m["type"] == "LOG" and m["log"]["message"].startswith("summary "):
            msg = m["log"]["message"]
            kv = dict(p.split("=", 1) for p in msg.split(" state=", 1)[0].split(" ")[1:] if "=" in p)
            summary[kv["stream"]] = (int(kv["records"]), int(kv["pages"]), msg.split(" state=", 1)[1])
        elif m["type"] == "LOG" and m["log"]["level"] in ("WARN", "ERROR"):
            print(f"  {m['log']['level']}: {m['log']['message']}", flush=True)
        elif m["type"] == "TRACE" and m["trace"]["type"] == "ERROR":
            errors.append(m["trace"]["error"])
            print(f"  ERROR ({m['trace']['error'].get('failure_type')}): {m['trace']['error']['message']}", flush=True)
    progress.finished.set()
    code = proc.wait()
    err.seek(0)
    stderr = err.read()
    secs = time.time() - t
    with open(state_out, "w") as f:
        json.dump(list(last_state.values()), f)
    print(f"\n{label}: exit {code}, {sum(progress.counts.values())} records in {secs:.1f} s")
    print(f"{'stream':22} {'records':>8} {'pages':>6}  state cursor")
    for s in sorted(summary):
        rec, pages, state = summary[s]
        st = json.loads(state) if state != "-" else {}
        cur = st.get("updated_at") or st.get("created_at") or (
            f"{len(st['states'])} stores, newest " + max(x["cursor"]["updated_at"] for x in st["states"])
            if st.get("states") else "-")
        print(f"{s:22} {rec:>8} {pages:>6}  {cur}")
    sys.stdout.flush()
    if code != 0 or errors:
        if not errors and stderr.strip():
            for line in stderr.strip().splitlines()[-10:]:
                print(f"  | {line}", file=sys.stderr)
        fail(f"{label} exited with status {code}")


def advance(base):
    say("moving the sandbox clock one hour: 2 % of the records change, 2 % are new")
    req = urllib.request.Request(
        f"{base}/__sandbox/advance", method="POST",
        data=json.dumps({"seconds": 3600, "update_fraction": 0.02, "insert_fraction": 0.02}).encode(),
        headers={"content-type": "application/json"})
    try:
        adv = json.load(urllib.request.urlopen(req, timeout=30))
    except OSError as e:
        fail(f"the sandbox did not answer POST /__sandbox/advance: {e}")
    print(f"\nsandbox clock +1 h: {sum(adv['updated'].values())} records updated, "
          f"{sum(adv['inserted'].values())} inserted", flush=True)


def main():
    binary, work = sys.argv[1], sys.argv[2]
    cfg = f"{work}/config.json"
    with open(cfg) as f:
        base = json.load(f)["api_base_url"]
    catalog, state = f"{work}/catalog.json", f"{work}/state.json"
    check(binary, cfg)
    discover(binary, cfg, catalog)
    sync(binary, cfg, catalog, state, "full read (all 22 streams)")
    advance(base)
    sync(binary, cfg, catalog, f"{work}/state2.json", "incremental read from the saved state", state)
    say(f"done; the config, catalog and states are in {work}")


if __name__ == "__main__":
    main()
