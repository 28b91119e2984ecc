"""Comparisons with R and their record: each value ketastats computes against the value R stored.

A :class:`Recorder` belongs to one requirement. ``compare`` takes ketastats' numbers, R's numbers
and the tolerance names (from ``tolerances.py``); a value agrees when ``|ours - R| <= rtol * scale``
or ``<= atol`` (scale = ``|R|`` unless given). Missing (NaN / None) must be missing on both sides,
infinities equal. Every call is one *check*, recorded with the number of values, the largest
absolute and relative differences and whether all agreed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def as_array(values: Any) -> np.ndarray:
    """Floats from numbers, lists, pandas objects; ``None`` and R's ``"NA"`` become NaN, ``"Inf"`` inf."""
    def number(value):
        if value is None:
            return math.nan
        if isinstance(value, str):
            return {"Inf": math.inf, "-Inf": -math.inf, "NA": math.nan, "NaN": math.nan, "": math.nan}.get(
                value, float(value) if value.strip() else math.nan)
        return float(value)

    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if np.ndim(values) == 0:
        return np.array([number(values.item() if hasattr(values, "item") else values)])
    return np.array([number(v) for v in np.ravel(np.asarray(values, dtype=object))], dtype=float)


@dataclass
class Check:
    """One comparison: ``n`` values of ``what`` against ``reference``, within ``tolerance``."""

    what: str
    reference: str
    tolerance: str
    n: int
    max_abs_diff: float
    max_rel_diff: float
    passed: bool
    detail: str = ""
    share_of_tolerance: float = 0.0     # largest difference / the difference the tolerance allows there

    def to_dict(self) -> dict:
        def clean(x):
            return None if x is None or not math.isfinite(x) else float(x)

        return {"what": self.what, "reference": self.reference, "tolerance": self.tolerance, "n": self.n,
                "max_abs_diff": clean(self.max_abs_diff), "max_rel_diff": clean(self.max_rel_diff),
                "share_of_tolerance": clean(self.share_of_tolerance), "passed": self.passed, "detail": self.detail}


@dataclass
class Recorder:
    """Collects the checks of one requirement; ``tol`` is the tolerances module."""

    tol: Any
    reference: str = ""
    checks: list[Check] = field(default_factory=list)
    used: set[str] = field(default_factory=set)     # the tolerances this requirement relies on

    def value(self, name: str) -> float:
        """A tolerance from tolerances.py by name (recorded as used); ``NAME[key]`` is one entry of a dict tolerance.

        A dict tolerance holds one value per method (e.g. ``CONTRAST_ADJUST_P_ATOL["tukey"]``); the
        name recorded as used is the dict's (its documented bounds are per entry).
        """
        base, _, key = name.partition("[")
        self.used.add(base)
        value = getattr(self.tol, base)
        return float(value[key.rstrip("]")] if key else value)

    def compare(self, what: str, ours: Any, theirs: Any, rtol: str | None = None, atol: str | None = None,
                scale: Any = None, atol_value: float | None = None, reference: str | None = None,
                labels: Any = None) -> bool:
        """Record ours vs R's; ``rtol`` / ``atol`` are names in tolerances.py (``atol_value``: a fixed floor)."""
        a, b = as_array(ours), as_array(theirs)
        if a.shape != b.shape:
            return self.fail(what, f"ketastats gives {a.size} values, R {b.size}", reference)
        s = np.abs(b) if scale is None else np.abs(as_array(scale))
        r = self.value(rtol) if rtol else 0.0
        floor = self.value(atol) if atol else (atol_value or 0.0)
        missing_a, missing_b = np.isnan(a), np.isnan(b)
        infinite = np.isinf(b) | np.isinf(a)
        same_missing = bool(np.array_equal(missing_a, missing_b))
        finite = ~missing_b & ~missing_a & ~infinite
        diff = np.abs(a[finite] - b[finite])
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(s[finite] > 0, diff / s[finite], np.where(diff == 0, 0.0, np.inf))
        ok = bool(same_missing and np.all(a[infinite & ~missing_b] == b[infinite & ~missing_b])
                  and np.all((diff <= r * s[finite]) | (diff <= floor)))
        allowed = np.maximum(r * s[finite], floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(allowed > 0, diff / allowed, np.where(diff == 0, 0.0, np.inf))
        names = " / ".join(f"{n} = {self.value(n):g}" for n in (rtol, atol) if n)
        if atol_value and not atol:
            names += f" (absolute floor {atol_value:g})"
        kind = ("relative" if rtol and not atol else "relative or absolute" if rtol else "absolute")
        detail = "" if same_missing else "missing values differ"
        if labels is not None and rel.size:
            worst = np.asarray(labels, dtype=object).ravel()[finite][int(np.argmax(rel))]
            detail = (detail + "; " if detail else "") + f"largest relative difference at {worst}"
        self.checks.append(Check(what, reference or self.reference, f"{kind}: {names}", int(b.size),
                                 float(diff.max()) if diff.size else 0.0, float(rel.max()) if rel.size else 0.0,
                                 ok, detail, float(share.max()) if share.size else 0.0))
        return ok

    def equal(self, what: str, ours: Any, theirs: Any, reference: str | None = None) -> bool:
        """An exact comparison (counts, names, flags)."""
        ok = ours == theirs
        if hasattr(ok, "all"):
            ok = bool(ok.all())
        self.checks.append(Check(what, reference or self.reference, "exact",
                                 len(theirs) if isinstance(theirs, (list, tuple)) else 1,
                                 0.0 if ok else math.nan, 0.0 if ok else math.nan, bool(ok),
                                 "" if ok else f"ketastats {ours!r} vs R {theirs!r}"[:300]))
        return bool(ok)

    def at_least(self, what: str, ours: float, bound: float, tolerance: str, reference: str | None = None) -> bool:
        """One-sided: ``ours >= bound`` (e.g. a log-likelihood no worse than R's best minus a tolerance)."""
        ok = bool(ours >= bound)
        self.checks.append(Check(what, reference or self.reference, tolerance, 1, max(0.0, bound - ours),
                                 max(0.0, bound - ours) / max(abs(bound), 1e-300), ok))
        return ok

    def fail(self, what: str, detail: str, reference: str | None = None) -> bool:
        self.checks.append(Check(what, reference or self.reference, "", 0, math.nan, math.nan, False, detail))
        return False

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)
