"""Settings, resolved once at the edge (CLI, flow entry, API start) and passed down.

Precedence: explicit keyword arguments > environment (``INDEXLAKE_*``, nested with ``__``)
> the TOML file (``indexlake.toml`` in the working directory, or ``$INDEXLAKE_CONFIG``) > defaults.
The Twelve Data key is read from ``TWELVEDATA_API_KEY`` and never printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, PositiveFloat, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from indexlake.risk.settings import RiskSettings

DEFAULT_CONFIG_FILE = "indexlake.toml"


class SandboxSettings(BaseModel):
    """The built-in synthetic market served over loopback HTTP."""

    seed: int = 42
    n_symbols: int = Field(100, ge=1, le=5000)
    # 0 means unlimited; otherwise the sandbox answers 429 past this many credits a minute.
    credits_per_minute: int = Field(0, ge=0)
    host: str = "127.0.0.1"
    # 0 picks a free port each time the pipeline starts the sandbox.
    port: int = Field(0, ge=0, le=65535)
    # What the simulated plan includes: turn these off to run the market cap fallback chain
    # (/market_cap, then /statistics) and the benchmark fallback (SPX, then the ETFs).
    market_cap_plan: bool = True
    statistics_plan: bool = True
    index_access: bool = True
    # Serve from a child process (its own core and GIL) instead of a thread: for large runs
    # and the benchmark; switchable faults need the in-thread server.
    own_process: bool = False
    # Length of the sandbox's credit "minute" (the client paces to the same length); shorten
    # it to exercise the limits quickly. 0 credits a day means unlimited.
    minute_seconds: float = Field(60.0, gt=0)
    credits_per_day: int = Field(0, ge=0)
    # Switchable faults, kind -> probability (indexlake.sources.sandbox.faults.FAULT_KINDS, or
    # `all`), e.g. INDEXLAKE_SANDBOX__FAULTS__TIMEOUT=0.02; deterministic for a `fault_seed`.
    faults: dict[str, float] = Field(default_factory=dict)
    # kind -> 1-based request ordinals (symbol answers for per-symbol kinds) that always fail.
    fault_schedule: dict[str, list[int]] = Field(default_factory=dict)
    fault_seed: int = 0
    # How long a `slow` answer waits, and how long a `timeout` answer hangs (the client's
    # timeout for the sandbox is cut below it while the timeout fault is on).
    slow_seconds: float = Field(0.3, ge=0)
    hang_seconds: float = Field(6.0, gt=0)
    # When set, each source opened appends one JSON line here on close: faults injected by
    # kind, the client's retries by kind, pacing, and the sandbox's per-minute credit ledger.
    fault_report: Path | None = None

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, v: dict[str, float]) -> dict[str, float]:
        from indexlake.sources.sandbox.faults import expand_rates

        expand_rates(v)  # raises naming an unknown kind or a probability outside [0, 1]
        return {k.strip().lower(): p for k, p in v.items()}


class TwelveDataSettings(BaseModel):
    """Client settings for the Twelve Data REST API (or a compatible server)."""

    base_url: str = "https://api.twelvedata.com"
    api_key: SecretStr | None = None
    # Prefect Secret block read by the flows when neither api_key nor TWELVEDATA_API_KEY is set.
    secret_block: str = "twelvedata-api-key"
    credits_per_minute: int = Field(8, ge=1)
    credits_per_day: int = Field(800, ge=1)
    batch_size: int = Field(120, ge=1, le=120)
    # Requests in flight at once (per-symbol endpoints); credit pacing still bounds the rate.
    max_workers: int = Field(4, ge=1, le=32)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    # Last resort of the market cap chain: market cap = close x this share count, by symbol.
    shares_outstanding: dict[str, PositiveFloat] = Field(default_factory=dict)
    # Symbols tried in order after `Settings.benchmark` when it has no data (plans differ in
    # index access); mirrors indexlake.sources.benchmark.BENCHMARK_CANDIDATES.
    benchmark_fallbacks: list[str] = Field(default_factory=lambda: ["SPY", "IVV", "VOO"])

    @field_validator("shares_outstanding")
    @classmethod
    def _upper_share_keys(cls, v: dict[str, float]) -> dict[str, float]:
        return {k.strip().upper(): n for k, n in v.items()}

    @field_validator("benchmark_fallbacks")
    @classmethod
    def _upper_fallbacks(cls, v: list[str]) -> list[str]:
        return [s.strip().upper() for s in v if s.strip()]


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # Serve strategies whose file says visibility = "private" (and published strategies whose
    # visibility is unknown, see indexlake/api/app.py); off: they answer 404 like unknown ids.
    include_private: bool = False


class Settings(BaseSettings):
    """Everything the pipeline needs to know about where data comes from and goes."""

    model_config = SettingsConfigDict(
        env_prefix="INDEXLAKE_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    provider: Literal["sandbox", "twelvedata"] = "sandbox"
    data_dir: Path = Path("data")
    strategies_dir: Path = Path("strategies")
    expectations_dir: Path = Path("expectations")
    # Explicit universe; empty means "the sandbox's symbols" (required for twelvedata).
    symbols: list[str] = Field(default_factory=list)
    benchmark: str = "SPX"
    history_years: int = Field(5, ge=1, le=50)
    # Backfills fetch, validate and publish this many calendar years at a time.
    chunk_years: int = Field(5, ge=1, le=50)
    # Land cash dividends (/dividends, per symbol) with prices and market caps.
    fetch_dividends: bool = True
    # Reference answers (/statistics shares, /profile) are cached under data_dir/reference for
    # this long, so repeated runs do not spend credits on them again; 0 turns the cache off.
    reference_ttl_hours: float = Field(24 * 7, ge=0)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    twelvedata: TwelveDataSettings = Field(default_factory=TwelveDataSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    # Alert thresholds, stress windows and sector labels of the risk outputs.
    risk: RiskSettings = Field(default_factory=RiskSettings)

    @field_validator("symbols")
    @classmethod
    def _upper_unique(cls, v: list[str]) -> list[str]:
        cleaned = [s.strip().upper() for s in v if s.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("symbols contains duplicates")
        return cleaned

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("INDEXLAKE_CONFIG", DEFAULT_CONFIG_FILE))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @property
    def lake_root(self) -> Path:
        """Root of the hive-partitioned Parquet lake."""
        return self.data_dir / "lake"

    @property
    def catalog_path(self) -> Path:
        """DuckDB catalog file with one view per dataset (open it read-only)."""
        return self.data_dir / "indexlake.duckdb"

    def twelvedata_api_key(self) -> str | None:
        """The key from settings, else ``TWELVEDATA_API_KEY``; never logged."""
        if self.twelvedata.api_key is not None:
            return self.twelvedata.api_key.get_secret_value()
        return os.environ.get("TWELVEDATA_API_KEY") or None


def load_settings(**overrides: object) -> Settings:
    """Resolve settings once; callers pass the result down instead of re-reading."""
    return Settings(**overrides)
