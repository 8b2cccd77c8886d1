"""rolling_series and stress_tests rows: checked against straightforward per-date references."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from indexlake.lake.schemas import ROLLING_SERIES, STRESS_TESTS
from indexlake.risk.outputs import (
    ABSENT,
    COVERED,
    PARTIAL,
    UNLABELLED,
    rolling_rows,
    stress_rows,
)
from indexlake.risk.report import aligned_levels, risk_metrics
from indexlake.risk.settings import StressWindow

WINDOWS = [
    StressWindow(name="GFC", start=date(2008, 9, 15), end=date(2009, 3, 9)),
    StressWindow(name="COVID", start=date(2020, 2, 19), end=date(2020, 3, 23)),
]


def _levels(n: int, start: str = "2019-06-03", seed: int = 3) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=n)
    bench = rng.normal(0.0003, 0.012, n)
    strat = 0.9 * bench + rng.normal(0.0001, 0.005, n)
    return (
        pd.Series(1000 * np.cumprod(1 + strat), index=index),
        pd.Series(3000 * np.cumprod(1 + bench), index=index),
    )


def _stress(levels: pd.DataFrame, allocations: pd.DataFrame | None = None, **kw) -> pd.DataFrame:
    risk = risk_metrics(levels["strategy"], levels["benchmark"], benchmark_symbol="SPX")
    if allocations is None:
        allocations = pd.DataFrame(columns=["date", "symbol", "weight"])
    args = {"sectors": {}, "sector_shock": -0.2} | kw
    return stress_rows(
        levels, risk, allocations, windows=WINDOWS, benchmark_shocks=[-0.1, -0.2, -0.3], **args
    )


def test_rolling_rows_match_a_per_date_reference() -> None:
    strat, bench = _levels(400)
    frame = rolling_rows(aligned_levels(strat, bench), benchmark_symbol="SPX")
    assert list(frame.columns) == ROLLING_SERIES.columns
    rs, rb = strat.pct_change().iloc[1:], bench.pct_change().iloc[1:]
    s = frame[frame["subject"] == "strategy"].set_index("date")
    assert len(s) == len(rs) and s["symbol"].isna().all()
    assert (frame.loc[frame["subject"] == "benchmark", "symbol"] == "SPX").all()
    for i in (61, 62, 200, 251, 252, 398):
        day = rs.index[i]
        window = rs.iloc[i - 62 : i + 1].to_numpy()
        expected = np.std(window, ddof=1) * np.sqrt(252) if i >= 62 else np.nan
        np.testing.assert_allclose(s.at[day, "rolling_vol_63"], expected, rtol=1e-10)
        if i >= 251:
            x, y = rs.iloc[i - 251 : i + 1].to_numpy(), rb.iloc[i - 251 : i + 1].to_numpy()
            np.testing.assert_allclose(
                s.at[day, "rolling_beta_252"], np.cov(x, y)[0, 1] / np.var(y, ddof=1), rtol=1e-8
            )
        else:
            assert np.isnan(s.at[day, "rolling_beta_252"])
        path = strat.iloc[: i + 2].to_numpy()
        assert s.at[day, "drawdown"] == pytest.approx(path[-1] / path.max() - 1, abs=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 30])
def test_rolling_rows_short_histories_are_defined(n: int) -> None:
    strat, bench = _levels(n)
    frame = rolling_rows(aligned_levels(strat, bench), benchmark_symbol="SPX")
    assert list(frame.columns) == ROLLING_SERIES.columns
    assert len(frame) == 2 * max(n - 1, 0)
    # Younger than both windows: no rolling figure, but the drawdown is there.
    assert frame[["rolling_vol_63", "rolling_vol_252", "rolling_beta_252"]].isna().all().all()
    assert (frame["drawdown"] <= 0).all()


def test_rolling_rows_constant_levels_and_missing_levels() -> None:
    index = pd.bdate_range("2020-01-01", periods=300)
    flat = pd.Series(100.0, index=index)
    frame = rolling_rows(aligned_levels(flat, flat), benchmark_symbol="SPX")
    last = frame.iloc[-1]
    assert last["rolling_vol_252"] == 0.0 and last["drawdown"] == 0.0
    assert np.isnan(last["rolling_beta_252"])  # a flat benchmark has no beta
    strat, bench = _levels(300)
    strat.iloc[[10, 11]] = np.nan  # missing levels: the dates drop out on both sides
    frame = rolling_rows(aligned_levels(strat, bench), benchmark_symbol="SPX")
    assert len(frame) == 2 * (300 - 2 - 1)
    assert frame.notna()["drawdown"].all()


def _brute_worst(levels: pd.Series, h: int) -> float:
    values = levels.to_numpy()
    return min(values[i + h] / values[i] - 1 for i in range(len(values) - h))


def test_stress_rows_worst_periods_match_brute_force() -> None:
    strat, bench = _levels(300)
    levels = aligned_levels(strat, bench)
    frame = _stress(levels)
    assert list(frame.columns) == STRESS_TESTS.columns
    worst = frame[frame["test"] == "worst_period"].set_index(["subject", "scenario"])
    for subject in ("strategy", "benchmark"):
        for h in (1, 5, 20):
            row = worst.loc[(subject, f"worst_{h}d")]
            assert row["stressed_return"] == pytest.approx(_brute_worst(levels[subject], h))
            assert row["coverage"] == COVERED
            span = levels.index[(levels.index >= pd.Timestamp(row["start_date"]))]
            assert pd.Timestamp(row["end_date"]) == span[h - 1]


def test_stress_rows_historical_windows_say_covered_partial_or_absent() -> None:
    strat, bench = _levels(200, start="2019-12-02")  # covers COVID, not GFC
    levels = aligned_levels(strat, bench)
    frame = _stress(levels).query("test == 'historical_window'").set_index(["scenario", "subject"])
    assert len(frame) == 4
    covid = frame.loc[("COVID", "strategy")]
    assert covid["coverage"] == COVERED
    expected = strat[:"2020-03-23"].iloc[-1] / strat[:"2020-02-19"].iloc[-1] - 1
    assert covid["stressed_return"] == pytest.approx(expected)
    assert frame.loc[("GFC", "benchmark"), "coverage"] == ABSENT
    assert np.isnan(frame.loc[("GFC", "benchmark"), "stressed_return"])
    assert frame.loc[("GFC", "strategy"), "start_date"] == date(2008, 9, 15)

    partial = _stress(aligned_levels(strat[:"2020-03-02"], bench[:"2020-03-02"]))
    covid = partial.query("test == 'historical_window' and scenario == 'COVID'")
    assert set(covid["coverage"]) == {PARTIAL} and covid["stressed_return"].isna().all()


def test_stress_rows_beta_shocks_use_an_independent_beta() -> None:
    strat, bench = _levels(600)
    levels = aligned_levels(strat, bench)
    shocks = _stress(levels).query("test == 'beta_shock'")
    rs, rb = strat.pct_change().iloc[-252:], bench.pct_change().iloc[-252:]
    beta = np.cov(rs, rb)[0, 1] / np.var(rb, ddof=1)
    np.testing.assert_allclose(shocks["exposure"], beta, rtol=1e-9)
    np.testing.assert_allclose(shocks["stressed_return"], beta * np.array([-0.1, -0.2, -0.3]))
    assert (shocks["coverage"] == COVERED).all()


def test_stress_rows_sector_shock_and_unlabelled_weight() -> None:
    strat, bench = _levels(50)
    day = strat.index[-1]
    allocations = pd.DataFrame(
        {
            "date": [strat.index[-2]] * 2 + [day] * 4,
            "symbol": ["AAA", "BBB", "AAA", "BBB", "CCC", "DDD"],
            "weight": [0.5, 0.5, 0.4, 0.3, 0.2, 0.1],
        }
    )
    sectors = {"AAA": "Tech", "BBB": "Tech", "CCC": "Energy"}
    frame = _stress(aligned_levels(strat, bench), allocations, sectors=sectors, sector_shock=-0.3)
    rows = frame.query("test == 'sector_shock'").set_index("scenario")
    assert rows.at["Tech", "exposure"] == pytest.approx(0.7)
    assert rows.at["Tech", "stressed_return"] == pytest.approx(-0.21)
    assert rows.at["Energy", "stressed_return"] == pytest.approx(-0.06)
    assert rows.at[UNLABELLED, "exposure"] == pytest.approx(0.1)
    assert rows.at[UNLABELLED, "coverage"] == ABSENT
    assert "DDD" in rows.at[UNLABELLED, "detail"]
    assert (rows["end_date"] == day.date()).all()


@pytest.mark.parametrize("n", [0, 1, 2])
def test_stress_rows_tiny_histories_give_absent_rows(n: int) -> None:
    strat, bench = _levels(n)
    frame = _stress(aligned_levels(strat, bench))
    assert list(frame.columns) == STRESS_TESTS.columns
    worst = frame[frame["test"] == "worst_period"]
    assert len(worst) == 6
    expected_covered = {1} if n == 2 else set()
    covered = {int(s[6:-1]) for s in worst.loc[worst["coverage"] == COVERED, "scenario"]}
    assert covered == expected_covered
    beta = frame[frame["test"] == "beta_shock"]
    assert (beta["coverage"] == ABSENT).all() and beta["stressed_return"].isna().all()
    sector = frame[frame["test"] == "sector_shock"]
    assert list(sector["scenario"]) == [UNLABELLED] and sector["coverage"].iloc[0] == ABSENT
