"""Simulators that generate the synthetic data sets shipped with ketastats.

Every data set produced here is **synthetic**: it is calibrated to published
summary statistics and contains no real participant data.

Regenerate a shipped data set with, e.g.::

    python -m ketastats.datasets.simulate siegel2021 ketastats/datasets/siegel2021

Examples
--------
>>> import pathlib, tempfile
>>> from ketastats.datasets.simulate import write_dataset
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = write_dataset("siegel2021", pathlib.Path(tmp))
...     sorted(p.name for p in paths)
['clinical.csv', 'controls.csv', 'imaging.csv', 'participants.csv', 'pharmacology.csv', 'volumes.csv']
"""

from __future__ import annotations

import pathlib

import pandas as pd

from . import ketamine_placebo_rct, ketamine_vs_ect, siegel2021, siegel2021_connectome

SIMULATORS = {"siegel2021": siegel2021.simulate,
              "siegel2021_connectome": siegel2021_connectome.simulate,
              "ketamine_placebo_rct": ketamine_placebo_rct.simulate,
              "ketamine_vs_ect": ketamine_vs_ect.simulate}
"""Data-set name -> ``simulate(seed=...)`` returning ``{table: DataFrame}``."""

ON_DEMAND = {"siegel2021/connectome": siegel2021_connectome.connectome_long}
"""``simulate:<key>`` sources: synthetic tables too large to ship, generated when a plan reads them
(e.g. ``simulate:siegel2021/connectome``, the whole 77,421-edge connectome, 3,096,840 rows)."""

FLOAT_FORMAT = "%.10g"  # values are rounded by the simulators; this only prints them


def _to_csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``table`` with booleans spelled ``true`` / ``false``."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map({True: "true", False: "false"})
    return out


def write_dataset(name: str, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Simulate data set ``name`` with its default seed and write CSV files.

    Parameters
    ----------
    name : str
        Key of :data:`SIMULATORS`, e.g. ``"siegel2021"``.
    out_dir : pathlib.Path
        Directory for the ``<table>.csv`` files (created if missing).

    Returns
    -------
    list of pathlib.Path
        Written files, in table-name order.  Files are UTF-8 with ``\\n`` line
        endings, no index, missing values empty and booleans ``true`` /
        ``false``, so repeated runs are byte-identical.
    """
    if name not in SIMULATORS:
        raise KeyError(f"unknown data set {name!r}; choose from {sorted(SIMULATORS)}")
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table_name, table in sorted(SIMULATORS[name]().items()):
        path = out_dir / f"{table_name}.csv"
        _to_csv_frame(table).to_csv(
            path, index=False, encoding="utf-8", lineterminator="\n",
            float_format=FLOAT_FORMAT, na_rep="",
        )
        paths.append(path)
    return paths
