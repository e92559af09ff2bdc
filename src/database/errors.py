"""The package's exception hierarchy and the one place that translates boto errors.

Roles:
- ``DatabaseError`` and its subclasses: what callers catch. Each error carries the
  AWS ``operation`` it came from, the AWS error ``code`` and the AWS message
  (``aws_message``) when AWS answered, and a message that says what went wrong and
  what to check, in the library's terms (arguments, ``ClientSettings`` fields,
  environment variables), never a command to run: hints belong to the CLI. The
  boto exception, when there is one, is chained as ``__cause__``.
- ``translate``: maps a botocore/boto3 exception to the matching package error.
  The AWS message is passed through ``redaction.redact`` (a signature mismatch
  quotes the signed headers, the security token among them) and kept to one line;
  the boto exception itself, which the caller chains, is redacted in place.
"""

from __future__ import annotations

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError

from .redaction import redact, redact_exception

_MAX_AWS_MESSAGE = 300


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


AWS_CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
"""What a boto3 client call raises for a failed request; ``translate`` handles each of them."""

# the AWS error codes of a throttled call (the deadline treats them as HTTP 429)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
_INVALID_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
        "MissingAuthenticationToken",
        "IncompleteSignature",
    }
)
_ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def error_code(error: ClientError) -> str:
    """Return the AWS error code of a ClientError ("" when absent)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def one_line(text: str) -> str:
    """``text`` redacted, on one line, shortened: what AWS or botocore said, fit for a message."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= _MAX_AWS_MESSAGE else text[:_MAX_AWS_MESSAGE] + "..."


def aws_message_of(error: ClientError) -> str:
    """The AWS error message of a ClientError: redacted, on one line, shortened ("" when absent)."""
    return one_line(str(error.response.get("Error", {}).get("Message") or ""))


def credential_source_error(error: Exception, *, operation: str) -> CredentialsError:
    """The error for a credential source that failed (a credential_process, an assumed role), with its reason.

    ``error`` is botocore's ``CredentialRetrievalError`` (its message gives the reason:
    the process's exit status and stderr, a missing key, an unsupported ``Version``), or
    what botocore let through unchanged: a process's output that is not JSON raises
    ``json.JSONDecodeError``.
    """
    reason = str(error) if isinstance(error, BotoCoreError) else f"{type(error).__name__}: {error}"
    process = " (a credential_process must print one JSON object)" if isinstance(error, ValueError) else ""
    return CredentialsError(
        f"The AWS credentials could not be obtained: {one_line(reason)}{process}. Check the profile's "
        "credential_process (or its other credential source) in the AWS config file.",
        operation=operation,
    )


def translate(error: Exception, *, operation: str, table: str | None = None, where: str = "") -> DatabaseError:
    """Map a boto exception raised by ``operation`` to the package's own error.

    ``where`` names the region/endpoint for the message. The returned error is meant
    to be raised ``from error`` by the caller, so the original stays in the chain:
    ``error`` and what is chained to it are redacted first, in place (``redact_exception``).
    """
    redact_exception(error)
    if isinstance(error, DatabaseError):
        return error
    if isinstance(error, ClientError):
        return _translate_client_error(error, operation=operation, table=table, where=where)
    target = f" in {where}" if where else ""
    if isinstance(error, ProfileNotFound):
        return CredentialsError(
            f"AWS profile '{error.kwargs.get('profile', '?')}' not found in the AWS config files. "
            "Check the profile name (profile= or AWS_PROFILE) and AWS_CONFIG_FILE.",
            operation=operation,
        )
    if isinstance(error, NoCredentialsError):
        return CredentialsError(operation=operation)
    if isinstance(error, PartialCredentialsError):
        return CredentialsError(
            f"Incomplete AWS credentials: {one_line(str(error))}. Give the access key id and the secret key "
            "together (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or both in the profile).",
            operation=operation,
        )
    if isinstance(error, CredentialRetrievalError):
        return credential_source_error(error, operation=operation)
    if isinstance(error, TokenRetrievalError):
        return InvalidCredentialsError(
            f"The SSO session's token could not be refreshed: {one_line(str(error))}. "
            "Log in to the SSO session again and retry.",
            operation=operation,
        )
    if isinstance(error, UnauthorizedSSOTokenError):  # botocore's message names a command: the CLI's job
        return InvalidCredentialsError(operation=operation)
    if isinstance(error, NoRegionError):
        return ConfigurationError(
            "No AWS region configured. Give region=, set AWS_REGION / AWS_DEFAULT_REGION, "
            "or set the profile's region.",
            operation=operation,
        )
    if isinstance(error, ParamValidationError):
        return ConfigurationError(
            f"{operation} was not sent{target}: its parameters are invalid: {_validation_report(error)}",
            operation=operation,
        )
    if isinstance(error, SSLError):  # e.g. https:// to a port that speaks plain HTTP
        return EndpointUnreachableError(
            f"The TLS handshake with the endpoint{target} failed for {operation} (SSLError). If the endpoint "
            "serves plain HTTP (as local emulators do), its URL starts with http://, not https://.",
            operation=operation,
        )
    if isinstance(error, ReadTimeoutError):  # connected and sent: the answer is what did not come in time
        return EndpointUnreachableError(
            f"{operation} timed out{target} reading the answer: the endpoint took the request but did not "
            "answer within the read timeout, on every attempt. A slow endpoint or a large answer "
            "(e.g. an emulator) may need a longer ClientSettings.read_timeout.",
            operation=operation,
        )
    if isinstance(error, ConnectTimeoutError):
        return EndpointUnreachableError(
            f"{operation} timed out{target} connecting (no connection within the connect timeout, "
            "after every retry). Check the endpoint and network, or raise ClientSettings.connect_timeout.",
            operation=operation,
        )
    if isinstance(error, ConnectionClosedError):
        return EndpointUnreachableError(
            f"The endpoint{target} closed the connection without answering {operation}, on every attempt. "
            "Check the endpoint URL and anything in between (proxy, load balancer), then retry.",
            operation=operation,
        )
    if isinstance(error, (EndpointConnectionError, HTTPClientError)):
        return EndpointUnreachableError(
            f"Could not reach the endpoint{target} for {operation} ({type(error).__name__}). "
            "Is it running and is the URL right?",
            operation=operation,
        )
    if isinstance(error, ResponseParserError):
        return ServiceError(
            f"{operation} failed{target}: the endpoint's answer is not a valid AWS response. "
            "Check that the endpoint URL points at the right AWS service (or emulator).",
            operation=operation,
        )
    return ServiceError(f"{operation} failed{target}: {type(error).__name__}.", operation=operation)


# the parts of botocore's report that name a parameter and what it needs, never the value given (it may be secret)
_REPORT_PROBLEM = re.compile(
    r'(Missing required parameter in input: "[^"]*"|Unknown parameter in input: "[^"]*"|Invalid \w+ for parameter \S+?)'
    r"(?:,|$)"
)
_REPORT_NEEDS = re.compile(r"(valid types: .*|valid min length: \d+|valid max length: \d+|valid range: .*)$")


def _validation_report(error: ParamValidationError) -> str:
    """What botocore's report says of each invalid parameter, on one line, without the values given."""
    problems = []
    for line in str(error.kwargs.get("report", "")).splitlines():
        problem, needs = _REPORT_PROBLEM.match(line), _REPORT_NEEDS.search(line)
        if problem:
            problems.append(problem.group(1) + (f" ({needs.group(1)})" if needs else ""))
    text = redact("; ".join(problems) or "see botocore's ParamValidationError")
    return text if len(text) <= _MAX_AWS_MESSAGE else text[:_MAX_AWS_MESSAGE] + "..."


def _translate_client_error(error: ClientError, *, operation: str, table: str | None, where: str) -> DatabaseError:
    """``translate`` for an error AWS answered with: its code picks the class, its message is kept."""
    target = f" in {where}" if where else ""
    code = error_code(error)
    said = aws_message_of(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
    if not code or code == str(status):  # botocore's stand-in when the answer carries no AWS error code
        return ServiceError(
            f"{operation} failed{target}: HTTP {status} without an AWS error code. "
            "Check that the endpoint URL points at the right AWS service (or emulator).",
            operation=operation,
        )
    details = {"operation": operation, "code": code, "aws_message": said}
    what = f"{code}: {said}" if said else code
    if code == "ResourceNotFoundException" and table:
        return TableNotFoundError(
            f"Table '{table}' not found{target} ({what}). Check the region and endpoint, "
            "and that the table's stack is deployed there.",
            **details,
        )
    if code == "ConditionalCheckFailedException":
        return ConditionalCheckFailedError(
            f"{operation} on {table or 'the table'}: the write's condition was not met, nothing was written ({what}).",
            **details,
        )
    if code in THROTTLING_CODES:
        return ThrottledError(
            f"{operation} was throttled{target} after all retry attempts ({what}). "
            "Retry later or raise ClientSettings.max_attempts.",
            **details,
        )
    if code in _INVALID_CREDENTIAL_CODES:
        return InvalidCredentialsError(
            f"AWS rejected the credentials for {operation} ({what}). Refresh or replace them and try again.",
            **details,
        )
    if code in _ACCESS_DENIED_CODES:
        return AccessDeniedError(
            f"Access denied for {operation}{target} ({what}). Grant the caller permission for it.", **details
        )
    if isinstance(status, int) and status >= 500:
        return ServiceError(
            f"{operation} failed{target}: {what} (HTTP {status}), a server-side error that lasted through "
            "every retry attempt. Retry later, or raise ClientSettings.max_attempts if it is intermittent.",
            **details,
        )
    return ServiceError(f"{operation} failed{target}: {what}", **details)


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
