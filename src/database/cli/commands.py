"""The deploy tool: ``python -m src.database <command>``.

Commands: ``demo`` (the main job: ``deploy``, then write and read back today's
sample digest), ``deploy`` (lint, preview, deploy, verify, test the connection),
``status`` (the stack and the table as they are), ``serve`` (run the embedded
endpoint), ``recover`` (after a failed deployment), ``delete`` (the stack; the table
is retained) and ``lint``. Targets: ``local`` (the endpoint of ``--endpoint-url`` or
of the ``AWS_ENDPOINT_URL*`` variables, else an embedded moto endpoint started for
the command), ``localstack`` or ``aws`` (boto3's standard configuration).
``--timeout`` bounds the whole command, every AWS call included (``deadline``).

Expected failures print one ``error:`` line to stderr and exit 1 (2 for usage
errors): the library's message, then the command hint ``hints`` adds for it;
progress goes to stdout, logs to stderr (``-v`` for INFO, ``--debug`` for DEBUG
with credentials redacted). The deploy workflow is ``workflow``'s and the status
``status``'s: this module runs the commands (``parser`` reads the arguments); ``output``
prints what they report and return.

Start-up cost: the heavy modules are imported where a command needs them, not here.
moto (``emulator.endpoint``) is imported only when the embedded endpoint starts (not
with ``--endpoint-url`` or another target); cfn-lint (``template``, which ``deployer``
and ``verify`` import too) only by the commands that lint or deploy. Each command
builds its boto3 clients from one session, and ``deploy`` reuses its DynamoDB client
for the verification and the connection test.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from ..aws.deadline import Deadline
from ..aws.target import LOCAL_REGION, Target, configured_endpoints
from ..deploy import workflow
from ..deploy.workflow import WorkflowResult
from ..errors import ConfigurationError, DeploymentError, TableNotFoundError
from ..settings import (
    ClientSettings,
    stack_name_for,
    table_name_for,
    validate_environment,
)
from .hints import COMMAND, Invocation, after_recovery
from .output import format_digest, out, print_description, print_status, report_lint_warnings

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from ..deploy.deployer import StackDeployer
    from ..deploy.template import Template

logger = logging.getLogger(__name__)



@contextlib.contextmanager
def open_target(args: argparse.Namespace) -> Iterator[tuple[Target, str | None]]:
    """Yield the connection target chosen on the command line and the emulator's name.

    ``local`` uses ``--endpoint-url``, else the endpoint the ``AWS_ENDPOINT_URL*``
    variables name (e.g. as ``serve`` prints them), else starts the embedded endpoint
    for the command's duration. Every client built from the target honours the
    command's deadline (``args.deadline``, from ``--timeout``), if it has one.
    """
    settings = ClientSettings.from_env()
    deadline: Deadline | None = getattr(args, "deadline", None)
    if args.target == "aws":
        yield Target(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile, settings=settings,
                     deadline=deadline), None
    elif args.target == "localstack":
        from localstack_client.config import get_service_endpoint

        url = args.endpoint_url or get_service_endpoint("dynamodb") or "http://localhost:4566"
        args.endpoint_used = url
        yield Target.local(url, args.region, settings, deadline=deadline), "localstack"
    elif args.endpoint_url:
        yield Target.local(args.endpoint_url, args.region, settings, deadline=deadline), "moto"
    elif variables := configured_endpoints():
        args.endpoint_from = " / ".join(sorted(set(variables.values())))
        args.endpoint_used = os.environ[variables["dynamodb"]]
        used = [f"{name}: {os.environ[name]}" for name in sorted(set(variables.values()))]
        out(f"Using the endpoint{'s' if len(used) > 1 else ''} from {' and '.join(used)}")
        yield Target.local(None, args.region, settings, deadline=deadline), "moto"
    else:
        from ..emulator.endpoint import (
            EmbeddedEndpoint,  # imports moto: only when the endpoint really starts
        )

        with EmbeddedEndpoint() as endpoint:
            out(f"Embedded endpoint (moto) at {endpoint.url}; its state is discarded when this command ends.")
            args.ephemeral = True
            yield Target.local(endpoint.url, args.region, settings, deadline=deadline), "moto"


def invocation(args: argparse.Namespace) -> Invocation:
    """What the user gave on the command line, for the commands the tool suggests (``cli_hints``)."""
    environment = getattr(args, "env", "dev")
    return Invocation(
        command=getattr(args, "name", "deploy"),
        environment=environment if isinstance(environment, str) else "dev",
        target=getattr(args, "target", "local"),
        endpoint_url=getattr(args, "endpoint_url", None),
        region=getattr(args, "region", None),
        profile=getattr(args, "profile", None),
        endpoint=getattr(args, "endpoint_used", None) or getattr(args, "endpoint_url", None),
        endpoint_from=getattr(args, "endpoint_from", "--endpoint-url"),
    )


def _environment(args: argparse.Namespace) -> str:
    return validate_environment(args.env)


def deploy_and_verify(
    args: argparse.Namespace, template: Template, target: Target, emulator: str | None
) -> WorkflowResult:
    """Run the deploy workflow with the command's options, printing its progress and outcome."""
    result = workflow.deploy_and_verify(
        target, template, _environment(args), emulator=emulator, dry_run=args.dry_run, timeout=args.deadline,
        report=out,
    )
    if result.description is not None:
        print_description(result.description)
        out("Deployment verified." if result.verified else
            "Deployment finished but the table does not match the template.")
    return result


def lint_template(args: argparse.Namespace) -> Template:
    """Parse and lint ``--template`` (cfn-lint, imported here, once per process); errors stop the command."""
    from ..deploy.template import DEFAULT_TEMPLATE, load_template

    return load_template(args.template or DEFAULT_TEMPLATE)


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploy (or preview with --dry-run), verify and test the connection."""
    _environment(args)
    template = lint_template(args)  # linted before any endpoint or AWS call
    report_lint_warnings(template)
    with open_target(args) as (target, emulator):
        result = deploy_and_verify(args, template, target, emulator)
    if result.deploy.refusal is not None:  # the dry run's outcome is the deploy's: refused, exit 1
        raise DeploymentError(result.deploy.refusal)
    if getattr(args, "ephemeral", False) and not args.dry_run:
        out("The embedded endpoint stops with this command, and the stack and table with it. For an endpoint "
            f"that keeps them between commands, run: {COMMAND} serve")
    return 0 if result.verified else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job: deploy, verify, test the connection, then write and read back today's sample digest."""
    environment = _environment(args)
    if environment == "prod":
        raise ConfigurationError("The demo writes sample items; run it on dev or staging, not prod.")
    template = lint_template(args)
    with open_target(args) as (target, emulator):
        result = deploy_and_verify(args, template, target, emulator)
        # the data layer (and boto3's type serializer with it) is loaded by the one command that uses it,
        # so the other commands do not start up paying for it
        from ..data.sample import sample_digest
        from ..data.store import DigestStore

        store = DigestStore(result.client)
        today = date.today()
        items = sample_digest(today)
        store.put_many(items)
        stored = store.day(today)
        out(f"Wrote {len(items)} sample items for {today.isoformat()} and read {len(stored)} back:")
        out(format_digest(stored))
        if sorted(stored, key=lambda item: item.item_id) != sorted(items, key=lambda item: item.item_id):
            raise DeploymentError("The digest read back differs from the one written.")
    return 0 if result.verified else 1


def cmd_status(args: argparse.Namespace) -> int:
    """Show the environment's stack (status, events, outputs, exports) and table (settings, item count)."""
    from ..deploy.status import environment_status

    environment = _environment(args)
    with open_target(args) as (target, _):
        print_status(environment_status(target, environment))
    return 0


def _deployer(target: Target, deadline: Deadline) -> tuple[StackDeployer, BaseClient]:
    """A ``StackDeployer`` whose two clients come from one session of ``target``, bounded by ``deadline``.

    Its DynamoDB client comes with it, for the command's own reads of the table.
    """
    from ..deploy.deployer import StackDeployer

    session = target.session()
    dynamodb = target.client("dynamodb", session)
    return StackDeployer(target.client("cloudformation", session), dynamodb, report=out, timeout=deadline), dynamodb


def _live_table(target: Target, environment: str, dynamodb: BaseClient) -> dict[str, Any] | None:
    """The environment's table as DynamoDB describes it now (None when there is none)."""
    from ..client import DynamoDBClient

    try:
        return DynamoDBClient.for_target(target, environment, client=dynamodb).validate_table()
    except TableNotFoundError:
        return None


def cmd_recover(args: argparse.Namespace) -> int:
    """Get a stack out of ROLLBACK_COMPLETE / UPDATE_ROLLBACK_FAILED / an interrupted first deploy."""
    environment = _environment(args)
    with open_target(args) as (target, _):
        recovery = _deployer(target, args.deadline)[0].recover(stack_name_for(environment), environment)
    out(recovery.message)
    hint = after_recovery(recovery.deployable, invocation(args))
    if hint:
        out(hint)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete the stack; prod needs --confirm-prod. The table is retained."""
    environment = _environment(args)
    if environment == "prod" and not args.confirm_prod:
        raise ConfigurationError("Deleting the prod stack needs --confirm-prod. Nothing was deleted.")
    with open_target(args) as (target, _):
        deployer, dynamodb = _deployer(target, args.deadline)
        deployer.delete(stack_name_for(environment))
        table = _live_table(target, environment, dynamodb)
    name = table_name_for(environment)
    if table is None:
        out(f"Table {name} does not exist here; nothing is left of {environment}.")
        return 0
    region = target.region or LOCAL_REGION
    steps = [invocation(args).aws_cli("dynamodb", "delete-table", "--table-name", name, region=region)]
    protected = bool(table.get("DeletionProtectionEnabled"))
    if protected:
        steps.insert(0, invocation(args).aws_cli(
            "dynamodb", "update-table", "--table-name", name, "--no-deletion-protection-enabled", region=region))
    out(f"Table {name} is retained (DeletionPolicy: Retain); its deletion protection is "
        f"{'on' if protected else 'off'}. To remove its data as well, run: {' && '.join(steps)}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """Lint the template with cfn-lint."""
    template = lint_template(args)
    report_lint_warnings(template)
    out(f"{template.path}: cfn-lint found no errors ({len(template.warnings)} warning(s)).")
    return 0


def cmd_serve(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Run the embedded endpoint until interrupted, printing how to use it."""
    from ..emulator.endpoint import EmbeddedEndpoint  # imports moto

    stop = stop or threading.Event()
    with _sigterm_sets(stop), EmbeddedEndpoint(host=args.host, port=args.port) as endpoint:
        out(f"Embedded DynamoDB + CloudFormation endpoint (moto) listening at {endpoint.url}")
        out("Use it from another shell (dummy credentials, no AWS account needed):")
        for name, value in endpoint.environment(args.region or "us-east-1").items():
            out(f"  export {name}={value}")
        out(f"  {Invocation(endpoint_url=endpoint.url, region=args.region).run('deploy')}")
        out("Press Ctrl-C to stop; the state is discarded.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    out("Stopped.")
    return 0


@contextlib.contextmanager
def _sigterm_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM sets ``stop`` (main thread only; the old handler comes back after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
