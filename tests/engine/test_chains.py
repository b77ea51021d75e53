"""The mass matrix ``mass_matrix="auto"`` adapts, and the hard case it is chosen for.

* The rule (`dense_mass`): dense up to `DENSE_UP_TO` unconstrained parameters; above, dense where
  d² ≤ `DENSE_DATA_FRACTION` × the elements of the model's arrays. `start_chains` sets up the matrix
  it says, for a model evaluated per row (logistic: dense far above 20 parameters, diagonal once the
  rows are too few), and for the linear model from its sufficient statistics (diagonal above 20,
  whatever the rows), at the boundary of the fraction on both sides.
* A mode whose Laplace approximation is nearly singular (`CURVATURE_CONDITION_MAX`) is not used:
  the chains start as without one (uniformly in (-2, 2), identity matrix).
* statsmodels' star98 with a binary target (22 parameters, columns that are products of others):
  with a diagonal matrix the step sizes collapsed to ~1e-4 and no run finished in 10 minutes; with
  every default of `fit_posterior` the chains now adapt a dense matrix and pass the diagnostics
  gate (R-hat ≤ 1.01, bulk ESS ≥ 400, 0 divergences).
"""

import math

import arviz as az
import jax
import numpy as np
from chain_starts import first_state
from statsmodels.datasets import star98

from bayesreg.defaults import THRESHOLDS
from bayesreg.engine.chains import (
    CURVATURE_CONDITION_MAX,
    DENSE_DATA_FRACTION,
    DENSE_UP_TO,
    dense_mass,
)
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats, logistic_regression
from bayesreg.priors import noise_prior, prior_from_penalty
from bayesreg.sampling import fit_posterior


def _adapted(model, args, kwargs):
    """The mass matrix `start_chains` sets up with "auto" ("dense" or "diagonal"), and the elements
    of the model's arrays and its number of unconstrained parameters as the rule counts them."""
    state, args, dynamic = first_state(model, args, kwargs)
    data = sum(math.prod(np.shape(v)) for v in jax.tree.leaves((args, dynamic)))
    size = sum(math.prod(np.shape(v)[1:]) for v in jax.tree.leaves(state.z))
    adapted = "dense" if np.ndim(state.adapt_state.inverse_mass_matrix) == 3 else "diagonal"
    return adapted, data, size


def _logistic(n, p):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = (rng.uniform(size=n) < 0.5).astype(float)
    return (X, y), {"prior": prior_from_penalty("gaussian", 1.0, family="bernoulli")}


def test_auto_is_dense_for_a_per_row_model_far_above_the_size_cut():
    p = 3 * DENSE_UP_TO  # 61 parameters with the intercept
    adapted, data, size = _adapted(logistic_regression, *_logistic(1000, p))
    assert size == p + 1 and size**2 <= DENSE_DATA_FRACTION * data
    assert adapted == "dense"


def test_auto_boundary_of_the_data_fraction():
    """The fewest rows with d² ≤ fraction × elements is dense; one row fewer is diagonal."""
    p = 2 * DENSE_UP_TO
    _, data, size = _adapted(logistic_regression, *_logistic(100, p))
    per_row = p + 1  # a row of X and its label
    fixed = data - 100 * per_row  # the prior's arrays
    rows = math.ceil((size**2 / DENSE_DATA_FRACTION - fixed) / per_row)
    adapted, data, _ = _adapted(logistic_regression, *_logistic(rows, p))
    assert adapted == "dense" and size**2 <= DENSE_DATA_FRACTION * data
    adapted, data, _ = _adapted(logistic_regression, *_logistic(rows - 1, p))
    assert adapted == "diagonal" and size**2 > DENSE_DATA_FRACTION * data


def _stats(n, p):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    prior = prior_from_penalty("gaussian", 1.0, n_samples=n)
    return (SufficientStats.from_data(X, y),), {"prior": prior, "sigma": noise_prior(y)}


def test_auto_for_sufficient_statistics_cuts_at_the_size_alone():
    """The gradient from X'X costs O(p²) as a dense matrix does: diagonal above `DENSE_UP_TO`
    parameters however many rows the statistics summarise, dense at or below it."""
    adapted, _, size = _adapted(linear_regression_stats, *_stats(20_000, DENSE_UP_TO + 5))
    assert size > DENSE_UP_TO and adapted == "diagonal"
    adapted, _, size = _adapted(linear_regression_stats, *_stats(200, DENSE_UP_TO - 2))
    assert size == DENSE_UP_TO and adapted == "dense"


def test_dense_mass_settings_other_than_auto_are_obeyed():
    assert dense_mass("dense", 10_000, 1) and not dense_mass("diagonal", 2, 10**9)
    assert dense_mass("auto", DENSE_UP_TO, 0) and not dense_mass("auto", DENSE_UP_TO + 1, 0)


def test_nearly_singular_mode_starts_as_without_one():
    """Two columns a hair apart (1e-6 of noise), a flat prior, σ fixed: along their difference the
    Hessian at the least-squares mode is ~1e-12 of its largest eigenvalue."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    X = np.column_stack([x, x + 1e-6 * rng.normal(size=50), rng.normal(size=50)])
    y = x + rng.normal(size=50)
    Z = np.column_stack([X, np.ones(50)])
    hessian = Z.T @ Z
    scale = np.sqrt(np.diag(hessian))
    values = np.linalg.eigvalsh(hessian / np.outer(scale, scale))
    assert values[-1] > CURVATURE_CONDITION_MAX * values[0]
    mode = np.linalg.lstsq(Z, y, rcond=None)[0]
    modes = {"coef": np.tile(mode[:3], (3, 1)), "intercept": np.full(3, mode[3])}
    state, _, _ = first_state(linear_regression, (X, y), {"prior": None, "sigma": 1.0}, modes, num_chains=3)
    np.testing.assert_array_equal(
        np.asarray(state.adapt_state.inverse_mass_matrix), np.tile(np.eye(4), (3, 1, 1))
    )
    starts = np.column_stack([np.asarray(state.z["coef"]), np.asarray(state.z["intercept"])])
    assert np.all(np.abs(starts) < 2.0) and np.unique(starts).size == starts.size


def test_star98_binary_target_samples_with_defaults():
    """statsmodels' star98 as loaded (21 columns in their own units), target PERMINTE > median,
    logistic likelihood with a Laplace prior (C = 1), `fit_posterior` with every default."""
    data = star98.load_pandas().data
    X = data.drop(columns=["PERMINTE"]).to_numpy(float)
    target = data["PERMINTE"].to_numpy(float)
    y = (target > np.median(target)).astype(float)
    prior = prior_from_penalty("laplace", 1.0, family="bernoulli")
    fit = fit_posterior(logistic_regression, X, y, prior=prior, seed=0, progress_bar=False)
    assert fit.mass_matrix == "dense"
    names = ["coef", "intercept"]
    rhat = az.rhat(fit.idata, var_names=names)
    ess = az.ess(fit.idata, var_names=names, method="bulk")
    assert max(float(rhat[k].max()) for k in names) <= THRESHOLDS.rhat_max
    assert min(float(ess[k].min()) for k in names) >= THRESHOLDS.ess_min
    assert int(fit.idata.sample_stats["diverging"].sum()) == 0
