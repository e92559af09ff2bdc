"""behave hooks: make the repository importable and give every scenario a clean AWS world."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.features.steps.hooks import after_all, after_scenario, before_all, before_scenario  # noqa: E402,F401
