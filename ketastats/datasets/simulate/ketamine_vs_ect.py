"""Synthetic randomized trial of serial ketamine infusions vs electroconvulsive therapy (ECT) in depression.

Follows the design of the ketamine / ECT biomarker study in the project seeds (``000``: 60
patients, serial ketamine infusions 2-3 times a week up to 4, compared with patients
receiving ECT; HDRS; serum immune markers; remote mood ratings after treatment to track
relapse; general linear mixed models and regression). The registry text gives no effect
sizes, so every number below is a design choice, documented in
``docs/datasets/ketamine_vs_ect.md``, chosen to be plausible from the seeds and the
literature (e.g. 65-71 % response to ketamine in the Murrough review, ``004``; ECT at least as
effective at the end of a course, ketamine faster; relapse common within 6 months).

**Everything produced here is synthetic**: no row corresponds to a real person, and no
published trial is being replicated.

Design (all randomness from one ``numpy.random.default_rng(SEED)`` stream, used in a fixed
order; a draw that misses a design check is redrawn)
----------------------------------------------------------------------------------------------
1. 60 participants randomized 1:1 (permuted blocks of 4) to ECT (3 sessions a week, 8-12
   sessions, uniformly) or ketamine 0.5 mg/kg IV (4 infusions, days 1, 4, 8, 11). Age
   N(46, 13) in [18, 75]; 60 % female; current episode (months) log-normal, median 9;
   baseline HDRS-17 N(25, 4) in [18, 38]; serum IL-6 log-normal, median 3 pg/mL.
2. HDRS-17 at baseline (day 0), after treatment 3 (``tx3``: ketamine day 9, ECT day 6), at the
   end of the course (``eot``: the day after the last treatment) and 1, 3 and 6 months after
   it (``m1``, ``m3``, ``m6``: end of course + 30 / 91 / 182 days, +-3 days). Fractional
   improvement from baseline: a participant effect z ~ N(0, 1); ketamine 0.40 + 0.18 z at
   tx3 and 0.50 + 0.22 z at eot; ECT 0.22 + 0.15 z and 0.60 + 0.22 z; visit noise SD 0.08;
   HDRS = baseline × (1 − improvement) + N(0, 1.5), rounded, in [0, 52].
3. Relapse among responders at eot (HDRS reduced by at least 50 %): a latent time after the
   end of course, Weibull (shape 1.2), median 100 days for ketamine, hazard ratio 0.5 for
   ECT and 1.02 per year of age above 46 (proportional hazards), detected by the weekly remote
   rating (the first multiple of 7 days at or after it) up to 182 days; censored at 182 days
   or at drop-out. Before relapse the improvement stays at least 0.55; after it, N(0.20,
   0.12). Non-responders keep their end-of-course improvement (+0.03 a visit).
4. Drop-out is **missing at random**: before each post-baseline visit a participant still in
   the study drops out with probability logistic(b_visit + 0.15 × (last observed HDRS − 14)),
   b = −4.5 (tx3), −4.2 (eot), −3.8 (m1), −3.5 (m3, m6) — it depends on the last *observed*
   score only, never on the unobserved one. Reasons: during the course adverse event /
   lack of efficacy / withdrew consent (1 / 1 / 1), in follow-up lost to follow-up / withdrew
   consent (3 / 1). 4 % withdraw before the first treatment (randomized, not treated). A
   participant still in the study misses a visit with probability 0.05 (missing completely at
   random); a participant who drops out during the course stops treatment there.
5. IL-6 at baseline and eot (``biomarkers``): log IL-6 at eot = log IL-6 at baseline
   + 0.02 × (HDRS change) + N(0, 0.25); 5 % of samples fail the assay (missing).

Design checks: response at eot in 40-65 % (ketamine) and 50-75 % (ECT) of those assessed;
among responders at least 4 relapses and 2 censorings per arm; drop-outs in both arms.

Examples
--------
>>> tables = simulate()
>>> sorted(tables)
['biomarkers', 'participants', 'ratings']
>>> tables["participants"].groupby("arm", observed=True).size().to_dict()
{'ect': 30, 'ketamine': 30}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._redraw import DesignRejected, redraw

SEED: int = 16000
"""Seed of the shipped synthetic data set."""

N_PARTICIPANTS = 60
ARMS: tuple[str, ...] = ("ect", "ketamine")
VISITS: tuple[str, ...] = ("baseline", "tx3", "eot", "m1", "m3", "m6")
FOLLOW_UP_DAYS: dict[str, int] = {"m1": 30, "m3": 91, "m6": 182}
KETAMINE_DAYS: tuple[int, ...] = (1, 4, 8, 11)
ECT_DAYS: tuple[int, ...] = (1, 3, 5, 8, 10, 12, 15, 17, 19, 22, 24, 26)
ECT_SESSIONS = (8, 12)
END_REASONS: tuple[str, ...] = ("completed", "adverse_event", "lack_of_efficacy", "withdrew_consent",
                                "lost_to_follow_up")
DROPOUT_REASONS = set(END_REASONS) - {"completed"}

# --- design parameters (see the module docstring) ---
AGE = (46.0, 13.0, 18, 75)
HDRS_BASELINE = (25.0, 4.0, 18, 38)
IMPROVEMENT = {"ketamine": {"tx3": (0.40, 0.18), "eot": (0.50, 0.22)},
               "ect": {"tx3": (0.22, 0.15), "eot": (0.60, 0.22)}}
VISIT_NOISE = 0.08
HDRS_NOISE = 1.5
RESPONDER_FLOOR = 0.55
RELAPSED_IMPROVEMENT = (0.20, 0.12)
NON_RESPONDER_DRIFT = 0.03
RELAPSE_SHAPE = 1.2
RELAPSE_MEDIAN_KETAMINE = 100.0
RELAPSE_HR_ECT = 0.5
RELAPSE_HR_PER_YEAR = 1.02
RELAPSE_HORIZON = 182
DROPOUT_INTERCEPT = {"tx3": -4.5, "eot": -4.2, "m1": -3.8, "m3": -3.5, "m6": -3.5}
DROPOUT_SLOPE, DROPOUT_CENTRE = 0.15, 14.0
NOT_TREATED = 0.04
MISSED_VISIT = 0.05
COURSE_REASONS = (("adverse_event", "lack_of_efficacy", "withdrew_consent"), (1 / 3, 1 / 3, 1 / 3))
FOLLOW_UP_REASONS = (("lost_to_follow_up", "withdrew_consent"), (0.75, 0.25))
IL6_MEDIAN, IL6_LOG_SD, IL6_SLOPE, IL6_NOISE, IL6_FAILED = 3.0, 0.5, 0.02, 0.25, 0.05
RESPONSE_TARGET = {"ketamine": (0.40, 0.65), "ect": (0.50, 0.75)}
MAX_ATTEMPTS = 500


def simulate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Generate the synthetic trial.

    Parameters
    ----------
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the shipped CSV files use :data:`SEED`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``participants`` (one row per randomized participant), ``ratings`` (one row per
        attended HDRS visit) and ``biomarkers`` (one row per blood sample), sorted by their keys
        (see ``data_dictionary/ketamine_vs_ect``).
    """
    return redraw(_draw, np.random.default_rng(seed), attempts=MAX_ATTEMPTS)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def _draw(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    n = N_PARTICIPANTS
    ids = [f"E{i + 1:03d}" for i in range(n)]
    arm = np.concatenate([rng.permutation(np.array([0, 0, 1, 1])) for _ in range(n // 4)])
    is_ket = arm == 1
    mean, sd, lo, hi = AGE
    age = np.clip(np.rint(rng.normal(mean, sd, n)), lo, hi).astype(int)
    sex = np.where(rng.random(n) < 0.6, "female", "male")
    episode = np.round(np.exp(rng.normal(np.log(9.0), 0.8, n)), 1)
    mean, sd, lo, hi = HDRS_BASELINE
    hdrs0 = np.clip(np.rint(rng.normal(mean, sd, n)), lo, hi)
    z = rng.standard_normal(n)
    n_ect = rng.integers(ECT_SESSIONS[0], ECT_SESSIONS[1] + 1, n)
    visit_noise = VISIT_NOISE * rng.standard_normal((n, len(VISITS)))
    hdrs_noise = rng.normal(0, HDRS_NOISE, (n, len(VISITS)))
    jitter = rng.integers(-3, 4, (n, len(VISITS)))
    u_drop = rng.random((n, len(VISITS)))
    u_missed = rng.random((n, len(VISITS)))
    u_reason = rng.random((n, len(VISITS)))
    u_not_treated = rng.random(n)
    u_drop_day = rng.random((n, len(VISITS)))
    relapsed_level = rng.normal(*RELAPSED_IMPROVEMENT, n)
    scale = RELAPSE_MEDIAN_KETAMINE / np.log(2) ** (1 / RELAPSE_SHAPE)
    log_hr = np.where(is_ket, 0.0, np.log(RELAPSE_HR_ECT)) + np.log(RELAPSE_HR_PER_YEAR) * (age - AGE[0])
    relapse_latent = scale * (rng.exponential(1.0, n) / np.exp(log_hr)) ** (1 / RELAPSE_SHAPE)
    il6_0 = np.exp(rng.normal(np.log(IL6_MEDIAN), IL6_LOG_SD, n))
    il6_noise = rng.normal(0, IL6_NOISE, n)
    il6_failed = rng.random((n, 2))

    rows, bio_rows, people = [], [], []
    for i in range(n):
        name = ARMS[arm[i]]
        days = KETAMINE_DAYS if is_ket[i] else ECT_DAYS[:n_ect[i]]
        eot_day = days[-1] + 1
        schedule = {"baseline": 0, "tx3": days[2] + 1, "eot": eot_day,
                    **{v: eot_day + d for v, d in FOLLOW_UP_DAYS.items()}}
        plan = IMPROVEMENT[name]
        level = {"tx3": plan["tx3"][0] + plan["tx3"][1] * z[i], "eot": plan["eot"][0] + plan["eot"][1] * z[i]}
        reason, n_treat, last_hdrs, responder = "completed", len(days), hdrs0[i], None
        stop_day = None                       # day the participant left the study (drop-out)
        eot_hdrs = None
        if u_not_treated[i] < NOT_TREATED:
            reason, n_treat = "withdrew_consent", 0
        rows.append((ids[i], "baseline", 0, int(hdrs0[i])))
        for v, visit in enumerate(VISITS[1:], start=1):
            if reason != "completed":
                break
            day = schedule[visit] + (int(jitter[i, v]) if visit in FOLLOW_UP_DAYS else 0)
            if u_drop[i, v] < _logistic(DROPOUT_INTERCEPT[visit] + DROPOUT_SLOPE * (last_hdrs - DROPOUT_CENTRE)):
                previous = schedule[VISITS[v - 1]]
                stop_day = int(previous + 1 + np.floor(u_drop_day[i, v] * (day - previous - 1)))
                reasons, probs = COURSE_REASONS if visit in ("tx3", "eot") else FOLLOW_UP_REASONS
                reason = reasons[int(np.searchsorted(np.cumsum(probs), u_reason[i, v] * 0.999999))]
                if visit == "tx3":
                    n_treat = 1 + int(u_drop_day[i, v] * 2)          # left after treatment 1 or 2
                elif visit == "eot":
                    n_treat = 3 + int(u_drop_day[i, v] * (len(days) - 3))
                break
            if visit in ("tx3", "eot"):
                imp = level[visit]
            else:
                t = day - eot_day
                if responder:
                    imp = relapsed_level[i] if t >= relapse_latent[i] else max(level["eot"], RESPONDER_FLOOR)
                else:
                    imp = level["eot"] + NON_RESPONDER_DRIFT * (v - 2)
            imp = float(np.clip(imp + visit_noise[i, v], -0.3, 1.0))
            hdrs = int(np.clip(np.rint(hdrs0[i] * (1 - imp) + hdrs_noise[i, v]), 0, 52))
            if visit == "eot":
                responder = 2 * hdrs <= hdrs0[i] if u_missed[i, v] >= MISSED_VISIT else None
                eot_hdrs = hdrs
            if u_missed[i, v] < MISSED_VISIT:
                continue
            rows.append((ids[i], visit, day, hdrs))
            last_hdrs = hdrs
        # relapse among responders at eot, from the weekly remote ratings
        relapse_time, relapsed = None, None
        if responder:
            horizon = RELAPSE_HORIZON if stop_day is None else stop_day - eot_day
            detected = 7 * int(np.ceil(relapse_latent[i] / 7))
            if detected <= horizon:
                relapse_time, relapsed = detected, True
            else:
                relapse_time, relapsed = int(horizon), False
        # biomarkers: baseline for everyone; end of course for those rated there
        il6_eot = None
        if eot_hdrs is not None and responder is not None:
            il6_eot = il6_0[i] * np.exp(IL6_SLOPE * (eot_hdrs - hdrs0[i]) + il6_noise[i])
        for s, (visit, value) in enumerate((("baseline", il6_0[i]), ("eot", il6_eot))):
            if value is None:
                continue
            shown = None if il6_failed[i, s] < IL6_FAILED else round(float(value), 2)
            bio_rows.append((ids[i], visit, shown))
        people.append((ids[i], name, int(age[i]), sex[i], float(episode[i]), n_treat, reason,
                       reason in DROPOUT_REASONS, relapse_time, relapsed))

    ratings = pd.DataFrame(rows, columns=["participant_id", "visit", "study_day", "hdrs17"])
    ratings["visit"] = pd.Categorical(ratings["visit"], categories=VISITS, ordered=True)
    ratings = ratings.sort_values(["participant_id", "visit"], kind="mergesort").reset_index(drop=True)
    participants = pd.DataFrame(people, columns=["participant_id", "arm", "age", "sex", "episode_months",
                                                 "n_treatments", "end_reason", "dropped_out",
                                                 "relapse_days", "relapsed"])
    participants["arm"] = pd.Categorical(participants["arm"], categories=ARMS)
    participants["sex"] = pd.Categorical(participants["sex"], categories=("female", "male"))
    participants["end_reason"] = pd.Categorical(participants["end_reason"], categories=END_REASONS)
    participants["relapse_days"] = participants["relapse_days"].astype("Int64")
    participants["relapsed"] = participants["relapsed"].astype("boolean")
    biomarkers = pd.DataFrame(bio_rows, columns=["participant_id", "visit", "il6"])
    biomarkers["visit"] = pd.Categorical(biomarkers["visit"], categories=("baseline", "eot"), ordered=True)
    _check(participants, ratings)
    return {"participants": participants, "ratings": ratings, "biomarkers": biomarkers}


def _check(participants: pd.DataFrame, ratings: pd.DataFrame) -> None:
    """Reject draws whose end-of-course response or relapse counts miss the design checks."""
    base = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["hdrs17"]
    eot = ratings[ratings["visit"] == "eot"]
    responder = 2 * eot["hdrs17"].to_numpy() <= base[eot["participant_id"]].to_numpy()
    arm_of = participants.set_index("participant_id")["arm"].astype(str)[eot["participant_id"]].to_numpy()
    for name in ARMS:
        low, high = RESPONSE_TARGET[name]
        if not low <= responder[arm_of == name].mean() <= high:
            raise DesignRejected
        mine = participants[participants["arm"] == name]
        events = mine["relapsed"].fillna(False).astype(bool)
        censored = mine["relapsed"].notna() & ~events
        if events.sum() < 4 or censored.sum() < 2 or not mine["dropped_out"].any():
            raise DesignRejected
