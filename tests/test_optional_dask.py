"""`ketastats[dask]` is optional: without dask / distributed, a plan's `engine: dask` or
`--engine dask` exits 2 before anything runs, naming the command that installs it.

The missing module is simulated in a subprocess (``sys.modules[name] = None`` makes
``import name`` fail and ``importlib.util.find_spec(name)`` return None), so the test runs the same
whether or not dask is installed here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "analysis_plans" / "siegel2021.yaml"

WITHOUT_DASK = textwrap.dedent("""
    import sys
    for name in ("dask", "distributed"):
        sys.modules[name] = None          # "not installed"
    from ketastats.cli.app import main
    sys.argv = ["ketastats", *sys.argv[1:]]
    main()
""")


def _run_without_dask(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_DASK, *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_engine_option_without_dask_exits_2_and_names_the_extra(tmp_path):
    out = tmp_path / "report"
    done = _run_without_dask("run", str(PLAN), "--out", str(out), "--engine", "dask", "--quiet")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, text
    assert 'pip install "ketastats[dask]"' in text
    assert "connectome_sgacc_seed" in text and "--engine dask" in text and "missing-optional-dependency" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_plan_engine_without_dask_exits_2_and_points_at_the_line(project):
    plan = project / "analysis_plans" / "siegel2021.yaml"
    text = plan.read_text(encoding="utf-8")
    anchor = "    outcome_column: edge\n"
    assert anchor in text
    plan.write_text(text.replace(anchor, anchor + "    engine: dask\n", 1), encoding="utf-8")
    line = plan.read_text(encoding="utf-8").splitlines().index("    engine: dask") + 1
    out = project / "out"
    done = _run_without_dask("run", str(plan), "--out", str(out), "--quiet")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, text
    assert 'pip install "ketastats[dask]"' in text and "engine: dask" in text
    assert f":{line}" in text
    assert not out.exists()


def test_local_engine_does_not_need_dask():
    """The default engine never imports dask: `validate` (and `run` of a local plan) work without it."""
    done = _run_without_dask("validate", str(PLAN), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True


def test_dask_missing_is_found_without_importing_it(monkeypatch):
    from ketastats import engines

    monkeypatch.setitem(sys.modules, "distributed", None)
    assert engines.dask_available() is False
    try:
        engines.map_tasks(pow, [(2, 3)], engine="dask")
    except ImportError as exc:
        assert 'pip install "ketastats[dask]"' in str(exc)
    else:
        raise AssertionError("map_tasks(engine='dask') ran without distributed")
    assert engines.map_tasks(pow, [(2, 3)], engine="local") == [8]
