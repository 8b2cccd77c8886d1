"""Return, ratio and relative metrics added to metrics.py: reference values and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indexlake.risk.metrics import (
    alpha,
    annualised_return,
    best_return,
    beta,
    calmar_ratio,
    correlation,
    cumulative_return,
    hit_ratio,
    information_ratio,
    max_drawdown,
    risk_free_per_period,
    sharpe_ratio,
    sortino_ratio,
    tracking_error,
    worst_return,
)

from .samples import BACON_MONTHLY, BENCHMARK, MIXED, MONTHS_PER_YEAR

ONE_VARIABLE = [
    cumulative_return,
    sortino_ratio,
    calmar_ratio,
    best_return,
    worst_return,
    hit_ratio,
]
TWO_VARIABLE = [alpha, correlation, information_ratio]


class TestReferenceValues:
    def test_sortino_on_mixed(self) -> None:
        assert sortino_ratio(MIXED) == pytest.approx(2.605531251673693, rel=1e-12)

    def test_alpha_vs_benchmark(self) -> None:
        assert alpha(MIXED, BENCHMARK) == pytest.approx(-0.99978538, rel=1e-7)
        assert beta(MIXED, BENCHMARK) == pytest.approx(-0.71296296, rel=1e-7)

    def test_alpha_is_compounded_from_the_mean_residual(self) -> None:
        r, b = MIXED.iloc[1:], BENCHMARK.iloc[1:]
        residual = (r - beta(r, b) * b).mean()
        assert alpha(MIXED, BENCHMARK) == pytest.approx((1 + residual) ** 252 - 1, rel=1e-12)


class TestBaconMonthlySample:
    """R PerformanceAnalytics on `portfolio_bacon` (12 periods a year), as methodology.md."""

    def test_sharpe(self) -> None:
        value = sharpe_ratio(BACON_MONTHLY, periods_per_year=MONTHS_PER_YEAR)
        assert value == pytest.approx(0.78832, abs=5e-6)

    def test_sortino(self) -> None:
        value = sortino_ratio(BACON_MONTHLY, periods_per_year=MONTHS_PER_YEAR)
        assert value == pytest.approx(1.35922, abs=5e-6)

    def test_max_drawdown(self) -> None:
        assert max_drawdown(BACON_MONTHLY) == pytest.approx(-0.14467, abs=5e-6)


class TestConventions:
    def test_sortino_target_is_the_per_period_risk_free_rate(self) -> None:
        r = MIXED.dropna()
        excess = r - risk_free_per_period(0.05)
        downside = math.sqrt((np.minimum(excess, 0) ** 2).mean())
        expected = excess.mean() * 252 / (downside * math.sqrt(252))
        assert sortino_ratio(MIXED, 0.05) == pytest.approx(expected, rel=1e-12)

    def test_cumulative_return_compounds(self) -> None:
        assert cumulative_return(pd.Series([0.1, np.nan, -0.1])) == pytest.approx(1.1 * 0.9 - 1)

    def test_calmar(self) -> None:
        assert calmar_ratio(MIXED) == pytest.approx(annualised_return(MIXED) / 0.1, rel=1e-12)

    def test_information_ratio_is_annualised_active_mean_over_tracking_error(self) -> None:
        active = (MIXED - BENCHMARK).dropna()
        expected = active.mean() * 252 / tracking_error(MIXED, BENCHMARK)
        assert information_ratio(MIXED, BENCHMARK) == pytest.approx(expected, rel=1e-12)

    def test_correlation_matches_pandas(self) -> None:
        expected = MIXED.corr(BENCHMARK)
        assert correlation(MIXED, BENCHMARK) == pytest.approx(expected, rel=1e-12)

    def test_best_worst_and_hit_ratio(self) -> None:
        r = pd.Series([0.02, 0.0, -0.01, np.nan, 0.03])
        assert best_return(r) == 0.03
        assert worst_return(r) == -0.01
        # A 0% day is not a hit; the NaN is not an observation.
        assert hit_ratio(r) == 0.5


class TestEdgeCases:
    @pytest.mark.parametrize("fn", ONE_VARIABLE)
    @pytest.mark.parametrize(
        "returns",
        [
            pd.Series([], dtype="float64"),
            pd.Series([0.01]),
            pd.Series([np.nan, np.nan]),
            pd.Series([np.nan, np.nan, 0.01]),
        ],
        ids=["empty", "one", "all-nan", "one-after-nans"],
    )
    def test_too_few_observations_give_nan(self, fn, returns) -> None:
        assert math.isnan(fn(returns))

    @pytest.mark.parametrize("fn", TWO_VARIABLE)
    def test_two_series_too_few_pairs_give_nan(self, fn) -> None:
        assert math.isnan(fn(pd.Series([0.01, np.nan, 0.02]), pd.Series([0.01, 0.03, np.nan])))
        assert math.isnan(fn(pd.Series([], dtype="float64"), pd.Series([], dtype="float64")))

    def test_constant_returns(self) -> None:
        flat = pd.Series([0.001] * 10)
        # No return below the target: no downside deviation, so no Sortino (empyrical: +inf).
        assert math.isnan(sortino_ratio(flat))
        # No drawdown: no Calmar (not +inf, not 0).
        assert math.isnan(calmar_ratio(flat))
        assert hit_ratio(flat) == 1.0
        assert math.isnan(correlation(flat, pd.Series(np.linspace(0, 0.01, 10))))

    def test_constant_benchmark(self) -> None:
        r, b = pd.Series([0.01, 0.02, 0.03]), pd.Series([0.01, 0.01, 0.01])
        assert math.isnan(alpha(r, b))
        assert math.isnan(correlation(r, b))

    def test_identical_series_have_no_information_ratio(self) -> None:
        r = pd.Series([0.01, -0.02, 0.03])
        assert tracking_error(r, r) == 0.0
        assert math.isnan(information_ratio(r, r))
