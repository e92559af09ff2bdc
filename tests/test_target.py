"""Unit tests of ``src.database.aws.target`` (``Target``) and ``src.database.emulator.endpoint``.

Clients are real boto3 clients; the few calls made go to the worker's moto server on
127.0.0.1, so endpoint resolution (including boto3's own ``AWS_ENDPOINT_URL_DYNAMODB``)
is checked by a request actually arriving, not only by ``meta.endpoint_url``.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound

from src.database import redaction
from src.database.aws.aws_call import location
from src.database.aws.target import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    LOCAL_REGION,
    Target,
    remember_credentials,
)
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.errors import ConfigurationError, CredentialsError, ServiceError
from src.database.redaction import REDACTED
from src.database.settings import ClientSettings

REAL_LOOKING_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYREALSECRET"


@pytest.fixture
def restore_secrets() -> Iterator[None]:
    """Leave the process-wide set of registered secrets as it was."""
    before = set(redaction._secrets)
    yield
    with redaction._lock:
        redaction._secrets.clear()
        redaction._secrets.update(before)


# -- validation -----------------------------------------------------------------------------


def test_defaults_leave_everything_to_boto3() -> None:
    target = Target()
    assert (target.region, target.endpoint_url, target.profile, target.dummy_credentials) == (None, None, None, False)
    assert target.settings == ClientSettings()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"region": "mars-1"}, "Invalid region 'mars-1'"),
        ({"region": ""}, "Invalid region ''"),
        ({"endpoint_url": "localhost:4566"}, "Invalid endpoint URL 'localhost:4566'"),
        ({"endpoint_url": "http://host:notaport"}, "endpoint URL 'http://host:notaport'"),
    ],
)
def test_bad_region_or_endpoint_is_refused_at_construction(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Target(**kwargs)  # type: ignore[arg-type]


def test_settings_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBEDIGEST_READ_TIMEOUT", "7")
    assert Target().settings.read_timeout == 7
    assert Target.local("http://127.0.0.1:1").settings.read_timeout == 7


def test_retries_from_the_environment_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    for target in (Target(region="us-east-1"), Target.local("http://127.0.0.1:1")):
        assert target.client("dynamodb").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}


def test_bad_settings_in_the_environment_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "bogus")
    with pytest.raises(ConfigurationError, match="AWS_RETRY_MODE"):
        Target()


# -- local targets ---------------------------------------------------------------------------


def test_local_uses_dummy_credentials_never_the_real_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEYEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", REAL_LOOKING_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-session-token-value")
    target = Target.local("http://127.0.0.1:4566")
    credentials = target.session().get_credentials().get_frozen_credentials()
    assert (credentials.access_key, credentials.secret_key) == (DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)
    assert credentials.token is None
    assert target.dummy_credentials


def test_local_defaults_to_the_local_region_and_keeps_an_explicit_one() -> None:
    assert Target.local("http://127.0.0.1:1").region == LOCAL_REGION
    assert Target.local("http://127.0.0.1:1", "eu-west-1").region == "eu-west-1"


def test_local_refuses_an_empty_region_instead_of_defaulting() -> None:
    with pytest.raises(ConfigurationError, match="Invalid region ''"):
        Target.local("http://127.0.0.1:1", "")


def test_local_keeps_given_settings() -> None:
    settings = ClientSettings(max_attempts=2)
    assert Target.local("http://127.0.0.1:1", settings=settings).settings is settings


def test_local_client_reaches_the_endpoint(moto_server: EmbeddedEndpoint) -> None:
    client = Target.local(moto_server.url).client("dynamodb")
    assert "TableNames" in client.list_tables()
    assert client.meta.endpoint_url == moto_server.url


# -- sessions and profiles -------------------------------------------------------------------


def test_a_missing_profile_is_a_credentials_error_naming_it() -> None:
    with pytest.raises(CredentialsError, match="AWS profile 'nosuch' not found") as excinfo:
        Target(profile="nosuch").session()
    assert isinstance(excinfo.value.__cause__, ProfileNotFound)


def test_a_configured_profile_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile team]\nregion = eu-west-1\naws_access_key_id = AKIATEAM\naws_secret_access_key = teamsecret1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the environment would win over the profile's region
    session = Target(profile="team").session()
    assert session.profile_name == "team"
    assert session.region_name == "eu-west-1"
    assert session.get_credentials().access_key == "AKIATEAM"


def test_session_installs_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(redaction, "install", lambda: calls.append(True))
    Target().session()
    assert calls == [True]


# -- clients ---------------------------------------------------------------------------------


def test_client_carries_the_settings_and_endpoint() -> None:
    settings = ClientSettings(retry_mode="adaptive", max_attempts=6, connect_timeout=0.75, read_timeout=4.0)
    client = Target(region="eu-west-1", endpoint_url="http://127.0.0.1:4566", settings=settings).client("dynamodb")
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (0.75, 4.0)
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"


def test_client_uses_a_given_session() -> None:
    session = boto3.Session(region_name="ap-southeast-2")
    client = Target().client("dynamodb", session)
    assert client.meta.region_name == "ap-southeast-2"


def test_a_given_session_s_profile_settings_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry settings the session's profile sets win over the package's defaults, as for a session built here."""
    config = tmp_path / "config"
    config.write_text("[profile tuned]\nregion = eu-west-1\nmax_attempts = 7\nretry_mode = adaptive\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for variable in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    tuned = Target().client("dynamodb", boto3.Session(profile_name="tuned"))
    plain = Target().client("dynamodb", boto3.Session(region_name="eu-west-1"))
    assert (tuned.meta.config.retries["mode"], tuned.meta.config.retries["total_max_attempts"]) == ("adaptive", 7)
    assert plain.meta.config.retries["mode"] != "adaptive"


def test_boto3_endpoint_variable_is_honoured_when_no_endpoint_is_given(
    monkeypatch: pytest.MonkeyPatch, local_target: Target, unique_name: str
) -> None:
    """AWS_ENDPOINT_URL_DYNAMODB is boto3's own setting; the request must really arrive there."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", local_target.endpoint_url or "")
    local_target.client("dynamodb").create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client = Target(region="us-east-1").client("dynamodb")
    assert client.meta.endpoint_url == local_target.endpoint_url
    assert unique_name in client.list_tables()["TableNames"]


def test_an_explicit_endpoint_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
    client = Target(region="us-east-1", endpoint_url="http://127.0.0.1:2").client("dynamodb")
    assert client.meta.endpoint_url == "http://127.0.0.1:2"


def test_a_bad_endpoint_variable_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore raises a bare ValueError for it; the package turns it into one clear error."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://bad host:1")
    with pytest.raises(ConfigurationError, match="Cannot build the dynamodb client") as excinfo:
        Target(region="us-east-1").client("dynamodb")
    assert isinstance(excinfo.value.__cause__, ValueError)
    assert "\n" not in str(excinfo.value)


def test_no_region_anywhere_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConfigurationError, match="No AWS region configured"):
        Target().client("dynamodb")


def test_a_boto_error_at_client_setup_is_translated() -> None:
    with pytest.raises(ServiceError, match="no-such-service client setup failed: UnknownServiceError"):
        Target(region="us-east-1").client("no-such-service")


def test_client_registers_the_resolved_secret_for_redaction(
    monkeypatch: pytest.MonkeyPatch, restore_secrets: None
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", REAL_LOOKING_SECRET)
    assert redaction.redact(REAL_LOOKING_SECRET) == REAL_LOOKING_SECRET
    Target(region="us-east-1").client("dynamodb")
    assert redaction.redact(REAL_LOOKING_SECRET) == REDACTED


def test_client_logs_what_it_built(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="src.database.aws.target"):
        Target(region="eu-west-1", settings=ClientSettings(max_attempts=3)).client("dynamodb")
    assert "Built dynamodb client for eu-west-1 (https://dynamodb.eu-west-1.amazonaws.com)" in caplog.text
    assert "standard, 3 attempts" in caplog.text


# -- helpers ---------------------------------------------------------------------------------


def test_remember_credentials_without_credentials_does_nothing(
    monkeypatch: pytest.MonkeyPatch, restore_secrets: None
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    before = set(redaction._secrets)
    remember_credentials(boto3.Session(region_name="us-east-1"))
    assert redaction._secrets == before


def test_remember_credentials_tolerates_unresolvable_credentials(restore_secrets: None) -> None:
    """A credential provider that fails now fails again, clearly, at the first call."""

    class FailingSession:
        def get_credentials(self) -> None:
            raise NoCredentialsError()

    before = set(redaction._secrets)
    remember_credentials(FailingSession())  # type: ignore[arg-type]
    assert redaction._secrets == before
    assert issubclass(NoCredentialsError, BotoCoreError)


def test_location_names_region_and_endpoint() -> None:
    client = Target(region="eu-west-1", endpoint_url="http://127.0.0.1:4566").client("dynamodb")
    assert location(client) == "eu-west-1 (http://127.0.0.1:4566)"


# -- the embedded endpoint (local_endpoint.EmbeddedEndpoint) -----------------------------------


def test_embedded_endpoint_url_needs_start() -> None:
    endpoint = EmbeddedEndpoint()
    with pytest.raises(RuntimeError, match="start"):
        endpoint.url  # noqa: B018
    with pytest.raises(RuntimeError):
        endpoint.environment()
    endpoint.stop()  # stopping a never-started endpoint is harmless


def test_embedded_endpoint_serves_on_a_free_local_port_until_stopped() -> None:
    endpoint = EmbeddedEndpoint().start()
    try:
        url = endpoint.url
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        tables = Target.local(url).client("dynamodb").list_tables()
        assert "TableNames" in tables
    finally:
        endpoint.stop()
    with pytest.raises(RuntimeError):
        endpoint.url  # noqa: B018
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
    endpoint.stop()  # idempotent


def test_embedded_endpoint_environment_reaches_it_with_plain_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    with EmbeddedEndpoint() as endpoint:
        environment = endpoint.environment("eu-west-1")
        assert environment == {
            "AWS_ENDPOINT_URL": endpoint.url,
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        client = boto3.client("dynamodb")
        assert client.meta.endpoint_url == endpoint.url
        assert "TableNames" in client.list_tables()
        assert endpoint.environment()["AWS_REGION"] == LOCAL_REGION


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("127.0.0.1", 70000, "between 0 and 65535"),
        ("no-such-host.invalid", 0, "Cannot listen on host 'no-such-host.invalid'"),
    ],
)
def test_embedded_endpoint_refuses_an_address_it_cannot_bind(host: str, port: int, reason: str) -> None:
    """moto's threaded server would wait forever on a failed bind; the endpoint refuses first."""
    with pytest.raises(ConfigurationError, match=reason):
        EmbeddedEndpoint(host=host, port=port).start()


def test_embedded_endpoint_refuses_a_port_in_use(moto_server: EmbeddedEndpoint) -> None:
    port = int(moto_server.url.rsplit(":", 1)[1])
    with pytest.raises(ConfigurationError, match=f"port {port}"):
        EmbeddedEndpoint(port=port).start()
