"""The estimators given Dask collections: ``fit(X, y)`` with a Dask DataFrame or Array (and Dask
Series) gives the attributes of the same fit on the rows in memory: the MAP to 1e-10 (Gaussian, from
the statistics of one pass) or 1e-8 (logistic and count models, by the distributed proximal Newton),
the same exact zeros, and the Gaussian NUTS posterior within Monte Carlo error. What needs the rows
in memory is refused before any pass. Dask's default scheduler runs the passes here (the cluster
and its workers are tests/test_dask.py's)."""

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from references import assert_map_equal, assert_same_posterior

from bayesreg.estimators import (
    BayesianLinearRegression,
    BayesianLogisticRegression,
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianStudentTRegression,
)

MAP_RTOL = 1e-10  # the Gaussian MAP: the statistics differ only in the order of summation
NEWTON_RTOL = 1e-8  # the distributed Newton stops at tol 1e-10 on its optimality residual
LINEAR_CASES = {
    "lasso": {"prior": "laplace", "alpha": 0.1},
    "ridge standardised": {"prior": "gaussian", "alpha": 2.0, "standardize": True},
    "elastic net, sigma fixed, no intercept": {
        "prior": "elasticnet",
        "alpha": 0.05,
        "sigma": 50.0,
        "fit_intercept": False,
    },
}


def _frame(X, y, partitions=3):
    """``X`` (DataFrame) and ``y`` as a Dask DataFrame and Series of ``partitions`` partitions."""
    frame = dd.from_pandas(X.assign(__y__=np.asarray(y)), npartitions=partitions)
    return frame[list(X.columns)], frame["__y__"]


@pytest.mark.parametrize("case", list(LINEAR_CASES))
def test_the_linear_map_of_a_dask_frame_is_the_in_memory_fit(raw_diabetes_frame, case):
    """Unscaled diabetes in 3 partitions: coefficients, intercept and σ of the in-memory MAP to 1e-10,
    the same zeros, the same feature names and predictions."""
    X, y = raw_diabetes_frame
    memory = BayesianLinearRegression(**LINEAR_CASES[case]).fit(X, y)
    dask = BayesianLinearRegression(**LINEAR_CASES[case]).fit(*_frame(X, y))
    assert_map_equal(dask.coef_, dask.intercept_, memory.coef_, memory.intercept_, rtol=MAP_RTOL, label=case)
    assert abs(dask.sigma_ / memory.sigma_ - 1) <= MAP_RTOL
    assert list(dask.feature_names_in_) == list(memory.feature_names_in_)
    assert dask.n_features_in_ == memory.n_features_in_ and dask.alpha_ == memory.alpha_
    assert (dask.sigma_prior_ is None) == (memory.sigma_prior_ is None)
    assert hasattr(dask, "scaling_") == hasattr(memory, "scaling_")
    np.testing.assert_allclose(dask.predict(X), memory.predict(X), rtol=MAP_RTOL)


def test_a_dask_array_has_no_feature_names(raw_diabetes_frame):
    """A Dask Array of features: the in-memory NumPy fit's MAP, and no ``feature_names_in_``."""
    X, y = raw_diabetes_frame
    X, y = X.to_numpy(), np.asarray(y)
    memory = BayesianLinearRegression(alpha=0.1).fit(X, y)
    rows = da.from_array(X, chunks=(150, -1)), da.from_array(y, chunks=150)
    dask = BayesianLinearRegression(alpha=0.1).fit(*rows)
    assert_map_equal(dask.coef_, dask.intercept_, memory.coef_, memory.intercept_, rtol=MAP_RTOL)
    assert not hasattr(dask, "feature_names_in_") and dask.n_features_in_ == X.shape[1]


def test_the_linear_posterior_of_a_dask_frame_is_the_in_memory_one(raw_diabetes_frame):
    """NUTS from the statistics of one pass: every weight's, the intercept's and σ's mean, sd and
    quantiles within 4 combined MCSE of the in-memory fit (other seeds); ``coef_`` the posterior
    mean; no rows in the InferenceData."""
    X, y = raw_diabetes_frame
    settings = {"alpha": 0.1, "method": "nuts", "num_warmup": 500, "num_samples": 1000, "num_chains": 2}
    memory = BayesianLinearRegression(**settings, random_state=1).fit(X, y)
    dask = BayesianLinearRegression(**settings, random_state=2).fit(*_frame(X, y))
    assert "observed_data" not in dask.idata_.groups() and dask.diagnostics_.ok
    draws = {}
    for fit, key in ((memory, "memory"), (dask, "dask")):
        posterior = fit.idata_.posterior
        draws[key] = {f"coef[{j}]": posterior["coef"].values[..., j] for j in range(X.shape[1])}
        draws[key].update(intercept=posterior["intercept"].values, sigma=posterior["sigma"].values)
    assert_same_posterior(draws["memory"], draws["dask"])
    np.testing.assert_allclose(dask.coef_, dask.idata_.posterior["coef"].mean(("chain", "draw")), rtol=1e-12)


def test_the_logistic_map_of_a_dask_frame_is_the_in_memory_fit(raw_breast_cancer_frame):
    """8 breast-cancer columns, standardised L1: the in-memory MAP to 1e-8 with the same zeros,
    ``classes_`` and ``C_``."""
    X, y = raw_breast_cancer_frame
    settings = {"prior": "laplace", "C": 0.5, "standardize": True}
    memory = BayesianLogisticRegression(**settings).fit(X, y)
    dask = BayesianLogisticRegression(**settings).fit(*_frame(X, y))
    assert 0 < int((memory.coef_ == 0).sum()) < len(memory.coef_)  # zeros to compare
    assert_map_equal(dask.coef_, dask.intercept_, memory.coef_, memory.intercept_, rtol=NEWTON_RTOL)
    np.testing.assert_array_equal(dask.classes_, memory.classes_)
    assert dask.C_ == memory.C_
    np.testing.assert_array_equal(dask.predict(X), memory.predict(X))


@pytest.mark.parametrize(
    ("estimator", "settings"),
    [
        (BayesianPoissonRegression, {"prior": "laplace", "alpha": 0.05}),
        (BayesianNegativeBinomialRegression, {"prior": "elasticnet", "alpha": 0.02, "standardize": True}),
    ],
    ids=["poisson lasso", "negative binomial elastic net, dispersion estimated"],
)
def test_the_count_map_of_a_dask_frame_with_an_offset_is_the_in_memory_fit(estimator, settings):
    """statsmodels' fair, unscaled, counts of affairs with the log of the years married as an
    offset (a Dask Series): the in-memory MAP to 1e-8 with the same zeros (and dispersion)."""
    import statsmodels.api as sm

    fair = sm.datasets.fair.load_pandas().data
    X = fair.drop(columns=["affairs", "yrs_married"])
    y, offset = np.round(fair["affairs"].to_numpy()), np.log(fair["yrs_married"].to_numpy())
    memory = estimator(**settings).fit(X, y, offset=offset)
    frame = dd.from_pandas(X.assign(__y__=y, __log_years__=offset), npartitions=4)
    dask = estimator(**settings).fit(frame[list(X.columns)], frame["__y__"], offset=frame["__log_years__"])
    assert 0 < int((memory.coef_ == 0).sum()) < len(memory.coef_)
    assert_map_equal(dask.coef_, dask.intercept_, memory.coef_, memory.intercept_, rtol=NEWTON_RTOL)
    assert list(dask.feature_names_in_) == list(X.columns)
    if estimator is BayesianNegativeBinomialRegression:
        assert abs(dask.dispersion_ / memory.dispersion_ - 1) <= NEWTON_RTOL
    np.testing.assert_allclose(dask.predict(X, offset=offset), memory.predict(X, offset=offset), rtol=1e-7)


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (BayesianLinearRegression(alpha="cv"), "at a given alpha"),
        (BayesianLinearRegression(prior="horseshoe", method="nuts"), "need the rows in memory"),
        (BayesianLinearRegression(alpha="hierarchical", method="nuts"), "at a given alpha"),
        (BayesianLinearRegression(method="gibbs"), "method='map'"),
        (BayesianLogisticRegression(method="nuts"), "method='map'"),
        (BayesianPoissonRegression(method="nuts"), "method='map'"),
        (BayesianStudentTRegression(), "rows in memory"),
    ],
    ids=["cv", "horseshoe", "hierarchical", "gibbs", "logistic nuts", "poisson nuts", "student-t"],
)
def test_what_needs_the_rows_is_refused_before_a_pass(estimator, match):
    """One ValueError naming what to change, before any partition is read (the target is not
    even a valid one)."""
    rows = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 1.0, 0.0, 1.0]})
    frame = dd.from_pandas(rows, npartitions=2)
    with pytest.raises(ValueError, match=match):
        estimator.fit(frame[["a"]], frame["y"])
