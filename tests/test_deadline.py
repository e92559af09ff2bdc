"""``--timeout`` bounds the whole command, every AWS call included (issue 8 §2), over real HTTP.

A ``Deadline`` bound to a client stops an attempt that would start after it (nothing
is sent) and a retry after a network failure past it; the deployer's waits and calls
share the deadline it is given instead of starting their own per operation.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from src.database.aws.deadline import Deadline
from src.database.aws.target import Target
from src.database.cli.parser import main
from src.database.deploy.deployer import StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import load_template
from src.database.errors import DeadlineExceededError
from src.database.settings import ClientSettings
from tests.support.fault_proxy import (
    Fault,
    FaultProxy,
    SilentEndpoint,
    TricklingEndpoint,
)

pytestmark = [
    pytest.mark.usefixtures("restore_logging"),  # cli.main reconfigures logging; tests/conftest.py
    pytest.mark.waiting,  # waits on timeouts: spread through the run (tests/conftest.py)
]

STACK, TABLE = "vibedigest-dev", "VibeDigest-dev"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _deployer(target: Target, timeout: Any, clock: Clock) -> StackDeployer:
    session = target.session()
    return StackDeployer(
        target.client("cloudformation", session), target.client("dynamodb", session),
        report=lambda _: None, timeout=timeout, clock=clock,
    )


@pytest.mark.parametrize("command", [["deploy"], ["status"]])
def test_a_silent_endpoint_ends_the_command_at_the_timeout_plus_one_read_timeout(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the deadline the first call alone would wait out all its attempts (5 x 1 s here)."""
    monkeypatch.setenv("VIBEDIGEST_READ_TIMEOUT", "1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    read_timeout = ClientSettings.from_env().read_timeout
    load_template()  # lint now, cached for the command: the 2 s are the silent endpoint's, not a cold first lint's
    with SilentEndpoint() as silent:
        started = time.monotonic()
        code = main([*command, "--timeout", "2", "--endpoint-url", silent.url])
        elapsed = time.monotonic() - started
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: Gave up after 2 s: "), lines
    assert "had no answer in time" in lines[0] and lines[0].endswith("Or raise --timeout.")
    assert read_timeout == 1
    assert 2 <= elapsed < 2 + read_timeout + 1, elapsed


@pytest.mark.long  # waits out the 5 s timeout
@pytest.mark.parametrize("part", ["body", "status"])
def test_a_trickling_endpoint_ends_deploy_timeout_5_within_7_seconds(
    part: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20: a byte every 2 s (a large body, or the status line) with the default settings.

    Each read gets a byte in time, so botocore's read timeout alone never fires; the
    attempt in flight is given up at the deadline, with the silent endpoint's error.
    """
    load_template()  # lint now, cached for the command, as above
    with TricklingEndpoint(part, interval=2.0) as trickling:
        started = time.monotonic()
        code = main(["deploy", "--timeout", "5", "--endpoint-url", trickling.url])
        elapsed = time.monotonic() - started
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: Gave up after 5 s: "), lines
    assert "had no answer in time" in lines[0] and lines[0].endswith("Or raise --timeout.")
    assert 5 <= elapsed < 7, elapsed  # issue 20: within --timeout plus at most 1 s (5.0 s measured)


def test_a_call_after_the_deadline_is_never_sent(local_target: Target) -> None:
    clock = Clock()
    deadline = Deadline(10, clock=clock)
    with FaultProxy(str(local_target.endpoint_url)) as proxy:
        client = deadline.bind(Target.local(proxy.url).client("dynamodb"))
        client.list_tables()
        clock.now = 10.5
        with pytest.raises(DeadlineExceededError, match=r"Gave up after 10 s: the time ran out before ListTables") as caught:
            client.list_tables()
        assert proxy.requests_seen == 1
    assert caught.value.operation == "ListTables"


@pytest.mark.parametrize("fault", [Fault.THROTTLING, Fault.HTTP_503, Fault.DROP_CONNECTION], ids=lambda f: f.name)
def test_no_retry_starts_whose_backoff_could_end_after_the_deadline(fault: Fault, local_target: Target) -> None:
    """botocore sleeps before a retry (up to 1 s after a first throttling, 50 ms after other errors); with less
    time left than that, the call ends at once rather than after the deadline. With time left, botocore retries."""
    clock = Clock()
    deadline = Deadline(10, clock=clock)
    with FaultProxy(str(local_target.endpoint_url)) as proxy:
        client = deadline.bind(Target.local(proxy.url, settings=ClientSettings(max_attempts=2)).client("dynamodb"))
        proxy.inject(fault, times=None, operations={"ListTables"})
        clock.now = 10 - (0.5 if fault is Fault.THROTTLING else 0.01)
        with pytest.raises(DeadlineExceededError, match=r"Gave up after 10 s: ListTables to ") as caught:
            client.list_tables()
        assert proxy.requests_by_operation["ListTables"] == 1
        clock.now = 0
        with pytest.raises(BotoCoreError if fault is Fault.DROP_CONNECTION else ClientError):
            client.list_tables()
        assert proxy.requests_by_operation["ListTables"] == 3  # retried: botocore's own 2 attempts
    if fault is Fault.DROP_CONNECTION:
        assert "had no answer in time" in str(caught.value)
    else:
        assert "with no time left to retry it" in str(caught.value) and caught.value.code


def test_an_error_botocore_does_not_retry_is_left_to_it_near_the_deadline(local_target: Target) -> None:
    clock = Clock()
    client = Deadline(10, clock=clock).bind(local_target.client("dynamodb"))
    clock.now = 9.99
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.describe_table(TableName="VibeDigest-nowhere")


def test_the_deployer_shares_a_given_deadline_across_operations(local_target: Target) -> None:
    """With seconds, each operation has its own budget; with a Deadline, the second operation
    has only what the first left (here nothing: it is refused before any call is sent)."""
    template = load_template()
    clock = Clock()
    per_operation = _deployer(local_target, 10.0, clock)
    per_operation.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags={})
        )
    clock.now = 11
    per_operation.delete(STACK)  # a fresh 10 s
    assert per_operation.stack_status(STACK) is None

    clock.now = 0
    shared = _deployer(local_target, Deadline(10, clock=clock), clock)
    shared.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags={})
        )
    clock.now = 11
    with pytest.raises(DeadlineExceededError, match="Gave up after 10 s"):
        shared.delete(STACK)
    assert per_operation.stack_status(STACK) == "UPDATE_COMPLETE"  # it adopted the retained table; not deleted
