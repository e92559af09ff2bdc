"""Connection tests (spec cases cn10, eh11, lg12, cr13) for ``DynamoDBClient.test_connection``.

They run against the embedded moto server over real HTTP (``local_target``), a refused
local port, the fault-injecting proxy (throttling with real botocore retries) and
botocore's ``Stubber`` for answers moto never gives (rejected credentials, access
denied). Helpers come from the step library shared with the behave scenarios (tests/support/acceptance.py).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Callable

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from src.database.aws.target import Target
from src.database.client import DynamoDBClient
from src.database.errors import (
    AccessDeniedError,
    CredentialsError,
    DatabaseError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    TableNotFoundError,
    ThrottledError,
)
from src.database.redaction import REDACTED
from src.database.settings import ClientSettings
from tests.support.acceptance import (
    CREDENTIAL_VARIABLES,
    UNREACHABLE_BOUND_SECONDS,
    PlantedCredentials,
    attempt_connection,
    credential_chain_client,
    error_texts,
    leaked,
    live_table,
    one_line_without_traceback,
    service_client,
    stubbed_client,
    unreachable_client,
)
from tests.support.fault_proxy import Fault, FaultProxy, refused_endpoint
from tests.support.tables import create_digest_table

pytestmark = pytest.mark.waiting  # waits on timeouts and back-off: spread through the run (tests/conftest.py)

_QUIET_LOGGERS = ("botocore", "urllib3")


def test_successful_connection(local_target: Target) -> None:
    """cn10: test_connection returns the table's description as the endpoint has it.

    The table is created directly with the template's key schema and billing mode;
    deploying it through CloudFormation is covered by the cf1 tests and scenarios.
    """
    create_digest_table(local_target.client("dynamodb"), "VibeDigest-dev")
    service_client(local_target, "dynamodb").put_item(
        TableName="VibeDigest-dev", Item={"digest_date": {"S": "2026-11-26"}, "item_id": {"S": "a"}}
    )
    client = DynamoDBClient.for_target(local_target, "dev")

    description = client.test_connection()

    live = live_table(local_target, "dev")
    assert description["table_name"] == "VibeDigest-dev"
    assert description["table_arn"] == live["TableArn"] and description["table_arn"].endswith(":table/VibeDigest-dev")
    assert description["status"] == "ACTIVE"
    assert description["key_schema"] == [
        {"AttributeName": "digest_date", "KeyType": "HASH"},
        {"AttributeName": "item_id", "KeyType": "RANGE"},
    ]
    assert (description["partition_key"], description["sort_key"]) == ("digest_date", "item_id")
    assert description["billing_mode"] == "PAY_PER_REQUEST"
    assert description["item_count"] == live["ItemCount"] == 1
    assert description["region"] == "us-east-1"
    assert description["endpoint"] == local_target.endpoint_url


@dataclass
class ErrorCase:
    """A client set up to fail, the error it must raise, words its message must hold,
    and an optional extra check run after the failure."""

    client: DynamoDBClient
    error: type[DatabaseError]
    fragments: tuple[str, ...]
    after: Callable[[], None] | None = None


def _missing_table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    target: Target = request.getfixturevalue("local_target")  # an empty account
    return ErrorCase(DynamoDBClient.for_target(target, "dev"), TableNotFoundError, ("'VibeDigest-dev'", "us-east-1"))


def _refused_endpoint(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    client = unreachable_client("dev")  # 2 attempts, 1 s timeouts, nothing listening
    return ErrorCase(client, EndpointUnreachableError, ("Could not reach the endpoint", "127.0.0.1"))


def _no_credentials(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    for name in CREDENTIAL_VARIABLES:  # the AWS config files are already empty (conftest)
        monkeypatch.delenv(name, raising=False)
    # A refused endpoint: signing fails first, so CredentialsError (not "unreachable")
    # also proves no request was attempted without credentials.
    client = credential_chain_client(refused_endpoint(), "dev")
    return ErrorCase(client, CredentialsError, ("No AWS credentials found", "AWS_PROFILE"))


def _invalid_credentials(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    """Stubbed: moto accepts any credentials, AWS answers UnrecognizedClientException."""
    client = stubbed_client("dev", "UnrecognizedClientException", "The security token included in the request is invalid.")
    return ErrorCase(client, InvalidCredentialsError, ("rejected the credentials", "UnrecognizedClientException"))


def _access_denied(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    """Stubbed: moto does not enforce IAM by default."""
    client = stubbed_client(
        "dev",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:DescribeTable",
    )
    return ErrorCase(client, AccessDeniedError, ("Access denied", "DescribeTable", "AccessDeniedException"))


def _throttled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ErrorCase:
    """Every DescribeTable is throttled by the proxy; botocore really retries (3 attempts).

    A Stubber would bypass botocore's retry handler, so the proxy is used instead and
    the number of requests it saw proves the retries happened.
    """
    target: Target = request.getfixturevalue("local_target")
    proxy = FaultProxy(target.endpoint_url or "").start()
    request.addfinalizer(proxy.stop)
    proxy.inject(Fault.THROTTLING, times=None, operations={"DescribeTable"})
    settings = ClientSettings(max_attempts=3, connect_timeout=1, read_timeout=2)
    client = DynamoDBClient.for_target(Target.local(proxy.url, settings=settings), "dev")

    def retried() -> None:
        assert proxy.requests_by_operation.get("DescribeTable") == 3

    return ErrorCase(client, ThrottledError, ("throttled", "ThrottlingException", "after all retry attempts"), retried)


ERROR_CASES: dict[str, Callable[[pytest.FixtureRequest, pytest.MonkeyPatch], ErrorCase]] = {
    "missing-table": _missing_table,
    "refused-endpoint": _refused_endpoint,
    "no-credentials": _no_credentials,
    "invalid-credentials": _invalid_credentials,
    "access-denied": _access_denied,
    "throttled-after-retries": _throttled,
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_handling(case: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """eh11: each failure raises its own DatabaseError subclass, quickly, with a one-line
    message that says what and where, and the boto exception chained as ``__cause__``."""
    setup = ERROR_CASES[case](request, monkeypatch)

    attempt = attempt_connection(setup.client)

    error = attempt.error
    assert type(error) is setup.error, repr(error)
    for fragment in setup.fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"
    assert one_line_without_traceback(error)
    assert isinstance(error.__cause__, (ClientError, BotoCoreError)), repr(error.__cause__)
    assert attempt.seconds < UNREACHABLE_BOUND_SECONDS, attempt.seconds
    if setup.after is not None:
        setup.after()


def test_logging(local_target: Target, caplog: pytest.LogCaptureFixture) -> None:
    """lg12: a successful and a failed connection test are both logged: the attempt,
    then the outcome, each naming the table (INFO for success, WARNING for failure); the
    failing call itself at DEBUG, never at ERROR (the caller decides what an error it
    catches is worth)."""
    create_digest_table(local_target.client("dynamodb"), "VibeDigest-dev")
    caplog.set_level(logging.DEBUG, logger="src.database")

    DynamoDBClient.for_target(local_target, "dev").test_connection()
    with pytest.raises(TableNotFoundError):
        DynamoDBClient.for_target(local_target, "staging").test_connection()

    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("src.database")]
    assert (logging.INFO, "Testing connection to table VibeDigest-dev") in records
    assert any(
        level == logging.INFO and m.startswith("Connection OK: VibeDigest-dev is ACTIVE in us-east-1")
        for level, m in records
    ), records
    assert (logging.INFO, "Testing connection to table VibeDigest-staging") in records
    assert (logging.WARNING, "Connection test for VibeDigest-staging failed (TableNotFoundError)") in records
    assert any(  # the failing call itself is logged with the translated, one-line reason
        level == logging.DEBUG
        and m.startswith("DescribeTable on VibeDigest-staging failed")
        and "Table 'VibeDigest-staging' not found" in m
        for level, m in records
    ), records
    assert not [record for record in records if record[0] >= logging.ERROR]
    order = [m for _, m in records]
    assert order.index("Testing connection to table VibeDigest-dev") < next(
        i for i, m in enumerate(order) if m.startswith("Connection OK")
    )


def test_credential_security(
    local_target: Target, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cr13: planted credentials (secret key and session token) never show up in DEBUG
    logs (botocore's wire log included), error messages, tracebacks or reprs, on success
    (embedded endpoint) and on failure (refused endpoint).

    The clients sign with the planted credentials through boto3's standard chain, so
    the token really travels in the request headers botocore logs.
    """
    create_digest_table(local_target.client("dynamodb"), "VibeDigest-dev")
    planted = PlantedCredentials()
    for name, value in planted.environment().items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    for name in (*_QUIET_LOGGERS, "src.database"):
        caplog.set_level(logging.DEBUG, logger=name)

    ok = attempt_connection(credential_chain_client(local_target.endpoint_url or "", "dev"))
    failed = attempt_connection(credential_chain_client(refused_endpoint(), "dev"))

    assert ok.error is None and ok.description is not None, ok.error
    assert isinstance(failed.error, EndpointUnreachableError), repr(failed.error)
    log_text = caplog.text
    assert any(r.name.startswith("botocore") and r.levelno == logging.DEBUG for r in caplog.records)
    texts = [log_text, *(r.getMessage() for r in caplog.records)]
    for attempt in (ok, failed):
        texts += [repr(attempt.client), str(attempt.client.__dict__), *error_texts(attempt.error), str(attempt.description)]
    texts.append("".join(traceback.format_exception(failed.error)))
    assert leaked(planted.secrets, texts) == []
    # Not vacuous: the token header was in botocore's wire log, redacted.
    assert "x-amz-security-token" in log_text.lower() and REDACTED in log_text
