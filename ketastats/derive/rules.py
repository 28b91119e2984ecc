"""Rule-based columns: flags such as ``madrs_pct_change <= -50`` and values such as ``hippocampus_r / icv``.

The rule has been parsed and checked by :mod:`ketastats.plan.expressions` at plan validation;
here it is evaluated by that module's interpreter (never by Python's ``eval``).

Example
-------
>>> import pandas as pd
>>> from ketastats.plan.expressions import parse_expression
>>> rule_column(pd.DataFrame({"madrs": [8, 12]}), parse_expression("madrs < 10")).tolist()
[True, False]
"""

from __future__ import annotations

import pandas as pd

from ketastats.plan.expressions import Expression


def rule_column(frame: pd.DataFrame, expression: Expression) -> pd.Series:
    return expression.evaluate(frame)
