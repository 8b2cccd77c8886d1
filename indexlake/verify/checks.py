"""The comparisons `indexlake verify` makes for one strategy, each reduced to a worst difference.

Levels are compared by relative difference |ours / theirs − 1|. Weights are fractions of the
index, so their difference is absolute (a share of the index's value): a relative difference of
a 1e-6 weight would mostly measure rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from indexlake.methodology.strategy import CappedMarketCapWeighting, Strategy
from indexlake.verify import reference
from indexlake.verify.peers import PeerRun
from indexlake.verify.published import Published

# Tolerances: the engines agree to rounding; ffn is held to the precision the methodology
# documents for it (it rounds to 4 decimals in some versions).
LEVEL_TOLERANCE = 1e-9
WEIGHT_TOLERANCE = 1e-9
FFN_TOLERANCE = 1e-4

Kind = Literal["level", "weight", "schedule"]


@dataclass(frozen=True)
class Check:
    """One comparison: its worst difference, where it occurred, and the tolerance."""

    name: str
    kind: Kind
    diff: float
    tolerance: float
    at: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.diff <= self.tolerance)  # NaN fails

    def describe(self) -> str:
        if self.name == "error":
            return f"error: {self.at}"
        where = f" at {self.at}" if self.at else ""
        return f"{self.name} {self.diff:.2e} > {self.tolerance:.0e}{where}"


def _label(key: object) -> str:
    if isinstance(key, tuple):
        return " ".join(_label(k) for k in key)
    if isinstance(key, pd.Timestamp):
        return str(key.date())
    return str(key)


def worst(name: str, kind: Kind, diffs: pd.Series, tolerance: float) -> Check:
    """The largest of ``diffs`` (NaN counts as infinitely different) as a check."""
    diffs = diffs.astype(float).fillna(np.inf)
    if diffs.empty:
        return Check(name, kind, 0.0, tolerance)
    values = diffs.to_numpy()
    i = int(np.argmax(values))
    return Check(name, kind, float(values[i]), tolerance, _label(diffs.index[i]))


def relative(ours: pd.Series, theirs: pd.Series) -> pd.Series:
    """|ours / theirs − 1| on the union of both indexes (missing on either side: NaN)."""
    ours, theirs = ours.align(theirs)
    return (ours / theirs - 1.0).abs()


def weight_gaps(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.Series:
    """Per (date, symbol): |our weight − theirs|, a symbol missing on one side weighing 0."""
    ours, theirs = ours.align(theirs, fill_value=0.0)
    return (ours.fillna(0.0) - theirs.fillna(0.0)).abs().stack()


def schedule_check(strategy: Strategy, published: Published, market: reference.Market) -> Check:
    """Published base date and rebalance days vs the reference calendar and eligibility rule.

    The difference is the number of days on which they disagree (published days that are not
    landed sessions included).
    """
    closes = market.closes
    scheduled = reference.rebalance_schedule(strategy, closes.index)
    base = reference.base_date(strategy, market)
    expected = scheduled[scheduled >= base] if base is not None else scheduled[:0]
    levels = published.levels
    actual = levels.index[levels["is_rebalance"].to_numpy(dtype=bool)]
    differ = expected.symmetric_difference(actual).union(levels.index.difference(closes.index))
    if levels.index[0] != base:
        differ = differ.union([levels.index[0]])
    first = _label(differ[0]) if len(differ) else ""
    return Check("schedule", "schedule", float(len(differ)), 0.0, first)


def reference_targets(
    strategy: Strategy, market: reference.Market, days: pd.DatetimeIndex
) -> pd.DataFrame:
    """Reference target weights (rebalance days × symbols, 0 for non-members)."""
    return reference.targets(strategy, market, days)


def targets_check(reference_weights: pd.DataFrame, published_weights: pd.DataFrame) -> Check:
    """Published weights on rebalance days vs the pandas reference targets."""
    on_days = published_weights.reindex(index=reference_weights.index)
    return worst("targets", "weight", weight_gaps(on_days, reference_weights), WEIGHT_TOLERANCE)


def ffn_check(
    strategy: Strategy,
    market: reference.Market,
    reference_weights: pd.DataFrame,
    published_weights: pd.DataFrame,
) -> Check | None:
    """Single-cap strategies: published targets vs ``ffn.core.limit_weights`` (None otherwise).

    ffn gets the cap-input weights: market-cap weights of the members the reference selects.
    """
    weighting = strategy.weighting
    if not isinstance(weighting, CappedMarketCapWeighting):
        return None
    from ffn.core import limit_weights

    rows = {}
    for day, members in reference_weights.iterrows():
        chosen = members.index[members > 0]
        if chosen.empty:
            continue
        ref = market.row(day) - strategy.reference_lag_days
        ref_caps = market.caps.iloc[ref][chosen]
        rows[day] = limit_weights(reference.cap_input_weights(ref_caps), weighting.cap)
    theirs = pd.DataFrame(rows).T.reindex(index=reference_weights.index)
    on_days = published_weights.reindex(index=reference_weights.index)
    return worst("ffn cap", "weight", weight_gaps(on_days, theirs), FFN_TOLERANCE)


def return_check(strategy: Strategy, published: Published, market: reference.Market) -> Check:
    """Each day's published return vs the methodology's, from the basket carried into the day.

    TR_t / TR_{t-1} = (PR_t + IndexDividend_t) / PR_{t-1}: with Q the index shares published
    for day t − 1 of the names with a landed close on day t (a name without one left at its
    last close), that is Σ Q·(P_t + Div_t) / Σ Q·P_{t-1}. For price return Div = 0.
    """
    levels, alloc = published.levels, published.allocations
    closes = market.closes
    shares = alloc.pivot(index="date", columns="symbol", values="index_shares")
    shares = shares.reindex(index=levels.index, columns=closes.columns).fillna(0.0)
    price = closes.reindex(index=levels.index)
    paid = pd.DataFrame(0.0, index=price.index, columns=price.columns)
    if strategy.return_type == "total":
        if market.dividends is None:
            raise ValueError(f"{strategy.id} is total return but no dividends are landed")
        paid = market.dividends.reindex_like(price).fillna(0.0)
    carried = shares.shift().where(price > 0, 0.0).fillna(0.0)
    before = (carried * price.shift()).sum(axis=1)
    after = (carried * (price.fillna(0.0) + paid)).sum(axis=1)
    expected = (after / before).iloc[1:]
    ratio = (levels["level"] / levels["level"].shift()).iloc[1:]
    return worst("return", "level", relative(ratio, expected), LEVEL_TOLERANCE)


def drift_check(published: Published, closes: pd.DataFrame) -> Check:
    """Drifted weights = index shares × close / (level × divisor), shares frozen in between.

    Closes are the landed ones, level and divisor the published row's. Between rebalances a
    name's index shares must not change, and no name may join.
    """
    alloc = published.allocations
    landed = closes.stack().rename("landed").rename_axis(["date", "symbol"])
    rows = alloc.join(landed, on=["date", "symbol"]).join(published.levels, on="date")
    implied = rows["index_shares"] * rows["landed"] / (rows["level"] * rows["divisor"])
    gaps = (rows["weight"] - implied).abs()
    gaps.index = pd.MultiIndex.from_frame(rows[["date", "symbol"]])

    shares = alloc.pivot(index="date", columns="symbol", values="index_shares")
    shares = shares.reindex(index=published.levels.index)
    previous = shares.shift()
    between = ~published.levels["is_rebalance"].to_numpy(dtype=bool)
    # Held today and yesterday: unchanged shares; held today only: a join outside a rebalance.
    changed = (shares / previous - 1.0).abs().where(previous.notna(), np.inf)
    changed = changed.where(shares.notna(), 0.0)[between]
    return worst("drift", "weight", pd.concat([gaps, changed.stack()]), WEIGHT_TOLERANCE)


def identity_check(published: Published, closes: pd.DataFrame) -> Check:
    """Each row: level = Σ landed close × index shares / divisor, daily return = level ratio,
    constituents = allocation rows, published close = landed close."""
    levels, alloc = published.levels, published.allocations
    landed = closes.stack().rename("landed").rename_axis(["date", "symbol"])
    rows = alloc.join(landed, on=["date", "symbol"])
    market_value = (rows["index_shares"] * rows["landed"]).groupby(rows["date"]).sum()
    implied = market_value.reindex(levels.index) / levels["divisor"]
    parts = [relative(levels["level"], implied)]
    ratio = levels["level"] / levels["level"].shift() - 1.0
    parts.append((levels["daily_return"] - ratio).abs().iloc[1:])
    counts = rows.groupby("date").size().reindex(levels.index, fill_value=0)
    parts.append((counts != levels["constituents"].astype(int)).astype(float))
    close_gap = relative(rows["close"], rows["landed"])
    close_gap.index = rows["date"]
    parts.append(close_gap)
    return worst("identity", "level", pd.concat(parts), LEVEL_TOLERANCE)


def peer_checks(
    name: str, run: PeerRun, published: Published, published_weights: pd.DataFrame
) -> list[Check]:
    """A peer's levels and its drifted weights (except on its removal days) vs the published.

    On a removal day the peer's weights are after the sale, the published ones before it (the
    member is published through its last close); the drift check covers those rows.
    """
    gaps = relative(published.levels["level"], run.levels)
    level = worst(f"{name} levels", "level", gaps, LEVEL_TOLERANCE)
    ours = published_weights.drop(index=run.removal_days, errors="ignore")
    theirs = run.weights.drop(index=run.removal_days, errors="ignore")
    weight = worst(f"{name} weights", "weight", weight_gaps(ours, theirs), WEIGHT_TOLERANCE)
    return [level, weight]
