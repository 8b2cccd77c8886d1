"""Cross-check against empyrical-reloaded, the reference implementation named in methodology.md.

Conventions that differ from empyrical on purpose (each test below adjusts for it):
- risk-free rates are annual here, per period in empyrical;
- Sortino is NaN without any return below the target (empyrical: +inf);
- historical CVaR averages every return at or below the VaR (empyrical: the lowest
  ⌊(n - 1)·cutoff⌋ + 1 returns; equal without ties);
- metric_table annualises over each column's life (first to last non-NaN return), so its
  annual return and Calmar are compared with empyrical on that span.
"""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from indexlake.risk.drawdown import drawdown_series
from indexlake.risk.metrics import (
    TRADING_DAYS_PER_YEAR,
    alpha,
    annualised_return,
    annualised_volatility,
    beta,
    calmar_ratio,
    cumulative_return,
    historical_var,
    information_ratio,
    max_drawdown,
    risk_free_per_period,
    sharpe_ratio,
    sortino_ratio,
)
from indexlake.risk.table import metric_table
from indexlake.risk.tail import historical_cvar

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


# ---- Metrics added with metric_table: same random series, same tolerance. -------------------


def test_sortino_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    """Our target is the per-period risk-free rate: empyrical's ``required_return=rf_d``."""
    r, _ = series
    assert sortino_ratio(r) == pytest.approx(empyrical.sortino_ratio(r), rel=REL)
    rf = risk_free_per_period(ANNUAL_RISK_FREE)
    expected = empyrical.sortino_ratio(r, required_return=rf)
    assert sortino_ratio(r, ANNUAL_RISK_FREE) == pytest.approx(expected, rel=REL)


def test_calmar_and_cumulative_return_match_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    r, _ = series
    assert calmar_ratio(r) == pytest.approx(empyrical.calmar_ratio(r), rel=REL)
    assert cumulative_return(r) == pytest.approx(empyrical.cum_returns_final(r), rel=REL)


def test_alpha_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    """empyrical takes a per-period risk-free rate; ours is annual."""
    r, b = series
    assert alpha(r, b) == pytest.approx(empyrical.alpha(r, b), rel=REL)
    rf = risk_free_per_period(ANNUAL_RISK_FREE)
    expected = empyrical.alpha(r, b, risk_free=rf)
    assert alpha(r, b, ANNUAL_RISK_FREE) == pytest.approx(expected, rel=REL)


def test_information_ratio_is_empyrical_excess_sharpe_annualised(
    series: tuple[pd.Series, pd.Series],
) -> None:
    """empyrical's ``excess_sharpe`` is the same ratio per period: ours is × √252."""
    r, b = series
    common = r.notna() & b.notna()
    expected = empyrical.excess_sharpe(r[common], b[common]) * TRADING_DAYS_PER_YEAR**0.5
    assert information_ratio(r, b) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_historical_cvar_matches_empyrical(
    series: tuple[pd.Series, pd.Series], level: float
) -> None:
    """Equal unless returns tie at the VaR (empyrical keeps ⌊(n-1)·cutoff⌋ + 1 of the ties)."""
    r, _ = series
    expected = empyrical.conditional_value_at_risk(r, cutoff=1 - level)
    assert historical_cvar(r, level) == pytest.approx(expected, rel=REL)


def test_tail_ratio_from_our_var(series: tuple[pd.Series, pd.Series]) -> None:
    """empyrical's tail ratio |95th percentile| / |5th percentile| from our quantile."""
    r, _ = series
    right_tail = -historical_var(-r, 0.95)  # the 95% quantile of r
    expected = empyrical.tail_ratio(r)
    assert abs(right_tail) / abs(historical_var(r, 0.95)) == pytest.approx(expected, rel=REL)


def test_drawdown_series_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    r, _ = series
    ours = drawdown_series(r)
    theirs = empyrical.stats.drawdown_series(r.fillna(0.0))
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=REL, atol=1e-15)


def test_metric_table_matches_empyrical(series: tuple[pd.Series, pd.Series]) -> None:
    """The vectorised table against empyrical's functions, column by column."""
    r, b = series
    row = metric_table(r.to_frame("s"), b).loc["s"]
    life = r.loc[r.first_valid_index() : r.last_valid_index()]
    checks = {
        "annualised_volatility": empyrical.annual_volatility(r),
        "sharpe": empyrical.sharpe_ratio(r),
        "sortino": empyrical.sortino_ratio(r),
        "max_drawdown": empyrical.max_drawdown(r),
        "calmar": empyrical.calmar_ratio(life),
        "annualised_return": empyrical.annual_return(life),
        "beta": empyrical.beta(r, b),
        "alpha": empyrical.alpha(r, b),
        "var_95_historical": empyrical.value_at_risk(r.dropna(), 0.05),
        "var_99_historical": empyrical.value_at_risk(r.dropna(), 0.01),
        "cvar_95_historical": empyrical.conditional_value_at_risk(r, 0.05),
        "cvar_99_historical": empyrical.conditional_value_at_risk(r, 0.01),
    }
    for name, expected in checks.items():
        assert row[name] == pytest.approx(expected, rel=REL), name
