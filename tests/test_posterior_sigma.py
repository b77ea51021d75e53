"""Posteriors with the noise sd σ sampled, against independent answers (MCSE-judged, fixed seeds).

The estimators, the command line and `posterior_path` sample σ, with the weights' prior conditional
on σ (scikit-learn's convention: `prior_from_penalty(..., n_samples=n)` gives ``noise_scaled=True``).

* Gaussian prior ``coef | σ ~ N(0, σ²/λ)`` (Ridge), flat intercept, ``σ² ~ InverseGamma(a₀, c₀)``:
  the exact Normal–Inverse-Gamma posterior, its derivation checked by quadrature of the model's own
  log density on a tiny problem; NUTS means and sds of ``coef`` and ``intercept`` and σ's mean and
  10/50/90% quantiles within 4 MCSE.

MCSEs are ArviZ's (``az.mcse``, from the bulk/tail ESS); fits are shared by module-scoped fixtures.
"""

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro.distributions.transforms import PowerTransform
from numpyro.infer.util import log_density
from scipy import special, stats
from sklearn.datasets import load_diabetes

from bayesreg import prior_from_penalty, sample_posterior
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats

NUM_WARMUP, NUM_SAMPLES, NUM_CHAINS = 500, 2000, 4
Z_MAX = 4.0  # tolerance in Monte Carlo standard errors
QUANTILES = (0.1, 0.5, 0.9)


def _mcse(draws, method="mean", prob=None) -> float:
    """ArviZ's Monte Carlo standard error of one scalar quantity, draws shaped (chain, draw).

    For the sd: the delta method on ``sd = √v``, ``v`` the mean of the squared deviations, so
    ``MCSE(sd) = MCSE(v)/(2 sd)`` with ``MCSE(v)`` from the squared deviations' own ESS (ArviZ's
    formula, ``arviz.stats.diagnostics._mcse_sd``; using the sample mean instead of the true one
    changes ``v`` by O(1/draws), far below its MCSE of O(1/√draws)).
    """
    draws = np.asarray(draws)
    if method == "sd":
        return _mcse((draws - draws.mean()) ** 2) / (2.0 * draws.std())
    return float(np.squeeze(az.mcse(draws, method=method, prob=prob)))


def _sigma_prior(a0, c0):
    """σ with ``σ² ~ InverseGamma(a0, c0)``: density ``IG(σ²; a0, c0)·2σ`` on ``σ > 0``."""
    return dist.TransformedDistribution(dist.InverseGamma(a0, c0), PowerTransform(0.5))


def _diabetes_unscaled(columns, rows=slice(None)):
    """Columns of scikit-learn's diabetes data in their own units (years, kg/m², mm Hg, ...)."""
    X, y = load_diabetes(return_X_y=True, scaled=False, as_frame=True)
    return X[columns].iloc[rows], y.iloc[rows].to_numpy(dtype=float)


def _normal_inverse_gamma(X, y, lam, a0, c0):
    """Exact posterior of ``y = b + Xw + ε``, ``ε ~ N(0, σ²)``, ``w | σ ~ N(0, σ²/λ)``, flat ``b``,
    ``σ² ~ IG(a0, c0)``.

    With ``Z = [X, 1]``, ``θ = (w, b)``, ``A = Z'Z + diag(λ, ..., λ, 0)``, ``m = A⁻¹Z'y`` and
    ``S = y'y − m'Am``: ``θ | σ², y ~ N(m, σ²A⁻¹)``. Integrating θ out gives
    ``(2πσ²)^((p+1)/2)|A|^(-1/2)``, which cancels the prior's ``σ^(-p)`` and leaves one power of σ
    more (the flat intercept adds a dimension but no normaliser):
    ``σ² | y ~ IG(a0 + (n − 1)/2, c0 + S/2)``. So θ | y is a multivariate t with ``2aₙ`` degrees of
    freedom, location m, covariance ``cₙ/(aₙ − 1)·A⁻¹``.

    Returns ``(m, sd of θ, aₙ, cₙ)``.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    Z = np.column_stack([X, np.ones(n)])
    A = Z.T @ Z + np.diag([lam] * p + [0.0])
    m = np.linalg.solve(A, Z.T @ y)
    an, cn = a0 + (n - 1) / 2, c0 + (y @ y - m @ A @ m) / 2
    return m, np.sqrt(cn / (an - 1) * np.diag(np.linalg.inv(A))), an, cn


def _theta(idata):
    """Posterior draws of (coef..., intercept), shape (chain, draw, p + 1)."""
    post = idata.posterior
    return np.concatenate([post["coef"].to_numpy(), post["intercept"].to_numpy()[..., None]], axis=-1)


# --- Gaussian prior scaled by σ, σ² inverse gamma: the Normal–Inverse-Gamma posterior ---------------

NIG_COLUMNS = ["bmi", "bp", "s5", "age"]  # kg/m², mm Hg, log mmol/L, years; bmi–s5 correlate 0.52 here
NIG_ROWS = slice(0, 60)
NIG_LAMBDA = 20.0  # Ridge alpha: prior sd σ/√20 ≈ 13, shrinks s5 from OLS 72 to about 23
NIG_A0, NIG_C0 = 10.0, 30000.0  # σ² prior mean 3333 (σ ≈ 58, y has sd 72 in these rows)


@pytest.fixture(scope="module")
def nig_data():
    return _diabetes_unscaled(NIG_COLUMNS, NIG_ROWS)


@pytest.fixture(scope="module")
def nig_exact(nig_data):
    X, y = nig_data
    return _normal_inverse_gamma(X, y, NIG_LAMBDA, NIG_A0, NIG_C0)


@pytest.fixture(scope="module")
def nig_fit(nig_data):
    X, y = nig_data
    X = X.to_numpy()
    idata = sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y),
        observed=(linear_regression, X, y),
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        seed=11,
        prior=prior_from_penalty("gaussian", NIG_LAMBDA, n_samples=len(y)),
        sigma=_sigma_prior(NIG_A0, NIG_C0),
    )
    assert int(idata.sample_stats["diverging"].sum()) == 0
    return idata


def test_sigma_prior_is_the_inverse_gamma_of_sigma_squared(x64):
    """The σ site's distribution: log density ``log IG(σ²) + log 2σ`` (the Jacobian of σ ↦ σ²),
    support σ > 0."""
    d = _sigma_prior(NIG_A0, NIG_C0)
    s = np.array([20.0, 58.0, 150.0])
    expected = stats.invgamma(NIG_A0, scale=NIG_C0).logpdf(s**2) + np.log(2 * s)
    np.testing.assert_allclose(np.asarray(d.log_prob(jnp.asarray(s))), expected, rtol=1e-12)
    assert bool(d.support.check(1e-3)) and not bool(d.support.check(0.0)) and not bool(d.support.check(-1.0))


def test_normal_inverse_gamma_derivation_by_quadrature(x64):
    """The closed form against the model itself: `linear_regression`'s log joint (σ the site, with the
    prior above) integrated on a grid, for a tiny problem (n = 6, one feature, mean far from 0).

    The grid is in whitened θ coordinates (``θ = m + L z``, ``LL' = (cₙ/aₙ)A⁻¹``, a constant
    Jacobian) and in ``u = log σ`` (Jacobian σ), where the integrand is smooth and its tails decay
    fast, so the trapezoid rule converges geometrically: 81 points per axis, ±20 in z, reach 1e-9 in
    the density of σ and 2.4e-7 in the covariance (t tails truncated). With ``aₙ = a₀ + n/2`` (the
    intercept's lost degree of freedom not taken off) both are off by more than 0.1.
    """
    rng = np.random.default_rng(0)
    n, lam, a0, c0 = 6, 2.0, 3.0, 2.0
    x = rng.normal(size=(n, 1)) * 3.0 + 10.0
    y = 2.0 + 0.5 * x[:, 0] + rng.normal(size=n)
    m, sd, an, cn = _normal_inverse_gamma(x, y, lam, a0, c0)
    Z = np.column_stack([x, np.ones(n)])
    cov = cn / (an - 1) * np.linalg.inv(Z.T @ Z + np.diag([lam, 0.0]))
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), sd, rtol=1e-12)
    L = np.linalg.cholesky(cov * (an - 1) / an)
    sigma2 = stats.invgamma(an, scale=cn)
    u = np.linspace(np.log(sigma2.ppf(1e-10)) / 2, np.log(sigma2.ppf(1 - 1e-10)) / 2, 81)
    z = np.linspace(-20.0, 20.0, 81)
    kwargs = {"prior": prior_from_penalty("gaussian", lam, n_samples=n), "sigma": _sigma_prior(a0, c0)}

    def log_joint(z1, z2, u):  # in (z, u): the constant Jacobian of z dropped, σ's kept
        theta = m + L @ jnp.stack([z1, z2])
        params = {"coef": theta[:1], "intercept": theta[1], "sigma": jnp.exp(u)}
        return log_density(linear_regression, (x, y), kwargs, params)[0] + u

    grid = jax.jit(jax.vmap(jax.vmap(jax.vmap(log_joint, (None, None, 0)), (None, 0, None)), (0, None, None)))
    log_p = np.asarray(grid(z, z, u))
    density = np.exp(log_p - log_p.max())
    marginal_z = np.trapezoid(density, u, axis=2)
    total = np.trapezoid(np.trapezoid(marginal_z, z, axis=1), z)
    # σ's marginal, as a density of u = log σ
    marginal_u = np.trapezoid(np.trapezoid(density, z, axis=0), z, axis=0) / total
    exact_u = sigma2.pdf(np.exp(2 * u)) * 2 * np.exp(2 * u)
    assert np.abs(marginal_u - exact_u).max() <= 1e-6 * exact_u.max()
    # the mean and covariance of θ
    theta = m[:, None, None] + np.einsum("ij,jab->iab", L, np.stack(np.meshgrid(z, z, indexing="ij")))

    def expect(f):
        return np.trapezoid(np.trapezoid(marginal_z * f, z, axis=1), z) / total

    mean = np.array([expect(t) for t in theta])
    np.testing.assert_allclose(mean, m, rtol=0, atol=1e-9 * sd.min())
    quad_cov = np.array(
        [
            [expect((ti - mi) * (tj - mj)) for tj, mj in zip(theta, m, strict=True)]
            for ti, mi in zip(theta, m, strict=True)
        ]
    )
    np.testing.assert_allclose(quad_cov, cov, rtol=1e-6)


def test_nig_coef_and_intercept_means_within_4_mcse(nig_fit, nig_exact):
    m, _, _, _ = nig_exact
    theta = _theta(nig_fit)
    for k in range(len(m)):
        error, mcse = theta[..., k].mean() - m[k], _mcse(theta[..., k])
        assert abs(error) <= Z_MAX * mcse, f"coordinate {k}: error {error:.3g}, MCSE {mcse:.3g}"


def test_nig_coef_and_intercept_sds_within_4_mcse(nig_fit, nig_exact):
    _, sd, _, _ = nig_exact
    theta = _theta(nig_fit)
    for k in range(len(sd)):
        error, mcse = theta[..., k].std() - sd[k], _mcse(theta[..., k], "sd")
        assert abs(error) <= Z_MAX * mcse, f"coordinate {k}: sd off by {error:.3g}, MCSE {mcse:.3g}"


def test_nig_sigma_mean_and_quantiles_within_4_mcse(nig_fit, nig_exact):
    *_, an, cn = nig_exact
    sigma = nig_fit.posterior["sigma"].to_numpy()
    # E[σ] for σ² ~ IG(a, c): √c Γ(a − ½)/Γ(a)
    mean = np.sqrt(cn) * np.exp(special.gammaln(an - 0.5) - special.gammaln(an))
    error = sigma.mean() - mean
    assert abs(error) <= Z_MAX * _mcse(sigma), f"mean off by {error:.3g}"
    for q in QUANTILES:
        exact = np.sqrt(stats.invgamma(an, scale=cn).ppf(q))
        error, mcse = np.quantile(sigma, q) - exact, _mcse(sigma, "quantile", q)
        assert abs(error) <= Z_MAX * mcse, f"{q:.0%} quantile off by {error:.3g}, MCSE {mcse:.3g}"
