"""The data contract: every dataset's columns, types, key and partitioning.

Partition columns live in the directory names (hive style, ``year=2024``) and not inside the
files; readers that enable hive partitioning (DuckDB ``hive_partitioning = true``,
``pyarrow.dataset(..., partitioning="hive")``, ``pandas.read_parquet(dir)``) get them back as
columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Dataset:
    """A published dataset: its name, file schema, hive partition column and row key."""

    name: str
    schema: pa.Schema
    partition: str
    partition_type: pa.DataType
    key: tuple[str, ...]
    description: str

    @property
    def columns(self) -> list[str]:
        return self.schema.names


PRICES = Dataset(
    name="prices",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("symbol", pa.string()),
            ("open", pa.float64()),
            ("high", pa.float64()),
            ("low", pa.float64()),
            ("close", pa.float64()),
            ("volume", pa.int64()),
        ]
    ),
    partition="year",
    partition_type=pa.int32(),
    key=("symbol", "date"),
    description="Daily split-adjusted OHLCV bars, one row per symbol and trading day "
    "(benchmark included).",
)

MARKET_CAPS = Dataset(
    name="market_caps",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("symbol", pa.string()),
            ("market_cap", pa.float64()),
            ("source", pa.string()),
        ]
    ),
    partition="year",
    partition_type=pa.int32(),
    key=("symbol", "date"),
    description="Daily market capitalisation in USD; `source` says where it came from "
    "(`market_cap` endpoint, `statistics` close x shares, or `configured` shares).",
)

DIVIDENDS = Dataset(
    name="dividends",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("symbol", pa.string()),
            ("amount", pa.float64()),
        ]
    ),
    partition="year",
    partition_type=pa.int32(),
    key=("symbol", "date"),
    description="Cash dividends per share by ex-date (`date`), split-adjusted on the same basis "
    "as the `prices` closes (a later split divides earlier amounts like earlier closes).",
)

INDEX_LEVELS = Dataset(
    name="index_levels",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("level", pa.float64()),
            ("daily_return", pa.float64()),
            ("divisor", pa.float64()),
            ("constituents", pa.int32()),
            ("is_rebalance", pa.bool_()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "date"),
    description="Daily close level of each strategy's index (price return, divisor method).",
)

ALLOCATIONS = Dataset(
    name="allocations",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("symbol", pa.string()),
            ("weight", pa.float64()),
            ("index_shares", pa.float64()),
            ("close", pa.float64()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "date", "symbol"),
    description="Drifted constituent weights at each close (sum to 1 per strategy and day).",
)

REBALANCE_ORDERS = Dataset(
    name="rebalance_orders",
    schema=pa.schema(
        [
            ("rebalance_date", pa.date32()),
            ("symbol", pa.string()),
            ("side", pa.string()),
            ("quantity", pa.float64()),
            ("price", pa.float64()),
            ("notional", pa.float64()),
            ("weight_before", pa.float64()),
            ("weight_after", pa.float64()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "rebalance_date", "symbol"),
    description="Trades that take the model portfolio (strategy notional) from its drifted "
    "holdings to the new target at each rebalance close; `notional` is unsigned USD.",
)

RISK_METRICS = Dataset(
    name="risk_metrics",
    schema=pa.schema(
        [
            ("subject", pa.string()),
            ("symbol", pa.string()),
            ("window", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("observations", pa.int32()),
            # One column per metric of indexlake.risk.table.METRIC_COLUMNS, in its order.
            ("cumulative_return", pa.float64()),
            ("annualised_return", pa.float64()),
            ("annualised_volatility", pa.float64()),
            ("sharpe", pa.float64()),
            ("sortino", pa.float64()),
            ("max_drawdown", pa.float64()),
            ("calmar", pa.float64()),
            ("beta", pa.float64()),
            ("alpha", pa.float64()),
            ("correlation", pa.float64()),
            ("tracking_error", pa.float64()),
            ("information_ratio", pa.float64()),
            ("var_95_historical", pa.float64()),
            ("var_99_historical", pa.float64()),
            ("cvar_95_historical", pa.float64()),
            ("cvar_99_historical", pa.float64()),
            ("var_95_parametric", pa.float64()),
            ("var_99_parametric", pa.float64()),
            ("cvar_95_parametric", pa.float64()),
            ("cvar_99_parametric", pa.float64()),
            ("skew", pa.float64()),
            ("excess_kurtosis", pa.float64()),
            ("best_return", pa.float64()),
            ("worst_return", pa.float64()),
            ("hit_ratio", pa.float64()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "subject", "window"),
    description="Risk of each strategy (`subject = strategy`) and of its benchmark over the "
    "same dates (`subject = benchmark`), for the full period, each calendar year and the "
    "trailing 63 and 252 days.",
)

ROLLING_SERIES = Dataset(
    name="rolling_series",
    schema=pa.schema(
        [
            ("date", pa.date32()),
            ("subject", pa.string()),
            ("symbol", pa.string()),
            ("rolling_vol_63", pa.float64()),
            ("rolling_vol_252", pa.float64()),
            ("rolling_beta_252", pa.float64()),
            ("drawdown", pa.float64()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "subject", "date"),
    description="Per date, for each strategy and its benchmark over the same dates: rolling "
    "63/252-day annualised volatility, 252-day beta (NaN until the window is full) and the "
    "drawdown from the running peak.",
)

STRESS_TESTS = Dataset(
    name="stress_tests",
    schema=pa.schema(
        [
            ("test", pa.string()),
            ("scenario", pa.string()),
            ("subject", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("coverage", pa.string()),
            ("shock", pa.float64()),
            ("exposure", pa.float64()),
            ("stressed_return", pa.float64()),
            ("detail", pa.string()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "test", "scenario", "subject"),
    description="Stress tests of each strategy (and its benchmark): worst 1/5/20-day returns, "
    "named historical windows replayed where the data covers them, benchmark shocks through "
    "beta and sector shocks through the latest weights; `coverage` says when one could not run.",
)

RISK_ALERTS = Dataset(
    name="risk_alerts",
    schema=pa.schema(
        [
            ("run_id", pa.string()),
            ("date", pa.date32()),
            ("metric", pa.string()),
            ("window", pa.string()),
            ("value", pa.float64()),
            ("threshold", pa.float64()),
            ("comparison", pa.string()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "run_id", "metric", "window"),
    description="Thresholds breached by a strategy's published risk, one row per breach and "
    "run (kept across runs).",
)

STRATEGY_COMPARISON = Dataset(
    name="strategy_comparison",
    schema=pa.schema(
        [
            ("window", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("observations", pa.int32()),
            ("total_return", pa.float64()),
            ("annualised_return", pa.float64()),
            ("annualised_volatility", pa.float64()),
            ("sharpe", pa.float64()),
            ("max_drawdown", pa.float64()),
            ("average_annual_turnover", pa.float64()),
            ("benchmark_symbol", pa.string()),
            ("benchmark_total_return", pa.float64()),
            ("benchmark_annualised_return", pa.float64()),
            ("excess_return", pa.float64()),
            ("tracking_error", pa.float64()),
            ("information_ratio", pa.float64()),
        ]
    ),
    partition="strategy_id",
    partition_type=pa.string(),
    key=("strategy_id", "window"),
    description="One row per strategy: full-period return, risk, turnover and performance "
    "against its benchmark, as of its last computation.",
)

DQ_RESULTS = Dataset(
    name="dq_results",
    schema=pa.schema(
        [
            ("run_id", pa.string()),
            ("validated_at", pa.timestamp("us", tz="UTC")),
            ("partition", pa.string()),
            ("suite", pa.string()),
            ("expectation", pa.string()),
            ("column", pa.string()),
            ("success", pa.bool_()),
            ("unexpected_count", pa.int64()),
            ("element_count", pa.int64()),
            ("sample", pa.string()),
            ("severity", pa.string()),
        ]
    ),
    partition="dataset",
    partition_type=pa.string(),
    key=("run_id", "dataset", "partition", "expectation", "column"),
    description="One row per expectation evaluated on each batch before publishing.",
)

QUARANTINE = Dataset(
    name="quarantine",
    schema=pa.schema(
        [
            ("key", pa.string()),
            ("row", pa.string()),
            ("reason", pa.string()),
            ("suite", pa.string()),
            ("expectation", pa.string()),
            ("partition", pa.string()),
            ("run_id", pa.string()),
            ("quarantined_at", pa.timestamp("us", tz="UTC")),
            ("resolved_at", pa.timestamp("us", tz="UTC")),
            ("resolved_run_id", pa.string()),
        ]
    ),
    partition="dataset",
    partition_type=pa.string(),
    key=("dataset", "key", "run_id"),
    description="Rows of an ingested batch that failed a critical expectation and were held "
    "back from publishing; resolved once the same key later publishes clean.",
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        PRICES,
        MARKET_CAPS,
        DIVIDENDS,
        INDEX_LEVELS,
        ALLOCATIONS,
        REBALANCE_ORDERS,
        RISK_METRICS,
        ROLLING_SERIES,
        STRESS_TESTS,
        RISK_ALERTS,
        STRATEGY_COMPARISON,
        DQ_RESULTS,
        QUARANTINE,
    )
}
