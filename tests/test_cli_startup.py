"""What the deploy tool loads and builds per command (``src.database.cli.commands``).

Start-up cost matters for a command-line tool: a command should import moto only
when it starts the embedded endpoint, cfn-lint only when it lints, lint the
template exactly once, and build its boto3 clients from one session (``deploy`` and
``demo``: one CloudFormation and one DynamoDB client, the latter reused for the
verification, the connection test and the demo's items). The import checks run the
command in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.client import BaseClient

from src.database.aws.target import Target
from src.database.cli.parser import main
from src.database.deploy import template
from src.database.deploy.template import load_template
from src.database.emulator.endpoint import EmbeddedEndpoint
from tests.support.endpoints import reset_moto, unmeasured

REPO_ROOT = Path(__file__).resolve().parents[1]
PROBE = """\
import json, os, sys
from src.database.deploy import template
from src.database.cli.parser import main
for cache, argv in json.loads(sys.argv[1]):
    os.environ["XDG_CACHE_HOME"] = cache
    code = main(argv)
    loaded = set(sys.modules)
    cfnlint = any(name == "cfnlint" or name.startswith("cfnlint.") for name in loaded)
    print("STEP", json.dumps({"EXIT": str(code), "MOTO": str("moto.server" in loaded), "CFNLINT": str(cfnlint),
                              "DATA": str("src.database.data.store" in loaded)}))
"""


pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def server(local_target: Target, moto_server: EmbeddedEndpoint) -> Iterator[str]:
    """The worker's moto server URL, empty before the test and emptied after it."""
    yield moto_server.url
    reset_moto(moto_server)


def probe(steps: list[tuple[Path, list[str]]]) -> list[dict[str, str]]:
    """Run ``main(argv)`` for each step, in order, in one fresh interpreter, with XDG_CACHE_HOME set to
    the step's cache; return each step's exit code and whether moto/cfn-lint were imported by then.

    Modules stay imported once loaded, so the steps go from the command needing least to the one
    needing most: one interpreter answers for all of them (each costs a few seconds to start).
    """
    argument = json.dumps([[str(cache), argv] for cache, argv in steps])
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, argument], cwd=REPO_ROOT, env=unmeasured(), capture_output=True,
        text=True, timeout=120, check=False,
    )
    found = [json.loads(line.split(" ", 1)[1]) for line in completed.stdout.splitlines() if line.startswith("STEP ")]
    assert len(found) == len(steps), completed.stdout + completed.stderr
    return found


@pytest.mark.long  # four commands in a fresh interpreter
def test_each_command_imports_moto_and_cfn_lint_only_when_it_needs_them(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one fresh interpreter, in this order:

    - ``status --endpoint-url`` needs boto3 only (the table is missing here, so it exits 1);
    - ``deploy --endpoint-url`` of a template linted before (warm cache) imports neither;
    - the same deploy with an empty lint cache lints (cfn-lint imported), still no moto;
    - ``status`` without ``--endpoint-url`` is refused before any endpoint starts (it would start empty);
    - ``deploy`` without ``--endpoint-url`` starts its own endpoint, so moto is needed then;
    - none of them loads the data layer (``demo`` alone writes items).
    """
    warm, empty = tmp_path / "warm", tmp_path / "empty"
    monkeypatch.setenv("XDG_CACHE_HOME", str(warm))
    load_template()  # lints the shipped template into the warm cache, as an earlier deploy would
    deploy = ["deploy", "--dry-run", "--endpoint-url", server]
    assert probe([
        (warm, ["status", "--endpoint-url", server]),
        (warm, deploy),
        (empty, deploy),
        (empty, ["status"]),
        (empty, ["deploy", "--dry-run"]),
    ]) == [
        {"EXIT": "1", "MOTO": "False", "CFNLINT": "False", "DATA": "False"},
        {"EXIT": "0", "MOTO": "False", "CFNLINT": "False", "DATA": "False"},
        {"EXIT": "0", "MOTO": "False", "CFNLINT": "True", "DATA": "False"},
        {"EXIT": "1", "MOTO": "False", "CFNLINT": "True", "DATA": "False"},
        {"EXIT": "0", "MOTO": "True", "CFNLINT": "True", "DATA": "False"},
    ]


class Built:
    """Counts sessions, clients and lint runs made through ``Target`` and cfn-lint while a command runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
        self.sessions = 0
        self.clients: list[str] = []
        self.lints = 0
        session, client, lint = Target.session, Target.client, template.cfn_lint
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))  # an empty lint cache: the command lints

        def counting_session(target: Target) -> boto3.Session:
            self.sessions += 1
            return session(target)

        def counting_client(
            target: Target, service: str, given: boto3.Session | None = None, **options: Any
        ) -> BaseClient:
            self.clients.append(service)
            return client(target, service, given, **options)

        def counting_lint(*args: Any, **kwargs: Any) -> Any:
            self.lints += 1
            return lint(*args, **kwargs)

        monkeypatch.setattr(Target, "session", counting_session)
        monkeypatch.setattr(Target, "client", counting_client)
        monkeypatch.setattr(template, "cfn_lint", counting_lint)


@pytest.mark.parametrize("command", ["deploy", "demo"])
def test_a_deployment_lints_once_and_builds_two_clients_from_one_session(
    command: str, server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    built = Built(monkeypatch, tmp_path)
    code = main([command, "--endpoint-url", server])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Deployment verified." in out and "Connection OK." in out
    assert built.lints == 1
    assert built.sessions == 1
    assert sorted(built.clients) == ["cloudformation", "dynamodb"]
