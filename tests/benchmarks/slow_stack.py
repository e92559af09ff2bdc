"""A proxy in front of the moto server that makes a stack take a realistic time to create.

moto completes a stack synchronously: its first ``DescribeStacks`` after
``ExecuteChangeSet`` already says ``CREATE_COMPLETE``, so no deploy tool ever waits
on it. ``SlowStackProxy`` is the ``FaultProxy`` of the tests (every request is
forwarded and counted) with one change to the answers: from the first
``ExecuteChangeSet`` it forwards until ``stack_seconds`` later, every
``DescribeStacks`` answer says ``CREATE_IN_PROGRESS`` where moto says
``CREATE_COMPLETE``. Both deploy tools then see the same stack, one that completes
``stack_seconds`` after its execution starts, as a DynamoDB table stack does on AWS
(typically 10-30 s).

Only the stack's status is held back: moto's ``DescribeStackEvents``,
``DescribeChangeSet`` and ``DescribeTable`` answers are forwarded unchanged (the
change set is ready and the table ``ACTIVE`` at once, as the table usually is by the
time its stack completes on AWS).
"""

from __future__ import annotations

import threading
import time
from typing import Callable
from urllib.parse import parse_qs

from tests.support.fault_proxy import FaultProxy

COMPLETE = b"<StackStatus>CREATE_COMPLETE</StackStatus>"
IN_PROGRESS = b"<StackStatus>CREATE_IN_PROGRESS</StackStatus>"


def query_action(body: bytes) -> str | None:
    """The ``Action`` of a query-protocol request body (CloudFormation), or None."""
    if not body:
        return None
    actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else None


class SlowStackProxy(FaultProxy):
    """Forwards to ``upstream_url``; the stack reads ``CREATE_IN_PROGRESS`` for ``stack_seconds`` after execution.

    ``clock`` (default ``time.monotonic``) is injectable so tests need not wait.
    Call ``rearm()`` before each deployment (after the server's state was reset).
    """

    def __init__(
        self, upstream_url: str, stack_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(upstream_url)
        if stack_seconds < 0:
            raise ValueError(f"stack_seconds must be zero or more, got {stack_seconds}")
        self.stack_seconds = stack_seconds
        self._clock = clock
        self._state_lock = threading.Lock()
        self._executed_at: float | None = None
        self._held_back = 0

    def rearm(self) -> None:
        """Forget the last execution: the next ``ExecuteChangeSet`` starts a new slow stack."""
        with self._state_lock:
            self._executed_at = None
            self._held_back = 0

    @property
    def executed_at(self) -> float | None:
        """``clock()`` when the first ``ExecuteChangeSet`` since ``rearm`` was answered, or None."""
        with self._state_lock:
            return self._executed_at

    @property
    def completes_at(self) -> float | None:
        """``clock()`` from which the stack reads ``CREATE_COMPLETE``, or None before execution."""
        executed = self.executed_at
        return None if executed is None else executed + self.stack_seconds

    @property
    def held_back(self) -> int:
        """How many ``DescribeStacks`` answers said ``CREATE_IN_PROGRESS`` instead of ``CREATE_COMPLETE``."""
        with self._state_lock:
            return self._held_back

    def _call_upstream(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Forward as ``FaultProxy`` does; note the execution and hold back the stack's completion."""
        status, reason, response_headers, payload = super()._call_upstream(method, path, headers, body)
        action = query_action(body) if method == "POST" else None
        if status != 200 or action not in ("ExecuteChangeSet", "DescribeStacks"):
            return status, reason, response_headers, payload
        with self._state_lock:
            now = self._clock()
            if action == "ExecuteChangeSet":
                if self._executed_at is None:
                    self._executed_at = now
            elif self._executed_at is not None and now < self._executed_at + self.stack_seconds and COMPLETE in payload:
                payload = payload.replace(COMPLETE, IN_PROGRESS)  # the proxy resends Content-Length itself
                self._held_back += 1
        return status, reason, response_headers, payload
