"""Read-only access to the published Parquet lake for the API.

Every query runs on its own cursor of a private in-memory DuckDB database, over the Parquet
files themselves, never on the pipeline's catalog file, so a request cannot collide with the
writer's lock (docs/stack.md: one read-write process *or* many readers per database file).
A cursor costs ~0.5 ms where a new in-memory connection costs ~35 ms. The pipeline
publishes a partition by writing a temp file that the ``*.parquet`` glob does not match and
``os.replace``-ing it, so a listing only ever sees complete files.

SQL lives here as constants; only the file lists and request values are bound as parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

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

# Partition columns typed explicitly: hive inference would read strategy_id=2024 as an integer.
_BY_STRATEGY = "hive_partitioning = true, hive_types = {'strategy_id': VARCHAR}"
_BY_YEAR = "hive_partitioning = true, hive_types = {'year': INTEGER}"
# Parameters cast to DATE: an unset (NULL) parameter has no type of its own.
_DATE_RANGE = "($start IS NULL OR date >= $start::DATE) AND ($end IS NULL OR date <= $end::DATE)"

SQL_LATEST_DATE = f"""
SELECT max(date) AS latest_date
FROM read_parquet($levels, {_BY_STRATEGY})
"""

SQL_STRATEGY_SUMMARIES = f"""
SELECT strategy_id, min(date) AS first_date, max(date) AS last_date,
       arg_max(level, date) AS latest_level
FROM read_parquet($levels, {_BY_STRATEGY})
GROUP BY strategy_id
ORDER BY strategy_id
"""

SQL_LEVELS = f"""
SELECT date, level, daily_return, divisor, constituents, is_rebalance
FROM read_parquet($levels, {_BY_STRATEGY})
WHERE strategy_id = $strategy_id AND {_DATE_RANGE}
ORDER BY date
"""

# The latest allocation date on or before $on (or the latest overall), and its weights.
SQL_ALLOCATIONS = f"""
WITH allocations AS (
    SELECT date, symbol, weight, index_shares, close
    FROM read_parquet($allocations, {_BY_STRATEGY})
    WHERE strategy_id = $strategy_id
),
served AS (
    SELECT max(date) AS date FROM allocations WHERE $on IS NULL OR date <= $on::DATE
)
SELECT a.date, a.symbol, a.weight, a.index_shares, a.close
FROM allocations AS a JOIN served USING (date)
ORDER BY a.weight DESC, a.symbol
"""

SQL_ORDERS = f"""
WITH orders AS (
    SELECT rebalance_date, symbol, side, quantity, price, notional, weight_before, weight_after
    FROM read_parquet($orders, {_BY_STRATEGY})
    WHERE strategy_id = $strategy_id
),
served AS (
    SELECT max(rebalance_date) AS rebalance_date
    FROM orders WHERE $on IS NULL OR rebalance_date <= $on::DATE
)
SELECT o.*
FROM orders AS o JOIN served USING (rebalance_date)
ORDER BY o.notional DESC, o.symbol
"""

SQL_RISK = f"""
SELECT subject, symbol, "window", start_date, end_date, observations, annualised_return,
       annualised_volatility, sharpe, max_drawdown, beta, tracking_error, var_95_historical
FROM read_parquet($risk, {_BY_STRATEGY})
WHERE strategy_id = $strategy_id
ORDER BY subject DESC, "window"
"""

# Strategy level and benchmark close on their common dates, both rebased at the first one.
SQL_VS_BENCHMARK = f"""
WITH strategy AS (
    SELECT date, level
    FROM read_parquet($levels, {_BY_STRATEGY})
    WHERE strategy_id = $strategy_id AND {_DATE_RANGE}
),
benchmark AS (
    SELECT date, close
    FROM read_parquet($prices, {_BY_YEAR})
    WHERE symbol = $symbol AND {_DATE_RANGE}
      AND ($start IS NULL OR year >= year($start::DATE))
      AND ($end IS NULL OR year <= year($end::DATE))
),
joined AS (
    SELECT date, s.level, b.close,
           $rebase * s.level / first_value(s.level) OVER (ORDER BY date) AS strategy_rebased,
           $rebase * b.close / first_value(b.close) OVER (ORDER BY date) AS benchmark_rebased
    FROM strategy AS s JOIN benchmark AS b USING (date)
)
SELECT date, level AS strategy_level, close AS benchmark_close, strategy_rebased,
       benchmark_rebased, strategy_rebased / benchmark_rebased - 1 AS relative_performance
FROM joined
ORDER BY date
"""


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

    def files(self, dataset: Dataset) -> list[str]:
        """The published Parquet files of a dataset, sorted (empty if none yet)."""
        directory = self.lake_root / dataset.name
        if not directory.is_dir():
            return []
        return sorted(str(p) for p in directory.glob(PARQUET_GLOB) if p.is_file())

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
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts; ``datasets`` binds each file-list parameter to a dataset.

        A dataset with no files yet yields no rows (no query is run), not an error.
        """
        for attempt in range(1, READ_ATTEMPTS + 1):
            bound: dict[str, Any] = dict(params or {})
            for name, dataset in datasets.items():
                bound[name] = self.files(dataset)
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

    def latest_date(self) -> dt.date | None:
        """The latest date with a published index level, any strategy."""
        rows = self.query(SQL_LATEST_DATE, {"levels": INDEX_LEVELS})
        return rows[0]["latest_date"] if rows else None

    def strategy_summaries(self) -> list[dict[str, Any]]:
        """Per published strategy: first/last date and the latest level."""
        return self.query(SQL_STRATEGY_SUMMARIES, {"levels": INDEX_LEVELS})

    def levels(
        self, strategy_id: str, start: dt.date | None, end: dt.date | None
    ) -> list[dict[str, Any]]:
        """Index levels of one strategy between start and end (inclusive, open if None)."""
        params = {"strategy_id": strategy_id, "start": start, "end": end}
        return self.query(SQL_LEVELS, {"levels": INDEX_LEVELS}, params)

    def allocations(self, strategy_id: str, on: dt.date | None) -> list[dict[str, Any]]:
        """Weights at the latest allocation date on or before ``on`` (latest if None)."""
        params = {"strategy_id": strategy_id, "on": on}
        return self.query(SQL_ALLOCATIONS, {"allocations": ALLOCATIONS}, params)

    def orders(self, strategy_id: str, on: dt.date | None) -> list[dict[str, Any]]:
        """Orders of the latest rebalance on or before ``on`` (latest if None)."""
        params = {"strategy_id": strategy_id, "on": on}
        return self.query(SQL_ORDERS, {"orders": REBALANCE_ORDERS}, params)

    def risk(self, strategy_id: str) -> list[dict[str, Any]]:
        """Published risk metrics rows of one strategy (strategy rows first)."""
        return self.query(SQL_RISK, {"risk": RISK_METRICS}, {"strategy_id": strategy_id})

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
        return self.query(SQL_VS_BENCHMARK, {"levels": INDEX_LEVELS, "prices": PRICES}, params)
