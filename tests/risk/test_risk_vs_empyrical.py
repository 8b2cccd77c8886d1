"""Cross-check against empyrical-reloaded, the reference implementation named in methodology.md."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from indexlake.risk.metrics import (
    annualised_return,
    annualised_volatility,
    beta,
    historical_var,
    max_drawdown,
    risk_free_per_period,
    sharpe_ratio,
)

REL = 1e-9
ANNUAL_RISK_FREE = 0.04


@pytest.fixture(scope="module", params=[7, 11, 2024])
def series(request: pytest.FixtureRequest) -> tuple[pd.Series, pd.Series]:
    """Correlated strategy and benchmark daily returns over ~3 years, with scattered NaNs."""
    rng = np.random.default_rng(request.param)
    index = pd.bdate_range("2021-01-04", periods=780)
    bench = rng.normal(0.0003, 0.011, len(index))
    strat = 0.8 * bench + rng.normal(0.0002, 0.006, len(index))
    strat[rng.choice(len(index), 15, replace=False)] = np.nan
    bench[rng.choice(len(index), 15, replace=False)] = np.nan
    return pd.Series(strat, index=index), pd.Series(bench, index=index)


def test_single_series_metrics_match_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    r, _ = series
    assert annualised_return(r) == pytest.approx(empyrical.annual_return(r), rel=REL)
    assert annualised_volatility(r) == pytest.approx(empyrical.annual_volatility(r), rel=REL)
    assert max_drawdown(r) == pytest.approx(empyrical.max_drawdown(r), rel=REL)
    assert sharpe_ratio(r) == pytest.approx(empyrical.sharpe_ratio(r), rel=REL)


def test_sharpe_with_risk_free_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    r, _ = series
    # empyrical takes a per-period risk-free rate; ours is annual.
    expected = empyrical.sharpe_ratio(r, risk_free=risk_free_per_period(ANNUAL_RISK_FREE))
    assert sharpe_ratio(r, risk_free=ANNUAL_RISK_FREE) == pytest.approx(expected, rel=REL)


def test_beta_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    r, b = series
    assert beta(r, b) == pytest.approx(empyrical.beta(r, b), rel=REL)


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_historical_var_matches_empyrical(
    series: tuple[pd.Series, pd.Series], level: float
) -> None:
    r, _ = series
    expected = empyrical.value_at_risk(r.dropna(), cutoff=1 - level)
    assert historical_var(r, level) == pytest.approx(expected, rel=REL)
