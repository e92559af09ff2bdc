"""What the deploy tool prints: progress lines, a table description, the status report, a digest, the error line.

The data comes from the library (``workflow``, ``status``); the layout is here, so
``cli`` only parses arguments and runs commands. Every line is flushed at once so
progress shows while a command waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..deploy.stack_reading import event_line

if TYPE_CHECKING:
    from ..data.item import DigestItem
    from ..deploy.status import EnvironmentStatus
    from ..deploy.template import Template

DESCRIPTION_KEYS = ("table_name", "table_arn", "status", "partition_key", "sort_key", "billing_mode",
                    "item_count", "size_bytes", "deletion_protection", "created", "region", "endpoint")


KEY_WIDTH = len("point_in_time_recovery")


def out(line: str = "") -> None:
    """Print one line of progress to stdout, flushed so it shows while waiting."""
    print(line, flush=True)


def report_lint_warnings(template: Template) -> None:
    """Print cfn-lint's warnings (errors never get this far: they stop the command)."""
    for warning in template.warnings:
        out(f"cfn-lint warning: {warning}")


MAX_LINE = 1000


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one printable line of at most ``limit`` characters.

    Newlines/tabs become spaces, other control characters escapes; a longer line keeps
    its start and its end (where the hint is) and elides the middle.
    """
    line = "".join(
        char if char.isprintable() else " " if char in "\n\r\t" else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
    if len(line) <= limit:
        return line
    keep = (limit - 40) // 2  # 40: room for the marker
    return f"{line[:keep]} ...[{len(line) - 2 * keep:,} characters elided]... {line[len(line) - keep:]}"


def print_description(description: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    """Print a table description (and ``extra`` rows) as aligned ``key: value`` lines."""
    out("Connection OK. Table description:")
    rows = {**{key: description.get(key) for key in DESCRIPTION_KEYS}, **(extra or {})}
    for key, value in rows.items():
        _row(key, value)


def _row(key: str, value: Any) -> None:
    """One aligned ``key value`` row."""
    out(f"  {key:<{KEY_WIDTH}} {value}")


def _pairs(mapping: dict[str, str]) -> str:
    """``k=v, k=v`` on one line, or ``(none)``."""
    return ", ".join(f"{key}={value}" for key, value in mapping.items()) or "(none)"


def print_status(status: EnvironmentStatus) -> None:
    """The operator's view of one environment: the stack (status, outputs, exports, events), then the table."""
    stack = status.stack
    if stack is None:
        retained = " (the table below was kept by DeletionPolicy: Retain; a deploy adopts it)" if status.table else ""
        out(f"Stack {status.stack_name}: does not exist{retained}")
    else:
        out(f"Stack {stack.stack_name}: {stack.status}")
        if stack.status_reason:
            _row("reason", stack.status_reason)
        _row("outputs", _pairs(stack.outputs))
        _row("exports", _pairs(stack.exports))
        if status.drift is not None:
            _row("drift", status.drift)
        if stack.events:
            out(f"  last {len(stack.events)} events, newest first:")
        for event in stack.events:
            out(f"  {event_line(event)}")
    table = status.table
    if table is None:
        out(f"Table {status.table_name}: does not exist")
        return
    live = table.live
    print_description(table.summary, {
        "tags": _pairs(live.tags),
        "point_in_time_recovery": live.point_in_time_recovery,
        "encryption": live.encryption,
    })


def format_digest(items: Sequence[DigestItem], *, title_width: int = 60) -> str:
    """Render items as a text table (item_id, score, source, title truncated to ``title_width``)."""
    if not items:
        return "(no items)"
    rows = [
        (
            item.item_id,
            "-" if item.score is None else f"{item.score:.2f}",
            item.source or "-",
            item.title if len(item.title) <= title_width else item.title[: title_width - 3] + "...",
        )
        for item in items
    ]
    header = ("item_id", "score", "source", "title")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3]]
        return "  ".join(cells).rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), separator, *(line(row) for row in rows)])
