"""Airbyte's standard Docker connector tests (airbyte-cdk 7.39.1) against the built image.

The scenarios come from acceptance-test-config.yml. Run through
tests_py/packaging/run.sh, or by hand from the repo root with the sandbox listening
on 127.0.0.1:18089 and scripts/docker-host-net first on PATH as `docker`:

    pytest -p airbyte_cdk.test.standard_tests.pytest_hooks integration_tests/test_standard.py \
        --connector-image airbyte/source-aftership:dev \
        --read-from-streams=true --read-scenarios=sample_config \
        -k "not backward_compatibility"
"""

from airbyte_cdk.test.standard_tests.docker_base import DockerConnectorTestSuite


class TestSourceAftership(DockerConnectorTestSuite):
    """All tests are inherited; the class only anchors them to this connector."""
