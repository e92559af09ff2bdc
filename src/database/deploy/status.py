"""What the operator's ``status`` shows: the stack and the table of one environment, read-only.

``environment_status`` reads both through one session of a ``Target``: the stack
with ``StackDeployer.describe`` (status, latest events, outputs, exports) and the
table with ``verify.read_live_table`` (keys, billing mode, tags, point-in-time
recovery, encryption, deletion protection, item count), and the stack's drift with
``drift.stack_drift`` (CloudFormation's drift detection, or why the endpoint has
none). Either may be missing: a
stack whose create failed has no table, and a table retained by a deleted stack has
no stack; both are facts to show, not errors. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws.target import Target
from ..client import DynamoDBClient
from ..errors import TableNotFoundError
from ..settings import stack_name_for, table_name_for, validate_environment
from .deployer import StackDeployer
from .drift import StackDrift, stack_drift
from .stack_reading import StackDescription
from .verify import LiveTable, read_live_table

DEFAULT_EVENTS = 10


@dataclass
class TableStatus:
    """The live table: ``summary`` (``DynamoDBClient.test_connection``'s) and what DynamoDB says of it."""

    summary: dict[str, Any]
    live: LiveTable


@dataclass
class EnvironmentStatus:
    """One environment's stack and table; None for the one that does not exist."""

    environment: str
    stack_name: str
    table_name: str
    stack: StackDescription | None
    table: TableStatus | None
    drift: StackDrift | None = None  # None: no stack to detect drift of


def environment_status(target: Target, environment: str, *, events: int = DEFAULT_EVENTS) -> EnvironmentStatus:
    """Read the table and the stack (with its ``events`` latest events) of ``environment`` on ``target``.

    The table first, as ``DynamoDBClient.test_connection`` (one DescribeTable, logged):
    the connection test the operator expects of ``status``. Raises
    ``TableNotFoundError`` when neither the table nor the stack exists (nothing was
    deployed there), and the package's errors for failed calls.
    """
    environment = validate_environment(environment)
    stack_name, table_name = stack_name_for(environment), table_name_for(environment)
    session = target.session()
    dynamodb = target.client("dynamodb", session)
    table: TableStatus | None = None
    missing: TableNotFoundError | None = None
    try:
        summary = DynamoDBClient.for_target(target, environment, client=dynamodb).test_connection()
        table = TableStatus(summary, read_live_table(dynamodb, table_name))
    except TableNotFoundError as error:
        missing = error
    cloudformation = target.client("cloudformation", session)
    deployer = StackDeployer(cloudformation, dynamodb, report=lambda _: None)
    stack = deployer.describe(stack_name, events=events)
    if stack is None and missing is not None:
        raise missing
    drift = stack_drift(cloudformation, stack_name) if stack is not None else None
    return EnvironmentStatus(environment, stack_name, table_name, stack, table, drift)
