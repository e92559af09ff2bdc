"""Costs of moto's, not gaps: work its server does that answers nothing.

- ``kms-key-pair``: moto's ``Key`` generates a 2,048-bit RSA private key for every
  key, symmetric ones included (AWS's symmetric keys have no key pair at all). A
  table created with SSE gets DynamoDB's default ``aws/dynamodb`` key, so every
  first table after a reset of the server waits for a key pair nobody uses. The
  pair is made on first use (sign, verify, public key) instead, with the same answers.
- ``service-list``: to route each request, moto's dispatcher lists its own package
  directory and checks every entry (a ``stat`` call each, under a lock every request
  waits for). The package does not change while the process runs, so the list is read once.
- ``backend-lookup``: every lookup of a service's backend (several per request)
  checks, under a global lock, whether the backend dict is registered by comparing
  it for equality with every registered dict, item by item. Once the
  account exists and the dict is registered (checked by identity), the lookup skips that.
- ``template-yaml``: moto parses a template body with PyYAML's pure-Python
  ``yaml.Loader`` several times per change set (about 6 ms each for this project's
  template; 30 create-execute-delete cycles cost the server 1.1 s of CPU with this
  patch and 1.35-1.45 s without). Inside a served request that parse uses libyaml's
  parser (``LibyamlLoader``) with ``yaml.Loader``'s own constructors and resolvers,
  moto's tag constructor included, so the document is the same (0.6 ms). Without
  libyaml in PyYAML the patch is not installed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

import yaml
from moto import backends
from moto.core.base_backend import BackendDict
from moto.kms import models

from .scope import patch


def install() -> None:
    """Patch moto's key creation, service listing, backend lookup and YAML parsing (module docstring)."""
    patch(models, "generate_private_key", "kms-key-pair", _deferred)
    patch(backends, "list_of_moto_modules", "service-list", _service_modules)
    patch(BackendDict, "_create_account_specific_backend", "backend-lookup", _create_unless_there)
    if yaml.__with_libyaml__:
        patch(yaml, "load", "template-yaml", _parsed_by_libyaml)


class DeferredPrivateKey:
    """A moto private key made by ``make`` on the first attribute asked of it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._key: Any = None
        self._lock = threading.Lock()

    @property
    def made(self) -> bool:
        """Whether the key pair exists yet."""
        return self._key is not None

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._key is None:
                self._key = self._make()
        return getattr(self._key, name)


def _deferred(original: Callable[[str], Any], key_spec: str) -> DeferredPrivateKey:
    return DeferredPrivateKey(lambda: original(key_spec))


@functools.cache
def _service_modules(original: Callable[[], Iterable[str]]) -> frozenset[str]:
    """The service modules of moto's package (which does not change while the process runs)."""
    return frozenset(original())


Lookup = Callable[[Any, str], None]


def _create_unless_there(original: Lookup, backend: BackendDict[Any], account_id: str) -> None:
    registered: list[Any] = BackendDict._instances  # type: ignore[misc]
    if account_id in backend and any(known is backend for known in registered):
        return
    original(backend, account_id)


_LIBYAML: Any = getattr(yaml, "CLoader", yaml.Loader)  # CLoader exists only when PyYAML has libyaml


class LibyamlLoader(_LIBYAML):  # type: ignore[misc]
    """libyaml's parser with ``yaml.Loader``'s constructors and resolvers as they are now.

    ``yaml.Loader`` and ``yaml.CLoader`` share their ``Constructor`` and ``Resolver``
    classes; only the parser differs. A constructor registered on ``yaml.Loader``
    alone (moto's tag constructor) is used here too. (Without libyaml this is a plain
    ``yaml.Loader``, and ``install`` does not use it.)
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        for table in ("yaml_constructors", "yaml_multi_constructors", "yaml_implicit_resolvers", "yaml_path_resolvers"):
            setattr(self, table, getattr(yaml.Loader, table))


def _parsed_by_libyaml(original: Callable[..., Any], stream: Any, Loader: Any = None) -> Any:  # noqa: N803
    return original(stream, LibyamlLoader if Loader is yaml.Loader else Loader)
