"""The logistic-regression posterior from NUTS against a Pólya-gamma Gibbs sampler written here.

The reference is the data-augmentation Gibbs sampler of Polson, Scott & Windle (2013): with
``ω_i | θ ~ PG(1, z_iᵀθ)`` the logistic likelihood is Gaussian in θ = (intercept, coef), so
``θ | ω ~ N(m, V)``, ``V = (ZᵀΩZ + B⁻¹)⁻¹``, ``m = V Zᵀκ``, ``κ = y − ½``, ``Z = [1, X]``. The
intercept is flat (a zero in its coordinate of the prior precision ``B⁻¹``). A Laplace prior enters
as its normal scale mixture (Park & Casella 2008): ``coef_j | τ_j ~ N(0, τ_j)``, and
``1/τ_j | coef_j ~ InverseGaussian(mean 1/(b|coef_j|), shape 1/b²)`` is one more Gibbs step. The
sampler itself is first checked against quadrature of an exact two-parameter posterior.

In scikit-learn's convention ``C·Σ logloss + ½‖w‖²`` is a N(0, C) prior per weight (sd √C) and
``C·Σ logloss + ‖w‖₁`` a Laplace(0, C) prior (`bayesreg.priors`, ``λ₂ = λ₁ = 1/C``).

Compared, within 4 combined Monte Carlo standard errors ``√(mcse_nuts² + mcse_gibbs²)`` (ArviZ's
``az.mcse``): the mean, sd and 10/50/90% quantiles of every coefficient and of the intercept, for
`bayesreg.sample_posterior` and for `bayesreg.BayesianLogisticRegression` with ``method="nuts"``; its
``predict_proba`` against the Gibbs posterior mean of ``sigmoid(xᵀw + b)`` at 20 rows, four of them
far from the data. NUTS and Gibbs runs are shared by module-scoped fixtures.
"""

import arviz as az
import numpy as np
import pytest
from polyagamma import random_polyagamma
from scipy.special import expit, log_expit
from sklearn.datasets import load_breast_cancer

from bayesreg import BayesianLogisticRegression, prior_from_penalty, sample_posterior
from bayesreg.models import logistic_regression

Z_MAX = 4.0  # tolerance in combined Monte Carlo standard errors
QUANTILES = (0.1, 0.5, 0.9)
# One NUTS configuration for every run of this module: one compiled sampler per prior and shape.
NUTS = dict(num_warmup=500, num_samples=1500, num_chains=4)
C = 0.1  # prior sd √C ≈ 0.32 (Gaussian), scale C (Laplace): on standardised columns the prior matters


def _mcse(draws, method="mean", prob=None) -> float:
    """ArviZ's Monte Carlo standard error of one scalar quantity, draws shaped (chain, draw)."""
    draws = np.asarray(draws)
    if method == "sd":
        # ArviZ's formula for the sd (the delta method on the mean squared deviation), written out:
        # az.mcse(method="sd") raises a TypeError when numba is installed (arviz 0.23.4, NumPy 2)
        return _mcse((draws - draws.mean()) ** 2) / (2.0 * draws.std())
    return float(np.squeeze(az.mcse(draws, method=method, prob=prob)))


def gibbs_logistic(X, y, *, prior, scale, num_chains=8, num_draws=5000, burn=300, seed=0):
    """Pólya-gamma Gibbs draws of (intercept, coef) for logistic regression with a flat intercept.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    y : ndarray of 0/1, shape (n,)
    prior : {"gaussian", "laplace"}
        ``coef_j ~ N(0, scale²)`` or ``coef_j ~ Laplace(0, scale)``, independently.
    scale : float
        The Gaussian sd or the Laplace scale b.
    num_chains, num_draws, burn, seed : int
        Chains run side by side (vectorised), each from θ = 0, kept draws per chain after ``burn``.

    Returns
    -------
    ndarray, shape (num_chains, num_draws, p + 1)
        Column 0 is the intercept, columns 1: the coefficients.
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    Z = np.column_stack([np.ones(n), X])
    kappa = np.broadcast_to(Z.T @ (y - 0.5), (num_chains, p + 1))[..., None]
    theta = np.zeros((num_chains, p + 1))
    precision = np.zeros((num_chains, p + 1))  # the diagonal of B⁻¹; 0 for the flat intercept
    precision[:, 1:] = 1.0 / scale**2  # the Gaussian prior's, and the mixture's start for the Laplace
    diagonal = np.arange(p + 1)
    omega = np.empty((num_chains, n))
    out = np.empty((num_chains, num_draws, p + 1))
    for it in range(burn + num_draws):
        random_polyagamma(1.0, theta @ Z.T, out=omega, random_state=rng)
        A = (Z.T[None] * omega[:, None, :]) @ Z  # ZᵀΩZ per chain
        A[:, diagonal, diagonal] += precision
        L = np.linalg.cholesky(A)  # A = L Lᵀ
        mean = np.linalg.solve(A, kappa)[..., 0]
        noise = np.linalg.solve(np.swapaxes(L, 1, 2), rng.standard_normal((num_chains, p + 1, 1)))[..., 0]
        theta = mean + noise  # covariance L⁻ᵀL⁻¹ = A⁻¹
        if prior == "laplace":  # 1/τ_j | coef_j, the prior precision of coef_j in the next step
            precision[:, 1:] = rng.wald(1.0 / (scale * np.abs(theta[:, 1:])), 1.0 / scale**2)
        if it >= burn:
            out[:, it - burn] = theta
    return out


def _assert_same_posterior(nuts, gibbs, names):
    """Mean, sd and quantiles of each column of (chain, draw, k) draws within Z_MAX combined MCSEs.

    Both samplers' chains must first agree with each other (rank-normalised R-hat below 1.01), so
    that their MCSEs mean something.
    """
    for k, name in enumerate(names):
        a, g = nuts[..., k], gibbs[..., k]
        assert float(az.rhat(a)) < 1.01 and float(az.rhat(g)) < 1.01, (name, az.rhat(a), az.rhat(g))
        checks = [("mean", a.mean(), g.mean(), np.hypot(_mcse(a), _mcse(g)))]
        checks.append(("sd", a.std(), g.std(), np.hypot(_mcse(a, "sd"), _mcse(g, "sd"))))
        for q in QUANTILES:
            combined = np.hypot(_mcse(a, "quantile", q), _mcse(g, "quantile", q))
            checks.append((f"{q:.0%} quantile", np.quantile(a, q), np.quantile(g, q), combined))
        for stat, got, want, combined in checks:
            assert abs(got - want) <= Z_MAX * combined, (
                f"{name} {stat}: NUTS {got:.4f}, Gibbs {want:.4f}, "
                f"{abs(got - want) / combined:.1f} combined MCSE ({combined:.2e}) apart"
            )


def _stacked(idata):
    """NUTS draws as (chain, draw, 1 + p): intercept first, as `gibbs_logistic` returns them."""
    posterior = idata.posterior
    return np.concatenate([posterior["intercept"].to_numpy()[..., None], posterior["coef"].to_numpy()], -1)


def _names(p):
    return ["intercept"] + [f"coef[{j}]" for j in range(p)]


# --- The reference sampler against quadrature --------------------------------------------------------


def _quadrature_moments(x, y, prior, scale):
    """Exact means, sds and quantiles of (intercept, coef) for one feature, by quadrature on a grid.

    The grid spans ±10 sds of the flat-prior posterior's normal approximation at the maximum
    likelihood (Newton's method), which covers the shrunken posteriors tried here.
    """
    Z = np.column_stack([np.ones_like(x), x])
    theta = np.zeros(2)
    for _ in range(50):
        prob = expit(Z @ theta)
        hessian = (Z.T * (prob * (1 - prob))) @ Z
        theta += np.linalg.solve(hessian, Z.T @ (y - prob))
    sd = np.sqrt(np.diag(np.linalg.inv(hessian)))
    axes = [np.linspace(t - 10 * s, t + 10 * s, 201) for t, s in zip(theta, sd, strict=True)]
    b0, b1 = np.meshgrid(*axes, indexing="ij")
    log_density = np.empty_like(b0)
    for i, intercept in enumerate(axes[0]):  # one intercept at a time: (201, n) logits
        logits = intercept + np.outer(axes[1], x)
        log_density[i] = (y * log_expit(logits) + (1 - y) * log_expit(-logits)).sum(-1)
    log_density += -0.5 * (b1 / scale) ** 2 if prior == "gaussian" else -np.abs(b1) / scale
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    moments = []
    for values, marginal in ((axes[0], weights.sum(1)), (axes[1], weights.sum(0))):
        mean = marginal @ values
        cdf = np.cumsum(marginal)
        quantiles = [np.interp(q, cdf - marginal / 2, values) for q in QUANTILES]
        moments.append((mean, np.sqrt(marginal @ (values - mean) ** 2), quantiles))
    return moments


@pytest.mark.parametrize(
    ("prior", "column"), [("gaussian", 2), ("laplace", 4)], ids=["gaussian-strong", "laplace-weak"]
)
def test_gibbs_reference_is_the_exact_two_parameter_posterior(breast_cancer, prior, column):
    """The Gibbs sampler on (intercept, one coefficient) against quadrature of the exact posterior.

    One standardised column and the labels, prior scale from C = 0.1. Gaussian prior: mean concave
    points, whose slope the prior pulls from -4.1 (maximum likelihood) to about -2.5. Laplace prior:
    mean fractal dimension, slope 0.03 by maximum likelihood and exactly 0 at the L1 MAP, so the
    posterior straddles the prior's kink and the inverse-Gaussian step matters.
    """
    X, y = breast_cancer
    x = X[:, column]
    scale = np.sqrt(C) if prior == "gaussian" else C
    draws = gibbs_logistic(x[:, None], y, prior=prior, scale=scale, num_chains=4, num_draws=3000, seed=1)
    for k, (mean, sd, quantiles) in enumerate(_quadrature_moments(x, y, prior, scale)):
        g = draws[..., k]
        assert abs(g.mean() - mean) <= Z_MAX * _mcse(g), (k, g.mean(), mean)
        assert abs(g.std() - sd) <= Z_MAX * _mcse(g, "sd"), (k, g.std(), sd)
        for q, exact in zip(QUANTILES, quantiles, strict=True):
            assert abs(np.quantile(g, q) - exact) <= Z_MAX * _mcse(g, "quantile", q), (k, q)


# --- Gaussian prior on the standardised breast-cancer data ------------------------------------------


@pytest.fixture(scope="module")
def gaussian_gibbs(breast_cancer):
    X, y = breast_cancer
    return gibbs_logistic(X, y, prior="gaussian", scale=np.sqrt(C), num_chains=8, num_draws=5000)


@pytest.fixture(scope="module")
def gaussian_nuts(breast_cancer):
    """`sample_posterior` of the model, with the prior `prior_from_penalty` gives for 1/C."""
    X, y = breast_cancer
    prior = prior_from_penalty("gaussian", 1.0 / C, family="bernoulli")
    return sample_posterior(logistic_regression, X, y, prior=prior, seed=0, **NUTS)


@pytest.fixture(scope="module")
def gaussian_estimator(breast_cancer):
    X, y = breast_cancer
    est = BayesianLogisticRegression(prior="gaussian", C=C, method="nuts", random_state=0, **NUTS)
    return est.fit(X, y)


def test_sample_posterior_gaussian_prior_matches_gibbs(gaussian_nuts, gaussian_gibbs):
    assert int(gaussian_nuts.sample_stats["diverging"].sum()) == 0
    _assert_same_posterior(_stacked(gaussian_nuts), gaussian_gibbs, _names(8))


def test_estimator_gaussian_prior_matches_gibbs(gaussian_estimator, gaussian_gibbs):
    """The estimator's own NUTS run (another seed), and its ``coef_``/``intercept_`` are its means."""
    est = gaussian_estimator
    assert est.diagnostics_.problems == ()
    draws = _stacked(est.idata_)
    _assert_same_posterior(draws, gaussian_gibbs, _names(8))
    np.testing.assert_array_equal(est.intercept_, draws[..., 0].mean())
    np.testing.assert_allclose(est.coef_, draws[..., 1:].mean((0, 1)), rtol=1e-13, atol=0)


# --- Predictions ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prediction_rows(breast_cancer):
    """16 rows of the data and 4 points far from it, where the posterior of the probability is wide.

    The far points lie 12-16 from the data's mean in Mahalanobis distance (every row lies within
    11.4, 99% within 7.0), along columns whose coefficients are small and uncertain: the logit's
    posterior sd there is 1.4-1.7, so the average of the probability over the posterior differs
    visibly from the probability at the posterior mean (0.72 against 0.79 at the first point).
    """
    X, _ = breast_cancer
    far = np.zeros((4, X.shape[1]))
    far[0, 7] = 8.0
    far[1, 1] = -8.0
    far[2, [4, 6]] = 7.0, -7.0
    far[3, [0, 3]] = -7.0, 7.0
    return np.vstack([X[::36][:16], far])


def _probabilities(draws, rows):
    """sigmoid(intercept + rows @ coef) per draw, shape (chain, draw, rows)."""
    return expit(draws[..., :1] + draws[..., 1:] @ rows.T)


def test_predict_proba_is_the_posterior_mean_probability(gaussian_estimator, gaussian_gibbs, prediction_rows):
    est, rows = gaussian_estimator, prediction_rows
    proba = est.predict_proba(rows)
    np.testing.assert_array_equal(proba[:, 0], 1.0 - proba[:, 1])
    nuts, gibbs = _probabilities(_stacked(est.idata_), rows), _probabilities(gaussian_gibbs, rows)
    combined = np.array([np.hypot(_mcse(nuts[..., i]), _mcse(gibbs[..., i])) for i in range(len(rows))])
    reference = gibbs.mean((0, 1))
    error = np.abs(proba[:, 1] - reference)
    assert np.all(error <= Z_MAX * combined), f"rows off by {error / combined} combined MCSE"
    # the test tells the average from the plug-in sigmoid(mean logit), which is off at the far points
    plug_in = np.abs(expit(est.decision_function(rows)) - reference)
    assert np.all(plug_in[16:] > Z_MAX * combined[16:]), plug_in[16:] / combined[16:]


def test_decision_function_is_the_posterior_mean_logit(gaussian_estimator, prediction_rows):
    est, rows = gaussian_estimator, prediction_rows
    posterior = est.idata_.posterior
    coef = posterior["coef"].mean(("chain", "draw")).to_numpy()
    intercept = float(posterior["intercept"].mean())
    np.testing.assert_array_equal(est.decision_function(rows), rows @ coef + intercept)
    draws = _stacked(est.idata_)
    logits = draws[..., :1] + draws[..., 1:] @ rows.T
    np.testing.assert_allclose(est.decision_function(rows), logits.mean((0, 1)), rtol=1e-12, atol=1e-12)


# --- Laplace prior --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def laplace_gibbs(breast_cancer):
    X, y = breast_cancer
    return gibbs_logistic(X, y, prior="laplace", scale=C, num_chains=8, num_draws=5000, seed=2)


@pytest.fixture(scope="module")
def laplace_nuts(breast_cancer):
    X, y = breast_cancer
    prior = prior_from_penalty("laplace", 1.0 / C, family="bernoulli")
    return sample_posterior(logistic_regression, X, y, prior=prior, seed=0, **NUTS)


def test_sample_posterior_laplace_prior_matches_gibbs(laplace_nuts, laplace_gibbs):
    assert int(laplace_nuts.sample_stats["diverging"].sum()) == 0
    _assert_same_posterior(_stacked(laplace_nuts), laplace_gibbs, _names(8))


def test_estimator_laplace_prior_matches_gibbs(breast_cancer, laplace_gibbs):
    X, y = breast_cancer
    est = BayesianLogisticRegression(prior="laplace", C=C, method="nuts", random_state=0, **NUTS).fit(X, y)
    assert est.diagnostics_.problems == ()
    _assert_same_posterior(_stacked(est.idata_), laplace_gibbs, _names(8))


# --- Unscaled columns ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unscaled():
    """Four raw breast-cancer columns (radius, texture, smoothness, concave points: sds 3.5, 4.3, 0.014,
    0.039, means 14, 19, 0.096, 0.049), not standardised, and the labels."""
    X, y = load_breast_cancer(return_X_y=True)
    return np.ascontiguousarray(X[:, [0, 1, 4, 7]]), y.astype(float)


def test_sample_posterior_unscaled_laplace_prior_matches_gibbs(unscaled):
    """Laplace(0, 1) (C = 1) on raw columns, NUTS with the default mass matrix (dense here).

    The posterior spans four orders of magnitude: intercept ≈ 18 ± 1.6, concave points ≈ -26 ± 7,
    texture ≈ -0.22 ± 0.04, and a smoothness coefficient the prior dominates (≈ -1.6 ± 2.2).
    """
    X, y = unscaled
    gibbs = gibbs_logistic(X, y, prior="laplace", scale=1.0, num_chains=8, num_draws=5000, seed=3)
    prior = prior_from_penalty("laplace", 1.0, family="bernoulli")
    idata = sample_posterior(logistic_regression, X, y, prior=prior, seed=0, **NUTS)
    assert int(idata.sample_stats["diverging"].sum()) == 0
    _assert_same_posterior(_stacked(idata), gibbs, _names(4))
