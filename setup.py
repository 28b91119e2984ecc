"""Build hook: ship the R reference values with the package, for ``ketastats qualify``.

Everything else about the build is declared in ``pyproject.toml``. The single copy of the R
reference values is ``tests/reference/`` (the test suite reads it there); a wheel carries it
unchanged as ``ketastats/qualify/reference/``, and the plans whose runs the references check
(``analysis_plans/`` siegel2021, ketamine_placebo_rct, ketamine_vs_ect) with their data
dictionaries as ``ketastats/qualify/project/``. An editable install copies nothing: it reads the
repository (``ketastats/qualify/sources.py``). ``MANIFEST.in`` puts the same files in the sdist.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PLANS = ["siegel2021", "ketamine_placebo_rct", "ketamine_vs_ect"]


def _ignore(folder, names):
    return [name for name in names if name == "__pycache__" or name.endswith((".pyc", ".pyo"))]


class BuildWithReference(build_py):
    """build_py, then copy the reference folder and the qualification plans into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "ketastats" / "qualify"
        reference = ROOT / "tests" / "reference"
        if not (reference / "tolerances.py").is_file():
            raise SystemExit("tests/reference is missing: ketastats qualify needs the R reference values to build")
        shutil.rmtree(target / "reference", ignore_errors=True)
        shutil.copytree(reference, target / "reference", ignore=_ignore)
        project = target / "project"
        shutil.rmtree(project, ignore_errors=True)
        (project / "analysis_plans").mkdir(parents=True)
        (project / "ketastats.toml").write_text("")   # the plans' project root (ketastats.paths)
        for plan in PLANS:
            shutil.copy2(ROOT / "analysis_plans" / f"{plan}.yaml", project / "analysis_plans" / f"{plan}.yaml")
            shutil.copytree(ROOT / "data_dictionary" / plan, project / "data_dictionary" / plan, ignore=_ignore)


setup(cmdclass={"build_py": BuildWithReference})
