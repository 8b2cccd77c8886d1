"""risk_metrics: the RISK_METRICS rows for a strategy and its benchmark, every metric and window."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from indexlake.lake.schemas import RISK_METRICS
from indexlake.risk import metrics, tail
from indexlake.risk.metrics import simple_returns
from indexlake.risk.report import METRIC_FLOAT_COLUMNS, risk_metrics
from indexlake.risk.table import METRIC_COLUMNS

RISK_FREE = 0.02
# The columns published before the full metric set, with their old definitions.
LEGACY_COLUMNS = (
    "annualised_return",
    "annualised_volatility",
    "sharpe",
    "max_drawdown",
    "beta",
    "tracking_error",
    "var_95_historical",
)
# The vectorised metrics sum in another order than the single-series functions: the values
# agree to a few ulps (largest seen: 8e-16 relative, in beta), never more.
LEGACY_REL = 1e-14


def _levels(seed: int, n: int, start: str = "2022-01-03") -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=n)
    bench = 100 * np.cumprod(1 + rng.normal(0.0003, 0.01, n))
    strat = 1000 * np.cumprod(1 + rng.normal(0.0004, 0.012, n))
    return pd.Series(strat, index=index), pd.Series(bench, index=index)


def _legacy_report(
    strat: pd.Series, bench: pd.Series, *, symbol: str, risk_free: float
) -> pd.DataFrame:
    """The report as published before this change (full and trailing_252d, seven metrics)."""
    common = strat.index.intersection(bench.index)
    s_all, b_all = simple_returns(strat.loc[common]), simple_returns(bench.loc[common])
    rows = []
    for window, positions in {"full": slice(None), "trailing_252d": slice(-252, None)}.items():
        s, b = s_all.iloc[positions], b_all.iloc[positions]
        for subject, sym, r in (("strategy", None, s), ("benchmark", symbol, b)):
            rows.append(
                {
                    "subject": subject,
                    "symbol": sym,
                    "window": window,
                    "start_date": r.index[0].date(),
                    "end_date": r.index[-1].date(),
                    "observations": int(r.notna().sum()),
                    "annualised_return": metrics.annualised_return(r),
                    "annualised_volatility": metrics.annualised_volatility(r),
                    "sharpe": metrics.sharpe_ratio(r, risk_free),
                    "max_drawdown": metrics.max_drawdown(r),
                    "beta": metrics.beta(r, b),
                    "tracking_error": metrics.tracking_error(r, b),
                    "var_95_historical": metrics.historical_var(r, 0.95),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def report() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    strat, bench = _levels(1, 400)
    return risk_metrics(strat, bench, benchmark_symbol="SPX", risk_free=RISK_FREE), strat, bench


def _row(frame: pd.DataFrame, subject: str, window: str) -> pd.Series:
    match = frame[(frame["subject"] == subject) & (frame["window"] == window)]
    assert len(match) == 1
    return match.iloc[0]


def test_schema_columns_are_the_metric_set() -> None:
    head = ["subject", "symbol", "window", "start_date", "end_date"]
    assert RISK_METRICS.columns == [*head, *METRIC_COLUMNS]
    for name in METRIC_FLOAT_COLUMNS:
        assert RISK_METRICS.schema.field(name).type == pa.float64()
    assert RISK_METRICS.schema.field("observations").type == pa.int32()
    for name in ("start_date", "end_date"):
        assert RISK_METRICS.schema.field(name).type == pa.date32()
    for name in ("subject", "symbol", "window"):
        assert RISK_METRICS.schema.field(name).type == pa.string()


def test_columns_and_keys(report) -> None:
    frame, _, _ = report
    assert list(frame.columns) == RISK_METRICS.columns
    windows = ["full", "year_2022", "year_2023", "trailing_63d", "trailing_252d"]
    assert list(zip(frame["subject"], frame["window"], strict=True)) == [
        (subject, window) for window in windows for subject in ("strategy", "benchmark")
    ]
    assert frame.loc[frame["subject"] == "benchmark", "symbol"].eq("SPX").all()
    assert frame.loc[frame["subject"] == "strategy", "symbol"].isna().all()
    assert all(frame[c].dtype == np.float64 for c in METRIC_FLOAT_COLUMNS)


def test_converts_to_the_published_arrow_schema(report) -> None:
    frame, _, _ = report
    table = pa.Table.from_pandas(frame, schema=RISK_METRICS.schema, preserve_index=False)
    assert table.schema.equals(RISK_METRICS.schema)
    assert table.column("start_date")[0].as_py() == dt.date(2022, 1, 4)


def test_full_window_uses_every_return(report) -> None:
    frame, strat, bench = report
    row = _row(frame, "strategy", "full")
    returns, bench_returns = simple_returns(strat), simple_returns(bench)
    assert row["observations"] == len(strat) - 1
    assert row["start_date"] == strat.index[1].date()
    assert row["end_date"] == strat.index[-1].date()
    expected = {
        "annualised_volatility": metrics.annualised_volatility(returns),
        "sharpe": metrics.sharpe_ratio(returns, RISK_FREE),
        "sortino": metrics.sortino_ratio(returns, RISK_FREE),
        "calmar": metrics.calmar_ratio(returns),
        "beta": metrics.beta(returns, bench_returns),
        "alpha": metrics.alpha(returns, bench_returns, RISK_FREE),
        "tracking_error": metrics.tracking_error(returns, bench_returns),
        "information_ratio": metrics.information_ratio(returns, bench_returns),
        "cvar_99_parametric": tail.parametric_cvar(returns, 0.99),
        "cvar_95_historical": tail.historical_cvar(returns, 0.95),
        "excess_kurtosis": tail.excess_kurtosis(returns),
        "worst_return": metrics.worst_return(returns),
        "hit_ratio": metrics.hit_ratio(returns),
    }
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-12), name


def test_trailing_windows_are_the_last_returns(report) -> None:
    frame, strat, _ = report
    for length in (63, 252):
        row = _row(frame, "strategy", f"trailing_{length}d")
        returns = simple_returns(strat).iloc[-length:]
        assert row["observations"] == length
        assert row["start_date"] == returns.index[0].date()
        assert row["end_date"] == strat.index[-1].date()
        assert row["max_drawdown"] == pytest.approx(metrics.max_drawdown(returns), rel=1e-12)
        assert row["skew"] == pytest.approx(tail.skewness(returns), rel=1e-12)


def test_calendar_year_windows(report) -> None:
    frame, strat, bench = report
    returns, bench_returns = simple_returns(strat), simple_returns(bench)
    for year in (2022, 2023):
        in_year = returns[returns.index.year == year]
        b = bench_returns[bench_returns.index.year == year]
        row = _row(frame, "strategy", f"year_{year}")
        assert row["observations"] == len(in_year)
        assert (row["start_date"], row["end_date"]) == (
            in_year.index[0].date(),
            in_year.index[-1].date(),
        )
        # A partial year is annualised over its own returns, like every other window.
        assert row["annualised_return"] == pytest.approx(
            metrics.annualised_return(in_year), rel=1e-12
        )
        assert row["correlation"] == pytest.approx(metrics.correlation(in_year, b), rel=1e-12)
        assert row["var_99_historical"] == pytest.approx(
            metrics.historical_var(in_year, 0.99), rel=1e-12
        )


def test_benchmark_against_itself(report) -> None:
    frame, _, bench = report
    rows = frame[frame["subject"] == "benchmark"]
    assert len(rows) == 5
    assert rows["beta"].eq(1.0).all()
    assert rows["tracking_error"].eq(0.0).all()
    assert rows["alpha"].eq(0.0).all()
    assert rows["information_ratio"].isna().all()
    full = _row(frame, "benchmark", "full")
    assert full["annualised_volatility"] == pytest.approx(
        metrics.annualised_volatility(simple_returns(bench)), rel=1e-12
    )


@pytest.mark.parametrize(("seed", "n"), [(7, 1300), (11, 900), (2024, 180)])
def test_legacy_columns_keep_their_published_values(seed: int, n: int) -> None:
    # Sandbox-like: five years of sessions (or less than one), a holiday missing in one series.
    strat, bench = _levels(seed, n, start="2019-03-05")
    bench = bench.drop(bench.index[37])
    new = risk_metrics(strat, bench, benchmark_symbol="SPX", risk_free=RISK_FREE)
    old = _legacy_report(strat, bench, symbol="SPX", risk_free=RISK_FREE)
    for _, before in old.iterrows():
        after = _row(new, before["subject"], before["window"])
        for name in ("symbol", "start_date", "end_date", "observations"):
            both_null = pd.isna(after[name]) and pd.isna(before[name])
            assert both_null or after[name] == before[name], name
        for name in LEGACY_COLUMNS:
            assert after[name] == pytest.approx(before[name], rel=LEGACY_REL, abs=0.0), name
        if before["subject"] == "benchmark":
            assert (after["beta"], after["tracking_error"]) == (1.0, 0.0)


def test_benchmark_is_measured_over_the_strategy_dates() -> None:
    strat, bench = _levels(2, 60)
    # The benchmark has extra history and a holiday the strategy does not (and vice versa).
    extra = pd.Series(90.0, index=pd.bdate_range("2021-06-01", periods=20))
    bench = pd.concat([extra, bench.drop(bench.index[10])])
    frame = risk_metrics(strat, bench, benchmark_symbol="SPX")
    assert set(frame["window"]) == {"full", "year_2022", "trailing_63d", "trailing_252d"}
    for subject in ("strategy", "benchmark"):
        for window in ("full", "year_2022", "trailing_252d"):
            row = _row(frame, subject, window)
            assert row["start_date"] == strat.index[1].date()
            assert row["end_date"] == strat.index[-1].date()
            assert row["observations"] == 58


def test_short_history_gives_nan_not_an_error() -> None:
    strat, bench = _levels(3, 2)
    frame = risk_metrics(strat, bench, benchmark_symbol="SPX")
    row = _row(frame, "strategy", "full")
    assert row["observations"] == 1
    assert math.isnan(row["annualised_volatility"])
    assert math.isnan(row["sharpe"])
    assert frame[list(METRIC_FLOAT_COLUMNS)].isna().all().all()

    empty = risk_metrics(strat.iloc[:0], bench.iloc[:0], benchmark_symbol="SPX")
    assert list(empty["window"].unique()) == ["full", "trailing_63d", "trailing_252d"]
    assert len(empty) == 6
    assert empty["observations"].eq(0).all()
    assert empty["start_date"].isna().all()
    pa.Table.from_pandas(empty, schema=RISK_METRICS.schema, preserve_index=False)


def test_accepts_date_objects_as_index() -> None:
    strat, bench = _levels(4, 30)
    by_date = risk_metrics(
        strat.set_axis([d.date() for d in strat.index]),
        bench.set_axis([d.date() for d in bench.index]),
        benchmark_symbol="SPX",
    )
    pd.testing.assert_frame_equal(by_date, risk_metrics(strat, bench, benchmark_symbol="SPX"))


def test_duplicate_dates_are_refused() -> None:
    strat, bench = _levels(5, 10)
    with pytest.raises(ValueError, match="more than one value"):
        risk_metrics(pd.concat([strat, strat.iloc[:1]]), bench, benchmark_symbol="SPX")
