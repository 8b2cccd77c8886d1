"""The repo's prices and market_caps suites pass clean data and catch each kind of corruption."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from indexlake.quality.runner import ExpectationOutcome, load_suite, validate_frame

BAD_SYMBOL = "SYM1"
BAD_ROW = 7  # SYM1 on the third day


def _failed(report) -> list[ExpectationOutcome]:
    return [o for o in report.outcomes if not o.success]


@pytest.mark.parametrize("suite_fixture", ["prices_suite", "market_caps_suite"])
def test_suite_files_load_into_gx(suite_fixture: str, request: pytest.FixtureRequest) -> None:
    import great_expectations as gx

    suite_path = request.getfixturevalue(suite_fixture)
    suite_json = load_suite(suite_path)
    gx_fields = {k: v for k, v in suite_json.items() if k != "checks"}
    suite = gx.ExpectationSuite(**gx_fields)
    assert suite.name == suite_path.stem
    assert len(suite.expectations) == len(suite_json["expectations"])
    assert all(e.meta.get("severity") == "critical" for e in suite.expectations)


def test_clean_prices_pass(prices: pd.DataFrame, prices_suite: Path) -> None:
    report = validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    assert report.success, report.failure_message()
    assert report.suite == "prices"
    suite = json.loads(prices_suite.read_text())
    # GX expectations, named checks, and the repairs split_jumps reports.
    assert len(report.outcomes) == len(suite["expectations"]) + len(suite["checks"]) + 1
    assert all(o.broken is None and o.unexpected_count == 0 for o in report.outcomes)


def test_clean_market_caps_pass(market_caps: pd.DataFrame, market_caps_suite: Path) -> None:
    report = validate_frame(market_caps, market_caps_suite, dataset="market_caps", partition="2024")
    assert report.success, report.failure_message()


def test_null_volume_is_allowed(prices: pd.DataFrame, prices_suite: Path) -> None:
    prices["volume"] = prices["volume"].astype("Int64")
    prices.loc[BAD_ROW, "volume"] = pd.NA
    report = validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    assert report.success, report.failure_message()


def _set(column: str, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[BAD_ROW, column] = value
        return frame

    return corrupt


def _high_below_low(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[BAD_ROW, ["high", "low"]] = [10.0, 11.0]
    frame.loc[BAD_ROW, ["open", "close"]] = [10.5, 10.5]
    return frame


def _duplicate(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[[BAD_ROW]]], ignore_index=True)


PRICE_CORRUPTIONS = {
    "null close": (_set("close", None), "expect_column_values_to_not_be_null", "close", 1),
    "null date": (_set("date", None), "expect_column_values_to_not_be_null", "date", 1),
    "zero open": (_set("open", 0.0), "expect_column_values_to_be_between", "open", 1),
    "negative close": (_set("close", -1.0), "expect_column_values_to_be_between", "close", 1),
    "high below low": (
        _high_below_low,
        "expect_column_pair_values_a_to_be_greater_than_b",
        "high,low",
        1,
    ),
    "duplicate key": (_duplicate, "expect_compound_columns_to_be_unique", "symbol,date", 2),
    "negative volume": (_set("volume", -5), "expect_column_values_to_be_between", "volume", 1),
}


@pytest.mark.parametrize("case", list(PRICE_CORRUPTIONS))
def test_price_corruption_fails_the_right_expectation(
    case: str, make_prices: Callable[..., pd.DataFrame], prices_suite: Path
) -> None:
    corrupt, expectation, column, count = PRICE_CORRUPTIONS[case]
    frame = make_prices()
    bad_date = frame.loc[BAD_ROW, "date"]
    frame = corrupt(frame)

    report = validate_frame(frame, prices_suite, dataset="prices", partition="2024")

    assert not report.success
    failed = {(o.expectation, o.column): o for o in _failed(report)}
    assert (expectation, column) in failed
    # Other rules the corrupt row also breaks (e.g. close >= low for a negative close) may
    # fail too, but only on that row.
    for other in failed.values():
        assert other.severity == "critical" and other.broken is None
        assert {"symbol": BAD_SYMBOL}.items() <= other.sample[0].items()
    outcome = failed[(expectation, column)]
    assert outcome.broken is None
    assert outcome.unexpected_count == count
    assert outcome.element_count == len(frame)
    assert {"symbol": BAD_SYMBOL}.items() <= outcome.sample[0].items()
    if case != "null date":
        assert outcome.sample[0]["date"] == bad_date.isoformat()
    json.dumps(outcome.sample)


def test_empty_prices_fail_row_count(
    make_prices: Callable[..., pd.DataFrame], prices_suite: Path
) -> None:
    frame = make_prices().iloc[0:0]
    report = validate_frame(frame, prices_suite, dataset="prices", partition="2024")
    assert not report.success
    failed = _failed(report)
    assert [o.expectation for o in failed] == ["expect_table_row_count_to_be_between"]
    assert failed[0].element_count == 0
    assert failed[0].observed_value == 0
    assert failed[0].column is None


MARKET_CAP_CORRUPTIONS = {
    "bad source": (_set("source", "guess"), "expect_column_values_to_be_in_set", "source", 1),
    "zero cap": (_set("market_cap", 0.0), "expect_column_values_to_be_between", "market_cap", 1),
    "null cap": (_set("market_cap", None), "expect_column_values_to_not_be_null", "market_cap", 1),
    "duplicate key": (_duplicate, "expect_compound_columns_to_be_unique", "symbol,date", 2),
}


@pytest.mark.parametrize("case", list(MARKET_CAP_CORRUPTIONS))
def test_market_cap_corruption_fails_the_right_expectation(
    case: str, make_market_caps: Callable[..., pd.DataFrame], market_caps_suite: Path
) -> None:
    corrupt, expectation, column, count = MARKET_CAP_CORRUPTIONS[case]
    frame = corrupt(make_market_caps())

    report = validate_frame(frame, market_caps_suite, dataset="market_caps", partition="2024")

    failed = _failed(report)
    assert [(o.expectation, o.column) for o in failed] == [(expectation, column)]
    assert failed[0].unexpected_count == count
    assert failed[0].sample[0]["symbol"] == BAD_SYMBOL
