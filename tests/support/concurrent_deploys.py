"""Run deploys of one stack in threads that overlap as much as possible, deterministically.

Two deploys started "at the same moment" race: under load one may get far enough to
hold a change set before the other has even looked at the stack, so which check
refuses the second (the look before creating a change set, or the comparison of two
held change sets) depends on the scheduler. ``run_together`` removes the race: every
deploy waits for the others at two points its progress report names, so all of them
pass the first look before any creates a change set, and all hold a change set
before any compares it with the others'. A deploy that ends (or fails) before a
meeting point breaks it, so the others stop at once instead of waiting out a timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

Report = Callable[[str], None]
# progress lines of StackDeployer.deploy: past the first look / holding a change set
MEETING_POINTS = ("creating a ", "Change set ")
JOIN_TIMEOUT = 120.0


def run_together(deploys: Sequence[Callable[[Report], object]], *, timeout: float = 60.0) -> list[object]:
    """Run each ``deploy(report)`` in its own thread; return what each returned or raised, in order."""
    barriers = [threading.Barrier(len(deploys), timeout=timeout) for _ in MEETING_POINTS]
    outcomes: list[object] = [None] * len(deploys)

    def run(index: int, deploy: Callable[[Report], object]) -> None:
        passed = 0

        def report(line: str) -> None:
            nonlocal passed
            if passed < len(MEETING_POINTS) and MEETING_POINTS[passed] in line:
                barriers[passed].wait()
                passed += 1

        try:
            outcomes[index] = deploy(report)
        except Exception as error:  # noqa: BLE001 - every outcome is the caller's to judge
            outcomes[index] = error
        finally:
            for barrier in barriers[passed:]:
                barrier.abort()

    threads = [threading.Thread(target=run, args=(i, d), daemon=True) for i, d in enumerate(deploys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    return outcomes
