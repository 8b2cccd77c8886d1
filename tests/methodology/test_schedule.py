"""Rebalance calendar: base date plus the first trading day of each new period."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.methodology.schedule import rebalance_dates


def test_quarterly_on_the_nyse_calendar():
    days = trading_days(date(2023, 12, 28), date(2024, 12, 31))
    got = rebalance_dates(days, "quarterly")
    # 2023-12-29 is the base date (2023-12-28 its reference); 2024-01-01 is a holiday.
    expected = ["2023-12-29", "2024-01-02", "2024-04-01", "2024-07-01", "2024-10-01"]
    assert list(got) == list(pd.to_datetime(expected))


def test_monthly_starting_mid_month():
    days = trading_days(date(2024, 2, 12), date(2024, 5, 31))
    got = rebalance_dates(days, "monthly")
    expected = ["2024-02-13", "2024-03-01", "2024-04-01", "2024-05-01"]
    assert list(got) == list(pd.to_datetime(expected))


def test_short_and_bad_inputs():
    days = trading_days(date(2024, 3, 1), date(2024, 3, 1))
    assert rebalance_dates(days, "monthly").empty
    with pytest.raises(ValueError, match="frequency"):
        rebalance_dates(trading_days(date(2024, 3, 1), date(2024, 3, 8)), "weekly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sorted"):
        rebalance_dates(pd.DatetimeIndex(["2024-03-02", "2024-03-01"]), "monthly")
