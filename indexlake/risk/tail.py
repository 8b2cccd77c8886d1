"""Tail risk of daily simple returns: VaR, CVaR (expected shortfall), skew and excess kurtosis.

Sign convention (as :func:`indexlake.risk.metrics.historical_var`): every VaR and CVaR is a
*return*, so a loss is negative; at ``level = 0.95`` the VaR is the 5% quantile of returns.

- Historical VaR: numpy's linear-interpolation quantile; historical CVaR: the mean of the
  returns at or below that VaR.
- Parametric (normal) VaR: mean + z·std with z = Φ⁻¹(1 - level) < 0 and the sample std
  (ddof = 1); parametric CVaR: the normal expected shortfall mean - std·φ(z) / (1 - level).
- Skew and kurtosis are the bias-corrected sample estimators G1 and G2 (scipy ``skew`` /
  ``kurtosis`` with ``bias=False``, pandas ``Series.skew`` / ``Series.kurt``, Excel SKEW / KURT);
  kurtosis is *excess* kurtosis (0 for a normal distribution).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from indexlake.risk.metrics import (
    DEFAULT_VAR_LEVEL,
    MIN_OBSERVATIONS,
    _clean,
    _is_constant,
    _sample_std,
    historical_var,
)

# The published confidence levels: 95% and 99% (the 5% and 1% tails).
VAR_LEVELS = (0.95, 0.99)
# G1 needs three observations and G2 four (their bias corrections divide by n - 2 and n - 3).
MIN_SKEW_OBSERVATIONS = 3
MIN_KURTOSIS_OBSERVATIONS = 4
_STANDARD_NORMAL = NormalDist()


def _check_level(level: float) -> None:
    """Refuse a confidence level that is not a probability strictly between 0 and 1."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")


def normal_tail_z(level: float) -> float:
    """The standard normal quantile Φ⁻¹(1 - level): negative, e.g. -1.6449 at 0.95."""
    _check_level(level)
    return _STANDARD_NORMAL.inv_cdf(1.0 - level)


def historical_cvar(returns: pd.Series, level: float = DEFAULT_VAR_LEVEL) -> float:
    """Historical expected shortfall: the mean of the returns at or below the historical VaR.

    empyrical's ``conditional_value_at_risk(cutoff=1 - level)`` instead averages the lowest
    ⌊(n - 1)·cutoff⌋ + 1 returns; the two agree unless returns tie at the VaR.
    """
    _check_level(level)
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    var = historical_var(values, level)
    # The interpolated VaR is never below the order statistic it starts from; guard rounding.
    floor = float(np.sort(values)[math.floor((len(values) - 1) * (1.0 - level))])
    return float(np.mean(values[values <= max(var, floor)]))


def parametric_var(returns: pd.Series, level: float = DEFAULT_VAR_LEVEL) -> float:
    """Normal (variance-covariance) VaR: mean + Φ⁻¹(1 - level)·std, ddof = 1."""
    z = normal_tail_z(level)
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return float(np.mean(values)) + z * _sample_std(values)


def parametric_cvar(returns: pd.Series, level: float = DEFAULT_VAR_LEVEL) -> float:
    """Normal expected shortfall: mean - std·φ(z) / (1 - level), z = Φ⁻¹(1 - level), ddof = 1."""
    z = normal_tail_z(level)
    values = _clean(returns)
    if len(values) < MIN_OBSERVATIONS:
        return math.nan
    return float(np.mean(values)) - _sample_std(values) * _STANDARD_NORMAL.pdf(z) / (1.0 - level)


def _central_moments(values: np.ndarray) -> tuple[float, float, float]:
    """Biased (divide-by-n) central moments m2, m3, m4."""
    dev = values - values.mean()
    sq = dev * dev
    return float(np.mean(sq)), float(np.mean(sq * dev)), float(np.mean(sq * sq))


def skewness(returns: pd.Series) -> float:
    """Bias-corrected sample skewness G1 = √(n(n-1))/(n-2) · m3/m2^1.5; NaN if constant."""
    values = _clean(returns)
    n = len(values)
    if n < MIN_SKEW_OBSERVATIONS or _is_constant(values):
        return math.nan
    m2, m3, _ = _central_moments(values)
    return math.sqrt(n * (n - 1.0)) / (n - 2.0) * m3 / m2**1.5


def excess_kurtosis(returns: pd.Series) -> float:
    """Bias-corrected sample excess kurtosis G2 (0 for a normal); NaN if constant."""
    values = _clean(returns)
    n = len(values)
    if n < MIN_KURTOSIS_OBSERVATIONS or _is_constant(values):
        return math.nan
    m2, _, m4 = _central_moments(values)
    return ((n * n - 1.0) * m4 / m2**2 - 3.0 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0))
