"""ketastats: prespecified statistical analysis of ketamine / treatment-resistant-depression trials.

Public API::

    import ketastats
    result = ketastats.run_plan("analysis_plans/siegel2021.yaml")
    result.tables["madrs_by_visit"]

Heavy libraries are imported where they are used, so ``import ketastats`` stays light.
"""

from __future__ import annotations

from ketastats.version import __version__

__all__ = ["run_plan", "validate_plan", "load_plan", "__version__"]


def __getattr__(name: str):
    if name in ("run_plan", "validate_plan"):
        from ketastats import api

        return getattr(api, name)
    if name == "load_plan":
        from ketastats.plan import load_plan

        return load_plan
    raise AttributeError(f"module 'ketastats' has no attribute {name!r}")
