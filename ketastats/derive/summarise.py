"""Summarise a table into a new one: one row per combination of ``by``, means of numeric columns.

The Siegel et al. 2021 imaging analysis averages a participant's two pre-infusion scans before
modelling (40 observations from 61 scans); this is that step, declared in the plan::

    - {name: fc_sessions, summarise: imaging, by: [participant_id, time],
       mean: [fc_dmn, fc_sgacc_dmn, fc_limbic, fc_visual]}

Missing values are skipped in a mean (a mean of no values is missing); ``n_rows`` counts the
rows summarised. Rows of the new table are numbered 1..n in ``by`` order (category level order).

Example
-------
>>> import pandas as pd
>>> f = pd.DataFrame({"pid": ["a", "a", "a"], "time": ["pre", "pre", "post"], "fc": [0.2, 0.4, 0.1]})
>>> summarise_table(f, ["pid", "time"], ["fc"], None).to_dict("list")
{'pid': ['a', 'a'], 'time': ['post', 'pre'], 'fc': [0.1, 0.30000000000000004], 'n_rows': [1, 2]}
"""

from __future__ import annotations

import pandas as pd


def summarise_table(frame: pd.DataFrame, by: list[str], mean: list[str], mask: pd.Series | None) -> pd.DataFrame:
    rows = frame if mask is None else frame[mask.fillna(False).astype(bool)]
    rows = rows[rows[by].notna().all(axis=1)]
    values = rows[mean].apply(lambda column: pd.to_numeric(column.astype("Float64"), errors="coerce")
                              .astype(float))
    grouped = pd.concat([rows[by], values], axis=1).groupby(by, observed=True, sort=True)
    out = grouped[mean].mean().reset_index()
    out["n_rows"] = grouped.size().to_numpy()
    for column in by:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            out[column] = pd.Categorical(out[column], categories=frame[column].cat.categories,
                                         ordered=frame[column].cat.ordered)
    out.index = pd.RangeIndex(1, len(out) + 1, name="row")
    return out
