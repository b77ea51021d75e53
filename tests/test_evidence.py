"""`bayesreg.evidence` against scikit-learn's evidence maximisers and a brute-force marginal likelihood.

* `evidence_gaussian` is ``BayesianRidge`` (coefficients, ``alpha_``, ``lambda_``, ``sigma_``,
  ``scores_``) and `evidence_ard` is ``ARDRegression`` (with its pruning), to 1e-6 relative, under
  scikit-learn's own stopping rule and run on to the fixed point, on the diabetes data unscaled
  and statsmodels' longley (unscaled, collinear; ARD prunes there);
* `evidence_laplace` (Monte Carlo EM) maximises the marginal likelihood of a p = 2 problem computed
  by quadrature on a grid of the weights (σ fixed: a 2-d integral; σ² under 1/σ²: integrated in
  closed form, ``∫(σ²)^(−a−1)e^(−B/σ²)dσ² = Γ(a)/B^a``, then a 2-d integral), within 4 Monte Carlo
  standard errors of its estimate.
"""

import math
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ARDRegression, BayesianRidge, Ridge

from bayesreg.defaults import THRESHOLDS
from bayesreg.evidence import evidence_ard, evidence_gaussian, evidence_laplace

RTOL = 1e-6
TIGHT = {"tol": 1e-12, "max_iter": 100_000}  # on to the fixed point


def _data(name):
    if name == "diabetes":
        return load_diabetes(return_X_y=True, scaled=False)
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def _assert_close(actual, desired, label, rtol=RTOL):
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=0, err_msg=label)


@pytest.mark.parametrize("name", ["diabetes", "longley"])
@pytest.mark.parametrize("settings", [{}, TIGHT], ids=["sklearn-stop", "fixed-point"])
def test_evidence_gaussian_is_bayesian_ridge(name, settings):
    X, y = _data(name)
    eb = evidence_gaussian(X, y, **settings)
    reference = BayesianRidge(compute_score=True, **settings).fit(X, y)
    _assert_close(eb.coef, reference.coef_, "coef")
    _assert_close(eb.intercept, reference.intercept_, "intercept")
    _assert_close(eb.noise_precision, reference.alpha_, "alpha_")
    _assert_close(eb.weight_precision, reference.lambda_, "lambda_")
    _assert_close(eb.coef_cov, reference.sigma_, "sigma_")
    assert eb.converged and abs(eb.n_iter - reference.n_iter_) <= 1
    if settings:  # at the fixed point the objective is scikit-learn's last score
        _assert_close(eb.log_evidence, reference.scores_[-1], "scores_", rtol=1e-9)
    # the reported alpha is Ridge's: the same weights
    ridge = Ridge(alpha=eb.alpha, solver="cholesky").fit(X, y)
    _assert_close(eb.coef, ridge.coef_, "Ridge(alpha)", rtol=1e-8)
    book = evidence_gaussian(X, y, convention="book", **settings)
    _assert_close(book.alpha, eb.weight_precision, "book alpha", rtol=1e-12)


@pytest.mark.parametrize("name", ["diabetes", "longley"])
@pytest.mark.parametrize("settings", [{}, TIGHT], ids=["sklearn-stop", "fixed-point"])
def test_evidence_ard_is_ard_regression(name, settings):
    X, y = _data(name)
    ard = evidence_ard(X, y, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = ARDRegression(**settings).fit(X, y)
    kept = reference.lambda_ < reference.threshold_lambda
    np.testing.assert_array_equal(ard.kept, kept)
    np.testing.assert_array_equal(ard.coef == 0, reference.coef_ == 0)
    _assert_close(ard.coef, reference.coef_, "coef")
    _assert_close(ard.intercept, reference.intercept_, "intercept")
    _assert_close(ard.noise_precision, reference.alpha_, "alpha_")
    _assert_close(ard.weight_precision[kept], reference.lambda_[kept], "lambda_ (kept)")
    _assert_close(ard.coef_cov, reference.sigma_, "sigma_")
    assert np.all(np.isinf(ard.alpha[~kept])) and np.all(np.isfinite(ard.alpha[kept]))
    if name == "longley":
        assert not kept.all(), "longley is the pruning case"


def test_bad_settings_are_named():
    X, y = _data("diabetes")
    with pytest.raises(ValueError, match="tol must be"):
        evidence_gaussian(X, y, tol=-1.0)
    with pytest.raises(ValueError, match="threshold_lambda must be a positive finite number"):
        evidence_ard(X, y, threshold_lambda=0)
    with pytest.raises(ValueError, match="NaN"):
        evidence_gaussian(np.array([[1.0], [np.nan], [3.0]]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="num_em must be at least 4"):
        evidence_laplace(X, y, num_em=2)


# ---------------------------------------------------------------------------------------------------
# the Laplace prior: Monte Carlo EM against the marginal likelihood by quadrature


def _small_problem():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    y = X @ np.array([0.8, 0.1]) + rng.normal(size=20) + 3.0
    return X, y


def _log_marginal(X, y, sigma, *, points=801, width=10.0):
    """``l₁ ↦ log m(l₁)`` (up to a constant) by the trapezoid-like rule on a grid of the two weights
    that holds 0 (the kink) and reaches ``width`` standard errors beyond the least-squares weights."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    n_eff = X.shape[0] - 1
    xtx, xty, yty = Xc.T @ Xc, Xc.T @ yc, yc @ yc
    ls = np.linalg.solve(xtx, xty)
    se = np.sqrt(np.diag(np.linalg.inv(xtx)) * np.var(yc))
    grids = [
        np.sort(np.append(np.linspace(min(0.0, b - width * s), max(0.0, b + width * s), points), 0.0))
        for b, s in zip(ls, se, strict=True)
    ]
    w1, w2 = np.meshgrid(*grids, indexing="ij")
    rss = (
        yty
        - 2 * (w1 * xty[0] + w2 * xty[1])
        + xtx[0, 0] * w1**2
        + 2 * xtx[0, 1] * w1 * w2
        + xtx[1, 1] * w2**2
    )
    norm = np.abs(w1) + np.abs(w2)
    log_cell = np.log(np.gradient(grids[0]))[:, None] + np.log(np.gradient(grids[1]))[None, :]

    def log_m(l1):
        if sigma is None:  # σ² integrated out under 1/σ²: Γ(a)·B^(−a), a = n_eff/2 + p, B = RSS/2 + l₁‖w‖₁
            a = n_eff / 2 + 2
            integrand = 2 * math.log(l1 / 2) - a * np.log(rss / 2 + l1 * norm)
        else:
            integrand = -rss / (2 * sigma**2) + 2 * math.log(l1 / (2 * sigma**2)) - l1 * norm / sigma**2
        return logsumexp(integrand + log_cell)

    return log_m


def _maximiser(log_m):
    return minimize_scalar(
        lambda l1: -log_m(l1), bounds=(0.05, 100.0), method="bounded", options={"xatol": 1e-9}
    ).x


@pytest.mark.parametrize("sigma", [1.0, None], ids=["sigma-fixed", "sigma-sampled"])
def test_evidence_laplace_maximises_the_marginal_likelihood(sigma):
    X, y = _small_problem()
    exact = _maximiser(_log_marginal(X, y, sigma))
    finer = _maximiser(_log_marginal(X, y, sigma, points=1601, width=14.0))
    quadrature_error = abs(finer - exact)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        eb = evidence_laplace(X, y, sigma=sigma, seed=0)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert warned == (eb.r_hat > THRESHOLDS.rhat_max), "the warning says whether the runs agree"
    assert quadrature_error < 0.05 * eb.mcse, "the quadrature must be far finer than the Monte Carlo error"
    assert abs(eb.l1 - exact) <= 4 * eb.mcse + quadrature_error, (eb.l1, exact, eb.mcse)
    assert eb.mcse < 0.02 * exact
    np.testing.assert_allclose(eb.alpha, eb.l1 / X.shape[0], rtol=1e-12)  # Lasso's alpha
