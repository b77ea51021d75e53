"""The seeds' claims (DIGEST.md 1–15) and bayesreg.closed_forms against the MAP of the real models.

Everything is in the book's convention (``J + α‖w‖₁``, ``J + (α/2)‖w‖²``, J the negative
log-likelihood), with a fixed noise sd σ and no intercept on centred data, so that ``J`` of
`linear_regression_stats` is ``‖y − Xw‖²/(2σ²) + const`` and its Hessian ``XᵀX/σ²``. The MAP is
`bayesreg.map_estimate`; ``w*`` and ``H`` are computed from the model (`quadratic_approximation`).

Claim → test (this file unless another file is named):

==== ==========================================================================================
 1   test_claim01_l2_gradient_is_grad_J_plus_alpha_w
 2   test_claim02_weight_decay_step_is_gradient_step_on_penalised_J;
     test_closed_forms_weight_decay.py (optax SGD on J + (α/2)‖w‖² ≡ add_decayed_weights; convergence)
 3   test_claim03_linear_J_is_its_quadratic_approximation,
     test_claim03_logistic_quadratic_approximation_error_is_third_order
 4   test_claim04_l2_quadratic_solution_is_the_linear_map,
     test_claim04_logistic_l2_quadratic_solution_error_is_second_order_in_alpha
 5   test_claim05_eigen_shrinkage_is_the_map_along_each_eigenvector
 6   test_claim06_l2_optimum_is_where_ellipse_and_circle_touch
 7   test_claim07_l1_gradient_and_subgradient_at_the_map
 8   test_claim08_diagonal_h_objective_separates
 9   test_claim09_soft_threshold_is_the_lasso_when_h_is_diagonal,
     test_claim09_diagonal_threshold_error_correlated_design_first_order,
     test_claim09_logistic_soft_threshold_error_measured
10   test_claim10_l2_diagonal_factor_never_zero
11   test_claim11_lasso_selects_features
12   test_claim12_l1_optimum_on_an_axis_the_diamond_corner,
     test_claim12_l1_lands_on_axes_l2_never
13   test_claim13_map_is_argmin_of_negative_log_joint
14   test_claim14_negative_log_priors_and_constants
15   test_claim15_cross_entropy_plus_penalty_is_map
==== ==========================================================================================

Tolerances. Linear-Gaussian: the MAP solves a quadratic problem with a Newton step / polished
active-set solve, so it agrees with the closed forms to round-off; each weight within 1e-9 of its
own size (`assert_map_close`, with exact zeros exactly where the closed form has them) leaves room
for the conditioning of the designs used (cond(H) < 1e3) and nothing else; other identities
(gradients, steps) are held to ``rtol · max(1, ‖expected‖∞)`` (`assert_close`). Logistic: the closed
forms are approximations; their errors are measured, printed (``pytest -s``) and checked against
the order that theory predicts, never loosened to pass.
"""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.infer.util import log_density
from references import assert_map_equal, certify_least_squares, certify_logistic
from scipy import optimize
from scipy import stats as scipy_stats
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from bayesreg import closed_forms as cf
from bayesreg import map_estimate, prior_from_penalty
from bayesreg.models import SufficientStats, linear_regression_stats, logistic_regression

EXACT = 1e-9  # linear-Gaussian: closed form vs MAP, relative to max(1, ‖w‖∞)
SIGMA = 50.0  # noise sd for the diabetes fits (the residual sd of the OLS fit is ≈ 54)


# --------------------------------------------------------------------------------------------------
# helpers
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


def book(kind, alpha, family="gaussian"):
    return prior_from_penalty(kind, alpha, convention="book", family=family)


def linear_map(stats, kind, alpha, sigma):
    prior = None if kind is None else book(kind, alpha)
    return fit(linear_regression_stats, stats, prior=prior, sigma=sigma, fit_intercept=False).params["coef"]


def logistic_map(X, y, kind, alpha):
    prior = None if kind is None else book(kind, alpha, "bernoulli")
    return fit(logistic_regression, X, y, prior=prior, fit_intercept=False).params["coef"]


def assert_close(actual, expected, label, rtol=EXACT):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    scale = max(1.0, np.max(np.abs(expected)))
    error = np.max(np.abs(actual - expected))
    assert error <= rtol * scale, f"{label}: max|Δ| = {error:.3e} > {rtol:g} × {scale:.4g}"


def assert_map_close(w_map, expected, label, rtol=EXACT):
    """MAP weights (no intercept) against a reference: each within ``rtol`` of its own size, exact zeros
    exactly where the reference has them (`references.assert_map_equal` with no absolute slack)."""
    assert_map_equal(w_map, 0.0, expected, 0.0, rtol=rtol, atol=0.0, label=label)


@functools.partial(jax.jit, static_argnames=("model",))
def _value_and_grad(model, args, kwargs, w):
    def f(coef):
        return -log_density(model, args, {**kwargs, "fit_intercept": False}, {"coef": coef})[0]

    return jax.value_and_grad(f)(w)


def neg_log_joint(model, args, w, **kwargs):
    """−log p(y, w) of a model (no intercept) at coefficients ``w``, in float64, and its gradient."""
    with jax.enable_x64(True):
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), args)
        value, grad = _value_and_grad(model, args, kwargs, jnp.asarray(w, dtype=jnp.float64))
        return float(value), np.asarray(grad)


def linear_J(stats, w, sigma):
    return neg_log_joint(linear_regression_stats, (stats,), w, prior=None, sigma=sigma)


def logistic_J(X, y, w):
    return neg_log_joint(logistic_regression, (X, y), w, prior=None)


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def centred_diabetes(diabetes):
    """Diabetes, centred (so no intercept is needed): a correlated design, max |corr| ≈ 0.9."""
    X, y = diabetes
    return X - X.mean(axis=0), y - y.mean()


@pytest.fixture(scope="module")
def diabetes_quadratic(centred_diabetes):
    return cf.quadratic_approximation(*centred_diabetes, sigma=SIGMA)


@pytest.fixture(scope="module")
def orthogonal():
    """442 × 10 with centred, mutually orthogonal columns of norms 1 … 10^1.5: XᵀX is diagonal."""
    rng = np.random.default_rng(31)
    Z = rng.normal(size=(442, 10))
    Q, _ = np.linalg.qr(Z - Z.mean(axis=0))
    X = Q * np.logspace(0, 1.5, 10)
    w_true = np.array([2.0, -1.5, 0.1, 0.05, -0.8, 0.02, 1.2, -0.03, 0.4, 0.0])
    y = X @ w_true + 0.05 * rng.normal(size=442)
    return X, y - y.mean()


@pytest.fixture(scope="module")
def classification(breast_cancer):
    """Breast-cancer subset (569 × 8, standardised), no intercept; its MLE exists (not separable)."""
    return breast_cancer


@pytest.fixture(scope="module")
def logistic_quadratic(classification):
    return cf.quadratic_approximation(*classification, family="bernoulli")


def two_feature_problem(w_true, corr, scales, seed, n=200):
    """A centred two-feature regression with correlated columns: elliptic contours of J.

    Returns X, y and its exact quadratic form (σ = 1): w* (least squares), H = XᵀX, J(w*).
    (test_claim03_linear_J_is_its_quadratic_approximation checks these against the model.)
    """
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array([[1.0, corr], [corr, 1.0]]))
    X = rng.normal(size=(n, 2)) @ L.T * np.asarray(scales)
    X -= X.mean(axis=0)
    y = X @ np.asarray(w_true) + rng.normal(size=n)
    y -= y.mean()
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    stats = SufficientStats.from_data(X, y, center=False)
    J_star, _ = linear_J(stats, w_star, 1.0)
    return X, y, stats, cf.QuadraticApproximation(w_star, X.T @ X, 0.0, J_star, X.T @ (X @ w_star - y))


# --------------------------------------------------------------------------------------------------
# claims 1–3: the L2 gradient, weight decay, the quadratic approximation
# --------------------------------------------------------------------------------------------------


def test_claim01_l2_gradient_is_grad_J_plus_alpha_w(centred_diabetes):
    """∇J̃ = ∇J + αw: the gradient of the model with a Gaussian prior minus the flat-prior one."""
    stats = SufficientStats.from_data(*centred_diabetes, center=False)
    rng = np.random.default_rng(1)
    for alpha in (1e-4, 0.3, 20.0):
        for _ in range(3):
            w = rng.normal(scale=300.0, size=10)
            _, grad_J = linear_J(stats, w, SIGMA)
            _, grad_penalised = neg_log_joint(
                linear_regression_stats, (stats,), w, prior=book("gaussian", alpha), sigma=SIGMA
            )
            assert_close(grad_penalised - grad_J, alpha * w, f"alpha={alpha}", rtol=1e-12)


def test_claim02_weight_decay_step_is_gradient_step_on_penalised_J(centred_diabetes):
    """(1 − εα)w − ε∇J(w) = w − ε∇J̃(w), ∇J̃ from the model with the Gaussian prior."""
    stats = SufficientStats.from_data(*centred_diabetes, center=False)
    rng = np.random.default_rng(2)
    for alpha, eps in ((0.5, 1e-3), (20.0, 0.01)):
        w = rng.normal(scale=300.0, size=10)
        _, grad_J = linear_J(stats, w, SIGMA)
        _, grad_penalised = neg_log_joint(
            linear_regression_stats, (stats,), w, prior=book("gaussian", alpha), sigma=SIGMA
        )
        decayed = cf.weight_decay_step(w, grad_J, alpha, eps)
        assert_close(decayed, w - eps * grad_penalised, f"alpha={alpha} eps={eps}", rtol=1e-14)
        # the decay factor itself: with ∇J = 0 the step only shrinks
        np.testing.assert_allclose(cf.weight_decay_step(w, 0.0 * w, alpha, eps), (1 - eps * alpha) * w)


def test_claim03_linear_J_is_its_quadratic_approximation(centred_diabetes, diabetes_quadratic):
    """∇J(w*) = 0, H ⪰ 0, and J(w) = J(w*) + ½(w − w*)ᵀH(w − w*) exactly for a Gaussian likelihood."""
    X, y = centred_diabetes
    stats = SufficientStats.from_data(X, y, center=False)
    q = diabetes_quadratic
    _, grad_at_zero = linear_J(stats, np.zeros(10), SIGMA)
    assert np.max(np.abs(q.gradient)) <= 1e-9 * np.max(np.abs(grad_at_zero))
    np.testing.assert_allclose(q.hessian, X.T @ X / SIGMA**2, rtol=1e-12, atol=0)
    assert np.min(np.linalg.eigvalsh(q.hessian)) > 0
    rng = np.random.default_rng(3)
    for _ in range(5):
        w = q.w_star + rng.normal(scale=200.0, size=10)
        J, _ = linear_J(stats, w, SIGMA)
        d = w - q.w_star
        quadratic = q.nll + 0.5 * d @ q.hessian @ d
        assert abs(J - quadratic) <= 1e-12 * abs(J), (J, quadratic)


def test_claim03_logistic_quadratic_approximation_error_is_third_order(classification, logistic_quadratic):
    """For the cross-entropy, J − Ĵ = O(t³) along w* + t·d: halving t divides the error by ≈ 8."""
    X, y = classification
    q = logistic_quadratic
    assert np.max(np.abs(q.gradient)) <= 1e-9 * np.max(np.abs(logistic_J(X, y, np.zeros(8))[1]))
    assert np.min(np.linalg.eigvalsh(q.hessian)) > 0
    rng = np.random.default_rng(4)
    d = rng.normal(size=8)
    d /= np.linalg.norm(d)
    errors = []
    for t in (0.4, 0.2, 0.1, 0.05):
        J, _ = logistic_J(X, y, q.w_star + t * d)
        errors.append(J - (q.nll + 0.5 * t**2 * d @ q.hessian @ d))
    errors = np.abs(errors)
    print("\nlogistic |J − Ĵ| at t = 0.4, 0.2, 0.1, 0.05:", errors)
    assert np.all(errors > 1e-10), "the quadratic approximation of a logistic J cannot be exact"
    ratios = errors[:-1] / errors[1:]
    # third order: each halving of t divides the error by 2³ = 8 (up to the fourth-order term)
    assert np.all((ratios > 6.0) & (ratios < 10.0)), ratios


# --------------------------------------------------------------------------------------------------
# claims 4–6: the L2 solution, eigen-shrinkage, the circle
# --------------------------------------------------------------------------------------------------


def test_claim04_l2_quadratic_solution_is_the_linear_map(centred_diabetes, diabetes_quadratic):
    """w̃ = (H + αI)⁻¹Hw* is the MAP under a Gaussian prior, and w̃ → w* as α → 0."""
    stats = SufficientStats.from_data(*centred_diabetes, center=False)
    q = diabetes_quadratic
    lam = np.linalg.eigvalsh(q.hessian)
    distances = []
    for alpha in lam[-1] * np.logspace(2, -10, 7):
        expected = cf.l2_quadratic_solution(q.hessian, q.w_star, alpha)
        assert_map_close(linear_map(stats, "gaussian", alpha, SIGMA), expected, f"alpha={alpha:.3g}")
        distances.append(np.linalg.norm(expected - q.w_star))
        # ‖w̃ − w*‖ = α‖(H + αI)⁻¹w*‖ ≤ α‖w*‖/(λ_min + α): decreasing to 0 with α
        assert distances[-1] <= alpha * np.linalg.norm(q.w_star) / (lam[0] + alpha) * (1 + 1e-9)
    assert np.all(np.diff(distances) < 0), distances
    assert distances[-1] <= 1e-6 * np.linalg.norm(q.w_star)
    assert_close(cf.l2_quadratic_solution(q.hessian, q.w_star, 0.0), q.w_star, "alpha=0")


def test_claim04_logistic_l2_quadratic_solution_error_is_second_order_in_alpha(
    classification, logistic_quadratic
):
    """Logistic: (H + αI)⁻¹Hw* misses the MAP by O(α²) (the third derivative of J), measured.

    With d = w̃ − w* = O(α), ∇J(w* + d) = Hd + ½∇³J[d, d] + O(α³), so the linearised solution errs
    by (H + αI)⁻¹·½∇³J[d, d] = O(α²): for α ≪ λ_min(H) halving α divides the error by → 4 and the
    error is a small fraction of the shrinkage ‖w̃ − w*‖ it approximates; at α = λ_min it is not.
    (Measured here: error/shift ≈ 0.37 at α = λ_min, 0.033 at λ_min/32, 0.002 at λ_min/512.)
    """
    X, y = classification
    q = logistic_quadratic
    lam_min = np.min(np.linalg.eigvalsh(q.hessian))
    alphas = lam_min * 2.0 ** -np.array([0, 5, 6, 7, 8, 9])
    rows = []
    for alpha in alphas:
        approx = cf.l2_quadratic_solution(q.hessian, q.w_star, alpha)
        exact = logistic_map(X, y, "gaussian", alpha)
        rows.append((alpha, np.max(np.abs(approx - exact)), np.max(np.abs(exact - q.w_star))))
    rows = np.array(rows)
    errors, shifts = rows[:, 1], rows[:, 2]
    print("\nlogistic L2: alpha, max|approx − MAP|, max|MAP − w*|, error/shift")
    print(np.c_[rows, errors / shifts])
    assert np.all(errors > 1e-6), "the error is far above round-off: the approximation is not exact"
    assert np.all(np.diff(errors) < 0), "the error must fall as alpha falls"
    ratios = errors[1:-1] / errors[2:]
    assert np.all((ratios > 3.5) & (ratios < 4.5)) and np.all(np.diff(ratios) > 0), ratios
    assert errors[0] > 0.2 * shifts[0], "at alpha = lambda_min the approximation is poor"
    assert np.all(errors[1:] < 0.05 * shifts[1:]), "for alpha << lambda_min it captures the shrinkage"


def test_claim05_eigen_shrinkage_is_the_map_along_each_eigenvector(centred_diabetes, diabetes_quadratic):
    """Q(Λ + αI)⁻¹ΛQᵀw* = w̃; the MAP's component along eigenvector i is λᵢ/(λᵢ + α) times w*'s."""
    stats = SufficientStats.from_data(*centred_diabetes, center=False)
    q = diabetes_quadratic
    lam = np.linalg.eigvalsh(q.hessian)
    alpha = np.sqrt(lam[0] * lam[-1])  # inside the spectrum: some directions kept, some removed
    shrink = cf.eigen_shrinkage(q.hessian, q.w_star, alpha)
    assert_close(shrink.solution, cf.l2_quadratic_solution(q.hessian, q.w_star, alpha), "decomposition")
    np.testing.assert_allclose(shrink.factors, lam / (lam + alpha), rtol=1e-12)
    map_components = shrink.eigenvectors.T @ linear_map(stats, "gaussian", alpha, SIGMA)
    assert_map_close(map_components, shrink.factors * shrink.components, "components of the MAP")
    measured = map_components / shrink.components
    print("\neigen-shrinkage λ/α, λ/(λ+α), measured:\n", np.c_[lam / alpha, shrink.factors, measured])
    np.testing.assert_allclose(measured, shrink.factors, rtol=1e-6)
    small, large = lam < alpha / 10, lam > 10 * alpha
    assert small.any() and large.any()
    assert np.all(measured[small] < 1 / 11) and np.all(measured[large] > 10 / 11)


def test_claim06_l2_optimum_is_where_ellipse_and_circle_touch():
    """Figure 7-1-1a numerically: at w̃ the contour of J is tangent to the circle ‖w‖ = ‖w̃‖.

    Tangency: ∇J(w̃) is anti-parallel to w̃ (∇J(w̃) = −αw̃); w̃ minimises J on its circle, and has the
    smallest norm on its ellipse J(w) = J(w̃).
    """
    _, _, stats, q = two_feature_problem([2.0, 1.0], corr=0.7, scales=[1.0, 0.5], seed=6)
    alpha = float(np.trace(q.hessian)) / 4  # strong enough to move w̃ visibly off w*
    w = linear_map(stats, "gaussian", alpha, 1.0)
    J_w, grad = linear_J(stats, w, 1.0)
    cosine = grad @ w / (np.linalg.norm(grad) * np.linalg.norm(w))
    assert cosine == pytest.approx(-1.0, abs=1e-12)
    assert np.linalg.norm(grad) == pytest.approx(alpha * np.linalg.norm(w), rel=1e-9)
    # the circle through w̃: J is smallest at w̃
    theta = np.linspace(0, 2 * np.pi, 7201)
    circle = np.linalg.norm(w) * np.c_[np.cos(theta), np.sin(theta)]
    J_circle = np.array([linear_J(stats, c, 1.0)[0] for c in circle[::10]])
    assert np.all(J_circle >= J_w - 1e-12 * abs(J_w))
    d = circle - q.w_star  # the same on the fine grid, with J from the exact quadratic (claim 3)
    J_fine = q.nll + 0.5 * np.einsum("ij,jk,ik->i", d, q.hessian, d)
    nearest = circle[np.argmin(J_fine)]
    assert np.linalg.norm(nearest - w) <= np.linalg.norm(w) * (theta[1] - theta[0])
    # the ellipse through w̃: the norm is smallest at w̃
    L = np.linalg.cholesky(q.hessian)
    radius = np.sqrt(2 * (J_w - q.nll))
    ellipse = q.w_star + radius * np.linalg.solve(L.T, np.c_[np.cos(theta), np.sin(theta)].T).T
    assert np.min(np.linalg.norm(ellipse, axis=1)) >= np.linalg.norm(w) * (1 - 1e-12)
    assert np.all(w != 0) and np.linalg.norm(w) < np.linalg.norm(q.w_star)


# --------------------------------------------------------------------------------------------------
# claims 7–10: the L1 subgradient, the diagonal H, soft threshold vs the L2 factor
# --------------------------------------------------------------------------------------------------


def test_claim07_l1_gradient_and_subgradient_at_the_map(centred_diabetes, diabetes_quadratic):
    """∇J̃ = ∇J + α sign(w) away from 0; at the lasso MAP 0 ∈ ∇J + α∂‖w‖₁ (|∂ᵢJ| ≤ α at zeros)."""
    stats = SufficientStats.from_data(*centred_diabetes, center=False)
    rng = np.random.default_rng(7)
    alpha = 3.0
    w = rng.normal(scale=300.0, size=10)
    _, grad_J = linear_J(stats, w, SIGMA)
    _, grad_penalised = neg_log_joint(
        linear_regression_stats, (stats,), w, prior=book("laplace", alpha), sigma=SIGMA
    )
    assert_close(grad_penalised - grad_J, alpha * np.sign(w), "Laplace gradient", rtol=1e-12)

    H = diabetes_quadratic.hessian
    ratios = np.abs(diabetes_quadratic.w_star) * np.diag(H)
    for alpha in np.quantile(ratios, [0.2, 0.5, 0.8]):
        w = linear_map(stats, "laplace", alpha, SIGMA)
        _, grad_J = linear_J(stats, w, SIGMA)
        on = w != 0
        assert on.any() and (~on).any(), "pick alphas with both zero and non-zero weights"
        np.testing.assert_allclose(grad_J[on] + alpha * np.sign(w[on]), 0.0, atol=1e-9 * alpha)
        assert np.all(np.abs(grad_J[~on]) <= alpha * (1 + 1e-9))


def test_claim08_diagonal_h_objective_separates(orthogonal):
    """With H diagonal, J(w) − J(w*) = Σ ½Hᵢᵢ(wᵢ − wᵢ*)², and each MAP coordinate minimises its own
    one-dimensional problem ½Hᵢᵢ(wᵢ − wᵢ*)² + α|wᵢ| (found here by scipy's bounded Brent search)."""
    X, y = orthogonal
    stats = SufficientStats.from_data(X, y, center=False)
    q = cf.quadratic_approximation(X, y)
    h = np.diag(q.hessian)
    off = q.hessian - np.diag(h)
    assert np.max(np.abs(off)) <= 1e-12 * np.max(h)
    rng = np.random.default_rng(8)
    for _ in range(5):
        w = q.w_star + rng.normal(size=10)
        J, _ = linear_J(stats, w, 1.0)
        assert J - q.nll == pytest.approx(np.sum(0.5 * h * (w - q.w_star) ** 2), rel=1e-10)
    alpha = float(np.median(np.abs(q.w_star) * h))
    lasso = linear_map(stats, "laplace", alpha, 1.0)
    for i in range(10):
        one_d = optimize.minimize_scalar(
            lambda v, i=i: 0.5 * h[i] * (v - q.w_star[i]) ** 2 + alpha * abs(v),
            bounds=(-3 * abs(q.w_star[i]) - 1, 3 * abs(q.w_star[i]) + 1),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert lasso[i] == pytest.approx(one_d.x, abs=1e-7), i


def test_claim09_soft_threshold_is_the_lasso_when_h_is_diagonal(orthogonal):
    """wᵢ = sign(wᵢ*)max(|wᵢ*| − α/Hᵢᵢ, 0) is the MAP: exact zeros where |wᵢ*| ≤ α/Hᵢᵢ, the others
    moved toward 0 by exactly α/Hᵢᵢ; the diagnostic reports no difference."""
    X, y = orthogonal
    stats = SufficientStats.from_data(X, y, center=False)
    q = cf.quadratic_approximation(X, y)
    h = np.diag(q.hessian)
    ratios = np.sort(np.abs(q.w_star) * h)
    for alpha in (np.sqrt(ratios[2] * ratios[3]), np.sqrt(ratios[6] * ratios[7])):
        soft = cf.soft_threshold_diagonal(q.w_star, h, alpha)
        lasso = linear_map(stats, "laplace", alpha, 1.0)
        assert_map_close(lasso, soft, f"alpha={alpha:.4g}")
        zero = np.abs(q.w_star) <= alpha / h
        assert zero.any() and (~zero).any()
        assert np.all(lasso[zero] == 0.0)
        np.testing.assert_allclose(
            np.abs(q.w_star[~zero]) - np.abs(lasso[~zero]), alpha / h[~zero], rtol=1e-9
        )
        report = cf.diagonal_threshold_error(X, y, alpha, approximation=q)
        assert report.max_abs_error <= EXACT * max(1.0, np.max(np.abs(soft)))
        assert report.mismatched.size == 0
        assert report.max_correlation <= 1e-12


def test_claim09_diagonal_threshold_error_correlated_design_first_order(centred_diabetes, diabetes_quadratic):
    """Correlated design: the soft threshold is off, by exactly α‖(H⁻¹ − diag(H)⁻¹)sign(w*)‖∞ while
    no sign changes (the lasso is then w* − αH⁻¹sign(w*)), and with different zeros at larger α."""
    X, y = centred_diabetes
    q = diabetes_quadratic
    s = np.sign(q.w_star)
    gap = np.linalg.solve(q.hessian, s) - s / np.diag(q.hessian)
    ratios = np.abs(q.w_star) * np.diag(q.hessian)
    small = 1e-3 * np.min(ratios)  # keeps every sign: the lasso is the linear formula above
    report = cf.diagonal_threshold_error(X, y, small, sigma=SIGMA, approximation=q)
    assert_map_close(report.lasso, q.w_star - small * np.linalg.solve(q.hessian, s), "lasso, all signs kept")
    assert report.max_abs_error == pytest.approx(small * np.max(np.abs(gap)), rel=1e-6)
    assert report.max_abs_error > 1e-3 * np.max(np.abs(q.w_star))
    assert report.max_correlation > 0.8
    mismatches = []
    for alpha in np.quantile(ratios, [0.2, 0.4, 0.6, 0.8]):
        report = cf.diagonal_threshold_error(X, y, alpha, sigma=SIGMA, approximation=q)
        assert report.max_abs_error == np.max(np.abs(report.soft_threshold - report.lasso))
        differ = (report.soft_threshold == 0) != (report.lasso == 0)
        assert np.array_equal(report.mismatched, np.flatnonzero(differ))
        mismatches.append(report.mismatched.size)
        assert report.max_abs_error > 1e-3 * np.max(np.abs(q.w_star))
    print("\ndiabetes: features whose zero status differs at four alphas:", mismatches)
    assert max(mismatches) > 0


def test_claim09_logistic_soft_threshold_error_measured(classification, logistic_quadratic):
    """Logistic: the soft threshold with the diagonal of the NLL's Hessian vs the lasso MAP.

    To first order in α (no weight thresholded) the lasso is w* − αH⁻¹s and the soft threshold
    w* − α diag(H)⁻¹s (s = sign w*), so error/α → ‖(H⁻¹ − diag(H)⁻¹)s‖∞ as α → 0, with an O(α)
    deviation from the non-quadratic J; measured and shown.
    """
    X, y = classification
    q = logistic_quadratic
    s = np.sign(q.w_star)
    first_order = np.max(np.abs(np.linalg.solve(q.hessian, s) - s / np.diag(q.hessian)))
    base = np.min(np.abs(q.w_star) * np.diag(q.hessian))
    rows = []
    for alpha in base * np.array([0.4, 0.2, 0.1, 0.05]):
        report = cf.diagonal_threshold_error(X, y, alpha, family="bernoulli", approximation=q)
        assert report.mismatched.size == 0 and np.all(report.lasso != 0)
        rows.append((alpha, report.max_abs_error, report.max_abs_error / alpha / first_order - 1))
    rows = np.array(rows)
    print("\nlogistic soft threshold: alpha, max|Δ|, relative deviation from first order\n", rows)
    assert np.all(rows[:, 1] > 1e-6), "the diagonal soft threshold is not the logistic lasso"
    deviation = np.abs(rows[:, 2])
    assert np.all(np.diff(deviation) < 0) and deviation[-1] < 0.05, deviation
    big = cf.diagonal_threshold_error(X, y, 10.0 * base, family="bernoulli", approximation=q)
    print("alpha = 10 × base:", big.max_abs_error, "mismatched", big.mismatched)
    assert big.max_abs_error > rows[0, 1]


def test_claim10_l2_diagonal_factor_never_zero(orthogonal):
    """With H diagonal the ridge MAP is Hᵢᵢ/(Hᵢᵢ + α)·wᵢ*: never exactly 0, while L1 gives zeros."""
    X, y = orthogonal
    stats = SufficientStats.from_data(X, y, center=False)
    q = cf.quadratic_approximation(X, y)
    h = np.diag(q.hessian)
    for alpha in (0.1 * np.min(h), np.median(h), 1e3 * np.max(h)):
        ridge = linear_map(stats, "gaussian", alpha, 1.0)
        assert_map_close(ridge, cf.l2_diagonal_solution(q.w_star, h, alpha), f"alpha={alpha:.3g}")
        factor = cf.l2_diagonal_factor(h, alpha)
        assert np.all((factor > 0) & (factor < 1))
        assert np.all(ridge != 0.0), "L2 set a weight exactly to zero"
    lasso = linear_map(stats, "laplace", float(np.median(np.abs(q.w_star) * h)), 1.0)
    assert np.sum(lasso == 0.0) >= 4


def test_claim11_lasso_selects_features():
    """The lasso's zeros discard features: it recovers the true support of a sparse model, the
    discarded columns do not enter its predictions, and removing them changes nothing."""
    rng = np.random.default_rng(11)
    n, p = 300, 10
    X = rng.normal(size=(n, p)) @ (np.eye(p) + 0.2 * rng.normal(size=(p, p)))
    X -= X.mean(axis=0)
    true = np.zeros(p)
    true[[0, 3, 7]] = [3.0, -2.0, 1.5]
    y = X @ true + rng.normal(size=n)
    y -= y.mean()
    stats = SufficientStats.from_data(X, y, center=False)
    ols = linear_map(stats, None, 0.0, 1.0)
    assert np.all(ols != 0.0), "without the penalty nothing is selected"
    # twice the usual bound on max|Xᵀε| (noise only), √(2 log p)·σ·max‖xⱼ‖: noise features drop out
    alpha = 2.0 * np.sqrt(2 * np.log(p)) * np.max(np.linalg.norm(X, axis=0))
    lasso = linear_map(stats, "laplace", alpha, 1.0)
    selected = np.flatnonzero(lasso != 0.0)
    assert np.array_equal(selected, [0, 3, 7]), selected
    np.testing.assert_allclose(X[:, selected] @ lasso[selected], X @ lasso, rtol=1e-12, atol=1e-12)
    X_kept = np.where(np.isin(np.arange(p), selected), X, 0.0)
    refit = linear_map(SufficientStats.from_data(X_kept, y, center=False), "laplace", alpha, 1.0)
    assert_map_close(refit, lasso, "lasso on the selected features only")


def test_claim12_l1_optimum_on_an_axis_the_diamond_corner():
    """Figure 7-1-2a numerically: the lasso optimum is the corner of the diamond ‖w‖₁ = ‖w̃‖₁ on the
    w₁ axis, where J is smallest over the whole diamond; L2 on the same problem stays off the axes."""
    X, y, stats, q = two_feature_problem([2.0, 0.3], corr=0.6, scales=[1.0, 1.0], seed=12)
    alpha = 0.5 * float(np.max(np.abs(X.T @ y)))  # halfway to the all-zero solution
    w = linear_map(stats, "laplace", alpha, 1.0)
    assert w[1] == 0.0 and w[0] != 0.0, w
    radius = np.abs(w).sum()
    t = np.linspace(0.0, 1.0, 2001)
    edge = np.c_[1 - t, t]  # the edge from (1, 0) to (0, 1); the other three by symmetry
    diamond = radius * np.vstack([edge * s for s in ([1, 1], [-1, 1], [-1, -1], [1, -1])])
    d = diamond - q.w_star
    J = q.nll + 0.5 * np.einsum("ij,jk,ik->i", d, q.hessian, d)  # exact for this model (claim 3)
    corner = diamond[np.argmin(J)]
    np.testing.assert_array_equal(corner, [np.sign(w[0]) * radius, 0.0])
    assert_map_close(w, corner, "the corner is the MAP")
    assert linear_J(stats, w, 1.0)[0] <= np.min(J) + 1e-12 * abs(np.min(J))
    ridge = linear_map(stats, "gaussian", alpha / np.abs(w[0]), 1.0)
    assert np.all(ridge != 0.0)


def test_claim12_l1_lands_on_axes_l2_never():
    """Over 100 random two-feature problems (random H, w*), the lasso puts the optimum on an axis
    (exactly one zero) in many, ridge in none: the contours 'tend to' touch the diamond's corners."""
    rng = np.random.default_rng(120)
    on_axis = {"laplace": 0, "gaussian": 0}
    for _ in range(100):
        A = rng.normal(size=(2, 2))
        H = A @ A.T + 0.1 * np.eye(2)
        w_star = rng.normal(size=2)
        stats = SufficientStats(
            np.asarray(100.0), np.zeros(2), np.asarray(0.0), H, H @ w_star, np.asarray(w_star @ H @ w_star)
        )
        alpha = 0.5 * np.max(np.abs(H @ w_star))  # half of the smallest α with w = 0
        for kind in on_axis:
            w = linear_map(stats, kind, alpha, 1.0)
            on_axis[kind] += int(np.sum(w == 0.0) == 1)
    print("\nproblems with the optimum on an axis (of 100):", on_axis)
    assert on_axis["gaussian"] == 0
    assert on_axis["laplace"] >= 20


# --------------------------------------------------------------------------------------------------
# claims 13–15: MAP, priors, cross-entropy
# --------------------------------------------------------------------------------------------------


def test_claim13_map_is_argmin_of_negative_log_joint(orthogonal):
    """θ_MAP = argmin[−log p(y|θ) − log p(θ)], the objective written with scipy.stats alone.

    Gaussian prior: scipy's L-BFGS on that objective finds the MAP. Laplace prior (not smooth):
    no perturbation of the MAP lowers the objective. The model's log joint differs from scipy's
    by a constant only (the same density).
    """
    X, y = orthogonal
    stats = SufficientStats.from_data(X, y, center=False)
    sigma = 0.5
    for kind, alpha in (("gaussian", 2.0), ("laplace", 5.0)):
        if kind == "gaussian":
            prior_logpdf = scipy_stats.norm(0.0, 1.0 / np.sqrt(alpha)).logpdf
        else:
            prior_logpdf = scipy_stats.laplace(0.0, 1.0 / alpha).logpdf

        def objective(w, prior_logpdf=prior_logpdf):
            return -np.sum(scipy_stats.norm(X @ w, sigma).logpdf(y)) - np.sum(prior_logpdf(w))

        w_map = linear_map(stats, kind, alpha, sigma)
        rng = np.random.default_rng(13)
        offsets = []
        for _ in range(3):
            w = w_map + rng.normal(size=10)
            value, _ = neg_log_joint(
                linear_regression_stats,
                (stats,),
                w,
                prior=book(kind, alpha),
                sigma=sigma,
            )
            offsets.append(value - objective(w))
        np.testing.assert_allclose(offsets, offsets[0], atol=1e-8 * abs(objective(w_map)))
        if kind == "gaussian":

            def gradient(w, alpha=alpha):
                return -X.T @ (y - X @ w) / sigma**2 + alpha * w

            found = optimize.minimize(
                objective, np.zeros(10), jac=gradient, method="L-BFGS-B", options={"gtol": 1e-11, "ftol": 0}
            )
            assert_close(w_map, found.x, "scipy argmin", rtol=1e-7)
            # L-BFGS stops at its gradient tolerance, 2.5e-6 (relative) short on the smallest weight:
            # its answer polished on its support and KKT-certified is the exact argmin of the same
            # objective, (1/σ²)[½‖y − Xw‖² + (ασ²/2)‖w‖²]; the MAP equals it weight by weight
            exact = certify_least_squares(X, y, found.x, l1=0.0, l2=alpha * sigma**2, fit_intercept=False)
            assert np.max(np.abs(gradient(exact.coef)) * sigma**2) <= 1e-12 * np.max(np.abs(X.T @ y))
            assert_map_close(w_map, exact.coef, "scipy argmin, polished and certified")
        else:
            best = objective(w_map)
            assert np.sum(w_map == 0.0) > 0
            for delta in (1e-3, 1e-6):
                for i in range(10):
                    for sign in (1.0, -1.0):
                        step = np.zeros(10)
                        step[i] = sign * delta
                        assert objective(w_map + step) >= best - 1e-9 * abs(best)
                for _ in range(100):
                    assert objective(w_map + delta * rng.normal(size=10)) >= best - 1e-9 * abs(best)


def test_claim14_negative_log_priors_and_constants():
    """−log p(w) = α‖w‖₁ − n log α + n log 2 (Laplace(0, 1/α)); (α/2)‖w‖² + (n/2)log(2π/α) (N(0, 1/α)),
    against scipy.stats and the numpyro prior of prior_from_penalty; the constants are the value at
    w = 0, and without them what is left is the penalty."""
    rng = np.random.default_rng(14)
    for n in (1, 3, 10):
        for alpha in (0.05, 1.0, 30.0):
            w = rng.normal(scale=2.0, size=n)
            laplace = cf.laplace_neg_log_prior(w, alpha)
            gaussian = cf.gaussian_neg_log_prior(w, alpha)
            assert laplace == pytest.approx(-scipy_stats.laplace(0, 1 / alpha).logpdf(w).sum(), rel=1e-13)
            assert gaussian == pytest.approx(
                -scipy_stats.norm(0, 1 / np.sqrt(alpha)).logpdf(w).sum(), rel=1e-13
            )
            if n == 10:  # the numpyro prior of the model (one shape: eager JAX compiles per shape)
                with jax.enable_x64(True):
                    for kind, value in (("laplace", laplace), ("gaussian", gaussian)):
                        d = book(kind, alpha).distribution(n)
                        assert value == pytest.approx(-float(d.log_prob(jnp.asarray(w))), rel=1e-13)
            zeros = np.zeros(n)
            assert cf.laplace_neg_log_prior(zeros, alpha) == pytest.approx(
                -n * np.log(alpha) + n * np.log(2), abs=1e-13
            )
            assert cf.gaussian_neg_log_prior(zeros, alpha) == pytest.approx(
                0.5 * n * np.log(2 * np.pi / alpha), abs=1e-13
            )
            assert cf.laplace_neg_log_prior(w, alpha, constant=False) == pytest.approx(
                alpha * np.abs(w).sum()
            )
            assert cf.gaussian_neg_log_prior(w, alpha, constant=False) == pytest.approx(alpha / 2 * w @ w)
    batch = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        cf.laplace_neg_log_prior(batch, 2.0), [cf.laplace_neg_log_prior(b, 2.0) for b in batch]
    )
    with pytest.raises(ValueError, match="alpha"):
        cf.laplace_neg_log_prior(batch, 0.0)


def test_claim15_cross_entropy_plus_penalty_is_map(classification):
    """The logistic NLL is the cross-entropy (sklearn's log_loss, summed); the MAP under a Laplace
    (Gaussian) prior of rate α is LogisticRegression with the L1 (L2) penalty and C = 1/α."""
    X, y = classification
    rng = np.random.default_rng(15)
    for _ in range(3):
        w = rng.normal(size=8)
        J, _ = logistic_J(X, y, w)
        assert J == pytest.approx(log_loss(y, expit(X @ w), normalize=False), rel=1e-12)
    for kind, l1_ratio, solver in (("laplace", 1.0, "saga"), ("gaussian", 0.0, "newton-cholesky")):
        for alpha in (0.3, 10.0):
            est = LogisticRegression(
                C=1 / alpha,
                l1_ratio=l1_ratio,
                solver=solver,
                fit_intercept=False,
                tol=1e-14,
                max_iter=10**6,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                est.fit(X, y)
            l1, l2 = (alpha, 0.0) if kind == "laplace" else (0.0, alpha)
            label = f"{kind} alpha={alpha}"
            exact = certify_logistic(X, y, est.coef_[0], l1=l1, l2=l2, fit_intercept=False, label=label)
            reference = exact.coef
            assert_close(est.coef_[0], reference, "scikit-learn vs its certificate", rtol=1e-9)
            w_map = logistic_map(X, y, kind, alpha)
            assert_map_close(w_map, reference, label, rtol=1e-6)
