"""Stress tests: worst historical periods, replayed named crises and hypothetical shocks.

Every result is a simple return (negative = loss), like the VaR figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

# Worst compounded return over this many consecutive returns (trading days).
WORST_PERIOD_HORIZONS = (1, 5, 20)
# Hypothetical benchmark moves for beta_shocks: -10%, -20%, -30%.
BENCHMARK_SHOCKS = (-0.1, -0.2, -0.3)
# Named historical windows (first close, last close), inclusive: peak to trough of each crisis.
DEFAULT_SCENARIOS: Mapping[str, tuple[dt.date, dt.date]] = {
    "GFC": (dt.date(2008, 9, 15), dt.date(2009, 3, 9)),
    "COVID": (dt.date(2020, 2, 19), dt.date(2020, 3, 23)),
}
WORST_PERIOD_COLUMNS = ("series", "horizon", "start_date", "end_date", "return")
SCENARIO_COLUMNS = (
    "series",
    "scenario",
    "start_date",
    "end_date",
    "covered",
    "base_date",
    "final_date",
    "return",
)


def _as_frame(data: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """A Series as a one-column frame named after it (or "series"), sorted by index."""
    if isinstance(data, pd.Series):
        data = data.to_frame(data.name if data.name is not None else "series")
    return pd.DataFrame(data, dtype="float64").sort_index()


def worst_periods(
    returns: pd.Series | pd.DataFrame, horizons: tuple[int, ...] = WORST_PERIOD_HORIZONS
) -> pd.DataFrame:
    """Worst compounded return over each horizon of consecutive rows, per series.

    A window of h rows compounds the returns labelled ``start_date`` .. ``end_date`` (so the
    move runs from the close before ``start_date``); a NaN inside it counts as a 0% day.
    Windows must lie inside the series' life; a horizon longer than the life gives a row with
    NaN return and no dates.
    """
    frame = _as_frame(returns)
    rows = []
    for name in frame.columns:
        life = frame[name].loc[frame[name].first_valid_index() : frame[name].last_valid_index()]
        values = life.to_numpy()
        # Wealth before the first return is 1; W_t / W_{t-h} - 1 compounds rows t-h+1 .. t.
        wealth = np.concatenate(([1.0], np.cumprod(1.0 + np.nan_to_num(values, nan=0.0))))
        for h in horizons:
            if h < 1:
                raise ValueError(f"horizons must be positive, got {h}")
            if len(values) < h or life.isna().all():
                rows.append((name, h, None, None, np.nan))
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                moves = wealth[h:] / wealth[:-h] - 1.0
            moves = np.where(np.isfinite(moves), moves, np.inf)  # after a total loss: undefined
            end = int(np.argmin(moves))
            rows.append((name, h, life.index[end], life.index[end + h - 1], float(moves[end])))
    return pd.DataFrame(rows, columns=list(WORST_PERIOD_COLUMNS))


def historical_scenarios(
    levels: pd.Series | pd.DataFrame,
    windows: Mapping[str, tuple[object, object]] = DEFAULT_SCENARIOS,
) -> pd.DataFrame:
    """Return over each named (start, end) window, close to close, where the levels cover it.

    The move runs from the last level on or before ``start`` (``base_date``) to the last level
    on or before ``end`` (``final_date``). A series whose non-NaN levels start after ``start``
    or end before ``end`` does not cover the window: ``covered`` is False, the return NaN.
    """
    frame = _as_frame(levels)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    rows = []
    for name in frame.columns:
        series = frame[name].dropna()
        for scenario, (start, end) in windows.items():
            start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
            if start_ts > end_ts:
                raise ValueError(f"scenario {scenario!r} ends before it starts")
            covered = (
                bool(len(series)) and series.index[0] <= start_ts and series.index[-1] >= end_ts
            )
            base = final = None
            move = np.nan
            if covered:
                base = series.index[series.index.searchsorted(start_ts, side="right") - 1]
                final = series.index[series.index.searchsorted(end_ts, side="right") - 1]
                move = float(series[final] / series[base] - 1.0)
            rows.append((name, scenario, start_ts, end_ts, covered, base, final, move))
    return pd.DataFrame(rows, columns=list(SCENARIO_COLUMNS))


def beta_shocks(beta: float, shocks: tuple[float, ...] = BENCHMARK_SHOCKS) -> pd.DataFrame:
    """Hypothetical index return ≈ β × benchmark shock for each shock (a first-order estimate)."""
    shock = np.asarray(shocks, dtype=np.float64)
    return pd.DataFrame(
        {"benchmark_shock": shock, "beta": float(beta), "index_return": float(beta) * shock}
    )


def sector_shock(weights: pd.Series, sectors: pd.Series, sector: str, shock: float) -> float:
    """Index return when every name in ``sector`` moves by ``shock`` and the rest stay flat.

    ``weights`` (index weights, summing to 1) and ``sectors`` are indexed by symbol. A weighted
    symbol without a sector, or a sector no symbol has, is refused: it is a mapping error, and
    treating it as zero exposure would hide it.
    """
    w = pd.Series(weights, dtype="float64").dropna()
    missing = w.index.difference(sectors.dropna().index)
    if len(missing):
        raise ValueError(f"no sector for {sorted(map(str, missing))}")
    if sector not in set(sectors.dropna()):
        raise ValueError(f"unknown sector {sector!r}")
    exposure = float(w[sectors.reindex(w.index) == sector].sum())
    return exposure * shock
