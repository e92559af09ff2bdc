"""Python values <-> DynamoDB attribute values, checked against DynamoDB's limits.

Generic (not digest-specific) conversion used by ``item``:
- ``to_attribute`` turns a Python value into an attribute value (``{"S": ...}``,
  ``{"N": ...}``, ...) with boto3's ``TypeSerializer``, after refusing what DynamoDB
  would reject: text that is not valid Unicode (a lone surrogate), numbers that are
  not finite, with more than 38 significant digits, or outside 1E-130 <= |x| < 1E+126,
  empty sets, map keys that are not strings, naive datetimes, unknown types.
  Floats are stored as ``Decimal(str(x))`` (the shortest repr, so 0.1 stays 0.1),
  dates and datetimes as ISO-8601 strings, tuples as lists.
- ``PLAIN_DESERIALIZER`` reads attribute values back in one pass: numbers as ``int``
  when integral, else ``float``; binaries as ``bytes``.
- ``item_size`` computes an item's size the way DynamoDB counts its 400 KB limit.

Every refusal is an ``ItemValidationError`` naming the attribute path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import Binary, TypeSerializer

from ..errors import ItemValidationError

AttributeValue = dict[str, Any]
AttributeMap = dict[str, AttributeValue]

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit (400 KB), attribute names included."""
MAX_DIGITS = 38
"""DynamoDB numbers keep at most 38 significant digits."""
MIN_EXPONENT, MAX_EXPONENT = -130, 125
"""Non-zero DynamoDB numbers lie in 1E-130 <= |x| <= 9.99...E+125 (adjusted exponents -130..125)."""
MAX_NESTING = 32
"""Levels of nesting, the top-level attribute being level 1: "DynamoDB supports nested attributes up to 32 levels
deep" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html, Attributes)."""
MAX_NAME_BYTES = 64 * 1024
"""Attribute names "must be at least one character long and no greater than 64 KB in size"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html)."""

_SERIALIZER = TypeSerializer()


def check_text(value: str, path: str) -> str:
    """Return ``value`` if it encodes as UTF-8 (DynamoDB's encoding); a lone surrogate does not."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ItemValidationError(
                f"{path} is not valid Unicode text (an unpaired surrogate {value[error.start]!r} at position "
                f"{error.start}); DynamoDB stores UTF-8."
            ) from None
    return value


def check_name(name: str, path: str) -> str:
    """Return the attribute or map-key ``name`` if it is valid UTF-8 of at most 64 KB."""
    size = len(check_text(name, path).encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ItemValidationError(
            f"{path} {shown_name(name)} is {size:,} bytes; DynamoDB attribute names are at most {MAX_NAME_BYTES:,} "
            "bytes (64 KB)."
        )
    return name


def shown_name(text: str, keep: int = 40) -> str:
    """``text`` quoted for a message, its middle elided when long, so the message stays short."""
    return repr(text if len(text) <= 2 * keep else f"{text[:keep]}...{text[-keep:]}")


def dynamodb_number(value: int | float | Decimal, path: str) -> Decimal:
    """Return ``value`` as a ``Decimal`` DynamoDB can store exactly, or raise ``ItemValidationError``.

    Trailing zeros of integers are moved into the exponent (``10**40`` is ``1E+40``,
    one significant digit), as DynamoDB itself counts them.
    """
    number = value if isinstance(value, Decimal) else Decimal(str(value) if isinstance(value, float) else value)
    if not number.is_finite():
        raise ItemValidationError(f"{path} is {value}; DynamoDB cannot store NaN or infinity.")
    if not number:
        return Decimal(0)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    adjusted = exponent + len(digits) - 1
    if not MIN_EXPONENT <= adjusted <= MAX_EXPONENT:
        raise ItemValidationError(
            f"{path} ({'-' if sign else ''}{digits[0]}...E{adjusted:+d}) is outside DynamoDB's number range: "
            "non-zero numbers need 1E-130 <= |x| < 1E+126."
        )
    if len(digits) > MAX_DIGITS:
        significant = len(digits)
        while digits[significant - 1] == 0:
            significant -= 1
        if significant > MAX_DIGITS:
            raise ItemValidationError(
                f"{path} has {significant} significant digits; DynamoDB numbers keep at most {MAX_DIGITS}."
            )
        return Decimal((sign, digits[:significant], exponent + len(digits) - significant))
    return number


def _aware_iso(value: datetime, path: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ItemValidationError(
            f"{path} is a naive datetime ({value.isoformat()}); give it a timezone, e.g. tzinfo=timezone.utc."
        )
    return value.isoformat()


def _to_storable(value: Any, path: str, level: int = 1) -> Any:
    """Turn a Python value into what ``TypeSerializer`` accepts (numbers -> Decimal, dates -> ISO).

    ``level``: the value's nesting level, the top-level attribute's being 1; a value
    below ``MAX_NESTING`` is refused before going deeper, so no depth (or a list that
    contains itself) reaches Python's recursion limit.
    """
    if level > MAX_NESTING:
        root = path.split(".", 1)[0].split("[", 1)[0]
        raise ItemValidationError(
            f"{shown_name(root)} nests deeper than DynamoDB's {MAX_NESTING} levels of maps and lists."
        )
    if value is None or isinstance(value, (bool, bytes, Binary)):
        return value
    if isinstance(value, str):
        return check_text(value, path)
    if isinstance(value, (int, float, Decimal)):
        return dynamodb_number(value, path)
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
            check_name(name, f"{path} key")
        return {name: _to_storable(v, f"{path}.{name}", level + 1) for name, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_storable(v, f"{path}[{i}]", level + 1) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        if not value:
            raise ItemValidationError(f"{path} is an empty set; DynamoDB cannot store empty sets (use a list).")
        return {_to_storable(v, f"{path} element") for v in value}
    raise ItemValidationError(f"{path} has type {type(value).__name__}, which DynamoDB cannot store.")


def to_attribute(value: Any, path: str) -> AttributeValue:
    """Return ``value`` as a DynamoDB attribute value, or raise ``ItemValidationError`` naming ``path``."""
    storable = _to_storable(value, path)
    try:
        attribute: AttributeValue = _SERIALIZER.serialize(storable)
    except (TypeError, ValueError, DecimalException) as error:  # e.g. a set mixing element types
        reason = type(error).__name__ if isinstance(error, DecimalException) else str(error)
        raise ItemValidationError(f"{path} cannot be stored in DynamoDB ({reason}).") from None
    return attribute


class _PlainDeserializer:
    """Reads attribute values as plain Python values in one pass, as ``TypeDeserializer.deserialize`` would.

    The same types as boto3's public ``TypeDeserializer`` (which this mirrors without
    subclassing it), except: numbers come back as ``int`` when integral, else ``float``
    (not ``Decimal``), binaries as ``bytes`` (not ``Binary``), at any depth.

    Numbers are read exactly (``Decimal(text)``), not through boto3's ``DYNAMODB_CONTEXT``:
    DynamoDB returns a number such as 1E+38 written out in full (39 digits), which that
    context's 38-digit precision and ``Rounded`` trap refuse although the value has one
    significant digit (boto3 issues #2500 and #4693; boto3 PR #4699 reads with
    ``Decimal(value)`` too). What the package writes was checked against DynamoDB's
    limits on the way in (``dynamodb_number``), so reading needs no check of its own.
    """

    def deserialize(self, value: AttributeValue) -> Any:
        """Return the plain Python value of one attribute value (``TypeError`` for an unknown type)."""
        if not value:
            raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
        kind = next(iter(value))
        reader = self._READERS.get(kind)
        if reader is None:
            raise TypeError(f"Dynamodb type {kind} is not supported")
        return reader(self, value[kind])

    def _number(self, text: str) -> int | float:
        number = Decimal(text)
        if not number.is_finite():  # e.g. "NaN": DynamoDB never stores these
            raise ValueError(f"{text!r} is not a DynamoDB number")
        return int(number) if number == number.to_integral_value() else float(number)

    def _binary(self, value: bytes) -> bytes:
        plain: bytes = Binary(value).value  # Binary checks the type, as boto3's reading does
        return plain

    _READERS: dict[str, Callable[[_PlainDeserializer, Any], Any]] = {
        "NULL": lambda self, value: None,
        "BOOL": lambda self, value: value,
        "S": lambda self, value: value,
        "N": _number,
        "B": _binary,
        "SS": lambda self, value: set(value),
        "NS": lambda self, value: {self._number(element) for element in value},
        "BS": lambda self, value: {self._binary(element) for element in value},
        "L": lambda self, value: [self.deserialize(element) for element in value],
        "M": lambda self, value: {name: self.deserialize(element) for name, element in value.items()},
    }


PLAIN_DESERIALIZER = _PlainDeserializer()


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
