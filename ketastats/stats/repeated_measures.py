r"""Univariate repeated-measures ANOVA (within, mixed between × within) from the multivariate linear model.

Role
----
Pure numerical kernel behind the ``rm_anova`` analysis: a complete n × k matrix of responses
(subjects × within cells) and integer codes of the between-subject factors in, one record per
ANOVA term out. No pandas, no I/O, no missing values (the caller removes incomplete subjects).

Matches R's ``afex::aov_ez(..., type = 3)`` / ``aov_car`` (afex 1.2-1), which fits the
multivariate linear model with sum-to-zero contrasts and calls ``car::Anova(type = 3)``:
sums of squares, df, F and p from ``summary(fit$Anova, multivariate = FALSE)$univariate.tests``,
``pes`` / ``ges`` from ``anova(fit, es = c("pes", "ges"))``, sphericity from
:mod:`ketastats.stats.sphericity`. Checked against
``tests/reference/rm_anova_paired_ttest/rm_anova.json``.

Formulas
--------
Cells are ordered with the first within factor varying slowest. ``X`` is the between design:
an intercept, then ``contr.sum`` columns of each between factor and their row-wise products for
interactions (n × r, full column rank — an empty between cell is an error). For a within term
``w`` the contrast matrix ``P_w`` (k × d_w, ``P'P = I``) is the Kronecker product over within
factors of an orthonormal basis of the sum-to-zero contrasts (factors in the term) or of the
normalised constant ``1/√L`` (factors not in the term). With ``B = (X'X)⁻¹X'Y``, residuals
``R = Y − XB`` and, for a between term ``b``, ``L_b`` selecting its q_b coefficients (the
intercept for "no between term"):

.. math::

    H_{bw} = (L_b B P_w)' \,[L_b (X'X)^{-1} L_b']^{-1} (L_b B P_w), \qquad
    E_w = P_w' R'R P_w

    SS = \operatorname{tr} H_{bw}, \quad df = q_b d_w, \quad SS_E = \operatorname{tr} E_w,
    \quad df_E = (n - r) d_w, \quad F = \frac{SS/df}{SS_E/df_E}

(Type III with sum-to-zero coding: each term adjusted for all others; identical to type II when
the between groups are balanced.) Effect sizes, as afex with ``observed = NULL``:
:math:`\eta^2_p = SS / (SS + SS_E)`, :math:`\eta^2_G = SS / (SS + \sum_w SS_{E,w})` with the sum
over the error strata (one per within term, including the between-subject stratum).

Known difference from afex: afex sums ``unique()`` error SS values over the table rows, which
would count two different strata once if their error SS were exactly equal; this kernel sums
each stratum once. Otherwise the numbers agree to rounding (see the reference README).

Example
-------
Four subjects, one within factor with three levels; afex / car give F(2, 6) = 10.167,
p = 0.011829, GG epsilon 0.59016:

>>> import numpy as np
>>> y = np.array([[1.0, 2.0, 4.0], [2.0, 2.5, 3.0], [0.0, 1.0, 3.5], [1.5, 3.0, 3.0]])
>>> terms = rm_anova(y, within_sizes=[3])
>>> [(t.between, t.within, t.df, t.df_error, round(t.statistic, 4)) for t in terms if t.within]
[((), (0,), 2.0, 6.0, 10.1667)]
>>> [(round(t.p_value, 6), round(t.epsilon_gg, 5)) for t in terms if t.within]
[(0.011829, 0.59016)]
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ketastats.stats.sphericity import sphericity

__all__ = ["Term", "rm_anova", "corrected_p_value", "factor_terms", "orthonormal_contrasts"]


@dataclass(frozen=True)
class Term:
    """One row of the univariate ANOVA table (``between`` / ``within``: indices of the factors).

    ``between`` and ``within`` are tuples of factor indices (``()`` for none; both empty: the
    intercept). ``sum_sq``, ``df``, ``sum_sq_error``, ``df_error``, ``statistic`` (F) and
    ``p_value`` are car's ``univariate.tests`` columns (uncorrected); ``eta_sq_partial`` /
    ``eta_sq_generalized`` are afex's ``pes`` / ``ges``. The sphericity fields (see
    :class:`ketastats.stats.sphericity.Sphericity`) are NaN for between-only terms and for
    within terms with 1 df.
    """

    between: tuple[int, ...]
    within: tuple[int, ...]
    sum_sq: float
    df: float
    sum_sq_error: float
    df_error: float
    statistic: float
    p_value: float
    eta_sq_partial: float
    eta_sq_generalized: float
    epsilon_gg: float
    epsilon_hf_raw: float
    epsilon_hf: float
    mauchly_w: float
    mauchly_p: float

    @property
    def is_intercept(self) -> bool:
        """True for the intercept row (no between and no within factor), which afex does not print."""
        return not self.between and not self.within


def factor_terms(m: int) -> list[tuple[int, ...]]:
    """The terms of a full factorial in m factors, in R's order: (), main effects, 2-way, ...

    Each term is a tuple of factor indices, as ``attr(terms(~ a * b * c), "term.labels")``.

    >>> factor_terms(3)
    [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
    """
    return [()] + [c for order in range(1, m + 1) for c in combinations(range(m), order)]


def orthonormal_contrasts(levels: int) -> np.ndarray:
    """An orthonormal basis (levels × levels−1) of the contrasts summing to zero.

    The QR orthonormalisation of ``contr.sum(levels)``. Every quantity of :func:`rm_anova` is
    invariant to the choice of orthonormal basis, so any basis reproduces car / afex. Raises
    ``ValueError`` for fewer than one level.

    >>> import numpy as np
    >>> C = orthonormal_contrasts(3)
    >>> C.shape, bool(np.allclose(C.T @ C, np.eye(2))), bool(np.allclose(C.sum(axis=0), 0))
    ((3, 2), True, True)
    """
    if levels < 1:
        raise ValueError("a factor needs at least one level")
    basis = np.vstack([np.eye(levels - 1), -np.ones((1, levels - 1))])   # contr.sum
    q, _ = np.linalg.qr(basis)
    return q


def _sum_coding(codes: np.ndarray, levels: int) -> np.ndarray:
    """contr.sum columns (n × levels−1) of integer codes 0..levels−1."""
    out = np.zeros((codes.size, levels - 1))
    for j in range(levels - 1):
        out[codes == j, j] = 1.0
    out[codes == levels - 1, :] = -1.0
    return out


def _between_design(codes: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, dict[tuple[int, ...], np.ndarray]]:
    """Between-subject design with sum-to-zero coding (R's ``model.matrix`` with ``contr.sum``),
    and the columns of each term (the intercept is the term ``()``)."""
    n = codes.shape[0]
    blocks: dict[tuple[int, ...], np.ndarray] = {(): np.ones((n, 1))}
    coded = [_sum_coding(codes[:, f], sizes[f]) for f in range(len(sizes))]
    for term in factor_terms(len(sizes))[1:]:
        block = np.ones((n, 1))
        for f in term:   # row-wise Kronecker product, earlier factor varying slowest
            block = (block[:, :, None] * coded[f][:, None, :]).reshape(n, -1)
        blocks[term] = block
    columns: list[np.ndarray] = []
    start = 0
    index: dict[tuple[int, ...], np.ndarray] = {}
    for term, block in blocks.items():
        index[term] = np.arange(start, start + block.shape[1])
        start += block.shape[1]
        columns.append(block)
    return np.hstack(columns), index


def _within_contrasts(sizes: list[int], term: tuple[int, ...]) -> np.ndarray:
    """``P_w`` of the module docstring: Kronecker product over the within factors (first slowest)."""
    matrix = np.ones((1, 1))
    for f, levels in enumerate(sizes):
        part = orthonormal_contrasts(levels) if f in term else np.full((levels, 1), 1.0 / np.sqrt(levels))
        matrix = np.kron(matrix, part)
    return matrix


def rm_anova(y, within_sizes: list[int], between_codes=None, between_sizes: list[int] | None = None,
             ) -> list[Term]:
    """Univariate type-III repeated-measures ANOVA; see the module docstring.

    Parameters
    ----------
    y : (n, k) array of responses, one row per subject, cells ordered by the within factors
        (first factor slowest); no missing values.
    within_sizes : number of levels of each within factor (their product is k).
    between_codes : (n, m) integer array of between-factor codes 0..L−1, or None.
    between_sizes : number of levels of each between factor.

    Returns
    -------
    list of :class:`Term`, in car's order (within terms outer, between terms inner), starting
    with the intercept term (which afex does not show).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or not np.all(np.isfinite(y)):
        raise ValueError("y must be a complete two-dimensional array")
    n, k = y.shape
    within_sizes = [int(s) for s in within_sizes]
    if int(np.prod(within_sizes)) != k or min(within_sizes) < 2:
        raise ValueError(f"within factors {within_sizes} need at least 2 levels each and {k} cells in all")
    between_sizes = [int(s) for s in (between_sizes or [])]
    codes = np.zeros((n, 0), dtype=int) if between_codes is None else np.asarray(between_codes, dtype=int)
    codes = codes.reshape(n, len(between_sizes))
    X, columns = _between_design(codes, between_sizes)
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise ValueError("the between-subject design is rank deficient (an empty combination of between groups)")
    error_df = n - rank
    if error_df < 1:
        raise ValueError(f"no error degrees of freedom: {n} subjects for {rank} between-subject parameters")
    xtx_inv = np.linalg.inv(X.T @ X)
    B = xtx_inv @ X.T @ y
    R = y - X @ B

    within_terms = factor_terms(len(within_sizes))
    strata = {}
    for w in within_terms:
        P = _within_contrasts(within_sizes, w)
        E = P.T @ (R.T @ R) @ P
        strata[w] = (P, E, sphericity(E, error_df, n_cells=k) if w else None)
    error_total = sum(float(np.trace(E)) for _, E, _ in strata.values())

    from ketastats.stats import distributions

    out = []
    for w in within_terms:
        P, E, sph = strata[w]
        d = P.shape[1]
        for b in factor_terms(len(between_sizes)):
            L = columns[b]
            LB = B[L] @ P
            H = LB.T @ np.linalg.solve(xtx_inv[np.ix_(L, L)], LB)
            ss, sse = float(np.trace(H)), float(np.trace(E))
            df, dfe = float(len(L) * d), float(error_df * d)
            stat = (ss / df) / (sse / dfe)
            nan = float("nan")
            out.append(Term(
                between=b, within=w, sum_sq=ss, df=df, sum_sq_error=sse, df_error=dfe, statistic=stat,
                p_value=float(distributions.f_sf(stat, df, dfe)), eta_sq_partial=ss / (ss + sse),
                eta_sq_generalized=ss / (ss + error_total),
                epsilon_gg=sph.epsilon_gg if sph else nan, epsilon_hf_raw=sph.epsilon_hf_raw if sph else nan,
                epsilon_hf=sph.epsilon_hf if sph else nan, mauchly_w=sph.mauchly_w if sph else nan,
                mauchly_p=sph.mauchly_p if sph else nan))
    return out


def corrected_p_value(statistic: float, df: float, df_error: float, epsilon: float) -> float:
    """p-value of F with both df multiplied by ``epsilon`` (GG / HF correction).

    car's ``Pr(>F[GG])`` / ``Pr(>F[HF])`` (pass ``min(1, ε_HF)`` for the latter, as car does).

    >>> round(corrected_p_value(10.166667, 2, 6, 0.590164), 6)   # afex: GG-corrected p 0.038119
    0.038119
    """
    from ketastats.stats import distributions

    return float(distributions.f_sf(statistic, df * epsilon, df_error * epsilon))
