"""The states the embedded endpoint cannot reach, scripted with ``botocore.stub.Stubber``.

The fidelity layer makes the embedded endpoint fail, roll back, report resource
events, create FAILED empty change sets and compute outputs, so those paths are
tested over real HTTP (tests/test_lifecycle.py). What stays here needs states that
only time or a failing rollback produce, which the synchronous emulator never shows:
``UPDATE_ROLLBACK_FAILED`` (refused by deploy, continued by recover), ``DELETE_FAILED``,
a stack busy with another operation (``*_IN_PROGRESS``), a table still ``CREATING``,
a change set that stays pending or fails for another reason, and the deadline. Each
test scripts real CloudFormation's answers on a real client (the request parameters
are still validated against the API model) and checks the deployer's calls.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import ANY, Stubber

from src.database.deploy.deployer import StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import Template, load_template
from src.database.errors import DeploymentError

STACK = "vibedigest-dev"
TABLE = "VibeDigest-dev"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/6f1c2d40-0000-11ef-9a7e-0a1b2c3d4e5f"
CHANGE_SET_ID = f"arn:aws:cloudformation:us-east-1:123456789012:changeSet/vibedigest-abc/{'1' * 8}"
RECOVER = "Recover it (StackDeployer.recover), then deploy again."
EMPTY_CHANGE_SET_REASON = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)
CREATE_FAILURE = "Resource of type 'AWS::DynamoDB::Table' with identifier 'VibeDigest-dev' already exists."
UPDATE_FAILURE = "Resource handler returned message: \"Subscriber limit exceeded: Only 10 tables can be created.\""
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
_event_ids = itertools.count(1)


class FakeClock:
    """A monotonic clock that only moves when the deployer sleeps."""

    def __init__(self, step: float | None = None) -> None:
        self.now = 0.0
        self.step = step
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the requested delay and advance time by it (or by ``step`` when set)."""
        self.sleeps.append(seconds)
        self.now += self.step if self.step is not None else seconds


@dataclass
class Scripted:
    """A StackDeployer on stubbed cloudformation and dynamodb clients."""

    cloudformation: BaseClient
    dynamodb: BaseClient
    cf: Stubber
    ddb: Stubber
    clock: FakeClock
    lines: list[str] = field(default_factory=list)

    def deployer(self, timeout: float = 60.0) -> StackDeployer:
        """A deployer reporting into ``lines`` and sleeping on the fake clock."""
        return StackDeployer(
            self.cloudformation,
            self.dynamodb,
            report=self.lines.append,
            timeout=timeout,
            sleep=self.clock.sleep,
            clock=self.clock,
        )

    def deploy(self, template: Template, timeout: float = 60.0) -> Any:
        """Deploy the dev stack."""
        return self.deployer(timeout).deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags={"Project": "VibeDigest"})
        )

    def done(self) -> None:
        """Every scripted answer was consumed: the deployer made exactly the expected calls."""
        self.cf.assert_no_pending_responses()
        self.ddb.assert_no_pending_responses()


@pytest.fixture(scope="module")
def clients() -> tuple[BaseClient, BaseClient]:
    """Real cloudformation and dynamodb clients, built once (loading the API models is the slow part)."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return session.client("cloudformation"), session.client("dynamodb")


@pytest.fixture
def scripted(clients: tuple[BaseClient, BaseClient]) -> Iterator[Scripted]:
    """The clients with fresh Stubbers attached for one test; nothing leaves the process."""
    cloudformation, dynamodb = clients
    with Stubber(cloudformation) as cf, Stubber(dynamodb) as ddb:
        yield Scripted(cloudformation, dynamodb, cf, ddb, FakeClock())


@pytest.fixture(scope="module")
def template() -> Template:
    """The shipped template."""
    return load_template()


# -- scripted answers -----------------------------------------------------------------


def stack(status: str, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    """A DescribeStacks answer for the dev stack in ``status``."""
    described: dict[str, Any] = {"StackName": STACK, "StackId": STACK_ID, "CreationTime": T0, "StackStatus": status}
    if outputs:
        described["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [described]}


def describe(stubber: Stubber, status: str, outputs: dict[str, str] | None = None) -> None:
    """Script one DescribeStacks answer."""
    stubber.add_response("describe_stacks", stack(status, outputs), {"StackName": STACK})


def describe_missing(stubber: Stubber) -> None:
    """Script real CloudFormation's answer for a stack that does not exist."""
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {STACK} does not exist",
        http_status_code=400,
        expected_params={"StackName": STACK},
    )


def event(logical_id: str, status: str, reason: str = "", minute: int = 0) -> dict[str, Any]:
    """One stack event; ``logical_id == STACK`` makes it a stack-level event."""
    resource_type = "AWS::CloudFormation::Stack" if logical_id == STACK else "AWS::DynamoDB::Table"
    described: dict[str, Any] = {
        "StackId": STACK_ID,
        "EventId": f"event-{next(_event_ids)}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Timestamp": T0 + dt.timedelta(minutes=minute),
        "ResourceStatus": status,
    }
    if reason:
        described["ResourceStatusReason"] = reason
    return described


def events(stubber: Stubber, newest_first: list[dict[str, Any]]) -> None:
    """Script one DescribeStackEvents answer (the API lists the newest event first)."""
    stubber.add_response("describe_stack_events", {"StackEvents": newest_first}, {"StackName": STACK})


def change_set(stubber: Stubber, statuses: list[str], *, change_set_type: str, action: str = "Add",
               reason: str = "") -> None:
    """Script CreateChangeSet and one DescribeChangeSet per status in ``statuses``."""
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": change_set_type,
            "TemplateBody": ANY,
            "Parameters": [{"ParameterKey": "Environment", "ParameterValue": "dev"}],
            "Description": ANY,
            **({"ResourcesToImport": ANY} if change_set_type == "IMPORT" else {"Tags": ANY}),
            **({"DeploymentMode": "REVERT_DRIFT"} if change_set_type == "UPDATE" else {}),
        },
    )
    for status in statuses:
        answer: dict[str, Any] = {"ChangeSetName": "vibedigest-abc", "ChangeSetId": CHANGE_SET_ID,
                                  "StackId": STACK_ID, "StackName": STACK, "Status": status}
        if change_set_type == "UPDATE":
            answer["DeploymentMode"] = "REVERT_DRIFT"
        if status == "CREATE_COMPLETE":
            answer["Changes"] = [{"Type": "Resource", "ResourceChange": {
                "Action": action, "LogicalResourceId": "DigestTable", "ResourceType": "AWS::DynamoDB::Table",
                **({"Replacement": "False"} if action == "Modify" else {})}}]
        if reason:
            answer["StatusReason"] = reason
        stubber.add_response("describe_change_set", answer, {"StackName": STACK, "ChangeSetName": CHANGE_SET_ID})


def no_change_sets(stubber: Stubber) -> None:
    """Script ListChangeSets: no other deployment holds a change set of the stack."""
    stubber.add_response("list_change_sets", {"Summaries": []}, {"StackName": STACK})


def no_table(stubber: Stubber) -> None:
    """Script DescribeTable for a table that does not exist (nothing retained to adopt)."""
    stubber.add_client_error("describe_table", service_error_code="ResourceNotFoundException",
                             service_message="Requested resource not found", http_status_code=400,
                             expected_params={"TableName": TABLE})


def execute(stubber: Stubber) -> None:
    """Script ExecuteChangeSet of the scripted change set."""
    stubber.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": CHANGE_SET_ID})




# -- a stack left failed by an earlier deployment ------------------------------------------






def test_recover_reports_a_failed_delete(scripted: Scripted) -> None:
    """If the delete itself fails, recover raises with the failing resource instead of looping."""
    describe(scripted.cf, "ROLLBACK_COMPLETE")
    describe(scripted.cf, "ROLLBACK_COMPLETE")
    scripted.cf.add_response("delete_stack", {}, {"StackName": STACK})
    describe(scripted.cf, "DELETE_FAILED")
    events(scripted.cf, [
        event(STACK, "DELETE_FAILED", minute=7),
        event("DigestTable", "DELETE_FAILED", "Table is being used by another operation", minute=6),
        event(STACK, "DELETE_IN_PROGRESS", "User Initiated", minute=6),
    ])
    with pytest.raises(DeploymentError, match="Deleting vibedigest-dev failed: DigestTable: Table is being used"):
        scripted.deployer().recover(STACK, "dev")
    scripted.done()


def test_recover_continues_an_update_rollback_failed_stack(scripted: Scripted) -> None:
    """UPDATE_ROLLBACK_FAILED: ContinueUpdateRollback, then wait for UPDATE_ROLLBACK_COMPLETE,
    reporting only the events the continued rollback adds."""
    old = [
        event(STACK, "UPDATE_ROLLBACK_FAILED", minute=3),
        event("DigestTable", "UPDATE_FAILED", "rollback failed", minute=2),
        event(STACK, "UPDATE_IN_PROGRESS", "User Initiated", minute=1),
    ]
    resumed = event(STACK, "UPDATE_ROLLBACK_IN_PROGRESS", "Continue rollback requested", minute=10)
    finished = event(STACK, "UPDATE_ROLLBACK_COMPLETE", minute=11)
    describe(scripted.cf, "UPDATE_ROLLBACK_FAILED")
    events(scripted.cf, old)  # what was there before the call
    scripted.cf.add_response("continue_update_rollback", {}, {"StackName": STACK})
    events(scripted.cf, [resumed, *old])
    describe(scripted.cf, "UPDATE_ROLLBACK_IN_PROGRESS")
    events(scripted.cf, [finished, resumed, *old])
    describe(scripted.cf, "UPDATE_ROLLBACK_COMPLETE")
    recovery = scripted.deployer().recover(STACK, "dev")
    assert recovery.message == f"Stack {STACK} is UPDATE_ROLLBACK_COMPLETE; the previous template is in place again."
    assert recovery.deployable
    shown = [line for line in scripted.lines if "[AWS::" in line]
    assert len(shown) == 2
    assert "UPDATE_ROLLBACK_IN_PROGRESS" in shown[0] and "Continue rollback requested" in shown[0]
    assert "UPDATE_ROLLBACK_COMPLETE" in shown[1]
    assert not any("rollback failed" in line for line in scripted.lines)
    scripted.done()


def test_deploy_refuses_an_update_rollback_failed_stack(scripted: Scripted, template: Template) -> None:
    """UPDATE_ROLLBACK_FAILED is refused like ROLLBACK_COMPLETE, with the recover command."""
    describe(scripted.cf, "UPDATE_ROLLBACK_FAILED")
    events(scripted.cf, [
        event(STACK, "UPDATE_ROLLBACK_FAILED", minute=3),
        event("DigestTable", "UPDATE_FAILED", UPDATE_FAILURE, minute=2),
        event(STACK, "UPDATE_IN_PROGRESS", "User Initiated", minute=1),
    ])
    with pytest.raises(DeploymentError, match=r"DigestTable: .*Subscriber limit exceeded.*Recover it \(StackDeployer.recover\)"):
        scripted.deploy(template)
    scripted.done()


# -- a deployment failing while we wait -------------------------------------------------






def test_successful_create_collects_outputs_and_waits_for_the_table(scripted: Scripted, template: Template) -> None:
    """What the embedded endpoint cannot show: a change set still pending and a table still CREATING."""
    outputs = {"TableName": TABLE, "TableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"}
    describe_missing(scripted.cf)
    no_change_sets(scripted.cf)
    no_table(scripted.ddb)
    change_set(scripted.cf, ["CREATE_PENDING", "CREATE_COMPLETE"], change_set_type="CREATE")
    no_change_sets(scripted.cf)
    events(scripted.cf, [])
    execute(scripted.cf)
    events(scripted.cf, [event(STACK, "CREATE_COMPLETE", minute=2)])
    describe(scripted.cf, "CREATE_COMPLETE")
    for status in ("CREATING", "ACTIVE"):
        scripted.ddb.add_response("describe_table", {"Table": {"TableName": TABLE, "TableStatus": status}},
                                  {"TableName": TABLE})
    describe(scripted.cf, "CREATE_COMPLETE", outputs)
    result = scripted.deploy(template)
    assert result.executed is True
    assert result.status == "CREATE_COMPLETE"
    assert result.outputs == outputs
    assert len(scripted.clock.sleeps) == 2  # once for the change set, once for the table
    assert all(0 < s <= 2.0 for s in scripted.clock.sleeps)  # polls early and often, not boto3's 30 s
    scripted.done()


# -- a change set that fails ----------------------------------------------------------------




def test_change_set_failing_for_another_reason_raises(scripted: Scripted, template: Template) -> None:
    """A FAILED change set with any other reason is an error carrying CloudFormation's reason."""
    reason = "Parameter values specified for a template which does not require them."
    describe(scripted.cf, "UPDATE_COMPLETE")
    no_change_sets(scripted.cf)
    change_set(scripted.cf, ["FAILED"], change_set_type="UPDATE", reason=reason)
    with pytest.raises(DeploymentError, match=f"The change set for {STACK} failed: {reason}"):
        scripted.deploy(template)
    scripted.done()


# -- refusals and timeouts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]
)
def test_stack_busy_with_another_operation_is_refused(scripted: Scripted, template: Template, status: str) -> None:
    """A stack mid-operation is not touched: one clear message, no change set created."""
    describe(scripted.cf, status)
    with pytest.raises(DeploymentError) as caught:
        scripted.deploy(template)
    assert str(caught.value) == (
        f"Stack {STACK} is {status}: another operation is running. Wait for it to finish, then deploy again."
    )
    scripted.done()


def test_gives_up_when_the_stack_stays_in_progress(scripted: Scripted, template: Template) -> None:
    """A create stuck in CREATE_IN_PROGRESS ends with "Gave up after 15 s" once the (fake) clock
    passes the timeout; CloudFormation is told nothing, the user is told how to follow up."""
    scripted.clock.step = 10.0  # each poll's sleep moves the clock 10 s: polls at 0, 10 and 20 s
    describe_missing(scripted.cf)
    no_change_sets(scripted.cf)
    no_table(scripted.ddb)
    change_set(scripted.cf, ["CREATE_COMPLETE"], change_set_type="CREATE")
    no_change_sets(scripted.cf)
    events(scripted.cf, [])
    execute(scripted.cf)
    for _ in range(3):
        events(scripted.cf, [])
        describe(scripted.cf, "CREATE_IN_PROGRESS")
    with pytest.raises(DeploymentError) as caught:
        scripted.deploy(template, timeout=15)
    message = str(caught.value)
    assert message.startswith(f"Gave up after 15 s: stack {STACK} is still CREATE_IN_PROGRESS.")
    assert "deploy again or recover" in message
    assert len(scripted.clock.sleeps) == 2
    scripted.done()


def test_gives_up_when_the_change_set_stays_pending(scripted: Scripted, template: Template) -> None:
    """The same deadline covers change set creation, so a stuck change set cannot hang the deploy."""
    scripted.clock.step = 10.0
    describe_missing(scripted.cf)
    no_change_sets(scripted.cf)
    no_table(scripted.ddb)
    change_set(scripted.cf, ["CREATE_PENDING"] * 3, change_set_type="CREATE")
    with pytest.raises(DeploymentError, match=f"Gave up after 15 s: creating the change set for {STACK}"):
        scripted.deploy(template, timeout=15)
    scripted.done()


def test_one_deadline_covers_every_wait_of_the_deploy(scripted: Scripted, template: Template) -> None:
    """Time spent waiting for the change set counts against the same deadline as the stack wait:
    10 s pending, then the stack is in progress; with --timeout 15 the deploy gives up at the
    stack's first overdue poll, not 15 s after the change set was ready."""
    scripted.clock.step = 10.0
    describe_missing(scripted.cf)
    no_change_sets(scripted.cf)
    no_table(scripted.ddb)
    change_set(scripted.cf, ["CREATE_PENDING", "CREATE_COMPLETE"], change_set_type="CREATE")
    no_change_sets(scripted.cf)
    events(scripted.cf, [])
    execute(scripted.cf)
    for _ in range(2):
        events(scripted.cf, [])
        describe(scripted.cf, "CREATE_IN_PROGRESS")
    with pytest.raises(DeploymentError, match=f"Gave up after 15 s: stack {STACK} is still CREATE_IN_PROGRESS"):
        scripted.deploy(template, timeout=15)
    assert scripted.clock.now == 20.0  # one sleep for the change set, one for the stack
    scripted.done()


def test_an_import_change_set_that_fails_later_leaves_no_empty_stack(scripted: Scripted, template: Template) -> None:
    """AWS can accept CreateChangeSet, then fail the import change set: the REVIEW_IN_PROGRESS stack it
    made is deleted (no other deploy holds a change set of it), and the reason is the error."""
    reason = "Resource of type 'AWS::DynamoDB::Table' with identifier 'VibeDigest-dev' was not found."
    describe_missing(scripted.cf)
    no_change_sets(scripted.cf)
    scripted.ddb.add_response("describe_table", {"Table": {
        "TableName": TABLE, "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "digest_date", "KeyType": "HASH"},
                      {"AttributeName": "item_id", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "digest_date", "AttributeType": "S"},
                                 {"AttributeName": "item_id", "AttributeType": "S"}]}}, {"TableName": TABLE})
    describe_missing(scripted.cf)
    change_set(scripted.cf, ["FAILED"], change_set_type="IMPORT", reason=reason)
    describe(scripted.cf, "REVIEW_IN_PROGRESS")
    scripted.cf.add_response("list_change_sets", {"Summaries": [
        {"StackName": STACK, "ChangeSetId": CHANGE_SET_ID, "Status": "FAILED", "ExecutionStatus": "UNAVAILABLE"}]},
        {"StackName": STACK})
    scripted.cf.add_response("delete_stack", {}, {"StackName": STACK})
    with pytest.raises(DeploymentError, match=f"The change set for {STACK} failed: {reason}"):
        scripted.deploy(template)
    scripted.done()
