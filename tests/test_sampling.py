"""NUTS posteriors against independent answers, judged by their Monte Carlo standard errors.

* Gaussian prior, fixed σ: the exact conjugate posterior N(m, S) (the flat intercept prior is a zero
  prior precision in its coordinate): means within 4 MCSE, sds within 5%, every covariance entry
  (as E[(θᵢ − mᵢ)(θⱼ − mⱼ)]/√(SᵢᵢSⱼⱼ)) within 4 MCSE, posterior predictive likewise.
* Laplace prior, fixed σ: a Gibbs sampler on the normal scale mixture (Park & Casella 2008) written
  here in NumPy; means and 10/50/90% quantiles within 4 combined MCSE, for the direct and the
  scale-mixture parametrisations of NUTS.
* The InferenceData's shape and contents, reproducibility, reuse of the compiled sampler, and the
  estimators with ``method="nuts"`` (MAP kept, pickling, netCDF).

MCSEs are ArviZ's (``az.mcse``, from the bulk/tail ESS). Fits are shared by module-scoped fixtures.
"""

import pickle
import re
import warnings

import arviz as az
import jax
import jax.monitoring
import numpy as np
import pytest
from scipy import stats

from bayesreg import BayesianLinearRegression
from bayesreg.diagnostics import PosteriorWarning
from bayesreg.engine import chains
from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import advance_chains, chain_draws, start_chains
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.priors import Prior, prior_from_penalty
from bayesreg.sampling import fit_posterior, sample_posterior

# One NUTS configuration for every Gaussian-prior run of this module (and of test_diagnostics.py):
# the same model, settings and data shapes reuse one compiled sampler.
NUM_WARMUP, NUM_SAMPLES, NUM_CHAINS = 500, 2000, 4
N, P = 40, 3
SIGMA = 1.5
FEATURES = ["age", "bmi", "bp"]
Z_MAX = 4.0  # tolerance in Monte Carlo standard errors


def _mcse(draws, method="mean", prob=None) -> float:
    """ArviZ's Monte Carlo standard error of one scalar quantity, draws shaped (chain, draw)."""
    draws = np.asarray(draws)
    if method == "sd":
        # ArviZ's own formula (arviz.stats.diagnostics._mcse_sd: the delta method on the mean of the
        # squared deviations); az.mcse(method="sd") itself raises a TypeError when numba is installed
        # (arviz 0.23.4, NumPy 2: float() of a 1-element array)
        return _mcse((draws - draws.mean()) ** 2) / (2.0 * draws.std())
    return float(np.squeeze(az.mcse(draws, method=method, prob=prob)))


def _gaussian_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, P)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]])
    y = 0.7 + X @ np.array([1.0, -0.5, 0.0]) + SIGMA * rng.normal(size=N)
    return X, y


def _gaussian_fit(X, y, seed, prior, **settings):
    """The Gaussian-prior fit of this module; ``settings``: more `sample_posterior` keywords."""
    return sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y),
        observed=(linear_regression, X, y),
        feature_names=FEATURES,
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        seed=seed,
        posterior_predictive=True,
        prior=prior,
        sigma=SIGMA,
        **settings,
    )


def _conjugate(X, y, sigma, prior_precision):
    """Exact posterior N(m, S) of (coef, intercept): prior N(0, 1/prior_precision) on coef, flat intercept."""
    Z = np.column_stack([X, np.ones(len(y))])
    precision = Z.T @ Z / sigma**2 + np.diag([prior_precision] * X.shape[1] + [0.0])
    S = np.linalg.inv(precision)
    m = S @ Z.T @ y / sigma**2
    return m, S


def _theta(idata):
    """Posterior draws of (coef..., intercept), shape (chain, draw, P + 1)."""
    post = idata.posterior
    return np.concatenate([post["coef"].to_numpy(), post["intercept"].to_numpy()[..., None]], axis=-1)


@pytest.fixture(scope="module")
def gaussian_prior():
    # Ridge with alpha = 4 in scikit-learn's convention: prior precision 4/σ² on every weight
    return prior_from_penalty("gaussian", 4.0)


@pytest.fixture(scope="module")
def gaussian_data():
    return _gaussian_data(42)


@pytest.fixture(scope="module")
def gaussian_fit(gaussian_data, gaussian_prior):
    X, y = gaussian_data
    return _gaussian_fit(X, y, 1, gaussian_prior, log_likelihood=True)


@pytest.fixture(scope="module", params=["auto", "diagonal"])
def conjugate_fit(request, gaussian_fit, gaussian_data, gaussian_prior):
    """The Gaussian-prior fit with each mass matrix ("auto" is dense for these 4 parameters)."""
    if request.param == "auto":
        return gaussian_fit
    return _gaussian_fit(*gaussian_data, 1, gaussian_prior, mass_matrix="diagonal")


@pytest.fixture(scope="module")
def exact(gaussian_data, gaussian_prior):
    X, y = gaussian_data
    return _conjugate(X, y, SIGMA, 4.0 / SIGMA**2)


# --- Gaussian prior: the conjugate posterior --------------------------------------------------------


def test_gaussian_posterior_mean_within_4_mcse(conjugate_fit, exact):
    m, _ = exact
    theta = _theta(conjugate_fit)
    for k in range(P + 1):
        error = theta[..., k].mean() - m[k]
        mcse = _mcse(theta[..., k])
        assert abs(error) <= Z_MAX * mcse, f"coordinate {k}: error {error:.2e}, MCSE {mcse:.2e}"


def test_gaussian_posterior_sd_within_5_percent(conjugate_fit, exact):
    _, S = exact
    theta = _theta(conjugate_fit)
    for k in range(P + 1):
        sd, exact_sd, mcse = theta[..., k].std(), np.sqrt(S[k, k]), _mcse(theta[..., k], "sd")
        assert abs(sd - exact_sd) <= Z_MAX * mcse, f"coordinate {k}: sd {sd:.4f} vs {exact_sd:.4f}"
        assert Z_MAX * mcse <= 0.05 * exact_sd  # so the sd is within 5%


def test_gaussian_posterior_covariance_within_4_mcse(conjugate_fit, exact):
    m, S = exact
    theta = _theta(conjugate_fit)
    sd = np.sqrt(np.diag(S))
    correlation = S / np.outer(sd, sd)
    assert np.abs(correlation[np.triu_indices(P + 1, 1)]).max() > 0.3  # a correlated posterior
    standardised = (theta - m) / sd
    for i in range(P + 1):
        for j in range(i, P + 1):
            product = standardised[..., i] * standardised[..., j]  # E = correlation[i, j]
            error = product.mean() - correlation[i, j]
            mcse = _mcse(product)
            assert abs(error) <= Z_MAX * mcse, f"cov[{i},{j}]: error {error:.2e}, MCSE {mcse:.2e}"


def test_gaussian_posterior_predictive_matches_exact(gaussian_fit, gaussian_data, exact):
    X, _ = gaussian_data
    m, S = exact
    Z = np.column_stack([X, np.ones(N)])
    mean = Z @ m
    sd = np.sqrt(np.einsum("ij,jk,ik->i", Z, S, Z) + SIGMA**2)
    predicted = gaussian_fit.posterior_predictive["y"].to_numpy()
    for i in range(N):
        error = predicted[..., i].mean() - mean[i]
        assert abs(error) <= Z_MAX * _mcse(predicted[..., i]), f"observation {i}: mean off by {error:.3f}"
        mcse = _mcse(predicted[..., i], "sd")
        assert abs(predicted[..., i].std() - sd[i]) <= Z_MAX * mcse <= 0.05 * sd[i]


def test_mass_matrix_dense_up_to_20_parameters_by_default(conjugate_fit, gaussian_fit):
    """By default ("auto") the chains adapt a dense mass matrix for at most 20 unconstrained
    parameters, and above that only where the squared count is at most `DENSE_DATA_FRACTION` of the
    data's elements (`dense_mass`; not so for 21 parameters on 30 rows here), else a diagonal one
    (the adapted inverse has shape (chain, d, d) or (chain, d)); the InferenceData says which."""
    expected = "dense" if conjugate_fit is gaussian_fit else "diagonal"
    assert conjugate_fit.sample_stats.attrs["mass_matrix"] == expected
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for p, mass_matrix, shape in [
            (20, "auto", (2, 20, 20)),
            (21, "auto", (2, 21)),
            (21, "dense", (2, 21, 21)),
            (3, "diagonal", (2, 3)),
        ]:
            X = rng.normal(size=(30, p))
            args = (X, X @ np.ones(p))
            kwargs = {"prior": Prior("gaussian", l2=1.0), "sigma": jax.numpy.asarray(1.0)}
            state, _ = start_chains(
                linear_regression,
                (("fit_intercept", False),),
                np.int64(0),
                args,
                kwargs,
                {},
                num_warmup=10,
                num_samples=5,
                num_chains=2,
                mass_matrix=mass_matrix,
                devices=1,
            )
            assert state.adapt_state.inverse_mass_matrix.shape == shape, (p, mass_matrix)


def test_unknown_mass_matrix_named(gaussian_data, gaussian_prior):
    with pytest.raises(ValueError, match="unknown mass_matrix 'full'"):
        _gaussian_fit(*gaussian_data, 1, gaussian_prior, mass_matrix="full")


# --- Laplace prior: an independent Gibbs sampler ----------------------------------------------------


def gibbs_bayesian_lasso(X, y, sigma, b, *, num_chains=4, num_draws=5000, burn=500, seed=0):
    """Gibbs sampler of ``w`` for ``y ~ N(Xw, σ²)``, ``w_j ~ Laplace(0, b)`` i.i.d., σ and b fixed.

    The Laplace prior is the scale mixture ``w_j | τ_j ~ N(0, τ_j)``, ``τ_j ~ Exp(rate 1/(2b²))``
    (Andrews & Mallows 1974; Park & Casella 2008). Alternate ``w | τ, y ~ N(A⁻¹X'y/σ², A⁻¹)`` with
    ``A = X'X/σ² + diag(1/τ)``, and ``1/τ_j | w_j ~ InverseGaussian(mean 1/(b|w_j|), shape 1/b²)``.

    Returns draws of shape (num_chains, num_draws, p).
    """
    rng = np.random.default_rng(seed)
    p = X.shape[1]
    xtx, xty = X.T @ X / sigma**2, X.T @ y / sigma**2
    tau = np.ones((num_chains, p))
    out = np.empty((num_chains, num_draws, p))
    for it in range(burn + num_draws):
        A = xtx + np.eye(p) / tau[:, :, None]
        chol = np.linalg.cholesky(A)  # A = L L'
        mean = np.linalg.solve(A, np.broadcast_to(xty, (num_chains, p))[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(chol, 1, 2), rng.standard_normal((num_chains, p, 1)))[..., 0]
        w = mean + noise  # covariance L'^{-1} L^{-1} = A^{-1}
        tau = 1.0 / rng.wald(1.0 / (b * np.abs(w)), 1.0 / b**2)
        if it >= burn:
            out[:, it - burn] = w
    return out


LAPLACE_SCALE = 0.25


@pytest.fixture(scope="module")
def laplace_data():
    """Centred data (no intercept needed); one weight 0 and one small, so the prior's kink matters."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(25, P))
    y = X @ np.array([1.0, 0.0, -0.4]) + rng.normal(size=25)
    return X - X.mean(axis=0), y - y.mean()


@pytest.fixture(scope="module")
def gibbs_draws(laplace_data):
    X, y = laplace_data
    return gibbs_bayesian_lasso(X, y, 1.0, LAPLACE_SCALE)


def test_gibbs_sampler_is_the_conjugate_posterior_for_a_huge_scale(laplace_data):
    """The reference sampler itself: with b → ∞ the Laplace prior is flat, the posterior N(β̂, σ²(X'X)⁻¹)."""
    X, y = laplace_data
    draws = gibbs_bayesian_lasso(X, y, 1.0, 1e4, num_draws=2000, burn=100, seed=1)
    ols = np.linalg.solve(X.T @ X, X.T @ y)
    cov = np.linalg.inv(X.T @ X)
    for k in range(P):
        assert abs(draws[..., k].mean() - ols[k]) <= Z_MAX * _mcse(draws[..., k])
        assert abs(draws[..., k].std() - np.sqrt(cov[k, k])) <= 0.05 * np.sqrt(cov[k, k])


@pytest.mark.parametrize("parametrisation", ["direct", "mixture", "collapsed"])
def test_laplace_posterior_matches_gibbs(laplace_data, gibbs_draws, parametrisation):
    X, y = laplace_data
    idata = sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y, center=False),
        observed=(linear_regression, X, y),
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        seed=3,
        laplace_parametrisation=parametrisation,
        prior=Prior("laplace", 1.0 / LAPLACE_SCALE),
        sigma=1.0,
        fit_intercept=False,
    )
    assert "intercept" not in idata.posterior
    assert int(idata.sample_stats["diverging"].sum()) == 0
    nuts = idata.posterior["coef"].to_numpy()
    for k in range(P):
        a, g = nuts[..., k], gibbs_draws[..., k]
        combined = np.hypot(_mcse(a), _mcse(g))
        assert abs(a.mean() - g.mean()) <= Z_MAX * combined, f"coef[{k}] mean"
        for q in (0.1, 0.5, 0.9):
            combined = np.hypot(_mcse(a, "quantile", q), _mcse(g, "quantile", q))
            error = np.quantile(a, q) - np.quantile(g, q)
            assert abs(error) <= Z_MAX * combined, f"coef[{k}] {q:.0%} quantile off by {error:.2e}"


# --- The InferenceData ------------------------------------------------------------------------------


def test_inference_data_groups_and_shapes(gaussian_fit, gaussian_data):
    _, y = gaussian_data
    idata = gaussian_fit
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data", "posterior_predictive"):
        assert group in idata.groups(), group
    coef = idata.posterior["coef"]
    assert coef.dims == ("chain", "draw", "feature")
    assert coef.shape == (NUM_CHAINS, NUM_SAMPLES, P)
    assert list(coef["feature"].to_numpy()) == FEATURES
    assert idata.posterior["intercept"].dims == ("chain", "draw")
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "obs")
    assert idata.log_likelihood["y"].shape == (NUM_CHAINS, NUM_SAMPLES, N)
    assert idata.posterior_predictive["y"].shape == (NUM_CHAINS, NUM_SAMPLES, N)
    np.testing.assert_array_equal(idata.observed_data["y"].to_numpy(), y)
    for field in ("diverging", "energy", "tree_depth", "lp", "step_size", "acceptance_rate", "n_steps"):
        assert idata.sample_stats[field].shape == (NUM_CHAINS, NUM_SAMPLES), field


def test_log_likelihood_is_the_gaussian_log_density(gaussian_fit, gaussian_data):
    X, y = gaussian_data
    post, loglik = gaussian_fit.posterior, gaussian_fit.log_likelihood["y"]
    for chain, draw in [(0, 0), (1, 17), (3, NUM_SAMPLES - 1)]:
        coef = post["coef"].to_numpy()[chain, draw]
        intercept = post["intercept"].to_numpy()[chain, draw]
        expected = stats.norm.logpdf(y, intercept + X @ coef, SIGMA)
        np.testing.assert_allclose(loglik.to_numpy()[chain, draw], expected, rtol=1e-12)
        np.testing.assert_allclose(float(loglik[chain, draw].sum()), expected.sum(), rtol=1e-12)


def test_loo_runs(gaussian_fit):
    loo = az.loo(gaussian_fit, pointwise=True)
    assert loo.n_data_points == N
    assert np.isfinite(loo.elpd_loo)
    assert (loo.pareto_k.to_numpy() < 0.7).all()  # every importance-sampling estimate reliable
    assert loo.p_loo > 0


def test_default_keeps_pointwise_loo_not_the_log_likelihood(gaussian_fit, gaussian_data, gaussian_prior):
    """Without ``log_likelihood=True`` the same draws keep only PSIS-LOO per row (the ``loo`` group,
    n numbers each instead of n × draws), and `bayesreg.loo.loo` gives what ``az.loo`` gives on the
    full log-likelihood."""
    from bayesreg.loo import LOO_GROUP, loo

    default = _gaussian_fit(*gaussian_data, 1, gaussian_prior)
    assert "log_likelihood" not in default.groups() and LOO_GROUP in default.groups()
    assert default[LOO_GROUP]["elpd_loo"].shape == (N,)
    np.testing.assert_array_equal(default.posterior["coef"], gaussian_fit.posterior["coef"])
    saved, full = loo(default), az.loo(gaussian_fit, pointwise=True)
    np.testing.assert_allclose(saved.loo_i, full.loo_i, rtol=1e-10)
    np.testing.assert_allclose(saved.pareto_k, full.pareto_k, rtol=1e-10)
    assert abs(saved.elpd_loo - full.elpd_loo) <= 1e-10 * abs(full.elpd_loo)


def _draw_arrays(idata):
    return {
        (group, name): idata[group][name].to_numpy()
        for group in idata.groups()
        for name in idata[group].data_vars
    }


def test_same_seed_same_draws_bitwise(gaussian_fit, gaussian_data, gaussian_prior):
    again = _gaussian_fit(*gaussian_data, 1, gaussian_prior, log_likelihood=True)
    first, second = _draw_arrays(gaussian_fit), _draw_arrays(again)
    assert first.keys() == second.keys()
    for key in first:
        assert np.array_equal(first[key], second[key]), key


def test_different_seed_different_draws(gaussian_fit, gaussian_data, gaussian_prior):
    other = _gaussian_fit(*gaussian_data, 2, gaussian_prior)
    a, b = gaussian_fit.posterior["coef"].to_numpy(), other.posterior["coef"].to_numpy()
    assert np.mean(a == b) < 0.01


def _compiled_samplers() -> int:
    """Entries in the caches of the sampler's three jitted programs."""
    return sum(f.cache_size() for f in (start_chains, advance_chains, chain_draws))


@pytest.fixture(scope="module")
def refit_new_data(gaussian_fit, gaussian_prior):
    """Fit new data of the same shape, recording the compiled sampler cache and every XLA compilation."""
    X, y = _gaussian_data(43)
    compiled = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiled.append((kwargs.get("fun_name", "?"), round(duration, 2)))

    before = _compiled_samplers()
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        idata = _gaussian_fit(X, y, 1, gaussian_prior)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    return X, y, idata, before, _compiled_samplers(), compiled


def test_new_data_same_shape_reuses_the_sampler_and_uses_the_new_data(refit_new_data, gaussian_fit):
    X, y, idata, before, after, _ = refit_new_data
    assert after == before  # the compiled sampler was reused, no new entry
    # the reused sampler samples the new posterior, not the old one
    m, _ = _conjugate(X, y, SIGMA, 4.0 / SIGMA**2)
    theta = _theta(idata)
    for k in range(P + 1):
        assert abs(theta[..., k].mean() - m[k]) <= Z_MAX * _mcse(theta[..., k])
    np.testing.assert_array_equal(idata.observed_data["y"].to_numpy(), y)
    assert not np.array_equal(idata.posterior["coef"].to_numpy(), gaussian_fit.posterior["coef"].to_numpy())


def test_new_data_same_shape_does_not_recompile(refit_new_data):
    *_, compiled = refit_new_data
    assert compiled == [], f"fitting new data of the same shape compiled again: {compiled}"


def test_progress_bar_compiles_nothing_new_and_gives_the_same_draws(
    gaussian_fit, gaussian_data, gaussian_prior, capsys
):
    """With a progress bar the loop runs in 20 calls of the program the one-call run compiled (its
    bounds uncommitted, so no call meets a differently committed carry), with bitwise its draws."""
    before = _compiled_samplers()
    shown = _gaussian_fit(*gaussian_data, 1, gaussian_prior, progress_bar=True, log_likelihood=True)
    assert _compiled_samplers() == before
    for key, value in _draw_arrays(gaussian_fit).items():
        np.testing.assert_array_equal(_draw_arrays(shown)[key], value, err_msg=str(key))
    lines = [line for line in capsys.readouterr().err.split("\r") if line.startswith("NUTS")]
    assert len(lines) == 20 and lines[-1] == "NUTS 100%\n"


# --- Estimators with method="nuts" ------------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes_frame():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def lasso_nuts(diabetes_frame):
    X, y = diabetes_frame
    est = BayesianLinearRegression(
        prior="laplace",
        alpha=0.5,
        method="nuts",
        num_warmup=300,
        num_samples=300,
        num_chains=2,
        random_state=0,
    )
    with warnings.catch_warnings():  # a short run may draw diagnostics warnings (tested elsewhere)
        warnings.simplefilter("ignore", PosteriorWarning)
        est.fit(X, y)
    return est


def test_nuts_estimator_keeps_map_and_posterior_mean(lasso_nuts, diabetes_frame):
    X, y = diabetes_frame
    est = lasso_nuts
    assert isinstance(est.idata_, az.InferenceData)
    post = est.idata_.posterior
    assert list(post["coef"]["feature"].to_numpy()) == list(X.columns)
    np.testing.assert_array_equal(est.coef_, post["coef"].mean(("chain", "draw")).to_numpy())
    assert est.intercept_ == float(post["intercept"].mean())
    assert est.sigma_ == float(post["sigma"].mean())
    # the MAP stays available: the method="map" fit's, with the lasso's exact zeros (coef_ is the mean
    # of the draws, checked above; that no mean of continuous draws is exactly 0 says nothing). The NUTS
    # fit's MAP comes from the compiled solver (map_estimate, where the chains start), the MAP fit's
    # from the host solver (linear_map): both exact, they agree to rounding (1.2e-15 measured).
    map_fit = BayesianLinearRegression(prior="laplace", alpha=0.5).fit(X, y)
    np.testing.assert_allclose(est.map_.params["coef"], map_fit.coef_, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(est.map_.params["coef"] == 0, map_fit.coef_ == 0)
    assert (est.map_.params["coef"] == 0).sum() >= 3
    np.testing.assert_allclose(est.predict(X), est.intercept_ + X.to_numpy() @ est.coef_, rtol=1e-12)


def test_nuts_estimator_draws_are_sample_posterior_s(lasso_nuts, diabetes_frame):
    """The estimator adds nothing to the library's NUTS fit: its posterior is bitwise
    `fit_posterior`'s on the same model, with the seed ``random_state`` draws."""
    import numpyro.distributions as dist
    from sklearn.utils import check_random_state

    X, y = diabetes_frame
    Xa, ya = X.to_numpy(float), y.to_numpy(float)
    assert "coef_std" not in lasso_nuts.idata_.posterior  # no divergence: the direct parametrisation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorWarning)
        idata = fit_posterior(
            linear_regression_stats,
            SufficientStats.from_data(Xa, ya),
            observed=(linear_regression, Xa, ya),
            feature_names=list(X.columns),
            num_warmup=300,
            num_samples=300,
            num_chains=2,
            seed=int(check_random_state(0).randint(2**31 - 1)),
            prior=prior_from_penalty("laplace", 0.5, n_samples=len(ya)),
            sigma=dist.Exponential(1.0 / np.std(ya)),
            fit_intercept=True,
        ).idata
    assert _draw_arrays(idata).keys() == _draw_arrays(lasso_nuts.idata_).keys()
    for key, value in _draw_arrays(lasso_nuts.idata_).items():
        np.testing.assert_array_equal(_draw_arrays(idata)[key], value, err_msg=str(key))


def test_nuts_estimator_pickles(lasso_nuts, diabetes_frame):
    X, _ = diabetes_frame
    restored = pickle.loads(pickle.dumps(lasso_nuts))
    np.testing.assert_array_equal(restored.predict(X), lasso_nuts.predict(X))
    np.testing.assert_array_equal(restored.map_.params["coef"], lasso_nuts.map_.params["coef"])
    for key, value in _draw_arrays(lasso_nuts.idata_).items():
        np.testing.assert_array_equal(_draw_arrays(restored.idata_)[key], value)


def test_netcdf_round_trip(lasso_nuts, tmp_path):
    path = tmp_path / "posterior.nc"
    lasso_nuts.idata_.to_netcdf(str(path))
    loaded = az.from_netcdf(str(path))
    assert set(loaded.groups()) == set(lasso_nuts.idata_.groups())
    for group in lasso_nuts.idata_.groups():
        original = lasso_nuts.idata_[group]
        for name in original.data_vars:
            np.testing.assert_array_equal(loaded[group][name].to_numpy(), original[name].to_numpy())
    assert list(loaded.posterior["feature"].to_numpy()) == list(lasso_nuts.feature_names_in_)


# --- The sampler loop and the logistic log-density ---------------------------------------------------


def test_thinning_keeps_every_thin_th_transition_of_the_one_loop():
    """`run_chain` runs warmup and draws in one loop; with ``thin`` it keeps the last of each block."""
    from bayesreg.engine.chains import run_chain
    from bayesreg.models import logistic_regression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (rng.uniform(size=30) < 0.5).astype(float)
    prior = prior_from_penalty("laplace", 1.0, family="bernoulli")
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(5)

        def chain(thin, num_samples):
            return jax.jit(
                lambda k: run_chain(
                    logistic_regression,
                    k,
                    (X, y),
                    {"prior": prior},
                    num_warmup=20,
                    num_samples=num_samples,
                    thin=thin,
                )
            )(key)

        thinned, every = chain(3, 7), chain(1, 21)
    for group_thinned, group_every in zip(thinned, every, strict=True):
        assert group_thinned.keys() == group_every.keys()
        for name in group_thinned:
            np.testing.assert_array_equal(
                group_thinned[name], np.asarray(group_every[name])[2::3], err_msg=name
            )


def test_logistic_log_density_value_gradient_and_curvature(x64):
    """``y·x − softplus(x)`` against NumPy's ``logaddexp`` (and SciPy's Bernoulli where ``expit`` does
    not round to 1), its derivative ``y − sigmoid(x)`` (also at logit 0, where
    numpyro's BernoulliLogits is wrong) and its second derivative ``−sigmoid(x)(1 − sigmoid(x))`` (the
    MAP's Newton steps use it), to rounding error."""
    from scipy.special import expit

    from bayesreg.models.logistic import _SmoothBernoulliLogits

    x = np.array([-745.0, -40.0, -3.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 40.0, 745.0])
    s = expit(x)
    for label in (0.0, 1.0):

        def log_density(logit, label=label):
            return _SmoothBernoulliLogits(logit).log_prob(label)

        value = jax.vmap(log_density)(x)
        np.testing.assert_allclose(value, label * x - np.logaddexp(0.0, x), rtol=1e-14, atol=1e-300)
        moderate = np.abs(x) <= 3.0
        np.testing.assert_allclose(value[moderate], stats.bernoulli.logpmf(label, s[moderate]), rtol=1e-14)
        np.testing.assert_allclose(jax.vmap(jax.grad(log_density))(x), label - s, rtol=0, atol=1e-15)
        for second in (jax.grad(jax.grad(log_density)), jax.jacfwd(jax.grad(log_density))):
            np.testing.assert_allclose(jax.vmap(second)(x), -s * (1.0 - s), rtol=0, atol=1e-15)


def test_importing_bayesreg_does_not_import_arviz():
    """arviz (about 0.9 s to import) loads where it is used: `sample_posterior` starts importing it
    in a background thread while the sampler's programs load and run."""
    import subprocess
    import sys

    code = "import sys, bayesreg, bayesreg.cli; print('arviz' in sys.modules, 'xarray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_chains_tree_loop_is_one_kernel_on_a_cpu(gaussian_data, gaussian_prior):
    """With `SMALL_LOOPS_XLA_FLAG` (set for the suite in conftest.py, as the command line sets it),
    XLA:CPU compiles NUTS's tree-building loop in the chains' program into one kernel: a call marked
    ``xla_cpu_small_call`` whose loop carries float64 values (the loops of the random-number
    generator, the only others small enough, carry integers). Vectorised chains (``jax.vmap``) would
    turn the loop's checkpoint writes into scatters and its mass-matrix products into batched dots,
    which keep it a sequence of kernels."""
    if jax.default_backend() != "cpu":
        pytest.skip("XLA:CPU only")
    X, y = gaussian_data
    dynamic, static = split_static({"prior": gaussian_prior, "sigma": SIGMA})
    settings = {"num_warmup": NUM_WARMUP, "mass_matrix": "auto", "devices": 1}
    with jax.enable_x64(True):
        args, dynamic = as_arrays(((SufficientStats.from_data(X, y),), dynamic))
        seed = np.asarray(0, dtype=np.int64)
        carry = start_chains(
            linear_regression_stats,
            static,
            seed,
            args,
            dynamic,
            {},
            num_samples=NUM_SAMPLES,
            num_chains=NUM_CHAINS,
            **settings,
        )
        bounds = (np.int32(0), np.int32(1))
        text = advance_chains.lower(
            linear_regression_stats, static, carry, args, dynamic, {}, *bounds, **settings
        )
        text = text.compile().as_text()
    hoisted = re.findall(r"= (\(.*?\)) call\(.*xla_cpu_small_call=\"true\"", text)
    assert any("f64[" in result for result in hoisted), hoisted


def test_vectorised_chains_sample_the_conjugate_posterior(gaussian_prior, monkeypatch):
    """The chains vectorised with ``jax.vmap``, as on a GPU (`map_chains`; on a CPU they run one
    after another), sample the same exact posterior: means within 4 MCSE. Other data (41 rows) than
    the module's, so that no program traced the other way is reused."""
    monkeypatch.setattr(chains, "chains_in_sequence", lambda: False)
    X, y = _gaussian_data(7)
    X, y = np.vstack([X, X[:1]]), np.append(y, y[0])
    idata = _gaussian_fit(X, y, 3, gaussian_prior)
    m, _ = _conjugate(X, y, SIGMA, 4.0 / SIGMA**2)
    theta = _theta(idata)
    for k in range(P + 1):
        assert abs(theta[..., k].mean() - m[k]) <= Z_MAX * _mcse(theta[..., k]), k
