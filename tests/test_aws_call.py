"""Unit tests of ``src.database.aws.aws_call``: the one function that calls AWS, and its client hooks.

The foreign-protocol case is the one the embedded endpoint produced after a stack
delete retained the table: CloudFormation's ExecuteChangeSet answered with
DynamoDB's JSON error. A tiny HTTP server answers exactly that, so the test needs
no moto and shows botocore's behaviour with and without the hook.
"""

from __future__ import annotations

import http.server
import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from botocore.client import BaseClient
from botocore.parsers import ResponseParserError

from src.database import redaction
from src.database.aws.aws_call import call_aws, prepare
from src.database.aws.target import Target
from src.database.errors import ServiceError, TableNotFoundError
from tests.support.endpoints import stub_server

ALREADY_EXISTS = {
    "__type": "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
    "message": "Table already exists: VibeDigest-dev",
}


class JsonErrorHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with HTTP 400 and DynamoDB's JSON error body."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(ALREADY_EXISTS).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amzn-ErrorType", "ResourceInUseException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: no per-request line on stderr."""


@pytest.fixture
def json_error_endpoint() -> Iterator[str]:
    with stub_server(JsonErrorHandler) as url:
        yield url


def cloudformation(url: str) -> BaseClient:
    """A plain boto3 CloudFormation client at ``url``, one attempt, none of this package's hooks."""
    return boto3.client("cloudformation", endpoint_url=url, region_name="us-east-1",
                        config=boto3.session.Config(retries={"total_max_attempts": 1}))


def test_without_the_hook_botocore_loses_the_aws_error(json_error_endpoint: str) -> None:
    """The control: what botocore does alone with a JSON error to a query-protocol client."""
    with pytest.raises(ResponseParserError):
        cloudformation(json_error_endpoint).execute_change_set(StackName="s", ChangeSetName="c")


def test_an_aws_error_in_another_protocol_keeps_its_code_and_message(json_error_endpoint: str) -> None:
    client = prepare(cloudformation(json_error_endpoint))
    with pytest.raises(ServiceError) as excinfo:
        call_aws(client, "ExecuteChangeSet", StackName="s", ChangeSetName="c")
    error = excinfo.value
    assert (error.operation, error.code, error.aws_message) == (
        "ExecuteChangeSet", "ResourceInUseException", "Table already exists: VibeDigest-dev"
    )
    assert str(error) == (
        f"ExecuteChangeSet failed in us-east-1 ({json_error_endpoint}): "
        "ResourceInUseException: Table already exists: VibeDigest-dev"
    )


def test_clients_the_package_builds_have_the_hook(json_error_endpoint: str) -> None:
    client = Target.local(json_error_endpoint).client("cloudformation")
    with pytest.raises(ServiceError, match="Table already exists"):
        call_aws(client, "DescribeStacks", StackName="s")


def test_call_aws_returns_the_answer_and_logs_a_failure_at_debug(
    local_target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    client = local_target.client("dynamodb")
    assert call_aws(client, "ListTables")["TableNames"] == []
    with caplog.at_level(logging.DEBUG, logger="src.database"), pytest.raises(TableNotFoundError) as excinfo:
        call_aws(client, "DescribeTable", table="missing-table", TableName="missing-table")
    assert excinfo.value.__cause__ is not None
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.DEBUG]
    assert failures[0].getMessage().startswith("DescribeTable on missing-table failed")


def test_the_token_a_request_carries_is_registered_for_redaction(local_target: Target) -> None:
    """An injected client (or refreshed credentials): its token is redacted verbatim once a request carried it."""
    token = "FreshSessionToken-" + "x" * 20
    client = prepare(boto3.client(
        "dynamodb", endpoint_url=local_target.endpoint_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token=token,
    ))
    saved = set(redaction._secrets)
    try:
        assert redaction.redact(f"echoed: {token}") == f"echoed: {token}"  # not known yet
        client.list_tables()
        assert redaction.redact(f"echoed: {token}") == f"echoed: {redaction.REDACTED}"
    finally:
        with redaction._lock:
            redaction._secrets.clear()
            redaction._secrets.update(saved)
