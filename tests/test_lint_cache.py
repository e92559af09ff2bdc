"""The lint cache (``src.database.deploy.lint_cache``) behind ``load_template``: lint once, never trust a wrong entry.

The guarantee under test: a template that was never linted, or linted with errors, is
never accepted, whatever the cache holds; a clean, unchanged template is accepted
from the cache without running cfn-lint. Every test points ``XDG_CACHE_HOME`` at its
own directory. (That a deploy with a warm cache imports no cfn-lint at all is checked
in a fresh interpreter by tests/test_cli_startup.py.)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from src.database.deploy import lint_cache, template
from src.database.deploy.template import DEFAULT_TEMPLATE, load_template
from src.database.errors import TemplateError

SHIPPED = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
BROKEN = SHIPPED.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FOO")
WARNED = SHIPPED.replace("Parameters:\n", "Parameters:\n  Unused:\n    Type: String\n", 1)  # W2001


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory of this test's own; the current directory holds no .cfnlintrc."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "xdg" / "vibedigest" / "lint"


@pytest.fixture
def lints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies cfn-lint is asked to lint during the test (the real linter still runs)."""
    seen: list[str] = []
    real = template.cfn_lint

    def counting(body: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(body)
        return real(body, *args, **kwargs)

    monkeypatch.setattr(template, "cfn_lint", counting)
    return seen


@pytest.fixture
def stub_lints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """For tests about the cache itself: cfn-lint's ``lint`` replaced by a clean answer (bodies recorded)."""
    seen: list[str] = []
    monkeypatch.setattr(template, "cfn_lint", lambda body, *args, **kwargs: seen.append(body) or [])
    return seen


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "template.yml"
    path.write_text(body, encoding="utf-8")
    return path


def forge_clean(body: str, *, key_inside: str | None = None) -> Path:
    """Write an entry claiming ``body`` is clean, stored under ``body``'s key (``key_inside`` in the file)."""
    key = lint_cache.cache_key(body)
    assert key is not None
    entry = {"format": lint_cache.FORMAT, "key": key_inside or key, "warnings": [], "document": {"Resources": {}}}
    path = lint_cache.cache_dir() / f"{key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry), encoding="utf-8")
    return path


def test_an_unchanged_clean_template_is_linted_once(cache: Path, tmp_path: Path, lints: list[str]) -> None:
    """The second load comes from the cache: same document and warnings, no cfn-lint run."""
    path = write(tmp_path, WARNED)
    first = load_template(path)
    second = load_template(path)
    assert len(lints) == 1
    assert first.warnings and second.warnings == first.warnings
    assert second.document == first.document and second.body == WARNED
    assert len(list(cache.glob("*.json"))) == 1


def test_an_erroneous_template_is_refused_every_time_and_never_cached(cache: Path, tmp_path: Path, lints: list[str]) -> None:
    path = write(tmp_path, BROKEN)
    for _ in range(2):
        with pytest.raises(TemplateError, match="E3030"):
            load_template(path)
    assert len(lints) == 2
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_an_edited_template_is_linted_again(cache: Path, tmp_path: Path) -> None:
    """Clean, cached, then edited into an error: the edit is linted and refused."""
    path = write(tmp_path, SHIPPED)
    load_template(path)
    write(tmp_path, BROKEN)
    with pytest.raises(TemplateError, match="E3030"):
        load_template(path)


def test_an_entry_whose_key_does_not_match_is_not_trusted(cache: Path, tmp_path: Path) -> None:
    """A forged 'clean' entry for the broken template, with another key inside, is ignored."""
    forge_clean(BROKEN, key_inside="0" * 64)
    with pytest.raises(TemplateError, match="E3030"):
        load_template(write(tmp_path, BROKEN))


def test_the_key_covers_the_cfn_lint_version_and_its_configuration(cache: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A result for another cfn-lint version, or before a .cfnlintrc appeared, is not reused."""
    forge_clean(BROKEN)  # an entry under the current key: what a different linter setup might have said
    key = lint_cache.cache_key(BROKEN)
    (tmp_path / ".cfnlintrc").write_text("ignore_checks: [W]\n", encoding="utf-8")
    assert lint_cache.cache_key(BROKEN) != key
    with pytest.raises(TemplateError, match="E3030"):
        load_template(write(tmp_path, BROKEN))
    real_version = lint_cache.metadata.version
    monkeypatch.setattr(lint_cache.metadata, "version", lambda name: "0.0.0" if name == "cfn-lint" else real_version(name))
    assert lint_cache.cache_key(SHIPPED) not in (None, key)
    assert lint_cache.cache_key(SHIPPED, {"regions": ["eu-west-1"]}) != lint_cache.cache_key(SHIPPED)


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": 1}', ""])
def test_a_corrupt_entry_is_ignored_and_rewritten(cache: Path, tmp_path: Path, stub_lints: list[str],
                                                  content: str) -> None:
    path = write(tmp_path, SHIPPED)
    key = lint_cache.cache_key(SHIPPED)
    entry = cache / f"{key}.json"
    entry.parent.mkdir(parents=True)
    entry.write_text(content, encoding="utf-8")
    assert load_template(path).document["Resources"]["DigestTable"]["Type"] == "AWS::DynamoDB::Table"
    assert len(stub_lints) == 1
    assert json.loads(entry.read_text(encoding="utf-8"))["key"] == key


def test_an_unwritable_cache_directory_means_no_caching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        stub_lints: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """XDG_CACHE_HOME is a file, so nothing can be created under it: loads still work, linting each time."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = write(tmp_path, SHIPPED)
    with caplog.at_level("DEBUG", logger="src.database.deploy.lint_cache"):
        load_template(path)
        load_template(path)
    assert len(stub_lints) == 2
    records = [r for r in caplog.records if r.name == "src.database.deploy.lint_cache"]
    assert {r.levelname for r in records} == {"DEBUG"}
    assert any("not written" in r.getMessage() for r in records)


def test_the_cache_lives_under_xdg_cache_home_or_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert lint_cache.cache_dir() == tmp_path / "vibedigest" / "lint"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert lint_cache.cache_dir() == tmp_path / "home" / ".cache" / "vibedigest" / "lint"


def test_concurrent_writers_never_leave_half_an_entry(cache: Path) -> None:
    """Readers racing many writers of one key see either nothing or a whole, valid entry."""
    key = lint_cache.cache_key(SHIPPED)
    assert key is not None
    result = lint_cache.LintResult(document={"Resources": {f"R{i}": {"Type": "x" * 200} for i in range(200)}},
                                   warnings=("W1 line 1: w",))
    seen: list[object] = []

    def write_many() -> None:
        for _ in range(30):
            lint_cache.store(key, result)

    def read_many() -> None:
        for _ in range(60):
            seen.append(lint_cache.lookup(key))

    threads = [threading.Thread(target=write_many) for _ in range(3)] + [threading.Thread(target=read_many)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(found is None or found == result for found in seen)
    assert lint_cache.lookup(key) == result
    assert [p.name for p in cache.iterdir()] == [f"{key}.json"]  # no temporary file left behind
