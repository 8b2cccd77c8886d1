"""The pandas/scipy reference against documented values, closed forms and ffn."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from ffn.core import limit_weights

from indexlake.calendar import trading_days
from indexlake.methodology.strategy import Strategy, TopNSelection
from indexlake.verify import reference


def test_single_cap_reproduces_the_methodology_reference_values() -> None:
    first = reference.single_capped(pd.Series({"a": 0.7, "b": 0.2, "c": 0.1}), 0.5)
    assert first.to_dict() == pytest.approx({"a": 0.5, "b": 1 / 3, "c": 1 / 6}, abs=1e-15)
    second = reference.single_capped(pd.Series({"a": 0.6, "b": 0.2, "c": 0.2}), 0.5)
    assert second.to_dict() == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.25}, abs=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_single_cap_agrees_with_ffn_limit_weights(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    weights = pd.Series(rng.pareto(1.2, n) + 1e-3, index=[f"S{i}" for i in range(n)])
    weights /= weights.sum()
    cap = float(rng.uniform(1 / n + 0.01, 0.5))
    ours = reference.single_capped(weights, cap)
    theirs = limit_weights(weights, cap)
    assert (ours - theirs).abs().max() < 1e-4
    assert ours.sum() == pytest.approx(1.0, abs=1e-12) and ours.max() <= cap + 1e-12


def test_two_level_cap_meets_both_limits_and_keeps_proportions_below_them() -> None:
    weights = pd.Series([30, 20, 12, 9, 7, 6, 5, 4, 3] + [1] * 20, dtype=float)
    weights.index = [f"S{i:02d}" for i in range(len(weights))]
    out = reference.two_level_capped(weights / weights.sum(), 0.25, 0.048, 0.50)
    assert out.sum() == pytest.approx(1.0, abs=1e-12)
    assert out.max() <= 0.25 + 1e-12
    assert out[out > 0.048 + 1e-12].sum() <= 0.50 + 1e-12
    # Names strictly between their limits keep their market-cap proportions to each other.
    free = out[(out < 0.048 - 1e-12)]
    ratios = free / weights[free.index]
    assert ratios.max() / ratios.min() == pytest.approx(1.0, abs=1e-12)


def test_minimum_variance_matches_the_closed_form_when_no_bound_binds() -> None:
    rng = np.random.default_rng(3)
    returns = pd.DataFrame(rng.normal(0, [0.010, 0.012, 0.015, 0.011], (300, 4)))
    w = reference.minimum_variance(returns, shrinkage=0.1, cap=None)
    sample = returns.cov().to_numpy()
    sigma = 0.9 * sample + 0.1 * np.trace(sample) / 4 * np.eye(4)
    closed = np.linalg.solve(sigma, np.ones(4))
    assert (closed > 0).all()
    np.testing.assert_allclose(w.to_numpy(), closed / closed.sum(), rtol=0, atol=1e-12)


def test_minimum_variance_holds_a_binding_cap_exactly() -> None:
    # Two names: the unconstrained optimum puts (σ2² − σ12) / (σ1² + σ2² − 2σ12) in the first.
    rng = np.random.default_rng(4)
    returns = pd.DataFrame(rng.normal(0, [0.005, 0.02], (500, 2)))
    cov = returns.cov().to_numpy()
    unconstrained = (cov[1, 1] - cov[0, 1]) / (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert unconstrained > 0.7
    w = reference.minimum_variance(returns, shrinkage=0.0, cap=0.7)
    assert w.tolist() == pytest.approx([0.7, 0.3], abs=1e-15)


def test_inverse_volatility_uses_the_sample_standard_deviation() -> None:
    returns = pd.DataFrame({"a": [0.01, -0.01, 0.01, -0.01], "b": [0.02, -0.02, 0.02, -0.02]})
    assert reference.inverse_volatility(returns).tolist() == pytest.approx([2 / 3, 1 / 3])


def _strategy(**fields: object) -> Strategy:
    base = {"id": "t", "name": "T", "weighting": {"type": "market_cap"}, "rebalance": "monthly"}
    base |= {"selection": {"type": "all"}}
    return Strategy.model_validate(base | fields)


def _market(closes: pd.DataFrame, caps: pd.DataFrame, **more: pd.DataFrame) -> reference.Market:
    return reference.Market(closes=closes, caps=caps, **more)


def test_rebalance_schedule_is_the_second_day_then_each_new_periods_first_day() -> None:
    days = pd.bdate_range("2024-01-02", "2024-07-05")
    monthly = reference.rebalance_schedule(_strategy(), days)
    assert [d.strftime("%m-%d") for d in monthly] == [
        "01-03",
        "02-01",
        "03-01",
        "04-01",
        "05-01",
        "06-03",
        "07-01",
    ]
    quarterly = reference.rebalance_schedule(_strategy(rebalance="quarterly"), days)
    assert [d.strftime("%m-%d") for d in quarterly] == ["01-03", "04-01", "07-01"]


def test_reference_lag_and_base_date_move_the_first_rebalance() -> None:
    days = pd.bdate_range("2024-01-02", "2024-04-05")
    lagged = reference.rebalance_schedule(_strategy(reference_lag_days=4), days)
    assert [d.strftime("%m-%d") for d in lagged] == ["01-08", "02-01", "03-01", "04-01"]
    based = reference.rebalance_schedule(_strategy(base_date=date(2024, 2, 14)), days)
    assert [d.strftime("%m-%d") for d in based] == ["02-14", "03-01", "04-01"]


def test_third_friday_falls_back_to_the_previous_session() -> None:
    # NYSE sessions of 2019: the third Friday of April (04-19) is Good Friday.
    days = trading_days(date(2019, 1, 2), date(2019, 12, 31))
    monthly = reference.third_fridays(days, "monthly")
    assert [d.strftime("%m-%d") for d in monthly] == [
        "01-18",
        "02-15",
        "03-15",
        "04-18",
        "05-17",
        "06-21",
        "07-19",
        "08-16",
        "09-20",
        "10-18",
        "11-15",
        "12-20",
    ]
    quarterly = reference.third_fridays(days, "quarterly")
    assert [d.strftime("%m-%d") for d in quarterly] == ["03-15", "06-21", "09-20", "12-20"]
    assert [d.strftime("%m-%d") for d in reference.third_fridays(days, "annual")] == ["12-20"]
    # A data gap on the target session: the last landed day before it in the month.
    gapped = days.drop(pd.Timestamp("2019-06-21"))
    assert pd.Timestamp("2019-06-20") in reference.third_fridays(gapped, "quarterly")
    # A target after the last landed day is not scheduled yet.
    assert reference.third_fridays(days[days <= "2019-12-19"], "annual").empty


def test_listing_age_and_liquidity_filters_use_reference_date_data() -> None:
    days = pd.bdate_range("2024-01-01", periods=6)
    closes = pd.DataFrame(
        {
            "OLD": [10.0] * 6,
            "NEW": [np.nan, np.nan, 10, 10, 10, 10],
            "THIN": [10.0] * 6,
        },
        index=days,
    )
    caps = closes * 0 + 1e9
    # Dollar volumes of THIN over the last three days to the reference date (row 4):
    # 10 × [50, 90, 10_000] -> median 900, below 1000 until its volume jumps.
    volumes = pd.DataFrame(
        {
            "OLD": [500.0] * 6,
            "NEW": [np.nan, np.nan, 500, 500, 500, 500],
            "THIN": [100.0, 100, 50, 90, 10_000, 10_000],
        },
        index=days,
    )
    strategy = _strategy(
        universe={
            "type": "landed",
            "min_listing_days": 3,
            "min_median_dollar_volume": 1000.0,
            "liquidity_lookback": 3,
        }
    )
    market = _market(closes, caps, volumes=volumes)
    # Rebalance on row 5, reference row 4: NEW has closes on rows 2..4 (3 days), THIN a median
    # dollar volume of 900.
    assert sorted(reference.eligible_symbols(strategy, market, days[5])) == ["NEW", "OLD"]
    # With a reference lag of 2 (row 3) NEW is two days old, THIN's median is 900 still.
    lagged = strategy.model_copy(update={"reference_lag_days": 2})
    assert list(reference.eligible_symbols(lagged, market, days[5])) == ["OLD"]
    assert reference.median_dollar_volume(market, 5, 3)["THIN"] == 100_000.0


def test_buffer_keeps_members_inside_n_plus_buffer_and_admits_above_n_minus_buffer() -> None:
    strategy = _strategy(selection={"type": "top_n", "n": 4, "buffer": 1})
    caps = pd.Series({"A": 9.0, "B": 8, "C": 7, "D": 6, "E": 5, "F": 4})
    # No current members: plain top 4.
    assert list(reference.selected_symbols(strategy, caps)) == ["A", "B", "C", "D"]
    # E (rank 5 ≤ n + 1) stays, D (rank 4 > n − 1, not a member) does not enter.
    kept = reference.selected_symbols(strategy, caps, frozenset({"A", "B", "E", "F"}))
    assert list(kept) == ["A", "B", "C", "E"]
    # Members ranked 3..6: only C, D, E are within n + 1 = 5; newcomers A (rank 1) enters,
    # B (rank 2) too (≤ n − 1 = 3), then the lowest ranked beyond n go: E is dropped.
    crowded = reference.selected_symbols(strategy, caps, frozenset({"C", "D", "E", "F"}))
    assert list(crowded) == ["A", "B", "C", "D"]


def test_buffered_targets_carry_the_members_from_one_rebalance_to_the_next() -> None:
    days = pd.bdate_range("2024-01-29", periods=6)  # 01-29 .. 02-05: 01-30 and 02-01 rebalance
    caps = pd.DataFrame(
        {"A": [9.0] * 6, "B": [8.0] * 6, "C": [7.0, 7, 5.5, 5.5, 5.5, 5.5], "D": [6.0] * 6},
        index=days,
    )
    closes = caps * 0 + 1.0
    strategy = _strategy(
        selection={"type": "top_n", "n": 3, "buffer": 1}, weighting={"type": "equal"}
    )
    targets = reference.targets(strategy, _market(closes, caps), days[[1, 3]])
    # 02-01: C fell to rank 4 ≤ n + 1 and stays; D (rank 3 > n − 1) does not enter.
    assert (targets > 0).apply(lambda r: "".join(r.index[r]), axis=1).tolist() == ["ABC", "ABC"]
    unbuffered = strategy.model_copy(update={"selection": TopNSelection(type="top_n", n=3)})
    plain = reference.targets(unbuffered, _market(closes, caps), days[[1, 3]])
    assert (plain > 0).apply(lambda r: "".join(r.index[r]), axis=1).tolist() == ["ABC", "ABD"]


def test_eligibility_and_top_n_ties_broken_by_symbol() -> None:
    days = pd.bdate_range("2024-01-02", periods=3)
    closes = pd.DataFrame(
        {"A": [1.0, 1, 1], "B": [1.0, 1, 1], "C": [1.0, 1, np.nan], "D": [np.nan, 1, 1]},
        index=days,
    )
    caps = pd.DataFrame(
        {"A": [5.0] * 3, "B": [5.0] * 3, "C": [9.0] * 3, "D": [9.0] * 3}, index=days
    )
    day = days[2]
    strategy = _strategy(selection={"type": "top_n", "n": 2})
    eligible = reference.eligible_symbols(strategy, _market(closes, caps), day)
    assert list(eligible) == ["A", "B", "D"]  # C has no close on the day, D one at the reference
    chosen = reference.selected_symbols(strategy, caps.iloc[1][eligible])
    assert list(chosen) == ["A", "D"]  # A and B tie on cap: A wins by symbol


class _WithNewSetting(Strategy):
    """A strategy model with a setting the reference has never heard of."""

    hedged: bool = False


def test_every_strategy_setting_is_modelled_and_a_new_one_is_named() -> None:
    full = _strategy(
        universe={"type": "landed", "min_listing_days": 5, "min_median_dollar_volume": 1.0},
        selection={"type": "top_n", "n": 5, "buffer": 2},
        rebalance_day="third_friday",
        reference_lag_days=2,
        base_date=date(2024, 1, 5),
        return_type="total",
    )
    assert reference.unmodelled(full) == []
    fields = full.model_dump()
    assert reference.unmodelled(_WithNewSetting.model_validate(fields)) == []  # at its default
    hedged = _WithNewSetting.model_validate(fields | {"hedged": True})
    assert reference.unmodelled(hedged) == ["hedged"]
