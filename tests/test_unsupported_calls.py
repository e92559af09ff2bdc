"""An endpoint that does not implement DescribeContinuousBackups: ``status`` and the checks say so, and go on.

A ``FaultProxy`` in front of the worker's moto server answers that one operation as
MiniStack or DynamoDB does for what they lack (400 ``UnknownOperationException``) or as
LocalStack does (501); everything else reaches moto. Any other failure of the call is
still an error (the control test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from src.database.aws.target import Target
from src.database.cli.parser import main
from src.database.deploy.template import expected_table, load_template
from src.database.deploy.verify import (
    MISMATCH,
    OK,
    UNSUPPORTED,
    all_passed,
    verify_table,
)
from tests.support.acceptance import deploy_environment
from tests.support.fault_proxy import Fault, FaultProxy

pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/conftest.py


@pytest.fixture
def proxied(local_target: Target) -> Iterator[FaultProxy]:
    """The dev environment deployed on the worker's moto server, behind a fault proxy."""
    deploy_environment(local_target, "dev")
    assert local_target.endpoint_url is not None
    with FaultProxy(local_target.endpoint_url) as proxy:
        yield proxy


@pytest.mark.parametrize("fault", [Fault.UNKNOWN_OPERATION_ERROR, Fault.HTTP_501])
def test_status_marks_point_in_time_recovery_not_supported_and_exits_0(
    proxied: FaultProxy, fault: Fault, capsys: pytest.CaptureFixture[str]
) -> None:
    proxied.inject(fault, times=None, operations={"DescribeContinuousBackups"})
    code = main(["status", "--env", "dev", "--endpoint-url", proxied.url])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()
            if line.startswith("  ") and " " in line.strip()}
    assert rows["point_in_time_recovery"] == "not supported by this endpoint", out
    assert rows["encryption"] == "ENABLED" and rows["table_name"] == "VibeDigest-dev", out
    assert proxied.faults_injected >= 1


def test_any_other_failure_of_the_call_is_still_an_error(proxied: FaultProxy, capsys: pytest.CaptureFixture[str]) -> None:
    """Control: a server error on the same call is not taken for a missing operation."""
    proxied.inject(Fault.HTTP_503, times=None, operations={"DescribeContinuousBackups"})
    assert main(["status", "--env", "dev", "--endpoint-url", proxied.url, "--timeout", "20"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "DescribeContinuousBackups" in err and "Traceback" not in err, err


def test_the_point_in_time_recovery_check_is_unsupported_not_ok_and_the_rest_still_compare(
    proxied: FaultProxy, local_target: Target
) -> None:
    proxied.inject(Fault.UNKNOWN_OPERATION_ERROR, times=None, operations={"DescribeContinuousBackups"})
    client = Target.local(proxied.url, local_target.region).client("dynamodb")
    expected = expected_table(load_template(), "dev")
    checks = {check.name: check for check in verify_table(client, expected, emulator="moto")}
    pitr = checks.pop("point-in-time recovery")
    assert pitr.status == UNSUPPORTED and "does not implement DescribeContinuousBackups" in pitr.detail
    assert str(pitr).startswith("point-in-time recovery") and "not supported by this endpoint" in str(pitr)
    assert {name: check.status for name, check in checks.items()} == dict.fromkeys(checks, OK)
    assert all_passed([pitr, *checks.values()])

    wrong = dataclasses.replace(expected, sse_enabled=False)  # a mismatch beside it is still one
    assert {c.name for c in verify_table(client, wrong, emulator="moto") if c.status == MISMATCH} == {"encryption"}
