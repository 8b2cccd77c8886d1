"""The backfill flow end to end: a real Prefect server, the sandbox over HTTP, real files."""

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.backfill import backfill
from indexlake.lake.partitions import partition_values
from indexlake.lake.schemas import DATASETS
from indexlake.methodology.strategy import StrategyFileError, load_strategies
from indexlake.pipeline.ranges import RangeError
from indexlake.sources.sandbox.market import SandboxMarket

from .conftest import N_SYMBOLS, REPO

# Long enough for every shipped strategy (min_variance needs 252 returns before it starts).
START, END = date(2023, 3, 1), date(2024, 6, 28)
OUTPUTS = ("index_levels", "allocations", "rebalance_orders", "risk_metrics")


def _published(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Every published dataset (bar the logs dq_results and risk_alerts), sorted by its key."""
    con = duckdb.connect(str(data_dir / "indexlake.duckdb"), read_only=True)
    try:
        out = {}
        for name, ds in DATASETS.items():
            if name in ("dq_results", "risk_alerts"):
                continue
            key = ", ".join(f'"{k}"' for k in ds.key)
            out[name] = con.execute(f"select * from {name} order by {key}").df()
        return out
    finally:
        con.close()


def test_backfill_lands_validates_computes_and_publishes(lake_env: Path) -> None:
    state = backfill(start=START, end=END, mode="all", return_state=True)
    assert state.is_completed(), state.message
    run = state.result()

    market = SandboxMarket(seed=42, n_symbols=N_SYMBOLS, as_of=END)
    expected = market.prices([*market.symbols, "SPX"], START, END)
    assert run.rows_landed["prices"] == len(expected)
    assert run.rows_landed["market_caps"] == len(market.market_caps(None, START, END))
    assert run.validation_passed
    ingested = [v for v in run.validations if v.dataset in ("prices", "market_caps")]
    assert len([v for v in ingested if v.partition != "latest"]) == 2  # one chunk x 2 datasets
    assert run.dq_docs is not None and run.dq_docs.exists()

    published = _published(lake_env)
    prices = published["prices"]
    assert len(prices) == len(expected)
    assert sorted(prices["year"].unique()) == [2023, 2024]
    merged = prices.assign(date=pd.to_datetime(prices["date"])).merge(
        expected.assign(date=pd.to_datetime(expected["date"])),
        on=["symbol", "date"],
        suffixes=("", "_x"),
    )
    assert len(merged) == len(expected)
    assert (merged["close"] - merged["close_x"]).abs().max() < 1e-9

    strategies = [s.id for s in load_strategies(REPO / "strategies")]
    for name in OUTPUTS:
        assert partition_values(lake_env / "lake", DATASETS[name]) == sorted(strategies)
    levels = published["index_levels"]
    first = levels.sort_values("date").groupby("strategy_id").first()
    assert (first["level"] == 1000.0).all()
    weights = published["allocations"].groupby(["strategy_id", "date"])["weight"].sum()
    assert (weights - 1).abs().max() < 1e-12

    dq = duckdb.connect(str(lake_env / "indexlake.duckdb"), read_only=True)
    n_ok, n_all = dq.execute(
        "select count(*) filter (where success or severity = 'warning'), count(*) "
        "from dq_results where run_id = ?",
        [run.run_id],
    ).fetchone()
    dq.close()
    assert n_all > 0 and n_ok == n_all

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["indexlake-run-summary"]))
        )
    assert any(run.run_id in (a.description or "") for a in artifacts)

    # Idempotent: refetching and recomputing the same range changes no published value.
    again = backfill(start=START, end=END, mode="all")
    assert again.rows_landed == run.rows_landed
    republished = _published(lake_env)
    for name, frame in published.items():
        pd.testing.assert_frame_equal(frame, republished[name], check_exact=True, obj=name)

    # "missing" finds everything landed and fetches nothing.
    nothing = backfill(start=START, end=END)
    assert nothing.rows_landed == {}


def test_backfill_refuses_a_range_that_ends_before_it_starts(lake_env: Path) -> None:
    with pytest.raises(RangeError, match=r"end .* is before start"):
        backfill(start=date(2024, 2, 1), end=date(2024, 1, 1))
    assert not (lake_env / "lake" / "prices").exists()


def test_backfill_refuses_future_dates(lake_env: Path) -> None:
    with pytest.raises(RangeError, match="in the future"):
        backfill(start=date(2024, 1, 2), end=date(2099, 1, 1))


def test_backfill_names_a_bad_strategy_file(
    lake_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "strategies"
    bad.mkdir()
    (bad / "broken.toml").write_text(
        'id = "broken"\nname = "Broken"\nrebalance = "monthly"\n'
        'selection = { type = "all" }\nweighting = { type = "capped_market_cap", cap = 1.5 }\n'
    )
    monkeypatch.setenv("INDEXLAKE_STRATEGIES_DIR", str(bad))
    with pytest.raises(StrategyFileError, match=r"broken\.toml.*weighting"):
        backfill(start=START, end=END)


def test_backfill_falls_back_to_an_etf_when_the_index_is_refused(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_SANDBOX__INDEX_ACCESS", "false")  # the plan lacks SPX
    run = backfill(start=date(2024, 1, 2), end=date(2024, 6, 28), mode="all")
    assert run.benchmark == "SPY"
    con = duckdb.connect(str(lake_env / "indexlake.duckdb"), read_only=True)
    try:
        landed = {r[0] for r in con.execute("select distinct symbol from prices").fetchall()}
        used = con.execute(
            "select distinct symbol from risk_metrics where subject = 'benchmark'"
        ).fetchall()
    finally:
        con.close()
    assert "SPY" in landed and "SPX" not in landed
    assert used == [("SPY",)]
    assert run.strategies["benchmark_return_1y"].isna().all()  # half a year: no 1y figure
