"""Strategy files: the shipped ones load; bad ones fail naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexlake.methodology.strategy import (
    CappedMarketCapWeighting,
    StrategyFileError,
    TopNSelection,
    load_strategies,
    load_strategy,
)

SHIPPED = Path(__file__).resolve().parents[2] / "strategies"

GOOD = """
id = "my_index"
name = "My index"
selection = { type = "top_n", n = 10 }
weighting = { type = "capped_market_cap", cap = 0.15 }
rebalance = "quarterly"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_shipped_strategies_load():
    strategies = load_strategies(SHIPPED)
    assert [s.id for s in strategies] == [
        "capped_cap10",
        "equal_weight",
        "inverse_vol",
        "min_variance",
        "top50_cap",
        "top50_cap_tr",
        "ucits_capped",
    ]
    by_id = {s.id: s for s in strategies}
    assert by_id["top50_cap"].selection == TopNSelection(type="top_n", n=50)
    assert by_id["capped_cap10"].weighting == CappedMarketCapWeighting(
        type="capped_market_cap", cap=0.10
    )
    assert by_id["equal_weight"].rebalance == "monthly"
    assert {s.base_value for s in strategies} == {1000.0}


def test_defaults(tmp_path):
    strategy = load_strategy(write(tmp_path, "my_index.toml", GOOD))
    assert (strategy.base_value, strategy.notional, strategy.benchmark) == (
        1000.0,
        1_000_000.0,
        "SPX",
    )
    assert strategy.description == ""


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("", "colour = 'red'\n"), "colour", "Extra inputs are not permitted"),
        (("n = 10", "n = 10, max = 3"), "selection.max", "Extra inputs are not permitted"),
        (("n = 10", 'n = "ten"'), "selection.n", "valid integer"),
        (("n = 10", "n = 0"), "selection.n", "greater than 0"),
        (("cap = 0.15", "cap = 1.5"), "weighting.cap", "less than or equal to 1"),
        (("cap = 0.15", "cap = 0.05"), "weighting.cap", "infeasible for selection.n = 10"),
        (('"quarterly"', '"weekly"'), "rebalance", "'monthly', 'quarterly' or 'annual'"),
        (('"my_index"', '"My-Index"'), "id", "should match pattern"),
        (('id = "my_index"\n', ""), "id", "Field required"),
        (('"capped_market_cap"', '"inverse_vol"'), "weighting", "does not match any of"),
    ],
)
def test_bad_files_name_the_file_and_the_field(tmp_path, change, field, message):
    old, new = change
    text = GOOD.replace(old, new) if old else GOOD + new
    assert text != GOOD
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(StrategyFileError) as err:
        load_strategy(path)
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"{path}: {field}: "), first
    assert message in first


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "broken.toml", 'id = "x\n')
    with pytest.raises(StrategyFileError, match=r"broken\.toml: invalid TOML"):
        load_strategy(path)


def test_duplicate_ids_name_both_files(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    with pytest.raises(StrategyFileError, match=r"b\.toml: id: .*my_index.*a\.toml"):
        load_strategies(tmp_path)


def test_requested_ids(tmp_path):
    write(tmp_path, "one.toml", GOOD)
    write(tmp_path, "two.toml", GOOD.replace("my_index", "another"))
    assert [s.id for s in load_strategies(tmp_path, ["my_index"])] == ["my_index"]
    assert [s.id for s in load_strategies(tmp_path, ["my_index", "another"])] == [
        "another",
        "my_index",
    ]
    with pytest.raises(StrategyFileError, match=r"unknown strategy id.*nope.*another, my_index"):
        load_strategies(tmp_path, ["nope"])
    with pytest.raises(StrategyFileError, match="not a directory"):
        load_strategies(tmp_path / "missing")
