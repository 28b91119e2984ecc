"""Synthetic randomized, double-blind trial of repeated ketamine vs saline infusions in TRD.

Follows the design of the placebo-controlled protocol in the project seeds
(``001``: National Institute of Neurology and Neurosurgery, Mexico): adults with
treatment-resistant depression randomized to ketamine 0.5 mg/kg or saline 0.9 %, infused
intravenously over 40 minutes on days 1, 4, 8, 11, 15, 19, 23 and 27; HDRS-17 and MADRS at
baseline, 4 h, 24 h and 72 h after the first infusion, before the infusions of days 8, 15
and 23, 24 h after the last infusion and weekly for 12 weeks after the last infusion (or
until relapse); pgACC glutamate and GABA by 1H-MRS at baseline, 10 minutes into the first
infusion, 24 h and 1 week after the last infusion. The protocol gives no sample size or
effect sizes; those below are design choices from the seeds and the literature, documented
in ``docs/datasets/ketamine_placebo_rct.md``. The open-label crossover after the blinded
phase is not simulated.

**Everything produced here is synthetic**: no row corresponds to a real person, and no
published trial is being replicated.

Design (all randomness from one ``numpy.random.default_rng(SEED)`` stream, used in a fixed
order; a draw that misses a design check is redrawn)
----------------------------------------------------------------------------------------------
1. 80 participants, 1:1 in permuted blocks of 4. Baseline MADRS ~ N(32, 5) in [22, 50];
   HDRS-17 ≈ 0.72 × MADRS + N(0, 2.5) in [18, 45].
2. Percent MADRS improvement per visit. At 24 h after the first infusion:
   ketamine N(60 %, 20 %), saline N(25 %, 18 %); 4 h: 0.9 × that; 72 h: 0.75 × (ketamine)
   or 0.9 × (saline). During the infusions the ketamine response builds towards a
   sustained level (24-h improvement + 10 points, at most 95 %); saline drifts to a
   placebo level N(30 %, 18 %). Visit noise 7 points. Checks: response (>= 50 %
   improvement) at 24 h in 65-70 % of rated ketamine participants and 6-18 % of saline.
3. Relapse among responders 24 h after the last infusion: a latent relapse time, Weibull
   (shape 0.8) with median 42 days after the last infusion for ketamine, hazard ratio 2.0
   for saline and 1.04 per baseline MADRS point above 32 (proportional hazards). Before it,
   improvement stays at the responder's level, at least 62 % (with visit noise a single
   visit may dip below 50 %); from it on, improvement
   falls to N(18 %, 12 %). As in the protocol, follow-up ends at relapse, confirmed when
   improvement is below 50 % at two consecutive visits. Checks: at least 5 responders,
   3 relapses and 1 censoring per arm.
4. Drop-out: during the infusions 5 % per arm for an adverse event (ketamine) or lack of
   efficacy (saline) plus 2.5 % withdrawn consent, after a uniformly chosen infusion 1-7;
   during follow-up 12 % lost to follow-up after a uniformly chosen week 1-11. Missed
   visits: 6 % of the scheduled post-baseline visits (3 % of the 24-h post-treatment
   visit); a rated visit lacks MADRS or HDRS-17 with probability 2 % each. Follow-up
   visits fall on day 27 + 7k with -1 / 0 / +1 day (20 / 60 / 20 %).
5. MRS (mM, institutional units): glutamate N(8.0, 0.9), GABA N(1.6, 0.3) per participant;
   ketamine adds +9 % / +4 % / +1 % to glutamate and +6 % / +3 % / 0 % to GABA at 10 min,
   24 h and 1 week; scan noise SD 0.45 (glutamate) and 0.15 (GABA); 5 % (glutamate) and 8 %
   (GABA) of spectra fail quality control (missing).

Examples
--------
>>> tables = simulate()
>>> sorted(tables)
['mrs', 'participants', 'ratings']
>>> tables["participants"].groupby("arm", observed=True).size().to_dict()
{'placebo': 40, 'ketamine': 40}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._redraw import DesignRejected, redraw

SEED: int = 4351
"""Seed of the shipped synthetic data set."""

N_PARTICIPANTS = 80
ARMS: tuple[str, ...] = ("placebo", "ketamine")
INFUSION_DAYS: tuple[int, ...] = (1, 4, 8, 11, 15, 19, 23, 27)
LAST_INFUSION_DAY = INFUSION_DAYS[-1]
FOLLOW_UP_WEEKS = 12
VISITS: tuple[str, ...] = ("baseline", "h4", "h24", "h72", "tx_day8", "tx_day15", "tx_day23", "post_24h",
                           *(f"fu_week{k}" for k in range(1, FOLLOW_UP_WEEKS + 1)))
VISIT_DAYS: dict[str, int] = {"baseline": 1, "h4": 1, "h24": 2, "h72": 4, "tx_day8": 8, "tx_day15": 15,
                              "tx_day23": 23, "post_24h": 28,
                              **{f"fu_week{k}": LAST_INFUSION_DAY + 7 * k for k in range(1, FOLLOW_UP_WEEKS + 1)}}
SCANS: tuple[str, ...] = ("baseline", "infusion_10min", "post_24h", "post_1week")
SCAN_DAYS: dict[str, int] = {"baseline": 1, "infusion_10min": 1, "post_24h": 28, "post_1week": 34}
END_REASONS: tuple[str, ...] = ("completed", "relapse", "adverse_event", "lack_of_efficacy", "withdrew_consent",
                                "lost_to_follow_up")
DROPOUT_REASONS = {"adverse_event", "lack_of_efficacy", "withdrew_consent", "lost_to_follow_up"}

# --- design parameters (see the module docstring) ---
MADRS_BASELINE = (32.0, 5.0, 22, 50)
HDRS_SLOPE, HDRS_NOISE, HDRS_RANGE = 0.72, 2.5, (18, 45)
IMPROVEMENT_24H = {"ketamine": (0.60, 0.20), "placebo": (0.25, 0.18)}
PLACEBO_LEVEL = (0.30, 0.18)
RESPONDER_FLOOR = 0.62
VISIT_NOISE = 0.07
RESPONSE_24H_TARGET = {"ketamine": (0.65, 0.70), "placebo": (0.06, 0.18)}
RELAPSE_SHAPE = 0.8
RELAPSE_MEDIAN_KETAMINE = 42.0
RELAPSE_HR_PLACEBO = 2.0
RELAPSE_HR_PER_MADRS_POINT = 1.04
RELAPSED_IMPROVEMENT = (0.18, 0.12)
TREATMENT_DROPOUT = {"ketamine": ("adverse_event", 0.05), "placebo": ("lack_of_efficacy", 0.05)}
WITHDRAWAL = 0.025
FOLLOW_UP_LOSS = 0.12
MISSED_VISIT, MISSED_POST_24H, MISSING_SCALE = 0.06, 0.03, 0.02
GLUTAMATE, GABA = (8.0, 0.9, 0.45), (1.6, 0.3, 0.15)
MRS_EFFECT = {"glutamate": (0.0, 0.09, 0.04, 0.01), "gaba": (0.0, 0.06, 0.03, 0.0)}
MRS_FAILED = {"glutamate": 0.05, "gaba": 0.08}
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
        attended rating visit) and ``mrs`` (one row per MRS session), sorted by their keys
        (see ``data_dictionary/ketamine_placebo_rct``).
    """
    return redraw(_draw, np.random.default_rng(seed), attempts=MAX_ATTEMPTS)


def _draw(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    n = N_PARTICIPANTS
    ids = [f"K{i + 1:03d}" for i in range(n)]
    arm = np.concatenate([rng.permutation(np.array([0, 0, 1, 1])) for _ in range(n // 4)])
    is_ket = arm == 1
    mean, sd, lo, hi = MADRS_BASELINE
    madrs0 = np.clip(np.rint(rng.normal(mean, sd, n)), lo, hi)
    hdrs0 = np.clip(np.rint(HDRS_SLOPE * madrs0 + rng.normal(0, HDRS_NOISE, n)), *HDRS_RANGE)
    age = np.clip(np.rint(rng.normal(42, 11, n)), 18, 65).astype(int)
    sex = np.where(rng.random(n) < 0.6, "female", "male")
    prior = rng.choice([2, 3, 4, 5], size=n, p=[0.45, 0.3, 0.15, 0.1])

    # percent improvement at the scheduled visits of the blinded phase
    k_mean, k_sd = IMPROVEMENT_24H["ketamine"]
    p_mean, p_sd = IMPROVEMENT_24H["placebo"]
    imp24 = np.where(is_ket, rng.normal(k_mean, k_sd, n), rng.normal(p_mean, p_sd, n))
    sustained = np.where(is_ket, np.minimum(imp24 + 0.10, 0.95), rng.normal(*PLACEBO_LEVEL, n))
    plan = {
        "baseline": np.zeros(n),
        "h4": 0.9 * imp24,
        "h24": imp24,
        "h72": np.where(is_ket, 0.75, 0.9) * imp24,
        "tx_day8": np.where(is_ket, 0.8 * sustained, 0.5 * (imp24 + sustained)),
        "tx_day15": np.where(is_ket, 0.85 * sustained, sustained),
        "tx_day23": np.where(is_ket, 0.9 * sustained, sustained),
        "post_24h": sustained,
    }
    improvement = {v: plan[v] + (VISIT_NOISE * rng.standard_normal(n) if v != "baseline" else 0.0) for v in plan}
    improvement = {v: np.clip(x, -0.3, 0.97) for v, x in improvement.items()}

    # drop-out during the infusions: the last infusion received
    n_infusions = np.full(n, len(INFUSION_DAYS))
    end_reason = np.array(["completed"] * n, dtype=object)
    u = rng.random(n)
    after = rng.integers(1, len(INFUSION_DAYS), n)  # stops after infusion 1..7
    for i in range(n):
        reason, prob = TREATMENT_DROPOUT[ARMS[arm[i]]]
        if u[i] < prob:
            end_reason[i] = reason
        elif u[i] < prob + WITHDRAWAL:
            end_reason[i] = "withdrew_consent"
        if end_reason[i] != "completed":
            n_infusions[i] = after[i]
    last_infusion_day = np.array([INFUSION_DAYS[k - 1] for k in n_infusions])
    lost_week = np.where(rng.random(n) < FOLLOW_UP_LOSS, rng.integers(1, FOLLOW_UP_WEEKS, n), 0)

    # relapse latent times (days after the last infusion) for everyone; used for responders
    scale_ket = RELAPSE_MEDIAN_KETAMINE / np.log(2) ** (1 / RELAPSE_SHAPE)
    log_hr = np.where(is_ket, 0.0, np.log(RELAPSE_HR_PLACEBO)) + np.log(RELAPSE_HR_PER_MADRS_POINT) * (madrs0 - 32)
    relapse_time = scale_ket * (rng.exponential(1.0, n) / np.exp(log_hr)) ** (1 / RELAPSE_SHAPE)
    relapsed_level = rng.normal(*RELAPSED_IMPROVEMENT, n)
    jitter = rng.choice([-1, 0, 1], size=(n, FOLLOW_UP_WEEKS), p=[0.2, 0.6, 0.2])
    follow_noise = VISIT_NOISE * rng.standard_normal((n, FOLLOW_UP_WEEKS))
    missed = rng.random((n, len(VISITS)))
    scale_missing = rng.random((n, len(VISITS), 2))
    hdrs_noise = rng.normal(0, 1.5, (n, len(VISITS)))

    rows = []
    end_day = np.zeros(n, dtype=int)
    for i in range(n):
        responder_eot = None
        below_run = 0
        for v, visit in enumerate(VISITS):
            day = VISIT_DAYS[visit]
            if visit.startswith("fu_week"):
                week = int(visit[len("fu_week"):])
                day += int(jitter[i, week - 1])
            if end_reason[i] != "completed" and visit_after_last_infusion(visit, n_infusions[i]):
                break
            if end_reason[i] == "relapse":
                break
            if visit.startswith("fu_week"):
                week = int(visit[len("fu_week"):])
                if lost_week[i] and week > lost_week[i]:
                    end_reason[i] = "lost_to_follow_up"
                    break
                t = day - LAST_INFUSION_DAY
                base = improvement["post_24h"][i]
                if responder_eot:
                    level = relapsed_level[i] if t >= relapse_time[i] else max(base, RESPONDER_FLOOR)
                else:
                    level = base * 0.9 ** (week / 4)
                imp = float(np.clip(level + follow_noise[i, week - 1], -0.3, 0.97))
            else:
                imp = float(improvement[visit][i])
            madrs = int(np.clip(np.rint(madrs0[i] * (1 - imp)), 0, 60))
            hdrs = int(np.clip(np.rint(hdrs0[i] * (1 - imp) + hdrs_noise[i, v]), 0, 52))
            if visit == "post_24h":
                responder_eot = 2 * madrs <= madrs0[i]
            threshold = MISSED_POST_24H if visit == "post_24h" else MISSED_VISIT
            if visit != "baseline" and missed[i, v] < threshold:
                continue
            rated_madrs = None if visit != "baseline" and scale_missing[i, v, 0] < MISSING_SCALE else madrs
            rated_hdrs = None if visit != "baseline" and scale_missing[i, v, 1] < MISSING_SCALE else hdrs
            rows.append((ids[i], visit, day, rated_madrs, rated_hdrs))
            end_day[i] = day
            if visit.startswith("fu_week") and responder_eot and rated_madrs is not None:
                below_run = below_run + 1 if 2 * rated_madrs > madrs0[i] else 0
                if below_run >= 2:
                    end_reason[i] = "relapse"
    ratings = pd.DataFrame(rows, columns=["participant_id", "visit", "study_day", "madrs", "hdrs17"])
    ratings["visit"] = pd.Categorical(ratings["visit"], categories=VISITS, ordered=True)
    for column in ("madrs", "hdrs17"):
        ratings[column] = ratings[column].astype("Int64")
    _check(ratings, arm, madrs0, ids)

    dropped = np.array([r in DROPOUT_REASONS for r in end_reason])
    participants = pd.DataFrame({
        "participant_id": ids,
        "arm": pd.Categorical([ARMS[a] for a in arm], categories=ARMS),
        "age": age,
        "sex": pd.Categorical(sex, categories=("female", "male")),
        "prior_treatments": prior.astype(int),
        "n_infusions": n_infusions.astype(int),
        "last_infusion_day": last_infusion_day.astype(int),
        "end_reason": pd.Categorical(end_reason, categories=END_REASONS),
        "dropped_out": dropped,
        "last_visit_day": end_day,
    })
    mrs = _mrs_table(rng, ids, is_ket, n_infusions, lost_week)
    _check_relapse(participants, ratings, madrs0)
    return {"participants": participants, "ratings": ratings, "mrs": mrs}


def visit_after_last_infusion(visit: str, n_infusions: int) -> bool:
    """Whether a participant who stopped after ``n_infusions`` infusions misses ``visit``.

    They attend the visits scheduled before the day of the next infusion.
    """
    return n_infusions < len(INFUSION_DAYS) and VISIT_DAYS[visit] >= INFUSION_DAYS[n_infusions]


def _check(ratings: pd.DataFrame, arm: np.ndarray, madrs0: np.ndarray, ids: list[str]) -> None:
    """Reject draws whose 24-h response rates miss the targets."""
    base = pd.Series(madrs0, index=ids)
    h24 = ratings[(ratings["visit"] == "h24") & ratings["madrs"].notna()]
    responder = 2 * h24["madrs"].astype(float).to_numpy() <= base[h24["participant_id"]].to_numpy()
    arm_of = pd.Series(arm, index=ids)[h24["participant_id"]].to_numpy()
    for code, name in enumerate(ARMS):
        low, high = RESPONSE_24H_TARGET[name]
        rate = responder[arm_of == code].mean()
        if not low <= rate <= high:
            raise DesignRejected


def _check_relapse(participants: pd.DataFrame, ratings: pd.DataFrame, madrs0: np.ndarray) -> None:
    """Reject draws without relapses and censorings in both arms among end-of-treatment responders."""
    base = pd.Series(madrs0, index=participants["participant_id"])
    eot = ratings[(ratings["visit"] == "post_24h") & ratings["madrs"].notna()]
    responders = eot.loc[2 * eot["madrs"].astype(float).to_numpy() <= base[eot["participant_id"]].to_numpy(),
                         "participant_id"]
    info = participants.set_index("participant_id").loc[responders]
    for name in ARMS:
        mine = info[info["arm"] == name]
        if len(mine) < 5 or (mine["end_reason"] == "relapse").sum() < 3 or (mine["end_reason"] != "relapse").sum() < 1:
            raise DesignRejected


def _mrs_table(rng, ids, is_ket, n_infusions, lost_week) -> pd.DataFrame:
    """MRS sessions: everyone at baseline and 10 min into the first infusion; treatment completers
    24 h and 1 week after the last infusion (not those lost in follow-up week 1)."""
    n = len(ids)
    glu_person = rng.normal(GLUTAMATE[0], GLUTAMATE[1], n)
    gaba_person = rng.normal(GABA[0], GABA[1], n)
    glu_noise = rng.normal(0, GLUTAMATE[2], (n, len(SCANS)))
    gaba_noise = rng.normal(0, GABA[2], (n, len(SCANS)))
    failed = rng.random((n, len(SCANS), 2))
    rows = []
    for i in range(n):
        for s, scan in enumerate(SCANS):
            day = SCAN_DAYS[scan]
            completed_treatment = n_infusions[i] == len(INFUSION_DAYS)
            if scan in ("post_24h", "post_1week") and not completed_treatment:
                continue
            if scan == "post_1week" and lost_week[i] == 1:
                continue
            glu = glu_person[i] * (1 + (MRS_EFFECT["glutamate"][s] if is_ket[i] else 0.0)) + glu_noise[i, s]
            gaba = gaba_person[i] * (1 + (MRS_EFFECT["gaba"][s] if is_ket[i] else 0.0)) + gaba_noise[i, s]
            glu_value = None if failed[i, s, 0] < MRS_FAILED["glutamate"] else round(float(max(glu, 3.0)), 2)
            gaba_value = None if failed[i, s, 1] < MRS_FAILED["gaba"] else round(float(max(gaba, 0.3)), 3)
            rows.append((ids[i], scan, day, glu_value, gaba_value))
    mrs = pd.DataFrame(rows, columns=["participant_id", "scan", "study_day", "glutamate", "gaba"])
    mrs["scan"] = pd.Categorical(mrs["scan"], categories=SCANS, ordered=True)
    return mrs
