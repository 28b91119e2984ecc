"""Distribution functions (t, normal, chi-squared, F, beta) without importing ``scipy.stats``.

Importing :mod:`scipy.stats` costs about 0.5 s of CPU (it loads every distribution, ``scipy.optimize``,
``scipy.integrate`` and ``scipy.interpolate``), while the kernels of ketastats need only a handful of
tail probabilities and quantiles. Each ``scipy.stats`` distribution method is a thin layer over a
``scipy.special`` function (t: ``stdtr`` / ``stdtrit``, normal: ``ndtr`` / ``ndtri``, chi-squared:
``chdtrc`` / ``gammaincinv``, F: ``fdtrc``, beta: Boost's ``_beta_ppf`` / ``betainccinv``) plus
argument checks and the values at the edges of the support. The functions below call the same
``scipy.special`` functions and reproduce those checks (``rv_continuous.cdf`` / ``sf`` / ``ppf`` /
``isf`` of scipy 1.17 with ``loc = 0``, ``scale = 1``), so their results are **bit-identical** to the
``scipy.stats`` calls they replace, including NaN for invalid parameters (``df <= 0``), the values at
``x = ±inf`` and the quantiles at ``q = 0`` and ``q = 1``. ``tests/test_distributions.py`` checks the
identity with ``np.array_equal`` on seeded arguments including tails and edges.

R equivalents: ``pt`` / ``qt``, ``pnorm`` / ``qnorm``, ``pchisq`` / ``qchisq``, ``pf``, ``qbeta``; the
values agree with R to the accuracy of the underlying algorithms (as scipy.stats' did).

Every function takes scalars or arrays (broadcast like a ufunc) and returns a NumPy float64 scalar for
scalar input, an array otherwise, like ``scipy.stats``.

>>> round(float(t_sf(2.0, 10)), 6), round(float(norm_ppf(0.975)), 6)
(0.036694, 1.959964)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special
from scipy.special import _ufuncs

__all__ = ["beta_isf", "beta_ppf", "chi2_ppf", "chi2_sf", "f_sf", "nct_cdf", "norm_cdf", "norm_ppf", "norm_sf",
           "hypergeom_cdf", "hypergeom_logpmf", "hypergeom_sf", "rankdata", "t_cdf", "t_ppf", "t_sf"]


def _valid(*params: np.ndarray, positive: int | None = None) -> np.ndarray:
    """``rv_continuous._argcheck``'s default: every shape parameter > 0 (NaN is invalid); with
    ``positive=k`` only the first k must be > 0 and the others not NaN (``nct``'s check)."""
    ok = np.asarray(True)
    for i, p in enumerate(params):
        ok = ok & ((p > 0) if positive is None or i < positive else (p == p))
    return ok


def _finish(out: np.ndarray):
    """A NumPy scalar for 0-d results, the array otherwise (as ``scipy.stats`` returns)."""
    return out[()] if out.ndim == 0 else out


def _probability(kernel: Callable[..., np.ndarray], x, params: tuple, lower: float, upper: float,
                 upper_tail: bool, positive: int | None = None):
    """``rv_continuous.cdf`` (``upper_tail=False``) or ``.sf`` on support (lower, upper).

    NaN for invalid parameters or NaN ``x``; below / above the support 0 and 1 (cdf) or 1 and 0 (sf);
    ``kernel`` inside the open support.
    """
    x = np.asarray(x, dtype=np.promote_types(np.asarray(x).dtype, np.float64))
    params = tuple(np.asarray(p) for p in params)
    ok = _valid(*params, positive=positive)
    with np.errstate(invalid="ignore"):
        inside = (lower < x) & (x < upper)
        edge = (x >= upper) if not upper_tail else (x <= lower)
    shape = np.broadcast(x, ok, *params).shape
    out = np.zeros(shape, dtype=x.dtype)
    out[np.broadcast_to(~ok | np.isnan(x), shape)] = np.nan
    out[np.broadcast_to(edge & ok, shape)] = 1.0
    good = np.broadcast_to(ok & inside, shape)
    if np.any(good):
        args = [np.broadcast_to(a, shape)[good] for a in (x, *params)]
        out[good] = kernel(*args)
    return _finish(out)


def _quantile(kernel: Callable[..., np.ndarray], q, params: tuple, lower: float, upper: float,
              upper_tail: bool):
    """``rv_continuous.ppf`` (``upper_tail=False``) or ``.isf``: NaN outside [0, 1] or for invalid
    parameters, the support's bounds at q = 0 and 1, ``kernel`` for 0 < q < 1."""
    q = np.asarray(q)
    params = tuple(np.asarray(p) for p in params)
    ok = _valid(*params)
    shape = np.broadcast(q, ok, *params).shape
    out = np.full(shape, np.nan)
    at_lower, at_upper = (q == 1, q == 0) if upper_tail else (q == 0, q == 1)
    out[np.broadcast_to(ok & at_lower, shape)] = lower
    out[np.broadcast_to(ok & at_upper, shape)] = upper
    good = np.broadcast_to(ok & (0 < q) & (q < 1), shape)
    if np.any(good):
        args = [np.broadcast_to(a, shape)[good] for a in (q, *params)]
        out[good] = kernel(*args) * 1.0 + 0.0  # scipy.stats applies scale and loc: * 1 + 0
    return _finish(out)


def t_cdf(x, df):
    """P(T <= x) for Student's t with ``df`` degrees of freedom (R ``pt``; ``scipy.stats.t.cdf``).

    >>> float(t_cdf(0.0, 5))
    0.5
    >>> float(t_cdf(np.inf, 5)), bool(np.isnan(t_cdf(1.0, 0)))
    (1.0, True)
    """
    return _probability(lambda x, df: special.stdtr(df, x), x, (df,), -np.inf, np.inf, False)


def t_sf(x, df):
    """P(T > x) for Student's t (R ``pt(lower.tail = FALSE)``; ``scipy.stats.t.sf``).

    >>> round(float(2 * t_sf(2.228139, 10)), 6)   # two-sided p at the 97.5 % quantile
    0.05
    """
    return _probability(lambda x, df: special.stdtr(df, -x), x, (df,), -np.inf, np.inf, True)


def t_ppf(q, df):
    """Quantile of Student's t (R ``qt``; ``scipy.stats.t.ppf``); -inf / inf at q = 0 / 1.

    >>> round(float(t_ppf(0.975, 10)), 6)
    2.228139
    >>> t_ppf(np.array([0.0, 1.0, 1.5]), 3).tolist()
    [-inf, inf, nan]
    """
    return _quantile(lambda q, df: special.stdtrit(df, q), q, (df,), -np.inf, np.inf, False)


def norm_cdf(x):
    """Standard normal P(Z <= x) (R ``pnorm``; ``scipy.stats.norm.cdf``).

    >>> round(float(norm_cdf(1.959964)), 6)
    0.975
    """
    return _probability(special.ndtr, x, (), -np.inf, np.inf, False)


def norm_sf(x):
    """Standard normal P(Z > x) (R ``pnorm(lower.tail = FALSE)``; ``scipy.stats.norm.sf``).

    >>> round(float(2 * norm_sf(1.959964)), 6)
    0.05
    """
    return _probability(lambda x: special.ndtr(-x), x, (), -np.inf, np.inf, True)


def norm_ppf(q):
    """Standard normal quantile (R ``qnorm``; ``scipy.stats.norm.ppf``).

    >>> round(float(norm_ppf(0.975)), 6)
    1.959964
    """
    return _quantile(special.ndtri, q, (), -np.inf, np.inf, False)


def chi2_sf(x, df):
    """Chi-squared upper tail P(X > x) (R ``pchisq(lower.tail = FALSE)``; ``scipy.stats.chi2.sf``).

    >>> round(float(chi2_sf(3.841459, 1)), 6)
    0.05
    >>> float(chi2_sf(-1.0, 2))
    1.0
    """
    return _probability(lambda x, df: special.chdtrc(df, x), x, (df,), 0.0, np.inf, True)


def chi2_ppf(q, df):
    """Chi-squared quantile (R ``qchisq``; ``scipy.stats.chi2.ppf``, ``2 * gammaincinv(df / 2, q)``).

    >>> round(float(chi2_ppf(0.95, 1)), 6)
    3.841459
    """
    return _quantile(lambda q, df: 2 * special.gammaincinv(df / 2, q), q, (df,), 0.0, np.inf, False)


def f_sf(x, dfn, dfd):
    """F upper tail P(F > x) with (dfn, dfd) degrees of freedom (R ``pf(lower.tail = FALSE)``;
    ``scipy.stats.f.sf``).

    >>> round(float(f_sf(4.964603, 1, 10)), 6)
    0.05
    """
    return _probability(lambda x, dfn, dfd: special.fdtrc(dfn, dfd, x), x, (dfn, dfd), 0.0, np.inf, True)


def nct_cdf(x, df, nc):
    """P(T <= x) for the noncentral t with ``df`` degrees of freedom and noncentrality ``nc`` (R ``pt(x,
    df, ncp)``; ``scipy.stats.nct.cdf``, ``special.nctdtr``). NaN for df <= 0 or NaN ``nc``.

    >>> round(float(nct_cdf(2.0, 7, 1.0)), 6)
    0.794505
    """
    return _probability(lambda x, df, nc: special.nctdtr(df, nc, x), x, (df, nc), -np.inf, np.inf, False,
                        positive=1)


def beta_ppf(q, a, b):
    """Beta(a, b) quantile (R ``qbeta``; ``scipy.stats.beta.ppf``, Boost's ``ibeta_inv``).

    NaN for a <= 0 or b <= 0, as scipy.stats.

    >>> round(float(beta_ppf(0.025, 3, 8)), 6)
    0.06674
    >>> bool(np.isnan(beta_ppf(0.025, 0, 8)))
    True
    """
    return _quantile(_ufuncs._beta_ppf, q, (a, b), 0.0, 1.0, False)


def beta_isf(q, a, b):
    """Beta(a, b) upper-tail quantile (``qbeta(lower.tail = FALSE)``; ``scipy.stats.beta.isf``).

    >>> round(float(beta_isf(0.025, 4, 7)), 6)
    0.652453
    """
    return _quantile(lambda q, a, b: special.betainccinv(a, b, q), q, (a, b), 0.0, 1.0, True)


def _hypergeom_setup(k, M, n, N):
    """Arrays broadcast to one shape, ``hypergeom._argcheck`` (M > 0, 0 <= n, N <= M, all integral) and
    the support [max(N - (M - n), 0), min(n, N)]."""
    k, M, n, N = np.broadcast_arrays(*(np.asarray(v) for v in (k, M, n, N)))
    ok = (M > 0) & (n >= 0) & (N >= 0) & (n <= M) & (N <= M)
    ok = ok & (M == np.round(M)) & (n == np.round(n)) & (N == np.round(N))
    return k, M, n, N, ok, np.maximum(N - (M - n), 0), np.minimum(n, N)


def hypergeom_logpmf(k, M, n, N):
    """log P(X = k), X hypergeometric: ``N`` draws from ``M`` items of which ``n`` are marked (R
    ``dhyper(k, n, M - n, N, log = TRUE)``; ``scipy.stats.hypergeom.logpmf``, a sum of ``betaln``).

    -inf off the support or for non-integral k, NaN for invalid parameters.

    >>> round(float(np.exp(hypergeom_logpmf(2, 10, 4, 3))), 6)   # choose(4,2) choose(6,1) / choose(10,3)
    0.3
    """
    k, M, n, N, ok, low, high = _hypergeom_setup(k, M, n, N)
    out = np.full(k.shape, -np.inf)
    out[~ok | np.isnan(k)] = np.nan
    good = ok & (k >= low) & (k <= high) & (np.floor(k) == k)
    if np.any(good):
        k, tot, marked, draws = k[good], M[good], n[good], N[good]
        bad = tot - marked
        out[good] = (special.betaln(marked + 1, 1) + special.betaln(bad + 1, 1)
                     + special.betaln(tot - draws + 1, draws + 1) - special.betaln(k + 1, marked - k + 1)
                     - special.betaln(draws - k + 1, bad - draws + k + 1) - special.betaln(tot + 1, 1))
    return _finish(out)


def hypergeom_cdf(k, M, n, N):
    """P(X <= k), X hypergeometric (R ``phyper(k, n, M - n, N)``; ``scipy.stats.hypergeom.cdf``, Boost).

    >>> round(float(hypergeom_cdf(1, 10, 4, 3)), 6)
    0.666667
    """
    k, M, n, N, ok, low, high = _hypergeom_setup(k, M, n, N)
    out = np.zeros(k.shape)
    out[k >= high] = 1.0
    out[np.isneginf(k)] = 0.0
    out[~ok | np.isnan(k)] = np.nan
    good = ok & (k >= low) & (k < high) & np.isfinite(k)
    if np.any(good):
        out[good] = np.clip(_ufuncs._hypergeom_cdf(k[good], n[good], N[good], M[good]), 0, 1)
    return _finish(out)


def hypergeom_sf(k, M, n, N):
    """P(X > k), X hypergeometric (R ``phyper(k, n, M - n, N, lower.tail = FALSE)``;
    ``scipy.stats.hypergeom.sf``, Boost).

    >>> round(float(hypergeom_sf(1, 10, 4, 3)), 6)
    0.333333
    """
    k, M, n, N, ok, low, high = _hypergeom_setup(k, M, n, N)
    out = np.zeros(k.shape)
    out[~ok | np.isnan(k)] = np.nan
    out[((k < low) | np.isneginf(k)) & ok] = 1.0
    good = ok & (k >= low) & (k < high) & np.isfinite(k)
    if np.any(good):
        out[good] = np.clip(_ufuncs._hypergeom_sf(k[good], n[good], N[good], M[good]), 0, 1)
    return _finish(out)


def rankdata(values) -> np.ndarray:
    """Ranks of a 1-d array, ties given their average rank (R ``rank``; ``scipy.stats.rankdata``).

    Float64 ranks from 1; all NaN when any value is NaN (scipy's ``nan_policy="propagate"``).

    >>> rankdata([3.0, 1.0, 3.0, 2.0]).tolist()
    [3.5, 1.0, 3.5, 2.0]
    """
    arr = np.asarray(values).ravel()
    if arr.dtype.kind in "fc" and np.isnan(arr).any():
        return np.full(arr.shape, np.nan)
    sorter = np.argsort(arr, kind="mergesort")
    inverse = np.empty(sorter.size, dtype=np.intp)
    inverse[sorter] = np.arange(sorter.size, dtype=np.intp)
    ordered = arr[sorter]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = new.cumsum()[inverse]
    count = np.r_[np.nonzero(new)[0], len(new)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)
