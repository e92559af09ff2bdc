"""The digest data layer: one day's digest items in the VibeDigest table.

Roles:
- ``DigestItem``: one item of a day's digest (partition key ``digest_date``, sort key
  ``item_id``), validated on construction and converted to and from DynamoDB's
  attribute-value format with boto3's ``TypeSerializer``/``TypeDeserializer``.
  Anything DynamoDB would reject (bad key, float NaN/infinity, an item over 400 KB)
  raises ``ItemValidationError`` before any request is sent. Items read back are
  deserialized in one pass and, when cheap type checks pass, not validated again.
- ``DigestStore``: put/get/delete one item, read a whole day in sort-key order
  (following ``LastEvaluatedKey``), and write many items with ``BatchWriteItem``
  (chunks of 25, unprocessed items retried with capped exponential backoff and
  full jitter). Every request goes through ``DynamoDBClient.call``.
- ``sample_digest`` and ``format_digest``: deterministic demo items and a text table.

Conversions: floats are stored as ``Decimal(str(x))`` (the shortest repr, so 0.1 stays
0.1); numbers come back as ``int`` when integral, else ``float``; dates and datetimes
are stored as ISO-8601 strings (``created_at`` is parsed back into a datetime; dates
inside ``extra`` come back as strings); tuples come back as lists; binary values as
``bytes``.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import re
import time
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, DecimalException
from typing import Any, Callable, Iterable, Mapping, Sequence

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .client import DynamoDBClient
from .errors import (
    BatchWriteError,
    ConfigurationError,
    DatabaseError,
    ItemExistsError,
    ItemValidationError,
    error_code,
)
from .settings import shown

logger = logging.getLogger(__name__)

AttributeValue = dict[str, Any]
AttributeMap = dict[str, AttributeValue]
Key = tuple[str, str]

PARTITION_KEY = "digest_date"
SORT_KEY = "item_id"
MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit (400 KB), attribute names included."""
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
BATCH_SIZE = 25
"""``BatchWriteItem`` accepts at most 25 put/delete requests per call."""

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_BASE = 0.05
DEFAULT_BACKOFF_CAP = 2.0

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SERIALIZER = TypeSerializer()
_MAX_KEYS_SHOWN = 5


# -- keys ---------------------------------------------------------------------------


def normalize_digest_date(value: str | date) -> str:
    """Return ``value`` as an ISO ``YYYY-MM-DD`` string, or raise ``ItemValidationError``.

    Accepts a ``datetime.date`` or a string in exactly that format naming a real
    calendar day. A ``datetime`` is refused: which day it means depends on a timezone.
    """
    if isinstance(value, datetime):
        raise ItemValidationError(
            f"digest_date must be a date or 'YYYY-MM-DD' string, not a datetime ({value.isoformat()}); "
            "pass value.date() for the day you mean."
        )
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ItemValidationError(f"digest_date must be a 'YYYY-MM-DD' string or a date, got {type(value).__name__}.")
    if not value:
        raise ItemValidationError("digest_date must not be empty; give the day as 'YYYY-MM-DD', e.g. '2026-11-26'.")
    if not _ISO_DATE.fullmatch(value):
        raise ItemValidationError(
            f"digest_date must be an ISO date 'YYYY-MM-DD' (e.g. '2026-11-26'), got {shown(value)}."
        )
    try:
        date.fromisoformat(value)
    except ValueError as error:
        raise ItemValidationError(f"digest_date {shown(value)} is not a real calendar date ({error}).") from None
    return value


def validate_item_id(value: str) -> str:
    """Return ``value`` if DynamoDB accepts it as the sort key (non-empty, at most 1024 bytes)."""
    if not isinstance(value, str):
        raise ItemValidationError(f"item_id must be a string, got {type(value).__name__}.")
    if not value:
        raise ItemValidationError("item_id must not be empty: DynamoDB rejects empty key strings.")
    size = len(value.encode("utf-8"))
    if size > MAX_SORT_KEY_BYTES:
        raise ItemValidationError(
            f"item_id {shown(value)} is {size} bytes; DynamoDB allows at most {MAX_SORT_KEY_BYTES} for a sort key."
        )
    return value


def validate_key(digest_date: str | date, item_id: str) -> Key:
    """Validate and normalize a ``(digest_date, item_id)`` key."""
    return normalize_digest_date(digest_date), validate_item_id(item_id)


def _key_attributes(key: Key) -> AttributeMap:
    return {PARTITION_KEY: {"S": key[0]}, SORT_KEY: {"S": key[1]}}


def _describe_keys(keys: Sequence[Key]) -> str:
    shown_keys = ", ".join(f"({d}, {i})" for d, i in keys[:_MAX_KEYS_SHOWN])
    more = f" and {len(keys) - _MAX_KEYS_SHOWN} more" if len(keys) > _MAX_KEYS_SHOWN else ""
    return shown_keys + more


# -- size -----------------------------------------------------------------------------


def _number_size(text: str) -> int:
    """Approximate size of a DynamoDB number: 1 byte per 2 significant digits, plus 1 (plus 1 if negative)."""
    sign, digits, _ = Decimal(text).as_tuple()
    significant = "".join(map(str, digits)).strip("0")
    return math.ceil(max(len(significant), 1) / 2) + 1 + sign


def attribute_value_size(value: AttributeValue) -> int:
    """Size in bytes DynamoDB counts for one attribute value (without its name)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return _number_size(content)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in content)
    if kind == "NS":
        return sum(_number_size(n) for n in content)
    if kind == "BS":
        return sum(len(b) for b in content)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + attribute_value_size(v) for name, v in content.items())
    raise ItemValidationError(f"Unknown DynamoDB attribute type {kind!r}.")


def item_size(attributes: AttributeMap) -> int:
    """Size of an item as DynamoDB computes it for the 400 KB limit.

    Following the DynamoDB developer guide ("Item sizes and formats"): the sum over
    attributes of the UTF-8 length of the name plus the value's size: strings are
    their UTF-8 bytes, binaries their raw bytes, booleans and nulls 1 byte, sets the
    sum of their elements, lists and maps 3 bytes plus 1 byte per element plus the
    elements (and, for maps, the element names). Numbers are the one approximation:
    AWS documents them as about 1 byte per two significant digits plus 1 byte; we
    round up and add a byte for negative numbers, so the estimate errs on the large
    side and an item we accept is not rejected by DynamoDB for its size.
    """
    return sum(len(name.encode("utf-8")) + attribute_value_size(value) for name, value in attributes.items())


# -- value conversion -------------------------------------------------------------------


def _finite_decimal(value: int | float | Decimal, path: str) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ItemValidationError(f"{path} is {value}; DynamoDB cannot store NaN or infinity.")
    return number


def _aware_iso(value: datetime, path: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ItemValidationError(
            f"{path} is a naive datetime ({value.isoformat()}); give it a timezone, e.g. tzinfo=timezone.utc."
        )
    return value.isoformat()


def _to_storable(value: Any, path: str) -> Any:
    """Turn a Python value into what ``TypeSerializer`` accepts (floats -> Decimal, dates -> ISO)."""
    if value is None or isinstance(value, (bool, str, int, bytes, Binary)):
        return value
    if isinstance(value, (float, Decimal)):
        return _finite_decimal(value, path)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, datetime):
        return _aware_iso(value, path)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        for name in value:
            if not isinstance(name, str):
                raise ItemValidationError(f"{path} has a non-string key {name!r}; DynamoDB map keys are strings.")
        return {name: _to_storable(v, f"{path}.{name}") for name, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_storable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        if not value:
            raise ItemValidationError(f"{path} is an empty set; DynamoDB cannot store empty sets (use a list).")
        return {_to_storable(v, f"{path} element") for v in value}
    raise ItemValidationError(f"{path} has type {type(value).__name__}, which DynamoDB cannot store.")


def _serialize(value: Any, path: str) -> AttributeValue:
    storable = _to_storable(value, path)
    try:
        return _SERIALIZER.serialize(storable)
    except (TypeError, ValueError, DecimalException) as error:
        reason = type(error).__name__ if isinstance(error, DecimalException) else str(error)
        raise ItemValidationError(
            f"{path} cannot be stored in DynamoDB ({reason}); numbers need at most 38 significant digits "
            "and a magnitude between 1E-130 and 1E+126, sets one element type."
        ) from None


class _PlainDeserializer(TypeDeserializer):
    """``TypeDeserializer`` giving plain Python values in one pass: numbers as ``int``
    when integral, else ``float`` (not ``Decimal``), binaries as ``bytes`` (not ``Binary``),
    at any depth (lists, maps and sets go back through these methods)."""

    def _deserialize_n(self, value: str) -> int | float:
        number = DYNAMODB_CONTEXT.create_decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)

    def _deserialize_b(self, value: bytes) -> bytes:
        return Binary(value).value  # Binary checks the type, as the two-pass conversion did


_DESERIALIZER = _PlainDeserializer()


@functools.lru_cache(maxsize=256)
def _is_normal_date(value: str) -> bool:
    """Whether ``value`` is already a valid ``YYYY-MM-DD`` day (cached: a read sees few distinct days)."""
    try:
        return normalize_digest_date(value) == value
    except ItemValidationError:
        return False


def _already_valid(values: Mapping[str, Any]) -> bool:
    """Whether ``DigestItem.__post_init__`` would accept ``values`` unchanged.

    Cheap checks for items read back from the table: anything unusual (a key or
    field of another type, a long id, a naive timestamp) returns False, and the
    caller then runs the full validation, which raises the usual error.
    """
    item_id, score, created_at = values["item_id"], values["score"], values["created_at"]
    return (
        type(values["digest_date"]) is str
        and _is_normal_date(values["digest_date"])
        and type(item_id) is str
        and 0 < len(item_id) <= MAX_SORT_KEY_BYTES // 4  # at most 4 UTF-8 bytes per character
        and type(values["title"]) is str
        and type(values["url"]) is str
        and type(values["source"]) is str
        and type(values["summary"]) is str
        and (score is None or (type(score) is float and math.isfinite(score)))
        and all(type(tag) is str for tag in values["tags"])
        and (created_at is None or (type(created_at) is datetime and created_at.utcoffset() is not None))
    )


# -- the item -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    """One item of a day's digest, keyed by ``(digest_date, item_id)``.

    Validated on construction (``ItemValidationError``): ``digest_date`` is normalized
    to ``YYYY-MM-DD`` (a ``date`` is accepted), ``item_id`` is a non-empty string,
    ``score`` a finite number (stored as float) or None, ``tags`` a tuple of strings,
    ``created_at`` a timezone-aware datetime or None (not recorded), and ``extra``
    holds any other attributes, whose names must not clash with the fields above.
    """

    digest_date: str
    item_id: str
    title: str = ""
    url: str = ""
    source: str = ""
    summary: str = ""
    score: float | None = None
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "digest_date", normalize_digest_date(self.digest_date))
        validate_item_id(self.item_id)
        for name in ("title", "url", "source", "summary"):
            if not isinstance(getattr(self, name), str):
                raise ItemValidationError(f"{name} must be a string, got {type(getattr(self, name)).__name__}.")
        if self.score is not None:
            if isinstance(self.score, bool) or not isinstance(self.score, (int, float, Decimal)):
                raise ItemValidationError(f"score must be a number or None, got {type(self.score).__name__}.")
            set_field(self, "score", float(_finite_decimal(self.score, "score")))
        if isinstance(self.tags, str) or not all(isinstance(t, str) for t in self.tags):
            raise ItemValidationError("tags must be a sequence of strings, e.g. ('cursor', 'agents').")
        set_field(self, "tags", tuple(self.tags))
        if self.created_at is not None:
            if not isinstance(self.created_at, datetime):
                raise ItemValidationError(f"created_at must be a datetime, got {type(self.created_at).__name__}.")
            _aware_iso(self.created_at, "created_at")
        if not isinstance(self.extra, Mapping) or not all(isinstance(name, str) for name in self.extra):
            raise ItemValidationError("extra must be a mapping of attribute names (strings) to values.")
        clashes = sorted(set(self.extra) & _FIELD_NAMES)
        if clashes:
            raise ItemValidationError(f"extra must not redefine the item's own attributes: {', '.join(clashes)}.")
        set_field(self, "extra", dict(self.extra))

    @property
    def key(self) -> Key:
        """The item's primary key, ``(digest_date, item_id)``."""
        return self.digest_date, self.item_id

    def to_dynamodb(self) -> AttributeMap:
        """Return the item as a DynamoDB attribute-value map, checked against the 400 KB limit.

        ``score`` is omitted when None and ``created_at`` when not recorded; tags are
        stored as a list (order kept, duplicates allowed, empty allowed).
        """
        values: dict[str, Any] = {
            PARTITION_KEY: self.digest_date,
            SORT_KEY: self.item_id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "summary": self.summary,
            "tags": list(self.tags),
        }
        if self.score is not None:
            values["score"] = self.score
        if self.created_at is not None:
            values["created_at"] = self.created_at
        values.update(self.extra)
        attributes = {name: _serialize(value, name) for name, value in values.items()}
        size = item_size(attributes)
        if size > MAX_ITEM_BYTES:
            largest = max(attributes, key=lambda name: attribute_value_size(attributes[name]))
            raise ItemValidationError(
                f"Item ({self.digest_date}, {self.item_id}) is {size:,} bytes; DynamoDB's limit is "
                f"{MAX_ITEM_BYTES:,} bytes (400 KB). Its largest attribute is '{largest}': shorten it "
                "or store the content elsewhere (e.g. S3) and keep a link."
            )
        return attributes

    @classmethod
    def from_dynamodb(cls, attributes: Mapping[str, AttributeValue]) -> DigestItem:
        """Build an item from a DynamoDB attribute-value map (as returned by GetItem/Query).

        One deserialization pass (strings taken as they are, numbers straight to
        int/float). Items that pass cheap type checks are built without repeating the
        full validation, which ran when they were written; anything else goes through
        the normal constructor and gets its usual ``ItemValidationError``.
        """
        deserialize = _DESERIALIZER.deserialize
        values = {name: value["S"] if "S" in value else deserialize(value) for name, value in attributes.items()}
        missing = [name for name in (PARTITION_KEY, SORT_KEY) if name not in values]
        if missing:
            raise ItemValidationError(f"Stored item lacks its key attribute(s): {', '.join(missing)}.")
        created_at = values.pop("created_at", None)
        if isinstance(created_at, str):
            try:
                created_at = datetime.fromisoformat(created_at)
            except ValueError:
                raise ItemValidationError(f"Stored created_at {shown(created_at)} is not an ISO datetime.") from None
        score = values.pop("score", None)
        field_values = {
            "digest_date": values.pop(PARTITION_KEY),
            "item_id": values.pop(SORT_KEY),
            "title": values.pop("title", ""),
            "url": values.pop("url", ""),
            "source": values.pop("source", ""),
            "summary": values.pop("summary", ""),
            "score": None if score is None else float(score),
            "tags": tuple(values.pop("tags", ())),
            "created_at": created_at,
            "extra": values,  # a fresh dict, holding no field name (those were popped above)
        }
        if not _already_valid(field_values):
            return cls(**field_values)
        item = object.__new__(cls)
        item.__dict__.update(field_values)  # exactly what __post_init__ would have kept
        return item


_FIELD_NAMES = frozenset(f.name for f in fields(DigestItem)) - {"extra"}


# -- the store ------------------------------------------------------------------------------


def backoff_delay(
    retry: int,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    cap: float = DEFAULT_BACKOFF_CAP,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): full jitter, ``U(0, min(cap, base * 2**retry))``.

    Full jitter is the variant AWS recommends for retries of throttled requests
    ("Exponential Backoff And Jitter", AWS Architecture Blog).
    """
    return uniform(0.0, min(cap, base * 2**retry))


@dataclass
class _Pending:
    """One put request of a ``put_many`` call, with its input position and attempts so far."""

    index: int
    key: Key
    request: dict[str, Any]
    attempts: int = 0


class DigestStore:
    """Reads and writes digest items in the table of a ``DynamoDBClient``.

    Thread safety: a store may be shared by any number of threads. It keeps no
    mutable state of its own (its settings are fixed at construction; each call
    works on local variables), boto3's low-level clients are thread-safe, and
    ``DynamoDBClient`` builds its client once under a lock.

    ``put_many`` tuning: each item is sent at most ``max_attempts`` times; between
    attempts for unprocessed items it sleeps ``backoff_delay`` seconds (``backoff_base``
    doubling up to ``backoff_cap``) through ``sleep``, which tests can replace.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {max_attempts}.")
        if backoff_base <= 0 or backoff_cap < backoff_base:
            raise ConfigurationError(
                f"Backoff needs 0 < backoff_base <= backoff_cap, got base {backoff_base} and cap {backoff_cap}."
            )
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"DigestStore(table={self.table_name!r}, max_attempts={self._max_attempts})"

    @property
    def table_name(self) -> str:
        """Name of the table the store reads and writes."""
        return self._client.table_name

    def put(self, item: DigestItem, *, only_if_absent: bool = False) -> None:
        """Store ``item``, replacing any item with the same key unless ``only_if_absent``.

        With ``only_if_absent=True`` an existing item is left untouched and
        ``ItemExistsError`` is raised (a conditional write, atomic in DynamoDB).
        """
        params: dict[str, Any] = {"TableName": self.table_name, "Item": item.to_dynamodb()}
        if only_if_absent:
            params["ConditionExpression"] = "attribute_not_exists(#sk)"
            params["ExpressionAttributeNames"] = {"#sk": SORT_KEY}
        try:
            self._client.call("PutItem", **params)
        except DatabaseError as error:
            cause = error.__cause__
            conflict = isinstance(cause, ClientError) and error_code(cause) == "ConditionalCheckFailedException"
            if only_if_absent and conflict:
                retried = cause.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
                raise ItemExistsError(
                    f"Item ({item.digest_date}, {item.item_id}) already exists in {self.table_name}; "
                    + (
                        "the call was retried after a lost answer, so the stored item may be this one "
                        "(read it back with get())."
                        if retried
                        else "nothing was written (put without only_if_absent replaces it)."
                    )
                ) from error
            raise

    def get(self, digest_date: str | date, item_id: str, *, consistent: bool = True) -> DigestItem | None:
        """Return the item with this key, or None when there is none."""
        key = validate_key(digest_date, item_id)
        response = self._client.call(
            "GetItem", TableName=self.table_name, Key=_key_attributes(key), ConsistentRead=consistent
        )
        attributes = response.get("Item")
        return DigestItem.from_dynamodb(attributes) if attributes else None

    def day(self, digest_date: str | date, *, consistent: bool = True) -> list[DigestItem]:
        """Return every item of one day in sort-key (``item_id``) order.

        DynamoDB returns at most 1 MB per ``Query``; this follows ``LastEvaluatedKey``
        until the day is complete.
        """
        day = normalize_digest_date(digest_date)
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :day",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":day": {"S": day}},
            "ConsistentRead": consistent,
        }
        items: list[DigestItem] = []
        pages = 0
        while True:
            response = self._client.call("Query", **params)
            pages += 1
            items.extend(DigestItem.from_dynamodb(attributes) for attributes in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                break
            params["ExclusiveStartKey"] = last_key
        logger.debug("day %s: %d items in %d page(s)", day, len(items), pages)
        return items

    def delete(self, digest_date: str | date, item_id: str) -> bool:
        """Delete the item with this key; return whether it existed."""
        key = validate_key(digest_date, item_id)
        response = self._client.call(
            "DeleteItem", TableName=self.table_name, Key=_key_attributes(key), ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))

    def put_many(self, items: Iterable[DigestItem]) -> int:
        """Write ``items`` with ``BatchWriteItem`` (25 per request); return how many were written.

        Every item is validated and keys are checked for duplicates before the first
        request (DynamoDB rejects a batch with a repeated key). Items DynamoDB returns
        as ``UnprocessedItems`` go back to the front of the queue and are re-sent
        after a backoff; an item still unwritten after ``max_attempts`` sends ends in
        ``BatchWriteError``, whose ``unwritten`` lists exactly those keys. A request
        that fails outright raises its own error if it was the first one; after an
        earlier request was answered it raises ``BatchWriteError`` (caused by that
        error) listing every item not confirmed as written.
        """
        pending = self._prepare(items)
        total = len(pending)
        if not total:
            return 0
        queue = list(reversed(pending))  # pop() from the end = take from the front
        unwritten: list[_Pending] = []
        batches = retries = resent = 0
        throttled_in_a_row = 0
        written = 0
        while queue:
            batch = [queue.pop() for _ in range(min(BATCH_SIZE, len(queue)))]
            for entry in batch:
                entry.attempts += 1
            try:
                response = self._client.call(
                    "BatchWriteItem", RequestItems={self.table_name: [entry.request for entry in batch]}
                )
            except DatabaseError as error:
                if not batches:
                    raise
                raise self._batch_error(unwritten + batch + queue, total, reason=error.message) from error
            batches += 1
            by_key = {entry.key: entry for entry in batch}
            returned = [by_key[_request_key(r)] for r in response.get("UnprocessedItems", {}).get(self.table_name, [])]
            written += len(batch) - len(returned)
            if not returned:
                throttled_in_a_row = 0
                continue
            retries += 1
            exhausted = [entry for entry in returned if entry.attempts >= self._max_attempts]
            unwritten.extend(exhausted)
            again = [entry for entry in returned if entry.attempts < self._max_attempts]
            resent += len(again)
            queue.extend(reversed(again))
            if again:
                self._sleep(
                    backoff_delay(throttled_in_a_row, base=self._backoff_base, cap=self._backoff_cap)
                )
            throttled_in_a_row += 1
        logger.info(
            "put_many: %d items in %d batches, %d retries of unprocessed items (%d items re-sent)",
            total,
            batches,
            retries,
            resent,
        )
        if unwritten:
            raise self._batch_error(
                unwritten, total, reason=f"still unprocessed after {self._max_attempts} attempts"
            )
        return written

    def _prepare(self, items: Iterable[DigestItem]) -> list[_Pending]:
        """Serialize every item and refuse repeated keys, before any request."""
        pending: list[_Pending] = []
        seen: set[Key] = set()
        duplicates: list[Key] = []
        for index, item in enumerate(items):
            if not isinstance(item, DigestItem):
                raise ItemValidationError(f"put_many takes DigestItem objects; item {index} is {type(item).__name__}.")
            if item.key in seen:
                duplicates.append(item.key)
            seen.add(item.key)
            pending.append(_Pending(index, item.key, {"PutRequest": {"Item": item.to_dynamodb()}}))
        if duplicates:
            raise ItemValidationError(
                f"put_many got {len(duplicates)} repeated key(s): {_describe_keys(duplicates)}. "
                "DynamoDB rejects a batch that writes one key twice; keep one item per key."
            )
        return pending

    def _batch_error(self, entries: list[_Pending], total: int, *, reason: str) -> BatchWriteError:
        keys = [entry.key for entry in sorted(entries, key=lambda entry: entry.index)]
        return BatchWriteError(
            f"put_many: {len(keys)} of {total} items were not written to {self.table_name} ({reason}): "
            f"{_describe_keys(keys)}. Retry those items later.",
            unwritten=keys,
        )


def _request_key(request: Mapping[str, Any]) -> Key:
    item = request["PutRequest"]["Item"]
    return item[PARTITION_KEY]["S"], item[SORT_KEY]["S"]


# -- demo helpers -------------------------------------------------------------------------------

_SAMPLES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    (
        "agent-mode-refactors",
        "Agent mode refactors a 40-file codebase from one prompt",
        "hackernews",
        "A write-up of letting an IDE agent plan, edit and test a large refactor, and where review still mattered.",
        ("agents", "refactoring"),
    ),
    (
        "prompt-as-spec",
        "Treat the prompt as the spec: acceptance criteria first",
        "blog",
        "Writing acceptance criteria before prompting cut the rework loop in half for a small team.",
        ("prompting", "testing"),
    ),
    (
        "tests-keep-vibes-honest",
        "Tests keep the vibes honest",
        "newsletter",
        "Why generated code needs a fast test suite as its guard rail, with examples of bugs it caught.",
        ("testing", "quality"),
    ),
    (
        "weekend-saas-postmortem",
        "Postmortem: a weekend SaaS built almost entirely by prompting",
        "reddit",
        "What worked (scaffolding, UI), what did not (auth edge cases, migrations) and the cost in tokens.",
        ("case-study", "startups"),
    ),
    (
        "context-windows-in-practice",
        "Context windows in practice: what to feed the model",
        "youtube",
        "A walkthrough of curating files, docs and errors so the assistant edits the right thing.",
        ("context", "prompting"),
    ),
    (
        "review-generated-prs",
        "How we review AI-generated pull requests",
        "blog",
        "A checklist for reviewers: intent, tests, dependencies, secrets, and the smell of plausible nonsense.",
        ("code-review", "process"),
    ),
    (
        "local-models-for-coding",
        "Local models for coding: a month-long comparison",
        "hackernews",
        "Latency, quality and privacy trade-offs of running coding models on a laptop versus hosted ones.",
        ("models", "privacy"),
    ),
    (
        "vibe-coding-security",
        "Vibe coding and security: injection bugs slip through",
        "newsletter",
        "Generated handlers often skip input validation; a short audit of common slips and their fixes.",
        ("security", "quality"),
    ),
)


def sample_digest(day: date, count: int = 5) -> list[DigestItem]:
    """Return ``count`` deterministic, realistic digest items about vibe coding for ``day``.

    Item ids start with a zero-padded rank (``001-...``) so sort-key order is rank
    order; scores decrease with rank; the same arguments always give the same items.
    """
    if count < 0:
        raise ItemValidationError(f"count must be zero or more, got {count}.")
    start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=timezone.utc)
    items = []
    for rank in range(1, count + 1):
        slug, title, source, summary, tags = _SAMPLES[(rank - 1) % len(_SAMPLES)]
        cycle = (rank - 1) // len(_SAMPLES)
        suffix = f"-{cycle + 1}" if cycle else ""
        items.append(
            DigestItem(
                digest_date=day,
                item_id=f"{rank:03d}-{slug}{suffix}",
                title=title + (f" (part {cycle + 1})" if cycle else ""),
                url=f"https://example.com/vibe-coding/{slug}{suffix}",
                source=source,
                summary=summary,
                score=round(max(0.99 - 0.04 * (rank - 1), 0.05), 2),
                tags=tags,
                created_at=start + timedelta(minutes=7 * (rank - 1)),
            )
        )
    return items


def format_digest(items: Sequence[DigestItem], *, title_width: int = 60) -> str:
    """Render items as a text table (item_id, score, source, title truncated to ``title_width``)."""
    if not items:
        return "(no items)"
    rows = [
        (
            item.item_id,
            "-" if item.score is None else f"{item.score:.2f}",
            item.source or "-",
            item.title if len(item.title) <= title_width else item.title[: title_width - 3] + "...",
        )
        for item in items
    ]
    header = ("item_id", "score", "source", "title")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3]]
        return "  ".join(cells).rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), separator, *(line(row) for row in rows)])
