"""``DigestItem``: one item of a day's digest, and its conversion to and from DynamoDB.

An item is keyed by ``(digest_date, item_id)`` (the table's partition and sort key).

Writing (Python -> DynamoDB). Every invalid input raises ``ItemValidationError``
before any request: ``None`` or a wrong type for a field, an empty or too long key,
a date that is not a real ``YYYY-MM-DD`` day, text that is not valid Unicode (a lone
surrogate), a boolean score (booleans are not scores), numbers that are not finite
or outside DynamoDB's range (at most 38 significant digits, 1E-130 <= |x| < 1E+126),
a naive datetime, an item over 400 KB. ``tags`` is a list or tuple of strings (a set
is accepted and sorted); a single string is refused, since it would otherwise read
as a sequence of one-character tags. Conversions of other values: see ``attributes``.

Reading (DynamoDB -> Python), for items any tool may have written. The rule per
attribute, else ``ItemFormatError`` (an ``ItemValidationError``) naming the item's
key and the attribute:

- ``digest_date``, ``item_id``: strings (S) that are valid keys;
- ``title``, ``url``, ``source``, ``summary``: strings (S); absent or NULL -> "";
- ``score``: a number (N) -> float; absent or NULL -> None; a boolean or a string
  (even "0.5") is refused: a writer that disagrees on the type is reported, not guessed;
- ``tags``: a list of strings (L) in its order, or a string set (SS) sorted; absent
  or NULL -> (); a single string (S) is refused (one tag? comma-separated? unknowable);
- ``created_at``: an ISO-8601 datetime string with a timezone; absent or NULL -> None;
- any other attribute goes to ``extra``: numbers as int when integral else float,
  binaries as bytes, sets as sets, lists and maps as lists and dicts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, DecimalException
from typing import Any

from ..errors import ItemFormatError, ItemValidationError, shown
from .attributes import (
    MAX_ITEM_BYTES,
    PLAIN_DESERIALIZER,
    AttributeMap,
    AttributeValue,
    attribute_value_size,
    check_name,
    check_text,
    dynamodb_number,
    item_size,
    to_attribute,
)

Key = tuple[str, str]

PARTITION_KEY = "digest_date"
SORT_KEY = "item_id"
MAX_SORT_KEY_BYTES = 1024
TEXT_FIELDS = ("title", "url", "source", "summary")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)



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
    size = len(check_text(value, "item_id").encode("utf-8"))
    if size > MAX_SORT_KEY_BYTES:
        raise ItemValidationError(
            f"item_id {shown(value)} is {size} bytes; DynamoDB allows at most {MAX_SORT_KEY_BYTES} for a sort key."
        )
    return value


def validate_key(digest_date: str | date, item_id: str) -> Key:
    """Validate and normalize a ``(digest_date, item_id)`` key."""
    return normalize_digest_date(digest_date), validate_item_id(item_id)


def key_attributes(key: Key) -> AttributeMap:
    """The key as DynamoDB's ``Key`` parameter."""
    return {PARTITION_KEY: {"S": key[0]}, SORT_KEY: {"S": key[1]}}


@functools.lru_cache(maxsize=256)
def _is_normal_date(value: str) -> bool:
    """Whether ``value`` is already a valid ``YYYY-MM-DD`` day (cached: a read sees few distinct days)."""
    try:
        return normalize_digest_date(value) == value
    except ItemValidationError:
        return False


def _tags(value: Any) -> tuple[str, ...]:
    """Validate ``tags`` given to the constructor: a list/tuple of strings, or a set (sorted)."""
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    if not isinstance(value, (list, tuple)):
        raise ItemValidationError(
            f"tags must be a list or tuple of strings, e.g. ('cursor', 'agents'), got {type(value).__name__}."
        )
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            raise ItemValidationError(f"tags must be a sequence of strings; tags[{index}] is {type(tag).__name__}.")
        check_text(tag, f"tags[{index}]")
    return tuple(value)


# -- the item -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    """One item of a day's digest, keyed by ``(digest_date, item_id)``.

    Validated on construction (``ItemValidationError``, rules in the module docstring):
    ``digest_date`` is normalized to ``YYYY-MM-DD`` (a ``date`` is accepted),
    ``item_id`` is a non-empty string, ``score`` a number in DynamoDB's range (kept as
    float) or None, ``tags`` a tuple of strings, ``created_at`` a timezone-aware
    datetime or None (not recorded), and ``extra`` holds any other attributes, whose
    names must not clash with the fields above.
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
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ItemValidationError(f"{name} must be a string, got {type(value).__name__}.")
            check_text(value, name)
        if self.score is not None:
            if isinstance(self.score, bool) or not isinstance(self.score, (int, float, Decimal)):
                raise ItemValidationError(f"score must be a number or None, got {type(self.score).__name__}.")
            set_field(self, "score", float(dynamodb_number(self.score, "score")))
        set_field(self, "tags", _tags(self.tags))
        if self.created_at is not None:
            if not isinstance(self.created_at, datetime):
                raise ItemValidationError(f"created_at must be a datetime, got {type(self.created_at).__name__}.")
            if self.created_at.utcoffset() is None:
                to_attribute(self.created_at, "created_at")  # raises the naive-datetime error
        if not isinstance(self.extra, Mapping) or not all(isinstance(name, str) and name for name in self.extra):
            raise ItemValidationError("extra must be a mapping of non-empty attribute names (strings) to values.")
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
        attributes = {check_name(name, "attribute name"): to_attribute(value, name) for name, value in values.items()}
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

        Follows the reading rules of the module docstring; anything else raises
        ``ItemFormatError`` naming the item's key and the attribute; the item is then
        built by its own constructor, which validates it as any other.
        """
        values = _deserialize(attributes)
        key = (values.get(PARTITION_KEY), values.get(SORT_KEY))
        for name in (PARTITION_KEY, SORT_KEY):
            if name not in values:
                raise ItemFormatError.of(key, name, "is missing: every stored item has both key attributes.")
        digest_date, item_id = key
        if not (type(digest_date) is str and _is_normal_date(digest_date)):
            _check_key(key, PARTITION_KEY, normalize_digest_date, digest_date)
        if not (type(item_id) is str and 0 < len(item_id) <= MAX_SORT_KEY_BYTES // 4):
            _check_key(key, SORT_KEY, validate_item_id, item_id)
        field_values: dict[str, Any] = {PARTITION_KEY: values.pop(PARTITION_KEY), SORT_KEY: values.pop(SORT_KEY)}
        for name in TEXT_FIELDS:
            text = values.pop(name, None)
            if text is not None and type(text) is not str:
                raise ItemFormatError.of(key, name, f"is {_kind(attributes[name])}; expected a string (S).")
            field_values[name] = text or ""
        score = values.pop("score", None)
        if score is not None and type(score) not in (int, float):
            raise ItemFormatError.of(key, "score", f"is {_kind(attributes['score'])}; expected a number (N).")
        field_values["score"] = None if score is None else float(score)
        field_values["tags"] = _stored_tags(key, values.pop("tags", None), attributes)
        field_values["created_at"] = _stored_datetime(key, values.pop("created_at", None), attributes)
        field_values["extra"] = values  # a fresh dict, holding no field name (those were popped above)
        return cls(**field_values)


_FIELD_NAMES = frozenset(f.name for f in fields(DigestItem)) - {"extra"}


# -- reading helpers ------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """Describe a stored attribute value's type for a message, e.g. 'a number (N)'."""
    names = {"S": "a string", "N": "a number", "BOOL": "a boolean", "NULL": "null", "B": "binary",
             "L": "a list", "M": "a map", "SS": "a string set", "NS": "a number set", "BS": "a binary set"}
    kind = next(iter(value), "?") if isinstance(value, Mapping) and len(value) == 1 else "?"
    return f"{names.get(kind, 'of an unknown type')} ({kind})"


def _deserialize(attributes: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Deserialize every attribute; a malformed attribute value raises ``ItemFormatError`` naming it."""
    deserialize = PLAIN_DESERIALIZER.deserialize
    try:
        return {name: value["S"] if "S" in value else deserialize(value) for name, value in attributes.items()}
    except (TypeError, ValueError, KeyError, AttributeError, DecimalException):
        pass  # find which attribute, for the message (rare: only malformed input gets here)
    key = tuple(_plain_key_part(attributes.get(name)) for name in (PARTITION_KEY, SORT_KEY))
    for name, value in attributes.items():
        try:
            value["S"] if "S" in value else deserialize(value)
        except (TypeError, ValueError, KeyError, AttributeError, DecimalException) as error:
            raise ItemFormatError.of(
                key, name, f"is not a valid DynamoDB attribute value ({type(error).__name__})."
            ) from error
    raise ItemFormatError.of(key, "?", "could not be read.")  # pragma: no cover - the loop above finds it


def _plain_key_part(value: Any) -> Any:
    return value.get("S", value) if isinstance(value, Mapping) else value


def _check_key(key: tuple[Any, Any], name: str, check: Callable[[Any], str], value: Any) -> None:
    """Run the full check of a key attribute the cheap test did not vouch for; its error becomes ``ItemFormatError``."""
    try:
        check(value)
    except ItemValidationError as error:
        raise ItemFormatError.of(key, name, f"is invalid: {error.message}") from None


def _stored_tags(key: tuple[Any, Any], value: Any, attributes: Mapping[str, Any]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, set) and all(type(tag) is str for tag in value):
        return tuple(sorted(value))  # a string set (SS) has no order of its own
    if type(value) is list and all(type(tag) is str for tag in value):
        return tuple(value)
    value = attributes["tags"]
    hint = " (one tag or several joined? it cannot be told)" if isinstance(value, Mapping) and "S" in value else ""
    raise ItemFormatError.of(
        key, "tags", f"is {_kind(value)}{hint}; expected a list of strings (L) or a string set (SS)."
    )


def _stored_datetime(key: tuple[Any, Any], value: Any, attributes: Mapping[str, Any]) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        kind = _kind(attributes["created_at"])
        raise ItemFormatError.of(key, "created_at", f"is {kind}; expected an ISO datetime (S).")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ItemFormatError.of(key, "created_at", f"{shown(value)} is not an ISO datetime.") from None
    if parsed.utcoffset() is None:
        raise ItemFormatError.of(key, "created_at", f"{shown(value)} is a naive datetime (no timezone).")
    return parsed
