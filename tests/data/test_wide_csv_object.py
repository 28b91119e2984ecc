"""The wide-CSV reader keeps text cells in object columns under pandas 2 and 3 (pandas 3's
DataFrame constructor would infer one pyarrow ``str`` column per field: a million-column file then
took 2.8 GB and 215 s to validate instead of 0.5 GB and 23 s)."""

from __future__ import annotations

import numpy as np

from ketastats.data.io import WIDE_COLUMNS, _read_wide_csv


def test_wide_csv_columns_are_object():
    n = WIDE_COLUMNS + 5
    cells = (["1", "NA"] * n)[:n]
    text = "pid," + ",".join(f"c{i}" for i in range(n)) + "\np1," + ",".join(cells) + "\n"
    frame = _read_wide_csv(text, ["NA"])
    assert frame is not None and frame.shape == (1, n + 1)
    assert (frame.dtypes == object).all()  # noqa: E721 (numpy dtypes compared with object dtype)
    assert frame.iloc[0, 1] == "1" and np.isnan(frame.iloc[0, 2])
