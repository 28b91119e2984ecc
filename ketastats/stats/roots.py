"""Root finding exactly as R's ``uniroot`` (Brent's ``zeroin``), so that quantities R defines as a
``uniroot`` result (``fisher.test``'s conditional MLE and confidence limits) come out identical.

R's ``uniroot(f, c(lower, upper))`` calls ``R_zeroin2`` (``src/library/stats/src/zeroin.c``) with
``tol = .Machine$double.eps^0.25`` (about 1.2e-4) and ``maxiter = 1000``. A root found with that
tolerance can be 1e-5 away from the exact root; reproducing the algorithm step by step (same
interval, same function values, same arithmetic) reproduces R's number to rounding error, which
is what a reader comparing with R expects. Non-finite function values are replaced by ±DBL_MAX
as R's ``fcn2`` does.

Example
-------
>>> round(uniroot(lambda x: x * x - 2.0, 0.0, 2.0, tol=1e-12), 12)
1.414213562373
"""

from __future__ import annotations

import math
import sys
from typing import Callable

EPSILON = sys.float_info.epsilon
DBL_MAX = sys.float_info.max
R_UNIROOT_TOL = EPSILON ** 0.25


def _finite(value: float) -> float:
    """R's ``fcn2`` guard: NaN and +inf become ``DBL_MAX``, −inf becomes ``-DBL_MAX``."""
    value = float(value)
    if math.isfinite(value):
        return value
    return -DBL_MAX if value == -math.inf else DBL_MAX


def uniroot(f: Callable[[float], float], lower: float, upper: float, tol: float = R_UNIROOT_TOL,
            maxiter: int = 1000) -> float:
    """R's ``uniroot(f, c(lower, upper), tol = tol)$root``.

    ``f`` maps a float to a float; ``lower`` < ``upper`` bracket the root; ``tol`` defaults to
    R's ``.Machine$double.eps^0.25`` and ``maxiter`` to R's 1000. An end point where ``f`` is
    exactly 0 is returned as the root, as R. Returns the root (R's ``$root``: the last iterate,
    within about ``tol`` of the exact root).

    >>> round(uniroot(lambda x: x ** 3 - x - 1, 1.0, 2.0), 12)   # R: 1.32471782512877
    1.324717825129

    Raises
    ------
    ValueError
        When ``f(lower)`` and ``f(upper)`` have the same sign (R: "values at end points not of
        opposite sign") or the iteration limit is reached.
    """
    fa, fb = _finite(f(lower)), _finite(f(upper))
    if fa * fb > 0:
        raise ValueError("values at end points not of opposite sign")
    root, iterations = zeroin2(lambda x: _finite(f(x)), lower, upper, fa, fb, tol, maxiter)
    if iterations < 0:
        raise ValueError(f"root finding did not converge in {maxiter} iterations")
    return root


def zeroin2(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float,
            maxit: int) -> tuple[float, int]:
    """A line-by-line port of R's ``R_zeroin2``; returns (root, iterations or −1 on failure).

    ``fa`` and ``fb`` are ``f(ax)`` and ``f(bx)``, already evaluated (as R's ``uniroot`` passes
    ``f.lower`` / ``f.upper``) and of opposite signs. Brent's method: inverse quadratic or secant
    interpolation when it stays inside the bracket and shrinks fast enough, bisection otherwise;
    stops when half the bracket is below ``2 ε |b| + tol / 2``. The iteration count is
    ``maxit + 1 −`` the remaining budget, one more than R's ``$iter``; callers only use its sign.
    """
    a, b = ax, bx
    c, fc = a, fa
    remaining = maxit + 1
    if fa == 0.0:
        return a, 0
    if fb == 0.0:
        return b, 0
    while remaining:
        remaining -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, maxit + 1 - remaining
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, -1
