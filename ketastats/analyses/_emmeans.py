"""Reference grids, comparisons, t intervals and the contrasts' multiplicity adjustment shared by
mixed_model and mmrm (emmeans' conventions).

Adjustment of a family of contrasts (the contrasts of one ``by`` group, and of one df method):
an R ``p.adjust`` method on the p-values, or emmeans' simultaneous methods — ``tukey`` (all
pairwise comparisons: studentized range, ``adjust = "tukey"``) and ``dunnett`` (comparisons with
one level: multivariate t with the contrasts' correlation, emmeans ``adjust = "mvt"``; not the
``dunnettx`` approximation) — which also give simultaneous intervals (``conf_low_adjusted``,
``conf_high_adjusted``). Kernels: :mod:`ketastats.stats.simultaneous`.

Example
-------
>>> from types import SimpleNamespace
>>> comparisons(SimpleNamespace(emmeans="visit", versus="base", pairwise=False), ["base", "wk1", "wk2"])
[('wk1', 'base'), ('wk2', 'base')]
>>> comparisons(SimpleNamespace(emmeans="visit", versus=None, pairwise=True), ["a", "b", "c"])
[('a', 'b'), ('a', 'c'), ('b', 'c')]
>>> [round(float(v), 4) for v in t_interval(1.0, 0.5, 10.0, 0.95)]   # R: 1 + c(-1, 1) * qt(0.975, 10) * 0.5
[-0.1141, 2.1141]
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ketastats.errors import AnalysisError, Issue, Location
from ketastats.language.fields import POST_HOC_METHODS

#: emmeans' simultaneous adjustments, on top of the p.adjust methods.
SIMULTANEOUS = ("tukey", "dunnett")
# ContrastAdjust: the adjust: choices of a contrasts entry (a Literal built at run time; mypy sees str)
if TYPE_CHECKING:
    ContrastAdjust = str
else:
    ContrastAdjust = Literal[("none",) + POST_HOC_METHODS + SIMULTANEOUS]


def adjust_problem(contrast) -> str | None:
    """Why ``adjust`` does not fit the comparisons declared (tukey: pairwise; dunnett: versus), else None.

    >>> from types import SimpleNamespace
    >>> adjust_problem(SimpleNamespace(adjust="tukey", pairwise=False, versus="ect"))[:40]
    'adjust: tukey is for all pairwise compar'
    """
    if contrast.adjust == "tukey" and not contrast.pairwise:
        return ("adjust: tukey is for all pairwise comparisons (pairwise: true); for comparisons with one "
                "level (versus:) use adjust: dunnett")
    if contrast.adjust == "dunnett" and contrast.versus is None:
        return ("adjust: dunnett is for comparisons with one level (versus: LEVEL); for all pairwise "
                "comparisons use adjust: tukey")
    return None


def adjust_block(block: list[dict], contrasts: np.ndarray, vcov: np.ndarray, method: str, n_means: int,
                 level: float) -> None:
    """Fill ``p_adjusted`` and ``adjust_method`` of one family of contrast rows (in place).

    ``block``: the rows (``statistic``, ``df``, ``p_value``, ``estimate``, ``std_error``);
    ``contrasts``: their L rows (one per contrast) and ``vcov`` the covariance of β̂ that gave their
    SEs, so that L V L' is the covariance of the estimates (the multivariate t's correlation);
    ``n_means``: the means compared (Tukey's k). ``tukey`` / ``dunnett`` also set the simultaneous
    interval ``conf_low_adjusted`` / ``conf_high_adjusted`` = estimate ∓ critical value × SE (as
    emmeans' ``confint`` with that adjustment); the p.adjust methods set the p-values only. One
    contrast: p_adjusted = p_value (emmeans sets ``adjust = "none"`` for a family of one).
    """
    if not block or method == "none":
        return
    if method in SIMULTANEOUS:
        from ketastats.stats.simultaneous import adjust_family

        cov = contrasts @ vcov @ contrasts.T
        adjusted, critical = adjust_family([r["statistic"] for r in block], [r["df"] for r in block],
                                           cov, method, n_means, level)
        for row, p, c in zip(block, adjusted, critical):
            row["p_adjusted"], row["adjust_method"] = float(p), method
            row["conf_low_adjusted"] = row["estimate"] - c * row["std_error"]
            row["conf_high_adjusted"] = row["estimate"] + c * row["std_error"]
        return
    from ketastats.stats.p_adjust import adjust_p

    for row, value in zip(block, adjust_p([r["p_value"] for r in block], method)):
        row["p_adjusted"], row["adjust_method"] = float(value), method


def t_interval(estimate: float, se: float, df: float, level: float) -> tuple[float, float]:
    """estimate ± t_{df} × se (the interval emmeans, lmerTest's and mmrm's ``confint`` give on the same df)."""
    from ketastats.stats import distributions

    half = distributions.t_ppf(0.5 + level / 2, df) * se
    return estimate - half, estimate + half


def grid_levels(data: pd.DataFrame, name: str, at: dict) -> list:
    """The reference-grid values of one predictor: ``at`` values, else a factor's levels (numeric: an error)."""
    if name in at:
        return list(at[name])
    column = data[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    raise AnalysisError(Issue("emmeans-numeric", f"'{name}' is numeric: give its values with at: {{{name}: [...]}}",
                              Location(column=name)))


def comparisons(contrast, levels: list, path: str = "contrasts") -> list[tuple]:
    """(a, b) pairs whose difference a − b is tested: every level vs ``versus`` (emmeans ``trt.vs.ctrl``
    with that reference), every pair in level order (``pairwise``), or none. ``path`` locates an
    absent ``versus`` level in the plan."""
    if contrast.versus is not None:
        reference = [lvl for lvl in levels if str(lvl) == str(contrast.versus)]
        if not reference:
            raise AnalysisError(Issue("emmeans-level-absent", f"'{contrast.versus}' is not a level of "
                                      f"'{contrast.emmeans}'", Location(path=path)))
        return [(lvl, reference[0]) for lvl in levels if lvl != reference[0]]
    if getattr(contrast, "pairwise", False):
        return list(combinations(levels, 2))
    return []
