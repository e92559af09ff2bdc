"""One deadline for a whole command: its waits and every AWS call it makes.

``Deadline(seconds)`` starts when it is made. ``check(what)`` raises
``DeadlineExceededError`` once it has passed; the deployer's polling loops call it.
``bind(client)`` makes a botocore client's calls end by the deadline too, with two of
botocore's own event handlers and a limit on the attempt in flight (no second retry
loop, no thread):

- ``before-send``: an attempt that would start after the deadline raises instead of
  being sent. botocore returns an exception it does not know from the attempt and
  its retry handler does not retry it, so the call ends there.
- ``needs-retry``: an attempt that failed on the network (a read timeout, a dropped
  connection) after the deadline is not retried, and botocore's backoff sleep is
  skipped.
- the attempt in flight: its connect timeout and the time allowed for its whole answer
  are capped by the time left (``answer_limit.limit_answers``), so an answer still
  arriving at the deadline, however slowly its bytes trickle in, is given up on then.

So ``--timeout 5`` against an endpoint that never answers, or answers a byte at a
time, ends after about 5 s, not after every retry of every call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from .answer_limit import limit_answers
from .aws_call import location
from .errors import DeadlineExceededError
from .redaction import redact_exception

Clock = Callable[[], float]


class Deadline:
    """A point in time after which the operation gives up (``seconds`` from now, on ``clock``)."""

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.started = clock()

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.remaining():.1f} s left)"

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.started + self.seconds - self._clock()

    def passed(self) -> bool:
        """True once the deadline is behind us."""
        return self.remaining() < 0

    def check(self, what: str, then: str = "") -> None:
        """Raise ``DeadlineExceededError`` ("Gave up after N s: ``what``. ``then``") once passed."""
        if self.passed():
            raise DeadlineExceededError(f"Gave up after {self.seconds:g} s: {what}.{' ' + then if then else ''}")

    def bind(self, client: BaseClient) -> BaseClient:
        """Make ``client``'s calls end by this deadline (idempotent); return the client.

        A test double without botocore's event system is returned unchanged.
        """
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is None:
            return client
        where = location(client)

        def before_send(event_name: str = "", **_: Any) -> None:
            if self.passed():
                operation = event_name.rsplit(".", 1)[-1]
                raise DeadlineExceededError(
                    f"Gave up after {self.seconds:g} s: the time ran out before {operation} was sent to {where}.",
                    operation=operation,
                )

        def needs_retry(caught_exception: Exception | None = None, operation: Any = None, **_: Any) -> None:
            if caught_exception is None or isinstance(caught_exception, DeadlineExceededError) or not self.passed():
                return
            name = getattr(operation, "name", None)
            redact_exception(caught_exception)  # chained below: it may hold the signed request
            raise DeadlineExceededError(
                f"Gave up after {self.seconds:g} s: {name} to {where} had no answer in time ({caught_exception}).",
                operation=name,
            ) from caught_exception

        tag = f"vibedigest-deadline-{id(self)}"
        events.register("before-send", before_send, unique_id=f"{tag}-send")
        events.register("needs-retry", needs_retry, unique_id=f"{tag}-retry")
        limit_answers(client, self.remaining)
        return client
