"""Create tables shaped like the template's, for tests of the client rather than the deployment.

Creating the table directly skips cfn-lint and moto's CloudFormation start-up (seconds
on a busy machine); the shape (keys, attribute types, billing mode) is still read from
``infrastructure/dynamodb.yml``, so the tests use the table the stack would deploy.
"""

from __future__ import annotations

import functools
from typing import Any

from src.database.deploy.template import ExpectedTable, expected_table, load_template


@functools.lru_cache(maxsize=1)
def template_table() -> ExpectedTable:
    """The table the template defines for dev (parsed and linted once per process)."""
    return expected_table(load_template(), "dev")


def create_digest_table(dynamodb: Any, table_name: str) -> str:
    """Create ``table_name`` on a low-level DynamoDB client with the template's shape, wait until it exists; return the name."""
    shape = template_table()
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": name, "KeyType": kind} for kind, name in shape.key_schema.items()],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind} for name, kind in shape.attribute_types.items()
        ],
        BillingMode=shape.billing_mode,
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return table_name
