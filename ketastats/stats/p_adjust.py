"""Multiplicity adjustment of p-values, as R's ``stats::p.adjust`` (pure numpy kernel).

Methods: ``bonferroni``, ``holm``, ``hochberg``, ``hommel``, ``fdr_bh`` (R "BH"), ``fdr_by``
(R "BY"), and ``fixed_sequence`` (hierarchical testing in the given order: the adjusted p of the
k-th hypothesis is the largest raw p among the first k, so a hypothesis is rejected only if all
before it are). Missing p-values (NaN) stay missing and do not count towards m — unlike
statsmodels' ``multipletests``, which counts them. Written here, not wrapped, because of that
and because statsmodels has no fixed-sequence method; the algorithms are R's (R 4.2
``p.adjust``), and ties are handled as R does (stable ordering).

Example
-------
>>> adjust_p([0.01, 0.02, float("nan"), 0.04], "holm").round(6).tolist()
[0.03, 0.04, nan, 0.04]
"""

from __future__ import annotations

import numpy as np

METHODS = ("bonferroni", "holm", "hochberg", "hommel", "fdr_bh", "fdr_by", "fixed_sequence")


def adjust_p(p_values, method: str) -> np.ndarray:
    """Adjusted p-values in input order; see the module docstring for the methods."""
    if method not in METHODS:
        raise ValueError(f"unknown adjustment method {method!r}; choose one of: {', '.join(METHODS)}")
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError("p-values must be a one-dimensional sequence")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    values = p[present]
    if values.size:
        out[present] = _ADJUST[method](values)
    return out


def _bonferroni(p: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, p.size * p)


def _holm(p: np.ndarray) -> np.ndarray:
    n = p.size
    order = np.argsort(p, kind="stable")
    steps = (n - np.arange(n)) * p[order]
    return _back(np.minimum(1.0, np.maximum.accumulate(steps)), order)


def _step_up(p: np.ndarray, factor) -> np.ndarray:
    n = p.size
    order = np.argsort(-p, kind="stable")
    i = np.arange(n, 0, -1)
    return _back(np.minimum(1.0, np.minimum.accumulate(factor(n, i) * p[order])), order)


def _hochberg(p: np.ndarray) -> np.ndarray:
    return _step_up(p, lambda n, i: n - i + 1)


def _bh(p: np.ndarray) -> np.ndarray:
    return _step_up(p, lambda n, i: n / i)


def _by(p: np.ndarray) -> np.ndarray:
    q = np.sum(1.0 / np.arange(1, p.size + 1))
    return _step_up(p, lambda n, i: q * n / i)


def _hommel(p: np.ndarray) -> np.ndarray:
    n = p.size
    if n == 1:
        return p.copy()
    order = np.argsort(p, kind="stable")
    s = p[order]
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
    return _back(np.maximum(pa, s), order)


def _fixed_sequence(p: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(p)


def _back(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(sorted_values)
    out[order] = sorted_values
    return out


_ADJUST = {"bonferroni": _bonferroni, "holm": _holm, "hochberg": _hochberg, "hommel": _hommel,
           "fdr_bh": _bh, "fdr_by": _by, "fixed_sequence": _fixed_sequence}
