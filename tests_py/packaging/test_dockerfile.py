"""The Dockerfile's structure: the offline target is the default runtime stage's twin.

A plain `docker build .` builds the last stage, `runtime` (runtime-base + the binary from
the Rust `build` stage); scripts/build-image builds `runtime-prebuilt` (runtime-base +
the host-built binary). These checks keep the two from drifting apart, since the
registry path cannot be exercised on a machine without a registry.
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


def test_offline_target_differs_only_in_the_binary_origin():
    by_name = {st["name"]: st for st in stages()}
    pre = by_name["runtime-prebuilt"]
    assert pre["from"] == "runtime-base"
    assert pre["instr"] == [("COPY", "build/docker/source-aftership /usr/local/bin/source-aftership")]
    names = [st["name"] for st in stages()]
    # The legacy builder builds every stage up to the target: nothing that needs a
    # registry image may come before runtime-prebuilt.
    assert names.index("runtime-base") < names.index("runtime-prebuilt") < names.index("build")


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
