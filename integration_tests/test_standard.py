"""Airbyte's standard Docker connector tests (airbyte-cdk 7.39.1) against the built image.

The scenarios come from acceptance-test-config.yml. Run through
tests_py/packaging/run.sh (which runs it on a staged copy whose configs name its sandbox),
or by hand from the repo root with a sandbox started as
`target/release/aftership-sandbox --port 18089 --records 200 --no-rate-limit` (the address
in integration_tests/*_config.json) and scripts/docker-host-net first on PATH as `docker`:

    pytest -p airbyte_cdk.test.standard_tests.pytest_hooks integration_tests/test_standard.py \
        --connector-image airbyte/source-aftership:dev \
        --read-from-streams=true --read-scenarios=sample_config \
        -k "not backward_compatibility"
"""

from airbyte_cdk.test.standard_tests.docker_base import DockerConnectorTestSuite


class TestSourceAftership(DockerConnectorTestSuite):
    """All tests are inherited; the class only anchors them to this connector."""
