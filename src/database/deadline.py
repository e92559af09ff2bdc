"""One deadline for a whole command: its waits and every AWS call it makes.

``Deadline(seconds)`` starts when it is made. ``check(what)`` raises
``DeadlineExceededError`` once it has passed; the deployer's polling loops call it.
``bind(client)`` makes a botocore client's calls end by the deadline too, with two of
botocore's own event handlers and a limit on the attempt in flight (no second retry
loop, no thread):

- ``before-send``: an attempt that would start after the deadline raises instead of
  being sent. botocore returns an exception it does not know from the attempt and
  its retry handler does not retry it, so the call ends there.
- ``needs-retry``: an attempt that failed in a way botocore retries (a read timeout, a
  dropped connection, a 5xx, throttling) is not retried when botocore's longest backoff
  before the next attempt would end after the deadline: the call ends there, so the
  backoff sleep never carries a command past its deadline.
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
from .errors import THROTTLING_CODES, DeadlineExceededError
from .redaction import redact_exception

Clock = Callable[[], float]

_MAX_BACKOFF = 20.0


def _longest_backoff(attempts: int, throttled: bool, mode: str | None) -> float:
    """The longest sleep botocore may take before attempt ``attempts + 1``.

    Its standard and adaptive modes: up to 2^(n-1) x 1 s after throttling, x 50 ms (25 ms
    for DynamoDB) after other errors; legacy mode: x 1 s after any; at most 20 s
    (botocore/retries/standard.py ``ExponentialBackoff``, botocore/retryhandler.py).
    """
    base = 1.0 if throttled or mode not in ("standard", "adaptive") else 0.05
    return min(base * 2.0 ** (max(attempts, 1) - 1), _MAX_BACKOFF)


def _failure_of(response: Any) -> tuple[int, str]:
    """HTTP status and AWS error code of a needs-retry ``response`` ((http response, parsed) or None)."""
    if not isinstance(response, tuple) or len(response) != 2:
        return 0, ""
    http, parsed = response
    error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
    return int(getattr(http, "status_code", 0) or 0), str(error.get("Code") or "")


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

        mode = (getattr(client.meta.config, "retries", None) or {}).get("mode")

        def needs_retry(
            caught_exception: Exception | None = None, response: Any = None, operation: Any = None, attempts: int = 1,
            **_: Any,
        ) -> None:
            if isinstance(caught_exception, DeadlineExceededError):
                return
            name = getattr(operation, "name", None)
            if caught_exception is not None:
                if self.remaining() >= _longest_backoff(attempts, throttled=False, mode=mode):
                    return
                redact_exception(caught_exception)  # chained below: it may hold the signed request
                raise DeadlineExceededError(
                    f"Gave up after {self.seconds:g} s: {name} to {where} had no answer in time ({caught_exception}).",
                    operation=name,
                ) from caught_exception
            status, code = _failure_of(response)
            throttled = code in THROTTLING_CODES or status == 429
            if not (throttled or status >= 500) or self.remaining() >= _longest_backoff(attempts, throttled, mode):
                return
            raise DeadlineExceededError(
                f"Gave up after {self.seconds:g} s: {name} to {where} was answered {code or 'an error'} "
                f"(HTTP {status}) with no time left to retry it.",
                operation=name,
                code=code or None,
            )

        tag = f"vibedigest-deadline-{id(self)}"
        events.register("before-send", before_send, unique_id=f"{tag}-send")
        events.register("needs-retry", needs_retry, unique_id=f"{tag}-retry")
        limit_answers(client, self.remaining)
        return client
