"""Drawdown series and the worst drawdown's peak, trough and recovery."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indexlake.risk.drawdown import DrawdownDetails, drawdown_details, drawdown_series
from indexlake.risk.metrics import max_drawdown

from .samples import BACON_MONTHLY, MIXED

DATES = pd.bdate_range("2024-01-01", periods=6)


def test_details_from_returns() -> None:
    r = pd.Series([0.1, -0.2, 0.05, 0.3, -0.01, 0.02], index=DATES)
    details = drawdown_details(r)
    assert details.max_drawdown == pytest.approx(-0.2)
    assert details.peak == DATES[0]
    assert details.trough == DATES[1]
    # 1.1 · 0.8 · 1.05 · 1.3 = 1.2012 ≥ 1.1 on the fourth day.
    assert details.recovery == DATES[3]


def test_levels_and_returns_agree() -> None:
    levels = pd.Series(
        [100, 110, 88, 92.4, 120.12, 118.9188, 121.3], index=[*DATES, DATES[-1] + pd.offsets.BDay()]
    )
    from_levels = drawdown_details(levels, kind="levels")
    from_returns = drawdown_details(levels.pct_change().iloc[1:])
    assert from_levels == from_returns


def test_peak_is_the_undated_start_when_the_first_return_is_a_loss() -> None:
    details = drawdown_details(pd.Series([-0.1, 0.05, 0.2], index=DATES[:3]))
    assert details == DrawdownDetails(pytest.approx(-0.1), None, DATES[0], DATES[2])


def test_not_recovered() -> None:
    details = drawdown_details(pd.Series([0.1, -0.2, 0.05], index=DATES[:3]))
    assert details.recovery is None
    assert details.trough == DATES[1]


def test_peak_is_the_last_high_before_the_trough() -> None:
    levels = pd.Series([100.0, 110.0, 105.0, 110.0, 90.0, 95.0], index=DATES)
    details = drawdown_details(levels, kind="levels")
    assert (details.peak, details.trough, details.recovery) == (DATES[3], DATES[4], None)


def test_size_matches_max_drawdown_on_references() -> None:
    assert drawdown_details(MIXED).max_drawdown == pytest.approx(max_drawdown(MIXED))
    assert drawdown_details(BACON_MONTHLY).max_drawdown == pytest.approx(-0.14467, abs=5e-6)


def test_no_drawdown_and_too_short() -> None:
    assert drawdown_details(pd.Series([0.01, 0.02])) == DrawdownDetails(0.0, None, None, None)
    for short in (pd.Series([], dtype="float64"), pd.Series([-0.5]), pd.Series([np.nan] * 3)):
        details = drawdown_details(short)
        assert math.isnan(details.max_drawdown) and details.peak is None


def test_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        drawdown_details(MIXED, kind="prices")  # type: ignore[arg-type]


def test_drawdown_series() -> None:
    r = pd.Series([-0.1, np.nan, 0.05, 0.1], index=DATES[:4])
    out = drawdown_series(r)
    assert list(out.index) == list(r.index)
    np.testing.assert_allclose(out.to_numpy(), [-0.1, -0.1, 0.9 * 1.05 - 1, 0.0], atol=1e-15)
    assert out.min() == pytest.approx(max_drawdown(r))
    assert drawdown_series(pd.Series([], dtype="float64")).empty
