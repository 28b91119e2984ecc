r"""Sphericity of repeated measures: Mauchly's test and the Greenhouse-Geisser / Huynh-Feldt epsilons.

Role
----
Pure numerical kernel (numpy arrays in, floats out) behind the sphericity columns of the
``rm_anova`` analysis. It works on the *error sum-of-squares-and-products (SSP) matrix of
orthonormal contrasts* of one within-subject term: with ``Y`` the n × k matrix of subjects ×
within cells, ``P`` a k × p matrix of orthonormal contrasts spanning the term (``P'P = I``) and
``R`` the residuals of ``Y`` on the between-subject design, ``S = P' R'R P`` (p × p) and
``error_df = n − rank(between design)``. Every quantity below is invariant to the choice of
orthonormal basis, so any orthonormalised contrasts give the same numbers.

Matches R's ``car:::summary.Anova.mlm`` (car 3.1-1), which ``afex::aov_ez`` / ``aov_car`` use
(``summary(fit)$pval.adjustments`` and ``$sphericity.tests``); checked against
``tests/reference/rm_anova_paired_ttest/rm_anova.json`` to 1e-6 relative.

Formulas
--------
With eigenvalues :math:`\lambda_i` of :math:`S` (all > 0) and :math:`\nu` = ``error_df``:

- Greenhouse-Geisser: :math:`\hat\varepsilon_{GG} = (\sum\lambda_i)^2 / (p \sum\lambda_i^2)`,
  between :math:`1/p` and 1.
- Huynh-Feldt (car's formula, the Lecoutre-corrected form for between-subject groups):
  :math:`\tilde\varepsilon_{HF} = ((\nu + 1)\, p\, \hat\varepsilon_{GG} - 2) /
  (p\, (\nu - p\, \hat\varepsilon_{GG}))`. It can exceed 1; the corrected test uses
  :math:`\min(1, \tilde\varepsilon_{HF})` — car and afex both cap it there for the p-value.
  :func:`sphericity` returns both the raw and the capped value.
- Mauchly: :math:`\log W = \log\det S - p \log(\operatorname{tr} S / p)`,
  :math:`\rho = 1 - (2p^2 + p + 2) / (6 p \nu)`, :math:`z = -\nu \rho \log W`,
  :math:`f = p(p+1)/2 - 1`,
  :math:`\omega_2 = (p+2)(p-1)(p-2)(2p^3 + 6p^2 + 3k + 2) / (288 (\nu p \rho)^2)`,
  :math:`P = P_f + \omega_2 (P_{f+4} - P_f)` with :math:`P_g = \Pr(\chi^2_g > z)`.

Known difference from the textbook (and from ``stats::mauchly.test``): car writes
:math:`3k` in :math:`\omega_2`, with :math:`k` the number of rows of its contrast matrix (the
number of within cells), where the textbook has :math:`3p`. The ``n_cells`` argument selects
car's form (pass the number of within cells, as ``rm_anova`` does); leave it ``None`` for the
textbook form. The two coincide when :math:`p \le 2` (then :math:`\omega_2 = 0`) and otherwise
differ in about the 4th significant digit of small p-values.

Terms with one degree of freedom (p = 1) are always spherical: car reports no epsilon and no
Mauchly test for them, and :func:`sphericity` returns NaN for all four values. A singular
``S`` (fewer error df than contrasts, or a constant contrast) gives NaN too, as car does.

Example
-------
>>> import numpy as np
>>> S = np.array([[4.0, 1.0], [1.0, 2.0]])
>>> r = sphericity(S, error_df=10)
>>> round(r.epsilon_gg, 6), round(r.epsilon_hf, 6), round(r.mauchly_w, 6)
(0.818182, 0.956522, 0.777778)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sphericity", "greenhouse_geisser", "huynh_feldt", "mauchly", "sphericity"]


@dataclass(frozen=True)
class Sphericity:
    """Sphericity results of one within-subject term (NaN when not applicable).

    The row of car's ``summary(Anova.mlm)``: ``$pval.adjustments`` (``GG eps``, ``HF eps``) and
    ``$sphericity.tests`` (``Test statistic`` = Mauchly's W, ``p-value``).
    """

    epsilon_gg: float
    epsilon_hf_raw: float   # car's value, may exceed 1
    epsilon_hf: float       # min(1, raw): the value the corrected test uses
    mauchly_w: float
    mauchly_p: float


def _check(S) -> np.ndarray:
    """``S`` as a symmetrised float matrix; ``ValueError`` unless it is square and finite."""
    S = np.asarray(S, dtype=float)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"the error SSP matrix must be square, got shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError("the error SSP matrix must be finite")
    return (S + S.T) / 2.0


def is_singular(S, rtol: float = 1e-10) -> bool:
    """True when ``S`` is not positive definite (numerically): sphericity is then undefined.

    Judged on eigenvalues: singular when the smallest is at most ``rtol`` times the largest (or
    the matrix is empty). Happens with fewer error df than contrasts or a constant contrast.

    >>> is_singular([[1.0, 1.0], [1.0, 1.0]]), is_singular([[4.0, 1.0], [1.0, 2.0]])
    (True, False)
    """
    S = _check(S)
    if S.shape[0] == 0:
        return True
    eig = np.linalg.eigvalsh(S)
    return bool(eig.min() <= rtol * max(eig.max(), 0.0))


def greenhouse_geisser(S) -> float:
    """Greenhouse-Geisser epsilon of the error SSP matrix of orthonormal contrasts (NaN if p < 2).

    ``(Σλ)² / (p Σλ²)`` over the positive eigenvalues λ of the p × p matrix ``S``; car's
    ``GG eps``. Between 1/p (maximal departure from sphericity) and 1 (spherical).

    >>> round(greenhouse_geisser([[4.0, 1.0], [1.0, 2.0]]), 6)
    0.818182
    """
    S = _check(S)
    p = S.shape[0]
    if p < 2:
        return float("nan")
    lam = np.linalg.eigvalsh(S)
    lam = lam[lam > 0]
    return float((lam.sum() / p) ** 2 / (np.sum(lam ** 2) / p))


def huynh_feldt(epsilon_gg: float, error_df: float, p: int) -> float:
    """car's Huynh-Feldt epsilon (uncapped): ((ν + 1) p ε_GG − 2) / (p (ν − p ε_GG)).

    ``epsilon_gg`` from :func:`greenhouse_geisser`, ``error_df`` = ν (n − rank of the
    between design), ``p`` the term's df. May exceed 1 (car's ``HF eps`` prints it so); the
    corrected test uses ``min(1, ε_HF)``.

    >>> round(huynh_feldt(0.95, 10, 2), 4), round(huynh_feldt(0.818182, 10, 2), 4)
    (1.1667, 0.9565)
    """
    return float(((error_df + 1) * p * epsilon_gg - 2) / (p * (error_df - p * epsilon_gg)))


def mauchly(S, error_df: float, n_cells: int | None = None) -> tuple[float, float]:
    """Mauchly's W and its p-value (car's approximation; see the module docstring for ``n_cells``).

    ``S`` is the p × p error SSP matrix of orthonormal contrasts and ``error_df`` its df ν.
    Returns ``(W, p)``; both NaN when p < 2 or det S ≤ 0.

    >>> [round(v, 6) for v in mauchly([[4.0, 1.0], [1.0, 2.0]], error_df=10)]
    [0.777778, 0.322738]
    """
    from ketastats.stats import distributions

    S = _check(S)
    pp = S.shape[0]
    if pp < 2:
        return float("nan"), float("nan")
    k = pp if n_cells is None else n_cells
    n = float(error_df)
    sign, logdet = np.linalg.slogdet(S)
    if sign <= 0:
        return float("nan"), float("nan")
    log_w = logdet - pp * np.log(np.trace(S) / pp)
    rho = 1 - (2 * pp ** 2 + pp + 2) / (6 * pp * n)
    w2 = (pp + 2) * (pp - 1) * (pp - 2) * (2 * pp ** 3 + 6 * pp ** 2 + 3 * k + 2) / (288 * (n * pp * rho) ** 2)
    z = -n * rho * log_w
    f = pp * (pp + 1) / 2 - 1
    pr1 = distributions.chi2_sf(z, f)
    pr2 = distributions.chi2_sf(z, f + 4)
    return float(np.exp(log_w)), float(pr1 + w2 * (pr2 - pr1))


def sphericity(S, error_df: float, n_cells: int | None = None) -> Sphericity:
    """Epsilons and Mauchly's test of one term; all NaN when p < 2 or ``S`` is singular.

    Combines :func:`greenhouse_geisser`, :func:`huynh_feldt` and :func:`mauchly` for the error
    SSP matrix ``S`` of one within term with ``error_df`` error df; ``n_cells`` (the number of
    within cells) selects car's Mauchly approximation. Returns a :class:`Sphericity`.
    """
    S = _check(S)
    p = S.shape[0]
    if p < 2 or is_singular(S):
        nan = float("nan")
        return Sphericity(nan, nan, nan, nan, nan)
    gg = greenhouse_geisser(S)
    hf = huynh_feldt(gg, error_df, p)
    w, pw = mauchly(S, error_df, n_cells)
    return Sphericity(gg, hf, min(1.0, hf), w, pw)
