"""Rolling risk series for charts: volatility, beta and the underwater curve per date."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from indexlake.risk.metrics import MIN_OBSERVATIONS, TRADING_DAYS_PER_YEAR

# Rolling windows in rows (trading days): a quarter and a year.
VOL_WINDOWS = (63, 252)
BETA_WINDOW = 252
ROLLING_COLUMNS: tuple[str, ...] = (
    "date",
    "series",
    *(f"rolling_vol_{w}" for w in VOL_WINDOWS),
    f"rolling_beta_{BETA_WINDOW}",
    "drawdown",
)


def rolling_series(
    returns: pd.DataFrame,
    benchmark: pd.Series,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> pd.DataFrame:
    """Long table (date, series, rolling vols, rolling beta, drawdown) of each column's life.

    A rolling value at date t uses the non-NaN returns in the last ``w`` rows (ddof = 1, vol
    annualised by √periods_per_year) and is NaN until the series is ``w`` rows old. Beta
    pairs the series with the benchmark on dates where both exist; a constant benchmark in the
    window gives NaN. ``drawdown`` is the underwater curve from the series' first return
    (≤ 0; the starting value counts as a peak). Rows outside a series' life are left out.
    """
    frame = pd.DataFrame(returns, dtype="float64").sort_index()
    bench = pd.Series(benchmark, dtype="float64").reindex(frame.index).to_numpy()
    # numpy for the elementwise work, pandas' rolling kernels for the windows: on a few
    # thousand rows the per-call overhead of DataFrame arithmetic is most of the time.
    x = frame.to_numpy()
    n, k = x.shape
    valid = ~np.isnan(x)
    started = np.maximum.accumulate(valid, axis=0) if n else valid
    # Rows since each column's first non-NaN value (0 on that day, NaN before it).
    age = np.where(started, np.cumsum(started, axis=0) - 1.0, np.nan)
    out: dict[str, np.ndarray] = {}
    root = math.sqrt(periods_per_year)
    for window in VOL_WINDOWS:
        vol = pd.DataFrame(x).rolling(window, min_periods=MIN_OBSERVATIONS).std(ddof=1)
        with np.errstate(invalid="ignore"):
            out[f"rolling_vol_{window}"] = np.where(
                age >= window - 1, vol.to_numpy() * root, np.nan
            )

    # Pairwise: NaN on either side removes the date from both.
    b = np.where(valid, bench[:, None], np.nan)
    r = np.where(np.isnan(b), np.nan, x)
    roll = BETA_WINDOW
    means = (
        pd.DataFrame(np.hstack([r, b, r * b, b * b]))
        .rolling(roll, min_periods=MIN_OBSERVATIONS)
        .mean()
        .to_numpy()
    )
    mean_r, mean_b, mean_rb, mean_bb = (means[:, i * k : (i + 1) * k] for i in range(4))
    cov = mean_rb - mean_r * mean_b
    var = mean_bb - mean_b * mean_b
    b_window = pd.DataFrame(b).rolling(roll, min_periods=1)
    flat = b_window.max().to_numpy() == b_window.min().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = ~flat & (var > 0.0) & (age >= roll - 1)
        out[f"rolling_beta_{roll}"] = np.where(usable, cov / var, np.nan)

    wealth = np.cumprod(1.0 + np.where(valid, x, 0.0), axis=0)
    # The value before the first return is 1 and counts as a peak.
    peaks = np.maximum.accumulate(np.maximum(wealth, 1.0), axis=0) if n else wealth
    out["drawdown"] = wealth / peaks - 1.0

    # From the first to the last non-NaN return of each column.
    ended = np.maximum.accumulate(valid[::-1], axis=0)[::-1] if n else valid
    alive = (started & ended).ravel()
    dates = np.repeat(frame.index.to_numpy(), k)
    series = np.tile(frame.columns.to_numpy(dtype=object), n)
    long = pd.DataFrame(
        {"date": dates[alive], "series": series[alive]}
        | {name: values.ravel()[alive] for name, values in out.items()}
    )
    return long[list(ROLLING_COLUMNS)]
