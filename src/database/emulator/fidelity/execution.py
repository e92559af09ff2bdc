"""Gaps in how moto executes a change set.

- ``resource-events``: each resource gets ``*_IN_PROGRESS`` / ``*_COMPLETE`` /
  ``*_FAILED`` events, as CloudFormation emits them (moto: stack events only).
- ``rollback``: a resource that cannot be created or updated does not answer
  HTTP 500 and leave the stack ``*_IN_PROGRESS`` (moto's way): the failure is recorded with its
  reason, the operation rolls back (resources created by it are deleted unless
  retained; an update restores the table's previous properties) and the stack ends
  ``ROLLBACK_COMPLETE`` / ``UPDATE_ROLLBACK_COMPLETE`` / ``IMPORT_ROLLBACK_COMPLETE``.
- ``outputs``: outputs and exports are computed for stacks created or updated
  through change sets (moto: only for ``CreateStack``).
- ``obsolete``: executing a change set makes the stack's other change sets
  ``OBSOLETE``, and a change set that is not ``AVAILABLE`` cannot be executed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event

from ...settings import TABLE_TYPE
from .change_sets import LOCK
from .scope import patch
from .tables import CustomNamedReplacement

Original = Callable[..., Any]
# How a change set of each type is applied; ``imports`` registers IMPORT.
APPLIERS: dict[str, Callable[[Any, Any, Operation], None]] = {}
_TABLE_STATE = (
    "tags", "continuous_backups", "sse_specification", "deletion_protection_enabled", "billing_mode", "throughput"
)


class InvalidChangeSetStatus(CloudFormationError):
    """CloudFormation's answer to executing a change set that is not available (obsolete or executed)."""

    code = "InvalidChangeSetStatus"


@dataclass
class Operation:
    """One execution in progress: the stack, its events and what it created."""

    stack: Any
    kind: str
    begun: set[tuple[str, str]] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    failure: tuple[str, str, str] | None = None  # logical id, resource type, verb

    def event(
        self, logical_id: str, resource_type: str, status: str, physical_id: str = "", reason: str | None = None
    ) -> None:
        """Record one resource event on the stack."""
        self.stack.events.append(
            Event(self.stack.stack_id, self.stack.name, logical_id, physical_id, resource_type, status, reason, None)
        )

    def begin(self, logical_id: str, resource_type: str, verb: str) -> None:
        """Record ``<verb>_IN_PROGRESS`` for the resource, once per operation."""
        if (logical_id, verb) not in self.begun:  # moto retries failed updates: one event each
            self.begun.add((logical_id, verb))
            self.event(logical_id, resource_type, f"{verb}_IN_PROGRESS")

    def complete(self, logical_id: str, resource_type: str, verb: str, physical_id: str) -> None:
        """Record ``<verb>_COMPLETE`` for the resource."""
        self.event(logical_id, resource_type, f"{verb}_COMPLETE", physical_id)


_OPERATION: ContextVar[Operation | None] = ContextVar("vibedigest_moto_operation", default=None)


def install() -> None:
    """Patch moto's change-set execution (see the module docstring).

    Sources: resource events and the rollback statuses are the stack status codes of
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html; a failed
    create "rolls back ... and deletes the resources it created" unless retained
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html); an
    import rolls back to IMPORT_ROLLBACK_COMPLETE (resource-import status codes,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html).
    """
    APPLIERS.setdefault("CREATE", _apply)
    APPLIERS.setdefault("UPDATE", _apply)
    patch(parsing, "parse_and_create_resource", "resource-events", _hook("CREATE"))
    patch(parsing, "parse_and_update_resource", "resource-events", _hook("UPDATE"))
    patch(CloudFormationBackend, "execute_change_set", "rollback", _execute)


def current_operation() -> Operation | None:
    """The execution this thread is running, if any."""
    return _OPERATION.get()


def _hook(verb: str) -> Original:
    def around(
        original: Original, logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
    ) -> Any:
        operation = _OPERATION.get()
        if operation is None:
            return original(logical_id, resource_json, resources_map, **kw)
        resource_type = resource_json.get("Type", "")
        operation.begin(logical_id, resource_type, verb)
        try:
            resource = original(logical_id, resource_json, resources_map, **kw)
        except Exception:
            operation.failure = (logical_id, resource_type, verb)
            raise
        if resource is not None:
            if verb == "CREATE":
                operation.created.append(logical_id)
            operation.complete(logical_id, resource_type, verb, str(getattr(resource, "physical_resource_id", "")))
        return resource

    return around


def _apply(backend: Any, change_set: Any, operation: Operation) -> None:
    change_set.apply()


def _find(backend: Any, change_set_name: str, stack_name: str | None) -> Any:
    if change_set_name in backend.change_sets:
        return backend.change_sets[change_set_name]
    for change_set in backend.change_sets.values():
        owners = (None, change_set.stack_name, change_set.stack_id)
        if change_set.change_set_name == change_set_name and stack_name in owners:
            return change_set
    raise ValidationError(message=f"ChangeSet [{change_set_name}] does not exist")


def _execute(original: Original, backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
    # "OBSOLETE state because the stack was already updated"; only an AVAILABLE change set can be
    # executed, else InvalidChangeSetStatus (API_ChangeSetSummary.html, API_ExecuteChangeSet.html errors,
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html)
    with LOCK:
        change_set = _find(backend, change_set_name, stack_name)
        stack = backend.stacks.get(change_set.stack_id)
        if stack is None or change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
                f"[{change_set.execution_status if stack else 'OBSOLETE'}]"
            )
        kind = change_set.change_set_type
        before = _Snapshot(backend, stack)
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        for other in backend.change_sets.values():
            if other.stack_id == stack.stack_id and other is not change_set and other.execution_status == "AVAILABLE":
                other.execution_status = "OBSOLETE"
        stack.status = f"{kind}_IN_PROGRESS"
        stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
        operation = Operation(stack, kind)
        token = _OPERATION.set(operation)
        try:
            APPLIERS[kind](backend, change_set, operation)
            stack.template, stack.parameters = change_set.template, change_set.parameters
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            _publish_outputs(backend, stack)
        except Exception as error:  # noqa: BLE001 - any failure of the operation rolls back, as in CloudFormation
            _roll_back(backend, stack, change_set, operation, before, error)
            return
        finally:
            _OPERATION.reset(token)
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.status = f"{kind}_COMPLETE"
        stack._add_stack_event(stack.status)


def _publish_outputs(backend: Any, stack: Any) -> None:
    """Compute the stack's outputs and (re)register its exports; refuse a name another stack exports.

    "For each AWS account, Export names must be unique within a region"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html).
    """
    output_map = stack._create_output_map()
    for export in output_map.exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                message=f"Export with name {export.name} is already exported by stack {owner.exporting_stack_id}"
            )
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    stack.output_map = output_map
    for export in output_map.exports:
        backend.exports[export.name] = export


def failure_reason(error: BaseException, resource_type: str, physical_id: str) -> str:
    """The ResourceStatusReason CloudFormation records for a failed resource."""
    if isinstance(error, (CustomNamedReplacement, CloudFormationError)):
        return str(getattr(error, "message", None) or error)
    code = str(getattr(error, "error_type", "") or getattr(error, "code", ""))
    message = str(getattr(error, "message", None) or error)
    if code.endswith("ResourceInUseException"):
        return f"Resource of type '{resource_type}' with identifier '{physical_id}' already exists."
    return f'Resource handler returned message: "{message}" (HandlerErrorCode: InvalidRequest)'


def _roll_back(
    backend: Any, stack: Any, change_set: Any, operation: Operation, before: _Snapshot, error: Exception
) -> None:
    kind = operation.kind
    change_set.execution_status = "EXECUTE_FAILED"
    if operation.failure is not None:
        logical_id, resource_type, verb = operation.failure
        resource_json = change_set.template_dict.get("Resources", {}).get(logical_id, {})
        physical = str(resource_json.get("Properties", {}).get("TableName", logical_id))
        reason = failure_reason(error, resource_type, physical)
        operation.event(logical_id, resource_type, f"{verb}_FAILED", "", reason)
        summary = f"The following resource(s) failed to {verb.lower()}: [{logical_id}]."
    else:
        summary = failure_reason(error, "", "")
    rolling = {"CREATE": "ROLLBACK", "UPDATE": "UPDATE_ROLLBACK", "IMPORT": "IMPORT_ROLLBACK"}[kind]
    stack.status = f"{rolling}_IN_PROGRESS"
    requested = " Rollback requested by user." if kind == "CREATE" else ""
    stack._add_stack_event(stack.status, resource_status_reason=summary + requested)
    created = [(i, stack.resource_map._parsed_resources.get(i)) for i in operation.created]
    if kind != "CREATE":
        before.restore()
    _delete_created(stack, change_set, operation, created)
    if kind == "UPDATE":
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    stack.status = f"{rolling}_COMPLETE"
    stack._add_stack_event(stack.status)


def _delete_created(stack: Any, change_set: Any, operation: Operation, created: list[tuple[str, Any]]) -> None:
    """Delete what the failed operation created, except retained resources."""
    resource_map = stack.resource_map
    for logical_id, resource in reversed(created):
        resource_map._parsed_resources.pop(logical_id, None)
        resource_json = change_set.template_dict["Resources"][logical_id]
        resource_type = resource_json.get("Type", "")
        physical = str(getattr(resource, "physical_resource_id", ""))
        if resource_json.get("DeletionPolicy") in ("Retain", "Snapshot") or resource is None:
            operation.event(logical_id, resource_type, "DELETE_SKIPPED", physical)
            continue
        operation.event(logical_id, resource_type, "DELETE_IN_PROGRESS", physical)
        resource_map._delete_resource(resource, resource_json)
        operation.event(logical_id, resource_type, "DELETE_COMPLETE", physical)


class _Snapshot:
    """What an update may change: the stack's template and resource map, and its tables' properties."""

    def __init__(self, backend: Any, stack: Any) -> None:
        resource_map = stack.resource_map
        self._stack = stack
        self._stack_state = (stack.template, stack.template_dict, stack.parameters, stack.output_map)
        self._map_state = {
            name: copy.copy(getattr(resource_map, name))
            for name in (
                "_template", "_resource_json_map", "_parsed_resources", "input_parameters", "resolved_parameters"
            )
        }
        self._tables = [
            (table, {name: copy.deepcopy(getattr(table, name)) for name in _TABLE_STATE})
            for table in resource_map._parsed_resources.values()
            if getattr(table, "cf_resource_type", None) == TABLE_TYPE
        ]

    def restore(self) -> None:
        """Put the stack, its resource map and its tables back as they were."""
        stack = self._stack
        stack.template, stack.template_dict, stack.parameters, stack.output_map = self._stack_state
        for name, value in self._map_state.items():
            setattr(stack.resource_map, name, value)
        for table, state in self._tables:
            for name, value in state.items():
                setattr(table, name, value)
