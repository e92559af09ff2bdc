"""Probes of the package's layout, requirements, README and public API (spec cases ds6-dc9).

Used by ``features/package_structure.feature``'s steps and by
``tests/test_package_structure.py``, so both suites check the same facts.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.endpoints import unmeasured
from tests.support.offline import offline_environment

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "src" / "database"

# The package's folders by wing (the README's layout table has one row for each)
WINGS = ("aws", "data", "deploy", "cli", "emulator")
REQUIRED_PATHS = (
    "features/",
    "src/",
    "infrastructure/",
    "tests/",
    "requirements.txt",
    "behave.ini",
    "tox.ini",
    "README.md",
    "src/__init__.py",
    "src/database/",
    "src/database/__init__.py",
    "src/database/client.py",
    *(f"src/database/{wing}/__init__.py" for wing in WINGS),
    "infrastructure/dynamodb.yml",
    "tests/features/steps/persistence_day1_steps.py",
)
RUNTIME_REQUIREMENTS = ("boto3", "moto", "cfn-lint", "localstack-client", "PyYAML")
TEST_REQUIREMENTS = ("behave", "coverage", "pytest", "pytest-xdist")
README_SECTIONS = (
    "Quick start",
    "Deploying to AWS",
    "Deploying to LocalStack",
    "Verifying in the AWS console",
    "Rollback and recovery",
    "Configuration",
    "Testing",
    "Known emulator differences",
)
README_COMMANDS = ("python -m src.database", "tox")


def missing_paths(root: Path = ROOT, paths: Sequence[str] = REQUIRED_PATHS) -> list[str]:
    """The required paths that are absent (a trailing '/' means a directory)."""
    return [p for p in paths if not ((root / p).is_dir() if p.endswith("/") else (root / p).is_file())]


_IMPORT_PROBE = r"""
import json, socket

def _no_network(*args, **kwargs):
    raise AssertionError("network access while importing or constructing")

socket.socket.connect = _no_network
socket.create_connection = _no_network

import botocore.session
created = []
_create_client = botocore.session.Session.create_client

def _counting(self, service_name, *args, **kwargs):
    created.append(service_name)
    return _create_client(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = _counting

from src.database.client import DynamoDBClient
import src.database

client = DynamoDBClient("dev", region="us-east-1", endpoint_url="http://bogus.invalid:1")
report = {
    "package_exports": src.database.DynamoDBClient is DynamoDBClient,
    "table": client.table_name,
    "repr": repr(client),
    "clients_after_construction": list(created),
    "client_is_none": client._client is None,
}
boto_client = client.client
report["clients_after_access"] = list(created)
report["endpoint"] = boto_client.meta.endpoint_url
print(json.dumps(report))
"""


def import_probe(root: Path = ROOT) -> dict[str, Any]:
    """Import ``DynamoDBClient`` in a fresh interpreter from the repo root and report what happened.

    Sockets are disabled in the child, so any network use during import or
    construction fails the probe; boto3 client creation is counted.
    """
    env = unmeasured(offline_environment({k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}))
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["exit %d" % done.returncode]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (no comments, blanks or ``-r`` includes)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-r", "--requirement")):
            lines.append(line)
    return lines


def unpinned(path: Path) -> list[str]:
    """The requirement lines of ``path`` not pinned to one exact version with ``==``."""
    bad = []
    for line in requirement_lines(path):
        specifiers = list(Requirement(line).specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            bad.append(line)
    return bad


def declared(path: Path) -> dict[str, Requirement]:
    """The requirements of ``path`` by canonical name."""
    return {canonicalize_name(r.name): r for r in map(Requirement, requirement_lines(path))}


def missing_requirements(path: Path, names: Sequence[str]) -> list[str]:
    """The ``names`` not declared in ``path``."""
    present = declared(path)
    return [name for name in names if canonicalize_name(name) not in present]


def included_files(path: Path) -> list[Path]:
    """The files a requirements file includes with ``-r``."""
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.split()
        if parts and parts[0] in ("-r", "--requirement") and len(parts) > 1:
            found.append((path.parent / parts[1]).resolve())
    return found


def readme_text(root: Path = ROOT) -> str:
    """README.md's text ('' when it does not exist)."""
    path = root / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def missing_sections(text: str, sections: Sequence[str] = README_SECTIONS) -> list[str]:
    """The ``sections`` that no Markdown heading of ``text`` names."""
    headings = [m.group(1).strip().casefold() for m in re.finditer(r"(?m)^#{1,6}\s+(.+?)\s*#*\s*$", text)]
    return [s for s in sections if not any(s.casefold() in heading for heading in headings)]


def fenced_blocks(text: str) -> list[str]:
    """The contents of the fenced code blocks of a Markdown text."""
    return [m.group(2) for m in re.finditer(r"(?ms)^\s*(```|~~~)[^\n]*\n(.*?)^\s*\1", text)]


def missing_commands(text: str, commands: Sequence[str] = README_COMMANDS) -> list[str]:
    """The ``commands`` that appear in none of the README's fenced code blocks."""
    blocks = fenced_blocks(text)
    return [c for c in commands if not any(re.search(rf"(?m)(^|\s|\$ ){re.escape(c)}\b", b) for b in blocks)]


def _public_api(package_dir: Path) -> Iterator[tuple[str, ast.AST, bool]]:
    """(qualified name, node, public) for every module, class, function and method."""
    for path in sorted(package_dir.rglob("*.py")):
        module = ".".join((package_dir.name, *path.relative_to(package_dir).with_suffix("").parts))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        yield module, tree, True
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{module}.{node.name}", node, not node.name.startswith("_")
            elif isinstance(node, ast.ClassDef):
                public_class = not node.name.startswith("_")
                yield f"{module}.{node.name}", node, public_class
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and public_class:
                        dunder = item.name.startswith("__") and item.name.endswith("__")
                        yield f"{module}.{node.name}.{item.name}", item, not item.name.startswith("_") or dunder


def undocumented(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Public modules, classes, functions and methods without a docstring (dunders exempt)."""
    missing = []
    for name, node, public in _public_api(package_dir):
        dunder = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("__")
        if public and not dunder and not ast.get_docstring(node):  # type: ignore[arg-type]
            missing.append(name)
    return missing


def untyped(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Public functions and methods (and dunders of public classes) lacking a type hint."""
    missing = []
    for name, node, public in _public_api(package_dir):
        if not public or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        unannotated = [
            p.arg for i, p in enumerate(params) if p is not None and p.annotation is None and not (i == 0 and p.arg in ("self", "cls"))
        ]
        if unannotated or node.returns is None:
            missing.append(f"{name}({', '.join(unannotated)}){'' if node.returns else ' -> ?'}")
    return missing


