"""Synthetic wide panels, test strategies and a day-by-day reference implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indexlake.methodology.schedule import rebalance_dates
from indexlake.methodology.strategy import (
    AllSelection,
    CappedMarketCapWeighting,
    EqualWeighting,
    MarketCapWeighting,
    Strategy,
    TopNSelection,
)
from indexlake.methodology.weights import (
    capped_weights,
    equal_weights,
    market_cap_weights,
    top_n,
)


def make_panel(
    n_days: int = 300, n_symbols: int = 12, seed: int = 7, start: str = "2021-01-04"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide closes and market caps on business days: geometric random walks, fixed share counts."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, periods=n_days, name="date")
    symbols = [f"S{i:02d}" for i in range(n_symbols)]
    returns = rng.normal(0.0004, 0.02, (n_days, n_symbols))
    closes = pd.DataFrame(
        rng.uniform(20, 200, n_symbols) * np.exp(np.cumsum(returns, axis=0)),
        index=days,
        columns=symbols,
    )
    shares = rng.uniform(1e7, 1e9, n_symbols)
    return closes, closes * shares


def make_strategy(**overrides: object) -> Strategy:
    """A strategy with test defaults (top 5 by cap, monthly)."""
    fields: dict[str, object] = {
        "id": "test",
        "name": "Test",
        "selection": {"type": "top_n", "n": 5},
        "weighting": {"type": "market_cap"},
        "rebalance": "monthly",
    }
    fields.update(overrides)
    return Strategy.model_validate(fields)


STRATEGY_VARIANTS = {
    "top5_cap": {"selection": {"type": "top_n", "n": 5}, "weighting": {"type": "market_cap"}},
    "top6_capped": {
        "selection": {"type": "top_n", "n": 6},
        "weighting": {"type": "capped_market_cap", "cap": 0.2},
        "rebalance": "quarterly",
    },
    "all_equal": {"selection": {"type": "all"}, "weighting": {"type": "equal"}},
}


def _targets(strategy: Strategy, ref_caps: pd.Series) -> pd.Series:
    chosen = (
        top_n(ref_caps, strategy.selection.n)
        if isinstance(strategy.selection, TopNSelection)
        else list(ref_caps.index)
    )
    assert isinstance(strategy.selection, TopNSelection | AllSelection)
    w = strategy.weighting
    if isinstance(w, EqualWeighting):
        return equal_weights(sorted(chosen))
    weights = market_cap_weights(ref_caps[chosen])
    if isinstance(w, CappedMarketCapWeighting):
        return capped_weights(weights, w.cap)
    assert isinstance(w, MarketCapWeighting)
    return weights


def reference_index(
    strategy: Strategy,
    closes: pd.DataFrame,
    caps: pd.DataFrame,
    dividends: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[pd.Timestamp, dict[str, float]]]:
    """Levels/divisors and post-close index shares, computed one day at a time (slow, obvious).

    Also a ``total`` column: TR_t = TR_{t-1} · (PR_t + Σ Div·Q / D) / PR_{t-1} (methodology.md),
    with Q and D those the day's price level is computed with.
    """
    days, symbols = closes.index, list(closes.columns)
    price_rows = [dict(zip(symbols, row, strict=True)) for row in closes.to_numpy()]
    divs = (dividends if dividends is not None else closes * 0).reindex_like(closes).fillna(0)
    div_rows = [dict(zip(symbols, row, strict=True)) for row in divs.to_numpy()]
    lag = strategy.reference_lag_days
    rebalances = set(rebalance_dates(days, strategy.rebalance, strategy.rebalance_day, lag=lag))
    shares: dict[str, float] = {}
    divisor = level = total = np.nan
    rows, holdings = [], {}
    for t in range(lag, len(days)):
        price, prev = price_rows[t], price_rows[t - 1]
        prev_level = level
        if shares:
            gone = [s for s in shares if not price[s] > 0]
            if gone:
                # Removed at their last close (t-1): divisor keeps the level continuous.
                before = sum(prev[s] * q for s, q in shares.items())
                shares = {s: q for s, q in shares.items() if s not in gone}
                divisor *= sum(prev[s] * q for s, q in shares.items()) / before
            level = sum(price[s] * q for s, q in shares.items()) / divisor
            index_dividend = sum(div_rows[t][s] * q for s, q in shares.items()) / divisor
            total *= (level + index_dividend) / prev_level
        if days[t] in rebalances:
            ref_close, ref_caps = closes.iloc[t - lag], caps.iloc[t - lag]
            ok = (ref_close > 0) & (ref_caps > 0) & (closes.iloc[t] > 0)
            target = _targets(strategy, ref_caps[ok])
            basket = ref_caps[target.index].sum()
            new = {s: target[s] * basket / price[s] for s in target.index if target[s] > 0}
            if not shares:
                divisor, level = basket / strategy.base_value, strategy.base_value
                total = level
            else:
                divisor *= basket / sum(price[s] * q for s, q in shares.items())
            shares = new
        if shares:
            rows.append({"date": days[t], "level": level, "divisor": divisor, "total": total})
            holdings[days[t]] = dict(shares)
    return pd.DataFrame(rows), holdings
