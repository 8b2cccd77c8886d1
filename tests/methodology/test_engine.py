"""The index engine against its invariants and a day-by-day reference implementation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS, REBALANCE_ORDERS
from indexlake.methodology.engine import compute_index
from indexlake.methodology.schedule import rebalance_dates

from .panels import (
    STRATEGY_VARIANTS,
    make_panel,
    make_strategy,
    reference_index,
)

TIGHT = 1e-12


def with_gaps() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A panel with a late listing, two delistings (one on a rebalance day) and a data gap."""
    closes, caps = make_panel(n_days=260, n_symbols=12, seed=11)
    days = closes.index
    closes.loc[: days[70], "S03"] = np.nan  # lists late
    closes.loc[days[90] :, "S05"] = np.nan  # delists mid-period
    first_of_june = rebalance_dates(days, "monthly")[5]
    closes.loc[first_of_june:, "S07"] = np.nan  # delists on a rebalance day
    closes.loc[days[150] : days[152], "S09"] = np.nan  # three days without data
    return closes, caps.where(closes.notna())


def _by_date(frame: pd.DataFrame) -> dict[pd.Timestamp, pd.DataFrame]:
    return {d: g.set_index("symbol") for d, g in frame.groupby("date")}


def test_output_columns_match_the_schemas(panel):
    result = compute_index(make_strategy(), *panel)
    assert list(result.levels.columns) == INDEX_LEVELS.columns
    assert list(result.allocations.columns) == ALLOCATIONS.columns
    assert list(result.orders.columns) == REBALANCE_ORDERS.columns
    levels = result.levels
    assert levels["date"].iloc[0] == panel[0].index[1]  # base date: the second panel day
    assert levels["level"].iloc[0] == 1000.0
    assert np.isnan(levels["daily_return"].iloc[0])
    assert levels["is_rebalance"].sum() == len(rebalance_dates(panel[0].index, "monthly"))
    assert (levels["constituents"] == 5).all()


@pytest.mark.parametrize("variant", sorted(STRATEGY_VARIANTS))
@pytest.mark.parametrize("gaps", [False, True], ids=["clean", "gaps"])
def test_matches_day_by_day_reference(variant, gaps):
    strategy = make_strategy(**STRATEGY_VARIANTS[variant])
    closes, caps = with_gaps() if gaps else make_panel()
    result = compute_index(strategy, closes, caps)
    expected, holdings = reference_index(strategy, closes, caps)
    np.testing.assert_allclose(result.levels["level"], expected["level"], rtol=1e-12)
    np.testing.assert_allclose(result.levels["divisor"], expected["divisor"], rtol=1e-12)
    for day, alloc in _by_date(result.allocations).items():
        shares = pd.Series(holdings[day]).sort_index()
        assert list(alloc.index) == list(shares.index), day
        np.testing.assert_allclose(alloc["index_shares"], shares, rtol=1e-12)


@pytest.mark.parametrize("variant", sorted(STRATEGY_VARIANTS))
def test_matches_reference_on_sandbox_data_with_listings_and_delistings(variant, sandbox_panel):
    closes, caps = sandbox_panel
    assert closes.isna().any().sum() >= 1  # the window has a late listing or a delisting
    strategy = make_strategy(**STRATEGY_VARIANTS[variant])
    result = compute_index(strategy, closes, caps)
    expected, _ = reference_index(strategy, closes, caps)
    np.testing.assert_allclose(result.levels["level"], expected["level"], rtol=1e-11)
    sums = result.allocations.groupby("date")["weight"].sum()
    assert np.abs(sums - 1).max() < TIGHT


@pytest.mark.parametrize("variant", sorted(STRATEGY_VARIANTS))
def test_weights_sum_to_one_and_level_is_basket_over_divisor(variant):
    closes, caps = with_gaps()
    result = compute_index(make_strategy(**STRATEGY_VARIANTS[variant]), closes, caps)
    alloc = result.allocations
    sums = alloc.groupby("date")["weight"].sum()
    assert np.abs(sums - 1).max() < TIGHT
    basket = (alloc["close"] * alloc["index_shares"]).groupby(alloc["date"]).sum()
    levels = result.levels.set_index("date")
    np.testing.assert_allclose(basket / levels["divisor"], levels["level"], rtol=1e-12)
    assert (alloc.groupby("date").size() == levels["constituents"]).all()
    assert np.isfinite(levels["level"]).all()


def test_level_is_continuous_across_rebalances(panel):
    closes, caps = panel
    result = compute_index(make_strategy(), closes, caps)
    levels = result.levels
    alloc = result.allocations
    # Yesterday's basket (shares, weights, closes) carried to today's closes, row by row.
    dates = levels["date"].to_numpy()
    next_day = dict(itertools.pairwise(dates))
    carried = alloc[alloc["date"] != dates[-1]].assign(day=lambda f: f["date"].map(next_day))
    today = closes.stack().rename("today")
    carried = carried.join(today, on=["day", "symbol"])
    by_day = carried.groupby("day")
    old_basket = (carried["today"] * carried["index_shares"]).groupby(carried["day"]).sum()
    old_divisor = levels.set_index("date")["divisor"].shift(1)
    published = levels.set_index("date").iloc[1:]
    assert set(published.loc[published["is_rebalance"]].index) <= set(by_day.groups)
    # The published level on any day (rebalance or not) is the old basket over the old divisor.
    np.testing.assert_allclose(
        (old_basket / old_divisor).loc[published.index], published["level"], rtol=TIGHT
    )
    # Its return is the return of the drifted portfolio held since the previous close.
    drifted = (
        (carried["weight"] * (carried["today"] / carried["close"] - 1))
        .groupby(carried["day"])
        .sum()
    )
    np.testing.assert_allclose(
        drifted.loc[published.index], published["daily_return"], rtol=1e-10, atol=TIGHT
    )


def test_rebalance_day_weights_are_the_targets(panel):
    closes, caps = panel
    result = compute_index(make_strategy(), closes, caps)
    for day in rebalance_dates(closes.index, "monthly"):
        ref_caps = caps.shift(1).loc[day]
        chosen = ref_caps.sort_values(ascending=False).index[:5]
        target = (ref_caps[chosen] / ref_caps[chosen].sum()).sort_index()
        got = result.allocations.loc[result.allocations["date"] == day].set_index("symbol")
        np.testing.assert_allclose(got["weight"], target, rtol=1e-12)


def test_no_look_ahead(panel):
    closes, caps = panel
    strategy = make_strategy()
    base = compute_index(strategy, closes, caps)
    day = rebalance_dates(closes.index, "monthly")[3]
    rng = np.random.default_rng(0)
    shocked_caps = caps.copy()
    # Scramble market caps from the rebalance day on (and closes after it): no effect on that day.
    shocked_caps.loc[day:] *= rng.uniform(0.01, 100, shocked_caps.loc[day:].shape)
    shocked_closes = closes.copy()
    after = closes.index[closes.index > day]
    shocked_closes.loc[after] *= rng.uniform(0.5, 2, shocked_closes.loc[after].shape)
    shocked = compute_index(strategy, shocked_closes, shocked_caps)
    upto = base.levels["date"] <= day
    pd.testing.assert_frame_equal(base.levels[upto], shocked.levels[upto])
    keep = base.allocations["date"] <= day
    pd.testing.assert_frame_equal(
        base.allocations[keep], shocked.allocations[shocked.allocations["date"] <= day]
    )


def test_delisting_removes_the_member_without_a_level_jump():
    closes, caps = make_panel(n_days=120, n_symbols=8, seed=3)
    strategy = make_strategy(selection={"type": "all"}, weighting={"type": "equal"})
    days = closes.index
    gone_from = days[50]  # not a rebalance day
    assert gone_from not in rebalance_dates(days, "monthly")
    closes.loc[gone_from:, "S02"] = np.nan
    result = compute_index(strategy, closes, caps.where(closes.notna()))
    levels = result.levels.set_index("date")
    last = _by_date(result.allocations)[days[49]]
    assert "S02" in last.index  # held through its last close
    survivors = last.drop(index="S02")
    # The day after, the level moves with the survivors only (its value went to them pro rata).
    w = survivors["weight"] / survivors["weight"].sum()
    expected = (w * (closes.loc[gone_from, w.index] / survivors["close"] - 1)).sum()
    assert levels.loc[gone_from, "daily_return"] == pytest.approx(expected, rel=1e-12)
    assert levels.loc[gone_from, "constituents"] == 7
    assert levels.loc[days[49], "divisor"] != levels.loc[gone_from, "divisor"]
    assert np.isfinite(levels["level"]).all()


def test_orders_move_the_model_portfolio_to_the_targets(panel):
    closes, caps = panel
    strategy = make_strategy(notional=250_000.0)
    result = compute_index(strategy, closes, caps)
    orders, levels = result.orders, result.levels.set_index("date")
    assert set(orders["side"]) <= {"buy", "sell"}
    assert (orders["quantity"] > 0).all() and (orders["notional"] > 0).all()
    np.testing.assert_allclose(orders["quantity"] * orders["price"], orders["notional"])
    first = orders[orders["rebalance_date"] == levels.index[0]]
    assert (first["side"] == "buy").all() and (first["weight_before"] == 0).all()
    assert first["notional"].sum() == pytest.approx(250_000.0, rel=TIGHT)
    allocs = _by_date(result.allocations)
    for day, trades in orders.groupby("rebalance_date"):
        signed = np.where(trades["side"] == "buy", 1, -1) * trades["notional"]
        value = strategy.notional * levels.loc[day, "level"] / strategy.base_value
        if day != levels.index[0]:
            assert abs(signed.sum()) < 1e-9 * value  # self-financing
        after = allocs[day]["weight"]
        np.testing.assert_allclose(
            trades.set_index("symbol")["weight_after"], after.reindex(trades["symbol"]).fillna(0)
        )
        np.testing.assert_allclose(
            trades["weight_after"] - trades["weight_before"], signed / value, atol=1e-12
        )


def test_rejects_panels_it_cannot_index(panel):
    closes, caps = panel
    with pytest.raises(ValueError, match="two trading days"):
        compute_index(make_strategy(), closes.iloc[:1], caps.iloc[:1])
    with pytest.raises(ValueError, match="no eligible symbols"):
        compute_index(make_strategy(), closes, caps * np.nan)
    capped_all = make_strategy(
        selection={"type": "all"}, weighting={"type": "capped_market_cap", "cap": 0.05}
    )
    with pytest.raises(ValueError, match="infeasible"):
        compute_index(capped_all, closes, caps)
