"""dynalite, the second backend of the data layer's tests: pinned, installed by the test command, skipped with a reason."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest

from tests.support import dynalite

ROOT = Path(__file__).resolve().parents[1]


def test_dynalite_is_pinned_with_every_dependency_locked_from_the_registry() -> None:
    package = json.loads((dynalite.DIRECTORY / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((dynalite.DIRECTORY / "package-lock.json").read_text(encoding="utf-8"))
    assert package["dependencies"] == {"dynalite": "4.0.0"}
    packages = lock["packages"]
    assert packages["node_modules/dynalite"]["version"] == "4.0.0"
    locked = [entry for name, entry in packages.items() if name]
    assert len(locked) > 10 and all(entry.get("integrity", "").startswith("sha512-") for entry in locked)
    assert all(entry.get("resolved", "https://registry.npmjs.org/").startswith("https://registry.npmjs.org/")
               for entry in locked)


def test_the_test_command_installs_dynalite_with_npm_ci() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    assert "npm ci --prefix tests/emulators/dynalite" in tox["testenv:test"]["commands_pre"]
    assert "npm" in tox["testenv:test"]["allowlist_externals"].split()
    assert dynalite.INSTALL_COMMAND.startswith("npm ci --prefix tests/emulators/dynalite")


def test_without_dynalite_its_tests_skip_naming_the_command_that_installs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynalite, "DIRECTORY", tmp_path)
    reason = dynalite.missing_reason()
    assert reason is not None and "npm ci --prefix tests/emulators/dynalite" in reason
    monkeypatch.setattr(dynalite.shutil, "which", lambda name: None)
    assert "needs node" in (dynalite.missing_reason() or "")


def test_each_declared_difference_names_its_source() -> None:
    assert dynalite.DIFFERENCES
    assert all("db/index.js:" in text for text in dynalite.DIFFERENCES.values())


def test_dynalite_starts_on_a_free_port_and_stops(dynalite_server: str) -> None:
    started = dynalite.Dynalite()
    try:
        assert started.url.startswith("http://127.0.0.1:") and started.url != dynalite_server
    finally:
        started.stop()
    assert started.process.returncode == 0
