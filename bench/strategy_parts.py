"""Per-strategy parts of the compute step, timed apart (used by bench/run.py).

The recompute requirement (one strategy over 500 symbols x 25 years in at most
``ENGINE_TARGET`` seconds) is about the index engine: ``compute_index`` (levels, drifted
allocations, orders). The risk outputs derived from its levels, the output validation gate and
publishing the Parquet partitions are timed as their own parts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexlake.methodology.engine import compute_index
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline import compute, validate

ENGINE_TARGET = 0.5  # seconds, one strategy over 500 symbols x 25 years

Stage = Callable[[str], AbstractContextManager[dict[str, int]]]


@dataclass
class StrategyParts:
    """Wall seconds of each part of one strategy's compute step."""

    strategy_id: str
    engine: float
    engine_cpu: float  # CPU seconds of the process: on a shared machine, wall includes waiting
    risk: float
    gate: float
    publish: float
    allocations: int

    def line(self) -> str:
        verdict = "ok" if self.engine <= ENGINE_TARGET else "OVER"
        return (
            f"  {self.strategy_id:<14} engine {self.engine:5.2f} s, CPU {self.engine_cpu:4.2f} s "
            f"({verdict}, target <= {ENGINE_TARGET} s) | risk outputs {self.risk:5.2f} s | "
            f"output gate {self.gate:5.2f} s | publish {self.publish:5.2f} s | "
            f"{self.allocations:,} allocation rows"
        )


def bench_strategy(
    strategy: Strategy,
    panel: compute.Panel,
    lake_root: Path,
    gate: validate.OutputGate,
    stage: Stage,
) -> StrategyParts:
    """Run one strategy's compute step as the flow does, one timed stage per part.

    engine: ``compute_index``; risk outputs: risk metrics, rolling series, stress tests and
    the comparison row (``strategy_outputs``); output gate: the suites on levels,
    allocations, orders and risk metrics (results land in ``dq_results``); publish: every
    output partition.
    """
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}

    @contextmanager
    def timed(part: str, name: str) -> Iterator[dict[str, int]]:
        with stage(name) as counter:
            t0, cpu0 = time.perf_counter(), time.process_time()
            yield counter
            seconds[part] = time.perf_counter() - t0
            cpu[part] = time.process_time() - cpu0

    with timed("engine", f"engine {strategy.id}") as c:
        result = compute_index(
            strategy,
            panel.closes,
            panel.market_caps,
            dividends=panel.dividends,
            volumes=panel.volumes,
        )
        c["rows"] = len(result.allocations)
    with timed("risk", f"risk outputs {strategy.id}"):
        outputs = compute.strategy_outputs(strategy, result, panel)
    with timed("gate", f"output gate {strategy.id}"):
        reports = gate.check_outputs(outputs)
    failed = [r for r in reports if not r.success]
    if failed:
        raise SystemExit("\n\n".join(r.failure_message() for r in failed))
    with timed("publish", f"publish {strategy.id}"):
        compute.publish_outputs(lake_root, outputs)
    return StrategyParts(
        strategy.id,
        seconds["engine"],
        cpu["engine"],
        seconds["risk"],
        seconds["gate"],
        seconds["publish"],
        len(result.allocations),
    )


def print_parts(parts: list[StrategyParts]) -> None:
    """One line per strategy: the engine against its target, then the other parts."""
    print("recompute per strategy (the target applies to the engine):", flush=True)
    for p in parts:
        print(p.line(), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Only the compute step, on a lake an earlier ``bench/run.py --keep --workdir DIR`` left.

    .venv/bin/python bench/strategy_parts.py --workdir DIR [--symbols 500] [--only ID ...]
    """
    import argparse

    from run import REPO, stage  # bench/run.py: same stage lines

    from indexlake.config import SandboxSettings, Settings
    from indexlake.methodology.strategy import load_strategies
    from indexlake.quality.gx_context import batch_definition
    from indexlake.sources.factory import universe

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="the kept bench work dir")
    parser.add_argument("--symbols", type=int, default=500, help="as the run that made it")
    parser.add_argument("--only", nargs="*", default=None, help="strategy ids (default: all)")
    args = parser.parse_args(argv)
    settings = Settings(
        data_dir=args.workdir / "data",
        strategies_dir=REPO / "strategies",
        expectations_dir=REPO / "expectations",
        sandbox=SandboxSettings(n_symbols=args.symbols),
    )
    if not settings.lake_root.exists():
        raise SystemExit(f"--workdir {args.workdir}: no lake at {settings.lake_root}")
    strategies = [
        s for s in load_strategies(settings.strategies_dir) if not args.only or s.id in args.only
    ]
    members = universe(settings)
    with stage("load panel (DuckDB)") as c:
        panel = compute.load_panel(settings.lake_root, members, [settings.benchmark])
        c["rows"] = int(panel.closes.notna().sum().sum())
    batch_definition()  # the GX import, paid once before (as the flow warms it up)
    gate = validate.OutputGate(settings.expectations_dir, settings.lake_root, "bench")
    print_parts([bench_strategy(s, panel, settings.lake_root, gate, stage) for s in strategies])


if __name__ == "__main__":
    main()
