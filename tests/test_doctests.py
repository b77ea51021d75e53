"""The Examples in the package's docstrings run, and show what they say they show.

Each module of the package (``bayesreg.*`` and ``bayesreg.models.*``, imported by its package name)
goes through `doctest` with ELLIPSIS and NORMALIZE_WHITESPACE; float64 is on inside each module's
run, as the functions that compare numbers to 1e-6 switch it on themselves.

In the modules of `EXAMPLES_REQUIRED`, every function and class named in ``__all__`` has a numpydoc
"Examples" section with at least one example, so a new public name cannot go without one.
"""

import doctest
import importlib
import inspect
import pkgutil
import re

import jax
import pytest

import bayesreg
import bayesreg.models

EXAMPLES_REQUIRED = (
    "bayesreg.calibration",
    "bayesreg.closed_forms",
    "bayesreg.compare",
    "bayesreg.cv",
    "bayesreg.data",
    "bayesreg.defaults",
    "bayesreg.demo",
    "bayesreg.diagnostics",
    "bayesreg.evidence",
    "bayesreg.gibbs",
    "bayesreg.hierarchical",
    "bayesreg.large",
    "bayesreg.engine.arrays",
    "bayesreg.engine.chains",
    "bayesreg.engine.glm",
    "bayesreg.engine.homotopy",
    "bayesreg.engine.map",
    "bayesreg.engine.programs",
    "bayesreg.engine.proximal",
    "bayesreg.estimators",
    "bayesreg.loo",
    "bayesreg.model_folder",
    "bayesreg.params",
    "bayesreg.path",
    "bayesreg.plots",
    "bayesreg.predictive",
    "bayesreg.prior_comparison",
    "bayesreg.priors",
    "bayesreg.report",
    "bayesreg.sampling",
    "bayesreg.scaling",
    "bayesreg.selection",
    "bayesreg.sharded",
    "bayesreg.shrinkage",
    "bayesreg.models.collapsed",
    "bayesreg.models.counts",
    "bayesreg.models.linear",
    "bayesreg.models.logistic",
    "bayesreg.models.robust",
    "bayesreg.models.shrinkage",
)
"""Modules whose public functions and classes must each carry an Examples section."""

# a numpydoc section header: the title on its own line, underlined with dashes
_EXAMPLES_SECTION = re.compile(r"^Examples\n-{8,}\n(?P<body>.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", re.M | re.S)


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


def _public_callables() -> list[tuple[str, str]]:
    """(module, name) of every function or class in the ``__all__`` of the modules of `EXAMPLES_REQUIRED`."""
    found = []
    for module_name in EXAMPLES_REQUIRED:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or callable(obj):  # constants (tuples, dicts, settings) are skipped
                found.append((module_name, name))
    return found


def test_examples_required_lists_real_modules():
    for module_name in EXAMPLES_REQUIRED:
        module = importlib.import_module(module_name)
        assert module.__all__, f"{module_name} has an empty __all__"


@pytest.mark.parametrize(("module_name", "name"), _public_callables())
def test_public_names_have_examples(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    doc = inspect.cleandoc(obj.__doc__ or "")  # its own docstring, not one inherited from a base class
    section = _EXAMPLES_SECTION.search(doc)
    assert section is not None, f"{module_name}.{name} has no numpydoc 'Examples' section"
    assert ">>> " in section["body"], f"the Examples section of {module_name}.{name} has no example"
