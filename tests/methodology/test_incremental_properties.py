"""Property tests: daily append equals a full recompute; weights, caps, continuity, splits,
no look-ahead, over random panels (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexlake.methodology.append import append_day, state_from_result
from indexlake.methodology.engine import IndexResult, compute_index
from indexlake.methodology.schedule import rebalance_dates

from .panels import make_strategy

VARIANTS = [
    {"selection": {"type": "top_n", "n": 4}, "weighting": {"type": "market_cap"}},
    {
        "selection": {"type": "top_n", "n": 4, "buffer": 1},
        "weighting": {"type": "market_cap"},
        "reference_lag_days": 3,
    },
    {"selection": {"type": "all"}, "weighting": {"type": "equal"}},
    {
        "selection": {"type": "top_n", "n": 5, "buffer": 2},
        "weighting": {"type": "capped_market_cap", "cap": 0.25},
        "rebalance_day": "third_friday",
    },
    {
        "selection": {"type": "all"},
        "weighting": {"type": "inverse_volatility", "lookback": 5},
        "reference_lag_days": 2,
        "return_type": "total",
    },
    {
        "selection": {"type": "top_n", "n": 3, "buffer": 1},
        "weighting": {"type": "equal"},
        "rebalance_day": "third_friday",
        "return_type": "total",
        "universe": {"type": "landed", "min_listing_days": 10},
    },
]
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def panels(draw, min_days: int = 40, max_days: int = 90):
    """Random walks on business days with late listings, gaps, delistings and dividends."""
    n_days = draw(st.integers(min_days, max_days))
    n_symbols = draw(st.integers(6, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    start = draw(st.sampled_from(["2021-01-04", "2021-03-10", "2022-11-21"]))
    days = pd.bdate_range(start, periods=n_days, name="date")
    symbols = [f"S{i:02d}" for i in range(n_symbols)]
    returns = rng.normal(0.0, 0.03, (n_days, n_symbols))
    closes = rng.uniform(10, 100, n_symbols) * np.exp(np.cumsum(returns, axis=0))
    shares = rng.uniform(1e6, 1e8, n_symbols)
    shares[:4] *= 100  # the four largest always trade, so no top-N basket ever dies out
    caps = closes * shares
    missing = rng.random((n_days, n_symbols)) < 0.02  # isolated gaps
    late = rng.integers(0, n_days // 2, n_symbols) * (rng.random(n_symbols) < 0.3)
    for j, first in enumerate(late):
        missing[:first, j] = True
    missing[:, :4] = False
    closes = pd.DataFrame(np.where(missing, np.nan, closes), days, symbols)
    caps = pd.DataFrame(np.where(missing, np.nan, caps), days, symbols)
    paid = rng.random((n_days, n_symbols)) < 0.03
    dividends = (closes * 0.01).where(paid, np.nan)
    return closes, caps, dividends


def _concat(parts: list[IndexResult]) -> IndexResult:
    return IndexResult(
        *(
            pd.concat([getattr(p, name) for p in parts], ignore_index=True)
            for name in ("levels", "allocations", "orders")
        )
    )


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        if pd.api.types.is_float_dtype(want[column]):
            np.testing.assert_allclose(got[column], want[column], rtol=1e-10, atol=1e-12)
        else:
            assert list(got[column]) == list(want[column]), column


@PROPERTY
@given(data=panels(), variant=st.sampled_from(VARIANTS), split=st.floats(0.3, 0.9))
def test_daily_appends_equal_a_full_recompute(data, variant, split):
    closes, caps, dividends = data
    strategy = make_strategy(**variant)
    full = compute_index(strategy, closes, caps, dividends=dividends)
    base = full.levels["date"].iloc[0]
    start = max(closes.index.get_loc(base) + 1, int(split * len(closes)))
    head = compute_index(strategy, closes.iloc[:start], caps.iloc[:start], dividends=dividends)
    state = state_from_result(head.levels, head.allocations)
    parts = [head]
    for t in range(start, len(closes)):
        rows, state = append_day(
            strategy,
            state,
            closes.iloc[: t + 1],
            caps.iloc[: t + 1],
            dividends=dividends.iloc[: t + 1],
        )
        parts.append(rows)
    appended = _concat(parts)
    for name in ("levels", "allocations", "orders"):
        _assert_same(getattr(appended, name), getattr(full, name).reset_index(drop=True))
    assert state.date == closes.index[-1]
    assert state.last_rebalance == full.levels.loc[full.levels["is_rebalance"], "date"].max()


@PROPERTY
@given(data=panels(), variant=st.sampled_from(VARIANTS))
def test_weights_caps_and_continuity(data, variant):
    closes, caps, dividends = data
    strategy = make_strategy(**variant)
    result = compute_index(strategy, closes, caps, dividends=dividends)
    alloc, levels = result.allocations, result.levels.set_index("date")
    assert (alloc["weight"] >= 0).all()
    sums = alloc.groupby("date")["weight"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    cap = variant["weighting"].get("cap")
    if cap is not None:
        on_rebalance = alloc["date"].isin(levels.index[levels["is_rebalance"]])
        assert (alloc.loc[on_rebalance, "weight"] <= cap + 1e-12).all()
    # Continuity: each day's level is the previous day's holdings at today's closes (plus
    # today's dividends for total return) over the previous divisor — rebalance days included.
    held = alloc.pivot(index="date", columns="symbol", values="index_shares").fillna(0.0)
    dates = levels.index
    px = closes.reindex(index=dates, columns=held.columns).fillna(0.0)
    div = dividends.reindex(index=dates, columns=held.columns).fillna(0.0)
    if strategy.return_type == "price":
        div = div * 0.0
    carried = held.shift(1).iloc[1:].where(px.iloc[1:] > 0, 0.0)
    prev_px = px.shift(1).iloc[1:]
    growth = ((carried * (px.iloc[1:] + div.iloc[1:])).sum(axis=1)) / (carried * prev_px).sum(
        axis=1
    )
    np.testing.assert_allclose(
        levels["level"].iloc[1:], levels["level"].shift(1).iloc[1:] * growth, rtol=1e-10
    )
    assert np.isfinite(levels["level"]).all() and (levels["level"] > 0).all()


@PROPERTY
@given(data=panels(), variant=st.sampled_from(VARIANTS), factor=st.sampled_from([2.0, 3.0, 0.25]))
def test_a_split_with_adjusted_shares_leaves_the_level_unchanged(data, variant, factor):
    closes, caps, dividends = data
    strategy = make_strategy(**variant)
    before = compute_index(strategy, closes, caps, dividends=dividends)
    # A factor-for-1 split: the split-adjusted history of one symbol (closes and dividends per
    # share) is divided by the factor; the market cap is unchanged; index shares multiply.
    symbol = closes.columns[0]
    adj_closes, adj_divs = closes.copy(), dividends.copy()
    adj_closes[symbol] /= factor
    adj_divs[symbol] /= factor
    after = compute_index(strategy, adj_closes, caps, dividends=adj_divs)
    _assert_same(after.levels, before.levels)
    np.testing.assert_allclose(
        after.allocations["weight"], before.allocations["weight"], rtol=1e-10
    )
    rows = (after.allocations["symbol"] == symbol).to_numpy()
    np.testing.assert_allclose(
        after.allocations.loc[rows, "index_shares"],
        before.allocations.loc[rows, "index_shares"] * factor,
        rtol=1e-10,
    )


@PROPERTY
@given(
    data=panels(min_days=60),
    variant=st.sampled_from(VARIANTS),
    which=st.integers(0, 10),
    seed=st.integers(0, 999),
)
def test_no_look_ahead_in_the_weights(data, variant, which, seed):
    closes, caps, dividends = data
    strategy = make_strategy(**variant)
    result = compute_index(strategy, closes, caps, dividends=dividends)
    rebalances = result.levels.loc[result.levels["is_rebalance"], "date"]
    day = rebalances.iloc[which % len(rebalances)]
    row = closes.index.get_loc(day)
    ref = row - strategy.reference_lag_days
    rng = np.random.default_rng(seed)
    # Scramble every value after the reference date (positive stays positive, missing stays
    # missing): the weights set at that rebalance must not move.
    after = closes.index[ref + 1 :]
    shocked_closes, shocked_caps = closes.copy(), caps.copy()
    shocked_closes.loc[after] *= rng.uniform(0.5, 2.0, shocked_closes.loc[after].shape)
    shocked_caps.loc[after] *= rng.uniform(0.01, 100.0, shocked_caps.loc[after].shape)
    # Data missing between the reference date and the rebalance day (lag ≥ 2) does not move
    # them either (the members without a close there are removed, but not re-selected).
    between = closes.index[ref + 1 : row]
    holes = rng.random((len(between), closes.shape[1])) < 0.3
    holes[:, :4] = False  # keep the always-trading names, so the index goes on
    shocked_closes.loc[between] = shocked_closes.loc[between].mask(holes)
    shocked = compute_index(strategy, shocked_closes, shocked_caps, dividends=dividends * 3)

    def targets(res: IndexResult) -> pd.Series:
        alloc = res.allocations
        return alloc.loc[alloc["date"] == day].set_index("symbol")["weight"]

    pd.testing.assert_series_equal(targets(shocked), targets(result), rtol=1e-12)
    assert day in set(
        rebalance_dates(
            closes.index,
            strategy.rebalance,
            strategy.rebalance_day,
            lag=strategy.reference_lag_days,
        )
    )
