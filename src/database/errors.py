"""The package's exception hierarchy and the one place that translates boto errors.

Roles:
- ``DatabaseError`` and its subclasses: what callers catch. Each class carries a
  default message that says what went wrong and what to do; the boto exception,
  when there is one, is chained as ``__cause__``.
- ``translate``: maps a botocore/boto3 exception to the matching package error.
  Messages are built from error codes and names we control, never from request
  headers or credentials, so they cannot carry a secret.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError


class DatabaseError(Exception):
    """Base class of every error this package raises on purpose."""

    default_message = "The DynamoDB operation failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

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
        "No AWS credentials found. Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
        "run 'aws configure', or use the embedded endpoint (--target local)."
    )


class InvalidCredentialsError(CredentialsError):
    """AWS rejected the credentials: unknown key, bad signature or expired token."""

    default_message = (
        "AWS rejected the credentials (invalid or expired). Refresh them "
        "(for SSO: 'aws sso login') and try again."
    )


class AccessDeniedError(DatabaseError):
    """The credentials are valid but lack the IAM permission for the call."""

    default_message = "Access denied. Grant the caller the DynamoDB/CloudFormation permission it needs."


class TableNotFoundError(DatabaseError):
    """The table does not exist in the target account and region."""

    default_message = "The table does not exist. Deploy it first: python -m src.database deploy --env dev"


class EndpointUnreachableError(DatabaseError):
    """The endpoint refused, dropped or never answered the connection in time."""

    default_message = "The DynamoDB endpoint could not be reached. Check the endpoint URL, network and timeouts."


class ThrottledError(DatabaseError):
    """Requests were still throttled after every retry attempt."""

    default_message = "DynamoDB throttled the request after all retries. Retry later or raise AWS_MAX_ATTEMPTS."


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


class TemplateError(DeploymentError):
    """The CloudFormation template is missing, unparsable or rejected by cfn-lint."""

    default_message = "The CloudFormation template is invalid."


AWS_CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
"""What a boto3 client call raises for a failed request; ``translate`` handles each of them."""

_THROTTLING_CODES = frozenset(
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


def translate(error: Exception, *, operation: str, table: str | None = None, where: str = "") -> DatabaseError:
    """Map a boto exception raised by ``operation`` to the package's own error.

    ``where`` names the region/endpoint for the message. The returned error is meant
    to be raised ``from error`` by the caller, so the original stays in the chain.
    """
    target = f" in {where}" if where else ""
    if isinstance(error, DatabaseError):
        return error
    if isinstance(error, ProfileNotFound):
        return CredentialsError(
            f"AWS profile '{error.kwargs.get('profile', '?')}' not found. "
            "List profiles with 'aws configure list-profiles' or fix AWS_PROFILE."
        )
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError()
    if isinstance(error, (TokenRetrievalError, UnauthorizedSSOTokenError)):
        return InvalidCredentialsError()
    if isinstance(error, NoRegionError):
        return ConfigurationError("No AWS region configured. Pass --region or set AWS_REGION / AWS_DEFAULT_REGION.")
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError)):
        return EndpointUnreachableError(
            f"{operation} timed out{target} (no answer within the configured timeouts, after every retry). "
            "Check the endpoint and network, or raise VIBEDIGEST_CONNECT_TIMEOUT / VIBEDIGEST_READ_TIMEOUT."
        )
    if isinstance(error, ConnectionClosedError):
        return EndpointUnreachableError(
            f"The endpoint{target} closed the connection without answering {operation}, on every attempt. "
            "Check the endpoint URL and anything in between (proxy, load balancer), then retry."
        )
    if isinstance(error, (EndpointConnectionError, HTTPClientError)):
        return EndpointUnreachableError(
            f"Could not reach the endpoint{target} for {operation} ({type(error).__name__}). "
            "Is it running and is the URL right?"
        )
    if isinstance(error, ClientError):
        code = error_code(error)
        if code == "ResourceNotFoundException" and table:
            environment = table.rpartition("-")[2] if table.startswith("VibeDigest-") else "<env>"
            return TableNotFoundError(
                f"Table '{table}' not found{target}. Deploy it first: python -m src.database deploy --env {environment}."
            )
        if code == "ConditionalCheckFailedException":
            return ConditionalCheckFailedError(f"{operation} failed{target}: its condition was not met ({code}).")
        if code in _THROTTLING_CODES:
            return ThrottledError(
                f"{operation} was throttled ({code}){target} after all retry attempts. "
                "Retry later or raise AWS_MAX_ATTEMPTS."
            )
        if code in _INVALID_CREDENTIAL_CODES:
            return InvalidCredentialsError(
                f"AWS rejected the credentials for {operation} ({code}). Refresh or replace them and try again."
            )
        if code in _ACCESS_DENIED_CODES:
            return AccessDeniedError(
                f"Access denied for {operation}{target} ({code}). Grant the caller permission for it."
            )
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        if isinstance(status, int) and status >= 500:
            return ServiceError(
                f"{operation} failed{target}: {code or 'error'} (HTTP {status}), a server-side error that "
                "lasted through every retry attempt. Retry later, or raise AWS_MAX_ATTEMPTS if it is intermittent."
            )
        if not code or code == str(status):  # botocore's stand-in when the answer carries no AWS error code
            return ServiceError(
                f"{operation} failed{target}: HTTP {status} without an AWS error code. "
                "Check that the endpoint URL points at the right AWS service (or emulator)."
            )
        return ServiceError(f"{operation} failed{target}: {code or 'error'} (HTTP {status}).")
    if isinstance(error, BotoCoreError):
        return ServiceError(f"{operation} failed{target}: {type(error).__name__}.")
    if isinstance(error, ResponseParserError):
        return ServiceError(
            f"{operation} failed{target}: the endpoint's answer is not a valid AWS response. "
            "Check that the endpoint URL points at the right AWS service (or emulator)."
        )
    return ServiceError(f"{operation} failed{target}: {type(error).__name__}.")


class ItemExistsError(DatabaseError):
    """A put with ``only_if_absent=True`` found an item with the same key already stored."""

    default_message = "An item with this key already exists; nothing was written."


class BatchWriteError(DatabaseError):
    """A batch write ended with items not confirmed as written.

    ``unwritten`` lists their ``(digest_date, item_id)`` keys in input order, so the
    caller can retry exactly those; every other item of the call was written.
    """

    default_message = "Some items of the batch were not written."

    def __init__(self, message: str | None = None, unwritten: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.unwritten: list[tuple[str, str]] = list(unwritten or [])
