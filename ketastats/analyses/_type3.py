"""Contrast matrices of type-III F tests, built exactly as lmerTest's ``anova(m, type = 3)`` builds them.

A joint F test with Satterthwaite df depends on the *basis* of the hypothesis, not only on the
hypothesis: the F statistic is the same for any L with the same row space, but lmerTest's
denominator df (its ``get_Fstat_ddf``: one Satterthwaite df per eigenvector of L C L') change
with it. To report the df lmerTest reports, this module reproduces its L (lmerTest 3.1,
``get_contrasts_type3`` / ``extract_contrasts_type3``; SAS's type-III estimable functions):

1. ``rdX``: the over-parameterised design, every term coded with indicators of *all* its levels
   (``model.matrix(~ 0 + term)`` per term, plus the intercept).
2. ``L = zapsmall(t(ginv(X) %*% rdX))`` with ``X`` the treatment-coded design of the fit.
3. Highest-order terms first, the columns of a term are replaced by their residuals on the
   columns of the terms that contain it (a term is contained in another that has all of its
   variables and more, and the same numeric variables: ``group`` is not contained in
   ``time:group``, ``time`` is).
4. The rows of L that are columns of X; per term, its columns transposed; rows that are all
   (near) zero dropped.

A model with a single term gets lmerTest's type-I contrast (Doolittle factorisation of X'X),
as lmerTest does. Kenward-Roger F tests do not depend on the basis; they use the same L.

Example
-------
>>> import pandas as pd
>>> from ketastats.language.formulas import design_matrices, parse_formula
>>> data = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "t": [0.0, 1, 2, 0, 1, 2],
...                      "g": pd.Categorical(list("aaabbb"))})
>>> design = design_matrices(parse_formula("y ~ t * g"), data)
>>> [(name, L.shape) for name, L in type3_contrasts(design, data)]
[('g', (1, 4)), ('t', (1, 4)), ('t:g', (1, 4))]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest absolute entry.

    lmerTest zaps L after each step, so entries that are rounding noise become exact zeros and
    do not add spurious rows or df to a hypothesis.

    >>> zapsmall(np.array([1.0, 1e-12, 0.123456789])).tolist()
    [1.0, 0.0, 0.1234568]
    """
    x = np.asarray(x, dtype=np.float64)
    largest = float(np.max(np.abs(x))) if x.size else 0.0
    places = max(0, digits - math.ceil(math.log10(largest))) if largest > 0 else digits
    return np.round(x, places)


def _over_parameterised(term, design_info, data: pd.DataFrame) -> np.ndarray:
    """Columns of ``model.matrix(~ 0 + term)``: products of the numeric variables and the
    indicators of every level of every categorical one (first factor varying fastest, as R)."""
    columns = [np.ones(len(data))]
    for factor in term.factors:
        values = data[factor.name()]
        if design_info.factor_infos[factor].type == "categorical":
            levels = design_info.factor_infos[factor].categories
            indicators = [(values.astype(object) == level).to_numpy(dtype=float) for level in levels]
            columns = [ind * col for ind in indicators for col in columns]
        else:
            numeric = values.to_numpy(dtype=float)
            columns = [col * numeric for col in columns]
    return np.column_stack(columns)


def _variables(term, design_info) -> tuple[frozenset, frozenset]:
    """(all variables, numeric variables) of a term, for the containment rule of step 3."""
    names = frozenset(f.name() for f in term.factors)
    numeric = frozenset(f.name() for f in term.factors if design_info.factor_infos[f].type == "numerical")
    return names, numeric


def _doolittle_lower(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """lmerTest's ``doolittle(x)$L`` (unit lower triangular factor of x = L U, small entries zeroed).

    >>> _doolittle_lower(np.array([[4.0, 2.0], [2.0, 3.0]])).tolist()
    [[1.0, 0.0], [0.5, 1.0]]
    """
    n = x.shape[0]
    L, U = np.eye(n), np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            U[i, j] = x[i, j] - L[i, :i] @ U[:i, j]
        for j in range(i + 1, n):
            value = x[j, i] - L[j, :i] @ U[:i, i]
            L[j, i] = 0.0 if abs(U[i, i]) < eps else value / U[i, i]
    L[np.abs(L) < eps] = 0.0
    return L


def type3_contrasts(design: pd.DataFrame, data: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(term name, L) for every term but the intercept; L has one row per hypothesis, one column
    per coefficient of the treatment-coded ``design`` (from ``design_matrices``).

    Terms come in the design's (patsy's) order. ``data`` must be the rows the model was fitted
    to, with the same factor levels, since ``rdX`` is built from them. Raises ``ValueError`` if
    a design column cannot be placed among the over-parameterised columns (a coding this
    module does not know).
    """
    info = design.design_info
    X = design.to_numpy(dtype=float)
    terms = [t for t in info.terms if t.factors]
    if not terms:
        return []
    slices = {t: info.slice(t) for t in info.terms}
    if len(terms) == 1:
        L = _doolittle_lower(X.T @ X).T
        return [(terms[0].name(), L[slices[terms[0]]])]
    # 1. over-parameterised design and where each column of X sits in it
    blocks: list[np.ndarray] = []
    positions: dict = {}
    offset = 0
    for term in info.terms:
        block = np.ones((len(data), 1)) if not term.factors else _over_parameterised(term, info, data)
        blocks.append(block)
        positions[term] = np.arange(offset, offset + block.shape[1])
        offset += block.shape[1]
    rdX = np.column_stack(blocks)
    # which column of rdX each column of X is (identical values): step 4 keeps those rows of L
    row_of_x_column = np.empty(X.shape[1], dtype=int)
    for term in info.terms:
        candidates = positions[term]
        for column in range(X.shape[1])[slices[term]]:
            matches = [c for c in candidates if np.allclose(rdX[:, c], X[:, column], rtol=1e-12, atol=1e-12)]
            if not matches:
                raise ValueError(f"cannot place column {design.columns[column]!r} in the type-III design")
            row_of_x_column[column] = matches[0]
    # 2. L = t(ginv(X) rdX)
    L = zapsmall((np.linalg.pinv(X) @ rdX).T)
    # 3. orthogonalise each term against the terms it contains, highest order first
    variables = {t: _variables(t, info) for t in terms}
    order = sorted(terms, key=lambda t: -len(t.factors))        # stable: ties keep formula order
    for term in order:
        names, numeric = variables[term]
        containing = [other for other in terms if names < variables[other][0] and variables[other][1] == numeric]
        if not containing:
            continue
        own = np.arange(X.shape[1])[slices[term]]
        basis = np.concatenate([np.arange(X.shape[1])[slices[c]] for c in containing])
        target = L[:, own]
        coef, *_ = np.linalg.lstsq(L[:, basis], target, rcond=None)
        L[:, own] = zapsmall(target - L[:, basis] @ coef)
    # 4. rows that are columns of X, per term
    L = L[row_of_x_column]
    out = []
    for term in terms:
        block = L[:, slices[term]].T
        out.append((term.name(), block[np.sum(np.abs(block), axis=1) > 1e-8]))
    return out
