"""The Dockerfile's structure: one path for the plain build and the offline one.

A plain `docker build .` builds the last stage, `runtime` (runtime-base + the binary the
Rust `build` stage compiles); scripts/build-image runs the same stages with a context
that holds a host-built binary, which the `build` stage installs instead of compiling.
scripts/check-docker-build runs the plain build itself (not in CI: a cold Rust build in
a container); these checks keep the structure both rely on.
"""

from __future__ import annotations

import re

import packaging_helpers as h


def stages() -> list[dict]:
    text = re.sub(r"\\\n", " ", (h.ROOT / "Dockerfile").read_text())
    out: list[dict] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            assert m
            out.append({"from": m.group(1), "name": m.group(2), "instr": []})
        elif out:
            out[-1]["instr"].append((word, rest.strip()))
    return out


def test_default_target_is_runtime_on_runtime_base():
    s = stages()
    assert s[-1]["name"] == "runtime"
    assert s[-1]["from"] == "runtime-base"
    assert s[-1]["instr"] == [("COPY", "--from=build /usr/local/bin/source-aftership /usr/local/bin/source-aftership")]


def test_stages_are_the_same_for_both_builders():
    # No stage that one builder skips and the other builds: the classic builder builds
    # every stage up to the target, BuildKit only those the target needs.
    assert [(st["name"], st["from"]) for st in stages()] == [
        ("runtime-base", "${BASE_IMAGE}"), ("build", "${RUST_IMAGE}"), ("runtime", "runtime-base")]


def test_build_stage_compiles_unless_the_context_brings_a_binary():
    build = next(st for st in stages() if st["name"] == "build")
    run = " ".join(r for w, r in build["instr"] if w == "RUN")
    assert "if [ -f build/docker/source-aftership ]" in run
    assert "cargo build --release --locked --bin source-aftership" in run
    # A normal context never carries build/: a plain build always compiles.
    ignored = (h.ROOT / ".dockerignore").read_text().split()
    assert "build" in ignored and "target" in ignored


def test_runtime_base_has_the_airbyte_settings():
    base = next(st for st in stages() if st["name"] == "runtime-base")
    assert base["from"] == "${BASE_IMAGE}"
    instr = dict((w, r) for w, r in base["instr"] if w in ("ENV", "USER", "ENTRYPOINT"))
    assert instr["ENV"] == "AIRBYTE_ENTRYPOINT=/usr/local/bin/source-aftership"
    assert instr["USER"] == "1000:1000"
    assert instr["ENTRYPOINT"] == '["/usr/local/bin/source-aftership"]'
    text = (h.ROOT / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim" in text
    assert re.search(r"ARG RUST_IMAGE=docker.io/library/rust:1-slim-bookworm", text)


def test_metadata_base_image_is_the_dockerfile_default():
    import yaml

    meta = yaml.safe_load((h.ROOT / "metadata.yaml").read_text())
    base = meta["data"]["connectorBuildOptions"]["baseImage"]
    assert f"ARG BASE_IMAGE={base}\n" in (h.ROOT / "Dockerfile").read_text()
