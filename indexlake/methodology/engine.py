"""Index engine: daily levels, drifted allocations and model-portfolio orders for one strategy.

Conventions (divisor method, see docs/methodology.md):

- Level_t = Σ P_i,t · Q_i / D. Scheduled rebalances (``schedule.rebalance_dates``) are the
  first day in the panel with a previous trading day in the panel (its reference date), then the
  close of the first trading day of each new month/quarter. The base date is the first scheduled
  rebalance at which some symbol is eligible (normally the first one; later for lookback
  weightings, below); the level is ``base_value`` at its close.
- Weights for a rebalance use only reference-date data (the previous trading day's close):
  a symbol is eligible when it has a positive close and market cap at the reference date and a
  positive close on the rebalance day; top-N ranks eligible symbols by reference-date cap.
- Lookback weightings (inverse volatility, minimum variance) also need a full window: positive
  closes on the ``lookback + 1`` trading days ending at the reference date, giving ``lookback``
  daily simple returns, none on or after the rebalance day. Other names are skipped (top-N picks
  among the eligible). Rebalances before any symbol has a full window are skipped, so the index
  starts at the first rebalance where some symbol has one. No eligible symbol at a rebalance
  after the base date, or at every rebalance, is an error, and so is a per-name cap that the
  eligible names cannot meet (N × cap < 1): a half-filled or uncapped basket would not be the
  strategy as written.
- Index shares at rebalance k: Q_i = w_i · MV_k / P_i (rebalance-day close), so the weights at
  that close equal the targets. MV_k, the market value of the new basket, is the total
  reference-date market cap of the selected members, so for cap weighting Q_i approximates the
  shares outstanding. The divisor keeps the level continuous: D_after = D_before · MV_after /
  MV_before; the published level on a rebalance day is the one computed with the old shares.
- Between rebalances Q is frozen and weights drift; allocations for a day are the holdings after
  that close's events (on a rebalance day: the new targets), w_i,t = P_i,t · Q_i / Σ P · Q.
- A member without a usable close (delisted, or missing data) is removed at its last close with a
  divisor adjustment, which hands its value to the remaining members pro rata; it appears in the
  allocations through its last close, the divisor change shows on the next row, and it stays out
  until it is selected again at a later rebalance.
- The published divisor of a row goes with that row's allocations: on every row
  level = Σ close · index_shares / divisor. On a rebalance day that is the new basket's divisor;
  a removal's adjustment shows on the first row without the member.
- ``daily_return`` is NaN on the base date (no earlier level).
- Orders: a model portfolio of ``notional`` USD bought at the base-date close, then holding the
  drifted index proportions (its value follows the level). At each rebalance it trades from the
  drifted holdings, valued at that close, to the new targets. Quantities are unsigned shares,
  notionals unsigned USD; trades below ``ORDER_TOLERANCE`` of the portfolio value are skipped.

Everything is vectorised over days: the only Python loop is over rebalances (weight targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS, REBALANCE_ORDERS
from indexlake.methodology.risk_weights import (
    inverse_volatility_array,
    minimum_variance_array,
    shrunk_covariance,
)
from indexlake.methodology.schedule import rebalance_dates
from indexlake.methodology.strategy import (
    CappedMarketCapWeighting,
    EqualWeighting,
    InverseVolatilityWeighting,
    LookbackWeighting,
    MarketCapWeighting,
    MinimumVarianceWeighting,
    Strategy,
    TopNSelection,
    TwoLevelCappedMarketCapWeighting,
)
from indexlake.methodology.two_level_cap import two_level_capped_array
from indexlake.methodology.weights import capped_array

# Trades smaller than this fraction of the model portfolio's value are rounding noise.
ORDER_TOLERANCE = 1e-12
BUY, SELL = "buy", "sell"


class InsufficientHistoryError(ValueError):
    """No rebalance in the panel has an eligible symbol (e.g. history shorter than a lookback)."""


@dataclass
class IndexResult:
    """One strategy's published frames (without the strategy_id partition column)."""

    levels: pd.DataFrame
    allocations: pd.DataFrame
    orders: pd.DataFrame


def _aligned_panels(
    closes: pd.DataFrame, market_caps: pd.DataFrame
) -> tuple[pd.DatetimeIndex, pd.Index, np.ndarray, np.ndarray]:
    if not isinstance(closes.index, pd.DatetimeIndex):
        raise TypeError("closes must be indexed by a DatetimeIndex of trading days")
    if not closes.index.is_monotonic_increasing or closes.index.has_duplicates:
        raise ValueError("closes must have sorted, unique trading days")
    if len(closes.index) < 2:
        raise ValueError("need at least two trading days (a reference date and a base date)")
    # Columns sorted by symbol so that column order is the top-N tie-break order.
    symbols = pd.Index(sorted(map(str, closes.columns)), dtype=object)
    if symbols.has_duplicates:
        duplicated = sorted(set(symbols[symbols.duplicated()]))
        raise ValueError(f"duplicate symbols in closes: {duplicated}")
    prices = closes.set_axis(closes.columns.map(str), axis=1)[symbols]
    caps = market_caps.set_axis(market_caps.columns.map(str), axis=1)
    caps = caps.reindex(index=closes.index, columns=symbols)
    return (
        closes.index,
        symbols,
        prices.to_numpy(dtype=float, na_value=np.nan),
        caps.to_numpy(dtype=float, na_value=np.nan),
    )


def _window_returns(prices: np.ndarray, ref: int, lookback: int, members: np.ndarray) -> np.ndarray:
    """Daily simple returns of the members over the lookback days ending at the reference row."""
    window = prices[ref - lookback : ref + 1, members]
    return window[1:] / window[:-1] - 1.0


def _target_weights(
    strategy: Strategy,
    caps: np.ndarray,
    eligible: np.ndarray,
    prices: np.ndarray | None = None,
    ref: int = 0,
) -> np.ndarray:
    """Target weights over all columns (0 for non-members) from reference-date data.

    ``prices`` (all rows, for the lookback window ending at row ``ref``) is needed only by
    lookback weightings.
    """
    members = np.flatnonzero(eligible)
    if isinstance(strategy.selection, TopNSelection):
        # Largest cap first, ties by column position (= symbol order).
        order = np.lexsort((members, -caps[members]))
        members = np.sort(members[order[: strategy.selection.n]])
    member_caps = caps[members]
    weighting = strategy.weighting
    if isinstance(weighting, EqualWeighting):
        w = np.full(members.size, 1.0 / members.size)
    elif isinstance(weighting, MarketCapWeighting):
        w = member_caps / member_caps.sum()
    elif isinstance(weighting, CappedMarketCapWeighting):
        w = capped_array(member_caps, weighting.cap)
    elif isinstance(weighting, TwoLevelCappedMarketCapWeighting):
        w = two_level_capped_array(
            member_caps, weighting.max_weight, weighting.group_threshold, weighting.group_max
        )
    elif isinstance(weighting, InverseVolatilityWeighting):
        assert prices is not None
        w = inverse_volatility_array(_window_returns(prices, ref, weighting.lookback, members))
    elif isinstance(weighting, MinimumVarianceWeighting):
        assert prices is not None
        returns = _window_returns(prices, ref, weighting.lookback, members)
        cov = shrunk_covariance(returns, weighting.shrinkage)
        w = minimum_variance_array(cov, weighting.max_weight)
    else:  # pragma: no cover - the Strategy model admits no other weighting
        raise TypeError(f"unsupported weighting {weighting!r}")
    out = np.zeros(caps.size)
    out[members] = w
    return out


def _full_windows(prices: np.ndarray, lookback: int) -> np.ndarray:
    """Per row and symbol: positive closes on that row and the ``lookback`` rows before it."""
    full = np.zeros(prices.shape, dtype=bool)
    if lookback >= prices.shape[0]:
        return full
    gaps = np.cumsum(~(prices > 0), axis=0)  # NaN compares False, so counts as a gap
    # Gaps in rows r - lookback .. r: gaps[r] - gaps[r - lookback - 1] (gaps[r] at r = lookback).
    full[lookback] = gaps[lookback] == 0
    full[lookback + 1 :] = gaps[lookback + 1 :] == gaps[: -lookback - 1]
    return full


def _rebalance_shares(
    strategy: Strategy,
    days: pd.DatetimeIndex,
    prices: np.ndarray,
    caps: np.ndarray,
    rebalance_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the rebalances held, with target weights and index shares (rebalances × symbols).

    Rebalances before the first one with an eligible symbol are dropped (see the module notes).
    """
    weighting = strategy.weighting
    lookback = weighting.lookback if isinstance(weighting, LookbackWeighting) else 0
    full = _full_windows(prices, lookback) if lookback else None
    weights = np.zeros((rebalance_rows.size, prices.shape[1]))
    shares = np.zeros_like(weights)
    held = np.zeros(rebalance_rows.size, dtype=bool)
    for k, row in enumerate(rebalance_rows):
        ref = row - 1
        # NaN compares False, so "> 0" also rejects missing values.
        eligible = (prices[ref] > 0) & (caps[ref] > 0) & (prices[row] > 0)
        if full is not None:
            eligible &= full[ref]
        if not eligible.any():
            if held.any():
                raise ValueError(f"no eligible symbols at rebalance {days[row].date()}")
            continue  # the index has not started yet
        try:
            w = _target_weights(strategy, caps[ref], eligible, prices, ref)
        except ValueError as exc:
            raise ValueError(f"rebalance {days[row].date()}: {exc}") from exc
        basket_value = caps[ref][w > 0].sum()
        weights[k] = w
        shares[k] = np.divide(w * basket_value, prices[row], out=np.zeros_like(w), where=w > 0)
        held[k] = True
    if not held.any():
        need = f" with a full {lookback}-day return window" if lookback else ""
        span = f"{days[rebalance_rows[0]].date()}..{days[rebalance_rows[-1]].date()}"
        # A distinct type so that a caller can skip a strategy that cannot start yet.
        raise InsufficientHistoryError(f"no eligible symbols{need} at any rebalance ({span})")
    return rebalance_rows[held], weights[held], shares[held]


def compute_index(
    strategy: Strategy, closes: pd.DataFrame, market_caps: pd.DataFrame
) -> IndexResult:
    """Daily levels, drifted allocations and rebalance orders of a strategy over a price panel."""
    days, symbols, prices, caps = _aligned_panels(closes, market_caps)
    n_days = len(days)
    reb_days = rebalance_dates(days, strategy.rebalance)
    reb_rows, target_w, reb_shares = _rebalance_shares(
        strategy, days, prices, caps, days.get_indexer(reb_days)
    )

    usable = prices > 0  # False for NaN
    px = np.where(usable, prices, 0.0)
    # Last row (≤ t) without a usable close, per symbol. A member bought at rebalance row r is
    # still held at t while this is ≤ r (eligibility guarantees a close at r itself).
    rows = np.arange(n_days, dtype=np.int32)
    last_gap = np.maximum.accumulate(np.where(usable, np.int32(-1), rows[:, None]), axis=0)

    base = int(reb_rows[0])
    n_out = n_days - base
    local_reb = reb_rows - base
    # Shares held after each close (post-event: on a rebalance day, the new basket).
    period = np.searchsorted(reb_rows, np.arange(base, n_days), side="right") - 1
    alive = last_gap[base:] <= reb_rows[period][:, None]
    q_post = np.where(alive, reb_shares[period], 0.0)
    # The old basket carried into each rebalance day (nothing before the base date).
    q_old = np.zeros_like(reb_shares)
    q_old[1:] = np.where(last_gap[reb_rows[1:]] <= reb_rows[:-1, None], reb_shares[:-1], 0.0)

    px_now = px[base:]
    mv_post = np.einsum("ij,ij->i", q_post, px_now)
    # The basket carried through day t's move is q_post[t] (members still trading at t), except
    # on rebalance days, where it is the old basket.
    mv_now = mv_post.copy()
    mv_prev = np.zeros(n_out)
    mv_prev[1:] = np.einsum("ij,ij->i", q_post[1:], px[base:-1])
    mv_now[local_reb] = np.einsum("ij,ij->i", q_old, px[reb_rows])
    mv_prev[local_reb[1:]] = np.einsum("ij,ij->i", q_old[1:], px[reb_rows[1:] - 1])
    dead = np.flatnonzero(mv_prev[1:] <= 0)
    if dead.size:
        when = days[base + dead[0] + 1].date()
        raise ValueError(f"every index member stopped trading before {when}")

    growth = np.ones(n_out)
    growth[1:] = mv_now[1:] / mv_prev[1:]
    level = strategy.base_value * np.cumprod(growth)
    daily_return = growth - 1.0
    daily_return[0] = np.nan
    divisor = mv_post / level
    is_rebalance = np.zeros(n_out, dtype=bool)
    is_rebalance[local_reb] = True
    out_days = days[base:]

    # Boolean-mask selection is row-major, so rows come out by date, then symbol.
    held_mask = q_post > 0
    members_per_day = held_mask.sum(axis=1)
    levels = pd.DataFrame(
        {
            "date": out_days,
            "level": level,
            "daily_return": daily_return,
            "divisor": divisor,
            "constituents": members_per_day.astype(np.int32),
            "is_rebalance": is_rebalance,
        },
        columns=INDEX_LEVELS.columns,
    )

    symbol_pos = np.broadcast_to(np.arange(len(symbols), dtype=np.intp), held_mask.shape)
    q_held = q_post[held_mask]
    close_held = px_now[held_mask]
    allocations = pd.DataFrame(
        {
            "date": np.repeat(out_days.to_numpy(), members_per_day),
            "symbol": _symbol_column(symbols, symbol_pos[held_mask]),
            "weight": q_held * close_held / np.repeat(mv_post, members_per_day),
            "index_shares": q_held,
            "close": close_held,
        },
        columns=ALLOCATIONS.columns,
        copy=False,
    )
    orders = _orders(strategy, days, symbols, px, reb_rows, target_w, q_old, level[local_reb])
    return IndexResult(levels=levels, allocations=allocations, orders=orders)


def _symbol_column(symbols: pd.Index, positions: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(symbols.to_numpy(), dtype="str").take(positions))


def _orders(
    strategy: Strategy,
    days: pd.DatetimeIndex,
    symbols: pd.Index,
    px: np.ndarray,
    reb_rows: np.ndarray,
    target_w: np.ndarray,
    q_old: np.ndarray,
    reb_level: np.ndarray,
) -> pd.DataFrame:
    """Trades taking the model portfolio from its drifted holdings to each rebalance's targets."""
    price = px[reb_rows]
    # Drifted weights of the old basket at the rebalance close; all cash at the base date.
    old_value = (q_old * price).sum(axis=1, keepdims=True)
    w_before = np.divide(q_old * price, old_value, out=np.zeros_like(q_old), where=old_value > 0)
    value = strategy.notional * reb_level / strategy.base_value
    trade_value = value[:, None] * (target_w - w_before)
    traded = np.abs(trade_value) > ORDER_TOLERANCE * value[:, None]
    k_idx, s_idx = np.nonzero(traded)
    signed_value = trade_value[k_idx, s_idx]
    trade_price = price[k_idx, s_idx]
    return pd.DataFrame(
        {
            "rebalance_date": days[reb_rows].take(k_idx),
            "symbol": _symbol_column(symbols, s_idx),
            "side": pd.Series(np.where(signed_value > 0, BUY, SELL), dtype="str"),
            "quantity": np.abs(signed_value) / trade_price,
            "price": trade_price,
            "notional": np.abs(signed_value),
            "weight_before": w_before[k_idx, s_idx],
            "weight_after": target_w[k_idx, s_idx],
        },
        columns=REBALANCE_ORDERS.columns,
    )
