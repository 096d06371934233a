"""integration_tests/expected_records.jsonl: well-formed, and contained in a fresh read.

The sandbox (seed 42, 200 records) dates its data relative to the moment it starts, so
a fresh read has the same records with shifted timestamps: records are matched by
primary key and compared on every field, with dates and date-times inside strings
masked (see integration_tests/generate_expected_records.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import packaging_helpers as h

DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def mask(value: Any) -> Any:
    if isinstance(value, str):
        return DATE_RE.sub("<date>", value)
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    return value


def primary_keys() -> dict[str, list[list[str]]]:
    return {c["stream"]["name"]: c["primary_key"]
            for c in h.load_json(h.IT / "configured_catalog.json")["streams"]}


def key_of(data: dict, pk: list[list[str]]) -> tuple:
    out = []
    for path in pk:
        v: Any = data
        for part in path:
            v = v.get(part) if isinstance(v, dict) else None
        out.append(json.dumps(v))
    return tuple(out)


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    lines = (h.IT / "expected_records.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_expected_records_file_is_well_formed(expected):
    assert expected, "expected_records.jsonl is empty"
    pks = primary_keys()
    for n, r in enumerate(expected, start=1):
        assert set(r) == {"stream", "data", "emitted_at"}, f"line {n}: keys {sorted(r)}"
        assert r["stream"] in pks, f"line {n}: unknown stream {r['stream']}"
        assert isinstance(r["data"], dict) and r["data"], f"line {n}: data"
        assert isinstance(r["emitted_at"], int) and r["emitted_at"] > 1_500_000_000_000, f"line {n}"
        assert all(v is not None for v in key_of(r["data"], pks[r["stream"]])), f"line {n}: no key"
    assert {r["stream"] for r in expected} == set(h.STREAMS), "every stream has expected records"


def test_fresh_read_contains_expected_records(expected, full_read):
    assert full_read.returncode == 0, h.summarize_failure(full_read)
    pks = primary_keys()
    got: dict[str, dict[tuple, dict]] = {}
    for m in full_read.of_type("RECORD"):
        s = m["record"]["stream"]
        got.setdefault(s, {})[key_of(m["record"]["data"], pks[s])] = m["record"]["data"]
    problems = []
    for r in expected:
        s, data = r["stream"], r["data"]
        k = key_of(data, pks[s])
        actual = got.get(s, {}).get(k)
        if actual is None:
            problems.append(f"{s} {k}: missing from the read")
        elif mask(actual) != mask(data):
            diff = sorted(f for f in set(data) | set(actual) if mask(data.get(f)) != mask(actual.get(f)))
            problems.append(f"{s} {k}: fields differ: {diff}")
    assert not problems, "\n".join(problems[:40])
