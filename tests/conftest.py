"""Shared fixtures: a clean AWS environment, moto in-process, and a moto server over HTTP.

Every test runs with placeholder credentials and no AWS endpoint or profile from the
developer's shell, so nothing can reach real AWS by accident.

moto, boto3 and the package are imported by the fixtures that need them, not here: under
pytest-xdist the controller loads this file too, before it starts any worker, and runs no
test, so importing moto's CloudFormation there would only delay the first worker.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Iterator

import pytest

from tests.support.collector import (
    collect_oldest_less_often,
    freeze_loaded_objects,
    freeze_objects_at_exit,
)
from tests.support.offline import keep_offline

if TYPE_CHECKING:
    from src.database.aws.target import Target
    from tests.support.worker_endpoint import UntracedEndpoint

MOTO_READ_TIMEOUT = 30.0

# The collector in each worker and the controller (tests/support/collector.py): the run's end
# waits for their exit, and full collections over moto's and cfn-lint's objects cost CPU.
freeze_objects_at_exit()
collect_oldest_less_often()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Worker: what collecting imported (moto, boto3, the package, the tests) is never walked again."""
    freeze_loaded_objects()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` first; those marked ``waiting`` spread evenly through the rest.

    A ``long`` test (a fresh interpreter, a serve session, a default timeout) started late
    would be the run's last, with the other workers done and a core idle; first in the
    list, they go to the first worker's share at the start, and the other workers take over
    its queue's tail as they run out. A ``waiting`` test waits on timeouts or back-off with
    its worker idle; in their files' place they would come last and end the run with cores
    idle, while spread out every xdist worker's share holds a few, and the other workers
    keep the cores busy while one waits.
    """
    long = [item for item in items if item.get_closest_marker("long") is not None]
    rest = [item for item in items if item.get_closest_marker("long") is None]
    items[:] = long + _waiting_spread_out(rest)


def _waiting_spread_out(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with those marked ``waiting`` at even intervals, the others in their order."""
    waiting = [item for item in items if item.get_closest_marker("waiting") is not None]
    others = [item for item in items if item.get_closest_marker("waiting") is None]
    if not waiting:
        return others
    step = len(others) / len(waiting)
    spread: list[pytest.Item] = []
    for index, item in enumerate(waiting):
        spread.append(item)
        spread.extend(others[round(index * step):round((index + 1) * step)])
    return spread


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Placeholder credentials, us-east-1, no profile or endpoint, empty AWS config files for every test."""
    keep_offline(monkeypatch)


@pytest.fixture
def moto_aws() -> Iterator[None]:
    """moto's in-process mock of every AWS service, fresh for each test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def moto_server() -> Iterator[UntracedEndpoint]:
    """One moto server per test worker, on 127.0.0.1 (free port), in the worker and untraced.

    It shares the worker's moto state, as the commands' own embedded endpoints do:
    ``reset_moto`` empties both. The tests of ``serve`` itself start their own processes.
    """
    from tests.support.worker_endpoint import UntracedEndpoint

    server = UntracedEndpoint().start()
    freeze_loaded_objects()  # moto's backends and botocore's models, built by the start's warm-up
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_target(moto_server: UntracedEndpoint) -> Target:
    """A ``Target`` at the worker's moto server, reset so each test starts from an empty account.

    Its read timeout is longer than the package's default (3 s, sized for DynamoDB):
    moto is much slower than DynamoDB on a large query, above all on a loaded test machine.
    """
    from src.database.aws.target import Target
    from src.database.settings import ClientSettings
    from tests.support.endpoints import reset_moto

    reset_moto(moto_server)
    return Target.local(moto_server.url, settings=ClientSettings(read_timeout=MOTO_READ_TIMEOUT))


@pytest.fixture(scope="session")
def dynalite_server() -> Iterator[str]:
    """One dynalite per test worker (``tests/support/dynalite.py``) on a free port; its URL.

    Skips the test, with the command that installs it, when dynalite is not installed.
    """
    from tests.support.dynalite import Dynalite, missing_reason

    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = Dynalite()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["moto", "dynalite"])
def data_target(request: pytest.FixtureRequest) -> Target:
    """The worker's moto server (reset, as ``local_target``) or dynalite: a data-layer test runs on both.

    dynalite is not reset: the tests that use it work in tables of their own (``unique_name``).
    """
    from src.database.aws.target import Target
    from src.database.settings import ClientSettings

    if request.param == "moto":
        return request.getfixturevalue("local_target")
    url = request.getfixturevalue("dynalite_server")
    return Target.local(url, settings=ClientSettings(read_timeout=MOTO_READ_TIMEOUT))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo the CLI's ``configure_logging`` (root handlers and level, the levels it sets on named loggers).

    For tests that run commands in-process through ``cli.main``.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    named = {name: logging.getLogger(name).level for name in ("botocore", "werkzeug", "src.database")}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, previous in named.items():
            logging.getLogger(name).setLevel(previous)


@pytest.fixture
def unique_name() -> str:
    """A table/stack name no other test uses, so tests sharing a server stay independent."""
    return f"t-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------
# Reliability figures (tests/support/figures.py) -- appended section, hooks only.
# The controller picks a figures directory and shares it with xdist workers; tests
# append observations with figures.record(); at the end of a run that included the
# fault-injection and secret-leak files in full, the controller writes
# reports/reliability.md (ignored by git).
# ---------------------------------------------------------------------------
from tests.support import figures as _figures  # noqa: E402

_figures_run = _figures.RunTracker()


def pytest_configure(config: pytest.Config) -> None:
    """Controller: choose the figures directory (made on first record). xdist worker: use the controller's."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        _figures_run.start()
    else:
        _figures_run.adopt(workerinput.get(_figures.RunTracker.WORKER_KEY))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist (controller): hand the figures directory to each worker it starts."""
    if _figures_run.directory is not None:
        node.workerinput[_figures.RunTracker.WORKER_KEY] = str(_figures_run.directory)  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count test outcomes per file (on the controller this includes the workers' reports)."""
    _figures_run.note(report.nodeid, report.when, report.outcome)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Controller: write the reliability report if the run included both figure-producing files."""
    config = session.config
    if hasattr(config, "workerinput"):
        return
    complete = int(exitstatus) in (0, 1) and _figures_run.is_complete(
        config.invocation_params.args,
        keyword=config.getoption("keyword", ""),
        markexpr=config.getoption("markexpr", ""),
        deselect=config.getoption("deselect", None) or (),
    )
    invocation = " ".join(["pytest", *config.invocation_params.args])
    path = _figures_run.report(config.rootpath, complete=complete, invocation=invocation)
    if path is not None:
        config.get_terminal_writer().line(f"reliability figures written to {path.relative_to(config.rootpath)}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Controller: remove the figures directory, whatever happened to the session."""
    if not hasattr(config, "workerinput"):
        _figures_run.cleanup()
