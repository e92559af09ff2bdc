"""The test workers' moto server: the embedded endpoint, in the worker, serving outside coverage's tracer.

A module of its own: importing it imports moto, which the gate's ``--serve`` run
(``tests/support/run_gate.py``, through ``endpoints``) never needs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from src.database.emulator.endpoint import EmbeddedEndpoint

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _untraced(app: WSGIApplication) -> WSGIApplication:
    """``app``, run with this thread's tracer (coverage's, if any) switched off first."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sys.settrace(None)  # each request has a thread of its own, which ends with the request
        return app(environ, start_response)

    return application


class UntracedEndpoint(EmbeddedEndpoint):
    """The embedded endpoint, in this process, serving its requests outside coverage's tracer.

    A test worker's moto server: in-process, it costs no interpreter start-up (moto and
    the fidelity layer are imported already, where a ``serve`` process would import them
    again), and untraced its requests are not slowed by the tracer, which would mostly
    trace moto's own code. The fidelity layer's code is measured where tests run it traced
    (``tests/test_moto_fidelity.py``, the commands' own embedded endpoints).
    """

    def start(self) -> UntracedEndpoint:
        """Start serving; requests answered from here on run untraced."""
        super().start()
        server = self._server._server  # moto's werkzeug server; it reads ``app`` at every request
        server.app = _untraced(server.app)
        return self
