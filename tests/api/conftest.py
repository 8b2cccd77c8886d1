"""A small published lake in tmp_path, written with pyarrow the way the pipeline lays it out."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from indexlake.api.app import create_app
from indexlake.config import Settings
from indexlake.lake.schemas import (
    ALLOCATIONS,
    INDEX_LEVELS,
    PRICES,
    REBALANCE_ORDERS,
    RISK_METRICS,
    Dataset,
)
from indexlake.risk.report import risk_metrics

# Trading days straddling a year boundary (prices are partitioned by year); 2024-01-01 is a
# holiday, and the benchmark has no bar on 2024-01-10 (a data gap the comparison must skip).
DATES = [
    d.date() for d in pd.bdate_range("2023-12-20", "2024-01-31") if d.date() != dt.date(2024, 1, 1)
]
BENCHMARK_GAP = dt.date(2024, 1, 10)
REBALANCES = [dt.date(2023, 12, 20), dt.date(2024, 1, 2)]
SYMBOLS = ["AAA", "BBB", "CCC"]
STRATEGY_TOML = """\
id = "alpha"
name = "Alpha Top 3"
description = "Three names, capped market cap."
benchmark = "NDX"
rebalance = "monthly"
selection = { type = "top_n", n = 3 }
weighting = { type = "capped_market_cap", cap = 0.5 }
"""


@dataclass(frozen=True)
class LakeBuilder:
    """Writes partitions under one lake root; its constants describe the standard lake."""

    root: Path
    dates: tuple[dt.date, ...] = tuple(DATES)
    rebalances: tuple[dt.date, ...] = tuple(REBALANCES)
    symbols: tuple[str, ...] = tuple(SYMBOLS)
    benchmark_gap: dt.date = BENCHMARK_GAP

    def write_partition(self, dataset: Dataset, value: object, rows: dict[str, list[Any]]) -> Path:
        """Publish one partition file atomically: temp name outside the glob, then os.replace."""
        directory = self.root / dataset.name / f"{dataset.partition}={value}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pydict(rows, schema=dataset.schema)
        target = directory / "part-0.parquet"
        tmp = directory / ".part-0.parquet.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return target

    @staticmethod
    def level_series(seed: int, dates: list[dt.date], base: float) -> pd.Series:
        """A random-walk level series on the given dates."""
        rng = np.random.default_rng(seed)
        return pd.Series(base * np.cumprod(1 + rng.normal(0.0005, 0.01, len(dates))), index=dates)

    @staticmethod
    def level_rows(levels: pd.Series) -> dict[str, list[Any]]:
        """index_levels columns for a level series."""
        returns = levels.pct_change()
        return {
            "date": list(levels.index),
            "level": levels.tolist(),
            "daily_return": [None if np.isnan(r) else r for r in returns],
            "divisor": [1e6] * len(levels),
            "constituents": [len(SYMBOLS)] * len(levels),
            "is_rebalance": [d in REBALANCES for d in levels.index],
        }

    def build(self) -> dict[str, pd.Series]:
        """Publish levels, allocations, orders, risk and prices for strategies alpha and 2024."""
        levels = {
            "alpha": self.level_series(1, DATES, 1000.0),
            "2024": self.level_series(2, DATES, 500.0),
        }
        closes = {
            s: self.level_series(10 + i, DATES, 50.0 * (i + 1)) for i, s in enumerate(SYMBOLS)
        }
        closes["SPX"] = self.level_series(20, DATES, 4700.0)
        closes["NDX"] = self.level_series(21, DATES, 16000.0)

        for year in (2023, 2024):
            rows: dict[str, list[Any]] = {c: [] for c in PRICES.columns}
            for symbol, series in closes.items():
                for day, close in series.items():
                    if day.year != year or (symbol in {"SPX", "NDX"} and day == BENCHMARK_GAP):
                        continue
                    rows["date"].append(day)
                    rows["symbol"].append(symbol)
                    for col in ("open", "high", "low", "close"):
                        rows[col].append(close)
                    rows["volume"].append(1_000)
            self.write_partition(PRICES, year, rows)

        for strategy_id, series in levels.items():
            self.write_partition(INDEX_LEVELS, strategy_id, self.level_rows(series))
            alloc: dict[str, list[Any]] = {c: [] for c in ALLOCATIONS.columns}
            for day in DATES:
                values = {s: closes[s][day] * (i + 1) for i, s in enumerate(SYMBOLS)}
                total = sum(values.values())
                for i, symbol in enumerate(SYMBOLS):
                    alloc["date"].append(day)
                    alloc["symbol"].append(symbol)
                    alloc["weight"].append(values[symbol] / total)
                    alloc["index_shares"].append(float(i + 1))
                    alloc["close"].append(closes[symbol][day])
            self.write_partition(ALLOCATIONS, strategy_id, alloc)
            orders: dict[str, list[Any]] = {c: [] for c in REBALANCE_ORDERS.columns}
            for n, day in enumerate(REBALANCES):
                for i, symbol in enumerate(SYMBOLS):
                    orders["rebalance_date"].append(day)
                    orders["symbol"].append(symbol)
                    orders["side"].append("buy" if (i + n) % 2 == 0 else "sell")
                    orders["quantity"].append(10.0 * (i + 1))
                    orders["price"].append(closes[symbol][day])
                    orders["notional"].append(10.0 * (i + 1) * closes[symbol][day])
                    # The last rebalance adds SYMBOLS[0] and drops SYMBOLS[1].
                    last = n == len(REBALANCES) - 1
                    orders["weight_before"].append(0.0 if last and i == 0 else 0.3)
                    orders["weight_after"].append(0.0 if last and i == 1 else 1 / 3)
            self.write_partition(REBALANCE_ORDERS, strategy_id, orders)

        # Risk rows as the pipeline computes them; a 28-day history has NaN-free metrics.
        report = risk_metrics(
            levels["alpha"], closes["NDX"].drop(BENCHMARK_GAP), benchmark_symbol="NDX"
        )
        table = pa.Table.from_pandas(report, schema=RISK_METRICS.schema, preserve_index=False)
        self.write_partition(RISK_METRICS, "alpha", table.to_pydict())
        return {**levels, **closes}


def make_settings(tmp_path: Path) -> Settings:
    """Settings whose data and strategy directories live in tmp_path."""
    strategies = tmp_path / "strategies"
    strategies.mkdir(exist_ok=True)
    return Settings(data_dir=tmp_path / "data", strategies_dir=strategies)


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No indexlake.toml or INDEXLAKE_* variables from the developer's shell leak in."""
    for name in list(os.environ):
        if name.startswith("INDEXLAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INDEXLAKE_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings over an empty lake, with alpha's strategy file in place."""
    settings = make_settings(tmp_path)
    (settings.strategies_dir / "alpha.toml").write_text(STRATEGY_TOML)
    return settings


@pytest.fixture
def builder(settings: Settings) -> LakeBuilder:
    """A writer for partitions under the settings' lake root."""
    return LakeBuilder(settings.lake_root)


@pytest.fixture
def lake(builder: LakeBuilder) -> dict[str, pd.Series]:
    """The published lake; returns the level and close series it was built from."""
    return builder.build()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient on the app (the lake is whatever the test has published)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
