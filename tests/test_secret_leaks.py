"""The credential leak hunt: planted marker credentials must never show up in any output.

Roles: marker credentials are planted in the environment (the secret key contains
``SECRETMARKER``, the session token ``TOKENMARKER``); the code under test is the CLI
(``src.database.cli.main`` in-process, and ``python -m src.database`` as a
subprocess) and every public ``DynamoDBClient`` method, all signing real requests
with the markers against the worker's moto server (``--target aws --endpoint-url``,
so the environment's credentials are used, as against AWS). Scanned: stdout,
stderr, every log record (formatted message, ``msg``, ``args``, the whole record),
exception strings, reprs and tracebacks, and every file written under the test's
temporary directory (the working directory and ``HOME``).

The scan is not vacuous: with the redacting record factory bypassed, botocore's
DEBUG wire log does carry the token (``test_the_scan_finds_the_token_when_redaction_is_bypassed``).
The secret key itself is never sent or logged by botocore (requests carry only a
signature), so it is checked everywhere but only the token can be shown to leak
this way. Temporary credentials obtained through an assume-role profile are a
different matter: botocore logs the STS answer carrying them at DEBUG, which the
assume-role tests check (moto's STS, reached through ``AWS_ENDPOINT_URL_STS``).

Moto accepts any credentials, so rejected, expired and forbidden credentials are
answered by botocore's ``Stubber`` (what AWS would send), while missing
credentials and an unknown profile are real boto3 behaviour.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import time
import traceback
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.stub import Stubber

from src.database import cli, redaction
from src.database.client import DynamoDBClient
from src.database.target import Target
from src.database.errors import (
    AccessDeniedError,
    CredentialsError,
    DatabaseError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    TableNotFoundError,
    ThrottledError,
)
from src.database.local_endpoint import EmbeddedEndpoint
from src.database.settings import ClientSettings
from tests.support.endpoints import unmeasured
from tests.support.fault_proxy import Fault, FaultProxy, refused_endpoint
from tests.support.figures import record
from tests.support.tables import create_digest_table

MARKER_KEY_ID = "AKIAMARKERKEYID0001"
MARKER_SECRET = "wJalrXUtnFEMI/K7MDENG+SECRETMARKER/bPxRfiCYEXAMPLEKEY"
MARKER_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+TOKENMARKER/MEUCIQDexample=="
MARKERS = ("SECRETMARKER", "TOKENMARKER")
REPO_ROOT = Path(__file__).resolve().parents[1]
ERROR_BOUND = 10.0
"""Generous bound on time to a clear credential error."""


# -- scanning ------------------------------------------------------------------------------


class RecordCollector(logging.Handler):
    """A handler keeping every record it is given (the record itself, not just its text)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


UNREDACTED_BODY_CREDENTIAL = re.compile(r"<(SecretAccessKey|SessionToken)>(?!\*\*\*REDACTED)")
"""An STS answer's credential element whose value was not redacted."""


@dataclass
class Scan:
    """Texts gathered from one scenario's outputs, each under a label saying where it came from."""

    what: str
    texts: list[tuple[str, str]] = field(default_factory=list)
    secrets: tuple[str, ...] = MARKERS

    def add(self, label: str, text: object) -> None:
        """Add one output (any object: its ``str`` is scanned)."""
        self.texts.append((label, str(text)))

    def add_records(self, records: list[logging.LogRecord]) -> None:
        """Add each record's formatted message, raw ``msg``, ``args`` and its whole ``__dict__``."""
        formatter = logging.Formatter()
        for rec in records:
            label = f"log record {rec.name}:{rec.levelname}"
            self.add(label + " message", rec.getMessage())
            self.add(label + " msg", rec.msg)
            self.add(label + " args", repr(rec.args))
            self.add(label + " record", repr(vars(rec)))
            if rec.exc_info:
                self.add(label + " exc_info", formatter.formatException(rec.exc_info))

    def add_error(self, label: str, error: BaseException) -> None:
        """Add an exception's str, repr and full traceback (its boto cause included)."""
        self.add(label + " str", error)
        self.add(label + " repr", repr(error))
        self.add(label + " traceback", "".join(traceback.format_exception(error)))

    def add_files(self, root: Path) -> int:
        """Add every file under ``root`` (bytes decoded leniently); return how many."""
        files = [path for path in root.rglob("*") if path.is_file()]
        for path in files:
            self.add(f"file {path.relative_to(root)}", path.read_bytes().decode("utf-8", "replace"))
        return len(files)

    def leaks(self) -> list[str]:
        """Labels of the outputs that contain a planted marker (or another known secret), or an unredacted STS credential."""
        return [
            label
            for label, text in self.texts
            if any(secret in text for secret in self.secrets) or UNREDACTED_BODY_CREDENTIAL.search(text)
        ]

    def check(self) -> None:
        """Record the figures, then assert that nothing leaked."""
        leaks = self.leaks()
        record("secret_scan", what=self.what, outputs=len(self.texts), leaks=len(leaks), planted=len(self.secrets))
        assert self.texts, "nothing was scanned"
        assert leaks == [], f"planted credentials leaked into: {leaks[:10]}"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Plant the marker credentials (over conftest's placeholders); return the output directory to scan.

    The working directory and ``HOME`` are inside it, so any file the tool writes is
    scanned; inputs the test writes (AWS config files) go elsewhere under ``tmp_path``.
    """
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MARKER_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MARKER_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", MARKER_TOKEN)
    outputs = tmp_path / "outputs"
    home, work = outputs / "home", outputs / "work"
    home.mkdir(parents=True)
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return outputs


@pytest.fixture
def assume_role_profile(planted: Path, fresh_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A profile that assumes a role (moto's STS) from source credentials holding the markers; its name.

    The environment credentials are removed so that only the profile supplies them.
    """
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "config").write_text(
        "[profile marker-role]\nrole_arn = arn:aws:iam::123456789012:role/vibedigest-deployer\n"
        "source_profile = marker-source\nregion = us-east-1\n[profile marker-source]\nregion = us-east-1\n"
    )
    (inputs / "credentials").write_text(
        f"[marker-source]\naws_access_key_id = {MARKER_KEY_ID}\naws_secret_access_key = {MARKER_SECRET}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(inputs / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(inputs / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fresh_server)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    return "marker-role"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root and botocore loggers back as they were (the CLI reconfigures both)."""
    root, botocore_logger = logging.getLogger(), logging.getLogger("botocore")
    saved = (root.level, root.handlers[:], botocore_logger.level)
    try:
        yield
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        botocore_logger.setLevel(saved[2])


@pytest.fixture
def debug_root(restore_logging: None) -> Iterator[tuple[io.StringIO, RecordCollector]]:
    """An application that turns DEBUG on globally: a basicConfig-style handler on root, plus a collector."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    collector = RecordCollector()
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    logging.getLogger("botocore").setLevel(logging.NOTSET)
    yield stream, collector


@pytest.fixture
def fresh_server(moto_server: EmbeddedEndpoint) -> str:
    """The worker's moto server URL, emptied first (moto's reset API)."""
    request = urllib.request.Request(f"{moto_server.url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    return moto_server.url


def create_table(url: str, name: str) -> None:
    """Create a table with the VibeDigest key schema directly on the server (dummy credentials)."""
    create_digest_table(Target.local(url).client("dynamodb"), name)


# -- the CLI, in-process, at every log level ---------------------------------------------------


@dataclass
class CliRun:
    """One in-process CLI run: exit code and what it printed."""

    argv: list[str]
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> Iterator[tuple[Callable[[list[str]], CliRun], RecordCollector]]:
    """Run ``cli.main`` capturing stdout/stderr, with a DEBUG collector on root after the CLI's logging setup.

    The CLI replaces the root handlers in ``configure_logging``, so the collector is
    added right after it (wrapping the function): it sees every record the CLI's own
    levels let through, as the CLI's stderr handler does.
    """
    collector = RecordCollector()
    configure = cli.configure_logging

    def configure_then_collect(verbose: bool, debug: bool) -> None:
        configure(verbose, debug)
        logging.getLogger().addHandler(collector)

    monkeypatch.setattr(cli, "configure_logging", configure_then_collect)

    def run(argv: list[str]) -> CliRun:
        code = cli.main(argv)
        captured = capsys.readouterr()
        return CliRun(argv, code, captured.out, captured.err)

    yield run, collector


LEVELS = {"default": [], "verbose": ["-v"], "debug": ["--debug"]}
Command = tuple[list[str], set[int], str]  # argv (after the level flag), accepted exit codes, expected text


def command_groups(url: str, level: str) -> dict[str, list[Command]]:
    """Every CLI command, in groups that run independently (the lifecycle group shares one stack)."""
    aws = ["--target", "aws", "--endpoint-url", url]
    lifecycle: list[Command] = [
        (["deploy", "--env", "dev", *aws], {0, 1}, "Connection OK"),
        (["status", "--env", "dev", *aws], {0}, "Connection OK"),
        (["recover", "--env", "dev", *aws], {0}, "nothing to recover"),
        (["delete", "--env", "dev", *aws], {0}, "is retained"),
    ]
    if level == "debug":  # the main job, once: deploy, then write and read back the sample digest
        lifecycle.insert(1, (["demo", "--env", "dev", *aws], {0, 1}, "sample items"))
    return {
        "lint": [(["lint"], {0}, "cfn-lint found no errors")],
        "dry-run": [(["deploy", "--env", "dev", "--dry-run", *aws], {0}, "Dry run: nothing was changed.")],
        "lifecycle": lifecycle,
        "errors": [
            (["status", "--env", "staging", *aws], {1}, "error: Table 'VibeDigest-staging' not found"),
            (["status", "--env", "dev", "--target", "aws", "--endpoint-url", refused_endpoint()], {1},
             "error: Could not reach the endpoint"),
        ],
    }


@pytest.mark.parametrize("group", ["lint", "dry-run", "lifecycle", "errors"])
@pytest.mark.parametrize("level", list(LEVELS))
def test_cli_commands_never_print_or_log_the_credentials(
    level: str, group: str, planted: Path, fresh_server: str,
    run_cli: tuple[Callable[[list[str]], CliRun], RecordCollector],
) -> None:
    """Every command, success and error paths, at default, -v and --debug: no marker anywhere.

    ``--target aws --endpoint-url <moto>`` makes the CLI sign with the planted
    credentials. Moto ignores PITR/SSE from templates, so ``deploy``'s verification
    with ``--target aws`` (no emulator allowances) may report a mismatch and exit 1;
    that is moto's gap, not the subject here: the test checks it ran to the end.
    """
    run, collector = run_cli
    scan = Scan(f"CLI {group} at {level} level")
    for argv, codes, expected in command_groups(fresh_server, level)[group]:
        result = run([*LEVELS[level], *argv])
        scan.add(f"{argv[0]} stdout", result.stdout)
        scan.add(f"{argv[0]} stderr", result.stderr)
        assert result.code in codes, (argv, result.code, result.stderr[-2000:])
        assert expected in result.stdout + result.stderr, (argv, result.stdout[-2000:], result.stderr[-2000:])
        if result.code == 1 and expected.startswith("error:"):  # one error line, last; tracebacks only in DEBUG logs
            error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(error_lines) == 1 and result.stderr.rstrip().endswith(error_lines[0])
            assert level == "debug" or "Traceback" not in result.stderr
    scan.add_records(collector.records)
    scan.add_files(planted)
    if level == "debug" and group != "lint":  # botocore's wire log was on: the signed headers were logged, redacted
        wire = [rec.getMessage() for rec in collector.records if rec.name == "botocore.endpoint"]
        assert any("'X-Amz-Security-Token': b'" + redaction.REDACTED in message for message in wire)
    scan.check()


def test_cli_debug_subprocess_never_prints_the_credentials(planted: Path, fresh_server: str) -> None:
    """``python -m src.database --debug status`` in a fresh interpreter: markers absent, headers redacted."""
    create_table(fresh_server, "VibeDigest-dev")
    env = {**unmeasured(), "PYTHONPATH": str(REPO_ROOT)}

    result = subprocess.run(
        [sys.executable, "-m", "src.database", "--debug", "status", "--env", "dev",
         "--target", "aws", "--endpoint-url", fresh_server],
        env=env, cwd=Path.cwd(), capture_output=True, text=True, timeout=60, check=False,
    )

    scan = Scan("CLI subprocess --debug status")
    scan.add("stdout", result.stdout)
    scan.add("stderr", result.stderr)
    scan.add_files(planted)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Connection OK" in result.stdout
    assert "x-amz-security-token:" + redaction.REDACTED in result.stderr  # botocore.auth's CanonicalRequest
    assert "'X-Amz-Security-Token': b'" + redaction.REDACTED in result.stderr  # botocore.endpoint's headers
    scan.check()


def test_missing_credentials_and_unknown_profile_are_clear_cli_errors(
    planted: Path, fresh_server: str, run_cli: tuple[Callable[[list[str]], CliRun], RecordCollector],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No credentials at all, or a profile that does not exist: one distinct ``error:`` line each, exit 1."""
    run, collector = run_cli
    aws = ["--target", "aws", "--endpoint-url", fresh_server]
    scan = Scan("CLI credential errors")

    started = time.perf_counter()
    unknown_profile = run(["--debug", "status", "--env", "dev", "--profile", "no-such-profile", *aws])
    profile_seconds = time.perf_counter() - started
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    started = time.perf_counter()
    missing = run(["--debug", "status", "--env", "dev", *aws])
    missing_seconds = time.perf_counter() - started

    for label, result in (("unknown profile", unknown_profile), ("missing", missing)):
        scan.add(f"{label} stdout", result.stdout)
        scan.add(f"{label} stderr", result.stderr)
    scan.add_records(collector.records)
    record("error_time", case="CLI: unknown profile", error="CredentialsError", seconds=profile_seconds)
    record("error_time", case="CLI: no credentials", error="CredentialsError", seconds=missing_seconds)
    assert unknown_profile.code == 1 and missing.code == 1
    profile_line = [line for line in unknown_profile.stderr.splitlines() if line.startswith("error:")]
    missing_line = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
    assert len(profile_line) == 1 and profile_line[0].startswith("error: AWS profile 'no-such-profile' not found")
    assert profile_line[0].endswith("List the profiles with: aws configure list-profiles")
    assert len(missing_line) == 1 and missing_line[0].startswith("error: No AWS credentials found")
    assert missing_line[0].endswith("use a local endpoint: --target local.")  # the CLI's hint
    assert "Traceback" not in unknown_profile.stderr + missing.stderr
    assert profile_seconds < ERROR_BOUND and missing_seconds < ERROR_BOUND
    scan.check()


# -- DynamoDBClient with DEBUG on globally, without the CLI --------------------------------------


def test_client_methods_at_debug_never_log_the_credentials(
    planted: Path, fresh_server: str, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """repr, test_connection, validate_table, call (success and failure) with the root logger at DEBUG.

    Also checks the redaction catches botocore's two credential-bearing DEBUG
    records: ``botocore.auth``'s multi-line CanonicalRequest (``x-amz-security-token:``
    line) and ``botocore.endpoint``'s headers dict (token and Authorization).
    """
    stream, collector = debug_root
    table = f"leak-{uuid.uuid4().hex[:10]}"
    create_table(fresh_server, table)
    scan = Scan("DynamoDBClient methods at DEBUG")
    client = DynamoDBClient(table_name=table, endpoint_url=fresh_server)  # credentials from the environment
    scan.add("repr before connecting", repr(client))

    scan.add("test_connection", client.test_connection())
    scan.add("validate_table", client.validate_table())
    item = {"digest_date": {"S": "2026-11-26"}, "item_id": {"S": "a"}, "title": {"S": "hello"}}
    scan.add("PutItem", client.call("PutItem", TableName=table, Item=item))
    got = client.call("GetItem", TableName=table, Key={"digest_date": {"S": "2026-11-26"}, "item_id": {"S": "a"}})
    scan.add("GetItem", got)
    scan.add("repr connected", repr(client))
    scan.add("location", client.location)
    scan.add("boto3 client repr", repr(client.client))
    assert got["Item"] == item

    failures: list[tuple[str, Callable[[], Any], type[DatabaseError]]] = [
        ("missing table", DynamoDBClient(table_name="VibeDigest-nope", endpoint_url=fresh_server).test_connection,
         TableNotFoundError),
        ("refused endpoint", DynamoDBClient(table_name=table, endpoint_url=refused_endpoint()).test_connection,
         EndpointUnreachableError),
        ("bad call", lambda: client.call("PutItem", TableName=table, Item={"digest_date": {"S": "x"}}),
         DatabaseError),
    ]
    with FaultProxy(fresh_server) as proxy:
        throttled = DynamoDBClient(table_name=table, endpoint_url=proxy.url,
                                   settings=ClientSettings(max_attempts=1, connect_timeout=1, read_timeout=5))
        proxy.inject(Fault.THROTTLING, times=None)
        failures.append(("throttled", throttled.validate_table, ThrottledError))
        for label, call, expected in failures:
            with pytest.raises(expected) as excinfo:
                call()
            scan.add_error(label, excinfo.value)
        scan.add("repr after failures", repr(throttled))

    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    scan.add_files(planted)
    # botocore's two credential-bearing DEBUG records, for the requests signed with the token
    # (the test's own set-up requests use dummy credentials without one)
    canonical = [r.getMessage() for r in collector.records if r.name == "botocore.auth"
                 and r.getMessage().startswith("CanonicalRequest") and ";x-amz-security-token;" in r.getMessage()]
    headers = [r.getMessage() for r in collector.records if r.name == "botocore.endpoint"
               and r.getMessage().startswith("Sending http request") and "X-Amz-Security-Token" in r.getMessage()]
    assert len(canonical) >= 5 and len(headers) >= 5
    assert all("\nx-amz-security-token:" + redaction.REDACTED + "\n" in text for text in canonical)
    assert all("'X-Amz-Security-Token': b'" + redaction.REDACTED + "'" in text for text in headers)
    assert all("'Authorization': b'" + redaction.REDACTED + "'" in text for text in headers)
    scan.check()


def test_the_scan_finds_the_token_when_redaction_is_bypassed(
    planted: Path, fresh_server: str, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """Control: with a plain ``logging.LogRecord`` factory, botocore's DEBUG log does carry the token.

    This proves the scans above can fail: the token is really sent and logged by
    botocore, and only the redacting record factory keeps it out.
    """
    stream, collector = debug_root
    table = f"leak-{uuid.uuid4().hex[:10]}"
    create_table(fresh_server, table)
    client = DynamoDBClient(table_name=table, endpoint_url=fresh_server)
    client.client  # build it (and install redaction) before bypassing the factory
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        client.test_connection()
    finally:
        logging.setLogRecordFactory(previous)

    scan = Scan("control: redaction bypassed")
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    leaks = scan.leaks()
    assert any(label.startswith("log record botocore.auth") for label in leaks)
    assert any(label.startswith("log record botocore.endpoint") for label in leaks)
    assert "TOKENMARKER" in stream.getvalue()
    assert "SECRETMARKER" not in stream.getvalue()  # botocore never logs the secret key itself


@pytest.mark.parametrize("inject", ["session", "client"])
def test_injected_session_or_client_is_redacted_in_a_fresh_process(
    inject: str, planted: Path, fresh_server: str
) -> None:
    """An application passing its own boto3 session/client (no ``Target.session``), DEBUG on, fresh process.

    Redaction is process-wide once installed, so this needs a new interpreter to
    show that constructing ``DynamoDBClient`` installs it even on this path.
    """
    create_table(fresh_server, "VibeDigest-dev")
    script = (
        "import io, logging, boto3\n"
        "stream = io.StringIO()\n"
        "logging.basicConfig(level=logging.DEBUG, stream=stream)\n"
        "from src.database import DynamoDBClient\n"
        f"url = {fresh_server!r}\n"
        + ("c = DynamoDBClient('dev', endpoint_url=url, session=boto3.Session())\n" if inject == "session" else
           "c = DynamoDBClient('dev', client=boto3.client('dynamodb', endpoint_url=url))\n")
        + "print(c.test_connection()['status'])\n"
        "print(stream.getvalue())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env={**unmeasured(), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )

    scan = Scan(f"injected {inject} at DEBUG (subprocess)")
    scan.add("stdout", result.stdout)
    scan.add("stderr", result.stderr)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ACTIVE")
    assert "'X-Amz-Security-Token': b'" + redaction.REDACTED in result.stdout
    scan.check()


def test_local_target_never_sends_the_real_credentials(planted: Path, fresh_server: str) -> None:
    """``Target.local`` signs with the fixed dummy credentials: the planted ones never go on the wire."""
    table = f"leak-{uuid.uuid4().hex[:10]}"
    create_table(fresh_server, table)
    client = DynamoDBClient.for_target(Target.local(fresh_server), table_name=table)
    sent: list[dict[str, str]] = []
    client.client.meta.events.register(
        "before-send.dynamodb", lambda request, **_: sent.append({k: str(v) for k, v in request.headers.items()})
    )

    client.test_connection()

    assert sent
    assert all("Credential=testing/" in headers["Authorization"] for headers in sent)
    assert not any(MARKER_KEY_ID in value or "TOKENMARKER" in value for headers in sent for value in headers.values())
    assert all("X-Amz-Security-Token" not in headers for headers in sent)


def test_assume_role_credentials_from_sts_are_redacted_at_debug(
    assume_role_profile: str, planted: Path, fresh_server: str, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """An assume-role profile with DEBUG on: botocore logs STS's answer, whose temporary credentials are redacted.

    The source profile's secret key is the marker; the temporary secret key and
    token come from moto's STS and are looked for verbatim too.
    """
    stream, collector = debug_root
    table = f"leak-{uuid.uuid4().hex[:10]}"
    create_table(fresh_server, table)
    client = DynamoDBClient(table_name=table, endpoint_url=fresh_server, profile=assume_role_profile)

    summary = client.test_connection()

    temporary = client.client._request_signer._credentials.get_frozen_credentials()  # test-only peek
    scan = Scan("assume-role profile at DEBUG", secrets=(*MARKERS, temporary.secret_key, temporary.token))
    scan.add("test_connection", summary)
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    scan.add_files(planted)
    assert temporary.access_key.startswith("ASIA") and temporary.access_key != MARKER_KEY_ID  # really assumed
    scan.check()
    assert "<SecretAccessKey>" + redaction.REDACTED in stream.getvalue()  # STS's answer was logged, redacted


def test_cli_debug_with_an_assume_role_profile_redacts_the_sts_answer(
    assume_role_profile: str, planted: Path, fresh_server: str,
    run_cli: tuple[Callable[[list[str]], CliRun], RecordCollector],
) -> None:
    """``--debug status --profile <assume-role profile>``: the STS answer in the log carries no credential."""
    run, collector = run_cli
    create_table(fresh_server, "VibeDigest-dev")

    result = run(["--debug", "status", "--env", "dev", "--target", "aws", "--endpoint-url", fresh_server,
                  "--profile", assume_role_profile])

    scan = Scan("CLI --debug with an assume-role profile")
    scan.add("stdout", result.stdout)
    scan.add("stderr", result.stderr)
    scan.add_records(collector.records)
    scan.add_files(planted)
    assert result.code == 0, result.stderr[-2000:]
    scan.check()
    assert "<SecretAccessKey>" + redaction.REDACTED in result.stderr  # STS's answer was logged, redacted
    assert "<SessionToken>" + redaction.REDACTED in result.stderr


# -- rejected, expired, forbidden and missing credentials: distinct, clear errors ------------------


CREDENTIAL_CASES = {
    # case -> (AWS error code answered by the Stubber, expected class, texts the message must contain)
    "expired token": ("ExpiredTokenException", InvalidCredentialsError, ("ExpiredTokenException", "Refresh")),
    "unrecognized key": ("UnrecognizedClientException", InvalidCredentialsError,
                         ("UnrecognizedClientException", "Refresh")),
    "access denied": ("AccessDeniedException", AccessDeniedError, ("Access denied", "Grant the caller permission")),
}


@pytest.mark.parametrize("case", list(CREDENTIAL_CASES))
def test_rejected_credentials_raise_a_distinct_clear_error(
    case: str, planted: Path, fresh_server: str, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """What AWS answers for an expired token, an unknown key or a missing permission (via ``Stubber``)."""
    stream, collector = debug_root
    code, expected, texts = CREDENTIAL_CASES[case]
    client = DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=fresh_server)
    with Stubber(client.client) as stubber:
        stubber.add_client_error("describe_table", service_error_code=code,
                                 service_message=f"{code} for {MARKER_KEY_ID}", http_status_code=400)
        started = time.perf_counter()
        with pytest.raises(DatabaseError) as excinfo:
            client.test_connection()
        seconds = time.perf_counter() - started

    error = excinfo.value
    record("error_time", case=case, error=type(error).__name__, seconds=seconds)
    scan = Scan(f"client: {case}")
    scan.add_error(case, error)
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    assert type(error) is expected
    for text in texts:
        assert text in str(error)
    assert "\n" not in str(error)
    scan.check()


def test_missing_credentials_and_unknown_profile_raise_distinct_clear_errors(
    planted: Path, fresh_server: str, monkeypatch: pytest.MonkeyPatch, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """No credentials anywhere vs a profile that does not exist: both CredentialsError, different messages."""
    stream, collector = debug_root
    scan = Scan("client: missing credentials, unknown profile")

    started = time.perf_counter()
    with pytest.raises(DatabaseError) as profile_error:
        DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=fresh_server, profile="no-such-profile").test_connection()
    profile_seconds = time.perf_counter() - started
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    started = time.perf_counter()
    with pytest.raises(DatabaseError) as missing_error:
        DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=fresh_server).test_connection()
    missing_seconds = time.perf_counter() - started

    record("error_time", case="client: unknown profile", error=type(profile_error.value).__name__,
           seconds=profile_seconds)
    record("error_time", case="client: no credentials", error=type(missing_error.value).__name__,
           seconds=missing_seconds)
    scan.add_error("unknown profile", profile_error.value)
    scan.add_error("missing", missing_error.value)
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    assert type(profile_error.value) is CredentialsError
    assert "AWS profile 'no-such-profile' not found" in str(profile_error.value)
    assert type(missing_error.value) is CredentialsError
    assert str(missing_error.value).startswith("No AWS credentials found")
    assert profile_seconds < ERROR_BOUND and missing_seconds < ERROR_BOUND
    scan.check()

