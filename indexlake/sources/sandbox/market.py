"""A deterministic synthetic daily equity market on the NYSE calendar (the sandbox's data).

Model, per weekday *slot* from ORIGIN to HORIZON_END (holidays are slots that are not served, so
their moves fold into the next session and a date's values never depend on how far the
exchange calendar currently reaches):

* market factor: Student-t innovations with GARCH(1,1) variance (volatility clustering);
* 11 sector factors: Student-t, scaled by the market's volatility regime;
* per symbol: beta to market and sector plus a fat-tailed idiosyncratic term, log-price
  reflected at $1 so prices stay positive; OHLC around the close; integer volumes;
* shares outstanding drift monthly; 2:1 / 3:1 splits multiply the share count, and served prices
  and volumes are adjusted for every split in the horizon (so they never depend on `as_of`).

Every symbol draws from its own `SeedSequence(seed, spawn_key=...)` stream, so symbol *i*'s
history is identical for any `n_symbols > i`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from indexlake.calendar import latest_completed_trading_day, trading_days
from indexlake.sources.base import empty_market_caps, empty_prices
from indexlake.sources.sandbox.dividends import Dividends, dividend_schedule
from indexlake.sources.sandbox.factors import (
    BENCH_STREAM,
    BENCHMARK_SPECS,
    SECTORS,
    SYMBOL_STREAM,
    TRADING_DAYS_PER_YEAR,
    Bars,
    Params,
    Profile,
    draw_params,
    market_factor,
    sector_factors,
    stream,
    student_t,
    tickers,
)

_PRICE_FLOOR = 1.0  # USD; log-prices are reflected here
_DECIMALS = 5  # the vendor serves five decimals


class SandboxMarket:
    """Synthetic daily prices, shares and market caps for a seeded universe plus SPX and the
    S&P 500 ETFs SPY, IVV and VOO."""

    ORIGIN = date(2000, 1, 3)
    HORIZON_END = date(2030, 12, 31)
    BENCHMARK = "SPX"
    ETF = "SPY"
    BENCHMARKS: tuple[str, ...] = tuple(BENCHMARK_SPECS)

    def __init__(self, seed: int = 42, n_symbols: int = 100, as_of: date | None = None) -> None:
        if n_symbols < 1:
            raise ValueError("n_symbols must be at least 1")
        self.seed = seed
        self.n_symbols = n_symbols
        self.as_of = as_of if as_of is not None else latest_completed_trading_day()
        self.symbols: list[str] = tickers(seed, n_symbols, set(self.BENCHMARKS))
        self._index = {s: i for i, s in enumerate(self.symbols)}
        self._cache: dict[str, Bars] = {}
        self._profiles: dict[str, Profile] = {}
        self._split_dates: dict[str, list[tuple[date, float]]] = {}
        self._dividends: dict[str, Dividends] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SandboxMarket(seed={self.seed}, n_symbols={self.n_symbols}, as_of={self.as_of})"

    def is_known(self, symbol: str) -> bool:
        """Whether the market serves this symbol (universe or benchmark)."""
        return symbol in self._index or symbol in self.BENCHMARKS

    def profile(self, symbol: str) -> dict:
        """Name, sector, exchange, type, listing and delisting dates of one symbol."""
        self._bars(symbol)
        p = self._profiles[symbol]
        return {
            "symbol": p.symbol,
            "name": p.name,
            "sector": p.sector,
            "exchange": p.exchange,
            "mic_code": p.mic_code,
            "type": p.type,
            "listed": p.listed,
            "delisted": p.delisted,
        }

    # ---- horizon --------------------------------------------------------------------------
    @cached_property
    def _slots(self) -> pd.DatetimeIndex:
        """Every weekday of the horizon; one random draw per slot keeps streams aligned."""
        return pd.bdate_range(self.ORIGIN, self.HORIZON_END)

    @cached_property
    def _session_mask(self) -> np.ndarray:
        """True for NYSE sessions; weekdays past the calendar's reach count as sessions."""
        slots = self._slots
        sessions = trading_days(self.ORIGIN, self.HORIZON_END)
        mask = slots.isin(sessions)
        if len(sessions):
            mask |= slots > sessions[-1]
        return np.asarray(mask)

    @cached_property
    def _sessions(self) -> np.ndarray:
        return np.flatnonzero(self._session_mask)

    @cached_property
    def _slot_dates(self) -> np.ndarray:
        return self._slots.values.astype("datetime64[D]")

    @cached_property
    def _late_listing_cutoff(self) -> int:
        """Late listings happen before 2021, so the universe is complete for recent dates."""
        return int(np.searchsorted(self._slot_dates, np.datetime64("2020-12-31")))

    @cached_property
    def _regime_sqrt(self) -> np.ndarray:
        return np.sqrt(self._market[1])

    @cached_property
    def _months(self) -> np.ndarray:
        s = self._slots
        return np.asarray((s.year - self.ORIGIN.year) * 12 + s.month - 1)

    @cached_property
    def _market(self) -> tuple[np.ndarray, np.ndarray]:
        return market_factor(self.seed, len(self._slots))

    @cached_property
    def _sectors(self) -> np.ndarray:
        return sector_factors(self.seed, len(self._slots), self._market[1])

    # ---- generation -----------------------------------------------------------------------
    def _bars(self, symbol: str) -> Bars:
        bars = self._cache.get(symbol)
        if bars is not None:
            return bars
        with self._lock:
            if symbol not in self._cache:
                if symbol in self._index:
                    self._cache[symbol] = self._generate_stock(self._index[symbol])
                elif symbol in self.BENCHMARKS:
                    self._cache[symbol] = self._generate_benchmark(symbol)
                else:
                    raise KeyError(f"unknown symbol {symbol!r}")
            return self._cache[symbol]

    def _listing_slots(self, p: Params) -> tuple[int, int]:
        """First and last served slot of a symbol (listing and delisting sessions)."""
        sessions, n = self._sessions, len(self._slots)
        first = 0
        if p.late_listing:
            cutoff = self._late_listing_cutoff
            first = int(sessions[np.searchsorted(sessions, 250 + p.list_draw * (cutoff - 250))])
        last = n - 1
        if p.delists:
            pick = first + 500 + p.delist_draw * (n - first - 600)
            last = int(sessions[np.searchsorted(sessions, pick)])
        return first, last

    def listed(self, symbol: str) -> date:
        """Listing date of a symbol, without generating its history."""
        if symbol in self.BENCHMARKS:
            return self.ORIGIN
        if symbol not in self._index:
            raise KeyError(f"unknown symbol {symbol!r}")
        p = draw_params(stream(self.seed, SYMBOL_STREAM, self._index[symbol]))
        return self._slots[self._listing_slots(p)[0]].date()

    def sector(self, symbol: str) -> str | None:
        """Sector label of a symbol (None for the benchmarks), without generating its history."""
        if symbol in self.BENCHMARKS:
            return None
        if symbol not in self._index:
            raise KeyError(f"unknown symbol {symbol!r}")
        return SECTORS[draw_params(stream(self.seed, SYMBOL_STREAM, self._index[symbol])).sector]

    def _generate_stock(self, i: int) -> Bars:
        symbol = self.symbols[i]
        rng = stream(self.seed, SYMBOL_STREAM, i)
        n = len(self._slots)
        p = draw_params(rng)
        idio_vol = p.idio_vol
        idio = student_t(rng, p.dof, n)
        idio *= idio_vol
        idio *= self._regime_sqrt
        idio -= idio.mean()
        # Float32 draws are plenty for gaps, ranges and volume noise and twice as fast.
        gaps = rng.standard_normal(n, dtype=np.float32) * (0.3 * idio_vol)
        ranges = rng.standard_exponential((2, n), dtype=np.float32) * (0.4 * idio_vol)
        volume_noise = np.exp(rng.standard_normal(n, dtype=np.float32) * 0.35)
        share_moves = rng.normal(-0.0005, 0.004, int(self._months[-1]) + 1)

        first, last = self._listing_slots(p)
        sessions = self._sessions

        ret = self._market[0] * p.beta
        ret += self._sectors[p.sector] * p.beta_sector
        ret += idio
        ret += p.drift
        logp = np.cumsum(ret)
        logp += np.log(p.price0) - logp[first]
        floor = np.log(_PRICE_FLOOR)
        logp -= floor
        np.abs(logp, out=logp)  # reflect at the floor so prices stay positive
        logp += floor
        close = np.exp(logp)
        prev = np.empty(n)
        prev[0], prev[1:] = close[0] * np.exp(-ret[0]), close[:-1]
        # Gaps and ranges are small (tenths of a percent), so 1 + x stands in for exp(x).
        gaps += 1.0
        open_ = prev * gaps
        ranges += 1.0
        high = np.maximum(open_, close)
        high *= ranges[0]
        low = np.minimum(open_, close)
        low /= ranges[1]

        factor = np.ones(n)
        splits: list[int] = []
        for k in range(p.n_splits):
            pick = first + 250 + p.split_draws[k] * (last - first - 500)
            slot = int(sessions[np.searchsorted(sessions, pick)])
            if slot not in splits and first < slot <= last:
                splits.append(slot)
                factor[:slot] *= p.split_ratios[k]  # before the split, a share was worth more
        shares = np.exp(np.cumsum(share_moves))[self._months]
        shares *= p.shares0
        shares /= factor
        np.rint(shares, out=shares)
        np.abs(ret, out=ret)
        ret *= 15.0
        ret += 1.0
        raw_volume = volume_noise.astype(np.float64)
        raw_volume *= shares
        raw_volume *= p.turnover
        raw_volume *= ret  # busier on big-move days

        keep = self._session_mask.copy()
        keep[:first] = False
        keep[last + 1 :] = False
        self._profiles[symbol] = Profile(
            symbol=symbol,
            name=f"{symbol.title()} {p.suffix} Inc.",
            sector=SECTORS[p.sector],
            exchange=p.exchange,
            mic_code="XNYS" if p.exchange == "NYSE" else "XNAS",
            type="Common Stock",
            listed=self._slots[first].date(),
            delisted=self._slots[last].date() if p.delists else None,
        )
        self._split_dates[symbol] = [
            (self._slots[s].date(), float(factor[s - 1] / factor[s])) for s in sorted(splits)
        ]
        return self._assemble(keep, open_, high, low, close, raw_volume * factor, shares, factor)

    def _generate_benchmark(self, symbol: str) -> Bars:
        rng = stream(self.seed, BENCH_STREAM, self.BENCHMARKS.index(symbol))
        n = len(self._slots)
        noise = rng.normal(0, 0.001, n)
        gaps, ranges = rng.normal(0, 0.002, n), np.abs(rng.normal(0, 0.004, (2, n)))
        volume_noise = rng.normal(0, 0.25, n)
        # SPX: ~1455 on the first day of 2000; each ETF tracks about a tenth of it, with its
        # own noise.
        spec = BENCHMARK_SPECS[symbol]
        level0, base_volume = spec.level0, spec.base_volume
        ret = 0.07 / TRADING_DAYS_PER_YEAR + self._market[0] + noise
        close = level0 * np.exp(np.cumsum(ret) - ret[0])
        prev = np.concatenate([[level0], close[:-1]])
        open_ = prev * np.exp(gaps)
        high = np.maximum(open_, close) * np.exp(ranges[0])
        low = np.minimum(open_, close) * np.exp(-ranges[1])
        volume = base_volume * np.exp(volume_noise) * (1 + 10 * np.abs(ret))
        self._profiles[symbol] = Profile(
            symbol=symbol,
            name=spec.name,
            sector=None,
            exchange="NYSE",
            mic_code=spec.mic_code,
            type=spec.type,
            listed=self.ORIGIN,
            delisted=None,
        )
        ones = np.ones(n)
        return self._assemble(
            self._session_mask, open_, high, low, close, volume, ones * np.nan, ones
        )

    def _assemble(
        self,
        keep: np.ndarray,
        open_: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        shares: np.ndarray,
        factor: np.ndarray,
    ) -> Bars:
        def r(a: np.ndarray) -> np.ndarray:
            # Rounding is monotone, so low <= open/close <= high survives it.
            out = a[keep]
            out *= 10.0**_DECIMALS
            np.rint(out, out=out)
            out /= 10.0**_DECIMALS
            return out

        close_r = r(close)
        return Bars(
            date=self._slot_dates[keep],
            open=r(open_),
            high=r(high),
            low=r(low),
            close=close_r,
            volume=np.rint(volume[keep]).astype(np.int64),
            shares=shares[keep],
            factor=factor[keep],
            market_cap=np.rint(close_r * factor[keep] * shares[keep]),
        )

    # ---- queries --------------------------------------------------------------------------
    def bars(self, symbol: str, start: date, end: date, *, adjusted: bool = True) -> Bars:
        """One symbol's bars on sessions in [start, min(end, as_of)] while it is listed."""
        b = self._bars(symbol)
        hi_day = min(end, self.as_of)
        lo = int(np.searchsorted(b.date, np.datetime64(start, "D"), side="left"))
        hi = int(np.searchsorted(b.date, np.datetime64(hi_day, "D"), side="right"))
        part = Bars(*(a[lo : max(lo, hi)] for a in b))
        if adjusted:
            return part
        f = part.factor
        return part._replace(
            open=np.round(part.open * f, _DECIMALS),
            high=np.round(part.high * f, _DECIMALS),
            low=np.round(part.low * f, _DECIMALS),
            close=np.round(part.close * f, _DECIMALS),
            volume=np.rint(part.volume / f).astype(np.int64),
        )

    def _resolve(self, symbols: Sequence[str] | None) -> list[str]:
        chosen = list(self.symbols if symbols is None else symbols)
        for s in chosen:
            if not self.is_known(s):
                raise KeyError(f"unknown symbol {s!r}")
        return chosen

    def prices(self, symbols: Sequence[str] | None, start: date, end: date) -> pd.DataFrame:
        """Split-adjusted daily OHLCV, long format, sorted by (symbol, date); None = universe."""
        parts = [(s, self.bars(s, start, end)) for s in self._resolve(symbols)]
        parts = [(s, b) for s, b in sorted(parts) if len(b.date)]
        if not parts:
            return empty_prices()
        frame = pd.DataFrame(
            {
                "date": np.concatenate([b.date for _, b in parts]).astype("datetime64[ns]"),
                "symbol": np.repeat([s for s, _ in parts], [len(b.date) for _, b in parts]),
                **{
                    f: np.concatenate([getattr(b, f) for _, b in parts])
                    for f in ("open", "high", "low", "close")
                },
                "volume": pd.array(np.concatenate([b.volume for _, b in parts]), dtype="Int64"),
            }
        )
        frame["symbol"] = frame["symbol"].astype(str)
        return frame

    def market_caps(self, symbols: Sequence[str] | None, start: date, end: date) -> pd.DataFrame:
        """Daily market cap in USD (unadjusted close x actual shares); benchmarks have none."""
        chosen = [s for s in self._resolve(symbols) if s not in self.BENCHMARKS]
        parts = [(s, self.bars(s, start, end)) for s in sorted(chosen)]
        parts = [(s, b) for s, b in parts if len(b.date)]
        if not parts:
            return empty_market_caps().drop(columns="source")
        frame = pd.DataFrame(
            {
                "date": np.concatenate([b.date for _, b in parts]).astype("datetime64[ns]"),
                "symbol": np.repeat([s for s, _ in parts], [len(b.date) for _, b in parts]),
                "market_cap": np.concatenate([b.market_cap for _, b in parts]),
            }
        )
        frame["symbol"] = frame["symbol"].astype(str)
        return frame

    def shares_outstanding(self, symbol: str, on: date) -> float:
        """Actual shares outstanding at the last session on or before `on` (NaN for indexes)."""
        b = self._bars(symbol)
        i = int(np.searchsorted(b.date, np.datetime64(on, "D"), side="right")) - 1
        if i < 0:
            raise ValueError(f"{symbol} is not listed on {on}")
        return float(b.shares[i])

    def dividends(
        self, symbol: str, start: date, end: date, *, adjusted: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ex-dates (datetime64[D]) and cash amounts per share in [start, min(end, as_of)]:
        split-adjusted like the served closes, or per actual share when not ``adjusted``."""
        if symbol in self.BENCHMARKS:
            self._bars(symbol)
            return np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64)
        with self._lock:
            schedule = self._dividends.get(symbol)
            if schedule is None:
                schedule = dividend_schedule(self.seed, self._index[symbol], self._bars(symbol))
                self._dividends[symbol] = schedule
        hi_day = min(end, self.as_of)
        lo = int(np.searchsorted(schedule.date, np.datetime64(start, "D"), side="left"))
        hi = int(np.searchsorted(schedule.date, np.datetime64(hi_day, "D"), side="right"))
        amounts = schedule.amount if adjusted else schedule.unadjusted
        return schedule.date[lo : max(lo, hi)], amounts[lo : max(lo, hi)]

    def splits(self, symbol: str) -> list[tuple[date, float]]:
        """Split dates and ratios (2.0 = 2-for-1) over the whole horizon."""
        self._bars(symbol)
        return list(self._split_dates.get(symbol, []))
