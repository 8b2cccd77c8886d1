"""Rebalance calendar: base date plus the first trading day of each new period."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.methodology.schedule import rebalance_dates, scheduled_mask


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


def test_third_friday_quarterly_rolls_back_from_good_friday():
    days = trading_days(date(2024, 12, 2), date(2025, 12, 31))
    got = rebalance_dates(days, "quarterly", "third_friday")
    # 2025-04-18 (third Friday of April) is Good Friday, but April is not a review month;
    # March 21, June 20, Sept 19, Dec 19 are the third Fridays of the review months.
    expected = ["2024-12-03", "2024-12-20", "2025-03-21", "2025-06-20", "2025-09-19", "2025-12-19"]
    assert list(got) == list(pd.to_datetime(expected))


def test_third_friday_holiday_takes_the_previous_session():
    days = trading_days(date(2025, 3, 3), date(2025, 5, 30))
    got = rebalance_dates(days, "monthly", "third_friday")
    # 2025-04-18 is Good Friday (NYSE closed): the previous session, Thursday 2025-04-17.
    expected = ["2025-03-04", "2025-03-21", "2025-04-17", "2025-05-16"]
    assert list(got) == list(pd.to_datetime(expected))


def test_annual_rules_and_reference_lag():
    days = trading_days(date(2022, 11, 1), date(2024, 12, 31))
    first = rebalance_dates(days, "annual", lag=3)
    assert list(first) == list(pd.to_datetime(["2022-11-04", "2023-01-03", "2024-01-02"]))
    third = rebalance_dates(days, "annual", "third_friday")
    assert list(third) == list(
        pd.to_datetime(["2022-11-02", "2022-12-16", "2023-12-15", "2024-12-20"])
    )


def test_explicit_base_date():
    days = trading_days(date(2024, 1, 2), date(2024, 6, 28))
    got = rebalance_dates(days, "quarterly", base_date=pd.Timestamp("2024-02-15"))
    assert list(got) == list(pd.to_datetime(["2024-02-15", "2024-04-01"]))
    with pytest.raises(ValueError, match="not in the days"):
        rebalance_dates(days, "quarterly", base_date=pd.Timestamp("2024-02-17"))
    with pytest.raises(ValueError, match="no reference date"):
        rebalance_dates(days, "quarterly", lag=2, base_date=pd.Timestamp("2024-01-03"))


@pytest.mark.parametrize("rule", ["first_trading_day", "third_friday"])
@pytest.mark.parametrize("frequency", ["monthly", "quarterly", "annual"])
def test_schedule_of_a_day_does_not_depend_on_where_the_panel_starts_or_ends(rule, frequency):
    days = trading_days(date(2019, 1, 1), date(2021, 12, 31))
    full = scheduled_mask(days, frequency, rule)
    for start, end in [(0, 400), (37, 500), (250, len(days)), (5, 6)]:
        part = scheduled_mask(days[start:end], frequency, rule)
        # The first day of a slice has no previous day in it, so it is never scheduled.
        np.testing.assert_array_equal(part[1:], full[start + 1 : end])
