"""Rejection sampling of a synthetic design, shared by the simulators.

A simulator's draw raises :class:`DesignRejected` when a draw misses a design check (e.g. a
calibration target); :func:`redraw` calls it again, with the same generator, until it passes.

>>> import numpy as np
>>> def draw(rng):
...     value = rng.integers(10)
...     if value < 5:
...         raise DesignRejected
...     return int(value)
>>> redraw(draw, np.random.default_rng(1), attempts=50) >= 5
True
"""

from __future__ import annotations

from typing import Any, Callable


class DesignRejected(Exception):
    """Raised when a random draw cannot satisfy the design; it is redrawn."""


def redraw(draw: Callable[..., Any], *args: Any, attempts: int) -> Any:
    """Call ``draw(*args)`` until it does not raise :class:`DesignRejected` (at most ``attempts`` times)."""
    for _ in range(attempts):
        try:
            return draw(*args)
        except DesignRejected:
            continue
    raise RuntimeError("synthetic design could not be satisfied; check the targets")
