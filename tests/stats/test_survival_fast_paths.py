"""The Cox kernel's shortcuts (issue 15) give bit-identical numbers to the paths they replace:
cox_zph with the fit's stored sort order or without it, and the tied-pair counts of concordance."""

import dataclasses

import numpy as np
import pytest

from ketastats.stats.survival import concordance, cox_fit, cox_zph


@pytest.fixture
def data():
    rng = np.random.default_rng(15)
    n = 400
    x = np.column_stack([rng.integers(0, 2, n), rng.integers(18, 80, n)]).astype(float)
    time = np.round(rng.exponential(20, n), 0) + 1     # many tied times
    event = (rng.random(n) < 0.7).astype(float)
    strata = rng.integers(0, 2, n)
    return time, event, x, strata


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("transform", ["km", "identity"])
def test_zph_same_with_and_without_the_stored_order(data, ties, transform):
    time, event, x, strata = data
    fit = cox_fit(time, event, x, strata, ties)
    assert fit.order is not None
    with_order = cox_zph(time, event, x, strata, fit, ties, transform)
    without = cox_zph(time, event, x, strata, dataclasses.replace(fit, order=None), ties, transform)
    for key in ("chisq", "p"):
        assert np.array_equal(with_order[key], without[key])
    assert with_order["global_chisq"] == without["global_chisq"]   # same arithmetic: bit-identical


def test_concordance_tied_pairs_counted_by_pair(data):
    time, event, x, strata = data
    fit = cox_fit(time, event, x, strata)
    c = concordance(time, event, fit.linear_predictor, strata)
    # brute force over event pairs within a stratum: same time (tied_y), and same time and lp (tied_xy)
    lp = np.round(fit.linear_predictor, 9)
    tied_y = tied_xy = 0
    for s in np.unique(strata):
        ev = np.flatnonzero((strata == s) & (event > 0))
        for i, a in enumerate(ev):
            same = time[ev[i + 1:]] == time[a]
            tied_xy += int(np.sum(same & (lp[ev[i + 1:]] == lp[a])))
            tied_y += int(np.sum(same))
    assert c["tied_xy"] == tied_xy and c["tied_y"] == tied_y - tied_xy
