"""``diagnostics``: residuals versus fitted values and a normal QQ plot for a mixed model.

Drawn from the ``mixed_model`` analysis's ``extras``: ``observed`` (y), ``fitted_conditional``
(X β + Z b with the conditional modes b, lme4's ``fitted(m)``) and, when that is absent,
``fitted`` (X β). Residuals are observed − fitted (lme4's ``residuals(m)``). The QQ plot puts
the residuals standardised by the model's σ (glance ``sigma``) against normal quantiles at
R's ``ppoints(n)`` with the identity line, as ``qqnorm`` / ``qqline`` would show them.

Plan keys: none beyond the common ones.

Example
-------
``{id: diagnostics_fc_sgacc_dmn, type: diagnostics, analysis: fc_sgacc_dmn}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from ketastats.figures.base import FigureContext, FigureSpec


class Spec(FigureSpec):
    """Residuals vs fitted and normal QQ of a mixed model's residuals."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("mixed_model",)

    type: Literal["diagnostics"]


def ppoints(n: int):
    """R ``ppoints(n)``: (i − a) / (n + 1 − 2a), a = 3/8 for n ≤ 10, else 1/2."""
    import numpy as np

    a = 3 / 8 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def residuals(ctx: FigureContext):
    import numpy as np

    extras = ctx.analysis.extras
    observed = np.asarray(extras["observed"], dtype=float)
    fitted = np.asarray(extras.get("fitted_conditional", extras["fitted"]), dtype=float)
    return fitted, observed - fitted


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure
    from ketastats.stats import distributions

    fitted, resid = residuals(ctx)
    sigma = float(ctx.analysis.glance.get("sigma") or np.std(resid, ddof=1))
    response = ctx.analysis.extras["outcomes"][0]
    height = spec.height_mm or 58
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec) - 14 / points   # panel titles
    bottom = 36 / points
    ax = figure.add_axes((0.17, bottom, 0.31, top - bottom))
    ax_q = figure.add_axes((0.66, bottom, 0.31, top - bottom))
    points = ax.scatter(fitted, resid, s=7, color=PALETTE[0], linewidths=0)
    points.set_gid("residuals")
    ax.axhline(0, color="black", lw=0.6, ls="--")
    ax.set_xlabel(f"Fitted {ctx.short_label(response)}")
    ax.set_ylabel("Residual")
    ax.set_title("Residuals vs fitted", loc="left")
    ordered = np.sort(resid / sigma)
    theoretical = distributions.norm_ppf(ppoints(len(ordered)))
    qq = ax_q.scatter(theoretical, ordered, s=7, color=PALETTE[0], linewidths=0)
    qq.set_gid("qq")
    bound = float(max(abs(theoretical).max(), abs(ordered).max())) * 1.05
    (line,) = ax_q.plot([-bound, bound], [-bound, bound], color="black", lw=0.6, ls="--")
    line.set_gid("identity")
    ax_q.set_xlabel("Normal quantile")
    ax_q.set_ylabel("Standardised residual")
    ax_q.set_title("Normal QQ", loc="left")
    figure.text(0.01, 0.005, f"n = {len(resid)} observations; residuals conditional on the random effects; "
                f"σ = {sigma:.3g}", fontsize=5, ha="left", va="bottom")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure
