"""Figure / analysis mismatches are caught by ``validate``, not when the figure is drawn (issue 16, item 6).

Table-driven: every figure type (``ketastats.figures.REGISTRY``) against one analysis of every type
that has an example below, in one plan on a small two-arm trial. ``validate`` flags the pairs that
cannot be drawn (``figure-analysis-mismatch`` / ``figure-key-mismatch``, at the figure's line); every
pair it accepts is then run and must be drawn. A mismatch found only at draw time fails here: move
it to the figure type's ``check_analysis`` / ``check_others`` hook. Then the mismatches a user meets
with the keys of each figure type, each with its message, YAML path and line.
"""

from __future__ import annotations

import pytest

from ketastats.analyses import BY_TYPE as ANALYSES
from ketastats.api import run_plan
from ketastats.figures import REGISTRY as FIGURES
from tests.test_messages import line_of, validate_json, write_plan

# one analysis per type, on the trial of tests/test_messages.py (people: one row per participant;
# scores: visits v0, v1, v2; ``low`` is derived below)
EXAMPLES = {
    "baseline_table": "{table: people, variables: [age, marker], by: arm}",
    "correlation": "{table: people, outcome: marker, x: age}",
    "cox": "{table: people, time: time, event: relapsed, covariates: [arm, age]}",
    "descriptives": "{table: scores, outcome: y, by: visit}",
    "flow": "{table: people, by: arm}",
    "group_proportions": "{table: people, outcome: relapsed, group: arm}",
    "kaplan_meier": "{table: people, time: time, event: relapsed, by: arm}",
    "logrank": "{table: people, time: time, event: relapsed, by: arm}",
    "mass_mixed_model": '{table: scores, outcomes: [y, z], formula: "~ visit", random: "1 | pid"}',
    "mixed_model": '{table: scores, formula: "y ~ visit", random: "1 | pid", df_method: residual}',
    "mmrm": '{table: scores, formula: "y ~ visit", visit: visit, subject: pid}',
    "paired_ttest": "{table: scores, outcome: y, pair_by: visit, levels: [v2, v0]}",
    "proportions": "{table: scores, outcome: low, by: visit}",
    "regression": '{table: people, formula: "marker ~ age"}',
    "rm_anova": "{table: scores, outcome: y, within: visit}",
    "subgroups": "{table: people, outcome: marker, group: arm, subgroups: [completed], cut: {}}",
    "ttest": "{table: people, outcome: marker, group: arm}",
}
FIGURE_KEYS = {"scatter": ", x: age"}   # keys a figure type cannot do without
DERIVE = 'derive:\n  - {name: low, table: scores, rule: "y < 20"}\n'


def figure_type(module) -> str:
    return module.Spec.model_fields["type"].annotation.__args__[0]


def pairs() -> list[tuple[str, str]]:
    return [(figure_type(module), kind) for module in FIGURES for kind in sorted(EXAMPLES) if kind in ANALYSES]


def plan_text(figures: list[tuple[str, str]]) -> str:
    lines = [DERIVE, "analyses:\n"]
    lines += [f"  - {{id: a_{kind}, type: {kind}, {EXAMPLES[kind][1:]}\n" for kind in sorted(EXAMPLES)
              if kind in ANALYSES]
    lines.append("figures:\n")
    lines += [f"  - {{id: f_{figure}__{kind}, type: {figure}, analysis: a_{kind}{FIGURE_KEYS.get(figure, '')}}}\n"
              for figure, kind in figures]
    return "".join(lines)


def test_every_drawable_analysis_type_has_an_example():
    """A figure type that draws a new analysis type needs that type here (else its pairs go untested)."""
    drawable = {kind for module in FIGURES for kind in module.Spec.ANALYSIS_TYPES}
    drawable |= {kind for module in FIGURES for kinds in module.Spec.OTHER_TYPES.values() for kind in kinds}
    assert drawable <= set(EXAMPLES), drawable - set(EXAMPLES)


def test_validate_flags_every_pair_that_cannot_be_drawn(tmp_path):
    """Figure type × analysis type: what validate accepts is drawn; what it refuses is located."""
    every = pairs()
    plan = write_plan(tmp_path / "all", plan_text(every))
    code, document = validate_json(plan)
    assert code == 2
    flagged: dict[int, list[dict]] = {}
    for issue in document["issues"]:
        path = issue["location"]["path"]
        assert path.startswith("figures["), issue          # the analyses themselves are valid
        assert issue["code"] in ("figure-analysis-mismatch", "figure-key-mismatch"), issue
        flagged.setdefault(int(path[len("figures["):].split("]")[0]), []).append(issue)
    for index, issues in flagged.items():
        figure, kind = every[index]
        assert all(i["location"]["line"] == line_of(plan, f"id: f_{figure}__{kind},") for i in issues)
    accepted = [pair for index, pair in enumerate(every) if index not in flagged]
    # each figure type draws at least the analysis types it declares
    assert {figure for figure, _ in accepted} == {figure_type(module) for module in FIGURES}
    runnable = write_plan(tmp_path / "accepted", plan_text(accepted))
    result = run_plan(runnable, write=False)
    assert not result.failed
    drawn = {figure.id: figure for figure in result.figures}
    not_drawn = {name: figure.reason for name, figure in drawn.items() if not figure.ok}
    assert not not_drawn, f"validate accepted these, drawing failed (move the check to the figure's hooks): " \
                          f"{not_drawn}"


BASE = """\
analyses:
  - {id: mm, type: mixed_model, table: scores, formula: "y ~ visit", random: "1 | pid", df_method: residual}
  - {id: t1, type: ttest, table: people, outcome: [marker, age], group: arm, method: student}
  - {id: t2, type: ttest, table: people, outcome: marker, group: arm, method: student}
  - {id: corr, type: correlation, table: people, outcome: marker, x: age, method: pearson}
  - {id: cx, type: cox, table: people, time: time, event: relapsed, covariates: [arm, age]}
  - {id: lr, type: logrank, table: people, time: time, event: relapsed, by: arm}
  - {id: desc2, type: descriptives, table: scores, outcome: y, by: [visit, arm2]}
derive:
  - {name: arm2, subject_level: arm, from: people}
figures:
"""

# (figure, error code, YAML path under the figure, message after "figure 'f': ")
CASES = [
    ("{id: f, type: kaplan_meier, analysis: cx}", "figure-analysis-mismatch", "analysis",
     "figure 'f' (kaplan_meier) cannot draw analysis 'cx' of type cox"),
    ("{id: f, type: forest, analysis: lr}", "figure-analysis-mismatch", "analysis",
     "figure 'f' (forest) cannot draw analysis 'lr' of type logrank"),
    ("{id: f, type: trajectory, analysis: desc2}", "figure-key-mismatch", "group",
     "figure 'f': analysis 'desc2' is by visit, arm2; a trajectory draws one x column and at most one group column"),
    ("{id: f, type: paired_change, analysis: mm}", "figure-key-mismatch", "analysis",
     "figure 'f': 'visit' has 3 levels (v0, v1, v2); a paired change figure draws two"),
    ("{id: f, type: paired_change, analysis: mm, levels: [v0, v9]}", "figure-key-mismatch", "levels[1]",
     "figure 'f': 'v9' is not a level of 'visit' (v0, v1, v2)"),
    ("{id: f, type: group_bars, analysis: t1, also: [t2]}", "figure-key-mismatch", "also[0]",
     "figure 'f': analysis 't2' has no outcome age (drawn from analysis 't1')"),
    ("{id: f, type: group_bars, analysis: t2, bar_labels: [A, B, C]}", "figure-key-mismatch", "bar_labels",
     "figure 'f': bar_labels has 3 entries; it needs 2: the reference, analysis 't2'"),
    ("{id: f, type: group_bars, analysis: t2, method: welch}", "figure-key-mismatch", "method",
     "figure 'f': analysis 't2' runs student, not welch"),
    ("{id: f, type: scatter, analysis: corr, x: age, method: spearman}", "figure-key-mismatch", "method",
     "figure 'f': analysis 'corr' computes pearson, not spearman"),
    ("{id: f, type: forest, analysis: cx, terms: [sex]}", "figure-key-mismatch", "terms[0]",
     "figure 'f': 'sex' is not a term of analysis 'cx' (its covariates: arm, age)"),
]


@pytest.mark.parametrize(("figure", "code", "key", "message"), CASES, ids=[c[0][14:44] for c in CASES])
def test_a_mismatch_is_a_validate_error_at_the_figure(tmp_path, figure, code, key, message):
    plan = write_plan(tmp_path, BASE + f"  - {figure}\n")
    exit_code, document = validate_json(plan)
    assert exit_code == 2
    (issue,) = document["issues"]
    assert (issue["code"], issue["message"]) == (code, message)
    assert issue["location"] == {"file": "plan.yaml", "line": line_of(plan, "{id: f,"),
                                 "path": f"figures[0].{key}"}


def test_the_same_keys_that_fit_are_drawn(tmp_path):
    """The corrected figures of the cases above validate and draw (the checks reject nothing valid)."""
    plan = write_plan(tmp_path, BASE, """\
          - {id: paired, type: paired_change, analysis: mm, levels: [v0, v2]}
          - {id: bars, type: group_bars, analysis: t1, also: [t2], outcomes: [marker], bar_labels: [A, B, C]}
          - {id: dots, type: scatter, analysis: corr, x: age, method: pearson}
          - {id: hazards, type: forest, analysis: cx, terms: ["arm[T.ketamine]", age]}
          - {id: course, type: trajectory, analysis: desc2, group: arm2}
        """)
    assert validate_json(plan)[0] == 0
    result = run_plan(plan, write=False)
    assert [(f.id, f.reason) for f in result.figures if not f.ok] == []
