"""Two-by-two tables: Fisher's exact test, the chi-square test, risk difference and odds ratio.

The table is ``[[a, b], [c, d]]``: rows are group 1 and group 2, columns outcome true and false,
so ``p₁ = a / (a + b)`` and ``p₂ = c / (c + d)``.

Matches R
---------
* :func:`fisher_exact` — ``fisher.test(matrix(c(a, c, b, d), 2))``: the two-sided p-value sums
  the probabilities of tables no more likely than the observed one (relative tolerance 1e-7, as
  R); the odds ratio is the *conditional* maximum-likelihood estimate (not ad / bc) and the
  interval is the exact conditional interval. R finds both with ``uniroot`` at its default
  tolerance (≈ 1.2e-4), so :mod:`ketastats.stats.roots` ports R's root finder and the numbers
  agree with R to rounding error rather than to 1e-4.
* :func:`chi_square` — ``chisq.test(matrix(...), correct = TRUE)``: Pearson's X² with Yates'
  continuity correction ``Σ (|O − E| − min(0.5, |O − E|))² / E`` (``correct = FALSE`` without),
  1 df. ``small_expected`` is true when an expected count is below 5 (R then warns).
* :func:`risk_difference` — ``p₁ − p₂`` with the Newcombe (1998, method 10) hybrid score interval
  built from the two Wilson intervals (as ``DescTools::BinomDiffCI(method = "score")``,
  computed by hand in the reference script), or the Wald interval
  ``p₁ − p₂ ± z √(p₁(1 − p₁)/n₁ + p₂(1 − p₂)/n₂)`` (not truncated).
* :func:`odds_ratio_wald` — the sample odds ratio ad / bc with Woolf's interval
  ``exp(log OR ± z √(1/a + 1/b + 1/c + 1/d))``; undefined (missing) when a cell is 0.

Example
-------
>>> res = fisher_exact(8, 3, 3, 7)
>>> round(res.p_value, 6)
0.086109
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ketastats.stats.roots import EPSILON, uniroot


@dataclass
class FisherResult:
    """Result of :func:`fisher_exact`, the fields of R's ``fisher.test`` ``htest`` object.

    ``p_value`` is ``$p.value``; ``estimate`` is the conditional MLE of the odds ratio
    (``$estimate``: 0 or ``inf`` when the observed cell sits at the end of its support);
    ``conf_low`` / ``conf_high`` are ``$conf.int`` (one end is 0 or ``inf`` for one-sided tests).
    """

    p_value: float
    estimate: float
    conf_low: float
    conf_high: float


def fisher_exact(a: int, b: int, c: int, d: int, conf_level: float = 0.95,
                 alternative: str = "two.sided") -> FisherResult:
    """Fisher's exact test of the 2 × 2 table ``[[a, b], [c, d]]``, as R's ``stats::fisher.test``.

    ``a``, ``b``, ``c``, ``d`` are the non-negative cell counts (rows: groups 1 and 2; columns:
    outcome true and false); ``alternative`` is ``"two.sided"``, ``"less"`` or ``"greater"``
    (R's spelling; one-sided p-values are hypergeometric tails); ``conf_level`` sets the exact
    conditional interval of the odds ratio. Port of the 2 × 2 branch of R's ``fisher.test``
    (``dnhyper`` / ``mnhyper`` / ``pnhyper`` over the support ``max(0, k − n) .. min(k, m)``),
    with R's root finder (:func:`ketastats.stats.roots.uniroot`) so the estimate and interval agree
    with R beyond ``uniroot``'s tolerance. Returns a :class:`FisherResult`.

    >>> r = fisher_exact(8, 3, 3, 7)   # R: fisher.test(matrix(c(8, 3, 3, 7), 2))
    >>> round(r.estimate, 4), round(r.conf_low, 4), round(r.conf_high, 3)
    (5.6307, 0.6975, 62.134)
    """
    from ketastats.stats import distributions

    m, n, k, x = a + c, b + d, a + b, a  # column 1 total, column 2 total, row 1 total, cell [1, 1]
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    logdc = distributions.hypergeom_logpmf(support, m + n, m, k)

    # The helpers below mirror fisher.test's own closures (dnhyper, mnhyper, pnhyper, mle, ncp.U, ncp.L).
    def dnhyper(ncp: float) -> np.ndarray:
        """Noncentral hypergeometric probabilities over ``support`` at odds ratio ``ncp``."""
        dens = logdc + math.log(ncp) * support
        dens = np.exp(dens - dens.max())
        return dens / dens.sum()

    def mnhyper(ncp: float) -> float:
        """Mean of the noncentral hypergeometric distribution at ``ncp``."""
        if ncp == 0:
            return lo
        if ncp == math.inf:
            return hi
        return float(np.sum(support * dnhyper(ncp)))

    def pnhyper(q: int, ncp: float, upper_tail: bool = False) -> float:
        """P[X ≤ q] (or P[X ≥ q] with ``upper_tail``) at ``ncp``."""
        if ncp == 1:
            return float(distributions.hypergeom_sf(x - 1, m + n, m, k)) if upper_tail else \
                float(distributions.hypergeom_cdf(x, m + n, m, k))
        if ncp == 0:
            return float(q <= lo) if upper_tail else float(q >= lo)
        if ncp == math.inf:
            return float(q <= hi) if upper_tail else float(q >= hi)
        dens = dnhyper(ncp)
        return float(np.sum(dens[support >= q] if upper_tail else dens[support <= q]))

    if alternative == "less":
        p = pnhyper(x, 1)
    elif alternative == "greater":
        p = pnhyper(x, 1, upper_tail=True)
    else:
        dens = dnhyper(1.0)
        p = float(np.sum(dens[dens <= dens[x - lo] * (1 + 1e-7)]))
    p = min(1.0, p)

    def mle() -> float:
        """Conditional MLE of the odds ratio: the ncp whose mean equals the observed ``x``."""
        if x == lo:
            return 0.0
        if x == hi:
            return math.inf
        mu = mnhyper(1.0)
        if mu > x:
            return uniroot(lambda t: mnhyper(t) - x, 0.0, 1.0)
        if mu < x:
            return 1 / uniroot(lambda t: mnhyper(1 / t) - x, EPSILON, 1.0)
        return 1.0

    def ncp_upper(alpha: float) -> float:
        """Upper confidence limit: the ncp with P[X ≤ x] = alpha."""
        if x == hi:
            return math.inf
        p1 = pnhyper(x, 1)
        if p1 < alpha:
            return uniroot(lambda t: pnhyper(x, t) - alpha, 0.0, 1.0)
        if p1 > alpha:
            return 1 / uniroot(lambda t: pnhyper(x, 1 / t) - alpha, EPSILON, 1.0)
        return 1.0

    def ncp_lower(alpha: float) -> float:
        """Lower confidence limit: the ncp with P[X ≥ x] = alpha."""
        if x == lo:
            return 0.0
        p1 = pnhyper(x, 1, upper_tail=True)
        if p1 > alpha:
            return uniroot(lambda t: pnhyper(x, t, upper_tail=True) - alpha, 0.0, 1.0)
        if p1 < alpha:
            return 1 / uniroot(lambda t: pnhyper(x, 1 / t, upper_tail=True) - alpha, EPSILON, 1.0)
        return 1.0

    if alternative == "less":
        low, high = 0.0, ncp_upper(1 - conf_level)
    elif alternative == "greater":
        low, high = ncp_lower(1 - conf_level), math.inf
    else:
        alpha = (1 - conf_level) / 2
        low, high = ncp_lower(alpha), ncp_upper(alpha)
    return FisherResult(p, mle(), low, high)


@dataclass
class ChiSquareResult:
    """Result of :func:`chi_square`: X² (R's ``$statistic``), its df (always 1 for a 2 × 2 table),
    the upper-tail χ² p-value, and ``small_expected`` (an expected count below 5: the case in
    which R warns "Chi-squared approximation may be incorrect")."""

    statistic: float
    df: int
    p_value: float
    small_expected: bool


def chi_square(a: int, b: int, c: int, d: int, correct: bool = True) -> ChiSquareResult:
    """Pearson's chi-square test of the 2 × 2 table ``[[a, b], [c, d]]``, as ``stats::chisq.test``.

    With ``correct`` (R's default) Yates' continuity correction subtracts ``min(0.5, min |O − E|)``
    from every ``|O − E|``, exactly as R. Raises ``ValueError`` when a row or column total is 0
    (R returns NaN there). Returns a :class:`ChiSquareResult`.

    >>> r = chi_square(8, 3, 3, 7)   # R: chisq.test(matrix(c(8, 3, 3, 7), 2))
    >>> round(r.statistic, 6), r.df, round(r.p_value, 6), r.small_expected
    (2.312169, 1, 0.128365, True)
    """
    from ketastats.stats import distributions

    observed = np.array([[a, b], [c, d]], dtype=float)
    total = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    if np.any(expected == 0):
        raise ValueError("the chi-square test is undefined when a row or column total is 0")
    deviation = np.abs(observed - expected)
    yates = min(0.5, float(deviation.min())) if correct else 0.0
    statistic = float(np.sum((deviation - yates) ** 2 / expected))
    return ChiSquareResult(statistic, 1, float(distributions.chi2_sf(statistic, 1)), bool(np.any(expected < 5)))


def risk_difference(count1: int, n1: int, count2: int, n2: int, method: str = "newcombe",
                    conf_level: float = 0.95) -> tuple[float, float, float]:
    """Risk difference ``p₁ − p₂ = count1 / n1 − count2 / n2`` and its two-sided interval.

    ``method="newcombe"`` (default): Newcombe's (1998) method 10, the hybrid score interval from
    the two Wilson intervals (:func:`ketastats.stats.intervals.wilson_interval`), as
    ``DescTools::BinomDiffCI(method = "score")``; it stays inside [−1, 1]. ``method="wald"``:
    ``p₁ − p₂ ± z √(p₁(1 − p₁)/n₁ + p₂(1 − p₂)/n₂)``, not truncated (zero width when both
    proportions are 0 or 1). Returns ``(estimate, lower, upper)``; raises ``ValueError`` for an
    empty group or an unknown method.

    >>> [round(v, 6) for v in risk_difference(8, 11, 3, 10)]   # R: Wilson limits via prop.test
    [0.427273, 0.005675, 0.687393]
    """
    from ketastats.stats import distributions
    from ketastats.stats.intervals import wilson_interval

    if n1 == 0 or n2 == 0:
        raise ValueError("a risk difference needs at least one observation per group")
    p1, p2 = count1 / n1, count2 / n2
    estimate = p1 - p2
    if method == "wald":
        z = float(distributions.norm_ppf((1 + conf_level) / 2))
        half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        return estimate, estimate - half, estimate + half
    if method != "newcombe":
        raise ValueError(f"unknown risk-difference interval {method!r}")
    l1, u1 = (float(v) for v in wilson_interval(count1, n1, conf_level))
    l2, u2 = (float(v) for v in wilson_interval(count2, n2, conf_level))
    low = estimate - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = estimate + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return estimate, low, high


def odds_ratio_wald(a: int, b: int, c: int, d: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """Sample odds ratio ``ad / bc`` with Woolf's (log-scale Wald) interval.

    The interval is ``exp(log OR ± z √(1/a + 1/b + 1/c + 1/d))`` (in R by hand:
    ``exp(log(a*d/(b*c)) + c(-1, 1) * qnorm(0.975) * sqrt(sum(1/tab)))``). No 0.5 (Haldane)
    correction is applied: when any cell is 0 all three values are NaN (reported as missing). Compare
    :func:`fisher_exact`, whose estimate is the conditional MLE. Returns ``(or, lower, upper)``.

    >>> [round(v, 4) for v in odds_ratio_wald(8, 3, 3, 7)]
    [6.2222, 0.9356, 41.3817]
    """
    from ketastats.stats import distributions

    if min(a, b, c, d) == 0:
        return math.nan, math.nan, math.nan
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = float(distributions.norm_ppf((1 + conf_level) / 2))
    return math.exp(log_or), math.exp(log_or - z * se), math.exp(log_or + z * se)
