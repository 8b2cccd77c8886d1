"""Inverse-volatility and minimum-variance weights: closed forms, SLSQP, KKT properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from indexlake.methodology.risk_weights import (
    _block_pivoting,
    _primal_active_set,
    inverse_volatility_array,
    inverse_volatility_weights,
    minimum_variance_array,
    minimum_variance_weights,
    shrunk_covariance,
)

TIGHT = 1e-12


def random_returns(seed: int, days: int, names: int) -> np.ndarray:
    """Daily returns with a common factor and names of different volatility."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.01, (days, 1))
    return market * rng.uniform(0.3, 1.5, names) + rng.normal(0, 0.02, (days, names)) * (
        rng.uniform(0.3, 2.0, names)
    )


def test_inverse_volatility_two_names_with_known_vols():
    # b moves twice as much as a every day: σ_b = 2 σ_a, so w = (2/3, 1/3).
    a = np.array([0.01, -0.02, 0.015, 0.0, -0.005])
    returns = pd.DataFrame({"a": a, "b": 2 * a})
    got = inverse_volatility_weights(returns)
    pd.testing.assert_series_equal(got, pd.Series({"a": 2 / 3, "b": 1 / 3}), rtol=TIGHT)


def test_inverse_volatility_uses_the_sample_std():
    returns = pd.DataFrame(random_returns(1, 63, 4), columns=list("abcd"))
    inverse = 1 / returns.std()  # pandas: ddof = 1
    pd.testing.assert_series_equal(
        inverse_volatility_weights(returns), inverse / inverse.sum(), rtol=TIGHT
    )


def test_inverse_volatility_refuses_unusable_windows():
    with pytest.raises(ValueError, match="zero volatility"):
        inverse_volatility_array(np.array([[0.01, 0.0], [0.02, 0.0]]))
    with pytest.raises(ValueError, match="at least 2 returns"):
        inverse_volatility_array(np.array([[0.01, 0.02]]))
    with pytest.raises(ValueError, match="finite"):
        inverse_volatility_array(np.array([[0.01, np.nan], [0.02, 0.01]]))


def test_shrunk_covariance():
    r = random_returns(2, 40, 5)
    sample = np.cov(r, rowvar=False, ddof=1)
    np.testing.assert_allclose(shrunk_covariance(r, 0.0), sample, rtol=TIGHT)
    target = np.trace(sample) / 5 * np.eye(5)
    np.testing.assert_allclose(shrunk_covariance(r, 1.0), target, rtol=TIGHT)
    np.testing.assert_allclose(
        shrunk_covariance(r, 0.25), 0.75 * sample + 0.25 * target, rtol=TIGHT
    )
    with pytest.raises(ValueError, match="shrinkage"):
        shrunk_covariance(r, 1.5)


@pytest.mark.parametrize(
    ("cov", "cap", "expected"),
    [
        # Two names: w₁ = (σ₂² − σ₁₂) / (σ₁² + σ₂² − 2σ₁₂) = 0.084 / 0.118.
        ([[0.04, 0.006], [0.006, 0.09]], None, [0.084 / 0.118, 0.034 / 0.118]),
        # The variance is convex along w₁, so a 60% cap binds at 60%.
        ([[0.04, 0.006], [0.006, 0.09]], 0.6, [0.6, 0.4]),
        # σ₁₂ > σ₁²: the unconstrained optimum shorts b (w₁ = 4/3); long-only holds only a.
        ([[0.04, 0.05], [0.05, 0.09]], None, [1.0, 0.0]),
        # Uncorrelated: w ∝ 1/σ², i.e. (1, 1/2, 1/4) / (7/4).
        (np.diag([1.0, 2.0, 4.0]), None, [4 / 7, 2 / 7, 1 / 7]),
        # With a 50% cap the first name is capped; the rest stay ∝ 1/σ² (KKT: 2σ²w equal).
        (np.diag([1.0, 2.0, 4.0]), 0.5, [0.5, 1 / 3, 1 / 6]),
        # Equal variances and correlations: equal weights.
        (np.full((3, 3), 0.3) + 0.7 * np.eye(3), None, [1 / 3, 1 / 3, 1 / 3]),
    ],
)
def test_minimum_variance_closed_forms(cov, cap, expected):
    np.testing.assert_allclose(minimum_variance_array(np.array(cov), cap), expected, atol=TIGHT)


def test_minimum_variance_three_names_unconstrained_is_the_inverse_formula():
    cov = np.array([[0.04, 0.01, 0.008], [0.01, 0.0625, 0.012], [0.008, 0.012, 0.09]])
    inverse = np.linalg.solve(cov, np.ones(3))
    expected = inverse / inverse.sum()
    assert (expected > 0).all()  # long-only does not bind
    np.testing.assert_allclose(minimum_variance_array(cov), expected, rtol=1e-13)


def test_minimum_variance_refuses_bad_inputs():
    with pytest.raises(ValueError, match="infeasible"):
        minimum_variance_array(np.eye(5), 0.1)
    # Three returns for five names and no shrinkage: rank 2.
    with pytest.raises(ValueError, match="singular"):
        minimum_variance_array(shrunk_covariance(random_returns(3, 3, 5), 0.0))
    with pytest.raises(ValueError, match="square"):
        minimum_variance_array(np.ones((2, 3)))


@pytest.mark.parametrize(("seed", "names", "cap"), [(0, 10, None), (1, 30, 0.1), (2, 50, 0.05)])
def test_minimum_variance_agrees_with_slsqp(seed, names, cap):
    cov = shrunk_covariance(random_returns(seed, 252, names), 0.1)
    ours = minimum_variance_array(cov, cap)
    upper = 1.0 if cap is None else cap
    # Scaled so that SLSQP's tolerances bite; the argmin is unchanged.
    scale = 1 / np.trace(cov) * names
    theirs = minimize(
        lambda w: w @ cov @ w * scale,
        np.full(names, 1 / names),
        jac=lambda w: 2 * cov @ w * scale,
        bounds=[(0, upper)] * names,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    ).x
    np.testing.assert_allclose(ours, theirs, atol=1e-7)
    assert ours @ cov @ ours <= theirs @ cov @ theirs * (1 + 1e-12)


def test_minimum_variance_is_reproducible_and_order_free():
    returns = pd.DataFrame(random_returns(4, 252, 40), columns=[f"s{i}" for i in range(40)])
    first = minimum_variance_weights(returns, 0.1, 0.1)
    again = minimum_variance_weights(returns.copy(), 0.1, 0.1)
    pd.testing.assert_series_equal(first, again, rtol=0, atol=0)
    shuffled = returns[returns.columns[::-1]]
    pd.testing.assert_series_equal(
        minimum_variance_weights(shuffled, 0.1, 0.1).sort_index(), first.sort_index(), atol=1e-9
    )


def test_full_shrinkage_gives_equal_weights():
    got = minimum_variance_array(shrunk_covariance(random_returns(5, 60, 7), 1.0))
    np.testing.assert_allclose(got, np.full(7, 1 / 7), atol=TIGHT)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    names=st.integers(1, 40),
    days=st.integers(2, 120),
    shrinkage=st.floats(0.01, 1.0),
    slack=st.one_of(st.none(), st.floats(0, 1)),
)
def test_minimum_variance_kkt_properties(seed, names, days, shrinkage, slack):
    cov = shrunk_covariance(random_returns(seed, days, names), shrinkage)
    cap = None if slack is None else min(1.0, 1 / names + slack * (1 - 1 / names))
    w = minimum_variance_array(cov, cap)
    upper = 1.0 if cap is None else cap
    assert (w >= 0).all()
    assert abs(w.sum() - 1) <= TIGHT
    assert (w <= upper + TIGHT).all()
    # Optimality: free names share one marginal variance ν; names at zero have a marginal
    # variance ≥ ν, names at the cap ≤ ν (relative to the mean variance).
    g = cov @ w / (np.trace(cov) / names)
    at_zero, at_cap = w <= 0, w >= upper - 1e-15
    free = ~at_zero & ~at_cap
    if free.any():
        nu = g[free].mean()
        assert np.abs(g[free] - nu).max() < 1e-9
        assert (g[at_zero] >= nu - 1e-9).all()
        assert (g[at_cap] <= nu + 1e-9).all()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), names=st.integers(1, 30), days=st.integers(2, 80))
def test_inverse_volatility_properties(seed, names, days):
    r = random_returns(seed, days, names)
    w = inverse_volatility_array(r)
    assert (w > 0).all()
    assert abs(w.sum() - 1) <= TIGHT
    # Doubling a name's returns doubles its σ and halves its weight relative to the others.
    if names >= 2:
        scaled = r.copy()
        scaled[:, 0] *= 2
        v = inverse_volatility_array(scaled)
        assert v[0] / v[1] == pytest.approx(w[0] / w[1] / 2, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    names=st.integers(2, 80),
    days=st.integers(3, 300),
    shrinkage=st.floats(0.01, 1.0),
    slack=st.one_of(st.none(), st.floats(0.001, 1)),
)
def test_block_pivoting_agrees_with_the_primal_active_set(seed, names, days, shrinkage, slack):
    """The two solvers share no iterations, only the KKT conditions of the unique optimum."""
    cov = shrunk_covariance(random_returns(seed, days, names), shrinkage)
    cap = 1.0 if slack is None else min(1.0, 1 / names + slack * (1 - 1 / names))
    sigma = cov / (np.trace(cov) / names)
    primal = _primal_active_set(sigma, cap)
    pivoted = _block_pivoting(sigma, cap)
    if pivoted is not None:  # else minimum_variance_array falls back to the primal method
        np.testing.assert_allclose(np.clip(pivoted, 0, cap), np.clip(primal, 0, cap), atol=TIGHT)
    np.testing.assert_allclose(minimum_variance_array(cov, cap), primal / primal.sum(), atol=TIGHT)


@pytest.mark.parametrize("cap", [None, 0.1, 0.05, 0.021])
@pytest.mark.parametrize("seed", range(5))
def test_block_pivoting_settles_on_index_sized_problems(seed, cap):
    # The engine's case: ~50 members, a 252-day window, light shrinkage.
    cov = shrunk_covariance(random_returns(seed, 252, 50), 0.1)
    sigma = cov / (np.trace(cov) / 50)
    upper = 1.0 if cap is None else cap
    pivoted = _block_pivoting(sigma, upper)
    assert pivoted is not None
    np.testing.assert_allclose(pivoted, _primal_active_set(sigma, upper), atol=TIGHT)


def test_block_pivoting_on_a_tight_cap_with_most_names_capped():
    # 25 names, cap 0.041: N·cap = 1.025, so at least 15 names sit exactly at the cap.
    cov = shrunk_covariance(random_returns(7, 252, 25), 0.1)
    sigma = cov / (np.trace(cov) / 25)
    w = minimum_variance_array(cov, 0.041)
    assert (w == 0.041).sum() >= 15 and abs(w.sum() - 1) <= TIGHT
    np.testing.assert_allclose(w, _primal_active_set(sigma, 0.041), atol=TIGHT)
