r"""Kenward-Roger adjusted covariance, t and F tests for a linear mixed model (numerical kernel).

Role
----
Small-sample inference for the fixed effects of a REML
:class:`ketastats.stats.lmm.LmmFit`: the Kenward-Roger (1997) adjusted
covariance of :math:`\hat\beta`, its denominator degrees of freedom and the F
scaling. Arrays in, NamedTuples out, no pandas, no I/O.

R functions matched
-------------------
``pbkrtest`` 0.5 (Halekoh & Højsgaard 2014, *J Stat Softw* 59(9)):

- :func:`vcov_adjusted` = ``pbkrtest::vcovAdj(m)`` (``vcovAdj_internal``);
- :func:`contrast` = ``lmerTest::contest1D(m, L, ddf = "Kenward-Roger")``:
  SE from ``vcovAdj``, df from ``pbkrtest::Lb_ddf(L, vcov(m), vcovAdj(m))``
  (also ``summary(m, ddf = "Kenward-Roger")$coefficients``);
- :func:`joint` = ``lmerTest::contest(m, L, joint = TRUE, ddf = "Kenward-Roger")``
  = ``pbkrtest::KRmodcomp(m, L)`` (scaled F, ``ddf``, p), with
  :func:`krmodcomp` giving also the unscaled F and the scaling factor.

Formulas (pbkrtest's parametrisation)
-------------------------------------
:math:`\Sigma = \sum_r \gamma_r G_r`, with :math:`\gamma` = the lower triangle
(column-major) of the random-effects covariance, then :math:`\sigma^2`;
:math:`G_r = Z E_r Z'` (:math:`E_r` = :math:`e_ae_a'` for a variance,
:math:`e_ae_b' + e_be_a'` for a covariance, per group) and :math:`G = I` for
:math:`\sigma^2`. With :math:`\Phi = (X'\Sigma^{-1}X)^{-1}` (= ``vcov(m)``),
:math:`P_r = -X'\Sigma^{-1}G_r\Sigma^{-1}X`,
:math:`Q_{rs} = X'\Sigma^{-1}G_r\Sigma^{-1}G_s\Sigma^{-1}X`,
:math:`K_{rs} = \operatorname{tr}(G_r\Sigma^{-1}G_s\Sigma^{-1})`:

.. math::

    I_{rs} &= K_{rs} - 2\operatorname{tr}(\Phi Q_{rs}) + \operatorname{tr}(\Phi P_r\Phi P_s),
    \qquad W = 2 I^{-1} \\
    U &= \sum_{r,s} W_{rs}(Q_{rs} - P_r\Phi P_s), \qquad
    \Phi_A = \Phi + 2\,\Phi U \Phi

(pbkrtest omits the second-derivative term :math:`R_{rs}`, which is zero for
covariance structures linear in :math:`\gamma` as here; :math:`W` is a
pseudo-inverse when an eigenvalue of :math:`I` is below 1e-10). For a
contrast matrix L (rank q), :math:`\Theta = L'(L\Phi L')^{-1}L`,
:math:`A_1 = \sum_{rs} W_{rs}\operatorname{tr}(\Theta\Phi P_r\Phi)\operatorname{tr}(\Theta\Phi P_s\Phi)`,
:math:`A_2 = \sum_{rs} W_{rs}\operatorname{tr}(\Theta\Phi P_r\Phi\Theta\Phi P_s\Phi)`,
:math:`B = (A_1 + 6A_2)/(2q)`, :math:`g = ((q+1)A_1 - (q+4)A_2)/((q+2)A_2)`,
:math:`c_1 = g/(3q + 2(1-g))`, :math:`c_2 = (q-g)/(3q+2(1-g))`,
:math:`c_3 = (q+2-g)/(3q+2(1-g))`, :math:`\rho = \frac1q\big(\frac{1 - A_2/q}{1 - c_2B}\big)^2
\frac{1 + c_1B}{1 - c_3B}`, denominator df :math:`m = 4 + (q+2)/(q\rho - 1)`,
scaling :math:`\lambda = m(1 - A_2/q)/(m-2)` (1 if :math:`|m-2| < 0.01`),
:math:`F = \lambda\,(L\hat\beta - r)'(L\Phi_AL')^{-1}(L\hat\beta - r)/q`,
:math:`p = P(F_{q,m} > F)`. For one contrast, lmerTest reports
:math:`t = L'\hat\beta / \sqrt{L'\Phi_AL}` with df m (no scaling).

All traces and products are computed per group from the sufficient statistics
of :mod:`ketastats.stats.lmm` (Woodbury: :math:`Z_i'H_i^{-k} = B_i^kZ_i'`), so no
n x n matrix is formed.

Why hand-written
----------------
Neither statsmodels nor any other Python library implements Kenward-Roger for
mixed models. Checked against pbkrtest / lmerTest on the references in
``tests/reference/lmm/`` (df to ~1e-9 relative; tests use 1e-2).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ketastats.stats.lmm import LmmFit, evaluate, tril_index
from ketastats.stats.satterthwaite import ContrastResult, JointResult, as_contrast_matrix, as_contrast_vector

__all__ = ["KRAdjustment", "KRModcomp", "vcov_adjusted", "contrast", "joint", "krmodcomp",
           "coefficient_table"]


class KRAdjustment(NamedTuple):
    """``pbkrtest::vcovAdj``: adjusted vcov and its attributes ``P``, ``W``, ``condi``.

    ``vcov`` is the Kenward-Roger adjusted covariance Φ_A of the fixed effects (p × p);
    ``vcov_unadjusted`` is Φ = ``vcov(m)``; ``P`` holds one p × p matrix per covariance
    parameter (pbkrtest's parametrisation: the lower-triangle entries of the random-effects
    covariance in :func:`ketastats.stats.lmm.tril_index` order, then the residual variance);
    ``W`` is twice the inverse expected information of those parameters; ``condi`` the smallest absolute eigenvalue of
    that information (a pseudo-inverse is used below 1e-10, as pbkrtest).
    """

    vcov: np.ndarray          # Phi_A
    vcov_unadjusted: np.ndarray  # Phi = vcov(m)
    P: list                   # P_r matrices
    W: np.ndarray             # 2 * inverse information of gamma
    condi: float              # smallest |eigenvalue| of the information


class KRModcomp(NamedTuple):
    """``pbkrtest::KRmodcomp(m, L)$test`` and ``$aux``.

    ``F`` / ``df_num`` / ``df_den`` / ``p`` are the ``Ftest`` row (scaled F, rank of L, the
    Kenward-Roger denominator df); ``F_scaling`` the scaling factor λ; ``F_unscaled`` and
    ``p_unscaled`` the ``FtestU`` row (same df).
    """

    F: float
    df_num: int
    df_den: float
    p: float
    F_scaling: float
    F_unscaled: float
    p_unscaled: float


def vcov_adjusted(fit: LmmFit) -> KRAdjustment:
    """Kenward-Roger adjusted covariance of the fixed effects (``pbkrtest::vcovAdj``).

    Requires a REML fit (pbkrtest refits ML models by REML; refit with
    ``fit_lmm(..., reml=True)`` yourself). Cached on the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9])
    >>> X = np.column_stack([np.ones(10), np.tile([0.0, 1.0], 5)])
    >>> fit = fit_lmm(y, X, np.ones((10, 1)), np.repeat(np.arange(5), 2))
    >>> adj = vcov_adjusted(fit)   # R: sqrt(diag(vcovAdj(m))) = 0.2163331 0.1029563
    >>> np.sqrt(np.diag(adj.vcov)).round(7)   # balanced: no adjustment
    array([0.2163331, 0.1029563])
    """
    if not fit.reml:
        raise ValueError("Kenward-Roger is only available for REML fits "
                         "(as in lmerTest); refit with reml=True")
    cached = fit._cache.get("kr_adjustment")
    if cached is not None:
        return cached
    st = fit.stats
    q, p = st.q, st.p
    ev = evaluate(st, fit.theta)
    s2 = fit.sigma ** 2
    K, B, S = ev.K, ev.B, st.ZtZ
    W1 = ev.W                                  # Z'H^-1 X        (m, q, p)
    W2 = B @ W1                                # Z'H^-2 X
    C1 = ev.C                                  # Z'H^-1 Z
    C2 = B @ C1                                # Z'H^-2 Z
    # X'H^-1X per group, then X'H^-2X, X'H^-3X (H^-k = H^-(k-1) - H^-(k-1) Z K Z')
    KZX = K @ st.ZtX
    XH2X = ev.A - np.einsum("miP,miQ->PQ", W1, KZX)
    XH3X = XH2X - np.einsum("miP,miQ->PQ", W2, KZX)
    trH1 = st.n_i - np.einsum("mij,mji->m", K, S)
    trH2 = trH1 - np.einsum("mij,mji->m", K, C1)

    rows, cols = tril_index(q)
    E = []
    for a, b in zip(rows, cols):
        e = np.zeros((q, q))
        e[a, b] = 1.0
        e[b, a] = 1.0
        E.append(e)
    ng = len(E) + 1                            # + residual variance
    Phi = fit.vcov_beta

    # P_r = -X' S^-1 G_r S^-1 X ; Sigma^-1 = H^-1 / s2
    P = []
    for e in E:
        P.append(-np.einsum("miP,ij,mjQ->PQ", W1, e, W1) / s2 ** 2)
    P.append(-XH2X / s2 ** 2)
    P = [0.5 * (x + x.T) for x in P]

    # Q_rs = X' S^-1 G_r S^-1 G_s S^-1 X   (r <= s)
    def Q(r, s):
        if r < ng - 1 and s < ng - 1:
            return np.einsum("miP,ij,mjk,kl,mlQ->PQ", W1, E[r], C1, E[s], W1,
                             optimize=True) / s2 ** 3
        if r < ng - 1:
            return np.einsum("miP,ij,mjQ->PQ", W1, E[r], W2) / s2 ** 3
        if s < ng - 1:
            return np.einsum("miP,ij,mjQ->PQ", W2, E[s], W1) / s2 ** 3
        return XH3X / s2 ** 3

    # K_rs = tr(G_r S^-1 G_s S^-1)
    def Ktr(r, s):
        if r < ng - 1 and s < ng - 1:
            return float(np.einsum("ij,mjk,kl,mli->", E[r], C1, E[s], C1)) / s2 ** 2
        if r < ng - 1:
            return float(np.einsum("ij,mji->", E[r], C2)) / s2 ** 2
        if s < ng - 1:
            return float(np.einsum("ij,mji->", E[s], C2)) / s2 ** 2
        return float(np.sum(trH2)) / s2 ** 2

    QQ = {}
    IE2 = np.empty((ng, ng))
    for r in range(ng):
        PhiPr = Phi @ P[r]
        for s in range(r, ng):
            QQ[r, s] = Q(r, s)
            IE2[r, s] = IE2[s, r] = (Ktr(r, s) - 2.0 * float(np.sum(Phi * QQ[r, s]))
                                     + float(np.sum(PhiPr * (P[s] @ Phi))))
    eig = np.linalg.eigvalsh(IE2)
    condi = float(np.min(np.abs(eig)))
    WW = 2.0 * (np.linalg.inv(IE2) if condi > 1e-10 else np.linalg.pinv(IE2))
    WW = 0.5 * (WW + WW.T)
    UU = np.zeros((p, p))
    for r in range(ng - 1):
        for s in range(r + 1, ng):
            UU += WW[r, s] * (QQ[r, s] - P[r] @ Phi @ P[s])
    UU = UU + UU.T
    for r in range(ng):
        UU += WW[r, r] * (QQ[r, r] - P[r] @ Phi @ P[r])
    PhiA = Phi + 2.0 * Phi @ UU @ Phi
    out = KRAdjustment(PhiA, Phi, P, WW, condi)
    fit._cache["kr_adjustment"] = out
    return out


def _a1_a2(adj: KRAdjustment, L: np.ndarray) -> tuple[float, float]:
    """pbkrtest's A1 and A2 (Kenward & Roger 1997) for hypothesis matrix L (``.KR_adjust``)."""
    Phi = adj.vcov_unadjusted
    Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
    ThetaPhi = Theta @ Phi
    u = [ThetaPhi @ Pr @ Phi for Pr in adj.P]
    ng = len(u)
    A1 = A2 = 0.0
    for i in range(ng):
        for j in range(i, ng):
            e = 1.0 if i == j else 2.0
            A1 += e * adj.W[i, j] * float(np.trace(u[i])) * float(np.trace(u[j]))
            A2 += e * adj.W[i, j] * float(np.sum(u[i] * u[j].T))
    return A1, A2


def _ddf(A1: float, A2: float, q: float) -> tuple[float, float]:
    """(denominator df, F scaling) of .KR_adjust / Lb_ddf."""
    B = (A1 + 6.0 * A2) / (2.0 * q)
    g = ((q + 1.0) * A1 - (q + 4.0) * A2) / ((q + 2.0) * A2)
    den = 3.0 * q + 2.0 * (1.0 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2.0 - g) / den
    V0 = 1.0 + c1 * B
    V1 = 1.0 - c2 * B
    V2 = 1.0 - c3 * B
    if abs(V0) < 1e-10:
        V0 = 0.0
    x = 1.0 - A2 / q
    ratio = 1.0 if (abs(x) < 1e-14 and abs(V1) < 1e-14) else x / V1
    rho = ratio ** 2 * V0 / V2 / q
    df2 = 4.0 + (q + 2.0) / (q * rho - 1.0)
    scaling = 1.0 if abs(df2 - 2.0) < 0.01 else df2 * (1.0 - A2 / q) / (df2 - 2.0)
    return df2, scaling


def contrast(fit: LmmFit, L, rhs: float = 0.0) -> ContrastResult:
    r"""Kenward-Roger t test of one contrast :math:`L'\beta = \text{rhs}`.

    Matches ``lmerTest::contest1D(m, L, rhs, ddf = "Kenward-Roger")``: SE from
    the adjusted covariance, df ``pbkrtest::Lb_ddf(L, vcov(m), vcovAdj(m))``.
    REML fits only.

    Examples
    --------
    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9])
    >>> X = np.column_stack([np.ones(10), np.tile([0.0, 1.0], 5)])
    >>> fit = fit_lmm(y, X, np.ones((10, 1)), np.repeat(np.arange(5), 2))
    >>> r = contrast(fit, [0, 1])   # R (lmerTest, KR): df 4, p 0.005545965
    >>> round(r.df, 6), round(r.p, 9)
    (4.0, 0.005545965)
    """
    from ketastats.stats import distributions

    L = as_contrast_vector(L, fit.n_fixed)
    adj = vcov_adjusted(fit)
    A1, A2 = _a1_a2(adj, L[None, :])
    df, _ = _ddf(A1, A2, 1.0)
    est = float(L @ fit.beta)
    se = math.sqrt(float(L @ adj.vcov @ L))
    t = (est - rhs) / se
    return ContrastResult(est, se, float(df), float(t), float(2.0 * distributions.t_sf(abs(t), df)))


def krmodcomp(fit: LmmFit, L, rhs=0.0) -> KRModcomp:
    r"""``pbkrtest::KRmodcomp(m, L, betaH)``: Kenward-Roger F test of :math:`L\beta = \text{rhs}`.

    ``betaH = MASS::ginv(L) %*% rhs`` as lmerTest passes it. Returns the scaled
    F (``Ftest``), its df and p, the scaling and the unscaled F / p (``FtestU``).

    ``L`` is a k × p matrix (a vector is one row); the numerator df is its rank. REML fits only
    (``ValueError`` otherwise, from :func:`vcov_adjusted`).

    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9, 1.6])
    >>> X = np.column_stack([np.ones(11), np.r_[np.tile([0.0, 1.0], 5), 1.0]])
    >>> fit = fit_lmm(y, X, np.ones((11, 1)), np.r_[np.repeat(np.arange(5), 2), 0])
    >>> r = krmodcomp(fit, [[0, 1]])   # R: KRmodcomp(m, L)$test: 2.2419522 1 5.1402733 1 0.19301105
    >>> round(r.F, 6), r.df_num, round(r.df_den, 6), round(r.F_scaling, 6), round(r.p, 6)
    (2.241952, 1, 5.140273, 1.0, 0.193011)
    """
    from ketastats.stats import distributions

    p = fit.n_fixed
    L = as_contrast_matrix(L, p)
    rhs_v = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (L.shape[0],))
    adj = vcov_adjusted(fit)
    q = int(np.linalg.matrix_rank(L))
    A1, A2 = _a1_a2(adj, L)
    df2, scaling = _ddf(A1, A2, float(q))
    betaH = np.linalg.pinv(L) @ rhs_v if np.any(rhs_v != 0) else np.zeros(p)
    Ld = L @ (fit.beta - betaH)
    wald = float(Ld @ np.linalg.solve(L @ adj.vcov @ L.T, Ld))
    FU = wald / q
    F = scaling * FU
    return KRModcomp(float(F), q, float(df2), float(distributions.f_sf(F, q, df2)), float(scaling),
                     float(FU), float(distributions.f_sf(FU, q, df2)))


def joint(fit: LmmFit, L, rhs=0.0) -> JointResult:
    r"""Kenward-Roger F test of :math:`L\beta = \text{rhs}` (k x p matrix L).

    Matches ``lmerTest::contest(m, L, joint = TRUE, ddf = "Kenward-Roger")``
    (= ``pbkrtest::KRmodcomp(m, L)``: scaled F, numerator df = rank of L).
    REML fits only. For a type-III style test of a term pass the identity rows
    of its coefficients (:func:`ketastats.stats.lmm.selection_matrix`).

    Examples
    --------
    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm, selection_matrix
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(6), 3); x = np.tile([0.0, 1.0, 2.0], 6)
    >>> X = np.column_stack([np.ones(18), x, x ** 2])
    >>> y = 1 + 0.5 * x + rng.normal(size=6)[g] + rng.normal(size=18)
    >>> res = joint(fit_lmm(y, X, np.ones((18, 1)), g), selection_matrix(3, [1, 2]))
    >>> res.df_num
    2
    """
    r = krmodcomp(fit, L, rhs)
    return JointResult(r.F, r.df_num, r.df_den, r.p)


def coefficient_table(fit: LmmFit) -> list[ContrastResult]:
    """Per coefficient: ``summary(m, ddf = "Kenward-Roger")$coefficients`` of lmerTest.

    One :class:`ContrastResult` per fixed effect (adjusted SE, KR df), in the column order of X.

    >>> import numpy as np
    >>> from ketastats.stats.lmm import fit_lmm
    >>> y = np.array([1.0, 0.4, 2.0, 1.1, 1.5, 1.2, 0.7, 0.1, 1.3, 0.9, 1.6])
    >>> X = np.column_stack([np.ones(11), np.r_[np.tile([0.0, 1.0], 5), 1.0]])
    >>> fit = fit_lmm(y, X, np.ones((11, 1)), np.r_[np.repeat(np.arange(5), 2), 0])
    >>> [round(v, 6) for v in coefficient_table(fit)[1]]   # R: -0.41451423 0.27683836 5.1402733 ...
    [-0.414514, 0.276838, 5.140273, -1.497315, 0.193011]
    """
    eye = np.eye(fit.n_fixed)
    return [contrast(fit, eye[j]) for j in range(fit.n_fixed)]
