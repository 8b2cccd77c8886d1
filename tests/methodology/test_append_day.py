"""Daily append: hand-checked day, a rebalance day, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indexlake.methodology.append import append_day, append_days, state_from_result
from indexlake.methodology.engine import compute_index

from .panels import make_strategy


def _panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    days = pd.to_datetime(["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-02"])
    closes = pd.DataFrame(
        {"A": [10.0, 10.0, 12.0, 12.0], "B": [20.0, 20.0, 19.0, 21.0]},
        index=pd.DatetimeIndex(days, name="date"),
    )
    return closes, closes * [3.0, 1.0]  # caps 30 / 20 on the base reference date


def test_a_rebalance_day_then_an_ordinary_day_by_hand():
    closes, caps = _panel()
    strategy = make_strategy(selection={"type": "all"})
    head = compute_index(strategy, closes.iloc[:2], caps.iloc[:2])
    state = state_from_result(head.levels, head.allocations)
    # Base 2021-01-29: MV = 30 + 20 = 50 (reference caps), Q_A = 0.6·50/10 = 3, Q_B = 0.4·50/20 = 1.
    assert state.index_shares.to_dict() == pytest.approx({"A": 3.0, "B": 1.0})
    assert (state.level, state.divisor) == pytest.approx((1000.0, 0.05))
    # 2021-02-01 is a monthly rebalance: the level moves with the old basket, 3·12 + 19 = 55.
    rows, state = append_day(strategy, state, closes.iloc[:3], caps.iloc[:3])
    assert rows.levels["level"].iloc[0] == pytest.approx(1000.0 * 55 / 50)
    assert bool(rows.levels["is_rebalance"].iloc[0]) and state.last_rebalance == closes.index[2]
    # New targets from the 2021-01-29 caps (30, 20): 0.6 / 0.4 again, MV 50 at today's closes.
    weights = rows.allocations.set_index("symbol")["weight"]
    assert weights.to_dict() == pytest.approx({"A": 0.6, "B": 0.4})
    assert state.index_shares.to_dict() == pytest.approx({"A": 0.6 * 50 / 12, "B": 0.4 * 50 / 19})
    rows, state = append_day(strategy, state, closes, caps)
    expected = 1100.0 * (2.5 * 12 + (20 / 19) * 21) / 50
    assert rows.levels["level"].iloc[0] == pytest.approx(expected)
    assert rows.orders.empty
    full = compute_index(strategy, closes, caps)
    np.testing.assert_allclose(full.levels["level"].iloc[-1], expected, rtol=1e-12)


def test_refuses_a_panel_that_does_not_continue_the_state():
    closes, caps = _panel()
    strategy = make_strategy(selection={"type": "all"})
    head = compute_index(strategy, closes.iloc[:2], caps.iloc[:2])
    state = state_from_result(head.levels, head.allocations)
    with pytest.raises(ValueError, match="append exactly one day"):
        append_day(strategy, state, closes, caps)  # two days after the state
    with pytest.raises(ValueError, match="outside the panel: A"):
        append_day(strategy, state, closes.iloc[:3][["B"]], caps.iloc[:3][["B"]])
    with pytest.raises(ValueError, match="no published levels"):
        state_from_result(head.levels.iloc[:0], head.allocations)


def test_append_days_catches_up_several_sessions(panel):
    closes, caps = panel
    strategy = make_strategy(selection={"type": "top_n", "n": 5, "buffer": 1})
    full = compute_index(strategy, closes, caps)
    head = compute_index(strategy, closes.iloc[:200], caps.iloc[:200])
    state = state_from_result(head.levels, head.allocations)
    tail, state = append_days(strategy, state, closes, caps)
    assert state.date == closes.index[-1]
    for name in ("levels", "allocations", "orders"):
        want = getattr(full, name)
        want = want[want.iloc[:, 0] > closes.index[199]].reset_index(drop=True)
        got = getattr(tail, name)
        assert list(got.columns) == list(want.columns) and len(got) == len(want)
        numeric = [c for c in want.columns if pd.api.types.is_float_dtype(want[c])]
        np.testing.assert_allclose(got[numeric], want[numeric], rtol=1e-10)
    nothing, same = append_days(strategy, state, closes, caps)
    assert same is state and nothing.levels.empty and nothing.allocations.empty
    assert nothing.orders.empty
