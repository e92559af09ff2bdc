"""What a failed ``BatchWriteItem`` request says about its items: not written, or outcome unknown.

A request refused before DynamoDB acted on it (throttled, invalid, denied, or never
sent because no connection could be made) wrote nothing. A request whose connection
was cut after it was sent, that timed out waiting for the answer, or that got a 5xx
answer may have been applied: DynamoDB documents a 500 as "the request may or may not
have succeeded" and asks for the operation to be retried, which is safe for puts and
deletes (they are idempotent) ("Error handling with DynamoDB", AWS DynamoDB developer
guide, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).

botocore retries a failed request itself (the client's ``max_attempts``) and reports
only the last attempt's error, so an earlier attempt that may have been applied would
be hidden behind a final throttling error. ``watch`` registers a ``needs-retry``
handler (botocore's own event, emitted after every attempt) that notes, per thread,
whether any attempt of the current request may have been applied; ``maybe_applied``
combines that with the final error (for clients that raise without botocore's events).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from ..errors import DatabaseError, EndpointUnreachableError, ThrottledError

_HANDLER_ID = "vibedigest-batch-write-outcome"
# DynamoDB's 5xx codes, for an error whose botocore cause (and its HTTP status) is not chained
_SERVER_ERROR_CODES = frozenset({"InternalServerError", "InternalFailure", "ServiceUnavailable"})
_EVENT = "needs-retry.dynamodb.BatchWriteItem"
_attempts = threading.local()


def watch(client: Any) -> None:
    """Note the outcome of every ``BatchWriteItem`` attempt of ``client`` (idempotent)."""
    client.meta.events.register(_EVENT, _note_attempt, unique_id=_HANDLER_ID)


def start_request() -> None:
    """The current thread sends a new request: forget what earlier requests' attempts said."""
    _attempts.maybe_applied = False


def _note_attempt(response: Any = None, caught_exception: Exception | None = None, **_: Any) -> None:
    if caught_exception is not None:
        maybe = not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError))  # sent or not
    else:
        http = response[0] if response else None
        maybe = getattr(http, "status_code", 0) >= 500
    if maybe:
        _attempts.maybe_applied = True


def _server_error(error: DatabaseError) -> bool:
    """A 5xx answer: by the chained botocore error's HTTP status, else by DynamoDB's error code."""
    cause = error.__cause__
    if isinstance(cause, ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status >= 500
    return error.code in _SERVER_ERROR_CODES


def _never_sent(error: DatabaseError) -> bool:
    return isinstance(error.__cause__, (EndpointConnectionError, ConnectTimeoutError))


def maybe_applied(error: DatabaseError) -> bool:
    """Whether the failed request (any of its attempts on this thread) may have been applied."""
    if getattr(_attempts, "maybe_applied", False):
        return True
    if isinstance(error, EndpointUnreachableError):
        return not _never_sent(error)  # a cut connection or a read timeout: sent, answer lost
    return _server_error(error)


def transient(error: DatabaseError) -> bool:
    """Whether sending the request again later may succeed: throttling, a 5xx, a lost answer.

    An endpoint no connection could be made to is not waited for: the writer reports it.
    """
    if isinstance(error, ThrottledError):
        return True
    if isinstance(error, EndpointUnreachableError):
        return not _never_sent(error)
    return _server_error(error)
