"""Shared fixtures: float64 for a test, and the reference data sets (loaded once per session).

The suite compiles as the command line does: `bayesreg.cli.run` adds
`bayesreg.engine.SMALL_LOOPS_XLA_FLAG` to ``XLA_FLAGS``, and so does this file, before JAX computes
anything (XLA reads the variable once).
"""

import gc
import os

import jax
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from bayesreg.cli import _with_small_loop_kernels
from bayesreg.data import read_csv

os.environ["XLA_FLAGS"] = _with_small_loop_kernels(os.environ.get("XLA_FLAGS", ""))

# Columns of the breast-cancer data used in the tests: 8 of the 30, chosen so that saga converges
# to 1e-14 in well under a second (the radius/perimeter/area columns are near-duplicates).
BREAST_CANCER_COLUMNS = [1, 4, 7, 8, 9, 11, 14, 19]


@pytest.fixture
def x64():
    """Run the test with float64 enabled (``jax.enable_x64``), without touching the global setting."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(scope="session")
def diabetes():
    """scikit-learn's diabetes regression data: X (442, 10), y (442,)."""
    X, y = load_diabetes(return_X_y=True)
    return np.ascontiguousarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="session")
def breast_cancer():
    """Breast-cancer classification data, 8 standardised columns: X (569, 8), y (569,) of 0/1."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, BREAST_CANCER_COLUMNS])
    return np.ascontiguousarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    """XDG_CACHE_HOME in a temporary folder for a module's tests (the CLI tests use it for all of
    theirs): the command line's JAX cache lands there, not in ~/.cache."""
    folder = tmp_path_factory.mktemp("xdg_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="module", autouse=True)
def release_compiled_programs():
    """Drop every compiled program after each test module (``jax.clear_caches``).

    Each executable XLA compiles on a CPU keeps about three memory maps in the process; a process that
    kept every program of the suite came near the kernel's limit (``vm.max_map_count``, 65,530 here)
    and died in XLA's compiler; with this fixture the count stayed between 2,100 and 2,400 through
    the whole suite in one process. A module's programs are compiled again by a later module that needs
    them (the suite's session fixtures hold arrays, not programs).
    """
    yield
    jax.clear_caches()
    gc.collect()


@pytest.fixture(scope="module")
def raw_diabetes_csv(tmp_path_factory):
    """scikit-learn's unscaled diabetes data as a CSV file (target ``progression``)."""
    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    path = tmp_path_factory.mktemp("raw_diabetes") / "diabetes.csv"
    X.assign(progression=y).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def raw_diabetes_frame(raw_diabetes_csv):
    """The unscaled diabetes data as the command line reads them (pandas' CSV parser may move a float
    by an ulp), so that an estimator and ``bayesreg fit`` see the same numbers."""
    X, y, _ = read_csv(str(raw_diabetes_csv), "progression", "gaussian")
    return X, y


@pytest.fixture(scope="module")
def raw_breast_cancer_frame():
    """8 unscaled breast-cancer columns as a DataFrame, and the 0/1 target."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, BREAST_CANCER_COLUMNS], y
