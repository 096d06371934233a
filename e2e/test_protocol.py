"""Protocol conformance: run every command of the built connector against the sandbox and
validate every stdout line (e2e/protocol.py), plus the contract of each command.

Every connector run here goes through `Connector.run`, which also fails the test when the
API key shows up on stdout or stderr or the connector panics.
"""

from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest

import protocol
from conftest import (API_KEY, CURSOR, FULL_REFRESH_ONLY, PRIMARY_KEY, STREAMS, configured_catalog,
                      record_keys, truth_keys, truth_problems)

BAD_KEY = "wrong-key-9876543210abcdef"
# Full-refresh-only streams a retried attempt resumes (page numbers, windows, stores, searches).
RESUMABLE_FULL_REFRESH = {"item_returns", "products", "memberships", "locations"}
FULL_REFRESH_COMPLETE = {"__ab_full_refresh_sync_complete": True}


def _last_non_log(run):
    rest = [m for m in run.messages if m["type"] != "LOG"]
    return rest[-1] if rest else None


def _assert_failed_read(run, failure_types=("config_error",)):
    """A failed read: non-zero exit, ends with a TRACE ERROR whose failure_type is as given."""
    assert run.returncode != 0, f"failing read exited 0\n{run.describe()}"
    errs = run.trace_errors()
    assert errs, f"failing read emitted no TRACE ERROR\n{run.describe()}"
    last = _last_non_log(run)
    assert last and last["type"] == "TRACE" and last["trace"]["type"] == "ERROR", (
        f"failing read does not end with a TRACE ERROR (last: {last})\n{run.describe()}")
    assert last["trace"]["error"].get("failure_type") in failure_types, run.describe()
    assert not run.of_type("CONNECTION_STATUS") and not run.of_type("CATALOG"), run.describe()


# --------------------------------------------------------------------------- spec


def test_spec(connector, sandbox):
    run = connector.spec()
    assert run.returncode == 0, run.describe()
    specs = run.of_type("SPEC")
    assert len(specs) == 1 and len(run.messages) == len(specs) + len(run.of_type("LOG")), run.describe()
    spec = specs[0]["spec"]
    cs = spec["connectionSpecification"]
    jsonschema.Draft7Validator.check_schema(cs)
    assert cs["properties"]["api_key"]["airbyte_secret"] is True
    assert cs["properties"]["api_key"]["type"] == "string"
    assert {"api_key", "start_date"} <= set(cs["required"])
    # Our sandbox config is a valid config; a config without api_key is not.
    v = jsonschema.Draft7Validator(cs, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert not list(v.iter_errors(sandbox.config()))
    assert list(v.iter_errors({"start_date": "2020-01-01T00:00:00Z"}))
    for name, prop in cs["properties"].items():
        assert prop.get("title") and prop.get("description"), f"spec property {name} lacks title/description"


# --------------------------------------------------------------------------- check


def _status(run):
    st = run.of_type("CONNECTION_STATUS")
    assert len(st) == 1, f"expected exactly one CONNECTION_STATUS\n{run.describe()}"
    assert run.returncode == 0, f"check must exit 0\n{run.describe()}"
    return st[0]["connectionStatus"]


def test_check_good(connector, sandbox):
    st = _status(connector.check(sandbox.config()))
    assert st["status"] == "SUCCEEDED", st


def test_check_bad_key(connector, sandbox):
    run = connector.run("check", "--config", connector.write("config.json", sandbox.config(api_key=BAD_KEY)),
                        secrets=(BAD_KEY, API_KEY))
    st = _status(run)
    assert st["status"] == "FAILED", st
    assert st.get("message"), st


def test_check_unreachable(connector):
    """An outage is not a bad config: a TRACE ERROR transient_error and exit 1, no
    CONNECTION_STATUS FAILED (which the UI shows as "the configuration is wrong")."""
    # Port 9 (discard) on loopback: nothing listens there.
    cfg = {"api_key": API_KEY, "start_date": "2020-01-01T00:00:00Z", "api_base_url": "http://127.0.0.1:9"}
    run = connector.check(cfg)
    assert run.returncode == 1, run.describe()
    assert not run.of_type("CONNECTION_STATUS"), run.describe()
    errors = run.trace_errors()
    assert len(errors) == 1 and errors[0]["failure_type"] == "transient_error", run.describe()
    assert errors[0]["message"], run.describe()
    assert run.seconds < 120, f"check against a closed port took {run.seconds:.0f}s"


@pytest.mark.parametrize("config", [
    "", "{not json", json.dumps({"start_date": "2020-01-01T00:00:00Z"}),
    json.dumps({"api_key": API_KEY, "start_date": "yesterday"}),
    json.dumps({"api_key": API_KEY, "start_date": "2020-01-01T00:00:00Z", "api_base_url": "http://example.com"}),
], ids=["empty", "not-json", "no-key", "bad-date", "http-non-loopback"])
def test_check_bad_config_is_failed_status(connector, config):
    st = _status(connector.check(config))
    assert st["status"] == "FAILED" and st.get("message"), st


# --------------------------------------------------------------------------- discover


def test_discover(discovered):
    streams = {s["name"]: s for s in discovered["streams"]}
    assert sorted(streams) == sorted(STREAMS) and len(discovered["streams"]) == 22
    for name, s in streams.items():
        modes = set(s["supported_sync_modes"])
        # Resumable: every incremental stream, and the full-refresh-only streams that
        # page by number or read per store or search (resumable full refresh).
        assert s.get("is_resumable") is (name not in FULL_REFRESH_ONLY or name in RESUMABLE_FULL_REFRESH), (
            name, s.get("is_resumable"))
        if name in FULL_REFRESH_ONLY:
            assert modes == {"full_refresh"}, (name, modes)
        else:
            assert modes == {"full_refresh", "incremental"}, (name, modes)
            assert s.get("source_defined_cursor") is True, name
            assert s.get("default_cursor_field") == [CURSOR[name]], (name, s.get("default_cursor_field"))
        assert sorted(s["source_defined_primary_key"]) == sorted([k] for k in PRIMARY_KEY[name]), (
            name, s["source_defined_primary_key"])
        jsonschema.Draft7Validator.check_schema(s["json_schema"])
        for k in PRIMARY_KEY[name]:
            assert k in s["json_schema"].get("properties", {}), f"{name}: key {k} not in schema"


@pytest.mark.parametrize("config", ["{not json", json.dumps({"api_key": API_KEY})], ids=["not-json", "no-start"])
def test_discover_bad_config(connector, config):
    run = connector.discover(config)
    _assert_failed_read(run)


# --------------------------------------------------------------------------- read


@pytest.fixture(scope="module")
def full_read(connector, sandbox, discovered):
    cat = configured_catalog(discovered, incremental=False)
    run = connector.read(sandbox.config(), cat)
    return run


def test_read_full_refresh_all_streams(full_read, sandbox):
    run = full_read
    assert run.returncode == 0 and not run.trace_errors(), run.describe()
    summary = protocol.check_read_sequence(run.messages, STREAMS)
    problems = truth_problems(summary.records, sandbox, "full refresh:")
    assert not problems, "\n".join(problems)
    print(f"\nfull refresh of 22 streams: {sum(len(v) for v in summary.records.values())} records, "
          f"{run.seconds:.1f}s")


# Streams whose API reports how many records a query matches (in a full refresh): Tracking's and
# Returns' and Protection's and Members' `pagination.total`, couriers' `data.total`.
ESTIMATED = ["trackings", "couriers", "courier_connections", "item_returns", "query_claims", "query_coverages",
             "memberships"]


def test_read_estimates_progress(full_read, sandbox):
    """ESTIMATE traces (AirbyteEstimateTraceMessage: name, type STREAM, row_estimate) for
    every stream whose API reports a total, before the stream ends, close to the truth."""
    from airbyte_protocol.models import AirbyteEstimateTraceMessage, EstimateType

    run = full_read
    estimates = [m["trace"] for m in run.of_type("TRACE") if m["trace"]["type"] == "ESTIMATE"]
    assert estimates, "no ESTIMATE trace in a full read of 22 streams"
    by_stream: dict[str, list[int]] = {}
    for t in estimates:
        e = AirbyteEstimateTraceMessage.model_validate(t["estimate"])
        assert e.type == EstimateType.STREAM, f"estimate of type {e.type} (only STREAM is sent): {t}"
        assert e.name in STREAMS and e.row_estimate is not None, t
        by_stream.setdefault(e.name, []).append(e.row_estimate)
    assert set(by_stream) == set(ESTIMATED), f"estimates for {sorted(by_stream)}, want {ESTIMATED}"
    # Each estimate comes before its stream's end, and the records follow it.
    for name in ESTIMATED:
        first_estimate = next(i for i, m in enumerate(run.messages) if m["type"] == "TRACE"
                              and m["trace"]["type"] == "ESTIMATE" and m["trace"]["estimate"]["name"] == name)
        end = next(i for i, m in enumerate(run.messages) if m["type"] == "TRACE"
                   and m["trace"]["type"] == "STREAM_STATUS"
                   and m["trace"]["stream_status"]["stream_descriptor"]["name"] == name
                   and m["trace"]["stream_status"]["status"] == "COMPLETE")
        assert first_estimate < end, f"{name}: ESTIMATE after the stream completed"
        truth = len(sandbox.truth(name)["records"])
        last = by_stream[name][-1]
        # Announced again only when it moved by a tenth: within 10 % below the truth.
        assert truth * 0.9 <= last <= truth, f"{name}: last estimate {last}, truth {truth}"
        assert by_stream[name] == sorted(by_stream[name]), f"{name}: estimates went down {by_stream[name]}"


def test_read_incremental_with_state(connector, sandbox, discovered):
    """An incremental read without state returns everything (like a full refresh); a second
    read with the states it emitted re-emits little, and full-refresh-only streams all."""
    cat = configured_catalog(discovered, incremental=True)
    first = connector.read(sandbox.config(), cat)
    assert first.returncode == 0 and not first.trace_errors(), first.describe()
    s1 = protocol.check_read_sequence(first.messages, STREAMS)
    problems = truth_problems(s1.records, sandbox, "incremental, no state:")
    incremental = [s for s in STREAMS if s not in FULL_REFRESH_ONLY]
    missing_state = [s for s in incremental if not s1.states.get(s)]
    if missing_state:
        problems.append(f"incremental streams without any STATE: {missing_state}")
    state = s1.final_state_messages(first.messages)
    second = connector.read(sandbox.config(), cat, state=state)
    assert second.returncode == 0 and not second.trace_errors(), second.describe()
    s2 = protocol.check_read_sequence(second.messages, STREAMS)
    n1 = {s: len(s1.records.get(s, [])) for s in STREAMS}
    n2 = {s: len(s2.records.get(s, [])) for s in STREAMS}
    # Nothing changed in the sandbox between the reads: incremental streams re-emit at most
    # the records at the saved cursor (and a shipping lookback), never the whole stream.
    regrown = [f"{s}: {n2[s]} of {n1[s]}" for s in incremental if n1[s] >= 10 and n2[s] > n1[s] // 2]
    if regrown:
        problems.append(f"incremental re-read with state re-emitted most records: {regrown}")
    for s in sorted(FULL_REFRESH_ONLY):
        if n2[s] != n1[s]:
            problems.append(f"{s} is full-refresh only: {n2[s]} rows on the second read vs {n1[s]}")
    assert not problems, "\n".join(problems)


def test_read_resumed_full_refresh(connector, sandbox, discovered):
    """A resumable full refresh (CDK: ResumableFullRefreshCursor, SubstreamResumableFullRefreshCursor):
    STATE after each page, window or store, each a valid AirbyteStateMessage; the last one
    says the stream was read to its end. A read resumed from a STATE halfway through emits
    the rest: with the records before that STATE, exactly the truth."""
    from airbyte_protocol.models import AirbyteStateMessage, AirbyteStateType

    streams = ["item_returns", "products", "memberships"]
    cat = configured_catalog(discovered, streams=streams, incremental=False)
    config = sandbox.config(page_size=10)
    first = connector.read(config, cat)
    assert first.returncode == 0 and not first.trace_errors(), first.describe()
    protocol.check_read_sequence(first.messages, streams)
    for name in streams:
        at = [i for i, m in enumerate(first.messages) if m["type"] == "STATE"
              and m["state"]["stream"]["stream_descriptor"]["name"] == name]
        assert len(at) >= 3, f"{name}: {len(at)} STATE messages in a paged full refresh"
        for i in at:
            st = AirbyteStateMessage.model_validate(first.messages[i]["state"])
            assert st.type == AirbyteStateType.STREAM and st.stream.stream_state is not None, st
        last = first.messages[at[-1]]["state"]["stream"]["stream_state"]
        assert last == FULL_REFRESH_COMPLETE, f"{name}: final state {last}"
        # Stop "halfway": the records up to the middle STATE, then a read from it.
        mid = at[len(at) // 2 - 1]
        before = [m["record"]["data"] for m in first.messages[:mid]
                  if m["type"] == "RECORD" and m["record"]["stream"] == name]
        state = first.messages[mid]["state"]
        assert state["stream"]["stream_state"] != FULL_REFRESH_COMPLETE, state
        resumed = connector.read(config, configured_catalog(discovered, streams=[name], incremental=False),
                                 state=[state])
        assert resumed.returncode == 0 and not resumed.trace_errors(), resumed.describe()
        s2 = protocol.check_read_sequence(resumed.messages, [name])
        for m in resumed.of_type("STATE"):
            AirbyteStateMessage.model_validate(m["state"])
        assert s2.states[name][-1] == FULL_REFRESH_COMPLETE, s2.states[name]
        after = s2.records.get(name, [])
        want = truth_keys(sandbox.truth(name), name)
        got = set(record_keys(before, name)) | set(record_keys(after, name))
        assert got == want, f"{name}: the two reads emitted {len(got)} keys, truth has {len(want)}"
        assert 0 < len(after) < len(want), f"{name}: resumed read emitted {len(after)} of {len(want)}"


def test_read_state_formats(connector, sandbox, discovered):
    """PyAirbyte sends `--state` with `[]` first, then echoes the saved states with null extras
    (`namespace`, `global_`, `data`, `rejectedRecordCount`, `destinationStats`)."""
    streams = ["item_tags", "roles"]
    cat = configured_catalog(discovered, streams=streams, incremental=True)
    first = connector.read(sandbox.config(), cat, state=[])
    assert first.returncode == 0 and not first.trace_errors(), first.describe()
    s1 = protocol.check_read_sequence(first.messages, streams)
    saved = s1.final_state_messages(first.messages)
    assert "item_tags" in [st["stream"]["stream_descriptor"]["name"] for st in saved], saved
    echoed = []
    for st in saved:
        st = json.loads(json.dumps(st))
        st["stream"]["stream_descriptor"]["namespace"] = None
        st.update({"global_": None, "data": None, "destinationStats": None})
        st.setdefault("sourceStats", {})["rejectedRecordCount"] = None
        echoed.append(st)
    second = connector.read(sandbox.config(), cat, state=echoed)
    assert second.returncode == 0 and not second.trace_errors(), second.describe()
    s2 = protocol.check_read_sequence(second.messages, streams)
    assert len(s2.records.get("roles", [])) == len(s1.records.get("roles", [])) > 0
    assert len(s2.records.get("item_tags", [])) < max(2, len(s1.records.get("item_tags", []))), (
        "the echoed state was ignored: item_tags was re-read in full")


def test_read_rate_limited_status(connector, start_sandbox, discovered):
    """A 429 storm makes the connector wait over a second: the stream says so with
    STREAM_STATUS RUNNING and reasons RATE_LIMITED (quota_reset in ms), then a plain
    RUNNING when the wait ends; every message valid against the protocol models."""
    sbx = start_sandbox(extra=["--fault", "429:0.3"])
    streams = ["trackings", "roles"]
    cat = configured_catalog(discovered, streams=streams, incremental=False)
    run = connector.read(sbx.config(page_size=20, max_retries=20), cat)
    assert run.returncode == 0, run.describe()
    protocol.check_read_sequence(run.messages, streams)
    limited = 0
    for name in streams:
        statuses = [m["trace"]["stream_status"] for m in run.of_type("TRACE")
                    if m["trace"]["type"] == "STREAM_STATUS"
                    and m["trace"]["stream_status"]["stream_descriptor"]["name"] == name]
        waiting = False
        for st in statuses:
            reasons = st.get("reasons") or []
            if reasons:
                assert st["status"] == "RUNNING", st
                assert [r["type"] for r in reasons] == ["RATE_LIMITED"], st
                reset = reasons[0]["rate_limited"]["quota_reset"]
                assert isinstance(reset, int) and protocol.MIN_MS <= reset <= protocol.MAX_MS, st
                assert not waiting, f"{name}: RATE_LIMITED twice without its end: {statuses}"
                waiting, limited = True, limited + 1
            elif st["status"] == "RUNNING" and waiting:
                waiting = False
            else:
                assert not waiting, f"{name}: {st['status']} before the wait ended: {statuses}"
    assert limited, f"no RATE_LIMITED status under a 429 storm\n{run.describe()}"


def test_read_bad_key_fails(connector, sandbox, discovered):
    cat = configured_catalog(discovered, streams=["trackings", "stores", "roles"], incremental=False)
    run = connector.read(sandbox.config(api_key=BAD_KEY), cat, secrets=(BAD_KEY, API_KEY))
    _assert_failed_read(run)
    assert not run.of_type("RECORD"), run.describe()


def test_read_unauthorized_midway_fails(connector, start_sandbox, discovered):
    """The key is revoked after some requests: the records already read are checkpointed,
    the read ends with a TRACE ERROR and a non-zero exit."""
    sbx = start_sandbox(extra=["--fault", "unauthorized-after:5"])
    streams = ["trackings", "query_coverages", "shipping_labels"]  # well over 5 requests together
    cat = configured_catalog(discovered, streams=streams, incremental=True)
    run = connector.read(sbx.config(), cat)
    _assert_failed_read(run, failure_types=("config_error", "system_error", "transient_error"))
    summary = protocol.check_read_sequence(run.messages, streams, require_complete=False)
    incomplete = [s for s, seq in summary.statuses.items() if seq[-1] != "COMPLETE"]
    assert incomplete, f"a stream should have failed: {summary.statuses}"


@pytest.mark.parametrize("catalog", [
    {"streams": [{"stream": {"name": "__AIRBYTE__stream_that_does_not_exist", "json_schema": {},
                             "supported_sync_modes": ["full_refresh"]},
                  "sync_mode": "INVALID", "destination_sync_mode": "overwrite"}]},
    {"streams": [{"stream": {"name": "__AIRBYTE__stream_that_does_not_exist", "json_schema": {},
                             "supported_sync_modes": ["full_refresh"]},
                  "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]},
    "{not json",
    {"streams": "trackings"},
], ids=["invalid-mode", "unknown-stream", "not-json", "wrong-shape"])
def test_read_bad_catalog_fails(connector, sandbox, catalog):
    run = connector.read(sandbox.config(), catalog)
    _assert_failed_read(run)
    assert not run.of_type("RECORD"), run.describe()
