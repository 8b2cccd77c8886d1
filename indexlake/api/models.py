"""Response models of the read API (what /docs shows); null means "no value"."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """Liveness and what the lake holds."""

    status: Literal["ok", "empty"] = Field(
        description="`ok` once index levels are published, `empty` before the first run."
    )
    lake_root: str
    latest_date: dt.date | None = Field(description="Latest date with a published index level.")
    datasets: list[str] = Field(description="Datasets with at least one published file.")


class StrategySummary(BaseModel):
    """A strategy with its published date range and latest level."""

    id: str
    name: str | None = None
    description: str | None = None
    benchmark: str
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    latest_level: float | None = None


class Level(BaseModel):
    """One daily close of a strategy's index."""

    date: dt.date
    level: float | None
    daily_return: float | None
    divisor: float | None
    constituents: int | None
    is_rebalance: bool | None


class Levels(BaseModel):
    """A strategy's index levels over a date range (inclusive)."""

    strategy_id: str
    start: dt.date | None
    end: dt.date | None
    levels: list[Level]


class Holding(BaseModel):
    """One constituent's drifted weight at a close."""

    symbol: str
    weight: float | None
    index_shares: float | None
    close: float | None


class Allocations(BaseModel):
    """Constituent weights on the latest allocation date on or before the requested one."""

    strategy_id: str
    requested_date: dt.date | None = Field(description="The `date` asked for; null = latest.")
    date: dt.date = Field(description="The allocation date served.")
    holdings: list[Holding]


class Order(BaseModel):
    """One trade of a rebalance; `notional` is unsigned USD, `side` says the direction."""

    symbol: str
    side: str
    quantity: float | None
    price: float | None
    notional: float | None
    weight_before: float | None
    weight_after: float | None


class Orders(BaseModel):
    """Orders of the latest rebalance on or before the requested date."""

    strategy_id: str
    requested_date: dt.date | None = Field(description="The `rebalance_date` asked for.")
    rebalance_date: dt.date = Field(description="The rebalance served.")
    orders: list[Order]


class RiskRow(BaseModel):
    """Risk of the strategy or its benchmark over one window (see risk/metrics.py)."""

    subject: Literal["strategy", "benchmark"]
    symbol: str | None
    window: str
    start_date: dt.date | None
    end_date: dt.date | None
    observations: int
    annualised_return: float | None
    annualised_volatility: float | None
    sharpe: float | None
    max_drawdown: float | None = Field(description="≤ 0: worst peak-to-trough return.")
    beta: float | None
    tracking_error: float | None
    var_95_historical: float | None = Field(
        description="5% quantile of daily returns: a return, negative = loss."
    )


class Risk(BaseModel):
    """Published risk metrics of a strategy (empty before the first risk run)."""

    strategy_id: str
    metrics: list[RiskRow]


class ComparisonPoint(BaseModel):
    """Strategy and benchmark on one common date, both rebased to 100 at the first."""

    date: dt.date
    strategy_level: float | None
    benchmark_close: float | None
    strategy_rebased: float | None
    benchmark_rebased: float | None
    relative_performance: float | None = Field(
        description="strategy_rebased / benchmark_rebased - 1 (0.05 = 5% ahead since base)."
    )


class VsBenchmark(BaseModel):
    """A strategy against its benchmark over the dates both have."""

    strategy_id: str
    benchmark: str
    base_date: dt.date | None = Field(description="First common date (both = 100 there).")
    points: list[ComparisonPoint]
