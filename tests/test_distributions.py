"""ketastats.stats.distributions is bit-identical to the scipy.stats calls it replaces.

Identity (not closeness) is the claim of that module, so these tests compare with ``np.array_equal``
(NaN at the same places, ``equal_nan=True``) on seeded arguments that include far tails, edges of the
support (0, 1, ±inf), NaN and invalid parameters, for arrays and for scalars.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ketastats.stats import distributions as d

RNG = np.random.default_rng(20261201)
N = 4000


def _x() -> np.ndarray:
    """Statistics from tiny to far-tail, both signs, plus edges."""
    body = RNG.standard_normal(N) * 3
    tails = np.concatenate([10.0 ** RNG.uniform(-12, 3, N // 4), -(10.0 ** RNG.uniform(-12, 3, N // 4))])
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 1e300, 40.0, -40.0, 1.0])
    return np.concatenate([body, tails, edges])


def _q() -> np.ndarray:
    """Probabilities incl. extreme tails, 0, 1 and out-of-range values."""
    body = RNG.uniform(0, 1, N)
    tails = 10.0 ** RNG.uniform(-300, -1, N // 4)
    edges = np.array([0.0, 1.0, 0.5, 0.025, 0.975, 1 - 1e-16, 1e-320, -0.1, 1.1, np.nan])
    return np.concatenate([body, tails, 1 - tails, edges])


def _df(size: int) -> np.ndarray:
    """Degrees of freedom: small fractional (Satterthwaite), large, plus 0, negative, inf, NaN."""
    df = np.concatenate([RNG.uniform(0.05, 5, size // 2), 10.0 ** RNG.uniform(0, 7, size - size // 2)])
    df[:6] = [0.0, -1.0, np.inf, np.nan, 1.0, 2.0]
    return RNG.permutation(df)


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True) and np.asarray(a).dtype == np.asarray(b).dtype


@pytest.mark.parametrize("ours, theirs", [(d.t_cdf, stats.t.cdf), (d.t_sf, stats.t.sf)])
def test_t_probabilities(ours, theirs):
    x = _x()
    df = _df(x.size)
    assert _same(ours(x, df), theirs(x, df))
    for xi, dfi in zip(x[::97], df[::97]):
        assert _same(ours(float(xi), float(dfi)), theirs(float(xi), float(dfi)))


def test_t_ppf():
    q = _q()
    df = _df(q.size)
    assert _same(d.t_ppf(q, df), stats.t.ppf(q, df))
    assert _same(d.t_ppf(0.975, 7.3), stats.t.ppf(0.975, 7.3))


@pytest.mark.parametrize("ours, theirs", [(d.norm_cdf, stats.norm.cdf), (d.norm_sf, stats.norm.sf)])
def test_norm_probabilities(ours, theirs):
    x = _x()
    assert _same(ours(x), theirs(x))
    assert _same(ours(1.5), theirs(1.5))


def test_norm_ppf():
    q = _q()
    assert _same(d.norm_ppf(q), stats.norm.ppf(q))
    assert _same(d.norm_ppf(0.975), stats.norm.ppf(0.975))


def test_chi2():
    x = np.abs(_x())
    x[:5] = [-1.0, -np.inf, 0.0, np.inf, np.nan]
    df = _df(x.size)
    assert _same(d.chi2_sf(x, df), stats.chi2.sf(x, df))
    assert _same(d.chi2_sf(3.2, 1), stats.chi2.sf(3.2, 1))
    q = _q()
    df = _df(q.size)
    assert _same(d.chi2_ppf(q, df), stats.chi2.ppf(q, df))
    assert _same(d.chi2_ppf(0.95, 1), stats.chi2.ppf(0.95, 1))


def test_f_sf():
    x = np.abs(_x())
    x[:5] = [-1.0, -np.inf, 0.0, np.inf, np.nan]
    dfn, dfd = _df(x.size), RNG.permutation(_df(x.size))
    assert _same(d.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))
    assert _same(d.f_sf(4.2, 3, 27.5), stats.f.sf(4.2, 3, 27.5))
    # integer degrees of freedom as the analyses pass them
    assert _same(d.f_sf(x, 2, 40), stats.f.sf(x, 2, 40))


def test_nct_cdf():
    x = _x()
    df = _df(x.size)
    nc = RNG.standard_normal(x.size) * 5
    nc[:4] = [np.nan, 0.0, 40.0, -40.0]
    assert _same(d.nct_cdf(x, df, nc), stats.nct.cdf(x, df, nc))
    assert _same(d.nct_cdf(2.1, 7.0, 1.3), stats.nct.cdf(2.1, 7.0, 1.3))


@pytest.mark.filterwarnings("ignore:Error in function boost")  # same warning from scipy.stats
@pytest.mark.parametrize("ours, theirs", [(d.beta_ppf, stats.beta.ppf), (d.beta_isf, stats.beta.isf)])
def test_beta_quantiles(ours, theirs):
    # Clopper-Pearson arguments: beta(x, n - x + 1) and beta(x + 1, n - x), x = 0..n incl. invalid 0
    n = RNG.integers(1, 3000, 2000).astype(float)
    x = np.floor(RNG.uniform(0, 1, n.size) * (n + 1))
    half = RNG.choice([0.005, 0.025, 0.05, 0.1, 0.0, 1.0, 0.5], n.size)
    for a, b in ((x, n - x + 1), (x + 1, n - x)):
        assert _same(ours(half, a, b), theirs(half, a, b))
    q = _q()
    a, b = _df(q.size), RNG.permutation(_df(q.size))
    assert _same(ours(q, a, b), theirs(q, a, b))
    assert _same(ours(0.025, 3.0, 8.0), theirs(0.025, 3.0, 8.0))


def test_hypergeom():
    # Fisher's test arguments: the whole support of k plus values off it, and invalid tables
    for _ in range(300):
        M = int(RNG.integers(1, 400))
        n, N = int(RNG.integers(0, M + 1)), int(RNG.integers(0, M + 1))
        k = np.arange(-2, min(n, N) + 3)
        for ours, theirs in ((d.hypergeom_logpmf, stats.hypergeom.logpmf), (d.hypergeom_cdf, stats.hypergeom.cdf),
                             (d.hypergeom_sf, stats.hypergeom.sf)):
            assert _same(ours(k, M, n, N), theirs(k, M, n, N))
            assert _same(ours(k - 1, M, n, N), theirs(k - 1, M, n, N))
            assert _same(ours(int(k[3]), M, n, N), theirs(int(k[3]), M, n, N))
    k = np.array([0.0, 1.5, np.nan, np.inf, -np.inf, 2.0])
    for M, n, N in ((10, 4, 3), (10, 11, 3), (0, 0, 0), (10.5, 4, 3), (10, -1, 3)):
        for ours, theirs in ((d.hypergeom_logpmf, stats.hypergeom.logpmf), (d.hypergeom_cdf, stats.hypergeom.cdf),
                             (d.hypergeom_sf, stats.hypergeom.sf)):
            assert _same(ours(k, M, n, N), theirs(k, M, n, N))


def test_rankdata():
    for size in (0, 1, 7, 500):
        values = RNG.integers(0, max(size // 3, 1), size).astype(float)
        assert _same(d.rankdata(values), stats.rankdata(values))
        values = RNG.standard_normal(size)
        assert _same(d.rankdata(values), stats.rankdata(values))
    assert _same(d.rankdata([1, 2, 2, 5]), stats.rankdata([1, 2, 2, 5]))
    assert _same(d.rankdata([1.0, np.nan, 2.0]), stats.rankdata([1.0, np.nan, 2.0]))


def test_siegel_analyses_import_no_scipy_stats():
    """The Siegel plan's analyses run without importing scipy.stats (≈ 0.5 s) or statsmodels / pingouin /
    lifelines: a fresh interpreter (this test process has them loaded already)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys\n"
        "from ketastats.api import run_plan\n"
        f"run_plan({str(root / 'analysis_plans' / 'siegel2021.yaml')!r}, write=False)\n"
        "heavy = ('scipy.stats', 'statsmodels', 'pingouin', 'lifelines')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('scipy.stats')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
