"""Treatment effect within subgroups, with the treatment × subgroup interaction test (the table
behind a CONSORT / NEJM subgroup forest).

For one outcome, a two-level treatment column (``group`` with ``levels: [treatment,
reference]``) and subgroup columns (``subgroups: [sex, age, ...]``), the analysis gives the
overall effect, the effect within each level of each subgroup column (n per arm, estimate, CI)
and, per subgroup column, the test of the treatment × subgroup interaction. The subgroup
estimates are descriptive: the interaction test is the one that says whether the effect differs
between subgroups.

R functions matched
-------------------
Continuous outcome (term ``mean_difference``): within the overall sample and within each
subgroup level separately, ``lm(y ~ group + covariates, subset = level)``, the treatment
coefficient with ``confint.lm`` (estimate ± t quantile × SE on the residual df). Without
``covariates`` this is the difference in means with the Student t interval (R's ``t.test(x, y,
var.equal = TRUE)``); with ``covariates`` it is the ANCOVA-adjusted difference. Interaction:
``anova(lm(y ~ group + subgroup + covariates), lm(y ~ group * subgroup + covariates))`` (F test,
``interaction_test = F``).

Boolean outcome: ``odds_ratio`` rows from ``glm(y ~ group + covariates, family = binomial,
subset = level)`` — exp(coefficient), Wald interval (``confint.default``) and z test; without
covariates that is the sample odds ratio ad/bc with Woolf's interval. ``risk_difference`` rows:
p₁ − p₂ with Newcombe's hybrid score interval (``ci: newcombe``, from two Wilson intervals as
``prop.test(correct = FALSE)``) or the Wald interval (``ci: wald``); no test on these rows, and
no covariate adjustment (with ``covariates`` only ``odds_ratio`` is allowed). Interaction:
likelihood-ratio test ``anova(glm(y ~ group + subgroup + cov), glm(y ~ group * subgroup + cov),
test = "LRT")`` (``interaction_test = LRT``), on the odds scale, repeated on the risk-difference
rows. References: ``tests/reference/subgroups/`` (R script beside the values). Kernels:
:mod:`ketastats.stats.subgroups`.

Subgroup columns
----------------
Category, boolean or text columns (levels in dictionary order; booleans false, true; text in
text order). A numeric column needs ``cut: {age: [50]}``: levels ``< 50`` and ``≥ 50``
(left-closed intervals, R's ``cut(x, c(-Inf, 50, Inf), right = FALSE)``); without ``cut`` it is
refused before anything runs.

Small and degenerate subgroups (a row and a note, never a crash)
----------------------------------------------------------------
* a level with no participants (declared but absent), or with one arm only: the row has the
  counts and a ``note``; no estimate. In the interaction model that level's interaction column is
  aliased and dropped (R's ``NA`` coefficient), so the interaction df is the number of levels with
  both arms minus one; with no such column the test is not given (note).
* too few values for a t interval (no residual df) or no residual variance: no estimate, note.
* a zero cell in a binary subgroup (separation): the odds ratio does not exist (R's ``glm`` would
  warn and return a huge estimate); the row gives the counts, proportions, risk difference and a
  note. The interaction LRT is still computed, from the deviances where R's ``glm.fit`` stops
  (the deviance converges under separation).

Missing-data policy
-------------------
Complete cases over the outcome, ``group`` and ``covariates`` (rows listed in exclusions; rows
at another level of ``group`` as ``other-level``). A row with a missing subgroup value is in the
overall row and left out of that subgroup's rows and test only (counted in a note).

Tidy columns
------------
outcome, term (``mean_difference`` / ``odds_ratio`` / ``risk_difference``), subgroup (the
subgroup column, ``overall`` on the overall row), level (``all`` on the overall row), contrast
(``"ketamine - ect"``), n, n1, n2 (per arm), count1, count2 (events, boolean outcome), estimate1,
estimate2 (means or proportions per arm), estimate, std_error (of the difference; of the log odds
ratio), conf_low, conf_high, conf_level, ci_method, statistic, statistic_type (t / z), df,
p_value, interaction_test, interaction_statistic, interaction_df, interaction_df_denominator,
interaction_p_value (per subgroup column, on each of its rows), method, note.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdefgh"), "arm": list("kkkkcccc"), "sex": list("fmfmfmfm"),
...                       "y": [5.0, 6, 7, 9, 1, 2, 4, 3]}, index=range(1, 9))
>>> spec = Spec(id="s", type="subgroups", table="t", outcome="y", group="arm", levels=["k", "c"], subgroups="sex")
>>> tidy = run(spec, AnalysisInput("s", "t", frame, "pid", ["pid"])).tidy
>>> tidy[["level", "estimate", "n1", "n2"]].round(6).values.tolist()
[['all', 4.25, 4, 4], ['f', 3.5, 2, 2], ['m', 5.0, 2, 2]]
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses._levels import drop_other_levels, level_text, two_levels
from ketastats.analyses.base import AnalysisInput, AnalysisSpec, missing_exclusions, select_rows
from ketastats.errors import Problem
from ketastats.language.fields import ConfLevel, Names, Scalar, as_list, column_field
from ketastats.results import AnalysisResult, Extras

Measure = Literal["risk_difference", "odds_ratio"]
COLUMNS = ["outcome", "term", "subgroup", "level", "contrast", "n", "n1", "n2", "count1", "count2", "estimate1",
           "estimate2", "estimate", "std_error", "conf_low", "conf_high", "conf_level", "ci_method", "statistic",
           "statistic_type", "df", "p_value", "interaction_test", "interaction_statistic", "interaction_df",
           "interaction_df_denominator", "interaction_p_value", "method", "note"]
OVERALL = "overall"   # the subgroup cell of the overall row
ALL = "all"           # its level cell
NUMERIC = ("integer", "number")


class Spec(AnalysisSpec):
    """Treatment effect overall and within subgroup levels, with the treatment × subgroup interaction test."""

    type: Literal["subgroups"]
    outcome: Names = column_field("numeric (difference in means) or boolean (risk difference, odds ratio) outcome")
    group: str = column_field("the treatment column (two arms compared)")
    levels: list[Scalar] | None = Field(None, min_length=2, max_length=2,
                                        description="[treatment, reference]: effects are treatment vs reference")
    subgroups: Names = column_field("category / boolean / text columns defining the subgroups (numeric with cut:)")
    cut: dict[str, list[float]] = Field(default_factory=dict,
                                        description="numeric subgroup column → cut points, e.g. {age: [50]} gives "
                                                    "< 50 and ≥ 50")
    covariates: Names = column_field("adjustment covariates (ANCOVA; logistic model for odds ratios)",
                                     default_factory=list)
    measure: Annotated[list[Measure] | None, BeforeValidator(as_list)] = Field(
        None, description="boolean outcome: risk_difference and / or odds_ratio (default both; odds_ratio with "
                          "covariates)")
    ci: Literal["newcombe", "wald"] = Field("newcombe", description="risk-difference interval: newcombe | wald")
    conf_level: ConfLevel = 0.95

    @model_validator(mode="after")
    def _check(self) -> "Spec":
        """Cut points belong to subgroup columns and increase; no subgroup is the group / an outcome;
        risk differences are unadjusted (no covariates)."""
        for name, cuts in self.cut.items():
            if name not in self.subgroups:
                raise ValueError(f"cut: '{name}' is not one of the subgroups")
            if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:])):
                raise ValueError(f"cut: the cut points of '{name}' must be one or more increasing numbers")
        clash = [s for s in self.subgroups if s == self.group or s in self.outcome]
        if clash:
            raise ValueError(f"subgroup '{clash[0]}' is the treatment column or an outcome")
        if len(set(self.subgroups)) != len(self.subgroups):
            raise ValueError("a subgroup column is named twice")
        if OVERALL in self.subgroups:
            raise ValueError(f"a subgroup column may not be named '{OVERALL}' (the overall row's name)")
        if self.covariates and self.measure and "risk_difference" in self.measure:
            raise ValueError("risk differences are unadjusted; with covariates use measure: odds_ratio")
        return self

    def terms(self, binary: bool) -> list[str]:
        """The effect measures of the rows: mean_difference, or the boolean outcome's measures."""
        if not binary:
            return ["mean_difference"]
        return list(self.measure) if self.measure else \
            (["odds_ratio"] if self.covariates else ["risk_difference", "odds_ratio"])

    def check_columns(self, columns) -> list[Problem]:
        """Outcome numeric or boolean; subgroup columns categorical (numeric ones need ``cut``);
        covariates not text / date; ``levels`` are levels of ``group``; ``measure`` only for boolean outcomes."""
        problems = []
        for i, name in enumerate(self.outcome):
            spec = columns.get(name)
            if spec is None:
                continue
            if spec.type not in (*NUMERIC, "boolean"):
                problems.append(Problem(f"outcome[{i}]", f"column '{name}' is {spec.type}; subgroups need a numeric "
                                                         "or boolean outcome"))
            elif spec.type != "boolean" and self.measure:
                problems.append(Problem("measure", f"'{name}' is numeric (difference in means); measure: is for "
                                                   "boolean outcomes"))
        for i, name in enumerate(self.subgroups):
            spec = columns.get(name)
            if spec is None:
                continue
            if spec.type in NUMERIC and name not in self.cut:
                problems.append(Problem(f"subgroups[{i}]", f"'{name}' is {spec.type}: a numeric subgroup needs cut "
                                        f"points, e.g. cut: {{{name}: [50]}} (levels < 50 and ≥ 50)"))
            elif spec.type not in NUMERIC and name in self.cut:
                problems.append(Problem(f"cut.{name}", f"'{name}' is {spec.type}; cut points are for numeric "
                                                       "columns"))
            elif spec.type == "date":
                problems.append(Problem(f"subgroups[{i}]", f"'{name}' is a date; use a category column"))
        for i, name in enumerate(self.covariates):
            spec = columns.get(name)
            if spec is not None and spec.type in ("string", "date"):
                problems.append(Problem(f"covariates[{i}]", f"covariate '{name}' is {spec.type}; use a numeric, "
                                                            "boolean or category column"))
        spec = columns.get(self.group)
        if spec is not None and self.levels is not None:
            allowed = spec.levels if spec.levels is not None else \
                (["true", "false"] if spec.type == "boolean" else None)
            for i, level in enumerate(self.levels):
                if allowed is not None and level_text(level) not in allowed:
                    problems.append(Problem(f"levels[{i}]", f"'{level}' is not a level of '{self.group}'"))
        return problems

    def planned_rows(self, columns) -> list[dict[str, Any]] | None:
        """(outcome, term, subgroup, level) of every row, or None when a level set is known only from the data.

        >>> from ketastats.data.dictionary import Column
        >>> spec = Spec(id="s", type="subgroups", table="t", outcome="y", group="arm", subgroups=["age"],
        ...             cut={"age": [50]})
        >>> [r["level"] for r in spec.planned_rows({"y": Column(type="number"), "age": Column(type="integer")})]
        ['all', '< 50', '≥ 50']
        """
        from ketastats.stats.subgroups import cut_labels

        rows = []
        for outcome in self.outcome:
            spec = columns.get(outcome)
            if spec is None:
                return None
            for term in self.terms(spec.type == "boolean"):
                rows.append({"outcome": outcome, "term": term, "subgroup": OVERALL, "level": ALL})
                for name in self.subgroups:
                    column = columns.get(name)
                    if name in self.cut:
                        levels = cut_labels(self.cut[name])
                    elif column is not None and column.type == "boolean":
                        levels = ["false", "true"]
                    elif column is not None and column.levels is not None:
                        levels = list(column.levels)
                    else:
                        return None
                    rows += [{"outcome": outcome, "term": term, "subgroup": name, "level": lvl} for lvl in levels]
        return rows


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Overall and per-subgroup-level treatment effects and the interaction test per subgroup column.

    R: see the module docstring (``lm`` + ``confint`` and ``anova`` F for numeric outcomes;
    ``glm(binomial)`` + ``confint.default`` and ``anova(test = "LRT")``, Newcombe / Wald risk
    differences for boolean ones). Rows, per outcome and term: the overall row, then for each
    subgroup column (plan order) one row per level (level order), each carrying that column's
    interaction test. Exclusions: population / ``where``, missing group or covariate (once),
    ``other-level``, missing outcome (per outcome). Never fails on a small subgroup: such rows
    carry a ``note`` instead of an estimate.
    """
    base, exclusions = select_rows(ctx, [spec.group, *spec.covariates])
    excluded = [exclusions]
    levels = two_levels(base, spec.group, spec.levels, ctx)
    base, other_levels = drop_other_levels(base, spec.group, levels, ctx)
    excluded.append(other_levels)
    contrast = f"{level_text(levels[0])} - {level_text(levels[1])}"
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    n_used = 0
    kinds: set[bool] = set()   # binary outcomes seen (True) / numeric (False)
    for outcome in spec.outcome:
        excluded.append(missing_exclusions(ctx, base, outcome))
        data = base[base[outcome].notna()]
        n_used += len(data)
        binary = str(data[outcome].dtype) in ("boolean", "bool")
        kinds.add(binary)
        y = data[outcome].astype(bool).astype(float).to_numpy() if binary else data[outcome].astype(float).to_numpy()
        treated = (data[spec.group] == levels[0]).to_numpy(dtype=float)
        covariates = _covariate_matrix(data, spec.covariates)
        common = {"outcome": outcome, "contrast": contrast, "conf_level": spec.conf_level}
        for term in spec.terms(binary):
            every = np.ones(len(y), dtype=bool)
            rows.append({**common, "term": term, "subgroup": OVERALL, "level": ALL,
                         **_effect(term, y, treated, covariates, every, spec)})
            for name in spec.subgroups:
                labels, order = _subgroup_levels(data, name, spec.cut.get(name))
                missing = sum(v is None for v in labels)
                if missing and term == spec.terms(binary)[0]:
                    notes.append(f"{outcome}: {missing} analysed row(s) with {name} missing are in the overall row "
                                 f"only, not in the {name} subgroups or their interaction test")
                test, why = _interaction(y, treated, covariates, labels, order, binary)
                if why and term == spec.terms(binary)[0]:
                    notes.append(f"{outcome}: no treatment × {name} interaction test: {why}")
                for level in order:
                    mask = np.array([v == level for v in labels])
                    rows.append({**common, "term": term, "subgroup": name, "level": level, **test,
                                 **_effect(term, y, treated, covariates, mask, spec)})
    if False in kinds:
        notes.append("mean_difference: treatment − reference from lm(y ~ group" + (" + covariates" if spec.covariates
                     else "") + ") fitted within each subgroup level (t interval, confint.lm)"
                     + ("; ANCOVA-adjusted" if spec.covariates else "; equals the Student t test's difference"))
        notes.append("interaction (F): anova(lm(y ~ group + subgroup), lm(y ~ group * subgroup))"
                     + (" with the covariates in both" if spec.covariates else ""))
    if True in kinds:
        notes.append("odds_ratio: exp(treatment coefficient) of glm(y ~ group" + (" + covariates" if spec.covariates
                     else "") + ", binomial) within each subgroup level, Wald interval (confint.default)")
        notes.append(f"risk_difference: p1 − p2, {spec.ci} interval, unadjusted, no test" if not spec.covariates
                     else "odds ratios are covariate-adjusted (conditional)")
        notes.append("interaction (LRT): anova(glm(y ~ group + subgroup), glm(y ~ group * subgroup), test = \"LRT\"),"
                     " a test on the odds scale, also shown on the risk-difference rows")
    notes.append("subgroup estimates are descriptive; the interaction test says whether the effect differs between "
                 "subgroups")
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=COLUMNS),
                          glance={"n_rows_used": n_used},
                          exclusions=pd.concat(excluded, ignore_index=True), notes=notes,
                          extras=Extras(labels={c: ctx.label(c) for c in [*spec.outcome, *spec.subgroups, spec.group]},
                                        outcomes=list(spec.outcome), by=[spec.group]))


def _covariate_matrix(data: pd.DataFrame, covariates: list[str]) -> np.ndarray:
    """The covariates' design columns (no intercept): numbers as they are, booleans / categories as
    treatment-coded indicators of every level but the first observed one (R's default coding)."""
    columns: list[np.ndarray] = []
    for name in covariates:
        values = data[name]
        if str(values.dtype) in ("boolean", "bool"):
            columns.append(values.astype(bool).to_numpy(dtype=float))
        elif isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or \
                isinstance(values.dtype, pd.StringDtype):
            order = [c for c in values.cat.categories if (values == c).any()] \
                if isinstance(values.dtype, pd.CategoricalDtype) else sorted(values.astype(str).unique())
            text = values.astype(str) if not isinstance(values.dtype, pd.CategoricalDtype) else values
            columns += [(text == level).to_numpy(dtype=float) for level in order[1:]]
        else:
            columns.append(values.astype(float).to_numpy())
    return np.column_stack(columns) if columns else np.zeros((len(data), 0))


def _subgroup_levels(data: pd.DataFrame, name: str, cuts: list[float] | None) -> tuple[list, list[str]]:
    """Each row's subgroup level as text (None when missing) and the level order.

    Cut columns: the :func:`~ketastats.stats.subgroups.cut_labels` intervals; categories: every
    declared level (an absent one gives an empty row); booleans: false, true; text: observed, sorted.
    """
    from ketastats.stats.subgroups import cut_labels, cut_values

    values = data[name]
    if cuts is not None:
        return cut_values(values.astype(float).to_numpy(), cuts), cut_labels(cuts)
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [level_text(c) for c in values.cat.categories]
    elif str(values.dtype) in ("boolean", "bool"):
        order = ["false", "true"]
    else:
        order = sorted({level_text(v) for v in values.dropna()})
    return [None if pd.isna(v) else level_text(v) for v in values], order


def _effect(term: str, y: np.ndarray, treated: np.ndarray, covariates: np.ndarray, mask: np.ndarray,
            spec: Spec) -> dict[str, Any]:
    """The tidy cells of one effect (overall or one subgroup level) on the rows in ``mask``.

    Counts and per-arm means / proportions always; the estimate, interval and test when
    estimable, otherwise a ``note`` saying why (no participants, one arm, too few values,
    separation).
    """
    from ketastats.stats.contingency import risk_difference
    from ketastats.stats.subgroups import linear_effect, logistic_effect

    arm1, arm2 = mask & (treated == 1), mask & (treated == 0)
    n1, n2 = int(arm1.sum()), int(arm2.sum())
    cells: dict[str, Any] = {"n": n1 + n2, "n1": n1, "n2": n2,
                             "estimate1": float(y[arm1].mean()) if n1 else None,
                             "estimate2": float(y[arm2].mean()) if n2 else None}
    binary = term != "mean_difference"
    if binary:
        cells.update({"count1": int(y[arm1].sum()), "count2": int(y[arm2].sum())})
    if n1 == 0 or n2 == 0:
        cells["note"] = "no participants" if n1 + n2 == 0 else \
            f"one arm only ({n1} vs {n2}): no comparison"
        return cells
    X = np.column_stack([np.ones(int(mask.sum())), treated[mask], covariates[mask]])
    try:
        if term == "risk_difference":
            estimate, low, high = risk_difference(cells["count1"], n1, cells["count2"], n2, spec.ci, spec.conf_level)
            cells.update({"estimate": estimate, "conf_low": low, "conf_high": high, "ci_method": spec.ci,
                          "method": "two_proportions"})
        elif term == "odds_ratio":
            if min(cells["count1"], n1 - cells["count1"], cells["count2"], n2 - cells["count2"]) == 0:
                raise ValueError("separated")   # a zero cell: the ML odds ratio is 0 or infinite
            fit = logistic_effect(X, y[mask], 1, spec.conf_level)
            if not all(abs(v) < 700 for v in (fit.estimate, fit.conf_low, fit.conf_high)):
                raise ValueError("separated")   # exp() would overflow: the fit ran off to infinity
            cells.update({"estimate": math.exp(fit.estimate), "std_error": fit.std_error,
                          "conf_low": math.exp(fit.conf_low), "conf_high": math.exp(fit.conf_high),
                          "ci_method": "wald", "statistic": fit.statistic, "statistic_type": "z",
                          "p_value": fit.p_value, "method": "logistic"})
        else:
            fit = linear_effect(X, y[mask], 1, spec.conf_level)
            cells.update({"estimate": fit.estimate, "std_error": fit.std_error, "conf_low": fit.conf_low,
                          "conf_high": fit.conf_high, "ci_method": "t", "statistic": fit.statistic,
                          "statistic_type": "t", "df": fit.df, "p_value": fit.p_value,
                          "method": "ancova" if covariates.shape[1] else "ols"})
    except ValueError as exc:   # a small subgroup: say why there is no estimate, keep the counts
        reason = str(exc)
        if "separated" in reason or "single value" in reason:
            reason = "a zero cell (all or none with the outcome in an arm): the odds ratio does not exist"
        cells["note"] = f"not estimable: {reason}"
    return cells


def _interaction(y: np.ndarray, treated: np.ndarray, covariates: np.ndarray, labels: list, order: list[str],
                 binary: bool) -> tuple[dict[str, Any], str | None]:
    """The treatment × subgroup interaction test of one subgroup column (cells repeated on its rows).

    Reduced model: intercept, treatment, subgroup indicators (first observed level the reference),
    covariates; full model: plus treatment × each indicator. F test (numeric outcome) or LRT
    (boolean), on the rows with the subgroup present. Returns the cells and None, or no cells and
    the reason (fewer than two levels occur, no interaction column is estimable, no residual df).
    """
    from ketastats.stats.subgroups import f_test, lr_test

    rows = np.array([v is not None for v in labels])
    observed = [level for level in order if level in set(labels)]
    if len(observed) < 2:
        return {}, f"{len(observed)} level(s) occur"
    indicators = np.column_stack([[1.0 if v == level else 0.0 for v in labels] for level in observed[1:]])[rows]
    t = treated[rows]
    reduced = np.column_stack([np.ones(int(rows.sum())), t, indicators, covariates[rows]])
    full = np.column_stack([reduced, indicators * t[:, None]])
    try:
        if binary:
            statistic, df, p = lr_test(reduced, full, y[rows])
            return {"interaction_test": "LRT", "interaction_statistic": statistic, "interaction_df": df,
                    "interaction_p_value": p}, None
        statistic, df1, df2, p = f_test(reduced, full, y[rows])
    except ValueError as exc:
        return {}, str(exc)
    return {"interaction_test": "F", "interaction_statistic": statistic, "interaction_df": df1,
            "interaction_df_denominator": df2, "interaction_p_value": p}, None
