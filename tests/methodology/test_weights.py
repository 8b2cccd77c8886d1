"""Selection and weighting rules: hand-checked cases, reference values, ffn, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ffn.core import limit_weights
from hypothesis import given, settings
from hypothesis import strategies as st

from indexlake.methodology.weights import (
    capped_weights,
    equal_weights,
    market_cap_weights,
    top_n,
)


def test_market_cap_weights_are_proportional_to_caps():
    caps = pd.Series({"a": 300.0, "b": 100.0, "c": np.nan, "d": 600.0})
    pd.testing.assert_series_equal(
        market_cap_weights(caps), pd.Series({"a": 0.3, "b": 0.1, "d": 0.6})
    )


@pytest.mark.parametrize(
    "caps", [pd.Series(dtype=float), pd.Series({"a": np.nan}), pd.Series({"a": -1.0, "b": 2.0})]
)
def test_market_cap_weights_reject_unusable_caps(caps):
    with pytest.raises(ValueError):
        market_cap_weights(caps)


def test_equal_weights():
    pd.testing.assert_series_equal(
        equal_weights(["x", "y", "z", "w"]), pd.Series(0.25, index=["x", "y", "z", "w"])
    )
    with pytest.raises(ValueError, match="no symbols"):
        equal_weights([])
    with pytest.raises(ValueError, match="duplicate"):
        equal_weights(["x", "x"])


def test_top_n_ranks_by_cap_and_breaks_ties_by_symbol():
    caps = pd.Series({"b": 5.0, "a": 5.0, "c": 9.0, "d": 1.0, "e": np.nan})
    assert top_n(caps, 3) == ["c", "a", "b"]
    assert top_n(caps, 2) == ["c", "a"]
    assert top_n(caps, 10) == ["c", "a", "b", "d"]
    with pytest.raises(ValueError):
        top_n(caps, 0)


@pytest.mark.parametrize(
    ("weights", "cap", "expected"),
    [
        ({"a": 0.7, "b": 0.2, "c": 0.1}, 0.5, {"a": 0.5, "b": 1 / 3, "c": 1 / 6}),
        ({"a": 0.6, "b": 0.2, "c": 0.2}, 0.5, {"a": 0.5, "b": 0.25, "c": 0.25}),
        # Two passes: capping a pushes b over the cap.
        (
            {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.1},
            0.35,
            {"a": 0.35, "b": 0.35, "c": 0.15, "d": 0.15},
        ),
        # N × cap = 1: everything at the cap.
        ({"a": 0.9, "b": 0.05, "c": 0.05}, 1 / 3, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}),
        # Nothing above the cap: unchanged.
        ({"a": 0.4, "b": 0.35, "c": 0.25}, 0.5, {"a": 0.4, "b": 0.35, "c": 0.25}),
    ],
)
def test_capped_weights_reference_values(weights, cap, expected):
    got = capped_weights(pd.Series(weights), cap)
    pd.testing.assert_series_equal(got, pd.Series(expected), rtol=1e-12)


def test_capped_weights_refuse_an_infeasible_cap():
    with pytest.raises(ValueError, match="infeasible"):
        capped_weights(pd.Series({"a": 0.5, "b": 0.3, "c": 0.2}), 0.3)
    with pytest.raises(ValueError, match="cap must be"):
        capped_weights(pd.Series({"a": 1.0}), 0.0)


@pytest.mark.parametrize("seed", range(20))
def test_capped_weights_agree_with_ffn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    caps = pd.Series(rng.lognormal(0, 1.5, n), index=[f"s{i}" for i in range(n)])
    weights = caps / caps.sum()
    cap = float(rng.uniform(1 / n, 0.5)) + 1e-3
    ours = capped_weights(weights, cap)
    theirs = limit_weights(weights, cap)
    np.testing.assert_allclose(ours, theirs.reindex(ours.index), atol=1e-4)


@settings(max_examples=100, deadline=None)
@given(
    raw=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40).filter(
        lambda xs: sum(xs) > 0
    ),
    slack=st.floats(0, 1),
)
def test_capped_weights_properties(raw, slack):
    n = len(raw)
    cap = 1 / n + slack * (1 - 1 / n)
    weights = pd.Series(raw, index=[f"s{i}" for i in range(n)])
    got = capped_weights(weights, cap)
    assert (got >= 0).all()
    assert got.sum() == pytest.approx(1.0, abs=1e-12)
    assert (got <= cap + 1e-12).all()
    # Names under the cap keep their relative sizes.
    free = got < cap - 1e-12
    if free.sum() >= 2 and weights[free].sum() > 0:
        ratio = got[free] / got[free].sum() - weights[free] / weights[free].sum()
        assert np.abs(ratio).max() < 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1e-3, 1e12, allow_nan=False), min_size=1, max_size=40))
def test_market_cap_weights_properties(raw):
    got = market_cap_weights(pd.Series(raw, index=[f"s{i}" for i in range(len(raw))]))
    assert (got >= 0).all()
    assert got.sum() == pytest.approx(1.0, abs=1e-12)
