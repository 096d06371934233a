"""metadata.yaml is valid Airbyte connector metadata, and the three version numbers agree."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re

import jsonschema
import pytest
import yaml

import packaging_helpers as h

MODELS_VERSION = "0.1.12"


@pytest.fixture(scope="module")
def metadata() -> dict:
    return yaml.safe_load((h.ROOT / "metadata.yaml").read_text())


def test_models_package_is_the_pinned_one():
    assert importlib.metadata.version("airbyte-connector-models") == MODELS_VERSION


def test_metadata_matches_json_schema(metadata):
    """Against ConnectorMetadataDefinitionV0.json shipped in airbyte-connector-models."""
    schema_file = (importlib.resources.files("airbyte_connector_models")
                   / "metadata" / "v0" / "ConnectorMetadataDefinitionV0.json")
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(metadata), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_metadata_matches_pydantic_model(metadata):
    from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
        ConnectorMetadataDefinitionV0,
    )

    model = ConnectorMetadataDefinitionV0.model_validate(metadata)
    data = model.data
    assert data.connector_type.value == "source"
    assert data.connector_subtype.value == "api"
    assert data.docker_repository == "airbyte/source-aftership"
    assert "language:rust" in (data.tags or [])
    # An address that exists (Airbyte's docs page of source-aftership), never an invented
    # repository host; the page it stands for is docs/aftership.md here.
    assert str(data.documentation_url) == "https://docs.airbyte.com/integrations/sources/aftership"
    assert (h.ROOT / "docs" / "aftership.md").is_file()


def test_metadata_rejects_what_it_should(metadata):
    """The validation is not vacuous: an unknown key and a bad enum both fail."""
    schema_file = (importlib.resources.files("airbyte_connector_models")
                   / "metadata" / "v0" / "ConnectorMetadataDefinitionV0.json")
    validator = jsonschema.Draft7Validator(json.loads(schema_file.read_text()),
                                           format_checker=jsonschema.FormatChecker())
    bad_key = {**metadata, "data": {**metadata["data"], "unknownKey": 1}}
    bad_enum = {**metadata, "data": {**metadata["data"], "releaseStage": "beta-ish"}}
    assert list(validator.iter_errors(bad_key))
    assert list(validator.iter_errors(bad_enum))


def test_versions_agree(metadata):
    """metadata dockerImageTag == Cargo package version == Dockerfile io.airbyte.version."""
    tag = str(metadata["data"]["dockerImageTag"])
    cargo = h.cargo_version()
    label = h.dockerfile_label("io.airbyte.version")
    assert tag == cargo == label, f"metadata {tag}, Cargo.toml {cargo}, Dockerfile {label}"


def test_image_name_agrees(metadata):
    assert h.dockerfile_label("io.airbyte.name") == metadata["data"]["dockerRepository"]
    at = yaml.safe_load((h.ROOT / "acceptance-test-config.yml").read_text())
    assert at["connector_image"].split(":")[0] == metadata["data"]["dockerRepository"]


def test_allowed_hosts_cover_the_api_and_a_configured_base_url(metadata):
    """api.aftership.com, and the platform's ${...} reference to the config field whose
    host it allows (the platform keeps the host of the value: ConfigReplacer)."""
    hosts = metadata["data"]["allowedHosts"]["hosts"]
    assert "api.aftership.com" in hosts
    spec = h.load_json(h.IT / "spec.json")["connectionSpecification"]["properties"]
    refs = [m.group(1) for x in hosts for m in [re.fullmatch(r"\$\{([\w.]+)\}", x)] if m]
    assert refs == ["api_base_url"], hosts
    assert spec["api_base_url"]["default"] == "https://api.aftership.com"


def test_suggested_streams_are_streams(metadata):
    streams = metadata["data"]["suggestedStreams"]["streams"]
    assert streams and len(set(streams)) == len(streams)
    assert set(streams) <= set(h.STREAMS), set(streams) - set(h.STREAMS)


def _code_number(path: str, pattern: str) -> float:
    text = (h.ROOT / path).read_text()
    m = re.search(pattern, text)
    assert m, (f"{path} no longer has `{pattern}`: recompute metadata.yaml's "
               "maxSecondsBetweenMessages from the new wait rules and update this test")
    return float(m.group(1))


def test_max_seconds_between_messages_covers_the_longest_request(metadata):
    """The longest one request can keep a stream silent with the default settings before
    the connector gives up, from the wait rules in src/http and the spec's defaults."""
    spec = h.load_json(h.IT / "spec.json")["connectionSpecification"]["properties"]
    timeout = spec["request_timeout_seconds"]["default"]
    retries = spec["max_retries"]["default"]
    throttle_cap = _code_number("src/http/limits.rs", r"secs\.min\(([\d.]+)\) \+ 0\.05 \+ fastrand::f64\(\) \* 0\.2")
    backoff_cap = _code_number("src/http/limits.rs", r"let capped = base\.min\(([\d.]+)\)")
    backoff_first = _code_number("src/http/limits.rs", r"let base = ([\d.]+)f64 \* 2f64\.powi")
    budget_factor = _code_number("src/http/client.rs", r"self\.max_retries\.max\(1\) \* (\d+)")
    pace = _code_number("src/http/limits.rs", r"1\.0 / rate as f64 \* ([\d.]+)")
    throttles = int(retries * budget_factor)  # retried; one more ends the request
    failures = retries
    attempts = (throttles + 1) + (failures + 1)
    longest = (attempts * timeout
               + throttles * (throttle_cap + 0.25)
               + sum(min(backoff_first * 2 ** n, backoff_cap) for n in range(failures))
               + attempts * pace)
    limit = metadata["data"]["maxSecondsBetweenMessages"]
    assert 11_000 < longest <= limit, f"longest silence {longest:.0f} s, limit {limit} s"
    assert limit <= longest * 1.25, f"{limit} s is far above the longest silence {longest:.0f} s"


def test_icon_is_a_self_contained_svg(metadata):
    import xml.etree.ElementTree as ET

    icon = h.ROOT / metadata["data"]["icon"]
    root = ET.fromstring(icon.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    text = icon.read_text()
    assert "<script" not in text and "href" not in text, "no scripts, no external references"
