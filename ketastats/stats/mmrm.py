"""Mixed model for repeated measures (MMRM): generalised least squares with a structured
within-subject covariance over visits, fitted by REML or ML; Kenward-Roger, Satterthwaite,
residual and between-within degrees of freedom.

Matches R: ``mmrm::mmrm(y ~ x + us(visit | subject), reml = TRUE, method = ..., vcov = ...)``
(openpharma, version 0.3.18) and so SAS ``PROC MIXED; REPEATED visit / SUBJECT = subject
TYPE = UN; MODEL ... / DDFM = KR``. The model has fixed effects only: y_s ~ N(X_s β, Σ_s) for each
subject s, where Σ_s is the visit covariance Σ(θ) restricted to the visits s was observed at
(missing visits are simply absent: all available data, missing at random under the model).

Covariance structures and their parameters θ are exactly mmrm's (``src/covariance.h``), so that
the variance-parameter covariance, and the second-derivative term of the non-linear Kenward-Roger
adjustment, are those mmrm computes:

==========  ===================================================================================
``us``      Σ = L L', L lower triangular, L_ii = exp(θ_i), L_ij = exp(θ_i) θ_k (row by row)
``cs``      σ² = exp(2θ_0); ρ = logit⁻¹(θ_1)(1 + a) − a, a = 1/(m − 1); Σ = σ²((1 − ρ)I + ρ11')
``csh``     σ_i = exp(θ_i), i < m; one ρ as ``cs``; Σ_ij = σ_i σ_j ρ (i ≠ j)
``ar1``     σ² = exp(2θ_0); ρ = θ_1/√(1 + θ_1²); corr_ij = ρ^|i−j|
``ar1h``    σ_i = exp(θ_i); ρ as ``ar1``
``toep``    σ² = exp(2θ_0); ρ_d = θ_d/√(1 + θ_d²), d = 1..m−1; corr_ij = ρ_|i−j|
``toeph``   σ_i = exp(θ_i); ρ_d as ``toep``
``ad``      σ² = exp(2θ_0); ρ_j = θ_j/√(1 + θ_j²); corr_ij = ρ_j ρ_{j+1} ⋯ ρ_{i−1} (j < i)
``adh``     σ_i = exp(θ_i); ρ_j as ``ad``
==========  ===================================================================================

Numerical method. Subjects with the same set of observed visits share Σ_s, so the likelihood is
accumulated per *visit pattern* from sufficient statistics (Σ_s X_s⊗X_s, Σ_s X_s⊗y_s, Σ_s y_s y_s'),
which makes one evaluation independent of the number of subjects. β is profiled out (GLS), as in
mmrm's TMB objective. The first derivatives of Σ(θ) are exact (complex step), second derivatives
are central differences of complex-step first derivatives (relative error ≈ 1e-10). The
objective's gradient and Hessian are analytic given those; the optimum is reached by BFGS and then
polished by Newton steps on the analytic Hessian until the gradient is below 1e-9 — tighter than
mmrm's L-BFGS-B, which is why estimates agree with mmrm to its convergence tolerance (≈ 1e-6).

Quantities at the optimum (the names of mmrm's ``R/kenwardroger.R``):
``P_i = X' ∂Σ⁻¹/∂θ_i X``, ``Q_ij = X' ∂Σ⁻¹/∂θ_i Σ ∂Σ⁻¹/∂θ_j X``, ``R_ij = X'Σ⁻¹ ∂²Σ/∂θ_i∂θ_j Σ⁻¹X``,
``W = H⁻¹`` with H the Hessian of the negative (restricted) log-likelihood in θ
(mmrm: ``theta_vcov = solve(tmb_object$he(par))``), Φ = (X'Σ⁻¹X)⁻¹ (``beta_vcov``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, optimize

from ketastats.stats import distributions

#: Covariance structures (mmrm's names; SAS: UN, CS, CSH, AR(1), ARH(1), TOEP, TOEPH, ANTE(1)).
STRUCTURES = ("us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "ad", "adh")

#: Step of the complex-step first derivative (exact to rounding for any step this small).
_COMPLEX_STEP = 1e-30
#: Step of the central difference over complex-step derivatives that gives second derivatives.
_SECOND_STEP = 1e-5


class MMRMError(ValueError):
    """The model cannot be fitted (too few subjects or visits, a singular design, no convergence)."""


def n_parameters(structure: str, m: int) -> int:
    """Number of covariance parameters θ of a structure over m visits (mmrm's count).

    >>> [n_parameters(s, 4) for s in STRUCTURES]
    [10, 2, 5, 2, 5, 4, 7, 4, 7]
    """
    return {"us": m * (m + 1) // 2, "cs": 2, "csh": m + 1, "ar1": 2, "ar1h": m + 1, "toep": m,
            "toeph": 2 * m - 1, "ad": m, "adh": 2 * m - 1}[structure]


def _to_corr(theta):
    """mmrm's map from the real line to (−1, 1): θ / √(1 + θ²) (``map_to_cor`` in ``src/utils.h``)."""
    return theta / np.sqrt(1 + theta * theta)


def covariance(theta: np.ndarray, structure: str, m: int) -> np.ndarray:
    """Σ(θ), the m × m covariance over visits (mmrm's parameterisation; complex θ allowed).

    The homogeneous structures are σ² × correlation, the heterogeneous ones D C D with D the
    visit SDs; mmrm builds the same matrices through Cholesky factors (``src/covariance.h``).
    """
    theta = np.asarray(theta)
    dtype = np.result_type(theta.dtype, float)
    if structure == "us":
        L = np.zeros((m, m), dtype=dtype)
        sd = np.exp(theta[:m])
        k = m
        for i in range(m):
            L[i, i] = sd[i]
            for j in range(i):
                L[i, j] = sd[i] * theta[k]
                k += 1
        return L @ L.T
    heterogeneous = structure.endswith("h")
    sd = np.exp(theta[:m]) if heterogeneous else np.repeat(np.exp(theta[0]), m)
    rest = theta[m:] if heterogeneous else theta[1:]
    C = np.eye(m, dtype=dtype)
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    if structure in ("cs", "csh"):
        a = 1.0 / (m - 1) if m > 1 else 0.0
        rho = (1 / (1 + np.exp(-rest[0]))) * (1 + a) - a
        C = np.where(lags == 0, 1.0, rho).astype(dtype)
    elif structure in ("ar1", "ar1h"):
        rho = _to_corr(rest[0])
        C = np.ones((m, m), dtype=dtype)
        for i in range(m):
            for j in range(m):
                if i != j:
                    C[i, j] = rho ** lags[i, j]
    elif structure in ("toep", "toeph"):
        rho = _to_corr(rest)
        for i in range(m):
            for j in range(m):
                if i != j:
                    C[i, j] = rho[lags[i, j] - 1]
    elif structure in ("ad", "adh"):
        rho = _to_corr(rest)
        for i in range(m):
            for j in range(i):
                C[i, j] = C[j, i] = np.prod(rho[j:i])
    else:
        raise MMRMError(f"unknown covariance structure '{structure}'")
    return sd[:, None] * C * sd[None, :]


def covariance_derivatives(theta: np.ndarray, structure: str, m: int, second: bool = False):
    """∂Σ/∂θ_i (shape t × m × m) and, if ``second``, ∂²Σ/∂θ_i∂θ_j (t × t × m × m).

    First derivatives by complex step (no subtraction, exact to rounding); second derivatives by
    central differences (step :data:`_SECOND_STEP`) of complex-step first derivatives.
    """
    theta = np.asarray(theta, dtype=float)
    t = theta.size

    def first(point):
        out = np.empty((t, m, m))
        for i in range(t):
            shifted = point.astype(complex)
            shifted[i] += 1j * _COMPLEX_STEP
            out[i] = covariance(shifted, structure, m).imag / _COMPLEX_STEP
        return out

    d1 = first(theta)
    if not second:
        return d1, None
    d2 = np.empty((t, t, m, m))
    for j in range(t):
        h = _SECOND_STEP * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        d2[:, j] = (first(up) - first(down)) / (2 * h)
    d2 = (d2 + d2.transpose(1, 0, 2, 3)) / 2      # symmetric in (i, j) by construction
    return d1, d2


@dataclass
class Pattern:
    """Subjects sharing one set of observed visits, and their sufficient statistics.

    ``visits`` are the visit indices (0..m−1, in visit order); ``X`` (n, k, p) and ``y`` (n, k) the
    subjects' rows; ``S[k, l, a, b] = Σ_s X_s[k, a] X_s[l, b]``, ``XY[k, l, a] = Σ_s X_s[k, a] y_s[l]``,
    ``YY = Σ_s y_s y_s'``.
    """

    visits: np.ndarray
    X: np.ndarray
    y: np.ndarray
    subjects: np.ndarray
    S: np.ndarray = field(init=False)
    XY: np.ndarray = field(init=False)
    YY: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        """Accumulate the sufficient statistics once."""
        self.S = np.einsum("ska,slb->klab", self.X, self.X)
        self.XY = np.einsum("ska,sl->kla", self.X, self.y)
        self.YY = self.y.T @ self.y

    @property
    def n(self) -> int:
        """Number of subjects with this pattern."""
        return self.y.shape[0]


def make_patterns(y: np.ndarray, X: np.ndarray, subject: np.ndarray, visit: np.ndarray) -> list[Pattern]:
    """Group the rows by subject, order each subject's rows by visit and pool subjects by visit set.

    ``subject`` are integer codes, ``visit`` integer codes 0..m−1; a (subject, visit) pair must
    occur once (checked by the caller). Patterns are ordered by their visit tuple, subjects within a
    pattern by code, so the result does not depend on row order.
    """
    order = np.lexsort((visit, subject))
    y, X, subject, visit = y[order], X[order], subject[order], visit[order]
    starts = np.flatnonzero(np.r_[True, subject[1:] != subject[:-1]])
    ends = np.r_[starts[1:], len(subject)]
    groups: dict[tuple, list[int]] = {}
    for start, end in zip(starts, ends):
        groups.setdefault(tuple(visit[start:end]), []).append(int(start))
    patterns = []
    for key in sorted(groups, key=lambda v: (len(v), v)):
        firsts = np.array(groups[key])
        k = len(key)
        rows = firsts[:, None] + np.arange(k)[None, :]
        patterns.append(Pattern(np.array(key), X[rows], y[rows], subject[firsts]))
    return patterns


@dataclass
class MMRMFit:
    """A fitted MMRM (REML or ML) and everything the df and covariance methods need.

    ``beta``, ``vcov_beta`` (Φ = (X'Σ⁻¹X)⁻¹, mmrm ``beta_vcov``), ``theta`` (mmrm's
    parameterisation), ``sigma`` (the m × m visit covariance), ``theta_vcov`` (W = H⁻¹),
    ``loglik`` (the maximised log-likelihood, REML or ML, mmrm ``logLik``), ``aic``/``bic``
    as mmrm (k = number of θ; n = number of subjects), ``P`` (KR / Satterthwaite term; the
    W-weighted sums of Q and R come from :func:`kr_sums`),
    ``jacobian`` (∂Φ/∂θ_i = −Φ P_i Φ, mmrm ``jac_list``), and the fit data.
    """

    structure: str
    reml: bool
    beta: np.ndarray
    vcov_beta: np.ndarray
    theta: np.ndarray
    sigma: np.ndarray
    theta_vcov: np.ndarray
    hessian: np.ndarray
    loglik: float
    aic: float
    bic: float
    n_obs: int
    n_subjects: int
    n_visits: int
    converged: bool
    message: str
    iterations: int
    gradient_norm: float
    patterns: list[Pattern]
    P: np.ndarray | None = None
    _vcov_cache: dict = field(default_factory=dict)

    @property
    def jacobian(self) -> np.ndarray:
        """∂Φ/∂θ_i = −Φ P_i Φ (t × p × p): how the covariance of β̂ moves with θ (Satterthwaite)."""
        assert self.P is not None, "P is set by the fit"
        return -np.einsum("ab,tbc,cd->tad", self.vcov_beta, self.P, self.vcov_beta)


def _evaluate(theta: np.ndarray, patterns: list[Pattern], structure: str, m: int, p: int, n_obs: int,
              reml: bool, order: int = 1):
    """Negative log-likelihood (profiled over β) and, for ``order`` ≥ 1, its gradient; for 2, the
    Hessian and the KR matrices P, Q, R.

    Returns a dict with ``f``, ``beta``, ``A`` (X'Σ⁻¹X) and, as asked, ``g``, ``H``, ``P``, ``Q``,
    ``R``. ``f`` is ``inf`` where Σ(θ) is not positive definite on some pattern (e.g. a Toeplitz
    correlation sequence that is not positive definite), which makes the line search back off.
    """
    Sigma = covariance(theta, structure, m)
    A = np.zeros((p, p))
    b = np.zeros(p)
    yVy = 0.0
    logdet = 0.0
    inverses = []
    for pat in patterns:
        V = Sigma[np.ix_(pat.visits, pat.visits)]
        try:
            c = linalg.cho_factor(V, lower=True)
        except linalg.LinAlgError:
            return {"f": np.inf}
        Vinv = linalg.cho_solve(c, np.eye(len(pat.visits)))
        Vinv = (Vinv + Vinv.T) / 2
        inverses.append(Vinv)
        logdet += pat.n * 2 * np.sum(np.log(np.diag(c[0])))
        A += np.einsum("kl,klab->ab", Vinv, pat.S)
        b += np.einsum("kl,kla->a", Vinv, pat.XY)
        yVy += float(np.sum(Vinv * pat.YY))
    A = (A + A.T) / 2
    try:
        cA = linalg.cho_factor(A, lower=True)
    except linalg.LinAlgError:
        return {"f": np.inf}
    beta = linalg.cho_solve(cA, b)
    rss = yVy - b @ beta
    if reml:
        f = 0.5 * (logdet + 2 * np.sum(np.log(np.diag(cA[0]))) + rss + (n_obs - p) * np.log(2 * np.pi))
    else:
        f = 0.5 * (logdet + rss + n_obs * np.log(2 * np.pi))
    out = {"f": float(f), "beta": beta, "A": A}
    if order == 0:
        return out
    Ainv = linalg.cho_solve(cA, np.eye(p))
    Ainv = (Ainv + Ainv.T) / 2
    out["Ainv"] = Ainv
    d1, d2 = covariance_derivatives(theta, structure, m, second=order >= 2)
    t = len(theta)
    g = np.zeros(t)
    P = np.zeros((t, p, p))
    if order >= 2:
        H = np.zeros((t, t))
        u = np.zeros((t, p))
    flat_Ainv = Ainv.ravel()
    for pat, Vinv in zip(patterns, inverses):
        ix = np.ix_(pat.visits, pat.visits)
        k = len(pat.visits)
        S2 = pat.S.reshape(k * k, p * p)
        SA = (S2 @ flat_Ainv).reshape(k, k)                        # Σ_s X_s A⁻¹ X_s' (k × k)
        dV = d1[:, ix[0], ix[1]]                                   # t × k × k
        VdV = Vinv @ dV                                            # Σ⁻¹ ∂Σ_i
        D = VdV @ Vinv                                             # Σ⁻¹ ∂Σ_i Σ⁻¹
        # residual statistics of this pattern at β̂: Σ r r' and Σ X ⊗ r
        Xb = np.einsum("kla,a->kl", pat.XY, beta)                  # Σ_s X_s[k]β y_s[l]
        RR = pat.YY - Xb - Xb.T + (S2 @ np.outer(beta, beta).ravel()).reshape(k, k)
        tr1 = np.einsum("tkk->t", VdV)
        Dflat = D.reshape(t, k * k)
        # gradient: ½[tr(Σ⁻¹∂Σ_i) − r'Σ⁻¹∂Σ_iΣ⁻¹r − (REML) tr(A⁻¹ X'Σ⁻¹∂Σ_iΣ⁻¹X)], summed over subjects
        g += 0.5 * (pat.n * tr1 - Dflat @ RR.ravel() - (Dflat @ SA.ravel() if reml else 0.0))
        if order >= 2:
            P -= (Dflat @ S2).reshape(t, p, p)                     # P_i = X' ∂Σ⁻¹/∂θ_i X
            XR = pat.XY - (pat.S.reshape(k * k * p, p) @ beta).reshape(k, k, p)   # Σ_s X_s[k, a] r_s[l]
            dV2 = d2[:, :, ix[0], ix[1]]
            E = (D @ Sigma[ix])[:, None] @ D[None, :]              # Σ⁻¹∂Σ_iΣ⁻¹∂Σ_jΣ⁻¹ (t × t × k × k)
            F = Vinv @ dV2 @ Vinv                                  # Σ⁻¹ ∂²Σ_ij Σ⁻¹
            Eflat, Fflat = E.reshape(t * t, k * k), F.reshape(t * t, k * k)
            trVV = np.einsum("ikl,jlk->ij", VdV, VdV)
            trVij = np.einsum("kl,ijlk->ij", Vinv, dV2)
            H += 0.5 * pat.n * (trVij - trVV)
            H += (Eflat @ RR.ravel() - 0.5 * (Fflat @ RR.ravel())).reshape(t, t)
            if reml:     # − ½ tr(A⁻¹R_ij) + tr(A⁻¹Q_ij), with Q_ij = X'E_ijX and R_ij = X'F_ijX
                H += (Eflat @ SA.ravel() - 0.5 * (Fflat @ SA.ravel())).reshape(t, t)
            u += np.einsum("tkl,kla->ta", D, XR)
    if order >= 2:
        H -= u @ Ainv @ u.T
        if reml:
            AP = np.einsum("ab,tbc->tac", Ainv, P)
            H -= 0.5 * np.einsum("iab,jba->ij", AP, AP)
        out.update(H=(H + H.T) / 2, P=P)
    out.update(g=g)
    return out


def kr_sums(fit: "MMRMFit") -> tuple[np.ndarray, np.ndarray]:
    """Σ_ij W_ij Q_ij and Σ_ij W_ij R_ij at the optimum (the Kenward-Roger adjustment's sums).

    W is contracted per visit pattern before X is applied, X'(Σ_ij W_ij E_ij)X, so the t × t × p × p
    tensors Q and R are never formed (t² k² + k² p² operations per pattern instead of t² k² p²).
    """
    p = len(fit.beta)
    m = fit.n_visits
    d1, d2 = covariance_derivatives(fit.theta, fit.structure, m, second=True)
    W = fit.theta_vcov
    QW, RW = np.zeros((p, p)), np.zeros((p, p))
    for pat in fit.patterns:
        ix = np.ix_(pat.visits, pat.visits)
        k = len(pat.visits)
        V = fit.sigma[ix]
        Vinv = np.linalg.inv(V)
        D = Vinv @ d1[:, ix[0], ix[1]] @ Vinv
        EW = np.einsum("ij,ikl,lm,jmn->kn", W, D, V, D, optimize=True)
        FW = Vinv @ np.einsum("ij,ijkl->kl", W, d2[:, :, ix[0], ix[1]]) @ Vinv
        S2 = pat.S.reshape(k * k, p * p)
        QW += (EW.ravel() @ S2).reshape(p, p)
        RW += (FW.ravel() @ S2).reshape(p, p)
    return QW, RW


def _start(patterns: list[Pattern], structure: str, m: int, p: int) -> np.ndarray:
    """Starting θ: visit SDs from the ordinary least-squares residuals, correlations 0 (``cs``: θ = 0)."""
    X = np.concatenate([pat.X.reshape(-1, p) for pat in patterns])
    y = np.concatenate([pat.y.ravel() for pat in patterns])
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    sd = float(np.std(y - X @ coef))
    log_sd = np.log(sd) if sd > 0 else 0.0
    theta = np.zeros(n_parameters(structure, m))
    if structure == "us" or structure.endswith("h"):
        theta[:m] = log_sd
    else:
        theta[0] = log_sd
    return theta


def fit(y: np.ndarray, X: np.ndarray, subject: np.ndarray, visit: np.ndarray, n_visits: int,
        structure: str = "us", reml: bool = True, start: np.ndarray | None = None,
        max_newton: int = 50) -> MMRMFit:
    """Fit an MMRM by REML (default) or ML; R ``mmrm::mmrm(y ~ X + <structure>(visit | subject))``.

    ``subject`` integer codes; ``visit`` integer codes 0..n_visits−1 (the visit factor's levels in
    order). BFGS from :func:`_start`, then Newton steps with the analytic Hessian (step halving)
    until the gradient's max norm < 1e-9 × max(1, |f|). ``converged`` requires that and a positive
    definite Hessian (a local minimum with finite W). Raises :class:`MMRMError` when no finite
    objective can be found.
    """
    if structure not in STRUCTURES:
        raise MMRMError(f"unknown covariance structure '{structure}'")
    m = int(n_visits)
    if m < 2 and structure not in ("us",):
        raise MMRMError("a structured covariance needs at least two visits")
    p = X.shape[1]
    n_obs = len(y)
    patterns = make_patterns(np.asarray(y, float), np.asarray(X, float), np.asarray(subject), np.asarray(visit))
    theta0 = _start(patterns, structure, m, p) if start is None else np.asarray(start, float)

    def objective(theta):
        res = _evaluate(theta, patterns, structure, m, p, n_obs, reml, order=1)
        if not np.isfinite(res["f"]):
            return np.inf, np.zeros_like(theta)
        return res["f"], res["g"]

    if not np.isfinite(_evaluate(theta0, patterns, structure, m, p, n_obs, reml, order=0)["f"]):
        raise MMRMError("the starting covariance is not positive definite")
    opt = optimize.minimize(objective, theta0, jac=True, method="BFGS",
                            options={"gtol": 1e-8, "maxiter": 2000})
    theta = opt.x
    message = "BFGS: " + str(opt.message)
    iterations = int(opt.nit)
    res = _evaluate(theta, patterns, structure, m, p, n_obs, reml, order=2)
    if not np.isfinite(res["f"]):
        raise MMRMError("the optimiser left the region where the covariance is positive definite")
    tol = 1e-9
    for _ in range(max_newton):
        g, H = res["g"], res["H"]
        if np.max(np.abs(g)) < tol * max(1.0, abs(res["f"])):
            break
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or g @ step <= 0:      # not a descent direction
            break
        scale, improved = 1.0, False
        for _ in range(30):
            trial = theta - scale * step
            cand = _evaluate(trial, patterns, structure, m, p, n_obs, reml, order=2)
            if np.isfinite(cand["f"]) and cand["f"] <= res["f"] + 1e-12 * abs(res["f"]):
                theta, res, improved = trial, cand, True
                break
            scale /= 2
        iterations += 1
        if not improved:
            break
    g, H = res["g"], res["H"]
    gnorm = float(np.max(np.abs(g)))
    eig = np.linalg.eigvalsh(H)
    small_gradient = gnorm < 1e-6 * max(1.0, abs(res["f"]))
    positive = bool(np.all(eig > 0))
    converged = bool(small_gradient and positive)
    if not positive:
        message += "; the Hessian of the variance parameters is not positive definite"
    elif not small_gradient:
        message += f"; gradient {gnorm:.2g} not small"
    else:
        message += "; Newton-polished"
    W = np.linalg.inv(H) if positive else np.full_like(H, np.nan)
    t = len(theta)
    loglik = -res["f"]
    n_subjects = sum(pat.n for pat in patterns)
    return MMRMFit(structure=structure, reml=reml, beta=res["beta"], vcov_beta=res["Ainv"], theta=theta,
                   sigma=covariance(theta, structure, m), theta_vcov=(W + W.T) / 2, hessian=H,
                   loglik=float(loglik), aic=float(-2 * loglik + 2 * t),
                   bic=float(-2 * loglik + np.log(n_subjects) * t), n_obs=n_obs, n_subjects=n_subjects,
                   n_visits=m, converged=converged, message=message, iterations=iterations,
                   gradient_norm=gnorm, patterns=patterns, P=res["P"])


# --- covariance of β̂ ---------------------------------------------------------------------------

def vcov(fit: MMRMFit, method: str = "asymptotic") -> np.ndarray:
    """Covariance of β̂ used for SEs and Wald tests; mmrm ``vcov = ...``.

    ``asymptotic``: Φ = (X'Σ⁻¹X)⁻¹. ``kenward_roger`` / ``kenward_roger_linear`` (mmrm
    ``h_var_adj``): Φ + 2Φ[Σ_ij W_ij (Q_ij − P_i Φ P_j − ¼ R_ij)]Φ, the linear variant without
    the R term (SAS ``DDFM = KR(LINEAR)``; for ``us`` SAS's KR, whose parameters are the σ_ij
    themselves, coincides with it). ``empirical``: the cluster-robust sandwich
    Φ [Σ_s X_s'Σ_s⁻¹ r_s r_s' Σ_s⁻¹ X_s] Φ (mmrm ``Empirical``, CR0).
    """
    if method in fit._vcov_cache:
        return fit._vcov_cache[method]
    Phi = fit.vcov_beta
    if method == "asymptotic":
        out = Phi
    elif method in ("kenward_roger", "kenward_roger_linear"):
        W = fit.theta_vcov
        assert fit.P is not None, "P is set by the fit"
        PPhi = np.einsum("iab,bc->iac", fit.P, Phi)
        QW, RW = kr_sums(fit)
        inner = QW - np.einsum("ij,iab,jbc->ac", W, PPhi, fit.P)
        if method == "kenward_roger":
            inner = inner - 0.25 * RW
        out = Phi + 2 * Phi @ inner @ Phi
    elif method == "empirical":
        Sigma = fit.sigma
        meat = np.zeros_like(Phi)
        for pat in fit.patterns:
            V = Sigma[np.ix_(pat.visits, pat.visits)]
            r = pat.y - np.einsum("ska,a->sk", pat.X, fit.beta)
            z = np.einsum("ska,sk->sa", pat.X, np.linalg.solve(V, r.T).T)
            meat += z.T @ z
        out = Phi @ meat @ Phi
    else:
        raise MMRMError(f"unknown covariance method '{method}'")
    out = (out + out.T) / 2
    fit._vcov_cache[method] = out
    return out


# --- degrees of freedom -----------------------------------------------------------------------------

def _kr_df(fit: MMRMFit, L: np.ndarray) -> tuple[float, float]:
    """Kenward-Roger denominator df m and F scale λ of L β = 0 (mmrm ``h_kr_df``, unadjusted Φ in A1, A2)."""
    Phi, W, P = fit.vcov_beta, fit.theta_vcov, fit.P
    assert P is not None, "P is set by the fit"
    nl = L.shape[0]
    M = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
    MPhi = M @ Phi
    terms = np.einsum("ab,ibc,cd->iad", MPhi, P, Phi)           # M Φ P_i Φ
    traces = np.einsum("iaa->i", terms)
    a1 = float(traces @ W @ traces)
    a2 = float(np.einsum("ij,iab,jba->", W, terms, terms))
    b = 1 / (2 * nl) * (a1 + 6 * a2)
    e_star = 1 / (1 - a2 / nl)
    g = ((nl + 1) * a1 - (nl + 4) * a2) / ((nl + 2) * a2)
    denom = 3 * nl + 2 - 2 * g
    c1, c2, c3 = g / denom, (nl - g) / denom, (nl + 2 - g) / denom
    v_star = 2 / nl * (1 + c1 * b) / (1 - c2 * b) ** 2 / (1 - c3 * b)
    rho = v_star / (2 * e_star ** 2)
    df = 4 + (nl + 2) / (nl * rho - 1)
    lam = df / (e_star * (df - 2))
    return float(df), float(lam)


def _satterthwaite_df(fit: MMRMFit, row: np.ndarray) -> float:
    """Satterthwaite df of one contrast l (mmrm ``h_df_1d_sat``): 2 (l'Φl)² / (g'Wg), g_i = l' ∂Φ/∂θ_i l."""
    grad = np.einsum("a,iab,b->i", row, fit.jacobian, row)
    return float(2 * (row @ fit.vcov_beta @ row) ** 2 / (grad @ fit.theta_vcov @ grad))


def subject_information(fit: MMRMFit) -> np.ndarray:
    """A_s = X_s'Σ_s⁻¹X_s for every subject (n_subjects × p × p; Σ_s A_s = X'Σ⁻¹X), cached on the fit."""
    if "subject_information" not in fit._vcov_cache:
        blocks = []
        for pat in fit.patterns:
            Vinv = np.linalg.inv(fit.sigma[np.ix_(pat.visits, pat.visits)])
            blocks.append(np.einsum("ska,kl,slb->sab", pat.X, Vinv, pat.X, optimize=True))
        fit._vcov_cache["subject_information"] = np.concatenate(blocks)
    return fit._vcov_cache["subject_information"]


def _satterthwaite_empirical_df(fit: MMRMFit, row: np.ndarray) -> float:
    """Satterthwaite df of one contrast with the empirical covariance (mmrm ``h_df_1d_sat_empirical``).

    mmrm forms G = (g C')'(g C') from its n_obs × p·n_subjects matrix g and returns tr(G)²/ΣG².
    With c = Φl and A_s = X_s'Σ_s⁻¹X_s that G is diag(c'A_s c) − K'ΦK, K = [A_1c, …, A_nc]
    (because Σ_s A_s = Φ⁻¹), which is what is computed here without the n_obs-sized matrices.
    """
    c = fit.vcov_beta @ row
    A = subject_information(fit)
    K = A @ c                                            # n_subjects × p (rows A_s c)
    d = K @ c                                            # c'A_s c
    KPhiK = K @ fit.vcov_beta @ K.T
    G = np.diag(d) - KPhiK
    return float(np.trace(G) ** 2 / np.sum(G * G))


def _between_within(fit: MMRMFit, kinds: list[str], involved: np.ndarray, n_between: int, n_within: int) -> float:
    """Between-within df (mmrm ``h_df_min_bw``): the least df of the coefficients involved, between =
    n_subjects − n_between − n_intercept, within (and intercept) = n_obs − n_subjects − n_within."""
    n_int = kinds.count("intercept")
    ddf_between = fit.n_subjects - n_between - n_int
    ddf_within = fit.n_obs - fit.n_subjects - n_within
    dfs = [ddf_between if kind == "between" else ddf_within for kind, used in zip(kinds, involved) if used]
    return float(min(dfs))


def coefficient_kinds(X: np.ndarray, subject: np.ndarray, names: list[str]) -> list[str]:
    """``intercept`` / ``between`` / ``within`` per column (mmrm ``h_within_or_between``): a column is
    within-subject when some subject has more than one distinct value of it."""
    kinds = []
    n_subjects = len(np.unique(subject))
    for j, name in enumerate(names):
        if name == "Intercept" or name == "(Intercept)":
            kinds.append("intercept")
            continue
        pairs = {(s, v) for s, v in zip(subject.tolist(), X[:, j].tolist())}
        kinds.append("within" if len(pairs) > n_subjects else "between")
    return kinds


@dataclass
class Tester:
    """Tests of linear combinations of β under one df method and one covariance of β̂.

    ``df_method``: kenward_roger | satterthwaite | residual | between_within; ``vcov_method``:
    asymptotic | kenward_roger | kenward_roger_linear | empirical. ``kinds`` (for between_within)
    from :func:`coefficient_kinds`.
    """

    fit: MMRMFit
    df_method: str
    vcov_method: str
    kinds: list[str] | None = None

    def _df_1d(self, row: np.ndarray) -> float:
        """Denominator df for one contrast row."""
        if self.df_method == "kenward_roger":
            return _kr_df(self.fit, row[None, :])[0]
        if self.df_method == "satterthwaite":
            if self.vcov_method == "empirical":
                return _satterthwaite_empirical_df(self.fit, row)
            return _satterthwaite_df(self.fit, row)
        if self.df_method == "residual":
            return float(self.fit.n_obs - len(self.fit.beta))
        kinds = self.kinds or []
        return _between_within(self.fit, kinds, row != 0, kinds.count("between"), kinds.count("within"))

    def t_test(self, row: np.ndarray) -> tuple[float, float, float, float, float]:
        """(estimate, SE, df, t, two-sided p) of l'β, l = ``row`` (mmrm ``df_1d``)."""
        row = np.asarray(row, float)
        V = vcov(self.fit, self.vcov_method)
        estimate = float(row @ self.fit.beta)
        se = float(np.sqrt(row @ V @ row))
        df = self._df_1d(row)
        t = estimate / se
        return estimate, se, df, t, float(2 * distributions.t_sf(abs(t), df))

    def f_test(self, L: np.ndarray) -> tuple[float, float, float, float]:
        """(F, numerator df, denominator df, p) of L β = 0 (mmrm ``df_md``).

        KR: F = λ/q (Lβ)'(L Φ_A L')⁻¹(Lβ) on (q, m). Satterthwaite (lmerTest's method, mmrm
        ``h_df_md_sat``): eigen-decomposition of L Φ L', one Satterthwaite df per component,
        pooled as 2E/(E − q), E = Σ ν/(ν − 2). Residual / between-within: the Wald F on those df.
        """
        L = np.atleast_2d(np.asarray(L, float))
        V = vcov(self.fit, self.vcov_method)
        beta = self.fit.beta
        q = L.shape[0]
        if q == 1:
            estimate, se, df, t, p = self.t_test(L[0])
            return t * t, 1.0, df, float(distributions.f_sf(t * t, 1, df))
        if self.df_method == "satterthwaite":
            vals, vecs = np.linalg.eigh(L @ V @ L.T)
            order = np.argsort(vals)[::-1]
            vals, vecs = vals[order], vecs[:, order]
            tol = max(np.sqrt(np.finfo(float).eps) * vals[0], 0)
            rank = int(np.sum(vals > tol))
            rows = vecs.T @ L
            if rank == 1:
                return self.f_test(rows[:1])
            tsq = (rows[:rank] @ beta) ** 2 / vals[:rank]
            F = float(np.sum(tsq) / rank)
            nus = np.array([self._df_1d(rows[i]) for i in range(rank)])
            if np.all(np.abs(np.diff(nus)) < np.sqrt(np.finfo(float).eps)):
                df = float(np.mean(nus))
            elif np.any(nus <= 2):
                df = 2.0
            else:
                E = float(np.sum(nus / (nus - 2)))
                df = 2 * E / (E - rank)
            return F, float(rank), df, float(distributions.f_sf(F, rank, df))
        lam = 1.0
        if self.df_method == "kenward_roger":
            df, lam = _kr_df(self.fit, L)
        elif self.df_method == "residual":
            df = float(self.fit.n_obs - len(beta))
        else:
            kinds = self.kinds or []
            df = _between_within(self.fit, kinds, np.any(L != 0, axis=0), kinds.count("between"),
                                 kinds.count("within"))
        est = L @ beta
        F = float(lam / q * est @ np.linalg.solve(L @ V @ L.T, est))
        return F, float(q), float(df), float(distributions.f_sf(F, q, df))
