"""metric_table and metric_windows: the vectorised metrics equal the single-series functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indexlake.risk import metrics, tail
from indexlake.risk.table import METRIC_COLUMNS, metric_table
from indexlake.risk.windows import WINDOW_COLUMNS, metric_windows

from .samples import BENCHMARK, MIXED, random_panel

REL = 1e-9
RISK_FREE = 0.03
SINGLE = {
    "cumulative_return": metrics.cumulative_return,
    "annualised_volatility": metrics.annualised_volatility,
    "max_drawdown": metrics.max_drawdown,
    "var_95_historical": lambda r: metrics.historical_var(r, 0.95),
    "var_99_historical": lambda r: metrics.historical_var(r, 0.99),
    "cvar_95_historical": lambda r: tail.historical_cvar(r, 0.95),
    "cvar_99_historical": lambda r: tail.historical_cvar(r, 0.99),
    "var_95_parametric": lambda r: tail.parametric_var(r, 0.95),
    "var_99_parametric": lambda r: tail.parametric_var(r, 0.99),
    "cvar_95_parametric": lambda r: tail.parametric_cvar(r, 0.95),
    "cvar_99_parametric": lambda r: tail.parametric_cvar(r, 0.99),
    "skew": tail.skewness,
    "excess_kurtosis": tail.excess_kurtosis,
    "best_return": metrics.best_return,
    "worst_return": metrics.worst_return,
    "hit_ratio": metrics.hit_ratio,
}
WITH_RISK_FREE = {
    "sharpe": metrics.sharpe_ratio,
    "sortino": metrics.sortino_ratio,
}
RELATIVE = {
    "beta": metrics.beta,
    "correlation": metrics.correlation,
    "tracking_error": metrics.tracking_error,
    "information_ratio": metrics.information_ratio,
    "alpha": lambda r, b: metrics.alpha(r, b, RISK_FREE),
}
# Life-trimmed (see table.py): annualised over the first..last non-NaN return.
LIFE = {
    "annualised_return": metrics.annualised_return,
    "calmar": metrics.calmar_ratio,
}


def _assert_same(actual: float, expected: float) -> None:
    if np.isnan(expected):
        assert np.isnan(actual)
    else:
        assert actual == pytest.approx(expected, rel=REL, abs=1e-15)


def _check_against_scalars(table: pd.DataFrame, frame: pd.DataFrame, bench: pd.Series) -> None:
    for name in frame.columns:
        r = frame[name]
        life = r.loc[r.first_valid_index() : r.last_valid_index()]
        row = table.loc[name]
        assert row["observations"] == r.notna().sum()
        for metric, fn in SINGLE.items():
            _assert_same(row[metric], fn(r))
        for metric, fn in WITH_RISK_FREE.items():
            _assert_same(row[metric], fn(r, RISK_FREE))
        for metric, fn in RELATIVE.items():
            _assert_same(row[metric], fn(r, bench))
        for metric, fn in LIFE.items():
            _assert_same(row[metric], fn(life))


def test_columns() -> None:
    table = metric_table(MIXED.to_frame("m"), BENCHMARK)
    assert list(table.columns) == list(METRIC_COLUMNS)
    assert table.index.name == "series"
    assert table["observations"].dtype == np.int64


def test_matches_single_series_functions(panel) -> None:
    frame, bench = panel
    frame = frame.copy()
    frame.iloc[:500, 1] = np.nan  # a strategy younger than the frame
    frame.iloc[-100:, 2] = np.nan  # and one that stopped
    _check_against_scalars(metric_table(frame, bench, RISK_FREE), frame, bench)


def test_reference_series_and_edge_columns() -> None:
    frame = pd.DataFrame(
        {
            "mixed": MIXED,
            "all_nan": np.nan,
            "constant": 0.001,
            "one": [np.nan] * 8 + [0.01],
            "two": [np.nan] * 7 + [0.01, -0.02],
        }
    )
    table = metric_table(frame, BENCHMARK, RISK_FREE)
    _check_against_scalars(table, frame, BENCHMARK)
    assert table.loc["mixed", "sortino"] == pytest.approx(
        metrics.sortino_ratio(MIXED, RISK_FREE), rel=1e-12
    )
    assert table.loc[["all_nan", "one"], "observations"].tolist() == [0, 1]
    assert table.loc[["all_nan", "one"]].drop(columns="observations").isna().all().all()


def test_leading_nans_are_not_elapsed_periods() -> None:
    """The one intended difference from annualised_return(MIXED), which counts 9 periods."""
    table = metric_table(MIXED.to_frame("m"), BENCHMARK)
    assert table.loc["m", "annualised_return"] == pytest.approx(
        metrics.annualised_return(MIXED.dropna()), rel=1e-12
    )


def test_empty_frame() -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype="float64")})
    table = metric_table(empty, pd.Series([], dtype="float64"))
    assert table.loc["a", "observations"] == 0
    assert table.drop(columns="observations").isna().all().all()
    assert metric_table(pd.DataFrame(index=MIXED.index), BENCHMARK).empty


def test_benchmark_aligns_on_the_index() -> None:
    frame = pd.DataFrame({"m": MIXED.to_numpy()}, index=range(10, 19))
    shuffled = pd.Series(BENCHMARK.to_numpy(), index=range(10, 19)).iloc[::-1]
    table = metric_table(frame, shuffled)
    assert table.loc["m", "beta"] == pytest.approx(-0.71296296, rel=1e-7)


@pytest.fixture(scope="module")
def windows() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """metric_windows of a 700-day panel whose s3 starts in mid-2020."""
    frame, bench = random_panel(5, n=700)
    frame.iloc[:400, 3] = np.nan
    return metric_windows(frame, bench, RISK_FREE), frame, bench


class TestWindows:
    def test_layout(self, windows) -> None:
        out, frame, _ = windows
        assert list(out.columns) == list(WINDOW_COLUMNS)
        expected = ["full", "year_2019", "year_2020", "year_2021", "trailing_63d", "trailing_252d"]
        assert list(dict.fromkeys(out["window"])) == expected
        assert len(out) == len(expected) * frame.shape[1]

    def test_full_window_is_metric_table(self, windows) -> None:
        out, frame, bench = windows
        full = out[out["window"] == "full"].set_index("series")[list(METRIC_COLUMNS)]
        expected = metric_table(frame, bench, RISK_FREE)
        pd.testing.assert_frame_equal(full, expected, check_names=False, rtol=1e-12)

    def test_calendar_year_and_trailing_rows(self, windows) -> None:
        out, frame, bench = windows
        year = out[(out["window"] == "year_2020") & (out["series"] == "s0")].iloc[0]
        in_year = frame.loc["2020", "s0"]
        assert year["start_date"] == in_year.first_valid_index()
        assert year["end_date"] == in_year.last_valid_index()
        assert year["observations"] == in_year.notna().sum()
        assert year["sharpe"] == pytest.approx(metrics.sharpe_ratio(in_year, RISK_FREE), rel=REL)
        last = out[(out["window"] == "trailing_63d") & (out["series"] == "s1")].iloc[0]
        tail_63 = frame["s1"].iloc[-63:]
        assert last["max_drawdown"] == pytest.approx(metrics.max_drawdown(tail_63), rel=REL)
        assert last["beta"] == pytest.approx(metrics.beta(tail_63, bench), rel=REL)

    def test_strategy_younger_than_the_window_gets_nan(self, windows) -> None:
        out, _, _ = windows
        rows = out[out["series"] == "s3"].set_index("window")
        # Born mid-2020: no 2019 data, a partial 2020, full 2021 and trailing windows.
        assert rows.loc["year_2019", "observations"] == 0
        assert pd.isna(rows.loc["year_2019", "start_date"])
        assert rows.loc["year_2020", "observations"] > 0
        assert rows.loc[["year_2019", "year_2020"], "sharpe"].isna().all()
        assert rows.loc[["year_2021", "trailing_252d", "full"], "sharpe"].notna().all()

    def test_partial_windows_on_request(self, windows) -> None:
        _, frame, bench = windows
        out = metric_windows(frame, bench, RISK_FREE, partial_windows=True)
        row = out[(out["series"] == "s3") & (out["window"] == "year_2020")].iloc[0]
        expected = metrics.sharpe_ratio(frame.loc["2020", "s3"], RISK_FREE)
        assert row["sharpe"] == pytest.approx(expected, rel=REL)

    def test_history_shorter_than_the_trailing_window(self) -> None:
        index = pd.bdate_range("2024-01-02", periods=40)
        frame = pd.DataFrame({"a": np.linspace(-0.01, 0.01, 40)}, index=index)
        out = metric_windows(frame, pd.Series(0.001 * np.arange(40), index=index))
        trailing = out[out["window"] == "trailing_252d"].iloc[0]
        # The window is the whole (short) frame, which the series spans: metrics are defined.
        assert trailing["observations"] == 40
        assert trailing["annualised_volatility"] > 0

    def test_empty(self) -> None:
        empty = pd.DataFrame({"a": pd.Series([], dtype="float64")}, index=pd.DatetimeIndex([]))
        out = metric_windows(empty, pd.Series([], dtype="float64", index=pd.DatetimeIndex([])))
        assert list(out["window"]) == ["full", "trailing_63d", "trailing_252d"]
        assert out["observations"].eq(0).all()
