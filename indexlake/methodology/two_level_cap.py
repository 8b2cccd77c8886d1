"""Two-level capping (UCITS-style 25/4.8/50): a per-name cap plus a cap on the large names' sum.

Rule, with max_weight c, group_threshold t < c and group_max g: no weight above c, and the names
above t together at most g.

Algorithm (each name has its own cap u_i, initially c for every name):

1. Water-fill: w_i = min(u_i, s·m_i) with one scale s so that Σ w = 1 (m = the uncapped,
   normalised weights). Computed like the single-cap rule: names over their cap are fixed at it
   and the excess is handed to the unfixed names pro rata to m, pass after pass.
2. If the names above t (the group) sum to more than g, the smallest of them is "demoted": its cap
   becomes t (it may still hold exactly t, which is not above the threshold). Back to 1.

Each pass of step 2 demotes one more name, so there are at most N rounds, and the result is the
fixed point: no name over its cap, and the group within g. Demoting the smallest group member
first moves the least weight away from market-cap proportions, which is the usual index-provider
choice (a name drops out of the group rather than all large names being scaled down).
Every name below its cap keeps its market-cap proportion to every other such name.

Feasibility: with N names and k of them in the group, the most weight that can be placed is
min(k·c, g) + (N − k)·t; the rule is feasible when some k gives at least 1. `two_level_min_names`
is the smallest N for which it is, and the functions here refuse fewer names.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from indexlake.methodology.weights import CAP_TOLERANCE

# The rule as in UCITS (EU Directive 2009/65/EC, art. 52(2)): 25% / 4.8% (a buffer below 5%) / 50%.
UCITS_MAX_WEIGHT = 0.25
UCITS_GROUP_THRESHOLD = 0.048
UCITS_GROUP_MAX = 0.50


def _capacity(n: int, max_weight: float, threshold: float, group_max: float) -> float:
    """The largest total weight N names can carry under the rule."""
    # min(k·c, g) + (N − k)·t is concave in k with its kink at k = g/c: the best integer k is
    # one of the two integers around the kink (clipped to 0..N).
    kink = group_max / max_weight
    ks = {min(n, math.floor(kink)), min(n, math.ceil(kink))}
    return max(min(k * max_weight, group_max) + (n - k) * threshold for k in ks)


def two_level_min_names(max_weight: float, group_threshold: float, group_max: float) -> int:
    """The fewest names for which the two-level rule can be met (weights summing to 1)."""
    _check_parameters(max_weight, group_threshold, group_max)
    # Capacity never falls as names are added, and ceil(1/t) names at t alone reach 1.
    lo, hi = 1, math.ceil(1 / group_threshold)
    while lo < hi:
        mid = (lo + hi) // 2
        if _capacity(mid, max_weight, group_threshold, group_max) >= 1 - CAP_TOLERANCE:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _check_parameters(max_weight: float, group_threshold: float, group_max: float) -> None:
    if not 0 < max_weight <= 1:
        raise ValueError(f"max_weight must be in (0, 1], got {max_weight}")
    if not 0 < group_max <= 1:
        raise ValueError(f"group_max must be in (0, 1], got {group_max}")
    if not 0 < group_threshold < max_weight:
        raise ValueError(
            f"group_threshold must be in (0, max_weight = {max_weight}), got {group_threshold}"
        )


def _water_fill(w: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """min(cap_i, s·w_i) summing to 1: the single-cap rule with a cap per name."""
    n = w.size
    fixed = np.zeros(n, dtype=bool)
    out = w
    # Each pass fixes at least one more name at its cap, so at most n passes.
    for _ in range(n):
        over = (out > caps + CAP_TOLERANCE) & ~fixed
        if not over.any():
            break
        fixed |= over
        free = ~fixed
        residual = 1.0 - caps[fixed].sum()
        out = np.where(fixed, caps, 0.0)
        free_total = w[free].sum()
        if free_total > 0:
            out[free] = w[free] / free_total * residual
        elif free.any():
            # Only zero-weight names are left: share equally (a later pass caps them if needed).
            out[free] = residual / free.sum()
    return out


def two_level_capped_array(
    weights: np.ndarray, max_weight: float, group_threshold: float, group_max: float
) -> np.ndarray:
    """Two-level rule on an array of non-negative weights (see the module docstring)."""
    _check_parameters(max_weight, group_threshold, group_max)
    w = np.asarray(weights, dtype=float)
    n = w.size
    needed = two_level_min_names(max_weight, group_threshold, group_max)
    if n < needed:
        raise ValueError(
            f"two-level cap {max_weight}/{group_threshold}/{group_max} is infeasible for {n} "
            f"names: it needs at least {needed}"
        )
    total = w.sum()
    if (w < 0).any() or not total > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    w = w / total
    caps = np.full(n, float(max_weight))
    for _ in range(n + 1):
        out = _water_fill(w, caps)
        group = out > group_threshold + CAP_TOLERANCE
        if out[group].sum() <= group_max + CAP_TOLERANCE:
            return out
        members = np.flatnonzero(group)
        # Smallest group weight first; ties by position so the result is deterministic.
        smallest = members[np.lexsort((members, out[members]))[0]]
        caps[smallest] = group_threshold
    # Unreachable when N ≥ two_level_min_names: each round demotes a name.
    raise ValueError("two-level capping did not converge")  # pragma: no cover


def two_level_capped_weights(
    weights: pd.Series,
    max_weight: float = UCITS_MAX_WEIGHT,
    group_threshold: float = UCITS_GROUP_THRESHOLD,
    group_max: float = UCITS_GROUP_MAX,
) -> pd.Series:
    """Weights with none above max_weight and those above group_threshold summing ≤ group_max."""
    values = weights.to_numpy(dtype=float)
    capped = two_level_capped_array(values, max_weight, group_threshold, group_max)
    return pd.Series(capped, index=weights.index)
