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


def test_plan_limits_reach_the_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWELVEDATA_API_KEY", "k")
    settings = Settings(
        provider="twelvedata", twelvedata={"credits_per_minute": 55, "credits_per_day": 5000}
    )
    with open_source(settings) as source:
        client = source.client
        assert (client.pacer.per_minute, client.pacer.per_day) == (55, 5000)
        assert client.pacer.minute_seconds == 60.0 and client.batch_size == 55
        assert source.sandbox_faults is None
    sandbox = Settings(
        sandbox={"n_symbols": 2, "credits_per_minute": 30, "minute_seconds": 2.0,
                 "faults": {"timeout": 0.01}, "hang_seconds": 4.0},
    )  # fmt: skip
    with open_source(sandbox) as source:
        client = source.client
        assert (client.pacer.per_minute, client.pacer.minute_seconds) == (30, 2.0)
        # A hung answer must time out before the sandbox stops hanging.
        assert client._http.timeout.read == 2.0
        assert source.sandbox_faults.rates == {"timeout": 0.01}
