"""rolling_series: rolling volatility and beta, and the drawdown curve, per series and date."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indexlake.risk.drawdown import drawdown_series
from indexlake.risk.metrics import annualised_volatility, beta
from indexlake.risk.rolling import ROLLING_COLUMNS, rolling_series

from .samples import random_panel


@pytest.fixture(scope="module")
def rolled() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    frame, bench = random_panel(9, n=600, columns=3)
    frame.iloc[:300, 2] = np.nan  # s2 is 300 days old at the end
    return rolling_series(frame, bench), frame, bench


def _at(out: pd.DataFrame, series: str, date: pd.Timestamp) -> pd.Series:
    return out[(out["series"] == series) & (out["date"] == date)].iloc[0]


def test_layout_and_life(rolled) -> None:
    out, frame, _ = rolled
    assert list(out.columns) == list(ROLLING_COLUMNS)
    counts = out["series"].value_counts()
    assert counts["s0"] == len(frame)
    assert counts["s2"] == len(frame) - 300


def test_values_match_the_single_series_functions(rolled) -> None:
    out, frame, bench = rolled
    for position in (300, 599):
        date = frame.index[position]
        row = _at(out, "s0", date)
        window_63 = frame["s0"].iloc[position - 62 : position + 1]
        window_252 = frame["s0"].iloc[position - 251 : position + 1]
        assert row["rolling_vol_63"] == pytest.approx(annualised_volatility(window_63), rel=1e-9)
        assert row["rolling_vol_252"] == pytest.approx(annualised_volatility(window_252), rel=1e-9)
        assert row["rolling_beta_252"] == pytest.approx(beta(window_252, bench), rel=1e-8)
        expected_dd = drawdown_series(frame["s0"].iloc[: position + 1]).iloc[-1]
        assert row["drawdown"] == pytest.approx(expected_dd, abs=1e-12)


def test_nan_until_the_series_is_as_old_as_the_window(rolled) -> None:
    out, frame, _ = rolled
    s2 = out[out["series"] == "s2"].reset_index(drop=True)
    assert s2["rolling_vol_63"].iloc[:62].isna().all()
    assert s2["rolling_vol_63"].iloc[62:].notna().all()
    assert s2["rolling_vol_252"].iloc[251:].notna().all()
    assert s2["rolling_beta_252"].iloc[:251].isna().all()
    assert s2["drawdown"].iloc[0] == pytest.approx(min(frame["s2"].iloc[300], 0.0))


def test_constant_benchmark_gives_nan_beta() -> None:
    index = pd.bdate_range("2024-01-01", periods=300)
    frame = pd.DataFrame({"a": np.linspace(-0.01, 0.01, 300)}, index=index)
    out = rolling_series(frame, pd.Series(0.001, index=index))
    assert out["rolling_beta_252"].isna().all()
    assert math.isclose(out["rolling_vol_63"].iloc[-1], annualised_volatility(frame["a"][-63:]))


def test_empty() -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype="float64")}, index=pd.DatetimeIndex([]))
    out = rolling_series(empty, pd.Series([], dtype="float64", index=pd.DatetimeIndex([])))
    assert out.empty and list(out.columns) == list(ROLLING_COLUMNS)
