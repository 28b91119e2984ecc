"""Multiplicity adjustments: the public function behind plan families and post-hoc tests.

Example
-------
>>> from ketastats.multiplicity import adjust
>>> adjust([0.028, 0.003, 0.001], "bonferroni").round(3).tolist()
[0.084, 0.009, 0.003]
"""

from __future__ import annotations

import numpy as np

from ketastats.stats.p_adjust import METHODS, adjust_p

__all__ = ["adjust", "METHODS"]


def adjust(p_values, method: str) -> np.ndarray:
    """Adjusted p-values in input order, as R's ``p.adjust``.

    Methods: bonferroni, holm, hochberg, hommel, fdr_bh, fdr_by, fixed_sequence (the given
    order is the testing order). Missing p-values stay missing and do not count towards m.
    """
    return adjust_p(p_values, method)
