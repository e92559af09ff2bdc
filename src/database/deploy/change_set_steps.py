"""The deploy's steps on a change set: create, review, execute, discard.

- ``create``: a CREATE, UPDATE (drift-aware unless the endpoint refuses it) or IMPORT
  change set, waited for; an empty one is None.
- ``create_import``: the IMPORT change set of a retained table (``adoption``); a refused
  one leaves no stack this deploy made.
- ``review``: report the change set, then refuse it (discarding it) when another deploy
  of the stack goes first or it would replace the table (``change_review``).
- ``execute``: execute it; a change set made obsolete by a concurrent deploy is a clear
  refusal, not an AWS error, and is deleted.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any

from ..errors import DeploymentError, ServiceError
from .adoption import import_template, resources_to_import
from .change_review import ChangeSummary, competing, replacement_refusal, summarize_change
from .drift import IGNORED, REFUSED, REVERT_DRIFT, refuses_drift_mode
from .stack_reading import change_sets
from .stack_spec import StackSpec
from .stack_watch import StackWatch, poll_delays

NO_CHANGES_MARKERS = (
    "didn't contain changes", "No updates are to be performed", "submitted information didn't contain"
)


def created_first(stack_name: str) -> DeploymentError:
    """The refusal of a deploy that found the stack absent while another deploy created it."""
    return DeploymentError(
        f"Another deployment of {stack_name} created the stack first; nothing was changed. "
        "Wait for it to finish and deploy again."
    )


class ChangeSetSteps:
    """The change-set steps of one deployer, on its CloudFormation client and waits."""

    def __init__(self, watch: StackWatch, *, revert_drift: bool = True) -> None:
        """``revert_drift``: make updates drift-aware change sets (``drift``); False for plain ones."""
        self.watch = watch
        self.revert_drift = revert_drift  # turned off for the rest of the run by an endpoint that refuses it

    def _available(self, stack_name: str) -> list[dict[str, Any]]:
        """The stack's change sets that are ready to execute (another deploy's, or left by an interrupted one)."""
        listed = change_sets(self.watch.cloudformation, stack_name)
        return [c for c in listed if c.get("ExecutionStatus") == "AVAILABLE"]

    def _delete(self, stack_name: str, change_set_id: str) -> None:
        self.watch.call("DeleteChangeSet", StackName=stack_name, ChangeSetName=change_set_id)

    def create(
        self,
        spec: StackSpec,
        change_set_type: str,
        *,
        body: str | None = None,
        imports: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Create a change set of ``spec`` (``body``: another template) and wait for it; None when empty."""
        stack_name = spec.stack_name
        extra: dict[str, Any] = {"ResourcesToImport": imports} if imports else {}
        if change_set_type != "IMPORT":  # an import changes nothing at stack level: AWS refuses stack tags in it
            extra["Tags"] = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
        if change_set_type == "UPDATE" and self.revert_drift:
            extra["DeploymentMode"] = REVERT_DRIFT
        try:
            created = self.watch.call(
                "CreateChangeSet",
                **extra,
                StackName=stack_name,
                ChangeSetName=f"vibedigest-{uuid.uuid4().hex[:12]}",
                ChangeSetType=change_set_type,
                TemplateBody=body or spec.template.body,
                Parameters=[{"ParameterKey": "Environment", "ParameterValue": spec.environment}],
                Description=f"VibeDigest {spec.environment} deployment",
            )
        except ServiceError as error:
            if any(marker in error.aws_message for marker in NO_CHANGES_MARKERS):
                return None  # moto's answer to an empty change set
            if change_set_type in ("CREATE", "IMPORT") and "already exists" in error.aws_message:
                # the stack was absent when this deploy looked: another deploy created it since
                raise created_first(stack_name) from error
            if "DeploymentMode" in extra and refuses_drift_mode(error):
                self.revert_drift = False
                self.watch.report(REFUSED.format(reason=error.aws_message or error.code))
                return self.create(spec, change_set_type, body=body, imports=imports)
            raise
        for delay in poll_delays():
            described = self.watch.call("DescribeChangeSet", StackName=stack_name, ChangeSetName=created["Id"])
            status = described["Status"]
            if status in ("CREATE_COMPLETE", "FAILED") and "DeploymentMode" in extra:
                self._note_ignored_drift_mode(described)
            if status == "CREATE_COMPLETE":
                return described
            if status == "FAILED":
                reason = described.get("StatusReason", "")
                if any(marker in reason for marker in NO_CHANGES_MARKERS):
                    self._delete(stack_name, created["Id"])
                    return None  # real CloudFormation's answer to an empty change set
                raise DeploymentError(f"The change set for {stack_name} failed: {reason or 'no reason given'}")
            self.watch.pause(delay, f"creating the change set for {stack_name}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_ignored_drift_mode(self, described: dict[str, Any]) -> None:
        """Say so, once, when the endpoint answered a drift-aware request with a plain change set."""
        if described.get("DeploymentMode") != REVERT_DRIFT:
            self.revert_drift = False
            self.watch.report(IGNORED)

    def create_import(self, spec: StackSpec, status: str | None) -> dict[str, Any]:
        """The IMPORT change set of the retained table; a refused one leaves no stack this deploy made."""
        stack_name = spec.stack_name
        try:
            change_set = self.create(
                spec,
                "IMPORT",
                body=import_template(spec.template, spec.expected.logical_id),
                imports=resources_to_import(spec.expected),
            )
        except (DeploymentError, ServiceError) as error:
            now = self.watch.stack_status(stack_name)
            if now not in (None, "REVIEW_IN_PROGRESS", status):  # another deploy created the stack meanwhile
                raise created_first(stack_name) from error
            if status is None and now == "REVIEW_IN_PROGRESS":
                self._delete_if_unused(stack_name)
            raise
        if change_set is None:  # pragma: no cover - an import always changes something
            raise DeploymentError(f"The import change set for {stack_name} contained no changes.")
        return change_set

    def _delete_if_unused(self, stack_name: str) -> None:
        """Delete the empty stack a failed import change set left, unless another deploy holds one of it."""
        if not self._available(stack_name):
            self.watch.call("DeleteStack", StackName=stack_name)

    def review(
        self, stack_name: str, change_set: dict[str, Any], *, execute: bool, created_stack: bool
    ) -> list[ChangeSummary]:
        """Report the change set; refuse (discarding it) when another deploy goes first or it replaces the table."""
        changes = [summarize_change(c) for c in change_set.get("Changes", []) if c.get("Type") == "Resource"]
        self.watch.report(f"Change set {change_set['ChangeSetName']}: {len(changes)} change(s)")
        for change in changes:
            self.watch.report(f"  {change}")
        self.refuse_competing(stack_name, change_set)
        refusal = replacement_refusal(stack_name, changes)
        if refusal and not execute:
            self.watch.report(f"  {refusal.replace(' Nothing was changed.', '')}")
        elif refusal:
            self.discard(stack_name, change_set, created_stack=created_stack)
            raise DeploymentError(refusal)
        return changes

    def execute(self, stack_name: str, change_set: dict[str, Any]) -> str:
        """Execute a reviewed change set and wait for the stack's final status."""
        seen = self.watch.event_ids(stack_name)
        try:
            self.watch.call("ExecuteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])
        except ServiceError as error:
            if error.code != "InvalidChangeSetStatus":
                raise
            with suppress(ServiceError):  # already gone with its stack: nothing is left behind either way
                self._delete(stack_name, change_set["ChangeSetId"])
            raise DeploymentError(
                f"Another deployment of {stack_name} executed its change set first; this one was not applied. "
                "Deploy again once it has finished."
            ) from error
        return self.watch.wait_for_stack(stack_name, seen)

    def discard(self, stack_name: str, change_set: dict[str, Any], *, created_stack: bool) -> None:
        """Delete a change set that will not run (and the empty stack a CREATE change set made)."""
        self._delete(stack_name, change_set["ChangeSetId"])
        if created_stack:  # a CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind
            self.watch.call("DeleteStack", StackName=stack_name)

    def refuse_competing(self, stack_name: str, mine: dict[str, Any] | None) -> None:
        """Refuse when another deploy of the stack holds a change set (``mine``: after creating ours)."""
        other = competing(change_sets(self.watch.cloudformation, stack_name), stack_name, mine)
        if other is None:
            return
        if mine is not None:
            self._delete(stack_name, mine["ChangeSetId"])
        raise DeploymentError(
            f"Another deployment of {stack_name} is in progress (change set {other.get('ChangeSetName')}, "
            f"{other.get('Status')}/{other.get('ExecutionStatus')}); nothing was changed. Wait for it to finish and "
            "deploy again; if no deployment is running, it was interrupted: recover the stack to discard its "
            "change set."
        )

    def discard_leftovers(self, stack_name: str) -> int:
        """Delete the change sets an interrupted deploy left AVAILABLE; return how many."""
        leftovers = self._available(stack_name)
        for leftover in leftovers:
            self._delete(stack_name, leftover["ChangeSetId"])
        return len(leftovers)
