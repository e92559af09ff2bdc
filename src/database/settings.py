"""Validated settings: environment names, table names, regions, endpoints, retries and timeouts.

Every user input passes through here once, so each bad value gets one clear
``ConfigurationError`` before any client is built or any request is sent.

Retries and timeouts are botocore's own (``botocore.config.Config``). Timeouts: the
constructor argument, else ``VIBEDIGEST_*_TIMEOUT``, else the default below. Retries
go through botocore's own chain: a value the caller passes wins; otherwise what the
environment or the profile says (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``,
``max_attempts`` / ``retry_mode`` in the AWS config file); otherwise the defaults below.

The defaults are sized so that an endpoint that accepts the connection and never
answers (or trickles its answer: the read timeout bounds each whole answer, see
``answer_limit``) gives a clear error within 15 s: DynamoDB answers in milliseconds, so a 3 s
read timeout is generous, and standard mode's 3 attempts make the worst case
3 x 3 s plus at most 1 + 2 s of backoff, about 12 s (tests/test_fault_injection.py holds it to that).
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import botocore.session
from botocore.config import Config
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

from .errors import ConfigurationError, shown

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
TABLE_PREFIX = "VibeDigest"
PROJECT_TAG = "VibeDigest"

DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 3.0
# the CloudFormation resource type of the digest table
TABLE_TYPE = "AWS::DynamoDB::Table"
# seconds a stack operation (a deploy, recover or delete) may take, waits included
DEFAULT_STACK_TIMEOUT = 120.0
RETRY_MODES = ("standard", "adaptive", "legacy")
MAX_ATTEMPTS_LIMIT = 20



class ConfigChain(Protocol):
    """What ``botocore_config`` asks of a botocore session: its configuration chain."""

    def get_config_variable(self, logical_name: str) -> Any:
        """The value of ``logical_name`` from the environment, profile or defaults (None if unset)."""


_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_USERINFO = re.compile(r"^([^:/?#]*://)[^/?#]*@")



def _text(value: object, what: str) -> str:
    """``value`` if it is a string, else the package's error naming ``what`` and the type given."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string, got {type(value).__name__}.")
    return value


def validate_environment(name: str) -> str:
    """Return ``name`` if it is one of dev/staging/prod, else raise a clear error."""
    _text(name, "environment")
    if name in ENVIRONMENTS:
        return name
    hint = f" (did you mean '{name.lower()}'?)" if name.lower() in ENVIRONMENTS else ""
    raise ConfigurationError(
        f"Unknown environment {shown(name)}{hint}; choose one of: {', '.join(ENVIRONMENTS)}."
    )


def table_name_for(environment: str) -> str:
    """Map an environment to its table name, e.g. ``dev`` -> ``VibeDigest-dev``."""
    return f"{TABLE_PREFIX}-{validate_environment(environment)}"


def stack_name_for(environment: str) -> str:
    """Map an environment to its CloudFormation stack name, e.g. ``vibedigest-dev``."""
    return f"{TABLE_PREFIX.lower()}-{validate_environment(environment)}"


def validate_table_name(name: str) -> str:
    """Return ``name`` if DynamoDB would accept it (3-255 of ``[A-Za-z0-9_.-]``)."""
    if _TABLE_NAME.fullmatch(_text(name, "table_name")):
        return name
    raise ConfigurationError(
        f"Invalid table name {shown(name)}: DynamoDB needs 3-255 characters of letters, digits, '_', '-' or '.'."
    )


def validate_region(region: str) -> str:
    """Return ``region`` if it looks like an AWS region name (e.g. ``eu-west-1``)."""
    if _REGION.fullmatch(_text(region, "region")):
        return region
    raise ConfigurationError(f"Invalid region {shown(region)}; expected a region name such as 'us-east-1'.")


@functools.cache
def known_regions() -> tuple[str, ...]:
    """Every region botocore's partition data names for DynamoDB, all partitions (aws, aws-cn, ...).

    As ``botocore.session.Session.get_available_regions`` answers them.
    """
    session = botocore.session.Session()
    return tuple(sorted(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("dynamodb", partition_name=partition)
    ))


def validate_known_region(region: str) -> str:
    """Return ``region`` if botocore's partition data knows it, else name the nearest known names.

    For an AWS endpoint built from the region: an unknown name would only fail later,
    as an unresolvable host. An explicit endpoint URL may serve any region name.
    """
    validate_region(region)
    known = known_regions()
    if region in known:
        return region
    nearest = difflib.get_close_matches(region, known, n=3, cutoff=0)
    suggestion = f" Nearest known: {', '.join(nearest)}." if nearest else ""
    raise ConfigurationError(
        f"Region {shown(region)} is not a region botocore's partition data knows for DynamoDB.{suggestion}"
    )


def validate_endpoint_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host botocore accepts.

    Checked here because botocore would otherwise raise a bare ``ValueError`` at
    client creation (bad host, e.g. with spaces or ``_``), and because ``urlsplit``
    silently drops tabs/newlines and leading spaces that botocore then trips over.
    A ``user:password@`` part is refused, and masked in every message.
    """
    quoted = shown(_USERINFO.sub(r"\g<1>***@", _text(url, "endpoint_url")))
    if any(not char.isprintable() or char.isspace() for char in url):
        raise ConfigurationError(f"Invalid endpoint URL {quoted}: it contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigurationError(f"Invalid host or port in endpoint URL {quoted}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"Invalid endpoint URL {quoted}; expected http://host:port or https://host.")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"Endpoint URL {quoted} must not contain a user name or password; "
            "AWS requests are signed with the credentials, not the URL."
        )
    if not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)):
        raise ConfigurationError(f"Invalid host {shown(parts.hostname)} in endpoint URL {quoted}.")
    return url


def validate_timeout(seconds: float, what: str = "timeout") -> float:
    """Return ``seconds`` if it is a positive, finite number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ConfigurationError(f"{what} must be a number of seconds, got {type(seconds).__name__}.")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"{what} must be a positive number of seconds, got {seconds:g}.")
    return seconds


def validate_count(
    value: int, what: str, *, least: int = 1, most: int | None = None, error: type[Exception] = ConfigurationError
) -> int:
    """Return ``value`` if it is a whole number (not a bool) from ``least`` to ``most``; else raise ``error``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least or (most is not None and value > most):
        if most is not None:
            wanted = f"a whole number between {least} and {most}"
        else:
            wanted = "an integer of zero or more" if least == 0 else f"an integer of at least {least}"
        raise error(f"{what} must be {wanted}, got {value!r}.")
    return value


def key_schema(description: Mapping[str, Any]) -> dict[str, str]:
    """``{"HASH": name, "RANGE": name}`` of a table's description or its template properties."""
    return {k["KeyType"]: k["AttributeName"] for k in description.get("KeySchema", [])}


def attribute_types(description: Mapping[str, Any]) -> dict[str, str]:
    """``{name: "S" | "N" | "B"}`` of a table's declared attributes."""
    return {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}


def _raw(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or None when unset; set-but-empty is an error (as in botocore)."""
    raw = env.get(name)
    if raw is not None and not raw.strip():
        raise ConfigurationError(f"{name} is set but empty; unset it or give a value.")
    return raw


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {shown(raw)}.") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {shown(raw)}.")
    return value


def _attempts(env: Mapping[str, str], name: str) -> int | None:
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {shown(raw)}.") from None
    if not 1 <= value <= MAX_ATTEMPTS_LIMIT:
        raise ConfigurationError(f"{name} must be between 1 and {MAX_ATTEMPTS_LIMIT}, got {shown(raw)}.")
    return value


def _retry_mode(env: Mapping[str, str], name: str) -> str | None:
    raw = _raw(env, name)
    if raw is not None and raw not in RETRY_MODES:
        raise ConfigurationError(f"{name} must be one of: {', '.join(RETRY_MODES)}; got {shown(raw)}.")
    return raw


@dataclass(frozen=True)
class ClientSettings:
    """Retry and timeout settings handed to botocore as one ``Config``.

    ``retry_mode`` and ``max_attempts`` (first try included) left as None come from
    botocore's chain (``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``, then the profile's
    ``retry_mode`` / ``max_attempts``), else standard mode and 3 attempts.
    Timeouts: 2 s to connect, 3 s to read, or ``VIBEDIGEST_CONNECT_TIMEOUT`` /
    ``VIBEDIGEST_READ_TIMEOUT`` (seconds) through ``from_env``.
    """

    retry_mode: str | None = None
    max_attempts: int | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        if self.retry_mode is not None and self.retry_mode not in RETRY_MODES:
            raise ConfigurationError(
                f"Unknown retry_mode {shown(_text(self.retry_mode, 'retry_mode'))}; "
                f"choose one of: {', '.join(RETRY_MODES)}."
            )
        if self.max_attempts is not None:
            validate_count(self.max_attempts, "max_attempts", most=MAX_ATTEMPTS_LIMIT)
        validate_timeout(self.connect_timeout, "connect_timeout")
        validate_timeout(self.read_timeout, "read_timeout")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: float | int | str | None) -> ClientSettings:
        """Build settings from ``env`` (default ``os.environ``); non-None ``overrides`` win.

        The timeouts are read from ``VIBEDIGEST_*_TIMEOUT``. ``AWS_RETRY_MODE`` and
        ``AWS_MAX_ATTEMPTS`` are only checked here, for a clear error on a bad value:
        botocore reads them itself, in their place in its chain.
        """
        env = os.environ if env is None else env
        _retry_mode(env, "AWS_RETRY_MODE")
        _attempts(env, "AWS_MAX_ATTEMPTS")
        values: dict[str, float | int | str] = {
            "connect_timeout": _seconds(env, "VIBEDIGEST_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
            "read_timeout": _seconds(env, "VIBEDIGEST_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

    def botocore_config(self, chain: ConfigChain | None = None) -> Config:
        """Return the botocore ``Config`` carrying these retries and timeouts.

        ``chain`` is the botocore session whose configuration (environment, profile)
        the client will be built from: a retry value the caller did not set is left to
        it, and the package's default applies only where it has none either.
        """
        retries: dict[str, str | int] = {}
        if self.retry_mode is not None:
            retries["mode"] = self.retry_mode
        elif chain is None or chain.get_config_variable("retry_mode") is None:
            retries["mode"] = DEFAULT_RETRY_MODE
        if self.max_attempts is not None:
            retries["total_max_attempts"] = self.max_attempts
        elif chain is None or chain.get_config_variable("max_attempts") is None:
            retries["total_max_attempts"] = DEFAULT_MAX_ATTEMPTS
        return Config(
            retries=retries or None,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
