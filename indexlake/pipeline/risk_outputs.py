"""Risk outputs beyond ``risk_metrics``: rolling series, stress tests, comparison and alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from indexlake.lake.partitions import read_partition, write_partition
from indexlake.lake.schemas import RISK_ALERTS, RISK_METRICS, ROLLING_SERIES, STRATEGY_COMPARISON
from indexlake.methodology.strategy import Strategy
from indexlake.risk.alerts import ALERT_COLUMNS, evaluate_alerts
from indexlake.risk.comparison import comparison_row
from indexlake.risk.outputs import rolling_rows, stress_rows
from indexlake.risk.report import aligned_levels, aligned_returns
from indexlake.risk.settings import AlertThresholds, RiskSettings


@dataclass
class RiskOutputs:
    """The rolling series, stress tests and comparison row of one strategy."""

    rolling: pd.DataFrame
    stress: pd.DataFrame
    comparison: pd.DataFrame


def strategy_risk_outputs(
    strategy_id: str,
    levels: pd.Series,
    benchmark: pd.Series,
    *,
    benchmark_symbol: str,
    risk: pd.DataFrame,
    allocations: pd.DataFrame,
    orders: pd.DataFrame,
    settings: RiskSettings,
    sectors: Mapping[str, str],
) -> RiskOutputs:
    """Rolling series, stress tests and comparison row from a strategy's computed outputs."""
    both = aligned_levels(levels, benchmark)
    returns = aligned_returns(both)
    return RiskOutputs(
        rolling=rolling_rows(both, benchmark_symbol=benchmark_symbol, returns=returns),
        stress=stress_rows(
            both,
            risk,
            allocations,
            returns=returns,
            windows=settings.stress_windows,
            benchmark_shocks=settings.benchmark_shocks,
            sectors=sectors,
            sector_shock=settings.sector_shock,
        ),
        comparison=comparison_row(strategy_id, risk, orders, benchmark_symbol=benchmark_symbol),
    )


def publish_comparison(lake_root: Path, rows: Iterable[pd.DataFrame]) -> int:
    """Replace each strategy's ``strategy_comparison`` partition with its row; rows written."""
    written = 0
    for row in rows:
        for strategy_id, part in row.groupby("strategy_id", sort=True):
            write_partition(lake_root, STRATEGY_COMPARISON, strategy_id, part)
            written += len(part)
    return written


def published_alerts(
    lake_root: Path, strategy: Strategy, defaults: AlertThresholds, *, run_id: str
) -> pd.DataFrame:
    """Breaches of the strategy's thresholds in its published risk_metrics and rolling_series.

    The thresholds are the strategy's ``[alerts]`` table over ``defaults``.
    """
    risk = read_partition(lake_root, RISK_METRICS, strategy.id)
    rolling = read_partition(lake_root, ROLLING_SERIES, strategy.id)
    thresholds = strategy.alerts.over(defaults)
    return evaluate_alerts(strategy.id, risk, rolling, thresholds, run_id=run_id)


def publish_alerts(lake_root: Path, strategy_id: str, alerts: pd.DataFrame, run_id: str) -> int:
    """Record a run's breaches in ``risk_alerts``, keeping the rows of earlier runs.

    Rows of ``run_id`` already there (a retried run) are replaced; rows written.
    """
    earlier = read_partition(lake_root, RISK_ALERTS, strategy_id)
    earlier = earlier[earlier["run_id"] != run_id]
    if earlier.empty and alerts.empty:
        return 0
    frames = [f[RISK_ALERTS.columns] for f in (earlier, alerts) if not f.empty]
    write_partition(lake_root, RISK_ALERTS, strategy_id, pd.concat(frames, ignore_index=True))
    return len(alerts)


def empty_alerts() -> pd.DataFrame:
    """An alerts frame with no rows (columns of :data:`indexlake.risk.alerts.ALERT_COLUMNS`)."""
    return pd.DataFrame(columns=list(ALERT_COLUMNS))
