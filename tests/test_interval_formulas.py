"""Wilson and Clopper-Pearson bounds: written out in ketastats.stats.intervals, bit-for-bit statsmodels'."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ketastats.stats.intervals import _proportion_bounds

proportion = pytest.importorskip("statsmodels.stats.proportion")


@pytest.mark.parametrize("method", ["wilson", "beta"])
def test_same_bits_as_statsmodels(method):
    for m in [*range(1, 41), 99, 100, 1000, 23000]:
        x = np.arange(1, m, dtype=float)  # 0 and n get R's exact boundary values afterwards
        if x.size == 0:
            continue
        n = np.full_like(x, m)
        for level in (0.8, 0.9, 0.95, 0.99):
            expected = proportion.proportion_confint(x, n, alpha=1 - level, method=method)
            got = _proportion_bounds(x, n, 1 - level, method)
            for e, g in zip(expected, got):
                assert np.array_equal(np.asarray(e, dtype=float), g)


def test_wilson_does_not_import_statsmodels():
    code = ("import sys; from ketastats.stats.intervals import wilson_interval, clopper_pearson_interval; "
            "wilson_interval(3, 10); clopper_pearson_interval(3, 10); print('statsmodels' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
