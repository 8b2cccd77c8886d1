"""Index levels from two independent backtest engines, `bt` and `vectorbt`.

Both hold a portfolio with fractional shares, no costs, trading at the close, and are given:

- the closes from the published base date on. A symbol's missing closes are filled (forward,
  then backward) only so that the engines can value a frame without NaN: the portfolio never
  holds a symbol on a day without its own close (below);
- at each rebalance, the weights published for that close (the targets). Rebalance days are
  found by each engine's own calendar: bt's ``RunMonthly``/``RunQuarterly`` period test, pandas
  periods for vectorbt ("close of the first trading day of each new period"; the base date
  always rebalances). Neither has a third-Friday rule: for those strategies both get the days
  of the reference calendar (reference.py), which the schedule check compares with the lake;
- the methodology's removal rule: a held symbol whose next close is missing is sold at its last
  close and the proceeds go to the other holdings in proportion to their value at that close.
  The engine's own holdings decide who is held, so no published drifted weight is used;
- for total return, the cash dividends per share by ex-date. The dividend on the engine's own
  position carried into the ex-date is cash at that close, reinvested in the whole index pro
  rata to the holdings' values (methodology.md: TR_t = TR_{t-1}·(PR_t + IndexDividend_t) /
  PR_{t-1}, dividends reinvested in the whole index on the ex-date). Feeding the engines a
  per-stock total-return price (close plus dividend reinvested in the same stock) would be a
  different index: it shifts the weights towards the payers.

Everything else — shares bought, value between rebalances, drifted weights — is the engine's.
Levels are returned rebased to the strategy's base value on the base date. The engines are
imported only when used: vectorbt (numba) takes seconds to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from indexlake.verify.reference import PERIOD_ALIASES


@dataclass
class PeerRun:
    """A peer engine's daily levels and post-close weights, and the days it removed a member."""

    levels: pd.Series
    weights: pd.DataFrame
    removal_days: list[pd.Timestamp] = field(default_factory=list)


def valuation_closes(closes: pd.DataFrame) -> pd.DataFrame:
    """Closes without gaps for valuation only (non-positive closes count as missing)."""
    return closes.where(closes > 0).ffill().bfill()


def gone_next_day(closes: pd.DataFrame) -> pd.DataFrame:
    """True where a symbol has a usable close today and none on the next trading day."""
    usable = closes > 0
    return usable & ~usable.shift(-1, fill_value=True)


def _without_removed(weights: pd.Series, gone: pd.Series) -> tuple[pd.Series, list[str]]:
    """Weights of the held names minus those leaving at this close, renormalised."""
    held = weights[weights > 0]
    removed = [s for s in held.index if gone.get(s, False)]
    kept = held.drop(removed)
    return kept / kept.sum(), removed


def bt_run(
    closes: pd.DataFrame,
    targets: pd.DataFrame,
    frequency: str,
    base_value: float,
    *,
    rebalance_days: pd.DatetimeIndex | None = None,
    dividends: pd.DataFrame | None = None,
) -> PeerRun:
    """bt's portfolio: published targets on bt's rebalance days, the removal rule in between.

    ``closes`` and ``targets`` (dates × symbols, 0 for non-members) start at the base date.
    Rebalance days are bt's period test (``RunMonthly``/``RunQuarterly``/``RunYearly``) unless
    ``rebalance_days`` are given (third-Friday calendars, which bt has no algo for).

    ``dividends`` (cash per share by ex-date, same frame as ``closes``) make it total return.
    At an ex-date close the dividend per share times bt's own position carried into the day is
    credited with ``StrategyBase.adjust(amount, flow=False)`` (bt's documented way to book a
    dividend: not a flow, so it counts in performance), then reinvested pro rata to the
    holdings' values, i.e. in the whole index (methodology.md), by rebalancing to bt's own
    current weights. (bt's ``CouponPayingSecurity`` would pay the coupon into the strategy at
    the next date's update, one close after the ex-date, so it is not used.)
    """
    import bt

    period = {
        "monthly": bt.algos.RunMonthly,
        "quarterly": bt.algos.RunQuarterly,
        "annual": bt.algos.RunYearly,
    }[frequency]()
    given = None if rebalance_days is None else set(rebalance_days)
    gone = gone_next_day(closes)
    any_gone = set(closes.index[gone.any(axis=1).to_numpy()])
    ex_dates: set[pd.Timestamp] = set()
    if dividends is not None:
        dividends = dividends.reindex_like(closes).fillna(0.0)
        ex_dates = set(closes.index[(dividends > 0).any(axis=1).to_numpy()])
    removal_days: list[pd.Timestamp] = []

    class HoldIndex(bt.Algo):
        """Sets temp['weights'] on rebalance, removal and ex-dates; stops the chain otherwise."""

        def __call__(self, target: bt.core.StrategyBase) -> bool:
            index = target.data.index
            i = index.get_loc(target.now)
            if i == 0:  # the synthetic start row bt adds before the data
                return False
            now = pd.Timestamp(target.now)
            if given is not None:
                rebalance = i == 1 or now in given
            else:
                rebalance = i == 1 or period.compare_dates(now, pd.Timestamp(index[i - 1]))
            if not (rebalance or now in any_gone or now in ex_dates):
                return False
            cash = 0.0
            if now in ex_dates:
                paid = dividends.loc[now]
                cash = sum(
                    child.position * paid[name]
                    for name, child in target.children.items()
                    if child.position and paid[name] > 0
                )
                if cash > 0:
                    target.adjust(cash, flow=False)
                    target.update(target.now)
            if rebalance:
                weights = targets.loc[now]
            else:
                weights = pd.Series(
                    {name: child.value for name, child in target.children.items()}, dtype=float
                )
            kept, removed = _without_removed(weights, gone.loc[now])
            if removed:
                removal_days.append(now)
            elif not rebalance and not cash > 0:
                return False  # nothing to sell and no dividend cash to reinvest
            target.temp["weights"] = kept.to_dict()
            return True

    strategy = bt.Strategy("index", [HoldIndex(), bt.algos.Rebalance()])
    backtest = bt.Backtest(
        strategy, valuation_closes(closes), integer_positions=False, progress_bar=False
    )
    backtest.run()
    levels = backtest.strategy.prices.loc[closes.index[0] :]
    weights = backtest.security_weights.loc[closes.index[0] :]
    return PeerRun(
        levels=levels / levels.iloc[0] * base_value,
        weights=weights.reindex(columns=closes.columns, fill_value=0.0).fillna(0.0),
        removal_days=removal_days,
    )


def period_starts(days: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """Rows that start a new month/quarter; the first row (the base date) included."""
    periods = days.to_period(PERIOD_ALIASES[frequency])
    starts = np.ones(len(days), dtype=bool)
    starts[1:] = periods[1:] != periods[:-1]
    return starts


def _holdings(
    records: np.ndarray, init_cash: float, close: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shares held after each close and the portfolio value, from vectorbt's order fills.

    The bookkeeping of ``Portfolio.assets()`` and ``Portfolio.value()`` (no fees): shares are
    the running sum of signed fills, cash the initial cash minus what the fills cost. Computed
    here from ``order_records`` because those accessors cost most of a short run's time.
    """
    signed = np.where(records["side"] == 0, records["size"], -records["size"])  # 0: buy
    flow = np.zeros(close.shape)
    np.add.at(flow, (records["idx"], records["col"]), signed)
    assets = np.cumsum(flow, axis=0)
    spent = np.zeros(close.shape[0])
    np.add.at(spent, records["idx"], signed * records["price"])
    cash = init_cash - np.cumsum(spent)
    return assets, cash + (assets * close).sum(axis=1)


def vectorbt_run(
    closes: pd.DataFrame,
    targets: pd.DataFrame,
    frequency: str,
    base_value: float,
    *,
    rebalance_days: pd.DatetimeIndex | None = None,
    dividends: pd.DataFrame | None = None,
) -> PeerRun:
    """vectorbt's portfolio (``from_orders``, target percent, shared cash) on the same inputs.

    vectorbt has no hook between closes without a callback compiled by numba, so the run is
    split at the closes after which some symbol's next close is missing, and (total return) at
    ex-dates. Each piece starts with the value vectorbt reached and its weights at that close
    (after selling a leaving holding), bought back at target percent; where nothing held leaves
    and no dividend is paid, that trade is a no-op.

    vectorbt has no cash-dividend input either: at an ex-date close the dividend per share times
    vectorbt's own position carried into that day is added to the value it reached, and the
    next piece buys back the same weights with it, so the cash is reinvested in the whole index
    pro rata (methodology.md). Rebalance days: pandas periods, or ``rebalance_days``.
    """
    import vectorbt as vbt

    valued = valuation_closes(closes)
    gone = gone_next_day(closes).to_numpy()
    events = gone.any(axis=1)
    paid = np.zeros(closes.shape)
    if dividends is not None:
        paid = dividends.reindex_like(closes).fillna(0.0).to_numpy(dtype=float)
        events = events | (paid > 0).any(axis=1)
    candidates = np.flatnonzero(events)
    if rebalance_days is None:
        rebalance = period_starts(closes.index, frequency)
    else:
        rebalance = closes.index.isin(rebalance_days)
        rebalance[0] = True
    target_rows = targets.to_numpy(dtype=float)
    last_row = len(closes) - 1
    value, start, carry = base_value, 0, None
    level_parts, weight_parts, removal_days = [], [], []
    while True:
        # The first piece may end on its own first row; later ones start where one ended.
        later = candidates[candidates >= start] if carry is None else candidates[candidates > start]
        stop = int(later[0]) if later.size else last_row
        rows = slice(start, stop + 1)
        size = np.where(rebalance[rows, None], target_rows[rows], np.nan)
        if carry is not None:
            size[0] = carry
        portfolio = vbt.Portfolio.from_orders(
            valued.iloc[rows],
            size,
            size_type="targetpercent",
            group_by=True,
            cash_sharing=True,
            call_seq="auto",
            init_cash=value,
            fees=0.0,
            slippage=0.0,
        )
        assets, total = _holdings(portfolio.order_records, value, valued.to_numpy()[rows])
        weights = assets * valued.to_numpy()[rows] / total[:, None]
        if stop == last_row:
            level_parts.append(total)
            weight_parts.append(weights)
            break
        # The next piece records this close again, after the event.
        level_parts.append(total[:-1])
        weight_parts.append(weights[:-1])
        cash = 0.0
        if stop > start:
            # The position carried into the ex-date: after the previous close's trades.
            carried = assets[-2]
            cash = float(carried @ paid[stop])
        leaving = (weights[-1] > 0) & gone[stop]
        if leaving.any():
            # Sell the leaving names at this close; the rest keep their shares of the value.
            removal_days.append(closes.index[stop])
        kept = np.where(leaving, 0.0, weights[-1])
        value, start, carry = total[-1] + cash, stop, kept / kept.sum()
    levels = pd.Series(np.concatenate(level_parts), index=closes.index)
    weights = pd.DataFrame(np.vstack(weight_parts), index=closes.index, columns=closes.columns)
    return PeerRun(
        levels=levels / levels.iloc[0] * base_value, weights=weights, removal_days=removal_days
    )
