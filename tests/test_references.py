"""The tests' own references (tests/references.py) fail where they should: the per-coefficient criterion
catches a small coefficient that a criterion relative to the largest one lets through, and a KKT
certificate refuses a point that is not the minimiser. NumPy and scikit-learn only (no JAX)."""

import numpy as np
import pytest
from references import (
    assert_map_equal,
    certify_least_squares,
    certify_logistic,
    sklearn_linear,
    sklearn_logistic,
)


def test_assert_map_equal_holds_each_coefficient_to_its_own_size():
    ref = np.array([2000.0, 0.02, 0.0, -3.0])
    assert_map_equal(ref * (1 + 5e-7), 7.0, ref, 7.0, label="within 1e-6")
    off = ref.copy()
    off[1] *= 1.05  # 5% off, half of 1e-6 of the largest one: max|Δ| <= 1e-6·‖w‖∞ would pass
    assert np.max(np.abs(off - ref)) <= 1e-6 * np.max(np.abs(ref))
    with pytest.raises(AssertionError, match=r"coef\[1\]: .* vs reference 0.02"):
        assert_map_equal(off, 7.0, ref, 7.0, label="small coefficient")
    with pytest.raises(AssertionError, match="intercept"):
        assert_map_equal(ref, 7.0 * (1 + 2e-6), ref, 7.0, label="intercept")
    near_zero = ref.copy()
    near_zero[2] = 1e-300  # not exactly 0: within any tolerance, but the zero set differs
    with pytest.raises(AssertionError, match="exact zeros differ"):
        assert_map_equal(near_zero, 7.0, ref, 7.0, label="zeros", names=["a", "b", "c", "d"])


def test_least_squares_certificate_refuses_a_wrong_support(diabetes):
    X, y = diabetes
    alpha = 0.1
    exact = sklearn_linear("laplace", X, y, alpha)
    n = X.shape[0]
    assert np.sum(exact.coef == 0) >= 2 and exact.stationarity <= 1e-12
    wrong = exact.coef.copy()
    wrong[np.flatnonzero(wrong)[0]] = 0.0  # drop one weight of the support
    with pytest.raises(AssertionError, match="not certified"):
        certify_least_squares(X, y, wrong, l1=n * alpha, label="support without one weight")
    extra = exact.coef.copy()
    extra[np.flatnonzero(extra == 0)[0]] = 1.0  # add a weight the lasso sets to 0
    with pytest.raises(AssertionError, match="not certified"):
        certify_least_squares(X, y, extra, l1=n * alpha, label="support with one weight more")
    # the certified point does not depend on how far from it the guess was (only on its support)
    again = certify_least_squares(X, y, exact.coef * 1.01, l1=n * alpha, label="perturbed guess")
    np.testing.assert_array_equal(again.coef, exact.coef)


def test_logistic_certificate_refuses_a_wrong_support(breast_cancer):
    X, y = breast_cancer
    C = 0.1
    exact = sklearn_logistic(X, y, C, 1.0)
    assert np.sum(exact.coef == 0) >= 1
    extra = exact.coef.copy()
    extra[np.flatnonzero(extra == 0)[0]] = 0.5
    with pytest.raises(AssertionError, match="not certified"):
        certify_logistic(X, y, extra, exact.intercept, l1=1 / C, label="support with one weight more")
    wrong = exact.coef.copy()
    wrong[np.flatnonzero(wrong)[0]] = 0.0
    with pytest.raises(AssertionError, match="not certified"):
        certify_logistic(X, y, wrong, exact.intercept, l1=1 / C, label="support without one weight")
