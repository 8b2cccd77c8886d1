"""The backfill flow with the sandbox serving corrupt rows (its data faults), then clean ones."""

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from flows.backfill import backfill
from indexlake.quality.quarantine import read_quarantine
from indexlake.quality.runner import ValidationFailed
from indexlake.sources.sandbox.market import SandboxMarket

from .conftest import N_SYMBOLS, REPO

START, END = date(2023, 3, 1), date(2024, 6, 28)
# Symbol answers (1-based) the sandbox corrupts: a negative or zero close, prices before a date
# left unadjusted for a 2:1 split, a date repeated with different values.
SCHEDULE = {"nonpositive_price": [3], "unadjusted_split": [7], "duplicate_conflict": [11]}


def _read(data_dir: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(data_dir / "indexlake.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(date=pd.to_datetime(frame["date"])).set_index(["symbol", "date"])


def test_corrupt_rows_are_quarantined_and_cleared_by_a_clean_run(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULT_SCHEDULE", json.dumps(SCHEDULE))
    run = backfill(start=START, end=END, mode="all")

    # The run reports the failing suite and how many rows it held back, and goes on.
    failing = [v for v in run.validations if not v.success]
    assert [(v.dataset, v.partition) for v in failing] == [("prices", f"{START}..{END}")]
    assert failing[0].quarantined > 0
    results = _read(
        lake_env,
        f"select expectation, unexpected_count from dq_results "
        f"where run_id = '{run.run_id}' and not success and severity = 'critical'",
    )
    assert {
        "expect_column_values_to_be_between",
        "expect_compound_columns_to_be_unique",
        "indexlake:split_jumps",
    } <= set(results["expectation"])

    market = SandboxMarket(seed=42, n_symbols=N_SYMBOLS, as_of=END)
    clean = _keyed(market.prices([*market.symbols, "SPX"], START, END))
    published = _keyed(_read(lake_env, "select * from prices"))
    held = read_quarantine(lake_env / "lake", "prices")
    assert held["resolved_at"].isna().all() and len(held) == failing[0].quarantined
    rows = _keyed(pd.DataFrame([json.loads(r) for r in held["row"]]))

    # Every published row is the clean value; every clean key is published or held.
    assert published.index.is_unique
    assert set(published.index) | set(rows.index) == set(clean.index)
    np.testing.assert_allclose(published["close"], clean.loc[published.index, "close"], rtol=1e-9)
    # Exactly the bad rows are held: a close <= 0, a close about twice the adjusted one
    # (unadjusted split), or both rows of a repeated key.
    ratio = rows["close"].to_numpy() / clean.loc[rows.index, "close"].to_numpy()
    repeated = rows.index.duplicated(keep=False)
    bad = (rows["close"].to_numpy() <= 0) | (np.abs(ratio - 2) < 1e-3) | repeated
    assert bad.all()
    assert repeated.sum() == 2 and (rows["close"] <= 0).sum() == 1

    # No corrupt value reached the strategies: every close they used is the clean one.
    used = _keyed(_read(lake_env, "select date, symbol, close from allocations"))
    np.testing.assert_allclose(used["close"], clean.loc[used.index, "close"], rtol=1e-9)

    # The vendor fixed its data: the next run publishes those rows and resolves the quarantine.
    monkeypatch.delenv("INDEXLAKE_SANDBOX__FAULT_SCHEDULE")
    fixed = backfill(start=START, end=END, mode="all")
    assert all(v.success for v in fixed.validations)
    after = read_quarantine(lake_env / "lake", "prices")
    assert len(after) == len(held)
    assert after["resolved_at"].notna().all()
    assert set(after["resolved_run_id"]) == {fixed.run_id}
    published = _keyed(_read(lake_env, "select * from prices"))
    assert set(published.index) == set(clean.index)


def test_outputs_failing_their_suite_are_not_published(
    lake_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stricter index_levels suite than the shipped one: levels must stay below 500 (they
    # start at 1000), so every strategy's outputs fail a critical expectation.
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations)
    suite = json.loads((expectations / "index_levels.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "level", "max_value": 500},
            "meta": {"severity": "critical"},
        }
    )
    (expectations / "index_levels.json").write_text(json.dumps(suite))
    monkeypatch.setenv("INDEXLAKE_EXPECTATIONS_DIR", str(expectations))

    with pytest.raises(ValidationFailed) as caught:
        backfill(start=START, end=END, strategies=["equal_weight"], mode="all")
    message = str(caught.value)
    assert "suite 'index_levels' on index_levels partition equal_weight" in message
    assert "expect_column_values_to_be_between(level)" in message

    # The inputs published; the strategy's outputs did not; the results say why.
    assert _read(lake_env, "select count(*) as n from prices")["n"].iloc[0] > 0
    assert _read(lake_env, "select count(*) as n from index_levels")["n"].iloc[0] == 0
    assert _read(lake_env, "select count(*) as n from allocations")["n"].iloc[0] == 0
    failed = _read(
        lake_env,
        "select dataset, partition, expectation from dq_results "
        "where not success and severity = 'critical'",
    )
    assert failed.values.tolist() == [
        ["index_levels", "equal_weight", "expect_column_values_to_be_between"]
    ]
