"""Benchmark: ketastats mmrm (us, KR-linear, LS-means by visit) on bench.csv (written by make_data.R); run by run.sh."""

import resource
import time

import pandas as pd

from ketastats.analyses import mmrm
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute

data = pd.read_csv("bench.csv")
data["AVISIT"] = pd.Categorical(data["AVISIT"])
data["ARMCD"] = pd.Categorical(data["ARMCD"], ["PBO", "TRT"])
data.index = range(1, len(data) + 1)
spec = mmrm.Spec.model_validate({"id": "b", "type": "mmrm", "table": "t", "formula": "Y ~ ARMCD * AVISIT",
                                 "visit": "AVISIT", "subject": "USUBJID",
                                 "contrasts": [{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}]})
start, cpu = time.time(), time.process_time()
result = execute(mmrm, spec, AnalysisInput("b", "t", data, "USUBJID", ["USUBJID", "AVISIT"]))
print("ketastats elapsed", time.time() - start, "cpu", time.process_time() - cpu,
      "logLik", result.glance["log_likelihood"], result.glance["optimizer"])
print("peak RSS MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
