"""Read API endpoints over a small published lake (FastAPI TestClient)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from indexlake.api.app import create_app
from indexlake.config import Settings
from indexlake.lake.schemas import DATASETS, INDEX_LEVELS, RISK_METRICS
from indexlake.risk.report import risk_metrics
from indexlake.risk.table import METRIC_COLUMNS

# The standard lake (conftest.py): trading days, rebalances and constituents.
DATES = [d.date() for d in pd.bdate_range("2023-12-20", "2024-01-31") if d.day != 1 or d.month != 1]
BENCHMARK_GAP = dt.date(2024, 1, 10)
REBALANCES = [dt.date(2023, 12, 20), dt.date(2024, 1, 2)]
SYMBOLS = ["AAA", "BBB", "CCC"]
# The risk_metrics columns before the full metric set was published.
LEGACY_RISK_COLUMNS = (
    *("subject", "symbol", "window", "start_date", "end_date", "observations"),
    *("annualised_return", "annualised_volatility", "sharpe", "max_drawdown", "beta"),
    *("tracking_error", "var_95_historical"),
)


def test_constants_describe_the_fixture_lake(builder) -> None:
    assert (
        list(builder.dates),
        list(builder.rebalances),
        list(builder.symbols),
    ) == (DATES, REBALANCES, SYMBOLS)
    assert builder.benchmark_gap == BENCHMARK_GAP


def test_health(client: TestClient, lake, settings) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["lake_root"] == str(settings.lake_root)
    assert body["latest_date"] == DATES[-1].isoformat()
    assert body["datasets"] == [
        "prices",
        "index_levels",
        "allocations",
        "rebalance_orders",
        "risk_metrics",
    ]


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("levels", "allocations", "orders", "risk", "vs-benchmark"):
        assert f"/v1/strategies/{{strategy_id}}/{path}" in paths
    assert "/v1/strategies" in paths and "/health" in paths


class TestStrategies:
    def test_lists_data_and_file_metadata(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies").json()
        assert [s["id"] for s in body] == ["2024", "alpha"]
        numeric, alpha = body
        assert alpha["name"] == "Alpha Top 3"
        assert alpha["benchmark"] == "NDX"
        assert alpha["first_date"] == DATES[0].isoformat()
        assert alpha["last_date"] == DATES[-1].isoformat()
        assert alpha["latest_level"] == pytest.approx(lake["alpha"].iloc[-1])
        # No strategy file: metadata from the data only, benchmark from settings.
        assert numeric["name"] is None
        assert numeric["benchmark"] == "SPX"
        assert (numeric["owner"], numeric["visibility"]) == (None, None)
        assert (alpha["owner"], alpha["visibility"]) == ("indexlake", "public")

    def test_strategy_file_without_data_is_listed(self, client: TestClient) -> None:
        assert client.get("/v1/strategies").json() == [
            {
                "id": "alpha",
                "name": "Alpha Top 3",
                "description": "Three names, capped market cap.",
                "benchmark": "NDX",
                "owner": "indexlake",
                "visibility": "public",
                "first_date": None,
                "last_date": None,
                "latest_level": None,
            }
        ]

    def test_a_broken_strategy_file_hides_only_what_it_may_define(
        self, client, lake, settings
    ) -> None:
        (settings.strategies_dir / "broken.toml").write_text("id = [")
        body = client.get("/v1/strategies").json()
        # alpha's own file still reads; "2024" has no file, and the broken one may be its
        # private definition: it is not served until the files read again.
        assert [s["id"] for s in body] == ["alpha"]
        assert body[0]["name"] == "Alpha Top 3"
        assert client.get("/v1/strategies/2024/levels").status_code == 404
        (settings.strategies_dir / "broken.toml").unlink()
        assert [s["id"] for s in client.get("/v1/strategies").json()] == ["2024", "alpha"]


class TestLevels:
    def test_full_history(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/levels").json()
        assert body["start"] is None and body["end"] is None
        assert [row["date"] for row in body["levels"]] == [d.isoformat() for d in DATES]
        assert body["levels"][0]["daily_return"] is None
        assert [row["level"] for row in body["levels"]] == pytest.approx(lake["alpha"].tolist())
        rebalances = [row["date"] for row in body["levels"] if row["is_rebalance"]]
        assert rebalances == [d.isoformat() for d in REBALANCES]

    def test_date_range_is_inclusive(self, client: TestClient, lake) -> None:
        body = client.get(
            "/v1/strategies/2024/levels", params={"start": "2023-12-29", "end": "2024-01-03"}
        ).json()
        assert [row["date"] for row in body["levels"]] == ["2023-12-29", "2024-01-02", "2024-01-03"]

    def test_start_after_end_is_422_naming_both(self, client: TestClient, lake) -> None:
        response = client.get(
            "/v1/strategies/alpha/levels", params={"start": "2024-02-01", "end": "2024-01-01"}
        )
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert {tuple(e["loc"]) for e in detail} == {("query", "start"), ("query", "end")}
        assert "start (2024-02-01) is after end (2024-01-01)" in detail[0]["msg"]

    @pytest.mark.parametrize("bad", ["2024-13-01", "yesterday", "2024/01/02"])
    def test_malformed_date_is_422(self, client: TestClient, lake, bad: str) -> None:
        response = client.get("/v1/strategies/alpha/levels", params={"start": bad})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "start"]

    def test_unknown_strategy_is_404_naming_it(self, client: TestClient, lake) -> None:
        for path in ("levels", "allocations", "orders", "risk", "vs-benchmark"):
            response = client.get(f"/v1/strategies/nope/{path}")
            assert response.status_code == 404
            assert "'nope'" in response.json()["detail"]

    def test_path_like_ids_are_just_unknown(self, client: TestClient, lake) -> None:
        response = client.get("/v1/strategies/..%2F..%2Fetc/levels")
        assert response.status_code == 404


class TestAllocations:
    def test_latest_by_default(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/allocations").json()
        assert body["requested_date"] is None
        assert body["date"] == DATES[-1].isoformat()
        assert sorted(h["symbol"] for h in body["holdings"]) == SYMBOLS
        assert sum(h["weight"] for h in body["holdings"]) == pytest.approx(1.0)

    def test_non_trading_day_serves_the_day_before(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/allocations", params={"date": "2024-01-01"}).json()
        assert body["requested_date"] == "2024-01-01"
        assert body["date"] == "2023-12-29"

    def test_before_the_first_date_is_404(self, client: TestClient, lake) -> None:
        response = client.get("/v1/strategies/alpha/allocations", params={"date": "2020-01-01"})
        assert response.status_code == 404
        assert "on or before 2020-01-01" in response.json()["detail"]


class TestOrders:
    def test_latest_rebalance_by_default(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/orders").json()
        assert body["rebalance_date"] == REBALANCES[-1].isoformat()
        assert len(body["orders"]) == len(SYMBOLS)
        assert {o["side"] for o in body["orders"]} == {"buy", "sell"}

    def test_constituent_changes(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/orders").json()
        change = {o["symbol"]: o["change"] for o in body["orders"]}
        assert (body["added"], body["dropped"]) == ([SYMBOLS[0]], [SYMBOLS[1]])
        assert change[SYMBOLS[0]] == "add" and change[SYMBOLS[1]] == "drop"
        assert {change[s] for s in SYMBOLS[2:]} == {"reweight"}
        earlier = client.get(
            "/v1/strategies/alpha/orders", params={"rebalance_date": REBALANCES[0].isoformat()}
        ).json()
        assert (earlier["added"], earlier["dropped"]) == ([], [])

    def test_rebalance_on_or_before(self, client: TestClient, lake) -> None:
        body = client.get(
            "/v1/strategies/alpha/orders", params={"rebalance_date": "2023-12-31"}
        ).json()
        assert body["requested_date"] == "2023-12-31"
        assert body["rebalance_date"] == REBALANCES[0].isoformat()


class TestRisk:
    WINDOWS = ("full", "year_2023", "year_2024", "trailing_63d", "trailing_252d")

    def test_rows_as_published(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/risk").json()
        assert body["window"] is None
        rows = body["metrics"]
        assert [(r["subject"], r["window"]) for r in rows] == [
            (subject, window) for subject in ("strategy", "benchmark") for window in self.WINDOWS
        ]
        assert set(rows[0]) == set(RISK_METRICS.columns)
        bench_full = rows[len(self.WINDOWS)]
        assert bench_full["symbol"] == "NDX" and bench_full["beta"] == 1.0
        assert bench_full["tracking_error"] == 0.0
        assert rows[0]["symbol"] is None
        assert rows[0]["max_drawdown"] <= 0

    def test_serves_every_metric_as_computed(self, client: TestClient, lake) -> None:
        rows = client.get("/v1/strategies/alpha/risk").json()["metrics"]
        expected = risk_metrics(
            lake["alpha"], lake["NDX"].drop(BENCHMARK_GAP), benchmark_symbol="NDX"
        )
        by_key = {(r["subject"], r["window"]): r for r in rows}
        for _, row in expected.iterrows():
            served = by_key[(row["subject"], row["window"])]
            assert served["start_date"] == row["start_date"].isoformat()
            assert served["observations"] == row["observations"]
            for name in METRIC_COLUMNS[1:]:
                if math.isnan(row[name]):
                    assert served[name] is None, name
                else:
                    assert served[name] == row[name], name

    def test_filters_by_window(self, client: TestClient, lake) -> None:
        for window in ("full", "year_2024", "trailing_63d"):
            body = client.get("/v1/strategies/alpha/risk", params={"window": window}).json()
            assert body["window"] == window
            assert [(r["subject"], r["window"]) for r in body["metrics"]] == [
                ("strategy", window),
                ("benchmark", window),
            ]
            assert body["metrics"][0]["sortino"] is not None
        body = client.get("/v1/strategies/alpha/risk", params={"window": "year_1999"}).json()
        assert body["metrics"] == []

    @pytest.mark.parametrize("window", ["trailing_100d", "year_24", "FULL", "ytd", ""])
    def test_unknown_window_is_422_naming_the_forms(self, client: TestClient, lake, window):
        response = client.get("/v1/strategies/alpha/risk", params={"window": window})
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["query", "window"]
        for form in ("full", "year_YYYY", "trailing_63d", "trailing_252d"):
            assert form in detail["msg"]

    def test_openapi_documents_the_window_and_metrics(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        params = spec["paths"]["/v1/strategies/{strategy_id}/risk"]["get"]["parameters"]
        assert "window" in {p["name"] for p in params}
        row = spec["components"]["schemas"]["RiskRow"]["properties"]
        assert set(row) == set(RISK_METRICS.columns)

    def test_nan_metrics_are_null(self, client: TestClient, builder) -> None:
        levels = pd.Series([100.0, 101.0], index=DATES[:2])
        report = risk_metrics(levels, levels, benchmark_symbol="SPX")
        table = pa.Table.from_pandas(report, schema=RISK_METRICS.schema, preserve_index=False)
        builder.write_partition(RISK_METRICS, "alpha", table.to_pydict())
        rows = client.get("/v1/strategies/alpha/risk").json()["metrics"]
        assert rows[0]["observations"] == 1
        assert rows[0]["sharpe"] is None and rows[0]["annualised_volatility"] is None
        assert rows[0]["skew"] is None and rows[0]["cvar_99_parametric"] is None

    def test_partition_published_before_the_full_metric_set(
        self, client: TestClient, lake, builder
    ) -> None:
        # A strategy not recomputed since the seven-metric schema keeps its old file.
        legacy = pa.schema([RISK_METRICS.schema.field(c) for c in LEGACY_RISK_COLUMNS])
        report = risk_metrics(lake["2024"], lake["SPX"], benchmark_symbol="SPX")
        table = pa.Table.from_pandas(report[legacy.names], schema=legacy, preserve_index=False)
        builder.write_partition(replace(RISK_METRICS, schema=legacy), "2024", table.to_pydict())
        alpha = client.get("/v1/strategies/alpha/risk").json()["metrics"]
        assert alpha and alpha[0]["sortino"] is not None
        old = client.get("/v1/strategies/2024/risk", params={"window": "full"}).json()
        row = old["metrics"][0]
        assert row["sharpe"] is not None and row["sortino"] is None

    def test_strategy_without_risk_yet_is_empty(self, client: TestClient, lake) -> None:
        assert client.get("/v1/strategies/2024/risk").json() == {
            "strategy_id": "2024",
            "window": None,
            "metrics": [],
        }


class TestVsBenchmark:
    def test_rebased_on_common_dates(self, client: TestClient, lake) -> None:
        body = client.get("/v1/strategies/alpha/vs-benchmark").json()
        assert body["benchmark"] == "NDX"
        assert body["base_date"] == DATES[0].isoformat()
        points = body["points"]
        assert [p["date"] for p in points] == [d.isoformat() for d in DATES if d != BENCHMARK_GAP]
        assert points[0]["strategy_rebased"] == pytest.approx(100.0)
        assert points[0]["benchmark_rebased"] == pytest.approx(100.0)
        assert points[0]["relative_performance"] == pytest.approx(0.0)
        last = points[-1]
        s, b = lake["alpha"], lake["NDX"]
        assert last["benchmark_close"] == pytest.approx(b.iloc[-1])
        expected = (s.iloc[-1] / s.iloc[0]) / (b.iloc[-1] / b.iloc[0]) - 1
        assert last["relative_performance"] == pytest.approx(expected, rel=1e-12)

    def test_range_rebases_at_the_first_common_date_in_it(self, client, lake) -> None:
        params = {"start": "2024-01-10", "end": "2024-01-12"}
        body = client.get("/v1/strategies/2024/vs-benchmark", params=params).json()
        # No SPX bar on 2024-01-10, so the comparison starts on the 11th.
        assert body["benchmark"] == "SPX"
        assert body["base_date"] == "2024-01-11"
        assert [p["date"] for p in body["points"]] == ["2024-01-11", "2024-01-12"]
        assert body["points"][0]["strategy_rebased"] == pytest.approx(100.0)

    def test_start_after_end_is_422(self, client: TestClient, lake) -> None:
        params = {"start": "2024-01-12", "end": "2024-01-10"}
        response = client.get("/v1/strategies/alpha/vs-benchmark", params=params)
        assert response.status_code == 422


class TestEmptyLake:
    def test_nothing_published_yet(self, client: TestClient) -> None:
        body = client.get("/health").json()
        assert body["status"] == "empty"
        assert body["latest_date"] is None and body["datasets"] == []
        assert client.get("/v1/strategies/missing/levels").status_code == 404

    def test_known_strategy_without_data(self, client: TestClient) -> None:
        assert client.get("/v1/strategies/alpha/levels").json()["levels"] == []
        assert client.get("/v1/strategies/alpha/risk").json()["metrics"] == []
        assert client.get("/v1/strategies/alpha/vs-benchmark").json()["points"] == []
        for path in ("allocations", "orders"):
            response = client.get(f"/v1/strategies/alpha/{path}")
            assert response.status_code == 404
            assert "'alpha'" in response.json()["detail"]

    def test_no_strategy_files_at_all(self, tmp_path, lake) -> None:
        settings = Settings(data_dir=tmp_path / "data", strategies_dir=tmp_path / "missing")
        with TestClient(create_app(settings)) as client:
            assert [s["id"] for s in client.get("/v1/strategies").json()] == ["2024", "alpha"]

    def test_prices_not_landed_yet(self, client: TestClient, lake, settings) -> None:
        for path in (settings.lake_root / "prices").rglob("*.parquet"):
            path.unlink()
        body = client.get("/v1/strategies/alpha/vs-benchmark").json()
        assert body["points"] == [] and body["base_date"] is None
        assert "prices" not in client.get("/health").json()["datasets"]


def test_partition_file_replaced_between_requests(client, lake, settings, builder) -> None:
    before = client.get("/v1/strategies/alpha/levels").json()["levels"]
    assert len(before) == len(DATES)
    # An in-progress write under a temp name is invisible to readers...
    partition = settings.lake_root / INDEX_LEVELS.name / "strategy_id=alpha"
    (partition / ".part-0.parquet.tmp").write_bytes(b"half-written")
    assert client.get("/v1/strategies/alpha/levels").json()["levels"] == before
    # ...and the os.replace that publishes it is seen by the next request.
    extended = pd.concat([lake["alpha"], pd.Series([1234.5], index=[dt.date(2024, 2, 1)])])
    builder.write_partition(INDEX_LEVELS, "alpha", builder.level_rows(extended))
    after = client.get("/v1/strategies/alpha/levels").json()["levels"]
    assert len(after) == len(DATES) + 1
    assert after[-1] == {
        "date": "2024-02-01",
        "level": 1234.5,
        "daily_return": pytest.approx(1234.5 / lake["alpha"].iloc[-1] - 1),
        "divisor": 1e6,
        "constituents": 3,
        "is_rebalance": False,
    }
    assert client.get("/health").json()["latest_date"] == "2024-02-01"
    assert not math.isnan(after[-1]["level"])
    assert set(DATASETS) >= set(client.get("/health").json()["datasets"])


def test_vs_benchmark_uses_the_symbol_the_published_risk_was_measured_against(
    client: TestClient, lake, builder
) -> None:
    """When the plan refused the index, the pipeline measured against an ETF: follow it."""
    report = risk_metrics(lake["2024"], lake["NDX"], benchmark_symbol="NDX")
    table = pa.Table.from_pandas(report, schema=RISK_METRICS.schema, preserve_index=False)
    builder.write_partition(RISK_METRICS, "2024", table.to_pydict())
    body = client.get("/v1/strategies/2024/vs-benchmark").json()
    assert body["benchmark"] == "NDX"
    assert body["points"][-1]["benchmark_close"] == pytest.approx(lake["NDX"].iloc[-1])
