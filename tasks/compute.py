"""Prefect task around the index engine and risk metrics."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from indexlake.methodology.engine import InsufficientHistoryError
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline import compute


@task(name="compute-strategies", cache_policy=NO_CACHE)
def compute_strategies(
    lake_root: Path, strategies: list[Strategy], symbols: list[str], fallbacks: list[str]
) -> dict[str, dict[str, int]]:
    """Recompute and publish every strategy from the landed lake; rows written per strategy.

    A strategy that needs more history than is landed is skipped with a warning (its entry is
    empty) and keeps what it published before.
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
    for strategy in strategies:
        try:
            outputs = compute.compute_strategy(strategy, panel, fallbacks)
        except InsufficientHistoryError as exc:
            # Not an error of the run: the landed history is shorter than the strategy needs.
            logger.warning("%s not computed: %s", strategy.id, exc)
            written[strategy.id] = {}
            continue
        written[strategy.id] = compute.publish_outputs(lake_root, outputs)
        last = outputs.levels.iloc[-1]
        logger.info("%s: level %.4f on %s", strategy.id, last["level"], last["date"].date())
    return written
