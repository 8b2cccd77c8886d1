"""strategy_comparison rows: turnover from orders and the full-window figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indexlake.lake.schemas import STRATEGY_COMPARISON
from indexlake.risk.comparison import (
    COMPARISON_COLUMNS,
    average_annual_turnover,
    comparison_row,
    rebalance_turnover,
)
from indexlake.risk.report import risk_metrics


def _orders() -> pd.DataFrame:
    rows = [
        # Launch from cash: not turnover.
        ("2020-01-02", "A", 0.0, 0.5),
        ("2020-01-02", "B", 0.0, 0.5),
        # Swap 20% from A to B: one-way turnover 0.2.
        ("2020-04-01", "A", 0.6, 0.4),
        ("2020-04-01", "B", 0.4, 0.6),
        # Replace the whole basket: one-way turnover 1.0.
        ("2020-07-01", "A", 0.4, 0.0),
        ("2020-07-01", "B", 0.6, 0.0),
        ("2020-07-01", "C", 0.0, 1.0),
    ]
    frame = pd.DataFrame(
        rows, columns=["rebalance_date", "symbol", "weight_before", "weight_after"]
    )
    return frame.assign(rebalance_date=pd.to_datetime(frame["rebalance_date"]))


def test_rebalance_turnover_is_one_way_without_the_launch() -> None:
    turnover = rebalance_turnover(_orders())
    assert list(turnover.index) == list(pd.to_datetime(["2020-04-01", "2020-07-01"]))
    np.testing.assert_allclose(turnover.to_numpy(), [0.2, 1.0])
    # 504 returns = 2 years: 1.2 of turnover is 0.6 a year.
    assert average_annual_turnover(_orders(), 504) == pytest.approx(0.6)
    assert np.isnan(average_annual_turnover(_orders(), 0))
    assert average_annual_turnover(_orders().iloc[:0], 252) == 0.0


def _levels(n: int, seed: int = 5) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n)
    b = rng.normal(0.0004, 0.01, n)
    s = b + rng.normal(0.0001, 0.004, n)
    return pd.Series(100 * np.cumprod(1 + s), index=index), pd.Series(
        50 * np.cumprod(1 + b), index=index
    )


def test_comparison_row_reads_the_full_window() -> None:
    strat, bench = _levels(700)
    risk = risk_metrics(strat, bench, benchmark_symbol="SPY")
    row = comparison_row("s1", risk, _orders(), benchmark_symbol="SPY")
    assert list(row.columns) == list(COMPARISON_COLUMNS)
    assert set(STRATEGY_COMPARISON.columns) <= set(row.columns)
    r = row.iloc[0]
    years = 699 / 252
    total = strat.iloc[-1] / strat.iloc[0] - 1
    bench_total = bench.iloc[-1] / bench.iloc[0] - 1
    assert r["total_return"] == pytest.approx(total)
    assert r["annualised_return"] == pytest.approx((1 + total) ** (1 / years) - 1)
    assert r["benchmark_total_return"] == pytest.approx(bench_total)
    expected_excess = (1 + total) ** (1 / years) - (1 + bench_total) ** (1 / years)
    assert r["excess_return"] == pytest.approx(expected_excess)
    active = strat.pct_change().iloc[1:] - bench.pct_change().iloc[1:]
    te = active.std(ddof=1) * np.sqrt(252)
    assert r["tracking_error"] == pytest.approx(te)
    assert r["information_ratio"] == pytest.approx(active.mean() * 252 / te)
    assert r["average_annual_turnover"] == pytest.approx(1.2 / years)
    assert (r["window"], r["benchmark_symbol"], r["observations"]) == (
        "full",
        "SPY",
        699,
    )


@pytest.mark.parametrize("n", [0, 1, 2])
def test_comparison_row_of_a_tiny_history_is_defined(n: int) -> None:
    strat, bench = _levels(n)
    risk = risk_metrics(strat, bench, benchmark_symbol="SPX")
    row = comparison_row("s", risk, _orders().iloc[:2], benchmark_symbol="SPX")
    assert len(row) == 1 and row["observations"].iloc[0] == max(n - 1, 0)
    # Fewer than two returns: no metric, never an exception or a made-up zero.
    assert (
        row[["annualised_return", "sharpe", "tracking_error", "excess_return"]].isna().all().all()
    )
