"""Endpoints the tests run: moto's reset API, stub HTTP servers, and a ``python -m src.database serve`` subprocess.

``Served`` starts ``serve`` on a free 127.0.0.1 port with the offline environment
(``tests.support.offline``), reads the URL it prints (the server answers once it is
printed), and stops it by signal within a bounded time. The integration tests and the
acceptance gate (``tests/support/run_gate.py``) both use it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Mapping

from tests.support.offline import offline_environment

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
URL_LINE = re.compile(r"listening at (http://127\.0\.0\.1:\d+)")
STOP_POLL_SECONDS = 0.05
"""How often a stub server looks for a stop (socketserver's default, 0.5 s, made each stop wait ~0.45 s)."""


def reset_moto(endpoint: Any) -> None:
    """Empty every emulated account of a moto server (moto's own reset API), and this process's moto.

    ``endpoint`` is the server's URL or an object with a ``url`` (``EmbeddedEndpoint``,
    ``Served``). This process's own moto state is emptied too: the embedded endpoints
    commands start in-process share it, whichever server ``endpoint`` is.
    """
    url = endpoint if isinstance(endpoint, str) else endpoint.url
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    if "moto" in sys.modules:  # what POST /moto-api/reset does, for the backends of this process
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()


@contextmanager
def stub_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free 127.0.0.1 port in a daemon thread; yield its URL; stop at exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def child_environment() -> dict[str, str]:
    """The offline environment (placeholder credentials, no profile or endpoint), unbuffered output."""
    return {**offline_environment(), "PYTHONUNBUFFERED": "1"}


def unmeasured(environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environment`` (default ``os.environ``) without coverage's subprocess hook.

    For children that check a fresh interpreter's own state (what it imports, what a
    process-wide setting does): their code paths are measured in-process by other tests,
    and tracing such a child's imports of boto3, moto or cfn-lint would only slow it.
    """
    return {k: v for k, v in (os.environ if environment is None else environment).items()
            if k not in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")}


def _pump(stream: IO[str], lines: list[str], new: queue.Queue[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        new.put(line)


def _default_sigint() -> None:  # pragma: no cover - runs in the child before exec
    # A shell without job control starts background jobs with SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler; restore the default so Ctrl-C is testable.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


SERVE = ("-m", "src.database", "serve")


class Served:
    """A ``python -m src.database serve`` subprocess, its URL and its output so far.

    ``module`` runs another module that prints ``listening at URL`` the same way (the
    benchmarks' latency proxy).
    """

    def __init__(self, *arguments: str, module: tuple[str, ...] = SERVE, measured: bool = True) -> None:
        """Start ``serve`` (or ``module``) with ``arguments`` and wait (bounded) for the URL it prints.

        ``measured=False`` keeps coverage's tracer out of the child (``unmeasured``).
        """
        environment = child_environment()
        self.process = subprocess.Popen(
            [sys.executable, *module, *arguments],
            cwd=ROOT,
            env=environment if measured else unmeasured(environment),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._new_stdout: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._pumps = [
            threading.Thread(target=_pump, args=(stream, lines, new), daemon=True)
            for stream, lines, new in (
                (self.process.stdout, self.stdout, self._new_stdout),
                (self.process.stderr, self.stderr, queue.Queue()),
            )
        ]
        for pump in self._pumps:
            pump.start()
        self.url = self._read_url()

    def _read_url(self) -> str:
        """Read stdout until the 'listening at URL' line (the server is up once it is printed)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._new_stdout.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = URL_LINE.search(line)
            if match:
                return match.group(1)
        self.kill()
        raise AssertionError(f"serve printed no URL; stdout={self.stdout} stderr={self.stderr}")

    def stop(self, signum: int) -> int:
        """Send ``signum`` and return the exit code; fail if it does not exit within STOP_TIMEOUT."""
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"serve ignored signal {signum} for {STOP_TIMEOUT} s") from None
        self._drain()
        return code

    def kill(self) -> None:
        """Make sure the process is gone."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        self._drain()

    def _drain(self) -> None:
        """After exit: let the readers collect the last lines, then close the pipes."""
        for pump in self._pumps:
            pump.join(timeout=STOP_TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
