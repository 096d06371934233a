"""Shared fixtures of the e2e suite: binaries, sandboxes, configs, connector runs.

Environment knobs (all optional):
  E2E_NO_BUILD=1          use the binaries already in target/debug (no cargo call)
  E2E_CONNECTOR=/abs/path use this connector binary (implies no build of it)
  E2E_SANDBOX=/abs/path   use this sandbox binary
  E2E_RECORDS=300         sandbox size (trackings; other streams scale from it)
  E2E_SANDBOX_ARGS="--count orders=80"   extra sandbox arguments
  E2E_CONFIG_EXTRA='{"slice_days": 30}'  extra connector config (JSON)
  E2E_SEED=42             sandbox seed
"""

from __future__ import annotations

import atexit
import json
import shutil
from collections import Counter
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

# PyAirbyte reads these at import time: set them before anything imports airbyte.
_PYAB_DIR = Path(tempfile.mkdtemp(prefix="e2e-pyairbyte-"))
atexit.register(shutil.rmtree, _PYAB_DIR, ignore_errors=True)
os.environ["AIRBYTE_OFFLINE_MODE"] = "1"  # no registry look-ups, no telemetry
os.environ["DO_NOT_TRACK"] = "1"
os.environ["AIRBYTE_PROJECT_DIR"] = str(_PYAB_DIR)
os.environ["AIRBYTE_CACHE_ROOT"] = str(_PYAB_DIR / ".cache")
os.environ["AIRBYTE_TEMP_DIR"] = str(_PYAB_DIR / "tmp")
os.environ["AIRBYTE_LOGGING_ROOT"] = str(_PYAB_DIR / "logs")
(_PYAB_DIR / "tmp").mkdir(exist_ok=True)
(_PYAB_DIR / "logs").mkdir(exist_ok=True)
# Loopback only: never route the sandbox through a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

sys.path.insert(0, str(Path(__file__).parent))
import protocol  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
API_KEY = "sandbox-api-key-0123456789"
RECORDS = int(os.environ.get("E2E_RECORDS", "300"))
# The connector paces Commerce at the documented 10 req/s for the organisation and
# fulfillments take one request per order, so the order count sets the read time.
SANDBOX_ARGS = os.environ.get("E2E_SANDBOX_ARGS", "--count orders=80").split()
SEED = int(os.environ.get("E2E_SEED", "42"))
START_DATE = "2020-01-01T00:00:00Z"
# The start date reaches back a year (returns); with the default 7-day incremental slices
# every created_at-filtered Shipping stream would cost ~52 requests at the connector's
# 10 req/s pace. 30-day slices keep the suite fast and still walk several windows.
CONFIG_EXTRA = json.loads(os.environ.get("E2E_CONFIG_EXTRA", '{"slice_days": 30}'))

STREAMS = [
    "trackings", "couriers", "courier_connections", "item_returns", "item_tags", "query_claims",
    "query_coverages", "stores", "orders", "products", "fulfillments", "memberships", "roles",
    "shipping_rates", "shipping_labels", "shipping_manifests", "shipping_couriers", "cancel_labels",
    "pickups", "cancel_pickups", "shipper_accounts", "locations",
]
FULL_REFRESH_ONLY = {"couriers", "item_returns", "products", "memberships", "roles",
                     "shipping_couriers", "locations"}
PRIMARY_KEY = {s: ["id"] for s in STREAMS}
PRIMARY_KEY.update({
    "couriers": ["slug"], "shipping_couriers": ["slug"], "roles": ["code"], "locations": ["location_id"],
    "orders": ["store_id", "id"], "products": ["store_id", "id"],
    "fulfillments": ["store_id", "order_id", "id"],
})
CURSOR = {s: "updated_at" for s in STREAMS if s not in FULL_REFRESH_ONLY}
CURSOR["item_tags"] = "created_at"

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------
# Binaries


@dataclass(frozen=True)
class Binaries:
    connector: Path
    sandbox: Path


def _build() -> None:
    cmd = ["cargo", "build", "-p", "source-aftership", "--bin", "source-aftership",
           "-p", "aftership-sandbox", "--bin", "aftership-sandbox"]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    if p.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` failed (exit {p.returncode}):\n{p.stderr[-4000:]}", pytrace=False)


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    conn = os.environ.get("E2E_CONNECTOR")
    sbx = os.environ.get("E2E_SANDBOX")
    if not os.environ.get("E2E_NO_BUILD") and not (conn and sbx):
        _build()
    b = Binaries(Path(conn or TARGET / "debug" / "source-aftership").resolve(),
                 Path(sbx or TARGET / "debug" / "aftership-sandbox").resolve())
    for p in (b.connector, b.sandbox):
        if not os.access(p, os.X_OK):
            pytest.fail(f"binary not found or not executable: {p}", pytrace=False)
    return b


# --------------------------------------------------------------------------
# Sandbox


class Sandbox:
    """One running aftership-sandbox process on a free loopback port."""

    def __init__(self, binary: Path, workdir: Path, *, seed: int = SEED, records: int = RECORDS,
                 extra: list[str] | None = None):
        self.log_path = workdir / f"sandbox-{seed}-{time.monotonic_ns()}.log"
        self.args = [str(binary), "--port", "0", "--seed", str(seed), "--records", str(records),
                     "--no-rate-limit", *SANDBOX_ARGS, *(extra or [])]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._log, text=True)
        first: list[str] = []
        t = threading.Thread(target=lambda: first.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(30)
        line = first[0].strip() if first else ""
        if not line.startswith("http"):
            self.stop()
            pytest.fail(f"sandbox did not print its base URL (got {line!r}); "
                        f"args {self.args}; log:\n{self.log_path.read_text()[-2000:]}", pytrace=False)
        self.url = line.rstrip("/")
        self._start_date: str | None = None
        # Drain stdout so the sandbox never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with _opener.open(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def truth(self, stream: str) -> dict:
        return self._call("GET", f"/__sandbox/truth?stream={stream}")

    def locations_truth(self, shipper_accounts: list[dict]) -> set[tuple]:
        """With no `locations_searches` configured, the connector runs one search per distinct
        (carrier slug + address) of the shipper accounts (documented in the spec). The truth is
        the union of the sandbox truth of those searches."""
        searches: list[list[tuple[str, str]]] = []
        for acc in shipper_accounts:
            slug, addr = acc.get("slug"), acc.get("address")
            if not slug or not isinstance(addr, dict):
                continue
            params = [("slug", slug)]
            for param, fields in (("country", ["country"]), ("postal_code", ["postal_code"]),
                                  ("city", ["city"]), ("state", ["state"]),
                                  ("street", ["street1", "street_1", "street"])):
                val = next((addr[f] for f in fields if isinstance(addr.get(f), str) and addr[f]), None)
                if val:
                    params.append((param, val))
            if len(params) > 1 and params not in searches:
                searches.append(params)
        out: set[tuple] = set()
        for params in searches:
            q = urllib.parse.urlencode([("stream", "locations"), *params])
            try:
                out |= {(r["id"],) for r in self._call("GET", f"/__sandbox/truth?{q}")["records"]}
            except urllib.error.HTTPError:
                pass  # the sandbox refuses this search; the connector logs and skips it
        return out

    def advance(self, seconds: int, update_fraction: float, insert_fraction: float) -> dict:
        return self._call("POST", "/__sandbox/advance", {"seconds": seconds, "update_fraction": update_fraction,
                                                         "insert_fraction": insert_fraction})

    def stats(self) -> dict:
        return self._call("GET", "/__sandbox/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/__sandbox/stats/reset")

    @property
    def start_date(self) -> str:
        """Midnight UTC of the day before the oldest timestamp the sandbox serves, so every
        record is in range and incremental windows do not start years early."""
        if self._start_date is None:
            oldest = None
            for stream in STREAMS:
                if stream == "locations":
                    continue
                for r in self.truth(stream)["records"]:
                    for f in ("created_at", "updated_at"):
                        if r.get(f):
                            t = datetime.fromisoformat(r[f].replace("Z", "+00:00")).astimezone(timezone.utc)
                            oldest = t if oldest is None or t < oldest else oldest
            if oldest is None:
                self._start_date = START_DATE
            else:
                day = (oldest - timedelta(days=1)).date()
                self._start_date = f"{day.isoformat()}T00:00:00Z"
        return self._start_date

    def config(self, **overrides: Any) -> dict:
        cfg = {"api_key": API_KEY, "start_date": self.start_date, "api_base_url": self.url, **CONFIG_EXTRA}
        cfg.update(overrides)
        return {k: v for k, v in cfg.items() if v is not None}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="session")
def start_sandbox(binaries: Binaries, tmp_path_factory):
    """Factory: start_sandbox(seed=..., records=..., extra=[...]) -> Sandbox, stopped at session end."""
    started: list[Sandbox] = []
    workdir = tmp_path_factory.mktemp("sandboxes")

    def start(**kw: Any) -> Sandbox:
        s = Sandbox(binaries.sandbox, workdir, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def sandbox(start_sandbox) -> Sandbox:
    """A shared sandbox that tests must not mutate (no advance, no faults)."""
    return start_sandbox()


# --------------------------------------------------------------------------
# Running the connector


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict]
    seconds: float

    def of_type(self, t: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == t]

    def trace_errors(self) -> list[dict]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    def describe(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit {self.returncode}\n--- stdout (tail) ---\n"
                f"{self.stdout[-3000:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}")


class Connector:
    def __init__(self, binary: Path, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self._n = 0

    def write(self, name: str, obj: Any) -> Path:
        self._n += 1
        p = self.workdir / f"{self._n:03d}-{name}"
        p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
        return p

    def run(self, *args: str | Path, validate: bool = True, secrets: tuple[str, ...] = (API_KEY,),
            timeout: float = 300) -> Run:
        """Run one command; by default validate every stdout line and check no secret leaks."""
        argv = [str(self.binary), *map(str, args)]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.workdir,
                           env={**os.environ, "RUST_BACKTRACE": "0"})
        dt = time.monotonic() - t0
        run = Run(argv, p.returncode, p.stdout, p.stderr, [], dt)
        for s in secrets:
            assert s not in p.stdout, f"secret leaked on stdout\n{run.describe()}"
            assert s not in p.stderr, f"secret leaked on stderr\n{run.describe()}"
        assert "panicked at" not in p.stderr, f"connector panicked\n{run.describe()}"
        if validate:
            try:
                run.messages = protocol.validate_output(p.stdout)
            except protocol.ProtocolError as e:
                raise AssertionError(f"{e}\n$ {' '.join(argv)} (exit {p.returncode})") from None
        return run

    def spec(self) -> Run:
        return self.run("spec")

    def check(self, config: dict | str) -> Run:
        return self.run("check", "--config", self.write("config.json", config))

    def discover(self, config: dict | str) -> Run:
        return self.run("discover", "--config", self.write("config.json", config))

    def read(self, config: dict | str, catalog: dict | str, state: Any = None, **kw: Any) -> Run:
        args = ["read", "--config", self.write("config.json", config),
                "--catalog", self.write("catalog.json", catalog)]
        if state is not None:
            args += ["--state", self.write("state.json", state)]
        return self.run(*args, **kw)


@pytest.fixture(scope="session")
def connector(binaries: Binaries, tmp_path_factory) -> Connector:
    return Connector(binaries.connector, tmp_path_factory.mktemp("connector"))


def configured_catalog(catalog: dict, streams: list[str] | None = None, incremental: bool = True) -> dict:
    """Configure the discovered streams: incremental where supported (if asked), else full refresh."""
    out = []
    for s in catalog["streams"]:
        if streams is not None and s["name"] not in streams:
            continue
        inc = incremental and "incremental" in s["supported_sync_modes"]
        c = {"stream": s, "sync_mode": "incremental" if inc else "full_refresh",
             "destination_sync_mode": "append_dedup" if inc else "overwrite"}
        if inc and s.get("default_cursor_field"):
            c["cursor_field"] = s["default_cursor_field"]
        if s.get("source_defined_primary_key"):
            c["primary_key"] = s["source_defined_primary_key"]
        out.append(c)
    return {"streams": out}


@pytest.fixture(scope="session")
def discovered(connector: Connector, sandbox: Sandbox) -> dict:
    run = connector.discover(sandbox.config())
    assert run.returncode == 0, run.describe()
    cats = run.of_type("CATALOG")
    assert len(cats) == 1, run.describe()
    return cats[0]["catalog"]


def truth_keys(truth: dict, stream: str) -> set[tuple]:
    """Primary-key tuples of the sandbox truth, in PRIMARY_KEY order."""
    out = set()
    for r in truth["records"]:
        vals = []
        for k in PRIMARY_KEY[stream]:
            vals.append(r["id"] if k == PRIMARY_KEY[stream][-1] else r[k])
        out.add(tuple(vals))
    return out


def truth_problems(records_by_stream: dict[str, list[dict]], sandbox: "Sandbox", what: str) -> list[str]:
    """Compare emitted records with the sandbox truth: exact key sets, no duplicates;
    locations (derived searches, no truth) must be non-empty with unique location_id."""
    problems = []
    for stream in STREAMS:
        recs = records_by_stream.get(stream, [])
        keys = record_keys(recs, stream)
        dup = [k for k, n in Counter(keys).items() if n > 1]
        if dup:
            problems.append(f"{what} {stream}: {len(dup)} keys emitted twice, e.g. {dup[:3]}")
        if stream == "locations":
            if not recs or any(None in k for k in keys):
                problems.append(f"{what} locations: {len(recs)} rows, keys {keys[:3]}")
                continue
            want = sandbox.locations_truth(records_by_stream.get("shipper_accounts", []))
        else:
            want = truth_keys(sandbox.truth(stream), stream)
        got = set(keys)
        if got != want:
            problems.append(f"{what} {stream}: emitted {len(got)} keys, truth has {len(want)}; "
                            f"missing {sorted(want - got)[:3]}, extra {sorted(got - want)[:3]}")
    return problems


def record_keys(records: list[dict], stream: str) -> list[tuple]:
    return [tuple(r.get(k) for k in PRIMARY_KEY[stream]) for r in records]
