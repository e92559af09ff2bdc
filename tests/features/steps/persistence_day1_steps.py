"""Day 1 persistence acceptance: the behave steps and the spec's pytest tests for cases cf1-as5.

- the behave step definitions (registered through ``features/steps/persistence_day1.py``)
  used by ``features/infrastructure.feature``, ``package_structure.feature`` and
  ``connection.feature``. They run on the backend chosen with ``-D``
  (``context.backend``, see ``tests/support/backends.py``); nothing is reset between
  scenarios except on the embedded endpoint, so each Given step brings the world to the
  state it names;
- the pytest tests the specification names for cases cf1-as5
  (``tests/features/steps/persistence_day1_steps.py::test_*``).

The helpers both use live in ``tests/support/acceptance.py`` (deploying, verifying,
the deploy tool, connections) and ``tests/support/package_checks.py``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import parse
import pytest
from behave import given, register_type, then, when
from behave.log_capture import LoggingCapture
from botocore.stub import Stubber

from src.database import errors
from src.database.aws.target import Target
from src.database.client import DynamoDBClient
from src.database.deploy.verify import MISMATCH, OK
from src.database.settings import ENVIRONMENTS, stack_name_for, table_name_for
from tests.support.acceptance import (
    CREDENTIAL_VARIABLES,
    DEPLOY_TIMEOUT_SECONDS,
    PlantedCredentials,
    attempt_connection,
    connection_log,
    credential_chain_client,
    deploy_environment,
    ensure_deployed,
    error_texts,
    expected_for,
    expected_tags,
    leaked,
    live_table,
    live_tags,
    one_line_without_traceback,
    remove_environment,
    run_cli,
    service_client,
    stack_status,
    table_exists,
    unreachable_client,
    verify_environment,
)
from tests.support.fault_proxy import refused_endpoint
from tests.support.offline import keep_offline
from tests.support.package_checks import (
    ROOT,
    import_probe,
    missing_commands,
    missing_paths,
    missing_requirements,
    missing_sections,
    readme_text,
    undocumented,
    unpinned,
    untyped,
)

# ----------------------------------------------------------------------------------
# behave steps
# ----------------------------------------------------------------------------------
# "the table", "the stack", "the client" without an environment name mean the
# environment under test: context.backend.environment (dev on emulators, -D env on aws).

COMPLETE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


@parse.with_pattern(r"dev|staging|prod")
def _parse_environment(text: str) -> str:
    return text


register_type(DeployEnv=_parse_environment)


def _environment(context: Any, environment: str | None) -> str:
    """The named environment, or the one under test; remembered for the Then steps."""
    context.env_name = environment or context.backend.environment
    return str(context.env_name)


@given("the table is deployed")
@given("the {environment:DeployEnv} table is deployed")
@when("the stack is deployed")
@when("the {environment:DeployEnv} stack is deployed")
def given_table_deployed(context: Any, environment: str | None = None) -> None:
    """Deploy the environment's stack whatever the endpoint holds (a no-op when it is deployed)."""
    name = _environment(context, environment)
    context.deployment = ensure_deployed(context.target, name, disposable=context.backend.disposable)
    assert context.deployment.status in COMPLETE, context.deployment


@given("the {environment:DeployEnv} table is not deployed")
def given_table_not_deployed(context: Any, environment: str) -> None:
    """Delete the environment's stack and table (the scenario is @disposable: never on aws)."""
    remove_environment(context.target, environment)
    assert not table_exists(context.target, environment)


@when("the stack is deployed again")
def when_stack_deployed_again(context: Any) -> None:
    """Deploy the same template once more, keeping the deployer's report."""
    context.report = []
    context.deployment = deploy_environment(context.target, _environment(context, None), report=context.report.append)


# What the operator asks the deploy tool for, and the command line that asks it.
OPERATOR_ACTIONS = {
    "deploys": ("deploy",),
    "previews the deployment of": ("deploy", "--dry-run"),
    "checks": ("status",),
}


@parse.with_pattern("|".join(OPERATOR_ACTIONS))
def _parse_action(text: str) -> str:
    return text


register_type(OperatorAction=_parse_action)


@when("the operator {action:OperatorAction} the environment with the deploy tool")
@when("the operator {action:OperatorAction} the {environment:DeployEnv} environment with the deploy tool")
def when_operator_uses_the_tool(context: Any, action: str, environment: str | None = None) -> None:
    """Run ``python -m src.database`` for the action against the backend under test."""
    name = _environment(context, environment)
    context.cli = run_cli(*OPERATOR_ACTIONS[action], "--env", name, *context.backend.cli_arguments)


@then("the deployment succeeds and the stack is complete")
def then_deployment_succeeds(context: Any) -> None:
    """The stack of the deployed environment is CREATE_COMPLETE or UPDATE_COMPLETE."""
    assert context.deployment.status in COMPLETE, context.deployment
    assert stack_status(context.target, context.env_name) in COMPLETE


@then("the table {table_name} exists")
def then_table_exists(context: Any, table_name: str) -> None:
    """The named table is listed by the endpoint."""
    assert table_name in service_client(context.target, "dynamodb").list_tables()["TableNames"]


@then("the deploy reports that the stack already matches the template")
def then_no_changes(context: Any) -> None:
    """A second deploy of the same template changes nothing and says so."""
    assert not context.deployment.executed, context.deployment
    assert context.deployment.changes == [], context.deployment.changes
    assert any("No changes" in line for line in context.report), context.report


@then("the table is still {status}")
def then_table_still(context: Any, status: str) -> None:
    """The live table's status after the no-op deploy."""
    assert live_table(context.target, context.env_name)["TableStatus"] == status


def _cli_output(context: Any) -> str:
    """The deploy tool's stdout, after checking that it exited with 0."""
    run = context.cli
    assert run.code == 0, f"exit {run.code}: {run.stderr}"
    return str(run.stdout)


@then("the deploy tool reports the stack as complete")
def then_cli_stack_complete(context: Any) -> None:
    """The tool names the stack and a complete status (a first deploy or a no-op re-deploy)."""
    output = _cli_output(context)
    assert re.search(rf"Stack {stack_name_for(context.env_name)}(:| is) (CREATE|UPDATE)_COMPLETE", output), output


@then("the deploy tool reports the {first} and the {second} as ok")
def then_cli_checks_ok(context: Any, first: str, second: str) -> None:
    """The named checks of the tool's verification are ok."""
    output = _cli_output(context)
    for check in (first, second):
        assert re.search(rf"(?m)^\s*{re.escape(check)}\s+ok\b", output), f"{check} is not ok:\n{output}"


@then("the deploy tool reports the connection as OK")
def then_cli_connection_ok(context: Any) -> None:
    """The tool tested the connection and it succeeded."""
    assert "Connection OK" in _cli_output(context)


@then("the deploy tool reports the connection as OK and the deployment as verified")
def then_cli_verified(context: Any) -> None:
    """The tool tested the connection and concluded that the deployment is verified."""
    output = _cli_output(context)
    assert "Connection OK" in output and "Deployment verified." in output, output


@then("the deploy tool describes the table as {status}, keyed by {partition_key} and {sort_key}, billed per request")
def then_cli_describes(context: Any, status: str, partition_key: str, sort_key: str) -> None:
    """The table description the tool prints, read as key/value rows (the layout is pytest's concern)."""
    rows = dict(re.findall(r"(?m)^\s+(\w+)\s+(\S.*?)\s*$", _cli_output(context)))
    wanted = {
        "table_name": table_name_for(context.env_name),
        "status": status,
        "partition_key": partition_key,
        "sort_key": sort_key,
        "billing_mode": "PAY_PER_REQUEST",
    }
    assert {key: rows.get(key) for key in wanted} == wanted, rows


@then("the deploy tool previews adding the table and says that nothing was changed")
def then_cli_previews(context: Any) -> None:
    """The change set adds the table, and the dry run stops before executing it."""
    output = _cli_output(context)
    assert re.search(r"Add\s+DigestTable \[AWS::DynamoDB::Table\]", output), output
    assert "Dry run: nothing was changed." in output, output


@then("the deploy tool fails with the one line")
def then_cli_fails(context: Any) -> None:
    """Exit code 1 and exactly one ``error:`` line on stderr starting with the step's text."""
    run = context.cli
    assert run.code == 1, f"exit {run.code}: {run.stdout}"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(context.text.strip()), run.stderr


@then("no stack and no table exist for {environment:DeployEnv}")
def then_nothing_deployed(context: Any, environment: str) -> None:
    """A preview leaves the account as it was."""
    assert stack_status(context.target, environment) is None
    assert not table_exists(context.target, environment)


@then("the table is keyed by {partition_key} and {sort_key}")
def then_keyed_by(context: Any, partition_key: str, sort_key: str) -> None:
    """The live key schema: partition (HASH) and sort (RANGE) keys."""
    table = live_table(context.target, context.env_name)
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    assert keys == {"HASH": partition_key, "RANGE": sort_key}, keys


@then("both keys are strings")
def then_keys_are_strings(context: Any) -> None:
    """Every key attribute is declared with type S."""
    table = live_table(context.target, context.env_name)
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    keys = [k["AttributeName"] for k in table["KeySchema"]]
    assert {name: types.get(name) for name in keys} == {name: "S" for name in keys}, types


def _verification(context: Any) -> dict[str, Any]:
    return verify_environment(context.target, context.env_name, context.deployment, emulator=context.backend.emulator)


@then("the {check} check of the verification is {status}")
def then_verification_check(context: Any, check: str, status: str) -> None:
    """One named check of ``verify_table`` against the template has ``status``."""
    checks = _verification(context)
    assert checks[check].status == status, checks[check]


@then("the table's billing mode is {mode}")
def then_billing_mode(context: Any, mode: str) -> None:
    """The live billing mode."""
    assert live_table(context.target, context.env_name)["BillingModeSummary"]["BillingMode"] == mode


@then("the table carries the tags")
def then_tags(context: Any) -> None:
    """Each key/value row of the step's table is a tag of the live table."""
    tags = live_tags(context.target, context.env_name)
    wanted = {row["key"]: row["value"] for row in context.table}
    assert {k: tags.get(k) for k in wanted} == wanted, tags


@then("the stack carries the tags Project and Environment too")
def then_stack_tags(context: Any) -> None:
    """The stack itself is tagged (cost allocation by project and environment)."""
    stack = service_client(context.target, "cloudformation").describe_stacks(StackName=stack_name_for(context.env_name))
    tags = {t["Key"]: t["Value"] for t in stack["Stacks"][0]["Tags"]}
    assert tags.get("Project") == "VibeDigest" and tags.get("Environment") == context.env_name, tags


@then("the table is ACTIVE within {minutes:d} minutes of the deployment starting")
def then_active_within(context: Any, minutes: int) -> None:
    """The deploy waited for an ACTIVE table and took less than the bound."""
    assert context.deployment.seconds < minutes * 60, context.deployment.seconds
    assert live_table(context.target, context.env_name)["TableStatus"] == "ACTIVE"


@then("the template enables point-in-time recovery and encryption for {environment:DeployEnv}")
def then_template_protects(context: Any, environment: str) -> None:
    """PITR and SSE as the template declares them (moto cannot show them live)."""
    expected = expected_for(environment)
    assert expected.point_in_time_recovery and expected.sse_enabled, expected


@then("the template exports the table name and ARN for {environment:DeployEnv}")
def then_template_exports(context: Any, environment: str) -> None:
    """The template's outputs and their export names."""
    outputs = expected_for(environment).outputs
    assert outputs == {
        "TableName": f"VibeDigest-{environment}-TableName",
        "TableArn": f"VibeDigest-{environment}-TableArn",
    }, outputs


@then("the verification reports {checks} as ok")
def then_checks_ok(context: Any, checks: str) -> None:
    """The named live checks pass: the endpoint applied what the template says."""
    results = _verification(context)
    for name in [c.strip() for c in re.split(r",| and ", checks) if c.strip()]:
        assert results[name].status == OK, results[name]


@then("the repository contains")
def then_repository_contains(context: Any) -> None:
    """Every path of the step's table exists (a trailing '/' means a directory)."""
    paths = [row["path"] for row in context.table]
    missing = missing_paths(ROOT, paths)
    assert missing == [], f"missing: {missing}"


@when("a fresh Python process imports DynamoDBClient from src.database.client")
def when_import_probe(context: Any) -> None:
    """Run the import probe in a new interpreter."""
    context.probe = import_probe()


@then("the import succeeds")
def then_import_succeeds(context: Any) -> None:
    """The probe ran and the package re-exports the class."""
    assert "error" not in context.probe, context.probe
    assert context.probe["package_exports"] is True


@then("constructing a client creates no boto3 client and opens no connection")
def then_lazy(context: Any) -> None:
    """Construction is free; the boto3 client appears on first use only."""
    probe = context.probe
    assert probe["clients_after_construction"] == [] and probe["client_is_none"] is True, probe
    assert probe["clients_after_access"] == ["dynamodb"], probe


@then("every requirement in {files} is pinned with ==")
def then_pinned(context: Any, files: str) -> None:
    """No requirement line without an exact ``==`` pin."""
    for name in files.split(" and "):
        loose = unpinned(ROOT / name.strip())
        assert loose == [], f"{name}: not pinned with ==: {loose}"


@then("the requirements file {file} declares {names}")
def then_declares(context: Any, file: str, names: str) -> None:
    """The named packages are listed in the file."""
    wanted = [n.strip() for n in re.split(r",| and ", names) if n.strip()]
    missing = missing_requirements(ROOT / file, wanted)
    assert missing == [], f"{file} does not declare {missing}"


@then("the README has the sections")
def then_readme_sections(context: Any) -> None:
    """Every section of the step's table is a heading of README.md."""
    missing = missing_sections(readme_text(), [row["section"] for row in context.table])
    assert missing == [], f"README.md lacks the sections {missing}"


@then("the README shows how to run {commands}")
def then_readme_commands(context: Any, commands: str) -> None:
    """Each quoted command appears in a fenced code block of README.md."""
    missing = missing_commands(readme_text(), re.findall(r'"([^"]+)"', commands))
    assert missing == [], f"no fenced code block of README.md runs {missing}"


@then("every public module, class and function of src/database has a docstring and type hints")
def then_docstrings_and_hints(context: Any) -> None:
    """The package's public surface is documented and typed."""
    missing_docstrings, missing_hints = undocumented(), untyped()
    assert missing_docstrings == [], f"no docstring: {missing_docstrings}"
    assert missing_hints == [], f"incomplete type hints: {missing_hints}"


@when("the client tests its connection")
@when("the {environment:DeployEnv} client tests its connection")
def when_client_tests(context: Any, environment: str | None = None) -> None:
    """Build the client as the Given steps arranged (default: the backend under test) and test it."""
    name = _environment(context, environment)
    factory = getattr(context, "client_factory", None) or (lambda env: DynamoDBClient.for_target(context.target, env))
    context.attempt = attempt_connection(factory(name))
    context.attempts = [*getattr(context, "attempts", []), context.attempt]


@given("the endpoint is unreachable")
def given_unreachable(context: Any) -> None:
    """Clients point at a local port where nothing listens (fast retries and timeouts)."""
    context.client_factory = unreachable_client


def _patched_environment(context: Any) -> pytest.MonkeyPatch:
    """pytest's ``MonkeyPatch`` for this scenario; a behave cleanup undoes it."""
    patch = pytest.MonkeyPatch()
    context.add_cleanup(patch.undo)
    return patch


@given("no AWS credentials are configured")
def given_no_credentials(context: Any) -> None:
    """No credential variables, empty AWS config files; clients use boto3's chain."""
    patch = _patched_environment(context)
    keep_offline(patch)  # empty config files, no instance metadata, no profile
    for name in CREDENTIAL_VARIABLES:
        patch.delenv(name, raising=False)
    context.client_factory = lambda env: credential_chain_client(context.target.endpoint_url, env)


@given("AWS credentials with a secret key and a session token are in the environment")
def given_planted_credentials(context: Any) -> None:
    """Plant marker credentials; clients sign with them through boto3's chain."""
    context.planted = PlantedCredentials()
    patch = _patched_environment(context)
    for name, value in context.planted.environment().items():
        patch.setenv(name, value)


@given("logging is at DEBUG, botocore included")
def given_debug_logging(context: Any) -> None:
    """Capture every record at DEBUG for the rest of the scenario."""
    _capture_logs(context, logging.DEBUG)


@given("the connection log is captured")
def given_connection_log(context: Any) -> None:
    """Capture the package's INFO-and-above records for the rest of the scenario."""
    _capture_logs(context, logging.INFO)


def _capture_logs(context: Any, level: int) -> None:
    """behave's own log capture at ``level`` (root logger, botocore's records included) until the scenario ends."""
    capture = LoggingCapture(context.config, level)
    capture.inveigle()
    context.add_cleanup(capture.abandon)
    context.log = capture


@when("the client tests its connection to the endpoint under test with those credentials")
def when_planted_local(context: Any) -> None:
    """A client using the planted credentials against the backend's endpoint."""
    client = credential_chain_client(context.target.endpoint_url, _environment(context, None))
    context.attempts = [*getattr(context, "attempts", []), attempt_connection(client)]


@when("the client tests its connection to an unreachable endpoint with those credentials")
def when_planted_unreachable(context: Any) -> None:
    """A client using the planted credentials against a refused port."""
    client = credential_chain_client(refused_endpoint(), _environment(context, None))
    context.attempts = [*getattr(context, "attempts", []), attempt_connection(client)]


@then("the connection test returns the description of the table")
def then_description(context: Any) -> None:
    """Name, ARN, ACTIVE status, keys, billing mode and item count, as the endpoint reports them."""
    attempt = context.attempt
    assert attempt.error is None, attempt.error
    live = live_table(context.target, context.env_name)
    description = attempt.description
    assert description["table_name"] == table_name_for(context.env_name) == live["TableName"]
    assert description["table_arn"] == live["TableArn"]
    assert description["status"] == "ACTIVE"
    assert (description["partition_key"], description["sort_key"]) == ("digest_date", "item_id")
    assert description["key_schema"] == live["KeySchema"]
    assert description["billing_mode"] == "PAY_PER_REQUEST"
    assert description["item_count"] == live["ItemCount"]


@then("the connection test fails with {error_name}")
def then_fails_with(context: Any, error_name: str) -> None:
    """The exact error class, a one-line message and the boto exception chained as cause."""
    error = context.attempt.error
    assert error is not None, context.attempt.description
    assert type(error).__name__ == error_name, repr(error)
    assert isinstance(error, getattr(errors, error_name))
    assert one_line_without_traceback(error), str(error)
    assert error.__cause__ is not None and type(error.__cause__).__module__.startswith("botocore"), repr(error.__cause__)


@then('the error message mentions "{text}"')
def then_message_mentions(context: Any, text: str) -> None:
    """The message names what went wrong or what to do."""
    assert text in str(context.attempt.error), str(context.attempt.error)


@then("the connection test failed within {seconds:d} seconds")
def then_failed_within(context: Any, seconds: int) -> None:
    """A generous bound on the time to the error (retries and timeouts are short)."""
    assert context.attempt.seconds < seconds, context.attempt.seconds


@then("the log shows the attempt and the success for {table_name}")
def then_log_success(context: Any, table_name: str) -> None:
    """An INFO record of the attempt and one of the OK outcome, naming the table."""
    messages = connection_log(context.log.buffer, table_name)
    assert any(level == logging.INFO and "Testing connection" in m for level, m in messages), messages
    assert any(level == logging.INFO and "Connection OK" in m and "ACTIVE" in m for level, m in messages), messages


@then("the log shows the attempt and the failure for {table_name}")
def then_log_failure(context: Any, table_name: str) -> None:
    """An INFO record of the attempt and a WARNING of the failure with its error class."""
    messages = connection_log(context.log.buffer, table_name)
    assert any(level == logging.INFO and "Testing connection" in m for level, m in messages), messages
    assert any(
        level >= logging.WARNING and "failed" in m and "TableNotFoundError" in m for level, m in messages
    ), messages


@then("neither the secret key nor the session token appears in the logs, the errors or the client's repr")
def then_no_leak(context: Any) -> None:
    """Search everything a user could see for the planted secrets."""
    log_text = context.log.getvalue()
    texts = [log_text]
    for attempt in context.attempts:
        texts += [repr(attempt.client), *error_texts(attempt.error), json.dumps(attempt.description, default=str)]
    found = leaked(context.planted.secrets, texts)
    assert found == [], f"planted secrets leaked: {found}"
    assert "x-amz-security-token" in log_text.lower(), "botocore's DEBUG wire log was not captured"


@then("the first connection test succeeded and the second failed with {error_name}")
def then_first_ok_second_failed(context: Any, error_name: str) -> None:
    """Both code paths (success and failure) were exercised."""
    first, second = context.attempts
    assert first.error is None and first.description is not None, first.error
    assert type(second.error).__name__ == error_name, repr(second.error)


# ----------------------------------------------------------------------------------
# pytest: the spec's named tests for cases cf1-as5
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_cloudformation_deployment(local_target: Target, environment: str) -> None:
    """cf1: the template deploys through a change set to CREATE_COMPLETE, and re-deploys as a no-op.

    The exports of the table name and ARN are asserted on the template, and the live
    "outputs" check compares the stack's outputs with the table: it must be "ok".
    """
    report: list[str] = []
    result = deploy_environment(local_target, environment, report=report.append)

    assert result.executed and result.status == "CREATE_COMPLETE"
    assert [(c.action, c.logical_id, c.resource_type) for c in result.changes] == [
        ("Add", "DigestTable", "AWS::DynamoDB::Table")
    ]
    assert stack_status(local_target, environment) == "CREATE_COMPLETE"
    assert table_exists(local_target, environment)
    assert any("CREATE_COMPLETE" in line for line in report), report  # stack events were streamed

    outputs = expected_for(environment).outputs
    assert outputs == {"TableName": f"VibeDigest-{environment}-TableName", "TableArn": f"VibeDigest-{environment}-TableArn"}
    assert verify_environment(local_target, environment, result)["outputs"].status == OK

    again = deploy_environment(local_target, environment)
    assert not again.executed and again.changes == []
    assert stack_status(local_target, environment) == "CREATE_COMPLETE"


def test_cloudformation_dry_run_changes_nothing(local_target: Target) -> None:
    """cf1: a preview (``execute=False``) lists the change and leaves no stack or table behind."""
    result = deploy_environment(local_target, "dev", execute=False)

    assert not result.executed
    assert [(c.action, c.logical_id) for c in result.changes] == [("Add", "DigestTable")]
    assert stack_status(local_target, "dev") is None
    assert not table_exists(local_target, "dev")


def test_table_schema(local_target: Target) -> None:
    """ts2: the deployed table is keyed by digest_date (HASH, S) and item_id (RANGE, S).

    The template's point-in-time recovery and SSE are asserted on the template: moto
    applies both (fidelity layer), so their live checks must be "ok" too.
    """
    deploy_environment(local_target, "dev")
    table = live_table(local_target, "dev")

    assert table["TableName"] == "VibeDigest-dev"
    assert {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]} == {"HASH": "digest_date", "RANGE": "item_id"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "digest_date": "S",
        "item_id": "S",
    }
    checks = verify_environment(local_target, "dev")
    assert checks["key schema"].status == OK and checks["attribute types"].status == OK

    expected = expected_for("dev")
    assert expected.point_in_time_recovery and expected.sse_enabled
    assert checks["point-in-time recovery"].status == OK
    assert checks["encryption"].status == OK


def test_table_schema_mismatch_is_reported(local_target: Target) -> None:
    """ts2: verification is not a rubber stamp: a table with the wrong sort key is a mismatch."""
    service_client(local_target, "dynamodb").create_table(
        TableName="VibeDigest-dev",
        KeySchema=[{"AttributeName": "digest_date", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "digest_date", "AttributeType": "S"},
            {"AttributeName": "id", "AttributeType": "N"},
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    checks = verify_environment(local_target, "dev")

    assert checks["key schema"].status == MISMATCH
    assert checks["attribute types"].status == MISMATCH
    assert checks["billing mode"].status == MISMATCH


def test_billing_mode(local_target: Target) -> None:
    """bm3: the template asks for PAY_PER_REQUEST and the deployed table bills per request."""
    assert expected_for("dev").billing_mode == "PAY_PER_REQUEST"
    deploy_environment(local_target, "dev")

    assert live_table(local_target, "dev")["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert verify_environment(local_target, "dev")["billing mode"].status == OK


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_table_tags(local_target: Target, environment: str) -> None:
    """tg4: the table carries Project, Environment=<env> and ManagedBy tags; the stack is tagged too."""
    deploy_environment(local_target, environment)

    tags = live_tags(local_target, environment)
    assert {k: tags.get(k) for k in expected_tags(environment)} == expected_tags(environment)
    assert verify_environment(local_target, environment)["tags"].status == OK
    stack = service_client(local_target, "cloudformation").describe_stacks(StackName=stack_name_for(environment))["Stacks"][0]
    stack_tag_values = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert stack_tag_values["Project"] == "VibeDigest" and stack_tag_values["Environment"] == environment


def test_table_active_status(local_target: Target) -> None:
    """as5: the deploy returns only once the table is ACTIVE, well within 2 minutes.

    moto creates tables ACTIVE at once, so the waiting itself is shown with a stubbed
    DynamoDB client that reports CREATING twice before ACTIVE: the deploy must poll
    until ACTIVE (all three stubbed answers consumed) before it returns.
    """
    result = deploy_environment(local_target, "dev")
    assert result.seconds < DEPLOY_TIMEOUT_SECONDS
    assert live_table(local_target, "dev")["TableStatus"] == "ACTIVE"
    assert verify_environment(local_target, "dev")["status"].status == OK

    polled = local_target.client("dynamodb")
    stubber = Stubber(polled)
    stubber.add_client_error(  # before creating the stack, the deploy looks for a retained table to adopt
        "describe_table", "ResourceNotFoundException", "Requested resource not found",
        expected_params={"TableName": "VibeDigest-staging"},
    )
    for status in ("CREATING", "CREATING", "ACTIVE"):
        stubber.add_response(
            "describe_table",
            {"Table": {"TableName": "VibeDigest-staging", "TableStatus": status}},
            {"TableName": "VibeDigest-staging"},
        )
    with stubber:
        waited = deploy_environment(local_target, "staging", dynamodb=polled)
        stubber.assert_no_pending_responses()
    assert waited.status == "CREATE_COMPLETE" and waited.seconds < DEPLOY_TIMEOUT_SECONDS
