"""pingouin as an independent cross-check (test extra `crosscheck`; skipped without it).

ketastats computes these itself (docs/library_notes.md: pingouin drops incomplete participants
silently and is a 1.4 s import with scikit-learn behind it); the numbers must agree with
pingouin's where both define them. The R references (afex / car / t.test) remain the primary
checks in test_rm_anova.py, test_paired_ttest.py and test_ttest.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pg = pytest.importorskip("pingouin", reason="pingouin (extra 'crosscheck') is not installed")

from ketastats.stats.repeated_measures import rm_anova  # noqa: E402
from ketastats.stats.ttests import paired_t_test  # noqa: E402
from ketastats.stats.two_sample import t_test  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OBK = ROOT / "tests" / "reference" / "rm_anova_paired_ttest" / "obk_long.csv"
PHASES = ["pre", "post", "fup"]


def obk_phase() -> pd.DataFrame:
    frame = pd.read_csv(OBK, dtype={"id": str, "hour": str})
    return frame.groupby(["id", "phase"], as_index=False)["value"].mean()


def one_way(wide: pd.DataFrame):
    return next(t for t in rm_anova(wide[PHASES].to_numpy(), [3]) if t.within == (0,))


def test_one_way_rm_anova_and_sphericity_match_pingouin():
    long = obk_phase()
    theirs = pg.rm_anova(long, dv="value", within="phase", subject="id", correction=True, detailed=True).iloc[0]
    ours = one_way(long.pivot(index="id", columns="phase", values="value"))
    assert ours.df == theirs["DF"] and ours.sum_sq == pytest.approx(theirs["SS"], rel=1e-10)
    assert ours.statistic == pytest.approx(theirs["F"], rel=1e-10)
    assert ours.p_value == pytest.approx(theirs["p_unc"], rel=1e-8)
    assert ours.epsilon_gg == pytest.approx(theirs["eps"], rel=1e-8)
    assert ours.eta_sq_generalized == pytest.approx(theirs["ng2"], rel=1e-8)
    assert ours.mauchly_w == pytest.approx(theirs["W_spher"], rel=1e-8)
    assert ours.mauchly_p == pytest.approx(theirs["p_spher"], rel=1e-6)
    gg = pg.rm_anova(long, dv="value", within="phase", subject="id", correction=True).iloc[0]["p_GG_corr"]
    from scipy import stats

    assert stats.f.sf(ours.statistic, ours.df * ours.epsilon_gg, ours.df_error * ours.epsilon_gg) \
        == pytest.approx(gg, rel=1e-8)


def test_pingouin_drops_incomplete_participants_silently():
    """The trap ketastats lists as exclusions: pingouin's answer is the complete-case analysis."""
    long = obk_phase()
    incomplete = long[~((long["id"] == "3") & (long["phase"] == "post"))]
    theirs = pg.rm_anova(incomplete, dv="value", within="phase", subject="id", detailed=True).iloc[0]
    wide = incomplete.pivot(index="id", columns="phase", values="value").dropna()
    assert len(wide) == long["id"].nunique() - 1
    assert one_way(wide).statistic == pytest.approx(theirs["F"], rel=1e-10)


def test_paired_and_welch_t_tests_match_pingouin():
    wide = obk_phase().pivot(index="id", columns="phase", values="value")
    ours = paired_t_test(wide["pre"], wide["post"])
    theirs = pg.ttest(wide["pre"], wide["post"], paired=True).iloc[0]
    assert ours.statistic == pytest.approx(theirs["T"], rel=1e-10) and ours.df == theirs["dof"]
    assert ours.p_value == pytest.approx(theirs["p_val"], rel=1e-8)
    assert [ours.conf_low, ours.conf_high] == pytest.approx(list(theirs["CI95"]), abs=0.005)  # pingouin rounds
    rng = np.random.default_rng(18)
    x, y = rng.normal(0, 1, 14), rng.normal(0.8, 2, 21)
    welch = t_test(x, y, method="welch")
    theirs = pg.ttest(x, y, correction=True).iloc[0]
    assert welch.statistic == pytest.approx(theirs["T"], rel=1e-10)
    assert welch.df == pytest.approx(theirs["dof"], rel=1e-10)
    assert welch.p_value == pytest.approx(theirs["p_val"], rel=1e-8)
