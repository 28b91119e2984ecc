r"""Survival-analysis kernels matched to R's ``survival`` package (arrays in, arrays out).

Role
----
Pure NumPy / SciPy kernels behind the ``kaplan_meier``, ``logrank`` and ``cox`` analyses:
no pandas, no I/O. Each function reproduces one R function of ``survival`` (3.5-3), checked
against ``tests/reference/survival/survival.json`` (written by
``tests/reference/survival/make_reference.R``):

=========================  ==========================================================
:func:`km_curve`           ``survfit(Surv(time, status) ~ 1, conf.type = ...)``
:func:`km_median`          the median and its CI of ``print(survfit)`` (``survmean``)
:func:`km_at`              ``summary(survfit, times = ...)``
:func:`logrank_test`       ``survdiff(Surv(time, status) ~ group [+ strata(s)])`` (rho = 0)
:func:`cox_fit`            ``coxph(..., ties = "efron" | "breslow")``: coefficients,
                           variance, log-likelihoods, score test
:func:`cox_zph`            ``cox.zph(fit, transform = "km" | "identity" | "rank" | "log")``
                           (the survival >= 3.0 score test, not the older correlation form)
:func:`concordance`        ``concordance(fit)`` / ``fit$concordance`` (Harrell's C, its
                           infinitesimal-jackknife standard error)
=========================  ==========================================================

Formulas
--------
*Kaplan-Meier.* At each distinct time :math:`t_j` with :math:`n_j` at risk (time
:math:`\ge t_j`) and :math:`d_j` events, :math:`\hat S(t) = \prod_{t_j \le t} (1 - d_j/n_j)`.
Greenwood: :math:`\widehat{\mathrm{se}}\{-\log \hat S(t)\} = \sqrt{\sum_{t_j\le t} d_j /
\{n_j (n_j - d_j)\}}` (R's ``std.err``; infinite once :math:`\hat S` reaches 0); the standard
error of :math:`\hat S` is :math:`\hat S` times it. Intervals (R's ``survfit_confint``), with
:math:`z = \Phi^{-1}(1-\alpha/2)` and :math:`s` the Greenwood se of :math:`-\log\hat S`:
``log`` :math:`\hat S e^{\pm z s}` (upper capped at 1; missing where :math:`\hat S = 0`);
``log_log`` :math:`\exp\{-\exp(\log(-\log \hat S) \mp z s / \log \hat S)\}` (missing where
:math:`\hat S \in \{0, 1\}`); ``plain`` :math:`\hat S (1 \pm z s)` clipped to [0, 1].

*Median* (R ``survmean``'s ``minmin``): the first time at which the curve is
:math:`\le 0.5` (within :math:`\sqrt{\epsilon}`); when the curve equals 0.5 exactly over an
interval, the midpoint between that time and the next time the curve drops. The CI bounds
apply the same rule to the lower and upper confidence curves; missing when a curve never
reaches 0.5.

*Log-rank* (``survdiff``, rho = 0). Within each stratum and event time, for groups
:math:`g`: :math:`O_g = \sum d_g`, :math:`E_g = \sum d\,n_g/n`,
:math:`V_{gh} = \sum d (n-d)/(n-1)\cdot n_g/n\,(\delta_{gh} - n_h/n)`, summed over strata;
:math:`\chi^2 = (O-E)_{-1}^\top V_{-1,-1}^{-1} (O-E)_{-1}` over groups with :math:`E > 0`,
dropping the first; df = (groups with :math:`E > 0`) − 1.

*Cox.* Partial likelihood with Efron (default, as ``coxph``) or Breslow ties, strata
allowed; Newton-Raphson from 0 with step halving (as R's ``coxfit6``), iterated to full
convergence (R stops at a relative log-likelihood change of 1e-9, i.e. within about 1e-9 of
this optimum). Variance = inverse information at the estimate; Wald
:math:`\hat\beta^\top I \hat\beta`; likelihood ratio :math:`2\{l(\hat\beta) - l(0)\}`;
score (log-rank) test :math:`U(0)^\top I(0)^{-1} U(0)`.

*cox.zph* (survival >= 3.0). With :math:`g(t)` the transformed time centred at its mean over
events (``km``: :math:`1 - \hat S(t-)` of the pooled Kaplan-Meier), the score test of adding
:math:`\beta_g\, x\, g(t)` at :math:`(\hat\beta, 0)`: :math:`U_g = \sum_{\text{events}} g(t_i)
(x_i - \bar x(t_i))` and the full :math:`2p \times 2p` information matrix (the ``zph1``
algorithm, Efron-weighted when the fit used Efron ties). Per term:
:math:`(0, U_{g,j})^\top I_{[\cdot]}^{-1} (0, U_{g,j})` with df = the term's columns; global:
all terms.

*Concordance* (``concordancefit``, ``timewt = "n"``). Comparable pairs: an event at
:math:`t_i` and another subject (same stratum) with time :math:`> t_i`, or censored at
:math:`t_i`; pairs tied in time where both have events are ``tied.y`` and not used.
:math:`C = (\mathrm{conc} + \mathrm{tied.x}/2)/(\mathrm{conc} + \mathrm{disc} + \mathrm{tied.x})`,
higher linear predictor = shorter time; the standard error is R's infinitesimal jackknife
over per-subject pair counts.

Missing data
------------
Callers drop rows with a missing time, status, covariate or group first (and list them);
the kernels assume complete, finite arrays.

Known differences
-----------------
R's ``timefix`` (``aeqSurv``) merges times that differ by less than about 1e-8 relative
before computing; these kernels compare times exactly (identical for integer or
exactly-repeated times). Case weights, ``(start, stop]`` data and penalised terms are not
supported.

Example
-------
>>> import numpy as np
>>> curve = km_curve(np.array([1., 2, 3, 3, 4]), np.array([1, 0, 1, 1, 1]))
>>> curve["surv"].round(4).tolist()
[0.8, 0.8, 0.2667, 0.0]
>>> km_median(curve)[0]
3.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# R's conf.type values ("log-log" spelled log_log), coxph ties methods, cox.zph transforms.
CONF_TYPES = ("log", "log_log", "plain")
TIES = ("efron", "breslow")
ZPH_TRANSFORMS = ("km", "identity", "rank", "log")
# survmean's tolerance for "the curve is at 0.5" (R: sqrt(.Machine$double.eps)).
MEDIAN_TOLERANCE = math.sqrt(np.finfo(float).eps)


# --- Kaplan-Meier ------------------------------------------------------------------------------

def km_curve(time, event, conf_level: float = 0.95, conf_type: str = "log") -> dict[str, np.ndarray]:
    """The Kaplan-Meier curve at every distinct time, as R ``survfit``.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators (1 / True = event, 0 / False = censored).
    conf_level : float
        Confidence level of the pointwise intervals.
    conf_type : {"log", "log_log", "plain"}
        R's ``conf.type`` ("log-log" is spelled ``log_log``).

    Returns
    -------
    dict of numpy.ndarray
        ``time, n_risk, n_event, n_censor, surv, std_err`` (Greenwood se of −log S, R's
        ``std.err``), ``se_surv`` (se of S), ``lower, upper`` (NaN where R gives NA).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) > 0
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}")
    times, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event.astype(float), minlength=len(times))
    n_total = np.bincount(inverse, minlength=len(times)).astype(float)
    n_censor = n_total - n_event
    n_risk = n_total[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        increment = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(increment))
    lower, upper = confidence_bounds(surv, std_err, conf_level, conf_type)
    with np.errstate(invalid="ignore"):
        se_surv = np.where(np.isinf(std_err) & (surv == 0), np.nan, surv * std_err)
    return {"time": times, "n_risk": n_risk, "n_event": n_event, "n_censor": n_censor, "surv": surv,
            "std_err": std_err, "se_surv": se_surv, "lower": lower, "upper": upper}


def confidence_bounds(surv, std_err, conf_level: float, conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """R ``survfit_confint`` (``logse = TRUE``): pointwise bounds of S from the se of −log S.

    ``surv`` is S(t) and ``std_err`` the Greenwood se of −log S (``survfit``'s ``std.err``), both
    arrays; ``conf_type`` one of :data:`CONF_TYPES` (formulas in the module docstring). Returns
    ``(lower, upper)`` arrays, NaN where R gives NA (S = 0 for ``log``; S ∈ {0, 1} for
    ``log_log``). Raises ``ValueError`` for an unknown ``conf_type``.

    >>> import numpy as np
    >>> lower, upper = confidence_bounds(np.array([0.8, 0.5]), np.array([0.25, 0.4]), 0.95, "log_log")
    >>> lower.round(4).tolist(), upper.round(4).tolist()   # R: survival:::survfit_confint
    ([0.1346, 0.1167], [0.9755, 0.7996])
    """
    from ketastats.stats import distributions

    surv = np.asarray(surv, dtype=float)
    se = np.asarray(std_err, dtype=float)
    z = distributions.norm_ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se * surv * z
            half = np.where(np.isinf(se) & (surv == 0), np.nan, half)
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        if conf_type == "log_log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se / np.log(xx)
            return np.exp(-np.exp(np.log(-np.log(xx)) - se2)), np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    raise ValueError(f"conf_type must be one of {CONF_TYPES}")


def _minmin(y: np.ndarray, x: np.ndarray) -> float:
    """R ``survmean``'s median rule (see the module docstring)."""
    keep = ~np.isnan(y) & (y < 0.5 + MEDIAN_TOLERANCE)
    if not keep.any():
        return math.nan
    x, y = x[keep], y[keep]
    if abs(y[0] - 0.5) < MEDIAN_TOLERANCE and (y < y[0]).any():
        return float((x[0] + x[np.flatnonzero(y < y[0])[0]]) / 2)
    return float(x[0])


def km_median(curve: dict[str, np.ndarray]) -> tuple[float, float, float]:
    """(median, lower, upper) of a :func:`km_curve`, as ``print(survfit)``; NaN where R gives NA.

    The median survival time and its confidence limits: the rule of R's ``survmean``
    (``summary(fit)$table[c("median", "0.95LCL", "0.95UCL")]``) applied to the curve and to its
    lower and upper pointwise bounds (so the limits use the curve's ``conf_type`` and level).

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> e = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])
    >>> km_median(km_curve(t, e))   # R: median 6, 0.95LCL 3, 0.95UCL NA
    (6.0, 3.0, nan)
    """
    return (_minmin(curve["surv"], curve["time"]), _minmin(curve["lower"], curve["time"]),
            _minmin(curve["upper"], curve["time"]))


def km_at(curve: dict[str, np.ndarray], times, conf_level: float = 0.95,
          conf_type: str = "log") -> dict[str, np.ndarray]:
    """The curve at given times, as ``summary(survfit, times = ...)`` (but cumulative counts).

    Returns ``time, n_risk`` (subjects with time >= t), ``n_event`` and ``n_censor``
    (cumulative up to and including t), ``surv, std_err`` (of −log S), ``se_surv``,
    ``lower, upper`` and ``beyond`` (True where t is after the last follow-up time: R drops
    such times; every value is then NaN).

    ``curve`` is a :func:`km_curve` result; ``conf_level`` / ``conf_type`` should be the ones
    the curve was computed with. Before the first time S = 1 with bounds (1, 1), as R.

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> at = km_at(km_curve(t, np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])), [0.5, 4, 10])
    >>> at["surv"].round(4).tolist(), at["n_risk"].tolist(), at["beyond"].tolist()
    ([1.0, 0.5625, nan], [10.0, 6.0, nan], [False, False, True])
    """
    times = np.asarray(times, dtype=float)
    idx = np.searchsorted(curve["time"], times, side="right") - 1   # last curve time <= t
    last = curve["time"][-1] if len(curve["time"]) else -np.inf
    beyond = times > last
    take = np.clip(idx, 0, None)

    def pick(values, before):
        out = np.where(idx >= 0, values[take] if len(values) else before, before)
        return np.where(beyond, np.nan, out)

    surv = pick(curve["surv"], 1.0)
    std_err = pick(curve["std_err"], 0.0)
    lower, upper = confidence_bounds(surv, std_err, conf_level, conf_type)
    before = idx < 0   # before the first time: R's survfit0 row (S = 1, bounds 1 and 1, any conf.type)
    lower, upper = np.where(before, 1.0, lower), np.where(before, 1.0, upper)
    with np.errstate(invalid="ignore"):
        se_surv = np.where(np.isinf(std_err) & (surv == 0), np.nan, surv * std_err)
    n_risk_all = curve["n_risk"]
    first_after = np.searchsorted(curve["time"], times, side="left")  # first curve time >= t
    n_risk = np.where(first_after < len(n_risk_all), n_risk_all[np.clip(first_after, 0, len(n_risk_all) - 1)]
                      if len(n_risk_all) else 0.0, 0.0)
    cum_event = np.concatenate([[0.0], np.cumsum(curve["n_event"])])
    cum_censor = np.concatenate([[0.0], np.cumsum(curve["n_censor"])])
    return {"time": times, "n_risk": np.where(beyond, np.nan, n_risk),
            "n_event": np.where(beyond, np.nan, cum_event[idx + 1]),
            "n_censor": np.where(beyond, np.nan, cum_censor[idx + 1]),
            "surv": surv, "std_err": std_err, "se_surv": se_surv,
            "lower": np.where(beyond, np.nan, lower), "upper": np.where(beyond, np.nan, upper),
            "beyond": beyond}


# --- log-rank ----------------------------------------------------------------------------------

@dataclass
class LogrankResult:
    """``survdiff`` output: per-group n, observed, expected; variance matrix; chi-square test.

    ``groups`` are the group codes 0..k−1; ``n``, ``observed`` (``$obs``) and ``expected``
    (``$exp``) are per group, summed over strata; ``variance`` is the k × k ``$var``;
    ``statistic`` is ``$chisq`` on ``df`` = (groups with E > 0) − 1, ``p_value`` its upper-tail
    χ² probability (NaN when df = 0).
    """

    groups: np.ndarray
    n: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    statistic: float
    df: int
    p_value: float


def logrank_test(time, event, group, strata=None) -> LogrankResult:
    """Log-rank test (``survdiff``, rho = 0), optionally stratified.

    ``group`` and ``strata`` are integer codes (0..k-1); groups are reported in code order.
    ``time`` and ``event`` as in :func:`km_curve`. Matches
    ``survival::survdiff(Surv(time, event) ~ group + strata(strata))`` (G-rho family with
    rho = 0). Returns a :class:`LogrankResult`.

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> e = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])
    >>> r = logrank_test(t, e, np.array([0, 1, 0, 1, 0, 1, 0, 1, 1, 1]))
    >>> r.expected.round(6).tolist(), round(r.statistic, 6), r.df   # R: survdiff chisq 4.8861046
    ([1.733333, 5.266667], 4.886105, 1)
    """
    from ketastats.stats import distributions

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) > 0
    group = np.asarray(group, dtype=int)
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata, dtype=int)
    k = int(group.max()) + 1 if len(group) else 0
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    for s in np.unique(strata):
        m = strata == s
        t, e, g = time[m], event[m], group[m]
        for u in np.unique(t[e]):
            at = t >= u
            n_g = np.bincount(g[at], minlength=k).astype(float)
            d_g = np.bincount(g[(t == u) & e], minlength=k).astype(float)
            n, d = n_g.sum(), d_g.sum()
            observed += d_g
            expected += d * n_g / n
            if n > 1:
                factor = d * (n - d) / (n - 1)
                p = n_g / n
                variance += factor * (np.diag(p) - np.outer(p, p))
    used = expected > 0
    if used.sum() < 2:
        statistic = 0.0
    else:
        diff = (observed - expected)[used][1:]
        vv = variance[np.ix_(used, used)][1:, 1:]
        statistic = float(np.sum(np.linalg.solve(vv, diff) * diff))
    df = int(used.sum()) - 1
    p_value = float(distributions.chi2_sf(statistic, df)) if df > 0 else math.nan
    return LogrankResult(np.arange(k), np.bincount(group, minlength=k), observed, expected, variance,
                         statistic, df, p_value)


# --- Cox proportional hazards ------------------------------------------------------------------

@dataclass
class CoxResult:
    """A Cox fit: estimates, variance and the three global tests (as ``summary(coxph)``).

    ``coef`` (log hazard ratios, R's ``coef(fit)``), ``var`` (``vcov(fit)``, inverse
    information), ``loglik0`` / ``loglik`` (``fit$loglik`` at β = 0 and at the estimate),
    ``score_test`` (``fit$score``, the log-rank score test), ``iterations`` and ``converged``
    (Newton steps and whether the step or the log-likelihood change became negligible).
    ``information`` is the observed information at ``coef``; ``linear_predictor`` is
    ``fit$linear.predictors`` (covariates centred at their means, as R).
    """

    coef: np.ndarray
    var: np.ndarray
    loglik0: float
    loglik: float
    score_test: float
    iterations: int
    converged: bool
    information: np.ndarray = field(repr=False)
    linear_predictor: np.ndarray = field(repr=False)
    score: np.ndarray | None = field(default=None, repr=False)
    """The score vector at ``coef`` (the last iterate), as coxph.fit's convergence checks use it."""
    order: np.ndarray | None = field(default=None, repr=False, compare=False)
    """:func:`_order` of the fitted data (reused by :func:`cox_zph` on the same data instead of sorting again)."""

    @property
    def wald_test(self) -> float:
        """Global Wald χ² ``β' var⁻¹ β`` (``fit$wald.test``); df = number of coefficients."""
        return float(self.coef @ np.linalg.solve(self.var, self.coef)) if len(self.coef) else 0.0

    @property
    def lr_test(self) -> float:
        """Global likelihood-ratio χ² ``2 (loglik − loglik0)``; df = number of coefficients."""
        return 2.0 * (self.loglik - self.loglik0)


def _order(time, event, strata):
    """Sort by stratum, then time descending, events after censored at a tie (R's order)."""
    return np.lexsort((event, -time, strata))


def cox_derivatives(time, event, x, eta, strata, ties: str = "efron", gtime=None, order=None):
    """Log-likelihood, score and information at linear predictor ``eta``.

    With ``gtime`` (one value per observation), also the ``zph1`` blocks: the score of
    :math:`x g(t)` and the full 2p × 2p information (see :func:`cox_zph`).

    Vectorised: within a stratum the rows are sorted by descending time, the risk-set sums
    (of r, r x, r x xᵀ) are cumulative sums, and every death contributes its Efron step
    (fractions (k + 1) / m of its tied deaths' sums) or, for Breslow, one step per death time.
    O(n log n) time, O(n p²) memory.

    ``order`` (optional) is :func:`_order` of the data, computed once by callers that evaluate
    several linear predictors. Returns ``(loglik, u, imat)``; with ``gtime``, ``u`` and ``imat``
    cover 2p parameters.
    """
    n, p = x.shape
    q = 2 * p if gtime is not None else p
    loglik = 0.0
    u = np.zeros(q)
    imat = np.zeros((q, q))
    if n == 0:
        return loglik, u, imat
    order = _order(time, event, strata) if order is None else order
    t, d, s, xs, es = time[order], event[order] > 0, strata[order], x[order], eta[order]
    g = None if gtime is None else np.asarray(gtime, dtype=float)[order]
    risk = np.exp(es - es.max())
    shift = es.max()
    bounds = np.flatnonzero(np.diff(s) != 0) + 1
    for lo, hi in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [n]))):
        part = _cox_stratum(t[lo:hi], d[lo:hi], xs[lo:hi], es[lo:hi] - shift, risk[lo:hi],
                            None if g is None else g[lo:hi], ties)
        if part is None:
            continue
        loglik += part[0]
        u += part[1]
        imat += part[2]
    if g is not None:
        imat[p:, :p] = imat[:p, p:].T
    return loglik, u, imat


def _cox_stratum(t, d, xs, es, risk, g, ties):
    """One stratum's terms of :func:`cox_derivatives` (rows sorted by descending time, censored first)."""
    n, p = xs.shape
    dead = np.flatnonzero(d)
    if dead.size == 0:
        return None
    # cumulative sums with a leading zero row: the sum over rows [0, i) is total[i] (written in place)
    rx = xs * risk[:, None]
    rxx = rx[:, :, None] * xs[:, None, :]
    total_r = np.zeros(n + 1)
    total_a = np.zeros((n + 1, p))
    total_c = np.zeros((n + 1, p, p))
    np.cumsum(risk, out=total_r[1:])
    np.cumsum(rx, axis=0, out=total_a[1:])
    np.cumsum(rxx, axis=0, out=total_c[1:])
    # deaths grouped by time; censored rows precede the deaths of their time, so the rows before a
    # time's first death are the earlier (later-time) rows plus the censored rows at that time
    new_time = np.ones(dead.size, dtype=bool)
    new_time[1:] = t[dead[1:]] != t[dead[:-1]]
    first = np.flatnonzero(new_time)
    ndead = np.diff(np.append(first, dead.size))
    start = dead[first]
    denom, a, cmat = total_r[start], total_a[start], total_c[start]
    denom2 = np.add.reduceat(risk[dead], first)
    a2 = np.add.reduceat(rx[dead], first, axis=0)
    c2 = np.add.reduceat(rxx[dead], first, axis=0)
    xsum = np.add.reduceat(xs[dead], first, axis=0)
    loglik = float(np.sum(es[dead]))
    if ties == "breslow":
        step = np.arange(first.size)
        frac = np.ones(first.size)
        weight = ndead.astype(float)
    else:
        step = np.repeat(np.arange(first.size), ndead)
        frac = (np.arange(dead.size) - first[step] + 1) / ndead[step]
        weight = np.ones(dead.size)
    den = denom[step] + frac * denom2[step]
    mean = (a[step] + frac[:, None] * a2[step]) / den[:, None]
    loglik -= float(np.sum(weight * np.log(den)))
    info = (cmat[step] + frac[:, None, None] * c2[step]) / den[:, None, None] - mean[:, :, None] * mean[:, None, :]
    weighted_mean = mean
    if ties == "breslow":   # Efron's weights are all 1 (a product by 1.0 changes nothing)
        info *= weight[:, None, None]
        weighted_mean = weight[:, None] * mean
    q = 2 * p if g is not None else p
    u = np.zeros(q)
    imat = np.zeros((q, q))
    u[:p] = xsum.sum(axis=0) - weighted_mean.sum(axis=0)
    imat[:p, :p] = info.sum(axis=0)
    if g is not None:
        timewt = g[start]
        wt = timewt[step]
        weighted = wt[:, None] * weight[:, None] * mean if ties == "breslow" else wt[:, None] * mean
        u[p:] = (timewt[:, None] * xsum).sum(axis=0) - weighted.sum(axis=0)
        imat[:p, p:] = (wt[:, None, None] * info).sum(axis=0)
        imat[p:, p:] = ((wt * wt)[:, None, None] * info).sum(axis=0)
    return loglik, u, imat


def cox_fit(time, event, x, strata=None, ties: str = "efron", max_iter: int = 50) -> CoxResult:
    """Fit a Cox model by Newton-Raphson (R ``coxph``); ``x`` is the n × p design matrix.

    ``survival::coxph(Surv(time, event) ~ x + strata(strata), ties = ties)``: ``x`` without an
    intercept column (a 1-d array is one covariate), centred internally as R does; ``strata``
    integer codes (separate baseline hazards); ``ties`` one of :data:`TIES`. Newton steps from
    β = 0 with step halving while the log-likelihood does not increase, up to ``max_iter``
    steps; see the module docstring for the convergence rule. A non-converged fit is returned
    with ``converged=False`` (callers report it); a singular information matrix raises
    ``numpy.linalg.LinAlgError``. Returns a :class:`CoxResult`.

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> e = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])
    >>> x = np.array([0.5, 1.2, -0.3, 2.0, 0.1, 0.7, -1.1, 1.5, 0.2, 0.9])
    >>> f = cox_fit(t, e, x)   # R: coxph(Surv(t, e) ~ x): coef -0.10361008, se 0.48014410
    >>> f.coef.round(6).tolist(), np.sqrt(np.diag(f.var)).round(6).tolist(), round(f.loglik, 6)
    ([-0.10361], [0.480144], -10.581469)
    >>> round(f.score_test, 6), round(f.wald_test, 6), round(f.lr_test, 6)
    (0.046625, 0.046565, 0.046268)
    """
    time = np.asarray(time, dtype=float)
    event = (np.asarray(event, dtype=float) > 0).astype(float)
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}")
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata, dtype=int)
    xc = x - x.mean(axis=0)
    p = x.shape[1]
    beta = np.zeros(p)
    order = _order(time, event, strata)
    loglik0, u0, i0 = cox_derivatives(time, event, xc, xc @ beta, strata, ties, order=order)
    score_test = float(u0 @ np.linalg.solve(i0, u0)) if p else 0.0
    loglik, u, imat = loglik0, u0, i0
    converged = p == 0
    iterations = 0
    while not converged and iterations < max_iter:
        iterations += 1
        new_beta = beta + np.linalg.solve(imat, u)
        new_ll, new_u, new_i = cox_derivatives(time, event, xc, xc @ new_beta, strata, ties, order=order)
        halvings = 0
        while not (np.isfinite(new_ll) and new_ll >= loglik) and halvings < 40:  # step halving, as coxfit6
            new_beta = (new_beta + beta) / 2
            new_ll, new_u, new_i = cox_derivatives(time, event, xc, xc @ new_beta, strata, ties, order=order)
            halvings += 1
        small_step = np.all(np.abs(new_beta - beta) <= 1e-12 * (1.0 + np.abs(beta)))
        flat = abs(new_ll - loglik) <= 1e-15 * max(1.0, abs(loglik))
        beta, loglik, u, imat = new_beta, new_ll, new_u, new_i
        converged = bool(small_step or flat)
    var = np.linalg.inv(imat) if p else np.zeros((0, 0))
    return CoxResult(beta, var, loglik0, loglik, score_test, iterations, converged, imat, xc @ beta, u, order)


def _km_left(time, event, at):
    """1 − S(t−) of the pooled Kaplan-Meier at each ``at`` (the ``km`` transform of cox.zph)."""
    curve = km_curve(time, event)
    index = np.searchsorted(curve["time"], at, side="left")  # curve times strictly below t
    surv = np.concatenate([[1.0], curve["surv"]])
    return 1.0 - surv[index]


def cox_zph(time, event, x, strata, fit: CoxResult, ties: str = "efron", transform: str = "km",
            terms: list[list[int]] | None = None) -> dict[str, np.ndarray]:
    """Proportional-hazards score tests of R ``cox.zph`` (survival >= 3.0).

    ``terms`` lists the design columns of each term (a factor's dummies form one term);
    default one term per column. Returns ``chisq, df, p`` per term and ``global_chisq,
    global_df, global_p``.

    ``time``, ``event``, ``x``, ``strata`` and ``ties`` must be those ``fit`` (a
    :func:`cox_fit` result) was computed from; ``transform`` is one of :data:`ZPH_TRANSFORMS`
    (R's ``cox.zph(transform = )``, default ``"km"`` as R). Raises ``ValueError`` for an unknown
    transform.

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> e = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])
    >>> x = np.array([[0.5], [1.2], [-0.3], [2.0], [0.1], [0.7], [-1.1], [1.5], [0.2], [0.9]])
    >>> z = cox_zph(t, e, x, None, cox_fit(t, e, x))   # R: cox.zph(fit)$table: 0.25758684, p 0.6117829
    >>> z["chisq"].round(6).tolist(), round(z["global_p"], 6)
    ([0.257587], 0.611783)
    """
    from ketastats.stats import distributions

    time = np.asarray(time, dtype=float)
    event = (np.asarray(event, dtype=float) > 0).astype(float)
    x = np.asarray(x, dtype=float)
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata, dtype=int)
    if transform == "km":
        ttimes = _km_left(time, event, time)
    elif transform == "identity":
        ttimes = time.copy()
    elif transform == "rank":
        ttimes = distributions.rankdata(time)
    elif transform == "log":
        ttimes = np.log(time)
    else:
        raise ValueError(f"transform must be one of {ZPH_TRANSFORMS}")
    gtime = ttimes - ttimes[event > 0].mean()
    xc = x - x.mean(axis=0)
    eta = xc @ fit.coef
    order = fit.order if fit.order is not None and len(fit.order) == len(time) else None
    _, u, imat = cox_derivatives(time, event, xc, eta, strata, ties, gtime=gtime, order=order)
    p = x.shape[1]
    terms = terms or [[j] for j in range(p)]
    chisq, df = [], []
    for columns in terms:
        kk = list(range(p)) + [p + j for j in columns]
        vec = np.concatenate([np.zeros(p), u[[p + j for j in columns]]])
        chisq.append(float(vec @ np.linalg.solve(imat[np.ix_(kk, kk)], vec)))
        df.append(len(columns))
    vec = np.concatenate([np.zeros(p), u[p:]])
    global_chisq = float(vec @ np.linalg.solve(imat, vec))
    chisq_a, df_a = np.array(chisq), np.array(df)
    return {"chisq": chisq_a, "df": df_a, "p": distributions.chi2_sf(chisq_a, df_a), "global_chisq": global_chisq,
            "global_df": p, "global_p": float(distributions.chi2_sf(global_chisq, p))}


# --- concordance -------------------------------------------------------------------------------

TIE_TOLERANCE = 1e-9
"""Relative tolerance under which two linear-predictor values are tied (see :func:`tie_ranks`)."""


def tie_ranks(values: np.ndarray, scale: float | None = None, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """Dense ranks (0, 1, ...) of ``values`` where values closer than ``tolerance × scale`` share a rank.

    A linear predictor ``x @ beta`` is computed by BLAS, whose kernels (chosen by CPU type at run
    time) may round two identical covariate rows differently by a few units in the last place; an
    exact ``==`` would then count the pair as concordant or discordant instead of tied, and C would
    depend on the machine. Sorted values are grouped while consecutive gaps are at most the
    tolerance; ``scale`` defaults to the largest absolute value (1 if all are 0). The tolerance
    (1e-9) is far above rounding noise (~1e-16 relative) and far below any real difference.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0)
    finite = np.isfinite(values)
    if scale is None:
        scale = float(np.max(np.abs(values[finite]), initial=0.0))
    limit = tolerance * (scale if scale > 0 else 1.0)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    gaps = np.diff(ordered)
    new_group = ~(gaps <= limit)  # NaN gaps (non-finite values) start a new group
    ranks = np.empty(values.size)
    ranks[order] = np.concatenate(([0], np.cumsum(new_group)))
    return ranks


def _count_before(values: np.ndarray, is_point: np.ndarray, is_query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query element, the points earlier in the array with a smaller and with a smaller-or-equal value.

    ``values`` are non-negative integers. A wavelet matrix over the points' values: one level per
    bit, from the highest; at each level the points are stably partitioned by the bit and every
    query narrows its range of earlier points to those sharing its bits so far, adding those
    whose bit is 0 where its own is 1 (smaller). O(n log V) time with prefix sums only, O(n)
    memory, no Python loop over elements (R's survival uses a balanced tree).
    """
    n = values.size
    values = values.astype(np.int64)
    point_values = values[is_point]
    asked = np.flatnonzero(is_query)
    query_values = values[asked]
    low = np.zeros(asked.size, dtype=np.int64)
    high = (np.cumsum(is_point) - is_point)[asked].astype(np.int64)   # points strictly before the query
    smaller = np.zeros(asked.size, dtype=np.int64)
    top = int(max(point_values.max(initial=0), query_values.max(initial=0)))
    for level in range(max(1, top.bit_length()) - 1, -1, -1):
        bit = (point_values >> level) & 1
        zeros_before = np.concatenate(([0], np.cumsum(1 - bit)))
        zeros = zeros_before[-1]
        one = ((query_values >> level) & 1) == 1
        zeros_low, zeros_high = zeros_before[low], zeros_before[high]
        smaller += np.where(one, zeros_high - zeros_low, 0)
        low = np.where(one, zeros + (low - zeros_low), zeros_low)
        high = np.where(one, zeros + (high - zeros_high), zeros_high)
        point_values = np.concatenate((point_values[bit == 0], point_values[bit == 1]))
    less = np.zeros(n, dtype=np.int64)
    less_equal = np.zeros(n, dtype=np.int64)
    less[asked] = smaller
    less_equal[asked] = smaller + (high - low)
    return less, less_equal


def _dominance(key_points, r_points, key_queries, r_queries, descending: bool):
    """Per query: points with key strictly beyond it (greater if ``descending``, else smaller) and
    value below / at most / in total."""
    n_points, n_queries = key_points.size, key_queries.size
    keys = np.concatenate((key_points, key_queries))
    ranks = np.concatenate((r_points, r_queries))
    is_point = np.concatenate((np.ones(n_points, bool), np.zeros(n_queries, bool)))
    # sweep order: keys beyond first; at equal keys the queries come before the points, so that
    # only points with a strictly-beyond key precede a query
    order = np.lexsort((is_point, -keys if descending else keys))
    less, less_equal = _count_before(ranks[order], is_point[order], ~is_point[order])
    before = np.cumsum(is_point[order]) - is_point[order]
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    where = back[n_points:]
    return less[where], less_equal[where], before[where]


def concordance(time, event, lp, strata=None, scale: float | None = None) -> dict[str, float]:
    """Harrell's C of a Cox linear predictor, as R ``concordance(fit)`` (``timewt = "n"``).

    Returns ``concordance, std_error, concordant, discordant, tied_x, tied_y, tied_xy``.
    Two linear-predictor values are tied when they differ by at most 1e-9 × ``scale`` (default:
    the largest absolute value; :func:`tie_ranks`), so C does not depend on BLAS rounding.
    Sort-based, O(n log n) time and O(n) memory (R's survival uses a balanced tree): a pair
    (i, j) is comparable when i has the event and j is still at risk after it (a later time, or
    censored at i's time); pair counts and each subject's share (for the variance) are dominance
    counts of (time, linear-predictor rank).

    ``lp`` is the fit's linear predictor (e.g. ``CoxResult.linear_predictor``); ``strata``
    integer codes (pairs only within a stratum). ``std_error`` is
    ``sqrt(concordance(fit)$var)``; C and the standard error are NaN when there is no
    comparable pair.

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 3, 4, 5, 6, 7, 8, 9.])
    >>> e = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1])
    >>> x = np.array([0.5, 1.2, -0.3, 2.0, 0.1, 0.7, -1.1, 1.5, 0.2, 0.9])
    >>> c = concordance(t, e, cox_fit(t, e, x).linear_predictor)   # R: 0.5483871, se 0.11155124
    >>> round(float(c["concordance"]), 6), round(c["std_error"], 6), float(c["concordant"]), float(c["discordant"])
    (0.548387, 0.111551, 17.0, 14.0)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) > 0
    lp = tie_ranks(np.asarray(lp, dtype=float), scale)  # ties decided with a tolerance, never by exact ==
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata, dtype=int)
    n = len(time)
    influence = np.zeros((n, 3))  # concordant, discordant, tied.x pairs each subject is in
    counts = np.zeros(5)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        t, e, r = time[idx], event[idx], lp[idx].astype(np.int64)
        # key 2 × (time rank) + censored: j is at risk after event i exactly when key_j > key_i
        time_rank = np.unique(t, return_inverse=True)[1].reshape(-1)
        key = 2 * time_rank + (~e)
        ev = np.flatnonzero(e)
        # rows: event i against the later subjects j
        less, less_equal, later = _dominance(key, r, key[ev], r[ev], descending=True)
        conc_row, tied_row = less, less_equal - less
        disc_row = later - less_equal
        # columns: subject j against the earlier events i
        less, less_equal, earlier = _dominance(key[ev], r[ev], key, r, descending=False)
        conc_col = earlier - less_equal  # r_i > r_j
        disc_col = less
        tied_col = less_equal - less
        influence[idx, 0] += conc_col
        influence[idx, 1] += disc_col
        influence[idx, 2] += tied_col
        influence[idx[ev], 0] += conc_row
        influence[idx[ev], 1] += disc_row
        influence[idx[ev], 2] += tied_row
        # pairs of events at one time: tied on y (tied_xy when the linear predictor ties too)
        # (time, linear-predictor rank) pairs as one integer: the same groups as the pairs themselves
        _, same_time = np.unique(time_rank[ev], return_counts=True)
        _, same_both = np.unique(time_rank[ev].astype(np.int64) * (int(r.max()) + 1) + r[ev], return_counts=True)
        both = float(np.sum(same_time * (same_time - 1)) / 2)
        tied_xy = float(np.sum(same_both * (same_both - 1)) / 2)
        counts += [conc_row.sum(), disc_row.sum(), tied_row.sum(), both - tied_xy, tied_xy]
    npair = counts[:3].sum()
    if npair == 0:
        return {"concordance": math.nan, "std_error": math.nan, "concordant": counts[0], "discordant": counts[1],
                "tied_x": counts[2], "tied_y": counts[3], "tied_xy": counts[4]}
    somer = (counts[0] - counts[1]) / npair
    dfbeta = (influence[:, 0] - influence[:, 1]) / npair - (somer / npair) * influence.sum(axis=1)
    var = float(np.sum(dfbeta ** 2)) / 4
    return {"concordance": (somer + 1) / 2, "std_error": math.sqrt(var), "concordant": counts[0],
            "discordant": counts[1], "tied_x": counts[2], "tied_y": counts[3], "tied_xy": counts[4]}
