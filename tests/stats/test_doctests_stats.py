"""The ``>>>`` examples of ketastats.stats run and pass, and every kernel module has one.

The examples quote R's numbers (``# R: ...``), so they double as small reference checks; this
test keeps them running with plain ``pytest tests`` (the same as
``pytest --doctest-modules ketastats/stats``).
"""

import doctest
import importlib
import pkgutil

import pytest

import ketastats.stats

MODULES = sorted(info.name for info in pkgutil.iter_modules(ketastats.stats.__path__)
                 if not info.name.startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_examples_pass(name):
    module = importlib.import_module(f"ketastats.stats.{name}")
    result = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert result.attempted > 0, f"ketastats.stats.{name} has no runnable example"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in ketastats.stats.{name}"
