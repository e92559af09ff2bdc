"""Unit tests of ``src.database.deploy.workflow``: deploy, verify and test the connection, reported through a callback.

Runs against the worker's moto server (``local_target``): the workflow prints
nothing, reports its progress one line per call, and returns what it did.
"""

from __future__ import annotations

import pytest

from src.database.aws.target import Target
from src.database.deploy.template import DEFAULT_TEMPLATE, Template, load_template
from src.database.deploy.verify import OK, UNSUPPORTED
from src.database.deploy.workflow import WorkflowResult, deploy_and_verify, stack_tags


@pytest.fixture(scope="module")
def template() -> Template:
    """The repository's template, linted once for the module."""
    return load_template(DEFAULT_TEMPLATE)


def test_the_workflow_reports_and_returns_what_it_did(
    local_target: Target, template: Template, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[str] = []
    result = deploy_and_verify(local_target, template, "staging", emulator="moto", report=lines.append)
    assert isinstance(result, WorkflowResult)
    assert result.verified
    assert result.deploy.executed and result.deploy.status == "CREATE_COMPLETE"
    assert {check.status for check in result.checks} <= {OK, UNSUPPORTED}
    assert result.description is not None and result.description["table_name"] == "VibeDigest-staging"
    assert result.client.table_name == "VibeDigest-staging"
    assert "Verifying the live table against the template:" in lines
    assert any(line.startswith("  key schema") for line in lines)
    assert capsys.readouterr() == ("", "")  # the caller prints, not the workflow


def test_a_dry_run_previews_only(local_target: Target, template: Template) -> None:
    lines: list[str] = []
    result = deploy_and_verify(local_target, template, "dev", dry_run=True, report=lines.append)
    assert (result.deploy.executed, result.checks, result.description) == (False, [], None)
    assert "Dry run: nothing was changed." in lines
    assert local_target.client("dynamodb").list_tables()["TableNames"] == []


def test_stack_tags_name_the_project_and_environment() -> None:
    assert stack_tags("dev") == {"Project": "VibeDigest", "Environment": "dev", "DeployedBy": "vibedigest-deploy"}
