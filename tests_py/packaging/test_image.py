"""The image as a user runs it: `docker run` with a mounted secrets/ folder, host network.

    docker run --rm --network host -v "$PWD/secrets:/secrets" airbyte/source-aftership:dev \
        read --config /secrets/config.json --catalog /secrets/catalog.json
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import packaging_helpers as h

MAX_IMAGE_BYTES = 100 * 1000 * 1000


@pytest.fixture(scope="module")
def image_config() -> dict:
    out = subprocess.run([h.docker_bin(), "image", "inspect", h.IMAGE],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


@pytest.fixture(scope="module")
def metadata() -> dict:
    return yaml.safe_load((h.ROOT / "metadata.yaml").read_text())


def test_image_runtime_settings(image_config, metadata):
    cfg = image_config["Config"]
    assert cfg["Entrypoint"] == ["/usr/local/bin/source-aftership"]
    assert "AIRBYTE_ENTRYPOINT=/usr/local/bin/source-aftership" in cfg["Env"]
    assert cfg["User"] in ("1000", "1000:1000", "airbyte")
    labels = cfg["Labels"] or {}
    assert labels.get("io.airbyte.name") == metadata["data"]["dockerRepository"]
    assert labels.get("io.airbyte.version") == str(metadata["data"]["dockerImageTag"]) == h.cargo_version()
    assert image_config["Architecture"] == "amd64"


def test_image_size_under_100_mb(image_config):
    size = image_config["Size"]
    print(f"image {h.IMAGE}: {size / 1e6:.1f} MB")
    assert size < MAX_IMAGE_BYTES, f"image is {size / 1e6:.1f} MB"


def test_image_has_what_airbyte_on_kubernetes_needs():
    """sh, sleep and mv on PATH, uid 1000 by default, a CA bundle, the binary executable."""
    p = subprocess.run(
        [h.docker_bin(), "run", "--rm", "--network", "host", "--entrypoint", "sh", h.IMAGE, "-c",
         'for t in sh sleep mv; do command -v "$t" || exit 1; done; id -u; id -g; '
         'test -s /etc/ssl/certs/ca-certificates.crt && echo ca-ok; '
         'test -x "$AIRBYTE_ENTRYPOINT" && echo entrypoint-ok'],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[3:] == ["1000", "1000", "ca-ok", "entrypoint-ok"], p.stdout


def test_spec(metadata):
    res = h.docker_run(["spec"])
    assert res.returncode == 0, h.summarize_failure(res)
    specs = res.of_type("SPEC")
    assert len(specs) == 1
    spec = specs[0]["spec"]
    assert spec["documentationUrl"] == metadata["data"]["documentationUrl"]
    props = spec["connectionSpecification"]["properties"]
    assert props["api_key"].get("airbyte_secret") is True
    assert {"api_key", "start_date", "api_base_url"} <= set(props)


def test_check_succeeds(secrets_dir):
    res = h.docker_run(["check", "--config", "/secrets/config.json"], {secrets_dir: "/secrets"})
    assert res.returncode == 0, h.summarize_failure(res)
    statuses = res.of_type("CONNECTION_STATUS")
    assert [m["connectionStatus"]["status"] for m in statuses] == ["SUCCEEDED"], res.stdout
    assert not res.errors()


def test_check_with_a_wrong_key_fails_cleanly(secrets_dir):
    res = h.docker_run(["check", "--config", "/secrets/invalid_config.json"], {secrets_dir: "/secrets"})
    assert res.returncode == 0, h.summarize_failure(res)
    statuses = res.of_type("CONNECTION_STATUS")
    assert [m["connectionStatus"]["status"] for m in statuses] == ["FAILED"], res.stdout
    bad_key = h.load_json(h.IT / "invalid_config.json")["api_key"]
    assert bad_key not in res.stdout and bad_key not in res.stderr, "the API key leaked into the output"


def test_discover_matches_configured_catalog(secrets_dir):
    res = h.docker_run(["discover", "--config", "/secrets/config.json"], {secrets_dir: "/secrets"})
    assert res.returncode == 0, h.summarize_failure(res)
    catalogs = res.of_type("CATALOG")
    assert len(catalogs) == 1
    discovered = {s["name"]: s for s in catalogs[0]["catalog"]["streams"]}
    assert sorted(discovered) == sorted(h.STREAMS)
    configured = {c["stream"]["name"]: c for c in h.load_json(h.IT / "configured_catalog.json")["streams"]}
    assert sorted(configured) == sorted(h.STREAMS)
    for name, c in configured.items():
        d = discovered[name]
        assert c["sync_mode"] in d["supported_sync_modes"], name
        assert sorted(c["stream"]["supported_sync_modes"]) == sorted(d["supported_sync_modes"]), name
        assert c["primary_key"] == d.get("source_defined_primary_key"), name
        if c["sync_mode"] == "incremental":
            assert c["cursor_field"] == d.get("default_cursor_field"), name
            assert d.get("source_defined_cursor") is True, name
        assert d["json_schema"].get("type") == "object", name


def test_read_returns_records_for_every_stream(full_read):
    res = full_read
    assert res.returncode == 0, h.summarize_failure(res)
    assert not res.errors(), h.summarize_failure(res)
    summary = h.protocol.check_read_sequence(res.messages, h.STREAMS, require_complete=True)
    empty = [s for s in h.STREAMS if not summary.records.get(s)]
    assert not empty, f"streams without records: {empty}"
    for s in h.INCREMENTAL:
        assert summary.states.get(s), f"no STATE for incremental stream {s}"


def test_read_from_sample_state(secrets_dir):
    res = h.docker_run(
        ["read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json",
         "--state", "/secrets/sample_state.json"],
        {secrets_dir: "/secrets"},
    )
    assert res.returncode == 0, h.summarize_failure(res)
    assert not res.errors(), h.summarize_failure(res)
    h.protocol.check_read_sequence(res.messages, h.STREAMS, require_complete=True)


def test_state_files_cover_every_sandbox_store(sandbox):
    """orders/fulfillments keep per-store cursors: sample_state.json names every store of
    the sandbox; abnormal_state.json names none and covers every store of any account
    with its fallback cursor (`state`)."""
    stores = sorted(r["id"] for r in sandbox.truth("stores"))
    per_store = {"orders", "fulfillments"}
    for m in h.load_json(h.IT / "sample_state.json"):
        name, st = m["stream"]["stream_descriptor"]["name"], m["stream"]["stream_state"]
        if name in per_store:
            listed = sorted(e["partition"]["store_id"] for e in st["states"])
            assert listed == stores, (
                f"sample_state.json: {name} lists stores {listed}, the sandbox has {stores}; "
                "rerun integration_tests/generate_expected_records.py --states")
    abnormal = {m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"]
                for m in h.load_json(h.IT / "abnormal_state.json")}
    for name in per_store:
        assert abnormal[name] == {"state": {"updated_at": "2099-01-01T00:00:00Z"}}, abnormal[name]


def test_abnormal_state_reads_nothing_incremental(secrets_dir):
    """Future cursors (2099) in every incremental stream's state: no records for them."""
    res = h.docker_run(
        ["read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json",
         "--state", "/secrets/abnormal_state.json"],
        {secrets_dir: "/secrets"},
    )
    assert res.returncode == 0, h.summarize_failure(res)
    assert not res.errors(), h.summarize_failure(res)
    summary = h.protocol.check_read_sequence(res.messages, h.STREAMS, require_complete=True)
    leaked = {s: len(summary.records[s]) for s in h.INCREMENTAL if summary.records.get(s)}
    assert not leaked, f"incremental streams emitted records despite future state: {leaked}"
    # Full-refresh streams ignore state and still read.
    assert all(summary.records.get(s) for s in h.FULL_REFRESH_ONLY)
    # The state never moves backwards from the future cursor.
    for s in h.INCREMENTAL:
        for st in summary.states.get(s, []):
            assert "2099-01-01" in json.dumps(st), f"{s}: state moved back from the future cursor: {st}"
