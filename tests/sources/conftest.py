"""Shared sandbox fixtures: one small market served once over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="session")
def market() -> SandboxMarket:
    return SandboxMarket(seed=7, n_symbols=40, as_of=AS_OF)


@pytest.fixture(scope="session")
def base_url(market: SandboxMarket) -> Iterator[str]:
    with serve_sandbox(market) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[TwelveDataClient]:
    with TwelveDataClient(base_url, "test-key", backoff_base=0.01, backoff_max=0.05) as c:
        yield c
