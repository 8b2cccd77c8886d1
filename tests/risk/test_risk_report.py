"""risk_metrics: the RISK_METRICS rows for a strategy and its benchmark."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from indexlake.lake.schemas import RISK_METRICS
from indexlake.risk.metrics import (
    annualised_volatility,
    beta,
    max_drawdown,
    sharpe_ratio,
    simple_returns,
    tracking_error,
)
from indexlake.risk.report import risk_metrics

RISK_FREE = 0.02


def _levels(seed: int, n: int, start: str = "2022-01-03") -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=n)
    bench = 100 * np.cumprod(1 + rng.normal(0.0003, 0.01, n))
    strat = 1000 * np.cumprod(1 + rng.normal(0.0004, 0.012, n))
    return pd.Series(strat, index=index), pd.Series(bench, index=index)


@pytest.fixture(scope="module")
def report() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    strat, bench = _levels(1, 400)
    return risk_metrics(strat, bench, benchmark_symbol="SPX", risk_free=RISK_FREE), strat, bench


def _row(frame: pd.DataFrame, subject: str, window: str) -> pd.Series:
    match = frame[(frame["subject"] == subject) & (frame["window"] == window)]
    assert len(match) == 1
    return match.iloc[0]


def test_columns_and_keys(report) -> None:
    frame, _, _ = report
    assert list(frame.columns) == RISK_METRICS.columns
    assert sorted(zip(frame["subject"], frame["window"], strict=True)) == [
        ("benchmark", "full"),
        ("benchmark", "trailing_252d"),
        ("strategy", "full"),
        ("strategy", "trailing_252d"),
    ]
    assert frame.loc[frame["subject"] == "benchmark", "symbol"].eq("SPX").all()
    assert frame.loc[frame["subject"] == "strategy", "symbol"].isna().all()


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
    assert row["annualised_volatility"] == pytest.approx(annualised_volatility(returns))
    assert row["sharpe"] == pytest.approx(sharpe_ratio(returns, RISK_FREE))
    assert row["beta"] == pytest.approx(beta(returns, bench_returns))
    assert row["tracking_error"] == pytest.approx(tracking_error(returns, bench_returns))


def test_trailing_window_is_the_last_252_returns(report) -> None:
    frame, strat, _ = report
    row = _row(frame, "strategy", "trailing_252d")
    returns = simple_returns(strat).iloc[-252:]
    assert row["observations"] == 252
    assert row["start_date"] == returns.index[0].date()
    assert row["max_drawdown"] == pytest.approx(max_drawdown(returns))


def test_benchmark_against_itself(report) -> None:
    frame, _, bench = report
    for window in ("full", "trailing_252d"):
        row = _row(frame, "benchmark", window)
        assert row["beta"] == 1.0
        assert row["tracking_error"] == 0.0
    full = _row(frame, "benchmark", "full")
    assert full["annualised_volatility"] == pytest.approx(
        annualised_volatility(simple_returns(bench))
    )


def test_benchmark_is_measured_over_the_strategy_dates() -> None:
    strat, bench = _levels(2, 60)
    # The benchmark has extra history and a holiday the strategy does not (and vice versa).
    extra = pd.Series(90.0, index=pd.bdate_range("2021-06-01", periods=20))
    bench = pd.concat([extra, bench.drop(bench.index[10])])
    frame = risk_metrics(strat, bench, benchmark_symbol="SPX")
    for subject in ("strategy", "benchmark"):
        row = _row(frame, subject, "full")
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

    empty = risk_metrics(strat.iloc[:0], bench.iloc[:0], benchmark_symbol="SPX")
    assert len(empty) == 4
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
