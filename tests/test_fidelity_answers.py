"""Tests of ``src.database.emulator.fidelity.answers``: the gap "query-errors".

moto answered CloudFormation's ExecuteChangeSet, after a stack delete retained the
table, with DynamoDB's JSON error. A tiny WSGI app answers exactly that, served with
and without the layer's wrapper, so the tests show botocore's behaviour both ways.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from src.database.aws.aws_call import call_aws
from src.database.errors import ServiceError
from src.database.emulator.fidelity.answers import in_request_protocol, query_error
from src.database.emulator.fidelity.scope import WsgiApp
from src.database.aws.target import Target

ALREADY_EXISTS = {
    "__type": "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
    "message": "Table already exists: VibeDigest-dev",
}


def json_error(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers every request with HTTP 400 and DynamoDB's JSON error body, as moto did."""
    body = json.dumps(ALREADY_EXISTS).encode()
    start_response("400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                       ("X-Amzn-ErrorType", "ResourceInUseException")])
    return [body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        """Quiet: no per-request line on stderr."""


def served(app: WsgiApp) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stock() -> Iterator[str]:
    yield from served(json_error)


@pytest.fixture
def repaired() -> Iterator[str]:
    yield from served(in_request_protocol(json_error))


def client(service: str, url: str) -> BaseClient:
    """A plain boto3 client at ``url``, one attempt, none of this package's hooks."""
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=boto3.session.Config(retries={"total_max_attempts": 1}))


def test_without_the_repair_botocore_loses_the_aws_error(stock: str) -> None:
    """The control: what botocore does alone with a JSON error to a query-protocol client."""
    with pytest.raises(ResponseParserError):
        client("cloudformation", stock).execute_change_set(StackName="s", ChangeSetName="c")


def test_the_repaired_answer_keeps_the_aws_code_and_message(repaired: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client("cloudformation", repaired).execute_change_set(StackName="s", ChangeSetName="c")
    assert excinfo.value.response["Error"]["Code"] == "ResourceInUseException"
    assert excinfo.value.response["Error"]["Message"] == "Table already exists: VibeDigest-dev"


def test_the_package_reports_the_repaired_error(repaired: str) -> None:
    cloudformation = Target.local(repaired).client("cloudformation")
    with pytest.raises(ServiceError) as excinfo:
        call_aws(cloudformation, "ExecuteChangeSet", StackName="s", ChangeSetName="c")
    assert str(excinfo.value) == (
        f"ExecuteChangeSet failed in us-east-1 ({repaired}): ResourceInUseException: Table already exists: VibeDigest-dev"
    )


def test_a_json_protocol_call_gets_its_json_error_unchanged(repaired: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client("dynamodb", repaired).describe_table(TableName="t")
    assert excinfo.value.response["Error"]["Code"] == "ResourceInUseException"


@pytest.mark.parametrize("body", [b"<ErrorResponse/>", b"[1]", b"{not json", b'{"message": "no code"}'])
def test_only_a_json_object_naming_an_aws_error_is_rewritten(body: bytes) -> None:
    assert query_error(body) is None
