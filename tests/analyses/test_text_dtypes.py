"""Text columns typed as pandas' string dtype (pandas 3's default ``str``; ``string`` in pandas 2)
are factors exactly like object-typed text: same tables from regression and cox.

Plans never produce them (validation and derivations keep text as object), but Python API users
and pandas 3's ``read_csv`` do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import cox, regression
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute

N = 40


def frame(text_dtype) -> pd.DataFrame:
    rng = np.random.default_rng(18)
    arm = np.array(["ketamine", "placebo", "midazolam", "placebo"] * (N // 4), dtype=object)
    score = rng.normal(20, 4, N) - 3 * (arm == "ketamine")
    time = rng.exponential(30, N) * np.where(arm == "ketamine", 1.8, 1.0)
    return pd.DataFrame({"pid": [f"p{i:02d}" for i in range(N)],
                         "arm": pd.Series(arm, dtype=text_dtype),
                         "score": score, "time": np.ceil(time),
                         "event": pd.array(rng.random(N) < 0.7, dtype="boolean")},
                        index=pd.RangeIndex(1, N + 1))


@pytest.mark.parametrize("text_dtype", ["string", pd.StringDtype(na_value=np.nan)])
def test_regression_and_cox_treat_string_dtype_text_as_factors(text_dtype):
    tables = {}
    for dtype in (object, text_dtype):
        data = frame(dtype)
        ctx = lambda: AnalysisInput("a", "t", data, "pid", ["pid"])  # noqa: E731
        ols = execute(regression, regression.Spec.model_validate(
            {"id": "r", "type": "regression", "table": "t", "formula": "score ~ arm"}), ctx())
        ph = execute(cox, cox.Spec(id="c", type="cox", table="t", covariates="arm"), ctx())
        assert ols.status == "ok" and ph.status == "ok", (ols.issues, ph.issues)
        tables[str(dtype)] = (ols.tidy, ph.tidy)
    (ols_object, cox_object), (ols_text, cox_text) = tables.values()
    assert "arm[T.placebo]" in set(ols_object["term"])
    pd.testing.assert_frame_equal(ols_text, ols_object)
    pd.testing.assert_frame_equal(cox_text, cox_object)
