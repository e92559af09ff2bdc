"""One botocore data loader for the sessions moto builds while the fidelity layer imports it (cost "region-list").

Used only by ``costs.sessions_share_one_loader``; the package's own clients build their
sessions the stock way.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import IO, Any

import botocore.loaders


@functools.cache
def shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    """One botocore data loader per data path: each model and ``endpoints.json`` is parsed once."""
    loader = botocore.loaders.create_loader(data_path)
    loader.file_loader = PlainJSONFileLoader()
    return loader


class PlainJSONFileLoader(botocore.loaders.JSONFileLoader):  # type: ignore[misc]
    """botocore's JSON file loader, building plain dicts (same keys, same order) where botocore builds ordered ones.

    Plain dicts parse in about half the time, and moto's import parses EC2's large model.
    """

    def _load_file(self, full_path: str, open_method: Callable[..., IO[bytes]]) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as file:
            return json.loads(file.read().decode("utf-8"))
