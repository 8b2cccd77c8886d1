"""Stress tests: worst periods, named historical windows, beta and sector shocks."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from indexlake.risk.stress import (
    DEFAULT_SCENARIOS,
    beta_shocks,
    historical_scenarios,
    sector_shock,
    worst_periods,
)

DATES = pd.bdate_range("2024-01-01", periods=8)


def test_worst_periods() -> None:
    r = pd.Series([0.01, -0.05, -0.02, 0.03, np.nan, -0.04, 0.01, 0.02], index=DATES, name="s")
    out = worst_periods(r, horizons=(1, 2, 3, 9)).set_index("horizon")
    assert out.loc[1, "return"] == pytest.approx(-0.05)
    assert (out.loc[1, "start_date"], out.loc[1, "end_date"]) == (DATES[1], DATES[1])
    assert out.loc[2, "return"] == pytest.approx(0.95 * 0.98 - 1)
    assert (out.loc[2, "start_date"], out.loc[2, "end_date"]) == (DATES[1], DATES[2])
    assert out.loc[3, "return"] == pytest.approx(1.01 * 0.95 * 0.98 - 1)
    assert out.loc[3, "start_date"] == DATES[0]
    # Longer than the history: reported, not covered.
    assert math.isnan(out.loc[9, "return"]) and pd.isna(out.loc[9, "start_date"])
    assert set(out["series"]) == {"s"}


def test_a_nan_inside_the_window_counts_as_a_flat_day() -> None:
    r = pd.Series([0.01, -0.03, np.nan, -0.03, 0.02], index=DATES[:5])
    out = worst_periods(r, horizons=(3,))
    assert out["return"].iloc[0] == pytest.approx(0.97 * 0.97 - 1)
    assert (out["start_date"].iloc[0], out["end_date"].iloc[0]) == (DATES[1], DATES[3])


def test_worst_periods_per_column_and_inside_the_life() -> None:
    frame = pd.DataFrame(
        {"a": [np.nan, np.nan, -0.1, 0.05], "b": [-0.2, 0.1, 0.0, 0.0]}, index=DATES[:4]
    )
    out = worst_periods(frame, horizons=(2,)).set_index("series")
    assert out.loc["a", "return"] == pytest.approx(0.9 * 1.05 - 1)
    assert out.loc["a", "start_date"] == DATES[2]
    assert out.loc["b", "return"] == pytest.approx(0.8 * 1.1 - 1)
    empty = worst_periods(pd.Series([], dtype="float64"), horizons=(1,))
    assert len(empty) == 1 and math.isnan(empty["return"].iloc[0])


def test_historical_scenarios_covered_and_not() -> None:
    index = pd.bdate_range("2020-01-02", "2020-06-30")
    levels = pd.Series(np.linspace(100, 130, len(index)), index=index)
    levels[pd.Timestamp("2020-02-19")] = 150.0
    levels[pd.Timestamp("2020-03-23")] = 100.0
    out = historical_scenarios(levels).set_index("scenario")
    assert list(out.index) == list(DEFAULT_SCENARIOS)
    assert not out.loc["GFC", "covered"] and math.isnan(out.loc["GFC", "return"])
    covid = out.loc["COVID"]
    assert covid["covered"]
    assert covid["return"] == pytest.approx(100 / 150 - 1)
    assert covid["base_date"] == pd.Timestamp("2020-02-19")


def test_historical_scenarios_use_the_last_close_on_or_before_each_date() -> None:
    levels = pd.Series(
        [100.0, 90.0, 80.0], index=pd.to_datetime(["2024-01-05", "2024-01-08", "2024-01-10"])
    )
    windows = {
        "w": (dt.date(2024, 1, 6), dt.date(2024, 1, 9)),
        "late": ("2024-01-09", "2024-01-11"),
    }
    out = historical_scenarios(levels, windows).set_index("scenario")
    assert out.loc["w", "base_date"] == pd.Timestamp("2024-01-05")
    assert out.loc["w", "final_date"] == pd.Timestamp("2024-01-08")
    assert out.loc["w", "return"] == pytest.approx(-0.1)
    assert not out.loc["late", "covered"]


def test_beta_shocks() -> None:
    out = beta_shocks(1.2)
    np.testing.assert_allclose(out["index_return"], [-0.12, -0.24, -0.36])
    assert beta_shocks(float("nan"))["index_return"].isna().all()


def test_sector_shock() -> None:
    weights = pd.Series({"AAPL": 0.5, "MSFT": 0.3, "XOM": 0.2})
    sectors = pd.Series({"AAPL": "Tech", "MSFT": "Tech", "XOM": "Energy", "JPM": "Financials"})
    assert sector_shock(weights, sectors, "Tech", -0.2) == pytest.approx(-0.16)
    assert sector_shock(weights, sectors, "Financials", -0.2) == 0.0
    with pytest.raises(ValueError, match="unknown sector"):
        sector_shock(weights, sectors, "tech", -0.2)
    with pytest.raises(ValueError, match="no sector"):
        sector_shock(weights, sectors.drop("XOM"), "Tech", -0.2)
