"""Strategy files with the new weightings: the shipped ones load; bad ones name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexlake.methodology.strategy import (
    InverseVolatilityWeighting,
    MinimumVarianceWeighting,
    StrategyFileError,
    TopNSelection,
    TwoLevelCappedMarketCapWeighting,
    load_strategies,
    load_strategy,
)

SHIPPED = Path(__file__).resolve().parents[2] / "strategies"

HEAD = """
id = "my_index"
name = "My index"
selection = { type = "top_n", n = 20 }
rebalance = "quarterly"
"""
INVERSE_VOL = HEAD + 'weighting = { type = "inverse_volatility", lookback = 63 }\n'
MIN_VARIANCE = (
    HEAD + 'weighting = { type = "minimum_variance", lookback = 252, shrinkage = 0.1, '
    "max_weight = 0.10 }\n"
)
TWO_LEVEL = (
    HEAD + 'weighting = { type = "two_level_capped_market_cap", max_weight = 0.25, '
    "group_threshold = 0.048, group_max = 0.50 }\n"
)


def test_shipped_strategies_cover_every_weighting():
    by_id = {s.id: s for s in load_strategies(SHIPPED)}
    assert len(by_id) >= 6
    kinds = {s.weighting.type for s in by_id.values()}
    assert kinds == {
        "market_cap",
        "capped_market_cap",
        "equal",
        "inverse_volatility",
        "minimum_variance",
        "two_level_capped_market_cap",
    }
    assert by_id["inverse_vol"].weighting == InverseVolatilityWeighting(
        type="inverse_volatility", lookback=63
    )
    assert by_id["inverse_vol"].selection == TopNSelection(type="top_n", n=50)
    assert by_id["inverse_vol"].rebalance == "monthly"
    assert by_id["min_variance"].weighting == MinimumVarianceWeighting(
        type="minimum_variance", lookback=252, shrinkage=0.1, max_weight=0.10
    )
    assert by_id["min_variance"].selection == TopNSelection(type="top_n", n=50)
    assert by_id["ucits_capped"].weighting == TwoLevelCappedMarketCapWeighting(
        type="two_level_capped_market_cap", max_weight=0.25, group_threshold=0.048, group_max=0.5
    )
    assert by_id["ucits_capped"].selection.type == "all"
    for sid in ("min_variance", "ucits_capped"):
        assert by_id[sid].rebalance == "quarterly"
    assert {(s.base_value, s.benchmark) for s in by_id.values()} == {(1000.0, "SPX")}


def test_good_files_load(tmp_path):
    for text in (INVERSE_VOL, MIN_VARIANCE, TWO_LEVEL):
        path = tmp_path / "good.toml"
        path.write_text(text)
        load_strategy(path)
    path.write_text(MIN_VARIANCE.replace(", max_weight = 0.10", ""))
    assert load_strategy(path).weighting.max_weight is None


@pytest.mark.parametrize(
    ("text", "change", "field", "message"),
    [
        (INVERSE_VOL, ("= 63", "= 1"), "weighting.lookback", "greater than or equal to 2"),
        (INVERSE_VOL, ("= 63", "= 100000"), "weighting.lookback", "less than or equal to 2520"),
        (INVERSE_VOL, ("= 63", '= "63"'), "weighting.lookback", "valid integer"),
        (INVERSE_VOL, ("= 63", "= 63, window = 5"), "weighting.window", "Extra inputs"),
        (INVERSE_VOL, (", lookback = 63", ""), "weighting.lookback", "Field required"),
        (MIN_VARIANCE, ("= 0.1,", "= 1.5,"), "weighting.shrinkage", "less than or equal to 1"),
        (MIN_VARIANCE, ("= 0.1,", "= -0.1,"), "weighting.shrinkage", "greater than or equal"),
        (MIN_VARIANCE, ("shrinkage = 0.1, ", ""), "weighting.shrinkage", "Field required"),
        (MIN_VARIANCE, ("= 0.10", "= 0"), "weighting.max_weight", "greater than 0"),
        (MIN_VARIANCE, ("= 0.10", "= 0.04"), "weighting.max_weight", "infeasible for selection.n"),
        (
            MIN_VARIANCE,
            ("lookback = 252, shrinkage = 0.1", "lookback = 20, shrinkage = 0.0"),
            "weighting.shrinkage",
            "singular covariance",
        ),
        (MIN_VARIANCE, ("max_weight", "cap"), "weighting.cap", "Extra inputs"),
        (TWO_LEVEL, ("= 0.25", "= 1.25"), "weighting.max_weight", "less than or equal to 1"),
        (TWO_LEVEL, ("= 0.048", "= 0.3"), "weighting.group_threshold", "must be below max_weight"),
        (TWO_LEVEL, ("= 0.50", "= 0"), "weighting.group_max", "greater than 0"),
        (TWO_LEVEL, (", group_max = 0.50", ""), "weighting.group_max", "Field required"),
        (TWO_LEVEL, ("n = 20", "n = 12"), "weighting.max_weight", "needs at least 13 names"),
        (TWO_LEVEL, ("group_max", "group_cap"), "weighting.group_cap", "Extra inputs"),
    ],
)
def test_bad_files_name_the_file_and_the_field(tmp_path, text, change, field, message):
    old, new = change
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new))
    with pytest.raises(StrategyFileError) as err:
        load_strategy(path)
    # A renamed key gives two lines (the old one missing, the new one unknown): one must match.
    lines = str(err.value).splitlines()
    assert any(line.startswith(f"{path}: {field}: ") and message in line for line in lines), lines


def test_infeasible_caps_with_all_are_caught_at_the_rebalance(tmp_path):
    # With "all" the member count is known only at a rebalance; the file itself loads.
    path = tmp_path / "all.toml"
    path.write_text(TWO_LEVEL.replace('{ type = "top_n", n = 20 }', '{ type = "all" }'))
    assert load_strategy(path).selection.type == "all"
