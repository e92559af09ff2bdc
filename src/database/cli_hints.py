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
    EndpointUnreachableError,
    InvalidCredentialsError,
    StackNeedsRecoveryError,
    TableNotFoundError,
    ThrottledError,
)

COMMAND = "python -m src.database"


def hint_for(error: DatabaseError, environment: str | None, target: str | None) -> str:
    """The command hint for ``error`` ("" when there is none), for ``environment`` on ``target``."""
    env = environment or "dev"
    on = f" --target {target}" if target and target != "local" else ""
    cause = error.__cause__
    if isinstance(error, TableNotFoundError):
        return f"Deploy it first: {COMMAND} deploy --env {env}{on}"
    if isinstance(error, StackNeedsRecoveryError):
        # the deployer raised it, so importing stack here costs nothing
        from .stack import recovery_command

        return f"Recover with: {recovery_command(env)}{on}"
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
        if target == "aws":
            return "Check the network, --region and any AWS_ENDPOINT_URL* variable."
        return "Check --endpoint-url (e.g. the URL that 'serve' printed)."
    if isinstance(error, ThrottledError):
        return "Retry later, or raise AWS_MAX_ATTEMPTS."
    return ""
