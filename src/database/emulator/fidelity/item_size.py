"""The gap ``item-size``: an item's size is DynamoDB's, counted once, against DynamoDB's limit.

DynamoDB refuses an item above 400 KB (409,600 bytes: "all size measurements in
DynamoDB use binary-based units"), counting "the sum of the lengths of its attribute
names and values" in UTF-8 bytes, numbers as about one byte per two significant digits
plus one, and 3 bytes plus 1 byte per element for lists and maps (AWS DynamoDB developer
guide, "Service, account, and table quotas", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items,
and "DynamoDB item sizes and formats",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).

moto counts its own way and stops at 405,000 bytes (``moto/dynamodb/models/dynamo_type.py``,
``LimitedSizeDict.__setitem__``: numbers as the length of their text, lists and maps with
no overhead; its comment says the real limit lies "between 409 and 410KB"), so the
embedded endpoint refused items of 405-409.6 KB that DynamoDB and the package accept. It
also sums the sizes of all attributes already there at every assignment, so building an
item of n attributes sized them n(n+1)/2 times.

Inside a served request, ``Item.__init__`` (every put: ``PutItem``, ``BatchWriteItem``)
sizes the item once with the package's own ``attributes.item_size`` (the documented
rule; its number estimate rounds up, so the endpoint refuses no item DynamoDB would
take that the package accepts) and raises moto's ``ItemSizeTooLarge`` above
``MAX_ITEM_BYTES``. ``UpdateItem``'s assignments keep moto's count: the package writes
whole items only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from ...data.attributes import MAX_ITEM_BYTES, item_size
from .scope import patch


def install() -> None:
    """Size moto's items by DynamoDB's rule and limit, once (inside served requests)."""
    patch(Item, "__init__", "item-size", _sized_as_dynamodb_does)


def _sized_as_dynamodb_does(
    original: Callable[..., None], item: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    """``Item.__init__``: the same item, or ``ItemSizeTooLarge`` when DynamoDB's count passes 409,600 bytes."""
    if item_size(attrs) > MAX_ITEM_BYTES:
        raise ItemSizeTooLarge
    item.hash_key = hash_key
    item.range_key = range_key
    item.attrs = LimitedSizeDict({key: DynamoType(value) for key, value in attrs.items()})  # filled without sizing
