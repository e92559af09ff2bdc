"""behave hooks: make the repository importable; the hooks live in tests/features/steps/hooks.py."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.features.steps.hooks import after_all, before_all, before_scenario  # noqa: E402,F401
