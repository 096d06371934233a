"""Fixtures for the packaging tests (run by tests_py/packaging/run.sh).

SANDBOX_URL: use a sandbox that is already running (run.sh starts one on 127.0.0.1:18089,
seed 42, 200 records, no rate limit); without it a sandbox with the same data is started
on a free loopback port for the session.
CONNECTOR_IMAGE: the image under test (default airbyte/source-aftership:dev).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

import packaging_helpers as h


@pytest.fixture(scope="session")
def sandbox():
    url = os.environ.get("SANDBOX_URL")
    if url:
        yield h.Sandbox(url=url.rstrip("/"))
        return
    sb = h.start_sandbox()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def work_dir() -> Path:
    """Scratch space the Docker daemon can bind-mount (under the repo's ignored .tmp/)."""
    d = h.ROOT / ".tmp" / "packaging" / f"run-{uuid.uuid4().hex[:8]}"
    h.make_world_readable_dir(d)
    yield d
    if not os.environ.get("KEEP_TEST_FILES"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def secrets_dir(work_dir: Path, sandbox) -> Path:
    """A `secrets/` folder as a user would mount it at /secrets: config and catalog."""
    d = h.make_world_readable_dir(work_dir / "secrets")
    h.write_json(d / "config.json", h.config_for(sandbox.url))
    h.write_json(d / "invalid_config.json", h.config_for(sandbox.url, h.IT / "invalid_config.json"))
    h.write_json(d / "catalog.json", h.load_json(h.IT / "configured_catalog.json"))
    h.write_json(d / "sample_state.json", h.load_json(h.IT / "sample_state.json"))
    h.write_json(d / "abnormal_state.json", h.load_json(h.IT / "abnormal_state.json"))
    return d


@pytest.fixture(scope="session")
def full_read(secrets_dir: Path) -> h.RunResult:
    """`docker run ... read` of every stream of configured_catalog.json, no state."""
    return h.docker_run(
        ["read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json"],
        {secrets_dir: "/secrets"},
    )
