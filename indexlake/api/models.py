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
    owner: str | None = Field(None, description="Owner named in the strategy file.")
    visibility: Literal["public", "private"] | None = Field(
        None,
        description="From the strategy file; private strategies are listed and served only "
        "when the API is configured with `api.include_private`. Null without a strategy file.",
    )
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
    change: Literal["add", "drop", "reweight"] = Field(
        description="Constituent change: `add` (no weight before), `drop` (none after), "
        "`reweight` (a member before and after)."
    )


class Orders(BaseModel):
    """Orders of the latest rebalance on or before the requested date."""

    strategy_id: str
    requested_date: dt.date | None = Field(description="The `rebalance_date` asked for.")
    rebalance_date: dt.date = Field(description="The rebalance served.")
    added: list[str] = Field(description="Symbols entering the index at this rebalance.")
    dropped: list[str] = Field(description="Symbols leaving the index at this rebalance.")
    orders: list[Order]


class RiskRow(BaseModel):
    """Risk of the strategy or its benchmark over one window (see risk/metrics.py, risk/tail.py).

    Returns, volatilities and VaR/CVaR are fractions (0.01 = 1%); annualised figures use 252
    days a year; VaR and CVaR are daily *returns* (negative = loss). Null: not enough data (or a
    metric added after the row was published).
    """

    subject: Literal["strategy", "benchmark"]
    symbol: str | None = Field(description="Benchmark symbol on benchmark rows, else null.")
    window: str = Field(description="`full`, `year_YYYY` or `trailing_63d` / `trailing_252d`.")
    start_date: dt.date | None = Field(description="Date of the window's first return.")
    end_date: dt.date | None = Field(description="Date of the window's last return.")
    observations: int = Field(description="Daily returns in the window.")
    cumulative_return: float | None = Field(default=None, description="Compounded total return.")
    annualised_return: float | None = Field(description="Compound annual growth rate.")
    annualised_volatility: float | None = Field(description="Sample std of returns × √252.")
    sharpe: float | None
    sortino: float | None = None
    max_drawdown: float | None = Field(description="≤ 0: worst peak-to-trough return.")
    calmar: float | None = Field(default=None, description="Annualised return / |max drawdown|.")
    beta: float | None = Field(description="Against the benchmark (1 on benchmark rows).")
    alpha: float | None = Field(default=None, description="Annualised (compounded) CAPM alpha.")
    correlation: float | None = None
    tracking_error: float | None = Field(description="Annualised std of r - b (0 for benchmark).")
    information_ratio: float | None = None
    var_95_historical: float | None = Field(
        description="5% quantile of daily returns: a return, negative = loss."
    )
    var_99_historical: float | None = Field(
        default=None, description="1% quantile of daily returns."
    )
    cvar_95_historical: float | None = Field(
        default=None, description="Mean return at or below the 95% VaR."
    )
    cvar_99_historical: float | None = Field(
        default=None, description="Mean return at or below the 99% VaR."
    )
    var_95_parametric: float | None = Field(
        default=None, description="Normal VaR: mean + z(5%)·std."
    )
    var_99_parametric: float | None = Field(
        default=None, description="Normal VaR: mean + z(1%)·std."
    )
    cvar_95_parametric: float | None = Field(
        default=None, description="Normal expected shortfall at 95%."
    )
    cvar_99_parametric: float | None = Field(
        default=None, description="Normal expected shortfall at 99%."
    )
    skew: float | None = Field(default=None, description="Bias-corrected sample skewness (G1).")
    excess_kurtosis: float | None = Field(
        default=None, description="Bias-corrected excess kurtosis (G2)."
    )
    best_return: float | None = Field(default=None, description="Best daily return.")
    worst_return: float | None = Field(default=None, description="Worst daily return.")
    hit_ratio: float | None = Field(
        default=None, description="Share of days with a positive return."
    )


class Risk(BaseModel):
    """Published risk metrics of a strategy (empty before the first risk run)."""

    strategy_id: str
    window: str | None = Field(default=None, description="The `window` asked for; null = all.")
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
