"""bt and vectorbt runs against a portfolio worked out by hand, removal rule included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indexlake.verify.peers import bt_run, vectorbt_run

DAYS = pd.DatetimeIndex(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"])
CLOSES = pd.DataFrame(
    {"A": [10.0, 11, 12, 12], "B": [20.0, 20, np.nan, np.nan], "C": [5.0, 4, 5, 6]}, index=DAYS
)
# Weights published for each close: the rebalance days' rows (01-30, the base date, and 02-01)
# are the targets; the peers must ignore the other rows.
TARGETS = pd.DataFrame(
    {"A": [0.5, 0.9, 0.25, 0.9], "B": [0.25, 0.05, 0, 0.05], "C": [0.25, 0.05, 0.75, 0.05]},
    index=DAYS,
)


@pytest.mark.parametrize("run", [bt_run, vectorbt_run], ids=["bt", "vectorbt"])
def test_peer_follows_the_hand_worked_portfolio(run) -> None:
    # 100 bought as 5 A, 1.25 B, 5 C. 01-31: A 55, B 25, C 20 = 100; B's next close is missing,
    # so it is sold and A, C get 25 in the ratio 55:20 -> A 73.33 (6.667 sh), C 26.67 (6.667 sh).
    # 02-01 (new month: rebalance): A 80 + C 33.33 = 113.33, then 25% A, 75% C.
    # 02-02: A unchanged at 28.33, C 85 / 5 × 6 = 102: 130.33.
    result = run(CLOSES, TARGETS, "monthly", 100.0)
    expected = [100.0, 100.0, 340 / 3, 340 / 3 * (0.25 + 0.75 * 6 / 5)]
    np.testing.assert_allclose(result.levels.to_numpy(), expected, rtol=1e-13)
    assert result.removal_days == [DAYS[1]]
    assert result.weights.loc[DAYS[2]].tolist() == pytest.approx([0.25, 0.0, 0.75], abs=1e-13)
    last = np.array([0.25 * 340 / 3, 0.0, 0.75 * 340 / 3 * 6 / 5]) / expected[-1]
    np.testing.assert_allclose(result.weights.loc[DAYS[3]].to_numpy(), last, atol=1e-13)


TR_CLOSES = pd.DataFrame({"A": [10.0, 11, 12, 12], "C": [5.0, 4, 5, 6]}, index=DAYS)
# A goes ex 1.0 per share on 01-31; C's 0.5 on the base date is paid to no one (nothing is held
# into the base date).
TR_DIVIDENDS = pd.DataFrame({"A": [0.0, 1, 0, 0], "C": [0.5, 0, 0, 0]}, index=DAYS)
TR_TARGETS = pd.DataFrame({"A": [0.5, 0.9, 0.9, 0.25], "C": [0.5, 0.1, 0.1, 0.75]}, index=DAYS)


@pytest.mark.parametrize("run", [bt_run, vectorbt_run], ids=["bt", "vectorbt"])
def test_peer_reinvests_dividends_in_the_whole_index_on_the_ex_date(run) -> None:
    # 100 bought as 5 A, 10 C. 01-31: A 55 + C 40 = 95 and 5 cash from A's dividend, reinvested
    # pro rata: 100/95 × (5 A, 10 C). 02-01 (new month, but the rebalance days are given: not a
    # rebalance): 100/95 × (60 + 50). 02-02 (given): 100/95 × (60 + 60), then 25% A, 75% C.
    result = run(
        TR_CLOSES,
        TR_TARGETS,
        "monthly",
        100.0,
        rebalance_days=pd.DatetimeIndex([DAYS[0], DAYS[3]]),
        dividends=TR_DIVIDENDS,
    )
    expected = [100.0, 100.0, 11000 / 95, 12000 / 95]
    np.testing.assert_allclose(result.levels.to_numpy(), expected, rtol=1e-13)
    assert result.removal_days == []
    assert result.weights.loc[DAYS[1]].tolist() == pytest.approx([55 / 95, 40 / 95], abs=1e-13)
    assert result.weights.loc[DAYS[2]].tolist() == pytest.approx([60 / 110, 50 / 110], abs=1e-13)
    assert result.weights.loc[DAYS[3]].tolist() == pytest.approx([0.25, 0.75], abs=1e-13)
