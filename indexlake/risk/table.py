"""Every risk metric for many return series at once, vectorised over the series with numpy.

Each metric follows the single-series definition of the same name in
:mod:`indexlake.risk.metrics`, :mod:`indexlake.risk.tail` and :mod:`indexlake.risk.drawdown`
(the tests hold them equal). One difference is deliberate: a column's life runs from its first
to its last non-NaN return, so the NaN padding of a strategy younger (or older) than the frame
does not count as elapsed periods in ``annualised_return``; a NaN *inside* the life counts as a
0% period, as in :func:`indexlake.risk.metrics.annualised_return`.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from indexlake.risk.metrics import MIN_OBSERVATIONS, TRADING_DAYS_PER_YEAR, risk_free_per_period
from indexlake.risk.tail import MIN_KURTOSIS_OBSERVATIONS, MIN_SKEW_OBSERVATIONS, VAR_LEVELS

_NORMAL = NormalDist()


def _tail_names(kind: str) -> list[str]:
    """Column names of one VaR/CVaR family at every published level, e.g. var_95_historical."""
    return [
        f"{measure}_{round(level * 100)}_{kind}"
        for measure in ("var", "cvar")
        for level in VAR_LEVELS
    ]


# Column order of metric_table; names match RISK_METRICS where the two overlap.
METRIC_COLUMNS: tuple[str, ...] = (
    "observations",
    "cumulative_return",
    "annualised_return",
    "annualised_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "beta",
    "alpha",
    "correlation",
    "tracking_error",
    "information_ratio",
    *_tail_names("historical"),
    *_tail_names("parametric"),
    "skew",
    "excess_kurtosis",
    "best_return",
    "worst_return",
    "hit_ratio",
)


def _row_sum(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum over time (axis 1) of the entries where ``mask`` holds."""
    return np.where(mask, values, 0.0).sum(axis=1)


def _life_lengths(valid: np.ndarray) -> np.ndarray:
    """Periods from each row's first to last valid entry, inclusive (0 for an all-NaN row)."""
    n = valid.shape[1]
    first = np.argmax(valid, axis=1)
    last = n - 1 - np.argmax(valid[:, ::-1], axis=1)
    return np.where(valid.any(axis=1), last - first + 1, 0)


def _sorted_quantile(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """Row-wise linear-interpolation quantile of the first ``count`` (sorted) entries.

    Same arithmetic as numpy's ``quantile(method="linear")``: virtual index (n - 1)·q and the
    two-sided lerp numpy uses, so the result matches it to the last bit.
    """
    rows = np.arange(ordered.shape[0])
    virtual = (count - 1) * q
    below = np.clip(np.floor(virtual).astype(np.int64), 0, None)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    gamma = virtual - below
    a, b = ordered[rows, below], ordered[rows, above]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1.0 - gamma), a + diff * gamma)


def _single_series(x: np.ndarray, rf: float, periods_per_year: int) -> dict[str, np.ndarray]:
    """The metrics that need only each row's own returns; ``x`` is (series, time)."""
    valid = ~np.isnan(x)
    count = valid.sum(axis=1)
    few = count < MIN_OBSERVATIONS
    out: dict[str, np.ndarray] = {"observations": count}
    mean = _row_sum(x, valid) / count
    dev = np.where(valid, x - mean[:, None], 0.0)
    sq = dev * dev
    m2 = sq.sum(axis=1) / count  # biased second moment; ×n/(n-1) gives the sample variance
    highest = np.where(valid, x, -np.inf).max(axis=1)
    lowest = np.where(valid, x, np.inf).min(axis=1)
    constant = highest == lowest
    std = np.where(constant, 0.0, np.sqrt(m2 * count / (count - 1)))
    root = math.sqrt(periods_per_year)

    wealth = np.cumprod(np.where(valid, 1.0 + x, 1.0), axis=1)
    growth = wealth[:, -1]
    # Wealth starts at 1 before the first return: that start counts as a peak.
    peaks = np.maximum.accumulate(np.maximum(wealth, 1.0), axis=1)
    mdd = np.minimum((wealth / peaks - 1.0).min(axis=1), 0.0)
    years = _life_lengths(valid) / periods_per_year
    annual = np.where(growth < 0.0, np.nan, np.abs(growth) ** (1.0 / years) - 1.0)
    out["cumulative_return"] = growth - 1.0
    out["annualised_return"] = annual
    out["annualised_volatility"] = std * root
    out["max_drawdown"] = mdd
    out["calmar"] = np.where(mdd < 0.0, annual / np.abs(mdd), np.nan)

    excess_mean = mean - rf
    out["sharpe"] = np.where(constant, np.nan, excess_mean / std * root)
    shortfall = np.minimum(x - rf, 0.0)
    downside = np.sqrt(_row_sum(shortfall * shortfall, valid) / count)
    out["sortino"] = np.where(
        downside > 0.0, excess_mean * periods_per_year / downside / root, np.nan
    )

    ordered = np.sort(x, axis=1)  # NaN sort last, so each row's data fills its first `count` slots
    for level in VAR_LEVELS:
        pct = round(level * 100)
        var = _sorted_quantile(ordered, count, 1.0 - level)
        # Guard the lerp's rounding: the VaR is never below the order statistic it starts from.
        start = np.clip(np.floor((count - 1) * (1.0 - level)).astype(np.int64), 0, None)
        threshold = np.maximum(var, ordered[np.arange(len(count)), start])
        tail = ordered <= threshold[:, None]
        out[f"var_{pct}_historical"] = var
        out[f"cvar_{pct}_historical"] = _row_sum(ordered, tail) / tail.sum(axis=1)
        z = _NORMAL.inv_cdf(1.0 - level)
        out[f"var_{pct}_parametric"] = mean + z * std
        out[f"cvar_{pct}_parametric"] = mean - std * _NORMAL.pdf(z) / (1.0 - level)

    n = count.astype(np.float64)
    m3 = (sq * dev).sum(axis=1) / n
    m4 = (sq * sq).sum(axis=1) / n
    skew = np.sqrt(n * (n - 1.0)) / (n - 2.0) * m3 / m2**1.5
    kurt = ((n * n - 1.0) * m4 / m2**2 - 3.0 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0))
    out["skew"] = np.where(constant | (count < MIN_SKEW_OBSERVATIONS), np.nan, skew)
    out["excess_kurtosis"] = np.where(constant | (count < MIN_KURTOSIS_OBSERVATIONS), np.nan, kurt)
    out["best_return"] = highest
    out["worst_return"] = lowest
    out["hit_ratio"] = (x > 0.0).sum(axis=1) / count
    for name, values in out.items():
        if name != "observations":
            out[name] = np.where(few, np.nan, values)
    return out


def _relative(
    x: np.ndarray, b: np.ndarray, rf: float, periods_per_year: int
) -> dict[str, np.ndarray]:
    """Metrics against the benchmark ``b`` ((time,) or one row per series), over each row's
    dates where both exist."""
    bb = np.broadcast_to(b, x.shape)
    pair = ~np.isnan(x) & ~np.isnan(bb)
    count = pair.sum(axis=1)
    mean_r, mean_b = _row_sum(x, pair) / count, _row_sum(bb, pair) / count
    dr = np.where(pair, x - mean_r[:, None], 0.0)
    db = np.where(pair, bb - mean_b[:, None], 0.0)
    s_rr, s_bb, s_rb = (dr * dr).sum(axis=1), (db * db).sum(axis=1), (dr * db).sum(axis=1)

    def constant(values: np.ndarray) -> np.ndarray:
        """True for rows whose paired values are all identical."""
        return np.where(pair, values, -np.inf).max(axis=1) == np.where(pair, values, np.inf).min(
            axis=1
        )

    flat_b = constant(bb) | (s_bb == 0.0)
    beta = np.where(flat_b, np.nan, s_rb / s_bb)
    per_period_alpha = (mean_r - rf) - beta * (mean_b - rf)
    active = x - bb
    mean_a = mean_r - mean_b
    da = np.where(pair, active - (_row_sum(active, pair) / count)[:, None], 0.0)
    flat_a = constant(active)
    te = np.where(flat_a, 0.0, np.sqrt((da * da).sum(axis=1) / (count - 1))) * math.sqrt(
        periods_per_year
    )
    out = {
        "beta": beta,
        "alpha": (1.0 + per_period_alpha) ** periods_per_year - 1.0,
        "correlation": np.where(flat_b | constant(x), np.nan, s_rb / np.sqrt(s_rr * s_bb)),
        "tracking_error": te,
        "information_ratio": np.where(te > 0.0, mean_a * periods_per_year / te, np.nan),
    }
    few = count < MIN_OBSERVATIONS
    return {name: np.where(few, np.nan, values) for name, values in out.items()}


def metric_arrays(
    x: np.ndarray,
    benchmark: np.ndarray,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> dict[str, np.ndarray]:
    """Every metric of METRIC_COLUMNS for the rows of ``x`` (series, time) against ``benchmark``.

    ``benchmark`` is one series (time,) shared by every row, or one row per row of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    benchmark = np.asarray(benchmark, dtype=np.float64)
    if x.shape[1] == 0:
        # No dates: one all-NaN period gives every metric NaN and 0 observations.
        x = np.full((x.shape[0], 1), np.nan)
        benchmark = np.full((*benchmark.shape[:-1], 1), np.nan)
    rf = risk_free_per_period(risk_free, periods_per_year=periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _single_series(x, rf, periods_per_year) | _relative(
            x, benchmark, rf, periods_per_year
        )
    return {name: out[name] for name in METRIC_COLUMNS}


def metric_table(
    returns: pd.DataFrame,
    benchmark: pd.Series,
    risk_free: float = 0.0,
    *,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> pd.DataFrame:
    """One row per column of ``returns`` (its name as index), one column per metric.

    ``benchmark`` is aligned on ``returns``' index (dates it lacks are NaN); ``risk_free`` is
    annual. See METRIC_COLUMNS for the metrics and this module's docstring for NaN handling.
    """
    frame = pd.DataFrame(returns, dtype="float64")
    bench = pd.Series(benchmark, dtype="float64").reindex(frame.index)
    arrays = metric_arrays(
        frame.to_numpy().T, bench.to_numpy(), risk_free, periods_per_year=periods_per_year
    )
    table = pd.DataFrame(arrays, index=frame.columns.rename("series"))
    return table.astype({"observations": "int64"})
