"""The provenance manifest: what produced a report.

Plan id and SHA-256 of the plan file, of every input table and dictionary (named as the
plan names them, never by absolute path), ketastats / Python / dependency versions and the
plan's random seed. Nothing time-dependent is recorded, so two runs of the same plan on the
same machine give the same manifest.

Example
-------
``build_manifest(prepared)["inputs"]["clinical"]["sha256"]``
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata

# the runtime dependencies that shape a report's numbers, figures and files (pyproject.toml);
# `ketastats check` notes any that differ from the committed manifest (report/check.py)
PACKAGES = ["numpy", "scipy", "pandas", "statsmodels", "patsy", "pandera", "pydantic", "pyyaml", "matplotlib",
            "great_tables", "python-docx", "pyarrow", "pyreadstat"]


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def software_versions() -> dict[str, str]:
    from ketastats.version import __version__

    versions = {"ketastats": __version__, "python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def build_manifest(prepared) -> dict:
    loaded = prepared.loaded
    plan = prepared.plan
    inputs = {}
    for name, source in plan.data.items():
        raw = prepared.raw[name]
        inputs[name] = {
            "source": source.source,
            "format": raw.format,
            "sha256": raw.sha256,
            "rows": int(len(raw.frame)),
            "dictionary": source.dictionary,
            "dictionary_sha256": _sha256(loaded.base / source.dictionary),
        }
    return {
        "ketastats_manifest": 1,
        "plan": {"id": plan.id, "title": plan.title, "file": loaded.path.name, "sha256": _sha256(loaded.path)},
        "synthetic_data": plan.synthetic_data,
        "inputs": inputs,
        "seeds": {"plan": plan.seed},
        "software": software_versions(),
        "platform": platform.platform(terse=True),
    }
