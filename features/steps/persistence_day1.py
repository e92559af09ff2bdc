"""Registers the day 1 persistence steps with behave; they live in tests/features/steps/."""

from tests.features.steps.persistence_day1_steps import *  # noqa: F401,F403
