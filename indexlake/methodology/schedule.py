"""Rebalance calendar: which trading days a strategy rebalances on, at the close."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Frequency = Literal["monthly", "quarterly"]
MONTHS_PER_PERIOD: dict[str, int] = {"monthly": 1, "quarterly": 3}


def _period_numbers(days: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray:
    try:
        months = MONTHS_PER_PERIOD[frequency]
    except KeyError:
        expected = ", ".join(MONTHS_PER_PERIOD)
        message = f"unknown rebalance frequency {frequency!r}; expected {expected}"
        raise ValueError(message) from None
    # Calendar quarters start in Jan/Apr/Jul/Oct, so integer division of the month index works.
    month_index = days.year.to_numpy() * 12 + (days.month.to_numpy() - 1)
    return month_index // months


def rebalance_dates(days: pd.DatetimeIndex, frequency: Frequency) -> pd.DatetimeIndex:
    """Rebalance days in a sorted trading-day index: the base date and each new period's first day.

    The base date is ``days[1]`` (the first day with a previous trading day in ``days`` to serve
    as reference date); after it, the first trading day of each new month or quarter.
    """
    days = pd.DatetimeIndex(days)
    if not days.is_monotonic_increasing or days.has_duplicates:
        raise ValueError("trading days must be sorted and unique")
    if len(days) < 2:
        return pd.DatetimeIndex([], name=days.name, dtype=days.dtype)
    period = _period_numbers(days, frequency)
    new_period = np.zeros(len(days), dtype=bool)
    new_period[1:] = period[1:] != period[:-1]
    new_period[1] = True  # the base date
    return days[new_period]
