"""The read API: strategies, levels, allocations, orders, risk and benchmark comparison.

Read-only over the published Parquet lake (see :mod:`indexlake.api.lake`); it never opens the
pipeline's DuckDB catalog, so it keeps answering while a pipeline run holds the write lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi import Path as PathParam

from indexlake.api import models
from indexlake.api.lake import LakeReader
from indexlake.config import Settings
from indexlake.lake.schemas import (
    ALLOCATIONS,
    DATASETS,
    INDEX_LEVELS,
    REBALANCE_ORDERS,
    RISK_METRICS,
)
from indexlake.risk.report import TRAILING_WINDOW_NAMES
from indexlake.risk.windows import WINDOW_FULL

log = logging.getLogger(__name__)

Visibility = Literal["public", "private"]
API_PREFIX = "/v1"
STRATEGY_DATASETS = (INDEX_LEVELS, ALLOCATIONS, REBALANCE_ORDERS, RISK_METRICS)

StrategyId = Annotated[str, PathParam(description="Strategy id, e.g. `us_top50_capped`.")]
StartDate = Annotated[dt.date | None, Query(description="First date (ISO), inclusive.")]
EndDate = Annotated[dt.date | None, Query(description="Last date (ISO), inclusive.")]
# The risk_metrics windows (indexlake.risk.report): full period, calendar years, trailing days.
RISK_WINDOW_FORMS = (WINDOW_FULL, "year_YYYY", *TRAILING_WINDOW_NAMES)
_RISK_WINDOW = re.compile(
    rf"{WINDOW_FULL}|year_\d{{4}}|{'|'.join(re.escape(w) for w in TRAILING_WINDOW_NAMES)}"
)
RiskWindow = Annotated[
    str | None,
    Query(
        description="Only this window: "
        + ", ".join(f"`{w}`" for w in RISK_WINDOW_FORMS)
        + " (e.g. `year_2024`); default every window."
    ),
]


@dataclass(frozen=True)
class StrategyInfo:
    """What the strategy files say about a strategy (the data only knows its id)."""

    id: str
    name: str | None
    description: str | None
    benchmark: str
    owner: str | None = None
    visibility: Visibility | None = None


@dataclass(frozen=True)
class StrategyFiles:
    """The strategy files' metadata by id; ``complete`` when every file could be read."""

    info: dict[str, StrategyInfo]
    complete: bool = True

    def hidden(self, published: Iterable[str], include_private: bool) -> set[str]:
        """Ids not to serve: private ones, unless ``include_private``.

        A published id without a readable strategy file has an unknown visibility: it is
        served (as before visibility existed) while every strategy file reads, and hidden
        while some file does not, since that file may be its private definition.
        """
        if include_private:
            return set()
        hidden = {i for i, meta in self.info.items() if meta.visibility == "private"}
        if not self.complete:
            hidden |= set(published) - set(self.info)
        return hidden


def load_strategy_info(directory: Path) -> StrategyFiles:
    """Strategy metadata by id from the strategy files, file by file (a broken file is logged
    and skipped, and makes the result incomplete); empty when there are none."""
    directory = Path(directory)
    if not directory.is_dir():
        return StrategyFiles({})
    from indexlake.methodology.strategy import STRATEGY_FILE_SUFFIX, load_strategy

    info: dict[str, StrategyInfo] = {}
    complete = True
    for path in sorted(directory.glob(f"*{STRATEGY_FILE_SUFFIX}")):
        try:
            s = load_strategy(path)
        except (ValueError, OSError) as exc:
            # The API serves published data; a broken strategy file must not take it down.
            log.warning("strategy file unusable: %s", exc)
            complete = False
            continue
        meta = StrategyInfo(
            id=s.id,
            name=s.name,
            description=s.description,
            benchmark=s.benchmark,
            owner=s.owner,
            visibility=s.visibility,
        )
        # Two files with one id: the pipeline refuses them; here the private one wins.
        if s.id not in info or meta.visibility == "private":
            info[s.id] = meta
    return StrategyFiles(info, complete)


def _check_range(start: dt.date | None, end: dt.date | None) -> None:
    """422 (in FastAPI's error shape) when start is after end."""
    if start is not None and end is not None and start > end:
        msg = f"start ({start.isoformat()}) is after end ({end.isoformat()})"
        raise HTTPException(
            status_code=422,
            detail=[
                {"type": "date_range", "loc": ["query", "start"], "msg": msg, "input": str(start)},
                {"type": "date_range", "loc": ["query", "end"], "msg": msg, "input": str(end)},
            ],
        )


def _check_window(window: str | None) -> None:
    """422 (in FastAPI's error shape) naming the allowed forms for an unknown risk window."""
    if window is not None and not _RISK_WINDOW.fullmatch(window):
        allowed = ", ".join(RISK_WINDOW_FORMS)
        msg = f"unknown window {window!r}; allowed: {allowed} (e.g. year_2024)"
        raise HTTPException(
            status_code=422,
            detail=[{"type": "window", "loc": ["query", "window"], "msg": msg, "input": window}],
        )


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI application serving the lake under ``settings.lake_root``."""
    reader = LakeReader(settings.lake_root)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        reader.close()

    app = FastAPI(
        title="indexlake",
        summary="Custom equity index levels, allocations, orders and risk (read-only).",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.reader = reader
    v1 = APIRouter(prefix=API_PREFIX, tags=["strategies"])

    include_private = settings.api.include_private

    def visible_strategies() -> tuple[dict[str, StrategyInfo], set[str], set[str]]:
        """The served strategies' file metadata, the ids of strategies hidden from view, and
        the ids with published data (hidden ones included)."""
        files = load_strategy_info(settings.strategies_dir)
        published: set[str] = set()
        for dataset in STRATEGY_DATASETS:
            published |= reader.partitions(dataset)
        hidden = files.hidden(published, include_private)
        info = {k: v for k, v in files.info.items() if k not in hidden}
        return info, hidden, published

    def require_strategy(strategy_id: str) -> dict[str, StrategyInfo]:
        """The served strategies' metadata, after a 404 if the id is unknown or hidden (a
        private strategy answers exactly like an unknown one)."""
        info, hidden, published = visible_strategies()
        known = (set(info) | published) - hidden
        if strategy_id not in known:
            listing = ", ".join(sorted(known)) or "none published yet"
            raise HTTPException(404, detail=f"unknown strategy {strategy_id!r}; known: {listing}")
        return info

    @app.get("/health", response_model=models.Health, tags=["service"])
    def health() -> models.Health:
        """Liveness, lake root, latest published date and the datasets present."""
        latest = reader.latest_date(exclude=visible_strategies()[1])
        return models.Health(
            status="ok" if latest is not None else "empty",
            lake_root=str(settings.lake_root),
            latest_date=latest,
            datasets=reader.datasets_present(list(DATASETS.values())),
        )

    @v1.get("/strategies", response_model=list[models.StrategySummary])
    def strategies() -> list[models.StrategySummary]:
        """Every strategy with published levels or a strategy file, sorted by id (private
        strategies only when the API is configured to include them)."""
        info, hidden, _ = visible_strategies()
        published = {
            row["strategy_id"]: row
            for row in reader.strategy_summaries()
            if row["strategy_id"] not in hidden
        }
        out = []
        for strategy_id in sorted(set(info) | set(published)):
            meta = info.get(strategy_id)
            row = published.get(strategy_id, {})
            out.append(
                models.StrategySummary(
                    id=strategy_id,
                    name=meta.name if meta else None,
                    description=meta.description if meta else None,
                    benchmark=meta.benchmark if meta else settings.benchmark,
                    owner=meta.owner if meta else None,
                    visibility=meta.visibility if meta else None,
                    first_date=row.get("first_date"),
                    last_date=row.get("last_date"),
                    latest_level=row.get("latest_level"),
                )
            )
        return out

    @v1.get("/strategies/{strategy_id}/levels", response_model=models.Levels)
    def levels(
        strategy_id: StrategyId, start: StartDate = None, end: EndDate = None
    ) -> models.Levels:
        """Daily index levels between start and end (default: the full history)."""
        _check_range(start, end)
        require_strategy(strategy_id)
        rows = reader.levels(strategy_id, start, end)
        return models.Levels(strategy_id=strategy_id, start=start, end=end, levels=rows)

    @v1.get("/strategies/{strategy_id}/allocations", response_model=models.Allocations)
    def allocations(
        strategy_id: StrategyId,
        date: Annotated[
            dt.date | None,
            Query(description="Allocation date (ISO); a non-trading day serves the one before."),
        ] = None,
    ) -> models.Allocations:
        """Drifted weights on the latest allocation date on or before ``date`` (default latest)."""
        require_strategy(strategy_id)
        rows = reader.allocations(strategy_id, date)
        if not rows:
            when = f" on or before {date.isoformat()}" if date else ""
            raise HTTPException(404, detail=f"no allocations for {strategy_id!r}{when}")
        return models.Allocations(
            strategy_id=strategy_id, requested_date=date, date=rows[0]["date"], holdings=rows
        )

    @v1.get("/strategies/{strategy_id}/orders", response_model=models.Orders)
    def orders(
        strategy_id: StrategyId,
        rebalance_date: Annotated[
            dt.date | None,
            Query(description="Rebalance date (ISO); serves the latest rebalance on or before."),
        ] = None,
    ) -> models.Orders:
        """Orders of the latest rebalance on or before ``rebalance_date`` (default latest)."""
        require_strategy(strategy_id)
        rows = reader.orders(strategy_id, rebalance_date)
        if not rows:
            when = f" on or before {rebalance_date.isoformat()}" if rebalance_date else ""
            raise HTTPException(404, detail=f"no rebalance orders for {strategy_id!r}{when}")
        return models.Orders(
            strategy_id=strategy_id,
            requested_date=rebalance_date,
            rebalance_date=rows[0]["rebalance_date"],
            added=sorted(r["symbol"] for r in rows if r["change"] == "add"),
            dropped=sorted(r["symbol"] for r in rows if r["change"] == "drop"),
            orders=rows,
        )

    @v1.get("/strategies/{strategy_id}/risk", response_model=models.Risk)
    def risk(strategy_id: StrategyId, window: RiskWindow = None) -> models.Risk:
        """Every risk metric of the strategy and its benchmark, per window (or only ``window``).

        Windows: the full period, each calendar year and the trailing 63 and 252 days. A known
        form with no published row (e.g. a year before the history) gives an empty list.
        """
        _check_window(window)
        require_strategy(strategy_id)
        rows = reader.risk(strategy_id)
        if window is not None:
            rows = [row for row in rows if row["window"] == window]
        return models.Risk(strategy_id=strategy_id, window=window, metrics=rows)

    @v1.get("/strategies/{strategy_id}/vs-benchmark", response_model=models.VsBenchmark)
    def vs_benchmark(
        strategy_id: StrategyId, start: StartDate = None, end: EndDate = None
    ) -> models.VsBenchmark:
        """Strategy level vs benchmark close on common dates, both rebased to 100 at the first."""
        _check_range(start, end)
        info = require_strategy(strategy_id)
        # The symbol the pipeline actually measured against (an ETF when the index was refused).
        symbol = reader.benchmark_used(strategy_id) or (
            info[strategy_id].benchmark if strategy_id in info else settings.benchmark
        )
        rows = reader.vs_benchmark(strategy_id, symbol, start, end)
        return models.VsBenchmark(
            strategy_id=strategy_id,
            benchmark=symbol,
            base_date=rows[0]["date"] if rows else None,
            points=rows,
        )

    app.include_router(v1)
    return app


def serve(settings: Settings) -> None:
    """Run the API under uvicorn on ``settings.api.host``/``port`` until interrupted."""
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port)
