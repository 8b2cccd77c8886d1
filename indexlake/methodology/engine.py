"""Index engine: daily levels, drifted allocations and model-portfolio orders for one strategy.

Conventions (divisor method, see docs/methodology.md):

- Level_t = Σ P_i,t · Q_i / D. Rebalances (``schedule.rebalance_dates``): the base date, then
  the strategy's schedule (first trading day or third Friday of each month/quarter/year, at the
  close). The base date is ``strategy.base_date`` when set (it must be a panel day with data),
  else the first day with a reference date in the panel, moved on to the first scheduled
  rebalance at which some symbol is eligible (later for lookback weightings, below); the level
  is ``base_value`` at its close.
- Reference date: ``reference_lag_days`` panel rows (trading days) before the rebalance day.
  Weights use only data up to it: a symbol is eligible when it is in the universe, has a
  positive close and market cap at the reference date and a positive close on the rebalance
  day (needed to buy it), and passes the universe filters at the reference date (listing age
  counted from its first close in the panel; median dollar volume over the liquidity window
  ending there). Top-N ranks eligible symbols by reference-date cap, with the buffer rule of
  ``TopNSelection`` (current members: the names selected at the previous rebalance and still
  held at the reference-date close, i.e. with a usable close on every day from that rebalance
  to the reference date; known from reference-date data only).
- Lookback weightings (inverse volatility, minimum variance) also need a full window: positive
  closes on the ``lookback + 1`` trading days ending at the reference date, giving ``lookback``
  daily simple returns, none after the reference date. Other names are skipped (top-N picks
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
- Total return (``return_type = "total"``): TR_t = TR_{t-1} · (PR_t + IndexDividend_t) / PR_{t-1}
  with IndexDividend_t = Σ Div_i,t · Q_i / D over the basket carried into day t (cash dividend
  per share on the ex-date, split-adjusted like the closes): the dividends are reinvested in the
  whole index at the ex-date close. The published level is TR and the published divisor is
  Σ P·Q / TR (the divisor absorbs each reinvestment), so level = Σ close · index_shares /
  divisor holds on every row either way.
- The published divisor of a row goes with that row's allocations: on every row
  level = Σ close · index_shares / divisor. On a rebalance day that is the new basket's divisor;
  a removal's adjustment shows on the first row without the member.
- ``daily_return`` is NaN on the base date (no earlier level).
- Orders: a model portfolio of ``notional`` USD bought at the base-date close, then holding the
  drifted index proportions (its value follows the level). At each rebalance it trades from the
  drifted holdings, valued at that close, to the new targets. Quantities are unsigned shares,
  notionals unsigned USD; trades below ``ORDER_TOLERANCE`` of the portfolio value are skipped.
- Daily runs: ``append.append_day`` extends a published state by one day with the same
  arithmetic, so its numbers equal a full recompute's (``append.state_from_result`` reads the
  state back).

Everything is vectorised over days: the only Python loop is over rebalances (weight targets).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS, REBALANCE_ORDERS
from indexlake.methodology.risk_weights import (
    inverse_volatility_array,
    minimum_variance_array,
    shrunk_covariance,
    single_threaded_blas,
)
from indexlake.methodology.schedule import rebalance_dates
from indexlake.methodology.strategy import (
    CappedMarketCapWeighting,
    EqualWeighting,
    InverseVolatilityWeighting,
    LandedUniverse,
    LookbackWeighting,
    MarketCapWeighting,
    MinimumVarianceWeighting,
    Strategy,
    SymbolsUniverse,
    TopNSelection,
    TwoLevelCappedMarketCapWeighting,
)
from indexlake.methodology.two_level_cap import two_level_capped_array
from indexlake.methodology.weights import capped_array

# Trades smaller than this fraction of the model portfolio's value are rounding noise.
ORDER_TOLERANCE = 1e-12
BUY, SELL = "buy", "sell"


class InsufficientHistoryError(ValueError):
    """The strategy cannot start on this panel yet (e.g. history shorter than a lookback)."""


class MissingDividendsError(InsufficientHistoryError):
    """A total-return strategy computed without a dividends panel: skipped like a short history."""


@dataclass
class IndexResult:
    """One strategy's published frames (without the strategy_id partition column)."""

    levels: pd.DataFrame
    allocations: pd.DataFrame
    orders: pd.DataFrame


@dataclass
class _Inputs:
    """The panels as arrays over the same days × symbols (symbols sorted)."""

    days: pd.DatetimeIndex
    symbols: pd.Index
    prices: np.ndarray
    caps: np.ndarray
    volumes: np.ndarray | None
    dividends: np.ndarray | None
    first_close: np.ndarray  # per symbol: row of its first positive close (n_days if none)

    @cached_property
    def last_gap(self) -> np.ndarray:
        """Per row and symbol: the last row (≤ that row) without a usable close, -1 if none."""
        return _last_gap(self.prices)


def _grid(frame: pd.DataFrame, days: pd.DatetimeIndex, symbols: pd.Index) -> np.ndarray:
    frame = frame.set_axis(frame.columns.map(str), axis=1)
    return frame.reindex(index=days, columns=symbols).to_numpy(dtype=float, na_value=np.nan)


def _needs_volume(strategy: Strategy) -> bool:
    u = strategy.universe
    return isinstance(u, LandedUniverse) and u.min_median_dollar_volume is not None


def _aligned_panels(
    strategy: Strategy,
    closes: pd.DataFrame,
    market_caps: pd.DataFrame,
    volumes: pd.DataFrame | None = None,
    dividends: pd.DataFrame | None = None,
) -> _Inputs:
    if not isinstance(closes.index, pd.DatetimeIndex):
        raise TypeError("closes must be indexed by a DatetimeIndex of trading days")
    if not closes.index.is_monotonic_increasing or closes.index.has_duplicates:
        raise ValueError("closes must have sorted, unique trading days")
    if len(closes.index) < 2:
        raise ValueError("need at least two trading days (a reference date and a base date)")
    # Columns sorted by symbol so that column order is the top-N tie-break order.
    columns = pd.Index(closes.columns.map(str), dtype=object)
    if columns.has_duplicates:
        duplicated = sorted(set(columns[columns.duplicated()]))
        raise ValueError(f"duplicate symbols in closes: {duplicated}")
    names = sorted(columns)
    if isinstance(strategy.universe, SymbolsUniverse):
        listed = strategy.universe.symbols
        names = sorted(set(listed) & set(names))
        if not names:
            shown = ", ".join(listed[:5]) + (", …" if len(listed) > 5 else "")
            raise ValueError(
                f"{strategy.where('universe.symbols')}: none of the {len(listed)} listed "
                f"symbols ({shown}) has closes in the panel"
            )
    symbols = pd.Index(names, dtype=object)
    days = closes.index
    prices = _grid(closes, days, symbols)
    caps = _grid(market_caps, days, symbols)
    vols = None
    if _needs_volume(strategy):
        if volumes is None:
            raise ValueError(
                f"{strategy.where('universe.min_median_dollar_volume')}: the liquidity filter "
                "needs daily volumes, but none were given"
            )
        vols = _grid(volumes, days, symbols)
    divs = None
    if strategy.return_type == "total":
        if dividends is None:
            raise MissingDividendsError(
                f"{strategy.where('return_type')}: strategy {strategy.id} is total return but "
                "no dividends panel was given (it is computed once dividends are landed)"
            )
        divs = np.nan_to_num(_grid(dividends, days, symbols), nan=0.0)
        if (divs < 0).any():
            row, col = (int(i[0]) for i in np.nonzero(divs < 0))
            raise ValueError(
                f"dividends: negative amount {divs[row, col]} for {symbols[col]} on "
                f"{days[row].date()}; expected non-negative cash per share"
            )
    usable = prices > 0
    first_close = np.where(usable.any(axis=0), usable.argmax(axis=0), len(days))
    return _Inputs(days, symbols, prices, caps, vols, divs, first_close)


def _window_returns(prices: np.ndarray, ref: int, lookback: int, members: np.ndarray) -> np.ndarray:
    """Daily simple returns of the members over the lookback days ending at the reference row."""
    window = prices[ref - lookback : ref + 1, members]
    return window[1:] / window[:-1] - 1.0


def _median_dollar_volume(inp: _Inputs, ref: int, lookback: int) -> np.ndarray:
    """Per symbol: median close × volume over the ``lookback`` rows ending at ``ref``.

    Days without a close or a volume are skipped; NaN when there is none.
    """
    assert inp.volumes is not None
    lo = max(0, ref - lookback + 1)
    price = inp.prices[lo : ref + 1]
    volume = inp.volumes[lo : ref + 1]
    dollar = np.where((price > 0) & (volume >= 0), price * volume, np.nan)
    # np.nanmedian, vectorised: NaN sorts last, so the valid values lead each column.
    ordered = np.sort(dollar, axis=0)
    count = (~np.isnan(dollar)).sum(axis=0)
    low = np.take_along_axis(ordered, (np.maximum(count - 1, 0) // 2)[None, :], axis=0)[0]
    high = np.take_along_axis(ordered, (count // 2)[None, :], axis=0)[0]
    return np.where(count > 0, (low + high) / 2, np.nan)


def _eligible(strategy: Strategy, inp: _Inputs, row: int) -> np.ndarray:
    """Symbols that may be selected at the rebalance on ``row`` (reference-date data only)."""
    ref = row - strategy.reference_lag_days
    prices = inp.prices
    # NaN compares False, so "> 0" also rejects missing values.
    eligible = (prices[ref] > 0) & (inp.caps[ref] > 0) & (prices[row] > 0)
    weighting = strategy.weighting
    if isinstance(weighting, LookbackWeighting):
        lookback = weighting.lookback
        if ref < lookback:
            return np.zeros_like(eligible)
        # A positive close on every row of the window: no gap after its first row.
        eligible &= inp.last_gap[ref] < ref - lookback
    universe = strategy.universe
    if isinstance(universe, LandedUniverse):
        if universe.min_listing_days is not None:
            eligible &= ref - inp.first_close + 1 >= universe.min_listing_days
        if universe.min_median_dollar_volume is not None:
            median = _median_dollar_volume(inp, ref, universe.liquidity_lookback)
            eligible &= median >= universe.min_median_dollar_volume  # NaN: False
    return eligible


def select_members(
    strategy: Strategy, caps: np.ndarray, eligible: np.ndarray, current: np.ndarray
) -> np.ndarray:
    """Column positions of the selected members, sorted (see ``TopNSelection`` for the buffer).

    ``caps`` are reference-date market caps, ``current`` flags the names held before the
    rebalance (all False at the base date).
    """
    members = np.flatnonzero(eligible)
    selection = strategy.selection
    if not isinstance(selection, TopNSelection):
        return members
    # Largest cap first, ties by column position (= symbol order).
    ranked = members[np.lexsort((members, -caps[members]))]
    n, buffer = selection.n, selection.buffer
    if buffer == 0 or not current[ranked].any():
        return np.sort(ranked[:n])
    rank = np.arange(1, ranked.size + 1)
    is_current = current[ranked]
    keep = np.where(is_current, rank <= n + buffer, rank <= n - buffer)
    chosen = ranked[keep]  # in rank order
    if chosen.size > n:
        chosen = chosen[:n]  # drop the lowest ranked
    elif chosen.size < n:
        chosen = np.concatenate([chosen, ranked[~keep][: n - chosen.size]])
    return np.sort(chosen)


def _target_weights(
    strategy: Strategy, caps: np.ndarray, members: np.ndarray, prices: np.ndarray, ref: int
) -> np.ndarray:
    """Target weights over all columns (0 for non-members) from reference-date data.

    ``prices`` (all rows, for the lookback window ending at row ``ref``) is used only by
    lookback weightings.
    """
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
        w = inverse_volatility_array(_window_returns(prices, ref, weighting.lookback, members))
    elif isinstance(weighting, MinimumVarianceWeighting):
        returns = _window_returns(prices, ref, weighting.lookback, members)
        cov = shrunk_covariance(returns, weighting.shrinkage)
        w = minimum_variance_array(cov, weighting.max_weight)
    else:  # pragma: no cover - the Strategy model admits no other weighting
        raise TypeError(f"unsupported weighting {weighting!r}")
    out = np.zeros(caps.size)
    out[members] = w
    return out


def _rebalance(
    strategy: Strategy, inp: _Inputs, row: int, eligible: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Target weights and index shares of the rebalance on ``row``."""
    ref = row - strategy.reference_lag_days
    caps = inp.caps[ref]
    try:
        members = select_members(strategy, caps, eligible, current)
        w = _target_weights(strategy, caps, members, inp.prices, ref)
    except ValueError as exc:
        raise ValueError(f"rebalance {inp.days[row].date()}: {exc}") from exc
    basket_value = caps[w > 0].sum()
    shares = np.divide(w * basket_value, inp.prices[row], out=np.zeros_like(w), where=w > 0)
    return w, shares


def _last_gap(prices: np.ndarray) -> np.ndarray:
    """Per row and symbol: the last row (≤ that row) without a usable close, -1 if none."""
    rows = np.arange(prices.shape[0], dtype=np.int32)
    gaps = np.where(prices > 0, np.int32(-1), rows[:, None])
    return np.maximum.accumulate(gaps, axis=0, out=gaps)


def _schedule(strategy: Strategy, days: pd.DatetimeIndex) -> np.ndarray:
    """Rows of the candidate rebalances (base date first); checks ``base_date``."""
    lag = strategy.reference_lag_days
    base = strategy.base_date
    if base is not None:
        where = strategy.where("base_date")
        stamp = pd.Timestamp(base)
        span = f"{days[0].date()}..{days[-1].date()}"
        if stamp > days[-1]:
            raise InsufficientHistoryError(f"{where}: {base} is after the last panel day ({span})")
        row = days.get_indexer([stamp])[0]
        if row < 0:
            raise ValueError(
                f"{where}: {base} has no data: not a trading day of the panel ({span})"
            )
        if row < lag:
            raise ValueError(
                f"{where}: {base} has no reference date {lag} trading day(s) earlier in the "
                f"panel ({span})"
            )
    reb_days = rebalance_dates(
        days, strategy.rebalance, strategy.rebalance_day, lag=lag, base_date=base
    )
    return days.get_indexer(reb_days)


def _current_members(
    selected: np.ndarray, last_gap: np.ndarray, selected_row: int, ref: int
) -> np.ndarray:
    """Names selected on ``selected_row`` still held at the reference close ``ref``.

    Held: a usable close on every row after the selection up to the reference date (a member
    without one was removed), i.e. no gap (``_last_gap``) after the selection row. A
    selection after the reference date counts as it stands.
    """
    if selected_row >= ref:
        return selected
    return selected & (last_gap[ref] <= selected_row)


def _rebalance_shares(
    strategy: Strategy, inp: _Inputs, rebalance_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the rebalances held, with target weights and index shares (rebalances × symbols).

    Rebalances before the first one with an eligible symbol are dropped (see the module notes).
    """
    days = inp.days
    if rebalance_rows.size == 0:
        raise InsufficientHistoryError(
            f"{strategy.where('reference_lag_days')}: the panel ({len(days)} days) has no day "
            f"with a reference date {strategy.reference_lag_days} trading day(s) earlier"
        )
    n_symbols = inp.prices.shape[1]
    lag = strategy.reference_lag_days
    weights = np.zeros((rebalance_rows.size, n_symbols))
    shares = np.zeros_like(weights)
    held = np.zeros(rebalance_rows.size, dtype=bool)
    prev = -1
    for k, row in enumerate(rebalance_rows):
        eligible = _eligible(strategy, inp, row)
        if not eligible.any():
            if held.any():
                raise ValueError(f"no eligible symbols at rebalance {days[row].date()}")
            if strategy.base_date is not None:
                window = isinstance(strategy.weighting, LookbackWeighting)
                needs = "closes and market caps at the reference date" + (
                    ", a full return window" if window else ""
                )
                raise ValueError(
                    f"{strategy.where('base_date')}: {strategy.base_date} has no data: no "
                    f"symbol is eligible there ({needs})"
                )
            continue  # the index has not started yet
        if prev >= 0:
            current = _current_members(
                shares[prev] > 0, inp.last_gap, int(rebalance_rows[prev]), row - lag
            )
        else:
            current = np.zeros(n_symbols, dtype=bool)
        weights[k], shares[k] = _rebalance(strategy, inp, row, eligible, current)
        held[k] = True
        prev = k
    if not held.any():
        weighting = strategy.weighting
        lookback = weighting.lookback if isinstance(weighting, LookbackWeighting) else 0
        need = f" with a full {lookback}-day return window" if lookback else ""
        span = f"{days[rebalance_rows[0]].date()}..{days[rebalance_rows[-1]].date()}"
        # A distinct type so that a caller can skip a strategy that cannot start yet.
        raise InsufficientHistoryError(f"no eligible symbols{need} at any rebalance ({span})")
    return rebalance_rows[held], weights[held], shares[held]


def _rebalance_blas(strategy: Strategy) -> AbstractContextManager[object]:
    """One BLAS thread while minimum-variance targets are solved (see ``single_threaded_blas``)."""
    if isinstance(strategy.weighting, MinimumVarianceWeighting):
        return single_threaded_blas()
    return nullcontext()


def compute_index(
    strategy: Strategy,
    closes: pd.DataFrame,
    market_caps: pd.DataFrame,
    dividends: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> IndexResult:
    """Daily levels, drifted allocations and rebalance orders of a strategy over a price panel.

    ``dividends`` (dates × symbols, cash per share on the ex-date, NaN/0 = none) is required
    for ``return_type = "total"`` and ignored otherwise; ``volumes`` (dates × symbols, shares)
    only for a liquidity filter in the universe.
    """
    inp = _aligned_panels(strategy, closes, market_caps, volumes, dividends)
    days, symbols, prices = inp.days, inp.symbols, inp.prices
    n_days = len(days)
    last_gap = inp.last_gap
    with _rebalance_blas(strategy):
        reb_rows, target_w, reb_shares = _rebalance_shares(strategy, inp, _schedule(strategy, days))
    px = np.where(prices > 0, prices, 0.0)

    base = int(reb_rows[0])
    n_out = n_days - base
    local_reb = reb_rows - base
    # Shares held after each close (post-event: on a rebalance day, the new basket). A member
    # bought at rebalance row r is still held at t while its last gap is ≤ r.
    period = np.searchsorted(reb_rows, np.arange(base, n_days), side="right") - 1
    alive = last_gap[base:] <= reb_rows[period][:, None]
    q_post = reb_shares[period]  # a new array (fancy indexing): zeroed in place
    q_post[~alive] = 0.0
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
    if inp.dividends is not None:
        # Cash paid on day t's ex-dates by the basket carried through day t.
        cash = np.einsum("ij,ij->i", q_post, inp.dividends[base:])
        cash[local_reb] = np.einsum("ij,ij->i", q_old, inp.dividends[reb_rows])
        mv_now = mv_now + cash

    growth = np.ones(n_out)
    growth[1:] = mv_now[1:] / mv_prev[1:]
    level = strategy.base_value * np.cumprod(growth)
    is_rebalance = np.zeros(n_out, dtype=bool)
    is_rebalance[local_reb] = True
    levels, allocations = _frames(days[base:], symbols, q_post, px_now, mv_post, level, growth)
    levels["is_rebalance"] = is_rebalance
    levels.loc[0, "daily_return"] = np.nan
    orders = _orders(strategy, days, symbols, px, reb_rows, target_w, q_old, level[local_reb])
    return IndexResult(levels=levels, allocations=allocations, orders=orders)


def _frames(
    out_days: pd.DatetimeIndex,
    symbols: pd.Index,
    q_post: np.ndarray,
    px_now: np.ndarray,
    mv_post: np.ndarray,
    level: np.ndarray,
    growth: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Levels (``is_rebalance`` all False) and allocations of consecutive output days."""
    held_mask = q_post > 0
    members_per_day = held_mask.sum(axis=1)
    levels = pd.DataFrame(
        {
            "date": out_days,
            "level": level,
            "daily_return": growth - 1.0,
            "divisor": mv_post / level,
            "constituents": members_per_day.astype(np.int32),
            "is_rebalance": np.zeros(len(out_days), dtype=bool),
        },
        columns=INDEX_LEVELS.columns,
    )
    # Boolean-mask selection is row-major, so rows come out by date, then symbol.
    symbol_pos = np.broadcast_to(np.arange(len(symbols), dtype=np.int32), held_mask.shape)
    q_held = q_post[held_mask]
    close_held = px_now[held_mask]
    weight = q_held * close_held
    weight /= np.repeat(mv_post, members_per_day)
    allocations = pd.DataFrame(
        {
            "date": np.repeat(out_days.to_numpy(), members_per_day),
            "symbol": _string_column(symbols, symbol_pos[held_mask]),
            "weight": weight,
            "index_shares": q_held,
            "close": close_held,
        },
        columns=ALLOCATIONS.columns,
        copy=False,
    )
    return levels, allocations


def _string_column(values: pd.Index, positions: np.ndarray) -> pd.Series:
    """``values`` at ``positions`` as a string column (Arrow ``take``: no per-row objects)."""
    names = pa.array(np.asarray(values, dtype=object), type=pa.large_string())
    taken = pc.take(names, pa.array(positions))
    return pd.Series(pd.array(taken, dtype="str"), copy=False)


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
            "symbol": _string_column(symbols, s_idx),
            "side": _string_column(pd.Index([SELL, BUY]), (signed_value > 0).astype(np.int8)),
            "quantity": np.abs(signed_value) / trade_price,
            "price": trade_price,
            "notional": np.abs(signed_value),
            "weight_before": w_before[k_idx, s_idx],
            "weight_after": target_w[k_idx, s_idx],
        },
        columns=REBALANCE_ORDERS.columns,
    )
