"""Risk-based weightings from a window of daily returns: inverse volatility, minimum variance.

Returns are a (days × names) array of daily simple returns, every cell present: the engine only
passes names with a full window. Standard deviations and covariances are samples (ddof = 1).

Minimum variance (long only, fully invested, optional per-name cap u):

    minimise wᵀΣw  subject to  Σ_i w_i = 1,  0 ≤ w_i ≤ u,
    Σ = (1 − δ)·S + δ·(trace(S)/N)·I   (S the sample covariance; shrinkage δ in [0, 1]).

Solved by block principal pivoting (Júdice & Pires 1994: guess which names sit at 0 and at the
cap, solve that KKT system, move every name that breaks a condition at once; a few iterations),
falling back to a primal active-set method (Nocedal & Wright, *Numerical Optimization*, §16.5;
one bound per iteration) if pivoting does not settle; not a general-purpose solver. With Σ
positive definite the problem is strictly convex, both end at the exact optimum of the final
active set (one linear KKT solve), and they do the same floating-point operations on the same
input, so the weights are reproducible to rounding (~1e-15), well inside the 1e-9 required.
Bounds that end active hold exactly (zero weights are exact zeros, capped names exactly u). The
tests check it against SLSQP, closed forms and each other. Σ is divided by its mean variance
first: the argmin is unchanged and tolerances become relative.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
import pandas as pd

# A step this small (in weight) means the current active set's optimum has been reached.
STEP_TOLERANCE = 1e-14
# KKT multipliers above -this (Σ scaled to unit mean variance) count as non-negative.
MULTIPLIER_TOLERANCE = 1e-12
# Each iteration adds or drops one bound; this many per name means cycling, not progress.
ITERATIONS_PER_NAME = 20
# Smallest eigenvalue (Σ scaled to unit mean variance) treated as positive definite.
SINGULAR_TOLERANCE = 1e-10
DDOF = 1  # sample statistics, as everywhere in the methodology
# Block pivoting: full block moves allowed while the count of broken KKT conditions has not
# fallen for this many iterations, and iterations (plus one per name) before giving up.
BACKUP_PIVOTS = 3
PIVOT_ITERATIONS = 50


def _check_returns(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2 or r.shape[1] == 0:
        raise ValueError("returns must be a non-empty (days × names) array")
    if r.shape[0] < DDOF + 1:
        raise ValueError(f"need at least {DDOF + 1} returns per name, got {r.shape[0]}")
    if not np.isfinite(r).all():
        raise ValueError("returns must be finite (pass only names with a full window)")
    return r


def single_threaded_blas() -> AbstractContextManager[object]:
    """A context limiting BLAS to one thread (process-wide, restored on exit).

    The covariance products and KKT solves here are ~50 × 50: too small to gain from threads,
    while waking BLAS threads costs milliseconds per call on a busy machine (measured: a
    500-symbol, 25-year minimum-variance index 3-4x faster with one thread). Entering costs
    ~4 ms, so wrap a loop of rebalances, not each solve.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def inverse_volatility_array(returns: np.ndarray) -> np.ndarray:
    """w_i ∝ 1/σ_i, σ the sample standard deviation of each column of daily returns."""
    sigma = _check_returns(returns).std(axis=0, ddof=DDOF)
    if not (sigma > 0).all():
        raise ValueError("a name has zero volatility over the window (constant price)")
    inverse = 1.0 / sigma
    return inverse / inverse.sum()


def shrunk_covariance(returns: np.ndarray, shrinkage: float) -> np.ndarray:
    """(1 − δ)·S + δ·(trace(S)/N)·I with S the sample covariance of the columns."""
    if not 0 <= shrinkage <= 1:
        raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
    r = _check_returns(returns)
    sample = np.atleast_2d(np.cov(r, rowvar=False, ddof=DDOF))
    n = sample.shape[0]
    target = np.trace(sample) / n * np.eye(n)
    return (1.0 - shrinkage) * sample + shrinkage * target


def _equality_qp_step(
    cov: np.ndarray, gradient: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, float]:
    """Step p on the free names (Σ p_free = 0) to the optimum with the other names fixed."""
    idx = np.flatnonzero(free)
    k = idx.size
    # KKT system [Σ_FF  1; 1ᵀ 0] [p_F; -ν] = [-g_F; 0].
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = cov[np.ix_(idx, idx)]
    kkt[:k, k] = 1.0
    kkt[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[:k] = -gradient[idx]
    try:
        solution = np.linalg.solve(kkt, rhs)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "covariance is singular: use shrinkage > 0 or a lookback longer than the member count"
        ) from exc
    step = np.zeros(gradient.size)
    step[idx] = solution[:k]
    return step, -solution[k]


def _solve_partition(
    sigma: np.ndarray, lower: np.ndarray, upper: np.ndarray, cap: float
) -> tuple[np.ndarray, float] | None:
    """Optimum with the ``lower`` names at 0 and the ``upper`` ones at ``cap`` (the others free,
    the weights summing to 1) and its multiplier ν; None when no name is free."""
    idx = np.flatnonzero(~(lower | upper))
    k = idx.size
    if k == 0:
        return None
    w = np.where(upper, cap, 0.0)
    # KKT system [Σ_FF  1; 1ᵀ 0] [w_F; -ν] = [-Σ_FU·cap; 1 - cap·|U|].
    kkt = np.empty((k + 1, k + 1))
    kkt[:k, :k] = sigma[np.ix_(idx, idx)]
    kkt[:k, k] = 1.0
    kkt[k, :k] = 1.0
    kkt[k, k] = 0.0
    rhs = np.empty(k + 1)
    rhs[:k] = -(sigma[idx] @ w)
    rhs[k] = 1.0 - w.sum()
    solution = np.linalg.solve(kkt, rhs)
    w[idx] = solution[:k]
    return w, -solution[k]


def _block_pivoting(sigma: np.ndarray, cap: float) -> np.ndarray | None:
    """The minimum-variance weights by block principal pivoting (Júdice & Pires 1994), or
    None if it does not settle (the caller then runs the primal active-set method).

    Each iteration solves the KKT system of a guess of which names sit at 0 and at the cap,
    then moves every name that breaks a condition (a free weight outside [0, cap], a bound
    with a negative multiplier) to the other side at once, so a typical problem takes a few
    iterations where the primal method takes one per bound. When the count of broken
    conditions stops falling, single moves of the last offender (Murty's rule) follow.
    The end point satisfies every KKT condition, so it is the unique optimum.
    """
    n = sigma.shape[0]
    lower = np.zeros(n, dtype=bool)
    upper = np.zeros(n, dtype=bool)
    fewest, backups = n + 2, BACKUP_PIVOTS
    for _ in range(PIVOT_ITERATIONS + n):
        solved = _solve_partition(sigma, lower, upper, cap)
        if solved is None:
            return None
        w, nu = solved
        gradient = sigma @ w
        free = ~(lower | upper)
        below = free & (w < 0.0)
        above = free & (w > cap)
        # Released bounds: multipliers g_i − ν at zero and ν − g_i at the cap.
        release = (lower & (gradient - nu < -MULTIPLIER_TOLERANCE)) | (
            upper & (nu - gradient < -MULTIPLIER_TOLERANCE)
        )
        broken = below | above | release
        count = int(broken.sum())
        if count == 0:
            return w
        single = False
        if count < fewest:
            fewest, backups = count, BACKUP_PIVOTS
        elif backups > 0:
            backups -= 1
        else:
            single = True
        moved = _pivot(lower, upper, below, above, release, single)
        if moved is None:
            moved = _pivot(lower, upper, below, above, release, single=True)
        if moved is None:
            return None
        lower, upper = moved
    return None


def _pivot(
    lower: np.ndarray,
    upper: np.ndarray,
    below: np.ndarray,
    above: np.ndarray,
    release: np.ndarray,
    single: bool,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The bound sets after moving every broken name (or only the last one, ``single``);
    None if no name would be left free (the budget constraint needs one)."""
    if single:
        last = np.zeros_like(lower)
        last[np.flatnonzero(below | above | release)[-1]] = True
        below, above, release = below & last, above & last, release & last
    lower = (lower & ~release) | below
    upper = (upper & ~release) | above
    if (lower | upper).all():
        return None
    return lower, upper


def minimum_variance_array(cov: np.ndarray, max_weight: float | None = None) -> np.ndarray:
    """Long-only, fully invested weights minimising wᵀΣw, each at most max_weight."""
    sigma = np.asarray(cov, dtype=float)
    n = sigma.shape[0]
    if sigma.shape != (n, n) or n == 0 or not np.isfinite(sigma).all():
        raise ValueError("covariance must be a finite, non-empty square matrix")
    cap = 1.0 if max_weight is None else float(max_weight)
    if not 0 < cap <= 1:
        raise ValueError(f"max_weight must be in (0, 1], got {max_weight}")
    if n * cap < 1 - 1e-12:
        raise ValueError(
            f"max_weight {cap} is infeasible for {n} names (N × max_weight = {n * cap:.6g} < 1)"
        )
    scale = np.trace(sigma) / n
    if not scale > 0:
        raise ValueError("covariance has no variance")
    sigma = (sigma + sigma.T) / (2.0 * scale)  # symmetric, unit mean variance
    # The method needs a strictly convex objective; a rank-deficient sample covariance (fewer
    # returns than names, no shrinkage) has no unique minimum.
    if np.linalg.eigvalsh(sigma)[0] <= SINGULAR_TOLERANCE:
        raise ValueError(
            "covariance is singular: use shrinkage > 0 or a lookback longer than the member count"
        )

    if cap > 1.0 / n:
        pivoted = _block_pivoting(sigma, cap)
        if pivoted is not None:
            w = np.clip(pivoted, 0.0, cap)
            return w / w.sum()
    return _primal_active_set(sigma, cap)


def _primal_active_set(sigma: np.ndarray, cap: float) -> np.ndarray:
    """The minimum-variance weights by the primal active-set method (scaled Σ, see above)."""
    n = sigma.shape[0]
    # Start at equal weights, feasible because 1/N ≤ cap; with N·cap = 1 it is the only point.
    w = np.full(n, 1.0 / n)
    at_lower = np.zeros(n, dtype=bool)
    at_upper = np.full(n, cap <= 1.0 / n)
    for _ in range(ITERATIONS_PER_NAME * n + 10):
        free = ~(at_lower | at_upper)
        if not free.any():
            break  # N·cap = 1: equal weights are the only feasible point
        step, nu = _equality_qp_step(sigma, sigma @ w, free)
        if np.abs(step).max() > STEP_TOLERANCE:
            # Longest step along p that keeps every free name within [0, cap].
            with np.errstate(divide="ignore", invalid="ignore"):
                to_lower = np.where(free & (step < 0), -w / step, np.inf)
                to_upper = np.where(free & (step > 0), (cap - w) / step, np.inf)
            block_lower, block_upper = int(np.argmin(to_lower)), int(np.argmin(to_upper))
            alpha = min(1.0, to_lower[block_lower], to_upper[block_upper])
            w = w + alpha * step
            if alpha < 1.0:
                # Snap the blocking bound exactly, so active bounds hold without rounding noise.
                if to_lower[block_lower] <= to_upper[block_upper]:
                    w[block_lower], at_lower[block_lower] = 0.0, True
                else:
                    w[block_upper], at_upper[block_upper] = cap, True
                continue
        # At the optimum of this active set the free gradients all equal ν. KKT for the bounds:
        # g_i − ν ≥ 0 at zero, ν − g_i ≥ 0 at the cap; release the most violated bound, if any.
        gradient = sigma @ w
        released = np.where(at_lower, gradient - nu, np.where(at_upper, nu - gradient, np.inf))
        worst = int(np.argmin(released))
        if released[worst] >= -MULTIPLIER_TOLERANCE:
            break
        at_lower[worst] = at_upper[worst] = False
    else:
        raise ValueError("minimum-variance active set did not converge")  # pragma: no cover
    w = np.clip(w, 0.0, cap)
    return w / w.sum()


def inverse_volatility_weights(returns: pd.DataFrame) -> pd.Series:
    """Inverse-volatility weights of the columns of a (days × symbols) frame of daily returns."""
    return pd.Series(inverse_volatility_array(returns.to_numpy(dtype=float)), index=returns.columns)


def minimum_variance_weights(
    returns: pd.DataFrame, shrinkage: float, max_weight: float | None = None
) -> pd.Series:
    """Long-only minimum-variance weights from the shrunk covariance of daily returns."""
    cov = shrunk_covariance(returns.to_numpy(dtype=float), shrinkage)
    return pd.Series(minimum_variance_array(cov, max_weight), index=returns.columns)
