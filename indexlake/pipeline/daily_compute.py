"""Daily compute: append the sessions after a strategy's last published day, else recompute.

A published strategy is continued with ``append.append_days`` instead of being recomputed over
its whole history when nothing it was computed from has changed. The compute state written
next to its outputs (``<lake>/_state/compute/<strategy_id>.json``) records

* the fingerprint of its definition: the strategy fields that shape levels, allocations and
  orders (not its name, owner, visibility, description, benchmark or alert thresholds), plus
  the source code of ``indexlake/methodology``;
* its last published day and the number of published level rows;
* a digest of the input panels (closes, market caps, volumes, dividends) through that day.

All of them must match the lake as it is now; any difference (an edited strategy file or
engine, prices / market caps / dividends on or before the last published day landed again
with other values or backfilled, a gap that moved the start of the panel, outputs published
without a state) means a full recompute. Landing the same values again changes nothing, so it
does not force one. The engine's append arithmetic equals a full recompute
(tests/methodology/test_incremental_properties.py); risk metrics, rolling and stress outputs
are always recomputed from the full level series.

Computation is incremental, storage is not: the strategy's partition of every output dataset
is rewritten as a whole file (atomic replace, ``lake/partitions.py``) with the appended rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from indexlake.lake.partitions import read_partition, write_text_atomic
from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS, REBALANCE_ORDERS
from indexlake.methodology import engine
from indexlake.methodology.append import append_days, state_from_result
from indexlake.methodology.engine import IndexResult
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.compute import (
    Panel,
    StrategyOutputs,
    compute_strategy,
    publish_outputs,
    strategy_outputs,
)
from indexlake.risk.settings import RiskSettings

STATE_DIR = Path("_state") / "compute"
STATE_VERSION = 1
# Strategy fields that shape none of levels, allocations and orders (the risk outputs that
# use the benchmark and alert thresholds are recomputed on every run anyway).
PRESENTATION_FIELDS = frozenset(
    {"name", "owner", "visibility", "description", "benchmark", "alerts"}
)
METHODOLOGY_DIR = Path(engine.__file__).resolve().parent

Mode = Literal["appended", "recomputed"]


@dataclass(frozen=True)
class Computation:
    """How a strategy's outputs were computed in a run: ``appended`` (``days`` new sessions
    continued from the published state) or ``recomputed`` over its whole history (``days``
    output days), with the ``reason``."""

    strategy_id: str
    mode: Mode
    days: int
    reason: str = ""

    def describe(self) -> str:
        """E.g. 'appended 1 day' or 'recomputed 251 days (strategy definition changed)'."""
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        return f"{self.mode} {days}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class ComputeState:
    """What a strategy's published outputs were computed from (one JSON file per strategy)."""

    fingerprint: str
    last_date: date
    levels: int
    inputs_digest: str
    version: int = STATE_VERSION

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "last_date": self.last_date.isoformat()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ComputeState:
        raw = json.loads(text)
        return cls(
            fingerprint=str(raw["fingerprint"]),
            last_date=date.fromisoformat(raw["last_date"]),
            levels=int(raw["levels"]),
            inputs_digest=str(raw["inputs_digest"]),
            version=int(raw["version"]),
        )


@cache
def methodology_digest() -> str:
    """Digest of the engine's source files: a changed methodology means a full recompute."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(METHODOLOGY_DIR.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def strategy_fingerprint(strategy: Strategy) -> str:
    """Digest of the strategy fields that shape its index, and of the methodology code."""
    definition = strategy.model_dump(mode="json", exclude=set(PRESENTATION_FIELDS))
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    h = hashlib.blake2b(digest_size=16)
    h.update(text.encode())
    h.update(methodology_digest().encode())
    return h.hexdigest()


def _frame_digest(h: hashlib.blake2b, name: str, frame: pd.DataFrame | None) -> None:
    h.update(name.encode())
    if frame is None:
        h.update(b"<none>")
        return
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    # A symbol with no value at all through the day (e.g. first landed after it) cannot have
    # shaped the published rows: leave it out, and fix the column order.
    names = np.array([str(c) for c in frame.columns], dtype=object)
    keep = np.flatnonzero(~missing.all(axis=0))
    keep = keep[np.argsort(names[keep], kind="stable")]
    h.update("\x1f".join(names[keep]).encode())
    h.update(np.ascontiguousarray(frame.index.to_numpy().astype("datetime64[D]")).tobytes())
    values = values[:, keep]  # a copy: safe to write into
    values[missing[:, keep]] = np.nan  # one NaN bit pattern
    h.update(values.tobytes())


class PanelDigests:
    """Digests of a panel's inputs through a day, computed once per day asked for."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self._done: dict[pd.Timestamp, str] = {}

    def through(self, day: pd.Timestamp) -> str:
        """Digest of closes, market caps, volumes and dividends on the panel days ≤ ``day``."""
        day = pd.Timestamp(day)
        if day not in self._done:
            p = self.panel
            h = hashlib.blake2b(digest_size=16)
            for name, frame in (
                ("closes", p.closes),
                ("market_caps", p.market_caps),
                ("volumes", p.volumes),
                ("dividends", p.dividends),
            ):
                _frame_digest(h, name, None if frame is None else frame.loc[:day])
            self._done[day] = h.hexdigest()
        return self._done[day]


def state_path(lake_root: Path, strategy_id: str) -> Path:
    """The compute state file of one strategy."""
    return Path(lake_root) / STATE_DIR / f"{strategy_id}.json"


def read_state(lake_root: Path, strategy_id: str) -> ComputeState | None:
    """The strategy's compute state; None when absent, unreadable or of another version."""
    path = state_path(lake_root, strategy_id)
    try:
        state = ComputeState.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if state.version == STATE_VERSION else None


def write_state(lake_root: Path, strategy_id: str, state: ComputeState) -> Path:
    """Write the compute state atomically (temp file + rename)."""
    return write_text_atomic(state_path(lake_root, strategy_id), state.to_json())


def clear_state(lake_root: Path, strategy_id: str) -> None:
    """Forget the compute state (the next run recomputes the strategy in full)."""
    state_path(lake_root, strategy_id).unlink(missing_ok=True)


def _as_engine_frame(frame: pd.DataFrame, dates: tuple[str, ...]) -> pd.DataFrame:
    """A published partition read back with the engine's dtypes (ns dates, int32 counts)."""
    frame = frame.copy(deep=False)  # new columns below, shared data otherwise
    for column in dates:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    if "constituents" in frame.columns:
        frame["constituents"] = frame["constituents"].astype(np.int32)
    if "is_rebalance" in frame.columns:
        frame["is_rebalance"] = frame["is_rebalance"].astype(bool)
    return frame


def _published(lake_root: Path, strategy_id: str) -> IndexResult:
    return IndexResult(
        levels=_as_engine_frame(read_partition(lake_root, INDEX_LEVELS, strategy_id), ("date",)),
        allocations=_as_engine_frame(
            read_partition(lake_root, ALLOCATIONS, strategy_id), ("date",)
        ),
        orders=_as_engine_frame(
            read_partition(lake_root, REBALANCE_ORDERS, strategy_id), ("rebalance_date",)
        ),
    )


def _why_not_append(
    lake_root: Path, strategy: Strategy, panel: Panel, digests: PanelDigests
) -> tuple[str, IndexResult | None]:
    """The reason a strategy must be recomputed (with nothing), or "" and its published rows."""
    state = read_state(lake_root, strategy.id)
    if state is None:
        return "no compute state", None
    if state.fingerprint != strategy_fingerprint(strategy):
        return "strategy definition or methodology changed", None
    published = _published(lake_root, strategy.id)
    levels = published.levels
    if levels.empty or len(levels) != state.levels:
        return "published levels do not match the compute state", None
    last = pd.Timestamp(levels["date"].max())
    if last.date() != state.last_date:
        return "published levels do not match the compute state", None
    if last not in panel.closes.index or levels["date"].min() < panel.closes.index[0]:
        return (
            f"the landed panel no longer covers {levels['date'].min().date()}..{last.date()}",
            None,
        )
    if digests.through(last) != state.inputs_digest:
        return f"landed inputs on or before {last.date()} changed", None
    return "", published


def compute_daily(
    strategy: Strategy,
    panel: Panel,
    lake_root: Path,
    digests: PanelDigests,
    fallbacks: list[str] | None = None,
    *,
    risk_settings: RiskSettings | None = None,
    sectors: Mapping[str, str] | None = None,
    incremental: bool = True,
) -> tuple[StrategyOutputs, Computation]:
    """The strategy's outputs over the whole panel, appending the sessions after its last
    published day when its compute state allows it (see the module notes), else recomputing
    everything; and how it was done."""
    reason, published = (
        _why_not_append(lake_root, strategy, panel, digests)
        if incremental
        else ("full recompute requested", None)
    )
    if published is not None:
        try:
            state = state_from_result(published.levels, published.allocations)
            tail, _ = append_days(
                strategy,
                state,
                panel.closes,
                panel.market_caps,
                dividends=panel.dividends,
                volumes=panel.volumes,
            )
        except ValueError as exc:
            # Whatever the append cannot continue from, a full recompute settles (or reports).
            reason = f"cannot append: {exc}"
        else:
            result = IndexResult(
                *(
                    pd.concat([getattr(published, n), getattr(tail, n)], ignore_index=True)
                    for n in ("levels", "allocations", "orders")
                )
            )
            outputs = strategy_outputs(
                strategy, result, panel, fallbacks, risk_settings=risk_settings, sectors=sectors
            )
            return outputs, Computation(strategy.id, "appended", len(tail.levels))
    outputs = compute_strategy(
        strategy, panel, fallbacks, risk_settings=risk_settings, sectors=sectors
    )
    return outputs, Computation(strategy.id, "recomputed", len(outputs.levels), reason)


def publish_daily(
    lake_root: Path, strategy: Strategy, outputs: StrategyOutputs, digests: PanelDigests
) -> dict[str, int]:
    """Publish the strategy's outputs, then the compute state they were computed from.

    The old state is removed first, so outputs published without a state (a crash between the
    two) are recomputed in full next time rather than continued.
    """
    clear_state(lake_root, strategy.id)
    written = publish_outputs(lake_root, outputs)
    last = pd.Timestamp(outputs.levels["date"].max())
    state = ComputeState(
        fingerprint=strategy_fingerprint(strategy),
        last_date=last.date(),
        levels=len(outputs.levels),
        inputs_digest=digests.through(last),
    )
    write_state(lake_root, strategy.id, state)
    return written
