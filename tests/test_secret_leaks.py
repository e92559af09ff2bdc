"""The credential leak hunt: planted marker credentials must never show up in any output.

Roles: marker credentials are planted in the environment (the secret key contains
``SECRETMARKER``, the session token ``TOKENMARKER``); the code under test is the CLI
(``src.database.cli.parser.main`` in-process, and ``python -m src.database`` as a
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
import json
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
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from src.database import DigestStore, redaction
from src.database.aws import translation
from src.database.aws.target import Target
from src.database.aws.translation import error_code
from src.database.cli import parser as cli
from src.database.client import DynamoDBClient
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.errors import (
    AccessDeniedError,
    CredentialsError,
    DatabaseError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    TableNotFoundError,
    ThrottledError,
)
from src.database.settings import ClientSettings
from tests.support.endpoints import stub_server, unmeasured
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
    kind: str = ""
    """``"exception chain"`` for the scans of whole exception chains (their own line in the report)."""

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
        record("secret_scan", what=self.what, outputs=len(self.texts), leaks=len(leaks), planted=len(self.secrets),
               kind=self.kind)
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



# -- a server quoting the signed request: the whole exception chain ---------------------------------


class _SignatureMismatch(BaseHTTPRequestHandler):
    """Answers every request as AWS answers a signature it cannot verify: ``InvalidSignatureException``.

    It answers in the request's protocol (XML to CloudFormation's query protocol, JSON to
    DynamoDB), as AWS does. AWS's message quotes the canonical request it computed, whose signed headers include
    ``x-amz-security-token:<the token>`` (public reports: aws/aws-sdk-cpp#17,
    amzn/selling-partner-api-models#1900). This stand-in does the same with the token it
    received, and also echoes it, with the planted secret key and the Authorization header,
    in response headers: whatever a server echoes must not come back out.
    """

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        """Read the request; answer 400 with the canonical request quoted."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token, date = self.headers.get("X-Amz-Security-Token", ""), self.headers.get("X-Amz-Date", "")
        canonical = "\n".join([
            "POST", "/", "", f"content-type:{self.headers.get('Content-Type', '')}", f"host:{self.headers.get('Host')}",
            f"x-amz-date:{date}", f"x-amz-security-token:{token}", f"x-amz-target:{self.headers.get('X-Amz-Target', '')}",
            "", "content-type;host;x-amz-date;x-amz-security-token;x-amz-target", "e3b0c44298fc1c149afbf4c8996fb924",
        ])
        message = (
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String "
            f"for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n"
            f"'AWS4-HMAC-SHA256\n{date}\n20261126/us-east-1/dynamodb/aws4_request\n292fc6cf98dca675'\n"
        )
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):  # query protocol
            content_type, body = "text/xml", (
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidSignatureException</Code>"
                f"<Message>{escape(message)}</Message></Error></ErrorResponse>"
            ).encode()
        else:
            content_type = "application/x-amz-json-1.0"
            body = json.dumps({"__type": "com.amazon.coral.service#InvalidSignatureException", "message": message}).encode()
        self.send_response(400)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "leak-hunt")
        self.send_header("x-echo-token", token)
        self.send_header("x-echo-key", MARKER_SECRET)
        self.send_header("x-echo-authorization", self.headers.get("Authorization", ""))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet."""


def chain_of(error: BaseException) -> list[BaseException]:
    """``error`` and every exception chained to it (``__cause__``, ``__context__``), once each."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    return found


def add_exception_outputs(scan: Scan, label: str, error: BaseException) -> None:
    """Everything an application can get out of an error: each chained exception's str, repr, args and attributes
    (botocore's ``.response`` and ``.kwargs`` among them), the formatted traceback, and ``logging.exception``
    through the root logger and the package's own logger, formatted by a handler."""
    scan.add_error(label, error)
    for index, link in enumerate(chain_of(error)):
        where = f"{label} chain[{index}] {type(link).__name__}"
        scan.add(f"{where} str", link)
        scan.add(f"{where} repr", repr(link))
        scan.add(f"{where} args", repr(link.args))
        scan.add(f"{where} attributes", repr(vars(link)))
        for name in ("response", "kwargs"):
            if hasattr(link, name):
                scan.add(f"{where} .{name}", repr(getattr(link, name)))
    scan.add(f"{label} format_exception", "".join(traceback.format_exception(error)))
    scan.add(f"{label} format_exception_only", "".join(traceback.format_exception_only(error)))
    stream, collector = io.StringIO(), RecordCollector()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    for logger in (logging.getLogger(), logging.getLogger("src.database.client")):
        logger.addHandler(handler)
        logger.addHandler(collector)
        try:
            try:
                raise error
            except DatabaseError:
                logger.exception("the call failed")
            logger.error("again, with exc_info", exc_info=error)
        finally:
            logger.removeHandler(handler)
            logger.removeHandler(collector)
    scan.add(f"{label} logging.exception output", stream.getvalue())
    assert stream.getvalue().count("the call failed\nTraceback (most recent call last)") == 2  # really formatted
    assert stream.getvalue().count("again, with exc_info\nTraceback (most recent call last)") == 2
    scan.add_records(collector.records)


def test_a_server_quoting_the_signed_request_leaks_nothing_through_the_exception_chain(
    planted: Path, debug_root: tuple[io.StringIO, RecordCollector]
) -> None:
    """Issue 20 §1: test_connection, call and a DigestStore read against the stand-in, the planted credentials signing.

    The token reaches the answer (the control below); it must then appear in no ``str``,
    ``repr``, ``__cause__``/``__context__``, ``.response``, traceback or ``logging.exception`` output.
    """
    stream, collector = debug_root
    scan = Scan("exception chains: a server quoting the signed request", kind="exception chain")
    with stub_server(_SignatureMismatch) as url:
        client = DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=url)
        calls: dict[str, Callable[[], Any]] = {
            "test_connection": client.test_connection,
            "call": lambda: client.call("ListTables"),
            "store.day": lambda: DigestStore(DynamoDBClient("dev", endpoint_url=url)).day("2026-11-26"),
        }
        errors: dict[str, BaseException] = {}
        for label, call in calls.items():
            with pytest.raises(InvalidCredentialsError) as excinfo:
                call()
            errors[label] = excinfo.value
            add_exception_outputs(scan, label, excinfo.value)
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    for error in errors.values():
        cause = error.__cause__
        assert isinstance(cause, ClientError) and error_code(cause) == "InvalidSignatureException"
        # what AWS said is still there, with the token redacted
        assert "x-amz-security-token:" + redaction.REDACTED in cause.response["Error"]["Message"]
        assert cause.response["ResponseMetadata"]["HTTPHeaders"]["x-echo-token"] == redaction.REDACTED
    scan.check()


def test_the_chain_scan_finds_the_token_when_the_chain_is_not_redacted(
    planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: without ``redact_exception`` the token does come back in the chain, so the scan above can fail."""
    monkeypatch.setattr(translation, "redact_exception", lambda error: error)
    with stub_server(_SignatureMismatch) as url:
        with pytest.raises(InvalidCredentialsError) as excinfo:
            DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=url).test_connection()
    scan = Scan("control: exception chain not redacted")
    add_exception_outputs(scan, "test_connection", excinfo.value)
    leaks = scan.leaks()
    assert "test_connection str" not in leaks  # the package's own message is redacted even here
    assert "test_connection chain[1] ClientError str" in leaks
    assert "test_connection chain[1] ClientError .response" in leaks
    assert "test_connection format_exception" in leaks
    assert "test_connection logging.exception output" in leaks


def test_cli_against_a_server_quoting_the_signed_request_leaks_nothing(
    planted: Path, run_cli: tuple[Callable[[list[str]], CliRun], RecordCollector]
) -> None:
    """``--debug status`` and ``--debug deploy`` (CloudFormation first): one error line, DEBUG tracebacks clean."""
    run, collector = run_cli
    scan = Scan("CLI --debug against a server quoting the signed request")
    with stub_server(_SignatureMismatch) as url:
        for command in ("status", "deploy"):
            result = run(["--debug", command, "--env", "dev", "--target", "aws", "--endpoint-url", url])
            scan.add(f"{command} stdout", result.stdout)
            scan.add(f"{command} stderr", result.stderr)
            assert result.code == 1, result.stderr[-2000:]
            error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
            assert len(error_lines) == 1 and "InvalidSignatureException" in error_lines[0], result.stderr[-2000:]
    scan.add_records(collector.records)
    scan.add_files(planted)
    scan.check()


# -- credential_process failures keep botocore's reason, redacted -------------------------------------

CREDENTIAL_PROCESS = '''\
import json, sys
case = sys.argv[1]
creds = {"Version": 1, "AccessKeyId": "%(key_id)s", "SecretAccessKey": "%(secret)s", "SessionToken": "%(token)s"}
if case == "malformed":  # cut short: not JSON, though it holds the secret
    print(json.dumps(creds)[:-1])
elif case == "exit 1":
    print("refresh failed: aws_session_token = %(token)s", file=sys.stderr)
    sys.exit(1)
elif case == "version 2":
    print(json.dumps({**creds, "Version": 2}))
elif case == "missing key":
    del creds["SecretAccessKey"]
    print(json.dumps(creds))
''' % {"key_id": MARKER_KEY_ID, "secret": MARKER_SECRET, "token": MARKER_TOKEN}

CREDENTIAL_PROCESS_CASES = {
    # case -> the reason botocore gives, as the message must keep it
    "malformed": "JSONDecodeError: ",
    "exit 1": f"Error when retrieving credentials from custom-process: refresh failed: aws_session_token = "
              f"{redaction.REDACTED}",
    "version 2": "Unsupported version '2' for credential process provider, supported versions: 1",
    "missing key": "Missing required key in response: 'SecretAccessKey'",
}


@pytest.fixture
def credential_process_profile(planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """A function making profile ``cp-<case>`` run a real credential_process script for ``case``; returns the name."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    script = inputs / "credentials.py"
    script.write_text(CREDENTIAL_PROCESS)
    config = inputs / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(inputs / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    def profile(case: str) -> str:
        name = "cp-" + case.replace(" ", "-")
        config.write_text(f"[profile {name}]\nregion = us-east-1\n"
                          f"credential_process = {sys.executable} {script} \"{case}\"\n")
        return name

    return profile


@pytest.mark.parametrize("case", list(CREDENTIAL_PROCESS_CASES))
def test_a_failing_credential_process_is_reported_with_botocores_reason_redacted(
    case: str, credential_process_profile: Callable[[str], str], debug_root: tuple[io.StringIO, RecordCollector],
) -> None:
    """Issue 20 §6: not "Cannot build the dynamodb client ... AWS_ENDPOINT_URL*", nor a bare class name."""
    stream, collector = debug_root
    profile = credential_process_profile(case)
    started = time.perf_counter()
    with pytest.raises(DatabaseError) as excinfo:
        DynamoDBClient(table_name="VibeDigest-dev", endpoint_url=refused_endpoint(), profile=profile).test_connection()
    seconds = time.perf_counter() - started
    error = excinfo.value
    record("error_time", case=f"credential_process: {case}", error=type(error).__name__, seconds=seconds)
    scan = Scan(f"credential_process: {case}", kind="exception chain")
    add_exception_outputs(scan, case, error)
    scan.add("root DEBUG stream", stream.getvalue())
    scan.add_records(collector.records)
    assert type(error) is CredentialsError, repr(error)
    assert str(error).startswith("The AWS credentials could not be obtained: ")
    assert CREDENTIAL_PROCESS_CASES[case] in str(error)
    assert "credential_process" in str(error) and "AWS_ENDPOINT_URL" not in str(error)
    assert "\n" not in str(error) and error.__cause__ is not None
    assert seconds < ERROR_BOUND
    scan.check()


def test_cli_reports_a_failing_credential_process_in_one_line(
    credential_process_profile: Callable[[str], str], run_cli: tuple[Callable[[list[str]], CliRun], RecordCollector],
) -> None:
    run, collector = run_cli
    scan = Scan("CLI: failing credential_process")
    for case, reason in CREDENTIAL_PROCESS_CASES.items():
        result = run(["--debug", "status", "--env", "dev", "--target", "aws", "--profile",
                      credential_process_profile(case), "--endpoint-url", refused_endpoint()])
        scan.add(f"{case} stdout", result.stdout)
        scan.add(f"{case} stderr", result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert result.code == 1 and len(lines) == 1, result.stderr[-2000:]
        assert lines[0].startswith("error: The AWS credentials could not be obtained: ") and reason in lines[0]
    scan.add_records(collector.records)
    scan.check()
