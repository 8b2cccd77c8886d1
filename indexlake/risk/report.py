"""The ``risk_metrics`` dataset rows for one strategy and its benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indexlake.lake.schemas import RISK_METRICS
from indexlake.risk.metrics import TRADING_DAYS_PER_YEAR
from indexlake.risk.table import METRIC_COLUMNS
from indexlake.risk.windows import TRAILING_WINDOWS, metric_windows

SUBJECT_STRATEGY = "strategy"
SUBJECT_BENCHMARK = "benchmark"
WINDOW_TRAILING = f"trailing_{TRADING_DAYS_PER_YEAR}d"
# Published windows: the full period, each calendar year ("year_2024") and the trailing
# 63 and 252 returns ("trailing_63d", "trailing_252d"; fewer if the history is shorter).
WINDOW_YEAR_PREFIX = "year_"
TRAILING_WINDOW_NAMES: tuple[str, ...] = tuple(f"trailing_{n}d" for n in TRAILING_WINDOWS)
# Every metric column of the dataset, in METRIC_COLUMNS order (observations is int32).
METRIC_FLOAT_COLUMNS: tuple[str, ...] = tuple(c for c in METRIC_COLUMNS if c != "observations")


def _by_date(levels: pd.Series) -> pd.Series:
    """Levels as float, indexed by sorted unique ``datetime.date``, NaN levels dropped."""
    index = pd.DatetimeIndex(pd.to_datetime(levels.index)).normalize()
    out = pd.Series(np.asarray(levels, dtype="float64"), index=index).dropna()
    if out.index.has_duplicates:
        raise ValueError("levels has more than one value for a date")
    return out.sort_index()


def _dates(values: pd.Series) -> list[object]:
    """datetime64 values as ``datetime.date`` objects, NaT as None (Arrow date32 input)."""
    return [None if pd.isna(v) else pd.Timestamp(v).date() for v in values]


def aligned_levels(strategy_levels: pd.Series, benchmark_levels: pd.Series) -> pd.DataFrame:
    """Both level series on the dates where each has a level (columns strategy, benchmark).

    Every return computed from it then spans the same close-to-close interval on both sides.
    """
    strategy = _by_date(strategy_levels)
    bench = _by_date(benchmark_levels)
    common = strategy.index.intersection(bench.index)
    return pd.DataFrame(
        {
            SUBJECT_STRATEGY: strategy.to_numpy()[strategy.index.get_indexer(common)],
            SUBJECT_BENCHMARK: bench.to_numpy()[bench.index.get_indexer(common)],
        },
        index=common,
    )


def aligned_returns(levels: pd.DataFrame) -> pd.DataFrame:
    """Simple returns of each column of :func:`aligned_levels` (one row fewer than levels).

    The same arithmetic as :func:`indexlake.risk.metrics.simple_returns` (no fill).
    """
    values = levels.to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        moves = values[1:] / values[:-1] - 1.0
    return pd.DataFrame(moves, index=levels.index[1:], columns=levels.columns)


def risk_metrics(
    strategy_levels: pd.Series,
    benchmark_levels: pd.Series,
    *,
    benchmark_symbol: str,
    risk_free: float = 0.0,
) -> pd.DataFrame:
    """Strategy and benchmark risk over every published window, as RISK_METRICS rows.

    Both level series are indexed by date. The benchmark is measured over the same dates as
    the strategy: both are restricted to the dates where each has a level, so every return
    spans the same close-to-close interval (the benchmark's beta is then 1 and its tracking
    error 0). The windows are ``full``, ``year_YYYY`` for each calendar year with a return
    and ``trailing_63d``/``trailing_252d`` (the last 63/252 returns, fewer if the history is
    shorter); a partial first or last year is measured over the returns it has, and every
    annualised figure is annualised over the window's own number of returns.

    The metrics are :func:`indexlake.risk.windows.metric_windows` (every column of
    METRIC_COLUMNS, the definitions of :mod:`indexlake.risk.metrics` and
    :mod:`indexlake.risk.tail`). ``start_date``/``end_date`` are the dates of the first/last
    return used (a return is labelled by the close it ends at); ``risk_free`` is an annual
    rate. Rows are window-major (full, years, trailing), strategy before benchmark. The
    ``strategy_id`` partition column is added by the writer.
    """
    returns = aligned_returns(aligned_levels(strategy_levels, benchmark_levels))
    # Both series span every date, so no window is cut short by a series' life.
    table = metric_windows(returns, returns[SUBJECT_BENCHMARK], risk_free)

    frame = table.rename(columns={"series": "subject"})
    is_bench = frame["subject"] == SUBJECT_BENCHMARK
    frame["symbol"] = pd.Series(np.where(is_bench, benchmark_symbol, None), dtype=object)
    frame["start_date"] = pd.Series(_dates(frame["start_date"]), dtype=object)
    frame["end_date"] = pd.Series(_dates(frame["end_date"]), dtype=object)
    # metric_windows gives float64 metrics already; a frame-wide astype costs more than them.
    frame["observations"] = frame["observations"].to_numpy().astype(np.int32)
    dtypes = frame.dtypes
    other = [c for c in METRIC_FLOAT_COLUMNS if dtypes[c] != np.float64]
    if other:
        frame = frame.astype(dict.fromkeys(other, "float64"))
    return frame[RISK_METRICS.columns].reset_index(drop=True)
