"""Keep real AWS out of reach: the one place tests scrub the environment of AWS settings.

Every test, behave scenario and child process the tests start uses these placeholder
credentials, no profile, no endpoint override, no instance metadata and empty AWS config
files, so nothing can reach a real account by accident. Use ``keep_offline`` with
pytest's ``monkeypatch`` (or a ``pytest.MonkeyPatch()`` undone by a behave cleanup), and
``offline_environment`` for the environment of a child process.
"""

from __future__ import annotations

import os
from typing import Mapping

import pytest

# Variables that would point a test at a real account or change its retries and timeouts.
LEAKY_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_REGION",
    "VIBEDIGEST_CONNECT_TIMEOUT",
    "VIBEDIGEST_READ_TIMEOUT",
)

PLACEHOLDERS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def offline_changes(config_file: str = os.devnull) -> dict[str, str | None]:
    """The variables to set (or, for None, remove) so boto3 finds placeholders and nothing real."""
    return {
        **{name: None for name in LEAKY_VARIABLES},
        "AWS_CONFIG_FILE": config_file,
        "AWS_SHARED_CREDENTIALS_FILE": config_file,
        **PLACEHOLDERS,
    }


def keep_offline(monkeypatch: pytest.MonkeyPatch, config_file: str = os.devnull) -> None:
    """Apply ``offline_changes`` through ``monkeypatch``, which undoes them afterwards."""
    for name, value in offline_changes(config_file).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def offline_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A child process's environment: ``base`` (default ``os.environ``) with ``offline_changes`` applied.

    Other variables (PATH, coverage's subprocess hooks, ...) are kept.
    """
    environment = dict(os.environ if base is None else base)
    for name, value in offline_changes().items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment
