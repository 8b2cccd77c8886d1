"""Rebalance calendar: which trading days a strategy rebalances on, at the close.

Two rules, each monthly, quarterly or annual:

- ``first_trading_day``: the first trading day of each new month, calendar quarter (Jan, Apr,
  Jul, Oct) or year, i.e. the first day of ``days`` in a new period.
- ``third_friday``: the third Friday of every month, of Mar/Jun/Sep/Dec (quarterly, the usual
  index-review months) or of December (annual). When the third Friday is not an NYSE session
  (e.g. Good Friday), the previous session (``indexlake.calendar``); if that session is missing
  from ``days`` (a data gap), the last day of ``days`` before it in the same month. A target
  session after the last day of ``days`` is not scheduled yet.

The base date (the first rebalance) comes first in the output: ``days[lag]`` by default (the
first day with a reference date ``lag`` trading days earlier in ``days``), or an explicit base
date. Scheduled rebalances strictly after it follow.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import numpy as np
import pandas as pd

from indexlake.calendar import trading_days

Frequency = Literal["monthly", "quarterly", "annual"]
Rule = Literal["first_trading_day", "third_friday"]
MONTHS_PER_PERIOD: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
RULES = ("first_trading_day", "third_friday")
FRIDAY = 4


def _months(frequency: str) -> int:
    try:
        return MONTHS_PER_PERIOD[frequency]
    except KeyError:
        expected = ", ".join(MONTHS_PER_PERIOD)
        message = f"unknown rebalance frequency {frequency!r}; expected {expected}"
        raise ValueError(message) from None


def _month_index(days: pd.DatetimeIndex) -> np.ndarray:
    return days.year.to_numpy() * 12 + (days.month.to_numpy() - 1)


def _check_days(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    days = pd.DatetimeIndex(days)
    if not days.is_monotonic_increasing or days.has_duplicates:
        raise ValueError("trading days must be sorted and unique")
    return days


def scheduled_mask(days: pd.DatetimeIndex, frequency: Frequency, rule: Rule) -> np.ndarray:
    """Per day of ``days``: is it a scheduled rebalance day (the base date aside)?

    Whether a day is scheduled depends only on it and the day before it in ``days`` (first
    trading day) or on the exchange calendar and the days of its month (third Friday), never on
    where ``days`` starts, so a daily run and a full recompute agree.
    """
    days = _check_days(days)
    months = _months(frequency)
    mask = np.zeros(len(days), dtype=bool)
    if len(days) < 2:
        return mask
    month_index = _month_index(days)
    if rule == "first_trading_day":
        # Calendar quarters start in Jan/Apr/Jul/Oct, so integer division of the month index works.
        period = month_index // months
        mask[1:] = period[1:] != period[:-1]
        return mask
    if rule != "third_friday":
        raise ValueError(f"unknown rebalance day rule {rule!r}; expected {', '.join(RULES)}")
    # Review months: every month, Mar/Jun/Sep/Dec, or December.
    first, last = int(month_index[0]), int(month_index[-1])
    candidates = [m for m in range(first, last + 1) if (m % 12 + 1) % months == 0]
    if not candidates:
        return mask
    firsts = pd.DatetimeIndex([pd.Timestamp(m // 12, m % 12 + 1, 1) for m in candidates])
    third_fridays = firsts + pd.to_timedelta((FRIDAY - firsts.weekday) % 7 + 14, unit="D")
    sessions = trading_days(
        (third_fridays[0] - timedelta(days=10)).date(), third_fridays[-1].date()
    )
    if sessions.empty:
        return mask
    # The session on or before each third Friday (previous session when it is a holiday).
    pos = sessions.searchsorted(third_fridays, side="right") - 1
    # A target after the last day of ``days`` is not known yet (a later day may be it).
    valid = pos >= 0
    valid[valid] = sessions[pos[valid]] <= days[-1]
    targets = sessions[pos[valid]]
    target_months = np.asarray(candidates)[valid]
    # The last panel day on or before each target session, kept when in the same month.
    row = days.searchsorted(targets, side="right") - 1
    ok = row >= 0
    row, target_months = row[ok], target_months[ok]
    same_month = month_index[row] == target_months
    mask[row[same_month]] = True
    mask[0] = False  # no reference date in ``days`` for the first day
    return mask


def rebalance_dates(
    days: pd.DatetimeIndex,
    frequency: Frequency,
    rule: Rule = "first_trading_day",
    *,
    lag: int = 1,
    base_date: pd.Timestamp | None = None,
) -> pd.DatetimeIndex:
    """Rebalance days in a sorted trading-day index: the base date, then the scheduled days.

    The base date is ``base_date`` when given (it must be one of ``days`` with at least ``lag``
    days before it), else ``days[lag]``; then every scheduled day after it.
    """
    days = _check_days(days)
    if lag < 1:
        raise ValueError(f"lag must be at least 1 trading day, got {lag}")
    if base_date is None:
        if len(days) <= lag:
            return pd.DatetimeIndex([], name=days.name, dtype=days.dtype)
        base_row = lag
    else:
        base_row = days.get_indexer([pd.Timestamp(base_date)])[0]
        if base_row < 0:
            raise ValueError(f"base date {pd.Timestamp(base_date).date()} is not in the days")
        if base_row < lag:
            raise ValueError(
                f"base date {pd.Timestamp(base_date).date()} has no reference date {lag} "
                "trading day(s) earlier"
            )
    mask = scheduled_mask(days, frequency, rule)
    mask[: base_row + 1] = False
    mask[base_row] = True
    return days[mask]
