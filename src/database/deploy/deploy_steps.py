"""The deploy's steps around a change set, and the command's deadline (a mixin of ``StackDeployer``).

- ``_operation``/``_origin``/``_deadline``: when a public operation began and the one
  deadline all its waits share (the caller's ``Deadline``, else ``timeout`` from now).
- ``_recover_interrupted``: an empty REVIEW_IN_PROGRESS stack or leftover change sets.
- ``_adopt``: import a retained table into the new stack (``adoption``), before the update;
  a dry run creates the real IMPORT change set, shows it and deletes it with its empty
  stack. A deploy that finds the stack created meanwhile (another deploy's table, not a
  retained one) yields instead.
- ``_review``: report the change set, then refuse it (discarding it) when another
  deploy of the stack goes first or it would replace the table (``change_review``).
- ``_execute``: execute it; a change set made obsolete by a concurrent deploy is a
  clear refusal, not an AWS error, and is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from ..aws.deadline import Deadline
from ..errors import DeploymentError, ServiceError
from .adoption import (
    check_adoptable,
    existing_table,
    import_template,
    resources_to_import,
)
from .change_review import ChangeSummary, competing, replacement_refusal, summarize
from .stack_reading import change_sets
from .template import ExpectedTable, Template, expected_table


class DeploySteps:
    """Adopt, review and execute; relies on the deployer's clients, report and waits."""

    if TYPE_CHECKING:
        _cf: Any
        _clock: Callable[[], float]
        _op_started: float | None
        _op_deadline: Deadline | None
        _timeout: float | Deadline
        _ddb: Any
        _report: Callable[[str], None]

        def _create_change_set(
            self, template: Template, stack_name: str, environment: str, tags: dict[str, str], change_set_type: str,
            *, body: str | None = None, imports: list[dict[str, Any]] | None = None,
        ) -> dict[str, Any] | None: ...
        def _discard(self, stack_name: str, change_set: dict[str, Any], *, created_stack: bool) -> None: ...
        def stack_status(self, stack_name: str) -> str | None: ...  # noqa: D102 - StackDeployer's
        @staticmethod
        def created_first(stack_name: str) -> DeploymentError: ...  # noqa: D102 - StackDeployer's
        def _call(self, operation: str, **params: Any) -> dict[str, Any]: ...
        def _event_ids(self, stack_name: str) -> list[str]: ...
        def delete(self, stack_name: str) -> None: ...  # noqa: D102 - a declaration of StackDeployer's
        def _wait_for_stack(
            self, stack_name: str, environment: str, seen: set[str], *, expect_failure_ok: bool = False
        ) -> str: ...

    @contextmanager
    def _operation(self) -> Iterator[None]:
        """Start the deadline of a public operation; a nested one (recover -> delete) keeps the outer."""
        if self._op_started is not None:
            yield
            return
        self._op_started = self._clock()
        self._op_deadline = self._new_deadline()
        try:
            yield
        finally:
            self._op_started = self._op_deadline = None

    def _new_deadline(self) -> Deadline:
        """The caller's ``Deadline``, shared by every operation, else ``timeout`` seconds from now."""
        if isinstance(self._timeout, Deadline):
            return self._timeout
        return Deadline(self._timeout, clock=self._clock)

    def _deadline(self) -> Deadline:
        """The running operation's deadline (a fresh one outside an operation)."""
        return self._op_deadline if self._op_deadline is not None else self._new_deadline()

    def _check_deadline(self, what: str) -> None:
        """Give up (``DeadlineExceededError``) once the operation's deadline has passed."""
        self._deadline().check(
            what,
            "CloudFormation goes on in the background; check the stack's status and events, "
            "then deploy again or recover.",
        )

    def _origin(self) -> float:
        """When the running operation began (now, outside one)."""
        return self._op_started if self._op_started is not None else self._clock()

    def _recover_interrupted(self, stack_name: str, status: str) -> str | None:
        """Clean up after an interrupted deploy: an empty REVIEW_IN_PROGRESS stack or its change sets."""
        if status == "REVIEW_IN_PROGRESS":
            self._report(f"Stack {stack_name} is REVIEW_IN_PROGRESS, left by an interrupted first deploy: deleting it")
            self.delete(stack_name)
            return f"Deleted {stack_name}, an empty stack left by an interrupted first deploy (it held no resources)."
        leftovers = [c for c in change_sets(self._cf, stack_name) if c.get("ExecutionStatus") == "AVAILABLE"]
        for leftover in leftovers:
            self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=leftover["ChangeSetId"])
        if leftovers:
            count = len(leftovers)
            return f"Stack {stack_name} is {status}; discarded {count} change set(s) an interrupted deploy left."
        return None

    def _adopt_retained(
        self,
        template: Template,
        stack_name: str,
        environment: str,
        table_name: str,
        status: str | None,
        execute: bool,
    ) -> tuple[str | None, list[ChangeSummary] | None]:
        """Before a stack is created: adopt a retained table of the same name, if there is one.

        Returns the stack's status afterwards and, for a dry run that would import, its preview.
        """
        table = existing_table(self._ddb, table_name)
        if table is None:
            return status, None
        if self.stack_status(stack_name) != status:  # another deploy's stack made this table meanwhile
            raise self.created_first(stack_name)
        expected = expected_table(template, environment)
        check_adoptable(table, expected)
        verb = "import" if execute else "preview the import of"
        self._report(
            f"Table {table_name} exists without a stack (retained by an earlier delete); "
            f"its keys match the template: creating a change set to {verb} it into {stack_name}"
        )
        change_set = self._import_change_set(template, stack_name, environment, expected, status)
        changes = self._review(stack_name, change_set, execute=execute, created_stack=status is None)
        if execute:
            return self._execute(stack_name, change_set, environment), None
        self._discard(stack_name, change_set, created_stack=status is None)
        self._report(
            f"Dry run: nothing was changed. Deploying imports {table_name} with this change set, then applies the "
            "full template (outputs, stack tags, settings changed outside CloudFormation) with an update."
        )
        return status, changes

    def _import_change_set(
        self, template: Template, stack_name: str, environment: str, expected: ExpectedTable, status: str | None
    ) -> dict[str, Any]:
        """The IMPORT change set of the retained table; a refused one leaves no stack this deploy made."""
        try:
            change_set = self._create_change_set(
                template,
                stack_name,
                environment,
                {},
                "IMPORT",
                body=import_template(template, expected.logical_id),
                imports=resources_to_import(expected),
            )
        except (DeploymentError, ServiceError) as error:
            now = self.stack_status(stack_name)
            if now not in (None, "REVIEW_IN_PROGRESS", status):  # another deploy created the stack meanwhile
                raise self.created_first(stack_name) from error
            if status is None and now == "REVIEW_IN_PROGRESS":
                self._delete_if_unused(stack_name)
            raise
        if change_set is None:  # pragma: no cover - an import always changes something
            raise DeploymentError(f"The import change set for {stack_name} contained no changes.")
        return change_set

    def _delete_if_unused(self, stack_name: str) -> None:
        """Delete the empty stack a failed import change set left, unless another deploy holds one of it."""
        if not any(c.get("ExecutionStatus") == "AVAILABLE" for c in change_sets(self._cf, stack_name)):
            self._call("DeleteStack", StackName=stack_name)

    def _review(
        self, stack_name: str, change_set: dict[str, Any], *, execute: bool, created_stack: bool
    ) -> list[ChangeSummary]:
        """Report the change set; refuse (discarding it) when another deploy goes first or it replaces the table."""
        changes = [summarize(c) for c in change_set.get("Changes", []) if c.get("Type") == "Resource"]
        self._report(f"Change set {change_set['ChangeSetName']}: {len(changes)} change(s)")
        for change in changes:
            self._report(f"  {change}")
        self._refuse_competing(stack_name, change_set)
        refusal = replacement_refusal(stack_name, changes)
        if refusal and not execute:
            self._report(f"  {refusal.replace(' Nothing was changed.', '')}")
        elif refusal:
            self._discard(stack_name, change_set, created_stack=created_stack)
            raise DeploymentError(refusal)
        return changes

    def _execute(self, stack_name: str, change_set: dict[str, Any], environment: str) -> str:
        """Execute a reviewed change set and wait for the stack's final status."""
        seen = set(self._event_ids(stack_name))
        try:
            self._call("ExecuteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])
        except ServiceError as error:
            if error.code != "InvalidChangeSetStatus":
                raise
            self._delete_obsolete(stack_name, change_set)
            raise DeploymentError(
                f"Another deployment of {stack_name} executed its change set first; this one was not applied. "
                "Deploy again once it has finished."
            ) from error
        return self._wait_for_stack(stack_name, environment, seen)

    def _delete_obsolete(self, stack_name: str, change_set: dict[str, Any]) -> None:
        """Delete this deploy's change set that another deploy's execution made obsolete."""
        with suppress(ServiceError):  # already gone with its stack: nothing is left behind either way
            self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])

    def _refuse_competing(self, stack_name: str, mine: dict[str, Any] | None) -> None:
        """Refuse when another deploy of the stack holds a change set (``mine``: after creating ours)."""
        other = competing(change_sets(self._cf, stack_name), stack_name, mine)
        if other is None:
            return
        if mine is not None:
            self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=mine["ChangeSetId"])
        raise DeploymentError(
            f"Another deployment of {stack_name} is in progress (change set {other.get('ChangeSetName')}, "
            f"{other.get('Status')}/{other.get('ExecutionStatus')}); nothing was changed. Wait for it to finish and "
            "deploy again; if no deployment is running, it was interrupted: recover the stack to discard its "
            "change set."
        )
