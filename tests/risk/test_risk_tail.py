"""Tail metrics: VaR/CVaR (historical and normal), skew and excess kurtosis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from indexlake.risk.metrics import historical_var
from indexlake.risk.tail import (
    excess_kurtosis,
    historical_cvar,
    normal_tail_z,
    parametric_cvar,
    parametric_var,
    skewness,
)

from .samples import MIXED

ALL = [historical_cvar, parametric_var, parametric_cvar, skewness, excess_kurtosis]


def test_parametric_var_on_mixed_matches_the_quantstats_reference() -> None:
    # methodology.md: quantstats 0.0.86's default (parametric) VaR of `mixed` is -0.08842.
    assert parametric_var(MIXED) == pytest.approx(-0.08842, abs=5e-6)


def test_parametric_var_is_mean_plus_z_std() -> None:
    r = MIXED.dropna()
    for level in (0.95, 0.99):
        expected = scipy.stats.norm.ppf(1 - level, r.mean(), r.std(ddof=1))
        assert parametric_var(MIXED, level) == pytest.approx(expected, rel=1e-12)


def test_parametric_cvar_is_the_normal_expected_shortfall() -> None:
    r = MIXED.dropna()
    for level in (0.95, 0.99):
        # E[X | X <= VaR] for X ~ N(mean, std), by numerical integration.
        dist = scipy.stats.norm(r.mean(), r.std(ddof=1))
        expected = dist.expect(lambda x: x, ub=dist.ppf(1 - level), conditional=True)
        assert parametric_cvar(MIXED, level) == pytest.approx(expected, rel=1e-8)


def test_normal_tail_z_is_negative() -> None:
    assert normal_tail_z(0.95) == pytest.approx(-1.6448536269514722, rel=1e-12)
    assert normal_tail_z(0.99) == pytest.approx(-2.3263478740408408, rel=1e-12)


def test_historical_cvar_is_the_mean_at_or_below_the_var() -> None:
    r = pd.Series(np.linspace(-0.05, 0.05, 101))
    var = historical_var(r, 0.95)
    assert historical_cvar(r, 0.95) == pytest.approx(r[r <= var].mean(), rel=1e-12)
    # Ties at the VaR are all in the tail (empyrical keeps only ⌊(n - 1)·cutoff⌋ + 1 of them).
    tied = pd.Series([-3.0, -1.0, -1.0, 5.0])
    assert historical_var(tied, 0.6) == -1.0
    assert historical_cvar(tied, 0.6) == pytest.approx(-5 / 3)


def test_skew_and_kurtosis_are_the_bias_corrected_estimators() -> None:
    """G1/G2: scipy with bias=False, and the same numbers as pandas skew()/kurt()."""
    rng = np.random.default_rng(3)
    r = pd.Series(rng.standard_t(4, 500) / 100)
    r[::37] = np.nan
    clean = r.dropna()
    assert skewness(r) == pytest.approx(scipy.stats.skew(clean, bias=False), rel=1e-10)
    assert skewness(r) == pytest.approx(clean.skew(), rel=1e-10)
    kurt = scipy.stats.kurtosis(clean, fisher=True, bias=False)
    assert excess_kurtosis(r) == pytest.approx(kurt, rel=1e-10)
    assert excess_kurtosis(r) == pytest.approx(clean.kurt(), rel=1e-10)


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize(
    "returns",
    [pd.Series([], dtype="float64"), pd.Series([0.01]), pd.Series([np.nan, np.nan])],
    ids=["empty", "one", "all-nan"],
)
def test_too_few_observations_give_nan(fn, returns) -> None:
    assert math.isnan(fn(returns))


def test_minimum_sizes_of_the_moments() -> None:
    assert math.isnan(skewness(pd.Series([0.01, 0.02])))
    assert not math.isnan(skewness(pd.Series([0.01, 0.02, 0.04])))
    assert math.isnan(excess_kurtosis(pd.Series([0.01, 0.02, 0.04])))
    assert not math.isnan(excess_kurtosis(pd.Series([0.01, 0.02, 0.04, 0.0])))


def test_constant_returns() -> None:
    flat = pd.Series([0.001] * 10)
    # No dispersion: every VaR is the return itself; the shape moments are undefined.
    assert parametric_var(flat) == pytest.approx(0.001)
    assert parametric_cvar(flat) == pytest.approx(0.001)
    assert historical_cvar(flat) == pytest.approx(0.001)
    assert math.isnan(skewness(flat))
    assert math.isnan(excess_kurtosis(flat))


@pytest.mark.parametrize("fn", [historical_cvar, parametric_var, parametric_cvar])
def test_level_must_be_a_probability(fn) -> None:
    with pytest.raises(ValueError, match="level"):
        fn(MIXED, 95)
