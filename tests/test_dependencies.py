"""Runtime dependencies = what `ketastats/` imports, in both directions (issue 18).

Every third-party top-level module imported anywhere under ``ketastats/`` (found with ``ast``, so
imports inside functions count too) must come from a distribution declared in ``[project]
dependencies`` — or, for the optional Dask engine, in the ``dask`` extra, imported only inside
functions — and every declared runtime dependency must be imported by some module. The
cross-check libraries of the ``crosscheck`` extra must each be imported by some test (otherwise
they do not earn their place there either).
"""

from __future__ import annotations

import ast
import functools
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# import name -> distribution, where they differ (used when the distribution is not installed here)
KNOWN = {"yaml": "pyyaml", "docx": "python-docx", "sklearn": "scikit-learn", "PIL": "pillow",
         "dateutil": "python-dateutil", "great_tables": "great-tables", "distributed": "distributed",
         "dask": "dask", "pyarrow": "pyarrow", "pyreadstat": "pyreadstat", "fontTools": "fonttools"}
# modules that come from an optional extra: import name -> extra
OPTIONAL = {"dask": "dask", "distributed": "dask"}


def _imports(folder: Path) -> dict[str, dict[str, list[str]]]:
    """top-level module -> {"module": [files importing it at module level], "function": [inside a def]}.

    ``pytest.importorskip("name")`` counts as an import of ``name``."""
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inside = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for node in ast.walk(fn)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "importorskip" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names = [node.args[0].value]    # pytest.importorskip("lifelines")
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("ketastats", "__future__"):
                    continue
                where = "function" if id(node) in inside else "module"
                found.setdefault(top, {"module": [], "function": []})[where].append(
                    path.relative_to(ROOT).as_posix())
    return found


@functools.cache
def _installed() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distribution(module: str) -> str:
    if module in KNOWN:
        return canonicalize_name(KNOWN[module])
    installed = _installed().get(module)
    return canonicalize_name(installed[0] if installed else module)


def _declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(text).name) for text in requirements}


IMPORTS = _imports(ROOT / "ketastats")


def test_every_import_of_the_package_is_a_declared_runtime_dependency():
    runtime = _declared(PYPROJECT["project"]["dependencies"])
    missing = {module: _distribution(module) for module in IMPORTS
               if module not in OPTIONAL and _distribution(module) not in runtime}
    assert not missing, f"imported by ketastats/ but not in [project] dependencies: {missing}"


def test_every_declared_runtime_dependency_is_imported():
    imported = {_distribution(module) for module in IMPORTS if module not in OPTIONAL}
    unused = _declared(PYPROJECT["project"]["dependencies"]) - imported
    assert not unused, f"declared runtime dependencies that no module of ketastats/ imports: {sorted(unused)}"


def test_optional_modules_come_from_their_extra_and_are_imported_lazily():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for module, extra in OPTIONAL.items():
        if module not in IMPORTS:
            continue
        provided = set()
        for text in extras[extra]:
            requirement = Requirement(text)
            provided |= {canonicalize_name(requirement.name)} | {canonicalize_name(e) for e in requirement.extras}
        assert _distribution(module) in provided, f"{module} is not provided by the '{extra}' extra"
        assert not IMPORTS[module]["module"], \
            f"{module} (optional, extra '{extra}') is imported at module level in {IMPORTS[module]['module']}"
    assert set(extras["dask"]) and all(Requirement(t).name == "dask" for t in extras["dask"])


def test_the_test_extra_holds_the_optional_engine_and_the_cross_checks():
    """The README's `pip install -e ".[test]"` must give everything the suite exercises."""
    test = [Requirement(text) for text in PYPROJECT["project"]["optional-dependencies"]["test"]]
    self_extras = set().union(*(r.extras for r in test if canonicalize_name(r.name) == "ketastats"))
    assert {"dask", "crosscheck"} <= self_extras


def test_every_cross_check_library_is_used_by_a_test():
    tests = _imports(ROOT / "tests")
    used = {_distribution(module) for module in tests}
    unused = _declared(PYPROJECT["project"]["optional-dependencies"]["crosscheck"]) - used
    assert not unused, f"cross-check libraries that no test imports: {sorted(unused)}"


def test_the_analysis_libraries_are_not_runtime_dependencies():
    runtime = _declared(PYPROJECT["project"]["dependencies"])
    assert not {"pingouin", "lifelines", "seaborn", "scikit-learn", "dask", "distributed"} & runtime
    pandas = [Requirement(t) for t in PYPROJECT["project"]["dependencies"] if Requirement(t).name == "pandas"]
    assert pandas and pandas[0].specifier.contains("3.0.0"), "pandas 3 must be allowed"
