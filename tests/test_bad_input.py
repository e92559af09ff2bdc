"""Bad-input matrix: every input a user can give, each refused with one clear error.

One table (``CASES``) drives three kinds of input:

- ``cli``: ``python -m src.database`` arguments and environment variables, run
  in-process through ``cli.main``. Expected: exit 1, stderr exactly one non-empty
  line starting with ``error:``, no traceback, nothing on stdout, the offending
  value shown (shortened when long), the error of the expected class, zero requests
  at the endpoint (a counting ``FaultProxy`` in front of the worker's moto server is
  passed as ``--endpoint-url`` whenever the endpoint is not itself the bad input),
  and no stack or table on the server afterwards.
- ``usage``: argparse-level errors (a bad ``--target`` choice, a non-number): exit 2
  with argparse's ``usage:`` and ``error:`` lines.
- ``api``: ``DynamoDBClient``/``ClientSettings`` arguments and environment variables
  used from Python: ``ConfigurationError`` whose one-line message shows the value.

Each case's outcome is recorded with ``tests.support.figures.record("bad_input", ...)``
before it is asserted, so the generated reliability report counts what was tried.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest

from src.database.aws.target import Target
from src.database.cli import parser as cli
from src.database.client import DynamoDBClient
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.errors import DatabaseError
from src.database.settings import ClientSettings
from tests.support import figures
from tests.support.fault_proxy import FaultProxy

LONG = "x" * 300
PASSWORD = "hunter2-not-for-logs"
# Files for --template cases, created per test under tmp_path (name -> bytes).
TEMPLATE_FILES: dict[str, bytes] = {
    "not-yaml.yml": b"Resources: [unclosed\n  - : :\n",
    "scalar.yml": b"just a string\n",
    "star-not-yaml.yml": b"Resources: '*unclosed\n  - : [\n",
    "binary.yml": b"\xff\xfe\x00\x01 not text",
    "empty.yml": b"",
    # nine aliases of nine of the one before: a few hundred bytes that expand to 10**9 nodes
    "alias-bomb.yml": b"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + b"".join(
        f"{name}: &{name} [{', '.join(['*' + before] * 9)}]\n".encode() for before, name in zip("abcdefgh", "bcdefghi")
    ),
    "lint-fails.yml": (
        b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Table:\n    Type: AWS::DynamoDB::Table\n"
        b"    Properties:\n      BillingMode: PAY_PER_REQUEST\n"
    ),
}


@dataclass(frozen=True)
class Case:
    """One bad input: what is tried, which error class must refuse it, what the message must show."""

    id: str
    kind: str  # "cli", "usage" or "api"
    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    call: Callable[[], Any] | None = None
    error: str = "ConfigurationError"
    shows: tuple[str, ...] = ()
    hides: tuple[str, ...] = ()
    endpoint: bool = True  # add --endpoint-url <counting proxy> to a cli case


def cli_case(id: str, *argv: str, shows: str | tuple[str, ...] = (), error: str = "ConfigurationError",
             env: dict[str, str] | None = None, endpoint: bool = True, hides: tuple[str, ...] = ()) -> Case:
    """A command-line case (``argv`` after the program name)."""
    return Case(id, "cli", argv=argv, env=env or {}, error=error,
                shows=(shows,) if isinstance(shows, str) else shows, endpoint=endpoint, hides=hides)


def api_case(id: str, call: Callable[[], Any], *shows: str, env: dict[str, str] | None = None) -> Case:
    """A Python API case: ``call`` must raise ConfigurationError."""
    return Case(id, "api", call=call, env=env or {}, shows=shows)


CASES: list[Case] = [
    # --env
    cli_case("env unknown 'qa'", "deploy", "--env", "qa", shows="Unknown environment 'qa'"),
    cli_case("env mis-cased 'Dev'", "deploy", "--env", "Dev", shows=("'Dev'", "did you mean 'dev'?")),
    cli_case("env with shell 'dev; rm -rf /'", "deploy", "--env", "dev; rm -rf /", shows="'dev; rm -rf /'"),
    cli_case("env path '../etc'", "deploy", "--env", "../etc", shows="'../etc'"),
    cli_case("env empty", "deploy", "--env", "", shows="Unknown environment ''"),
    cli_case("env 300 characters", "deploy", "--env", LONG, shows=repr("x" * 40 + "..."), hides=("x" * 41,)),
    cli_case("env with newline", "status", "--env", "dev\nprod", shows=r"'dev\nprod'"),
    cli_case("env for delete", "delete", "--env", "qa", shows="'qa'"),
    cli_case("env for recover", "recover", "--env", "PROD", shows="did you mean 'prod'?"),
    # --region
    cli_case("region 'mars-1'", "deploy", "--region", "mars-1", shows="Invalid region 'mars-1'"),
    cli_case("region 'US-EAST-1'", "deploy", "--region", "US-EAST-1", shows="'US-EAST-1'"),
    cli_case("region empty", "deploy", "--region", "", shows="Invalid region ''"),
    cli_case("region 'us-east-1; ls'", "deploy", "--region", "us-east-1; ls", shows="'us-east-1; ls'"),
    cli_case("region with space, target aws", "status", "--target", "aws", "--region", "us east 1",
             shows="'us east 1'"),
    # --endpoint-url
    cli_case("endpoint without scheme", "deploy", "--endpoint-url", "localhost:4566",
             shows="'localhost:4566'", endpoint=False),
    cli_case("endpoint ftp", "deploy", "--endpoint-url", "ftp://x", shows="'ftp://x'", endpoint=False),
    cli_case("endpoint without host", "deploy", "--endpoint-url", "http://", shows="'http://'", endpoint=False),
    cli_case("endpoint port not a number", "status", "--endpoint-url", "http://host:notaport",
             shows="'http://host:notaport'", endpoint=False),
    cli_case("endpoint port out of range", "status", "--endpoint-url", "http://127.0.0.1:70000",
             shows="'http://127.0.0.1:70000'", endpoint=False),
    cli_case("endpoint host with space", "status", "--endpoint-url", "http://a b:1", shows="'http://a b:1'",
             endpoint=False),
    cli_case("endpoint host with underscore", "status", "--endpoint-url", "http://my_host:1",
             shows="Invalid host 'my_host'", endpoint=False),
    cli_case("endpoint with password", "status", "--endpoint-url", f"http://user:{PASSWORD}@127.0.0.1:1",
             shows="'http://***@127.0.0.1:1'", hides=(PASSWORD,), endpoint=False),
    cli_case("endpoint for target aws", "status", "--target", "aws", "--endpoint-url", "ftp://x",
             shows="'ftp://x'", endpoint=False),
    # --template (refused before any AWS call: the counting proxy sees zero requests)
    cli_case("template missing", "deploy", "--template", "{tmp}/missing.yml",
             shows="Template not found: {tmp}/missing.yml", error="TemplateError"),
    cli_case("template not YAML", "deploy", "--template", "{tmp}/not-yaml.yml",
             shows="not valid YAML/JSON", error="TemplateError"),
    cli_case("template a scalar", "deploy", "--template", "{tmp}/scalar.yml", shows="not a mapping",
             error="TemplateError"),
    cli_case("template not text", "deploy", "--template", "{tmp}/binary.yml", shows="cannot be read",
             error="TemplateError"),
    cli_case("template empty", "deploy", "--template", "{tmp}/empty.yml",
             shows=("cfn-lint found 1 error(s)", "'Resources' is a required property"), error="TemplateError"),
    cli_case("template cfn-lint rejects", "deploy", "--template", "{tmp}/lint-fails.yml",
             shows=("cfn-lint found 1 error(s)", "not deploying", "E3003", "'KeySchema'"), error="TemplateError"),
    cli_case("template a symbolic link loop", "deploy", "--template", "{tmp}/loop-a.yml",
             shows="cannot be read: Too many levels of symbolic links", error="TemplateError"),
    cli_case("template a YAML alias bomb", "deploy", "--template", "{tmp}/alias-bomb.yml",
             shows=("uses a YAML alias (*a, line 2)", "CloudFormation rejects"), error="TemplateError"),
    cli_case("template path of 100,000 characters", "deploy", "--template", "{tmp}/" + "p" * 100_000,
             shows="cannot be read: File name too long", error="TemplateError"),
    cli_case("template not YAML, with an asterisk", "deploy", "--template", "{tmp}/star-not-yaml.yml",
             shows="not valid YAML/JSON", error="TemplateError"),
    cli_case("template a directory", "deploy", "--template", "{tmp}", shows="is a directory", error="TemplateError"),
    cli_case("template cfn-lint rejects, dry run", "deploy", "--dry-run", "--template", "{tmp}/lint-fails.yml",
             shows="E3003", error="TemplateError"),
    cli_case("lint of a missing template", "lint", "--template", "{tmp}/missing.yml", shows="Template not found",
             error="TemplateError", endpoint=False),
    # --profile
    cli_case("profile that does not exist", "status", "--target", "aws", "--profile", "nosuch",
             shows="AWS profile 'nosuch' not found", error="CredentialsError"),
    cli_case("profile that does not exist, deploy", "deploy", "--target", "aws", "--profile", "nosuch",
             shows="AWS profile 'nosuch' not found", error="CredentialsError"),
    # --timeout
    cli_case("timeout negative", "deploy", "--timeout", "-5", shows="--timeout must be a positive number",
             hides=("Traceback",)),
    cli_case("timeout zero", "deploy", "--timeout", "0", shows="got 0.", hides=("0.0",)),
    cli_case("timeout nan", "deploy", "--timeout", "nan", shows="got nan."),
    cli_case("timeout infinite", "deploy", "--timeout", "inf", shows="got inf."),
    # serve
    cli_case("serve port out of range", "serve", "--port", "70000", shows="got 70000", endpoint=False),
    cli_case("serve port negative", "serve", "--port", "-1", shows="got -1", endpoint=False),
    cli_case("serve unknown host", "serve", "--host", "no such host", shows="host 'no such host'", endpoint=False),
    # environment variables, through the CLI
    cli_case("AWS_MAX_ATTEMPTS='x'", "deploy", env={"AWS_MAX_ATTEMPTS": "x"}, shows="AWS_MAX_ATTEMPTS must be a whole number, got 'x'"),
    cli_case("AWS_MAX_ATTEMPTS='0'", "status", env={"AWS_MAX_ATTEMPTS": "0"}, shows="got '0'"),
    cli_case("AWS_MAX_ATTEMPTS='99'", "status", env={"AWS_MAX_ATTEMPTS": "99"}, shows="between 1 and 20, got '99'"),
    cli_case("AWS_MAX_ATTEMPTS empty", "status", env={"AWS_MAX_ATTEMPTS": ""}, shows="AWS_MAX_ATTEMPTS is set but empty"),
    cli_case("AWS_RETRY_MODE='bogus'", "status", env={"AWS_RETRY_MODE": "bogus"}, shows="AWS_RETRY_MODE must be one of"),
    cli_case("VIBEDIGEST_CONNECT_TIMEOUT='-1'", "status", env={"VIBEDIGEST_CONNECT_TIMEOUT": "-1"},
             shows="VIBEDIGEST_CONNECT_TIMEOUT must be a positive number of seconds, got '-1'"),
    cli_case("VIBEDIGEST_CONNECT_TIMEOUT='abc'", "recover", env={"VIBEDIGEST_CONNECT_TIMEOUT": "abc"},
             shows="got 'abc'"),
    cli_case("VIBEDIGEST_READ_TIMEOUT empty", "delete", env={"VIBEDIGEST_READ_TIMEOUT": ""},
             shows="VIBEDIGEST_READ_TIMEOUT is set but empty"),
    cli_case("AWS_ENDPOINT_URL_DYNAMODB bad, target aws", "status", "--target", "aws",
             env={"AWS_ENDPOINT_URL_DYNAMODB": "http://bad host"}, shows="Cannot build the dynamodb client",
             endpoint=False),
    # argparse-level errors (exit 2, usage line)
    Case("target 'cloud'", "usage", argv=("deploy", "--target", "cloud"), error="usage",
         shows=("invalid choice: 'cloud'",)),
    Case("timeout not a number", "usage", argv=("deploy", "--timeout", "soon"), error="usage",
         shows=("invalid float value: 'soon'",)),
    Case("port not a number", "usage", argv=("serve", "--port", "eighty"), error="usage",
         shows=("invalid int value: 'eighty'",)),
    Case("unknown command", "usage", argv=("destroy",), error="usage", shows=("invalid choice: 'destroy'",)),
    Case("unknown option", "usage", argv=("status", "--force"), error="usage", shows=("unrecognized arguments",)),
    Case("demo has no --dry-run", "usage", argv=("demo", "--dry-run"), error="usage",
         shows=("python -m src.database demo: error: unrecognized arguments: --dry-run",)),
    # the Python API
    api_case("DynamoDBClient environment 'qa'", lambda: DynamoDBClient("qa"), "'qa'"),
    api_case("DynamoDBClient environment 'Dev'", lambda: DynamoDBClient("Dev"), "did you mean 'dev'?"),
    api_case("DynamoDBClient environment ''", lambda: DynamoDBClient(""), "Unknown environment ''"),
    api_case("DynamoDBClient environment 300 chars", lambda: DynamoDBClient(LONG), repr("x" * 40 + "...")),
    api_case("DynamoDBClient both names", lambda: DynamoDBClient("dev", table_name="VibeDigest-dev"), "exactly one"),
    api_case("DynamoDBClient no name", lambda: DynamoDBClient(), "exactly one"),
    api_case("DynamoDBClient table name 'ab'", lambda: DynamoDBClient(table_name="ab"), "Invalid table name 'ab'"),
    api_case("DynamoDBClient table name 256 chars", lambda: DynamoDBClient(table_name="a" * 256), repr("a" * 40 + "...")),
    api_case("DynamoDBClient table name 'bad name'", lambda: DynamoDBClient(table_name="bad name"), "'bad name'"),
    api_case("DynamoDBClient table name 'täble'", lambda: DynamoDBClient(table_name="täble"), "'täble'"),
    api_case("DynamoDBClient table name ''", lambda: DynamoDBClient(table_name=""), "Invalid table name ''"),
    api_case("DynamoDBClient region 'mars-1'", lambda: DynamoDBClient("dev", region="mars-1"), "'mars-1'"),
    api_case("DynamoDBClient region ''", lambda: DynamoDBClient("dev", region=""), "Invalid region ''"),
    api_case("DynamoDBClient region with newline", lambda: DynamoDBClient("dev", region="us-east-1\n"), r"'us-east-1\n'"),
    api_case("DynamoDBClient endpoint 'localhost:4566'", lambda: DynamoDBClient("dev", endpoint_url="localhost:4566"),
             "'localhost:4566'"),
    api_case("DynamoDBClient endpoint ''", lambda: DynamoDBClient("dev", endpoint_url=""), "Invalid endpoint URL ''"),
    api_case("Target settings 'fast'", lambda: Target(settings="fast"), "settings must be a ClientSettings, got str"),
    api_case("local target region ''", lambda: Target.local("http://127.0.0.1:1", ""), "Invalid region ''"),
    api_case("DynamoDBClient environment 123", lambda: DynamoDBClient(123), "environment must be a string, got int"),
    api_case("DynamoDBClient environment ['dev']", lambda: DynamoDBClient(["dev"]), "environment", "got list"),
    api_case("DynamoDBClient table_name=123", lambda: DynamoDBClient(table_name=123), "table_name must be a string"),
    api_case("DynamoDBClient region=123", lambda: DynamoDBClient("dev", region=123), "region must be a string"),
    api_case("DynamoDBClient region unknown", lambda: DynamoDBClient("dev", region="xx-nowhere-9"),
             "'xx-nowhere-9' is not a region botocore's partition data knows", "Nearest known: "),
    api_case("DynamoDBClient endpoint_url=123", lambda: DynamoDBClient("dev", endpoint_url=123),
             "endpoint_url must be a string, got int"),
    api_case("DynamoDBClient profile=5", lambda: DynamoDBClient("dev", profile=5), "profile must be a string"),
    api_case("DynamoDBClient settings a dict", lambda: DynamoDBClient("dev", settings={"read_timeout": 3}),
             "settings must be a ClientSettings", "got dict"),
    api_case("DynamoDBClient settings 'fast'", lambda: DynamoDBClient("dev", settings="fast"), "settings", "got str"),
    api_case("DynamoDBClient session 'x'", lambda: DynamoDBClient("dev", session="x"),
             "session must be a boto3.Session, got str"),
    api_case("DynamoDBClient client 'x'", lambda: DynamoDBClient("dev", client="x"),
             "client must be a boto3 DynamoDB client", "got str"),
    api_case("DynamoDBClient client of another service",
             lambda: DynamoDBClient("dev", client=boto3.client("s3", region_name="us-east-1")), "got a s3 client"),
    api_case("settings read_timeout='3'", lambda: ClientSettings(read_timeout="3"),
             "read_timeout must be a number of seconds, got str"),
    api_case("settings connect_timeout=0", lambda: ClientSettings(connect_timeout=0), "got 0."),
    api_case("settings retry_mode a list", lambda: ClientSettings(retry_mode=["standard"]), "retry_mode", "got list"),
    api_case("settings max_attempts=99", lambda: ClientSettings(max_attempts=99), "got 99"),
    api_case("settings read_timeout=-1", lambda: ClientSettings(read_timeout=-1), "read_timeout must be a positive number"),
    api_case("settings retry_mode 'bogus'", lambda: ClientSettings(retry_mode="bogus"), "'bogus'"),
    api_case("env AWS_MAX_ATTEMPTS='x'", lambda: DynamoDBClient("dev"), "AWS_MAX_ATTEMPTS", "'x'",
             env={"AWS_MAX_ATTEMPTS": "x"}),
    api_case("env AWS_MAX_ATTEMPTS='0'", lambda: DynamoDBClient("dev"), "'0'", env={"AWS_MAX_ATTEMPTS": "0"}),
    api_case("env AWS_MAX_ATTEMPTS='99'", lambda: ClientSettings.from_env(), "'99'", env={"AWS_MAX_ATTEMPTS": "99"}),
    api_case("env AWS_RETRY_MODE='bogus'", lambda: DynamoDBClient("dev"), "AWS_RETRY_MODE", "'bogus'",
             env={"AWS_RETRY_MODE": "bogus"}),
    api_case("env VIBEDIGEST_CONNECT_TIMEOUT='-1'", lambda: Target(), "VIBEDIGEST_CONNECT_TIMEOUT", "'-1'",
             env={"VIBEDIGEST_CONNECT_TIMEOUT": "-1"}),
    api_case("env VIBEDIGEST_CONNECT_TIMEOUT='abc'", lambda: ClientSettings.from_env(), "'abc'",
             env={"VIBEDIGEST_CONNECT_TIMEOUT": "abc"}),
    api_case("env VIBEDIGEST_READ_TIMEOUT=''", lambda: DynamoDBClient("dev"), "VIBEDIGEST_READ_TIMEOUT is set but empty",
             env={"VIBEDIGEST_READ_TIMEOUT": ""}),
]


def cases(kind: str) -> list[Any]:
    """The table's cases of one kind, as pytest params named by their id."""
    return [pytest.param(case, id=case.id) for case in CASES if case.kind == kind]


@pytest.fixture
def server(local_target: Target, moto_server: EmbeddedEndpoint) -> Iterator[str]:
    """The worker's moto server URL, emptied before the test (``local_target`` resets it)."""
    yield moto_server.url


pytestmark = pytest.mark.usefixtures("restore_logging")  # cli.main reconfigures logging; tests/conftest.py


def server_state(url: str) -> tuple[list[str], list[str]]:
    """(live stacks, tables) on the moto server."""
    options: dict[str, Any] = {"endpoint_url": url, "region_name": "us-east-1"}
    summaries = boto3.client("cloudformation", **options).list_stacks()["StackSummaries"]
    live = [s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]
    return live, boto3.client("dynamodb", **options).list_tables()["TableNames"]


def test_the_table_is_well_formed() -> None:
    """Ids are unique (they name the tests and the report rows) and every case says what it must show."""
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert all(case.shows for case in CASES)
    assert {case.kind for case in CASES} == {"cli", "usage", "api"}


@pytest.mark.parametrize("case", cases("cli"))
def test_cli_refuses_bad_input_with_one_error_line(
    case: Case,
    server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, content in TEMPLATE_FILES.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "loop-a.yml").symlink_to(tmp_path / "loop-b.yml")
    (tmp_path / "loop-b.yml").symlink_to(tmp_path / "loop-a.yml")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    raised: list[str] = []
    original_one_line = cli.one_line

    def spy(text: str) -> str:
        """Called by main() inside its ``except DatabaseError``: note which class it is printing."""
        raised.append(type(sys.exc_info()[1]).__name__)
        return original_one_line(text)

    monkeypatch.setattr(cli, "one_line", spy)
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in case.argv]
    with FaultProxy(server) as proxy:
        code = cli.main([*argv, "--endpoint-url", proxy.url] if case.endpoint else argv)
        requests = proxy.requests_seen
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    for name in case.env:  # plain boto3 would trip over the same bad values
        monkeypatch.delenv(name)
    stacks, tables = server_state(server)
    shows = [text.replace("{tmp}", str(tmp_path)) for text in case.shows]
    clean = (
        code == 1
        and len(lines) == 1
        and lines[0].startswith("error: ")
        and raised == [case.error]
        and all(text in lines[0] for text in shows)
        and not any(text in err for text in case.hides)
        and requests == 0
        and not stacks
        and not tables
    )
    figures.record("bad_input", case=f"cli: {case.id}", error=raised[0] if raised else "", clean=clean)

    assert code == 1, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert raised == [case.error]
    for text in shows:
        assert text in lines[0]
    for text in case.hides:
        assert text not in err and text not in out
    assert len(lines[0]) < 400, "the value must be shortened, not echoed whole"
    assert out == ""
    assert requests == 0, proxy.requests_by_operation
    assert (stacks, tables) == ([], [])


@pytest.mark.parametrize("case", cases("usage"))
def test_argparse_refuses_malformed_arguments(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        cli.main(list(case.argv))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    clean = (
        excinfo.value.code == 2
        and lines[0].startswith("usage: ")
        and lines[-1].startswith("python -m src.database")
        and all(text in lines[-1] for text in case.shows)
        and "Traceback" not in err
    )
    figures.record("bad_input", case=f"usage: {case.id}", error="usage", clean=clean)

    assert excinfo.value.code == 2
    assert lines[0].startswith("usage: ")
    assert ": error: " in lines[-1]
    for text in case.shows:
        assert text in lines[-1]
    assert "Traceback" not in err


@pytest.mark.parametrize("case", cases("api"))
def test_api_refuses_bad_arguments(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    built: list[str] = []
    monkeypatch.setattr(Target, "client", lambda self, service, session=None: built.append(service))
    assert case.call is not None
    error: BaseException | None = None
    try:
        case.call()
    except Exception as caught:  # noqa: BLE001 - the class is what is checked below
        error = caught
    message = str(error) if error is not None else ""
    clean = (
        type(error).__name__ == case.error
        and "\n" not in message
        and all(text in message for text in case.shows)
        and not built
    )
    figures.record("bad_input", case=f"api: {case.id}", error=type(error).__name__ if error else "", clean=clean)

    assert isinstance(error, DatabaseError), f"not refused: {error!r}"
    assert type(error).__name__ == case.error
    assert "\n" not in message and len(message) < 400
    for text in case.shows:
        assert text in message
    assert built == []
