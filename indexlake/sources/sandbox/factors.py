"""Building blocks of the sandbox market: seeded streams, fat-tailed factors, tickers, bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import numpy as np

SECTORS: tuple[str, ...] = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
NAME_SUFFIXES = ("Holdings", "Group", "Corp", "Industries", "Systems", "Partners", "Technologies")
_CONSONANTS = "BCDFGHJKLMNPRSTVWXZ"
_VOWELS = "AEIOU"
_CLUSTERS = ("BR", "CR", "DR", "FL", "GR", "KR", "PL", "PR", "ST", "TR", "SL", "SN")
_PATTERNS = ("CVC", "CVCV", "KVC", "VCVC", "CVCVC")  # K = consonant cluster

# Stream namespaces for SeedSequence spawn keys: one independent stream per factor / symbol.
MARKET_STREAM, SECTOR_STREAM, SYMBOL_STREAM, TICKER_STREAM, BENCH_STREAM = 0, 1, 2, 3, 4
MARKET_VOL = 0.010  # long-run daily volatility of the market factor
SECTOR_VOL = 0.005  # daily volatility of a sector factor in a normal regime
GARCH_ALPHA, GARCH_BETA = 0.08, 0.90
TRADING_DAYS_PER_YEAR = 252
MARKET_DOF, SECTOR_DOF = 5.0, 6.0  # Student-t degrees of freedom


class BenchmarkSpec(NamedTuple):
    """How the sandbox draws one benchmark: its profile, first close and typical volume."""

    name: str
    type: str
    mic_code: str
    level0: float  # close on the first day of 2000
    base_volume: float


# The S&P 500 index and the ETFs that track it (the vendor's plans differ in index access);
# the order fixes each one's random stream, so appending keeps earlier series unchanged.
BENCHMARK_SPECS: dict[str, BenchmarkSpec] = {
    "SPX": BenchmarkSpec("S&P 500", "Index", "XNYS", 1455.0, 3.0e9),
    "SPY": BenchmarkSpec("SPDR S&P 500 ETF Trust", "ETF", "ARCX", 145.5, 8.0e7),
    "IVV": BenchmarkSpec("iShares Core S&P 500 ETF", "ETF", "ARCX", 146.2, 4.0e6),
    "VOO": BenchmarkSpec("Vanguard S&P 500 ETF", "ETF", "ARCX", 133.9, 3.0e6),
}


class Bars(NamedTuple):
    """One symbol's daily bars as arrays (dates as datetime64[D])."""

    date: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    shares: np.ndarray  # actual (unadjusted) shares outstanding
    factor: np.ndarray  # split factor: unadjusted price = adjusted price x factor
    market_cap: np.ndarray  # USD, unadjusted close x actual shares, whole dollars


@dataclass(frozen=True)
class Profile:
    """Static description of one instrument."""

    symbol: str
    name: str
    sector: str | None
    exchange: str
    mic_code: str
    type: str
    listed: date
    delisted: date | None


class Params(NamedTuple):
    """One symbol's random parameters (the first draws of its stream)."""

    sector: int
    beta: float
    beta_sector: float
    idio_vol: float
    dof: float
    drift: float
    price0: float
    shares0: float
    turnover: float
    late_listing: bool
    list_draw: float
    delists: bool
    delist_draw: float
    n_splits: int
    split_draws: np.ndarray
    split_ratios: np.ndarray
    exchange: str
    suffix: str


def draw_params(rng: np.random.Generator) -> Params:
    """A symbol's parameters: always the first draws of its stream, in this order."""
    return Params(
        sector=int(rng.integers(len(SECTORS))),
        beta=rng.uniform(0.6, 1.5),
        beta_sector=rng.uniform(0.6, 1.2),
        idio_vol=rng.uniform(0.008, 0.02),  # daily
        dof=rng.uniform(4.0, 7.0),
        drift=rng.uniform(0.02, 0.13) / TRADING_DAYS_PER_YEAR,  # daily log drift
        price0=float(np.exp(rng.uniform(np.log(10), np.log(300)))),  # USD at listing
        shares0=10 ** rng.uniform(7.7, 9.7),  # 50M .. 5B shares
        turnover=rng.uniform(0.003, 0.012),  # share of outstanding traded a day
        late_listing=bool(rng.random() < 0.2),
        list_draw=rng.random(),
        delists=bool(rng.random() < 0.05),
        delist_draw=rng.random(),
        n_splits=int(rng.choice([0, 1, 2], p=[0.85, 0.12, 0.03])),
        split_draws=rng.random(2),
        split_ratios=rng.choice([2.0, 3.0], size=2, p=[0.7, 0.3]),
        exchange=("NYSE", "NASDAQ")[int(rng.integers(2))],
        suffix=NAME_SUFFIXES[int(rng.integers(len(NAME_SUFFIXES)))],
    )


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for one (namespace, index) under the seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def student_t(rng: np.random.Generator, dof: float, size: int) -> np.ndarray:
    """Student-t draws scaled to unit variance (normal over sqrt of chi-square / dof)."""
    chi2_over_dof = rng.standard_gamma(dof / 2.0, size, dtype=np.float32) * (2.0 / dof)
    z = rng.standard_normal(size)
    z /= np.sqrt(chi2_over_dof * (dof / (dof - 2.0)))
    return z


def tickers(seed: int, n: int, reserved: set[str]) -> list[str]:
    """Readable unique pseudo-tickers; the i-th depends only on the seed and tickers before it."""
    taken = set(reserved)
    out: list[str] = []
    for i in range(n):
        rng = stream(seed, TICKER_STREAM, i)
        while True:
            pattern = _PATTERNS[int(rng.integers(len(_PATTERNS)))]
            draws = rng.integers(0, 1 << 16, len(pattern))
            letters = [
                _CONSONANTS[d % len(_CONSONANTS)]
                if c == "C"
                else _VOWELS[d % len(_VOWELS)]
                if c == "V"
                else _CLUSTERS[d % len(_CLUSTERS)]
                for c, d in zip(pattern, draws, strict=True)
            ]
            ticker = "".join(letters)[:5]
            if ticker not in taken:
                break
        taken.add(ticker)
        out.append(ticker)
    return out


def market_factor(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Market log-returns (t innovations, GARCH(1,1) variance) and regime = sigma / long-run."""
    z = student_t(stream(seed, MARKET_STREAM), MARKET_DOF, n)
    omega = MARKET_VOL**2 * (1 - GARCH_ALPHA - GARCH_BETA)
    var = np.empty(n)
    v = MARKET_VOL**2
    for i in range(n):  # the recursion is sequential; ~8k steps take a few ms
        var[i] = v
        v = omega + (GARCH_ALPHA * z[i] * z[i] + GARCH_BETA) * v
    sigma = np.sqrt(var)
    moves = sigma * z
    # Demeaned over the fixed horizon, so the configured drift sets the long-run trend.
    moves -= moves.mean()
    return moves, sigma / MARKET_VOL


def sector_factors(seed: int, n: int, regime: np.ndarray) -> np.ndarray:
    """Sector log-returns, shape (11, n), larger when the market is volatile; demeaned."""
    factors = np.stack(
        [
            SECTOR_VOL * regime * student_t(stream(seed, SECTOR_STREAM, k), SECTOR_DOF, n)
            for k in range(len(SECTORS))
        ]
    )
    return factors - factors.mean(axis=1, keepdims=True)
