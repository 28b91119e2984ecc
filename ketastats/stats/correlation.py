"""Pearson and Spearman correlation tests, plain and partial (pure numpy / scipy kernels).

Matches R
---------
* Pearson: ``cor.test(x, y, method = "pearson")`` — r, ``t = r √(df / (1 − r²))`` with
  ``df = n − 2``, two-sided p from t, and the Fisher-z interval
  ``tanh(atanh(r) ± z_{1−α/2} / √(n − 3))``.
* Spearman: ``cor.test(x, y, method = "spearman")`` — ρ = Pearson r of the average ranks,
  ``S = (n³ − n)(1 − ρ) / 6``; p from the exact null distribution (algorithm AS 89, R's
  ``prho``: enumeration for n ≤ 9, Edgeworth series above) when there are no ties and
  n < 1290, otherwise from ``t = ρ √((n − 2) / (1 − ρ²))`` on n − 2 df, as R does (the statistic
  reported is S either way, as R). R gives no
  interval for ρ; ketastats gives the Fisher-z interval with the Bonett & Wright (2000)
  variance ``(1 + ρ² / 2) / (n − 3)`` (computed by hand in the R reference script).
* Partial (given k covariates): r is the correlation of the residuals of x and of y after
  least-squares regression on the covariates (with intercept); ``df = n − 2 − k``,
  ``t = r √(df / (1 − r²))``, Fisher-z interval with ``1 / √(n − 3 − k)`` — the conventions of
  ``ppcor::pcor.test`` (computed in base R in the reference script). Spearman partial
  correlation ranks x, y and the covariates first (as ``ppcor``) and uses the t test above.

Example
-------
>>> res = correlation_test([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
>>> round(res.estimate, 6), res.df, round(res.p_value, 6)
(0.8, 3, 0.104088)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

RHO_SMALL_N = 9
RHO_EXACT_MAX_N = 1290
_AS89 = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4)


@dataclass
class CorrelationTest:
    """One correlation test, the fields of R's ``cor.test`` ``htest`` object.

    ``method`` is ``"pearson"`` or ``"spearman"``; ``n`` the complete pairs used; ``estimate`` r
    or ρ (partial when covariates were given); ``statistic`` is ``t`` (``statistic_type="t"``,
    with ``df``) or Spearman's ``S`` (``statistic_type="S"``, ``df`` None, as R prints no df);
    ``conf_low`` / ``conf_high`` are None when the interval is undefined (n ≤ 3 + k), and
    ``ci_method`` names it (``fisher_z`` or ``fisher_z_bonett_wright``). ``exact`` is True when
    the p-value comes from the exact / AS 89 null distribution of S.
    """

    method: str
    n: int
    estimate: float
    statistic: float
    statistic_type: str
    df: float | None
    p_value: float
    conf_low: float | None
    conf_high: float | None
    ci_method: str | None
    exact: bool = False


def correlation_test(x, y, method: str = "pearson", covariates=None, conf_level: float = 0.95,
                     alternative: str = "two.sided") -> CorrelationTest:
    """Pearson or Spearman correlation test of ``x`` and ``y``, optionally partial on ``covariates``.

    Matches ``stats::cor.test(x, y, method = method, alternative = alternative)`` (and the
    ``ppcor::pcor.test`` conventions when ``covariates``, an n × k array, is given); see the
    module docstring for the formulas. ``x`` and ``y`` are equal-length sequences with complete
    cases already selected (no NaN handling here). ``alternative`` is ``"two.sided"``,
    ``"less"`` or ``"greater"``; one-sided intervals run to −1 or 1, as R's. Raises ``ValueError``
    for an unknown method, fewer than ``3 + k`` pairs, or a constant variable (R: NA with a
    warning). Returns a :class:`CorrelationTest`.

    >>> r = correlation_test([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], method="spearman")
    >>> round(r.estimate, 6), r.statistic_type, round(r.statistic, 6), round(r.p_value, 6), r.exact
    (0.8, 'S', 4.0, 0.133333, True)
    """
    from ketastats.stats import distributions

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    z = None if covariates is None else np.asarray(covariates, dtype=float).reshape(len(x), -1)
    k = 0 if z is None else z.shape[1]
    n = len(x)
    if method not in ("pearson", "spearman"):
        raise ValueError(f"unknown correlation method {method!r}")
    if n < 3 + k:
        raise ValueError(f"a correlation needs at least {3 + k} complete pairs; there are {n}")
    if method == "spearman":
        rx, ry = distributions.rankdata(x), distributions.rankdata(y)
        rz = None if z is None else np.column_stack([distributions.rankdata(col) for col in z.T])
    else:
        rx, ry, rz = x, y, z
    if k:
        assert rz is not None   # k counts the covariate columns
        design = np.column_stack([np.ones(n), rz])
        rx = rx - design @ np.linalg.lstsq(design, rx, rcond=None)[0]
        ry = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
    r = _pearson_r(rx, ry)
    if not math.isfinite(r):
        raise ValueError("a correlation is undefined when x or y is constant")
    df = n - 2 - k
    ties = len(np.unique(x)) < n or len(np.unique(y)) < n
    if method == "spearman" and not k and not ties and n < RHO_EXACT_MAX_N:
        s = (n ** 3 - n) * (1 - r) / 6
        p = _spearman_exact_p(s, n, alternative)
        low, high = _fisher_interval(r, math.sqrt((1 + r * r / 2) / (n - 3)), conf_level, alternative) \
            if n > 3 else (None, None)
        return CorrelationTest("spearman", n, r, s, "S", None, p, low, high,
                               "fisher_z_bonett_wright" if low is not None else None, exact=True)
    t = math.copysign(math.inf, r) if abs(r) >= 1 else r * math.sqrt(df / (1 - r * r))
    p = _t_p_value(t, df, alternative)
    if method == "spearman" and not k:  # ties: R still reports S, with the p-value of the t approximation
        se = math.sqrt((1 + r * r / 2) / (n - 3)) if n > 3 else None
        low, high = _fisher_interval(r, se, conf_level, alternative) if se is not None else (None, None)
        return CorrelationTest("spearman", n, r, (n ** 3 - n) * (1 - r) / 6, "S", None, p, low, high,
                               "fisher_z_bonett_wright" if se is not None else None)
    if method == "pearson":
        se, ci_method = (1 / math.sqrt(n - 3 - k), "fisher_z") if n - 3 - k > 0 else (None, None)
    else:
        se, ci_method = (math.sqrt((1 + r * r / 2) / (n - 3 - k)), "fisher_z_bonett_wright") \
            if n - 3 - k > 0 else (None, None)
    low, high = _fisher_interval(r, se, conf_level, alternative) if se is not None else (None, None)
    return CorrelationTest(method, n, r, t, "t", df, p, low, high, ci_method)


def _pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of two 1-d arrays, clipped to [−1, 1]; NaN when either is constant."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:  # a constant variable (judged on the data: x - mean(x) may be rounding noise)
        return math.nan
    xc, yc = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if denominator == 0:
        return math.nan
    return max(-1.0, min(1.0, float(xc @ yc) / denominator))


def _t_p_value(t: float, df: float, alternative: str) -> float:
    """p-value of ``t`` on ``df`` degrees of freedom for R's ``alternative`` spelling."""
    from ketastats.stats import distributions

    if alternative == "less":
        return float(distributions.t_cdf(t, df))
    if alternative == "greater":
        return float(distributions.t_sf(t, df))
    return float(2 * distributions.t_sf(abs(t), df))


def _fisher_interval(r: float, se: float, conf_level: float, alternative: str) -> tuple[float, float]:
    """R's cor.test interval: tanh(atanh(r) ± q × se); one-sided intervals as R's."""
    from ketastats.stats import distributions

    z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
    if alternative == "less":
        return -1.0, math.tanh(z + distributions.norm_ppf(conf_level) * se)
    if alternative == "greater":
        return math.tanh(z - distributions.norm_ppf(conf_level) * se), 1.0
    q = distributions.norm_ppf((1 + conf_level) / 2)
    return math.tanh(z - q * se), math.tanh(z + q * se)


def _spearman_exact_p(s: float, n: int, alternative: str) -> float:
    """R's ``cor.test(method = "spearman")`` p-value for S without ties."""
    if alternative == "greater":
        return _prho(round(s) + 2, n, True)
    if alternative == "less":
        return _prho(round(s), n, False)
    lower = not s > (n ** 3 - n) / 6
    p = _prho(round(s) + 2 * lower, n, lower)
    return min(2 * p, 1.0)


@lru_cache(maxsize=16)
def _rho_counts(n: int) -> tuple[np.ndarray, int]:
    """Number of permutations of 1..n reaching each value of S = Σ (i − π(i))²."""
    from itertools import permutations

    positions = np.arange(1, n + 1)
    counts = np.zeros(n * (n * n - 1) // 3 + 1, dtype=np.int64)
    for permutation in permutations(range(1, n + 1)):
        counts[int(np.sum((positions - np.asarray(permutation)) ** 2))] += 1
    return counts, math.factorial(n)


def _prho(s: float, n: int, lower_tail: bool) -> float:
    """R's ``prho`` (AS 89): P[S ≥ s] (upper) or P[S < s] (lower)."""
    from ketastats.stats import distributions

    if s <= 0:
        return 0.0 if lower_tail else 1.0
    top = n * (n * n - 1) / 3
    if s > top:
        return 1.0 if lower_tail else 0.0
    if n <= RHO_SMALL_N:
        counts, factorial = _rho_counts(n)
        at_least = 1 if s == top else int(counts[math.ceil(s):].sum())
        return (factorial - at_least) / factorial if lower_tail else at_least / factorial
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 = _AS89
    b = 1.0 / n
    x = (6.0 * (s - 1) * b / (n * n - 1) - 1) * math.sqrt(n - 1.0)
    y = x * x
    u = x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b)
                                               - y * b * (c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))))
    correction = u / math.exp(y / 2.0)
    tail = float(distributions.norm_cdf(x)) if lower_tail else float(distributions.norm_sf(x))
    return min(1.0, max(0.0, (-correction if lower_tail else correction) + tail))
