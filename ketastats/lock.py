"""Prespecification you can prove: the plan's lock file and whether a run matches it.

``ketastats lock PLAN`` writes ``<plan>.lock`` beside the plan (commit it, or time-stamp it, before
unblinding). It records:

* the **canonical form** of the plan: the validated plan model (every default filled in) as JSON
  with sorted keys, and its SHA-256. Reformatting the YAML, reordering keys or editing comments
  does not change it, so none of these is a deviation; the raw file's SHA-256 is kept as well;
* the SHA-256 of every data dictionary, and optionally of the data files the user declares locked
  (blinded data may still change: only the declared inputs are checked);
* the package version and its dependencies' versions, the analysis ids and their full specs, the
  multiplicity families, the date given (``--date``) or the time of locking, and a note.

:func:`compare_with_lock` compares a plan (and its inputs) with its lock, per analysis id: analyses
added or removed, and keys added, removed or changed (dotted paths, with old and new values). The
result is a :class:`PrespecificationStatus`, which ``run`` puts in ``results.json``, the report
and the terminal, and ``check --locked`` turns into an exit code. The date of the lock never
appears in the report's tables (they stay byte-identical).

Example
-------
>>> prepared = validate_plan("analysis_plans/siegel2021.yaml")          # doctest: +SKIP
>>> write_lock(prepared, date="2026-11-30")                            # doctest: +SKIP
>>> compare_with_lock(prepared).matches                                # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ketastats.errors import Issue, Location, PlanError

LOCK_FORMAT = 1
PLAN_SCOPE = "(plan)"
"""The scope of deviations outside the analyses (populations, derivations, families, data, top-level keys)."""


def lock_path(plan_path: str | Path) -> Path:
    """``<plan>.lock`` beside the plan: ``analysis_plans/trial.yaml`` → ``analysis_plans/trial.yaml.lock``."""
    plan_path = Path(plan_path)
    return plan_path.with_name(plan_path.name + ".lock")


def canonical_plan(plan) -> dict:
    """The validated plan as plain JSON values (defaults filled in): what a lock compares."""
    return json.loads(json.dumps(plan.model_dump(mode="json"), sort_keys=True))


def canonical_sha256(plan) -> str:
    """SHA-256 of the canonical plan (sorted-key compact JSON): unchanged by reformatting or comments."""
    text = json.dumps(canonical_plan(plan), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_lock(prepared, date: str | None = None, note: str | None = None,
               data: list[str] | None = None) -> dict:
    """The lock document of a validated plan (:class:`ketastats.api.PreparedPlan`).

    ``data`` names the tables whose data files are locked (their SHA-256 is recorded and later
    checked); ``None`` locks none. ``date`` defaults to the current UTC time.
    """
    from ketastats.report.manifest import software_versions

    loaded, plan = prepared.loaded, prepared.plan
    unknown = sorted(set(data or []) - set(plan.data))
    if unknown:
        raise PlanError(Issue("unknown-table", f"--data names table(s) the plan does not declare: {', '.join(unknown)}",
                              hint=f"Choose among: {', '.join(plan.data)}"))
    canonical = canonical_plan(plan)
    return {
        "ketastats_lock": LOCK_FORMAT,
        "locked_at": date or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "note": note,
        "plan": {"id": plan.id, "file": loaded.path.name, "sha256": _file_sha256(loaded.path),
                 "canonical_sha256": canonical_sha256(plan)},
        "dictionaries": {name: {"file": source.dictionary, "sha256": _file_sha256(loaded.base / source.dictionary)}
                         for name, source in plan.data.items()},
        "data": {name: {"source": plan.data[name].source, "sha256": prepared.raw[name].sha256}
                 for name in (data or [])},
        "software": software_versions(),
        "analyses": {entry["id"]: entry for entry in canonical["analyses"]},
        "families": canonical.get("multiplicity", {}),
        "canonical_plan": canonical,
    }


def lock_text(document: dict) -> str:
    """The lock file's bytes: JSON with sorted keys, one-space indent (deterministic, diff-friendly)."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write_lock(prepared, date: str | None = None, note: str | None = None, data: list[str] | None = None) -> Path:
    """Write ``<plan>.lock`` beside the plan and return its path."""
    target = lock_path(prepared.loaded.path)
    target.write_text(lock_text(build_lock(prepared, date=date, note=note, data=data)), encoding="utf-8")
    return target


def read_lock(path: Path) -> dict:
    """A lock file's document; ``PlanError`` (``bad-lock-file``) when it is not a ketastats lock."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(Issue("bad-lock-file", f"cannot read the lock file {path}: {exc}", Location(file=str(path)),
                              hint="Re-create it with 'ketastats lock PLAN' (or restore the committed copy)")) from None
    if not isinstance(document, dict) or document.get("ketastats_lock") != LOCK_FORMAT \
            or not isinstance(document.get("canonical_plan"), dict):
        raise PlanError(Issue("bad-lock-file", f"{path} is not a ketastats lock file (format {LOCK_FORMAT})",
                              Location(file=str(path)), hint="Re-create it with 'ketastats lock PLAN'"))
    return document


@dataclass(frozen=True)
class Deviation:
    """One difference from the lock: ``kind`` is added | removed | changed; ``key`` a dotted path."""

    scope: str       # an analysis id, or "(plan)" for everything else
    kind: str
    key: str
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        where = f"analysis '{self.scope}'" if self.scope != PLAN_SCOPE else "plan"
        old, new = json.dumps(self.old, sort_keys=True), json.dumps(self.new, sort_keys=True)
        if self.kind == "added":
            return f"{where}: {self.key} added ({new})"
        if self.kind == "removed":
            return f"{where}: {self.key} removed (was {old})"
        return f"{where}: {self.key} changed from {old} to {new}"

    def to_dict(self) -> dict:
        return {"scope": self.scope, "kind": self.kind, "key": self.key, "old": self.old, "new": self.new}


@dataclass
class PrespecificationStatus:
    """Whether a plan matches its lock: ``state`` is matches | deviates | unlocked."""

    state: str
    lock_file: str | None = None
    locked_at: str | None = None
    note: str | None = None
    plan_sha256: str | None = None            # the plan file's SHA-256 recorded in the lock
    canonical_sha256: str | None = None       # the canonical plan's SHA-256 recorded in the lock
    current_canonical_sha256: str | None = None
    deviations: list[Deviation] = field(default_factory=list)
    require_lock: bool = False
    allowed_deviation: bool = False          # run with --allow-deviation although require_lock

    @property
    def matches(self) -> bool:
        return self.state == "matches"

    def summary(self) -> str:
        """One line for the terminal and the report."""
        if self.state == "unlocked":
            return "not locked: no lock file beside the plan (create one with 'ketastats lock PLAN')"
        sha = (self.canonical_sha256 or "")[:12]
        if self.state == "matches":
            return f"matches the lock of {self.locked_at} (plan sha {sha})"
        return (f"deviates from the prespecified plan: {len(self.deviations)} difference(s) from the lock of "
                f"{self.locked_at} (plan sha {sha})")

    def to_dict(self) -> dict:
        return {"state": self.state, "summary": self.summary(), "lock_file": self.lock_file,
                "locked_at": self.locked_at, "note": self.note, "plan_sha256": self.plan_sha256,
                "canonical_sha256": self.canonical_sha256,
                "current_canonical_sha256": self.current_canonical_sha256,
                "require_lock": self.require_lock, "allowed_deviation": self.allowed_deviation,
                "deviations": [d.to_dict() for d in self.deviations]}


def _diff(old: Any, new: Any, path: str, scope: str, out: list[Deviation]) -> None:
    """Dotted-path differences of two JSON values (lists are compared by position)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Deviation(scope, "removed", child, old=old[key]))
            elif key not in old:
                out.append(Deviation(scope, "added", child, new=new[key]))
            else:
                _diff(old[key], new[key], child, scope, out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and old != new \
            and all(isinstance(item, dict) for item in old + new):
        for index, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, f"{path}[{index}]", scope, out)
        return
    if old != new:
        out.append(Deviation(scope, "changed", path or "(value)", old=old, new=new))


def plan_deviations(locked: dict, current: dict) -> list[Deviation]:
    """Differences between two canonical plans, per analysis id, then the rest of the plan."""
    deviations: list[Deviation] = []
    old_analyses = {a["id"]: a for a in locked.get("analyses", [])}
    new_analyses = {a["id"]: a for a in current.get("analyses", [])}
    for analysis_id, spec in old_analyses.items():
        if analysis_id not in new_analyses:
            deviations.append(Deviation(analysis_id, "removed", "(analysis)", old=spec))
        else:
            _diff(spec, new_analyses[analysis_id], "", analysis_id, deviations)
    for analysis_id, spec in new_analyses.items():
        if analysis_id not in old_analyses:
            deviations.append(Deviation(analysis_id, "added", "(analysis)", new=spec))
    if [a for a in old_analyses if a in new_analyses] != [a for a in new_analyses if a in old_analyses]:
        deviations.append(Deviation(PLAN_SCOPE, "changed", "analyses (order)",
                                    old=list(old_analyses), new=list(new_analyses)))
    rest_old = {k: v for k, v in locked.items() if k != "analyses"}
    rest_new = {k: v for k, v in current.items() if k != "analyses"}
    _diff(rest_old, rest_new, "", PLAN_SCOPE, deviations)
    return deviations


def compare_with_lock(prepared, require_lock: bool | None = None) -> PrespecificationStatus:
    """The prespecification status of a validated plan: its lock file, and what differs from it.

    Compared: the canonical plan, the dictionaries' SHA-256, and the SHA-256 of the data files the
    lock declares locked. Software versions are recorded in the lock but are not deviations.
    """
    loaded, plan = prepared.loaded, prepared.plan
    require = bool(getattr(plan, "require_lock", False)) if require_lock is None else require_lock
    path = lock_path(loaded.path)
    if not path.is_file():
        return PrespecificationStatus("unlocked", require_lock=require)
    lock = read_lock(path)
    current = canonical_plan(plan)
    deviations = plan_deviations(lock["canonical_plan"], current)
    for name, entry in sorted(lock.get("dictionaries", {}).items()):
        if name in plan.data:
            sha = _file_sha256(loaded.base / plan.data[name].dictionary)
            if sha != entry.get("sha256"):
                deviations.append(Deviation(PLAN_SCOPE, "changed", f"dictionary of table '{name}' (sha256)",
                                            old=entry.get("sha256"), new=sha))
    for name, entry in sorted(lock.get("data", {}).items()):
        raw = prepared.raw.get(name)
        data_sha = raw.sha256 if raw is not None else None
        if data_sha != entry.get("sha256"):
            deviations.append(Deviation(PLAN_SCOPE, "changed", f"data of table '{name}' (sha256)",
                                        old=entry.get("sha256"), new=data_sha))
    info = lock.get("plan", {})
    return PrespecificationStatus("deviates" if deviations else "matches", lock_file=path.name,
                                  locked_at=lock.get("locked_at"), note=lock.get("note"),
                                  plan_sha256=info.get("sha256"), canonical_sha256=info.get("canonical_sha256"),
                                  current_canonical_sha256=canonical_sha256(plan), deviations=deviations,
                                  require_lock=require)


def refusal(status: PrespecificationStatus, plan_file: str, location: Location | None = None) -> Issue:
    """The issue of a ``require_lock: true`` plan that is unlocked or deviates (``run`` exits 2)."""
    if status.state == "unlocked":
        message = (f"the plan requires a lock (require_lock: true) but {plan_file}.lock does not exist")
    else:
        shown = "; ".join(str(d) for d in status.deviations[:5])
        more = f" (and {len(status.deviations) - 5} more)" if len(status.deviations) > 5 else ""
        message = (f"the plan deviates from its lock of {status.locked_at} (require_lock: true): {shown}{more}")
    return Issue("plan-not-locked" if status.state == "unlocked" else "plan-deviates-from-lock", message,
                 location or Location(file=plan_file, path="require_lock"),
                 hint="Restore the prespecified plan, re-lock it with 'ketastats lock PLAN' if the change is an "
                      "amendment, or run with --allow-deviation (the report then says it deviates)")


__all__ = ["lock_path", "canonical_plan", "canonical_sha256", "build_lock", "lock_text", "write_lock", "read_lock",
           "Deviation", "PrespecificationStatus", "plan_deviations", "compare_with_lock", "refusal"]
