"""Two-level (UCITS-style) capping: cases worked by hand, feasibility and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexlake.methodology.two_level_cap import (
    two_level_capped_array,
    two_level_capped_weights,
    two_level_min_names,
)
from indexlake.methodology.weights import capped_array

TIGHT = 1e-12


def test_hand_worked_example():
    # Caps 40% / 20% / 50%. No name is above 40%; the group {a, b} holds 65% > 50%, so the
    # smaller, b, is brought down to 20%. Its excess 10% goes to a, c, d, e pro rata (× 0.8/0.7):
    # a = 0.35 · 8/7 = 0.40 (at, not over, its cap), c = 0.15 · 8/7 = 6/35, d = e = 4/35.
    # The group is now {a} at 40% ≤ 50%: done.
    weights = pd.Series({"a": 0.35, "b": 0.30, "c": 0.15, "d": 0.10, "e": 0.10})
    got = two_level_capped_weights(weights, 0.40, 0.20, 0.50)
    expected = pd.Series({"a": 0.40, "b": 0.20, "c": 6 / 35, "d": 4 / 35, "e": 4 / 35})
    pd.testing.assert_series_equal(got, expected, rtol=TIGHT)


def test_ucits_giant_and_twelve_equal_names():
    # 25/4.8/50 with one 40% name and twelve at 5%: the giant is capped at 25% and the others get
    # 75%/12 = 6.25%, so all 13 are in the group (100%). Demoting the smallest group member (ties
    # by position) one at a time: after ten, the two left share 75% − 10 × 4.8% = 27%, so the
    # group is 25% + 27% = 52% > 50%; after eleven, the last one holds 75% − 52.8% = 22.2% and the
    # group is 47.2%.
    weights = np.array([0.4] + [0.05] * 12)
    got = two_level_capped_array(weights, 0.25, 0.048, 0.50)
    expected = np.array([0.25] + [0.048] * 11 + [0.222])
    np.testing.assert_allclose(got, expected, rtol=TIGHT)


def test_unbinding_group_rule_is_the_single_cap_rule():
    # Reference values of the single-cap rule from docs/methodology.md.
    got = two_level_capped_array(np.array([0.7, 0.2, 0.1]), 0.5, 0.45, 1.0)
    np.testing.assert_allclose(got, [0.5, 1 / 3, 1 / 6], rtol=TIGHT)
    weights = np.array([0.01, 0.02, 0.03, 0.04])
    np.testing.assert_allclose(two_level_capped_array(weights, 0.6, 0.5, 0.6), weights / 0.1)


def test_min_names():
    # 25/4.8/50: two names at 25% and eleven at 4.8% reach 102.8%; twelve names reach at most 98%.
    assert two_level_min_names(0.25, 0.048, 0.50) == 13
    assert two_level_min_names(0.40, 0.20, 0.50) == 4  # 40% + 3 × 20%
    assert two_level_min_names(1.0, 0.5, 1.0) == 1


def test_refuses_infeasible_inputs():
    with pytest.raises(ValueError, match="needs at least 13"):
        two_level_capped_array(np.ones(12), 0.25, 0.048, 0.50)
    two_level_capped_array(np.ones(13), 0.25, 0.048, 0.50)  # the boundary is feasible
    with pytest.raises(ValueError, match="group_threshold must be"):
        two_level_capped_array(np.ones(20), 0.25, 0.25, 0.50)
    with pytest.raises(ValueError, match="group_max must be"):
        two_level_capped_array(np.ones(20), 0.25, 0.048, 0.0)
    with pytest.raises(ValueError, match="non-negative"):
        two_level_capped_array(np.array([1.0, -1.0] * 10), 0.25, 0.048, 0.50)


@st.composite
def capping_problems(draw: st.DrawFn) -> tuple[np.ndarray, float, float, float]:
    """Random weights (some zero, some equal) with random feasible two-level parameters."""
    max_weight = draw(st.floats(0.05, 1.0))
    threshold = draw(st.floats(0.02, 0.999)) * max_weight
    group_max = draw(st.floats(0.02, 1.0))
    needed = two_level_min_names(max_weight, threshold, group_max)
    n = draw(st.integers(needed, needed + 30))
    raw = draw(
        st.lists(
            st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-6, 1e6)), min_size=n, max_size=n
        ).filter(lambda xs: sum(xs) > 0)
    )
    return np.array(raw), max_weight, threshold, group_max


@settings(max_examples=120, deadline=None)
@given(capping_problems())
def test_two_level_properties(problem):
    raw, max_weight, threshold, group_max = problem
    got = two_level_capped_array(raw, max_weight, threshold, group_max)
    assert (got >= 0).all()
    assert abs(got.sum() - 1) <= TIGHT
    assert (got <= max_weight + TIGHT).all()
    assert got[got > threshold + TIGHT].sum() <= group_max + TIGHT
    # Names below the threshold are below any cap: they keep their market-cap proportions.
    free = (got < threshold - 1e-9) & (raw > 0)
    if free.sum() >= 2:
        ratio = got[free] / got[free].sum() - raw[free] / raw[free].sum()
        assert np.abs(ratio).max() < 1e-9


@settings(max_examples=100, deadline=None)
@given(
    raw=st.lists(st.floats(1e-3, 1e6), min_size=2, max_size=30),
    slack=st.floats(0, 1),
)
def test_without_a_binding_group_rule_it_matches_the_single_cap(raw, slack):
    n = len(raw)
    cap = min(1.0, 1 / n + slack * (1 - 1 / n) + 1e-9)
    weights = np.array(raw)
    # group_max = 1 can never bind.
    got = two_level_capped_array(weights, cap, cap / 2, 1.0)
    np.testing.assert_allclose(got, capped_array(weights, cap), rtol=1e-12, atol=1e-15)
