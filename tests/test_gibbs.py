"""The Gibbs sampler of `bayesreg.gibbs` against independent references.

- the weights' conditional (Cholesky from statistics, Bhattacharya et al.'s draw from rows) against
  the dense Gaussian formulas, exactly, and by the moments of its draws;
- the marginal of τ and σ (the weights integrated out) against dense determinants and solves, and
  with σ integrated out too against quadrature of the dense Gaussian density over σ;
- the exact rejection sampler of the local precisions against quadrature moments of its density;
- the inverse-Gaussian draw (the Bayesian lasso's ``1/τ_j²``) against scipy's ``invgauss``;
- the slice step against a distribution with known moments;
- the regularised horseshoe's (τ, σ) move alone (its slice steps with a few local scales held apart,
  its random walk when too many are, and from statistics) against its 2-D conditional by quadrature;
- the posterior against NUTS on the same model (`fit_posterior`: the collapsed form, bayesreg's
  default for these priors), on the diabetes data as loaded (unscaled) and on a 25 × 60 problem
  (p > n, the rows' form), σ fixed and sampled: means, sds and quantiles within 4 combined Monte Carlo
  standard errors (`references.assert_same_posterior`); for the horseshoe, the regularised
  horseshoe, the hierarchical Laplace (Bayesian lasso) and the hierarchical Gaussian (ridge) priors,
  and for the lasso's α in scikit-learn's convention (`~bayesreg.hierarchical.alpha_posterior`).
  The regularised horseshoe on 25 × 60 with σ fixed and sampled, and on the diabetes data with σ
  sampled (its slab of scale 2 holds the unscaled weights); with the sweep's slab scale × 1.2 the
  25 × 60 σ-sampled case failed.
"""

import itertools
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import jax
import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest
from cli_runs import run as cli_run
from references import assert_same_posterior, scalar_mcse
from scipy.integrate import quad
from scipy.stats import invgauss, multivariate_normal
from sklearn.datasets import load_diabetes

from bayesreg.data import DataError
from bayesreg.diagnostics import PosteriorWarning
from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.gibbs import (
    choose_sampler,
    coef_conditional,
    gibbs_posterior,
    inverse_gaussian_draw,
    local_precision_draw,
    scale_marginal,
    slice_step,
)
from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace, alpha_posterior
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats, logistic_regression
from bayesreg.models.collapsed import CentredRows
from bayesreg.sampling import fit_posterior
from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe

# --- the pieces -------------------------------------------------------------------------------------


def tiny_problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.geomspace(0.1, 10.0, p) + 3.0
    return X, rng.normal(size=n), rng.gamma(1.0, size=p)


def dense_conditional(X, y, w, sigma):
    """The weights' Gaussian conditional by dense algebra: ``N(A⁻¹Xc'yc, σ²A⁻¹)``."""
    Xc, yc = X - X.mean(0), y - y.mean()
    A = Xc.T @ Xc + np.diag(1.0 / w)
    return np.linalg.solve(A, Xc.T @ yc), sigma**2 * np.linalg.inv(A)


FORMS = {"stats": SufficientStats, "rows": CentredRows}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", [(7, 3), (3, 5)])
def test_coef_conditional_is_the_dense_gaussian(form, shape):
    X, y, w = tiny_problem(*shape)
    sigma = 1.7
    mean, covariance = dense_conditional(X, y, w, sigma)
    with jax.enable_x64(True):
        cond = coef_conditional(FORMS[form].from_data(X, y), w)
        np.testing.assert_allclose(cond.posterior.mean(), mean, rtol=1e-9, atol=1e-12)
        # 200,000 draws at σ = 1.7 against the dense moments (σ scales the spread, not the mean)
        keys = jax.random.split(jax.random.PRNGKey(1), 200_000)
        draws = np.asarray(jax.vmap(lambda k: cond.draw(k, sigma))(keys))
    num = draws.shape[0]
    sd = np.sqrt(np.diag(covariance))
    assert np.all(np.abs(draws.mean(0) - mean) <= 4.0 * sd / np.sqrt(num))
    # the sampling sd of a covariance entry: √((Σ_ii Σ_jj + Σ_ij²)/N)
    entry_sd = np.sqrt((np.outer(sd**2, sd**2) + covariance**2) / num)
    assert np.all(np.abs(np.cov(draws.T) - covariance) <= 4.0 * entry_sd)


@pytest.mark.parametrize("shape", [(7, 3), (3, 5)])
def test_bcm_and_cholesky_draws_have_the_same_exact_covariance(shape):
    """The two forms' draw maps are affine in their standard normals; their covariances in closed
    form (Cholesky: ``σ²S⁻¹L⁻ᵀL⁻¹S⁻¹``; Bhattacharya et al.: ``σ²(W − WΦ'M⁻¹ΦW)``) equal ``σ²A⁻¹``."""
    X, y, w = tiny_problem(*shape)
    _, covariance = dense_conditional(X, y, w, 1.0)
    with jax.enable_x64(True):
        by_stats = coef_conditional(SufficientStats.from_data(X, y), w).posterior
        by_rows = coef_conditional(CentredRows.from_data(X, y), w).posterior
    inverse = np.linalg.inv(np.asarray(by_stats.cholesky))
    scale = np.asarray(by_stats.scale)
    cholesky_cov = (inverse.T @ inverse) / np.outer(scale, scale)
    design, W = np.asarray(by_rows.design), np.diag(w)
    M = np.asarray(by_rows.cholesky) @ np.asarray(by_rows.cholesky).T
    bcm_cov = W - W @ design.T @ np.linalg.solve(M, design @ W)
    np.testing.assert_allclose(cholesky_cov, covariance, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(bcm_cov, covariance, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", [(7, 3), (3, 5)])
def test_scale_marginal_is_the_dense_gaussian(form, shape):
    X, y, lam2 = tiny_problem(*shape)
    Xc, yc = X - X.mean(0), y - y.mean()
    with jax.enable_x64(True):
        marginal = scale_marginal(FORMS[form].from_data(X, y), lam2)
        for t in (1e-4, 0.3, 50.0):
            M = np.eye(len(y)) + t * (Xc * lam2) @ Xc.T
            log_det, quadratic = (float(v) for v in marginal.evaluate(t))
            assert log_det == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-9, abs=1e-9)
            assert quadratic == pytest.approx(yc @ np.linalg.solve(M, yc), rel=1e-9)


@pytest.mark.parametrize("form", FORMS)
def test_sigma_integrated_marginal_is_the_quadrature_over_sigma(form):
    """``log ∫ N(y; 0, σ²M) dσ/σ`` by quadrature of the dense density, differences between values
    of τ² (the formula holds up to a constant in τ), uncentred data (``dof = n``)."""
    X, y, lam2 = tiny_problem(7, 3) if form == "stats" else tiny_problem(3, 5)
    n = len(y)

    def by_quadrature(t):  # over u = log σ (dσ/σ = du), scaled by the integrand's peak
        normal = multivariate_normal(np.zeros(n), np.eye(n) + t * (X * lam2) @ X.T)
        log_density = lambda u: normal.logpdf(y * np.exp(-u)) - n * u  # noqa: E731
        peak = max(log_density(u) for u in np.linspace(-10.0, 10.0, 2001))
        integral = quad(
            lambda u: np.exp(log_density(u) - peak), -40.0, 40.0, limit=500, epsabs=0, epsrel=1e-12
        )
        return peak + np.log(integral[0])

    with jax.enable_x64(True):
        marginal = scale_marginal(FORMS[form].from_data(X, y, center=False), lam2)
        ours = [float(marginal.sigma_integrated(t, n)) for t in (1e-3, 0.3, 20.0)]
    exact = [by_quadrature(t) for t in (1e-3, 0.3, 20.0)]
    np.testing.assert_allclose(np.diff(ours), np.diff(exact), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("rate", [1e-4, 0.05, 1.0, 30.0])
def test_local_precision_draws_have_their_densitys_moments(rate):
    """η ∝ exp(−mη)/(1 + η): the mean, E log(1 + η) and P(η < 1/m) of 400,000 independent draws
    against quadrature, within 4 standard errors."""
    with jax.enable_x64(True):
        draws = np.asarray(local_precision_draw(jax.random.PRNGKey(7), np.full(400_000, rate)))
    assert np.all(np.isfinite(draws) & (draws > 0))
    edges = [0.0, 1.0 / rate, 10.0 / rate, np.inf]  # the quadrature split where the density bends

    def integral(f, upper=np.inf):
        pieces = [(a, min(b, upper)) for a, b in itertools.pairwise(edges) if a < upper]
        return sum(
            quad(lambda e: f(e) * np.exp(-rate * e) / (1.0 + e), a, b, limit=500)[0] for a, b in pieces
        )

    mass = integral(np.ones_like)
    checks = {
        "mean": (draws, integral(lambda e: e) / mass),
        "E log(1 + η)": (np.log1p(draws), integral(np.log1p) / mass),
        "P(η < 1/m)": (draws < 1.0 / rate, integral(np.ones_like, 1.0 / rate) / mass),
    }
    for name, (values, expected) in checks.items():
        error = values.mean() - expected
        assert abs(error) <= 4.0 * values.std() / np.sqrt(values.size), f"{name} off by {error}"


@pytest.mark.parametrize(("mean", "shape"), [(0.3, 2.0), (2.0, 0.5), (1e4, 0.1), (1e-3, 5.0)])
def test_inverse_gaussian_draws_have_scipys_distribution(mean, shape):
    """``IG(μ, λ)`` (scipy's ``invgauss(μ/λ, scale=λ)``): the mean of 400,000 draws within 4
    standard errors, and the fraction below each decile of 10%, 50% and 90% within 4 binomial
    standard errors; μ far above λ is the lasso's ``1/τ_j²`` for a weight near 0."""
    exact = invgauss(mu=mean / shape, scale=shape)
    with jax.enable_x64(True):
        draws = np.asarray(inverse_gaussian_draw(jax.random.PRNGKey(11), np.full(400_000, mean), shape))
    assert np.all(np.isfinite(draws) & (draws > 0))
    assert abs(draws.mean() - exact.mean()) <= 4.0 * exact.std() / np.sqrt(draws.size)
    for q in (0.1, 0.5, 0.9):
        below = np.mean(draws < exact.ppf(q))
        assert abs(below - q) <= 4.0 * np.sqrt(q * (1.0 - q) / draws.size), f"{q:.0%} decile: {below}"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", [(7, 3), (3, 5)])
def test_residual_quadratic_is_the_dense_one(form, shape):
    """``yc'M⁻¹yc``, ``M = I + Xc·diag(w)·Xc'``: σ's conditional given the prior variances."""
    X, y, w = tiny_problem(*shape)
    Xc, yc = X - X.mean(0), y - y.mean()
    data = FORMS[form].from_data(X, y)
    with jax.enable_x64(True):
        ours = float(coef_conditional(data, w).residual_quadratic(data))
    assert ours == pytest.approx(yc @ np.linalg.solve(np.eye(len(y)) + (Xc * w) @ Xc.T, yc), rel=1e-9)


def test_slice_step_leaves_its_target_invariant():
    """log x for x ~ Gamma(3, 1): E x = 3, Var x = 3, by 4 chains of slice steps, within 4 MCSE."""

    def sweep(u, key):
        u = slice_step(key, u, lambda v: 3.0 * v - jax.numpy.exp(v))
        return u, u

    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.PRNGKey(3), 20_000)
        draws = np.exp(np.asarray(jax.lax.scan(sweep, np.zeros(4), keys)[1]).T)  # (chain, draw)
    assert abs(draws.mean() - 3.0) <= 4.0 * scalar_mcse(draws)
    assert abs(draws.var() - 3.0) <= 4.0 * scalar_mcse((draws - 3.0) ** 2)


@pytest.mark.parametrize("case", ["rows", "rows_walk", "stats"])
def test_rhs_scales_move_leaves_its_conditional_invariant(case, monkeypatch):
    """The regularised horseshoe's (τ, σ) move alone, 4 chains of 5,000 moves at fixed slab, against
    the mean and sd of log τ and log σ under its conditional by quadrature on a grid, within 4 MCSE.
    Rows: two local scales in S, ten in U, ``(λ_S, η̃_U)`` fixed; rows_walk: the same two in S with
    room for one (``LOCAL_EXACT`` = 1), so the random walk at fixed λ; statistics: every λ_j fixed."""
    from bayesreg import gibbs
    from bayesreg.gibbs import _rhs_scales_move, _State  # the move on its own, not the whole sweep

    form = SufficientStats if case == "stats" else CentredRows
    if case == "rows_walk":
        monkeypatch.setattr(gibbs, "LOCAL_EXACT", 1)

    rng = np.random.default_rng(11)
    n, p = (8, 12) if form is CentredRows else (30, 12)
    X = rng.normal(size=(n, p))
    y = X[:, 0] * 2.0 + rng.normal(size=n)
    prior, sigma_prior, slab2 = (
        RegularizedHorseshoe(expected_nonzero=2, n_samples=n),
        dist.Exponential(1.0),
        3.0,
    )
    lam = np.exp(rng.normal(size=p))
    lam[:2] = 1e3  # above the limit from rows: S = {0, 1}
    data = form.from_data(X, y)
    dof = n - 1.0
    Xc, yc = X - X.mean(0), y - y.mean()
    tau_start, sigma_start = 0.1, 1.0

    def chain(key):
        def step(state, key):
            tau, lam, sigma, *_ = _rhs_scales_move(key, data, state, slab2, prior, sigma_prior, dof)
            state = state._replace(glob=tau, local=lam, sigma=sigma)
            return state, (tau, sigma)

        zero = np.zeros(())
        start = _State(
            np.zeros(p), np.asarray(lam), np.asarray(tau_start), zero, np.asarray(sigma_start), zero
        )
        return jax.lax.scan(step, start, jax.random.split(key, 5_000))[1]

    with jax.enable_x64(True):
        data = jax.tree.map(jax.numpy.asarray, data)  # as gibbs_posterior passes it
        tau, sigma = (np.asarray(v) for v in jax.vmap(chain)(jax.random.split(jax.random.PRNGKey(2), 4)))

    # the conditional: rows hold η̃_j = 1/λ_j² + τ²/c² of U fixed, with U's prior at η̃_j − τ²/c²
    rows = case == "rows"  # U's η̃_j fixed; else every λ_j
    limit = 0.3 * np.sqrt(slab2) / prior.tau0(p, np.sqrt(np.mean(yc**2)))
    in_u = (lam < limit) if rows else np.zeros(p, bool)
    shifted = 1.0 / lam**2 + tau_start**2 / slab2
    log_t, log_s = np.meshgrid(np.linspace(-9.0, 3.0, 241), np.linspace(-3.0, 2.0, 201), indexing="ij")
    log_density = np.full(log_t.shape, -np.inf)
    for i, j in itertools.product(*map(range, log_t.shape)):
        t, s = np.exp(log_t[i, j]), np.exp(log_s[i, j])
        eta = shifted - t**2 / slab2
        if np.any(eta[in_u] * limit**2 <= 1.0):
            continue
        fixed_lam = np.where(in_u, 1.0 / np.sqrt(np.where(in_u, eta, 1.0)), lam)
        tl2 = (t * fixed_lam) ** 2
        variance = tl2 * slab2 / (slab2 + tl2)
        tau0 = prior.tau0(p, s)
        log_density[i, j] = (
            # the flat intercept integrated out: the density of the n − 1 centred contrasts, σ times
            # that of yc in n dimensions (the centred columns leave s² on the constant direction)
            multivariate_normal(np.zeros(n), s**2 * np.eye(n) + (Xc * variance) @ Xc.T).logpdf(yc)
            + log_s[i, j]
            - np.log(tau0)
            - np.log1p((t / tau0) ** 2)
            + log_t[i, j]
            + np.sum(
                np.where(
                    in_u, -0.5 * np.log(np.where(in_u, eta, 1.0)) - np.log1p(np.where(in_u, eta, 0.0)), 0.0
                )
            )
            + float(sigma_prior.log_prob(s))
            + log_s[i, j]
        )
    weight = np.exp(log_density - log_density.max())
    weight /= weight.sum()
    for name, draws, grid in (("log_tau", np.log(tau), log_t), ("log_sigma", np.log(sigma), log_s)):
        mean = np.sum(weight * grid)
        sd = np.sqrt(np.sum(weight * (grid - mean) ** 2))
        assert abs(draws.mean() - mean) <= 4.0 * scalar_mcse(draws), f"{name} mean {draws.mean()} vs {mean}"
        assert abs(draws.std() - sd) <= 4.0 * scalar_mcse(draws, "sd"), f"{name} sd {draws.std()} vs {sd}"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda X, y: gibbs_posterior(X, y, R2D2()),
            TypeError,
            "Horseshoe, RegularizedHorseshoe, HierarchicalLaplace or HierarchicalGaussian prior, not R2D2",
        ),
        (lambda X, y: gibbs_posterior(X, y, Horseshoe(), sigma=0.0), ValueError, "sigma must be a positive"),
        (lambda X, y: gibbs_posterior(X, y[:-1], Horseshoe()), DataError, "X has 10 rows but y has 9"),
        (lambda X, y: gibbs_posterior(X, y, Horseshoe(), num_chains=0), ValueError, "num_chains"),
        (lambda X, y: gibbs_posterior(X, y, RegularizedHorseshoe()), ValueError, "needs n_samples"),
    ],
)
def test_bad_input_is_named(call, error, match):
    X, y, _ = tiny_problem(10, 3)
    with pytest.raises(error, match=match):
        call(X, y)


# --- the posterior against NUTS ---------------------------------------------------------------------

GIBBS = {"num_warmup": 1000, "num_samples": 5000, "num_chains": 4}


def diabetes():
    return load_diabetes(return_X_y=True, scaled=False)


def wide():
    """25 rows, 60 columns, 3 non-zero weights (p > n: the rows' form; small enough for NUTS at
    target_accept 0.99)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(25, 60))
    coef = np.zeros(60)
    coef[:3] = [3.0, -2.0, 1.5]
    return X, 1.0 + X @ coef + rng.normal(size=25)


# (data, prior, σ): σ fixed near the data's noise sd, or sampled under an exponential prior
CASES = {
    "diabetes_fixed": (diabetes, Horseshoe(), 54.0),
    "diabetes_sampled": (diabetes, Horseshoe(), dist.Exponential(0.02)),
    "wide_fixed": (wide, Horseshoe(), 1.0),
    "wide_sampled": (wide, Horseshoe(), dist.Exponential(1.0)),
    "wide_rhs_sampled": (wide, RegularizedHorseshoe(expected_nonzero=3, n_samples=25), dist.Exponential(1.0)),
    "wide_rhs_fixed": (wide, RegularizedHorseshoe(expected_nonzero=3, n_samples=25), 1.0),
    # unscaled weights (up to hundreds) against a slab of scale 2: the slab holds the large ones
    "diabetes_rhs_sampled": (
        diabetes,
        RegularizedHorseshoe(expected_nonzero=3, n_samples=442),
        dist.Exponential(0.02),
    ),
    "diabetes_lasso_fixed": (diabetes, HierarchicalLaplace(), 54.0),
    "diabetes_lasso_sampled": (diabetes, HierarchicalLaplace(), dist.Exponential(0.02)),
    "wide_lasso_sampled": (wide, HierarchicalLaplace(), dist.Exponential(1.0)),
    "diabetes_ridge_sampled": (diabetes, HierarchicalGaussian(), dist.Exponential(0.02)),
    "wide_ridge_fixed": (wide, HierarchicalGaussian(), 1.0),
}
LASSO_CASES = [case for case in CASES if "lasso" in case]
NUTS_SEED = 3  # the reference NUTS runs' seed
NUTS_REFERENCE = {"num_warmup": 1000, "num_samples": 1000, "num_chains": 4}  # a long warmup for a reference
COMPARED_FEATURES = 10  # the first ten weights: all of diabetes', the signals and seven nulls of wide


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def run(case):
        if case not in cache:
            data, prior, sigma = CASES[case]
            X, y = data()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the diagnostics are asserted below
                nuts = fit_posterior(
                    linear_regression,
                    X,
                    y,
                    prior=prior,
                    sigma=sigma,
                    seed=NUTS_SEED,
                    progress_bar=False,
                    sampler="nuts",  # "auto" would take the Gibbs sampler where p > n
                    **NUTS_REFERENCE,
                )
            gibbs = gibbs_posterior(X, y, prior, sigma=sigma, seed=1, **GIBBS)
            cache[case] = nuts, gibbs
        return cache[case]

    return run


def scalars(idata) -> dict:
    """The compared scalars, draws shaped (chain, draw): the weights, the logs of the scales (τ has
    no finite mean a posteriori under the horseshoe), σ and the intercept."""
    post = idata.posterior
    out = {f"coef[{j}]": post["coef"].values[..., j] for j in range(COMPARED_FEATURES)}
    if "tau" in post:
        out["log_tau"] = np.log(post["tau"].values)
    for local in ("lambda", "psi"):
        if local in post:
            out[f"log_{local}[0]"] = np.log(post[local].values[..., 0])
            out[f"log_{local}[9]"] = np.log(post[local].values[..., 9])
    if "lambda_sq" in post:
        out["log_lambda_sq"] = np.log(post["lambda_sq"].values)
    out["intercept"] = post["intercept"].values
    if "sigma" in post:
        out["sigma"] = post["sigma"].values
    if "slab" in post:
        out["log_slab"] = np.log(post["slab"].values)
    return out


@pytest.mark.parametrize("case", CASES)
def test_gibbs_posterior_is_the_nuts_posterior(runs, case):
    nuts, gibbs = runs(case)
    assert nuts.parametrisation == "collapsed" and nuts.diagnostics.divergences == 0
    assert_same_posterior(scalars(nuts.idata), scalars(gibbs))


@pytest.mark.parametrize("case", CASES)
def test_gibbs_posterior_has_the_nuts_fits_variables(runs, case):
    nuts, gibbs = runs(case)
    assert set(gibbs.posterior.data_vars) == set(nuts.idata.posterior.data_vars)
    for name in gibbs.posterior.data_vars:
        assert gibbs.posterior[name].dims[2:] == nuts.idata.posterior[name].dims[2:], name
    assert gibbs.posterior.attrs.get("sigma") == nuts.idata.posterior.attrs.get("sigma")
    assert not gibbs.sample_stats["diverging"].any()
    assert gibbs.sample_stats.attrs["parametrisation"] == "gibbs"
    assert gibbs.loo.pareto_k.shape == nuts.idata.loo.pareto_k.shape
    # coef = coef_z · (the prior sd): the non-centred weights are consistent with the scales
    post = gibbs.posterior
    sigma = post["sigma"].values[..., None] if "sigma" in post else post.attrs["sigma"]
    if "slab" in post:
        tau_lam = post["tau"].values[..., None] * post["lambda"].values
        slab = post["slab"].values[..., None]
        sd = slab * tau_lam / np.sqrt(slab**2 + tau_lam**2)
    elif "lambda_sq" in post:  # models/shrinkage.py: coef = z · σ · √ψ / λ
        sd = sigma * np.sqrt(post["psi"].values / post["lambda_sq"].values[..., None])
    elif "lambda" not in post:  # ridge: coef = z · τ · σ
        sd = post["tau"].values[..., None] * sigma
    else:
        sd = post["lambda"].values * post["tau"].values[..., None] * sigma
    np.testing.assert_allclose(post["coef"].values, post["coef_z"].values * sd, rtol=1e-10)


@pytest.mark.parametrize("case", LASSO_CASES)
def test_gibbs_alpha_posterior_is_the_nuts_one(runs, case):
    """The draws of scikit-learn's Lasso α (``λσ/n``, `~bayesreg.hierarchical.alpha_posterior`), as
    the estimators report them, within 4 combined MCSE of NUTS's."""
    nuts, gibbs = runs(case)
    prior = CASES[case][1]
    alpha = {"alpha": alpha_posterior(nuts.idata, prior).draws}
    assert_same_posterior(alpha, {"alpha": alpha_posterior(gibbs, prior).draws})


def test_same_seed_same_draws():
    X, y = wide()
    first = gibbs_posterior(X, y, Horseshoe(), sigma=1.0, num_warmup=20, num_samples=30, seed=4, loo=False)
    again = gibbs_posterior(X, y, Horseshoe(), sigma=1.0, num_warmup=20, num_samples=30, seed=4, loo=False)
    np.testing.assert_array_equal(first.posterior["coef"].values, again.posterior["coef"].values)


WIDE_FIT = textwrap.dedent(
    """
    import json, time, jax, numpy as np
    from bayesreg.gibbs import gibbs_posterior
    from bayesreg.shrinkage import RegularizedHorseshoe
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 300))
    y = 1.0 + 3.0 * X[:, 0] - 2.0 * X[:, 1] + rng.standard_normal(100)
    with jax.enable_x64(True):
        for seed in (0, 1):  # the second fit reuses the compiled program: the sweeps' own time
            start = time.perf_counter()
            idata = gibbs_posterior(X, y, RegularizedHorseshoe(n_samples=100), sigma=1.0,
                                    num_warmup=10, num_samples=10, num_chains=2, seed=seed, loo=False)
            seconds = time.perf_counter() - start
    coef = idata.posterior["coef"].values
    print(json.dumps([coef.shape, bool(np.isfinite(coef).all()), seconds]))
    """
)


def test_wide_regularised_horseshoe_fit_returns():
    """At n = 100 rows the chains' batched Cholesky factors are large enough for jaxlib's CPU
    kernels to split them into thread-pool tasks; run side by side (vmap) the fit deadlocked there,
    every pool thread waiting on tasks no thread was free to run. A hang, so a subprocess with a
    timeout: a compile of some 10 s (up to a minute under load), then 40 sweeps."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", WIDE_FIT], capture_output=True, text=True, timeout=300, cwd=root
    )
    assert result.returncode == 0, result.stderr
    shape, finite, seconds = json.loads(result.stdout.splitlines()[-1])
    assert (shape, finite) == ([2, 10, 300], True)
    assert seconds < 30.0  # measured 0.2 s on 2 loaded cores: no sweep waits on anything


# --- dispatch: fit_posterior, the estimators, the command line -------------------------------------

SHORT = {"num_warmup": 100, "num_samples": 100, "num_chains": 2}  # the gate's ESS 400 is out of reach


def test_auto_takes_gibbs_for_the_horseshoe_family_when_p_exceeds_n():
    X, y = wide()
    stats = SufficientStats.from_data(X, y)
    tall = diabetes()
    for prior in (
        Horseshoe(),
        RegularizedHorseshoe(n_samples=25),
        HierarchicalLaplace(),
        HierarchicalGaussian(),
    ):
        assert choose_sampler("auto", linear_regression, (X, y), prior=prior) == "gibbs"
        # the estimators' call: the statistics' model with the rows as the observations
        observed = (linear_regression, X, y)
        assert (
            choose_sampler("auto", linear_regression_stats, (stats,), observed=observed, prior=prior)
            == "gibbs"
        )
        assert choose_sampler("auto", linear_regression, tall, prior=prior) == "nuts"
        assert choose_sampler("nuts", linear_regression, (X, y), prior=prior) == "nuts"
        assert choose_sampler("gibbs", linear_regression, tall, prior=prior) == "gibbs"
    # what the Gibbs sampler does not do keeps "auto" on NUTS, and "gibbs" says why
    refused = {
        "R2D2": ((X, y), {"prior": R2D2()}, "not R2D2"),
        "logistic": (
            (X, (y > 0).astype(float)),
            {"prior": Horseshoe(), "model": logistic_regression},
            "Gaussian",
        ),
        "log_likelihood": ((X, y), {"prior": Horseshoe(), "log_likelihood": True}, "log-likelihood"),
        "intercept prior": ((X, y), {"prior": Horseshoe(), "intercept_prior": dist.Normal()}, "flat"),
    }
    for data, options, match in refused.values():
        model = options.pop("model", linear_regression)
        assert choose_sampler("auto", model, data, **options) == "nuts"
        with pytest.raises(ValueError, match=f"sampler='gibbs' does not apply: .*{match}"):
            choose_sampler("gibbs", model, data, **options)
    with pytest.raises(ValueError, match=r"unknown sampler .hmc.; expected one of auto, nuts, gibbs"):
        choose_sampler("hmc", linear_regression, (X, y), prior=Horseshoe())


@pytest.fixture(scope="module")
def wide_gibbs():
    """`fit_posterior` with ``sampler="auto"`` on the wide problem, the Gibbs sampler's draws with the
    same seed, and the warnings of the fit (short chains: the gate fails)."""
    X, y = wide()
    sigma = dist.Exponential(1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_posterior(
            linear_regression, X, y, prior=Horseshoe(), sigma=sigma, seed=4, sampler="auto", **SHORT
        )
    direct = gibbs_posterior(X, y, Horseshoe(), sigma=sigma, seed=4, **SHORT)
    return fit, direct, [w for w in caught if issubclass(w.category, PosteriorWarning)]


def test_fit_posterior_auto_is_the_gibbs_sampler_with_its_diagnostics(wide_gibbs):
    fit, direct, posterior_warnings = wide_gibbs
    assert fit.parametrisation == "gibbs" and fit.mass_matrix == "gibbs" and fit.map is None
    for name in ("coef", "tau", "sigma", "intercept"):
        np.testing.assert_array_equal(fit.idata.posterior[name].values, direct.posterior[name].values)
    # the same gate as NUTS's: 200 draws cannot reach bulk ESS 400, so the fit failed and said so
    assert fit.diagnostics.divergences == 0
    assert fit.diagnostics.min_ess_bulk < 400 and not fit.diagnostics.ok
    assert posterior_warnings, "a failed gate must warn"


def test_fit_posterior_gibbs_samples_the_hierarchical_lasso():
    """``sampler="gibbs"`` with the hierarchical Laplace prior: `gibbs_posterior`'s draws with the
    same seed, and the posterior of α as the NUTS fits report it."""
    X, y = wide()
    sigma, prior = dist.Exponential(1.0), HierarchicalLaplace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorWarning)  # short chains
        fit = fit_posterior(
            linear_regression, X, y, prior=prior, sigma=sigma, seed=2, sampler="gibbs", **SHORT
        )
    direct = gibbs_posterior(X, y, prior, sigma=sigma, seed=2, loo=False, **SHORT)
    assert fit.parametrisation == "gibbs" and fit.map is None
    for name in ("coef", "psi", "lambda_sq", "sigma", "intercept"):
        np.testing.assert_array_equal(fit.idata.posterior[name].values, direct.posterior[name].values)
    alpha = alpha_posterior(fit.idata, prior)
    expected = np.sqrt(direct.posterior["lambda_sq"].values) * direct.posterior["sigma"].values / len(y)
    np.testing.assert_allclose(alpha.draws, expected, rtol=1e-12)


def test_estimator_method_gibbs_takes_the_gibbs_sampler(wide_gibbs):
    """``method="gibbs"`` gives the Gibbs sampler's draws of `fit_posterior`; ``coef_`` is their
    mean, ``sigma_`` σ's; the signals stand out."""
    X, y = wide()
    est = BayesianLinearRegression(prior="horseshoe", method="gibbs", random_state=0, **SHORT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorWarning)  # short chains; asserted above
        gibbs = est.fit(X, y)
    assert gibbs.posterior_fit_.parametrisation == "gibbs"
    assert gibbs.idata_.sample_stats.attrs["num_warmup"] == SHORT["num_warmup"]
    np.testing.assert_allclose(
        gibbs.coef_, gibbs.idata_.posterior["coef"].mean(("chain", "draw")), rtol=1e-12
    )
    assert gibbs.sigma_ == pytest.approx(float(gibbs.idata_.posterior["sigma"].mean()), rel=1e-12)
    assert np.all(np.abs(gibbs.coef_[:3] - [3.0, -2.0, 1.5]) < 0.5)
    assert set(np.argsort(-np.abs(gibbs.coef_))[:3]) == {0, 1, 2}  # the signals are the largest
    assert gibbs.predict_interval(X[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="Gaussian linear model"):
        BayesianLogisticRegression(prior="horseshoe", method="gibbs", **SHORT).fit(X, y > 1.0)


def test_cli_fit_method_gibbs(tmp_path, raw_diabetes_csv, cache_home):
    """``bayesreg fit --method gibbs``: the posterior written and the Gibbs line printed; exit status 3
    when the gate fails (short chains on the wide problem), 0 when it passes (the diabetes data as
    loaded, unscaled, 4 × (1000 + 1000) sweeps)."""
    az = pytest.importorskip("arviz")
    X, y = wide()
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])]).assign(y=y)
    frame.to_csv(tmp_path / "wide.csv", index=False)
    argv = ["--prior", "horseshoe", "--method", "gibbs", "--seed", "2"]
    short = ["--num-warmup", "100", "--num-samples", "100", "--num-chains", "2"]
    out_dir = tmp_path / "short"
    code, out, err = cli_run(
        ["fit", str(tmp_path / "wide.csv"), "--target", "y", *argv, *short, "--out", str(out_dir)]
    )
    assert code == 3, err
    line = (
        "Gibbs posterior of 25 rows, 60 features, target 'y': 2 chains x (100 warmup + 100 draws), one sweep"
    )
    assert line in out and "gate FAILED" in out
    idata = az.from_netcdf(out_dir / "posterior.nc")
    assert idata.sample_stats.attrs["sampler"] == "gibbs" and idata.posterior.sizes["draw"] == 100
    long = [
        "--num-warmup",
        "1000",
        "--num-samples",
        "1000",
        "--num-chains",
        "4",
        "--out",
        str(tmp_path / "long"),
    ]
    code, out, err = cli_run(["fit", str(raw_diabetes_csv), "--target", "progression", *argv, *long])
    assert code == 0, err + out
    assert "Gibbs posterior of 442 rows, 10 features" in out and "gate passed" in out
