"""The sparsity priors of `bayesreg.shrinkage`: their penalties, their NUTS posteriors and calibration.

References, each independent of the code under test:

- the horseshoe's marginal density in closed form, ``(2π³)^{-1/2} exp(θ²/2) E₁(θ²/2)``, and the bounds
  of Carvalho, Polson & Scott (2010, Theorem 1); the other penalties integrate to 1 and meet the
  horseshoe's in their limits;
- the horseshoe posterior from a Gibbs sampler written here, Makalic & Schmidt (2016)'s auxiliary
  inverse-gamma form (σ fixed, or σ² with an inverse-gamma prior): means, sds and quantiles within 4
  combined Monte Carlo standard errors (ArviZ's ``mcse``), for the direct (non-centred) form and the
  collapsed one (weights integrated out; from the statistics, and from the rows when p > n);
- simulation-based calibration of each prior, linear and logistic (`bayesreg.calibration`).
"""

import warnings

import arviz as az
import jax
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro import handlers
from numpyro.distributions.transforms import PowerTransform
from scipy.special import exp1

from bayesreg.calibration import rank_uniformity_pvalue, sbc_ranks
from bayesreg.diagnostics import PosteriorWarning
from bayesreg.models import linear_regression, logistic_regression
from bayesreg.sampling import fit_posterior, sample_posterior
from bayesreg.shrinkage import (
    LOGISTIC_PSEUDO_SIGMA,
    R2D2,
    Horseshoe,
    RegularizedHorseshoe,
    shrinkage_prior,
)

K = 1.0 / np.sqrt(2.0 * np.pi**3)


# --- the penalties ---------------------------------------------------------------------------------


def horseshoe_density(theta):
    """Carvalho et al. (2010): the horseshoe's marginal density for τσ = 1."""
    return K * np.exp(theta**2 / 2) * exp1(theta**2 / 2)


def test_horseshoe_penalty_is_the_closed_form_and_within_the_bounds():
    theta = np.geomspace(1e-4, 30.0, 41)
    density = np.exp(-Horseshoe().penalty(theta, tau=1.0))
    np.testing.assert_allclose(density, horseshoe_density(theta), rtol=1e-9)
    assert np.all(K / 2 * np.log1p(4 / theta**2) < density)
    assert np.all(density < K * np.log1p(2 / theta**2))
    # σ and τ enter as the scale στ only: density(θ; στ) = density(θ/(στ); 1)/(στ)
    scaled = np.exp(-Horseshoe().penalty(theta, tau=0.5, sigma=3.0))
    np.testing.assert_allclose(scaled, horseshoe_density(theta / 1.5) / 1.5, rtol=1e-9)


def test_penalties_are_unbounded_at_zero_and_integrate_to_one():
    assert Horseshoe().penalty(0.0) == -np.inf
    assert RegularizedHorseshoe(global_scale=0.1).penalty(0.0, num_features=5) == -np.inf
    assert R2D2().penalty(0.0, num_features=4) == -np.inf  # a/p = 1/4 <= 1/2
    assert np.isfinite(R2D2(r2_precision=20.0).penalty(0.0, num_features=2))  # a/p = 5
    # the density integrates to 1: ∫ p(θ) dθ = 2 ∫ p(e^v) e^v dv, by the trapezoid rule in v = log θ
    # (geometric convergence: the integrand decays exponentially at both ends; the tails of λτ beyond
    # θ = 1e6 hold (4/π²) log(1e6)/1e6 ≈ 6e-6 of the mass)
    v = np.arange(-40.0, np.log(1e6), 0.05)
    cases = [
        (Horseshoe(0.5), {"sigma": 2.0}),
        (RegularizedHorseshoe(global_scale=0.1, slab_scale=2.0), {"num_features": 5}),
        (RegularizedHorseshoe(expected_nonzero=2, n_samples=50), {"num_features": 10, "sigma": 3.0}),
        (R2D2(), {"num_features": 4}),
        (R2D2(0.3, 5.0), {"num_features": 2, "sigma": 0.5}),
    ]
    for prior, kwargs in cases:
        mass = 2 * 0.05 * np.sum(np.exp(v - prior.penalty(np.exp(v), **kwargs)))
        assert abs(mass - 1.0) < 2e-5, (prior, mass)


def test_regularized_horseshoe_is_the_horseshoe_below_the_slab():
    # a slab far beyond the weights leaves the horseshoe with τ ~ C⁺(0, τ₀)
    theta = np.array([1e-3, 0.05, 0.3, 1.0])
    wide = RegularizedHorseshoe(global_scale=0.2).penalty(theta, num_features=3, slab=1e6)
    np.testing.assert_allclose(wide, Horseshoe(0.2).penalty(theta), rtol=1e-7)


def test_regularized_horseshoe_global_scale_follows_piironen_vehtari():
    prior = RegularizedHorseshoe(expected_nonzero=3, n_samples=64)
    assert prior.tau0(23, sigma=2.0) == pytest.approx(3 / 20 * 2.0 / 8.0)
    assert RegularizedHorseshoe(n_samples=100).tau0(1000) == pytest.approx(100 / 900 / 10)  # p₀ = p/10
    with pytest.raises(ValueError, match="n_samples"):
        RegularizedHorseshoe().tau0(10)
    with pytest.raises(ValueError, match="below the number of weights"):
        RegularizedHorseshoe(expected_nonzero=10, n_samples=5).tau0(10)


def test_logistic_models_use_the_pseudo_sigma():
    X = np.ones((4, 3))
    prior = RegularizedHorseshoe(expected_nonzero=1, n_samples=4)
    model = handlers.seed(logistic_regression, 0)
    trace = handlers.trace(model).get_trace(X, prior=prior, intercept_prior=dist.Normal(0.0, 1.0))
    assert float(trace["tau"]["fn"].scale) == pytest.approx(0.5 * LOGISTIC_PSEUDO_SIGMA / 2.0)
    assert trace["coef"]["type"] == "deterministic" and trace["coef"]["value"].shape == (3,)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Horseshoe(global_scale=-1.0), "global_scale must be a positive finite number, got -1.0"),
        (lambda: R2D2(r2_mean=1.0), "r2_mean must lie strictly between 0 and 1"),
        (lambda: RegularizedHorseshoe(slab_df=0.0), "slab_df must be a positive finite number, got 0.0"),
        (lambda: shrinkage_prior("spike_and_slab"), "unknown shrinkage prior 'spike_and_slab'"),
        (lambda: shrinkage_prior("horseshoe", r2_mean=0.5), "horseshoe takes the options global_scale"),
    ],
)
def test_bad_options_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_priors_are_pytrees_so_programs_take_new_values():
    leaves, treedef = jax.tree.flatten(RegularizedHorseshoe(expected_nonzero=2, n_samples=30, slab_scale=3.0))
    assert leaves == [3.0, 4.0]  # global_scale None, slab_scale, slab_df; p₀ and n are static
    rebuilt = jax.tree.unflatten(treedef, [1.0, 2.0])
    assert (rebuilt.slab_scale, rebuilt.n_samples) == (1.0, 30)
    assert jax.tree.leaves(R2D2(0.3, 4.0)) == [0.3, 4.0]


# --- the horseshoe against a Gibbs sampler -----------------------------------------------------------

N_ROWS, N_FEATURES, SIGMA = 60, 8, 1.0
NUM_CHAINS, GIBBS_DRAWS = 4, 10_000
SIGMA2_PRIOR = (2.0, 2.0)  # σ² ~ Inv-Gamma(2, 2) where σ is sampled


def sigma_prior():
    """σ with σ² ~ Inv-Gamma(`SIGMA2_PRIOR`): the prior the Gibbs sampler updates conjugately."""
    return dist.TransformedDistribution(dist.InverseGamma(*SIGMA2_PRIOR), PowerTransform(0.5))


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_FEATURES))
    coef = np.array([3.0, -2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    return X, 0.5 + X @ coef + SIGMA * rng.standard_normal(N_ROWS)


@pytest.fixture(scope="module")
def wide_regression():
    """More columns than rows (15 × 24), so that the collapsed sampler takes the rows' form."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((15, 24))
    coef = np.zeros(24)
    coef[:2] = [3.0, -2.0]
    return X, 0.5 + X @ coef + SIGMA * rng.standard_normal(15)


def _inverse_gamma(rng, shape, rate):
    return rate / rng.gamma(shape, size=np.shape(rate))


def horseshoe_gibbs(X, y, sigma, *, num_chains, num_draws, num_burn=1000, seed=0):
    """Makalic & Schmidt (2016): coef ~ N(0, λ²τ²σ²), λ_j² | ν_j ~ IG(1/2, 1/ν_j), ν_j ~ IG(1/2, 1),
    τ² | ξ ~ IG(1/2, 1/ξ), ξ ~ IG(1/2, 1); all full conditionals are (inverse) gamma or Gaussian. The
    flat intercept is integrated out by centring (every update conditions on the centred data only),
    then drawn given coef. ``sigma`` None samples σ² ~ IG(`SIGMA2_PRIOR`), whose full conditional
    given coef is IG(a + (n − 1)/2 + p/2, b + (‖yc − Xc·coef‖² + Σ coef²/(λ²τ²))/2). Chains run side
    by side."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    x_mean, y_mean = X.mean(0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    xtx, xty = Xc.T @ Xc, Xc.T @ yc
    lam2, tau2 = np.ones((num_chains, p)), np.ones(num_chains)
    nu, xi = np.ones((num_chains, p)), np.ones(num_chains)
    sigma2 = np.full(num_chains, 1.0 if sigma is None else sigma**2)
    out = {k: [] for k in ("coef", "intercept", "lambda", "tau", "sigma")}
    for step in range(num_burn + num_draws):
        s2 = sigma2[:, None, None]
        precision = xtx / s2 + np.eye(p) / (tau2[:, None, None] * lam2[:, None, :] * s2)
        chol = np.linalg.cholesky(precision)
        mean = np.linalg.solve(precision, (xty / s2[..., 0])[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(chol, 1, 2), rng.standard_normal((num_chains, p, 1)))[..., 0]
        coef = mean + noise
        if sigma is None:
            rss = ((yc - coef @ Xc.T) ** 2).sum(1)
            a, b = SIGMA2_PRIOR
            shape = a + (n - 1) / 2 + p / 2
            sigma2 = _inverse_gamma(rng, shape, b + (rss + (coef**2 / lam2).sum(1) / tau2) / 2)
        intercept = y_mean - coef @ x_mean + np.sqrt(sigma2 / n) * rng.standard_normal(num_chains)
        lam2 = _inverse_gamma(rng, 1.0, 1.0 / nu + coef**2 / (2 * tau2[:, None] * sigma2[:, None]))
        tau2 = _inverse_gamma(rng, (p + 1) / 2, 1.0 / xi + (coef**2 / lam2).sum(1) / (2 * sigma2))
        nu = _inverse_gamma(rng, 1.0, 1.0 + 1.0 / lam2)
        xi = _inverse_gamma(rng, 1.0, 1.0 + 1.0 / tau2)
        if step >= num_burn:
            values = (coef, intercept, np.sqrt(lam2), np.sqrt(tau2), np.sqrt(sigma2))
            for name, value in zip(out, values, strict=True):
                out[name].append(value)
    draws = {k: np.stack(v, axis=1) for k, v in out.items()}  # (chain, draw, ...)
    return az.from_dict(posterior=draws, dims={"coef": ["feature"], "lambda": ["feature"]})


# the horseshoe's NUTS runs compared with the Gibbs sampler: (form, σ sampled?, data)
HORSESHOE_CASES = {
    "direct": ("direct", False, "regression"),
    "collapsed": ("collapsed", False, "regression"),
    "collapsed_sigma": ("collapsed", True, "regression"),
    "collapsed_rows": ("collapsed", False, "wide_regression"),  # p > n: the n × n form
}


@pytest.fixture(scope="module")
def horseshoe_runs(request):
    """``runs(case)``: (NUTS fit, Gibbs reference) of a case of `HORSESHOE_CASES`, made once. The
    collapsed fits are `fit_posterior`'s with its defaults; the direct one is asked for."""
    cache = {}

    def runs(case):
        if case not in cache:
            form, sampled, data = HORSESHOE_CASES[case]
            X, y = request.getfixturevalue(data)
            sigma = sigma_prior() if sampled else SIGMA
            if form == "direct":
                nuts = sample_posterior(
                    linear_regression, X, y, prior=Horseshoe(), sigma=sigma, laplace_parametrisation="direct",
                    num_warmup=1000, num_samples=2000, num_chains=NUM_CHAINS, seed=0, progress_bar=False,
                )  # fmt: skip
            else:
                fit = fit_posterior(
                    linear_regression, X, y, prior=Horseshoe(), sigma=sigma, seed=0, progress_bar=False
                )
                assert fit.parametrisation == "collapsed" and fit.map is None
                nuts = fit.idata
            gibbs = horseshoe_gibbs(
                X, y, None if sampled else SIGMA, num_chains=NUM_CHAINS, num_draws=GIBBS_DRAWS
            )  # fmt: skip
            cache[case] = nuts, gibbs
        return cache[case]

    return runs


def _stat_and_mcse(idata, var, stat):
    post = idata.posterior[var]
    if stat == "mean":
        return post.mean(("chain", "draw")).values, az.mcse(idata, var_names=[var], method="mean")[var].values
    if stat == "sd":
        return post.std(("chain", "draw")).values, az.mcse(idata, var_names=[var], method="sd")[var].values
    q = float(stat)
    value = post.quantile(q, ("chain", "draw")).values
    return value, az.mcse(idata, var_names=[var], method="quantile", prob=q)[var].values


def _assert_matches(nuts, gibbs, var, stat):
    value, mcse = _stat_and_mcse(nuts, var, stat)
    reference, reference_mcse = _stat_and_mcse(gibbs, var, stat)
    bound = 4.0 * np.hypot(mcse, reference_mcse)
    assert np.all(np.abs(value - reference) <= bound), (value, reference, bound)


@pytest.mark.parametrize("case", list(HORSESHOE_CASES))
@pytest.mark.parametrize(
    ("var", "stat"),
    [("coef", s) for s in ("mean", "sd", "0.05", "0.5", "0.95")]
    + [("intercept", "mean"), ("intercept", "sd")]
    + [("tau", s) for s in ("0.05", "0.5", "0.95")]  # τ and λ have no finite means a posteriori here
    + [("lambda", s) for s in ("0.25", "0.5", "0.75")],
)
def test_horseshoe_nuts_matches_gibbs(horseshoe_runs, case, var, stat):
    _assert_matches(*horseshoe_runs(case), var, stat)


@pytest.mark.parametrize("stat", ["mean", "sd", "0.05", "0.5", "0.95"])
def test_horseshoe_sigma_matches_gibbs(horseshoe_runs, stat):
    _assert_matches(*horseshoe_runs("collapsed_sigma"), "sigma", stat)


@pytest.mark.parametrize("case", list(HORSESHOE_CASES))
def test_horseshoe_sites(horseshoe_runs, case):
    post = horseshoe_runs(case)[0].posterior
    assert post["coef"].dims == post["coef_z"].dims == post["lambda"].dims == ("chain", "draw", "feature")
    sigma = post["sigma"].values[..., None] if "sigma" in post else SIGMA
    expected = post["coef_z"].values * post["lambda"].values * post["tau"].values[..., None] * sigma
    np.testing.assert_allclose(post["coef"].values, expected, rtol=1e-10)


@pytest.mark.parametrize("case", [c for c in HORSESHOE_CASES if c != "direct"])
def test_collapsed_horseshoe_does_not_diverge(horseshoe_runs, case):
    assert int(horseshoe_runs(case)[0].sample_stats["diverging"].sum()) == 0


# --- divergences ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["regularized_horseshoe", "r2d2"])
def other_fit(request, regression):
    """`fit_posterior` with its defaults (the prior's target_accept, the collapsed form), and the
    warnings it raised."""
    X, y = regression
    prior = shrinkage_prior(request.param, **({"n_samples": N_ROWS} if "horseshoe" in request.param else {}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_posterior(linear_regression, X, y, prior=prior, sigma=SIGMA, seed=0, progress_bar=False)
    return request.param, fit, [w for w in caught if issubclass(w.category, PosteriorWarning)]


def test_sparsity_priors_shrink_the_null_weights(other_fit):
    name, fit, _ = other_fit
    post = fit.idata.posterior["coef"]
    mean, sd = post.mean(("chain", "draw")).values, post.std(("chain", "draw")).values
    # the three effects (3, −2, 1) stand out; the five null weights are pulled towards 0, closer
    # than least squares leaves them
    assert np.all(np.abs(mean[:3] - [3.0, -2.0, 1.0]) < 4 * sd[:3] + 0.2), (name, mean)
    assert np.all(np.abs(mean[3:]) < 0.2), (name, mean)


def test_fit_posterior_has_no_map_and_passes_its_diagnostics(other_fit):
    name, fit, posterior_warnings = other_fit
    assert fit.map is None and fit.parametrisation == "collapsed"
    assert fit.diagnostics.divergences == int(fit.idata.sample_stats["diverging"].sum()) == 0
    assert fit.diagnostics.ok and not posterior_warnings, (name, fit.diagnostics)
    # the prior's target_accept (0.99) is the one the step size adapted to, not numpyro's 0.8
    assert float(fit.idata.sample_stats["acceptance_rate"].mean()) > 0.95
    assert fit.idata.posterior["lambda" if "horseshoe" in name else "phi"].dims[-1] == "feature"


# --- simulation-based calibration ------------------------------------------------------------------

SBC = {"num_replicates": 200, "num_warmup": 300, "num_draws": 99, "thin": 2}
SBC_LEVEL = 0.01


@pytest.mark.parametrize("family", ["linear", "logistic"])
@pytest.mark.parametrize("name", ["horseshoe", "regularized_horseshoe", "r2d2"])
def test_sbc_ranks_are_uniform(name, family):
    rows = 20 if family == "linear" else 40
    X = np.random.default_rng(0 if family == "linear" else 1).standard_normal((rows, 3))
    options = {"n_samples": rows, "expected_nonzero": 1} if name == "regularized_horseshoe" else {}
    kwargs = {"prior": shrinkage_prior(name, **options), "intercept_prior": dist.Normal(0.0, 1.0)}
    model = linear_regression if family == "linear" else logistic_regression
    if family == "linear":
        kwargs["sigma"] = 1.0
    result = sbc_ranks(
        model, X, seed=0, model_kwargs=kwargs, target_accept=kwargs["prior"].target_accept, **SBC
    )
    assert rank_uniformity_pvalue(result.ranks, SBC["num_draws"]) > SBC_LEVEL
