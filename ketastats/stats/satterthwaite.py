r"""Satterthwaite t and F tests for fixed effects of a linear mixed model (numerical kernel).

Role
----
Denominator degrees of freedom, t / F statistics and p-values for contrasts of
the fixed effects of a :class:`ketastats.stats.lmm.LmmFit`; arrays in, NamedTuples
out, no pandas, no I/O.

R functions matched
-------------------
``lmerTest`` 3.1 (Kuznetsova, Brockhoff & Christensen 2017, *J Stat Softw* 82(13)):

- :func:`contrast` = ``contest1D(m, L, rhs, ddf = "Satterthwaite")`` (also the
  df / t / p columns of ``summary(m)$coefficients`` for unit vectors L);
- :func:`joint` = ``contestMD(m, L, rhs, ddf = "Satterthwaite")``, i.e.
  ``contest(m, L, joint = TRUE)`` and, with L the identity rows of a term's
  coefficients, the joint test that all of a term's coefficients are 0.
  (``anova(m, type = 3)`` builds its own L from the term's contrasts; for a
  term whose coefficients are all its own, e.g. a single factor, that L spans
  the same space and the test is identical; otherwise pass the L you mean.)

Formulas
--------
Variance parameters :math:`\tau = (\theta, \sigma)`. :math:`C(\tau) =
\sigma^2 (X'H(\theta)^{-1}X)^{-1}`; :math:`J_k = \partial C/\partial\tau_k`
(lmerTest: ``numDeriv::jacobian``; here analytic,
:func:`ketastats.stats.lmm.vcov_beta_jacobian`);
:math:`A = 2\,\mathcal{H}^{-1}`, :math:`\mathcal{H}` the Hessian of the
deviance :math:`-2\ell(\tau)` (REML or ML as fitted, beta profiled;
:func:`ketastats.stats.lmm.varpar_deviance`) at the estimate. lmerTest takes
:math:`\mathcal{H}` from ``numDeriv::hessian`` and inverts it through its
eigen-decomposition, keeping eigenvalues > 1e-8; here it is central
differences of the analytic gradient with one Richardson extrapolation step
(error ~1e-9 relative), inverted the same way.

*One contrast* :math:`L` (length p): :math:`v = L'CL`,
:math:`g_k = L'J_kL`, :math:`\nu = 2v^2 / (g'Ag)`,
:math:`t = (L'\hat\beta - \text{rhs})/\sqrt v`, :math:`p = 2\,P(T_\nu > |t|)`.

*Several contrasts* (L: k x p): eigen-decompose :math:`LCL' = PDP'`, keep the
:math:`q` eigenvalues :math:`d_m > \max(\sqrt{\epsilon}\,d_1, 0)`; with
:math:`\tilde L = P_q'L`: :math:`F = \frac1q\sum_m (\tilde L_m\hat\beta)^2/d_m`,
:math:`\nu_m = 2d_m^2/(g_m'Ag_m)` (:math:`g_{m,k} = \tilde L_m' J_k \tilde L_m`),
:math:`E = \sum_m \nu_m/(\nu_m - 2)`, denominator df :math:`2E/(E - q)`
(= 2 if any :math:`\nu_m \le 2`; the common value if all :math:`\nu_m` are
equal within 1e-8); :math:`p = P(F_{q,\nu} > F)`. For q = 1 this is the
one-contrast test with :math:`F = t^2`.

Why hand-written
----------------
statsmodels has no Satterthwaite (or Kenward-Roger) degrees of freedom for
mixed models (its MixedLM reports z tests, or t with the naive residual df),
and its fixed-effect SEs differ from lme4's. Checked against lmerTest to
~1e-6 relative in df (tests use 1e-3) on the references in
``tests/reference/lmm/``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ketastats.stats.lmm import LmmFit, varpar_deviance_gradient, vcov_beta_jacobian

__all__ = ["ContrastResult", "JointResult", "contrast", "joint", "vcov_varpar",
           "coefficient_table", "as_contrast_vector", "as_contrast_matrix"]

#: lmerTest's eigenvalue tolerance for the Hessian of the deviance (as_lmerModLT ``tol``).
HESSIAN_TOL = 1e-8


class ContrastResult(NamedTuple):
    """One contrast L'beta: estimate, standard error, df, t statistic, two-sided p.

    A row of lmerTest's ``contest1D`` / ``summary(m)$coefficients``: ``estimate`` (Estimate),
    ``se`` (Std. Error), ``df``, ``t`` (t value, ``(estimate − rhs) / se``) and ``p``
    (``Pr(>|t|)``). Returned by the Satterthwaite and the Kenward-Roger ``contrast``.
    """

    estimate: float
    se: float
    df: float
    t: float
    p: float


class JointResult(NamedTuple):
    """Joint F test of L beta = rhs: F, numerator df (rank), denominator df, p.

    lmerTest's ``contestMD`` columns ``F value``, ``NumDF``, ``DenDF``, ``Pr(>F)`` (the rows of
    ``anova(m, type = 3)`` when L selects a term). Returned by both ``joint`` functions.
    """

    F: float
    df_num: int
    df_den: float
    p: float


def _hessian(fit: LmmFit) -> np.ndarray:
    """Hessian of lmerTest's devfun_vp at (theta, sigma): central differences of
    the analytic gradient, one Richardson step."""
    x0 = fit.varpar
    k = x0.size

    def diff(h_vec):
        H = np.empty((k, k))
        for j in range(k):
            xp, xm = x0.copy(), x0.copy()
            xp[j] += h_vec[j]
            xm[j] -= h_vec[j]
            H[:, j] = (varpar_deviance_gradient(fit, xp)
                       - varpar_deviance_gradient(fit, xm)) / (2.0 * h_vec[j])
        return H

    h = 1e-3 * np.maximum(np.abs(x0), 0.1)
    H = (4.0 * diff(h / 2.0) - diff(h)) / 3.0
    return 0.5 * (H + H.T)


def vcov_varpar(fit: LmmFit) -> np.ndarray:
    """Asymptotic covariance of ``c(theta, sigma)``: 2 x pseudo-inverse of the
    deviance Hessian (lmerTest's ``m@vcov_varpar``). Cached on the fit.

    The Hessian of lmerTest's ``devfun_vp`` (REML or ML, as the fit) comes from central
    differences of the analytic gradient with one Richardson step (lmerTest uses
    ``numDeriv::hessian``); eigenvalues at or below :data:`HESSIAN_TOL` are dropped, as lmerTest
    does for a singular Hessian (e.g. a variance at 0). Returns a k × k array, k = len(theta) + 1.

    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9, 1.6])
    >>> X = np.column_stack([np.ones(11), np.r_[np.tile([0.0, 1.0], 5), 1.0]])
    >>> fit = fit_lmm(y, X, np.ones((11, 1)), np.r_[np.repeat(np.arange(5), 2), 0])
    >>> vcov_varpar(fit).round(6).tolist()   # R: m@vcov_varpar
    [[0.49332, -0.071995], [-0.071995, 0.021714]]
    """
    cached = fit._cache.get("sat_vcov_varpar")
    if cached is not None:
        return cached
    H = _hessian(fit)
    vals, vecs = np.linalg.eigh(H)
    pos = vals > HESSIAN_TOL
    inv = (vecs[:, pos] / vals[pos]) @ vecs[:, pos].T
    out = 2.0 * inv
    fit._cache["sat_vcov_varpar"] = out
    fit._cache["sat_hessian_eigenvalues"] = vals
    return out


def _jacobian(fit: LmmFit) -> list[np.ndarray]:
    """lmerTest's ``Jac_list`` at the estimates (:func:`ketastats.stats.lmm.vcov_beta_jacobian`), cached."""
    cached = fit._cache.get("sat_jacobian")
    if cached is None:
        cached = vcov_beta_jacobian(fit)
        fit._cache["sat_jacobian"] = cached
    return cached


def as_contrast_vector(L, p: int) -> np.ndarray:
    """Validate one contrast ``L`` for p fixed effects and return it as a float vector of length p.

    A 1 × p or p × 1 matrix is flattened. Raises ``ValueError`` for a wrong length or a
    non-finite entry. Shared by the Satterthwaite and Kenward-Roger :func:`contrast` functions.

    >>> as_contrast_vector([[0, 1]], 2).tolist()
    [0.0, 1.0]
    """
    L = np.asarray(L, dtype=np.float64)
    if L.ndim == 2 and 1 in L.shape:
        L = L.ravel()
    if L.shape != (p,):
        raise ValueError(f"contrast L must have length p = {p}, got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError("contrast L must be finite")
    return L


def as_contrast_matrix(L, p: int) -> np.ndarray:
    """Validate a k × p hypothesis matrix ``L`` (a vector becomes 1 × p) and return it as floats.

    Raises ``ValueError`` unless L has p columns, at least one row and finite entries (its rank
    is checked by the callers). Shared by the Satterthwaite and Kenward-Roger :func:`joint` tests.
    """
    L = np.asarray(L, dtype=np.float64)
    if L.ndim == 1:
        L = L[None, :]
    if L.ndim != 2 or L.shape[1] != p or L.shape[0] == 0:
        raise ValueError(f"L must be a k x p matrix with p = {p} columns, got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError("L must be finite")
    return L


def _df_1d(fit: LmmFit, L: np.ndarray) -> tuple[float, float]:
    """(variance of L'beta, Satterthwaite df)."""
    var = float(L @ fit.vcov_beta @ L)
    grad = np.array([L @ J @ L for J in _jacobian(fit)])
    denom = float(grad @ vcov_varpar(fit) @ grad)
    return var, 2.0 * var * var / denom


def _t_result(estimate: float, se: float, df: float, rhs: float) -> ContrastResult:
    """Assemble a :class:`ContrastResult` with t = (estimate − rhs) / se and its two-sided p."""
    from ketastats.stats import distributions

    t = (estimate - rhs) / se
    p = float(2.0 * distributions.t_sf(abs(t), df))
    return ContrastResult(float(estimate), float(se), float(df), float(t), p)


def contrast(fit: LmmFit, L, rhs: float = 0.0) -> ContrastResult:
    r"""Satterthwaite t test of one contrast :math:`L'\beta = \text{rhs}`.

    Matches ``lmerTest::contest1D(m, L, rhs = rhs, ddf = "Satterthwaite")``.

    Parameters
    ----------
    fit : LmmFit
        From :func:`ketastats.stats.lmm.fit_lmm` (REML or ML).
    L : array_like, shape (p,)
        Contrast weights on the fixed effects.
    rhs : float, default 0
        Value under the null hypothesis.

    Returns
    -------
    ContrastResult
        ``estimate`` (:math:`L'\hat\beta`), ``se``, ``df``, ``t``
        (= (estimate - rhs) / se) and two-sided ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9])
    >>> X = np.column_stack([np.ones(10), np.tile([0.0, 1.0], 5)])
    >>> fit = fit_lmm(y, X, np.ones((10, 1)), np.repeat(np.arange(5), 2))
    >>> r = contrast(fit, [0, 1])   # post - pre
    >>> round(r.estimate, 3), round(r.df, 3)
    (-0.56, 4.0)
    """
    L = as_contrast_vector(L, fit.n_fixed)
    var, df = _df_1d(fit, L)
    return _t_result(float(L @ fit.beta), math.sqrt(var), df, float(rhs))


def _fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's get_Fstat_ddf."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * E / (E - nu.size)


def joint(fit: LmmFit, L, rhs=0.0, eps: float = math.sqrt(np.finfo(float).eps)) -> JointResult:
    r"""Satterthwaite F test of :math:`L\beta = \text{rhs}` (k x p matrix L).

    Matches ``lmerTest::contestMD(m, L, rhs, ddf = "Satterthwaite")`` =
    ``contest(m, L, joint = TRUE)``. For a type-III style test of a term pass
    the identity rows of the term's coefficients
    (:func:`ketastats.stats.lmm.selection_matrix`).

    Parameters
    ----------
    fit : LmmFit
    L : array_like, shape (k, p)
        Contrast matrix; rank-deficient L is reduced to its rank, as lmerTest.
    rhs : float or array_like of length k, default 0

    Returns
    -------
    JointResult
        ``F``, ``df_num`` (the rank q), ``df_den`` and ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm, selection_matrix
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(6), 3); x = np.tile([0.0, 1.0, 2.0], 6)
    >>> X = np.column_stack([np.ones(18), x, x ** 2])
    >>> y = 1 + 0.5 * x + rng.normal(size=6)[g] + rng.normal(size=18)
    >>> fit = fit_lmm(y, X, np.ones((18, 1)), g)
    >>> res = joint(fit, selection_matrix(3, [1, 2]))
    >>> res.df_num
    2
    """
    from ketastats.stats import distributions

    p = fit.n_fixed
    L = as_contrast_matrix(L, p)
    rhs_v = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (L.shape[0],))
    beta = fit.beta
    if np.any(rhs_v != 0):
        beta = beta - np.linalg.pinv(L) @ rhs_v
    if L.shape[0] == 1:
        r = contrast(fit, L[0], rhs=float(rhs_v[0]))
        return JointResult(r.t ** 2, 1, r.df, float(distributions.f_sf(r.t ** 2, 1, r.df)))
    VL = L @ fit.vcov_beta @ L.T
    d, P = np.linalg.eigh(0.5 * (VL + VL.T))
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    tol = max(eps * d[0], 0.0)
    pos = d > tol
    q = int(np.sum(pos))
    if q == 0:
        raise ValueError("L has rank 0 in the fixed-effects covariance; nothing to test")
    PtL = (P.T @ L)[:q]
    if q == 1:
        # lmerTest: contest1D(model, PtL, rhs = rhs[1]) on the adjusted beta
        var, df = _df_1d(fit, PtL[0])
        t = float(PtL[0] @ fit.beta - rhs_v[0]) / math.sqrt(var)
        return JointResult(t * t, 1, df, float(distributions.f_sf(t * t, 1, df)))
    t2 = (PtL @ beta) ** 2 / d[:q]
    F = float(np.sum(t2) / q)
    A = vcov_varpar(fit)
    J = _jacobian(fit)
    nu = np.empty(q)
    for m in range(q):
        g = np.array([PtL[m] @ Jk @ PtL[m] for Jk in J])
        nu[m] = 2.0 * d[m] ** 2 / float(g @ A @ g)
    ddf = _fstat_ddf(nu)
    return JointResult(F, q, ddf, float(distributions.f_sf(F, q, ddf)))


def coefficient_table(fit: LmmFit) -> list[ContrastResult]:
    """Per coefficient: ``summary(m)$coefficients`` of lmerTest (Satterthwaite).

    One :class:`ContrastResult` per fixed effect, in the column order of ``X`` (the t test of
    each unit contrast).

    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9, 1.6])
    >>> X = np.column_stack([np.ones(11), np.r_[np.tile([0.0, 1.0], 5), 1.0]])
    >>> fit = fit_lmm(y, X, np.ones((11, 1)), np.r_[np.repeat(np.arange(5), 2), 0])
    >>> [round(v, 6) for v in coefficient_table(fit)[1]]   # R: -0.41451423 0.27355403 4.7691515 ...
    [-0.414514, 0.273554, 4.769151, -1.515292, 0.192902]
    """
    eye = np.eye(fit.n_fixed)
    return [contrast(fit, eye[j]) for j in range(fit.n_fixed)]
