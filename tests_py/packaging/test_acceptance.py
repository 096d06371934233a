"""The rules of Airbyte's Connector Acceptance Test (CAT 2.x) that acceptance-test-config.yml
relies on at `test_strictness_level: high`, checked here on the image against the sandbox.

CAT itself cannot run here (it runs containers through Dagger, which needs a registry), so
each rule it applies is written out below, from its source
(airbytehq/airbyte `airbyte-integrations/bases/connector-acceptance-test`,
`connector_acceptance_test/{config.py,tests/test_core.py,tests/test_full_refresh.py,
tests/test_incremental.py,utils/asserts.py}`), named after the CAT test it stands for.
Where CAT versions differ (older versions compared whole records and final states, newer
ones primary keys and record sets), both readings are checked. The discovery rules are
also checked in Rust on every schema (tests/discovery.rs).

Runs under tests_py/packaging/run.sh (its sandbox: seed 42, 200 records, no rate limit).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import packaging_helpers as h

CONFIG_FILE = h.ROOT / "acceptance-test-config.yml"

# The entry keys CAT's config model (config.py, `extra = "forbid"`) accepts per section:
# any other key makes CAT refuse the file.
CAT_ENTRY_KEYS = {
    "spec": {"spec_path", "config_path", "timeout_seconds", "deployment_mode",
             "backward_compatibility_tests_config", "auth_default_method"},
    "connection": {"config_path", "status", "timeout_seconds", "deployment_mode"},
    "discovery": {"config_path", "timeout_seconds", "deployment_mode",
                  "backward_compatibility_tests_config", "validate_primary_keys_data_type"},
    "basic_read": {"config_path", "deployment_mode", "configured_catalog_path", "empty_streams",
                   "expect_records", "validate_schema", "validate_stream_statuses",
                   "validate_state_messages", "validate_primary_keys_data_type",
                   "fail_on_extra_columns", "validate_data_points",
                   "expect_trace_message_on_failure", "timeout_seconds", "file_types",
                   "client_container_config"},
    "full_refresh": {"config_path", "configured_catalog_path", "timeout_seconds",
                     "deployment_mode", "ignored_fields", "client_container_config"},
    "incremental": {"config_path", "configured_catalog_path", "future_state", "timeout_seconds",
                    "deployment_mode", "skip_comprehensive_incremental_tests",
                    "client_container_config"},
}
CAT_TOP_KEYS = {"connector_image", "acceptance_tests", "base_path", "test_strictness_level",
                "custom_environment_variables"}
EXPECT_RECORDS_KEYS = {"path", "bypass_reason", "exact_order"}
FUTURE_STATE_KEYS = {"future_state_path", "missing_streams", "bypass_reason", "cursor_format"}


# ---------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def at_config() -> dict:
    return yaml.safe_load(CONFIG_FILE.read_text())


def entries(at_config: dict, section: str) -> list[dict]:
    return (at_config["acceptance_tests"].get(section) or {}).get("tests") or []


def read(secrets_dir: Path, tag: str, catalog: dict, state: Any = None) -> h.RunResult:
    """`docker run ... read` of `catalog` (and `state`), as CAT's runner calls it."""
    h.write_json(secrets_dir / f"cat-{tag}-catalog.json", catalog)
    args = ["read", "--config", "/secrets/config.json",
            "--catalog", f"/secrets/cat-{tag}-catalog.json"]
    if state is not None:
        h.write_json(secrets_dir / f"cat-{tag}-state.json", state)
        args += ["--state", f"/secrets/cat-{tag}-state.json"]
    res = h.docker_run(args, {secrets_dir: "/secrets"})
    assert res.returncode == 0, h.summarize_failure(res)
    return res


@pytest.fixture(scope="module")
def discovered(secrets_dir) -> dict[str, dict]:
    res = h.docker_run(["discover", "--config", "/secrets/config.json"], {secrets_dir: "/secrets"})
    assert res.returncode == 0, h.summarize_failure(res)
    catalogs = res.of_type("CATALOG")
    assert len(catalogs) == 1, "test_discover: exactly one CATALOG"
    return {s["name"]: s for s in catalogs[0]["catalog"]["streams"]}


def configured(stream: dict, mode: str) -> dict:
    out = {"stream": stream, "sync_mode": mode, "destination_sync_mode": "append"}
    if stream.get("default_cursor_field"):
        out["cursor_field"] = stream["default_cursor_field"]
    if stream.get("source_defined_primary_key"):
        out["primary_key"] = stream["source_defined_primary_key"]
    return out


@pytest.fixture(scope="module")
def empty_streams(at_config) -> set[str]:
    return {e["name"] for t in entries(at_config, "basic_read") for e in t.get("empty_streams") or []}


@pytest.fixture(scope="module")
def basic_catalog(discovered, empty_streams) -> dict:
    """CAT's basic_read catalog at high strictness: the discovered catalog less the empty
    streams, each in its first supported sync mode."""
    return {"streams": [configured(s, s["supported_sync_modes"][0])
                        for name, s in discovered.items() if name not in empty_streams]}


@pytest.fixture(scope="module")
def basic_read(secrets_dir, basic_catalog) -> h.RunResult:
    return read(secrets_dir, "basic", basic_catalog)


@pytest.fixture(scope="module")
def incremental_catalog(discovered) -> dict:
    """CAT's `incremental_only_catalog` of the discovered catalog, cursor fields set."""
    return {"streams": [configured(s, "incremental") for s in discovered.values()
                        if "incremental" in s["supported_sync_modes"]]}


def records_of(res: h.RunResult) -> list[dict]:
    return [m["record"] for m in res.of_type("RECORD")]


def by_stream(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records:
        out.setdefault(r["stream"], []).append(r["data"])
    return out


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True)


def pk_of(data: dict, pk: list[list[str]]) -> tuple:
    out = []
    for path in pk:
        v: Any = data
        for part in path:
            v = v.get(part) if isinstance(v, dict) else None
        out.append(canonical(v))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# the file itself (config.py, and the high-strictness fixtures of each test class)


def test_config_is_cat_valid_at_high_strictness(at_config, discovered):
    problems = []
    assert at_config.get("test_strictness_level") == "high"
    problems += [f"unknown top-level key {k}" for k in set(at_config) - CAT_TOP_KEYS]
    for section, allowed in CAT_ENTRY_KEYS.items():
        block = at_config["acceptance_tests"].get(section)
        if not block or block.get("bypass_reason") or not block.get("tests"):
            problems.append(f"{section}: no tests (every section runs at high strictness)")
            continue
        for entry in block["tests"]:
            problems += [f"{section}: unknown key {k}" for k in set(entry) - allowed]
            for key in ("config_path", "spec_path", "configured_catalog_path"):
                if key in entry and not (h.ROOT / entry[key]).is_file():
                    problems.append(f"{section}: {key} {entry[key]} does not exist")
    for entry in entries(at_config, "connection"):
        if entry.get("status", "succeed") not in ("succeed", "failed", "exception"):
            problems.append(f"connection: bad status {entry['status']}")
    if not any("spec_path" in e for e in entries(at_config, "spec")):
        problems.append("spec: no spec_path (test_match_expected would be skipped)")

    for entry in entries(at_config, "basic_read"):
        # configured_catalog_fixture: no custom catalog at high strictness.
        if "configured_catalog_path" in entry:
            problems.append("basic_read: configured_catalog_path is refused at high strictness")
        # should_validate_schema_fixture.
        if entry.get("validate_schema", True) is not True:
            problems.append("basic_read: validate_schema must be true at high strictness")
        # ExpectedRecordsConfig: a path xor a bypass reason; expect_records is mandatory.
        expect = entry.get("expect_records")
        if not expect:
            problems.append("basic_read: expect_records is mandatory at high strictness")
            continue
        problems += [f"expect_records: unknown key {k}" for k in set(expect) - EXPECT_RECORDS_KEYS]
        if bool(expect.get("path")) == bool(expect.get("bypass_reason")):
            problems.append("expect_records: exactly one of path and bypass_reason")
        empty = entry.get("empty_streams") or []
        problems += [f"empty stream {e.get('name')} without bypass_reason"
                     for e in empty if not e.get("bypass_reason")]
        if expect.get("path"):
            lines = (h.ROOT / expect["path"]).read_text().splitlines()
            covered = {json.loads(line)["stream"] for line in lines if line.strip()}
            missing = set(discovered) - covered - {e["name"] for e in empty}
            if missing:
                problems.append(f"expect_records cover no record of {sorted(missing)}")

    for entry in entries(at_config, "incremental"):
        # future_state_configuration_fixture / future_state_fixture.
        fs = entry.get("future_state") or {}
        problems += [f"future_state: unknown key {k}" for k in set(fs) - FUTURE_STATE_KEYS]
        if not fs.get("future_state_path") or fs.get("bypass_reason"):
            problems.append("incremental: future_state_path is mandatory at high strictness")
            continue
        missing = fs.get("missing_streams") or []
        problems += [f"missing stream {m.get('name')} without bypass_reason"
                     for m in missing if not m.get("bypass_reason")]
        states = h.load_json(h.ROOT / fs["future_state_path"])
        named = {s["stream"]["stream_descriptor"]["name"] for s in states}
        incremental = {n for n, s in discovered.items() if "incremental" in s["supported_sync_modes"]}
        uncovered = incremental - named - {m["name"] for m in missing}
        if uncovered:
            problems.append(f"future state has no state for {sorted(uncovered)}")
    assert not problems, "\n".join(problems)


def test_cdk_suite_collects_the_staged_config(at_config):
    """The CDK standard suite refuses the CAT-only keys; run.sh hands it the staged copy."""
    from airbyte_cdk.test.models.scenario import entry_key_problems

    staged = h.cdk_view_of_acceptance_config(at_config)
    for section in h.CDK_SECTIONS:
        for entry in entries(staged, section):
            assert not entry_key_problems(entry, [section]), (section, entry)
    # The staging is needed: the file as written has a key the CDK refuses.
    refused = [p for s in h.CDK_SECTIONS for e in entries(at_config, s)
               for p in entry_key_problems(e, [s])]
    assert refused and all("expect_records" in p for p in refused), refused


# ---------------------------------------------------------------------------------------
# spec (TestSpec)


@pytest.fixture(scope="module")
def spec_message(secrets_dir) -> dict:
    res = h.docker_run(["spec"])
    assert res.returncode == 0, h.summarize_failure(res)
    specs = res.of_type("SPEC")
    assert len(specs) == 1
    return specs[0]["spec"]


def test_spec_matches_spec_path(at_config, spec_message):
    """test_match_expected: `spec` prints exactly the spec_path file (compared as JSON
    values, stricter than CAT's model equality)."""
    (entry,) = entries(at_config, "spec")
    expected = h.load_json(h.ROOT / entry["spec_path"])
    assert spec_message == expected, (
        "spec differs from integration_tests/spec.json; rerun "
        "integration_tests/generate_expected_records.py")


def test_config_matches_spec(at_config, spec_message):
    """test_config_match_spec: the spec section's config validates against the spec."""
    for entry in entries(at_config, "spec"):
        cfg = {k: v for k, v in h.load_json(h.ROOT / entry["config_path"]).items()
               if not k.startswith("_")}
        jsonschema.validate(cfg, spec_message["connectionSpecification"])


def _walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}/{k}", k, v, node
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


SECRET_NAMES = {"client_token", "access_token", "api_token", "token", "secret", "client_secret",
                "password", "key", "service_account_info", "service_account", "tenant_id",
                "certificate", "jwt", "credentials", "app_id", "appid", "refresh_token"}


def test_spec_follows_cat_spec_rules(spec_message):
    """TestSpec's rules on connectionSpecification: additionalProperties true, no $ref,
    distinct enums, types simple or [type, "null"], no empty objects, array items of one
    simple type, no forbidden keywords, secret-looking properties marked airbyte_secret."""
    schema = spec_message["connectionSpecification"]
    problems = []
    for path, key, value, parent in _walk(schema):
        inside_properties = path.rsplit("/", 2)[-2] == "properties"
        if key == "additionalProperties" and value is not True:
            problems.append(f"{path}: additionalProperties must be true")
        if key == "$ref":
            problems.append(f"{path}: $ref")
        if key == "enum" and isinstance(value, list) and len(set(map(canonical, value))) != len(value):
            problems.append(f"{path}: duplicate enum values")
        if key in {"not", "anyOf", "patternProperties", "prefixItems", "allOf", "if", "then", "else",
                   "dependentSchemas", "dependentRequired"} and not inside_properties:
            problems.append(f"{path}: forbidden keyword {key}")
        if key == "type" and not inside_properties:
            if isinstance(value, list) and (len(value) > 2 or (len(value) == 2 and value[1] != "null")):
                problems.append(f"{path}: type {value} is not [type, null]")
            if value == "object" and path != "/type" and "oneOf" not in parent and not parent.get("properties"):
                problems.append(f"{path}: empty object")
            if value == "array" and isinstance(parent.get("items"), dict):
                items = parent["items"]
                if items.get("type") not in ("object", "string", "number", "integer") and "enum" not in items:
                    problems.append(f"{path}: array items of type {items.get('type')}")
    for name, prop in schema["properties"].items():
        if name.lower() in SECRET_NAMES and prop.get("type") in ("string", "integer", "number"):
            if prop.get("airbyte_secret") is not True:
                problems.append(f"{name} looks secret and is not airbyte_secret")
    orders = [p["order"] for p in schema["properties"].values() if "order" in p]
    if len(orders) != len(set(orders)):
        problems.append(f"order values repeat: {sorted(orders)}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------
# basic_read (TestBasicRead.test_read and test_airbyte_trace_message_on_failure)

TIMESTAMP = re.compile(r"^\d{4}-\d?\d-\d?\d(\s|T)\d?\d:\d?\d:\d?\d(.\d+)?.*$")


def _datetime_ok(value: Any) -> bool:
    """CAT's CustomFormatChecker for date-time: its regex, and a parseable instant."""
    if not isinstance(value, str):
        return True
    if not TIMESTAMP.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return False
    return True


def _validator(schema: dict) -> jsonschema.protocols.Validator:
    """Draft 7 with integers in the Python sense and CAT's date-time check."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_datetime_ok)
    types = jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=types)
    return cls(schema, format_checker=checker)


def test_basic_read_records_validate_against_their_schema(basic_read, basic_catalog):
    """_validate_schema (validate_schema: true) and fail_on_extra_columns (its default)."""
    schemas = {c["stream"]["name"]: c["stream"]["json_schema"] for c in basic_catalog["streams"]}
    validators = {n: _validator(s) for n, s in schemas.items()}
    problems: dict[str, str] = {}
    for r in records_of(basic_read):
        name, data = r["stream"], r["data"]
        if name not in validators:
            problems[name] = "record of a stream not in the catalog"
            continue
        err = next(iter(validators[name].iter_errors(data)), None)
        if err is not None:
            problems.setdefault(name, f"{list(err.path)}: {err.message}")
        extra = set(data) - set(schemas[name].get("properties", {}))
        if extra:
            problems.setdefault(name, f"undeclared top-level fields {sorted(extra)}")
    assert not problems, problems


def test_basic_read_has_records_for_every_stream(basic_read, basic_catalog, empty_streams):
    """_validate_empty_streams, and no record is needed from an allowed empty stream."""
    got = Counter(r["stream"] for r in records_of(basic_read))
    assert got, "At least one record should be read"
    missing = {c["stream"]["name"] for c in basic_catalog["streams"]} - set(got) - empty_streams
    assert not missing, f"streams without records: {sorted(missing)}"


def test_basic_read_primary_keys(basic_read, basic_catalog):
    """_validate_primary_keys_data_type: no key part is a list or an object, and no key is
    null in all its parts (and, as older CAT versions required, in none of them)."""
    pks = {c["stream"]["name"]: c["stream"].get("source_defined_primary_key") or []
           for c in basic_catalog["streams"]}
    for r in records_of(basic_read):
        values = []
        for path in pks[r["stream"]]:
            v: Any = r["data"]
            for part in path:
                v = v.get(part) if isinstance(v, dict) else None
            values.append(v)
        assert not any(isinstance(v, (list, dict)) for v in values), r
        assert all(v is not None for v in values), f"{r['stream']}: null key part in {r['data']}"


def test_basic_read_state_messages(basic_read, basic_catalog):
    """_validate_state_messages (validate_state_messages: true by default): at least as
    many STATE messages as streams, none LEGACY, each with sourceStats."""
    states = [m["state"] for m in basic_read.of_type("STATE")]
    assert len(states) >= len(basic_catalog["streams"])
    for s in states:
        assert s.get("type") in ("STREAM", "GLOBAL"), s
        assert isinstance(s.get("sourceStats"), dict) and "recordCount" in s["sourceStats"], s
    named = {s["stream"]["stream_descriptor"]["name"] for s in states if s.get("type") == "STREAM"}
    assert named == {c["stream"]["name"] for c in basic_catalog["streams"]}


def test_basic_read_stream_statuses(basic_read, basic_catalog):
    """_validate_stream_statuses (required of certified connectors): every stream STARTED,
    then RUNNING ..., then COMPLETE last."""
    statuses: dict[str, list[str]] = {}
    for m in basic_read.of_type("TRACE"):
        if m["trace"]["type"] == "STREAM_STATUS":
            st = m["trace"]["stream_status"]
            statuses.setdefault(st["stream_descriptor"]["name"], []).append(st["status"])
    assert set(statuses) == {c["stream"]["name"] for c in basic_catalog["streams"]}
    for name, seq in statuses.items():
        assert len(seq) >= 3 and seq[0] == "STARTED" and seq[-1] == "COMPLETE", (name, seq)
        assert all(s == "RUNNING" for s in seq[1:-1]), (name, seq)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
                      r"(?:Z|[+-]\d{2}:?\d{2})?", "<date>", value)
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def test_basic_read_contains_the_expected_records(at_config, basic_read, basic_catalog):
    """_validate_expected_records / compare_records. CAT 2.x, for streams with a primary
    key (all 22): every expected key is read (in order at the head of the stream's records
    when exact_order is on). Older CAT: every expected record is read as it is
    (extra_fields off) -- here with dates masked, since the sandbox dates its data relative
    to its start (tests_py/packaging/test_expected_records.py checks the file the same way
    against the incremental catalog)."""
    (entry,) = entries(at_config, "basic_read")
    flags = entry["expect_records"]
    lines = (h.ROOT / flags["path"]).read_text().splitlines()
    expected: dict[str, list[dict]] = {}
    for line in filter(str.strip, lines):
        r = json.loads(line)
        expected.setdefault(r["stream"], []).append(r["data"])
    actual = by_stream(records_of(basic_read))
    pks = {c["stream"]["name"]: c["stream"]["source_defined_primary_key"] for c in basic_catalog["streams"]}
    problems = []
    for stream, want in expected.items():
        got = actual.get(stream, [])
        want_keys = [pk_of(d, pks[stream]) for d in want]
        got_keys = [pk_of(d, pks[stream]) for d in got]
        if flags.get("exact_order"):
            if got_keys[: len(want_keys)] != want_keys:
                problems.append(f"{stream}: expected keys not first, in order")
        elif set(want_keys) - set(got_keys):
            problems.append(f"{stream}: keys not read: {sorted(set(want_keys) - set(got_keys))}")
        got_masked = {canonical(_mask(d)) for d in got}
        for d in want:
            if canonical(_mask(d)) not in got_masked:
                problems.append(f"{stream}: record {pk_of(d, pks[stream])} not read as expected")
    assert not problems, "\n".join(problems)


def test_trace_message_on_failure(secrets_dir):
    """test_airbyte_trace_message_on_failure: a catalog with an unknown stream and an
    invalid sync mode ends in at least one TRACE ERROR."""
    catalog = {"streams": [{
        "stream": {"name": "__AIRBYTE__stream_that_does_not_exist",
                   "json_schema": {"type": "object", "properties": {"f1": {"type": "string"}}},
                   "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "INVALID", "destination_sync_mode": "INVALID"}]}
    h.write_json(secrets_dir / "cat-broken-catalog.json", catalog)
    res = h.docker_run(["read", "--config", "/secrets/config.json",
                        "--catalog", "/secrets/cat-broken-catalog.json"], {secrets_dir: "/secrets"})
    assert res.errors(), "no TRACE ERROR for a broken catalog"


# ---------------------------------------------------------------------------------------
# full_refresh (TestFullRefresh.test_sequential_reads)


def test_two_sequential_full_refresh_reads_agree(secrets_dir, basic_read, basic_catalog):
    """CAT 2.x: every record of the second read was emitted after every record of the
    first (emitted_at). Older CAT: both reads have the same records (no ignored_fields)."""
    full = {"streams": [c | {"sync_mode": "full_refresh"} for c in basic_catalog["streams"]
                        if "full_refresh" in c["stream"]["supported_sync_modes"]]}
    assert full == basic_catalog, "the basic read is already the full-refresh read"
    second = read(secrets_dir, "full2", full)
    first_records, second_records = records_of(basic_read), records_of(second)
    assert first_records and second_records
    assert max(r["emitted_at"] for r in first_records) < min(r["emitted_at"] for r in second_records)
    a, b = by_stream(first_records), by_stream(second_records)
    assert set(a) == set(b)
    for stream in a:
        assert Counter(map(canonical, a[stream])) == Counter(map(canonical, b[stream])), (
            f"{stream}: the two full-refresh reads differ")


# ---------------------------------------------------------------------------------------
# incremental (TestIncremental)


def _latest_states(res: h.RunResult) -> dict[str, dict]:
    out = {}
    for m in res.of_type("STATE"):
        st = m["state"]
        assert st.get("type") == "STREAM", st
        out[st["stream"]["stream_descriptor"]["name"]] = st["stream"].get("stream_state") or {}
    return out


def _state_input(states: dict[str, dict]) -> list[dict]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": s}}
            for n, s in states.items()]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _claimed(stream_state: dict, field: str, store: str | None) -> datetime | None:
    """The cursor a state claims for a record (its store's, for per-store state)."""
    if "states" in stream_state or "state" in stream_state:
        for e in stream_state.get("states", []):
            if e["partition"].get("store_id") == store:
                return _instant(e["cursor"][field])
        fallback = stream_state.get("state")
        return _instant(fallback[field]) if fallback else None
    return _instant(stream_state[field]) if field in stream_state else None


def test_two_sequential_incremental_reads(secrets_dir, incremental_catalog):
    """test_two_sequential_reads. CAT 2.x: the first read has records and states, and the
    second, from the first's final state, emits different records. Older CAT: every record
    of the second read is at or after the cursor the state claims for it."""
    first = read(secrets_dir, "inc1", incremental_catalog)
    assert records_of(first) and first.of_type("STATE")
    state = _latest_states(first)
    assert set(state) == {c["stream"]["name"] for c in incremental_catalog["streams"]}
    second = read(secrets_dir, "inc2", incremental_catalog, _state_input(state))
    a, b = records_of(first), records_of(second)
    assert Counter(canonical(r["data"]) for r in a) != Counter(canonical(r["data"]) for r in b)
    cursors = {c["stream"]["name"]: c["cursor_field"][0] for c in incremental_catalog["streams"]}
    late = []
    for r in b:
        field = cursors[r["stream"]]
        since = _claimed(state[r["stream"]], field, r["data"].get("store_id"))
        value = r["data"].get(field)
        if since is not None and value is not None and _instant(value) < since:
            late.append(f"{r['stream']}: {field} {value} before the state's {since}")
    assert not late, "\n".join(late[:20])


def _unique_states_with_counts(states: list[dict]) -> list[tuple[dict, float]]:
    """Which STATE messages of one stream's read CAT reads from, with the number of records
    each read must at least emit (test_read_sequential_slices: consecutive equal states
    merged, states without records dropped, then the records emitted after each)."""
    def blob(m):
        return m["state"]["stream"]["stream_state"]

    def count(m):
        return m["state"].get("sourceStats", {}).get("recordCount", 0.0)

    if len(states) <= 1:
        return [(s, 0.0) for s in states if count(s)]
    merged: list[tuple[dict, float]] = []
    i = 0
    while i < len(states) - 1:
        j = i + 1
        while blob(states[i]) == blob(states[j]) and j < len(states) - 1:
            j += 1
        merged.append((states[i], sum(count(s) for s in states[i:j])))
        if j == len(states) - 1 and blob(states[i]) != blob(states[j]):
            merged.append((states[j], count(states[j])))
        i = j
    nonzero = [(s, c) for s, c in merged if c]
    total = sum(c for _, c in nonzero)
    return [(s, total - sum(c for _, c in nonzero[: k + 1])) for k, (s, _) in enumerate(nonzero)]


def _sampled(pairs: list[tuple[dict, float]]) -> list[tuple[dict, float]]:
    """CAT reads from about 5 of them: never the first or the last; all of one or two."""
    if len(pairs) < 3:
        return pairs[-1:]
    rate = (len(pairs) // 5) or 1
    return [p for i, p in enumerate(pairs) if i and i % rate == 0 and i != len(pairs) - 1]


def test_read_sequential_slices(secrets_dir, incremental_catalog):
    """test_read_sequential_slices: per incremental stream, a read from each sampled STATE of
    a first read emits at least as many records as the first read emitted after it, and
    records that differ from the first read's."""
    problems, checked = [], 0
    for c in incremental_catalog["streams"]:
        name = c["stream"]["name"]
        one = {"streams": [c]}
        first = read(secrets_dir, f"slices-{name}", one)
        records_1 = records_of(first)
        if not records_1 or not first.of_type("STATE"):
            continue
        picked = _sampled(_unique_states_with_counts(first.of_type("STATE")))
        if not picked:
            problems.append(f"{name}: no state to read from")
            continue
        for k, (msg, want) in enumerate(picked):
            state = {name: msg["state"]["stream"]["stream_state"]}
            res = read(secrets_dir, f"slices-{name}-{k}", one, _state_input(state))
            records_n = records_of(res)
            checked += 1
            if len(records_n) < want:
                problems.append(f"{name} from state {k}: {len(records_n)} records, at least {want} due")
            if Counter(canonical(r["data"]) for r in records_n) == Counter(canonical(r["data"]) for r in records_1):
                problems.append(f"{name} from state {k}: the same records as the first read")
    assert not problems, "\n".join(problems)
    assert checked >= len(incremental_catalog["streams"]), "too few states were read from"


def test_future_state_reads_no_record(at_config, secrets_dir, incremental_catalog):
    """test_state_with_abnormally_large_values: from the future state, the incremental
    streams emit no record and at least one STATE."""
    (entry,) = entries(at_config, "incremental")
    state = h.load_json(h.ROOT / entry["future_state"]["future_state_path"])
    res = read(secrets_dir, "future", incremental_catalog, state)
    leaked = Counter(r["stream"] for r in records_of(res))
    assert not leaked, f"records despite the future state: {dict(leaked)}"
    assert res.of_type("STATE"), "no STATE"
