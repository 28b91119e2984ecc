"""Numerical tolerances for comparing ketastats with R reference values: one place for all.

Every test that compares against a file under ``tests/reference/`` takes its
tolerance from here, so a tolerance is chosen once, with its reason, and is easy
to review. Add one constant per kind of result, with a comment saying why that
value.

Tests load this file by path (``tests/`` is not a package), e.g.::

    import importlib.util, pathlib
    _path = pathlib.Path(__file__).resolve().parents[1] / "reference" / "tolerances.py"
    _spec = importlib.util.spec_from_file_location("ketastats_reference_tolerances", _path)
    tolerances = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(tolerances)
"""

# Binomial proportion confidence intervals (Wilson = prop.test(correct = FALSE),
# Clopper-Pearson = binom.test), absolute difference per bound.
# Why 1e-10: both are closed forms (a normal quantile plus arithmetic, or two Beta
# quantiles); the R reference is stored with 17 significant digits, so it is the
# exact R double. What remains is the difference between R's qnorm/qbeta and
# SciPy's quantile algorithms: about 1e-15 on the reference grid (max observed
# 1.2e-15). 1e-10 leaves five orders of magnitude for other platforms and library
# versions, yet is far below the 3-4 decimals a report shows and far below any
# real error: on the reference grid a continuity correction, a one-sided quantile or
# an off-by-one in a Beta shape parameter each move some bound by at least 1e-4.
PROPORTION_CI_ATOL = 1e-10
