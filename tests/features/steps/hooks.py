"""behave hooks shared by every feature: the backend under test, chosen with ``-D``.

``context.backend`` (``tests.support.backends.Backend``) is where the scenarios run,
``context.target`` a ``Target`` pointing at it. On the embedded endpoint (the default)
the account is emptied before each scenario; on any other backend nothing is reset, so
every Given step brings the world to the state it names. Scenarios a backend cannot run
(``@disposable`` on aws, an emulator's declared gaps, ...) are skipped with the reason,
listed at the end and written into the JUnit XML's ``<skipped message="...">``.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.backends import BackendError, open_backend, step_texts
from tests.support.endpoints import reset_moto
from tests.support.junit_skips import annotate_skips
from tests.support.offline import keep_offline


def before_all(context: Any) -> None:
    """Open the backend; on a disposable one keep real AWS out of reach (placeholders only)."""
    context.resources = ExitStack()
    context.skipped = {}  # scenario name -> why it did not run
    environment = pytest.MonkeyPatch()
    context.resources.callback(environment.undo)
    try:  # first, so that LocalStack is found as the deploy tool finds it (AWS_ENDPOINT_URL included)
        context.backend = open_backend(context.config.userdata, context.resources)
    except BackendError as error:
        context.abort(reason=str(error))  # behave prints "ABORTED: <reason>", runs nothing, exits non-zero
        return
    if context.backend.disposable:
        keep_offline(environment)


def before_scenario(context: Any, scenario: Any) -> None:
    """Skip what the backend cannot run; otherwise give the scenario its target (reset on local)."""
    backend = context.backend
    reason = backend.skip_reason(set(scenario.effective_tags), step_texts(scenario), scenario.name)
    if reason is not None:
        context.skipped[scenario.name] = reason
        scenario.skip(reason)
        return
    if backend.resets:
        reset_moto(backend.target.endpoint_url)
    context.target = backend.target


def after_all(context: Any) -> None:
    """List the skipped scenarios with their reasons (console and JUnit XML), then stop what the run started."""
    if context.skipped:  # behave captures hook output; the list goes to the real console
        listed = (f"  - {name}: {reason}" for name, reason in context.skipped.items())
        lines = [f"Scenarios not run on {context.backend.name}:", *listed]
        console = sys.__stdout__ or sys.stdout
        console.write("\n" + "\n".join(lines) + "\n")
        console.flush()
        if context.config.junit:  # behave has written each feature's XML by now
            annotate_skips(Path(context.config.junit_directory), context.skipped)
    context.resources.close()
