"""Read-only access to the published Parquet lake for the API.

Every query runs on its own cursor of a private in-memory DuckDB database, over the Parquet
files themselves, never on the pipeline's catalog file, so a request cannot collide with the
writer's lock (docs/stack.md: one read-write process *or* many readers per database file).
A cursor costs ~0.5 ms where a new in-memory connection costs ~35 ms. The pipeline
publishes a partition by writing a temp file that the ``*.parquet`` glob does not match and
``os.replace``-ing it, so a listing only ever sees complete files.

The SQL is in ``sql/api_*.sql``; only the file lists and request values are bound as parameters
(partition columns are typed explicitly there: hive inference would read strategy_id=2024 as an
integer).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from indexlake.lake.query import load_sql
from indexlake.lake.schemas import (
    ALLOCATIONS,
    INDEX_LEVELS,
    PRICES,
    REBALANCE_ORDERS,
    RISK_METRICS,
    Dataset,
)

log = logging.getLogger(__name__)

PARQUET_GLOB = "*/*.parquet"
# A file can vanish between listing and reading (a partition dropped mid-request): list again.
READ_ATTEMPTS = 2
# Rebasing convention for benchmark comparisons: both series start at this value.
REBASE_VALUE = 100.0


def _finite(value: Any) -> Any:
    """NaN/inf floats as None: JSON has no NaN, and the API says "no value" with null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class LakeReader:
    """Queries over the hive-partitioned Parquet datasets under one lake root."""

    def __init__(self, lake_root: Path) -> None:
        self.lake_root = Path(lake_root)
        self._db: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def _database(self) -> duckdb.DuckDBPyConnection:
        """The private in-memory database, opened on first use (again after ``close``)."""
        with self._lock:
            if self._db is None:
                # No cross-request file cache: a partition replaced by os.replace is read afresh.
                self._db = duckdb.connect(":memory:", config={"enable_external_file_cache": False})
            return self._db

    def close(self) -> None:
        """Release the in-memory database."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def files(self, dataset: Dataset, exclude: Collection[str] = ()) -> list[str]:
        """The published Parquet files of a dataset, sorted (empty if none yet), without the
        partitions whose value is in ``exclude``."""
        directory = self.lake_root / dataset.name
        if not directory.is_dir():
            return []
        skip = {f"{dataset.partition}={value}" for value in exclude}
        return sorted(
            str(p)
            for p in directory.glob(PARQUET_GLOB)
            if p.is_file() and p.parent.name not in skip
        )

    def partitions(self, dataset: Dataset) -> set[str]:
        """Partition values (from ``<column>=<value>`` directory names) that hold files."""
        prefix = f"{dataset.partition}="
        return {
            Path(f).parent.name.removeprefix(prefix)
            for f in self.files(dataset)
            if Path(f).parent.name.startswith(prefix)
        }

    def datasets_present(self, datasets: Sequence[Dataset]) -> list[str]:
        """Names of the datasets with at least one published file."""
        return [d.name for d in datasets if self.files(d)]

    def query(
        self,
        sql: str,
        datasets: Mapping[str, Dataset],
        params: Mapping[str, Any] | None = None,
        exclude: Collection[str] = (),
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts; ``datasets`` binds each file-list parameter to a dataset
        (without the partitions whose value is in ``exclude``).

        A dataset with no files yet yields no rows (no query is run), not an error.
        """
        for attempt in range(1, READ_ATTEMPTS + 1):
            bound: dict[str, Any] = dict(params or {})
            for name, dataset in datasets.items():
                bound[name] = self.files(dataset, exclude)
            if any(not files for files in (bound[name] for name in datasets)):
                return []
            try:
                # A cursor per query: its own connection to the shared database, thread-safe.
                with self._database().cursor() as con:
                    cursor = con.execute(sql, bound)
                    columns = [c[0] for c in cursor.description]
                    return [
                        {c: _finite(v) for c, v in zip(columns, row, strict=True)}
                        for row in cursor.fetchall()
                    ]
            except duckdb.IOException:
                if attempt == READ_ATTEMPTS:
                    raise
                log.warning("lake files changed while reading; listing again", exc_info=True)
        raise AssertionError("unreachable")

    # Named queries: one per endpoint, so the SQL and its parameters stay together.

    def latest_date(self, exclude: Collection[str] = ()) -> dt.date | None:
        """The latest date with a published index level, any strategy not in ``exclude``."""
        rows = self.query(load_sql("api_latest_date"), {"levels": INDEX_LEVELS}, exclude=exclude)
        return rows[0]["latest_date"] if rows else None

    def strategy_summaries(self) -> list[dict[str, Any]]:
        """Per published strategy: first/last date and the latest level."""
        return self.query(load_sql("api_strategy_summaries"), {"levels": INDEX_LEVELS})

    def levels(
        self, strategy_id: str, start: dt.date | None, end: dt.date | None
    ) -> list[dict[str, Any]]:
        """Index levels of one strategy between start and end (inclusive, open if None)."""
        params = {"strategy_id": strategy_id, "start": start, "end": end}
        return self.query(load_sql("api_levels"), {"levels": INDEX_LEVELS}, params)

    def allocations(self, strategy_id: str, on: dt.date | None) -> list[dict[str, Any]]:
        """Weights at the latest allocation date on or before ``on`` (latest if None)."""
        params = {"strategy_id": strategy_id, "on": on}
        return self.query(load_sql("api_allocations"), {"allocations": ALLOCATIONS}, params)

    def orders(self, strategy_id: str, on: dt.date | None) -> list[dict[str, Any]]:
        """Orders of the latest rebalance on or before ``on`` (latest if None)."""
        params = {"strategy_id": strategy_id, "on": on}
        return self.query(load_sql("api_orders"), {"orders": REBALANCE_ORDERS}, params)

    def risk(self, strategy_id: str) -> list[dict[str, Any]]:
        """Published risk metrics rows of one strategy (strategy rows first)."""
        return self.query(
            load_sql("api_risk"), {"risk": RISK_METRICS}, {"strategy_id": strategy_id}
        )

    def benchmark_used(self, strategy_id: str) -> str | None:
        """The benchmark symbol named by the strategy's published risk rows, if any."""
        rows = self.query(
            load_sql("api_benchmark_used"), {"risk": RISK_METRICS}, {"strategy_id": strategy_id}
        )
        return rows[0]["symbol"] if rows else None

    def vs_benchmark(
        self, strategy_id: str, symbol: str, start: dt.date | None, end: dt.date | None
    ) -> list[dict[str, Any]]:
        """Strategy vs benchmark on common dates, rebased to ``REBASE_VALUE`` at the first."""
        params = {
            "strategy_id": strategy_id,
            "symbol": symbol,
            "start": start,
            "end": end,
            "rebase": REBASE_VALUE,
        }
        return self.query(
            load_sql("api_vs_benchmark"), {"levels": INDEX_LEVELS, "prices": PRICES}, params
        )
