"""VibeDigest persistence foundation on Amazon DynamoDB.

``DynamoDBClient`` (in ``client``) connects to the ``VibeDigest-{env}`` table; the
``errors`` module holds the exception hierarchy; ``python -m src.database`` is the
deploy tool (see ``cli``).
"""

from .client import DynamoDBClient
from .errors import (
    AccessDeniedError,
    BatchWriteError,
    ConfigurationError,
    CredentialsError,
    DatabaseError,
    DeploymentError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    ItemExistsError,
    ItemValidationError,
    ServiceError,
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
    "ConfigurationError",
    "CredentialsError",
    "DatabaseError",
    "DeploymentError",
    "DigestItem",
    "DigestStore",
    "DynamoDBClient",
    "EndpointUnreachableError",
    "InvalidCredentialsError",
    "ItemExistsError",
    "ItemValidationError",
    "ServiceError",
    "TableNotFoundError",
    "TemplateError",
    "ThrottledError",
]
