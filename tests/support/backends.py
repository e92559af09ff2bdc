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

``emulator=NAME`` (with ``target=localstack`` or ``endpoint_url``) names an emulator of
``GAPS``: the one place where each way it differs from AWS is declared, with the line of
its source that shows it and the scenarios it makes fail. Those scenarios are skipped
with that reason; every other scenario must pass there. The project's own endpoints
(embedded, ``serve``) and LocalStack have no entry: nothing is skipped on them.
"""

from __future__ import annotations

import argparse
import re
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Mapping

from src.database.aws.target import Target
from src.database.cli.commands import open_target
from src.database.settings import validate_environment

TARGETS = ("local", "localstack", "aws")
DISPOSABLE_TAG = "disposable"  # needs an account whose stacks and tables may be created and deleted
EMULATOR_TAG = "emulator"  # needs an endpoint that accepts any credentials (planted ones included)
ENVIRONMENT_WORD = re.compile(r"\b(dev|staging|prod)\b")
TEST_ITEM_PREFIX = "test-"  # item ids of the suite's digest items: test-<run id>-...; no real digest uses it


@dataclass(frozen=True)
class Gap:
    """One way an emulator differs from AWS: what it does, where its source shows it, what it makes fail."""

    what: str
    source: str  # file:line in the emulator's installed source (the pinned version)
    scenarios: tuple[str, ...]  # names of the scenarios it makes fail
    checks: tuple[str, ...] = ()  # verification checks it makes MISMATCH (the deploy tool's report)
    racy: bool = False  # it makes the scenarios fail in some runs only (a race): tests.support.gap_check spares it


MINISTACK_PROVISIONER = "ministack/services/cloudformation/provisioners.py"
MOTO_CLOUDFORMATION = "moto/cloudformation/models.py"
MOTO_TABLE = "moto/dynamodb/models/table.py"
DEPLOYS_AND_VERIFIES = "The deploy tool deploys, verifies and tests the connection"
PROTECTS_THE_DATA = "The template protects the data and exports the table for other stacks"
FAILED_FIRST_DEPLOY = "A failed first deploy is reported, recovered and deployed again"
FAILED_UPDATE = "A failed update leaves the table and its digests as they were"
DRIFT_REVERTED = "Settings changed by hand on a retained table are brought back to the template's by the next deploy"
ADOPTION = "Deleting the stack keeps the digests, and deploying again brings the table back under a stack"
ADOPTION_PREVIEW = "Previewing the deploy after a delete asks CloudFormation and changes nothing"

EMULATORS = {"ministack": "MiniStack 1.5.33", "moto_server": "plain moto_server (moto 5.2.5)"}
GAPS: dict[str, tuple[Gap, ...]] = {
    "ministack": (
        Gap("its CloudFormation table provisioner ignores PointInTimeRecoverySpecification and SSESpecification "
            "(point-in-time recovery stays DISABLED, no SSEDescription)",
            f"{MINISTACK_PROVISIONER}:2120 (_ddb_create), :2169 (_ddb_create)",
            (DEPLOYS_AND_VERIFIES, PROTECTS_THE_DATA, DRIFT_REVERTED), ("point-in-time recovery", "encryption")),
        Gap("its CloudFormation table provisioner does not validate table names, so a create or update "
            "with a name DynamoDB rejects succeeds (its CreateTable validates them: ministack/services/dynamodb.py:1435)",
            f"{MINISTACK_PROVISIONER}:2121 (_ddb_create)",
            (FAILED_FIRST_DEPLOY, FAILED_UPDATE)),
        Gap("its CreateChangeSet does not read DeploymentMode (no drift-aware change sets) and its table update "
            "compares the old template with the new, not with the live table: a tag changed by hand can stay",
            f"ministack/services/cloudformation/changesets.py:530 (_create_change_set); {MINISTACK_PROVISIONER}:2230 (_ddb_update)",
            (DRIFT_REVERTED,)),
    ),
    "moto_server": (
        Gap("its CloudFormation table ignores PointInTimeRecoverySpecification, reads SSESpecification's "
            "API key Enabled instead of the template's SSEEnabled, and a change set does not rebuild the outputs",
            f"{MOTO_TABLE}:406 (create_from_cloudformation_json), :502 (Table.describe); "
            f"{MOTO_CLOUDFORMATION}:1144 (execute_change_set)",
            (DEPLOYS_AND_VERIFIES, PROTECTS_THE_DATA), ("point-in-time recovery", "encryption", "outputs")),
        Gap("IMPORT change sets list the table as Add and are executed as creates (ResourcesToImport is not "
            "read): the retained table 'already exists'",
            f"{MOTO_CLOUDFORMATION}:1051 (create_change_set), :731 (ChangeSet.diff), :1159 (execute_change_set)",
            (ADOPTION, ADOPTION_PREVIEW, DRIFT_REVERTED)),
        Gap("a change set never fails or rolls back (\"TODO: handle execution errors and implement rollback\"), "
            "and table names are not validated",
            f"{MOTO_CLOUDFORMATION}:1159 (execute_change_set)",
            (FAILED_FIRST_DEPLOY, FAILED_UPDATE)),
        Gap("change sets carry no Replacement detail, so a replacement cannot be previewed or refused",
            f"{MOTO_CLOUDFORMATION}:731 (ChangeSet.diff)",
            ("A change that would replace the table is refused before anything changes",)),
        Gap("deleting a stack keeps its change sets, so an interrupted deploy's change set outlives recover",
            f"{MOTO_CLOUDFORMATION}:1291 (delete_stack)",
            ("An interrupted first deploy is cleaned up by recover",)),
        Gap("a CREATE change set for a stack name in use makes a second stack of that name instead of "
            "refusing, so two first deploys at once can both go on (in some runs)",
            f"{MOTO_CLOUDFORMATION}:1071 (create_change_set)",
            ("Two deploys of one environment at once never leave the stack stuck",), racy=True),
    ),
}


def gaps_of(emulator: str | None) -> tuple[Gap, ...]:
    """The declared gaps of ``emulator`` (a key of ``GAPS``; None or "" for none)."""
    if not emulator:
        return ()
    if emulator not in GAPS:
        raise BackendError(f"-D emulator={emulator!r}: choose one of {', '.join(GAPS)} (or leave it out)")
    return GAPS[emulator]


def gap_reason(emulator: str, *gaps: Gap) -> str:
    """The skip reason a scenario shows for ``gaps``: the emulator, what each does, where its source shows it."""
    return f"not supported by {EMULATORS[emulator]}: " + "; and ".join(f"{gap.what} ({gap.source})" for gap in gaps)


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
    known_emulator: str = ""  # a key of GAPS (-D emulator=...): its declared gaps skip scenarios
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def skip_reason(self, tags: set[str], step_texts: list[str], name: str = "") -> str | None:
        """Why a scenario ``name`` with ``tags`` and ``step_texts`` does not run here, or None when it does."""
        if found := [gap for gap in gaps_of(self.known_emulator) if name in gap.scenarios]:
            return gap_reason(self.known_emulator, *found)
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
    emulator = userdata.get("emulator", "")
    if target not in TARGETS:
        raise BackendError(f"-D target={target!r}: choose one of {', '.join(TARGETS)}")
    gaps_of(emulator)
    if emulator and not (target == "localstack" or (target == "local" and endpoint_url)):
        raise BackendError(f"-D emulator={emulator} goes with -D target=localstack or -D endpoint_url=URL")
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
        found, kind = resources.enter_context(open_target(options))
        return Backend(EMULATORS.get(emulator, "localstack"), found, kind, "dev", True, False,
                       ("--target", "localstack", "--endpoint-url", _url(found)), emulator)
    if endpoint_url:
        found = Target.local(endpoint_url, region)
        name = EMULATORS.get(emulator, f"the endpoint at {endpoint_url}")
        return Backend(name, found, "moto", "dev", True, False, ("--endpoint-url", endpoint_url), emulator)
    from src.database.emulator.endpoint import (
        EmbeddedEndpoint,  # imports moto: only for the embedded endpoint
    )

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
