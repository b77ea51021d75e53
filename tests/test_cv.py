"""`bayesreg.cv.cv_alpha` against scikit-learn's cross-validated estimators on the same folds and grid.

Each case compares (1) the held-out score of every grid point on every fold with the counterpart's
(``mse_path_``, ``cv_results_``, ``scores_``) to a tolerance that covers the difference between an
exact MAP and scikit-learn's solver stopping at its tolerance, (2) the chosen α where the best mean
score beats the runner-up by more than that tolerance (so the identity of the choice is meaningful),
and (3) the refit MAP, coefficient by coefficient to 1e-6 with the same exact zeros, against the
KKT-certified reference at the chosen α (`references.py`). Data: the diabetes data unscaled (as
``load_diabetes(scaled=False)`` gives it), statsmodels' ccard (unscaled) and spector.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from references import assert_map_equal, sklearn_linear, sklearn_logistic
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegressionCV, RidgeCV
from sklearn.model_selection import KFold

from bayesreg.cv import cv_alpha

SCORE_RTOL = 1e-7  # the fold scores of an exact MAP and of a solver run to tol=1e-12


def _statsmodels(name):
    data = getattr(sm.datasets, name).load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, scaled=False)


@pytest.fixture(scope="module")
def ccard():
    return _statsmodels("ccard")


def _assert_clear_choice(mean, best, larger_is_better, tolerance):
    """The chosen index is the best, and its margin over the runner-up exceeds ``tolerance``."""
    others = np.delete(mean, best)
    margin = (mean[best] - others.max()) if larger_is_better else (others.min() - mean[best])
    assert margin > tolerance, f"no clear winner: margin {margin:.3e} <= {tolerance:.3e}"


@pytest.mark.parametrize(
    ("data", "prior", "l1_ratio"),
    [("diabetes", "laplace", 1.0), ("ccard", "laplace", 1.0), ("ccard", "elasticnet", 0.5)],
)
def test_lasso_and_elastic_net_cv_equal_scikit_learn(data, prior, l1_ratio, request):
    X, y = request.getfixturevalue(data)
    result = cv_alpha(X, y, prior=prior, l1_ratio=l1_ratio)
    if prior == "laplace":
        reference = LassoCV(tol=1e-12, max_iter=10**6).fit(X, y)
    else:
        reference = ElasticNetCV(l1_ratio=l1_ratio, tol=1e-12, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(result.alphas, reference.alphas_, rtol=1e-12)
    np.testing.assert_allclose(result.scores, reference.mse_path_, rtol=SCORE_RTOL)
    assert result.scoring == "mse" and result.converged.all()
    _assert_clear_choice(result.mean_score, result.best_index, False, SCORE_RTOL * result.mean_score.min())
    assert result.alphas[result.best_index] == result.alpha
    np.testing.assert_allclose(result.alpha, reference.alpha_, rtol=1e-12)
    assert result.best_index == int(np.argmin(np.abs(reference.alphas_ - reference.alpha_)))
    np.testing.assert_allclose(result.sd_score, reference.mse_path_.std(axis=1), rtol=1e-5)
    kind = "laplace" if prior == "laplace" else "elasticnet"
    certified = sklearn_linear(kind, X, y, result.alpha, None if prior == "laplace" else l1_ratio)
    exact = (certified.coef, certified.intercept)
    assert_map_equal(result.coef, result.intercept, *exact, label=f"{data} {prior}")
    assert_map_equal(reference.coef_, reference.intercept_, *exact, label=f"{data} {prior}: scikit-learn")


def test_ridge_cv_equals_ridgecv_on_kfold(ccard):
    """``RidgeCV(cv=KFold(5))`` scores R² per fold (its ``score``); an interior choice on this grid."""
    X, y = ccard
    grid = np.geomspace(1e-3, 1e5, 17)
    result = cv_alpha(X, y, prior="gaussian", alphas=grid)
    reference = RidgeCV(alphas=grid, cv=KFold(5), scoring=None).fit(X, y)
    assert result.scoring == "r2"
    assert 0 < result.best_index < grid.size - 1, "the test wants an interior choice"
    assert result.alpha == reference.alpha_
    np.testing.assert_allclose(result.mean_score[result.best_index], reference.best_score_, rtol=1e-10)
    _assert_clear_choice(result.mean_score, result.best_index, True, 1e-10)
    certified = sklearn_linear("gaussian", X, y, result.alpha)
    assert_map_equal(result.coef, result.intercept, certified.coef, certified.intercept, label="ridge")


def test_ridge_cv_mse_scoring_matches_neg_mse(diabetes):
    X, y = diabetes
    grid = np.geomspace(1e-4, 1.0, 13)
    result = cv_alpha(X, y, prior="gaussian", alphas=grid, scoring="mse")
    reference = RidgeCV(alphas=grid, cv=KFold(5), scoring="neg_mean_squared_error").fit(X, y)
    assert result.alpha == reference.alpha_
    np.testing.assert_allclose(-result.mean_score[result.best_index], reference.best_score_, rtol=1e-10)


def test_logistic_cv_equals_logisticregressioncv():
    """statsmodels' spector: LogisticRegressionCV's default (L2, Cs=10, StratifiedKFold(5),
    accuracy) picks an interior C with a clear margin."""
    X, y = _statsmodels("spector")
    result = cv_alpha(X, y, prior="gaussian", family="bernoulli")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = LogisticRegressionCV(l1_ratios=(0,), scoring=None, tol=1e-10, max_iter=10**4).fit(X, y)
    np.testing.assert_allclose(1 / result.alphas, reference.Cs_, rtol=1e-12)
    assert result.scoring == "accuracy"
    fold_scores = reference.scores_[1.0][:, :, 0].T  # (n_folds, n_Cs, 1) -> (n_Cs, n_folds)
    np.testing.assert_allclose(result.scores, fold_scores, rtol=1e-15)
    _assert_clear_choice(result.mean_score, result.best_index, True, 1e-12)
    np.testing.assert_allclose(result.C, reference.C_[0], rtol=1e-12)
    certified = sklearn_logistic(X, y, result.C, 0.0)
    assert_map_equal(result.coef, result.intercept, certified.coef, certified.intercept, label="logistic")


def test_logistic_log_loss_scoring_is_minimised():
    X, y = _statsmodels("spector")
    result = cv_alpha(X, y, prior="gaussian", family="bernoulli", scoring="log_loss", Cs=[0.01, 1.0, 100.0])
    assert result.scoring == "log_loss"
    assert result.mean_score[result.best_index] == result.mean_score.min()
    np.testing.assert_allclose(result.C, 1 / result.alpha)


def test_folds_and_cv_splitter(diabetes):
    X, y = diabetes
    splitter = KFold(3, shuffle=True, random_state=0)
    result = cv_alpha(X, y, cv=splitter, n_alphas=5)
    assert len(result.folds) == 3 and result.scores.shape == (5, 3)
    expected = [test for _, test in splitter.split(X)]
    for (_, test), want in zip(result.folds, expected, strict=True):
        np.testing.assert_array_equal(test, want)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scoring": "accuracy"}, "unknown scoring 'accuracy' for family='gaussian'"),
        ({"Cs": 5}, "Cs is the grid of the logistic model"),
        ({"alphas": [1.0, -1.0]}, "alphas must be a non-empty 1-d array of positive finite numbers"),
        ({"prior": "cauchy"}, "unknown prior 'cauchy'"),
        ({"n_alphas": 0}, "n_alphas must be at least 1"),
    ],
)
def test_bad_input_is_named(diabetes, kwargs, message):
    X, y = diabetes
    with pytest.raises(ValueError, match=message):
        cv_alpha(X, y, **kwargs)


def test_bad_data_is_named():
    with pytest.raises(ValueError, match="NaN"):
        cv_alpha(np.array([[1.0], [np.nan], [2.0]]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="Cs must be positive"):
        cv_alpha(np.eye(10), np.arange(10) % 2, family="bernoulli", Cs=[1.0, 0.0])


def test_unconverged_folds_warn(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="did not reach"):
        result = cv_alpha(X, y, prior="elasticnet", n_alphas=5, tol=1e-30, max_steps=2)
    assert not result.converged.all()
