"""The reference cache: /statistics and /profile answers reused across runs within their TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from indexlake.sources.reference_cache import ReferenceCache, ReferenceCacheError
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.twelvedata import TwelveDataClient


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _served(url: str, path: str) -> int:
    return httpx.get(f"{url}/__requests").json().get(path, 0)


def _client(url: str, cache: ReferenceCache) -> TwelveDataClient:
    client = TwelveDataClient(url, "k")
    client.reference_cache = cache
    return client


def test_statistics_are_fetched_once_per_ttl_across_runs(
    market: SandboxMarket, base_url: str, tmp_path: Path
) -> None:
    symbol = market.symbols[3]
    clock = Clock()
    before = _served(base_url, "/statistics")
    for _ in range(3):  # three runs, each with a fresh client (no in-memory memo)
        with _client(base_url, ReferenceCache(tmp_path, timedelta(days=7), clock=clock)) as c:
            body = c.statistics(symbol)
    assert _served(base_url, "/statistics") - before == 1
    shares = body["statistics"]["stock_statistics"]["shares_outstanding"]
    assert shares > 0
    saved = (tmp_path / "statistics.json").read_text()
    assert symbol in saved and "fetched_at" in saved

    clock.now += timedelta(days=8)  # expired: asked again, then cached anew
    for _ in range(2):
        with _client(base_url, ReferenceCache(tmp_path, timedelta(days=7), clock=clock)) as c:
            assert c.statistics(symbol) == body
    assert _served(base_url, "/statistics") - before == 2


def test_profiles_are_cached_too(market: SandboxMarket, base_url: str, tmp_path: Path) -> None:
    symbol = market.symbols[5]
    before = _served(base_url, "/profile")
    cache = ReferenceCache(tmp_path, timedelta(hours=1))
    with _client(base_url, cache) as c:
        first = c.profile(symbol)
    with _client(base_url, ReferenceCache(tmp_path, timedelta(hours=1))) as c:
        assert c.profile(symbol) == first
    assert _served(base_url, "/profile") - before == 1
    assert first["sector"] == market.profile(symbol)["sector"]


def test_a_corrupt_cache_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "statistics.json").write_text("{not json")
    cache = ReferenceCache(tmp_path, timedelta(hours=1))
    with pytest.raises(ReferenceCacheError, match=r"statistics\.json"):
        cache.get("statistics", "AAA")


def test_open_source_caches_under_the_data_dir(tmp_path: Path) -> None:
    from indexlake.config import SandboxSettings, Settings
    from indexlake.sources.factory import open_source

    settings = Settings(data_dir=tmp_path, sandbox=SandboxSettings(n_symbols=3))
    with open_source(settings) as source:
        cache = source.client.reference_cache
        assert cache is not None and cache.directory == tmp_path / "reference" / "sandbox"
    off = Settings(data_dir=tmp_path, reference_ttl_hours=0, sandbox=SandboxSettings(n_symbols=3))
    with open_source(off) as source:
        assert source.client.reference_cache is None
