r"""Repeated-measures ANOVA (within-subject and mixed between × within) with sphericity and post-hoc tests.

Role
----
The classical univariate repeated-measures ANOVA of a prespecified plan: one or two within-subject
factors (e.g. ``visit``), optionally between-subject factors (e.g. ``arm``), Mauchly's test,
Greenhouse-Geisser / Huynh-Feldt corrections, partial and generalized eta squared, and
post-hoc paired t tests with Cohen's d_z and a multiplicity adjustment.

R functions matched
-------------------
- ANOVA table: ``afex::aov_ez(id, dv, data, between, within, type = 3)`` (afex 1.2-1, car 3.1-1):
  sums of squares, df, F, p from ``summary(fit$Anova, multivariate = FALSE)$univariate.tests``;
  ``eta_sq_partial`` / ``eta_sq_generalized`` = afex's ``pes`` / ``ges`` (``observed = NULL``);
  ``epsilon_gg``, ``epsilon_hf`` and corrected p from ``$pval.adjustments``; ``mauchly_w`` /
  ``mauchly_p`` from ``$sphericity.tests``; ``df_corrected`` / ``df_denominator_corrected`` equal
  the df of ``anova(fit, correction = "GG")`` (or ``"HF"``).
- Post hoc: ``t.test(x, y, paired = TRUE)`` on per-participant means, then ``p.adjust``.

Checked against ``tests/reference/rm_anova_paired_ttest/rm_anova.json`` (``make_reference.R``).

Formulas
--------
See :mod:`ketastats.stats.repeated_measures` (type-III sums of squares from the multivariate linear
model with sum-to-zero coding, as car), :mod:`ketastats.stats.sphericity` (Mauchly, GG, HF) and
:mod:`ketastats.stats.ttests` (paired t, d_z). A corrected test multiplies both df by epsilon.
Huynh-Feldt: ``epsilon_hf`` is min(1, car's raw value) — the value car and afex use for the
corrected p-value (car's *printed* HF epsilon is the raw one and can exceed 1; it is kept in
``extras["sphericity"]``).

Sphericity policy (``sphericity:``)
-----------------------------------
``greenhouse_geisser`` (default, as afex), ``huynh_feldt``, ``none``, or ``auto``: per term,
Greenhouse-Geisser when Mauchly's p < 0.05, otherwise no correction (a documented rule; the
usual caveats about pre-testing apply, prefer a fixed choice). Corrections apply to within terms
with more than one df; between-subject terms and 1-df within terms are never corrected
(``correction = none``, ``p_value_corrected = p_value``), as in afex.

Missing-data policy (``incomplete: complete_cases``, the only policy)
--------------------------------------------------------------------
The within cells are the combinations of the within factors' levels present in the analysed rows
(after ``population`` and ``where``), in category-level order. A participant missing any cell — no
row, or a missing outcome — is excluded entirely: **every** one of their rows is listed in the
exclusions with reason ``incomplete-subject`` and a detail naming the missing cells. (pingouin
and afex drop such participants too; pingouin silently, afex with a warning. Here participants are
counted explicitly.) Rows with a missing subject, within or between value are listed with reason
``missing-value``. Two rows for one participant and cell, or a between factor that changes within a
participant, fail the analysis (``duplicate-cell``, ``between-not-constant``): aggregate first.

Post hoc (``posthoc:``)
-----------------------
``{test: paired_t, factor: VISIT_COLUMN, versus: LEVEL | all, effect_size: cohen_dz, adjust:
METHOD, by: [BETWEEN...], conf_level: 0.95}``. Paired t tests between levels of ``factor`` (default:
the first within factor) on each participant's mean over the other within factor's levels, on the
participants of the ANOVA; ``versus: LEVEL`` compares every other level with LEVEL
(contrast ``"day1 - baseline"``), ``all`` every pair in level order (``"a - b"`` for a before b, as
emmeans' ``pairwise``). ``by`` repeats the tests within each between-subject group. ``adjust`` is
one of ``ketastats.stats.p_adjust.METHODS`` or ``none``; the family is all post-hoc rows of the
analysis. Cohen's d_z = mean difference / SD of the differences.

Tidy columns
------------
One table, two kinds of rows (distinguished by ``contrast`` and ``statistic_type``):

- ANOVA rows (one per term, afex's order and names, e.g. ``treatment``, ``phase``,
  ``treatment:phase``; ``contrast`` empty): outcome, term, method, n (rows analysed =
  participants × cells), n_subjects, statistic_type (``F``), statistic, df, df_denominator,
  p_value (uncorrected), correction (``none`` / ``greenhouse_geisser`` / ``huynh_feldt``),
  df_corrected, df_denominator_corrected, p_value_corrected (the p-value to read), epsilon_gg,
  epsilon_hf, mauchly_w, mauchly_p (empty for between terms and 1-df within terms), sum_sq,
  sum_sq_error, eta_sq_partial, eta_sq_generalized (the ``effect_size:`` list selects which).
- post-hoc rows (only with ``posthoc:``): outcome, term (the factor), contrast, one column per
  ``posthoc.by`` between factor, method (``paired t-test``), n (rows entering the comparison),
  n_subjects (pairs), statistic_type (``t``), statistic, df, p_value, estimate (mean difference),
  std_error, conf_low, conf_high, conf_level, p_adjusted, adjust_method, effect_size,
  effect_size_type (``cohen_dz``).

The post-hoc rows are also in ``extras["posthoc"]`` (records), with ``extras["adjust"]``.

Known differences from R
------------------------
- Only type III sums of squares (afex's default); with balanced between groups type II is equal.
- Generalized eta squared treats every factor as manipulated (afex ``observed = NULL``); afex sums
  ``unique()`` error SS over strata, this sums each stratum once (differs only if two strata have
  exactly equal error SS).
- afex averages several rows per cell (``fun_aggregate``, with a message); this fails instead.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("aaabbbcccddd"),
...                       "visit": pd.Categorical(["pre", "mid", "post"] * 4, categories=["pre", "mid", "post"]),
...                       "y": [10.0, 8, 5, 12, 11, 7, 9, 9, 3, 14, 10, None]}, index=range(1, 13))
>>> spec = Spec(id="r", type="rm_anova", table="t", outcome="y", within="visit",
...             posthoc={"versus": "pre", "adjust": "bonferroni"})
>>> result = run(spec, AnalysisInput("r", "t", frame, "pid", ["pid", "visit"]))
>>> result.tidy[["term", "contrast", "statistic_type", "n_subjects", "df"]].fillna("").values.tolist()
[['visit', '', 'F', 3, 2.0], ['visit', 'mid - pre', 't', 3, 2.0], ['visit', 'post - pre', 't', 3, 2.0]]
>>> result.exclusions["reason"].tolist()
['incomplete-subject', 'incomplete-subject', 'incomplete-subject']
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses._within import cell_text, factor_levels, wide_cells
from ketastats.analyses.base import AnalysisInput, AnalysisSpec, analysis_error, plain, select_rows
from ketastats.errors import Issue, Location, Problem
from ketastats.language.fields import ConfLevel, Names, Strict, as_list, column_field
from ketastats.results import AnalysisResult, Extras
from ketastats.stats.p_adjust import METHODS as ADJUST_METHODS
from ketastats.stats.p_adjust import adjust_p
from ketastats.stats.repeated_measures import corrected_p_value, rm_anova
from ketastats.stats.ttests import paired_t_test

# every stats.p_adjust method or none; unlike language.fields.AdjustMethod this keeps fixed_sequence
# (post-hoc rows tested in their row order), which plans may already use. mypy cannot read a
# Literal built at run time: it sees str (pydantic checks the choices).
if TYPE_CHECKING:
    AdjustMethod = str
else:
    AdjustMethod = Literal[ADJUST_METHODS + ("none",)]
EffectSize = Literal["eta_sq_partial", "eta_sq_generalized"]


class RmAnovaExtras(Extras, total=False):
    """rm_anova's extras: the post-hoc rows, their adjustment method, the sphericity tests per outcome."""

    posthoc: list[dict]
    adjust: str | None
    sphericity: dict[str, dict]


SPHERICITY_ALPHA = 0.05   # Mauchly's p below which sphericity: auto applies Greenhouse-Geisser
ANOVA_METHOD = "repeated-measures ANOVA (univariate, type III)"
POSTHOC_METHOD = "paired t-test"


class Posthoc(Strict):
    """Post-hoc paired t tests between levels of a within factor."""

    test: Literal["paired_t"] = "paired_t"
    factor: str | None = Field(None, description="the within column whose levels are compared (default: the first)")
    versus: str = Field("all", description="a level compared with every other level, or 'all' for every pair")
    effect_size: Literal["cohen_dz"] = "cohen_dz"
    adjust: AdjustMethod = Field("holm", description="p-value adjustment over the post-hoc rows, or none")
    by: Names = Field(default_factory=list, description="between columns: repeat the tests within each group")
    conf_level: ConfLevel = 0.95


class Spec(AnalysisSpec):
    """Repeated-measures ANOVA: within (and between) factors, sphericity, eta squared, post-hoc paired t."""

    type: Literal["rm_anova"]
    outcome: Names = column_field("numeric outcome column(s); each is analysed separately")
    within: Names = column_field("one or two within-subject factor columns, e.g. visit")
    between: Names = column_field("between-subject factor columns, e.g. arm", default_factory=list)
    subject: str | None = column_field("the participant column (default: the plan's subject)", default=None)
    sphericity: Literal["none", "greenhouse_geisser", "huynh_feldt", "auto"] = Field(
        "greenhouse_geisser", description="sphericity correction; auto = GG when Mauchly p < 0.05")
    effect_size: Annotated[list[EffectSize], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[EffectSize](["eta_sq_partial", "eta_sq_generalized"]),
        description="eta_sq_partial and / or eta_sq_generalized")
    incomplete: Literal["complete_cases"] = Field(
        "complete_cases", description="participants missing any within cell are excluded entirely")
    posthoc: Posthoc | None = None

    @model_validator(mode="after")
    def _check_design(self) -> "Spec":
        """One or two within factors; distinct factor / subject / outcome columns; posthoc keys consistent."""
        if not self.outcome:
            raise ValueError("rm_anova needs an outcome")
        if not 1 <= len(self.within) <= 2:
            raise ValueError("within: give one or two within-subject factor columns")
        names = [*self.within, *self.between, *([self.subject] if self.subject else [])]
        if len(set(names)) != len(names):
            raise ValueError("within, between and subject must name different columns")
        if set(self.outcome) & set(names):
            raise ValueError("an outcome cannot also be a factor or the subject")
        if self.posthoc is not None:
            if self.posthoc.factor is not None and self.posthoc.factor not in self.within:
                raise ValueError(f"posthoc.factor '{self.posthoc.factor}' is not one of within: {self.within}")
            if not set(self.posthoc.by) <= set(self.between):
                raise ValueError(f"posthoc.by must name between columns ({self.between})")
        return self

    def check_columns(self, columns) -> list[Problem]:
        """Numeric outcomes; factors that are not continuous (number / date); ``posthoc.versus`` a declared level."""
        problems = [Problem(f"outcome[{i}]",
                            f"column '{name}' is {columns[name].type}; rm_anova needs a numeric outcome")
                    for i, name in enumerate(self.outcome)
                    if name in columns and columns[name].type not in ("integer", "number")]
        for key in ("within", "between"):
            for i, name in enumerate(getattr(self, key)):
                if name in columns and columns[name].type in ("number", "date"):
                    problems.append(Problem(f"{key}[{i}]", f"column '{name}' is {columns[name].type}; "
                                     "a factor must be a category, string, integer or boolean column"))
        if self.posthoc is not None and self.posthoc.versus != "all":
            factor = self.posthoc.factor or (self.within[0] if self.within else None)
            column = columns.get(factor)
            if column is not None and column.levels and self.posthoc.versus not in column.levels:
                problems.append(Problem("posthoc.versus", f"'{self.posthoc.versus}' is not a level of '{factor}' "
                                 f"({', '.join(column.levels)}), nor 'all'"))
        return problems


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Type-III repeated-measures ANOVA of each outcome, with sphericity corrections and post hoc tests.

    R: ``afex::aov_ez(id = subject, dv = outcome, data, within, between, type = 3)`` —
    ``summary(fit$Anova, multivariate = FALSE)`` for SS, df, F, p, Mauchly and the GG / HF
    epsilons, ``afex::nice`` / ``anova(fit, es = c("pes", "ges"))`` for the effect sizes — then,
    with ``posthoc``, ``t.test(x, y, paired = TRUE)`` on participant means and ``p.adjust`` over
    all post-hoc rows of all outcomes. Each outcome is analysed on its own complete participants.

    The within cells are every combination of the within factors' observed levels; a
    participant missing one (no row or a missing outcome) is excluded entirely for that outcome
    (``incomplete-subject``). Tidy columns: see the module docstring (ANOVA rows, then post-hoc
    rows). ``extras["sphericity"]`` keeps per outcome and term the raw HF epsilon. Raises
    ``too-few-levels``, ``too-few-subjects``, ``duplicate-cell``, ``between-not-constant``,
    ``zero-variance``.
    """
    subject = spec.subject or ctx.subject
    base, exclusions = select_rows(ctx, [subject, *spec.within, *spec.between])
    levels = {c: factor_levels(base[c]) for c in spec.within}
    for column, values in levels.items():
        if len(values) < 2:
            raise analysis_error("too-few-levels", f"within factor '{column}' has {len(values)} level(s) in the "
                                 "analysed rows; at least 2 are needed", spec)
    # the full crossing of the within levels (first factor slowest), as afex's wide data has them
    cells = [tuple(c) for c in pd.MultiIndex.from_product([levels[c] for c in spec.within]).tolist()]
    _check_between_constant(base, subject, spec)
    excluded = [exclusions]
    rows, posthoc_rows, sphericity_extras, issues = [], [], {}, []
    for outcome in spec.outcome:
        wide, incomplete = wide_cells(ctx, base, subject, spec.within, cells, outcome, spec)
        excluded.append(incomplete)
        anova, extra, warn = _anova_rows(spec, base, subject, wide, levels, outcome)
        rows.extend(anova)
        sphericity_extras[outcome] = extra
        issues.extend(warn)
        if spec.posthoc is not None:
            ph, warn = _posthoc_rows(spec, base, subject, wide, levels, outcome)
            posthoc_rows.extend(ph)
            issues.extend(warn)
    if spec.posthoc is not None and posthoc_rows:
        # one family: every post-hoc row of every outcome; a row without a test keeps NaN (p.adjust's NA)
        p = np.array([np.nan if r["p_value"] is None else r["p_value"] for r in posthoc_rows])
        adjusted = p if spec.posthoc.adjust == "none" else adjust_p(p, spec.posthoc.adjust)
        for row, value in zip(posthoc_rows, adjusted):
            row["p_adjusted"] = plain(float(value))
    columns = ["outcome", "term", "contrast", *(spec.posthoc.by if spec.posthoc else []), "method", "n",
               "n_subjects", "statistic_type", "statistic", "df", "df_denominator", "p_value", "correction",
               "df_corrected", "df_denominator_corrected", "p_value_corrected", "epsilon_gg", "epsilon_hf",
               "mauchly_w", "mauchly_p", "sum_sq", "sum_sq_error", *spec.effect_size]
    if spec.posthoc is not None:
        columns += ["estimate", "std_error", "conf_low", "conf_high", "conf_level", "p_adjusted", "adjust_method",
                    "effect_size", "effect_size_type"]
    tidy = pd.DataFrame(rows + posthoc_rows, columns=columns)
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=pd.concat(excluded, ignore_index=True),
                          issues=issues, notes=_notes(spec),
                          extras=RmAnovaExtras(labels={o: ctx.label(o) for o in spec.outcome},
                                               outcomes=list(spec.outcome), by=[*spec.within, *spec.between],
                                               posthoc=[dict(r) for r in posthoc_rows],
                                               adjust=spec.posthoc.adjust if spec.posthoc else None,
                                               sphericity=sphericity_extras))


# --- shared with paired_ttest: the within-cell helpers (factor_levels, cell_text, wide_cells) are in _within.py


# --- helpers ------------------------------------------------------------------------------------

def _check_between_constant(frame: pd.DataFrame, subject: str, spec: Spec) -> None:
    """Fail with ``between-not-constant`` if a between factor changes within a participant.

    afex would take the first value silently (its wide data has one row per participant);
    here the plan must say which value is meant.
    """
    for column in spec.between:
        varying = frame.groupby(subject, observed=True)[column].nunique()
        if (varying > 1).any():
            who = sorted(varying.index[varying > 1], key=str)[0]
            raise analysis_error("between-not-constant", f"between factor '{column}' takes several values for "
                                 f"participant {who}; a between-subject factor must be constant within a participant",
                                 spec)


def _anova_rows(spec: Spec, frame: pd.DataFrame, subject: str, wide: pd.DataFrame, levels: dict, outcome: str):
    """The ANOVA rows of one outcome, the per-term sphericity extras and warnings.

    ``wide`` is participants × cells (complete participants). Between factors are coded per
    participant with their observed levels among those participants. The design needs more
    participants than between cells (else the error SSP matrix has no df). A term whose error
    SS is rounding noise relative to the total SS fails rather than report a meaningless F.
    """
    n_subjects, k = wide.shape
    within_sizes = [len(levels[c]) for c in spec.within]
    codes, between_sizes = None, []
    if spec.between:
        per_subject = frame.groupby(subject, observed=True)[spec.between].first().loc[wide.index]
        columns = []
        for column in spec.between:
            observed = factor_levels(per_subject[column])
            if len(observed) < 2:
                raise analysis_error("too-few-levels", f"between factor '{column}' has {len(observed)} group(s) "
                                     "among the complete participants; at least 2 are needed", spec)
            columns.append([observed.index(v) for v in per_subject[column]])
            between_sizes.append(len(observed))
        codes = np.array(columns, dtype=int).T
    # parameters of the between part of the multivariate model (one mean per between cell)
    n_params = int(np.prod([1] + [s for s in between_sizes]))
    if n_subjects <= n_params:
        raise analysis_error("too-few-subjects", f"{n_subjects} complete participant(s) for {outcome}; the design "
                             f"needs more than {n_params}", spec)
    terms = rm_anova(wide.to_numpy(), within_sizes, codes, between_sizes)
    values = wide.to_numpy(dtype=float)
    # total SS of all participant × cell values: the scale against which an error SS counts as zero
    total = float(((values - values.mean()) ** 2).sum())
    rows, extras, issues = [], {}, []
    for term in terms:
        if term.is_intercept:
            continue
        name = ":".join([spec.between[i] for i in term.between] + [spec.within[i] for i in term.within])
        if not term.sum_sq_error > 1e-10 * total:  # rounding noise would give a huge F and a tiny p
            raise analysis_error("zero-variance", f"{outcome}, {name}: the error variation is essentially zero (every "
                         "participant changes by the same amount), so F is not defined", spec)
        # numerator df of the term's within part: sphericity only matters with 2 or more
        within_df = int(np.prod([within_sizes[i] - 1 for i in term.within])) if term.within else 0
        correction, epsilon = _correction(spec.sphericity, term, within_df)
        if within_df >= 2 and np.isnan(term.epsilon_gg):
            issues.append(Issue("sphericity-undefined", f"{outcome}, {name}: the error matrix is singular "
                                f"({n_subjects} participants); epsilon and Mauchly's test are not available",
                                Location(path=f"analyses[{spec.id}]"), severity="warning"))
        # a corrected p needs epsilon; with a singular error matrix it is undefined and left empty
        p_corrected = term.p_value if correction == "none" else (
            corrected_p_value(term.statistic, term.df, term.df_error, epsilon) if not np.isnan(epsilon) else None)
        eps = epsilon if correction != "none" else 1.0
        row = {"outcome": outcome, "term": name, "contrast": None, "method": ANOVA_METHOD, "n": n_subjects * k,
               "n_subjects": n_subjects, "statistic_type": "F", "statistic": term.statistic, "df": term.df,
               "df_denominator": term.df_error, "p_value": term.p_value, "correction": correction,
               "df_corrected": plain(term.df * eps), "df_denominator_corrected": plain(term.df_error * eps),
               "p_value_corrected": plain(p_corrected), "epsilon_gg": plain(term.epsilon_gg),
               "epsilon_hf": plain(term.epsilon_hf), "mauchly_w": plain(term.mauchly_w),
               "mauchly_p": plain(term.mauchly_p), "sum_sq": term.sum_sq, "sum_sq_error": term.sum_sq_error,
               "eta_sq_partial": term.eta_sq_partial, "eta_sq_generalized": term.eta_sq_generalized}
        rows.append({key: plain(value) for key, value in row.items()})
        if within_df >= 2:
            extras[name] = {"epsilon_gg": term.epsilon_gg, "epsilon_hf_raw": term.epsilon_hf_raw,
                            "epsilon_hf": term.epsilon_hf, "mauchly_w": term.mauchly_w, "mauchly_p": term.mauchly_p}
    return rows, extras, issues


def _correction(policy: str, term, within_df: int) -> tuple[str, float]:
    """(correction applied, epsilon) of one term; 'none' where sphericity does not apply (within df < 2).

    ``auto`` applies Greenhouse-Geisser only where Mauchly's p < :data:`SPHERICITY_ALPHA`
    (an undefined Mauchly test, NaN, means no correction).

    >>> from types import SimpleNamespace
    >>> term = SimpleNamespace(mauchly_p=0.01, epsilon_gg=0.7, epsilon_hf=0.8)
    >>> _correction("auto", term, 2), _correction("huynh_feldt", term, 2), _correction("auto", term, 1)
    (('greenhouse_geisser', 0.7), ('huynh_feldt', 0.8), ('none', 1.0))
    """
    if within_df < 2 or policy == "none":
        return "none", 1.0
    if policy == "auto":
        if np.isnan(term.mauchly_p) or term.mauchly_p >= SPHERICITY_ALPHA:
            return "none", 1.0
        return "greenhouse_geisser", term.epsilon_gg
    if policy == "greenhouse_geisser":
        return "greenhouse_geisser", term.epsilon_gg
    return "huynh_feldt", term.epsilon_hf


def _posthoc_rows(spec: Spec, frame: pd.DataFrame, subject: str, wide: pd.DataFrame, levels: dict, outcome: str):
    """Unadjusted post-hoc paired t rows of one outcome (``run`` adjusts over all of them), and warnings.

    With two within factors, each participant's values are first averaged over the levels of
    the other factor (equal weights, as emmeans' marginal means of a balanced within design).
    ``n`` counts the table rows entering a comparison: 2 levels × other-factor levels × pairs.
    """
    post = spec.posthoc
    assert post is not None   # called only when posthoc: is given
    factor = post.factor or spec.within[0]
    factor_levels_ = levels[factor]
    other = [c for c in spec.within if c != factor]
    n_other = int(np.prod([len(levels[c]) for c in other])) if other else 1
    # participants × levels of the compared factor (averaged over the other within factor, if any)
    means = wide.T.groupby(level=factor, sort=False).mean().T if len(spec.within) > 1 else wide
    means = means[factor_levels_]
    if post.versus == "all":
        pairs = list(combinations(factor_levels_, 2))
    else:
        reference = _match_level(post.versus, factor_levels_)
        if reference is None:
            raise analysis_error("unknown-level", f"posthoc.versus '{post.versus}' is not a level of '{factor}' in the "
                         f"analysed rows ({', '.join(str(v) for v in factor_levels_)})", spec)
        pairs = [(level, reference) for level in factor_levels_ if level != reference]
    if post.by:
        per_subject = frame.groupby(subject, observed=True)[post.by].first().loc[means.index]
        groups = [tuple(g) for g in per_subject.drop_duplicates().itertuples(index=False, name=None)]
        # by groups in level order, the order of the post-hoc rows
        groups.sort(key=lambda g: tuple(factor_levels(per_subject[c]).index(v) for c, v in zip(post.by, g)))
    else:
        per_subject, groups = None, [()]
    rows, issues = [], []
    for group in groups:
        if group:
            mask = np.all([per_subject[c].to_numpy() == v for c, v in zip(post.by, group)], axis=0)
            sub = means[mask]
        else:
            sub = means
        for a, b in pairs:
            contrast = f"{plain(a)} - {plain(b)}"
            row = {"outcome": outcome, "term": factor, "contrast": contrast,
                   **{c: plain(v) for c, v in zip(post.by, group)}, "method": POSTHOC_METHOD,
                   "n": 2 * n_other * len(sub), "n_subjects": len(sub), "statistic_type": "t",
                   "conf_level": post.conf_level, "adjust_method": post.adjust, "effect_size_type": post.effect_size}
            try:
                t = paired_t_test(sub[a].to_numpy(), sub[b].to_numpy(), post.conf_level)
            except ValueError as exc:
                issues.append(Issue("posthoc-not-computed", f"{outcome}, {contrast}"
                                    + (f" ({cell_text(post.by, group)})" if group else "") + f": {exc}",
                                    Location(path=f"analyses[{spec.id}].posthoc"), severity="warning"))
                row.update({"statistic": None, "df": None, "p_value": None, "estimate": None})
            else:
                row.update({"statistic": t.statistic, "df": t.df, "p_value": t.p_value, "estimate": t.estimate,
                            "std_error": t.std_error, "conf_low": t.conf_low, "conf_high": t.conf_high,
                            "effect_size": t.effect_size})
            rows.append(row)
    return rows, issues


def _match_level(text: str, levels: list):
    """The observed level whose text is ``text`` (``posthoc.versus`` is text in the plan), or None.

    >>> _match_level("2", [1, 2, 3]), _match_level("week9", ["baseline", "week2"])
    (2, None)
    """
    for level in levels:
        if str(plain(level)) == str(text):
            return level
    return None


def _notes(spec: Spec) -> list[str]:
    """The report's notes: the ANOVA type, the sphericity policy, effect sizes, missing data, post hoc."""
    notes = [
        "ANOVA: univariate repeated-measures ANOVA, type III sums of squares with sum-to-zero contrasts, "
        "as afex::aov_ez (car::Anova)",
        {"greenhouse_geisser": "sphericity: Greenhouse-Geisser correction of within terms with more than 1 df",
         "huynh_feldt": "sphericity: Huynh-Feldt correction (epsilon capped at 1, as afex) of within terms with "
                        "more than 1 df",
         "none": "sphericity: no correction (p_value_corrected = p_value)",
         "auto": "sphericity: Greenhouse-Geisser correction where Mauchly's test gives p < 0.05, else none"}[
            spec.sphericity],
        "effect sizes: eta_sq_partial = SS / (SS + SS_error); eta_sq_generalized = SS / (SS + all error SS), "
        "all factors manipulated (afex pes / ges)",
        "incomplete participants (any within cell missing) are excluded entirely (complete cases)",
    ]
    if spec.posthoc is not None:
        notes.append(f"post hoc: paired t tests (R t.test paired = TRUE) on participant means, Cohen's d_z = mean "
                     f"difference / SD of differences; p_adjusted: {spec.posthoc.adjust} over all post-hoc rows")
    return notes
