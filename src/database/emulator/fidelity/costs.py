"""The cost ``kms-key-pair``: work moto's server does that answers nothing.

moto's ``Key`` generates a 2,048-bit RSA private key for every key, symmetric ones
included (AWS's symmetric keys have no key pair at all). A table created with SSE
gets DynamoDB's default ``aws/dynamodb`` key, so every first table after a reset of
the server waits for a key pair nobody uses. Inside a served request the pair is
made on first use (sign, verify, public key) instead, with the same answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.kms import models

from .scope import patch


def install() -> None:
    """Defer moto's key-pair generation to first use (inside served requests)."""
    patch(models, "generate_private_key", "kms-key-pair", _deferred)


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
