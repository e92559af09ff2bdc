"""The acceptance gate's own machinery: backend selection, skipping, reports and exit code.

The gate itself (the whole suite on the embedded endpoint, then against a separate
``serve`` process) runs in tox's test command; these tests check the parts a green run
cannot show: a failing scenario fails the gate and is recorded in the reports, LocalStack
is found where the deploy tool finds it, and scenarios that need a disposable account
never run on aws.
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from xml.etree import ElementTree

import pytest

from src.database.aws.target import Target
from src.database.emulator.endpoint import EmbeddedEndpoint
from tests.support.acceptance import (
    deploy_environment,
    ensure_deployed,
    stack_deployer,
    stack_status,
    table_exists,
)
from tests.support.backends import Backend, BackendError, open_backend
from tests.support.endpoints import ROOT, child_environment, unmeasured
from tests.support.tables import create_digest_table

FAILING_FEATURE = """\
Feature: A gate that must fail
  Scenario: This one holds
    Given a fact
  Scenario: This one breaks
    Given a fact
    Then the fact is false
"""

STEPS = """\
from behave import given, then

@given("a fact")
def fact(context):
    context.fact = True

@then("the fact is false")
def false(context):
    assert not context.fact, "the fact is true"
"""


def test_a_failing_scenario_fails_the_gate_and_is_in_every_report(tmp_path: Path) -> None:
    """behave's exit code is non-zero, and JUnit, Cucumber JSON and HTML all record the failure."""
    features = tmp_path / "features"
    (features / "steps").mkdir(parents=True)
    (features / "gate.feature").write_text(FAILING_FEATURE)
    (features / "steps" / "steps.py").write_text(STEPS)
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.run_gate", "--reports", str(reports), str(features), "--format", "progress"],
        cwd=ROOT,
        env=unmeasured(child_environment()),  # the gate's own code is tests/support, not src/
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, done.stdout
    assert "1 scenario passed, 1 failed" in done.stdout, done.stdout

    (junit,) = (reports / "junit").glob("TESTS-*.xml")
    suite = ElementTree.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["This one breaks"], failed

    (feature,) = json.loads((reports / "cucumber.json").read_text())
    statuses = {element["name"]: element["status"] for element in feature["elements"]}
    assert statuses == {"This one holds": "passed", "This one breaks": "failed"}

    html = (reports / "acceptance.html").read_text()
    assert "This one breaks" in html and "the fact is true" in html


def test_localstack_is_found_where_the_deploy_tool_finds_it(
    monkeypatch: pytest.MonkeyPatch, moto_server: EmbeddedEndpoint
) -> None:
    """With LOCALSTACK_HOST pointing at a stand-in endpoint, the suite deploys there."""
    monkeypatch.setenv("LOCALSTACK_HOST", moto_server.url.removeprefix("http://"))
    with ExitStack() as resources:
        backend = open_backend({"target": "localstack"}, resources)
    assert backend.target.endpoint_url == moto_server.url
    assert (backend.disposable, backend.emulator, backend.resets) == (True, "localstack", False)
    assert backend.cli_arguments == ("--target", "localstack", "--endpoint-url", moto_server.url)
    ensure_deployed(backend.target, "staging", disposable=True)
    assert stack_status(backend.target, "staging") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def test_an_already_running_endpoint_is_used_as_it_is() -> None:
    """-D endpoint_url: disposable, never reset, and the deploy tool gets the same URL."""
    with ExitStack() as resources:
        backend = open_backend({"endpoint_url": "http://127.0.0.1:4567"}, resources)
    assert backend.target.endpoint_url == "http://127.0.0.1:4567"
    assert (backend.disposable, backend.resets, backend.environment) == (True, False, "dev")
    assert backend.cli_arguments == ("--endpoint-url", "http://127.0.0.1:4567")


@pytest.mark.parametrize(
    ("userdata", "message"),
    [
        ({"target": "gcp"}, "choose one of local, localstack, aws"),
        ({"target": "aws"}, "needs -D env=dev or -D env=staging"),
        ({"target": "aws", "env": "prod"}, "never writes to prod"),
    ],
)
def test_a_backend_that_cannot_be_used_is_refused(userdata: dict[str, str], message: str) -> None:
    with ExitStack() as resources, pytest.raises(BackendError, match=message):
        open_backend(userdata, resources)


@pytest.fixture
def aws_backend() -> Backend:
    """The aws backend for staging; building it sends no request."""
    with ExitStack() as resources:
        return open_backend({"target": "aws", "env": "staging", "profile": "p", "region": "eu-west-1"}, resources)


def test_aws_is_not_disposable_and_the_deploy_tool_gets_the_same_account(aws_backend: Backend) -> None:
    assert (aws_backend.disposable, aws_backend.emulator, aws_backend.environment) == (False, None, "staging")
    assert aws_backend.cli_arguments == ("--target", "aws", "--region", "eu-west-1", "--profile", "p")
    assert aws_backend.target.profile == "p" and aws_backend.target.endpoint_url is None


@pytest.mark.parametrize(
    ("tags", "steps", "reason"),
    [
        ({"disposable"}, ["Given the table is deployed"], "@disposable"),
        ({"emulator"}, ["Given the table is deployed"], "@emulator"),
        (set(), ["Given the prod table is deployed"], "uses the prod environment; on aws only staging"),
        (set(), ["Given the staging table is deployed"], None),
        (set(), ["Given the table is deployed"], None),
    ],
)
def test_what_runs_on_aws(aws_backend: Backend, tags: set[str], steps: list[str], reason: str | None) -> None:
    """Only the given environment, nothing that deletes, nothing that needs planted credentials."""
    found = aws_backend.skip_reason(tags, steps)
    assert (found is None) if reason is None else (found is not None and reason in found), found


def test_everything_runs_on_a_disposable_account() -> None:
    with ExitStack() as resources:
        backend = open_backend({"endpoint_url": "http://127.0.0.1:4567"}, resources)
    assert backend.skip_reason({"disposable", "emulator"}, ["Given the prod table is deployed"]) is None


def test_scenario_item_ids_are_test_ids_unique_per_scenario(aws_backend: Backend) -> None:
    first, second = aws_backend.item_prefix(), aws_backend.item_prefix()
    assert first.startswith(f"test-{aws_backend.run_id}-") and second.startswith(f"test-{aws_backend.run_id}-")
    assert first != second


def test_a_table_left_without_its_stack_is_adopted_again(local_target: Target) -> None:
    """"Given the prod table is deployed" holds after the stack was deleted and its table retained."""
    deploy_environment(local_target, "prod")
    stack_deployer(local_target).delete("vibedigest-prod")
    assert stack_status(local_target, "prod") is None and table_exists(local_target, "prod")

    result = ensure_deployed(local_target, "prod", disposable=True)

    assert result.executed and stack_status(local_target, "prod") in ("IMPORT_COMPLETE", "UPDATE_COMPLETE")


def test_a_retained_table_with_other_keys_is_replaced_on_a_disposable_account(local_target: Target) -> None:
    """A leftover table the deploy refuses to adopt (other keys) is removed first, where the account is disposable."""
    local_target.client("dynamodb").create_table(
        TableName="VibeDigest-dev",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = ensure_deployed(local_target, "dev", disposable=True)
    assert result.executed and stack_status(local_target, "dev") == "CREATE_COMPLETE"


def test_nothing_is_removed_where_the_account_is_not_disposable(local_target: Target) -> None:
    """With disposable=False a retained table is never removed: the deploy adopts it, items and all."""
    dynamodb = local_target.client("dynamodb")
    create_digest_table(dynamodb, "VibeDigest-staging")
    dynamodb.put_item(TableName="VibeDigest-staging", Item={"digest_date": {"S": "2026-11-26"}, "item_id": {"S": "kept"}})
    ensure_deployed(local_target, "staging", disposable=False)
    assert stack_status(local_target, "staging") in ("IMPORT_COMPLETE", "UPDATE_COMPLETE")
    assert dynamodb.get_item(TableName="VibeDigest-staging", Key={"digest_date": {"S": "2026-11-26"}, "item_id": {"S": "kept"}})["Item"]
