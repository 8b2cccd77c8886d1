"""Property tests (hypothesis) of the windows, rolling series, stress tests and alerts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexlake.risk.alerts import evaluate_alerts
from indexlake.risk.outputs import ABSENT, COVERED, rolling_rows, stress_rows
from indexlake.risk.report import aligned_levels, risk_metrics
from indexlake.risk.settings import AlertThresholds, StressWindow
from indexlake.risk.table import METRIC_COLUMNS, metric_table
from indexlake.risk.windows import metric_windows

SETTINGS = settings(max_examples=40, deadline=None)
moves = st.lists(
    st.one_of(
        st.integers(min_value=-900, max_value=1_000).map(lambda bp: bp / 10_000),
        st.just(float("nan")),
    ),
    min_size=0,
    max_size=320,
)


def _levels(strat: list[float], bench: list[float]) -> tuple[pd.Series, pd.Series]:
    """Level paths from daily moves; a NaN move is a missing level that day."""
    n = min(len(strat), len(bench))
    index = pd.bdate_range("2019-12-02", periods=n)
    s, b = np.asarray(strat[:n], dtype=float), np.asarray(bench[:n], dtype=float)
    s_levels = 100 * np.cumprod(1 + np.nan_to_num(s))
    b_levels = 50 * np.cumprod(1 + np.nan_to_num(b))
    s_levels[np.isnan(s)] = np.nan
    b_levels[np.isnan(b)] = np.nan
    return pd.Series(s_levels, index=index), pd.Series(b_levels, index=index)


@settings(max_examples=15, deadline=None)
@given(moves, moves, st.integers(min_value=0, max_value=200))
def test_windows_equal_each_window_measured_alone(
    strat: list[float], bench: list[float], young: int
) -> None:
    n = min(len(strat), len(bench))
    index = pd.bdate_range("2019-12-02", periods=n)
    old = np.asarray(strat[:n], dtype=float)
    younger = old.copy()
    younger[: min(young, n)] = np.nan  # a strategy that starts later
    frame = pd.DataFrame({"a": old, "b": younger}, index=index)
    b = pd.Series(bench[:n], index=index, dtype=float)
    table = metric_windows(frame, b).set_index(["window", "series"])
    life = {c: (frame[c].first_valid_index(), frame[c].last_valid_index()) for c in frame}
    for (window, series), row in table.iterrows():
        if window == "full":
            rows = index
        elif window.startswith("year_"):
            rows = index[index.year == int(window[5:])]
        else:
            rows = index[-int(window[9:-1]) :]
        alone = metric_table(frame.loc[rows, [series]], b.loc[rows]).iloc[0]
        first, last = life[series]
        spans = window == "full" or (
            len(rows) > 0 and first is not None and first <= rows[0] and last >= rows[-1]
        )
        assert row["observations"] == alone["observations"]
        for name in METRIC_COLUMNS[1:]:
            expected = alone[name] if spans else np.nan
            assert np.isclose(row[name], expected, rtol=1e-12, atol=0, equal_nan=True), name


@SETTINGS
@given(moves, moves)
def test_rolling_rows_are_bounded_and_cover_each_return(
    strat: list[float], bench: list[float]
) -> None:
    both = aligned_levels(*_levels(strat, bench))
    frame = rolling_rows(both, benchmark_symbol="SPX")
    assert len(frame) == 2 * max(len(both) - 1, 0)
    assert (frame["drawdown"] <= 0).all() and (frame["drawdown"] >= -1).all()
    for column in ("rolling_vol_63", "rolling_vol_252"):
        values = frame[column].dropna()
        assert (values >= 0).all()
    bench_beta = frame.loc[frame["subject"] == "benchmark", "rolling_beta_252"].dropna()
    assert np.allclose(bench_beta, 1.0)


WINDOWS = [StressWindow(name="COVID", start=date(2020, 2, 19), end=date(2020, 3, 23))]


@SETTINGS
@given(moves, moves, st.floats(min_value=-1, max_value=1))
def test_stress_rows_have_every_test_and_consistent_numbers(
    strat: list[float], bench: list[float], shock: float
) -> None:
    s, b = _levels(strat, bench)
    both = aligned_levels(s, b)
    risk = risk_metrics(s, b, benchmark_symbol="SPX")
    allocations = pd.DataFrame(
        {"date": pd.Timestamp("2020-01-02"), "symbol": ["A", "B", "C"], "weight": [0.5, 0.3, 0.2]}
    )
    frame = stress_rows(
        both,
        risk,
        allocations,
        windows=WINDOWS,
        benchmark_shocks=[shock],
        sectors={"A": "X", "B": "Y"},
        sector_shock=shock,
    )
    counts = frame["test"].value_counts()
    assert counts["worst_period"] == 6 and counts["historical_window"] == 2
    assert counts["beta_shock"] == 1 and counts["sector_shock"] == 3
    assert set(frame["coverage"]) <= {COVERED, ABSENT, "partial"}
    # A row with a number is covered; a row without one says so.
    numbered = frame["stressed_return"].notna()
    assert (frame.loc[numbered, "coverage"] == COVERED).all()
    assert (frame.loc[~numbered, "coverage"] != COVERED).all()
    worst = frame[(frame["test"] == "worst_period") & numbered].set_index(["subject", "scenario"])
    returns = both.pct_change().iloc[1:]
    for subject in ("strategy", "benchmark"):
        if (subject, "worst_1d") in worst.index:
            # Same number by another route (level ratios vs pct_change): equal to float noise.
            worst_1d = worst.loc[(subject, "worst_1d"), "stressed_return"]
            assert worst_1d == pytest.approx(returns[subject].min(), rel=1e-12, abs=1e-15)
    beta = frame[frame["test"] == "beta_shock"].iloc[0]
    if beta["coverage"] == COVERED:
        assert np.isclose(beta["stressed_return"], beta["exposure"] * shock)
    sector = frame[frame["test"] == "sector_shock"].set_index("scenario")
    assert np.isclose(sector["exposure"].sum(), 1.0)


@SETTINGS
@given(
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0.01, max_value=1),
    st.floats(min_value=0.01, max_value=1),
)
def test_a_tighter_threshold_never_removes_an_alert(vol: float, limit: float, step: float) -> None:
    risk = pd.DataFrame(
        {
            "subject": ["strategy"],
            "window": ["trailing_252d"],
            "annualised_volatility": [vol],
            "tracking_error": [np.nan],
            "end_date": [pd.Timestamp("2024-01-02")],
        }
    )
    rolling = pd.DataFrame(columns=["date", "subject", "drawdown"])
    loose = AlertThresholds(volatility=limit + step)
    tight = AlertThresholds(volatility=limit)
    n_loose = len(evaluate_alerts("s", risk, rolling, loose, run_id="r"))
    n_tight = len(evaluate_alerts("s", risk, rolling, tight, run_id="r"))
    assert n_tight >= n_loose
    assert n_tight == int(vol > limit)
