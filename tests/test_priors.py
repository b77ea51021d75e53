"""Priors as penalties (bayesreg.priors) against closed forms, scipy and numerical integration.

References: DIGEST.md claim 14 (the Laplace identity), the convention table of DESIGN.md and of the
`bayesreg.priors` docstring, and scipy's quadrature for the elastic-net density.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from scipy import integrate, stats

from bayesreg import ElasticNet, Prior, penalty_from_prior, prior_from_penalty

ALPHAS = [0.01, 0.5, 1.0, 3.0, 250.0]

# (l1, l2) of the elastic-net density exp(-l1|w| - l2 w²/2) / Z; a = l1/√l2 decides its shape, from
# Gaussian-like (a → 0) to Laplace-like (a → ∞). The last ones are the extreme ratios. (50, 1) is the
# prior of scikit-learn's ElasticNet(alpha=1, l1_ratio=0.9) at n=280, σ=1: realistic, not contrived.
NORMALISATION_CASES = [
    (1.0, 1.0),
    (0.5, 4.0),
    (3.0, 0.25),
    (1e-6, 1.0),
    (1e-3, 1e3),
    (50.0, 1.0),
    (1.0, 1e-6),
    (1e3, 1e-3),
    (1e2, 1e-6),
]
SAMPLING_CASES = [(1.0, 1.0), (0.5, 4.0), (3.0, 0.25), (1e-3, 1e3), (50.0, 1.0), (1.0, 1e-6)]


# --------------------------------------------------------------------------------------------------
# The seed identity and the Gaussian analogue
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("num_weights", [1, 7])
def test_laplace_prior_is_l1_penalty(x64, alpha, num_weights):
    """−log p(w) = α‖w‖₁ − n log α + n log 2 for w_i ~ Laplace(0, 1/α) (DIGEST claim 14)."""
    rng = np.random.default_rng(int(1000 * alpha) + num_weights)
    for prior in (Prior("laplace", l1=alpha), prior_from_penalty("laplace", alpha, convention="book")):
        d = prior.distribution(num_weights)
        for _ in range(5):
            w = rng.normal(scale=3.0 / alpha, size=num_weights)
            expected = alpha * np.abs(w).sum() - num_weights * math.log(alpha) + num_weights * math.log(2)
            assert float(-d.log_prob(jnp.asarray(w))) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("num_weights", [1, 7])
def test_gaussian_prior_is_l2_penalty(x64, alpha, num_weights):
    """−log p(w) = (α/2)‖w‖² + (n/2) log(2π/α) for w_i ~ N(0, 1/α) (DIGEST claim 15)."""
    rng = np.random.default_rng(int(1000 * alpha) + num_weights)
    for prior in (Prior("gaussian", l2=alpha), prior_from_penalty("gaussian", alpha, convention="book")):
        d = prior.distribution(num_weights)
        for _ in range(5):
            w = rng.normal(scale=3.0 / math.sqrt(alpha), size=num_weights)
            expected = 0.5 * alpha * (w @ w) + 0.5 * num_weights * math.log(2 * math.pi / alpha)
            assert float(-d.log_prob(jnp.asarray(w))) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_elasticnet_prior_distribution_is_elasticnet_density(x64):
    """Prior("elasticnet").distribution(n, σ) is ElasticNet(l1/σ², l2/σ²) per weight when noise-scaled."""
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.normal(size=5))
    for sigma in (1.0, 0.4, 3.0):
        prior = Prior("elasticnet", 2.0, 5.0, noise_scaled=True)
        expected = ElasticNet(2.0 / sigma**2, 5.0 / sigma**2).log_prob(w).sum()
        assert float(prior.distribution(5, sigma).log_prob(w)) == pytest.approx(float(expected), rel=1e-12)


# --------------------------------------------------------------------------------------------------
# The elastic-net distribution is a proper density
# --------------------------------------------------------------------------------------------------


def _density(d):
    log_prob = jax.jit(d.log_prob)
    return lambda w: math.exp(float(log_prob(w)))


def _typical_scale(l1, l2):
    """A length on which the density changes: the smaller of the Laplace and the Gaussian scale."""
    return min(1.0 / l1, 1.0 / math.sqrt(l2))


def _half_line_integral(f, scale):
    """∫₀^∞ f by adaptive quadrature, split where the density has fallen off."""
    kw = dict(epsabs=1e-15, epsrel=1e-13, limit=500)
    cut = 50.0 * scale
    return integrate.quad(f, 0.0, cut, **kw)[0] + integrate.quad(f, cut, np.inf, **kw)[0]


def _moment(d, l1, l2, k):
    """E[w^k] under ``d`` by quadrature on both half-lines (no symmetry assumed)."""
    p = _density(d)
    scale = _typical_scale(l1, l2)
    right = _half_line_integral(lambda w: w**k * p(w), scale)
    left = _half_line_integral(lambda w: (-w) ** k * p(-w), scale)
    return right + left


@pytest.mark.parametrize("l1, l2", NORMALISATION_CASES)
def test_elasticnet_density_integrates_to_one(x64, l1, l2):
    d = ElasticNet(l1, l2)
    total = _moment(d, l1, l2, 0)
    assert abs(total - 1.0) <= 1e-8, (
        f"∫ p = 1 {total - 1:+.3e} for l1={l1}, l2={l2} (l1/√l2={l1 / l2**0.5:.3g})"
    )


@pytest.mark.parametrize("l1, l2", NORMALISATION_CASES)
def test_elasticnet_log_prob_is_penalty_plus_constant(x64, l1, l2):
    """log p(w) + l1|w| + l2 w²/2 does not depend on w."""
    scale = _typical_scale(l1, l2)
    rng = np.random.default_rng(1)
    w = jnp.asarray(np.concatenate([np.linspace(-10, 10, 201), rng.normal(scale=3, size=50)]) * scale)
    constant = np.asarray(ElasticNet(l1, l2).log_prob(w) + l1 * jnp.abs(w) + 0.5 * l2 * w**2)
    assert np.all(np.isfinite(constant))
    assert np.ptp(constant) <= 1e-10 * max(1.0, abs(constant[0]))


@pytest.mark.parametrize("l1, l2", SAMPLING_CASES)
def test_elasticnet_variance_matches_quadrature(x64, l1, l2):
    d = ElasticNet(l1, l2)
    second = _moment(d, l1, l2, 2)
    assert float(d.variance) == pytest.approx(second, rel=1e-8)
    assert float(d.mean) == 0.0


@pytest.mark.parametrize("l1, l2", SAMPLING_CASES)
def test_elasticnet_sample_moments(x64, l1, l2):
    """Sample mean and variance agree with `.mean` / `.variance` within 4 Monte Carlo standard errors.

    The standard errors are those of N independent draws: sd/√N for the mean and
    √((E[w⁴] − var²)/N) for the variance, with E[w⁴] and var integrated numerically.
    """
    num_samples = 200_000
    d = ElasticNet(l1, l2)
    samples = np.asarray(d.sample(jax.random.PRNGKey(0), (num_samples,)))
    assert samples.shape == (num_samples,)
    assert np.all(np.isfinite(samples)), f"{np.sum(~np.isfinite(samples))} non-finite samples"
    var = _moment(d, l1, l2, 2)
    fourth = _moment(d, l1, l2, 4)
    se_mean = math.sqrt(var / num_samples)
    se_var = math.sqrt((fourth - var**2) / num_samples)
    assert abs(samples.mean() - float(d.mean)) <= 4 * se_mean
    assert abs(samples.var() - float(d.variance)) <= 4 * se_var


@pytest.mark.parametrize("l1, l2", SAMPLING_CASES)
def test_elasticnet_samples_follow_integrated_cdf(x64, l1, l2):
    """Kolmogorov–Smirnov test of draws against the CDF integrated from exp(log_prob), at 1 %."""
    d = ElasticNet(l1, l2)
    # beyond ±L the density is below e^-50 of its peak: l1 L + l2 L²/2 = 50
    L = 100.0 / (l1 + math.sqrt(l1**2 + 100.0 * l2))
    grid = np.linspace(-L, L, 200_001)  # 0 is a node: the kink sits between Simpson panels
    pdf = np.exp(np.asarray(jax.jit(d.log_prob)(jnp.asarray(grid))))
    cdf_values = integrate.cumulative_simpson(pdf, x=grid, initial=0.0)
    assert cdf_values[-1] == pytest.approx(1.0, abs=1e-8)
    samples = np.asarray(d.sample(jax.random.PRNGKey(1), (5_000,)))
    assert np.all(np.isfinite(samples)), f"{np.sum(~np.isfinite(samples))} non-finite samples"
    result = stats.kstest(samples, lambda x: np.interp(x, grid, cdf_values, left=0.0, right=1.0))
    assert result.pvalue > 0.01


@pytest.mark.parametrize("l1, l2", [(3.0, 1.0), (20.0, 1.0)])
def test_elasticnet_samples_finite_in_default_precision(l1, l2):
    """Without float64 (numpyro's default) draws are finite and ElasticNet(l1, l2).variance is right."""
    d = ElasticNet(l1, l2)
    samples = np.asarray(d.sample(jax.random.PRNGKey(2), (10_000,)))
    assert np.all(np.isfinite(samples)), f"{np.sum(~np.isfinite(samples))} of 10000 draws not finite"
    with jax.enable_x64(True):
        exact = _moment(ElasticNet(l1, l2), l1, l2, 2)
    assert float(d.variance) == pytest.approx(exact, rel=1e-4)


def test_elasticnet_accepts_integer_parameters(x64):
    """Like numpyro's own distributions, ElasticNet(1, 2) means ElasticNet(1.0, 2.0)."""
    w = jnp.asarray([-0.5, 0.0, 2.0])
    np.testing.assert_allclose(ElasticNet(1, 2).log_prob(w), ElasticNet(1.0, 2.0).log_prob(w), rtol=1e-14)


# --------------------------------------------------------------------------------------------------
# penalty <-> prior conventions
# --------------------------------------------------------------------------------------------------

N_SAMPLES = 57


@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
@pytest.mark.parametrize("convention", ["sklearn", "book"])
@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_penalty_prior_round_trip(x64, kind, convention, family):
    _check_round_trip(kind, convention, family)


@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
@pytest.mark.parametrize("convention", ["sklearn", "book"])
@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_penalty_prior_round_trip_default_precision(kind, convention, family):
    """Converting Python floats needs no JAX precision: the round trip is exact without float64 too."""
    _check_round_trip(kind, convention, family)


def _check_round_trip(kind, convention, family):
    expected_ratio = {"laplace": 1.0, "gaussian": 0.0}
    for alpha in (0.003, 0.7, 12.0):
        for rho in (0.15, 0.5, 0.95):
            prior = prior_from_penalty(
                kind, alpha, l1_ratio=rho, convention=convention, family=family, n_samples=N_SAMPLES
            )
            assert prior.kind == kind
            for sigma in (1.0, 2.5):
                back = penalty_from_prior(
                    prior, convention=convention, family=family, n_samples=N_SAMPLES, sigma=sigma
                )
                assert back["kind"] == kind
                assert back["alpha"] == pytest.approx(alpha, rel=1e-12), f"sigma={sigma}"
                assert back["l1_ratio"] == pytest.approx(expected_ratio.get(kind, rho), rel=1e-12, abs=0)


def _laplace_logpdf(w, scale):
    return float(np.sum(-np.abs(w) / scale - np.log(2 * scale)))


def _normal_logpdf(w, sd):
    return float(np.sum(-0.5 * (w / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)))


def _rate_and_precision(prior, sigma):
    l1, l2 = prior.rates(sigma)
    return float(l1), float(l2)


@pytest.mark.parametrize("sigma", [1.0, 0.3, 4.0])
def test_sklearn_lasso_prior_scale(x64, sigma):
    """sklearn Lasso (1/2n)‖y−Xw‖² + α‖w‖₁  ↔  w_i ~ Laplace(0, σ²/(nα)) given σ."""
    n, alpha = 80, 0.37
    prior = prior_from_penalty("laplace", alpha, n_samples=n)
    assert prior.noise_scaled
    l1, l2 = _rate_and_precision(prior, sigma)
    assert 1.0 / l1 == pytest.approx(sigma**2 / (n * alpha), rel=1e-13)
    assert l2 == 0.0
    assert prior.laplace_scale == pytest.approx(1.0 / (n * alpha), rel=1e-13)
    w = np.array([-1.3, 0.0, 0.02, 4.0])
    expected = _laplace_logpdf(w, sigma**2 / (n * alpha))
    assert float(prior.distribution(4, sigma).log_prob(jnp.asarray(w))) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sigma", [1.0, 0.3, 4.0])
def test_sklearn_ridge_prior_sd(x64, sigma):
    """sklearn Ridge ‖y−Xw‖² + α‖w‖²  ↔  w_i ~ N(0, σ²/α) given σ (no n)."""
    alpha = 2.5
    prior = prior_from_penalty("gaussian", alpha, n_samples=80)
    assert prior.noise_scaled
    l1, l2 = _rate_and_precision(prior, sigma)
    assert l1 == 0.0
    assert 1.0 / math.sqrt(l2) == pytest.approx(sigma / math.sqrt(alpha), rel=1e-13)
    assert prior.gaussian_sd == pytest.approx(1.0 / math.sqrt(alpha), rel=1e-13)
    w = np.array([-1.3, 0.0, 0.02, 4.0])
    expected = _normal_logpdf(w, sigma / math.sqrt(alpha))
    assert float(prior.distribution(4, sigma).log_prob(jnp.asarray(w))) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sigma", [1.0, 0.3, 4.0])
def test_sklearn_elasticnet_prior_parts(x64, sigma):
    """(1/2n)‖r‖² + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²: L1 scale σ²/(nαρ), L2 sd σ/√(nα(1−ρ))."""
    n, alpha, rho = 80, 0.37, 0.3
    prior = prior_from_penalty("elasticnet", alpha, l1_ratio=rho, n_samples=n)
    l1, l2 = _rate_and_precision(prior, sigma)
    assert 1.0 / l1 == pytest.approx(sigma**2 / (n * alpha * rho), rel=1e-13)
    assert 1.0 / math.sqrt(l2) == pytest.approx(sigma / math.sqrt(n * alpha * (1 - rho)), rel=1e-13)
    w = jnp.asarray([-1.3, 0.0, 0.02, 4.0])
    expected = ElasticNet(n * alpha * rho / sigma**2, n * alpha * (1 - rho) / sigma**2).log_prob(w).sum()
    assert float(prior.distribution(4, sigma).log_prob(w)) == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("C", [0.01, 1.0, 30.0])
def test_sklearn_logistic_prior(x64, C):
    """LogisticRegression C·Σ logloss + penalty, α = 1/C: Laplace scale C, Gaussian sd √C, no σ."""
    w = np.array([-1.3, 0.0, 0.02, 4.0])
    lasso = prior_from_penalty("laplace", 1.0 / C, family="bernoulli")
    ridge = prior_from_penalty("gaussian", 1.0 / C, family="bernoulli")
    net = prior_from_penalty("elasticnet", 1.0 / C, l1_ratio=0.2, family="bernoulli")
    for sigma in (1.0, 3.0):  # a Bernoulli likelihood has no noise sd: σ must not matter
        assert 1.0 / _rate_and_precision(lasso, sigma)[0] == pytest.approx(C, rel=1e-13)
        assert 1.0 / math.sqrt(_rate_and_precision(ridge, sigma)[1]) == pytest.approx(math.sqrt(C), rel=1e-13)
        assert _rate_and_precision(net, sigma) == pytest.approx((0.2 / C, 0.8 / C), rel=1e-13)
    assert float(lasso.distribution(4).log_prob(jnp.asarray(w))) == pytest.approx(
        _laplace_logpdf(w, C), rel=1e-12
    )
    assert float(ridge.distribution(4).log_prob(jnp.asarray(w))) == pytest.approx(
        _normal_logpdf(w, math.sqrt(C)), rel=1e-12
    )


@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_book_convention(family):
    """NLL + α‖w‖₁ ↔ Laplace(0, 1/α); NLL + (α/2)‖w‖² ↔ N(0, 1/α); no n, no σ."""
    alpha, rho = 4.0, 0.25
    lasso = prior_from_penalty("laplace", alpha, convention="book", family=family)
    ridge = prior_from_penalty("gaussian", alpha, convention="book", family=family)
    net = prior_from_penalty("elasticnet", alpha, l1_ratio=rho, convention="book", family=family)
    for sigma in (1.0, 0.5, 7.0):
        assert _rate_and_precision(lasso, sigma) == (alpha, 0.0)
        assert _rate_and_precision(ridge, sigma) == (0.0, alpha)
        assert _rate_and_precision(net, sigma) == pytest.approx((alpha * rho, alpha * (1 - rho)), rel=1e-15)
    assert lasso.laplace_scale == pytest.approx(1 / alpha)
    assert ridge.gaussian_sd == pytest.approx(1 / math.sqrt(alpha))


@pytest.mark.parametrize("scale", [0.05, 1.0, 8.0])
@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_penalty_from_numpyro_distributions(x64, scale, sigma):
    n = 40
    laplaces = [
        dist.Laplace(0.0, scale),
        dist.Laplace(0.0, scale).expand([3]),
        dist.Laplace(0.0, scale).expand([3]).to_event(1),
    ]
    for d in laplaces:
        lasso = penalty_from_prior(d, n_samples=n, sigma=sigma)
        assert lasso["kind"] == "laplace"
        assert lasso["alpha"] == pytest.approx(sigma**2 / (n * scale), rel=1e-12)  # b = σ²/(nα)
        assert lasso["l1_ratio"] == 1.0
        logistic = penalty_from_prior(d, family="bernoulli", sigma=sigma)
        assert 1.0 / logistic["alpha"] == pytest.approx(scale, rel=1e-12)  # C = b
        assert penalty_from_prior(d, convention="book")["alpha"] == pytest.approx(1 / scale, rel=1e-12)
    for d in (dist.Normal(0.0, scale), dist.Normal(0.0, scale).expand([3]).to_event(1)):
        ridge = penalty_from_prior(d, n_samples=n, sigma=sigma)
        assert ridge["kind"] == "gaussian"
        assert ridge["alpha"] == pytest.approx(sigma**2 / scale**2, rel=1e-12)  # sd = σ/√α
        assert ridge["l1_ratio"] == 0.0
        logistic = penalty_from_prior(d, family="bernoulli")
        assert 1.0 / logistic["alpha"] == pytest.approx(scale**2, rel=1e-12)  # C = sd²
        assert penalty_from_prior(d, convention="book")["alpha"] == pytest.approx(1 / scale**2, rel=1e-12)


def test_penalty_from_distribution_of_prior_round_trip(x64):
    """The numpyro distribution a penalty gives at noise sd σ maps back to the same penalty."""
    n, alpha, sigma = 30, 0.2, 1.7
    for kind in ("laplace", "gaussian"):
        prior = prior_from_penalty(kind, alpha, n_samples=n)
        back = penalty_from_prior(prior.distribution(2, sigma), n_samples=n, sigma=sigma)
        assert back["kind"] == kind
        assert back["alpha"] == pytest.approx(alpha, rel=1e-12)


def test_penalty_from_elasticnet_distribution(x64):
    n, sigma = 25, 1.5
    back = penalty_from_prior(ElasticNet(3.0, 1.0), n_samples=n, sigma=sigma)
    assert back["kind"] == "elasticnet"
    assert back["alpha"] == pytest.approx(4.0 * sigma**2 / n, rel=1e-12)
    assert back["l1_ratio"] == pytest.approx(0.75, rel=1e-12)


@pytest.mark.parametrize("d", [dist.Laplace(1.0, 2.0), dist.Normal(-0.5, 1.0)])
def test_penalty_from_prior_rejects_off_centre(d):
    with pytest.raises(ValueError, match="centred at 0"):
        penalty_from_prior(d, n_samples=10)


def test_penalty_from_prior_rejects_other_distributions():
    with pytest.raises(ValueError, match="Cauchy"):
        penalty_from_prior(dist.Cauchy(0.0, 1.0), n_samples=10)


# --------------------------------------------------------------------------------------------------
# bad hyperparameters
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, -1.0, -np.inf, np.inf, np.nan, "abc", None, [1.0, 2.0]])
@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
def test_bad_alpha(kind, alpha):
    with pytest.raises(ValueError, match="alpha"):
        prior_from_penalty(kind, alpha, n_samples=10)


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0, -0.2, 1.5, np.nan, "abc", None])
def test_bad_l1_ratio(l1_ratio):
    with pytest.raises(ValueError, match="l1_ratio"):
        prior_from_penalty("elasticnet", 0.1, l1_ratio=l1_ratio, n_samples=10)


def test_bad_kind_convention_family():
    with pytest.raises(ValueError, match="horseshoe"):
        prior_from_penalty("horseshoe", 0.1, n_samples=10)
    with pytest.raises(ValueError, match=r"convention.*glmnet"):
        prior_from_penalty("laplace", 0.1, convention="glmnet", n_samples=10)
    with pytest.raises(ValueError, match=r"family.*poisson"):
        prior_from_penalty("laplace", 0.1, family="poisson", n_samples=10)
    prior = prior_from_penalty("laplace", 0.1, n_samples=10)
    with pytest.raises(ValueError, match=r"convention.*glmnet"):
        penalty_from_prior(prior, convention="glmnet", n_samples=10)
    with pytest.raises(ValueError, match=r"family.*poisson"):
        penalty_from_prior(prior, family="poisson", n_samples=10)


@pytest.mark.parametrize("kind", ["laplace", "elasticnet"])
def test_sklearn_lasso_needs_n_samples(kind):
    with pytest.raises(ValueError, match="n_samples"):
        prior_from_penalty(kind, 0.1)
    with pytest.raises(ValueError, match="n_samples"):
        prior_from_penalty(kind, 0.1, n_samples=0)
    with pytest.raises(ValueError, match="n_samples"):
        penalty_from_prior(Prior(kind, 1.0, 1.0 if kind == "elasticnet" else 0.0, noise_scaled=True))


@pytest.mark.parametrize("kind", ["laplace", "gaussian"])
def test_describe_states_the_scale_of_the_distribution(kind):
    """The words carry the scale of the very distribution the model samples, at the σ given."""
    prior = prior_from_penalty(kind, 0.3, n_samples=50)
    d = prior.distribution(3, sigma=1.7).base_dist.base_dist
    name = "Laplace" if kind == "laplace" else "Normal"
    assert prior.describe(sigma=1.7) == f"{name}(0, {float(d.scale):.6g})"
