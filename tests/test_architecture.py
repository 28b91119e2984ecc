"""The architecture's rules, enforced (docs/architecture.md).

- the layer contract in pyproject.toml ([tool.importlinter]) holds: each part of ketastats
  imports only the parts below it (function-level imports included);
- no registered analysis module imports another, directly or through a chain, and no figure
  module imports another (the lists come from the registries, so a new type needs no entry here);
- docstrings and comments are at least 35 % of the non-blank lines of analyses/ and stats/
  (shared/DESIGN.md), and every analysis's ``run`` has a docstring.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ketastats"
DOC_SHARE = 0.35


def test_import_contracts_hold():
    pytest.importorskip("importlinter")
    command = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(command), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, \
        "an import contract is broken (pyproject.toml [tool.importlinter]):\n" + done.stdout[-3000:]


@pytest.mark.parametrize("registry", ["ketastats.analyses", "ketastats.figures"])
def test_registered_modules_do_not_import_each_other(registry):
    grimp = pytest.importorskip("grimp")
    import importlib

    graph = grimp.build_graph("ketastats")
    modules = [module.__name__ for module in importlib.import_module(registry).REGISTRY]
    chains = [graph.find_shortest_chain(importer=a, imported=b) for a in modules for b in modules if a != b]
    found = [" -> ".join(chain) for chain in chains if chain]
    assert not found, "shared code belongs in base.py or a private _module, not in a sibling: " + "; ".join(found)


def _documented_share(path: Path) -> tuple[int, int]:
    source = path.read_text(encoding="utf-8")
    nonblank = {number for number, line in enumerate(source.splitlines(), 1) if line.strip()}
    documented: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                documented |= set(range(first.lineno, first.end_lineno + 1))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            documented.add(token.start[0])
    return len(documented & nonblank), len(nonblank)


@pytest.mark.parametrize("part", ["analyses", "stats"])
def test_docstrings_and_comments_are_a_third_of_the_code(part):
    counts = [_documented_share(path) for path in (PACKAGE / part).rglob("*.py")]
    share = sum(c[0] for c in counts) / sum(c[1] for c in counts)
    assert share >= DOC_SHARE, f"ketastats/{part}: docstrings + comments are {share:.1%} of non-blank lines " \
                               f"(at least {DOC_SHARE:.0%})"


def test_every_analysis_run_has_a_docstring():
    from ketastats.analyses import REGISTRY

    missing = [module.__name__ for module in REGISTRY if not (module.run.__doc__ or "").strip()]
    assert not missing, f"run() without a docstring: {missing}"
