from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from indexlake.config import Settings
from indexlake.sources.factory import SourceConfigError, open_source, universe
from indexlake.sources.sandbox.market import SandboxMarket


def test_sandbox_source_over_http() -> None:
    settings = Settings(sandbox={"seed": 3, "n_symbols": 5})
    as_of = date(2024, 6, 28)
    symbols = universe(settings, as_of=as_of)
    assert symbols == [
        s for s in SandboxMarket(3, 5).symbols if SandboxMarket(3, 5).listed(s) <= as_of
    ]
    with open_source(settings, as_of=as_of) as source:
        assert source.name == "sandbox"
        prices = source.fetch_prices([*symbols, "SPX"], date(2024, 6, 1), date(2024, 12, 31))
        caps = source.fetch_market_caps(symbols, date(2024, 6, 1), date(2024, 12, 31))
    last = pd.Timestamp(as_of)
    assert prices.frame["date"].max() == caps.frame["date"].max() == last
    assert prices.errors == caps.errors == []
    assert set(caps.frame["source"]) == {"market_cap"}


def test_explicit_symbols_win() -> None:
    assert universe(Settings(symbols=["aapl", "msft"])) == ["AAPL", "MSFT"]


def test_twelvedata_needs_a_key_and_defaults_to_the_sp100(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TWELVEDATA_API_KEY", raising=False)
    settings = Settings(provider="twelvedata")
    with pytest.raises(SourceConfigError, match="TWELVEDATA_API_KEY"), open_source(settings):
        pass
    symbols = universe(settings)
    assert len(symbols) == len(set(symbols)) > 100
    assert {"AAPL", "MSFT", "BRK.B"} <= set(symbols) and "SPX" not in symbols
