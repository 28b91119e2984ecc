"""Multiplicity adjustment of p-values, as R's ``stats::p.adjust`` (pure numpy kernel).

Methods: ``bonferroni``, ``holm``, ``hochberg``, ``hommel``, ``fdr_bh`` (R "BH"), ``fdr_by``
(R "BY"), and ``fixed_sequence`` (hierarchical testing in the given order: the adjusted p of the
k-th hypothesis is the largest raw p among the first k, so a hypothesis is rejected only if all
before it are). Missing p-values (NaN) stay missing and do not count towards m — unlike
statsmodels' ``multipletests``, which counts them. Written here, not wrapped, because of that
and because statsmodels has no fixed-sequence method; the algorithms are R's (R 4.2
``p.adjust``), and ties are handled as R does (stable ordering). ``n`` is R's ``p.adjust(n = )``:
the family size when some hypotheses are not among the given p-values (Hommel pads with p = 1,
as R; with n = 2 Hommel is Hochberg, as R; with n ≤ 1 the p-values are returned unchanged).

Example
-------
>>> adjust_p([0.01, 0.02, float("nan"), 0.04], "holm").round(6).tolist()
[0.03, 0.04, nan, 0.04]
"""

from __future__ import annotations

import numpy as np

METHODS = ("bonferroni", "holm", "hochberg", "hommel", "fdr_bh", "fdr_by", "fixed_sequence")


def adjust_p(p_values, method: str, n: int | None = None) -> np.ndarray:
    """Adjusted p-values in input order; see the module docstring for the methods.

    ``n`` is R's ``p.adjust(n = )``: the number of hypotheses when more were tested than are
    given (at least the number of non-missing p-values; default: that number).

    ``p_values`` is a 1-d sequence in [0, 1] (NaN allowed); ``method`` one of :data:`METHODS`
    (``fdr_bh`` / ``fdr_by`` are R's ``"BH"`` / ``"BY"``). Returns a float array of the same
    length, NaN where the input is NaN. Raises ``ValueError`` for an unknown method, a value
    outside [0, 1], a non-1-d input, or ``n`` below the number of p-values.

    >>> p = [0.01, 0.02, 0.03, 0.04, 0.2]
    >>> adjust_p(p, "hommel").round(6).tolist()   # R: p.adjust(p, "hommel")
    [0.05, 0.06, 0.06, 0.08, 0.2]
    >>> adjust_p(p, "fdr_by").round(6).tolist()   # R: p.adjust(p, "BY")
    [0.114167, 0.114167, 0.114167, 0.114167, 0.456667]
    >>> adjust_p([0.01, 0.04], "hommel", n=4).round(6).tolist()   # R: p.adjust(p, "hommel", n = 4)
    [0.04, 0.12]
    """
    if method not in METHODS:
        raise ValueError(f"unknown adjustment method {method!r}; choose one of: {', '.join(METHODS)}")
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError("p-values must be a one-dimensional sequence")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    m = int(present.sum())
    if n is not None and n < m:
        raise ValueError(f"n = {n} is smaller than the number of p-values ({m})")
    n = m if n is None else int(n)
    out = np.full(p.shape, np.nan)
    values = p[present]
    if values.size:
        out[present] = values if n <= 1 and method != "fixed_sequence" else _ADJUST[method](values, n)
    return out


# Each kernel below takes the non-missing p-values (input order) and the family size n, and
# returns the adjusted values in the same order; each is the corresponding branch of R's p.adjust.

def _bonferroni(p: np.ndarray, n: int) -> np.ndarray:
    """``pmin(1, n * p)``."""
    return np.minimum(1.0, n * p)


def _holm(p: np.ndarray, n: int) -> np.ndarray:
    """Step-down: ``pmin(1, cummax((n - i + 1) * p[o]))[ro]`` with ``o`` the ascending order."""
    order = np.argsort(p, kind="stable")
    steps = (n - np.arange(p.size)) * p[order]
    return _back(np.minimum(1.0, np.maximum.accumulate(steps)), order)


def _step_up(p: np.ndarray, n: int, factor) -> np.ndarray:
    """Step-up adjustments: ``pmin(1, cummin(factor(n, i) * p[o]))[ro]``, ``o`` the descending order
    and ``i = lp:1`` the ranks (R's ``i <- lp:1L; o <- order(p, decreasing = TRUE)``)."""
    order = np.argsort(-p, kind="stable")
    i = np.arange(p.size, 0, -1)
    return _back(np.minimum(1.0, np.minimum.accumulate(factor(n, i) * p[order])), order)


def _hochberg(p: np.ndarray, n: int) -> np.ndarray:
    """Hochberg (1988): step-up with factor ``n − i + 1``."""
    return _step_up(p, n, lambda n, i: n - i + 1)


def _bh(p: np.ndarray, n: int) -> np.ndarray:
    """Benjamini–Hochberg (1995) false discovery rate: step-up with factor ``n / i``."""
    return _step_up(p, n, lambda n, i: n / i)


def _by(p: np.ndarray, n: int) -> np.ndarray:
    """Benjamini–Yekutieli (2001): BH multiplied by ``q = Σ_{k ≤ n} 1/k`` (any dependence)."""
    q = np.sum(1.0 / np.arange(1, n + 1))
    return _step_up(p, n, lambda n, i: q * n / i)


def _hommel(p: np.ndarray, n: int) -> np.ndarray:
    """Hommel (1988), R's loop over m = n − 1, …, 2 on the sorted p-values padded with 1s up to n;
    only the first ``len(p)`` (the given hypotheses) are returned."""
    given = p.size
    if n == 2:  # R: "if (n == 2 && method == "hommel") method <- "hochberg""
        return _hochberg(p, n)
    order = np.argsort(p, kind="stable")
    s = np.concatenate([p[order], np.ones(n - given)])  # R pads with p = 1 up to n
    i = np.arange(1, n + 1)
    q = np.full(n, np.min(n * s / i))
    pa = q.copy()
    for m in range(n - 1, 1, -1):
        i1 = np.arange(0, n - m + 1)
        i2 = np.arange(n - m + 1, n)
        q1 = np.min(m * s[i2] / np.arange(2, m + 1))
        q[i1] = np.minimum(m * s[i1], q1)
        q[i2] = q[n - m]
        pa = np.maximum(pa, q)
    return _back(np.maximum(pa, s)[:given], order)


def _fixed_sequence(p: np.ndarray, n: int) -> np.ndarray:
    """Fixed-sequence (hierarchical) testing: running maximum in the given order; ``n`` is unused."""
    return np.maximum.accumulate(p)


def _back(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Undo a sort: put ``sorted_values[k]`` at position ``order[k]`` (R's ``[ro]`` indexing)."""
    out = np.empty_like(sorted_values)
    out[order] = sorted_values
    return out


_ADJUST = {"bonferroni": _bonferroni, "holm": _holm, "hochberg": _hochberg, "hommel": _hommel,
           "fdr_bh": _bh, "fdr_by": _by, "fixed_sequence": _fixed_sequence}
