"""Small generated price and market-cap frames, and the repo's suite files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
PRICES_SUITE = EXPECTATIONS / "prices.json"
MARKET_CAPS_SUITE = EXPECTATIONS / "market_caps.json"


def _make_prices(symbols: int = 3, days: int = 5) -> pd.DataFrame:
    """Clean daily bars on consecutive NYSE sessions from 2024-01-02, each symbol a gentle
    random walk: dates as ``datetime.date`` objects, as Arrow ``date32`` reads back."""
    dates = [d.date() for d in trading_days(dt.date(2024, 1, 2), dt.date(2030, 12, 31))[:days]]
    rng = np.random.default_rng(7)
    start = rng.uniform(10, 100, (symbols, 1))
    close = (start * np.exp(np.cumsum(rng.normal(0, 0.01, (symbols, days)), axis=1))).ravel()
    return pd.DataFrame(
        {
            "date": dates * symbols,
            "symbol": np.repeat([f"SYM{i}" for i in range(symbols)], days),
            "open": close * 0.995,
            "high": close * 1.02,
            "low": close * 0.98,
            "close": close,
            "volume": rng.integers(1_000, 1_000_000, symbols * days).astype("int64"),
        }
    )


def _make_market_caps(symbols: int = 3, days: int = 5) -> pd.DataFrame:
    """Clean daily market caps with every allowed ``source``."""
    prices = _make_prices(symbols, days)
    sources = ["market_cap", "statistics", "configured"]
    return pd.DataFrame(
        {
            "date": prices["date"],
            "symbol": prices["symbol"],
            "market_cap": prices["close"] * 1e9,
            "source": [sources[i % 3] for i in range(len(prices))],
        }
    )


@pytest.fixture
def make_prices() -> Callable[..., pd.DataFrame]:
    return _make_prices


@pytest.fixture
def make_market_caps() -> Callable[..., pd.DataFrame]:
    return _make_market_caps


@pytest.fixture
def prices() -> pd.DataFrame:
    return _make_prices()


@pytest.fixture
def market_caps() -> pd.DataFrame:
    return _make_market_caps()


@pytest.fixture
def prices_suite() -> Path:
    return PRICES_SUITE


@pytest.fixture
def market_caps_suite() -> Path:
    return MARKET_CAPS_SUITE


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[[list[dict]], Path]:
    """Write a suite with the given expectations to a temporary JSON file."""

    def write(expectations: list[dict], name: str = "custom") -> Path:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "expectations": expectations}))
        return path

    return write
