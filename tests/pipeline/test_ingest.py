"""Ingest -> land -> validate -> publish with a real file source: bad batches never publish."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from indexlake.lake.partitions import read_partition
from indexlake.lake.schemas import MARKET_CAPS, PRICES
from indexlake.pipeline.ingest import (
    chunk_landed,
    ingest_chunk,
    latest_landed_date,
    publish_batch,
    read_staged,
)
from indexlake.pipeline.validate import validate_batch
from indexlake.sources.files import FileSource
from indexlake.sources.sandbox.market import SandboxMarket

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
START, END = date(2024, 3, 1), date(2024, 3, 28)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    market = SandboxMarket(seed=7, n_symbols=6, as_of=END)
    symbols = market.symbols[:5]
    prices = market.prices([*symbols, "SPX"], START, END)
    caps = market.market_caps(symbols, START, END).assign(source="market_cap")
    prices.to_csv(tmp_path / "prices.csv", index=False)
    caps.to_csv(tmp_path / "market_caps.csv", index=False)
    return tmp_path / "prices.csv", tmp_path / "market_caps.csv", symbols


def _run(data_dir: Path, source: FileSource, symbols: list[str]):
    batches = ingest_chunk(source, data_dir, "run-1", symbols, "SPX", START, END)
    reports = [validate_batch(b, EXPECTATIONS, data_dir / "lake", "run-1") for b in batches]
    return batches, reports


def test_clean_files_land_validate_and_publish(files, tmp_path: Path) -> None:
    prices_csv, caps_csv, symbols = files
    data_dir = tmp_path / "data"
    batches, reports = _run(data_dir, FileSource(prices_csv, caps_csv), symbols)
    assert all(r.success for r in reports)
    assert not chunk_landed(data_dir / "lake", symbols, START, END)
    for b in batches:
        publish_batch(data_dir / "lake", b)
    assert len(read_partition(data_dir / "lake", PRICES, 2024)) == batches[0].rows
    assert len(read_partition(data_dir / "lake", MARKET_CAPS, 2024)) == batches[1].rows
    assert chunk_landed(data_dir / "lake", symbols, START, END)
    assert latest_landed_date(data_dir / "lake") == date(2024, 3, 28)
    assert latest_landed_date(tmp_path / "empty") is None


def test_a_corrupt_batch_fails_validation_names_the_rows_and_is_not_published(
    files, tmp_path: Path
) -> None:
    prices_csv, caps_csv, symbols = files
    text = prices_csv.read_text().splitlines()
    header = text[0].split(",")
    row = text[5].split(",")
    row[header.index("close")] = "-1.0"  # a negative close
    bad_symbol, bad_date = row[header.index("symbol")], row[header.index("date")][:10]
    prices_csv.write_text("\n".join([*text[:5], ",".join(row), *text[6:]]) + "\n")

    data_dir = tmp_path / "data"
    batches, reports = _run(data_dir, FileSource(prices_csv, caps_csv), symbols)
    prices_report = reports[0]
    assert not prices_report.success and reports[1].success
    message = prices_report.failure_message()
    assert "prices" in message and "expect_column_values_to_be_between" in message
    assert bad_symbol in message and bad_date in message

    # The batch stays in staging for inspection; nothing reached the lake's prices.
    assert len(read_staged(batches[0])) == batches[0].rows
    assert read_partition(data_dir / "lake", PRICES, 2024).empty
    con = duckdb.connect()
    failed = con.execute(
        "select expectation, unexpected_count from read_parquet(?) where not success",
        [str(data_dir / "lake" / "dq_results" / "dataset=prices" / "*.parquet")],
    ).fetchall()
    # close > 0 fails, and so does close >= low: both on the one corrupt row.
    assert sorted(failed) == [
        ("expect_column_pair_values_a_to_be_greater_than_b", 1),
        ("expect_column_values_to_be_between", 1),
    ]
