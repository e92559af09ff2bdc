"""Registers the lifecycle steps with behave; they live in tests/features/steps/lifecycle_steps.py."""

from tests.features.steps.lifecycle_steps import *  # noqa: F401,F403
