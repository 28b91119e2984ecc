r"""Paired t test with Cohen's d_z (numerical kernel).

Role
----
Pure kernel (arrays in, a small record out) behind the ``paired_ttest`` analysis and the
post-hoc tests of ``rm_anova``. Matches R's ``t.test(x, y, paired = TRUE, conf.level,
alternative)`` (base package ``stats``): estimate, standard error, t, df, p-value and the
confidence interval; checked against ``tests/reference/rm_anova_paired_ttest/rm_anova.json``.

Formulas
--------
With differences :math:`d_i = x_i - y_i`, :math:`i = 1..n`, mean :math:`\bar d`, standard
deviation :math:`s_d` (n − 1 denominator):

- estimate :math:`\bar d`; standard error :math:`s_d/\sqrt n`; :math:`t = \bar d / SE`; df = n − 1;
- p: two-sided :math:`2 P(T_{n-1} > |t|)`, ``less`` :math:`P(T_{n-1} < t)`, ``greater``
  :math:`P(T_{n-1} > t)`;
- interval: two-sided :math:`\bar d \pm t_{n-1, (1+c)/2} SE`; ``less``
  :math:`(-\infty, \bar d + t_{n-1,c} SE]`; ``greater`` :math:`[\bar d - t_{n-1,c} SE, \infty)`;
- Cohen's :math:`d_z = \bar d / s_d` (= t / √n), the standardised mean difference of paired data.

Like R, the test is refused (``ValueError``) when n < 2 or the differences are essentially
constant (SE < 10 ε |mean|).

Example
-------
R's ``t.test(c(10, 12, 9, 15), c(20, 25, 18, 22), paired = TRUE)`` gives t = -7.8, df = 3,
p-value = 0.004386:

>>> r = paired_t_test([10.0, 12.0, 9.0, 15.0], [20.0, 25.0, 18.0, 22.0])
>>> round(r.estimate, 4), round(r.statistic, 4), r.df, round(r.p_value, 6), round(r.effect_size, 4)
(-9.75, -7.8, 3.0, 0.004386, -3.9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PairedT", "paired_t_test", "ALTERNATIVES"]

# R's spellings of the alternative hypothesis (``t.test(alternative = )``).
ALTERNATIVES = ("two.sided", "less", "greater")


@dataclass(frozen=True)
class PairedT:
    """Result of :func:`paired_t_test`: the fields of R's paired ``t.test`` plus Cohen's d_z.

    ``n`` pairs; ``estimate`` the mean difference (R's ``$estimate``, "mean difference");
    ``std_error`` (``$stderr``); ``statistic`` t; ``df`` = n − 1; ``p_value`` for
    ``alternative``; ``conf_low`` / ``conf_high`` (±inf on the open side of a one-sided
    interval); ``conf_level`` and ``alternative`` echo the inputs.
    """

    n: int
    estimate: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    conf_low: float
    conf_high: float
    conf_level: float
    alternative: str
    effect_size: float   # Cohen's d_z


def paired_t_test(x, y, conf_level: float = 0.95, alternative: str = "two.sided") -> PairedT:
    """Paired t test of ``x − y``, as R's ``t.test(x, y, paired = TRUE)``; see the module docstring.

    ``x`` and ``y`` are aligned, complete 1-d sequences (drop incomplete pairs first; R does so
    itself); ``alternative`` is one of :data:`ALTERNATIVES`. Raises ``ValueError`` for unequal
    shapes, missing values, an unknown alternative, ``conf_level`` outside (0, 1), n < 2, or
    essentially constant differences. Returns a :class:`PairedT`.

    >>> r = paired_t_test([10.0, 12.0, 9.0, 15.0], [20.0, 25.0, 18.0, 22.0], alternative="less")
    >>> round(r.p_value, 6), r.conf_low, round(r.conf_high, 4)   # R: 0.0021929968 -Inf -6.8082957
    (0.002193, -inf, -6.8083)
    """
    from ketastats.stats import distributions

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be one-dimensional arrays of equal length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be complete (remove incomplete pairs first)")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}")
    if not 0 < conf_level < 1:
        raise ValueError("conf_level must be strictly between 0 and 1")
    d = x - y
    n = d.size
    if n < 2:
        raise ValueError(f"not enough pairs for a paired t test (n = {n})")
    mean = float(np.mean(d))
    sd = float(np.std(d, ddof=1))
    se = sd / np.sqrt(n)
    if se < 10 * np.finfo(float).eps * abs(mean) or sd == 0:
        raise ValueError("the paired differences are essentially constant")
    stat = mean / se
    df = float(n - 1)
    if alternative == "two.sided":
        p = 2 * distributions.t_sf(abs(stat), df)
        q = distributions.t_ppf(0.5 + conf_level / 2, df)
        low, high = mean - q * se, mean + q * se
    elif alternative == "less":
        p = distributions.t_cdf(stat, df)
        low, high = -np.inf, mean + distributions.t_ppf(conf_level, df) * se
    else:
        p = distributions.t_sf(stat, df)
        low, high = mean - distributions.t_ppf(conf_level, df) * se, np.inf
    return PairedT(n=n, estimate=mean, std_error=float(se), statistic=float(stat), df=df, p_value=float(p),
                   conf_low=float(low), conf_high=float(high), conf_level=float(conf_level),
                   alternative=alternative, effect_size=mean / sd)
