#!/usr/bin/env bash
# Packaging and acceptance tests of the connector image, offline.
#
#   tests_py/packaging/run.sh          # as root (scripts/build-image needs it once)
#
#  1. scripts/setup-venv               pinned Python tooling in .venv
#  2. scripts/build-image              airbyte/source-aftership:dev (SKIP_IMAGE_BUILD=1 reuses it)
#  3. the AfterShip sandbox            release binary on a free 127.0.0.1 port, seed 42,
#                                      200 records, --no-rate-limit (sample_config sets
#                                      max_requests_per_second=1000, since the sandbox
#                                      does not rate-limit and the documented AfterShip
#                                      limits would only slow the tests)
#  4. (a) Airbyte's CDK standard Docker suite (airbyte-cdk 7.39.1) on the image, read
#         tests included, scenarios from acceptance-test-config.yml; only the spec
#         backward-compatibility test (needs connectors.airbyte.com) is deselected.
#         The suite reads the connector's files from its root folder as they are, so it
#         runs on a staged copy of them (metadata.yaml, acceptance-test-config.yml less the
#         CAT-only keys it refuses, integration_tests/, Dockerfile) whose configs name this
#         run's sandbox address.
#         The suite runs `docker run` itself, so scripts/docker-host-net is put first on
#         PATH as `docker`: it adds `--network host`, the only way a container reaches
#         the sandbox on the host's loopback here.
#     (b) tests_py/packaging: docker run spec/check/discover/read, the Kubernetes
#         launcher imitation, abnormal (future) state, expected records, metadata
#         validation, version agreement, and the rules of Airbyte's Connector Acceptance
#         Test at high strictness that acceptance-test-config.yml relies on
#         (test_acceptance.py).
# The sandbox is stopped on exit. Exit status 0 only when every part passed.
#
# Environment: CONNECTOR_IMAGE (default airbyte/source-aftership:dev),
# SANDBOX_PORT (default 0: any free port; two runs on one machine never collide), PYTEST_ARGS (extra
# arguments for both pytest runs), SKIP_IMAGE_BUILD=1, SKIP_CDK_SUITE=1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CONNECTOR_IMAGE="${CONNECTOR_IMAGE:-airbyte/source-aftership:dev}"
port="${SANDBOX_PORT:-0}"
tmp="$root/.tmp/packaging/run-$$"
mkdir -p "$tmp"
py="$root/.venv/bin/python"
# shellcheck disable=SC2206  # word splitting of PYTEST_ARGS is intended
extra=(${PYTEST_ARGS:-})

t_start=$SECONDS
declare -a summary=()
failed=0
record() { # name status seconds
  summary+=("$(printf '%-44s %-5s %4d s' "$1" "$2" "$3")")
  if [ "$2" != PASS ]; then failed=1; fi
}
say() { printf '\n=== %s\n' "$*"; }

sandbox_pid=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill -TERM "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  [ -n "${KEEP_TEST_FILES:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

print_summary() {
  say "summary ($((SECONDS - t_start)) s in all)"
  printf '%s\n' "${summary[@]}"
  if [ "$failed" = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
}

# --- 1. venv -----------------------------------------------------------------------------
say "python venv"
t=$SECONDS
if scripts/setup-venv; then record "setup-venv" PASS $((SECONDS - t)); else
  record "setup-venv" FAIL $((SECONDS - t)); print_summary; exit 1; fi

# --- 2. image ----------------------------------------------------------------------------
t=$SECONDS
if [ "${SKIP_IMAGE_BUILD:-0}" = 1 ]; then
  say "image build skipped (SKIP_IMAGE_BUILD=1)"
elif say "scripts/build-image" && IMAGE="$CONNECTOR_IMAGE" scripts/build-image; then
  record "build-image" PASS $((SECONDS - t))
else
  record "build-image" FAIL $((SECONDS - t)); print_summary; exit 1
fi
docker image inspect --format '{{ .Size }}' "$CONNECTOR_IMAGE" >/dev/null 2>&1 \
  || { echo "image $CONNECTOR_IMAGE not found" >&2; record "image present" FAIL 0; print_summary; exit 1; }

# --- 3. sandbox --------------------------------------------------------------------------
say "sandbox on 127.0.0.1:$port"
t=$SECONDS
if ! cargo build --release -p source-aftership -p aftership-sandbox; then
  record "build sandbox" FAIL $((SECONDS - t)); print_summary; exit 1
fi
: >"$tmp/sandbox.out"
target/release/aftership-sandbox --port "$port" --seed 42 --records 200 --no-rate-limit \
  >"$tmp/sandbox.out" 2>"$tmp/sandbox.log" &
sandbox_pid=$!
sandbox_url=""
for _ in $(seq 1 100); do
  sandbox_url="$(head -n 1 "$tmp/sandbox.out" | tr -d '\r\n')"
  [ -n "$sandbox_url" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$sandbox_url" ]; then
  echo "the sandbox did not start; its log:" >&2; tail -n 20 "$tmp/sandbox.log" >&2
  record "sandbox" FAIL $((SECONDS - t)); print_summary; exit 1
fi
sandbox_url="${sandbox_url%/}"
echo "sandbox: $sandbox_url (pid $sandbox_pid)"
export SANDBOX_URL="$sandbox_url"
# The CDK suite mounts the root folder's integration_tests/*_config.json as they are:
# stage a copy of the files it reads, with configs naming this sandbox.
cdk_root="$tmp/cdk-root/source-aftership"
rm -rf "$cdk_root" && mkdir -p "$cdk_root"
cp -r metadata.yaml Dockerfile integration_tests "$cdk_root/"
# acceptance-test-config.yml is at CAT's high strictness; the CDK suite refuses the CAT keys
# it does not run (expect_records), so it gets the file without them.
"$py" -c 'import sys; sys.path.insert(0, "tests_py/packaging"); import packaging_helpers as h
h.stage_cdk_config(h.Path(sys.argv[1]), h.Path(sys.argv[2]))' \
  acceptance-test-config.yml "$cdk_root/acceptance-test-config.yml"
for f in sample_config.json invalid_config.json; do
  "$py" - "$cdk_root/integration_tests/$f" "$sandbox_url" <<'PY'
import json, sys
path, url = sys.argv[1], sys.argv[2]
cfg = json.load(open(path))
cfg["api_base_url"] = url
json.dump(cfg, open(path, "w"), indent=2)
PY
done
record "sandbox up" PASS $((SECONDS - t))

# --- 4a. CDK standard Docker suite ---------------------------------------------------------
shim="$tmp/bin"
mkdir -p "$shim"
ln -sf "$root/scripts/docker-host-net" "$shim/docker"
if [ "${SKIP_CDK_SUITE:-0}" = 1 ]; then
  say "CDK standard suite skipped (SKIP_CDK_SUITE=1)"
else
  say "(a) Airbyte CDK standard Docker suite (docker -> scripts/docker-host-net)"
  t=$SECONDS
  if PATH="$shim:$PATH" "$py" -m pytest -p no:cacheprovider -p airbyte_cdk.test.standard_tests.pytest_hooks \
      "$cdk_root/integration_tests/test_standard.py" \
      --connector-image "$CONNECTOR_IMAGE" \
      --read-from-streams=true --read-scenarios=sample_config \
      -k "not backward_compatibility" -ra "${extra[@]}"; then
    record "(a) CDK standard Docker suite" PASS $((SECONDS - t))
  else
    record "(a) CDK standard Docker suite" FAIL $((SECONDS - t))
  fi
fi

# --- 4b. our packaging tests ---------------------------------------------------------------
say "(b) tests_py/packaging"
t=$SECONDS
if "$py" -m pytest tests_py/packaging "${extra[@]}"; then
  record "(b) tests_py/packaging" PASS $((SECONDS - t))
else
  record "(b) tests_py/packaging" FAIL $((SECONDS - t))
fi

print_summary
exit "$failed"
