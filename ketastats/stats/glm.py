"""Ordinary least squares and logistic regression fitted to convergence, with Wald and exact
profile-likelihood intervals and likelihood-ratio tests (pure numpy / scipy kernels).

Matches R
---------
* :func:`ols` — ``lm(y ~ ...)``: estimates, ``σ² = RSS / (n − p)``, standard errors from
  ``σ²(X'X)⁻¹``, t on n − p df, ``confint.lm`` (estimate ± t quantile × SE).
* :func:`logistic` — ``glm(y ~ ..., family = binomial)`` with R's default control: the IRLS
  iterations of ``glm.fit`` reproduced step by step (start ``μ = (y + 0.5)/2``, stop at a relative
  deviance change below 1e-8), so coefficients and standard errors are R's to rounding error.
  z = estimate / SE, p = 2Φ(−|z|), Wald interval estimate ± z × SE (``confint.default``).
  Profile fits and likelihood-ratio refits are iterated to convergence (Newton, step below 1e-10).
* :func:`profile_interval` — the profile-likelihood interval: the values b where the signed
  root ``sign(b − β̂) √(D(b) − D(β̂))`` of the profile deviance equals ``∓ z_{1−α/2}``, each
  root found to 1e-10. ``MASS::confint.glm`` targets the same quantity but approximates it by
  spline interpolation over a grid of profile fits (accurate to about 1e-4 relative); the
  reference compares with MASS at a documented looser tolerance and with R's exact root
  (``uniroot`` over ``glm(offset = ...)`` fits) at 1e-6.
* :func:`likelihood_ratio` — ``drop1(fit, test = "LRT")``: deviance of the model without a term
  minus the full model's, on the term's number of columns.

A logistic fit that does not converge, or where fitted probabilities reach 0 or 1 (complete or
quasi-complete separation), raises ``ValueError`` with the reason instead of returning the huge
estimates statsmodels would.

Example
-------
>>> import numpy as np
>>> X = np.column_stack([np.ones(8), [1, 2, 3, 4, 5, 6, 7, 8.]])
>>> fit = logistic(X, np.array([0, 0, 1, 0, 1, 0, 1, 1.]))
>>> np.round(fit.coef, 6).tolist()
[-2.67338, 0.594084]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ITERATIONS = 100
R_GLM_EPSILON = 1e-8  # glm.control() defaults
R_GLM_MAXIT = 25
STEP_TOLERANCE = 1e-10
SEPARATION_EPS = 1e-10


@dataclass
class Fit:
    """A fitted linear (``family="gaussian"``, :func:`ols`) or logistic (``"binomial"``,
    :func:`logistic`) regression: the columns of R's ``summary(fit)$coefficients``.

    ``coef``, ``std_error``, ``statistic`` (t for OLS, Wald z for logistic) and ``p_value``
    (two-sided) are arrays in the column order of the design matrix. ``df_residual`` is
    n − p; ``deviance`` is the RSS (OLS) or the binomial deviance −2 log L (logistic, R's
    ``deviance(fit)``); ``log_lik`` is R's ``logLik(fit)``; ``sigma`` is the residual standard
    error (OLS only) and ``iterations`` R's ``fit$iter`` (logistic only).
    """

    family: str
    coef: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    df_residual: int
    deviance: float
    log_lik: float
    n: int
    sigma: float | None = None
    iterations: int = 0


def _check_rank(X: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``X`` has more rows than columns and full column rank.

    R would instead drop aliased columns (``NA`` coefficients); ketastats reports the problem.
    """
    if X.shape[0] <= X.shape[1]:
        raise ValueError(f"the model has {X.shape[1]} coefficients but only {X.shape[0]} observations")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("the design matrix is rank deficient (a predictor is constant or collinear)")


def ols(X: np.ndarray, y: np.ndarray) -> Fit:
    """Ordinary least squares of ``y`` on the design matrix ``X`` (intercept column included),
    as ``stats::lm`` + ``summary.lm``.

    Solved by QR (as R's ``lm.fit``); ``σ² = RSS / (n − p)``, SE from ``σ² (X'X)⁻¹``, t on
    n − p df, ``log_lik`` is the Gaussian ML log-likelihood R's ``logLik.lm`` reports. Raises
    ``ValueError`` for n ≤ p or a rank-deficient ``X``. Returns a :class:`Fit`.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> fit = ols(X, np.array([1.2, 1.9, 3.2, 3.8, 5.1, 6.3, 6.8, 8.1]))
    >>> fit.coef.round(6).tolist(), fit.std_error.round(6).tolist(), round(fit.sigma, 6)
    ([0.082143, 0.992857], [0.161532, 0.031988], 0.207307)
    """
    from ketastats.stats import distributions

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    _check_rank(X)
    n, p = X.shape
    q, r = np.linalg.qr(X)
    coef = np.linalg.solve(r, q.T @ y)
    residuals = y - X @ coef
    rss = float(residuals @ residuals)
    df = n - p
    sigma2 = rss / df
    r_inv = np.linalg.inv(r)
    se = np.sqrt(sigma2 * np.sum(r_inv ** 2, axis=1))
    t = coef / se
    pvalues = 2 * distributions.t_sf(np.abs(t), df)
    log_lik = -n / 2 * (math.log(2 * math.pi) + math.log(rss / n) + 1)
    return Fit("gaussian", coef, se, t, pvalues, df, rss, log_lik, n, sigma=math.sqrt(sigma2))


def _newton(X: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray | None = None
            ) -> tuple[np.ndarray, int]:
    """IRLS (Newton–Raphson for the logit link) from R's start ``μ = (y + 0.5) / 2``, with step halving
    when the deviance does not decrease (as ``glm.fit``); iterated to a coefficient step below 1e-10."""
    from scipy.special import expit

    n, p = X.shape
    if p == 0:
        return np.zeros(0), 0
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    w = mu * (1 - mu)
    z = eta - offset + (y - mu) / w
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]
    deviance = _deviance(X, y, beta, offset)
    for iteration in range(1, MAX_ITERATIONS + 1):
        mu = expit(X @ beta + offset)
        w = mu * (1 - mu)
        information = X.T @ (X * w[:, None])
        step = np.linalg.lstsq(information, X.T @ (y - mu), rcond=None)[0]
        for _ in range(60):
            candidate = beta + step
            new_deviance = _deviance(X, y, candidate, offset)
            if math.isfinite(new_deviance) and new_deviance <= deviance + 1e-12 * (1 + abs(deviance)):
                break
            step = step / 2
        beta, deviance = candidate, new_deviance
        if np.max(np.abs(step)) < STEP_TOLERANCE * (1 + np.max(np.abs(beta))):
            return beta, iteration
    raise ValueError(f"the logistic regression did not converge in {MAX_ITERATIONS} iterations "
                     "(complete or quasi-complete separation?)")


def _deviance(X: np.ndarray, y: np.ndarray, beta: np.ndarray, offset: np.ndarray) -> float:
    """Binomial deviance of 0/1 ``y`` at linear predictor ``X beta + offset``."""
    eta = X @ beta + offset
    # −2 log L for 0/1 outcomes, computed stably: log(1 + e^η) − yη
    return float(2 * np.sum(np.logaddexp(0, eta) - y * eta))


def _irls_r(X: np.ndarray, y: np.ndarray, epsilon: float = R_GLM_EPSILON, maxit: int = R_GLM_MAXIT
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """R's ``glm.fit`` for the logit link, iteration for iteration: start ``μ = (y + 0.5) / 2``, weighted
    least squares on the working response, stop when ``|dev − dev_old| / (|dev| + 0.1) < epsilon``.

    Returns (coefficients, the weights ``μ(1 − μ)`` of the last iteration's least-squares fit — R's
    ``summary.glm`` takes the standard errors from that fit —, iterations)."""
    from scipy.special import expit

    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev_old = _binomial_deviance(y, mu)
    for iteration in range(1, maxit + 1):
        w = mu * (1 - mu)
        z = eta + (y - mu) / w
        sw = np.sqrt(w)
        q, r = np.linalg.qr(X * sw[:, None])
        beta = np.linalg.solve(r, q.T @ (z * sw))
        eta = X @ beta
        mu = expit(eta)
        dev = _binomial_deviance(y, mu)
        if not math.isfinite(dev):
            raise ValueError("the logistic regression diverged: fitted probabilities reached 0 or 1, so the outcome "
                             "is (quasi-)completely separated by the predictors")
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return beta, w, iteration
        dev_old = dev
    raise ValueError(f"the logistic regression did not converge in {maxit} iterations (as R's glm would warn); "
                     "complete or quasi-complete separation?")


def _binomial_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Binomial deviance of 0/1 ``y`` at fitted probabilities ``mu``; ``inf`` when a μ reaches 0 or 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y == 1, -np.log(mu), -np.log1p(-mu))
    return float(2 * np.sum(terms))


def logistic(X: np.ndarray, y: np.ndarray) -> Fit:
    """Logistic regression of 0/1 ``y`` on ``X`` exactly as R's default ``glm(family = binomial)``.

    The coefficients are R's (same start, same iterations, same stopping rule: relative deviance
    change below 1e-8), and so are the standard errors (from the last iteration's weighted least
    squares, as ``summary.glm``); they differ from the exact maximum-likelihood estimate by far less
    than the standard error, but reproducing R's stopping point is what makes ``confint`` (which
    starts from R's fit) and the coefficients agree with R to many digits.

    ``X`` is the n × p design matrix (intercept column included), ``y`` the 0/1 outcome. Raises
    ``ValueError`` for a non-0/1 or constant outcome, a rank-deficient ``X``, non-convergence in
    R's 25 iterations, or fitted probabilities within 1e-10 of 0 or 1 (separation; R would only
    warn). Returns a :class:`Fit` with Wald z statistics and ``p = 2 Φ(−|z|)``.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> fit = logistic(X, np.array([0, 0, 1, 0, 1, 0, 1, 1.]))   # R: glm(y ~ x, binomial)
    >>> fit.std_error.round(6).tolist(), round(fit.deviance, 6), fit.iterations
    ([2.120728, 0.432242], 8.449581, 4)
    """
    from scipy.special import expit

    from ketastats.stats import distributions

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    _check_rank(X)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("a logistic regression needs a 0 / 1 (boolean) outcome")
    if y.min() == y.max():
        raise ValueError("the outcome takes a single value; a logistic regression cannot be fitted")
    offset = np.zeros(len(y))
    beta, w, iterations = _irls_r(X, y)
    mu = expit(X @ beta)
    if np.any(mu < SEPARATION_EPS) or np.any(mu > 1 - SEPARATION_EPS):
        raise ValueError("fitted probabilities of 0 or 1 occurred: the outcome is (quasi-)completely separated "
                         "by the predictors, so the maximum-likelihood estimates do not exist")
    information = X.T @ (X * w[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(information)))
    z = beta / se
    deviance = _deviance(X, y, beta, offset)
    return Fit("binomial", beta, se, z, 2 * distributions.norm_sf(np.abs(z)), X.shape[0] - X.shape[1], deviance,
               -deviance / 2, X.shape[0], iterations=iterations)


def profile_interval(X: np.ndarray, y: np.ndarray, fit: Fit, index: int, conf_level: float = 0.95
                     ) -> tuple[float, float]:
    """Exact profile-likelihood interval of coefficient ``index`` of a logistic ``fit``.

    ``X`` and ``y`` are the data ``fit`` came from. Each bound is the root of the signed root
    profile deviance ``sign(b − β̂) √(D(b) − D(β̂)) = ∓ z_{1−α/2}``, the other coefficients refitted
    with ``X[:, index] * b`` as offset; the bracket doubles outward from ``β̂ ± 2 z SE`` and the
    root is polished by Brent to 1e-12. This is the quantity ``MASS::confint.glm`` (R ≤ 4.3) /
    ``stats::confint.glm`` (R ≥ 4.4) approximate by spline interpolation (see
    :func:`profile_interval_mass` for the bit-for-bit port). A bound that is not reached after 60
    doublings (a flat profile, e.g. under separation of the reduced model) is ±inf. Returns
    ``(lower, upper)``.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> y = np.array([0, 0, 1, 0, 1, 0, 1, 1.])
    >>> [round(b, 5) for b in profile_interval(X, y, logistic(X, y), 1)]   # MASS: -0.10788 1.76222
    [-0.1079, 1.76209]
    """
    from scipy import optimize

    from ketastats.stats import distributions

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    others = np.delete(X, index, axis=1)
    start_others = np.delete(fit.coef, index)
    cutoff = float(distributions.norm_ppf((1 + conf_level) / 2))
    beta_hat, se = float(fit.coef[index]), float(fit.std_error[index])

    def signed_root(b: float) -> float:
        offset = X[:, index] * b
        beta, _ = _newton(others, y, offset, start_others)
        excess = max(_deviance(others, y, beta, offset) - fit.deviance, 0.0)
        return math.copysign(math.sqrt(excess), b - beta_hat)

    bounds = []
    for sign in (-1, 1):
        target = sign * cutoff
        step = 2 * cutoff * se
        far = beta_hat + sign * step
        for _ in range(60):
            try:
                value = signed_root(far)
            except (ValueError, np.linalg.LinAlgError):
                value = math.nan
            if math.isnan(value):
                raise ValueError("the profile likelihood could not be evaluated far enough from the estimate")
            if sign * (value - target) >= 0:
                break
            far = beta_hat + sign * (abs(far - beta_hat) * 2)
        else:
            bounds.append(-math.inf if sign < 0 else math.inf)
            continue
        lo, hi = sorted((beta_hat, far))
        bounds.append(optimize.brentq(lambda b: signed_root(b) - target, lo, hi, xtol=1e-12, rtol=1e-14,
                                      maxiter=200))
    return bounds[0], bounds[1]


def likelihood_ratio(X: np.ndarray, y: np.ndarray, fit: Fit, columns: list[int]) -> tuple[float, int, float]:
    """Likelihood-ratio test for dropping ``columns`` of ``X`` from a logistic ``fit``.

    As one row of R's ``drop1(fit, test = "LRT")`` (or ``anova(reduced, fit, test = "LRT")``): the
    reduced model is refitted with R's ``glm.fit`` iterations, the statistic is the deviance
    increase (floored at 0) on ``len(columns)`` df. Dropping every column compares with the
    empty model (deviance ``2 n log 2``). Returns ``(statistic, df, p)``.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> y = np.array([0, 0, 1, 0, 1, 0, 1, 1.])
    >>> [round(v, 6) for v in likelihood_ratio(X, y, logistic(X, y), [1])]   # R: drop1(m, test = "LRT")
    [2.640774, 1, 0.104153]
    """
    from ketastats.stats import distributions

    reduced = np.delete(np.asarray(X, dtype=float), columns, axis=1)
    offset = np.zeros(len(y))
    if reduced.shape[1]:  # refitted as drop1 does: glm.fit with the default control
        beta, _, _ = _irls_r(reduced, np.asarray(y, dtype=float))
        deviance = _deviance(reduced, np.asarray(y, dtype=float), beta, offset)
    else:
        deviance = _deviance(reduced, np.asarray(y, dtype=float), np.zeros(0), offset)
    statistic = max(deviance - fit.deviance, 0.0)
    return statistic, len(columns), float(distributions.chi2_sf(statistic, len(columns)))


# --- MASS::confint.glm (profile.glm + confint.profile.glm), reproduced step by step ---------------

def profile_interval_mass(X: np.ndarray, y: np.ndarray, fit: Fit, index: int, conf_level: float = 0.95,
                          maxsteps: int = 10) -> tuple[float, float]:
    """The interval ``confint(glm_fit)`` prints in R ≤ 4.3 (``MASS:::confint.glm``) for a logistic fit.

    ``profile.glm(alpha = (1 − level) / 4)``: the signed root deviance z is evaluated at
    ``β̂ ± k · del · SE`` (``del = zmax / 5``, ``zmax = √χ²₁(1 − alpha)``, k = 1, 2, … while
    |z| < zmax and k < maxsteps), refitting the other coefficients with the offset; then
    ``confint.profile.glm``: an FMM cubic spline of z against the parameter values evaluated at
    ``3 × (number of points)`` equally spaced values, and linear interpolation of that curve at
    ``z = qnorm((1 ∓ level) / 2)``. Bounds outside the profiled range are missing, as in R.
    Raises ``ValueError`` when profiling finds a deviance lower than the fit's by more than
    1e-3 (R: "profiling has found a better solution"). Returns ``(lower, upper)``.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> y = np.array([0, 0, 1, 0, 1, 0, 1, 1.])
    >>> [round(b, 5) for b in profile_interval_mass(X, y, logistic(X, y), 1)]   # R 4.2: confint(m)
    [-0.10788, 1.76222]
    """
    from ketastats.stats import distributions

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    alpha = (1 - conf_level) / 4
    zmax = math.sqrt(float(distributions.chi2_ppf(1 - alpha, 1)))
    delta = zmax / 5
    others = np.delete(X, index, axis=1)
    beta_hat, se = float(fit.coef[index]), float(fit.std_error[index])
    zs, values = [0.0], [beta_hat]
    for sign in (-1, 1):
        step, z = 0, 0.0
        while True:
            step += 1
            if not (step < maxsteps and abs(z) < zmax):
                break
            b = beta_hat + sign * step * delta * se
            offset = X[:, index] * b
            beta, _ = _newton(others, y, offset)
            excess = _deviance(others, y, beta, offset) - fit.deviance
            if excess <= -1e-3:
                raise ValueError("profiling has found a better solution, so the original fit had not converged")
            z = sign * math.sqrt(max(excess, 0.0))
            zs.append(z)
            values.append(b)
    order = np.argsort(np.asarray(zs), kind="stable")
    par, zval = np.asarray(values)[order], np.asarray(zs)[order]
    grid_x, grid_y = _r_spline(par, zval, 3 * len(par))
    cut = float(distributions.norm_ppf((1 - conf_level) / 2))
    return _r_approx(grid_y, grid_x, cut), _r_approx(grid_y, grid_x, -cut)


def _regularize(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``regularize.values(x, y, ties = mean)``: sort by x, average y over tied x."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    unique, inverse = np.unique(x, return_inverse=True)
    if len(unique) == len(x):
        return x, y
    sums = np.zeros(len(unique))
    np.add.at(sums, inverse, y)
    return unique, sums / np.bincount(inverse)


def _r_spline(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """R's ``spline(x, y, n, method = "fmm")``: (xout, yout) on ``seq(min(x), max(x), length.out = n)``."""
    x, y = _regularize(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    b, c, d = _fmm_coefficients(x, y)
    xout = np.linspace(x[0], x[-1], n)
    yout = np.empty(n)
    for k, u in enumerate(xout):
        i = int(np.searchsorted(x, u, side="right") - 1)
        i = min(max(i, 0), len(x) - 1)
        dx = u - x[i]
        yout[k] = y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
    return xout, yout


def _fmm_coefficients(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forsythe–Malcolm–Moler cubic spline coefficients (R's ``fmm_spline`` in splines.c)."""
    n = len(x)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 2:
        raise ValueError("a spline needs at least two points")
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, n - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[n - 1] = -d[n - 2]
    c[0] = c[n - 1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[n - 1] = c[n - 1] / b[n - 1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[n - 1])
    for i in range(n - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[n - 1] = 3.0 * c[n - 1]
    d[n - 1] = d[n - 2]
    return b, c, d


def _r_approx(x: np.ndarray, y: np.ndarray, v: float) -> float:
    """R's ``approx(x, y, xout = v)$y`` (linear, rule = 1: missing outside the range)."""
    x, y = _regularize(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if not x[0] <= v <= x[-1]:
        return math.nan
    j = int(np.searchsorted(x, v, side="left"))
    if x[j] == v:
        return float(y[j])
    i = j - 1
    return float(y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i])))
