"""The cost ``response-serialize``: moto's JSON serializer, compiled once for DynamoDB's attribute values.

moto serializes every answer by walking the operation's output shape; at each member
of each structure its attribute picker tries several spellings of the member's name
(``S``, ``s``, ...) through a chain of alias providers. An item is a map of
``AttributeValue`` structures of ten members each, so a ``Query`` page costs tens of
look-ups per attribute of every item: enough that a large ``day()`` on ``serve`` would
pass the package's default read timeout (``tests/test_large_day.py``).

Inside a served request, DynamoDB's attribute values, items and item lists
(``AttributeValue``, ``AttributeMap``, ``ItemList``) given as plain dicts and lists
(what moto's ``DynamoResult`` hands the serializer) are serialized by a plan compiled
once from their shape, doing what the walk does for plain dicts: members in the shape's order,
present under their name (or its ``xform_name``) and not None; strings through
``str``, blobs through the serializer's own base64, lists and maps element by element
(a None element kept in a list, dropped from a map), booleans as they are. Anything
else (another service, a response transformer on the path, a value that is not a
plain dict at any depth) goes to moto's own walk, so the answer is the same byte for
byte.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore import xform_name
from moto.core import serialize

from .scope import patch

Plan = Callable[[Any, Any], Any]  # (serializer, value) -> serialized value, or _ABSENT
_ABSENT = object()
_COVERED = {"AttributeValue": dict, "AttributeMap": dict, "ItemList": list}  # shape name -> plain type


class _NotPlain(Exception):
    """A value the plans do not cover: moto's own walk serializes it."""


def install() -> None:
    """Route the serialization of DynamoDB items through the compiled plans (inside served requests)."""
    for kind in ("structure", "map", "list"):
        patch(serialize.BaseJSONSerializer, f"_serialize_type_{kind}", "response-serialize", serialize_items)


def serialize_items(original: Callable[..., None], serializer: Any, serialized: Any, value: Any,
                    shape: Any, key: str) -> None:
    """``BaseJSONSerializer._serialize_type_<structure|map|list>``, with plans for DynamoDB's items."""
    if (
        key
        and type(value) is _COVERED.get(shape.name)
        and serializer.MAP_TYPE is dict
        and serializer.operation_model.service_model.service_name == "dynamodb"
        and not getattr(serializer._value_picker, "response_transformers", None)
    ):
        try:
            plain = _plan(shape)(serializer, value)
        except _NotPlain:
            pass
        else:
            serialized[serializer.get_serialized_name(shape, key)] = plain
            return
    original(serializer, serialized, value, shape, key)


@functools.cache
def _plan(shape: Any) -> Plan:
    """The plan of a shape (cached by shape: botocore's shapes are built once per service model)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            raise _NotPlain
        members = {name: (xform_name(name), _lazy(member)) for name, member in shape.members.items()}
        return functools.partial(_structure, members)
    if kind == "list":
        return functools.partial(_list, _lazy(shape.member))
    if kind == "map":
        return functools.partial(_map, _lazy(shape.value))
    if kind == "string":
        return _string
    if kind == "blob":
        return _blob
    if kind == "boolean":
        return _same
    raise _NotPlain  # numbers, timestamps: not in AttributeValue


def _lazy(shape: Any) -> Plan:
    """A member's plan, built when first used (``AttributeValue`` contains itself)."""
    built: list[Plan] = []

    def run(serializer: Any, value: Any) -> Any:
        if not built:
            built.append(_plan(shape))
        return built[0](serializer, value)

    return run


def _structure(members: dict[str, tuple[str, Plan]], serializer: Any, value: Any) -> Any:
    if value is None:
        return _ABSENT
    if type(value) is not dict:
        raise _NotPlain
    if len(value) == 1:  # an attribute value: one member, so the members' order does not matter
        ((name, member),) = value.items()
        if name in members:
            if member is None:
                return {}
            result = members[name][1](serializer, member)
            return {} if result is _ABSENT else {name: result}
    out = {}
    for name, (alias, plan) in members.items():
        member = value.get(name, _ABSENT)
        if member is _ABSENT:
            member = value.get(alias, _ABSENT)
        if member is not _ABSENT and member is not None:
            result = plan(serializer, member)
            if result is not _ABSENT:
                out[name] = result
    return out


def _list(plan: Plan, serializer: Any, value: Any) -> Any:
    out = []
    for item in value:
        result = plan(serializer, item)
        out.append(item if result is _ABSENT else result)
    return out


def _map(plan: Plan, serializer: Any, value: Any) -> Any:
    out = {}
    for name, item in value.items():
        result = plan(serializer, item)
        if result is not _ABSENT:
            out[name] = result
    return out


def _string(serializer: Any, value: Any) -> Any:
    return str(value) if value not in [None, {}, []] else value


def _blob(serializer: Any, value: Any) -> Any:
    return serializer._base64(value)


def _same(serializer: Any, value: Any) -> Any:
    return value
