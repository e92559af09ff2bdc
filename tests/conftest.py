"""Shared fixtures: a clean AWS environment, moto in-process, and a moto server over HTTP.

Every test runs with placeholder credentials and no AWS endpoint or profile from the
developer's shell, so nothing can reach real AWS by accident.
"""

from __future__ import annotations

import urllib.request
import uuid
from typing import Iterator

import pytest
from moto import mock_aws

from src.database.connection import Target
from src.database.local_endpoint import EmbeddedEndpoint

_LEAKY_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_REGION",
    "VIBEDIGEST_CONNECT_TIMEOUT",
    "VIBEDIGEST_READ_TIMEOUT",
)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Placeholder credentials, us-east-1, and empty AWS config files for every test."""
    for name in _LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.getbasetemp() / "empty-aws-config"
    empty.touch()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_aws() -> Iterator[None]:
    """moto's in-process mock of every AWS service, fresh for each test."""
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def moto_server() -> Iterator[EmbeddedEndpoint]:
    """One embedded moto server over real HTTP on 127.0.0.1 (free port) per test worker."""
    with EmbeddedEndpoint() as endpoint:
        yield endpoint


def reset_moto(endpoint: EmbeddedEndpoint) -> None:
    """Empty every emulated account of the moto server (moto's own reset API)."""
    request = urllib.request.Request(f"{endpoint.url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture
def local_target(moto_server: EmbeddedEndpoint) -> Target:
    """A ``Target`` at the worker's moto server, reset so each test starts from an empty account."""
    reset_moto(moto_server)
    return Target.local(moto_server.url)


@pytest.fixture
def unique_name() -> str:
    """A table/stack name no other test uses, so tests sharing a server stay independent."""
    return f"t-{uuid.uuid4().hex[:12]}"
