"""The acceptance step library: helpers that drive the real code against the backend under test.

``deploy_environment``, ``live_table``, ``verify_environment``, ``run_cli``,
``attempt_connection`` and their kin call ``StackDeployer``, ``load_template``,
``verify_table``, ``DynamoDBClient`` and ``python -m src.database`` on a ``Target``.
The behave steps (``tests/features/steps/``) and the pytest tests both use them, so the
two suites check the same behaviour. ``remove_environment`` deletes a stack and its
table and is for disposable accounts only (never called on aws: the scenarios that need
it are tagged ``@disposable``).

The embedded endpoint's fidelity layer applies point-in-time recovery and SSE from the
template and computes stack outputs for change sets, so the live verification reports
them "ok" (they are asserted on the template as well).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from botocore.client import BaseClient
from botocore.stub import Stubber

from src.database import errors
from src.database.aws.target import Target
from src.database.cli.parser import main as cli_main
from src.database.client import DynamoDBClient
from src.database.deploy.deployer import DeployResult, StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import (
    ExpectedTable,
    Template,
    expected_table,
    load_template,
)
from src.database.deploy.verify import Check, verify_table
from src.database.deploy.workflow import stack_tags
from src.database.settings import ClientSettings, stack_name_for, table_name_for
from tests.support.fault_proxy import refused_endpoint

DEPLOY_TIMEOUT_SECONDS = 120.0  # the spec: the table is ACTIVE within 2 minutes
UNREACHABLE_BOUND_SECONDS = 10.0  # generous bound on time-to-error for a refused endpoint
EXPECTED_TAGS = {"Project": "VibeDigest", "ManagedBy": "CloudFormation"}  # plus Environment=<env>

# ----------------------------------------------------------------------------------
# Step library: infrastructure
# ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def project_template() -> Template:
    """The repository's template, parsed and linted once (cfn-lint is slow to start)."""
    return load_template()


def expected_for(environment: str) -> ExpectedTable:
    """What the template says the table of ``environment`` must look like."""
    return expected_table(project_template(), environment)


@functools.lru_cache(maxsize=16)
def service_client(target: Target, service: str) -> BaseClient:
    """A low-level client for ``service`` on ``target``, built once per target and reused.

    Building a boto3 session and client loads botocore's service model each time, so steps
    reuse one; ``Target`` is a frozen value, so equal targets (the same endpoint) share
    their clients.
    """
    return target.client(service)


def deploy_environment(
    target: Target,
    environment: str,
    *,
    execute: bool = True,
    report: Callable[[str], None] | None = None,
    dynamodb: BaseClient | None = None,
) -> DeployResult:
    """Deploy (or, with ``execute=False``, preview) the stack of ``environment`` on ``target``.

    This is what ``python -m src.database deploy`` does before verifying: the linted
    template goes through ``StackDeployer`` as a change set. ``dynamodb`` replaces the
    client the deployer polls for the table status (tests inject a stubbed one).
    """
    spec = StackSpec.of(
        project_template(),
        stack_name=stack_name_for(environment),
        environment=environment,
        table_name=table_name_for(environment),
        tags=stack_tags(environment),
    )
    return stack_deployer(target, report, dynamodb).deploy(spec, execute=execute)


def stack_deployer(
    target: Target, report: Callable[[str], None] | None = None, dynamodb: BaseClient | None = None
) -> StackDeployer:
    """A ``StackDeployer`` on ``target``'s clients with the spec's two-minute bound."""
    return StackDeployer(
        service_client(target, "cloudformation"),
        dynamodb or service_client(target, "dynamodb"),
        report=report or (lambda line: None),
        timeout=DEPLOY_TIMEOUT_SECONDS,
    )


def ensure_deployed(target: Target, environment: str, *, disposable: bool) -> DeployResult:
    """Bring the environment's stack to a deployed, verified-shape state, whatever the endpoint holds.

    A re-deploy of an unchanged template is a no-op, and a table left without its stack
    is adopted by the deploy. On a disposable account a stack in a failed state, or a
    retained table the deploy refuses to adopt (other keys), is removed first; elsewhere
    (aws) nothing is deleted and such a state fails the deploy with its own message.
    """
    if not disposable:
        return deploy_environment(target, environment)
    if (stack_status(target, environment) or "").endswith(("FAILED", "ROLLBACK_COMPLETE")):
        remove_environment(target, environment)
    try:
        return deploy_environment(target, environment)
    except errors.DeploymentError:
        remove_environment(target, environment)
        return deploy_environment(target, environment)


def remove_environment(target: Target, environment: str) -> None:
    """Delete the environment's stack and its retained table. Disposable accounts only (never aws)."""
    assert target.dummy_credentials, "remove_environment is for emulators; the gate never deletes on aws"
    stack_deployer(target).delete(stack_name_for(environment))
    if table_exists(target, environment):
        dynamodb = service_client(target, "dynamodb")
        name = table_name_for(environment)
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=name)
        dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def live_table(target: Target, environment: str) -> dict[str, Any]:
    """``DescribeTable`` of the environment's table, straight from the endpoint."""
    table: dict[str, Any] = service_client(target, "dynamodb").describe_table(TableName=table_name_for(environment))["Table"]
    return table


def table_exists(target: Target, environment: str) -> bool:
    """True when the environment's table exists on the endpoint."""
    return table_name_for(environment) in service_client(target, "dynamodb").list_tables()["TableNames"]


def live_tags(target: Target, environment: str) -> dict[str, str]:
    """The tags on the environment's table, as a dict."""
    arn = live_table(target, environment)["TableArn"]
    tags = service_client(target, "dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def stack_status(target: Target, environment: str) -> str | None:
    """The CloudFormation status of the environment's stack, or None if there is none."""
    stacks = service_client(target, "cloudformation").list_stacks()["StackSummaries"]
    live = [s for s in stacks if s["StackName"] == stack_name_for(environment) and s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0]["StackStatus"] if live else None


def verify_environment(
    target: Target, environment: str, result: DeployResult | None = None, *, emulator: str | None = "moto"
) -> dict[str, Check]:
    """Run ``verify_table`` for the environment, keyed by check name (``emulator``: None on real AWS)."""
    checks = verify_table(
        service_client(target, "dynamodb"),
        expected_for(environment),
        stack_outputs=result.outputs if result is not None else None,
        emulator=emulator,
    )
    return {check.name: check for check in checks}


def expected_tags(environment: str) -> dict[str, str]:
    """The tags the table of ``environment`` must carry."""
    return {**EXPECTED_TAGS, "Environment": environment}


# ----------------------------------------------------------------------------------
# Step library: the deploy tool (CLI)
# ----------------------------------------------------------------------------------


@dataclass
class CliRun:
    """The outcome of one in-process ``python -m src.database`` run."""

    code: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> CliRun:
    """Run the deploy tool in-process, capturing its output and restoring the logging setup.

    ``cli.main`` configures the root logger for a terminal; the previous handlers and
    levels are put back so pytest's and behave's log capture keep working.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    botocore_level = logging.getLogger("botocore").level
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli_main(list(argv))
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.getLogger("botocore").setLevel(botocore_level)
    return CliRun(code, stdout.getvalue(), stderr.getvalue())


# ----------------------------------------------------------------------------------
# Step library: connections
# ----------------------------------------------------------------------------------


@dataclass
class ConnectionAttempt:
    """What one ``test_connection()`` call returned or raised, and how long it took."""

    client: DynamoDBClient
    description: dict[str, Any] | None = None
    error: errors.DatabaseError | None = None
    seconds: float = 0.0


def attempt_connection(client: DynamoDBClient) -> ConnectionAttempt:
    """Call ``client.test_connection()``, keeping either its description or its error."""
    started = time.monotonic()
    attempt = ConnectionAttempt(client)
    try:
        attempt.description = client.test_connection()
    except errors.DatabaseError as error:
        attempt.error = error
    attempt.seconds = time.monotonic() - started
    return attempt


def fast_failing_settings() -> ClientSettings:
    """Two attempts and a one-second connect timeout, so an unreachable endpoint fails in seconds.

    The read timeout stays at a few seconds: a live endpoint on a loaded CI
    machine may take over a second to answer, and a refused or unroutable
    endpoint never gets as far as reading.
    """
    return ClientSettings(max_attempts=2, connect_timeout=1, read_timeout=5)


def unreachable_client(environment: str) -> DynamoDBClient:
    """A client for ``environment`` pointed at a local port where nothing listens."""
    return DynamoDBClient.for_target(Target.local(refused_endpoint(), settings=fast_failing_settings()), environment)


def credential_chain_client(endpoint_url: str, environment: str) -> DynamoDBClient:
    """A client that takes its credentials from boto3's standard chain (env vars, files, ...).

    Unlike ``Target.local``, which sends fixed dummy credentials, this one signs with
    whatever the environment provides, so a planted secret really is used.
    """
    return DynamoDBClient(environment, region="us-east-1", endpoint_url=endpoint_url, settings=fast_failing_settings())


def stubbed_client(environment: str, error_code: str, message: str, status: int = 400) -> DynamoDBClient:
    """A client whose injected boto3 client answers ``DescribeTable`` with one AWS error.

    Used for errors moto cannot produce (rejected credentials, access denied).
    """
    boto_client = Target(region="us-east-1").client("dynamodb")
    stubber = Stubber(boto_client)
    stubber.add_client_error(
        "describe_table",
        service_error_code=error_code,
        service_message=message,
        http_status_code=status,
        expected_params={"TableName": table_name_for(environment)},
    )
    stubber.activate()
    return DynamoDBClient(environment, client=boto_client)


def one_line_without_traceback(error: BaseException) -> bool:
    """True when the error's message is a single line with no traceback in it."""
    text = str(error)
    return bool(text) and "\n" not in text and "Traceback" not in text


def leaked(secrets: Sequence[str], texts: Sequence[str]) -> list[str]:
    """The secrets that occur in any of ``texts`` (empty when nothing leaked)."""
    return [secret for secret in secrets if any(secret in text for text in texts)]


def error_texts(error: BaseException | None) -> list[str]:
    """str and repr of an error and of every exception chained to it."""
    texts: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    return texts


@dataclass
class PlantedCredentials:
    """Recognisable fake credentials: if they leak, the marker shows up."""

    access_key_id: str = "AKIAIOSFODNN7MARKER"
    secret_access_key: str = field(default_factory=lambda: f"secret{os.urandom(6).hex()}MARKER")
    session_token: str = field(default_factory=lambda: f"token{os.urandom(6).hex()}MARKER")

    def environment(self) -> dict[str, str]:
        """The variables that put these credentials in boto3's chain."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    @property
    def secrets(self) -> tuple[str, str]:
        """The values that must never appear anywhere: the secret key and the session token."""
        return (self.secret_access_key, self.session_token)


CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def connection_log(records: Sequence[logging.LogRecord], table: str) -> list[tuple[int, str]]:
    """(level, message) of the package's records that name ``table``."""
    return [
        (r.levelno, r.getMessage())
        for r in records
        if r.name.startswith("src.database") and table in r.getMessage()
    ]


