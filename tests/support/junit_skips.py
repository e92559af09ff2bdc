"""Skip reasons in behave's JUnit XML, which writes every skipped scenario as a bare ``<skipped />``.

CI systems show a ``<skipped message="...">`` next to the test; without it a reader of
the XML sees that a scenario did not run, not why. behave writes the XML after each
feature, so the ``after_all`` hook can add the reasons to the files already written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree


def annotate_skips(directory: Path, reasons: Mapping[str, str]) -> int:
    """Set ``message`` on the ``<skipped>`` of each test case named in ``reasons``; return how many."""
    annotated = 0
    for path in sorted(directory.glob("TESTS-*.xml")):
        tree = ElementTree.parse(path)
        changed = False
        for case in tree.getroot().iter("testcase"):
            skipped = case.find("skipped")
            reason = reasons.get(case.get("name", ""))
            if skipped is not None and reason is not None:
                skipped.set("message", reason)
                changed = True
                annotated += 1
        if changed:
            tree.write(path, encoding="utf-8", xml_declaration=True)
    return annotated
