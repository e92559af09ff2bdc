"""Emulators nobody here wrote, run for the acceptance gate: MiniStack and plain ``moto_server``.

``Emulator`` starts one on a free 127.0.0.1 port with the offline environment, waits
(bounded) until its health URL answers, and stops it by signal, then by kill, whatever
ended the run. Its output goes to a log file (a pipe could fill up and stall it).

- ``ministack``: the executable ``MINISTACK`` names (default ``ministack`` on the PATH).
  MiniStack pins another botocore than the project, so it lives in a virtualenv of its
  own (tox's test env builds it from ``tests/ministack-requirements.txt``).
  Its port is ``GATEWAY_PORT``; the gate finds it through ``LOCALSTACK_HOST``, as the
  deploy tool finds a user's LocalStack.
- ``moto_server``: moto's own server from the project's environment, without the
  fidelity layer the project's endpoints add (``src/database/emulator/fidelity``).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from tests.support.endpoints import ROOT, child_environment

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1  # prctl(2): the signal the child gets when its parent dies


@dataclass(frozen=True)
class Kind:
    """How to start one emulator and how to tell that it answers."""

    name: str
    health_path: str

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        """The command line and the extra environment that start it on ``port``."""
        if self.name == "ministack":
            executable = os.environ.get("MINISTACK") or shutil.which("ministack") or "ministack"
            return [executable], {"GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1"}
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], {}


KINDS = {kind.name: kind for kind in (Kind("ministack", "/_ministack/health"), Kind("moto_server", "/moto-api/"))}


def free_port() -> int:
    """A port free on 127.0.0.1 now (the emulator binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # A killed gate (SIGKILL, a closed terminal) cannot run its cleanup: the kernel then
    # stops the emulator instead. Linux only; elsewhere the gate's own stop is the one.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


class Emulator:
    """A running emulator of ``KINDS``: ``url``, ``host`` (``127.0.0.1:PORT``), and ``stop``."""

    def __init__(self, name: str, log_path: Path) -> None:
        """Start emulator ``name`` (its output in ``log_path``) and wait until it answers."""
        if name not in KINDS:
            raise ValueError(f"unknown emulator {name!r}: choose one of {', '.join(KINDS)}")
        self.kind = KINDS[name]
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.log_path = log_path
        command, extra = self.kind.command(self.port)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[str] = log_path.open("w")
        try:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**child_environment(), **extra}, stdout=self._log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,  # Ctrl-C reaches the gate, which stops it
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - started before the gate starts any thread
            )
        except OSError as error:
            self._log.close()
            raise RuntimeError(f"cannot start {name} ({command[0]}): {error}") from None
        try:
            self._wait_until_it_answers()
        except BaseException:
            self.stop()
            raise

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind.name} exited with {self.process.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + self.kind.health_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"{self.kind.name} did not answer within {STARTUP_TIMEOUT:.0f} s: {self.output()}")

    def output(self) -> str:
        """What it printed so far (its log file)."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; return its exit code. Safe to call twice."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self._log.close()
        return int(self.process.returncode)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
