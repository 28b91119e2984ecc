"""The bad-input corpus: every case through the command line, with its exact code and location.

Each folder under ``cases/`` is a small self-contained project (plan, dictionaries, CSV files and
a ``ketastats.toml`` marking the project root); ``cases.yaml`` lists what each must give. A case
is copied to a temporary folder and run as a user would run it — ``python -m ketastats validate
plan.yaml --format json`` or ``python -m ketastats run plan.yaml -q`` — in a subprocess, so a
traceback or an unexpected exit code is seen exactly as a user would see it. The subprocesses
run in parallel once per session; each parametrised test then checks its own case.

``python tests/bad_inputs/list_cases.py`` writes docs/bad_inputs.md: the corpus as a table (case,
exit code, the exact message each case gets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
PAYLOAD = "pwned.txt"  # what the code-injection cases would create if anything were evaluated


def run_case(case: dict, root: Path) -> dict:
    """Copy the case to ``root`` and run it; returns exit code, issues, stderr and the output folder."""
    project = root / case["case"] / "project"
    shutil.copytree(HERE / "cases" / case["case"], project, symlinks=True)
    for name, target in (case.get("symlinks") or {}).items():
        (project / target).parent.mkdir(parents=True, exist_ok=True)
        outside = (project / target).resolve()
        outside.write_text((project / "people.csv").read_text(encoding="utf-8"), encoding="utf-8")
        (project / name).unlink(missing_ok=True)
        os.symlink(target, project / name)
    command = case.get("command", "validate")
    args = ["validate", "plan.yaml", "--format", "json"] if command == "validate" else ["run", "plan.yaml", "-q"]
    done = subprocess.run([sys.executable, "-m", "ketastats", *args], cwd=project, capture_output=True, text=True,
                          timeout=300)
    issues = []
    if command == "validate" and done.stdout.strip():
        issues = json.loads(done.stdout)["issues"]
    return {"exit": done.returncode, "issues": issues, "stderr": done.stderr, "stdout": done.stdout,
            "project": project, "root": root / case["case"]}


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("bad_inputs")
    with ThreadPoolExecutor(max_workers=max(2, min(8, (os.cpu_count() or 2) * 2))) as pool:
        results = pool.map(lambda case: (case["case"], run_case(case, root)), CASES)
        return dict(results)


def _matches(location: dict, expected: dict) -> bool:
    return all(location.get(key) == value for key, value in expected.items())


def _location_text(expected: dict) -> str:
    from ketastats.errors import Location

    return str(Location(**expected))


def test_the_corpus_is_complete():
    names = [case["case"] for case in CASES]
    assert len(names) == len(set(names)) >= 40
    assert sorted(names) == sorted(p.name for p in (HERE / "cases").iterdir() if p.is_dir())
    for case in CASES:
        assert case["exit"] in (0, 1, 2)
        assert case["exit"] == 0 or "code" in case, case["case"]


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_case(case, outcomes):
    outcome = outcomes[case["case"]]
    stderr = outcome["stderr"]
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert outcome["exit"] == case["exit"], stderr or outcome["stdout"]
    assert not list(outcome["root"].rglob(PAYLOAD)), "a payload in the plan was executed"
    output = outcome["project"] / "out"
    if case["exit"] == 2:
        assert not output.exists(), "an invalid plan wrote output"
        if case.get("command", "validate") == "validate":
            found = [i for i in outcome["issues"] if i["code"] == case["code"]
                     and _matches(i["location"], case["location"])]
            assert found, json.dumps(outcome["issues"], indent=1)
            if "hint" in case:
                assert any(i.get("hint") == case["hint"] for i in found), found
        else:  # `run` prints one issue a line: "<location>: <message> (<code>)"
            prefix = _location_text(case["location"]) + ":"
            assert any(line.strip().startswith(prefix) and f"({case['code']})" in line
                       for line in stderr.splitlines()), stderr
        return
    if case.get("command") != "run":
        return
    document = json.loads((output / "results.json").read_text(encoding="utf-8"))
    status = {a["id"]: a for a in document["analyses"]}
    assert (output / "report.html").is_file()
    if "analysis" in case:
        analysis = status[case["analysis"]]
        assert case["code"] in [i["code"] for i in analysis["issues"]], analysis["issues"]
        assert analysis["status"] == ("failed" if case["exit"] == 1 else "ok")
        others = [a for name, a in status.items() if name != case["analysis"]]
        assert others and all(a["status"] == "ok" for a in others)
        assert all((output / "tables" / f"{a['id']}.csv").is_file() for a in others)
        if case["exit"] == 1:
            assert document["failed"] == [case["analysis"]]
            assert not (output / "tables" / f"{case['analysis']}.csv").exists()
            html = (output / "report.html").read_text(encoding="utf-8")
            assert "failed" in html and case["code"] in html
    else:
        assert all(a["status"] == "ok" for a in status.values())


def main() -> None:  # pragma: no cover - prints the table quoted in docs/safety.md
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda case: (case, run_case(case, Path(folder))), CASES))
        print("| case | what | exit | code | location | message |")
        print("| --- | --- | --- | --- | --- | --- |")
        for case, outcome in results:
            message = ""
            if outcome["issues"]:
                issue = next((i for i in outcome["issues"] if i["code"] == case.get("code")), outcome["issues"][0])
                message = issue["message"] + (f". {issue['hint']}" if issue.get("hint") else "")
            elif case.get("code"):
                line = next((ln for ln in outcome["stderr"].splitlines() if f"({case['code']})" in ln), "")
                message = line.strip()
                if "analysis" in case:
                    results_json = outcome["project"] / "out" / "results.json"
                    document = json.loads(results_json.read_text(encoding="utf-8"))
                    analysis = next(a for a in document["analyses"] if a["id"] == case["analysis"])
                    message = next(i["message"] for i in analysis["issues"] if i["code"] == case["code"])
            where = _location_text(case["location"]) if "location" in case else case.get("analysis", "")
            cells = [case["case"], case.get("about", ""), str(outcome["exit"]), case.get("code", ""), where,
                     message.replace("|", "\\|")]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":  # pragma: no cover
    main()
