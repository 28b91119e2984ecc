r"""Linear mixed models with one grouping factor, fitted as lme4 does (numerical kernel).

Role
----
Pure numerical kernel for the mixed-model analyses (e.g. functional connectivity
before / after ketamine, repeated MADRS): NumPy arrays in, a :class:`LmmFit` out;
no pandas, no formulas, no I/O. The caller builds the fixed-effects design ``X``
(full column rank), the per-row random-effects design ``Z`` (the columns of the
random term, e.g. ``[1]`` for ``(1 | id)`` or ``[1, days]`` for ``(days | id)``)
and integer group codes. :mod:`ketastats.stats.satterthwaite` and
:mod:`ketastats.stats.kenward_roger` add denominator degrees of freedom on top.

R functions matched
-------------------
``lme4::lmer(y ~ X + (Z | g), REML = reml)`` run with a tight optimizer
(``lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))``):
``fixef``, ``vcov``, ``sigma``, ``getME(m, "theta")``, ``VarCorr``, ``logLik``,
``AIC``, ``BIC``, ``REMLcrit`` / ``deviance`` and ``isSingular(m, tol = 1e-4)``.
Estimates and standard errors agree to ~1e-8 relative
(``tests/reference/lmm/``; tolerance 1e-6). lme4's *default* optimizer
stops ~1e-5 short of the optimum in theta, so untuned R output differs from
these numbers in the 5th-6th digit; that is R's optimizer, not this code.

Model and formulas
------------------
Observations of group :math:`i` (:math:`n_i` rows):
:math:`y_i = X_i\beta + Z_i b_i + \varepsilon_i`,
:math:`b_i \sim N(0, \sigma^2 \Lambda\Lambda')`, :math:`\varepsilon_i \sim N(0, \sigma^2 I)`.
:math:`\Lambda(\theta)` is lme4's relative covariance factor: lower triangular
:math:`q \times q`, :math:`\theta` its lower triangle in column-major order
(for ``(days | id)``: :math:`\theta = (\lambda_{11}, \lambda_{21}, \lambda_{22})`),
diagonal :math:`\ge 0`. With :math:`H_i = I + Z_i\Lambda\Lambda'Z_i'`
(:math:`V_i = \sigma^2 H_i`), the profiled criteria of Bates, Mächler, Bolker &
Walker (2015, *J Stat Softw* 67(1), eqs. 34, 41-42) are

.. math::

    d_{ML}(\theta)   &= \log|H| + n\,[1 + \log(2\pi r^2(\theta)/n)] \\
    d_{REML}(\theta) &= \log|H| + \log|X'H^{-1}X| + (n-p)\,[1 + \log(2\pi r^2(\theta)/(n-p))]

with :math:`\hat\beta(\theta) = (X'H^{-1}X)^{-1}X'H^{-1}y`,
:math:`r^2 = (y - X\hat\beta)'H^{-1}(y - X\hat\beta)` (lme4's penalised RSS),
:math:`\log|H| = \sum_i \log|I_q + \Lambda'Z_i'Z_i\Lambda|` (lme4's
:math:`\log|L_\theta|^2`). Then :math:`\hat\sigma^2 = r^2/(n - p)` (REML) or
:math:`r^2/n` (ML), ``vcov`` :math:`= \hat\sigma^2 (X'H^{-1}X)^{-1}` (lme4's
``vcov()``; not statsmodels' ``bse_fe``, which comes from the full observed
Hessian and is 0-5 % larger), :math:`G = \hat\sigma^2\Lambda\Lambda'`,
``logLik`` :math:`= -d/2` at the optimum (the REML log-likelihood for a REML
fit, as lme4 reports it), ``AIC`` :math:`= -2\,\text{logLik} + 2k`, ``BIC``
:math:`= -2\,\text{logLik} + k\log n` with :math:`k = p + \dim\theta + 1`. For a
REML fit AIC and BIC are therefore those of the REML criterion, exactly as
``AIC(lmer(...))`` reports; they are not comparable across different fixed
effects (refit with ``reml=False`` for that).

Computation
-----------
Everything depends on the data only through per-group sufficient statistics
:math:`Z_i'Z_i, Z_i'X_i, Z_i'y_i, n_i` and the totals :math:`X'X, X'y, y'y`.
By Woodbury, :math:`H_i^{-1} = I - Z_i K_i Z_i'` with
:math:`K_i = \Lambda(I + \Lambda'Z_i'Z_i\Lambda)^{-1}\Lambda'` (:math:`q\times q`),
so each evaluation is a batch of small dense solves (exact, vectorised over
groups; no :math:`n\times n` matrix). The gradient in :math:`\theta` is
analytic: with :math:`C_i = Z_i'H_i^{-1}Z_i`, :math:`W_i = Z_i'H_i^{-1}X_i`,
:math:`u_i = Z_i'H_i^{-1}(y_i - X_i\hat\beta)` and
:math:`M = \sum_i [C_i - W_i(X'H^{-1}X)^{-1}W_i' - c\,u_iu_i']`
(:math:`c = (n-p)/r^2`, REML; without the middle term and :math:`c = n/r^2`, ML),
:math:`\partial d/\partial\lambda_{rc} = 2(M\Lambda)_{rc}`.

Optimisation (reaching lme4's best optimum, boundaries included)
-----------------------------------------------------------------
The criterion depends on :math:`\theta` only through :math:`\Lambda\Lambda'`, so
it is even in every column of :math:`\Lambda`: a diagonal entry of 0 with zeros
below it is a stationary point *by symmetry* (gradient exactly 0). A bounded
optimiser (L-BFGS-B with :math:`\lambda_{jj} \ge 0`, this kernel until 2026-11)
clips a step onto that point and stops there, calling a saddle an optimum
(ChickWeight random slopes: correlation -1 and logLik -2391.069 instead of
lme4's -2390.760). Hence:

1. *Unconstrained* minimisation over all of :math:`\mathbb R^k` (Newton steps
   when the criterion is convex at the start, else BFGS with the analytic
   gradient), from lme4's start :math:`\Lambda = I` (random slopes) or from the
   best point of a grid of 17 values (0 and 1e-3 ... 1e2) for a random intercept
   alone; columns with a negative diagonal change sign afterwards (lme4's
   :math:`\theta`, same :math:`\Lambda\Lambda'`).
2. Newton polish (Hessian by central differences of the analytic gradient)
   until the step is below 1e-12, so theta is accurate to ~1e-9.
3. Every diagonal entry below 1e-2 (relative) is tried exactly on the bound,
   the other entries re-optimised; kept when not worse (lme4's bobyqa lands on
   0 when the optimum is there, and ``isSingular`` looks at that).
4. When the optimum is on the boundary, a second, data-based start (per-group
   least squares) and a second-order check: steps into the interior from every
   diagonal at 0; a lower criterion there restarts the optimisation.
5. Converged when the projected gradient is below 1e-4 or the Newton decrement
   :math:`g'H^{-1}g` is below 1e-9 relative (lme4's relative-gradient idea: on
   uncentred ages rounding leaves :math:`|g| \approx 10^{-4}` at the optimum).
   The fit's ``message`` lists the checks made.

Checked against lme4's best of three tight fits on 315 generated and named
designs (``tests/reference/lmm_designs/``): never below lme4's logLik.

Why hand-written
----------------
statsmodels' ``MixedLM`` fits the same model but (a) parametrises differently
and reports fixed-effect SEs from the full observed information (0-5 % larger
than lme4's), (b) has no Satterthwaite or Kenward-Roger degrees of freedom and
(c) returns NaN AIC/BIC for REML fits. The quantities the ddf methods need
(vcov as a function of the variance parameters, the deviance in
:math:`(\theta, \sigma)`) are not exposed by it either. This kernel costs
about a millisecond per small fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = [
    "LmmFit",
    "GroupStats",
    "fit_lmm",
    "selection_matrix",
    "lambda_matrix",
    "profiled_deviance",
    "varpar_deviance",
    "varpar_deviance_gradient",
    "vcov_beta_at",
    "vcov_beta_jacobian",
    "evaluate",
    "Evaluation",
    "tril_index",
    "SINGULAR_TOL",
]

#: Tolerance of lme4::isSingular (default ``tol = 1e-4``) on the diagonal of Lambda.
SINGULAR_TOL = 1e-4


class GroupStats(NamedTuple):
    """Per-group sufficient statistics of a linear mixed model (one grouping factor).

    ``ZtZ`` (m, q, q), ``ZtX`` (m, q, p), ``Zty`` (m, q), ``n_i`` (m,), and the
    totals ``XtX`` (p, p), ``Xty`` (p,), ``yty`` (float); ``n`` observations.
    """

    ZtZ: np.ndarray
    ZtX: np.ndarray
    Zty: np.ndarray
    n_i: np.ndarray
    XtX: np.ndarray
    Xty: np.ndarray
    yty: float
    n: int
    p: int
    q: int


@dataclass(frozen=True)
class LmmFit:
    """Result of :func:`fit_lmm` (all arrays NumPy float64).

    Attributes
    ----------
    beta : (p,) fixed effects (``fixef``).
    vcov_beta : (p, p) ``vcov(m)`` = sigma^2 (X'H^-1 X)^-1.
    se_beta : (p,) square roots of the diagonal of `vcov_beta`.
    sigma : residual SD (``sigma(m)``).
    theta : lme4's theta (column-major lower triangle of Lambda).
    Lambda : (q, q) relative covariance factor.
    cov_re : (q, q) random-effects covariance G = sigma^2 Lambda Lambda' (``VarCorr``).
    sd_re : (q,) random-effect SDs.
    corr_re : (q, q) random-effect correlations (NaN where an SD is 0).
    loglik : log-likelihood, REML or ML as fitted (``logLik(m)``).
    deviance : the optimised criterion, ``REMLcrit(m)`` or ``deviance(m)`` (= -2 loglik).
    aic, bic : ``AIC(m)``, ``BIC(m)`` (REML-based for REML fits, as in lme4).
    n_params : number of parameters counted by logLik's ``df`` (p + len(theta) + 1).
    reml : fitted by REML?
    n_obs, n_groups, n_fixed, n_random : n, m, p, q.
    converged : optimiser succeeded and the projected gradient is ~0.
    message : optimiser message.
    singular : ``isSingular(m, tol = 1e-4)``: some diagonal entry of Lambda < 1e-4.
    gradient : projected gradient of the criterion at the optimum.
    stats : :class:`GroupStats` (what Satterthwaite / Kenward-Roger need).
    """

    beta: np.ndarray
    vcov_beta: np.ndarray
    se_beta: np.ndarray
    sigma: float
    theta: np.ndarray
    Lambda: np.ndarray
    cov_re: np.ndarray
    sd_re: np.ndarray
    corr_re: np.ndarray
    loglik: float
    deviance: float
    aic: float
    bic: float
    n_params: int
    reml: bool
    n_obs: int
    n_groups: int
    n_fixed: int
    n_random: int
    converged: bool
    message: str
    singular: bool
    gradient: np.ndarray
    stats: GroupStats = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def varpar(self) -> np.ndarray:
        """lmerTest's variance parameters ``c(theta, sigma)`` (``m@theta`` then ``sigma(m)``): the
        point at which :func:`varpar_deviance` and the ddf Jacobians are evaluated."""
        return np.append(self.theta, self.sigma)


# ----------------------------------------------------------------------------- helpers

def tril_index(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of theta's entries in Lambda (column-major lower triangle).

    lme4 stores the relative covariance factor Lambda (q × q, lower triangular) as the vector
    ``theta`` of its lower triangle read column by column; entry k of theta sits at
    ``Lambda[rows[k], cols[k]]``. Shared by this module, :mod:`ketastats.stats.kenward_roger`
    (derivatives of the covariance in each theta entry) and the Satterthwaite Jacobian.

    >>> rows, cols = tril_index(2)   # theta = (lambda11, lambda21, lambda22)
    >>> rows.tolist(), cols.tolist()
    ([0, 1, 1], [0, 0, 1])
    """
    rows, cols = [], []
    for c in range(q):
        for r in range(c, q):
            rows.append(r)
            cols.append(c)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def lambda_matrix(theta, q: int) -> np.ndarray:
    """Lower-triangular relative covariance factor Lambda from lme4's theta.

    >>> lambda_matrix([1.0, 0.5, 2.0], 2)
    array([[1. , 0. ],
           [0.5, 2. ]])
    """
    theta = np.asarray(theta, dtype=np.float64)
    rows, cols = tril_index(q)
    if theta.shape != rows.shape:
        raise ValueError(f"theta must have {rows.size} entries for q = {q}, got {theta.shape}")
    lam = np.zeros((q, q))
    lam[rows, cols] = theta
    return lam


def selection_matrix(p: int, columns) -> np.ndarray:
    """Rows of the p x p identity for the given (0-based) coefficient columns.

    The L matrix of the joint (type-III style) test that all coefficients of a
    term are zero, as passed to ``lmerTest::contest(m, L, joint = TRUE)``.

    >>> selection_matrix(4, [2, 3])
    array([[0., 0., 1., 0.],
           [0., 0., 0., 1.]])
    """
    cols = np.atleast_1d(np.asarray(columns, dtype=int))
    if cols.ndim != 1 or cols.size == 0 or np.any(cols < 0) or np.any(cols >= p):
        raise ValueError(f"columns must be indices in [0, {p}), got {columns!r}")
    L = np.zeros((cols.size, p))
    L[np.arange(cols.size), cols] = 1.0
    return L


def _group_stats(y, X, Z, groups) -> tuple[GroupStats, int]:
    """Validate the inputs of :func:`fit_lmm` and reduce them to :class:`GroupStats` and m groups."""
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    n = y.size
    if X.ndim == 1:
        X = X[:, None]
    if Z.ndim == 1:
        Z = Z[:, None]
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"X must be an n x p matrix with n = len(y) = {n}, got shape {X.shape}")
    if Z.ndim != 2 or Z.shape[0] != n:
        raise ValueError(f"Z must be an n x q matrix with n = len(y) = {n}, got shape {Z.shape}")
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have length n = {n}, got shape {groups.shape}")
    for name, arr in (("y", y), ("X", X), ("Z", Z)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{name} contains non-finite values (NaN or inf); drop those rows first")
    p, q = X.shape[1], Z.shape[1]
    if p == 0 or q == 0:
        raise ValueError("X and Z need at least one column each")
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise ValueError(
            f"fixed-effects design X is rank deficient (rank {rank} < {p} columns); "
            "drop aliased columns before fitting (lme4 would drop them silently)")
    _, codes = np.unique(groups, return_inverse=True)
    m = int(codes.max()) + 1 if n else 0
    if m >= n:
        raise ValueError(
            f"number of groups ({m}) must be < number of observations ({n}) "
            "(as lme4 requires)")
    if n <= m * q and q > 1:
        raise ValueError(
            f"number of observations ({n}) <= number of random effects ({m * q}); "
            "the random-effects parameters and the residual variance are unidentifiable "
            "(as lme4 requires)")
    ZtZ = np.zeros((m, q, q))
    ZtX = np.zeros((m, q, p))
    Zty = np.zeros((m, q))
    np.add.at(ZtZ, codes, Z[:, :, None] * Z[:, None, :])
    np.add.at(ZtX, codes, Z[:, :, None] * X[:, None, :])
    np.add.at(Zty, codes, Z * y[:, None])
    n_i = np.bincount(codes, minlength=m).astype(np.float64)
    stats = GroupStats(ZtZ, ZtX, Zty, n_i, X.T @ X, X.T @ y, float(y @ y), n, p, q)
    return stats, m


class Evaluation(NamedTuple):
    """Everything :func:`evaluate` computes at one theta, summed or batched over the m groups.

    ``H = I + Z Lambda Lambda' Z'`` is the relative marginal covariance (``V = sigma^2 H``);
    ``beta`` is the GLS estimate at theta, ``r2`` lme4's penalised RSS
    ``(y − X beta)' H^-1 (y − X beta)``, ``logdetH`` / ``logdetA`` the log-determinants of H and
    of ``A = X'H^-1X`` (``Ainv`` its inverse). The per-group arrays (leading axis m) are the
    Woodbury pieces the gradient, the Satterthwaite Jacobian and Kenward-Roger need.
    """

    K: np.ndarray        # (m, q, q)  Lambda (I + Lambda' S Lambda)^-1 Lambda'
    logdetH: float
    A: np.ndarray        # X'H^-1X
    Ainv: np.ndarray
    logdetA: float
    beta: np.ndarray
    r2: float
    B: np.ndarray        # (m, q, q)  I - S K  (Z'H^-1 = B Z')
    W: np.ndarray        # (m, q, p)  Z'H^-1X
    C: np.ndarray        # (m, q, q)  Z'H^-1Z
    u: np.ndarray        # (m, q)     Z'H^-1 (y - X beta)


def evaluate(stats: GroupStats, theta) -> Evaluation:
    """Evaluate the profiled model at ``theta`` from the per-group sufficient statistics.

    Exact and vectorised over groups: ``H_i^-1 = I − Z_i K_i Z_i'`` with
    ``K_i = Lambda (I + Lambda' Z_i'Z_i Lambda)^-1 Lambda'`` (module docstring, "Computation"), so no
    n × n matrix is formed. ``stats`` is a fit's :class:`GroupStats` (``fit.stats``); ``theta`` is
    lme4's ``getME(m, "theta")`` layout (see :func:`tril_index`). Raises
    ``numpy.linalg.LinAlgError`` when ``X'H^-1X`` is not positive definite. At the optimum,
    ``sigma^2 * Ainv`` is ``vcov(m)`` and ``beta`` is ``fixef(m)``.

    >>> import numpy as np
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1])
    >>> X = np.column_stack([np.ones(8), np.tile([0.0, 1.0], 4)])
    >>> fit = fit_lmm(y, X, np.ones((8, 1)), np.repeat([1, 2, 3, 4], 2))
    >>> ev = evaluate(fit.stats, fit.theta)
    >>> ev.beta.round(4).tolist(), round(ev.r2, 6), bool(np.allclose(fit.sigma ** 2 * ev.Ainv, fit.vcov_beta))
    ([1.3, -0.6], 0.18, True)
    """
    q = stats.q
    lam = lambda_matrix(theta, q)
    S = stats.ZtZ
    T = np.einsum("ji,mjk,kl->mil", lam, S, lam)        # Lambda' S_i Lambda
    Mi = T + np.eye(q)
    chol = np.linalg.cholesky(Mi)
    logdetH = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    # K_i = Lambda M_i^-1 Lambda'
    lamT = np.broadcast_to(lam.T, Mi.shape)
    K = lam @ np.linalg.solve(Mi, lamT)
    K = 0.5 * (K + np.swapaxes(K, 1, 2))
    KZX = K @ stats.ZtX                                   # (m, q, p)
    KZy = np.einsum("mij,mj->mi", K, stats.Zty)
    A = stats.XtX - np.einsum("mqi,mqj->ij", stats.ZtX, KZX)
    A = 0.5 * (A + A.T)
    b = stats.Xty - np.einsum("mqi,mq->i", stats.ZtX, KZy)
    yHy = stats.yty - float(np.einsum("mq,mq->", stats.Zty, KZy))
    cA = np.linalg.cholesky(A)
    logdetA = 2.0 * float(np.sum(np.log(np.diag(cA))))
    Ainv = np.linalg.inv(A)
    Ainv = 0.5 * (Ainv + Ainv.T)
    beta = np.linalg.solve(A, b)
    r2 = yHy - float(beta @ b)
    B = np.eye(q) - S @ K
    W = B @ stats.ZtX
    C = B @ S
    C = 0.5 * (C + np.swapaxes(C, 1, 2))
    u = np.einsum("mij,mj->mi", B, stats.Zty) - W @ beta
    return Evaluation(K, logdetH, A, Ainv, logdetA, beta, r2, B, W, C, u)


def _criterion(ev: Evaluation, stats: GroupStats, reml: bool) -> float:
    """``d_REML`` / ``d_ML`` of the module docstring from one :class:`Evaluation`."""
    n, p = stats.n, stats.p
    if reml:
        k = n - p
        return ev.logdetH + ev.logdetA + k * (1.0 + math.log(2.0 * math.pi * ev.r2 / k))
    return ev.logdetH + n * (1.0 + math.log(2.0 * math.pi * ev.r2 / n))


def _theta_gradient(ev: Evaluation, stats: GroupStats, theta, reml: bool, c: float) -> np.ndarray:
    """d/dtheta of log|H| [+ log|A|] + r^2 * c (c: coefficient of r^2's derivative)."""
    M = ev.C.sum(axis=0) - c * np.einsum("mi,mj->ij", ev.u, ev.u)
    if reml:
        M = M - np.einsum("mip,pr,mjr->ij", ev.W, ev.Ainv, ev.W)
    lam = lambda_matrix(theta, stats.q)
    rows, cols = tril_index(stats.q)
    return 2.0 * (M @ lam)[rows, cols]


def profiled_deviance(stats: GroupStats, theta, reml: bool = True) -> tuple[float, np.ndarray]:
    """Profiled REML / ML criterion at theta and its analytic gradient.

    The value is lme4's ``REMLcrit`` / ``deviance`` for that theta (what
    ``lme4::mkLmerDevfun`` returns).

    ``stats`` is a fit's :class:`GroupStats`; the gradient has one entry per theta entry and
    is analytic (module docstring, "Computation"). Returns ``(value, gradient)``.

    >>> import numpy as np
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1])
    >>> X = np.column_stack([np.ones(8), np.tile([0.0, 1.0], 4)])
    >>> fit = fit_lmm(y, X, np.ones((8, 1)), np.repeat([1, 2, 3, 4], 2))
    >>> round(profiled_deviance(fit.stats, [1.0])[0], 6)   # R: lmer(..., devFunOnly = TRUE)(1)
    9.972043
    >>> value, gradient = profiled_deviance(fit.stats, fit.theta)   # R: REMLcrit(m) 7.663187927
    >>> round(value, 6), bool(abs(gradient[0]) < 1e-6)
    (7.663188, True)
    """
    ev = evaluate(stats, theta)
    k = stats.n - stats.p if reml else stats.n
    return _criterion(ev, stats, reml), _theta_gradient(ev, stats, theta, reml, k / ev.r2)


def varpar_deviance(fit: LmmFit, varpar) -> float:
    """lmerTest's ``devfun_vp``: -2 log-likelihood (REML or ML as fitted) at ``c(theta, sigma)``.

    Unlike the profiled criterion, sigma is a free argument (beta stays profiled):
    ``log|H| + r^2/sigma^2 + n log(2 pi sigma^2)``, plus
    ``log|X'H^-1X| - p log(2 pi sigma^2)`` for REML.
    """
    varpar = np.asarray(varpar, dtype=np.float64)
    theta, sigma = varpar[:-1], float(varpar[-1])
    stats = fit.stats
    ev = evaluate(stats, theta)
    s2 = sigma * sigma
    dev = ev.logdetH + ev.r2 / s2 + stats.n * math.log(2.0 * math.pi * s2)
    if fit.reml:
        dev += ev.logdetA - stats.p * math.log(2.0 * math.pi * s2)
    return dev


def varpar_deviance_gradient(fit: LmmFit, varpar) -> np.ndarray:
    """Analytic gradient of :func:`varpar_deviance` in ``c(theta, sigma)``.

    The theta part is the profiled gradient with ``c = 1 / sigma^2``; the sigma part is
    ``−2 r^2 / sigma^3 + 2 (n − p) / sigma`` (REML; n for ML). Zero at the REML / ML optimum.
    Satterthwaite differentiates it once more (:func:`ketastats.stats.satterthwaite.vcov_varpar`).
    """
    varpar = np.asarray(varpar, dtype=np.float64)
    theta, sigma = varpar[:-1], float(varpar[-1])
    stats = fit.stats
    ev = evaluate(stats, theta)
    s2 = sigma * sigma
    g_theta = _theta_gradient(ev, stats, theta, fit.reml, 1.0 / s2)
    k = stats.n - (stats.p if fit.reml else 0)
    g_sigma = -2.0 * ev.r2 / (s2 * sigma) + 2.0 * k / sigma
    return np.append(g_theta, g_sigma)


def vcov_beta_at(fit: LmmFit, varpar) -> np.ndarray:
    """lmerTest's ``get_covbeta``: sigma^2 (X'H(theta)^-1 X)^-1 at ``c(theta, sigma)``.

    ``varpar`` need not be the optimum (lmerTest differentiates this function); at
    ``fit.varpar`` it equals ``fit.vcov_beta``. Returns a p × p array.

    >>> import numpy as np
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1])
    >>> X = np.column_stack([np.ones(8), np.tile([0.0, 1.0], 4)])
    >>> fit = fit_lmm(y, X, np.ones((8, 1)), np.repeat([1, 2, 3, 4], 2))
    >>> vcov_beta_at(fit, [1.0, 0.5]).round(6).tolist()
    [[0.125, -0.0625], [-0.0625, 0.125]]
    """
    varpar = np.asarray(varpar, dtype=np.float64)
    ev = evaluate(fit.stats, varpar[:-1])
    return varpar[-1] ** 2 * ev.Ainv


def vcov_beta_jacobian(fit: LmmFit, varpar=None) -> list[np.ndarray]:
    """Derivatives of :func:`vcov_beta_at` with respect to each of ``c(theta, sigma)``.

    Analytic (lmerTest uses ``numDeriv::jacobian``; the two agree to ~1e-10):
    ``d vcov / d theta_k = sigma^2 A^-1 (sum_i W_i' S_k W_i) A^-1`` with
    ``S_k = D_k Lambda' + Lambda D_k'``, and ``d vcov / d sigma = 2 sigma A^-1``.
    Returns a list of p x p matrices (lmerTest's ``Jac_list``), at the fit's
    estimates unless `varpar` is given.
    """
    varpar = fit.varpar if varpar is None else np.asarray(varpar, dtype=np.float64)
    theta, sigma = varpar[:-1], float(varpar[-1])
    q = fit.stats.q
    ev = evaluate(fit.stats, theta)
    lam = lambda_matrix(theta, q)
    rows, cols = tril_index(q)
    out = []
    for r, c in zip(rows, cols):
        D = np.zeros((q, q))
        D[r, c] = 1.0
        Sk = D @ lam.T + lam @ D.T
        dA = np.einsum("miP,ij,mjQ->PQ", ev.W, Sk, ev.W)
        J = sigma ** 2 * ev.Ainv @ dA @ ev.Ainv
        out.append(0.5 * (J + J.T))
    out.append(2.0 * sigma * ev.Ainv)
    return out


# ----------------------------------------------------------------------------- fitting

#: Relative size of a deviance decrease that counts as "better" when comparing candidate optima
#: (boundary snapping, interior escape, several starts); below it two criteria are equal.
_BETTER_RTOL = 1e-12
#: theta diagonals below this (relative to max(1, largest theta)) are tried exactly on the bound.
_SNAP_RTOL = 1e-2
#: Trial steps into the interior from a boundary diagonal (relative to max(1, largest theta)).
_ESCAPE_STEPS = (1e-3, 1e-2, 1e-1, 1.0)
#: theta grid (0 and log-spaced) that picks the starting point of a random-intercept-only model.
_GRID_1D = np.concatenate([[0.0], np.logspace(-3, 2, 16)])


class _Objective:
    """The profiled criterion on an unconstrained Cholesky factor, with an evaluation count.

    The criterion depends on theta only through Lambda Lambda', so a column of Lambda may
    change sign without changing it: the optimiser works on all of R^k (no bounds, so no step
    is ever clipped onto a diagonal of 0, where the gradient vanishes by symmetry) and
    :func:`_canonical` maps the result back to lme4's theta (diagonal >= 0).
    """

    def __init__(self, stats: GroupStats, reml: bool):
        self.stats, self.reml, self.evaluations = stats, reml, 0

    def __call__(self, theta) -> tuple[float, np.ndarray]:
        self.evaluations += 1
        try:
            value, grad = profiled_deviance(self.stats, theta, self.reml)
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            return np.inf, np.zeros_like(np.asarray(theta, dtype=np.float64))
        if not np.isfinite(value):
            return np.inf, np.zeros_like(grad)
        return value, grad

    def value(self, theta) -> float:
        """The criterion alone (``inf`` where it cannot be evaluated)."""
        return self(theta)[0]


def _canonical(theta: np.ndarray, q: int) -> np.ndarray:
    """lme4's theta for the same Lambda Lambda': columns with a negative diagonal change sign."""
    lam = lambda_matrix(theta, q)
    signs = np.where(np.diag(lam) < 0.0, -1.0, 1.0)
    lam = lam * signs[None, :]
    rows, cols = tril_index(q)
    out = lam[rows, cols]
    out[(rows == cols) & (out == 0.0)] = 0.0          # no -0.0
    return out


def _quasi_newton(objective: _Objective, start: np.ndarray, fixed: np.ndarray | None = None) -> np.ndarray:
    """Unconstrained BFGS on the free entries of theta (``fixed`` entries keep their value)."""
    from scipy.optimize import minimize

    free = np.ones(start.size, bool) if fixed is None else ~fixed
    if not np.any(free):
        return start.copy()
    base = start.copy()

    def fun(x):
        theta = base.copy()
        theta[free] = x
        value, grad = objective(theta)
        return value, grad[free]

    # BFGS: the dimension is small (at most a few dozen), and scipy's L-BFGS-B spends milliseconds
    # per iteration in its Fortran driver where BFGS spends microseconds.
    res = minimize(fun, start[free], jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
    out = base.copy()
    out[free] = res.x
    if not np.isfinite(objective.value(out)):
        return start.copy()
    return out


def _descend(objective: _Objective, start: np.ndarray) -> np.ndarray:
    """Newton steps from ``start`` when the criterion is convex there (a start from the theta grid
    usually is), else BFGS; either way an unconstrained local minimum."""
    theta, _ = _newton_polish(objective, start.copy(), np.zeros(start.size, bool))
    value, grad = objective(theta)
    if np.isfinite(value) and float(np.max(np.abs(grad))) < 1e-6 * max(1.0, abs(value)):
        return theta
    return _quasi_newton(objective, theta)


def _hessian_free(objective: _Objective, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Hessian of the criterion in the entries ``idx`` (central differences of the gradient)."""
    H = np.empty((idx.size, idx.size))
    for j, k in enumerate(idx):
        h = 1e-5 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        H[:, j] = (objective(tp)[1][idx] - objective(tm)[1][idx]) / (2.0 * h)
    return 0.5 * (H + H.T)


def _newton_polish(objective: _Objective, theta: np.ndarray, fixed: np.ndarray) -> tuple[np.ndarray, int]:
    """Newton steps on the entries not ``fixed`` until the step is below 1e-12 (theta ~1e-9 exact)."""
    idx = np.flatnonzero(~fixed)
    steps = 0
    if idx.size == 0:
        return theta, steps
    value, grad = objective(theta)
    for steps in range(1, 21):
        H = _hessian_free(objective, theta, idx)
        try:
            np.linalg.cholesky(H)
            step = -np.linalg.solve(H, grad[idx])
        except np.linalg.LinAlgError:
            break
        new = theta.copy()
        new[idx] += step
        new_value, new_grad = objective(new)
        if not np.isfinite(new_value) or new_value > value + _BETTER_RTOL * max(1.0, abs(value)):
            break
        theta, value, grad = new, new_value, new_grad
        if np.max(np.abs(step)) < 1e-12:
            break
    return theta, steps


class _Candidate(NamedTuple):
    """A candidate optimum: its criterion value and theta."""

    value: float
    theta: np.ndarray


def _better(a: _Candidate, b: _Candidate) -> bool:
    """Is ``a`` a lower criterion than ``b`` by more than rounding?"""
    return a.value < b.value - _BETTER_RTOL * max(1.0, abs(b.value))


def _settle(objective: _Objective, theta: np.ndarray, q: int, diag: np.ndarray, log: list[str]) -> _Candidate:
    """From an unconstrained optimum: lme4's theta, Newton-polished, with every small diagonal
    tried exactly on the bound (lme4's bobyqa lands on 0 when the optimum is on the boundary)."""
    theta = _canonical(theta, q)
    theta, _ = _newton_polish(objective, theta, np.zeros(theta.size, bool))
    theta = _canonical(theta, q)
    best = _Candidate(objective.value(theta), theta)
    scale = max(1.0, float(np.max(np.abs(theta))))
    for j in np.flatnonzero(diag & (np.abs(theta) < _SNAP_RTOL * scale) & (theta != 0.0)):
        trial = best.theta.copy()
        trial[j] = 0.0
        fixed = np.zeros(trial.size, bool)
        fixed[j] = True
        trial = _quasi_newton(objective, trial, fixed)
        trial, _ = _newton_polish(objective, trial, fixed)
        trial = _canonical(trial, q)
        candidate = _Candidate(objective.value(trial), trial)
        if not _better(best, candidate):       # on the bound is at least as good: take it
            log.append(f"theta[{j + 1}] set to its bound 0")
            best = candidate
    return best


def _escape_boundary(objective: _Objective, best: _Candidate, q: int, diag: np.ndarray,
                     log: list[str]) -> _Candidate:
    """Second-order check of a boundary optimum: for each diagonal of Lambda at 0 (where the
    gradient vanishes by symmetry), step into the interior; if the criterion decreases there,
    optimise again from that point and keep the better optimum."""
    for _ in range(3):
        at_bound = np.flatnonzero(diag & (best.theta == 0.0))
        if at_bound.size == 0:
            return best
        scale = max(1.0, float(np.max(np.abs(best.theta))))
        improved = None
        for j in at_bound:
            for step in _ESCAPE_STEPS:
                trial = best.theta.copy()
                trial[j] = step * scale
                value = objective.value(trial)
                if np.isfinite(value) and (improved is None or value < improved.value):
                    improved = _Candidate(value, trial)
        if improved is None or not _better(improved, best):
            log.append("boundary checked: no lower criterion in the interior")
            return best
        restarted = _settle(objective, _quasi_newton(objective, improved.theta), q, diag, log)
        if not _better(restarted, best):
            return best
        log.append("boundary was a saddle: moved into the interior")
        best = restarted
    return best


def _moment_start(stats: GroupStats) -> np.ndarray | None:
    """A start from per-group least squares: the spread of the groups' own coefficients of Z
    (after the fixed effects) minus their sampling variance, relative to sigma^2."""
    q, p = stats.q, stats.p
    try:
        beta = np.linalg.solve(stats.XtX, stats.Xty)
        ok = np.linalg.matrix_rank(stats.ZtZ, hermitian=True) == q
        if np.sum(ok) < q + 1:
            return None
        S, r = stats.ZtZ[ok], stats.Zty[ok] - stats.ZtX[ok] @ beta
        b = np.linalg.solve(S, r[..., None])[..., 0]
        rss = stats.yty - 2.0 * beta @ stats.Xty + beta @ stats.XtX @ beta
        within = rss - float(np.einsum("mi,mi->", r, b))
        dof = stats.n - np.sum(ok) * q - p
        sigma2 = within / dof if dof > 0 and within > 0 else rss / max(stats.n - p, 1)
        G = np.cov(b, rowvar=False).reshape(q, q) - sigma2 * np.linalg.inv(S).mean(axis=0)
        vals, vecs = np.linalg.eigh(0.5 * (G + G.T) / sigma2)
        floor = 1e-2 * max(float(np.max(vals)), 1e-8)
        rel = (vecs * np.maximum(vals, floor)) @ vecs.T
        lam = np.linalg.cholesky(rel)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    rows, cols = tril_index(q)
    start = lam[rows, cols]
    return start if np.all(np.isfinite(start)) else None


def _optimise(stats: GroupStats, reml: bool, start: np.ndarray | None) -> tuple[np.ndarray, bool, str]:
    """Minimise the profiled criterion; (theta, ok, report of what was done and checked)."""
    q = stats.q
    rows, cols = tril_index(q)
    diag = rows == cols
    objective = _Objective(stats, reml)
    starts: list[tuple[str, np.ndarray]] = []
    if start is not None:
        starts.append(("given start", start))
    elif q == 1:
        values = [objective.value(np.array([t])) for t in _GRID_1D]
        starts.append(("best of a theta grid", np.array([_GRID_1D[int(np.argmin(values))] or 1e-3])))
    else:
        starts.append(("lme4's start", np.where(diag, 1.0, 0.0)))
    log: list[str] = []
    best: _Candidate | None = None
    best_name = ""
    with np.errstate(all="ignore"):
        for name, theta0 in starts:
            theta0 = np.where(diag & (theta0 == 0.0), 1e-3, theta0)   # not on the symmetric point
            candidate = _settle(objective, _descend(objective, theta0), q, diag, log)
            if best is None or _better(candidate, best):
                best, best_name = candidate, name
        assert best is not None   # starts holds at least one start
        # An optimum on the boundary is where optimisers go wrong: try a second, data-based start.
        if q > 1 and start is None and np.any(best.theta[diag] < SINGULAR_TOL):
            moment = _moment_start(stats)
            if moment is not None:
                starts.append(("moment start", moment))
                candidate = _settle(objective, _descend(objective, moment), q, diag, log)
                if _better(candidate, best):
                    best, best_name = candidate, "moment start"
        best = _escape_boundary(objective, best, q, diag, log)
    value, grad = objective(best.theta)
    free = ~(diag & (best.theta == 0.0))
    projected = np.where(free, grad, np.minimum(grad, 0.0))
    idx = np.flatnonzero(free)
    hessian_pd, decrement = True, 0.0
    if idx.size:
        try:
            H = _hessian_free(objective, best.theta, idx)
            np.linalg.cholesky(H)
            decrement = float(grad[idx] @ np.linalg.solve(H, grad[idx]))
        except np.linalg.LinAlgError:
            hessian_pd = False
    # lme4 scales the gradient by the Hessian (checkConv's relative gradient): on badly scaled
    # designs (uncentred ages) rounding leaves |gradient| ~1e-4 at the optimum, yet the Newton
    # decrement g'H^-1g, the criterion's predicted further decrease, is at rounding level.
    small_gradient = float(np.max(np.abs(projected))) < 1e-4
    small_decrement = hessian_pd and decrement < 1e-9 * max(1.0, abs(value))
    converged = bool(np.isfinite(value)) and (small_gradient or small_decrement)
    # Pass / fail statements only: the gradient's last digits are rounding noise that differs
    # between machines, and this text is stored in results.json.
    checks = [f"Newton / BFGS on the unconstrained Cholesky factor from {len(starts)} start(s), best: "
              f"{best_name}", "Newton polish", *dict.fromkeys(log),
              f"projected gradient < 1e-4: {'yes' if small_gradient else 'no'}",
              ("Hessian positive definite" if hessian_pd else "Hessian not positive definite"),
              f"Newton decrement < 1e-9 relative: {'yes' if small_decrement else 'no'}"]
    return best.theta, converged, "; ".join(checks)


def fit_lmm(y, X, Z, groups, reml: bool = True, start=None) -> LmmFit:
    r"""Fit a linear mixed model with one grouping factor by REML or ML, as lme4.

    Parameters
    ----------
    y : array_like, shape (n,)
        Response.
    X : array_like, shape (n, p)
        Fixed-effects design (with the intercept column if wanted); must have
        full column rank.
    Z : array_like, shape (n, q)
        Random-effects design per row: the columns of the random term, e.g. a
        column of ones for a random intercept, ``[1, days]`` for correlated
        random intercept and slope. (Not lme4's n x mq sparse Z.)
    groups : array_like, shape (n,)
        Group (participant) of each row; any sortable codes.
    reml : bool, default True
        REML (lme4's default) or maximum likelihood.
    start : array_like, optional
        Starting theta (lme4 order). Default lme4's: Lambda = I.

    Returns
    -------
    LmmFit

    Raises
    ------
    ValueError
        On shape mismatches, non-finite values, a rank-deficient `X`, as many
        groups as observations, or fewer observations than random effects.

    Examples
    --------
    Random intercept per participant, pre (0) / post (1):

    >>> import numpy as np
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1])
    >>> time = np.tile([0.0, 1.0], 4)
    >>> X = np.column_stack([np.ones(8), time])
    >>> fit = fit_lmm(y, X, np.ones((8, 1)), np.repeat([1, 2, 3, 4], 2))
    >>> fit.beta.round(4), round(fit.sigma, 4)   # R: 1.3, -0.6, sigma 0.1732051
    (array([ 1.3, -0.6]), 0.1732)
    """
    stats, m = _group_stats(y, X, Z, groups)
    q = stats.q
    rows, cols = tril_index(q)
    diag = rows == cols
    if start is not None:
        start = np.asarray(start, dtype=np.float64)
        if start.shape != rows.shape:
            raise ValueError(
                f"start must have {rows.size} entries (lme4's theta), got {start.shape}")
        start = np.where(diag, np.abs(start), start)
    theta, ok, message = _optimise(stats, reml, start)
    ev = evaluate(stats, theta)
    crit = _criterion(ev, stats, reml)
    n, p = stats.n, stats.p
    sigma2 = ev.r2 / (n - p if reml else n)
    sigma = math.sqrt(sigma2)
    vcov = sigma2 * ev.Ainv
    lam = lambda_matrix(theta, q)
    cov_re = sigma2 * lam @ lam.T
    sd_re = np.sqrt(np.diag(cov_re))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov_re / np.outer(sd_re, sd_re)
    corr[np.diag_indices(q)] = np.where(sd_re > 0, 1.0, np.nan)
    g = _theta_gradient(ev, stats, theta, reml, (n - p if reml else n) / ev.r2)
    proj = np.where(diag & (theta <= 0.0) & (g > 0.0), 0.0, g)
    converged = ok
    k = p + theta.size + 1
    loglik = -0.5 * crit
    return LmmFit(
        beta=ev.beta, vcov_beta=vcov, se_beta=np.sqrt(np.diag(vcov)), sigma=sigma,
        theta=theta, Lambda=lam, cov_re=cov_re, sd_re=sd_re, corr_re=corr,
        loglik=loglik, deviance=crit, aic=-2.0 * loglik + 2.0 * k,
        bic=-2.0 * loglik + k * math.log(n), n_params=k, reml=bool(reml),
        n_obs=n, n_groups=m, n_fixed=p, n_random=q, converged=converged,
        message=message, singular=bool(np.any(theta[diag] < SINGULAR_TOL)),
        gradient=proj, stats=stats)
