"""A declared gap must still be one: its scenarios, run without skipping, fail on that emulator.

The gate skips the scenarios ``tests.support.backends.GAPS`` names for an emulator. Were
the emulator (or this project) to close a gap, that skip would hide a passing scenario;
so after the gate, ``unmet_gaps`` runs exactly those scenarios again with nothing skipped
(a behave child, its JUnit XML under ``directory``) and names each one that did not fail.
A gap declared ``racy`` (it fails some runs only) is not run again: it would pass at times.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from tests.support.backends import EMULATORS, GAPS
from tests.support.endpoints import ROOT

TIMEOUT = 300.0  # a bound on a hanging run, not a performance assertion


def declared_scenarios(emulator: str) -> list[str]:
    """The names of the scenarios the emulator's declared gaps make fail in every run (racy gaps aside)."""
    racy = {scenario for gap in GAPS[emulator] if gap.racy for scenario in gap.scenarios}
    return sorted({scenario for gap in GAPS[emulator] for scenario in gap.scenarios} - racy)


def statuses(junit: Path) -> dict[str, str]:
    """Test case name -> status, from behave's JUnit XML files in ``junit``."""
    return {case.get("name", ""): case.get("status", "")
            for path in sorted(junit.glob("TESTS-*.xml")) for case in ElementTree.parse(path).getroot().iter("testcase")}


def unmet_gaps(emulator: str, where: list[str], directory: Path) -> list[str]:
    """Run the declared scenarios on the emulator ``where`` names (behave ``-D`` options); name those that did not fail."""
    names = declared_scenarios(emulator)
    junit = directory / "junit"
    selected = "|".join(f"^{re.escape(name)}$" for name in names)
    subprocess.run(
        [sys.executable, "-m", "behave", *where, "-D", "emulator=", "--name", selected, "--no-skipped",
         "--junit", "--junit-directory", str(junit), "--format", "null"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT, check=False,
    )
    found = statuses(junit)
    return [f"{name}: {found.get(name, 'not run')} on {EMULATORS[emulator]}, yet declared as a gap"
            for name in names if found.get(name) not in ("failed", "error")]
