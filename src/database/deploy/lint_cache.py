"""Remembers clean cfn-lint results so a deploy of an unchanged template imports no cfn-lint.

An entry is keyed by everything that decides the result: the template's text, the
installed cfn-lint version (read from its metadata, without importing it), the
``.cfnlintrc`` files cfn-lint would read (home and current directory) and the
options passed to ``lint``. Only lint-clean templates are stored, with their
warnings and the parsed document, so a template never linted or linted with errors
always goes through cfn-lint. Entries live under ``$XDG_CACHE_HOME/vibedigest/lint``
(default ``~/.cache``), one JSON file per key, written atomically (temporary file +
``os.replace``) so concurrent deploys never read half an entry; an unreadable,
corrupt or mismatched entry is ignored (and rewritten after the next lint); a cache
directory that cannot be written just means no caching (DEBUG log).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT = 1
_CONFIG_NAMES = (".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml")


@dataclass(frozen=True)
class LintResult:
    """A clean lint: the parsed document and cfn-lint's warnings (non-error matches)."""

    document: dict[str, Any]
    warnings: tuple[str, ...]


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vibedigest/lint`` (a relative XDG_CACHE_HOME is ignored, as the spec says)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "vibedigest" / "lint"


def cache_key(body: str, options: dict[str, Any] | None = None) -> str | None:
    """The hex key of ``body`` linted with ``options``; None when cfn-lint is not installed."""
    try:
        version = metadata.version("cfn-lint")
    except metadata.PackageNotFoundError:
        return None
    digest = hashlib.sha256()
    header = {"format": FORMAT, "cfn-lint": version, "options": options or {}}
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(config_digest().encode())
    digest.update(b"\0body\0" + body.encode("utf-8"))
    return digest.hexdigest()


def config_digest() -> str:
    """A digest of the ``.cfnlintrc`` files cfn-lint reads (home, then current directory): paths and contents."""
    digest = hashlib.sha256()
    for folder in (Path.home(), Path.cwd()):
        for name in _CONFIG_NAMES:
            config = folder / name
            try:
                content = config.read_bytes()
            except OSError:
                continue
            digest.update(b"\0config\0" + str(config).encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def lookup(key: str) -> LintResult | None:
    """The stored clean result for ``key``, or None (missing, unreadable, corrupt or not for this key)."""
    path = cache_dir() / f"{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.debug("Ignoring lint cache entry %s: %s", path, type(error).__name__)
        return None
    if not _valid(entry, key):
        logger.debug("Ignoring lint cache entry %s: not a clean result for this key", path)
        return None
    return LintResult(document=entry["document"], warnings=tuple(entry["warnings"]))


def _valid(entry: Any, key: str) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("format") == FORMAT
        and entry.get("key") == key
        and isinstance(entry.get("document"), dict)
        and isinstance(entry.get("warnings"), list)
        and all(isinstance(w, str) for w in entry["warnings"])
    )


def store(key: str, result: LintResult) -> None:
    """Remember a clean result; a document JSON cannot hold exactly, or an unwritable dir, stores nothing."""
    entry = {"format": FORMAT, "key": key, "warnings": list(result.warnings), "document": result.document}
    try:
        text = json.dumps(entry)
        exact = json.loads(text)["document"] == result.document
    except (TypeError, ValueError):
        exact = False
    if not exact:
        logger.debug("Not caching the lint result: the document does not round-trip through JSON")
        return
    folder = cache_dir()
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, folder / f"{key}.json")
    except OSError as error:
        logger.debug("Lint cache not written in %s: %s", folder, type(error).__name__)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
