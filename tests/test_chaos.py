"""The chaos comparison: published rows of a faulty run checked key by key against a clean run."""

from pathlib import Path

import orjson
import pandas as pd
import pytest

from indexlake.chaos import ChaosResult, compare_dataset, read_fault_report
from indexlake.lake.partitions import write_partition
from indexlake.lake.schemas import PRICES


def _prices(closes: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [
        {
            "date": pd.Timestamp(d),
            "symbol": s,
            "open": c,
            "high": c,
            "low": c,
            "close": c,
            "volume": 100,
        }
        for (s, d), c in closes.items()
    ]
    return pd.DataFrame(rows)


CLEAN = {
    ("AAA", "2024-01-02"): 10.0,
    ("AAA", "2024-01-03"): 11.0,
    ("BBB", "2024-01-02"): 20.0,
    ("BBB", "2024-01-03"): 21.0,
}


def _lake(root: Path, closes: dict[tuple[str, str], float]) -> Path:
    write_partition(root, PRICES, 2024, _prices(closes))
    return root


def test_identical_lakes_have_no_difference(tmp_path: Path) -> None:
    diff = compare_dataset(_lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", CLEAN), PRICES)
    assert (diff.common_rows, diff.differences, diff.only_clean, diff.only_faulty) == (4, 0, 0, 0)


def test_held_back_rows_are_not_differences(tmp_path: Path) -> None:
    faulty = {k: v for k, v in CLEAN.items() if k != ("BBB", "2024-01-03")}
    diff = compare_dataset(_lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", faulty), PRICES)
    assert (diff.common_rows, diff.differences, diff.only_clean) == (3, 0, 1)


def test_a_published_corrupt_value_is_a_difference(tmp_path: Path) -> None:
    faulty = {**CLEAN, ("AAA", "2024-01-03"): 22.0}  # an unadjusted 2:1 split slipped through
    diff = compare_dataset(_lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", faulty), PRICES)
    assert diff.differences == 1
    assert "AAA" in diff.sample[0] and "22.0" in diff.sample[0]


def test_a_row_only_the_faulty_run_published_counts(tmp_path: Path) -> None:
    faulty = {**CLEAN, ("CCC", "2024-01-02"): 5.0}
    clean_root, faulty_root = _lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", faulty)
    diff = compare_dataset(clean_root, faulty_root, PRICES)
    assert diff.only_faulty == 1
    result = ChaosResult(read_fault_report(tmp_path / "none"), 0, [diff], 0, 0)
    assert result.differences == 1


def test_float_noise_below_tolerance_is_equal(tmp_path: Path) -> None:
    faulty = {k: v * (1 + 1e-15) for k, v in CLEAN.items()}
    diff = compare_dataset(_lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", faulty), PRICES)
    assert diff.differences == 0


def test_missing_dataset_on_both_sides_compares_empty(tmp_path: Path) -> None:
    diff = compare_dataset(tmp_path / "a", tmp_path / "b", PRICES)
    assert (diff.clean_rows, diff.faulty_rows, diff.differences) == (0, 0, 0)


def test_fault_report_lines_are_summed(tmp_path: Path) -> None:
    path = tmp_path / "faults.jsonl"
    records = [
        {"faults": {"injected": {"timeout": 2, "stale": 1}}, "client": {"retries": {"t": 3}}},
        {
            "faults": {"injected": {"timeout": 1}},
            "client": {"retries": {"t": 1}, "symbol_retries": {"x": 2}},
        },
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    tally = read_fault_report(path)
    assert tally.faults == {"timeout": 3, "stale": 1}
    assert (tally.retries, tally.sources) == (6, 2)


def test_last_line_has_the_documented_shape(tmp_path: Path) -> None:
    path = tmp_path / "faults.jsonl"
    path.write_bytes(orjson.dumps({"faults": {"injected": {"timeout": 4}}, "client": {}}))
    diff = compare_dataset(_lake(tmp_path / "a", CLEAN), _lake(tmp_path / "b", CLEAN), PRICES)
    lines = ChaosResult(read_fault_report(path), 3, [diff], 0, 0).lines()
    assert lines[-1] == "chaos: 4 faults, 0 retries, 3 quarantined, 0 differences"


@pytest.mark.parametrize("rate", [0.0, 1.5])
def test_cli_rejects_a_rate_outside_0_1(rate: float) -> None:
    from typer.testing import CliRunner

    from indexlake.cli import app

    result = CliRunner().invoke(app, ["chaos", "--rate", str(rate)])
    assert result.exit_code == 2
    assert "--rate" in result.output


def test_the_schedule_fires_every_kind_but_the_day_limits() -> None:
    from indexlake.chaos import every_kind_schedule
    from indexlake.sources.sandbox.faults import FAULT_KINDS, STOPPING_KINDS

    schedule = every_kind_schedule()
    assert set(schedule) == set(FAULT_KINDS) - STOPPING_KINDS
    assert all(len(v) == 1 and v[0] >= 2 for v in schedule.values())
