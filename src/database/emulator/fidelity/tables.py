"""Gaps in how moto's CloudFormation creates and updates ``AWS::DynamoDB::Table``.

- ``sse``: the template's ``SSESpecification`` (``SSEEnabled``) reaches DynamoDB in
  the API's shape (``Enabled``), so ``DescribeTable`` shows ``SSEDescription``.
- ``pitr``: ``PointInTimeRecoverySpecification`` is applied after the create.
- ``table-name``: a name DynamoDB rejects fails the create, with DynamoDB's message
  (moto's CloudFormation path skips DynamoDB's request validation).
- ``table-updates``: a stack update applies tags, point-in-time recovery, SSE,
  deletion protection and billing mode to the table in place, replaces the table
  when its name changes, and fails as CloudFormation does when a custom-named
  table would need replacing (key schema, local secondary indexes).
- ``sse-update``: DynamoDB's ``UpdateTable`` applies ``SSESpecification`` (moto ignores
  it), so a table's encryption can be changed outside CloudFormation as on AWS.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.responses import DynamoHandler

from ...settings import TABLE_TYPE
from .scope import patch

# The resource's reference: which property updates need "Replacement", which "No interruption"
TABLE_REFERENCE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html"
# CloudFormation's reference for AWS::DynamoDB::Table: "Update requires: Replacement"
REPLACING_PROPERTIES = ("TableName", "KeySchema", "LocalSecondaryIndexes")
_NAME_PATTERN = "[a-zA-Z0-9_.-]+"

Original = Callable[..., Any]


class CustomNamedReplacement(Exception):
    """CloudFormation's refusal to replace a resource that has a custom name."""


def install() -> None:
    """Patch moto's resource create/update functions (see the module docstring)."""
    patch(parsing, "parse_and_create_resource", "table-name", _create_with_valid_name)
    patch(parsing, "parse_and_create_resource", "sse", _create_with_sse)
    patch(parsing, "parse_and_create_resource", "pitr", _create_with_pitr)
    patch(parsing, "parse_and_update_resource", "table-updates", _update_table)
    patch(DynamoHandler, "update_table", "sse-update", _update_table_sse)


def resolve(node: Any, resources_map: Any) -> Any:
    """The value of a template fragment with its intrinsic functions resolved."""
    return parsing.clean_json(copy.deepcopy(node), resources_map)


def truthy(value: Any) -> bool:
    """A template boolean (``true``, ``"true"``, ``"True"``) as a bool."""
    return str(value).lower() == "true"


def _is_table(resource_json: dict[str, Any], resources_map: Any) -> bool:
    if resource_json.get("Type") != TABLE_TYPE:
        return False
    condition = resource_json.get("Condition")
    return not condition or bool(resources_map.lazy_condition_map[condition])


def _create_with_valid_name(
    original: Original, logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
) -> Any:
    if _is_table(resource_json, resources_map):
        name = resolve(resource_json.get("Properties", {}).get("TableName"), resources_map)
        if name is not None:
            check_table_name(str(name))
    return original(logical_id, resource_json, resources_map, **kw)


def check_table_name(name: str) -> None:
    """Raise DynamoDB's ValidationException for a table name DynamoDB refuses.

    TableName: "Length Constraints: Minimum length of 3. Maximum length of 255. Pattern:
    [a-zA-Z0-9_.-]+" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html).
    """
    if not 3 <= len(name) <= 255:
        constraint = "Member must have length between 3 and 255"
    elif not re.fullmatch(_NAME_PATTERN, name):
        constraint = f"Member must satisfy regular expression pattern: {_NAME_PATTERN}"
    else:
        return
    raise MockValidationException(
        f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: {constraint}"
    )


def _create_with_sse(
    original: Original, logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
) -> Any:
    properties = resource_json.get("Properties") or {}
    if not _is_table(resource_json, resources_map) or "SSESpecification" not in properties:
        return original(logical_id, resource_json, resources_map, **kw)
    shaped = {**resource_json, "Properties": {**properties, "SSESpecification": _api_sse(properties, resources_map)}}
    return original(logical_id, shaped, resources_map, **kw)


def _api_sse(properties: dict[str, Any], resources_map: Any) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification in DynamoDB's API shape (None: AWS-owned key).

    SSEEnabled true is a KMS key (SSEType KMS, the AWS managed key unless KMSMasterKeyId),
    false the AWS owned key (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-properties-dynamodb-table-ssespecification.html).
    """
    spec = resolve(properties.get("SSESpecification") or {}, resources_map)
    if not truthy(spec.get("SSEEnabled")):
        return None
    return {"Enabled": True, **{k: spec[k] for k in ("SSEType", "KMSMasterKeyId") if k in spec}}


def _create_with_pitr(
    original: Original, logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
) -> Any:
    # PointInTimeRecoverySpecification is a property of the table (TABLE_REFERENCE), applied at create
    table = original(logical_id, resource_json, resources_map, **kw)
    spec = (resource_json.get("Properties") or {}).get("PointInTimeRecoverySpecification")
    if table is not None and resource_json.get("Type") == TABLE_TYPE and spec is not None:
        _apply_pitr(table, resolve(spec, resources_map))
    return table


def _apply_pitr(table: Any, spec: dict[str, Any]) -> None:
    request: dict[str, Any] = {"PointInTimeRecoveryEnabled": truthy(spec.get("PointInTimeRecoveryEnabled"))}
    if "RecoveryPeriodInDays" in spec:
        request["RecoveryPeriodInDays"] = int(spec["RecoveryPeriodInDays"])
    dynamodb_backends[table.account_id][table.region_name].update_continuous_backups(table.name, request)


def _update_table_sse(original: Original, handler: Any) -> Any:
    # UpdateTable's SSESpecification: "The new server-side encryption settings for the specified table"
    # (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html); Enabled false
    # is the AWS owned key (no SSEDescription)
    spec = handler.body.get("SSESpecification")
    if spec is not None:
        table = handler.dynamodb_backend.get_table(handler.body["TableName"])
        if spec.get("Enabled"):
            key = spec.get("KMSMasterKeyId") or table._get_default_encryption_key(table.account_id, table.region_name)
            table.sse_specification = {"Enabled": True, "SSEType": spec.get("SSEType", "KMS"), "KMSMasterKeyId": key}
        else:
            table.sse_specification = None
    return original(handler)


def replacing_properties(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The properties whose change makes CloudFormation replace the table, in template order."""
    return [name for name in REPLACING_PROPERTIES if old.get(name) != new.get(name)]


def _update_table(
    original: Original, logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
) -> Any:
    if resource_json.get("Type") != TABLE_TYPE:
        return original(logical_id, resource_json, resources_map, **kw)
    table = resources_map[logical_id]
    properties = resolve(resource_json.get("Properties") or {}, resources_map)
    current = {"TableName": table.name, "KeySchema": table.schema}
    wanted = {"TableName": properties.get("TableName", table.name), "KeySchema": properties.get("KeySchema")}
    if replacing_properties(current, wanted):
        # "If you specify a name, you cannot perform updates that require replacement of this resource"
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html)
        if wanted["TableName"] != table.name:
            return _replace(logical_id, resource_json, resources_map, table, **kw)
        raise CustomNamedReplacement(
            "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
            f"Rename {table.name} and update the stack again."
        )
    apply_updatable(table, properties, resources_map, resource_json)
    table.cf_resource_type = TABLE_TYPE
    table.logical_resource_id = logical_id
    return table


def _replace(logical_id: str, resource_json: dict[str, Any], resources_map: Any, old: Any, **kw: Any) -> Any:
    """A new table under the new name; the old one is deleted unless UpdateReplacePolicy retains it."""
    new = parsing.parse_and_create_resource(logical_id, resource_json, resources_map, **kw)
    if resource_json.get("UpdateReplacePolicy") != "Retain":
        dynamodb_backends[old.account_id][old.region_name].delete_table(old.name)
    return new


def apply_updatable(table: Any, properties: dict[str, Any], resources_map: Any, resource_json: dict[str, Any]) -> None:
    """Set the properties CloudFormation updates with no interruption (TABLE_REFERENCE's "No interruption")."""
    table.tags = [{"Key": t["Key"], "Value": str(t["Value"])} for t in properties.get("Tags") or []]
    _apply_pitr(table, properties.get("PointInTimeRecoverySpecification") or {})
    sse = _api_sse(resource_json.get("Properties") or {}, resources_map)
    if sse is not None and "KMSMasterKeyId" not in sse:
        sse["KMSMasterKeyId"] = table._get_default_encryption_key(table.account_id, table.region_name)
    table.sse_specification = sse
    table.deletion_protection_enabled = truthy(properties.get("DeletionProtectionEnabled", False))
    billing = "PAY_PER_REQUEST" if properties.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
    table.billing_mode = billing
    throughput = properties.get("ProvisionedThroughput")
    if billing == "PROVISIONED" and throughput:
        table.throughput = {**table.throughput, **{k: int(v) for k, v in throughput.items()}}
