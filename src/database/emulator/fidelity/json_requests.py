"""The cost ``request-parse``: moto's JSON request parser, compiled once per shape.

For every request of a JSON-protocol service (DynamoDB among them) moto's
``JSONParser`` walks the decoded body along the operation's input shape: structures
keep their known, non-null members; blobs are base64-decoded, timestamps parsed,
numbers converted; maps and lists are walked item by item. It finds each step's
handler by name (``getattr(self, f"_parse_{type}")``) at every node, a large share
of the server's work for a ``BatchWriteItem`` of many attributes.

``parse_json_body`` gives the same result from closures built once per shape (a
structure's members, a list's member, a map's key and value), looked up by the
service and the shape's name. It takes the parser's own blob and timestamp
parsers and map type, and hands any parser configured otherwise back to moto.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.core import parse

from .scope import patch

Plan = Callable[[Any], Any]

_NUMBERS = {"float": float, "double": float, "integer": int, "long": int, "short": int, "byte": int}


def install() -> None:
    """Route moto's ``JSONParser._parse_json_body`` through the compiled plans (inside served requests)."""
    patch(parse.JSONParser, "_parse_json_body", "request-parse", parse_json_body)


def parse_json_body(original: Callable[..., Any], parser: Any, raw_body: Any, shape: Any) -> Any:
    """``JSONParser._parse_json_body(raw_body, shape)``, with the shape's plan instead of the tree walk."""
    if (
        type(parser) is not parse.JSONParser
        or parser.MAP_TYPE is not dict
        or parser._blob_parser is not parse.default_blob_parser
        or parser._timestamp_parser is not parse.default_timestamp_parser
    ):
        return original(parser, raw_body, shape)
    body = parser._parse_body_as_json(raw_body)  # type: ignore[no-untyped-call]
    return _plans(parser.operation_model.service_model.service_name).of(shape)(body)


@functools.cache
def _plans(service: str) -> _Plans:
    return _Plans()


class _Plans:
    """The plans of one service's shapes, built on first use (recursive shapes included)."""

    def __init__(self) -> None:
        self._ready: dict[str, Plan] = {}  # complete plans, read without the lock
        self._built: dict[str, Plan] = {}  # under the lock: plans, and placeholders while being built
        self._lock = threading.Lock()

    def of(self, shape: Any) -> Plan:
        plan = self._ready.get(shape.name)
        if plan is None:
            with self._lock:
                plan = self._plan(shape)
                self._ready.update(self._built)  # every placeholder has been replaced by now
        return plan

    def _plan(self, shape: Any) -> Plan:
        plan = self._built.get(shape.name)
        if plan is None:
            compiled: list[Plan] = []
            self._built[shape.name] = lambda value: compiled[0](value)  # what a recursive reference gets
            plan = self._compile(shape)
            compiled.append(plan)
            self._built[shape.name] = plan
        return plan

    def _child(self, shape: Any) -> Plan | None:
        """The plan of a member shape, or None where moto returns the value as it is (strings, booleans)."""
        kind = shape.type_name
        if kind in ("structure", "list", "map"):
            return self._plan(shape)
        return _scalar(kind)

    def _compile(self, shape: Any) -> Plan:
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return _same
            members = [
                (name, member.serialization.get("name", name), self._child(member))
                for name, member in shape.members.items()
            ]
            return functools.partial(_structure, members)
        if kind == "list":
            return functools.partial(_list, self._child(shape.member))
        if kind == "map":
            return functools.partial(_map, self._child(shape.key), self._child(shape.value))
        return _scalar(kind) or _same


def _same(value: Any) -> Any:
    return value


def _scalar(kind: str) -> Plan | None:
    if kind == "blob":
        return parse.default_blob_parser
    if kind == "timestamp":
        return parse.default_timestamp_parser
    number = _NUMBERS.get(kind)
    if number is None:
        return None
    return functools.partial(_number, number)


def _number(convert: Callable[[Any], Any], value: Any) -> Any:
    return value if value is parse.UNDEFINED else convert(value)


def _structure(members: list[tuple[str, str, Plan | None]], value: Any) -> Any:
    if value is None:
        return None
    parsed = {}
    for name, key, plan in members:
        raw = value.get(key)
        if raw is not None:
            parsed[name] = raw if plan is None else plan(raw)
    return parsed


def _list(plan: Plan | None, value: Any) -> Any:
    return list(value) if plan is None else [plan(item) for item in value]


def _map(key_plan: Plan | None, value_plan: Plan | None, value: Any) -> Any:
    return {
        (key if key_plan is None else key_plan(key)): (item if value_plan is None else value_plan(item))
        for key, item in value.items()
    }
