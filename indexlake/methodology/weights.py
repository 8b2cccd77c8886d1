"""Constituent selection and weighting rules: pure functions from market caps to weights."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

# Slack when comparing weights with the cap, so rounding noise does not trigger another pass.
CAP_TOLERANCE = 1e-12


def top_n(caps: pd.Series, n: int) -> list[str]:
    """The n symbols with the largest market cap, largest first; ties broken by symbol."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    valid = caps[caps.notna()]
    order = np.lexsort((valid.index.to_numpy(dtype=object), -valid.to_numpy(dtype=float)))
    return [str(s) for s in valid.index[order[:n]]]


def market_cap_weights(caps: pd.Series) -> pd.Series:
    """Weights proportional to market cap (missing caps dropped), summing to 1."""
    valid = caps[caps.notna()].astype(float)
    if valid.empty:
        raise ValueError("no market caps to weight")
    if (valid < 0).any():
        raise ValueError(f"negative market caps: {sorted(map(str, valid.index[valid < 0]))}")
    total = valid.sum()
    if not total > 0:
        raise ValueError("market caps sum to zero")
    return valid / total


def equal_weights(symbols: Iterable[str]) -> pd.Series:
    """Weight 1/N for each of N symbols."""
    index = pd.Index(list(symbols))
    if index.empty:
        raise ValueError("no symbols to weight")
    if index.has_duplicates:
        raise ValueError(f"duplicate symbols: {sorted(map(str, index[index.duplicated()]))}")
    return pd.Series(1.0 / len(index), index=index, dtype=float)


def capped_array(weights: np.ndarray, cap: float) -> np.ndarray:
    """Single-cap rule on an array of non-negative weights (see capped_weights)."""
    w = np.asarray(weights, dtype=float)
    n = w.size
    if not 0 < cap <= 1:
        raise ValueError(f"cap must be in (0, 1], got {cap}")
    if n * cap < 1 - CAP_TOLERANCE:
        raise ValueError(f"cap {cap} is infeasible for {n} names (N × cap = {n * cap:.6g} < 1)")
    total = w.sum()
    if (w < 0).any() or not total > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    w = w / total
    capped = np.zeros(n, dtype=bool)
    out = w
    # Each pass fixes at least one more name at the cap, so at most n passes.
    for _ in range(n):
        over = (out > cap + CAP_TOLERANCE) & ~capped
        if not over.any():
            break
        capped |= over
        free = ~capped
        free_total = w[free].sum()
        residual = 1.0 - cap * capped.sum()
        out = np.where(capped, cap, 0.0)
        if free_total > 0:
            # Uncapped names share the residual in proportion to their original weights, which is
            # the same as handing out the excess pro rata pass after pass.
            out[free] = w[free] / free_total * residual
        elif free.any():
            # Only zero-weight names are left: share the residual equally. N × cap ≥ 1 keeps each
            # share within the cap.
            out[free] = residual / free.sum()
    return out


def capped_weights(weights: pd.Series, cap: float) -> pd.Series:
    """Weights with every name at most `cap`, the excess handed pro rata to uncapped names."""
    return pd.Series(capped_array(weights.to_numpy(dtype=float), cap), index=weights.index)
