"""Risk metrics: methodology.md reference values, edge cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexlake.risk.metrics import (
    TRADING_DAYS_PER_YEAR,
    annualised_return,
    annualised_volatility,
    beta,
    historical_var,
    max_drawdown,
    risk_free_per_period,
    sharpe_ratio,
    simple_returns,
    tracking_error,
)

# methodology.md "Reference values (empyrical-reloaded 0.7.1, verified)", in percent.
MIXED = pd.Series([np.nan, 1, 10, -4, 2, 3, 2, 1, -10]) / 100
BENCHMARK = pd.Series([0, -6, -7, -1, -9, -2, -6, -8, -5]) / 100
VAR_SAMPLE = pd.Series([1, 81, 82, 83, 84, 85], dtype="float64")

ONE_VARIABLE = [
    annualised_return,
    annualised_volatility,
    sharpe_ratio,
    max_drawdown,
    historical_var,
]
TWO_VARIABLE = [beta, tracking_error]


class TestReferenceValues:
    def test_annualised_volatility(self) -> None:
        assert annualised_volatility(MIXED) == pytest.approx(0.9136465399704637, rel=1e-12)

    def test_sharpe(self) -> None:
        assert sharpe_ratio(MIXED) == pytest.approx(1.7238613961706866, rel=1e-12)

    def test_max_drawdown(self) -> None:
        assert max_drawdown(MIXED) == pytest.approx(-0.1, rel=1e-12)

    def test_annualised_return_counts_the_nan_period(self) -> None:
        # empyrical's annual_return: 9 periods (the NaN one as 0%), not the 8 non-NaN returns.
        assert annualised_return(MIXED) == pytest.approx(1.9135925373194578, rel=1e-12)
        assert annualised_return(MIXED.dropna()) == pytest.approx(
            float(np.prod(1 + MIXED.dropna())) ** (TRADING_DAYS_PER_YEAR / 8) - 1, rel=1e-12
        )

    def test_beta_drops_the_nan_pair(self) -> None:
        assert beta(MIXED, BENCHMARK) == pytest.approx(-0.712962962962963, rel=1e-9)

    def test_historical_var_10_percent_tail_is_level_90(self) -> None:
        # "VaR at 10%" in the reference is the 10% tail, i.e. a 90% confidence level.
        assert historical_var(VAR_SAMPLE, level=0.90) == pytest.approx(41.0, rel=1e-12)

    def test_historical_var_default_level_is_the_5_percent_quantile(self) -> None:
        assert historical_var(VAR_SAMPLE) == pytest.approx(np.percentile(VAR_SAMPLE, 5))
        assert historical_var(VAR_SAMPLE) == pytest.approx(21.0)

    def test_tracking_error(self) -> None:
        active = (MIXED - BENCHMARK).dropna()
        expected = active.std(ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR)
        assert tracking_error(MIXED, BENCHMARK) == pytest.approx(expected, rel=1e-12)


class TestConventions:
    def test_risk_free_is_annual_and_compounded_per_period(self) -> None:
        assert (1 + risk_free_per_period(0.05)) ** TRADING_DAYS_PER_YEAR == pytest.approx(1.05)

    def test_sharpe_subtracts_the_daily_risk_free_rate(self) -> None:
        excess = MIXED.dropna() - risk_free_per_period(0.03)
        expected = excess.mean() / excess.std(ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR)
        assert sharpe_ratio(MIXED, risk_free=0.03) == pytest.approx(expected, rel=1e-12)

    def test_historical_var_sign_is_a_return(self) -> None:
        returns = pd.Series(np.linspace(-0.05, 0.05, 101))
        assert historical_var(returns, 0.95) == pytest.approx(-0.045)

    def test_max_drawdown_counts_the_start_as_a_peak(self) -> None:
        assert max_drawdown(pd.Series([-0.1, 0.05])) == pytest.approx(-0.1)

    def test_simple_returns(self) -> None:
        levels = pd.Series([100.0, 110.0, 99.0], index=pd.date_range("2024-01-02", periods=3))
        out = simple_returns(levels)
        assert list(out.index) == list(levels.index[1:])
        np.testing.assert_allclose(out.to_numpy(), [0.1, -0.1])

    def test_simple_returns_do_not_fill_a_missing_level(self) -> None:
        out = simple_returns(pd.Series([100.0, np.nan, 110.0, 121.0]))
        assert out.isna().tolist() == [True, True, False]

    def test_two_series_functions_align_on_the_index(self) -> None:
        r = pd.Series([0.01, 0.02, -0.01, 0.03], index=list("abcd"))
        b = pd.Series([0.02, 0.04, -0.02, 0.5], index=list("dcba"))
        # Aligned on labels, b is [0.5, -0.02, 0.04, 0.02]; not positionally 2 * r.
        expected = np.cov(r, b.loc[r.index])[0, 1] / b.var(ddof=1)
        assert beta(r, b) == pytest.approx(expected, rel=1e-12)
        assert beta(r, 2 * r.iloc[::-1]) == pytest.approx(0.5, rel=1e-12)

    def test_var_level_must_be_a_probability(self) -> None:
        with pytest.raises(ValueError, match="level"):
            historical_var(VAR_SAMPLE, level=95)


class TestEdgeCases:
    @pytest.mark.parametrize("fn", ONE_VARIABLE)
    @pytest.mark.parametrize(
        "returns",
        [pd.Series([], dtype="float64"), pd.Series([0.01]), pd.Series([np.nan, np.nan, 0.01])],
        ids=["empty", "one", "one-after-nans"],
    )
    def test_too_few_observations_give_nan(self, fn, returns) -> None:
        assert math.isnan(fn(returns))

    @pytest.mark.parametrize("fn", TWO_VARIABLE)
    def test_two_series_too_few_pairs_give_nan(self, fn) -> None:
        r = pd.Series([0.01, np.nan, 0.02])
        b = pd.Series([0.01, 0.03, np.nan])
        assert math.isnan(fn(r, b))
        assert math.isnan(fn(pd.Series([], dtype="float64"), pd.Series([], dtype="float64")))

    def test_disjoint_indexes_give_nan(self) -> None:
        r = pd.Series([0.01, 0.02], index=[0, 1])
        b = pd.Series([0.01, 0.02], index=[2, 3])
        assert math.isnan(beta(r, b))
        assert math.isnan(tracking_error(r, b))

    def test_constant_returns(self) -> None:
        flat = pd.Series([0.001] * 10)
        assert math.isnan(sharpe_ratio(flat))
        assert annualised_volatility(flat) == 0.0
        assert max_drawdown(flat) == 0.0
        assert annualised_return(flat) == pytest.approx(1.001**TRADING_DAYS_PER_YEAR - 1)

    def test_constant_benchmark_gives_nan_beta(self) -> None:
        assert math.isnan(beta(pd.Series([0.01, 0.02, 0.03]), pd.Series([0.01, 0.01, 0.01])))

    def test_all_negative(self) -> None:
        losses = pd.Series([-0.1, -0.1, -0.1])
        assert max_drawdown(losses) == pytest.approx(0.9**3 - 1)
        assert annualised_return(losses) < 0
        assert historical_var(losses) == pytest.approx(-0.1)

    def test_total_loss(self) -> None:
        assert max_drawdown(pd.Series([0.1, -1.0])) == pytest.approx(-1.0)
        assert annualised_return(pd.Series([0.1, -1.0])) == pytest.approx(-1.0)

    def test_accepts_numpy_arrays(self) -> None:
        assert annualised_volatility(MIXED.to_numpy()) == pytest.approx(0.9136465399704637)


# Returns on a 1bp grid within (-100%, +100%): no subnormal noise, wealth stays positive.
daily_returns = st.lists(
    st.integers(min_value=-9_900, max_value=10_000).map(lambda bp: bp / 10_000),
    min_size=2,
    max_size=300,
)


@settings(max_examples=100, deadline=None)
@given(daily_returns)
def test_max_drawdown_is_never_positive(returns: list[float]) -> None:
    mdd = max_drawdown(pd.Series(returns))
    assert -1.0 <= mdd <= 0.0


@settings(max_examples=100, deadline=None)
@given(daily_returns, st.floats(min_value=0.0, max_value=0.5))
def test_shifting_returns_up_never_worsens_max_drawdown(returns: list[float], shift: float) -> None:
    r = pd.Series(returns)
    assert max_drawdown(r + shift) >= max_drawdown(r) - 1e-12


@settings(max_examples=100, deadline=None)
@given(daily_returns)
def test_beta_to_itself_is_one(returns: list[float]) -> None:
    assume(len(set(returns)) > 1)
    r = pd.Series(returns)
    assert beta(r, r) == pytest.approx(1.0, rel=1e-12)
    assert tracking_error(r, r) == 0.0


@settings(max_examples=100, deadline=None)
@given(daily_returns, st.floats(0.5, 0.999), st.floats(0.5, 0.999))
def test_var_is_monotone_in_the_confidence_level(returns: list[float], a: float, b: float) -> None:
    low, high = sorted((a, b))
    r = pd.Series(returns)
    # A higher confidence level looks further into the loss tail: a lower (or equal) return.
    assert historical_var(r, high) <= historical_var(r, low) + 1e-15
