"""A total time limit on each HTTP answer a client reads; the one module using botocore's private names.

Why it is needed: botocore's read timeout is a socket timeout, which starts again at
every byte received. An endpoint that answers a byte every second or two (a trickled
status line, or ``200 OK`` with a large ``Content-Length`` and a trickled body) keeps one
attempt going for as long as it likes, and botocore has no public hook between sending
a request and reading its answer: its events fire before the request is sent and
after the whole answer has been read.

What it does: ``limit_answers(client)`` gives the client's HTTP session connection
classes of its own (subclasses of botocore's) that read each answer through a reader
allowing every ``recv`` only what is left of the attempt's budget. The answer (status
line, headers and body) must arrive in full within ``read_timeout`` of the request
being sent, and before the command's deadline when one is bound (``Deadline.bind``),
which also caps the connect timeout. A late answer raises ``TimeoutError``, which
urllib3 and botocore turn into botocore's ``ReadTimeoutError``: retried, then reported,
as a silent endpoint's is. One attempt thus lasts at most ``connect_timeout +
read_timeout``.

Why not botocore's public ``before-send`` event, whose handler may return the answer
itself: that handler would have to be a whole HTTP sender, re-doing what botocore's
own honours (proxies and their TLS settings, ``verify`` and CA bundles, client
certificates, ``max_pool_connections``, TCP keep-alive); this module keeps botocore's
sender and bounds only its reading.

Private names used, here only: ``BaseClient._endpoint`` (the client's endpoint, whose
``http_session`` is botocore's ``URLLib3Session``) and that session's
``_pool_classes_by_scheme``, the map botocore makes for each session and hands to its
urllib3 pool managers (proxy managers included) to build connection pools from. It is
changed in place for one client, never for the process. tests/test_fault_injection.py
checks that a real client gets the limit, so a botocore release that renames them fails
a test rather than silently dropping the limit.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from typing import Any

Remaining = Callable[[], float]

_MIN_TIMEOUT = 0.001
"""A socket timeout of 0 would make the socket non-blocking: the smallest budget given instead."""


class AnswerLimits:
    """One client's limits: the time left before the command's deadline, if one is bound."""

    def __init__(self) -> None:
        self.remaining: Remaining | None = None

    def budget(self, timeout: object) -> float | None:
        """Seconds allowed from now: ``timeout`` (a number, else none) capped by the deadline's time left."""
        values = [float(timeout)] if isinstance(timeout, (int, float)) else []
        if self.remaining is not None:
            values.append(self.remaining())
        return min(values) if values else None


class _LimitedReader(io.RawIOBase):
    """A socket's reading side that gives up once ``until`` (``time.monotonic``) has passed."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        super().__init__()
        self._sock = sock
        self._until = until
        self._raw = sock.makefile("rb", buffering=0)  # holds a reference, as http.client's own file does

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, buffer: Any) -> int | None:
        left = self._until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in full within the time allowed")
        timeout = self._sock.gettimeout()
        self._sock.settimeout(max(left if timeout is None else min(timeout, left), _MIN_TIMEOUT))
        try:
            return self._raw.readinto(buffer)
        finally:
            self._sock.settimeout(timeout)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _LimitedSocket:
    """What http.client's response is built from: the socket, read through a ``_LimitedReader``."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        self._sock = sock
        self._until = until

    def makefile(self, mode: str = "rb", *_: Any, **__: Any) -> io.BufferedReader:
        return io.BufferedReader(_LimitedReader(self._sock, self._until))


class _LimitedConnection:
    """Mixin over botocore's connection classes: bounded connect and a bounded answer."""

    limits: AnswerLimits
    timeout: Any
    response_class: Any

    def connect(self) -> None:
        budget = self.limits.budget(self.timeout)
        if budget is not None:
            self.timeout = max(budget, _MIN_TIMEOUT)
        super().connect()  # type: ignore[misc]

    def getresponse(self) -> Any:
        budget = self.limits.budget(self.timeout)  # urllib3 has set the read timeout by now
        if budget is None:
            return super().getresponse()  # type: ignore[misc]
        until = time.monotonic() + budget
        build = self.response_class

        def limited(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
            return build(_LimitedSocket(sock, until), *args, **kwargs)

        self.response_class = limited
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            self.response_class = build


def limit_answers(client: Any, remaining: Remaining | None = None) -> bool:
    """Give ``client``'s answers a total time limit (idempotent); with ``remaining``, a deadline too.

    Returns False for a client without botocore's HTTP session (a test double).
    """
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    classes = getattr(session, "_pool_classes_by_scheme", None)
    if session is None or not isinstance(classes, dict) or not classes:
        return False
    limits = getattr(classes.get("http"), "limits", None)
    if not isinstance(limits, AnswerLimits):
        limits = AnswerLimits()
        for scheme, pool in list(classes.items()):
            connection = type(f"Limited{pool.ConnectionCls.__name__}", (_LimitedConnection, pool.ConnectionCls),
                              {"limits": limits})
            classes[scheme] = type(f"Limited{pool.__name__}", (pool,), {"ConnectionCls": connection, "limits": limits})
        session.close()  # pools an injected client already made are made again, from these classes
    if remaining is not None:
        limits.remaining = remaining
    return True
