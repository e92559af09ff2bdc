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
from .settings import ClientSettings

__all__ = [
    "AccessDeniedError",
    "BatchWriteError",
    "ClientSettings",
    "ConfigurationError",
    "CredentialsError",
    "DatabaseError",
    "DeploymentError",
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
