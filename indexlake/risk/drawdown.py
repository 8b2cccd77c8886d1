"""Drawdowns of a compounded return path: the underwater series and the worst episode's dates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from indexlake.risk.metrics import MIN_OBSERVATIONS

SeriesKind = Literal["returns", "levels"]


@dataclass(frozen=True)
class DrawdownDetails:
    """The worst peak-to-trough fall (≤ 0) and the index labels where it started, bottomed, ended.

    ``peak`` is None when the peak is the starting value before the first *return* (it has no
    date of its own); ``recovery`` is the first label at or above the peak again, None if the
    path has not recovered. With no drawdown at all every label is None and the size is 0.0;
    with fewer than two observations the size is NaN.
    """

    max_drawdown: float
    peak: object | None
    trough: object | None
    recovery: object | None


def _wealth(data: pd.Series, kind: SeriesKind) -> tuple[np.ndarray, list[object | None]]:
    """The value path and its labels; a returns path starts at 1 with an undated (None) label."""
    if kind not in ("returns", "levels"):
        raise ValueError(f"kind must be 'returns' or 'levels', got {kind!r}")
    clean = pd.Series(data, dtype="float64").dropna()
    if kind == "levels":
        return clean.to_numpy(), list(clean.index)
    # A NaN return is a day without data: dropping it leaves the compounded path unchanged.
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + clean.to_numpy())))
    return wealth, [None, *clean.index]


def drawdown_series(returns: pd.Series) -> pd.Series:
    """Underwater curve V_t / max_{s≤t} V_s - 1 (≤ 0) per return date; NaN returns carry over."""
    values = pd.Series(returns, dtype="float64")
    wealth = np.cumprod(1.0 + np.nan_to_num(values.to_numpy(), nan=0.0))
    # The starting value 1 is a peak, so a first-day loss already shows as a drawdown.
    peaks = np.maximum.accumulate(np.maximum(wealth, 1.0)) if len(wealth) else wealth
    return pd.Series(wealth / peaks - 1.0, index=values.index)


def drawdown_details(data: pd.Series, *, kind: SeriesKind = "returns") -> DrawdownDetails:
    """Max drawdown with its peak, trough and recovery labels, from returns or from levels."""
    wealth, labels = _wealth(data, kind)
    observations = len(wealth) - 1 if kind == "returns" else len(wealth)
    if observations < MIN_OBSERVATIONS:
        return DrawdownDetails(math.nan, None, None, None)
    peaks = np.maximum.accumulate(wealth)
    underwater = wealth / peaks - 1.0
    trough = int(np.argmin(underwater))  # the first time the worst level is reached
    size = float(underwater[trough])
    if size >= 0.0:
        return DrawdownDetails(0.0, None, None, None)
    # The peak is the last time the running maximum was set before the trough.
    peak = int(np.flatnonzero(wealth[: trough + 1] == peaks[trough])[-1])
    recovered = np.flatnonzero(wealth[trough + 1 :] >= wealth[peak])
    recovery = labels[trough + 1 + int(recovered[0])] if len(recovered) else None
    return DrawdownDetails(size, labels[peak], labels[trough], recovery)
