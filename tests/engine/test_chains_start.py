"""Chains started from a mode: the Laplace approximation's covariance is the initial inverse mass
matrix, and the start a draw from that approximation.

For a linear model with a Gaussian prior and σ fixed the posterior is Gaussian, so the Laplace
approximation at the exact posterior mean is the posterior itself: the inverse mass matrix
`start_chains` sets up must be the conjugate covariance ``(Z'Z/σ² + diag(λ, ..., λ, 0))⁻¹``
(to 1e-8), and the spread of the starts over many chains its square root.
"""

import numpy as np
from chain_starts import first_state

from bayesreg.models import linear_regression
from bayesreg.priors import Prior

SIGMA, PRECISION = 0.5, 2.0


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * np.array([1e-3, 1.0, 1e4])  # units far apart
    y = 2.0 + X @ np.array([300.0, -1.0, 1e-4]) + SIGMA * rng.normal(size=40)
    Z = np.column_stack([X, np.ones(40)])
    precision = Z.T @ Z / SIGMA**2 + np.diag([PRECISION] * 3 + [0.0])
    covariance = np.linalg.inv(precision)
    mean = covariance @ Z.T @ y / SIGMA**2
    return X, y, mean, covariance


def _start(num_chains, mass_matrix):
    X, y, mean, covariance = _problem()
    kwargs = {"prior": Prior("gaussian", l2=PRECISION), "sigma": SIGMA}
    modes = {"coef": np.tile(mean[:3], (num_chains, 1)), "intercept": np.full(num_chains, mean[3])}
    state, _, _ = first_state(
        linear_regression, (X, y), kwargs, modes, num_chains=num_chains, mass_matrix=mass_matrix
    )
    return state, mean, covariance


def test_mode_start_sets_the_laplace_covariance_as_inverse_mass_matrix():
    state, _, covariance = _start(2, "dense")
    # numpyro orders the flattened position by site name: coef (3), then intercept
    for matrix in np.asarray(state.adapt_state.inverse_mass_matrix):
        np.testing.assert_allclose(matrix, covariance, rtol=1e-8, atol=1e-8 * np.abs(covariance).max())
    state, _, covariance = _start(2, "diagonal")
    for diagonal in np.asarray(state.adapt_state.inverse_mass_matrix):
        np.testing.assert_allclose(diagonal, np.diag(covariance), rtol=1e-8)


def test_mode_start_draws_from_the_laplace_approximation():
    state, mean, covariance = _start(400, "diagonal")
    starts = np.column_stack([np.asarray(state.z["coef"]), np.asarray(state.z["intercept"])])
    sd = np.sqrt(np.diag(covariance))
    z = (starts.mean(axis=0) - mean) / (sd / np.sqrt(400))
    assert np.all(np.abs(z) < 4.0), z  # the mean of 400 draws within 4 standard errors
    ratio = starts.std(axis=0) / sd
    assert np.all(np.abs(ratio - 1.0) < 0.15), ratio  # sd of 400 draws: standard error ≈ 3.5%
