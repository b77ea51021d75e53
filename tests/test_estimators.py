"""The estimators follow scikit-learn's conventions: its own checks, clone, pickle, Pipeline, GridSearchCV."""

import pickle
import warnings

import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest
from references import assert_map_equal, sklearn_linear, sklearn_logistic
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import (
    BayesianRidge,
    ElasticNetCV,
    LassoCV,
    LogisticRegression,
    LogisticRegressionCV,
    RidgeCV,
)
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg import BayesianLinearRegression, BayesianLogisticRegression, prior_from_penalty
from bayesreg.defaults import L1_RATIO


# Every check of scikit-learn's suite applies; none is listed as expected to fail.
@parametrize_with_checks([BayesianLinearRegression(), BayesianLogisticRegression()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


def test_linear_map_is_lasso_with_feature_names(diabetes):
    X, y = diabetes
    est = BayesianLinearRegression(prior="laplace", alpha=0.5).fit(X, y)
    # Lasso(alpha=0.5), polished on its support and KKT-certified: each coefficient and the intercept
    # to 1e-6 of its own size, the same exact zeros
    ref = sklearn_linear("laplace", X.to_numpy(float), y.to_numpy(float), 0.5)
    assert_map_equal(est.coef_, est.intercept_, ref.coef, ref.intercept, label="Lasso(0.5)", names=X.columns)
    assert (est.coef_ == 0).sum() >= 3
    assert list(est.feature_names_in_) == list(X.columns)
    assert est.n_features_in_ == X.shape[1]
    assert est.map_.converged


def test_clone_pickle_pipeline_gridsearch(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), BayesianLinearRegression(prior="gaussian"))
    search = GridSearchCV(pipe, {"bayesianlinearregression__alpha": [0.1, 10.0]}, cv=3).fit(X, y)
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    fresh = clone(best[-1])
    assert not hasattr(fresh, "coef_")
    assert fresh.get_params() == best[-1].get_params()


def test_logistic_map_is_logistic_regression_with_string_labels():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :8]
    labels = np.where(y == 1, "benign", "malignant")
    est = BayesianLogisticRegression(prior="gaussian", C=0.3).fit(X, labels)
    ref = LogisticRegression(C=0.3, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, labels)
    assert list(est.classes_) == list(ref.classes_)
    certified = sklearn_logistic(X, labels, 0.3, 0.0)  # "malignant" (classes_[1]) is the positive class
    label = "LogisticRegression(C=0.3), string labels"
    assert_map_equal(est.coef_, est.intercept_, certified.coef, certified.intercept, label=label)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    assert np.array_equal(est.predict(X), ref.predict(X))


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (
            pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}),
            [1.0, 2.0, 3.0],
            "column 'b' is not numeric",
        ),
        (pd.DataFrame({"a": [1.0, np.nan, 3.0]}), [1.0, 2.0, 3.0], "column 'a' has NaN in row 1"),
        (pd.DataFrame({"a": [1.0, np.inf, 3.0]}), [1.0, 2.0, 3.0], "column 'a' has inf in row 1"),
        (np.ones((3, 2)), [1.0, np.nan, 2.0], "target has NaN in row 1"),
        (np.ones((1, 2)), [1.0], "1 sample"),
    ],
)
def test_linear_bad_data_named(X, y, match):
    with pytest.raises(ValueError, match=match):
        BayesianLinearRegression().fit(X, y)


def test_logistic_needs_binary_target():
    with pytest.raises(ValueError, match="found 3 classes: 0, 1, 2"):
        BayesianLogisticRegression().fit(np.arange(12.0).reshape(6, 2), [0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"alpha": 0.0}, "alpha must be a positive"),
        ({"alpha": -1.0}, "alpha must be a positive"),
        ({"alpha": float("nan")}, "alpha must be a positive"),
        ({"alpha": "abc"}, "alpha must be a positive number or one of 'cv', 'eb', 'hierarchical', got 'abc'"),
        ({"prior": "cauchy"}, "unknown prior 'cauchy'"),
        ({"convention": "glmnet"}, "unknown convention 'glmnet'"),
        ({"method": "vi"}, "unknown method 'vi'"),
        ({"method": "nuts", "mass_matrix": "full"}, "unknown mass_matrix 'full'"),
        ({"num_chains": 0}, "num_chains must be at least 1, got 0"),
        ({"sigma": -1.0}, "sigma must be a positive"),
        ({"prior": "elasticnet", "l1_ratio": 1.5}, "l1_ratio must lie strictly between 0 and 1"),
        ({"method": "nuts", "target_accept": 1.0}, "target_accept must lie strictly between 0 and 1, got 1"),
        ({"method": "nuts", "max_tree_depth": 0}, "max_tree_depth must be at least 1, got 0"),
        ({"method": "nuts", "max_tree_depth": 16}, "max_tree_depth must be at most 15, got 16"),
        ({"method": "nuts", "max_tree_depth": 2.5}, "max_tree_depth must be an integer"),
        ({"standardize": "yes"}, "standardize must be True or False, got 'yes'"),
    ],
)
def test_bad_hyperparameters_named(params, match):
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10.0)
    with pytest.raises(ValueError, match=match):
        BayesianLinearRegression(**params).fit(X, y)


def test_standardize_refuses_a_constant_column_by_name():
    X = pd.DataFrame({"dose": [1.0, 2.0, 3.0, 4.0], "batch": [7.0, 7.0, 7.0, 7.0]})
    for est, y in (
        (BayesianLinearRegression(), np.arange(4.0)),
        (BayesianLogisticRegression(), [0, 1, 0, 1]),
    ):
        with pytest.raises(ValueError, match=r"cannot standardise constant column 'batch' \(sd 0\)"):
            est.set_params(standardize=True).fit(X, y)
        assert not hasattr(est.set_params(standardize=False).fit(X, y), "scaling_")  # as given: accepted


def test_bad_C_named():
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 2
    with pytest.raises(
        ValueError, match="C must be a positive finite number or one of 'cv', 'hierarchical', got 0"
    ):
        BayesianLogisticRegression(C=0).fit(X, y)


def test_refit_with_map_drops_the_posterior(breast_cancer):
    """After a NUTS fit, ``set_params(method="map").fit`` keeps no ``idata_`` / ``diagnostics_``, and
    `predict_proba` is the MAP's sigmoid again, not the old posterior average."""
    X, y = breast_cancer
    X, y = X[:120, :3], y[:120]
    est = BayesianLogisticRegression(
        prior="gaussian", C=0.5, method="nuts", num_warmup=50, num_samples=50, num_chains=2, random_state=0
    ).fit(X, y)
    assert hasattr(est, "idata_") and hasattr(est, "diagnostics_")
    est.set_params(method="map").fit(X, y)
    assert not hasattr(est, "idata_") and not hasattr(est, "diagnostics_")
    logits = X @ est.map_.params["coef"] + est.map_.params["intercept"]
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], 1.0 / (1.0 + np.exp(-logits)), rtol=1e-12)


def test_decision_function_is_the_linear_predictor():
    """``decision_function`` is exactly ``X @ coef_ + intercept_``, also where the sigmoid rounds to 0
    or 1 (|logit| > 37), as scikit-learn's LogisticRegression."""
    X, y = load_breast_cancer(return_X_y=True)
    est = BayesianLogisticRegression(prior="gaussian", C=10.0).fit(X[:, :6], y)
    ref = LogisticRegression(C=10.0, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X[:, :6], y)
    certified = sklearn_logistic(X[:, :6], y, 10.0, 0.0)  # unscaled columns
    assert_map_equal(est.coef_, est.intercept_, certified.coef, certified.intercept, label="unscaled C=10")
    far = np.vstack([X[:, :6], 40.0 * X[:5, :6]])
    scores = est.decision_function(far)
    np.testing.assert_array_equal(scores, far @ est.coef_ + est.intercept_)
    assert np.isfinite(scores).all() and np.abs(scores).max() > 37
    np.testing.assert_allclose(scores, ref.decision_function(far), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [BayesianLinearRegression, BayesianLogisticRegression])
def test_nuts_settings_default_and_reach_fit_posterior(cls, monkeypatch):
    """``target_accept`` defaults to None (the prior's, `default_target_accept`) and
    ``max_tree_depth`` to bayesreg.defaults' value, and both go to `fit_posterior` as given (the
    sampler is replaced by a recorder: only the arguments matter)."""
    import bayesreg.estimators
    from bayesreg.defaults import MAX_TREE_DEPTH

    params = cls().get_params()
    assert (params["target_accept"], params["max_tree_depth"]) == (None, MAX_TREE_DEPTH)
    seen = {}

    class Stop(Exception):
        pass

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(bayesreg.estimators, "fit_posterior", record)
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(Stop):
        cls(method="nuts", target_accept=0.93, max_tree_depth=7).fit(X, np.arange(20) % 2)
    assert (seen["target_accept"], seen["max_tree_depth"]) == (0.93, 7)


def test_nuts_settings_survive_save_and_load(tmp_path):
    """model.json keeps get_params(), the new NUTS settings included."""
    from bayesreg import load

    X = np.random.default_rng(0).normal(size=(20, 2))
    est = BayesianLinearRegression(target_accept=0.95, max_tree_depth=12).fit(X, X @ [1.0, -1.0])
    est.save(tmp_path)
    assert load(tmp_path).get_params() == est.get_params()
    assert (load(tmp_path).target_accept, load(tmp_path).max_tree_depth) == (0.95, 12)


def test_predictions_do_not_depend_on_the_layout_of_x(diabetes):
    """The same rows predict bitwise the same numbers as a C- or Fortran-ordered array and as a
    DataFrame whose columns come in another order (selected back by name)."""
    X, y = diabetes
    est = BayesianLinearRegression(alpha=0.1).fit(X, y)
    reference = est.predict(X)
    reordered = X[X.columns[::-1]]
    assert est.predict(reordered[list(X.columns)]).tobytes() == reference.tobytes()
    assert est.predict(np.asfortranarray(X.to_numpy())).tobytes() == est.predict(X.to_numpy()).tobytes()


@pytest.mark.parametrize("cls", [BayesianLinearRegression, BayesianLogisticRegression])
def test_failed_nuts_on_columns_far_apart_suggests_standardize(cls):
    """A NUTS fit that fails its diagnostics (20 draws per chain cannot reach the ESS gate) on
    columns whose sds differ by 1e5 warns, naming both columns, that ``standardize=True`` may help;
    the same fit with ``standardize=True`` does not suggest it again."""
    from bayesreg.diagnostics import PosteriorWarning

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(60, 2)) * [1e-2, 1e3], columns=["tiny", "huge"])
    y = (X["tiny"] * 50 + X["huge"] / 1e3 + rng.normal(size=60) > 0).astype(int)
    short = {"method": "nuts", "num_warmup": 20, "num_samples": 20, "num_chains": 2, "random_state": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = cls(**short).fit(X, y)
    assert not est.diagnostics_.ok
    suggestions = [str(w.message) for w in caught if issubclass(w.category, PosteriorWarning)]
    assert any("(tiny)" in m and "(huge)" in m and "standardize" in m for m in suggestions), suggestions
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls(**short, standardize=True).fit(X, y)
    assert not any("column sds range" in str(w.message) for w in caught)


# --------------------------------------------------------------------------------------------------
# alpha learned from the data: alpha="cv" (C="cv") and alpha="eb"
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes_unscaled():
    return load_diabetes(return_X_y=True, scaled=False)


@pytest.mark.parametrize("prior", ["laplace", "elasticnet", "gaussian"])
def test_alpha_cv_is_scikit_learns_cv_estimator(diabetes_unscaled, prior):
    """``alpha="cv"`` on the unscaled diabetes data picks ``LassoCV()`` / ``ElasticNetCV()`` /
    ``RidgeCV(cv=KFold(5))``'s α, with the same fold scores, and its MAP is the certified penalised
    fit at that α (each coefficient to 1e-6, the same exact zeros)."""
    X, y = diabetes_unscaled
    est = BayesianLinearRegression(prior=prior, alpha="cv").fit(X, y)
    strict = {"tol": 1e-12, "max_iter": 10**6}
    reference = {
        "laplace": LassoCV(**strict),
        "elasticnet": ElasticNetCV(l1_ratio=L1_RATIO, **strict),
        "gaussian": RidgeCV(cv=KFold(5)),
    }[prior].fit(X, y)
    np.testing.assert_allclose(est.alpha_, reference.alpha_, rtol=1e-12)
    results = est.cv_results_
    assert results["alphas"][results["best_index"]] == est.alpha_
    if prior != "gaussian":
        np.testing.assert_allclose(results["scores"], reference.mse_path_, rtol=1e-7)
        assert results["scoring"] == "mse" and results["scores"].shape == (100, 5)
    else:
        assert results["scoring"] == "r2" and results["scores"].shape == (3, 5)
        np.testing.assert_allclose(results["mean_score"].max(), reference.best_score_, rtol=1e-10)
    certified = sklearn_linear(prior, X, y, est.alpha_, L1_RATIO if prior == "elasticnet" else None)
    assert_map_equal(est.coef_, est.intercept_, certified.coef, certified.intercept, label=f"{prior} cv")
    assert est.prior_ == prior_from_penalty(prior, est.alpha_, family="gaussian", n_samples=X.shape[0])


def test_alpha_cv_with_standardize_is_the_pipeline(diabetes_unscaled):
    """With ``standardize=True`` α is learned on the standardised columns: the choice of
    ``make_pipeline(StandardScaler(), LassoCV())``, its coefficients mapped back."""
    X, y = diabetes_unscaled
    est = BayesianLinearRegression(alpha="cv", standardize=True).fit(X, y)
    pipe = make_pipeline(StandardScaler(), LassoCV(tol=1e-12, max_iter=10**6)).fit(X, y)
    scaler, lasso = pipe.named_steps["standardscaler"], pipe.named_steps["lassocv"]
    np.testing.assert_allclose(est.alpha_, lasso.alpha_, rtol=1e-12)
    certified = sklearn_linear("laplace", scaler.transform(X), y, est.alpha_)
    coef = certified.coef / scaler.scale_
    intercept = certified.intercept - scaler.mean_ @ coef
    assert_map_equal(est.coef_, est.intercept_, coef, intercept, label="standardised lasso cv")


def test_logistic_C_cv_is_logistic_regression_cv():
    """``C="cv"`` on breast cancer (standardised, where scikit-learn's lbfgs converges: on the raw
    columns it needs minutes and stops short) is ``LogisticRegressionCV()``'s L2 choice on the same
    stratified folds: identical accuracy per fold and C, an interior choice with a clear margin, and
    the certified MAP at that C."""
    X, y = load_breast_cancer(return_X_y=True)
    est = BayesianLogisticRegression(prior="gaussian", C="cv", standardize=True).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = LogisticRegressionCV(l1_ratios=(0,), tol=1e-10, max_iter=10**4)
        pipe = make_pipeline(StandardScaler(), reference).fit(X, y)
    scaler = pipe.named_steps["standardscaler"]
    results = est.cv_results_
    np.testing.assert_array_equal(results["scores"], reference.scores_[1][:, :, 0].T)
    best = results["best_index"]
    assert 0 < best < 9 and results["mean_score"][best] - np.delete(results["mean_score"], best).max() > 1e-3
    np.testing.assert_allclose(est.C_, reference.C_[0], rtol=1e-12)
    assert est.alpha_ == 1.0 / est.C_ and results["scoring"] == "accuracy"
    certified = sklearn_logistic(scaler.transform(X), y, est.C_, 0.0)
    coef = certified.coef / scaler.scale_
    assert_map_equal(est.coef_, est.intercept_, coef, certified.intercept - scaler.mean_ @ coef, label="C cv")


def test_alpha_eb_gaussian_is_bayesian_ridge(diabetes_unscaled):
    """``alpha="eb"`` with the Gaussian prior is ``BayesianRidge()``: the same weights, α = its
    ``lambda_/alpha_`` (Ridge's α) and σ = its ``alpha_ ** -0.5``."""
    X, y = diabetes_unscaled
    est = BayesianLinearRegression(prior="gaussian", alpha="eb").fit(X, y)
    reference = BayesianRidge().fit(X, y)
    np.testing.assert_allclose(est.alpha_, reference.lambda_ / reference.alpha_, rtol=1e-9)
    np.testing.assert_allclose(est.sigma_, reference.alpha_**-0.5, rtol=1e-9)
    assert_map_equal(est.coef_, est.intercept_, reference.coef_, reference.intercept_, label="BayesianRidge")
    assert est.alpha_mcse_ == 0.0


def test_alpha_eb_laplace_is_the_monte_carlo_em_estimate():
    """``alpha="eb"`` with the Laplace prior: `evidence_laplace`'s α with the estimator's seed, its
    error as Lasso's α (mcse/n), and the MAP at that α (the certified Lasso)."""
    from sklearn.utils import check_random_state

    from bayesreg.evidence import evidence_laplace

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 10))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + rng.normal(size=50)
    est = BayesianLinearRegression(alpha="eb", random_state=3).fit(X, y)
    seed = int(check_random_state(3).randint(2**31 - 1))
    eb = evidence_laplace(X, y, seed=seed)
    assert est.alpha_ == eb.alpha and est.alpha_mcse_ == eb.mcse / 50
    assert 0 < est.alpha_mcse_ < 0.05 * est.alpha_
    certified = sklearn_linear("laplace", X, y, est.alpha_)
    assert_map_equal(est.coef_, est.intercept_, certified.coef, certified.intercept, label="eb lasso")


def test_learned_alpha_reaches_nuts(monkeypatch, diabetes_unscaled):
    """With ``method="nuts"`` the posterior is sampled at the learned α (the sampler is replaced by
    a recorder: only its prior matters)."""
    import bayesreg.estimators

    seen = {}

    class Stop(Exception):
        pass

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(bayesreg.estimators, "fit_posterior", record)
    X, y = diabetes_unscaled
    with pytest.raises(Stop):
        BayesianLinearRegression(prior="gaussian", alpha="eb", method="nuts").fit(X, y)
    alpha = BayesianRidge().fit(X, y).lambda_ / BayesianRidge().fit(X, y).alpha_
    expected = prior_from_penalty("gaussian", alpha, family="gaussian", n_samples=X.shape[0])
    np.testing.assert_allclose(seen["prior"].l2, expected.l2, rtol=1e-9)
    assert seen["prior"].noise_scaled and isinstance(seen["sigma"], dist.Distribution)


def test_learned_alpha_clone_pickle_gridsearch_and_refit(diabetes):
    X, y = diabetes
    search = GridSearchCV(BayesianLinearRegression(alpha="cv"), {"prior": ["laplace", "gaussian"]}, cv=3)
    best = search.fit(X, y).best_estimator_
    assert best.alpha == "cv" and isinstance(best.alpha_, float)
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    assert restored.cv_results_["best_index"] == best.cv_results_["best_index"]
    assert clone(best).get_params() == best.get_params() and not hasattr(clone(best), "alpha_")
    best.set_params(alpha=0.5).fit(X, y)  # a fixed α again: alpha_ is it, no CV results kept
    assert best.alpha_ == 0.5 and not hasattr(best, "cv_results_")


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (
            BayesianLinearRegression,
            {"alpha": "cvv"},
            "alpha must be a positive number or one of 'cv', 'eb', 'hierarchical', got 'cvv'",
        ),
        (
            BayesianLinearRegression,
            {"alpha": -1},
            "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got -1",
        ),
        (
            BayesianLinearRegression,
            {"alpha": "eb", "prior": "elasticnet"},
            "alpha='eb' needs prior='gaussian'",
        ),
        (BayesianLinearRegression, {"alpha": "cv", "convention": "book"}, "use convention='sklearn'"),
        (BayesianLinearRegression, {"alpha": "eb", "prior": "gaussian", "sigma": 1.0}, "leave sigma=None"),
        (
            BayesianLogisticRegression,
            {"C": "eb"},
            r"C='eb' \(empirical Bayes\) needs the Gaussian likelihood",
        ),
        (
            BayesianLogisticRegression,
            {"C": "cvv"},
            "C must be a positive number or one of 'cv', 'hierarchical', got 'cvv'",
        ),
    ],
)
def test_bad_learned_alpha_named(cls, params, message):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=message):
        cls(**params).fit(X, np.arange(20) % 2)
