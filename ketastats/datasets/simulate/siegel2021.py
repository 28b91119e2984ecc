"""Synthetic replica of Siegel et al. (2021), 96-h ketamine infusion in TRD.

Siegel JS, et al. "Prolonged ketamine infusion modulates limbic connectivity
and induces sustained remission of treatment-resistant depression."
Psychopharmacology (2021).  The participant-level data of that study are not
public.  Everything produced here is **synthetic**: no row corresponds to a
real person.  The simulator builds a data set whose *published summaries* are
reproduced (exactly where the paper gives counts or rounded moments,
approximately where it gives test statistics), so that analysis code can be
checked against the paper.

Method (constructive, not pure random sampling)
-----------------------------------------------
All randomness comes from one ``numpy.random.default_rng(seed)`` stream, used
in a fixed order, so a given seed always gives the same tables.

1. **Integer moments.**  Baseline MADRS (n = 23, mean 28.83, SD 3.94), age
   (mean 40.0, SD 14.05) and the final infusion rate of the 22 completers
   (mean 0.54, SD 0.13 mg/kg/h, 17 of them at the 0.6 target) are drawn,
   then nudged one unit at a time (within per-value bounds) until the mean
   and SD round to the published values (:func:`_adjust_integer_moments`).
2. **Clinical status by design.**  A latent "responsiveness" (a participant
   trait plus visit noise) ranks the 21 followed participants at each visit;
   the top ranks are made remitters (MADRS < 10), the next ones partial
   responders (MADRS <= baseline / 2, i.e. >= 50 % reduction) and the rest
   non-responders, with the published counts.  MADRS scores are then drawn
   inside the range that each status allows and nudged until the visit mean
   and SD round to the published integers.  CGI-I is derived from the
   percent change by rank, so it is monotone in MADRS improvement and the
   published number of "much / very much improved" is exact.  Draws that
   miss a design check (8 of the 11 week-2 responders still responding at
   week 8, no tie at the CGI-I cut, paired Cohen's d within 0.15 of the
   paper) are rejected and redrawn.
3. **Connectivity by calibration.**  Fisher-z FC values are participant
   intercepts plus scan noise.  The post-infusion change is then shifted by
   a common amount and by an extra amount for week-2 responders.  Such
   shifts lie in the column space of the fixed effects of the model
   ``fc ~ time + time:responder_2wk`` (random intercept, REML), so they
   leave the residuals, the variance components and the standard errors
   unchanged; the shifts are therefore solved in one step so that the model
   t values equal the published ones.  Controls are placed so that patients
   after ketamine do not differ from them; the pre-infusion hyperconnectivity
   then follows from the change and is checked.
4. **Exact correlations.**  Right hippocampus / ICV (r = 0.5176 with the
   week-2 MADRS change over the 19 participants with usable volumes, which
   rounds to the paper's r = 0.52, p = 0.023) and BPRS positive (r = -0.5425
   with the day-1 MADRS change) are built from the centred predictor plus a
   noise vector that is orthogonalised against it, giving the target
   Pearson r by construction.  The six limbic volumes are missing for the
   four participants without a usable pre / post scan pair in the FC model.

Values are rounded on output (FC to 4 decimals, volumes to 0.1 mm3, dose and
BPRS to 2 decimals), so statistics computed from the CSV files can differ
from the calibration targets in the last digits.

Examples
--------
>>> from ketastats.datasets.simulate.siegel2021 import simulate
>>> tables = simulate()
>>> sorted(tables)
['clinical', 'controls', 'imaging', 'participants', 'pharmacology', 'volumes']
>>> clinical = tables["clinical"]
>>> float(round(clinical.loc[clinical.visit == "baseline", "madrs"].mean(), 2))
28.83
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ._redraw import DesignRejected, redraw

SEED: int = 20210423
"""Seed of the shipped synthetic data set."""

VISITS: tuple[str, ...] = ("baseline", "day1", "week2", "week4", "week6", "week8")
POST_VISITS: tuple[str, ...] = VISITS[1:]
SCANS: tuple[str, ...] = ("pre1", "pre2", "post")
CONTROL_SCANS: tuple[str, ...] = ("scan1", "scan2")
FC_COLUMNS: tuple[str, ...] = ("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")
VOLUME_COLUMNS: tuple[str, ...] = (
    "hippocampus_l", "hippocampus_r", "amygdala_l", "amygdala_r", "nacc_l", "nacc_r",
)

N_PARTICIPANTS = 23
N_CONTROLS = 27
N_CONTROLS_TWO_SCANS = 7
N_MALE = 13
N_WITHOUT_PRE2 = 23 - 18
N_FOLLOWED_WITHOUT_POST = 2
N_BELOW_TARGET_DOSE = 5
MAX_ATTEMPTS = 5000


@dataclass(frozen=True)
class VisitTarget:
    """Design of one post-infusion visit (counts over all rows of that visit)."""

    n_responders: int
    n_remitters: int
    n_cgi_much_improved: int
    mean: int
    sd: int
    cohens_d: float | None
    latent_noise: float


# day1 / week2 / week8: Siegel et al. 2021, Results.  week4 / week6 are not
# reported; their values are design choices that interpolate (mean about 14).
VISIT_TARGETS: dict[str, VisitTarget] = {
    "day1": VisitTarget(16, 13, 16, 9, 8, 1.7, 0.45),
    "week2": VisitTarget(11, 8, 15, 13, 8, 1.6, 0.45),
    "week4": VisitTarget(11, 7, 14, 14, 8, None, 0.45),
    "week6": VisitTarget(11, 7, 14, 14, 8, None, 0.45),
    "week8": VisitTarget(11, 7, 13, 15, 8, 1.5, 0.45),
}
PERSISTENT_RESPONDERS = 8  # of the 11 week-2 responders, responders at week 8
COHENS_D_TOLERANCE = 0.15
PCT_PER_LATENT = 0.6  # slope of the (saturating) percent change per latent SD
VISIT_MOMENT_SHRINK = 0.5  # keep visit means / SDs within +-0.25 of the integer
LATENT_BASELINE_WEIGHT = 0.8  # higher baseline -> better status (negative pre/post r)


@dataclass(frozen=True)
class FcSpec:
    """Generating parameters of one functional-connectivity measure."""

    pre_mean: float
    between_sd: float
    scan_sd: float
    change_sd: float
    t_time: float
    t_interaction: float


# t targets with time coded pre=0/post=1 and responder_2wk coded 0/1.  The
# paper reports T = 2.0 / 2.3 / 0.61 for the interaction as a magnitude;
# responders decrease more, so the coefficient is negative here.  The
# interaction targets are the middle of the t range (df 37) in which both the
# printed T and the printed p round as published (calibration, issue 16):
# DMN T = 2.0 with p = 0.051 needs |t| in [2.0124, 2.0216), sgACC-DMN T = 2.3
# with p = 0.028 needs [2.2795, 2.2951), limbic T = 0.61 with p = 0.54 needs
# [0.6109, 0.615).  (T = 2.0 / 2.3 / 0.61 exactly give p = 0.053 / 0.027 /
# 0.546.)  The time targets already give p = 0.003 / 0.001 / 0.003.
FC_SPECS: dict[str, FcSpec] = {
    "fc_dmn": FcSpec(0.40, 0.070, 0.030, 0.015, -3.2, -2.017),
    "fc_sgacc_dmn": FcSpec(0.16, 0.060, 0.035, 0.015, -3.5, -2.2873),
    "fc_limbic": FcSpec(0.22, 0.045, 0.030, 0.015, -3.2, -0.613),
    "fc_visual": FcSpec(0.46, 0.065, 0.030, 0.015, -0.3, 0.3),
}
CONTROL_T_POST_RANGE = 0.8  # |t| of controls vs post-ketamine patients


@dataclass
class ClinicalDesign:
    """Participant roles and the per-visit MADRS / CGI-I matrices.

    ``madrs`` and ``cgi`` have one row per participant and one column per
    visit in :data:`VISITS`; ``-1`` marks a visit that did not take place
    (or CGI-I at baseline).
    """

    baseline: np.ndarray
    noncompleter: int
    lost: int
    followed: np.ndarray
    madrs: np.ndarray
    cgi: np.ndarray

    @property
    def completers(self) -> np.ndarray:
        return np.sort(np.append(self.followed, self.lost))

    def change(self, visit: str, idx: np.ndarray) -> np.ndarray:
        """MADRS change from baseline (visit - baseline) for ``idx``."""
        return (self.madrs[idx, VISITS.index(visit)] - self.baseline[idx]).astype(float)

    def responder(self, visit: str, idx: np.ndarray) -> np.ndarray:
        """Response (>= 50 % MADRS reduction) at ``visit`` for ``idx``."""
        return 2 * self.madrs[idx, VISITS.index(visit)] <= self.baseline[idx]


# --------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------


def simulate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Generate the synthetic Siegel et al. (2021) data set.

    Parameters
    ----------
    seed : int, optional
        Seed of ``numpy.random.default_rng``.  The shipped CSV files were made
        with :data:`SEED`; other seeds give another synthetic replica that
        hits the same design targets.

    Returns
    -------
    dict of str to pandas.DataFrame
        Tables ``participants``, ``clinical``, ``imaging``, ``volumes`` and
        ``controls`` (see ``data_dictionary/siegel2021``), rows sorted by
        their key columns.

    Examples
    --------
    >>> tables = simulate()
    >>> tables["participants"].shape
    (23, 6)
    >>> tables["imaging"].groupby("scan", observed=True).size().to_dict()
    {'pre1': 23, 'pre2': 18, 'post': 20}
    """
    rng = np.random.default_rng(seed)
    ids = [f"P{i + 1:02d}" for i in range(N_PARTICIPANTS)]
    design = redraw(_draw_clinical_design, rng, attempts=MAX_ATTEMPTS)
    participants = _participants_table(rng, design, ids)
    imaging, patient_fc = _imaging_table(rng, design, ids)
    controls = _controls_table(rng, patient_fc)
    with_post = imaging.participant_id[imaging.scan == "post"]
    usable = np.isin(np.arange(N_PARTICIPANTS), design.followed) & np.isin(ids, with_post)
    volumes = _volumes_table(rng, design, ids, usable)
    # A separate stream (seed + 1), so the five tables above are unchanged by this addition.
    pharmacology = redraw(_pharmacology_table, np.random.default_rng(seed + 1), design, ids,
                          participants["max_dose_mg_kg_h"].to_numpy(), attempts=MAX_ATTEMPTS)
    return {
        "participants": participants,
        "clinical": _clinical_table(design, ids),
        "imaging": imaging,
        "volumes": volumes,
        "controls": controls,
        "pharmacology": pharmacology,
    }


# --------------------------------------------------------------------------
# generic helpers
# --------------------------------------------------------------------------


def _rounding_interval(value: str, shrink: float = 1.0) -> tuple[Fraction, Fraction]:
    """Half-open interval of numbers that round to the decimal ``value``.

    ``shrink`` < 1 narrows the interval around its centre (e.g. 0.5 keeps a
    mean published as "9" within 8.75-9.25 instead of merely rounding to 9).
    """
    decimals = len(value.split(".")[1]) if "." in value else 0
    half = Fraction(1, 2 * 10**decimals) * Fraction(shrink).limit_denominator(100)
    centre = Fraction(value)
    return centre - half, centre + half


def _moments_ok(x: np.ndarray, mean_iv, sd_iv) -> tuple[bool, bool]:
    """Exact (rational) check that mean and SD of integers lie in intervals."""
    n = len(x)
    total = int(x.sum())
    ss = Fraction(n * int((x.astype(np.int64) ** 2).sum()) - total**2, n * (n - 1))
    mean = Fraction(total, n)
    return (mean_iv[0] <= mean < mean_iv[1], sd_iv[0] ** 2 <= ss < sd_iv[1] ** 2)


def _adjust_integer_moments(
    x, lo, hi, mean: str, sd: str, rng, shrink: float = 1.0, max_steps: int = 500
):
    """Nudge integers within ``[lo, hi]`` until mean and SD round as given.

    While the mean is off, a random element that may move is moved one unit
    toward the target.  Then sum-preserving moves (+1 on one element, -1 on
    another) are taken at random among those that bring the SD closer to a
    random aim point inside the target SD interval.

    Parameters
    ----------
    x, lo, hi : numpy.ndarray of int
        Start values and inclusive per-element bounds.
    mean, sd : str
        Published values as decimal strings, e.g. ``"28.83"`` or ``"9"``.
    rng : numpy.random.Generator
        Chooses the aim point and the moves.
    shrink : float, optional
        Fraction of the rounding interval to aim for (see
        :func:`_rounding_interval`).

    Returns
    -------
    numpy.ndarray
        Adjusted copy of ``x``.

    Raises
    ------
    DesignRejected
        If no move brings the moments closer to the target.
    """
    x = np.asarray(x, dtype=np.int64).copy()
    lo, hi = np.asarray(lo), np.asarray(hi)
    mean_iv = _rounding_interval(mean, shrink)
    sd_iv = _rounding_interval(sd, shrink)
    sd_aim = rng.uniform(float(sd_iv[0]), float(sd_iv[1]))  # where SD moves head
    n = len(x)
    for _ in range(max_steps):
        mean_ok, sd_ok = _moments_ok(x, mean_iv, sd_iv)
        if mean_ok and sd_ok:
            return x
        order = rng.permutation(n)  # random tie-breaking among equal moves
        xo = x[order]
        if not mean_ok:
            step = 1 if Fraction(int(x.sum()), n) < mean_iv[0] else -1
            allowed = (lo[order] <= xo + step) & (xo + step <= hi[order])
            if not allowed.any():
                raise DesignRejected
            x[order[np.argmax(allowed)]] += step  # a random allowed element
            continue
        # sum-preserving move: +1 on i, -1 on j changes sum(x^2) by 2(xi - xj) + 2
        allowed = (xo + 1 <= hi[order])[:, None] & (xo - 1 >= lo[order])[None, :]
        np.fill_diagonal(allowed, False)
        delta = n * (2 * (xo[:, None] - xo[None, :]) + 2)
        improves = allowed & (np.abs(_sd(x, delta) - sd_aim) < abs(_sd(x, 0) - sd_aim) - 1e-12)
        if not improves.any():
            raise DesignRejected
        i, j = np.unravel_index(np.argmax(improves), improves.shape)  # a random improving move
        x[order[i]] += 1
        x[order[j]] -= 1
    raise DesignRejected


def _sd(x: np.ndarray, delta_nss, step: int = 0):
    """SD of ``x`` after ``n * sum(x^2)`` changes by ``delta_nss`` and the sum by ``step``."""
    n = len(x)
    total = int(x.sum()) + step
    nss = n * int((x**2).sum()) - total**2 + np.asarray(delta_nss)
    return np.sqrt(np.maximum(nss, 0) / (n * (n - 1)))


def _with_correlation(x: np.ndarray, r: float, noise: np.ndarray) -> np.ndarray:
    """Standardised vector (mean 0, SD 1) whose Pearson r with ``x`` is ``r``."""
    xc = x - x.mean()
    xc = xc / np.linalg.norm(xc)
    e = noise - noise.mean()
    e = e - (e @ xc) * xc
    e = e / np.linalg.norm(e)
    y = r * xc + math.sqrt(1.0 - r * r) * e
    return y * math.sqrt(len(x) - 1)


# --------------------------------------------------------------------------
# clinical design
# --------------------------------------------------------------------------


def _draw_clinical_design(rng: np.random.Generator) -> ClinicalDesign:
    """Draw roles, baseline, per-visit status, MADRS and CGI-I (one attempt)."""
    n = N_PARTICIPANTS
    start = np.clip(np.rint(rng.normal(29.0, 4.0, n)), 22, 40).astype(np.int64)
    baseline = _adjust_integer_moments(
        start, np.full(n, 22), np.full(n, 40), "28.83", "3.94", rng
    )
    noncompleter = int(rng.integers(n))
    zb = (baseline - baseline.mean()) / baseline.std()
    trait = LATENT_BASELINE_WEIGHT * zb + rng.standard_normal(n)
    completers = np.array([i for i in range(n) if i != noncompleter])
    lost = int(completers[np.argmin(trait[completers])])
    followed = np.array([i for i in completers if i != lost])

    madrs = np.full((n, len(VISITS)), -1, dtype=np.int64)
    cgi = np.full((n, len(VISITS)), -1, dtype=np.int64)
    madrs[:, 0] = baseline
    design = ClinicalDesign(baseline, noncompleter, lost, followed, madrs, cgi)
    for visit in POST_VISITS:
        target = VISIT_TARGETS[visit]
        latent = trait[followed] + target.latent_noise * rng.standard_normal(len(followed))
        status = _assign_status(followed, latent, target)
        _draw_visit_scores(rng, design, visit, status, latent, target)
        _assign_cgi(design, visit, target)
    _check_design(design)
    return design


def _assign_status(followed, latent, target: VisitTarget) -> dict[int, str]:
    """Rank followed participants by latent responsiveness into statuses."""
    n_resp, n_remit = target.n_responders, target.n_remitters
    ranked = followed[np.argsort(-latent, kind="stable")]
    status = {}
    for rank, idx in enumerate(ranked):
        if rank < n_remit:
            status[int(idx)] = "remitter"
        elif rank < n_resp:
            status[int(idx)] = "responder"
        else:
            status[int(idx)] = "nonresponder"
    return status


def _status_bounds(status: str, baseline: int, visit: str) -> tuple[int, int]:
    """Inclusive MADRS range allowed by a response status."""
    half = baseline // 2  # MADRS <= half  <=>  change <= -50 %
    if status == "remitter":
        return 0, 9
    if status == "responder":
        return 10, half
    if status == "lost":
        return 31, 44
    upper = 30 if visit == "day1" else min(baseline + 6, 44)
    return half + 1, upper


def _draw_visit_scores(rng, design: ClinicalDesign, visit, status, latent, target) -> None:
    """MADRS inside status ranges, then matched to the published mean / SD.

    The start value is ``baseline * (1 + pct)``, where the percent change
    falls smoothly (``-0.5 - 0.55 tanh(0.5 (latent - cut))``) with the latent
    responsiveness, centred on the responder / non-responder cut of this
    visit, plus a little noise, and is clipped to the range the
    participant's status allows.  Scores therefore
    track the latent trait, which keeps trajectories smooth across visits.
    """
    followed = design.followed
    labels = [status[int(i)] for i in followed]
    ordered = np.sort(latent)[::-1]
    cut = 0.5 * (ordered[target.n_responders - 1] + ordered[target.n_responders])
    pct = -0.5 - 0.55 * np.tanh(PCT_PER_LATENT * (latent - cut))
    pct = pct + 0.05 * rng.standard_normal(len(followed))
    idx, b = followed, design.baseline[followed]
    if visit == "day1":
        idx = np.append(idx, design.lost)
        labels.append("lost")
        b = design.baseline[idx]
        pct = np.append(pct, 0.15 + 0.1 * rng.standard_normal())
    bounds = np.array([_status_bounds(s, bi, visit) for s, bi in zip(labels, b)])
    raw = np.floor(b * (1 + pct) + 0.5).astype(np.int64)
    start = np.clip(raw, bounds[:, 0], bounds[:, 1])
    scores = _adjust_integer_moments(
        start, bounds[:, 0], bounds[:, 1], str(target.mean), str(target.sd), rng,
        shrink=VISIT_MOMENT_SHRINK,
    )
    design.madrs[idx, VISITS.index(visit)] = scores


def _assign_cgi(design: ClinicalDesign, visit: str, target: VisitTarget) -> None:
    """CGI-I from MADRS percent change: rank-based cut, then thresholds.

    The ``n_cgi_much_improved`` participants with the largest percent
    reduction get CGI-I 1 (reduction >= 75 %) or 2; the others get 3
    (reduction >= 25 %), 4 (change below +10 %), 5 (below +30 %) or 6.
    """
    col = VISITS.index(visit)
    idx = np.flatnonzero(design.madrs[:, col] >= 0)
    pct = (design.madrs[idx, col] - design.baseline[idx]) / design.baseline[idx]
    order = np.argsort(pct, kind="stable")
    k = target.n_cgi_much_improved
    if not pct[order[k - 1]] < pct[order[k]]:
        raise DesignRejected  # a tie at the cut would make CGI-I arbitrary
    top = np.zeros(len(idx), dtype=bool)
    top[order[:k]] = True
    cgi = np.select(
        [top & (pct <= -0.75), top, pct <= -0.25, pct < 0.10, pct < 0.30],
        [1, 2, 3, 4, 5],
        default=6,
    )
    design.cgi[idx, col] = cgi


def _check_design(design: ClinicalDesign) -> None:
    """Reject draws that miss the cross-visit targets."""
    f = design.followed
    persistent = design.responder("week2", f) & design.responder("week8", f)
    if persistent.sum() != PERSISTENT_RESPONDERS:
        raise DesignRejected
    for visit, target in VISIT_TARGETS.items():
        if target.cohens_d is None:
            continue
        idx = np.flatnonzero(design.madrs[:, VISITS.index(visit)] >= 0)
        change = design.change(visit, idx)
        d = -change.mean() / change.std(ddof=1)
        if abs(d - target.cohens_d) > COHENS_D_TOLERANCE:
            raise DesignRejected


def _clinical_table(design: ClinicalDesign, ids: list[str]) -> pd.DataFrame:
    rows = []
    for i, pid in enumerate(ids):
        for col, visit in enumerate(VISITS):
            if design.madrs[i, col] < 0:
                continue
            cgi = design.cgi[i, col]
            rows.append((pid, visit, int(design.madrs[i, col]), pd.NA if cgi < 0 else int(cgi)))
    table = pd.DataFrame(rows, columns=["participant_id", "visit", "madrs", "cgi_i"])
    table["visit"] = pd.Categorical(table["visit"], categories=VISITS, ordered=True)
    table["cgi_i"] = table["cgi_i"].astype("Int64")
    return table.sort_values(["participant_id", "visit"], ignore_index=True)


# --------------------------------------------------------------------------
# participants
# --------------------------------------------------------------------------


def _participants_table(rng, design: ClinicalDesign, ids: list[str]) -> pd.DataFrame:
    n = N_PARTICIPANTS
    age = _adjust_integer_moments(
        np.clip(np.rint(rng.normal(40, 14, n)), 18, 65).astype(np.int64),
        np.full(n, 18), np.full(n, 65), "40.0", "14.05", rng,
    )
    sex = np.array(["female"] * n, dtype=object)
    sex[rng.permutation(n)[:N_MALE]] = "male"
    completed = np.ones(n, dtype=bool)
    completed[design.noncompleter] = False
    dose = np.full(n, np.nan)
    dose[design.completers] = redraw(_draw_final_dose, rng, len(design.completers), attempts=MAX_ATTEMPTS)
    bprs = np.full(n, np.nan)
    bprs[design.completers] = redraw(_draw_bprs, rng, design, attempts=MAX_ATTEMPTS)
    return pd.DataFrame(
        {
            "participant_id": ids,
            "age": age.astype(int),
            "sex": sex,
            "completed_infusion": completed,
            "max_dose_mg_kg_h": dose,
            "bprs_positive_mean": bprs,
        }
    )


def _draw_final_dose(rng, n_completers: int) -> np.ndarray:
    """Final rate (mg/kg/h): 0.60 target for most, lower for 5; mean 0.54 SD 0.13."""
    below = rng.permutation(n_completers)[:N_BELOW_TARGET_DOSE]
    hundredths = np.full(n_completers, 60, dtype=np.int64)
    hundredths[below] = np.rint(rng.uniform(15, 55, len(below))).astype(np.int64)
    lo = np.where(np.isin(np.arange(n_completers), below), 15, 60)
    hi = np.where(np.isin(np.arange(n_completers), below), 55, 60)
    hundredths = _adjust_integer_moments(hundredths, lo, hi, "54", "13", rng, shrink=0.5)
    return hundredths / 100.0


BPRS_MEAN, BPRS_SD, BPRS_FLOOR = 5.8, 1.0, 4.2
# r with the day-1 MADRS change (22 completers): the middle of the range in which r rounds to -0.54
# and its p (t test, df 20) to 0.009, the paper's numbers (|r| in (0.5399, 0.545)); with -0.54 the
# BPRS values rounded to 2 decimals gave r = -0.5396, p = 0.0096, printed 0.010.
BPRS_DAY1_CORRELATION = -0.5425
BPRS_LATER_MIN_P = 0.15


def _draw_bprs(rng, design: ClinicalDesign) -> np.ndarray:
    """BPRS positive (mean over infusion days) with r = -0.5425 vs day-1 change.

    Redrawn if a value falls below 4.2, or unless the correlation with the
    week-2 and week-8 changes is clearly non-significant (p > 0.15; the
    paper reports p > 0.1).
    """
    from scipy import stats

    completers = design.completers
    day1 = design.change("day1", completers)
    z = _with_correlation(day1, BPRS_DAY1_CORRELATION, rng.standard_normal(len(completers)))
    bprs = np.round(BPRS_MEAN + BPRS_SD * z, 2)
    if bprs.min() < BPRS_FLOOR:  # 4 items scored 1-7: the subscale cannot go below 4
        raise DesignRejected
    in_followed = np.isin(completers, design.followed)
    for visit in ("week2", "week8"):
        change = design.change(visit, design.followed)
        if stats.pearsonr(bprs[in_followed], change).pvalue <= BPRS_LATER_MIN_P:
            raise DesignRejected
    return bprs


# --------------------------------------------------------------------------
# imaging
# --------------------------------------------------------------------------


def _imaging_table(rng, design: ClinicalDesign, ids: list[str]):
    """Scans per participant and FC values calibrated to the mixed model.

    Returns the imaging table and, per measure, the patient pre (mean of
    pre scans) and post values used to place the controls.
    """
    n = N_PARTICIPANTS
    has = np.ones((n, len(SCANS)), dtype=bool)
    has[rng.permutation(n)[:N_WITHOUT_PRE2], 1] = False
    has[:, 2] = False
    with_post = rng.permutation(design.followed)[N_FOLLOWED_WITHOUT_POST:]
    has[with_post, 2] = True
    has[design.noncompleter, 2] = True  # scanned despite stopping the infusion
    responder = np.zeros(n, dtype=bool)
    responder[design.followed] = design.responder("week2", design.followed)

    table: dict[str, Any] = {"participant_id": [], "scan": [], "time": []}
    for i, pid in enumerate(ids):
        for s, scan in enumerate(SCANS):
            if has[i, s]:
                table["participant_id"].append(pid)
                table["scan"].append(scan)
                table["time"].append("post" if scan == "post" else "pre")
    patient_fc = {}
    for column, spec in FC_SPECS.items():
        values = _fc_values(rng, spec, has, responder, design)
        table[column] = values[has]
        pre = np.nanmean(np.where(has[:, :2], values[:, :2], np.nan), axis=1)
        patient_fc[column] = (pre, values[has[:, 2], 2])
    imaging = pd.DataFrame(table)
    imaging["scan"] = pd.Categorical(imaging["scan"], categories=SCANS, ordered=True)
    imaging["time"] = pd.Categorical(imaging["time"], categories=("pre", "post"), ordered=True)
    return imaging.sort_values(["participant_id", "scan"], ignore_index=True), patient_fc


def _fc_values(rng, spec: FcSpec, has, responder, design) -> np.ndarray:
    """Participant x scan FC matrix (rounded to 4 decimals) for one measure."""
    n = N_PARTICIPANTS
    intercept = spec.pre_mean + spec.between_sd * rng.standard_normal(n)
    values = intercept[:, None] + spec.scan_sd * rng.standard_normal((n, len(SCANS)))
    values[:, 2] += spec.change_sd * rng.standard_normal(n)
    in_model = design.followed
    shift_time, shift_resp = _calibrate_change(
        values[in_model], has[in_model], responder[in_model], spec
    )
    values[:, 2] += shift_time + shift_resp * responder  # non-completer: non-responder shift
    return np.round(values, 4)


def _model_data(values, has, responder):
    """Long data for the paper's model: mean of pre scans, plus post scan."""
    pre = np.nanmean(np.where(has[:, :2], values[:, :2], np.nan), axis=1)
    n = len(pre)
    post_idx = np.flatnonzero(has[:, 2])
    y = np.concatenate([pre, values[post_idx, 2]])
    groups = np.concatenate([np.arange(n), post_idx])
    time = np.concatenate([np.zeros(n), np.ones(len(post_idx))])
    resp = np.concatenate([responder, responder[post_idx]]).astype(float)
    exog = np.column_stack([np.ones_like(time), time, time * resp])
    return y, exog, groups


def _fit_time_by_response(values, has, responder):
    """REML random-intercept fit of ``fc ~ time + time:responder``.

    The variance components come from statsmodels' ``MixedLM`` (REML); the
    fixed effects and their standard errors are then the generalised least
    squares ones at those components, ``(X' V^-1 X)^-1`` as lme4's
    ``vcov()``.  (statsmodels' own ``bse_fe`` comes from the Hessian of the
    whole likelihood and was up to 0.3 % larger than lme4's, which put the
    achieved t values up to 0.006 off their targets.)

    Returns ``(params, bse)`` for ``[Intercept, time, time:responder]``.
    """
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    y, exog, groups = _model_data(values, has, responder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = MixedLM(y, exog, groups).fit(reml=True)
    tau2 = float(np.asarray(result.cov_re)[0, 0])
    cov = float(result.scale) * np.eye(len(y)) + tau2 * (groups[:, None] == groups[None, :])
    v_inv_x = np.linalg.solve(cov, exog)
    vcov = np.linalg.inv(exog.T @ v_inv_x)
    params = vcov @ (v_inv_x.T @ y)
    return params, np.sqrt(np.diag(vcov))


def _calibrate_change(values, has, responder, spec: FcSpec) -> tuple[float, float]:
    """Post-scan shifts that give the target t values.

    Adding ``a + b * responder`` to post values moves the time and
    interaction estimates by exactly ``a`` and ``b`` and leaves their
    standard errors unchanged (the shift lies in the fixed-effect column
    space), so one fit suffices.  Shifts are rounded to 1e-5 so that tiny
    optimiser differences between platforms cannot change the output.
    """
    params, bse = _fit_time_by_response(values, has, responder)
    shift_time = spec.t_time * bse[1] - params[1]
    shift_resp = spec.t_interaction * bse[2] - params[2]
    return round(float(shift_time), 5), round(float(shift_resp), 5)


# --------------------------------------------------------------------------
# controls
# --------------------------------------------------------------------------


def _controls_table(rng, patient_fc) -> pd.DataFrame:
    n = N_CONTROLS
    two = np.zeros(n, dtype=bool)
    two[rng.permutation(n)[:N_CONTROLS_TWO_SCANS]] = True
    table: dict[str, Any] = {"control_id": [], "scan": []}
    for c in range(n):
        for s, scan in enumerate(CONTROL_SCANS):
            if s == 0 or two[c]:
                table["control_id"].append(f"C{c + 1:02d}")
                table["scan"].append(scan)
    for column, spec in FC_SPECS.items():
        pre, post = patient_fc[column]
        values = redraw(_control_values, rng, spec, two, pre, post, attempts=MAX_ATTEMPTS)
        table[column] = values[np.column_stack([np.ones(n, dtype=bool), two])]
    controls = pd.DataFrame(table)
    controls["scan"] = pd.Categorical(controls["scan"], categories=CONTROL_SCANS, ordered=True)
    return controls.sort_values(["control_id", "scan"], ignore_index=True)


def _student_t(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Student two-sample t of ``a - b`` and its standard error."""
    na, nb = len(a), len(b)
    pooled = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
    se = math.sqrt(pooled * (1 / na + 1 / nb))
    return (a.mean() - b.mean()) / se, se


def _control_values(rng, spec: FcSpec, two, pre, post) -> np.ndarray:
    """Control x scan FC; controls match post-ketamine patients.

    The control mean is set so that patients after ketamine differ from
    controls by a small random t (|t| < 0.8).  Rejected unless patients
    before ketamine are hyperconnected (p < 0.05) in the hypothesised
    systems and not different (p > 0.2) in the visual system.
    """
    from scipy import stats

    n = N_CONTROLS
    person = spec.between_sd * rng.standard_normal(n)
    values = person[:, None] + spec.scan_sd * rng.standard_normal((n, 2))
    t_post = rng.uniform(-CONTROL_T_POST_RANGE, CONTROL_T_POST_RANGE)
    means = np.where(two, values.mean(axis=1), values[:, 0])
    _, se = _student_t(post, means)
    shift = round(float(post.mean() - t_post * se - means.mean()), 5)
    values = np.round(values + shift, 4)
    means = np.where(two, values.mean(axis=1), values[:, 0])
    for equal_var in (True, False):
        p_pre = stats.ttest_ind(pre, means, equal_var=equal_var).pvalue
        t_pre = stats.ttest_ind(pre, means, equal_var=equal_var).statistic
        p_post = stats.ttest_ind(post, means, equal_var=equal_var).pvalue
        hypothesised = spec.t_time < -1
        if hypothesised and not (p_pre < 0.05 and t_pre > 0):
            raise DesignRejected
        if not hypothesised and p_pre <= 0.2:
            raise DesignRejected
        if p_post <= 0.05:
            raise DesignRejected
    return values


# --------------------------------------------------------------------------
# structural volumes
# --------------------------------------------------------------------------

# (mean volume mm3, SD as fraction of mean) for a 1.5e6 mm3 ICV.
VOLUME_SPECS: dict[str, tuple[float, float]] = {
    "hippocampus_l": (3950.0, 0.09),
    "hippocampus_r": (4050.0, 0.09),
    "amygdala_l": (1480.0, 0.10),
    "amygdala_r": (1540.0, 0.10),
    "nacc_l": (520.0, 0.12),
    "nacc_r": (500.0, 0.12),
}
# r with the week-2 MADRS change over the 19 participants with usable volumes: the middle of
# the range in which r rounds to 0.52 and its p (t test, df 17) to 0.023, the paper's numbers
# (r in [0.5153, 0.5199]; r = 0.52 exactly gives p = 0.022).
HIPPOCAMPUS_R_CORRELATION = 0.5176
OTHER_CORRELATION_RANGE = 0.2


def _volumes_table(rng, design: ClinicalDesign, ids: list[str], usable: np.ndarray) -> pd.DataFrame:
    """Baseline volumes; volume/ICV ratios correlate with week-2 change.

    Volumes are usable (present) only for the participants flagged in
    ``usable``: the 19 participants of the FC model with a post-infusion
    scan, the paper's "19 subjects had at least one pre-scan and post-scan
    timepoint" after imaging exclusions.  The paper's r = 0.52 with
    p = 0.023 fits n = 19 (with the 21 participants who have a week-2 MADRS
    it would be p = 0.016).  The other participants' six volumes are empty;
    the intracranial volume is given for everyone.
    """
    n = N_PARTICIPANTS
    icv = np.rint(rng.normal(1.5e6, 1.3e5, n)).astype(np.int64)
    subset = np.flatnonzero(usable)
    change = design.change("week2", subset)
    table: dict[str, Any] = {"participant_id": ids}
    for column, (mean, cv) in VOLUME_SPECS.items():
        if column == "hippocampus_r":
            r = HIPPOCAMPUS_R_CORRELATION
        else:
            r = rng.uniform(-OTHER_CORRELATION_RANGE, OTHER_CORRELATION_RANGE)
        z = np.full(n, np.nan)
        z[subset] = _with_correlation(change, r, rng.standard_normal(len(subset)))
        ratio = (mean / 1.5e6) * (1 + cv * z)
        table[column] = np.round(ratio * icv, 1)
    table["icv"] = icv.astype(int)
    return pd.DataFrame(table)


# --------------------------------------------------------------------------
# pharmacology: serum concentrations and side effects (own random stream)
# --------------------------------------------------------------------------

# Mean serum concentration over the infusion, ng/mL, at the 0.6 mg/kg/h target:
# (mean, SD) of total ketamine and total norketamine; S fraction (mean, SD).
# Design choices (Table S1 of the paper is not reproduced here).
KETAMINE_NG_ML = (250.0, 70.0)
NORKETAMINE_NG_ML = (300.0, 90.0)
S_FRACTION_KETAMINE = (0.47, 0.02)
S_FRACTION_NORKETAMINE = (0.50, 0.02)
# Side effects reported at any time during the infusion (design counts out of
# the 22 completers) and at discharge (Results: out of 21 assessed).
INFUSION_SIDE_EFFECTS = {"nausea": 7, "dizziness": 6, "headache": 5, "dissociation": 4}
DISCHARGE_SIDE_EFFECTS = {"fatigue_discharge": 3, "inattention_discharge": 3, "sedation_discharge": 3,
                          "lightheaded_discharge": 1, "restless_discharge": 1, "palpitations_discharge": 1}
PHARMACOLOGY_MIN_P = 0.1  # no association with response or side effects (the paper: p > 0.05)


def _pharmacology_table(rng, design: ClinicalDesign, ids: list[str], dose: np.ndarray) -> pd.DataFrame:
    """Serum concentrations and side effects of the 22 infusion completers.

    Concentrations scale with the final infusion rate (dose / 0.6) times a
    log-normal factor; S- and R-enantiomers split each total by a drawn S
    fraction, rounded to 0.1 ng/mL, and the total is the sum of the rounded
    parts.  Side effects are assigned at random with the design counts.
    Redrawn unless every concentration is unrelated to the week-2 MADRS change
    (Pearson p > 0.1; the paper: p > 0.05) and every infusion side effect is
    unrelated to total ketamine and total norketamine (point-biserial p > 0.1;
    the paper: "not correlated").
    """
    from scipy import stats

    n = N_PARTICIPANTS
    completers = design.completers
    scale = dose[completers] / 0.6
    table: dict[str, object] = {"participant_id": ids}
    for name, (mean, sd), (s_mean, s_sd) in (
        ("ketamine", KETAMINE_NG_ML, S_FRACTION_KETAMINE),
        ("norketamine", NORKETAMINE_NG_ML, S_FRACTION_NORKETAMINE),
    ):
        sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
        total = mean * scale * np.exp(sigma * rng.standard_normal(len(completers)) - sigma**2 / 2)
        s_fraction = np.clip(s_mean + s_sd * rng.standard_normal(len(completers)), 0.4, 0.6)
        s_part = np.round(total * s_fraction, 1)
        r_part = np.round(total * (1 - s_fraction), 1)
        for column, values in ((f"{name}_ng_ml", np.round(s_part + r_part, 1)),
                               (f"s_{name}_ng_ml", s_part), (f"r_{name}_ng_ml", r_part)):
            full = np.full(n, np.nan)
            full[completers] = values
            table[column] = full
    in_followed = np.isin(completers, design.followed)
    change = design.change("week2", design.followed)
    for column in [c for c in table if c.endswith("_ng_ml")]:
        values = np.asarray(table[column])[completers][in_followed]
        if stats.pearsonr(values, change).pvalue <= PHARMACOLOGY_MIN_P:
            raise DesignRejected
    for column, count in INFUSION_SIDE_EFFECTS.items():
        flags = np.zeros(len(completers), dtype=bool)
        flags[rng.permutation(len(completers))[:count]] = True
        for conc in ("ketamine_ng_ml", "norketamine_ng_ml"):
            if stats.pearsonr(flags.astype(float), np.asarray(table[conc])[completers]).pvalue <= PHARMACOLOGY_MIN_P:
                raise DesignRejected
        full = pd.array([pd.NA] * n, dtype="boolean")
        full[completers] = flags
        table[column] = full
    not_assessed = int(rng.permutation(completers)[0])
    assessed = np.array([i for i in completers if i != not_assessed])
    for column, count in DISCHARGE_SIDE_EFFECTS.items():
        flags = np.zeros(len(assessed), dtype=bool)
        flags[rng.permutation(len(assessed))[:count]] = True
        full = pd.array([pd.NA] * n, dtype="boolean")
        full[assessed] = flags
        table[column] = full
    return pd.DataFrame(table)
