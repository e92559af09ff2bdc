"""The reliability report: written under the ignored ``reports/`` folder, with the data layer's figures."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.figures import REPORT_PATH, render, write_report

ROOT = Path(__file__).resolve().parents[1]

ENTRIES = [
    {"category": "numbers", "backend": "dynalite", "returned": "1" + "0" * 38, "numbers": 11, "read": 11, "day": True},
    {"category": "put_many_faults", "backend": "moto", "items": 2000, "requests": 117, "injected": 37,
     "resent": 3, "written": 2000, "stored": 2000, "unwritten": 0, "unconfirmed": 0, "seconds": 4.5},
    {"category": "put_many_unconfirmed", "backend": "moto", "fault": "DROP_AFTER_FORWARD", "items": 500,
     "unwritten": 350, "unconfirmed": 50, "stored_unconfirmed": 50, "stored_unwritten": 0},
    {"category": "large_day", "where": "serve", "items": 10000, "read": 10000, "seconds": 1.2},
]


def test_the_report_shows_numbers_read_back_faults_ridden_out_and_unwritten_vs_unconfirmed() -> None:
    text = render(ENTRIES, outcome="4 passed", invocation="pytest")
    assert "## Numbers read back" in text and "| dynalite | `100000000000...` (39 chars) | 11 | 11 | yes |" in text
    assert "## Transient faults ridden out by put_many" in text and "| moto | 2000 | 117 | 37 | 3 | 2000 | 2000 | 0 / 0 |" in text
    assert "## Unwritten vs unconfirmed" in text and "| moto | DROP_AFTER_FORWARD | 500 | 350 | 50 | 50 | 0 |" in text
    assert "## Large days read back" in text and "| serve | 10000 | 10000 | 1.20 s |" in text
    empty = render([], outcome="", invocation="pytest")
    assert "No number round trips were recorded" in empty and "No large days were recorded" in empty


def test_the_report_is_written_under_the_ignored_reports_folder(tmp_path: Path) -> None:
    path = write_report(tmp_path, ENTRIES, outcome="4 passed", invocation="pytest")
    assert path == tmp_path / "reports" / "reliability.md" and path.read_text(encoding="utf-8").startswith("# Reliability")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(REPORT_PATH)], cwd=ROOT, timeout=10, check=False)
    assert ignored.returncode == 0, "reports/ must be ignored by git, so the test command leaves the tree clean"
