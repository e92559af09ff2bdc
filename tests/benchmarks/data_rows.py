"""Data-layer rows: bulk write and read a day, ``DigestStore`` against boto3's own helpers.

The items are ``sample_digest`` items of one day (title, url, source, summary, score,
tags, created_at). The baseline gets the very same attributes as plain Python values
(``str``, ``Decimal`` score, ``list`` tags, ISO ``created_at``), built before timing,
and ``setup`` checks that both sides store identical attribute maps.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from boto3.dynamodb.types import TypeDeserializer

from src.database.aws.target import Target
from src.database.client import DynamoDBClient
from src.database.settings import ClientSettings

from .harness import BenchmarkError, Row, Sample, count_calls, timed

try:
    from src.database import DigestItem, DigestStore
    from src.database.data.sample import sample_digest
except ImportError as _error:  # the data layer is written concurrently; rows report it as skipped
    _MISSING: str | None = f"the data layer is not importable ({_error})"
else:
    _MISSING = None

DAY = date(2026, 11, 26)
_DESERIALIZER = TypeDeserializer()
_QUERY = {
    "KeyConditionExpression": "#pk = :day",
    "ExpressionAttributeNames": {"#pk": "digest_date"},
    "ExpressionAttributeValues": {":day": {"S": DAY.isoformat()}},
    "ConsistentRead": True,
}


def plain(item: DigestItem) -> dict[str, Any]:
    """The item as the plain Python values boto3's resource API takes (same attributes as the store writes)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.to_dynamodb().items()}


class _DataRow(Row):
    """Shared set-up: the items, fresh tables, and counting what a table holds."""

    def unavailable(self) -> str | None:
        """Skipped while the data layer is missing."""
        return _MISSING

    def setup(self) -> None:
        """Build the items once (untimed): ``DigestItem`` for the project, dicts for boto3."""
        self.items = sample_digest(DAY, self.bench.sizes.items)
        self.plain_items = [plain(item) for item in self.items]
        self.expected_ids = sorted(item.item_id for item in self.items)

    def units(self) -> tuple[int, str]:
        """One sample is ``items`` items."""
        return len(self.items), "item"

    def fresh_table(self) -> str:
        """A new empty table with the template's keys (untimed)."""
        name = f"bench-{uuid.uuid4().hex[:12]}"
        self.bench.create_table(name)
        return name

    @property
    def data_url(self) -> str:
        """Where both sides' timed requests go: the endpoint (a latency proxy in front of it in one row)."""
        return self.bench.url

    def project_store(self, table: str) -> DigestStore:
        """A store on a new ``DynamoDBClient`` whose boto3 client is already built (untimed)."""
        # boto3's own 60 s read timeout, as on the baseline side: moto answers a 1 MB Query page slowly
        settings = ClientSettings(read_timeout=60.0)
        client = DynamoDBClient.for_target(Target.local(self.data_url, self.bench.region, settings), table_name=table)
        client.client  # noqa: B018 - build the lazy boto3 client outside the timed part
        return DigestStore(client)

    def stored(self, table: str) -> list[dict[str, Any]]:
        """Every raw item of the day in ``table``, in key order (untimed checks)."""
        paginator = self.bench.admin("dynamodb").get_paginator("query")
        return [item for page in paginator.paginate(TableName=table, **_QUERY) for item in page["Items"]]

    def count(self, table: str) -> int:
        """How many items of the day ``table`` holds (untimed checks)."""
        paginator = self.bench.admin("dynamodb").get_paginator("query")
        return sum(page["Count"] for page in paginator.paginate(TableName=table, Select="COUNT", **_QUERY))


class BulkWrite(_DataRow):
    """``DigestStore.put_many`` against boto3's ``Table.batch_writer()``, each into a fresh table."""

    name = "bulk-write"
    title = "bulk write"
    cpu_source = "benchmark process, all threads: the writers and the in-process server"
    counts_calls: ClassVar[bool] = True
    project = "DigestStore.put_many(items) (BatchWriteItem, 25 per request, unprocessed retried)"
    baseline = (
        "boto3 resource API: `with Table.batch_writer() as w: w.put_item(Item=d)` for the same items as dicts "
        "(batches of 25, unprocessed re-sent)"
    )

    def setup(self) -> None:
        """Items, then a check on a few of them that both sides store identical attribute maps."""
        super().setup()
        probe = self.items[:3]
        project_table, baseline_table = self.fresh_table(), self.fresh_table()
        self.project_store(project_table).put_many(probe)
        self._batch_write(baseline_table, self.plain_items[:3])
        project_stored, baseline_stored = self.stored(project_table), self.stored(baseline_table)
        if project_stored != baseline_stored or len(project_stored) != len(probe):
            raise BenchmarkError(
                f"the two sides store different items: {project_stored[:1]!r} versus {baseline_stored[:1]!r}"
            )
        for table in (project_table, baseline_table):
            self.bench.delete_table(table)

    def warm_up(self) -> None:
        """One small run per side (first-use costs: resource model, serializer paths)."""
        self._project(self.items[:100])
        self._baseline(self.plain_items[:100])

    def _batch_write(self, table_name: str, items: list[dict[str, Any]]) -> None:
        table = self.bench.session().resource("dynamodb", endpoint_url=self.data_url).Table(table_name)
        with table.batch_writer() as writer:
            for item in items:
                writer.put_item(Item=item)

    def _checked(self, table: str, expected: int) -> None:
        found = self.count(table)
        self.bench.delete_table(table)
        if found != expected:
            raise BenchmarkError(f"{table} holds {found} items after writing {expected}")

    def _project(self, items: list[DigestItem], concurrency: int | None = None) -> Sample:
        table = self.fresh_table()
        store = self.project_store(table)
        written, sample = timed(lambda: store.put_many(items, concurrency=concurrency), all_threads=True)
        if written != len(items):
            raise BenchmarkError(f"put_many reported {written} of {len(items)} items written")
        self._checked(table, len(items))
        return sample

    def _baseline(self, items: list[dict[str, Any]]) -> Sample:
        name = self.fresh_table()
        table = self.bench.session().resource("dynamodb", endpoint_url=self.data_url).Table(name)

        def work() -> None:
            with table.batch_writer() as writer:
                for item in items:
                    writer.put_item(Item=item)

        _, sample = timed(work, all_threads=True)
        self._checked(name, len(items))
        return sample

    def run_project(self) -> Sample:
        """Time ``put_many`` of every item into a fresh table (client built, no request sent yet)."""
        return self._project(self.items)

    def run_baseline(self) -> Sample:
        """Time ``batch_writer`` of every item into a fresh table (resource built, no request sent yet)."""
        return self._baseline(self.plain_items)

    def call_counts(self) -> tuple[int, int] | None:
        """cProfile sees one thread: the project's side is counted with ``concurrency=1``, all in this thread."""
        if not self.counts_calls:
            return None
        return count_calls(lambda: self._project(self.items, concurrency=1)), count_calls(self.run_baseline)

    def notes(self) -> list[str]:
        """What both sides send, and how the project's calls were counted."""
        requests = -(-len(self.items) // 25)
        notes = [
            f"both sides send {requests} BatchWriteItem requests of up to 25 puts; the project's first call on a "
            "new client adds one DescribeTable (its table check)",
        ]
        if self.bench.sizes.diagnostics and self.counts_calls:
            notes.append(
                "the project's Python calls are counted with put_many(concurrency=1), which sends the same requests "
                "from the calling thread (cProfile sees one thread; the timed runs use 8 writer threads)"
            )
        return notes


class ReadDay(_DataRow):
    """``DigestStore.day`` against boto3's query paginator with ``TypeDeserializer``."""

    name = "read-day"
    title = "read a day"
    project = "DigestStore.day(date) -> list[DigestItem] (Query, follows LastEvaluatedKey)"
    baseline = (
        'client.get_paginator("query").paginate(same key condition, ConsistentRead=True), each item turned '
        "into a dict of Python values with TypeDeserializer().deserialize per attribute"
    )

    def setup(self) -> None:
        """One table holding the day's items, written untimed with boto3."""
        super().setup()
        self.table = self.fresh_table()
        table = self.bench.session().resource("dynamodb", endpoint_url=self.bench.url).Table(self.table)
        with table.batch_writer() as writer:
            for item in self.plain_items:
                writer.put_item(Item=item)

    def warm_up(self) -> None:
        """One full run per side."""
        self.run_project()
        self.run_baseline()

    def _check(self, ids: list[str], who: str) -> None:
        if ids != self.expected_ids:
            raise BenchmarkError(f"{who} returned {len(ids)} items, expected {len(self.expected_ids)} in key order")

    def run_project(self) -> Sample:
        """Time ``day()`` on a new client (boto3 client built, no request sent yet)."""
        store = self.project_store(self.table)
        items, sample = timed(lambda: store.day(DAY))
        self._check([item.item_id for item in items], "DigestStore.day")
        return sample

    def run_baseline(self) -> Sample:
        """Time the paginated query and the deserialization on a new boto3 client."""
        client = self.bench.new_client("dynamodb")
        table = self.table

        def work() -> list[dict[str, Any]]:
            deserialize = _DESERIALIZER.deserialize
            rows = []
            for page in client.get_paginator("query").paginate(TableName=table, **_QUERY):
                rows.extend({name: deserialize(value) for name, value in item.items()} for item in page["Items"])
            return rows

        rows, sample = timed(work)
        self._check([row["item_id"] for row in rows], "the query paginator")
        return sample

    def notes(self) -> list[str]:
        """How many pages the day takes (moto applies DynamoDB's 1 MB page limit)."""
        paginator = self.bench.admin("dynamodb").get_paginator("query")
        pages = sum(1 for _ in paginator.paginate(TableName=self.table, **_QUERY))
        return [
            f"the day is {pages} Query page(s); the project also builds a DigestItem per item (one "
            "deserialization pass: numbers to int/float, created_at to a datetime; cheap type checks instead of "
            "re-validating what was validated on write) and checks the table once per new client (one DescribeTable)",
        ]

    def teardown(self) -> None:
        """Drop the table."""
        self.bench.delete_table(self.table)
