"""Strategy definitions: one TOML file per custom index, validated once at load time."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

STRATEGY_FILE_SUFFIX = ".toml"
# The id is also a hive partition value (strategy_id=...), so keep it filesystem- and URL-safe.
STRATEGY_ID_PATTERN = r"^[a-z0-9_]+$"
DEFAULT_BASE_VALUE = 1000.0
DEFAULT_NOTIONAL_USD = 1_000_000.0
DEFAULT_BENCHMARK = "SPX"
# Fields holding a tagged union: pydantic puts the tag in the error location, which we drop.
_UNION_FIELDS = frozenset({"selection", "weighting"})

_MODEL_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True)


class AllSelection(BaseModel):
    """Every eligible symbol in the universe."""

    model_config = _MODEL_CONFIG
    type: Literal["all"]


class TopNSelection(BaseModel):
    """The n largest eligible symbols by reference-date market cap."""

    model_config = _MODEL_CONFIG
    type: Literal["top_n"]
    n: Annotated[int, Field(gt=0)]


class MarketCapWeighting(BaseModel):
    """Weights proportional to reference-date market cap."""

    model_config = _MODEL_CONFIG
    type: Literal["market_cap"]


class CappedMarketCapWeighting(BaseModel):
    """Market-cap weights with a single per-name cap (fraction of the index)."""

    model_config = _MODEL_CONFIG
    type: Literal["capped_market_cap"]
    cap: Annotated[float, Field(gt=0, le=1)]


class EqualWeighting(BaseModel):
    """Every member 1/N at each rebalance."""

    model_config = _MODEL_CONFIG
    type: Literal["equal"]


Selection = Annotated[AllSelection | TopNSelection, Field(discriminator="type")]
Weighting = Annotated[
    MarketCapWeighting | CappedMarketCapWeighting | EqualWeighting,
    Field(discriminator="type"),
]


class Strategy(BaseModel):
    """A custom index: which symbols, how they are weighted, and when it rebalances."""

    model_config = _MODEL_CONFIG

    id: Annotated[str, Field(pattern=STRATEGY_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    selection: Selection
    weighting: Weighting
    # At the close of the first trading day of each new month/quarter (see schedule.py).
    rebalance: Literal["monthly", "quarterly"]
    base_value: Annotated[float, Field(gt=0)] = DEFAULT_BASE_VALUE
    notional: Annotated[float, Field(gt=0)] = DEFAULT_NOTIONAL_USD
    benchmark: Annotated[str, Field(min_length=1)] = DEFAULT_BENCHMARK

    @model_validator(mode="after")
    def _cap_is_feasible(self) -> Strategy:
        # With "all" the member count is only known at each rebalance; capped_weights checks then.
        if isinstance(self.weighting, CappedMarketCapWeighting) and isinstance(
            self.selection, TopNSelection
        ):
            n, cap = self.selection.n, self.weighting.cap
            if n * cap < 1:
                raise PydanticCustomError(
                    "infeasible_cap",
                    "weighting.cap: a cap of {cap} is infeasible for selection.n = {n} "
                    "(n × cap = {total} < 1); raise the cap to at least {minimum}",
                    {"cap": cap, "n": n, "total": round(n * cap, 12), "minimum": 1 / n},
                )
        return self


class StrategyFileError(ValueError):
    """A strategy file (or set of files) that cannot be used; the message names file and field."""


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        # Drop the discriminator tag pydantic inserts after a union field ("weighting.equal.cap").
        if i == 1 and loc[0] in _UNION_FIELDS:
            continue
        parts.append(str(part))
    return ".".join(parts)


def _format_errors(path: Path, error: ValidationError) -> str:
    lines = []
    for err in error.errors(include_url=False):
        field = _field_path(tuple(err["loc"]))
        lines.append(f"{path}: {field}: {err['msg']}" if field else f"{path}: {err['msg']}")
    return "\n".join(lines)


def load_strategy(path: Path) -> Strategy:
    """The strategy defined in one TOML file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
    except OSError as exc:
        raise StrategyFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StrategyFileError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return Strategy.model_validate(raw)
    except ValidationError as exc:
        raise StrategyFileError(_format_errors(path, exc)) from exc


def load_strategies(directory: Path, ids: Sequence[str] | None = None) -> list[Strategy]:
    """All strategies in a directory (or the requested ids), sorted by id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise StrategyFileError(f"{directory}: not a directory of strategy files")
    by_id: dict[str, tuple[Path, Strategy]] = {}
    for path in sorted(directory.glob(f"*{STRATEGY_FILE_SUFFIX}")):
        strategy = load_strategy(path)
        if strategy.id in by_id:
            other = by_id[strategy.id][0]
            raise StrategyFileError(
                f"{path}: id: duplicate strategy id {strategy.id!r} (also defined in {other})"
            )
        by_id[strategy.id] = (path, strategy)
    if ids is None:
        return [by_id[k][1] for k in sorted(by_id)]
    unknown = sorted(set(ids) - set(by_id))
    if unknown:
        available = ", ".join(sorted(by_id)) or "none"
        raise StrategyFileError(
            f"{directory}: unknown strategy id(s) {', '.join(unknown)}; available: {available}"
        )
    return [by_id[k][1] for k in sorted(set(ids))]
