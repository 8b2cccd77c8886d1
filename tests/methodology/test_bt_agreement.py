"""Peer check: the equal-weight monthly index agrees with `bt` on every daily level.

Timing is aligned as docs/methodology.md describes: bt rebalances at the close of the first
trading day of each new month and invests on the first date of its data, so it is given the
panel from our base date on (our first day is only the reference date). bt starts from 100, we
from the base value; both are rebased to 1 on the base date. bt cannot follow our delisting rule
(a member's value handed to the others at its last close), so the panel is restricted to symbols
listed over the whole window.
"""

from __future__ import annotations

import bt
import numpy as np
import pandas as pd

from indexlake.methodology.engine import compute_index

from .panels import make_panel, make_strategy

REL_TOLERANCE = 1e-9


def bt_equal_weight_monthly(closes: pd.DataFrame) -> pd.Series:
    """bt's equal-weight, monthly-rebalanced portfolio value (fractional positions)."""
    strategy = bt.Strategy(
        "equal_weight",
        [
            bt.algos.RunMonthly(),
            bt.algos.SelectAll(),
            bt.algos.WeighEqually(),
            bt.algos.Rebalance(),
        ],
    )
    backtest = bt.Backtest(strategy, closes, integer_positions=False, progress_bar=False)
    return bt.run(backtest).prices["equal_weight"]


def assert_agrees_with_bt(closes: pd.DataFrame, caps: pd.DataFrame) -> None:
    strategy = make_strategy(selection={"type": "all"}, weighting={"type": "equal"})
    ours = compute_index(strategy, closes, caps).levels.set_index("date")["level"]
    base_date = ours.index[0]
    theirs = bt_equal_weight_monthly(closes.loc[base_date:])
    # bt's first row is its synthetic start one calendar day before the data.
    assert theirs.index[0] < base_date and theirs.iloc[0] == 100.0
    theirs = theirs.loc[base_date:]
    assert list(theirs.index) == list(ours.index)
    rel = np.abs((ours / ours.iloc[0]) / (theirs / theirs.iloc[0]) - 1)
    assert rel.max() < REL_TOLERANCE, f"max relative gap {rel.max():.3g} on {rel.idxmax()}"


def test_equal_weight_monthly_agrees_with_bt_on_sandbox_data(sandbox_panel):
    closes, caps = sandbox_panel
    listed_throughout = closes.columns[closes.notna().all()]
    assert len(listed_throughout) >= 30 and len(closes) > 1000
    assert_agrees_with_bt(closes[listed_throughout], caps[listed_throughout])


def test_equal_weight_monthly_agrees_with_bt_on_a_synthetic_panel():
    closes, caps = make_panel(n_days=400, n_symbols=15, seed=5, start="2020-01-15")
    assert_agrees_with_bt(closes, caps)
