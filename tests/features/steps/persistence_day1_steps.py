"""Day 1 persistence acceptance: the step library, the behave steps and the spec's pytest tests.

Roles:
- plain helper functions (``deploy_environment``, ``live_table``, ``verify_environment``,
  ``run_cli``, ``attempt_connection``, the package-structure probes, ...) that drive the
  real code (``StackDeployer``, ``load_template``, ``verify_table``, ``DynamoDBClient``,
  ``python -m src.database``) against the embedded moto endpoint. Both the behave steps
  and the pytest tests use them, so the two suites check the same behaviour;
- the behave step definitions (registered through ``features/steps/persistence_day1.py``)
  used by ``features/infrastructure.feature``, ``package_structure.feature`` and
  ``connection.feature``;
- the pytest tests the specification names for cases cf1-as5
  (``tests/features/steps/persistence_day1_steps.py::test_*``).

The embedded endpoint's fidelity layer applies point-in-time recovery and SSE from the
template and computes stack outputs for change sets, so the live verification must
report them "ok" (they are asserted on the template as well).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import parse
import pytest
from behave import given, register_type, then, when
from botocore.client import BaseClient
from botocore.stub import Stubber
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from src.database import errors
from src.database.cli import main as cli_main
from src.database.cli import stack_tags
from src.database.client import DynamoDBClient
from src.database.connection import Target
from src.database.settings import ENVIRONMENTS, ClientSettings, stack_name_for, table_name_for
from src.database.stack import DeployResult, StackDeployer
from src.database.template import ExpectedTable, Template, expected_table, load_template
from src.database.verify import MISMATCH, OK, Check, verify_table
from tests.support.fault_proxy import refused_endpoint
from tests.support.tables import create_digest_table

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_DIR = ROOT / "src" / "database"
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

    Building a boto3 session and client costs about 0.1 s; ``Target`` is a frozen
    value, so equal targets (the same endpoint) share their clients.
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
    deployer = StackDeployer(
        service_client(target, "cloudformation"),
        dynamodb or service_client(target, "dynamodb"),
        report=report or (lambda line: None),
        timeout=DEPLOY_TIMEOUT_SECONDS,
    )
    return deployer.deploy(
        project_template(),
        stack_name=stack_name_for(environment),
        environment=environment,
        table_name=table_name_for(environment),
        tags=stack_tags(environment),
        execute=execute,
    )


def create_table(target: Target, environment: str) -> None:
    """Create the environment's table directly (no CloudFormation), shaped like the template's.

    For tests of the client rather than of the deployment: it skips cfn-lint and moto's
    CloudFormation start-up, which cost seconds on a busy machine.
    """
    create_digest_table(service_client(target, "dynamodb"), table_name_for(environment))


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


def verify_environment(target: Target, environment: str, result: DeployResult | None = None) -> dict[str, Check]:
    """Run ``verify_table`` for the environment on the embedded endpoint, keyed by check name."""
    checks = verify_table(
        service_client(target, "dynamodb"),
        expected_for(environment),
        stack_outputs=result.outputs if result is not None else None,
        emulator="moto",
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
    """Two attempts and one-second timeouts, so an unreachable endpoint fails in seconds."""
    return ClientSettings(max_attempts=2, connect_timeout=1, read_timeout=1)


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


def patch_environment(changes: dict[str, str | None]) -> Callable[[], None]:
    """Apply ``changes`` to ``os.environ`` (None deletes) and return the function that undoes them."""
    saved = {name: os.environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def undo() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return undo


class _ListHandler(logging.Handler):
    """Keeps every record it is handed, in order."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[list[logging.LogRecord]]:
    """Collect every log record at ``level`` or above, botocore's included (behave's caplog)."""
    records: list[logging.LogRecord] = []
    handler = _ListHandler(records)
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ("botocore", "urllib3", "src.database"))]
    saved = [lg.level for lg in loggers]
    root = loggers[0]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        for lg, lvl in zip(loggers, saved):
            lg.setLevel(lvl)


def formatted(records: Sequence[logging.LogRecord]) -> str:
    """The captured records as log lines."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in records)


def connection_log(records: Sequence[logging.LogRecord], table: str) -> list[tuple[int, str]]:
    """(level, message) of the package's records that name ``table``."""
    return [
        (r.levelno, r.getMessage())
        for r in records
        if r.name.startswith("src.database") and table in r.getMessage()
    ]


# ----------------------------------------------------------------------------------
# Step library: package structure
# ----------------------------------------------------------------------------------

REQUIRED_PATHS = (
    "features/",
    "src/",
    "infrastructure/",
    "tests/",
    "requirements.txt",
    "behave.ini",
    "tox.ini",
    "README.md",
    "src/__init__.py",
    "src/database/",
    "src/database/__init__.py",
    "src/database/client.py",
    "infrastructure/dynamodb.yml",
    "tests/features/steps/persistence_day1_steps.py",
)
RUNTIME_REQUIREMENTS = ("boto3", "moto", "cfn-lint", "localstack-client", "PyYAML")
TEST_REQUIREMENTS = ("behave", "coverage", "pytest", "pytest-xdist")
README_SECTIONS = (
    "Quick start",
    "Deploying to AWS",
    "Deploying to LocalStack",
    "Verifying in the AWS console",
    "Rollback and recovery",
    "Configuration",
    "Testing",
    "Known emulator differences",
)
README_COMMANDS = ("python -m src.database", "tox")


def missing_paths(root: Path = ROOT, paths: Sequence[str] = REQUIRED_PATHS) -> list[str]:
    """The required paths that are absent (a trailing '/' means a directory)."""
    return [p for p in paths if not ((root / p).is_dir() if p.endswith("/") else (root / p).is_file())]


_IMPORT_PROBE = r"""
import json, socket

def _no_network(*args, **kwargs):
    raise AssertionError("network access while importing or constructing")

socket.socket.connect = _no_network
socket.create_connection = _no_network

import botocore.session
created = []
_create_client = botocore.session.Session.create_client

def _counting(self, service_name, *args, **kwargs):
    created.append(service_name)
    return _create_client(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = _counting

from src.database.client import DynamoDBClient
import src.database

client = DynamoDBClient("dev", region="us-east-1", endpoint_url="http://bogus.invalid:1")
report = {
    "package_exports": src.database.DynamoDBClient is DynamoDBClient,
    "table": client.table_name,
    "repr": repr(client),
    "clients_after_construction": list(created),
    "client_is_none": client._client is None,
}
boto_client = client.client
report["clients_after_access"] = list(created)
report["endpoint"] = boto_client.meta.endpoint_url
print(json.dumps(report))
"""


def import_probe(root: Path = ROOT) -> dict[str, Any]:
    """Import ``DynamoDBClient`` in a fresh interpreter from the repo root and report what happened.

    Sockets are disabled in the child, so any network use during import or
    construction fails the probe; boto3 client creation is counted.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update(  # placeholders, so resolving credentials never probes the network either
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["exit %d" % done.returncode]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (no comments, blanks or ``-r`` includes)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-r", "--requirement")):
            lines.append(line)
    return lines


def unpinned(path: Path) -> list[str]:
    """The requirement lines of ``path`` not pinned to one exact version with ``==``."""
    bad = []
    for line in requirement_lines(path):
        specifiers = list(Requirement(line).specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            bad.append(line)
    return bad


def declared(path: Path) -> dict[str, Requirement]:
    """The requirements of ``path`` by canonical name."""
    return {canonicalize_name(r.name): r for r in map(Requirement, requirement_lines(path))}


def missing_requirements(path: Path, names: Sequence[str]) -> list[str]:
    """The ``names`` not declared in ``path``."""
    present = declared(path)
    return [name for name in names if canonicalize_name(name) not in present]


def included_files(path: Path) -> list[Path]:
    """The files a requirements file includes with ``-r``."""
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.split()
        if parts and parts[0] in ("-r", "--requirement") and len(parts) > 1:
            found.append((path.parent / parts[1]).resolve())
    return found


def readme_text(root: Path = ROOT) -> str:
    """README.md's text ('' when it does not exist)."""
    path = root / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def missing_sections(text: str, sections: Sequence[str] = README_SECTIONS) -> list[str]:
    """The ``sections`` that no Markdown heading of ``text`` names."""
    headings = [m.group(1).strip().casefold() for m in re.finditer(r"(?m)^#{1,6}\s+(.+?)\s*#*\s*$", text)]
    return [s for s in sections if not any(s.casefold() in heading for heading in headings)]


def fenced_blocks(text: str) -> list[str]:
    """The contents of the fenced code blocks of a Markdown text."""
    return [m.group(2) for m in re.finditer(r"(?ms)^\s*(```|~~~)[^\n]*\n(.*?)^\s*\1", text)]


def missing_commands(text: str, commands: Sequence[str] = README_COMMANDS) -> list[str]:
    """The ``commands`` that appear in none of the README's fenced code blocks."""
    blocks = fenced_blocks(text)
    return [c for c in commands if not any(re.search(rf"(?m)(^|\s|\$ ){re.escape(c)}\b", b) for b in blocks)]


def _public_api(package_dir: Path) -> Iterator[tuple[str, ast.AST, bool]]:
    """(qualified name, node, public) for every module, class, function and method."""
    for path in sorted(package_dir.glob("*.py")):
        module = f"{package_dir.name}.{path.stem}"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        yield module, tree, True
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{module}.{node.name}", node, not node.name.startswith("_")
            elif isinstance(node, ast.ClassDef):
                public_class = not node.name.startswith("_")
                yield f"{module}.{node.name}", node, public_class
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and public_class:
                        dunder = item.name.startswith("__") and item.name.endswith("__")
                        yield f"{module}.{node.name}.{item.name}", item, not item.name.startswith("_") or dunder


def undocumented(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Public modules, classes, functions and methods without a docstring (dunders exempt)."""
    missing = []
    for name, node, public in _public_api(package_dir):
        dunder = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("__")
        if public and not dunder and not ast.get_docstring(node):  # type: ignore[arg-type]
            missing.append(name)
    return missing


def untyped(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Public functions and methods (and dunders of public classes) lacking a type hint."""
    missing = []
    for name, node, public in _public_api(package_dir):
        if not public or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        unannotated = [
            p.arg for i, p in enumerate(params) if p is not None and p.annotation is None and not (i == 0 and p.arg in ("self", "cls"))
        ]
        if unannotated or node.returns is None:
            missing.append(f"{name}({', '.join(unannotated)}){'' if node.returns else ' -> ?'}")
    return missing


# ----------------------------------------------------------------------------------
# behave steps
# ----------------------------------------------------------------------------------


@parse.with_pattern(r"dev|staging|prod")
def _parse_environment(text: str) -> str:
    return text


register_type(DeployEnv=_parse_environment)


def _deploy(context: Any, environment: str) -> None:
    context.env_name = environment
    context.deployment = deploy_environment(context.target, environment)


@given("the {environment:DeployEnv} table is deployed")
def given_table_deployed(context: Any, environment: str) -> None:
    """Deploy the environment's stack on the embedded endpoint."""
    _deploy(context, environment)
    assert context.deployment.status == "CREATE_COMPLETE", context.deployment


@given("no table is deployed")
def given_no_table(context: Any) -> None:
    """The emulated account is empty (the hooks reset it before every scenario)."""
    tables = service_client(context.target, "dynamodb").list_tables()["TableNames"]
    assert tables == [], tables


@when("the {environment:DeployEnv} stack is deployed")
def when_stack_deployed(context: Any, environment: str) -> None:
    """Deploy the environment's stack through a change set."""
    _deploy(context, environment)


@when("the {environment:DeployEnv} stack is deployed again")
def when_stack_deployed_again(context: Any, environment: str) -> None:
    """Deploy the same template once more, keeping the deployer's report."""
    context.env_name = environment
    context.report = []
    context.deployment = deploy_environment(context.target, environment, report=context.report.append)


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


@when("the operator {action:OperatorAction} the {environment:DeployEnv} environment with the deploy tool")
def when_operator_uses_the_tool(context: Any, action: str, environment: str) -> None:
    """Run ``python -m src.database`` for the action against the embedded endpoint."""
    arguments = (*OPERATOR_ACTIONS[action], "--env", environment, "--endpoint-url", context.endpoint.url)
    context.cli = run_cli(*arguments)


@then("the deployment succeeds with the stack {status}")
def then_deployment_succeeds(context: Any, status: str) -> None:
    """The deploy executed a change set and the stack ended in ``status``."""
    assert context.deployment.executed, context.deployment
    assert context.deployment.status == status, context.deployment
    assert stack_status(context.target, context.env_name) == status


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


@then("the {environment:DeployEnv} table is still {status}")
def then_table_still(context: Any, environment: str, status: str) -> None:
    """The live table's status after the no-op deploy."""
    assert live_table(context.target, environment)["TableStatus"] == status


@then("the deploy tool succeeds and prints")
def then_cli_succeeds(context: Any) -> None:
    """Exit code 0 and every line of the step's text in the output, in order."""
    run = context.cli
    assert run.code == 0, f"exit {run.code}: {run.stderr}"
    position = 0
    for line in context.text.strip().splitlines():
        found = run.stdout.find(line.strip(), position)
        assert found >= 0, f"{line.strip()!r} not in output (after position {position}):\n{run.stdout}"
        position = found


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


@then("the {check} check of the verification is {status}")
def then_verification_check(context: Any, check: str, status: str) -> None:
    """One named check of ``verify_table`` against the template has ``status``."""
    checks = verify_environment(context.target, context.env_name, context.deployment)
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


@then("the table {table_name} is ACTIVE within {minutes:d} minutes of the deployment starting")
def then_active_within(context: Any, table_name: str, minutes: int) -> None:
    """The deploy waited for an ACTIVE table and took less than the bound."""
    assert context.deployment.seconds < minutes * 60, context.deployment.seconds
    table = service_client(context.target, "dynamodb").describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE", table["TableStatus"]


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
    results = verify_environment(context.target, context.env_name, context.deployment)
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


@when("the {environment:DeployEnv} client tests its connection")
def when_client_tests(context: Any, environment: str) -> None:
    """Build the client as the Given steps arranged (default: the embedded endpoint) and test it."""
    factory = getattr(context, "client_factory", None) or (lambda env: DynamoDBClient.for_target(context.target, env))
    context.attempt = attempt_connection(factory(environment))
    context.attempts = [*getattr(context, "attempts", []), context.attempt]


@given("the endpoint is unreachable")
def given_unreachable(context: Any) -> None:
    """Clients point at a local port where nothing listens (fast retries and timeouts)."""
    context.client_factory = unreachable_client


@given("the {environment:DeployEnv} table is not deployed")
def given_table_not_deployed(context: Any, environment: str) -> None:
    """The environment's table does not exist on the embedded endpoint."""
    assert not table_exists(context.target, environment)


@given("no AWS credentials are configured")
def given_no_credentials(context: Any) -> None:
    """No credential variables, empty AWS config files; clients use boto3's chain."""
    empty = tempfile.NamedTemporaryFile(prefix="empty-aws-config-", delete=False)
    empty.close()
    undo = patch_environment(
        {
            **{name: None for name in CREDENTIAL_VARIABLES},
            "AWS_CONFIG_FILE": empty.name,
            "AWS_SHARED_CREDENTIALS_FILE": empty.name,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    context.add_cleanup(os.unlink, empty.name)
    context.add_cleanup(undo)
    context.client_factory = lambda env: credential_chain_client(context.endpoint.url, env)


@given("AWS credentials with a secret key and a session token are in the environment")
def given_planted_credentials(context: Any) -> None:
    """Plant marker credentials; clients sign with them through boto3's chain."""
    context.planted = PlantedCredentials()
    context.add_cleanup(patch_environment(dict(context.planted.environment())))


@given("logging is at DEBUG, botocore included")
def given_debug_logging(context: Any) -> None:
    """Capture every record at DEBUG for the rest of the scenario."""
    _capture_logs(context, logging.DEBUG)


@given("the connection log is captured")
def given_connection_log(context: Any) -> None:
    """Capture the package's INFO-and-above records for the rest of the scenario."""
    _capture_logs(context, logging.INFO)


def _capture_logs(context: Any, level: int) -> None:
    stack = contextlib.ExitStack()
    context.records = stack.enter_context(captured_logs(level))
    context.add_cleanup(stack.close)


@when("the {environment:DeployEnv} client tests its connection to the embedded endpoint with those credentials")
def when_planted_local(context: Any, environment: str) -> None:
    """A client using the planted credentials against the running endpoint."""
    context.attempts = [*getattr(context, "attempts", []), attempt_connection(credential_chain_client(context.endpoint.url, environment))]


@when("the {environment:DeployEnv} client tests its connection to an unreachable endpoint with those credentials")
def when_planted_unreachable(context: Any, environment: str) -> None:
    """A client using the planted credentials against a refused port."""
    context.attempts = [*getattr(context, "attempts", []), attempt_connection(credential_chain_client(refused_endpoint(), environment))]


@then("the connection test returns the description of {table_name}")
def then_description(context: Any, table_name: str) -> None:
    """Name, ARN, ACTIVE status, keys, billing mode and item count, as the endpoint reports them."""
    attempt = context.attempt
    assert attempt.error is None, attempt.error
    live = live_table(context.target, context.env_name)
    description = attempt.description
    assert description["table_name"] == table_name == live["TableName"]
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
    messages = connection_log(context.records, table_name)
    assert any(level == logging.INFO and "Testing connection" in m for level, m in messages), messages
    assert any(level == logging.INFO and "Connection OK" in m and "ACTIVE" in m for level, m in messages), messages


@then("the log shows the attempt and the failure for {table_name}")
def then_log_failure(context: Any, table_name: str) -> None:
    """An INFO record of the attempt and a WARNING of the failure with its error class."""
    messages = connection_log(context.records, table_name)
    assert any(level == logging.INFO and "Testing connection" in m for level, m in messages), messages
    assert any(
        level >= logging.WARNING and "failed" in m and "TableNotFoundError" in m for level, m in messages
    ), messages


@then("neither the secret key nor the session token appears in the logs, the errors or the client's repr")
def then_no_leak(context: Any) -> None:
    """Search everything a user could see for the planted secrets."""
    log_text = formatted(context.records)
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
