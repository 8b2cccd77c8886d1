"""Recompute each published strategy with independent engines and compare with the lake."""

from __future__ import annotations

import importlib.util
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.compute import load_panel
from indexlake.verify import checks, peers, reference
from indexlake.verify.published import (
    NotPublishedError,
    Published,
    is_published,
    read_published,
)

# What each column of the report compares; printed above the table.
LEGEND = (
    "bt, vectorbt: levels and drifted weights of each engine's own portfolio, given the "
    "published targets at the rebalances its own calendar finds (third Fridays: the "
    "reference's), and the removal rule; total return: dividends paid on each engine's own "
    "holdings (bt: CouponPayingSecurity; vectorbt, which has no dividend input: added at the "
    "ex-date close) and reinvested pro rata in the whole index at that close",
    "identity: level = Σ landed close × index shares / divisor, daily return, constituents, "
    "published closes = landed closes (pandas)",
    "targets: published weights on rebalance days vs a pandas/scipy reference (calendar, "
    "reference lag, eligibility filters, top-N and its buffer, weighting)",
    "return: level_t / level_t-1 = Σ Q (P_t + Div_t) / Σ Q P_t-1 over the basket carried into "
    "the day (Div = 0 for price return; pandas)",
    "drift: weight = index shares × close / (level × divisor), shares frozen between "
    "rebalances (pandas)",
    "ffn: targets vs ffn.core.limit_weights on the cap-input weights (single cap only)",
)
COLUMNS = (
    ("bt levels", "bt lvl"),
    ("vectorbt levels", "vbt lvl"),
    ("identity", "ident"),
    ("return", "return"),
    ("bt weights", "bt w"),
    ("vectorbt weights", "vbt w"),
    ("targets", "targets"),
    ("drift", "drift"),
    ("ffn cap", "ffn"),
)


# Modules of the `verify` extra (pyproject.toml).
ENGINES = ("bt", "ffn", "vectorbt", "threadpoolctl")


class MissingEnginesError(ImportError):
    """The peer engines are not installed."""


class NotVerifiableError(ValueError):
    """A requested strategy uses settings the reference does not model."""


def require_engines() -> None:
    """Fail early, naming what to install, when a peer engine is missing."""
    missing = [name for name in ENGINES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingEnginesError(
            f"verify needs {', '.join(missing)}: pip install 'indexlake[verify]'"
        )


@dataclass
class StrategyReport:
    """Every check made for one strategy."""

    strategy_id: str
    days: int
    rebalances: int
    checks: list[checks.Check]
    seconds: float = 0.0
    # Days on which a peer engine applied the removal rule: {"bt": [...], "vectorbt": [...]}.
    removal_days: dict[str, list[pd.Timestamp]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def max_diff(self, *kinds: str) -> float:
        diffs = [c.diff for c in self.checks if c.kind in kinds]
        return max(diffs, default=0.0)

    def get(self, name: str) -> checks.Check | None:
        return next((c for c in self.checks if c.name == name), None)


@dataclass
class VerifyReport:
    """The reports of the verified strategies and the strategies with nothing published."""

    strategies: list[StrategyReport]
    not_published: list[str] = field(default_factory=list)
    # Strategy id -> settings the reference does not model (not verified).
    unmodelled: dict[str, list[str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.strategies)

    @property
    def max_level_diff(self) -> float:
        return max((s.max_diff("level") for s in self.strategies), default=0.0)

    @property
    def max_weight_diff(self) -> float:
        return max((s.max_diff("weight") for s in self.strategies), default=0.0)

    def summary(self) -> str:
        return (
            f"verify: {len(self.strategies)} strategies, "
            f"max level diff {self.max_level_diff:.2e}, "
            f"max weight diff {self.max_weight_diff:.2e}"
        )


def verify_strategy(
    strategy: Strategy, published: Published, market: reference.Market
) -> StrategyReport:
    """All checks of one strategy against the landed closes, caps, volumes and dividends."""
    t0 = time.perf_counter()
    levels = published.levels
    columns = reference.universe_columns(strategy, market.closes.columns)
    closes = market.closes.loc[: levels.index[-1], columns]

    def aligned(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame.reindex(index=closes.index, columns=columns)

    market = reference.Market(
        closes=closes,
        caps=aligned(market.caps),
        volumes=aligned(market.volumes),
        dividends=aligned(market.dividends),
    )
    if strategy.return_type == "total" and market.dividends is None:
        raise ValueError(f"{strategy.id} is total return but no dividends are landed")
    published_weights = published.weights()
    schedule = checks.schedule_check(strategy, published, market)
    found = [schedule]
    scheduled = reference.rebalance_schedule(strategy, closes.index)
    if schedule.diff == 0:
        rebalance_days = levels.index[levels["is_rebalance"].to_numpy(dtype=bool)]
    else:
        # Compare targets on the days the reference calendar rebalances (from the base date).
        rebalance_days = scheduled[scheduled >= levels.index[0]]
    ref_targets = checks.reference_targets(strategy, market, rebalance_days)
    found.append(checks.targets_check(ref_targets, published_weights))
    ffn = checks.ffn_check(strategy, market, ref_targets, published_weights)
    if ffn is not None:
        found.append(ffn)
    found.append(checks.drift_check(published, closes))
    found.append(checks.identity_check(published, closes))
    found.append(checks.return_check(strategy, published, market))

    # The peers hold only names the index ever held, from the base date on.
    held = published_weights.columns[(published_weights > 0).any()]
    window = closes.loc[levels.index[0] :, held]
    targets = published_weights.reindex(index=window.index, columns=held).fillna(0.0)
    # bt and vectorbt find first-trading-day rebalances with their own calendars; the
    # third-Friday days (which neither has) come from the reference calendar.
    days = None
    if strategy.rebalance_day != "first_trading_day":
        days = scheduled[scheduled >= levels.index[0]]
    paid = None
    if strategy.return_type == "total":
        paid = market.dividends.loc[window.index, held]
    removal_days = {}
    for name, run in (("bt", peers.bt_run), ("vectorbt", peers.vectorbt_run)):
        result = run(
            window,
            targets,
            strategy.rebalance,
            strategy.base_value,
            rebalance_days=days,
            dividends=paid,
        )
        found.extend(checks.peer_checks(name, result, published, published_weights))
        removal_days[name] = result.removal_days
    return StrategyReport(
        strategy_id=strategy.id,
        days=len(levels),
        rebalances=int(levels["is_rebalance"].sum()),
        checks=found,
        seconds=time.perf_counter() - t0,
        removal_days=removal_days,
    )


def verify_lake(
    lake_root: Path,
    strategies: list[Strategy],
    symbols: list[str],
    *,
    require_published: bool = False,
) -> VerifyReport:
    """Verify every strategy published in the lake (all of ``strategies`` if required).

    Strategies with settings the reference does not model are listed as not verified, or,
    when ``require_published`` (the strategies were asked for by id), refused.
    """
    lake_root = Path(lake_root)
    published = [s for s in strategies if is_published(lake_root, s.id)]
    missing = [s.id for s in strategies if not is_published(lake_root, s.id)]
    if require_published and missing:
        raise NotPublishedError(f"{lake_root}: nothing published for {', '.join(missing)}")
    unmodelled = {s.id: reference.unmodelled(s) for s in published if reference.unmodelled(s)}
    if require_published and unmodelled:
        named = "; ".join(f"{k} uses {', '.join(v)}" for k, v in unmodelled.items())
        raise NotVerifiableError(f"cannot verify: {named} (not modelled by the reference)")
    to_verify = [s for s in published if s.id not in unmodelled]
    reports = []
    if to_verify:
        require_engines()
        from threadpoolctl import threadpool_limits

        panel = load_panel(lake_root, symbols, [])
        # The matrices are small (members × members): threaded BLAS only adds contention (15x
        # slower SLSQP on two busy cores).
        with threadpool_limits(limits=1, user_api="blas"):
            for strategy in to_verify:
                try:
                    report = verify_strategy(
                        strategy,
                        read_published(lake_root, strategy.id),
                        reference.Market(
                            closes=panel.closes,
                            caps=panel.market_caps,
                            volumes=panel.volumes,
                            dividends=panel.dividends,
                        ),
                    )
                except (ValueError, KeyError, LookupError, ZeroDivisionError) as exc:
                    # Published data the checks cannot even line up is a failure of its own.
                    failed = checks.Check(
                        "error", "schedule", np.inf, 0.0, f"{type(exc).__name__}: {exc}"
                    )
                    report = StrategyReport(strategy.id, 0, 0, [failed])
                reports.append(report)
    return VerifyReport(strategies=reports, not_published=missing, unmodelled=unmodelled)


def render_text(report: VerifyReport) -> str:
    """The per-strategy table, the failures, and the summary line last."""
    lines = [textwrap.fill(text, width=100, subsequent_indent="    ") for text in LEGEND]
    header = f"{'strategy':<16}{'days':>6}{'rebal':>6}{'rm':>4}"
    header += "".join(f"{short:>9}" for _, short in COLUMNS) + f"{'secs':>6}  status"
    lines += ["", header]
    failures = []
    for s in report.strategies:
        cells = []
        for name, _ in COLUMNS:
            check = s.get(name)
            cells.append(f"{'-' if check is None else f'{check.diff:.1e}':>9}")
        status = "ok" if s.passed else "FAIL"
        removals = len(s.removal_days.get("bt", []))
        row = f"{s.strategy_id:<16}{s.days:>6}{s.rebalances:>6}{removals:>4}"
        row += f"{''.join(cells)}{s.seconds:>6.1f}"
        lines.append(f"{row}  {status}")
        failures += [f"FAIL {s.strategy_id}: {c.describe()}" for c in s.checks if not c.passed]
    lines += failures
    if report.not_published:
        lines.append(f"not published (skipped): {', '.join(report.not_published)}")
    for strategy_id, settings in report.unmodelled.items():
        lines.append(f"not verified: {strategy_id} uses {', '.join(settings)} (not modelled)")
    lines.append(report.summary())
    return "\n".join(lines)
