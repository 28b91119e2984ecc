"""Reference grids, comparisons and t intervals shared by mixed_model and mmrm (emmeans' conventions).

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

import pandas as pd

from ketastats.errors import AnalysisError, Issue, Location


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
