"""Compute: index levels, allocations, orders and risk of each strategy from the landed lake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from indexlake.calendar import trading_days
from indexlake.lake.partitions import write_partition
from indexlake.lake.query import query_arrow
from indexlake.lake.schemas import (
    ALLOCATIONS,
    INDEX_LEVELS,
    REBALANCE_ORDERS,
    RISK_METRICS,
    ROLLING_SERIES,
    STRESS_TESTS,
)
from indexlake.methodology.engine import IndexResult, compute_index
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.risk_outputs import strategy_risk_outputs
from indexlake.risk.report import risk_metrics
from indexlake.risk.settings import RiskSettings

# Every landed date is read; the daily refresh may then append to a strategy rather than
# recompute it (daily_compute.py).
ALL_DATES = (date(1900, 1, 1), date(2100, 12, 31))


@dataclass
class Panel:
    """Wide daily closes and market caps of the universe plus benchmark closes.

    Covers the contiguous run of landed sessions that ends at the latest one; ``gaps`` lists
    the ranges of sessions missing before it (history before a gap is not used).
    """

    closes: pd.DataFrame
    market_caps: pd.DataFrame
    benchmarks: pd.DataFrame
    gaps: list[tuple[date, date]] = field(default_factory=list)
    # Daily traded shares of the universe (same grid as closes), for liquidity filters.
    volumes: pd.DataFrame | None = None
    # Cash dividends per share by ex-date (same grid as closes, NaN = none), split-adjusted on
    # the closes' basis, for total-return indexes.
    dividends: pd.DataFrame | None = None


def session_gaps(dates: pd.DatetimeIndex) -> list[tuple[date, date]]:
    """Runs of NYSE sessions missing between the first and last of ``dates``."""
    if len(dates) < 2:
        return []
    sessions = trading_days(dates[0].date(), dates[-1].date())
    missing = sessions.difference(dates)
    if missing.empty:
        return []
    position = sessions.get_indexer(missing)
    breaks = np.flatnonzero(np.diff(position) != 1)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(missing) - 1]
    return [(missing[a].date(), missing[b].date()) for a, b in zip(starts, ends, strict=True)]


def _wide(long: pa.Table, value: str, symbols: list[str]) -> pd.DataFrame:
    """Long (date, symbol, value) rows scattered into a dates x symbols frame (NaN = no row)."""
    days = np.unique(long.column("date").to_numpy())
    present = set(pc.unique(long.column("symbol")).to_pylist())
    columns = [s for s in symbols if s in present]
    grid = np.full((len(days), len(columns)), np.nan)
    if long.num_rows:
        row = np.searchsorted(days, long.column("date").to_numpy())
        col_of = {s: i for i, s in enumerate(columns)}
        encoded = pc.dictionary_encode(long.column("symbol")).combine_chunks()
        lookup = np.array([col_of.get(s, -1) for s in encoded.dictionary.to_pylist()], dtype=int)
        col = lookup[encoded.indices.to_numpy()]
        keep = col >= 0
        grid[row[keep], col[keep]] = long.column(value).to_numpy(zero_copy_only=False)[keep]
    index = pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date")
    return pd.DataFrame(grid, index=index, columns=columns)


def load_panel(lake_root: Path, symbols: list[str], benchmarks: list[str]) -> Panel:
    """Read the universe's closes and market caps, and the benchmarks' closes, from the lake."""
    lo, hi = ALL_DATES
    prices = query_arrow(lake_root, "panel_prices", {"symbols": symbols, "start": lo, "end": hi})
    bench = query_arrow(lake_root, "panel_prices", {"symbols": benchmarks, "start": lo, "end": hi})
    caps = query_arrow(lake_root, "panel_market_caps", {"symbols": symbols, "start": lo, "end": hi})
    closes = _wide(prices, "close", symbols)
    gaps = session_gaps(closes.index)
    if gaps:
        closes = closes.loc[pd.Timestamp(gaps[-1][1]) + pd.Timedelta(days=1) :]
    bench = _wide(bench, "close", benchmarks).reindex(index=closes.index)
    market_caps = _wide(caps, "market_cap", symbols).reindex(index=closes.index)
    volumes = _wide(prices, "volume", symbols).reindex(index=closes.index)
    paid = query_arrow(lake_root, "panel_dividends", {"symbols": symbols, "start": lo, "end": hi})
    dividends = _wide(paid, "amount", symbols).reindex(index=closes.index, columns=closes.columns)
    return Panel(
        closes=closes,
        market_caps=market_caps,
        benchmarks=bench,
        gaps=gaps,
        volumes=volumes,
        dividends=dividends,
    )


@dataclass
class StrategyOutputs:
    """Everything published for one strategy."""

    strategy_id: str
    levels: pd.DataFrame
    allocations: pd.DataFrame
    orders: pd.DataFrame
    risk: pd.DataFrame
    # rolling_series and stress_tests rows, and the strategy_comparison row (published apart).
    rolling: pd.DataFrame = field(default_factory=pd.DataFrame)
    stress: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)


def benchmark_for(
    dates: pd.DatetimeIndex, benchmarks: pd.DataFrame, candidates: list[str]
) -> str | None:
    """The first candidate landed on every one of ``dates``, else the first landed at all."""
    landed = [c for c in candidates if c in benchmarks.columns]
    covered = benchmarks.reindex(index=dates).notna().all()
    complete = [c for c in landed if covered[c]]
    return (complete or landed or [None])[0]


def compute_strategy(
    strategy: Strategy,
    panel: Panel,
    fallbacks: list[str] | None = None,
    *,
    risk_settings: RiskSettings | None = None,
    sectors: Mapping[str, str] | None = None,
) -> StrategyOutputs:
    """Run the index engine and the risk metrics for one strategy.

    The benchmark is the strategy's own symbol, or the first of ``fallbacks`` (ETFs tracking
    it) that is landed over the strategy's dates; the risk rows name the one used.
    ``risk_settings`` (stress windows and shocks) and ``sectors`` (symbol -> sector label)
    feed the stress tests.
    """
    result = compute_index(
        strategy,
        panel.closes,
        panel.market_caps,
        dividends=panel.dividends,
        volumes=panel.volumes,
    )
    return strategy_outputs(
        strategy, result, panel, fallbacks, risk_settings=risk_settings, sectors=sectors
    )


def strategy_outputs(
    strategy: Strategy,
    result: IndexResult,
    panel: Panel,
    fallbacks: list[str] | None = None,
    *,
    risk_settings: RiskSettings | None = None,
    sectors: Mapping[str, str] | None = None,
) -> StrategyOutputs:
    """The published outputs of an engine result (whole history): the risk metrics, rolling
    and stress rows are computed from its full level series (see ``compute_strategy``)."""
    levels = result.levels.set_index("date")["level"]
    candidates = list(dict.fromkeys([strategy.benchmark, *(fallbacks or [])]))
    symbol = benchmark_for(levels.index, panel.benchmarks, candidates)
    if symbol is None:
        raise ValueError(
            f"strategy {strategy.id}: no landed prices for its benchmark "
            f"(tried {', '.join(candidates)})"
        )
    bench = panel.benchmarks[symbol].reindex(levels.index)
    risk = risk_metrics(levels, bench, benchmark_symbol=symbol)
    extra = strategy_risk_outputs(
        strategy.id,
        levels,
        bench,
        benchmark_symbol=symbol,
        risk=risk,
        allocations=result.allocations,
        orders=result.orders,
        settings=risk_settings or RiskSettings(),
        sectors=sectors or {},
    )
    return StrategyOutputs(
        strategy_id=strategy.id,
        levels=result.levels,
        allocations=result.allocations,
        orders=result.orders,
        risk=risk,
        rolling=extra.rolling,
        stress=extra.stress,
        comparison=extra.comparison,
    )


def publish_outputs(lake_root: Path, outputs: StrategyOutputs) -> dict[str, int]:
    """Replace the strategy's partition in every output dataset; returns rows per dataset."""
    written = {}
    for dataset, frame in (
        (INDEX_LEVELS, outputs.levels),
        (ALLOCATIONS, outputs.allocations),
        (REBALANCE_ORDERS, outputs.orders),
        (RISK_METRICS, outputs.risk),
        (ROLLING_SERIES, outputs.rolling),
        (STRESS_TESTS, outputs.stress),
    ):
        write_partition(lake_root, dataset, outputs.strategy_id, frame)
        written[dataset.name] = len(frame)
    return written
