"""Sector labels of the universe, for the sector stress test.

The lake holds no sector dataset. Labels come from two places, in this order:

1. ``risk.sectors`` in the settings (symbol -> label), for any provider;
2. with the sandbox provider, the sandbox market's own label of each symbol (the sector factor
   its returns load on, the same value its ``/profile`` endpoint serves), computed from the
   seed without fetching anything.

A symbol found in neither has no label: the stress test reports its weight as unlabelled
rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable

from indexlake.config import Settings
from indexlake.sources.sandbox.market import SandboxMarket


def sector_labels(settings: Settings, symbols: Iterable[str]) -> dict[str, str]:
    """Sector label of each of ``symbols`` that has one (configured first, then sandbox)."""
    wanted = list(dict.fromkeys(symbols))
    configured = settings.risk.sectors
    labels = {s: configured[s] for s in wanted if s in configured}
    if settings.provider == "sandbox":
        market = SandboxMarket(settings.sandbox.seed, settings.sandbox.n_symbols)
        for symbol in wanted:
            if symbol not in labels and market.is_known(symbol):
                sector = market.sector(symbol)
                if sector is not None:
                    labels[symbol] = sector
    return labels
