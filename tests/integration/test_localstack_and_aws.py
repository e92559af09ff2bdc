"""Opt-in end-to-end runs against LocalStack and real AWS; skipped unless asked for.

- ``VIBEDIGEST_LOCALSTACK=1``: ``deploy`` and ``status`` with ``--target localstack``
  (LocalStack running, by default on http://localhost:4566; ``LOCALSTACK_*`` variables
  are honoured through ``localstack_client``). ``VIBEDIGEST_LOCALSTACK=ministack``: the
  same against a MiniStack, whose declared gaps (``tests.support.backends.GAPS``) are the
  only checks allowed to end ``MISMATCH`` (the test command runs it so, through
  ``run_gate --emulator ministack --pytest``).
- ``VIBEDIGEST_AWS_TESTS=1``: ``deploy`` and ``status`` with ``--target aws`` using
  boto3's standard credential chain, in environment ``VIBEDIGEST_AWS_ENV`` (default
  ``staging``; ``prod`` is refused). This creates or updates a real stack and table,
  which are kept afterwards (DeletionPolicy: Retain): a second run is a no-op.

Credentials: the autouse ``aws_environment`` fixture in tests/conftest.py replaces the
AWS variables with placeholders for every test, via ``monkeypatch``. This module
therefore snapshots ``os.environ`` when it is imported -- at collection, before any
fixture runs (with xdist, in each worker, whose environment is the caller's) -- and
runs the CLI as a subprocess with that snapshot, so it sees the caller's real
``AWS_PROFILE``/keys/region/SSO cache while every other test stays scrubbed.
tox's ``setenv`` puts placeholder keys in the snapshot itself and passes no
``AWS_PROFILE``, so run the AWS tests with pytest directly, not through tox:
``VIBEDIGEST_AWS_TESTS=1 AWS_PROFILE=... python -m pytest tests/integration/test_localstack_and_aws.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backends import GAPS

ROOT = Path(__file__).resolve().parents[2]
REAL_ENVIRONMENT = dict(os.environ)  # taken at import, before conftest's autouse fixture scrubs it
PLACEHOLDER_KEY = "testing"

LOCALSTACK = REAL_ENVIRONMENT.get("VIBEDIGEST_LOCALSTACK", "")
LOCALSTACK_ENABLED = LOCALSTACK == "1" or LOCALSTACK in GAPS
# The verification checks the emulator's declared gaps make MISMATCH (none on LocalStack itself).
KNOWN_MISMATCHES = {check for gap in GAPS.get(LOCALSTACK, ()) for check in gap.checks}
AWS_ENABLED = REAL_ENVIRONMENT.get("VIBEDIGEST_AWS_TESTS") == "1"
AWS_ENV = REAL_ENVIRONMENT.get("VIBEDIGEST_AWS_ENV", "staging")


def run_cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the caller's real environment (see the module docstring)."""
    return subprocess.run(
        [sys.executable, "-m", "src.database", *args],
        cwd=ROOT,
        env={**REAL_ENVIRONMENT, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_success(result: subprocess.CompletedProcess[str]) -> None:
    """Exit 0 without an error line; show the output otherwise."""
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert not any(line.startswith("error:") for line in result.stderr.splitlines()), result.stderr


@pytest.mark.localstack
@pytest.mark.skipif(
    not LOCALSTACK_ENABLED, reason="LocalStack test: set VIBEDIGEST_LOCALSTACK=1 with LocalStack running on :4566 (or =ministack)"
)
def test_deploy_and_status_on_localstack() -> None:
    """Deploy the dev stack on LocalStack (idempotent), verify it, then describe the table."""
    deployed = run_cli("deploy", "--env", "dev", "--target", "localstack", timeout=300)
    mismatched = {line.split(" MISMATCH:")[0].strip() for line in deployed.stdout.splitlines() if " MISMATCH:" in line}
    assert mismatched == KNOWN_MISMATCHES, deployed.stdout  # a gap the emulator closed shows here too
    if KNOWN_MISMATCHES:
        assert deployed.returncode == 1 and "does not match the template" in deployed.stdout, deployed.stdout
    else:
        assert_success(deployed)
    assert "Connection OK. Table description:" in deployed.stdout
    status = run_cli("status", "--env", "dev", "--target", "localstack", timeout=120)
    assert_success(status)
    assert "VibeDigest-dev" in status.stdout


@pytest.mark.aws
@pytest.mark.skipif(
    not AWS_ENABLED,
    reason="real AWS test: set VIBEDIGEST_AWS_TESTS=1 with AWS credentials "
    "(VIBEDIGEST_AWS_ENV=dev|staging, default staging); it creates a real stack and table",
)
def test_deploy_and_status_on_aws() -> None:
    """Deploy the stack of VIBEDIGEST_AWS_ENV to real AWS, verify every check, then describe the table."""
    if AWS_ENV not in ("dev", "staging"):
        pytest.fail(f"VIBEDIGEST_AWS_ENV={AWS_ENV!r}: the tests deploy only to dev or staging, never prod.")
    if REAL_ENVIRONMENT.get("AWS_ACCESS_KEY_ID") == PLACEHOLDER_KEY and "AWS_PROFILE" not in REAL_ENVIRONMENT:
        pytest.fail("VIBEDIGEST_AWS_TESTS=1 but the environment holds placeholder credentials "
                    "(tox sets them): run pytest directly with real AWS credentials or AWS_PROFILE.")
    deployed = run_cli("deploy", "--env", AWS_ENV, "--target", "aws", "--timeout", "600", timeout=900)
    assert_success(deployed)
    assert "not supported by this endpoint" not in deployed.stdout  # real AWS shows PITR, SSE and outputs
    assert "Deployment verified." in deployed.stdout
    status = run_cli("status", "--env", AWS_ENV, "--target", "aws", timeout=120)
    assert_success(status)
    assert f"VibeDigest-{AWS_ENV}" in status.stdout
