"""Model predictors as factors, shared by mixed_model and mass_mixed_model.

Text, category and boolean predictors become pandas Categoricals whose first level is the
declared ``reference`` (else the first level in dictionary order, as R's ``factor``), so the
treatment-coded design matrix names its columns as lme4 does (``arm[T.ketamine]``).

Example
-------
>>> import pandas as pd
>>> from ketastats.language.formulas import parse_formula
>>> data = prepare_factors(pd.DataFrame({"y": [1.0, 2.0], "arm": ["placebo", "ketamine"]}),
...                        parse_formula("y ~ arm"), {"arm": "placebo"}, None)
>>> list(data["arm"].cat.categories)
['placebo', 'ketamine']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ketastats.errors import AnalysisError, Issue, Location

if TYPE_CHECKING:
    from ketastats.analyses.base import AnalysisInput


def prepare_factors(data: pd.DataFrame, formula, reference: dict, ctx: AnalysisInput) -> pd.DataFrame:
    """Categorical and boolean predictors become Categoricals with the reference level first.

    Levels: a category column keeps its observed categories in category order, text its values
    in text order, a boolean always ``[False, True]`` (false is the reference, so the dummy is
    ``x[T.True]``, as R codes a logical). ``reference`` moves one level first; it is matched
    by exact text (``"True"`` for a boolean) and fails with ``reference-level-absent`` when no
    analysed row has it. Numeric predictors and the response are left as they are.
    """
    data = data.copy()
    for name in formula.names:
        if name == formula.response:
            continue
        column = data[name]
        if str(column.dtype) == "boolean" or column.dtype == bool:
            levels = [False, True]
            data[name] = pd.Categorical(column.astype(bool), categories=levels)
        elif isinstance(column.dtype, (pd.CategoricalDtype, pd.StringDtype)) or column.dtype == object:
            if isinstance(column.dtype, pd.CategoricalDtype):
                levels = [lvl for lvl in column.cat.categories if (column == lvl).any()]
            else:
                levels = sorted(column.dropna().astype(str).unique())
            data[name] = pd.Categorical(column.astype(object), categories=levels)
        else:
            continue
        if name in reference:
            wanted = reference[name]
            match = [lvl for lvl in data[name].cat.categories if str(lvl) == str(wanted)]
            if not match:
                raise AnalysisError(Issue("reference-level-absent", f"reference level '{wanted}' of '{name}' "
                                          "does not occur in the analysed rows", Location(column=name)))
            categories = match + [lvl for lvl in data[name].cat.categories if lvl != match[0]]
            data[name] = data[name].cat.reorder_categories(categories)
    return data
