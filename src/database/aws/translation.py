"""The one place that translates boto errors into the package's (``errors``).

``translate`` maps a botocore/boto3 exception to the matching package error. The AWS
message is passed through ``redaction.redact`` (a signature mismatch quotes the signed
headers, the security token among them) and kept to one line; the boto exception
itself, which the caller chains, is redacted in place.
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

from ..errors import (
    AccessDeniedError,
    ConditionalCheckFailedError,
    ConfigurationError,
    CredentialsError,
    DatabaseError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    ServiceError,
    TableNotFoundError,
    ThrottledError,
)
from ..redaction import redact, redact_exception

_MAX_AWS_MESSAGE = 300



AWS_CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
"""What a boto3 client call raises for a failed request; ``translate`` handles each of them."""

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
