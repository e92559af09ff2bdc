"""Tests for the fault-injecting proxy in tests/support/fault_proxy.py.

Roles: a boto3 client (the code under test in real suites) talks to a
FaultProxy, which forwards to the worker's moto server (the upstream).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from tests.support.fault_proxy import (
    UNKNOWN_OPERATION,
    Fault,
    FaultProxy,
    SilentEndpoint,
    refused_endpoint,
)
from tests.support.worker_endpoint import UntracedEndpoint

pytestmark = pytest.mark.waiting  # waits on timeouts and back-off: spread through the run (tests/conftest.py)


@pytest.fixture(scope="module")
def moto_url(moto_server: UntracedEndpoint) -> str:
    """The worker's moto server (tests/conftest.py), warmed up.

    The proxy is what is tested here; the upstream is only its peer. Each test creates
    uniquely named tables, so nothing is reset.
    """
    url = moto_server.url
    # moto builds its DynamoDB backend on the first request; pay that here,
    # not inside a test that times a one-second read timeout.
    make_client(url).list_tables()
    return url


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    """A fresh proxy per test, so counters and fault queues are independent."""
    with FaultProxy(moto_url, delay_seconds=0.3, hold_seconds=10.0) as fault_proxy:
        yield fault_proxy


SHORT_READ = 1.0
"""Read timeout for the tests that wait for a request nobody answers."""


def make_client(
    endpoint_url: str,
    service: str = "dynamodb",
    *,
    total_attempts: int = 1,
    read_timeout: float = 10,
) -> Any:
    """A boto3 client with dummy credentials, a tight connect timeout and standard retries.

    The read timeout is generous by default: on a loaded two-core CI machine
    moto can take over a second to answer (a CreateTable did, once). Tests
    that wait for an unanswered request pass ``SHORT_READ``.

    Note: botocore's ``retries={"max_attempts": N}`` means N *retries*
    (N + 1 attempts in total); ``total_max_attempts`` counts the first
    attempt too, so ``total_attempts=1`` really disables retries.
    """
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": total_attempts},
            connect_timeout=1,
            read_timeout=read_timeout,
        ),
    )


def create_table(client: Any) -> str:
    """Create a uniquely named on-demand table and return its name."""
    name = f"fault-proxy-{uuid.uuid4().hex}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_pass_through_create_and_describe(proxy: FaultProxy) -> None:
    client = make_client(proxy.url)
    name = create_table(client)

    table = client.describe_table(TableName=name)["Table"]

    assert table["TableName"] == name
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert proxy.requests_seen == 2
    assert proxy.faults_injected == 0
    assert proxy.requests_by_operation == {"CreateTable": 1, "DescribeTable": 1}


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        (Fault.THROTTLING, "ThrottlingException", 400),
        (Fault.PROVISIONED_THROUGHPUT, "ProvisionedThroughputExceededException", 400),
        (Fault.HTTP_500, "InternalServerError", 500),
        (Fault.HTTP_503, "ServiceUnavailable", 503),
    ],
)
def test_error_faults_surface_as_client_errors(
    proxy: FaultProxy, fault: Fault, code: str, status: int
) -> None:
    client = make_client(proxy.url)
    name = create_table(client)
    proxy.inject(fault)

    with pytest.raises(ClientError) as excinfo:
        client.describe_table(TableName=name)

    error = excinfo.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    if fault is Fault.THROTTLING:
        assert error["Error"]["Message"] == "Rate exceeded"
    assert proxy.faults_injected == 1
    # times=1: the fault is consumed and the next call goes through.
    assert client.describe_table(TableName=name)["Table"]["TableName"] == name
    assert proxy.faults_injected == 1


def test_drop_connection_raises_http_client_error(proxy: FaultProxy) -> None:
    client = make_client(proxy.url)
    client.list_tables()  # warm a pooled keep-alive connection first
    proxy.inject(Fault.DROP_CONNECTION)

    with pytest.raises(HTTPClientError) as excinfo:
        client.list_tables()

    assert isinstance(excinfo.value, ConnectionClosedError)
    assert proxy.faults_injected == 1
    client.list_tables()  # the pool recovers with a new connection


def test_no_response_hits_read_timeout(proxy: FaultProxy) -> None:
    client = make_client(proxy.url, read_timeout=SHORT_READ)
    proxy.inject(Fault.NO_RESPONSE)

    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        client.list_tables()
    elapsed = time.monotonic() - started

    assert 0.9 <= elapsed < 3.0
    assert proxy.faults_injected == 1


def test_slow_response_succeeds_after_delay(proxy: FaultProxy) -> None:
    client = make_client(proxy.url)
    name = create_table(client)
    proxy.inject(Fault.SLOW_RESPONSE)

    started = time.monotonic()
    table = client.describe_table(TableName=name)["Table"]
    elapsed = time.monotonic() - started

    assert table["TableName"] == name
    assert elapsed >= 0.3
    assert proxy.faults_injected == 1


def test_operations_filter_only_affects_named_operation(proxy: FaultProxy) -> None:
    client = make_client(proxy.url)
    name = create_table(client)
    proxy.inject(Fault.THROTTLING, times=None, operations={"DescribeTable"})

    for _ in range(2):
        assert name in client.list_tables()["TableNames"]
        with pytest.raises(ClientError) as excinfo:
            client.describe_table(TableName=name)
        assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"

    assert proxy.faults_injected == 2
    assert proxy.pending_faults == 1
    proxy.clear()
    assert proxy.pending_faults == 0
    assert client.describe_table(TableName=name)["Table"]["TableName"] == name
    assert proxy.requests_by_operation == {"CreateTable": 1, "ListTables": 2, "DescribeTable": 3}


def test_standard_retries_absorb_transient_faults(proxy: FaultProxy) -> None:
    client = make_client(proxy.url, total_attempts=3)
    name = create_table(client)
    proxy.inject(Fault.HTTP_500, times=2, operations={"DescribeTable"})

    response = client.describe_table(TableName=name)

    assert response["Table"]["TableName"] == name
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert proxy.faults_injected == 2
    assert proxy.requests_by_operation["DescribeTable"] == 3


def test_standard_retries_absorb_throttling(proxy: FaultProxy) -> None:
    client = make_client(proxy.url, total_attempts=3)
    proxy.inject(Fault.THROTTLING, times=2)

    response = client.list_tables()

    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert proxy.faults_injected == 2
    assert proxy.requests_seen == 3


@pytest.mark.parametrize(
    "fault",
    [Fault.PROVISIONED_THROUGHPUT, Fault.HTTP_503, Fault.DROP_CONNECTION, Fault.NO_RESPONSE],
)
def test_standard_mode_retries_every_fault(proxy: FaultProxy, fault: Fault) -> None:
    client = make_client(proxy.url, total_attempts=2, read_timeout=SHORT_READ)
    proxy.inject(fault)

    response = client.list_tables()

    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert proxy.faults_injected == 1
    assert proxy.requests_seen == 2


def test_query_protocol_operation_filter_and_xml_errors(proxy: FaultProxy) -> None:
    client = make_client(proxy.url, "cloudformation")
    proxy.inject(Fault.THROTTLING, operations={"ListStacks"})

    client.describe_stacks()  # forwarded, not faulted
    with pytest.raises(ClientError) as excinfo:
        client.list_stacks()

    assert excinfo.value.response["Error"]["Code"] == "Throttling"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert proxy.faults_injected == 1
    assert proxy.requests_by_operation == {"DescribeStacks": 1, "ListStacks": 1}


def test_unknown_operation_is_counted_and_only_matched_by_unfiltered_rules(
    proxy: FaultProxy,
) -> None:
    proxy.inject(Fault.HTTP_503, operations={"DescribeTable"})
    with socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])), 2) as sock:
        sock.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        sock.settimeout(2)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk

    assert not data.startswith(b"HTTP/1.1 503")
    assert proxy.requests_by_operation == {UNKNOWN_OPERATION: 1}
    assert proxy.faults_injected == 0


def test_inject_validates_arguments(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError):
        proxy.inject(Fault.THROTTLING, times=0)
    with pytest.raises(TypeError):
        proxy.inject("throttling")  # type: ignore[arg-type]


def test_stop_is_fast_with_held_connection(moto_url: str) -> None:
    fault_proxy = FaultProxy(moto_url, hold_seconds=30.0).start()
    fault_proxy.inject(Fault.NO_RESPONSE)
    port = int(fault_proxy.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    handler_thread_name = f"fault-proxy-conn-{sock.getsockname()[1]}"
    try:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"
        )
        deadline = time.monotonic() + 2
        while fault_proxy.faults_injected == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fault_proxy.faults_injected == 1

        started = time.monotonic()
        fault_proxy.stop()
        assert time.monotonic() - started < 2.0
        assert sock.recv(1024) == b""  # closed without any response
    finally:
        sock.close()
    alive = [t.name for t in threading.enumerate() if t.name == handler_thread_name]
    assert alive == []


def test_refused_endpoint_fails_fast() -> None:
    client = make_client(refused_endpoint())

    started = time.monotonic()
    with pytest.raises(EndpointConnectionError):
        client.list_tables()

    assert time.monotonic() - started < 2.0


def test_silent_endpoint_times_out() -> None:
    with SilentEndpoint() as endpoint:
        client = make_client(endpoint.url, read_timeout=SHORT_READ)
        started = time.monotonic()
        with pytest.raises((ReadTimeoutError, ConnectTimeoutError)):
            client.list_tables()
        elapsed = time.monotonic() - started
        assert endpoint.connections_accepted == 1

    assert elapsed < 3.0
