"""Read the generated-design references (written by make_reference.R in this folder).

Imported by the tests like ``tolerances.py`` (pytest's importlib import mode makes ``tests``
importable)::

    from tests.reference.lmm_designs import load as reference

Every number is read back as the exact double R wrote (17 significant digits).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FOLDER = Path(__file__).resolve().parent


def _numbers(frame: pd.DataFrame, columns) -> pd.DataFrame:
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column].mask(frame[column] == ""))
    return frame


@lru_cache(maxsize=1)
def designs() -> pd.DataFrame:
    """One row per design: its model, lme4's best fit and how it was found."""
    frame = pd.read_csv(FOLDER / "designs.csv", dtype=str, keep_default_na=False)
    frame = _numbers(frame, ["n_obs", "n_subjects", "n_groups_levels", "loglik", "criterion", "sigma",
                             "loglik_bobyqa", "loglik_nelder_mead", "loglik_restart"])
    for column in ("reml", "is_singular", "lme4_singular_default"):
        if column in frame.columns:
            frame[column] = frame[column].str.upper().eq("TRUE")
    frame["theta"] = [np.array([float(v) for v in text.split(";")]) for text in frame["theta"]]
    return frame.set_index("design", drop=False)


@lru_cache(maxsize=1)
def _data() -> dict[str, pd.DataFrame]:
    frame = pd.read_csv(FOLDER / "data.csv.gz", dtype={"design": str, "subject": str, "group": str},
                        keep_default_na=False)
    frame["time"] = frame["time"].astype(float)
    frame["y"] = frame["y"].astype(float)
    return {name: part.reset_index(drop=True) for name, part in frame.groupby("design", sort=False)}


def data(design: str) -> pd.DataFrame:
    """The rows of one design: subject, group (string level, '' when the model has none), time, y."""
    return _data()[design].copy()


@lru_cache(maxsize=1)
def _coefficients() -> pd.DataFrame:
    frame = pd.read_csv(FOLDER / "coefficients.csv", dtype=str, keep_default_na=False)
    return _numbers(frame, ["index", "estimate", "std_error", "df_satterthwaite", "t_satterthwaite",
                            "p_satterthwaite", "std_error_kr", "df_kr", "p_kr", "df_satterthwaite_fine",
                            "p_satterthwaite_fine"])


def coefficients(design: str) -> pd.DataFrame:
    """lmerTest's coefficient table (Satterthwaite and, for REML fits, Kenward-Roger) in lme4's order."""
    frame = _coefficients()
    return frame[frame["design"] == design].sort_values("index").reset_index(drop=True)


@lru_cache(maxsize=1)
def _tests() -> pd.DataFrame:
    frame = pd.read_csv(FOLDER / "tests.csv", dtype=str, keep_default_na=False)
    return _numbers(frame, ["estimate", "std_error", "df", "df_denominator", "statistic", "p_value"])


def tests(design: str) -> pd.DataFrame:
    """Type-III F tests, emmeans and contrasts of one design (kind joint / emmean / contrast)."""
    frame = _tests()
    return frame[frame["design"] == design].reset_index(drop=True)


def r_name(patsy_name: str) -> str:
    """R's name of a coefficient from patsy's: ``group[T.B]`` -> ``groupB``, ``Intercept`` -> ``(Intercept)``."""
    return "(Intercept)" if patsy_name == "Intercept" else re.sub(r"\[T\.([^]]*)\]", r"\1", patsy_name)
