"""Fixtures for the methodology tests."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from indexlake.sources.sandbox.market import SandboxMarket

from .panels import make_panel

SANDBOX_START, SANDBOX_END = date(2016, 1, 1), date(2020, 12, 31)


@pytest.fixture
def panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A clean 300-day, 12-symbol panel (no gaps)."""
    return make_panel()


@pytest.fixture(scope="session")
def sandbox_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide sandbox closes and market caps (seed 42, 40 symbols, 2016-2020), NaN when unlisted."""
    market = SandboxMarket(seed=42, n_symbols=40)
    prices = market.prices(None, SANDBOX_START, SANDBOX_END)
    caps = market.market_caps(None, SANDBOX_START, SANDBOX_END)
    closes = prices.pivot(index="date", columns="symbol", values="close")
    caps = caps.pivot(index="date", columns="symbol", values="market_cap")
    return closes, caps.reindex(index=closes.index, columns=closes.columns)
