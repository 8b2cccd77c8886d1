"""Plain pandas/numpy/scipy reference for a strategy's rebalance calendar and target weights.

Written from docs/methodology.md and the strategy definitions (the docstrings of
methodology/strategy.py), not from the engine: the first-trading-day calendar comes from pandas
periods, the third Friday from a weekly pandas date range and the exchange calendar's previous
session, top-N from a two-key sort with the buffer applied as the FTSE rule reads, capping from
the breakpoints of the water-filling function (not repeated passes), minimum variance from
SLSQP followed by an exact solve of the optimality conditions on the active set SLSQP finds.

Membership conventions (the engine's, see methodology/engine.py): the reference date is
``reference_lag_days`` trading days before the rebalance day. A symbol is eligible at a
rebalance when it has a positive close and market cap at the reference date and a positive
close on the rebalance day, and passes the universe filters at the reference date: listing age
(trading days from its first close in the panel to the reference date, both counted) and the
median of close × volume over the ``liquidity_lookback`` days ending there (days without a
close or volume skipped). Lookback weightings also need positive closes on the
``lookback + 1`` trading days ending at the reference date. The base date is the strategy's
``base_date`` when set, else the first scheduled rebalance with an eligible symbol. A buffered
top-N treats as current members the names held after the previous rebalance (positive target)
that still have a close on every day from it to the reference date.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from indexlake.methodology.strategy import (
    AllSelection,
    CappedMarketCapWeighting,
    EqualWeighting,
    InverseVolatilityWeighting,
    LandedUniverse,
    MarketCapWeighting,
    MinimumVarianceWeighting,
    Strategy,
    SymbolsUniverse,
    TopNSelection,
    TwoLevelCappedMarketCapWeighting,
)

# pandas period aliases of the rebalance frequencies.
PERIOD_ALIASES = {"monthly": "M", "quarterly": "Q", "annual": "Y"}
# Review months of the third-Friday rule: every month, Mar/Jun/Sep/Dec, December.
REVIEW_MONTHS = {"monthly": range(1, 13), "quarterly": (3, 6, 9, 12), "annual": (12,)}
REBALANCE_DAYS = ("first_trading_day", "third_friday")
RETURN_TYPES = ("price", "total")
# The exchange whose sessions the third-Friday rule falls back on (NYSE).
EXCHANGE = "XNYS"
CALENDAR_START = "1990-01-02"
# Slack when comparing a weight with its cap (the methodology's rule is "above the cap").
CAP_SLACK = 1e-12
# SLSQP weights this close to a bound are taken as sitting on it before the exact solve.
ACTIVE_BOUND = 1e-7
# KKT multipliers (covariance scaled to unit mean variance) above -this count as non-negative.
KKT_SLACK = 1e-9

# Every setting of a Strategy the reference reads, or that does not change the published
# numbers. A setting added to the model later is reported as not modelled until listed here.
_MODELLED_FIELDS = frozenset(
    {
        "id",
        "name",
        "owner",
        "visibility",
        "description",
        "universe",
        "selection",
        "weighting",
        "rebalance",
        "rebalance_day",
        "reference_lag_days",
        "base_date",
        "return_type",
        "base_value",
        "notional",
        "benchmark",
        "alerts",
    }
)
_WEIGHTINGS = (
    EqualWeighting,
    MarketCapWeighting,
    CappedMarketCapWeighting,
    TwoLevelCappedMarketCapWeighting,
    InverseVolatilityWeighting,
    MinimumVarianceWeighting,
)


@dataclass
class Market:
    """The landed panels (dates × symbols): closes, market caps, volumes and dividends.

    ``volumes`` are needed for a liquidity filter, ``dividends`` (cash per share on the
    ex-date, NaN = none) for total return.
    """

    closes: pd.DataFrame
    caps: pd.DataFrame
    volumes: pd.DataFrame | None = None
    dividends: pd.DataFrame | None = None

    def row(self, day: pd.Timestamp) -> int:
        return int(self.closes.index.get_loc(day))


def unmodelled(strategy: Strategy) -> list[str]:
    """Strategy settings this reference does not implement (the strategy cannot be verified).

    Every setting of the strategy model is modelled today; what is listed here is a setting
    (away from its default) or a value the model gained after this reference was written.
    """
    fields = type(strategy).model_fields
    found = [
        name
        for name, spec in fields.items()
        if name not in _MODELLED_FIELDS
        and getattr(strategy, name) != spec.get_default(call_default_factory=True)
    ]
    if not isinstance(strategy.universe, (SymbolsUniverse, LandedUniverse)):
        found.append(f"universe.type = {strategy.universe.type!r}")
    if not isinstance(strategy.selection, (AllSelection, TopNSelection)):
        found.append(f"selection.type = {strategy.selection.type!r}")
    if not isinstance(strategy.weighting, _WEIGHTINGS):
        found.append(f"weighting.type = {strategy.weighting.type!r}")
    if strategy.rebalance not in PERIOD_ALIASES:
        found.append(f"rebalance = {strategy.rebalance!r}")
    if strategy.rebalance_day not in REBALANCE_DAYS:
        found.append(f"rebalance_day = {strategy.rebalance_day!r}")
    if strategy.return_type not in RETURN_TYPES:
        found.append(f"return_type = {strategy.return_type!r}")
    return found


def universe_columns(strategy: Strategy, columns: pd.Index) -> pd.Index:
    """The landed symbols the strategy may hold: all, or those its universe lists."""
    listed = getattr(getattr(strategy, "universe", None), "symbols", None)
    return columns if listed is None else columns[columns.isin(listed)]


def first_trading_days(days: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    """Days of ``days`` that open a new month/quarter/year (never the first day)."""
    periods = pd.Series(days.to_period(PERIOD_ALIASES[frequency]), index=days)
    new_period = periods.ne(periods.shift())
    if len(days):
        new_period.iloc[0] = False
    return days[new_period.to_numpy()]


@lru_cache(maxsize=1)
def _exchange() -> xcals.ExchangeCalendar:
    return xcals.get_calendar(EXCHANGE, start=CALENDAR_START)


def _previous_session(day: pd.Timestamp) -> pd.Timestamp:
    """The NYSE session on ``day``, or the last one before it."""
    session = _exchange().date_to_session(day, direction="previous")
    return pd.Timestamp(session).tz_localize(None) if session.tz else pd.Timestamp(session)


def third_fridays(days: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    """Third-Friday rebalances among ``days``.

    For each review month: its third Friday (the third of the month's Fridays), else the
    previous NYSE session; when that session is not in ``days``, the last day of ``days``
    before it in the same month; not scheduled when the session is after ``days[-1]``.
    """
    if not len(days):
        return pd.DatetimeIndex([])
    found = []
    for month in pd.period_range(days[0], days[-1], freq="M"):
        if month.month not in REVIEW_MONTHS[frequency]:
            continue
        fridays = pd.date_range(month.start_time, month.end_time.normalize(), freq="W-FRI")
        session = _previous_session(fridays[2])
        if session > days[-1]:
            continue
        before = days[(days <= session) & (days.to_period("M") == month)]
        if len(before) and before[-1] != days[0]:
            found.append(before[-1])
    return pd.DatetimeIndex(found)


def rebalance_schedule(strategy: Strategy, days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Candidate rebalance days: the first possible base date, then the scheduled days after it.

    The first possible base date is ``base_date`` when set, else the first day with a
    reference date ``reference_lag_days`` trading days earlier in ``days``.
    """
    lag = strategy.reference_lag_days
    if strategy.base_date is not None:
        base = pd.Timestamp(strategy.base_date)
    elif len(days) > lag:
        base = days[lag]
    else:
        return pd.DatetimeIndex([])
    if strategy.rebalance_day == "third_friday":
        scheduled = third_fridays(days, strategy.rebalance)
    else:
        scheduled = first_trading_days(days, strategy.rebalance)
    return pd.DatetimeIndex([base]).append(scheduled[scheduled > base])


def listing_age(closes: pd.DataFrame, ref: int) -> pd.Series:
    """Per symbol: trading days from its first positive close in the panel to row ``ref``."""
    listed = (closes.iloc[: ref + 1] > 0).cumsum() > 0
    return listed.sum()


def median_dollar_volume(market: Market, ref: int, lookback: int) -> pd.Series:
    """Per symbol: median close × volume over the ``lookback`` rows to ``ref`` (NaN: none)."""
    if market.volumes is None:
        raise ValueError("a liquidity filter needs the landed volumes")
    lo = max(0, ref - lookback + 1)
    closes = market.closes.iloc[lo : ref + 1]
    volumes = market.volumes.reindex_like(market.closes).iloc[lo : ref + 1]
    dollar = (closes * volumes).where((closes > 0) & (volumes >= 0))
    return dollar.median(skipna=True)


def eligible_symbols(strategy: Strategy, market: Market, day: pd.Timestamp) -> pd.Index:
    """Symbols eligible at the rebalance on ``day`` (see the module notes)."""
    closes = market.closes
    row = market.row(day)
    ref = row - strategy.reference_lag_days
    if ref < 0:
        return pd.Index([], dtype=object)
    ok = (closes.iloc[ref] > 0) & (market.caps.iloc[ref] > 0) & (closes.iloc[row] > 0)
    lookback = getattr(strategy.weighting, "lookback", 0)
    if lookback:
        if ref - lookback < 0:
            return pd.Index([], dtype=object)
        ok &= (closes.iloc[ref - lookback : ref + 1] > 0).all()
    universe = strategy.universe
    if isinstance(universe, LandedUniverse):
        if universe.min_listing_days is not None:
            ok &= listing_age(closes, ref) >= universe.min_listing_days
        if universe.min_median_dollar_volume is not None:
            median = median_dollar_volume(market, ref, universe.liquidity_lookback)
            ok &= median.reindex(closes.columns) >= universe.min_median_dollar_volume
    return closes.columns[ok.to_numpy()]


def selected_symbols(
    strategy: Strategy, ref_caps: pd.Series, current: frozenset[str] = frozenset()
) -> pd.Index:
    """The members among the eligible symbols: all, or top-N by cap (ties by symbol).

    With a buffer b (``TopNSelection``): a current member stays while ranked ≤ n + b, another
    name enters when ranked ≤ n − b; beyond n the lowest ranked go, below n the best-ranked
    others fill up.
    """
    if not isinstance(strategy.selection, TopNSelection):
        return ref_caps.index.sort_values()
    n, buffer = strategy.selection.n, strategy.selection.buffer
    ranked = (
        ref_caps.rename("cap")
        .rename_axis("symbol")
        .reset_index()
        .sort_values(["cap", "symbol"], ascending=[False, True])
        .reset_index(drop=True)
    )
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["current"] = ranked["symbol"].isin(current)
    limit = np.where(ranked["current"], n + buffer, n - buffer)
    ranked["kept"] = ranked["rank"] <= limit
    chosen = ranked.loc[ranked["kept"], "symbol"].head(n).tolist()
    others = ranked.loc[~ranked["kept"], "symbol"].tolist()
    chosen += others[: max(0, n - len(chosen))]
    return pd.Index(sorted(chosen), dtype=object)


def still_held(
    members: pd.Index, closes: pd.DataFrame, selected_on: pd.Timestamp, ref: int
) -> frozenset[str]:
    """Members selected on ``selected_on`` with a close on every day after it to row ``ref``."""
    start = closes.index.get_loc(selected_on)
    if start >= ref:
        return frozenset(members)
    window = closes.iloc[start + 1 : ref + 1][members]
    return frozenset(members[(window > 0).all().to_numpy()])


def water_fill(weights: pd.Series, caps: pd.Series) -> pd.Series:
    """min(cap_i, s·w_i) summing to 1, with s found from the sorted breakpoints cap_i / w_i.

    Names whose breakpoint is below s sit at their cap; the others share the rest in proportion
    to ``weights``. Trying k = 0, 1, ... capped names in breakpoint order gives s exactly.
    """
    w = weights / weights.sum()
    if caps.sum() < 1 - CAP_SLACK:
        raise ValueError(f"caps sum to {caps.sum():.6g} < 1: infeasible")
    positive = w > 0
    breakpoints = (caps[positive] / w[positive]).sort_values(kind="stable")
    order = list(breakpoints.index)
    for k in range(len(order) + 1):
        at_cap = order[:k]
        rest = w.index.difference(at_cap)
        s = (1.0 - caps[at_cap].sum()) / w[rest].sum() if w[rest].sum() > 0 else np.inf
        if k == len(order) or s * w[order[k]] <= caps[order[k]] * (1 + CAP_SLACK):
            out = (w * s).where(~w.index.isin(at_cap), caps)
            if not np.isfinite(s):  # only zero weights left: share the residual equally
                zero = w.index.difference(at_cap)
                out[zero] = (1.0 - caps[at_cap].sum()) / len(zero)
            return out
    raise AssertionError("unreachable: k = len(order) always returns")  # pragma: no cover


def single_capped(weights: pd.Series, cap: float) -> pd.Series:
    """Every name at most ``cap``, the excess handed pro rata to the others."""
    return water_fill(weights, pd.Series(cap, index=weights.index))


def two_level_capped(
    weights: pd.Series, max_weight: float, group_threshold: float, group_max: float
) -> pd.Series:
    """Per-name cap, then demote the smallest name above the threshold until the group fits."""
    caps = pd.Series(max_weight, index=weights.index)
    for _ in range(len(weights) + 1):
        out = water_fill(weights, caps)
        group = out[out > group_threshold + CAP_SLACK]
        if group.sum() <= group_max + CAP_SLACK:
            return out
        smallest = group.rename("w").rename_axis("symbol").reset_index()
        smallest = smallest.sort_values(["w", "symbol"]).iloc[0]["symbol"]
        caps[smallest] = group_threshold
    raise ValueError("two-level capping did not converge")  # pragma: no cover


def window_returns(closes: pd.DataFrame, ref: int, lookback: int) -> pd.DataFrame:
    """Daily simple returns over the ``lookback`` days ending at the reference row ``ref``."""
    window = closes.iloc[ref - lookback : ref + 1]
    return window.pct_change().iloc[1:]


def inverse_volatility(returns: pd.DataFrame) -> pd.Series:
    """w ∝ 1/σ, σ the sample standard deviation (ddof = 1)."""
    inverse = 1.0 / returns.std(ddof=1)
    return inverse / inverse.sum()


def _kkt_solve(
    sigma: np.ndarray, lower: np.ndarray, upper: np.ndarray, cap: float
) -> tuple[np.ndarray, float]:
    """Exact minimiser with the given bounds active: Σ_FF w_F + Σ_FU·cap = ν·1, Σ w = 1."""
    free = ~(lower | upper)
    f = np.flatnonzero(free)
    k = f.size
    w = np.where(upper, cap, 0.0)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = sigma[np.ix_(f, f)]
    system[:k, k] = -1.0
    system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[:k] = -sigma[np.ix_(f, np.flatnonzero(upper))] @ w[upper]
    rhs[k] = 1.0 - w.sum()
    solution = np.linalg.solve(system, rhs)
    w[f] = solution[:k]
    return w, solution[k]


def minimum_variance(returns: pd.DataFrame, shrinkage: float, cap: float | None) -> pd.Series:
    """Long-only minimum variance under Σ = (1 − δ)·S + δ·(tr S / N)·I, each weight ≤ cap.

    SLSQP finds which bounds are active; the weights are then the exact solution of the
    optimality conditions with those bounds fixed, checked for feasibility and the signs of the
    bound multipliers. When that check fails the SLSQP weights are returned as they are.
    """
    sample = returns.cov(ddof=1).to_numpy()
    n = sample.shape[0]
    sigma = (1 - shrinkage) * sample + shrinkage * np.trace(sample) / n * np.eye(n)
    sigma = sigma / (np.trace(sigma) / n)  # unit mean variance: same argmin, relative tolerances
    u = 1.0 if cap is None else cap
    result = minimize(
        lambda w: w @ sigma @ w,
        np.full(n, 1.0 / n),
        jac=lambda w: 2 * sigma @ w,
        bounds=[(0.0, u)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(n)}],
        method="SLSQP",
        options={"ftol": 1e-16, "maxiter": 1000},
    )
    raw = np.clip(result.x, 0.0, u)
    lower = raw < ACTIVE_BOUND
    upper = (raw > u - ACTIVE_BOUND) & ~lower
    try:
        w, nu = _kkt_solve(sigma, lower, upper, u)
    except np.linalg.LinAlgError:
        return pd.Series(raw / raw.sum(), index=returns.columns)
    gradient = sigma @ w
    feasible = (w >= -CAP_SLACK).all() and (w <= u + CAP_SLACK).all()
    optimal = (gradient[lower] - nu >= -KKT_SLACK).all() and (
        nu - gradient[upper] >= -KKT_SLACK
    ).all()
    if not (feasible and optimal):
        return pd.Series(raw / raw.sum(), index=returns.columns)
    return pd.Series(w, index=returns.columns)


def cap_input_weights(ref_caps: pd.Series) -> pd.Series:
    """Market-cap weights of the members: the input of the capping rules."""
    return ref_caps / ref_caps.sum()


def weigh(strategy: Strategy, market: Market, ref: int, ref_caps: pd.Series) -> pd.Series:
    """Target weights of the members (the index of ``ref_caps``) from reference-row data."""
    weighting = strategy.weighting
    members = ref_caps.index
    if isinstance(weighting, EqualWeighting):
        return pd.Series(1.0 / len(members), index=members)
    if isinstance(weighting, MarketCapWeighting):
        return cap_input_weights(ref_caps)
    if isinstance(weighting, CappedMarketCapWeighting):
        return single_capped(cap_input_weights(ref_caps), weighting.cap)
    if isinstance(weighting, TwoLevelCappedMarketCapWeighting):
        return two_level_capped(
            cap_input_weights(ref_caps),
            weighting.max_weight,
            weighting.group_threshold,
            weighting.group_max,
        )
    returns = window_returns(market.closes[members], ref, weighting.lookback)
    if isinstance(weighting, InverseVolatilityWeighting):
        return inverse_volatility(returns)
    if isinstance(weighting, MinimumVarianceWeighting):
        return minimum_variance(returns, weighting.shrinkage, weighting.max_weight)
    raise TypeError(f"unsupported weighting {weighting!r}")  # pragma: no cover


def base_date(strategy: Strategy, market: Market) -> pd.Timestamp | None:
    """The index's first day: ``base_date``, else the first candidate with an eligible symbol."""
    candidates = rebalance_schedule(strategy, market.closes.index)
    if strategy.base_date is not None:
        return candidates[0]
    return next((d for d in candidates if len(eligible_symbols(strategy, market, d))), None)


def targets(strategy: Strategy, market: Market, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Reference target weights at the rebalances ``days`` (in order), 0 for non-members.

    The rebalances are taken in order because a buffered top-N depends on the members held
    before; a day without an eligible symbol gets no members.
    """
    rows: dict[pd.Timestamp, pd.Series] = {}
    held: pd.Index = pd.Index([], dtype=object)
    held_since: pd.Timestamp | None = None
    for day in days:
        eligible = eligible_symbols(strategy, market, day)
        if eligible.empty:
            rows[day] = pd.Series(dtype=float)
            continue
        ref = market.row(day) - strategy.reference_lag_days
        current = (
            still_held(held, market.closes, held_since, ref)
            if held_since is not None
            else frozenset()
        )
        ref_caps = market.caps.iloc[ref][eligible]
        members = selected_symbols(strategy, ref_caps, current)
        weights = weigh(strategy, market, ref, ref_caps[members])
        rows[day] = weights
        held, held_since = weights.index[weights.to_numpy() > 0], day
    frame = pd.DataFrame({d: w for d, w in rows.items()}).T
    return frame.reindex(index=days, columns=market.closes.columns).fillna(0.0)
