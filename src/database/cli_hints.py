"""What the deploy tool tells its user to run next, after a library error.

Library messages say what went wrong and what to check, in the library's terms;
the commands to run belong here, to the CLI, which appends ``hint_for(...)`` to the
one ``error:`` line it prints.
"""

from __future__ import annotations

from botocore.exceptions import (
    ConnectTimeoutError,
    NoRegionError,
    ProfileNotFound,
    ReadTimeoutError,
)

from .errors import (
    CredentialsError,
    DatabaseError,
    DeadlineExceededError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    StackNeedsRecoveryError,
    TableNotFoundError,
    ThrottledError,
)

COMMAND = "python -m src.database"


def command(name: str, environment: str | None, target: str | None) -> str:
    """The deploy tool's command line for ``name`` (deploy, recover, status) on ``environment`` and ``target``."""
    on = f" --target {target}" if target and target != "local" else ""
    return f"{COMMAND} {name} --env {environment or 'dev'}{on}"


def after_recovery(deployable: bool, environment: str | None, target: str | None) -> str:
    """What to run after ``recover`` ("" when the stack needed nothing)."""
    return f"Deploy with: {command('deploy', environment, target)}" if deployable else ""


def hint_for(
    error: DatabaseError, environment: str | None, target: str | None, *, endpoint_from: str = "--endpoint-url"
) -> str:
    """The command hint for ``error`` ("" when there is none), for ``environment`` on ``target``.

    ``endpoint_from`` names where a local target's endpoint URL came from (the option
    or an ``AWS_ENDPOINT_URL*`` variable), for the hint of an unreachable endpoint.
    """
    cause = error.__cause__
    if isinstance(error, TableNotFoundError):
        return f"Deploy it first: {command('deploy', environment, target)}"
    if isinstance(error, StackNeedsRecoveryError):
        return f"Recover with: {command('recover', environment, target)}"
    if isinstance(error, DeadlineExceededError) and cause is None:  # a wait for the stack or the table
        return f"Raise --timeout; see what the stack did with: {command('status', environment, target)}"
    if isinstance(error, DeadlineExceededError):  # an AWS call without an answer in time
        return f"{_check_endpoint(target, endpoint_from)} Or raise --timeout."
    if isinstance(error, InvalidCredentialsError):
        return "For an SSO profile: aws sso login --profile NAME."
    if isinstance(cause, ProfileNotFound):
        return "List the profiles with: aws configure list-profiles (then pass --profile NAME)."
    if isinstance(error, CredentialsError):
        return "Run 'aws configure' (or pass --profile), or use the embedded endpoint: --target local."
    if isinstance(cause, NoRegionError):
        return "Pass --region or set AWS_REGION."
    if isinstance(error, EndpointUnreachableError):
        if isinstance(cause, (ConnectTimeoutError, ReadTimeoutError)):
            return "For a slow endpoint raise VIBEDIGEST_CONNECT_TIMEOUT / VIBEDIGEST_READ_TIMEOUT."
        return _check_endpoint(target, endpoint_from)
    if isinstance(error, ThrottledError):
        return "Retry later, or raise AWS_MAX_ATTEMPTS."
    return ""


def _check_endpoint(target: str | None, endpoint_from: str) -> str:
    """What to check when the endpoint did not answer: AWS's network, or the local endpoint's URL."""
    if target == "aws":
        return "Check the network, --region and any AWS_ENDPOINT_URL* variable."
    return f"Check {endpoint_from} (e.g. the URL that 'serve' printed)."
