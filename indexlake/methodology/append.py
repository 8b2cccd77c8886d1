"""Daily append: continue a published strategy by one or more days without recomputing its
history. Equal to a full `engine.compute_index` over the longer panels (property tests in
tests/methodology/test_incremental_properties.py); it reuses the engine's own steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from indexlake.lake.schemas import REBALANCE_ORDERS
from indexlake.methodology.engine import (
    IndexResult,
    _aligned_panels,
    _current_members,
    _eligible,
    _frames,
    _orders,
    _rebalance,
)
from indexlake.methodology.schedule import scheduled_mask
from indexlake.methodology.strategy import Strategy


@dataclass(frozen=True)
class IndexState:
    """What a daily run needs from the last published day of a strategy.

    ``index_shares``: symbol → Q held after the close of ``date`` (the published allocations of
    that day); ``level`` and ``divisor``: that day's published row; ``last_rebalance``: the
    latest day with ``is_rebalance`` and ``rebalance_members`` the names bought then (that
    day's allocations), for the buffer rule.
    """

    date: pd.Timestamp
    level: float
    divisor: float
    index_shares: pd.Series
    last_rebalance: pd.Timestamp
    rebalance_members: frozenset[str]


def state_from_result(levels: pd.DataFrame, allocations: pd.DataFrame) -> IndexState:
    """The state after the last day of published levels and allocations (one strategy)."""
    if levels.empty:
        raise ValueError("no published levels to continue from")
    last = levels.sort_values("date").iloc[-1]
    day = pd.Timestamp(last["date"])
    held = allocations.loc[pd.to_datetime(allocations["date"]) == day]
    rebalances = pd.to_datetime(levels.loc[levels["is_rebalance"].astype(bool), "date"])
    if rebalances.empty:
        raise ValueError("published levels have no rebalance day")
    last_rebalance = rebalances.max()
    bought = allocations.loc[pd.to_datetime(allocations["date"]) == last_rebalance, "symbol"]
    return IndexState(
        date=day,
        level=float(last["level"]),
        divisor=float(last["divisor"]),
        index_shares=pd.Series(
            held["index_shares"].to_numpy(dtype=float), index=held["symbol"].astype(str)
        ),
        last_rebalance=last_rebalance,
        rebalance_members=frozenset(bought.astype(str)),
    )


def append_day(
    strategy: Strategy,
    state: IndexState,
    closes: pd.DataFrame,
    market_caps: pd.DataFrame,
    dividends: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> tuple[IndexResult, IndexState]:
    """The next day's rows (levels, allocations, orders) and the state after it.

    The panels run from the same first day as the full computation that produced ``state``
    (listing age counts from it; lookback and liquidity windows read back from the reference
    date) through the new day, their last row; the row before it must be ``state.date``. Only
    the new day is computed: on an ordinary day the carried basket's move (plus its dividends
    for total return), on a scheduled rebalance day also the new targets. The numbers equal a
    full ``compute_index`` over the same panels.
    """
    inp = _aligned_panels(strategy, closes, market_caps, volumes, dividends)
    days, symbols, prices = inp.days, inp.symbols, inp.prices
    t = len(days) - 1
    if days[t - 1] != state.date:
        raise ValueError(
            f"the panel's second-to-last day {days[t - 1].date()} is not the state's day "
            f"{state.date.date()}: append exactly one day"
        )
    unknown = sorted(set(state.index_shares.index) - set(symbols))
    if unknown:
        raise ValueError(f"index shares for symbols outside the panel: {', '.join(unknown)}")
    q = state.index_shares.reindex(symbols, fill_value=0.0).to_numpy(dtype=float)
    px = np.where(prices[t - 1 : t + 1] > 0, prices[t - 1 : t + 1], 0.0)
    # Members without a close today were removed at their last close (yesterday's).
    q_carry = np.where(px[1] > 0, q, 0.0)
    mv_prev = float(q_carry @ px[0])
    if not mv_prev > 0:
        raise ValueError(f"every index member stopped trading before {days[t].date()}")
    mv_now = float(q_carry @ px[1])
    if inp.dividends is not None:
        mv_now += float(q_carry @ inp.dividends[t])
    growth = mv_now / mv_prev
    level = state.level * growth
    rebalance = bool(scheduled_mask(days, strategy.rebalance, strategy.rebalance_day)[t])
    q_post = q_carry
    orders = _orders(
        strategy,
        days,
        symbols,
        px,
        np.zeros(0, dtype=int),
        np.zeros((0, len(symbols))),
        np.zeros((0, len(symbols))),
        np.zeros(0),
    )
    if rebalance:
        eligible = _eligible(strategy, inp, t)
        if not eligible.any():
            raise ValueError(f"no eligible symbols at rebalance {days[t].date()}")
        selected = symbols.isin(list(state.rebalance_members))
        selected_row = int(days.get_indexer([state.last_rebalance])[0])
        if selected_row < 0:
            raise ValueError(
                f"the state's last rebalance {state.last_rebalance} is not in the panel"
            )
        current = _current_members(
            selected, inp.last_gap, selected_row, t - strategy.reference_lag_days
        )
        target, q_post = _rebalance(strategy, inp, t, eligible, current)
        full_px = np.where(prices > 0, prices, 0.0)
        orders = _orders(
            strategy,
            days,
            symbols,
            full_px,
            np.array([t]),
            target[None, :],
            q_carry[None, :],
            np.array([level]),
        )
    mv_post = float(q_post @ px[1])
    levels, allocations = _frames(
        days[t:],
        symbols,
        q_post[None, :],
        px[1:],
        np.array([mv_post]),
        np.array([level]),
        np.array([growth]),
    )
    levels["is_rebalance"] = rebalance
    held = q_post > 0
    new_state = IndexState(
        date=days[t],
        level=level,
        divisor=mv_post / level,
        index_shares=pd.Series(q_post[held], index=symbols[held].astype(str)),
        last_rebalance=days[t] if rebalance else state.last_rebalance,
        rebalance_members=(
            frozenset(symbols[held].astype(str)) if rebalance else state.rebalance_members
        ),
    )
    return IndexResult(levels=levels, allocations=allocations, orders=orders), new_state


def append_days(
    strategy: Strategy,
    state: IndexState,
    closes: pd.DataFrame,
    market_caps: pd.DataFrame,
    dividends: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> tuple[IndexResult, IndexState]:
    """Every day of the panels after ``state.date``, one ``append_day`` at a time.

    For a daily run that missed sessions; the loop is over the new days only.
    """
    days = closes.index
    start = days.get_indexer([state.date])[0]
    if start < 0:
        raise ValueError(f"the state's day {state.date.date()} is not in the panel")
    parts: list[IndexResult] = []
    for t in range(start + 1, len(days)):
        rows = slice(0, t + 1)
        part, state = append_day(
            strategy,
            state,
            closes.iloc[rows],
            market_caps,
            dividends=dividends,
            volumes=volumes,
        )
        parts.append(part)
    if not parts:
        empty = _frames(
            days[:0],
            pd.Index([], dtype=object),
            np.zeros((0, 0)),
            np.zeros((0, 0)),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0),
        )
        orders = pd.DataFrame({c: [] for c in REBALANCE_ORDERS.columns})
        return IndexResult(*empty, orders), state
    frames = [
        pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        for name in ("levels", "allocations", "orders")
    ]
    return IndexResult(*frames), state
