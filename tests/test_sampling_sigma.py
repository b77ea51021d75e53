"""Posteriors with the noise sd σ sampled, against independent answers (MCSE-judged, fixed seeds).

The estimators, the command line and `posterior_path` sample σ, with the weights' prior conditional
on σ (scikit-learn's convention: `prior_from_penalty(..., n_samples=n)` gives ``noise_scaled=True``).

* Gaussian prior ``coef | σ ~ N(0, σ²/λ)`` (Ridge), flat intercept, ``σ² ~ InverseGamma(a₀, c₀)``:
  the exact Normal–Inverse-Gamma posterior, its derivation checked by quadrature of the model's own
  log density on a tiny problem; NUTS means and sds of ``coef`` and ``intercept`` and σ's mean and
  10/50/90% quantiles within 4 MCSE.
* Laplace prior ``coef_j | σ ~ Laplace(0, σ²/(nα))`` (Lasso), flat intercept,
  ``σ ~ Exponential(1/std(y))``: the estimator's default model. A Gibbs sampler on the normal scale
  mixture written here in NumPy (checked itself against the closed form for a vanishing α);
  `BayesianLinearRegression`'s NUTS means and 10/50/90% quantiles of every coefficient, the
  intercept and σ within 4 combined MCSE, on unscaled columns of scikit-learn's diabetes data.
* `linear_regression_stats` and `linear_regression` have the same log joint density and gradient
  (σ fixed or sampled, with or without intercept, every prior kind), and NUTS with the same seed
  gives the same draws from both.

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

from bayesreg import BayesianLinearRegression, prior_from_penalty, sample_posterior
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


@pytest.fixture(scope="module", params=["collapsed", "direct"])
def nig_fit(request, nig_data):
    """NUTS on σ with the coefficients integrated out (the default) and on the model's density."""
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
        laplace_parametrisation=request.param,
    )
    assert idata.sample_stats.attrs["parametrisation"] == request.param
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


# --- Laplace prior scaled by σ, σ exponential: the estimator's default model, against Gibbs ----------


def gibbs_sigma_lasso(X, y, laplace_rate, sigma_rate, *, num_chains=16, num_draws=5000, burn=500, seed=0):
    """Gibbs sampler of ``y ~ N(b + Xw, σ²)``, ``w_j | σ ~ Laplace(0, σ²/laplace_rate)`` i.i.d., flat
    ``b``, ``σ ~ Exponential(sigma_rate)``; ``num_chains`` chains vectorised in NumPy.

    The Laplace prior is the scale mixture ``w_j | τ_j² ~ N(0, τ_j²)``, ``τ_j² | σ ~ Exp(rate
    1/(2B²))`` with ``B = σ²/laplace_rate`` (Andrews & Mallows 1974; Park & Casella 2008, whose σ
    enters differently). The intercept is ``b = c − x̄'w`` with ``c`` the intercept of the centred
    design (a shift with unit Jacobian, so c is flat too); given σ, c is independent of w. Each sweep:

    1. ``(σ, τ) | w, c, y`` as one block: σ from its conditional with τ integrated out,
       ``σ^-(n+2p) exp(−C/σ²) exp(−rσ)``, ``C = RSS/2 + laplace_rate·‖w‖₁`` (likelihood, the Laplace
       normaliser ``(laplace_rate/(2σ²))^p``, the exponential prior): exact draws by rejection, a
       proposal ``σ² ~ InverseGamma((n + 2p − 1)/2, C)`` accepted with probability ``exp(−rσ)`` (about
       half here); then ``1/τ_j² | w_j, σ ~ InverseGaussian(mean 1/(B|w_j|), shape 1/B²)``.
    2. ``w | τ, σ, y ~ N(A⁻¹Xc'yc/σ², A⁻¹)``, ``A = Xc'Xc/σ² + diag(1/τ²)``; ``c | σ, y ~ N(ȳ, σ²/n)``.

    Step 1 is a blocked update of (σ, τ): integrating τ out gives σ a conditional with the closed form
    above, drawn exactly, so no slice sampler (and no tuning) is needed.

    Returns ``{"coef": (chains, draws, p), "intercept": (chains, draws), "sigma": (chains, draws)}``.
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    xtx, xty = Xc.T @ Xc, Xc.T @ yc
    shape = (n + 2 * p - 1) / 2
    w = np.tile(np.linalg.solve(xtx, xty), (num_chains, 1))  # least squares: no w_j = 0 for step 1
    c = np.full(num_chains, y_mean)
    out = {
        "coef": np.empty((num_chains, num_draws, p)),
        "intercept": np.empty((num_chains, num_draws)),
        "sigma": np.empty((num_chains, num_draws)),
    }
    for it in range(burn + num_draws):
        residual = yc - w @ Xc.T
        C = 0.5 * (np.einsum("ki,ki->k", residual, residual) + n * (y_mean - c) ** 2)
        C += laplace_rate * np.abs(w).sum(axis=1)
        sigma = np.empty(num_chains)
        todo = np.arange(num_chains)
        while todo.size:
            proposal = np.sqrt(C[todo] / rng.gamma(shape, size=todo.size))
            accept = rng.uniform(size=todo.size) < np.exp(-sigma_rate * proposal)
            sigma[todo[accept]] = proposal[accept]
            todo = todo[~accept]
        B = (sigma**2 / laplace_rate)[:, None]
        inv_tau2 = rng.wald(1.0 / (B * np.abs(w)), 1.0 / B**2)
        A = xtx / sigma[:, None, None] ** 2 + inv_tau2[:, :, None] * np.eye(p)
        chol = np.linalg.cholesky(A)  # A = L L'
        mean = np.linalg.solve(A, (xty / sigma[:, None] ** 2)[..., None])[..., 0]
        noise = np.linalg.solve(np.swapaxes(chol, 1, 2), rng.standard_normal((num_chains, p, 1)))[..., 0]
        w = mean + noise  # covariance L'^{-1} L^{-1} = A^{-1}
        c = y_mean + sigma / np.sqrt(n) * rng.standard_normal(num_chains)
        if it >= burn:
            out["coef"][:, it - burn] = w
            out["intercept"][:, it - burn] = c - w @ x_mean
            out["sigma"][:, it - burn] = sigma
    return out


LASSO_COLUMNS = ["age", "bmi", "bp", "s3", "s5"]  # years, kg/m², mm Hg, mg/dL, log mmol/L; unscaled
LASSO_ALPHA = 3.0  # Lasso alpha: Laplace scale σ²/(nα) ≈ 2.5, shrinks s5 from 45 (OLS) to about 29


@pytest.fixture(scope="module")
def lasso_data():
    return _diabetes_unscaled(LASSO_COLUMNS)


@pytest.fixture(scope="module", params=["collapsed", "direct"])
def lasso_nuts(request, lasso_data):
    """The estimator's NUTS fit with the coefficients integrated out, and on the density itself (what
    "auto" samples on these columns, whose sds differ by less than SCALE_RATIO)."""
    X, y = lasso_data
    est = BayesianLinearRegression(
        prior="laplace",
        alpha=LASSO_ALPHA,
        method="nuts",
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        laplace_parametrisation=request.param,
        random_state=0,
    )
    est.fit(X, y)
    assert est.posterior_fit_.parametrisation == request.param
    return est


@pytest.fixture(scope="module")
def lasso_gibbs(lasso_data):
    X, y = lasso_data
    return gibbs_sigma_lasso(X, y, len(y) * LASSO_ALPHA, 1.0 / np.std(y))


def _scalars(draws):
    """``{name: (chain, draw) array}`` for every coefficient, the intercept and σ."""
    coef = np.asarray(draws["coef"])
    out = {f"coef[{j}]": coef[..., j] for j in range(coef.shape[-1])}
    return out | {name: np.asarray(draws[name]) for name in ("intercept", "sigma")}


def test_gibbs_reference_for_a_vanishing_alpha(lasso_data):
    """The reference sampler itself. As α → 0 the Laplace prior flattens but keeps its normaliser
    ``(nα/(2σ²))^p``, so ``σ | y ∝ exp(−rσ) σ^-(n+p−1) exp(−RSS_ols/(2σ²))`` (flat w and intercept
    integrated out) and ``(w, b) | σ, y`` is the least-squares Gaussian: mean the OLS fit, sd
    ``√(E[σ²]·(Z'Z)⁻¹ₖₖ)``. σ's law by quadrature on a grid of log σ."""
    X, y = lasso_data
    X = X.to_numpy()
    n, p = X.shape
    rate = 1.0 / np.std(y)
    draws = _scalars(gibbs_sigma_lasso(X, y, n * 1e-8, rate, num_chains=8, num_draws=2500, burn=200, seed=1))
    Z = np.column_stack([X, np.ones(n)])
    ols, rss = np.linalg.lstsq(Z, y, rcond=None)[:2]
    u = np.linspace(np.log(30.0), np.log(100.0), 4001)
    log_density = -rate * np.exp(u) - (n + p - 2) * u - 0.5 * rss[0] * np.exp(-2 * u)  # of u = log σ
    density = np.exp(log_density - log_density.max())
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(u))])
    density, cdf = density / cdf[-1], cdf / cdf[-1]
    assert density[0] < 1e-12 * density.max() and density[-1] < 1e-12 * density.max()  # grid wide enough
    sigma = draws["sigma"]
    error = sigma.mean() - np.trapezoid(density * np.exp(u), u)
    assert abs(error) <= Z_MAX * _mcse(sigma), f"sigma mean off by {error:.3g}"
    for q in QUANTILES:
        error = np.quantile(sigma, q) - np.exp(np.interp(q, cdf, u))
        assert abs(error) <= Z_MAX * _mcse(sigma, "quantile", q), f"sigma {q:.0%} quantile off by {error:.3g}"
    sd = np.sqrt(np.trapezoid(density * np.exp(2 * u), u) * np.diag(np.linalg.inv(Z.T @ Z)))
    for k, name in enumerate([*(f"coef[{j}]" for j in range(p)), "intercept"]):
        a = draws[name]
        assert abs(a.mean() - ols[k]) <= Z_MAX * _mcse(a), f"{name} mean"
        assert abs(a.std() - sd[k]) <= Z_MAX * _mcse(a, "sd"), f"{name} sd"


def test_estimator_nuts_matches_gibbs(lasso_nuts, lasso_gibbs):
    """`BayesianLinearRegression(prior="laplace", method="nuts")` on unscaled columns: means and
    10/50/90% quantiles of every coefficient, the intercept and σ within 4 combined MCSE of Gibbs."""
    assert lasso_nuts.diagnostics_.divergences == 0
    nuts, gibbs = _scalars(lasso_nuts.idata_.posterior), _scalars(lasso_gibbs)
    for name, a in nuts.items():
        g = gibbs[name]
        combined = np.hypot(_mcse(a), _mcse(g))
        error = a.mean() - g.mean()
        assert abs(error) <= Z_MAX * combined, f"{name} mean off by {error:.3g} ({error / combined:.1f} MCSE)"
        for q in QUANTILES:
            combined = np.hypot(_mcse(a, "quantile", q), _mcse(g, "quantile", q))
            error = np.quantile(a, q) - np.quantile(g, q)
            assert abs(error) <= Z_MAX * combined, (
                f"{name} {q:.0%} quantile off by {error / combined:.1f} MCSE"
            )


# --- linear_regression_stats ≡ linear_regression ----------------------------------------------------


def _both_forms(X, y, fit_intercept, params, **kwargs):
    """Log joint density and its gradient at each of the ``params`` (leaves with a leading batch
    axis) under the per-observation form and under the statistics form, both jitted."""
    stats_args = (SufficientStats.from_data(X, y, center=fit_intercept),)
    kwargs = {**kwargs, "fit_intercept": fit_intercept}
    values = []
    for model, args in ((linear_regression, (X, y)), (linear_regression_stats, stats_args)):

        def log_joint(params, model=model, args=args):
            return log_density(model, args, kwargs, params)[0]

        values.append(jax.jit(jax.vmap(jax.value_and_grad(log_joint)))(params))
    return values


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("sampled_sigma", [False, True], ids=["sigma-fixed", "sigma-site"])
@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
def test_stats_form_has_the_same_log_joint(x64, lasso_data, kind, sampled_sigma, fit_intercept):
    """The same log joint (σ's terms included) and gradient, to 1e-10 relative, at five parameter
    values spread over and beyond the posterior (the statistics are centred with an intercept and
    raw without, as the estimator computes them)."""
    X, y = lasso_data
    X = X.to_numpy()
    n, p = X.shape
    rng = np.random.default_rng(3)
    prior = prior_from_penalty(kind, LASSO_ALPHA, l1_ratio=0.3, n_samples=n)
    sigma = dist.Exponential(1.0 / np.std(y)) if sampled_sigma else 57.0
    params = {"coef": rng.normal([0.0, 6.0, 1.0, -0.8, 30.0], [0.5, 2.0, 0.5, 0.5, 15.0], size=(5, p))}
    if fit_intercept:
        params["intercept"] = rng.normal(-200.0, 80.0, size=5)
    if sampled_sigma:
        params["sigma"] = rng.uniform(30.0, 120.0, size=5)
    (value, grad), (stats_value, stats_grad) = _both_forms(
        X, y, fit_intercept, params, prior=prior, sigma=sigma
    )
    assert set(grad) == set(params)
    np.testing.assert_allclose(stats_value, value, rtol=1e-10)
    for name in params:
        scale = np.abs(grad[name]).max()
        np.testing.assert_allclose(stats_grad[name], grad[name], rtol=1e-10, atol=1e-10 * scale, err_msg=name)


def test_stats_form_nuts_draws_are_the_per_observation_draws(lasso_data):
    """NUTS with the same seed on both forms (the estimator's default model): the same tree sizes
    and divergences, and draws equal to 1e-9 relative (the potentials differ by rounding only).

    Short chains on purpose: NUTS amplifies rounding differences over many transitions. With this
    seed, 4 chains of 10 warmup steps and 100 draws agree to 5e-13 (1e-9 leaves room for another
    platform's rounding; a model difference parts the draws at O(1)); with 30 warmup steps the
    chains differ by 1e-10 to 1e-2 at the first draw, the smaller gaps growing about 1.4× per draw
    to O(0.1) within 60 draws, and with 100 warmup steps they share nothing.
    """
    X, y = lasso_data
    X = X.to_numpy()
    n = len(y)
    settings = dict(
        num_warmup=10,
        num_samples=100,
        num_chains=NUM_CHAINS,
        seed=5,
        prior=prior_from_penalty("laplace", LASSO_ALPHA, n_samples=n),
        sigma=dist.Exponential(1.0 / np.std(y)),
        laplace_parametrisation="direct",
    )
    stats_form = sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y),
        observed=(linear_regression, X, y),
        **settings,
    )
    per_observation = sample_posterior(linear_regression, X, y, **settings)
    for field in ("n_steps", "diverging"):
        np.testing.assert_array_equal(stats_form.sample_stats[field], per_observation.sample_stats[field])
    a, b = _scalars(stats_form.posterior), _scalars(per_observation.posterior)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, err_msg=name)
    assert np.ptp(a["sigma"]) > 1.0  # the chains moved
