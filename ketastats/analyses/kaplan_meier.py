"""Kaplan-Meier survival curves by group: median with CI, survival at landmarks, numbers at risk.

Matches R ``survival::survfit(Surv(time, event) ~ group, conf.type = ...)`` (survival 3.5-3):
the median and its CI as ``print(survfit)`` (``summary(fit)$table``), survival at landmark
times as ``summary(fit, times = ...)``. Numerical kernel: :mod:`ketastats.stats.survival`
(:func:`~ketastats.stats.survival.km_curve`, ``km_median``, ``km_at``); references in
``tests/reference/survival/``.

Formulas
--------
:math:`\\hat S(t) = \\prod_{t_j \\le t}(1 - d_j/n_j)`; Greenwood
:math:`\\mathrm{se}\\{\\hat S(t)\\} = \\hat S(t)\\sqrt{\\sum_{t_j \\le t} d_j/\\{n_j(n_j-d_j)\\}}`;
pointwise CI ``conf_type: log`` (R's default; :math:`\\hat S e^{\\pm z\\,\\mathrm{se}(\\log \\hat S)}`,
upper bound capped at 1), ``log_log`` (SAS's default) or ``plain``. Median: the first time
the curve is at or below 0.5; when it sits exactly at 0.5 over an interval, the midpoint of
that interval (R's rule); its CI applies the same rule to the confidence curves. Tied
times: events happen before censorings at the same time (R's convention).

Missing data
------------
Rows with a missing time, event or ``by`` value are excluded (``missing-value``); a negative
time or an event value other than 0 / 1 / true / false is excluded as ``invalid-value``.
Every other row is in exactly one group.

Tidy columns
------------
outcome (the time column), one column per ``by`` variable, effect (``median`` or
``survival``), time (the landmark; empty on the median row), n (subjects in the group),
n_events and n_censored (in the group for the median row; cumulative up to the landmark
for survival rows), n_at_risk (subjects with time >= landmark), estimate (median time or
survival probability), std_error (Greenwood standard error of the survival probability),
conf_low, conf_high, conf_level, ci_method (log, log_log or plain).

Edge cases give warnings, never a crash: a group without events (the curve stays at 1 and
the median is not reached), a group of one subject, a median or CI bound that is not
reached (empty), and a landmark after a group's last follow-up time (R drops it; here the
row is kept with empty estimates and a warning).

Known differences from R: R's ``timefix`` merges times closer than about 1e-8 relative;
times are compared exactly here.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcd"), "time": [1.0, 2, 3, 4],
...                       "event": pd.array([True] * 4, dtype="boolean")}, index=[1, 2, 3, 4])
>>> spec = Spec(id="km", type="kaplan_meier", table="t")
>>> float(run(spec, AnalysisInput("km", "t", frame, "pid", ["pid"])).tidy.loc[0, "estimate"])
2.5
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ketastats.analyses._survival import SurvivalExtras, SurvivalSpec, group_label, nan_to_none, survival_rows, warn
from ketastats.analyses.base import AnalysisInput, group_frame, group_levels, plain
from ketastats.language.fields import ConfLevel, Names, column_field
from ketastats.results import AnalysisResult

ConfType = Literal["log", "log_log", "plain"]
# plan spelling → R's conf.type spelling (for the notes, so a reader can rerun survfit)
CONF_TYPE_R = {"log": "log", "log_log": "log-log", "plain": "plain"}


class Spec(SurvivalSpec):
    """Kaplan-Meier curves by group: median (95 % CI), survival at landmarks, numbers at risk."""

    type: Literal["kaplan_meier"]
    by: Names = column_field("grouping columns, e.g. [arm]", default_factory=list)
    landmarks: list[float] = Field(default_factory=list, description="times at which survival is reported, "
                                                                     "e.g. [28, 56, 84]")
    conf_type: ConfType = Field("log", description="CI transform: log (R default), log_log (SAS default), plain")
    conf_level: ConfLevel = 0.95


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Kaplan-Meier curve of each ``by`` group: a median row and one survival row per landmark.

    R: ``fit <- survfit(Surv(time, event) ~ by, conf.type = conf_type, conf.int = conf_level)``;
    the median row is ``summary(fit)$table[, c("median", "0.95LCL", "0.95UCL")]``, the landmark
    rows ``summary(fit, times = landmarks)`` (n.risk, n.event, n.censor as cumulative counts,
    surv, std.err, lower, upper; a landmark after the last follow-up, which R drops, is kept
    with empty numbers). Groups are the observed ``by`` combinations
    in level order; without ``by`` one group, ``all``.

    Tidy columns: outcome, one column per ``by`` variable, effect, time, n, n_events,
    n_censored, n_at_risk, estimate, std_error, conf_low, conf_high, conf_level, ci_method (counts
    are nullable integers). ``glance`` holds n and n_events over all groups; ``extras["curves"]``
    the whole step function of each group (for the figure). Warnings: ``no-events``,
    ``median-not-reached``, ``single-subject-group``, ``landmark-beyond-follow-up``.
    """
    from ketastats.stats.survival import km_at, km_curve, km_median

    base, exclusions, time, event = survival_rows(ctx, spec, spec.by)
    rows, issues, curves = [], [], {}
    for levels in group_levels(base, spec.by):
        # the group's positions in the time / event arrays (aligned with base's rows)
        mask = np.asarray(base.index.isin(group_frame(base, spec.by, levels).index))
        t, e = time[mask], event[mask]
        label = group_label(spec.by, levels)
        keys = {c: plain(v) for c, v in zip(spec.by, levels)}
        # the whole step function (times, n at risk, events, survival, bounds), as R's survfit object
        curve = km_curve(t, e, spec.conf_level, spec.conf_type)
        curves[label] = {k: v.tolist() for k, v in curve.items()}
        median, low, high = km_median(curve)
        n, n_events = int(len(t)), int(e.sum())
        if n_events == 0:
            issues.append(warn(ctx, "no-events", f"{label}: no events among {n} subject(s); survival stays 1 and "
                               "the median is not reached"))
        elif math.isnan(median):
            issues.append(warn(ctx, "median-not-reached", f"{label}: survival stays above 0.5; the median is "
                               "not reached"))
        if n == 1:
            issues.append(warn(ctx, "single-subject-group", f"{label}: a single subject; no confidence "
                               "interval after its event"))
        common = {"outcome": spec.time, **keys, "n": n, "conf_level": spec.conf_level, "ci_method": spec.conf_type}
        rows.append({**common, "effect": "median", "time": None, "n_events": n_events, "n_censored": n - n_events,
                     "n_at_risk": None, "estimate": nan_to_none(median), "std_error": None,
                     "conf_low": nan_to_none(low), "conf_high": nan_to_none(high)})
        if spec.landmarks:
            at = km_at(curve, spec.landmarks, spec.conf_level, spec.conf_type)
            for i, landmark in enumerate(spec.landmarks):
                # R's summary(times =) drops such a landmark; the row is kept, empty, so that every
                # group has the same rows
                if at["beyond"][i]:
                    issues.append(warn(ctx, "landmark-beyond-follow-up",
                                       f"{label}: landmark {landmark:g} is after the last follow-up time "
                                       f"({t.max():g}); survival there is not estimated"))
                rows.append({**common, "effect": "survival", "time": float(landmark),
                             "n_events": None if at["beyond"][i] else int(at["n_event"][i]),
                             "n_censored": None if at["beyond"][i] else int(at["n_censor"][i]),
                             "n_at_risk": None if at["beyond"][i] else int(at["n_risk"][i]),
                             "estimate": nan_to_none(at["surv"][i]),
                             "std_error": nan_to_none(at["se_surv"][i]),
                             "conf_low": nan_to_none(at["lower"][i]), "conf_high": nan_to_none(at["upper"][i])})
    columns = ["outcome", *spec.by, "effect", "time", "n", "n_events", "n_censored", "n_at_risk", "estimate",
               "std_error", "conf_low", "conf_high", "conf_level", "ci_method"]
    notes = [f"Kaplan-Meier as R survfit(conf.type = '{CONF_TYPE_R[spec.conf_type]}'); std_error: Greenwood SE of "
             "the survival probability; median and its CI as print(survfit) (midpoint rule when the curve sits at "
             "0.5); n_events / n_censored on survival rows are cumulative up to the landmark; n_at_risk counts "
             "time >= landmark"]
    if spec.conf_type == "log":
        notes.append("conf_type log is R's default (lifelines and SAS default to log-log)")
    # counts as nullable integers: empty on rows where they do not apply (e.g. n_at_risk on the median row)
    counts = ["n", "n_events", "n_censored", "n_at_risk"]
    tidy = pd.DataFrame(rows, columns=columns).astype({c: "Int64" for c in counts})
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=exclusions,
                          issues=issues, notes=notes,
                          glance={"n": int(len(time)), "n_events": int(event.sum())},
                          extras=SurvivalExtras(curves=curves, labels={spec.time: ctx.label(spec.time)},
                                                outcomes=[spec.time], by=list(spec.by), time=spec.time,
                                                landmarks=list(spec.landmarks)))
