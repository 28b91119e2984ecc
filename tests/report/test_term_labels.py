"""Model terms in words (ketastats.language.term_labels) and in the report's tables (display.py): the CSV
keeps the codes, the HTML / LaTeX / Word tables show "Ketamine vs ECT × After treatment 3" (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

from ketastats.data.dictionary import Column
from ketastats.language.term_labels import (
    coding_note,
    infer_references,
    split_interaction,
    term_label,
    term_labels,
    term_names,
)
from ketastats.report.display import analysis_table, display_table
from ketastats.report.format import to_csv_text
from ketastats.results import AnalysisResult

LABELS = {"randomized_arm": "Arm", "visit": "Visit", "age": "Age (years)", "sex": "Sex",
          "time_post": "Time post (days)", "responder_2wk": "Responder at 2 weeks"}
LEVELS = {"randomized_arm": {"ect": "ECT", "ketamine": "Ketamine"},
          "visit": {"baseline": "Baseline", "tx3": "After treatment 3", "eot": "End of course", "m1": "Month 1"},
          "sex": {"female": "Female", "male": "Male"}}
REFERENCES = {"randomized_arm": "ect", "visit": "baseline", "sex": "female"}


@pytest.mark.parametrize("term, text", [
    # patsy treatment terms
    ("randomized_arm[T.ketamine]", "Ketamine vs ECT"),
    ("visit[T.m1]", "Month 1 vs Baseline"),
    ("visit[T.m6]", "m6 vs Baseline"),                               # a level without a label keeps its code
    # interactions of two and three factors: the first treatment factor names its reference
    ("randomized_arm[T.ketamine]:visit[T.tx3]", "Ketamine vs ECT × After treatment 3"),
    ("randomized_arm[T.ketamine]:visit[T.eot]:sex[T.male]", "Ketamine vs ECT × End of course × Male"),
    ("age:randomized_arm[T.ketamine]", "Age (years) × Ketamine vs ECT"),
    ("time_post:responder_2wk[T.True]", "Time post (days) × Responder at 2 weeks: yes vs no"),
    # numeric covariates and joint tests name the column
    ("age", "Age (years)"),
    ("randomized_arm:visit", "Arm × Visit"),
    ("Intercept", "Intercept"),
    ("(Intercept)", "Intercept"),
    # C(x, Treatment('a')) (not in the plan language, which has reference:, but patsy's spelling)
    ("C(randomized_arm, Treatment('ect'))[T.ketamine]", "Ketamine vs ECT"),
    ("C(randomized_arm, Treatment(reference=\"ect\"))[T.ketamine]", "Ketamine vs ECT"),
    ("C(sex)[T.male]", "Male vs Female"),
    # Cox: tidy fixed terms are patsy's; cox.zph rows name the covariate, and GLOBAL
    ("arm[T.ketamine]", "arm: ketamine"),                            # no label, no reference known: says which
    ("GLOBAL", "Global test"),
    # random effects (broom.mixed names)
    ("sd__(Intercept)", "SD (Intercept)"),
    ("sd__Observation", "Residual SD"),
    ("sd__age", "SD of Age (years)"),
    ("cor__(Intercept).age", "Correlation (Intercept), Age (years)"),
    ("var__tx3", "Variance tx3"),
    # unknown shapes are left as they are
    ("np.log(age)", "np.log(age)"),
    ("I(age ** 2)", "I(age ** 2)"),
    ("age:np.log(dose)", "age:np.log(dose)"),
    ("C(arm, Sum)[S.ketamine]", "C(arm, Sum)[S.ketamine]"),
    ("odds_ratio", "Odds ratio"),
    ("dose_mg", "dose_mg"),
    ("", ""),
    ("visit[T.", "visit[T."),
    ("a[T.x]]:[", "a[T.x]]:["),
])
def test_term_label(term, text):
    assert term_label(term, LABELS, LEVELS, REFERENCES) == text


@pytest.mark.parametrize("term", [None, float("nan"), 3, "x" * 5000, "::", "[[((", "a[T.b]:", ":a"])
def test_never_crashes(term):
    out = term_label(term, LABELS, LEVELS, REFERENCES)
    assert out is term or isinstance(out, str)


def test_without_dictionary_or_reference():
    assert term_label("arm[T.ketamine]") == "arm: ketamine"
    assert term_label("arm[T.ketamine]", {"arm": "Arm"}, {"arm": {"ketamine": "Ketamine"}}) == "Arm: Ketamine"
    assert term_label("flag[T.True]", {"flag": "Flag"}) == "Flag: yes vs no"


def test_split_keeps_brackets_and_quotes():
    assert split_interaction("a[T.x:y]:b") == ["a[T.x:y]", "b"]
    assert split_interaction("C(a, Treatment('p:q'))[T.z]") == ["C(a, Treatment('p:q'))[T.z]"]


def test_references_are_the_level_without_a_term():
    terms = ["Intercept", "randomized_arm[T.ketamine]", "visit[T.tx3]", "visit[T.eot]",
             "randomized_arm[T.ketamine]:visit[T.tx3]"]
    levels = {"randomized_arm": ["ect", "ketamine"], "visit": ["baseline", "tx3", "eot"], "sex": ["female", "male"]}
    assert infer_references(terms, levels) == {"randomized_arm": "ect", "visit": "baseline"}
    # two levels without a term: no reference (the term then reads "Visit: tx3")
    assert infer_references(["visit[T.tx3]"], {"visit": ["baseline", "tx3", "eot"]}) == {}


def test_duplicate_texts_get_the_code():
    assert term_labels(["a", "b", "a", None], {"a": "Score", "b": "Score"}) == ["Score [a]", "Score [b]", "Score [a]",
                                                                                None]


def test_term_names_and_coding_note():
    assert term_names(["age:arm[T.k]", "GLOBAL", "risk_difference"]) == ["age", "arm"]
    note = coding_note(["randomized_arm[T.ketamine]:visit[T.tx3]"], LABELS, LEVELS, REFERENCES)
    assert note is not None and "(Arm: ECT; Visit: Baseline)" in note and "interaction" in note
    assert coding_note(["age"], LABELS, LEVELS, REFERENCES) is None


def _model_result() -> AnalysisResult:
    """A mixed model's tidy rows as mixed_model writes them (fixed, joint, random, emmean, contrast)."""
    tidy = pd.DataFrame({
        "effect": ["fixed", "fixed", "fixed", "fixed", "joint", "ran_pars", "ran_pars", "emmean", "contrast"],
        "term": ["Intercept", "randomized_arm[T.ketamine]", "visit[T.tx3]", "randomized_arm[T.ketamine]:visit[T.tx3]",
                 "randomized_arm:visit", "sd__(Intercept)", "sd__Observation", "randomized_arm", "randomized_arm"],
        "level": [None] * 7 + ["ect", None],
        "contrast": [None] * 8 + ["ketamine - ect"],
        "group": [None] * 5 + ["participant_id", "Residual", "visit=tx3", "visit=tx3"],
        "estimate": [26.4, -0.97, -7.3, -2.5, None, 3.78, 4.40, 19.1, -3.49],
        "statistic": [24.9, -0.65, -5.98, -1.46, 6.18, None, None, None, -2.15],
        "statistic_type": ["t", "t", "t", "t", "F", None, None, None, "t"],
        "df": [163.0, 163.0, 248.0, 248.0, 5.0, None, None, 190.0, 187.0],
        "df_denominator": [None, None, None, None, 241.9, None, None, None, None],
        "p_value": [1e-50, 0.52, 1e-8, 0.14, 2e-5, None, None, None, 0.033],
        "p_adjusted": [None] * 8 + [0.033], "adjust_method": [None] * 8 + ["none"],
        "n_obs": [305] * 9, "n_subjects": [60] * 9})
    result = AnalysisResult("mm", "mixed_model", tidy=tidy)
    result.columns = {"randomized_arm": Column(type="category", levels=["ect", "ketamine"], label="Arm",
                                               level_labels={"ect": "ECT", "ketamine": "Ketamine"}),
                      "visit": Column(type="category", levels=["baseline", "tx3"], label="Visit",
                                      level_labels={"baseline": "Baseline", "tx3": "After treatment 3"})}
    result.data_used = pd.DataFrame({"randomized_arm": ["ect", "ketamine"] * 2,
                                     "visit": pd.Categorical(["baseline", "baseline", "tx3", "tx3"],
                                                             categories=["baseline", "tx3"])})
    return result


def test_model_table_in_words():
    result = _model_result()
    table = analysis_table(result)
    assert table.columns == ["Effect", "Term", "Estimate", "Statistic", "df", "p"]
    terms = [row[table.columns.index("Term")] for row in table.rows]
    assert terms == ["Intercept", "Ketamine vs ECT", "After treatment 3 vs Baseline",
                     "Ketamine vs ECT × After treatment 3", "Arm × Visit", "SD (Intercept), participant_id",
                     "Residual SD", "ECT at After treatment 3", "Ketamine − ECT at After treatment 3"]
    # the level / contrast / group columns said it all: dropped; the statistic carries its type
    assert not {"Level", "Contrast", "Group", "Statistic type", "df (denominator)", "Adjusted p"} & set(table.columns)
    statistic = [row[table.columns.index("Statistic")] for row in table.rows]
    assert statistic[0] == "t = 24.90" and statistic[4] == "F = 6.18" and statistic[5] == ""
    assert [row[table.columns.index("df")] for row in table.rows][4] == "5, 242"
    assert "n observations: 305 in every row." in table.notes and "n subjects: 60 in every row." in table.notes
    assert any(note.startswith("Terms: treatment coding") and "(Arm: ECT; Visit: Baseline)" in note
               for note in table.notes)
    # the CSV keeps the codes
    csv = to_csv_text(result.tidy)
    assert "randomized_arm[T.ketamine]:visit[T.tx3]" in csv and "Ketamine vs ECT" not in csv


def test_terms_without_a_dictionary_are_left_alone():
    table = display_table(pd.DataFrame({"term": ["x[T.b]", "np.log(y)", "t001", "my_arm[T.b]"],
                                        "estimate": [1.0, 2.0, 3.0, 4.0]}))
    assert [row[0] for row in table.rows] == ["x: b", "np.log(y)", "t001", "my_arm: b"]


def test_statistics_named_as_words():
    table = display_table(pd.DataFrame({"term": ["odds_ratio", "risk_difference"], "estimate": [0.3, -0.2]}))
    assert [row[0] for row in table.rows] == ["Odds ratio", "Risk difference"]


def test_two_group_table_says_its_one_comparison_once_and_joins_f_df():
    frame = pd.DataFrame({"outcome": ["a", "b"], "term": ["odds_ratio", "risk_difference"],
                          "contrast": ["k - p", "k - p"], "n_subjects": [50, 50], "n1": [25, 25],
                          "statistic": [3.0, 4.0], "statistic_type": ["F", "F"], "df": [1.0, 2.0],
                          "df_denominator": [45.0, 40.0], "p_value": [0.05, 0.01]})
    table = display_table(frame)
    assert table.columns == ["Outcome", "Term", "n (1)", "F", "df", "p"]
    assert [row[4] for row in table.rows] == ["1, 45", "2, 40"]
    assert "Contrast: k - p." in table.notes and "n subjects: 50 in every row." in table.notes


def test_adjusted_p_stays_when_something_was_adjusted():
    frame = pd.DataFrame({"term": ["a", "b"], "p_value": [0.01, 0.02], "p_adjusted": [0.02, 0.02],
                          "adjust_method": ["holm", "holm"]})
    assert "Adjusted p" in display_table(frame).columns
    same = frame.assign(p_adjusted=[0.01, 0.02], adjust_method=["bonferroni", "bonferroni"])   # m = 1: same p
    assert len(display_table(same).columns) == len(display_table(frame).columns)


def test_simultaneous_interval_is_one_column():
    frame = pd.DataFrame({"contrast": ["b - a", "c - a"], "estimate": [1.0, 2.0], "conf_low": [0.1, 0.2],
                          "conf_high": [1.9, 3.8], "conf_low_adjusted": [-0.1, 0.0], "conf_high_adjusted": [2.1, 4.0],
                          "conf_level": [0.95, 0.95]})
    table = display_table(frame)
    assert table.columns == ["Contrast", "Estimate", "95% CI", "Simultaneous 95% CI"]
    assert table.rows[0][3] == "\u22120.10 to 2.10"
