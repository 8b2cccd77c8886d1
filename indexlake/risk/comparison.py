"""The ``strategy_comparison`` row of one strategy: full-period performance, risk and turnover.

Conventions:

- returns, volatility, Sharpe, drawdown, tracking error and information ratio are the
  ``full`` window of ``risk_metrics`` (strategy and benchmark on the same dates);
- ``excess_return`` is the strategy's annualised return minus the benchmark's;
- turnover at a rebalance is one-way: half the sum of |weight_after - weight_before| over the
  orders (so replacing the whole basket is 1.0). The launch, which buys everything from cash,
  is not counted. ``average_annual_turnover`` is their sum over the years of returns
  (observations / 252).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

from indexlake.lake.schemas import STRATEGY_COMPARISON
from indexlake.risk.metrics import TRADING_DAYS_PER_YEAR
from indexlake.risk.report import SUBJECT_BENCHMARK, SUBJECT_STRATEGY
from indexlake.risk.windows import WINDOW_FULL

STRATEGY_COLUMN = "strategy_id"
COMPARISON_COLUMNS: tuple[str, ...] = (STRATEGY_COLUMN, *STRATEGY_COMPARISON.columns)


def rebalance_turnover(orders: pd.DataFrame) -> pd.Series:
    """One-way turnover per rebalance date, the launch (all weight_before 0) left out."""
    if orders.empty:
        return pd.Series(dtype="float64")
    moved = (orders["weight_after"] - orders["weight_before"]).abs()
    by_date = pd.DataFrame(
        {"moved": moved, "before": orders["weight_before"], "date": orders["rebalance_date"]}
    ).groupby("date")
    held = by_date["before"].sum()
    return (by_date["moved"].sum() / 2.0)[held > 0.0]


def average_annual_turnover(
    orders: pd.DataFrame, observations: int, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Sum of one-way rebalance turnover per year of returns; NaN with no returns."""
    if observations <= 0:
        return math.nan
    return float(rebalance_turnover(orders).sum()) / (observations / periods_per_year)


def comparison_row(
    strategy_id: str,
    risk: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    benchmark_symbol: str,
) -> pd.DataFrame:
    """One STRATEGY_COMPARISON row (plus ``strategy_id``) from RISK_METRICS rows and orders."""
    full = risk[risk["window"] == WINDOW_FULL].set_index("subject")
    nan_row = pd.Series(np.nan, index=risk.columns, dtype=object)
    strat = full.loc[SUBJECT_STRATEGY] if SUBJECT_STRATEGY in full.index else nan_row
    bench = full.loc[SUBJECT_BENCHMARK] if SUBJECT_BENCHMARK in full.index else nan_row
    observations = 0 if pd.isna(strat["observations"]) else int(strat["observations"])
    row = {
        STRATEGY_COLUMN: strategy_id,
        "window": WINDOW_FULL,
        "start_date": strat["start_date"],
        "end_date": strat["end_date"],
        "observations": observations,
        "total_return": strat["cumulative_return"],
        "annualised_return": strat["annualised_return"],
        "annualised_volatility": strat["annualised_volatility"],
        "sharpe": strat["sharpe"],
        "max_drawdown": strat["max_drawdown"],
        "average_annual_turnover": average_annual_turnover(orders, observations),
        "benchmark_symbol": benchmark_symbol,
        "benchmark_total_return": bench["cumulative_return"],
        "benchmark_annualised_return": bench["annualised_return"],
        "excess_return": float(strat["annualised_return"]) - float(bench["annualised_return"]),
        "tracking_error": strat["tracking_error"],
        "information_ratio": strat["information_ratio"],
    }
    frame = pd.DataFrame([row], columns=list(COMPARISON_COLUMNS))
    floats = [f.name for f in STRATEGY_COMPARISON.schema if f.type == pa.float64()]
    return frame.astype({**dict.fromkeys(floats, "float64"), "observations": "int32"})
