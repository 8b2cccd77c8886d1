"""Property tests (hypothesis) of the drawdown, tail and vectorised metrics."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexlake.risk.drawdown import drawdown_details
from indexlake.risk.metrics import beta, historical_var, max_drawdown
from indexlake.risk.table import metric_table
from indexlake.risk.tail import historical_cvar, parametric_cvar, parametric_var

# Returns on a 1bp grid within (-100%, +100%), some missing.
daily_returns = st.lists(
    st.one_of(
        st.integers(min_value=-9_900, max_value=10_000).map(lambda bp: bp / 10_000),
        st.just(float("nan")),
    ),
    min_size=2,
    max_size=300,
).filter(lambda xs: sum(x == x for x in xs) >= 2)
levels = st.floats(0.5, 0.999)
SETTINGS = settings(max_examples=75, deadline=None)


def _table(returns: list[float], benchmark: list[float] | None = None) -> pd.Series:
    r = pd.Series(returns)
    b = pd.Series(benchmark if benchmark is not None else returns)
    return metric_table(r.to_frame("s"), b).loc["s"]


@SETTINGS
@given(daily_returns)
def test_max_drawdown_is_never_positive(returns: list[float]) -> None:
    details = drawdown_details(pd.Series(returns))
    assert -1.0 <= details.max_drawdown <= 0.0
    assert -1.0 <= _table(returns)["max_drawdown"] <= 0.0
    assert details.max_drawdown == pytest.approx(max_drawdown(pd.Series(returns)), abs=1e-12)


@SETTINGS
@given(daily_returns, st.floats(min_value=0.0, max_value=0.5))
def test_shifting_returns_up_never_worsens_max_drawdown(returns: list[float], shift: float) -> None:
    r = pd.Series(returns)
    before = metric_table(pd.DataFrame({"r": r, "up": r + shift}), r)
    assert before.loc["up", "max_drawdown"] >= before.loc["r", "max_drawdown"] - 1e-12
    up = drawdown_details(r + shift).max_drawdown
    assert up >= drawdown_details(r).max_drawdown - 1e-12


@SETTINGS
@given(daily_returns)
def test_beta_to_itself_is_one(returns: list[float]) -> None:
    assume(len({x for x in returns if x == x}) > 1)
    row = _table(returns)
    assert row["beta"] == pytest.approx(1.0, rel=1e-12)
    assert row["correlation"] == pytest.approx(1.0, rel=1e-12)
    assert row["tracking_error"] == 0.0
    assert beta(pd.Series(returns), pd.Series(returns)) == pytest.approx(1.0, rel=1e-12)


@SETTINGS
@given(daily_returns, levels, levels)
def test_var_and_cvar_are_monotone_in_the_confidence_level(
    returns: list[float], a: float, b: float
) -> None:
    low, high = sorted((a, b))
    r = pd.Series(returns)
    # A higher confidence level looks further into the loss tail: a lower (or equal) return.
    assert historical_var(r, high) <= historical_var(r, low) + 1e-15
    assert historical_cvar(r, high) <= historical_cvar(r, low) + 1e-15
    assert parametric_var(r, high) <= parametric_var(r, low) + 1e-15
    assert parametric_cvar(r, high) <= parametric_cvar(r, low) + 1e-15


@SETTINGS
@given(daily_returns, levels)
def test_cvar_is_never_above_var(returns: list[float], level: float) -> None:
    r = pd.Series(returns)
    assert historical_cvar(r, level) <= historical_var(r, level) + 1e-15
    assert parametric_cvar(r, level) <= parametric_var(r, level) + 1e-15


@SETTINGS
@given(daily_returns)
def test_table_tail_ordering(returns: list[float]) -> None:
    row = _table(returns)
    for kind in ("historical", "parametric"):
        assert row[f"var_99_{kind}"] <= row[f"var_95_{kind}"] + 1e-15
        assert row[f"cvar_95_{kind}"] <= row[f"var_95_{kind}"] + 1e-15
        assert row[f"cvar_99_{kind}"] <= row[f"var_99_{kind}"] + 1e-15
    # The vectorised quantile repeats numpy's arithmetic: equal to the last bit.
    assert row["var_95_historical"] == historical_var(pd.Series(returns), 0.95)
