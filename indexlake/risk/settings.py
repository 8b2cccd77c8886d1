"""Risk settings: alert thresholds, named stress windows and the sector shock.

Plain pydantic models (no pandas) so both ``indexlake.config`` and the strategy files can use
them. Every figure is a fraction: -0.15 is a 15% drawdown, 0.30 a 30% annualised volatility.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Defaults of the alert thresholds (Settings.risk.alerts); a strategy's [alerts] table overrides.
DEFAULT_DRAWDOWN_ALERT = -0.15
DEFAULT_VOLATILITY_ALERT = 0.30
DEFAULT_TRACKING_ERROR_ALERT = 0.05
# Every constituent of one sector moves by this much in the sector stress test.
DEFAULT_SECTOR_SHOCK = -0.20

Drawdown = Annotated[float, Field(ge=-1, lt=0)]
Positive = Annotated[float, Field(gt=0)]


class AlertThresholds(BaseModel):
    """Levels past which a strategy's published risk raises an alert; None switches one off.

    - ``drawdown``: the current drawdown (last date's underwater value) below this;
    - ``volatility``: the trailing 252-day annualised volatility above this;
    - ``tracking_error``: the trailing 252-day tracking error against the benchmark above this.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    drawdown: Drawdown | None = DEFAULT_DRAWDOWN_ALERT
    volatility: Positive | None = DEFAULT_VOLATILITY_ALERT
    tracking_error: Positive | None = DEFAULT_TRACKING_ERROR_ALERT


class StrategyAlerts(BaseModel):
    """A strategy file's optional ``[alerts]`` table: the thresholds it sets for itself.

    A field left out keeps the default from the settings (``risk.alerts``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    drawdown: Drawdown | None = None
    volatility: Positive | None = None
    tracking_error: Positive | None = None

    def over(self, defaults: AlertThresholds) -> AlertThresholds:
        """The thresholds that apply: this table's fields where set, else ``defaults``."""
        return defaults.model_copy(update=self.model_dump(exclude_none=True))


class StressWindow(BaseModel):
    """A named historical window replayed on the levels, first and last close inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1)]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> StressWindow:
        if self.end < self.start:
            raise ValueError(f"stress window {self.name!r}: end {self.end} is before start")
        return self


def _default_windows() -> list[StressWindow]:
    return [
        StressWindow(name="GFC", start=date(2008, 9, 15), end=date(2009, 3, 9)),
        StressWindow(name="COVID", start=date(2020, 2, 19), end=date(2020, 3, 23)),
    ]


class RiskSettings(BaseModel):
    """Alert thresholds, stress windows and the sector shock used by every strategy."""

    model_config = ConfigDict(extra="forbid")

    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    stress_windows: list[StressWindow] = Field(default_factory=_default_windows)
    sector_shock: Annotated[float, Field(ge=-1, le=1)] = DEFAULT_SECTOR_SHOCK
    # Sector label per symbol; overrides the sandbox market's own labels (see sources.sectors).
    sectors: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    # Benchmark moves applied through beta in the stress tests.
    benchmark_shocks: list[Annotated[float, Field(ge=-1, le=1)]] = Field(
        default_factory=lambda: [-0.1, -0.2, -0.3]
    )

    @field_validator("stress_windows")
    @classmethod
    def _unique_names(cls, v: list[StressWindow]) -> list[StressWindow]:
        names = [w.name for w in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stress window names repeat: {', '.join(dupes)}")
        return v

    @field_validator("sectors")
    @classmethod
    def _upper_keys(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.strip().upper(): s.strip() for k, s in v.items()}
