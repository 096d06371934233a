"""Run the image the way Airbyte's Kubernetes workload launcher does.

The platform (airbyte-platform, workload-launcher `ContainerCommandFactory`) ignores the
image's ENTRYPOINT. It starts the container with `sh -c SCRIPT` as uid 1000 with every
capability dropped, where
SCRIPT checks that AIRBYTE_ENTRYPOINT is set, evals "$AIRBYTE_ENTRYPOINT <verb> <args>"
in the background, runs a watchdog loop (`sleep`) that kills it once a TERMINATED
marker file appears, waits, and writes the exit code to a file.

  spec / check / discover: working dir /config, config in
      /config/connectionConfiguration.json, stdout to /config/jobOutput.json
  read: working dir /source, /source/connectorConfig.json, /source/catalog.json,
      /source/inputState.json (only when there is state), stdout and stderr into the
      named pipes /source/stdout and /source/stderr, which a sidecar drains.

The scripts below are written from that description, not copied.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

import packaging_helpers as h

WRAPPER = r"""
if [ -z "$AIRBYTE_ENTRYPOINT" ]; then
  echo "Entrypoint was not set! AIRBYTE_ENTRYPOINT must be set in the container."
  exit 127
else
  echo "Using AIRBYTE_ENTRYPOINT: $AIRBYTE_ENTRYPOINT"
fi
(%(command)s) &
CHILD_PID=$!
(while true; do if [ -f TERMINATED ]; then kill $CHILD_PID; exit 0; fi; sleep 10; done) &
wait $CHILD_PID
EXIT_CODE=$?
echo $EXIT_CODE > TEMP_EXIT_CODE.txt
mv TEMP_EXIT_CODE.txt exitCode.txt
exit $EXIT_CODE
"""

OPERATION = 'eval "$AIRBYTE_ENTRYPOINT %(verb)s" > /config/jobOutput.json'

SOURCE = r"""
if [ ! -f /source/inputState.json ]; then
  eval "$AIRBYTE_ENTRYPOINT read --config /source/connectorConfig.json --catalog /source/catalog.json" 2> stderr > stdout
else
  eval "$AIRBYTE_ENTRYPOINT read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json" 2> stderr > stdout
fi
"""


def launch(workdir: str, mount: Path, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    script = WRAPPER % {"command": command.strip()}
    return subprocess.run(
        [h.docker_bin(), "run", "--rm", "--network", "host", "--user", "1000:1000",
         # Airbyte's rootless pods: runAsNonRoot, every capability dropped.
         "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
         "--entrypoint", "sh", "--workdir", workdir, "-v", f"{mount}:{workdir}",
         h.IMAGE, "-c", script],
        capture_output=True, text=True, timeout=timeout)


def pod_dir(work_dir: Path, name: str) -> Path:
    d = work_dir / name
    h.make_world_readable_dir(d, owner_uid=1000)
    return d


def read_exit_code(d: Path) -> int:
    return int((d / "exitCode.txt").read_text().strip())


@pytest.mark.parametrize("verb", ["spec", "check", "discover"])
def test_config_pod_operations(work_dir: Path, sandbox, verb: str):
    d = pod_dir(work_dir, f"config-{verb}")
    h.write_json(d / "connectionConfiguration.json", h.config_for(sandbox.url))
    args = verb if verb == "spec" else f"{verb} --config /config/connectionConfiguration.json"
    p = launch("/config", d, OPERATION % {"verb": args})
    assert p.returncode == 0, f"exit {p.returncode}: {p.stdout}\n{p.stderr}"
    assert "Using AIRBYTE_ENTRYPOINT: /usr/local/bin/source-aftership" in p.stdout
    assert read_exit_code(d) == 0
    messages = h.protocol.validate_output((d / "jobOutput.json").read_text())
    wanted = {"spec": "SPEC", "check": "CONNECTION_STATUS", "discover": "CATALOG"}[verb]
    found = [m for m in messages if m["type"] == wanted]
    assert len(found) == 1, f"{verb}: {len(found)} {wanted} messages"
    if verb == "check":
        assert found[0]["connectionStatus"]["status"] == "SUCCEEDED"
    if verb == "discover":
        assert sorted(s["name"] for s in found[0]["catalog"]["streams"]) == sorted(h.STREAMS)


class PipeDrain(threading.Thread):
    """Reads a named pipe to EOF, like the connector sidecar does."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path = path
        self.data = bytearray()

    def run(self) -> None:
        with open(self.path, "rb") as f:
            while chunk := f.read(65536):
                self.data.extend(chunk)

    def unblock(self) -> None:
        """If the writer never opened the pipe, open it once so the reader sees EOF."""
        if self.is_alive():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        self.join(timeout=10)


@pytest.mark.parametrize("with_state", [False, True], ids=["no-state", "sample-state"])
def test_read_pod_into_named_pipes(work_dir: Path, sandbox, with_state: bool):
    d = pod_dir(work_dir, f"source-{'state' if with_state else 'nostate'}")
    h.write_json(d / "connectorConfig.json", h.config_for(sandbox.url))
    h.write_json(d / "catalog.json", h.load_json(h.IT / "configured_catalog.json"))
    if with_state:
        h.write_json(d / "inputState.json", h.load_json(h.IT / "sample_state.json"))
    for pipe in ("stdout", "stderr"):
        os.mkfifo(d / pipe, 0o666)
        os.chmod(d / pipe, 0o666)
        assert stat.S_ISFIFO(os.stat(d / pipe).st_mode)
    drains = [PipeDrain(d / "stdout"), PipeDrain(d / "stderr")]
    for t in drains:
        t.start()
    try:
        p = launch("/source", d, SOURCE)
    finally:
        for t in drains:
            t.unblock()
    out, err = (bytes(t.data).decode() for t in drains)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stdout}\n{p.stderr}\nconnector stderr: {err[-2000:]}"
    assert read_exit_code(d) == 0
    messages = h.protocol.validate_output(out)
    summary = h.protocol.check_read_sequence(messages, h.STREAMS, require_complete=True)
    assert not summary.errors, summary.errors
    if not with_state:
        empty = [s for s in h.STREAMS if not summary.records.get(s)]
        assert not empty, f"streams without records: {empty}"
    for s in h.INCREMENTAL:
        assert summary.states.get(s), f"no STATE for {s}"
