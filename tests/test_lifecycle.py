"""Every lifecycle path of the stack, over real HTTP on the embedded endpoint (issue 8 §2).

The fidelity layer makes the embedded endpoint fail, roll back and import as
CloudFormation does, so these run the deployer against it unscripted: a failed
create and its recovery, a failed update that leaves the table and its items as
they were, delete-then-deploy adopting the retained table, a replacing change
refused before anything changes, two deploys at once, an interrupted first deploy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.client import BaseClient

from src.database.aws.target import Target
from src.database.deploy.deployer import DeployResult, StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import Template, load_template
from src.database.errors import DeploymentError, ServiceError
from tests.support.concurrent_deploys import run_together
from tests.support.template_variants import (
    failing_update,
    rejected_name,
    swapped_keys,
    with_tag,
)

STACK = "vibedigest-dev"
TABLE = "VibeDigest-dev"
TAGS = {"Project": "VibeDigest", "Environment": "dev"}


@dataclass
class Lifecycle:
    """A deployer on the embedded endpoint, what it reported, and the clients to look behind it."""

    target: Target
    cloudformation: BaseClient
    dynamodb: BaseClient
    lines: list[str] = field(default_factory=list)

    def deployer(self, report: object = None) -> StackDeployer:
        """A new deployer (its own clients when ``report`` is given, as a second process would have)."""
        if report is None:
            return StackDeployer(self.cloudformation, self.dynamodb, report=self.lines.append, timeout=60)
        session = self.target.session()
        return StackDeployer(
            self.target.client("cloudformation", session), self.target.client("dynamodb", session),
            report=report, timeout=60,  # type: ignore[arg-type]
        )

    def deploy(self, template: Template, *, execute: bool = True) -> DeployResult:
        """Deploy dev with ``template``."""
        return self.deployer().deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS), execute=execute
        )

    def put(self, count: int) -> None:
        """Write ``count`` digest items."""
        for i in range(count):
            self.dynamodb.put_item(TableName=TABLE, Item={"digest_date": {"S": "2024-05-01"}, "item_id": {"S": f"{i:03}"}})

    def item_ids(self) -> list[str]:
        """Every item's id, sorted."""
        return sorted(i["item_id"]["S"] for i in self.dynamodb.scan(TableName=TABLE)["Items"])

    def tags(self) -> dict[str, str]:
        """The table's tags."""
        arn = self.dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
        return {t["Key"]: t["Value"] for t in self.dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}

    def change_sets(self) -> list[dict[str, object]]:
        """The stack's change sets."""
        return self.cloudformation.list_change_sets(StackName=STACK)["Summaries"]


@pytest.fixture
def life(local_target: Target) -> Lifecycle:
    """A Lifecycle on a freshly reset embedded endpoint."""
    session = local_target.session()
    return Lifecycle(local_target, local_target.client("cloudformation", session), local_target.client("dynamodb", session))


@pytest.fixture(scope="module")
def template() -> Template:
    """The shipped template."""
    return load_template()


def test_create_through_a_change_set_has_outputs_exports_and_resource_events(life: Lifecycle, template: Template) -> None:
    """The stack created through a change set has its outputs and exports; the table's events are reported."""
    result = life.deploy(template)
    arn = life.dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    assert result.outputs == {"TableName": TABLE, "TableArn": arn}
    described = life.deployer().describe(STACK)
    assert described is not None and described.status == "CREATE_COMPLETE"
    assert described.exports == {"VibeDigest-dev-TableName": TABLE, "VibeDigest-dev-TableArn": arn}
    assert any("CREATE_COMPLETE" in line and "DigestTable [AWS::DynamoDB::Table]" in line for line in life.lines)
    assert [e["ResourceStatus"] for e in described.events][:2] == ["CREATE_COMPLETE", "CREATE_COMPLETE"]


def test_a_redeploy_without_changes_keeps_outputs_and_leaves_no_change_set(life: Lifecycle, template: Template) -> None:
    """The endpoint answers an empty change set as CloudFormation does; the deployer deletes it."""
    life.deploy(template)
    result = life.deploy(template)
    assert result.executed is False and result.outputs["TableName"] == TABLE
    assert all(c["ExecutionStatus"] != "AVAILABLE" for c in life.change_sets())


def test_failed_create_rolls_back_then_recover_and_redeploy_succeed(life: Lifecycle, template: Template, tmp_path: Path) -> None:
    """A table DynamoDB rejects: CREATE_FAILED with DynamoDB's reason, ROLLBACK_COMPLETE; the next
    deploy is refused naming the cause; recover deletes the empty stack; a good template deploys."""
    with pytest.raises(DeploymentError) as caught:
        life.deploy(rejected_name(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"Stack {STACK} ended ROLLBACK_COMPLETE: DigestTable: ")
    assert "'VibeDigest dev!' at 'tableName' failed to satisfy constraint" in message
    assert any("CREATE_FAILED" in line and "tableName" in line for line in life.lines)
    with pytest.raises(DeploymentError, match="is ROLLBACK_COMPLETE after a failed deployment"):
        life.deploy(template)
    recovery = life.deployer().recover(STACK, "dev")
    assert recovery.message == f"Deleted {STACK}; it can be deployed again." and recovery.deployable
    assert life.deploy(template).status == "CREATE_COMPLETE"


def test_failed_update_rolls_back_leaving_table_tags_and_items(life: Lifecycle, template: Template, tmp_path: Path) -> None:
    """An update that fails ends UPDATE_ROLLBACK_COMPLETE with the reason; the table's tags and
    every item are as before; no recover is needed and the next deploy is a no-op."""
    life.deploy(template)
    life.put(25)
    before = life.tags()
    with pytest.raises(DeploymentError) as caught:
        life.deploy(failing_update(tmp_path))
    message = str(caught.value)
    assert "ended UPDATE_ROLLBACK_COMPLETE: BrokenTable: " in message and "'no way!'" in message
    assert "The previous version is still in place" in message
    assert life.tags() == before
    assert life.item_ids() == [f"{i:03}" for i in range(25)]
    assert TABLE in life.dynamodb.list_tables()["TableNames"] and len(life.dynamodb.list_tables()["TableNames"]) == 1
    assert life.deploy(template).executed is False


def test_an_update_applies_tags_to_the_table(life: Lifecycle, template: Template, tmp_path: Path) -> None:
    """A tag changed by an update reaches the table (moto alone leaves it unchanged)."""
    life.deploy(template)
    life.deploy(with_tag(tmp_path, "Owner", "digest-team"))
    assert life.tags()["Owner"] == "digest-team"


def test_delete_then_deploy_adopts_the_retained_table_with_every_item(life: Lifecycle, template: Template) -> None:
    """The retained table is imported into the new stack, then the template applied; items all remain."""
    life.deploy(template)
    life.put(40)
    life.deployer().delete(STACK)
    life.lines.clear()
    result = life.deploy(template)
    assert result.status == "UPDATE_COMPLETE"
    assert any("creating a change set to import it into" in line for line in life.lines)
    assert any("IMPORT_COMPLETE" in line for line in life.lines)
    resources = life.cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("DigestTable", TABLE)]
    assert result.outputs["TableName"] == TABLE
    assert life.item_ids() == [f"{i:03}" for i in range(40)]


def test_a_dry_run_after_delete_says_it_would_import_and_changes_nothing(life: Lifecycle, template: Template) -> None:
    life.deploy(template)
    life.deployer().delete(STACK)
    result = life.deploy(template, execute=False)
    assert [c.action for c in result.changes] == ["Import"]
    assert life.deployer().stack_status(STACK) is None


def test_a_table_with_other_keys_is_not_adopted(life: Lifecycle, template: Template) -> None:
    """A table of the same name with other keys: a clear error naming the difference, nothing changed."""
    life.dynamodb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
    )
    with pytest.raises(DeploymentError) as caught:
        life.deploy(template)
    message = str(caught.value)
    assert "HASH key is id, the template says digest_date" in message
    assert "RANGE key is absent, the template says item_id" in message
    assert "nothing was changed" in message
    assert life.deployer().stack_status(STACK) is None


def test_a_replacing_change_is_refused_before_execution(life: Lifecycle, template: Template, tmp_path: Path) -> None:
    """Swapped keys would replace the named, retained table: refused, naming KeySchema; nothing changed.
    The dry run shows Replace and the reason."""
    life.deploy(template)
    life.put(3)
    swapped = swapped_keys(tmp_path)
    preview = life.deploy(swapped, execute=False)
    assert [(c.action, c.replaces, c.recreated) for c in preview.changes] == [("Modify", True, ("KeySchema",))]
    assert "  Replace DigestTable [AWS::DynamoDB::Table]: KeySchema cannot change in place" in life.lines
    assert any("would leave the old table, with all its data, outside the stack" in line for line in life.lines)
    with pytest.raises(DeploymentError, match="would replace its table: DigestTable \\(KeySchema"):
        life.deploy(swapped)
    assert life.deployer().stack_status(STACK) == "CREATE_COMPLETE"
    assert all(c["ExecutionStatus"] != "AVAILABLE" for c in life.change_sets())
    assert life.item_ids() == ["000", "001", "002"]


def test_two_deploys_at_once_one_goes_on_and_no_stack_is_left_in_review(life: Lifecycle, template: Template) -> None:
    """Both look at the stack, then both create a change set, before either compares (``run_together``);
    the later change set yields with a clear message, the other creates the stack."""

    def deploy(report: Callable[[str], None]) -> object:
        return life.deployer(report).deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        ).status

    outcomes = run_together([deploy, deploy])
    assert sorted(o if isinstance(o, str) else type(o).__name__ for o in outcomes) == ["CREATE_COMPLETE", "DeploymentError"], outcomes
    refusal = next(o for o in outcomes if isinstance(o, DeploymentError))
    assert f"Another deployment of {STACK} is in progress" in str(refusal) and "nothing was changed" in str(refusal)
    assert life.deployer().stack_status(STACK) == "CREATE_COMPLETE"
    assert all(c["ExecutionStatus"] != "AVAILABLE" for c in life.change_sets())


def test_a_deploy_that_saw_no_stack_yields_to_one_that_created_it_meanwhile(life: Lifecycle, template: Template) -> None:
    """The other deploy creates and completes the stack between this one's look and its change set."""

    def other_deploy_runs(line: str) -> None:
        if "creating a CREATE change set" in line:
            life.deploy(template)

    with pytest.raises(DeploymentError, match=f"Another deployment of {STACK} created the stack first; nothing was changed"):
        life.deployer(other_deploy_runs).deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        )
    assert life.deployer().stack_status(STACK) == "CREATE_COMPLETE"
    assert all(c["ExecutionStatus"] != "AVAILABLE" for c in life.change_sets())


def test_an_interrupted_first_deploy_is_refused_then_recovered(life: Lifecycle, template: Template) -> None:
    """A CREATE change set nobody executed leaves REVIEW_IN_PROGRESS: deploy says so, recover deletes it."""
    life.cloudformation.create_change_set(
        StackName=STACK, ChangeSetName="interrupted", ChangeSetType="CREATE", TemplateBody=template.body,
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}],
    )
    assert life.deployer().stack_status(STACK) == "REVIEW_IN_PROGRESS"
    with pytest.raises(DeploymentError, match="change set interrupted"):
        life.deploy(template)
    recovery = life.deployer().recover(STACK, "dev")
    assert "left by an interrupted first deploy" in recovery.message and recovery.deployable
    assert life.deployer().stack_status(STACK) is None
    assert life.deploy(template).status == "CREATE_COMPLETE"


# -- issue 19: adoption that AWS accepts, drift brought in line, the first-deploy race -------------


def test_an_adopted_table_whose_settings_drifted_ends_matching_the_template(life: Lifecycle, template: Template) -> None:
    """PITR, SSE, deletion protection and tags changed by hand on the retained table: the import takes the
    table as it is; the drift-aware update that follows brings each back to the template's value."""
    life.deploy(template)
    life.put(5)
    life.deployer().delete(STACK)
    ddb = life.dynamodb
    ddb.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=True, SSESpecification={"Enabled": False})
    arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Project", "Value": "changed"}])
    life.lines.clear()
    result = life.deploy(template)
    assert result.status == "UPDATE_COMPLETE"
    [update] = [c for c in result.changes if c.action == "Modify"]
    assert set(update.reverted) == {"PointInTimeRecoverySpecification", "SSESpecification",
                                    "DeletionProtectionEnabled", "Tags"}
    table = ddb.describe_table(TableName=TABLE)["Table"]
    backups = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert table["SSEDescription"]["Status"] == "ENABLED" and table["DeletionProtectionEnabled"] is False
    assert life.tags()["Project"] == "VibeDigest"
    assert life.item_ids() == [f"{i:03}" for i in range(5)]
    assert not any("not reverted" in line for line in life.lines)


def test_a_drift_aware_update_is_also_made_without_an_adoption(life: Lifecycle, template: Template) -> None:
    """A managed table changed by hand: the next deploy (same template) reverts it instead of "No changes"."""
    life.deploy(template)
    life.dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    result = life.deploy(template)
    assert result.executed and [c.reverted for c in result.changes] == [("PointInTimeRecoverySpecification",)]
    assert life.deploy(template).changes == []  # now in sync: nothing to do


def test_a_plain_deployer_leaves_drift_as_it_is(life: Lifecycle, template: Template) -> None:
    """``revert_drift=False``: plain change sets compare templates only, as AWS's do."""
    life.deploy(template)
    life.dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    plain = StackDeployer(life.cloudformation, life.dynamodb, report=life.lines.append, timeout=60, revert_drift=False)
    result = plain.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        )
    assert not result.executed and "No changes: the stack already matches the template." in life.lines


def test_the_adoption_dry_run_creates_and_deletes_the_real_import_change_set(life: Lifecycle, template: Template) -> None:
    life.deploy(template)
    life.deployer().delete(STACK)
    created: list[str] = []
    life.cloudformation.meta.events.register(
        "after-call.cloudformation.CreateChangeSet", lambda parsed, **_: created.append(parsed["Id"]))
    result = life.deploy(template, execute=False)
    assert [(c.action, c.logical_id) for c in result.changes] == [("Import", "DigestTable")]
    assert len(created) == 1  # the preview asked CloudFormation
    assert life.deployer().stack_status(STACK) is None
    assert life.cloudformation.list_stacks(StackStatusFilter=["REVIEW_IN_PROGRESS"])["StackSummaries"] == []


def test_a_refused_import_in_the_dry_run_is_reported_and_leaves_nothing(life: Lifecycle, template: Template) -> None:
    """The retained table belongs to another stack: CloudFormation refuses the import, and so does the preview."""
    life.cloudformation.create_stack(StackName="someone-else", TemplateBody=template.body,
                                     Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}])
    with pytest.raises(ServiceError, match="already belongs to stack someone-else"):
        life.deploy(template, execute=False)
    assert life.deployer().stack_status(STACK) is None


def test_a_deploy_that_finds_the_table_of_another_deploy_yields_without_importing(
    life: Lifecycle, template: Template
) -> None:
    """The other deploy creates the stack (and its table) between this one's look at the stack and at the
    table: this one must not take the adoption path (an IMPORT would fail on [Outputs])."""
    deployer = life.deployer(lambda line: None)
    ran: list[bool] = []

    def other_deploy_runs(**_: object) -> None:
        if not ran:
            ran.append(True)
            life.deploy(template)

    deployer.dynamodb.meta.events.register("before-call.dynamodb.DescribeTable", other_deploy_runs)
    with pytest.raises(DeploymentError, match=f"Another deployment of {STACK} created the stack first") as caught:
        deployer.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        )
    assert "Outputs" not in str(caught.value)
    assert life.deployer().stack_status(STACK) == "CREATE_COMPLETE"
    assert [c["ExecutionStatus"] for c in life.change_sets()] == ["EXECUTE_COMPLETE"]  # the other deploy's only


def test_a_change_set_made_obsolete_by_another_deploy_is_deleted(
    life: Lifecycle, template: Template, tmp_path: Path
) -> None:
    life.deploy(template)
    deployer = life.deployer(lambda line: None)

    def other_deploy_executes_first(**_: object) -> None:
        other = life.cloudformation.create_change_set(
            StackName=STACK, ChangeSetName="other", ChangeSetType="UPDATE", TemplateBody=with_tag(tmp_path, "Owner", "other").body,
            Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}])
        life.cloudformation.execute_change_set(StackName=STACK, ChangeSetName=other["Id"])

    deployer.cloudformation.meta.events.register_first("before-call.cloudformation.ExecuteChangeSet", other_deploy_executes_first)
    with pytest.raises(DeploymentError, match="executed its change set first; this one was not applied"):
        deployer.deploy(
            StackSpec.of(with_tag(tmp_path, "Team", "mine"), stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        )
    assert [c["ExecutionStatus"] for c in life.change_sets()] == ["EXECUTE_COMPLETE"] * 2  # the create's, the other's


@pytest.mark.parametrize("run", range(3))
def test_two_deploys_after_a_delete_one_adopts_and_the_other_yields_clearly(
    life: Lifecycle, template: Template, run: int
) -> None:
    life.deploy(template)
    life.put(4)
    life.deployer().delete(STACK)

    def deploy(report: Callable[[str], None]) -> object:
        return life.deployer(report).deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        ).status

    outcomes = run_together([deploy, deploy])
    assert sorted(o if isinstance(o, str) else type(o).__name__ for o in outcomes) == ["DeploymentError", "UPDATE_COMPLETE"], outcomes
    refusal = str(next(o for o in outcomes if isinstance(o, DeploymentError)))
    assert f"Another deployment of {STACK}" in refusal and "[Outputs]" not in refusal
    assert all(c["ExecutionStatus"] not in ("AVAILABLE", "OBSOLETE") for c in life.change_sets())
    assert life.item_ids() == ["000", "001", "002", "003"]


def test_a_deploy_whose_import_meets_the_stack_another_deploy_adopted_meanwhile_yields(
    life: Lifecycle, template: Template
) -> None:
    """Both saw the retained table without a stack; the other adopted it before this one's IMPORT: this one's
    import is refused by CloudFormation ([Outputs] into a live stack), and it yields with the clear refusal."""
    life.deploy(template)
    life.deployer().delete(STACK)
    deployer = life.deployer(lambda line: None)
    ran: list[bool] = []

    def other_deploy_adopts_first(**_: object) -> None:
        if not ran:
            ran.append(True)
            life.deploy(template)

    deployer.cloudformation.meta.events.register("before-call.cloudformation.CreateChangeSet", other_deploy_adopts_first)
    with pytest.raises(DeploymentError, match=f"Another deployment of {STACK} created the stack first") as caught:
        deployer.deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags=TAGS)
        )
    assert "cannot modify or add" in str(caught.value.__cause__)  # what CloudFormation said, kept as the cause
    assert life.deployer().stack_status(STACK) == "UPDATE_COMPLETE"
    assert all(c["ExecutionStatus"] not in ("AVAILABLE", "OBSOLETE") for c in life.change_sets())
