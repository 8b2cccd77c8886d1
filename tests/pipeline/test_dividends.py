"""Dividends through the pipeline: staged, validated by expectations/dividends.json, published
into yearly partitions and read back into the panel on the closes' grid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from indexlake.lake.partitions import read_partition
from indexlake.lake.schemas import DIVIDENDS
from indexlake.pipeline.compute import load_panel
from indexlake.pipeline.ingest import ingest_chunk, publish_batch, read_staged
from indexlake.pipeline.validate import suite_path, validate_batch
from indexlake.quality.runner import validate_frame
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient, TwelveDataSource

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
AS_OF = date(2024, 12, 31)
START, END = date(2022, 1, 1), AS_OF


@pytest.fixture(scope="module")
def market() -> SandboxMarket:
    return SandboxMarket(seed=5, n_symbols=12, as_of=AS_OF)


@pytest.fixture(scope="module")
def source(market: SandboxMarket) -> Iterator[TwelveDataSource]:
    with serve_sandbox(market) as url:
        src = TwelveDataSource(TwelveDataClient(url, "k"))
        yield src
        src.close()


def test_dividends_land_validate_publish_and_reach_the_panel(
    market: SandboxMarket, source: TwelveDataSource, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    batches = ingest_chunk(source, tmp_path, "r", market.symbols, "SPX", START, END)
    assert [b.dataset for b in batches] == ["prices", "market_caps", "dividends"]
    for batch in batches:
        report = validate_batch(batch, EXPECTATIONS, lake, "r")
        assert report.success, report.failure_message()
        publish_batch(lake, batch)

    expected = {
        (s, d.item()): a
        for s in market.symbols
        for d, a in zip(*market.dividends(s, START, END), strict=True)
    }
    assert expected, "the fixture market should pay dividends"
    landed = read_partition(lake, DIVIDENDS, 2023)
    in_2023 = {k: v for k, v in expected.items() if k[1].year == 2023}
    got = {(r.symbol, r.date.date()): r.amount for r in landed.itertuples()}
    assert got == in_2023

    panel = load_panel(lake, market.symbols, ["SPX"])
    assert panel.dividends is not None
    assert panel.dividends.index.equals(panel.closes.index)
    assert list(panel.dividends.columns) == list(panel.closes.columns)
    paid = panel.dividends.stack().dropna()
    assert {(s, d.date()): v for (d, s), v in paid.items()} == expected
    assert np.isnan(panel.dividends.to_numpy()).sum() == panel.dividends.size - len(expected)


def test_a_refetch_replaces_the_slice_and_keeps_other_symbols(
    market: SandboxMarket, source: TwelveDataSource, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    for batch in ingest_chunk(source, tmp_path, "a", market.symbols, "SPX", START, END):
        publish_batch(lake, batch)
    before = read_partition(lake, DIVIDENDS, 2024)
    some = market.symbols[:4]
    for batch in ingest_chunk(source, tmp_path, "b", some, "SPX", START, END):
        publish_batch(lake, batch)
    after = read_partition(lake, DIVIDENDS, 2024)
    key = ["symbol", "date"]
    assert (
        after.sort_values(key)
        .reset_index(drop=True)
        .equals(before.sort_values(key).reset_index(drop=True))
    )


def test_the_suite_rejects_non_positive_amounts_and_repeated_keys(
    market: SandboxMarket, source: TwelveDataSource, tmp_path: Path
) -> None:
    batches = ingest_chunk(source, tmp_path, "c", market.symbols, "SPX", START, END)
    frame = read_staged(batches[2])
    suite = suite_path(EXPECTATIONS, "dividends")
    bad = frame.copy()
    bad.loc[bad.index[0], "amount"] = 0.0
    report = validate_frame(bad, suite, dataset="dividends", partition="t")
    failed = {(o.expectation, o.column) for o in report.outcomes if not o.success}
    assert failed == {("expect_column_values_to_be_between", "amount")}
    dup = frame.iloc[[0, 0, 1]].reset_index(drop=True)
    report = validate_frame(dup, suite, dataset="dividends", partition="t")
    failed = {o.expectation for o in report.outcomes if not o.success}
    assert failed == {"expect_compound_columns_to_be_unique"}
    # A range in which nobody paid is a valid, empty batch.
    assert validate_frame(frame.iloc[:0], suite, dataset="dividends", partition="t").success
