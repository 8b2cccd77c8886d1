"""Risk metrics over daily simple returns: pure functions in the empyrical style.

Conventions (see docs/methodology.md):

- Returns are simple (not log) returns per period, as fractions (0.01 = 1%).
- ``TRADING_DAYS_PER_YEAR`` periods a year; dispersion is the sample standard deviation
  (``ddof = 1``).
- The risk-free rate is an annual rate, converted per period as ``(1 + rf)^(1/252) - 1``.
- Functions that annualise take ``periods_per_year`` (252 for daily data, 12 for monthly).
- NaN returns are dropped (pairwise, after aligning on the index, for two-series metrics).
  The one exception is :func:`annualised_return`, which follows empyrical's ``annual_return``:
  a NaN period still elapsed and counts as a 0% return.
- Fewer than ``MIN_OBSERVATIONS`` usable returns, or a zero denominator (constant returns in a
  Sharpe ratio, a constant benchmark in a beta), give NaN: never an exception, never a made-up 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252
# A sample standard deviation (ddof = 1) needs two points; use the same floor for every metric.
MIN_OBSERVATIONS = 2
DDOF = 1
DEFAULT_VAR_LEVEL = 0.95


def _clean(returns: pd.Series) -> np.ndarray:
    """The non-NaN returns as a float array."""
    values = np.asarray(pd.Series(returns, dtype="float64").to_numpy(), dtype=np.float64)
    return values[~np.isnan(values)]


def _aligned(returns: pd.Series, benchmark: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both series on their common index labels, with every pair holding a NaN dropped."""
    joined = pd.concat(
        [pd.Series(returns, dtype="float64"), pd.Series(benchmark, dtype="float64")],
        axis=1,
        join="inner",
    ).dropna()
    return joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy()


def _is_constant(values: np.ndarray) -> bool:
    """True when every value is identical (exactly, so the std is not rounding noise)."""
    return bool(np.all(values == values[0]))


def _sample_std(values: np.ndarray) -> float:
    """Sample standard deviation (ddof = 1); exactly 0 for identical values, not rounding noise."""
    return 0.0 if _is_constant(values) else float(np.std(values, ddof=DDOF))


def risk_free_per_period(
    risk_free: float, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """An annual risk-free rate as a per-period (daily) rate, compounded: (1+rf)^(1/252) - 1."""
    return (1.0 + risk_free) ** (1.0 / periods_per_year) - 1.0


def simple_returns(levels: pd.Series) -> pd.Series:
    """Period-on-period simple returns of a level series, labelled by the period's end date."""
    levels = pd.Series(levels, dtype="float64")
    # No forward fill: a missing level makes the returns on either side of it NaN, not 0.
    return levels.pct_change(fill_method=None).iloc[1:]


def annualised_return(
    returns: pd.Series, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Compound annual growth rate: (Π(1 + r))^(252 / n) - 1, empyrical's ``annual_return``."""
    values = np.asarray(pd.Series(returns, dtype="float64").to_numpy(), dtype=np.float64)
    if np.count_nonzero(~np.isnan(values)) < MIN_OBSERVATIONS:
        return math.nan
    # empyrical convention: n counts every period, a NaN one as a 0% return (the day still passed).
    growth = float(np.prod(1.0 + np.nan_to_num(values, nan=0.0)))
    years = len(values) / periods_per_year
    if growth < 0:
        # Only possible with a return below -100%; a fractional power of it is undefined.
        return math.nan
    return growth ** (1.0 / years) - 1.0


def annualised_volatility(
    returns: pd.Series, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Sample standard deviation of returns (ddof = 1) scaled by √252."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return _sample_std(values) * math.sqrt(periods_per_year)


def sharpe_ratio(
    returns: pd.Series,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> float:
    """Annualised Sharpe ratio mean(r - rf_d) / std(r - rf_d) · √252, ``risk_free`` annual."""
    rf = risk_free_per_period(risk_free, periods_per_year=periods_per_year)
    excess = _clean(returns) - rf
    if len(excess) < MIN_OBSERVATIONS or _is_constant(excess):
        return math.nan
    return float(np.mean(excess) / _sample_std(excess) * math.sqrt(periods_per_year))


def sortino_ratio(
    returns: pd.Series,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> float:
    """Annualised Sortino ratio: mean(r - rf_d)·252 / (√mean(min(r - rf_d, 0)²)·√252).

    The target (minimum acceptable return) is the per-period risk-free rate, and the downside
    deviation averages over *all* observations, the ones above the target counting as 0
    (empyrical's ``sortino_ratio(returns, required_return=rf_d)``). No return below the target
    means no downside deviation: NaN, where empyrical gives +inf.
    """
    rf = risk_free_per_period(risk_free, periods_per_year=periods_per_year)
    excess = _clean(returns) - rf
    if len(excess) < MIN_OBSERVATIONS:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0.0:
        return math.nan
    return float(np.mean(excess)) * periods_per_year / (downside * math.sqrt(periods_per_year))


def cumulative_return(returns: pd.Series) -> float:
    """Compounded total return Π(1 + r) - 1 over the non-NaN returns."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return float(np.prod(1.0 + values) - 1.0)


def max_drawdown(returns: pd.Series) -> float:
    """Worst peak-to-trough fall of the compounded returns (≤ 0); the start value is a peak."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    # Wealth starts at 1 before the first return, so a loss on day one is already a drawdown.
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + values)))
    peaks = np.maximum.accumulate(wealth)
    return float(np.min(wealth / peaks - 1.0))


def calmar_ratio(returns: pd.Series, *, periods_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    """Annualised return over the size of the max drawdown; NaN without a drawdown."""
    mdd = max_drawdown(returns)
    if not mdd < 0.0:
        return math.nan
    return annualised_return(returns, periods_per_year=periods_per_year) / abs(mdd)


def best_return(returns: pd.Series) -> float:
    """The highest single-period return (best day for daily data)."""
    values = _clean(returns)
    return float(np.max(values)) if len(values) >= MIN_OBSERVATIONS else math.nan


def worst_return(returns: pd.Series) -> float:
    """The lowest single-period return (worst day for daily data)."""
    values = _clean(returns)
    return float(np.min(values)) if len(values) >= MIN_OBSERVATIONS else math.nan


def hit_ratio(returns: pd.Series) -> float:
    """Share of periods with a strictly positive return (a 0% day is not a hit)."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return float(np.count_nonzero(values > 0.0) / len(values))


def beta(returns: pd.Series, benchmark: pd.Series) -> float:
    """Sensitivity to the benchmark: cov(r, b) / var(b) over the common non-NaN dates."""
    r, b = _aligned(returns, benchmark)
    if len(r) < MIN_OBSERVATIONS or _is_constant(b):
        return math.nan
    # ddof cancels in the ratio; use the sample estimators for both.
    b_dev = b - b.mean()
    b_var = float(np.dot(b_dev, b_dev))
    if b_var == 0.0:
        # Distinct but tiny benchmark returns whose squares underflow: no usable variance.
        return math.nan
    return float(np.dot(r - r.mean(), b_dev) / b_var)


def alpha(
    returns: pd.Series,
    benchmark: pd.Series,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> float:
    """Annualised (compounded) CAPM alpha: (1 + mean((r - rf_d) - β·(b - rf_d)))^252 - 1.

    With ``risk_free = 0`` this is methodology.md's (1 + mean(r - β·b))^252 - 1, and in general
    empyrical's ``alpha(returns, benchmark, risk_free=rf_d)``; β is :func:`beta`.
    """
    b_coef = beta(returns, benchmark)
    if math.isnan(b_coef):
        return math.nan
    r, b = _aligned(returns, benchmark)
    rf = risk_free_per_period(risk_free, periods_per_year=periods_per_year)
    per_period = float(np.mean((r - rf) - b_coef * (b - rf)))
    return (1.0 + per_period) ** periods_per_year - 1.0


def correlation(returns: pd.Series, benchmark: pd.Series) -> float:
    """Pearson correlation over the common non-NaN dates; NaN if either side is constant."""
    r, b = _aligned(returns, benchmark)
    if len(r) < MIN_OBSERVATIONS or _is_constant(r) or _is_constant(b):
        return math.nan
    r_dev, b_dev = r - r.mean(), b - b.mean()
    denominator = math.sqrt(float(np.dot(r_dev, r_dev)) * float(np.dot(b_dev, b_dev)))
    return float(np.dot(r_dev, b_dev)) / denominator if denominator > 0.0 else math.nan


def tracking_error(
    returns: pd.Series, benchmark: pd.Series, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Annualised standard deviation (ddof = 1) of the active return r - b."""
    r, b = _aligned(returns, benchmark)
    if len(r) < MIN_OBSERVATIONS:
        return math.nan
    return _sample_std(r - b) * math.sqrt(periods_per_year)


def information_ratio(
    returns: pd.Series, benchmark: pd.Series, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Arithmetic annualised active return mean(r - b)·252 over the tracking error.

    Equals empyrical's ``excess_sharpe`` (not annualised) times √252. NaN when the active
    return is constant (zero tracking error).
    """
    r, b = _aligned(returns, benchmark)
    te = tracking_error(returns, benchmark, periods_per_year=periods_per_year)
    if math.isnan(te) or te == 0.0:
        return math.nan
    return float(np.mean(r - b)) * periods_per_year / te


def historical_var(returns: pd.Series, level: float = DEFAULT_VAR_LEVEL) -> float:
    """Historical value at risk: the (1 - level) quantile of returns, linear interpolation.

    Sign convention: the result is a *return*, so a loss is negative (-0.03 means "on the worst
    5% of days the return was -3% or lower" at ``level = 0.95``). This is numpy's default
    percentile method and empyrical's ``value_at_risk(returns, cutoff=1 - level)``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return float(np.quantile(values, 1.0 - level, method="linear"))
