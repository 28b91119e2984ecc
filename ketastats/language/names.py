"""What a spec's name-resolution hook may ask of the resolver (``ketastats.plan.resolve``).

Specs (analyses, derivations, figures) check the names they use in their own hooks, through this
small interface, so the resolver needs no knowledge of any spec type and specs need not import
the plan. Every method records a located issue and returns ``None`` / ``False`` on a bad name.

Example
-------
``names.column("clinical", "madrs", ("analyses", 3, "outcome"))`` returns the dictionary's
:class:`~ketastats.data.dictionary.Column` or records ``unknown-column`` at that YAML path.
"""

from __future__ import annotations

from typing import Any, Protocol

PathKey = tuple
"""A YAML path, e.g. ``("analyses", 3, "within")``."""


class NameResolver(Protocol):
    """The resolver as specs see it (implemented by ``ketastats.plan.resolve``)."""

    subject: str
    """The plan's subject column."""
    catalog: Any
    """The :class:`~ketastats.plan.resolve.Catalog`: columns per table, keys, parsed rules."""

    def add(self, code: str, message: str, path: PathKey, hint: str | None = None) -> None:
        """Record an error at ``path``."""

    def table(self, name: str, path: PathKey) -> bool:
        """True if ``name`` is a table (declared or derived above), else ``unknown-table``."""

    def column(self, table: str, name: str, path: PathKey, position: int | None = None) -> Any:
        """The column's dictionary entry, or ``None`` (``unknown-column`` / ``forward-reference``)."""

    def level(self, table: str, column: str, value: Any, path: PathKey) -> None:
        """Check that ``value`` is a level of a category column."""

    def selector(self, table: str, selector: dict, path: PathKey, position: int) -> None:
        """Check a row selector such as ``{visit: baseline}``: its columns and levels."""

    def expression(self, text: str, table: str, path: PathKey, position: int | None = None) -> Any:
        """Parse and check a rule; the parsed rule is kept in the catalog under ``path``."""

    def new_column(self, table: str, name: str, spec: Any, path: PathKey) -> None:
        """Add a derived column to ``table`` (``duplicate-column`` if it exists)."""
