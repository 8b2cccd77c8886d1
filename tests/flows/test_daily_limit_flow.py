"""A backfill that runs out of the vendor's daily credits stops cleanly and can be resumed."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from flows.backfill import backfill
from indexlake.lake.partitions import partition_values
from indexlake.lake.schemas import INDEX_LEVELS, PRICES

# Two one-year chunks; the sandbox answers a request of the second with the 429-day body.
START, END = date(2022, 1, 3), date(2023, 12, 29)
STRATEGY = ["equal_weight"]


def _requests_for_first_year(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Requests the sandbox serves for the first year's chunk (from a fault report)."""
    report = data_dir.parent / "faults.jsonl"
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULT_REPORT", str(report))
    backfill(start=START, end=date(2022, 12, 30), mode="all", strategies=STRATEGY)
    monkeypatch.delenv("INDEXLAKE_SANDBOX__FAULT_REPORT")
    shutil.rmtree(data_dir)
    return int(json.loads(report.read_text().splitlines()[-1])["requests"])


def test_daily_limit_keeps_what_landed_and_says_when_to_resume(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_CHUNK_YEARS", "1")
    monkeypatch.setenv("INDEXLAKE_SANDBOX__N_SYMBOLS", "10")
    first_year = _requests_for_first_year(lake_env, monkeypatch)
    schedule = {"day_limit": [first_year + 2]}
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULT_SCHEDULE", json.dumps(schedule))

    run = backfill(start=START, end=END, mode="all", strategies=STRATEGY)

    assert run.stopped and "resume after" in run.stopped
    assert run.rows_landed.get("prices", 0) > 0  # the first year landed and stays
    assert partition_values(lake_env / "lake", PRICES) == ["2022"]
    assert partition_values(lake_env / "lake", INDEX_LEVELS) == []  # nothing recomputed

    # The next run (credits back) in "missing" mode lands the second year and computes.
    monkeypatch.delenv("INDEXLAKE_SANDBOX__FAULT_SCHEDULE")
    resumed = backfill(start=START, end=END, mode="missing", strategies=STRATEGY)
    assert resumed.stopped is None
    assert partition_values(lake_env / "lake", PRICES) == ["2022", "2023"]
    assert partition_values(lake_env / "lake", INDEX_LEVELS) == ["equal_weight"]
