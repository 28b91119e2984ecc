"""Risk ratio ``p₁ / p₂`` of two independent binomial samples with Katz's log interval or Koopman's
score interval.

Matches R
---------
* ``katz`` — Katz et al. (1978): ``exp(log RR ± z √(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂))``, as
  ``DescTools::BinomRatioCI(method = "katz.log")`` (itself ``asbio::ci.prat``), zero cells
  included (see below).
* ``koopman`` — Koopman (1984): the set of ratios φ whose score (Pearson) chi-square statistic
  under the constraint p₁ = φ p₂ does not exceed ``qchisq(conf_level, 1)``,

  ``U(φ) = (x₁ − n₁ p̃₁)² / (n₁ p̃₁ (1 − p̃₁)) + (x₂ − n₂ p̃₂)² / (n₂ p̃₂ (1 − p̃₂))``

  with p̃₂ the constrained maximum-likelihood estimate (the smaller root of
  ``N φ p² − (φ (n₁ + x₂) + x₁ + n₂) p + (x₁ + x₂) = 0``, N = n₁ + n₂) and p̃₁ = φ p̃₂. This is
  ``PropCIs::riskscoreci(x1, n1, x2, n2, conf.level)`` (Nam's closed-form cubic solution of
  U = χ²) and ``DescTools::BinomRatioCI(method = "koopman")`` (``uniroot``). Here both limits are
  roots of U(φ) − χ² found on the log scale to 1e-13 (R's :func:`ketastats.stats.roots.uniroot`
  algorithm at a tight tolerance), so they agree with the exact interval to rounding error;
  PropCIs and DescTools step through φ by factors of 1.0001 when x₁ = n₁ or x₂ = n₂, so there they
  agree with this interval to about 1e-4 only.

Zero cells (R's behaviour, DescTools / PropCIs)
-----------------------------------------------
* x₁ = x₂ = 0: the ratio 0/0 is undefined (estimate missing); both intervals are [0, ∞)
  (DescTools reports an estimate of 0, which is not a ratio).
* x₁ = 0 < x₂: estimate 0, lower limit 0. Katz's upper limit adds 0.5 to the zero count only
  (``x₁ = 0.5`` in both the ratio and the variance, n₁ unchanged); Koopman's upper limit is the
  root of U (no correction needed).
* x₂ = 0 < x₁: estimate ∞, upper limit ∞; Katz's lower limit with x₂ = 0.5; Koopman's the root.
* x₁ = n₁ and x₂ = n₂ (both risks 1): estimate 1; Katz with x₁ = n₁ − 0.5 and x₂ = n₂ − 0.5;
  Koopman's limits in closed form, ``n₁ / (n₁ + z²)`` and ``(n₂ + z²) / n₂``.
* An empty group (n₁ = 0 or n₂ = 0): a ``ValueError``.

Example
-------
>>> [round(v, 6) for v in risk_ratio(8, 11, 3, 10, "katz")]
[2.424242, 0.879819, 6.679725]
>>> [round(v, 6) for v in risk_ratio(8, 11, 3, 10, "koopman")]   # R: PropCIs::riskscoreci(8, 11, 3, 10, 0.95)
[2.424242, 0.99918, 7.044124]
"""

from __future__ import annotations

import math

from ketastats.stats.roots import uniroot

METHODS = ("katz", "koopman")
#: Absolute tolerance of the Koopman limits on the log-ratio scale (relative 1e-13 on the ratio).
LOG_TOLERANCE = 1e-13


def risk_ratio(count1: int, n1: int, count2: int, n2: int, method: str = "koopman",
               conf_level: float = 0.95) -> tuple[float, float, float]:
    """Risk ratio ``(count1 / n1) / (count2 / n2)`` and its two-sided interval, ``(estimate, low, high)``.

    ``method``: ``katz`` (log-scale Wald interval, 0.5 added to a zero count) or ``koopman``
    (score interval, exact roots); zero cells as in the module docstring. The estimate is NaN when
    both counts are 0 and ∞ when only ``count2`` is 0.

    >>> risk_ratio(0, 10, 0, 12, "katz")
    (nan, 0.0, inf)
    >>> [round(v, 6) for v in risk_ratio(0, 10, 4, 12, "koopman")][:2]
    [0.0, 0.0]
    """
    from ketastats.stats.distributions import norm_ppf

    if method not in METHODS:
        raise ValueError(f"unknown risk-ratio interval {method!r}: katz or koopman")
    if n1 <= 0 or n2 <= 0:
        raise ValueError("a risk ratio needs at least one observation per group")
    if not (0 <= count1 <= n1 and 0 <= count2 <= n2):
        raise ValueError("counts must lie between 0 and the group sizes")
    z = float(norm_ppf((1 + conf_level) / 2))
    estimate = _ratio(count1, n1, count2, n2)
    if count1 == 0 and count2 == 0:
        return math.nan, 0.0, math.inf
    if method == "katz":
        return (estimate, *_katz(count1, n1, count2, n2, z))
    return (estimate, *_koopman(count1, n1, count2, n2, z))


def _ratio(x1: float, n1: float, x2: float, n2: float) -> float:
    """p₁ / p₂, with ∞ for p₂ = 0 < p₁ and NaN for 0 / 0."""
    if x2 == 0:
        return math.nan if x1 == 0 else math.inf
    return (x1 / n1) / (x2 / n2)


def _katz(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float]:
    """Katz's limits exp(log RR ± z SE), SE² = 1/x₁ − 1/n₁ + 1/x₂ − 1/n₂ (DescTools ``katz.log``)."""
    if x1 == 0:           # upper limit from x₁ = 0.5; lower limit 0
        return 0.0, _katz_limit(0.5, n1, x2, n2, z)
    if x2 == 0:           # lower limit from x₂ = 0.5; upper limit ∞
        return _katz_limit(x1, n1, 0.5, n2, -z), math.inf
    if x1 == n1 and x2 == n2:   # both risks 1: the variance would be 0; n − 0.5 in both groups
        return _katz_limit(n1 - 0.5, n1, n2 - 0.5, n2, -z), _katz_limit(n1 - 0.5, n1, n2 - 0.5, n2, z)
    return _katz_limit(x1, n1, x2, n2, -z), _katz_limit(x1, n1, x2, n2, z)


def _katz_limit(x1: float, n1: float, x2: float, n2: float, z: float) -> float:
    """One Katz limit, RR · exp(z SE), from (possibly corrected) counts; ``z`` signed."""
    ratio = (x1 / n1) / (x2 / n2)
    return ratio * math.exp(z * math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2))


def koopman_statistic(phi: float, x1: int, n1: int, x2: int, n2: int) -> float:
    """Koopman's score chi-square U(φ) for H₀: p₁ / p₂ = φ (see the module docstring).

    The constrained estimate p̃₂ is the smaller root of the quadratic, written as
    2c / (B + √(B² − 4aC)) so that it keeps its precision when 4aC ≪ B².

    >>> round(koopman_statistic((8 / 11) / (3 / 10), 8, 11, 3, 10), 12)   # 0 at the sample ratio
    0.0
    """
    total = n1 + n2
    b = phi * (n1 + x2) + x1 + n2
    c = x1 + x2
    disc = max(b * b - 4 * total * phi * c, 0.0)
    p2 = min(2 * c / (b + math.sqrt(disc)), 1.0)
    # with x₁ = n₁ (or x₂ = n₂) the root is 1/φ (or 1) over a range of φ: the constrained estimate sits
    # on the boundary p̃₁ = 1 (p̃₂ = 1); rounding must not push it past 1
    p1 = min(phi * p2, 1.0)
    u = 0.0
    for x, n, p in ((x1, n1, p1), (x2, n2, p2)):
        if 0 < p < 1:
            u += (x - n * p) ** 2 / (n * p * (1 - p))
        elif abs(x - n * p) > 1e-9 * n:   # a risk estimated at 0 or 1 while the count is not: impossible φ
            return math.inf
        # else: a count at 0 or n matching a risk at 0 or 1 adds 0 (Pearson's 0 / 0 term as 0)
    return u


def _koopman(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float]:
    """Koopman's limits: the roots of U(φ) = z² below and above the sample ratio (0 / ∞ at a zero count)."""
    if x1 == n1 and x2 == n2:
        return n1 / (n1 + z * z), (n2 + z * z) / n2
    critical = z * z

    def excess(log_phi: float) -> float:
        return koopman_statistic(math.exp(log_phi), x1, n1, x2, n2) - critical

    # the centre of the search: the sample ratio, or a finite ratio inside the interval at a zero count
    if x1 == 0:
        centre = math.log((0.5 / n1) / (x2 / n2))
    elif x2 == 0:
        centre = math.log((x1 / n1) / (0.5 / n2))
    else:
        centre = math.log((x1 / n1) / (x2 / n2))
    # at a zero count U(φ) → 0 towards 0 (x₁ = 0) or ∞ (x₂ = 0): move the stand-in inside the interval
    inwards = -1.0 if x1 == 0 else 1.0 if x2 == 0 else 0.0
    while inwards and excess(centre) >= 0:
        centre += inwards
    low = 0.0 if x1 == 0 else math.exp(_root(excess, centre, -1.0))
    high = math.inf if x2 == 0 else math.exp(_root(excess, centre, 1.0))
    return low, high


def _root(excess, centre: float, direction: float) -> float:
    """The root of ``excess`` (negative at ``centre``) on the side ``direction`` (−1 below, +1 above):
    the bracket doubles outwards until ``excess`` is positive, then R's ``zeroin`` narrows it."""
    step = 1.0
    while excess(centre + direction * step) < 0:
        step *= 2
        if step > 1e3:
            raise ValueError("Koopman interval: no limit found within exp(±1000)")
    ends = sorted((centre + direction * step / 2 if step > 1 else centre, centre + direction * step))
    return uniroot(excess, ends[0], ends[1], tol=LOG_TOLERANCE)
