"""Steps of ``features/lifecycle.feature``: delete and redeploy, failures, recovery, refusals.

Every step works on ``context.target`` (the endpoint under test) through
``StackDeployer`` and plain boto3 clients, built once per target (``service_client``:
building a session and client for every step would outweigh the deploys themselves). Nothing
assumes the endpoint was reset: each Given brings the world to the state it names
(deleting a stack or table left by an earlier scenario first).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when

from src.database.deploy.deployer import StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import Template
from src.database.deploy.verify import all_passed
from src.database.errors import DeploymentError
from tests.support.acceptance import (
    project_template,
    service_client,
    verify_environment,
)
from tests.support.concurrent_deploys import Report, run_together
from tests.support.template_variants import failing_update, rejected_name, swapped_keys

ENV, STACK, TABLE = "dev", "vibedigest-dev", "VibeDigest-dev"
TAGS = {"Project": "VibeDigest", "Environment": ENV}


def _clients(context: Any) -> tuple[Any, Any]:
    return service_client(context.target, "cloudformation"), service_client(context.target, "dynamodb")


def _deployer(context: Any) -> StackDeployer:
    cloudformation, dynamodb = _clients(context)
    lines = context.__dict__.setdefault("lifecycle_lines", [])
    return StackDeployer(cloudformation, dynamodb, report=lines.append, timeout=120)


def _variants(context: Any) -> Path:
    if not hasattr(context, "lifecycle_dir"):
        directory = tempfile.TemporaryDirectory(prefix="lifecycle-")
        context.add_cleanup(directory.cleanup)
        context.lifecycle_dir = Path(directory.name)
    return context.lifecycle_dir


def _deploy(context: Any, template: Template | None = None, *, execute: bool = True) -> None:
    """Deploy dev; keep the result or the refusal in ``context.outcome``."""
    try:
        context.outcome = _deployer(context).deploy(
            StackSpec.of(template or project_template(), stack_name=STACK, environment=ENV, table_name=TABLE, tags=TAGS), execute=execute
        )
    except DeploymentError as error:
        context.outcome = error


def _ddb(context: Any) -> Any:
    return _clients(context)[1]


def _item_ids(context: Any) -> list[str]:
    pages = _ddb(context).get_paginator("scan").paginate(TableName=TABLE)
    return sorted(item["item_id"]["S"] for page in pages for item in page["Items"])


def _tags(context: Any) -> dict[str, str]:
    dynamodb = _ddb(context)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    return {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def _failure(context: Any) -> str:
    assert isinstance(context.outcome, DeploymentError), f"the deploy did not fail: {context.outcome}"
    return str(context.outcome)


def _clear(context: Any) -> None:
    """No dev stack and no dev table, whatever an earlier scenario left."""
    deployer = _deployer(context)
    if deployer.stack_status(STACK) is not None:
        deployer.delete(STACK)
    dynamodb = _ddb(context)
    if TABLE in dynamodb.list_tables()["TableNames"]:
        dynamodb.update_table(TableName=TABLE, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=TABLE)
        dynamodb.get_waiter("table_not_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


@given("neither a dev stack nor a dev table exists")
def given_nothing(context: Any) -> None:
    _clear(context)


@given("the dev environment is deployed with {count:d} digests in its table")
def given_deployed_with_digests(context: Any, count: int) -> None:
    _clear(context)
    _deploy(context)
    assert not isinstance(context.outcome, DeploymentError), context.outcome
    dynamodb = _ddb(context)
    for i in range(count):
        dynamodb.put_item(TableName=TABLE, Item={"digest_date": {"S": "2024-05-01"}, "item_id": {"S": f"{i:03}"}})
    context.expected_items = [f"{i:03}" for i in range(count)]
    context.expected_tags = _tags(context)


@given("a dev table keyed by id alone exists without a stack")
def given_other_table(context: Any) -> None:
    _clear(context)
    _ddb(context).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )


@given("a first deploy of dev was interrupted before its change set ran")
def given_interrupted(context: Any) -> None:
    _clear(context)
    _clients(context)[0].create_change_set(
        StackName=STACK, ChangeSetName="interrupted", ChangeSetType="CREATE", TemplateBody=project_template().body,
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": ENV}],
    )


@when("the operator deletes the dev stack")
def when_delete(context: Any) -> None:
    _deployer(context).delete(STACK)


@when("the operator deploys dev")
def when_deploy(context: Any) -> None:
    _deploy(context)


@when("the operator deploys dev with a table name DynamoDB rejects")
def when_deploy_rejected(context: Any) -> None:
    _deploy(context, rejected_name(_variants(context)))


@when("the operator deploys dev with an update that cannot be applied")
def when_deploy_failing_update(context: Any) -> None:
    _deploy(context, failing_update(_variants(context)))


@when("the operator previews a deploy of dev with the partition and sort keys swapped")
def when_preview_swapped(context: Any) -> None:
    context.lifecycle_lines = []
    _deploy(context, swapped_keys(_variants(context)), execute=False)


@when("the operator previews a deploy of dev")
def when_preview(context: Any) -> None:
    context.lifecycle_lines = []
    _deploy(context, execute=False)


@when("someone turns off point-in-time recovery and changes a tag of the retained dev table")
def when_drift(context: Any) -> None:
    dynamodb = _ddb(context)
    dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Project", "Value": "changed-by-hand"}])


@when("the operator deploys dev with the partition and sort keys swapped")
def when_deploy_swapped(context: Any) -> None:
    _deploy(context, swapped_keys(_variants(context)))


@when("the operator recovers the dev stack")
def when_recover(context: Any) -> None:
    context.recovered = _deployer(context).recover(STACK, ENV)


@when("two operators deploy dev at the same moment")
def when_two_deploys(context: Any) -> None:
    def deploy(report: Report) -> object:  # each operator with its own session and clients, as two processes
        session = context.target.session()
        deployer = StackDeployer(
            context.target.client("cloudformation", session), context.target.client("dynamodb", session),
            report=report, timeout=120,
        )
        return deployer.deploy(
            StackSpec.of(project_template(), stack_name=STACK, environment=ENV, table_name=TABLE, tags=TAGS)
        ).status

    context.outcomes = run_together([deploy, deploy])


@then("the dev table and its {count:d} digests remain without a stack")
def then_table_remains(context: Any, count: int) -> None:
    assert _deployer(context).stack_status(STACK) is None
    assert _item_ids(context) == context.expected_items and len(context.expected_items) == count


@then("the dev stack holds the dev table")
def then_stack_holds_table(context: Any) -> None:
    assert not isinstance(context.outcome, DeploymentError), context.outcome
    resources = _clients(context)[0].describe_stack_resources(StackName=STACK)["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("DigestTable", TABLE)]


@then("all {count:d} digests of dev can still be read")
def then_all_digests(context: Any, count: int) -> None:
    assert _item_ids(context) == [f"{i:03}" for i in range(count)]


@then("the preview shows the dev table would be imported into the stack")
def then_preview_imports(context: Any) -> None:
    assert not isinstance(context.outcome, DeploymentError), context.outcome
    assert [(c.action, c.logical_id) for c in context.outcome.changes] == [("Import", "DigestTable")]
    assert any(line.startswith("Change set ") for line in context.lifecycle_lines), context.lifecycle_lines


@then("the dev table matches the template in every check")
def then_matches_template(context: Any) -> None:
    assert not isinstance(context.outcome, DeploymentError), context.outcome
    checks = verify_environment(context.target, ENV, context.outcome, emulator=context.backend.emulator)
    assert all_passed(list(checks.values())), [str(c) for c in checks.values()]
    assert _tags(context)["Project"] == "VibeDigest"


@then("the deploy is refused, naming the partition key the template expects")
def then_refused_keys(context: Any) -> None:
    assert "HASH key is id, the template says digest_date" in _failure(context)


@then("no dev stack exists")
def then_no_stack(context: Any) -> None:
    assert _deployer(context).stack_status(STACK) is None


@then("the deploy fails, naming DigestTable and DynamoDB's reason")
def then_fails_with_reason(context: Any) -> None:
    message = _failure(context)
    assert "ended ROLLBACK_COMPLETE: DigestTable: " in message and "failed to satisfy constraint" in message, message


@then("the status of the dev stack is {status}")
def then_stack_status(context: Any, status: str) -> None:
    assert _deployer(context).stack_status(STACK) == status


@then("deploying dev now succeeds")
def then_deploy_succeeds(context: Any) -> None:
    _deploy(context)
    assert not isinstance(context.outcome, DeploymentError), context.outcome
    assert context.outcome.status == "CREATE_COMPLETE"


@then("the deploy fails, saying the previous version is still in place")
def then_update_failed(context: Any) -> None:
    message = _failure(context)
    assert "ended UPDATE_ROLLBACK_COMPLETE" in message and "previous version is still in place" in message, message


@then("the dev table keeps its tags and all {count:d} digests")
def then_table_unchanged(context: Any, count: int) -> None:
    assert _tags(context) == context.expected_tags
    assert _item_ids(context) == context.expected_items and len(context.expected_items) == count


@then("the preview shows the table would be replaced because of its KeySchema")
def then_preview_replace(context: Any) -> None:
    assert [(c.logical_id, c.replaces, c.recreated) for c in context.outcome.changes] == [
        ("DigestTable", True, ("KeySchema",))
    ]
    assert any(line.strip().startswith("Replace DigestTable") for line in context.lifecycle_lines)


@then("the deploy is refused because the table would be replaced")
def then_refused_replace(context: Any) -> None:
    message = _failure(context)
    assert "would replace its table" in message and "KeySchema" in message and "Nothing was changed" in message


@then("one deploy creates the stack and the other is refused because another deployment is in progress")
def then_one_of_two(context: Any) -> None:
    outcomes = context.outcomes
    assert sorted(o if isinstance(o, str) else type(o).__name__ for o in outcomes) == ["CREATE_COMPLETE", "DeploymentError"], outcomes
    refused = [o for o in outcomes if isinstance(o, DeploymentError)]
    assert "Another deployment of vibedigest-dev is in progress" in str(refused[0])


@then("the dev stack is CREATE_COMPLETE with no change set waiting")
def then_nothing_waiting(context: Any) -> None:
    assert _deployer(context).stack_status(STACK) == "CREATE_COMPLETE"
    summaries = _clients(context)[0].list_change_sets(StackName=STACK)["Summaries"]
    assert all(s["ExecutionStatus"] != "AVAILABLE" for s in summaries), summaries


@then("recover says it deleted the empty stack an interrupted deploy left")
def then_recover_said(context: Any) -> None:
    assert "left by an interrupted first deploy" in context.recovered.message, context.recovered
