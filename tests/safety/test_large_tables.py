"""Large tables: validation stays linear (a repeated key in every row is reported quickly and capped)
and reports progress on stderr — only for large tables when stderr is not a terminal, and never
into stdout or the tables. The 1,000,000-row figures are in benchmarks/bench_validate_large.py
and docs/safety.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from ketastats.data.dictionary import Dictionary
from ketastats.data.validate import LARGE_TABLE_ROWS, MAX_ISSUES_PER_RULE, validate_table

DICTIONARY = Dictionary.model_validate({"table": "clinical", "key": ["pid", "visit"], "columns": {
    "pid": {"type": "string"}, "visit": {"type": "category", "levels": ["baseline", "week2"]},
    "madrs": {"type": "integer", "min": 0, "max": 60}}})


def test_a_key_repeated_in_every_row_is_reported_quickly_and_capped():
    n = 200_000  # pandera's own duplicate report took about a minute here (quadratic)
    frame = pd.DataFrame({"pid": ["P1"] * n, "visit": ["baseline"] * n, "madrs": ["75"] * n},
                         index=pd.RangeIndex(1, n + 1, name="row"))
    start = time.perf_counter()
    _typed, issues = validate_table(frame, DICTIONARY, "clinical.csv")
    assert time.perf_counter() - start < 30
    duplicates = [i for i in issues if i.code == "duplicate-key"]
    assert len(duplicates) == MAX_ISSUES_PER_RULE + 1
    assert duplicates[0].message.endswith(f"{n - MAX_ISSUES_PER_RULE} more rows repeat a key")
    assert len([i for i in issues if i.code == "out-of-range"]) == MAX_ISSUES_PER_RULE + 1


def test_progress_only_for_large_tables():
    messages: list[str] = []
    small = pd.DataFrame({"pid": ["P1"], "visit": ["baseline"], "madrs": ["10"]}, index=[1])
    validate_table(small, DICTIONARY, "clinical.csv", messages.append)
    assert messages == []
    n = LARGE_TABLE_ROWS
    large = pd.DataFrame({"pid": [f"P{i}" for i in range(n)], "visit": ["baseline"] * n, "madrs": ["10"] * n},
                         index=pd.RangeIndex(1, n + 1, name="row"))
    validate_table(large, DICTIONARY, "clinical.csv", messages.append)
    assert messages and all(m.startswith(f"validating clinical: {n:,} rows") for m in messages)


def test_cli_prints_progress_lines_on_stderr_only(tmp_path):
    n = LARGE_TABLE_ROWS
    (tmp_path / "ketastats.toml").write_text("")
    pd.DataFrame({"pid": [f"P{i}" for i in range(n // 2) for _ in range(2)],
                  "visit": ["baseline", "week2"] * (n // 2),
                  "madrs": np.arange(n) % 61}).to_csv(tmp_path / "clinical.csv", index=False)
    (tmp_path / "clinical.yaml").write_text(
        "table: clinical\nkey: [pid, visit]\ncolumns:\n  pid: {type: string}\n"
        "  visit: {type: category, levels: [baseline, week2]}\n  madrs: {type: integer, min: 0, max: 60}\n")
    (tmp_path / "plan.yaml").write_text(
        "ketastats: 1\nid: large\ntitle: large\nsubject: pid\ndata:\n"
        "  clinical: {source: clinical.csv, dictionary: clinical.yaml}\n"
        "analyses:\n  - {id: d, type: descriptives, table: clinical, outcome: madrs}\n")
    done = subprocess.run([sys.executable, "-m", "ketastats", "validate", "plan.yaml", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["valid"], document["issues"]) == (True, [])
    assert {stage["status"] for stage in document["stages"]} == {"passed"}
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith(f"validating clinical: {n:,} rows") for line in lines), done.stderr
