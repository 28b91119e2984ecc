"""t tests (paired, Student, Welch) and standardised mean differences (pure kernels).

Matches R
---------
``t.test(x, y, paired = TRUE)``, ``t.test(x, y, var.equal = TRUE)`` and ``t.test(x, y)``
(Welch): mean difference ``mean(x) − mean(y)`` (paired: mean of ``x − y``), its standard error,
t, df (Welch–Satterthwaite for Welch), p and the t interval.

Standardised differences (formulas; computed by hand in base R in the reference script — the
conventions of R's ``effectsize`` package):

* two samples: Cohen's ``d = (x̄ − ȳ) / s_p`` with the pooled SD
  ``s_p = √(((n₁ − 1)s₁² + (n₂ − 1)s₂²) / (n₁ + n₂ − 2))`` (the same d is reported on the
  Student and Welch rows); paired: ``d_z = mean(x − y) / sd(x − y)``.
* interval for d: inversion of the noncentral t distribution (Steiger & Fouladi 1997): with
  ``t = d / c`` (``c = √(1/n₁ + 1/n₂)``, paired ``c = 1/√n``) and ``df = n₁ + n₂ − 2``
  (paired ``n − 1``), find the noncentrality parameters λ_L, λ_U with
  ``P(T_df(λ_L) ≤ t) = 1 − α/2`` and ``P(T_df(λ_U) ≤ t) = α/2``; the interval is ``(λ_L c, λ_U c)``.
* Hedges' ``g = J d`` with the exact small-sample factor
  ``J = Γ(df/2) / (√(df/2) Γ((df − 1)/2))``; its interval is J times d's.

Example
-------
>>> res = t_test([5.1, 4.9, 6.2, 5.7], [4.1, 4.4, 5.0, 3.9, 4.6], method="student")
>>> round(res.estimate, 6), res.df, round(res.p_value, 6)
(1.075, 7.0, 0.015681)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class TTest:
    """Result of :func:`t_test`: R's ``t.test`` output plus standardised differences.

    ``estimate`` is ``mean(x) − mean(y)`` (paired: the mean difference), ``estimate1`` /
    ``estimate2`` the group means, ``std_error`` / ``statistic`` / ``df`` / ``p_value`` /
    ``conf_low`` / ``conf_high`` as ``t.test`` (``$stderr``, ``$statistic``, ``$parameter``,
    ``$p.value``, ``$conf.int``); ``n1``, ``n2``, ``sd1``, ``sd2`` describe the samples. Cohen's d
    (paired: d_z) and Hedges' g come with their two-sided noncentral-t intervals (always
    two-sided, at ``conf_level``, whatever ``alternative``).
    """

    method: str
    estimate: float
    estimate1: float
    estimate2: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    conf_low: float
    conf_high: float
    n1: int
    n2: int
    sd1: float
    sd2: float
    cohens_d: float
    cohens_d_conf_low: float
    cohens_d_conf_high: float
    hedges_g: float
    hedges_g_conf_low: float
    hedges_g_conf_high: float


# R's ``t.test(...)$method`` text for each method.
METHOD_NAMES = {"student": "Two Sample t-test", "welch": "Welch Two Sample t-test", "paired": "Paired t-test"}


def t_test(x, y, method: str = "welch", conf_level: float = 0.95, alternative: str = "two.sided") -> TTest:
    """One t test of ``x`` against ``y``, as ``stats::t.test``.

    ``method`` is ``"welch"`` (R's default, ``var.equal = FALSE``), ``"student"``
    (``var.equal = TRUE``) or ``"paired"`` (``paired = TRUE``: ``x`` and ``y`` aligned, equal
    length; delegated to :func:`ketastats.stats.ttests.paired_t_test`). ``alternative`` uses R's
    spelling; ``conf_level`` sets both the mean-difference interval and the effect-size intervals.
    Cohen's d uses the pooled SD for both Student and Welch; its interval has ``n₁ + n₂ − 2``
    df (paired: ``n − 1``). Raises ``ValueError`` for fewer than 2 values in a group or fewer
    than 2 pairs (R's Student test would still run with one group of size 1), and for
    essentially constant data (R's ``10 ε max(|x̄|, |ȳ|)`` test, where R stops).
    Returns a :class:`TTest`.

    >>> r = t_test([5.1, 4.9, 6.2, 5.7], [4.1, 4.4, 5.0, 3.9, 4.6])   # Welch, as R's t.test(x, y)
    >>> round(r.df, 4), round(r.p_value, 6), round(r.conf_low, 5), round(r.conf_high, 5)
    (5.3599, 0.026013, 0.18674, 1.96326)
    >>> round(r.cohens_d, 4), round(r.cohens_d_conf_low, 4), round(r.cohens_d_conf_high, 4)
    (2.1273, 0.3754, 3.7937)
    """
    from ketastats.stats import distributions

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n1, n2 = len(x), len(y)
    m1, m2 = float(np.mean(x)) if n1 else math.nan, float(np.mean(y)) if n2 else math.nan
    s1 = float(np.std(x, ddof=1)) if n1 > 1 else math.nan
    s2 = float(np.std(y, ddof=1)) if n2 > 1 else math.nan
    if method == "paired":   # the one paired kernel (also behind paired_ttest and rm_anova's post hoc tests)
        if n1 != n2:
            raise ValueError("a paired t test needs the same number of values in both samples")
        if n1 < 2:
            raise ValueError(f"a paired t test needs at least 2 pairs; there are {n1}")
        from ketastats.stats.ttests import paired_t_test

        r = paired_t_test(x, y, conf_level=conf_level, alternative=alternative)
        d, scale, d_df = r.effect_size, 1 / math.sqrt(n1), r.df
        d_low, d_high = smd_interval(d, scale, d_df, conf_level)
        j = hedges_correction(d_df)
        return TTest(method, r.estimate, m1, m2, r.std_error, r.statistic, r.df, r.p_value, r.conf_low,
                     r.conf_high, n1, n2, s1, s2, d, d_low, d_high, j * d, j * d_low, j * d_high)
    else:
        if n1 < 2 or n2 < 2 or (method == "welch" and (n1 < 2 or n2 < 2)):
            raise ValueError(f"a two-sample t test needs at least 2 values per group; there are {n1} and {n2}")
        estimate = m1 - m2
        pooled = math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))
        # as R's t.test: "data are essentially constant" (Welch's df would divide by 0). Judged with R's
        # tolerance, not pooled == 0: the mean of identical values can differ from them in the last bit
        if pooled * math.sqrt(1 / n1 + 1 / n2) < 10 * np.finfo(float).eps * max(abs(m1), abs(m2)) or pooled == 0:
            raise ValueError("the data are essentially constant: neither group varies")
        if method == "student":
            se = pooled * math.sqrt(1 / n1 + 1 / n2)
            df = float(n1 + n2 - 2)
        elif method == "welch":
            v1, v2 = s1 ** 2 / n1, s2 ** 2 / n2
            se = math.sqrt(v1 + v2)
            df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
        else:
            raise ValueError(f"unknown t test method {method!r}")
        d = estimate / pooled
        scale = math.sqrt(1 / n1 + 1 / n2)
    if se == 0 or se < 10 * np.finfo(float).eps * max(abs(m1), abs(m2)):  # R: stderr < 10 * eps * max(|mx|, |my|)
        raise ValueError("the data are essentially constant: the standard error is 0")
    t = estimate / se
    if alternative == "less":
        p = float(distributions.t_cdf(t, df))
        low, high = -math.inf, estimate + float(distributions.t_ppf(conf_level, df)) * se
    elif alternative == "greater":
        p = float(distributions.t_sf(t, df))
        low, high = estimate - float(distributions.t_ppf(conf_level, df)) * se, math.inf
    else:
        p = float(2 * distributions.t_sf(abs(t), df))
        half = float(distributions.t_ppf((1 + conf_level) / 2, df)) * se
        low, high = estimate - half, estimate + half
    d_df = float(n1 - 1) if method == "paired" else float(n1 + n2 - 2)
    d_low, d_high = smd_interval(d, scale, d_df, conf_level)
    j = hedges_correction(d_df)
    return TTest(method, estimate, m1, m2, se, t, df, p, low, high, n1, n2, s1, s2,
                 d, d_low, d_high, j * d, j * d_low, j * d_high)


def hedges_correction(df: float) -> float:
    """Hedges' small-sample factor ``J = Γ(df/2) / (√(df/2) Γ((df − 1)/2))``, so that ``g = J d``.

    Exact form (Hedges 1981), as ``effectsize::hedges_g``; the familiar approximation is
    ``1 − 3 / (4 df − 1)``. Computed on the log scale (no overflow for large df). NaN when df ≤ 1.

    >>> round(hedges_correction(7), 6), round(1 - 3 / (4 * 7 - 1), 6)
    (0.888203, 0.888889)
    """
    if df <= 1:
        return math.nan
    return math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))


def smd_interval(d: float, scale: float, df: float, conf_level: float) -> tuple[float, float]:
    """Two-sided noncentral-t interval of a standardised difference ``d`` with ``t = d / scale``.

    ``scale`` is ``√(1/n₁ + 1/n₂)`` (paired: ``1/√n``) and ``df`` the t test's df. Finds the
    noncentrality λ with ``P(T_df(λ) ≤ t) = 1 − α/2`` (lower) and ``= α/2`` (upper) by Brent
    from a bracket widened in steps of 5 around t, and returns ``(λ_L scale, λ_U scale)``
    (Steiger & Fouladi 1997; in R: ``uniroot`` on ``pt(t, df, ncp)``). Where scipy's
    noncentral t returns NaN far in a tail, the limiting 0 / 1 is used.

    >>> [round(v, 4) for v in smd_interval(2.127328, (1 / 4 + 1 / 5) ** 0.5, 7, 0.95)]
    [0.3754, 3.7937]
    """
    from scipy import optimize

    from ketastats.stats import distributions

    t = d / scale
    alpha = 1 - conf_level

    def cdf(ncp: float) -> float:
        """``pt(t, df, ncp)``, with its NaN tails replaced by their limits."""
        value = float(distributions.nct_cdf(t, df, ncp))
        if math.isnan(value):  # scipy gives NaN deep in a tail: the limit is 1 (ncp ≪ t) or 0 (ncp ≫ t)
            value = 1.0 if ncp < t else 0.0
        return value

    def solve(target: float) -> float:
        """The noncentrality λ with ``cdf(λ) = target`` (cdf decreases in λ)."""
        f = lambda ncp: cdf(ncp) - target  # noqa: E731
        width = 5.0
        lo, hi = t - width, t + width
        while f(lo) < 0:
            lo -= width
        while f(hi) > 0:
            hi += width
        return optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)

    return solve(1 - alpha / 2) * scale, solve(alpha / 2) * scale
