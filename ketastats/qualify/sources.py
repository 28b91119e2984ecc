"""Where the qualification suite's inputs are: R reference folders, tolerances, the Siegel replica plan.

The single copy of the R reference values is ``tests/reference/<folder>/`` in the repository (the
files the test suite reads). A wheel built from the repository carries that folder *unchanged* as
``ketastats/qualify/reference/`` (``setup.py`` copies it at build time; ``MANIFEST.in`` puts it in
the sdist), with the Siegel replica plan and its dictionaries as ``ketastats/qualify/project/``.
In a checkout (editable install) nothing is copied: the same files are read from the repository.
So there is one copy to maintain, and the installed package qualifies itself without a checkout.

``reference_sha256.json`` (next to this module) holds the SHA-256 of every file of the qualified
reference folders as committed; ``ketastats qualify`` fails when a file differs from it (a changed R value) and
``tests/qualify`` fails when the repository's files and the hashes disagree (regenerate the hashes
with ``python -m ketastats.qualify`` after re-running an R script, and say why in the commit).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
HASHES = HERE / "reference_sha256.json"
SKIPPED_PARTS = {"__pycache__"}


def _repository() -> Path | None:
    root = HERE.parents[1]
    return root if (root / "tests" / "reference" / "tolerances.py").is_file() else None


def reference_root() -> Path:
    """The folder holding ``tolerances.py`` and one sub-folder per R reference (installed or in the repo)."""
    packaged = HERE / "reference"
    if (packaged / "tolerances.py").is_file():
        return packaged
    repository = _repository()
    if repository is not None:
        return repository / "tests" / "reference"
    raise FileNotFoundError("the R reference values are not installed with ketastats (ketastats/qualify/reference "
                            "is missing): reinstall ketastats from a wheel or the source tree")


def project_root() -> Path:
    """The folder holding ``analysis_plans/siegel2021.yaml`` and ``data_dictionary/siegel2021/``."""
    packaged = HERE / "project"
    if (packaged / "analysis_plans" / "siegel2021.yaml").is_file():
        return packaged
    repository = _repository()
    if repository is not None:
        return repository
    raise FileNotFoundError("the Siegel replica plan is not installed with ketastats (ketastats/qualify/project)")


def reference_files(root: Path | None = None) -> list[str]:
    """Every file of the reference folder, as sorted POSIX paths relative to it."""
    root = root or reference_root()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(root).parts) and p.suffix != ".pyc")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def current_hashes(root: Path | None = None, folders: set[str] | None = None) -> dict[str, str]:
    """SHA-256 of every file in ``folders`` (of every file when ``None``).

    ``tolerances.py`` is not recorded: its values are checked against their documented bounds
    (``TOLERANCE_BOUNDS``), so adding a tolerance or editing a comment does not fail qualification;
    nor are the folders' READMEs (prose): the R values, the data and the R scripts are.
    """
    root = root or reference_root()
    return {name: sha256(root / name) for name in reference_files(root)
            if (folders is None or name.split("/")[0] in folders) and not name.endswith(".md")}


def recorded_hashes() -> dict[str, str]:
    """The SHA-256 of each reference file as committed (``reference_sha256.json``)."""
    return json.loads(HASHES.read_text(encoding="utf-8"))["files"]


def tracked_files(root: Path) -> set[str] | None:
    """The files of ``root`` that git tracks (relative POSIX paths), or ``None`` outside a git checkout."""
    import subprocess

    try:
        done = subprocess.run(["git", "ls-files", "-z", "."], cwd=root, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return {name for name in done.stdout.split("\0") if name}


def write_hashes(folders: set[str], root: Path | None = None) -> Path:
    """Record the SHA-256 of the files of the qualified ``folders`` (after re-running an R script).

    In a git checkout only tracked files are recorded: work in progress (untracked files) is not.
    """
    root = root or reference_root()
    hashes = current_hashes(root, folders)
    tracked = tracked_files(root)
    if tracked is not None:
        hashes = {name: value for name, value in hashes.items() if name in tracked}
    document = {"note": "SHA-256 of every file of the reference folders ketastats qualify checks (tests/reference/, "
                        "shipped as ketastats/qualify/reference/); regenerate with: python -m ketastats.qualify",
                "files": hashes}
    HASHES.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return HASHES


def load_module(name: str, path: Path) -> ModuleType:
    """Import a file of the reference folder (``tolerances.py``, ``lmm_designs/load.py``) by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=4)
def tolerances(root: Path | None = None) -> ModuleType:
    """``tolerances.py`` of the reference folder: the tolerances the test suite uses."""
    root = root or reference_root()
    return load_module("ketastats_qualify_tolerances", root / "tolerances.py")


def read_json(folder: str, name: str, root: Path | None = None):
    return json.loads(((root or reference_root()) / folder / name).read_text(encoding="utf-8"))
