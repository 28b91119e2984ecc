"""The time_to_event derivation on hand-built visit sequences: each rule, each censoring reason,
missed visits; and its place in a plan (name checks, the derived table in analyses and reports)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ketastats.derive.time_to_event import ADTTE_COLUMNS, TimeToEventRules, derive_time_to_event
from ketastats.errors import DataError, PlanError
from ketastats.language.expressions import parse_expression

ROOT = Path(__file__).resolve().parents[2]


def visits(*subjects: tuple[str, list, list], visit_names=None) -> pd.DataFrame:
    """Rows (subject, day, madrs) from (subject, days, scores); index = 1-based source rows."""
    rows = [(pid, day, score) for pid, days, scores in subjects for day, score in zip(days, scores)]
    frame = pd.DataFrame(rows, columns=["pid", "day", "madrs"])
    frame["madrs"] = frame["madrs"].astype("Float64")
    frame["visit"] = ["v" + str(int(d)) for d in frame["day"]]
    frame.index = range(1, len(frame) + 1)
    return frame


def derive(frame, subject_frame=None, **rules):
    rules.setdefault("from", "r")
    rules.setdefault("time", "day")
    rules.setdefault("origin", 0)
    rules.setdefault("event", "madrs > 20")
    spec = TimeToEventRules.model_validate(rules)
    at_risk = parse_expression(spec.at_risk.where) if spec.at_risk else None
    dropout = parse_expression(spec.dropout) if spec.dropout else None
    return derive_time_to_event(frame, "pid", "relapse", spec, parse_expression(spec.event), at_risk, dropout,
                                subject_frame, unit="days")


def one(table, pid="a") -> dict:
    return table[table["pid"] == pid].iloc[0].to_dict()


def test_single_visit_rule_event_dated_at_first_positive():
    table, issues = derive(visits(("a", [0, 7, 14, 21], [10, 12, 25, 30])))
    row = one(table)
    assert (row["AVAL"], row["CNSR"], row["event"], row["reason"]) == (14.0, 0, True, "event")
    assert row["SRCSEQ"] == 3 and row["EVNTDESC"] == "madrs > 20" and row["CNSDTDSC"] is None
    assert row["PARAMCD"] == "RELAPSE" and row["PARAM"] == "Time to relapse (days)"
    assert list(table.columns) == ["pid", *ADTTE_COLUMNS] and not issues


def test_two_consecutive_ignores_a_single_blip_and_dates_at_the_first_of_the_run():
    frame = visits(("a", [0, 7, 14, 21, 28], [10, 25, 12, 22, 24]))
    row = one(derive(frame, consecutive=2)[0])
    assert (row["AVAL"], row["CNSR"], row["SRCSEQ"]) == (21.0, 0, 4)
    assert one(derive(frame, consecutive=2)[0])["EVNTDESC"] == "madrs > 20 at 2 consecutive assessments"
    confirmed = one(derive(frame, consecutive=2, event_time="confirmed")[0])
    assert confirmed["AVAL"] == 28.0 and confirmed["SRCSEQ"] == 5


def test_loss_of_fifty_percent_improvement_rule():
    frame = visits(("a", [0, 7, 14, 21], [30, 12, 16, 20]))
    frame["pct"] = (frame["madrs"] - 30) / 30 * 100
    row = one(derive(frame, event="pct > -50")[0])
    assert (row["AVAL"], row["reason"]) == (14.0, "event")   # 16 is 46.7 % below 30


def test_missed_visit_row_does_not_break_a_run():
    # no row at day 14 (missed visit): days 7 and 21 are consecutive assessments
    row = one(derive(visits(("a", [0, 7, 21, 28], [10, 25, 26, 10])), consecutive=2)[0])
    assert (row["AVAL"], row["CNSR"]) == (7.0, 0)


def test_missing_rating_is_skipped_neither_counting_nor_breaking():
    frame = visits(("a", [0, 7, 14, 21, 28], [10, 25, None, 26, 10]))
    row = one(derive(frame, consecutive=2)[0])
    assert (row["AVAL"], row["CNSR"]) == (7.0, 0)
    # and the last assessment is the last rated one
    frame = visits(("b", [0, 7, 14], [10, 12, None]))
    row = one(derive(frame)[0], "b")
    assert (row["AVAL"], row["CNSR"], row["reason"], row["SRCSEQ"]) == (7.0, 1, "last_assessment", 2)


def test_censoring_reasons():
    frame = visits(("done", [0, 7, 14], [10, 12, 11]),
                   ("drop", [0, 7], [10, 12]),
                   ("unconf", [0, 7, 14], [10, 12, 25]),
                   ("none", [0], [10]))
    subjects = pd.DataFrame({"pid": ["done", "drop", "unconf", "none"], "gone": [False, True, True, False],
                             "arm": pd.Categorical(["x", "y", "x", "y"], categories=["x", "y"])})
    table, _ = derive(frame, subject_frame=subjects, consecutive=2, dropout="gone")
    reasons = dict(zip(table["pid"], table["reason"]))
    assert reasons == {"done": "completed", "drop": "dropout", "none": "no_follow_up", "unconf": "unconfirmed"}
    assert one(table, "drop")["CNSDTDSC"] == "DROP-OUT: LAST ASSESSMENT"
    assert one(table, "done")["CNSDTDSC"] == "END OF FOLLOW-UP: LAST ASSESSMENT"
    assert one(table, "unconf")["CNSDTDSC"] == "LAST ASSESSMENT (EVENT NOT CONFIRMED)"
    assert one(table, "unconf")["AVAL"] == 14.0
    none = one(table, "none")
    assert (none["AVAL"], none["CNSR"], none["ADY"], pd.isna(none["SRCSEQ"])) == (0.0, 1, 0.0, True)
    assert table["arm"].tolist() == ["x", "y", "y", "x"] and isinstance(table["arm"].dtype, pd.CategoricalDtype)
    assert (table["CNSR"] == 1).all() and not table["event"].any()
    # without a dropout rule the reason is simply the last assessment
    table, _ = derive(frame)
    assert one(table, "done")["reason"] == "last_assessment" and one(table, "done")["CNSDTDSC"] == "LAST ASSESSMENT"


def test_at_risk_population_and_warnings():
    frame = visits(("r", [0, 7, 14], [10, 12, 25]), ("n", [0, 7, 14], [30, 28, 25]), ("m", [0, 14], [10, 25]))
    frame["responder"] = pd.array([True, True, True, False, False, False, None, True], dtype="boolean")
    frame.loc[frame["pid"] == "m", "responder"] = pd.array([pd.NA, True], dtype="boolean")
    table, issues = derive(frame, at_risk={"at": {"visit": "v0"}, "where": "responder"})
    assert table["pid"].tolist() == ["r"]
    assert [i.code for i in issues] == ["no-at-risk-status"] and "m" in issues[0].message


def test_origin_as_selector_or_column_and_rows_at_the_origin_do_not_count():
    frame = visits(("a", [0, 7, 14, 21], [25, 10, 25, 30]), ("b", [0, 7, 14], [25, 26, 10]))
    frame["visit"] = ["base", "eot", "f1", "f2", "base", "eot", "f1"]
    table, _ = derive(frame, origin={"visit": "eot"})
    assert one(table, "a")["STARTDY"] == 7.0 and one(table, "a")["AVAL"] == 7.0       # event at day 14
    assert one(table, "b")["CNSR"] == 1 and one(table, "b")["AVAL"] == 7.0            # day-7 row is the origin
    frame["last_infusion"] = [5.0] * 4 + [6.0] * 3
    table, _ = derive(frame, origin="last_infusion")
    assert one(table, "a")["STARTDY"] == 5.0 and one(table, "a")["ADY"] == 14.0 and one(table, "a")["AVAL"] == 9.0
    assert one(table, "b")["AVAL"] == 1.0                                              # day 7 > origin 6


def test_missing_origin_is_a_warning_and_inconsistent_origin_an_error():
    frame = visits(("a", [0, 7], [10, 25]), ("b", [0, 7], [10, 25]))
    frame["visit"] = ["eot", "f1", "x", "f1"]
    table, issues = derive(frame, origin={"visit": "eot"})
    assert table["pid"].tolist() == ["a"] and [i.code for i in issues] == ["no-origin"]
    frame["o"] = [0.0, 1.0, 0.0, 0.0]
    with pytest.raises(DataError):
        derive(frame, origin="o")


def test_rows_without_time_are_not_used():
    frame = visits(("a", [0, 7, 14], [10, 25, 30]))
    frame["day"] = frame["day"].astype(float)
    frame.loc[2, "day"] = None
    table, issues = derive(frame)
    assert one(table)["AVAL"] == 14.0 and [i.code for i in issues] == ["missing-time"]


# --- in a plan ---------------------------------------------------------------------------------

PLAN = ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml"


@pytest.fixture
def trial(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data_dictionary" / "ketamine_placebo_rct", tmp_path / "data_dictionary" /
                    "ketamine_placebo_rct")
    (tmp_path / "analysis_plans").mkdir()
    shutil.copytree(ROOT / "ketastats" / "datasets" / "ketamine_placebo_rct", tmp_path / "data")
    text = PLAN.read_text(encoding="utf-8").replace("ketastats:ketamine_placebo_rct/", "../data/")
    (tmp_path / "analysis_plans" / "plan.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "ketastats.toml").write_text("")  # the project root (ketastats.paths): ../data is inside it
    return tmp_path / "analysis_plans" / "plan.yaml"


def _edit(plan: Path, old: str, new: str) -> None:
    text = plan.read_text(encoding="utf-8")
    assert old in text
    plan.write_text(text.replace(old, new), encoding="utf-8")


def test_plan_names_are_checked_with_locations(trial):
    from ketastats.api import validate_plan

    _edit(trial, 'event: "madrs_pct_change > -50"', 'event: "madrs_pct > -50"')
    _edit(trial, "subject_table: participants", "subject_table: ratings")
    with pytest.raises(PlanError) as caught:
        validate_plan(trial)
    codes = {issue.code: issue for issue in caught.value.issues}
    assert {"unknown-column", "not-subject-level"} <= set(codes)
    assert codes["unknown-column"].location.line is not None


def test_derived_table_name_must_be_new_and_analyses_are_checked_against_its_columns(trial):
    from ketastats.api import validate_plan

    _edit(trial, "  - name: relapse\n", "  - name: mrs\n")
    _edit(trial, "table: relapse\n    by: arm\n    landmarks", "table: mrs\n    by: arm\n    landmarks")
    with pytest.raises(PlanError) as caught:
        validate_plan(trial)
    assert "duplicate-table" in {issue.code for issue in caught.value.issues}


def test_plan_run_writes_the_adtte_table_and_uses_it(trial, tmp_path):
    from ketastats.api import run_plan

    result = run_plan(trial, out=tmp_path / "report")
    assert result.exit_code == 0
    written = pd.read_csv(tmp_path / "report" / "adtte_relapse.csv")
    relapse = result.data["relapse"]
    assert len(written) == len(relapse) and list(written.columns[:13]) == ["participant_id", *ADTTE_COLUMNS]
    assert set(written["CNSR"]) == {0, 1} and (written["time"] == written["AVAL"]).all()
    km = result.tables["relapse_km"]
    medians = km[km["effect"] == "median"]
    assert int(medians["n"].sum()) == len(relapse)
    assert int(medians["n_events"].sum()) == int((relapse["CNSR"] == 0).sum())
    assert "no-at-risk-status" in {issue.code for issue in result.warnings}
    # the R reference for the synthetic trial (tests/reference/survival) was computed from this very table
    reference = pd.read_csv(ROOT / "tests" / "reference" / "survival" / "ketamine_relapse.csv")
    assert reference["participant_id"].tolist() == relapse["participant_id"].tolist()
    assert reference["time"].tolist() == relapse["time"].tolist()
    assert reference["event"].tolist() == relapse["event"].astype(bool).tolist()
    assert reference["arm"].tolist() == relapse["arm"].astype(str).tolist()
    assert reference["madrs_baseline"].tolist() == relapse["madrs_baseline"].tolist()
