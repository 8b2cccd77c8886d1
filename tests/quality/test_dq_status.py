"""``indexlake dq status`` over real dq_results and quarantine files in tmp_path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from indexlake.cli import app
from indexlake.pipeline.validate import record_results
from indexlake.quality.quarantine import quarantine_rows, resolve_slice
from indexlake.quality.runner import validate_frame

runner = CliRunner()


def _status(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("INDEXLAKE_DATA_DIR", str(data_dir))
    result = runner.invoke(app, ["dq", "status"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def test_dq_status_counts_partitions_failures_and_quarantine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_prices: Callable[..., pd.DataFrame],
    prices_suite: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INDEXLAKE_CONFIG", raising=False)
    lake = tmp_path / "data" / "lake"
    assert _status(tmp_path / "data", monkeypatch)[-1] == (
        "dq: 0 partitions validated, 0 failing, 0 rows quarantined"
    )

    clean = make_prices()
    bad = make_prices()
    bad.loc[[1, 7], "close"] = -1.0  # two rows fail close > 0 (and close >= low)
    for run_id, frame, partition in (("r1", clean, "2024-a"), ("r1", bad, "2024-b")):
        report = validate_frame(frame, prices_suite, dataset="prices", partition=partition)
        record_results(report, lake, run_id, f"run-{run_id}-{partition}.parquet")
        quarantine_rows(report, run_id, lake)

    lines = _status(tmp_path / "data", monkeypatch)
    assert lines[-1] == "dq: 2 partitions validated, 1 failing, 2 rows quarantined"
    failing = next(line for line in lines if "2024-b" in line).split()
    assert failing[:6] == ["prices", "2024-b", "FAILING", "2", "0", "2"]
    passing = next(line for line in lines if "2024-a" in line).split()
    assert passing[:6] == ["prices", "2024-a", "passed", "0", "0", "0"]

    # A later clean validation of the same partition wins, and a clean publish of the slice
    # resolves its quarantine.
    report = validate_frame(clean, prices_suite, dataset="prices", partition="2024-b")
    record_results(report, lake, "r2", "run-r2-2024-b.parquet")
    symbols = sorted(clean["symbol"].unique())
    resolved = resolve_slice(
        lake, "prices", symbols, dt.date(2024, 1, 1), dt.date(2024, 1, 31), "r2"
    )
    assert resolved == 2
    lines = _status(tmp_path / "data", monkeypatch)
    assert lines[-1] == "dq: 2 partitions validated, 0 failing, 0 rows quarantined"
