"""The engine with the new weightings: lookback windows, late starts, no look-ahead, sandbox."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indexlake.methodology.engine import IndexResult, InsufficientHistoryError, compute_index
from indexlake.methodology.risk_weights import inverse_volatility_weights
from indexlake.methodology.schedule import rebalance_dates
from indexlake.methodology.strategy import load_strategies
from indexlake.methodology.two_level_cap import two_level_capped_weights
from indexlake.methodology.weights import capped_weights, top_n
from indexlake.sources.sandbox.market import SandboxMarket

from .panels import make_panel, make_strategy

TIGHT = 1e-12
SHIPPED = Path(__file__).resolve().parents[2] / "strategies"
NEW_STRATEGIES = ("inverse_vol", "min_variance", "ucits_capped")
SANDBOX_START, SANDBOX_END = date(2016, 1, 1), date(2020, 12, 31)

INVERSE_VOL = {"weighting": {"type": "inverse_volatility", "lookback": 63}}
MIN_VARIANCE = {
    "selection": {"type": "top_n", "n": 8},
    "weighting": {
        "type": "minimum_variance",
        "lookback": 60,
        "shrinkage": 0.1,
        "max_weight": 0.2,
    },
}
TWO_LEVEL = {
    "selection": {"type": "all"},
    "weighting": {
        "type": "two_level_capped_market_cap",
        "max_weight": 0.2,
        "group_threshold": 0.1,
        "group_max": 0.45,
    },
}
VARIANTS = {"inverse_vol": INVERSE_VOL, "min_variance": MIN_VARIANCE, "two_level": TWO_LEVEL}


@pytest.fixture(scope="module")
def sandbox100() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide sandbox closes and market caps (seed 42, 100 symbols, 2016-2020)."""
    market = SandboxMarket(seed=42, n_symbols=100)
    closes = market.prices(None, SANDBOX_START, SANDBOX_END).pivot(
        index="date", columns="symbol", values="close"
    )
    caps = market.market_caps(None, SANDBOX_START, SANDBOX_END).pivot(
        index="date", columns="symbol", values="market_cap"
    )
    return closes, caps.reindex(index=closes.index, columns=closes.columns)


def targets_on(result: IndexResult, day: pd.Timestamp) -> pd.Series:
    """Target weights of the rebalance on `day` (the allocations of that close)."""
    alloc = result.allocations
    return alloc.loc[alloc["date"] == day].set_index("symbol")["weight"]


def check_invariants(result: IndexResult, closes: pd.DataFrame, base_value: float) -> None:
    """Weights sum to 1, level = basket / divisor, and the level is continuous day to day."""
    levels, alloc = result.levels, result.allocations
    assert levels["level"].iloc[0] == base_value
    assert np.isfinite(levels["level"]).all() and (levels["level"] > 0).all()
    sums = alloc.groupby("date")["weight"].sum()
    assert np.abs(sums - 1).max() < TIGHT
    assert (alloc["weight"] > 0).all()
    by_date = levels.set_index("date")
    basket = (alloc["close"] * alloc["index_shares"]).groupby(alloc["date"]).sum()
    np.testing.assert_allclose(basket / by_date["divisor"], by_date["level"], rtol=TIGHT)
    # Continuity: each level is yesterday's shares at today's closes over yesterday's divisor.
    # Days on which a member stops trading are left out (its value goes to the others pro rata,
    # with a divisor change; test_engine checks those against a day-by-day reference).
    next_day = dict(itertools.pairwise(levels["date"]))
    carried = alloc[alloc["date"].isin(next_day)].assign(day=lambda f: f["date"].map(next_day))
    carried = carried.join(closes.stack().rename("today"), on=["day", "symbol"])
    complete = carried["today"].notna().groupby(carried["day"]).all()
    kept = complete.index[complete]
    assert len(kept) >= 0.9 * (len(levels) - 1)
    old_basket = (carried["today"] * carried["index_shares"]).groupby(carried["day"]).sum()
    old_divisor = by_date["divisor"].shift(1)
    np.testing.assert_allclose(
        (old_basket / old_divisor).loc[kept], by_date.loc[kept, "level"], rtol=1e-11
    )


def test_inverse_volatility_starts_when_a_full_window_exists():
    closes, caps = make_panel(n_days=300)
    result = compute_index(make_strategy(**INVERSE_VOL), closes, caps)
    days = closes.index
    # 63 returns need 64 closes: the reference row must be ≥ 63.
    first = next(d for d in rebalance_dates(days, "monthly") if days.get_loc(d) - 1 >= 63)
    assert result.levels["date"].iloc[0] == first
    assert result.orders["rebalance_date"].min() == first
    check_invariants(result, closes, 1000.0)


def test_inverse_volatility_targets_use_the_window_ending_at_the_reference_date():
    closes, caps = make_panel(n_days=300)
    result = compute_index(make_strategy(**INVERSE_VOL), closes, caps)
    days = closes.index
    for day in result.levels.loc[result.levels["is_rebalance"], "date"]:
        ref = days.get_loc(day) - 1
        chosen = top_n(caps.iloc[ref], 5)
        window = closes.iloc[ref - 63 : ref + 1][chosen].pct_change().iloc[1:]
        expected = inverse_volatility_weights(window).sort_index()
        np.testing.assert_allclose(targets_on(result, day), expected, rtol=1e-12)


def test_names_without_a_full_window_are_skipped():
    closes, caps = make_panel(n_days=300, seed=5)
    closes.loc[: closes.index[99], "S00"] = np.nan  # lists on day 100
    caps = caps.where(closes.notna()) * 1.0
    caps["S00"] *= 100  # the largest name once listed
    strategy = make_strategy(**INVERSE_VOL)
    result = compute_index(strategy, closes, caps)
    days = closes.index
    for day in result.levels.loc[result.levels["is_rebalance"], "date"]:
        held = "S00" in targets_on(result, day).index
        # First close on row 100: a full window needs a reference row ≥ 163.
        assert held == (days.get_loc(day) - 1 >= 163), day
        assert len(targets_on(result, day)) == 5


def test_a_lookback_longer_than_the_history_is_an_error():
    closes, caps = make_panel(n_days=120)
    strategy = make_strategy(weighting={"type": "inverse_volatility", "lookback": 200})
    message = "no eligible symbols with a full 200-day return window"
    with pytest.raises(InsufficientHistoryError, match=message):
        compute_index(strategy, closes, caps)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_look_ahead(variant):
    closes, caps = make_panel(n_days=300, seed=9)
    strategy = make_strategy(**VARIANTS[variant])
    base = compute_index(strategy, closes, caps)
    reb = base.levels.loc[base.levels["is_rebalance"], "date"]
    day = reb.iloc[len(reb) // 2]
    rng = np.random.default_rng(1)
    # Returns on and after the rebalance day (closes from it on), and caps from it on.
    shocked_closes, shocked_caps = closes.copy(), caps.copy()
    shocked_closes.loc[day:] *= rng.uniform(0.5, 2.0, shocked_closes.loc[day:].shape)
    shocked_caps.loc[day:] *= rng.uniform(0.01, 100, shocked_caps.loc[day:].shape)
    shocked = compute_index(strategy, shocked_closes, shocked_caps)
    before = base.levels["date"] < day
    pd.testing.assert_frame_equal(base.levels[before], shocked.levels[before])
    np.testing.assert_allclose(targets_on(shocked, day), targets_on(base, day), rtol=1e-12)
    orders = base.orders.loc[base.orders["rebalance_date"] == day, "weight_after"]
    again = shocked.orders.loc[shocked.orders["rebalance_date"] == day, "weight_after"]
    np.testing.assert_array_equal(orders.to_numpy(), again.to_numpy())
    # Control: a different return on the reference date does move the weights.
    ref = closes.index[closes.index.get_loc(day) - 1]
    moved = closes.copy()
    moved.loc[ref] *= rng.uniform(0.7, 1.3, closes.shape[1])
    moved_result = compute_index(strategy, moved, caps.where(moved.notna()) * moved / closes)
    assert not np.allclose(targets_on(moved_result, day), targets_on(base, day), rtol=1e-9)


def test_min_variance_weights_respect_the_cap_and_are_reproducible():
    closes, caps = make_panel(n_days=300, seed=9)
    strategy = make_strategy(**MIN_VARIANCE)
    first = compute_index(strategy, closes, caps)
    again = compute_index(strategy, closes.copy(), caps.copy())
    pd.testing.assert_frame_equal(first.allocations, again.allocations, rtol=0, atol=1e-9)
    targets = first.orders["weight_after"]
    assert targets.max() <= 0.2 + TIGHT
    check_invariants(first, closes, 1000.0)


@pytest.mark.parametrize("strategy_id", NEW_STRATEGIES)
def test_new_shipped_strategies_on_sandbox_data(strategy_id, sandbox100):
    closes, caps = sandbox100
    (strategy,) = load_strategies(SHIPPED, [strategy_id])
    result = compute_index(strategy, closes, caps)
    check_invariants(result, closes, strategy.base_value)
    levels = result.levels
    days = closes.index
    lookback = getattr(strategy.weighting, "lookback", 0)
    # The index starts at the first scheduled rebalance whose reference row has a full window.
    first = next(
        d for d in rebalance_dates(days, strategy.rebalance) if days.get_loc(d) - 1 >= lookback
    )
    assert levels["date"].iloc[0] == first
    targets = result.allocations[
        result.allocations["date"].isin(levels["date"][levels.is_rebalance])
    ]
    by_day = targets.groupby("date")["weight"]
    if strategy_id == "min_variance":
        assert by_day.max().max() <= 0.10 + TIGHT
        assert (by_day.size() <= 50).all()
    if strategy_id == "inverse_vol":
        assert (by_day.size() == 50).all()
    if strategy_id == "ucits_capped":
        assert by_day.max().max() <= 0.25 + TIGHT
        large = targets[targets["weight"] > 0.048 + TIGHT].groupby("date")["weight"].sum()
        assert large.max() <= 0.50 + TIGHT


def test_two_level_targets_are_the_capped_reference_caps():
    closes, caps = make_panel(n_days=300, seed=9)
    result = compute_index(make_strategy(**TWO_LEVEL), closes, caps)
    days, binding = closes.index, 0
    for day in result.levels.loc[result.levels["is_rebalance"], "date"]:
        ref_caps = caps.iloc[days.get_loc(day) - 1]
        expected = two_level_capped_weights(ref_caps / ref_caps.sum(), 0.2, 0.1, 0.45)
        got = targets_on(result, day)
        np.testing.assert_allclose(got, expected.sort_index(), rtol=1e-12)
        # The group rule binds when the result differs from the single 20% cap.
        single = capped_weights(ref_caps / ref_caps.sum(), 0.2).sort_index()
        binding += not np.allclose(got, single, rtol=1e-9)
        assert got[got > 0.1 + TIGHT].sum() <= 0.45 + TIGHT
    assert binding > 0  # the panel exercises the group rule
