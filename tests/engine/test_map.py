"""The MAP (bayesreg.map_estimate) is the penalised estimate: against scikit-learn and the seeds.

Criterion everywhere (`references.assert_map_equal`): every coefficient and the intercept within
``1e-6·|reference| + 1e-9`` of the reference, and the same set of exact zeros (``coef == 0.0``).
scikit-learn's solvers stop at their tolerance short of that for small coefficients, so the reference
is scikit-learn's answer polished and certified (`references.sklearn_linear`,
`references.sklearn_logistic`): its support and signs are turned into the exact solution of the
stationarity equations with NumPy (a linear solve for least squares, Newton's method for the logistic
loss), which must satisfy the KKT conditions to round-off (zeros strictly inside the
subdifferential), and scikit-learn must be within 1e-9 (relative to max(1, ‖θ‖∞)) of it. A failure of
the criterion therefore means bayesreg is wrong, not the reference.

Compilation is the expensive part (seconds per model, prior kind and data shape), so the synthetic
data sets share shapes with the real ones: the unscaled and the ill-conditioned designs are
transformations of diabetes (442 × 10), the logistic ones have the shape of the breast-cancer subset
(569 × 8).
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from references import (
    MAP_RTOL,
    SKLEARN_RTOL,
    Certified,
    assert_map_equal,
    sklearn_linear,
    sklearn_logistic,
)
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning

from bayesreg import map_estimate, prior_from_penalty
from bayesreg.engine import programs
from bayesreg.engine.map import map_grid, solve, solve_given, solve_grid
from bayesreg.models import (
    SufficientStats,
    linear_regression,
    linear_regression_stats,
    logistic_regression,
)

# Fixed noise sds as float64 JAX arrays: map_estimate's own σ iterates (σ with a prior) are such arrays,
# so those fits reuse the compilations of these (a Python float or a NumPy scalar is another cache key).
with jax.enable_x64(True):
    SIGMAS = tuple(jnp.asarray(s, dtype=jnp.float64) for s in (1.0, 0.2, 40.0))


def _solvers_compiled() -> int:
    """Programs compiled so far by the MAP solvers (weights; noise sd given the weights)."""
    return solve.cache_size() + solve_given.cache_size()


# --------------------------------------------------------------------------------------------------
# data sets
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unscaled(diabetes):
    """Diabetes with column scales 1e-3 … 1e3 and column means of ±500 … ±1000."""
    X, y = diabetes
    rng = np.random.default_rng(11)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    scales = np.logspace(-3, 3, X.shape[1])
    means = 1e3 * rng.uniform(0.5, 1.0, X.shape[1]) * rng.choice([-1.0, 1.0], X.shape[1])
    return means + Z * scales, y


@pytest.fixture(scope="module")
def diabetes_raw():
    """scikit-learn's diabetes data in its original units (``scaled=False``): age in years, sex 1/2,
    bmi, blood pressure and six serum measurements, column sds from 0.5 to 77 and means up to 190."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return np.ascontiguousarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def ill_conditioned(diabetes):
    """Diabetes with its last column replaced by bmi − bp + 1e-7 noise: cond(centred X) > 1e7.

    scikit-learn's coordinate descent still converges tightly here (certified like every reference):
    the near-combination column stays out of the Lasso support (its correlation with the residual is
    about half the difference of those of bmi and bp), and the L2 part regularises it otherwise. So no
    second reference solver is needed.
    """
    X, y = diabetes
    rng = np.random.default_rng(12)
    X = X.copy()
    X[:, 9] = X[:, 2] - X[:, 3] + 1e-7 * X[:, 0].std() * rng.normal(size=X.shape[0])
    assert np.linalg.cond(X - X.mean(axis=0)) >= 1e6
    return X, y


@pytest.fixture(scope="module")
def wide():
    """p > n: 40 rows, 100 columns, 5 non-zero true weights, an offset."""
    rng = np.random.default_rng(13)
    X = rng.normal(size=(40, 100))
    w = np.zeros(100)
    w[[3, 17, 42, 66, 90]] = [3.0, -2.0, 1.5, -1.0, 0.7]
    y = 2.0 + X @ w + 0.5 * rng.normal(size=40)
    return X, y


def _classification_design(seed):
    rng = np.random.default_rng(seed)
    n, p = 569, 8  # the shape of the breast-cancer subset: one compilation for both
    X = rng.normal(size=(n, p)) @ (np.eye(p) + 0.3 * rng.normal(size=(p, p)))
    w = np.array([1.5, -1.0, 0.5, 0.0, 0.0, 0.8, 0.0, 0.0])
    return X, X @ w + 0.3, rng


@pytest.fixture(scope="module")
def synthetic_classification():
    X, eta, rng = _classification_design(21)
    return X, (rng.uniform(size=eta.shape) < expit(eta)).astype(float)


@pytest.fixture(scope="module")
def separable():
    """Labels from the sign of a linear function: perfectly separable (the MLE does not exist)."""
    X, eta, _ = _classification_design(22)
    assert np.min(np.abs(eta)) > 0
    return X, (eta > 0).astype(float)


# --------------------------------------------------------------------------------------------------
# helpers: fitting, comparing, certified references
# --------------------------------------------------------------------------------------------------


def fit(model, *args, **kwargs):
    """map_estimate that must converge without a ConvergenceWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = map_estimate(model, *args, **kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert not messages, messages
    assert result.converged, result
    return result


def assert_matches(result, reference, label, fit_intercept=True):
    """The MAP of ``result`` equals ``reference`` (a `references.Certified` or ``(coef, intercept)``)
    coefficient by coefficient (`references.assert_map_equal`: each to 1e-6 of its own size plus
    1e-9, the intercept too, and the same exact zeros)."""
    ref_coef, ref_intercept = (
        (reference.coef, reference.intercept) if isinstance(reference, Certified) else reference
    )
    params = result.params
    if fit_intercept:
        intercept = params["intercept"]
    else:
        assert "intercept" not in params
        intercept = 0.0
    assert_map_equal(params["coef"], intercept, ref_coef, ref_intercept, label=label)


def linear_reference(kind, X, y, alpha, l1_ratio=None, fit_intercept=True):
    """scikit-learn's Lasso / Ridge / ElasticNet, tightly converged, polished on its support and
    KKT-certified (`references.sklearn_linear`)."""
    return sklearn_linear(kind, X, y, alpha, l1_ratio, fit_intercept=fit_intercept)


def logistic_reference(X, y, C, l1_ratio, fit_intercept=True, sklearn_rtol=SKLEARN_RTOL):
    """scikit-learn's LogisticRegression (newton-cholesky for L2, saga otherwise), polished by Newton's
    method on its support and KKT-certified (`references.sklearn_logistic`)."""
    return sklearn_logistic(X, y, C, l1_ratio, fit_intercept=fit_intercept, sklearn_rtol=sklearn_rtol)


def _alpha_max(X, y, fit_intercept=True):
    """Smallest Lasso alpha with an all-zero solution."""
    Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
    return np.max(np.abs(Xc.T @ yc)) / X.shape[0]


def penalty_grid(kind, X, y, fit_intercept=True):
    """(alpha, l1_ratio) pairs: from mostly zeros to none, relative to the data's own scale."""
    if kind == "gaussian":
        Xc = X - X.mean(axis=0) if fit_intercept else X
        unit = np.trace(Xc.T @ Xc) / X.shape[1]
        return [(f * unit, None) for f in (1.0, 1e-2, 1e-4)]
    amax = _alpha_max(X, y, fit_intercept)
    if kind == "laplace":
        return [(f * amax, None) for f in (0.3, 0.05, 0.01, 1e-3)]
    return [(f * amax / rho, rho) for rho in (0.1, 0.5, 0.9) for f in (0.3, 0.05, 5e-3)]


def _prior(kind, alpha, l1_ratio, n, **kwargs):
    return prior_from_penalty(
        kind, alpha, l1_ratio=0.5 if l1_ratio is None else l1_ratio, n_samples=n, **kwargs
    )


# --------------------------------------------------------------------------------------------------
# linear regression: Lasso, Ridge, ElasticNet
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["diabetes", "diabetes_raw", "unscaled", "ill_conditioned", "wide"])
@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
def test_linear_map_is_sklearn(request, data, kind):
    """Both linear models, at any fixed σ, give scikit-learn's estimate under prior_from_penalty."""
    X, y = request.getfixturevalue(data)
    n = X.shape[0]
    stats = SufficientStats.from_data(X, y)
    for alpha, l1_ratio in penalty_grid(kind, X, y):
        reference = linear_reference(kind, X, y, alpha, l1_ratio)
        prior = _prior(kind, alpha, l1_ratio, n)
        for sigma in SIGMAS:
            label = f"{data} {kind} alpha={alpha:.4g} l1_ratio={l1_ratio} sigma={float(sigma)}"
            per_row = fit(linear_regression, X, y, prior=prior, sigma=sigma)
            from_stats = fit(linear_regression_stats, stats, prior=prior, sigma=sigma)
            assert_matches(per_row, reference, f"linear_regression {label}")
            assert_matches(from_stats, reference, f"linear_regression_stats {label}")
            assert_matches(
                per_row,
                (from_stats.params["coef"], from_stats.params["intercept"]),
                f"linear_regression vs linear_regression_stats {label}",
            )


# --------------------------------------------------------------------------------------------------
# σ with a prior: the weights are still the penalised estimate, σ̂ is stationary
# --------------------------------------------------------------------------------------------------


def _sigma_hat_laplace_halfnormal(rss, l1_norm, n, p, alpha, s):
    """Mode in σ of N(y | ·, σ²) · Laplace(w | 0, σ²/(nα)) · HalfNormal(σ | s), w fixed.

    σ ∂/∂σ log p = −n + RSS/σ² − 2p + 2nα‖w‖₁/σ² − σ²/s² = 0 is a quadratic in u = σ².
    """
    k = rss + 2 * n * alpha * l1_norm
    b = n + 2 * p
    u = 0.5 * s**2 * (-b + np.sqrt(b**2 + 4 * k / s**2))
    return np.sqrt(u)


def _sigma_hat_gaussian_exponential(rss, sq_norm, n, p, alpha, rate):
    """Mode in σ of N(y | ·, σ²) · N(w | 0, σ²/α) · Exponential(σ | rate), w fixed.

    σ ∂/∂σ log p = −n + RSS/σ² − p + α‖w‖²/σ² − rate·σ = 0: rate·σ³ + (n+p)σ² − K = 0, one
    positive root.
    """
    roots = np.roots([rate, n + p, 0.0, -(rss + alpha * sq_norm)])
    positive = [r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0]
    assert len(positive) == 1
    return positive[0]


def _fit_sigma_prior(X, y, kind, alpha, sigma_prior):
    prior = prior_from_penalty(kind, alpha, n_samples=X.shape[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = map_estimate(linear_regression, X, y, prior=prior, sigma=sigma_prior)
    return result, [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


SIGMA_PRIOR_CASES = [
    ("laplace", 0.05, "halfnormal"),
    ("laplace", 0.5, "halfnormal"),
    ("gaussian", 0.01, "exponential"),
    ("gaussian", 1.0, "exponential"),
]


def _sigma_prior(name):
    return dist.HalfNormal(100.0) if name == "halfnormal" else dist.Exponential(0.02)


@pytest.mark.parametrize("kind, alpha, sigma_prior", SIGMA_PRIOR_CASES)
def test_sigma_with_prior_weights_are_sklearn(diabetes, kind, alpha, sigma_prior):
    """The prior on w is conditional on σ, so the weights are Lasso/Ridge whatever σ̂ is."""
    X, y = diabetes
    n, p = X.shape
    result, _ = _fit_sigma_prior(X, y, kind, alpha, _sigma_prior(sigma_prior))
    reference = linear_reference(kind, X, y, alpha)
    assert_matches(result, reference, f"{kind} alpha={alpha} sigma ~ {sigma_prior}")

    coef = result.params["coef"]
    intercept, sigma = float(result.params["intercept"]), float(result.params["sigma"])
    rss = float(np.sum((y - intercept - X @ coef) ** 2))
    if kind == "laplace":
        expected = _sigma_hat_laplace_halfnormal(rss, np.abs(coef).sum(), n, p, alpha, 100.0)
    else:
        expected = _sigma_hat_gaussian_exponential(rss, coef @ coef, n, p, alpha, 0.02)
    assert sigma == pytest.approx(expected, rel=MAP_RTOL)


@pytest.mark.parametrize("kind, alpha, sigma_prior", SIGMA_PRIOR_CASES[::2])
def test_sigma_with_prior_converges_without_warning(diabetes, kind, alpha, sigma_prior):
    """The alternation over (w, σ) ends at the optimum (previous test), so it must say it converged."""
    X, y = diabetes
    result, messages = _fit_sigma_prior(X, y, kind, alpha, _sigma_prior(sigma_prior))
    assert not messages, messages
    assert result.converged, (result.num_steps, result.residual)


def test_sigma_with_prior_compiles_one_solver_per_step_of_the_alternation(diabetes):
    """The rounds over (w, σ) warm-start each other, and the first round starts from every weight
    site too: the alternation compiles the weights-given-σ and the σ-given-weights solvers once
    each (a first round with another init structure compiled the first one twice)."""
    X, y = diabetes
    X = X[:, :7]  # a shape no other test fits, so both programs are new here
    size = _solvers_compiled()
    result, _ = _fit_sigma_prior(X, y, "laplace", 0.05, _sigma_prior("halfnormal"))
    assert result.num_steps > 1  # more than one round ran
    assert _solvers_compiled() == size + 2


def test_warm_start_at_the_optimum_converges(diabetes):
    """Starting at the MAP (init=result.params), map_estimate must stop there and report success."""
    X, y = diabetes
    prior = prior_from_penalty("laplace", 0.1, n_samples=X.shape[0])
    sigma = SIGMAS[2]
    first = fit(linear_regression, X, y, prior=prior, sigma=sigma)
    again = fit(linear_regression, X, y, prior=prior, sigma=sigma, init=first.params)
    assert_matches(again, (first.params["coef"], first.params["intercept"]), "warm start")


# --------------------------------------------------------------------------------------------------
# logistic regression
# --------------------------------------------------------------------------------------------------

LOGISTIC_PENALTIES = [("laplace", 1.0), ("gaussian", 0.0), ("elasticnet", 0.5), ("elasticnet", 0.8)]


@pytest.mark.parametrize("data", ["breast_cancer", "synthetic_classification"])
@pytest.mark.parametrize("kind, l1_ratio", LOGISTIC_PENALTIES)
def test_logistic_map_is_sklearn(request, data, kind, l1_ratio):
    X, y = request.getfixturevalue(data)
    for C in (0.01, 0.1, 1.0, 10.0):
        reference = logistic_reference(X, y, C, l1_ratio)
        prior = prior_from_penalty(
            kind, 1.0 / C, l1_ratio=l1_ratio if kind == "elasticnet" else 0.5, family="bernoulli"
        )
        result = fit(logistic_regression, X, y, prior=prior)
        assert_matches(result, reference, f"{data} {kind} C={C} l1_ratio={l1_ratio}")


@pytest.mark.parametrize(
    "kind, l1_ratio, Cs", [("gaussian", 0.0, (0.01, 0.1, 1.0, 10.0)), ("laplace", 1.0, (0.01, 0.1))]
)
def test_logistic_map_is_sklearn_on_unscaled_columns(kind, l1_ratio, Cs):
    """The breast-cancer subset in its original units (column sds from 0.003 to 4.3). saga stops
    about 1e-7 (relative) short of the optimum on these columns at C = 1, so the reference is its
    answer polished by Newton's method on its support and KKT-certified, and scikit-learn is only
    asked to be within 1e-6 of that; C = 1 and 10 are left out of the L1 cases (saga takes 30 s and
    more there)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = np.ascontiguousarray(X[:, [1, 4, 7, 8, 9, 11, 14, 19]], dtype=float)  # the columns of conftest.py
    y = y.astype(float)
    for C in Cs:
        reference = logistic_reference(X, y, C, l1_ratio, sklearn_rtol=1e-6)
        prior = prior_from_penalty(kind, 1.0 / C, family="bernoulli")
        result = fit(logistic_regression, X, y, prior=prior)
        assert_matches(result, reference, f"unscaled breast cancer {kind} C={C}")


@pytest.mark.parametrize(
    "kind, l1_ratio, Cs", [("gaussian", 0.0, (0.1, 1.0, 10.0, 100.0)), ("laplace", 1.0, (0.1, 1.0))]
)
def test_separable_logistic_map_is_finite_and_sklearn(separable, kind, l1_ratio, Cs):
    X, y = separable
    for C in Cs:
        reference = logistic_reference(X, y, C, l1_ratio)
        prior = prior_from_penalty(kind, 1.0 / C, family="bernoulli")
        result = fit(logistic_regression, X, y, prior=prior)
        assert np.all(np.isfinite(result.params["coef"])) and np.isfinite(result.params["intercept"])
        assert_matches(result, reference, f"separable {kind} C={C}")


def test_logistic_map_without_intercept(breast_cancer):
    """L1 logistic regression through the origin; at C=0.01 most weights are 0 (a start at all-zero
    logits, where numpyro's Bernoulli log-density has a wrong gradient)."""
    X, y = breast_cancer
    X = X + 0.5  # so that leaving the intercept out matters
    for C in (0.01, 0.1, 1.0, 10.0):
        reference = logistic_reference(X, y, C, 1.0, fit_intercept=False)
        prior = prior_from_penalty("laplace", 1.0 / C, family="bernoulli")
        result = fit(logistic_regression, X, y, prior=prior, fit_intercept=False)
        assert_matches(result, reference, f"no intercept laplace C={C}", fit_intercept=False)


# --------------------------------------------------------------------------------------------------
# the seeds' closed forms (DIGEST claims 4, 5, 9, 10), book convention, σ fixed
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orthogonal_design():
    """X = Q·diag(d) with orthonormal Q (442 × 10): X'X = diag(d²), so H is diagonal."""
    rng = np.random.default_rng(31)
    Q, _ = np.linalg.qr(rng.normal(size=(442, 10)))
    d = np.logspace(0, 1.5, 10)
    X = Q * d
    w_true = np.array([2.0, -1.5, 0.1, 0.05, -0.8, 0.02, 1.2, -0.03, 0.4, 0.0])
    y = X @ w_true + 0.05 * rng.normal(size=442)
    return X, y


@pytest.mark.parametrize("sigma", [1.0, 0.5, 3.0])
def test_book_laplace_map_is_soft_threshold(orthogonal_design, diabetes, sigma):
    """Diagonal H: w_i = sign(w*_i)·max(|w*_i| − α/H_ii, 0), exactly 0 where |w*_i| <= α/H_ii.

    Without an intercept, so this is also the ``fit_intercept=False`` check of
    `linear_regression_stats` against scikit-learn: NLL + α‖w‖₁ = (n/σ²)·[(1/2n)‖r‖² + (σ²α/n)‖w‖₁],
    Lasso(alpha=σ²α/n, fit_intercept=False), here on the orthogonal design and on diabetes.
    """
    X, y = orthogonal_design
    n = X.shape[0]
    H = np.diag(X.T @ X) / sigma**2  # J = ‖y − Xw‖²/(2σ²)
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    # α between the 4th and 5th (7th and 8th) smallest |w*_i| H_ii: some weights are zero, some not
    ratios = np.sort(np.abs(w_star) * H)
    for alpha in (np.sqrt(ratios[3] * ratios[4]), np.sqrt(ratios[6] * ratios[7])):
        expected = np.sign(w_star) * np.maximum(np.abs(w_star) - alpha / H, 0.0)
        assert 0 < np.sum(expected == 0) < len(expected)
        prior = prior_from_penalty("laplace", alpha, convention="book")
        stats = SufficientStats.from_data(X, y, center=False)
        result = fit(linear_regression_stats, stats, prior=prior, sigma=sigma, fit_intercept=False)
        label = f"soft threshold alpha={alpha:.4g} sigma={sigma}"
        assert_matches(result, (expected, 0.0), label, fit_intercept=False)
        reference = linear_reference("laplace", X, y, sigma**2 * alpha / n, fit_intercept=False)
        assert_matches(result, reference, f"Lasso(fit_intercept=False) {label}", fit_intercept=False)

    X, y = diabetes
    stats = SufficientStats.from_data(X, y, center=False)
    for f in (0.3, 0.05, 0.01):
        alpha = f * n * _alpha_max(X, y, fit_intercept=False) / sigma**2
        reference = linear_reference("laplace", X, y, sigma**2 * alpha / n, fit_intercept=False)
        prior = prior_from_penalty("laplace", alpha, convention="book")
        result = fit(linear_regression_stats, stats, prior=prior, sigma=sigma, fit_intercept=False)
        label = f"diabetes Lasso(fit_intercept=False) book alpha={alpha:.4g} sigma={sigma}"
        assert_matches(result, reference, label, fit_intercept=False)


@pytest.mark.parametrize("sigma", [1.0, 0.5, 3.0])
def test_book_gaussian_map_is_shrunk_ols(orthogonal_design, diabetes, sigma):
    """w̃ = (H + αI)⁻¹ H w*; with a diagonal H, w̃_i = H_ii/(H_ii + α) · w*_i (never exactly 0).

    Without an intercept, so this is also the ``fit_intercept=False`` check of `linear_regression`
    against scikit-learn: NLL + (α/2)‖w‖² = [‖r‖² + σ²α‖w‖²]/(2σ²), Ridge(alpha=σ²α).
    """
    for name, (X, y) in {"orthogonal": orthogonal_design, "diabetes": diabetes}.items():
        H = X.T @ X / sigma**2
        w_star = np.linalg.solve(X.T @ X, X.T @ y)
        for alpha in (0.1 * np.min(np.diag(H)), np.median(np.diag(H)), 10 * np.max(np.diag(H))):
            expected = np.linalg.solve(H + alpha * np.eye(len(w_star)), H @ w_star)
            if name == "orthogonal":
                factor = np.diag(H) / (np.diag(H) + alpha)
                np.testing.assert_allclose(expected, factor * w_star, rtol=1e-10)
            prior = prior_from_penalty("gaussian", alpha, convention="book")
            result = fit(linear_regression, X, y, prior=prior, sigma=sigma, fit_intercept=False)
            label = f"{name} alpha={alpha:.4g} sigma={sigma}"
            assert_matches(result, (expected, 0.0), label, fit_intercept=False)
            assert np.all(result.params["coef"] != 0.0)
            reference = linear_reference("gaussian", X, y, sigma**2 * alpha, fit_intercept=False)
            assert_matches(result, reference, f"Ridge(fit_intercept=False) {label}", fit_intercept=False)


# --------------------------------------------------------------------------------------------------
# convergence warnings and compilation reuse
# --------------------------------------------------------------------------------------------------


def test_warns_when_max_steps_too_small(unscaled):
    """The unscaled design's Lasso at a small alpha takes several proximal Newton steps; one fewer
    than it needs leaves a residual above tol and a warning."""
    X, y = unscaled
    alpha = 1e-3 * _alpha_max(X, y)
    prior = prior_from_penalty("laplace", alpha, n_samples=X.shape[0])
    sigma = SIGMAS[0]
    full = fit(linear_regression, X, y, prior=prior, sigma=sigma)  # no warning with the default
    assert full.num_steps >= 2
    fewer = full.num_steps - 1
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        short = map_estimate(linear_regression, X, y, prior=prior, sigma=sigma, max_steps=fewer)
    assert not short.converged
    assert short.num_steps == fewer
    assert short.residual > 1e-10


def test_no_recompilation_for_new_alpha_sigma_or_data(diabetes, breast_cancer, synthetic_classification):
    X, y = diabetes
    n = X.shape[0]
    rng = np.random.default_rng(41)

    fit(linear_regression, X, y, prior=prior_from_penalty("laplace", 0.1, n_samples=n), sigma=SIGMAS[0])
    size = _solvers_compiled()
    X2, y2 = X * rng.uniform(0.5, 2.0, X.shape[1]), y + rng.normal(size=n)
    fit(
        linear_regression,
        X2,
        y2,
        prior=prior_from_penalty("laplace", 0.02, n_samples=n),
        sigma=SIGMAS[1],
    )
    assert _solvers_compiled() == size

    prior = prior_from_penalty("elasticnet", 0.1, l1_ratio=0.3, n_samples=n)
    fit(linear_regression_stats, SufficientStats.from_data(X, y), prior=prior, sigma=SIGMAS[0])
    size = _solvers_compiled()
    prior = prior_from_penalty("elasticnet", 0.5, l1_ratio=0.7, n_samples=n)
    fit(linear_regression_stats, SufficientStats.from_data(X2, y2), prior=prior, sigma=SIGMAS[2])
    assert _solvers_compiled() == size

    fit(logistic_regression, *breast_cancer, prior=prior_from_penalty("gaussian", 1.0, family="bernoulli"))
    size = _solvers_compiled()
    prior = prior_from_penalty("gaussian", 30.0, family="bernoulli")
    fit(logistic_regression, *synthetic_classification, prior=prior)
    assert _solvers_compiled() == size


def test_fast_compile_options_are_known_to_this_xla(monkeypatch):
    """On a CPU the solver is compiled with `_FAST_COMPILE_CPU` (0.5 s instead of 2.6 s for p = 200);
    an XLA that no longer knows those options gets none rather than an error at the first MAP."""
    assert jax.default_backend() == "cpu"
    assert programs.fast_compile_options() == programs.FAST_COMPILE_CPU
    monkeypatch.setattr(programs, "FAST_COMPILE_CPU", {"xla_no_such_option_anywhere": True})
    assert programs.fast_compile_options.__wrapped__() == {}  # uncached: decided again


def test_map_grid_is_map_estimate_warm_started_along_the_grid(diabetes, wide):
    """`map_grid` (one compiled scan) = `map_estimate` point by point, each from the previous MAP,
    up to the round-off of two differently optimised programs; new strengths do not recompile."""
    for X, y in (diabetes, wide):
        n, p = X.shape
        alphas = _alpha_max(X, y) * np.geomspace(0.9, 1e-3, 6)
        priors = [prior_from_penalty("elasticnet", a, l1_ratio=0.7, n_samples=n) for a in alphas]
        stats = SufficientStats.from_data(X, y)
        start = {"coef": np.zeros(p), "intercept": np.zeros(())}
        grid = map_grid(linear_regression_stats, stats, priors=priors, init=start, sigma=1.0)
        size = solve_grid.cache_size()
        init = start
        for alpha, prior, result in zip(alphas, priors, grid, strict=True):
            one = fit(linear_regression_stats, stats, prior=prior, init=init, sigma=1.0)
            assert result.converged
            # each coefficient and the intercept to 1e-10 of its own size, the same exact zeros
            label = f"map_grid vs map_estimate p={p} alpha={alpha:.4g}"
            assert_map_equal(
                result.params["coef"],
                result.params["intercept"],
                one.params["coef"],
                one.params["intercept"],
                rtol=1e-10,
                atol=0.0,
                label=label,
            )
            init = {k: one.params[k] for k in start}
        map_grid(linear_regression_stats, stats, priors=priors[::-1], init=start, sigma=1.0)
        assert solve_grid.cache_size() == size
    with pytest.raises(ValueError, match="one kind"):
        mixed = [priors[0], prior_from_penalty("laplace", 1.0, convention="book")]
        map_grid(linear_regression_stats, stats, priors=mixed, init=start)


@pytest.mark.parametrize("order", ["C", "F"])
def test_sufficient_stats_match_a_centred_copy_in_extended_precision(unscaled, order, monkeypatch):
    """`SufficientStats.from_data` centres inside the Gram matrix (no copy of X) except for columns
    whose mean is far from 0 against their sd: on the unscaled design (means ±500…±1000, sds
    1e-3…1e3) every statistic equals that of a centred copy computed in long double, to 1e-13 in
    correlation units, for C- and Fortran-ordered X alike."""
    X, y = unscaled
    X = np.asarray(X, order=order)
    monkeypatch.setattr(SufficientStats, "COPY_FREE_SIZE", 0)  # the copy-free path at this size too
    stats = SufficientStats.from_data(X, y)
    Xl, yl = X.astype(np.longdouble), y.astype(np.longdouble)
    Xc, yc = Xl - Xl.mean(axis=0), yl - yl.mean()
    xtx, xty, yty = (Xc.T @ Xc).astype(float), (Xc.T @ yc).astype(float), float(yc @ yc)
    sd = np.sqrt(np.diag(xtx))
    assert np.max(np.abs(stats.xtx - xtx) / np.outer(sd, sd)) <= 1e-13
    assert np.max(np.abs(stats.xty - xty) / (sd * np.sqrt(yty))) <= 1e-13
    assert stats.yty == pytest.approx(yty, rel=1e-14)
    np.testing.assert_allclose(stats.x_mean, X.mean(axis=0), rtol=1e-15)
    raw = SufficientStats.from_data(X, y, center=False)
    np.testing.assert_allclose(raw.xtx, X.T @ X, rtol=1e-14)
    assert float(raw.y_mean) == 0.0 and not raw.x_mean.any()
