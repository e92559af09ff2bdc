"""Read a change set before executing it: what it does, whether it replaces the table, who else deploys.

- ``ChangeSummary``/``summarize_change``: one preview row per resource change, with the
  properties that force a replacement (the change's ``Replacement``/``Details``) and,
  in a drift-aware change set, those whose live value it brings back to the template's.
- ``replacement_refusal``: why a change that replaces the table must not run. The
  table is named and retained: CloudFormation would create a new, empty table and
  leave the old one, with every digest, outside the stack (a custom-named table
  whose name stays the same cannot be replaced at all and the update would fail).
- ``competing``: the change sets of the same stack that another deploy is using.
  Two deploys that start together both create change sets; the one created later
  yields, so exactly one goes on and no stack is left ``REVIEW_IN_PROGRESS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..settings import TABLE_TYPE

REPLACING = frozenset({"True", "Conditional"})
_LIVE_STATUSES = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"})
_USABLE = frozenset({"AVAILABLE", "UNAVAILABLE"})


@dataclass
class ChangeSummary:
    """One row of a change set preview."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""
    recreated: tuple[str, ...] = ()
    reverted: tuple[str, ...] = ()  # properties changed outside CloudFormation that the change reverts

    @property
    def replaces(self) -> bool:
        """True when CloudFormation would replace the resource (a new physical resource)."""
        return self.action == "Modify" and self.replacement in REPLACING

    def __str__(self) -> str:
        if self.replaces:
            because = f": {', '.join(self.recreated)} cannot change in place" if self.recreated else ""
            return f"{'Replace':<7} {self.logical_id} [{self.resource_type}]{because}"
        replacement = f" (replacement: {self.replacement})" if self.replacement else ""
        reverted = f", reverts drift of {', '.join(self.reverted)}" if self.reverted else ""
        return f"{self.action:<7} {self.logical_id} [{self.resource_type}]{replacement}{reverted}"


def summarize_change(change: dict[str, Any]) -> ChangeSummary:
    """The preview row of one ``Changes`` entry of DescribeChangeSet."""
    resource = change.get("ResourceChange", {})
    modify = resource.get("Action") == "Modify"
    recreated = tuple(
        detail.get("Target", {}).get("Name", "?")
        for detail in resource.get("Details", [])
        if detail.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
    )
    reverted = tuple(dict.fromkeys(  # the drifted properties: their before value is the live one
        detail.get("Target", {}).get("Name", "?")
        for detail in resource.get("Details", [])
        if detail.get("Target", {}).get("BeforeValueFrom") == "ACTUAL_STATE"
    ))
    return ChangeSummary(
        action=resource.get("Action", "?"),
        logical_id=resource.get("LogicalResourceId", "?"),
        resource_type=resource.get("ResourceType", "?"),
        replacement=resource.get("Replacement", "") if modify else "",
        recreated=recreated if modify else (),
        reverted=reverted if modify else (),
    )


def replacement_refusal(stack_name: str, changes: list[ChangeSummary]) -> str | None:
    """The reason to refuse a change set that replaces a table, or None."""
    replaced = [c for c in changes if c.replaces and c.resource_type == TABLE_TYPE]
    if not replaced:
        return None
    what = "; ".join(
        f"{c.logical_id} ({', '.join(c.recreated) or 'a property'} cannot change without a new table)" for c in replaced
    )
    return (
        f"The change to {stack_name} would replace its table: {what}. The table is named and retained, so "
        "replacing it would leave the old table, with all its data, outside the stack and start an empty one "
        "(or fail, if the name stays the same). Nothing was changed."
    )


def competing(summaries: list[dict[str, Any]], stack_name: str, mine: dict[str, Any] | None) -> dict[str, Any] | None:
    """Another deploy's change set of ``stack_name`` that goes before ``mine`` (None: no competitor).

    With ``mine`` None (before creating one) every live change set competes; after,
    only those created earlier (ties broken by id, the same way on both sides) or
    already executing.
    """
    mine_id = (mine or {}).get("ChangeSetId")
    mine_key = ((mine or {}).get("CreationTime"), mine_id or "")
    for summary in summaries:
        if summary.get("StackName") not in (None, stack_name) or summary.get("ChangeSetId") == mine_id:
            continue
        if summary.get("ExecutionStatus") == "EXECUTE_IN_PROGRESS":
            return summary
        if summary.get("Status") not in _LIVE_STATUSES or summary.get("ExecutionStatus") not in _USABLE:
            continue
        if mine is None or (summary.get("CreationTime"), summary.get("ChangeSetId", "")) < mine_key:
            return summary
    return None
