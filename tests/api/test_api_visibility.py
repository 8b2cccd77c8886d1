"""Private strategies: hidden from every endpoint unless the API is configured to show them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from indexlake.api.app import create_app
from indexlake.config import ApiSettings, Settings
from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS, REBALANCE_ORDERS, RISK_METRICS

from .conftest import DATES, STRATEGY_TOML, LakeBuilder

PRIVATE_TOML = """\
id = "secret"
name = "Desk Book"
owner = "desk-7"
visibility = "private"
rebalance = "monthly"
selection = { type = "top_n", n = 3 }
weighting = { type = "equal" }
"""
# The private strategy is published two sessions beyond the public ones.
PRIVATE_DATES = [*DATES, dt.date(2024, 2, 1), dt.date(2024, 2, 2)]
OUTPUT_PATHS = ("levels", "allocations", "orders", "risk", "vs-benchmark")


def _publish_private(builder: LakeBuilder) -> None:
    """Every output dataset of 'secret', copied from alpha's rows under its own partition."""
    levels = builder.level_series(3, PRIVATE_DATES, 2000.0)
    builder.write_partition(INDEX_LEVELS, "secret", builder.level_rows(levels))
    for dataset in (ALLOCATIONS, REBALANCE_ORDERS, RISK_METRICS):
        path = builder.root / dataset.name / "strategy_id=alpha" / "part-0.parquet"
        rows: dict[str, list[Any]] = pq.ParquetFile(path).read().to_pydict()
        builder.write_partition(dataset, "secret", rows)


def _client(settings: Settings, include_private: bool) -> Iterator[TestClient]:
    api = ApiSettings(include_private=include_private)
    with TestClient(create_app(settings.model_copy(update={"api": api}))) as client:
        yield client


@pytest.fixture
def private_lake(settings: Settings, builder: LakeBuilder, lake) -> Settings:
    """The standard lake plus the private strategy 'secret' (file and every output)."""
    (settings.strategies_dir / "secret.toml").write_text(PRIVATE_TOML)
    _publish_private(builder)
    return settings


@pytest.fixture
def default_client(private_lake: Settings) -> Iterator[TestClient]:
    yield from _client(private_lake, include_private=False)


@pytest.fixture
def private_client(private_lake: Settings) -> Iterator[TestClient]:
    yield from _client(private_lake, include_private=True)


def test_include_private_is_off_by_default() -> None:
    assert Settings().api.include_private is False


def test_listing_shows_owner_and_visibility_without_private_strategies(
    default_client: TestClient,
) -> None:
    body = default_client.get("/v1/strategies").json()
    assert [s["id"] for s in body] == ["2024", "alpha"]
    alpha = body[1]
    assert (alpha["owner"], alpha["visibility"]) == ("indexlake", "public")


def test_private_outputs_answer_exactly_like_an_unknown_strategy(
    default_client: TestClient,
) -> None:
    for path in OUTPUT_PATHS:
        hidden = default_client.get(f"/v1/strategies/secret/{path}")
        unknown = default_client.get(f"/v1/strategies/nothing/{path}")
        assert hidden.status_code == unknown.status_code == 404, path
        detail = hidden.json()["detail"]
        assert detail == unknown.json()["detail"].replace("'nothing'", "'secret'")
        assert "secret" not in detail.split("known:")[1]


def test_private_dates_do_not_show_in_health(default_client, private_client) -> None:
    assert default_client.get("/health").json()["latest_date"] == DATES[-1].isoformat()
    assert private_client.get("/health").json()["latest_date"] == "2024-02-02"


def test_configured_api_lists_and_serves_private_strategies(private_client: TestClient) -> None:
    body = {s["id"]: s for s in private_client.get("/v1/strategies").json()}
    assert set(body) == {"2024", "alpha", "secret"}
    secret = body["secret"]
    assert (secret["owner"], secret["visibility"], secret["name"]) == (
        "desk-7",
        "private",
        "Desk Book",
    )
    assert secret["last_date"] == "2024-02-02"
    for path in OUTPUT_PATHS:
        assert private_client.get(f"/v1/strategies/secret/{path}").status_code == 200, path
    levels = private_client.get("/v1/strategies/secret/levels").json()["levels"]
    assert [row["date"] for row in levels] == [d.isoformat() for d in PRIVATE_DATES]


def test_turning_a_strategy_private_hides_it_on_the_next_request(
    settings: Settings, lake, default_client: TestClient
) -> None:
    assert default_client.get("/v1/strategies/alpha/levels").status_code == 200
    (settings.strategies_dir / "alpha.toml").write_text(STRATEGY_TOML + 'visibility = "private"\n')
    assert default_client.get("/v1/strategies/alpha/levels").status_code == 404
    assert "alpha" not in [s["id"] for s in default_client.get("/v1/strategies").json()]


def test_a_broken_file_beside_a_private_one_keeps_it_hidden(
    private_lake: Settings, default_client: TestClient
) -> None:
    (private_lake.strategies_dir / "other.toml").write_text("id = [")
    assert default_client.get("/v1/strategies/secret/levels").status_code == 404
    assert "secret" not in [s["id"] for s in default_client.get("/v1/strategies").json()]
