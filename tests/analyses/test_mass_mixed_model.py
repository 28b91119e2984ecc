"""The `mass_mixed_model` analysis type: lme4 / lmerTest per outcome (tests/reference/mass_mixed_model),
wide and long tables, missing values, FDR across outcomes, and the Dask engine (identical results)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import mass_mixed_model
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.multiplicity import adjust

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "mass_mixed_model"
R_TERMS = {"(Intercept)": "Intercept", "time": "time", "groupb": "group[T.b]", "time:groupb": "time:group[T.b]"}


@pytest.fixture(scope="module")
def wide():
    frame = pd.read_csv(REFERENCE / "data.csv")
    frame["group"] = pd.Categorical(frame["group"], categories=["a", "b"])
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@pytest.fixture(scope="module")
def reference():
    ref = json.loads((REFERENCE / "reference.json").read_text())
    rows = []
    for o in ref["outcomes"]:
        for j, term in enumerate(o["terms"]):
            rows.append({"outcome": o["outcome"], "term": R_TERMS[term],
                         **{k: float(o[k][j]) for k in ("estimate", "std_error", "df", "statistic", "p_value")}})
    return pd.DataFrame(rows), ref


def run(frame, key, **keys):
    spec = mass_mixed_model.Spec.model_validate({"id": "mm", "type": "mass_mixed_model", "table": "t",
                                                 "formula": "~ time * group", "random": "1 | participant_id",
                                                 **keys})
    result = execute(mass_mixed_model, spec, AnalysisInput("mm", "t", frame, "participant_id", key))
    assert result.ok, result.issues
    return result


def test_matches_lmertest_per_outcome(wide, reference, tolerances):
    ref, raw = reference
    result = run(wide, ["participant_id", "time"], outcomes=["y*"], df_method=["residual", "satterthwaite"])
    tidy = result.tidy
    sat = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "satterthwaite")]
    merged = sat.merge(ref, on=["outcome", "term"], suffixes=("", "_r"))
    assert len(merged) == 4 * raw["n_outcomes"]
    scale = np.maximum(merged["estimate_r"].abs(), merged["std_error_r"])
    rtol = tolerances.MASS_LMM_ESTIMATE_RTOL
    assert ((merged["estimate"] - merged["estimate_r"]).abs() / scale).max() < rtol
    assert ((merged["std_error"] - merged["std_error_r"]).abs() / merged["std_error_r"]).max() < rtol
    assert ((merged["df"] - merged["df_r"]).abs() / merged["df_r"]).max() < tolerances.MASS_LMM_SATTERTHWAITE_DF_RTOL
    close = (merged["p_value"] - merged["p_value_r"]).abs() <= np.maximum(
        tolerances.MASS_LMM_P_ATOL, tolerances.MASS_LMM_P_RTOL * merged["p_value_r"])
    assert close.all()
    residual = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "residual")]
    assert (residual["df"] == raw["n_obs"] - 4).all()
    sd = tidy[tidy["term"] == "sd__(Intercept)"].set_index("outcome")["estimate"]
    sd_r = pd.Series({o["outcome"]: float(o["sd_intercept"]) for o in raw["outcomes"]})
    assert (sd - sd_r.loc[sd.index]).abs().max() < 1e-5
    assert result.glance["n_singular"] == raw["n_singular"]
    assert any(i.code == "singular-fit" for i in result.issues)


def test_adjustments_across_outcomes_per_term(wide):
    tidy = run(wide, ["participant_id", "time"], outcomes=["y*"]).tidy
    fixed = tidy[tidy["effect"] == "fixed"]
    for _, block in fixed.groupby(["term", "df_method"]):
        assert len(block) == 240
        np.testing.assert_array_equal(block["p_adjusted"], adjust(block["p_value"].to_numpy(), "fdr_bh"))
        np.testing.assert_array_equal(block["p_bonferroni"], np.minimum(1, 240 * block["p_value"].to_numpy()))
    assert (fixed["adjust_method"] == "fdr_bh").all()
    assert list(tidy["outcome"].iloc[:6]) == ["y001"] * 6          # outcome-major, ran_pars after fixed
    assert list(tidy["effect"].iloc[:6]) == ["fixed"] * 4 + ["ran_pars"] * 2


def test_long_table_equals_wide_and_missing_values(wide):
    outcomes = [f"y{k:03d}" for k in range(1, 31)]
    frame = wide[["participant_id", "time", "group", *outcomes]].copy()
    frame.loc[3, "y005"] = np.nan                                   # one missing value
    wide_result = run(frame, ["participant_id", "time"], outcomes=outcomes)
    long = frame.melt(id_vars=["participant_id", "time", "group"], var_name="edge", value_name="fc")
    long.index = pd.RangeIndex(1, len(long) + 1)
    long_result = run(long, ["participant_id", "time", "edge"], outcome_column="edge", value="fc")
    pd.testing.assert_frame_equal(wide_result.tidy, long_result.tidy, check_exact=True)
    assert wide_result.exclusions[["reason", "detail"]].values.tolist() == [["missing-value", "y005 is missing"]]
    assert len(long_result.exclusions) == 1 and wide_result.glance["n_missing_patterns"] == 2
    alone = run(frame.drop(index=3), ["participant_id", "time"], outcomes=["y005"]).tidy
    mixed = wide_result.tidy[wide_result.tidy["outcome"] == "y005"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mixed.drop(columns=["p_adjusted", "p_bonferroni"]),
                                  alone.drop(columns=["p_adjusted", "p_bonferroni"]), check_exact=True)
    assert (mixed["n_obs"] == len(frame) - 1).all()


def test_dask_local_cluster_gives_identical_results(wide):
    pytest.importorskip("distributed")
    keys = {"outcomes": ["y*"], "df_method": ["residual", "satterthwaite"]}
    local = run(wide, ["participant_id", "time"], **keys, chunk_size=240)
    seen = []
    spec = mass_mixed_model.Spec.model_validate({"id": "mm", "type": "mass_mixed_model", "table": "t",
                                                 "formula": "~ time * group", "random": "1 | participant_id",
                                                 "engine": "dask", "workers": 2, "chunk_size": 25, **keys})
    ctx = AnalysisInput("mm", "t", wide, "participant_id", ["participant_id", "time"])
    distributed = mass_mixed_model.run(spec, ctx, progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(local.tidy, distributed.tidy, check_exact=True)
    assert seen[-1] == (10, 10) and len(seen) == 10                 # 240 outcomes in chunks of 25
    assert distributed.glance["engine"] == "dask"


def test_spec_checks():
    base = {"id": "mm", "type": "mass_mixed_model", "table": "t", "random": "1 | pid"}
    with pytest.raises(ValueError, match="either"):
        mass_mixed_model.Spec.model_validate({**base, "formula": "~ x"})
    with pytest.raises(ValueError, match="right-hand side"):
        mass_mixed_model.Spec.model_validate({**base, "formula": "y ~ x", "outcomes": ["e*"]})
    with pytest.raises(ValueError, match="random intercept"):
        mass_mixed_model.Spec.model_validate({**base, "formula": "~ x", "outcomes": ["e*"], "random": "x | pid"})
    with pytest.raises(ValueError, match="both"):
        mass_mixed_model.Spec.model_validate({**base, "formula": "~ x", "outcome_column": "edge"})


def test_siegel_seed_table_recovers_the_true_sgacc_effects():
    from ketastats.datasets.simulate import siegel2021_connectome as sc

    frame = sc.simulate()["connectome_sgacc"]
    responder = sc.sessions().groupby("participant_id")["responder_2wk"].first()
    frame["time_post"] = (frame["time"] == "post").astype(float)
    frame["responder_2wk"] = frame["participant_id"].map(responder).astype(bool)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    spec = mass_mixed_model.Spec.model_validate({
        "id": "seed", "type": "mass_mixed_model", "table": "c", "outcome_column": "edge", "value": "fc",
        "formula": "~ time_post + time_post:responder_2wk", "random": "1 | participant_id"})
    tidy = mass_mixed_model.run(spec, AnalysisInput("seed", "c", frame, "participant_id",
                                                    ["participant_id", "time", "edge"])).tidy
    term = "time_post:responder_2wk[T.True]"
    hits = set(tidy.loc[(tidy["term"] == term) & (tidy["p_adjusted"] <= 0.05), "outcome"])
    truth = sc.true_effects()
    true = set(truth.loc[truth["term"] == term, "edge"])
    assert len(true) == 40 and len(tidy["outcome"].unique()) == 393
    assert len(hits & true) >= 30 and len(hits - true) <= 8     # observed 33 true, 6 false of 39


def test_keep_significant_is_the_full_table_filtered(wide):
    keys = {"outcomes": ["y*"], "df_method": ["residual", "satterthwaite"]}
    full = run(wide, ["participant_id", "time"], **keys)
    alpha = 0.9   # the reference outcomes are null: a loose threshold keeps some, not all
    kept = run(wide, ["participant_id", "time"], **keys, keep="significant", alpha=alpha)
    tidy = full.tidy
    hit = (tidy["effect"] == "fixed") & (tidy["term"] != "Intercept") & (tidy["p_adjusted"] < alpha)
    expected = tidy[tidy["outcome"].isin(set(tidy.loc[hit, "outcome"]))].reset_index(drop=True)
    assert 0 < expected["outcome"].nunique() < 240
    pd.testing.assert_frame_equal(kept.tidy, expected, check_exact=True)   # adjusted over all 240 outcomes
    assert kept.glance["n_outcomes"] == 240 and kept.glance["n_outcomes_kept"] == expected["outcome"].nunique()
    counts = tidy[hit].groupby(["term", "df_method"]).size()
    for (term, method), count in counts.items():
        assert kept.glance[f"n_significant {term} ({method})"] == count


def test_engine_override_from_the_command_line(tmp_path):
    """`ketastats run --engine dask` gives byte-identical tables to the plan's local engine."""
    pytest.importorskip("distributed")
    from typer.testing import CliRunner

    from ketastats.cli.app import app

    plan = ROOT / "analysis_plans" / "siegel2021.yaml"
    local, dask = tmp_path / "local", tmp_path / "dask"
    for out, extra in ((local, []), (dask, ["--engine", "dask"])):
        result = CliRunner().invoke(app, ["run", str(plan), "--out", str(out), "--quiet", *extra])
        assert result.exit_code == 0, result.output
    name = "tables/connectome_sgacc_seed.csv"
    assert (local / name).read_bytes() == (dask / name).read_bytes()
    glance = {a["id"]: a["glance"] for a in json.loads((dask / "results.json").read_text())["analyses"]}
    assert glance["connectome_sgacc_seed"]["engine"] == "dask"
    bad = CliRunner().invoke(app, ["run", str(plan), "--out", str(tmp_path / "x"), "--engine", "spark"])
    assert bad.exit_code == 2 and "spark" in bad.output and not (tmp_path / "x").exists()
