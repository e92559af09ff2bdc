"""Package structure tests (spec cases ds6, im7, dp8, dc9).

They use the same probes as the behave scenarios of ``features/package_structure.feature``
(``tests/support/package_checks.py``), so both suites check the same facts.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.support.package_checks import (
    README_COMMANDS,
    README_SECTIONS,
    ROOT,
    RUNTIME_REQUIREMENTS,
    TEST_REQUIREMENTS,
    declared,
    fenced_blocks,
    import_probe,
    included_files,
    missing_commands,
    missing_paths,
    missing_requirements,
    missing_sections,
    readme_text,
    undocumented,
    unpinned,
    untyped,
)

RUNTIME_FILE = ROOT / "requirements.txt"
TEST_FILE = ROOT / "tests" / "requirements.txt"


def test_directory_layout() -> None:
    """ds6: the top-level layout, the package files, the template and the step library exist."""
    assert missing_paths() == []
    assert (ROOT / "src" / "database").is_dir()


def test_directory_layout_probe_detects_missing(tmp_path: Path) -> None:
    """ds6: the layout probe reports what is absent (so the test above can fail)."""
    (tmp_path / "src" / "database").mkdir(parents=True)
    (tmp_path / "src" / "database" / "client.py").write_text("", encoding="utf-8")

    missing = missing_paths(tmp_path)

    assert "src/database/client.py" not in missing and "src/" not in missing
    assert "src/database/deploy/__init__.py" in missing
    assert {"README.md", "src/database/__init__.py", "infrastructure/dynamodb.yml", "features/"} <= set(missing)


def test_imports() -> None:
    """im7: ``from src.database.client import DynamoDBClient`` works in a fresh interpreter
    started in the repo root, and construction is lazy.

    The child process disables sockets and counts botocore client creation: building a
    ``DynamoDBClient`` with a bogus endpoint must create no boto3 client and touch no
    network; the first access to ``.client`` creates exactly one, still offline.
    """
    probe = import_probe()

    assert "error" not in probe, probe
    assert probe["package_exports"] is True  # ``from src.database import DynamoDBClient`` is the same class
    assert probe["table"] == "VibeDigest-dev"
    assert probe["clients_after_construction"] == []
    assert probe["client_is_none"] is True
    assert "not connected" in probe["repr"]
    assert probe["clients_after_access"] == ["dynamodb"]
    assert probe["endpoint"] == "http://bogus.invalid:1"


def test_dependencies() -> None:
    """dp8: every requirement is pinned with ``==``; the direct dependencies are declared.

    The pins of the direct dependencies are also the versions installed in the test
    environment, so the suite runs against exactly what is declared.
    """
    assert unpinned(RUNTIME_FILE) == []
    assert unpinned(TEST_FILE) == []
    assert missing_requirements(RUNTIME_FILE, RUNTIME_REQUIREMENTS) == []
    assert missing_requirements(TEST_FILE, TEST_REQUIREMENTS) == []
    assert RUNTIME_FILE.resolve() in included_files(TEST_FILE)  # the test set extends the runtime set

    pins = {**declared(RUNTIME_FILE), **declared(TEST_FILE)}
    for name in (*RUNTIME_REQUIREMENTS, *TEST_REQUIREMENTS):
        requirement = pins[canonicalize_name(name)]
        installed = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(installed), f"{name}: declared {requirement.specifier}, installed {installed}"


@pytest.mark.parametrize(
    ("line", "pinned"),
    [("boto3==1.44.5", True), ("boto3>=1.44", False), ("boto3", False), ("boto3==1.*", False), ("x==1,<2", False)],
)
def test_dependencies_probe_detects_unpinned(tmp_path: Path, line: str, pinned: bool) -> None:
    """dp8: the pin check rejects ranges, wildcards and bare names (so the test above can fail)."""
    path = tmp_path / "requirements.txt"
    path.write_text(f"# comment\n{line}  # trailing comment\n-r other.txt\n", encoding="utf-8")

    assert (unpinned(path) == []) is pinned


def test_documentation() -> None:
    """dc9: README has the required sections and commands; the package's public API is
    documented (docstrings) and typed (full signatures)."""
    text = readme_text()
    assert text, "README.md is missing or empty"
    assert missing_sections(text) == []
    assert missing_commands(text) == []
    assert undocumented() == []
    assert untyped() == []


def test_documentation_probes_detect_gaps(tmp_path: Path) -> None:
    """dc9: the probes report a missing section, an unfenced command, a missing docstring
    and a missing hint (so the test above can fail)."""
    readme = "# Project\n## Quick start\n```sh\npython -m src.database deploy\n```\nrun tox\n"
    assert missing_sections(readme) == [s for s in README_SECTIONS if s != "Quick start"]
    assert fenced_blocks(readme) == ["python -m src.database deploy\n"]
    assert missing_commands(readme) == ["tox"]
    assert set(README_COMMANDS) == {"python -m src.database", "tox"}

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        '"""Module."""\n'
        "def documented(x: int) -> int:\n    \"\"\"Yes.\"\"\"\n    return x\n"
        "def bare(x):\n    return x\n"
        "class Thing:\n    \"\"\"A thing.\"\"\"\n"
        "    def __init__(self, size):\n        self.size = size\n"
        "    def method(self) -> None:\n        pass\n"
        "def _private(x):\n    return x\n",
        encoding="utf-8",
    )
    assert undocumented(package) == ["pkg.mod.bare", "pkg.mod.Thing.method"]
    assert untyped(package) == ["pkg.mod.bare(x) -> ?", "pkg.mod.Thing.__init__(size) -> ?"]
