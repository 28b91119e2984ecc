"""Kernels of the subgroup analysis: a treatment effect from a linear or logistic model, aliased
columns dropped as R does, and the nested-model tests of a treatment × subgroup interaction.

Matches R
---------
* :func:`independent_columns` — the columns R's ``lm`` / ``glm`` keep: a column that is (within
  1e-7 of its norm) a linear combination of the columns before it is *aliased* (R reports an
  ``NA`` coefficient and leaves it out of the fit), as LINPACK's ``dqrdc2`` with R's
  ``tol = 1e-7`` decides it. A subgroup level where one arm is absent makes its interaction
  column aliased; the fit and the tests then use the remaining columns, as in R.
* :func:`linear_effect` — one coefficient of ``lm(y ~ ...)``: estimate, SE, t on the residual df,
  ``confint.lm`` interval (estimate ± t quantile × SE).
* :func:`logistic_effect` — one coefficient of ``glm(y ~ ..., family = binomial)`` (via
  :func:`ketastats.stats.glm.logistic`, R's iterations): Wald z and ``confint.default``.
* :func:`f_test` — ``anova(lm(reduced), lm(full))``: F = ((RSS₀ − RSS₁)/(df₀ − df₁)) / (RSS₁/df₁)
  on (df₀ − df₁, df₁) degrees of freedom (df = n − rank).
* :func:`lr_test` — ``anova(glm(reduced), glm(full), test = "LRT")``: the deviance difference on
  the rank difference, each deviance taken where R's ``glm.fit`` stops (relative deviance change
  below 1e-8, at most 25 iterations). Under (quasi-)complete separation the maximum-likelihood
  estimates do not exist but the deviance still converges (to its infimum) and R's test is that
  of the deviances at its stopping point; this kernel stops at the same point, so the statistic
  agrees with R to about 1e-7 there as well.

Example
-------
>>> import numpy as np
>>> X = np.column_stack([np.ones(6), [1, 1, 1, 0, 0, 0.], [1, 0, 1, 0, 1, 0.]])
>>> independent_columns(np.column_stack([X, X[:, 1]]))   # a repeated column is aliased
[0, 1, 2]
>>> round(linear_effect(X[:, :2], np.array([5.0, 6, 7, 1, 2, 4]), 1).estimate, 6)   # = t.test's difference
3.666667
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ketastats.stats import distributions

R_QR_TOLERANCE = 1e-7        # lm.fit / glm.fit's tol for aliased columns
R_GLM_EPSILON = 1e-8         # glm.control() defaults
R_GLM_MAXIT = 25
DBL_EPSILON = 2.220446049250313e-16


@dataclass
class Effect:
    """One model coefficient: estimate, SE, statistic (t or z), df (t only), p, and the interval."""

    estimate: float
    std_error: float
    statistic: float
    df: float | None
    p_value: float
    conf_low: float
    conf_high: float


def independent_columns(X: np.ndarray, tol: float = R_QR_TOLERANCE) -> list[int]:
    """Indices of the columns of ``X`` that R's QR (``dqrdc2``, limited pivoting) keeps, in order.

    Column j is dropped when the part of it orthogonal to the columns kept before it has a norm
    below ``tol`` times its own norm (an all-zero column is always dropped).

    >>> independent_columns(np.array([[1.0, 0, 2], [1, 0, 2], [1, 1, 2]]))
    [0, 1]
    """
    X = np.asarray(X, dtype=float)
    kept: list[int] = []
    basis = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        column = X[:, j]
        norm = float(np.linalg.norm(column))
        if norm == 0:
            continue
        residual = column - basis @ (basis.T @ column)
        residual = residual - basis @ (basis.T @ residual)   # re-orthogonalised once (stable Gram-Schmidt)
        size = float(np.linalg.norm(residual))
        if size > tol * norm:
            kept.append(j)
            basis = np.column_stack([basis, residual / size])
    return kept


def linear_effect(X: np.ndarray, y: np.ndarray, index: int, conf_level: float = 0.95) -> Effect:
    """Coefficient ``index`` of the least-squares fit of ``y`` on ``X``, as ``summary(lm)`` and ``confint``.

    Aliased columns (other than ``index``) are dropped first (:func:`independent_columns`).
    Raises ``ValueError`` when the coefficient is aliased, no residual df is left, or the fit is
    perfect (RSS = 0: R's t would be infinite or undefined).
    """
    from ketastats.stats.glm import ols

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    keep = independent_columns(X)
    if index not in keep:
        raise ValueError("the treatment effect is not estimable (aliased with other terms)")
    if len(y) <= len(keep):
        raise ValueError(f"{len(y)} observations leave no residual degrees of freedom for {len(keep)} coefficients")
    fit = ols(X[:, keep], y)
    if fit.deviance <= 1e-24 * max(1.0, float(y @ y)):
        raise ValueError("the outcome is fitted exactly (no residual variance)")
    position = keep.index(index)
    estimate, se = float(fit.coef[position]), float(fit.std_error[position])
    half = float(distributions.t_ppf((1 + conf_level) / 2, fit.df_residual)) * se
    return Effect(estimate, se, float(fit.statistic[position]), float(fit.df_residual),
                  float(fit.p_value[position]), estimate - half, estimate + half)


def logistic_effect(X: np.ndarray, y: np.ndarray, index: int, conf_level: float = 0.95) -> Effect:
    """Coefficient ``index`` (log odds ratio) of ``glm(y ~ X, binomial)``: Wald z, ``confint.default``.

    Aliased columns are dropped first. Raises ``ValueError`` (from
    :func:`ketastats.stats.glm.logistic`) under separation (e.g. a zero cell of the 2 × 2 table),
    for a constant outcome, or when the coefficient is aliased.

    >>> X = np.column_stack([np.ones(8), [1, 1, 1, 1, 0, 0, 0, 0.]])
    >>> round(logistic_effect(X, np.array([1, 1, 1, 0, 1, 0, 0, 0.]), 1).estimate, 6)   # log(9)
    2.197225
    """
    from ketastats.stats.glm import logistic

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    keep = independent_columns(X)
    if index not in keep:
        raise ValueError("the treatment effect is not estimable (aliased with other terms)")
    with np.errstate(divide="ignore", invalid="ignore"):   # a weight of 0 under separation: glm.logistic says so
        fit = logistic(X[:, keep], y)
    position = keep.index(index)
    estimate, se = float(fit.coef[position]), float(fit.std_error[position])
    half = float(distributions.norm_ppf((1 + conf_level) / 2)) * se
    return Effect(estimate, se, float(fit.statistic[position]), None, float(fit.p_value[position]),
                  estimate - half, estimate + half)


def f_test(reduced: np.ndarray, full: np.ndarray, y: np.ndarray) -> tuple[float, int, int, float]:
    """``anova(lm(y ~ reduced), lm(y ~ full))``: (F, numerator df, denominator df, p).

    Both models after dropping aliased columns; the numerator df is the rank difference. Raises
    ``ValueError`` when the full model adds nothing estimable (rank difference 0: every
    subgroup level lacks an arm) or leaves no residual df.

    >>> X0 = np.column_stack([np.ones(8), [1, 1, 0, 0, 1, 1, 0, 0.], [0, 0, 0, 0, 1, 1, 1, 1.]])
    >>> X1 = np.column_stack([X0, X0[:, 1] * X0[:, 2]])
    >>> [round(v, 6) for v in f_test(X0, X1, np.array([1, 2, 3, 5, 2, 9, 4, 4.]))]   # R: 1.1852 on 1, 4 df
    [1.185185, 1, 4, 0.337502]
    """
    y = np.asarray(y, dtype=float)
    rss, rank = [], []
    for X in (reduced, full):
        X = np.asarray(X, dtype=float)[:, independent_columns(X)]
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        residual = y - X @ coef
        rss.append(float(residual @ residual))
        rank.append(X.shape[1])
    df1, df2 = rank[1] - rank[0], len(y) - rank[1]
    if df1 <= 0:
        raise ValueError("no interaction term is estimable (fewer than two subgroup levels have both arms)")
    if df2 <= 0:
        raise ValueError("the interaction model leaves no residual degrees of freedom")
    if rss[1] <= 0:
        raise ValueError("the interaction model fits the outcome exactly (no residual variance)")
    statistic = max(rss[0] - rss[1], 0.0) / df1 / (rss[1] / df2)
    return statistic, df1, df2, float(distributions.f_sf(statistic, df1, df2))


def glm_deviance(X: np.ndarray, y: np.ndarray) -> float:
    """The binomial deviance where R's ``glm.fit`` (logit link, default control) stops.

    R's iterations: start ``μ = (y + 0.5)/2``, weighted least squares on the working response,
    stop when ``|dev − dev_old| / (|dev| + 0.1) < 1e-8`` or after 25 iterations (R warns then;
    the deviance is still the one ``anova`` uses). Fitted probabilities are kept within machine
    epsilon of 0 and 1 as R's ``binomial()$linkinv`` keeps them, so separation gives the deviance's
    limit instead of an error. ``X`` must have full column rank (:func:`independent_columns`).

    >>> X = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> round(glm_deviance(X, np.array([0, 0, 1, 0, 1, 0, 1, 1.])), 6)
    8.449581
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.shape[1] == 0:
        return _deviance(y, np.full(len(y), 0.5))
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev_old = _deviance(y, mu)
    dev = dev_old
    for _ in range(R_GLM_MAXIT):
        mu_eta = np.maximum(mu * (1 - mu), DBL_EPSILON)
        z = eta + (y - mu) / mu_eta
        sw = np.sqrt(mu_eta)
        q, r = np.linalg.qr(X * sw[:, None])
        beta = np.linalg.solve(r, q.T @ (z * sw))
        eta = X @ beta
        mu = _linkinv(eta)
        dev = _deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < R_GLM_EPSILON:
            break
        dev_old = dev
    return dev


def lr_test(reduced: np.ndarray, full: np.ndarray, y: np.ndarray) -> tuple[float, int, float]:
    """``anova(glm(y ~ reduced, binomial), glm(y ~ full, binomial), test = "LRT")``: (χ², df, p).

    Aliased columns dropped from each model; df = rank difference; deviances from
    :func:`glm_deviance` (R's stopping point, also under separation). Raises ``ValueError`` when
    no interaction column is estimable.

    >>> X0 = np.column_stack([np.ones(8), np.arange(1, 9.)])
    >>> [round(v, 6) for v in lr_test(X0[:, :1], X0, np.array([0, 0, 1, 0, 1, 0, 1, 1.]))]
    [2.640774, 1, 0.104153]
    """
    deviance, rank = [], []
    for X in (reduced, full):
        X = np.asarray(X, dtype=float)[:, independent_columns(X)]
        deviance.append(glm_deviance(X, y))
        rank.append(X.shape[1])
    df = rank[1] - rank[0]
    if df <= 0:
        raise ValueError("no interaction term is estimable (fewer than two subgroup levels have both arms)")
    statistic = max(deviance[0] - deviance[1], 0.0)
    return statistic, df, float(distributions.chi2_sf(statistic, df))


def _linkinv(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$linkinv`` (C ``logit_linkinv``): the logistic, kept in [ε, 1 − ε]."""
    from scipy.special import expit

    return np.clip(expit(eta), DBL_EPSILON, 1 - DBL_EPSILON)


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Binomial deviance of 0/1 ``y`` at fitted ``mu`` (R's ``binomial()$dev.resids`` summed)."""
    terms = np.where(y == 1, -np.log(mu), -np.log1p(-mu))
    return float(2 * np.sum(terms))


def cut_labels(cuts: list[float]) -> list[str]:
    """Labels of the intervals ``[cut_k, cut_{k+1})`` a numeric value falls in (left-closed, as R's
    ``cut(x, c(-Inf, cuts, Inf), right = FALSE)``): ``< 50``, ``50 to < 60``, ``≥ 60``.

    >>> cut_labels([50]), cut_labels([40, 60])
    (['< 50', '≥ 50'], ['< 40', '40 to < 60', '≥ 60'])
    """
    text = [f"{c:g}" for c in cuts]
    return [f"< {text[0]}"] + [f"{a} to < {b}" for a, b in zip(text, text[1:])] + [f"≥ {text[-1]}"]


def cut_values(values: np.ndarray, cuts: list[float]) -> list[str | None]:
    """Each value's :func:`cut_labels` label (None for a missing value).

    >>> cut_values(np.array([49.0, 50.0, np.nan]), [50])
    ['< 50', '≥ 50', None]
    """
    labels = cut_labels(cuts)
    positions = np.searchsorted(np.asarray(cuts, dtype=float), np.asarray(values, dtype=float), side="right")
    return [None if math.isnan(v) else labels[int(k)] for v, k in zip(np.asarray(values, dtype=float), positions)]
