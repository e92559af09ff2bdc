"""Keep secrets out of log records, including botocore's own DEBUG wire log.

Roles:
- ``redact``: replaces registered secret values, credential-bearing headers
  (``X-Amz-Security-Token``, ``Authorization`` signatures, the SSO bearer token) and
  credential fields of request and response bodies in a string. The body fields
  matter because botocore logs every response body at DEBUG, including those of the
  STS/SSO calls that resolve an assume-role or SSO profile: the temporary secret
  key and token are in them, logged before any client exists to register them.
- ``register_secrets``: remembers the secret key and session token of the
  credentials a client of this package resolved, so they are redacted verbatim.
- ``redact_exception``: redacts an exception and everything chained to it
  (``__cause__``, ``__context__``) in place: ``args``, so ``str``, ``repr`` and
  tracebacks, and attributes such as botocore's ``.response`` (its ``Error.Message``
  and echoed headers) and ``.kwargs`` (the request, its headers). A server's error can
  quote the signed request, token included (AWS's ``InvalidSignatureException`` does):
  the package redacts each boto exception so before it chains it to its own error.
- ``install``: wraps the logging record factory once, so every record from
  botocore, boto3, urllib3 and this package is redacted as it is created, whatever
  handlers or levels the application configured: its message, and the exception it
  carries (``exc_info``: redacted in place, and its formatted text, ``exc_text``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

REDACTED = "***REDACTED***"
_WATCHED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "src.database")
# A quote, possibly escaped: headers and bodies are also logged inside JSON strings
# (``\"Authorization\": \"AWS4-HMAC-SHA256 ...\"``). A value runs to the next (escaped) quote;
# a backslash not before a quote is part of it (JSON may write ``/`` as ``\/``).
_Q = r"\\*['\"]"
_HEADER_VALUE = r"(?:[^'\"\s,}\\]|\\+[^'\"\\\s])+"
_HEADER_PATTERN_SOURCES = (
    rf"(?i)(x-amz-security-token(?:{_Q})?\s*[:=]\s*b?(?:{_Q})?){_HEADER_VALUE}",
    rf"(?i)(x-amz-sso_bearer_token(?:{_Q})?\s*[:=]\s*b?(?:{_Q})?){_HEADER_VALUE}",
    rf"(?i)(authorization(?:{_Q})?\s*[:=]\s*b?(?:{_Q})?)(?:[^'\"}}\n\\]|\\+[^'\"\\\s])+",
    rf"(?i)(aws_secret_access_key(?:{_Q})?\s*[:=]\s*(?:{_Q})?){_HEADER_VALUE}",
    rf"(?i)(aws_session_token(?:{_Q})?\s*[:=]\s*(?:{_Q})?){_HEADER_VALUE}",
    # credential fields in bodies: STS answers (XML), SSO/SSO-OIDC/Cognito answers (JSON), and
    # request parameters as botocore logs them (dict repr, form encoding)
    r"(?i)(<(?:SecretAccessKey|SecretKey|SessionToken)>)[^<]+",
    (
        rf"(?i)({_Q}(?:secret_?access_?key|secret_?key|session_?token|access_?token|refresh_?token|client_?secret"
        rf"|web_?identity_?token|saml_?assertion){_Q}\s*:\s*b?{_Q})(?:[^'\"\\]|\\+[^'\"\\])+"
    ),
    r"(?i)((?:^|[?&\s])(?:WebIdentityToken|SAMLAssertion)=)[^&\s'\"]+",
)


@functools.cache
def _header_patterns() -> tuple[re.Pattern[str], ...]:
    """The compiled patterns, built on first use: most processes never redact a record."""
    return tuple(re.compile(source) for source in _HEADER_PATTERN_SOURCES)


_MIN_SECRET_LENGTH = 8

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def register_secrets(*values: str | None) -> None:
    """Remember secret values (secret key, session token) to redact wherever they appear."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET_LENGTH)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and credential header value replaced."""
    for pattern in _header_patterns():
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    with _lock:
        secrets = tuple(_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


_SECRET_KEYS = frozenset(
    {
        "authorization", "xamzsecuritytoken", "xamzssobearertoken", "awssecretaccesskey", "awssessiontoken",
        "secretaccesskey", "secretkey", "sessiontoken", "accesstoken", "refreshtoken", "clientsecret",
    }
)
"""Mapping keys (header and field names, case, ``-`` and ``_`` ignored) whose values are secrets."""
_MAX_DEPTH = 6


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "").replace("_", "") in _SECRET_KEYS


def _redacted(value: Any, found: list[BaseException], depth: int = 0) -> Any:
    """``value`` with its secrets redacted: strings and bytes replaced, mappings and lists changed in place.

    Exceptions met on the way are added to ``found`` (their owner redacts them next); a
    request-like object (botocore's prepared request) has its ``headers`` and ``url`` redacted.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
        cleaned = redact(text)
        return value if cleaned == text else cleaned.encode()
    if isinstance(value, BaseException):
        found.append(value)
        return value
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, MutableMapping):
        for key in list(value.keys()):
            value[key] = REDACTED if _is_secret_key(key) else _redacted(value[key], found, depth + 1)
        return value
    if isinstance(value, list):
        value[:] = [_redacted(item, found, depth + 1) for item in value]
        return value
    if type(value) is tuple:
        return tuple(_redacted(item, found, depth + 1) for item in value)
    headers = getattr(value, "headers", None)
    if isinstance(headers, MutableMapping) and hasattr(value, "url"):
        _redacted(headers, found, depth + 1)
        with contextlib.suppress(AttributeError):  # a read-only url
            value.url = _redacted(value.url, found, depth + 1)
    return value


def redact_exception(error: BaseException) -> BaseException:
    """Redact ``error`` and every exception chained to it, in place; return ``error``.

    Each exception's ``args`` (its ``str``, ``repr`` and traceback text) and the values of
    its attributes (botocore's ``.response`` and ``.kwargs`` among them) are redacted;
    ``__cause__``, ``__context__`` and exceptions kept in attributes are followed.
    """
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found: list[BaseException] = []
        try:
            current.args = _redacted(current.args, found)
            attributes = vars(current)
            for name in list(attributes):
                attributes[name] = _redacted(attributes[name], found)
        except Exception:  # an exception type that refuses new args is left as it is
            pass
        pending.extend(found)
        pending.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    return error


def _redact_exc_info(record: logging.LogRecord) -> None:
    """Redact the record's exception in place; if its formatted text still holds a secret, a redacted text.

    ``exc_text`` is what logging's formatters print when it is set; left unset when the
    exception's own text is clean, so the application's formatter formats it as it likes.
    """
    info = record.exc_info
    if not info or not isinstance(info, tuple) or info[1] is None:
        return
    redact_exception(info[1])
    text = logging.Formatter().formatException(info)
    if redact(text) != text:
        record.exc_text = redact(text)


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(_WATCHED_LOGGERS):
            _redact_exc_info(record)
            try:
                message = record.getMessage()
            except Exception:  # a broken format string is the logger's problem, not ours
                return record
            record.msg, record.args = redact(message), None
        return record

    return factory


def install() -> None:
    """Install the redacting record factory once per process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _installed = True
