"""Unit tests of ``src.database.aws.aws_call``: the one function that calls AWS, and its client hooks."""

from __future__ import annotations

import logging

import boto3
import pytest

from src.database import redaction
from src.database.aws.aws_call import call_aws, prepare
from src.database.aws.target import Target
from src.database.errors import TableNotFoundError


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
