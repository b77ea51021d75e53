"""The Examples in the package's docstrings run, and show what they say they show.

Each module of the package (``bayesreg.*`` and ``bayesreg.models.*``, imported by its package name)
goes through `doctest` with ELLIPSIS and NORMALIZE_WHITESPACE; float64 is on inside each module's
run, as the functions that compare numbers to 1e-6 switch it on themselves.
"""

import doctest
import importlib
import pkgutil

import jax
import pytest

import bayesreg
import bayesreg.models


def _modules() -> list[str]:
    names = []
    for package in (bayesreg, bayesreg.models):
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    with jax.enable_x64(True):
        result = doctest.testmod(module, optionflags=flags, report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
