"""Bring a retained table back under a new stack: CloudFormation's resource import.

``DeletionPolicy: Retain`` keeps the table when its stack is deleted; deploying
again would then try to create a table that exists and roll back. Instead the
deployer adopts it with an ``IMPORT`` change set (AWS's documented way to bring a
retained resource back under a stack), after checking that its keys match the
template: an import never changes the table, so a table with other keys would
end up in a stack that misdescribes it.

``import_template`` is the template reduced to what an import accepts: the table
resource (with its ``DeletionPolicy``) and no ``Outputs`` ("As part of the import
operation, you cannot modify or add [Outputs]"); the deployer sends the IMPORT
change set without stack tags for the same reason ("... [Tags]"). The normal update
that follows applies the full template, the stack tags, and (drift-aware) brings
settings the table took while outside the stack back to the template's.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.client import BaseClient

from ..aws.aws_call import call_aws
from ..errors import DeploymentError, ServiceError
from ..settings import attribute_types, key_schema
from .template import ExpectedTable, Template

# DescribeTable's answers that mean "no such table" (a name DynamoDB refuses cannot exist either)
_ABSENT_CODES = frozenset({"ResourceNotFoundException", "ValidationException"})


def existing_table(dynamodb: BaseClient, table_name: str) -> dict[str, Any] | None:
    """DescribeTable's ``Table``, or None when there is no such table."""
    try:
        table: dict[str, Any] = call_aws(dynamodb, "DescribeTable", TableName=table_name)["Table"]
    except ServiceError as error:  # no ``table=``: a missing table is an answer here, not an error
        if error.code in _ABSENT_CODES:
            return None
        raise
    return table


def key_differences(table: dict[str, Any], expected: ExpectedTable) -> list[str]:
    """How the live table's keys differ from the template's, one phrase each ([] when they match)."""
    keys, types = key_schema(table), attribute_types(table)
    differences = []
    for key_type in ("HASH", "RANGE"):
        live, wanted = keys.get(key_type), expected.key_schema.get(key_type)
        if live != wanted:
            differences.append(f"{key_type} key is {live or 'absent'}, the template says {wanted or 'absent'}")
        elif wanted is not None and types.get(wanted) != expected.attribute_types.get(wanted):
            differences.append(
                f"{key_type} key {wanted} has type {types.get(wanted)}, "
                f"the template says {expected.attribute_types.get(wanted)}"
            )
    return differences


def check_adoptable(table: dict[str, Any], expected: ExpectedTable) -> None:
    """Refuse, changing nothing, to adopt a table whose keys differ from the template's."""
    differences = key_differences(table, expected)
    if differences:
        raise DeploymentError(
            f"Table {expected.table_name} exists but does not match the template ({'; '.join(differences)}). "
            "It cannot be brought under the stack; nothing was changed."
        )
    if table.get("TableStatus") not in (None, "ACTIVE"):
        raise DeploymentError(
            f"Table {expected.table_name} is {table['TableStatus']}; it can be brought under the stack once ACTIVE. "
            "Nothing was changed."
        )


def import_template(template: Template, logical_id: str) -> str:
    """The template body for the import: the table resource only, no Outputs."""
    document = dict(template.document)
    resource = document["Resources"][logical_id]
    if "DeletionPolicy" not in resource:
        raise DeploymentError(
            f"Resource {logical_id} has no DeletionPolicy; CloudFormation imports only resources that have one."
        )
    document["Resources"] = {logical_id: resource}
    document.pop("Outputs", None)
    return json.dumps(document)


def resources_to_import(expected: ExpectedTable) -> list[dict[str, Any]]:
    """The ``ResourcesToImport`` parameter that adopts the table by name."""
    return [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": expected.logical_id,
            "ResourceIdentifier": {"TableName": expected.table_name},
        }
    ]
