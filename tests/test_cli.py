"""Tests of the deploy tool, ``python -m src.database``, run in-process through ``cli.main``.

Every command is run against the worker's moto server (``--endpoint-url``) or, for
``deploy`` without options, against the embedded endpoint the command starts itself.
Assertions are on exit codes and on what a person sees: progress on stdout, one
``error:`` line on stderr, logs on stderr only with ``-v``/``--debug``.

``configure_logging`` replaces the root logger's handlers and levels; the
``restore_logging`` fixture (tests/conftest.py) puts them back after each test. moto's state is
process-wide, so tests that use the server reset it before (``local_target``) and
after (``server``).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from src.database.aws.target import Target, configured_endpoints
from src.database.aws.translation import translate
from src.database.cli import commands as cli
from src.database.cli.commands import cmd_serve
from src.database.cli.hints import Invocation, hint_for, in_cli_terms
from src.database.cli.parser import build_parser, main
from src.database.deploy.template import DEFAULT_TEMPLATE
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.errors import (
    ConfigurationError,
    CredentialsError,
    DatabaseError,
    DeadlineExceededError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    StackNeedsRecoveryError,
    TableNotFoundError,
    ThrottledError,
)
from tests.support.endpoints import reset_moto
from tests.support.fault_proxy import FaultProxy, refused_endpoint

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCLIDEBUGKEY"
TOKEN = "FwoGZXIvYXdzECLIDEBUGSESSIONTOKEN0123456789"


pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/conftest.py


@pytest.fixture
def server(local_target: Target, moto_server: EmbeddedEndpoint) -> Iterator[str]:
    """The worker's moto server URL, empty before the test and emptied after it."""
    yield moto_server.url
    reset_moto(moto_server)


def aws(url: str, service: str) -> BaseClient:
    """A plain boto3 client on the moto server, to set up and inspect state."""
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def create_stack(url: str, environment: str) -> None:
    """Create the environment's stack from the real template (moto completes it at once)."""
    aws(url, "cloudformation").create_stack(
        StackName=f"vibedigest-{environment}",
        TemplateBody=DEFAULT_TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": environment}],
    )


def stacks(url: str) -> list[str]:
    """Names of the live (not deleted) stacks on the server."""
    summaries = aws(url, "cloudformation").list_stacks()["StackSummaries"]
    return [s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]


def tables(url: str) -> list[str]:
    return aws(url, "dynamodb").list_tables()["TableNames"]


def error_line(stderr: str) -> str:
    """The single non-empty stderr line, asserted to be an ``error:`` line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# -- deploy ---------------------------------------------------------------------------------


def test_deploy_defaults_to_the_embedded_endpoint(
    local_target: Target, moto_server: EmbeddedEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    """No options: the command starts its own endpoint, deploys dev, verifies and describes the table."""
    try:
        code = main(["deploy"])
    finally:
        reset_moto(moto_server)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    assert "Embedded endpoint (moto) at http://127.0.0.1:" in out
    assert "Stack vibedigest-dev: does not exist yet; creating a CREATE change set" in out
    assert "Add     DigestTable [AWS::DynamoDB::Table]" in out
    assert "Stack vibedigest-dev is CREATE_COMPLETE; table VibeDigest-dev is ACTIVE" in out
    assert "Connection OK. Table description:" in out
    assert "Deployment verified." in out


def test_deploy_dry_run_changes_nothing(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "--dry-run", "--endpoint-url", server])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Add     DigestTable [AWS::DynamoDB::Table]" in out
    assert "Dry run: nothing was changed." in out
    assert "Deployment verified." not in out
    assert stacks(server) == [] and tables(server) == []


def test_a_deploy_on_the_embedded_endpoint_says_its_state_ends_with_the_command(
    local_target: Target, moto_server: EmbeddedEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert main(["deploy", "--dry-run"]) == 0
        assert "Dry run" in capsys.readouterr().out  # a preview changes nothing, so it says nothing of state
        assert main(["deploy"]) == 0
    finally:
        reset_moto(moto_server)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "The embedded endpoint stops with this command, and the stack and table with it. For an endpoint that keeps "
        "them between commands, run: python -m src.database serve"
    )


def test_a_dry_run_the_deploy_would_refuse_exits_1_as_the_deploy(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Swapped keys would replace the table: the preview shows it and fails as the deploy fails, changing nothing."""
    from tests.support.template_variants import swapped_keys

    assert main(["deploy", "--endpoint-url", server]) == 0
    capsys.readouterr()
    swapped = str(swapped_keys(tmp_path).path)
    assert main(["deploy", "--dry-run", "--endpoint-url", server, "--template", swapped]) == 1
    out, err = capsys.readouterr()
    assert "Stack vibedigest-dev: CREATE_COMPLETE; creating an UPDATE change set" in out
    assert "Replace DigestTable [AWS::DynamoDB::Table]: KeySchema cannot change in place" in out
    dry_run_line = error_line(err)
    assert main(["deploy", "--endpoint-url", server, "--template", swapped]) == 1
    assert error_line(capsys.readouterr().err) == dry_run_line
    assert "would replace its table" in dry_run_line and "Nothing was changed." in dry_run_line
    assert aws(server, "cloudformation").describe_stacks(StackName="vibedigest-dev")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )


# -- status / check -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "check", "delete", "recover"])
def test_the_default_target_refuses_to_read_an_endpoint_it_would_start_empty(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No endpoint given: the command would start a fresh, empty embedded endpoint and find nothing there."""
    import src.database.emulator.endpoint as local_endpoint

    monkeypatch.setattr(local_endpoint.EmbeddedEndpoint, "start", lambda self: pytest.fail("an endpoint started"))
    assert main([command]) == 1
    out, err = capsys.readouterr()
    line = error_line(err)
    assert "the embedded endpoint keeps nothing between commands" in line
    assert "python -m src.database serve, then run the export lines it prints" in line
    assert "Deploy it first" not in line and out == ""


def test_a_missing_table_suggests_a_deploy_with_the_region_and_endpoint_given(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--region", "eu-west-1", "--endpoint-url", server]) == 1
    line = error_line(capsys.readouterr().err)
    assert line.endswith(
        f"Deploy it first: python -m src.database deploy --env dev --endpoint-url {server} --region eu-west-1"
    )


def test_an_https_url_to_a_plain_http_port_names_the_scheme(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--endpoint-url", server.replace("http://", "https://"), "--timeout", "20"]) == 1
    line = error_line(capsys.readouterr().err)
    assert "TLS handshake" in line and "its URL starts with http://, not https://" in line


@pytest.mark.parametrize("argv", [["status", "--target", "aws"], ["deploy", "--dry-run"]])
def test_a_region_botocore_does_not_know_is_named_with_the_nearest_known_ones(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import src.database.emulator.endpoint as local_endpoint

    monkeypatch.setattr(local_endpoint.EmbeddedEndpoint, "start", lambda self: pytest.fail("an endpoint started"))
    assert main([*argv, "--region", "eu-nowhere-1"]) == 1
    line = error_line(capsys.readouterr().err)
    assert "Region 'eu-nowhere-1' is not a region botocore's partition data knows" in line
    assert "Nearest known: eu-north-1" in line


def test_an_explicit_endpoint_allows_any_region_name(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """moto (the served endpoint) answers 500 for a region it has no backend for: the hint says so."""
    assert main(["status", "--region", "xx-nowhere-9", "--endpoint-url", server]) == 1
    line = error_line(capsys.readouterr().err)
    assert "HTTP 500" in line and "may not serve region 'xx-nowhere-9'" in line


def test_localstack_without_an_endpoint_names_the_url_it_tried_not_an_option_never_given() -> None:
    given = Invocation(target="localstack", endpoint="http://localhost:4566")
    hint = hint_for(EndpointUnreachableError(), given)
    assert "LocalStack's was used (http://localhost:4566)" in hint and "Check --endpoint-url" not in hint


@pytest.mark.parametrize("command", ["status", "check"])
def test_status_describes_the_table(command: str, server: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_stack(server, "dev")
    code = main([command, "--endpoint-url", server])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "Stack vibedigest-dev: CREATE_COMPLETE"
    assert "Connection OK. Table description:" in lines
    assert "  table_name             VibeDigest-dev" in lines
    assert "  partition_key          digest_date" in lines
    assert "  sort_key               item_id" in lines
    assert "  status                 ACTIVE" in lines
    assert "  billing_mode           PAY_PER_REQUEST" in lines
    assert f"  endpoint               {server}" in lines


def test_status_shows_the_stack_and_every_table_setting(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """After a deploy: the stack's status, outputs, exports and events, then the table's keys,
    billing, tags, point-in-time recovery, encryption, deletion protection and item count."""
    assert main(["deploy", "--endpoint-url", server]) == 0
    for i in range(3):
        aws(server, "dynamodb").put_item(
            TableName="VibeDigest-dev", Item={"digest_date": {"S": "2024-05-01"}, "item_id": {"S": f"{i}"}}
        )
    capsys.readouterr()
    assert main(["status", "--endpoint-url", server]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    arn = aws(server, "dynamodb").describe_table(TableName="VibeDigest-dev")["Table"]["TableArn"]
    assert lines[:5] == [
        "Stack vibedigest-dev: CREATE_COMPLETE",
        f"  outputs                TableName=VibeDigest-dev, TableArn={arn}",
        f"  exports                VibeDigest-dev-TableName=VibeDigest-dev, VibeDigest-dev-TableArn={arn}",
        "  drift                  IN_SYNC",
        lines[4],
    ]
    assert re.fullmatch(r"  last \d+ events, newest first:", lines[4])
    assert re.fullmatch(r"    \d\d:\d\d:\d\d CREATE_COMPLETE +vibedigest-dev \[AWS::CloudFormation::Stack\]", lines[5])
    assert any(re.fullmatch(r"    \S+ CREATE_COMPLETE +DigestTable \[AWS::DynamoDB::Table\]", line) for line in lines)
    rows = {line.split()[0]: line.split(None, 1)[1] for line in lines if line.startswith("  ") and not line.startswith("    ")}
    assert rows["item_count"] == "3"
    assert rows["deletion_protection"] == "False"
    assert rows["point_in_time_recovery"] == "ENABLED"
    assert rows["encryption"] == "ENABLED"
    assert "Project=VibeDigest" in rows["tags"] and "Environment=dev" in rows["tags"]


def test_status_shows_a_retained_table_without_a_stack(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleted stack, retained table: both facts are shown, and it is not an error."""
    assert main(["deploy", "--endpoint-url", server]) == 0
    assert main(["delete", "--endpoint-url", server]) == 0
    capsys.readouterr()
    assert main(["status", "--endpoint-url", server]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "Stack vibedigest-dev: does not exist (the table below was kept by DeletionPolicy: Retain; a deploy adopts it)"
    )
    assert lines[1] == "Connection OK. Table description:"
    assert "  table_name             VibeDigest-dev" in lines


def test_delete_pitr_off_deploy_reverts_the_drift_and_status_shows_it(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19: the retained table's PITR turned off by hand; the deploy adopts it, its drift-aware update
    turns PITR back on, verified 10/10; status shows drift as CloudFormation detects it, before and after."""
    assert main(["deploy", "--endpoint-url", server]) == 0
    assert main(["delete", "--endpoint-url", server]) == 0
    ddb = aws(server, "dynamodb")
    ddb.update_continuous_backups(TableName="VibeDigest-dev",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    capsys.readouterr()
    assert main(["deploy", "--endpoint-url", server]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "creating an UPDATE change set (drift-aware)" in out
    assert "Modify  DigestTable [AWS::DynamoDB::Table] (replacement: False), reverts drift of " \
           "PointInTimeRecoverySpecification" in out
    assert "Deployment verified." in out and "MISMATCH" not in out
    assert len(re.findall(r"^  .{24} ok: ", out, re.MULTILINE)) == 10  # every check of the verification
    assert main(["status", "--endpoint-url", server]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert "  drift                  IN_SYNC" in rows
    assert "  point_in_time_recovery ENABLED" in rows
    ddb.update_continuous_backups(TableName="VibeDigest-dev",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert main(["status", "--endpoint-url", server]) == 0
    assert ("  drift                  DRIFTED: DigestTable /PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled"
            " is false, the template says true") in capsys.readouterr().out.splitlines()


def test_the_adoption_dry_run_shows_the_real_import_and_leaves_nothing(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "--endpoint-url", server]) == 0
    assert main(["delete", "--endpoint-url", server]) == 0
    capsys.readouterr()
    assert main(["deploy", "--dry-run", "--endpoint-url", server]) == 0
    out = capsys.readouterr().out
    assert "creating a change set to preview the import of it into vibedigest-dev" in out
    assert "Import  DigestTable [AWS::DynamoDB::Table]" in out
    assert "Dry run: nothing was changed." in out
    assert stacks(server) == [] and tables(server) == ["VibeDigest-dev"]
    assert aws(server, "cloudformation").list_stacks(StackStatusFilter=["REVIEW_IN_PROGRESS"])["StackSummaries"] == []


def test_an_import_cloudformation_refuses_fails_the_dry_run_too(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The retained table already belongs to another stack: the preview's IMPORT is refused, so is the dry run."""
    aws(server, "cloudformation").create_stack(
        StackName="someone-else", TemplateBody=DEFAULT_TEMPLATE.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}])
    code = main(["deploy", "--dry-run", "--endpoint-url", server])
    out, err = capsys.readouterr()
    assert code != 0
    assert "already belongs to stack someone-else" in error_line(err)
    assert "vibedigest-dev" not in stacks(server)


def test_a_failed_create_points_at_recover_and_status_shows_why(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deploy's error names the cause and the recover command; status shows the stack's
    failure events and that there is no table; recover deletes the stack and names the deploy."""
    from tests.support.template_variants import rejected_name

    template = rejected_name(tmp_path).path
    assert main(["deploy", "--endpoint-url", server, "--template", str(template)]) == 1
    line = error_line(capsys.readouterr().err)
    assert "ended ROLLBACK_COMPLETE: DigestTable:" in line
    assert line.endswith(f"Recover with: python -m src.database recover --env dev --endpoint-url {server}")
    assert main(["status", "--endpoint-url", server]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Stack vibedigest-dev: ROLLBACK_COMPLETE"
    assert any("CREATE_FAILED" in line and "DigestTable" in line and "tableName" in line for line in lines)
    assert lines[-1] == "Table VibeDigest-dev: does not exist"
    assert main(["recover", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "Deleted vibedigest-dev; it can be deployed again.",
        f"Deploy with: python -m src.database deploy --env dev --endpoint-url {server}",
    ]
    assert stacks(server) == []


def test_status_of_a_missing_table_is_one_error_line(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--endpoint-url", server, "--env", "prod"])
    out, err = capsys.readouterr()
    assert code == 1
    line = error_line(err)
    assert f"Table 'VibeDigest-prod' not found in us-east-1 ({server})" in line
    assert line.endswith(f"Deploy it first: python -m src.database deploy --env prod --endpoint-url {server}")
    assert out == ""


@pytest.mark.parametrize(
    ("error", "target", "hint"),
    [
        (TableNotFoundError(), "aws", "Deploy it first: python -m src.database deploy --env staging --target aws"),
        (StackNeedsRecoveryError(), "local", "Recover with: python -m src.database recover --env staging"),
        (DeadlineExceededError(), "aws", "Raise --timeout; see what the stack did with: "
         "python -m src.database status --env staging --target aws"),
        (CredentialsError(), "aws", "--target local"),
        (ConfigurationError("bad"), "aws", ""),
        (EndpointUnreachableError(), "aws", "AWS_ENDPOINT_URL"),
        (EndpointUnreachableError(), "local", "--endpoint-url"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_the_cli_adds_the_command_hint_the_library_leaves_out(error: DatabaseError, target: str, hint: str) -> None:
    assert "python -m" not in str(error)
    given = Invocation(environment="staging", target=target)
    if hint:
        assert hint in hint_for(error, given)
    else:
        assert hint_for(error, given) == ""


def test_every_suggested_command_carries_the_options_given_shell_quoted() -> None:
    """Pasted as it is, a suggestion reaches the endpoint, region, profile and environment the user gave."""
    given = Invocation(command="status", environment="staging", target="aws", endpoint_url="http://127.0.0.1:1/a b",
                       region="eu-west-1", profile="o'brien")
    assert hint_for(TableNotFoundError(), given) == (
        "Deploy it first: python -m src.database deploy --env staging --target aws "
        "--endpoint-url 'http://127.0.0.1:1/a b' --region eu-west-1 --profile 'o'\"'\"'brien'"
    )
    assert hint_for(DeadlineExceededError(), given, timeout=0.001) == (
        "Raise --timeout, e.g.: python -m src.database status --env staging --target aws "
        "--endpoint-url 'http://127.0.0.1:1/a b' --region eu-west-1 --profile 'o'\"'\"'brien' --timeout 10"
    )


def test_an_aws_cli_suggestion_for_a_local_target_reaches_the_local_endpoint_only() -> None:
    local = Invocation(endpoint_url="http://127.0.0.1:5000", endpoint="http://127.0.0.1:5000")
    assert local.aws_cli("dynamodb", "delete-table", "--table-name", "T", region="us-east-1") == (
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws dynamodb delete-table --table-name T "
        "--endpoint-url http://127.0.0.1:5000 --region us-east-1"
    )
    assert Invocation(target="aws").aws_cli("dynamodb", "delete-table", region="us-east-1") == (
        "aws dynamodb delete-table"  # boto3's chain: the region and profile the user configured
    )
    given = Invocation(target="aws", region="eu-west-1", profile="ops team")
    assert given.aws_cli("dynamodb", "delete-table", region="us-east-1") == (
        "aws dynamodb delete-table --region eu-west-1 --profile 'ops team'"
    )
    assert hint_for(InvalidCredentialsError(), given) == "For an SSO profile: aws sso login --profile 'ops team'."


@pytest.mark.parametrize(
    ("cause", "library_words", "cli_words"),
    [
        ("NoRegionError", "Give region=", "Give --region, set AWS_REGION"),
        ("ProfileNotFound", "(profile= or AWS_PROFILE)", "(--profile or AWS_PROFILE)"),
        ("NoCredentialsError", "Check profile= (or AWS_PROFILE)", "Check --profile (or AWS_PROFILE)"),
        ("ReadTimeoutError", "may need a longer ClientSettings.read_timeout.",
         "may need a longer VIBEDIGEST_READ_TIMEOUT."),
        ("ConnectTimeoutError", "or raise ClientSettings.connect_timeout.",
         "or raise VIBEDIGEST_CONNECT_TIMEOUT."),
    ],
)
def test_the_cli_says_in_options_and_variables_what_the_library_says_in_arguments(
    cause: str, library_words: str, cli_words: str
) -> None:
    import botocore.exceptions

    kinds = {
        "ProfileNotFound": {"profile": "p"},
        "ReadTimeoutError": {"endpoint_url": "http://x"},
        "ConnectTimeoutError": {"endpoint_url": "http://x"},
    }
    error = translate(getattr(botocore.exceptions, cause)(**kinds.get(cause, {})), operation="DescribeTable")
    error.__cause__ = getattr(botocore.exceptions, cause)(**kinds.get(cause, {}))
    assert library_words in str(error)
    line = f"{in_cli_terms(str(error))} {hint_for(error, Invocation(target='aws'))}"
    assert cli_words in line
    for library in ("region=", "profile=", "ClientSettings"):
        assert library not in line
    for said in ("--region", "AWS_REGION", "VIBEDIGEST_READ_TIMEOUT", "--profile"):
        assert line.count(said) <= 1, line  # each hint once


def test_a_throttled_call_says_aws_max_attempts_once() -> None:
    line = f"{in_cli_terms(str(ThrottledError()))} {hint_for(ThrottledError(), Invocation(target='aws'))}"
    assert line.count("AWS_MAX_ATTEMPTS") == 1 and "ClientSettings" not in line


def test_status_on_localstack_target_uses_the_given_endpoint(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The moto server stands in for LocalStack: same dummy credentials, same API."""
    create_stack(server, "dev")
    assert main(["status", "--target", "localstack", "--endpoint-url", server]) == 0
    assert f"  endpoint               {server}" in capsys.readouterr().out


def test_status_on_aws_target_uses_boto3s_configuration(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--target aws with no options: region and endpoint come from boto3's own variables."""
    create_stack(server, "dev")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    assert main(["status", "--target", "aws"]) == 0
    assert f"  endpoint               {server}" in capsys.readouterr().out


def test_an_unreachable_endpoint_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = refused_endpoint()
    code = main(["status", "--endpoint-url", url])
    assert code == 1
    assert f"Could not reach the endpoint in us-east-1 ({url}) for DescribeTable" in error_line(capsys.readouterr().err)


# -- the endpoint from AWS_ENDPOINT_URL* -----------------------------------------------------


def test_the_local_target_uses_the_endpoint_from_aws_endpoint_url(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --endpoint-url, AWS_ENDPOINT_URL set (as 'serve' prints it): that endpoint, said on stdout."""
    create_stack(server, "dev")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Using the endpoint from AWS_ENDPOINT_URL: {server}"
    assert f"  endpoint               {server}" in lines


def test_the_service_variables_name_each_services_endpoint(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL, as in botocore."""
    create_stack(server, "dev")
    monkeypatch.setenv("AWS_ENDPOINT_URL", refused_endpoint())
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", server)
    assert main(["status"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"Using the endpoints from AWS_ENDPOINT_URL_CLOUDFORMATION: {server} and AWS_ENDPOINT_URL_DYNAMODB: {server}"
    )


def test_an_endpoint_for_one_service_only_is_refused_before_any_request(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FaultProxy(server) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
        assert main(["status"]) == 1
        seen = proxy.requests_seen
    assert error_line(capsys.readouterr().err) == (
        "error: AWS_ENDPOINT_URL_DYNAMODB set the endpoint of some services but not of cloudformation: "
        "set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_CLOUDFORMATION) too."
    )
    assert seen == 0


def test_an_unreachable_endpoint_from_the_environment_is_named_in_the_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", refused_endpoint())
    assert main(["status"]) == 1
    assert error_line(capsys.readouterr().err).endswith("Check AWS_ENDPOINT_URL (e.g. the URL that 'serve' printed).")


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        ({}, {}),
        ({"AWS_ENDPOINT_URL": "http://h:1"}, {"dynamodb": "AWS_ENDPOINT_URL", "cloudformation": "AWS_ENDPOINT_URL"}),
        ({"AWS_ENDPOINT_URL": "http://h:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, {}),
        ({"AWS_ENDPOINT_URL": "http://h:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://d:1"},
         {"dynamodb": "AWS_ENDPOINT_URL_DYNAMODB", "cloudformation": "AWS_ENDPOINT_URL"}),
    ],
)
def test_configured_endpoints_follow_botocores_rule(environ: dict[str, str], found: dict[str, str]) -> None:
    assert configured_endpoints(environ) == found


def test_a_bad_endpoint_variable_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "ftp://nowhere")
    assert main(["status"]) == 1
    assert error_line(capsys.readouterr().err).startswith("error: AWS_ENDPOINT_URL: Invalid endpoint URL 'ftp://nowhere'")


# -- recover --------------------------------------------------------------------------------


def test_recover_without_a_stack_has_nothing_to_do(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The library says what it found; the CLI adds the command to run next."""
    assert main(["recover", "--env", "staging", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Stack vibedigest-staging does not exist; nothing to recover.",
        f"Deploy with: python -m src.database deploy --env staging --endpoint-url {server}",
    ]


def test_recover_leaves_a_healthy_stack_alone(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A healthy stack needs nothing: the library says so and the CLI adds no command."""
    create_stack(server, "staging")
    assert main(["recover", "--env", "staging", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines() == ["Stack vibedigest-staging is CREATE_COMPLETE; nothing to recover."]
    assert stacks(server) == ["vibedigest-staging"]


# -- delete ---------------------------------------------------------------------------------


def test_delete_of_prod_without_confirmation_is_refused_before_any_request(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stack(server, "prod")
    with FaultProxy(server) as proxy:
        code = main(["delete", "--env", "prod", "--endpoint-url", proxy.url])
        seen = proxy.requests_seen
    out, err = capsys.readouterr()
    assert code == 1
    assert error_line(err) == "error: Deleting the prod stack needs --confirm-prod. Nothing was deleted."
    assert seen == 0
    assert stacks(server) == ["vibedigest-prod"] and tables(server) == ["VibeDigest-prod"]
    assert out == ""


def test_delete_of_prod_with_confirmation_keeps_the_table(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_stack(server, "prod")
    code = main(["delete", "--env", "prod", "--confirm-prod", "--endpoint-url", server])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Stack vibedigest-prod deleted." in out
    assert "Table VibeDigest-prod is retained (DeletionPolicy: Retain)" in out
    assert stacks(server) == []
    assert tables(server) == ["VibeDigest-prod"]


def test_delete_on_a_served_endpoint_suggests_only_commands_that_reach_it(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """dev: protection off as its template says; prod: on, so it is turned off first; every command has the endpoint."""
    for environment in ("dev", "prod"):
        assert main(["deploy", "--env", environment, "--endpoint-url", server]) == 0
    capsys.readouterr()
    local = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws dynamodb"
    where = f"--endpoint-url {server} --region us-east-1"
    assert main(["delete", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Table VibeDigest-dev is retained (DeletionPolicy: Retain); its deletion protection is off. To remove its "
        f"data as well, run: {local} delete-table --table-name VibeDigest-dev {where}"
    )
    assert main(["delete", "--env", "prod", "--confirm-prod", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Table VibeDigest-prod is retained (DeletionPolicy: Retain); its deletion protection is on. To remove its "
        f"data as well, run: {local} update-table --table-name VibeDigest-prod --no-deletion-protection-enabled "
        f"{where} && {local} delete-table --table-name VibeDigest-prod {where}"
    )


def test_delete_where_nothing_was_deployed_says_no_table_is_left(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["delete", "--env", "staging", "--endpoint-url", server]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Stack vibedigest-staging does not exist; nothing to delete.",
        "Table VibeDigest-staging does not exist here; nothing is left of staging.",
    ]


def test_delete_without_a_stack_says_so(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", "--endpoint-url", server]) == 0
    assert "Stack vibedigest-dev does not exist; nothing to delete." in capsys.readouterr().out


# -- lint -----------------------------------------------------------------------------------


def test_lint_passes_the_shipped_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    assert f"{DEFAULT_TEMPLATE}: cfn-lint found no errors" in capsys.readouterr().out


def test_lint_rejects_a_broken_template_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "broken.yml"
    template.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Table:\n    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n      BillingMode: PAY_PER_REQUEST\n"
    )
    assert main(["lint", "--template", str(template)]) == 1
    line = error_line(capsys.readouterr().err)
    assert f"cfn-lint found 1 error(s) in {template}; not deploying:" in line
    assert "KeySchema" in line


def test_lint_prints_warnings_and_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unused parameter is a cfn-lint warning (W2001), not an error: shown, and lint passes."""
    body = DEFAULT_TEMPLATE.read_text().replace(
        "Parameters:\n", "Parameters:\n  Unused:\n    Type: String\n    Default: x\n", 1
    )
    template = tmp_path / "warned.yml"
    template.write_text(body)
    assert main(["lint", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "cfn-lint warning: W2001" in out and "Unused" in out
    assert f"{template}: cfn-lint found no errors (1 warning(s))." in out


# -- serve ----------------------------------------------------------------------------------


def wait_for_output(capsys: pytest.CaptureFixture[str], marker: str, thread: threading.Thread) -> str:
    """Collect stdout until ``marker`` shows (the serving thread prints it once ready)."""
    collected = ""
    for _ in range(200):
        collected += capsys.readouterr().out
        if marker in collected or not thread.is_alive():
            break
        threading.Event().wait(0.05)
    return collected


def test_serve_runs_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--region", "eu-west-1"])
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(cmd_serve(args, stop=stop)), daemon=True)
    thread.start()
    try:
        out = wait_for_output(capsys, "Press Ctrl-C", thread)
        url = out.split("listening at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert f"  export AWS_ENDPOINT_URL={url}" in out
        assert "  export AWS_REGION=eu-west-1" in out
        assert f"  python -m src.database deploy --env dev --endpoint-url {url} --region eu-west-1" in out
        assert "TableNames" in Target.local(url).client("dynamodb").list_tables()
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    assert "Stopped." in capsys.readouterr().out


def test_serve_stops_on_sigterm_and_restores_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the main thread, SIGTERM ends ``serve`` cleanly; the previous handler comes back."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    previous = signal.getsignal(signal.SIGTERM)
    ready = threading.Event()
    printed: list[str] = []

    def recording_out(line: str = "") -> None:
        printed.append(line)
        if line.startswith("Press Ctrl-C"):
            ready.set()

    def terminate() -> None:
        if ready.wait(20):
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(cli, "out", recording_out)
    threading.Thread(target=terminate, daemon=True).start()
    assert cmd_serve(build_parser().parse_args(["serve"])) == 0
    assert printed[-1] == "Stopped."
    assert signal.getsignal(signal.SIGTERM) is previous


def test_serve_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 1
    assert error_line(capsys.readouterr().err) == "error: Port must be between 0 and 65535, got 70000."


def test_serve_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str], moto_server: EmbeddedEndpoint) -> None:
    port = moto_server.url.rsplit(":", 1)[1]
    assert main(["serve", "--port", port]) == 1
    assert error_line(capsys.readouterr().err) == (
        f"error: Cannot listen on host '127.0.0.1' port {port}: Address already in use."  # no Python tuple
    )


# -- logging options ------------------------------------------------------------------------


def test_default_logging_keeps_stderr_clean(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_stack(server, "dev")
    assert main(["status", "--endpoint-url", server]) == 0
    assert capsys.readouterr().err == ""
    assert not logging.getLogger("src.database").isEnabledFor(logging.INFO)


def test_debug_after_a_quiet_run_in_one_process_still_shows_botocore(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An application calling ``main`` twice: ``--debug`` after a default run logs botocore's wire log again."""
    create_stack(server, "dev")
    assert main(["status", "--endpoint-url", server]) == 0
    assert main(["--debug", "status", "--endpoint-url", server]) == 0
    assert "DEBUG botocore.endpoint: Sending http request" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["-v", "status"], ["status", "-v"], ["status", "--verbose"]])
def test_verbose_works_before_and_after_the_command(
    argv: list[str], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--endpoint-url", server]) == 1  # nothing deployed: the table is missing
    assert "INFO src.database.client: Testing connection to table VibeDigest-dev" in capsys.readouterr().err


def test_debug_works_after_the_command(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--endpoint-url", server, "--debug"]) == 1  # nothing deployed: the table is missing
    assert "DEBUG botocore" in capsys.readouterr().err


def test_verbose_logs_info_to_stderr(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_stack(server, "dev")
    assert main(["-v", "status", "--endpoint-url", server]) == 0
    err = capsys.readouterr().err
    assert "INFO src.database.client: Testing connection to table VibeDigest-dev" in err
    assert "INFO src.database.client: Connection OK: VibeDigest-dev is ACTIVE" in err
    assert "DEBUG" not in err
    assert logging.getLogger().level == logging.INFO
    assert not logging.getLogger("botocore").isEnabledFor(logging.DEBUG)


def test_debug_logs_botocore_with_secrets_redacted(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--target aws with real-looking credentials: the wire log is there, the secrets are not."""
    create_stack(server, "dev")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    assert main(["--debug", "status", "--target", "aws", "--endpoint-url", server]) == 0
    out, err = capsys.readouterr()
    assert "DEBUG botocore" in err
    assert "X-Amz-Security-Token" in err
    assert logging.getLogger().level == logging.DEBUG
    for stream in (out, err):
        assert SECRET not in stream
        assert TOKEN not in stream


def test_verbose_failure_logs_and_still_ends_with_the_error_line(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-v", "status", "--endpoint-url", server]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: Table 'VibeDigest-dev' not found")
    assert any("Connection test for VibeDigest-dev failed (TableNotFoundError)" in line for line in lines)


# -- parser, exit codes ---------------------------------------------------------------------


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for command in ("deploy", "status", "recover", "delete", "lint", "serve"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [[], ["bogus"], ["deploy", "--target", "cloud"], ["deploy", "--timeout", "soon"], ["serve", "--port", "x"]],
)
def test_usage_errors_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ")
    assert "error: " in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("argv", "command"), [(["demo", "--dry-run"], "demo"), (["status", "--force"], "status"),
                                               (["lint", "--env", "dev"], "lint")])
def test_every_usage_error_names_the_command(argv: list[str], command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"usage: python -m src.database {command} ")
    assert lines[-1].startswith(f"python -m src.database {command}: error: unrecognized arguments: ")


def test_a_very_long_template_path_makes_a_bounded_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = "/tmp/" + "p" * 100_000 + ".yml"
    assert main(["lint", "--template", path]) == 1
    line = error_line(capsys.readouterr().err)
    assert len(line) < 400
    assert line.startswith("error: Template /tmp/ppp") and "..." in line


def test_one_line_bounds_any_line_keeping_its_start_and_end() -> None:
    from src.database.cli.output import one_line

    line = one_line("start " + "x" * 5000 + " end. Hint: run this")
    assert len(line) <= 1000
    assert line.startswith("start xxx") and line.endswith(" end. Hint: run this")
    assert "characters elided" in line


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_lint", interrupted)
    assert main(["lint"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_a_closed_stdout_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped into e.g. ``head``: exit 1 without a traceback; stdout is swapped for devnull."""
    import io

    def broken(args: Any) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(cli, "cmd_lint", broken)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # restored by monkeypatch afterwards
    assert main(["lint"]) == 1
    replaced = sys.stdout
    assert getattr(replaced, "name", "") == os.devnull
    replaced.close()


def test_error_lines_stay_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template path with a newline and an escape character is printed on one line."""
    name = tmp_path / "two\nlines\x1b[31m.yml"
    assert main(["lint", "--template", str(name)]) == 1
    line = error_line(capsys.readouterr().err)
    assert "two lines\\x1b[31m.yml" in line


def test_run_as_a_module(tmp_path: Path) -> None:
    """``python -m src.database`` really runs main (one subprocess: lint of a missing file, no AWS)."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "src.database", "lint", "--template", str(tmp_path / "none.yml")],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 1
    assert result.stderr == f"error: Template not found: {tmp_path / 'none.yml'}\n"
