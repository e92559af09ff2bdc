"""behave loads steps from here; the digest steps live in tests/features/steps/digest_steps.py."""

from tests.features.steps.digest_steps import *  # noqa: F401,F403
