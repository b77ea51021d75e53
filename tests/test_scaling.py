"""`bayesreg.scaling`: the MAP on standardised columns, mapped back, is scikit-learn's
``make_pipeline(StandardScaler(), model)`` mapped back, whether the columns are standardised by hand
or by the estimators' ``standardize=True``; and the maps are each other's inverse.

The references are certified (`references.sklearn_linear` / `sklearn_logistic`) on the columns
scikit-learn's own ``StandardScaler`` standardised, and mapped back here by the formula written out
(``coef = coef_z / scale_``, ``intercept = intercept_z − coef @ mean_``), independently of
`Standardization`. The data are unscaled, as users load them: ``load_diabetes(scaled=False)`` (means
up to 189, sds from 0.5 to 35) and the raw breast-cancer columns.
"""

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import BREAST_CANCER_COLUMNS
from references import assert_map_equal, sklearn_linear, sklearn_logistic
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from bayesreg import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.data import DataError
from bayesreg.scaling import Standardization


@pytest.fixture(scope="module")
def diabetes_unscaled():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def breast_cancer_raw():
    X, y = load_breast_cancer(return_X_y=True)
    return np.ascontiguousarray(X[:, BREAST_CANCER_COLUMNS], dtype=float), np.asarray(y, dtype=float)


def _by_hand(scaler, coef_z, intercept_z):
    """scikit-learn's standardised coefficients on the original columns, the formula written out."""
    coef = coef_z / scaler.scale_
    mean = scaler.mean_ if scaler.with_mean else np.zeros_like(coef)
    return coef, intercept_z - coef @ mean


LINEAR_CASES = [
    ("laplace", 2.0, None, True),
    ("laplace", 0.5, None, False),
    ("gaussian", 10.0, None, True),
    ("elasticnet", 3.0, 0.5, True),
]


@pytest.mark.parametrize("kind, alpha, l1_ratio, fit_intercept", LINEAR_CASES)
def test_linear_map_on_standardized_columns_is_the_sklearn_pipeline(
    diabetes_unscaled, kind, alpha, l1_ratio, fit_intercept
):
    X, y = diabetes_unscaled
    scaler = StandardScaler(with_mean=fit_intercept).fit(X)
    reference = sklearn_linear(kind, scaler.transform(X), y, alpha, l1_ratio, fit_intercept=fit_intercept)
    ref_coef, ref_intercept = _by_hand(scaler, reference.coef, reference.intercept)
    assert np.sum(ref_coef == 0) >= (kind != "gaussian")  # the L1 cases have exact zeros to match

    scaling = Standardization.from_data(X, center=fit_intercept)
    settings = {"l1_ratio": l1_ratio} if l1_ratio is not None else {}
    est = BayesianLinearRegression(prior=kind, alpha=alpha, fit_intercept=fit_intercept, **settings)
    est.fit(scaling.transform(X), y)
    coef, intercept = scaling.to_original(est.coef_, est.intercept_)
    label = f"{kind} alpha={alpha} fit_intercept={fit_intercept}"
    assert_map_equal(coef, intercept, ref_coef, ref_intercept, label=label)

    # the same, standardised by the estimator itself: coef_, intercept_ and map_ on the original columns
    est = BayesianLinearRegression(
        prior=kind, alpha=alpha, fit_intercept=fit_intercept, standardize=True, **settings
    ).fit(X, y)
    assert_map_equal(est.coef_, est.intercept_, ref_coef, ref_intercept, label=f"standardize=True {label}")
    np.testing.assert_array_equal(est.map_.params["coef"], est.coef_)
    assert ("intercept" in est.map_.params) == fit_intercept
    np.testing.assert_allclose(est.scaling_.scale, scaler.scale_, rtol=1e-13)
    np.testing.assert_allclose(est.predict(X), X @ ref_coef + ref_intercept, rtol=1e-6)


@pytest.mark.parametrize("kind, C", [("laplace", 0.05), ("gaussian", 1.0)])
def test_logistic_map_on_standardized_columns_is_the_sklearn_pipeline(breast_cancer_raw, kind, C):
    X, y = breast_cancer_raw
    scaler = StandardScaler().fit(X)
    reference = sklearn_logistic(scaler.transform(X), y, C, 1.0 if kind == "laplace" else 0.0)
    ref_coef, ref_intercept = _by_hand(scaler, reference.coef, reference.intercept)
    assert np.sum(ref_coef == 0) >= (kind == "laplace")

    scaling = Standardization.from_data(X)
    est = BayesianLogisticRegression(prior=kind, C=C).fit(scaling.transform(X), y)
    coef, intercept = scaling.to_original(est.coef_, est.intercept_)
    assert_map_equal(coef, intercept, ref_coef, ref_intercept, label=f"logistic {kind} C={C}")

    est = BayesianLogisticRegression(prior=kind, C=C, standardize=True).fit(X, y)
    assert_map_equal(est.coef_, est.intercept_, ref_coef, ref_intercept, label=f"standardize=True {kind}")
    np.testing.assert_array_equal(est.map_.params["coef"], est.coef_)


@pytest.mark.parametrize("center", [True, False])
def test_means_scales_and_transform_are_standard_scalers(diabetes_unscaled, center):
    X, _ = diabetes_unscaled
    scaler = StandardScaler(with_mean=center).fit(X)
    scaling = Standardization.from_data(X, center=center)
    np.testing.assert_allclose(scaling.scale, scaler.scale_, rtol=1e-13)
    np.testing.assert_allclose(scaling.mean, scaler.mean_ if center else 0.0, rtol=1e-13)
    np.testing.assert_allclose(scaling.transform(X), scaler.transform(X), rtol=1e-12, atol=1e-12)


def test_maps_round_trip_with_leading_draw_dimensions(diabetes_unscaled):
    """Draws (chain, draw, feature): the two maps are inverses, and each keeps every draw's
    predictions, ``X @ coef + intercept == transform(X) @ coef_z + intercept_z``."""
    X, _ = diabetes_unscaled
    scaling = Standardization.from_data(X)
    rng = np.random.default_rng(5)
    coef_z, intercept_z = rng.normal(size=(4, 25, X.shape[1])), rng.normal(size=(4, 25))
    coef, intercept = scaling.to_original(coef_z, intercept_z)
    assert coef.shape == coef_z.shape and intercept.shape == intercept_z.shape
    Z = scaling.transform(X)
    np.testing.assert_allclose(
        np.einsum("nf,cdf->cdn", X, coef) + intercept[..., None],
        np.einsum("nf,cdf->cdn", Z, coef_z) + intercept_z[..., None],
        rtol=1e-10,
        atol=1e-9,
    )
    back, back_intercept = scaling.to_standardized(coef, intercept)
    np.testing.assert_allclose(back, coef_z, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(back_intercept, intercept_z, rtol=1e-12, atol=1e-12)


def test_standardizing_standardized_columns_changes_nothing(diabetes_unscaled):
    X, _ = diabetes_unscaled
    Z = Standardization.from_data(X).transform(X)
    again = Standardization.from_data(Z)
    np.testing.assert_allclose(again.mean, 0.0, atol=1e-13)
    np.testing.assert_allclose(again.scale, 1.0, rtol=1e-13)
    np.testing.assert_allclose(again.transform(Z), Z, rtol=1e-12, atol=1e-12)
    coef = np.linspace(-1.0, 1.0, X.shape[1])
    mapped, intercept = again.to_original(coef, 0.5)
    np.testing.assert_allclose(mapped, coef, rtol=1e-12)
    assert float(intercept) == pytest.approx(0.5, abs=1e-12)


def test_posterior_maps_back_draw_by_draw(diabetes_unscaled):
    X, _ = diabetes_unscaled
    scaling = Standardization.from_data(X)
    rng = np.random.default_rng(6)
    draws = {
        "coef": rng.normal(size=(2, 30, X.shape[1])),
        "intercept": rng.normal(size=(2, 30)),
        "sigma": rng.uniform(1, 2, size=(2, 30)),
        "coef_var": rng.exponential(size=(2, 30, X.shape[1])),
        "coef_std": rng.normal(size=(2, 30, X.shape[1])),
    }
    names = [f"x{j}" for j in range(X.shape[1])]
    idata = az.from_dict(
        posterior=draws,
        observed_data={"y": np.zeros(3)},
        coords={"feature": names},
        dims={name: ["feature"] for name in ("coef", "coef_var", "coef_std")},
    )
    mapped = scaling.posterior_to_original(idata)
    coef, intercept = scaling.to_original(draws["coef"], draws["intercept"])
    posterior = mapped.posterior
    assert posterior["coef"].dims == ("chain", "draw", "feature")
    assert list(posterior["feature"].values) == names
    np.testing.assert_array_equal(posterior["coef"].values, coef)
    np.testing.assert_array_equal(posterior["intercept"].values, intercept)
    np.testing.assert_array_equal(posterior["coef_standardized"].values, draws["coef"])
    np.testing.assert_array_equal(posterior["intercept_standardized"].values, draws["intercept"])
    np.testing.assert_array_equal(posterior["sigma"].values, draws["sigma"])
    # the mixture variance of each coefficient, on the original columns: Var(w_j) = Var(z_j)/scale_j²
    np.testing.assert_allclose(posterior["coef_var"].values, draws["coef_var"] / scaling.scale**2, rtol=1e-15)
    np.testing.assert_array_equal(posterior["coef_var_standardized"].values, draws["coef_var"])
    np.testing.assert_array_equal(posterior["coef_std"].values, draws["coef_std"])
    assert "observed_data" in mapped.groups()
    assert "coef_standardized" not in idata.posterior  # the input is left as it was
    np.testing.assert_array_equal(idata.posterior["coef"].values, draws["coef"])


def test_constant_columns_are_refused_by_name():
    X = pd.DataFrame({"dose": [1.0, 2.0, 3.0], "batch": [7.0, 7.0, 7.0], "zero": [0.0, 0.0, 0.0]})
    with pytest.raises(DataError, match=r"constant columns 'batch', 'zero' \(sd 0\): drop them first"):
        Standardization.from_data(X)
    with pytest.raises(DataError, match=r"constant column 1 \(sd 0\)"):
        Standardization.from_data(X.to_numpy()[:, :2])
    with pytest.raises(DataError, match="standardisation is for 3 columns"):
        Standardization.from_data(np.eye(3)).transform(np.ones((2, 2)))


def test_nuts_with_standardize_reports_the_original_columns(diabetes_unscaled):
    """``standardize=True`` with NUTS: the chains are those of the model on the columns scikit-learn's
    ``StandardScaler`` standardised (same seed: the same draws, kept as ``coef_standardized``), and
    ``coef`` / ``intercept`` are those draws on the original columns, by the formula written out;
    ``map_`` is the MAP fit's, and every prediction uses the original-scale draws."""
    X, y = diabetes_unscaled
    settings = {"prior": "laplace", "alpha": 0.5, "method": "nuts", "random_state": 3}
    short = {"num_warmup": 150, "num_samples": 150, "num_chains": 2}
    scaler = StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: the ESS warning is not what this test is about
        est = BayesianLinearRegression(standardize=True, **settings, **short).fit(X, y)
        by_hand = BayesianLinearRegression(**settings, **short).fit(scaler.transform(X), y)
    posterior, reference = est.idata_.posterior, by_hand.idata_.posterior
    np.testing.assert_allclose(posterior["coef_standardized"], reference["coef"], rtol=1e-9, atol=1e-12)
    coef, intercept = _by_hand(scaler, reference["coef"].values, reference["intercept"].values)
    np.testing.assert_allclose(posterior["coef"].values, coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(posterior["intercept"].values, intercept, rtol=1e-9)
    np.testing.assert_allclose(posterior["sigma"].values, reference["sigma"].values, rtol=1e-9)
    assert est.posterior_fit_.idata is est.idata_ and est.posterior_fit_.map is est.map_
    np.testing.assert_allclose(est.coef_, coef.mean(axis=(0, 1)), rtol=1e-9)

    map_fit = BayesianLinearRegression(prior="laplace", alpha=0.5, standardize=True).fit(X, y)
    np.testing.assert_allclose(est.map_.params["coef"], map_fit.coef_, rtol=1e-8, atol=1e-12)
    assert np.array_equal(est.map_.params["coef"] == 0, map_fit.coef_ == 0)

    rows = X[:5]
    draws = rows @ posterior["coef"].values.reshape(-1, X.shape[1]).T + posterior["intercept"].values.ravel()
    np.testing.assert_allclose(est.predict(rows), draws.mean(axis=1), rtol=1e-9)
    _, sd = est.predict(rows, return_std=True)
    sigma2 = np.mean(posterior["sigma"].values ** 2)
    np.testing.assert_allclose(sd, np.sqrt(draws.var(axis=1) + sigma2), rtol=1e-9)
    prior = est.prior_predictive(rows, num_samples=200, intercept_prior=0.0).prior
    np.testing.assert_allclose(prior["coef"].values, prior["coef_standardized"].values / scaler.scale_)
