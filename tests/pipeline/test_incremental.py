"""Incremental fetching over the sandbox on loopback: per-symbol daily ranges, backfills that skip
landed years, and the requests the sandbox server counts for each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from indexlake.lake.partitions import read_partition
from indexlake.lake.schemas import PRICES
from indexlake.pipeline.incremental import FetchJob, backfill_jobs, refresh_jobs
from indexlake.pipeline.ingest import ingest_chunk, publish_batch
from indexlake.pipeline.landing_log import covers, intervals, log_path, read_log, record_landed
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient, TwelveDataSource

AS_OF = date(2024, 6, 28)
BENCH = ["SPX"]


@pytest.fixture
def sandbox() -> Iterator[tuple[str, SandboxMarket]]:
    market = SandboxMarket(seed=11, n_symbols=6, as_of=AS_OF)
    with serve_sandbox(market) as url:
        yield url, market


def _served(url: str) -> dict[str, int]:
    return httpx.get(f"{url}/__requests").json()


def _land(url: str, lake: Path, jobs: list[FetchJob]) -> None:
    source = TwelveDataSource(TwelveDataClient(url, "k"))
    try:
        for job in jobs:
            batches = ingest_chunk(source, lake.parent, "t", job.symbols, BENCH, job.start, job.end)
            for batch in batches:
                publish_batch(lake, batch)
    finally:
        source.close()


def test_daily_refresh_resumes_each_symbol_after_its_own_last_landed_day(
    sandbox: tuple[str, SandboxMarket], tmp_path: Path
) -> None:
    url, market = sandbox
    lake = tmp_path / "data" / "lake"
    symbols = market.symbols
    ahead, behind = symbols[:3], symbols[3:]
    _land(url, lake, [FetchJob(symbols, date(2024, 1, 2), date(2024, 5, 31))])
    _land(url, lake, [FetchJob(ahead, date(2024, 6, 1), date(2024, 6, 21))])

    jobs = refresh_jobs(lake, symbols, BENCH, date(2024, 1, 2), AS_OF, chunk_years=5)
    got = {(tuple(sorted(j.symbols)), j.start, j.end) for j in jobs}
    assert got == {
        (tuple(sorted(behind)), date(2024, 6, 1), AS_OF),
        (tuple(sorted(ahead)), date(2024, 6, 22), AS_OF),
    }

    before = _served(url)
    _land(url, lake, jobs)
    after = _served(url)
    # Each symbol asked once for market caps and dividends; one batched series call per job
    # plus its benchmark call.
    assert after["/market_cap"] - before["/market_cap"] == len(symbols)
    assert after["/dividends"] - before["/dividends"] == len(symbols)
    assert after["/time_series"] - before["/time_series"] == 2 * len(jobs)

    landed = read_partition(lake, PRICES, 2024)
    for symbol in symbols:
        expected = market.bars(symbol, date(2024, 1, 2), AS_OF)
        assert (landed["symbol"] == symbol).sum() == len(expected.date)
    # Up to date now: nothing left to fetch, and no request is needed to know it.
    assert refresh_jobs(lake, symbols, BENCH, date(2024, 1, 2), AS_OF, chunk_years=5) == []
    assert _served(url) == after


def test_a_symbol_with_no_rows_past_its_last_date_is_not_asked_again(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    # Landed (e.g. delisted in March): the log says the source was asked through June.
    record_landed(lake, "prices", ["GONE"], date(2024, 1, 2), AS_OF)
    record_landed(lake, "market_caps", ["GONE"], date(2024, 1, 2), AS_OF)
    record_landed(lake, "prices", ["SPX"], date(2024, 1, 2), AS_OF)
    assert refresh_jobs(lake, ["GONE"], BENCH, date(2024, 1, 2), AS_OF, 5) == []
    # A symbol never landed starts at the history start; the benchmark is up to date.
    jobs = refresh_jobs(lake, ["GONE", "NEW"], BENCH, date(2024, 1, 2), AS_OF, 5)
    assert jobs == [FetchJob(["NEW"], date(2024, 1, 2), AS_OF)]


def test_a_lagging_benchmark_gets_its_own_range(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    for dataset in ("prices", "market_caps"):
        record_landed(lake, dataset, ["AAA"], date(2024, 1, 2), AS_OF)
    record_landed(lake, "prices", ["SPX"], date(2024, 1, 2), date(2024, 6, 14))
    jobs = refresh_jobs(lake, ["AAA"], BENCH, date(2024, 1, 2), AS_OF, 5)
    assert jobs == [FetchJob([], date(2024, 6, 15), AS_OF)]


def test_missing_backfill_skips_years_already_landed_and_validated(
    sandbox: tuple[str, SandboxMarket], tmp_path: Path
) -> None:
    url, market = sandbox
    lake = tmp_path / "data" / "lake"
    symbols = market.symbols
    _land(url, lake, backfill_jobs(lake, symbols, date(2022, 1, 1), date(2022, 12, 31), 5, "all"))

    start, end = date(2021, 1, 1), date(2023, 12, 31)
    assert backfill_jobs(lake, symbols, start, end, 5, "all") == [FetchJob(symbols, start, end)]
    jobs = backfill_jobs(lake, symbols, start, end, 5, "missing")
    assert jobs == [
        FetchJob(symbols, date(2021, 1, 1), date(2021, 12, 31)),
        FetchJob(symbols, date(2023, 1, 1), date(2023, 12, 31)),
    ]
    # Consecutive missing years join up to chunk_years.
    assert backfill_jobs(lake, symbols, date(2018, 1, 1), date(2021, 12, 31), 2, "missing") == [
        FetchJob(symbols, date(2018, 1, 1), date(2019, 12, 31)),
        FetchJob(symbols, date(2020, 1, 1), date(2021, 12, 31)),
    ]

    before = _served(url)
    _land(url, lake, jobs)
    after = _served(url)
    assert after["/market_cap"] - before["/market_cap"] == 2 * len(symbols)
    assert backfill_jobs(lake, symbols, start, end, 5, "missing") == []
    # A symbol the landed years do not cover makes them missing again.
    more = [*symbols, "NEWCO"]
    assert backfill_jobs(lake, more, start, end, 5, "missing") == [FetchJob(more, start, end)]


def test_a_lake_without_a_landing_log_falls_back_to_landed_dates(
    sandbox: tuple[str, SandboxMarket], tmp_path: Path
) -> None:
    url, market = sandbox
    lake = tmp_path / "data" / "lake"
    _land(url, lake, [FetchJob(market.symbols, date(2023, 1, 1), date(2023, 12, 31))])
    log_path(lake).unlink()
    assert read_log(lake).empty
    assert backfill_jobs(lake, market.symbols, date(2023, 1, 1), AS_OF, 5, "missing") == [
        FetchJob(market.symbols, date(2024, 1, 1), AS_OF)
    ]
    jobs = refresh_jobs(lake, market.symbols, BENCH, date(2023, 1, 2), AS_OF, 5)
    # The last session of 2023 is Friday the 29th: resume the day after.
    assert [(j.start, j.end) for j in jobs] == [(date(2023, 12, 30), AS_OF)]


def test_landing_log_merges_ranges_across_non_trading_days(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record_landed(lake, "prices", ["A"], date(2024, 6, 3), date(2024, 6, 7))  # Mon..Fri
    record_landed(lake, "prices", ["A"], date(2024, 6, 10), date(2024, 6, 14))  # next week
    record_landed(lake, "prices", ["A"], date(2024, 6, 20), date(2024, 6, 21))  # gap: 17..18
    log = read_log(lake)
    spans = intervals(log, "prices", "A")
    assert spans == [(date(2024, 6, 3), date(2024, 6, 14)), (date(2024, 6, 20), date(2024, 6, 21))]
    assert len(log) == 2  # stored merged
    assert covers(spans, date(2024, 6, 8), date(2024, 6, 12))  # starts on a Saturday
    assert not covers(spans, date(2024, 6, 14), date(2024, 6, 20))
    # Juneteenth (June 19) is no session: 18 is the only missing day.
    record_landed(lake, "prices", ["A"], date(2024, 6, 17), date(2024, 6, 18))
    assert intervals(read_log(lake), "prices", "A") == [(date(2024, 6, 3), date(2024, 6, 21))]


def test_an_unreadable_landing_log_is_named(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    log_path(lake).parent.mkdir(parents=True)
    log_path(lake).write_text("not parquet")
    with pytest.raises(ValueError, match=r"landed\.parquet"):
        read_log(lake)


def test_landing_log_keeps_each_symbol_and_dataset_apart(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record_landed(lake, "prices", ["A", "B"], date(2024, 1, 2), date(2024, 3, 28))
    record_landed(lake, "market_caps", ["A"], date(2024, 1, 2), date(2024, 6, 28))
    record_landed(lake, "prices", ["B"], date(2024, 5, 1), date(2024, 5, 31))  # a gap for B
    record_landed(lake, "prices", ["A", "C", "A"], date(2024, 4, 1), date(2024, 6, 28))
    log = read_log(lake)
    # 2024-03-29 is Good Friday: no session between March 28 and April 1, so A's spans join.
    assert intervals(log, "prices", "A") == [(date(2024, 1, 2), date(2024, 6, 28))]
    assert intervals(log, "prices", "B") == [
        (date(2024, 1, 2), date(2024, 3, 28)),
        (date(2024, 5, 1), date(2024, 5, 31)),
    ]
    assert intervals(log, "prices", "C") == [(date(2024, 4, 1), date(2024, 6, 28))]
    assert intervals(log, "market_caps", "A") == [(date(2024, 1, 2), date(2024, 6, 28))]
    assert intervals(log, "market_caps", "B") == []
    assert len(log) == 5  # stored merged, one row per span
    keys = list(zip(log["dataset"], log["symbol"], log["start"], strict=True))
    assert keys == sorted(keys)
