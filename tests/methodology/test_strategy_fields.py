"""Strategy file fields: metadata, universe, buffer, schedule, return type; errors name fields."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from indexlake.methodology.engine import InsufficientHistoryError, compute_index
from indexlake.methodology.strategy import (
    LandedUniverse,
    StrategyFileError,
    SymbolsUniverse,
    load_strategies,
    load_strategy,
)

from .panels import make_panel, make_strategy

SHIPPED = Path(__file__).resolve().parents[2] / "strategies"

GOOD = """
id = "my_index"
name = "My index"
owner = "research"
visibility = "private"
description = "Ten largest, capped."
selection = { type = "top_n", n = 10, buffer = 2 }
weighting = { type = "capped_market_cap", cap = 0.15 }
rebalance = "quarterly"
rebalance_day = "third_friday"
reference_lag_days = 5
return_type = "total"
base_date = 2021-03-01
universe = { type = "landed", min_listing_days = 252, min_median_dollar_volume = 1e7 }
"""


def write(directory: Path, text: str, name: str = "s.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_shipped_strategies_carry_their_metadata():
    for strategy in load_strategies(SHIPPED):
        text = (SHIPPED / f"{strategy.id}.toml").read_text()
        for key in ("id", "name", "owner", "visibility", "description"):
            assert f"\n{key} = " in f"\n{text}", (strategy.id, key)
        assert strategy.visibility in {"public", "private"}
        assert strategy.owner and strategy.description


def test_every_new_field_loads(tmp_path):
    s = load_strategy(write(tmp_path, GOOD))
    assert (s.owner, s.visibility, s.description) == ("research", "private", "Ten largest, capped.")
    assert s.selection.buffer == 2
    assert (s.rebalance, s.rebalance_day, s.reference_lag_days) == ("quarterly", "third_friday", 5)
    assert (s.return_type, s.base_date) == ("total", date(2021, 3, 1))
    assert s.universe == LandedUniverse(
        type="landed", min_listing_days=252, min_median_dollar_volume=1e7, liquidity_lookback=63
    )


def test_defaults_keep_the_old_behaviour():
    s = make_strategy()
    assert (s.owner, s.visibility) == ("indexlake", "public")
    assert s.universe == LandedUniverse(type="landed")
    assert (s.rebalance_day, s.reference_lag_days, s.return_type, s.base_date) == (
        "first_trading_day",
        1,
        "price",
        None,
    )
    assert s.selection.buffer == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('"private"', '"secret"'), "visibility", "'public' or 'private'"),
        (('owner = "research"', 'owner = ""'), "owner", "at least 1 character"),
        (("buffer = 2", "buffer = 10"), "selection", "buffer 10 must be below n = 10"),
        (("buffer = 2", "buffer = -1"), "selection.buffer", "greater than or equal to 0"),
        (('"third_friday"', '"last_friday"'), "rebalance_day", "'first_trading_day'"),
        (
            ("reference_lag_days = 5", "reference_lag_days = 0"),
            "reference_lag_days",
            "greater than or equal to 1",
        ),
        (('"total"', '"net"'), "return_type", "'price' or 'total'"),
        (("base_date = 2021-03-01", 'base_date = "soon"'), "base_date", "valid date"),
        (
            ("min_listing_days = 252", "min_listing_days = 0"),
            "universe.min_listing_days",
            "greater than or equal to 1",
        ),
        (("1e7 }", "1e7, colour = 1 }"), "universe.colour", "Extra inputs are not permitted"),
        (("", "owners = 'x'\n"), "owners", "Extra inputs are not permitted"),
        (
            (
                '{ type = "landed", min_listing_days = 252, min_median_dollar_volume = 1e7 }',
                '{ type = "symbols", symbols = [] }',
            ),
            "universe.symbols",
            "at least 1 item",
        ),
        (
            (
                '{ type = "landed", min_listing_days = 252, min_median_dollar_volume = 1e7 }',
                '{ type = "symbols", symbols = ["A", "B", "A"] }',
            ),
            "universe.symbols",
            "duplicate symbols: A",
        ),
        (
            (
                '{ type = "landed", min_listing_days = 252, min_median_dollar_volume = 1e7 }',
                '{ type = "symbols", symbols = ["A", "B", "C", "D", "E", "F"] }',
            ),
            "weighting.cap",
            "infeasible for at most 6 names",
        ),
    ],
)
def test_bad_fields_name_the_file_and_the_field(tmp_path, change, field, message):
    old, new = change
    text = GOOD.replace(old, new) if old else GOOD + new
    assert text != GOOD
    path = write(tmp_path, text)
    with pytest.raises(StrategyFileError) as err:
        load_strategy(path)
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"{path}: {field}: "), first
    assert message in first


def test_explicit_universe_loads(tmp_path):
    text = GOOD.replace(
        '{ type = "landed", min_listing_days = 252, min_median_dollar_volume = 1e7 }',
        '{ type = "symbols", symbols = ["S01", "S02", "S03", "S04", "S05", "S06", "S07"] }',
    )
    s = load_strategy(write(tmp_path, text))
    assert isinstance(s.universe, SymbolsUniverse) and len(s.universe.symbols) == 7


BASE_DATE_FILE = """
id = "dated"
name = "Dated"
selection = { type = "top_n", n = 3 }
weighting = { type = "market_cap" }
rebalance = "monthly"
base_date = BASE
"""


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("2021-01-09", "2021-01-09 has no data: not a trading day of the panel"),  # a Saturday
        ("2020-06-01", "2020-06-01 has no data: not a trading day of the panel"),  # before it
        ("2021-01-04", "has no reference date 1 trading day(s) earlier"),  # the first day
    ],
)
def test_base_date_without_data_names_the_file_and_field(tmp_path, base, message):
    path = write(tmp_path, BASE_DATE_FILE.replace("BASE", base))
    closes, caps = make_panel(n_days=80, n_symbols=6)
    with pytest.raises(ValueError) as err:
        compute_index(load_strategy(path), closes, caps)
    assert str(err.value).startswith(f"{path}: base_date: "), str(err.value)
    assert message in str(err.value)


def test_base_date_on_a_day_with_no_usable_data(tmp_path):
    path = write(tmp_path, BASE_DATE_FILE.replace("BASE", "2021-02-01"))
    closes, caps = make_panel(n_days=80, n_symbols=6)
    caps.loc["2021-01-29"] = np.nan  # the reference date of 2021-02-01
    with pytest.raises(ValueError, match=r"s\.toml: base_date: 2021-02-01 has no data"):
        compute_index(load_strategy(path), closes, caps)


def test_base_date_after_the_panel_is_a_skip(tmp_path):
    path = write(tmp_path, BASE_DATE_FILE.replace("BASE", "2030-01-02"))
    closes, caps = make_panel(n_days=80, n_symbols=6)
    with pytest.raises(InsufficientHistoryError, match=r"s\.toml: base_date: 2030-01-02 is after"):
        compute_index(load_strategy(path), closes, caps)


def test_base_date_starts_the_index_there(tmp_path):
    path = write(tmp_path, BASE_DATE_FILE.replace("BASE", "2021-02-10"))
    closes, caps = make_panel(n_days=80, n_symbols=6)
    levels = compute_index(load_strategy(path), closes, caps).levels
    assert levels["date"].iloc[0].date() == date(2021, 2, 10)
    assert levels["level"].iloc[0] == 1000.0
    # Then the monthly schedule: first trading day of March and April.
    rebalances = levels.loc[levels["is_rebalance"], "date"].dt.date.tolist()
    assert rebalances == [date(2021, 2, 10), date(2021, 3, 1), date(2021, 4, 1)]


def test_errors_without_a_file_name_the_strategy():
    strategy = make_strategy(base_date=date(2021, 1, 9))
    closes, caps = make_panel(n_days=80, n_symbols=6)
    with pytest.raises(ValueError, match=r"^strategy test: base_date: "):
        compute_index(strategy, closes, caps)
