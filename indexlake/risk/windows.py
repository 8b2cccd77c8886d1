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

    slices = _window_slices(frame.index, trailing)
    starts = np.array([rows.start for rows in slices.values()], dtype=np.int64)
    stops = np.array([rows.stop for rows in slices.values()], dtype=np.int64)
    k, m = len(slices), x.shape[0]
    metrics = {name: np.empty(k * m) for name in METRIC_COLUMNS}
    metrics["observations"] = np.empty(k * m, dtype=np.int64)
    first = np.empty(k * m, dtype=np.int64)
    last = np.empty(k * m, dtype=np.int64)
    # Windows are measured together as blocks of rows padded with NaN to a common length
    # (padding is never a valid return, so each row's metrics are those of its own slice).
    # The full window is its own block, so the others are padded to a year, not the history.
    for group in (np.arange(1), np.arange(1, k)):
        if not len(group):
            continue
        length = int((stops[group] - starts[group]).max())
        pos = starts[group][:, None] + np.arange(length)[None, :]
        inside = pos < stops[group][:, None]
        pos = np.where(inside, pos, 0)
        xs = np.where(inside[None, :, :], x[:, pos], np.nan).transpose(1, 0, 2)
        xs = xs.reshape(len(group) * m, length)
        bs = np.repeat(np.where(inside, b[pos], np.nan), m, axis=0)
        out = metric_arrays(xs, bs, risk_free, periods_per_year=periods_per_year)
        rows = (group[:, None] * m + np.arange(m)[None, :]).ravel()
        for name in METRIC_COLUMNS:
            metrics[name][rows] = out[name]
        # First/last valid positions in the block, as positions in the whole history.
        f, lst = _valid_bounds(~np.isnan(xs))
        offset = np.repeat(starts[group], m)
        first[rows] = np.where(f >= 0, offset + f, -1)
        last[rows] = np.where(lst >= 0, offset + lst, -1)
    if not partial_windows:
        # A series whose life does not span a year or trailing window gets no metric for it.
        window_start, window_stop = np.repeat(starts, m), np.repeat(stops, m)
        spans = (
            (np.tile(life_first, k) <= window_start)
            & (np.tile(life_last, k) >= window_stop - 1)
            & (first >= 0)
        )
        spans[:m] = True  # the full window
        for name in METRIC_COLUMNS:
            if name != "observations":
                metrics[name] = np.where(spans, metrics[name], np.nan)
    # Position -1 (no return in the window) picks the NaT appended at the end.
    all_dates = np.concatenate((dates, np.array([np.datetime64("NaT")], dtype=dates.dtype)))
    table = pd.DataFrame(
        {
            "window": np.repeat(np.array(list(slices), dtype=object), m),
            "series": np.tile(names, k),
            "start_date": all_dates[first],
            "end_date": all_dates[last],
            **metrics,
        }
    )
    return table[list(WINDOW_COLUMNS)]
