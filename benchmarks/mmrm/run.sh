#!/bin/sh
# Benchmark: one us + Kenward-Roger(-linear) MMRM on 1,000 subjects x 10 visits (10 % intermittent
# missing), R mmrm (default L-BFGS-B and nlminb) and ketastats, in the same run. From this folder:
#   sh run.sh        (writes bench.csv, not committed)
set -e
Rscript make_data.R
Rscript mmrm_r.R 2>&1 | grep "R mmrm"
/usr/bin/time -v ../../.venv/bin/python ketastats_fit.py 2>&1 | grep -E "ketastats|Maximum resident"
