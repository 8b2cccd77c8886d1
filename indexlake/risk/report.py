"""The ``risk_metrics`` dataset rows for one strategy and its benchmark."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from indexlake.lake.schemas import RISK_METRICS
from indexlake.risk.metrics import (
    TRADING_DAYS_PER_YEAR,
    annualised_return,
    annualised_volatility,
    beta,
    historical_var,
    max_drawdown,
    sharpe_ratio,
    simple_returns,
    tracking_error,
)

SUBJECT_STRATEGY = "strategy"
SUBJECT_BENCHMARK = "benchmark"
WINDOW_FULL = "full"
WINDOW_TRAILING = f"trailing_{TRADING_DAYS_PER_YEAR}d"
# The trailing window is the last year of daily returns (fewer if the history is shorter).
TRAILING_OBSERVATIONS = TRADING_DAYS_PER_YEAR
# The published VaR column is the 95% historical VaR (a return: negative = loss).
VAR_LEVEL = 0.95


def _by_date(levels: pd.Series) -> pd.Series:
    """Levels as float, indexed by sorted unique ``datetime.date``, NaN levels dropped."""
    index = pd.DatetimeIndex(pd.to_datetime(levels.index)).normalize()
    out = pd.Series(np.asarray(levels, dtype="float64"), index=index).dropna()
    if out.index.has_duplicates:
        raise ValueError("levels has more than one value for a date")
    return out.sort_index()


def _metric_row(
    subject: str,
    symbol: str | None,
    window: str,
    returns: pd.Series,
    benchmark_returns: pd.Series,
    risk_free: float,
) -> dict[str, object]:
    """One output row: the metrics of ``returns`` against ``benchmark_returns``."""
    start: dt.date | None = returns.index[0].date() if len(returns) else None
    end: dt.date | None = returns.index[-1].date() if len(returns) else None
    return {
        "subject": subject,
        "symbol": symbol,
        "window": window,
        "start_date": start,
        "end_date": end,
        "observations": int(returns.notna().sum()),
        "annualised_return": annualised_return(returns),
        "annualised_volatility": annualised_volatility(returns),
        "sharpe": sharpe_ratio(returns, risk_free),
        "max_drawdown": max_drawdown(returns),
        "beta": beta(returns, benchmark_returns),
        "tracking_error": tracking_error(returns, benchmark_returns),
        "var_95_historical": historical_var(returns, VAR_LEVEL),
    }


def risk_metrics(
    strategy_levels: pd.Series,
    benchmark_levels: pd.Series,
    *,
    benchmark_symbol: str,
    risk_free: float = 0.0,
) -> pd.DataFrame:
    """Strategy and benchmark risk, full period and trailing 252 days, as RISK_METRICS rows.

    Both level series are indexed by date. The benchmark is measured over the same dates as
    the strategy: both are restricted to the dates where each has a level, so every return
    spans the same close-to-close interval. ``start_date``/``end_date`` are the dates of the
    first/last return used (a return is labelled by the close it ends at); ``risk_free`` is
    an annual rate. The ``strategy_id`` partition column is added by the writer.
    """
    strategy = _by_date(strategy_levels)
    bench = _by_date(benchmark_levels)
    common = strategy.index.intersection(bench.index)
    strategy_returns = simple_returns(strategy.loc[common])
    bench_returns = simple_returns(bench.loc[common])

    rows = []
    windows = {
        WINDOW_FULL: slice(None),
        WINDOW_TRAILING: slice(-TRAILING_OBSERVATIONS, None),
    }
    for window, positions in windows.items():
        s = strategy_returns.iloc[positions]
        b = bench_returns.iloc[positions]
        rows.append(_metric_row(SUBJECT_STRATEGY, None, window, s, b, risk_free))
        rows.append(_metric_row(SUBJECT_BENCHMARK, benchmark_symbol, window, b, b, risk_free))

    frame = pd.DataFrame(rows, columns=RISK_METRICS.columns)
    return frame.astype({"observations": "int32"})
