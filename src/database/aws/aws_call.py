"""The one function that calls AWS and translates its errors, and the client hooks it relies on.

Roles:
- ``call_aws``: runs one operation on a boto3 low-level client, logs it at DEBUG
  (retries at INFO, the failure at DEBUG: the caller decides whether it matters)
  and raises the package's error, the boto exception chained as ``__cause__``.
  The client, the deployer and the verifier all call AWS through it.
- ``check_parameters``: botocore's parameter validation, with ``call_aws``'s error,
  for a client built without it (``DynamoDBClient.call``).
- ``prepare``: gives a client's answers a total time limit (``answer_limit``) and
  registers two botocore event handlers on it (idempotent):
  ``_note_attempts`` remembers how many attempts a failed call made (botocore
  raises connection errors and timeouts without a count), and ``_remember_token``
  registers the session token each request carries for redaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import validate_parameters

from ..errors import DatabaseError
from ..redaction import register_secrets
from .answer_limit import limit_answers
from .translation import AWS_CALL_ERRORS, translate

logger = logging.getLogger(__name__)

_ATTEMPTS_HANDLER_ID = "vibedigest-note-attempts"
_TOKEN_HANDLER_ID = "vibedigest-remember-token"
_failed_call = threading.local()


def _note_attempts(context: dict[str, Any] | None = None, **_: Any) -> None:
    """Botocore ``after-call-error`` handler: remember how many attempts the failed call made.

    botocore raises connection errors and timeouts without a retry count; its retry
    context (``context["retries"]["attempt"]``) still has it when this event fires.
    """
    _failed_call.attempts = ((context or {}).get("retries") or {}).get("attempt")


def _remember_token(request: Any = None, **_: Any) -> None:
    """Botocore ``before-send`` handler: register the session token the request carries for redaction.

    The token a client resolved at its start is registered then (``Target``); this also
    covers an injected client and the fresh token of refreshed credentials (assumed
    roles, SSO), so a server's echo of it is redacted verbatim.
    """
    token = getattr(request, "headers", {}).get("X-Amz-Security-Token")
    if token:
        register_secrets(token.decode() if isinstance(token, bytes) else str(token))


def prepare(client: BaseClient) -> BaseClient:
    """Register this module's botocore handlers on ``client`` (idempotent) and return it.

    A test double without botocore's event system is returned unchanged.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("after-call-error", _note_attempts, unique_id=_ATTEMPTS_HANDLER_ID)
        events.register("before-send", _remember_token, unique_id=_TOKEN_HANDLER_ID)
    limit_answers(client)
    return client


def attempts_of(error: Exception) -> int | None:
    """How many attempts a failed call made, if botocore told us."""
    if isinstance(error, ClientError):
        retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
        return None if retries is None else int(retries) + 1
    attempts = getattr(_failed_call, "attempts", None)
    return int(attempts) if attempts else None


def location(client: BaseClient) -> str:
    """Name a client's region and endpoint for messages, e.g. 'us-east-1 (http://127.0.0.1:5000)'."""
    return f"{client.meta.region_name} ({client.meta.endpoint_url})"


def call_aws(client: BaseClient, operation: str, *, table: str | None = None, **params: Any) -> dict[str, Any]:
    """Run ``operation`` (e.g. ``"PutItem"``) on ``client`` and return botocore's answer.

    A failure raises the matching ``DatabaseError`` (``translate``), chained to the
    boto exception and logged at DEBUG with the number of attempts; a success that
    needed retries is logged at INFO.
    """
    method = getattr(client, xform_name(operation))
    subject = table or getattr(getattr(client.meta, "service_model", None), "service_name", "the service")
    logger.debug("%s on %s", operation, subject)
    _failed_call.attempts = None
    try:
        response: dict[str, Any] = method(**params)
    except AWS_CALL_ERRORS as error:
        translated: DatabaseError = translate(error, operation=operation, table=table, where=location(client))
        attempts = attempts_of(error)
        tried = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
        logger.debug("%s on %s failed%s: %s", operation, subject, tried, translated)
        raise translated from error
    retries = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    if retries:
        logger.info("%s on %s succeeded after %d retries", operation, subject, retries)
    return response


def check_parameters(client: BaseClient, operation: str, params: dict[str, Any], *, table: str | None = None) -> None:
    """Validate ``params`` as botocore's client would, for a client built without that validation.

    Raises the package's error for botocore's ``ParamValidationError``, as ``call_aws`` would.
    """
    try:
        validate_parameters(params, client.meta.service_model.operation_model(operation).input_shape)
    except ParamValidationError as error:
        raise translate(error, operation=operation, table=table, where=location(client)) from error


def paginate_aws(client: BaseClient, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Yield every entry of ``key`` across the pages of ``operation``, each page through ``call_aws``.

    For CloudFormation's ``NextToken`` pagination (``ListChangeSets``, ``ListExports``).
    """
    while True:
        page = call_aws(client, operation, **params)
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return
        params = {**params, "NextToken": token}
