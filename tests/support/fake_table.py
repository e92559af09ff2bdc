"""``FakeTable``: an in-memory DynamoDB table behind a real botocore client's interface.

For data-layer tests that need exact control over ``BatchWriteItem`` answers
(unprocessed items, failures, requests that must meet) and a count of requests,
without an endpoint.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TABLE = "VibeDigest-dev"
Key = tuple[str, str]


def key_of(request: dict[str, Any]) -> Key:
    """The key a put or delete request of a batch is for."""
    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    return body["digest_date"]["S"], body["item_id"]["S"]


class FakeTable:
    """A DynamoDB table in memory behind a real botocore client's interface.

    ``hold_back(call, requests)`` returns the requests to answer as unprocessed;
    ``before_answer(call)`` runs inside each request (to make requests meet);
    ``fail_on_call`` (a call number, or a test of it) raises ``fail_with`` (an AWS error
    code and HTTP status; a ServiceUnavailable 503 unless given) on that request,
    before applying any of it.
    """

    def __init__(
        self,
        *,
        hold_back: Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
        before_answer: Callable[[int], None] | None = None,
        fail_on_call: int | Callable[[int], bool] | None = None,
        fail_with: tuple[str, int] = ("ServiceUnavailable", 503),
        pool: int = 10,
    ) -> None:
        self._real = boto3.client(
            "dynamodb", region_name="us-east-1", config=Config(max_pool_connections=pool),
            aws_access_key_id="testing", aws_secret_access_key="testing",  # never used: no request leaves
        )
        self._hold_back = hold_back or (lambda call, requests: [])
        self._before_answer = before_answer or (lambda call: None)
        self._fail_on_call = fail_on_call
        self._fail_with = fail_with
        self._lock = threading.Lock()
        self.calls = 0  # BatchWriteItem requests
        self.requests = 0  # requests of any operation
        self.active = self.most_active = 0
        self.applied: dict[Key, int] = {}  # key -> how many times a request for it took effect

    @property
    def meta(self) -> Any:
        return self._real.meta

    def describe_table(self, **_: Any) -> dict[str, Any]:
        """The table exists (``DynamoDBClient``'s one table check)."""
        with self._lock:
            self.requests += 1
        return {"Table": {"TableName": TABLE}}

    def __getattr__(self, operation: str) -> Any:
        """Any other operation is counted and answered with an empty response."""
        if operation.startswith("_"):
            raise AttributeError(operation)

        def answer(**_: Any) -> dict[str, Any]:
            with self._lock:
                self.requests += 1
            return {}

        return answer

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        with self._lock:
            self.calls += 1
            self.requests += 1
            call = self.calls
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            self._before_answer(call)
            failing = self._fail_on_call
            if call == failing or (callable(failing) and failing(call)):
                code, status = self._fail_with
                raise ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                                  "BatchWriteItem")
            held = self._hold_back(call, requests)
            with self._lock:
                for request in requests:
                    if request not in held:
                        self.applied[key_of(request)] = self.applied.get(key_of(request), 0) + 1
            return {"UnprocessedItems": {table: held} if held else {}}
        finally:
            with self._lock:
                self.active -= 1
