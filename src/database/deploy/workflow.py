"""The deploy workflow: deploy the stack, verify the live table, test the connection.

``deploy_and_verify`` runs the three steps on one ``Target`` with one boto3 session
and one DynamoDB client (reused by the verification, the connection test and the
returned ``DynamoDBClient``). Progress goes to a ``report`` callback, one line per
call; the outcome comes back as a ``WorkflowResult`` for the caller to present
(the CLI prints it). Nothing here parses arguments or prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..aws.target import Target
from ..client import DynamoDBClient
from ..settings import DEFAULT_STACK_TIMEOUT, PROJECT_TAG, stack_name_for, validate_environment

if TYPE_CHECKING:
    from ..aws.deadline import Deadline
    from .deployer import DeployResult
    from .template import Template
    from .verify import Check

Report = Callable[[str], None]


def stack_tags(environment: str) -> dict[str, str]:
    """Tags put on the stack (CloudFormation propagates them to the table too)."""
    return {"Project": PROJECT_TAG, "Environment": environment, "DeployedBy": "vibedigest-deploy"}


def _silent(_: str) -> None:
    """The default ``report``: progress goes nowhere."""


@dataclass
class WorkflowResult:
    """What ``deploy_and_verify`` did.

    ``deploy``: the stack's deployment; ``checks``: the verification, one check per
    property (empty for a dry run); ``description``: the connection test's summary
    of the table (None for a dry run); ``verified``: no check is a mismatch (for a dry run: the deploy
    would not be refused);
    ``client``: a connected ``DynamoDBClient`` of the table, for further work.
    """

    deploy: DeployResult
    client: DynamoDBClient
    checks: list[Check] = field(default_factory=list)
    description: dict[str, Any] | None = None
    verified: bool = False


def deploy_and_verify(
    target: Target,
    template: Template,
    environment: str,
    *,
    emulator: str | None = None,
    dry_run: bool = False,
    timeout: float | Deadline = DEFAULT_STACK_TIMEOUT,
    report: Report = _silent,
) -> WorkflowResult:
    """Deploy ``template`` as ``environment``'s stack on ``target``, verify the table, test the connection.

    ``emulator`` names the endpoint's emulator (e.g. ``"moto"``) so the checks it
    cannot show are reported as unsupported; ``dry_run`` only previews the change
    set. ``timeout``: seconds for the stack's waits, or a ``Deadline`` that bounds
    every wait and every AWS call of the deployer's clients (the CLI's ``--timeout``).
    Raises the package's errors; a mismatch is not an error (see ``verified``).
    """
    from .deployer import (
        StackDeployer,  # imports cfn-lint's parser via template: only when deploying
    )
    from .stack_spec import StackSpec
    from .verify import all_passed, verify_table

    environment = validate_environment(environment)
    spec = StackSpec.of(
        template,
        stack_name=stack_name_for(environment),
        environment=environment,
        tags=stack_tags(environment),
    )
    session = target.session()
    dynamodb = target.client("dynamodb", session)
    connection = DynamoDBClient.for_target(target, environment, client=dynamodb)
    deployer = StackDeployer(target.client("cloudformation", session), dynamodb, report=report, timeout=timeout)
    deployed = deployer.deploy(spec, execute=not dry_run)
    if dry_run:  # verified: the deploy would go through (``deployed.refusal`` says why not)
        return WorkflowResult(deployed, connection, verified=deployed.refusal is None)
    report("Verifying the live table against the template:")
    checks = verify_table(dynamodb, spec.expected, stack_outputs=deployed.outputs, emulator=emulator)
    for check in checks:
        report(f"  {check}")
    description = connection.test_connection()
    return WorkflowResult(deployed, connection, checks, description, all_passed(checks))
