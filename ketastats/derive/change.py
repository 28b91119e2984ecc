"""Change and percent change from a baseline row of the same subject.

``change = value − baseline`` and ``percent change = 100 × (value − baseline) / baseline``,
where the baseline row is the subject's row matching the selector (e.g. ``{visit: baseline}``).
Subjects without a baseline value get a missing change (reported as a warning); a baseline
of 0 gives a missing percent change.

Example
-------
>>> import pandas as pd
>>> f = pd.DataFrame({"pid": ["a", "a", "b"], "visit": ["baseline", "day1", "day1"], "madrs": [30, 9, 12]})
>>> change_from_baseline(f, "pid", "madrs", {"visit": "baseline"}, True, "pct")[0].tolist()
[0.0, -70.0, nan]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketastats.errors import Issue, Location


def selector_mask(frame: pd.DataFrame, selector: dict) -> pd.Series:
    """Rows where every selector column equals its value (compared as text for categories)."""
    mask = pd.Series(True, index=frame.index)
    for column, value in selector.items():
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            mask &= values.astype(object).map(lambda v: None if v is None else str(v)) == str(value)
        else:
            mask &= values == value
    return mask.fillna(False).astype(bool)


def change_from_baseline(frame: pd.DataFrame, subject: str, column: str, baseline: dict, percent: bool,
                         name: str) -> tuple[pd.Series, list[Issue]]:
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    base_rows = frame[selector_mask(frame, baseline)]
    base = pd.Series(values[base_rows.index].to_numpy(), index=base_rows[subject].to_numpy())
    base = base[~base.index.duplicated(keep="first")]
    reference = frame[subject].map(base).astype(float)
    issues: list[Issue] = []
    lacking = sorted(set(frame[subject].dropna()) - set(base.dropna().index))
    if lacking:
        issues.append(Issue("no-baseline", f"{len(lacking)} subject(s) have no baseline value of '{column}', "
                            f"so '{name}' is missing for them: {', '.join(map(str, lacking[:10]))}",
                            Location(table=None, column=name), severity="warning"))
    if percent:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = 100.0 * (values - reference) / reference.where(reference != 0)
    else:
        result = values - reference
    return result.astype(float), issues
