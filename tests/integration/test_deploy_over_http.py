"""The CLI end to end over real HTTP: ``deploy``, ``lint``, ``status`` and ``delete`` against
the embedded endpoint a command starts itself, or against a ``python -m src.database serve``
subprocess that keeps state between commands until it is stopped with SIGINT (Ctrl-C) or
SIGTERM.

The commands run in-process through ``cli.main`` (what ``python -m src.database`` calls
with ``sys.exit``; ``tests/test_cli.py`` runs that entry point once as a subprocess), with
placeholder credentials and no AWS_*/VIBEDIGEST_* variable of the calling shell, so nothing
can reach real AWS. In-process, the commands share the imports of boto3, moto and cfn-lint
that a fresh interpreter per command would repeat. ``serve`` stays a real process: its state
between commands and its exit on a signal are what is tested.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from src.database.aws.target import Target
from src.database.cli.parser import main
from src.database.deploy.adoption import import_template
from src.database.deploy.template import load_template
from src.database.emulator.endpoint import EmbeddedEndpoint
from tests.support.endpoints import ROOT, Served, reset_moto


@dataclass(frozen=True)
class Result:
    """One command's exit code and output, as a person running it sees them."""

    returncode: int
    stdout: str
    stderr: str


pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run_cli(*args)``: run one command through ``cli.main``, return its ``Result``."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def embedded(local_target: Target, moto_server: EmbeddedEndpoint) -> Iterator[None]:
    """moto's state is process-wide: the command's own embedded endpoint shares the worker's, emptied after."""
    try:
        yield
    finally:
        reset_moto(moto_server)


def error_lines(stderr: str) -> list[str]:
    """The ``error: ...`` lines of a command's stderr."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_clean_success(result: Result) -> None:
    """Exit 0, no error line, no traceback (the output is shown if not)."""
    detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, detail
    assert error_lines(result.stderr) == [], detail
    assert "Traceback" not in result.stderr, detail


@pytest.fixture
def served() -> Iterator[Served]:
    """A running ``serve`` subprocess, killed at teardown if the test did not stop it.

    Outside coverage: what it runs (``cmd_serve``, the fidelity layer) is measured in-process
    by ``tests/test_cli.py`` and ``tests/test_moto_fidelity.py``.
    """
    server = Served(measured=False)
    try:
        yield server
    finally:
        server.kill()


def test_deploy_with_embedded_endpoint_prints_change_set_checks_and_description(
    embedded: None, run_cli: Callable[..., Result]
) -> None:
    """``deploy --env dev`` starts its own endpoint, deploys, verifies and describes the table."""
    result = run_cli("deploy", "--env", "dev")
    assert_clean_success(result)
    out = result.stdout
    assert re.search(r"Embedded endpoint \(moto\) at http://127\.0\.0\.1:\d+", out)
    assert re.search(r"Change set vibedigest-[0-9a-f]+: 1 change\(s\)", out)
    assert "  Add     DigestTable [AWS::DynamoDB::Table]" in out
    assert "Stack vibedigest-dev is CREATE_COMPLETE; table VibeDigest-dev is ACTIVE" in out
    assert "Verifying the live table against the template:" in out
    assert re.search(r"^  billing mode +ok: PAY_PER_REQUEST$", out, re.MULTILINE)
    assert re.search(r"^  point-in-time recovery +ok: True$", out, re.MULTILINE)
    assert re.search(r"^  outputs +ok: ", out, re.MULTILINE)
    assert "not supported" not in out
    assert "MISMATCH" not in out
    assert "Connection OK. Table description:" in out
    assert re.search(r"^  table_name +VibeDigest-dev$", out, re.MULTILINE)
    assert re.search(r"^  partition_key +digest_date$", out, re.MULTILINE)
    assert out.rstrip().splitlines()[-2:] == [
        "Deployment verified.",
        "The embedded endpoint stops with this command, and the stack and table with it. For an endpoint that keeps "
        "them between commands, run: python -m src.database serve",
    ]


def test_deploy_dry_run_shows_the_change_set_and_changes_nothing(
    embedded: None, run_cli: Callable[..., Result]
) -> None:
    """``deploy --dry-run`` previews the change set and stops before executing or verifying."""
    result = run_cli("deploy", "--env", "staging", "--dry-run")
    assert_clean_success(result)
    assert "Stack vibedigest-staging: does not exist yet; creating a CREATE change set" in result.stdout
    assert "  Add     DigestTable [AWS::DynamoDB::Table]" in result.stdout
    assert "Dry run: nothing was changed." in result.stdout
    assert "Verifying" not in result.stdout
    assert "CREATE_COMPLETE" not in result.stdout


def test_lint_passes_on_the_shipped_template(run_cli: Callable[..., Result]) -> None:
    """``lint`` reports the shipped template clean."""
    result = run_cli("lint")
    assert_clean_success(result)
    assert "infrastructure/dynamodb.yml: cfn-lint found no errors (0 warning(s))." in result.stdout


def test_deploy_refuses_a_broken_template_before_any_endpoint(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A template cfn-lint rejects: exit 1, one ``error:`` line naming the file and the rule,
    and no endpoint was even started (the template is linted first)."""
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / "infrastructure" / "dynamodb.yml").read_text().replace("PAY_PER_REQUEST", "FOO"))
    result = run_cli("deploy", "--env", "dev", "--template", str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert str(broken) in errors[0] and "E3030" in errors[0]
    assert "Traceback" not in result.stderr
    assert "Embedded endpoint" not in result.stdout


@pytest.mark.long  # a serve process and commands, each a fresh interpreter
def test_serve_keeps_state_between_commands_and_stops_on_sigint(served: Served, run_cli: Callable[..., Result]) -> None:
    """deploy then status against one ``serve`` (status finds the deployed table); then the path
    issue 8 found dead-ended: write items, delete, deploy again -> rc 0, the new stack holds the
    retained table (imported), every item reads back; Ctrl-C exits 0."""
    deployed = run_cli("deploy", "--env", "dev", "--endpoint-url", served.url)
    assert_clean_success(deployed)
    assert "Embedded endpoint" not in deployed.stdout  # it used the served endpoint, not its own
    assert "Deployment verified." in deployed.stdout

    status = run_cli("status", "--env", "dev", "--endpoint-url", served.url)
    assert_clean_success(status)
    assert re.search(r"^  table_name +VibeDigest-dev$", status.stdout, re.MULTILINE)
    assert re.search(rf"^  endpoint +{re.escape(served.url)}$", status.stdout, re.MULTILINE)

    dynamodb = boto3.client("dynamodb", endpoint_url=served.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    for i in range(12):
        dynamodb.put_item(TableName="VibeDigest-dev", Item={"digest_date": {"S": "2024-05-01"}, "item_id": {"S": f"{i}"}})
    assert_clean_success(run_cli("delete", "--env", "dev", "--endpoint-url", served.url))
    cloudformation = boto3.client("cloudformation", endpoint_url=served.url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
    with pytest.raises(ClientError, match=r"As part of the import operation, you cannot modify or add \[Tags\]"):
        cloudformation.create_change_set(  # an IMPORT with stack tags: serve refuses it as AWS does (issue 19)
            StackName="vibedigest-dev", ChangeSetName="tagged", ChangeSetType="IMPORT",
            TemplateBody=import_template(load_template(), "DigestTable"),
            Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}],
            Tags=[{"Key": "Project", "Value": "VibeDigest"}],
            ResourcesToImport=[{"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "DigestTable",
                                "ResourceIdentifier": {"TableName": "VibeDigest-dev"}}])
    dynamodb.update_continuous_backups(TableName="VibeDigest-dev",
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    preview = run_cli("deploy", "--dry-run", "--env", "dev", "--endpoint-url", served.url)
    assert_clean_success(preview)
    assert "  Import  DigestTable [AWS::DynamoDB::Table]" in preview.stdout  # a real IMPORT change set, deleted
    assert cloudformation.list_stacks(StackStatusFilter=["REVIEW_IN_PROGRESS", "IMPORT_COMPLETE"])["StackSummaries"] == []
    again = run_cli("deploy", "--env", "dev", "--endpoint-url", served.url)
    assert_clean_success(again)
    assert "creating a change set to import it into vibedigest-dev" in again.stdout and "Deployment verified." in again.stdout
    assert len(re.findall(r"^  .{24} ok: ", again.stdout, re.MULTILINE)) == 10
    status = run_cli("status", "--env", "dev", "--endpoint-url", served.url)
    assert re.search(r"^  point_in_time_recovery +ENABLED$", status.stdout, re.MULTILINE)
    assert re.search(r"^  drift +IN_SYNC$", status.stdout, re.MULTILINE)
    resources = cloudformation.describe_stack_resources(StackName="vibedigest-dev")["StackResources"]
    assert [r["PhysicalResourceId"] for r in resources] == ["VibeDigest-dev"]
    assert dynamodb.scan(TableName="VibeDigest-dev")["Count"] == 12

    assert served.stop(signal.SIGINT) == 0
    assert served.stdout[-1] == "Stopped."
    assert "Traceback" not in "\n".join(served.stderr)


@pytest.mark.long  # a serve process and commands, each a fresh interpreter
def test_a_serve_session_from_the_shell_it_prints_to_sigterm(
    served: Served, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``serve`` session as a person uses it (one process: each costs seconds to start):

    - ``status`` before any deploy: exit 1, one ``error:`` line naming the table, no traceback;
    - with the variables ``serve`` prints exported and no --endpoint-url, each command uses that
      endpoint (and says so) instead of a throwaway one, so the state carries over: deploy,
      status, delete, status (the retained table, no stack), deploy (adopts it), status;
    - SIGTERM stops ``serve`` with exit 0.
    """
    result = run_cli("status", "--env", "prod", "--endpoint-url", served.url)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert "VibeDigest-prod" in errors[0]
    assert "Traceback" not in result.stderr + result.stdout

    exports = dict(re.findall(r"^  export (\w+)=(\S+)$", "\n".join(served.stdout), re.MULTILINE))
    assert exports["AWS_ENDPOINT_URL"] == served.url
    for name, value in exports.items():  # the shell after the user pasted the exports
        monkeypatch.setenv(name, value)
    using = f"Using the endpoint from AWS_ENDPOINT_URL: {served.url}"

    def run(*args: str) -> str:
        result = run_cli(*args, "--env", "dev")
        assert_clean_success(result)
        assert result.stdout.splitlines()[0] == using and "Embedded endpoint" not in result.stdout
        return result.stdout

    assert "Deployment verified." in run("deploy")
    assert "Stack vibedigest-dev: CREATE_COMPLETE" in run("status")
    run("delete")
    status = run("status")
    assert "Stack vibedigest-dev: does not exist (the table below was kept by DeletionPolicy: Retain" in status
    assert re.search(r"^  table_name +VibeDigest-dev$", status, re.MULTILINE)
    assert "creating a change set to import it into vibedigest-dev" in run("deploy")
    status = run("status")
    assert re.search(r"^Stack vibedigest-dev: (UPDATE|IMPORT)_COMPLETE$", status, re.MULTILINE), status
    assert re.search(r"^  point_in_time_recovery +ENABLED$", status, re.MULTILINE)

    assert served.stop(signal.SIGTERM) == 0
    assert served.stdout[-1] == "Stopped."
