"""Risk metrics over daily simple returns: pure functions in the empyrical style.

Conventions (see docs/methodology.md):

- Returns are simple (not log) returns per period, as fractions (0.01 = 1%).
- ``TRADING_DAYS_PER_YEAR`` periods a year; dispersion is the sample standard deviation
  (``ddof = 1``).
- The risk-free rate is an annual rate, converted per period as ``(1 + rf)^(1/252) - 1``.
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


def risk_free_per_period(risk_free: float) -> float:
    """An annual risk-free rate as a per-period (daily) rate, compounded: (1+rf)^(1/252) - 1."""
    return (1.0 + risk_free) ** (1.0 / TRADING_DAYS_PER_YEAR) - 1.0


def simple_returns(levels: pd.Series) -> pd.Series:
    """Period-on-period simple returns of a level series, labelled by the period's end date."""
    levels = pd.Series(levels, dtype="float64")
    # No forward fill: a missing level makes the returns on either side of it NaN, not 0.
    return levels.pct_change(fill_method=None).iloc[1:]


def annualised_return(returns: pd.Series) -> float:
    """Compound annual growth rate: (Π(1 + r))^(252 / n) - 1, empyrical's ``annual_return``."""
    values = np.asarray(pd.Series(returns, dtype="float64").to_numpy(), dtype=np.float64)
    if np.count_nonzero(~np.isnan(values)) < MIN_OBSERVATIONS:
        return math.nan
    # empyrical convention: n counts every period, a NaN one as a 0% return (the day still passed).
    growth = float(np.prod(1.0 + np.nan_to_num(values, nan=0.0)))
    years = len(values) / TRADING_DAYS_PER_YEAR
    if growth < 0:
        # Only possible with a return below -100%; a fractional power of it is undefined.
        return math.nan
    return growth ** (1.0 / years) - 1.0


def annualised_volatility(returns: pd.Series) -> float:
    """Sample standard deviation of returns (ddof = 1) scaled by √252."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return _sample_std(values) * math.sqrt(TRADING_DAYS_PER_YEAR)


def sharpe_ratio(returns: pd.Series, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio mean(r - rf_d) / std(r - rf_d) · √252, ``risk_free`` annual."""
    excess = _clean(returns) - risk_free_per_period(risk_free)
    if len(excess) < MIN_OBSERVATIONS or _is_constant(excess):
        return math.nan
    return float(np.mean(excess) / _sample_std(excess) * math.sqrt(TRADING_DAYS_PER_YEAR))


def max_drawdown(returns: pd.Series) -> float:
    """Worst peak-to-trough fall of the compounded returns (≤ 0); the start value is a peak."""
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    # Wealth starts at 1 before the first return, so a loss on day one is already a drawdown.
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + values)))
    peaks = np.maximum.accumulate(wealth)
    return float(np.min(wealth / peaks - 1.0))


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


def tracking_error(returns: pd.Series, benchmark: pd.Series) -> float:
    """Annualised standard deviation (ddof = 1) of the active return r - b."""
    r, b = _aligned(returns, benchmark)
    if len(r) < MIN_OBSERVATIONS:
        return math.nan
    return _sample_std(r - b) * math.sqrt(TRADING_DAYS_PER_YEAR)


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
