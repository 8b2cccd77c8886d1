"""Total return: dividends reinvested in the whole index on the ex-date (methodology.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indexlake.methodology.engine import MissingDividendsError, compute_index

from .panels import make_strategy, reference_index
from .test_engine import with_gaps

TOTAL = {"return_type": "total"}


def test_hand_checked_two_names():
    days = pd.bdate_range("2021-01-04", periods=4, name="date")
    closes = pd.DataFrame({"A": [10.0, 10.0, 11.0, 11.0], "B": [20.0, 20.0, 20.0, 18.0]}, days)
    caps = closes * 1.0  # one share each: cap weights 1/3, 2/3 at the base date
    dividends = pd.DataFrame({"A": [0, 0, 0.5, 0], "B": [0, 0, 0, 1.0]}, days, dtype=float)
    strategy = make_strategy(selection={"type": "all"}, **TOTAL)
    levels = compute_index(strategy, closes, caps, dividends=dividends).levels
    # Base 2021-01-05: MV = 30, D = 30 / 1000, Q = (1, 1).
    # Day 3: PR = (11 + 20) / D = 1033.33; IndexDividend = 0.5 / D = 16.67;
    #        TR = 1000 · (1033.33 + 16.67) / 1000 = 1050.
    # Day 4: PR = (11 + 18) / D = 966.67; IndexDividend = 1 / D = 33.33;
    #        TR = 1050 · (966.67 + 33.33) / 1033.33 = 1016.129...
    np.testing.assert_allclose(levels["level"], [1000.0, 1050.0, 1050.0 * 1000 / (31 / 0.03)])
    price = compute_index(make_strategy(selection={"type": "all"}), closes, caps).levels
    np.testing.assert_allclose(price["level"], [1000.0, 31 / 0.03, 29 / 0.03])


@pytest.mark.parametrize(
    "variant",
    [
        {"selection": {"type": "top_n", "n": 5}, "weighting": {"type": "market_cap"}},
        {"selection": {"type": "all"}, "weighting": {"type": "equal"}},
        {
            "selection": {"type": "top_n", "n": 6},
            "weighting": {"type": "capped_market_cap", "cap": 0.2},
            "rebalance": "quarterly",
            "reference_lag_days": 3,
        },
    ],
)
def test_matches_the_day_by_day_reference_with_gaps(variant):
    closes, caps = with_gaps()
    rng = np.random.default_rng(4)
    # Quarterly-ish dividends of about 0.5% of the close on random ex-dates.
    paid = rng.random(closes.shape) < 0.02
    dividends = (closes * 0.005).where(paid & closes.notna(), 0.0)
    strategy = make_strategy(**variant, **TOTAL)
    result = compute_index(strategy, closes, caps, dividends=dividends)
    expected, _ = reference_index(strategy, closes, caps, dividends)
    np.testing.assert_allclose(result.levels["level"], expected["total"], rtol=1e-11)
    # The published divisor still ties the level to the published holdings.
    alloc = result.allocations
    basket = (alloc["close"] * alloc["index_shares"]).groupby(alloc["date"]).sum()
    levels = result.levels.set_index("date")
    np.testing.assert_allclose(basket / levels["divisor"], levels["level"], rtol=1e-12)
    # Total return is at least the price return, strictly more once a dividend was paid.
    price = compute_index(make_strategy(**variant), closes, caps).levels["level"]
    assert (result.levels["level"].to_numpy() >= price.to_numpy() * (1 - 1e-12)).all()
    assert result.levels["level"].iloc[-1] > price.iloc[-1]


def test_no_dividends_means_total_equals_price(panel):
    closes, caps = panel
    empty = pd.DataFrame(np.nan, index=closes.index, columns=closes.columns)
    total = compute_index(make_strategy(**TOTAL), closes, caps, dividends=empty).levels
    price = compute_index(make_strategy(), closes, caps).levels
    pd.testing.assert_frame_equal(total, price)


def test_total_return_without_a_dividends_panel_is_a_named_skip(panel):
    closes, caps = panel
    with pytest.raises(MissingDividendsError, match=r"return_type: strategy test is total return"):
        compute_index(make_strategy(**TOTAL), *panel)
    # A price-return strategy ignores dividends.
    result = compute_index(make_strategy(), closes, caps, dividends=closes * 0.01)
    pd.testing.assert_frame_equal(
        result.levels, compute_index(make_strategy(), closes, caps).levels
    )


def test_negative_dividends_are_rejected(panel):
    closes, caps = panel
    with pytest.raises(ValueError, match=r"dividends: negative amount .* for S00 on 2021-01-04"):
        compute_index(make_strategy(**TOTAL), closes, caps, dividends=-closes * 0.01)


def test_sandbox_panel_total_return(sandbox_panel):
    closes, caps = sandbox_panel
    # 0.4% of the close on the first week's days of each quarter-end month.
    ex_date = closes.index.month.isin([3, 6, 9, 12]) & (closes.index.day < 8)
    dividends = (closes * 0.004).where(np.broadcast_to(ex_date[:, None], closes.shape), 0.0)
    strategy = make_strategy(selection={"type": "all"}, weighting={"type": "equal"}, **TOTAL)
    result = compute_index(strategy, closes, caps, dividends=dividends)
    expected, _ = reference_index(strategy, closes, caps, dividends)
    np.testing.assert_allclose(result.levels["level"], expected["total"], rtol=1e-10)
