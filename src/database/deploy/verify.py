"""Compare the live table with what the template says, one named check at a time.

Each ``Check`` is ``ok``, ``mismatch`` or ``unsupported``. ``unsupported`` is for
what an emulator cannot show (``EMULATOR_GAPS``): such a check says "not supported
by this endpoint" instead of passing. The embedded endpoint has none left: its
fidelity layer (``moto_fidelity``) applies point-in-time recovery and SSE from the
template and computes outputs for change sets, so every check is a real comparison
there. A mismatch is never hidden. ``read_live_table`` is the reading half, which the
operator's ``status`` shows as it is; an endpoint that does not implement
DescribeContinuousBackups gets point-in-time recovery "not supported by this endpoint"
there and in the check, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from ..aws.aws_call import call_aws
from ..errors import DatabaseError, ServiceError
from ..settings import attribute_types, key_schema
from .template import ExpectedTable

OK, MISMATCH, UNSUPPORTED = "ok", "mismatch", "unsupported"

# What each emulator cannot show, by check name; the reason is printed with the check.
# "moto" (the embedded endpoint, with its fidelity layer) shows every check.
EMULATOR_GAPS: dict[str, dict[str, str]] = {"moto": {}}
NOT_SUPPORTED = "not supported by this endpoint"
# How an endpoint says it does not implement an operation: DynamoDB's own error code (MiniStack
# answers it for what it lacks, ministack/services/dynamodb.py:1197), or HTTP 501 Not Implemented
# (LocalStack: "not yet implemented or pro feature", https://github.com/localstack/localstack/issues/8998).
NOT_IMPLEMENTED_CODES = frozenset({"UnknownOperationException"})


@dataclass(frozen=True)
class Check:
    """One verification result."""

    name: str
    status: str
    detail: str

    def __str__(self) -> str:
        mark = {OK: "ok", MISMATCH: "MISMATCH", UNSUPPORTED: "not supported by this endpoint"}[self.status]
        return f"{self.name:<24} {mark}: {self.detail}"


@dataclass(frozen=True)
class LiveTable:
    """What DynamoDB says of a table: ``DescribeTable``'s answer and the settings it does not hold."""

    table: dict[str, Any]  # DescribeTable's "Table"
    tags: dict[str, str]
    point_in_time_recovery: str | None  # PointInTimeRecoveryStatus: ENABLED, DISABLED, or NOT_SUPPORTED

    @property
    def keys(self) -> dict[str, str]:
        """Key type (HASH, RANGE) -> attribute name."""
        return key_schema(self.table)

    @property
    def attribute_types(self) -> dict[str, str]:
        """Attribute name -> type (S, N, B) of the defined attributes."""
        return attribute_types(self.table)

    @property
    def billing_mode(self) -> str:
        """PAY_PER_REQUEST or PROVISIONED (DynamoDB omits the summary for provisioned tables)."""
        return str(self.table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))

    @property
    def encryption(self) -> str:
        """The SSE status (ENABLED, ENABLING, ...), or DISABLED: DynamoDB's own key, no SSE description."""
        return str(self.table.get("SSEDescription", {}).get("Status", "DISABLED"))


def read_live_table(dynamodb: BaseClient, name: str) -> LiveTable:
    """Read table ``name``: DescribeTable, ListTagsOfResource, DescribeContinuousBackups.

    A missing table raises ``TableNotFoundError``. Point-in-time recovery is
    ``NOT_SUPPORTED`` where the endpoint does not implement DescribeContinuousBackups.
    """
    table = _call(dynamodb, "describe_table", name, TableName=name)["Table"]
    tags = {
        t["Key"]: t["Value"]
        for t in _call(dynamodb, "list_tags_of_resource", name, ResourceArn=table["TableArn"]).get("Tags", [])
    }
    try:
        pitr = (
            _call(dynamodb, "describe_continuous_backups", name, TableName=name)["ContinuousBackupsDescription"]
            .get("PointInTimeRecoveryDescription", {})
            .get("PointInTimeRecoveryStatus")
        )
    except ServiceError as error:
        if not not_implemented(error):
            raise
        pitr = NOT_SUPPORTED
    return LiveTable(table, tags, pitr)


def not_implemented(error: DatabaseError) -> bool:
    """True when ``error`` says the endpoint does not implement the operation (not that it failed)."""
    cause = error.__cause__
    answer = cause.response if isinstance(cause, ClientError) else {}
    status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.code in NOT_IMPLEMENTED_CODES or status == 501


def verify_table(
    dynamodb: BaseClient,
    expected: ExpectedTable,
    *,
    stack_outputs: dict[str, str] | None = None,
    emulator: str | None = None,
) -> list[Check]:
    """Run every check of the live table against ``expected``; never raises on a mismatch."""
    gaps = EMULATOR_GAPS.get(emulator or "", {})
    name = expected.table_name
    live = read_live_table(dynamodb, name)
    if live.point_in_time_recovery == NOT_SUPPORTED:
        gaps = {**gaps, "point-in-time recovery": "this endpoint does not implement DescribeContinuousBackups"}
    table = live.table
    wanted_tags = expected.tags
    checks = [
        _compare("table name", table["TableName"], name),
        _compare("status", table.get("TableStatus"), "ACTIVE"),
        _compare("key schema", live.keys, expected.key_schema),
        _compare("attribute types", live.attribute_types, expected.attribute_types),
        _compare("billing mode", live.billing_mode, expected.billing_mode),
        _compare("tags", {k: live.tags.get(k) for k in wanted_tags}, wanted_tags),
        _compare("deletion protection", bool(table.get("DeletionProtectionEnabled")), expected.deletion_protection),
        _gap_or_compare(
            gaps, "point-in-time recovery", live.point_in_time_recovery == "ENABLED", expected.point_in_time_recovery
        ),
        _gap_or_compare(gaps, "encryption", live.encryption in ("ENABLED", "ENABLING"), expected.sse_enabled),
    ]
    if stack_outputs is not None:
        outputs = {"TableName": name, "TableArn": table["TableArn"]}
        got = {k: stack_outputs.get(k) for k in outputs}
        checks.append(_gap_or_compare(gaps, "outputs", got, outputs))
    return checks


def _call(dynamodb: BaseClient, method: str, table: str, **params: Any) -> dict[str, Any]:
    return call_aws(dynamodb, "".join(part.title() for part in method.split("_")), table=table, **params)


def _compare(name: str, actual: Any, expected: Any) -> Check:
    if actual == expected:
        return Check(name, OK, str(actual))
    return Check(name, MISMATCH, f"expected {expected}, found {actual}")


def _gap_or_compare(gaps: dict[str, str], name: str, actual: Any, expected: Any) -> Check:
    if name in gaps:
        return Check(name, UNSUPPORTED, f"{gaps[name]}; the template sets {expected} (checked by cfn-lint and tests)")
    return _compare(name, actual, expected)


def all_passed(checks: list[Check]) -> bool:
    """True when no check is a mismatch (unsupported checks are neither pass nor fail)."""
    return all(check.status != MISMATCH for check in checks)
