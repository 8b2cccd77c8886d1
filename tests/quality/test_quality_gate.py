"""The quality gate end to end on the sandbox market over loopback HTTP and real lake files.

Each test lands a clean year, then re-lands it with the staged batch corrupted in one way (the
staged Parquet file is rewritten between ingest and validation, exactly where a vendor's bad
rows would sit), then re-lands it clean again, and checks: the failing suite/expectation and
rows are reported and recorded in ``dq_results``; the quarantine holds exactly the corrupted
rows; the published prices and the index levels computed from them equal the clean ones; the
clean re-run resolves the quarantine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indexlake.config import SandboxSettings, Settings
from indexlake.lake.partitions import read_partition, to_table, write_file_atomic
from indexlake.lake.query import dataset_scan
from indexlake.lake.schemas import DATASETS, DQ_RESULTS, PRICES
from indexlake.methodology.strategy import load_strategies
from indexlake.pipeline import compute, ingest, validate
from indexlake.quality.quarantine import read_quarantine
from indexlake.quality.runner import ValidationReport
from indexlake.sources.factory import open_source, universe

REPO = Path(__file__).resolve().parents[2]
START, END = date(2023, 1, 3), date(2023, 12, 29)
BENCHMARK = "SPX"
VICTIM_DAY = pd.Timestamp("2023-06-14")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INDEXLAKE_CONFIG", raising=False)
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations)
    return Settings(
        data_dir=tmp_path / "data",
        strategies_dir=REPO / "strategies",
        expectations_dir=expectations,
        sandbox=SandboxSettings(n_symbols=8),
    )


@dataclass
class Landing:
    reports: dict[str, ValidationReport]
    published: dict[str, bool]
    levels: pd.DataFrame | None


Corruption = Callable[[pd.DataFrame], pd.DataFrame]


def _land(settings: Settings, run_id: str, corrupt: dict[str, Corruption] | None = None) -> Landing:
    """One run of the pipeline's land -> validate -> quarantine -> publish -> compute steps."""
    lake = settings.lake_root
    members = universe(settings, as_of=END)
    with open_source(settings, as_of=END) as source:
        batches = ingest.ingest_chunk(
            source, settings.data_dir, run_id, members, [BENCHMARK], START, END
        )
    reports, published = {}, {}
    for batch in batches:
        if corrupt and batch.dataset in corrupt:
            frame = corrupt[batch.dataset](ingest.read_staged(batch))
            write_file_atomic(to_table(frame, DATASETS[batch.dataset]), batch.path)
        report = validate.validate_batch(batch, settings.expectations_dir, lake, run_id)
        reports[batch.dataset] = report
        clean = validate.publishable_batch(batch, report)
        published[batch.dataset] = clean is not None
        if clean is not None:
            ingest.publish_batch(lake, clean)
            validate.resolve_quarantine(lake, clean, run_id)
    levels = None
    if all(published.values()):
        (strategy,) = load_strategies(settings.strategies_dir, ["equal_weight"])
        panel = compute.load_panel(lake, members, [BENCHMARK])
        outputs = compute.compute_strategy(strategy, panel, [])
        gate = validate.OutputGate(settings.expectations_dir, lake, run_id)
        assert all(r.success for r in gate.check_outputs(outputs)), [
            r.failure_message() for r in gate.failures
        ]
        levels = outputs.levels
    return Landing(reports, published, levels)


def _prices(settings: Settings) -> pd.DataFrame:
    frames = [read_partition(settings.lake_root, PRICES, 2023)]
    return frames[0].sort_values(["symbol", "date"]).reset_index(drop=True)


def _victim(frame: pd.DataFrame) -> pd.Series:
    symbol = sorted(s for s in frame["symbol"].unique() if s != BENCHMARK)[1]
    return (frame["symbol"] == symbol) & (frame["date"] == VICTIM_DAY)


def _set(column: str, value: object) -> Corruption:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[_victim(frame), column] = value
        return frame

    return corrupt


def _high_below_low(frame: pd.DataFrame) -> pd.DataFrame:
    at = _victim(frame)
    frame.loc[at, "high"] = frame.loc[at, "low"] * 0.9
    return frame


def _duplicate(frame: pd.DataFrame) -> pd.DataFrame:
    copy = frame.loc[_victim(frame)].assign(close=lambda f: f["close"] * 1.01)
    return pd.concat([frame, copy], ignore_index=True)


def _holiday_row(frame: pd.DataFrame) -> pd.DataFrame:
    row = frame.loc[_victim(frame)].assign(date=pd.Timestamp("2023-07-04"))
    return pd.concat([frame, row], ignore_index=True)


def _unadjusted_split(frame: pd.DataFrame) -> pd.DataFrame:
    victim = _victim(frame)
    symbol = frame.loc[victim, "symbol"].iloc[0]
    before = (frame["symbol"] == symbol) & (frame["date"] < VICTIM_DAY)
    frame.loc[before, ["open", "high", "low", "close"]] *= 2.0
    return frame


def _unadjusted_split_rows(frame: pd.DataFrame) -> pd.Series:
    symbol = frame.loc[_victim(frame), "symbol"].iloc[0]
    return (frame["symbol"] == symbol) & (frame["date"] < VICTIM_DAY)


PRICE_CORRUPTIONS = {
    "negative close": (_set("close", -4.0), "expect_column_values_to_be_between", 1),
    "null open": (_set("open", np.nan), "expect_column_values_to_not_be_null", 1),
    "high below low": (_high_below_low, "expect_column_pair_values_a_to_be_greater_than_b", 1),
    "duplicate key": (_duplicate, "expect_compound_columns_to_be_unique", 2),
    "holiday row": (_holiday_row, "indexlake:trading_days", 1),
    "unadjusted split": (_unadjusted_split, "indexlake:split_jumps", None),
}


def _dq_results(settings: Settings, run_id: str) -> pd.DataFrame:
    import duckdb

    scan = dataset_scan(settings.lake_root, DQ_RESULTS)
    return duckdb.sql(f"select * from {scan} where run_id = '{run_id}'").df()


@pytest.mark.parametrize("case", list(PRICE_CORRUPTIONS))
def test_corrupt_prices_are_quarantined_and_cleared(case: str, settings: Settings) -> None:
    corrupt, expectation, count = PRICE_CORRUPTIONS[case]
    clean = _land(settings, "r1")
    assert all(r.success for r in clean.reports.values())
    clean_prices = _prices(settings)
    expected_bad = None

    def corrupt_and_remember(frame: pd.DataFrame) -> pd.DataFrame:
        nonlocal expected_bad
        before = len(frame)
        rows = _unadjusted_split_rows(frame) if case == "unadjusted split" else _victim(frame)
        out = corrupt(frame)
        grown = out.iloc[before:]  # rows the corruption appended (a duplicate, a holiday)
        if case == "duplicate key":
            expected_bad = pd.concat([out.loc[rows.reindex(out.index, fill_value=False)], grown])
        elif case == "holiday row":
            expected_bad = grown
        else:
            expected_bad = out.loc[rows.reindex(out.index, fill_value=False)]
        return out

    bad = _land(settings, "r2", {"prices": corrupt_and_remember})
    report = bad.reports["prices"]

    # The run reports the failing suite, expectation and rows.
    assert not report.success and report.publishable
    message = report.failure_message()
    assert "suite 'prices'" in message and expectation in message
    failing = [o for o in report.outcomes if o.fails_batch]
    assert expectation in {o.expectation for o in failing}
    outcome = next(o for o in failing if o.expectation == expectation)
    assert outcome.unexpected_count == (count or len(expected_bad))
    victim_symbol = expected_bad["symbol"].iloc[0]
    assert outcome.sample and outcome.sample[0]["symbol"] == victim_symbol
    results = _dq_results(settings, "r2")
    row = results[(results["expectation"] == expectation) & ~results["success"]]
    assert len(row) >= 1 and set(row["severity"]) == {"critical"}

    # The quarantine holds exactly the corrupted rows.
    quarantine = read_quarantine(settings.lake_root, "prices")
    held = quarantine[quarantine["resolved_at"].isna()]
    assert len(held) == len(expected_bad) == report.quarantined
    held_rows = pd.DataFrame([json.loads(r) for r in held["row"]])
    expected_keys = sorted(
        zip(expected_bad["symbol"], expected_bad["date"].dt.strftime("%Y-%m-%d"), strict=True)
    )
    assert sorted(zip(held_rows["symbol"], held_rows["date"], strict=True)) == expected_keys
    np.testing.assert_allclose(
        np.sort(held_rows["close"].astype(float)),
        np.sort(expected_bad["close"].astype(float)),
    )
    assert set(held["run_id"]) == {"r2"} and set(held["suite"]) == {"prices"}
    assert all(expectation in e for e in held["expectation"])

    # No corrupted value is published: prices and index levels equal the clean run's.
    pd.testing.assert_frame_equal(_prices(settings), clean_prices)
    pd.testing.assert_frame_equal(bad.levels, clean.levels)

    # The next clean run publishes and clears the quarantine.
    fixed = _land(settings, "r3")
    assert all(r.success for r in fixed.reports.values())
    after = read_quarantine(settings.lake_root, "prices")
    assert len(after) == len(quarantine)  # nothing deleted: resolved rows stay as a record
    assert after["resolved_at"].notna().all()
    assert set(after["resolved_run_id"]) == {"r3"}
    pd.testing.assert_frame_equal(fixed.levels, clean.levels)


def test_zero_market_cap_is_quarantined(settings: Settings) -> None:
    clean = _land(settings, "r1")
    bad = _land(settings, "r2", {"market_caps": _set("market_cap", 0.0)})
    report = bad.reports["market_caps"]
    assert not report.success and bad.published["market_caps"]
    held = read_quarantine(settings.lake_root, "market_caps")
    assert len(held) == 1
    assert json.loads(held["row"].iloc[0])["market_cap"] == 0.0
    assert "expect_column_values_to_be_between(market_cap)" in held["reason"].iloc[0]
    pd.testing.assert_frame_equal(bad.levels, clean.levels)
    _land(settings, "r3")
    assert read_quarantine(settings.lake_root, "market_caps")["resolved_at"].notna().all()


def test_known_split_is_repaired_before_publishing(settings: Settings) -> None:
    clean = _land(settings, "r1")
    clean_prices = _prices(settings)
    symbol = clean_prices.loc[_victim(clean_prices), "symbol"].iloc[0]
    splits = {"splits": [{"symbol": symbol, "date": VICTIM_DAY.date().isoformat(), "ratio": 2}]}
    (settings.expectations_dir / "known_splits.json").write_text(json.dumps(splits))

    bad = _land(settings, "r2", {"prices": _unadjusted_split})
    report = bad.reports["prices"]
    assert report.success
    repaired = next(o for o in report.outcomes if o.expectation == "indexlake:split_jumps_repaired")
    assert not repaired.success and repaired.severity == "warning"
    assert repaired.unexpected_count == int(_unadjusted_split_rows(clean_prices).sum())
    assert read_quarantine(settings.lake_root, "prices").empty
    published = _prices(settings)
    cols = ["open", "high", "low", "close"]
    np.testing.assert_allclose(published[cols], clean_prices[cols], rtol=1e-12)
    pd.testing.assert_frame_equal(bad.levels, clean.levels, rtol=1e-9)


def test_batch_without_partial_publishing_waits_in_staging(settings: Settings) -> None:
    suite_file = settings.expectations_dir / "prices.json"
    suite = json.loads(suite_file.read_text())
    suite["meta"]["partial_publish"] = False
    suite_file.write_text(json.dumps(suite))
    bad = _land(settings, "r1", {"prices": _set("close", -4.0)})
    assert not bad.published["prices"] and bad.levels is None
    assert read_partition(settings.lake_root, PRICES, 2023).empty
    assert len(read_quarantine(settings.lake_root, "prices")) == 1


def test_outlier_is_flagged_but_published(settings: Settings) -> None:
    _land(settings, "r1")

    def spike(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[_victim(frame), ["high", "close"]] *= 1.6
        return frame

    bad = _land(settings, "r2", {"prices": spike})
    report = bad.reports["prices"]
    assert report.success
    outlier = next(o for o in report.outcomes if o.expectation == "indexlake:return_outliers")
    assert not outlier.success and outlier.severity == "warning"
    assert {
        "symbol": _prices(settings).loc[_victim(_prices(settings)), "symbol"].iloc[0]
    }.items() <= outlier.sample[0].items()
    assert read_quarantine(settings.lake_root, "prices").empty
    spiked = _prices(settings).loc[_victim(_prices(settings)), "close"].iloc[0]
    assert spiked > 0  # published as delivered: a warning never drops data
