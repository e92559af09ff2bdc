"""VibeDigest persistence foundation on Amazon DynamoDB.

``DynamoDBClient`` (in ``client``) connects to the ``VibeDigest-{env}`` table; the
``errors`` module holds the exception hierarchy; ``python -m src.database`` is the
deploy tool (see ``cli``).
"""

import logging

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
    ItemValidationError,
    ServiceError,
    StackNeedsRecoveryError,
    TableNotFoundError,
    TemplateError,
    ThrottledError,
)
from .item import DigestItem
from .settings import ClientSettings
from .store import DigestStore

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
