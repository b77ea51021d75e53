"""bayesreg.path.map_path against scikit-learn's lasso_path / enet_path / Ridge / LogisticRegression.

Criterion (`references.assert_map_equal`): at every grid point each coefficient and the intercept
within ``1e-6·|reference| + 1e-9`` and the same set of exact zeros. lasso_path and enet_path fit no
intercept, so they run on centred data and the intercept of the MAP (fitted, unpenalised) is
compared to ``ȳ − x̄ᵀw``. scikit-learn stops at its tolerance, short of 1e-6 for its small
coefficients, so every reference is its answer polished and KKT-certified (`references`): the
support and signs are turned into the exact solution (a linear solve on the support for least
squares, Newton's method for the logistic loss), its zeros must lie strictly inside the
subdifferential (the grids start just above ``alpha_max``, where the largest one would sit on the
edge), and scikit-learn must be within 1e-9 (relative) of it; so a failure means bayesreg is wrong.

Compilation: the whole grid must reuse one compiled solver (``bayesreg.engine.map.solve_grid``;
for the lasso of the linear model, the homotopy ``bayesreg.engine.homotopy.follow``).

The posterior path (`posterior_path`) is judged against the exact conjugate posterior of the linear
model with a Gaussian prior and a fixed σ, with tolerances from ArviZ's Monte Carlo standard errors
(fixed seeds); its MAP column must be `map_path` exactly, and where that is exactly 0 the posterior
still has width. Its NUTS fits are module-scoped fixtures: each compiles the grid sampler once (its
three programs ``bayesreg.engine.chains.start_chains``, ``advance_chains`` and ``chain_draws``), and the
Laplace fixture uses the settings of the CLI test and the demo (`bayesreg.demo.PATH_SETTINGS`), so
the session compiles that sampler once.
"""

import dataclasses
import warnings

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from references import (
    assert_map_equal,
    certify_logistic,
    sklearn_linear,
    sklearn_linear_path,
    sklearn_logistic,
)
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import enet_path
from sklearn.preprocessing import StandardScaler

from bayesreg.demo import PATH_SETTINGS
from bayesreg.engine import homotopy
from bayesreg.engine.chains import Chains, advance_chains, chain_draws, scale_mixture, start_chains
from bayesreg.engine.map import solve_grid
from bayesreg.models import SufficientStats
from bayesreg.path import (
    MAPPath,
    PosteriorPath,
    alpha_grid,
    alpha_max,
    map_path,
    posterior_path,
)
from bayesreg.scaling import Standardization


def assert_path_equal(path: MAPPath, references, label):
    """At every grid point the MAP equals its certified reference (`references.assert_map_equal`: each
    coefficient and the intercept to 1e-6 of its own size plus 1e-9, the same exact zeros)."""
    assert path.coefs.shape == (len(references), len(references[0].coef))
    assert np.all(path.converged), f"{label}: not converged at {np.flatnonzero(~path.converged)}"
    for i, (alpha, ref) in enumerate(zip(path.alphas, references, strict=True)):
        assert_map_equal(
            path.coefs[i], path.intercepts[i], ref.coef, ref.intercept, label=f"{label} alpha={alpha:.4g}"
        )


# --------------------------------------------------------------------------------------------------
# linear: lasso, elastic net, ridge
# --------------------------------------------------------------------------------------------------


def grid(X, y, n_alphas, **kwargs):
    """scikit-learn's default grid, its first point moved 1e-5 (relative) above alpha_max."""
    alphas = alpha_grid(X, y, n_alphas=n_alphas, **kwargs)
    alphas[0] *= 1 + 1e-5  # > ZERO_MARGIN: all zeros, strictly
    return alphas


def test_alpha_grid_is_sklearns(diabetes):
    X, y = diabetes
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    for prior, l1_ratio in (("laplace", 1.0), ("elasticnet", 0.3)):
        with warnings.catch_warnings():  # only the grid is used: the fits may stop early
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref, _, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, alphas=7, eps=1e-3, max_iter=10)
        ours = alpha_grid(X, y, n_alphas=7, eps=1e-3, prior=prior, l1_ratio=l1_ratio)
        np.testing.assert_allclose(ours, ref, rtol=1e-13)


def test_lasso_path_is_lasso_path_with_one_compilation(diabetes):
    """The lasso of the linear model runs by homotopy (`bayesreg.engine.homotopy`), compiled once per data
    and grid shape; on diabetes, weight s3 leaves the active set and re-enters with the other sign."""
    X, y = diabetes
    alphas = grid(X, y, 100)
    before = homotopy.follow.cache_size()
    path = map_path(X, y, alphas)
    after_first = homotopy.follow.cache_size()
    assert after_first - before <= 1, "one grid, more than one compilation"
    assert_path_equal(path, sklearn_linear_path(X, y, alphas), "lasso")
    assert np.all(path.coefs[0] == 0.0) and np.all(path.coefs[-1] != 0.0)
    s3 = np.sign(path.coefs[:, 6])  # columns: age, sex, bmi, bp, s1, s2, s3, ...
    assert {-1.0, 0.0, 1.0} <= set(s3)  # leaves, and comes back with the other sign
    # another grid on other data of the same shape, in increasing order: nothing new to compile
    rng = np.random.default_rng(1)
    X2, y2 = X * rng.uniform(0.5, 2.0, X.shape[1]), y + rng.normal(size=y.shape)
    increasing = map_path(X2, y2, alphas[::-1] * 0.7)
    assert homotopy.follow.cache_size() == after_first
    assert_path_equal(increasing, sklearn_linear_path(X2, y2, alphas * 0.7)[::-1], "lasso, increasing grid")


def test_lasso_path_by_homotopy_is_the_proximal_newton_path(diabetes):
    """The homotopy and the general grid solver (`bayesreg.engine.map.map_grid`, SVI with an
    AutoDelta guide and proximal Newton steps) find the same MAP at every α, zeros included."""
    from bayesreg.engine.map import map_grid
    from bayesreg.models import linear_regression_stats
    from bayesreg.priors import prior_from_penalty

    X, y = diabetes
    alphas = grid(X, y, 30)
    path = map_path(X, y, alphas)
    priors = [prior_from_penalty("laplace", float(a), n_samples=X.shape[0]) for a in alphas]
    init = {"coef": np.zeros(X.shape[1]), "intercept": np.zeros(())}
    stats = SufficientStats.from_data(X, y)
    results = map_grid(linear_regression_stats, stats, priors=priors, init=init, sigma=1.0)
    for i, result in enumerate(results):
        np.testing.assert_allclose(path.coefs[i], result.params["coef"], rtol=0, atol=1e-10 * np.abs(y).max())
        np.testing.assert_allclose(path.intercepts[i], result.params["intercept"], rtol=1e-12)
        # and each coefficient to 1e-10 of its own size, the same exact zeros
        coef, intercept = result.params["coef"], result.params["intercept"]
        label = f"homotopy vs map_grid alpha={alphas[i]:.4g}"
        assert_map_equal(path.coefs[i], path.intercepts[i], coef, intercept, rtol=1e-10, atol=0, label=label)


def test_homotopy_stops_where_the_active_block_turns_singular(x64):
    """Two weights with correlation 1 − 1e-14: the second enters (with sign −1) at
    λ = (r − ½)/(1 + r) ≈ ¼, where H_AA has a Schur complement of 2e-14 relative; the homotopy stops
    there and reports the points below as not reached (residual inf)."""
    r = 1.0 - 1e-14
    H = jnp.asarray([[1.0, r], [r, 1.0]])
    b = jnp.asarray([1.0, 0.5])
    lambdas = jnp.asarray([0.9, 0.5, 0.3, 0.2, 0.1])
    coefs, _, residual = homotopy.lasso_path(H, b, lambdas)
    residual = np.asarray(residual)
    assert np.all(residual[:3] <= 1e-15) and np.all(np.isinf(residual[3:]))
    np.testing.assert_allclose(np.asarray(coefs)[:3], [[0.1, 0.0], [0.5, 0.0], [0.7, 0.0]], rtol=1e-12)


def test_map_path_falls_back_to_the_grid_solver_where_the_homotopy_stops(diabetes, monkeypatch):
    """A homotopy that does not reach every grid point (as above) hands the grid to
    `bayesreg.engine.map.map_grid`: map_path is then the proximal Newton path."""
    X, y = diabetes
    alphas = grid(X, y, 10)
    expected = map_path(X, y, alphas)
    real = homotopy.lasso_path

    def stops_early(H, b, lambdas):
        coefs, steps, residual = real(H, b, lambdas)
        return coefs, steps, residual.at[-1].set(jnp.inf)

    monkeypatch.setattr(homotopy, "lasso_path", stops_early)
    path = map_path(X, y, alphas)
    assert np.all(path.converged)
    # proximal Newton steps (one per α from the second on: the objective is quadratic), not breakpoints
    assert np.array_equal(path.num_steps[1:], np.ones(alphas.size - 1))
    assert not np.array_equal(path.num_steps, expected.num_steps)
    np.testing.assert_allclose(path.coefs, expected.coefs, rtol=0, atol=1e-10 * np.abs(y).max())
    for i, alpha in enumerate(alphas):  # each coefficient to 1e-10 of its own size, the same exact zeros
        coef, intercept = expected.coefs[i], expected.intercepts[i]
        label = f"fallback vs homotopy alpha={alpha:.4g}"
        assert_map_equal(path.coefs[i], path.intercepts[i], coef, intercept, rtol=1e-10, atol=0, label=label)


def test_lasso_path_without_intercept_on_centred_data(diabetes):
    X, y = diabetes
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alphas = grid(Xc, yc, 15, fit_intercept=False)
    path = map_path(Xc, yc, alphas, fit_intercept=False)
    references = sklearn_linear_path(Xc, yc, alphas, fit_intercept=False)
    assert_path_equal(path, references, "lasso, no intercept")
    assert np.all(path.intercepts == 0.0)


@pytest.mark.parametrize("l1_ratio, fit_intercept", [(1.0, True), (0.5, True), (1.0, False)])
def test_standardized_path_is_sklearns_on_standard_scaled_columns_mapped_back(l1_ratio, fit_intercept):
    """``standardize=True`` on the unscaled diabetes columns (sds 0.5 to 35): the grid is that of the
    columns scikit-learn's ``StandardScaler`` standardised, and the path is ``lasso_path`` /
    ``enet_path`` on them (certified), mapped back by the formula written out: each coefficient to
    1e-6 of its size, the same exact zeros."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    scaler = StandardScaler(with_mean=fit_intercept).fit(X)
    Z = scaler.transform(X)
    model = {"prior": "laplace" if l1_ratio == 1.0 else "elasticnet", "l1_ratio": l1_ratio}
    model["fit_intercept"] = fit_intercept
    alphas = grid(X, y, 30, standardize=True, **model)
    np.testing.assert_allclose(alphas, grid(Z, y, 30, **model), rtol=1e-12)
    path = map_path(X, y, alphas, standardize=True, **model)
    mean = scaler.mean_ if fit_intercept else np.zeros(X.shape[1])
    references = []
    for ref in sklearn_linear_path(Z, y, alphas, l1_ratio, fit_intercept=fit_intercept):
        coef = ref.coef / scaler.scale_
        references.append(dataclasses.replace(ref, coef=coef, intercept=ref.intercept - mean @ coef))
    assert_path_equal(path, references, f"standardize=True l1_ratio={l1_ratio} fit_intercept={fit_intercept}")
    assert np.all(path.coefs[0] == 0.0) and 0 < np.sum(path.coefs == 0) < path.coefs.size
    assert fit_intercept or np.all(path.intercepts == 0.0)


@pytest.mark.parametrize("l1_ratio", [0.2, 0.8])
def test_enet_path_is_enet_path(diabetes, l1_ratio):
    X, y = diabetes
    alphas = grid(X, y, 20, prior="elasticnet", l1_ratio=l1_ratio)
    before = solve_grid.cache_size()
    path = map_path(X, y, alphas, prior="elasticnet", l1_ratio=l1_ratio)
    assert solve_grid.cache_size() - before <= 1
    assert_path_equal(path, sklearn_linear_path(X, y, alphas, l1_ratio), f"enet l1_ratio={l1_ratio}")


def test_ridge_path_is_ridge(diabetes):
    """L2: scikit-learn has no ridge path function; Ridge (Cholesky, a direct solve) at each α,
    refined and certified as every reference."""
    X, y = diabetes
    alphas = np.geomspace(1e2, 1e-4, 12)
    path = map_path(X, y, alphas, prior="gaussian")
    assert_path_equal(path, [sklearn_linear("gaussian", X, y, a) for a in alphas], "ridge")
    assert np.all(path.coefs != 0.0)


# --------------------------------------------------------------------------------------------------
# logistic
# --------------------------------------------------------------------------------------------------


def test_logistic_l1_path_is_logistic_regression(breast_cancer):
    """family="bernoulli", α = 1/C: LogisticRegression(l1_ratio=1, saga) at each grid point."""
    X, y = breast_cancer
    alphas = alpha_grid(X, y, n_alphas=8, eps=1e-2, family="bernoulli")[1:]  # below alpha_max
    before = solve_grid.cache_size()
    path = map_path(X, y, alphas, family="bernoulli")
    assert solve_grid.cache_size() - before <= 1
    # saga at tol 1e-14, polished by Newton's method on its support and certified
    references = [sklearn_logistic(X, y, 1 / alpha, 1.0) for alpha in alphas]
    assert_path_equal(path, references, "logistic l1")
    assert np.sum(path.coefs[0] == 0) > np.sum(path.coefs[-1] == 0)


# --------------------------------------------------------------------------------------------------
# alpha_max, inputs
# --------------------------------------------------------------------------------------------------


def test_path_at_exactly_alpha_max_is_zero_to_round_off(diabetes):
    X, y = diabetes
    top = alpha_max(X, y)
    path = map_path(X, y, [top, top * (1 - 1e-6)])
    assert np.max(np.abs(path.coefs[0])) <= 1e-12
    assert np.sum(path.coefs[1] != 0) == 1 and np.max(np.abs(path.coefs[1])) > 1e-6


def test_alpha_max_is_the_edge_of_sparsity(breast_cancer):
    """At alpha_max every weight is 0; just below it one is not (logistic, book convention)."""
    X, y = breast_cancer
    top = alpha_max(X, y, family="bernoulli", convention="book")
    path = map_path(X, y, [top * 1.01, top * 0.99], family="bernoulli", convention="book")
    assert np.all(path.coefs[0] == 0.0)
    assert np.sum(path.coefs[1] != 0.0) == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alphas": [0.1, -1.0]}, "alphas"),
        ({"alphas": []}, "alphas"),
        ({"alphas": [[0.1]]}, "alphas"),
        ({"alphas": [0.1], "prior": "horseshoe"}, "prior"),
        ({"alphas": [0.1], "family": "poisson"}, "family"),
        ({"alphas": [0.1], "convention": "glmnet"}, "convention"),
    ],
)
def test_bad_arguments_named(diabetes, kwargs, match):
    X, y = diabetes
    with pytest.raises(ValueError, match=match):
        map_path(X, y, **kwargs)


def test_alpha_max_of_ridge_is_refused(diabetes):
    with pytest.raises(ValueError, match="never sets weights exactly to 0"):
        alpha_max(*diabetes, prior="gaussian")


# --------------------------------------------------------------------------------------------------
# the posterior path
# --------------------------------------------------------------------------------------------------

K_MCSE = 4.0  # a Monte Carlo estimate may miss its exact value by at most 4 standard errors


def median_mcse(draws: xr.Dataset) -> np.ndarray:
    """ArviZ's MCSE of the median of ``coef``, crediting at most as many effective draws as there
    are draws. Well-adapted NUTS chains are antithetic, so the ESS estimated for the median's
    indicator exceeds the number of draws (5,000–7,000 of 4,000 here), while the sample median's
    error need not shrink accordingly: at one coefficient it was 4.5 of those standard errors
    where the same draws' mean was 1.25 of its own. Capping the ESS at the draw count is the
    standard error of as many independent draws."""
    mcse = az.mcse(draws, method="median")["coef"].to_numpy()
    ess = az.ess(draws, method="median")["coef"].to_numpy()
    num_draws = draws.sizes["chain"] * draws.sizes["draw"]
    return mcse * np.sqrt(np.maximum(ess / num_draws, 1.0))


def _grid_programs() -> int:
    """Programs compiled so far for the grid sampler: its first state, its loop, its draws."""
    return sum(f.cache_size() for f in (start_chains, advance_chains, chain_draws))


@pytest.fixture(scope="module")
def lasso_posterior(diabetes):
    """Laplace prior, σ sampled, the demo's grid and NUTS settings; compilations counted."""
    X, y = diabetes
    settings = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    alphas = alpha_grid(X, y, n_alphas=PATH_SETTINGS["n_alphas"])
    before = _grid_programs()
    path = posterior_path(X, y, alphas, seed=0, **settings)
    compiled = _grid_programs() - before
    # a new grid of the same size on new data of the same shape: nothing new to compile
    rng = np.random.default_rng(2)
    again = posterior_path(X, y + rng.normal(size=y.shape), alphas * 0.8, seed=1, **settings)
    return {
        "path": path,
        "again": again,
        "compiled": compiled,
        "recompiled": _grid_programs() - before - compiled,
        "alphas": alphas,
    }


def test_posterior_path_compiles_once_for_all_alphas(lasso_posterior):
    path = lasso_posterior["path"]
    # at most one sampler (three programs) for the whole grid (none when the CLI or demo tests of this
    # session compiled it already: the same settings), a second only if "auto" fell back to the mixture
    assert lasso_posterior["compiled"] <= 3 * (1 + bool(path.mixture.any()))
    assert lasso_posterior["recompiled"] <= 3 * int(
        lasso_posterior["again"].mixture.any() and not path.mixture.any()
    )


def test_posterior_path_standardized_is_the_standardized_columns_posterior_mapped_back(lasso_posterior):
    """``standardize=True`` on the unscaled diabetes columns: the chains of the standardised columns
    (same seed, same draws), every summary on the original columns by the formula written out
    (scikit-learn's ``StandardScaler.scale_``): draws, medians and HDI ends divided by the column
    sd, the per-coefficient R-hat and bulk ESS those of the mapped draws, the MAP column that of
    `map_path`."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    settings = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    alphas = lasso_posterior["alphas"] * 40.0  # the grid is about standardised columns
    before = _grid_programs()
    path = posterior_path(X, y, alphas, standardize=True, seed=0, **settings)
    by_hand = posterior_path(Standardization.from_data(X).transform(X), y, alphas, seed=0, **settings)
    assert _grid_programs() == before  # the same shapes and settings as the other fits: reused
    scale = StandardScaler().fit(X).scale_
    np.testing.assert_allclose(path.coef_draws, by_hand.coef_draws / scale, rtol=1e-12, atol=0)
    for field in ("median", "hdi_low", "hdi_high"):
        np.testing.assert_allclose(getattr(path, field), getattr(by_hand, field) / scale, rtol=1e-12, atol=0)
    # R-hat and ESS are ArviZ's of the mapped draws; rank-based, they are those of the standardised
    # draws but for round-off in the folded draws |x - median| of the tail R-hat, which can reorder
    # two nearly equal values (measured here: 1.9e-4 at most)
    mapped = xr.Dataset({"coef": (("alpha", "chain", "draw", "feature"), by_hand.coef_draws / scale)})
    np.testing.assert_allclose(path.r_hat, az.rhat(mapped)["coef"], rtol=1e-12)
    np.testing.assert_allclose(path.ess_bulk, az.ess(mapped, method="bulk")["coef"], rtol=1e-12)
    np.testing.assert_allclose(path.r_hat, by_hand.r_hat, rtol=1e-3)
    np.testing.assert_allclose(path.ess_bulk, by_hand.ess_bulk, rtol=1e-9)
    np.testing.assert_array_equal(path.divergences, by_hand.divergences)
    penalised = map_path(X, y, alphas, standardize=True)
    np.testing.assert_allclose(path.map.coefs, penalised.coefs, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(path.map.coefs == 0, penalised.coefs == 0)


def test_posterior_path_progress_bar_same_programs_same_draws(lasso_posterior, diabetes, capsys):
    """With a progress bar the grid's loop runs in 20 calls of the same program, a thread printing the
    percentage as each ends: nothing new to compile, and bitwise the same draws."""
    X, y = diabetes
    settings = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    before = _grid_programs()
    shown = posterior_path(X, y, lasso_posterior["alphas"], seed=0, progress_bar=True, **settings)
    assert _grid_programs() == before
    np.testing.assert_array_equal(shown.coef_draws, lasso_posterior["path"].coef_draws)
    lines = [line for line in capsys.readouterr().err.split("\r") if line.startswith("NUTS")]
    runs = 1 + bool(lasso_posterior["path"].mixture.any())  # the whole grid again with the mixture
    assert len(lines) == 20 * runs and lines[-1] == "NUTS 100%\n"


def test_posterior_path_map_column_is_map_path(lasso_posterior, diabetes):
    path = lasso_posterior["path"]
    reference = map_path(*diabetes, lasso_posterior["alphas"])
    for field in MAPPath._fields:
        np.testing.assert_array_equal(getattr(path.map, field), getattr(reference, field))
    np.testing.assert_array_equal(path.alphas, lasso_posterior["alphas"])


def test_posterior_path_shapes_and_arviz_summaries(lasso_posterior):
    path = lasso_posterior["path"]
    n_alphas, chains, draws = (
        PATH_SETTINGS["n_alphas"],
        PATH_SETTINGS["num_chains"],
        PATH_SETTINGS["num_samples"],
    )
    assert isinstance(path, PosteriorPath)
    assert path.coef_draws.shape == (n_alphas, chains, draws, 10)
    for name in ("median", "hdi_low", "hdi_high", "r_hat", "ess_bulk"):
        assert getattr(path, name).shape == (n_alphas, 10), name
    for name in ("max_r_hat", "min_ess_bulk", "divergences", "mixture"):
        assert getattr(path, name).shape == (n_alphas,), name
    # every summary is ArviZ's, of the draws returned (one α at a time, as a user would compute it)
    for i in (0, n_alphas // 2, n_alphas - 1):
        posterior = az.convert_to_inference_data(
            xr.Dataset({"coef": (("chain", "draw", "feature"), path.coef_draws[i])})
        )
        hdi = az.hdi(posterior, hdi_prob=path.hdi_prob)["coef"].to_numpy()
        np.testing.assert_array_equal(path.hdi_low[i], hdi[:, 0])
        np.testing.assert_array_equal(path.hdi_high[i], hdi[:, 1])
        np.testing.assert_allclose(path.r_hat[i], az.rhat(posterior)["coef"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(path.ess_bulk[i], az.ess(posterior, method="bulk")["coef"], rtol=1e-12)
        np.testing.assert_array_equal(path.median[i], np.median(path.coef_draws[i], axis=(0, 1)))
    assert np.all(path.max_r_hat >= path.r_hat.max(axis=1))  # the intercept and σ count too
    assert np.all(path.min_ess_bulk <= path.ess_bulk.min(axis=1))
    assert path.hdi_prob == 0.94


def test_posterior_has_width_where_the_map_is_exactly_zero(lasso_posterior):
    path = lasso_posterior["path"]
    zero = path.map.coefs == 0.0
    assert zero[0].all() and zero.sum() >= 10  # alpha_max: all 0; sparse along much of the grid
    # the posterior of a MAP zero puts mass on both sides of 0: its 94% HDI contains 0 strictly inside
    # (so it has width; a median or a width of continuous draws is never exactly 0, which says nothing)
    assert np.all((path.hdi_low[zero] < 0.0) & (path.hdi_high[zero] > 0.0))


def conjugate_posterior(X, y, alpha, sigma):
    """Exact posterior of w for Ridge's prior N(0, σ²/α) with a flat intercept and fixed σ: (mean, sd)."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    precision = (Xc.T @ Xc + alpha * np.eye(X.shape[1])) / sigma**2
    covariance = np.linalg.inv(precision)
    return covariance @ Xc.T @ yc / sigma**2, np.sqrt(np.diag(covariance))


RIDGE_ALPHAS = np.array([30.0, 3.0, 0.3, 1e-6])


@pytest.fixture(scope="module")
def ridge_posterior(diabetes):
    """Gaussian prior, σ fixed at the OLS residual sd; 4 chains × (500 + 1000) per α."""
    X, y = diabetes
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    sigma = float(np.sqrt(np.sum((yc - Xc @ ols) ** 2) / (X.shape[0] - X.shape[1] - 1)))
    path = posterior_path(
        X,
        y,
        RIDGE_ALPHAS,
        prior="gaussian",
        sigma=sigma,
        num_warmup=500,
        num_samples=1000,
        num_chains=4,
        seed=3,
    )
    data = xr.Dataset({"coef": (("alpha", "chain", "draw", "feature"), path.coef_draws)})
    return {"path": path, "sigma": sigma, "ols": ols, "draws": data}


def test_posterior_median_at_tiny_alpha_is_the_ols_posterior(ridge_posterior, diabetes):
    """At α = 1e-6 the exact posterior is OLS's (mean = OLS, sd = σ√diag((XᵀX)⁻¹)); NUTS matches it."""
    X, y = diabetes
    path, sigma, ols = ridge_posterior["path"], ridge_posterior["sigma"], ridge_posterior["ols"]
    Xc = X - X.mean(axis=0)
    mean, sd = conjugate_posterior(X, y, RIDGE_ALPHAS[-1], sigma)
    ols_sd = sigma * np.sqrt(np.diag(np.linalg.inv(Xc.T @ Xc)))
    # the exact posterior at this α is OLS's to far below the Monte Carlo error
    assert np.max(np.abs(mean - ols) / ols_sd) < 1e-3 and np.max(np.abs(sd / ols_sd - 1)) < 1e-3
    mcse = median_mcse(ridge_posterior["draws"])[-1]
    error = np.abs(path.median[-1] - mean)
    assert np.all(error <= K_MCSE * mcse), (error / mcse).round(2)
    assert np.all(mcse < 0.1 * sd)  # the test has power: the MC error is small against the width


def test_hdis_widen_as_alpha_decreases_as_the_conjugate_sds_do(ridge_posterior, diabetes):
    from scipy.stats import norm

    X, y = diabetes
    path, sigma = ridge_posterior["path"], ridge_posterior["sigma"]
    assert path.hdi_prob == 0.94 and not path.mixture.any() and np.all(path.divergences == 0)
    exact = np.array([conjugate_posterior(X, y, a, sigma)[1] for a in RIDGE_ALPHAS])  # (n_alphas, p)
    exact_width = 2 * norm.ppf(0.97) * exact  # a normal's 94% HDI
    tail = (1 - path.hdi_prob) / 2
    mcse = sum(
        az.mcse(ridge_posterior["draws"], method="quantile", prob=q)["coef"].to_numpy()
        for q in (tail, 1 - tail)
    )
    width = path.hdi_high - path.hdi_low
    assert np.all(np.abs(width - exact_width) <= K_MCSE * mcse), (np.abs(width - exact_width) / mcse).round(2)
    # the exact widths grow as α falls; where a step exceeds the Monte Carlo error of both estimates,
    # the estimated widths grow too (and that is nearly every step of this grid: the test has power)
    exact_step = np.diff(exact_width, axis=0)
    assert np.all(exact_step > 0)
    resolvable = exact_step > K_MCSE * (mcse[1:] + mcse[:-1])
    assert resolvable.mean() >= 0.9, resolvable
    assert np.all(np.diff(width, axis=0)[resolvable] > 0)
    # the medians are the conjugate means at every α
    means = np.array([conjugate_posterior(X, y, a, sigma)[0] for a in RIDGE_ALPHAS])
    assert np.all(np.abs(path.median - means) <= K_MCSE * median_mcse(ridge_posterior["draws"]))
    # and the MAP column is the conjugate mean (Ridge): each coefficient and the intercept to 1e-8
    np.testing.assert_allclose(path.map.coefs, means, rtol=1e-8, atol=1e-8 * np.abs(means).max())
    for i, alpha in enumerate(RIDGE_ALPHAS):
        intercept = y.mean() - X.mean(axis=0) @ means[i]
        label = f"ridge MAP column vs conjugate mean alpha={alpha:g}"
        coef = path.map.coefs[i]
        assert_map_equal(coef, path.map.intercepts[i], means[i], intercept, rtol=1e-8, atol=0, label=label)


def test_posterior_path_bad_arguments_named(diabetes):
    X, y = diabetes
    for kwargs, match in [
        ({"alphas": [0.1, -1.0]}, "alphas"),
        ({"alphas": [0.1], "prior": "horseshoe"}, "prior"),
        ({"alphas": [0.1], "hdi_prob": 1.0}, "hdi_prob"),
        ({"alphas": [0.1], "num_chains": 0}, "num_chains"),
        ({"alphas": [0.1], "laplace_parametrisation": "centred"}, "laplace_parametrisation"),
        ({"alphas": [0.1], "mass_matrix": "full"}, "mass_matrix"),
        ({"alphas": [0.1], "convention": "book"}, "needs a fixed sigma"),
    ]:
        with pytest.raises(ValueError, match=match):
            posterior_path(X, y, **kwargs)


def test_posterior_path_logistic_elastic_net(breast_cancer):
    """family="bernoulli" with the elastic-net prior: MAP column = map_path = LogisticRegression, and
    the posterior straddles 0 where the MAP is 0."""
    X, y = breast_cancer
    model = {"prior": "elasticnet", "l1_ratio": 0.5, "family": "bernoulli"}
    alphas = grid(X, y, 4, eps=1e-2, **model)  # the first point just above alpha_max
    path = posterior_path(X, y, alphas, num_warmup=150, num_samples=150, num_chains=2, seed=0, **model)
    reference = map_path(X, y, alphas, **model)
    for field in MAPPath._fields:
        np.testing.assert_array_equal(getattr(path.map, field), getattr(reference, field))
    assert path.coef_draws.shape == (4, 2, 150, X.shape[1])
    assert not path.mixture.any()  # the scale mixture is for the Laplace prior only
    # the MAP column is LogisticRegression's elastic net (C = 1/α), certified; above alpha_max the
    # reference is the certified all-zero point (intercept logit(ȳ)): saga's intercept stops 8e-5 short
    # of it there
    top = certify_logistic(X, y, np.zeros(X.shape[1]), l1=0.5 * alphas[0], l2=0.5 * alphas[0], label="top")
    references = [top] + [sklearn_logistic(X, y, 1 / a, 0.5) for a in alphas[1:]]
    assert_path_equal(path.map, references, "logistic enet")
    zero = path.map.coefs == 0.0
    assert zero[0].all() and not zero[-1].all()
    # the medians are those of the draws returned, and where the MAP is exactly 0 the posterior puts
    # mass on both sides of 0 (its 94% HDI contains 0 strictly inside)
    np.testing.assert_array_equal(path.median, np.median(path.coef_draws, axis=(1, 2)))
    assert np.all((path.hdi_low[zero] < 0.0) & (path.hdi_high[zero] > 0.0))


def _as_chains(draws: dict, divergences, mixture: bool) -> Chains:
    """A stand-in sampler's draws, shaped (n_alphas, n_chains, n_samples, ...), as the chains
    driver returns them (chains flat, α after α), with ``divergences[i]`` divergent transitions in
    the first chain of α number i."""
    n_alphas, n_chains, n_samples = draws["coef"].shape[:3]
    diverging = np.zeros((n_alphas, n_chains, n_samples), dtype=bool)
    for i, count in enumerate(divergences):
        diverging[i, 0, :count] = True
    flat = {k: v.reshape(n_alphas * n_chains, *v.shape[2:]) for k, v in draws.items()}
    return Chains(
        draws=flat,
        stats={"diverging": diverging.reshape(n_alphas * n_chains, n_samples)},
        mass_matrix=np.full(n_alphas * n_chains, "diagonal"),
        mixture=np.full(n_alphas * n_chains, mixture),
        progress=None,
    )


def test_posterior_path_mass_matrix_reaches_the_chains(diabetes, monkeypatch):
    """``mass_matrix`` goes to the grid sampler (a stand-in records it), whose chains start with a
    dense or a diagonal inverse mass matrix as asked (a small model: 3 weights, no intercept)."""
    import jax

    import bayesreg.path as path_module
    from bayesreg.models import linear_regression
    from bayesreg.priors import Prior

    X, y = diabetes
    asked = []

    def sample(model, args, priors, kwargs, **settings):
        asked.append(settings["mass_matrix"])
        n_alphas, n_chains = jax.tree.leaves(priors)[0].shape[0], settings["num_chains"]
        rng = np.random.default_rng(0)
        draws = {"coef": rng.normal(size=(n_alphas, n_chains, 50, X.shape[1]))}
        draws["intercept"] = draws["sigma"] = rng.uniform(size=(n_alphas, n_chains, 50))
        return _as_chains(draws, np.zeros(n_alphas, dtype=int), settings["laplace_mixture"])

    monkeypatch.setattr(path_module, "_sample_grid", sample)
    for mass_matrix in ("auto", "dense", "diagonal"):
        posterior_path(X, y, [0.1], num_chains=2, mass_matrix=mass_matrix, progress_bar=False)
    assert asked == ["auto", "dense", "diagonal"]

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    priors = jax.tree.map(lambda *leaves: jnp.asarray(leaves), *[Prior("gaussian", l2=1.0)] * 4)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    for mass_matrix, shape in [("dense", (4, 3, 3)), ("diagonal", (4, 3))]:
        with jax.enable_x64(True):
            state, _ = start_chains(
                linear_regression,
                (("fit_intercept", False),),
                keys,
                (X, y),
                {"sigma": jnp.asarray(1.0)},
                {"prior": priors},
                num_warmup=10,
                num_samples=5,
                num_chains=4,
                mass_matrix=mass_matrix,
                devices=1,
            )
        assert state.adapt_state.inverse_mass_matrix.shape == shape


def test_auto_parametrisation_keeps_the_run_with_fewer_divergences(diabetes, monkeypatch):
    """ "auto": when the direct Laplace density diverges at some α, the grid is sampled again as the
    scale mixture and each α keeps the run with fewer divergences, draws and counts alike; with no
    divergence the mixture is never run. The two samplers are stand-ins (no compilation)."""
    import bayesreg.path as path_module

    X, y = diabetes
    alphas = alpha_grid(X, y, n_alphas=3)
    runs = []

    def sampler(offset, divergences):
        def sample(model, args, priors, kwargs, **settings):
            runs.append(scale_mixture(model) if settings["laplace_mixture"] else model)
            n_alphas, n_chains = jax.tree.leaves(priors)[0].shape[0], settings["num_chains"]
            rng = np.random.default_rng(len(runs))
            draws = {
                "coef": offset + rng.normal(size=(n_alphas, n_chains, 50, X.shape[1])),
                "intercept": rng.normal(size=(n_alphas, n_chains, 50)),
                "sigma": 1.0 + rng.uniform(size=(n_alphas, n_chains, 50)),
            }
            return _as_chains(draws, np.asarray(divergences), settings["laplace_mixture"])

        return sample

    direct, mixture = sampler(0.0, [0, 5, 2]), sampler(10.0, [0, 1, 3])
    monkeypatch.setattr(
        path_module, "_sample_grid", lambda *a, **k: (direct if not runs else mixture)(*a, **k)
    )
    path = posterior_path(X, y, alphas, seed=0, num_chains=2, progress_bar=False)
    assert len(runs) == 2 and runs[1] is not runs[0]  # the second run is the reparametrised model
    np.testing.assert_array_equal(path.mixture, [False, True, False])
    np.testing.assert_array_equal(path.divergences, [0, 1, 2])
    assert np.all(np.abs(path.median[[0, 2]]) < 1.0) and np.all(np.abs(path.median[1] - 10.0) < 1.0)

    runs.clear()
    monkeypatch.setattr(path_module, "_sample_grid", sampler(0.0, [0, 0, 0]))
    path = posterior_path(X, y, alphas, seed=0, num_chains=2, progress_bar=False)
    assert len(runs) == 1 and not path.mixture.any()


# --------------------------------------------------------------------------------------------------
# the count and Student-t families: the posterior path is fit_posterior at each alpha
# --------------------------------------------------------------------------------------------------

GLM_NUTS = {"num_warmup": 300, "num_samples": 600, "num_chains": 2}


def _glm_data(family):
    """fair (statsmodels; affairs rounded: a count, the log of yrs_married its offset), its first 300
    rows, unscaled; stackloss for the Student-t. Returns X, y and the model's likelihood keywords."""
    import statsmodels.api as sm

    if family == "student_t":
        data = sm.datasets.stackloss.load_pandas().data
        X, y = data.drop(columns="STACKLOSS").to_numpy(float), data["STACKLOSS"].to_numpy(float)
        return X, y, {"df": 4.0, "sigma": 3.0}
    fair = sm.datasets.fair.load_pandas().data.iloc[:300]
    X = fair.drop(columns=["affairs", "yrs_married"]).to_numpy(float)
    likelihood = {"offset": np.log(fair["yrs_married"].to_numpy(float))}
    if family == "negative_binomial":
        likelihood["dispersion"] = 2.0
    return X, np.round(fair["affairs"].to_numpy()), likelihood


@pytest.mark.parametrize(
    ("family", "prior", "convention"),
    [
        ("poisson", "laplace", "glum"),
        ("negative_binomial", "elasticnet", "glum"),
        ("student_t", "gaussian", "book"),
    ],
)
def test_glm_posterior_path_is_fit_posterior_at_each_alpha(family, prior, convention):
    """At each alpha the path's draws of the weights have the means of `fit_posterior`'s for the same
    model (its prior from `prior_from_penalty`, the same offset, dispersion, df and sigma), another
    seed: every |difference| within 4 combined Monte Carlo standard errors (ArviZ's mcse of each
    run). Both runs start from the MAP, which the path's MAP column is (`map_path`, exactly)."""
    from bayesreg.models import negative_binomial_regression, poisson_regression, student_t_regression
    from bayesreg.priors import prior_from_penalty
    from bayesreg.sampling import fit_posterior

    models = {
        "poisson": poisson_regression,
        "negative_binomial": negative_binomial_regression,
        "student_t": student_t_regression,
    }
    X, y, likelihood = _glm_data(family)
    model = {"prior": prior, "family": family, "convention": convention, **likelihood}
    if prior == "gaussian":
        alphas = np.array([30.0, 3.0])
    else:
        alphas = alpha_max(X, y, **model) * np.array([0.3, 0.05])
    path = posterior_path(X, y, alphas, seed=0, progress_bar=False, **GLM_NUTS, **model)
    np.testing.assert_array_equal(path.map.coefs, map_path(X, y, alphas, **model).coefs)
    assert path.divergences.sum() == 0 and path.max_r_hat.max() < 1.05
    for i, alpha in enumerate(alphas):
        unit = prior_from_penalty(prior, float(alpha), convention=convention, family=family, n_samples=len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_posterior(
                models[family], X, y, prior=unit, seed=1, progress_bar=False, **GLM_NUTS, **likelihood
            )
        reference = fit.idata.posterior["coef"].to_numpy()
        draws = path.coef_draws[i]
        se = np.hypot(
            az.mcse({"c": reference}, method="mean")["c"], az.mcse({"c": draws}, method="mean")["c"]
        )
        z = np.abs(draws.mean(axis=(0, 1)) - reference.mean(axis=(0, 1))) / se.to_numpy()
        assert np.all(z <= 4.0), f"{family} alpha={alpha:.4g}: |diff|/MCSE = {z.round(2)}"


def test_glm_posterior_path_bad_arguments_named():
    """The likelihood's fixed parameters a path needs, and an offset where it does not apply (the
    linear model) or of the wrong length, are refused before any sampling."""
    X, y, likelihood = _glm_data("poisson")
    for kwargs, match in [
        ({"family": "student_t", "df": 4.0}, "needs a fixed sigma"),
        ({"family": "negative_binomial"}, "needs a fixed dispersion"),
        ({"family": "gaussian", "offset": likelihood["offset"]}, "do not apply to family='gaussian'"),
        ({"family": "poisson", "offset": likelihood["offset"][:10]}, "offset must have shape"),
    ]:
        with pytest.raises(ValueError, match=match):
            posterior_path(X, y, [0.1], **kwargs)
