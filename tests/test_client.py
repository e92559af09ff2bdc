"""Unit tests of ``src.database.client``: ``DynamoDBClient`` and ``summarize``.

Covers construction (exactly one of environment/table_name, validation, nothing
built), the lazy and thread-safe ``client`` property, injected sessions and clients
(``botocore.stub.Stubber``), the once-only table check of ``call`` (DescribeTable
requests counted with botocore's own event hooks), ``test_connection``'s summary and
logs, the retry warning, error translation and a repr without secrets.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from src.database.aws.target import Target
from src.database.client import DynamoDBClient, summarize
from src.database.errors import (
    ConditionalCheckFailedError,
    ConfigurationError,
    EndpointUnreachableError,
    ServiceError,
    TableNotFoundError,
)
from src.database.settings import ClientSettings
from tests.support.endpoints import unmeasured
from tests.support.fault_proxy import Fault, FaultProxy, refused_endpoint
from tests.support.tables import create_digest_table

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCLIENTSECRET"
KEY = {"digest_date": {"S": "2024-05-01"}, "item_id": {"S": "a"}}
TABLE_DESCRIPTION: dict[str, Any] = {
    "TableName": "VibeDigest-dev",
    "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/VibeDigest-dev",
    "TableStatus": "ACTIVE",
    "KeySchema": [
        {"AttributeName": "digest_date", "KeyType": "HASH"},
        {"AttributeName": "item_id", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "digest_date", "AttributeType": "S"},
        {"AttributeName": "item_id", "AttributeType": "S"},
    ],
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    "ItemCount": 0,
    "TableSizeBytes": 0,
}


def create_table(client: BaseClient, name: str) -> None:
    """Create a table shaped like the template's (pk digest_date, sk item_id, on demand)."""
    client.create_table(
        TableName=name,
        KeySchema=TABLE_DESCRIPTION["KeySchema"],
        AttributeDefinitions=TABLE_DESCRIPTION["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )


def count_requests(client: BaseClient, operation: str) -> list[int]:
    """Count ``operation`` calls on ``client`` with botocore's own before-call event."""
    calls: list[int] = []
    client.meta.events.register(f"before-call.dynamodb.{operation}", lambda **_: calls.append(1))
    return calls


@pytest.fixture
def stubbed() -> Iterator[tuple[BaseClient, Stubber]]:
    """A real DynamoDB client with a Stubber; every queued response must be used."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"environment": "dev", "table_name": "other"}])
def test_exactly_one_of_environment_or_table_name(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="exactly one of environment"):
        DynamoDBClient(**kwargs)


def test_environment_names_the_table() -> None:
    assert DynamoDBClient("staging").table_name == "VibeDigest-staging"
    assert DynamoDBClient(table_name="custom.table_1").table_name == "custom.table_1"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"environment": "qa"}, "Unknown environment 'qa'"),
        ({"environment": "Dev"}, "did you mean 'dev'"),
        ({"environment": ""}, "Unknown environment ''"),
        ({"table_name": "ab"}, "Invalid table name 'ab'"),
        ({"table_name": ""}, "Invalid table name ''"),
        ({"table_name": "bad name"}, "Invalid table name"),
        ({"environment": "dev", "region": "mars-1"}, "Invalid region"),
        ({"environment": "dev", "endpoint_url": "ftp://x"}, "Invalid endpoint URL"),
    ],
)
def test_bad_arguments_are_configuration_errors(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        DynamoDBClient(**kwargs)  # type: ignore[arg-type]


def test_construction_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    monkeypatch.setattr(Target, "client", lambda self, service, session=None: built.append(service))
    db = DynamoDBClient("dev", endpoint_url=refused_endpoint())
    assert built == []
    assert "not connected" in repr(db)


# -- parameter validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"TableName": "VibeDigest-dev", "Key": {"digest_date": {"S": 5}, "item_id": {"S": "a"}}},  # mistyped
        {"TableName": "VibeDigest-dev"},  # Key missing
        {"TableName": "VibeDigest-dev", "Key": KEY, "Consistent": True},  # unknown (ConsistentRead)
    ],
    ids=["mistyped", "missing", "unknown"],
)
def test_call_refuses_bad_parameters_before_any_request_though_its_client_skips_botocore_validation(
    params: dict[str, Any],
) -> None:
    """The package builds its client without botocore's validation; ``call`` validates the caller's
    parameters itself, before the table check: on a refused endpoint any request would be an
    unreachable error instead."""
    db = DynamoDBClient("dev", endpoint_url=refused_endpoint())
    with pytest.raises(ConfigurationError, match="GetItem was not sent in us-east-1") as caught:
        db.call("GetItem", **params)
    assert type(caught.value.__cause__).__name__ == "ParamValidationError"


def test_a_bad_parameter_keeps_botocores_explanation_without_the_value() -> None:
    db = DynamoDBClient("dev", endpoint_url=refused_endpoint())
    with pytest.raises(ConfigurationError) as caught:
        db.call("PutItem", Item="secret-looking value")
    message = caught.value.message
    assert 'Missing required parameter in input: "TableName"' in message
    assert "Invalid type for parameter Item (valid types: <class 'dict'>)" in message
    assert "secret-looking value" not in message


def test_an_injected_client_validates_the_parameters_as_configured(local_target: Target, unique_name: str) -> None:
    """An injected client keeps its own validation (botocore's default: on): ``call`` leaves it to botocore."""
    raw = local_target.client("dynamodb")
    create_digest_table(raw, unique_name)
    db = DynamoDBClient(table_name=unique_name, client=raw)
    with pytest.raises(ConfigurationError, match='Unknown parameter in input: "Consistent"') as caught:
        db.call("GetItem", TableName=unique_name, Key=KEY, Consistent=True)
    assert type(caught.value.__cause__).__name__ == "ParamValidationError"
    assert db.call("GetItem", TableName=unique_name, Key=KEY, ConsistentRead=True).get("Item") is None


# -- the lazy client ------------------------------------------------------------------------


def test_client_is_built_on_first_use_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Target.client
    built: list[BaseClient] = []

    def spy(self: Target, service: str, session: boto3.Session | None = None, **options: Any) -> BaseClient:
        built.append(original(self, service, session, **options))
        return built[-1]

    monkeypatch.setattr(Target, "client", spy)
    db = DynamoDBClient("dev", region="eu-west-1")
    first = db.client
    assert db.client is first
    assert built == [first]
    assert first.meta.region_name == "eu-west-1"


def test_lazy_client_is_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many threads asking at once get one client: the build is slowed to widen the race."""
    original = Target.client
    builds: list[int] = []

    def slow(self: Target, service: str, session: boto3.Session | None = None, **options: Any) -> BaseClient:
        builds.append(1)
        time.sleep(0.05)
        return original(self, service, session, **options)

    monkeypatch.setattr(Target, "client", slow)
    db = DynamoDBClient("dev")
    barrier = threading.Barrier(16)
    seen: list[BaseClient] = []

    def use() -> None:
        barrier.wait()
        seen.append(db.client)

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(builds) == 1
    assert len(seen) == 16 and all(client is seen[0] for client in seen)


def test_an_injected_session_is_used() -> None:
    session = boto3.Session(region_name="eu-west-2")
    assert DynamoDBClient("dev", session=session).client.meta.region_name == "eu-west-2"


def test_an_injected_client_is_used_as_is(stubbed: tuple[BaseClient, Stubber]) -> None:
    client, stubber = stubbed
    db = DynamoDBClient("dev", client=client)
    assert db.client is client
    stubber.add_response("describe_table", {"Table": TABLE_DESCRIPTION}, {"TableName": "VibeDigest-dev"})
    assert db.validate_table()["TableName"] == "VibeDigest-dev"


def test_settings_reach_the_built_client() -> None:
    db = DynamoDBClient("dev", settings=ClientSettings(max_attempts=2, read_timeout=1.5))
    assert db.client.meta.config.retries["total_max_attempts"] == 2
    assert db.client.meta.config.read_timeout == 1.5


def test_for_target_uses_the_targets_endpoint_and_settings() -> None:
    target = Target.local("http://127.0.0.1:4566", settings=ClientSettings(max_attempts=3))
    db = DynamoDBClient.for_target(target, "prod")
    assert db.table_name == "VibeDigest-prod"
    assert db.client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert db.client.meta.config.retries["total_max_attempts"] == 3
    assert db.location == "us-east-1 (http://127.0.0.1:4566)"


# -- call: one table check, then dispatch ------------------------------------------------------


def test_call_checks_the_table_once_then_dispatches(stubbed: tuple[BaseClient, Stubber]) -> None:
    """The Stubber enforces the order: one DescribeTable, then only the operations asked for."""
    client, stubber = stubbed
    stubber.add_response("describe_table", {"Table": TABLE_DESCRIPTION}, {"TableName": "VibeDigest-dev"})
    item = {**KEY, "title": {"S": "t"}}
    for _ in range(3):
        stubber.add_response("put_item", {}, {"TableName": "VibeDigest-dev", "Item": item})
    stubber.add_response("get_item", {"Item": item}, {"TableName": "VibeDigest-dev", "Key": KEY})
    db = DynamoDBClient("dev", client=client)
    for _ in range(3):
        db.call("PutItem", TableName="VibeDigest-dev", Item=item)
    assert db.call("GetItem", TableName="VibeDigest-dev", Key=KEY)["Item"] == item


def test_call_counts_one_describe_table_against_moto(moto_aws: None) -> None:
    db = DynamoDBClient("dev")
    create_table(db.client, "VibeDigest-dev")
    describes = count_requests(db.client, "DescribeTable")
    puts = count_requests(db.client, "PutItem")
    for index in range(3):
        db.call("PutItem", TableName=db.table_name, Item={**KEY, "item_id": {"S": str(index)}})
    db.call("Query", TableName=db.table_name, KeyConditionExpression="digest_date = :d",
            ExpressionAttributeValues={":d": {"S": "2024-05-01"}})
    assert (len(describes), len(puts)) == (1, 3)


def test_describe_table_itself_needs_no_extra_check(moto_aws: None) -> None:
    db = DynamoDBClient("dev")
    create_table(db.client, "VibeDigest-dev")
    describes = count_requests(db.client, "DescribeTable")
    db.call("DescribeTable", TableName="VibeDigest-dev")
    assert len(describes) == 1


def test_a_missing_table_is_reported_and_checked_again_next_time(moto_aws: None) -> None:
    db = DynamoDBClient("dev")
    describes = count_requests(db.client, "DescribeTable")
    with pytest.raises(TableNotFoundError, match="Table 'VibeDigest-dev' not found") as excinfo:
        db.call("PutItem", TableName=db.table_name, Item=KEY)
    assert isinstance(excinfo.value.__cause__, ClientError)
    create_table(db.client, "VibeDigest-dev")
    db.call("PutItem", TableName=db.table_name, Item=KEY)
    assert len(describes) == 2


def test_errors_of_the_operation_are_translated_and_chained(stubbed: tuple[BaseClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_table", {"Table": TABLE_DESCRIPTION}, {"TableName": "VibeDigest-dev"})
    stubber.add_client_error("put_item", "ValidationException", f"bad item; X-Amz-Security-Token: {SECRET}", 400)
    db = DynamoDBClient("dev", client=client)
    with pytest.raises(ServiceError) as excinfo:
        db.call("PutItem", TableName="VibeDigest-dev", Item=KEY)
    assert "PutItem failed in us-east-1" in str(excinfo.value)
    assert "ValidationException: bad item; X-Amz-Security-Token: ***REDACTED***" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, ClientError)


def test_a_put_without_the_sort_key_says_what_aws_said(moto_aws: None) -> None:
    """Issue 7: the AWS message naming the missing key is in the error itself, not only in its cause."""
    db = DynamoDBClient("dev")
    create_table(db.client, "VibeDigest-dev")
    with pytest.raises(ServiceError) as excinfo:
        db.call("PutItem", TableName=db.table_name, Item={"digest_date": {"S": "2024-05-01"}})
    error = excinfo.value
    assert "PutItem failed in us-east-1" in str(error)
    assert "ValidationException: One or more parameter values were invalid: Missing the key item_id" in str(error)
    assert (error.operation, error.code) == ("PutItem", "ValidationException")
    assert "Missing the key item_id in the item" in error.aws_message
    assert isinstance(error.__cause__, ClientError)


def test_a_refused_endpoint_is_an_unreachable_error() -> None:
    db = DynamoDBClient("dev", endpoint_url=refused_endpoint(), settings=ClientSettings(max_attempts=1))
    started = time.monotonic()
    with pytest.raises(EndpointUnreachableError, match="Could not reach the endpoint"):
        db.test_connection()
    assert time.monotonic() - started < 10


def test_an_answer_without_a_table_description_is_a_service_error(stubbed: tuple[BaseClient, Stubber]) -> None:
    """E.g. an endpoint URL pointing at another web server that answers 200 with no table."""
    client, stubber = stubbed
    stubber.add_response("describe_table", {}, {"TableName": "VibeDigest-dev"})
    with pytest.raises(ServiceError, match="answered without a table description"):
        DynamoDBClient("dev", client=client).validate_table()


def test_an_injected_test_double_without_botocore_events_is_accepted() -> None:
    """Only the methods used are needed; no event system, no network."""

    class Double:
        meta = type("Meta", (), {"region_name": "eu-west-1", "endpoint_url": "http://double"})()

        def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803 - boto3's parameter name
            return {"Table": {**TABLE_DESCRIPTION, "TableName": TableName}}

    db = DynamoDBClient(table_name="double-table", client=Double())  # type: ignore[arg-type]
    summary = db.test_connection()
    assert (summary["table_name"], summary["region"], summary["endpoint"]) == (
        "double-table", "eu-west-1", "http://double"
    )


# -- retries are logged -----------------------------------------------------------------------


def test_retries_of_a_successful_call_are_logged_at_info(
    stubbed: tuple[BaseClient, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "describe_table", {"Table": TABLE_DESCRIPTION, "ResponseMetadata": {"RetryAttempts": 2}},
        {"TableName": "VibeDigest-dev"},
    )
    with caplog.at_level(logging.DEBUG, logger="src.database"):
        DynamoDBClient("dev", client=client).validate_table()
    (record,) = [r for r in caplog.records if "retries" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "DescribeTable on VibeDigest-dev succeeded after 2 retries"


def test_a_call_without_retries_logs_no_warning(
    stubbed: tuple[BaseClient, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_table", {"Table": TABLE_DESCRIPTION}, {"TableName": "VibeDigest-dev"})
    with caplog.at_level(logging.WARNING, logger="src.database.client"):
        DynamoDBClient("dev", client=client).validate_table()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_real_retries_behind_a_throttling_proxy_are_logged(
    local_target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    """One throttled DescribeTable, retried by botocore: the summary comes back and one retry is logged."""
    create_table(local_target.client("dynamodb"), "VibeDigest-dev")
    with FaultProxy(local_target.endpoint_url or "") as proxy:
        proxy.inject(Fault.THROTTLING, times=1, operations={"DescribeTable"})
        db = DynamoDBClient.for_target(Target.local(proxy.url, settings=ClientSettings(max_attempts=3)), "dev")
        with caplog.at_level(logging.INFO, logger="src.database"):
            summary = db.test_connection()
        assert proxy.faults_injected == 1
        assert proxy.requests_by_operation["DescribeTable"] == 2
    assert summary["table_name"] == "VibeDigest-dev"
    assert "DescribeTable on VibeDigest-dev succeeded after 1 retries" in caplog.text


def test_a_failed_call_logs_how_many_attempts_it_made(
    stubbed: tuple[BaseClient, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "describe_table", "ResourceNotFoundException", "gone", 400, response_meta={"RetryAttempts": 3}
    )
    with caplog.at_level(logging.DEBUG, logger="src.database"), pytest.raises(TableNotFoundError):
        DynamoDBClient("dev", client=client).validate_table()
    (record,) = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert record.getMessage().startswith("DescribeTable on VibeDigest-dev failed after 4 attempts")
    assert record.levelno == logging.DEBUG  # the caller decides whether the error it catches matters


# -- test_connection ---------------------------------------------------------------------------


def test_test_connection_returns_the_summary(moto_aws: None, caplog: pytest.LogCaptureFixture) -> None:
    db = DynamoDBClient("dev")
    create_table(db.client, "VibeDigest-dev")
    with caplog.at_level(logging.INFO, logger="src.database.client"):
        summary = db.test_connection()
    assert summary["table_name"] == "VibeDigest-dev"
    assert summary["table_arn"].endswith(":table/VibeDigest-dev")
    assert summary["status"] == "ACTIVE"
    assert (summary["partition_key"], summary["sort_key"]) == ("digest_date", "item_id")
    assert summary["key_schema"] == TABLE_DESCRIPTION["KeySchema"]
    assert summary["billing_mode"] == "PAY_PER_REQUEST"
    assert (summary["item_count"], summary["size_bytes"]) == (0, 0)
    assert summary["created"]
    assert summary["region"] == "us-east-1"
    assert summary["endpoint"] == db.client.meta.endpoint_url
    assert "Testing connection to table VibeDigest-dev" in caplog.text
    assert "Connection OK: VibeDigest-dev is ACTIVE in us-east-1" in caplog.text


def test_test_connection_is_one_describe_table(moto_aws: None) -> None:
    db = DynamoDBClient("dev")
    create_table(db.client, "VibeDigest-dev")
    describes = count_requests(db.client, "DescribeTable")
    db.test_connection()
    assert len(describes) == 1


def test_test_connection_logs_and_raises_a_failure(moto_aws: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="src.database.client"), pytest.raises(TableNotFoundError):
        DynamoDBClient("staging").test_connection()
    assert "Connection test for VibeDigest-staging failed (TableNotFoundError)" in caplog.text


# -- repr and summarize --------------------------------------------------------------------------


def test_repr_names_the_table_and_never_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-value-123456")
    db = DynamoDBClient("dev", region="eu-west-1", endpoint_url="http://127.0.0.1:4566")
    before = repr(db)
    db.client  # noqa: B018 - connect
    after = repr(db)
    assert before == "DynamoDBClient(table='VibeDigest-dev', region='eu-west-1', endpoint='http://127.0.0.1:4566', " \
        "not connected)"
    assert after.endswith(", connected)")
    for text in (before, after):
        assert SECRET not in text and "session-token-value" not in text


def test_summarize_fills_defaults_for_missing_fields() -> None:
    summary = summarize({"TableName": "t", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]},
                        region="r", endpoint="e")
    assert summary["billing_mode"] == "PROVISIONED"
    assert (summary["partition_key"], summary["sort_key"]) == ("k", None)
    assert (summary["item_count"], summary["deletion_protection"], summary["created"]) == (0, False, "")


def test_an_unknown_operation_is_a_configuration_error(moto_aws: None) -> None:
    client = DynamoDBClient(table_name="digest", region="us-east-1")
    with pytest.raises(ConfigurationError, match="Unknown DynamoDB operation 'NoSuchOperation'"):
        client.call("NoSuchOperation")


# -- a constructor that cannot lie -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"region": "eu-west-1"}, "region"),
        ({"endpoint_url": "http://127.0.0.1:4566"}, "endpoint_url"),
        ({"profile": "other"}, "profile"),
        ({"settings": ClientSettings(max_attempts=2)}, "settings"),
        ({"session": boto3.Session(region_name="us-east-1")}, "session"),
    ],
)
def test_a_ready_client_refuses_arguments_it_would_ignore(
    stubbed: tuple[BaseClient, Stubber], kwargs: dict[str, Any], named: str
) -> None:
    client, _ = stubbed
    with pytest.raises(ConfigurationError, match=f"Given a ready client, DynamoDBClient cannot apply {named}"):
        DynamoDBClient("dev", client=client, **kwargs)


@pytest.mark.parametrize(("kwargs", "named"), [({"region": "eu-west-1"}, "region"), ({"profile": "p"}, "profile")])
def test_a_session_refuses_the_region_and_profile_it_would_ignore(kwargs: dict[str, Any], named: str) -> None:
    """Issue 7: a region or profile given with a session is refused: the session's own would be used."""
    with pytest.raises(ConfigurationError, match=f"Given a ready session, DynamoDBClient cannot apply {named}"):
        DynamoDBClient("dev", session=boto3.Session(region_name="us-east-1"), **kwargs)


def test_a_session_still_takes_the_endpoint_and_settings_it_applies() -> None:
    db = DynamoDBClient("dev", session=boto3.Session(region_name="eu-west-2"),
                        endpoint_url="http://127.0.0.1:4566", settings=ClientSettings(read_timeout=1.25))
    assert repr(db).startswith("DynamoDBClient(table='VibeDigest-dev', region='eu-west-2', "
                               "endpoint='http://127.0.0.1:4566', not connected")
    assert (db.client.meta.region_name, db.client.meta.endpoint_url) == ("eu-west-2", "http://127.0.0.1:4566")
    assert db.client.meta.config.read_timeout == 1.25


def test_repr_shows_what_an_injected_client_uses(stubbed: tuple[BaseClient, Stubber]) -> None:
    client, _ = stubbed
    assert repr(DynamoDBClient("dev", client=client)) == (
        f"DynamoDBClient(table='VibeDigest-dev', region={client.meta.region_name!r}, "
        f"endpoint={client.meta.endpoint_url!r}, connected)"
    )


# -- retries through botocore's chain ----------------------------------------------------------


@pytest.fixture
def profile_with_retries(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """An AWS config file whose profile 'tuned' sets max_attempts = 7 and retry_mode = adaptive."""
    config = tmp_path / "config"
    config.write_text("[profile tuned]\nregion = eu-west-1\nmax_attempts = 7\nretry_mode = adaptive\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return "tuned"


def retries_of(db: DynamoDBClient) -> tuple[str, int]:
    """The retry mode and total attempts botocore resolved for the client."""
    retries = db.client.meta.config.retries
    return retries["mode"], retries["total_max_attempts"]


def test_without_any_setting_the_package_defaults_apply() -> None:
    assert retries_of(DynamoDBClient("dev")) == ("standard", 3)


def test_the_profile_sets_the_retries(profile_with_retries: str) -> None:
    assert retries_of(DynamoDBClient("dev", profile=profile_with_retries)) == ("adaptive", 7)


def test_the_environment_wins_over_the_profile(profile_with_retries: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    assert retries_of(DynamoDBClient("dev", profile=profile_with_retries)) == ("legacy", 5)


def test_the_caller_wins_over_environment_and_profile(
    profile_with_retries: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    settings = ClientSettings(max_attempts=2, retry_mode="standard")
    assert retries_of(DynamoDBClient("dev", profile=profile_with_retries, settings=settings)) == ("standard", 2)


def test_a_caller_value_overrides_only_what_it_sets(profile_with_retries: str) -> None:
    settings = ClientSettings(max_attempts=2)
    assert retries_of(DynamoDBClient("dev", profile=profile_with_retries, settings=settings)) == ("adaptive", 2)


# -- a guest in someone else's application -------------------------------------------------------

CONDITIONAL_PUT_SCRIPT = """
import sys
from src.database import ConditionalCheckFailedError, DynamoDBClient
db = DynamoDBClient("dev", endpoint_url=sys.argv[1], region="us-east-1")
item = {"digest_date": {"S": "2024-05-01"}, "item_id": {"S": "a"}}
db.call("PutItem", TableName=db.table_name, Item=item)
try:
    db.call("PutItem", TableName=db.table_name, Item=item, ConditionExpression="attribute_not_exists(item_id)")
except ConditionalCheckFailedError as error:
    print("caught", error.code)
"""


def test_a_failed_condition_is_typed_and_not_logged_at_error(
    local_target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    create_table(local_target.client("dynamodb"), "VibeDigest-dev")
    db = DynamoDBClient.for_target(local_target, "dev")
    item = {**KEY, "title": {"S": "t"}}
    db.call("PutItem", TableName=db.table_name, Item=item)
    with caplog.at_level(logging.DEBUG, logger="src.database"), pytest.raises(ConditionalCheckFailedError) as excinfo:
        db.call("PutItem", TableName=db.table_name, Item=item, ConditionExpression="attribute_not_exists(item_id)")
    assert excinfo.value.code == "ConditionalCheckFailedException"
    assert isinstance(excinfo.value.__cause__, ClientError)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_with_no_logging_configured_a_caught_error_prints_nothing(local_target: Target) -> None:
    """Fresh interpreter, no logging set up: the library's records go to its NullHandler, not stderr."""
    create_table(local_target.client("dynamodb"), "VibeDigest-dev")
    result = subprocess.run(
        [sys.executable, "-c", CONDITIONAL_PUT_SCRIPT, local_target.endpoint_url or ""],
        check=False, cwd=REPO_ROOT, env=unmeasured(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "caught ConditionalCheckFailedException\n"
    assert result.stderr == ""
