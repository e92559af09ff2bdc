"""Read-only views of a CloudFormation stack: its events, the first failure, change sets, exports.

Shared by the deployer (progress lines, failure reasons, concurrent-deploy checks)
and by ``StackDeployer.describe`` (what the operator's ``status`` shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

from ..aws.aws_call import call_aws, paginate_aws
from ..errors import ServiceError

OPERATION_STARTS = frozenset(
    {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"}
)


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    """DescribeStacks' outputs of ``stack`` by key ({} when it has none)."""
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


@dataclass
class StackDescription:
    """What ``StackDeployer.describe`` shows of a stack: for the operator's ``status``."""

    stack_name: str
    status: str
    status_reason: str
    events: list[dict[str, Any]]  # newest first
    outputs: dict[str, str]
    exports: dict[str, str]

    @classmethod
    def of(cls, stack: dict[str, Any], events: list[dict[str, Any]], exports: dict[str, str]) -> StackDescription:
        """From DescribeStacks' stack, its events (newest first) and its exports."""
        return cls(
            stack_name=stack["StackName"],
            status=stack["StackStatus"],
            status_reason=stack.get("StackStatusReason", ""),
            events=events,
            outputs=outputs_of(stack),
            exports=exports,
        )


def stack_events(cloudformation: BaseClient, stack_name: str) -> list[dict[str, Any]]:
    """The stack's events, newest first ([] for a stack that no longer exists)."""
    try:
        answer = call_aws(cloudformation, "DescribeStackEvents", StackName=stack_name)
        events: list[dict[str, Any]] = answer["StackEvents"]
    except ServiceError as error:
        if error.code == "ValidationError":
            return []  # a deleted stack has no events to show
        raise
    return events


def event_line(event: dict[str, Any]) -> str:
    """One progress line for a stack event."""
    reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
    return (
        f"  {event['Timestamp']:%H:%M:%S} {event['ResourceStatus']:<20} "
        f"{event['LogicalResourceId']} [{event.get('ResourceType', '')}]{reason}"
    )


def first_failure(events: list[dict[str, Any]], stack_name: str) -> str:
    """The root cause of the latest operation: its oldest failed resource event (events newest first)."""
    failures: list[dict[str, Any]] = []
    for event in events:  # newest first, back to the operation's start
        if event.get("ResourceStatus", "").endswith("_FAILED"):
            failures.append(event)
        if event["LogicalResourceId"] == stack_name and event.get("ResourceStatus") in OPERATION_STARTS:
            break
    resources = [e for e in failures if e["LogicalResourceId"] != stack_name] or failures
    if not resources:
        return "no failed resource reported"
    cause = resources[-1]
    return f"{cause['LogicalResourceId']}: {cause.get('ResourceStatusReason') or 'no reason given'}"


def change_sets(cloudformation: BaseClient, stack_name: str) -> list[dict[str, Any]]:
    """The stack's change sets ([] when the stack does not exist)."""
    try:
        summaries = paginate_aws(cloudformation, "ListChangeSets", "Summaries", StackName=stack_name)
        return [s for s in summaries if s.get("StackName") in (None, stack_name)]
    except ServiceError as error:
        if error.code == "ValidationError" and "does not exist" in (error.aws_message or ""):
            return []
        raise


def exports_of(cloudformation: BaseClient, stack_id: str) -> dict[str, str]:
    """The exports the stack ``stack_id`` publishes, by name."""
    exports = paginate_aws(cloudformation, "ListExports", "Exports")
    return {e["Name"]: e["Value"] for e in exports if e.get("ExportingStackId") == stack_id}
