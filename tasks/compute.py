"""Prefect task around the index engine and risk metrics."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from indexlake.methodology.engine import InsufficientHistoryError
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline import compute, daily_compute, risk_outputs, validate
from indexlake.risk.settings import RiskSettings


class ComputeRun(NamedTuple):
    """Rows written per strategy and dataset, and how each computed strategy was computed
    (``daily_compute.Computation.describe()``, e.g. "appended 1 day")."""

    written: dict[str, dict[str, int]]
    computation: dict[str, str]


@task(name="compute-strategies", cache_policy=NO_CACHE)
def compute_strategies(
    lake_root: Path,
    strategies: list[Strategy],
    symbols: list[str],
    fallbacks: list[str],
    *,
    risk_settings: RiskSettings | None = None,
    sectors: Mapping[str, str] | None = None,
    gate: validate.OutputGate | None = None,
    incremental: bool = False,
) -> ComputeRun:
    """Compute and publish every strategy from the landed lake; rows written per strategy.

    ``incremental`` (the daily refresh): a strategy whose definition and inputs through its
    last published day are unchanged gets only the new sessions appended
    (``daily_compute``); otherwise, and always without it, it is recomputed in full.

    A strategy that needs more history than is landed is skipped with a warning (its entry is
    empty) and keeps what it published before. Once all are computed, their
    ``strategy_comparison`` rows are published. With a ``gate``, a strategy whose outputs fail
    a critical expectation is not published (its entry is empty; ``gate.failures`` says why).
    """
    logger = get_run_logger()
    benchmarks = list(dict.fromkeys([*(s.benchmark for s in strategies), *fallbacks]))
    panel = compute.load_panel(lake_root, symbols, benchmarks)
    logger.info(
        "panel: %d days x %d symbols, benchmarks %s",
        len(panel.closes),
        panel.closes.shape[1],
        ", ".join(benchmarks),
    )
    for lo, hi in panel.gaps:
        logger.warning(
            "landed history lacks sessions %s..%s: strategies start after it; "
            "backfill that range to extend them",
            lo,
            hi,
        )
    written: dict[str, dict[str, int]] = {}
    computation: dict[str, str] = {}
    digests = daily_compute.PanelDigests(panel)
    comparison = []
    for strategy in strategies:
        try:
            outputs, how = daily_compute.compute_daily(
                strategy,
                panel,
                lake_root,
                digests,
                fallbacks,
                risk_settings=risk_settings,
                sectors=sectors,
                incremental=incremental,
            )
        except InsufficientHistoryError as exc:
            # Not an error of the run: the landed history is shorter than the strategy needs.
            logger.warning("%s not computed: %s", strategy.id, exc)
            written[strategy.id] = {}
            continue
        if gate is not None and not all(r.success for r in gate.check_outputs(outputs)):
            # A critical data quality failure: keep what this strategy published before.
            for report in gate.failures_of(strategy.id):
                logger.error("%s", report.failure_message())
            written[strategy.id] = {}
            continue
        written[strategy.id] = daily_compute.publish_daily(lake_root, strategy, outputs, digests)
        computation[strategy.id] = how.describe()
        comparison.append(outputs.comparison)
        last = outputs.levels.iloc[-1]
        logger.info(
            "%s: level %.4f on %s (%s)",
            strategy.id,
            last["level"],
            last["date"].date(),
            how.describe(),
        )
    rows = risk_outputs.publish_comparison(lake_root, comparison)
    logger.info("strategy_comparison: %d rows", rows)
    return ComputeRun(written, computation)
