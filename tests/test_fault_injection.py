"""Fault injection: ``DynamoDBClient`` behind a fault-injecting proxy in front of a moto server.

Roles: the code under test is ``DynamoDBClient`` (and ``DigestStore`` on top of it),
built with ``DynamoDBClient.for_target(Target.local(proxy.url, settings=...))``; the
proxy (``tests/support/fault_proxy.py``) forwards to the worker's moto server
(``moto_server`` fixture) and injects faults; each test creates its own table
directly on the server, so tests share nothing.

Expected outcomes, per fault:

- transient (k faults, then the endpoint answers; k < attempts): botocore's
  standard retry mode absorbs every fault type here (throttling, provisioned
  throughput, HTTP 500/503, dropped connection, no answer, an answer slower than
  the read timeout). The call succeeds, the client logs at INFO "... succeeded
  after k retries" (botocore's ``ResponseMetadata.RetryAttempts``, which counts
  connection errors and timeouts too), and the item read back equals the one
  written.
- persistent (every attempt fails): the package's own typed error, whose message
  names the cause and what to do, within a bounded time set by ``ClientSettings``
  (attempts x timeouts + botocore's backoff: 1 s base for throttling, 25 ms for
  other DynamoDB errors), never botocore's 60 s defaults. The client logs the
  number of attempts made (for connection errors botocore does not report it; the
  client reads it from botocore's retry context in an ``after-call-error`` handler).
- a refused connection, a silent endpoint and an endpoint URL that points at some
  other web server (HTML answers) have no transient form here (there is no
  DynamoDB behind them); they are tested persistent only.

Figures (faults injected, retries, times, items written/read) are recorded for
``reports/reliability.md`` before each assertion.
"""

from __future__ import annotations

import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from src.database import DigestItem, DigestStore
from src.database.aws.answer_limit import AnswerLimits, _LimitedReader, limit_answers
from src.database.aws.target import Target
from src.database.client import DynamoDBClient
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.errors import (
    DatabaseError,
    EndpointUnreachableError,
    ItemExistsError,
    ServiceError,
    ThrottledError,
)
from src.database.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_READ_TIMEOUT,
    ClientSettings,
)
from tests.support.endpoints import stub_server
from tests.support.fault_proxy import (
    Fault,
    FaultProxy,
    SilentEndpoint,
    TricklingEndpoint,
    refused_endpoint,
)
from tests.support.figures import record
from tests.support.tables import create_digest_table

pytestmark = pytest.mark.waiting  # waits on timeouts and back-off: spread through the run (tests/conftest.py)

ATTEMPTS = 4
"""Retry budget of the transient tests: k = 2 faults fit in it."""
PERSISTENT_ATTEMPTS = 3
TIMEOUT = 0.5
"""Connect and read timeout (seconds) of the clients under test."""
PROXY_DELAY = 1.0
"""Delay of ``Fault.SLOW_RESPONSE``: longer than ``TIMEOUT``, so a slow answer is a timeout."""
ERROR_BOUND = 10.0
"""Generous bound on time to a clear error (a loaded 2-core machine included)."""
DAY = "2026-11-26"

TRANSIENT_FAULTS = (
    Fault.THROTTLING,
    Fault.PROVISIONED_THROUGHPUT,
    Fault.HTTP_500,
    Fault.HTTP_503,
    Fault.DROP_CONNECTION,
    Fault.NO_RESPONSE,
    Fault.SLOW_RESPONSE,
)

# fault -> (error class, texts the message must contain: the cause, then what to do)
PERSISTENT_EXPECTATIONS: dict[str, tuple[type[DatabaseError], tuple[str, ...]]] = {
    "THROTTLING": (ThrottledError, ("throttled in", "(ThrottlingException: ", "raise ClientSettings.max_attempts")),
    "PROVISIONED_THROUGHPUT": (
        ThrottledError,
        ("throttled in", "(ProvisionedThroughputExceededException: ", "raise ClientSettings.max_attempts"),
    ),
    "HTTP_500": (ServiceError, ("InternalServerError: ", "(HTTP 500)", "Retry later")),
    "HTTP_503": (ServiceError, ("ServiceUnavailable: ", "(HTTP 503)", "Retry later")),
    "DROP_CONNECTION": (EndpointUnreachableError, ("closed the connection without answering", "Check the endpoint")),
    "NO_RESPONSE": (EndpointUnreachableError, ("timed out", "reading the answer", "read_timeout")),
    "SLOW_RESPONSE": (EndpointUnreachableError, ("timed out", "read_timeout")),
    "REFUSED_CONNECTION": (EndpointUnreachableError, ("Could not reach the endpoint", "Is it running")),
    "SILENT_ENDPOINT": (EndpointUnreachableError, ("timed out", "reading the answer", "read_timeout")),
    "TRICKLING_BODY": (EndpointUnreachableError, ("timed out", "read_timeout")),
    "TRICKLING_STATUS": (EndpointUnreachableError, ("timed out", "read_timeout")),
    "NOT_DYNAMODB_200": (
        ServiceError,
        ("answered without a table description", "Check that the endpoint URL points at DynamoDB"),
    ),
    "NOT_DYNAMODB_404": (
        ServiceError,
        ("HTTP 404 without an AWS error code", "Check that the endpoint URL points at the right AWS service"),
    ),
}

_DESERIALIZER = TypeDeserializer()


# -- fixtures and helpers -------------------------------------------------------------


@pytest.fixture
def server_client(moto_server: EmbeddedEndpoint) -> Any:
    """A plain boto3 client straight to the moto server (no proxy): set-up and checks."""
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table(server_client: Any) -> Iterator[str]:
    """A uniquely named table with the VibeDigest key schema, created directly on the server."""
    name = create_digest_table(server_client, f"fi-{uuid.uuid4().hex[:12]}")
    yield name
    server_client.delete_table(TableName=name)


@pytest.fixture
def proxy(moto_server: EmbeddedEndpoint) -> Iterator[FaultProxy]:
    """A fresh fault proxy in front of the worker's moto server."""
    with FaultProxy(moto_server.url, delay_seconds=PROXY_DELAY, hold_seconds=10.0) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def client_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the package's records (retries are logged at INFO, failures at DEBUG)."""
    caplog.set_level(logging.DEBUG, logger="src.database")
    return caplog


def client_at(url: str, table: str, *, attempts: int, timeout: float = TIMEOUT) -> DynamoDBClient:
    """The client under test, at ``url``, with an explicit retry budget and timeouts."""
    settings = ClientSettings(max_attempts=attempts, connect_timeout=timeout, read_timeout=timeout)
    return DynamoDBClient.for_target(Target.local(url, settings=settings), table_name=table)


def sample_item(item_id: str) -> dict[str, Any]:
    """A digest item in DynamoDB's wire format using every attribute type."""
    return {
        "digest_date": {"S": DAY},
        "item_id": {"S": item_id},
        "title": {"S": "Vibe coding: agents refactor 40 files \u2013 caf\u00e9 \U0001f680"},
        "score": {"N": "0.87"},
        "rank": {"N": "3"},
        "published": {"BOOL": True},
        "note": {"NULL": True},
        "tags": {"SS": ["agents", "refactoring"]},
        "payload": {"B": b"\x00\x01binary\xff"},
        "links": {"L": [{"S": "https://example.com/a"}, {"N": "1"}]},
        "meta": {"M": {"source": {"S": "hackernews"}, "votes": {"N": "120"}}},
    }


def plain(attributes: dict[str, Any]) -> dict[str, Any]:
    """An attribute map as Python values (sets compare regardless of order)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in attributes.items()}


def key_of(item_id: str) -> dict[str, Any]:
    """The primary key of ``sample_item(item_id)``."""
    return {"digest_date": {"S": DAY}, "item_id": {"S": item_id}}


def retries_logged(caplog: pytest.LogCaptureFixture, operation: str) -> list[int]:
    """Retry counts of the "<operation> on <table> succeeded after N retries" INFO records."""
    pattern = re.compile(rf"^{operation} on \S+ succeeded after (\d+) retries$")
    return [
        int(match.group(1))
        for rec in caplog.records
        if rec.levelno == logging.INFO and (match := pattern.match(rec.getMessage()))
    ]


def attempts_logged(caplog: pytest.LogCaptureFixture, operation: str) -> list[int]:
    """Attempt counts of the "<operation> on <table> failed after N attempts" DEBUG records."""
    pattern = re.compile(rf"^{operation} on \S+ failed after (\d+) attempts?: ")
    return [
        int(match.group(1))
        for rec in caplog.records
        if rec.levelno == logging.DEBUG and (match := pattern.match(rec.getMessage()))
    ]


def timed(call: Callable[[], Any]) -> tuple[Any, DatabaseError | None, float]:
    """Run ``call``; return (result or None, package error or None, seconds taken)."""
    started = time.perf_counter()
    try:
        return call(), None, time.perf_counter() - started
    except DatabaseError as error:
        return None, error, time.perf_counter() - started


# -- transient faults: retried, survived, data intact ------------------------------------


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=lambda fault: fault.name)
def test_transient_fault_is_retried_and_data_is_intact(
    fault: Fault, proxy: FaultProxy, table: str, client_logs: pytest.LogCaptureFixture
) -> None:
    """k=2 faults on PutItem, then 1 on GetItem, 4 attempts: both succeed, retries logged, item intact.

    For SLOW_RESPONSE the proxy forwards the request and delays the answer past the
    read timeout, so the server applies the write each time while the client retries:
    PutItem is idempotent, so the item read back is still exactly the one written.
    """
    client = client_at(proxy.url, table, attempts=ATTEMPTS)
    client.validate_table()  # before injecting: the faults hit only the data calls
    item = sample_item(f"item-{fault.name.lower()}")
    k = 2
    proxy.inject(fault, times=k, operations={"PutItem"})
    proxy.inject(fault, times=1, operations={"GetItem"})

    _, put_error, put_seconds = timed(lambda: client.call("PutItem", TableName=table, Item=item))
    got, get_error, get_seconds = timed(
        lambda: client.call("GetItem", TableName=table, Key=key_of(item["item_id"]["S"]), ConsistentRead=True)
    )
    stored = (got or {}).get("Item")
    put_retries, get_retries = retries_logged(client_logs, "PutItem"), retries_logged(client_logs, "GetItem")
    survived = put_error is None and get_error is None
    record(
        "fault",
        fault=fault.name,
        scenario="transient",
        injected=proxy.faults_injected,
        outcome="survived" if survived else f"failed: {type(put_error or get_error).__name__}",
        retries=max(put_retries + get_retries, default=0),
        attempts=proxy.requests_seen,
        seconds=max(put_seconds, get_seconds),
        error="" if survived else type(put_error or get_error).__name__,
    )
    record("items", scenario="single PutItem/GetItem under each transient fault", written=1,
           read=int(stored is not None and plain(stored) == plain(item)))

    assert put_error is None and get_error is None, f"{put_error or get_error}"
    assert proxy.faults_injected == k + 1
    assert proxy.requests_by_operation["PutItem"] == k + 1
    assert proxy.requests_by_operation["GetItem"] == 2
    assert put_retries == [k] and get_retries == [1]
    assert stored is not None and plain(stored) == plain(item)


def test_slow_answer_within_read_timeout_is_not_retried(
    moto_server: EmbeddedEndpoint, table: str, client_logs: pytest.LogCaptureFixture
) -> None:
    """A slow answer that still arrives within the read timeout is simply waited for: no retry."""
    with FaultProxy(moto_server.url, delay_seconds=0.3) as slow_proxy:
        client = client_at(slow_proxy.url, table, attempts=ATTEMPTS, timeout=5.0)
        client.validate_table()
        item = sample_item("slow-but-in-time")
        slow_proxy.inject(Fault.SLOW_RESPONSE, times=1, operations={"PutItem"})

        started = time.perf_counter()
        response = client.call("PutItem", TableName=table, Item=item)
        elapsed = time.perf_counter() - started
        stored = client.call("GetItem", TableName=table, Key=key_of("slow-but-in-time"), ConsistentRead=True)

        assert elapsed >= 0.3  # the delay really happened
        assert response["ResponseMetadata"]["RetryAttempts"] == 0
        assert slow_proxy.requests_by_operation["PutItem"] == 1
        assert retries_logged(client_logs, "PutItem") == []
        assert plain(stored["Item"]) == plain(item)


def test_put_many_under_intermittent_faults_writes_every_item_once(
    proxy: FaultProxy, table: str, client_logs: pytest.LogCaptureFixture
) -> None:
    """DigestStore.put_many of 300 items while every 3rd BatchWriteItem request gets a fault.

    The faults rotate through throttling, provisioned throughput, HTTP 503 and a
    dropped connection (whole-request faults, retried by botocore inside one
    ``client.call``). Every item must be read back exactly as written, and the
    client must have logged one retry per injected fault.
    """
    client = client_at(proxy.url, table, attempts=ATTEMPTS, timeout=10.0)  # no timeout faults here; moto's Query is slow
    store = DigestStore(client)
    day = date(2026, 11, 26)
    start = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
    items = [
        DigestItem(
            digest_date=day,
            item_id=f"{n:04d}-item",
            title=f"Item {n}: vibe coding note \u2013 {'x' * (n % 50)}",
            url=f"https://example.com/{n}",
            source=("hackernews", "blog", "reddit")[n % 3],
            summary="s" * (n % 200),
            score=round(1 - n / 1000, 3),
            tags=("agents", f"t{n % 7}"),
            created_at=start + timedelta(seconds=n),
            extra={"rank": n, "flags": {"pinned": n % 10 == 0}},
        )
        for n in range(300)
    ]
    client.validate_table()
    rotation = [Fault.THROTTLING, Fault.PROVISIONED_THROUGHPUT, Fault.HTTP_503, Fault.DROP_CONNECTION]
    sends = {"count": 0}

    def fault_every_third_send(**_: Any) -> None:
        sends["count"] += 1
        if sends["count"] % 3 == 0:
            proxy.inject(rotation[(sends["count"] // 3 - 1) % len(rotation)], operations={"BatchWriteItem"})

    client.client.meta.events.register("before-send.dynamodb.BatchWriteItem", fault_every_third_send)

    written, error, seconds = timed(lambda: store.put_many(items))
    read_back = store.day(day)
    retries = retries_logged(client_logs, "BatchWriteItem")
    record(
        "fault",
        fault="INTERMITTENT (put_many, 4 kinds)",
        scenario="transient",
        injected=proxy.faults_injected,
        outcome="survived" if error is None else f"failed: {type(error).__name__}",
        retries=max(retries, default=0),
        attempts=proxy.requests_by_operation.get("BatchWriteItem", 0),
        seconds=seconds,
        error="" if error is None else type(error).__name__,
    )
    record("items", scenario="DigestStore.put_many under intermittent faults", written=len(items),
           read=sum(1 for item in read_back if item in items))

    assert error is None, str(error)
    assert written == len(items)
    assert proxy.faults_injected >= 4  # 12 batches + retries: at least one of each kind
    assert sum(retries) == proxy.faults_injected
    assert sorted(read_back, key=lambda item: item.item_id) == items


def test_conditional_put_retried_after_a_lost_answer_reports_its_own_write(
    proxy: FaultProxy, table: str, client_logs: pytest.LogCaptureFixture
) -> None:
    """A conditional put whose answer is lost is retried, and the retry fails on the first write.

    This is DynamoDB's (and any store's) at-least-once hazard, shown here: the first
    PutItem is applied, its answer arrives after the read timeout, botocore resends,
    and ``attribute_not_exists`` now fails. ``DigestStore.put(only_if_absent=True)``
    raises ``ItemExistsError``; its message says the call was retried and the stored
    item may be this one, which it is.
    """
    client = client_at(proxy.url, table, attempts=ATTEMPTS)
    store = DigestStore(client)
    item = DigestItem(digest_date=DAY, item_id="only-once", title="written once")
    client.validate_table()
    proxy.inject(Fault.SLOW_RESPONSE, times=1, operations={"PutItem"})

    with pytest.raises(ItemExistsError, match="retried after a lost answer, so the stored item may be this one"):
        store.put(item, only_if_absent=True)

    assert proxy.requests_by_operation["PutItem"] == 2
    assert store.get(DAY, "only-once") == item


# -- persistent faults: a clear typed error, in bounded time --------------------------------


def _check_persistent(
    name: str,
    error: DatabaseError | None,
    seconds: float,
    attempts_seen: int,
    caplog: pytest.LogCaptureFixture,
    operation: str,
    logged_attempts: list[int] | None = None,
) -> None:
    """Record, then assert: the right class, a message naming cause and remedy, bounded time, attempts."""
    expected_class, texts = PERSISTENT_EXPECTATIONS[name]
    clear = type(error) is expected_class and all(text in str(error) for text in texts)
    record(
        "fault",
        fault=name,
        scenario="persistent",
        injected=attempts_seen,
        outcome="clear error" if clear else f"unexpected: {type(error).__name__}: {error}",
        retries=max(attempts_seen - 1, 0),
        attempts=attempts_seen,
        seconds=seconds,
        error=type(error).__name__ if error else "",
    )
    assert type(error) is expected_class, f"{type(error).__name__}: {error}"
    for text in texts:
        assert text in str(error)
    assert "\n" not in str(error)  # one line, for the CLI's "error: ..." output
    if not name.endswith("_200"):  # a 200 answer raises no boto exception to chain
        assert error.__cause__ is not None  # the boto exception stays in the chain
    assert seconds < ERROR_BOUND
    expected_log = [PERSISTENT_ATTEMPTS] if logged_attempts is None else logged_attempts
    assert attempts_logged(caplog, operation) == expected_log


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=lambda fault: fault.name)
def test_persistent_fault_ends_in_clear_error_after_the_retry_budget(
    fault: Fault, proxy: FaultProxy, table: str, server_client: Any, client_logs: pytest.LogCaptureFixture
) -> None:
    """Every PutItem attempt faulted: typed error, exactly ``max_attempts`` requests, bounded time.

    Data: the error faults, the dropped connection and the unanswered request are
    never forwarded, so nothing is written. SLOW_RESPONSE is forwarded and answered
    too late: the item IS written although the call failed, so a timeout is not
    proof that nothing happened.
    """
    client = client_at(proxy.url, table, attempts=PERSISTENT_ATTEMPTS)
    client.validate_table()
    item = sample_item(f"never-{fault.name.lower()}")
    proxy.inject(fault, times=None, operations={"PutItem"})

    _, error, seconds = timed(lambda: client.call("PutItem", TableName=table, Item=item))
    seen = proxy.requests_by_operation.get("PutItem", 0)

    _check_persistent(fault.name, error, seconds, seen, client_logs, "PutItem")
    assert seen == PERSISTENT_ATTEMPTS
    stored = server_client.get_item(TableName=table, Key=key_of(item["item_id"]["S"]), ConsistentRead=True)
    if fault is Fault.SLOW_RESPONSE:
        assert plain(stored["Item"]) == plain(item)
    else:
        assert "Item" not in stored


def test_refused_connection_ends_in_clear_error_fast(client_logs: pytest.LogCaptureFixture) -> None:
    """Nothing listens on the port: EndpointUnreachableError after the retry budget, in well under the bound."""
    client = client_at(refused_endpoint(), "VibeDigest-dev", attempts=PERSISTENT_ATTEMPTS)

    _, error, seconds = timed(client.test_connection)

    _check_persistent("REFUSED_CONNECTION", error, seconds, PERSISTENT_ATTEMPTS, client_logs, "DescribeTable")


def test_silent_endpoint_ends_in_clear_error_after_the_timeouts(client_logs: pytest.LogCaptureFixture) -> None:
    """A listener that accepts and never answers: each attempt waits out the read timeout, then a clear error."""
    with SilentEndpoint() as endpoint:
        client = client_at(endpoint.url, "VibeDigest-dev", attempts=PERSISTENT_ATTEMPTS)

        _, error, seconds = timed(client.test_connection)

        _check_persistent(
            "SILENT_ENDPOINT", error, seconds, endpoint.connections_accepted, client_logs, "DescribeTable"
        )
        assert endpoint.connections_accepted == PERSISTENT_ATTEMPTS
        assert seconds >= PERSISTENT_ATTEMPTS * TIMEOUT  # the configured timeout, waited out each time


DEFAULTS_BOUND = 15.0
"""Issue 10: with the default settings a silent endpoint gives the package's error within 15 s."""


@pytest.mark.long  # waits out the default timeouts (about 9 s)
def test_silent_endpoint_with_the_default_settings_fails_within_15_seconds(
    client_logs: pytest.LogCaptureFixture,
) -> None:
    """No settings given: 3 s read timeout x standard mode's 3 attempts + botocore's backoff (< 3 s)."""
    with SilentEndpoint() as endpoint:
        client = DynamoDBClient("dev", endpoint_url=endpoint.url)
        _, error, seconds = timed(client.test_connection)
        accepted = endpoint.connections_accepted
    record(
        "fault",
        fault="SILENT_ENDPOINT (default settings)",
        scenario="persistent",
        injected=accepted,
        outcome="clear error" if type(error) is EndpointUnreachableError else f"unexpected: {error!r}",
        retries=max(accepted - 1, 0),
        attempts=accepted,
        seconds=seconds,
        error=type(error).__name__ if error else "",
    )
    assert type(error) is EndpointUnreachableError, repr(error)
    assert accepted == DEFAULT_MAX_ATTEMPTS
    assert DEFAULT_MAX_ATTEMPTS * DEFAULT_READ_TIMEOUT <= seconds < DEFAULTS_BOUND


TRICKLE_INTERVAL = 0.2
"""A byte every 0.2 s: well within the tests' 0.5 s read timeout, so no single read ever times out."""


@pytest.mark.parametrize("part", ["body", "status"])
def test_trickling_answer_ends_in_the_silent_endpoints_error_after_the_read_timeouts(
    part: str, client_logs: pytest.LogCaptureFixture
) -> None:
    """A byte every 0.2 s (a 1 MB body, or the status line): each attempt is given up at its read timeout.

    botocore's read timeout alone restarts at every byte: the call would go on for days.
    """
    with TricklingEndpoint(part, interval=TRICKLE_INTERVAL) as endpoint:
        client = client_at(endpoint.url, "VibeDigest-dev", attempts=PERSISTENT_ATTEMPTS)

        _, error, seconds = timed(client.test_connection)
        requests = endpoint.requests

    _check_persistent(f"TRICKLING_{part.upper()}", error, seconds, requests, client_logs, "DescribeTable")
    assert requests == PERSISTENT_ATTEMPTS
    assert PERSISTENT_ATTEMPTS * TIMEOUT <= seconds < PERSISTENT_ATTEMPTS * (TIMEOUT + TIMEOUT) + 1


@pytest.mark.long  # waits out the default timeouts (about 9 s)
def test_trickling_endpoint_with_the_default_settings_fails_within_15_seconds(
    client_logs: pytest.LogCaptureFixture,
) -> None:
    """Issue 20: ``200 OK``, a large Content-Length, then a byte every 2 s; no settings given.

    Bound: attempts x (connect + read timeout) + botocore's backoff (25 ms base for a
    timeout), here about 3 x 3 s: the connection itself is made at once.
    """
    with TricklingEndpoint("body", interval=2.0) as endpoint:
        client = DynamoDBClient("dev", endpoint_url=endpoint.url)
        _, error, seconds = timed(client.test_connection)
        requests = endpoint.requests
    record(
        "fault",
        fault="TRICKLING_BODY (default settings)",
        scenario="persistent",
        injected=requests,
        outcome="clear error" if type(error) is EndpointUnreachableError else f"unexpected: {error!r}",
        retries=max(requests - 1, 0),
        attempts=requests,
        seconds=seconds,
        error=type(error).__name__ if error else "",
    )
    assert type(error) is EndpointUnreachableError, repr(error)
    assert "timed out" in str(error)
    assert requests == DEFAULT_MAX_ATTEMPTS
    assert DEFAULT_MAX_ATTEMPTS * DEFAULT_READ_TIMEOUT <= seconds < DEFAULTS_BOUND
    assert seconds < DEFAULT_MAX_ATTEMPTS * (DEFAULT_CONNECT_TIMEOUT + DEFAULT_READ_TIMEOUT) + 1


def test_every_client_the_package_builds_or_is_given_gets_the_answer_limit() -> None:
    """The limit relies on two private botocore names (``answer_limit``): fail here if a release renames them."""
    built = Target.local("http://127.0.0.1:1").client("dynamodb")
    given = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:1", region_name="us-east-1")
    DynamoDBClient(table_name="VibeDigest-dev", client=given)

    for client in (built, given):
        pools = client._endpoint.http_session._pool_classes_by_scheme  # noqa: SLF001 - what answer_limit changes
        assert {scheme: pool.__name__ for scheme, pool in pools.items()} == {
            "http": "LimitedAWSHTTPConnectionPool", "https": "LimitedAWSHTTPSConnectionPool"}
        assert limit_answers(client)  # idempotent: the same classes again
        assert client._endpoint.http_session._pool_classes_by_scheme["http"] is pools["http"]
    assert limit_answers(object()) is False  # a test double is left alone


def test_the_answer_limit_follows_the_clients_timeouts_and_the_deadline() -> None:
    """A socket read through the limit: its own timeout capped by the time left, restored after; none left: at once."""
    limits = AnswerLimits()
    assert limits.budget(None) is None  # a client built without timeouts gets no limit
    assert limits.budget(3) == 3
    limits.remaining = lambda: 1.5
    assert limits.budget(3) == 1.5 and limits.budget(None) == 1.5
    ours, peer = socket.socketpair()
    with ours, peer:
        ours.settimeout(5.0)
        reader = _LimitedReader(ours, time.monotonic() + 0.3)
        assert reader.fileno() == ours.fileno()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            reader.readinto(bytearray(10))  # the peer says nothing: given up at 0.3 s, not 5 s
        assert 0.25 < time.monotonic() - started < 2
        assert ours.gettimeout() == 5.0
        late = _LimitedReader(ours, time.monotonic() - 1)
        with pytest.raises(TimeoutError, match="did not arrive in full"):
            late.readinto(bytearray(10))
        late.close()
        late.close()


def test_a_client_built_without_timeouts_reads_answers_without_a_limit(moto_server: EmbeddedEndpoint) -> None:
    client = boto3.client(
        "dynamodb", endpoint_url=moto_server.url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(connect_timeout=None, read_timeout=None),
    )
    DynamoDBClient(table_name="VibeDigest-dev", client=client)  # prepares it: the limit is installed
    assert "TableNames" in client.list_tables()


class _WebPage(BaseHTTPRequestHandler):
    """Some web server that is not DynamoDB: every request gets a small HTML page."""

    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        """Read the request, answer with the page and ``status``."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet."""


@pytest.mark.parametrize("status", [200, 404])
def test_endpoint_that_is_not_dynamodb_ends_in_clear_error(
    status: int, client_logs: pytest.LogCaptureFixture
) -> None:
    """An endpoint URL pointing at another web server: a ServiceError saying to check the URL, no KeyError.

    Neither answer is retried (200 is a success to botocore; 404 is not transient),
    so the server sees exactly one request.
    """
    requests: list[int] = []
    with stub_server(type("Page", (_WebPage,), {"status": status})) as url:
        client = client_at(url, "VibeDigest-dev", attempts=PERSISTENT_ATTEMPTS)
        client.client.meta.events.register("before-send", lambda **_: requests.append(1))

        _, error, seconds = timed(client.test_connection)

    _check_persistent(f"NOT_DYNAMODB_{status}", error, seconds, len(requests), client_logs, "DescribeTable",
                      logged_attempts=[] if status == 200 else [1])
    assert len(requests) == 1


# -- the retry budget and timeouts come from ClientSettings / the environment ------------------


@pytest.mark.parametrize("attempts", [1, 2, 5])
def test_retry_budget_comes_from_aws_max_attempts(
    attempts: int, proxy: FaultProxy, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_MAX_ATTEMPTS=N: a persistent HTTP 500 reaches the endpoint exactly N times."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(attempts))
    client = DynamoDBClient.for_target(Target.local(proxy.url), table_name=table)  # settings from env
    client.validate_table()
    proxy.inject(Fault.HTTP_500, times=None, operations={"PutItem"})

    with pytest.raises(ServiceError):
        client.call("PutItem", TableName=table, Item=sample_item("budget"))

    assert proxy.requests_by_operation["PutItem"] == attempts


@pytest.mark.parametrize("read_timeout", [0.3, 0.8])
def test_read_timeout_comes_from_vibedigest_read_timeout(
    read_timeout: float, proxy: FaultProxy, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VIBEDIGEST_READ_TIMEOUT=T with AWS_MAX_ATTEMPTS=2: an unanswered call fails after about 2 x T."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("VIBEDIGEST_READ_TIMEOUT", str(read_timeout))
    client = DynamoDBClient.for_target(Target.local(proxy.url), table_name=table)
    client.validate_table()
    proxy.inject(Fault.NO_RESPONSE, times=None, operations={"PutItem"})

    _, error, seconds = timed(lambda: client.call("PutItem", TableName=table, Item=sample_item("timeout")))

    assert isinstance(error, EndpointUnreachableError)
    assert proxy.requests_by_operation["PutItem"] == 2
    assert 2 * read_timeout <= seconds < 2 * read_timeout + ERROR_BOUND
