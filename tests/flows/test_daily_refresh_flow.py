"""The daily refresh: the default history on an empty lake, then only what is new."""

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

import flows.daily_refresh as daily_refresh_module
from flows.daily_refresh import daily_refresh
from indexlake.calendar import latest_completed_trading_day, trading_days
from indexlake.config import load_settings
from indexlake.lake.partitions import read_partition, table_to_frame, to_table
from indexlake.lake.schemas import (
    ALLOCATIONS,
    INDEX_LEVELS,
    REBALANCE_ORDERS,
    RISK_METRICS,
    ROLLING_SERIES,
    STRESS_TESTS,
)
from indexlake.methodology.strategy import load_strategies
from indexlake.pipeline.compute import compute_strategy, load_panel
from indexlake.pipeline.ranges import history_range
from indexlake.pipeline.summary import render_text
from indexlake.sources.factory import benchmark_candidates, universe
from indexlake.sources.sectors import sector_labels


def test_daily_refresh_lands_history_then_finds_nothing_new(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_HISTORY_YEARS", "1")
    latest = latest_completed_trading_day()
    first = daily_refresh()
    assert (first.start, first.end) == history_range(latest, 1)
    assert first.rows_landed["prices"] > 0 and first.validation_passed
    assert set(first.strategies["last_date"].dt.date) == {latest}

    second = daily_refresh()
    assert (second.start, second.end) == (latest, latest)
    assert second.rows_landed == {}
    assert second.strategies.equals(first.strategies)


def test_daily_refresh_appends_a_new_session_equal_to_a_full_recompute(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_HISTORY_YEARS", "1")
    latest = latest_completed_trading_day()
    previous = trading_days(latest - timedelta(days=10), latest)[-2].date()
    monkeypatch.setattr(daily_refresh_module, "latest_completed_trading_day", lambda: previous)
    first = daily_refresh()
    assert first.computation, "no strategy was computed"
    assert all(how.startswith("recomputed") for how in first.computation.values())

    monkeypatch.setattr(daily_refresh_module, "latest_completed_trading_day", lambda: latest)
    second = daily_refresh()
    assert second.rows_landed["prices"] > 0
    assert second.computation == {sid: "appended 1 day" for sid in first.computation}
    assert "appended 1 day" in render_text(second)

    # The published outputs equal a full recompute over the same lake.
    settings = load_settings()
    members = universe(settings)
    fallbacks = list(benchmark_candidates(settings))
    strategies = load_strategies(settings.strategies_dir, sorted(second.computation))
    benchmarks = list(dict.fromkeys([*(s.benchmark for s in strategies), *fallbacks]))
    panel = load_panel(settings.lake_root, members, benchmarks)
    assert panel.closes.index[-1].date() == latest
    for strategy in strategies:
        full = compute_strategy(
            strategy,
            panel,
            fallbacks,
            risk_settings=settings.risk,
            sectors=sector_labels(settings, members),
        )
        for dataset, want in (
            (INDEX_LEVELS, full.levels),
            (ALLOCATIONS, full.allocations),
            (REBALANCE_ORDERS, full.orders),
            (RISK_METRICS, full.risk),
            (ROLLING_SERIES, full.rolling),
            (STRESS_TESTS, full.stress),
        ):
            keys = [k for k in dataset.key if k in dataset.columns]
            got = read_partition(settings.lake_root, dataset, strategy.id)
            assert len(got) == len(want) > 0, (strategy.id, dataset.name)
            want = table_to_frame(to_table(want, dataset))  # file dtypes, nulls as read
            pd.testing.assert_frame_equal(
                got.sort_values(keys).reset_index(drop=True),
                want.sort_values(keys).reset_index(drop=True),
                check_dtype=False,
                check_exact=False,
                rtol=1e-12,
                atol=1e-12,
                obj=f"{strategy.id} {dataset.name}",
            )
