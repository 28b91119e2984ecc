"""Hypothesis profiles for the fuzzers.

``ci`` (the default) keeps every fuzzer to a bounded number of examples so that the whole
``tests/fuzz`` folder runs in well under two minutes on two cores; ``long`` runs many more
examples and is chosen with ``KETASTATS_FUZZ=long`` (see docs/safety.md)::

    KETASTATS_FUZZ=long python -m pytest tests/fuzz -q

Failing examples found by a run are kept in Hypothesis' example database only for that
checkout; a real bug found by a fuzzer is fixed in the code and its input added to the test
as an explicit ``@example`` (or as a bad-input corpus case), so CI replays it every time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=60, derandomize=True, database=None, **_COMMON)
settings.register_profile("long", max_examples=3000, **_COMMON)
settings.load_profile(os.environ.get("KETASTATS_FUZZ", "ci"))
