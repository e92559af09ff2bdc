"""``StackDeployer`` on moto's CloudFormation over real HTTP (the ``local_target`` fixture).

Covers create, no-op re-deploy, dry runs, a real update, event reporting, delete with
the table retained, and recover on a missing stack. moto executes change sets
synchronously, so nothing here should ever need to wait: ``sleep`` is a recorder that
fails the test if polling ever sleeps more than a few times.

The embedded endpoint's fidelity layer gives resource events, outputs, rollbacks and
in-place table updates; the paths that need them are in tests/test_lifecycle.py, and
the states it cannot reach (slow or stuck operations) in tests/test_deploy_rollback.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.client import BaseClient

from src.database.aws.target import Target
from src.database.deploy.deployer import (
    ChangeSummary,
    DeployResult,
    Recovery,
    StackDeployer,
)
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import DEFAULT_TEMPLATE, Template, load_template

STACK = "vibedigest-dev"
TABLE = "VibeDigest-dev"
TAGS = {"Project": "VibeDigest", "Environment": "dev"}


@dataclass
class Harness:
    """A deployer on the moto server plus what it reported and how long it slept."""

    deployer: StackDeployer
    cloudformation: BaseClient
    dynamodb: BaseClient
    lines: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def deploy(self, template: Template, *, execute: bool = True) -> DeployResult:
        """Deploy the dev stack with ``template``."""
        return self.deployer.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS), execute=execute
        )

    def table_names(self) -> list[str]:
        """Every table in the emulated account."""
        return self.dynamodb.list_tables()["TableNames"]


@pytest.fixture
def harness(local_target: Target) -> Harness:
    """A StackDeployer on a freshly reset moto server, reporting into a list, with a fake sleep."""
    session = local_target.session()
    cloudformation = local_target.client("cloudformation", session)
    dynamodb = local_target.client("dynamodb", session)
    lines: list[str] = []
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert len(sleeps) < 20, "moto is synchronous; polling should not loop"

    deployer = StackDeployer(cloudformation, dynamodb, report=lines.append, sleep=fake_sleep, timeout=30)
    return Harness(deployer, cloudformation, dynamodb, lines, sleeps)


@pytest.fixture(scope="module")
def template() -> Template:
    """The shipped template."""
    return load_template()


def modified_template(tmp_path: Path, extra_tag: tuple[str, str] = ("Owner", "digest-team")) -> Template:
    """The shipped template plus one table tag: a real change to the DigestTable resource."""
    body = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    marker = "        - Key: ManagedBy\n          Value: CloudFormation\n"
    assert marker in body
    key, value = extra_tag
    path = tmp_path / "tagged.yml"
    path.write_text(body.replace(marker, f"{marker}        - Key: {key}\n          Value: {value}\n"), encoding="utf-8")
    return load_template(path)


def test_first_deploy_creates_stack_and_active_table(harness: Harness, template: Template) -> None:
    """A fresh account gets a CREATE change set adding DigestTable, then CREATE_COMPLETE and an ACTIVE table."""
    result = harness.deploy(template)
    assert result.executed is True
    assert result.status == "CREATE_COMPLETE"
    assert result.changes == [ChangeSummary("Add", "DigestTable", "AWS::DynamoDB::Table")]
    assert harness.deployer.stack_status(STACK) == "CREATE_COMPLETE"
    table = harness.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert harness.lines[0] == f"Stack {STACK}: does not exist yet; creating a CREATE change set"
    assert "  Add     DigestTable [AWS::DynamoDB::Table]" in harness.lines
    assert harness.lines[-1].startswith(f"Stack {STACK} is CREATE_COMPLETE; table {TABLE} is ACTIVE")
    assert harness.sleeps == []  # every wait checks before sleeping; moto finishes at once


def test_deploy_reports_new_stack_events(harness: Harness, template: Template) -> None:
    """Events of the run are reported oldest first; moto only emits the stack's own events."""
    harness.deploy(template)
    events = [line for line in harness.lines if f" {STACK} [AWS::CloudFormation::Stack]" in line]
    assert len(events) == 2, harness.lines
    assert "CREATE_IN_PROGRESS" in events[0] and "User Initiated" in events[0]
    assert "CREATE_COMPLETE" in events[1]
    assert harness.lines.index(events[0]) < harness.lines.index(events[1])


def test_update_reports_only_the_update_events(harness: Harness, template: Template, tmp_path: Path) -> None:
    """Events of the earlier create are not shown again during an update."""
    harness.deploy(template)
    harness.lines.clear()
    harness.deploy(modified_template(tmp_path))
    events = [line for line in harness.lines if "[AWS::CloudFormation::Stack]" in line]
    assert [("UPDATE_IN_PROGRESS" in e, "UPDATE_COMPLETE" in e) for e in events] == [(True, False), (False, True)]
    assert not any("CREATE_" in line for line in events)


def test_redeploy_without_changes_is_a_successful_noop(harness: Harness, template: Template) -> None:
    """moto answers an unchanged template with "No updates are to be performed": nothing executes."""
    harness.deploy(template)
    events_before = harness.cloudformation.describe_stack_events(StackName=STACK)["StackEvents"]
    harness.lines.clear()
    result = harness.deploy(template)
    assert result.executed is False
    assert result.changes == []
    assert result.status == "CREATE_COMPLETE"
    assert "No changes: the stack already matches the template." in harness.lines
    assert harness.deployer.stack_status(STACK) == "CREATE_COMPLETE"
    assert harness.cloudformation.describe_stack_events(StackName=STACK)["StackEvents"] == events_before


def test_dry_run_on_fresh_account_leaves_nothing_behind(harness: Harness, template: Template) -> None:
    """execute=False previews the CREATE change set, then deletes it and the REVIEW_IN_PROGRESS stack."""
    result = harness.deploy(template, execute=False)
    assert result.executed is False
    assert result.changes == [ChangeSummary("Add", "DigestTable", "AWS::DynamoDB::Table")]
    assert "Dry run: nothing was changed." in harness.lines
    assert harness.deployer.stack_status(STACK) is None
    assert harness.table_names() == []
    live = [s for s in harness.cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []


def test_dry_run_on_existing_stack_changes_nothing(harness: Harness, template: Template, tmp_path: Path) -> None:
    """A previewed update lists the Modify but leaves the stack's status and template as they were."""
    harness.deploy(template)
    before = harness.cloudformation.get_template(StackName=STACK)["TemplateBody"]
    result = harness.deploy(modified_template(tmp_path), execute=False)
    assert result.executed is False
    assert [(c.action, c.logical_id) for c in result.changes] == [("Modify", "DigestTable")]
    assert harness.deployer.stack_status(STACK) == "CREATE_COMPLETE"
    assert harness.cloudformation.get_template(StackName=STACK)["TemplateBody"] == before
    change_sets = harness.cloudformation.list_change_sets(StackName=STACK)["Summaries"]
    assert [c for c in change_sets if c.get("ExecutionStatus") == "AVAILABLE"] == []


def test_update_with_a_real_change_is_applied(harness: Harness, template: Template, tmp_path: Path) -> None:
    """A template with an extra tag is executed: UPDATE_COMPLETE, the stack holds the new template,
    and deploying it again is a no-op. (moto does not update the table's own tags on a stack update.)"""
    harness.deploy(template)
    updated = modified_template(tmp_path)
    result = harness.deploy(updated)
    assert result.executed is True
    assert result.status == "UPDATE_COMPLETE"
    assert [(c.action, c.logical_id) for c in result.changes] == [("Modify", "DigestTable")]
    assert harness.deployer.stack_status(STACK) == "UPDATE_COMPLETE"
    assert "digest-team" in str(harness.cloudformation.get_template(StackName=STACK)["TemplateBody"])
    assert harness.deploy(updated).executed is False


def test_items_survive_a_noop_and_a_real_update(harness: Harness, template: Template, tmp_path: Path) -> None:
    """Data written after the first deploy is still there after a no-op deploy and an update."""
    harness.deploy(template)
    item = {"digest_date": {"S": "2024-05-01"}, "item_id": {"S": "story-1"}, "title": {"S": "kept"}}
    harness.dynamodb.put_item(TableName=TABLE, Item=item)
    harness.deploy(template)
    harness.deploy(modified_template(tmp_path))
    key = {k: item[k] for k in ("digest_date", "item_id")}
    assert harness.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"] == item


def test_delete_removes_stack_and_retains_table(harness: Harness, template: Template) -> None:
    """DeletionPolicy: Retain is honoured by moto: the stack goes, the table and its items stay."""
    harness.deploy(template)
    item = {"digest_date": {"S": "2024-05-01"}, "item_id": {"S": "a"}}
    harness.dynamodb.put_item(TableName=TABLE, Item=item)
    harness.deployer.delete(STACK)
    assert harness.deployer.stack_status(STACK) is None
    assert f"Stack {STACK} deleted." in harness.lines
    assert TABLE in harness.table_names()
    assert harness.dynamodb.get_item(TableName=TABLE, Key=item)["Item"] == item


def test_delete_without_retain_would_drop_the_table(harness: Harness, tmp_path: Path) -> None:
    """Control for the test above: without the Retain policies moto deletes the table with the stack,
    so the survival seen there is the template's doing."""
    body = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    body = body.replace("    DeletionPolicy: Retain\n", "").replace("    UpdateReplacePolicy: Retain\n", "")
    path = tmp_path / "no-retain.yml"
    path.write_text(body, encoding="utf-8")
    harness.deploy(load_template(path))
    assert TABLE in harness.table_names()
    harness.deployer.delete(STACK)
    assert TABLE not in harness.table_names()


def test_delete_missing_stack_says_nothing_to_delete(harness: Harness) -> None:
    """Deleting a stack that does not exist is not an error."""
    harness.deployer.delete(STACK)
    assert harness.lines == [f"Stack {STACK} does not exist; nothing to delete."]


def test_redeploy_after_delete_reuses_nothing(harness: Harness, template: Template) -> None:
    """After a delete the next deploy is a CREATE again (stack_status sees the stack as gone)."""
    harness.deploy(template)
    harness.deployer.delete(STACK)
    harness.dynamodb.delete_table(TableName=TABLE)  # the retained table would clash with the new one
    harness.lines.clear()
    result = harness.deploy(template)
    assert result.status == "CREATE_COMPLETE"
    assert harness.lines[0].endswith("creating a CREATE change set")


def test_recover_on_missing_stack_says_nothing_to_do(harness: Harness) -> None:
    """recover on an account without the stack says so, in the library's terms (the CLI adds the
    deploy command), and that a deploy can follow; it changes nothing."""
    recovery = harness.deployer.recover(STACK, "dev")
    assert recovery == Recovery(f"Stack {STACK} does not exist; nothing to recover.", deployable=True)
    assert str(recovery) == recovery.message
    assert harness.deployer.stack_status(STACK) is None


def test_recover_on_healthy_stack_does_nothing(harness: Harness, template: Template) -> None:
    """A CREATE_COMPLETE stack needs no recovery and is left alone."""
    harness.deploy(template)
    assert harness.deployer.recover(STACK, "dev") == Recovery(
        f"Stack {STACK} is CREATE_COMPLETE; nothing to recover.", deployable=False
    )
    assert harness.deployer.stack_status(STACK) == "CREATE_COMPLETE"


def test_prod_table_has_deletion_protection_that_blocks_delete_table(harness: Harness, template: Template) -> None:
    """The prod table survives both stack deletion (Retain) and a direct DeleteTable (deletion protection).

    moto models ``DeletionProtectionEnabled`` from the template and refuses ``DeleteTable``
    like DynamoDB does, so this is checked live, not only in the template.
    """
    harness.deployer.deploy(
            StackSpec.of(template, stack_name="vibedigest-prod", environment="prod", table_name="VibeDigest-prod", tags={**TAGS, "Environment": "prod"})
        )
    assert harness.dynamodb.describe_table(TableName="VibeDigest-prod")["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(harness.dynamodb.exceptions.ClientError, match="DeletionProtectionEnabled"):
        harness.dynamodb.delete_table(TableName="VibeDigest-prod")
    harness.deployer.delete("vibedigest-prod")
    assert "VibeDigest-prod" in harness.table_names()
