"""The deploy tool: ``python -m src.database <command>``.

Commands: ``demo`` (the main job: ``deploy``, then write and read back today's
sample digest), ``deploy`` (lint, preview, deploy, verify, test the connection),
``status`` (test the connection and describe the table), ``serve`` (run the embedded
endpoint), ``recover`` (after a failed deployment), ``delete`` (the stack; the table
is retained) and ``lint``. Targets: ``local`` (embedded moto endpoint, the default),
``localstack`` or ``aws`` (boto3's standard configuration).

Expected failures print one ``error:`` line to stderr and exit 1 (2 for usage
errors); progress goes to stdout, logs to stderr (``-v`` for INFO, ``--debug`` for
DEBUG with credentials redacted).

Start-up cost: the heavy modules are imported where a command needs them, not here.
moto (``local_endpoint``) is imported only when the embedded endpoint starts (not
with ``--endpoint-url`` or another target); cfn-lint (``template``, which ``stack``
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
import sys
import threading
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from . import redaction
from .client import DynamoDBClient
from .connection import Target
from .digest_store import DigestStore, format_digest, sample_digest
from .errors import ConfigurationError, DatabaseError, DeploymentError
from .settings import (
    PROJECT_TAG,
    ClientSettings,
    stack_name_for,
    table_name_for,
    validate_endpoint_url,
    validate_environment,
    validate_region,
    validate_timeout,
)

if TYPE_CHECKING:
    from .stack import StackDeployer
    from .template import Template

logger = logging.getLogger(__name__)

TARGETS = ("local", "localstack", "aws")


def out(line: str = "") -> None:
    """Print one line of progress to stdout, flushed so it shows while waiting."""
    print(line, flush=True)


def stack_tags(environment: str) -> dict[str, str]:
    """Tags put on the stack (CloudFormation propagates them to the table too)."""
    return {"Project": PROJECT_TAG, "Environment": environment, "DeployedBy": "vibedigest-deploy"}


@contextlib.contextmanager
def open_target(args: argparse.Namespace) -> Iterator[tuple[Target, str | None]]:
    """Yield the connection target chosen on the command line and the emulator's name.

    ``local`` starts the embedded endpoint for the command's duration, unless
    ``--endpoint-url`` points at one already running (``serve``).
    """
    settings = ClientSettings.from_env()
    if args.target == "aws":
        yield Target(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile, settings=settings), None
    elif args.target == "localstack":
        from localstack_client.config import get_service_endpoint

        url = args.endpoint_url or get_service_endpoint("dynamodb") or "http://localhost:4566"
        yield Target.local(url, args.region, settings), "localstack"
    elif args.endpoint_url:
        yield Target.local(args.endpoint_url, args.region, settings), "moto"
    else:
        from .local_endpoint import EmbeddedEndpoint  # imports moto: only when the endpoint really starts

        with EmbeddedEndpoint() as endpoint:
            out(f"Embedded endpoint (moto) at {endpoint.url}; its state is discarded when this command ends.")
            yield Target.local(endpoint.url, args.region, settings), "moto"


def _environment(args: argparse.Namespace) -> str:
    return validate_environment(args.env)


def deploy_and_verify(
    args: argparse.Namespace, template: Template, target: Target, emulator: str | None
) -> tuple[bool, DynamoDBClient]:
    """Deploy the stack on ``target``, verify the table and test the connection.

    Returns whether all went well and the table's ``DynamoDBClient``, already
    connected. One session and one DynamoDB client serve the deployment, the
    verification and the connection test.
    """
    from .stack import StackDeployer
    from .template import expected_table
    from .verify import all_passed, verify_table

    environment = _environment(args)
    expected = expected_table(template, environment)
    session = target.session()
    dynamodb = target.client("dynamodb", session)
    connection = DynamoDBClient.for_target(target, environment, client=dynamodb)
    deployer = StackDeployer(target.client("cloudformation", session), dynamodb, report=out, timeout=args.timeout)
    result = deployer.deploy(
        template,
        stack_name=stack_name_for(environment),
        environment=environment,
        table_name=expected.table_name,
        tags=stack_tags(environment),
        execute=not args.dry_run,
    )
    if args.dry_run:
        return True, connection
    out("Verifying the live table against the template:")
    checks = verify_table(dynamodb, expected, stack_outputs=result.outputs, emulator=emulator)
    for check in checks:
        out(f"  {check}")
    print_description(connection.test_connection())
    passed = all_passed(checks)
    out("Deployment verified." if passed else "Deployment finished but the table does not match the template.")
    return passed, connection


def report_lint_warnings(template: Template) -> None:
    """Print cfn-lint's warnings (errors never get this far: they stop the command)."""
    for warning in template.warnings:
        out(f"cfn-lint warning: {warning}")


def print_description(description: dict[str, Any]) -> None:
    """Print a table description as aligned ``key: value`` lines."""
    out("Connection OK. Table description:")
    for key in ("table_name", "table_arn", "status", "partition_key", "sort_key", "billing_mode",
                "item_count", "size_bytes", "deletion_protection", "created", "region", "endpoint"):
        out(f"  {key:<20} {description.get(key)}")


def lint_template(args: argparse.Namespace) -> Template:
    """Parse and lint ``--template`` (cfn-lint, imported here, once per process); errors stop the command."""
    from .template import DEFAULT_TEMPLATE, load_template

    return load_template(args.template or DEFAULT_TEMPLATE)


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploy (or preview with --dry-run), verify and test the connection."""
    _environment(args)
    template = lint_template(args)  # linted before any endpoint or AWS call
    report_lint_warnings(template)
    with open_target(args) as (target, emulator):
        verified, _ = deploy_and_verify(args, template, target, emulator)
    return 0 if verified else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job: deploy, verify, test the connection, then write and read back today's sample digest."""
    environment = _environment(args)
    if environment == "prod":
        raise ConfigurationError("The demo writes sample items; run it on dev or staging, not prod.")
    template = lint_template(args)
    with open_target(args) as (target, emulator):
        verified, connection = deploy_and_verify(args, template, target, emulator)
        store = DigestStore(connection)
        today = date.today()
        items = sample_digest(today)
        store.put_many(items)
        stored = store.day(today)
        out(f"Wrote {len(items)} sample items for {today.isoformat()} and read {len(stored)} back:")
        out(format_digest(stored))
        if sorted(stored, key=lambda item: item.item_id) != sorted(items, key=lambda item: item.item_id):
            raise DeploymentError("The digest read back differs from the one written.")
    return 0 if verified else 1


def cmd_status(args: argparse.Namespace) -> int:
    """Test the connection to the environment's table and describe it."""
    environment = _environment(args)
    with open_target(args) as (target, _):
        print_description(DynamoDBClient.for_target(target, environment).test_connection())
    return 0


def _deployer(target: Target) -> StackDeployer:
    """A ``StackDeployer`` whose two clients come from one session of ``target``."""
    from .stack import StackDeployer

    session = target.session()
    return StackDeployer(target.client("cloudformation", session), target.client("dynamodb", session), report=out)


def cmd_recover(args: argparse.Namespace) -> int:
    """Get a stack out of ROLLBACK_COMPLETE / UPDATE_ROLLBACK_FAILED."""
    environment = _environment(args)
    with open_target(args) as (target, _):
        out(_deployer(target).recover(stack_name_for(environment), environment))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete the stack; prod needs --confirm-prod. The table is retained."""
    environment = _environment(args)
    if environment == "prod" and not args.confirm_prod:
        raise ConfigurationError("Deleting the prod stack needs --confirm-prod. Nothing was deleted.")
    with open_target(args) as (target, _):
        _deployer(target).delete(stack_name_for(environment))
    table = table_name_for(environment)
    out(f"Table {table} is retained (DeletionPolicy: Retain). To remove the data as well, "
        f"disable deletion protection and run: aws dynamodb delete-table --table-name {table}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """Lint the template with cfn-lint."""
    template = lint_template(args)
    report_lint_warnings(template)
    out(f"{template.path}: cfn-lint found no errors ({len(template.warnings)} warning(s)).")
    return 0


def cmd_serve(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Run the embedded endpoint until interrupted, printing how to use it."""
    from .local_endpoint import EmbeddedEndpoint  # imports moto

    stop = stop or threading.Event()
    with _sigterm_sets(stop), EmbeddedEndpoint(host=args.host, port=args.port) as endpoint:
        out(f"Embedded DynamoDB + CloudFormation endpoint (moto) listening at {endpoint.url}")
        out("Use it from another shell (dummy credentials, no AWS account needed):")
        for name, value in endpoint.environment(args.region or "us-east-1").items():
            out(f"  export {name}={value}")
        out(f"  python -m src.database deploy --env dev --endpoint-url {endpoint.url}")
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


def check_options(args: argparse.Namespace) -> None:
    """Validate the options every command shares, before any endpoint starts or request is sent."""
    if getattr(args, "region", None) is not None:
        validate_region(args.region)
    if getattr(args, "endpoint_url", None) is not None:
        validate_endpoint_url(args.endpoint_url)
    if getattr(args, "timeout", None) is not None:
        validate_timeout(args.timeout)
    if getattr(args, "profile", None) and getattr(args, "target", "aws") != "aws":
        raise ConfigurationError("--profile applies to --target aws only; local targets use dummy credentials.")


def one_line(text: str) -> str:
    """``text`` on one printable line: newlines/tabs become spaces, other control characters escapes."""
    return "".join(
        char if char.isprintable() else " " if char in "\n\r\t" else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m src.database",
        description="Deploy, verify, check and recover the VibeDigest DynamoDB table "
        "on the embedded endpoint (default), LocalStack or AWS.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to stderr")
    parser.add_argument("--debug", action="store_true", help="log DEBUG, botocore included (secrets redacted)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str,
                aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, aliases=list(aliases))
        sub.set_defaults(handler=handler)
        return sub

    def connection_options(sub: argparse.ArgumentParser, *, env: bool = True) -> None:
        if env:
            sub.add_argument("--env", default="dev", help="dev, staging or prod (default: dev)")
        sub.add_argument("--target", choices=TARGETS, default="local",
                         help="local: embedded moto endpoint (default); localstack; aws: boto3's standard configuration")
        sub.add_argument("--region", help="AWS region (default: boto3's chain; us-east-1 for local targets)")
        sub.add_argument("--profile", help="named AWS profile (target aws)")
        sub.add_argument("--endpoint-url", help="endpoint URL, e.g. one printed by 'serve'")

    def template_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--template", help="CloudFormation template path (default: the repository's infrastructure/dynamodb.yml)")

    deploy = command("deploy", cmd_deploy, "deploy or update the stack, verify the table, test the connection")
    connection_options(deploy)
    template_option(deploy)
    deploy.add_argument("--dry-run", action="store_true", help="show the change set only; change nothing")
    deploy.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stack (default 120)")

    demo = command("demo", cmd_demo, "the main job: deploy, verify, write and read back today's sample digest")
    connection_options(demo)
    template_option(demo)
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stack (default 120)")
    demo.set_defaults(dry_run=False)

    connection_options(command("status", cmd_status, "test the connection and describe the table", ["check"]))
    connection_options(command("recover", cmd_recover, "recover a stack left by a failed deployment"))
    delete = command("delete", cmd_delete, "delete the stack (the table is retained)")
    connection_options(delete)
    delete.add_argument("--confirm-prod", action="store_true", help="required to delete the prod stack")
    template_option(command("lint", cmd_lint, "lint the template with cfn-lint"))
    serve = command("serve", cmd_serve, "run the embedded endpoint until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--region", help="region to print in the environment (default us-east-1)")
    return parser


def configure_logging(verbose: bool, debug: bool) -> None:
    """Send logs to stderr: none by default (the CLI reports errors itself in one line),
    INFO with -v, DEBUG with --debug (botocore's wire log included, secrets redacted)."""
    redaction.install()
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.CRITICAL
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if not debug:
        logging.getLogger("botocore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, args.debug)
    try:
        check_options(args)
        return args.handler(args)
    except DatabaseError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, as other CLI tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 1
