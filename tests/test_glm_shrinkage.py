"""The count models under the priors that learn their scales (horseshoe, hierarchical Laplace): NUTS
posterior moments against numerical quadrature, and SBC of the data-conditioned weights.

Reference (independent of numpyro and of bayesreg's models): with one feature the posterior of the
weight ``w`` and the flat intercept ``b`` is two-dimensional once the prior's scales are integrated
out of the prior of ``w``:

- horseshoe, ``w | λ, τ ~ N(0, (λτ)²)``, ``λ, τ ~ C⁺(0, 1)``: ``log λ`` and ``log τ`` each have the
  density ``sech(u)/π``, so ``v = log(λτ)`` has their convolution ``g`` (on a grid) and
  ``p(w) = ∫ N(w; 0, e^{2v}) g(v) dv``;
- hierarchical Laplace, ``w | λ ~ Laplace(0, 1/λ)``, ``λ² ~ Gamma(r, δ)``:
  ``p(w) = ∫ (λ/2) e^{−λ|w|} Gamma(λ²; r, δ) dλ²``, on a grid of ``log λ²``.

Then ``p(w, b | y) ∝ Π_i p(y_i | b + x_i w) · p(w)`` on a fine grid of (w, b) (the midpoints of an
even number of cells over a range symmetric about 0, so that the horseshoe's logarithmic pole at
w = 0 is never evaluated; with an odd number one midpoint is 0 and the null weight's mean came out
0.051 instead of 0.0887; 600, 1200 and 2400 cells agree to 4e-4) gives the posterior mean and sd of w and
b to far better than the chains' Monte Carlo error. NUTS (`bayesreg.sampling.fit_posterior` at its
defaults: 4 × 1000 draws after 1000 warmup steps, the weights standardised by the likelihood's
Gaussian approximation at the start's mode) must agree within 4 Monte Carlo standard errors
(ArviZ's ``mcse``), with no divergent transition: a weight the data pin down (w = 0.8, 60 rows) under
Poisson and NB2 likelihoods, and a null weight (w = 0) under Poisson.
"""

import warnings

import arviz as az
import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest
from cli_runs import run
from scipy.special import gammaln
from scipy.stats import gamma, nbinom, poisson

from bayesreg import load
from bayesreg.calibration import rank_uniformity_pvalue, sbc_ranks
from bayesreg.hierarchical import HierarchicalLaplace
from bayesreg.models import negative_binomial_regression, poisson_regression
from bayesreg.models.shrinkage import WeightConditioning
from bayesreg.sampling import fit_posterior
from bayesreg.shrinkage import Horseshoe, RegularizedHorseshoe

ROWS = 60
DISPERSION = 0.5
MCSE_TOLERANCE = 4.0


def horseshoe_log_prior(w):
    """log p(w) of the horseshoe with λ, τ ~ C⁺(0, 1), by quadrature over v = log(λτ)."""
    u = np.linspace(-40.0, 40.0, 8001)
    du = u[1] - u[0]
    f = 1.0 / (np.pi * np.cosh(u))  # density of log λ for λ ~ C⁺(0, 1)
    g = np.convolve(f, f) * du  # density of log λ + log τ, on the grid 2u[0] + k du
    v = 2.0 * u[0] + du * np.arange(g.size)
    keep = g > 1e-300
    v, g = v[keep], g[keep]
    s = np.exp(v)
    log_normal = -0.5 * (w[:, None] / s) ** 2 - v - 0.5 * np.log(2.0 * np.pi)
    top = log_normal.max(axis=1, keepdims=True)
    return np.log(np.exp(log_normal - top) @ (g * du)) + top[:, 0]


def hierarchical_laplace_log_prior(w, shape: float, rate: float):
    """log p(w) of the Laplace prior with a Gamma(shape, rate) prior on λ², by quadrature over log λ²."""
    t = np.linspace(-30.0, 30.0, 12001)  # log λ²
    dt = t[1] - t[0]
    lam = np.exp(0.5 * t)
    log_weight = gamma.logpdf(np.exp(t), shape, scale=1.0 / rate) + t  # density of log λ²
    log_laplace = np.log(lam / 2.0) - lam * np.abs(w[:, None])
    terms = log_laplace + log_weight
    top = terms.max(axis=1, keepdims=True)
    return np.log(np.exp(terms - top).sum(axis=1) * dt) + top[:, 0]


def grid_moments(x, y, family: str, log_prior, w_range, b_range, size: int = 1200):
    """Posterior mean and sd of (w, b) on a midpoint grid of ``size`` × ``size`` points (``size``
    even: no midpoint at w = 0 of a range symmetric about it)."""
    w = np.linspace(*w_range, size + 1)
    w = 0.5 * (w[1:] + w[:-1])
    b = np.linspace(*b_range, size + 1)
    b = 0.5 * (b[1:] + b[:-1])
    eta = b[None, :, None] + w[:, None, None] * x[None, None, :]
    if family == "poisson":
        loglik = (y * eta - np.exp(eta) - gammaln(y + 1.0)).sum(axis=-1)
    else:
        r = 1.0 / DISPERSION
        loglik = nbinom.logpmf(y, r, r / (r + np.exp(eta))).sum(axis=-1)
    logpost = loglik + log_prior(w)[:, None]
    density = np.exp(logpost - logpost.max())
    density /= density.sum()
    pw, pb = density.sum(axis=1), density.sum(axis=0)
    assert max(pw[0], pw[-1], pb[0], pb[-1]) < 1e-10, "the grid does not hold the posterior"
    moments = {}
    for name, grid, marginal in (("coef", w, pw), ("intercept", b, pb)):
        mean = float(grid @ marginal)
        moments[name] = (mean, float(np.sqrt(((grid - mean) ** 2) @ marginal)))
    return moments


def simulate(weight: float, family: str, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(ROWS)
    mean = np.exp(0.5 + weight * x)
    if family == "poisson":
        y = poisson.rvs(mean, random_state=rng)
    else:
        r = 1.0 / DISPERSION
        y = nbinom.rvs(r, r / (r + mean), random_state=rng)
    return x, y.astype(float)


CASES = {
    "poisson-horseshoe-strong": ("poisson", Horseshoe(), 0.8, (0.0, 1.6), (-0.5, 1.5)),
    "poisson-horseshoe-null": ("poisson", Horseshoe(), 0.0, (-0.8, 0.8), (-0.5, 1.5)),
    "negative_binomial-horseshoe-strong": ("negative_binomial", Horseshoe(), 0.8, (-0.4, 2.4), (-1.0, 2.0)),
    "poisson-hierarchical_laplace-strong": ("poisson", HierarchicalLaplace(), 0.8, (0.0, 1.6), (-0.5, 1.5)),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    family, prior, weight, w_range, b_range = CASES[request.param]
    x, y = simulate(weight, family, seed=3)
    if isinstance(prior, Horseshoe):
        log_prior = horseshoe_log_prior
    else:
        log_prior = lambda w: hierarchical_laplace_log_prior(w, prior.shape, prior.rate)  # noqa: E731
    reference = grid_moments(x, y, family, log_prior, w_range, b_range)
    model = poisson_regression if family == "poisson" else negative_binomial_regression
    extra = {} if family == "poisson" else {"dispersion": DISPERSION}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the gate's warnings: checked below
        fit = fit_posterior(model, x[:, None], y, prior=prior, seed=0, progress_bar=False, **extra)
    return request.param, fit, reference


def test_posterior_moments_match_quadrature(case):
    name, fit, reference = case
    posterior = fit.idata.posterior
    draws = {"coef": posterior["coef"].isel(feature=0), "intercept": posterior["intercept"]}
    for site, (mean, sd) in reference.items():
        data = az.convert_to_dataset({site: draws[site].values})
        mcse_mean = float(az.mcse(data, method="mean")[site])
        mcse_sd = float(az.mcse(data, method="sd")[site])
        got_mean, got_sd = float(draws[site].mean()), float(draws[site].std())
        assert abs(got_mean - mean) <= MCSE_TOLERANCE * mcse_mean, (name, site, got_mean, mean, mcse_mean)
        assert abs(got_sd - sd) <= MCSE_TOLERANCE * mcse_sd, (name, site, got_sd, sd, mcse_sd)


def test_chains_do_not_diverge(case):
    name, fit, _ = case
    assert fit.diagnostics.divergences == 0, name
    assert fit.diagnostics.max_rhat < 1.01, name
    assert "coef_c" in fit.idata.posterior  # the data-conditioned weights were sampled


SBC_REPLICATES = 200
SBC_DRAWS = 99


def test_sbc_regularized_horseshoe_poisson():
    """SBC of the Poisson model under the regularised horseshoe, weights sampled data-conditioned:
    200 replicates of a 30 × 3 design with a log-exposure offset, one chain each (200 warmup steps,
    99 draws kept one in 4), ranks of every latent site (coef_c, lambda, tau, slab_aux, intercept)
    uniform by a chi-square test on 10 bins, Bonferroni over the sites, at the 1% level. The
    conditioning is fixed (a curvature of 30 per weight, about the Poisson information of 30 rows of
    unit-sd columns at mean count 1; no shift): any conditioning leaves the posterior unchanged, so
    SBC checks that the sampled form is that posterior's, whatever the data. Measured: p = 0.48
    with no divergent transition in a process of its own, and 1 among the 200 replicates' recorded
    transitions in the test file's process (these chains start uniformly, after 200 warmup steps: not
    `fit_posterior`'s start, whose fits above are asserted divergence-free); the data simulated with
    the offset shifted by 0.3 (a model other than the fitted one): p = 3e-104 (the intercept's
    ranks)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    offset = 0.3 * np.random.default_rng(5).standard_normal(30)
    kwargs = {
        "prior": RegularizedHorseshoe(global_scale=0.5, slab_scale=1.0),
        "intercept_prior": dist.Normal(0.0, 1.0),
        "offset": offset,
        "conditioning": WeightConditioning(np.full(3, 30.0), np.zeros(3)),
    }
    result = sbc_ranks(
        poisson_regression,
        X,
        seed=0,
        model_kwargs=kwargs,
        num_replicates=SBC_REPLICATES,
        num_warmup=200,
        num_draws=SBC_DRAWS,
        thin=4,
    )
    assert {"coef_c[0]", "lambda[0]", "tau", "slab_aux", "intercept"} <= set(result.names)
    p = rank_uniformity_pvalue(result.ranks, SBC_DRAWS, 10)
    assert p >= 0.01, f"rank uniformity rejected, Bonferroni p = {p:.2g}"


# ---------------------------------------------------------------------------------------------------
# bayesreg fit --family poisson|negative_binomial with a sparsity prior or --alpha hierarchical


@pytest.fixture(scope="module")
def fair_files(tmp_path_factory):
    """fair's first 300 rows (affairs rounded, the exposure yrs_married) and rows 300-339 without the
    target, as CSV files."""
    import statsmodels.api as sm

    folder = tmp_path_factory.mktemp("glm_shrinkage")
    fair = sm.datasets.fair.load_pandas().data
    fair["affairs"] = np.round(fair["affairs"])
    fair.iloc[:300].to_csv(folder / "small.csv", index=False)
    fair.iloc[300:340].drop(columns="affairs").to_csv(folder / "new.csv", index=False)
    return folder, fair.iloc[300:340].drop(columns="affairs")


SHORT_NUTS = [
    "--method",
    "nuts",
    "--num-warmup",
    "100",
    "--num-samples",
    "100",
    "--num-chains",
    "2",
    "--seed",
    "1",
]


@pytest.mark.usefixtures("cache_home")
@pytest.mark.parametrize(
    ("family", "options"),
    [
        ("poisson", ["--prior", "horseshoe"]),
        ("negative_binomial", ["--prior", "laplace", "--alpha", "hierarchical"]),
    ],
    ids=["poisson-horseshoe", "negative_binomial-hierarchical"],
)
def test_cli_fits_saves_loads_and_predicts(fair_files, family, options):
    """``bayesreg fit`` of a count model under a prior that learns its scales (short chains: exit 0 or
    3, the gate may fail on 2 × 100 draws): the model folder loads as the family's estimator, whose
    predictions at the new rows' exposure are those of ``bayesreg predict``; with --alpha hierarchical
    alpha.csv holds the posterior median of glum's α = λ/n (the Laplace rate λ = √λ² per draw, n =
    300 rows: glum's objective is the mean deviance / 2 + α‖w‖₁)."""
    folder, new = fair_files
    out = folder / family
    argv = ["fit", str(folder / "small.csv"), "--target", "affairs", "--family", family]
    code, stdout, err = run([*argv, "--exposure", "yrs_married", *options, *SHORT_NUTS, "--out", str(out)])
    assert code in (0, 3), err
    model = load(out)
    assert model.idata_.posterior.attrs["family"] == family
    assert "coef_c" in model.idata_.posterior  # sampled data-conditioned
    code, _, err = run(["predict", str(out), str(folder / "new.csv"), "--out", str(folder / f"{family}_p")])
    assert code in (0, 3), err
    table = pd.read_csv(folder / f"{family}_p" / "predictions.csv")
    X, offset = new.drop(columns="yrs_married"), np.log(new["yrs_married"].to_numpy())
    mean, sd = model.predict(X, offset=offset, return_std=True)
    np.testing.assert_array_equal(table["mean"], mean)
    np.testing.assert_array_equal(table["sd"], sd)
    if "hierarchical" in options:
        alpha = pd.read_csv(out / "alpha.csv")["alpha"].iloc[0]
        rate = np.sqrt(model.idata_.posterior["lambda_sq"].values)
        assert alpha == pytest.approx(np.median(rate) / 300, rel=1e-12)
        assert "alpha from full Bayes" in stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--prior", "horseshoe", "--global-scale", "0.5"],
            "--global-scale applies to --family gaussian and bernoulli",
        ),
        (["--alpha", "cv"], "--alpha cv is for --family gaussian and bernoulli"),
    ],
)
def test_cli_refuses_what_the_count_models_do_not_take(tmp_path, options, message):
    data = tmp_path / "d.csv"
    data.write_text("a,y\n1,2\n2,1\n3,4\n")
    code, _, err = run(
        ["fit", str(data), "--target", "y", "--family", "poisson", "--method", "nuts", *options]
    )
    assert code != 0 and message in err and err.count("\n") == 1, err
