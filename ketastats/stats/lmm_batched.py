r"""Random-intercept linear mixed models fitted by REML to many outcomes at once (numerical kernel).

Role
----
The engine of the ``mass_mixed_model`` analysis (one model per connectome edge, tens of
thousands of outcomes). NumPy arrays in, a :class:`BatchedFit` out; no pandas, no formulas,
no I/O, no per-outcome Python loop. Every outcome shares the fixed-effects design ``X``
(n x p, full column rank) and the grouping (participant) of the rows; the outcomes are the
columns of ``Y`` (n x K). (Outcomes with different missing rows are fitted in separate calls,
one per missingness pattern; :mod:`ketastats.analyses.mass_mixed_model` does that.)

R functions matched
-------------------
Per outcome ``k``: ``lme4::lmer(Y[, k] ~ X - 1 + (1 | g), REML = TRUE)`` with a tight optimizer
(``lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))``):
``fixef``, ``sqrt(diag(vcov))``, ``sigma``, ``getME(m, "theta")``, ``VarCorr``, ``REMLcrit``,
``isSingular(m, tol = 1e-4)``; and lmerTest 3.1's ``summary(m)$coefficients`` (Satterthwaite
df, t, p). It is the same model and the same numbers as :func:`ketastats.stats.lmm.fit_lmm`
with ``Z`` a column of ones followed by
:func:`ketastats.stats.satterthwaite.contrast` for each unit vector (tests check both, and R
on 240 outcomes in ``tests/reference/mass_mixed_model/``).

Model and formulas
------------------
:math:`y = X\beta + b_{g} + \varepsilon`, :math:`b \sim N(0, \sigma^2\theta^2)`,
:math:`\varepsilon \sim N(0, \sigma^2)`. With :math:`\gamma = \theta^2`, :math:`n_i` rows in
group :math:`i` and :math:`1_i` their indicator, :math:`H = I + \gamma ZZ'` has
:math:`H^{-1} = I - \sum_i c_i 1_i1_i'`, :math:`c_i = \gamma/(1 + n_i\gamma)`
(compound symmetry within a participant), :math:`\log|H| = \sum_i \log(1 + n_i\gamma)`.
Everything depends on the data only through the per-group sums
:math:`w_i = X_i'1` (shared), :math:`s_i = 1'y_i` (per outcome) and the totals
:math:`X'X`, :math:`X'y`, :math:`y'y` (LIBRARY_NOTES section 4):

.. math::

    A(\gamma) = X'H^{-1}X = X'X - \sum_i c_i w_iw_i', \quad
    b = X'H^{-1}y = X'y - \sum_i c_i w_i s_i, \quad
    y'H^{-1}y = y'y - \sum_i c_i s_i^2,

:math:`\hat\beta = A^{-1}b`, :math:`r^2 = y'H^{-1}y - b'\hat\beta`, and lme4's profiled REML
criterion (Bates et al. 2015, eq. 41)
:math:`d(\gamma) = \log|H| + \log|A| + k\,[1 + \log(2\pi r^2/k)]`, :math:`k = n - p`.
Its derivatives in :math:`\gamma` are closed forms (:math:`c_i' = (1+n_i\gamma)^{-2}`,
:math:`c_i'' = -2n_i(1+n_i\gamma)^{-3}`, :math:`e_i = s_i - w_i'\hat\beta`,
:math:`v = \sum_i c_i' w_i e_i`):
:math:`(r^2)' = -\sum_i c_i' e_i^2`, :math:`(r^2)'' = -\sum_i c_i'' e_i^2 - 2v'A^{-1}v`,
:math:`(\log|A|)' = -\sum_i c_i' w_i'A^{-1}w_i`,
:math:`(\log|A|)'' = -\sum_i c_i'' w_i'A^{-1}w_i - \mathrm{tr}[(A^{-1}A')^2]`.

Optimisation (all outcomes together)
------------------------------------
1. :math:`d` and :math:`d'` on a grid of :math:`\theta` (0 and 33 log-spaced values from
   1e-3 to 1e3; one shared :math:`A` per grid point, so this costs a few array operations per
   point for all outcomes).
2. The minimum is on the boundary, :math:`\hat\theta = 0` exactly (as lme4's bobyqa, whose
   lower bound is 0), when :math:`d'(0) \ge 0` and no interior minimum is lower; otherwise
   it lies in the grid interval where :math:`d'` changes sign from - to + next to the
   lowest grid value. There, safeguarded Newton steps on :math:`d'(\gamma) = 0` (bisection
   when a step leaves the bracket) run until the step is below 1e-13 relative, outcome by
   outcome (an outcome stops when it has converged, so its numbers never depend on which
   other outcomes share its batch).
3. At :math:`\hat\gamma`: :math:`\hat\sigma^2 = r^2/(n-p)` with :math:`r^2` recomputed from the
   residuals, ``vcov`` :math:`= \hat\sigma^2A^{-1}` (lme4's, not statsmodels' ``bse_fe``).

Satterthwaite (lmerTest)
------------------------
lmerTest's variance parameters are :math:`\tau = (\theta, \sigma)` and its deviance
:math:`D(\theta,\sigma) = \log|H| + \log|A| + r^2/\sigma^2 + (n-p)\log(2\pi\sigma^2)`
(``devfun_vp``). Its Hessian here is analytic (lmerTest: ``numDeriv::hessian``):
:math:`D_{\theta\theta} = 2F' + 4\gamma F''` with
:math:`F = \log|H| + \log|A| + r^2/\sigma^2` as a function of :math:`\gamma`,
:math:`D_{\theta\sigma} = -4\theta (r^2)'/\sigma^3`,
:math:`D_{\sigma\sigma} = 6r^2/\sigma^4 - 2(n-p)/\sigma^2`; :math:`V = 2\,\mathcal H^{+}`
keeping eigenvalues > 1e-8 as lmerTest. For coefficient :math:`j`:
:math:`v = \sigma^2(A^{-1})_{jj}`,
:math:`g = (2\theta\sigma^2\sum_i c_i'(A^{-1}w_i)_j^2,\; 2\sigma(A^{-1})_{jj})`,
:math:`\nu_j = 2v^2/(g'Vg)`. At :math:`\theta = 0` this gives :math:`\nu = n - p`.

Determinism
-----------
Only element-wise operations and reductions over the group / row axis are used across
outcomes (no BLAS products mixing outcomes), so each outcome's numbers are the same whatever
outcomes are fitted with it: chunked, local and Dask runs give identical bits.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> g = np.repeat(np.arange(8), 2); time = np.tile([0.0, 1.0], 8)
>>> X = np.column_stack([np.ones(16), time])
>>> Y = (rng.normal(size=(8, 3))[g] + rng.normal(size=(16, 3)) + 0.5 * time[:, None])
>>> fit = fit_random_intercept(Y, X, g)
>>> fit.beta.shape, fit.df_satterthwaite.shape
((3, 2), (3, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BatchedFit", "fit_random_intercept", "t_tests", "SINGULAR_TOL", "HESSIAN_TOL"]

#: lme4::isSingular tolerance on theta.
SINGULAR_TOL = 1e-4
#: lmerTest's eigenvalue tolerance for the deviance Hessian.
HESSIAN_TOL = 1e-8
#: Grid of theta (relative SD of the random intercept) searched before the Newton steps.
THETA_GRID = np.concatenate([[0.0], np.logspace(-3.0, 3.0, 33)])
#: Newton iterations per outcome before it is reported as not converged.
MAX_NEWTON = 100
#: Newton stops when the step in gamma = theta^2 is below this, relative.
STEP_RTOL = 1e-13


@dataclass(frozen=True)
class BatchedFit:
    """Per-outcome results of :func:`fit_random_intercept` (K outcomes, p fixed effects).

    Attributes
    ----------
    beta, se : (K, p) fixed effects and lme4 standard errors.
    df_satterthwaite : (K, p) lmerTest Satterthwaite df per coefficient (None if not asked).
    df_residual : n - p (the "residual" df, the same for every outcome).
    sigma : (K,) residual SD; theta : (K,) SD of the random intercept / sigma;
    sd_intercept : (K,) sigma * theta (``VarCorr``); reml_criterion : (K,) ``REMLcrit``.
    singular : (K,) theta < 1e-4 (``isSingular``); converged : (K,) optimum found
    (False also for outcomes without variance, whose numbers are NaN); iterations : (K,).
    n_obs, n_groups, n_fixed : n, number of groups, p.
    """

    beta: np.ndarray
    se: np.ndarray
    df_satterthwaite: np.ndarray | None
    df_residual: int
    sigma: np.ndarray
    theta: np.ndarray
    sd_intercept: np.ndarray
    reml_criterion: np.ndarray
    singular: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    n_obs: int
    n_groups: int
    n_fixed: int


# ------------------------------------------------------------------ small SPD algebra, batched
# Matrices are (p, p, K) arrays: one p x p matrix per outcome, outcomes last (contiguous).

def _cholesky(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of a batch; second value: False where a matrix is not positive definite."""
    p = A.shape[0]
    L = np.zeros_like(A)
    ok = np.ones(A.shape[2:], dtype=bool)
    for j in range(p):
        d = A[j, j] - _sum0(L[j, :j] * L[j, :j]) if j else A[j, j].copy()
        ok &= d > 0
        root = np.sqrt(np.where(d > 0, d, np.nan))
        L[j, j] = root
        for i in range(j + 1, p):
            off = A[i, j] - _sum0(L[i, :j] * L[j, :j]) if j else A[i, j]
            L[i, j] = off / root
    return L, ok


def _spd_inverse(L: np.ndarray) -> np.ndarray:
    """A^-1 from its Cholesky factor L (batch)."""
    p = L.shape[0]
    Li = np.zeros_like(L)
    for j in range(p):
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, p):
            acc = np.zeros_like(L[0, 0])
            for k in range(j, i):
                acc = acc + L[i, k] * Li[k, j]
            Li[i, j] = -acc / L[i, i]
    inv = np.empty_like(L)
    for a in range(p):
        for b in range(a + 1):
            acc = np.zeros_like(L[0, 0])
            for k in range(a, p):
                acc = acc + Li[k, a] * Li[k, b]
            inv[a, b] = acc
            inv[b, a] = acc
    return inv


def _sum0(a: np.ndarray) -> np.ndarray:
    """Sum over the first axis, strictly in order (numpy's reductions may reorder or pair terms
    depending on the array's shape; this keeps every outcome's result independent of the batch)."""
    out = np.array(a[0], dtype=np.float64, copy=True)
    for i in range(1, a.shape[0]):
        out += a[i]
    return out


def _matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(p, p, ...) @ (p, ...) per outcome, element-wise."""
    p = M.shape[0]
    out = np.empty((p,) + np.broadcast_shapes(M.shape[2:], v.shape[1:]))
    for a in range(p):
        acc = M[a, 0] * v[0]
        for b in range(1, p):
            acc = acc + M[a, b] * v[b]
        out[a] = acc
    return out


# ------------------------------------------------------------------------------- the model

class _Design:
    """What the shared design contributes: group sizes, per-group column sums, X'X."""

    def __init__(self, X: np.ndarray, codes: np.ndarray, m: int):
        n, p = X.shape
        self.n, self.p, self.m = n, p, m
        self.k = n - p
        self.codes = codes
        self.rows = [np.flatnonzero(codes == i) for i in range(m)]
        self.n_i = np.array([r.size for r in self.rows], dtype=np.float64)
        self.w = np.array([X[r].sum(axis=0) for r in self.rows])           # (m, p)
        self.X = X
        self.XtX = X.T @ X
        self.ww = {(a, b): self.w[:, a] * self.w[:, b] for a in range(p) for b in range(a + 1)}
        self.log2pi = math.log(2.0 * math.pi)


class _Data:
    """Per-outcome sufficient statistics (outcomes last)."""

    def __init__(self, Y: np.ndarray, design: _Design):
        self.s = np.array([_sum0(Y[r]) for r in design.rows])          # (m, K)
        self.Xty = np.array([_sum0(design.X[:, a, None] * Y) for a in range(design.p)])  # (p, K)
        self.yty = _sum0(Y * Y)                                       # (K,)

    def take(self, index: np.ndarray) -> "_Data":
        """The statistics of the outcomes ``index`` only (a subset worked on separately)."""
        out = object.__new__(_Data)
        out.s, out.Xty, out.yty = self.s[:, index], self.Xty[:, index], self.yty[index]
        return out


def _a_matrix(design: _Design, weights: np.ndarray, base: np.ndarray | None) -> np.ndarray:
    """base - sum_i weights_i w_i w_i' for weights of shape (m, ...) -> (p, p, ...)."""
    p = design.p
    out = np.empty((p, p) + weights.shape[1:])
    for a in range(p):
        for b in range(a + 1):
            ww = design.ww[(a, b)].reshape((-1,) + (1,) * (weights.ndim - 1))
            value = -_sum0(weights * ww)
            if base is not None:
                value = base[a, b] + value
            out[a, b] = value
            out[b, a] = value
    return out


def _beta_r2(design: _Design, data: _Data, c: np.ndarray, Ainv: np.ndarray):
    """beta (p, K), r^2 (K,) and group residual sums e (m, K) for per-group weights c."""
    cs = c * data.s
    b = np.array([data.Xty[a] - _sum0(design.w[:, a].reshape(-1, *(1,) * (cs.ndim - 1)) * cs)
                  for a in range(design.p)])
    yHy = data.yty - _sum0(cs * data.s)
    beta = _matvec(Ainv, b)
    r2 = yHy - _sum0(b * beta)
    e = data.s - sum(design.w[:, a, None] * beta[a] for a in range(design.p))
    return beta, r2, e


def _grid(design: _Design, data: _Data, thetas: np.ndarray):
    """REML criterion and its gamma-derivative on a theta grid shared by all outcomes: (G, K) each."""
    K = data.yty.shape[0]
    G = thetas.size
    dev = np.full((G, K), np.inf)
    grad = np.full((G, K), np.nan)
    k = design.k
    for j, theta in enumerate(thetas):
        gamma = theta * theta
        denom = 1.0 + design.n_i * gamma
        c = gamma / denom
        c1 = 1.0 / (denom * denom)
        A = _a_matrix(design, c[:, None], design.XtX[:, :, None])           # (p, p, 1)
        L, ok = _cholesky(A)
        if not ok.all():
            continue
        Ainv = _spd_inverse(L)
        logdetA = 2.0 * float(np.log(np.diagonal(L[:, :, 0])).sum())
        beta, r2, e = _beta_r2(design, data, c[:, None], Ainv)
        logdetH = float(np.log1p(design.n_i * gamma).sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            dev[j] = logdetH + logdetA + k * (1.0 + np.log(2.0 * math.pi * r2 / k))
            Aw = Ainv[:, :, 0] @ design.w.T                                     # (p, m), shared
            q = (design.w.T * Aw).sum(axis=0)                                  # (m,)
            dlogdetA = -float((c1 * q).sum())
            dlogdetH = float((design.n_i / denom).sum())
            dr2 = -_sum0(c1[:, None] * e * e)
            grad[j] = dlogdetH + dlogdetA + k * dr2 / r2
        dev[j] = np.where(np.isfinite(dev[j]) & (r2 > 0), dev[j], np.inf)
    return dev, grad


class _Point:
    """Everything at per-outcome gamma (K,): criterion, first and second derivative, pieces."""

    def __init__(self, design: _Design, data: _Data, gamma: np.ndarray, sigma2: np.ndarray | None = None):
        k = design.k
        n_i = design.n_i[:, None]
        denom = 1.0 + n_i * gamma
        c = gamma / denom
        c1 = 1.0 / (denom * denom)
        c2 = -2.0 * n_i / (denom * denom * denom)
        A = _a_matrix(design, c, design.XtX)
        L, ok = _cholesky(A)
        Ainv = _spd_inverse(L)
        beta, r2, e = _beta_r2(design, data, c, Ainv)
        self.ok = ok & (r2 > 0)
        self.gamma, self.c, self.c1 = gamma, c, c1
        self.A, self.Ainv, self.beta, self.r2, self.e = A, Ainv, beta, r2, e
        p = design.p
        logdetA = 2.0 * _sum0(np.log(np.array([L[a, a] for a in range(p)])))
        logdetH = _sum0(np.log1p(n_i * gamma))
        # A^-1 w_i for every group: (p, m, K)
        Aw = np.array([sum(Ainv[a, b][None, :] * design.w[:, b, None] for b in range(p)) for a in range(p)])
        self.Aw = Aw
        q = _sum0(design.w.T[:, :, None] * Aw)                          # (m, K)
        dA = _a_matrix(design, c1, None)                                        # A'
        P = np.array([[sum(Ainv[a, t] * dA[t, b] for t in range(p)) for b in range(p)] for a in range(p)])
        trPP = sum(P[a, b] * P[b, a] for a in range(p) for b in range(p))
        v = np.array([_sum0(c1 * design.w[:, a, None] * e) for a in range(p)])
        self.dlogdetH = _sum0(n_i / denom)
        self.d2logdetH = -_sum0(n_i * n_i / (denom * denom))
        self.dlogdetA = -_sum0(c1 * q)
        self.d2logdetA = -_sum0(c2 * q) - trPP
        self.dr2 = -_sum0(c1 * e * e)
        self.d2r2 = -_sum0(c2 * e * e) - 2.0 * _sum0(v * _matvec(Ainv, v))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.dev = logdetH + logdetA + k * (1.0 + np.log(2.0 * math.pi * r2 / k))
            self.grad = self.dlogdetH + self.dlogdetA + k * self.dr2 / r2
            self.hess = (self.d2logdetH + self.d2logdetA
                         + k * (self.d2r2 / r2 - (self.dr2 / r2) ** 2))


def _newton(design: _Design, data: _Data, lo: np.ndarray, hi: np.ndarray, start: np.ndarray):
    """Safeguarded Newton on d'(gamma) = 0 inside [lo, hi] (d'(lo) < 0 <= d'(hi)), per outcome."""
    x = start.copy()
    done = np.zeros(x.shape, dtype=bool)
    iterations = np.zeros(x.shape, dtype=np.int64)
    for _ in range(MAX_NEWTON):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        xa, la, ha = x[active], lo[active], hi[active]
        point = _Point(design, data.take(active), xa)
        g, h = point.grad, point.hess
        la = np.where(g < 0, xa, la)
        ha = np.where(g >= 0, xa, ha)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = -g / h
            new = xa + step
        inside = (h > 0) & np.isfinite(new) & (new > la) & (new < ha)
        mid = np.where(la > 0, np.sqrt(la * ha), 0.5 * (la + ha))
        mid = np.where(ha / np.maximum(la, 1e-300) < 4.0, 0.5 * (la + ha), mid)
        new = np.where(inside, new, mid)
        small = np.abs(new - xa) <= STEP_RTOL * np.maximum(xa, 1e-12)
        narrow = (ha - la) <= STEP_RTOL * np.maximum(ha, 1e-12)
        finished = (small & inside) | narrow | (g == 0)
        x[active] = np.where(finished & (g == 0), xa, new)
        lo[active], hi[active] = la, ha
        iterations[active] += 1
        done[active] = finished
    return x, done, iterations


def _optimise(design: _Design, data: _Data):
    """REML estimate of gamma = theta^2 for every outcome: (gamma, converged, iterations, usable)."""
    K = data.yty.shape[0]
    dev, grad = _grid(design, data, THETA_GRID)
    gammas = THETA_GRID ** 2
    usable = np.isfinite(dev).any(axis=0)
    # interior candidates: d' changes sign from - to + between consecutive grid points
    change = (grad[:-1] < 0) & (grad[1:] >= 0) & np.isfinite(dev[:-1]) & np.isfinite(dev[1:])
    score = np.where(change, np.minimum(dev[:-1], dev[1:]), np.inf)
    j = np.argmin(score, axis=0)
    interior = np.isfinite(score[j, np.arange(K)])
    boundary = (grad[0] >= 0) & np.isfinite(dev[0])
    gamma = np.zeros(K)
    converged = boundary.copy()
    iterations = np.zeros(K, dtype=np.int64)
    idx = np.flatnonzero(interior)
    if idx.size:
        lo, hi = gammas[j[idx]], gammas[j[idx] + 1]
        g_lo, g_hi = grad[j[idx], idx], grad[j[idx] + 1, idx]
        start = lo + (hi - lo) * (-g_lo) / (g_hi - g_lo)          # secant (regula falsi) start
        start = np.where((start > lo) & (start < hi), start, 0.5 * (lo + hi))
        x, done, its = _newton(design, data.take(idx), lo.copy(), hi.copy(), start)
        dev_x = _Point(design, data.take(idx), x).dev
        # a boundary minimum that is lower than the interior one wins (global REML optimum)
        better_boundary = boundary[idx] & (dev[0, idx] <= dev_x)
        gamma[idx] = np.where(better_boundary, 0.0, x)
        converged[idx] = np.where(better_boundary, True, done)
        iterations[idx] = its
    # neither: d' < 0 up to the last grid point (theta > 1e3) or no usable point
    rest = ~interior & ~boundary
    if rest.any():
        last = np.where(np.isfinite(dev[:, rest]).any(axis=0),
                        np.argmin(np.where(np.isfinite(dev[:, rest]), dev[:, rest], np.inf), axis=0), 0)
        gamma[rest] = gammas[last]
        converged[rest] = False
    return gamma, converged & usable, iterations, usable


def _sym2_pinv(a: np.ndarray, b: np.ndarray, c: np.ndarray, tol: float):
    """2 x pseudo-inverse of [[a, b], [b, c]] keeping eigenvalues > tol (lmerTest's vcov_varpar)."""
    phi = 0.5 * np.arctan2(2.0 * b, a - c)
    cs, sn = np.cos(phi), np.sin(phi)
    lam1 = a * cs * cs + 2.0 * b * cs * sn + c * sn * sn
    lam2 = a * sn * sn - 2.0 * b * cs * sn + c * cs * cs
    with np.errstate(divide="ignore", invalid="ignore"):
        i1 = np.where(lam1 > tol, 1.0 / lam1, 0.0)
        i2 = np.where(lam2 > tol, 1.0 / lam2, 0.0)
    v11 = 2.0 * (i1 * cs * cs + i2 * sn * sn)
    v12 = 2.0 * (i1 * cs * sn - i2 * sn * cs)
    v22 = 2.0 * (i1 * sn * sn + i2 * cs * cs)
    return v11, v12, v22


def fit_random_intercept(Y, X, groups, satterthwaite: bool = True) -> BatchedFit:
    r"""REML fits of ``Y[:, k] ~ X + (1 | groups)`` for every column k, vectorised.

    Parameters
    ----------
    Y : array_like, shape (n, K)
        Outcomes (columns), all finite; rows are observations.
    X : array_like, shape (n, p)
        Fixed-effects design shared by every outcome (full column rank).
    groups : array_like, shape (n,)
        Group (participant) of each row; fewer groups than rows.
    satterthwaite : bool, default True
        Also compute lmerTest's Satterthwaite df of every coefficient.

    Returns
    -------
    BatchedFit

    Raises
    ------
    ValueError
        On shape mismatches, non-finite values, a rank-deficient `X`, or as many groups as
        rows (as lme4).

    A constant outcome is not an error: its numbers are NaN and ``converged`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9, 1.6])
    >>> X = np.column_stack([np.ones(11), np.r_[np.tile([0.0, 1.0], 5), 1.0]])
    >>> g = np.r_[np.repeat(np.arange(5), 2), 0]
    >>> fit = fit_random_intercept(np.column_stack([y, 2 * y, np.ones(11)]), X, g)
    >>> fit.se[0].round(6).tolist(), fit.df_satterthwaite[0].round(6).tolist()   # R: lmerTest summary
    ([0.23772, 0.273554], [7.872613, 4.769151])
    >>> fit.beta[1].round(6).tolist(), fit.converged.tolist()   # 2y: twice the estimates; constant: NaN
    ([2.6, -0.829028], [True, True, False])
    """
    Y = np.asarray(Y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"Y (n x K) and X (n x p) need the same rows, got {Y.shape} and {X.shape}")
    groups = np.asarray(groups)
    n, p = X.shape
    if groups.shape != (n,):
        raise ValueError(f"groups must have length n = {n}, got shape {groups.shape}")
    if not (np.all(np.isfinite(Y)) and np.all(np.isfinite(X))):
        raise ValueError("Y and X must be finite; fit outcomes with missing values separately")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(f"fixed-effects design X is rank deficient (rank < {p} columns)")
    _, codes = np.unique(groups, return_inverse=True)
    m = int(codes.max()) + 1 if n else 0
    if m >= n:
        raise ValueError(f"number of groups ({m}) must be < number of observations ({n}) (as lme4 requires)")
    design = _Design(X, codes.ravel(), m)
    data = _Data(Y, design)
    gamma, converged, iterations, usable = _optimise(design, data)
    usable &= Y.max(axis=0) > Y.min(axis=0)                 # a constant outcome has no model
    return _finish(design, data, Y, gamma, converged, iterations, usable, satterthwaite)


def _finish(design, data, Y, gamma, converged, iterations, usable, satterthwaite) -> BatchedFit:
    """Estimates, lme4 SEs and (optionally) Satterthwaite df at the optimal gamma of every outcome;
    NaN for outcomes that are not usable (constant, or no positive r^2)."""
    k, p = design.k, design.p
    point = _Point(design, data, gamma)
    # r^2 from the residuals (more accurate than y'H^-1y - b'beta when the fit is close)
    resid = Y - sum(design.X[:, a, None] * point.beta[a] for a in range(p))
    group_sums = np.array([_sum0(resid[r]) for r in design.rows])
    r2 = _sum0(resid * resid) - _sum0(point.c * group_sums * group_sums)
    good = usable & point.ok & (r2 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(good, r2 / k, np.nan)
        sigma = np.sqrt(sigma2)
        diag = np.array([point.Ainv[a, a] for a in range(p)])                      # (p, K)
        se = np.sqrt(sigma2 * diag)
        theta = np.sqrt(gamma)
        dev = np.where(good, point.dev, np.nan)
    beta = np.where(good, point.beta, np.nan)
    df_sat = None
    if satterthwaite:
        with np.errstate(invalid="ignore", divide="ignore"):
            # F(gamma) = log|H| + log|A| + r^2 / sigma^2 (sigma fixed at its estimate)
            F1 = point.dlogdetH + point.dlogdetA + point.dr2 / sigma2
            F2 = point.d2logdetH + point.d2logdetA + point.d2r2 / sigma2
            h_tt = 2.0 * F1 + 4.0 * gamma * F2
            h_ts = -4.0 * theta * point.dr2 / (sigma2 * sigma)
            h_ss = 6.0 * r2 / (sigma2 * sigma2) - 2.0 * k / sigma2
            v11, v12, v22 = _sym2_pinv(h_tt, h_ts, h_ss, HESSIAN_TOL)
            var = sigma2 * diag                                                       # (p, K)
            g_t = 2.0 * theta * sigma2 * np.array([_sum0(point.c1 * point.Aw[a] ** 2) for a in range(p)])  # (p, K)
            g_s = 2.0 * sigma * diag
            denom = g_t * g_t * v11 + 2.0 * g_t * g_s * v12 + g_s * g_s * v22
            df_sat = (2.0 * var * var / denom).T
    return BatchedFit(
        beta=beta.T, se=se.T, df_satterthwaite=df_sat, df_residual=k, sigma=sigma, theta=theta,
        sd_intercept=sigma * theta, reml_criterion=dev, singular=good & (theta < SINGULAR_TOL),
        converged=converged & good, iterations=iterations, n_obs=design.n, n_groups=design.m, n_fixed=p)


def t_tests(estimate: np.ndarray, se: np.ndarray, df) -> tuple[np.ndarray, np.ndarray]:
    """t statistics and two-sided p-values, element-wise (``2 * pt(-|t|, df)``).

    ``estimate``, ``se`` and ``df`` broadcast together (e.g. ``fit.beta``, ``fit.se`` and
    ``fit.df_satterthwaite`` of a :class:`BatchedFit`, or a scalar df). NaN propagates (no
    warnings). Returns ``(t, p)``: lmerTest's ``t value`` and ``Pr(>|t|)`` columns.

    >>> t, p = t_tests(np.array([1.0, -2.0]), np.array([0.5, 1.0]), 10)
    >>> t.tolist(), p.round(6).tolist()
    ([2.0, -2.0], [0.073388, 0.073388])
    """
    from ketastats.stats import distributions

    with np.errstate(invalid="ignore", divide="ignore"):
        t = estimate / se
        p = 2.0 * distributions.t_sf(np.abs(t), df)
    return t, p
