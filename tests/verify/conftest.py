"""A small published lake (sandbox market, no Prefect) for the verify tests."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from indexlake.lake.partitions import write_partition
from indexlake.lake.schemas import ALLOCATIONS, DIVIDENDS, INDEX_LEVELS, MARKET_CAPS, PRICES
from indexlake.methodology.engine import compute_index
from indexlake.methodology.strategy import Strategy, load_strategies
from indexlake.pipeline.compute import load_panel
from indexlake.sources.sandbox.market import SandboxMarket

REPO = Path(__file__).resolve().parents[2]
SEED, N_SYMBOLS = 42, 40
START, END = date(2016, 1, 1), date(2019, 12, 31)
# Data gaps that make index members leave between rebalances: one name stops trading for good
# (a delisting), another misses a week and comes back at a later rebalance.
DELISTED_FROM = pd.Timestamp("2018-05-16")
GAP = (pd.Timestamp("2017-08-09"), pd.Timestamp("2017-08-16"))
# Every shipped strategy (one per weighting, and total return).
STRATEGY_IDS = (
    "capped_cap10",
    "equal_weight",
    "inverse_vol",
    "min_variance",
    "top50_cap",
    "top50_cap_tr",
    "ucits_capped",
)
# Strategies using every other setting the engine has: liquidity and listing-age filters, a
# top-N buffer, third-Friday rebalances, a reference lag, a fixed base date, total return.
FEATURE_STRATEGIES = (
    {
        "id": "filtered_buffer",
        "name": "Liquid top 20, buffer 5, third Friday",
        "universe": {
            "type": "landed",
            "min_listing_days": 60,
            "min_median_dollar_volume": 6e8,
            "liquidity_lookback": 21,
        },
        "selection": {"type": "top_n", "n": 20, "buffer": 5},
        "weighting": {"type": "market_cap"},
        "rebalance": "monthly",
        "rebalance_day": "third_friday",
        "reference_lag_days": 5,
        "base_date": date(2016, 6, 1),
    },
    {
        "id": "lagged_tr",
        "name": "Equal weight top 8, buffer 2, quarterly third Friday, total return",
        "selection": {"type": "top_n", "n": 8, "buffer": 2},
        "weighting": {"type": "equal"},
        "rebalance": "quarterly",
        "rebalance_day": "third_friday",
        "reference_lag_days": 3,
        "return_type": "total",
    },
    {
        "id": "capped_tr",
        "name": "Capped top 15, annual, lag 2, total return",
        "universe": {"type": "landed", "min_listing_days": 250},
        "selection": {"type": "top_n", "n": 15, "buffer": 3},
        "weighting": {"type": "capped_market_cap", "cap": 0.12},
        "rebalance": "annual",
        "reference_lag_days": 2,
        "base_date": date(2017, 3, 1),
        "return_type": "total",
    },
)


def _largest(caps: pd.DataFrame, rank: int) -> str:
    """The symbol with the given market-cap rank (0 = largest) on the last day."""
    last = caps[caps["date"] == caps["date"].max()]
    return str(last.sort_values("market_cap", ascending=False)["symbol"].iloc[rank])


def _dividends(market: SandboxMarket, symbols: list[str]) -> pd.DataFrame:
    """The sandbox's cash dividends (split-adjusted, by ex-date) as landed rows."""
    parts = []
    for symbol in symbols:
        ex_dates, amounts = market.dividends(symbol, START, END)
        parts.append(
            pd.DataFrame({"date": pd.to_datetime(ex_dates), "symbol": symbol, "amount": amounts})
        )
    return pd.concat(parts, ignore_index=True)


def land_sandbox(root: Path) -> tuple[list[str], dict[str, str]]:
    """Land sandbox prices, market caps and dividends with a delisting and a gap; symbols and
    the two names changed ({"delisted": ..., "gap": ...})."""
    market = SandboxMarket(seed=SEED, n_symbols=N_SYMBOLS)
    prices = market.prices(None, START, END)
    caps = market.market_caps(None, START, END).assign(source="market_cap")
    symbols = sorted(prices["symbol"].unique())
    dividends = _dividends(market, symbols)
    changed = {"delisted": _largest(caps, 0), "gap": _largest(caps, 1)}
    for frame in (prices, caps, dividends):
        drop = (frame["symbol"] == changed["delisted"]) & (frame["date"] >= DELISTED_FROM)
        drop |= (frame["symbol"] == changed["gap"]) & frame["date"].between(*GAP)
        frame.drop(index=frame.index[drop], inplace=True)
    for year in range(START.year, END.year + 1):
        write_partition(root, PRICES, year, prices[prices["date"].dt.year == year])
        write_partition(root, MARKET_CAPS, year, caps[caps["date"].dt.year == year])
        write_partition(root, DIVIDENDS, year, dividends[dividends["date"].dt.year == year])
    return symbols, changed


def publish(root: Path, strategies: list[Strategy], symbols: list[str]) -> None:
    """Compute each strategy with the index engine and publish its levels and allocations."""
    panel = load_panel(root, symbols, [])
    for strategy in strategies:
        result = compute_index(
            strategy,
            panel.closes,
            panel.market_caps,
            dividends=panel.dividends,
            volumes=panel.volumes,
        )
        write_partition(root, INDEX_LEVELS, strategy.id, result.levels)
        write_partition(root, ALLOCATIONS, strategy.id, result.allocations)


class PublishedLake:
    """A lake with every shipped strategy published, and how it was built."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.symbols, self.changed = land_sandbox(root)
        shipped = load_strategies(REPO / "strategies", STRATEGY_IDS)
        features = [Strategy.model_validate(fields) for fields in FEATURE_STRATEGIES]
        self.strategies = sorted([*shipped, *features], key=lambda s: s.id)
        publish(root, self.strategies, self.symbols)

    def copy(self, destination: Path) -> Path:
        """A copy of the lake to tamper with."""
        shutil.copytree(self.root, destination)
        return destination

    def strategy(self, strategy_id: str) -> Strategy:
        return next(s for s in self.strategies if s.id == strategy_id)


@pytest.fixture(scope="session")
def published_lake(tmp_path_factory: pytest.TempPathFactory) -> PublishedLake:
    return PublishedLake(tmp_path_factory.mktemp("verify") / "lake")
