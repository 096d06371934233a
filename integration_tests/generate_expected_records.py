#!/usr/bin/env python3
"""Regenerate integration_tests/expected_records.jsonl (and the two state files) from
the AfterShip sandbox, read through the built connector.

    .venv/bin/python integration_tests/generate_expected_records.py            # host binary
    .venv/bin/python integration_tests/generate_expected_records.py --image airbyte/source-aftership:dev

It starts target/release/aftership-sandbox on a free loopback port (seed 42, 200
records, no rate limit; the same data run.sh serves), reads every stream of
configured_catalog.json without state, and writes the first --per-stream records of each
stream, in the order the connector emitted them, as
{"stream": ..., "data": {...}, "emitted_at": <ms>} lines.

The sandbox dates its data relative to the moment it starts, so a later read returns the
same records (same ids, same fields) with shifted timestamps. The expected-records test
(tests_py/packaging/test_expected_records.py) therefore compares every field exactly
except date and date-time values inside strings.

With --states it also rewrites sample_state.json (cursors at the median of each
incremental stream's records) and abnormal_state.json (every cursor at
2099-01-01T00:00:00Z). orders and fulfillments keep one cursor per Commerce store
({"states": [{"partition": {"store_id": ...}, "cursor": {"updated_at": ...}}]}, the
shape src/state.rs reads): sample_state.json lists every store of the sandbox;
abnormal_state.json names none and gives the fallback cursor of the stores a state does
not name ({"state": {"updated_at": ...}}), so it holds for any account.

It always rewrites spec.json, the `spec` the connector prints (acceptance-test-config.yml's
spec_path).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests_py" / "packaging"))
import packaging_helpers as h  # noqa: E402

FUTURE = "2099-01-01T00:00:00Z"
PER_STORE = {"orders", "fulfillments"}


def read_all(sandbox_url: str, binary: Path | None, image: str | None) -> list[dict]:
    catalog = h.IT / "configured_catalog.json"
    with tempfile.TemporaryDirectory(dir=ROOT / ".tmp") as d:
        dpath = Path(d)
        dpath.chmod(0o755)
        cfg = h.write_json(dpath / "config.json", h.config_for(sandbox_url))
        cat = h.write_json(dpath / "catalog.json", h.load_json(catalog))
        if image:
            cmd = [h.docker_bin(), "run", "--rm", "--network", "host", "-v", f"{dpath}:/secrets",
                   image, "read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json"]
        else:
            cmd = [str(binary), "read", "--config", str(cfg), "--catalog", str(cat)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        sys.exit(f"read failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    messages = h.protocol.validate_output(p.stdout)
    errors = [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    if errors:
        sys.exit(f"read reported errors: {json.dumps(errors)[:3000]}")
    return messages


def utc(value: str) -> str:
    """A record's cursor value as the connector writes state: UTC, whole seconds, Z."""
    t = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def cursor_of(stream: str) -> str:
    return "created_at" if stream == "item_tags" else "updated_at"


def state_message(stream: str, value: str, stores: list[str] | None) -> dict:
    """A STREAM state of `stream` at `value`; per-store streams name `stores`, or with
    None, no store and `value` as the fallback of every store."""
    field = cursor_of(stream)
    if stream in PER_STORE and stores is None:
        blob = {"state": {field: value}}
    elif stream in PER_STORE:
        blob = {"states": [{"partition": {"store_id": s}, "cursor": {field: value}} for s in stores]}
    else:
        blob = {field: value}
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "source-aftership")
    ap.add_argument("--image", help="read through this Docker image instead of the host binary")
    ap.add_argument("--per-stream", type=int, default=3)
    ap.add_argument("--states", action="store_true", help="also rewrite sample_state.json and abnormal_state.json")
    args = ap.parse_args()

    (ROOT / ".tmp").mkdir(exist_ok=True)
    spec = subprocess.run([str(args.binary), "spec"], capture_output=True, text=True, check=True)
    specs = [m["spec"] for m in h.protocol.validate_output(spec.stdout) if m["type"] == "SPEC"]
    (h.IT / "spec.json").write_text(json.dumps(specs[0], indent=2) + "\n")
    print("wrote integration_tests/spec.json")
    sandbox = h.start_sandbox()
    try:
        messages = read_all(sandbox.url, args.binary, args.image)
        stores = sorted(r["id"] for r in sandbox.truth("stores"))
    finally:
        sandbox.stop()

    by_stream: dict[str, list[dict]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            by_stream.setdefault(m["record"]["stream"], []).append(m["record"])
    missing = [s for s in h.STREAMS if not by_stream.get(s)]
    if missing:
        sys.exit(f"no records for: {missing}")

    out = h.IT / "expected_records.jsonl"
    with out.open("w") as f:
        for s in h.STREAMS:
            for r in by_stream[s][: args.per_stream]:
                f.write(json.dumps({"stream": s, "data": r["data"], "emitted_at": r["emitted_at"]},
                                   sort_keys=True) + "\n")
    print(f"wrote {out.relative_to(ROOT)}: {args.per_stream} records x {len(h.STREAMS)} streams")

    if args.states:
        sample, abnormal = [], []
        for s in h.INCREMENTAL:
            values = sorted(utc(r["data"][cursor_of(s)]) for r in by_stream[s] if r["data"].get(cursor_of(s)))
            median = values[len(values) // 2] if values else "2024-06-01T00:00:00Z"
            sample.append(state_message(s, median, stores))
            abnormal.append(state_message(s, FUTURE, None))
        for name, value in (("sample_state.json", sample), ("abnormal_state.json", abnormal)):
            (h.IT / name).write_text(json.dumps(value, indent=2) + "\n")
            print(f"wrote integration_tests/{name} ({len(value)} streams, {len(stores)} stores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
