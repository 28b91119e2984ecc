"""Read the mmrm references (written by make_reference.R in this folder).

Imported by the tests as ``from tests.reference.mmrm import load as reference``.

- :func:`cases`: one row per R fit (``case`` = "source|model|structure|reml or ml|method|vcov",
  ``formula``, ``converged``);
- :func:`values`: one row per value R printed (kind: fixed, joint, emmean, contrast, theta,
  sigma, loglik, aic, bic);
- :func:`frame`: the data of a case's source, with R's factor levels (fev_data or a generated
  design) and a 1-based row index;
- :func:`r_name`: a patsy coefficient name written as R writes it (``ARMCD[T.TRT]`` → ``ARMCDTRT``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

FOLDER = Path(__file__).resolve().parent

#: R's method / vcov names → the plan's values.
DF_METHODS = {"Kenward-Roger": "kenward_roger", "Satterthwaite": "satterthwaite", "Residual": "residual",
              "Between-Within": "between_within"}
VCOV_METHODS = {"Kenward-Roger-Linear": "kenward_roger_linear", "Kenward-Roger": "kenward_roger",
                "Asymptotic": "asymptotic", "Empirical": "empirical"}


@lru_cache(maxsize=1)
def cases() -> pd.DataFrame:
    """Every fitted case with its structure, estimation, R method and vcov, formula and convergence."""
    return pd.read_csv(FOLDER / "cases.csv")


@lru_cache(maxsize=1)
def values() -> pd.DataFrame:
    """Every reference value; numbers as the exact doubles R wrote (15 significant digits)."""
    frame = pd.read_csv(FOLDER / "reference.csv.gz", keep_default_na=False, dtype=str)
    for column in ("estimate", "std_error", "df", "df_denominator", "statistic", "p_value"):
        frame[column] = pd.to_numeric(frame[column].mask(frame[column].isin(["", "NA"])))
    return frame


@lru_cache(maxsize=1)
def _designs() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "designs.csv.gz")


@lru_cache(maxsize=1)
def _fev() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "fev_data.csv")


def frame(case: str) -> pd.DataFrame:
    """The data of ``case`` with R's factor levels (alphabetical, as R's ``factor``), index 1..n."""
    source = case.split("|")[0]
    if source == "fev":
        data = _fev().copy()
        data["RACE"] = pd.Categorical(data["RACE"], categories=sorted(data["RACE"].unique()))
        data["SEX"] = pd.Categorical(data["SEX"], categories=["Male", "Female"])
        data["AVISIT"] = pd.Categorical(data["AVISIT"], categories=["VIS1", "VIS2", "VIS3", "VIS4"])
    else:
        data = _designs()
        data = data[data["design"] == int(source[3:])].copy()
        data["AVISIT"] = pd.Categorical(data["AVISIT"], categories=sorted(data["AVISIT"].unique()))
    data["ARMCD"] = pd.Categorical(data["ARMCD"], categories=["PBO", "TRT"])
    data.index = range(1, len(data) + 1)
    return data


def r_name(name: str) -> str:
    """patsy's coefficient name in R's spelling.

    >>> r_name("ARMCD[T.TRT]:AVISIT[T.VIS2]"), r_name("Intercept")
    ('ARMCDTRT:AVISITVIS2', '(Intercept)')
    """
    if name == "Intercept":
        return "(Intercept)"
    return re.sub(r"\[T\.([^\]]*)\]", r"\1", name)
