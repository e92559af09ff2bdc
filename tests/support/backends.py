"""The backend the acceptance suite runs against, chosen with behave's user data (``-D``).

- ``target=local`` (default): the embedded endpoint, started for the run and reset
  before every scenario;
- ``endpoint_url=URL``: an endpoint already running (``python -m src.database serve``, a
  moto server, another emulator), never reset;
- ``target=localstack``: LocalStack's edge endpoint, found as the deploy tool finds it;
- ``target=aws`` with ``env=dev|staging`` (and optionally ``profile=``, ``region=``):
  a real account, through boto3's standard chain.

The first three are disposable accounts: scenarios may create all environments and
delete stacks and tables there. On ``aws`` only the given environment is deployed and
nothing is deleted except the digest items a scenario wrote (see ``Backend.skip_reason``).
"""

from __future__ import annotations

import argparse
import re
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Mapping

from src.database.cli import open_target
from src.database.target import Target
from src.database.settings import validate_environment

TARGETS = ("local", "localstack", "aws")
DISPOSABLE_TAG = "disposable"  # needs an account whose stacks and tables may be created and deleted
EMULATOR_TAG = "emulator"  # needs an endpoint that accepts any credentials (planted ones included)
ENVIRONMENT_WORD = re.compile(r"\b(dev|staging|prod)\b")
TEST_ITEM_PREFIX = "test-"  # item ids of the suite's digest items: test-<run id>-...; no real digest uses it


class BackendError(Exception):
    """The user data names no usable backend (one line for the console)."""


@dataclass
class Backend:
    """Where the scenarios run, and what they may do there."""

    name: str
    target: Target
    emulator: str | None  # "moto", "localstack" or None for real AWS (what verify_table needs)
    environment: str  # the environment scenarios use when they name none
    disposable: bool
    resets: bool  # the embedded endpoint is emptied before every scenario
    cli_arguments: tuple[str, ...]  # how the deploy tool reaches the same backend
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def skip_reason(self, tags: set[str], step_texts: list[str]) -> str | None:
        """Why a scenario with ``tags`` and ``step_texts`` does not run here, or None when it does."""
        if DISPOSABLE_TAG in tags and not self.disposable:
            return f"@{DISPOSABLE_TAG}: it creates or deletes stacks and tables, and {self.name} is not a disposable account"
        if EMULATOR_TAG in tags and self.emulator is None:
            return f"@{EMULATOR_TAG}: it signs with planted credentials, which {self.name} rejects"
        if not self.disposable:
            named = {m for text in step_texts for m in ENVIRONMENT_WORD.findall(text)} - {self.environment}
            if named:
                return f"it uses the {', '.join(sorted(named))} environment; on {self.name} only {self.environment} is deployed"
        return None

    def item_prefix(self) -> str:
        """A fresh item id prefix for one scenario's digest items: ``test-<run id>-<scenario id>-``."""
        return f"{TEST_ITEM_PREFIX}{self.run_id}-{uuid.uuid4().hex[:6]}-"


def open_backend(userdata: Mapping[str, str], resources: ExitStack) -> Backend:
    """The backend ``userdata`` names; anything it starts is stopped when ``resources`` closes."""
    target = userdata.get("target", "local")
    endpoint_url = userdata.get("endpoint_url") or None
    region = userdata.get("region") or None
    if target not in TARGETS:
        raise BackendError(f"-D target={target!r}: choose one of {', '.join(TARGETS)}")
    if target == "aws":
        environment = userdata.get("env", "")
        if environment not in ("dev", "staging"):
            raise BackendError("-D target=aws needs -D env=dev or -D env=staging (the gate never writes to prod)")
        options = argparse.Namespace(target="aws", endpoint_url=endpoint_url, region=region, profile=userdata.get("profile") or None)
        found, _ = resources.enter_context(open_target(options))
        arguments = ("--target", "aws", *_optional("--region", region), *_optional("--profile", options.profile))
        return Backend("aws", found, None, validate_environment(environment), False, False, arguments)
    if target == "localstack":
        options = argparse.Namespace(target="localstack", endpoint_url=endpoint_url, region=region, profile=None)
        found, emulator = resources.enter_context(open_target(options))
        return Backend("localstack", found, emulator, "dev", True, False, ("--target", "localstack", "--endpoint-url", _url(found)))
    if endpoint_url:
        found = Target.local(endpoint_url, region)
        return Backend(f"the endpoint at {endpoint_url}", found, "moto", "dev", True, False, ("--endpoint-url", endpoint_url))
    from src.database.local_endpoint import EmbeddedEndpoint  # imports moto: only for the embedded endpoint

    endpoint = resources.enter_context(EmbeddedEndpoint())
    return Backend("the embedded endpoint", Target.local(endpoint.url, region), "moto", "dev", True, True, ("--endpoint-url", endpoint.url))


def _optional(option: str, value: str | None) -> tuple[str, ...]:
    return (option, value) if value else ()


def _url(target: Target) -> str:
    assert target.endpoint_url is not None
    return target.endpoint_url


def step_texts(scenario: Any) -> list[str]:
    """The text of every step of a behave scenario, its background's included, with tables."""
    texts = []
    for step in [*getattr(scenario, "background_steps", []), *scenario.steps]:
        texts.append(step.name)
        if step.table is not None:
            texts += [" ".join(row.cells) for row in step.table]
    return texts
