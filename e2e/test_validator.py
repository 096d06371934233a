"""Self-test of e2e/protocol.py: the validator must reject what platforms reject.

Fast (no binaries needed). If these pass but a real defect slipped through,
add the offending line here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import protocol

MS = 1_700_000_000_000
GOOD = [
    {"type": "SPEC", "spec": {"connectionSpecification": {"type": "object"}, "protocol_version": "0.2.0"}},
    {"type": "LOG", "log": {"level": "WARN", "message": "hi"}},
    {"type": "RECORD", "record": {"stream": "a", "data": {"x": None, "y": {"z": [1]}}, "emitted_at": MS}},
    {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"},
                                 "stream_state": {"c": None}}, "sourceStats": {"recordCount": 1.0}}},
    {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": MS + 0.5,
                                "stream_status": {"stream_descriptor": {"name": "a"}, "status": "COMPLETE"}}},
    {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": MS,
                                "error": {"message": "m", "failure_type": "config_error"}}},
    {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "x"}},
    {"type": "CATALOG", "catalog": {"streams": [{"name": "a", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]}},
]
BAD = {
    "emitted_at string": '{"type":"RECORD","record":{"stream":"a","data":{},"emitted_at":"1700000000000"}}',
    "emitted_at fraction": '{"type":"RECORD","record":{"stream":"a","data":{},"emitted_at":1700000000000.5}}',
    "emitted_at seconds": '{"type":"RECORD","record":{"stream":"a","data":{},"emitted_at":1700000000}}',
    "null optional": '{"type":"RECORD","record":{"stream":"a","namespace":null,"data":{},"emitted_at":1700000000000}}',
    "payload mismatch": '{"type":"RECORD","log":{"level":"WARN","message":"hi"}}',
    "WARNING level": '{"type":"LOG","log":{"level":"WARNING","message":"hi"}}',
    "null stream_state": '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":null}}}',
    "state id": '{"type":"STATE","state":{"id":3,"type":"STREAM","stream":{"stream_descriptor":{"name":"a"}}}}',
    "protocol 1.x": '{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"},"protocol_version":"1.0.0"}}',
    "bad url": '{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"},"documentationUrl":"not a url"}}',
    "trace without error": '{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1700000000000}}',
    "bad failure_type": '{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1700000000000,"error":{"message":"m","failure_type":"bogus"}}}',
    "free text": "Starting sync...",
    "array": "[1]",
    "empty": "",
    "null message": '{"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":null}}',
    "missing data": '{"type":"RECORD","record":{"stream":"a","emitted_at":1700000000000}}',
}


@pytest.mark.parametrize("msg", GOOD, ids=lambda m: m["type"])
def test_accepts_valid(msg):
    assert protocol.validate_line(json.dumps(msg)) == msg


@pytest.mark.parametrize("line", BAD.values(), ids=BAD.keys())
def test_rejects_invalid(line):
    with pytest.raises(ValueError):
        protocol.validate_line(line)


def test_cli_reports_line_number(tmp_path: Path):
    text = "\n".join(json.dumps(m) for m in GOOD) + "\n" + BAD["free text"] + "\n"
    p = subprocess.run([sys.executable, str(Path(protocol.__file__)), ], input=text,
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr.startswith(f"line {len(GOOD) + 1}: not JSON"), p.stderr
    ok = subprocess.run([sys.executable, str(Path(protocol.__file__))],
                        input="\n".join(json.dumps(m) for m in GOOD) + "\n", capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def _rec(stream):
    return {"type": "RECORD", "record": {"stream": stream, "data": {}, "emitted_at": MS}}


def _status(stream, status):
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": MS,
            "stream_status": {"stream_descriptor": {"name": stream}, "status": status}}}


def _state(stream, count):
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
            "stream_state": {}}, "sourceStats": {"recordCount": float(count)}}}


def test_read_sequence_checks():
    ok = [_status("a", "STARTED"), _status("a", "RUNNING"), _rec("a"), _rec("a"), _state("a", 2),
          _rec("a"), _state("a", 1), _status("a", "COMPLETE")]
    s = protocol.check_read_sequence(ok, ["a"])
    assert len(s.records["a"]) == 3
    bad_count = ok[:4] + [_state("a", 1)] + ok[5:]
    with pytest.raises(AssertionError, match="recordCount"):
        protocol.check_read_sequence(bad_count, ["a"])
    with pytest.raises(AssertionError, match="after its COMPLETE"):
        protocol.check_read_sequence(ok + [_rec("a")], ["a"])
    with pytest.raises(AssertionError, match="unconfigured"):
        protocol.check_read_sequence(ok + [_rec("b")], ["a"])
    with pytest.raises(AssertionError, match="does not end with COMPLETE"):
        protocol.check_read_sequence(ok[:-1], ["a"])
