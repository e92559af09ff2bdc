"""``verify_table``: the live table against the template, one named check at a time.

On the embedded endpoint (``local_target``, over HTTP, with its fidelity layer) a
deployed stack passes all ten checks, point-in-time recovery, encryption and the
stack outputs included. A table that lacks them (made without the template) shows
them as MISMATCH: verification never reports ``ok`` for what the backend did not do.
An emulator's declared gap (``EMULATOR_GAPS``) is reported as "not supported", never
as passed. The all-ok case of real AWS is scripted with ``botocore.stub.Stubber``.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber

from src.database.aws.target import Target
from src.database.deploy.deployer import StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import (
    ExpectedTable,
    Template,
    expected_table,
    load_template,
)
from src.database.deploy.verify import (
    EMULATOR_GAPS,
    MISMATCH,
    OK,
    UNSUPPORTED,
    Check,
    all_passed,
    verify_table,
)
from src.database.errors import TableNotFoundError
from tests.support.tables import create_digest_table

TABLE = "VibeDigest-dev"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"


@pytest.fixture(scope="module")
def template() -> Template:
    """The shipped template."""
    return load_template()


@pytest.fixture
def expected(template: Template) -> ExpectedTable:
    """What the dev table must look like."""
    return expected_table(template, "dev")


@pytest.fixture
def dynamodb(local_target: Target) -> BaseClient:
    """A dynamodb client on a freshly reset moto server."""
    return local_target.client("dynamodb")


@pytest.fixture
def deployed(local_target: Target, template: Template) -> tuple[BaseClient, dict[str, str]]:
    """The dev stack deployed on the embedded endpoint; returns the dynamodb client and the stack outputs."""
    session = local_target.session()
    dynamodb = local_target.client("dynamodb", session)
    deployer = StackDeployer(local_target.client("cloudformation", session), dynamodb, report=lambda _: None)
    result = deployer.deploy(
            StackSpec.of(template, stack_name="vibedigest-dev", environment="dev", table_name=TABLE, tags={"Project": "VibeDigest"})
        )
    return dynamodb, result.outputs


def by_name(checks: list[Check]) -> dict[str, Check]:
    """Index checks by name (names are unique)."""
    indexed = {check.name: check for check in checks}
    assert len(indexed) == len(checks)
    return indexed


def test_deployed_table_on_the_embedded_endpoint_passes_every_check(
    deployed: tuple[BaseClient, dict[str, str]], expected: ExpectedTable
) -> None:
    """After a deploy every check is ok: PITR, SSE and the outputs are applied and computed."""
    dynamodb, outputs = deployed
    checks = by_name(verify_table(dynamodb, expected, stack_outputs=outputs, emulator="moto"))
    assert {name for name, check in checks.items() if check.status == OK} == {
        "table name", "status", "key schema", "attribute types", "billing mode", "tags", "deletion protection",
        "point-in-time recovery", "encryption", "outputs",
    }
    assert all_passed(list(checks.values())) is True
    assert str(checks["encryption"]) == f"{'encryption':<24} ok: True"


def test_a_table_without_pitr_sse_or_outputs_is_a_mismatch(dynamodb: BaseClient, expected: ExpectedTable) -> None:
    """A table made without the template (no PITR, no SSE) and a stack without outputs: MISMATCH each."""
    create_digest_table(dynamodb, TABLE)
    checks = by_name(verify_table(dynamodb, expected, stack_outputs={}, emulator="moto"))
    assert checks["point-in-time recovery"].status == MISMATCH
    assert checks["point-in-time recovery"].detail == "expected True, found False"
    assert checks["encryption"].status == MISMATCH
    assert checks["outputs"].status == MISMATCH
    assert not any(check.status == UNSUPPORTED for check in checks.values())
    assert all_passed(list(checks.values())) is False
    assert "MISMATCH: expected True, found False" in str(checks["encryption"])


def test_an_emulator_gap_is_reported_as_not_supported_never_as_ok(
    dynamodb: BaseClient, expected: ExpectedTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check an emulator declares it cannot show says so, whatever the table has."""
    monkeypatch.setitem(EMULATOR_GAPS, "some-emulator", {"encryption": "it cannot show SSE"})
    create_digest_table(dynamodb, TABLE)
    checks = by_name(verify_table(dynamodb, expected, emulator="some-emulator"))
    assert checks["encryption"].status == UNSUPPORTED
    assert "not supported by this endpoint: it cannot show SSE" in str(checks["encryption"])
    assert checks["point-in-time recovery"].status == MISMATCH


def test_outputs_check_is_skipped_without_stack_outputs(
    deployed: tuple[BaseClient, dict[str, str]], expected: ExpectedTable
) -> None:
    """With no stack outputs to compare (None), there is no outputs check at all."""
    dynamodb, _ = deployed
    names = [check.name for check in verify_table(dynamodb, expected, emulator="moto")]
    assert "outputs" not in names
    assert "billing mode" in names


def test_hand_made_table_with_wrong_billing_and_key_is_reported_not_raised(
    dynamodb: BaseClient, expected: ExpectedTable
) -> None:
    """A table created outside the stack (PROVISIONED, wrong sort key, no tags) gives MISMATCH checks."""
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "digest_date", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "digest_date", "KeyType": "HASH"},
            {"AttributeName": "rank", "KeyType": "RANGE"},
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    checks = by_name(verify_table(dynamodb, expected, emulator="moto"))
    assert checks["billing mode"].status == MISMATCH
    assert checks["billing mode"].detail == "expected PAY_PER_REQUEST, found PROVISIONED"
    assert checks["key schema"].status == MISMATCH
    assert "'RANGE': 'rank'" in checks["key schema"].detail
    assert checks["attribute types"].status == MISMATCH
    assert checks["tags"].status == MISMATCH
    assert checks["table name"].status == OK
    assert checks["status"].status == OK
    assert all_passed(list(checks.values())) is False


def test_missing_table_raises_table_not_found(dynamodb: BaseClient, expected: ExpectedTable) -> None:
    """Verification needs the table; its absence is TableNotFoundError naming it, not a list of mismatches."""
    with pytest.raises(TableNotFoundError, match=TABLE):
        verify_table(dynamodb, expected, emulator="moto")


# -- what real AWS answers, scripted ---------------------------------------------------------


def aws_table(expected: ExpectedTable, **changes: Any) -> dict[str, Any]:
    """A DescribeTable answer shaped like real AWS for the dev table as the template defines it."""
    table: dict[str, Any] = {
        "TableName": expected.table_name,
        "TableArn": ARN,
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": name, "KeyType": key} for key, name in expected.key_schema.items()],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in expected.attribute_types.items()
        ],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS"},
        "DeletionProtectionEnabled": False,
    }
    table.update(changes)
    return {"Table": table}


def scripted_checks(expected: ExpectedTable, table: dict[str, Any], pitr: str,
                    outputs: dict[str, str] | None) -> list[Check]:
    """Run verify_table (emulator=None) against scripted DescribeTable, tags and backups answers."""
    client = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                           region_name="us-east-1").client("dynamodb")
    with Stubber(client) as stubber:
        stubber.add_response("describe_table", table, {"TableName": TABLE})
        stubber.add_response(
            "list_tags_of_resource",
            {"Tags": [{"Key": k, "Value": v} for k, v in {**expected.tags, "aws:cloudformation:stack-name": "x"}.items()]},
            {"ResourceArn": ARN},
        )
        stubber.add_response(
            "describe_continuous_backups",
            {"ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr},
            }},
            {"TableName": TABLE},
        )
        checks = verify_table(client, expected, stack_outputs=outputs, emulator=None)
        stubber.assert_no_pending_responses()
    return checks


def test_real_aws_answers_make_every_check_ok(expected: ExpectedTable) -> None:
    """PITR ENABLED, SSE ENABLED and both outputs present: every check ok, none unsupported.
    Extra tags that CloudFormation adds (aws:cloudformation:*) do not count against the table."""
    outputs = {"TableName": TABLE, "TableArn": ARN}
    checks = scripted_checks(expected, aws_table(expected), "ENABLED", outputs)
    assert [(c.name, c.status) for c in checks if c.status != OK] == []
    assert "outputs" in [c.name for c in checks]
    assert all_passed(checks) is True


def test_real_aws_answers_with_pitr_off_and_wrong_outputs_mismatch(expected: ExpectedTable) -> None:
    """Control for the test above: the same script with PITR disabled, deletion protection on
    and a stale output is reported check by check."""
    outputs = {"TableName": "VibeDigest-old", "TableArn": ARN}
    checks = by_name(scripted_checks(expected, aws_table(expected, DeletionProtectionEnabled=True), "DISABLED", outputs))
    assert {name for name, c in checks.items() if c.status == MISMATCH} == {
        "point-in-time recovery", "deletion protection", "outputs",
    }
    assert "VibeDigest-old" in checks["outputs"].detail

