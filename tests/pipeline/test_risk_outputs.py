"""Risk outputs published as real Parquet: rolling series, stress tests, comparison, alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from indexlake.config import Settings
from indexlake.lake.catalog import build_catalog
from indexlake.lake.partitions import partition_file, read_partition
from indexlake.lake.schemas import (
    RISK_ALERTS,
    RISK_METRICS,
    ROLLING_SERIES,
    STRATEGY_COMPARISON,
    STRESS_TESTS,
)
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.compute import Panel, compute_strategy, publish_outputs
from indexlake.pipeline.risk_outputs import publish_alerts, publish_comparison, published_alerts
from indexlake.pipeline.summary import RunSummary, comparison_table, render_markdown, render_text
from indexlake.risk.settings import AlertThresholds, StrategyAlerts
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sectors import sector_labels

START, END = date(2019, 1, 2), date(2021, 6, 30)


@pytest.fixture(scope="module")
def panel() -> Panel:
    """Twelve sandbox symbols and SPX, 2019-2021 (covers the COVID window, not the GFC)."""
    market = SandboxMarket(seed=7, n_symbols=12, as_of=END)
    prices = market.prices(None, START, END)
    caps = market.market_caps(None, START, END)
    closes = prices.pivot(index="date", columns="symbol", values="close")
    closes.index = pd.DatetimeIndex(closes.index, name="date")
    mcap = caps.pivot(index="date", columns="symbol", values="market_cap")
    mcap.index = pd.DatetimeIndex(mcap.index, name="date")
    spx = market.prices(["SPX"], START, END).set_index("date")["close"].rename("SPX")
    spx.index = pd.DatetimeIndex(spx.index)
    return Panel(closes=closes, market_caps=mcap.reindex(closes.index), benchmarks=spx.to_frame())


def _strategy(sid: str, **alerts: float) -> Strategy:
    return Strategy.model_validate(
        {
            "id": sid,
            "name": sid.title(),
            "selection": {"type": "all"},
            "weighting": {"type": "equal"},
            "rebalance": "monthly",
            "alerts": alerts,
        }
    )


def test_compute_publishes_rolling_and_stress_as_parquet(panel: Panel, tmp_path: Path) -> None:
    settings = Settings(provider="sandbox", sandbox={"seed": 7, "n_symbols": 12})
    sectors = sector_labels(settings, list(panel.closes.columns))
    assert len(sectors) == 12
    outputs = compute_strategy(_strategy("ew"), panel, risk_settings=settings.risk, sectors=sectors)
    written = publish_outputs(tmp_path, outputs)
    assert written["rolling_series"] == len(outputs.rolling) > 0
    for dataset in (ROLLING_SERIES, STRESS_TESTS):
        table = pq.read_table(partition_file(tmp_path, dataset, "ew"))
        assert table.schema.equals(dataset.schema)

    rolling = read_partition(tmp_path, ROLLING_SERIES, "ew")
    days = len(outputs.levels) - 1
    assert (rolling["subject"].value_counts() == days).all()
    stress = read_partition(tmp_path, STRESS_TESTS, "ew").set_index(["test", "scenario", "subject"])
    assert stress.loc[("historical_window", "COVID", "strategy"), "coverage"] == "covered"
    assert stress.loc[("historical_window", "GFC", "strategy"), "coverage"] == "absent"
    sector = stress.loc["sector_shock"]
    assert "unlabelled" not in sector.index.get_level_values(0)
    assert sector["exposure"].sum() == pytest.approx(1.0)  # every name labelled: weights sum to 1

    # Without labels the sector test says so instead of vanishing.
    bare = compute_strategy(_strategy("ew"), panel, risk_settings=settings.risk, sectors={})
    rows = bare.stress[bare.stress["test"] == "sector_shock"]
    assert list(rows["scenario"]) == ["unlabelled"] and rows["exposure"].iloc[0] == pytest.approx(1)


def test_comparison_and_alerts_publish_and_keep_history(panel: Panel, tmp_path: Path) -> None:
    strategies = [_strategy("ew"), _strategy("tight", volatility=0.01, tracking_error=0.001)]
    rows = []
    for strategy in strategies:
        outputs = compute_strategy(strategy, panel)
        publish_outputs(tmp_path, outputs)
        rows.append(outputs.comparison)
    assert publish_comparison(tmp_path, rows) == 2
    table = pq.read_table(partition_file(tmp_path, STRATEGY_COMPARISON, "tight"))
    assert table.schema.equals(STRATEGY_COMPARISON.schema)

    # Alerts are judged on what was published: read back from the partitions.
    relaxed = AlertThresholds(drawdown=-0.99, volatility=5.0, tracking_error=5.0)
    assert published_alerts(tmp_path, strategies[0], relaxed, run_id="run-1").empty
    alerts = published_alerts(tmp_path, strategies[1], relaxed, run_id="run-1")
    assert sorted(alerts["metric"]) == ["annualised_volatility", "tracking_error"]
    risk = read_partition(tmp_path, RISK_METRICS, "tight").set_index(["subject", "window"])
    published_vol = risk.loc[("strategy", "trailing_252d"), "annualised_volatility"]
    assert alerts.set_index("metric").at["annualised_volatility", "value"] == published_vol

    publish_alerts(tmp_path, "tight", alerts, "run-1")
    publish_alerts(tmp_path, "tight", alerts, "run-1")  # a retried run replaces its own rows
    publish_alerts(tmp_path, "tight", alerts.assign(run_id="run-2"), "run-2")
    assert publish_alerts(tmp_path, "ew", alerts.iloc[:0], "run-2") == 0
    stored = read_partition(tmp_path, RISK_ALERTS, "tight")
    assert sorted(stored["run_id"]) == ["run-1", "run-1", "run-2", "run-2"]
    assert not partition_file(tmp_path, RISK_ALERTS, "ew").exists()

    catalog = tmp_path / "catalog.duckdb"
    build_catalog(tmp_path, catalog)
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        n = con.execute("select count(*) from strategy_comparison").fetchone()[0]
        m = con.execute("select count(*) from risk_alerts where strategy_id = 'tight'").fetchone()
    finally:
        con.close()
    assert n == 2 and m[0] == 4

    summary = RunSummary(
        run_id="run-2",
        start=START,
        end=END,
        benchmark="SPX",
        lake_root=tmp_path,
        catalog_path=catalog,
        comparison=comparison_table(tmp_path),
        alerts=alerts,
    )
    text = render_text(summary)
    assert "full period vs SPX" in text
    assert "tight: annualised_volatility (trailing_252d)" in text
    assert "risk alerts (2):" in text
    md = render_markdown(summary)
    assert "| strategy | ann. return |" in md
    assert "**Risk alerts:** 2" in md and "- tight: tracking_error (trailing_252d)" in md
    for sid in ("ew", "tight"):
        assert f"| {sid} |" in md
    quiet = render_text(replace(summary, alerts=alerts.iloc[:0], comparison=pd.DataFrame()))
    assert "risk alerts: none" in quiet and "full period" not in quiet
    assert StrategyAlerts() == strategies[0].alerts
