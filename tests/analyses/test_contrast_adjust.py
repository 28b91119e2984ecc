"""Tukey and Dunnett adjustment of mixed_model contrasts against R emmeans (tests/reference/contrast_adjust/).

R: ``emmeans(lmer_fit, ~ g | h, lmer.df = ...)`` with ``pairs(adjust = "tukey")`` and
``contrast("trt.vs.ctrl", adjust = "mvt")`` (the exact Dunnett), on the shipped ketamine vs ECT model
(visits pairwise and against baseline, by arm; Satterthwaite and Kenward-Roger df) and on generated
designs (between- and within-subject factors with 3 to 5 levels, unbalanced, some by a second factor).
Each adjusted p-value and simultaneous interval is compared with R's precise values (ptukey and an
exact qtukey; mvtnorm with 4e5 points) and with emmeans' own printout (R's default mvt precision,
qtukey's 1e-4 stopping rule); tolerances and reasons in tests/reference/tolerances.py (CONTRAST_ADJUST_*).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import mixed_model, mmrm
from ketastats.analyses.base import AnalysisInput
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference" / "contrast_adjust"
DESIGNS = pd.read_csv(REF / "designs.csv")
DATA = pd.read_csv(REF / "data.csv.gz")
KEYS = ["design", "df_method", "adjust", "by", "contrast"]


def _reference(name: str = "contrasts.csv.gz") -> pd.DataFrame:
    """R's rows (written with format(digits = 17): padded text, read back as numbers)."""
    frame = pd.read_csv(REF / name, dtype=str, keep_default_na=False)
    frame = frame.apply(lambda column: column.str.strip())
    for column in frame.columns:
        if column not in ("design", "df_method", "adjust", "by", "contrast"):
            frame[column] = pd.to_numeric(frame[column])
    return frame


REFERENCE = _reference()


def _contrasts(by: list[str], first) -> list[dict]:
    return [{"emmeans": "g" if first is None else first[0], "by": by, "pairwise": True, "adjust": "tukey"},
            {"emmeans": "g" if first is None else first[0], "by": by,
             "versus": "g1" if first is None else first[1], "adjust": "dunnett"}]


@lru_cache(maxsize=None)
def ours(design: str) -> pd.DataFrame:
    """Our contrast rows of one design (the shipped model, or a generated design), keyed as R's."""
    if design == "ketamine_vs_ect":
        source = ROOT / "ketastats" / "datasets" / "ketamine_vs_ect"
        ratings = pd.read_csv(source / "ratings.csv")
        arms = pd.read_csv(source / "participants.csv").set_index("participant_id")["arm"]
        frame = pd.DataFrame({"pid": ratings["participant_id"], "y": ratings["hdrs17"].astype(float),
                              "h": pd.Categorical(ratings["participant_id"].map(arms), categories=["ect", "ketamine"]),
                              "g": pd.Categorical(ratings["visit"], categories=["baseline", "tx3", "eot", "m1", "m3",
                                                                                "m6"])})
        spec = mixed_model.Spec(id="m", type="mixed_model", table="t", formula="y ~ h * g", random="1 | pid",
                                df_method=["satterthwaite", "kenward_roger"],
                                reference={"h": "ect", "g": "baseline"},
                                contrasts=_contrasts(["h"], ("g", "baseline")))
    else:
        info = DESIGNS.set_index("design").loc[int(design)]
        data = DATA[DATA["design"] == int(design)]
        levels = [f"g{i}" for i in range(1, info["levels"] + 1)]
        frame = pd.DataFrame({"pid": data["id"], "y": data["y"].astype(float),
                              "g": pd.Categorical(data["g"], categories=levels),
                              "h": pd.Categorical(data["h"])})
        by = info["kind"] == "by"
        spec = mixed_model.Spec(id="m", type="mixed_model", table="t", formula="y ~ g * h" if by else "y ~ g",
                                random="1 | pid", df_method=info["df_methods"].split(";"),
                                contrasts=_contrasts(["h"] if by else [], None))
    frame.index = range(1, len(frame) + 1)
    tidy = mixed_model.run(spec, AnalysisInput("m", "t", frame, "pid", ["pid"])).tidy
    rows = tidy[tidy["effect"] == "contrast"].copy()
    rows["design"] = design
    rows["adjust"] = rows["adjust_method"]
    rows["by"] = rows["h"].fillna("") if "h" in rows else ""
    return rows.set_index(KEYS)


CASES = ["ketamine_vs_ect"] + [str(d) for d in DESIGNS["design"]]


@pytest.mark.parametrize("design", CASES)
def test_tukey_and_dunnett_match_r(design):
    want = REFERENCE[REFERENCE["design"] == design].set_index(KEYS)
    methods = want.index.get_level_values("df_method")
    df_rtol = np.where(methods == "satterthwaite", tolerances.LMM_DESIGN_SATTERTHWAITE_DF_RTOL,
                       tolerances.LMM_DESIGN_KENWARD_ROGER_DF_RTOL)
    fit_rtol = tolerances.CONTRAST_ADJUST_FIT_RTOL
    compare(ours(design), want, fit_rtol, np.maximum(df_rtol, fit_rtol))


def test_mmrm_tukey_and_dunnett_match_r():
    source = ROOT / "ketastats" / "datasets" / "ketamine_vs_ect"
    ratings = pd.read_csv(source / "ratings.csv")
    ratings = ratings[ratings["hdrs17"].notna()].reset_index(drop=True)   # as the R script (rows without a rating)
    arms = pd.read_csv(source / "participants.csv").set_index("participant_id")["arm"]
    frame = pd.DataFrame({"pid": ratings["participant_id"], "visit_id": ratings["visit"],
                          "y": ratings["hdrs17"].astype(float),
                          "h": pd.Categorical(ratings["participant_id"].map(arms), categories=["ect", "ketamine"]),
                          "g": pd.Categorical(ratings["visit"], categories=["baseline", "tx3", "eot", "m1", "m3",
                                                                            "m6"])})
    frame.index = range(1, len(frame) + 1)
    spec = mmrm.Spec(id="m", type="mmrm", table="t", formula="y ~ h * g", visit="g", subject="pid", covariance="us",
                     reference={"h": "ect", "g": "baseline"}, contrasts=_contrasts(["h"], ("g", "baseline")))
    tidy = mmrm.run(spec, AnalysisInput("m", "t", frame, "pid", ["pid", "visit_id"])).tidy
    rows = tidy[tidy["effect"] == "contrast"].copy()
    rows["design"], rows["adjust"], rows["by"] = "ketamine_vs_ect_mmrm", rows["adjust_method"], rows["h"]
    want = _reference("mmrm_contrasts.csv.gz").set_index(KEYS)
    # R's us fit of 50 subjects x 6 visits (21 covariance parameters) and ours agree to ~1e-5 in the estimates
    compare(rows.set_index(KEYS), want, tolerances.CONTRAST_ADJUST_FIT_RTOL, tolerances.MMRM_DF_RTOL)


def compare(got: pd.DataFrame, want: pd.DataFrame, estimate_rtol: float, df_rtol) -> None:
    """Estimates, SEs, df as the model tests; adjusted p and critical values against R's precise values
    and against emmeans' printout, each with its tolerance (CONTRAST_ADJUST_*)."""
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    scale = np.maximum(np.abs(want["estimate"]), want["std_error"])
    assert np.all(np.abs(got["estimate"] - want["estimate"]) <= estimate_rtol * scale)
    assert np.allclose(got["std_error"], want["std_error"], rtol=max(estimate_rtol, 1e-5))
    assert np.all(np.abs(got["df"] - want["df"]) <= df_rtol * want["df"])
    critical = (got["conf_high_adjusted"] - got["estimate"]) / got["std_error"]
    assert np.allclose(got["estimate"] - critical * got["std_error"], got["conf_low_adjusted"], rtol=1e-12)
    critical_emmeans = (want["conf_high_emmeans"] - want["estimate"]) / want["std_error"]
    for adjust in ("tukey", "dunnett"):
        mask = want.index.get_level_values("adjust") == adjust
        if not mask.any():
            continue
        p_gap = np.abs(got["p_adjusted"][mask] - want["p_adjusted_precise"][mask])
        assert np.all(p_gap <= tolerances.CONTRAST_ADJUST_P_ATOL[adjust]), (adjust, p_gap.max())
        crit_gap = np.abs(critical[mask] / want["crit_precise"][mask] - 1)
        assert np.all(crit_gap <= tolerances.CONTRAST_ADJUST_CRITICAL_RTOL[adjust]), (adjust, crit_gap.max())
        # emmeans' own printout, at R's default precision
        emm_p = np.abs(got["p_adjusted"][mask] - want["p_adjusted_emmeans"][mask])
        assert np.all(emm_p <= tolerances.CONTRAST_ADJUST_EMMEANS_P_ATOL[adjust]), (adjust, emm_p.max())
        emm_crit = np.abs(critical[mask] / critical_emmeans[mask] - 1)
        assert np.all(emm_crit <= tolerances.CONTRAST_ADJUST_EMMEANS_CRITICAL_RTOL[adjust]), (adjust, emm_crit.max())


def test_reruns_are_identical():
    first = ours.__wrapped__("ketamine_vs_ect")
    second = ours.__wrapped__("ketamine_vs_ect")
    pd.testing.assert_frame_equal(first, second, check_exact=True)


@pytest.mark.parametrize("entry, message", [
    ({"emmeans": "visit", "versus": "baseline", "adjust": "tukey"}, "tukey is for all pairwise"),
    ({"emmeans": "visit", "pairwise": True, "adjust": "dunnett"}, "dunnett is for comparisons with one level"),
    ({"emmeans": "visit", "adjust": "tukey"}, "tukey is for all pairwise"),
])
def test_adjust_must_fit_the_comparisons(entry, message):
    with pytest.raises(ValueError, match=message):
        mixed_model.Spec(id="m", type="mixed_model", table="t", formula="y ~ visit", random="1 | pid",
                         contrasts=[entry])


def test_mmrm_simultaneous_adjustment_is_two_sided():
    with pytest.raises(ValueError, match="two-sided"):
        mmrm.Spec(id="m", type="mmrm", table="t", formula="y ~ visit", visit="visit",
                  contrasts=[{"emmeans": "visit", "versus": "baseline", "adjust": "dunnett", "alternative": "less"}])
