"""Every metric over the standard windows: full period, each calendar year, trailing 63/252 days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indexlake.risk.metrics import TRADING_DAYS_PER_YEAR
from indexlake.risk.table import METRIC_COLUMNS, metric_arrays

WINDOW_FULL = "full"
# Trailing windows count rows (trading days) back from the last date: a quarter and a year.
TRAILING_WINDOWS = (63, 252)
WINDOW_COLUMNS: tuple[str, ...] = (
    "window",
    "series",
    "start_date",
    "end_date",
    *METRIC_COLUMNS,
)


def _window_slices(index: pd.DatetimeIndex, trailing: tuple[int, ...]) -> dict[str, slice]:
    """Row ranges of the full period, each calendar year and each trailing window."""
    n = len(index)
    windows = {WINDOW_FULL: slice(0, n)}
    years = index.year.to_numpy()
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        windows[f"year_{year}"] = slice(int(rows[0]), int(rows[-1]) + 1)
    for length in trailing:
        windows[f"trailing_{length}d"] = slice(max(n - length, 0), n)
    return windows


def _valid_bounds(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's first and last valid position (-1 for a row with none)."""
    if valid.shape[1] == 0:
        none = np.full(valid.shape[0], -1)
        return none, none
    any_valid = valid.any(axis=1)
    first = np.where(any_valid, np.argmax(valid, axis=1), -1)
    last = np.where(any_valid, valid.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1), -1)
    return first, last


def metric_windows(
    returns: pd.DataFrame,
    benchmark: pd.Series,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
    trailing: tuple[int, ...] = TRAILING_WINDOWS,
    partial_windows: bool = False,
) -> pd.DataFrame:
    """Long table: one row per (window, series) with the window's dates and every metric.

    ``returns`` has a date index and one column per series; ``benchmark`` is aligned on it.
    ``start_date``/``end_date`` are the series' first/last return in the window (NaT if none)
    and ``observations`` its non-NaN returns there. A series whose life (first to last non-NaN
    return) does not span a year or trailing window gets NaN metrics for it unless
    ``partial_windows``: a 100-day-old strategy has no trailing 252-day volatility.
    """
    frame = pd.DataFrame(returns, dtype="float64").sort_index()
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    bench = pd.Series(benchmark, dtype="float64")
    bench.index = pd.DatetimeIndex(pd.to_datetime(bench.index))
    x = frame.to_numpy().T
    b = bench.reindex(frame.index).to_numpy()
    life_first, life_last = _valid_bounds(~np.isnan(x))
    dates = frame.index.to_numpy()
    names = frame.columns.to_numpy(dtype=object)

    parts = []
    for window, rows in _window_slices(frame.index, trailing).items():
        xw = x[:, rows]
        metrics = metric_arrays(xw, b[rows], risk_free, periods_per_year=periods_per_year)
        first, last = _valid_bounds(~np.isnan(xw))
        has = first >= 0
        if window != WINDOW_FULL and not partial_windows:
            spans = (life_first <= rows.start) & (life_last >= rows.stop - 1) & has
            for name in METRIC_COLUMNS:
                if name != "observations":
                    metrics[name] = np.where(spans, metrics[name], np.nan)
        part = pd.DataFrame(metrics)
        part.insert(0, "window", window)
        part.insert(1, "series", names)
        window_dates = np.concatenate((dates[rows], [np.datetime64("NaT")]))
        # Position -1 (no return in the window) picks the NaT appended at the end.
        part.insert(2, "start_date", window_dates[first])
        part.insert(3, "end_date", window_dates[last])
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    return table.astype({"observations": "int64"})[list(WINDOW_COLUMNS)]
