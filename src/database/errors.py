"""The package's exception hierarchy: what callers catch.

``DatabaseError`` and its subclasses. Each error carries the AWS ``operation`` it came
from, the AWS error ``code`` and the AWS message (``aws_message``) when AWS answered,
and a message that says what went wrong and what to check, in the library's terms
(arguments, ``ClientSettings`` fields, environment variables), never a command to run:
hints belong to the CLI. The boto exception, when there is one, is chained as
``__cause__``; ``aws.translation`` maps boto's exceptions to these.
"""

from __future__ import annotations

from typing import Any

_MAX_SHOWN = 40


def shown(value: str) -> str:
    """Quote a user value for an error message, shortened so one line stays one line."""
    text = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
    return repr(text)


class DatabaseError(Exception):
    """Base class of every error this package raises on purpose.

    ``operation``: the AWS operation that failed (None when no call was made);
    ``code``: the AWS error code (None when AWS did not answer with one);
    ``aws_message``: what AWS said ("" when it said nothing), also part of ``str()``.
    """

    default_message = "The DynamoDB operation failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        operation: str | None = None,
        code: str | None = None,
        aws_message: str = "",
    ) -> None:
        text = message or self.default_message
        if aws_message and aws_message not in text:
            text = f"{text.rstrip('.')}: {aws_message}"
        super().__init__(text)
        self.operation = operation
        self.code = code
        self.aws_message = aws_message

    @property
    def message(self) -> str:
        """The one-line, user-facing text of the error."""
        return str(self.args[0])


class ConfigurationError(DatabaseError):
    """An input (environment, region, endpoint, table name, setting) is invalid."""

    default_message = "The configuration is invalid."


class CredentialsError(DatabaseError):
    """No usable AWS credentials were found, or the profile does not exist."""

    default_message = (
        "No AWS credentials found in boto3's chain. Check profile= (or AWS_PROFILE), "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the shared AWS config and credentials files."
    )


class InvalidCredentialsError(CredentialsError):
    """AWS rejected the credentials: unknown key, bad signature or expired token."""

    default_message = (
        "AWS rejected the credentials (invalid or expired). Refresh them "
        "(an SSO session needs a new login) and try again."
    )


class AccessDeniedError(DatabaseError):
    """The credentials are valid but lack the IAM permission for the call."""

    default_message = "Access denied. Grant the caller the DynamoDB/CloudFormation permission it needs."


class TableNotFoundError(DatabaseError):
    """The table does not exist in the target account and region."""

    default_message = "The table does not exist in this account and region. Check the region and endpoint."


class EndpointUnreachableError(DatabaseError):
    """The endpoint refused, dropped or never answered the connection in time."""

    default_message = "The DynamoDB endpoint could not be reached. Check the endpoint URL, network and timeouts."


class ThrottledError(DatabaseError):
    """Requests were still throttled after every retry attempt."""

    default_message = (
        "DynamoDB throttled the request after all retries. Retry later or raise ClientSettings.max_attempts."
    )


class ServiceError(DatabaseError):
    """The service answered with an error the package has no more specific class for."""


class ConditionalCheckFailedError(ServiceError):
    """A write's condition expression was false (DynamoDB's ConditionalCheckFailedException)."""

    default_message = "The write's condition was not met; nothing was written."


class ItemValidationError(DatabaseError):
    """An item or key would be rejected by DynamoDB; refused before any request."""

    default_message = "The item is invalid."


class DeploymentError(DatabaseError):
    """A template could not be deployed, or the stack ended in a failed state."""

    default_message = "The deployment failed."


class StackNeedsRecoveryError(DeploymentError):
    """The stack is in a failed state (e.g. ``ROLLBACK_COMPLETE``) that only a recovery clears."""

    default_message = "The stack is in a failed state; recover it (StackDeployer.recover), then deploy again."


class DeadlineExceededError(DeploymentError):
    """The operation's deadline (``deadline.Deadline``) passed: a wait or an AWS call gave up."""

    default_message = "Gave up: the deadline passed before the operation finished."


class TemplateError(DeploymentError):
    """The CloudFormation template is missing, unparsable or rejected by cfn-lint."""

    default_message = "The CloudFormation template is invalid."


class ItemExistsError(DatabaseError):
    """A put with ``only_if_absent=True`` found an item with the same key already stored."""

    default_message = "An item with this key already exists; nothing was written."


class BatchWriteError(DatabaseError):
    """A batch write ended with items not confirmed as written.

    Their ``(digest_date, item_id)`` keys, in input order: ``unwritten``, known not to be
    written; ``unconfirmed``, whose outcome is unknown (their request was sent, then its
    answer was lost or was a server error: they may be stored). Every other item of the
    call was written. Writing both lists again is safe: a put (or delete) is idempotent.
    """

    default_message = "Some items of the batch were not written."

    def __init__(
        self,
        message: str | None = None,
        unwritten: list[tuple[str, str]] | None = None,
        unconfirmed: list[tuple[str, str]] | None = None,
        **details: str | None,
    ) -> None:
        super().__init__(message, **details)  # type: ignore[arg-type]
        self.unwritten: list[tuple[str, str]] = list(unwritten or [])
        self.unconfirmed: list[tuple[str, str]] = list(unconfirmed or [])


class ItemFormatError(ItemValidationError):
    """A stored item (perhaps written by another tool) does not follow the reading rules.

    ``key`` is the item's ``(digest_date, item_id)`` as stored (None where absent) and
    ``attribute`` the attribute that breaks the rules.
    """

    default_message = "A stored item cannot be read as a digest item."

    def __init__(
        self,
        message: str | None = None,
        *,
        key: tuple[Any, Any] | None = None,
        attribute: str = "",
        **details: str | None,
    ) -> None:
        super().__init__(message, **details)  # type: ignore[arg-type]
        self.key = key
        self.attribute = attribute

    @classmethod
    def of(cls, key: tuple[Any, Any], attribute: str, problem: str) -> ItemFormatError:
        """The error of the stored item ``key`` whose ``attribute`` has ``problem``."""
        shown_key = ", ".join(shown(part) if isinstance(part, str) else repr(part) for part in key)
        return cls(f"Stored item ({shown_key}): attribute '{attribute}' {problem}", key=key, attribute=attribute)
