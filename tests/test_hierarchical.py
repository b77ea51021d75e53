"""The hierarchical priors of `bayesreg.hierarchical`: their NUTS posteriors, calibration and α's posterior.

References, each independent of the code under test:

- the hierarchical Bayesian lasso from a Gibbs sampler written here with Park & Casella (2008)'s full
  conditionals (β Gaussian, 1/τ_j² inverse-Gaussian, σ² inverse-gamma, λ² Gamma(p + r, Σ τ_j²/2 + δ)),
  and the hierarchical ridge from a Gibbs sampler on Makalic & Schmidt (2016)'s auxiliary
  inverse-gamma form of its half-Cauchy prior, on the diabetes data as scikit-learn loads them
  (unscaled target) and standardised, and a 15 × 24 problem (p > n): means, sds and 10/50/90%
  quantiles of every coefficient, σ and the hyperparameter within 4 combined Monte Carlo standard
  errors (`references.assert_same_posterior`);
- simulation-based calibration of each prior, linear and logistic (`bayesreg.calibration`);
- α's draws against `bayesreg.priors.penalty_from_prior` applied to each draw's prior.
"""

import warnings

import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro.distributions.transforms import PowerTransform
from references import assert_same_posterior

from bayesreg.calibration import rank_uniformity_pvalue, sbc_ranks
from bayesreg.diagnostics import PosteriorWarning
from bayesreg.hierarchical import (
    HierarchicalGaussian,
    HierarchicalLaplace,
    alpha_posterior,
    hierarchical_prior,
)
from bayesreg.models import linear_regression, logistic_regression
from bayesreg.priors import Prior, penalty_from_prior
from bayesreg.sampling import fit_posterior

NUM_CHAINS, GIBBS_DRAWS, GIBBS_BURN = 4, 10_000, 1000
SIGMA2_SHAPE = 2.0  # σ² ~ Inv-Gamma(2, var(y)): prior mean var(y), the least-squares residual's bound


def sigma_prior(y):
    """σ with σ² ~ Inv-Gamma(`SIGMA2_SHAPE`, var(y)): the prior both Gibbs samplers update conjugately."""
    return dist.TransformedDistribution(
        dist.InverseGamma(SIGMA2_SHAPE, float(np.var(y))), PowerTransform(0.5)
    )


def _inverse_gamma(rng, shape, rate):
    return rate / rng.gamma(shape, size=np.shape(rate))


def gibbs(X, y, prior, *, num_chains=NUM_CHAINS, num_draws=GIBBS_DRAWS, num_burn=GIBBS_BURN, seed=0):
    """The posterior of ``linear_regression(X, y, prior=prior, sigma=sigma_prior(y))`` (flat intercept)
    by Gibbs sampling, chains side by side; draws shaped (chain, draw).

    Both priors are ``coef | σ, v ~ N(0, σ² diag(v))``. The flat intercept is integrated out by
    centring (every update but the intercept's sees the centred data), so σ²'s full conditional is
    ``IG(a + (n − 1)/2 + p/2, b + (‖yc − Xc·coef‖² + Σ coef²/v)/2)``.

    - `HierarchicalLaplace` (Park & Casella 2008, §2 and §3.2): ``v_j = τ_j²``;
      ``1/τ_j² | · ~ InverseGaussian(√(λ²σ²/coef_j²), λ²)``, ``λ² | · ~ Gamma(p + r, Σ τ_j²/2 + δ)``.
    - `HierarchicalGaussian`: ``v_j = τ²`` with ``τ ~ C⁺(0, s)`` as ``τ² | ξ ~ IG(1/2, 1/ξ)``,
      ``ξ ~ IG(1/2, 1/s²)`` (Makalic & Schmidt 2016): ``τ² | · ~ IG((p + 1)/2, 1/ξ + Σ coef²/(2σ²))``,
      ``ξ | · ~ IG(1, 1/s² + 1/τ²)``.
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    x_mean, y_mean = X.mean(0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    xtx, xty = Xc.T @ Xc, Xc.T @ yc
    a, b = SIGMA2_SHAPE, float(np.var(y))
    laplace = isinstance(prior, HierarchicalLaplace)
    sigma2 = np.full(num_chains, float(np.var(y)))
    v = np.ones((num_chains, p))
    lam2, xi = np.ones(num_chains), np.ones(num_chains)
    out = {"coef": [], "intercept": [], "sigma": [], "hyper": []}
    for step in range(num_burn + num_draws):
        precision = xtx + np.eye(p) / v[:, None, :]  # of coef, times σ²
        chol = np.linalg.cholesky(precision)
        mean = np.linalg.solve(precision, np.broadcast_to(xty, (num_chains, p))[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(chol, 1, 2), rng.standard_normal((num_chains, p, 1)))[..., 0]
        coef = mean + np.sqrt(sigma2)[:, None] * noise
        rss = ((yc - coef @ Xc.T) ** 2).sum(1)
        sigma2 = _inverse_gamma(rng, a + (n - 1) / 2 + p / 2, b + (rss + (coef**2 / v).sum(1)) / 2)
        intercept = y_mean - coef @ x_mean + np.sqrt(sigma2 / n) * rng.standard_normal(num_chains)
        if laplace:
            inv_v = rng.wald(np.sqrt(lam2[:, None] * sigma2[:, None] / coef**2), lam2[:, None])
            v = 1.0 / inv_v
            lam2 = rng.gamma(p + prior.shape, 1.0 / (v.sum(1) / 2 + prior.rate))
            hyper = lam2
        else:
            tau2 = _inverse_gamma(rng, (p + 1) / 2, 1.0 / xi + (coef**2).sum(1) / (2 * sigma2))
            xi = _inverse_gamma(rng, 1.0, 1.0 / prior.global_scale**2 + 1.0 / tau2)
            v = np.repeat(tau2[:, None], p, axis=1)
            hyper = np.sqrt(tau2)
        if step >= num_burn:
            for name, value in zip(out, (coef, intercept, np.sqrt(sigma2), hyper), strict=True):
                out[name].append(value)
    return {k: np.stack(v, axis=1) for k, v in out.items()}


def scalars(draws: dict) -> dict:
    """name -> (chain, draw) for every scalar: ``coef[j]``, ``intercept``, ``sigma``, ``hyper``."""
    out = {f"coef[{j}]": draws["coef"][..., j] for j in range(draws["coef"].shape[-1])}
    out.update({k: draws[k] for k in ("intercept", "sigma", "hyper")})
    return out


def standardised(X):
    return (X - X.mean(0)) / X.std(0)


# the NUTS fits compared with the Gibbs samplers: (prior, columns)
CASES = {
    "laplace_unscaled": (HierarchicalLaplace(), "unscaled"),
    "laplace_standardised": (HierarchicalLaplace(), "standardised"),
    "gaussian_unscaled": (HierarchicalGaussian(global_scale=10.0), "unscaled"),
    "gaussian_standardised": (HierarchicalGaussian(), "standardised"),
    "laplace_wide": (HierarchicalLaplace(), "wide"),  # p > n: the collapsed form from the rows
}


def wide_regression():
    """More columns than rows (15 × 24), two effects: the collapsed sampler takes the n × n form."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((15, 24))
    coef = np.zeros(24)
    coef[:2] = [3.0, -2.0]
    return X, 0.5 + X @ coef + rng.standard_normal(15)


@pytest.fixture(scope="module")
def runs(diabetes):
    """``runs(case)``: (`fit_posterior`'s fit with its defaults, the warnings it raised, Gibbs draws)."""
    cache = {}

    def get(case):
        if case not in cache:
            prior, columns = CASES[case]
            X, y = wide_regression() if columns == "wide" else diabetes
            X = standardised(X) if columns == "standardised" else X
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = fit_posterior(linear_regression, X, y, prior=prior, sigma=sigma_prior(y), seed=0)
            caught = [w for w in caught if issubclass(w.category, PosteriorWarning)]
            cache[case] = fit, caught, gibbs(X, y, prior)
        return cache[case]

    return get


def nuts_scalars(fit, prior) -> dict:
    post = fit.idata.posterior
    hyper = post[prior.hyper_site].values
    return scalars(
        {
            "coef": post["coef"].values,
            "intercept": post["intercept"].values,
            "sigma": post["sigma"].values,
            "hyper": hyper,
        }
    )


@pytest.mark.parametrize("case", list(CASES))
def test_nuts_matches_gibbs(runs, case):
    fit, _, reference = runs(case)
    assert_same_posterior(scalars(reference), nuts_scalars(fit, CASES[case][0]))


@pytest.mark.parametrize("case", list(CASES))
def test_collapsed_fit_has_no_map_no_divergence_and_passes_its_diagnostics(runs, case):
    fit, caught, _ = runs(case)
    assert fit.map is None and fit.parametrisation == "collapsed"
    assert fit.diagnostics.divergences == int(fit.idata.sample_stats["diverging"].sum()) == 0
    assert fit.diagnostics.ok and not caught, (case, fit.diagnostics)
    assert float(fit.idata.sample_stats["acceptance_rate"].mean()) > 0.9  # the prior's target, 0.95


def test_bayesian_lasso_sites(runs):
    fit = runs("laplace_unscaled")[0]
    post = fit.idata.posterior
    assert post["psi"].dims == post["coef_z"].dims == ("chain", "draw", "feature")
    assert post["lambda_sq"].dims == ("chain", "draw")
    sd = post["sigma"].values[..., None] * np.sqrt(post["psi"].values / post["lambda_sq"].values[..., None])
    np.testing.assert_allclose(post["coef"].values, post["coef_z"].values * sd, rtol=1e-10)


# --- the posterior of α ---------------------------------------------------------------------------------


def _per_draw(prior, hyper, sigma, *, convention, family, n_samples):
    """α of each draw through `penalty_from_prior` on the prior that draw stands for."""
    out = []
    for h, s in zip(hyper.ravel(), np.broadcast_to(sigma, hyper.shape).ravel(), strict=True):
        if isinstance(prior, HierarchicalLaplace):
            fixed = Prior("laplace", l1=np.sqrt(h) / s)  # Laplace(0, σ/λ), not conditional on σ
        else:
            fixed = Prior("gaussian", l2=1.0 / (h * s) ** 2)  # Normal(0, τσ)
        penalty = penalty_from_prior(
            fixed, convention=convention, family=family, n_samples=n_samples, sigma=s
        )
        out.append(penalty["alpha"])
    return np.array(out).reshape(hyper.shape)


@pytest.mark.parametrize("case", ["laplace_unscaled", "gaussian_standardised"])
@pytest.mark.parametrize("convention", ["sklearn", "book"])
def test_alpha_posterior_is_penalty_from_prior_of_each_draw(runs, diabetes, case, convention):
    prior = CASES[case][0]
    idata = runs(case)[0].idata.sel(draw=slice(0, 25))
    post = alpha_posterior(idata, prior, convention=convention)
    hyper, sigma = idata.posterior[prior.hyper_site].values, idata.posterior["sigma"].values
    n = diabetes[0].shape[0]
    expected = _per_draw(prior, hyper, sigma, convention=convention, family="gaussian", n_samples=n)
    np.testing.assert_allclose(post.draws, expected, rtol=1e-12)
    assert post.family == "gaussian" and post.penalty_kind == prior.penalty_kind
    summary = [*post.interval, post.median, post.mean]
    expected_summary = [*np.quantile(expected, [0.05, 0.95]), np.median(expected), expected.mean()]
    np.testing.assert_allclose(summary, expected_summary, rtol=1e-12)


@pytest.fixture(scope="module")
def logistic_fits(breast_cancer):
    X, y = breast_cancer
    fits = {}
    for prior in (HierarchicalLaplace(), HierarchicalGaussian()):
        fits[prior.kind] = (
            fit_posterior(  # 1000 warmup steps: at the default 500 the Laplace chains diverged 4x
                logistic_regression, X, y, prior=prior, seed=0, num_warmup=1000, progress_bar=False
            )
        )
    return fits


@pytest.mark.parametrize("prior", [HierarchicalLaplace(), HierarchicalGaussian()], ids=lambda p: p.kind)
def test_logistic_alpha_is_one_over_c_and_the_fit_is_clean(logistic_fits, prior):
    fit = logistic_fits[prior.kind]
    assert fit.map is None and fit.diagnostics.divergences == 0 and fit.diagnostics.ok, fit.diagnostics
    idata = fit.idata.sel(draw=slice(0, 25))
    hyper = idata.posterior[prior.hyper_site].values
    for convention in ("sklearn", "book"):
        post = alpha_posterior(idata, prior, convention=convention)
        expected = _per_draw(prior, hyper, 1.0, convention=convention, family="bernoulli", n_samples=None)
        np.testing.assert_allclose(post.draws, expected, rtol=1e-12)
        assert post.family == "bernoulli"


def test_alpha_posterior_errors(runs):
    fit = runs("laplace_unscaled")[0]
    with pytest.raises(ValueError, match="no 'tau' variable"):
        alpha_posterior(fit.idata, HierarchicalGaussian())
    with pytest.raises(ValueError, match="not a hierarchical prior: Prior"):
        alpha_posterior(fit.idata, Prior("laplace", 1.0))
    with pytest.raises(ValueError, match="convention"):
        alpha_posterior(fit.idata, HierarchicalLaplace(), convention="glmnet")
    with pytest.raises(ValueError, match="no hierarchical prior for the elasticnet penalty"):
        hierarchical_prior("elasticnet")
    with pytest.raises(ValueError, match="takes shape, rate, not scale"):
        hierarchical_prior("laplace", scale=1.0)
    with pytest.raises(ValueError, match="global_scale must be a positive finite number"):
        HierarchicalGaussian(-1.0)


# --- simulation-based calibration ------------------------------------------------------------------

SBC = {"num_replicates": 200, "num_warmup": 150, "num_draws": 99, "thin": 2}
SBC_LEVEL = 0.01


@pytest.mark.parametrize("family", ["linear", "logistic"])
@pytest.mark.parametrize("prior", [HierarchicalLaplace(), HierarchicalGaussian()], ids=lambda p: p.kind)
def test_sbc_ranks_are_uniform(prior, family):
    rows = 20 if family == "linear" else 40
    X = np.random.default_rng(0 if family == "linear" else 1).standard_normal((rows, 3))
    kwargs = {"prior": prior, "intercept_prior": dist.Normal(0.0, 1.0)}
    model = linear_regression if family == "linear" else logistic_regression
    if family == "linear":
        kwargs["sigma"] = dist.HalfNormal(1.0)
    result = sbc_ranks(model, X, seed=0, model_kwargs=kwargs, **SBC)
    assert rank_uniformity_pvalue(result.ranks, SBC["num_draws"]) > SBC_LEVEL


def test_alpha_of_a_student_t_posterior_is_refused_by_name():
    """α's conversions are the linear and logistic models' own: a posterior recorded as another
    family (the Student-t has a sigma too) is refused, not read as a linear one."""
    import arviz as az

    from bayesreg.hierarchical import HierarchicalLaplace, alpha_posterior

    idata = az.from_dict(posterior={"lambda_sq": np.ones((1, 10)), "sigma": np.ones((1, 10))})
    idata.posterior.attrs["family"] = "student_t"
    with pytest.raises(ValueError, match="linear and logistic posteriors; this one is 'student_t'"):
        alpha_posterior(idata, HierarchicalLaplace(), n_samples=10)
