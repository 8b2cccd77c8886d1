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


def _age(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows since each column's first non-NaN value (0 on that day, NaN before it)."""
    started = frame.notna().cummax()
    return started.cumsum().where(started) - 1


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
    bench = pd.Series(benchmark, dtype="float64").reindex(frame.index)
    age = _age(frame)
    out: dict[str, pd.DataFrame] = {}
    for window in VOL_WINDOWS:
        vol = frame.rolling(window, min_periods=MIN_OBSERVATIONS).std(ddof=1)
        out[f"rolling_vol_{window}"] = (vol * math.sqrt(periods_per_year)).where(age >= window - 1)

    # Pairwise: NaN on either side removes the date from both (x + 0·y keeps y's NaNs).
    b = frame.mul(0.0).add(bench, axis=0)
    r = frame.add(b.mul(0.0))
    roll = BETA_WINDOW
    mean_r = r.rolling(roll, min_periods=MIN_OBSERVATIONS).mean()
    mean_b = b.rolling(roll, min_periods=MIN_OBSERVATIONS).mean()
    cov = (r * b).rolling(roll, min_periods=MIN_OBSERVATIONS).mean() - mean_r * mean_b
    var = (b * b).rolling(roll, min_periods=MIN_OBSERVATIONS).mean() - mean_b * mean_b
    flat = b.rolling(roll, min_periods=1).max() == b.rolling(roll, min_periods=1).min()
    out[f"rolling_beta_{roll}"] = (cov / var).where(~flat & (var > 0.0) & (age >= roll - 1))

    wealth = (1.0 + frame.fillna(0.0)).cumprod()
    # The value before the first return is 1 and counts as a peak.
    peaks = wealth.clip(lower=1.0).cummax()
    out["drawdown"] = wealth / peaks - 1.0

    alive = age.notna() & frame.bfill().notna()  # from the first to the last non-NaN return
    dates = np.repeat(frame.index.to_numpy(), frame.shape[1])
    series = np.tile(frame.columns.to_numpy(dtype=object), frame.shape[0])
    long = pd.DataFrame(
        {"date": dates, "series": series}
        | {name: values.to_numpy().ravel() for name, values in out.items()}
    )
    return long[alive.to_numpy().ravel()].reset_index(drop=True)[list(ROLLING_COLUMNS)]
