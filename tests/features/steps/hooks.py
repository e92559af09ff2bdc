"""behave hooks shared by every feature: one embedded endpoint, a clean account per scenario.

``context.endpoint`` is the embedded moto endpoint (real HTTP on 127.0.0.1) for the
whole run; before each scenario its state is reset and ``context.target`` is a
``Target`` pointing at it, so scenarios are independent of each other and of order.
"""

from __future__ import annotations

import os
from typing import Any

from src.database.target import Target
from src.database.local_endpoint import EmbeddedEndpoint
from tests.conftest import reset_moto

_PLACEHOLDER_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def before_all(context: Any) -> None:
    """Start the embedded endpoint once and keep real AWS out of reach."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    os.environ.update(_PLACEHOLDER_ENVIRONMENT)
    context.endpoint = EmbeddedEndpoint().start()


def before_scenario(context: Any, scenario: Any) -> None:
    """Give the scenario an empty emulated account and a target pointing at it."""
    reset_moto(context.endpoint)
    context.target = Target.local(context.endpoint.url)


def after_scenario(context: Any, scenario: Any) -> None:
    """Nothing to undo: the next scenario resets the endpoint."""


def after_all(context: Any) -> None:
    """Stop the embedded endpoint."""
    context.endpoint.stop()
