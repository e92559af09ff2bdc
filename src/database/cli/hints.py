"""What the deploy tool tells its user to run next, and the library's words put in the command line's.

Library messages say what went wrong and what to check, in the library's terms
(``region=``, ``ClientSettings.read_timeout``, ...); the CLI prints them in its own
(``in_cli_terms``: ``--region``, ``VIBEDIGEST_READ_TIMEOUT``, ...) and appends the
command to run next (``hint_for``). Every suggested command carries what the user
gave (environment, target, endpoint, region, profile), shell-quoted, so pasted as it
is it reaches the same place; an ``aws`` CLI command is suggested with the endpoint,
region and dummy credentials of a local target, so it never reaches a real account.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from botocore.exceptions import ProfileNotFound

from ..errors import (
    CredentialsError,
    DatabaseError,
    DeadlineExceededError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    ServiceError,
    StackNeedsRecoveryError,
    TableNotFoundError,
)
from ..settings import known_regions

COMMAND = "python -m src.database"
LOCAL_CREDENTIALS = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"

# the library's words for what the command line sets with an option or a variable
CLI_TERMS: tuple[tuple[str, str], ...] = (
    (" (StackDeployer.recover)", ""),
    ("ClientSettings.connect_timeout", "VIBEDIGEST_CONNECT_TIMEOUT"),
    ("ClientSettings.read_timeout", "VIBEDIGEST_READ_TIMEOUT"),
    ("ClientSettings.max_attempts", "AWS_MAX_ATTEMPTS"),
    ("endpoint_url=", "--endpoint-url"),
    ("region=", "--region"),
    ("profile=", "--profile"),
)


@dataclass(frozen=True)
class Invocation:
    """The command line a user gave: what a suggested command must repeat to reach the same place.

    ``endpoint_url``: the URL the user gave (``--endpoint-url``); ``endpoint``: the one
    really used, however it was chosen (option, variable, LocalStack's default);
    ``endpoint_from``: where it came from, for the user to check.
    """

    command: str = "deploy"
    environment: str = "dev"
    target: str = "local"
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    endpoint_from: str = "--endpoint-url"

    def run(self, name: str, *extra: str) -> str:
        """This tool's command line for ``name`` with the user's options (and ``extra`` ones), shell-quoted."""
        words = [name, "--env", self.environment]
        if self.target != "local":
            words += ["--target", self.target]
        for option, value in (("--endpoint-url", self.endpoint_url), ("--region", self.region),
                              ("--profile", self.profile)):
            if value:
                words += [option, value]
        return " ".join([COMMAND, *(shlex.quote(word) for word in [*words, *extra])])

    def aws_cli(self, *words: str, region: str) -> str:
        """An ``aws`` CLI command that reaches the same endpoint, region and account as this invocation.

        Local targets get their endpoint, the region and the dummy credentials, so the
        command never reaches (or signs with the credentials of) a real account.
        """
        options: list[str] = []
        if self.target != "aws" or self.endpoint_url:
            options += ["--endpoint-url", self.endpoint or self.endpoint_url or ""]
        if self.target != "aws" or self.region:
            options += ["--region", self.region or region]
        if self.profile:
            options += ["--profile", self.profile]
        command = " ".join(shlex.quote(word) for word in ["aws", *words, *options])
        return command if self.target == "aws" else f"{LOCAL_CREDENTIALS} {command}"


def in_cli_terms(message: str) -> str:
    """``message`` with the library's argument and setting names replaced by the CLI's options and variables."""
    for library, cli in CLI_TERMS:
        message = message.replace(library, cli)
    return message


def after_recovery(deployable: bool, invocation: Invocation) -> str:
    """What to run after ``recover`` ("" when the stack needed nothing)."""
    return f"Deploy with: {invocation.run('deploy')}" if deployable else ""


def hint_for(error: DatabaseError, invocation: Invocation, *, timeout: float | None = None) -> str:
    """The command hint for ``error`` ("" when there is none, or the message already says it).

    ``timeout``: the command's ``--timeout``, for the hint of a deadline that passed.
    """
    cause = error.__cause__
    if isinstance(error, TableNotFoundError):
        return f"Deploy it first: {invocation.run('deploy')}"
    if isinstance(error, StackNeedsRecoveryError):
        return f"Recover with: {invocation.run('recover')}"
    if isinstance(error, DeadlineExceededError) and cause is None:  # a wait for the stack or the table
        if invocation.command in ("deploy", "demo", "recover", "delete"):
            return f"Raise --timeout; see what the stack did with: {invocation.run('status')}"
        return _raise_timeout(invocation, timeout)
    if isinstance(error, DeadlineExceededError):  # an AWS call without an answer in time
        return f"{_check_endpoint(invocation)} Or raise --timeout."
    if isinstance(error, InvalidCredentialsError):
        return f"For an SSO profile: aws sso login --profile {shlex.quote(invocation.profile or 'NAME')}."
    if isinstance(cause, ProfileNotFound):
        return "List the profiles with: aws configure list-profiles"
    if isinstance(error, CredentialsError):
        return "Or run 'aws configure', or use a local endpoint: --target local."
    if isinstance(error, EndpointUnreachableError) and "_TIMEOUT" not in in_cli_terms(str(error)):
        return _check_endpoint(invocation)
    unknown_region = bool(invocation.region) and invocation.region not in known_regions()
    if isinstance(error, ServiceError) and "HTTP 500" in str(error) and unknown_region:
        # moto (embedded, serve) answers 500 for a region it has no backend for
        return f"The endpoint may not serve region {invocation.region!r}, which botocore does not know either."
    return ""


def _raise_timeout(invocation: Invocation, timeout: float | None) -> str:
    """The same command with a longer ``--timeout``."""
    longer = f"{max(2 * (timeout or 60.0), 10.0):g}"
    return f"Raise --timeout, e.g.: {invocation.run(invocation.command, '--timeout', longer)}"


def _check_endpoint(invocation: Invocation) -> str:
    """What to check when the endpoint did not answer: AWS's network, or where the local endpoint came from."""
    if invocation.target == "aws" and not invocation.endpoint_url:
        return "Check the network, --region and any AWS_ENDPOINT_URL* variable."
    if invocation.target == "localstack" and not invocation.endpoint_url:
        return f"No --endpoint-url was given, so LocalStack's was used ({invocation.endpoint}): start LocalStack, " \
            "or pass --endpoint-url."
    if invocation.endpoint_from == "--endpoint-url":
        return "Check --endpoint-url (e.g. the URL that 'serve' printed)."
    return f"Check {invocation.endpoint_from} (e.g. the URL that 'serve' printed)."
