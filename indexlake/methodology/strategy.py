"""Strategy definitions: one TOML file per custom index, validated once at load time."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from indexlake.methodology.two_level_cap import two_level_min_names
from indexlake.risk.settings import StrategyAlerts

STRATEGY_FILE_SUFFIX = ".toml"
# The id is also a hive partition value (strategy_id=...), so keep it filesystem- and URL-safe.
STRATEGY_ID_PATTERN = r"^[a-z0-9_]+$"
DEFAULT_BASE_VALUE = 1000.0
DEFAULT_NOTIONAL_USD = 1_000_000.0
DEFAULT_BENCHMARK = "SPX"
DEFAULT_OWNER = "indexlake"
# The reference date is this many trading days before the rebalance day (1: the prior close).
DEFAULT_REFERENCE_LAG_DAYS = 1
MAX_REFERENCE_LAG_DAYS = 63
DEFAULT_LIQUIDITY_LOOKBACK = 63
# Two daily returns are the fewest with a sample (ddof = 1) standard deviation; ten years of
# trading days is far beyond any sensible window, so a larger value is taken for a typo.
MIN_LOOKBACK_DAYS = 2
MAX_LOOKBACK_DAYS = 2520
# Fields holding a tagged union: pydantic puts the tag in the error location, which we drop.
_UNION_FIELDS = frozenset({"selection", "weighting", "universe"})

_MODEL_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True)


class SymbolsUniverse(BaseModel):
    """An explicit list of symbols (those not landed are simply absent from the panel)."""

    model_config = _MODEL_CONFIG
    type: Literal["symbols"]
    symbols: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]

    @field_validator("symbols")
    @classmethod
    def _unique(cls, symbols: list[str]) -> list[str]:
        duplicated = sorted({s for s in symbols if symbols.count(s) > 1})
        if duplicated:
            raise ValueError(f"duplicate symbols: {', '.join(duplicated)}")
        return symbols


class LandedUniverse(BaseModel):
    """Every landed symbol, optionally filtered at each reference date.

    - ``min_listing_days``: at least this many trading days from the symbol's first close in the
      panel to the reference date, both included.
    - ``min_median_dollar_volume``: the median of close × volume over the ``liquidity_lookback``
      trading days ending at the reference date (days without a close or a volume skipped; no
      such day: not eligible) is at least this many USD.
    """

    model_config = _MODEL_CONFIG
    type: Literal["landed"]
    min_listing_days: Annotated[int, Field(ge=1, le=MAX_LOOKBACK_DAYS * 10)] | None = None
    min_median_dollar_volume: Annotated[float, Field(gt=0)] | None = None
    liquidity_lookback: Annotated[int, Field(ge=1, le=MAX_LOOKBACK_DAYS)] = (
        DEFAULT_LIQUIDITY_LOOKBACK
    )


Universe = Annotated[SymbolsUniverse | LandedUniverse, Field(discriminator="type")]


class AllSelection(BaseModel):
    """Every eligible symbol in the universe."""

    model_config = _MODEL_CONFIG
    type: Literal["all"]


class TopNSelection(BaseModel):
    """The n largest eligible symbols by reference-date market cap, with an optional buffer.

    Buffer rule (the FTSE UK Index Series periodic-review convention, e.g. FTSE 100 with n = 100
    and buffer = 10: "insert at 90th or above, delete at 111th or below"): rank the eligible
    symbols by reference-date cap (ties by symbol). A non-member enters when ranked ≤ n − buffer;
    a current member stays while ranked ≤ n + buffer. If that gives more than n names, the
    lowest-ranked are dropped; if fewer, the highest-ranked of the others are added, so the index
    always holds exactly min(n, eligible) names. Current members are the names selected at the
    previous rebalance and still held at the reference-date close. buffer = 0 is plain top-N.
    """

    model_config = _MODEL_CONFIG
    type: Literal["top_n"]
    n: Annotated[int, Field(gt=0)]
    buffer: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _buffer_below_n(self) -> TopNSelection:
        if self.buffer >= self.n:
            raise PydanticCustomError(
                "buffer_too_large",
                "buffer {buffer} must be below n = {n} (newcomers enter at rank ≤ n − buffer)",
                {"buffer": self.buffer, "n": self.n},
            )
        return self


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


LookbackDays = Annotated[int, Field(ge=MIN_LOOKBACK_DAYS, le=MAX_LOOKBACK_DAYS)]
Fraction = Annotated[float, Field(gt=0, le=1)]


class InverseVolatilityWeighting(BaseModel):
    """Weights proportional to 1/σ of daily simple returns over `lookback` trading days."""

    model_config = _MODEL_CONFIG
    type: Literal["inverse_volatility"]
    lookback: LookbackDays


class MinimumVarianceWeighting(BaseModel):
    """Long-only minimum-variance weights from a shrunk covariance, optional per-name cap."""

    model_config = _MODEL_CONFIG
    type: Literal["minimum_variance"]
    lookback: LookbackDays
    # δ in Σ = (1 − δ)·S + δ·(trace(S)/N)·I; required so that a file states its estimator.
    shrinkage: Annotated[float, Field(ge=0, le=1)]
    max_weight: Fraction | None = None


class TwoLevelCappedMarketCapWeighting(BaseModel):
    """Market-cap weights under a per-name cap and a cap on the sum of the large names."""

    model_config = _MODEL_CONFIG
    type: Literal["two_level_capped_market_cap"]
    max_weight: Fraction
    group_threshold: Annotated[float, Field(gt=0, lt=1)]
    group_max: Fraction


Selection = Annotated[AllSelection | TopNSelection, Field(discriminator="type")]
Weighting = Annotated[
    MarketCapWeighting
    | CappedMarketCapWeighting
    | EqualWeighting
    | InverseVolatilityWeighting
    | MinimumVarianceWeighting
    | TwoLevelCappedMarketCapWeighting,
    Field(discriminator="type"),
]
# Weightings computed from a window of daily returns ending at the reference date.
LookbackWeighting = InverseVolatilityWeighting | MinimumVarianceWeighting


def _infeasible(field: str, message: str, **context: object) -> PydanticCustomError:
    """A model-level error whose message starts with the offending field's path."""
    return PydanticCustomError("infeasible_weighting", f"weighting.{field}: {message}", context)


class Strategy(BaseModel):
    """A custom index: which symbols, how they are weighted, and when it rebalances."""

    model_config = _MODEL_CONFIG

    id: Annotated[str, Field(pattern=STRATEGY_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1)]
    owner: Annotated[str, Field(min_length=1)] = DEFAULT_OWNER
    visibility: Literal["public", "private"] = "public"
    description: str = ""
    universe: Universe = LandedUniverse(type="landed")
    selection: Selection
    weighting: Weighting
    # Close of the first trading day of each new month/quarter/year, or of the third Friday of
    # each month / Mar-Jun-Sep-Dec / December (see schedule.py).
    rebalance: Literal["monthly", "quarterly", "annual"]
    rebalance_day: Literal["first_trading_day", "third_friday"] = "first_trading_day"
    reference_lag_days: Annotated[int, Field(ge=1, le=MAX_REFERENCE_LAG_DAYS)] = (
        DEFAULT_REFERENCE_LAG_DAYS
    )
    # First day of the index (level = base_value at its close); default: as early as the data
    # allows. Checked against the panel when computing.
    base_date: date | None = None
    return_type: Literal["price", "total"] = "price"
    base_value: Annotated[float, Field(gt=0)] = DEFAULT_BASE_VALUE
    notional: Annotated[float, Field(gt=0)] = DEFAULT_NOTIONAL_USD
    benchmark: Annotated[str, Field(min_length=1)] = DEFAULT_BENCHMARK
    # The file the strategy was loaded from, for error messages (not part of the definition).
    _source: Path | None = PrivateAttr(default=None)

    def where(self, field: str) -> str:
        """``"<file>: <field>"`` (or ``"strategy <id>: <field>"``) for error messages."""
        origin = str(self._source) if self._source is not None else f"strategy {self.id}"
        return f"{origin}: {field}"

    # Optional [alerts] table: risk alert thresholds overriding the settings' defaults.
    alerts: StrategyAlerts = Field(default_factory=StrategyAlerts)

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

    @model_validator(mode="after")
    def _universe_can_meet_the_cap(self) -> Strategy:
        # An explicit universe bounds the member count whatever the selection.
        if not isinstance(self.universe, SymbolsUniverse):
            return self
        most = len(self.universe.symbols)
        if isinstance(self.selection, TopNSelection):
            most = min(most, self.selection.n)
        w = self.weighting
        cap = getattr(w, "cap", None) or getattr(w, "max_weight", None)
        if cap is not None and most * cap < 1:
            field = "cap" if isinstance(w, CappedMarketCapWeighting) else "max_weight"
            raise _infeasible(
                field,
                "{cap} is infeasible for at most {most} names (universe.symbols lists {count}): "
                "names × cap = {total} < 1",
                cap=cap,
                most=most,
                count=len(self.universe.symbols),
                total=round(most * cap, 12),
            )
        return self

    @model_validator(mode="after")
    def _new_weightings_are_feasible(self) -> Strategy:
        # With "all" the member count is only known at each rebalance; the weight functions
        # check then. Here: contradictions visible from the file alone.
        w = self.weighting
        n = self.selection.n if isinstance(self.selection, TopNSelection) else None
        if isinstance(w, MinimumVarianceWeighting):
            if n is not None and w.max_weight is not None and n * w.max_weight < 1:
                raise _infeasible(
                    "max_weight",
                    "a max_weight of {cap} is infeasible for selection.n = {n} "
                    "(n × max_weight = {total} < 1); raise it to at least {minimum}",
                    cap=w.max_weight,
                    n=n,
                    total=round(n * w.max_weight, 12),
                    minimum=1 / n,
                )
            if n is not None and w.shrinkage == 0 and w.lookback <= n:
                raise _infeasible(
                    "shrinkage",
                    "shrinkage 0 with lookback {lookback} ≤ selection.n = {n} gives a singular "
                    "covariance; use shrinkage > 0 or a lookback above {n}",
                    lookback=w.lookback,
                    n=n,
                )
        if isinstance(w, TwoLevelCappedMarketCapWeighting):
            if w.group_threshold >= w.max_weight:
                raise _infeasible(
                    "group_threshold",
                    "group_threshold {threshold} must be below max_weight {cap}",
                    threshold=w.group_threshold,
                    cap=w.max_weight,
                )
            needed = two_level_min_names(w.max_weight, w.group_threshold, w.group_max)
            if n is not None and n < needed:
                raise _infeasible(
                    "max_weight",
                    "max_weight {cap} / group_threshold {threshold} / group_max {group} is "
                    "infeasible for selection.n = {n}: it needs at least {needed} names",
                    cap=w.max_weight,
                    threshold=w.group_threshold,
                    group=w.group_max,
                    n=n,
                    needed=needed,
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
        strategy = Strategy.model_validate(raw)
    except ValidationError as exc:
        raise StrategyFileError(_format_errors(path, exc)) from exc
    strategy._source = path
    return strategy


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
