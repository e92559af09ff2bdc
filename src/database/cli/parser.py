"""The deploy tool's entry point: its arguments, the checks every command shares, its logging, ``main``.

The commands themselves are in ``commands``; each handler is looked up there when the
parser is built, so the command a user names runs and nothing else is imported.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from .. import redaction
from ..aws.deadline import Deadline
from ..aws.target import configured_endpoints
from ..errors import ConfigurationError, DatabaseError
from ..settings import (
    DEFAULT_STACK_TIMEOUT,
    validate_endpoint_url,
    validate_known_region,
    validate_region,
    validate_timeout,
)
from . import commands as handlers
from .hints import COMMAND, hint_for, in_cli_terms
from .output import one_line

TARGETS = ("local", "localstack", "aws")
# commands that read or change what an earlier command left: an endpoint started for them alone starts empty
READS_EARLIER_STATE = ("status", "recover", "delete")


def check_options(args: argparse.Namespace) -> None:
    """Validate the options every command shares, before any endpoint starts or request is sent."""
    if getattr(args, "region", None) is not None:
        validate_region(args.region)
    if getattr(args, "endpoint_url", None) is not None:
        validate_endpoint_url(args.endpoint_url)
    if getattr(args, "timeout", None) is not None:
        validate_timeout(args.timeout, "--timeout")
    if getattr(args, "profile", None) and getattr(args, "target", "aws") != "aws":
        raise ConfigurationError("--profile applies to --target aws only; local targets use dummy credentials.")
    if getattr(args, "target", None) == "local" and not args.endpoint_url and not configured_endpoints():
        if args.name in READS_EARLIER_STATE:
            raise ConfigurationError(
                f"{args.name} reads what an earlier command left, but without --endpoint-url or AWS_ENDPOINT_URL "
                "it would start an embedded endpoint of its own, empty: the embedded endpoint keeps nothing "
                f"between commands. Start one that lasts with: {COMMAND} serve, then run the export lines it "
                "prints (or pass --endpoint-url with the URL it prints)."
            )
        if args.region is not None:
            validate_known_region(args.region)  # the embedded endpoint (moto) serves known regions only


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m src.database",
        description="Deploy, verify, check and recover the VibeDigest DynamoDB table "
        "on the embedded endpoint (default), LocalStack or AWS.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to stderr")
    parser.add_argument("--debug", action="store_true", help="log DEBUG, botocore included (secrets redacted)")
    # the same options after the command; SUPPRESS: when absent there, the value given before it stands
    logging_options = argparse.ArgumentParser(add_help=False)
    logging_options.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                 help="log INFO to stderr")
    logging_options.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                 help="log DEBUG, botocore included (secrets redacted)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str,
                aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, aliases=list(aliases),
                                  parents=[logging_options])
        sub.set_defaults(handler=handler, name=name, command_parser=sub)
        return sub

    def connection_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--env", default="dev", help="dev, staging or prod (default: dev)")
        sub.add_argument("--target", choices=TARGETS, default="local",
                         help="local (default): --endpoint-url, else AWS_ENDPOINT_URL*, else an embedded "
                         "moto endpoint; localstack; aws: boto3's standard configuration")
        sub.add_argument("--region", help="AWS region (default: boto3's chain; us-east-1 for local targets)")
        sub.add_argument("--profile", help="named AWS profile (target aws)")
        sub.add_argument("--endpoint-url", help="endpoint URL, e.g. one printed by 'serve'")
        sub.add_argument("--timeout", type=float, default=DEFAULT_STACK_TIMEOUT,
                         help="seconds the whole command may take, every AWS call included "
                         f"(default {DEFAULT_STACK_TIMEOUT:g})")

    def template_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--template",
                         help="CloudFormation template path (default: the repository's infrastructure/dynamodb.yml)")

    deploy = command("deploy", handlers.cmd_deploy, "deploy or update the stack, verify the table, test the connection")
    connection_options(deploy)
    template_option(deploy)
    deploy.add_argument("--dry-run", action="store_true", help="show the change set only; change nothing")

    demo = command("demo", handlers.cmd_demo, "the main job: deploy, verify, write and read back today's sample digest")
    connection_options(demo)
    template_option(demo)
    demo.set_defaults(dry_run=False)

    status_help = "show the stack (status, events, outputs, exports) and the table"
    connection_options(command("status", handlers.cmd_status, status_help, ["check"]))
    connection_options(command("recover", handlers.cmd_recover, "recover a stack left by a failed deployment"))
    delete = command("delete", handlers.cmd_delete, "delete the stack (the table is retained)")
    connection_options(delete)
    delete.add_argument("--confirm-prod", action="store_true", help="required to delete the prod stack")
    template_option(command("lint", handlers.cmd_lint, "lint the template with cfn-lint"))
    serve = command("serve", handlers.cmd_serve, "run the embedded endpoint until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--region", help="region to print in the environment (default us-east-1)")
    return parser


def configure_logging(verbose: bool, debug: bool) -> None:
    """Send logs to stderr: none by default, INFO with -v, DEBUG with --debug.

    By default the CLI reports errors itself, in one line. DEBUG includes botocore's
    wire log, with secrets redacted.
    """
    redaction.install()
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.CRITICAL
    handler = logging.StreamHandler(sys.stderr)
    # on the handler too: records of loggers with levels of their own (werkzeug's, in the embedded endpoint)
    # reach the root's handlers whatever the root's level is
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # botocore's own records (the wire log among them) only with --debug; NOTSET lets the root level decide
    logging.getLogger("botocore").setLevel(logging.NOTSET if debug else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # said by the command's own parser, so the usage and error lines name the command
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_logging(args.verbose, args.debug)
    try:
        check_options(args)
        if getattr(args, "timeout", None) is not None:
            args.deadline = Deadline(args.timeout)  # from here: linting, the endpoint's start, every AWS call
        code: int = args.handler(args)
        return code
    except DatabaseError as error:
        hint = hint_for(error, handlers.invocation(args), timeout=getattr(args, "timeout", None))
        line = f"{in_cli_terms(str(error))}{' ' + hint if hint else ''}"
        print(f"error: {one_line(line)}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, as other CLI tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 1
