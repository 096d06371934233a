"""Shared helpers for the packaging tests: paths, the sandbox, `docker run`, message parsing."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IT = ROOT / "integration_tests"
IMAGE = os.environ.get("CONNECTOR_IMAGE", "airbyte/source-aftership:dev")
SANDBOX_BIN = Path(os.environ.get("SANDBOX_BIN", ROOT / "target" / "release" / "aftership-sandbox"))
SANDBOX_KEY = "sandbox-api-key-0123456789"
# The sandbox data set the integration_tests files are made from.
SANDBOX_SEED = 42
SANDBOX_RECORDS = 200

STREAMS = [
    "trackings", "couriers", "courier_connections", "item_returns", "item_tags",
    "query_claims", "query_coverages", "stores", "orders", "products", "fulfillments",
    "memberships", "roles", "shipping_rates", "shipping_labels", "shipping_manifests",
    "shipping_couriers", "cancel_labels", "pickups", "cancel_pickups", "shipper_accounts",
    "locations",
]
FULL_REFRESH_ONLY = {
    "couriers", "item_returns", "products", "memberships", "roles", "shipping_couriers",
    "locations",
}
INCREMENTAL = [s for s in STREAMS if s not in FULL_REFRESH_ONLY]

# e2e/protocol.py: the project's Airbyte protocol validator.
sys.path.insert(0, str(ROOT / "e2e"))
import protocol  # noqa: E402


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def cargo_version() -> str:
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]


def dockerfile_label(name: str) -> str:
    """The value of LABEL `name` in the Dockerfile (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    for line in text.splitlines():
        if line.strip().upper().startswith("LABEL "):
            for m in re.finditer(r'([\w.\-]+)=("([^"]*)"|(\S+))', line):
                if m.group(1) == name:
                    return m.group(3) if m.group(3) is not None else m.group(4)
    raise KeyError(f"no LABEL {name} in Dockerfile")


# ---------------------------------------------------------------------------------------
# The sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sandbox:
    url: str
    proc: subprocess.Popen | None = None

    def truth(self, stream: str) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/__sandbox/truth?stream={stream}", timeout=30) as r:
            return json.load(r)["records"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_sandbox(port: int | None = None, records: int = SANDBOX_RECORDS,
                  extra: list[str] | None = None) -> Sandbox:
    """Start the release sandbox on 127.0.0.1 and wait for its base URL line."""
    if not SANDBOX_BIN.exists():
        raise RuntimeError(f"sandbox binary missing: {SANDBOX_BIN} "
                           "(cargo build --release -p source-aftership -p aftership-sandbox)")
    cmd = [str(SANDBOX_BIN), "--port", str(port or free_port()), "--seed", str(SANDBOX_SEED),
           "--records", str(records), "--no-rate-limit", *(extra or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http"):
        proc.kill()
        raise RuntimeError(f"sandbox did not print its URL (got {line!r})")
    return Sandbox(url=line.rstrip("/"), proc=proc)


def config_for(sandbox_url: str, base: Path = IT / "sample_config.json") -> dict:
    cfg = load_json(base)
    cfg["api_base_url"] = sandbox_url
    return cfg


# ---------------------------------------------------------------------------------------
# Docker


def docker_bin() -> str:
    """The real docker CLI (never the host-network wrapper: tests pass --network host)."""
    real = os.environ.get("REAL_DOCKER") or shutil.which("docker")
    assert real, "docker CLI not found"
    return real


def make_world_readable_dir(path: Path, owner_uid: int | None = None) -> Path:
    """A directory the container user (uid 1000) can read (and, with owner_uid, write)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    if owner_uid is not None:
        if os.geteuid() == 0:
            os.chown(path, owner_uid, owner_uid)
        else:
            path.chmod(0o777)
    return path


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    path.chmod(0o644)
    return path


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def of_type(self, t: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == t]

    def errors(self) -> list[dict]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]


def docker_run(args: list[str], mounts: dict[Path, str] | None = None, *,
               user: str | None = None, entrypoint: str | None = None,
               workdir: str | None = None, env: dict[str, str] | None = None,
               timeout: float = 600, image: str = IMAGE) -> RunResult:
    """`docker run --rm --network host` the image; stdout is validated as Airbyte messages."""
    cmd = [docker_bin(), "run", "--rm", "--network", "host"]
    for host, ctr in (mounts or {}).items():
        cmd += ["-v", f"{host}:{ctr}"]
    if user:
        cmd += ["--user", user]
    if entrypoint is not None:
        cmd += ["--entrypoint", entrypoint]
    if workdir:
        cmd += ["--workdir", workdir]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    cmd += [image, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    res = RunResult(p.returncode, p.stdout, p.stderr)
    res.messages = protocol.validate_output(p.stdout)
    return res


def summarize_failure(res: RunResult) -> str:
    errs = res.errors()
    return (f"exit {res.returncode}; trace errors: {json.dumps(errs)[:2000]}; "
            f"stderr tail: {res.stderr[-2000:]}")


def wait_for(predicate, timeout: float = 30, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


# ---------------------------------------------------------------------------------------
# acceptance-test-config.yml for the CDK standard suite

# The sections the CDK standard suite (airbyte-cdk 7.39.1) collects, and the CAT keys of
# their entries it refuses although CAT at high strictness needs them (it does not run
# the check they configure: airbyte_cdk.test.models.scenario.REMOVED_ENTRY_KEYS).
CDK_SECTIONS = ("spec", "connection", "discovery", "basic_read", "full_refresh")
CAT_ONLY_KEYS = ("expect_records",)


def cdk_view_of_acceptance_config(config: dict) -> dict:
    """acceptance-test-config.yml as the CDK suite can collect it: the same, less the
    CAT-only keys of the entries of the sections it reads."""
    import copy

    out = copy.deepcopy(config)
    for section in CDK_SECTIONS:
        for entry in (out["acceptance_tests"].get(section) or {}).get("tests") or []:
            for key in CAT_ONLY_KEYS:
                entry.pop(key, None)
    return out


def stage_cdk_config(src: Path, dst: Path) -> None:
    import yaml

    dst.write_text(yaml.safe_dump(cdk_view_of_acceptance_config(yaml.safe_load(src.read_text())),
                                  sort_keys=False))
