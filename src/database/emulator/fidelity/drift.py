"""Gaps ``drift-aware`` and ``drift-detection``: CloudFormation's view of a table changed outside it.

moto ignores ``DeploymentMode`` and has no drift detection (``DetectStackDrift`` and
``DescribeStackResourceDrifts`` answer HTTP 500). This models both for the table
resource, on the properties this layer applies (``tables``): point-in-time recovery,
SSE, deletion protection, billing mode and tags.

- ``drift-aware``: a ``DeploymentMode=REVERT_DRIFT`` change set compares the live
  table with the new template and lists a ``Modify`` (``ResourceDriftStatus``
  ``MODIFIED``, each drifted property a detail whose before value is the actual
  state) even when the template did not change; executing it applies the template's
  values. DescribeChangeSet echoes ``DeploymentMode`` and ``StackDriftStatus``. A table
  deleted outside CloudFormation is not recreated (AWS's drift-aware change sets do).
- ``drift-detection``: ``DetectStackDrift`` compares every table of the stack with
  its template at once (the detection is ``DETECTION_COMPLETE`` when it returns);
  ``DescribeStackDriftDetectionStatus`` and ``DescribeStackResourceDrifts`` report
  it, other resource types ``NOT_CHECKED``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Change, CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.dynamodb.models import dynamodb_backends

from ...settings import TABLE_TYPE
from .change_sets import LOCK, _proposed_map, stack_named
from .execution import APPLIERS, Operation, _apply
from .scope import patch
from .tables import apply_updatable, resolve, truthy

Original = Callable[..., Any]
REVERT_DRIFT = "REVERT_DRIFT"
_MODE: ContextVar[str | None] = ContextVar("vibedigest_moto_deployment_mode", default=None)

# Drift detection runs on stacks in these statuses only: "you can perform drift
# detection on stacks with the following statuses: CREATE_COMPLETE, UPDATE_COMPLETE,
# UPDATE_ROLLBACK_COMPLETE, and UPDATE_ROLLBACK_FAILED"
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/detect-drift-stack.html;
# MiniStack models the same list, ministack/services/cloudformation/drift.py:40).
DETECTABLE_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                                 "UPDATE_ROLLBACK_FAILED"})
_ACTIONS = ("detect_stack_drift", "describe_stack_drift_detection_status", "describe_stack_resource_drifts")


def install() -> None:
    """Patch change-set creation and execution, and answer the drift detection actions."""
    patch(CloudFormationResponse, "create_change_set", "drift-aware", _read_mode)
    patch(CloudFormationBackend, "create_change_set", "drift-aware", _create_drift_aware)
    APPLIERS["UPDATE"] = _apply_reverting_drift
    for action in _ACTIONS:
        if not hasattr(CloudFormationResponse, action):  # moto's stock answer: the action is not implemented
            setattr(CloudFormationResponse, action, _not_implemented(action))
    patch(CloudFormationResponse, "detect_stack_drift", "drift-detection", _detect_stack_drift)
    patch(CloudFormationResponse, "describe_stack_drift_detection_status", "drift-detection", _detection_status)
    patch(CloudFormationResponse, "describe_stack_resource_drifts", "drift-detection", _resource_drifts)


def _not_implemented(action: str) -> Callable[..., Any]:
    def stock(self: Any) -> Any:
        raise NotImplementedError(f"The {action} action has not been implemented")

    stock.__name__ = action
    return stock


# -- comparing a live table with its template ----------------------------------------


def table_differences(table: Any, properties: dict[str, Any]) -> list[dict[str, str]]:
    """The template's explicitly set properties whose live value differs, as PropertyDifferences.

    Only explicitly set properties count: "CloudFormation only determines drift for
    property values that are explicitly set, either through the stack template or by
    specifying template parameters"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html).
    """
    differences = []
    for path, expected, actual in _compared(table, properties):
        if expected != actual:
            differences.append({"PropertyPath": path, "ExpectedValue": json.dumps(expected),
                                "ActualValue": json.dumps(actual), "DifferenceType": "NOT_EQUAL"})
    return differences


def _compared(table: Any, properties: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    compared: list[tuple[str, Any, Any]] = []
    if "PointInTimeRecoverySpecification" in properties:
        spec = properties["PointInTimeRecoverySpecification"] or {}
        status = table.continuous_backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        compared.append(("/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
                         truthy(spec.get("PointInTimeRecoveryEnabled")), status == "ENABLED"))
    if "SSESpecification" in properties:
        spec = properties["SSESpecification"] or {}
        compared.append(("/SSESpecification/SSEEnabled", truthy(spec.get("SSEEnabled")),
                         bool((table.sse_specification or {}).get("Enabled"))))
    if "DeletionProtectionEnabled" in properties:
        compared.append(("/DeletionProtectionEnabled", truthy(properties["DeletionProtectionEnabled"]),
                         bool(table.deletion_protection_enabled)))
    if "BillingMode" in properties:
        compared.append(("/BillingMode", properties["BillingMode"], table.billing_mode))
    if "Tags" in properties:
        wanted = {t["Key"]: str(t["Value"]) for t in properties["Tags"] or []}
        compared.append(("/Tags", wanted, {t["Key"]: t["Value"] for t in table.tags or []}))
    return compared


def _live_table(backend: Any, stack: Any, logical_id: str) -> Any | None:
    """The stack's table ``logical_id`` as DynamoDB holds it now (None: deleted outside CloudFormation)."""
    resource = stack.resource_map._parsed_resources.get(logical_id)
    if getattr(resource, "cf_resource_type", None) != TABLE_TYPE:
        return None
    return dynamodb_backends[backend.account_id][backend.region_name].tables.get(resource.name)


# -- drift-aware change sets ------------------------------------------------------


def _read_mode(original: Original, response: Any) -> Any:
    mode = response._get_param("DeploymentMode")
    if mode is not None and mode != REVERT_DRIFT:
        raise ValidationError(message=f"Invalid DeploymentMode {mode}: the valid value is {REVERT_DRIFT}")
    if mode is not None and response._get_param("ChangeSetType") not in (None, "UPDATE"):
        # Drift-aware change sets compare with "the previous deployment state" of a stack
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html)
        # and are made "for an existing stack" (AWS's announcement, quoted in
        # https://aws.amazon.com/blogs/devops/safely-handle-configuration-drift-with-cloudformation-drift-aware-change-sets);
        # the wording of this refusal is not AWS's.
        raise ValidationError(message=f"DeploymentMode {mode} applies to UPDATE change sets of an existing stack")
    token = _MODE.set(mode)
    try:
        return original(response)
    finally:
        _MODE.reset(token)


def _create_drift_aware(original: Original, backend: Any, **kwargs: Any) -> tuple[str, str]:
    change_set_id, stack_id = original(backend, **kwargs)
    if _MODE.get() != REVERT_DRIFT:
        return change_set_id, stack_id
    with LOCK:
        change_set = backend.change_sets[change_set_id]
        stack = backend.stacks[stack_id]
        change_set.deployment_mode = REVERT_DRIFT
        change_set.fidelity_reverts = _drift_changes(backend, stack, change_set)
        change_set.stack_drift_status = "DRIFTED" if _drifted_from_stack(backend, stack) else "IN_SYNC"
        if change_set.fidelity_reverts and change_set.status == "FAILED":  # only drift to revert: not empty
            change_set.status, change_set.execution_status, change_set.status_reason = (
                "CREATE_COMPLETE", "AVAILABLE", None)
    return change_set_id, stack_id


def _drift_changes(backend: Any, stack: Any, change_set: Any) -> list[str]:
    """Add a Modify for each table whose live state differs from the new template; return the added ones.

    A drift-aware change set "compares templates with the actual state of your stack
    resources and brings drifted resources in line with their template definitions"; the
    before value of a drifted property is its actual state (``BeforeValueFrom``
    ``ACTUAL_STATE``) (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
    drift-aware-change-sets.html).
    """
    proposed = None
    added = []
    modified: dict[str, Any] = {c.logical_resource_id: c for c in change_set.changes if c.action == "Modify"}
    for logical_id, resource_json in (change_set.template_dict.get("Resources") or {}).items():
        table = _live_table(backend, stack, logical_id) if resource_json.get("Type") == TABLE_TYPE else None
        if table is None:
            continue
        proposed = proposed or _proposed_map(backend, stack, change_set)
        differences = table_differences(table, resolve(resource_json.get("Properties") or {}, proposed))
        if not differences:
            continue
        change: Any = modified.get(logical_id)
        if change is None:
            change = Change("Modify", logical_id, TABLE_TYPE)
            change.replacement, change.physical_resource_id, change.details = "False", table.name, []
            change_set.changes.append(change)
            added.append(logical_id)
        change.resource_drift_status = "MODIFIED"
        change.scope = sorted(set(getattr(change, "scope", None) or ["Properties"]) | {"Properties"})
        change.details = list(getattr(change, "details", None) or []) + [
            {"Target": {"Attribute": "Properties", "Name": d["PropertyPath"].split("/")[1],
                        "Path": d["PropertyPath"], "RequiresRecreation": "Never",
                        "BeforeValue": d["ActualValue"], "AfterValue": d["ExpectedValue"],
                        "BeforeValueFrom": "ACTUAL_STATE", "AfterValueFrom": "TEMPLATE",
                        "AttributeChangeType": "Modify"},
             "Evaluation": "Static", "ChangeSource": "DirectModification"}
            for d in differences
        ]
    return added


def _drifted_from_stack(backend: Any, stack: Any) -> bool:
    return any(d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for d in _resource_drift_list(backend, stack))


def _apply_reverting_drift(backend: Any, change_set: Any, operation: Operation) -> None:
    """Apply the template, then bring each drifted table the template left unchanged in line with it."""
    _apply(backend, change_set, operation)
    for logical_id in getattr(change_set, "fidelity_reverts", []):
        table = operation.stack.resource_map._parsed_resources[logical_id]
        resource_json = change_set.template_dict["Resources"][logical_id]
        operation.begin(logical_id, TABLE_TYPE, "UPDATE")
        operation.failure = (logical_id, TABLE_TYPE, "UPDATE")
        properties = resolve(resource_json.get("Properties") or {}, operation.stack.resource_map)
        apply_updatable(table, properties, operation.stack.resource_map, resource_json)
        operation.failure = None
        operation.complete(logical_id, TABLE_TYPE, "UPDATE", table.name)


# -- drift detection ------------------------------------------------------------------


def _resource_drift_list(backend: Any, stack: Any) -> list[dict[str, Any]]:
    """One StackResourceDrift per resource of the stack, compared now."""
    drifts = []
    now = utcnow()
    for logical_id in stack.template_dict.get("Resources") or {}:
        resource = stack.resource_map._parsed_resources.get(logical_id)
        resource_type = getattr(resource, "cf_resource_type", None) or "AWS::CloudFormation::Resource"
        drift: dict[str, Any] = {"StackId": stack.stack_id, "LogicalResourceId": logical_id,
                                 "PhysicalResourceId": str(getattr(resource, "physical_resource_id", "")),
                                 "ResourceType": resource_type, "Timestamp": now}
        if resource_type != TABLE_TYPE:
            drifts.append({**drift, "StackResourceDriftStatus": "NOT_CHECKED"})
            continue
        table = _live_table(backend, stack, logical_id)
        if table is None:
            drifts.append({**drift, "StackResourceDriftStatus": "DELETED"})
            continue
        expected = resolve(stack.template_dict["Resources"][logical_id].get("Properties") or {}, stack.resource_map)
        differences = table_differences(table, expected)
        drifts.append({
            **drift,
            "ExpectedProperties": json.dumps(expected, sort_keys=True, default=str),
            "ActualProperties": json.dumps(_actual(table, expected), sort_keys=True, default=str),
            "PropertyDifferences": differences,
            "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC",
        })
    return drifts


def _actual(table: Any, expected: dict[str, Any]) -> dict[str, Any]:
    """The expected properties with the compared ones as the table holds them."""
    actual = dict(expected)
    for path, _, value in _compared(table, expected):
        parts = path.strip("/").split("/")
        if len(parts) == 2:
            actual[parts[0]] = {**(actual.get(parts[0]) or {}), parts[1]: value}
        elif parts[0] == "Tags":
            actual["Tags"] = [{"Key": k, "Value": v} for k, v in value.items()]
        else:
            actual[parts[0]] = value
    return actual


def _detections(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "fidelity_drift_detections"):
        backend.fidelity_drift_detections = {}
    detections: dict[str, dict[str, Any]] = backend.fidelity_drift_detections
    return detections


def _detect_stack_drift(original: Original, response: Any) -> ActionResult:
    backend = response.cloudformation_backend
    name = response._get_param("StackName")
    with LOCK:
        stack = stack_named(backend, name)
        if stack is None:
            raise ValidationError(message=f"Stack with id {name} does not exist")
        if stack.status not in DETECTABLE_STATUSES:  # the wording is not AWS's
            raise ValidationError(message=f"Drift detection is not supported for a stack in status {stack.status}")
        drifts = _resource_drift_list(backend, stack)
        stack.fidelity_resource_drifts = drifts
        drifted = sum(d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for d in drifts)
        detection_id = str(uuid.uuid4())
        _detections(backend)[detection_id] = {
            "StackId": stack.stack_id, "StackDriftDetectionId": detection_id,
            "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC", "DetectionStatus": "DETECTION_COMPLETE",
            "DriftedStackResourceCount": drifted, "Timestamp": utcnow(),
        }
    return ActionResult({"StackDriftDetectionId": detection_id})


def _detection_status(original: Original, response: Any) -> ActionResult:
    detection_id = response._get_param("StackDriftDetectionId")
    detection = _detections(response.cloudformation_backend).get(detection_id)
    if detection is None:
        raise ValidationError(message=f"Drift detection with id {detection_id} does not exist")
    return ActionResult(detection)


def _resource_drifts(original: Original, response: Any) -> ActionResult:
    name = response._get_param("StackName")
    stack = stack_named(response.cloudformation_backend, name)
    if stack is None:
        raise ValidationError(message=f"Stack with id {name} does not exist")
    wanted = response._get_param("StackResourceDriftStatusFilters") or []
    drifts = [d for d in getattr(stack, "fidelity_resource_drifts", []) if not wanted
              or d["StackResourceDriftStatus"] in wanted]
    return ActionResult({"StackResourceDrifts": drifts})
