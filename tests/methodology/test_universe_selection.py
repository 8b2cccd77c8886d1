"""Universe filters (explicit symbols, listing age, liquidity) and the top-N buffer rule."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexlake.methodology.engine import (
    _Inputs,
    _median_dollar_volume,
    compute_index,
    select_members,
)
from indexlake.methodology.schedule import rebalance_dates

from .panels import make_panel, make_strategy


def _members_on(result, day) -> list[str]:
    alloc = result.allocations
    return sorted(alloc.loc[alloc["date"] == day, "symbol"])


def test_explicit_universe_limits_the_members():
    closes, caps = make_panel(n_days=60, n_symbols=8)
    listed = ["S01", "S04", "S06", "NOT_LANDED"]
    strategy = make_strategy(
        universe={"type": "symbols", "symbols": listed},
        selection={"type": "all"},
        weighting={"type": "equal"},
    )
    result = compute_index(strategy, closes, caps)
    assert set(result.allocations["symbol"]) == {"S01", "S04", "S06"}
    # Equal weight over the three: the level is the mean of their returns since each rebalance.
    first = result.levels["date"].iloc[0]
    second = closes.index[closes.index.get_loc(first) + 1]
    expected = (
        closes.loc[second, ["S01", "S04", "S06"]] / closes.loc[first, ["S01", "S04", "S06"]]
    ).mean()
    assert result.levels["level"].iloc[1] == pytest.approx(1000.0 * expected, rel=1e-12)


def test_explicit_universe_with_nothing_landed_is_an_error():
    closes, caps = make_panel(n_days=30, n_symbols=4)
    strategy = make_strategy(universe={"type": "symbols", "symbols": ["X", "Y"]})
    with pytest.raises(ValueError, match=r"^strategy test: universe.symbols: none of the 2 listed"):
        compute_index(strategy, closes, caps)


def test_listing_age_filter():
    closes, caps = make_panel(n_days=120, n_symbols=5, seed=2)
    days = closes.index
    closes.loc[: days[39], "S02"] = np.nan  # first close on row 40
    caps = caps.where(closes.notna())
    strategy = make_strategy(
        universe={"type": "landed", "min_listing_days": 20},
        selection={"type": "all"},
        weighting={"type": "equal"},
    )
    result = compute_index(strategy, closes, caps)
    for day in rebalance_dates(days, "monthly"):
        ref = days.get_loc(day) - 1
        age = ref - 40 + 1  # trading days from the first close to the reference date, inclusive
        assert ("S02" in _members_on(result, day)) == (age >= 20), day
    assert "S02" in set(result.allocations["symbol"])  # it does join once old enough


def test_liquidity_filter_uses_the_median_dollar_volume_up_to_the_reference_date():
    closes, caps = make_panel(n_days=90, n_symbols=4, seed=5)
    days = closes.index
    closes.loc[:, :] = 10.0  # flat prices: dollar volume = 10 × volume
    volumes = pd.DataFrame(1000.0, index=days, columns=closes.columns)
    volumes["S01"] = 100.0  # 1,000 USD a day: illiquid
    volumes.loc[days[:45], "S03"] = 100.0  # illiquid at first, liquid from row 45
    strategy = make_strategy(
        universe={
            "type": "landed",
            "min_median_dollar_volume": 5_000.0,
            "liquidity_lookback": 5,
        },
        selection={"type": "all"},
        weighting={"type": "equal"},
    )
    result = compute_index(strategy, closes, caps, volumes=volumes)
    for day in rebalance_dates(days, "monthly"):
        ref = days.get_loc(day) - 1
        window = range(ref - 4, ref + 1)
        s03_liquid = sum(r >= 45 for r in window) >= 3  # median of 5 days
        expected = {"S00", "S02"} | ({"S03"} if s03_liquid else set())
        assert set(_members_on(result, day)) == expected, day
    with pytest.raises(
        ValueError, match=r"universe.min_median_dollar_volume: .*needs daily volumes"
    ):
        compute_index(strategy, closes, caps)


# Crafted ranks at one rebalance: 8 eligible names, caps descending A..H.
CAPS = np.array([80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0])
NAMES = np.array(list("ABCDEFGH"))


def _select(n: int, buffer: int, current: str) -> str:
    strategy = make_strategy(selection={"type": "top_n", "n": n, "buffer": buffer})
    held = np.isin(NAMES, list(current))
    chosen = select_members(strategy, CAPS, np.ones(8, dtype=bool), held)
    return "".join(NAMES[chosen])


@pytest.mark.parametrize(
    ("n", "buffer", "current", "expected"),
    [
        (4, 0, "ABEF", "ABCD"),  # no buffer: plain top 4
        (4, 1, "ABEF", "ABCE"),  # C (rank 3 ≤ 3) enters, E (rank 5 ≤ 5) stays, F (6) leaves
        (4, 1, "ABCE", "ABCE"),  # D (rank 4 > 3) cannot displace E (rank 5)
        (4, 1, "EFGH", "ABCE"),  # A, B, C enter; only E stays; 4 names
        (4, 2, "CDEF", "ABCD"),  # A, B enter (≤ 2); C..F stay (≤ 6): 6 names, drop E, F
        (4, 2, "ABCF", "ABCF"),  # F (rank 6 ≤ 6) stays; D (rank 4 > 2) cannot enter
        (4, 2, "DEFG", "ABDE"),  # A, B enter (≤ 2); D, E, F stay (≤ 6): 5 names, drop F
        (4, 1, "", "ABCD"),  # base date: no current members
        (3, 1, "H", "ABC"),  # H leaves; only A, B qualify as newcomers: C fills the gap
    ],
)
def test_buffer_rule_hand_checked(n, buffer, current, expected):
    assert _select(n, buffer, current) == expected


@settings(max_examples=200, deadline=None)
@given(
    caps=st.lists(st.floats(1.0, 1e6), min_size=1, max_size=30),
    data=st.data(),
)
def test_buffer_selects_exactly_n_eligible_names(caps, data):
    caps = np.array(caps)
    size = caps.size
    n = data.draw(st.integers(1, 12))
    buffer = data.draw(st.integers(0, n - 1))
    eligible = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    current = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    strategy = make_strategy(selection={"type": "top_n", "n": n, "buffer": buffer})
    chosen = select_members(strategy, caps, eligible, current)
    assert chosen.size == min(n, eligible.sum())
    assert eligible[chosen].all()
    ranked = sorted(np.flatnonzero(eligible), key=lambda i: (-caps[i], i))
    rank = {s: r + 1 for r, s in enumerate(ranked)}
    for s in ranked:
        if rank[s] <= n - buffer:
            assert s in chosen  # a name ranked ≤ n − buffer is always in
        if rank[s] > n + buffer:
            assert s not in chosen  # a name ranked > n + buffer is always out


def _turnover(result) -> float:
    orders = result.orders
    later = orders[orders["rebalance_date"] != orders["rebalance_date"].min()]
    return float((later["weight_after"] - later["weight_before"]).abs().sum() / 2)


def test_buffer_reduces_turnover_on_names_crossing_the_cut_off():
    # Six names; S02 and S03 swap ranks 3 and 4 every month, others stay far apart.
    days = pd.bdate_range("2021-01-04", periods=260, name="date")
    closes = pd.DataFrame(50.0, index=days, columns=[f"S{i:02d}" for i in range(6)])
    base = np.array([900.0, 800.0, 0.0, 0.0, 200.0, 100.0])
    caps = pd.DataFrame(np.tile(base, (len(days), 1)), index=days, columns=closes.columns)
    odd_month = (days.month % 2).to_numpy().astype(bool)
    caps["S02"] = np.where(odd_month, 510.0, 490.0)
    caps["S03"] = np.where(odd_month, 490.0, 510.0)
    plain = make_strategy(selection={"type": "top_n", "n": 3})
    buffered = make_strategy(selection={"type": "top_n", "n": 3, "buffer": 1})
    no_buffer, with_buffer = (compute_index(s, closes, caps) for s in (plain, buffered))
    assert _turnover(no_buffer) > 0.5  # a full swap of a ~20% name every month
    assert _turnover(with_buffer) < 0.25 * _turnover(no_buffer)
    # With the buffer the base-date members are never replaced.
    members = with_buffer.allocations.groupby("date")["symbol"].apply(frozenset)
    assert members.nunique() == 1


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 12), st.integers(1, 6)),
    lookback=st.integers(1, 15),
    seed=st.integers(0, 10_000),
)
def test_median_dollar_volume_matches_numpy_nanmedian(shape, lookback, seed):
    rng = np.random.default_rng(seed)
    prices = rng.uniform(1, 10, shape)
    volumes = rng.integers(0, 1000, shape).astype(float)
    prices[rng.random(shape) < 0.3] = np.nan
    volumes[rng.random(shape) < 0.2] = np.nan
    ref = int(rng.integers(0, shape[0]))
    inp = _Inputs(None, None, prices, None, volumes, None, None)  # type: ignore[arg-type]
    window = slice(max(0, ref - lookback + 1), ref + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        expected = np.nanmedian(prices[window] * volumes[window], axis=0)
    np.testing.assert_allclose(_median_dollar_volume(inp, ref, lookback), expected, equal_nan=True)


def test_buffer_members_are_those_held_at_the_reference_date():
    # Top 3 with buffer 1, reference date 3 trading days before the rebalance. C is bought at
    # the base date; from 2021-01-20 D's cap passes C's, so at the February rebalance C ranks 4
    # (kept by the buffer) and D ranks 3 (not high enough to enter).
    days = pd.bdate_range("2021-01-04", "2021-03-31", name="date")
    closes = pd.DataFrame(50.0, index=days, columns=list("ABCDE"))
    caps = pd.DataFrame({"A": 900.0, "B": 800.0, "C": 510.0, "D": 490.0, "E": 100.0}, days)
    caps.loc["2021-01-20":, ["C", "D"]] = [490.0, 510.0]
    strategy = make_strategy(selection={"type": "top_n", "n": 3, "buffer": 1}, reference_lag_days=3)
    feb = pd.Timestamp("2021-02-01")
    assert days[days.get_loc(feb) - 3] == pd.Timestamp("2021-01-27")
    held = compute_index(strategy, closes, caps)
    assert _members_on(held, feb) == ["A", "B", "C"]
    # C misses a close after the reference date: it leaves the index that day, but the
    # February selection, made from reference-date data, is the same.
    gap = closes.copy()
    gap.loc["2021-01-28", "C"] = np.nan
    with_gap = compute_index(strategy, gap, caps.where(gap.notna()))
    assert "C" not in _members_on(with_gap, pd.Timestamp("2021-01-28"))
    assert _members_on(with_gap, feb) == ["A", "B", "C"]
