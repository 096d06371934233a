#!/usr/bin/env python3
"""Airbyte protocol conformance check for a connector's stdout.

Every stdout line must be one JSON object that is a valid AirbyteMessage by
all of these, because each alone is lenient somewhere:

1. the official pydantic-2 models (`airbyte_protocol.models.AirbyteMessage`,
   package airbyte-protocol-models-pdv2, the models PyAirbyte and the CDK use),
   via `model_validate_json` (catches e.g. bad URLs, bad enums);
2. the JSON Schema those models generate, checked with jsonschema Draft 2020-12
   (pydantic's lax mode accepts `"emitted_at": "17..."` or `1.5`; the schema
   does not);
3. a *strict* copy of that schema in which optional fields may not be null
   (pydantic-2 models declare every optional as `anyOf [X, null]`, but the
   protocol YAML does not allow null: absent optionals must be omitted);
4. extra checks: the payload key matches `type` and no other payload key is
   present; `emitted_at` is an integer of milliseconds (plausible epoch ms) on
   RECORD; TRACE carries the sub-object its `trace.type` names; a STATE has no
   top-level `id` (the platform injects its own); SPEC `protocol_version` is
   absent or 0.x; a STREAM state carries its stream descriptor.

`check_read_sequence` adds checks over a whole `read` output: records only
for configured streams, stream-status order (STARTED ... COMPLETE/INCOMPLETE,
no record after a terminal status), and `sourceStats.recordCount` equal to
the records of that stream since its previous STATE.

CLI: `python e2e/protocol.py [--read] [--catalog CONFIGURED_CATALOG] < out.jsonl`
exits 0 and prints a per-type summary on success; exits 1 and prints
`line N: <reason>` (every offending line, up to 50) on stderr otherwise.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

# Quiet pydantic/google warnings that the airbyte stack prints on import.
import warnings

warnings.filterwarnings("ignore")

import jsonschema  # noqa: E402
from airbyte_protocol.models import AirbyteMessage  # noqa: E402

PAYLOAD_KEY = {
    "RECORD": "record",
    "STATE": "state",
    "LOG": "log",
    "SPEC": "spec",
    "CONNECTION_STATUS": "connectionStatus",
    "CATALOG": "catalog",
    "TRACE": "trace",
    "CONTROL": "control",
    "DESTINATION_CATALOG": "destination_catalog",
}
TRACE_KEY = {
    "ERROR": "error",
    "ESTIMATE": "estimate",
    "STREAM_STATUS": "stream_status",
    "ANALYTICS": "analytics",
}
# Epoch milliseconds between 2001-09-09 and 2286-11-20: catches seconds or
# microseconds written where milliseconds are due.
MIN_MS, MAX_MS = 10**12, 10**13


class ProtocolError(AssertionError):
    """One or more stdout lines are not valid Airbyte messages."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        shown = "\n".join(f"line {n}: {msg}" for n, msg in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} protocol problem(s):\n{shown}{more}")


def _strip_nulls(node: Any) -> Any:
    """Remove `{"type": "null"}` alternatives from every anyOf (strict copy)."""
    if isinstance(node, dict):
        out = {k: _strip_nulls(v) for k, v in node.items()}
        any_of = out.get("anyOf")
        if isinstance(any_of, list):
            kept = [s for s in any_of if s != {"type": "null"}]
            if len(kept) != len(any_of):
                out.pop("default", None)  # pydantic writes default: null
                if len(kept) == 1:
                    del out["anyOf"]
                    out.update(kept[0])  # 2020-12: $ref may sit beside other keywords
                else:
                    out["anyOf"] = kept
        return out
    if isinstance(node, list):
        return [_strip_nulls(v) for v in node]
    return node


@functools.lru_cache(maxsize=1)
def validators() -> tuple[jsonschema.protocols.Validator, jsonschema.protocols.Validator]:
    schema = AirbyteMessage.model_json_schema()
    official = jsonschema.Draft202012Validator(schema)
    strict = jsonschema.Draft202012Validator(_strip_nulls(copy.deepcopy(schema)))
    return official, strict


def _schema_errors(validator: jsonschema.protocols.Validator, msg: dict) -> list[str]:
    errs = list(validator.iter_errors(msg))
    if not errs:
        return []
    # best_match descends into anyOf branches, so the message names the field.
    e = jsonschema.exceptions.best_match(errs)
    path = "/".join(str(p) for p in e.absolute_path) or "<root>"
    return [f"{path}: {e.message[:200]}"]


def _is_int_ms(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and MIN_MS <= v < MAX_MS


def _extra_checks(msg: dict) -> list[str]:
    problems: list[str] = []
    mtype = msg.get("type")
    key = PAYLOAD_KEY.get(mtype)
    if key is None:
        return [f"unknown type {mtype!r}"]
    if key not in msg:
        problems.append(f"type {mtype} but no {key!r} payload")
    others = [k for k in PAYLOAD_KEY.values() if k != key and k in msg]
    if others:
        problems.append(f"type {mtype} also carries payload key(s) {others}")
    body = msg.get(key)
    if not isinstance(body, dict):
        return problems
    if mtype == "RECORD":
        if not _is_int_ms(body.get("emitted_at")):
            problems.append(f"record.emitted_at must be integer epoch ms, got {body.get('emitted_at')!r}")
    elif mtype == "TRACE":
        ttype = body.get("type")
        sub = TRACE_KEY.get(ttype)
        if sub and sub not in body:
            problems.append(f"trace.type {ttype} but no trace.{sub}")
        em = body.get("emitted_at")
        if not (isinstance(em, (int, float)) and not isinstance(em, bool)
                and math.isfinite(em) and MIN_MS <= em < MAX_MS):
            problems.append(f"trace.emitted_at must be epoch ms, got {em!r}")
        if ttype == "ERROR" and not str(body.get("error", {}).get("message", "")).strip():
            problems.append("trace.error.message is empty")
    elif mtype == "STATE":
        if "id" in body:
            problems.append("state carries a top-level 'id' (the platform injects its own)")
        stype = body.get("type")
        if stype == "STREAM" and "stream" not in body:
            problems.append("STREAM state without 'stream'")
        if stype == "GLOBAL" and "global" not in body:
            problems.append("GLOBAL state without 'global'")
    elif mtype == "SPEC":
        pv = body.get("protocol_version")
        if pv is not None and not str(pv).startswith("0."):
            problems.append(f"spec.protocol_version {pv!r}: platforms accept only 0.x")
    elif mtype == "CONTROL":
        if not _is_int_ms(body.get("emitted_at")) and not isinstance(body.get("emitted_at"), float):
            problems.append("control.emitted_at must be epoch ms")
    return problems


def validate_line(line: str) -> dict:
    """Validate one stdout line; return the parsed message or raise ValueError."""
    if not line.strip():
        raise ValueError("empty line")
    try:
        msg = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg}): {line[:120]!r}") from None
    if not isinstance(msg, dict):
        raise ValueError(f"not a JSON object: {line[:120]!r}")
    problems: list[str] = []
    try:
        AirbyteMessage.model_validate_json(line)
    except Exception as e:  # pydantic.ValidationError
        first = str(e).splitlines()
        problems.append("pydantic: " + " | ".join(first[:4])[:400])
    official, strict = validators()
    errs = _schema_errors(official, msg)
    if errs:
        problems.extend("schema: " + e for e in errs)
    else:
        problems.extend("schema (no nulls for optional fields): " + e for e in _schema_errors(strict, msg))
    problems.extend(_extra_checks(msg))
    if problems:
        raise ValueError("; ".join(problems) + f" :: {line[:160]}")
    return msg


def validate_lines(lines: Iterable[str]) -> list[dict]:
    """Validate every line; raise ProtocolError listing every bad one."""
    messages: list[dict] = []
    problems: list[tuple[int, str]] = []
    for n, line in enumerate(lines, start=1):
        try:
            messages.append(validate_line(line))
        except ValueError as e:
            problems.append((n, str(e)))
    if problems:
        raise ProtocolError(problems)
    return messages


def split_stdout(text: str) -> list[str]:
    """Split stdout into lines; a final newline is expected, a blank line is not."""
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def validate_output(text: str) -> list[dict]:
    """Validate a whole stdout text. Returns the parsed messages."""
    if text and not text.endswith("\n"):
        raise ProtocolError([(text.count("\n") + 1, "last line is not newline-terminated")])
    return validate_lines(split_stdout(text))


# --------------------------------------------------------------------------
# Whole-read checks


@dataclass
class ReadSummary:
    records: dict[str, list[dict]] = field(default_factory=dict)
    states: dict[str, list[dict]] = field(default_factory=dict)  # stream -> stream_state blobs
    statuses: dict[str, list[str]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)  # trace.error bodies
    logs: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def final_state_messages(self, messages: list[dict]) -> list[dict]:
        last: dict[str, dict] = {}
        for m in messages:
            if m["type"] == "STATE" and m["state"].get("type") == "STREAM":
                last[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        return list(last.values())


def check_read_sequence(messages: list[dict], configured_streams: Iterable[str] | None = None,
                        require_complete: bool = True) -> ReadSummary:
    """Checks across one `read` output. Raises AssertionError on the first problem."""
    allowed = set(configured_streams) if configured_streams is not None else None
    s = ReadSummary()
    since_state: Counter = Counter()
    terminal: dict[str, str] = {}
    for n, m in enumerate(messages, start=1):
        t = m["type"]
        s.counts[t] += 1
        if t == "RECORD":
            name = m["record"]["stream"]
            assert allowed is None or name in allowed, f"message {n}: record for unconfigured stream {name!r}"
            assert name not in terminal, f"message {n}: record for {name} after its {terminal[name]} status"
            st = s.statuses.get(name)
            assert st is None or st[0] == "STARTED", f"message {n}: record for {name} before STARTED"
            s.records.setdefault(name, []).append(m["record"]["data"])
            since_state[name] += 1
        elif t == "STATE":
            st = m["state"]
            assert st.get("type") == "STREAM", f"message {n}: expected per-stream STATE, got {st.get('type')}"
            name = st["stream"]["stream_descriptor"]["name"]
            assert allowed is None or name in allowed, f"message {n}: state for unconfigured stream {name!r}"
            s.states.setdefault(name, []).append(st["stream"].get("stream_state"))
            stats = st.get("sourceStats")
            if stats is not None and stats.get("recordCount") is not None:
                assert stats["recordCount"] == since_state[name], (
                    f"message {n}: {name} STATE sourceStats.recordCount={stats['recordCount']} "
                    f"but {since_state[name]} records were emitted since the previous state")
            since_state[name] = 0
        elif t == "TRACE":
            tr = m["trace"]
            if tr["type"] == "STREAM_STATUS":
                ss = tr["stream_status"]
                name = ss["stream_descriptor"]["name"]
                status = ss["status"]
                seq = s.statuses.setdefault(name, [])
                assert name not in terminal, f"message {n}: {name} status {status} after {terminal[name]}"
                if not seq:
                    assert status == "STARTED", f"message {n}: first status of {name} is {status}, not STARTED"
                seq.append(status)
                if status in ("COMPLETE", "INCOMPLETE"):
                    terminal[name] = status
            elif tr["type"] == "ERROR":
                s.errors.append(tr["error"])
        elif t == "LOG":
            s.logs.append(m["log"])
        else:
            raise AssertionError(f"message {n}: unexpected {t} during read")
    if require_complete and allowed is not None:
        for name in sorted(allowed):
            assert s.statuses.get(name, [None])[-1] == "COMPLETE", (
                f"{name}: status sequence {s.statuses.get(name)} does not end with COMPLETE")
    return s


def _main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--read", action="store_true", help="also run the whole-read sequence checks")
    ap.add_argument("--catalog", help="configured catalog: records must belong to its streams, all COMPLETE")
    args = ap.parse_args(argv)
    text = sys.stdin.read()
    try:
        messages = validate_output(text)
    except ProtocolError as e:
        for n, msg in e.problems[:50]:
            print(f"line {n}: {msg}", file=sys.stderr)
        if len(e.problems) > 50:
            print(f"... {len(e.problems) - 50} more", file=sys.stderr)
        return 1
    if args.read or args.catalog:
        streams = None
        if args.catalog:
            with open(args.catalog) as f:
                streams = [s["stream"]["name"] for s in json.load(f)["streams"]]
        try:
            check_read_sequence(messages, streams, require_complete=streams is not None)
        except AssertionError as e:
            print(f"read sequence: {e}", file=sys.stderr)
            return 1
    counts = Counter(m["type"] for m in messages)
    print(f"ok: {len(messages)} messages " + json.dumps(dict(sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
