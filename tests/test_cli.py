"""The command line: clear refusals of bad input before anything starts."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexlake.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_backfill_refuses_end_before_start_without_starting_anything() -> None:
    result = runner.invoke(app, ["backfill", "--start", "2024-02-01", "--end", "2024-01-01"])
    assert result.exit_code == 2
    assert "end (2024-01-01) is before start (2024-02-01)" in result.output


def test_backfill_refuses_a_malformed_date_naming_the_options() -> None:
    result = runner.invoke(app, ["backfill", "--start", "2024-02-31", "--end", "2024-03-01"])
    assert result.exit_code == 2
    assert "--start/--end must be YYYY-MM-DD" in result.output


def test_backfill_refuses_an_unknown_mode() -> None:
    result = runner.invoke(
        app, ["backfill", "--start", "2024-01-02", "--end", "2024-01-03", "--mode", "some"]
    )
    assert result.exit_code == 2
    assert "--mode must be 'missing' or 'all'" in result.output


def test_strategies_lists_the_shipped_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEXLAKE_STRATEGIES_DIR", str(REPO / "strategies"))
    result = runner.invoke(app, ["strategies"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()] == [
        "capped_cap10",
        "equal_weight",
        "inverse_vol",
        "min_variance",
        "top50_cap",
        "top50_cap_tr",
        "ucits_capped",
    ]
