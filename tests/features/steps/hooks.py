"""behave hooks shared by every feature: the backend under test, chosen with ``-D``.

``context.backend`` (``tests.support.backends.Backend``) is where the scenarios run,
``context.target`` a ``Target`` pointing at it. On the embedded endpoint (the default)
the account is emptied before each scenario; on any other backend nothing is reset, so
every Given step brings the world to the state it names. Scenarios a backend cannot run
(``@disposable`` on aws, ...) are skipped with the reason, and listed at the end.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import pytest

from tests.support.backends import BackendError, open_backend, step_texts
from tests.support.endpoints import reset_moto
from tests.support.offline import keep_offline


def before_all(context: Any) -> None:
    """Open the backend; on a disposable one keep real AWS out of reach (placeholders only)."""
    context.resources = ExitStack()
    environment = pytest.MonkeyPatch()
    context.resources.callback(environment.undo)
    userdata = context.config.userdata
    if userdata.get("target", "local") != "aws":
        keep_offline(environment)
    try:
        context.backend = open_backend(userdata, context.resources)
    except BackendError as error:
        context.resources.close()
        sys.exit(f"error: {error}")
    context.skipped = []


def before_scenario(context: Any, scenario: Any) -> None:
    """Skip what the backend cannot run; otherwise give the scenario its target (reset on local)."""
    backend = context.backend
    reason = backend.skip_reason(set(scenario.effective_tags), step_texts(scenario))
    if reason is not None:
        context.skipped.append(f"{scenario.name}: {reason}")
        scenario.skip(reason)
        return
    if backend.resets:
        reset_moto(backend.target.endpoint_url)
    context.target = backend.target


def after_all(context: Any) -> None:
    """List the skipped scenarios with their reasons, then stop what the run started."""
    if context.skipped:
        print(f"\nScenarios not run on {context.backend.name}:")
        for line in context.skipped:
            print(f"  - {line}")
    context.resources.close()
