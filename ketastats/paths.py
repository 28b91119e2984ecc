"""Path safety: a plan reads and writes only inside its project unless the user says otherwise.

*The project* of a plan file is the nearest folder, starting at the plan's own folder and going
up, that holds a ``pyproject.toml``, a ``.git`` or a ``ketastats.toml`` (an empty file is enough
to mark a folder as a project); if none does, it is the plan's folder. Every path a plan names —
each table's ``source`` and ``dictionary`` and the ``output`` folder — must lie inside the
project once ``..`` and symbolic links are resolved; otherwise validation reports a
``path-outside-project`` plan error at the key's line, and nothing is read or written.
``ketastats:<dataset>/<file>`` sources (data shipped with the package) are always allowed.

The user may lift the rule for one run with ``--allow-outside-paths`` (``allow_outside=True`` in
:func:`ketastats.api.validate_plan` / :func:`ketastats.api.run_plan`). An output folder given
explicitly on the command line (``--out``) or to ``run_plan(out=...)`` is the user's own choice
and is not checked (the writer still refuses to replace a folder that is not a ketastats report).

Example
-------
>>> from pathlib import Path
>>> root = project_root(Path("analysis_plans/siegel2021.yaml"))    # doctest: +SKIP
>>> outside(Path("../data_dictionary/siegel2021/clinical.yaml"), Path("analysis_plans"), root)  # doctest: +SKIP
False
"""

from __future__ import annotations

import os
from pathlib import Path

MARKERS = ("pyproject.toml", ".git", "ketastats.toml")


def project_root(plan_path: str | Path) -> Path:
    """The project folder of ``plan_path`` (resolved, symbolic links followed)."""
    folder = Path(os.path.realpath(Path(plan_path))).parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in MARKERS):
            return candidate
    return folder


def outside(path: str | Path, base: Path, root: Path) -> bool:
    """Whether ``path`` (relative to ``base`` unless absolute) resolves to a place outside ``root``.

    ``..`` and every symbolic link on the way are resolved, including a link that is the last
    part of the path; a path that does not exist yet is judged by the part that does.
    """
    target = Path(path)
    if not target.is_absolute():
        target = Path(base) / target
    resolved = Path(os.path.realpath(target))
    return not resolved.is_relative_to(Path(os.path.realpath(root)))
