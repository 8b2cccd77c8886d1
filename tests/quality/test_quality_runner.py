"""Reports, failure messages, broken checks, severities, dq_results rows and suite loading."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from indexlake.lake.schemas import DQ_RESULTS
from indexlake.quality.runner import (
    ValidationFailed,
    ValidationReport,
    load_suite,
    raise_if_failed,
    validate_frame,
)

NOT_NULL_CLOSE = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "close"}}
POSITIVE_CLOSE = {
    "type": "expect_column_values_to_be_between",
    "kwargs": {"column": "close", "min_value": 0, "strict_min": True},
}


def _bad_close_report(prices: pd.DataFrame, prices_suite: Path) -> ValidationReport:
    prices.loc[4, "close"] = -3.0
    return validate_frame(prices, prices_suite, dataset="prices", partition="2024")


def test_failure_message_names_suite_expectation_and_rows(
    prices: pd.DataFrame, prices_suite: Path
) -> None:
    bad = prices.loc[4]
    message = _bad_close_report(prices, prices_suite).failure_message()
    assert "suite 'prices'" in message
    assert "partition 2024" in message
    assert "expect_column_values_to_be_between(close)" in message
    assert f"1 of {len(prices)} rows" in message
    assert bad["symbol"] in message and bad["date"].isoformat() in message
    assert "broken" not in message


def test_validation_failed_carries_reports(prices: pd.DataFrame, prices_suite: Path) -> None:
    report = _bad_close_report(prices, prices_suite)
    with pytest.raises(ValidationFailed) as caught:
        raise_if_failed([report])
    assert caught.value.reports == [report]
    assert str(caught.value) == report.failure_message()
    raise_if_failed([])


def test_missing_column_is_a_broken_check(prices: pd.DataFrame, write_suite) -> None:
    missing = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}}
    path = write_suite([NOT_NULL_CLOSE, missing])
    report = validate_frame(prices, path, dataset="prices", partition="2024")

    assert not report.success
    ok, broken = report.outcomes
    assert ok.success and ok.broken is None
    assert not broken.success
    assert "nope" in broken.broken
    assert broken.unexpected_count == 0
    assert "broken check expect_column_values_to_not_be_null(nope)" in report.failure_message()
    assert "rows unexpected" not in report.failure_message()


def test_broken_warning_still_fails(prices: pd.DataFrame, write_suite) -> None:
    missing = {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "nope"},
        "meta": {"severity": "warning"},
    }
    report = validate_frame(prices, write_suite([missing]), dataset="prices", partition="2024")
    assert not report.success


def test_warning_severity_does_not_fail(prices: pd.DataFrame, write_suite) -> None:
    prices.loc[2, "close"] = -1.0
    warn = {**POSITIVE_CLOSE, "meta": {"severity": "warning"}}
    report = validate_frame(
        prices, write_suite([NOT_NULL_CLOSE, warn]), dataset="prices", partition="2024"
    )

    assert report.success
    outcome = report.outcomes[1]
    assert outcome.severity == "warning" and not outcome.success
    assert outcome.unexpected_count == 1
    assert report.outcomes[0].severity == "critical"


def test_outcomes_follow_suite_order(prices: pd.DataFrame, prices_suite: Path) -> None:
    report = validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    suite = load_suite(prices_suite)
    expected = [e["type"] for e in suite["expectations"]]
    checks = [f"indexlake:{c['name']}" for c in suite["checks"]]
    assert [o.expectation for o in report.outcomes][: len(expected)] == expected
    rest = [o.expectation for o in report.outcomes][len(expected) :]
    # Every named check reports, in suite order (split_jumps also reports its repairs).
    assert [e for e in rest if not e.endswith("_repaired")] == checks


def test_to_frame_matches_dq_results(prices: pd.DataFrame, write_suite) -> None:
    report = _bad_close_report(prices, write_suite([NOT_NULL_CLOSE, POSITIVE_CLOSE]))
    frame = report.to_frame("run-1", dt.datetime(2024, 5, 1, 18, 30))

    assert list(frame.columns) == DQ_RESULTS.columns
    assert "dataset" not in frame.columns
    assert len(frame) == len(report.outcomes)
    table = pa.Table.from_pandas(frame, schema=DQ_RESULTS.schema, preserve_index=False)
    assert table.schema.equals(DQ_RESULTS.schema)
    assert frame["validated_at"].iloc[0] == pd.Timestamp("2024-05-01 18:30", tz="UTC")
    failed = frame[~frame["success"]]
    assert failed[["expectation", "column", "unexpected_count"]].values.tolist() == [
        ["expect_column_values_to_be_between", "close", 1]
    ]
    sample = json.loads(failed["sample"].iloc[0])
    assert sample[0]["close"] == -3.0 and sample[0]["symbol"] == prices.loc[4, "symbol"]
    assert all(json.loads(s) == [] for s in frame.loc[frame["success"], "sample"])


def test_to_frame_of_broken_check_and_no_outcomes(prices: pd.DataFrame, write_suite) -> None:
    missing = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}}
    report = validate_frame(prices, write_suite([missing]), dataset="prices", partition="p")
    at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    row = report.to_frame("r", at).iloc[0]
    assert "nope" in json.loads(row["sample"])[0]["error"]

    empty = ValidationReport(suite="s", dataset="d", partition="p", outcomes=[]).to_frame("r", at)
    assert list(empty.columns) == DQ_RESULTS.columns
    pa.Table.from_pandas(empty, schema=DQ_RESULTS.schema, preserve_index=False)


HIGH_ABOVE_LOW = {
    "type": "expect_column_pair_values_a_to_be_greater_than_b",
    "kwargs": {"column_A": "high", "column_B": "low", "or_equal": True},
}


def test_samples_use_positions_and_iso_dates(prices: pd.DataFrame, write_suite) -> None:
    prices_suite = write_suite([NOT_NULL_CLOSE, HIGH_ABOVE_LOW])
    prices.loc[6, "high"] = 1.0
    shuffled = prices.sample(frac=1.0, random_state=3).set_index("symbol", drop=False)
    shuffled.index.name = None
    shuffled["date"] = pd.to_datetime(shuffled["date"])  # datetime64, as from date_as_object=False
    report = validate_frame(shuffled, prices_suite, dataset="prices", partition="2024")

    (failed,) = [o for o in report.outcomes if not o.success]
    assert failed.column == "high,low"
    assert failed.sample == [
        {
            "date": prices.loc[6, "date"].isoformat(),
            "symbol": prices.loc[6, "symbol"],
            "open": prices.loc[6, "open"],
            "high": 1.0,
            "low": prices.loc[6, "low"],
            "close": prices.loc[6, "close"],
            "volume": int(prices.loc[6, "volume"]),
        }
    ]


def test_sample_is_capped_at_five_rows(prices: pd.DataFrame, write_suite) -> None:
    prices_suite = write_suite([NOT_NULL_CLOSE, POSITIVE_CLOSE])
    prices["close"] = -1.0
    report = validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    (failed,) = [o for o in report.outcomes if not o.success]
    assert failed.unexpected_count == len(prices)
    assert len(failed.sample) == 5


def test_no_gx_noise_on_stderr(
    prices: pd.DataFrame, prices_suite: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    validate_frame(prices.iloc[0:0], prices_suite, dataset="prices", partition="2024")
    validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    out, err = capfd.readouterr()
    assert err == ""
    assert out == ""


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "top level must be an object"),
        ('{"name": "x"}', "'expectations' must be a list"),
        ('{"name": "x", "expectations": [{"kwargs": {}}]}', "expectations[0].type"),
        (
            '{"name": "x", "expectations": [{"type": "expect_x", "meta": {"severity": "loud"}}]}',
            "severity",
        ),
    ],
)
def test_malformed_suite_names_file(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "broken_suite.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"broken_suite\.json") as caught:
        load_suite(path)
    assert complaint in str(caught.value)


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_prices_to_go_up", "kwargs": {}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {}},
    ],
)
def test_invalid_expectation_is_an_error_not_dropped(
    prices: pd.DataFrame,
    write_suite: Callable[..., Path],
    expectation: dict,
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = write_suite([NOT_NULL_CLOSE, expectation], name="typo")
    with pytest.raises(ValueError, match=r"typo\.json: expectations\[1\]"):
        validate_frame(prices, path, dataset="prices", partition="2024")
    assert capfd.readouterr().err == ""


def test_runner_imports_gx_lazily_and_runs_quietly(prices_suite: Path) -> None:
    script = textwrap.dedent(
        f"""
        import datetime as dt, logging, sys
        import pandas as pd
        logging.basicConfig(level=logging.INFO)  # as a pipeline run logs
        import indexlake.quality
        import indexlake.quality.runner as runner
        assert "great_expectations" not in sys.modules, "GX imported at module import"
        frame = pd.DataFrame({{"date": [dt.date(2024, 1, 2)], "symbol": ["A"], "open": [1.0],
                              "high": [1.0], "low": [1.0], "close": [1.0], "volume": [5]}})
        report = runner.validate_frame(frame, {str(prices_suite)!r}, dataset="p", partition="x")
        assert report.success, report.failure_message()
        assert "great_expectations" in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == ""


def test_a_named_check_that_raises_is_a_broken_check(prices: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "suite.json"
    path.write_text(
        json.dumps(
            {
                "name": "custom",
                "expectations": [NOT_NULL_CLOSE],
                "checks": [{"name": "weights_sum_to_one", "kwargs": {"column": "weight"}}],
            }
        )
    )
    report = validate_frame(prices, path, dataset="prices", partition="2024")
    ok, broken = report.outcomes
    assert ok.success
    assert broken.expectation == "indexlake:weights_sum_to_one" and broken.column == "weight"
    assert broken.broken is not None and "weight" in broken.broken
    assert broken.unexpected_count == 0 and not report.success and not report.publishable
    assert "broken check indexlake:weights_sum_to_one(weight)" in report.failure_message()


def test_unknown_named_check_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"name": "s", "expectations": [], "checks": [{"name": "nope"}]}))
    with pytest.raises(ValueError, match=r"suite\.json.*checks\[0\]\.name.*'nope'"):
        load_suite(path)


def test_string_keys_validate_the_same_as_categories(
    market_caps: pd.DataFrame, market_caps_suite: Path
) -> None:
    # GX scans string columns as categories when the suite only compares their values; the
    # outcomes must be those of the strings: null symbol, unknown source, duplicate key.
    market_caps.loc[2, "symbol"] = None
    market_caps.loc[5, "source"] = "guess"
    market_caps.loc[9, "date"] = market_caps.loc[8, "date"]
    report = validate_frame(market_caps, market_caps_suite, dataset="market_caps", partition="p")

    failing = {(o.expectation, o.column): o for o in report.outcomes if not o.success}
    assert set(failing) >= {
        ("expect_column_values_to_not_be_null", "symbol"),
        ("expect_column_values_to_be_in_set", "source"),
        ("expect_compound_columns_to_be_unique", "symbol,date"),
    }
    null_symbol = failing["expect_column_values_to_not_be_null", "symbol"]
    assert null_symbol.rows.tolist() == [2] and null_symbol.sample[0]["symbol"] is None
    bad_source = failing["expect_column_values_to_be_in_set", "source"]
    assert bad_source.rows.tolist() == [5] and bad_source.sample[0]["source"] == "guess"
    assert failing["expect_compound_columns_to_be_unique", "symbol,date"].rows.tolist() == [8, 9]
    assert report.bad_rows().nonzero()[0].tolist() == [2, 5, 8, 9]


def test_a_text_expectation_keeps_its_column_as_strings(prices: pd.DataFrame, write_suite) -> None:
    from indexlake.quality.runner import _fast_frame

    regex = {
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "symbol", "regex": "^SYM[01]$"},
    }
    unique = {
        "type": "expect_compound_columns_to_be_unique",
        "kwargs": {"column_list": ["symbol", "date"]},
    }
    frame = prices.assign(venue="XNYS")
    fast = _fast_frame(frame, [unique, regex])
    assert isinstance(fast["symbol"].dtype, pd.StringDtype)  # named by a text expectation
    assert isinstance(fast["venue"].dtype, pd.CategoricalDtype)  # named by none
    assert isinstance(_fast_frame(frame, [unique])["symbol"].dtype, pd.CategoricalDtype)

    report = validate_frame(
        prices, write_suite([unique, regex]), dataset="prices", partition="2024"
    )
    (failed,) = [o for o in report.outcomes if not o.success]
    assert failed.expectation == "expect_column_values_to_match_regex"
    assert failed.unexpected_count == (prices["symbol"] == "SYM2").sum()


def test_missing_prices_fail_their_pair_expectations_too(
    prices: pd.DataFrame, prices_suite: Path
) -> None:
    # The shipped pairs use ignore_row_if "neither": a row missing both its high and its low
    # fails high >= low as well as not_null, and is the only row held back.
    prices.loc[3, ["high", "low"]] = None
    report = validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    failing = {(o.expectation, o.column) for o in report.outcomes if not o.success}
    assert ("expect_column_values_to_not_be_null", "high") in failing
    assert ("expect_column_pair_values_a_to_be_greater_than_b", "high,low") in failing
    assert report.publishable and report.bad_rows().nonzero()[0].tolist() == [3]
