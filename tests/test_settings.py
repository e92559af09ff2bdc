"""Unit tests of ``src.database.settings``: every validator and ``ClientSettings``.

Each bad value must raise ``ConfigurationError`` with one line that names the value
(shortened when long); good values come back unchanged. ``botocore_config`` is
checked on the ``Config`` botocore actually reads (``retries``, timeouts) and on a
real client built from it.
"""

from __future__ import annotations

import math

import boto3
import pytest
from botocore.config import Config

from src.database.errors import ConfigurationError
from src.database.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    ENVIRONMENTS,
    MAX_ATTEMPTS_LIMIT,
    ClientSettings,
    shown,
    stack_name_for,
    table_name_for,
    validate_endpoint_url,
    validate_environment,
    validate_region,
    validate_table_name,
    validate_timeout,
)


def one_line_error(excinfo: pytest.ExceptionInfo[ConfigurationError]) -> str:
    """The error's message, asserted to be a single line."""
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message, message
    return message


# -- shown --------------------------------------------------------------------------------


def test_shown_quotes_short_values_verbatim() -> None:
    assert shown("qa") == "'qa'"


def test_shown_shortens_long_values_and_escapes_newlines() -> None:
    text = shown("x" * 300)
    assert text == repr("x" * 40 + "...")
    assert "\n" not in shown("a\nb")


# -- environments, table and stack names ----------------------------------------------------


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_known_environments_are_accepted(name: str) -> None:
    assert validate_environment(name) == name
    assert table_name_for(name) == f"VibeDigest-{name}"
    assert stack_name_for(name) == f"vibedigest-{name}"


@pytest.mark.parametrize("name", ["qa", "", "dev ", "development", "../etc", "dev; rm -rf /"])
def test_unknown_environments_are_refused_with_the_choices(name: str) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        validate_environment(name)
    message = one_line_error(excinfo)
    assert repr(name) in message
    assert "dev, staging, prod" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(("name", "hint"), [("Dev", "dev"), ("PROD", "prod"), ("Staging", "staging")])
def test_miscased_environment_gets_a_did_you_mean_hint(name: str, hint: str) -> None:
    with pytest.raises(ConfigurationError, match=f"did you mean '{hint}'"):
        validate_environment(name)


@pytest.mark.parametrize("function", [table_name_for, stack_name_for])
def test_name_mappings_validate_the_environment(function: object) -> None:
    with pytest.raises(ConfigurationError, match="Unknown environment 'qa'"):
        function("qa")  # type: ignore[operator]


def test_a_long_environment_is_shortened_in_the_message() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        validate_environment("e" * 300)
    message = one_line_error(excinfo)
    assert "e" * 40 + "..." in message
    assert "e" * 41 not in message


@pytest.mark.parametrize("name", ["abc", "VibeDigest-dev", "a.b_c-d", "x" * 255, "123"])
def test_valid_table_names_are_accepted(name: str) -> None:
    assert validate_table_name(name) == name


@pytest.mark.parametrize("name", ["ab", "", "a" * 256, "bad name", "täble", "a/b", "abc\n", "tab\tle"])
def test_table_names_dynamodb_rejects_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="Invalid table name") as excinfo:
        validate_table_name(name)
    assert "3-255 characters" in one_line_error(excinfo)


# -- regions -------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"])
def test_valid_regions_are_accepted(region: str) -> None:
    assert validate_region(region) == region


@pytest.mark.parametrize(
    "region", ["mars-1", "US-EAST-1", "", "us-east-1; ls", "us-east-1\n", " us-east-1", "us_east_1", "us-east"]
)
def test_invalid_regions_are_refused(region: str) -> None:
    with pytest.raises(ConfigurationError, match="Invalid region") as excinfo:
        validate_region(region)
    assert repr(region) in one_line_error(excinfo)


# -- endpoint URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4566",
        "http://localhost:4566",
        "https://dynamodb.eu-west-1.amazonaws.com",
        "http://[::1]:8000",
        "http://host:4566/path",
    ],
)
def test_valid_endpoint_urls_are_accepted(url: str) -> None:
    assert validate_endpoint_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("localhost:4566", "expected http://host:port"),
        ("ftp://x", "expected http://host:port"),
        ("http://", "expected http://host:port"),
        ("", "expected http://host:port"),
        ("http://host:notaport", "host or port"),
        ("http://host:99999", "host or port"),
        ("http://[::1", "host or port"),
        ("http://a b:1", "spaces or control characters"),
        (" http://localhost:1", "spaces or control characters"),
        ("http://local\nhost:1", "spaces or control characters"),
        ("http://under_score:1", "Invalid host"),
    ],
)
def test_invalid_endpoint_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match="endpoint URL") as excinfo:
        validate_endpoint_url(url)
    message = one_line_error(excinfo)
    assert reason in message
    assert repr(url)[:20] in message


def test_every_accepted_endpoint_url_is_one_botocore_accepts() -> None:
    """The validator exists so botocore never raises its bare ValueError later."""
    for url in ("http://127.0.0.1:4566", "http://[::1]:8000", "https://example.com"):
        client = boto3.client(
            "dynamodb", endpoint_url=validate_endpoint_url(url), region_name="us-east-1"
        )
        assert client.meta.endpoint_url == url


# -- timeouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.01, 1, 120.0])
def test_positive_timeouts_are_accepted(seconds: float) -> None:
    assert validate_timeout(seconds) == seconds


@pytest.mark.parametrize("seconds", [0, -5, -0.1, math.nan, math.inf])
def test_non_positive_or_infinite_timeouts_are_refused(seconds: float) -> None:
    with pytest.raises(ConfigurationError, match="^timeout must be a positive number") as excinfo:
        validate_timeout(seconds)
    one_line_error(excinfo)


def test_timeout_error_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="^read_timeout must"):
        validate_timeout(-1, "read_timeout")


# -- ClientSettings ---------------------------------------------------------------------------


def test_defaults_are_the_documented_ones() -> None:
    """Retries unset (botocore's chain decides, else the package's defaults); timeouts 2 s / 3 s."""
    settings = ClientSettings()
    assert (settings.retry_mode, settings.max_attempts) == (None, None)
    assert (settings.connect_timeout, settings.read_timeout) == (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT) == (
        2.0, 3.0)
    assert ClientSettings.from_env({}) == settings
    assert ClientSettings().botocore_config().retries == {"mode": "standard", "total_max_attempts": 3}


def test_from_env_reads_the_timeouts_and_leaves_retries_to_botocore() -> None:
    env = {
        "AWS_RETRY_MODE": "adaptive",
        "AWS_MAX_ATTEMPTS": "7",
        "VIBEDIGEST_CONNECT_TIMEOUT": "0.5",
        "VIBEDIGEST_READ_TIMEOUT": "2.5",
    }
    assert ClientSettings.from_env(env) == ClientSettings(None, None, 0.5, 2.5)


def test_from_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBEDIGEST_READ_TIMEOUT", "4")
    assert ClientSettings.from_env().read_timeout == 4.0


def test_explicit_overrides_win_over_the_environment_and_none_is_ignored() -> None:
    env = {"AWS_MAX_ATTEMPTS": "7", "AWS_RETRY_MODE": "adaptive", "VIBEDIGEST_READ_TIMEOUT": "9"}
    settings = ClientSettings.from_env(env, max_attempts=2, retry_mode=None, read_timeout=1.5)
    assert (settings.max_attempts, settings.retry_mode, settings.read_timeout) == (2, None, 1.5)


class Chain:
    """A stand-in for botocore's configuration chain with the given values (None: unset)."""

    def __init__(self, **values: object) -> None:
        self.values = values

    def get_config_variable(self, logical_name: str) -> object:
        return self.values.get(logical_name)


@pytest.mark.parametrize(
    ("settings", "chain", "retries"),
    [
        (ClientSettings(), Chain(), {"mode": "standard", "total_max_attempts": 3}),
        (ClientSettings(), Chain(retry_mode="adaptive", max_attempts=6), {}),
        (ClientSettings(max_attempts=2), Chain(retry_mode="adaptive", max_attempts=6), {"total_max_attempts": 2}),
        (ClientSettings(retry_mode="legacy"), Chain(max_attempts=6), {"mode": "legacy"}),
    ],
)
def test_botocore_config_leaves_to_the_chain_what_the_caller_did_not_set(
    settings: ClientSettings, chain: Chain, retries: dict[str, object]
) -> None:
    assert (settings.botocore_config(chain).retries or {}) == retries


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("AWS_MAX_ATTEMPTS", "x", "AWS_MAX_ATTEMPTS must be a whole number, got 'x'"),
        ("AWS_MAX_ATTEMPTS", "2.5", "AWS_MAX_ATTEMPTS must be a whole number, got '2.5'"),
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS must be between 1 and 20, got '0'"),
        ("AWS_MAX_ATTEMPTS", "99", "AWS_MAX_ATTEMPTS must be between 1 and 20, got '99'"),
        ("AWS_MAX_ATTEMPTS", "", "AWS_MAX_ATTEMPTS is set but empty"),
        ("AWS_RETRY_MODE", "bogus", "AWS_RETRY_MODE must be one of: standard, adaptive, legacy; got 'bogus'"),
        ("AWS_RETRY_MODE", "", "AWS_RETRY_MODE is set but empty"),
        ("VIBEDIGEST_CONNECT_TIMEOUT", "-1", "VIBEDIGEST_CONNECT_TIMEOUT must be a positive number of seconds"),
        ("VIBEDIGEST_CONNECT_TIMEOUT", "0", "VIBEDIGEST_CONNECT_TIMEOUT must be a positive number of seconds"),
        ("VIBEDIGEST_CONNECT_TIMEOUT", "abc", "VIBEDIGEST_CONNECT_TIMEOUT must be a number of seconds, got 'abc'"),
        ("VIBEDIGEST_CONNECT_TIMEOUT", "nan", "VIBEDIGEST_CONNECT_TIMEOUT must be a positive number"),
        ("VIBEDIGEST_READ_TIMEOUT", "inf", "VIBEDIGEST_READ_TIMEOUT must be a positive number"),
        ("VIBEDIGEST_READ_TIMEOUT", "", "VIBEDIGEST_READ_TIMEOUT is set but empty"),
        ("VIBEDIGEST_READ_TIMEOUT", "  ", "VIBEDIGEST_READ_TIMEOUT is set but empty"),
    ],
)
def test_bad_environment_values_are_refused_naming_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        ClientSettings.from_env({name: value})
    assert expected in one_line_error(excinfo)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retry_mode": "bogus"},
        {"max_attempts": 0},
        {"max_attempts": MAX_ATTEMPTS_LIMIT + 1},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"connect_timeout": 0},
        {"read_timeout": -1.0},
        {"read_timeout": math.inf},
    ],
)
def test_constructor_refuses_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        ClientSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        ClientSettings().max_attempts = 9  # type: ignore[misc]


def test_botocore_config_carries_retries_and_timeouts() -> None:
    config = ClientSettings("adaptive", 6, 1.25, 7.5).botocore_config()
    assert isinstance(config, Config)
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert (config.connect_timeout, config.read_timeout) == (1.25, 7.5)


def test_a_client_built_with_the_config_uses_it() -> None:
    """botocore maps total_max_attempts to the client's retry config; our values must survive."""
    config = ClientSettings(max_attempts=3, connect_timeout=0.5, read_timeout=2.0).botocore_config()
    client = boto3.client("dynamodb", region_name="us-east-1", config=config)
    assert client.meta.config.retries["total_max_attempts"] == 3
    assert client.meta.config.retries["mode"] == "standard"  # botocore's chain: nothing set, standard
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (0.5, 2.0)


@pytest.mark.parametrize(
    "url",
    ["http://user:pa55-word-x@127.0.0.1:4566", "http://user:pa55-word-x@host:bad", "http://u:pa55-word-x@a b:1"],
)
def test_a_password_in_the_endpoint_url_is_refused_and_never_echoed(url: str) -> None:
    """It would otherwise reach repr(), log lines and error messages."""
    with pytest.raises(ConfigurationError) as excinfo:
        validate_endpoint_url(url)
    message = one_line_error(excinfo)
    assert "pa55-word-x" not in message
    assert "***@" in message
