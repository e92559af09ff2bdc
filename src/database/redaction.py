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
- ``install``: wraps the logging record factory once, so every record from
  botocore, boto3, urllib3 and this package is redacted as it is created, whatever
  handlers or levels the application configured.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

REDACTED = "***REDACTED***"
_WATCHED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "src.database")
_HEADER_PATTERN_SOURCES = (
    r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+",
    r"(?i)(x-amz-sso_bearer_token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+",
    r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"}\n]+",
    r"(?i)(aws_secret_access_key['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+",
    r"(?i)(aws_session_token['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+",
    # credential fields in bodies: STS answers (XML), SSO/SSO-OIDC/Cognito answers (JSON), and
    # request parameters as botocore logs them (dict repr, form encoding)
    r"(?i)(<(?:SecretAccessKey|SecretKey|SessionToken)>)[^<]+",
    (
        r"(?i)(['\"](?:secret_?access_?key|secret_?key|session_?token|access_?token|refresh_?token|client_?secret"
        r"|web_?identity_?token|saml_?assertion)['\"]\s*:\s*b?['\"])[^'\"]+"
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


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(_WATCHED_LOGGERS):
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
