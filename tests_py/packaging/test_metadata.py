"""metadata.yaml is valid Airbyte connector metadata, and the three version numbers agree."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json

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
