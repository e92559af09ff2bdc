"""Validated settings: environment names, table names, regions, endpoints, retries and timeouts.

Every user input passes through here once, so each bad value gets one clear
``ConfigurationError`` before any client is built or any request is sent.

Retries and timeouts are botocore's own (``botocore.config.Config``); this module
only picks their values: constructor argument, else environment variable, else the
documented default below.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from botocore.config import Config

from .errors import ConfigurationError

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
TABLE_PREFIX = "VibeDigest"
PROJECT_TAG = "VibeDigest"

DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
RETRY_MODES = ("standard", "adaptive", "legacy")

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_MAX_SHOWN = 40


def shown(value: str) -> str:
    """Quote a user value for an error message, shortened so one line stays one line."""
    text = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
    return repr(text)


def validate_environment(name: str) -> str:
    """Return ``name`` if it is one of dev/staging/prod, else raise a clear error."""
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
    if _TABLE_NAME.match(name):
        return name
    raise ConfigurationError(
        f"Invalid table name {shown(name)}: DynamoDB needs 3-255 characters of letters, digits, '_', '-' or '.'."
    )


def validate_region(region: str) -> str:
    """Return ``region`` if it looks like an AWS region name (e.g. ``eu-west-1``)."""
    if _REGION.match(region):
        return region
    raise ConfigurationError(f"Invalid region {shown(region)}; expected a region name such as 'us-east-1'.")


def validate_endpoint_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"Invalid endpoint URL {shown(url)}; expected http://host:port or https://host."
        )
    try:
        parts.port
    except ValueError:
        raise ConfigurationError(f"Invalid port in endpoint URL {shown(url)}.") from None
    return url


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {shown(raw)}.") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum:g}, got {shown(raw)}.")
    return value


@dataclass(frozen=True)
class ClientSettings:
    """Retry and timeout settings handed to botocore as one ``Config``.

    Defaults: standard retry mode, 4 attempts, 3 s to connect, 10 s to read.
    Environment overrides: ``AWS_RETRY_MODE`` and ``AWS_MAX_ATTEMPTS`` (botocore's
    own names), ``VIBEDIGEST_CONNECT_TIMEOUT`` and ``VIBEDIGEST_READ_TIMEOUT`` (seconds).
    """

    retry_mode: str = DEFAULT_RETRY_MODE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        if self.retry_mode not in RETRY_MODES:
            raise ConfigurationError(
                f"Unknown retry mode {shown(self.retry_mode)}; choose one of: {', '.join(RETRY_MODES)}."
            )
        if not 1 <= self.max_attempts <= 20:
            raise ConfigurationError(f"max_attempts must be between 1 and 20, got {self.max_attempts}.")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigurationError("Timeouts must be positive numbers of seconds.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: float | int | str | None) -> ClientSettings:
        """Build settings from ``env`` (default ``os.environ``); non-None ``overrides`` win."""
        env = os.environ if env is None else env
        attempts = _number(env, "AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, minimum=1)
        values: dict[str, float | int | str] = {
            "retry_mode": env.get("AWS_RETRY_MODE") or DEFAULT_RETRY_MODE,
            "max_attempts": int(attempts),
            "connect_timeout": _number(env, "VIBEDIGEST_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, minimum=0.01),
            "read_timeout": _number(env, "VIBEDIGEST_READ_TIMEOUT", DEFAULT_READ_TIMEOUT, minimum=0.01),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

    def botocore_config(self) -> Config:
        """Return the botocore ``Config`` carrying these retries and timeouts."""
        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
