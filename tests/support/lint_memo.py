"""Each distinct template is linted by cfn-lint once per test process, whatever the test.

cfn-lint's answer for a template is decided by its text, cfn-lint's version and the
``.cfnlintrc`` files it reads (home and current directory). The deploy's own lint cache
(``src.database.lint_cache``) remembers clean results only, by design: a broken template
is linted again at every deploy. The tests deploy the same broken templates many times
(about 0.8 s of CPU each, 42 lints of 15 distinct templates per run), so the test session
remembers cfn-lint's answers underneath ``cfnlint.api.lint``: the code under test still
calls ``lint`` every time (tests counting those calls still count them) and gets the same
matches cfn-lint gave for that text. Calls with options, or with a ``.cfnlintrc`` in reach,
always run cfn-lint.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import cfnlint.api

from src.database.lint_cache import _CONFIG_NAMES


def _configured() -> bool:
    """Whether cfn-lint would read a configuration file (its answer may then differ)."""
    return any((folder / name).exists() for folder in (Path.home(), Path.cwd()) for name in _CONFIG_NAMES)


def install() -> None:
    """Put the memo under ``cfnlint.api.lint`` (once per process)."""
    real = cfnlint.api.lint
    if getattr(real, "memo", None) is not None:
        return
    memo: dict[str, list[Any]] = {}

    @functools.wraps(real)
    def lint(s: str, *args: Any, **kwargs: Any) -> list[Any]:
        if args or kwargs or _configured():
            return real(s, *args, **kwargs)
        if s not in memo:
            memo[s] = real(s)
        return list(memo[s])

    lint.memo = memo  # type: ignore[attr-defined]
    cfnlint.api.lint = lint
