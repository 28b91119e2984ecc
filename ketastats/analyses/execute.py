"""Run one planned analysis and turn an expected failure into a failed result, never a crash.

A failure (the data cannot support the model, a numerical routine gives up) marks the
result ``failed`` with the reason as an issue; the other analyses still run and the plan
exits with code 1. Anything else is a bug and propagates with its traceback.

Example
-------
``result = execute(module, spec, ctx)``
"""

from __future__ import annotations

import warnings

import numpy as np

from ketastats.errors import Issue, KetastatsError, Location
from ketastats.results import AnalysisResult

# What the data can cause: ketastats' own errors (with codes and hints), a singular matrix, a
# division by zero and numpy floating-point errors. ValueError is here because numerical
# kernels raise it for "too few values" / "constant data" (issue 13 narrows this).
EXPECTED_FAILURES = (KetastatsError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError)
"""What fails one analysis and not the run: ketastats' own errors (an analysis raises
:class:`~ketastats.errors.AnalysisError` when the data cannot support it; ``kernel_failure``
turns a numerical kernel's refusal into one) and numerical errors of linear algebra. Anything
else (``ValueError``, ``KeyError``, ``TypeError``, ...) is a bug: it propagates with its traceback
and the CLI exits 3 (internal error)."""


def execute(module, spec, ctx) -> AnalysisResult:
    """``module.run(spec, ctx)`` with the title, the data used and the library warnings attached.

    An exception in :data:`EXPECTED_FAILURES` gives a ``failed`` result carrying the error's
    issues (or one ``analysis-failed`` issue naming the exception type); any other exception
    propagates. Warnings raised while running (numpy, scipy, pandas) are recorded as
    ``library-warning`` issues of severity warning, except deprecation and future warnings,
    which concern the code rather than the data.
    """
    location = Location(path=f"analyses[{spec.id}]")
    # record every warning (even repeated ones) of this analysis only, so each result carries its own
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = module.run(spec, ctx)
        except EXPECTED_FAILURES as exc:
            issues = exc.issues if isinstance(exc, KetastatsError) else [
                Issue("analysis-failed", f"{type(exc).__name__}: {exc}", location)]
            return AnalysisResult(spec.id, spec.type, issues=issues, status="failed", title=spec.title)
    result.title = spec.title
    result.data_used, result.columns = data_used(ctx), ctx.columns   # for figures and the report's data section
    for warning in caught:
        if issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
            continue
        result.issues.append(Issue("library-warning", f"{warning.category.__name__}: {warning.message}",
                                   location, severity="warning"))
    return result


def data_used(ctx):
    """The analysed table after population and ``where`` (the frame itself when neither filters)."""
    keep = None
    for selection in (ctx.population, ctx.where):
        if selection is not None:
            mask = selection[1].fillna(False).astype(bool)
            keep = mask if keep is None else keep & mask
    return ctx.frame if keep is None else ctx.frame[keep]
