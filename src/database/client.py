"""``DynamoDBClient``: a lazy, validated, logged connection to one VibeDigest table.

Roles:
- the lazy ``client`` property builds the boto3 client on first use (never in
  ``__init__``) and reuses it; a session or client can be injected for tests;
- ``call`` is the one dispatch point for every DynamoDB operation: it checks the
  table once, then calls ``call_aws`` (logs, and the package's own errors, chained);
  ``send`` is the same for requests the package built itself (``DigestStore``);
- parameter validation: a client built here skips botocore's (as PynamoDB's does):
  the store's requests are made of items it has validated already, so botocore's walk
  over every attribute of every request would repeat those checks. ``call`` still
  validates a caller's parameters with botocore's validator; an injected client
  validates as its own configuration says, so ``call`` leaves them to it;
- the constructor refuses arguments it would ignore (a ready client or session
  plus a region, endpoint, profile or settings it cannot apply);
- ``test_connection`` is one ``DescribeTable`` call that returns the table's
  description and logs the attempt and its outcome.

Retries and timeouts are botocore's (see ``settings.ClientSettings``); AWS is called
through ``aws_call.call_aws``, which logs retries at INFO and failures at DEBUG: the
errors it raises are the caller's to report, so the library logs none at ERROR.

Secrets: constructing a client installs the redacting log-record factory
(``redaction.install``), so an application that injects its own session or client
and turns DEBUG on gets botocore's wire log redacted too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient

from . import redaction
from .aws.aws_call import call_aws, check_parameters, location, prepare
from .aws.target import Target
from .errors import ConfigurationError, DatabaseError, ServiceError
from .settings import ClientSettings, key_schema, table_name_for, validate_table_name

if TYPE_CHECKING:
    import boto3

logger = logging.getLogger(__name__)

TableDescription = dict[str, Any]


def _check_session(session: object) -> None:
    """Refuse a ``session`` that is not a boto3 (or botocore) session, before its first use."""
    import boto3.session  # a session was given: boto3 is loaded already
    import botocore.session

    if not isinstance(session, (boto3.session.Session, botocore.session.Session)):
        raise ConfigurationError(f"session must be a boto3.Session, got {type(session).__name__}.")


def _check_client(client: object) -> None:
    """Refuse a ``client`` that cannot be a boto3 DynamoDB client (or a double of one, with its ``meta``)."""
    meta = getattr(client, "meta", None)
    if not isinstance(client, BaseClient) and not (hasattr(meta, "region_name") and hasattr(meta, "endpoint_url")):
        raise ConfigurationError(
            f"client must be a boto3 DynamoDB client (boto3.client('dynamodb')), got {type(client).__name__}."
        )
    service = getattr(getattr(meta, "service_model", None), "service_name", "dynamodb")
    if isinstance(service, str) and service != "dynamodb":
        raise ConfigurationError(f"client must be a DynamoDB client, got a {service} client.")


def _refuse_ignored(given: dict[str, object], by: str) -> None:
    """Raise when an argument is set that an injected ``by`` (client or session) would ignore."""
    ignored = [name for name, value in given.items() if value is not None]
    if ignored:
        raise ConfigurationError(
            f"Given a ready {by}, DynamoDBClient cannot apply {', '.join(ignored)}; "
            f"configure the {by} instead, or pass {', '.join(ignored)} without it."
        )


class DynamoDBClient:
    """Connection to the VibeDigest table of one environment (or an explicit table).

    Construction is free: no boto3 client, no network call. Give ``environment``
    (dev/staging/prod -> ``VibeDigest-{env}``) or ``table_name``; optionally a
    ``region``, ``endpoint_url``, ``profile``, retry/timeout ``settings``, or an
    injected boto3 ``session`` or low-level ``client``. A ``client`` is used as it
    is (nothing else may be given with it); a ``session`` supplies the region and
    credentials (no ``region`` or ``profile`` with it), ``endpoint_url`` and
    ``settings`` still apply to the client built from it.
    """

    def __init__(
        self,
        environment: str | None = None,
        *,
        table_name: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        settings: ClientSettings | None = None,
        session: boto3.Session | None = None,
        client: BaseClient | None = None,
    ) -> None:
        if (environment is None) == (table_name is None):
            raise ConfigurationError("Give exactly one of environment (dev/staging/prod) or table_name.")
        self.table_name = validate_table_name(table_name) if table_name is not None else table_name_for(
            environment  # type: ignore[arg-type]  # not None: exactly one of the two is given
        )
        self.environment = environment
        if settings is not None and not isinstance(settings, ClientSettings):
            raise ConfigurationError(
                f"settings must be a ClientSettings (e.g. ClientSettings(read_timeout=5)), "
                f"got {type(settings).__name__}."
            )
        if session is not None:
            _check_session(session)
        if client is not None:
            _check_client(client)
            _refuse_ignored(
                {"session": session, "region": region, "endpoint_url": endpoint_url, "profile": profile,
                 "settings": settings},
                "client",
            )
        elif session is not None:
            _refuse_ignored({"region": region, "profile": profile}, "session")
        self._target = Target(
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
            settings=settings or ClientSettings.from_env(),
        )
        self._session = session
        self._client = prepare(client) if client is not None else None
        redaction.install()  # also covers an injected session or client, which skip Target.session()
        self._lock = threading.Lock()
        self._table_checked = False
        self._built_here = False

    @classmethod
    def for_target(
        cls,
        target: Target,
        environment: str | None = None,
        *,
        table_name: str | None = None,
        client: BaseClient | None = None,
    ) -> DynamoDBClient:
        """Build a client for an existing ``Target`` (used by the CLI).

        ``client``, if given, is a boto3 DynamoDB client already built for that target, reused instead of a new one.
        """
        instance = cls(environment, table_name=table_name, client=client)
        instance._target = target
        return instance

    def __repr__(self) -> str:
        if self._client is not None:  # what the calls really use
            region, endpoint, state = self._client.meta.region_name, self._client.meta.endpoint_url, "connected"
        else:  # unset values are resolved by boto3's chain when the client is built
            region = self._session.region_name if self._session is not None else self._target.region
            endpoint, state = self._target.endpoint_url, "not connected"
        return f"DynamoDBClient(table={self.table_name!r}, region={region!r}, endpoint={endpoint!r}, {state})"

    @property
    def client(self) -> BaseClient:
        """The boto3 DynamoDB client, built on first access and reused (thread-safe).

        Built here, it skips botocore's parameter validation (see the module docstring).
        """
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._target.client("dynamodb", self._session, validate_parameters=False)
                    self._built_here = True
        return self._client

    @property
    def location(self) -> str:
        """Region and endpoint of the client, for messages."""
        return location(self.client)

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Run one DynamoDB operation (e.g. ``"PutItem"``) after checking the table exists.

        The parameters are validated as botocore validates them (an unknown, missing
        or mistyped one is refused before any request). Raises a ``DatabaseError``
        subclass, with the boto exception as its cause.
        """
        if operation not in self.client.meta.service_model.operation_names:
            raise ConfigurationError(f"Unknown DynamoDB operation {operation!r}.")
        if self._built_here:  # an injected client validates them itself, if so configured
            check_parameters(self.client, operation, kwargs, table=self.table_name)
        return self.send(operation, kwargs)

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run an operation whose parameters the package built from checked values (``DigestStore``).

        As ``call``, without validating ``params`` again.
        """
        if not self._table_checked and operation != "DescribeTable":
            self.validate_table()
        return call_aws(self.client, operation, table=self.table_name, **params)

    def validate_table(self) -> TableDescription:
        """Check the table exists (once per client) and return its description."""
        description = self.send("DescribeTable", {"TableName": self.table_name}).get("Table")
        if not isinstance(description, dict) or "TableName" not in description:
            # e.g. an endpoint URL that points at some other web server answering 200
            raise ServiceError(
                f"DescribeTable in {self.location} answered without a table description. "
                "Check that the endpoint URL points at DynamoDB."
            )
        self._table_checked = True
        return description

    def test_connection(self) -> TableDescription:
        """Describe the table with one ``DescribeTable`` call, logging the attempt and outcome.

        Returns a summary: name, ARN, status, key schema, billing mode, item count,
        size, creation time, region and endpoint.
        """
        logger.info("Testing connection to table %s", self.table_name)
        started = time.perf_counter()
        try:
            table = self.validate_table()
        except DatabaseError as error:
            logger.warning("Connection test for %s failed (%s)", self.table_name, type(error).__name__)
            raise
        summary = summarize(table, region=self.client.meta.region_name, endpoint=self.client.meta.endpoint_url)
        logger.info(
            "Connection OK: %s is %s in %s (%.0f ms)",
            self.table_name,
            summary["status"],
            self.location,
            (time.perf_counter() - started) * 1000,
        )
        return summary


def summarize(table: TableDescription, *, region: str, endpoint: str) -> TableDescription:
    """Reduce a ``DescribeTable`` result to the fields a person checks."""
    keys = key_schema(table)
    return {
        "table_name": table["TableName"],
        "table_arn": table.get("TableArn"),
        "status": table.get("TableStatus"),
        "partition_key": keys.get("HASH"),
        "sort_key": keys.get("RANGE"),
        "key_schema": table.get("KeySchema", []),
        "attribute_definitions": table.get("AttributeDefinitions", []),
        "billing_mode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "item_count": table.get("ItemCount", 0),
        "size_bytes": table.get("TableSizeBytes", 0),
        "created": str(table.get("CreationDateTime", "")),
        "deletion_protection": table.get("DeletionProtectionEnabled", False),
        "region": region,
        "endpoint": endpoint,
    }
