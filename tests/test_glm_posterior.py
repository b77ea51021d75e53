"""Posteriors of the Poisson, negative binomial and Student-t regressions against samplers written here.

`bayesreg.fit_posterior` (NUTS from the MAP, on unit-scale columns) is compared with an independent
reference on real, unscaled data, within 4 combined Monte Carlo standard errors
``√(mcse_nuts² + mcse_ref²)`` (ArviZ's ``az.mcse``) for the mean, sd and 10/50/90% quantiles of
every coefficient, the intercept and σ:

- Student-t (ν = 4 fixed, σ² ~ InverseGamma(2, 100), Normal(0, 10) on the weights) on
  scikit-learn's diabetes data as ``load_diabetes(scaled=False)`` gives them (ages in years, blood
  serum measurements in their units): the normal scale-mixture Gibbs sampler, latent
  ``λ_i | · ~ Gamma((ν + 1)/2, (ν + r_i²/σ²)/2)``, then the conjugate Gaussian step for
  (intercept, coef) and the inverse-gamma step for σ²;
- negative binomial (NB2, dispersion α = 1 fixed, Normal(0, 1) on the weights) on 400 rows of
  statsmodels' RAND health insurance data (``randhie``, doctor visits ``mdvis``): the Pólya-gamma
  Gibbs sampler of Zhou, Li, Dunson & Carin (2012): with ``r = 1/α`` and ``ψ = η − log r`` the
  likelihood is ``(e^ψ)^y / (1 + e^ψ)^(y + r)``, so given ``ω_i ~ PG(y_i + r, ψ_i)`` the weights are
  Gaussian with precision ``ZᵀΩZ + B⁻¹`` and mean ``V Zᵀ(κ − Ω c)``, ``κ = (y − r)/2``, ``c = −log r``;
- Poisson with a log-exposure offset (Laplace(0, 1) prior on the weights) on 600 rows of statsmodels'
  ``fair`` data (affairs rounded to counts, the offset ``log(yrs_married)``): a long random-walk
  Metropolis run (Gaussian proposals shaped by the inverse Fisher information at the maximum
  likelihood, 8 chains × 30,000 steps).

Then: the PSIS-LOO the fits carry equals ``arviz.loo`` on the full log-likelihood, computed here by
scipy's densities from the same draws (to 1e-8 per observation; the offset included), and the
posterior predictive for new rows (`bayesreg.predictive`) has the right support, mean and interval
ends (checked against the mixture's distribution function by scipy). The fits are shared by
module-scoped fixtures.
"""

import warnings

import arviz as az
import numpy as np
import numpyro.distributions as dist
import pytest
from polyagamma import random_polyagamma
from scipy import stats
from sklearn.datasets import load_diabetes

from bayesreg.hierarchical import HierarchicalLaplace
from bayesreg.loo import loo
from bayesreg.models import negative_binomial_regression, poisson_regression, student_t_regression
from bayesreg.predictive import (
    posterior_predictive,
    predictive_draws,
    predictive_interval,
    predictive_mean,
)
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import fit_posterior

Z_MAX = 4.0  # tolerance in combined Monte Carlo standard errors
QUANTILES = (0.1, 0.5, 0.9)
NUTS = dict(num_samples=1000, num_chains=4, seed=0, progress_bar=False)

DF = 4.0  # the Student-t's ν
SIGMA_SQ_SHAPE, SIGMA_SQ_SCALE = 2.0, 100.0  # σ² ~ InverseGamma(shape, scale)
T_PRIOR_SD = 10.0
DISPERSION = 1.0  # the negative binomial's α
NB_PRIOR_SD = 1.0
POISSON_LAPLACE_SCALE = 1.0


def _mcse(draws, method="mean", prob=None) -> float:
    """ArviZ's Monte Carlo standard error of one scalar quantity, draws shaped (chain, draw)."""
    draws = np.asarray(draws)
    if method == "sd":
        # ArviZ's formula for the sd (the delta method on the mean squared deviation), written out:
        # az.mcse(method="sd") raises a TypeError when numba is installed (arviz 0.23.4, NumPy 2)
        return _mcse((draws - draws.mean()) ** 2) / (2.0 * draws.std())
    return float(np.squeeze(az.mcse(draws, method=method, prob=prob)))


def _assert_same_posterior(nuts, reference, names):
    """Mean, sd and quantiles of each column of (chain, draw, k) draws within Z_MAX combined MCSEs,
    after both samplers' chains agree among themselves (rank-normalised R-hat below 1.01)."""
    for k, name in enumerate(names):
        a, g = nuts[..., k], reference[..., k]
        assert float(az.rhat(a)) < 1.01 and float(az.rhat(g)) < 1.01, (name, az.rhat(a), az.rhat(g))
        checks = [("mean", a.mean(), g.mean(), np.hypot(_mcse(a), _mcse(g)))]
        checks.append(("sd", a.std(), g.std(), np.hypot(_mcse(a, "sd"), _mcse(g, "sd"))))
        for q in QUANTILES:
            combined = np.hypot(_mcse(a, "quantile", q), _mcse(g, "quantile", q))
            checks.append((f"{q:.0%} quantile", np.quantile(a, q), np.quantile(g, q), combined))
        for stat, got, want, combined in checks:
            assert abs(got - want) <= Z_MAX * combined, (
                f"{name} {stat}: NUTS {got:.5g}, reference {want:.5g}, "
                f"{abs(got - want) / combined:.1f} combined MCSE ({combined:.2e}) apart"
            )


def _stacked(idata, extra=()):
    """NUTS draws as (chain, draw, 1 + p + len(extra)): intercept, coef, then ``extra`` sites."""
    posterior = idata.posterior
    parts = [posterior["intercept"].to_numpy()[..., None], posterior["coef"].to_numpy()]
    parts += [posterior[name].to_numpy()[..., None] for name in extra]
    return np.concatenate(parts, -1)


def _names(p, extra=()):
    return ["intercept", *(f"coef[{j}]" for j in range(p)), *extra]


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)  # a diagnostics warning fails the fixture
        return fit_posterior(model, X, y, **NUTS, **kwargs)


# --- Data --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return X, y


@pytest.fixture(scope="module")
def randhie():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.randhie.load_pandas().data
    rows = np.random.default_rng(0).choice(len(data), 400, replace=False)
    data = data.iloc[np.sort(rows)]
    columns = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf"]
    return data[columns].to_numpy(float), data["mdvis"].to_numpy(float)


@pytest.fixture(scope="module")
def fair():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.fair.load_pandas().data
    rows = np.random.default_rng(1).choice(len(data), 600, replace=False)
    data = data.iloc[np.sort(rows)]
    columns = ["rate_marriage", "age", "religious", "educ", "occupation"]
    X, y = data[columns].to_numpy(float), np.round(data["affairs"].to_numpy())
    return X, y, np.log(data["yrs_married"].to_numpy())


# --- Reference samplers ------------------------------------------------------------------------------


def gibbs_student_t(X, y, *, df, prior_sd, shape, scale, num_chains=8, num_draws=4000, burn=300, seed=0):
    """Gibbs draws of (intercept, coef, σ) of the Student-t regression with a flat intercept,
    ``coef_j ~ N(0, prior_sd²)`` and ``σ² ~ InverseGamma(shape, scale)``, by the normal scale mixture
    ``y_i ~ N(z_iᵀθ, σ²/λ_i)``, ``λ_i ~ Gamma(ν/2, ν/2)``.

    Returns
    -------
    ndarray, shape (num_chains, num_draws, p + 2)
        Intercept, the coefficients, σ.
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    Z = np.column_stack([np.ones(n), X])
    prior_precision = np.r_[0.0, np.full(p, 1.0 / prior_sd**2)]
    theta = np.tile(np.linalg.lstsq(Z, y, rcond=None)[0], (num_chains, 1))
    sigma_sq = np.full(num_chains, np.var(y - Z @ theta[0]))
    diagonal = np.arange(p + 1)
    out = np.empty((num_chains, num_draws, p + 2))
    for it in range(burn + num_draws):
        residual = y - theta @ Z.T  # (chains, n)
        lam = rng.gamma((df + 1.0) / 2.0, 2.0 / (df + residual**2 / sigma_sq[:, None]))
        weights = lam / sigma_sq[:, None]
        A = (Z.T[None] * weights[:, None, :]) @ Z
        A[:, diagonal, diagonal] += prior_precision
        L = np.linalg.cholesky(A)
        mean = np.linalg.solve(A, (weights @ (Z * y[:, None]))[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(L, 1, 2), rng.standard_normal((num_chains, p + 1, 1)))[..., 0]
        theta = mean + noise
        residual = y - theta @ Z.T
        rate = scale + 0.5 * (lam * residual**2).sum(axis=1)
        sigma_sq = rate / rng.gamma(shape + 0.5 * n, 1.0, size=num_chains)
        if it >= burn:
            out[:, it - burn, :-1] = theta
            out[:, it - burn, -1] = np.sqrt(sigma_sq)
    return out


def gibbs_negative_binomial(
    X, y, *, dispersion, prior_sd=1.0, lasso=None, offset=None, num_chains=8, num_draws=4000, burn=300, seed=0
):
    """Pólya-gamma Gibbs draws of (intercept, coef) of NB2 regression with fixed dispersion α, a flat
    intercept and ``coef_j ~ N(0, prior_sd²)`` (Zhou, Li, Dunson & Carin 2012); or, with
    ``lasso=(r, δ)``, the hierarchical Laplace prior ``coef_j | τ_j² ~ N(0, τ_j²)``,
    ``τ_j² ~ Exponential(λ²/2)``, ``λ² ~ Gamma(r, δ)`` (Park & Casella 2008), whose scales are drawn
    given the weights: ``1/τ_j² ~ InverseGaussian(√(λ²/w_j²), λ²)``, ``λ² ~ Gamma(r + p, δ + Σ τ_j²/2)``.

    Returns
    -------
    ndarray, shape (num_chains, num_draws, p + 1), or (..., p + 2) with ``lasso``: λ² last
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    r = 1.0 / dispersion
    Z = np.column_stack([np.ones(n), X])
    c = -np.log(r) + (0.0 if offset is None else offset)  # ψ = Zθ + c is the log-odds
    kappa = (y - r) / 2.0
    prior_precision = np.tile(np.r_[0.0, np.full(p, 1.0 / prior_sd**2)], (num_chains, 1))
    lambda_sq = np.ones(num_chains)
    theta = np.zeros((num_chains, p + 1))
    theta[:, 0] = np.log(y.mean() + 0.5)
    diagonal = np.arange(p + 1)
    omega = np.empty((num_chains, n))
    h = np.broadcast_to(y + r, (num_chains, n))
    # Devroye's exact sampler (whole h only) draws these (h from 1 to 52) in half the default's time
    method = "devroye" if np.all(h == np.round(h)) else None
    out = np.empty((num_chains, num_draws, p + 1 if lasso is None else p + 2))
    for it in range(burn + num_draws):
        random_polyagamma(h, theta @ Z.T + c, method=method, out=omega, random_state=rng)
        A = (Z.T[None] * omega[:, None, :]) @ Z
        A[:, diagonal, diagonal] += prior_precision
        L = np.linalg.cholesky(A)
        mean = np.linalg.solve(A, ((kappa - omega * c) @ Z)[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(L, 1, 2), rng.standard_normal((num_chains, p + 1, 1)))[..., 0]
        theta = mean + noise
        if lasso is not None:
            shape, rate = lasso
            inverse_tau_sq = rng.wald(np.sqrt(lambda_sq[:, None]) / np.abs(theta[:, 1:]), lambda_sq[:, None])
            lambda_sq = rng.gamma(shape + p, 1.0 / (rate + 0.5 * (1.0 / inverse_tau_sq).sum(axis=1)))
            prior_precision[:, 1:] = inverse_tau_sq
        if it >= burn:
            out[:, it - burn, : p + 1] = theta
            if lasso is not None:
                out[:, it - burn, -1] = lambda_sq
    return out


def metropolis_poisson(X, y, *, offset, laplace_scale, num_chains=8, num_steps=30000, burn=3000, seed=0):
    """Random-walk Metropolis draws of (intercept, coef) of Poisson regression with a log-exposure
    offset, a flat intercept and ``coef_j ~ Laplace(0, laplace_scale)``: Gaussian proposals with
    covariance ``2.38²/d`` times the inverse Fisher information at the maximum likelihood (Newton's
    method), every chain started there.

    Returns
    -------
    ndarray, shape (num_chains, num_steps, p + 1)
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    Z = np.column_stack([np.ones(n), X])
    theta = np.r_[np.log(y.sum() / np.exp(offset).sum()), np.zeros(p)]
    for _ in range(100):
        mu = np.exp(Z @ theta + offset)
        information = (Z.T * mu) @ Z
        theta = theta + np.linalg.solve(information, Z.T @ (y - mu))
    proposal = np.linalg.cholesky(np.linalg.inv(information) * 2.38**2 / (p + 1))

    def log_density(t):  # (chains, p + 1) -> (chains,)
        eta = t @ Z.T + offset
        return (y * eta - np.exp(eta)).sum(axis=1) - np.abs(t[:, 1:]).sum(axis=1) / laplace_scale

    current = np.tile(theta, (num_chains, 1))
    current_lp = log_density(current)
    out = np.empty((num_chains, num_steps, p + 1))
    for it in range(burn + num_steps):
        candidate = current + rng.standard_normal((num_chains, p + 1)) @ proposal.T
        candidate_lp = log_density(candidate)
        accept = np.log(rng.random(num_chains)) < candidate_lp - current_lp
        current = np.where(accept[:, None], candidate, current)
        current_lp = np.where(accept, candidate_lp, current_lp)
        if it >= burn:
            out[:, it - burn] = current
    return out


# --- Fits --------------------------------------------------------------------------------------------


def _sigma_prior():
    """σ with σ² ~ InverseGamma(SIGMA_SQ_SHAPE, SIGMA_SQ_SCALE), the Gibbs sampler's conjugate prior."""
    return dist.TransformedDistribution(
        dist.InverseGamma(SIGMA_SQ_SHAPE, SIGMA_SQ_SCALE), dist.transforms.PowerTransform(0.5)
    )


@pytest.fixture(scope="module")
def student_t_fit(diabetes):
    X, y = diabetes
    prior = prior_from_penalty("gaussian", 1.0 / T_PRIOR_SD**2, convention="book")
    return _fit(student_t_regression, X, y, prior=prior, df=DF, sigma=_sigma_prior())


@pytest.fixture(scope="module")
def negative_binomial_fit(randhie):
    X, y = randhie
    prior = prior_from_penalty("gaussian", 1.0 / NB_PRIOR_SD**2, convention="book")
    return _fit(negative_binomial_regression, X, y, prior=prior, dispersion=DISPERSION)


@pytest.fixture(scope="module")
def negative_binomial_lasso_fit(randhie):
    X, y = randhie
    return _fit(negative_binomial_regression, X, y, prior=HierarchicalLaplace(), dispersion=DISPERSION)


@pytest.fixture(scope="module")
def poisson_fit(fair):
    X, y, offset = fair
    prior = prior_from_penalty("laplace", 1.0 / POISSON_LAPLACE_SCALE, convention="book")
    return _fit(poisson_regression, X, y, prior=prior, offset=offset)


# --- Against the references --------------------------------------------------------------------------


def test_student_t_matches_scale_mixture_gibbs(student_t_fit, diabetes):
    X, y = diabetes
    gibbs = gibbs_student_t(X, y, df=DF, prior_sd=T_PRIOR_SD, shape=SIGMA_SQ_SHAPE, scale=SIGMA_SQ_SCALE)
    assert student_t_fit.parametrisation == "direct" and student_t_fit.diagnostics.ok
    nuts = _stacked(student_t_fit.idata, extra=("sigma",))
    _assert_same_posterior(nuts, gibbs, _names(X.shape[1], extra=("sigma",)))


def test_negative_binomial_matches_polya_gamma_gibbs(negative_binomial_fit, randhie):
    X, y = randhie
    gibbs = gibbs_negative_binomial(X, y, dispersion=DISPERSION, prior_sd=NB_PRIOR_SD)
    assert negative_binomial_fit.diagnostics.ok
    _assert_same_posterior(_stacked(negative_binomial_fit.idata), gibbs, _names(X.shape[1]))


def test_negative_binomial_hierarchical_laplace_matches_gibbs(negative_binomial_lasso_fit, randhie):
    """Chains from the mode of the unconstrained density (`bayesreg.sampling.shrinkage_start`) pass
    the gate on the unscaled columns and agree with the Pólya-gamma / Park–Casella Gibbs sampler,
    which shares no code, parametrisation or start with them (it draws the centred weights and the
    scales given each other, from the weights at 0), λ² included."""
    X, y = randhie
    prior = HierarchicalLaplace()
    reference = gibbs_negative_binomial(X, y, dispersion=DISPERSION, lasso=(prior.shape, prior.rate))
    fit = negative_binomial_lasso_fit
    assert fit.map is None and fit.parametrisation == "direct" and fit.diagnostics.ok
    assert fit.diagnostics.divergences == 0 and fit.diagnostics.max_rhat <= 1.01
    nuts = _stacked(fit.idata, extra=("lambda_sq",))
    _assert_same_posterior(nuts, reference, _names(X.shape[1], extra=("lambda_sq",)))


def test_poisson_with_offset_matches_random_walk_metropolis(poisson_fit, fair):
    X, y, offset = fair
    reference = metropolis_poisson(X, y, offset=offset, laplace_scale=POISSON_LAPLACE_SCALE)
    assert poisson_fit.diagnostics.ok
    _assert_same_posterior(_stacked(poisson_fit.idata), reference, _names(X.shape[1]))


# --- PSIS-LOO ----------------------------------------------------------------------------------------


def _linear_predictor(idata, X, offset=None):
    """``intercept + X coef (+ offset)`` per draw, shaped (chain, draw, n)."""
    posterior = idata.posterior
    eta = posterior["intercept"].to_numpy()[..., None] + posterior["coef"].to_numpy() @ X.T
    return eta if offset is None else eta + offset


def _scipy_log_likelihood(family, idata, X, y, offset=None):
    """The per-observation log-likelihood of every draw by scipy's densities, (chain, draw, n)."""
    eta = _linear_predictor(idata, X, offset)
    if family == "poisson":
        return stats.poisson.logpmf(y, np.exp(eta))
    if family == "negative_binomial":
        r = 1.0 / idata.posterior.attrs["dispersion"]
        return stats.nbinom.logpmf(y, r, r / (r + np.exp(eta)))
    sigma = idata.posterior["sigma"].to_numpy()[..., None]
    return stats.t.logpdf(y, idata.posterior.attrs["df"], loc=eta, scale=sigma)


@pytest.mark.parametrize(
    ("family", "fit_name", "data_name"),
    [
        ("student_t", "student_t_fit", "diabetes"),
        ("negative_binomial", "negative_binomial_fit", "randhie"),
        ("poisson", "poisson_fit", "fair"),
    ],
)
def test_loo_equals_arviz_on_the_full_log_likelihood(family, fit_name, data_name, request):
    import xarray as xr

    idata = request.getfixturevalue(fit_name).idata
    X, y, *offset = request.getfixturevalue(data_name)
    loglik = _scipy_log_likelihood(family, idata, X, y, *offset)
    full = az.InferenceData(
        posterior=idata.posterior,
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "obs"), loglik)}),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # high Pareto k̂ warnings: the same in both
        expected, got = az.loo(full, pointwise=True), loo(idata)
    assert "log_likelihood" not in idata.groups()  # the fit kept PSIS-LOO's per-row values only
    np.testing.assert_allclose(got.loo_i.to_numpy(), expected.loo_i.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(got.pareto_k.to_numpy(), expected.pareto_k.to_numpy(), rtol=0, atol=1e-8)
    assert abs(got.elpd_loo - expected.elpd_loo) <= 1e-8 and abs(got.p_loo - expected.p_loo) <= 1e-8


# --- Posterior predictive for new rows ---------------------------------------------------------------


def _new_rows(X):
    """Six rows: five of the data and one beyond its range in every column."""
    return np.vstack([X[:5], X.max(axis=0) + X.std(axis=0)])


def _assert_mean_within_mcse(draws, expected, shape):
    """``draws`` (S, rows) have means within Z_MAX ArviZ MCSEs of ``expected`` (draws as ``shape``)."""
    by_chain = draws.reshape(*shape, -1).astype(float)
    for i, want in enumerate(expected):
        mcse = _mcse(by_chain[..., i])
        assert abs(by_chain[..., i].mean() - want) <= Z_MAX * mcse, (i, by_chain[..., i].mean(), want, mcse)


def _chains_draws(idata):
    return idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]


def test_fits_record_family_and_fixed_parameters(student_t_fit, negative_binomial_fit, poisson_fit):
    attrs = student_t_fit.idata.posterior.attrs
    assert attrs["family"] == "student_t" and attrs["df"] == DF and "sigma" not in attrs
    assert negative_binomial_fit.idata.posterior.attrs["family"] == "negative_binomial"
    assert negative_binomial_fit.idata.posterior.attrs["dispersion"] == DISPERSION
    assert poisson_fit.idata.posterior.attrs["family"] == "poisson"


@pytest.mark.parametrize(
    ("fit_name", "data_name"), [("negative_binomial_fit", "randhie"), ("poisson_fit", "fair")]
)
def test_count_predictive(fit_name, data_name, request):
    idata = request.getfixturevalue(fit_name).idata
    X, *_ = request.getfixturevalue(data_name)
    rows = _new_rows(X)
    offset = np.log(np.linspace(0.5, 3.0, len(rows)))
    draws = predictive_draws(idata, rows, seed=1, offset=offset)
    assert draws.dtype == np.int64 and draws.min() >= 0
    mean = predictive_mean(idata, rows, offset=offset)
    mu = np.exp(_linear_predictor(idata, rows, offset)).reshape(-1, len(rows))
    np.testing.assert_allclose(mean, mu.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(predictive_mean(idata, rows), mean / np.exp(offset), rtol=1e-12)
    _assert_mean_within_mcse(draws, mean, _chains_draws(idata))
    if "dispersion" in idata.posterior.attrs:
        r = 1.0 / idata.posterior.attrs["dispersion"]

        def cdf(k):
            return stats.nbinom.cdf(k, r, r / (r + mu)).mean(axis=0)

    else:

        def cdf(k):
            return stats.poisson.cdf(k, mu).mean(axis=0)

    lower, upper = predictive_interval(idata, rows, prob=0.9, offset=offset).T
    assert np.array_equal(lower, np.round(lower)) and np.array_equal(upper, np.round(upper))
    for end, q in ((lower, 0.05), (upper, 0.95)):  # the smallest k with P(y* ≤ k) ≥ q
        assert np.all(cdf(end) >= q) and np.all(cdf(end - 1) < q), (end, cdf(end), cdf(end - 1))
    share_below = (draws < lower).mean(axis=0)
    assert np.all(share_below <= 0.05 + 0.02)


def test_student_t_predictive(student_t_fit, diabetes):
    idata = student_t_fit.idata
    rows = _new_rows(diabetes[0])
    draws = predictive_draws(idata, rows, seed=2)
    assert draws.dtype == np.float64
    eta = _linear_predictor(idata, rows).reshape(-1, len(rows))
    mean = predictive_mean(idata, rows)
    np.testing.assert_allclose(mean, eta.mean(axis=0), rtol=1e-12)
    _assert_mean_within_mcse(draws, mean, _chains_draws(idata))
    sigma = idata.posterior["sigma"].to_numpy().reshape(-1, 1)
    interval = predictive_interval(idata, rows, prob=0.9)
    for end, q in zip(interval.T, (0.05, 0.95), strict=True):
        cdf = stats.t.cdf((end - eta) / sigma, DF).mean(axis=0)
        np.testing.assert_allclose(cdf, q, rtol=0, atol=1e-9)


def test_posterior_predictive_groups_with_offset(poisson_fit, fair):
    X, y, offset = fair
    idata = poisson_fit.idata
    checked = posterior_predictive(idata, X[:20], y[:20], offset=offset[:20], seed=3)
    assert checked.groups() == ["posterior", "posterior_predictive", "observed_data", "constant_data"]
    assert checked.posterior_predictive.attrs["family"] == "poisson"
    np.testing.assert_array_equal(checked.constant_data["offset"].to_numpy(), offset[:20])
    same = predictive_draws(idata, X[:20], seed=3, offset=offset[:20])
    np.testing.assert_array_equal(checked.posterior_predictive["y"].to_numpy().reshape(same.shape), same)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"family": "gamma"}, "unknown family 'gamma'"),
        ({"family": "student_t", "offset": np.zeros(2)}, "count families"),
        ({"family": "poisson", "offset": np.zeros(3)}, "one value per row"),
        ({"family": "poisson", "offset": np.array([0.0, np.inf])}, "NaN or infinite"),
    ],
)
def test_predictive_refuses_bad_family_and_offset(student_t_fit, kwargs, match):
    with pytest.raises(ValueError, match=match):
        predictive_draws(student_t_fit.idata, np.zeros((2, 10)), **kwargs)


def test_predictive_needs_the_family_parameters():
    posterior = {"coef": np.zeros((1, 10, 1)), "intercept": np.zeros((1, 10))}
    idata = az.from_dict(posterior=posterior, dims={"coef": ["feature"]})
    with pytest.raises(ValueError, match="the negative binomial's dispersion"):
        predictive_draws(idata, [[0.0]], family="negative_binomial")
    with_sigma = az.from_dict(posterior={**posterior, "sigma": np.ones((1, 10))}, dims={"coef": ["feature"]})
    with pytest.raises(ValueError, match="degrees of freedom"):
        predictive_interval(with_sigma, [[0.0]], family="student_t")
