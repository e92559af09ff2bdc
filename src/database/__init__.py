"""VibeDigest persistence foundation on Amazon DynamoDB.

``DynamoDBClient`` (in ``client``) connects to the ``VibeDigest-{env}`` table; the
``errors`` module holds the exception hierarchy; ``python -m src.database`` is the
deploy tool (see ``cli``).
"""

import logging
from typing import TYPE_CHECKING, Any

from .client import DynamoDBClient
from .errors import (
    AccessDeniedError,
    BatchWriteError,
    ConditionalCheckFailedError,
    ConfigurationError,
    CredentialsError,
    DatabaseError,
    DeadlineExceededError,
    DeploymentError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    ItemExistsError,
    ItemFormatError,
    ItemValidationError,
    ServiceError,
    StackNeedsRecoveryError,
    TableNotFoundError,
    TemplateError,
    ThrottledError,
)
from .settings import ClientSettings

if TYPE_CHECKING:
    from .data.item import DigestItem
    from .data.store import DigestStore

# The data layer is imported on first use (PEP 562), so an application that only needs
# the client does not pay for it at start-up; ``from src.database import DigestStore`` works.
_LAZY = {"DigestItem": ".data.item", "DigestStore": ".data.store"}


def __getattr__(name: str) -> Any:
    """Import ``DigestItem`` / ``DigestStore`` when first asked for."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AccessDeniedError",
    "BatchWriteError",
    "ClientSettings",
    "ConditionalCheckFailedError",
    "ConfigurationError",
    "CredentialsError",
    "DatabaseError",
    "DeadlineExceededError",
    "DeploymentError",
    "DigestItem",
    "DigestStore",
    "DynamoDBClient",
    "EndpointUnreachableError",
    "InvalidCredentialsError",
    "ItemExistsError",
    "ItemFormatError",
    "ItemValidationError",
    "ServiceError",
    "StackNeedsRecoveryError",
    "TableNotFoundError",
    "TemplateError",
    "ThrottledError",
]

# A library is a guest: its records go where the application sends them, and nowhere
# (not even Python's last-resort stderr handler) when the application configured none.
logging.getLogger(__name__).addHandler(logging.NullHandler())
