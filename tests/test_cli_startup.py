"""What the deploy tool loads and builds per command (``src.database.cli``).

Start-up cost matters for a command-line tool: a command should import moto only
when it starts the embedded endpoint, cfn-lint only when it lints, lint the
template exactly once, and build its boto3 clients from one session (``deploy`` and
``demo``: one CloudFormation and one DynamoDB client, the latter reused for the
verification, the connection test and the demo's items). The import checks run the
command in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import cfnlint.api
import pytest
from botocore.client import BaseClient

from src.database.cli import main
from src.database.target import Target
from src.database.local_endpoint import EmbeddedEndpoint
from tests.support.endpoints import reset_moto

REPO_ROOT = Path(__file__).resolve().parents[1]
PROBE = """\
import sys
from src.database.cli import main
code = main(sys.argv[1:])
loaded = set(sys.modules)
print("EXIT", code)
print("MOTO", "moto.server" in loaded)
print("CFNLINT", any(name == "cfnlint" or name.startswith("cfnlint.") for name in loaded))
"""


pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def server(local_target: Target, moto_server: EmbeddedEndpoint) -> Iterator[str]:
    """The worker's moto server URL, empty before the test and emptied after it."""
    yield moto_server.url
    reset_moto(moto_server)


def probe(*argv: str) -> dict[str, str]:
    """Run ``main(argv)`` in a fresh interpreter; return its exit code and whether moto/cfn-lint were imported."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True,
        timeout=120,
    )
    found = dict(line.split(" ", 1) for line in completed.stdout.splitlines() if line.split(" ", 1)[0] in
                 ("EXIT", "MOTO", "CFNLINT"))
    assert set(found) == {"EXIT", "MOTO", "CFNLINT"}, completed.stdout + completed.stderr
    return found


def test_status_on_a_running_endpoint_imports_neither_moto_nor_cfn_lint(server: str) -> None:
    """``status --endpoint-url`` needs boto3 only (the table is missing here, so it exits 1)."""
    assert probe("status", "--endpoint-url", server) == {"EXIT": "1", "MOTO": "False", "CFNLINT": "False"}


def test_deploy_on_a_running_endpoint_lints_but_does_not_import_moto(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an empty lint cache the deploy lints (cfn-lint imported); the same deploy again imports none."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty lint cache: this deploy must lint
    assert probe("deploy", "--dry-run", "--endpoint-url", server) == {"EXIT": "0", "MOTO": "False", "CFNLINT": "True"}
    assert probe("deploy", "--dry-run", "--endpoint-url", server) == {"EXIT": "0", "MOTO": "False", "CFNLINT": "False"}


def test_status_on_the_embedded_endpoint_imports_moto_only_then() -> None:
    """Without ``--endpoint-url`` the command starts its own endpoint, so moto is needed."""
    assert probe("status") == {"EXIT": "1", "MOTO": "True", "CFNLINT": "False"}


class Built:
    """Counts sessions, clients and lint runs made through ``Target`` and cfn-lint while a command runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
        self.sessions = 0
        self.clients: list[str] = []
        self.lints = 0
        session, client, lint = Target.session, Target.client, cfnlint.api.lint
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))  # an empty lint cache: the command lints

        def counting_session(target: Target) -> boto3.Session:
            self.sessions += 1
            return session(target)

        def counting_client(target: Target, service: str, given: boto3.Session | None = None) -> BaseClient:
            self.clients.append(service)
            return client(target, service, given)

        def counting_lint(*args: Any, **kwargs: Any) -> Any:
            self.lints += 1
            return lint(*args, **kwargs)

        monkeypatch.setattr(Target, "session", counting_session)
        monkeypatch.setattr(Target, "client", counting_client)
        monkeypatch.setattr(cfnlint.api, "lint", counting_lint)


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
