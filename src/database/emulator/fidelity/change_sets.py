"""Gaps in how moto creates, lists and describes change sets.

- ``no-changes``: a change set that changes nothing is created ``FAILED`` with
  CloudFormation's reason ("The submitted information didn't contain changes. ...")
  instead of moto's ``ValidationError`` (moto's backend already does this; its
  request handler refuses first).
- ``review-stack``: a ``CREATE``/``IMPORT`` change set for a stack left
  ``REVIEW_IN_PROGRESS`` reuses that stack; for a live stack it fails with
  ``AlreadyExistsException`` (moto made a second stack of the same name).
- ``replacement``: a modified table's change carries ``Replacement``, ``Scope`` and
  ``Details`` (which property forces re-creation), as CloudFormation reports them.
- ``list-change-sets``: ``ListChangeSets`` lists the given stack's change sets only.
- ``delete-stack-change-sets``: deleting a stack deletes its change sets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import AlreadyExistsException
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from ...settings import TABLE_TYPE
from .scope import patch
from .tables import REPLACING_PROPERTIES, resolve

# CloudFormation serialises the operations on one stack; the threaded server does not.
LOCK = threading.RLock()

Original = Callable[..., Any]


def install() -> None:
    """Patch moto's change-set handling (see the module docstring)."""
    # An empty change set ends FAILED with this StatusReason, as public reports of AWS quote it
    # (https://github.com/aws/aws-sdk-js/issues/2331, https://github.com/realestate-com-au/stackup/issues/49)
    patch(CloudFormationResponse, "_validate_different_update", "no-changes", lambda original, *a, **k: None)
    patch(CloudFormationBackend, "create_change_set", "review-stack", _create_on_review_stack)
    patch(CloudFormationBackend, "create_change_set", "replacement", _create_with_replacement)
    # ListChangeSets "returns the ID and status of each active change set for a stack"
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListChangeSets.html)
    patch(CloudFormationResponse, "list_change_sets", "list-change-sets", _list_for_stack)
    # "If you delete a stack, CloudFormation deletes all associated change sets"
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-delete.html)
    patch(CloudFormationBackend, "delete_stack", "delete-stack-change-sets", _delete_with_change_sets)


def stack_named(backend: Any, name: str) -> Any | None:
    """The live stack called ``name`` (or with that id), or None."""
    return next((s for s in backend.stacks.values() if name in (s.name, s.stack_id)), None)


def _create_on_review_stack(original: Original, backend: Any, **kwargs: Any) -> tuple[str, str]:
    # A CREATE change set makes the stack REVIEW_IN_PROGRESS and further change sets of that stack use
    # it (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html:
    # "CloudFormation creates the stack with the REVIEW_IN_PROGRESS status"); a CREATE for a live
    # stack is AlreadyExistsException (the same page's errors).
    kind = kwargs["change_set_type"]
    with LOCK:
        existing = stack_named(backend, kwargs["stack_name"])
        if kind == "UPDATE" or existing is None:
            ids: tuple[str, str] = original(backend, **kwargs)
            return ids
        if existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{kwargs['stack_name']}] already exists")
        if existing.template == {}:  # moto's placeholder; its UPDATE path parses the template as text
            existing.template = "{}"
        change_set_id, stack_id = original(backend, **{**kwargs, "change_set_type": "UPDATE"})
        backend.change_sets[change_set_id].change_set_type = kind
        return change_set_id, stack_id


def _create_with_replacement(original: Original, backend: Any, **kwargs: Any) -> tuple[str, str]:
    change_set_id, stack_id = original(backend, **kwargs)
    change_set = backend.change_sets[change_set_id]
    stack = backend.stacks[stack_id]
    for change in change_set.changes:
        if change.action == "Modify" and change.resource_type == TABLE_TYPE:
            _describe_modification(change, backend, stack, change_set)
    return change_set_id, stack_id


def _proposed_map(backend: Any, stack: Any, change_set: Any) -> Any:
    """A resource map of the proposed template, to resolve its parameters (creates nothing)."""
    proposed = parsing.ResourceMap(
        stack.stack_id,
        stack.name,
        change_set.parameters,
        {},
        region_name=backend.region_name,
        account_id=backend.account_id,
        template=change_set.template_dict,
        cross_stack_resources=backend.exports,
    )
    proposed.load()
    return proposed


def _describe_modification(change: Any, backend: Any, stack: Any, change_set: Any) -> None:
    """Set Replacement/Scope/Details as CloudFormation does for a modified table.

    The shape is the API's ResourceChange/ResourceChangeDetail
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html); which
    properties recreate the table is its resource reference ("Update requires: Replacement",
    ``tables.REPLACING_PROPERTIES``).
    """
    logical_id = change.logical_resource_id
    old = stack.resource_map._resource_json_map[logical_id].get("Properties") or {}
    new = change_set.template_dict["Resources"][logical_id].get("Properties") or {}
    proposed = _proposed_map(backend, stack, change_set)
    changed = []
    for name in sorted(set(old) | set(new)):
        if name in REPLACING_PROPERTIES:  # resolved: the name follows the Environment parameter
            differs = resolve(old.get(name), stack.resource_map) != resolve(new.get(name), proposed)
        else:
            differs = old.get(name) != new.get(name)
        if differs:
            changed.append(name)
    change.replacement = "True" if any(name in REPLACING_PROPERTIES for name in changed) else "False"
    change.physical_resource_id = resolve(old.get("TableName"), stack.resource_map)
    change.scope = ["Properties"] + (["Tags"] if "Tags" in changed else [])
    change.details = [
        {
            "Target": {
                "Attribute": "Properties",
                "Name": name,
                "RequiresRecreation": "Always" if name in REPLACING_PROPERTIES else "Never",
            },
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }
        for name in changed
    ]


def _list_for_stack(original: Original, response: Any) -> ActionResult:
    name = response._get_param("StackName")
    backend = response.cloudformation_backend
    summaries = [cs for cs in backend.list_change_sets() if name in (cs.stack_name, cs.stack_id)]
    return ActionResult({"Summaries": summaries})


def _delete_with_change_sets(original: Original, backend: Any, name_or_stack_id: str) -> None:
    with LOCK:
        stack = stack_named(backend, name_or_stack_id)
        original(backend, name_or_stack_id)
        if stack is not None:
            for change_set_id in [i for i, cs in backend.change_sets.items() if cs.stack_id == stack.stack_id]:
                del backend.change_sets[change_set_id]
