"""Tests of the synthetic Siegel et al. (2021) data set.

Every expected number below is taken from the paper (Siegel et al. 2021,
Psychopharmacology; Table 1 and Results), never from the generated output.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "ketastats" / "datasets" / "siegel2021"
DICT_DIR = ROOT / "data_dictionary" / "siegel2021"
TABLES = ("participants", "clinical", "imaging", "volumes", "controls", "pharmacology")

# ---- published values -----------------------------------------------------
BASELINE = {"n": 23, "mean": 28.83, "sd": 3.94}  # Table 1
AGE = {"mean": 40.0, "sd": 14.05}  # Table 1
N_MALE, N_FEMALE = 13, 10
DOSE = {"mean": 0.54, "sd": 0.13, "max": 0.6}
VISIT_N = {"day1": 22, "week2": 21, "week4": 21, "week6": 21, "week8": 21}
VISIT_MEAN_SD = {"day1": (9, 8), "week2": (13, 8), "week8": (15, 8)}
RESPONDERS = {"day1": 16, "week2": 11, "week8": 11}
REMITTERS = {"day1": 13, "week2": 8, "week8": 7}
CGI_MUCH_IMPROVED = {"day1": 16, "week2": 15, "week8": 13}
PERSISTENT = 8  # of 11 week-2 responders, responders at week 8
COHENS_D = {"day1": 1.7, "week2": 1.6, "week8": 1.5}
D_TOLERANCE = 0.3
# (time t, interaction t); interaction sign: responders decrease more, so
# negative with time pre=0/post=1 and responder_2wk false=0/true=1.
LMM_T = {
    "fc_dmn": (-3.2, -2.0),
    "fc_sgacc_dmn": (-3.5, -2.3),
    "fc_limbic": (-3.2, -0.61),
}
T_TOLERANCE = 0.4
R_HIPPOCAMPUS = 0.52
R_BPRS_DAY1 = -0.54
R_TOLERANCE = 0.1
VOLUMES = ("hippocampus_l", "hippocampus_r", "amygdala_l", "amygdala_r", "nacc_l", "nacc_r")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(DATA_DIR / f"{name}.csv") for name in TABLES}


@pytest.fixture(scope="module")
def clinical(tables) -> pd.DataFrame:
    return tables["clinical"]


@pytest.fixture(scope="module")
def wide(clinical) -> pd.DataFrame:
    return clinical.pivot(index="participant_id", columns="visit", values="madrs")


def _visit(clinical: pd.DataFrame, visit: str) -> pd.DataFrame:
    base = clinical[clinical.visit == "baseline"].set_index("participant_id").madrs
    rows = clinical[clinical.visit == visit].set_index("participant_id")
    rows = rows.assign(baseline=base.reindex(rows.index))
    return rows.assign(pct=100 * (rows.madrs - rows.baseline) / rows.baseline)


def _responder_week2(clinical: pd.DataFrame) -> pd.Series:
    return _visit(clinical, "week2").pct <= -50


# ---- (a) reproducibility --------------------------------------------------


def test_simulate_reproduces_shipped_csv(tmp_path):
    from ketastats.datasets.simulate import write_dataset

    paths = write_dataset("siegel2021", tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{t}.csv" for t in TABLES)
    for path in paths:
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


def test_simulate_api():
    from ketastats.datasets.simulate import SIMULATORS, siegel2021

    assert SIMULATORS["siegel2021"] is siegel2021.simulate
    assert isinstance(siegel2021.SEED, int)
    assert sorted(siegel2021.simulate()) == sorted(TABLES)


# ---- (b) exact targets ----------------------------------------------------


def test_participants(tables):
    p = tables["participants"]
    assert len(p) == 23
    assert list(p.participant_id) == [f"P{i:02d}" for i in range(1, 24)]
    assert round(p.age.mean(), 1) == AGE["mean"]
    assert round(p.age.std(), 2) == AGE["sd"]
    assert (p.sex == "male").sum() == N_MALE and (p.sex == "female").sum() == N_FEMALE
    assert p.completed_infusion.sum() == 22
    dose = p.max_dose_mg_kg_h.dropna()
    assert round(dose.mean(), 2) == DOSE["mean"] and round(dose.std(), 2) == DOSE["sd"]
    assert dose.max() <= DOSE["max"]
    assert (dose < DOSE["max"]).sum() == 5  # 5 of 22 did not tolerate the target rate
    non = p[~p.completed_infusion]
    assert non.bprs_positive_mean.isna().all()
    assert p[p.completed_infusion].bprs_positive_mean.between(4, 10).all()


def test_baseline_madrs(clinical):
    base = clinical[clinical.visit == "baseline"].madrs
    assert len(base) == BASELINE["n"]
    assert round(base.mean(), 2) == BASELINE["mean"]
    assert round(base.std(), 2) == BASELINE["sd"]
    assert (base >= 22).all()  # inclusion criterion
    assert clinical[clinical.visit == "baseline"].cgi_i.isna().all()


def test_attendance(tables, clinical):
    p = tables["participants"]
    non = p.loc[~p.completed_infusion, "participant_id"].item()
    assert list(clinical[clinical.participant_id == non].visit) == ["baseline"]
    counts = clinical.groupby("participant_id").size()
    lost = counts[counts == 2].index
    assert len(lost) == 1
    day1 = _visit(clinical, "day1")
    assert day1.loc[lost[0], "madrs"] > 30
    assert (day1.drop(lost[0]).madrs <= 30).all()  # the only one > 30 on day 1
    for visit, n in VISIT_N.items():
        assert (clinical.visit == visit).sum() == n


@pytest.mark.parametrize("visit", sorted(VISIT_MEAN_SD))
def test_visit_mean_sd(clinical, visit):
    madrs = clinical[clinical.visit == visit].madrs
    assert (round(madrs.mean()), round(madrs.std())) == VISIT_MEAN_SD[visit]


@pytest.mark.parametrize("visit", ["week4", "week6"])
def test_intermediate_visits_between(clinical, visit):
    mean = clinical[clinical.visit == visit].madrs.mean()
    assert VISIT_MEAN_SD["week2"][0] <= mean <= VISIT_MEAN_SD["week8"][0]


@pytest.mark.parametrize("visit", sorted(RESPONDERS))
def test_response_remission_cgi(clinical, visit):
    rows = _visit(clinical, visit)
    assert (rows.pct <= -50).sum() == RESPONDERS[visit]
    assert (rows.madrs < 10).sum() == REMITTERS[visit]
    assert (rows.cgi_i <= 2).sum() == CGI_MUCH_IMPROVED[visit]


def test_persistent_responders(clinical):
    week2 = _visit(clinical, "week2").pct <= -50
    week8 = _visit(clinical, "week8").pct <= -50
    assert week2.sum() == 11
    assert (week2 & week8.reindex(week2.index)).sum() == PERSISTENT


@pytest.mark.parametrize("visit", ["day1", "week2", "week4", "week6", "week8"])
def test_cgi_monotone_in_change(clinical, visit):
    rows = _visit(clinical, visit).sort_values("pct")
    assert rows.cgi_i.notna().all()
    assert rows.cgi_i.is_monotonic_increasing  # better change -> lower CGI-I


# ---- (c) approximate targets ----------------------------------------------


@pytest.mark.parametrize("visit", sorted(COHENS_D))
def test_cohens_d(clinical, visit):
    rows = _visit(clinical, visit)
    change = rows.madrs - rows.baseline
    d = -change.mean() / change.std()
    assert abs(d - COHENS_D[visit]) <= D_TOLERANCE


def _model_frame(tables, column: str) -> pd.DataFrame:
    """The paper's 21 participants / 40 observations (pre scans averaged)."""
    imaging, clinical = tables["imaging"], tables["clinical"]
    responder = _responder_week2(clinical)
    data = imaging[imaging.participant_id.isin(responder.index)]
    data = data.groupby(["participant_id", "time"], as_index=False)[column].mean()
    data["time"] = (data.time == "post").astype(float)
    data["responder_2wk"] = data.participant_id.map(responder).astype(float)
    return data.rename(columns={column: "fc"})


def _lmm_t(tables, column: str) -> tuple[float, float, int, int]:
    import statsmodels.formula.api as smf

    data = _model_frame(tables, column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("fc ~ time + time:responder_2wk", data, groups=data.participant_id).fit(
            reml=True
        )
    t = fit.fe_params / fit.bse_fe
    return t["time"], t["time:responder_2wk"], len(data), data.participant_id.nunique()


def test_imaging_counts(tables):
    imaging = tables["imaging"]
    assert imaging.groupby("scan").size().to_dict() == {"pre1": 23, "pre2": 18, "post": 20}
    assert (imaging.time == np.where(imaging.scan == "post", "post", "pre")).all()
    responder = _responder_week2(tables["clinical"])
    assert (responder.sum(), (~responder).sum()) == (11, 10)
    _, _, n_obs, n_subjects = _lmm_t(tables, "fc_dmn")
    assert (n_obs, n_subjects) == (40, 21)
    p = tables["participants"]
    non = p.loc[~p.completed_infusion, "participant_id"].item()
    post = set(imaging[imaging.scan == "post"].participant_id)
    assert non in post and len(post & set(responder.index)) == 19


@pytest.mark.parametrize("column", sorted(LMM_T))
def test_lmm_time_by_response(tables, column):
    t_time, t_int, _, _ = _lmm_t(tables, column)
    target_time, target_int = LMM_T[column]
    assert abs(t_time - target_time) <= T_TOLERANCE
    assert abs(t_int - target_int) <= T_TOLERANCE


def test_lmm_interaction_p_sgacc(tables):
    _, t_int, _, _ = _lmm_t(tables, "fc_sgacc_dmn")
    p = 2 * stats.t.sf(abs(t_int), df=37)
    assert 0.01 < p < 0.05  # paper: p = 0.028


def test_lmm_visual_no_change(tables):
    t_time, _, _, _ = _lmm_t(tables, "fc_visual")
    assert abs(t_time) < 1


@pytest.mark.parametrize("column", ["fc_dmn", "fc_sgacc_dmn", "fc_limbic"])
def test_responders_decrease_more(tables, column):
    data = _model_frame(tables, column)
    wide = data.pivot(index="participant_id", columns="time", values="fc").dropna()
    change = wide[1.0] - wide[0.0]
    responder = _responder_week2(tables["clinical"]).reindex(change.index)
    assert change[responder].mean() < change[~responder].mean() < 0


def _person_means(frame: pd.DataFrame, id_column: str, column: str) -> pd.Series:
    return frame.groupby(id_column)[column].mean()


@pytest.mark.parametrize("equal_var", [True, False])
@pytest.mark.parametrize("column", ["fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"])
def test_controls_pattern(tables, column, equal_var):
    imaging, controls = tables["imaging"], tables["controls"]
    ctrl = _person_means(controls, "control_id", column)
    pre = _person_means(imaging[imaging.time == "pre"], "participant_id", column)
    post = _person_means(imaging[imaging.time == "post"], "participant_id", column)
    assert (len(ctrl), len(pre), len(post)) == (27, 23, 20)
    before = stats.ttest_ind(pre, ctrl, equal_var=equal_var)
    after = stats.ttest_ind(post, ctrl, equal_var=equal_var)
    if column == "fc_visual":
        assert before.pvalue > 0.2
    else:
        assert before.pvalue < 0.05 and before.statistic > 0  # hyperconnected
    assert after.pvalue > 0.05


def test_controls_scans(tables):
    controls = tables["controls"]
    assert controls.control_id.nunique() == 27
    assert (controls.groupby("control_id").size() == 2).sum() == 7
    assert len(controls) == 34


def test_hippocampus_correlations(tables, clinical):
    # "19 subjects had at least one pre-scan and post-scan timepoint": volumes of the 19 with a usable
    # scan pair (missing for the others); r = 0.52 with p = 0.023 fits n = 19
    v = tables["volumes"].set_index("participant_id").dropna()
    change = (_visit(clinical, "week2").madrs - _visit(clinical, "week2").baseline)
    assert len(change) == 21
    change = change.reindex(v.index).dropna()
    assert len(change) == 19
    for column in VOLUMES:
        ratio = (v[column] / v.icv).reindex(change.index)
        r = stats.pearsonr(ratio, change).statistic
        if column == "hippocampus_r":
            assert abs(r - R_HIPPOCAMPUS) <= R_TOLERANCE
        else:
            assert abs(r) < 0.3


def test_bprs_correlation(tables, clinical):
    bprs = tables["participants"].set_index("participant_id").bprs_positive_mean.dropna()
    day1 = _visit(clinical, "day1")
    change = (day1.madrs - day1.baseline).reindex(bprs.index)
    assert len(bprs) == 22
    assert abs(stats.pearsonr(bprs, change).statistic - R_BPRS_DAY1) <= R_TOLERANCE
    for visit in ("week2", "week8"):  # "no longer significant by 2 and 8 weeks"
        rows = _visit(clinical, visit)
        later = rows.madrs - rows.baseline
        assert stats.pearsonr(bprs.reindex(later.index), later).pvalue > 0.1


DISCHARGE = {"fatigue_discharge": 3, "inattention_discharge": 3, "sedation_discharge": 3,
             "lightheaded_discharge": 1, "restless_discharge": 1, "palpitations_discharge": 1}  # Results: n/21


def test_pharmacology(tables, clinical):
    pk = tables["pharmacology"].set_index("participant_id")
    completed = tables["participants"].set_index("participant_id").completed_infusion
    assert pk.ketamine_ng_ml.notna().sum() == 22 and pk.ketamine_ng_ml[~completed].isna().all()
    for column, count in DISCHARGE.items():
        assert (pk[column].notna().sum(), int(pk[column].sum())) == (21, count), column
    # "Response to treatment at 2 weeks was not significantly correlated with mean serum concentration"
    week2 = _visit(clinical, "week2")
    change = week2.madrs - week2.baseline
    for column in ("ketamine_ng_ml", "s_norketamine_ng_ml", "r_norketamine_ng_ml"):
        assert stats.pearsonr(pk[column].reindex(change.index), change).pvalue > 0.05, column
    # "Side effects were not correlated with serum concentrations"
    present = pk.dropna(subset=["ketamine_ng_ml"])
    for effect in ("nausea", "dizziness", "headache", "dissociation"):
        assert stats.pearsonr(present[effect].astype(float), present.ketamine_ng_ml).pvalue > 0.05, effect
    assert np.allclose(pk.s_ketamine_ng_ml + pk.r_ketamine_ng_ml, pk.ketamine_ng_ml, atol=0.051, equal_nan=True)


def test_plausible_magnitudes(tables):
    v = tables["volumes"].dropna()  # missing without a usable scan
    assert len(v) == 19
    assert v.hippocampus_r.between(2500, 6000).all() and v.icv.between(1e6, 2e6).all()
    imaging = tables["imaging"]
    pre = imaging[imaging.time == "pre"]
    assert 0.3 <= pre.fc_dmn.mean() <= 0.5 and 0.1 <= pre.fc_limbic.mean() <= 0.3
    assert (imaging[list(LMM_T)].std() < 0.12).all()


# ---- (d) data dictionaries ------------------------------------------------


DICTIONARY_FIELDS = {
    "type", "description", "label", "unit", "min", "max", "required", "levels", "ordered", "level_labels",
}
DICTIONARY_TYPES = {"string", "integer", "number", "boolean", "category", "date"}


def _dictionary(name: str) -> dict:
    return yaml.safe_load((DICT_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", TABLES)
def test_dictionary_matches_csv(tables, name):
    spec = _dictionary(name)
    table = tables[name]
    assert spec["table"] == name
    assert "synthetic" in spec["description"].lower()
    assert list(spec["columns"]) == list(table.columns)
    assert not table.duplicated(spec["key"]).any()
    for column, col in spec["columns"].items():
        assert set(col) <= DICTIONARY_FIELDS, (column, set(col) - DICTIONARY_FIELDS)
        assert col["type"] in DICTIONARY_TYPES, column
        assert "synthetic" in col["description"].lower(), column
        values = table[column]
        if col.get("required", True):
            assert values.notna().all(), column
        present = values.dropna()
        kind = col["type"]
        if kind == "integer":
            assert (present == present.round()).all(), column
        if kind in ("integer", "number"):
            assert pd.api.types.is_numeric_dtype(present), column
            if "min" in col:
                assert (present >= col["min"]).all(), column
            if "max" in col:
                assert (present <= col["max"]).all(), column
        if kind == "boolean":
            assert present.isin([True, False]).all(), column
        if kind == "category":
            assert set(present) <= set(col["levels"]), column


@pytest.mark.parametrize("name", TABLES)
def test_csv_rows_sorted_by_key(tables, name):
    spec = _dictionary(name)
    table = tables[name].copy()
    for column in spec["key"]:
        col = spec["columns"][column]
        if col["type"] == "category" and col.get("ordered"):
            table[column] = pd.Categorical(table[column], col["levels"], ordered=True)
    assert table.sort_values(spec["key"]).index.equals(table.index)


@pytest.mark.parametrize("name", TABLES)
def test_csv_format(name):
    raw = (DATA_DIR / f"{name}.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    raw.decode("utf-8")
    assert b"True" not in raw and b"False" not in raw and b"nan" not in raw.lower()
