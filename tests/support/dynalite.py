"""dynalite: an independent DynamoDB emulator (npm ``dynalite``, on LevelDB), for the data layer's tests.

The data layer's behaviour tests run against it as well as moto, so a behaviour that
only moto's model of DynamoDB shows is caught (moto returns numbers as they were
written; dynalite, like DynamoDB, writes them out in full).

Installed pinned (``tests/emulators/dynalite``: package.json and its package-lock.json)
by the test command (tox runs ``INSTALL_COMMAND``); ``Dynalite`` starts it on a free
127.0.0.1 port (``serve.js`` prints the URL once it listens) and stops it by closing
its standard input, so a test process that dies takes the server with it.

``DIFFERENCES`` declares, in one place, where dynalite differs from DynamoDB in what the
tests touch; each entry names its source.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "tests" / "emulators" / "dynalite"
INSTALL_COMMAND = "npm ci --prefix tests/emulators/dynalite"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

DIFFERENCES: dict[str, str] = {
    "item-size": (
        "dynalite counts strings and attribute names in UTF-16 code units (JavaScript's String.length), "
        "not UTF-8 bytes (dynalite 4.0.0 db/index.js:944, valSize of 'S', and :907, itemSize): a non-ASCII "
        "item may pass its 409,600-byte limit by DynamoDB's count and still be stored; the boundary tests "
        "use ASCII text, where both counts agree"
    ),
}


def missing_reason() -> str | None:
    """Why dynalite cannot run here (naming the command that installs it), or None when it can."""
    if shutil.which("node") is None:
        return "dynalite needs node (Node.js 18 or later) on PATH"
    if not (DIRECTORY / "node_modules" / "dynalite" / "package.json").is_file():
        return f"dynalite is not installed: run `{INSTALL_COMMAND}` (the test command, tox, does)"
    return None


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


class Dynalite:
    """A dynalite process on a free 127.0.0.1 port; ``url`` once started."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(DIRECTORY / "serve.js")],
            cwd=DIRECTORY,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stdout, self._lines), daemon=True).start()
        self.url = self._read_url()

    def _read_url(self) -> str:
        seen: list[str] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line.rstrip("\n"))
            if line.startswith("listening at "):
                return line.split()[-1]
        self.stop()
        raise RuntimeError(f"dynalite printed no URL within {STARTUP_TIMEOUT} s: {seen}")

    def stop(self) -> None:
        """End the process (closing its stdin ends it; killed if it lingers)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
