"""Results must not depend on the machine: BLAS kernels, chosen by CPU type at run time, may round
the same arithmetic differently by a few units in the last place (ulps). Issue 12, item 1: Harrell's
C compared linear-predictor values with an exact ``==``, so two identical covariate rows whose
``x @ beta`` was rounded differently by an AVX-512 kernel were counted as concordant / discordant
instead of tied (lung: C 0.637186 instead of R's 0.637135). Ties are now decided with a relative
tolerance (:func:`ketastats.stats.survival.tie_ranks`).

The command-line test runs the same Cox plan under several OpenBLAS kernels
(``OPENBLAS_CORETYPE``, which selects the kernel a different CPU would get) and requires the same C,
equal to R's ``concordance(fit)``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ketastats.stats.survival import concordance, tie_ranks

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "survival"


def _perturbed(values: np.ndarray, rng: np.random.Generator, ulps: int = 4) -> np.ndarray:
    """Each value moved by up to ``ulps`` units in the last place, up or down (as another BLAS kernel may)."""
    out = values.copy()
    for i in range(len(out)):
        for _ in range(int(rng.integers(0, ulps + 1))):
            out[i] = np.nextafter(out[i], np.inf if rng.random() < 0.5 else -np.inf)
    return out


def test_ties_do_not_depend_on_the_last_bits_of_the_linear_predictor():
    rng = np.random.default_rng(12)
    n = 120
    x = rng.integers(0, 4, size=(n, 2)).astype(float)   # few distinct covariate rows: many exact ties
    lp = (x - x.mean(axis=0)) @ np.array([0.31, -0.27])
    time = rng.integers(1, 40, size=n).astype(float)
    event = rng.random(n) < 0.7
    strata = rng.integers(0, 2, size=n)
    exact = concordance(time, event, lp, strata)
    assert exact["tied_x"] > 0
    for _ in range(5):
        moved = concordance(time, event, _perturbed(lp, rng), strata)
        assert moved == exact
    assert tie_ranks(np.array([1.0, np.nextafter(1.0, 2.0), 1.0 + 1e-6, -0.5])).tolist() == [1, 1, 2, 0]


def test_zero_linear_predictor_is_all_ties():
    c = concordance([1.0, 2.0, 3.0], [1, 1, 0], np.zeros(3) + 1e-18 * np.arange(3), scale=1.0)
    assert c["concordance"] == 0.5 and c["tied_x"] == 3


def _kernels() -> list[str]:
    kernels = ["", "Prescott", "Haswell"]
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if " avx512f" in flags:
        kernels.append("SkylakeX")   # the kernel that rounded identical rows apart (issue 12)
    return kernels


def _project(folder: Path) -> Path:
    """A project with R's ketamine_relapse data and a Cox model of arm + madrs_baseline (Efron)."""
    folder.mkdir()
    (folder / "ketastats.toml").write_text("")
    shutil.copy(REFERENCE / "ketamine_relapse.csv", folder / "relapse.csv")
    (folder / "relapse.yaml").write_text(
        "table: relapse\nkey: [participant_id]\ncolumns:\n"
        "  participant_id: {type: string}\n  time: {type: number, min: 0}\n  event: {type: boolean}\n"
        "  arm: {type: category, levels: [placebo, ketamine]}\n  madrs_baseline: {type: number}\n")
    (folder / "plan.yaml").write_text(
        "ketastats: 1\nid: blas_ties\ntitle: Concordance on any machine (synthetic)\nsynthetic_data: true\n"
        "subject: participant_id\noutput: out\n"
        "data:\n  relapse: {source: relapse.csv, dictionary: relapse.yaml}\n"
        "analyses:\n  - {id: relapse_cox, type: cox, table: relapse, time: time, event: event,\n"
        "     covariates: [arm, madrs_baseline], ties: efron, ph_test: []}\n")
    return folder / "plan.yaml"


def test_concordance_is_the_same_under_every_blas_kernel(tmp_path):
    reference = json.loads((REFERENCE / "survival.json").read_text())
    case = next(c for c in reference["cox"] if c["name"] == "ketamine_arm_madrs_efron")
    assert case["formula"].endswith("arm + madrs_baseline")
    plan = _project(tmp_path / "study")
    found = {}
    for kernel in _kernels():
        env = {**os.environ, "OPENBLAS_CORETYPE": kernel} if kernel else dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None) if not kernel else None
        out = tmp_path / f"out_{kernel or 'default'}"
        done = subprocess.run([sys.executable, "-m", "ketastats", "run", str(plan), "--out", str(out), "-q"],
                              cwd=plan.parent, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        document = json.loads((out / "results.json").read_text())
        tidy = document["analyses"][0]["tidy"]
        c = next(row for row in tidy if row["effect"] == "concordance")
        found[kernel or "default"] = (c["estimate"], c["std_error"])
        with open(out / "tables" / "relapse_cox.csv", newline="") as handle:
            assert any(row["effect"] == "concordance" for row in csv.DictReader(handle))
    estimates = {value[0] for value in found.values()}
    assert len(estimates) == 1, found
    expected = float(case["concordance"]["concordance"])
    assert estimates.pop() == pytest.approx(expected, rel=1e-12), found


def test_constant_data_are_judged_with_a_tolerance_not_exact_zero():
    """Audit of exact float comparisons: the SD of 30.1 repeated is 4e-15, not 0 (the mean is rounded)."""
    from ketastats.stats.correlation import _pearson_r
    from ketastats.stats.two_sample import t_test

    a, b = np.full(6, 30.1), np.full(3, 30.1)
    assert np.std(a, ddof=1) > 0   # the rounding this guards against
    for method in ("welch", "student"):
        with pytest.raises(ValueError, match="essentially constant"):
            t_test(a, b, method)
    assert np.isnan(_pearson_r(np.full(7, 0.1), np.arange(7.0)))
