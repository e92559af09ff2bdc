"""``python -m tests.benchmarks.latency_proxy URL MS``: a proxy that delays every answer from URL by MS.

The latency row runs it in a process of its own, so the proxy's threads do not share
the benchmark's interpreter lock (DynamoDB's latency costs a client no CPU). It prints
``listening at http://127.0.0.1:PORT`` once it answers (the line ``tests.support.endpoints.Served``
waits for) and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from tests.support.fault_proxy import Fault, FaultProxy


def main(argv: list[str]) -> int:
    """Run the proxy until a stop signal; return the exit code."""
    if len(argv) != 2:
        print("usage: python -m tests.benchmarks.latency_proxy URL MILLISECONDS", file=sys.stderr)
        return 2
    url, milliseconds = argv[0], float(argv[1])
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FaultProxy(url, delay_seconds=milliseconds / 1000) as proxy:
        proxy.inject(Fault.SLOW_RESPONSE, times=None)
        print(f"Latency proxy ({milliseconds:g} ms) listening at {proxy.url}", flush=True)
        while not stop.wait(0.5):
            pass
        print(f"Forwarded {proxy.requests_seen} requests. Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
